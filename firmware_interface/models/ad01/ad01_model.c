/* ad01 input conversion and score, matching reference_models/dut_outputs.py exactly. */
#include "ad01_model.h"

#include <math.h>

void ad01_quantize(const fc_model_t *model, const float *x, int8_t *q, size_t count)
{
    size_t i;

    for (i = 0u; i < count; ++i) {
        float scaled = x[i] / model->input_scale; /* float division, like the port */
        double r = round((double)scaled) + (double)model->input_zero_point;
        r = r < -128.0 ? -128.0 : (r > 127.0 ? 127.0 : r);
        q[i] = (int8_t)r;
    }
}

/* numpy's pairwise summation (pairwise_sum in loops_utils.h), blocks of 8, PW_BLOCKSIZE 128 */
static double pairwise_sum(const double *a, size_t n)
{
    size_t i;
    size_t j;

    if (n < 8u) {
        double res = 0.0;
        for (i = 0u; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128u) {
        double r[8];
        double res;
        for (j = 0u; j < 8u; ++j) {
            r[j] = a[j];
        }
        for (i = 8u; i < n - (n % 8u); i += 8u) {
            for (j = 0u; j < 8u; ++j) {
                r[j] += a[i + j];
            }
        }
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    {
        size_t n2 = n / 2u;
        n2 -= n2 % 8u;
        return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
    }
}

double ad01_mse(const fc_model_t *model, const int8_t *out, const float *x, size_t count)
{
    double sq[AD01_INPUT_VALUES];
    double scale = (double)model->output_scale;
    size_t i;

    if (count == 0u || count > AD01_INPUT_VALUES) {
        return NAN;
    }
    for (i = 0u; i < count; ++i) {
        double d = ((double)out[i] - (double)model->output_zero_point) * scale - (double)x[i];
        sq[i] = d * d;
    }
    return pairwise_sum(sq, count) / (double)count;
}
