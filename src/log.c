#include "log.h"

#include "error.h"

#include <stdarg.h>
#include <stdio.h>

enum dk_log_level dk_log_threshold = DK_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const char *program = "dropkiosk";

void log_set_program(const char *name)
{
    program = name;
}

void log_set_level(enum dk_log_level level)
{
    dk_log_threshold = level;
}

void log_write(enum dk_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    dk_error_printable(line);
    /* One fprintf per line so that lines from two threads never interleave. */
    fprintf(stderr, "%s %s: %s\n", program, level_names[level], line);
}
