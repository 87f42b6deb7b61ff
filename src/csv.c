#include "csv.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_NAME_MAX 1024

struct dk_csv {
    char name[CSV_NAME_MAX];
    struct dk_csv_limits lim;
    char *owned; /* the input when read from a file, else NULL */
    const unsigned char *data;
    size_t len;
    size_t pos;
    long line; /* physical line of data[pos] */
    int failed;

    /* The current record: fields back to back, each NUL-terminated. */
    char *rec;
    size_t rec_len;
    size_t rec_cap;
    size_t *offs;
    const char **fields;
    size_t n_fields;

    /* UTF-8 decoder state (RFC 3629 section 4): continuation bytes still
     * owed and the range the next one must fall in, which is narrower than
     * 80..BF right after E0, ED, F0 and F4 so that overlong forms,
     * surrogates and values past U+10FFFF are refused. */
    int utf8_need;
    unsigned char utf8_lead; /* first byte of the character, for messages */
    unsigned char utf8_lo;
    unsigned char utf8_hi;
};

enum csv_state {
    CSV_FIELD_START,
    CSV_UNQUOTED,
    CSV_QUOTED,
    CSV_QUOTED_QUOTE, /* a quote seen inside a quoted field */
};

__attribute__((format(printf, 4, 5))) static int csv_fail(struct dk_csv *csv,
                                                          struct dk_error *err, long line,
                                                          const char *fmt, ...)
{
    char reason[DK_ERROR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    csv->failed = DK_EINPUT;
    return dk_error_set(err, DK_EINPUT, "%s:%ld: %s", csv->name, line, reason);
}

static void csv_limits(struct dk_csv_limits *dst, const struct dk_csv_limits *src)
{
    dst->max_bytes = src != NULL && src->max_bytes > 0 ? src->max_bytes : DK_CSV_MAX_BYTES;
    dst->max_field = src != NULL && src->max_field > 0 ? src->max_field : DK_CSV_MAX_FIELD;
    dst->max_fields = src != NULL && src->max_fields > 0 ? src->max_fields : DK_CSV_MAX_FIELDS;
}

static int csv_new(const char *name, const struct dk_csv_limits *limits, struct dk_csv **out,
                   struct dk_error *err)
{
    struct dk_csv *csv = calloc(1, sizeof(*csv));

    if (csv == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    snprintf(csv->name, sizeof(csv->name), "%s", name);
    csv_limits(&csv->lim, limits);
    csv->line = 1;
    csv->offs = calloc(csv->lim.max_fields, sizeof(*csv->offs));
    csv->fields = calloc(csv->lim.max_fields, sizeof(*csv->fields));
    if (csv->offs == NULL || csv->fields == NULL) {
        csv_close(csv);
        return dk_error_set(err, -ENOMEM, "out of memory");
    }
    *out = csv;
    return 0;
}

/* Checks that apply to the input as a whole, then skips a UTF-8 byte order
 * mark, which spreadsheet programs write at the start of "CSV UTF-8". */
static int csv_start(struct dk_csv *csv, struct dk_error *err)
{
    const unsigned char *d = csv->data;

    if (csv->len > csv->lim.max_bytes)
        return dk_error_set(err, DK_EINPUT, "%s: file is larger than %zu bytes; split it",
                            csv->name, csv->lim.max_bytes);
    if (csv->len >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) || (d[0] == 0xFE && d[1] == 0xFF)))
        return csv_fail(csv, err, 1,
                        "file is UTF-16 (byte order mark %02X %02X); save it as CSV UTF-8",
                        d[0], d[1]);
    if (csv->len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
        csv->pos = 3;
    return 0;
}

int csv_open_memory(const char *data, size_t len, const char *name,
                    const struct dk_csv_limits *limits, struct dk_csv **out,
                    struct dk_error *err)
{
    struct dk_csv *csv = NULL;
    int rc = csv_new(name, limits, &csv, err);

    if (rc != 0)
        return rc;
    csv->data = (const unsigned char *)data;
    csv->len = len;
    rc = csv_start(csv, err);
    if (rc != 0) {
        csv_close(csv);
        return rc;
    }
    *out = csv;
    return 0;
}

static int read_all(int fd, const char *name, size_t max, char **buf, size_t *len,
                    struct dk_error *err)
{
    int rc = file_read_fd(fd, max, buf, len);

    if (rc == -EFBIG)
        return dk_error_set(err, DK_EINPUT, "%s: file is larger than %zu bytes; split it", name,
                            max);
    if (rc != 0)
        return dk_error_set(err, rc, "cannot read %s: %s", name, strerror(-rc));
    return 0;
}

int csv_open(const char *path, const struct dk_csv_limits *limits, struct dk_csv **out,
             struct dk_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "stdin" : path;
    struct dk_csv *csv = NULL;
    int fd = -1;
    int rc;

    rc = csv_new(name, limits, &csv, err);
    if (rc != 0)
        return rc;
    fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = dk_error_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    rc = read_all(fd, name, csv->lim.max_bytes, &csv->owned, &csv->len, err);
    if (rc != 0)
        goto out;
    csv->data = (const unsigned char *)csv->owned;
    rc = csv_start(csv, err);
out:
    if (fd >= 0 && !is_stdin)
        close(fd);
    if (rc != 0) {
        csv_close(csv);
        return rc;
    }
    *out = csv;
    return 0;
}

const char *csv_name(const struct dk_csv *csv)
{
    return csv->name;
}

void csv_close(struct dk_csv *csv)
{
    if (csv == NULL)
        return;
    free(csv->owned);
    free(csv->rec);
    free(csv->offs);
    free(csv->fields);
    free(csv);
}

static bool utf8_lead(struct dk_csv *csv, unsigned char b)
{
    csv->utf8_lead = b;
    csv->utf8_lo = 0x80;
    csv->utf8_hi = 0xBF;
    if (b < 0x80)
        csv->utf8_need = 0;
    else if (b >= 0xC2 && b <= 0xDF)
        csv->utf8_need = 1;
    else if (b >= 0xE0 && b <= 0xEF)
        csv->utf8_need = 2;
    else if (b >= 0xF0 && b <= 0xF4)
        csv->utf8_need = 3;
    else
        return false;
    if (b == 0xE0)
        csv->utf8_lo = 0xA0;
    else if (b == 0xED)
        csv->utf8_hi = 0x9F;
    else if (b == 0xF0)
        csv->utf8_lo = 0x90;
    else if (b == 0xF4)
        csv->utf8_hi = 0x8F;
    return true;
}

static bool utf8_step(struct dk_csv *csv, unsigned char b)
{
    if (csv->utf8_need == 0)
        return utf8_lead(csv, b);
    if (b < csv->utf8_lo || b > csv->utf8_hi)
        return false;
    csv->utf8_need--;
    csv->utf8_lo = 0x80;
    csv->utf8_hi = 0xBF;
    return true;
}

/* Take the next byte into *c (-1 at the end of the input), checking it as
 * UTF-8 and counting lines. */
static int next_byte(struct dk_csv *csv, int *c, struct dk_error *err)
{
    unsigned char b;

    if (csv->pos >= csv->len) {
        if (csv->utf8_need > 0)
            return csv_fail(csv, err, csv->line,
                            "invalid UTF-8: the file ends inside a character");
        *c = -1;
        return 0;
    }
    b = csv->data[csv->pos];
    if (b == 0)
        return csv_fail(csv, err, csv->line, "NUL byte; the file is not UTF-8 text");
    /* Name the character's first byte: for a Latin-1 'é' (E9) that is the
     * byte the person can find, not the letter after it. */
    if (!utf8_step(csv, b))
        return csv_fail(csv, err, csv->line, "invalid UTF-8 (byte 0x%02X)",
                        csv->utf8_need > 0 ? csv->utf8_lead : b);
    csv->pos++;
    if (b == '\n')
        csv->line++;
    *c = b;
    return 0;
}

static int begin_field(struct dk_csv *csv, long line, struct dk_error *err)
{
    if (csv->n_fields >= csv->lim.max_fields)
        return csv_fail(csv, err, line, "more than %zu fields in one record",
                        csv->lim.max_fields);
    csv->offs[csv->n_fields] = csv->rec_len;
    return 0;
}

static int put_byte(struct dk_csv *csv, char b)
{
    if (csv->rec_len == csv->rec_cap) {
        size_t ncap = csv->rec_cap == 0 ? 256 : csv->rec_cap * 2;
        char *p = realloc(csv->rec, ncap);

        if (p == NULL)
            return -ENOMEM;
        csv->rec = p;
        csv->rec_cap = ncap;
    }
    csv->rec[csv->rec_len++] = b;
    return 0;
}

static int append(struct dk_csv *csv, int c, long line, struct dk_error *err)
{
    if (csv->rec_len - csv->offs[csv->n_fields] >= csv->lim.max_field)
        return csv_fail(csv, err, line, "field %zu is longer than %zu bytes",
                        csv->n_fields + 1, csv->lim.max_field);
    if (put_byte(csv, (char)c) != 0)
        return dk_error_set(err, -ENOMEM, "out of memory reading %s", csv->name);
    return 0;
}

static int end_field(struct dk_csv *csv, struct dk_error *err)
{
    if (put_byte(csv, '\0') != 0)
        return dk_error_set(err, -ENOMEM, "out of memory reading %s", csv->name);
    csv->n_fields++;
    return 0;
}

/* 1 when c ends the record (LF, CRLF or the end of the input), 0 when it
 * does not, DK_EINPUT for a CR that no LF follows. */
static int record_end(struct dk_csv *csv, int c, long line, struct dk_error *err)
{
    int lf;
    int rc;

    if (c == -1 || c == '\n')
        return 1;
    if (c != '\r')
        return 0;
    if (csv->pos >= csv->len || csv->data[csv->pos] != '\n')
        return csv_fail(csv, err, line, "carriage return without a line feed after it");
    rc = next_byte(csv, &lf, err);
    return rc != 0 ? rc : 1;
}

/* A comma: finish the current field and start the next. */
static int next_field(struct dk_csv *csv, enum csv_state *st, long line, struct dk_error *err)
{
    int rc = end_field(csv, err);

    if (rc == 0)
        rc = begin_field(csv, line, err);
    *st = CSV_FIELD_START;
    return rc;
}

/* Between fields: a quote opens a quoted field, a comma or a line end
 * finishes the (empty) field; anything else starts an unquoted field. */
static int on_unquoted(struct dk_csv *csv, enum csv_state *st, int c, long line,
                       struct dk_error *err)
{
    int rc;

    if (c == '"' && *st == CSV_FIELD_START) {
        *st = CSV_QUOTED;
        return 0;
    }
    if (c == '"')
        return csv_fail(csv, err, line,
                        "stray quote in unquoted field %zu (quote the field, double its quotes)",
                        csv->n_fields + 1);
    if (c == ',')
        return next_field(csv, st, line, err);
    rc = record_end(csv, c, line, err);
    if (rc != 0)
        return rc;
    *st = CSV_UNQUOTED;
    return append(csv, c, line, err);
}

/* After a quote inside a quoted field: a second quote is a literal quote
 * (RFC 4180 section 2, rule 7); otherwise the field has ended and only a
 * comma or a line end may follow. */
static int on_quote_in_quoted(struct dk_csv *csv, enum csv_state *st, int c, long line,
                              struct dk_error *err)
{
    int rc;

    if (c == '"') {
        *st = CSV_QUOTED;
        return append(csv, c, line, err);
    }
    if (c == ',')
        return next_field(csv, st, line, err);
    rc = record_end(csv, c, line, err);
    if (rc == 0)
        return csv_fail(csv, err, line, "text after the closing quote of field %zu",
                        csv->n_fields + 1);
    return rc;
}

/* Parse one record from the current position.  0 when it is complete. */
static int parse_record(struct dk_csv *csv, struct dk_error *err)
{
    enum csv_state st = CSV_FIELD_START;
    long quote_line = csv->line;
    int rc = begin_field(csv, csv->line, err);

    while (rc == 0) {
        long line = csv->line;
        int c;

        rc = next_byte(csv, &c, err);
        if (rc != 0)
            break;
        switch (st) {
        case CSV_FIELD_START:
            quote_line = line;
            /* fall through */
        case CSV_UNQUOTED:
            rc = on_unquoted(csv, &st, c, line, err);
            break;
        case CSV_QUOTED:
            if (c == -1)
                return csv_fail(csv, err, quote_line,
                                "unclosed quote in field %zu (opened here)",
                                csv->n_fields + 1);
            if (c == '"')
                st = CSV_QUOTED_QUOTE;
            else
                rc = append(csv, c, line, err);
            break;
        case CSV_QUOTED_QUOTE:
            rc = on_quote_in_quoted(csv, &st, c, line, err);
            break;
        }
    }
    if (rc == 1)
        rc = end_field(csv, err);
    return rc;
}

/* Skip empty lines (LF or CRLF alone), which exports leave at the end. */
static void skip_empty_lines(struct dk_csv *csv)
{
    const unsigned char *d = csv->data;

    for (;;) {
        if (csv->pos < csv->len && d[csv->pos] == '\n') {
            csv->pos++;
        } else if (csv->pos + 1 < csv->len && d[csv->pos] == '\r' &&
                   d[csv->pos + 1] == '\n') {
            csv->pos += 2;
        } else {
            return;
        }
        csv->line++;
    }
}

int csv_next(struct dk_csv *csv, struct dk_csv_record *rec, struct dk_error *err)
{
    int rc;

    if (csv->failed != 0)
        return dk_error_set(err, csv->failed, "%s: reading stopped at an earlier error",
                            csv->name);
    csv->rec_len = 0;
    csv->n_fields = 0;
    skip_empty_lines(csv);
    if (csv->pos >= csv->len)
        return 0;

    rec->line = csv->line;
    rc = parse_record(csv, err);
    if (rc != 0) {
        csv->failed = rc;
        return rc;
    }

    for (size_t i = 0; i < csv->n_fields; i++)
        csv->fields[i] = csv->rec + csv->offs[i];
    rec->n_fields = csv->n_fields;
    rec->fields = csv->fields;
    return 1;
}

void csv_write_field(FILE *out, const char *s, size_t len)
{
    bool quote = false;

    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (quote)
        fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    if (quote)
        fputc('"', out);
}
