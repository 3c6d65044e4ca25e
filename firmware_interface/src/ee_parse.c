/* Text helpers without libc's pitfalls: no strtok state, no atoi overflow. */
#include <limits.h>
#include <stddef.h>

#include "ee_api.h"
#include "ee_internal.h"

size_t ee_tokenize(char *text, char **tokens, size_t max_tokens)
{
    size_t count = 0u;
    char *p = text;

    while (p != NULL && *p != '\0' && count < max_tokens) {
        while (*p == ' ') {
            ++p;
        }
        if (*p == '\0') {
            break;
        }
        tokens[count++] = p;
        while (*p != '\0' && *p != ' ') {
            ++p;
        }
        if (*p == ' ') {
            *p++ = '\0';
        }
    }
    return count;
}

int ee_hex_digit(char c, unsigned *value)
{
    if (c >= '0' && c <= '9') {
        *value = (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
        *value = (unsigned)(c - 'a') + 10u;
    } else if (c >= 'A' && c <= 'F') {
        *value = (unsigned)(c - 'A') + 10u;
    } else {
        return 0;
    }
    return 1;
}

long ee_hexdec(const char *hex)
{
    unsigned digit;
    long value = 0;

    if (hex == NULL || *hex == '\0') {
        return -1;
    }
    for (; *hex != '\0'; ++hex) {
        if (!ee_hex_digit(*hex, &digit) || value > (LONG_MAX - (long)digit) / 16) {
            return -1;
        }
        value = value * 16 + (long)digit;
    }
    return value;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

long ee_atol(const char *text)
{
    int negative = 0;
    long value = 0;

    if (text == NULL) {
        return 0;
    }
    while (is_blank(*text)) {
        ++text;
    }
    if (*text == '+' || *text == '-') {
        negative = (*text == '-');
        ++text;
    }
    for (; *text >= '0' && *text <= '9'; ++text) {
        long digit = (long)(*text - '0');
        if (value > (LONG_MAX - digit) / 10) {
            return negative ? LONG_MIN : LONG_MAX;
        }
        value = value * 10 + digit;
    }
    return negative ? -value : value;
}
