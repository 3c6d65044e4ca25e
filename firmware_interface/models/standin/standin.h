/**
 * @file standin.h
 * @brief A deterministic stand-in "model" implementing th_model.h, for protocol tests on
 *        any port without a runtime. Output k = mean of the input bytes at positions i with
 *        i % outputs == k, divided by 255 (tests/firmware/standin.py is its Python twin).
 */
#ifndef STANDIN_H
#define STANDIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Model id printed by `profile`, and the db buffer size of the firmware default. */
#define STANDIN_MODEL_ID "kws01"
#define STANDIN_DB_SIZE 27648u
#define STANDIN_MAX_OUTPUTS 16u

/**
 * @brief Set the tensor size and number of outputs (call before ee_benchmark_initialize()).
 * @param input_bytes Bytes th_load_tensor copies, 1..STANDIN_DB_SIZE.
 * @param outputs Values th_results prints, 1..STANDIN_MAX_OUTPUTS.
 * @return 0, or -1 when out of range (nothing changed).
 */
int standin_configure(size_t input_bytes, size_t outputs);

/**
 * @brief Register a function called after every inference (a port's virtual clock).
 * @param hook Function or NULL; must stay valid while the firmware runs.
 */
void standin_set_inference_hook(void (*hook)(void));

#ifdef __cplusplus
}
#endif

#endif /* STANDIN_H */
