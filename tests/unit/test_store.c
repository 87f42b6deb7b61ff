/* Opening a database made by an older dropkiosk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "fileio.h"
#include "store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE "tests/fixtures/schema-v1.sql"

static char dir[] = "/tmp/dk-store-XXXXXX";
static char path[96];

/* A database at schema version 1, as the release before intake left it. */
static void make_v1_database(void)
{
    sqlite3 *db = NULL;
    char *sql = NULL;
    size_t len = 0;

    assert_int_equal(file_read_path(FIXTURE, 1 << 20, &sql, &len), 0);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(sql);
}

static const char *one(struct dk_store *store, const char *sql)
{
    static char value[256];
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};

    assert_int_equal(store_prepare(store, sql, &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(value, sizeof(value), "%s",
             sqlite3_column_text(st, 0) != NULL ? (const char *)sqlite3_column_text(st, 0)
                                                : "NULL");
    sqlite3_finalize(st);
    return value;
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0 || mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/old.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char name[128];

    (void)state;
    unlink(path);
    snprintf(name, sizeof(name), "%s-wal", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", path);
    unlink(name);
    return rmdir(dir);
}

static void test_store_upgrades_version_1_keeping_every_row(void **state)
{
    struct dk_store *store = NULL;
    struct dk_error err = {{0}};
    int64_t bad = 0, rows = 0;

    (void)state;
    make_v1_database();
    assert_int_equal(store_open(path, &store, &err), 0);
    assert_string_equal(one(store, "PRAGMA user_version"), "4");
    assert_string_equal(one(store, "SELECT count(*) FROM staff"), "4");
    assert_string_equal(one(store, "SELECT count(*) FROM assets"), "4");
    assert_string_equal(one(store, "SELECT asset_tag || ' ' || state || ' ' || "
                                   "flag_missing_charger FROM returns"),
                        "104233 dropped 1");
    /* The new columns and tables are there, with their defaults. */
    assert_string_equal(one(store, "SELECT flag_walk_in FROM returns"), "0");
    assert_string_equal(one(store, "SELECT received_at FROM returns"), "NULL");
    assert_string_equal(one(store, "SELECT count(*) FROM technicians"), "0");
    assert_string_equal(one(store, "SELECT lang FROM receipts"), "en");
    assert_string_equal(one(store, "SELECT count(*) FROM prints"), "0");
    assert_string_equal(one(store, "SELECT count(*) FROM digests"), "0");
    assert_string_equal(one(store, "SELECT count(*) FROM staff WHERE left_on IS NULL"), "4");
    /* The audit chain written by the old release still verifies. */
    assert_int_equal(audit_verify(store, &bad, &rows, &err), 0);
    assert_int_equal(rows, 5);
    store_close(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_upgrades_version_1_keeping_every_row, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
