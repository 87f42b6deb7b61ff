#include "inventory.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    snprintf(dst, size, "%s", t != NULL ? (const char *)t : "");
}

static int step_one(struct dk_store *store, sqlite3_stmt *st, struct dk_error *err)
{
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        return 0;
    case SQLITE_DONE:
        return DK_ENOTFOUND;
    default:
        return dk_error_set(err, DK_EDB, "database %s: %s", store->path,
                            sqlite3_errmsg(store->db));
    }
}

int inventory_find_asset(struct dk_store *store, enum dk_asset_key by, const char *key,
                         struct dk_asset *a, struct dk_error *err)
{
    static const char *const sql[] = {
        [DK_ASSET_BY_TAG] = "SELECT tag, serial, type, make, model, assignee, charger_expected "
                            "FROM assets WHERE tag = ?",
        [DK_ASSET_BY_SERIAL] = "SELECT tag, serial, type, make, model, assignee, "
                               "charger_expected FROM assets WHERE serial = ? COLLATE NOCASE",
        [DK_ASSET_BY_IMEI] = "SELECT tag, serial, type, make, model, assignee, "
                             "charger_expected FROM assets WHERE imei = ?",
    };
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, sql[by], &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    rc = step_one(store, st, err);
    if (rc == 0) {
        copy_col(a->tag, sizeof(a->tag), st, 0);
        copy_col(a->serial, sizeof(a->serial), st, 1);
        copy_col(a->type, sizeof(a->type), st, 2);
        copy_col(a->make, sizeof(a->make), st, 3);
        copy_col(a->model, sizeof(a->model), st, 4);
        copy_col(a->assignee, sizeof(a->assignee), st, 5);
        a->charger_expected = sqlite3_column_int(st, 6) != 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int inventory_find_staff(struct dk_store *store, const char *key, struct dk_staff *s,
                         struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store,
                           "SELECT id, name, email, department, leader_email FROM staff "
                           /* A staff id typed on a screen keypad or a
                            * keyboard may come in either case. */
                           "WHERE id = ?1 COLLATE NOCASE OR email = ?1 COLLATE NOCASE "
                           "ORDER BY id = ?1 COLLATE NOCASE DESC LIMIT 2",
                           &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    rc = step_one(store, st, err);
    if (rc == 0) {
        copy_col(s->id, sizeof(s->id), st, 0);
        copy_col(s->name, sizeof(s->name), st, 1);
        copy_col(s->email, sizeof(s->email), st, 2);
        copy_col(s->department, sizeof(s->department), st, 3);
        copy_col(s->leader_email, sizeof(s->leader_email), st, 4);
        /* An id match wins; two matches by email cannot be told apart. */
        if (strcmp(s->id, key) != 0 && sqlite3_step(st) == SQLITE_ROW)
            rc = dk_error_set(err, DK_EINPUT, "more than one staff member has email %s", key);
    }
    sqlite3_finalize(st);
    return rc;
}

bool inventory_is_assignee(const struct dk_asset *a, const struct dk_staff *s)
{
    const char *who = a->assignee;

    if (who[0] == '\0')
        return false;
    return strcasecmp(who, s->id) == 0 || (s->email[0] && strcasecmp(who, s->email) == 0) ||
           (s->name[0] && strcasecmp(who, s->name) == 0);
}

int inventory_open_return(struct dk_store *store, const char *tag, char *when, size_t size,
                          struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store,
                           "SELECT state = 'received', coalesce(received_at, returned_at) "
                           "FROM returns WHERE asset_tag = ? AND "
                           "state IN ('dropped', 'received') "
                           "ORDER BY state = 'received' DESC, id DESC LIMIT 1",
                           &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_TRANSIENT);
    rc = step_one(store, st, err);
    if (rc == 0) {
        rc = sqlite3_column_int(st, 0) ? DK_RETURN_RECEIVED : DK_RETURN_DROPPED;
        copy_col(when, size, st, 1);
    } else if (rc == DK_ENOTFOUND) {
        rc = DK_RETURN_NONE;
    }
    sqlite3_finalize(st);
    return rc;
}

int inventory_recycled(struct dk_store *store, const char *tag, int64_t *manifest,
                       struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store,
                           "SELECT EXISTS (SELECT 1 FROM assets WHERE tag = ?1 AND "
                           "status = 'recycled'), (SELECT max(i.manifest_id) FROM "
                           "manifest_items i JOIN returns r ON r.id = i.return_id "
                           "WHERE r.asset_tag = ?1)",
                           &st, err);

    *manifest = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_TRANSIENT);
    rc = step_one(store, st, err);
    if (rc == 0) {
        *manifest = sqlite3_column_int64(st, 1);
        rc = sqlite3_column_int(st, 0) != 0 || *manifest > 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int exec_bound(struct dk_store *store, const char *sql, const char *a, const char *b,
                      struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, sql, &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "database %s: %s", store->path,
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

int inventory_register_kiosk(struct dk_store *store, const char *site_id,
                             const char *site_name, const char *kiosk_id,
                             struct dk_error *err)
{
    int rc = exec_bound(store,
                        "INSERT INTO sites (id, name) VALUES (?1, ?2) "
                        "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                        site_id, site_name, err);

    if (rc == 0)
        rc = exec_bound(store,
                        "INSERT INTO kiosks (id, site_id) VALUES (?1, ?2) "
                        "ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id",
                        kiosk_id, site_id, err);
    return rc;
}
