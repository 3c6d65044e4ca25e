/**
 * @file fc_int8.h
 * @brief int8 fully-connected layers, bit-exact with TFLite's reference integer kernel
 *        (reference_integer_ops::FullyConnected: int32 accumulate, MultiplyByQuantizedMultiplier,
 *        output offset, fused activation clamp). Per-tensor quantisation, symmetric weights.
 *
 * Memory: models are const data (flash); activations live in caller-owned scratch buffers.
 */
#ifndef FC_INT8_H
#define FC_INT8_H

#include <stddef.h>
#include <stdint.h>

#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief How the int32 accumulator is rescaled. TFLite builds disagree here (measured on
 *        the ad01 model with ai_edge_litert: 0.2%-30% of outputs differ by 1 LSB):
 *  - FC_ROUNDING_DOUBLE: common.h MultiplyByQuantizedMultiplier without TFLITE_SINGLE_ROUNDING
 *    (gemmlowp: rounding doubling high mul, then rounding divide, ties away from zero).
 *  - FC_ROUNDING_SINGLE: with TFLITE_SINGLE_ROUNDING (one 64-bit rounding shift); what the
 *    interpreter's BUILTIN_REF (reference kernels) op resolver computes.
 *  - FC_ROUNDING_DOUBLE_TIES_UP: doubling high mul, then a right shift rounding ties upward
 *    (ruy's x86 kernels); what the interpreter's default builtin FULLY_CONNECTED computes
 *    (BUILTIN_WITHOUT_DEFAULT_DELEGATES), i.e. what reference_models.dut_outputs prints.
 */
typedef enum fc_rounding {
    FC_ROUNDING_DOUBLE = 0,
    FC_ROUNDING_SINGLE = 1,
    FC_ROUNDING_DOUBLE_TIES_UP = 2
} fc_rounding_t;

/** @brief One layer: out[o] = clamp(requant(sum_i w[o][i] * (in[i] + input_offset) + bias[o])). */
typedef struct fc_layer {
    int32_t inputs;         /**< input width. */
    int32_t outputs;        /**< output width. */
    const int8_t *weights;  /**< outputs x inputs, row-major. */
    const int32_t *bias;    /**< outputs values (may be NULL). */
    int32_t input_offset;   /**< -input zero point. */
    int32_t output_offset;  /**< output zero point. */
    int32_t multiplier;     /**< Q31 requantisation multiplier. */
    int32_t shift;          /**< power-of-two exponent (negative: right shift). */
    int32_t act_min;        /**< fused activation clamp. */
    int32_t act_max;
} fc_layer_t;

/** @brief A chain of layers and the model's input/output quantisation. */
typedef struct fc_model {
    size_t layer_count;
    const fc_layer_t *layers;
    float input_scale;
    int32_t input_zero_point;
    float output_scale;
    int32_t output_zero_point;
    fc_rounding_t rounding;  /**< requantisation rounding of every layer. */
} fc_model_t;

/**
 * @brief TFLite's MultiplyByQuantizedMultiplier in one of its rounding variants.
 * @param x Accumulator.
 * @param multiplier Q31 multiplier (>= 0).
 * @param shift Exponent in [-31, 30] (positive: left shift).
 * @param rounding Variant (see fc_rounding_t).
 * @return The rescaled value.
 */
int32_t fc_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift,
                                            fc_rounding_t rounding);

/**
 * @brief Run one layer.
 * @param layer The layer.
 * @param rounding Requantisation variant.
 * @param input layer->inputs values.
 * @param output layer->outputs values (must not alias input).
 */
void fc_layer_run(const fc_layer_t *layer, fc_rounding_t rounding, const int8_t *input,
                  int8_t *output);

/**
 * @brief Largest layer width (size of each scratch buffer fc_model_run needs).
 * @param model The model.
 * @return Width in elements.
 */
size_t fc_model_max_width(const fc_model_t *model);

/**
 * @brief Run every layer in order.
 * @param model The model.
 * @param input First layer's input.
 * @param output Last layer's output.
 * @param scratch Caller-owned, 2 * fc_model_max_width(model) bytes; used only during the call.
 * @param scratch_size Its size in bytes.
 * @return EE_STATUS_OK, EE_STATUS_BAD_ARGUMENT or EE_STATUS_NO_SPACE.
 */
ee_status_t fc_model_run(const fc_model_t *model, const int8_t *input, int8_t *output,
                         int8_t *scratch, size_t scratch_size);

#ifdef __cplusplus
}
#endif

#endif /* FC_INT8_H */
