#include "digest.h"

#include "audit.h"
#include "log.h"
#include "notice_digest.h"
#include "outbox.h"
#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A kiosk takes a few hundred devices on its busiest day; this many rows
 * for one day means a query gone wrong, and stopping beats exhausting
 * memory. */
#define DIGEST_MAX_ROWS ((size_t)100000)

/* One return of the day, as read from the store. */
struct row {
    char *leader; /* lower case */
    char *returner_name;
    char *returner_id;
    char *assignee_name;
    char *assignee_id;
    char *tag;
    char *make;
    char *model;
    char *disposition;
    char time[8]; /* local "HH:MM" */
    bool charger_declared;
    bool not_assignee;
    bool unknown_asset;
    enum dk_digest_status status;
};

struct rows {
    struct row *v;
    size_t n;
    size_t cap;
};

/* The returns of [?1, ?2) (UTC text) that some leader hears of, grouped
 * by leader, in the order they were made (column 1, the return's id, only
 * orders two made in one second).  Whose leader: see digest.h.  A
 * returner without a staff row (removed since) has no leader to find, and
 * is left out like one without a leader. */
static const char day_sql[] =
    "SELECT leader, id, returned_at, returner_name, returner_id, assignee_name, "
    "  assignee_id, tag, make, model, state, charger_verified, charger_expected, "
    "  disposition, charger_declared, not_assignee, unknown_asset "
    "FROM (SELECT "
    "  lower(CASE WHEN r.returned_by IS NOT NULL THEN rs.leader_email "
    "    ELSE asg.leader_email END) AS leader, "
    "  r.id AS id, r.returned_at AS returned_at, "
    "  coalesce(rs.name, '') AS returner_name, "
    "  coalesce(r.returned_by, '') AS returner_id, "
    "  coalesce(asg.name, '') AS assignee_name, coalesce(asg.id, '') AS assignee_id, "
    "  r.asset_tag AS tag, coalesce(a.make, '') AS make, coalesce(a.model, '') AS model, "
    "  r.state AS state, r.charger_verified AS charger_verified, "
    "  coalesce(a.charger_expected, 1) AS charger_expected, "
    "  coalesce(r.disposition, '') AS disposition, "
    "  r.charger_declared AS charger_declared, "
    "  r.flag_not_assignee AS not_assignee, r.flag_unknown_asset AS unknown_asset "
    "  FROM returns r "
    "  LEFT JOIN staff rs ON rs.id = r.returned_by "
    "  LEFT JOIN staff asg ON r.returned_by IS NULL AND asg.id = coalesce("
    "    (SELECT s.id FROM staff s WHERE s.id = r.assignee_at_time), "
    "    (SELECT CASE WHEN count(*) = 1 THEN min(s.id) END FROM staff s "
    "      WHERE s.email = r.assignee_at_time COLLATE NOCASE)) "
    "  LEFT JOIN assets a ON a.tag = r.asset_tag "
    "  WHERE r.returned_at >= ?1 AND r.returned_at < ?2 "
    "    AND r.flag_walk_in = 0 AND r.cleanout_school IS NULL) "
    "WHERE leader IS NOT NULL AND leader <> '' "
    "ORDER BY leader, returned_at, id";

/* The actor of the audit rows: the digest job, whichever program ran it. */
#define DIGEST_ACTOR "digest"

void digest_day_of(time_t t, char *day, size_t size)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(day, size, "%Y-%m-%d", &tm);
}

/* Whether the local time tm is before [mail] digest_time.  Wall-clock
 * minutes, so on a daylight-saving day the digest is still due at the
 * time on the lobby's clock. */
static bool before_digest_time(const struct dk_config *cfg, const struct tm *tm)
{
    return tm->tm_hour * 60 + tm->tm_min < cfg->digest_minute;
}

bool digest_due(const struct dk_config *cfg, time_t now, const char *last_day,
                char *day, size_t size)
{
    struct tm tm;

    if (!cfg->digest)
        return false;
    localtime_r(&now, &tm);
    if (before_digest_time(cfg, &tm))
        return false;
    strftime(day, size, "%Y-%m-%d", &tm);
    return strcmp(day, last_day) != 0;
}

void digest_last_due_day(const struct dk_config *cfg, time_t now, char *day,
                         size_t size)
{
    struct tm tm;

    localtime_r(&now, &tm);
    if (before_digest_time(cfg, &tm)) {
        /* Noon of the day before: mktime turns day 0 into the last of the
         * month before, and noon is clear of any daylight-saving change. */
        tm.tm_mday -= 1;
        tm.tm_hour = 12;
        tm.tm_min = 0;
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        mktime(&tm);
    }
    strftime(day, size, "%Y-%m-%d", &tm);
}

/* Today's digest queued before digest_time would record the day as done
 * for each leader, and the returns of the rest of the day would reach
 * nobody; the daemon never asks that early, and nor may anyone else. */
static int check_due(const struct dk_config *cfg, const char *day, time_t now,
                     struct dk_error *err)
{
    struct tm tm;
    char today[11];

    localtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    if (strcmp(day, today) != 0 || !before_digest_time(cfg, &tm))
        return 0;
    return dk_error_set(err, DK_EINPUT,
        "the digest of %s is due at %02d:%02d; give --date for a finished day, or wait",
        day, cfg->digest_minute / 60, cfg->digest_minute % 60);
}

static void utc_text(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Midnight starting the local day y-m-d; mktime moves a day past the end
 * of a month into the next. */
static time_t local_midnight(int y, int m, int d)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};

    return mktime(&tm);
}

/* The UTC bounds [from, until) of the local day, as the store writes
 * times.  Two local midnights, so a day of 23 or 25 hours (a
 * daylight-saving change) is covered whole. */
static int day_bounds(const char *day, time_t now, char *from, char *until,
                      size_t size, struct dk_error *err)
{
    time_t start, end;
    int y, m, d;

    if (!report_day_ok(day) || sscanf(day, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return dk_error_set(err, DK_EINPUT,
                            "bad day '%s': give a day as YYYY-MM-DD", day);
    start = local_midnight(y, m, d);
    end = local_midnight(y, m, d + 1);
    if (start == (time_t)-1 || end == (time_t)-1)
        return dk_error_set(err, DK_EINPUT,
                            "bad day '%s': outside the times this system keeps",
                            day);
    if (start > now)
        return dk_error_set(err, DK_EINPUT,
                            "the day %s has not begun: no digest for it yet",
                            day);
    utc_text(start, from, size);
    utc_text(end, until, size);
    return 0;
}

static void row_free(struct row *r)
{
    free(r->leader);
    free(r->returner_name);
    free(r->returner_id);
    free(r->assignee_name);
    free(r->assignee_id);
    free(r->tag);
    free(r->make);
    free(r->model);
    free(r->disposition);
}

static void rows_free(struct rows *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        row_free(&rs->v[i]);
    free(rs->v);
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return strdup(t != NULL ? (const char *)t : "");
}

/* "HH:MM" local for a stored UTC time; "??:??" for one that does not read
 * as the store writes times, so a damaged row still reaches its leader. */
static void local_hhmm(const char *utc, char *buf, size_t size)
{
    struct tm tm = {0};
    const char *end = strptime(utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    time_t t;

    if (end == NULL || *end != '\0') {
        snprintf(buf, size, "??:??");
        return;
    }
    t = timegm(&tm);
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M", &tm);
}

/* The state and checks of a return, as the digest words them.  A charger
 * is reported verified or missing only for a device that has one to give
 * back, and only once a technician has looked. */
static enum dk_digest_status status_of(sqlite3_stmt *st)
{
    const char *state = (const char *)sqlite3_column_text(st, 10);
    bool checked = sqlite3_column_type(st, 11) != SQLITE_NULL;
    bool expected = sqlite3_column_int(st, 12) != 0;

    if (state != NULL && strcmp(state, "dispositioned") == 0)
        return DK_DIGEST_DISPOSITIONED;
    if (state == NULL || strcmp(state, "received") != 0)
        return DK_DIGEST_DROPPED;
    if (!checked || !expected)
        return DK_DIGEST_RECEIVED;
    return sqlite3_column_int(st, 11) ? DK_DIGEST_CHARGER_VERIFIED
                                      : DK_DIGEST_CHARGER_MISSING;
}

static int row_read(sqlite3_stmt *st, struct row *r)
{
    memset(r, 0, sizeof(*r));
    r->leader = col_dup(st, 0);
    local_hhmm((const char *)sqlite3_column_text(st, 2), r->time,
               sizeof(r->time));
    r->returner_name = col_dup(st, 3);
    r->returner_id = col_dup(st, 4);
    r->assignee_name = col_dup(st, 5);
    r->assignee_id = col_dup(st, 6);
    r->tag = col_dup(st, 7);
    r->make = col_dup(st, 8);
    r->model = col_dup(st, 9);
    r->status = status_of(st);
    r->disposition = col_dup(st, 13);
    r->charger_declared = sqlite3_column_int(st, 14) != 0;
    r->not_assignee = sqlite3_column_int(st, 15) != 0;
    r->unknown_asset = sqlite3_column_int(st, 16) != 0;
    if (r->leader == NULL || r->returner_name == NULL ||
        r->returner_id == NULL || r->assignee_name == NULL ||
        r->assignee_id == NULL || r->tag == NULL || r->make == NULL ||
        r->model == NULL || r->disposition == NULL) {
        row_free(r);
        return -ENOMEM;
    }
    return 0;
}

static int rows_add(struct rows *rs, sqlite3_stmt *st, struct dk_error *err)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap == 0 ? 32 : rs->cap * 2;
        struct row *v;

        if (rs->n >= DIGEST_MAX_ROWS)
            return dk_error_set(err, -ENOMEM,
                                "digest: more than %zu returns in one day",
                                DIGEST_MAX_ROWS);
        v = realloc(rs->v, cap * sizeof(*v));
        if (v == NULL)
            return dk_error_set(err, -ENOMEM, "out of memory");
        rs->v = v;
        rs->cap = cap;
    }
    if (row_read(st, &rs->v[rs->n]) != 0)
        return dk_error_set(err, -ENOMEM, "out of memory");
    rs->n++;
    return 0;
}

static int read_day(struct dk_store *store, const char *from, const char *until,
                    struct rows *rs, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, day_sql, &st, err);
    int step = SQLITE_DONE;

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, until, -1, SQLITE_STATIC);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = rows_add(rs, st, err);
    if (rc == 0 && step != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot read the returns of the day: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

/* 1 when leader's digest of day is recorded, 0 when not, DK_EDB. */
static int already_queued(struct dk_store *store, const char *leader,
                          const char *day, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store, "SELECT 1 FROM digests WHERE leader_email = ? AND day = ?", &st,
        err);
    int step;

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, leader, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = 1;
    else if (step != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot read the digests queued: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

static int record(struct dk_store *store, const char *leader, const char *day,
                  int64_t outbox_id, size_t n, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char details[96];
    int rc = store_prepare(
        store,
        "INSERT INTO digests (leader_email, day, outbox_id) VALUES (?, ?, ?)",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, leader, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, outbox_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record the digest for %s: %s",
                          leader, sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    if (rc != 0)
        return rc;
    snprintf(details, sizeof(details), "day=%s returns=%zu outbox=%lld", day, n,
             (long long)outbox_id);
    return audit_append(store, DIGEST_ACTOR, "digest queued", leader, details,
                        err);
}

static void item_of(const struct row *r, struct dk_digest_item *it)
{
    *it = (struct dk_digest_item){
        .time = r->time,
        .returner_name = r->returner_name,
        .returner_id = r->returner_id,
        .assignee_name = r->assignee_name,
        .assignee_id = r->assignee_id,
        .tag = r->tag,
        .make = r->make,
        .model = r->model,
        .charger_declared = r->charger_declared,
        .status = r->status,
        .disposition = r->disposition,
        .not_assignee = r->not_assignee,
        .unknown_asset = r->unknown_asset,
    };
}

/* Queue one leader's digest from their n rows, unless it is recorded
 * already.  0 with *queued set, or an error that aborts the whole run. */
static int queue_leader(struct dk_store *store, const struct dk_config *cfg,
                        const char *day, const char *as_of,
                        const struct row *rows, size_t n, bool *queued,
                        struct dk_error *err)
{
    const char *leader = rows[0].leader;
    struct dk_digest_item *items = NULL;
    struct dk_notice notice = {0};
    int64_t outbox_id = 0;
    int rc = already_queued(store, leader, day, err);

    *queued = false;
    if (rc != 0)
        return rc < 0 ? rc : 0;

    items = calloc(n, sizeof(*items));
    if (items == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        item_of(&rows[i], &items[i]);
    rc = notice_digest(cfg, &(struct dk_digest_notice){day, as_of, items, n},
                       &notice);
    if (rc != 0) {
        dk_error_set(err, rc, "out of memory");
        goto out;
    }

    rc = outbox_enqueue(store, "digest",
                        &(struct dk_mail){.from = cfg->mail_from,
                                          .to = leader,
                                          .subject = notice.subject,
                                          .text = notice.text,
                                          .html = notice.html},
                        &outbox_id, err);
    if (rc == DK_EINPUT) {
        /* outbox_enqueue took its row back; the other leaders still get
         * theirs, and this one is not recorded, so a corrected import can
         * still have it sent. */
        log_error("cannot queue the digest of %s for %s: %s", day, leader,
                  err->msg);
        rc = 0;
        goto out;
    }
    if (rc == 0)
        rc = record(store, leader, day, outbox_id, n, err);
    *queued = rc == 0;
out:
    notice_free(&notice);
    free(items);
    return rc;
}

static int queue_all(struct dk_store *store, const struct dk_config *cfg,
                     const char *day, const char *as_of, const struct rows *rs,
                     int *n_queued, struct dk_error *err)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < rs->n;) {
        size_t j = i + 1;
        bool queued = false;

        while (j < rs->n && strcmp(rs->v[j].leader, rs->v[i].leader) == 0)
            j++;
        rc = queue_leader(store, cfg, day, as_of, &rs->v[i], j - i, &queued,
                          err);
        *n_queued += queued;
        i = j;
    }
    return rc;
}

int digest_queue(struct dk_store *store, const struct dk_config *cfg,
                 const char *day, time_t now, int *n_queued,
                 struct dk_error *err)
{
    struct rows rs = {0};
    char from[32], until[32], as_of[64];
    struct tm tm;
    int queued = 0;
    int rc = day_bounds(day, now, from, until, sizeof(from), err);

    *n_queued = 0;
    if (rc == 0)
        rc = check_due(cfg, day, now, err);
    if (rc != 0)
        return rc;
    localtime_r(&now, &tm);
    strftime(as_of, sizeof(as_of), "%Y-%m-%d %H:%M %Z", &tm);

    /* The returns are read inside the transaction, so the rows recorded in
     * `digests` are exactly the ones the digests list. */
    rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = read_day(store, from, until, &rs, err);
    if (rc == 0)
        rc = queue_all(store, cfg, day, as_of, &rs, &queued, err);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    else
        *n_queued = queued;
    rows_free(&rs);
    return rc;
}

int digest_count_done(struct dk_store *store, const char *day, int *n,
                      struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, "SELECT count(*) FROM digests WHERE day = ?",
                           &st, err);

    *n = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    else
        rc = dk_error_set(err, DK_EDB, "cannot read the digests queued: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}
