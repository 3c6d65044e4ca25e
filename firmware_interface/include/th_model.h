/**
 * @file th_model.h
 * @brief Port seam: the model runtime (load input, invoke, print results, init, hooks).
 */
#ifndef TH_MODEL_H
#define TH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Model / interpreter setup, run once at boot (may print free-text lines).
 * @return EE_STATUS_OK, or an error that aborts ee_benchmark_initialize().
 */
ee_status_t th_final_initialize(void);

/**
 * @brief Copy the loaded input into the model's input tensor, converting as needed
 *        (uint8 → int8, float32 → int8 quantisation, ...). Called at the start of every
 *        `infer`. If fewer bytes than the tensor needs were loaded, print
 *        EE_MSG_INPUT_SIZE_MISMATCH and keep the rest of the tensor as it was.
 * @param db The protocol layer's db buffer; valid only during the call, read-only.
 * @param loaded Bytes loaded since the last `db load`.
 * @return EE_STATUS_OK, or an error (the layer prints e-[th_load_tensor failed]).
 */
ee_status_t th_load_tensor(const uint8_t *db, size_t loaded);

/**
 * @brief Run exactly one inference on the current input tensor.
 * @return EE_STATUS_OK, or an error (the layer prints e-[th_infer failed] and stops).
 */
ee_status_t th_infer(void);

/**
 * @brief Print one "m-results-[...]" line for the last inference (use ee_print_results()).
 * @return EE_STATUS_OK or an error.
 */
ee_status_t th_results(void);

/** @brief Hook run inside the timed region before the first timed inference (may be empty). */
void th_pre(void);

/** @brief Hook run inside the timed region after the last timed inference (may be empty). */
void th_post(void);

#ifdef __cplusplus
}
#endif

#endif /* TH_MODEL_H */
