/* A small RFC 4180 CSV reader.
 *
 * What it accepts (RFC 4180 section 2, with the leniencies real exports
 * need):
 *   - fields separated by ',', records ended by CRLF or LF (a bare CR outside
 *     quotes is refused: nothing we import comes from classic Mac OS, and
 *     guessing would shift every line number after it);
 *   - quoted fields that hold commas, doubled quotes ("") and line breaks;
 *   - UTF-8, with or without a byte order mark; invalid UTF-8 (overlong
 *     forms, surrogates, code points past U+10FFFF) and NUL bytes are refused;
 *   - a last record without a line break; empty lines are skipped.
 *
 * What it refuses, each with "NAME:LINE: reason" in the caller's dk_error:
 * an unclosed quote (LINE is where the quote opened), a quote inside an
 * unquoted field, text after a closing quote, invalid UTF-8, a field or a
 * record past the limits below, and a file past the size limit.
 *
 * The whole input is read into memory before parsing, so that a caller that
 * parses inside a database transaction never holds the write lock while
 * waiting on a slow pipe.  The size limit bounds that memory. */
#ifndef DK_CSV_H
#define DK_CSV_H

#include "error.h"

#include <stddef.h>
#include <stdio.h>

#define DK_CSV_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define DK_CSV_MAX_FIELD ((size_t)16 * 1024)
#define DK_CSV_MAX_FIELDS ((size_t)512)

/* Limits for one reader; zero members take the DK_CSV_MAX_... defaults. */
struct dk_csv_limits {
    size_t max_bytes;  /* whole input, BOM included */
    size_t max_field;  /* one field's bytes after unquoting */
    size_t max_fields; /* fields in one record */
};

struct dk_csv; /* opaque */

/* One record.  The strings belong to the reader and stay valid until the next
 * csv_next or csv_close.  Fields are NUL-terminated and hold no NUL byte. */
struct dk_csv_record {
    long line; /* physical line (1-based) where the record starts */
    size_t n_fields;
    const char *const *fields;
};

/* Read the file at path ("-" reads stdin, named "stdin" in messages) into a
 * new reader.  limits may be NULL.  Returns 0 with *out the caller's to
 * csv_close, -errno when the file cannot be read (reason in err), or
 * DK_EINPUT when it is larger than the limit. */
int csv_open(const char *path, const struct dk_csv_limits *limits, struct dk_csv **out,
             struct dk_error *err);

/* A reader over len bytes at data, which the caller keeps alive and
 * unchanged until csv_close.  name is used in messages.  0, -ENOMEM or
 * DK_EINPUT (too large). */
int csv_open_memory(const char *data, size_t len, const char *name,
                    const struct dk_csv_limits *limits, struct dk_csv **out,
                    struct dk_error *err);

/* Parse the next record into *rec.  Returns 1 for a record, 0 at the end of
 * the input, DK_EINPUT with "NAME:LINE: reason" in err for malformed input
 * (the reader then stays at the error), or -ENOMEM. */
int csv_next(struct dk_csv *csv, struct dk_csv_record *rec, struct dk_error *err);

/* The name used in messages: the path, or "stdin". */
const char *csv_name(const struct dk_csv *csv);

/* Free the reader; accepts NULL. */
void csv_close(struct dk_csv *csv);

/* Write len bytes of s to out as one RFC 4180 field (section 2, rules 6
 * and 7): quoted, with its quotes doubled, when it holds a comma, a quote
 * or a line break; as it is otherwise.  The caller writes the separators
 * and line ends.  Cells are written exactly, so a cell beginning with '='
 * stays a formula to a spreadsheet: these files are for programs and for
 * records that must match byte for byte. */
void csv_write_field(FILE *out, const char *s, size_t len);

#endif
