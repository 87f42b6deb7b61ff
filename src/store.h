/* The SQLite store: opening with the pragmas the kiosk relies on, numbered
 * schema migrations, and transactions.
 *
 * Every table of the data model exists from migration 1.  Callers prepare
 * their own statements on store->db and bind every value from outside as a
 * parameter. */
#ifndef DK_STORE_H
#define DK_STORE_H

#include "error.h"

#include <sqlite3.h>

struct dk_store {
    sqlite3 *db;
    char path[1024];
};

/* Open (creating if needed) the database at path, set WAL,
 * synchronous=FULL, foreign keys and a busy timeout, and apply pending
 * migrations in one transaction.  On success *out is the caller's to
 * store_close.  Refuses a database whose schema is newer than this program
 * knows, before writing anything to it: DK_EINPUT with the file, both
 * versions and the remedy in err. */
int store_open(const char *path, struct dk_store **out, struct dk_error *err);

/* As store_open, for a database that must already be there (a report or a
 * check on a mistyped path must not create an empty one): -ENOENT with
 * "database PATH does not exist" in err when it is not. */
int store_open_existing(const char *path, struct dk_store **out, struct dk_error *err);

/* Close and free; accepts NULL. */
void store_close(struct dk_store *store);

/* The schema version this program writes. */
int store_schema_version(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Begin and commit return 0 or DK_EDB
 * with the reason in err; rollback is for error paths and never fails
 * loudly.  With synchronous=FULL in WAL mode, a returned commit is on disk. */
int store_begin(struct dk_store *store, struct dk_error *err);
int store_commit(struct dk_store *store, struct dk_error *err);
void store_rollback(struct dk_store *store);

/* Run SQL without results (no parameters).  0 or DK_EDB. */
int store_exec(struct dk_store *store, const char *sql, struct dk_error *err);

/* Prepare sql on the store; 0 or DK_EDB with the reason in err. */
int store_prepare(struct dk_store *store, const char *sql, sqlite3_stmt **stmt,
                  struct dk_error *err);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void store_utc_now(char *buf, size_t size);

#endif
