/* The words of the messages the kiosk sends: the receipt email and the
 * service-desk ticket for a desktop. */
#ifndef DK_NOTICE_H
#define DK_NOTICE_H

#include "config.h"
#include "inventory.h"

#include <stdbool.h>
#include <stddef.h>

struct dk_notice_device {
    const struct dk_asset *asset; /* tag, type and model; model may be "" */
    bool charger;
};

/* The receipt email's subject, text and HTML bodies (malloc'd, the caller
 * frees each; NULL on failure).  Every value is escaped for HTML. */
struct dk_notice {
    char *subject;
    char *text;
    char *html;
};

int notice_receipt(const struct dk_config *cfg, const char *receipt_id, const char *name,
                   const char *when, const struct dk_notice_device *devices, size_t n,
                   const char *qr_cid, struct dk_notice *out);

/* The service-desk ticket for a desktop left where it is (text only).
 * requester may be NULL when the person gave no name. */
int notice_desktop_ticket(const struct dk_config *cfg, const struct dk_asset *desktop,
                          const struct dk_staff *requester, const char *when,
                          struct dk_notice *out);

void notice_free(struct dk_notice *n);

#endif
