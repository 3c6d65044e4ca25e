/**
 * @file conv_int8.h
 * @brief int8 NHWC kernels of the kws01 DS-CNN, bit-exact with the TFLite interpreter's
 *        builtin kernels: convolution and depthwise convolution with per-channel
 *        requantisation, average pooling, and the float look-up-table int8 softmax.
 *
 * Requantisation reuses fc_multiply_by_quantized_multiplier() (models/ad01/fc_int8.h) so
 * every layer of every model rounds the same way. Weights are const data (flash);
 * activations live in caller-owned buffers.
 */
#ifndef CONV_INT8_H
#define CONV_INT8_H

#include <stddef.h>
#include <stdint.h>

#include "ee_status.h"
#include "fc_int8.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief CONV_2D or DEPTHWISE_CONV_2D (depth multiplier 1), dilation 1, zero padding.
 *        out[y][x][o] = clamp(requant_o(sum w * (in + input_offset) + bias[o]) + output_offset)
 *        where taps falling in the padding contribute nothing (TFLite's reference loops).
 */
typedef struct conv_layer {
    int32_t depthwise;      /**< 0: weights [out_c][k_h][k_w][in_c]; 1: [k_h][k_w][c]. */
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left; /**< leading padding (SAME puts the odd pixel at the end). */
    const int8_t *weights;
    const int32_t *bias;       /**< out_c values. */
    int32_t input_offset;      /**< -input zero point. */
    int32_t output_offset;     /**< output zero point. */
    const int32_t *multiplier; /**< per output channel, Q31. */
    const int32_t *shift;      /**< per output channel, power-of-two exponent. */
    int32_t act_min, act_max;  /**< fused activation clamp. */
} conv_layer_t;

/** @brief AVERAGE_POOL_2D with VALID padding (every window is full). */
typedef struct pool_layer {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w, out_c; /**< out_c == channels. */
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t act_min, act_max;
} pool_layer_t;

/**
 * @brief int8 softmax as TFLite's builtin kernel computes it (x86, no uint16 LUT build):
 *        e = exp_table[max - x], p = e * (1 / (sum(e) * output_scale)) in float32,
 *        out = clamp(roundf(p) + output_zero_point).
 */
typedef struct softmax_params {
    const float *exp_table;    /**< 256 values: expf(-input_scale * beta * d), d = 0..255. */
    float output_scale;
    int32_t output_zero_point;
} softmax_params_t;

/** Largest k_h * k_w * in_c of a CONV_2D (its receptive field is gathered on the stack). */
#define CONV_MAX_PATCH 1024u
/** Most channels of a DEPTHWISE_CONV_2D (one int32 accumulator each, on the stack). */
#define CONV_MAX_CHANNELS 256u

/**
 * @brief Run one convolution layer.
 * @param layer The layer.
 * @param rounding Requantisation variant (see fc_rounding_t).
 * @param input in_h * in_w * in_c values (NHWC, batch 1).
 * @param output out_h * out_w * out_c values (must not alias input).
 * @return EE_STATUS_OK, or EE_STATUS_BAD_ARGUMENT past CONV_MAX_PATCH / CONV_MAX_CHANNELS.
 */
ee_status_t conv_layer_run(const conv_layer_t *layer, fc_rounding_t rounding,
                           const int8_t *input, int8_t *output);

/**
 * @brief Run average pooling; each mean rounds half away from zero (TFLite int8).
 * @param layer The layer.
 * @param input in_h * in_w * channels values.
 * @param output out_h * out_w * channels values.
 */
void pool_layer_run(const pool_layer_t *layer, const int8_t *input, int8_t *output);

/**
 * @brief Softmax over one row.
 * @param params Table and output quantisation.
 * @param input count values.
 * @param output count values (may alias input).
 * @param count Row length (> 0).
 */
void softmax_int8_run(const softmax_params_t *params, const int8_t *input, int8_t *output,
                      size_t count);

#ifdef __cplusplus
}
#endif

#endif /* CONV_INT8_H */
