/* Return receipts: short readable ids, the signed payload, and its QR code.
 *
 * A payload is readable text, one "Key: value" line each, followed by a
 * final "Signature: BASE64" line holding an Ed25519 signature over the
 * canonical form of every line before it. */
#ifndef DK_RECEIPT_H
#define DK_RECEIPT_H

#include "error.h"

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define DK_RECEIPT_ID_SIZE 16 /* "R-" + 8 + check + NUL, with room to spare */

struct dk_receipt_device {
    const char *tag;
    const char *model; /* "Dell Latitude 3420", or "unknown device" */
    bool charger;      /* charger declared in the bag */
};

struct dk_receipt {
    const char *id;
    const char *district;
    const char *site;  /* site name, e.g. "Bolling Building" */
    const char *kiosk; /* kiosk id */
    time_t when;       /* shown in the process's local time zone (TZ) */
    const struct dk_receipt_device *devices;
    size_t n_devices;
};

/* A new random receipt id: "R-" + 8 Crockford base32 characters + one check
 * character, e.g. "R-7K3M9QXZ4".  out must hold DK_RECEIPT_ID_SIZE. */
void receipt_new_id(char out[DK_RECEIPT_ID_SIZE]);

/* true when id is well formed and its check character matches.  Accepts
 * lower case and the Crockford confusables (I, L -> 1; O -> 0). */
bool receipt_id_valid(const char *id);

/* Build and sign the payload.  *payload is NUL-terminated, malloc'd, the
 * caller's to free.  DK_EINPUT when a field holds a line break. */
int receipt_sign(const struct dk_receipt *r, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
                 char **payload, struct dk_error *err);

/* Check a payload (as read from a QR code or typed in).  0 when the
 * signature verifies under pk; DK_EFORGED when it does not; DK_EINPUT when
 * it is not a receipt payload at all.  err says why. */
int receipt_verify(const char *payload, size_t len,
                   const unsigned char pk[crypto_sign_PUBLICKEYBYTES], struct dk_error *err);

/* Create a key pair: secret key file written with mode 0600, public key
 * file 0644.  Refuses (-EEXIST) to overwrite an existing secret key. */
int receipt_keygen(const char *sk_path, const char *pk_path, struct dk_error *err);

int receipt_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                        struct dk_error *err);
int receipt_load_public(const char *path, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                        struct dk_error *err);

/* Encode payload byte-exact (8-bit mode) as a QR code and write it as a PNG
 * image into a malloc'd buffer (*png, *len; the caller frees). */
int receipt_qr_png(const char *payload, unsigned char **png, size_t *len,
                   struct dk_error *err);

/* Draw the QR code with UTF-8 half blocks (two modules a character cell)
 * and a quiet zone, for a phone held to the terminal. */
int receipt_qr_terminal(const char *payload, FILE *out, struct dk_error *err);

#endif
