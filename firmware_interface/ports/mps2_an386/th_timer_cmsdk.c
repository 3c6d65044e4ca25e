/* Timer seam on CMSDK TIMER0 (25 MHz down-counter), extended to 64 bits by its wrap IRQ. */
#include <stdint.h>

#include "cmsdk.h"
#include "ee_print.h"
#include "th_timer.h"

static volatile uint32_t wraps = 0u;

void timer0_irq(void);

void timer0_irq(void)
{
    TIMER_INT = 1u;
    wraps = wraps + 1u;
}

ee_status_t th_timestamp_initialize(void)
{
    TIMER_RELOAD = 0xFFFFFFFFu;
    TIMER_VALUE = 0xFFFFFFFFu;
    TIMER_CTRL = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    NVIC_ISER0 = 1u << TIMER0_IRQ;
    return EE_STATUS_OK;
}

uint64_t cmsdk_timer_ticks(void)
{
    uint32_t hi;
    uint32_t value;

    __asm__ volatile("cpsid i" ::: "memory");
    hi = wraps;
    value = TIMER_VALUE;
    if ((TIMER_INT & 1u) && value > 0x80000000u) {
        hi += 1u; /* wrapped, IRQ not taken yet */
    }
    __asm__ volatile("cpsie i" ::: "memory");
    return ((uint64_t)hi << 32) | (uint64_t)(0xFFFFFFFFu - value);
}

void th_timestamp(void)
{
    /* %lu of 32 bits: wraps */
    ee_print_lap_us((uint32_t)(cmsdk_timer_ticks() / (TIMER_HZ / 1000000u)));
}
