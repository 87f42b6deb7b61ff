#include "store.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Migration 1: the whole data model.  Times are UTC ISO-8601 text; flags are
 * separate columns so reports can count them with plain SQL. */
static const char migration_1[] =
    "CREATE TABLE sites ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE kiosks ("
    "  id TEXT PRIMARY KEY,"
    "  site_id TEXT NOT NULL REFERENCES sites(id),"
    "  name TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE staff ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  email TEXT,"
    "  department TEXT,"
    "  leader_email TEXT);"
    "CREATE INDEX staff_email ON staff(email COLLATE NOCASE);"
    "CREATE TABLE assets ("
    "  tag TEXT PRIMARY KEY,"
    "  serial TEXT,"
    "  imei TEXT,"
    "  type TEXT NOT NULL CHECK (type IN ('laptop','chromebook','tablet','phone',"
    "    'hotspot','desktop','other')),"
    "  make TEXT,"
    "  model TEXT,"
    "  purchase_date TEXT,"
    "  auto_update_expiry TEXT,"
    "  assignee TEXT,"
    "  charger_expected INTEGER NOT NULL DEFAULT 1,"
    "  status TEXT NOT NULL DEFAULT 'deployed');"
    "CREATE INDEX assets_serial ON assets(serial COLLATE NOCASE);"
    "CREATE INDEX assets_imei ON assets(imei);"
    "CREATE TABLE receipts ("
    "  id TEXT PRIMARY KEY,"
    "  created_at TEXT NOT NULL,"
    "  return_ids TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  channels TEXT NOT NULL DEFAULT '',"
    "  recipients TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE returns ("
    "  id INTEGER PRIMARY KEY,"
    "  asset_tag TEXT NOT NULL,"
    "  returned_by TEXT,"
    "  assignee_at_time TEXT,"
    "  site_id TEXT NOT NULL REFERENCES sites(id),"
    "  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),"
    "  returned_at TEXT NOT NULL,"
    "  charger_declared INTEGER NOT NULL,"
    "  receipt_id TEXT REFERENCES receipts(id),"
    "  state TEXT NOT NULL DEFAULT 'dropped'"
    "    CHECK (state IN ('dropped','received','dispositioned')),"
    "  charger_verified INTEGER,"
    "  condition TEXT,"
    "  disposition TEXT,"
    "  disposition_reason TEXT,"
    "  technician TEXT,"
    "  flag_not_assignee INTEGER NOT NULL DEFAULT 0,"
    "  flag_unknown_asset INTEGER NOT NULL DEFAULT 0,"
    "  flag_missing_charger INTEGER NOT NULL DEFAULT 0,"
    "  flag_duplicate INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX returns_asset ON returns(asset_tag, state);"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  message_id TEXT UNIQUE,"
    "  mail_from TEXT NOT NULL,"
    "  recipients TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  mime BLOB,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (status IN ('pending','sent','failed')),"
    "  last_error TEXT,"
    "  sent_at TEXT);"
    "CREATE INDEX outbox_due ON outbox(status, next_attempt);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  details TEXT NOT NULL DEFAULT '',"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE TABLE sync_queue ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  payload TEXT NOT NULL);";

/* Migration 2: technician intake and disposition.  A return moves
 * dropped -> received -> dispositioned; what happened on the way is kept in
 * its own columns and tables, never overwritten. */
static const char migration_2[] =
    "CREATE TABLE technicians ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  badge TEXT NOT NULL UNIQUE,"
    "  pin_hash TEXT NOT NULL,"            /* Argon2id, libsodium's string form */
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  locked_until TEXT,"
    "  created_at TEXT NOT NULL);"
    "ALTER TABLE returns ADD COLUMN received_at TEXT;"
    "ALTER TABLE returns ADD COLUMN condition_note TEXT;"
    "ALTER TABLE returns ADD COLUMN cleanout_school TEXT;"
    "ALTER TABLE returns ADD COLUMN flag_walk_in INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE returns ADD COLUMN dispositioned_at TEXT;"
    /* technician is who received the device; this is who decided its fate. */
    "ALTER TABLE returns ADD COLUMN dispositioned_by TEXT;"
    "ALTER TABLE returns ADD COLUMN disposition_rule TEXT;"
    "ALTER TABLE returns ADD COLUMN new_holder TEXT;"
    "CREATE TABLE wipes ("
    "  id INTEGER PRIMARY KEY,"
    "  return_id INTEGER NOT NULL REFERENCES returns(id),"
    "  method TEXT NOT NULL,"
    "  tool TEXT NOT NULL,"
    "  technician TEXT NOT NULL,"
    "  wiped_at TEXT NOT NULL);"
    "CREATE TABLE manifests ("
    "  id INTEGER PRIMARY KEY,"
    "  opened_at TEXT NOT NULL,"
    "  closed_at TEXT,"
    "  vendor TEXT,"
    "  certificate TEXT);"
    "CREATE TABLE manifest_items ("
    "  manifest_id INTEGER NOT NULL REFERENCES manifests(id),"
    "  return_id INTEGER NOT NULL UNIQUE REFERENCES returns(id),"
    "  level TEXT NOT NULL CHECK (level IN ('clear','purge','destroy')),"
    "  technician TEXT NOT NULL,"
    "  added_at TEXT NOT NULL,"
    "  PRIMARY KEY (manifest_id, return_id));"
    "CREATE TABLE reservations ("
    "  id INTEGER PRIMARY KEY,"
    "  model TEXT NOT NULL,"
    "  staff_id TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  fulfilled_by INTEGER REFERENCES returns(id));"
    "ALTER TABLE staff ADD COLUMN left_on TEXT;";

/* Migration 3: printed receipts, languages and leaders' digests.  A
 * receipt remembers the language its person used (for the email, the slip
 * and the technician's later confirmation) and the kiosk it was made at
 * (for "reprint last receipt"); each print attempt is kept. */
static const char migration_3[] =
    "ALTER TABLE receipts ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';"
    "ALTER TABLE receipts ADD COLUMN kiosk_id TEXT;"
    "CREATE TABLE prints ("
    "  id INTEGER PRIMARY KEY,"
    "  receipt_id TEXT NOT NULL REFERENCES receipts(id),"
    "  printer TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"                /* "kiosk" or a technician id */
    "  outcome TEXT NOT NULL CHECK (outcome IN ('printed','failed')),"
    "  reason TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE digests ("
    "  leader_email TEXT NOT NULL,"
    "  day TEXT NOT NULL,"                  /* local date, YYYY-MM-DD */
    "  outbox_id INTEGER REFERENCES outbox(id),"
    "  PRIMARY KEY (leader_email, day));";

/* Migration 4: what a person answered at the kiosk about a phone or
 * tablet before it went in the bin (SIM and case removed, signed out,
 * activation lock off), for the technician who wipes it. */
static const char migration_4[] = "ALTER TABLE returns ADD COLUMN checklist TEXT;";

static const char *const migrations[] = {
    migration_1,
    migration_2,
    migration_3,
    migration_4,
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
    return N_MIGRATIONS;
}

int store_exec(struct dk_store *store, const char *sql, struct dk_error *err)
{
    char *msg = NULL;

    if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        dk_error_set(err, DK_EDB, "database %s: %s", store->path,
                     msg != NULL ? msg : sqlite3_errmsg(store->db));
        sqlite3_free(msg);
        return DK_EDB;
    }
    return 0;
}

int store_prepare(struct dk_store *store, const char *sql, sqlite3_stmt **stmt,
                  struct dk_error *err)
{
    if (sqlite3_prepare_v2(store->db, sql, -1, stmt, NULL) != SQLITE_OK)
        return dk_error_set(err, DK_EDB, "database %s: %s", store->path,
                            sqlite3_errmsg(store->db));
    return 0;
}

int store_begin(struct dk_store *store, struct dk_error *err)
{
    /* IMMEDIATE takes the write lock now, so a transaction never fails
     * half-way for want of it. */
    return store_exec(store, "BEGIN IMMEDIATE", err);
}

int store_commit(struct dk_store *store, struct dk_error *err)
{
    return store_exec(store, "COMMIT", err);
}

void store_rollback(struct dk_store *store)
{
    if (!sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

static int user_version(struct dk_store *store, int *version, struct dk_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = store_prepare(store, "PRAGMA user_version", &stmt, err);

    if (rc != 0)
        return rc;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *version = sqlite3_column_int(stmt, 0);
    else
        rc = dk_error_set(err, DK_EDB, "database %s: cannot read schema version: %s",
                          store->path, sqlite3_errmsg(store->db));
    sqlite3_finalize(stmt);
    return rc;
}

/* A database written by a newer dropkiosk (after a package downgrade, say)
 * is refused before anything writes to it: its tables may mean what this
 * program does not know. */
static int refuse_newer(const struct dk_store *store, int version, struct dk_error *err)
{
    return dk_error_set(err, DK_EINPUT,
                        "database %s has schema version %d, newer than this dropkiosk knows "
                        "(up to %d); the database was left unchanged: it needs a dropkiosk at "
                        "least as new as the one that wrote it (after a package downgrade, "
                        "reinstall the newer package)",
                        store->path, version, N_MIGRATIONS);
}

static int check_not_newer(struct dk_store *store, struct dk_error *err)
{
    int version = 0;
    int rc = user_version(store, &version, err);

    if (rc == 0 && version > N_MIGRATIONS)
        rc = refuse_newer(store, version, err);
    return rc;
}

static int migrate(struct dk_store *store, struct dk_error *err)
{
    char sql[64];
    int version = 0;
    int rc;

    rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = user_version(store, &version, err);
    if (rc != 0)
        goto out;
    /* Asked again inside the transaction: a newer dropkiosk may have
     * migrated the file since check_not_newer looked. */
    if (version > N_MIGRATIONS) {
        rc = refuse_newer(store, version, err);
        goto out;
    }
    for (int v = version; v < N_MIGRATIONS; v++) {
        rc = store_exec(store, migrations[v], err);
        if (rc != 0)
            goto out;
        log_debug("applied schema migration %d to %s", v + 1, store->path);
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", N_MIGRATIONS);
    rc = store_exec(store, sql, err);
    if (rc == 0)
        rc = store_commit(store, err);
out:
    if (rc != 0)
        store_rollback(store);
    return rc;
}

int store_open(const char *path, struct dk_store **out, struct dk_error *err)
{
    struct dk_store *store = calloc(1, sizeof(*store));
    int rc;

    if (store == NULL)
        return dk_error_set(err, -12, "out of memory");
    snprintf(store->path, sizeof(store->path), "%s", path);
    if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        rc = dk_error_set(err, DK_EDB, "cannot open database %s: %s", path,
                          store->db != NULL ? sqlite3_errmsg(store->db) : "out of memory");
        goto out;
    }
    /* 5 s of waiting covers the daemon and dropkioskctl writing at once. */
    sqlite3_busy_timeout(store->db, 5000);
    /* Before the pragmas: journal_mode=WAL would rewrite the header of a
     * database in rollback mode, and one from a newer dropkiosk must be
     * left byte for byte as it was. */
    rc = check_not_newer(store, err);
    if (rc != 0)
        goto out;
    /* WAL lets the CLI read while the kiosk writes; synchronous=FULL makes
     * each commit durable (fsync of the WAL) before it returns, which the
     * kiosk's "received" relies on. */
    rc = store_exec(store,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "PRAGMA foreign_keys=ON;",
                    err);
    if (rc == 0)
        rc = migrate(store, err);
out:
    if (rc != 0) {
        store_close(store);
        return rc;
    }
    *out = store;
    return 0;
}

int store_open_existing(const char *path, struct dk_store **out, struct dk_error *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return dk_error_set(err, -errno, "database %s does not exist: %s", path,
                            strerror(errno));
    return store_open(path, out, err);
}

void store_close(struct dk_store *store)
{
    if (store == NULL)
        return;
    sqlite3_close_v2(store->db);
    free(store);
}

void store_utc_now(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
