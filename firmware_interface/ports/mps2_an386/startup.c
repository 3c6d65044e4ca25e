/* Cortex-M4 start-up for MPS2-AN386: vector table, .data/.bss set-up, FPU on, main(). */
#include <stdint.h>

#include "cmsdk.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void uart0_rx_irq(void);
void timer0_irq(void);

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;

    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss; ++dst) {
        *dst = 0u;
    }
    SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access: the FPU */
    __asm__ volatile("dsb\n isb");
    (void)main();
    for (;;) {
        __asm__ volatile("wfi");
    }
}

/* A fault parks the core; the harness times out and kills QEMU (qemu_dut.md gotcha 9). */
void Default_Handler(void)
{
    for (;;) {
    }
}

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16 + 32] = {
    (vector_t)(uintptr_t)&_estack, /* initial stack pointer */
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
    [16 + UART0_RX_IRQ] = uart0_rx_irq,
    [16 + 1] = Default_Handler,
    [16 + 2] = Default_Handler,
    [16 + TIMER0_IRQ] = timer0_irq,
};
