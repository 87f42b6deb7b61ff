/* ESC/POS encoder: the slip's bytes (init, code page, header styles,
 * wrapping at 32 and 48 columns, Windows-1252 text), the QR code both ways
 * (GS ( k and GS v 0), the cut, the refusals, the DLE EOT status decoding
 * and the model table.
 *
 * Expected bytes are written out from Epson's command reference; QR sizes
 * from ISO/IEC 18004 table 7 (8-bit capacity at level M: version 13 holds
 * 331 bytes, version 12 287; version 40 holds 2331) and the symbol width
 * 17 + 4 x version modules.  Windows-1252 values from its code chart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "escpos.h"

#include <stdlib.h>
#include <string.h>

static const struct dk_slip_device two_devices[] = {
    {.tag = "104233", .model = "Dell Latitude 3420", .charger = true},
    {.tag = "104500", .model = "", .charger = false},
};

static unsigned char payload_buf[2400];

static struct dk_slip english_slip(size_t payload_len)
{
    struct dk_slip s = {
        .district = "RPS",
        .site_name = "Bolling",
        .receipt_id = "R-7K3M9QXZJ",
        .when_local = "2026-12-04 10:37",
        .devices = two_devices,
        .n_devices = 2,
        .payload = payload_buf,
        .payload_len = payload_len,
        .words = {
            .title = "Return",
            .receipt = "Receipt",
            .device = "Asset",
            .charger = "Charger",
            .yes = "yes",
            .no = "no",
            .pending = "Pending check",
            .scan_qr = "Scan me",
        },
    };

    for (size_t i = 0; i < sizeof(payload_buf); i++)
        payload_buf[i] = (unsigned char)('A' + i % 26);
    return s;
}

struct stream {
    unsigned char *p;
    size_t len;
};

static struct stream encode(const struct dk_slip *s, int width_mm, bool native)
{
    struct dk_error err = {{0}};
    struct stream st = {0};

    assert_int_equal(escpos_slip(s, width_mm, native, &st.p, &st.len, &err), 0);
    assert_non_null(st.p);
    return st;
}

/* The offset of needle in the stream; fails the test when absent. */
static size_t find(const struct stream *st, const void *needle, size_t n)
{
    const unsigned char *at = memmem(st->p, st->len, needle, n);

    assert_non_null(at);
    return (size_t)(at - st->p);
}

static bool contains(const struct stream *st, const void *needle, size_t n)
{
    return memmem(st->p, st->len, needle, n) != NULL;
}

/* ---- layout and text ------------------------------------------------ */

static void test_slip_starts_with_init_code_page_and_header(void **state)
{
    static const unsigned char head[] =
        "\x1b\x40"                 /* ESC @ */
        "\x1b\x74\x10"             /* ESC t 16: WPC1252 */
        "\x1b\x61\x01"             /* centred */
        "\x1b\x45\x01"             /* bold */
        "\x1d\x21\x11"             /* double width and height */
        "Return\n"
        "\x1d\x21\x00"
        "\x1b\x45\x00"
        "RPS\n"
        "Bolling\n"
        "\x1b\x61\x00"             /* left */
        "\n"
        "Receipt R-7K3M9QXZJ\n"
        "2026-12-04 10:37\n"
        "\n";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 58, true);

    (void)state;
    assert_true(st.len > sizeof(head) - 1);
    assert_memory_equal(st.p, head, sizeof(head) - 1);
    free(st.p);
}

static void test_device_line_wraps_at_32_columns_with_indent(void **state)
{
    static const char wrapped[] = "Asset 104233, Dell Latitude\n  3420, Charger: yes\n"
                                  "Asset 104500, Charger: no\n";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 58, true);

    (void)state;
    find(&st, wrapped, sizeof(wrapped) - 1);
    free(st.p);
}

static void test_device_line_fits_48_columns_on_80mm(void **state)
{
    static const char one_line[] = "Asset 104233, Dell Latitude 3420, Charger: yes\n";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 80, true);

    (void)state;
    find(&st, one_line, sizeof(one_line) - 1);
    free(st.p);
}

static void test_long_word_broken_at_32_columns(void **state)
{
    static const char lines[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\n6789\n";
    struct dk_slip s = english_slip(300);
    struct stream st;

    (void)state;
    s.words.pending = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    st = encode(&s, 58, true);
    find(&st, lines, sizeof(lines) - 1);
    free(st.p);
}

static void test_wrap_never_splits_a_utf8_character(void **state)
{
    /* 31 letters and an n-tilde fill the 32 columns; the n-tilde is one
     * column (0xF1), not two bytes split over two lines. */
    static const char lines[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xf1\nb\n";
    struct dk_slip s = english_slip(300);
    struct stream st;

    (void)state;
    s.words.pending = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xb1" "b";
    st = encode(&s, 58, true);
    find(&st, lines, sizeof(lines) - 1);
    free(st.p);
}

static void test_title_wraps_at_16_columns_in_double_size(void **state)
{
    static const char lines[] = "\x1d\x21\x11Recibo de\ndevoluci\xf3n\n\x1d\x21\x00";
    struct dk_slip s = english_slip(300);
    struct stream st;

    (void)state;
    s.words.title = "Recibo de devoluci\xc3\xb3n";
    st = encode(&s, 58, true);
    find(&st, lines, sizeof(lines) - 1);
    free(st.p);
}

static void test_spanish_si_is_0xed_in_wpc1252(void **state)
{
    static const char line[] = "Equipo 104233, Dell Latitude\n  3420, Cargador: S\xed\n";
    struct dk_slip s = english_slip(300);
    struct stream st;

    (void)state;
    s.words.device = "Equipo";
    s.words.charger = "Cargador";
    s.words.yes = "S\xc3\xad";
    st = encode(&s, 58, true);
    find(&st, line, sizeof(line) - 1);
    assert_false(contains(&st, "\xc3\xad", 2));
    free(st.p);
}

static void test_characters_missing_from_code_page_become_question_marks(void **state)
{
    /* Chinese "laptop", Arabic "laptop" (one space between). */
    static const char line[] = "Asset 104233, ??? ?????, Charger: yes\n";
    static const struct dk_slip_device dev[] = {
        {.tag = "104233",
         .model = "\xe7\xac\x94\xe8\xae\xb0\xe6\x9c\xac "
                  "\xd8\xad\xd8\xa7\xd8\xb3\xd9\x88\xd8\xa8",
         .charger = true},
    };
    struct dk_slip s = english_slip(300);
    struct stream st;

    (void)state;
    s.devices = dev;
    s.n_devices = 1;
    st = encode(&s, 80, true);
    find(&st, line, sizeof(line) - 1);
    free(st.p);
}

static void test_control_bytes_and_bad_utf8_in_text_print_as_question_marks(void **state)
{
    /* An ESC @ and a GS V in an inventory field must not reach the
     * printer as commands; a lone 0xFF is not UTF-8. */
    static const char line[] = "Asset AB?@?V1, x?y, Charger: no\n";
    static const struct dk_slip_device dev[] = {
        {.tag = "AB\x1b@\x1dV1", .model = "x\xffy", .charger = false},
    };
    struct dk_slip s = english_slip(300);
    struct stream st;

    (void)state;
    s.devices = dev;
    s.n_devices = 1;
    st = encode(&s, 58, true);
    find(&st, line, sizeof(line) - 1);
    free(st.p);
}

/* ---- the QR code ---------------------------------------------------- */

static void test_native_qr_commands_for_300_bytes_at_58mm(void **state)
{
    /* Version 13 (69 modules) + 8 quiet = 77 modules; 384 / 77 = 4 dots. */
    static const unsigned char setup[] =
        "\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"  /* fn 165: model 2 */
        "\x1d\x28\x6b\x03\x00\x31\x43\x04"      /* fn 167: 4 dots a module */
        "\x1d\x28\x6b\x03\x00\x31\x45\x31"      /* fn 169: level M */
        "\x1d\x28\x6b\x2f\x01\x31\x50\x30";     /* fn 180: 303 = 300 + 3 */
    static const unsigned char print_and_cut[] =
        "\x1d\x28\x6b\x03\x00\x31\x51\x30"      /* fn 181: print */
        "\n\x1b\x61\x00"
        "\x1d\x56\x42\x03";                     /* GS V 66 3: partial cut */
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 58, true);
    size_t at;

    (void)state;
    at = find(&st, setup, sizeof(setup) - 1);
    at += sizeof(setup) - 1;
    assert_true(st.len - at == 300 + sizeof(print_and_cut) - 1);
    assert_memory_equal(st.p + at, payload_buf, 300);
    assert_memory_equal(st.p + at + 300, print_and_cut, sizeof(print_and_cut) - 1);
    free(st.p);
}

static void test_native_qr_module_size_7_at_80mm(void **state)
{
    /* 576 / 77 = 7 dots a module. */
    static const unsigned char size[] = "\x1d\x28\x6b\x03\x00\x31\x43\x07";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 80, true);

    (void)state;
    find(&st, size, sizeof(size) - 1);
    assert_false(contains(&st, "\x1dv0", 3));
    free(st.p);
}

static void test_raster_qr_header_at_58mm(void **state)
{
    /* 48 bytes (384 dots) a row, 77 x 4 = 308 = 0x134 rows. */
    static const unsigned char head[] = "Scan me\n\n\x1d\x76\x30\x00\x30\x00\x34\x01";
    static const unsigned char tail[] = "\n\x1b\x61\x00\x1d\x56\x42\x03";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 58, false);
    size_t at;

    (void)state;
    at = find(&st, head, sizeof(head) - 1) + sizeof(head) - 1;
    assert_int_equal(st.len - at, 48 * 308 + sizeof(tail) - 1);
    assert_memory_equal(st.p + st.len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    assert_false(contains(&st, "\x1d\x28\x6b", 3));
    free(st.p);
}

static void test_raster_qr_draws_centred_finder_after_quiet_zone(void **state)
{
    /* The symbol (308 dots) starts at dot (384 - 308) / 2 = 38; its first
     * module row is 4 quiet modules (16 dots) down and right, at dot 54.
     * The top-left finder's top edge is 7 dark modules: dots 54-81; the
     * separator module after it (dots 82-85) is light. */
    static const unsigned char head[] = "\x1d\x76\x30\x00\x30\x00\x34\x01";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 58, false);
    const unsigned char *img = st.p + find(&st, head, sizeof(head) - 1) + sizeof(head) - 1;
    const unsigned char *row15 = img + 15 * 48;
    const unsigned char *row16 = img + 16 * 48;

    (void)state;
    for (int i = 0; i < 48; i++)
        assert_int_equal(row15[i], 0x00);
    /* dot 53 = byte 6 bit 2 (light), dots 54-55 = byte 6 bits 1-0 (dark) */
    assert_int_equal(row16[6], 0x03);
    assert_int_equal(row16[7], 0xff);
    assert_int_equal(row16[8], 0xff);
    /* dots 80-81 dark, 82-85 light: byte 10 = 11000000 then 0000 */
    assert_int_equal(row16[10] & 0xfc, 0xc0);
    free(st.p);
}

static void test_raster_qr_header_at_80mm(void **state)
{
    /* 72 bytes (576 dots) a row, 77 x 7 = 539 = 0x21B rows. */
    static const unsigned char head[] = "\x1d\x76\x30\x00\x48\x00\x1b\x02";
    struct dk_slip s = english_slip(300);
    struct stream st = encode(&s, 80, false);
    size_t at;

    (void)state;
    at = find(&st, head, sizeof(head) - 1) + sizeof(head) - 1;
    assert_int_equal(st.len - at, 72 * 539 + 8);
    free(st.p);
}

static void test_largest_payload_fits_version_40(void **state)
{
    /* 177 + 8 = 185 modules; 384 / 185 = 2 dots; 370 = 0x172 rows. */
    static const unsigned char head[] = "\x1d\x76\x30\x00\x30\x00\x72\x01";
    struct dk_slip s = english_slip(2331);
    struct stream st = encode(&s, 58, false);

    (void)state;
    find(&st, head, sizeof(head) - 1);
    free(st.p);
}

static void test_oversize_payload_refused(void **state)
{
    struct dk_slip s = english_slip(2332);
    struct dk_error err = {{0}};
    unsigned char *out = (unsigned char *)"untouched";
    size_t len = 7;

    (void)state;
    assert_int_equal(escpos_slip(&s, 58, true, &out, &len, &err), DK_EINPUT);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_string_equal(err.msg,
                        "receipt payload of 2332 bytes does not fit one QR code "
                        "(2331 bytes at most)");
    assert_int_equal(escpos_slip(&s, 80, false, &out, &len, &err), DK_EINPUT);
    assert_null(out);
}

static void test_empty_payload_refused(void **state)
{
    struct dk_slip s = english_slip(0);
    struct dk_error err = {{0}};
    unsigned char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(escpos_slip(&s, 58, false, &out, &len, &err), DK_EINPUT);
    assert_null(out);
    assert_string_equal(err.msg, "receipt payload is empty: nothing to put in a QR code");
}

static void test_other_paper_width_refused(void **state)
{
    struct dk_slip s = english_slip(300);
    struct dk_error err = {{0}};
    unsigned char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(escpos_slip(&s, 76, false, &out, &len, &err), DK_EINPUT);
    assert_null(out);
    assert_string_equal(err.msg, "paper width of 76 mm is not 58 or 80");
}

/* ---- status --------------------------------------------------------- */

static void test_status_query_bytes(void **state)
{
    static const unsigned char query[] = {0x10, 0x04, 0x01, 0x10, 0x04, 0x02,
                                          0x10, 0x04, 0x04};

    (void)state;
    assert_int_equal(ESCPOS_STATUS_QUERY_LEN, 9);
    assert_memory_equal(escpos_status_query, query, sizeof(query));
}

static void test_state_ready_with_only_fixed_bits(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x12, 0x12, 0x12), DK_PRINTER_READY);
}

static void test_state_offline_bit_3_of_printer_status(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x1a, 0x12, 0x12), DK_PRINTER_OFFLINE);
}

static void test_state_cover_open_bit_2_of_offline_cause(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x1a, 0x16, 0x12), DK_PRINTER_COVER_OPEN);
}

static void test_state_paper_end_stop_bit_5_of_offline_cause(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x1a, 0x32, 0x12), DK_PRINTER_PAPER_OUT);
}

static void test_state_error_bit_6_of_offline_cause(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x12, 0x52, 0x12), DK_PRINTER_OFFLINE);
}

static void test_state_paper_end_bits_5_6_of_paper_sensor(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x12, 0x12, 0x72), DK_PRINTER_PAPER_OUT);
    assert_int_equal(escpos_state(0x12, 0x12, 0x32), DK_PRINTER_PAPER_OUT);
    assert_int_equal(escpos_state(0x12, 0x12, 0x52), DK_PRINTER_PAPER_OUT);
}

static void test_state_near_end_bits_2_3_still_ready(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x12, 0x12, 0x1e), DK_PRINTER_READY);
}

static void test_state_cover_open_wins_over_paper_end(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(0x1a, 0x36, 0x72), DK_PRINTER_COVER_OPEN);
}

static void test_state_wrong_fixed_bits_are_no_answer(void **state)
{
    /* bit 0 on, bit 1 off, bit 4 off, bit 7 on, all zero, all ones */
    static const int bad[] = {0x13, 0x10, 0x02, 0x92, 0x00, 0xff};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(escpos_state(bad[i], 0x12, 0x12), DK_PRINTER_NO_ANSWER);
        assert_int_equal(escpos_state(0x12, bad[i], 0x12), DK_PRINTER_NO_ANSWER);
        assert_int_equal(escpos_state(0x12, 0x12, bad[i]), DK_PRINTER_NO_ANSWER);
    }
}

static void test_state_missing_answer_is_no_answer(void **state)
{
    (void)state;
    assert_int_equal(escpos_state(-1, 0x12, 0x12), DK_PRINTER_NO_ANSWER);
    assert_int_equal(escpos_state(0x12, -1, 0x12), DK_PRINTER_NO_ANSWER);
    assert_int_equal(escpos_state(0x12, 0x12, -1), DK_PRINTER_NO_ANSWER);
    assert_int_equal(escpos_state(0x112, 0x12, 0x12), DK_PRINTER_NO_ANSWER);
}

/* ---- models --------------------------------------------------------- */

static void test_known_models_have_qr(void **state)
{
    (void)state;
    assert_true(escpos_model_has_qr("tm-t20"));
    assert_true(escpos_model_has_qr("tm-t88v"));
    assert_true(escpos_model_has_qr("TM-T88VI"));
    assert_true(escpos_model_has_qr("tm-m30"));
}

static void test_generic_and_unknown_models_have_no_qr(void **state)
{
    (void)state;
    assert_false(escpos_model_has_qr("generic"));
    assert_false(escpos_model_has_qr("tm-t88"));
    assert_false(escpos_model_has_qr("tm-t20x"));
    assert_false(escpos_model_has_qr(""));
    assert_false(escpos_model_has_qr(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slip_starts_with_init_code_page_and_header),
        cmocka_unit_test(test_device_line_wraps_at_32_columns_with_indent),
        cmocka_unit_test(test_device_line_fits_48_columns_on_80mm),
        cmocka_unit_test(test_long_word_broken_at_32_columns),
        cmocka_unit_test(test_wrap_never_splits_a_utf8_character),
        cmocka_unit_test(test_title_wraps_at_16_columns_in_double_size),
        cmocka_unit_test(test_spanish_si_is_0xed_in_wpc1252),
        cmocka_unit_test(test_characters_missing_from_code_page_become_question_marks),
        cmocka_unit_test(test_control_bytes_and_bad_utf8_in_text_print_as_question_marks),
        cmocka_unit_test(test_native_qr_commands_for_300_bytes_at_58mm),
        cmocka_unit_test(test_native_qr_module_size_7_at_80mm),
        cmocka_unit_test(test_raster_qr_header_at_58mm),
        cmocka_unit_test(test_raster_qr_draws_centred_finder_after_quiet_zone),
        cmocka_unit_test(test_raster_qr_header_at_80mm),
        cmocka_unit_test(test_largest_payload_fits_version_40),
        cmocka_unit_test(test_oversize_payload_refused),
        cmocka_unit_test(test_empty_payload_refused),
        cmocka_unit_test(test_other_paper_width_refused),
        cmocka_unit_test(test_status_query_bytes),
        cmocka_unit_test(test_state_ready_with_only_fixed_bits),
        cmocka_unit_test(test_state_offline_bit_3_of_printer_status),
        cmocka_unit_test(test_state_cover_open_bit_2_of_offline_cause),
        cmocka_unit_test(test_state_paper_end_stop_bit_5_of_offline_cause),
        cmocka_unit_test(test_state_error_bit_6_of_offline_cause),
        cmocka_unit_test(test_state_paper_end_bits_5_6_of_paper_sensor),
        cmocka_unit_test(test_state_near_end_bits_2_3_still_ready),
        cmocka_unit_test(test_state_cover_open_wins_over_paper_end),
        cmocka_unit_test(test_state_wrong_fixed_bits_are_no_answer),
        cmocka_unit_test(test_state_missing_answer_is_no_answer),
        cmocka_unit_test(test_known_models_have_qr),
        cmocka_unit_test(test_generic_and_unknown_models_have_no_qr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
