/*
 * The `db` sub-commands: load N, HEX data, print. Bounded by the caller-owned buffer:
 * an oversized `db load` prints the reference's warning line and is clamped to the
 * capacity; hex data past the expected size is ignored (the reference writes past it).
 */
#include <string.h>

#include "ee_api.h"
#include "ee_internal.h"
#include "ee_print.h"

static ee_status_t db_load(ee_ctx_t *ctx, char **args, size_t nargs)
{
    long size;

    if (nargs == 0u) {
        ee_print_error(EE_ERR_DB_LOAD_NEEDS_SIZE);
        return EE_STATUS_COMMAND_ERROR;
    }
    size = ee_atol(args[0]);
    if (size <= 0) {
        ee_print_error(EE_ERR_DB_LOAD_POSITIVE);
        return EE_STATUS_COMMAND_ERROR;
    }
    ctx->db_pos = 0u;
    if ((unsigned long)size > (unsigned long)ctx->db_capacity) {
        ee_println(EE_MSG_OVERSIZE, (unsigned long)size, (unsigned long)ctx->db_capacity);
        ctx->db_expected = ctx->db_capacity;
        return EE_STATUS_NO_SPACE;
    }
    ctx->db_expected = (size_t)size;
    return ee_println(EE_MSG_EXPECTING, (unsigned long)size);
}

static ee_status_t db_hex(ee_ctx_t *ctx, const char *digits)
{
    size_t i;
    unsigned hi;
    unsigned lo;

    for (i = 0u; digits[i] != '\0'; i += 2u) {
        if (digits[i + 1u] == '\0') {
            /* odd count: checked before any byte is written, like the reference */
            break;
        }
    }
    if (digits[i] != '\0') {
        ee_print_error(EE_ERR_HEX_ODD);
        return EE_STATUS_COMMAND_ERROR;
    }
    for (i = 0u; digits[i] != '\0'; i += 2u) {
        if (!ee_hex_digit(digits[i], &hi) || !ee_hex_digit(digits[i + 1u], &lo)) {
            char pair[3];
            pair[0] = digits[i];
            pair[1] = digits[i + 1u];
            pair[2] = '\0';
            ee_println(EE_MSG_INVALID_HEX, pair); /* bytes before the bad pair stay */
            return EE_STATUS_COMMAND_ERROR;
        }
        if (ctx->db_pos >= ctx->db_expected) {
            continue; /* past N: ignored, never written */
        }
        ctx->db[ctx->db_pos++] = (uint8_t)((hi << 4) | lo);
        if (ctx->db_pos == ctx->db_expected) {
            ee_println(EE_MSG_LOAD_DONE);
        }
    }
    return EE_STATUS_OK;
}

static ee_status_t db_print(const ee_ctx_t *ctx)
{
    size_t start;
    size_t n;
    ee_status_t status = EE_STATUS_OK;

    for (start = 0u; start < ctx->db_expected && status == EE_STATUS_OK; start += 8u) {
        n = ctx->db_expected - start;
        status = ee_print_buffer_row(ctx->db + start, n < 8u ? n : 8u);
    }
    if (status == EE_STATUS_OK && ctx->db_expected % 8u != 0u) {
        status = ee_print_text(NULL); /* the reference's empty line after a partial row */
    }
    return status;
}

ee_status_t ee_cmd_db(ee_ctx_t *ctx, char **args, size_t nargs)
{
    if (nargs == 0u) {
        ee_print_error(EE_ERR_DB_NEEDS_SUBCOMMAND);
        return EE_STATUS_COMMAND_ERROR;
    }
    if (strcmp(args[0], "load") == 0) {
        return db_load(ctx, args + 1, nargs - 1u);
    }
    if (strcmp(args[0], "print") == 0) {
        return db_print(ctx);
    }
    return db_hex(ctx, args[0]);
}
