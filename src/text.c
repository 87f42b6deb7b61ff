#include "text.h"

#include <glib.h>

/* GLib (already here through GMime) does the UTF-8 decoding; the C1 range
 * U+0080..U+009F matters because terminals act on it (CSI is U+009B). */
bool text_is_clean(const char *s, size_t len)
{
    const char *p = s;
    const char *end = s + len;

    if (!g_utf8_validate_len(s, len, NULL))
        return false;
    while (p < end) {
        gunichar c = g_utf8_get_char(p);

        if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
            return false;
        p = g_utf8_next_char(p);
    }
    return true;
}
