/* escpos-slip: write the ESC/POS bytes (or the PNG image) of a fixed
 * sample slip around a given receipt payload, to see and test what the
 * printer back ends send without a printer.
 *
 *   escpos-slip [--width 58|80] [--native|--raster] [--png WIDTH_PX] PAYLOAD OUT
 *
 * PAYLOAD is a file holding the payload bytes exactly ("-" for stdin); OUT
 * is written ("-" for stdout).  The slip's words are Spanish, so the code
 * page conversion shows.  Exit status: 0 written, 2 bad usage or a payload
 * the slip cannot hold, 3 a file that cannot be read or written. */
#include "error.h"
#include "escpos.h"
#include "fileio.h"
#include "slip_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest payload read; a QR code holds 2331 bytes, so a larger one
 * is still read and then refused by the encoder with its own message. */
#define PAYLOAD_READ_MAX (64u << 10)

static const char usage[] =
    "usage: escpos-slip [--width 58|80] [--native|--raster] [--png WIDTH_PX] PAYLOAD OUT\n";

struct options {
    int width_mm;
    bool native;
    int png_width; /* 0: ESC/POS bytes */
    const char *payload;
    const char *out;
};

static const struct dk_slip_device sample_devices[] = {
    {.tag = "RPS-104233", .model = "Dell Latitude 3420", .charger = true},
    {.tag = "RPS-CB-88121", .model = "Lenovo 100e Chromebook", .charger = false},
    {.tag = "RPS-TB-55120", .model = "", .charger = true},
};

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    int i;

    *o = (struct options){.width_mm = 80, .native = true};
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--native") == 0) {
            o->native = true;
        } else if (strcmp(argv[i], "--raster") == 0) {
            o->native = false;
        } else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc) {
            if (!parse_int(argv[++i], 1, 1000, &o->width_mm))
                return -1;
        } else if (strcmp(argv[i], "--png") == 0 && i + 1 < argc) {
            if (!parse_int(argv[++i], 1, 100000, &o->png_width))
                return -1;
        } else {
            return -1;
        }
    }
    if (argc - i != 2)
        return -1;
    o->payload = argv[i];
    o->out = argv[i + 1];
    return 0;
}

static int read_payload(const char *path, char **buf, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return file_read_fd(STDIN_FILENO, PAYLOAD_READ_MAX, buf, len);
    return file_read_path(path, PAYLOAD_READ_MAX, buf, len);
}

static int write_out(const char *path, const unsigned char *data, size_t len)
{
    int fd = strcmp(path, "-") == 0 ? STDOUT_FILENO
                                    : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc;

    if (fd < 0)
        return -errno;
    rc = file_write_all(fd, data, len);
    if (fd != STDOUT_FILENO && close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct dk_error err = {{0}};
    struct dk_slip slip = {
        .district = "Richmond Public Schools",
        .site_name = "Centro de Recursos Campbell",
        .receipt_id = "R-7K3M9QXZJ",
        .when_local = "2026-12-04 10:37 EST",
        .devices = sample_devices,
        .n_devices = sizeof(sample_devices) / sizeof(sample_devices[0]),
        .words = {
            .title = "Recibo de devoluci\xc3\xb3n",
            .receipt = "Recibo",
            .device = "Equipo",
            .charger = "Cargador",
            .yes = "S\xc3\xad",
            .no = "No",
            .pending = "Pendiente de verificaci\xc3\xb3n t\xc3\xa9" "cnica",
            .scan_qr = "Escanee para comprobar este recibo",
        },
    };
    char *payload = NULL;
    size_t payload_len = 0;
    unsigned char *out = NULL;
    size_t out_len = 0;
    int rc;
    int status = 0;

    if (parse_args(argc, argv, &o) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    rc = read_payload(o.payload, &payload, &payload_len);
    if (rc != 0) {
        fprintf(stderr, "escpos-slip: cannot read %s: %s\n", o.payload, strerror(-rc));
        status = rc == -EFBIG ? 2 : 3;
        goto out;
    }
    slip.payload = (const unsigned char *)payload;
    slip.payload_len = payload_len;
    if (o.png_width != 0)
        rc = slip_image_png(&slip, o.png_width, &out, &out_len, &err);
    else
        rc = escpos_slip(&slip, o.width_mm, o.native, &out, &out_len, &err);
    if (rc != 0) {
        fprintf(stderr, "escpos-slip: %s\n", err.msg);
        status = dk_exit_status(rc);
        goto out;
    }
    rc = write_out(o.out, out, out_len);
    if (rc != 0) {
        fprintf(stderr, "escpos-slip: cannot write %s: %s\n", o.out, strerror(-rc));
        status = 3;
    }
out:
    free(payload);
    free(out);
    return status;
}
