/*
 * Host (POSIX) port: the protocol layer as a process whose UART is stdio or a pty.
 *
 *   tinyperf-dut [--pty] [--vendor S] [--model-id S] [--db-size N] [--input-bytes N]
 *                [--outputs N] [--sim-infer-us N] [--energy] [--no-fast-load]
 *
 * --pty prints "link: /dev/pts/N" on stderr once the pty is ready and the banner queued;
 * otherwise commands come on stdin and responses go to stdout. The process ends when the
 * input closes (stdio) or on SIGTERM/SIGINT. Fast load (`fl`) is offered unless
 * --no-fast-load (then the dialogue is the standard one only).
 */
#define _XOPEN_SOURCE 600
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ee_api.h"
#include "posix_port.h"
#include "th_serial.h"

/* The model is chosen at build time (make host / host-ad01 / host-kws01), as on a board. */
#if defined(POSIX_MODEL_AD01) || defined(POSIX_MODEL_KWS01)
#ifdef POSIX_MODEL_AD01
#include "ad01_model.h"
#define MODEL_ID AD01_MODEL_ID
#define MODEL_DB_SIZE AD01_DB_SIZE
#else
#include "kws01_model.h"
#define MODEL_ID KWS01_MODEL_ID
#define MODEL_DB_SIZE KWS01_DB_SIZE
#endif
static int configure_model(size_t input_bytes, size_t outputs)
{
    (void)input_bytes; /* fixed by the model */
    (void)outputs;
    return 0;
}
#else
#include "standin.h"
#define MODEL_ID STANDIN_MODEL_ID
#define MODEL_DB_SIZE STANDIN_DB_SIZE
static int configure_model(size_t input_bytes, size_t outputs)
{
    standin_set_inference_hook(posix_timer_on_inference);
    return standin_configure(input_bytes, outputs);
}
#endif

#define DB_CAPACITY 32768u

static uint8_t db_buffer[DB_CAPACITY];
static ee_ctx_t ctx;
static char pty_name[128];

typedef struct options {
    int pty;
    int no_fast_load;
    ee_config_t config;
    size_t db_size;
    size_t input_bytes;
    size_t outputs;
    unsigned long sim_infer_us;
} options_t;

static int parse_size(const char *text, unsigned long *out)
{
    char *end = NULL;
    unsigned long value;

    if (text == NULL || *text == '\0' || *text == '-') {
        return -1;
    }
    value = strtoul(text, &end, 10);
    if (*end != '\0') {
        return -1;
    }
    *out = value;
    return 0;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    int i;
    unsigned long v = 0;

    for (i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *next = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (strcmp(a, "--pty") == 0) {
            o->pty = 1;
            continue;
        }
        if (strcmp(a, "--energy") == 0) {
            o->config.energy_mode = 1;
            continue;
        }
        if (strcmp(a, "--no-fast-load") == 0) {
            o->no_fast_load = 1;
            continue;
        }
        if (next == NULL) {
            return -1;
        }
        ++i;
        if (strcmp(a, "--vendor") == 0) {
            o->config.vendor = next;
        } else if (strcmp(a, "--model-id") == 0) {
            o->config.model_id = next;
        } else if (parse_size(next, &v) != 0) {
            return -1;
        } else if (strcmp(a, "--db-size") == 0 && v > 0 && v <= DB_CAPACITY) {
            o->db_size = (size_t)v;
        } else if (strcmp(a, "--input-bytes") == 0) {
            o->input_bytes = (size_t)v;
        } else if (strcmp(a, "--outputs") == 0) {
            o->outputs = (size_t)v;
        } else if (strcmp(a, "--sim-infer-us") == 0 && v <= 0xFFFFFFFFul) {
            o->sim_infer_us = v;
        } else {
            return -1;
        }
    }
    return 0;
}

static int open_pty(void)
{
    struct termios tio;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    int slave;
    const char *name;

    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        return -1;
    }
    name = ptsname(master);
    /* Keep one slave fd open: the master then never sees EOF/EIO between host sessions. */
    slave = name != NULL ? open(name, O_RDWR | O_NOCTTY) : -1;
    if (slave < 0 || tcgetattr(slave, &tio) != 0) {
        return -1;
    }
    /* cfmakeraw() is not POSIX: the same flags by hand */
    tio.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    tio.c_oflag &= ~(tcflag_t)OPOST;
    tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    tio.c_cflag |= CS8;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    tcsetattr(slave, TCSANOW, &tio);
    posix_serial_use_fds(master, master);
    snprintf(pty_name, sizeof pty_name, "%s", name);
    return 0;
}

int main(int argc, char **argv)
{
    options_t o;
    int c;

    memset(&o, 0, sizeof o);
    o.config.model_id = MODEL_ID;
    o.db_size = MODEL_DB_SIZE;
    o.input_bytes = 490u;
    o.outputs = 12u;
    if (parse_args(argc, argv, &o) != 0 || configure_model(o.input_bytes, o.outputs) != 0
        || o.db_size > DB_CAPACITY) {
        fprintf(stderr, "usage: %s [--pty] [--vendor S] [--model-id S] [--db-size N<=%u] "
                        "[--input-bytes N] [--outputs N] [--sim-infer-us N] [--energy] "
                        "[--no-fast-load]\n",
                argv[0], DB_CAPACITY);
        return 2;
    }
    posix_timer_use_virtual((uint32_t)o.sim_infer_us);
    posix_timer_use_energy_mode(o.config.energy_mode);
    if (o.pty && open_pty() != 0) {
        perror("pty");
        return 1;
    }
    if (ee_benchmark_initialize(&ctx, &o.config, db_buffer, o.db_size) != EE_STATUS_OK) {
        fprintf(stderr, "initialisation failed\n");
        return 1;
    }
    if (!o.no_fast_load
        && ee_fast_load_enable(&ctx, th_getchar_timeout, POSIX_RX_BYTES, EE_FAST_LOAD_TIMEOUT_US)
               != EE_STATUS_OK) {
        fprintf(stderr, "fast load: bad settings\n");
        return 1;
    }
    if (o.pty) {
        /* after the banner is queued: a host that opens the port now sees a quiet line */
        fprintf(stderr, "link: %s\n", pty_name);
    }
    fflush(stderr);
    while ((c = th_getchar()) >= 0) {
        (void)ee_serial_callback(&ctx, (char)c);
    }
    return 0;
}
