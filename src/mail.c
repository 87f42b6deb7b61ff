/* Mail composition with GMime 3.
 *
 * Authorities:
 *   RFC 5322  Internet Message Format (header fields, section 3.6)
 *   RFC 5321  SMTP (address length limits, section 4.5.3.1)
 *   RFC 2045  MIME (Content-ID, section 7)
 *   RFC 2046  MIME media types (multipart/alternative, section 5.1.4)
 *   RFC 2047  encoded words for non-ASCII header text
 *   RFC 2387  multipart/related and its "type" parameter (section 3.1)
 *   RFC 2392  cid: URLs
 *
 * Every encoding decision (RFC 2047 words, quoted-printable or base64,
 * folding) is GMime's; this file only checks what comes in and assembles
 * the tree. */
#include "mail.h"

#include "text.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5321 section 4.5.3.1.1 and 4.5.3.1.2: local part at most 64 octets,
 * domain at most 255; a path (with its angle brackets) at most 256. */
#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define ADDRESS_MAX 254

/* The longest run of header text without a space that is accepted.  RFC
 * 2047 section 2 allows an encoded word 75 characters, and RFC 5322
 * section 2.1.1 asks for lines of at most 78.  GMime 3.2 folds header text
 * only at spaces and does not split one long word into several encoded
 * words, so a longer word would make a longer line: 40 bytes of UTF-8 is
 * 56 characters of base64, which fits with "=?UTF-8?B?", "?=" and the
 * field name (checked for every script in tests/unit/test_mail.c). */
#define HEADER_WORD_MAX 40
/* A long word of plain ASCII is different: GMime splits it into adjacent
 * quoted-printable encoded words, which read back as the one word (RFC
 * 2047 section 6.2), on lines of under 100 characters (checked in
 * tests/unit/test_mail.c).  A routable ticket subject such as
 * "REIMAGE:bolling/lobby-1/104300/5CG1234XYZ" has no spaces at all; the
 * bound only keeps a runaway value from filling the header. */
#define HEADER_ASCII_WORD_MAX 900

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

void mail_init(void)
{
    pthread_once(&gmime_once, gmime_start);
}

/* Characters that would need quoting or would end the address in a header
 * or an SMTP command (RFC 5322 section 3.2.3 "specials" and space).  A
 * kiosk never needs quoted local parts, so refusing them costs nothing. */
static bool address_char_ok(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return strchr("<>()[]\\,;:\"", c) == NULL;
}

bool mail_address_ok(const char *addr)
{
    const char *at;
    size_t len;

    if (addr == NULL)
        return false;
    len = strlen(addr);
    if (len == 0 || len > ADDRESS_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        /* TODO(mail): when staff addresses with non-ASCII local parts turn
         * up, accept UTF-8 here and ask for SMTPUTF8 (RFC 6531), because
         * today such an address is refused at import time instead. */
        if (!address_char_ok((unsigned char)addr[i]))
            return false;
    }
    at = strchr(addr, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    if (at == addr || (size_t)(at - addr) > LOCAL_MAX)
        return false;
    if (at[1] == '\0' || strlen(at + 1) > DOMAIN_MAX)
        return false;
    /* A domain starting or ending with a dot, or with an empty label, is
     * not a domain (RFC 5321 section 4.1.2). */
    if (at[1] == '.' || addr[len - 1] == '.' || strstr(at + 1, "..") != NULL)
        return false;
    return true;
}

/* Header text follows the rule every imported text follows (text_check):
 * UTF-8 with no control character (CR or LF would let the value start a
 * new header: header injection), no C1 control such as U+0085 NEL, no
 * line separator and no bidirectional override that could make a subject
 * read other than it is. */
static bool header_text_ok(const char *s)
{
    return text_is_clean(s, strlen(s));
}

static bool ascii_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return false;
    }
    return true;
}

/* Whether every run of s without a space or tab fits a header line: a
 * word that must be encoded (it holds non-ASCII) at most HEADER_WORD_MAX
 * bytes, a plain ASCII word at most HEADER_ASCII_WORD_MAX. */
static bool words_fit(const char *s)
{
    while (*s != '\0') {
        size_t n = strcspn(s, " \t");

        if (n > (ascii_run(s, n) ? HEADER_ASCII_WORD_MAX : HEADER_WORD_MAX))
            return false;
        s += n;
        s += strspn(s, " \t");
    }
    return true;
}

/* Message-ID and Content-ID values (RFC 5322 section 3.6.4): printable
 * ASCII without spaces or the angle brackets GMime adds itself. */
static bool id_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>')
            return false;
    }
    return true;
}

static int check_address(const char *field, const char *addr,
                         struct dk_error *err)
{
    if (addr == NULL || *addr == '\0')
        return dk_error_set(err, DK_EINPUT, "mail: the %s address is missing",
                            field);
    if (!mail_address_ok(addr))
        return dk_error_set(
            err, DK_EINPUT,
            "mail: the %s address must be one plain ASCII user@domain address",
            field);
    return 0;
}

static int check_text(const char *field, const char *s, bool header,
                      struct dk_error *err)
{
    if (s == NULL)
        return dk_error_set(err, DK_EINPUT, "mail: the %s is missing", field);
    if (header && !header_text_ok(s))
        return dk_error_set(
            err, DK_EINPUT,
            "mail: the %s holds CR, LF, a control character or invalid UTF-8",
            field);
    if (header && !words_fit(s))
        return dk_error_set(
            err, DK_EINPUT,
            "mail: the %s has a word too long for a header line (over %d bytes with "
            "non-ASCII letters, or over %d bytes of ASCII)",
            field, HEADER_WORD_MAX, HEADER_ASCII_WORD_MAX);
    if (!header && !g_utf8_validate(s, -1, NULL))
        return dk_error_set(err, DK_EINPUT, "mail: the %s is not valid UTF-8",
                            field);
    return 0;
}

static bool has_cc(const struct dk_mail *m)
{
    return m->cc != NULL && *m->cc != '\0';
}

/* Everything is checked before GMime sees it, so a refusal builds nothing. */
static int check_mail(const struct dk_mail *m, struct dk_error *err)
{
    int rc = check_address("From", m->from, err);

    if (rc == 0)
        rc = check_address("To", m->to, err);
    if (rc == 0 && has_cc(m))
        rc = check_address("Cc", m->cc, err);
    if (rc == 0 && m->to_name != NULL)
        rc = check_text("To display name", m->to_name, true, err);
    if (rc == 0)
        rc = check_text("Subject", m->subject, true, err);
    if (rc == 0)
        rc = check_text("text body", m->text, false, err);
    if (rc == 0 && m->html != NULL)
        rc = check_text("HTML body", m->html, false, err);
    if (rc == 0 && !id_ok(m->message_id))
        rc = dk_error_set(
            err, DK_EINPUT,
            "mail: the Message-ID is missing or holds spaces, controls or <>");
    if (rc == 0 && m->png != NULL && (m->png_len == 0 || !id_ok(m->png_cid)))
        rc = dk_error_set(
            err, DK_EINPUT,
            "mail: the inline PNG needs bytes and a Content-ID (no spaces or <>)");
    return rc;
}

/* A GMime part holding a copy of len bytes, with the transfer encoding left
 * for g_mime_object_encode to choose (or forced by the caller). */
static void set_content(GMimePart *part, const void *data, size_t len)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeDataWrapper *content = g_mime_data_wrapper_new_with_stream(
        stream, GMIME_CONTENT_ENCODING_DEFAULT);

    g_mime_part_set_content(part, content);
    g_object_unref(content);
    g_object_unref(stream);
}

/* Not g_mime_text_part_set_text: it labels Latin-1-only text iso-8859-1
 * and converts it, and the outbox wants every text part to say utf-8. */
static GMimeObject *text_part(const char *subtype, const char *text)
{
    GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);

    set_content(GMIME_PART(part), text, strlen(text));
    g_mime_text_part_set_charset(part, "utf-8");
    return GMIME_OBJECT(part);
}

static GMimeObject *png_part(const struct dk_mail *m)
{
    GMimePart *part = g_mime_part_new_with_type("image", "png");

    set_content(part, m->png, m->png_len);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_part_set_content_id(part, m->png_cid);
    g_mime_object_set_disposition(GMIME_OBJECT(part), GMIME_DISPOSITION_INLINE);
    return GMIME_OBJECT(part);
}

/* Adds part to parent and drops the caller's reference. */
static void add_part(GMimeMultipart *parent, GMimeObject *part)
{
    g_mime_multipart_add(parent, part);
    g_object_unref(part);
}

static GMimeObject *build_body(const struct dk_mail *m)
{
    GMimeMultipart *alt;
    GMimeMultipart *related;

    if (m->html == NULL && m->png == NULL)
        return text_part("plain", m->text);

    if (m->html == NULL) {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");

        add_part(mixed, text_part("plain", m->text));
        add_part(mixed, png_part(m));
        return GMIME_OBJECT(mixed);
    }

    /* RFC 2046 section 5.1.4: the plainest alternative comes first. */
    alt = g_mime_multipart_new_with_subtype("alternative");
    add_part(alt, text_part("plain", m->text));
    if (m->png == NULL) {
        add_part(alt, text_part("html", m->html));
        return GMIME_OBJECT(alt);
    }

    /* RFC 2387 section 3.1: "type" names the root part, which comes first. */
    related = g_mime_multipart_new_with_subtype("related");
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(related), "type",
                                             "text/html");
    add_part(related, text_part("html", m->html));
    add_part(related, png_part(m));
    add_part(alt, GMIME_OBJECT(related));
    return GMIME_OBJECT(alt);
}

/* The display name is labelled utf-8 so GMime's RFC 2047 encoded word says
 * utf-8 too; left alone, GMime picks the narrowest charset that fits. */
static void add_to(GMimeMessage *msg, const char *name, const char *addr)
{
    InternetAddress *ia = internet_address_mailbox_new(name, addr);

    internet_address_set_charset(ia, "utf-8");
    internet_address_list_add(g_mime_message_get_to(msg), ia);
    g_object_unref(ia);
}

static GMimeMessage *build_message(const struct dk_mail *m)
{
    GMimeMessage *msg = g_mime_message_new(TRUE);
    GMimeObject *body = build_body(m);
    GDateTime *now = g_date_time_new_now_local();

    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL, m->from);
    add_to(msg, m->to_name, m->to);
    if (has_cc(m))
        g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_CC, NULL, m->cc);
    g_mime_message_set_subject(msg, m->subject, "utf-8");
    g_mime_message_set_date(msg, now);
    g_mime_message_set_message_id(msg, m->message_id);
    g_date_time_unref(now);

    /* Mail crosses relays that may be 7-bit only (RFC 5321 section 2.4),
     * so every part gets a 7-bit-safe transfer encoding of GMime's choice. */
    g_mime_object_encode(body, GMIME_ENCODING_CONSTRAINT_7BIT);
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);
    return msg;
}

static int serialize(GMimeMessage *msg, char **mime, size_t *len,
                     struct dk_error *err)
{
    GMimeFormatOptions *opts = g_mime_format_options_new();
    GMimeStream *stream = g_mime_stream_mem_new();
    GByteArray *bytes;
    char *buf = NULL;
    int rc = 0;

    /* RFC 5322 section 2.1: lines end in CRLF on the wire. */
    g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
    if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, stream) < 0) {
        rc = dk_error_set(err, -EIO, "mail: cannot write the composed message");
        goto out;
    }

    bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    buf = malloc(bytes->len + 1);
    if (buf == NULL) {
        rc = dk_error_set(err, -ENOMEM,
                          "mail: out of memory composing a message");
        goto out;
    }
    memcpy(buf, bytes->data, bytes->len);
    buf[bytes->len] = '\0';
    *mime = buf;
    *len = bytes->len;
out:
    g_object_unref(stream);
    g_mime_format_options_free(opts);
    return rc;
}

int mail_compose(const struct dk_mail *m, char **mime, size_t *len,
                 struct dk_error *err)
{
    GMimeMessage *msg;
    int rc;

    *mime = NULL;
    *len = 0;
    rc = check_mail(m, err);
    if (rc != 0)
        return rc;

    mail_init();
    msg = build_message(m);
    rc = serialize(msg, mime, len, err);
    g_object_unref(msg);
    return rc;
}
