/* The disposition rules engine (grammar, built-in rules, first match) and
 * the acts: wipes, reimage, reassign, recycle, reservations and the
 * e-waste manifest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "disposition.h"
#include "store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TODAY "2026-12-04"

struct fixture {
    char dir[64];
    char db[96];
    char conf[96];
    struct dk_store *store;
    struct dk_config cfg;
};

static const char seed[] =
    "INSERT INTO sites VALUES ('bolling', 'Bolling Building');"
    "INSERT INTO kiosks (id, site_id) VALUES ('bolling-1', 'bolling');"
    "INSERT INTO staff (id, name) VALUES ('S100001', 'María José Peña'),"
    "  ('S100003', 'Smith, Jordan'), ('S100004', 'Ana Lima');"
    "INSERT INTO staff (id, name, left_on) VALUES ('S100009', 'Lee Gone', '2026-06-30');"
    "INSERT INTO assets (tag, serial, type, make, model, purchase_date, auto_update_expiry,"
    "  assignee) VALUES"
    "  ('200001', 'DL5420A', 'laptop', 'Dell', 'Latitude 5420', '2022-01-10', NULL,"
    "   'S100001'),"
    "  ('200002', '5CD1234', 'laptop', 'HP', 'ProBook 450 G8', '2019-08-01', NULL, 'S100001'),"
    "  ('200003', 'NXHQ001', 'chromebook', 'Lenovo', '300e Chromebook Gen 3', '2024-01-01',"
    "   '2025-06-30', 'S100001'),"
    "  ('200004', 'DMPX1', 'tablet', 'Apple', 'iPad 10.2\" (9th gen), 64GB', '2025-01-01',"
    "   NULL, 'S100001'),"
    "  ('200005', 'R58N1', 'phone', 'Samsung', 'Galaxy A54', '2023-03-01', NULL, 'S100001'),"
    "  ('200006', 'DL5420B', 'laptop', 'Dell', 'Latitude 5420', '2021-12-04', NULL,"
    "   'S100004');";

static int setup(void **state)
{
    char dir[] = "/tmp/dk-dispo-XXXXXX";
    struct fixture *f = calloc(1, sizeof(*f));
    struct dk_error err = {{0}};

    if (f == NULL || sodium_init() < 0 || mkdtemp(dir) == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s", dir);
    snprintf(f->db, sizeof(f->db), "%s/kiosk.db", dir);
    snprintf(f->conf, sizeof(f->conf), "%s/dropkiosk.conf", dir);
    if (store_open(f->db, &f->store, &err) != 0 ||
        store_exec(f->store, seed, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    config_defaults(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char name[128];

    store_close(f->store);
    unlink(f->db);
    snprintf(name, sizeof(name), "%s-wal", f->db);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", f->db);
    unlink(name);
    unlink(f->conf);
    snprintf(name, sizeof(name), "%s/manifest.csv", f->dir);
    unlink(name);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Load a config whose text is given; returns config_load's code. */
static int load_config(struct fixture *f, const char *text,
                       struct dk_error *err)
{
    FILE *fp = fopen(f->conf, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    config_defaults(&f->cfg);
    return config_load(&f->cfg, f->conf, err);
}

static int64_t add_return(struct fixture *f, const char *tag, const char *state,
                          const char *condition)
{
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};

    assert_int_equal(
        store_prepare(
            f->store,
            "INSERT INTO returns (asset_tag, site_id, kiosk_id, "
            "returned_at, charger_declared, state, condition) VALUES "
            "(?, 'bolling', 'bolling-1', '2026-12-01T14:00:00Z', 1, ?, ?)",
            &st, &err),
        0);
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    if (condition != NULL)
        sqlite3_bind_text(st, 3, condition, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(f->store->db);
}

static void reserve(struct fixture *f, const char *model, const char *staff)
{
    struct dk_act act = {
        .tech = "T0001", .now = "2026-11-20T10:00:00Z", .today = TODAY};
    struct dk_error err = {{0}};

    assert_int_equal(
        disposition_reserve(f->store, &act, model, staff, NULL, &err), 0);
}

static void propose(struct fixture *f, const char *tag, struct dk_proposal *p)
{
    struct dk_error err = {{0}};
    int rc = disposition_propose(f->store, &f->cfg, 0, tag, TODAY, p, &err);

    if (rc != 0)
        fprintf(stderr, "propose: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

/* One text value from a query with no parameters ("" for NULL). */
static void query_text(struct fixture *f, const char *sql, char *out,
                       size_t size)
{
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};
    const unsigned char *v;

    assert_int_equal(store_prepare(f->store, sql, &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", v != NULL ? (const char *)v : "");
    sqlite3_finalize(st);
}

static int query_int(struct fixture *f, const char *sql)
{
    char text[32];

    query_text(f, sql, text, sizeof(text));
    return (int)strtol(text, NULL, 10);
}

static const struct dk_act tech1 = {
    .tech = "T0001", .now = "2026-12-04T15:30:00Z", .today = TODAY};
static const struct dk_act tech2 = {
    .tech = "T0002", .now = "2026-12-05T09:00:00Z", .today = "2026-12-05"};

static void wipe(struct fixture *f, const char *tag)
{
    struct dk_error err = {{0}};

    assert_int_equal(disposition_wipe(f->store, &tech1, tag, "powerwash",
                                      "Google Admin", &err),
                     0);
}

/* ---- the built-in rules ---- */

static void test_builtin_damaged_is_recycled(void **state)
{
    struct fixture *f = *state;
    struct dk_proposal p;

    add_return(f, "200001", "received", "damaged");
    propose(f, "200001", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_RECYCLE);
    assert_string_equal(p.rule, "condition is damaged, not_working -> recycle");
    assert_string_equal(p.source, "built-in");
    assert_int_equal(p.line, 0);
}

static void test_builtin_laptop_bought_2019_is_recycled_in_2026(void **state)
{
    struct fixture *f = *state;
    struct dk_proposal p;

    add_return(f, "200002", "received", "good");
    propose(f, "200002", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_RECYCLE);
    assert_string_equal(
        p.rule, "older than laptop 5y, chromebook 4y, tablet 4y, phone 3y, "
                "hotspot 3y -> recycle");
}

static void
test_builtin_laptop_exactly_five_years_old_is_not_older(void **state)
{
    struct fixture *f = *state;
    struct dk_proposal p;

    /* 200006 was bought 2021-12-04: five years to the day, not more. */
    add_return(f, "200006", "received", "good");
    propose(f, "200006", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_REIMAGE);
    assert_string_equal(p.rule, "always -> reimage");
}

static void test_builtin_expired_chromebook_is_recycled(void **state)
{
    struct fixture *f = *state;
    struct dk_proposal p;

    /* Bought 2024: not old; its auto-update expiry 2025-06-30 has passed. */
    add_return(f, "200003", "received", "good");
    propose(f, "200003", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_RECYCLE);
    assert_string_equal(p.rule, "auto update expired -> recycle");
}

static void test_builtin_reservation_proposes_reassign_to_oldest(void **state)
{
    struct fixture *f = *state;
    struct dk_proposal p;

    reserve(f, "Latitude 5420", "S100003");
    reserve(f, "latitude 5420", "S100004");
    add_return(f, "200001", "received", "worn");
    propose(f, "200001", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_REASSIGN);
    assert_string_equal(p.rule, "reserved -> reassign");
    assert_string_equal(p.holder, "S100003");
    assert_string_equal(p.holder_name, "Smith, Jordan");
    assert_int_equal(p.reservation_id, 1);
}

static void test_builtin_otherwise_reimage(void **state)
{
    struct fixture *f = *state;
    struct dk_proposal p;

    add_return(f, "200001", "received", "good");
    propose(f, "200001", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_REIMAGE);
    assert_string_equal(p.rule, "always -> reimage");
    assert_string_equal(p.source, "built-in");
    assert_string_equal(p.holder, "");
}

/* ---- configured rules ---- */

static void test_first_matching_rule_wins(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_proposal p;
    char source[160];

    assert_int_equal(load_config(f,
                                 "[disposition]\n"
                                 "rule = type is laptop -> reimage\n"
                                 "rule = condition is damaged -> recycle\n",
                                 &err),
                     0);
    add_return(f, "200001", "received", "damaged");
    propose(f, "200001", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_REIMAGE);
    assert_string_equal(p.rule, "type is laptop -> reimage");
    assert_int_equal(p.line, 2);
    snprintf(source, sizeof(source), "%s:2", f->conf);
    assert_string_equal(p.source, source);
}

static void test_first_match_wins_in_the_other_order_too(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_proposal p;

    assert_int_equal(load_config(f,
                                 "[disposition]\n"
                                 "rule = condition is damaged -> recycle\n"
                                 "rule = type is laptop -> reimage\n",
                                 &err),
                     0);
    add_return(f, "200001", "received", "damaged");
    propose(f, "200001", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_RECYCLE);
    assert_int_equal(p.line, 2);
}

static void test_and_needs_every_test(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_proposal p;

    assert_int_equal(
        load_config(
            f,
            "[disposition]\n"
            "rule = type is phone, tablet and condition is worn -> recycle\n"
            "rule = always -> reimage\n",
            &err),
        0);
    add_return(f, "200005", "received", "worn");
    add_return(f, "200004", "received", "good");
    propose(f, "200005", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_RECYCLE);
    propose(f, "200004", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_REIMAGE);
}

static void test_older_than_one_age_for_every_type_in_months(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_proposal p;

    /* 200004 was bought 2025-01-01: 23 months before 2026-12-04. */
    assert_int_equal(
        load_config(f,
                    "[disposition]\nrule = older than 24m -> recycle\n"
                    "rule = OLDER THAN 22M -> reimage\n",
                    &err),
        0);
    add_return(f, "200004", "received", "good");
    propose(f, "200004", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_REIMAGE);
    assert_int_equal(p.line, 3);
}

static void test_no_matching_rule_proposes_nothing(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_proposal p;

    assert_int_equal(
        load_config(f, "[disposition]\nrule = type is hotspot -> recycle\n",
                    &err),
        0);
    add_return(f, "200001", "received", "good");
    propose(f, "200001", &p);
    assert_int_equal(p.outcome, DK_OUTCOME_NONE);
    assert_string_equal(p.rule, "");
    assert_string_equal(p.source, "none");
}

static void test_malformed_rules_are_refused_with_file_and_line(void **state)
{
    static const struct {
        const char *rule;
        const char *why;
    } cases[] = {
        {"condition is damaged recycle",
         "no '->': a rule reads TEST -> OUTCOME"},
        {"condition is broken -> recycle",
         "'broken' is not a condition (good, worn, damaged, not_working)"},
        {"colour is red -> recycle",
         "'colour' is not a test (always, condition is, type is, older than, auto update "
         "expired, reserved)"},
        {"older than laptop five -> recycle",
         "'laptop' must be followed by an age such as 5y or 18m"},
        {"older than laptop 5y, laptop 4y -> recycle",
         "'laptop' is given twice"},
        {"older than 5 -> recycle",
         "'5' is neither an age (5y, 18m) nor an asset type"},
        {"type is toaster -> recycle",
         "'toaster' is not an asset type (laptop, chromebook, tablet, phone, hotspot, desktop, "
         "other)"},
        {"always -> shred",
         "'->' must be followed by one outcome: reimage, reassign or recycle"},
        {"always -> reimage -> recycle", "more than one '->'"},
        {"always and type is laptop -> reimage",
         "'always' stands alone, without 'and'"},
        {"condition is worn -> reassign",
         "'reassign' needs the test 'reserved' (the reservation names the person)"},
        {"auto update -> recycle",
         "'auto update' must be followed by 'expired'"},
        {"condition is worn type is laptop -> recycle",
         "expected 'and' or '->', not 'type'"},
        {"-> recycle", "a test is missing before '->'"},
    };
    struct fixture *f = *state;
    char text[512];
    char expected[DK_ERROR_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dk_error err = {{0}};

        snprintf(text, sizeof(text),
                 "[kiosk]\nsite = x\n\n[disposition]\n"
                 "rule = always -> reimage\nrule = %s\n",
                 cases[i].rule);
        snprintf(expected, sizeof(expected), "%s:6: bad rule: %s", f->conf,
                 cases[i].why);
        assert_int_equal(load_config(f, text, &err), DK_EINPUT);
        assert_string_equal(err.msg, expected);
    }
}

static void test_reference_style_rules_are_accepted(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};

    assert_int_equal(
        load_config(f,
                    "[disposition]\n"
                    "rule = condition is damaged, not_working -> recycle\n"
                    "rule = older than laptop 5y, chromebook 4y, tablet 4y, "
                    "phone 3y, hotspot 3y -> recycle\n"
                    "rule = auto update expired -> recycle\n"
                    "rule = type is chromebook and reserved -> reassign\n"
                    "rule = always -> reimage\n",
                    &err),
        0);
    assert_int_equal(f->cfg.n_rules, 5);
}

static void test_propose_needs_a_received_return(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct dk_proposal p;

    add_return(f, "200001", "dropped", NULL);
    assert_int_equal(
        disposition_propose(f->store, &f->cfg, 0, "200001", TODAY, &p, &err),
        DK_EINPUT);
    assert_string_equal(err.msg,
                        "asset 200001 has not been received yet: a technician "
                        "receives it first (dropkioskctl receive 200001)");
    assert_int_equal(
        disposition_propose(f->store, &f->cfg, 0, "299999", TODAY, &p, &err),
        DK_ENOTFOUND);
    assert_string_equal(err.msg, "asset 299999 has never been returned");
}

/* ---- acts ---- */

static void
test_reimage_without_wipe_is_refused_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char text[64];

    add_return(f, "200001", "received", "good");
    assert_int_equal(
        disposition_reimage(f->store, &f->cfg, &tech1, "200001", &err),
        DK_EINPUT);
    assert_string_equal(
        err.msg, "asset 200001 has no data wipe recorded: record it first "
                 "(dropkioskctl wipe 200001 --method M --tool T) before "
                 "reimaging");
    query_text(f, "SELECT state FROM returns", text, sizeof(text));
    assert_string_equal(text, "received");
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit"), 0);
}

static void test_reimage_after_wipe_follows_proposal(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char text[512];

    add_return(f, "200001", "received", "good");
    wipe(f, "200001");
    assert_int_equal(
        disposition_reimage(f->store, &f->cfg, &tech1, "200001", &err), 0);
    query_text(
        f,
        "SELECT state || '|' || disposition || '|' || disposition_reason || '|' || "
        "disposition_rule || '|' || dispositioned_by || '|' || dispositioned_at "
        "FROM returns",
        text, sizeof(text));
    assert_string_equal(
        text, "dispositioned|reimage|followed the proposal to reimage of rule "
              "'always -> reimage' (built-in)|built-in: always -> reimage|"
              "T0001|2026-12-04T15:30:00Z");
    query_text(f,
               "SELECT status || '|' || COALESCE(assignee, '-') FROM assets "
               "WHERE tag = '200001'",
               text, sizeof(text));
    assert_string_equal(text, "stock|-");
    query_text(
        f,
        "SELECT method || '|' || tool || '|' || technician || '|' || wiped_at "
        "FROM wipes",
        text, sizeof(text));
    assert_string_equal(text,
                        "powerwash|Google Admin|T0001|2026-12-04T15:30:00Z");
}

static void test_overriding_the_proposal_is_recorded(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char text[512];

    add_return(f, "200002", "received", "good");
    wipe(f, "200002");
    assert_int_equal(
        disposition_reimage(f->store, &f->cfg, &tech1, "200002", &err), 0);
    query_text(f, "SELECT disposition_reason FROM returns", text, sizeof(text));
    assert_string_equal(
        text, "overrode the proposal to recycle of rule 'older than laptop 5y, "
              "chromebook 4y, tablet 4y, phone 3y, hotspot 3y -> recycle' "
              "(built-in)");
}

static void test_wipe_of_a_dropped_return_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};

    add_return(f, "200001", "dropped", NULL);
    assert_int_equal(
        disposition_wipe(f->store, &tech1, "200001", "powerwash", "GA", &err),
        DK_EINPUT);
    assert_int_equal(
        disposition_wipe(f->store, &tech1, "200001", "", "GA", &err),
        DK_EINPUT);
    assert_string_equal(err.msg, "--method is missing");
    assert_int_equal(query_int(f, "SELECT count(*) FROM wipes"), 0);
}

static void test_reassign_changes_assignee_and_fulfils_reservation(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char text[512];
    int64_t id;

    reserve(f, "Latitude 5420", "S100004");
    reserve(f, "Latitude 5420", "S100003");
    id = add_return(f, "200001", "received", "good");
    wipe(f, "200001");
    assert_int_equal(disposition_reassign(f->store, &f->cfg, &tech1, "200001",
                                          "S100003", &err),
                     0);
    query_text(
        f, "SELECT assignee || '|' || status FROM assets WHERE tag = '200001'",
        text, sizeof(text));
    assert_string_equal(text, "S100003|deployed");
    query_text(
        f,
        "SELECT group_concat(staff_id || '=' || COALESCE(fulfilled_by, '-'), ' ') "
        "FROM reservations",
        text, sizeof(text));
    assert_int_equal(id, 1);
    assert_string_equal(text, "S100004=- S100003=1");
    query_text(f, "SELECT new_holder || '|' || disposition_reason FROM returns",
               text, sizeof(text));
    assert_string_equal(
        text, "S100003|followed the proposal to reassign of rule 'reserved -> "
              "reassign' (built-in), to S100003 rather than the "
              "reservation's S100004");
}

static void test_reassign_refuses_leaver_unknown_staff_and_unwiped(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char text[64];

    add_return(f, "200001", "received", "good");
    assert_int_equal(disposition_reassign(f->store, &f->cfg, &tech1, "200001",
                                          "S100003", &err),
                     DK_EINPUT);
    assert_non_null(strstr(err.msg, "has no data wipe recorded"));
    wipe(f, "200001");
    assert_int_equal(disposition_reassign(f->store, &f->cfg, &tech1, "200001",
                                          "S100009", &err),
                     DK_EINPUT);
    assert_string_equal(err.msg,
                        "staff member S100009 left the district on 2026-06-30");
    assert_int_equal(disposition_reassign(f->store, &f->cfg, &tech1, "200001",
                                          "jordan.smith@example.org", &err),
                     DK_EINPUT);
    assert_string_equal(
        err.msg, "no staff member has the id 'jordan.smith@example.org'");
    query_text(f, "SELECT assignee FROM assets WHERE tag = '200001'", text,
               sizeof(text));
    assert_string_equal(text, "S100001");
}

static void test_recycle_adds_to_the_open_manifest(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char opened[32];
    int64_t first = 0, second = 0, open_id = 0;
    int items = 0;

    add_return(f, "200004", "received", "damaged");
    add_return(f, "200005", "received", "good");
    assert_int_equal(disposition_manifest_open(f->store, &open_id, opened,
                                               sizeof(opened), &items, &err),
                     DK_ENOTFOUND);
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200004",
                                         "destroy", &first, &err),
                     0);
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech2, "200005",
                                         "purge", &second, &err),
                     0);
    assert_int_equal(first, 1);
    assert_int_equal(second, 1);
    assert_int_equal(disposition_manifest_open(f->store, &open_id, opened,
                                               sizeof(opened), &items, &err),
                     0);
    assert_int_equal(open_id, 1);
    assert_int_equal(items, 2);
    assert_string_equal(opened, "2026-12-04T15:30:00Z");
    assert_int_equal(
        query_int(f,
                  "SELECT count(*) FROM returns WHERE state = 'dispositioned' "
                  "AND disposition = 'recycle'"),
        2);
}

static void test_recycle_refuses_a_level_outside_nist_800_88(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};

    add_return(f, "200004", "received", "damaged");
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200004",
                                         "shred", NULL, &err),
                     DK_EINPUT);
    assert_string_equal(
        err.msg, "--level must be clear, purge or destroy (NIST SP 800-88), "
                 "not 'shred'");
    assert_int_equal(query_int(f, "SELECT count(*) FROM manifests"), 0);
}

struct captured {
    char *csv;
    size_t len;
    int fail_with;
};

static int capture(const char *csv, size_t len, void *user,
                   struct dk_error *err)
{
    struct captured *c = user;

    if (c->fail_with != 0)
        return dk_error_set(err, c->fail_with, "disk full");
    c->csv = malloc(len + 1);
    assert_non_null(c->csv);
    memcpy(c->csv, csv, len);
    c->csv[len] = '\0';
    c->len = len;
    return 0;
}

static void test_manifest_close_writes_exact_csv(void **state)
{
    static const char expected[] =
        "asset_tag,serial,type,make,model,level,technician,date\r\n"
        "200004,DMPX1,tablet,Apple,\"iPad 10.2\"\" (9th gen), 64GB\",destroy,T0001,2026-12-04\r\n"
        "200005,R58N1,phone,Samsung,Galaxy A54,purge,T0002,2026-12-05\r\n";
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct captured out = {0};
    char text[256];
    int64_t id = 0;

    add_return(f, "200004", "received", "damaged");
    add_return(f, "200005", "received", "good");
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200004",
                                         "destroy", NULL, &err),
                     0);
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech2, "200005",
                                         "purge", NULL, &err),
                     0);
    assert_int_equal(
        disposition_manifest_close(f->store, &tech2, "GreenCycle, LLC",
                                   "CD-2026-0415", capture, &out, &id, &err),
        0);
    assert_int_equal(id, 1);
    assert_int_equal(out.len, strlen(expected));
    assert_memory_equal(out.csv, expected, out.len);
    query_text(
        f,
        "SELECT closed_at || '|' || vendor || '|' || certificate FROM manifests",
        text, sizeof(text));
    assert_string_equal(text,
                        "2026-12-05T09:00:00Z|GreenCycle, LLC|CD-2026-0415");
    free(out.csv);
}

static void
test_manifest_close_rolls_back_when_csv_cannot_be_written(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    struct captured out = {.fail_with = -28};
    int audit_rows;

    add_return(f, "200004", "received", "damaged");
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200004",
                                         "destroy", NULL, &err),
                     0);
    audit_rows = query_int(f, "SELECT count(*) FROM audit");
    assert_int_equal(disposition_manifest_close(f->store, &tech1, "GreenCycle",
                                                "CD-1", capture, &out, NULL,
                                                &err),
                     -28);
    assert_string_equal(err.msg, "disk full");
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM manifests WHERE closed_at IS NULL"),
        1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit"), audit_rows);
}

static void test_manifest_close_without_open_manifest_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};

    assert_int_equal(disposition_manifest_close(f->store, &tech1, "GreenCycle",
                                                "CD-1", NULL, NULL, NULL, &err),
                     DK_ENOTFOUND);
    assert_string_equal(
        err.msg, "no e-waste manifest is open (recycling a device opens one)");
}

static void test_reserve_refuses_unknown_model_and_duplicates(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int64_t id = 0;

    assert_int_equal(disposition_reserve(f->store, &tech1, "Latitude 9999",
                                         "S100003", &id, &err),
                     DK_EINPUT);
    assert_string_equal(
        err.msg, "no asset in the inventory has the model 'Latitude 9999'");
    assert_int_equal(disposition_reserve(f->store, &tech1, "latitude 5420",
                                         "S100003", &id, &err),
                     0);
    assert_int_equal(disposition_reserve(f->store, &tech1, "Latitude 5420",
                                         "S100003", &id, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg,
                        "S100003 already has an open reservation (#1) for "
                        "Latitude 5420");
}

static void test_acts_write_audit_rows_in_order(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char text[1024];

    reserve(f, "Latitude 5420", "S100003");
    add_return(f, "200001", "received", "good");
    add_return(f, "200005", "received", "good");
    add_return(f, "200006", "received", "good");
    wipe(f, "200001");
    assert_int_equal(disposition_reassign(f->store, &f->cfg, &tech1, "200001",
                                          "S100003", &err),
                     0);
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200005",
                                         "purge", NULL, &err),
                     0);
    wipe(f, "200006");
    assert_int_equal(
        disposition_reimage(f->store, &f->cfg, &tech1, "200006", &err), 0);
    assert_int_equal(disposition_manifest_close(f->store, &tech1, "GreenCycle",
                                                "CD-1", NULL, NULL, NULL, &err),
                     0);
    query_text(
        f,
        "SELECT group_concat(actor || ' ' || action || ' ' || subject, '\n') "
        "FROM (SELECT * FROM audit ORDER BY id)",
        text, sizeof(text));
    assert_string_equal(text, "tech:T0001 reservation added Latitude 5420\n"
                              "tech:T0001 wipe recorded 200001\n"
                              "tech:T0001 return dispositioned 200001\n"
                              "tech:T0001 asset reassigned 200001\n"
                              "tech:T0001 manifest opened manifest 1\n"
                              "tech:T0001 return dispositioned 200005\n"
                              "tech:T0001 manifest item added manifest 1\n"
                              "tech:T0001 wipe recorded 200006\n"
                              "tech:T0001 return dispositioned 200006\n"
                              "tech:T0001 manifest closed manifest 1");
    query_text(f, "SELECT details FROM audit WHERE action = 'asset reassigned'",
               text, sizeof(text));
    assert_string_equal(text, "return=1 from=S100001 to=S100003 reservation=1");
}

static void
test_dispositioned_return_cannot_be_dispositioned_again(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};

    add_return(f, "200001", "received", "good");
    wipe(f, "200001");
    assert_int_equal(
        disposition_reimage(f->store, &f->cfg, &tech1, "200001", &err), 0);
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200001",
                                         "purge", NULL, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg,
                        "asset 200001 was already dispositioned (reimage at "
                        "2026-12-04T15:30:00Z); no return of it is waiting");
    assert_int_equal(query_int(f, "SELECT count(*) FROM manifests"), 0);
}

/* ---- the checks run before the login ---- */

/* Rows written to the database so far, by any statement. */
static int changes(struct fixture *f)
{
    return sqlite3_total_changes(f->store->db);
}

static void test_check_wipe_refuses_as_wipe_does_and_writes_nothing(
    void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int before;

    add_return(f, "200001", "dropped", NULL);
    add_return(f, "200005", "received", "good");
    before = changes(f);
    assert_int_equal(disposition_check_wipe(f->store, "999999", "powerwash",
                                            "GA", &err),
                     DK_ENOTFOUND);
    assert_string_equal(err.msg, "asset 999999 has never been returned");
    assert_int_equal(disposition_check_wipe(f->store, "200001", "powerwash",
                                            "GA", &err),
                     DK_EINPUT);
    assert_string_equal(err.msg,
                        "asset 200001 has not been received yet: a technician "
                        "receives it first (dropkioskctl receive 200001)");
    assert_int_equal(
        disposition_check_wipe(f->store, "200005", "", "GA", &err), DK_EINPUT);
    assert_string_equal(err.msg, "--method is missing");
    assert_int_equal(disposition_check_wipe(f->store, "200005", "powerwash",
                                            NULL, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "--tool is missing");
    assert_int_equal(disposition_check_wipe(f->store, "200005", "powerwash",
                                            "GA", &err),
                     0);
    assert_int_equal(changes(f), before);
    assert_int_equal(query_int(f, "SELECT count(*) FROM wipes"), 0);
}

static void test_check_reimage_refuses_unknown_dropped_and_unwiped(
    void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int before;

    add_return(f, "999999", "received", NULL);
    add_return(f, "200001", "dropped", NULL);
    add_return(f, "200005", "received", "good");
    wipe(f, "999999");
    before = changes(f);
    assert_int_equal(disposition_check_reimage(f->store, "999998", &err),
                     DK_ENOTFOUND);
    assert_int_equal(disposition_check_reimage(f->store, "999999", &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "asset 999999 is not in the inventory: "
                                 "import it before reimaging it");
    assert_int_equal(disposition_check_reimage(f->store, "200001", &err),
                     DK_EINPUT);
    assert_non_null(strstr(err.msg, "has not been received yet"));
    assert_int_equal(disposition_check_reimage(f->store, "200005", &err),
                     DK_EINPUT);
    assert_non_null(strstr(err.msg, "has no data wipe recorded"));
    assert_int_equal(changes(f), before);
    wipe(f, "200005");
    assert_int_equal(disposition_check_reimage(f->store, "200005", &err), 0);
}

static void test_reimage_of_a_device_not_in_the_inventory_is_refused(
    void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int audit_rows;

    add_return(f, "999999", "received", NULL);
    wipe(f, "999999");
    audit_rows = query_int(f, "SELECT count(*) FROM audit");
    assert_int_equal(
        disposition_reimage(f->store, &f->cfg, &tech1, "999999", &err),
        DK_EINPUT);
    assert_string_equal(err.msg, "asset 999999 is not in the inventory: "
                                 "import it before reimaging it");
    assert_int_equal(query_int(f, "SELECT count(*) FROM returns WHERE "
                                  "state = 'received'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM audit"), audit_rows);
}

static void test_check_reassign_refuses_staff_before_anything_is_written(
    void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int before;

    add_return(f, "200001", "received", "good");
    wipe(f, "200001");
    before = changes(f);
    assert_int_equal(
        disposition_check_reassign(f->store, "200001", "S999999", &err),
        DK_EINPUT);
    assert_string_equal(err.msg, "no staff member has the id 'S999999'");
    assert_int_equal(
        disposition_check_reassign(f->store, "200001", "S100009", &err),
        DK_EINPUT);
    assert_string_equal(err.msg,
                        "staff member S100009 left the district on 2026-06-30");
    assert_int_equal(disposition_check_reassign(f->store, "200001", "", &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "the staff id is missing");
    assert_int_equal(
        disposition_check_reassign(f->store, "200001", "S100003", &err), 0);
    assert_int_equal(changes(f), before);
}

static void test_check_recycle_refuses_level_and_state(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int before;

    add_return(f, "200004", "received", "damaged");
    add_return(f, "200005", "dropped", NULL);
    before = changes(f);
    assert_int_equal(
        disposition_check_recycle(f->store, "200004", "shred", &err),
        DK_EINPUT);
    assert_string_equal(
        err.msg, "--level must be clear, purge or destroy (NIST SP 800-88), "
                 "not 'shred'");
    assert_int_equal(
        disposition_check_recycle(f->store, "200005", "purge", &err),
        DK_EINPUT);
    assert_non_null(strstr(err.msg, "has not been received yet"));
    assert_int_equal(
        disposition_check_recycle(f->store, "200004", "destroy", &err), 0);
    assert_int_equal(changes(f), before);
    assert_int_equal(query_int(f, "SELECT count(*) FROM manifests"), 0);
}

static void test_check_reserve_refuses_model_staff_and_duplicate(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int before;

    reserve(f, "Latitude 5420", "S100003");
    before = changes(f);
    assert_int_equal(disposition_check_reserve(f->store, "Latitude 9999",
                                               "S100004", &err),
                     DK_EINPUT);
    assert_string_equal(
        err.msg, "no asset in the inventory has the model 'Latitude 9999'");
    assert_int_equal(disposition_check_reserve(f->store, "Latitude 5420",
                                               "S999999", &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "no staff member has the id 'S999999'");
    assert_int_equal(disposition_check_reserve(f->store, "latitude 5420",
                                               "S100003", &err),
                     DK_EINPUT);
    assert_string_equal(err.msg,
                        "S100003 already has an open reservation (#1) for "
                        "Latitude 5420");
    assert_int_equal(disposition_check_reserve(f->store, "Latitude 5420",
                                               "S100004", &err),
                     0);
    assert_int_equal(changes(f), before);
}

static void test_check_manifest_close_refuses_fields_and_no_open_manifest(
    void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    int before = changes(f);

    assert_int_equal(disposition_check_manifest_close(f->store, "GreenCycle",
                                                      "CD-1", &err),
                     DK_ENOTFOUND);
    assert_string_equal(
        err.msg, "no e-waste manifest is open (recycling a device opens one)");
    assert_int_equal(changes(f), before);
    add_return(f, "200004", "received", "damaged");
    assert_int_equal(disposition_recycle(f->store, &f->cfg, &tech1, "200004",
                                         "destroy", NULL, &err),
                     0);
    before = changes(f);
    assert_int_equal(
        disposition_check_manifest_close(f->store, "", "CD-1", &err),
        DK_EINPUT);
    assert_string_equal(err.msg, "--vendor is missing");
    assert_int_equal(
        disposition_check_manifest_close(f->store, "GreenCycle", "C\nD", &err),
        DK_EINPUT);
    assert_string_equal(
        err.msg, "--certificate holds control characters or invalid UTF-8");
    assert_int_equal(disposition_check_manifest_close(f->store, "GreenCycle",
                                                      "CD-1", &err),
                     0);
    assert_int_equal(changes(f), before);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_builtin_damaged_is_recycled),
        T(test_builtin_laptop_bought_2019_is_recycled_in_2026),
        T(test_builtin_laptop_exactly_five_years_old_is_not_older),
        T(test_builtin_expired_chromebook_is_recycled),
        T(test_builtin_reservation_proposes_reassign_to_oldest),
        T(test_builtin_otherwise_reimage),
        T(test_first_matching_rule_wins),
        T(test_first_match_wins_in_the_other_order_too),
        T(test_and_needs_every_test),
        T(test_older_than_one_age_for_every_type_in_months),
        T(test_no_matching_rule_proposes_nothing),
        T(test_malformed_rules_are_refused_with_file_and_line),
        T(test_reference_style_rules_are_accepted),
        T(test_propose_needs_a_received_return),
        T(test_reimage_without_wipe_is_refused_and_changes_nothing),
        T(test_reimage_after_wipe_follows_proposal),
        T(test_overriding_the_proposal_is_recorded),
        T(test_wipe_of_a_dropped_return_is_refused),
        T(test_reassign_changes_assignee_and_fulfils_reservation),
        T(test_reassign_refuses_leaver_unknown_staff_and_unwiped),
        T(test_recycle_adds_to_the_open_manifest),
        T(test_recycle_refuses_a_level_outside_nist_800_88),
        T(test_manifest_close_writes_exact_csv),
        T(test_manifest_close_rolls_back_when_csv_cannot_be_written),
        T(test_manifest_close_without_open_manifest_is_refused),
        T(test_reserve_refuses_unknown_model_and_duplicates),
        T(test_acts_write_audit_rows_in_order),
        T(test_dispositioned_return_cannot_be_dispositioned_again),
        T(test_check_wipe_refuses_as_wipe_does_and_writes_nothing),
        T(test_check_reimage_refuses_unknown_dropped_and_unwiped),
        T(test_reimage_of_a_device_not_in_the_inventory_is_refused),
        T(test_check_reassign_refuses_staff_before_anything_is_written),
        T(test_check_recycle_refuses_level_and_state),
        T(test_check_reserve_refuses_model_staff_and_duplicate),
        T(test_check_manifest_close_refuses_fields_and_no_open_manifest),
    };

    return cmocka_run_group_tests_name("disposition", tests, NULL, NULL);
}
