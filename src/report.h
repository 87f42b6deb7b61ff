/* OIIT's reports over the returns, staff and assets in the store.
 *
 * Each report is a table: aligned columns for people, or RFC 4180 CSV for
 * programs (a header row of the names below, then one row per line; fields
 * with a comma, quote or line break quoted, quotes doubled; lines end in LF
 * as the rest of dropkioskctl's CSV does).  Money is whole dollars and
 * cents: "1234.50" in CSV, "$1,234.50" in tables.
 *
 * Days are the local time zone's (the process's TZ, which the caller sets
 * from the config's [kiosk] timezone); stored times are UTC.  A range
 * (from, until: "YYYY-MM-DD", both inclusive, "" for no bound) picks rows
 * by the day named below for each report.
 *
 *   returns       day,site,returns,with_charger,without_charger
 *                 per local day of the drop and site.  The charger counts
 *                 are the technician's check where one was made, else what
 *                 the person declared at the kiosk.  Range: drop day.
 *   awaiting      dropped,site,tag,type,age_days,overdue
 *                 returns still 'dropped' (not received), oldest first.
 *                 age_days is whole days since the drop; overdue (yes/no)
 *                 when that is overdue_days or more, as `dropkioskctl
 *                 discrepancies` counts it.  type is "unknown" for a tag
 *                 not in the inventory.  Range: drop day.
 *   chargers      type,missing,unit_cost,cost
 *                 missing chargers per asset type, with the type's
 *                 replacement cost from [intake] and a last row "total".
 *                 A charger is missing when the technician found it
 *                 missing, or, not yet checked, when the kiosk flagged it;
 *                 devices that expect no charger never count.  A device not
 *                 in the inventory is type "unknown", with no cost, and is
 *                 left out of the total cost (not of the total count).
 *                 Range: drop day.
 *   dispositions  disposition,count
 *                 dispositioned returns by outcome: reimage, reassign,
 *                 recycle always (0 when none), then any other outcome
 *                 found.  Range: local day of the disposition.
 *   flags         flag,day,site,tag,returned_by,assignee
 *                 one row per flag on a return: not-assignee,
 *                 unknown-asset, walk-in, missing-charger (missing as in
 *                 chargers), in that order, oldest first within each.
 *                 Tables first count each flag, zeros included; in CSV the
 *                 count is the number of rows.  Range: drop day.
 *   leavers       leader_email,staff_id,name,left_on,tag,type
 *                 staff with a last day (import leavers) who are still an
 *                 asset's assignee (by staff id, or by email ignoring case)
 *                 and whose device has not come back under that assignment
 *                 (no return of the tag with them as the assignee).
 *                 Grouped by the leader's email (lower case; staff without
 *                 one last); a table shows each leader once as a heading.
 *                 Range: left_on. */
#ifndef DK_REPORT_H
#define DK_REPORT_H

#include "config.h"
#include "store.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

enum dk_report {
    DK_REPORT_RETURNS,
    DK_REPORT_AWAITING,
    DK_REPORT_CHARGERS,
    DK_REPORT_DISPOSITIONS,
    DK_REPORT_FLAGS,
    DK_REPORT_LEAVERS,
    DK_REPORT_COUNT,
};

struct dk_report_opts {
    char from[11];  /* "YYYY-MM-DD" or "" */
    char until[11]; /* "YYYY-MM-DD" or "" */
    bool csv;
    time_t now;                  /* the moment ages are measured at */
    const struct dk_config *cfg; /* overdue_days and charger_cost_cents */
};

/* The report called name ("returns", ...), or -1. */
int report_find(const char *name);

/* The name of report r. */
const char *report_name(enum dk_report r);

/* true when text is a real calendar day written YYYY-MM-DD. */
bool report_day_ok(const char *text);

/* Write report r to out: a title line and the table, or with opts->csv the
 * CSV alone.  0; DK_EDB with the reason in err; -ENOMEM; -EIO when out
 * cannot be written. */
int report_write(struct dk_store *store, enum dk_report r,
                 const struct dk_report_opts *opts, FILE *out,
                 struct dk_error *err);

#endif
