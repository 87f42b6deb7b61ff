#include "tech.h"

#include "audit.h"
#include "text.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define TECH_COLUMNS                                                           \
    "id, name, badge, active, failed_logins, locked_until, created_at"

bool tech_pin_ok(const char *pin)
{
    size_t n = strlen(pin);

    if (n < DK_TECH_PIN_MIN || n > DK_TECH_PIN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (pin[i] < '0' || pin[i] > '9')
            return false;
    }
    return true;
}

void tech_utc_text(time_t now, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    snprintf(dst, size, "%s", t != NULL ? (const char *)t : "");
}

static void read_tech(sqlite3_stmt *st, struct dk_tech *t)
{
    memset(t, 0, sizeof(*t));
    copy_col(t->id, sizeof(t->id), st, 0);
    copy_col(t->name, sizeof(t->name), st, 1);
    copy_col(t->badge, sizeof(t->badge), st, 2);
    t->active = sqlite3_column_int(st, 3) != 0;
    t->failed_logins = sqlite3_column_int(st, 4);
    copy_col(t->locked_until, sizeof(t->locked_until), st, 5);
    copy_col(t->created_at, sizeof(t->created_at), st, 6);
}

int tech_active_count(struct dk_store *store, int *n, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, "SELECT count(*) FROM technicians WHERE active = 1", &st,
                           err);

    if (rc != 0)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    else
        rc = dk_error_set(err, DK_EDB, "cannot count technicians: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

int tech_find(struct dk_store *store, const char *badge_or_id,
              struct dk_tech *out, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store,
                           "SELECT " TECH_COLUMNS
                           " FROM technicians WHERE id = ?1 OR "
                           "badge = ?1 ORDER BY id = ?1 DESC LIMIT 1",
                           &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, badge_or_id, -1, SQLITE_TRANSIENT);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        read_tech(st, out);
        break;
    case SQLITE_DONE:
        rc = dk_error_set(err, DK_ENOTFOUND,
                          "no technician has badge or id '%s'", badge_or_id);
        break;
    default:
        rc = dk_error_set(err, DK_EDB, "cannot look up technician: %s",
                          sqlite3_errmsg(store->db));
    }
    sqlite3_finalize(st);
    return rc;
}

/* A badge of the form T<digits> could one day be another technician's
 * generated id, and tech_login takes either: refuse the overlap now. */
static bool looks_like_id(const char *s)
{
    if (s[0] != 'T' || s[1] == '\0')
        return false;
    for (s++; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

static int check_new(const char *name, const char *badge, const char *pin,
                     struct dk_error *err)
{
    size_t nlen = strlen(name), blen = strlen(badge);

    if (nlen == 0 || nlen > 255 || !text_is_clean(name, nlen))
        return dk_error_set(
            err, DK_EINPUT,
            "--name must be 1 to 255 characters of text without control characters");
    if (blen == 0 || blen > DK_TECH_BADGE_MAX || !text_is_clean(badge, blen) ||
        strpbrk(badge, " \t") != NULL)
        return dk_error_set(
            err, DK_EINPUT,
            "--badge must be 1 to %d characters without spaces or control characters",
            DK_TECH_BADGE_MAX);
    if (looks_like_id(badge))
        return dk_error_set(
            err, DK_EINPUT,
            "--badge '%s' has the form of a technician id (T followed by digits); choose another",
            badge);
    if (!tech_pin_ok(pin))
        return dk_error_set(err, DK_EINPUT, "the PIN must be %d to %d digits",
                            DK_TECH_PIN_MIN, DK_TECH_PIN_MAX);
    return 0;
}

static int next_id(struct dk_store *store, char *id, size_t size,
                   struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "SELECT coalesce(max(CAST(substr(id, 2) AS INTEGER)), 0) + 1 "
        "FROM technicians",
        &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(id, size, "T%04lld", (long long)sqlite3_column_int64(st, 0));
    else
        rc = dk_error_set(err, DK_EDB, "cannot number the technician: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

static int badge_taken(struct dk_store *store, const char *badge,
                       struct dk_error *err)
{
    struct dk_tech t;
    int rc = tech_find(store, badge, &t, err);

    if (rc == DK_ENOTFOUND)
        return 0;
    if (rc == 0)
        return dk_error_set(err, DK_EINPUT,
                            "badge '%s' already belongs to technician %s",
                            badge, t.id);
    return rc;
}

static int insert_tech(struct dk_store *store, const char *id, const char *name,
                       const char *badge, const char *hash,
                       struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char now[32];
    int rc = store_prepare(
        store,
        "INSERT INTO technicians (id, name, badge, pin_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        &st, err);

    if (rc != 0)
        return rc;
    store_utc_now(now, sizeof(now));
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, badge, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot add technician: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

int tech_add(struct dk_store *store, const char *name, const char *badge,
             const char *pin, const char *actor, char *id_out,
             struct dk_error *err)
{
    char hash[crypto_pwhash_STRBYTES];
    char id[16];
    char details[128];
    int rc;

    rc = check_new(name, badge, pin, err);
    if (rc != 0)
        return rc;

    /* Hashed before the transaction: Argon2id takes a noticeable moment and
     * the kiosk must not wait on our write lock meanwhile. */
    if (crypto_pwhash_str(hash, pin, strlen(pin),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return dk_error_set(err, -ENOMEM, "cannot hash the PIN: out of memory");

    rc = store_begin(store, err);
    if (rc != 0)
        goto out;
    rc = badge_taken(store, badge, err);
    if (rc == 0)
        rc = next_id(store, id, sizeof(id), err);
    if (rc == 0)
        rc = insert_tech(store, id, name, badge, hash, err);
    if (rc == 0) {
        snprintf(details, sizeof(details), "badge=%s", badge);
        rc = audit_append(store, actor, "tech added", id, details, err);
    }
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc == 0)
        snprintf(id_out, 16, "%s", id);
out:
    if (rc != 0)
        store_rollback(store);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int tech_disable(struct dk_store *store, const char *id, const char *actor,
                 struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    struct dk_tech t;
    int rc;

    rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = tech_find(store, id, &t, err);
    if (rc == 0 && strcmp(t.id, id) != 0)
        rc = dk_error_set(
            err, DK_ENOTFOUND,
            "no technician has id '%s' (a badge was given; disable names the id, e.g. %s)",
            id, t.id);
    if (rc != 0 || !t.active)
        goto out;
    rc = store_prepare(store, "UPDATE technicians SET active = 0 WHERE id = ?",
                       &st, err);
    if (rc != 0)
        goto out;
    sqlite3_bind_text(st, 1, t.id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot disable technician %s: %s", t.id,
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    if (rc == 0)
        rc = audit_append(store, actor, "tech disabled", t.id, NULL, err);
out:
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    return rc;
}

/* ---- login -------------------------------------------------------------- */

static int read_hash(struct dk_store *store, const char *id, char *hash,
                     size_t size, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store, "SELECT pin_hash FROM technicians WHERE id = ?", &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_col(hash, size, st, 0);
    else
        rc = dk_error_set(err, DK_EDB, "cannot read technician %s: %s", id,
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

/* Set the run of wrong PINs and the lock (NULL for none). */
static int set_state(struct dk_store *store, const char *id, int fails,
                     const char *until, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "UPDATE technicians SET failed_logins = ?, locked_until = ? "
        "WHERE id = ?",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_int(st, 1, fails);
    if (until != NULL)
        sqlite3_bind_text(st, 2, until, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record login of %s: %s", id,
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

/* A wrong PIN: count it, and lock the account on the fifth in a row.  The
 * run starts again from zero after a lock, so the next 15 minutes are the
 * whole penalty and five more guesses are needed for the next one.
 * Returns the refusal for the caller (-EACCES or DK_ETEMP), or DK_EDB. */
static int wrong_pin(struct dk_store *store, const struct dk_tech *t,
                     const char *actor, time_t now, struct dk_error *err)
{
    struct dk_error dberr = {{0}};
    int fails = t->failed_logins + 1;
    char until[32];
    char details[96];
    int rc;

    snprintf(details, sizeof(details), "wrong PIN (%d in a row)", fails);
    rc =
        audit_append(store, actor, "tech login failed", t->id, details, &dberr);
    if (rc == 0 && fails < DK_TECH_MAX_FAILS)
        rc = set_state(store, t->id, fails, NULL, &dberr);
    if (rc == 0 && fails < DK_TECH_MAX_FAILS)
        return dk_error_set(
            err, -EACCES,
            "wrong PIN for technician %s (%d of %d tries before a %d-minute lock)",
            t->id, fails, DK_TECH_MAX_FAILS, DK_TECH_LOCK_SECONDS / 60);
    if (rc != 0)
        return dk_error_set(err, rc, "%s", dberr.msg);

    tech_utc_text(now + DK_TECH_LOCK_SECONDS, until, sizeof(until));
    snprintf(details, sizeof(details), "until %s after %d wrong PINs", until,
             fails);
    rc = set_state(store, t->id, 0, until, &dberr);
    if (rc == 0)
        rc = audit_append(store, actor, "tech locked", t->id, details, &dberr);
    if (rc != 0)
        return dk_error_set(err, rc, "%s", dberr.msg);
    return dk_error_set(
        err, DK_ETEMP,
        "wrong PIN for technician %s; %d wrong PINs in a row locked the account until %s",
        t->id, fails, until);
}

/* The checks before the PIN, in the order a person would want the reason:
 * a disabled account says so even while also locked. */
static int refuse_early(struct dk_store *store, const struct dk_tech *t,
                        const char *actor, time_t now, struct dk_error *err)
{
    struct dk_error dberr = {{0}};
    char nowtext[32];
    char details[96];
    int rc;

    tech_utc_text(now, nowtext, sizeof(nowtext));
    if (!t->active) {
        rc = audit_append(store, actor, "tech login failed", t->id,
                          "account disabled", &dberr);
        return rc != 0 ? dk_error_set(err, rc, "%s", dberr.msg)
                       : dk_error_set(err, DK_EPERM,
                                      "technician %s is disabled", t->id);
    }
    /* Both times are the same fixed-width UTC form, so text order is time
     * order. */
    if (t->locked_until[0] != '\0' && strcmp(nowtext, t->locked_until) < 0) {
        snprintf(details, sizeof(details), "account locked until %s",
                 t->locked_until);
        rc = audit_append(store, actor, "tech login failed", t->id, details,
                          &dberr);
        return rc != 0
                   ? dk_error_set(err, rc, "%s", dberr.msg)
                   : dk_error_set(
                         err, DK_ETEMP,
                         "technician %s is locked until %s after %d wrong PINs; try again then",
                         t->id, t->locked_until, DK_TECH_MAX_FAILS);
    }
    return 0;
}

/* A badge or id nobody has.  What was typed may be a PIN keyed into the
 * badge field, so neither the audit row nor the message holds it: only its
 * length, which is enough to tell a slip from a badge that was never
 * issued.  The row's actor is the program the attempt came through; no
 * technician is known, and it was not necessarily the kiosk. */
static int unknown_badge(struct dk_store *store, const char *caller,
                         size_t typed, struct dk_error *err)
{
    struct dk_error dberr = {{0}};
    char details[64];
    int rc;

    snprintf(details, sizeof(details), "no technician has it (%zu bytes)",
             typed);
    rc = audit_append(store, caller != NULL ? caller : "unknown",
                      "tech login failed", "unknown badge", details, &dberr);
    if (rc != 0)
        return dk_error_set(err, rc, "%s", dberr.msg);
    return dk_error_set(err, DK_ENOTFOUND,
                        "no technician has that badge or id");
}

static int check_pin(struct dk_store *store, const char *badge_or_id,
                     const char *pin, const char *caller, time_t now,
                     struct dk_tech *out, struct dk_error *err)
{
    char hash[crypto_pwhash_STRBYTES];
    char actor[32];
    struct dk_tech t;
    int rc;

    rc = tech_find(store, badge_or_id, &t, err);
    if (rc == DK_ENOTFOUND)
        return unknown_badge(store, caller, strlen(badge_or_id), err);
    if (rc != 0)
        return rc;
    snprintf(actor, sizeof(actor), "tech:%s", t.id);
    rc = refuse_early(store, &t, actor, now, err);
    if (rc != 0)
        return rc;
    rc = read_hash(store, t.id, hash, sizeof(hash), err);
    if (rc != 0)
        return rc;
    /* The format check spares a hash run on what cannot be a PIN; it still
     * counts as a wrong guess. */
    if (!tech_pin_ok(pin) ||
        crypto_pwhash_str_verify(hash, pin, strlen(pin)) != 0)
        return wrong_pin(store, &t, actor, now, err);
    rc = set_state(store, t.id, 0, NULL, err);
    if (rc == 0)
        rc = audit_append(store, actor, "tech login", t.id, NULL, err);
    if (rc == 0) {
        t.failed_logins = 0;
        t.locked_until[0] = '\0';
        *out = t;
    }
    return rc;
}

int tech_login(struct dk_store *store, const char *badge_or_id, const char *pin,
               const char *actor, time_t now, struct dk_tech *out,
               struct dk_error *err)
{
    struct dk_error cerr = {{0}};
    int rc;

    /* An audit subject is whatever was typed at the badge prompt; keep
     * runaway input out of the trail. */
    if (strlen(badge_or_id) > DK_TECH_BADGE_MAX ||
        !text_is_clean(badge_or_id, strlen(badge_or_id)))
        return dk_error_set(
            err, DK_EINPUT,
            "a technician badge or id is at most %d characters without control characters",
            DK_TECH_BADGE_MAX);
    rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = check_pin(store, badge_or_id, pin, actor, now, out, err);

    /* A refusal is committed too: the run of wrong PINs and its audit rows
     * must survive the caller giving up. */
    if (rc != DK_EDB && store_commit(store, &cerr) != 0)
        rc = dk_error_set(err, DK_EDB, "%s", cerr.msg);
    if (rc == DK_EDB)
        store_rollback(store);
    return rc;
}

/* ---- listing ------------------------------------------------------------ */

/* RFC 4180 section 2: quote a field holding a comma, quote or line break. */
static void put_csv(FILE *out, const char *s, const char *end)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;

    if (quote)
        fputc('"', out);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    if (quote)
        fputc('"', out);
    fputs(end, out);
}

static void status_text(const struct dk_tech *t, const char *now, char *buf,
                        size_t size)
{
    if (!t->active)
        snprintf(buf, size, "disabled");
    else if (t->locked_until[0] != '\0' && strcmp(now, t->locked_until) < 0)
        snprintf(buf, size, "locked until %s", t->locked_until);
    else
        snprintf(buf, size, "active");
}

static void list_row(FILE *out, const struct dk_tech *t, const char *now,
                     bool csv)
{
    char status[64];

    status_text(t, now, status, sizeof(status));
    if (csv) {
        put_csv(out, t->id, ",");
        put_csv(out, t->name, ",");
        put_csv(out, t->badge, ",");
        put_csv(out, status, ",");
        put_csv(out, t->created_at, "\n");
        return;
    }
    fprintf(out, "%-6s  %-24s  %-16s  %-36s  %s\n", t->id, t->name, t->badge,
            status, t->created_at);
}

int tech_list(struct dk_store *store, FILE *out, bool csv, time_t now,
              struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char nowtext[32];
    struct dk_tech t;
    int rc = store_prepare(
        store, "SELECT " TECH_COLUMNS " FROM technicians ORDER BY id", &st,
        err);
    int step;

    if (rc != 0)
        return rc;
    tech_utc_text(now, nowtext, sizeof(nowtext));
    if (csv)
        fputs("id,name,badge,status,created\n", out);
    else
        fprintf(out, "%-6s  %-24s  %-16s  %-36s  %s\n", "ID", "NAME", "BADGE",
                "STATUS", "CREATED");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        read_tech(st, &t);
        list_row(out, &t, nowtext, csv);
    }
    if (step != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot list technicians: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = dk_error_set(err, -EIO, "cannot write the technician list: %s",
                          strerror(errno));
    return rc;
}
