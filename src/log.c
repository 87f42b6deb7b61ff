#include "log.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

enum dk_log_level dk_log_threshold = DK_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
/* syslog(3) priorities LOG_ERR, LOG_WARNING, LOG_INFO and LOG_DEBUG as
 * sd-daemon(3) prefixes: the journal takes a line's priority from them. */
static const char *const journal_prefixes[] = {"<3>", "<4>", "<6>", "<7>"};
static const char *program = "dropkiosk";
static bool to_journal;     /* stderr is the journal */
static bool stdout_journal; /* stdout is the journal */

void log_set_program(const char *name)
{
    program = name;
}

void log_set_level(enum dk_log_level level)
{
    dk_log_threshold = level;
}

/* Parse "DEV:INODE", both decimal, as systemd.exec(5) describes
 * JOURNAL_STREAM; false when it is not that. */
static bool parse_number(const char *text, char stop, unsigned long long *value,
                         const char **next)
{
    char *end = NULL;

    /* strtoull would take blanks and a sign before the digits. */
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    *value = strtoull(text, &end, 10);
    *next = end;
    return errno == 0 && *end == stop;
}

static bool parse_stream(const char *text, unsigned long long *dev, unsigned long long *ino)
{
    const char *next = NULL;

    return parse_number(text, ':', dev, &next) && parse_number(next + 1, '\0', ino, &next);
}

/* JOURNAL_STREAM is inherited by children whose output goes elsewhere (a
 * pipe, a file), so it counts only for a descriptor that is that very
 * stream. */
static bool fd_is_journal(int fd)
{
    const char *stream = getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat st;

    return stream != NULL && parse_stream(stream, &dev, &ino) && fstat(fd, &st) == 0 &&
           (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(void)
{
    to_journal = fd_is_journal(2);
    stdout_journal = fd_is_journal(1);
}

bool log_stdout_is_journal(void)
{
    return stdout_journal;
}

const char *log_priority(enum dk_log_level level)
{
    return to_journal ? journal_prefixes[level] : "";
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
    fprintf(stderr, "%s%s %s: %s\n", to_journal ? journal_prefixes[level] : "", program,
            level_names[level], line);
}
