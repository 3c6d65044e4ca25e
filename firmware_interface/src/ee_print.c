/* Output helpers: every line goes through one bounded formatter and th_uart_write(). */
#include "ee_print.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "th_serial.h"

static const char line_end[] = "\r\n";

static ee_status_t write_str(const char *text)
{
    return th_uart_write(text, strlen(text));
}

/* Format into buf; a too-long result is cut (vsnprintf never writes past size). */
static size_t vformat(char *buf, size_t size, const char *fmt, va_list args)
{
    int n = vsnprintf(buf, size, fmt, args);
    if (n < 0) {
        buf[0] = '\0';
        return 0u;
    }
    return ((size_t)n < size) ? (size_t)n : size - 1u;
}

ee_status_t ee_printf(const char *fmt, ...)
{
    char buf[EE_LINE_SIZE];
    va_list args;
    size_t len;

    if (fmt == NULL) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    va_start(args, fmt);
    len = vformat(buf, sizeof buf, fmt, args);
    va_end(args);
    return th_uart_write(buf, len);
}

ee_status_t ee_println(ee_msg_id_t id, ...)
{
    char buf[EE_LINE_SIZE];
    va_list args;
    size_t len;

    va_start(args, id);
    len = vformat(buf, sizeof buf - 2u, ee_msg(id), args);
    va_end(args);
    memcpy(buf + len, line_end, 2u);
    return th_uart_write(buf, len + 2u);
}

ee_status_t ee_print_text(const char *text)
{
    ee_status_t status = EE_STATUS_OK;

    if (text != NULL && text[0] != '\0') {
        status = write_str(text);
    }
    if (status == EE_STATUS_OK) {
        status = write_str(line_end);
    }
    return status;
}

ee_status_t ee_print_error(ee_err_id_t id)
{
    return ee_println(EE_MSG_ERROR, ee_err(id));
}

ee_status_t ee_print_lap_us(uint32_t us)
{
    return ee_println(EE_MSG_LAP_US, (unsigned long)us);
}

/*
 * Lines whose middle is a list (m-results-[...], m-buffer-...): the table format has one
 * "%s" where the items go. Print the part before it, the items, then the rest, so the list
 * length is not limited by a line buffer.
 */
static ee_status_t print_list_open(ee_msg_id_t id, const char **rest)
{
    const char *fmt = ee_msg(id);
    const char *hole = strstr(fmt, "%s");

    if (hole == NULL) {
        return EE_STATUS_ERROR;
    }
    *rest = hole + 2;
    return th_uart_write(fmt, (size_t)(hole - fmt));
}

static ee_status_t print_list_close(const char *rest)
{
    ee_status_t status = write_str(rest);
    return (status == EE_STATUS_OK) ? write_str(line_end) : status;
}

ee_status_t ee_print_results(const double *values, size_t count, int decimals)
{
    const char *rest = "";
    ee_status_t status;
    size_t i;

    if ((values == NULL && count > 0u) || decimals < 0 || decimals > 9) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    status = print_list_open(EE_MSG_RESULTS, &rest);
    for (i = 0u; i < count && status == EE_STATUS_OK; ++i) {
        status = ee_printf(i == 0u ? "%.*f" : ",%.*f", decimals, values[i]);
    }
    return (status == EE_STATUS_OK) ? print_list_close(rest) : status;
}

ee_status_t ee_print_buffer_row(const uint8_t *bytes, size_t count)
{
    char items[8u * 3u + 1u];
    const char *rest = "";
    ee_status_t status;
    size_t i;
    size_t len = 0u;

    if (count > 8u || (bytes == NULL && count > 0u)) {
        return EE_STATUS_BAD_ARGUMENT;
    }
    for (i = 0u; i < count; ++i) {
        len += (size_t)snprintf(items + len, sizeof items - len, i == 0u ? "%02x" : "-%02x",
                                (unsigned)bytes[i]);
    }
    items[len] = '\0';
    status = print_list_open(EE_MSG_BUFFER, &rest);
    if (status == EE_STATUS_OK) {
        status = write_str(items);
    }
    return (status == EE_STATUS_OK) ? print_list_close(rest) : status;
}
