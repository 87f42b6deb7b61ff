/* One logging layer for both programs.  Messages go to stderr (the journal
 * under systemd) with a level prefix.  The level is checked before the
 * message is formatted, so debug calls cost a comparison when off. */
#ifndef DK_LOG_H
#define DK_LOG_H

#include <stdbool.h>

enum dk_log_level {
    DK_LOG_ERROR = 0,
    DK_LOG_WARN = 1,
    DK_LOG_INFO = 2,
    DK_LOG_DEBUG = 3,
};

extern enum dk_log_level dk_log_threshold;

/* Name the program in every line (default "dropkiosk"); name must live as
 * long as the process. */
void log_set_program(const char *name);

/* Look whether stderr is connected to the journal: systemd then sets
 * JOURNAL_STREAM to "DEV:INODE" of that stream (systemd.exec(5)), and fd 2
 * must be it.  When it is, each line starts with its syslog priority as
 * sd-daemon(3) describes ("<3>" error, "<4>" warning, "<6>" info, "<7>"
 * debug) so that journalctl shows the levels; otherwise lines are written
 * as they always were.  stdout (fd 1) is looked at the same way, for
 * log_stdout_is_journal.  Call once at the start of main, before any
 * thread, and again after fd 1 or 2 is replaced. */
void log_init(void);

/* true when log_init found stdout to be the journal too (JOURNAL_STREAM
 * names fd 1), as under systemd: a program then writes nothing meant for
 * a person at a terminal there, where each line would be a journal
 * entry. */
bool log_stdout_is_journal(void);

/* What a line at `level` starts with when stderr is the journal ("<3>"
 * for an error), else "": for messages a program writes itself, such as
 * dropkioskctl's errors. */
const char *log_priority(enum dk_log_level level);

/* Set the most verbose level that is written (default DK_LOG_INFO). */
void log_set_level(enum dk_log_level level);

/* Write one line at `level`; use the macros below instead. */
void log_write(enum dk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define DK_LOG_AT(lvl, ...)                                                 \
    do {                                                                    \
        if ((lvl) <= dk_log_threshold)                                      \
            log_write((lvl), __VA_ARGS__);                                  \
    } while (0)

#define log_error(...) DK_LOG_AT(DK_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) DK_LOG_AT(DK_LOG_WARN, __VA_ARGS__)
#define log_info(...) DK_LOG_AT(DK_LOG_INFO, __VA_ARGS__)
#define log_debug(...) DK_LOG_AT(DK_LOG_DEBUG, __VA_ARGS__)

#endif
