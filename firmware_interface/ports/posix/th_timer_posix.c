/* Timer seam of the host port: CLOCK_MONOTONIC in µs (32-bit, wraps), or a virtual clock. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "ee_print.h"
#include "posix_port.h"
#include "th_timer.h"

static uint32_t virtual_step_us = 0u;
static uint32_t virtual_now_us = 0u;
static int energy_mode = 0;

void posix_timer_use_virtual(uint32_t us_per_inference)
{
    virtual_step_us = us_per_inference;
    virtual_now_us = 0u;
}

void posix_timer_use_energy_mode(int enabled)
{
    energy_mode = enabled;
}

void posix_timer_on_inference(void)
{
    virtual_now_us += virtual_step_us; /* unsigned: wraps like a 32-bit hardware counter */
}

static uint32_t now_us(void)
{
    struct timespec ts;

    if (virtual_step_us != 0u) {
        return virtual_now_us;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

ee_status_t th_timestamp_initialize(void)
{
    return EE_STATUS_OK;
}

void th_timestamp(void)
{
    if (!energy_mode) {
        ee_print_lap_us(now_us()); /* energy build: a GPIO pulse; a host has none */
    }
}
