/* Checks on text that came from outside (config files, scanners, imports)
 * before it reaches receipts, mail headers or the screen. */
#ifndef DK_TEXT_H
#define DK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest reason text_check writes, NUL included. */
#define DK_TEXT_WHY_MAX 64

/* true when the len bytes at s are valid UTF-8 holding none of:
 *   NUL and the other C0 controls (U+0000..U+001F, tab and line breaks
 *   included), DEL (U+007F), the C1 controls (U+0080..U+009F),
 *   the line and paragraph separators (U+2028, U+2029),
 *   the bidirectional embeddings and overrides (U+202A..U+202E) and
 *   isolates (U+2066..U+2069).
 * On false, why (size bytes; may be NULL) gets the first problem as a noun
 * phrase a caller can put after "holds": "a C1 control character (U+0085)",
 * "a control character (a tab or line break)", "bytes that are not UTF-8".
 * Letters of every script, combining marks and the plain direction marks
 * U+200E, U+200F and U+061C pass. */
bool text_check(const char *s, size_t len, char *why, size_t size);

/* text_check without the reason. */
bool text_is_clean(const char *s, size_t len);

/* Copy s into out (size bytes, always NUL-terminated) fit for a message on
 * a terminal: each character text_check refuses, and each byte that is not
 * UTF-8, becomes '?'.  At most max bytes are written (fewer if out is
 * smaller), never half a character, and "..." marks a cut.  Returns out. */
const char *text_shown(const char *s, size_t max, char *out, size_t size);

#endif
