/* The kiosk's receipt printer: the first [printer NAME] of the config, and
 * whether it is in service.
 *
 * Before a person is offered a paper receipt the printer is asked its
 * state.  Paper out, cover open, offline or no answer takes it out of
 * service: the kiosk stops offering paper (the on-screen code and email
 * remain) and asks again, while no visit is open, every recheck_seconds
 * of its [printer NAME] section until it answers ready. */
#ifndef DK_RECEIPT_PRINTER_H
#define DK_RECEIPT_PRINTER_H

#include "config.h"
#include "error.h"
#include "printer.h"
#include "store.h"

#include <stdbool.h>
#include <time.h>

struct dk_receipt_printer;

/* *out is NULL (and 0 returned) when the config has no printer or
 * [receipt] print = never.  -ENOMEM otherwise on failure. */
int receipt_printer_new(const struct dk_config *cfg, struct dk_receipt_printer **out);

/* Free; accepts NULL. */
void receipt_printer_free(struct dk_receipt_printer *rp);

/* Whether the printer is in service (as last asked; does not ask). */
bool receipt_printer_in_service(const struct dk_receipt_printer *rp);

/* The printer's name as configured. */
const char *receipt_printer_name(const struct dk_receipt_printer *rp);

/* Whether paper can be offered now: false while out of service, without
 * asking the printer; otherwise the printer is asked (up to its
 * timeout_ms) and a state other than ready takes it out of service.
 * *state (may be NULL) gets the last state known. */
bool receipt_printer_ready(struct dk_receipt_printer *rp, enum dk_printer_state *state);

/* Print the committed receipt receipt_id (rebuilt from the database, in
 * the language it was made in) and record the attempt in `prints` and the
 * audit trail as actor.  0 when printed; otherwise the printer is taken out
 * of service, the reason is in err, and the failed attempt is recorded
 * (DK_EDB when even that fails). */
int receipt_printer_print(struct dk_receipt_printer *rp, struct dk_store *store,
                          const char *receipt_id, const char *actor, struct dk_error *err);

/* One print attempt, for receipt_printer_record. */
struct dk_print_attempt {
    const char *receipt_id;
    const char *printer;     /* [printer NAME] */
    const char *actor;       /* prints.actor: "kiosk:ID" or a technician's id */
    const char *audit_actor; /* the audit row's actor: "kiosk:ID" or "tech:ID" */
    bool reprint;            /* a technician's reprint, not the kiosk's first print */
    const char *reason;      /* why it failed; NULL when printed */
};

/* Keep the attempt a: a `prints` row and its audit row ("receipt printed",
 * "receipt print failed", "receipt reprinted", "receipt reprint failed"),
 * in one transaction of their own.  0 or DK_EDB. */
int receipt_printer_record(struct dk_store *store, const struct dk_print_attempt *a,
                           struct dk_error *err);

/* While out of service, ask the printer again when recheck_seconds have
 * passed since the last try (now: CLOCK_MONOTONIC seconds).  Call
 * only while no visit is open: the query may take timeout_ms. */
void receipt_printer_tick(struct dk_receipt_printer *rp, time_t now);

/* Seconds until receipt_printer_tick has something to do, or -1 (in
 * service, or rp NULL). */
int receipt_printer_timeout_in(const struct dk_receipt_printer *rp, time_t now);

#endif
