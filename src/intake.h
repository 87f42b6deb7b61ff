/* Technician intake: confirming that returned devices physically arrived.
 *
 * A return moves 'dropped' -> 'received' when a technician scans the device
 * again, checks the charger and notes its condition.  A device received
 * that was never dropped is a walk-in: a new return row, already received,
 * flagged.  A clean-out records a whole cart from one school as returned
 * and received at once.  Each device is one transaction holding the return
 * row, its audit row and, when someone identified at the kiosk returned
 * it, the confirmation email in the outbox.
 *
 * Times are passed in (now, UTC); email shows local time, so the caller
 * sets TZ from the config's [kiosk] timezone. */
#ifndef DK_INTAKE_H
#define DK_INTAKE_H

#include "config.h"
#include "store.h"
#include "tech.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DK_INTAKE_NOTE_MAX 500

enum dk_charger_check {
    /* Receive: what the person declared at the kiosk (a walk-in has no
     * declaration and is refused without an answer).  Clean-out: not
     * checked (charger_verified stays NULL). */
    DK_CHARGER_DEFAULT = -1,
    DK_CHARGER_MISSING = 0,
    DK_CHARGER_PRESENT = 1,
};

/* What the technician says about one device. */
struct dk_intake_item {
    const char *scan;      /* asset tag, serial or IMEI as scanned or typed */
    int charger;           /* enum dk_charger_check */
    const char *condition; /* good, worn, damaged, not_working; NULL when not
                              assessed */
    const char *note; /* free text up to DK_INTAKE_NOTE_MAX bytes, or NULL */
};

enum dk_intake_outcome {
    DK_INTAKE_RECEIVED, /* a dropped return is now received */
    DK_INTAKE_WALK_IN, /* never dropped: a new return, received, flag_walk_in */
    DK_INTAKE_CLEANED_OUT, /* clean-out: a new return, returned and received at
                              once */
};

struct dk_intake_result {
    enum dk_intake_outcome outcome;
    int64_t return_id;
    char tag[256];
    char model[256];      /* "" for a device not in the inventory */
    bool known;           /* in the inventory */
    bool charger_checked; /* false: a clean-out without --charger */
    bool charger_present;
    bool mail_queued;  /* a confirmation is in the outbox */
    bool mail_problem; /* the mail layer refused an address: logged, not queued
                        */
    char mail_to[256];
    char mail_cc[256]; /* "" when the leader gets no copy */
};

/* true when condition is one of good, worn, damaged, not_working. */
bool intake_condition_ok(const char *condition);

/* Parse "present" / "missing" into *out (enum dk_charger_check); NULL
 * gives DK_CHARGER_DEFAULT.  false for anything else. */
bool intake_parse_charger(const char *text, int *out);

/* Check what can be checked without the database: the scan is a device
 * label (not a badge, a kiosk control code or text the [scan] rules
 * refuse), the condition is known, the note is clean text within its
 * limit.  0 or DK_EINPUT naming what is wrong. */
int intake_check_item(const struct dk_config *cfg,
                      const struct dk_intake_item *item, struct dk_error *err);

/* Receive one device as technician tech at time now.  res may be NULL.
 * Refusals, with nothing changed and the reason in err:
 *   DK_EINPUT     the item fails intake_check_item, or a walk-in has no
 *                 charger answer;
 *   DK_ENOTFOUND  a serial (or other text) no device has;
 *   -EPERM        the device was recycled (inventory_recycled): it cannot
 *                 come back into use;
 *   -EALREADY     a return of the device is received and not yet
 *                 dispositioned (even when a newer drop is waiting).
 * DK_EDB on a database failure.  Runs its own transaction: none may be
 * open.  A confirmation the mail layer cannot compose (a malformed staff
 * address) does not undo the receive: it is logged and res->mail_problem
 * set. */
int intake_receive(struct dk_store *store, const struct dk_config *cfg,
                   const struct dk_tech *tech,
                   const struct dk_intake_item *item, time_t now,
                   struct dk_intake_result *res, struct dk_error *err);

/* The refusals intake_receive would give for item, found without writing
 * anything, so a front end can say them before asking for a PIN (and
 * recording a login).  0, DK_EINPUT, DK_ENOTFOUND, -EPERM, -EALREADY or
 * DK_EDB as intake_receive.  Only a later writer can make the real receive
 * differ. */
int intake_check_receive(struct dk_store *store, const struct dk_config *cfg,
                         const struct dk_intake_item *item,
                         struct dk_error *err);

/* What a clean-out applies to every device of the cart. */
struct dk_cleanout {
    const char *school;    /* required: where the cart came from */
    int charger;           /* enum dk_charger_check, for the whole cart */
    const char *condition; /* or NULL */
};

struct dk_cleanout_counts {
    int cleaned_out; /* new returns, returned and received at once */
    int received;    /* were already dropped at a kiosk: received as usual */
    int unknown;     /* of those, not in the inventory (flagged, still taken) */
    int refused;     /* recycled, already received, or no device has that
                        serial */
};

/* Clean out a cart: each of the n scans (tags, serials or IMEIs) in its
 * own transaction, so a cart of hundreds never holds the kiosk's write lock
 * for long and a failure keeps what went before.  A new return has
 * cleanout_school set, returned_by NULL and no email; a device already
 * dropped at a kiosk is received as intake_receive would (confirmation
 * included).  An asset tag or IMEI the inventory lacks is taken and flagged
 * (flag_unknown_asset) as the kiosk does.  fn (may be NULL) hears of
 * every device in turn: its index, 0 or its refusal code (as
 * intake_receive's), the result (when 0) and the reason (when not).  A
 * device refused (recycled, already received, a serial nobody has) is
 * counted and the cart goes on.  Returns DK_EINPUT when the school or the options are
 * bad (nothing done), DK_EDB when the database fails (the devices before it
 * stay recorded), else 0.  counts may be NULL. */
int intake_cleanout(struct dk_store *store, const struct dk_config *cfg,
                    const struct dk_cleanout *opts, const struct dk_tech *tech,
                    const char *const *scans, size_t n, time_t now,
                    void (*fn)(size_t i, int rc,
                               const struct dk_intake_result *res,
                               const struct dk_error *err, void *user),
                    void *user, struct dk_cleanout_counts *counts,
                    struct dk_error *err);

enum dk_discrepancy_kind {
    DK_DISC_WALK_IN,         /* received without ever being dropped */
    DK_DISC_NOT_RECEIVED,    /* dropped longer ago than the overdue days */
    DK_DISC_CHARGER_MISSING, /* charger declared at the kiosk, verified missing
                              */
};

/* One discrepancy; strings are "" when the column is empty and live only
 * during the callback. */
struct dk_discrepancy {
    enum dk_discrepancy_kind kind;
    int64_t return_id;
    const char *tag;
    const char *model;
    const char *returned_at; /* UTC */
    const char *received_at; /* UTC */
    const char *returned_by; /* staff id */
    const char *technician;
    int days_waiting; /* not received: whole days since the drop */
};

/* "walk-in", "not received", "charger missing". */
const char *intake_discrepancy_name(enum dk_discrepancy_kind kind);

/* Call fn for every walk-in, every return still 'dropped' overdue_days or
 * more after its drop, and every charger declared but verified missing, in
 * that order, oldest first within each.  Walk-ins and chargers are listed
 * whatever became of the device since, so a later disposition does not
 * hide them.  0 or DK_EDB. */
int intake_discrepancies(struct dk_store *store, int overdue_days, time_t now,
                         void (*fn)(const struct dk_discrepancy *d, void *user),
                         void *user, struct dk_error *err);

#endif
