/**
 * @file ee_status.h
 * @brief Status codes returned by every ee_* and th_* function that can fail.
 *
 * Generated at compile time from the EE_STATUS rows of messages.def (the single table of
 * message formats and error codes).
 */
#ifndef EE_STATUS_H
#define EE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Result of an operation; EE_STATUS_OK (0) is success. */
typedef enum ee_status {
#define EE_MSG(name, fmt)
#define EE_ERR(name, text)
#define EE_TEXT(name, text)
#define EE_STATUS(name, value, description) EE_STATUS_##name = (value),
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
    EE_STATUS__END
} ee_status_t;

/**
 * @brief Human-readable description of a status code.
 * @param status A value returned by an ee_* / th_* function.
 * @return A static string (never NULL; "unknown status" for values outside the table).
 */
const char *ee_status_str(ee_status_t status);

#ifdef __cplusplus
}
#endif

#endif /* EE_STATUS_H */
