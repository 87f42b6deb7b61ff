/* The service-desk ticket's subject: [mail] ticket_subject with its
 * placeholders filled, and the check config_load makes of the template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "notice.h"
#include "notice_digest.h"

#include <stdio.h>
#include <string.h>

static struct dk_config cfg;
static struct dk_asset desktop;
static struct dk_staff requester;

static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg);
    snprintf(cfg.site_id, sizeof(cfg.site_id), "bolling");
    snprintf(cfg.site_name, sizeof(cfg.site_name), "Bolling Building");
    snprintf(cfg.kiosk_id, sizeof(cfg.kiosk_id), "bolling-lobby-1");
    memset(&desktop, 0, sizeof(desktop));
    snprintf(desktop.tag, sizeof(desktop.tag), "104300");
    snprintf(desktop.serial, sizeof(desktop.serial), "DT77889");
    snprintf(desktop.type, sizeof(desktop.type), "desktop");
    snprintf(desktop.make, sizeof(desktop.make), "Dell");
    snprintf(desktop.model, sizeof(desktop.model), "OptiPlex 7090");
    snprintf(desktop.assignee, sizeof(desktop.assignee), "S100001");
    memset(&requester, 0, sizeof(requester));
    snprintf(requester.id, sizeof(requester.id), "S100001");
    snprintf(requester.name, sizeof(requester.name), "María José Peña");
    snprintf(requester.email, sizeof(requester.email),
             "maria.pena@example.org");
    return 0;
}

static void assert_subject(const struct dk_staff *who, const char *expected)
{
    struct dk_notice n = {0};

    assert_int_equal(
        notice_desktop_ticket(&cfg, &desktop, who, "2024-06-03 09:14 EDT", &n),
        0);
    assert_string_equal(n.subject, expected);
    assert_non_null(n.text);
    notice_free(&n);
}

static void test_default_subject_names_tag_and_site(void **state)
{
    (void)state;
    assert_subject(&requester, "Reimage desktop 104300 at Bolling Building");
}

static void test_every_placeholder_is_filled(void **state)
{
    (void)state;
    snprintf(
        cfg.ticket_subject, sizeof(cfg.ticket_subject),
        "KACE [{site}/{kiosk}] {model} s/n {serial} tag {tag} for {staff_id} at "
        "{site_name}");
    assert_subject(&requester,
                   "KACE [bolling/bolling-lobby-1] OptiPlex 7090 s/n DT77889 "
                   "tag 104300 for S100001 at Bolling Building");
}

static void test_placeholder_may_repeat_and_touch_text(void **state)
{
    (void)state;
    snprintf(cfg.ticket_subject, sizeof(cfg.ticket_subject),
             "{tag}{tag}-{site}{site_name}");
    assert_subject(&requester, "104300104300-bollingBolling Building");
}

static void test_staff_id_without_a_requester_says_not_given(void **state)
{
    (void)state;
    snprintf(cfg.ticket_subject, sizeof(cfg.ticket_subject),
             "Reimage {tag} for {staff_id}");
    assert_subject(NULL, "Reimage 104300 for not given");
}

static void test_subject_without_placeholders_is_kept_as_written(void **state)
{
    (void)state;
    snprintf(cfg.ticket_subject, sizeof(cfg.ticket_subject),
             "Desktop reimage } request");
    assert_subject(&requester, "Desktop reimage } request");
}

/* The mail layer refuses a header with CR or LF; the subject passes the
 * value on unchanged for it to do so, rather than mending it quietly. */
static void test_value_with_line_break_is_passed_on_unchanged(void **state)
{
    (void)state;
    snprintf(desktop.serial, sizeof(desktop.serial),
             "DT7\r\nBcc: x@example.org");
    snprintf(cfg.ticket_subject, sizeof(cfg.ticket_subject),
             "Reimage {serial}");
    assert_subject(&requester, "Reimage DT7\r\nBcc: x@example.org");
}

static void
test_unknown_placeholder_reaching_the_ticket_is_kept_as_written(void **state)
{
    (void)state;
    snprintf(cfg.ticket_subject, sizeof(cfg.ticket_subject),
             "Reimage {tag} in {room}");
    assert_subject(&requester, "Reimage 104300 in {room}");
}

static void test_check_accepts_every_placeholder(void **state)
{
    char why[256] = "";

    (void)state;
    assert_true(notice_ticket_subject_check(
        "{tag} {serial} {model} {site} {site_name} {kiosk} {staff_id}", why,
        sizeof(why)));
    assert_true(notice_ticket_subject_check(
        "Reimage desktop {tag} at {site_name}", why, sizeof(why)));
    assert_true(notice_ticket_subject_check("no placeholders } at all", why,
                                            sizeof(why)));
    assert_string_equal(why, "");
}

static void test_check_refuses_unknown_placeholder(void **state)
{
    char why[256] = "";

    (void)state;
    assert_false(notice_ticket_subject_check("Reimage {tag} in {room}", why,
                                             sizeof(why)));
    assert_string_equal(
        why, "unknown placeholder {room}: use {tag}, {serial}, {model}, "
             "{site}, {site_name}, {kiosk} or {staff_id}");
}

static void test_check_refuses_misspelt_placeholder(void **state)
{
    char why[256] = "";

    (void)state;
    assert_false(
        notice_ticket_subject_check("Reimage {Tag}", why, sizeof(why)));
    assert_string_equal(
        why, "unknown placeholder {Tag}: use {tag}, {serial}, {model}, "
             "{site}, {site_name}, {kiosk} or {staff_id}");
    assert_false(notice_ticket_subject_check("Reimage {}", why, sizeof(why)));
    assert_string_equal(why,
                        "unknown placeholder {}: use {tag}, {serial}, {model}, "
                        "{site}, {site_name}, {kiosk} or {staff_id}");
}

static void test_check_refuses_unclosed_brace(void **state)
{
    char why[256] = "";

    (void)state;
    assert_false(notice_ticket_subject_check("Reimage {tag", why, sizeof(why)));
    assert_string_equal(why, "'{' without a closing '}' in \"Reimage {tag\"");
    assert_false(
        notice_ticket_subject_check("Reimage {tag {site}", why, sizeof(why)));
    assert_string_equal(why,
                        "'{' without a closing '}' in \"Reimage {tag {site}\"");
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_default_subject_names_tag_and_site),
        T(test_every_placeholder_is_filled),
        T(test_placeholder_may_repeat_and_touch_text),
        T(test_staff_id_without_a_requester_says_not_given),
        T(test_subject_without_placeholders_is_kept_as_written),
        T(test_value_with_line_break_is_passed_on_unchanged),
        T(test_unknown_placeholder_reaching_the_ticket_is_kept_as_written),
        T(test_check_accepts_every_placeholder),
        T(test_check_refuses_unknown_placeholder),
        T(test_check_refuses_misspelt_placeholder),
        T(test_check_refuses_unclosed_brace),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
