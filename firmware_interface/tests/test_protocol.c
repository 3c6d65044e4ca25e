/*
 * Unit tests of the protocol layer on the host, against the recording port.
 * Plain C: each test is a function; CHECK records a failure and carries on.
 * The last line is ~~~ALL TESTS PASSED~~~ (checked by tests/firmware/test_c_unit.py).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ee_api.h"
#include "ee_messages.h"
#include "ee_print.h"
#include "recording_port.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        ++checks;                                                                         \
        if (!(cond)) {                                                                    \
            ++failures;                                                                   \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                 \
    } while (0)

#define CHECK_OUT(expected)                                                               \
    do {                                                                                  \
        ++checks;                                                                         \
        if (strcmp(rec.output, (expected)) != 0) {                                        \
            ++failures;                                                                   \
            printf("FAIL %s:%d: output\n--- got:\n%s--- expected:\n%s---\n", __FILE__,     \
                   __LINE__, rec.output, (expected));                                     \
        }                                                                                 \
    } while (0)

#define GUARD 0xA5u
#define CAPACITY 20u

static uint8_t db_memory[CAPACITY + 16u]; /* the tail past CAPACITY must never change */
static ee_ctx_t ctx;
static const ee_config_t config = {"testvendor", "ad01", 0};

static void boot(void)
{
    rec_reset();
    memset(db_memory, GUARD, sizeof db_memory);
    CHECK(ee_benchmark_initialize(&ctx, &config, db_memory, CAPACITY) == EE_STATUS_OK);
    rec_clear_output();
}

static int guard_intact(void)
{
    size_t i;

    for (i = CAPACITY; i < sizeof db_memory; ++i) {
        if (db_memory[i] != GUARD) {
            return 0;
        }
    }
    return 1;
}

/* Feed text as received bytes; returns the status of the last byte. */
static ee_status_t feed(const char *text)
{
    ee_status_t last = EE_STATUS_OK;

    rec_clear_output();
    for (; *text != '\0'; ++text) {
        last = ee_serial_callback(&ctx, *text);
    }
    return last;
}

static void test_boot_banner(void)
{
    rec_reset();
    memset(&ctx, 0, sizeof ctx);
    CHECK(ee_serial_callback(&ctx, 'n') == EE_STATUS_NOT_READY); /* parser not enabled */
    CHECK(ee_benchmark_initialize(&ctx, &config, db_memory, CAPACITY) == EE_STATUS_OK);
    CHECK_OUT("m-timestamp-mode-performance\r\nm-lap-us-1000\r\nm-init-done\r\nm-ready\r\n");
    CHECK(strcmp(rec.calls, "SITF") == 0);
}

static void test_init_rejects_bad_arguments_and_failed_init(void)
{
    rec_reset();
    CHECK(ee_benchmark_initialize(NULL, &config, db_memory, CAPACITY) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_benchmark_initialize(&ctx, NULL, db_memory, CAPACITY) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_benchmark_initialize(&ctx, &config, NULL, CAPACITY) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_benchmark_initialize(&ctx, &config, db_memory, 0u) == EE_STATUS_BAD_ARGUMENT);
    rec.fail_init = 1;
    CHECK(ee_benchmark_initialize(&ctx, &config, db_memory, CAPACITY) == EE_STATUS_ERROR);
    CHECK(strstr(rec.output, "m-ready") == NULL);
    CHECK(ee_serial_callback(&ctx, '%') == EE_STATUS_NOT_READY);
    CHECK(ee_serial_callback(NULL, '%') == EE_STATUS_BAD_ARGUMENT);
}

static void test_energy_build_prints_energy_mode(void)
{
    static const ee_config_t energy = {NULL, "kws01", 1};

    rec_reset();
    CHECK(ee_benchmark_initialize(&ctx, &energy, db_memory, CAPACITY) == EE_STATUS_OK);
    CHECK(strncmp(rec.output, "m-timestamp-mode-energy\r\n", 25) == 0);
    feed("name%");
    CHECK_OUT("m-name-dut-[unspecified]\r\nm-ready\r\n");
}

static void test_identification(void)
{
    boot();
    feed("name%");
    CHECK_OUT("m-name-dut-[testvendor]\r\nm-ready\r\n");
    feed("profile%");
    CHECK_OUT("m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[ad01]\r\nm-ready\r\n");
    feed("timestamp%");
    CHECK_OUT("m-lap-us-1000\r\nm-ready\r\n");
    feed("help%");
    CHECK(strncmp(rec.output, "ULPMark for tinyML Firmware V0.0.1\r\n\r\nhelp ", 42) == 0);
    CHECK(strstr(rec.output, "results        : print the results of the last inference\r\n"
                             "m-ready\r\n") != NULL);
}

static void test_framing_split_and_batched(void)
{
    boot();
    feed("na");
    CHECK_OUT("");
    feed("me%prof");
    CHECK_OUT("m-name-dut-[testvendor]\r\nm-ready\r\n");
    feed("ile%");
    CHECK(strstr(rec.output, "m-model-[ad01]\r\nm-ready\r\n") != NULL);
    feed("  name   %");
    CHECK_OUT("m-name-dut-[testvendor]\r\nm-ready\r\n");
}

static void test_empty_and_blank_commands(void)
{
    boot();
    CHECK(feed("%") == EE_STATUS_OK);
    CHECK_OUT("m-ready\r\n");
    feed("    %");
    CHECK_OUT("m-ready\r\n");
    feed("%%");
    CHECK_OUT("m-ready\r\nm-ready\r\n");
}

static void test_unknown_command_echoes_first_token(void)
{
    char cmd[] = "bogus arg1 arg2";

    boot();
    feed("bogus arg1 arg2%");
    CHECK_OUT("e-[Unknown command: bogus]\r\nm-ready\r\n");
    rec_clear_output();
    CHECK(ee_serial_command_parser_callback(&ctx, cmd) == EE_STATUS_UNKNOWN_COMMAND);
    CHECK(ee_serial_command_parser_callback(&ctx, NULL) == EE_STATUS_BAD_ARGUMENT);
    feed("NAME%");
    CHECK_OUT("e-[Unknown command: NAME]\r\nm-ready\r\n");
}

static void test_command_buffer_saturates(void)
{
    char expected[200];
    size_t i;
    ee_status_t st = EE_STATUS_OK;

    boot();
    rec_clear_output();
    for (i = 0; i < 150u; ++i) {
        st = ee_serial_callback(&ctx, 'x');
    }
    CHECK(st == EE_STATUS_TRUNCATED);
    CHECK(ctx.cmd_len == EE_CMD_SIZE);
    CHECK(ee_serial_callback(&ctx, '%') == EE_STATUS_OK);
    strcpy(expected, "e-[Unknown command: ");
    for (i = 0; i < EE_CMD_SIZE; ++i) {
        strcat(expected, "x");
    }
    strcat(expected, "]\r\nm-ready\r\n");
    CHECK_OUT(expected);
    /* the buffer works normally after a truncated command */
    feed("name%");
    CHECK_OUT("m-name-dut-[testvendor]\r\nm-ready\r\n");
    /* a long db command is cut at 80 chars: 77 hex digits after "db " -> odd count */
    feed("db load 20%");
    rec_clear_output();
    feed("db 000102030405060708090a0b0c0d0e0f10111213000102030405060708090a0b0c0d0e0f1011121314%");
    CHECK_OUT("e-[Insufficent number of hex digits]\r\nm-ready\r\n");
}

static void test_db_load_errors(void)
{
    boot();
    feed("db%");
    CHECK_OUT("e-[Command 'db' requires a subcommand]\r\nm-ready\r\n");
    feed("db load%");
    CHECK_OUT("e-[Command 'db load' requires the # of bytes]\r\nm-ready\r\n");
    feed("db load 0%");
    CHECK_OUT("e-[Command 'db load' must be >0 bytes]\r\nm-ready\r\n");
    feed("db load -5%");
    CHECK_OUT("e-[Command 'db load' must be >0 bytes]\r\nm-ready\r\n");
    feed("db load abc%");
    CHECK_OUT("e-[Command 'db load' must be >0 bytes]\r\nm-ready\r\n");
    feed("db load 4%");
    CHECK_OUT("m-[Expecting 4 bytes]\r\nm-ready\r\n");
    feed("db load 12abc%"); /* atoi semantics: leading digits */
    CHECK_OUT("m-[Expecting 12 bytes]\r\nm-ready\r\n");
}

static void test_db_load_oversize_is_clamped(void)
{
    char hex[2u * 16u + 1u];
    size_t i;

    boot();
    feed("db load 99999999999999999999999%");
    CHECK(strncmp(rec.output, "Supplied buffer size ", 21) == 0);
    feed("db load 30%");
    CHECK_OUT("Supplied buffer size 30 exceeds maximum of 20\r\nm-ready\r\n");
    CHECK(ctx.db_expected == CAPACITY);
    for (i = 0; i < 16u; ++i) {
        sprintf(hex + 2u * i, "%02x", (unsigned)(0x10u + i));
    }
    feed("db ");
    feed(hex);
    feed("%");
    CHECK_OUT("m-ready\r\n");
    rec_clear_output();
    feed("db ");
    feed(hex);
    feed("%"); /* 4 more bytes fill the buffer, the other 12 are dropped */
    CHECK_OUT("m-load-done\r\nm-ready\r\n");
    CHECK(ctx.db_pos == CAPACITY);
    CHECK(guard_intact());
    feed("db ffffffff%");
    CHECK_OUT("m-ready\r\n");
    CHECK(guard_intact());
    CHECK(db_memory[16] == 0x10 && db_memory[19] == 0x13);
}

static void test_db_hex_data(void)
{
    uint8_t out[8];

    boot();
    feed("db load 5%");
    feed("db 0aFf%");
    CHECK_OUT("m-ready\r\n");
    CHECK(ctx.db_pos == 2u && db_memory[0] == 0x0a && db_memory[1] == 0xff);
    feed("db 123%");
    CHECK_OUT("e-[Insufficent number of hex digits]\r\nm-ready\r\n");
    CHECK(ctx.db_pos == 2u); /* nothing of an odd command is written */
    feed("db 01g2%");
    CHECK_OUT("e-[Invalid hex digit 'g2']\r\nm-ready\r\n");
    CHECK(ctx.db_pos == 3u && db_memory[2] == 0x01); /* bytes before the bad pair stay */
    feed("db 0203040506%");
    CHECK_OUT("m-load-done\r\nm-ready\r\n");
    CHECK(ctx.db_pos == 5u && db_memory[4] == 0x03 && db_memory[5] == GUARD);
    feed("db 77%"); /* after m-load-done: ignored */
    CHECK_OUT("m-ready\r\n");
    CHECK(db_memory[5] == GUARD);
    feed("db zz%"); /* still validated */
    CHECK_OUT("e-[Invalid hex digit 'zz']\r\nm-ready\r\n");
    CHECK(ee_get_buffer(&ctx, out, sizeof out) == 5u && out[4] == 0x03);
    CHECK(ee_get_buffer(&ctx, out, 2u) == 2u);
    CHECK(ee_get_buffer(NULL, out, 2u) == 0u);
    feed("db load 3%");
    CHECK(ee_get_buffer(&ctx, out, sizeof out) == 0u); /* write position reset */
}

static void test_db_print(void)
{
    boot();
    feed("db load 10%");
    feed("db 000102030405060708ff%");
    feed("db print%");
    CHECK_OUT("m-buffer-00-01-02-03-04-05-06-07\r\nm-buffer-08-ff\r\n\r\nm-ready\r\n");
    feed("db load 8%");
    feed("db print 4 2%"); /* documented arguments are ignored, like the reference */
    CHECK_OUT("m-buffer-00-01-02-03-04-05-06-07\r\nm-ready\r\n");
}

static void test_infer_line_order_and_defaults(void)
{
    boot();
    feed("db load 16%");
    feed("db 00112233445566778899aabbccddeeff%");
    feed("infer 3 2%");
    CHECK_OUT("m-warmup-start-2\r\nm-warmup-done\r\nm-infer-start-3\r\nm-lap-us-3000\r\n"
              "m-lap-us-6000\r\nm-infer-done\r\nm-results-[0.250,0.750]\r\nm-ready\r\n");
    CHECK(strcmp(rec.calls, "LNNTPNNNQTR") == 0);
    CHECK(rec.loaded == 16u && rec.tensor[15] == 0xff);
    feed("infer%");
    CHECK(strcmp(rec.calls, "LNNNNNNNNNNTPNQTR") == 0); /* N=1, W=10 */
    CHECK(strstr(rec.output, "m-warmup-start-10\r\n") != NULL);
    CHECK(strstr(rec.output, "m-infer-start-1\r\n") != NULL);
    feed("infer 2%");
    CHECK(strcmp(rec.calls, "LNNNNNNNNNNTPNNQTR") == 0);
    feed("infer 1 0%");
    CHECK(strcmp(rec.calls, "LTPNQTR") == 0);
    CHECK(strstr(rec.output, "m-warmup-start-0\r\nm-warmup-done\r\n") != NULL);
    feed("results%");
    CHECK_OUT("m-results-[0.250,0.750]\r\nm-ready\r\n");
}

static void test_infer_errors(void)
{
    boot();
    feed("infer 0%");
    CHECK_OUT("e-[Inference iterations must be >0]\r\nm-ready\r\n");
    feed("infer -3 1%");
    CHECK_OUT("e-[Inference iterations must be >0]\r\nm-ready\r\n");
    feed("infer abc%");
    CHECK_OUT("e-[Inference iterations must be >0]\r\nm-ready\r\n");
    feed("infer 1 -1%");
    CHECK_OUT("e-[Inference warmup must be >=0]\r\nm-ready\r\n");
    CHECK(rec.calls[0] == '\0'); /* no th_* call on a rejected command */
    CHECK(ee_infer(&ctx, 0, 0) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_infer(NULL, 1, 0) == EE_STATUS_BAD_ARGUMENT);
    feed("db load 2%");
    feed("db 0102%");
    feed("infer 1 0%"); /* fewer bytes than the tensor: the port complains, infer goes on */
    CHECK(strncmp(rec.output, "Input db has 2 elemented, expected 16\r\nm-warmup-start-0", 55)
          == 0);
}

static void test_infer_port_failures(void)
{
    boot();
    rec.fail_load = 1;
    feed("infer 1 1%");
    CHECK_OUT("Input db has 0 elemented, expected 16\r\ne-[th_load_tensor failed]\r\nm-ready\r\n");
    rec.fail_load = 0;
    rec.tensor_bytes = 0u;
    rec.infer_calls = 0;
    rec.fail_infer_at = 2; /* second warm-up */
    feed("infer 1 3%");
    CHECK_OUT("m-warmup-start-3\r\ne-[th_infer failed]\r\nm-ready\r\n");
    rec.infer_calls = 0;
    rec.fail_infer_at = 2; /* first timed one after one warm-up: timestamps still paired */
    feed("infer 2 1%");
    CHECK(strcmp(rec.calls, "LNTPNQT") == 0);
    CHECK(strstr(rec.output, "m-infer-done") == NULL);
    CHECK(strstr(rec.output, "e-[th_infer failed]\r\nm-ready\r\n") != NULL);
    rec.fail_infer_at = 0;
    rec.fail_results = 1;
    feed("infer 1 0%");
    CHECK(strstr(rec.output, "m-infer-done\r\ne-[th_results failed]\r\nm-ready\r\n") != NULL);
    feed("results%");
    CHECK_OUT("e-[th_results failed]\r\nm-ready\r\n");
}

static void test_extra_tokens_ignored(void)
{
    boot();
    feed("name a b c d e f g h i j k l%");
    CHECK_OUT("m-name-dut-[testvendor]\r\nm-ready\r\n");
}

static void test_number_parsers(void)
{
    CHECK(ee_hexdec("ff") == 255);
    CHECK(ee_hexdec("DeadBeef") == 0xdeadbeefL || sizeof(long) == 4);
    CHECK(ee_hexdec("") == -1);
    CHECK(ee_hexdec(NULL) == -1);
    CHECK(ee_hexdec("0x10") == -1);
    CHECK(ee_hexdec("fffffffffffffffffffffffff") == -1);
    CHECK(ee_atol("42") == 42);
    CHECK(ee_atol("  -7x") == -7);
    CHECK(ee_atol("+3") == 3);
    CHECK(ee_atol("abc") == 0);
    CHECK(ee_atol(NULL) == 0);
    CHECK(ee_atol("999999999999999999999999") == LONG_MAX);
    CHECK(ee_atol("-999999999999999999999999") == LONG_MIN);
}

static void test_message_table_and_printers(void)
{
    double big = 1e30;

    CHECK(strcmp(ee_msg(EE_MSG_READY), "m-ready") == 0);
    CHECK(strcmp(ee_msg(EE_MSG__COUNT), "") == 0);
    CHECK(strcmp(ee_err(EE_ERR__COUNT), "") == 0);
    CHECK(strcmp(ee_text(EE_TEXT__COUNT), "") == 0);
    CHECK(strcmp(ee_err(EE_ERR_HEX_ODD), "Insufficent number of hex digits") == 0);
    CHECK(strcmp(ee_status_str(EE_STATUS_OK), "success") == 0);
    CHECK(strcmp(ee_status_str((ee_status_t)999), "unknown status") == 0);
    rec_clear_output();
    CHECK(ee_print_results(NULL, 0u, 3) == EE_STATUS_OK);
    CHECK_OUT("m-results-[]\r\n");
    CHECK(ee_print_results(NULL, 1u, 3) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_print_results(&big, 1u, 10) == EE_STATUS_BAD_ARGUMENT);
    rec_clear_output();
    CHECK(ee_print_results(&big, 1u, 3) == EE_STATUS_OK);
    CHECK_OUT("m-results-[1000000000000000019884624838656.000]\r\n");
    CHECK(ee_print_buffer_row(NULL, 9u) == EE_STATUS_BAD_ARGUMENT);
    rec_clear_output();
    CHECK(ee_print_lap_us(0xFFFFFFFFu) == EE_STATUS_OK);
    CHECK_OUT("m-lap-us-4294967295\r\n");
    rec_clear_output();
    {
        char long_token[300];
        memset(long_token, 'y', sizeof long_token - 1u);
        long_token[sizeof long_token - 1u] = '\0';
        CHECK(ee_println(EE_MSG_UNKNOWN_COMMAND, long_token) == EE_STATUS_OK);
        CHECK(rec.output_len == EE_LINE_SIZE - 1u); /* cut, still ends the line */
        CHECK(strcmp(rec.output + rec.output_len - 2u, "\r\n") == 0);
    }
}

int main(void)
{
    test_boot_banner();
    test_init_rejects_bad_arguments_and_failed_init();
    test_energy_build_prints_energy_mode();
    test_identification();
    test_framing_split_and_batched();
    test_empty_and_blank_commands();
    test_unknown_command_echoes_first_token();
    test_command_buffer_saturates();
    test_db_load_errors();
    test_db_load_oversize_is_clamped();
    test_db_hex_data();
    test_db_print();
    test_infer_line_order_and_defaults();
    test_infer_errors();
    test_infer_port_failures();
    test_extra_tokens_ignored();
    test_number_parsers();
    test_message_table_and_printers();
    printf("%d checks, %d failures\n", checks, failures);
    if (failures != 0) {
        printf("~~~SOME TESTS FAILED~~~\n");
        return 1;
    }
    printf("~~~ALL TESTS PASSED~~~\n");
    return 0;
}
