/*
 * Test driver for the ad01 runtime (not firmware): reads windows on stdin, writes results.
 *   ad01_check int8  : 640 int8 in  -> 640 int8 out (raw), per window
 *   ad01_check float : 2560 bytes float32 LE in -> "%.17g\n" MSE score, per window
 * An optional second argument (double | single | ties-up) overrides the model's rounding.
 */
#include <stdio.h>
#include <string.h>

#include "ad01_model.h"

int main(int argc, char **argv)
{
    static int8_t scratch[AD01_SCRATCH_BYTES];
    int8_t q[AD01_INPUT_VALUES];
    int8_t out[AD01_INPUT_VALUES];
    float x[AD01_INPUT_VALUES];
    int floats = argc > 1 && strcmp(argv[1], "float") == 0;
    fc_model_t model = ad01_model;

    if (argc > 2) {
        model.rounding = strcmp(argv[2], "single") == 0    ? FC_ROUNDING_SINGLE
                         : strcmp(argv[2], "ties-up") == 0 ? FC_ROUNDING_DOUBLE_TIES_UP
                                                           : FC_ROUNDING_DOUBLE;
    }

    for (;;) {
        if (floats) {
            if (fread(x, sizeof x, 1u, stdin) != 1u) {
                break;
            }
            ad01_quantize(&model, x, q, AD01_INPUT_VALUES);
        } else if (fread(q, sizeof q, 1u, stdin) != 1u) {
            break;
        }
        if (fc_model_run(&model, q, out, scratch, sizeof scratch) != EE_STATUS_OK) {
            return 1;
        }
        if (floats) {
            printf("%.17g\n", ad01_mse(&model, out, x, AD01_INPUT_VALUES));
        } else {
            fwrite(out, sizeof out, 1u, stdout);
        }
    }
    return 0;
}
