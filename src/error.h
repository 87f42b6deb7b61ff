/* Error reporting shared by every module.
 *
 * Modules return 0 or a negative errno; where errno has no word for the
 * failure they return one of the DK_E... values below (also negative).  The
 * human-readable reason travels in a caller-owned struct dk_error. */
#ifndef DK_ERROR_H
#define DK_ERROR_H

#include <stddef.h>

enum {
    DK_EINPUT = -1000,  /* bad input from a person or a file */
    DK_ENOTFOUND = -1001,
    DK_EDB = -1002,     /* the database refused or failed */
    DK_EFORGED = -1003, /* a signature does not verify */
    DK_ENODATA = -1004, /* nothing decoded, nothing there */
    DK_ETEMP = -1005,   /* a temporary failure: try again later */
    DK_EPERM = -1006,   /* a permanent refusal from a peer */
};

#define DK_ERROR_MAX 512

struct dk_error {
    char msg[DK_ERROR_MAX];
};

/* Replace each control character of s (C0 and DEL) with '?', in place, so
 * a message that quotes input (a config value, a scanned id, a CSV cell)
 * cannot move the terminal's cursor, clear its screen or forge a log
 * line. */
void dk_error_printable(char *s);

/* Set err->msg from a printf-style format.  err may be NULL (the message is
 * dropped), its control characters shown as '?' (dk_error_printable).
 * Returns code, so callers can write `return dk_error_set(...)`. */
int dk_error_set(struct dk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Exit status for a DK_E... or negative errno code, following the command
 * line conventions: 0 success, 1 a clean negative answer, 2 bad usage or
 * input (including a named file that does not exist), 3 a runtime
 * failure. */
int dk_exit_status(int code);

#endif
