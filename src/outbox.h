/* The mail outbox.  Every message is written to the `outbox` table in the
 * same transaction as the event that causes it, and leaves the pending
 * state only when the server (or the spool) has accepted it, or when it
 * cannot go as things stand: the server refuses it for good (5xx), or our
 * own [mail] settings are wrong (STARTTLS required but not offered, login
 * refused).  Failed rows are kept; outbox_retry puts them back.  Temporary
 * failures are retried with exponential backoff.  A message is sent twice
 * only when the sender stops between the server's acceptance and the
 * commit of 'sent' (RFC 1047; see deliver_one in outbox.c), and then with
 * the same Message-ID. */
#ifndef DK_OUTBOX_H
#define DK_OUTBOX_H

#include "config.h"
#include "mail.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Queue m (its message_id is ignored: one is made from the new row's id,
 * "dropkiosk.<id>.<unix time>@<domain of m->from>", so a retried message is
 * recognisably the same one).  Recipients are m->to and m->cc.  Must be
 * called inside the caller's transaction (-EINVAL otherwise); a refusal
 * leaves that transaction as it was.  `kind` is "receipt", "ticket", ...
 * *id (may be NULL) gets the row id.  0, DK_EINPUT for a malformed address
 * or header (see mail_compose), DK_EDB. */
int outbox_enqueue(struct dk_store *store, const char *kind,
                   const struct dk_mail *m, int64_t *id, struct dk_error *err);

struct dk_outbox_counts {
    int sent;
    int failed;   /* refused for good this round */
    int deferred; /* temporary failure, will be retried */
};

/* Try once to deliver every pending message whose next attempt is due,
 * through cfg's transport (spool Maildir or SMTP via libcurl).  Before an
 * attempt the row is claimed (attempts+1, next_attempt pushed past the
 * attempt's longest time, so a second deliverer skips it); right after,
 * its outcome is committed: sent (with sent_at), failed (a 5xx refusal,
 * the server's words in last_error; or a reason naming the [mail] setting
 * to fix) or still pending with next_attempt pushed back by
 * min(retry_base * 2^(attempts-1), retry_max) less up to 10% jitter,
 * attempts counting this one.  No transaction may be open on store.
 * counts may be NULL.  0 or DK_EDB; delivery failures are recorded on the
 * rows, not returned. */
int outbox_deliver_due(struct dk_store *store, const struct dk_config *cfg,
                       struct dk_outbox_counts *counts, struct dk_error *err);

/* Print every outbox row (id, status, attempts, next attempt in UTC for
 * pending rows, recipients, subject, last error) to out: an aligned table
 * for people, or CSV with a header line (RFC 4180 quoting) when csv is
 * true.  For `dropkioskctl outbox`.  0, DK_EDB, or -EIO when out fails. */
int outbox_list(struct dk_store *store, FILE *out, bool csv,
                struct dk_error *err);

/* Put failed messages back in the queue, for after an operator has fixed
 * what failed them (the [mail] config, a mailbox): status pending,
 * attempts 0, due now, last_error cleared, and an audit row for each
 * (actor, "outbox retry", the id, the error it had), all in one
 * transaction.  The rows are ids[0..n-1] (repeats count once), or every
 * failed row when all_failed is true (ids and n are then ignored).  All
 * or nothing: an id that does not exist or is not failed (a pending row
 * may be mid-attempt; a sent one must not go twice) is DK_EINPUT, naming
 * it, and nothing changes.  *count (may be NULL) gets how many rows came
 * back.  No transaction may be open on store.  0, DK_EINPUT or DK_EDB. */
int outbox_retry(struct dk_store *store, const int64_t *ids, size_t n,
                 bool all_failed, const char *actor, int *count,
                 struct dk_error *err);

#endif
