/* The store's migrations and the audit trail's hash chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];
static char dirpath[64];

static int setup(void **state)
{
    char dir[] = "/tmp/dk-audit-XXXXXX";
    struct dk_store *store = NULL;
    struct dk_error err = {{0}};

    if (sodium_init() < 0 || mkdtemp(dir) == NULL)
        return -1;
    snprintf(dirpath, sizeof(dirpath), "%s", dir);
    snprintf(path, sizeof(path), "%s/kiosk.db", dir);
    if (store_open(path, &store, &err) != 0)
        return -1;
    *state = store;
    return 0;
}

static int teardown(void **state)
{
    char name[96];

    store_close(*state);
    unlink(path);
    snprintf(name, sizeof(name), "%s-wal", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", path);
    unlink(name);
    rmdir(dirpath);
    return 0;
}

static void append(struct dk_store *store, const char *action, const char *subject)
{
    struct dk_error err = {{0}};

    assert_int_equal(store_begin(store, &err), 0);
    assert_int_equal(audit_append(store, "kiosk:test", action, subject, "charger=yes", &err), 0);
    assert_int_equal(store_commit(store, &err), 0);
}

static void test_store_sets_pragmas_and_schema(void **state)
{
    struct dk_store *store = *state;
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};

    assert_int_equal(store_prepare(store, "PRAGMA journal_mode", &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(store_prepare(store, "PRAGMA synchronous", &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2); /* FULL */
    sqlite3_finalize(st);
    assert_int_equal(store_prepare(store, "PRAGMA user_version", &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 4);
    sqlite3_finalize(st);
    assert_int_equal(store_prepare(store,
                                   "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name IN ('sites','kiosks','staff','assets','returns',"
                                   "'receipts','outbox','audit','sync_queue')",
                                   &st, &err),
                     0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 9);
    sqlite3_finalize(st);
}

static void test_store_refuses_newer_schema(void **state)
{
    struct dk_store *store = *state;
    struct dk_store *again = NULL;
    struct dk_error err = {{0}};
    char want[DK_ERROR_MAX];

    assert_int_equal(store_exec(store, "PRAGMA user_version = 7", &err), 0);
    assert_int_equal(store_open(path, &again, &err), DK_EINPUT);
    snprintf(want, sizeof(want),
             "database %s has schema version 7, newer than this dropkiosk knows (up to 4); the "
             "database was left unchanged: it needs a dropkiosk at least as new as the one that "
             "wrote it (after a package downgrade, reinstall the newer package)", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(store_exec(store, "PRAGMA user_version = 4", &err), 0);
}

static void test_audit_chain_verifies(void **state)
{
    struct dk_store *store = *state;
    struct dk_error err = {{0}};
    int64_t bad = 0, rows = 0;

    append(store, "return dropped", "104233");
    append(store, "return dropped", "104234");
    append(store, "receipt issued", "R-ABCDEFGH1");
    assert_int_equal(audit_verify(store, &bad, &rows, &err), 0);
    assert_int_equal(rows, 3);
}

static void test_audit_catches_edited_row(void **state)
{
    struct dk_store *store = *state;
    struct dk_error err = {{0}};
    int64_t bad = 0, rows = 0;

    append(store, "return dropped", "104233");
    append(store, "return dropped", "104234");
    append(store, "receipt issued", "R-ABCDEFGH1");
    assert_int_equal(store_exec(store, "UPDATE audit SET subject = '999999' WHERE id = 2", &err),
                     0);
    assert_int_equal(audit_verify(store, &bad, &rows, &err), DK_EFORGED);
    assert_int_equal(bad, 2);
    assert_string_equal(err.msg, "audit row 2 does not match the chain (edited, inserted or "
                                 "deleted)");
}

static void test_audit_catches_deleted_row(void **state)
{
    struct dk_store *store = *state;
    struct dk_error err = {{0}};
    int64_t bad = 0, rows = 0;

    append(store, "return dropped", "104233");
    append(store, "return dropped", "104234");
    append(store, "receipt issued", "R-ABCDEFGH1");
    assert_int_equal(store_exec(store, "DELETE FROM audit WHERE id = 2", &err), 0);
    assert_int_equal(audit_verify(store, &bad, &rows, &err), DK_EFORGED);
    assert_int_equal(bad, 3);
}

static void test_audit_rolled_back_with_its_transaction(void **state)
{
    struct dk_store *store = *state;
    struct dk_error err = {{0}};
    int64_t bad = 0, rows = 0;

    assert_int_equal(store_begin(store, &err), 0);
    assert_int_equal(audit_append(store, "cli", "import assets", "a.csv", NULL, &err), 0);
    store_rollback(store);
    assert_int_equal(audit_verify(store, &bad, &rows, &err), 0);
    assert_int_equal(rows, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_sets_pragmas_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_chain_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_catches_edited_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_catches_deleted_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rolled_back_with_its_transaction, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
