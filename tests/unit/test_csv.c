/* The RFC 4180 reader, on inputs held in memory.  Each test states the
 * exact fields and line numbers it expects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct dk_csv *open_text(const char *text, size_t len,
                                const struct dk_csv_limits *limits)
{
    struct dk_csv *csv = NULL;
    struct dk_error err = {{0}};

    assert_int_equal(csv_open_memory(text, len, "t.csv", limits, &csv, &err), 0);
    return csv;
}

static struct dk_csv *open_str(const char *text)
{
    return open_text(text, strlen(text), NULL);
}

static void expect_record(struct dk_csv *csv, long line, size_t n, ...)
{
    struct dk_csv_record rec;
    struct dk_error err = {{0}};
    va_list ap;

    assert_int_equal(csv_next(csv, &rec, &err), 1);
    assert_int_equal(rec.line, line);
    assert_int_equal(rec.n_fields, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rec.fields[i], va_arg(ap, const char *));
    va_end(ap);
}

static void expect_end(struct dk_csv *csv)
{
    struct dk_csv_record rec;
    struct dk_error err = {{0}};

    assert_int_equal(csv_next(csv, &rec, &err), 0);
}

static void expect_error(struct dk_csv *csv, const char *msg)
{
    struct dk_csv_record rec;
    struct dk_error err = {{0}};
    int rc;

    while ((rc = csv_next(csv, &rec, &err)) == 1)
        ;
    assert_int_equal(rc, DK_EINPUT);
    assert_string_equal(err.msg, msg);
}

static void test_csv_plain_fields(void **state)
{
    struct dk_csv *csv = open_str("a,b,c\n1,2,3\n");

    (void)state;
    expect_record(csv, 1, 3, "a", "b", "c");
    expect_record(csv, 2, 3, "1", "2", "3");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_empty_fields(void **state)
{
    struct dk_csv *csv = open_str(",x,,\n");

    (void)state;
    expect_record(csv, 1, 4, "", "x", "", "");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_quoted_comma(void **state)
{
    struct dk_csv *csv = open_str("tag,model\n100001,\"ProBook 440, G9\"\n");

    (void)state;
    expect_record(csv, 1, 2, "tag", "model");
    expect_record(csv, 2, 2, "100001", "ProBook 440, G9");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_doubled_quote(void **state)
{
    struct dk_csv *csv = open_str("\"14\"\" screen\",\"\"\"\"\n");

    (void)state;
    expect_record(csv, 1, 2, "14\" screen", "\"");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_quoted_newline(void **state)
{
    struct dk_csv *csv = open_str("a,\"line one\nline two\"\nb,c\n");

    (void)state;
    expect_record(csv, 1, 2, "a", "line one\nline two");
    expect_record(csv, 3, 2, "b", "c");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_crlf_record_ends(void **state)
{
    struct dk_csv *csv = open_str("a,b\r\n1,\"x\r\ny\"\r\n2,3\r\n");

    (void)state;
    expect_record(csv, 1, 2, "a", "b");
    expect_record(csv, 2, 2, "1", "x\r\ny");
    expect_record(csv, 4, 2, "2", "3");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_bom_is_skipped(void **state)
{
    struct dk_csv *csv = open_str("\xEF\xBB\xBF"
                                  "Asset Tag,Serial\n100001,X1\n");

    (void)state;
    expect_record(csv, 1, 2, "Asset Tag", "Serial");
    expect_record(csv, 2, 2, "100001", "X1");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_last_record_without_newline(void **state)
{
    struct dk_csv *csv = open_str("a,b\n1,\"2\"");

    (void)state;
    expect_record(csv, 1, 2, "a", "b");
    expect_record(csv, 2, 2, "1", "2");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_empty_lines_are_skipped_and_counted(void **state)
{
    struct dk_csv *csv = open_str("\na\r\n\r\n\nb\n\n");

    (void)state;
    expect_record(csv, 2, 1, "a");
    expect_record(csv, 5, 1, "b");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_empty_input_has_no_records(void **state)
{
    struct dk_csv *csv = open_str("\xEF\xBB\xBF");

    (void)state;
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_accepts_multibyte_utf8(void **state)
{
    struct dk_csv *csv = open_str("Nguyễn Thị Hương,Zoë,😀\n");

    (void)state;
    expect_record(csv, 1, 3, "Nguyễn Thị Hương", "Zoë", "😀");
    expect_end(csv);
    csv_close(csv);
}

static void test_csv_rejects_unclosed_quote_naming_opening_line(void **state)
{
    struct dk_csv *csv = open_str("a,b\n1,2\n3,\"open\nmore\nstill open\n");

    (void)state;
    expect_error(csv, "t.csv:3: unclosed quote in field 2 (opened here)");
    csv_close(csv);
}

static void test_csv_rejects_stray_quote_in_unquoted_field(void **state)
{
    struct dk_csv *csv = open_str("a,b\nx,14\" screen\n");

    (void)state;
    expect_error(csv, "t.csv:2: stray quote in unquoted field 2 (quote the field, double its "
                      "quotes)");
    csv_close(csv);
}

static void test_csv_rejects_text_after_closing_quote(void **state)
{
    struct dk_csv *csv = open_str("a,b\n\"x\"y,z\n");

    (void)state;
    expect_error(csv, "t.csv:2: text after the closing quote of field 1");
    csv_close(csv);
}

static void test_csv_rejects_invalid_utf8_naming_line(void **state)
{
    struct dk_csv *csv = open_str("make\nAcer\nAc\xE9r\n");

    (void)state;
    expect_error(csv, "t.csv:3: invalid UTF-8 (byte 0xE9)");
    csv_close(csv);
}

static void test_csv_rejects_invalid_utf8_inside_quoted_newline(void **state)
{
    struct dk_csv *csv = open_str("\"one\ntwo \xFF\"\n");

    (void)state;
    expect_error(csv, "t.csv:2: invalid UTF-8 (byte 0xFF)");
    csv_close(csv);
}

static void test_csv_rejects_overlong_utf8(void **state)
{
    /* C0 AF is an overlong '/', a classic path-traversal disguise. */
    struct dk_csv *csv = open_str("a\xC0\xAF\n");

    (void)state;
    expect_error(csv, "t.csv:1: invalid UTF-8 (byte 0xC0)");
    csv_close(csv);
}

static void test_csv_rejects_utf8_surrogate(void **state)
{
    struct dk_csv *csv = open_str("\xED\xA0\x80\n");

    (void)state;
    expect_error(csv, "t.csv:1: invalid UTF-8 (byte 0xED)");
    csv_close(csv);
}

static void test_csv_rejects_utf8_cut_at_end(void **state)
{
    struct dk_csv *csv = open_str("a\nb\xE2\x82");

    (void)state;
    expect_error(csv, "t.csv:2: invalid UTF-8: the file ends inside a character");
    csv_close(csv);
}

static void test_csv_rejects_nul_byte(void **state)
{
    static const char text[] = "a,b\nc,d\0e\n";
    struct dk_csv *csv = open_text(text, sizeof(text) - 1, NULL);

    (void)state;
    expect_error(csv, "t.csv:2: NUL byte; the file is not UTF-8 text");
    csv_close(csv);
}

static void test_csv_rejects_utf16(void **state)
{
    static const char text[] = "\xFF\xFE"
                               "a\0,\0b\0";
    struct dk_csv *csv = NULL;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(csv_open_memory(text, sizeof(text) - 1, "t.csv", NULL, &csv, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "t.csv:1: file is UTF-16 (byte order mark FF FE); save it as "
                                 "CSV UTF-8");
    assert_null(csv);
}

static void test_csv_rejects_bare_cr(void **state)
{
    struct dk_csv *csv = open_str("a,b\rc,d\n");

    (void)state;
    expect_error(csv, "t.csv:1: carriage return without a line feed after it");
    csv_close(csv);
}

static void test_csv_rejects_field_over_limit(void **state)
{
    static const struct dk_csv_limits limits = {.max_field = 8};
    static const char text[] = "12345678,\"123456789\"\n";
    struct dk_csv *csv = open_text(text, sizeof(text) - 1, &limits);

    (void)state;
    expect_error(csv, "t.csv:1: field 2 is longer than 8 bytes");
    csv_close(csv);
}

static void test_csv_accepts_field_at_limit(void **state)
{
    static const struct dk_csv_limits limits = {.max_field = 8};
    static const char text[] = "12345678\n";
    struct dk_csv *csv = open_text(text, sizeof(text) - 1, &limits);

    (void)state;
    expect_record(csv, 1, 1, "12345678");
    csv_close(csv);
}

static void test_csv_rejects_too_many_fields(void **state)
{
    static const struct dk_csv_limits limits = {.max_fields = 3};
    static const char text[] = "a,b,c\nd,e,f,g\n";
    struct dk_csv *csv = open_text(text, sizeof(text) - 1, &limits);

    (void)state;
    expect_record(csv, 1, 3, "a", "b", "c");
    expect_error(csv, "t.csv:2: more than 3 fields in one record");
    csv_close(csv);
}

static void test_csv_rejects_input_over_size_limit(void **state)
{
    static const struct dk_csv_limits limits = {.max_bytes = 10};
    static const char text[] = "0123456789A";
    struct dk_csv *csv = NULL;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(csv_open_memory(text, sizeof(text) - 1, "t.csv", &limits, &csv, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "t.csv: file is larger than 10 bytes; split it");
}

static void test_csv_open_rejects_file_over_size_limit(void **state)
{
    static const struct dk_csv_limits limits = {.max_bytes = 10};
    char path[] = "/tmp/dk-csv-XXXXXX";
    char msg[128];
    struct dk_csv *csv = NULL;
    struct dk_error err = {{0}};
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789A", 11), 11);
    close(fd);
    assert_int_equal(csv_open(path, &limits, &csv, &err), DK_EINPUT);
    snprintf(msg, sizeof(msg), "%s: file is larger than 10 bytes; split it", path);
    assert_string_equal(err.msg, msg);
    unlink(path);
}

static void test_csv_open_reads_file(void **state)
{
    char path[] = "/tmp/dk-csv-XXXXXX";
    struct dk_csv *csv = NULL;
    struct dk_error err = {{0}};
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a,b\n1,2\n", 8), 8);
    close(fd);
    assert_int_equal(csv_open(path, NULL, &csv, &err), 0);
    assert_string_equal(csv_name(csv), path);
    expect_record(csv, 1, 2, "a", "b");
    expect_record(csv, 2, 2, "1", "2");
    expect_end(csv);
    csv_close(csv);
    unlink(path);
}

static void test_csv_open_missing_file_is_enoent(void **state)
{
    struct dk_csv *csv = NULL;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(csv_open("/nonexistent/dk.csv", NULL, &csv, &err), -ENOENT);
    assert_string_equal(err.msg, "cannot open /nonexistent/dk.csv: No such file or directory");
}

static void test_csv_stays_failed_after_error(void **state)
{
    struct dk_csv *csv = open_str("a\"b\nc\n");
    struct dk_csv_record rec;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(csv_next(csv, &rec, &err), DK_EINPUT);
    assert_int_equal(csv_next(csv, &rec, &err), DK_EINPUT);
    assert_string_equal(err.msg, "t.csv: reading stopped at an earlier error");
    csv_close(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_plain_fields),
        cmocka_unit_test(test_csv_empty_fields),
        cmocka_unit_test(test_csv_quoted_comma),
        cmocka_unit_test(test_csv_doubled_quote),
        cmocka_unit_test(test_csv_quoted_newline),
        cmocka_unit_test(test_csv_crlf_record_ends),
        cmocka_unit_test(test_csv_bom_is_skipped),
        cmocka_unit_test(test_csv_last_record_without_newline),
        cmocka_unit_test(test_csv_empty_lines_are_skipped_and_counted),
        cmocka_unit_test(test_csv_empty_input_has_no_records),
        cmocka_unit_test(test_csv_accepts_multibyte_utf8),
        cmocka_unit_test(test_csv_rejects_unclosed_quote_naming_opening_line),
        cmocka_unit_test(test_csv_rejects_stray_quote_in_unquoted_field),
        cmocka_unit_test(test_csv_rejects_text_after_closing_quote),
        cmocka_unit_test(test_csv_rejects_invalid_utf8_naming_line),
        cmocka_unit_test(test_csv_rejects_invalid_utf8_inside_quoted_newline),
        cmocka_unit_test(test_csv_rejects_overlong_utf8),
        cmocka_unit_test(test_csv_rejects_utf8_surrogate),
        cmocka_unit_test(test_csv_rejects_utf8_cut_at_end),
        cmocka_unit_test(test_csv_rejects_nul_byte),
        cmocka_unit_test(test_csv_rejects_utf16),
        cmocka_unit_test(test_csv_rejects_bare_cr),
        cmocka_unit_test(test_csv_rejects_field_over_limit),
        cmocka_unit_test(test_csv_accepts_field_at_limit),
        cmocka_unit_test(test_csv_rejects_too_many_fields),
        cmocka_unit_test(test_csv_rejects_input_over_size_limit),
        cmocka_unit_test(test_csv_open_rejects_file_over_size_limit),
        cmocka_unit_test(test_csv_open_reads_file),
        cmocka_unit_test(test_csv_open_missing_file_is_enoent),
        cmocka_unit_test(test_csv_stays_failed_after_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
