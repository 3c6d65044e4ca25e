/* Framing on '%', the command table, and the commands without state of their own. */
#include <string.h>

#include "ee_api.h"
#include "ee_internal.h"
#include "ee_print.h"
#include "th_model.h"
#include "th_serial.h"
#include "th_timer.h"

static ee_status_t cmd_name(ee_ctx_t *ctx, char **args, size_t nargs)
{
    const char *vendor = ctx->config->vendor;

    (void)args;
    (void)nargs;
    return ee_println(EE_MSG_NAME, vendor != NULL ? vendor : ee_text(EE_TEXT_DEFAULT_VENDOR));
}

static ee_status_t cmd_profile(ee_ctx_t *ctx, char **args, size_t nargs)
{
    const char *model = ctx->config->model_id;
    ee_status_t status = ee_println(EE_MSG_PROFILE, ee_text(EE_TEXT_FIRMWARE_PROFILE));

    (void)args;
    (void)nargs;
    if (status == EE_STATUS_OK) {
        status = ee_println(EE_MSG_MODEL, model != NULL ? model : "");
    }
    return status;
}

static ee_status_t cmd_help(ee_ctx_t *ctx, char **args, size_t nargs)
{
    ee_status_t status = ee_print_text(ee_text(EE_TEXT_FIRMWARE_PROFILE));
    int id;

    (void)ctx;
    (void)args;
    (void)nargs;
    if (status == EE_STATUS_OK) {
        status = ee_print_text(NULL);
    }
    for (id = (int)EE_TEXT_HELP_1; id <= (int)EE_TEXT_HELP_9 && status == EE_STATUS_OK; ++id) {
        status = ee_print_text(ee_text((ee_text_id_t)id));
    }
    return status;
}

static ee_status_t cmd_timestamp(ee_ctx_t *ctx, char **args, size_t nargs)
{
    (void)ctx;
    (void)args;
    (void)nargs;
    th_timestamp();
    return EE_STATUS_OK;
}

static ee_status_t cmd_results(ee_ctx_t *ctx, char **args, size_t nargs)
{
    (void)ctx;
    (void)args;
    (void)nargs;
    if (th_results() != EE_STATUS_OK) {
        ee_print_error(EE_ERR_RESULTS_FAILED);
        return EE_STATUS_COMMAND_ERROR;
    }
    return EE_STATUS_OK;
}

static const struct {
    const char *verb;
    ee_handler_fn handler;
} commands[] = {
    {"name", cmd_name},         {"profile", cmd_profile}, {"help", cmd_help},
    {"timestamp", cmd_timestamp}, {"db", ee_cmd_db},      {"infer", ee_cmd_infer},
    {"results", cmd_results},   {"fl", ee_cmd_fl},
};

static ee_status_t dispatch(ee_ctx_t *ctx, char **tokens, size_t ntokens)
{
    size_t i;

    if (ntokens == 0u) {
        return EE_STATUS_OK; /* empty command: just m-ready (the reference derefs NULL) */
    }
    for (i = 0u; i < sizeof commands / sizeof commands[0]; ++i) {
        if (strcmp(tokens[0], commands[i].verb) == 0) {
            return commands[i].handler(ctx, tokens + 1, ntokens - 1u);
        }
    }
    ee_println(EE_MSG_UNKNOWN_COMMAND, tokens[0]);
    return EE_STATUS_UNKNOWN_COMMAND;
}

ee_status_t ee_serial_command_parser_callback(ee_ctx_t *ctx, char *cmd)
{
    char *tokens[EE_MAX_TOKENS];
    size_t ntokens;
    ee_status_t status;

    if (ctx == NULL || cmd == NULL || ctx->config == NULL) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    if (!ctx->parser_enabled) {
        return EE_STATUS_NOT_READY;
    }
    if (strlen(cmd) > EE_CMD_SIZE) {
        cmd[EE_CMD_SIZE] = '\0';
    }
    ntokens = ee_tokenize(cmd, tokens, EE_MAX_TOKENS);
    status = dispatch(ctx, tokens, ntokens);
    ee_println(EE_MSG_READY);
    return status;
}

ee_status_t ee_serial_callback(ee_ctx_t *ctx, char c)
{
    if (ctx == NULL) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    if (!ctx->parser_enabled) {
        return EE_STATUS_NOT_READY;
    }
    if (c == '%') {
        ctx->cmd[ctx->cmd_len] = '\0';
        ctx->cmd_len = 0u;
        (void)ee_serial_command_parser_callback(ctx, ctx->cmd);
        return EE_STATUS_OK;
    }
    if (ctx->cmd_len >= EE_CMD_SIZE) {
        return EE_STATUS_TRUNCATED; /* saturate: the reference's behaviour, minus overflow */
    }
    ctx->cmd[ctx->cmd_len++] = c;
    return EE_STATUS_OK;
}

ee_status_t ee_benchmark_initialize(ee_ctx_t *ctx, const ee_config_t *config,
                                    uint8_t *db_buffer, size_t db_capacity)
{
    ee_status_t status;

    if (ctx == NULL || config == NULL || db_buffer == NULL || db_capacity == 0u) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->config = config;
    ctx->db = db_buffer;
    ctx->db_capacity = db_capacity;
    status = th_serialport_initialize();
    if (status == EE_STATUS_OK) {
        status = th_timestamp_initialize();
    }
    if (status != EE_STATUS_OK) {
        return status;
    }
    ee_println(config->energy_mode ? EE_MSG_TIMESTAMP_MODE_ENERGY
                                   : EE_MSG_TIMESTAMP_MODE_PERFORMANCE);
    th_timestamp();
    status = th_final_initialize();
    if (status != EE_STATUS_OK) {
        return status;
    }
    ee_println(EE_MSG_INIT_DONE);
    ctx->parser_enabled = 1;
    return ee_println(EE_MSG_READY);
}

size_t ee_get_buffer(const ee_ctx_t *ctx, uint8_t *buf, size_t max_len)
{
    size_t n;

    if (ctx == NULL || buf == NULL || ctx->db == NULL) {
        return 0u;
    }
    n = ctx->db_pos < max_len ? ctx->db_pos : max_len;
    memcpy(buf, ctx->db, n);
    return n;
}
