/*
 * Model seam, ad01, port-neutral: the int8 FC runtime. th_load_tensor converts the float32
 * window to int8 like the reference port; th_results prints the MSE score with "%.3f".
 * The wire format is float32 little endian, as on the reference boards (all LE).
 */
#include <string.h>

#include "ad01_model.h"
#include "ee_print.h"
#include "th_model.h"

static float window[AD01_INPUT_VALUES];
static int8_t input_q[AD01_INPUT_VALUES];
static int8_t output_q[AD01_INPUT_VALUES];
static int8_t scratch[AD01_SCRATCH_BYTES];
static int have_results = 0;

ee_status_t th_final_initialize(void)
{
    memset(window, 0, sizeof window);
    have_results = 0;
    return fc_model_max_width(&ad01_model) * 2u <= sizeof scratch ? EE_STATUS_OK
                                                                   : EE_STATUS_NO_SPACE;
}

ee_status_t th_load_tensor(const uint8_t *db, size_t loaded)
{
    size_t n = loaded < sizeof window ? loaded : sizeof window;

    memcpy(window, db, n);
    if (loaded < sizeof window) {
        ee_println(EE_MSG_INPUT_SIZE_MISMATCH, (unsigned long)loaded,
                   (unsigned long)sizeof window);
    }
    ad01_quantize(&ad01_model, window, input_q, AD01_INPUT_VALUES);
    return EE_STATUS_OK;
}

ee_status_t th_infer(void)
{
    ee_status_t status = fc_model_run(&ad01_model, input_q, output_q, scratch, sizeof scratch);

    have_results = (status == EE_STATUS_OK);
    return status;
}

ee_status_t th_results(void)
{
    double score;

    if (!have_results) {
        return ee_print_results(NULL, 0u, 3);
    }
    score = ad01_mse(&ad01_model, output_q, window, AD01_INPUT_VALUES);
    return ee_print_results(&score, 1u, 3);
}

void th_pre(void)
{
}

void th_post(void)
{
}
