/* Private to drivers/: what each printer back end provides behind
 * drivers/printer.h.  A back end fills in a struct dk_printer's ops and
 * impl in its open function; printer.c dispatches.
 *
 * The three ESC/POS back ends (usb, usblp, tcp) differ only in how bytes
 * travel, so they share the status query and the rendering below and
 * provide a way to ask one status question and a way to send bytes. */
#ifndef DK_PRINTER_BACKEND_H
#define DK_PRINTER_BACKEND_H

#include "printer.h"

struct dk_printer_ops {
    /* As printer_query (p and state are not NULL). */
    int (*query)(struct dk_printer *p, enum dk_printer_state *state);
    /* As printer_print (p and slip are not NULL). */
    int (*print)(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err);
    /* Free impl and close what the back end opened; impl may be NULL. */
    void (*close)(struct dk_printer *p);
};

struct dk_printer {
    const struct dk_printer_ops *ops;
    const struct dk_printer_config *cfg;
    /* For messages: "lobby (127.0.0.1:9100)", "lobby (usb 04b8:0e15)". */
    char label[DK_PATH_MAX + 96];
    bool native_qr; /* the QR mode settled: the printer draws the QR code */
    void *impl;
};

/* Each back end's open: set p->ops and p->impl (p->cfg, p->label and
 * p->native_qr are already set), or return -errno / DK_E... with err
 * naming the printer; p->impl is then NULL or already freed. */
int printer_tcp_open(struct dk_printer *p, struct dk_error *err);
int printer_usblp_open(struct dk_printer *p, struct dk_error *err);
int printer_usb_open(struct dk_printer *p, struct dk_error *err);
int printer_cups_open(struct dk_printer *p, struct dk_error *err);
int printer_file_open(struct dk_printer *p, struct dk_error *err);

/* ---- shared by the ESC/POS back ends (printer.c) ---- */

/* Ask DLE EOT 1, 2 and 4 in turn and decode the replies.  ask is the
 * transport's one status question: send the three query bytes q and wait
 * (the config's timeout_ms) for the one-byte reply; it returns the reply
 * 0-255, or a negative errno (-ETIMEDOUT when nothing came).  Stops at the
 * first question not answered: DK_PRINTER_NO_ANSWER. */
enum dk_printer_state printer_escpos_state(struct dk_printer *p,
                                           int (*ask)(struct dk_printer *p,
                                                      const unsigned char q[3]));

/* The slip as the ESC/POS byte stream for p (its width and QR mode);
 * *out is malloc'd, the caller frees.  DK_EINPUT when the slip cannot be
 * laid out, -ENOMEM. */
int printer_escpos_render(const struct dk_printer *p, const struct dk_slip *slip,
                          unsigned char **out, size_t *len, struct dk_error *err);

/* The slip as a PNG the width of p's paper's printable area. */
int printer_slip_png(const struct dk_printer *p, const struct dk_slip *slip,
                     unsigned char **png, size_t *len, struct dk_error *err);

/* Helpers for the back ends that speak ESC/POS over a file descriptor
 * opened non-blocking (tcp, usblp). */

/* CLOCK_MONOTONIC in milliseconds. */
long long printer_now_ms(void);

/* poll fd for events within timeout_ms, going on after EINTR with the
 * time left.  1 when ready, -ETIMEDOUT, or -errno. */
int printer_wait_fd(int fd, short events, int timeout_ms);

/* Throw away bytes that came unasked (a late answer to an earlier
 * question, or a printer's automatic status), so that the next byte read
 * answers the next question. */
void printer_drain(int fd);

/* The one-byte answer to a status question, waited for up to timeout_ms:
 * the byte (0-255), -ETIMEDOUT, eof_error when the printer closed, or
 * -errno. */
int printer_read_reply(int fd, int timeout_ms, int eof_error);

#endif
