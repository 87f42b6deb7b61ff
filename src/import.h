/* Importing the inventory (assets), the HR staff list, and HR's list of
 * staff who left (leavers) from CSV exports.
 *
 * Files are RFC 4180 CSV: quoted fields may hold commas, quotes and
 * newlines; records end in CRLF or LF; UTF-8 with or without a byte order
 * mark.  Columns are found by header name, ignoring case, spaces, '_' and
 * '-'; built-in mappings cover our own headers, Snipe-IT's asset export and
 * Google Admin's ChromeOS device export.
 *
 * Fields.  Assets: tag (required), serial, imei, type, make, model,
 * purchase_date, auto_update_expiry, assignee, charger_expected, status.
 * Staff: id (required), name (required), email, department, leader_email.
 * Built-in header names, after normalising:
 *   tag       Tag, Asset Tag; Asset ID / Annotated Asset ID as a fallback
 *   serial    Serial, Serial Number, Serial No
 *   type      Type, Device Type, Asset Type: one of laptop, chromebook,
 *             tablet, phone, hotspot, desktop, other (any case).  A column
 *             headed Category (Snipe-IT) is read by keyword instead:
 *             "Chromebooks", "Laptops", "Mobile Phones", "Hotspots"/"MiFi",
 *             "Tablets", "Desktops"; anything else is other.  With no type
 *             column, a Google Admin export (recognised by headers such as
 *             Annotated User or Auto Update Expiration) is all chromebook.
 *   make      Make, Manufacturer       model   Model, Model Name
 *   dates     Purchase Date; Auto Update Expiry/Expiration, AUE
 *   assignee  Assignee, Assigned To, Checked Out To; Annotated User, then
 *             User, as fallbacks for rows where the earlier one is empty
 *   staff     Staff ID, Employee ID, ID; Name, Full Name, Display Name;
 *             Email, Email Address; Department, School/Department, then
 *             School; Leader Email, Supervisor Email, Manager Email
 * Columns no field claims are ignored, and listed once with log_info.
 * Google Admin's Status column (enrollment state) is never read as status.
 *
 * Values.  Leading and trailing spaces are trimmed; a control character
 * (tab, line break) or more than 255 bytes in a value is an error.  Dates
 * become YYYY-MM-DD from YYYY-MM-DD, MM/DD/YYYY or YYYY-MM, where YYYY-MM
 * means the LAST day of that month (Google's auto-update expiration month
 * is the last month a Chromebook receives updates).  IMEIs are 15 digits
 * with a valid Luhn check digit; spaces and '-' between groups are
 * dropped.  Emails need one '@' with text either side and no space or
 * control character.  charger_expected takes yes/no, true/false or 1/0.
 * An assignee holding an email that matches exactly one staff member's
 * email becomes that person's staff id (import staff first).
 *
 * Absent and empty.  A column the file does not have leaves an existing
 * row's value alone (so a Google export does not erase IMEIs from a
 * Snipe-IT import).  An empty cell clears the value (NULL), except type
 * and status, where empty means "not stated": a new row gets other and
 * deployed, an existing row keeps its own.  charger_expected not stated
 * follows the row's type: no for desktop and other, yes for the rest.
 * A row whose cells are all empty is skipped.
 *
 * Leavers: a staff id (ID, Staff ID, Employee ID; or Email, Email Address
 * when the id is empty or absent) and the last day (Last Day, Last Day
 * Worked, Termination Date, Separation Date, Left On).  It only sets
 * staff.left_on of staff already imported; an unknown person stops the
 * import naming file, line and column.  Audited as "import leavers". */
#ifndef DK_IMPORT_H
#define DK_IMPORT_H

#include "store.h"

#include <stddef.h>

enum dk_import_kind {
    DK_IMPORT_ASSETS,
    DK_IMPORT_STAFF,
    DK_IMPORT_LEAVERS, /* HR's list of staff who left: staff id or email, last day */
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
 * audit trail.
 *
 * A tag (or staff id) twice in one file is an error naming both lines.  A
 * --map naming a field makes that field come only from the mapped column;
 * a --map whose column is not in the header, or whose field is unknown, is
 * DK_EINPUT.  The audit row has action "import assets" or "import staff",
 * the file as subject and "N added, N updated, N unchanged" as details;
 * actor NULL is recorded as "cli".  A row is unchanged when every column
 * would keep its value.  result (may be NULL) is filled on success only.
 * The file is limited to DK_CSV_MAX_BYTES (64 MiB). */
int import_csv(struct dk_store *store, enum dk_import_kind kind, const char *path,
               const struct dk_import_map *maps, size_t n_maps, const char *actor,
               struct dk_import_result *result, struct dk_error *err);

#endif
