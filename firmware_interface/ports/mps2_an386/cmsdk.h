/**
 * @file cmsdk.h
 * @brief The few MPS2-AN386 (Cortex-M4) peripherals this port uses: CMSDK APB UART0 and
 *        TIMER0, SysTick, NVIC enable and the FPU access register. Addresses from the AN386
 *        memory map.
 */
#ifndef CMSDK_H
#define CMSDK_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

#define UART0_BASE 0x40004000u
#define UART_DATA REG32(UART0_BASE + 0x000u)
#define UART_STATE REG32(UART0_BASE + 0x004u)
#define UART_CTRL REG32(UART0_BASE + 0x008u)
#define UART_INTCLEAR REG32(UART0_BASE + 0x00Cu)
#define UART_BAUDDIV REG32(UART0_BASE + 0x010u)
#define UART_STATE_TXBF 0x1u
#define UART_STATE_RXBF 0x2u
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_RXIRQEN 0x8u
#define UART_INT_RX 0x2u
#define UART0_RX_IRQ 0u

#define TIMER0_BASE 0x40000000u
#define TIMER_CTRL REG32(TIMER0_BASE + 0x000u)
#define TIMER_VALUE REG32(TIMER0_BASE + 0x004u)
#define TIMER_RELOAD REG32(TIMER0_BASE + 0x008u)
#define TIMER_INT REG32(TIMER0_BASE + 0x00Cu)
#define TIMER_CTRL_EN 0x1u
#define TIMER_CTRL_IRQEN 0x8u
#define TIMER0_IRQ 8u
#define TIMER_HZ 25000000u

/* SysTick: 1 ms wake-ups out of WFI while a fast-load block is awaited */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE 0x4u /* the processor clock (25 MHz, like TIMER0) */
#define CORE_HZ 25000000u

#define NVIC_ISER0 REG32(0xE000E100u)
#define SCB_CPACR REG32(0xE000ED88u)

/* Port glue between the files of this port. */

/** Receive ring of UART0 in bytes (advertised to fast-load hosts as `rx`); a power of two. */
#define CMSDK_RX_RING 4096u

/** TIMER0 extended to 64 bits: 25 MHz ticks since th_timestamp_initialize(). */
uint64_t cmsdk_timer_ticks(void);

#endif /* CMSDK_H */
