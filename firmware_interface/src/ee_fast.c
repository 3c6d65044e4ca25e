/*
 * Fast load (tinyperf extension, docs/fast_load.md): `fl caps`, `fl load N CRC` + N raw
 * bytes, `fl shift K CRC` + K raw bytes. The raw bytes are read here, through the port's
 * bounded read, so they never reach the command framing ('%' is just data); every path
 * prints one reply ending in m-ready and leaves the parser in command mode.
 */
#include <stdio.h>
#include <string.h>

#include "ee_api.h"
#include "ee_internal.h"
#include "ee_print.h"

/* Digits of a block size: 9 keeps the value far below ULONG_MAX on 32-bit targets. */
#define FL_MAX_SIZE_DIGITS 9u
#define FL_CRC_DIGITS 8u

/* CRC-32 four bits per step: a 64-byte table, no allocation. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t ee_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    size_t i;

    crc = ~crc;
    for (i = 0u; i < len; ++i) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0Fu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0Fu];
    }
    return ~crc;
}

ee_status_t ee_fast_load_enable(ee_ctx_t *ctx, ee_read_timeout_fn read_byte, size_t rx_bytes,
                                uint32_t timeout_us)
{
    if (ctx == NULL || read_byte == NULL || rx_bytes < EE_FAST_LOAD_MIN_RX || timeout_us == 0u) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    ctx->fl_read = read_byte;
    ctx->fl_rx_bytes = rx_bytes;
    ctx->fl_timeout_us = timeout_us;
    return EE_STATUS_OK;
}

/* Strict decimal: 1..FL_MAX_SIZE_DIGITS digits, nothing else; 0 on any other text. */
static size_t parse_count(const char *text)
{
    size_t value = 0u;
    size_t i;

    for (i = 0u; text[i] != '\0'; ++i) {
        if (text[i] < '0' || text[i] > '9' || i >= FL_MAX_SIZE_DIGITS) {
            return 0u;
        }
        value = value * 10u + (size_t)(text[i] - '0');
    }
    return value;
}

/* Exactly 8 hex digits (hosts send lowercase; either case is read, as the virtual DUT does). */
static int parse_crc(const char *text, uint32_t *crc)
{
    uint32_t value = 0u;
    size_t i;

    for (i = 0u; i < FL_CRC_DIGITS; ++i) {
        char c = text[i];
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = (unsigned)(c - 'a') + 10u;
        } else if (c >= 'A' && c <= 'F') {
            digit = (unsigned)(c - 'A') + 10u;
        } else {
            return -1; /* also ends on a short string's NUL */
        }
        value = (value << 4) | digit;
    }
    if (text[FL_CRC_DIGITS] != '\0') {
        return -1;
    }
    *crc = value;
    return 0;
}

/* Loaded size 0: what `infer` sees after any fast-load error. */
static void invalidate(ee_ctx_t *ctx)
{
    ctx->db_expected = 0u;
    ctx->db_pos = 0u;
}

static ee_status_t bad_arguments(ee_ctx_t *ctx)
{
    invalidate(ctx);
    ee_print_error(EE_ERR_FL_BAD_ARGUMENTS);
    return EE_STATUS_COMMAND_ERROR;
}

/* Read n raw bytes into dst; a gap longer than the timeout ends the block early. */
static size_t receive(const ee_ctx_t *ctx, uint8_t *dst, size_t n)
{
    size_t got;

    for (got = 0u; got < n; ++got) {
        int c = ctx->fl_read(ctx->fl_timeout_us);
        if (c < 0) {
            break;
        }
        dst[got] = (uint8_t)c;
    }
    return got;
}

/*
 * Receive `block` bytes at db[offset, offset + block), then check the CRC of db[0, size).
 * The buffer counts as loaded (size bytes, like `db load` + `db`) only on success.
 */
static ee_status_t receive_and_check(ee_ctx_t *ctx, size_t offset, size_t block, size_t size,
                                     uint32_t expected_crc)
{
    char text[FL_CRC_DIGITS + 1u];
    uint32_t crc;
    size_t got;

    invalidate(ctx);
    got = receive(ctx, ctx->db + offset, block);
    if (got < block) {
        ee_println(EE_MSG_FL_TIMEOUT, (unsigned long)got, (unsigned long)block);
        return EE_STATUS_COMMAND_ERROR;
    }
    crc = ee_crc32(0u, ctx->db, size);
    (void)snprintf(text, sizeof text, "%08lx", (unsigned long)crc);
    ee_println(EE_MSG_FL_CRC, text);
    if (crc != expected_crc) {
        ee_print_error(EE_ERR_FL_CRC_MISMATCH);
        return EE_STATUS_COMMAND_ERROR;
    }
    ctx->db_expected = size;
    ctx->db_pos = size;
    return ee_println(EE_MSG_LOAD_DONE);
}

static ee_status_t fl_caps(const ee_ctx_t *ctx)
{
    return ee_println(EE_MSG_FL_CAPS, (unsigned long)ctx->fl_rx_bytes,
                      (unsigned long)ctx->db_capacity, 1u, (unsigned long)ctx->fl_timeout_us);
}

static ee_status_t fl_load(ee_ctx_t *ctx, char **args, size_t nargs)
{
    uint32_t crc = 0u;
    size_t n;

    if (nargs != 2u || (n = parse_count(args[0])) == 0u || parse_crc(args[1], &crc) != 0) {
        return bad_arguments(ctx);
    }
    if (n > ctx->db_capacity) {
        invalidate(ctx);
        ee_println(EE_MSG_FL_SIZE, (unsigned long)n, (unsigned long)ctx->db_capacity);
        return EE_STATUS_COMMAND_ERROR;
    }
    return receive_and_check(ctx, 0u, n, n, crc);
}

static ee_status_t fl_shift(ee_ctx_t *ctx, char **args, size_t nargs)
{
    /* the window: a complete load (fl load, or db load N + N bytes of db) */
    size_t size = ctx->db_pos == ctx->db_expected ? ctx->db_expected : 0u;
    uint32_t crc = 0u;
    size_t k;

    if (nargs != 2u || (k = parse_count(args[0])) == 0u || parse_crc(args[1], &crc) != 0
        || size == 0u || k > size) {
        return bad_arguments(ctx);
    }
    memmove(ctx->db, ctx->db + k, size - k);
    return receive_and_check(ctx, size - k, k, size, crc);
}

ee_status_t ee_cmd_fl(ee_ctx_t *ctx, char **args, size_t nargs)
{
    if (ctx->fl_read == NULL) {
        /* not offered: the standard firmware's answer, byte for byte */
        ee_println(EE_MSG_UNKNOWN_COMMAND, "fl");
        return EE_STATUS_UNKNOWN_COMMAND;
    }
    if (nargs == 1u && strcmp(args[0], "caps") == 0) {
        return fl_caps(ctx);
    }
    if (nargs >= 1u && strcmp(args[0], "load") == 0) {
        return fl_load(ctx, args + 1, nargs - 1u);
    }
    if (nargs >= 1u && strcmp(args[0], "shift") == 0) {
        return fl_shift(ctx, args + 1, nargs - 1u);
    }
    return bad_arguments(ctx);
}
