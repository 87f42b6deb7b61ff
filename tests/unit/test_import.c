/* The CSV importer against a real SQLite store in a temporary folder.
 * Fixtures live in tests/fixtures/; the tests run from the repository root
 * (as `make unit` does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "import.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures/"

struct fixture {
    char dir[64];
    char db[128];
    struct dk_store *store;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct dk_error err = {{0}};

    if (fx == NULL)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/dk-import-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->db, sizeof(fx->db), "%s/test.db", fx->dir);
    if (store_open(fx->db, &fx->store, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = fx;
    return 0;
}

static void remove_in(const char *dir, const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    static const char *const names[] = {
        "test.db", "test.db-wal", "test.db-shm", "t.csv", "staff.csv", "assets.csv", NULL,
    };

    store_close(fx->store);
    for (size_t i = 0; names[i] != NULL; i++)
        remove_in(fx->dir, names[i]);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Import and expect success with these counts. */
static void import_ok(struct fixture *fx, enum dk_import_kind kind, const char *path,
                      const struct dk_import_map *maps, size_t n_maps, int added, int updated,
                      int unchanged)
{
    struct dk_import_result res = {-1, -1, -1};
    struct dk_error err = {{0}};
    int rc = import_csv(fx->store, kind, path, maps, n_maps, "cli:test", &res, &err);

    if (rc != 0)
        fail_msg("import %s: %d %s", path, rc, err.msg);
    assert_int_equal(res.added, added);
    assert_int_equal(res.updated, updated);
    assert_int_equal(res.unchanged, unchanged);
}

/* Import and expect DK_EINPUT with exactly msg. */
static void import_fails(struct fixture *fx, enum dk_import_kind kind, const char *path,
                         const struct dk_import_map *maps, size_t n_maps, const char *msg)
{
    struct dk_import_result res = {0, 0, 0};
    struct dk_error err = {{0}};

    assert_int_equal(import_csv(fx->store, kind, path, maps, n_maps, "cli:test", &res, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, msg);
}

/* The first column of the first row of sql with key bound to ?1, as text
 * ("NULL" for a NULL, "(no row)" when there is none). */
static const char *query(struct fixture *fx, const char *sql, const char *key)
{
    static char buf[512];
    sqlite3_stmt *st = NULL;

    assert_int_equal(sqlite3_prepare_v2(fx->store->db, sql, -1, &st, NULL), SQLITE_OK);
    if (key != NULL)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW)
        snprintf(buf, sizeof(buf), "(no row)");
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        snprintf(buf, sizeof(buf), "NULL");
    else
        snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static const char *asset(struct fixture *fx, const char *column, const char *tag)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT %s FROM assets WHERE tag = ?1", column);
    return query(fx, sql, tag);
}

static const char *staff(struct fixture *fx, const char *column, const char *id)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT %s FROM staff WHERE id = ?1", column);
    return query(fx, sql, id);
}

/* Write text to DIR/name and return the path in buf. */
static const char *write_csv(struct fixture *fx, const char *name, const char *text, char *buf,
                             size_t size)
{
    FILE *f;

    snprintf(buf, size, "%s/%s", fx->dir, name);
    f = fopen(buf, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
    return buf;
}

/* ---- our own format ---- */

static void test_import_dropkiosk_assets_adds_every_row(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(query(*state, "SELECT count(*) FROM assets", NULL), "7");
}

static void test_import_same_file_twice_is_unchanged(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 0, 0, 7);
}

static void test_import_changed_row_counts_as_updated(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};

    import_ok(fx, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_int_equal(store_exec(fx->store,
                                "UPDATE assets SET model = 'edited' WHERE tag = '100004'", &err),
                     0);
    import_ok(fx, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 0, 1, 6);
    assert_string_equal(asset(fx, "model", "100004"), "iPad (9th generation)");
}

static void test_import_absent_column_keeps_existing_value(void **state)
{
    struct fixture *fx = *state;

    import_ok(fx, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    import_ok(fx, DK_IMPORT_ASSETS, FIXTURES "assets-serial-only.csv", NULL, 0, 0, 1, 0);
    assert_string_equal(asset(fx, "serial", "100002"), "R9HRA0K3TXN");
    assert_string_equal(asset(fx, "imei", "100002"), "352099001761481");
    assert_string_equal(asset(fx, "model", "100002"), "Galaxy A14 5G");
    assert_string_equal(asset(fx, "assignee", "100002"), "S100002");
}

static void test_import_quoted_comma_and_quote_in_model(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "model", "100001"), "ProBook 440 G9, 14\" FHD");
}

static void test_import_us_date_is_normalised(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "purchase_date", "100002"), "2023-03-07");
    assert_string_equal(asset(*state, "purchase_date", "100006"), "2020-09-10");
}

static void test_import_year_month_means_last_day_of_month(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "purchase_date", "100003"), "2021-07-31");
    assert_string_equal(asset(*state, "auto_update_expiry", "100003"), "2026-06-30");
}

static void test_import_charger_defaults_by_type(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "charger_expected", "100001"), "1"); /* laptop */
    assert_string_equal(asset(*state, "charger_expected", "100003"), "1"); /* chromebook */
    assert_string_equal(asset(*state, "charger_expected", "100004"), "1"); /* tablet */
    assert_string_equal(asset(*state, "charger_expected", "100005"), "0"); /* desktop */
    assert_string_equal(asset(*state, "charger_expected", "100007"), "0"); /* other */
}

static void test_import_charger_words(void **state)
{
    char path[256];

    write_csv(*state, "t.csv",
              "tag,type,charger\n1,desktop,yes\n2,laptop,No\n3,other,TRUE\n4,phone,false\n"
              "5,desktop,1\n6,tablet,0\n",
              path, sizeof(path));
    import_ok(*state, DK_IMPORT_ASSETS, path, NULL, 0, 6, 0, 0);
    assert_string_equal(asset(*state, "charger_expected", "1"), "1");
    assert_string_equal(asset(*state, "charger_expected", "2"), "0");
    assert_string_equal(asset(*state, "charger_expected", "3"), "1");
    assert_string_equal(asset(*state, "charger_expected", "4"), "0");
    assert_string_equal(asset(*state, "charger_expected", "5"), "1");
    assert_string_equal(asset(*state, "charger_expected", "6"), "0");
}

static void test_import_rejects_bad_charger_value(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "Asset Tag,Charger Expected\n100001,maybe\n", path,
              sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'Charger Expected': maybe is not yes or no (yes/no, true/false, 1/0)",
             path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_empty_status_defaults_to_deployed(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "status", "100004"), "deployed");
    assert_string_equal(asset(*state, "status", "100005"), "stock");
}

static void test_import_empty_assignee_is_null(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "assignee", "100005"), "NULL");
    assert_string_equal(asset(*state, "imei", "100001"), "NULL");
}

static void test_import_header_match_ignores_case_space_underscore_dash(void **state)
{
    char path[256];

    write_csv(*state, "t.csv", "ASSET_TAG,serial-number, Device  Type ,purchase date\n"
                               "100001,SN1,Laptop,2024-02\n",
              path, sizeof(path));
    import_ok(*state, DK_IMPORT_ASSETS, path, NULL, 0, 1, 0, 0);
    assert_string_equal(asset(*state, "serial", "100001"), "SN1");
    assert_string_equal(asset(*state, "type", "100001"), "laptop");
    assert_string_equal(asset(*state, "purchase_date", "100001"), "2024-02-29");
}

static void test_import_bom_and_crlf(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-bom-crlf.csv", NULL, 0, 2, 0, 0);
    assert_string_equal(asset(*state, "model", "100601"), "MacBook Air 13\" (M2, 2022)");
    assert_string_equal(asset(*state, "type", "100602"), "laptop");
}

static void test_import_records_one_audit_row(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(query(*state, "SELECT count(*) FROM audit", NULL), "1");
    assert_string_equal(query(*state, "SELECT action FROM audit", NULL), "import assets");
    assert_string_equal(query(*state, "SELECT actor FROM audit", NULL), "cli:test");
    assert_string_equal(query(*state, "SELECT subject FROM audit", NULL),
                        "tests/fixtures/assets-dropkiosk.csv");
    assert_string_equal(query(*state, "SELECT details FROM audit", NULL),
                        "7 added, 0 updated, 0 unchanged");
}

/* ---- Snipe-IT ---- */

static void test_import_snipeit_adds_every_row(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-snipeit.csv", NULL, 0, 7, 0, 0);
}

static void test_import_snipeit_category_maps_to_type(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-snipeit.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "type", "200101"), "chromebook");
    assert_string_equal(asset(*state, "type", "200102"), "laptop");
    assert_string_equal(asset(*state, "type", "200103"), "phone");
    assert_string_equal(asset(*state, "type", "200104"), "hotspot");
    assert_string_equal(asset(*state, "type", "200105"), "desktop");
    assert_string_equal(asset(*state, "type", "200106"), "tablet");
    assert_string_equal(asset(*state, "type", "200107"), "other");
}

static void test_import_snipeit_fields(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-snipeit.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(asset(*state, "serial", "200102"), "9ZX1PL3");
    assert_string_equal(asset(*state, "make", "200102"), "Dell");
    assert_string_equal(asset(*state, "model", "200102"), "Latitude 3540");
    assert_string_equal(asset(*state, "purchase_date", "200102"), "2023-07-18");
    assert_string_equal(asset(*state, "assignee", "200102"), "Marcus Whitfield");
    assert_string_equal(asset(*state, "status", "200103"), "ready to deploy");
    assert_string_equal(asset(*state, "charger_expected", "200105"), "0");
}

/* ---- Google Admin ---- */

static void test_import_google_admin_rows_are_chromebooks(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "chromeos-google-admin.csv", NULL, 0, 4, 0, 0);
    assert_string_equal(query(*state, "SELECT group_concat(DISTINCT type) FROM assets", NULL),
                        "chromebook");
    assert_string_equal(asset(*state, "serial", "300201"), "5CD14825JK");
    assert_string_equal(asset(*state, "model", "300203"), "Lenovo 300e Chromebook 2nd Gen");
    assert_string_equal(asset(*state, "charger_expected", "300203"), "1");
}

static void test_import_google_admin_auto_update_expiration(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "chromeos-google-admin.csv", NULL, 0, 4, 0, 0);
    assert_string_equal(asset(*state, "auto_update_expiry", "300201"), "2029-06-30");
    assert_string_equal(asset(*state, "auto_update_expiry", "300203"), "2024-06-30");
    assert_string_equal(asset(*state, "auto_update_expiry", "300204"), "2026-06-30");
}

static void test_import_google_admin_user_email_becomes_staff_id(void **state)
{
    import_ok(*state, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 7, 0, 0);
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "chromeos-google-admin.csv", NULL, 0, 4, 0, 0);
    assert_string_equal(asset(*state, "assignee", "300201"), "S100002");
    /* No annotated user: the User column fills in. */
    assert_string_equal(asset(*state, "assignee", "300202"), "S100004");
    assert_string_equal(asset(*state, "assignee", "300203"), "NULL");
}

static void test_import_google_admin_keeps_email_without_staff(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "chromeos-google-admin.csv", NULL, 0, 4, 0, 0);
    assert_string_equal(asset(*state, "assignee", "300201"), "maria.gomez@example.org");
}

static void test_import_google_admin_status_is_not_imported(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "chromeos-google-admin.csv", NULL, 0, 4, 0, 0);
    assert_string_equal(asset(*state, "status", "300204"), "deployed");
}

/* ---- staff ---- */

static void test_import_staff_adds_every_row(void **state)
{
    import_ok(*state, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(query(*state, "SELECT count(*) FROM staff", NULL), "7");
    assert_string_equal(query(*state, "SELECT action FROM audit", NULL), "import staff");
}

static void test_import_staff_same_file_twice_is_unchanged(void **state)
{
    import_ok(*state, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 7, 0, 0);
    import_ok(*state, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 0, 0, 7);
}

static void test_import_staff_keeps_non_ascii_names(void **state)
{
    import_ok(*state, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(staff(*state, "name", "S100006"), "Nguyễn Thị Hương");
    assert_string_equal(staff(*state, "name", "S100007"), "Zoë Ålund-Berg");
    assert_string_equal(staff(*state, "name", "S100004"), "Okafor, Daniel");
}

static void test_import_staff_fields(void **state)
{
    import_ok(*state, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 7, 0, 0);
    assert_string_equal(staff(*state, "email", "S100002"), "maria.gomez@example.org");
    assert_string_equal(staff(*state, "department", "S100002"), "Oak Hill High School");
    assert_string_equal(staff(*state, "leader_email", "S100002"), "k.brennan@example.org");
}

static void test_import_staff_rejects_bad_email(void **state)
{
    import_fails(*state, DK_IMPORT_STAFF, FIXTURES "staff-bad-email.csv", NULL, 0,
                 "tests/fixtures/staff-bad-email.csv:3: column 'Email': tomas ruiz@example.org "
                 "is not a plausible email address");
    assert_string_equal(query(*state, "SELECT count(*) FROM staff", NULL), "0");
}

static void test_import_staff_requires_name(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "Staff ID,Name\nS100001,\n", path, sizeof(path));
    snprintf(msg, sizeof(msg), "%s:2: column 'Name': empty, but every row needs a name", path);
    import_fails(*state, DK_IMPORT_STAFF, path, NULL, 0, msg);
}

static void test_import_staff_email_with_two_at_signs_is_rejected(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "id,name,leader_email\nS100001,A B,a@b@example.org\n", path,
              sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'leader_email': a@b@example.org is not a plausible email address",
             path);
    import_fails(*state, DK_IMPORT_STAFF, path, NULL, 0, msg);
}

static void test_import_staff_rejects_non_ascii_email(void **state)
{
    struct fixture *fx = *state;
    char path[256];
    char msg[512];

    write_csv(fx, "t.csv",
              "Staff ID,Name,Email,Leader Email\n"
              "S100001,Léa Martin,léa.martin@example.org,lead@example.org\n",
              path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'Email': léa.martin@example.org is not an address the mailer "
             "can send to (plain ASCII only)",
             path);
    import_fails(fx, DK_IMPORT_STAFF, path, NULL, 0, msg);
    assert_string_equal(query(fx, "SELECT count(*) FROM staff", NULL), "0");
}

/* The good row before it is not imported either: the whole file is refused. */
static void test_import_staff_rejects_non_ascii_leader_email(void **state)
{
    struct fixture *fx = *state;
    char path[256];
    char msg[512];

    write_csv(fx, "t.csv",
              "Staff ID,Name,Email,Leader Email\n"
              "S100001,Ann Lee,ann.lee@example.org,lead@example.org\n"
              "S100002,Léa Martin,lea.martin@example.org,léad@example.org\n",
              path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:3: column 'Leader Email': léad@example.org is not an address the mailer "
             "can send to (plain ASCII only)",
             path);
    import_fails(fx, DK_IMPORT_STAFF, path, NULL, 0, msg);
    assert_string_equal(query(fx, "SELECT count(*) FROM staff", NULL), "0");
    assert_string_equal(query(fx, "SELECT count(*) FROM audit", NULL), "0");
}

/* Addresses the old plausibility check let through and mail_address_ok
 * (so mail_compose) refuses. */
static void test_import_staff_rejects_addresses_the_mailer_refuses(void **state)
{
    static const struct {
        const char *cell;
        const char *shown;
    } cases[] = {
        {"<ann.lee@example.org>", "<ann.lee@example.org>"},
        {"\"ann.lee@example.org,x@example.org\"", "ann.lee@example.org,x@example.org"},
        {"ann.lee@example..org", "ann.lee@example..org"},
        {"ann.lee@example.org.", "ann.lee@example.org."},
        {"ann;lee@example.org", "ann;lee@example.org"},
    };
    struct fixture *fx = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        char path[256];
        char msg[512];

        snprintf(text, sizeof(text), "id,name,leader_email\nS100001,Ann Lee,%s\n",
                 cases[i].cell);
        write_csv(fx, "t.csv", text, path, sizeof(path));
        snprintf(msg, sizeof(msg),
                 "%s:2: column 'leader_email': %s is not a plausible email address", path,
                 cases[i].shown);
        import_fails(fx, DK_IMPORT_STAFF, path, NULL, 0, msg);
    }
    assert_string_equal(query(fx, "SELECT count(*) FROM staff", NULL), "0");
}

static void test_import_staff_empty_emails_stay_allowed(void **state)
{
    struct fixture *fx = *state;
    char path[256];

    write_csv(fx, "t.csv",
              "Staff ID,Name,Email,Leader Email\n"
              "S100001,Ann Lee,ann.lee@example.org,\n"
              "S100002,Bo Park,,\n",
              path, sizeof(path));
    import_ok(fx, DK_IMPORT_STAFF, path, NULL, 0, 2, 0, 0);
    assert_string_equal(staff(fx, "leader_email", "S100001"), "NULL");
    assert_string_equal(staff(fx, "email", "S100002"), "NULL");
}

static void test_import_staff_names_in_every_script(void **state)
{
    struct fixture *fx = *state;
    char path[256];

    write_csv(fx, "t.csv",
              "Staff ID,Name,Email,School/Department\n"
              "S100001,محمد عبد الله,m.abdullah@example.org,مدرسة النور\n"
              "S100002,שרה לוי,sara.levi@example.org,בית ספר אלון\n"
              "S100003,王小明,xiaoming.wang@example.org,第一中学\n"
              "S100004,Nguyễn Thị Hương,huong.nguyen@example.org,Trường Tiểu học\n"
              "S100005,Zoë Ålund-Berg,zoe.alund@example.org,Økonomi\n"
              "S100006,François Müller,francois.muller@example.org,Lycée Émile\n",
              path, sizeof(path));
    import_ok(fx, DK_IMPORT_STAFF, path, NULL, 0, 6, 0, 0);
    assert_string_equal(staff(fx, "name", "S100001"), "محمد عبد الله");
    assert_string_equal(staff(fx, "department", "S100001"), "مدرسة النور");
    assert_string_equal(staff(fx, "name", "S100002"), "שרה לוי");
    assert_string_equal(staff(fx, "department", "S100002"), "בית ספר אלון");
    assert_string_equal(staff(fx, "name", "S100003"), "王小明");
    assert_string_equal(staff(fx, "name", "S100004"), "Nguyễn Thị Hương");
    assert_string_equal(staff(fx, "name", "S100005"), "Zoë Ålund-Berg");
    assert_string_equal(staff(fx, "name", "S100006"), "François Müller");
}

/* U+0085, U+009B, U+2028, U+2029, U+202E and U+2066 in a name: each one
 * refused naming line, column and the code point, nothing imported. */
static void test_import_staff_rejects_invisible_controls_in_name(void **state)
{
    static const struct {
        const char *name;
        const char *why;
    } cases[] = {
        {"Ann\xc2\x85Lee", "a C1 control character (U+0085)"},
        {"Ann\xc2\x9b" "2JLee", "a C1 control character (U+009B)"},
        {"Ann\xe2\x80\xa8Lee", "a line or paragraph separator (U+2028)"},
        {"Ann\xe2\x80\xa9Lee", "a line or paragraph separator (U+2029)"},
        {"Ann\xe2\x80\xae" "Lee", "a bidirectional text control (U+202E)"},
        {"Ann\xe2\x81\xa6Lee", "a bidirectional text control (U+2066)"},
    };
    struct fixture *fx = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        char path[256];
        char msg[512];

        snprintf(text, sizeof(text),
                 "Staff ID,Name,Email\nS100001,Bo Park,bo.park@example.org\n"
                 "S100002,%s,ann.lee@example.org\n",
                 cases[i].name);
        write_csv(fx, "t.csv", text, path, sizeof(path));
        snprintf(msg, sizeof(msg), "%s:3: column 'Name': value holds %s", path, cases[i].why);
        import_fails(fx, DK_IMPORT_STAFF, path, NULL, 0, msg);
    }
    assert_string_equal(query(fx, "SELECT count(*) FROM staff", NULL), "0");
}

/* Every text cell, not only names: an asset's model and a department. */
static void test_import_rejects_invisible_controls_in_other_cells(void **state)
{
    struct fixture *fx = *state;
    char path[256];
    char msg[512];

    write_csv(fx, "t.csv", "tag,model\n100001,Latitude\xe2\x80\xae" "0453\n", path,
              sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'model': value holds a bidirectional text control (U+202E)", path);
    import_fails(fx, DK_IMPORT_ASSETS, path, NULL, 0, msg);

    write_csv(fx, "t.csv", "id,name,department\nS100001,Ann Lee,Finance\xc2\x85\n", path,
              sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'department': value holds a C1 control character (U+0085)", path);
    import_fails(fx, DK_IMPORT_STAFF, path, NULL, 0, msg);
    assert_string_equal(query(fx, "SELECT count(*) FROM assets", NULL), "0");
    assert_string_equal(query(fx, "SELECT count(*) FROM staff", NULL), "0");
}

/* A header is never stored, but it is named in messages: what text_check
 * refuses shows as '?', so it cannot act on the operator's terminal. */
static void test_import_message_shows_controls_in_header_as_question_marks(void **state)
{
    const struct dk_import_map maps[] = {{"Na\xc2\x9bme\xe2\x80\xae", "name"}};
    struct fixture *fx = *state;
    char path[256];
    char msg[512];

    write_csv(fx, "t.csv", "id,Na\xc2\x9bme\xe2\x80\xae\nS100001,\n", path, sizeof(path));
    snprintf(msg, sizeof(msg), "%s:2: column 'Na?me?': empty, but every row needs a name",
             path);
    import_fails(fx, DK_IMPORT_STAFF, path, maps, 1, msg);
}

/* ---- bad input ---- */

static void test_import_bad_imei_names_line_and_column(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-bad-imei.csv", NULL, 0,
                 "tests/fixtures/assets-bad-imei.csv:4: column 'IMEI': 352099001761482 is not "
                 "a valid IMEI (check digit)");
}

static void test_import_short_imei_is_rejected(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "tag,imei\n100001,35209900176148\n", path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'imei': 35209900176148 is not a valid IMEI (15 digits expected)",
             path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_imei_with_separators_is_stored_as_digits(void **state)
{
    char path[256];

    write_csv(*state, "t.csv", "tag,type,imei\n100001,phone,35-209900-176148-1\n", path,
              sizeof(path));
    import_ok(*state, DK_IMPORT_ASSETS, path, NULL, 0, 1, 0, 0);
    assert_string_equal(asset(*state, "imei", "100001"), "352099001761481");
}

static void test_import_nothing_imported_after_bad_row(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-bad-imei.csv", NULL, 0,
                 "tests/fixtures/assets-bad-imei.csv:4: column 'IMEI': 352099001761482 is not "
                 "a valid IMEI (check digit)");
    assert_string_equal(query(*state, "SELECT count(*) FROM assets", NULL), "0");
    assert_string_equal(query(*state, "SELECT count(*) FROM audit", NULL), "0");
}

static void test_import_bad_row_leaves_earlier_import_untouched(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", NULL, 0, 7, 0, 0);
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-bad-imei.csv", NULL, 0,
                 "tests/fixtures/assets-bad-imei.csv:4: column 'IMEI': 352099001761482 is not "
                 "a valid IMEI (check digit)");
    assert_string_equal(query(*state, "SELECT count(*) FROM assets", NULL), "7");
    assert_string_equal(query(*state, "SELECT count(*) FROM audit", NULL), "1");
}

static void test_import_rejects_unclosed_quote(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-unclosed-quote.csv", NULL, 0,
                 "tests/fixtures/assets-unclosed-quote.csv:3: unclosed quote in field 4 "
                 "(opened here)");
    assert_string_equal(query(*state, "SELECT count(*) FROM assets", NULL), "0");
}

static void test_import_rejects_invalid_utf8(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-latin1.csv", NULL, 0,
                 "tests/fixtures/assets-latin1.csv:3: invalid UTF-8 (byte 0xE9)");
    assert_string_equal(query(*state, "SELECT count(*) FROM assets", NULL), "0");
}

static void test_import_audits_each_change_of_assignee(void **state)
{
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-handover-1.csv", NULL, 0, 2, 0, 0);
    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-handover-2.csv", NULL, 0, 0, 2, 0);
    assert_string_equal(query(*state,
                              "SELECT group_concat(subject || ' ' || details, '; ') FROM "
                              "audit WHERE action = 'asset assignee changed'",
                              NULL),
                        "900001 import tests/fixtures/assets-handover-2.csv line 2: S100002 -> "
                        "S100003; 900002 import tests/fixtures/assets-handover-2.csv line 3: "
                        "S100002 -> S100003");
}

static void test_import_never_brings_a_recycled_asset_back(void **state)
{
    struct fixture *fx = *state;

    import_ok(fx, DK_IMPORT_ASSETS, FIXTURES "assets-handover-1.csv", NULL, 0, 2, 0, 0);
    assert_int_equal(sqlite3_exec(fx->store->db,
                                  "UPDATE assets SET status = 'recycled', assignee = NULL "
                                  "WHERE tag = '900001'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    /* The export still lists it deployed to someone: it stays recycled. */
    import_ok(fx, DK_IMPORT_ASSETS, FIXTURES "assets-handover-2.csv", NULL, 0, 0, 1, 1);
    assert_string_equal(asset(fx, "status", "900001"), "recycled");
    assert_string_equal(asset(fx, "assignee", "900001"), "NULL");
    assert_string_equal(asset(fx, "assignee", "900002"), "S100003");
}

static void test_import_duplicate_staff_email_names_both_lines(void **state)
{
    import_fails(*state, DK_IMPORT_STAFF, FIXTURES "staff-duplicate-email.csv", NULL, 0,
                 "tests/fixtures/staff-duplicate-email.csv:3: column 'Email': email "
                 "Ana.Lima@Example.org appears twice, on lines 2 and 3");
    assert_string_equal(query(*state, "SELECT count(*) FROM staff", NULL), "0");
}

static void test_import_duplicate_tag_names_both_lines(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-duplicate-tag.csv", NULL, 0,
                 "tests/fixtures/assets-duplicate-tag.csv:5: column 'Asset Tag': tag 100302 "
                 "appears twice, on lines 3 and 5");
}

static void test_import_rejects_bad_date(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-bad-date.csv", NULL, 0,
                 "tests/fixtures/assets-bad-date.csv:3: column 'Purchase Date': 31/07/2023 is "
                 "not a date (YYYY-MM-DD, MM/DD/YYYY or YYYY-MM)");
}

static void test_import_rejects_february_29_in_common_year(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "tag,purchase_date\n100001,2023-02-29\n", path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'purchase_date': 2023-02-29 is not a date (YYYY-MM-DD, MM/DD/YYYY "
             "or YYYY-MM)",
             path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_rejects_missing_tag(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-missing-tag.csv", NULL, 0,
                 "tests/fixtures/assets-missing-tag.csv:3: column 'Asset Tag': empty, but every "
                 "row needs a tag");
}

static void test_import_rejects_unknown_type(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "tag,type\n100001,Laptops\n", path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'type': Laptops is not a device type (laptop, chromebook, tablet, "
             "phone, hotspot, desktop or other)",
             path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_rejects_short_row(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "tag,serial,model\n100001,SN1\n", path, sizeof(path));
    snprintf(msg, sizeof(msg), "%s:2: 2 fields, but the header has 3", path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_rejects_control_character_in_value(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "tag,model\n100001,\"Latitude\n3540\"\n", path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'model': value holds a control character (a tab or line break)", path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_skips_blank_rows(void **state)
{
    char path[256];

    write_csv(*state, "t.csv", "tag,serial\n100001,SN1\n,\n , \n100002,SN2\n,,\n", path,
              sizeof(path));
    import_ok(*state, DK_IMPORT_ASSETS, path, NULL, 0, 2, 0, 0);
}

static void test_import_without_tag_column_is_rejected(void **state)
{
    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-custom-headers.csv", NULL, 0,
                 "tests/fixtures/assets-custom-headers.csv:1: no column for field 'tag'; name "
                 "one with --map COLUMN=tag");
}

static void test_import_two_columns_for_one_field_is_rejected(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "tag,Serial,Serial Number\n100001,A,B\n", path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:1: columns 'Serial' and 'Serial Number' both fill field 'serial'; choose one "
             "with --map COLUMN=serial and --map OTHER=-",
             path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_empty_file_is_rejected(void **state)
{
    char path[256];
    char msg[512];

    write_csv(*state, "t.csv", "", path, sizeof(path));
    snprintf(msg, sizeof(msg), "%s: the file is empty (no header row)", path);
    import_fails(*state, DK_IMPORT_ASSETS, path, NULL, 0, msg);
}

static void test_import_missing_file_is_enoent(void **state)
{
    struct dk_error err = {{0}};

    assert_int_equal(import_csv(((struct fixture *)*state)->store, DK_IMPORT_ASSETS,
                                FIXTURES "no-such-file.csv", NULL, 0, "cli:test", NULL, &err),
                     -ENOENT);
    assert_string_equal(err.msg,
                        "cannot open tests/fixtures/no-such-file.csv: No such file or directory");
}

static void test_import_reads_stdin(void **state)
{
    int saved = dup(STDIN_FILENO);
    int fd = open(FIXTURES "assets-bad-imei.csv", O_RDONLY);

    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    import_fails(*state, DK_IMPORT_ASSETS, "-", NULL, 0,
                 "stdin:4: column 'IMEI': 352099001761482 is not a valid IMEI (check digit)");
    dup2(saved, STDIN_FILENO);
    close(saved);
    assert_string_equal(query(*state, "SELECT count(*) FROM assets", NULL), "0");
}

/* ---- --map ---- */

static void test_import_map_overrides_columns(void **state)
{
    static const struct dk_import_map maps[] = {
        {"Barcode", "tag"},
        {"device serial", "serial"},
        {"KIND", "type"},
        {"Person", "assignee"},
        {"Old Tag", "-"},
    };

    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-custom-headers.csv", maps, 5, 2, 0, 0);
    assert_string_equal(asset(*state, "serial", "400001"), "SN-77120");
    assert_string_equal(asset(*state, "type", "400002"), "tablet");
    assert_string_equal(asset(*state, "assignee", "400002"), "S100003");
}

static void test_import_map_dash_ignores_column(void **state)
{
    static const struct dk_import_map maps[] = {{"IMEI", "-"}};

    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "assets-dropkiosk.csv", maps, 1, 7, 0, 0);
    assert_string_equal(asset(*state, "imei", "100002"), "NULL");
}

static void test_import_map_replaces_builtin_column(void **state)
{
    static const struct dk_import_map maps[] = {{"User", "assignee"}};

    import_ok(*state, DK_IMPORT_ASSETS, FIXTURES "chromeos-google-admin.csv", maps, 1, 4, 0, 0);
    /* Annotated User is no longer read: row 300204 has only that one. */
    assert_string_equal(asset(*state, "assignee", "300204"), "NULL");
    assert_string_equal(asset(*state, "assignee", "300202"), "d.okafor@example.org");
}

static void test_import_map_unknown_field_is_rejected(void **state)
{
    static const struct dk_import_map maps[] = {{"Barcode", "barcode"}};

    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-custom-headers.csv", maps, 1,
                 "--map Barcode=barcode: no field 'barcode' in assets (fields: tag, serial, "
                 "imei, type, make, model, purchase_date, auto_update_expiry, assignee, "
                 "charger_expected, status, or - to ignore)");
}

static void test_import_map_missing_column_is_rejected(void **state)
{
    static const struct dk_import_map maps[] = {{"Asset Number", "tag"}};

    import_fails(*state, DK_IMPORT_ASSETS, FIXTURES "assets-custom-headers.csv", maps, 1,
                 "tests/fixtures/assets-custom-headers.csv:1: --map Asset Number=tag: there is "
                 "no column 'Asset Number'");
}

/* ---- the demo data tool ---- */

static void run_demo_data(const char *dir)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        /* Its "wrote N staff" lines are for people, not the test report. */
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execl("tools/demo-data", "tools/demo-data", dir, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_import_demo_data_imports_cleanly(void **state)
{
    struct fixture *fx = *state;
    char path[256];

    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    run_demo_data(fx->dir);
    snprintf(path, sizeof(path), "%s/staff.csv", fx->dir);
    import_ok(fx, DK_IMPORT_STAFF, path, NULL, 0, 200, 0, 0);
    snprintf(path, sizeof(path), "%s/assets.csv", fx->dir);
    import_ok(fx, DK_IMPORT_ASSETS, path, NULL, 0, 500, 0, 0);
    import_ok(fx, DK_IMPORT_ASSETS, path, NULL, 0, 0, 0, 500);
    assert_string_equal(query(fx, "SELECT count(DISTINCT type) FROM assets", NULL), "7");
    /* Every assignee is a staff id from the same run. */
    assert_string_equal(query(fx,
                              "SELECT count(*) FROM assets WHERE assignee IS NOT NULL AND "
                              "assignee NOT IN (SELECT id FROM staff)",
                              NULL),
                        "0");
    /* Every leader is a staff member. */
    assert_string_equal(query(fx,
                              "SELECT count(*) FROM staff WHERE leader_email NOT IN "
                              "(SELECT email FROM staff)",
                              NULL),
                        "0");
}

/* ---- HR leavers list ---- */

static void import_staff_fixture(struct fixture *fx)
{
    import_ok(fx, DK_IMPORT_STAFF, FIXTURES "staff.csv", NULL, 0, 7, 0, 0);
}

static void test_import_leavers_sets_left_on(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    assert_string_equal(staff(*state, "left_on", "S100002"), "2024-06-14");
    assert_string_equal(staff(*state, "left_on", "S100007"), "2024-05-31");
}

static void test_import_leavers_us_date_is_normalised(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    assert_string_equal(staff(*state, "left_on", "S100005"), "2024-06-28");
}

static void test_import_leavers_leaves_others_alone(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    assert_string_equal(staff(*state, "left_on", "S100001"), "NULL");
    assert_string_equal(query(*state, "SELECT count(*) FROM staff WHERE left_on IS NULL", NULL),
                        "4");
}

static void test_import_leavers_keeps_staff_fields(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    assert_string_equal(staff(*state, "name", "S100002"), "María Gómez");
    assert_string_equal(staff(*state, "leader_email", "S100002"), "k.brennan@example.org");
}

static void test_import_leavers_same_file_twice_is_unchanged(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 0, 3);
}

static void test_import_leavers_new_last_day_counts_as_updated(void **state)
{
    char path[256];

    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    write_csv(*state, "t.csv", "Staff ID,Last Day\nS100002,2024-06-28\nS100007,2024-05-31\n",
              path, sizeof(path));
    import_ok(*state, DK_IMPORT_LEAVERS, path, NULL, 0, 0, 1, 1);
    assert_string_equal(staff(*state, "left_on", "S100002"), "2024-06-28");
}

static void test_import_leavers_by_email_ignoring_case(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers-email.csv", NULL, 0, 0, 2, 0);
    assert_string_equal(staff(*state, "left_on", "S100003"), "2024-06-21");
    assert_string_equal(staff(*state, "left_on", "S100006"), "2024-07-01");
}

static void test_import_leavers_email_is_fallback_for_empty_id(void **state)
{
    char path[256];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv",
              "Employee ID,Email,Termination Date\n,k.brennan@example.org,2024-06-21\n", path,
              sizeof(path));
    import_ok(*state, DK_IMPORT_LEAVERS, path, NULL, 0, 0, 1, 0);
    assert_string_equal(staff(*state, "left_on", "S100003"), "2024-06-21");
}

static void test_import_leavers_unknown_staff_names_line_and_column(void **state)
{
    import_staff_fixture(*state);
    import_fails(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers-unknown.csv", NULL, 0,
                 "tests/fixtures/leavers-unknown.csv:3: column 'Employee ID': no staff member "
                 "has id S100099 (import staff first)");
}

static void test_import_leavers_unknown_staff_imports_nothing(void **state)
{
    import_staff_fixture(*state);
    import_fails(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers-unknown.csv", NULL, 0,
                 "tests/fixtures/leavers-unknown.csv:3: column 'Employee ID': no staff member "
                 "has id S100099 (import staff first)");
    assert_string_equal(staff(*state, "left_on", "S100002"), "NULL");
    assert_string_equal(query(*state, "SELECT count(*) FROM audit", NULL), "1");
}

static void test_import_leavers_unknown_email_names_line_and_column(void **state)
{
    char path[256];
    char msg[512];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv", "Email,Last Day\nnobody@example.org,2024-06-21\n", path,
              sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'Email': no staff member has id or email nobody@example.org "
             "(import staff first)",
             path);
    import_fails(*state, DK_IMPORT_LEAVERS, path, NULL, 0, msg);
}

static void test_import_leavers_same_person_by_id_and_email_is_duplicate(void **state)
{
    char path[256];
    char msg[512];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv",
              "Employee ID,Last Day\nS100003,2024-06-21\nk.brennan@example.org,2024-06-21\n",
              path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:3: column 'Employee ID': id S100003 appears twice, on lines 2 and 3", path);
    import_fails(*state, DK_IMPORT_LEAVERS, path, NULL, 0, msg);
}

static void test_import_leavers_rejects_bad_date(void **state)
{
    char path[256];
    char msg[512];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv", "Employee ID,Separation Date\nS100002,14.06.2024\n", path,
              sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:2: column 'Separation Date': 14.06.2024 is not a date (YYYY-MM-DD, "
             "MM/DD/YYYY or YYYY-MM)",
             path);
    import_fails(*state, DK_IMPORT_LEAVERS, path, NULL, 0, msg);
}

static void test_import_leavers_requires_last_day(void **state)
{
    char path[256];
    char msg[512];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv", "Employee ID,Last Day\nS100002,\n", path, sizeof(path));
    snprintf(msg, sizeof(msg), "%s:2: column 'Last Day': empty, but every row needs a left_on",
             path);
    import_fails(*state, DK_IMPORT_LEAVERS, path, NULL, 0, msg);
}

static void test_import_leavers_without_date_column_is_rejected(void **state)
{
    char path[256];
    char msg[512];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv", "Employee ID,Name\nS100002,María Gómez\n", path, sizeof(path));
    snprintf(msg, sizeof(msg),
             "%s:1: no column for field 'left_on'; name one with --map COLUMN=left_on", path);
    import_fails(*state, DK_IMPORT_LEAVERS, path, NULL, 0, msg);
}

static void test_import_leavers_map_names_date_column(void **state)
{
    static const struct dk_import_map maps[] = {{"Exit Date", "left_on"}};
    char path[256];

    import_staff_fixture(*state);
    write_csv(*state, "t.csv", "Employee ID,Exit Date\nS100002,2024-06-14\n", path,
              sizeof(path));
    import_ok(*state, DK_IMPORT_LEAVERS, path, maps, 1, 0, 1, 0);
    assert_string_equal(staff(*state, "left_on", "S100002"), "2024-06-14");
}

static void test_import_leavers_records_audit_row(void **state)
{
    import_staff_fixture(*state);
    import_ok(*state, DK_IMPORT_LEAVERS, FIXTURES "leavers.csv", NULL, 0, 0, 3, 0);
    assert_string_equal(query(*state, "SELECT action || '|' || subject || '|' || details FROM "
                                      "audit ORDER BY id DESC LIMIT 1",
                              NULL),
                        "import leavers|tests/fixtures/leavers.csv|0 added, 3 updated, "
                        "0 unchanged");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_import_dropkiosk_assets_adds_every_row),
        T(test_import_same_file_twice_is_unchanged),
        T(test_import_changed_row_counts_as_updated),
        T(test_import_absent_column_keeps_existing_value),
        T(test_import_quoted_comma_and_quote_in_model),
        T(test_import_us_date_is_normalised),
        T(test_import_year_month_means_last_day_of_month),
        T(test_import_charger_defaults_by_type),
        T(test_import_charger_words),
        T(test_import_rejects_bad_charger_value),
        T(test_import_empty_status_defaults_to_deployed),
        T(test_import_empty_assignee_is_null),
        T(test_import_header_match_ignores_case_space_underscore_dash),
        T(test_import_bom_and_crlf),
        T(test_import_records_one_audit_row),
        T(test_import_snipeit_adds_every_row),
        T(test_import_snipeit_category_maps_to_type),
        T(test_import_snipeit_fields),
        T(test_import_google_admin_rows_are_chromebooks),
        T(test_import_google_admin_auto_update_expiration),
        T(test_import_google_admin_user_email_becomes_staff_id),
        T(test_import_google_admin_keeps_email_without_staff),
        T(test_import_google_admin_status_is_not_imported),
        T(test_import_staff_adds_every_row),
        T(test_import_staff_same_file_twice_is_unchanged),
        T(test_import_staff_keeps_non_ascii_names),
        T(test_import_staff_fields),
        T(test_import_staff_rejects_bad_email),
        T(test_import_staff_requires_name),
        T(test_import_staff_email_with_two_at_signs_is_rejected),
        T(test_import_staff_rejects_non_ascii_email),
        T(test_import_staff_rejects_non_ascii_leader_email),
        T(test_import_staff_rejects_addresses_the_mailer_refuses),
        T(test_import_staff_empty_emails_stay_allowed),
        T(test_import_staff_names_in_every_script),
        T(test_import_staff_rejects_invisible_controls_in_name),
        T(test_import_rejects_invisible_controls_in_other_cells),
        T(test_import_message_shows_controls_in_header_as_question_marks),
        T(test_import_bad_imei_names_line_and_column),
        T(test_import_short_imei_is_rejected),
        T(test_import_imei_with_separators_is_stored_as_digits),
        T(test_import_nothing_imported_after_bad_row),
        T(test_import_bad_row_leaves_earlier_import_untouched),
        T(test_import_rejects_unclosed_quote),
        T(test_import_rejects_invalid_utf8),
        T(test_import_audits_each_change_of_assignee),
        T(test_import_never_brings_a_recycled_asset_back),
        T(test_import_duplicate_staff_email_names_both_lines),
        T(test_import_duplicate_tag_names_both_lines),
        T(test_import_rejects_bad_date),
        T(test_import_rejects_february_29_in_common_year),
        T(test_import_rejects_missing_tag),
        T(test_import_rejects_unknown_type),
        T(test_import_rejects_short_row),
        T(test_import_rejects_control_character_in_value),
        T(test_import_skips_blank_rows),
        T(test_import_without_tag_column_is_rejected),
        T(test_import_two_columns_for_one_field_is_rejected),
        T(test_import_empty_file_is_rejected),
        T(test_import_missing_file_is_enoent),
        T(test_import_reads_stdin),
        T(test_import_map_overrides_columns),
        T(test_import_map_dash_ignores_column),
        T(test_import_map_replaces_builtin_column),
        T(test_import_map_unknown_field_is_rejected),
        T(test_import_map_missing_column_is_rejected),
        T(test_import_demo_data_imports_cleanly),
        T(test_import_leavers_sets_left_on),
        T(test_import_leavers_us_date_is_normalised),
        T(test_import_leavers_leaves_others_alone),
        T(test_import_leavers_keeps_staff_fields),
        T(test_import_leavers_same_file_twice_is_unchanged),
        T(test_import_leavers_new_last_day_counts_as_updated),
        T(test_import_leavers_by_email_ignoring_case),
        T(test_import_leavers_email_is_fallback_for_empty_id),
        T(test_import_leavers_unknown_staff_names_line_and_column),
        T(test_import_leavers_unknown_staff_imports_nothing),
        T(test_import_leavers_unknown_email_names_line_and_column),
        T(test_import_leavers_same_person_by_id_and_email_is_duplicate),
        T(test_import_leavers_rejects_bad_date),
        T(test_import_leavers_requires_last_day),
        T(test_import_leavers_without_date_column_is_rejected),
        T(test_import_leavers_map_names_date_column),
        T(test_import_leavers_records_audit_row),
    };

    /* The importer's notes (ignored columns, unknown assignees) would bury
     * the test report. */
    log_set_level(DK_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
