/* Composing email with GMime: UTF-8 headers encoded per RFC 2047, a text
 * and an HTML alternative, and an optional inline PNG (multipart/related,
 * referenced from the HTML as cid:).
 *
 * The shapes mail_compose builds, by what is given:
 *   text                -> text/plain
 *   text, html          -> multipart/alternative { text/plain; text/html }
 *   text, html, png     -> multipart/alternative { text/plain;
 *                              multipart/related { text/html; image/png } }
 *   text, png           -> multipart/mixed { text/plain; image/png inline }
 * Text parts are labelled charset=utf-8 and GMime picks 7bit,
 * quoted-printable or base64 for them; the PNG is always base64. */
#ifndef DK_MAIL_H
#define DK_MAIL_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct dk_mail {
    const char *from;         /* bare address */
    const char *to;           /* bare address */
    const char *to_name;      /* display name, may be NULL or non-ASCII */
    const char *cc;           /* bare address, or NULL (or "") for no Cc */
    const char *subject;      /* UTF-8 */
    const char *text;         /* text/plain body, UTF-8 */
    const char *html;         /* text/html body, UTF-8, or NULL */
    const unsigned char *png; /* inline image, or NULL */
    size_t png_len;
    const char *png_cid;    /* Content-ID the HTML refers to as cid:... */
    const char *message_id; /* without angle brackets */
};

/* Start GMime; call once per process before mail_compose.  Calling it again
 * (or from several threads) is harmless: the work is done once. */
void mail_init(void);

/* true when addr is a plausible single address: one '@', no spaces, no
 * CR/LF or other control characters, no angle brackets or commas, ASCII
 * only, within the RFC 5321 length limits. */
bool mail_address_ok(const char *addr);

/* Compose the message as RFC 5322 bytes with CRLF line ends.  *mime is
 * malloc'd and NUL-terminated (the caller frees), *len its length without
 * the NUL.  Header text (subject, display name) may be any UTF-8: it is
 * RFC 2047 encoded and folded at spaces into lines of at most 78
 * characters.  DK_EINPUT, with the offending field named in err, when an
 * address is malformed, a header value holds CR, LF or another control
 * character (C1 included) or a word of more than 40 bytes without a space
 * (which could not be folded), a text is not UTF-8, or a required field
 * (from, to, subject, text, message_id; png_cid with png) is missing.  -ENOMEM when memory
 * runs out.  Calls mail_init itself if nobody has. */
int mail_compose(const struct dk_mail *m, char **mime, size_t *len,
                 struct dk_error *err);

#endif
