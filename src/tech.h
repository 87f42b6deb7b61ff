/* Technician accounts: who may receive, clean out and dispose of devices.
 *
 * A technician has a generated id ("T0001"), a name, a badge code (unique)
 * and a PIN of 4 to 12 digits kept only as an Argon2id hash in libsodium's
 * string form (crypto_pwhash_str, interactive limits).  Five wrong PINs in
 * a row lock the account for 15 minutes.  Every change and every login
 * attempt, good or bad, is an audit row; the PIN never is.
 *
 * Times are UTC; functions that judge a lock take the time as an argument,
 * so tests can step past a lock without waiting for it. */
#ifndef DK_TECH_H
#define DK_TECH_H

#include "store.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#define DK_TECH_PIN_MIN 4
#define DK_TECH_PIN_MAX 12
#define DK_TECH_MAX_FAILS 5            /* wrong PINs in a row before a lock */
#define DK_TECH_LOCK_SECONDS (15 * 60) /* how long a lock lasts */
#define DK_TECH_BADGE_MAX 64

struct dk_tech {
    char id[16]; /* "T0001" */
    char name[256];
    char badge[DK_TECH_BADGE_MAX + 1];
    bool active;           /* false once disabled */
    int failed_logins;     /* wrong PINs in a row since the last good one */
    char locked_until[32]; /* UTC "YYYY-MM-DDTHH:MM:SSZ", or "" */
    char created_at[32];
};

/* true when pin is 4 to 12 ASCII digits. */
bool tech_pin_ok(const char *pin);

/* Add a technician with the next free id (T0001, T0002, ...), written to
 * id_out (at least 16 bytes).  actor names who did it in the audit row
 * ("cli").  DK_EINPUT naming the field for an empty or over-long name, a
 * badge that is empty, over DK_TECH_BADGE_MAX bytes, has spaces or control
 * characters, looks like a technician id, or already belongs to someone,
 * and for a PIN that is not 4-12 digits; -ENOMEM when hashing runs out of
 * memory; DK_EDB.  Runs its own transaction: none may be open. */
int tech_add(struct dk_store *store, const char *name, const char *badge,
             const char *pin, const char *actor, char *id_out,
             struct dk_error *err);

/* Disable a technician: no login succeeds afterwards.  Disabling one
 * already disabled is not an error (nothing is written).  DK_ENOTFOUND,
 * DK_EDB.  Runs its own transaction. */
int tech_disable(struct dk_store *store, const char *id, const char *actor,
                 struct dk_error *err);

/* How many technicians can log in (active, locked or not): *n.  0 or
 * DK_EDB.  With none, the first account may be added without a login. */
int tech_active_count(struct dk_store *store, int *n, struct dk_error *err);

/* Find a technician by id or badge, without any check.  0, DK_ENOTFOUND,
 * DK_EDB. */
int tech_find(struct dk_store *store, const char *badge_or_id,
              struct dk_tech *out, struct dk_error *err);

/* Check a PIN at time now and record the attempt.  actor names the program
 * the attempt came through ("cli"; NULL is recorded as "unknown").  On
 * success *out is the technician, the run of wrong PINs is forgotten and a
 * "tech login" audit row is written (actor "tech:ID").  Refusals, each with
 * the reason in err and a "tech login failed" audit row (actor "tech:ID"):
 *   DK_ENOTFOUND  no technician has that badge or id.  What was typed may
 *                 be a PIN, so it is neither echoed in err ("no technician
 *                 has that badge or id") nor stored: the row has actor
 *                 actor, subject "unknown badge" and only its length;
 *   DK_EPERM      the account is disabled;
 *   DK_ETEMP      the account is locked (until a time given in err), or
 *                 this wrong PIN was the fifth in a row and locked it (a
 *                 "tech locked" row follows the failure);
 *   -EACCES       a wrong PIN, the account still open.
 * DK_EDB on a database failure.  Runs its own transaction (none may be
 * open), so a refusal is on disk even though the caller goes no further. */
int tech_login(struct dk_store *store, const char *badge_or_id, const char *pin,
               const char *actor, time_t now, struct dk_tech *out,
               struct dk_error *err);

/* Print every technician (id, name, badge, status at time now: active,
 * disabled or "locked until ...", created) as an aligned table, or as CSV
 * with a header line when csv is true.  0, DK_EDB, -EIO when out fails. */
int tech_list(struct dk_store *store, FILE *out, bool csv, time_t now,
              struct dk_error *err);

/* now as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void tech_utc_text(time_t now, char *buf, size_t size);

#endif
