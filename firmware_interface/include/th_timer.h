/**
 * @file th_timer.h
 * @brief Port seam: timestamps (m-lap-us in performance builds, a GPIO pulse in energy builds).
 */
#ifndef TH_TIMER_H
#define TH_TIMER_H

#include "ee_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Set up the microsecond timer (performance) or the open-drain GPIO (energy).
 *        The protocol layer prints the timestamp mode line and calls th_timestamp() once
 *        right after this (the energy build's first pulse releases the line).
 * @return EE_STATUS_OK, or an error that aborts ee_benchmark_initialize().
 */
ee_status_t th_timestamp_initialize(void);

/**
 * @brief Emit one timestamp. Performance build: ee_print_lap_us(free-running µs counter)
 *        (the format must not change). Energy build: drive the timestamp GPIO low for at
 *        least 1 µs, then release it; print nothing.
 */
void th_timestamp(void);

#ifdef __cplusplus
}
#endif

#endif /* TH_TIMER_H */
