/*
 * Test driver for the kws01 runtime (not firmware): 490 int8 bytes per input on stdin,
 * 12 int8 softmax outputs per input on stdout (raw). An optional argument
 * (double | single | ties-up) overrides the model's requantisation rounding.
 */
#include <stdio.h>
#include <string.h>

#include "kws01_model.h"

int main(int argc, char **argv)
{
    static int8_t scratch[KWS01_SCRATCH_BYTES];
    int8_t in[KWS01_INPUT_BYTES];
    int8_t out[KWS01_OUTPUTS];
    kws01_model_t model = kws01_model;

    if (argc > 1) {
        model.rounding = strcmp(argv[1], "single") == 0    ? FC_ROUNDING_SINGLE
                         : strcmp(argv[1], "ties-up") == 0 ? FC_ROUNDING_DOUBLE_TIES_UP
                                                           : FC_ROUNDING_DOUBLE;
    }
    while (fread(in, sizeof in, 1u, stdin) == 1u) {
        if (kws01_model_run(&model, in, out, scratch, sizeof scratch) != EE_STATUS_OK) {
            return 1;
        }
        fwrite(out, sizeof out, 1u, stdout);
    }
    return 0;
}
