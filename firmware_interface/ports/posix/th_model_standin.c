/*
 * Model seam, stand-in: a deterministic "model" for protocol tests without a runtime.
 * Output k is the mean of the input bytes at positions i with i % outputs == k, divided
 * by 255 (tests/firmware/standin.py computes the same values for the virtual DUT).
 */
#include <string.h>

#include "ee_print.h"
#include "posix_port.h"
#include "th_model.h"

#define STANDIN_MAX_INPUT 27648u /* the firmware default MAX_DB_INPUT_SIZE (96*96*3) */
#define STANDIN_MAX_OUTPUTS 16u

static uint8_t tensor[STANDIN_MAX_INPUT];
static size_t tensor_bytes = 490u;
static size_t output_count = 12u;
static double outputs[STANDIN_MAX_OUTPUTS];
static int have_results = 0;

int posix_model_configure(const posix_model_options_t *options)
{
    if (options->input_bytes == 0u || options->input_bytes > STANDIN_MAX_INPUT
        || options->outputs == 0u || options->outputs > STANDIN_MAX_OUTPUTS) {
        return -1;
    }
    tensor_bytes = options->input_bytes;
    output_count = options->outputs;
    return 0;
}

const char *posix_model_id(void)
{
    return "kws01";
}

size_t posix_model_db_size(void)
{
    return STANDIN_MAX_INPUT;
}

ee_status_t th_final_initialize(void)
{
    memset(tensor, 0, sizeof tensor);
    have_results = 0;
    return EE_STATUS_OK;
}

ee_status_t th_load_tensor(const uint8_t *db, size_t loaded)
{
    size_t n = loaded < tensor_bytes ? loaded : tensor_bytes;

    memcpy(tensor, db, n);
    if (loaded < tensor_bytes) {
        ee_println(EE_MSG_INPUT_SIZE_MISMATCH, (unsigned long)loaded,
                   (unsigned long)tensor_bytes);
    }
    return EE_STATUS_OK;
}

ee_status_t th_infer(void)
{
    unsigned long sums[STANDIN_MAX_OUTPUTS] = {0};
    unsigned long counts[STANDIN_MAX_OUTPUTS] = {0};
    size_t i;

    for (i = 0u; i < tensor_bytes; ++i) {
        sums[i % output_count] += tensor[i];
        counts[i % output_count] += 1u;
    }
    for (i = 0u; i < output_count; ++i) {
        outputs[i] = counts[i] ? (double)sums[i] / (255.0 * (double)counts[i]) : 0.0;
    }
    have_results = 1;
    posix_timer_on_inference();
    return EE_STATUS_OK;
}

ee_status_t th_results(void)
{
    return ee_print_results(outputs, have_results ? output_count : 0u, 3);
}

void th_pre(void)
{
}

void th_post(void)
{
}
