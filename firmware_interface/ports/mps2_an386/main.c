/*
 * MPS2-AN386 (Cortex-M4F) port under QEMU: the protocol layer on UART0.
 * Build settings (-D): FW_VENDOR, FW_MODEL_ID, FW_DB_SIZE; QEMU_MODEL_AD01 / QEMU_MODEL_KWS01
 * select the int8 ad01 / kws01 runtime, otherwise the stand-in model (FW_INPUT_BYTES,
 * FW_OUTPUTS); FW_FAST_LOAD=0 leaves the `fl` commands out (the standard dialogue only).
 */
#include <stdint.h>

#include "cmsdk.h"
#include "ee_api.h"
#include "th_model.h"
#include "th_serial.h"

#ifdef QEMU_MODEL_AD01
#include "ad01_model.h"
#define DEFAULT_MODEL_ID AD01_MODEL_ID
#define DEFAULT_DB_SIZE AD01_DB_SIZE
#elif defined(QEMU_MODEL_KWS01)
#include "kws01_model.h"
#define DEFAULT_MODEL_ID KWS01_MODEL_ID
#define DEFAULT_DB_SIZE KWS01_DB_SIZE
#else
#include "standin.h"
#define DEFAULT_MODEL_ID STANDIN_MODEL_ID
#define DEFAULT_DB_SIZE STANDIN_DB_SIZE
#ifndef FW_INPUT_BYTES
#define FW_INPUT_BYTES 490u
#endif
#ifndef FW_OUTPUTS
#define FW_OUTPUTS 12u
#endif
#endif

#ifndef FW_VENDOR
#define FW_VENDOR "tinyperf-qemu"
#endif
#ifndef FW_MODEL_ID
#define FW_MODEL_ID DEFAULT_MODEL_ID
#endif
#ifndef FW_FAST_LOAD
#define FW_FAST_LOAD 1
#endif
#ifndef FW_DB_SIZE
#define FW_DB_SIZE DEFAULT_DB_SIZE
#endif

static uint8_t db_buffer[FW_DB_SIZE];
static ee_ctx_t ctx;
static const ee_config_t config = {FW_VENDOR, FW_MODEL_ID, 0};

int main(void)
{
#if !defined(QEMU_MODEL_AD01) && !defined(QEMU_MODEL_KWS01)
    if (standin_configure(FW_INPUT_BYTES, FW_OUTPUTS) != 0) {
        return 1;
    }
#endif
    if (ee_benchmark_initialize(&ctx, &config, db_buffer, sizeof db_buffer) != EE_STATUS_OK) {
        return 1;
    }
#if FW_FAST_LOAD
    if (ee_fast_load_enable(&ctx, th_getchar_timeout, CMSDK_RX_RING, EE_FAST_LOAD_TIMEOUT_US)
        != EE_STATUS_OK) {
        return 1;
    }
#endif
    for (;;) {
        (void)ee_serial_callback(&ctx, (char)th_getchar());
    }
}
