/* What a barcode's symbology says about its text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan.h"
#include "symbology.h"

#include <stdio.h>
#include <string.h>

static const struct dk_code39_opts plain39 = {false, false};

/* Apply the symbology named id to text; returns the output or the reason
 * prefixed with "refused: ". */
static const char *apply(const char *id, const struct dk_code39_opts *c39, const char *text)
{
    static char result[300];
    struct dk_symbol sym = symbology_identify(id);
    enum dk_symbol_text what;
    char out[256];
    char why[128] = "";

    if (symbology_apply(&sym, c39, text, strlen(text), out, sizeof(out), &what, why,
                        sizeof(why)))
        snprintf(result, sizeof(result), "%s", out);
    else
        snprintf(result, sizeof(result), "refused: %s", why);
    return result;
}

static void test_symbology_identifies_aim_and_decoder_names(void **state)
{
    (void)state;
    assert_int_equal(symbology_identify("]C0").sym, DK_SYM_CODE128);
    assert_int_equal(symbology_identify("]C1").sym, DK_SYM_GS1);
    assert_int_equal(symbology_identify("]E0").sym, DK_SYM_EAN13);
    assert_int_equal(symbology_identify("]E4").sym, DK_SYM_EAN8);
    assert_int_equal(symbology_identify("]Q3").sym, DK_SYM_GS1);
    assert_int_equal(symbology_identify("]d2").sym, DK_SYM_GS1);
    assert_int_equal(symbology_identify("]e0").sym, DK_SYM_GS1);
    assert_int_equal(symbology_identify("UPC-E").sym, DK_SYM_UPCE);
    assert_int_equal(symbology_identify("CODE-39").sym, DK_SYM_CODE39);
    assert_int_equal(symbology_identify(NULL).sym, DK_SYM_UNKNOWN);
    assert_int_equal(symbology_identify("").sym, DK_SYM_UNKNOWN);
    assert_int_equal(symbology_identify("]A0").c39_check, DK_C39_CHECK_BY_CONFIG);
    assert_int_equal(symbology_identify("]A1").c39_check, DK_C39_CHECK_SENT);
    assert_int_equal(symbology_identify("]A3").c39_check, DK_C39_CHECK_STRIPPED);
    assert_true(symbology_identify("]A4").c39_ascii_done);
    assert_false(symbology_identify("]A1").c39_ascii_done);
}

static void test_gs1_serial_becomes_the_text(void **state)
{
    (void)state;
    assert_string_equal(apply("]C1", &plain39, "0109506000134352\x1d" "21A1B2C3"), "A1B2C3");
    /* A fixed-length date between them needs no separator. */
    assert_string_equal(apply("]C1", &plain39, "01095060001343521726123121SN-0042"),
                        "SN-0042");
    /* FNC1 sent as a leading GS, and no identifier at all. */
    assert_string_equal(apply(NULL, &plain39, "\x1d" "0109506000134352\x1d" "21XY9"), "XY9");
}

static void test_gs1_gtin_alone_is_refused(void **state)
{
    (void)state;
    assert_string_equal(apply("]C1", &plain39, "0109506000134352"),
                        "refused: this code names a product (GTIN), not one device; scan the "
                        "asset tag");
}

static void test_gs1_gtin_with_bad_check_digit_is_refused(void **state)
{
    (void)state;
    assert_string_equal(apply("]C1", &plain39, "0109506000134353\x1d" "21A1"),
                        "refused: a GS1 check digit does not match (a damaged or misread "
                        "label)");
}

static void test_gs1_printed_form_is_read(void **state)
{
    (void)state;
    assert_string_equal(apply(NULL, &plain39, "(01)09506000134352(21)A1B2C3"), "A1B2C3");
    assert_string_equal(apply(NULL, &plain39, "(7240)ABC"),
                        "refused: a GS1 label with an element this kiosk does not read");
}

static void test_gs1_element_given_twice_is_refused(void **state)
{
    (void)state;
    assert_string_equal(apply("]C1", &plain39, "\x1d" "21104700\x1d" "21104233"),
                        "refused: a GS1 label gives one element twice");
}

static void test_gs1_asset_identifier_wins_over_serial(void **state)
{
    struct dk_symbol sym = symbology_identify("]C1");
    const char *text = "8004950600013ASSET42\x1d" "21SN1";
    enum dk_symbol_text what;
    char out[64], why[128];

    (void)state;
    assert_true(symbology_apply(&sym, &plain39, text, strlen(text), out, sizeof(out), &what,
                                why, sizeof(why)));
    assert_string_equal(out, "950600013ASSET42");
    assert_int_equal(what, DK_SYMTEXT_ASSET_ID);
}

static void test_gs1_sscc_check_digit_verified(void **state)
{
    (void)state;
    /* 106141411234567897 is a valid SSCC; the last digit changed is not. */
    assert_string_equal(apply("]C1", &plain39, "00106141411234567897\x1d" "21S1"), "S1");
    assert_string_equal(apply("]C1", &plain39, "00106141411234567898\x1d" "21S1"),
                        "refused: a GS1 check digit does not match (a damaged or misread "
                        "label)");
}

static void test_group_separator_outside_gs1_is_refused(void **state)
{
    (void)state;
    assert_string_equal(apply("]Q1", &plain39, "AB\x1d" "CD"),
                        "refused: a group separator outside a GS1 code");
}

static void test_code39_check_character_verified_and_stripped(void **state)
{
    const struct dk_code39_opts check = {true, false};

    (void)state;
    /* C=12 O=24 D=13 E=14 3=3 9=9: 75 mod 43 = 32, which is W. */
    assert_string_equal(apply("CODE-39", &check, "CODE39W"), "CODE39");
    assert_string_equal(apply("CODE-39", &check, "CODE39X"),
                        "refused: the Code 39 check character does not match (a damaged or "
                        "misread label)");
    assert_string_equal(apply("CODE-39", &plain39, "CODE39W"), "CODE39W");
}

static void test_code39_aim_modifier_overrides_config(void **state)
{
    const struct dk_code39_opts check = {true, true};

    (void)state;
    assert_string_equal(apply("]A1", &plain39, "CODE39W"), "CODE39");
    assert_string_equal(apply("]A3", &plain39, "CODE39"), "CODE39");
    /* ]A0: the reader checked nothing, so the config's word counts. */
    assert_string_equal(apply("]A0", &check, "CODE39W"), "CODE39");
    assert_string_equal(apply("]A0", &plain39, "CODE39W"), "CODE39W");
    /* ]A4: Full ASCII already decoded by the reader, so "+A" stays as sent;
     * the check (A=10, +=41, A=10: 61 mod 43 = 18, I) is still ours. */
    assert_string_equal(apply("]A4", &check, "A+AI"), "A+A");
}

static void test_code39_full_ascii_pairs_decoded(void **state)
{
    const struct dk_code39_opts full = {false, true};

    (void)state;
    assert_string_equal(apply("CODE-39", &full, "A+B/A%V/Z%W"), "Ab!@:`");
    assert_string_equal(apply("CODE-39", &full, "AB+"),
                        "refused: not a valid Full ASCII Code 39 code");
}

static void test_ean_upc_check_digits(void **state)
{
    (void)state;
    assert_string_equal(apply("]E0", &plain39, "4006381333931"), "4006381333931");
    assert_string_equal(apply("]E0", &plain39, "4006381333932"),
                        "refused: the check digit does not match (a damaged or misread "
                        "label)");
    /* UPC-A keeps its leading zero. */
    assert_string_equal(apply("UPC-A", &plain39, "036000291452"), "036000291452");
    assert_string_equal(apply("]E4", &plain39, "96385074"), "96385074");
}

static void test_upce_expands_to_upca(void **state)
{
    char upca[13];

    (void)state;
    assert_true(symbology_upce_to_upca("01234565", 8, upca));
    assert_string_equal(upca, "012345000065");
    assert_true(symbology_upce_to_upca("04252614", 8, upca));
    assert_string_equal(upca, "042100005264");
    assert_false(symbology_upce_to_upca("21234565", 8, upca));
    assert_string_equal(apply("UPC-E", &plain39, "01234565"), "012345000065");
    assert_string_equal(apply("UPC-E", &plain39, "01234566"),
                        "refused: the check digit does not match (a damaged or misread "
                        "label)");
}

static void test_scan_keeps_a_space_that_is_a_code39_check(void **state)
{
    struct dk_scan_rules rules;
    struct dk_config cfg;
    struct dk_error err = {{0}};
    struct dk_scan s;

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(scan_rules_init(&rules, &cfg, &err), 0);
    /* 9+9+9+9+2+0 = 38, the space. */
    scan_classify_from(&rules, "]A1999920 \r", 11, NULL, &s);
    assert_int_equal(s.kind, DK_SCAN_ASSET_TAG);
    assert_string_equal(s.text, "999920");
    scan_rules_free(&rules);
}

static void test_scan_classify_uses_symbology_from_scanner(void **state)
{
    struct dk_scan_rules rules;
    struct dk_config cfg;
    struct dk_error err = {{0}};
    struct dk_scan s;
    const char *gs1 = "0109506000134352\x1d" "215CD1234XYZ";

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(scan_rules_init(&rules, &cfg, &err), 0);
    scan_classify_from(&rules, gs1, strlen(gs1), "]C1", &s);
    assert_int_equal(s.kind, DK_SCAN_SERIAL);
    assert_string_equal(s.text, "5CD1234XYZ");
    /* A GS1 serial that looks like an asset tag, a badge or DONE is still
     * only a serial. */
    scan_classify_from(&rules, "]C121104233", 11, NULL, &s);
    assert_int_equal(s.kind, DK_SCAN_SERIAL);
    scan_classify_from(&rules, "]C121DONE", 9, NULL, &s);
    assert_int_equal(s.kind, DK_SCAN_SERIAL);
    scan_classify_from(&rules, "(21)S100001", 11, NULL, &s);
    assert_int_equal(s.kind, DK_SCAN_SERIAL);
    scan_classify_from(&rules, "]E04006381333932", 16, NULL, &s);
    assert_int_equal(s.kind, DK_SCAN_INVALID);
    scan_rules_free(&rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbology_identifies_aim_and_decoder_names),
        cmocka_unit_test(test_gs1_serial_becomes_the_text),
        cmocka_unit_test(test_gs1_gtin_alone_is_refused),
        cmocka_unit_test(test_gs1_gtin_with_bad_check_digit_is_refused),
        cmocka_unit_test(test_gs1_printed_form_is_read),
        cmocka_unit_test(test_gs1_element_given_twice_is_refused),
        cmocka_unit_test(test_gs1_asset_identifier_wins_over_serial),
        cmocka_unit_test(test_gs1_sscc_check_digit_verified),
        cmocka_unit_test(test_group_separator_outside_gs1_is_refused),
        cmocka_unit_test(test_code39_check_character_verified_and_stripped),
        cmocka_unit_test(test_code39_aim_modifier_overrides_config),
        cmocka_unit_test(test_code39_full_ascii_pairs_decoded),
        cmocka_unit_test(test_ean_upc_check_digits),
        cmocka_unit_test(test_upce_expands_to_upca),
        cmocka_unit_test(test_scan_keeps_a_space_that_is_a_code39_check),
        cmocka_unit_test(test_scan_classify_uses_symbology_from_scanner),
    };

    return cmocka_run_group_tests_name("symbology", tests, NULL, NULL);
}
