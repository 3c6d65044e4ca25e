/* `infer N W` and its exact line order (protocol spec 1.4). */
#include "ee_api.h"
#include "ee_internal.h"
#include "ee_print.h"
#include "th_model.h"
#include "th_timer.h"

static ee_status_t run_n(long count)
{
    long i;

    for (i = 0; i < count; ++i) {
        if (th_infer() != EE_STATUS_OK) {
            return EE_STATUS_ERROR;
        }
    }
    return EE_STATUS_OK;
}

static ee_status_t fail(ee_err_id_t id)
{
    ee_print_error(id);
    return EE_STATUS_COMMAND_ERROR;
}

ee_status_t ee_infer(ee_ctx_t *ctx, long iterations, long warmups)
{
    ee_status_t status;

    if (ctx == NULL || iterations < 1 || warmups < 0) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    if (th_load_tensor(ctx->db, ctx->db_pos) != EE_STATUS_OK) {
        return fail(EE_ERR_LOAD_TENSOR_FAILED);
    }
    ee_println(EE_MSG_WARMUP_START, warmups);
    if (run_n(warmups) != EE_STATUS_OK) {
        return fail(EE_ERR_INFER_FAILED);
    }
    ee_println(EE_MSG_WARMUP_DONE);
    ee_println(EE_MSG_INFER_START, iterations);
    th_timestamp();
    th_pre();
    status = run_n(iterations);
    th_post();
    th_timestamp();
    if (status != EE_STATUS_OK) {
        return fail(EE_ERR_INFER_FAILED);
    }
    ee_println(EE_MSG_INFER_DONE);
    if (th_results() != EE_STATUS_OK) {
        return fail(EE_ERR_RESULTS_FAILED);
    }
    return EE_STATUS_OK;
}

ee_status_t ee_cmd_infer(ee_ctx_t *ctx, char **args, size_t nargs)
{
    long iterations = nargs > 0u ? ee_atol(args[0]) : EE_DEFAULT_ITERATIONS;
    long warmups = nargs > 1u ? ee_atol(args[1]) : EE_DEFAULT_WARMUPS;

    if (iterations <= 0) {
        return fail(EE_ERR_INFER_ITERATIONS);
    }
    if (warmups < 0) {
        return fail(EE_ERR_INFER_WARMUP);
    }
    return ee_infer(ctx, iterations, warmups);
}
