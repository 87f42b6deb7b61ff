/* Receipt printers: choosing the back end, settling the QR mode, and what
 * the three ESC/POS back ends share (the status questions and the byte
 * stream). */
#include "printer_backend.h"

#include "escpos.h"
#include "log.h"
#include "slip_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(enum dk_printer_kind kind)
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
    log_debug("printer %s: opened (type %s, %s QR code)", p->label, kind_name(pc->kind),
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
