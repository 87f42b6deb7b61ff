/* The HID-POS report parser on recorded reports, the report descriptor
 * check, and the libusb back end with no scanner plugged in.
 *
 * The reports are as a scanner in HID-POS mode sends them (64 bytes: ID
 * 0x02, data length, AIM identifier, data, vendor code ID at byte 61,
 * continued bit in byte 63); unset bytes are the zero padding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hidpos.h"
#include "scanner.h"

#include <libusb.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Code 128 asset tag "RPS-104233", AIM ]C0, Honeywell code ID 'j'. */
static const uint8_t code128_asset_tag[64] = {
    0x02, 0x0a, 0x5d, 0x43, 0x30, 0x52, 0x50, 0x53, 0x2d, 0x31, 0x30, 0x34, 0x32, 0x33, 0x33,
    [61] = 0x6a, [62] = 0x00, [63] = 0x00,
};

/* A QR code of 66 bytes, AIM ]Q1: 56 bytes with the continued bit set... */
static const uint8_t qr_part1[64] = {
    0x02, 0x38, 0x5d, 0x51, 0x31, 0x68, 0x74, 0x74, 0x70, 0x73, 0x3a, 0x2f, 0x2f, 0x61, 0x73, 0x73,
    0x65, 0x74, 0x73, 0x2e, 0x72, 0x70, 0x73, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2f,
    0x72, 0x3f, 0x74, 0x61, 0x67, 0x3d, 0x52, 0x50, 0x53, 0x2d, 0x31, 0x30, 0x34, 0x32, 0x33, 0x33,
    0x26, 0x73, 0x69, 0x74, 0x65, 0x3d, 0x42, 0x4f, 0x4c, 0x4c, 0x49, 0x4e, 0x47, 0x73, 0x00, 0x01,
};

/* ...and the last 10 without it. */
static const uint8_t qr_part2[64] = {
    0x02, 0x0a, 0x5d, 0x51, 0x31, 0x26, 0x6b, 0x69, 0x6f, 0x73, 0x6b, 0x3d, 0x4b, 0x30, 0x31,
    [61] = 0x73, [62] = 0x00, [63] = 0x00,
};

/* GS1-128, AIM ]C1: (01)00614141999996 (21)SN4471 GS (10)LOT7; the GS
 * (0x1D) ends the variable-length serial number. */
static const uint8_t gs1_128_with_gs[64] = {
    0x02, 0x1f, 0x5d, 0x43, 0x31, 0x30, 0x31, 0x30, 0x30, 0x36, 0x31, 0x34, 0x31, 0x34, 0x31, 0x39,
    0x39, 0x39, 0x39, 0x39, 0x36, 0x32, 0x31, 0x53, 0x4e, 0x34, 0x34, 0x37, 0x31, 0x1d, 0x31, 0x30,
    0x4c, 0x4f, 0x54, 0x37, [61] = 0x6a, [62] = 0x00, [63] = 0x00,
};

/* Report ID 4, not a scanned data report. */
static const uint8_t wrong_id[64] = {
    0x04, 0x03, 0x16, 0x54, 0x0d,
};

/* Claims 60 data bytes from byte 5 of a 64-byte report. */
static const uint8_t length_past_report[64] = {
    0x02, 0x3c, 0x5d, 0x43, 0x30, 0x31, 0x32, 0x33, [63] = 0x00,
};

/* Claims 57 bytes: inside the report, but over the vendor bytes. */
static const uint8_t length_over_data[64] = {
    0x02, 0x39, 0x5d, 0x43, 0x30, 0x31, 0x32, 0x33, [63] = 0x00,
};

/* A bad length with the continued bit: the reports after it are its own. */
static const uint8_t bad_length_continued[64] = {
    0x02, 0x3c, 0x5d, 0x51, 0x31, [63] = 0x01,
};

/* Code 39 "104233" with symbology identifiers switched off (zeros). */
static const uint8_t no_symbology[64] = {
    0x02, 0x06, 0x00, 0x00, 0x00, 0x31, 0x30, 0x34, 0x32, 0x33, 0x33, [63] = 0x00,
};

static const uint8_t empty_scan[64] = {
    0x02, 0x00, 0x5d, 0x43, 0x30, [63] = 0x00,
};

static const uint8_t empty_continued[64] = {
    0x02, 0x00, 0x5d, 0x43, 0x30, [63] = 0x01,
};

static struct dk_hidpos_assembler fresh(void)
{
    struct dk_hidpos_assembler a;
    struct dk_error err = {{0}};

    assert_int_equal(hidpos_assembler_init(&a, &dk_hidpos_default_layout, &err), 0);
    return a;
}

static void test_hidpos_code128_asset_tag_in_one_report(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, code128_asset_tag, 64, &scan, &err), 1);
    assert_string_equal(scan.text, "RPS-104233");
    assert_int_equal(scan.len, 10);
    assert_string_equal(scan.symbology, "]C0");
    assert_int_equal(scan.reports, 1);
    assert_false(hidpos_assembler_busy(&a));
}

static void test_hidpos_qr_code_across_two_reports(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, qr_part1, 64, &scan, &err), 0);
    assert_true(hidpos_assembler_busy(&a));
    assert_int_equal(hidpos_feed(&a, qr_part2, 64, &scan, &err), 1);
    assert_string_equal(scan.text,
                        "https://assets.rps.example/r?tag=RPS-104233&site=BOLLING&kiosk=K01");
    assert_int_equal(scan.len, 66);
    assert_string_equal(scan.symbology, "]Q1");
    assert_int_equal(scan.reports, 2);
}

static void test_hidpos_gs1_128_keeps_group_separator(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, gs1_128_with_gs, 64, &scan, &err), 1);
    assert_int_equal(scan.len, 31);
    assert_memory_equal(scan.text, "0100614141999996" "21SN4471" "\x1d" "10LOT7", 32);
    assert_string_equal(scan.symbology, "]C1");
}

static void test_hidpos_rejects_wrong_report_id(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, wrong_id, 64, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS report: ID 0x04 is not scanned data (0x02); ignored");
}

static void test_hidpos_wrong_report_id_leaves_scan_in_progress(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, qr_part1, 64, &scan, &err), 0);
    assert_int_equal(hidpos_feed(&a, wrong_id, 64, &scan, &err), DK_EINPUT);
    assert_int_equal(hidpos_feed(&a, qr_part2, 64, &scan, &err), 1);
    assert_int_equal(scan.len, 66);
}

static void test_hidpos_rejects_length_past_report(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, length_past_report, 64, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS report: data length 60 runs past its 64 bytes");
}

static void test_hidpos_rejects_length_over_data_area(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, length_over_data, 64, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS report: data length 57 is more than its 56 data bytes");
}

static void test_hidpos_rejects_short_report(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, code128_asset_tag, 8, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS report: 8 bytes, shorter than the 64 of scanned data");
}

static void test_hidpos_rejects_empty_report(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, code128_asset_tag, 0, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS report: empty");
}

static void test_hidpos_skips_rest_of_malformed_scan(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, qr_part1, 64, &scan, &err), 0);
    assert_int_equal(hidpos_feed(&a, bad_length_continued, 64, &scan, &err), DK_EINPUT);
    /* The QR code's last report must not become a scan of its own. */
    assert_int_equal(hidpos_feed(&a, qr_part2, 64, &scan, &err), 0);
    assert_int_equal(hidpos_feed(&a, code128_asset_tag, 64, &scan, &err), 1);
    assert_string_equal(scan.text, "RPS-104233");
}

static void test_hidpos_rejects_overlong_scan(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};
    uint8_t report[64] = {0x02, 0x38, 0x5d, 0x51, 0x31, [63] = 0x01};

    (void)state;
    memset(report + 5, 'A', 56);
    /* Nine reports hold 504 bytes; the tenth would make 560 of 512. */
    for (int i = 0; i < 9; i++)
        assert_int_equal(hidpos_feed(&a, report, 64, &scan, &err), 0);
    assert_int_equal(hidpos_feed(&a, report, 64, &scan, &err), -EMSGSIZE);
    assert_string_equal(err.msg, "HID-POS scan longer than 512 bytes; dropped");
    report[63] = 0x00;
    assert_int_equal(hidpos_feed(&a, report, 64, &scan, &err), 0);
    assert_int_equal(hidpos_feed(&a, code128_asset_tag, 64, &scan, &err), 1);
    assert_string_equal(scan.text, "RPS-104233");
}

static void test_hidpos_scan_of_512_bytes_is_whole(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};
    uint8_t report[64] = {0x02, 0x38, 0x5d, 0x51, 0x31, [63] = 0x01};

    (void)state;
    memset(report + 5, 'B', 56);
    for (int i = 0; i < 9; i++)
        assert_int_equal(hidpos_feed(&a, report, 64, &scan, &err), 0);
    report[1] = 8; /* 9 * 56 + 8 = 512 */
    report[63] = 0x00;
    assert_int_equal(hidpos_feed(&a, report, 64, &scan, &err), 1);
    assert_int_equal(scan.len, 512);
    assert_int_equal(scan.text[511], 'B');
    assert_int_equal(scan.text[512], '\0');
}

static void test_hidpos_endless_empty_continued_reports_are_refused(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    for (int i = 0; i < 32; i++)
        assert_int_equal(hidpos_feed(&a, empty_continued, 64, &scan, &err), 0);
    assert_int_equal(hidpos_feed(&a, empty_continued, 64, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS scan in more than 32 reports; dropped");
}

static void test_hidpos_rejects_scan_with_no_data(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, empty_scan, 64, &scan, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS report: a scan with no data");
}

static void test_hidpos_zero_symbology_is_empty(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, no_symbology, 64, &scan, &err), 1);
    assert_string_equal(scan.text, "104233");
    assert_string_equal(scan.symbology, "");
}

static void test_hidpos_reset_forgets_partial_scan(void **state)
{
    struct dk_hidpos_assembler a = fresh();
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_feed(&a, qr_part1, 64, &scan, &err), 0);
    hidpos_assembler_reset(&a);
    assert_false(hidpos_assembler_busy(&a));
    assert_int_equal(hidpos_feed(&a, code128_asset_tag, 64, &scan, &err), 1);
    assert_string_equal(scan.text, "RPS-104233");
}

/* One engine's layout: data from byte 2, a one-byte symbology at 62. */
static void test_hidpos_other_layout_offsets_are_used(void **state)
{
    const struct dk_hidpos_layout engine = {
        .report_id = 0x02, .report_size = 64, .length_at = 1, .symbology_at = 62,
        .symbology_len = 1, .data_at = 2, .data_max = 56, .flags_at = 63, .continued_mask = 0x01,
    };
    const uint8_t report[64] = {
        0x02, 0x06, 0x31, 0x30, 0x34, 0x32, 0x33, 0x33, [62] = 0x6a, [63] = 0x00,
    };
    struct dk_hidpos_assembler a;
    struct dk_hidpos_scan scan;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(hidpos_assembler_init(&a, &engine, &err), 0);
    assert_int_equal(hidpos_feed(&a, report, 64, &scan, &err), 1);
    assert_string_equal(scan.text, "104233");
    assert_string_equal(scan.symbology, "j");
}

static void test_hidpos_layout_check_refuses_data_past_report(void **state)
{
    struct dk_hidpos_layout bad = dk_hidpos_default_layout;
    struct dk_hidpos_assembler a;
    struct dk_error err = {{0}};

    (void)state;
    bad.data_at = 10;
    assert_int_equal(hidpos_assembler_init(&a, &bad, &err), DK_EINPUT);
    assert_string_equal(err.msg, "HID-POS layout: decoded data outside the report");
}

/* A scanner's HID-POS interface, as HID 1.11 items: Usage Page (0x8C),
 * Usage (Bar Code Scanner), Collection (Application), Usage (Scanned Data
 * Report), Collection (Logical), Report ID (2), Logical Min/Max, Report
 * Size (8), Report Count (1), Usage Page (0x8C) redundant, ... */
static const uint8_t pos_descriptor[] = {
    0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x12, 0xa1, 0x02, 0x85, 0x02, 0x15, 0x00,
    0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x01, 0x06, 0x66, 0xff, 0x09, 0x01, 0x81, 0x02,
    0x05, 0x8c, 0x95, 0x03, 0x09, 0xfb, 0x09, 0xfc, 0x09, 0xfd, 0x81, 0x02, 0x95, 0x38,
    0x09, 0xfe, 0x82, 0x02, 0x01, 0xc0, 0xc0,
};

/* The start of a boot keyboard's: Usage Page (Generic Desktop), Usage
 * (Keyboard), Collection (Application), Usage Page (Keyboard), ... */
static const uint8_t keyboard_descriptor[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00,
    0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0xc0,
};

static void test_hidpos_descriptor_with_pos_page_is_found(void **state)
{
    (void)state;
    assert_true(hidpos_descriptor_is_pos(pos_descriptor, sizeof(pos_descriptor)));
}

static void test_hidpos_descriptor_of_keyboard_is_not_pos(void **state)
{
    (void)state;
    assert_false(hidpos_descriptor_is_pos(keyboard_descriptor, sizeof(keyboard_descriptor)));
}

static void test_hidpos_descriptor_extended_usage_names_page(void **state)
{
    /* Usage Page (Generic Desktop), then a 4-byte Usage 0x008C0002. */
    const uint8_t desc[] = {0x05, 0x01, 0x0b, 0x02, 0x00, 0x8c, 0x00, 0xa1, 0x01, 0xc0};

    (void)state;
    assert_true(hidpos_descriptor_is_pos(desc, sizeof(desc)));
}

static void test_hidpos_descriptor_truncated_item_is_not_read(void **state)
{
    /* A 2-byte Usage Page whose second byte is missing. */
    const uint8_t desc[] = {0x05, 0x01, 0x06, 0x8c};

    (void)state;
    assert_false(hidpos_descriptor_is_pos(desc, sizeof(desc)));
}

static void test_hidpos_descriptor_long_item_is_skipped(void **state)
{
    /* A long item (0xFE, 2 data bytes, tag 0xF0) before Usage Page 0x8C. */
    const uint8_t desc[] = {0xfe, 0x02, 0xf0, 0x05, 0x01, 0x05, 0x8c};

    (void)state;
    assert_true(hidpos_descriptor_is_pos(desc, sizeof(desc)));
}

/* ---- the libusb back end with no scanner plugged in ---- */

static bool usb_can_wait(void)
{
    libusb_context *ctx = NULL;
    bool ok = libusb_init(&ctx) == 0 && libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG);

    if (ctx != NULL)
        libusb_exit(ctx);
    return ok;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dk_scanner_config absent_scanner(void)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_HIDPOS, .vid = 0x05e0, .pid = 0x1200};

    snprintf(cfg.name, sizeof(cfg.name), "%s", "lobby");
    return cfg;
}

static void test_hidpos_absent_scanner_waits_without_input(void **state)
{
    struct dk_scanner_config cfg = absent_scanner();
    struct dk_scanner *s = NULL;
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    struct pollfd pfd;
    double start = now_s();

    (void)state;
    if (!usb_can_wait())
        skip();
    assert_int_equal(scanner_open(&cfg, &s, &err), 0);
    pfd = (struct pollfd){.fd = scanner_fd(s), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 300), 0);
    assert_int_equal(scanner_next(s, &ev, &err), 0);
    assert_int_equal(scanner_wait_ms(s), -1);
    scanner_close(s);
    assert_true(now_s() - start < 2.0);
}

static void test_hidpos_search_without_ids_waits(void **state)
{
    struct dk_scanner_config cfg = absent_scanner();
    struct dk_scanner *s = NULL;
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    double start = now_s();

    (void)state;
    if (!usb_can_wait())
        skip();
    cfg.vid = -1;
    cfg.pid = -1;
    assert_int_equal(scanner_open(&cfg, &s, &err), 0);
    assert_int_equal(scanner_next(s, &ev, &err), 0);
    scanner_close(s);
    assert_true(now_s() - start < 2.0);
}

static void test_hidpos_absent_scanner_fails_without_hotplug(void **state)
{
    struct dk_scanner_config cfg = absent_scanner();
    struct dk_scanner *s = NULL;
    struct dk_error err = {{0}};
    double start = now_s();

    (void)state;
    if (usb_can_wait())
        skip();
    assert_true(scanner_open(&cfg, &s, &err) < 0);
    assert_null(s);
    assert_memory_equal(err.msg, "cannot open scanner lobby", 25);
    assert_true(now_s() - start < 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hidpos_code128_asset_tag_in_one_report),
        cmocka_unit_test(test_hidpos_qr_code_across_two_reports),
        cmocka_unit_test(test_hidpos_gs1_128_keeps_group_separator),
        cmocka_unit_test(test_hidpos_rejects_wrong_report_id),
        cmocka_unit_test(test_hidpos_wrong_report_id_leaves_scan_in_progress),
        cmocka_unit_test(test_hidpos_rejects_length_past_report),
        cmocka_unit_test(test_hidpos_rejects_length_over_data_area),
        cmocka_unit_test(test_hidpos_rejects_short_report),
        cmocka_unit_test(test_hidpos_rejects_empty_report),
        cmocka_unit_test(test_hidpos_skips_rest_of_malformed_scan),
        cmocka_unit_test(test_hidpos_rejects_overlong_scan),
        cmocka_unit_test(test_hidpos_scan_of_512_bytes_is_whole),
        cmocka_unit_test(test_hidpos_endless_empty_continued_reports_are_refused),
        cmocka_unit_test(test_hidpos_rejects_scan_with_no_data),
        cmocka_unit_test(test_hidpos_zero_symbology_is_empty),
        cmocka_unit_test(test_hidpos_reset_forgets_partial_scan),
        cmocka_unit_test(test_hidpos_other_layout_offsets_are_used),
        cmocka_unit_test(test_hidpos_layout_check_refuses_data_past_report),
        cmocka_unit_test(test_hidpos_descriptor_with_pos_page_is_found),
        cmocka_unit_test(test_hidpos_descriptor_of_keyboard_is_not_pos),
        cmocka_unit_test(test_hidpos_descriptor_extended_usage_names_page),
        cmocka_unit_test(test_hidpos_descriptor_truncated_item_is_not_read),
        cmocka_unit_test(test_hidpos_descriptor_long_item_is_skipped),
        cmocka_unit_test(test_hidpos_absent_scanner_waits_without_input),
        cmocka_unit_test(test_hidpos_search_without_ids_waits),
        cmocka_unit_test(test_hidpos_absent_scanner_fails_without_hotplug),
    };

    return cmocka_run_group_tests_name("hidpos", tests, NULL, NULL);
}
