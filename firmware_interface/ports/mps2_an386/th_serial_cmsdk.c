/* UART seam on the CMSDK APB UART0: polled TX, interrupt RX into a ring buffer. */
#include <stddef.h>
#include <stdint.h>

#include "cmsdk.h"
#include "th_serial.h"

#define RX_RING CMSDK_RX_RING /* power of two; fast load lets hosts fill it while we infer */

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head = 0u; /* written by the ISR */
static volatile uint32_t rx_tail = 0u; /* written by th_getchar */

void uart0_rx_irq(void);
void systick_irq(void);

void uart0_rx_irq(void)
{
    UART_INTCLEAR = UART_INT_RX; /* clear first, then read (qemu_dut.md gotcha 10) */
    while (UART_STATE & UART_STATE_RXBF) {
        uint8_t byte = (uint8_t)UART_DATA;
        if (rx_head - rx_tail < RX_RING) { /* full: drop, like a real overrun */
            rx_ring[rx_head % RX_RING] = byte;
            rx_head = rx_head + 1u;
        }
    }
}

void systick_irq(void)
{
    /* nothing to do: the tick only wakes th_getchar_timeout() out of WFI */
}

ee_status_t th_serialport_initialize(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXIRQEN;
    (void)UART_DATA; /* dummy read: QEMU starts delivering input at once (gotcha 1) */
    NVIC_ISER0 = 1u << UART0_RX_IRQ;
    return EE_STATUS_OK;
}

ee_status_t th_uart_write(const char *data, size_t len)
{
    size_t i;

    for (i = 0u; i < len; ++i) {
        while (UART_STATE & UART_STATE_TXBF) {
        }
        UART_DATA = (uint8_t)data[i];
    }
    return EE_STATUS_OK;
}

/* Take one byte if the ring has one (interrupts already masked by the caller). */
static int ring_take(void)
{
    int c;

    if (rx_head == rx_tail) {
        return -1;
    }
    c = rx_ring[rx_tail % RX_RING];
    rx_tail = rx_tail + 1u;
    return c;
}

int th_getchar(void)
{
    int c;

    for (;;) {
        __asm__ volatile("cpsid i" ::: "memory");
        c = ring_take();
        if (c >= 0) {
            break;
        }
        __asm__ volatile("wfi"); /* a pending IRQ wakes us even with PRIMASK set */
        __asm__ volatile("cpsie i" ::: "memory");
    }
    __asm__ volatile("cpsie i" ::: "memory");
    return c;
}

int th_getchar_timeout(uint32_t timeout_us)
{
    const uint64_t start = cmsdk_timer_ticks();
    const uint64_t limit = (uint64_t)timeout_us * (TIMER_HZ / 1000000u);
    int c;

    /* sleep in WFI like th_getchar, but let SysTick wake us every ms to look at the clock
       (TIMER0 counts DUT time: under -icount, idle time follows the wall clock) */
    SYST_RVR = CORE_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    for (;;) {
        __asm__ volatile("cpsid i" ::: "memory");
        c = ring_take();
        __asm__ volatile("cpsie i" ::: "memory");
        if (c >= 0 || cmsdk_timer_ticks() - start > limit) {
            break;
        }
        __asm__ volatile("cpsid i" ::: "memory");
        if (rx_head == rx_tail) {
            __asm__ volatile("wfi");
        }
        __asm__ volatile("cpsie i" ::: "memory");
    }
    SYST_CSR = 0u;
    return c;
}
