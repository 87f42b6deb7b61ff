#include "audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* The hash input is each field with its length before it, so that no two
 * different rows can produce the same byte string. */
static void hash_field(crypto_hash_sha256_state *st, const char *s)
{
    char len[24];
    size_t n = s != NULL ? strlen(s) : 0;

    snprintf(len, sizeof(len), "%zu:", n);
    crypto_hash_sha256_update(st, (const unsigned char *)len, strlen(len));
    if (n > 0)
        crypto_hash_sha256_update(st, (const unsigned char *)s, n);
}

static void row_hash(char out[HASH_HEX], int64_t id, const char *at, const char *actor,
                     const char *action, const char *subject, const char *details,
                     const char *prev)
{
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char idtext[24];

    snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
    crypto_hash_sha256_init(&st);
    hash_field(&st, prev);
    hash_field(&st, idtext);
    hash_field(&st, at);
    hash_field(&st, actor);
    hash_field(&st, action);
    hash_field(&st, subject);
    hash_field(&st, details);
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, HASH_HEX, digest, sizeof(digest));
}

static int last_row(struct dk_store *store, int64_t *id, char prev[HASH_HEX],
                    struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st,
                           err);

    if (rc != 0)
        return rc;
    *id = 0;
    snprintf(prev, HASH_HEX, "%s", GENESIS);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        *id = sqlite3_column_int64(st, 0);
        snprintf(prev, HASH_HEX, "%s", (const char *)sqlite3_column_text(st, 1));
        break;
    case SQLITE_DONE:
        break;
    default:
        rc = dk_error_set(err, DK_EDB, "cannot read audit trail: %s",
                          sqlite3_errmsg(store->db));
    }
    sqlite3_finalize(st);
    return rc;
}

int audit_append(struct dk_store *store, const char *actor, const char *action,
                 const char *subject, const char *details, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char prev[HASH_HEX];
    char hash[HASH_HEX];
    char at[32];
    int64_t id;
    int rc;

    rc = last_row(store, &id, prev, err);
    if (rc != 0)
        return rc;

    id++;
    store_utc_now(at, sizeof(at));
    if (details == NULL)
        details = "";
    row_hash(hash, id, at, actor, action, subject, details, prev);

    rc = store_prepare(store,
                       "INSERT INTO audit (id, at, actor, action, subject, details, prev_hash, "
                       "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, subject, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, details, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, prev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, hash, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot append to audit trail: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t != NULL ? (const char *)t : "";
}

int audit_verify(struct dk_store *store, int64_t *bad_id, int64_t *rows, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char prev[HASH_HEX] = GENESIS;
    char hash[HASH_HEX];
    int64_t count = 0;
    int rc, step;

    rc = store_prepare(store,
                       "SELECT id, at, actor, action, subject, details, prev_hash, hash "
                       "FROM audit ORDER BY id",
                       &st, err);
    if (rc != 0)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);

        count++;
        row_hash(hash, id, col(st, 1), col(st, 2), col(st, 3), col(st, 4), col(st, 5),
                 col(st, 6));
        if (id != count || strcmp(col(st, 6), prev) != 0 || strcmp(col(st, 7), hash) != 0) {
            *bad_id = id;
            rc = dk_error_set(err, DK_EFORGED,
                              "audit row %lld does not match the chain (edited, inserted or "
                              "deleted)",
                              (long long)id);
            goto out;
        }
        snprintf(prev, sizeof(prev), "%s", hash);
    }
    if (step != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot read audit trail: %s",
                          sqlite3_errmsg(store->db));
out:
    if (rows != NULL)
        *rows = count;
    sqlite3_finalize(st);
    return rc;
}
