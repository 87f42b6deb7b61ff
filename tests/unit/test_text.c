/* text_check, text_is_clean and text_shown: the one rule for outside text
 * (config values, scans, imports) and the mailer's header check.  Every
 * refused code point is written out as its UTF-8 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "text.h"

#include <string.h>

struct refusal {
    const char *text;
    const char *why;
};

/* Each text is refused with exactly its why, and text_is_clean agrees. */
static void assert_refused(const struct refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char why[DK_TEXT_WHY_MAX];

        memset(why, 0, sizeof(why));
        if (text_check(cases[i].text, strlen(cases[i].text), why, sizeof(why)))
            fail_msg("case %zu was accepted", i);
        assert_string_equal(why, cases[i].why);
        assert_false(text_is_clean(cases[i].text, strlen(cases[i].text)));
    }
}

static void assert_accepted(const char *const *texts)
{
    for (size_t i = 0; texts[i] != NULL; i++) {
        char why[DK_TEXT_WHY_MAX] = "untouched";

        if (!text_check(texts[i], strlen(texts[i]), why, sizeof(why)))
            fail_msg("%s refused: %s", texts[i], why);
        assert_string_equal(why, "untouched");
        assert_true(text_is_clean(texts[i], strlen(texts[i])));
    }
}

static void test_text_refuses_c0_controls_and_del(void **state)
{
    static const struct refusal cases[] = {
        {"Ann\tLee", "a control character (a tab or line break)"},
        {"Ann\nLee", "a control character (a tab or line break)"},
        {"Ann\rLee", "a control character (a tab or line break)"},
        {"Ann\x01Lee", "a control character (U+0001)"},
        {"Ann\x1b[2JLee", "a control character (U+001B)"},
        {"Ann\x1fLee", "a control character (U+001F)"},
        {"Ann\x7fLee", "a control character (U+007F)"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_refuses_nul_inside_the_length(void **state)
{
    char why[DK_TEXT_WHY_MAX];

    (void)state;
    assert_false(text_check("Ann\0Lee", 7, why, sizeof(why)));
    assert_string_equal(why, "a control character (U+0000)");
    assert_false(text_is_clean("Ann\0Lee", 7));
}

static void test_text_refuses_c1_controls(void **state)
{
    static const struct refusal cases[] = {
        {"Ann\xc2\x80Lee", "a C1 control character (U+0080)"},
        {"Ann\xc2\x85Lee", "a C1 control character (U+0085)"},
        {"Ann\xc2\x8dLee", "a C1 control character (U+008D)"},
        {"Ann\xc2\x9b" "2JLee", "a C1 control character (U+009B)"},
        {"Ann\xc2\x9fLee", "a C1 control character (U+009F)"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_refuses_line_and_paragraph_separators(void **state)
{
    static const struct refusal cases[] = {
        {"Ann\xe2\x80\xa8Lee", "a line or paragraph separator (U+2028)"},
        {"Ann\xe2\x80\xa9Lee", "a line or paragraph separator (U+2029)"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_refuses_bidirectional_embeddings_and_overrides(void **state)
{
    static const struct refusal cases[] = {
        {"Ann\xe2\x80\xaaLee", "a bidirectional text control (U+202A)"},
        {"Ann\xe2\x80\xabLee", "a bidirectional text control (U+202B)"},
        {"Ann\xe2\x80\xacLee", "a bidirectional text control (U+202C)"},
        {"Ann\xe2\x80\xadLee", "a bidirectional text control (U+202D)"},
        {"Ann\xe2\x80\xaeLee", "a bidirectional text control (U+202E)"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_refuses_bidirectional_isolates(void **state)
{
    static const struct refusal cases[] = {
        {"Ann\xe2\x81\xa6Lee", "a bidirectional text control (U+2066)"},
        {"Ann\xe2\x81\xa7Lee", "a bidirectional text control (U+2067)"},
        {"Ann\xe2\x81\xa8Lee", "a bidirectional text control (U+2068)"},
        {"Ann\xe2\x81\xa9Lee", "a bidirectional text control (U+2069)"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_refuses_bytes_that_are_not_utf8(void **state)
{
    static const struct refusal cases[] = {
        {"Ren\xe9", "bytes that are not UTF-8"},
        {"Ann\xc0\x80Lee", "bytes that are not UTF-8"},
        {"Ann\xed\xa0\x80Lee", "bytes that are not UTF-8"},
        {"Ann\xe2\x80", "bytes that are not UTF-8"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_names_the_first_problem(void **state)
{
    static const struct refusal cases[] = {
        {"A\xe2\x80\xae" "B\xc2\x85" "C", "a bidirectional text control (U+202E)"},
        {"A\xc2\x85" "B\xff", "a C1 control character (U+0085)"},
        {"A\xff" "B\xc2\x85", "bytes that are not UTF-8"},
    };

    (void)state;
    assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_text_accepts_names_in_every_script(void **state)
{
    static const char *const names[] = {
        "محمد عبد الله",
        "שרה לוי",
        "王小明",
        "Nguyễn Thị Hương",
        "Zoë Ålund-Berg",
        "François Müller-Łukasiewicz",
        "Okafor, Daniel",
        "",
        NULL,
    };

    (void)state;
    assert_accepted(names);
}

/* The neighbours of each refused range, and the plain direction marks
 * (U+200E LRM, U+200F RLM, U+061C ALM), which reorder nothing. */
static void test_text_accepts_neighbours_of_refused_ranges(void **state)
{
    static const char *const texts[] = {
        "Ann Lee~",               /* U+0020, U+007E */
        "Ann\xc2\xa0Lee",         /* U+00A0 no-break space */
        "Ann\xe2\x80\xa7Lee",     /* U+2027 hyphenation point */
        "Ann\xe2\x80\xafLee",     /* U+202F narrow no-break space */
        "Ann\xe2\x81\xa5Lee",     /* U+2065 */
        "Ann\xe2\x81\xaaLee",     /* U+206A */
        "\xd7\xa9\xd7\xa8\xd7\x94\xe2\x80\x8f (2)", /* Hebrew, U+200F */
        "Ann\xe2\x80\x8eLee",     /* U+200E */
        "\xd8\xb9\xd9\x84\xd9\x8a\xd8\x9c", /* Arabic, U+061C */
        NULL,
    };

    (void)state;
    assert_accepted(texts);
}

static void test_text_checks_only_len_bytes(void **state)
{
    (void)state;
    assert_true(text_is_clean("Ann\nLee", 3));
    assert_false(text_is_clean("Ann\nLee", 4));
    /* A character cut by len is not UTF-8. */
    assert_false(text_is_clean("Zo\xc3\xab", 3));
}

static void test_text_check_takes_no_reason_buffer(void **state)
{
    (void)state;
    assert_false(text_check("Ann\xc2\x85Lee", 8, NULL, 0));
    assert_true(text_check("Ann Lee", 7, NULL, 0));
}

static void test_text_check_cuts_a_long_reason_to_the_buffer(void **state)
{
    char why[12];

    (void)state;
    assert_false(text_check("Ann\xe2\x80\xaeLee", 9, why, sizeof(why)));
    assert_string_equal(why, "a bidirecti");
}

static void test_text_shown_replaces_what_text_check_refuses(void **state)
{
    char out[64];

    (void)state;
    assert_string_equal(text_shown("A\xc2\x9b" "2J\xe2\x80\xae" "B\xe2\x80\xa8" "C\x01" "D\xff",
                                   60, out, sizeof(out)),
                        "A?2J?B?C?D?");
    assert_string_equal(text_shown("Nguyễn Thị Hương", 60, out, sizeof(out)),
                        "Nguyễn Thị Hương");
}

static void test_text_shown_cuts_between_characters(void **state)
{
    char out[64];
    char small[8];

    (void)state;
    /* "Zoë" is 4 bytes: a cut at 3 would split the ë. */
    assert_string_equal(text_shown("ZoëZoë", 3, out, sizeof(out)), "Zo...");
    assert_string_equal(text_shown("ZoëZoë", 4, out, sizeof(out)), "Zoë...");
    assert_string_equal(text_shown("Zoë", 4, out, sizeof(out)), "Zoë");
    /* 8 bytes leave room for 4 of text, "..." and the NUL. */
    assert_string_equal(text_shown("Ann Lee", 60, small, sizeof(small)), "Ann ...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_refuses_c0_controls_and_del),
        cmocka_unit_test(test_text_refuses_nul_inside_the_length),
        cmocka_unit_test(test_text_refuses_c1_controls),
        cmocka_unit_test(test_text_refuses_line_and_paragraph_separators),
        cmocka_unit_test(test_text_refuses_bidirectional_embeddings_and_overrides),
        cmocka_unit_test(test_text_refuses_bidirectional_isolates),
        cmocka_unit_test(test_text_refuses_bytes_that_are_not_utf8),
        cmocka_unit_test(test_text_names_the_first_problem),
        cmocka_unit_test(test_text_accepts_names_in_every_script),
        cmocka_unit_test(test_text_accepts_neighbours_of_refused_ranges),
        cmocka_unit_test(test_text_checks_only_len_bytes),
        cmocka_unit_test(test_text_check_takes_no_reason_buffer),
        cmocka_unit_test(test_text_check_cuts_a_long_reason_to_the_buffer),
        cmocka_unit_test(test_text_shown_replaces_what_text_check_refuses),
        cmocka_unit_test(test_text_shown_cuts_between_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
