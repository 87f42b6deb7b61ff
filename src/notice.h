/* The words of the messages the kiosk sends: the receipt email, the
 * service-desk ticket for a desktop, and the technician's confirmation that
 * a device arrived.  The receipt and the confirmation are written in the
 * person's language from a message catalog (i18n.h); the ticket, read by
 * the service desk, stays in English. */
#ifndef DK_NOTICE_H
#define DK_NOTICE_H

#include "config.h"
#include "i18n.h"
#include "inventory.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct dk_notice_device {
    const struct dk_asset *asset; /* tag, type and model; model may be "" */
    bool charger;
};

/* A message's subject, text and HTML bodies (malloc'd, the caller frees
 * each with notice_free; html is NULL for a text-only message). */
struct dk_notice {
    char *subject;
    char *text;
    char *html;
};

/* The receipt email for the n devices of one visit, in cat's language
 * (email.receipt.* texts; English fills any the catalog lacks).  name and
 * when are the person's name and the local time; qr_cid is the Content-ID
 * of the QR code image the HTML shows.  Every value is escaped in the HTML.
 * 0 or -ENOMEM; the caller frees out with notice_free. */
int notice_receipt(const struct dk_config *cfg, const struct dk_catalog *cat,
                   const char *receipt_id, const char *name, const char *when,
                   const struct dk_notice_device *devices, size_t n, const char *qr_cid,
                   struct dk_notice *out);

/* The service-desk ticket for a desktop left where it is (text only).
 * requester may be NULL when the person gave no name. */
int notice_desktop_ticket(const struct dk_config *cfg, const struct dk_asset *desktop,
                          const struct dk_staff *requester, const char *when,
                          struct dk_notice *out);

/* What the confirmation of a received device says (src/notice_intake.c).
 * Text values are as stored; times are already local text. */
struct dk_notice_received {
    const struct dk_asset *asset; /* tag and model; model "" for an unknown device */
    const char *name;             /* the person who returned it */
    const char *site_name;        /* where it was dropped */
    const char *returned_when;
    const char *received_when;
    const char *receipt_id;       /* "" when the return has none */
    bool charger_declared;        /* what the person said at the kiosk */
    bool charger_present;         /* what the technician found */
    bool charger_expected;        /* the device has a charger to give back */
    int charger_cost_cents;       /* replacement cost for the device's type */
};

/* The confirmation email to the person who returned a device (text only),
 * in cat's language (email.received.* texts): received, charger verified
 * or missing (with the replacement cost when a charger was expected), and
 * what happens next.  0 or -ENOMEM; the caller frees out with
 * notice_free. */
int notice_received(const struct dk_config *cfg, const struct dk_catalog *cat,
                    const struct dk_notice_received *r, struct dk_notice *out);

/* "$35.00" for 3500 into buf (at least 16 bytes). */
void notice_money(int cents, char *buf, size_t size);

void notice_free(struct dk_notice *n);

/* Write s to f as HTML text: & < > " and ' as entities.  Values come from
 * scans and imports, so they go into HTML as text, never as markup. */
void notice_put_html(FILE *f, const char *s);

#endif
