/*
 * Unit tests of the fast-load commands (`fl`, docs/fast_load.md) against the recording port.
 * The received bytes are scripted (rec_receive) and fed the way a port's main loop does:
 * th_getchar() -> ee_serial_callback(); the `fl` handlers pull their raw data through the
 * bounded read (rec_read_timeout), which "times out" at once when the script is exhausted.
 * The last line is ~~~ALL TESTS PASSED~~~ (checked by tests/firmware/test_c_unit.py).
 */
#include <stdio.h>
#include <string.h>

#include "ee_api.h"
#include "ee_messages.h"
#include "recording_port.h"
#include "th_serial.h"

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
#define CAPACITY 64u
#define RX_BYTES 256u
#define TIMEOUT_US 200000u

static uint8_t db_memory[CAPACITY + 16u]; /* the tail past CAPACITY must never change */
static ee_ctx_t ctx;
static const ee_config_t config = {"testvendor", "ad01", 0};

static void boot(int fast)
{
    rec_reset();
    memset(db_memory, GUARD, sizeof db_memory);
    CHECK(ee_benchmark_initialize(&ctx, &config, db_memory, CAPACITY) == EE_STATUS_OK);
    if (fast) {
        CHECK(ee_fast_load_enable(&ctx, rec_read_timeout, RX_BYTES, TIMEOUT_US) == EE_STATUS_OK);
    }
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

/* Clear output and input, script the bytes, run them through the main loop. */
static void run(const void *data, size_t len)
{
    int c;

    rec_clear_output();
    rec.input_len = 0u;
    rec.input_pos = 0u;
    rec.timeouts = 0u;
    rec_receive(data, len);
    while ((c = th_getchar()) >= 0) {
        (void)ee_serial_callback(&ctx, (char)c);
    }
}

static void run_text(const char *text)
{
    run(text, strlen(text));
}

/* "fl load N CRC%" or "fl shift K CRC%" + data (+ trailing text), run as one burst. */
static void run_block(const char *verb, size_t n, uint32_t crc, const uint8_t *data,
                      size_t data_len, const char *after)
{
    uint8_t wire[REC_INPUT_SIZE];
    int head = snprintf((char *)wire, sizeof wire, "fl %s %lu %08lx%%", verb, (unsigned long)n,
                        (unsigned long)crc);
    size_t len = (size_t)head;

    memcpy(wire + len, data, data_len);
    len += data_len;
    memcpy(wire + len, after, strlen(after));
    len += strlen(after);
    run(wire, len);
}

static void fill(uint8_t *bytes, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0u; i < n; ++i) {
        bytes[i] = (uint8_t)((i * 37u + seed) & 0xFFu);
    }
}

static void expect_crc_line(uint32_t crc, const char *rest)
{
    char expected[256];

    snprintf(expected, sizeof expected, "m-fl-crc-%08lx\r\n%s", (unsigned long)crc, rest);
    CHECK_OUT(expected);
}

static void test_crc32_matches_zlib(void)
{
    static const uint8_t zeros[4] = {0u, 0u, 0u, 0u};
    const uint8_t *check = (const uint8_t *)"123456789";

    CHECK(ee_crc32(0u, check, 9u) == 0xcbf43926u);  /* the CRC-32 check value */
    CHECK(ee_crc32(0u, NULL, 0u) == 0u);
    CHECK(ee_crc32(0u, zeros, 4u) == 0x2144df1cu);  /* zlib.crc32(b"\0" * 4) */
    CHECK(ee_crc32(ee_crc32(0u, check, 4u), check + 4, 5u) == 0xcbf43926u); /* chainable */
}

static void test_not_offered_answers_like_the_standard_firmware(void)
{
    boot(0);
    run_text("fl caps%");
    CHECK_OUT("e-[Unknown command: fl]\r\nm-ready\r\n");
    run_text("fl load 4 00000000%");
    CHECK_OUT("e-[Unknown command: fl]\r\nm-ready\r\n");
    /* the enable call validates its arguments and leaves fast load off on a bad one */
    CHECK(ee_fast_load_enable(NULL, rec_read_timeout, RX_BYTES, 1u) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_fast_load_enable(&ctx, NULL, RX_BYTES, 1u) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_fast_load_enable(&ctx, rec_read_timeout, 79u, 1u) == EE_STATUS_BAD_ARGUMENT);
    CHECK(ee_fast_load_enable(&ctx, rec_read_timeout, RX_BYTES, 0u) == EE_STATUS_BAD_ARGUMENT);
    run_text("fl caps%");
    CHECK_OUT("e-[Unknown command: fl]\r\nm-ready\r\n");
}

static void test_caps(void)
{
    boot(1);
    run_text("fl caps%");
    CHECK_OUT("m-fl-caps-1-enc-bin-crc-crc32-rx-256-max-64-shift-1-tmo-200000\r\nm-ready\r\n");
    /* help stays the standard text: fl is not listed */
    run_text("help%");
    CHECK(strstr(rec.output, "fl") == NULL);
}

static void test_load_success_equals_db_load(void)
{
    uint8_t data[40];
    char hex[2u * sizeof data + 1u];
    static char via_db[REC_OUTPUT_SIZE];
    size_t i;

    fill(data, sizeof data, 3u);
    boot(1);
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data, "");
    expect_crc_line(ee_crc32(0u, data, sizeof data), "m-load-done\r\nm-ready\r\n");
    CHECK(memcmp(db_memory, data, sizeof data) == 0);
    CHECK(ee_get_buffer(&ctx, (uint8_t[CAPACITY]){0}, CAPACITY) == sizeof data);
    CHECK(rec.last_timeout_us == TIMEOUT_US);
    CHECK(rec.timeouts == 0u);
    /* db print, infer and results behave as after `db load N` + `db HEX` */
    run_text("db print%infer 1 0%");
    memcpy(via_db, rec.output, rec.output_len + 1u);
    boot(1);
    for (i = 0u; i < sizeof data; ++i) {
        snprintf(hex + 2u * i, 3u, "%02x", (unsigned)data[i]);
    }
    run_text("db load 40%");
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "db %.40s%%", hex); /* two commands: 80 characters max */
        run_text(cmd);
        snprintf(cmd, sizeof cmd, "db %.40s%%", hex + 40);
        run_text(cmd);
    }
    run_text("db print%infer 1 0%");
    CHECK(strcmp(rec.output, via_db) == 0);
    CHECK(rec.loaded == sizeof data);
    CHECK(guard_intact());
}

static void test_data_bytes_are_never_commands(void)
{
    /* every byte value, '%' included, and a command text inside the data */
    uint8_t data[CAPACITY];
    size_t i;

    for (i = 0u; i < sizeof data; ++i) {
        data[i] = (uint8_t)(0xFFu - i * 4u);
    }
    memcpy(data + 8, "%name%\r\n%%", 10u);
    data[30] = 0u;
    boot(1);
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data, "name%");
    expect_crc_line(ee_crc32(0u, data, sizeof data),
                    "m-load-done\r\nm-ready\r\nm-name-dut-[testvendor]\r\nm-ready\r\n");
    CHECK(memcmp(db_memory, data, sizeof data) == 0);
    CHECK(guard_intact());
}

static void test_crc_mismatch_invalidates(void)
{
    uint8_t data[16];
    uint8_t garbled[16];

    fill(data, sizeof data, 7u);
    memcpy(garbled, data, sizeof data);
    garbled[5] ^= 0x10u; /* one corrupted byte on the wire */
    boot(1);
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), garbled, sizeof garbled,
              "name%");
    expect_crc_line(ee_crc32(0u, garbled, sizeof garbled),
                    "e-[fl: crc mismatch]\r\nm-ready\r\nm-name-dut-[testvendor]\r\nm-ready\r\n");
    CHECK(ee_get_buffer(&ctx, (uint8_t[CAPACITY]){0}, CAPACITY) == 0u); /* loaded size 0 */
    run_text("db print%");
    CHECK_OUT("m-ready\r\n");
}

static void test_dropped_byte_times_out_back_to_command_mode(void)
{
    uint8_t data[16];

    fill(data, sizeof data, 9u);
    boot(1);
    /* one byte lost on the wire and nothing more comes: the bounded read ends the block */
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data - 1u, "");
    CHECK_OUT("e-[fl: timeout after 15 of 16 bytes]\r\nm-ready\r\n");
    CHECK(rec.timeouts == 1u);
    CHECK(ee_get_buffer(&ctx, (uint8_t[CAPACITY]){0}, CAPACITY) == 0u);
    run_text("name%");
    CHECK_OUT("m-name-dut-[testvendor]\r\nm-ready\r\n");
    /* silence before the first byte too */
    run_text("fl load 4 00000000%");
    CHECK_OUT("e-[fl: timeout after 0 of 4 bytes]\r\nm-ready\r\n");
}

static void test_dropped_byte_then_next_command_is_a_crc_mismatch(void)
{
    uint8_t data[16];
    uint8_t wire[15];

    fill(data, sizeof data, 11u);
    memcpy(wire, data, 4u);
    memcpy(wire + 4, data + 5, 11u); /* byte 4 dropped; the next command's 'n' fills the gap */
    boot(1);
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), wire, sizeof wire,
              "name%%name%");
    CHECK(strstr(rec.output, "e-[fl: crc mismatch]\r\nm-ready\r\n") != NULL);
    /* the barrier: "ame%" is an unknown command, then the stray '%' and the name answer */
    CHECK(strstr(rec.output, "e-[Unknown command: ame]\r\nm-ready\r\nm-ready\r\n"
                             "m-name-dut-[testvendor]\r\nm-ready\r\n") != NULL);
}

static void test_duplicated_byte_is_a_crc_mismatch_and_one_stray_byte(void)
{
    uint8_t data[16];
    uint8_t wire[17];

    fill(data, sizeof data, 13u);
    memcpy(wire, data, 8u);
    memcpy(wire + 8, data + 7, 9u); /* byte 7 twice */
    boot(1);
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), wire, sizeof wire,
              "%name%");
    /* 16 bytes are read, the 17th is a stray byte in front of the barrier "%name%": its
       leading '%' flushes the stray byte as a command of its own */
    CHECK(wire[16] == '8');
    expect_crc_line(ee_crc32(0u, wire, 16u),
                    "e-[fl: crc mismatch]\r\nm-ready\r\n"
                    "e-[Unknown command: 8]\r\nm-ready\r\nm-name-dut-[testvendor]\r\nm-ready\r\n");
    CHECK(ee_get_buffer(&ctx, (uint8_t[CAPACITY]){0}, CAPACITY) == 0u);
}

static void test_oversize_consumes_nothing(void)
{
    boot(1);
    run_text("fl load 65 00000000%name%");
    CHECK_OUT("e-[fl: size 65 exceeds 64]\r\nm-ready\r\nm-name-dut-[testvendor]\r\nm-ready\r\n");
    CHECK(rec.timeouts == 0u);
    CHECK(guard_intact());
    run_text("fl load 999999999 ABCDEF01%"); /* upper-case CRC digits are read too */
    CHECK_OUT("e-[fl: size 999999999 exceeds 64]\r\nm-ready\r\n");
}

static void test_bad_arguments_consume_nothing(void)
{
    static const char *const bad[] = {
        "fl%",                          "fl bogus%",
        "fl load%",                     "fl load 4%",
        "fl load 0 00000000%",          "fl load -4 00000000%",
        "fl load 4x 00000000%",         "fl load 1000000000 00000000%",
        "fl load 4 0000000%",           "fl load 4 000000000%",
        "fl load 4 0000000G%",          "fl load 4 -0000001%",
        "fl load 4 00000000 extra%",    "fl shift 9 00000000%",
        "fl shift%",                    "fl caps extra%",
    };
    uint8_t data[8];
    size_t i;

    fill(data, sizeof data, 1u);
    for (i = 0u; i < sizeof bad / sizeof bad[0]; ++i) {
        boot(1);
        /* a good load first: any fl error leaves the loaded size at 0 */
        run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data, "");
        run_text(bad[i]);
        if (strcmp(rec.output, "e-[fl: bad arguments]\r\nm-ready\r\n") != 0) {
            printf("  (case: %s)\n", bad[i]);
        }
        CHECK_OUT("e-[fl: bad arguments]\r\nm-ready\r\n");
        CHECK(rec.timeouts == 0u); /* no data byte was waited for */
        CHECK(ee_get_buffer(&ctx, (uint8_t[CAPACITY]){0}, CAPACITY) == 0u);
    }
}

static void test_shift_equals_full_load_of_the_shifted_window(void)
{
    uint8_t stream[CAPACITY + 3u * 16u];
    uint8_t via_load[CAPACITY];
    size_t k;

    fill(stream, sizeof stream, 21u);
    stream[70] = '%';
    boot(1);
    run_block("load", CAPACITY, ee_crc32(0u, stream, CAPACITY), stream, CAPACITY, "");
    expect_crc_line(ee_crc32(0u, stream, CAPACITY), "m-load-done\r\nm-ready\r\n");
    for (k = 1u; k <= 3u; ++k) {
        const uint8_t *window = stream + k * 16u;
        uint32_t crc = ee_crc32(0u, window, CAPACITY);
        run_block("shift", 16u, crc, window + CAPACITY - 16u, 16u, "");
        expect_crc_line(crc, "m-load-done\r\nm-ready\r\n");
        CHECK(memcmp(db_memory, window, CAPACITY) == 0);
        CHECK(ee_get_buffer(&ctx, via_load, sizeof via_load) == CAPACITY);
    }
    /* K == N replaces the whole window */
    run_block("shift", CAPACITY, ee_crc32(0u, stream + 10, CAPACITY), stream + 10, CAPACITY, "");
    expect_crc_line(ee_crc32(0u, stream + 10, CAPACITY), "m-load-done\r\nm-ready\r\n");
    CHECK(memcmp(db_memory, stream + 10, CAPACITY) == 0);
    CHECK(guard_intact());
}

static void test_shift_after_db_load(void)
{
    boot(1);
    run_text("db load 4%db 01020304%");
    run_text("fl shift 1 00000000%");
    CHECK(rec.timeouts == 1u); /* a window of 4 exists: it waits for the 1 new byte */
    CHECK_OUT("e-[fl: timeout after 0 of 1 bytes]\r\nm-ready\r\n");
    run_text("db load 4%db 01020304%");
    {
        const uint8_t expect[4] = {2u, 3u, 4u, 5u};
        const uint8_t fresh = 5u;
        run_block("shift", 1u, ee_crc32(0u, expect, 4u), &fresh, 1u, "");
        expect_crc_line(ee_crc32(0u, expect, 4u), "m-load-done\r\nm-ready\r\n");
        CHECK(memcmp(db_memory, expect, 4u) == 0);
    }
}

static void test_shift_errors(void)
{
    uint8_t data[16];

    fill(data, sizeof data, 5u);
    /* without a load; after a partial db load; K > N */
    boot(1);
    run_text("fl shift 1 00000000%");
    CHECK_OUT("e-[fl: bad arguments]\r\nm-ready\r\n");
    run_text("db load 4%db 0102%fl shift 1 00000000%");
    CHECK(strstr(rec.output, "e-[fl: bad arguments]\r\nm-ready\r\n") != NULL);
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data, "");
    run_text("fl shift 17 00000000%");
    CHECK_OUT("e-[fl: bad arguments]\r\nm-ready\r\n");
    CHECK(rec.timeouts == 0u);
    /* a failed shift leaves no window: the next shift is refused, a full load is needed */
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data, "");
    run_block("shift", 4u, 0u, data, 4u, "");
    CHECK(strstr(rec.output, "e-[fl: crc mismatch]") != NULL);
    run_text("fl shift 4 00000000%");
    CHECK_OUT("e-[fl: bad arguments]\r\nm-ready\r\n");
    /* a timeout mid-shift */
    run_block("load", sizeof data, ee_crc32(0u, data, sizeof data), data, sizeof data, "");
    run_block("shift", 4u, 0u, data, 2u, "");
    CHECK_OUT("e-[fl: timeout after 2 of 4 bytes]\r\nm-ready\r\n");
    CHECK(ee_get_buffer(&ctx, (uint8_t[CAPACITY]){0}, CAPACITY) == 0u);
}

static void test_pipelined_commands_answer_in_order(void)
{
    uint8_t a[16];
    uint8_t b[16];
    char expected[512];

    fill(a, sizeof a, 31u);
    fill(b, sizeof b, 32u);
    boot(1);
    rec.tensor_bytes = 16u;
    /* load + infer + a second load written back to back, before any reply is read */
    {
        uint8_t wire[256];
        size_t len = 0u;
        len += (size_t)snprintf((char *)wire, sizeof wire, "fl load 16 %08lx%%",
                                (unsigned long)ee_crc32(0u, a, 16u));
        memcpy(wire + len, a, 16u);
        len += 16u;
        len += (size_t)snprintf((char *)wire + len, sizeof wire - len,
                                "infer 1 0%%fl load 16 %08lx%%",
                                (unsigned long)ee_crc32(0u, b, 16u));
        memcpy(wire + len, b, 16u);
        len += 16u;
        run(wire, len);
    }
    snprintf(expected, sizeof expected,
             "m-fl-crc-%08lx\r\nm-load-done\r\nm-ready\r\n"
             "m-warmup-start-0\r\nm-warmup-done\r\nm-infer-start-1\r\n"
             "m-lap-us-1000\r\nm-lap-us-2000\r\nm-infer-done\r\n"
             "m-results-[0.250,0.750]\r\nm-ready\r\n"
             "m-fl-crc-%08lx\r\nm-load-done\r\nm-ready\r\n",
             (unsigned long)ee_crc32(0u, a, 16u), (unsigned long)ee_crc32(0u, b, 16u));
    CHECK_OUT(expected);
    CHECK(memcmp(rec.tensor, a, 16u) == 0); /* the infer saw the first input */
    CHECK(memcmp(db_memory, b, 16u) == 0);
}

int main(void)
{
    test_crc32_matches_zlib();
    test_not_offered_answers_like_the_standard_firmware();
    test_caps();
    test_load_success_equals_db_load();
    test_data_bytes_are_never_commands();
    test_crc_mismatch_invalidates();
    test_dropped_byte_times_out_back_to_command_mode();
    test_dropped_byte_then_next_command_is_a_crc_mismatch();
    test_duplicated_byte_is_a_crc_mismatch_and_one_stray_byte();
    test_oversize_consumes_nothing();
    test_bad_arguments_consume_nothing();
    test_shift_equals_full_load_of_the_shifted_window();
    test_shift_after_db_load();
    test_shift_errors();
    test_pipelined_commands_answer_in_order();
    printf("fast load: %d checks, %d failures\n", checks, failures);
    if (failures != 0) {
        printf("~~~SOME TESTS FAILED~~~\n");
        return 1;
    }
    printf("~~~ALL TESTS PASSED~~~\n");
    return 0;
}
