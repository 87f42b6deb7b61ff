/* Return receipts: short readable ids, the signed payload, and its QR code.
 *
 * A payload is readable UTF-8 text, at most 4096 bytes:
 *
 *     dropkiosk receipt v1
 *     District: Richmond Public Schools
 *     Receipt: R-7K3M9QXZJ
 *     Site: Bolling Building
 *     Kiosk: BB-LOBBY-1
 *     Time: 2026-12-04 10:37 EST
 *     Device: RPS-104233 | Dell Latitude 3420 | charger yes
 *     Key: ed25519:56475aa75463474c
 *     Signature: BASE64
 *
 * one Device line a device.  Key names the signing key: "ed25519:" and the
 * first 8 bytes of SHA-256 over the 32-byte public key, in hex.  Signature
 * is the Ed25519 detached signature (standard base64, padded) over the
 * canonical form of every line before it: each line with trailing CR and
 * space removed, joined with "\n", with a final "\n".  A verifier thus
 * accepts CRLF line ends and trailing blanks a mail client or scanner adds.
 *
 * Key files are one text line each, "LABEL BASE64\n":
 *     secret (mode 0600): "dropkiosk-receipt-secret-v1 " + the 32-byte seed
 *     public (mode 0644): "dropkiosk-receipt-public-v1 " + the 32-byte key
 * The secret file holds the seed, from which the key pair is derived, so its
 * two halves can never disagree. */
#ifndef DK_RECEIPT_H
#define DK_RECEIPT_H

#include "error.h"

#include <qrencode.h>
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

/* A new random receipt id: "R-" + 8 Crockford base32 characters (40 bits
 * from libsodium's randombytes) + one check character, e.g. "R-7K3M9QXZJ".
 * The check is Luhn mod 32 over the base32 values, so it is itself a base32
 * character: it catches every single mistyped character and most swaps of
 * two neighbours.  out must hold DK_RECEIPT_ID_SIZE. */
void receipt_new_id(char out[DK_RECEIPT_ID_SIZE]);

/* true when id is well formed and its check character matches.  Accepts
 * lower case ("r-7k3m9qxzj") and the Crockford confusables (I, L -> 1;
 * O -> 0); U and any other character are refused. */
bool receipt_id_valid(const char *id);

/* Build and sign the payload with sk (libsodium's 64-byte secret key).
 * *payload is NUL-terminated, ends in "\n", is malloc'd and the caller's to
 * free; it is NULL on failure.  The id is written in canonical upper case;
 * time is shown with localtime_r in the process's TZ.  A NULL model is
 * written "unknown device".  DK_EINPUT when a field is missing or holds a
 * line break or other control character, the id is not valid, there are
 * no devices, or the payload would pass 4096 bytes. */
int receipt_sign(const struct dk_receipt *r, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
                 char **payload, struct dk_error *err);

/* Check a payload (as read from a QR code or typed in); len bytes, need not
 * be NUL-terminated.  0 when the signature verifies under pk and the Key
 * line names pk; DK_EFORGED when it does not (err says whether the receipt
 * names another key or was altered); DK_EINPUT when it is not a receipt
 * payload at all: over 4096 bytes, a NUL or control character, no header,
 * Key or Signature line, a signature that is not 64 bytes of base64, or
 * text after the Signature line (blank lines there are allowed). */
int receipt_verify(const char *payload, size_t len,
                   const unsigned char pk[crypto_sign_PUBLICKEYBYTES], struct dk_error *err);

/* Create a key pair: secret key file written with mode 0600, public key
 * file 0644 (whatever the umask), each created with O_EXCL and fsync'd,
 * with its directory.  Refuses (-EEXIST) to overwrite an existing secret
 * or public key; when the public key cannot be written the new secret key
 * is removed again.  -errno for other file errors. */
int receipt_keygen(const char *sk_path, const char *pk_path, struct dk_error *err);

/* "SHA256:" + 43 base64 characters + NUL. */
#define DK_RECEIPT_FINGERPRINT_SIZE 51

/* The public key's fingerprint in the form OpenSSH shows keys: "SHA256:"
 * and the unpadded standard base64 (RFC 4648 section 4) of the SHA-256 of
 * the 32 raw bytes of pk, e.g.
 * "SHA256:Vkdap1RjR0wChd9dvyvKtz2mUTWIOem3dIGy6rEHcIw".  It is for people
 * comparing the key a kiosk signs with and the one published for checking
 * receipts; a receipt names its key by the shorter Key line instead.  out
 * must hold DK_RECEIPT_FINGERPRINT_SIZE bytes. */
void receipt_fingerprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                         char out[DK_RECEIPT_FINGERPRINT_SIZE]);

/* Check that the public key file pk_path holds the public half of sk (a
 * secret key as receipt_load_secret gives it, read from sk_path; sk_path
 * only names it in messages).  0 when it does; DK_EINPUT, naming both
 * files, when it holds another key (receipts signed with sk would not
 * verify with it); otherwise receipt_load_public's error, -ENOENT when
 * there is no such file. */
int receipt_check_public(const char *pk_path, const char *sk_path,
                         const unsigned char sk[crypto_sign_SECRETKEYBYTES],
                         struct dk_error *err);

/* Read a key file written by receipt_keygen.  -errno when it cannot be
 * read; DK_EINPUT, naming the file and the fault, when it is not the
 * expected kind of key file (wrong label, e.g. a public key given as the
 * secret, wrong length, bad base64).  A secret key file that others can
 * read is loaded with a warning in the log. */
int receipt_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                        struct dk_error *err);
int receipt_load_public(const char *path, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                        struct dk_error *err);

/* Encode len bytes of payload byte-exact (8-bit mode, level M: the text
 * modes would reinterpret them) as a QR code, the one encoding every
 * receipt image and slip uses.  0 with *qr set (free with QRcode_free);
 * DK_EINPUT when the payload is empty or longer than one QR code holds
 * (2331 bytes); -errno when libqrencode fails otherwise. */
int receipt_qr_encode(const unsigned char *payload, size_t len, QRcode **qr,
                      struct dk_error *err);

/* Encode payload byte-exact (8-bit mode, level M) as a QR code and write it
 * as a 1-bit grey PNG, 6 pixels a module with a 4-module quiet zone, into
 * a malloc'd buffer (*png, *len; the caller frees).  DK_EINPUT when the
 * payload is empty or longer than a QR code holds (2331 bytes). */
int receipt_qr_png(const char *payload, unsigned char **png, size_t *len,
                   struct dk_error *err);

/* Draw the QR code with UTF-8 half blocks (two modules a character cell,
 * the glyph's ink a dark module) and a 4-module quiet zone, for a phone
 * held to the terminal.  When out is a terminal each line sets black on
 * white explicitly (256-colour SGR) and resets before its newline, so the
 * code reads the same on dark-on-light and light-on-dark themes; otherwise
 * plain text, right for printing or a dark-on-light screen.  -EIO when
 * writing fails. */
int receipt_qr_terminal(const char *payload, FILE *out, struct dk_error *err);

#endif
