/* kws01 graph driver: conv chain in two ping-pong halves, pool, FC, softmax. */
#include "kws01_model.h"

#include <math.h>

static size_t conv_out_size(const conv_layer_t *l)
{
    return (size_t)l->out_h * (size_t)l->out_w * (size_t)l->out_c;
}

size_t kws01_max_activation(const kws01_model_t *model)
{
    size_t peak = (size_t)model->pool.out_h * (size_t)model->pool.out_w
                  * (size_t)model->pool.channels;
    size_t k;

    for (k = 0u; k < model->conv_count; ++k) {
        size_t n = conv_out_size(&model->convs[k]);
        peak = n > peak ? n : peak;
    }
    peak = (size_t)model->fc.outputs > peak ? (size_t)model->fc.outputs : peak;
    return peak;
}

ee_status_t kws01_model_run(const kws01_model_t *model, const int8_t *input, int8_t *output,
                            int8_t *scratch, size_t scratch_size)
{
    size_t half;
    size_t k;
    const int8_t *src = input;
    int8_t *bufs[2];
    int8_t *dst;

    if (model == NULL || input == NULL || output == NULL || scratch == NULL
        || model->conv_count == 0u) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    half = kws01_max_activation(model);
    if (scratch_size < 2u * half) {
        return EE_STATUS_NO_SPACE;
    }
    bufs[0] = scratch;
    bufs[1] = scratch + half;
    for (k = 0u; k < model->conv_count; ++k) {
        ee_status_t status;
        dst = bufs[k % 2u];
        status = conv_layer_run(&model->convs[k], model->rounding, src, dst);
        if (status != EE_STATUS_OK) {
            return status;
        }
        src = dst;
    }
    dst = bufs[k % 2u];
    pool_layer_run(&model->pool, src, dst);
    /* RESHAPE is a no-op on NHWC data: the pooled 1x1xC map is the FC input as it lies */
    src = dst;
    dst = bufs[(k + 1u) % 2u];
    fc_layer_run(&model->fc, model->rounding, src, dst);
    softmax_int8_run(&model->softmax, dst, output, (size_t)model->fc.outputs);
    return EE_STATUS_OK;
}

double kws01_printed_value(const kws01_model_t *model, int8_t q)
{
    double p = ((double)q - (double)model->output_zero_point) * (double)model->output_scale;

    return floor(p * 1000.0) / 1000.0;
}
