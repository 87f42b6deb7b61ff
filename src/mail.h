/* Composing email with GMime: UTF-8 headers encoded per RFC 2047, a text
 * and an HTML alternative, and an optional inline PNG (multipart/related,
 * referenced from the HTML as cid:). */
#ifndef DK_MAIL_H
#define DK_MAIL_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct dk_mail {
    const char *from;       /* bare address */
    const char *to;         /* bare address */
    const char *to_name;    /* display name, may be NULL or non-ASCII */
    const char *cc;         /* bare address, or NULL */
    const char *subject;    /* UTF-8 */
    const char *text;       /* text/plain body, UTF-8 */
    const char *html;       /* text/html body, UTF-8, or NULL */
    const unsigned char *png; /* inline image, or NULL */
    size_t png_len;
    const char *png_cid;    /* Content-ID the HTML refers to as cid:... */
    const char *message_id; /* without angle brackets */
};

/* Start GMime; call once per process before mail_compose. */
void mail_init(void);

/* true when addr is a plausible single address: one '@', no spaces, no
 * CR/LF or other control characters, no angle brackets or commas. */
bool mail_address_ok(const char *addr);

/* Compose the message as RFC 5322 bytes with CRLF line ends.  *mime is
 * malloc'd (the caller frees), *len its length.  DK_EINPUT when an address
 * is malformed or a header value holds CR or LF. */
int mail_compose(const struct dk_mail *m, char **mime, size_t *len, struct dk_error *err);

#endif
