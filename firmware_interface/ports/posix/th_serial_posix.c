/* UART seam of the host port: two file descriptors (stdio or a pty master). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "posix_port.h"
#include "th_serial.h"

static int uart_in = 0;
static int uart_out = 1;
static unsigned char rx_buf[512]; /* what one read() takes; the pty/pipe holds the rest */
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

/* Refill rx_buf with one read(): 1 when bytes came, 0 on EINTR, -1 when the input closed. */
static int refill(void)
{
    ssize_t n = read(uart_in, rx_buf, sizeof rx_buf);

    if (n < 0 && errno == EINTR) {
        return 0;
    }
    if (n <= 0) {
        return -1;
    }
    rx_len = (size_t)n;
    rx_pos = 0u;
    return 1;
}

int th_getchar(void)
{
    while (rx_pos >= rx_len) {
        if (refill() < 0) {
            return -1;
        }
    }
    return rx_buf[rx_pos++];
}

/* Real time, also under --sim-infer-us: the timeout guards the wire, not the DUT clock. */
static int64_t monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + (int64_t)(ts.tv_nsec / 1000);
}

int th_getchar_timeout(uint32_t timeout_us)
{
    const int64_t deadline = monotonic_us() + (int64_t)timeout_us;

    while (rx_pos >= rx_len) {
        struct pollfd pfd;
        int64_t left = deadline - monotonic_us();
        int ready;

        if (left <= 0) {
            return -1;
        }
        pfd.fd = uart_in;
        pfd.events = POLLIN;
        pfd.revents = 0;
        ready = poll(&pfd, 1, (int)((left + 999) / 1000)); /* ms, rounded up */
        if (ready < 0 && errno != EINTR) {
            return -1;
        }
        if (ready > 0 && refill() < 0) {
            return -1; /* closed: reported as a timeout, then th_getchar() ends the port */
        }
    }
    return rx_buf[rx_pos++];
}
