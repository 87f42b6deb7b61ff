/* Receipt printers: choosing the back end, settling the QR mode, and what
 * the three ESC/POS back ends share (the status questions and the byte
 * stream). */
#include "printer_backend.h"

#include "escpos.h"
#include "log.h"
#include "slip_image.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *printer_kind_name(enum dk_printer_kind kind)
{
    switch (kind) {
    case DK_PRINTER_USB:
        return "usb";
    case DK_PRINTER_USBLP:
        return "usblp";
    case DK_PRINTER_TCP:
        return "tcp";
    case DK_PRINTER_CUPS:
        return "cups";
    case DK_PRINTER_FILE:
        return "file";
    }
    return "unknown";
}

/* "NAME (where)", for every message about this printer. */
static void make_label(const struct dk_printer_config *pc, char *buf, size_t size)
{
    switch (pc->kind) {
    case DK_PRINTER_TCP:
        snprintf(buf, size, "%s (%s:%d)", pc->name, pc->host, pc->port);
        break;
    case DK_PRINTER_USB:
        if (pc->vid >= 0 && pc->pid >= 0)
            snprintf(buf, size, "%s (usb %04x:%04x)", pc->name, (unsigned)pc->vid,
                     (unsigned)pc->pid);
        else if (pc->vid >= 0)
            snprintf(buf, size, "%s (usb %04x:any)", pc->name, (unsigned)pc->vid);
        else
            snprintf(buf, size, "%s (usb, first printer found)", pc->name);
        break;
    case DK_PRINTER_CUPS:
        snprintf(buf, size, "%s (cups queue %s)", pc->name, pc->device);
        break;
    case DK_PRINTER_USBLP:
    case DK_PRINTER_FILE:
        snprintf(buf, size, "%s (%s)", pc->name, pc->device);
        break;
    }
}

static bool settle_native_qr(const struct dk_printer_config *pc)
{
    switch (pc->qr) {
    case DK_QR_NATIVE:
        return true;
    case DK_QR_RASTER:
        return false;
    case DK_QR_AUTO:
        break;
    }
    return escpos_model_has_qr(pc->model);
}

int printer_open(const struct dk_printer_config *pc, struct dk_printer **out,
                 struct dk_error *err)
{
    struct dk_printer *p;
    int rc;

    if (pc == NULL || out == NULL)
        return dk_error_set(err, -EINVAL, "printer_open: no printer given");
    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    p->cfg = pc;
    make_label(pc, p->label, sizeof(p->label));
    p->native_qr = settle_native_qr(pc);
    switch (pc->kind) {
    case DK_PRINTER_USB:
        rc = printer_usb_open(p, err);
        break;
    case DK_PRINTER_USBLP:
        rc = printer_usblp_open(p, err);
        break;
    case DK_PRINTER_TCP:
        rc = printer_tcp_open(p, err);
        break;
    case DK_PRINTER_CUPS:
        rc = printer_cups_open(p, err);
        break;
    case DK_PRINTER_FILE:
        rc = printer_file_open(p, err);
        break;
    default:
        rc = dk_error_set(err, -EINVAL, "printer %s has an unknown type", pc->name);
        break;
    }
    if (rc != 0) {
        free(p);
        return rc;
    }
    log_debug("printer %s: opened (type %s, %s QR code)", p->label, printer_kind_name(pc->kind),
              p->native_qr ? "native" : "raster");
    *out = p;
    return 0;
}

int printer_query(struct dk_printer *p, enum dk_printer_state *state)
{
    if (p == NULL || state == NULL)
        return -EINVAL;
    return p->ops->query(p, state);
}

int printer_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err)
{
    if (p == NULL || slip == NULL)
        return dk_error_set(err, -EINVAL, "printer_print: no printer or slip given");
    return p->ops->print(p, slip, err);
}

void printer_close(struct dk_printer *p)
{
    if (p == NULL)
        return;
    p->ops->close(p);
    free(p);
}

const char *printer_state_name(enum dk_printer_state state)
{
    switch (state) {
    case DK_PRINTER_READY:
        return "ready";
    case DK_PRINTER_PAPER_OUT:
        return "paper out";
    case DK_PRINTER_COVER_OPEN:
        return "cover open";
    case DK_PRINTER_OFFLINE:
        return "offline";
    case DK_PRINTER_NO_ANSWER:
        return "not answering";
    }
    return "not answering";
}

/* ---- shared by the ESC/POS back ends ---- */

enum dk_printer_state printer_escpos_state(struct dk_printer *p,
                                           int (*ask)(struct dk_printer *p,
                                                      const unsigned char q[3]))
{
    int reply[3];

    /* One question at a time: an unanswered one leaves no reply to be
     * taken for the next question's. */
    for (int i = 0; i < 3; i++) {
        const unsigned char *q = escpos_status_query + i * ESCPOS_STATUS_QUERY_ONE;

        reply[i] = ask(p, q);
        if (reply[i] < 0) {
            log_debug("printer %s: no answer to DLE EOT %u: %s", p->label, q[2],
                      strerror(-reply[i]));
            return DK_PRINTER_NO_ANSWER;
        }
    }
    return escpos_state(reply[0], reply[1], reply[2]);
}

int printer_escpos_render(const struct dk_printer *p, const struct dk_slip *slip,
                          unsigned char **out, size_t *len, struct dk_error *err)
{
    return escpos_slip(slip, p->cfg->width_mm, p->native_qr, out, len, err);
}

int printer_slip_png(const struct dk_printer *p, const struct dk_slip *slip,
                     unsigned char **png, size_t *len, struct dk_error *err)
{
    int width = p->cfg->width_mm == 58 ? ESCPOS_DOTS_58MM : ESCPOS_DOTS_80MM;

    return slip_image_png(slip, width, png, len, err);
}

long long printer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int printer_wait_fd(int fd, short events, int timeout_ms)
{
    long long deadline = printer_now_ms() + timeout_ms;
    struct pollfd pfd = {.fd = fd, .events = events};

    for (;;) {
        long long left = deadline - printer_now_ms();
        int n = poll(&pfd, 1, left > 0 ? (int)left : 0);

        /* An error or hang-up shows in the read or write that follows. */
        if (n > 0)
            return 1;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

void printer_drain(int fd)
{
    unsigned char junk[256];

    while (read(fd, junk, sizeof(junk)) > 0)
        ;
}

int printer_read_reply(int fd, int timeout_ms, int eof_error)
{
    for (;;) {
        unsigned char reply;
        ssize_t n;
        int rc = printer_wait_fd(fd, POLLIN, timeout_ms);

        if (rc < 0)
            return rc;
        n = read(fd, &reply, 1);
        if (n == 1)
            return reply;
        if (n == 0)
            return eof_error;
        if (errno != EINTR && errno != EAGAIN)
            return -errno;
    }
}
