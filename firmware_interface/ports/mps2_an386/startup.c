/*
 * Cortex-M4 start-up for MPS2-AN386: vector table, .data/.bss set-up, FPU on, main().
 *
 * Ends through Arm semihosting (QEMU: -semihosting-config enable=on,target=native), so the
 * harness sees why an image stopped instead of a silent hang (qemu_dut.md gotcha 9):
 *   - main() returns (start-up failed)   -> exit code = main's value (0 -> 0, else 1..127);
 *   - any fault or unexpected exception  -> one diagnostic line on QEMU's stdout, e.g.
 *     "tinyperf-fw: fault HardFault ipsr=3 pc=0x000001a4 hfsr=0x40000000 cfsr=0x00010000",
 *     then exit code 128 + exception number (HardFault 131, BusFault 133, ...).
 * On a board without a debugger attached BKPT itself faults: build this port for QEMU only.
 * FW_TEST_FAULT (-D) executes an undefined instruction before main(), for the tests.
 */
#include <stdint.h>

#include "cmsdk.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void fault_report(const uint32_t *frame);
static void semihost_exit(uint32_t code) __attribute__((noreturn));
void uart0_rx_irq(void);
void timer0_irq(void);
void systick_irq(void);

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
#ifdef FW_TEST_FAULT
    __asm__ volatile("udf #0"); /* UsageFault (disabled) escalates to HardFault */
#endif
    int code = main();
    semihost_exit(code == 0 ? 0u : (code > 0 && code < 128 ? (uint32_t)code : 1u));
}

/* Semihosting call: operation in r0, parameter in r1, "bkpt 0xAB" traps to the debugger. */
static uint32_t semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static void semihost_exit(uint32_t code)
{
    /* SYS_EXIT_EXTENDED carries the code on AArch32 (plain SYS_EXIT only says ok/failed) */
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, code};
    (void)semihost_call(SYS_EXIT_EXTENDED, block);
    for (;;) { /* semihosting disabled: park the core */
        __asm__ volatile("wfi");
    }
}

static char *put_hex(char *out, const char *label, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    while (*label != '\0') {
        *out++ = *label++;
    }
    *out++ = '0';
    *out++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        *out++ = digits[(value >> (unsigned)shift) & 0xFu];
    }
    return out;
}

static const char *exception_name(uint32_t ipsr)
{
    static const char *const names[] = {"Thread", "Reset", "NMI", "HardFault", "MemManage",
                                        "BusFault", "UsageFault"};
    if (ipsr < sizeof names / sizeof names[0]) {
        return names[ipsr];
    }
    return ipsr < 16u ? "SystemException" : "IRQ";
}

#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_CFSR REG32(0xE000ED28u)

/* Called by Default_Handler with the stacked exception frame (r0-r3, r12, lr, pc, xpsr). */
void fault_report(const uint32_t *frame)
{
    char line[160];
    char *out = line;
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
    for (const char *p = "tinyperf-fw: fault "; *p != '\0'; ++p) {
        *out++ = *p;
    }
    for (const char *p = exception_name(ipsr); *p != '\0'; ++p) {
        *out++ = *p;
    }
    *out++ = ' ';
    *out++ = 'i';
    *out++ = 'p';
    *out++ = 's';
    *out++ = 'r';
    *out++ = '=';
    if (ipsr >= 100u) {
        *out++ = (char)('0' + ipsr / 100u);
    }
    if (ipsr >= 10u) {
        *out++ = (char)('0' + ipsr / 10u % 10u);
    }
    *out++ = (char)('0' + ipsr % 10u);
    out = put_hex(out, " pc=", frame[6]);
    out = put_hex(out, " hfsr=", SCB_HFSR);
    out = put_hex(out, " cfsr=", SCB_CFSR);
    *out++ = '\n';
    *out = '\0';
    (void)semihost_call(SYS_WRITE0, line);
    semihost_exit(128u + (ipsr & 0x7Fu));
}

/* Every fault and unexpected exception: report the stacked frame and exit (see top). */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r0, msp\n"
                     "mrsne r0, psp\n"
                     "b fault_report\n");
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
    systick_irq,     /* SysTick: fast-load receive timeout wake-ups (th_serial_cmsdk.c) */
    [16 + UART0_RX_IRQ] = uart0_rx_irq,
    [16 + 1] = Default_Handler,
    [16 + 2] = Default_Handler,
    [16 + TIMER0_IRQ] = timer0_irq,
};
