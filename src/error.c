#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void dk_error_printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
    }
}

int dk_error_set(struct dk_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    dk_error_printable(err->msg);
    return code;
}

int dk_exit_status(int code)
{
    switch (code) {
    case 0:
        return 0;
    case DK_EFORGED:
    case DK_ENODATA:
        return 1;
    case DK_EINPUT:
    case DK_ENOTFOUND:
    /* A file named on the command line or in the config that is not
     * there is the caller's to fix: bad input, not a runtime failure. */
    case -ENOENT:
    case -ENOTDIR:
    case -EISDIR:
        return 2;
    default:
        return 3;
    }
}
