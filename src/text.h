/* Checks on text that came from outside (config files, scanners, imports)
 * before it reaches receipts, mail headers or the screen. */
#ifndef DK_TEXT_H
#define DK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* true when the len bytes at s are valid UTF-8 holding no control
 * character (C0, DEL or C1) and no NUL. */
bool text_is_clean(const char *s, size_t len);

#endif
