/* A printed receipt slip rebuilt from the database, for a technician's
 * reprint (dropkioskctl reprint) and for the kiosk printing right after a
 * return: the same receipt always prints the same way.
 *
 * The slip's payload is the receipt's signed payload exactly as stored,
 * so its QR code verifies; the devices are the returns made under the
 * receipt (in the order they were scanned); district and site name come
 * from the config; the time is the receipt's, in the site's time zone; the
 * words are from the message catalog of the language the receipt was made
 * in (receipts.lang), or the kiosk's language when that catalog is gone. */
#ifndef DK_SLIP_H
#define DK_SLIP_H

#include "config.h"
#include "error.h"
#include "printer.h"
#include "receipt.h"
#include "store.h"

#include <stddef.h>

struct dk_catalog;

/* One slip and everything it points at. */
struct dk_slip_doc {
    struct dk_slip slip; /* ready for printer_print; borrows from below */
    char receipt_id[DK_RECEIPT_ID_SIZE];
    char created_at[32]; /* UTC, as stored */
    char when_local[64];
    char lang[16]; /* the catalog the words came from */
    char *payload;
    struct dk_slip_device *devices;
    char **strings; /* each device's tag and model */
    size_t n_strings;
    struct dk_catalog *catalog; /* NULL when the built-in English is used */
};

/* Build the slip of receipt receipt_id (any form receipt_id_valid takes:
 * lower case, confusable letters).  Sets the process's TZ to
 * cfg->timezone when it is not already (both programs run in the site's
 * time).  0 with *out filled, to be freed with slip_doc_free;
 * DK_EINPUT for an id that is not a receipt id; DK_ENOTFOUND when the
 * database has no such receipt; DK_EDB; -ENOMEM.  On failure *out is left
 * zeroed (holding nothing to free). */
int slip_load(struct dk_store *store, const struct dk_config *cfg, const char *receipt_id,
              struct dk_slip_doc *out, struct dk_error *err);

/* The newest receipt made at this kiosk (cfg->kiosk_id: the receipt's
 * kiosk_id, or for a receipt without one the kiosk of its returns); when
 * no receipt records a kiosk at all, the newest receipt.  id holds
 * DK_RECEIPT_ID_SIZE bytes.  0, DK_ENOTFOUND naming the kiosk, DK_EDB. */
int slip_newest(struct dk_store *store, const struct dk_config *cfg, char *id,
                struct dk_error *err);

/* Free what slip_load gave doc, and zero it; accepts a zeroed doc or
 * NULL. */
void slip_doc_free(struct dk_slip_doc *doc);

#endif
