/**
 * @file recording_port.h
 * @brief A port for unit tests: records every UART byte and every th_* call, and can be
 *        told to fail. Named after what it does (tflite-micro's recording_* doubles).
 */
#ifndef RECORDING_PORT_H
#define RECORDING_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Capacity of the recorded output and call log. */
#define REC_OUTPUT_SIZE 65536u
#define REC_CALLS_SIZE 4096u
/** Capacity of the scripted input (bytes the port "receives"). */
#define REC_INPUT_SIZE 8192u

/** @brief What the recording port saw and how it should behave. */
typedef struct recording_port {
    char output[REC_OUTPUT_SIZE]; /**< every byte written, NUL-terminated. */
    size_t output_len;
    char calls[REC_CALLS_SIZE];   /**< one letter per th_* call (see recording_port.c). */
    size_t calls_len;
    uint32_t clock_us;            /**< value of the next timestamp; +1000 per th_infer. */
    size_t tensor_bytes;          /**< bytes th_load_tensor expects. */
    uint8_t tensor[64];           /**< first bytes of the last loaded input. */
    size_t loaded;                /**< `loaded` argument of the last th_load_tensor. */
    long infer_calls;
    long fail_infer_at;           /**< th_infer call number (1-based) that fails; 0 = never. */
    int fail_load;                /**< th_load_tensor fails. */
    int fail_results;             /**< th_results fails. */
    int fail_init;                /**< th_final_initialize fails. */
    uint8_t input[REC_INPUT_SIZE]; /**< scripted received bytes (rec_receive). */
    size_t input_len;
    size_t input_pos;             /**< next byte th_getchar / rec_read_timeout returns. */
    size_t timeouts;              /**< rec_read_timeout calls that found no byte. */
    uint32_t last_timeout_us;     /**< timeout_us of the last rec_read_timeout call. */
} recording_port_t;

/** @brief The single recording port instance (tests reset it with rec_reset()). */
extern recording_port_t rec;

/** @brief Clear the recording and the failure switches; tensor_bytes = 16. */
void rec_reset(void);

/** @brief Forget recorded output and calls, keep the settings. */
void rec_clear_output(void);

/** @brief Append bytes to the scripted input (any value; silently cut when full). */
void rec_receive(const void *data, size_t len);

/**
 * @brief The port's bounded read (fast load): the next scripted byte, or -1 when the script
 *        is exhausted -- a silent line, so every wait "times out" at once.
 */
int rec_read_timeout(uint32_t timeout_us);

#ifdef __cplusplus
}
#endif

#endif /* RECORDING_PORT_H */
