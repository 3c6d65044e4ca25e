/**
 * @file ee_api.h
 * @brief The shared MLPerf Tiny protocol layer (ee_* = "internally implemented").
 *
 * Framing on '%', an EE_CMD_SIZE-character command buffer that saturates (never overflows),
 * tokenising, and every command of the standard protocol (name, profile, help, timestamp,
 * db load/HEX/print, infer N W, results), each response ending with "m-ready". Optionally
 * (ee_fast_load_enable) the tinyperf `fl` commands: raw-binary input loads with CRC-32.
 *
 * Memory: the layer allocates nothing. All state lives in an ee_ctx_t owned by the caller,
 * and the input ("db") buffer is a caller-owned array handed to ee_benchmark_initialize().
 * Both must outlive every later ee_* call on that context (in firmware: make them static).
 * The layer keeps only pointers to the caller's ee_config_t strings; they must stay valid
 * as long as the context is used (string literals are ideal).
 *
 * Concurrency: not reentrant per context. ee_serial_callback() runs whole commands
 * (including inference), so call it from the main loop; a UART interrupt handler should
 * queue received bytes and let the main loop feed them.
 *
 * Main loop of a port:
 * @code
 *   static uint8_t db[MAX_DB_INPUT_SIZE];
 *   static ee_ctx_t ctx;
 *   static const ee_config_t cfg = { "vendor", "ad01", 0 };
 *   ee_benchmark_initialize(&ctx, &cfg, db, sizeof db);
 *   ee_fast_load_enable(&ctx, th_getchar_timeout, RX_BYTES, EE_FAST_LOAD_TIMEOUT_US); // optional
 *   for (;;) { ee_serial_callback(&ctx, (char)th_getchar()); }
 * @endcode
 */
#ifndef EE_API_H
#define EE_API_H

#include <stddef.h>
#include <stdint.h>

#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Characters buffered before '%' (the standard API's EE_CMD_SIZE); more are dropped. */
#define EE_CMD_SIZE 80u
/** Tokens looked at per command; further tokens are ignored. */
#define EE_MAX_TOKENS 8u
/** `infer` defaults when N or W is omitted (hosts should always send both). */
#define EE_DEFAULT_ITERATIONS 1L
#define EE_DEFAULT_WARMUPS 10L

/**
 * @brief Bounded read of one received byte, for fast load (docs/fast_load.md).
 * @param timeout_us Longest wait in microseconds for the byte.
 * @return The byte (0..255), or a negative value when none came in time (or the link closed).
 */
typedef int (*ee_read_timeout_fn)(uint32_t timeout_us);

/** Fast-load receive timeout a port should use unless it knows better (µs, the `tmo` field). */
#define EE_FAST_LOAD_TIMEOUT_US 200000ul
/** Smallest receive buffer a port may advertise (`rx`): one whole command. */
#define EE_FAST_LOAD_MIN_RX EE_CMD_SIZE

/** @brief Build settings of a firmware (the reference's TH_* compile-time macros). */
typedef struct ee_config {
    const char *vendor;   /**< TH_VENDOR_NAME_STRING, printed by `name`; NULL = "unspecified". */
    const char *model_id; /**< TH_MODEL_VERSION (kws01, ad01, ...), printed by `profile`. */
    int energy_mode;      /**< 0: performance build (m-lap-us lines); 1: energy (GPIO pulses). */
} ee_config_t;

/** @brief State of one protocol instance. Caller-owned; treat the fields as private. */
typedef struct ee_ctx {
    char cmd[EE_CMD_SIZE + 1u]; /**< command being received (NUL-terminated on '%'). */
    size_t cmd_len;             /**< write position, saturates at EE_CMD_SIZE. */
    uint8_t *db;                /**< caller-owned input buffer. */
    size_t db_capacity;         /**< its size in bytes (MAX_DB_INPUT_SIZE). */
    size_t db_expected;         /**< N of the last `db load N` (clamped to db_capacity). */
    size_t db_pos;              /**< bytes written since `db load`. */
    const ee_config_t *config;  /**< caller-owned build settings. */
    int parser_enabled;         /**< commands are ignored until initialisation finished. */
    ee_read_timeout_fn fl_read; /**< fast load's bounded read; NULL = not offered. */
    size_t fl_rx_bytes;         /**< the port's receive buffer (advertised as `rx`). */
    uint32_t fl_timeout_us;     /**< gap that ends a fast-load block (advertised as `tmo`). */
} ee_ctx_t;

/**
 * @brief Initialise the port and the context, print the boot banner, enable the parser.
 *
 * Calls th_serialport_initialize(), th_timestamp_initialize(), prints the timestamp mode,
 * calls th_timestamp() once, th_final_initialize(), then prints "m-init-done" and "m-ready".
 * @param ctx Caller-owned context, overwritten here.
 * @param config Caller-owned build settings; must outlive ctx.
 * @param db_buffer Caller-owned input buffer of db_capacity bytes; must outlive ctx.
 * @param db_capacity Size of db_buffer in bytes (> 0).
 * @return EE_STATUS_OK, EE_STATUS_BAD_ARGUMENT, or the first failing th_* status
 *         (the parser then stays disabled).
 */
ee_status_t ee_benchmark_initialize(ee_ctx_t *ctx, const ee_config_t *config,
                                    uint8_t *db_buffer, size_t db_capacity);

/**
 * @brief Feed one received byte. On '%' the command is run and its response printed.
 * @param ctx Initialised context.
 * @param c The received byte.
 * @return EE_STATUS_OK (byte stored, or a command completed; see the response for errors),
 *         EE_STATUS_TRUNCATED (byte dropped: the command buffer is full),
 *         EE_STATUS_NOT_READY (parser not enabled; byte dropped), EE_STATUS_BAD_ARGUMENT.
 */
ee_status_t ee_serial_callback(ee_ctx_t *ctx, char c);

/**
 * @brief Run one complete command (without '%') and print its response, ending in m-ready.
 * @param ctx Initialised context.
 * @param cmd NUL-terminated command text; modified in place (tokenised). At most
 *        EE_CMD_SIZE characters are looked at.
 * @return EE_STATUS_OK, EE_STATUS_UNKNOWN_COMMAND, EE_STATUS_COMMAND_ERROR (an e-[...] line
 *         was printed), EE_STATUS_NOT_READY or EE_STATUS_BAD_ARGUMENT.
 */
ee_status_t ee_serial_command_parser_callback(ee_ctx_t *ctx, char *cmd);

/**
 * @brief Offer fast load (the `fl` commands of docs/fast_load.md) on this context.
 *
 * Call after ee_benchmark_initialize() (which clears the context). Without this call `fl`
 * is an unknown command, exactly as in the standard firmware, so a port without a bounded
 * read (th_getchar_timeout) still builds and simply does not advertise fast load.
 * The `fl load`/`fl shift` handlers read their raw data bytes through read_byte, from the
 * same receive path th_getchar() uses, while ee_serial_callback() runs.
 * @param ctx Initialised context.
 * @param read_byte Bounded read (usually th_getchar_timeout).
 * @param rx_bytes Bytes the port can hold received but not yet read (>= EE_FAST_LOAD_MIN_RX).
 * @param timeout_us Longest gap between two data bytes (> 0), e.g. EE_FAST_LOAD_TIMEOUT_US.
 * @return EE_STATUS_OK or EE_STATUS_BAD_ARGUMENT (fast load stays off).
 */
ee_status_t ee_fast_load_enable(ee_ctx_t *ctx, ee_read_timeout_fn read_byte, size_t rx_bytes,
                                uint32_t timeout_us);

/**
 * @brief CRC-32 (IEEE 802.3, reflected, the one of zlib's crc32()); chainable.
 * @param crc 0 to start, or the result of the previous call to continue.
 * @param data Bytes (may be NULL when len is 0).
 * @param len Number of bytes.
 * @return The CRC of everything fed so far (ee_crc32(0, "123456789", 9) == 0xcbf43926).
 */
uint32_t ee_crc32(uint32_t crc, const uint8_t *data, size_t len);

/**
 * @brief Copy the loaded input bytes out of the db buffer (reference API, for ports).
 * @param ctx Initialised context.
 * @param buf Destination, max_len bytes.
 * @param max_len Capacity of buf.
 * @return Bytes copied: min(max_len, bytes loaded since the last `db load`).
 */
size_t ee_get_buffer(const ee_ctx_t *ctx, uint8_t *buf, size_t max_len);

/**
 * @brief Run the infer sequence: load tensor, W warm-ups, timestamp, th_pre, N timed
 *        inferences, th_post, timestamp, results (protocol spec 1.4). Prints its lines but
 *        not the final m-ready.
 * @param ctx Initialised context.
 * @param iterations N (>= 1).
 * @param warmups W (>= 0).
 * @return EE_STATUS_OK, EE_STATUS_COMMAND_ERROR (e-[...] printed) or EE_STATUS_BAD_ARGUMENT.
 */
ee_status_t ee_infer(ee_ctx_t *ctx, long iterations, long warmups);

/**
 * @brief Decode a hex string (either case, no prefix) to a non-negative value.
 * @param hex NUL-terminated digits.
 * @return The value, or -1 on an empty string, a bad digit or overflow of long.
 */
long ee_hexdec(const char *hex);

/**
 * @brief C atoi semantics (leading blanks, optional sign, digits) that saturate instead
 *        of overflowing.
 * @param text NUL-terminated text (NULL gives 0).
 * @return The parsed value, 0 when there are no digits, LONG_MAX/LONG_MIN when out of range.
 */
long ee_atol(const char *text);

#ifdef __cplusplus
}
#endif

#endif /* EE_API_H */
