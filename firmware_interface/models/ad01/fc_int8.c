/* int8 fully-connected kernels; integer maths copied from TFLite's reference kernels. */
#include "fc_int8.h"

#include <string.h>

static int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    int overflow = (a == b) && (a == INT32_MIN);
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    int32_t high = (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* truncating division */
    return overflow ? INT32_MAX : high;
}

static int32_t rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* arithmetic shift of a negative value, as in gemmlowp (gcc/clang/armcc all do this) */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t fc_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift,
                                            fc_rounding_t rounding)
{
    int left = shift > 0 ? (int)shift : 0;
    int right = shift > 0 ? 0 : (int)-shift;
    int32_t high;

    if (rounding == FC_ROUNDING_SINGLE) {
        int total = 31 - (int)shift;
        int64_t result = (int64_t)x * (int64_t)multiplier + ((int64_t)1 << (total - 1));
        return (int32_t)(result >> total); /* arithmetic shift, as TFLite relies on */
    }
    high = saturating_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier);
    if (rounding == FC_ROUNDING_DOUBLE_TIES_UP) {
        return right == 0 ? high
                          : (int32_t)(((int64_t)high + ((int64_t)1 << (right - 1))) >> right);
    }
    return rounding_divide_by_pot(high, right);
}

void fc_layer_run(const fc_layer_t *layer, fc_rounding_t rounding, const int8_t *input,
                  int8_t *output)
{
    int32_t o;
    int32_t i;

    for (o = 0; o < layer->outputs; ++o) {
        const int8_t *row = layer->weights + (size_t)o * (size_t)layer->inputs;
        int32_t acc = 0;
        for (i = 0; i < layer->inputs; ++i) {
            acc += (int32_t)row[i] * ((int32_t)input[i] + layer->input_offset);
        }
        if (layer->bias != NULL) {
            acc += layer->bias[o];
        }
        acc = fc_multiply_by_quantized_multiplier(acc, layer->multiplier, layer->shift,
                                                  rounding);
        acc += layer->output_offset;
        acc = acc < layer->act_min ? layer->act_min : acc;
        acc = acc > layer->act_max ? layer->act_max : acc;
        output[o] = (int8_t)acc;
    }
}

size_t fc_model_max_width(const fc_model_t *model)
{
    size_t width = 0u;
    size_t k;

    for (k = 0u; k < model->layer_count; ++k) {
        const fc_layer_t *l = &model->layers[k];
        width = (size_t)l->inputs > width ? (size_t)l->inputs : width;
        width = (size_t)l->outputs > width ? (size_t)l->outputs : width;
    }
    return width;
}

ee_status_t fc_model_run(const fc_model_t *model, const int8_t *input, int8_t *output,
                         int8_t *scratch, size_t scratch_size)
{
    size_t width;
    size_t k;
    const int8_t *src = input;
    int8_t *bufs[2];

    if (model == NULL || input == NULL || output == NULL || scratch == NULL
        || model->layer_count == 0u) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    width = fc_model_max_width(model);
    if (scratch_size < 2u * width) {
        return EE_STATUS_NO_SPACE;
    }
    bufs[0] = scratch;
    bufs[1] = scratch + width;
    for (k = 0u; k < model->layer_count; ++k) {
        int8_t *dst = (k + 1u == model->layer_count) ? output : bufs[k % 2u];
        fc_layer_run(&model->layers[k], model->rounding, src, dst);
        src = dst;
    }
    return EE_STATUS_OK;
}
