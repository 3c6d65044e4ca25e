/**
 * @file ee_messages.h
 * @brief Every DUT message format and error text, expanded from messages.def.
 *
 * Use the accessors with the generated ids, e.g. ee_msg(EE_MSG_NAME) is "m-name-dut-[%s]",
 * ee_err(EE_ERR_HEX_ODD) is "Insufficent number of hex digits" (typo kept on purpose).
 * All strings are static and live for the whole program.
 */
#ifndef EE_MESSAGES_H
#define EE_MESSAGES_H

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Ids of whole-line printf formats (EE_MSG rows). */
typedef enum ee_msg_id {
#define EE_MSG(name, fmt) EE_MSG_##name,
#define EE_ERR(name, text)
#define EE_TEXT(name, text)
#define EE_STATUS(name, value, description)
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
    EE_MSG__COUNT
} ee_msg_id_t;

/** @brief Ids of error texts printed inside "e-[...]" (EE_ERR rows). */
typedef enum ee_err_id {
#define EE_MSG(name, fmt)
#define EE_ERR(name, text) EE_ERR_##name,
#define EE_TEXT(name, text)
#define EE_STATUS(name, value, description)
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
    EE_ERR__COUNT
} ee_err_id_t;

/** @brief Ids of fixed texts: firmware profile, default vendor, help lines (EE_TEXT rows). */
typedef enum ee_text_id {
#define EE_MSG(name, fmt)
#define EE_ERR(name, text)
#define EE_TEXT(name, text) EE_TEXT_##name,
#define EE_STATUS(name, value, description)
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
    EE_TEXT__COUNT
} ee_text_id_t;

/**
 * @brief printf format of one response line (without the "\r\n" line end).
 * @param id An EE_MSG_* id.
 * @return The static format string, or "" for an id outside the table.
 */
const char *ee_msg(ee_msg_id_t id);

/**
 * @brief Error text shown inside "e-[...]".
 * @param id An EE_ERR_* id.
 * @return The static text, or "" for an id outside the table.
 */
const char *ee_err(ee_err_id_t id);

/**
 * @brief A fixed text (profile string, default vendor, help line).
 * @param id An EE_TEXT_* id.
 * @return The static text, or "" for an id outside the table.
 */
const char *ee_text(ee_text_id_t id);

#ifdef __cplusplus
}
#endif

#endif /* EE_MESSAGES_H */
