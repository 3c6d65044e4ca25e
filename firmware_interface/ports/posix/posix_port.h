/**
 * @file posix_port.h
 * @brief Private glue between the pieces of the host (POSIX) port.
 */
#ifndef POSIX_PORT_H
#define POSIX_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Use file descriptors for the UART.
 * @param in_fd Read end (stdin or the pty master).
 * @param out_fd Write end (stdout or the pty master).
 */
void posix_serial_use_fds(int in_fd, int out_fd);

/**
 * Bytes the host may have in flight to this port (fast load's `rx`): what the kernel keeps
 * for a reader that is busy (a pty's line discipline holds 4096; a pipe more), beyond which
 * the host's write() blocks -- nothing is ever lost.
 */
#define POSIX_RX_BYTES 4096u

/**
 * @brief Switch the timer to a deterministic virtual clock: it starts at 0 and advances
 *        by us_per_inference on every posix_timer_on_inference() (0 = CLOCK_MONOTONIC).
 * @param us_per_inference Virtual microseconds per inference.
 */
void posix_timer_use_virtual(uint32_t us_per_inference);

/**
 * @brief Energy build: th_timestamp() prints nothing (a board would pulse a GPIO).
 * @param enabled Non-zero for the energy build.
 */
void posix_timer_use_energy_mode(int enabled);

/** @brief Called by the model after each inference (advances the virtual clock). */
void posix_timer_on_inference(void);

#ifdef __cplusplus
}
#endif

#endif /* POSIX_PORT_H */
