/* The mail outbox.  Every message is written to the `outbox` table in the
 * same transaction as the event that causes it, and leaves the pending
 * state only when the server (or the spool) has accepted it, or when the
 * server refuses it for good (5xx).  Temporary failures are retried with
 * exponential backoff. */
#ifndef DK_OUTBOX_H
#define DK_OUTBOX_H

#include "config.h"
#include "mail.h"
#include "store.h"

#include <stdint.h>

/* Queue m (its message_id is ignored: one is made from the new row's id,
 * so a retried message is recognisably the same one).  Recipients are m->to
 * and m->cc.  Must be called inside the caller's transaction.  `kind` is
 * "receipt", "ticket", ...  *id (may be NULL) gets the row id.  0, DK_EINPUT
 * for a malformed address or header, DK_EDB. */
int outbox_enqueue(struct dk_store *store, const char *kind, const struct dk_mail *m,
                   int64_t *id, struct dk_error *err);

struct dk_outbox_counts {
    int sent;
    int failed;   /* refused for good this round */
    int deferred; /* temporary failure, will be retried */
};

/* Try once to deliver every pending message whose next attempt is due,
 * through cfg's transport (spool Maildir or SMTP via libcurl).  Each
 * message's new state is committed right after its attempt.  0 or DK_EDB;
 * delivery failures are recorded on the rows, not returned. */
int outbox_deliver_due(struct dk_store *store, const struct dk_config *cfg,
                       struct dk_outbox_counts *counts, struct dk_error *err);

#endif
