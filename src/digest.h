/* The leaders' daily digest: once a day, one email to each leader
 * (staff.leader_email) listing the devices their staff returned at this
 * kiosk that local day, with where each device is now.
 *
 * Which returns count, and whose leader hears of them:
 *   - returns dropped at the kiosk whose drop time falls in the local day
 *     (the process's TZ, set by the caller from [kiosk] timezone).  Walk-ins
 *     and clean-outs are left out: a technician recorded them, nobody
 *     handed them in, and the technicians' discrepancy list is where they
 *     are followed up;
 *   - a return by a known person goes to that person's leader;
 *   - a return without a known returner (SKIP at the kiosk) goes to the
 *     leader of the device's assignee at the time of the return, when the
 *     assignee is a staff member found by id (or by an email only one staff
 *     member has): it is that leader's staff member's device that came
 *     back.  Otherwise, and for anyone without a leader, it is left out:
 *     there is nobody to tell;
 *   - leaders are told apart by their address ignoring case, so two spellings
 *     of one address get one digest.
 *
 * Each digest queued is recorded in the `digests` table (leader, day) in
 * the same transaction as its outbox row, so a day's digest goes to a
 * leader once, whoever asks again and whenever (a second call, a restart,
 * dropkioskctl digest, a crash half-way, which commits nothing).
 *
 * A day's digest is never queued before it is due (today's before
 * [mail] digest_time), by the daemon or by hand.
 *
 * TODO(digest): a return after the day's digest was queued (after
 * [mail] digest_time) is in no digest, because the day is recorded as done
 * for its leader; set digest_time after the lobby closes. */
#ifndef DK_DIGEST_H
#define DK_DIGEST_H

#include "config.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Queue the digests of day ("YYYY-MM-DD", local) that are not yet recorded,
 * in one transaction of their own (none may be open on store): one outbox
 * message (kind "digest") per leader with returns that day, its `digests`
 * row and an audit row.  now is when the status of each device is read
 * ("as of" in the text).  A leader whose address the mail layer refuses
 * is logged and left unrecorded (a corrected import can still get it
 * sent); the others go ahead.  *n_queued gets the number queued (0 when
 * there were no returns or all were queued before).  0; DK_EINPUT for a
 * day that is not a calendar day or has not begun by now, or that is
 * today while the local time of now is before cfg->digest_minute ("the
 * digest of DAY is due at HH:MM; ..."), queuing nothing; DK_EDB;
 * -ENOMEM. */
int digest_queue(struct dk_store *store, const struct dk_config *cfg,
                 const char *day, time_t now, int *n_queued,
                 struct dk_error *err);

/* How many leaders' digests of day are recorded as queued.  0 or DK_EDB. */
int digest_count_done(struct dk_store *store, const char *day, int *n,
                      struct dk_error *err);

/* The local day of t as "YYYY-MM-DD" into day (at least 11 bytes). */
void digest_day_of(time_t t, char *day, size_t size);

/* The last local day whose digest was due at now, "YYYY-MM-DD" into day
 * (at least 11 bytes): today when the local time of now is at or past
 * cfg->digest_minute, else yesterday.  Whatever cfg->digest says. */
void digest_last_due_day(const struct dk_config *cfg, time_t now, char *day,
                         size_t size);

/* Whether the daemon should queue a digest now: true, with today's local
 * day in day (at least 11 bytes), when cfg->digest is on, the local time
 * of now is at or past cfg->digest_minute and last_day (the day last
 * queued by this process, "" for none) is not today. */
bool digest_due(const struct dk_config *cfg, time_t now, const char *last_day,
                char *day, size_t size);

#endif
