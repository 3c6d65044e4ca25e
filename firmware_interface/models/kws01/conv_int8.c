/* int8 conv / depthwise / average pool / softmax kernels of the kws01 runtime. */
#include "conv_int8.h"

#include <math.h>

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* First and one-past-last kernel tap that lands inside [0, size) for output position pos. */
static void tap_range(int32_t pos, int32_t stride, int32_t pad, int32_t kernel, int32_t size,
                      int32_t *first, int32_t *end)
{
    int32_t origin = pos * stride - pad;

    *first = origin < 0 ? -origin : 0;
    *end = origin + kernel > size ? size - origin : kernel;
}

static int8_t requantize(const conv_layer_t *l, int32_t channel, int32_t acc,
                         fc_rounding_t rounding)
{
    acc += l->bias[channel];
    acc = fc_multiply_by_quantized_multiplier(acc, l->multiplier[channel], l->shift[channel],
                                              rounding);
    return (int8_t)clamp32(acc + l->output_offset, l->act_min, l->act_max);
}

/* sum w[i] * x[i]: integer sums are exact, so unrolling keeps the interpreter's result */
static int32_t dot_s8_s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;

    for (; i + 4 <= n; i += 4) {
        acc += (int32_t)w[i] * x[i] + (int32_t)w[i + 1] * x[i + 1]
               + (int32_t)w[i + 2] * x[i + 2] + (int32_t)w[i + 3] * x[i + 3];
    }
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * x[i];
    }
    return acc;
}

/*
 * One output pixel: gather its receptive field once (input + offset as int16, 0 for taps in
 * the padding, which TFLite skips), then one dot product per output channel.
 */
static void conv_pixel(const conv_layer_t *l, fc_rounding_t rounding, const int8_t *input,
                       int32_t y, int32_t x, int16_t *patch, int8_t *out)
{
    const int32_t in_c = l->in_c;
    const int32_t size = l->k_h * l->k_w * in_c;
    int16_t *p = patch;
    int32_t ky;
    int32_t o;

    for (ky = 0; ky < l->k_h; ++ky) {
        int32_t iy = y * l->stride_h - l->pad_top + ky;
        int32_t kx;
        for (kx = 0; kx < l->k_w; ++kx) {
            int32_t ix = x * l->stride_w - l->pad_left + kx;
            int32_t c;
            if (iy < 0 || iy >= l->in_h || ix < 0 || ix >= l->in_w) {
                for (c = 0; c < in_c; ++c) {
                    *p++ = 0;
                }
            } else {
                const int8_t *in = input + ((size_t)iy * (size_t)l->in_w + (size_t)ix)
                                               * (size_t)in_c;
                for (c = 0; c < in_c; ++c) {
                    *p++ = (int16_t)(in[c] + l->input_offset);
                }
            }
        }
    }
    for (o = 0; o < l->out_c; ++o) {
        int32_t acc = dot_s8_s16(l->weights + (size_t)o * (size_t)size, patch, size);
        out[o] = requantize(l, o, acc, rounding);
    }
}

/* One output pixel of a depthwise layer: per tap, a contiguous run over the channels. */
static void depthwise_pixel(const conv_layer_t *l, fc_rounding_t rounding, const int8_t *input,
                            int32_t y, int32_t x, int32_t *acc, int8_t *out)
{
    const int32_t channels = l->out_c;
    const int32_t offset = l->input_offset;
    int32_t ky0;
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
    int32_t ky;
    int32_t c;

    tap_range(y, l->stride_h, l->pad_top, l->k_h, l->in_h, &ky0, &ky1);
    tap_range(x, l->stride_w, l->pad_left, l->k_w, l->in_w, &kx0, &kx1);
    for (c = 0; c < channels; ++c) {
        acc[c] = 0;
    }
    for (ky = ky0; ky < ky1; ++ky) {
        int32_t iy = y * l->stride_h - l->pad_top + ky;
        int32_t kx;
        for (kx = kx0; kx < kx1; ++kx) {
            int32_t ix = x * l->stride_w - l->pad_left + kx;
            const int8_t *in = input + ((size_t)iy * (size_t)l->in_w + (size_t)ix)
                                           * (size_t)channels;
            const int8_t *w = l->weights + ((size_t)ky * (size_t)l->k_w + (size_t)kx)
                                               * (size_t)channels;
            for (c = 0; c < channels; ++c) {
                acc[c] += (int32_t)w[c] * ((int32_t)in[c] + offset);
            }
        }
    }
    for (c = 0; c < channels; ++c) {
        out[c] = requantize(l, c, acc[c], rounding);
    }
}

ee_status_t conv_layer_run(const conv_layer_t *layer, fc_rounding_t rounding,
                           const int8_t *input, int8_t *output)
{
    int16_t patch[CONV_MAX_PATCH];
    int32_t acc[CONV_MAX_CHANNELS];
    int32_t y;
    int32_t x;

    if (layer->depthwise ? layer->out_c > (int32_t)CONV_MAX_CHANNELS
                         : layer->k_h * layer->k_w * layer->in_c > (int32_t)CONV_MAX_PATCH) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    for (y = 0; y < layer->out_h; ++y) {
        for (x = 0; x < layer->out_w; ++x) {
            int8_t *out = output + ((size_t)y * (size_t)layer->out_w + (size_t)x)
                                       * (size_t)layer->out_c;
            if (layer->depthwise) {
                depthwise_pixel(layer, rounding, input, y, x, acc, out);
            } else {
                conv_pixel(layer, rounding, input, y, x, patch, out);
            }
        }
    }
    return EE_STATUS_OK;
}

void pool_layer_run(const pool_layer_t *layer, const int8_t *input, int8_t *output)
{
    int32_t count = layer->filter_h * layer->filter_w;
    int32_t y;
    int32_t x;
    int32_t c;

    for (y = 0; y < layer->out_h; ++y) {
        for (x = 0; x < layer->out_w; ++x) {
            for (c = 0; c < layer->channels; ++c) {
                int32_t acc = 0;
                int32_t fy;
                int32_t fx;
                for (fy = 0; fy < layer->filter_h; ++fy) {
                    int32_t iy = y * layer->stride_h + fy;
                    for (fx = 0; fx < layer->filter_w; ++fx) {
                        int32_t ix = x * layer->stride_w + fx;
                        acc += input[((size_t)iy * (size_t)layer->in_w + (size_t)ix)
                                         * (size_t)layer->channels + (size_t)c];
                    }
                }
                /* round half away from zero; C division truncates toward zero */
                acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                output[((size_t)y * (size_t)layer->out_w + (size_t)x) * (size_t)layer->channels
                       + (size_t)c] = (int8_t)clamp32(acc, layer->act_min, layer->act_max);
            }
        }
    }
}

void softmax_int8_run(const softmax_params_t *params, const int8_t *input, int8_t *output,
                      size_t count)
{
    int32_t max = -128;
    float sum = 0.0f;
    float inv;
    size_t j;

    for (j = 0u; j < count; ++j) {
        max = input[j] > max ? input[j] : max;
    }
    /* float32, summed in index order like the interpreter; -std=c99 keeps FMA contraction off */
    for (j = 0u; j < count; ++j) {
        sum += params->exp_table[max - input[j]];
    }
    inv = 1.0f / (sum * params->output_scale);
    for (j = 0u; j < count; ++j) {
        float p = params->exp_table[max - input[j]] * inv;
        int32_t q = (int32_t)roundf(p) + params->output_zero_point;
        output[j] = (int8_t)clamp32(q, -128, 127);
    }
}
