/*
 * Recording port. Call log letters: S serial init, I timestamp init, T timestamp,
 * F final init, L load tensor, N infer, P pre, Q post, R results.
 */
#include "recording_port.h"

#include <string.h>

#include "ee_print.h"
#include "th_model.h"
#include "th_serial.h"
#include "th_timer.h"

recording_port_t rec;

static void log_call(char c)
{
    if (rec.calls_len + 1u < REC_CALLS_SIZE) {
        rec.calls[rec.calls_len++] = c;
        rec.calls[rec.calls_len] = '\0';
    }
}

void rec_reset(void)
{
    memset(&rec, 0, sizeof rec);
    rec.tensor_bytes = 16u;
    rec.clock_us = 1000u;
}

void rec_clear_output(void)
{
    rec.output_len = 0u;
    rec.output[0] = '\0';
    rec.calls_len = 0u;
    rec.calls[0] = '\0';
}

ee_status_t th_serialport_initialize(void)
{
    log_call('S');
    return EE_STATUS_OK;
}

ee_status_t th_uart_write(const char *data, size_t len)
{
    if (rec.output_len + len + 1u > REC_OUTPUT_SIZE) {
        return EE_STATUS_NO_SPACE;
    }
    memcpy(rec.output + rec.output_len, data, len);
    rec.output_len += len;
    rec.output[rec.output_len] = '\0';
    return EE_STATUS_OK;
}

void rec_receive(const void *data, size_t len)
{
    size_t room = REC_INPUT_SIZE - rec.input_len;
    size_t n = len < room ? len : room;

    memcpy(rec.input + rec.input_len, data, n);
    rec.input_len += n;
}

int th_getchar(void)
{
    return rec.input_pos < rec.input_len ? rec.input[rec.input_pos++] : -1;
}

int rec_read_timeout(uint32_t timeout_us)
{
    rec.last_timeout_us = timeout_us;
    if (rec.input_pos >= rec.input_len) {
        rec.timeouts++;
        return -1;
    }
    return rec.input[rec.input_pos++];
}

ee_status_t th_timestamp_initialize(void)
{
    log_call('I');
    return EE_STATUS_OK;
}

void th_timestamp(void)
{
    log_call('T');
    ee_print_lap_us(rec.clock_us);
}

ee_status_t th_final_initialize(void)
{
    log_call('F');
    return rec.fail_init ? EE_STATUS_ERROR : EE_STATUS_OK;
}

ee_status_t th_load_tensor(const uint8_t *db, size_t loaded)
{
    size_t n = loaded < sizeof rec.tensor ? loaded : sizeof rec.tensor;

    log_call('L');
    rec.loaded = loaded;
    memcpy(rec.tensor, db, n);
    if (loaded < rec.tensor_bytes) {
        ee_println(EE_MSG_INPUT_SIZE_MISMATCH, (unsigned long)loaded,
                   (unsigned long)rec.tensor_bytes);
    }
    return rec.fail_load ? EE_STATUS_ERROR : EE_STATUS_OK;
}

ee_status_t th_infer(void)
{
    log_call('N');
    rec.infer_calls++;
    rec.clock_us += 1000u;
    return (rec.fail_infer_at != 0 && rec.infer_calls == rec.fail_infer_at) ? EE_STATUS_ERROR
                                                                            : EE_STATUS_OK;
}

ee_status_t th_results(void)
{
    static const double values[2] = {0.25, 0.75};

    log_call('R');
    if (rec.fail_results) {
        return EE_STATUS_ERROR;
    }
    return ee_print_results(values, 2u, 3);
}

void th_pre(void)
{
    log_call('P');
}

void th_post(void)
{
    log_call('Q');
}
