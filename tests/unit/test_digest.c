/* The leaders' daily digest against a real SQLite store in a temporary
 * folder, filled with the literal rows below, and its messages read back
 * from the outbox with GMime's parser.  The site is in New York, UTC-4 in
 * June: the local day 2024-06-03 runs from 04:00Z to 04:00Z the next day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "digest.h"
#include "mail.h"
#include "store.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 2024-06-04T12:00:00Z, 08:00 in New York: when the status is read. */
#define NOW ((time_t)1717502400)

static const char rows_sql[] =
    "INSERT INTO sites VALUES ('bolling', 'Bolling Building');"
    "INSERT INTO kiosks VALUES ('bolling-1', 'bolling', '');"
    "INSERT INTO staff (id, name, email, department, leader_email) VALUES "
    "  ('S100001', 'María José Peña', 'maria.pena@example.org', 'Finance', "
    "   'Lead.Finance@example.org'),"
    "  ('S100002', 'Tran Van Minh', 'minh.tran@example.org', 'OIIT', "
    "   'lead.oiit@example.org'),"
    "  ('S100003', 'Jordan Smith', 'jordan.smith@example.org', 'Finance', "
    "   'lead.finance@example.org'),"
    "  ('S100004', 'Ana Lima', 'ana.lima@example.org', 'Lakeside', NULL);"
    "INSERT INTO assets (tag, type, make, model, assignee, charger_expected) VALUES "
    "  ('104233', 'laptop', 'HP', 'ProBook 450 G8', 'S100001', 1),"
    "  ('104400', 'phone', 'Samsung', 'Galaxy A54', 'S100002', 1),"
    "  ('104401', 'phone', 'Samsung', 'Galaxy A54', 'S100002', 1),"
    "  ('104402', 'phone', 'Samsung', 'Galaxy A54', 'S100002', 1),"
    "  ('104500', 'hotspot', 'Franklin', 'T10', 'S100001', 1),"
    "  ('104600', 'tablet', 'Apple', 'iPad', 'minh.tran@example.org', 1),"
    "  ('104700', 'laptop', 'HP', 'ProBook 440', 'S100004', 1);"
    /* Finance: 09:14, received with the charger found. */
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared, state, charger_verified) VALUES "
    "  ('104233', 'S100001', 'S100001', 'bolling', 'bolling-1', '2024-06-03T13:14:00Z', 1, "
    "   'received', 1);"
    /* Finance: 10:05, someone else's phone, still in the bin. */
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared, flag_not_assignee, flag_missing_charger) VALUES "
    "  ('104400', 'S100003', 'S100002', 'bolling', 'bolling-1', '2024-06-03T14:05:00Z', 0, "
    "   1, 1);"
    /* Finance: 15:30, a tag not in the inventory. */
    "INSERT INTO returns (asset_tag, returned_by, site_id, kiosk_id, returned_at, "
    "  charger_declared, flag_unknown_asset, flag_missing_charger) VALUES "
    "  ('999001', 'S100003', 'bolling', 'bolling-1', '2024-06-03T19:30:00Z', 0, 1, 1);"
    /* OIIT: 08:00, anonymous (SKIP); the assignee is known by email. */
    "INSERT INTO returns (asset_tag, assignee_at_time, site_id, kiosk_id, returned_at, "
    "  charger_declared, state, charger_verified, disposition) VALUES "
    "  ('104600', 'MINH.TRAN@example.org', 'bolling', 'bolling-1', '2024-06-03T12:00:00Z', "
    "   1, 'dispositioned', 1, 'reimage');"
    /* OIIT: 23:59:59, the last second of the day; charger not found. */
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared, state, charger_verified) VALUES "
    "  ('104401', 'S100002', 'S100002', 'bolling', 'bolling-1', '2024-06-04T03:59:59Z', 1, "
    "   'received', 0);"
    /* Left out: 23:59:59 the day before. */
    "INSERT INTO returns (asset_tag, returned_by, site_id, kiosk_id, returned_at, "
    "  charger_declared) VALUES "
    "  ('104402', 'S100002', 'bolling', 'bolling-1', '2024-06-03T03:59:59Z', 1);"
    /* Left out: a returner without a leader. */
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared) VALUES "
    "  ('104700', 'S100004', 'S100004', 'bolling', 'bolling-1', '2024-06-03T15:00:00Z', 1);"
    /* Left out: anonymous and not in the inventory, so nobody's. */
    "INSERT INTO returns (asset_tag, site_id, kiosk_id, returned_at, charger_declared, "
    "  flag_unknown_asset) VALUES "
    "  ('999002', 'bolling', 'bolling-1', '2024-06-03T16:00:00Z', 0, 1);"
    /* Left out: a walk-in a technician recorded. */
    "INSERT INTO returns (asset_tag, assignee_at_time, site_id, kiosk_id, returned_at, "
    "  charger_declared, state, charger_verified, flag_walk_in, received_at, technician) "
    "  VALUES ('104500', 'S100001', 'bolling', 'bolling-1', '2024-06-03T17:00:00Z', 1, "
    "  'received', 1, 1, '2024-06-03T17:00:00Z', 'T0001');";

static const char finance_text[] =
    "Hello,\n"
    "\n"
    "Your staff returned these devices at Bolling Building on 2024-06-03.\n"
    "Times are America/New_York; status as of 2024-06-04 08:00 EDT.\n"
    "\n"
    "09:14  Asset 104233, HP ProBook 450 G8\n"
    "       Returned by: María José Peña (staff id S100001)\n"
    "       Charger declared: yes\n"
    "       Status now: received by OIIT, charger verified\n"
    "\n"
    "10:05  Asset 104400, Samsung Galaxy A54\n"
    "       Returned by: Jordan Smith (staff id S100003)\n"
    "       Charger declared: no\n"
    "       Status now: dropped, waiting for a technician\n"
    "       Flags: not the assignee\n"
    "\n"
    "15:30  Asset 999001, device not in our inventory\n"
    "       Returned by: Jordan Smith (staff id S100003)\n"
    "       Charger declared: no\n"
    "       Status now: dropped, waiting for a technician\n"
    "       Flags: unknown asset\n"
    "\n"
    "3 devices in all.\n"
    "\n"
    "This is the daily summary from the Example City Public Schools device drop-off kiosk.\n"
    "It is sent only on days when your staff return devices there.\n";

static const char oiit_text[] =
    "Hello,\n"
    "\n"
    "Your staff returned these devices at Bolling Building on 2024-06-03.\n"
    "Times are America/New_York; status as of 2024-06-04 08:00 EDT.\n"
    "\n"
    "08:00  Asset 104600, Apple iPad\n"
    "       Returned by: not given at the kiosk; assigned to Tran Van Minh (staff id "
    "S100002)\n"
    "       Charger declared: yes\n"
    "       Status now: dispositioned: reimage\n"
    "\n"
    "23:59  Asset 104401, Samsung Galaxy A54\n"
    "       Returned by: Tran Van Minh (staff id S100002)\n"
    "       Charger declared: yes\n"
    "       Status now: received by OIIT, charger missing\n"
    "\n"
    "2 devices in all.\n"
    "\n"
    "This is the daily summary from the Example City Public Schools device drop-off kiosk.\n"
    "It is sent only on days when your staff return devices there.\n";

struct fixture {
    char dir[64];
    char db[128];
    struct dk_store *store;
    struct dk_config cfg;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct dk_error err = {{0}};

    if (fx == NULL)
        return -1;
    /* Days are the site's: what both programs set from [kiosk] timezone. */
    setenv("TZ", "America/New_York", 1);
    tzset();
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/dk-digest-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->db, sizeof(fx->db), "%s/test.db", fx->dir);
    if (store_open(fx->db, &fx->store, &err) != 0 ||
        store_exec(fx->store, rows_sql, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    config_defaults(&fx->cfg);
    snprintf(fx->cfg.district, sizeof(fx->cfg.district),
             "Example City Public Schools");
    snprintf(fx->cfg.site_name, sizeof(fx->cfg.site_name), "Bolling Building");
    snprintf(fx->cfg.timezone, sizeof(fx->cfg.timezone), "America/New_York");
    snprintf(fx->cfg.mail_from, sizeof(fx->cfg.mail_from),
             "dropkiosk@example.org");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char path[160];

    store_close(fx->store);
    unlink(fx->db);
    snprintf(path, sizeof(path), "%s-wal", fx->db);
    unlink(path);
    snprintf(path, sizeof(path), "%s-shm", fx->db);
    unlink(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static int queue(struct fixture *fx, const char *day, int *n)
{
    struct dk_error err = {{0}};
    int rc = digest_queue(fx->store, &fx->cfg, day, NOW, n, &err);

    if (rc != 0)
        fprintf(stderr, "digest_queue: %s\n", err.msg);
    return rc;
}

static int count(struct fixture *fx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int n = -1;

    assert_int_equal(sqlite3_prepare_v2(fx->store->db, sql, -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Column col of the outbox row for recipient, g_strdup'd; NULL when none. */
static char *outbox_column(struct fixture *fx, const char *recipient,
                           const char *col)
{
    char sql[128];
    sqlite3_stmt *st = NULL;
    char *v = NULL;

    snprintf(sql, sizeof(sql), "SELECT %s FROM outbox WHERE recipients = ?",
             col);
    assert_int_equal(sqlite3_prepare_v2(fx->store->db, sql, -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = g_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

/* The decoded body of the given type in the queued message to recipient,
 * with CRLF line ends made LF; g_free it. */
static char *body(struct fixture *fx, const char *recipient, const char *type)
{
    char *mime = outbox_column(fx, recipient, "mime");
    GMimeStream *stream, *out;
    GMimeParser *parser;
    GMimeMessage *msg;
    GMimeObject *top, *part = NULL;
    GByteArray *bytes;
    GString *text;

    assert_non_null(mime);
    mail_init();
    stream = g_mime_stream_mem_new_with_buffer(mime, strlen(mime));
    parser = g_mime_parser_new_with_stream(stream);
    msg = g_mime_parser_construct_message(parser, NULL);
    assert_non_null(msg);
    top = g_mime_message_get_mime_part(msg);
    assert_true(GMIME_IS_MULTIPART(top));
    for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(top)); i++) {
        GMimeObject *p = g_mime_multipart_get_part(GMIME_MULTIPART(top), i);
        char *t = g_mime_content_type_get_mime_type(
            g_mime_object_get_content_type(p));

        if (strcmp(t, type) == 0)
            part = p;
        g_free(t);
    }
    assert_non_null(part);
    out = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(
        g_mime_part_get_content(GMIME_PART(part)), out);
    bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    text = g_string_new_len((const char *)bytes->data, bytes->len);
    for (char *cr; (cr = strstr(text->str, "\r\n")) != NULL;)
        g_string_erase(text, cr - text->str, 1);
    g_object_unref(out);
    g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(stream);
    g_free(mime);
    return g_string_free(text, FALSE);
}

static void test_digest_queues_one_message_per_leader(void **state)
{
    struct fixture *fx = *state;
    int n = -1;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(
        count(fx, "SELECT count(*) FROM outbox WHERE kind = 'digest'"), 2);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 2);
    assert_int_equal(
        count(fx, "SELECT count(*) FROM digests WHERE day = '2024-06-03' AND "
                  "outbox_id = (SELECT id FROM outbox WHERE recipients = "
                  "leader_email)"),
        2);
    assert_int_equal(
        count(fx, "SELECT count(*) FROM digests WHERE leader_email IN "
                  "('lead.finance@example.org', 'lead.oiit@example.org')"),
        2);
    assert_int_equal(
        count(fx, "SELECT count(*) FROM audit WHERE actor = 'digest' AND "
                  "action = 'digest queued'"),
        2);
}

static void test_digest_subjects_name_site_day_and_count(void **state)
{
    struct fixture *fx = *state;
    char *finance, *oiit;
    int n = 0;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    finance = outbox_column(fx, "lead.finance@example.org", "subject");
    oiit = outbox_column(fx, "lead.oiit@example.org", "subject");
    assert_string_equal(
        finance,
        "Returns by your staff at Bolling Building on 2024-06-03: 3 devices");
    assert_string_equal(
        oiit,
        "Returns by your staff at Bolling Building on 2024-06-03: 2 devices");
    g_free(finance);
    g_free(oiit);
}

static void test_digest_lists_a_leaders_staff_returns_of_the_day(void **state)
{
    struct fixture *fx = *state;
    char *text;
    int n = 0;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    text = body(fx, "lead.finance@example.org", "text/plain");
    assert_string_equal(text, finance_text);
    g_free(text);
}

static void
test_digest_lists_an_anonymous_return_under_the_assignees_leader(void **state)
{
    struct fixture *fx = *state;
    char *text;
    int n = 0;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    text = body(fx, "lead.oiit@example.org", "text/plain");
    assert_string_equal(text, oiit_text);
    g_free(text);
}

static void test_digest_html_has_a_row_per_device(void **state)
{
    struct fixture *fx = *state;
    char *html;
    int n = 0;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    html = body(fx, "lead.oiit@example.org", "text/html");
    assert_non_null(strstr(
        html, "<tr><td>23:59</td><td>Tran Van Minh (staff id S100002)</td>"
              "<td>104401</td><td>Samsung Galaxy A54</td><td>yes</td>"
              "<td>received by OIIT, charger missing</td><td></td></tr>\n"));
    assert_non_null(strstr(html, "<p>2 devices in all.</p>"));
    g_free(html);
}

static void test_digest_html_escapes_every_value(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    char *html;
    int n = 0;

    assert_int_equal(
        store_exec(fx->store,
                   "UPDATE staff SET name = '<b>Tran</b> & \"Minh''s\"' "
                   "WHERE id = 'S100002';"
                   "UPDATE assets SET make = '<i>', model = 'A&B' "
                   "WHERE tag = '104401';",
                   &err),
        0);
    snprintf(fx->cfg.site_name, sizeof(fx->cfg.site_name), "Bolling <Annex>");
    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    html = body(fx, "lead.oiit@example.org", "text/html");
    assert_non_null(
        strstr(html, "<td>&lt;b&gt;Tran&lt;/b&gt; &amp; &quot;Minh&#39;s&quot; "
                     "(staff id S100002)</td><td>104401</td>"
                     "<td>&lt;i&gt; A&amp;B</td>"));
    assert_non_null(
        strstr(html, "devices at Bolling &lt;Annex&gt; on 2024-06-03."));
    assert_null(strstr(html, "<b>"));
    assert_null(strstr(html, "<i>"));
    assert_null(strstr(html, "<Annex>"));
    g_free(html);
}

static void test_second_call_for_the_same_day_queues_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1, done = -1;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 2);
    assert_int_equal(count(fx, "SELECT count(*) FROM digests"), 2);
    assert_int_equal(digest_count_done(fx->store, "2024-06-03", &done, &err),
                     0);
    assert_int_equal(done, 2);
}

/* A restart: a new connection to the same file still knows. */
static void
test_digest_already_queued_stays_queued_after_reopening(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    store_close(fx->store);
    fx->store = NULL;
    assert_int_equal(store_open(fx->db, &fx->store, &err), 0);
    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 2);
}

/* A leader recorded before (say by dropkioskctl) is skipped; a leader not
 * yet recorded still gets theirs. */
static void test_only_leaders_not_yet_recorded_are_queued(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(
        store_exec(fx->store,
                   "INSERT INTO digests (leader_email, day) VALUES "
                   "('lead.finance@example.org', '2024-06-03')",
                   &err),
        0);
    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox WHERE recipients = "
                               "'lead.oiit@example.org'"),
                     1);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 1);
}

static void test_day_without_returns_queues_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1, done = -1;

    assert_int_equal(queue(fx, "2024-06-01", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM digests"), 0);
    assert_int_equal(digest_count_done(fx->store, "2024-06-01", &done, &err),
                     0);
    assert_int_equal(done, 0);
}

static void test_leader_address_the_mail_layer_refuses_is_skipped(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(
        store_exec(fx->store,
                   "UPDATE staff SET leader_email = 'lead oiit at example' "
                   "WHERE id = 'S100002'",
                   &err),
        0);
    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 1);
    assert_int_equal(count(fx,
                           "SELECT count(*) FROM digests WHERE leader_email = "
                           "'lead.finance@example.org'"),
                     1);
    assert_int_equal(count(fx, "SELECT count(*) FROM digests"), 1);
}

static void test_day_not_yet_begun_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(
        digest_queue(fx->store, &fx->cfg, "2024-06-05", NOW, &n, &err),
        DK_EINPUT);
    assert_string_equal(
        err.msg, "the day 2024-06-05 has not begun: no digest for it yet");
    assert_int_equal(n, 0);
}

static void test_bad_day_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(
        digest_queue(fx->store, &fx->cfg, "2024-02-30", NOW, &n, &err),
        DK_EINPUT);
    assert_string_equal(err.msg,
                        "bad day '2024-02-30': give a day as YYYY-MM-DD");
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 0);
}

/* 2024-06-03T20:59:00Z is 16:59 in New York, 21:00:00Z is 17:00. */
static void test_digest_is_due_from_digest_time_once_a_day(void **state)
{
    struct fixture *fx = *state;
    char day[11] = "";

    fx->cfg.digest = true;
    fx->cfg.digest_minute = 17 * 60;
    assert_false(
        digest_due(&fx->cfg, (time_t)1717448340, "", day, sizeof(day)));
    assert_true(digest_due(&fx->cfg, (time_t)1717448400, "", day, sizeof(day)));
    assert_string_equal(day, "2024-06-03");
    assert_false(digest_due(&fx->cfg, (time_t)1717448400, "2024-06-03", day,
                            sizeof(day)));
    assert_true(digest_due(&fx->cfg, (time_t)1717448400, "2024-06-02", day,
                           sizeof(day)));
}

static void test_digest_is_never_due_when_off(void **state)
{
    struct fixture *fx = *state;
    char day[11] = "";

    fx->cfg.digest = false;
    assert_false(
        digest_due(&fx->cfg, (time_t)1717448400, "", day, sizeof(day)));
}

/* 2024-06-04T11:00:00Z, 07:00 in New York: Finance's return of the day
 * before the default digest_time, 17:00. */
static const char early_return_sql[] =
    "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, kiosk_id, "
    "  returned_at, charger_declared) VALUES "
    "  ('104500', 'S100001', 'S100001', 'bolling', 'bolling-1', '2024-06-04T11:00:00Z', 1);";

/* NOW is 08:00 on 2024-06-04: today's digest is not due until 17:00, and
 * queuing it would mark the day done before the rest of its returns. */
static void test_todays_digest_before_digest_time_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(store_exec(fx->store, early_return_sql, &err), 0);
    assert_int_equal(
        digest_queue(fx->store, &fx->cfg, "2024-06-04", NOW, &n, &err),
        DK_EINPUT);
    assert_string_equal(err.msg, "the digest of 2024-06-04 is due at 17:00; give --date "
                                 "for a finished day, or wait");
    assert_int_equal(n, 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM digests"), 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM outbox"), 0);
}

/* 2024-06-04T21:00:00Z is 17:00 in New York. */
static void test_todays_digest_is_queued_from_digest_time(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    assert_int_equal(store_exec(fx->store, early_return_sql, &err), 0);
    assert_int_equal(digest_queue(fx->store, &fx->cfg, "2024-06-04",
                                  (time_t)1717534800, &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(count(fx, "SELECT count(*) FROM digests WHERE day = '2024-06-04' "
                               "AND leader_email = 'lead.finance@example.org'"),
                     1);
}

static void test_refusal_names_the_configured_digest_time(void **state)
{
    struct fixture *fx = *state;
    struct dk_error err = {{0}};
    int n = -1;

    fx->cfg.digest_minute = 8 * 60 + 5;
    assert_int_equal(
        digest_queue(fx->store, &fx->cfg, "2024-06-04", NOW, &n, &err),
        DK_EINPUT);
    assert_string_equal(err.msg, "the digest of 2024-06-04 is due at 08:05; give --date "
                                 "for a finished day, or wait");
}

/* A finished day is due whatever the time of day. */
static void test_yesterdays_digest_is_queued_before_digest_time(void **state)
{
    struct fixture *fx = *state;
    int n = -1;

    fx->cfg.digest_minute = 23 * 60 + 59;
    assert_int_equal(queue(fx, "2024-06-03", &n), 0);
    assert_int_equal(n, 2);
}

/* 2024-06-04T20:59:00Z is 16:59 in New York; 21:00:00Z is 17:00. */
static void test_last_due_day_is_yesterday_until_digest_time(void **state)
{
    struct fixture *fx = *state;
    char day[11] = "";

    fx->cfg.digest_minute = 17 * 60;
    digest_last_due_day(&fx->cfg, NOW, day, sizeof(day));
    assert_string_equal(day, "2024-06-03");
    digest_last_due_day(&fx->cfg, (time_t)1717534740, day, sizeof(day));
    assert_string_equal(day, "2024-06-03");
    digest_last_due_day(&fx->cfg, (time_t)1717534800, day, sizeof(day));
    assert_string_equal(day, "2024-06-04");
}

/* 2024-06-04T04:00:00Z is midnight in New York: with digest_time 00:00 the
 * day is due from its first minute. */
static void test_last_due_day_is_today_from_midnight_at_digest_time_0000(void **state)
{
    struct fixture *fx = *state;
    char day[11] = "";

    fx->cfg.digest_minute = 0;
    digest_last_due_day(&fx->cfg, (time_t)1717473600, day, sizeof(day));
    assert_string_equal(day, "2024-06-04");
}

/* 2024-07-01T12:00:00Z is 08:00 EDT; 2025-01-01T13:00:00Z is 08:00 EST. */
static void test_last_due_day_crosses_month_and_year(void **state)
{
    struct fixture *fx = *state;
    char day[11] = "";

    fx->cfg.digest_minute = 17 * 60;
    digest_last_due_day(&fx->cfg, (time_t)1719835200, day, sizeof(day));
    assert_string_equal(day, "2024-06-30");
    digest_last_due_day(&fx->cfg, (time_t)1735736400, day, sizeof(day));
    assert_string_equal(day, "2024-12-31");
}

/* The day after each daylight-saving change, early in the morning:
 * 2024-03-11T05:00:00Z is 01:00 EDT (2024-03-10 had 23 hours), and
 * 2024-11-04T05:30:00Z is 00:30 EST (2024-11-03 had 25). */
static void test_last_due_day_across_daylight_saving_changes(void **state)
{
    struct fixture *fx = *state;
    char day[11] = "";

    fx->cfg.digest_minute = 17 * 60;
    digest_last_due_day(&fx->cfg, (time_t)1710133200, day, sizeof(day));
    assert_string_equal(day, "2024-03-10");
    digest_last_due_day(&fx->cfg, (time_t)1730698200, day, sizeof(day));
    assert_string_equal(day, "2024-11-03");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_digest_queues_one_message_per_leader),
        T(test_digest_subjects_name_site_day_and_count),
        T(test_digest_lists_a_leaders_staff_returns_of_the_day),
        T(test_digest_lists_an_anonymous_return_under_the_assignees_leader),
        T(test_digest_html_has_a_row_per_device),
        T(test_digest_html_escapes_every_value),
        T(test_second_call_for_the_same_day_queues_nothing),
        T(test_digest_already_queued_stays_queued_after_reopening),
        T(test_only_leaders_not_yet_recorded_are_queued),
        T(test_day_without_returns_queues_nothing),
        T(test_leader_address_the_mail_layer_refuses_is_skipped),
        T(test_day_not_yet_begun_is_refused),
        T(test_bad_day_is_refused),
        T(test_digest_is_due_from_digest_time_once_a_day),
        T(test_digest_is_never_due_when_off),
        T(test_todays_digest_before_digest_time_is_refused),
        T(test_todays_digest_is_queued_from_digest_time),
        T(test_refusal_names_the_configured_digest_time),
        T(test_yesterdays_digest_is_queued_before_digest_time),
        T(test_last_due_day_is_yesterday_until_digest_time),
        T(test_last_due_day_is_today_from_midnight_at_digest_time_0000),
        T(test_last_due_day_crosses_month_and_year),
        T(test_last_due_day_across_daylight_saving_changes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
