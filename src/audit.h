/* The append-only, hash-chained audit trail.
 *
 * Each row's hash is SHA-256 over the previous row's hash and the row's own
 * fields, so editing, inserting or deleting a row breaks the chain from that
 * row on. */
#ifndef DK_AUDIT_H
#define DK_AUDIT_H

#include "store.h"

#include <stdint.h>

/* Append one row (time is now, UTC).  Must be called inside the caller's
 * transaction, so that the audit row commits with the change it records.
 * actor is e.g. "kiosk:bolling-1", "cli" or "tech:T0001"; details may be
 * NULL.  0 or DK_EDB. */
int audit_append(struct dk_store *store, const char *actor, const char *action,
                 const char *subject, const char *details, struct dk_error *err);

/* Walk the whole chain.  0 when every row matches; DK_EFORGED with the
 * first row that does not in *bad_id and err; DK_EDB on a database error.
 * *rows receives the number of rows checked (may be NULL). */
int audit_verify(struct dk_store *store, int64_t *bad_id, int64_t *rows, struct dk_error *err);

#endif
