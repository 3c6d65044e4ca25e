/* The message and status tables, expanded from messages.def. */
#include "ee_messages.h"
#include "ee_status.h"

#include <stddef.h>

static const char *const msg_formats[EE_MSG__COUNT] = {
#define EE_MSG(name, fmt) fmt,
#define EE_ERR(name, text)
#define EE_TEXT(name, text)
#define EE_STATUS(name, value, description)
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
};

static const char *const err_texts[EE_ERR__COUNT] = {
#define EE_MSG(name, fmt)
#define EE_ERR(name, text) text,
#define EE_TEXT(name, text)
#define EE_STATUS(name, value, description)
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
};

static const char *const fixed_texts[EE_TEXT__COUNT] = {
#define EE_MSG(name, fmt)
#define EE_ERR(name, text)
#define EE_TEXT(name, text) text,
#define EE_STATUS(name, value, description)
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
};

const char *ee_msg(ee_msg_id_t id)
{
    return ((unsigned)id < (unsigned)EE_MSG__COUNT) ? msg_formats[id] : "";
}

const char *ee_err(ee_err_id_t id)
{
    return ((unsigned)id < (unsigned)EE_ERR__COUNT) ? err_texts[id] : "";
}

const char *ee_text(ee_text_id_t id)
{
    return ((unsigned)id < (unsigned)EE_TEXT__COUNT) ? fixed_texts[id] : "";
}

const char *ee_status_str(ee_status_t status)
{
    switch (status) {
#define EE_MSG(name, fmt)
#define EE_ERR(name, text)
#define EE_TEXT(name, text)
#define EE_STATUS(name, value, description) case EE_STATUS_##name: return description;
#include "messages.def"
#undef EE_MSG
#undef EE_ERR
#undef EE_TEXT
#undef EE_STATUS
    default:
        return "unknown status";
    }
}
