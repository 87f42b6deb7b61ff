/* Normalising and classifying scan text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan.h"

#include <stdio.h>
#include <string.h>

static struct dk_scan_rules rules;

static int setup(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};

    (void)state;
    config_defaults(&cfg);
    snprintf(cfg.prefix, sizeof(cfg.prefix), "%s", "@@");
    return scan_rules_init(&rules, &cfg, &err);
}

static int teardown(void **state)
{
    (void)state;
    scan_rules_free(&rules);
    return 0;
}

static void classify(const char *raw, struct dk_scan *out)
{
    scan_classify(&rules, raw, strlen(raw), out);
}

static void test_scan_asset_tag_with_cr_terminator(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("104233\r\n", &s);
    assert_int_equal(s.kind, DK_SCAN_ASSET_TAG);
    assert_string_equal(s.text, "104233");
}

static void test_scan_strips_aim_identifier(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("]C0104233", &s);
    assert_int_equal(s.kind, DK_SCAN_ASSET_TAG);
    assert_string_equal(s.text, "104233");
    assert_string_equal(s.aim, "]C0");
}

static void test_scan_strips_prefix_then_aim(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("@@]A0104233\t", &s);
    assert_int_equal(s.kind, DK_SCAN_ASSET_TAG);
    assert_string_equal(s.text, "104233");
    assert_string_equal(s.aim, "]A0");
}

static void test_scan_control_codes_ignore_case(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("done", &s);
    assert_int_equal(s.kind, DK_SCAN_CONTROL);
    assert_int_equal(s.control, DK_CTRL_DONE);
    classify("]Q1YES", &s);
    assert_int_equal(s.control, DK_CTRL_YES);
    classify("n", &s);
    assert_int_equal(s.control, DK_CTRL_NO);
    classify("CANCEL", &s);
    assert_int_equal(s.control, DK_CTRL_CANCEL);
}

static void test_scan_imei_with_valid_luhn(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("490154203237518", &s);
    assert_int_equal(s.kind, DK_SCAN_IMEI);
}

static void test_scan_imei_with_bad_check_digit_is_not_imei(void **state)
{
    struct dk_scan s;

    (void)state;
    assert_false(scan_imei_valid("490154203237519"));
    classify("490154203237519", &s);
    assert_int_equal(s.kind, DK_SCAN_OTHER);
}

static void test_scan_badge(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("S100042", &s);
    assert_int_equal(s.kind, DK_SCAN_BADGE);
}

static void test_scan_serial_is_other(void **state)
{
    struct dk_scan s;

    (void)state;
    classify("5CD1234XYZ", &s);
    assert_int_equal(s.kind, DK_SCAN_OTHER);
    assert_string_equal(s.text, "5CD1234XYZ");
}

static void test_scan_rejects_empty(void **state)
{
    struct dk_scan s;

    (void)state;
    classify(" \r\n", &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
    assert_string_equal(s.reason, "empty scan");
}

static void test_scan_rejects_too_long(void **state)
{
    char raw[100];
    struct dk_scan s;

    (void)state;
    memset(raw, 'A', 65);
    raw[65] = '\0';
    classify(raw, &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
    assert_string_equal(s.reason, "scan too long (65 characters, at most 64)");
}

static void test_scan_rejects_control_characters(void **state)
{
    struct dk_scan s;

    (void)state;
    scan_classify(&rules, "10\x01" "4233", 7, &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
    assert_string_equal(s.reason,
                        "scan holds unreadable control characters or bytes that are not text");
    scan_classify(&rules, "10\0" "4233", 7, &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
}

static void test_scan_rejects_c1_control_and_invalid_utf8(void **state)
{
    struct dk_scan s;

    (void)state;
    /* U+009B is CSI: a terminal would act on it. */
    classify("\xc2\x9b" "31mX", &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
    classify("\xff\xfe\x80", &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
    classify("Jos\xc3\xa9", &s);
    assert_int_equal(s.kind, DK_SCAN_OTHER);
    assert_string_equal(s.text, "Jos\xc3\xa9");
}

static void test_scan_rules_reject_bad_pattern(void **state)
{
    struct dk_scan_rules r;
    struct dk_config cfg;
    struct dk_error err = {{0}};

    (void)state;
    config_defaults(&cfg);
    snprintf(cfg.path, sizeof(cfg.path), "%s", "k.conf");
    snprintf(cfg.asset_pattern, sizeof(cfg.asset_pattern), "%s", "^[0-9");
    assert_int_equal(scan_rules_init(&r, &cfg, &err), DK_EINPUT);
    assert_non_null(strstr(err.msg, "k.conf: [scan] asset_pattern '^[0-9'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_asset_tag_with_cr_terminator),
        cmocka_unit_test(test_scan_strips_aim_identifier),
        cmocka_unit_test(test_scan_strips_prefix_then_aim),
        cmocka_unit_test(test_scan_control_codes_ignore_case),
        cmocka_unit_test(test_scan_imei_with_valid_luhn),
        cmocka_unit_test(test_scan_imei_with_bad_check_digit_is_not_imei),
        cmocka_unit_test(test_scan_badge),
        cmocka_unit_test(test_scan_serial_is_other),
        cmocka_unit_test(test_scan_rejects_empty),
        cmocka_unit_test(test_scan_rejects_too_long),
        cmocka_unit_test(test_scan_rejects_control_characters),
        cmocka_unit_test(test_scan_rejects_c1_control_and_invalid_utf8),
        cmocka_unit_test(test_scan_rules_reject_bad_pattern),
    };

    return cmocka_run_group_tests_name("scan", tests, setup, teardown);
}
