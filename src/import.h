/* Importing the inventory (assets) and the HR staff list from CSV exports.
 *
 * Files are RFC 4180 CSV: quoted fields may hold commas, quotes and
 * newlines; records end in CRLF or LF; UTF-8 with or without a byte order
 * mark.  Columns are found by header name, ignoring case, spaces, '_' and
 * '-'; built-in mappings cover our own headers, Snipe-IT's asset export and
 * Google Admin's ChromeOS device export. */
#ifndef DK_IMPORT_H
#define DK_IMPORT_H

#include "store.h"

#include <stddef.h>

enum dk_import_kind {
    DK_IMPORT_ASSETS,
    DK_IMPORT_STAFF,
};

/* One --map COLUMN=FIELD override: the CSV header `column` fills `field`
 * (a field name such as "tag", "serial", "assignee"; "-" ignores the
 * column). */
struct dk_import_map {
    const char *column;
    const char *field;
};

struct dk_import_result {
    int added;
    int updated;
    int unchanged;
};

/* Import path ("-" reads stdin) into the store in one transaction, with an
 * audit row.  Any bad row imports nothing and returns DK_EINPUT with
 * "FILE:LINE: column 'X': what is wrong" in err.  -errno when the file
 * cannot be read, DK_EDB on a database failure.  `actor` is recorded in the
 * audit trail. */
int import_csv(struct dk_store *store, enum dk_import_kind kind, const char *path,
               const struct dk_import_map *maps, size_t n_maps, const char *actor,
               struct dk_import_result *result, struct dk_error *err);

#endif
