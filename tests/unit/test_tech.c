/* Technician accounts against a real SQLite file: ids, Argon2id PINs, the
 * five-strike lock (on a clock the test sets) and the audit rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "audit.h"
#include "store.h"
#include "tech.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2026-01-01T00:00:00Z: the tests' clock. */
#define T0 ((time_t)1767225600)

struct fixture {
    char dir[64];
    char path[96];
    struct dk_store *store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct dk_error err = {{0}};

    if (f == NULL || sodium_init() < 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/dk-tech-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kiosk.db", f->dir);
    if (store_open(f->path, &f->store, &err) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char name[128];

    store_close(f->store);
    unlink(f->path);
    snprintf(name, sizeof(name), "%s-wal", f->path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", f->path);
    unlink(name);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void add(struct fixture *f, const char *name, const char *badge, const char *pin,
                const char *expect_id)
{
    struct dk_error err = {{0}};
    char id[16] = "";

    assert_int_equal(tech_add(f->store, name, badge, pin, "cli", id, &err), 0);
    assert_string_equal(id, expect_id);
}

/* One text column of the first row of sql, into buf. */
static void query_text(struct fixture *f, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};

    assert_int_equal(store_prepare(f->store, sql, &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(buf, size, "%s",
             sqlite3_column_text(st, 0) != NULL ? (const char *)sqlite3_column_text(st, 0)
                                                : "(null)");
    sqlite3_finalize(st);
}

/* The audit rows after the first `skip`, as "actor|action|subject|details"
 * lines. */
static void audit_rows(struct fixture *f, int skip, char *buf, size_t size)
{
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};
    size_t used = 0;

    buf[0] = '\0';
    assert_int_equal(store_prepare(f->store,
                                   "SELECT actor, action, subject, details FROM audit "
                                   "WHERE id > ? ORDER BY id",
                                   &st, &err),
                     0);
    sqlite3_bind_int(st, 1, skip);
    while (sqlite3_step(st) == SQLITE_ROW && used < size)
        used += (size_t)snprintf(buf + used, size - used, "%s|%s|%s|%s\n",
                                 sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                                 sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
}

static void test_tech_add_numbers_technicians_in_order(void **state)
{
    struct fixture *f = *state;
    char row[256];

    add(f, "Jordan Reyes", "B-1001", "1234", "T0001");
    add(f, "Sam Okafor", "B-1002", "987654", "T0002");
    query_text(f, "SELECT id || ' ' || name || ' ' || badge || ' ' || active || ' ' || "
                  "failed_logins FROM technicians WHERE id = 'T0002'",
               row, sizeof(row));
    assert_string_equal(row, "T0002 Sam Okafor B-1002 1 0");
}

static void test_tech_add_keeps_only_an_argon2id_hash(void **state)
{
    struct fixture *f = *state;
    char hash[256];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    query_text(f, "SELECT pin_hash FROM technicians", hash, sizeof(hash));
    assert_memory_equal(hash, "$argon2id$", 10);
    assert_null(strstr(hash, "482913"));
    assert_int_equal(crypto_pwhash_str_verify(hash, "482913", 6), 0);
}

static void test_tech_add_refuses_a_badge_already_used(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char id[16] = "";

    add(f, "Jordan Reyes", "B-1001", "1234", "T0001");
    assert_int_equal(tech_add(f->store, "Sam Okafor", "B-1001", "5678", "cli", id, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "badge 'B-1001' already belongs to technician T0001");
}

static void test_tech_add_refuses_pins_that_are_not_4_to_12_digits(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char id[16] = "";

    assert_int_equal(tech_add(f->store, "Jo", "B-1", "123", "cli", id, &err), DK_EINPUT);
    assert_string_equal(err.msg, "the PIN must be 4 to 12 digits");
    assert_int_equal(tech_add(f->store, "Jo", "B-1", "1234567890123", "cli", id, &err),
                     DK_EINPUT);
    assert_int_equal(tech_add(f->store, "Jo", "B-1", "12a4", "cli", id, &err), DK_EINPUT);
    assert_int_equal(tech_add(f->store, "Jo", "B-1", "", "cli", id, &err), DK_EINPUT);
}

static void test_tech_add_refuses_a_badge_shaped_like_an_id(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char id[16] = "";

    assert_int_equal(tech_add(f->store, "Jo", "T0007", "1234", "cli", id, &err), DK_EINPUT);
    assert_string_equal(err.msg, "--badge 'T0007' has the form of a technician id (T followed "
                                 "by digits); choose another");
}

static void test_tech_add_is_audited_without_the_pin(void **state)
{
    struct fixture *f = *state;
    char rows[512];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    audit_rows(f, 0, rows, sizeof(rows));
    assert_string_equal(rows, "cli|tech added|T0001|badge=B-1001\n");
}

static void test_tech_login_by_badge_or_by_id(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char rows[512];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    assert_int_equal(tech_login(f->store, "B-1001", "482913", "cli", T0, &t, &err), 0);
    assert_string_equal(t.id, "T0001");
    assert_string_equal(t.name, "Jordan Reyes");
    assert_int_equal(tech_login(f->store, "T0001", "482913", "cli", T0, &t, &err), 0);
    assert_string_equal(t.badge, "B-1001");
    audit_rows(f, 1, rows, sizeof(rows));
    assert_string_equal(rows, "tech:T0001|tech login|T0001|\n"
                              "tech:T0001|tech login|T0001|\n");
}

static void test_tech_wrong_pin_is_refused_and_counted(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char count[16];
    char rows[512];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    assert_int_equal(tech_login(f->store, "B-1001", "111111", "cli", T0, &t, &err), -EACCES);
    assert_string_equal(err.msg, "wrong PIN for technician T0001 (1 of 5 tries before a "
                                 "15-minute lock)");
    query_text(f, "SELECT failed_logins FROM technicians", count, sizeof(count));
    assert_string_equal(count, "1");
    audit_rows(f, 1, rows, sizeof(rows));
    assert_string_equal(rows, "tech:T0001|tech login failed|T0001|wrong PIN (1 in a row)\n");
}

static void test_tech_good_login_forgets_earlier_wrong_pins(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char count[16];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    for (int i = 0; i < 4; i++)
        assert_int_equal(tech_login(f->store, "T0001", "0000", "cli", T0, &t, &err), -EACCES);
    assert_int_equal(tech_login(f->store, "T0001", "482913", "cli", T0, &t, &err), 0);
    query_text(f, "SELECT failed_logins FROM technicians", count, sizeof(count));
    assert_string_equal(count, "0");
    assert_int_equal(tech_login(f->store, "T0001", "0000", "cli", T0, &t, &err), -EACCES);
    assert_string_equal(err.msg, "wrong PIN for technician T0001 (1 of 5 tries before a "
                                 "15-minute lock)");
}

static void test_tech_fifth_wrong_pin_locks_for_15_minutes(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char until[32];
    char rows[1024];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    for (int i = 0; i < 4; i++)
        assert_int_equal(tech_login(f->store, "B-1001", "0000", "cli", T0 + i, &t, &err), -EACCES);
    assert_int_equal(tech_login(f->store, "B-1001", "0000", "cli", T0 + 4, &t, &err), DK_ETEMP);
    assert_string_equal(err.msg, "wrong PIN for technician T0001; 5 wrong PINs in a row "
                                 "locked the account until 2026-01-01T00:15:04Z");
    query_text(f, "SELECT locked_until || ' ' || failed_logins FROM technicians", until,
               sizeof(until));
    assert_string_equal(until, "2026-01-01T00:15:04Z 0");
    audit_rows(f, 5, rows, sizeof(rows));
    assert_string_equal(rows,
                        "tech:T0001|tech login failed|T0001|wrong PIN (5 in a row)\n"
                        "tech:T0001|tech locked|T0001|until 2026-01-01T00:15:04Z after 5 "
                        "wrong PINs\n");
}

static void lock(struct fixture *f)
{
    struct dk_error err = {{0}};
    struct dk_tech t;

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    for (int i = 0; i < 5; i++)
        tech_login(f->store, "B-1001", "0000", "cli", T0, &t, &err);
}

static void test_tech_locked_account_refuses_the_right_pin(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char rows[512];

    lock(f);
    assert_int_equal(tech_login(f->store, "B-1001", "482913", "cli", T0 + 899, &t, &err), DK_ETEMP);
    assert_string_equal(err.msg, "technician T0001 is locked until 2026-01-01T00:15:00Z after "
                                 "5 wrong PINs; try again then");
    audit_rows(f, 7, rows, sizeof(rows));
    assert_string_equal(rows, "tech:T0001|tech login failed|T0001|account locked until "
                              "2026-01-01T00:15:00Z\n");
}

static void test_tech_lock_ends_after_15_minutes(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char until[32];

    lock(f);
    assert_int_equal(tech_login(f->store, "B-1001", "482913", "cli", T0 + 900, &t, &err), 0);
    query_text(f, "SELECT coalesce(locked_until, 'none') FROM technicians", until,
               sizeof(until));
    assert_string_equal(until, "none");
}

static void test_tech_disabled_account_refuses_login(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char rows[512];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    assert_int_equal(tech_disable(f->store, "T0001", "cli", &err), 0);
    assert_int_equal(tech_login(f->store, "B-1001", "482913", "cli", T0, &t, &err), DK_EPERM);
    assert_string_equal(err.msg, "technician T0001 is disabled");
    audit_rows(f, 1, rows, sizeof(rows));
    assert_string_equal(rows, "cli|tech disabled|T0001|\n"
                              "tech:T0001|tech login failed|T0001|account disabled\n");
}

static void test_tech_disable_wants_the_id_not_the_badge(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    assert_int_equal(tech_disable(f->store, "B-1001", "cli", &err), DK_ENOTFOUND);
    assert_int_equal(tech_disable(f->store, "T0009", "cli", &err), DK_ENOTFOUND);
    assert_string_equal(err.msg, "no technician has badge or id 'T0009'");
}

static void test_tech_unknown_badge_is_refused_without_echoing_it(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    assert_int_equal(tech_login(f->store, "482913", "482913", "cli", T0, &t, &err),
                     DK_ENOTFOUND);
    assert_string_equal(err.msg, "no technician has that badge or id");
}

static void test_tech_unknown_badge_audit_row_keeps_only_its_length(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char rows[512];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    tech_login(f->store, "2222", "2222", "cli", T0, &t, &err);
    audit_rows(f, 1, rows, sizeof(rows));
    assert_string_equal(rows, "cli|tech login failed|unknown badge|"
                              "no technician has it (4 bytes)\n");
}

static void test_tech_unknown_badge_is_audited_as_the_caller(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char actor[64];

    tech_login(f->store, "B-4040", "1234", "cli", T0, &t, &err);
    query_text(f, "SELECT actor FROM audit", actor, sizeof(actor));
    assert_string_equal(actor, "cli");
}

static void test_tech_unknown_badge_without_a_caller_is_audited_as_unknown(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char actor[64];

    tech_login(f->store, "B-4040", "1234", NULL, T0, &t, &err);
    query_text(f, "SELECT actor FROM audit", actor, sizeof(actor));
    assert_string_equal(actor, "unknown");
}

static void test_tech_pin_typed_as_badge_is_nowhere_in_the_audit(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char hits[16];

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    tech_login(f->store, "482913", "482913", "cli", T0, &t, &err);
    query_text(f, "SELECT count(*) FROM audit WHERE actor || action || subject || details "
                  "LIKE '%482913%'",
               hits, sizeof(hits));
    assert_string_equal(hits, "0");
}

static void test_tech_audit_never_holds_a_pin(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_tech t;
    char hits[16];
    int64_t bad = 0, rows = 0;

    add(f, "Jordan Reyes", "B-1001", "482913", "T0001");
    tech_login(f->store, "B-1001", "771177", "cli", T0, &t, &err);
    tech_login(f->store, "B-1001", "482913", "cli", T0, &t, &err);
    query_text(f, "SELECT count(*) FROM audit WHERE actor || action || subject || details "
                  "LIKE '%482913%' OR actor || action || subject || details LIKE '%771177%'",
               hits, sizeof(hits));
    assert_string_equal(hits, "0");
    assert_int_equal(audit_verify(f->store, &bad, &rows, &err), 0);
    assert_int_equal(rows, 3);
}

static void test_tech_list_csv_shows_status(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char *buf = NULL;
    size_t len = 0;
    FILE *out;

    add(f, "Reyes, Jordan", "B-1001", "482913", "T0001");
    add(f, "Sam Okafor", "B-1002", "1234", "T0002");
    add(f, "Lee Park", "B-1003", "1234", "T0003");
    assert_int_equal(tech_disable(f->store, "T0002", "cli", &err), 0);
    assert_int_equal(store_exec(f->store,
                                "UPDATE technicians SET created_at = '2025-12-01T09:00:00Z'; "
                                "UPDATE technicians SET locked_until = '2026-01-01T00:10:00Z' "
                                "WHERE id = 'T0003'",
                                &err),
                     0);
    out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(tech_list(f->store, out, true, T0, &err), 0);
    fclose(out);
    assert_string_equal(buf, "id,name,badge,status,created\n"
                             "T0001,\"Reyes, Jordan\",B-1001,active,2025-12-01T09:00:00Z\n"
                             "T0002,Sam Okafor,B-1002,disabled,2025-12-01T09:00:00Z\n"
                             "T0003,Lee Park,B-1003,locked until 2026-01-01T00:10:00Z,"
                             "2025-12-01T09:00:00Z\n");
    free(buf);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_tech_add_numbers_technicians_in_order),
        T(test_tech_add_keeps_only_an_argon2id_hash),
        T(test_tech_add_refuses_a_badge_already_used),
        T(test_tech_add_refuses_pins_that_are_not_4_to_12_digits),
        T(test_tech_add_refuses_a_badge_shaped_like_an_id),
        T(test_tech_add_is_audited_without_the_pin),
        T(test_tech_login_by_badge_or_by_id),
        T(test_tech_wrong_pin_is_refused_and_counted),
        T(test_tech_good_login_forgets_earlier_wrong_pins),
        T(test_tech_fifth_wrong_pin_locks_for_15_minutes),
        T(test_tech_locked_account_refuses_the_right_pin),
        T(test_tech_lock_ends_after_15_minutes),
        T(test_tech_disabled_account_refuses_login),
        T(test_tech_disable_wants_the_id_not_the_badge),
        T(test_tech_unknown_badge_is_refused_without_echoing_it),
        T(test_tech_unknown_badge_audit_row_keeps_only_its_length),
        T(test_tech_unknown_badge_is_audited_as_the_caller),
        T(test_tech_unknown_badge_without_a_caller_is_audited_as_unknown),
        T(test_tech_pin_typed_as_badge_is_nowhere_in_the_audit),
        T(test_tech_audit_never_holds_a_pin),
        T(test_tech_list_csv_shows_status),
    };
#undef T

    return cmocka_run_group_tests_name("tech", tests, NULL, NULL);
}
