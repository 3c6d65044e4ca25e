/*
 * Model seam, kws01, port-neutral: the int8 DS-CNN runtime. th_load_tensor copies the 490
 * bytes into the input tensor verbatim (they are already int8 MFCCs); th_results prints the
 * 12 softmax outputs dequantised and truncated to 3 decimals, as the reference port does.
 */
#include <string.h>

#include "ee_print.h"
#include "kws01_model.h"
#include "th_model.h"

static int8_t input_q[KWS01_INPUT_BYTES];
static int8_t output_q[KWS01_OUTPUTS];
static int8_t scratch[KWS01_SCRATCH_BYTES];
static int have_results = 0;

ee_status_t th_final_initialize(void)
{
    const conv_layer_t *first = &kws01_model.convs[0];

    memset(input_q, 0, sizeof input_q);
    have_results = 0;
    if ((size_t)first->in_h * (size_t)first->in_w * (size_t)first->in_c != sizeof input_q
        || (size_t)kws01_model.fc.outputs != KWS01_OUTPUTS) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    return kws01_max_activation(&kws01_model) * 2u <= sizeof scratch ? EE_STATUS_OK
                                                                     : EE_STATUS_NO_SPACE;
}

ee_status_t th_load_tensor(const uint8_t *db, size_t loaded)
{
    size_t n = loaded < sizeof input_q ? loaded : sizeof input_q;

    memcpy(input_q, db, n);
    if (loaded < sizeof input_q) {
        ee_println(EE_MSG_INPUT_SIZE_MISMATCH, (unsigned long)loaded,
                   (unsigned long)sizeof input_q);
    }
    return EE_STATUS_OK;
}

ee_status_t th_infer(void)
{
    ee_status_t status = kws01_model_run(&kws01_model, input_q, output_q, scratch,
                                         sizeof scratch);

    have_results = (status == EE_STATUS_OK);
    return status;
}

ee_status_t th_results(void)
{
    double values[KWS01_OUTPUTS];
    size_t i;

    if (!have_results) {
        return ee_print_results(NULL, 0u, 3);
    }
    for (i = 0u; i < KWS01_OUTPUTS; ++i) {
        values[i] = kws01_printed_value(&kws01_model, output_q[i]);
    }
    return ee_print_results(values, KWS01_OUTPUTS, 3);
}

void th_pre(void)
{
}

void th_post(void)
{
}
