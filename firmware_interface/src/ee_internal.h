/* Private to the protocol layer: command handlers shared between its source files. */
#ifndef EE_INTERNAL_H
#define EE_INTERNAL_H

#include "ee_api.h"

/* A command handler gets the tokens after the verb. */
typedef ee_status_t (*ee_handler_fn)(ee_ctx_t *ctx, char **args, size_t nargs);

ee_status_t ee_cmd_db(ee_ctx_t *ctx, char **args, size_t nargs);
ee_status_t ee_cmd_infer(ee_ctx_t *ctx, char **args, size_t nargs);
ee_status_t ee_cmd_fl(ee_ctx_t *ctx, char **args, size_t nargs);

/* Split text in place on ' ' (repeated spaces collapse, like strtok); returns the count. */
size_t ee_tokenize(char *text, char **tokens, size_t max_tokens);

/* 1 if c is a hex digit of either case, and its value in *value. */
int ee_hex_digit(char c, unsigned *value);

#endif /* EE_INTERNAL_H */
