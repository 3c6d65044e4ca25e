/* UART seam of the host port: two file descriptors (stdio or a pty master). */
#include <errno.h>
#include <unistd.h>

#include "posix_port.h"
#include "th_serial.h"

static int uart_in = 0;
static int uart_out = 1;
static unsigned char rx_buf[512];
static size_t rx_len = 0;
static size_t rx_pos = 0;

void posix_serial_use_fds(int in_fd, int out_fd)
{
    uart_in = in_fd;
    uart_out = out_fd;
}

ee_status_t th_serialport_initialize(void)
{
    return EE_STATUS_OK;
}

ee_status_t th_uart_write(const char *data, size_t len)
{
    while (len > 0u) {
        ssize_t n = write(uart_out, data, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return EE_STATUS_ERROR;
        }
        data += n;
        len -= (size_t)n;
    }
    return EE_STATUS_OK;
}

int th_getchar(void)
{
    while (rx_pos >= rx_len) {
        ssize_t n = read(uart_in, rx_buf, sizeof rx_buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        rx_len = (size_t)n;
        rx_pos = 0u;
    }
    return rx_buf[rx_pos++];
}
