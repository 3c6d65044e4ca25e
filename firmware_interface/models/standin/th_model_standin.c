/* Model seam, stand-in (see standin.h). Port-neutral: no I/O except through ee_print. */
#include <string.h>

#include "ee_print.h"
#include "standin.h"
#include "th_model.h"

#define STANDIN_MAX_INPUT STANDIN_DB_SIZE

static uint8_t tensor[STANDIN_MAX_INPUT];
static size_t tensor_bytes = 490u;
static size_t output_count = 12u;
static double values[STANDIN_MAX_OUTPUTS];
static int have_results = 0;
static void (*inference_hook)(void) = NULL;

int standin_configure(size_t input_bytes, size_t outputs)
{
    if (input_bytes == 0u || input_bytes > STANDIN_MAX_INPUT || outputs == 0u
        || outputs > STANDIN_MAX_OUTPUTS) {
        return -1;
    }
    tensor_bytes = input_bytes;
    output_count = outputs;
    return 0;
}

void standin_set_inference_hook(void (*hook)(void))
{
    inference_hook = hook;
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
        values[i] = counts[i] ? (double)sums[i] / (255.0 * (double)counts[i]) : 0.0;
    }
    have_results = 1;
    if (inference_hook != NULL) {
        inference_hook();
    }
    return EE_STATUS_OK;
}

ee_status_t th_results(void)
{
    return ee_print_results(values, have_results ? output_count : 0u, 3);
}

void th_pre(void)
{
}

void th_post(void)
{
}
