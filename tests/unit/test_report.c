/* OIIT's reports against a real SQLite store in a temporary folder, filled
 * with the literal rows below.  Times are UTC; the site is in New York,
 * which is UTC-4 in June, so a drop at 03:30Z belongs to the day before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 2024-06-12T16:00:00Z: "now" for ages. */
#define NOW ((time_t)1718208000)

static const char rows_sql[] =
    "INSERT INTO sites VALUES ('bolling', 'Bolling Building'), "
    "  ('campbell', 'Campbell Resource Center');"
    "INSERT INTO kiosks VALUES ('bolling-1', 'bolling', ''), ('campbell-1', 'campbell', '');"
    "INSERT INTO staff (id, name, email, department, leader_email, left_on) VALUES "
    "  ('S100001', 'Dolores Whitaker', 'd.whitaker@example.org', 'Office', NULL, NULL),"
    "  ('S100002', 'María Gómez', 'maria.gomez@example.org', 'Oak Hill HS', "
    "   'K.Brennan@example.org', '2024-06-14'),"
    "  ('S100003', 'Kevin Brennan', 'k.brennan@example.org', 'Oak Hill HS', "
    "   'd.whitaker@example.org', NULL),"
    "  ('S100004', 'Okafor, Daniel', 'd.okafor@example.org', 'OIIT', "
    "   'd.whitaker@example.org', '2024-05-31'),"
    "  ('S100005', 'Siobhán O''Connell', 's.oconnell@example.org', 'Maple Ridge ES', "
    "   'k.brennan@example.org', '2024-06-28'),"
    "  ('S100006', 'Tomás \"Tom\" Ruiz', 'tomas.ruiz@example.org', 'Maple Ridge ES', NULL, "
    "   '2024-06-30');"
    "INSERT INTO assets (tag, type, model, assignee, charger_expected) VALUES "
    "  ('100001', 'laptop', 'ProBook 440', 'S100002', 1),"
    "  ('100002', 'phone', 'Galaxy A14', 'S100002', 1),"
    "  ('100003', 'chromebook', 'C734', 'S100004', 1),"
    "  ('100004', 'tablet', 'iPad', 'S100005', 1),"
    "  ('100005', 'desktop', 'OptiPlex', 'S100005', 0),"
    "  ('100006', 'hotspot', 'MiFi 8000', 'TOMAS.RUIZ@example.org', 1),"
    "  ('100007', 'laptop', 'ProBook 440', 'S100003', 1),"
    "  ('100008', 'tablet', 'iPad', NULL, 1),"
    "  ('100009', 'laptop', 'ProBook 440', NULL, 1),"
    "  ('100010', 'chromebook', 'C734', NULL, 1),"
    "  ('100011', 'desktop', 'OptiPlex', NULL, 0),"
    "  ('100012', 'phone', 'Galaxy A14', NULL, 1),"
    "  ('100013', 'laptop', 'ProBook 440', NULL, 1);"
    /* 1: a phone its leaver handed in; the technician found no charger. */
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared, state, charger_verified, received_at) VALUES "
    "  ('100002', 'S100002', 'S100002', 'bolling', 'bolling-1', '2024-06-03T03:30:00Z', 1, "
    "   'received', 0, '2024-06-04T14:00:00Z');"
    /* 2: someone else's laptop, no charger declared, still in the bin. */
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared, flag_not_assignee, flag_missing_charger) VALUES "
    "  ('100007', 'S100001', 'S100003', 'bolling', 'bolling-1', '2024-06-03T15:00:00Z', 0, "
    "   1, 1);"
    /* 3: a tag not in the inventory, anonymous. */
    "INSERT INTO returns (asset_tag, site_id, kiosk_id, returned_at, charger_declared, "
    "  flag_unknown_asset, flag_missing_charger) VALUES "
    "  ('999001', 'campbell', 'campbell-1', '2024-06-03T16:00:00Z', 0, 1, 1);"
    /* 4: the kiosk flagged the charger, the technician found it in the bag. */
    "INSERT INTO returns (asset_tag, returned_by, site_id, kiosk_id, returned_at, "
    "  charger_declared, flag_missing_charger, state, charger_verified) VALUES "
    "  ('100008', 'S100003', 'campbell', 'campbell-1', '2024-06-04T12:00:00Z', 0, 1, "
    "   'received', 1);"
    /* 5: a walk-in, reimaged. */
    "INSERT INTO returns (asset_tag, site_id, kiosk_id, returned_at, charger_declared, "
    "  flag_walk_in, state, charger_verified, disposition, dispositioned_at) VALUES "
    "  ('100009', 'bolling', 'bolling-1', '2024-06-05T14:00:00Z', 1, 1, 'dispositioned', 1, "
    "   'reimage', '2024-06-06T13:00:00Z');"
    /* 6: recycled at 22:00 local on the 6th (02:00Z on the 7th). */
    "INSERT INTO returns (asset_tag, returned_by, site_id, kiosk_id, returned_at, "
    "  charger_declared, state, charger_verified, disposition, dispositioned_at) VALUES "
    "  ('100010', 'S100003', 'bolling', 'bolling-1', '2024-06-05T18:00:00Z', 1, "
    "   'dispositioned', 0, 'recycle', '2024-06-07T02:00:00Z');"
    /* 7 and 8: one second either side of seven days before NOW. */
    "INSERT INTO returns (asset_tag, returned_by, site_id, kiosk_id, returned_at, "
    "  charger_declared) VALUES "
    "  ('100011', 'S100003', 'bolling', 'bolling-1', '2024-06-05T16:00:01Z', 0),"
    "  ('100012', 'S100003', 'bolling', 'bolling-1', '2024-06-05T16:00:00Z', 1);"
    /* 9: a second missing laptop charger. */
    "INSERT INTO returns (asset_tag, returned_by, site_id, kiosk_id, returned_at, "
    "  charger_declared, flag_missing_charger) VALUES "
    "  ('100013', 'S100003', 'bolling', 'bolling-1', '2024-06-06T15:00:00Z', 0, 1);";

struct fixture {
    char dir[64];
    char db[128];
    struct dk_store *store;
    struct dk_config cfg;
    struct dk_report_opts opts;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct dk_error err = {{0}};

    if (fx == NULL)
        return -1;
    /* Days are the site's: what dropkioskctl sets from [kiosk] timezone. */
    setenv("TZ", "America/New_York", 1);
    tzset();
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/dk-report-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->db, sizeof(fx->db), "%s/test.db", fx->dir);
    if (store_open(fx->db, &fx->store, &err) != 0 ||
        store_exec(fx->store, rows_sql, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    config_defaults(&fx->cfg);
    fx->cfg.overdue_days = 7;
    fx->cfg.charger_cost_cents[config_asset_type_index("laptop")] = 3500;
    fx->cfg.charger_cost_cents[config_asset_type_index("phone")] = 123450;
    fx->cfg.charger_cost_cents[config_asset_type_index("chromebook")] = 2999;
    fx->opts.now = NOW;
    fx->opts.cfg = &fx->cfg;
    fx->opts.csv = true;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    static const char *const names[] = {"test.db", "test.db-wal", "test.db-shm",
                                        NULL};
    char path[256];

    store_close(fx->store);
    for (size_t i = 0; names[i] != NULL; i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Report r as text; the caller frees it. */
static char *run(struct fixture *fx, enum dk_report r)
{
    struct dk_error err = {{0}};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int rc;

    assert_non_null(out);
    rc = report_write(fx->store, r, &fx->opts, out, &err);
    fclose(out);
    if (rc != 0)
        fail_msg("report %s: %d %s", report_name(r), rc, err.msg);
    return text;
}

static void expect(struct fixture *fx, enum dk_report r, const char *want)
{
    char *got = run(fx, r);

    assert_string_equal(got, want);
    free(got);
}

static void set_range(struct fixture *fx, const char *from, const char *until)
{
    snprintf(fx->opts.from, sizeof(fx->opts.from), "%s", from);
    snprintf(fx->opts.until, sizeof(fx->opts.until), "%s", until);
}

/* ---- returns ---- */

static void test_report_returns_csv_per_local_day_and_site(void **state)
{
    expect(*state, DK_REPORT_RETURNS,
           "day,site,returns,with_charger,without_charger\n"
           "2024-06-02,bolling,1,0,1\n"
           "2024-06-03,bolling,1,0,1\n"
           "2024-06-03,campbell,1,0,1\n"
           "2024-06-04,campbell,1,1,0\n"
           "2024-06-05,bolling,4,2,2\n"
           "2024-06-06,bolling,1,0,1\n");
}

static void test_report_returns_range_is_inclusive_local_days(void **state)
{
    set_range(*state, "2024-06-03", "2024-06-04");
    expect(*state, DK_REPORT_RETURNS,
           "day,site,returns,with_charger,without_charger\n"
           "2024-06-03,bolling,1,0,1\n"
           "2024-06-03,campbell,1,0,1\n"
           "2024-06-04,campbell,1,1,0\n");
}

static void test_report_returns_table_aligns_columns(void **state)
{
    struct fixture *fx = *state;

    fx->opts.csv = false;
    set_range(fx, "2024-06-05", "");
    expect(fx, DK_REPORT_RETURNS,
           "Returns per day and site, from 2024-06-05\n"
           "DAY         SITE     RETURNS  WITH CHARGER  WITHOUT\n"
           "2024-06-05  bolling        4             2        2\n"
           "2024-06-06  bolling        1             0        1\n");
}

/* ---- awaiting ---- */

static void test_report_awaiting_csv_marks_overdue_at_overdue_days(void **state)
{
    expect(*state, DK_REPORT_AWAITING,
           "dropped,site,tag,type,age_days,overdue\n"
           "2024-06-03,bolling,100007,laptop,9,yes\n"
           "2024-06-03,campbell,999001,unknown,9,yes\n"
           "2024-06-05,bolling,100012,phone,7,yes\n"
           "2024-06-05,bolling,100011,desktop,6,no\n"
           "2024-06-06,bolling,100013,laptop,6,no\n");
}

static void test_report_awaiting_table_marks_only_overdue_rows(void **state)
{
    struct fixture *fx = *state;

    fx->opts.csv = false;
    set_range(fx, "2024-06-05", "2024-06-05");
    expect(
        fx, DK_REPORT_AWAITING,
        "Devices awaiting intake (overdue at 7 days), 2024-06-05 to 2024-06-05\n"
        "DROPPED     SITE     TAG     TYPE     DAYS  OVERDUE\n"
        "2024-06-05  bolling  100012  phone       7  yes\n"
        "2024-06-05  bolling  100011  desktop     6\n");
}

/* ---- chargers ---- */

static void test_report_chargers_csv_costs_per_type_and_total(void **state)
{
    expect(*state, DK_REPORT_CHARGERS,
           "type,missing,unit_cost,cost\n"
           "chromebook,1,29.99,29.99\n"
           "laptop,2,35.00,70.00\n"
           "phone,1,1234.50,1234.50\n"
           "unknown,1,,\n"
           "total,5,,1334.49\n");
}

static void test_report_chargers_table_shows_dollars(void **state)
{
    struct fixture *fx = *state;

    fx->opts.csv = false;
    expect(fx, DK_REPORT_CHARGERS,
           "Missing chargers and their replacement cost\n"
           "TYPE        MISSING       EACH       COST\n"
           "chromebook        1     $29.99     $29.99\n"
           "laptop            2     $35.00     $70.00\n"
           "phone             1  $1,234.50  $1,234.50\n"
           "unknown           1\n"
           "total             5             $1,334.49\n");
}

static void test_report_chargers_with_none_missing_totals_zero(void **state)
{
    set_range(*state, "2024-06-04", "2024-06-04");
    expect(*state, DK_REPORT_CHARGERS,
           "type,missing,unit_cost,cost\n"
           "total,0,,0.00\n");
}

/* ---- dispositions ---- */

static void test_report_dispositions_csv_counts_each_outcome(void **state)
{
    expect(*state, DK_REPORT_DISPOSITIONS,
           "disposition,count\n"
           "reimage,1\n"
           "reassign,0\n"
           "recycle,1\n");
}

static void
test_report_dispositions_range_uses_local_disposition_day(void **state)
{
    set_range(*state, "2024-06-07", "");
    expect(*state, DK_REPORT_DISPOSITIONS,
           "disposition,count\n"
           "reimage,0\n"
           "reassign,0\n"
           "recycle,0\n");
}

/* ---- flags ---- */

static void test_report_flags_csv_lists_rows_by_flag(void **state)
{
    expect(*state, DK_REPORT_FLAGS,
           "flag,day,site,tag,returned_by,assignee\n"
           "not-assignee,2024-06-03,bolling,100007,S100001,S100003\n"
           "unknown-asset,2024-06-03,campbell,999001,,\n"
           "walk-in,2024-06-05,bolling,100009,,\n"
           "missing-charger,2024-06-02,bolling,100002,S100002,S100002\n"
           "missing-charger,2024-06-03,bolling,100007,S100001,S100003\n"
           "missing-charger,2024-06-03,campbell,999001,,\n"
           "missing-charger,2024-06-05,bolling,100010,S100003,\n"
           "missing-charger,2024-06-06,bolling,100013,S100003,\n");
}

static void test_report_flags_table_counts_zeros_then_rows(void **state)
{
    struct fixture *fx = *state;

    fx->opts.csv = false;
    set_range(fx, "2024-06-05", "");
    expect(fx, DK_REPORT_FLAGS,
           "Flagged returns, from 2024-06-05\n"
           "FLAG             COUNT\n"
           "not-assignee         0\n"
           "unknown-asset        0\n"
           "walk-in              1\n"
           "missing-charger      2\n"
           "\n"
           "walk-in\n"
           "  DAY         SITE     TAG     RETURNED BY  ASSIGNEE\n"
           "  2024-06-05  bolling  100009\n"
           "missing-charger\n"
           "  DAY         SITE     TAG     RETURNED BY  ASSIGNEE\n"
           "  2024-06-05  bolling  100010  S100003\n"
           "  2024-06-06  bolling  100013  S100003\n");
}

/* ---- leavers ---- */

static void test_report_leavers_csv_grouped_by_leader(void **state)
{
    expect(
        *state, DK_REPORT_LEAVERS,
        "leader_email,staff_id,name,left_on,tag,type\n"
        "d.whitaker@example.org,S100004,\"Okafor, Daniel\",2024-05-31,100003,chromebook\n"
        "k.brennan@example.org,S100002,María Gómez,2024-06-14,100001,laptop\n"
        "k.brennan@example.org,S100005,Siobhán O'Connell,2024-06-28,100004,tablet\n"
        "k.brennan@example.org,S100005,Siobhán O'Connell,2024-06-28,100005,desktop\n"
        ",S100006,\"Tomás \"\"Tom\"\" Ruiz\",2024-06-30,100006,hotspot\n");
}

static void test_report_leavers_table_heads_each_leader(void **state)
{
    struct fixture *fx = *state;

    fx->opts.csv = false;
    expect(fx, DK_REPORT_LEAVERS,
           "Leavers still holding devices, by leader\n"
           "Leader d.whitaker@example.org\n"
           "  STAFF ID  NAME               LAST DAY    TAG     TYPE\n"
           "  S100004   Okafor, Daniel     2024-05-31  100003  chromebook\n"
           "Leader k.brennan@example.org\n"
           "  STAFF ID  NAME               LAST DAY    TAG     TYPE\n"
           "  S100002   María Gómez        2024-06-14  100001  laptop\n"
           "  S100005   Siobhán O'Connell  2024-06-28  100004  tablet\n"
           "  S100005   Siobhán O'Connell  2024-06-28  100005  desktop\n"
           "Leader (none)\n"
           "  STAFF ID  NAME               LAST DAY    TAG     TYPE\n"
           "  S100006   Tomás \"Tom\" Ruiz   2024-06-30  100006  hotspot\n");
}

static void test_report_leavers_range_is_by_last_day(void **state)
{
    set_range(*state, "", "2024-06-14");
    expect(
        *state, DK_REPORT_LEAVERS,
        "leader_email,staff_id,name,left_on,tag,type\n"
        "d.whitaker@example.org,S100004,\"Okafor, Daniel\",2024-05-31,100003,chromebook\n"
        "k.brennan@example.org,S100002,María Gómez,2024-06-14,100001,laptop\n");
}

/* ---- shared ---- */

static void test_report_empty_table_says_none(void **state)
{
    struct fixture *fx = *state;

    fx->opts.csv = false;
    set_range(fx, "2030-01-01", "");
    expect(fx, DK_REPORT_AWAITING,
           "Devices awaiting intake (overdue at 7 days), from 2030-01-01\n"
           "(none)\n");
}

static void test_report_empty_csv_is_header_only(void **state)
{
    set_range(*state, "2030-01-01", "");
    expect(*state, DK_REPORT_FLAGS, "flag,day,site,tag,returned_by,assignee\n");
}

static void test_report_day_ok_takes_only_real_days(void **state)
{
    (void)state;
    assert_true(report_day_ok("2024-02-29"));
    assert_false(report_day_ok("2023-02-29"));
    assert_false(report_day_ok("2024-13-01"));
    assert_false(report_day_ok("2024-6-01"));
    assert_false(report_day_ok("06/01/2024"));
    assert_false(report_day_ok("2024-06-01x"));
}

static void test_report_find_knows_every_name(void **state)
{
    (void)state;
    assert_int_equal(report_find("returns"), DK_REPORT_RETURNS);
    assert_int_equal(report_find("leavers"), DK_REPORT_LEAVERS);
    assert_int_equal(report_find("charger"), -1);
    assert_string_equal(report_name(DK_REPORT_DISPOSITIONS), "dispositions");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_report_returns_csv_per_local_day_and_site),
        T(test_report_returns_range_is_inclusive_local_days),
        T(test_report_returns_table_aligns_columns),
        T(test_report_awaiting_csv_marks_overdue_at_overdue_days),
        T(test_report_awaiting_table_marks_only_overdue_rows),
        T(test_report_chargers_csv_costs_per_type_and_total),
        T(test_report_chargers_table_shows_dollars),
        T(test_report_chargers_with_none_missing_totals_zero),
        T(test_report_dispositions_csv_counts_each_outcome),
        T(test_report_dispositions_range_uses_local_disposition_day),
        T(test_report_flags_csv_lists_rows_by_flag),
        T(test_report_flags_table_counts_zeros_then_rows),
        T(test_report_leavers_csv_grouped_by_leader),
        T(test_report_leavers_table_heads_each_leader),
        T(test_report_leavers_range_is_by_last_day),
        T(test_report_empty_table_says_none),
        T(test_report_empty_csv_is_header_only),
        T(test_report_day_ok_takes_only_real_days),
        T(test_report_find_knows_every_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
