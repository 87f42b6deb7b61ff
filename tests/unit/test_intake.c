/* Technician intake against a real SQLite file: receiving dropped devices,
 * walk-ins, clean-outs, discrepancies, and the confirmation email rows in
 * the outbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "audit.h"
#include "intake.h"
#include "notice.h"
#include "store.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 2026-01-01T00:00:00Z: the tests' clock. */
#define T0 ((time_t)1767225600)

/* Returns 1-3 are dropped at the kiosk two days before T0: a laptop by
 * someone who copied the receipt to their leader, a phone by someone who
 * did not, and an unknown tag left anonymously. */
static const char seed[] =
    "INSERT INTO sites VALUES ('bolling', 'Bolling Building');"
    "INSERT INTO kiosks (id, site_id) VALUES ('bolling-lobby-1', 'bolling');"
    "INSERT INTO staff (id, name, email, department, leader_email) VALUES"
    " ('S100001', 'Maria Pena', 'maria.pena@example.org', 'Finance',"
    "  'lead.finance@example.org'),"
    " ('S100002', 'Tran Van Minh', 'minh.tran@example.org', 'OIIT', 'lead.oiit@example.org');"
    "INSERT INTO assets (tag, serial, imei, type, make, model, assignee, charger_expected)"
    " VALUES ('104233', '5CD1234XYZ', NULL, 'laptop', 'HP', 'ProBook 450 G8', 'S100001', 1),"
    " ('104400', 'R58N123ABC', '490154203237518', 'phone', 'Samsung', 'Galaxy A54',"
    "  'S100002', 1),"
    " ('104500', 'HS-55120', NULL, 'hotspot', 'Franklin', 'T10 Hotspot', NULL, 1);"
    "INSERT INTO receipts (id, created_at, return_ids, payload, channels, recipients) VALUES"
    " ('R-AAAAAAAA1', '2025-12-30T15:00:00Z', '1', 'p', 'screen,png,email',"
    "  'maria.pena@example.org,lead.finance@example.org'),"
    " ('R-BBBBBBBB2', '2025-12-30T16:00:00Z', '2', 'p', 'screen,png,email',"
    "  'minh.tran@example.org'),"
    " ('R-CCCCCCCC3', '2025-12-30T17:00:00Z', '3', 'p', 'screen,png', '');"
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id,"
    " returned_at, charger_declared, receipt_id, flag_unknown_asset) VALUES"
    " ('104233', 'S100001', 'S100001', 'bolling', 'bolling-lobby-1',"
    "  '2025-12-30T15:00:00Z', 1, 'R-AAAAAAAA1', 0),"
    " ('104400', 'S100002', 'S100002', 'bolling', 'bolling-lobby-1',"
    "  '2025-12-30T16:00:00Z', 0, 'R-BBBBBBBB2', 0),"
    " ('199999', NULL, NULL, 'bolling', 'bolling-lobby-1',"
    "  '2025-12-30T17:00:00Z', 0, 'R-CCCCCCCC3', 1);";

struct fixture {
    char dir[64];
    char path[96];
    struct dk_store *store;
    struct dk_config cfg;
    struct dk_tech tech;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct dk_error err = {{0}};

    if (f == NULL || sodium_init() < 0)
        return -1;
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(f->dir, sizeof(f->dir), "/tmp/dk-intake-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kiosk.db", f->dir);
    if (store_open(f->path, &f->store, &err) != 0 || store_exec(f->store, seed, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    config_defaults(&f->cfg);
    snprintf(f->cfg.district, sizeof(f->cfg.district), "Example City Public Schools");
    snprintf(f->cfg.site_id, sizeof(f->cfg.site_id), "campbell");
    snprintf(f->cfg.site_name, sizeof(f->cfg.site_name), "Campbell Resource Center");
    snprintf(f->cfg.kiosk_id, sizeof(f->cfg.kiosk_id), "oiit-bench-1");
    snprintf(f->cfg.mail_from, sizeof(f->cfg.mail_from), "dropkiosk@example.org");
    f->cfg.charger_cost_cents[config_asset_type_index("laptop")] = 4250;
    snprintf(f->tech.id, sizeof(f->tech.id), "T0001");
    f->tech.active = true;
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

/* Every row of a one-column query, each followed by a newline. */
static void rows(struct fixture *f, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st = NULL;
    struct dk_error err = {{0}};
    size_t used = 0;

    buf[0] = '\0';
    assert_int_equal(store_prepare(f->store, sql, &st, &err), 0);
    while (sqlite3_step(st) == SQLITE_ROW && used < size) {
        const unsigned char *t = sqlite3_column_text(st, 0);

        used += (size_t)snprintf(buf + used, size - used, "%s\n",
                                 t != NULL ? (const char *)t : "(null)");
    }
    sqlite3_finalize(st);
}

#define RETURN_ROW                                                                      \
    "SELECT asset_tag || '|' || coalesce(returned_by, '-') || '|' || state || '|' || "  \
    "coalesce(received_at, '-') || '|' || charger_declared || '|' || "                  \
    "coalesce(charger_verified, '-') || '|' || coalesce(condition, '-') || '|' || "     \
    "coalesce(condition_note, '-') || '|' || coalesce(technician, '-') || '|' || "      \
    "coalesce(cleanout_school, '-') || '|' || flag_walk_in || flag_unknown_asset || "   \
    "flag_missing_charger || '|' || site_id FROM returns "

#define AUDIT_ROWS                                                                      \
    "SELECT actor || '|' || action || '|' || subject || '|' || details FROM audit "     \
    "ORDER BY id"

#define OUTBOX_ROWS                                                                     \
    "SELECT kind || '|' || replace(recipients, char(10), ',') || '|' || subject || '|' " \
    "|| status FROM outbox ORDER BY id"

static int receive(struct fixture *f, const char *scan, int charger, const char *condition,
                   struct dk_intake_result *res, struct dk_error *err)
{
    struct dk_intake_item item = {scan, charger, condition, NULL};

    return intake_receive(f->store, &f->cfg, &f->tech, &item, T0, res, err);
}

/* ---- receive ------------------------------------------------------------ */

static void test_receive_moves_a_dropped_return_to_received(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_item item = {"104233", DK_CHARGER_PRESENT, "worn", "scratched lid"};
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[512];

    assert_int_equal(intake_receive(f->store, &f->cfg, &f->tech, &item, T0, &res, &err), 0);
    assert_int_equal(res.outcome, DK_INTAKE_RECEIVED);
    assert_int_equal(res.return_id, 1);
    rows(f, RETURN_ROW "WHERE id = 1", buf, sizeof(buf));
    assert_string_equal(buf, "104233|S100001|received|2026-01-01T00:00:00Z|1|1|worn|"
                             "scratched lid|T0001|-|000|bolling\n");
}

static void test_receive_charger_defaults_to_what_was_declared(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[512];

    assert_int_equal(receive(f, "104400", DK_CHARGER_DEFAULT, NULL, &res, &err), 0);
    rows(f, RETURN_ROW "WHERE id = 2", buf, sizeof(buf));
    assert_string_equal(buf, "104400|S100002|received|2026-01-01T00:00:00Z|0|0|-|-|T0001|-|"
                             "000|bolling\n");
}

static void test_receive_finds_the_device_by_its_serial(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    assert_int_equal(receive(f, "5cd1234xyz", DK_CHARGER_PRESENT, "good", &res, &err), 0);
    assert_int_equal(res.return_id, 1);
    assert_string_equal(res.tag, "104233");
}

static void test_receive_writes_audit_rows_in_order(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    int64_t bad = 0, n = 0;
    char buf[1024];

    assert_int_equal(receive(f, "104233", DK_CHARGER_MISSING, "good", &res, &err), 0);
    rows(f, AUDIT_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "tech:T0001|return received|104233|return=1 charger=missing "
                             "declared=yes condition=good\n"
                             "tech:T0001|confirmation email queued|104233|to staff, cc "
                             "leader\n");
    assert_int_equal(audit_verify(f->store, &bad, &n, &err), 0);
}

static void test_receive_confirms_to_the_returner_and_the_copied_leader(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(receive(f, "104233", DK_CHARGER_PRESENT, "good", &res, &err), 0);
    assert_true(res.mail_queued);
    assert_string_equal(res.mail_to, "maria.pena@example.org");
    assert_string_equal(res.mail_cc, "lead.finance@example.org");
    rows(f, OUTBOX_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "confirmation|maria.pena@example.org,lead.finance@example.org|"
                             "Device received by OIIT: asset 104233|pending\n");
}

static void test_receive_missing_charger_is_in_the_subject(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(receive(f, "104233", DK_CHARGER_MISSING, "good", &res, &err), 0);
    rows(f, OUTBOX_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "confirmation|maria.pena@example.org,lead.finance@example.org|"
                             "Device received by OIIT: asset 104233, charger missing|"
                             "pending\n");
}

static void test_receive_leader_not_copied_when_the_receipt_was_not(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(receive(f, "104400", DK_CHARGER_DEFAULT, NULL, &res, &err), 0);
    rows(f, OUTBOX_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "confirmation|minh.tran@example.org|Device received by OIIT: "
                             "asset 104400, charger missing|pending\n");
}

static void test_receive_leader_who_is_their_own_leader_gets_one_copy(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024];

    /* A leader whose leader address is their own; their receipt lists the
     * address once, as the kiosk writes it. */
    assert_int_equal(store_exec(f->store,
                                "UPDATE staff SET leader_email = 'MARIA.PENA@example.org' "
                                "WHERE id = 'S100001'",
                                &err),
                     0);
    assert_int_equal(receive(f, "104233", DK_CHARGER_PRESENT, "good", &res, &err), 0);
    assert_string_equal(res.mail_cc, "");
    rows(f, OUTBOX_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "confirmation|maria.pena@example.org|Device received by OIIT: "
                             "asset 104233|pending\n");
}

static void test_receive_anonymous_return_sends_no_email(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(receive(f, "199999", DK_CHARGER_MISSING, "damaged", &res, &err), 0);
    assert_false(res.mail_queued);
    assert_false(res.known);
    rows(f, "SELECT count(*) FROM outbox", buf, sizeof(buf));
    assert_string_equal(buf, "0\n");
    rows(f, AUDIT_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "tech:T0001|return received|199999|return=3 charger=missing "
                             "declared=no condition=damaged\n");
}

static void test_receive_refuses_a_device_already_received(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    assert_int_equal(receive(f, "104233", DK_CHARGER_PRESENT, "good", &res, &err), 0);
    assert_int_equal(receive(f, "104233", DK_CHARGER_MISSING, "worn", &res, &err), -EALREADY);
    assert_string_equal(err.msg, "asset 104233 was already received on 2026-01-01T00:00:00Z "
                                 "by technician T0001; nothing changed");
    rows(f, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit) || ' ' || "
            "(SELECT condition FROM returns WHERE id = 1) FROM returns",
         buf, sizeof(buf));
    assert_string_equal(buf, "3 2 good\n");
}

static void test_receive_walk_in_creates_a_flagged_received_return(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), 0);
    assert_int_equal(res.outcome, DK_INTAKE_WALK_IN);
    assert_int_equal(res.return_id, 4);
    rows(f, RETURN_ROW "WHERE id = 4", buf, sizeof(buf));
    assert_string_equal(buf, "104500|-|received|2026-01-01T00:00:00Z|1|1|good|-|T0001|-|100|"
                             "campbell\n");
    rows(f, AUDIT_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "tech:T0001|walk-in received|104500|return=4 charger=present "
                             "condition=good\n");
    rows(f, "SELECT count(*) FROM outbox", buf, sizeof(buf));
    assert_string_equal(buf, "0\n");
}

static void test_receive_walk_in_needs_a_charger_answer(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    assert_int_equal(receive(f, "104500", DK_CHARGER_DEFAULT, "good", &res, &err), DK_EINPUT);
    assert_string_equal(err.msg, "asset 104500 has no open return: give --charger present or "
                                 "missing to record a walk-in");
    rows(f, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit) || ' ' || "
            "(SELECT count(*) FROM sites) FROM returns",
         buf, sizeof(buf));
    assert_string_equal(buf, "3 0 1\n");
}

static void test_receive_walk_in_of_an_unknown_tag_is_flagged(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[512];

    assert_int_equal(receive(f, "188888", DK_CHARGER_MISSING, NULL, &res, &err), 0);
    rows(f, RETURN_ROW "WHERE asset_tag = '188888'", buf, sizeof(buf));
    assert_string_equal(buf, "188888|-|received|2026-01-01T00:00:00Z|0|0|-|-|T0001|-|111|"
                             "campbell\n");
}

static void test_receive_refuses_a_serial_nobody_has(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    assert_int_equal(receive(f, "ZZZ999XX", DK_CHARGER_PRESENT, NULL, &res, &err),
                     DK_ENOTFOUND);
    assert_string_equal(err.msg, "'ZZZ999XX' is not an asset tag, serial number or IMEI we "
                                 "know");
}

static void test_receive_refuses_a_staff_badge(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    assert_int_equal(receive(f, "S100001", DK_CHARGER_PRESENT, NULL, &res, &err), DK_EINPUT);
    assert_string_equal(err.msg, "'S100001' is a staff badge, not a device label");
}

static void test_receive_refuses_an_unknown_condition(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    assert_int_equal(receive(f, "104233", DK_CHARGER_PRESENT, "broken", &res, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "--condition must be good, worn, damaged or not_working, "
                                 "not 'broken'");
    rows(f, "SELECT state FROM returns WHERE id = 1", buf, sizeof(buf));
    assert_string_equal(buf, "dropped\n");
}

static void test_check_receive_finds_refusals_without_writing(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_item dropped = {"104233", DK_CHARGER_DEFAULT, NULL, NULL};
    struct dk_intake_item walk_in = {"104500", DK_CHARGER_DEFAULT, NULL, NULL};
    struct dk_intake_item nobody = {"ZZZ999XX", DK_CHARGER_PRESENT, NULL, NULL};
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    assert_int_equal(intake_check_receive(f->store, &f->cfg, &dropped, &err), 0);
    assert_int_equal(intake_check_receive(f->store, &f->cfg, &walk_in, &err), DK_EINPUT);
    assert_int_equal(intake_check_receive(f->store, &f->cfg, &nobody, &err), DK_ENOTFOUND);
    rows(f, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit) FROM returns "
            "WHERE state = 'dropped'",
         buf, sizeof(buf));
    assert_string_equal(buf, "3 0\n");
    assert_int_equal(receive(f, "104233", DK_CHARGER_DEFAULT, NULL, &res, &err), 0);
    assert_int_equal(intake_check_receive(f->store, &f->cfg, &dropped, &err), -EALREADY);
}

/* Asset 104500 came back once before (return 4, received by T0002 and
 * recycled onto e-waste manifest 7); the asset is marked recycled. */
static const char recycled_104500[] =
    "INSERT INTO returns (id, asset_tag, site_id, kiosk_id, returned_at, charger_declared,"
    " state, received_at, technician, disposition) VALUES (4, '104500', 'bolling',"
    " 'bolling-lobby-1', '2025-11-03T15:00:00Z', 1, 'dispositioned',"
    " '2025-11-04T15:00:00Z', 'T0002', 'recycle');"
    "INSERT INTO manifests (id, opened_at) VALUES (7, '2025-11-05T09:00:00Z');"
    "INSERT INTO manifest_items (manifest_id, return_id, level, technician, added_at)"
    " VALUES (7, 4, 'destroy', 'T0002', '2025-11-05T09:00:00Z');"
    "UPDATE assets SET status = 'recycled', assignee = NULL WHERE tag = '104500';";

/* Return 5: 104500 dropped at the kiosk by S100001, who asked for a receipt
 * by email, after whatever return 4 was. */
static const char dropped_104500[] =
    "INSERT INTO receipts (id, created_at, return_ids, payload, channels, recipients)"
    " VALUES ('R-DDDDDDDD4', '2025-12-31T12:00:00Z', '5', 'p', 'screen,email',"
    " 'maria.pena@example.org');"
    "INSERT INTO returns (id, asset_tag, returned_by, site_id, kiosk_id, returned_at,"
    " charger_declared, receipt_id) VALUES (5, '104500', 'S100001', 'bolling',"
    " 'bolling-lobby-1', '2025-12-31T12:00:00Z', 1, 'R-DDDDDDDD4');";

static void seed_more(struct fixture *f, const char *sql)
{
    struct dk_error err = {{0}};

    assert_int_equal(store_exec(f->store, sql, &err), 0);
}

static void test_receive_refuses_a_recycled_walk_in(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    seed_more(f, recycled_104500);
    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), -EPERM);
    assert_string_equal(err.msg, "asset 104500 was recycled on manifest 7; it cannot come "
                                 "back into use");
}

static void test_receive_of_a_recycled_walk_in_records_nothing(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    seed_more(f, recycled_104500);
    receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err);
    rows(f, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit) || ' ' || "
            "(SELECT count(*) FROM outbox) FROM returns",
         buf, sizeof(buf));
    assert_string_equal(buf, "4 0 0\n");
}

static void test_receive_refuses_a_recycled_device_dropped_at_the_kiosk(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    seed_more(f, recycled_104500);
    seed_more(f, dropped_104500);
    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), -EPERM);
    rows(f, "SELECT state || ' ' || (SELECT count(*) FROM outbox) FROM returns WHERE id = 5",
         buf, sizeof(buf));
    assert_string_equal(buf, "dropped 0\n");
}

static void test_receive_refuses_a_device_on_a_manifest_whatever_its_status(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    seed_more(f, recycled_104500);
    /* A later inventory import wrote the status back. */
    seed_more(f, "UPDATE assets SET status = 'deployed' WHERE tag = '104500'");
    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), -EPERM);
    assert_string_equal(err.msg, "asset 104500 was recycled on manifest 7; it cannot come "
                                 "back into use");
}

static void test_receive_refuses_a_recycled_asset_with_no_manifest(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    seed_more(f, "UPDATE assets SET status = 'recycled' WHERE tag = '104500'");
    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), -EPERM);
    assert_string_equal(err.msg, "asset 104500 was recycled; it cannot come back into use");
}

static void test_check_receive_refuses_a_recycled_device(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_item item = {"104500", DK_CHARGER_PRESENT, NULL, NULL};
    struct dk_error err = {{0}};

    seed_more(f, recycled_104500);
    assert_int_equal(intake_check_receive(f->store, &f->cfg, &item, &err), -EPERM);
}

static void test_receive_refuses_a_new_drop_while_an_earlier_return_is_received(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    /* Return 4: a clean-out received 104500; the kiosk then took return 5. */
    seed_more(f, "INSERT INTO returns (id, asset_tag, site_id, kiosk_id, returned_at,"
                 " charger_declared, state, received_at, technician, cleanout_school)"
                 " VALUES (4, '104500', 'bolling', 'bolling-lobby-1', '2025-12-29T10:00:00Z',"
                 " 1, 'received', '2025-12-29T10:00:00Z', 'T0002', 'Lakeside Elementary')");
    seed_more(f, dropped_104500);
    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), -EALREADY);
    assert_string_equal(err.msg, "asset 104500 was already received on 2025-12-29T10:00:00Z "
                                 "by technician T0002; nothing changed");
}

static void test_receive_leaves_the_newer_drop_alone_while_one_is_received(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[64];

    seed_more(f, "INSERT INTO returns (id, asset_tag, site_id, kiosk_id, returned_at,"
                 " charger_declared, state, received_at, technician, cleanout_school)"
                 " VALUES (4, '104500', 'bolling', 'bolling-lobby-1', '2025-12-29T10:00:00Z',"
                 " 1, 'received', '2025-12-29T10:00:00Z', 'T0002', 'Lakeside Elementary')");
    seed_more(f, dropped_104500);
    receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err);
    rows(f, "SELECT state || ' ' || (SELECT count(*) FROM outbox) || ' ' || "
            "(SELECT count(*) FROM audit) FROM returns WHERE id = 5",
         buf, sizeof(buf));
    assert_string_equal(buf, "dropped 0 0\n");
}

static void test_receive_walk_in_of_a_device_returned_before_says_no_open_return(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};

    seed_more(f, "INSERT INTO returns (id, asset_tag, site_id, kiosk_id, returned_at,"
                 " charger_declared, state, received_at, technician, disposition)"
                 " VALUES (4, '104500', 'bolling', 'bolling-lobby-1', '2025-11-03T15:00:00Z',"
                 " 1, 'dispositioned', '2025-11-04T15:00:00Z', 'T0002', 'reassign')");
    assert_int_equal(receive(f, "104500", DK_CHARGER_DEFAULT, NULL, &res, &err), DK_EINPUT);
    assert_string_equal(err.msg, "asset 104500 has no open return: give --charger present or "
                                 "missing to record a walk-in");
}

/* ---- clean-out ---------------------------------------------------------- */

struct seen {
    int codes[8];
    size_t n;
};

static void on_item(size_t i, int rc, const struct dk_intake_result *res,
                    const struct dk_error *err, void *user)
{
    struct seen *s = user;

    (void)res;
    (void)err;
    assert_int_equal(i, s->n);
    if (s->n < 8)
        s->codes[s->n++] = rc;
}

static void test_cleanout_returns_and_receives_each_device(void **state)
{
    struct fixture *f = *state;
    const char *tags[] = {"104500", "177777"};
    struct dk_cleanout opts = {"Lakeside Elementary", DK_CHARGER_DEFAULT, NULL};
    struct dk_cleanout_counts counts;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, tags, 2, T0, NULL,
                                     NULL, &counts, &err),
                     0);
    assert_int_equal(counts.cleaned_out, 2);
    assert_int_equal(counts.unknown, 1);
    assert_int_equal(counts.refused, 0);
    rows(f, RETURN_ROW "WHERE id > 3 ORDER BY id", buf, sizeof(buf));
    assert_string_equal(buf, "104500|-|received|2026-01-01T00:00:00Z|0|-|-|-|T0001|"
                             "Lakeside Elementary|000|campbell\n"
                             "177777|-|received|2026-01-01T00:00:00Z|0|-|-|-|T0001|"
                             "Lakeside Elementary|010|campbell\n");
    rows(f, AUDIT_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "tech:T0001|cleanout received|104500|return=4 charger=not "
                             "checked condition=not assessed school=Lakeside Elementary\n"
                             "tech:T0001|cleanout received|177777|return=5 charger=not "
                             "checked condition=not assessed unknown_asset school=Lakeside "
                             "Elementary\n");
    rows(f, "SELECT count(*) FROM outbox", buf, sizeof(buf));
    assert_string_equal(buf, "0\n");
}

static void test_cleanout_receives_a_dropped_device_with_its_confirmation(void **state)
{
    struct fixture *f = *state;
    const char *tags[] = {"104233"};
    struct dk_cleanout opts = {"Bolling Building", DK_CHARGER_DEFAULT, NULL};
    struct dk_cleanout_counts counts;
    struct dk_error err = {{0}};
    char buf[1024];

    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, tags, 1, T0, NULL,
                                     NULL, &counts, &err),
                     0);
    assert_int_equal(counts.received, 1);
    rows(f, RETURN_ROW "WHERE id = 1", buf, sizeof(buf));
    assert_string_equal(buf, "104233|S100001|received|2026-01-01T00:00:00Z|1|1|-|-|T0001|-|"
                             "000|bolling\n");
    rows(f, OUTBOX_ROWS, buf, sizeof(buf));
    assert_string_equal(buf, "confirmation|maria.pena@example.org,lead.finance@example.org|"
                             "Device received by OIIT: asset 104233|pending\n");
}

static void test_cleanout_goes_on_past_a_refused_device(void **state)
{
    struct fixture *f = *state;
    const char *tags[] = {"104500", "104500", "ZZZ999XX", "177777"};
    struct dk_cleanout opts = {"Lakeside Elementary", DK_CHARGER_MISSING, "worn"};
    struct dk_cleanout_counts counts;
    struct dk_error err = {{0}};
    struct seen seen = {{0}, 0};

    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, tags, 4, T0, on_item,
                                     &seen, &counts, &err),
                     0);
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.codes[0], 0);
    assert_int_equal(seen.codes[1], -EALREADY);
    assert_int_equal(seen.codes[2], DK_ENOTFOUND);
    assert_int_equal(seen.codes[3], 0);
    assert_int_equal(counts.cleaned_out, 2);
    assert_int_equal(counts.refused, 2);
}

static void test_cleanout_refuses_a_recycled_device(void **state)
{
    struct fixture *f = *state;
    const char *tags[] = {"104500", "177777"};
    struct dk_cleanout opts = {"Lakeside Elementary", DK_CHARGER_DEFAULT, NULL};
    struct dk_cleanout_counts counts;
    struct dk_error err = {{0}};
    struct seen seen = {{0}, 0};

    seed_more(f, recycled_104500);
    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, tags, 2, T0, on_item,
                                     &seen, &counts, &err),
                     0);
    assert_int_equal(seen.codes[0], -EPERM);
    assert_int_equal(seen.codes[1], 0);
    assert_int_equal(counts.refused, 1);
    assert_int_equal(counts.cleaned_out, 1);
}

static void test_cleanout_refuses_a_device_whose_earlier_return_is_received(void **state)
{
    struct fixture *f = *state;
    const char *tags[] = {"104500"};
    struct dk_cleanout opts = {"Lakeside Elementary", DK_CHARGER_DEFAULT, NULL};
    struct dk_cleanout_counts counts;
    struct dk_error err = {{0}};
    struct seen seen = {{0}, 0};
    char buf[64];

    seed_more(f, "INSERT INTO returns (id, asset_tag, site_id, kiosk_id, returned_at,"
                 " charger_declared, state, received_at, technician, cleanout_school)"
                 " VALUES (4, '104500', 'bolling', 'bolling-lobby-1', '2025-12-29T10:00:00Z',"
                 " 1, 'received', '2025-12-29T10:00:00Z', 'T0002', 'Lakeside Elementary')");
    seed_more(f, dropped_104500);
    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, tags, 1, T0, on_item,
                                     &seen, &counts, &err),
                     0);
    assert_int_equal(seen.codes[0], -EALREADY);
    rows(f, "SELECT state FROM returns WHERE id = 5", buf, sizeof(buf));
    assert_string_equal(buf, "dropped\n");
}

static void test_cleanout_refuses_a_missing_school(void **state)
{
    struct fixture *f = *state;
    const char *tags[] = {"104500"};
    struct dk_cleanout opts = {"", DK_CHARGER_DEFAULT, NULL};
    struct dk_error err = {{0}};
    char buf[64];

    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, tags, 1, T0, NULL,
                                     NULL, NULL, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "--school must name the school: 1 to 255 characters without "
                                 "control characters");
    rows(f, "SELECT count(*) FROM returns", buf, sizeof(buf));
    assert_string_equal(buf, "3\n");
}

/* A whole cart of 500 is recorded, each device returned and received.  How
 * fast is measured by `make bench`, not here. */
static void test_cleanout_of_500_devices_records_every_one(void **state)
{
    struct fixture *f = *state;
    struct dk_cleanout opts = {"Lakeside Elementary", DK_CHARGER_PRESENT, NULL};
    struct dk_cleanout_counts counts;
    struct dk_error err = {{0}};
    static char tags[500][16];
    const char *list[500];
    char buf[64];

    assert_int_equal(store_exec(f->store,
                                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 "
                                "FROM n WHERE i < 499) INSERT INTO assets (tag, type, model) "
                                "SELECT 300000 + i, 'chromebook', 'Lenovo 300e' FROM n",
                                &err),
                     0);
    for (int i = 0; i < 500; i++) {
        snprintf(tags[i], sizeof(tags[i]), "%d", 300000 + i);
        list[i] = tags[i];
    }
    assert_int_equal(intake_cleanout(f->store, &f->cfg, &opts, &f->tech, list, 500, T0, NULL,
                                     NULL, &counts, &err),
                     0);
    assert_int_equal(counts.cleaned_out, 500);
    rows(f, "SELECT count(*) FROM returns WHERE cleanout_school = 'Lakeside Elementary'", buf,
         sizeof(buf));
    assert_string_equal(buf, "500\n");
}

/* ---- discrepancies ------------------------------------------------------ */

static void on_discrepancy(const struct dk_discrepancy *d, void *user)
{
    char *buf = user;
    size_t used = strlen(buf);

    snprintf(buf + used, 1024 - used, "%s|%lld|%s|%d\n", intake_discrepancy_name(d->kind),
             (long long)d->return_id, d->tag, d->days_waiting);
}

static void test_discrepancies_list_walk_ins_overdue_and_chargers(void **state)
{
    struct fixture *f = *state;
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    char buf[1024] = "";

    assert_int_equal(receive(f, "104233", DK_CHARGER_MISSING, "good", &res, &err), 0);
    assert_int_equal(receive(f, "104500", DK_CHARGER_PRESENT, "good", &res, &err), 0);
    assert_int_equal(intake_discrepancies(f->store, 1, T0, on_discrepancy, buf, &err), 0);
    assert_string_equal(buf, "walk-in|4|104500|0\n"
                             "not received|2|104400|1\n"
                             "not received|3|199999|1\n"
                             "charger missing|1|104233|0\n");
}

static void test_discrepancies_wait_for_the_overdue_days(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {{0}};
    char buf[1024] = "";

    assert_int_equal(intake_discrepancies(f->store, 7, T0, on_discrepancy, buf, &err), 0);
    assert_string_equal(buf, "");
}

/* ---- the confirmation's words ------------------------------------------- */

static void test_confirmation_states_a_missing_chargers_cost(void **state)
{
    struct fixture *f = *state;
    struct dk_asset a = {.tag = "104233", .model = "ProBook 450 G8"};
    struct dk_notice_received r = {
        .asset = &a,
        .name = "Maria Pena",
        .site_name = "Bolling Building",
        .returned_when = "2025-12-30 10:00 EST",
        .received_when = "2025-12-31 19:00 EST",
        .receipt_id = "R-AAAAAAAA1",
        .charger_declared = true,
        .charger_present = false,
        .charger_expected = true,
        .charger_cost_cents = 4250,
    };
    struct dk_catalog *en = NULL;
    struct dk_notice n;

    assert_int_equal(i18n_load(DK_CATALOG_DIR, "en", &en, NULL), 0);
    assert_int_equal(notice_received(&f->cfg, en, &r, &n), 0);
    assert_string_equal(n.subject, "Device received by OIIT: asset 104233, charger missing");
    assert_string_equal(
        n.text,
        "Hello Maria Pena,\n\n"
        "Example City Public Schools OIIT has received the device you returned at the "
        "Bolling Building kiosk\non 2025-12-30 10:00 EST:\n\n"
        "  Asset:    104233\n"
        "  Device:   ProBook 450 G8\n"
        "  Received: 2025-12-31 19:00 EST\n"
        "  Charger:  MISSING, not in the bag\n"
        "  Receipt:  R-AAAAAAAA1\n\n"
        "You told the kiosk the charger was in the bag, but the technician\n"
        "did not find it there.\n"
        "Please bring the charger to OIIT as soon as you can. If it is not\n"
        "returned, the replacement cost is $42.50.\n\n"
        "What happens next: OIIT securely erases the data on the device, then\n"
        "reimages it for reuse or sends it for recycling. Apart from the charger, there is "
        "nothing more you need to do.\n");
    assert_null(n.html);
    notice_free(&n);
    i18n_free(en);
}

static void test_confirmation_with_the_charger_names_no_cost(void **state)
{
    struct fixture *f = *state;
    struct dk_asset a = {.tag = "104233", .model = "ProBook 450 G8"};
    struct dk_notice_received r = {
        .asset = &a,
        .name = "Maria Pena",
        .site_name = "Bolling Building",
        .returned_when = "2025-12-30 10:00 EST",
        .received_when = "2025-12-31 19:00 EST",
        .receipt_id = "",
        .charger_declared = true,
        .charger_present = true,
        .charger_expected = true,
        .charger_cost_cents = 4250,
    };
    struct dk_catalog *en = NULL;
    struct dk_notice n;

    assert_int_equal(i18n_load(DK_CATALOG_DIR, "en", &en, NULL), 0);
    assert_int_equal(notice_received(&f->cfg, en, &r, &n), 0);
    assert_string_equal(n.subject, "Device received by OIIT: asset 104233");
    assert_non_null(strstr(n.text, "  Charger:  verified, in the bag\n\nWhat happens next"));
    assert_null(strstr(n.text, "$"));
    assert_null(strstr(n.text, "Receipt:"));
    notice_free(&n);
    i18n_free(en);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_receive_moves_a_dropped_return_to_received),
        T(test_receive_charger_defaults_to_what_was_declared),
        T(test_receive_finds_the_device_by_its_serial),
        T(test_receive_writes_audit_rows_in_order),
        T(test_receive_confirms_to_the_returner_and_the_copied_leader),
        T(test_receive_missing_charger_is_in_the_subject),
        T(test_receive_leader_not_copied_when_the_receipt_was_not),
        T(test_receive_leader_who_is_their_own_leader_gets_one_copy),
        T(test_receive_anonymous_return_sends_no_email),
        T(test_receive_refuses_a_device_already_received),
        T(test_receive_walk_in_creates_a_flagged_received_return),
        T(test_receive_walk_in_needs_a_charger_answer),
        T(test_receive_walk_in_of_an_unknown_tag_is_flagged),
        T(test_receive_refuses_a_serial_nobody_has),
        T(test_receive_refuses_a_staff_badge),
        T(test_receive_refuses_an_unknown_condition),
        T(test_check_receive_finds_refusals_without_writing),
        T(test_receive_refuses_a_recycled_walk_in),
        T(test_receive_of_a_recycled_walk_in_records_nothing),
        T(test_receive_refuses_a_recycled_device_dropped_at_the_kiosk),
        T(test_receive_refuses_a_device_on_a_manifest_whatever_its_status),
        T(test_receive_refuses_a_recycled_asset_with_no_manifest),
        T(test_check_receive_refuses_a_recycled_device),
        T(test_receive_refuses_a_new_drop_while_an_earlier_return_is_received),
        T(test_receive_leaves_the_newer_drop_alone_while_one_is_received),
        T(test_receive_walk_in_of_a_device_returned_before_says_no_open_return),
        T(test_cleanout_returns_and_receives_each_device),
        T(test_cleanout_receives_a_dropped_device_with_its_confirmation),
        T(test_cleanout_goes_on_past_a_refused_device),
        T(test_cleanout_refuses_a_recycled_device),
        T(test_cleanout_refuses_a_device_whose_earlier_return_is_received),
        T(test_cleanout_refuses_a_missing_school),
        T(test_cleanout_of_500_devices_records_every_one),
        T(test_discrepancies_list_walk_ins_overdue_and_chargers),
        T(test_discrepancies_wait_for_the_overdue_days),
        T(test_confirmation_states_a_missing_chargers_cost),
        T(test_confirmation_with_the_charger_names_no_cost),
    };
#undef T

    return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
