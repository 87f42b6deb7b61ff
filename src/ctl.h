/* dropkioskctl's verbs share this: the parsed command line, the config, and
 * the ways a verb reports.  Each group of verbs lives in its own file
 * (src/ctl_*.c); src/main_ctl.c parses the options and dispatches.
 *
 * A verb returns the exit status: 0 success, 1 a clean negative answer,
 * 2 bad usage or input (message on stderr naming what and where), 3 a
 * runtime failure. */
#ifndef DK_CTL_H
#define DK_CTL_H

#include "config.h"
#include "import.h"
#include "store.h"

#include <stdbool.h>
#include <sys/types.h>

#define DK_CTL_MAX_MAPS 32

/* Options some verbs take; NULL or -1 when not given. */
struct dk_ctl_opts {
    const char *tech;        /* --tech ID: the technician acting */
    bool pin_stdin;          /* --pin-stdin: read the technician's PIN from stdin */
    const char *charger;     /* --charger present|missing */
    const char *condition;   /* --condition good|worn|damaged|not_working */
    const char *note;        /* --note TEXT */
    const char *school;      /* --school NAME (clean-out) */
    const char *vendor;      /* --vendor NAME (e-waste manifest) */
    const char *certificate; /* --certificate NUMBER */
    const char *method;      /* --method M (data wipe) */
    const char *tool;        /* --tool T (data wipe) */
    const char *level;       /* --level clear|purge|destroy (NIST SP 800-88) */
    const char *to;          /* --to STAFF (reassign) */
    const char *out;         /* --out FILE */
    const char *from;        /* --from YYYY-MM-DD */
    const char *until;       /* --until YYYY-MM-DD */
    const char *name;        /* --name TEXT */
    const char *badge;       /* --badge CODE */
    const char *printer;     /* --printer NAME ([printer NAME] in the config) */
    const char *date;        /* --date YYYY-MM-DD (digest) */
    int days;                /* --days N */
    bool if_missing;         /* --if-missing (keygen) */
    bool fingerprint;        /* --fingerprint (pubkey) */
};

/* A bit for each option a verb may take: each of struct dk_ctl_opts, and
 * --csv and --map.  The global ones (-c, --db, -v) have none: every verb
 * takes them. */
enum {
    DK_CTL_OPT_TECH = 1u << 0,
    DK_CTL_OPT_PIN_STDIN = 1u << 1,
    DK_CTL_OPT_CHARGER = 1u << 2,
    DK_CTL_OPT_CONDITION = 1u << 3,
    DK_CTL_OPT_NOTE = 1u << 4,
    DK_CTL_OPT_SCHOOL = 1u << 5,
    DK_CTL_OPT_VENDOR = 1u << 6,
    DK_CTL_OPT_CERTIFICATE = 1u << 7,
    DK_CTL_OPT_METHOD = 1u << 8,
    DK_CTL_OPT_TOOL = 1u << 9,
    DK_CTL_OPT_LEVEL = 1u << 10,
    DK_CTL_OPT_TO = 1u << 11,
    DK_CTL_OPT_OUT = 1u << 12,
    DK_CTL_OPT_FROM = 1u << 13,
    DK_CTL_OPT_UNTIL = 1u << 14,
    DK_CTL_OPT_NAME = 1u << 15,
    DK_CTL_OPT_BADGE = 1u << 16,
    DK_CTL_OPT_DAYS = 1u << 17,
    DK_CTL_OPT_CSV = 1u << 18,
    DK_CTL_OPT_MAP = 1u << 19,
    DK_CTL_OPT_PRINTER = 1u << 20,
    DK_CTL_OPT_DATE = 1u << 21,
    DK_CTL_OPT_IF_MISSING = 1u << 22,
    DK_CTL_OPT_FINGERPRINT = 1u << 23,
};

struct dk_ctl {
    const char *config_path;
    const char *db;
    bool csv;
    struct dk_import_map maps[DK_CTL_MAX_MAPS];
    size_t n_maps;
    struct dk_ctl_opts opt;
    struct dk_config cfg;
    char **args; /* the verb and its words */
    int n_args;
    /* The umask dropkioskctl was started with.  Run as root it becomes the
     * folder's owner with umask 0077 (src/owner.h), for the files of the
     * state folder; a file a person asked for by name (--out) is made
     * with this one instead, as readable as the person's other files. */
    mode_t out_umask;
};

/* Print "dropkioskctl: MESSAGE" from err and return the exit status for
 * code. */
int ctl_fail(int code, const struct dk_error *err);

/* Print "dropkioskctl: WHAT (see dropkioskctl --help)"; returns 2. */
int ctl_bad_usage(const char *what);

/* Refuse an option the verb does not take, so that a misplaced one (a
 * --from on discrepancies, a --level on wipe) is said rather than silently
 * dropped.  verb names the verb as the user typed it ("tech list");
 * allowed is the DK_CTL_OPT_ bits it takes.  0, or 2 with "VERB does not
 * take --OPTION" printed.  Each verb calls it first, before it does
 * anything. */
int ctl_only_options(const struct dk_ctl *c, const char *verb,
                     unsigned allowed);

/* Open the config's database (or --db).  must_exist: a check or report on
 * a mistyped path must not create an empty database.  0 or an exit status
 * (the message already printed). */
int ctl_open_store(const struct dk_ctl *c, bool must_exist, struct dk_store **out);

/* Create path new (O_EXCL, never replacing a file) with mode, under the
 * umask dropkioskctl was started with (out_umask), for --out.  The file
 * descriptor, or -1 with errno set. */
int ctl_create_out(const struct dk_ctl *c, const char *path, mode_t mode);

/* A technician's PIN (src/ctl_pin.c).  pin holds DK_CTL_PIN_MAX bytes.
 * Each returns 0 or an exit status, its message printed. */
#define DK_CTL_PIN_MAX 64

/* Ask on the controlling terminal with echo off. */
int ctl_ask_pin(const char *prompt, char *pin, size_t size);

/* From stdin with --pin-stdin (one line), else asked on the terminal. */
int ctl_read_pin(const struct dk_ctl *c, char *pin, size_t size);

/* A new PIN: with --pin-stdin one line, else asked twice on the terminal. */
int ctl_read_new_pin(const struct dk_ctl *c, char *pin, size_t size);

/* Log in as --tech with pin (wiped afterwards): 0, 1 for a wrong PIN or a
 * locked or disabled account, 2 for a badge or id nobody has. */
struct dk_tech;
int ctl_login(struct dk_store *store, const struct dk_ctl *c, char *pin,
              struct dk_tech *tech);

/* Verbs, one group a file. */
int ctl_keygen(struct dk_ctl *c);       /* src/ctl_keys.c */
int ctl_pubkey(struct dk_ctl *c);       /* src/ctl_keys.c */
int ctl_tech(struct dk_ctl *c);         /* src/ctl_intake.c: tech add|disable|list */
int ctl_receive(struct dk_ctl *c);      /* src/ctl_intake.c */
int ctl_cleanout(struct dk_ctl *c);     /* src/ctl_intake.c */
int ctl_discrepancies(struct dk_ctl *c);/* src/ctl_intake.c */
int ctl_dispose(struct dk_ctl *c);      /* src/ctl_dispose.c: dispose, wipe, ... */
int ctl_manifest(struct dk_ctl *c);     /* src/ctl_dispose.c */
int ctl_reserve(struct dk_ctl *c);      /* src/ctl_dispose.c */
int ctl_report(struct dk_ctl *c);       /* src/ctl_report.c */
int ctl_printer(struct dk_ctl *c);      /* src/ctl_print.c: printer status */
int ctl_reprint(struct dk_ctl *c);      /* src/ctl_print.c */
int ctl_digest(struct dk_ctl *c);       /* src/ctl_digest.c */

#endif
