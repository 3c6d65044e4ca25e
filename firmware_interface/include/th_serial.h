/**
 * @file th_serial.h
 * @brief Port seam: the UART ("th" = submitter implemented).
 */
#ifndef TH_SERIAL_H
#define TH_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Configure the UART (reference rates: 115200/921600 performance, 9600 energy).
 * @return EE_STATUS_OK, or an error that aborts ee_benchmark_initialize().
 */
ee_status_t th_serialport_initialize(void);

/**
 * @brief Write bytes to the host, blocking until they are queued or sent.
 * @param data Bytes to send; only read during the call.
 * @param len Number of bytes.
 * @return EE_STATUS_OK or EE_STATUS_ERROR.
 */
ee_status_t th_uart_write(const char *data, size_t len);

/**
 * @brief Blocking read of one received byte (used by the port's main loop only).
 * @return The byte (0..255), or -1 when the link is closed for good (the host port exits).
 */
int th_getchar(void);

/**
 * @brief OPTIONAL seam: read one received byte, waiting at most timeout_us microseconds.
 *
 * Only ports offering fast load implement it, and pass it to ee_fast_load_enable(); the
 * protocol layer never calls it by name, so a port without it builds unchanged. Must read
 * from the same receive path as th_getchar() and measure the wait with the port's timer.
 * @param timeout_us Longest wait (> 0).
 * @return The byte (0..255), or -1 when none arrived in time or the link is closed.
 */
int th_getchar_timeout(uint32_t timeout_us);

#ifdef __cplusplus
}
#endif

#endif /* TH_SERIAL_H */
