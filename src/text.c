#include "text.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

/* The reason code point c is refused, or NULL when it may pass.
 *  - C0, DEL and C1: CR and LF start a new mail header; C1 matters because
 *    terminals act on it (U+009B is CSI) and U+0085 (NEL) is a line break.
 *  - U+2028 and U+2029 are line breaks to Unicode (UAX #14 classes BK),
 *    so a one-line value would show as two.
 *  - The explicit embeddings, overrides and isolates of UAX #9 section 2.1
 *    reorder the text around them (CVE-2021-42574, "Trojan Source"): a name
 *    on a receipt or a report could show other than it reads.  The plain
 *    marks U+200E, U+200F and U+061C only set the direction of neutral
 *    characters beside them and stay allowed. */
static const char *refusal(gunichar c)
{
    if (c == '\t' || c == '\n' || c == '\r')
        return "a control character (a tab or line break)";
    if (c < 0x20 || c == 0x7f)
        return "a control character";
    if (c >= 0x80 && c <= 0x9f)
        return "a C1 control character";
    if (c == 0x2028 || c == 0x2029)
        return "a line or paragraph separator";
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
        return "a bidirectional text control";
    return NULL;
}

/* Tab, CR and LF keep the wording the importer has always used; the rest
 * name the code point, as most of them are invisible. */
static bool refuse(gunichar c, const char *kind, char *why, size_t size)
{
    if (why == NULL || size == 0)
        return false;
    if (c == '\t' || c == '\n' || c == '\r')
        snprintf(why, size, "%s", kind);
    else
        snprintf(why, size, "%s (U+%04X)", kind, (unsigned int)c);
    return false;
}

/* GLib (already here through GMime) does the UTF-8 decoding. */
bool text_check(const char *s, size_t len, char *why, size_t size)
{
    const char *valid_end = s;
    bool valid = g_utf8_validate_len(s, len, &valid_end);

    for (const char *p = s; p < valid_end; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        const char *kind = refusal(c);

        if (kind != NULL)
            return refuse(c, kind, why, size);
    }
    if (valid)
        return true;
    /* GLib counts a NUL inside len as invalid UTF-8; it is a C0 control. */
    if (*valid_end == '\0')
        return refuse(0, refusal(0), why, size);
    if (why != NULL && size > 0)
        snprintf(why, size, "bytes that are not UTF-8");
    return false;
}

bool text_is_clean(const char *s, size_t len)
{
    return text_check(s, len, NULL, 0);
}

const char *text_shown(const char *s, size_t max, char *out, size_t size)
{
    size_t room = size > 4 ? size - 4 : 0; /* leaves "..." and the NUL */
    size_t n = 0;

    if (size == 0)
        return out;
    if (room > max)
        room = max;
    while (*s != '\0') {
        gunichar c = g_utf8_get_char_validated(s, -1);
        bool broken = c == (gunichar)-1 || c == (gunichar)-2;
        size_t in = broken ? 1 : (size_t)(g_utf8_next_char(s) - s);
        bool bad = broken || refusal(c) != NULL;
        size_t put = bad ? 1 : in;

        if (n + put > room)
            break;
        if (bad)
            out[n] = '?';
        else
            memcpy(out + n, s, in);
        n += put;
        s += in;
    }
    if (*s != '\0' && n + 4 <= size) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}
