/**
 * @file ee_print.h
 * @brief Output helpers of the protocol layer, for the layer itself and for ports.
 *
 * Every helper ends the line with "\r\n" (hosts behind an interface board split on that
 * exact pair) and writes through th_uart_write(). Formats come from ee_messages.h.
 * Lines longer than EE_LINE_SIZE-3 characters are cut, never overflowed.
 */
#ifndef EE_PRINT_H
#define EE_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "ee_messages.h"
#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Stack buffer used to format one line. */
#define EE_LINE_SIZE 160u

/**
 * @brief printf-style formatted output without a line end (th_printf of the reference).
 * @param fmt printf format.
 * @return Status of th_uart_write().
 */
ee_status_t ee_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/**
 * @brief Print one message line from the table, followed by "\r\n".
 * @param id The EE_MSG_* format; the variadic arguments must match its conversions.
 * @return Status of th_uart_write().
 */
ee_status_t ee_println(ee_msg_id_t id, ...);

/**
 * @brief Print a fixed text line (EE_TEXT_*) or any literal text, followed by "\r\n".
 * @param text NUL-terminated text (NULL prints an empty line).
 * @return Status of th_uart_write().
 */
ee_status_t ee_print_text(const char *text);

/**
 * @brief Print "e-[text]".
 * @param id The EE_ERR_* text.
 * @return Status of th_uart_write().
 */
ee_status_t ee_print_error(ee_err_id_t id);

/**
 * @brief Print "m-lap-us-{us}" for a free-running 32-bit microsecond counter.
 * @param us Counter value (wraps after ~71.6 minutes).
 * @return Status of th_uart_write().
 */
ee_status_t ee_print_lap_us(uint32_t us);

/**
 * @brief Print "m-results-[v0,v1,...]" with "%.{decimals}f" per value (decimals 0..9).
 * @param values count values (may be NULL when count is 0: prints "m-results-[]").
 * @param count Number of values.
 * @param decimals Digits after the point (the reference ports use 3).
 * @return Status of th_uart_write(), or EE_STATUS_BAD_ARGUMENT.
 */
ee_status_t ee_print_results(const double *values, size_t count, int decimals);

/**
 * @brief Print "m-buffer-xx-xx-..." for up to 8 bytes.
 * @param bytes The bytes.
 * @param count How many (0..8).
 * @return Status of th_uart_write(), or EE_STATUS_BAD_ARGUMENT.
 */
ee_status_t ee_print_buffer_row(const uint8_t *bytes, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* EE_PRINT_H */
