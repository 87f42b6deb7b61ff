#include "report.h"

#include "csv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A district's whole history is tens of thousands of returns; a million
 * rows means a query gone wrong, and stopping beats exhausting memory. */
#define REPORT_MAX_ROWS ((size_t)1000000)
#define REPORT_MAX_COLS 8

/* How a cell is shown.  Cells hold text as SQLite gives it: a count in
 * decimal, money in cents ("" for none), yes/no as "1" or "0". */
enum col_kind {
    COL_TEXT,
    COL_COUNT,
    COL_MONEY,
    COL_YESNO,
};

struct col {
    const char *csv;  /* CSV header name */
    const char *head; /* table header */
    enum col_kind kind;
};

struct table {
    char title[160];
    const struct col *cols;
    int n_cols;
    int group;               /* column shown as a heading in tables, -1 none */
    const char *group_label; /* printed before the group's value */
    char **cells;            /* n_rows * n_cols, row by row */
    size_t n_rows;
    size_t cap_rows;
};

static const char *const report_names[DK_REPORT_COUNT] = {
    [DK_REPORT_RETURNS] = "returns",
    [DK_REPORT_AWAITING] = "awaiting",
    [DK_REPORT_CHARGERS] = "chargers",
    [DK_REPORT_DISPOSITIONS] = "dispositions",
    [DK_REPORT_FLAGS] = "flags",
    [DK_REPORT_LEAVERS] = "leavers",
};

/* ?1 and ?2 are the range's bounds, NULL when open; DAY is a local day. */
#define IN_RANGE(day)                                                          \
    "(?1 IS NULL OR " day " >= ?1) AND (?2 IS NULL OR " day " <= ?2)"
#define DROP_DAY "date(r.returned_at, 'localtime')"
#define DROP_IN_RANGE IN_RANGE(DROP_DAY)
#define DISPOSED_IN_RANGE IN_RANGE("date(r.dispositioned_at, 'localtime')")
#define LEFT_IN_RANGE IN_RANGE("s.left_on")

/* The technician's check decides when there was one; until then the
 * kiosk's flag (set when a charger was expected and not declared). */
#define CHARGER_MISSING                                                        \
    "(r.charger_verified = 0 OR (r.charger_verified IS NULL AND "              \
    "r.flag_missing_charger = 1)) AND coalesce(a.charger_expected, 1) = 1"

int report_find(const char *name)
{
    for (int r = 0; r < DK_REPORT_COUNT; r++)
        if (strcmp(name, report_names[r]) == 0)
            return r;
    return -1;
}

const char *report_name(enum dk_report r)
{
    return r >= 0 && r < DK_REPORT_COUNT ? report_names[r] : "?";
}

static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

bool report_day_ok(const char *text)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int y, m, d, last;

    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    if (!digits(text, 4, &y) || !digits(text + 5, 2, &m) ||
        !digits(text + 8, 2, &d))
        return false;
    if (y < 1900 || m < 1 || m > 12)
        return false;
    last = days[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        last = 29;
    return d >= 1 && d <= last;
}

/* ---- tables ---- */

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n_rows * (size_t)t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* Append a row of n_cols values (NULL is stored as ""). */
static int table_add(struct table *t, const char *const *vals,
                     struct dk_error *err)
{
    size_t base = t->n_rows * (size_t)t->n_cols;

    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows == 0 ? 64 : t->cap_rows * 2;
        char **cells;

        if (t->n_rows >= REPORT_MAX_ROWS)
            return dk_error_set(err, -ENOMEM, "report %s: more than %zu rows",
                                t->title, REPORT_MAX_ROWS);
        cells = realloc(t->cells, cap * (size_t)t->n_cols * sizeof(*cells));
        if (cells == NULL)
            return dk_error_set(err, -ENOMEM, "out of memory");
        t->cells = cells;
        t->cap_rows = cap;
    }
    for (int c = 0; c < t->n_cols; c++) {
        t->cells[base + (size_t)c] = strdup(vals[c] != NULL ? vals[c] : "");
        if (t->cells[base + (size_t)c] == NULL) {
            for (int k = 0; k < c; k++)
                free(t->cells[base + (size_t)k]);
            return dk_error_set(err, -ENOMEM, "out of memory");
        }
    }
    t->n_rows++;
    return 0;
}

static const char *cell(const struct table *t, size_t row, int col)
{
    return t->cells[row * (size_t)t->n_cols + (size_t)col];
}

static const char *column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s != NULL ? (const char *)s : "";
}

/* ---- money ---- */

/* cents as "1234.50" (CSV) or "$1,234.50" (tables). */
static void money_text(long long cents, bool people, char *buf, size_t size)
{
    char whole[32];
    size_t len, n = 0;

    snprintf(whole, sizeof(whole), "%lld", cents / 100);
    if (!people) {
        snprintf(buf, size, "%s.%02lld", whole, cents % 100);
        return;
    }
    len = strlen(whole);
    buf[n++] = '$';
    for (size_t i = 0; i < len && n + 5 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[n++] = ',';
        buf[n++] = whole[i];
    }
    snprintf(buf + n, size - n, ".%02lld", cents % 100);
}

/* The text of a cell as shown: in tables (people) or in CSV. */
static const char *shown(const struct col *col, const char *raw, bool people,
                         char *buf, size_t size)
{
    switch (col->kind) {
    case COL_MONEY:
        if (raw[0] == '\0')
            return "";
        money_text(strtoll(raw, NULL, 10), people, buf, size);
        return buf;
    case COL_YESNO:
        /* In a table only the marked rows say so, so they stand out. */
        if (raw[0] == '1')
            return "yes";
        return people ? "" : "no";
    case COL_TEXT:
    case COL_COUNT:
        break;
    }
    return raw;
}

/* ---- CSV ---- */


static void csv_write(const struct table *t, FILE *out)
{
    char buf[64];

    for (int c = 0; c < t->n_cols; c++) {
        fputs(c > 0 ? "," : "", out);
        csv_write_field(out, t->cols[c].csv, strlen(t->cols[c].csv));
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->n_rows; r++) {
        for (int c = 0; c < t->n_cols; c++) {
            fputs(c > 0 ? "," : "", out);
            csv_write_field(out, shown(&t->cols[c], cell(t, r, c), false, buf,
                                 sizeof(buf)), strlen(shown(&t->cols[c], cell(t, r, c), false, buf,
                                 sizeof(buf))));
        }
        fputc('\n', out);
    }
}

/* ---- tables for people ---- */

/* Characters, not bytes, so that "Gómez" lines up with "Brennan".  A C0 or
 * C1 control character (a terminal acts on both) counts as the '?' that
 * put_text prints for it. */
static size_t text_width(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static void put_text(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char b = (unsigned char)*s;

        if (b < 0x20 || b == 0x7F) {
            fputc('?', out);
        } else if (b == 0xC2 && (unsigned char)s[1] >= 0x80 &&
                   (unsigned char)s[1] <= 0x9F) {
            fputc('?', out);
            s++;
        } else {
            fputc(b, out);
        }
    }
}

static void put_cell(FILE *out, const char *s, size_t width, bool right,
                     bool last)
{
    size_t pad = width - text_width(s);

    if (right)
        fprintf(out, "%*s", (int)pad, "");
    put_text(out, s);
    if (!right && !last)
        fprintf(out, "%*s", (int)pad, "");
}

static void table_widths(const struct table *t, size_t *width)
{
    char buf[64];

    for (int c = 0; c < t->n_cols; c++) {
        width[c] = text_width(t->cols[c].head);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t w = text_width(
                shown(&t->cols[c], cell(t, r, c), true, buf, sizeof(buf)));

            if (w > width[c])
                width[c] = w;
        }
    }
}

/* The text of column c on row (SIZE_MAX: the header) as a table shows it. */
static const char *line_text(const struct table *t, size_t row, int c,
                             char *buf, size_t size)
{
    if (row == SIZE_MAX)
        return t->cols[c].head;
    return shown(&t->cols[c], cell(t, row, c), true, buf, size);
}

/* One line: the header (row SIZE_MAX) or a row, indented, without the
 * group column, and ending at its last non-empty cell so that no line
 * carries trailing blanks. */
static void table_line(const struct table *t, FILE *out, const size_t *width,
                       size_t row, const char *indent)
{
    char buf[64];
    int last = -1;
    bool first = true;

    for (int c = 0; c < t->n_cols; c++)
        if (c != t->group && line_text(t, row, c, buf, sizeof(buf))[0] != '\0')
            last = c;
    fputs(indent, out);
    for (int c = 0; c <= last; c++) {
        enum col_kind kind = t->cols[c].kind;

        if (c == t->group)
            continue;
        fputs(first ? "" : "  ", out);
        first = false;
        put_cell(out, line_text(t, row, c, buf, sizeof(buf)), width[c],
                 kind == COL_COUNT || kind == COL_MONEY, c == last);
    }
    fputc('\n', out);
}

static void table_print(const struct table *t, FILE *out)
{
    size_t width[REPORT_MAX_COLS];
    const char *indent = t->group >= 0 ? "  " : "";

    if (t->title[0] != '\0')
        fprintf(out, "%s\n", t->title);
    if (t->n_rows == 0) {
        fputs("(none)\n", out);
        return;
    }
    table_widths(t, width);
    for (size_t r = 0; r < t->n_rows; r++) {
        if (t->group >= 0 &&
            (r == 0 ||
             strcmp(cell(t, r, t->group), cell(t, r - 1, t->group)) != 0)) {
            const char *g = cell(t, r, t->group);

            fputs(t->group_label, out);
            put_text(out, g[0] != '\0' ? g : "(none)");
            fputc('\n', out);
            table_line(t, out, width, SIZE_MAX, indent);
        } else if (r == 0) {
            table_line(t, out, width, SIZE_MAX, indent);
        }
        table_line(t, out, width, r, indent);
    }
}

/* ---- queries ---- */

static void bind_common(sqlite3_stmt *st, const struct dk_report_opts *o)
{
    if (o->from[0] != '\0')
        sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
    if (o->until[0] != '\0')
        sqlite3_bind_text(st, 2, o->until, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) >= 3)
        sqlite3_bind_int64(st, 3, (sqlite3_int64)o->now);
}

/* Each row of sql becomes a table row: its first n_cols columns as text,
 * then fix (may be NULL) computes the cells SQL does not give. */
typedef void row_fix(const struct dk_report_opts *o, sqlite3_stmt *st,
                     char bufs[][32], const char **vals);

static int table_fill(struct dk_store *store, struct table *t, const char *sql,
                      const struct dk_report_opts *o, row_fix *fix,
                      struct dk_error *err)
{
    char bufs[REPORT_MAX_COLS][32];
    const char *vals[REPORT_MAX_COLS];
    sqlite3_stmt *st = NULL;
    int step = SQLITE_DONE;
    int rc = store_prepare(store, sql, &st, err);

    if (rc != 0)
        return rc;
    bind_common(st, o);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < t->n_cols; c++)
            vals[c] = c < sqlite3_column_count(st) ? column_text(st, c) : "";
        if (fix != NULL)
            fix(o, st, bufs, vals);
        rc = table_add(t, vals, err);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "database %s: %s", store->path,
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

static void set_title(struct table *t, const struct dk_report_opts *o,
                      const char *what)
{
    if (o->from[0] != '\0' && o->until[0] != '\0')
        snprintf(t->title, sizeof(t->title), "%s, %s to %s", what, o->from,
                 o->until);
    else if (o->from[0] != '\0')
        snprintf(t->title, sizeof(t->title), "%s, from %s", what, o->from);
    else if (o->until[0] != '\0')
        snprintf(t->title, sizeof(t->title), "%s, until %s", what, o->until);
    else
        snprintf(t->title, sizeof(t->title), "%s", what);
}

/* ---- the reports ---- */

static int build_returns(struct dk_store *store, const struct dk_report_opts *o,
                         struct table *t, struct dk_error *err)
{
    static const struct col cols[] = {
        {"day", "DAY", COL_TEXT},
        {"site", "SITE", COL_TEXT},
        {"returns", "RETURNS", COL_COUNT},
        {"with_charger", "WITH CHARGER", COL_COUNT},
        {"without_charger", "WITHOUT", COL_COUNT},
    };
    /* clang-format off */
    static const char sql[] =
        "SELECT " DROP_DAY " AS day, r.site_id, count(*), "
        "sum(coalesce(r.charger_verified, r.charger_declared) = 1), "
        "sum(coalesce(r.charger_verified, r.charger_declared) <> 1) "
        "FROM returns r WHERE " DROP_IN_RANGE " "
        "GROUP BY day, r.site_id ORDER BY day, r.site_id";
    /* clang-format on */

    t->cols = cols;
    t->n_cols = 5;
    set_title(t, o, "Returns per day and site");
    return table_fill(store, t, sql, o, NULL, err);
}

static void fix_awaiting(const struct dk_report_opts *o, sqlite3_stmt *st,
                         char bufs[][32], const char **vals)
{
    (void)bufs;
    vals[5] = sqlite3_column_int64(st, 4) >= o->cfg->overdue_days ? "1" : "0";
}

static int build_awaiting(struct dk_store *store,
                          const struct dk_report_opts *o, struct table *t,
                          struct dk_error *err)
{
    static const struct col cols[] = {
        {"dropped", "DROPPED", COL_TEXT}, {"site", "SITE", COL_TEXT},
        {"tag", "TAG", COL_TEXT},         {"type", "TYPE", COL_TEXT},
        {"age_days", "DAYS", COL_COUNT},  {"overdue", "OVERDUE", COL_YESNO},
    };
    /* clang-format off */
    static const char sql[] =
        "SELECT " DROP_DAY ", r.site_id, r.asset_tag, "
        "coalesce(a.type, 'unknown'), "
        "max(0, (?3 - CAST(strftime('%s', r.returned_at) AS INTEGER)) / 86400) "
        "FROM returns r LEFT JOIN assets a ON a.tag = r.asset_tag "
        "WHERE r.state = 'dropped' AND " DROP_IN_RANGE " "
        "ORDER BY r.returned_at, r.id";
    /* clang-format on */
    char what[96];

    t->cols = cols;
    t->n_cols = 6;
    snprintf(what, sizeof(what), "Devices awaiting intake (overdue at %d days)",
             o->cfg->overdue_days);
    set_title(t, o, what);
    return table_fill(store, t, sql, o, fix_awaiting, err);
}

static void fix_chargers(const struct dk_report_opts *o, sqlite3_stmt *st,
                         char bufs[][32], const char **vals)
{
    int i = config_asset_type_index(column_text(st, 0));
    long long n = sqlite3_column_int64(st, 1);

    if (i < 0) {
        vals[2] = "";
        vals[3] = "";
        return;
    }
    snprintf(bufs[2], 32, "%d", o->cfg->charger_cost_cents[i]);
    snprintf(bufs[3], 32, "%lld", n * o->cfg->charger_cost_cents[i]);
    vals[2] = bufs[2];
    vals[3] = bufs[3];
}

static int add_charger_total(struct table *t, struct dk_error *err)
{
    long long missing = 0, cents = 0;
    char n[32], sum[32];
    const char *vals[4] = {"total", n, "", sum};

    for (size_t r = 0; r < t->n_rows; r++) {
        missing += strtoll(cell(t, r, 1), NULL, 10);
        cents += strtoll(cell(t, r, 3), NULL, 10);
    }
    snprintf(n, sizeof(n), "%lld", missing);
    snprintf(sum, sizeof(sum), "%lld", cents);
    return table_add(t, vals, err);
}

static int build_chargers(struct dk_store *store,
                          const struct dk_report_opts *o, struct table *t,
                          struct dk_error *err)
{
    static const struct col cols[] = {
        {"type", "TYPE", COL_TEXT},
        {"missing", "MISSING", COL_COUNT},
        {"unit_cost", "EACH", COL_MONEY},
        {"cost", "COST", COL_MONEY},
    };
    /* clang-format off */
    static const char sql[] =
        "SELECT coalesce(a.type, 'unknown') AS type, count(*) "
        "FROM returns r LEFT JOIN assets a ON a.tag = r.asset_tag "
        "WHERE " CHARGER_MISSING " AND " DROP_IN_RANGE " "
        "GROUP BY type ORDER BY type";
    /* clang-format on */
    int rc;

    t->cols = cols;
    t->n_cols = 4;
    set_title(t, o, "Missing chargers and their replacement cost");
    rc = table_fill(store, t, sql, o, fix_chargers, err);
    if (rc == 0)
        rc = add_charger_total(t, err);
    return rc;
}

static int build_dispositions(struct dk_store *store,
                              const struct dk_report_opts *o, struct table *t,
                              struct dk_error *err)
{
    static const struct col cols[] = {
        {"disposition", "DISPOSITION", COL_TEXT},
        {"count", "COUNT", COL_COUNT},
    };
    /* The three outcomes always show, so a zero reads as "none", not as
     * "not reported". */
    /* clang-format off */
    static const char sql[] =
        "WITH o(outcome, ord) AS "
        "(VALUES ('reimage', 1), ('reassign', 2), ('recycle', 3)), "
        "d AS (SELECT r.disposition FROM returns r "
        "WHERE r.state = 'dispositioned' AND r.disposition IS NOT NULL "
        "AND " DISPOSED_IN_RANGE ") "
        "SELECT o.outcome, "
        "(SELECT count(*) FROM d WHERE d.disposition = o.outcome), o.ord "
        "FROM o UNION ALL "
        "SELECT d.disposition, count(*), 4 FROM d "
        "WHERE d.disposition NOT IN ('reimage', 'reassign', 'recycle') "
        "GROUP BY d.disposition ORDER BY 3, 1";
    /* clang-format on */

    t->cols = cols;
    t->n_cols = 2;
    set_title(t, o, "Dispositions by outcome");
    return table_fill(store, t, sql, o, NULL, err);
}

static const char *const flag_names[] = {
    "not-assignee", "unknown-asset", "walk-in", "missing-charger", NULL,
};

static int build_flags(struct dk_store *store, const struct dk_report_opts *o,
                       struct table *t, struct dk_error *err)
{
    static const struct col cols[] = {
        {"flag", "FLAG", COL_TEXT},
        {"day", "DAY", COL_TEXT},
        {"site", "SITE", COL_TEXT},
        {"tag", "TAG", COL_TEXT},
        {"returned_by", "RETURNED BY", COL_TEXT},
        {"assignee", "ASSIGNEE", COL_TEXT},
    };
    /* clang-format off */
    static const char sql[] =
        "WITH f(flag, ord) AS (VALUES ('not-assignee', 1), "
        "('unknown-asset', 2), ('walk-in', 3), ('missing-charger', 4)) "
        "SELECT f.flag, " DROP_DAY ", r.site_id, r.asset_tag, "
        "r.returned_by, r.assignee_at_time "
        "FROM returns r LEFT JOIN assets a ON a.tag = r.asset_tag "
        "JOIN f ON (f.ord = 1 AND r.flag_not_assignee = 1) "
        "OR (f.ord = 2 AND r.flag_unknown_asset = 1) "
        "OR (f.ord = 3 AND r.flag_walk_in = 1) "
        "OR (f.ord = 4 AND " CHARGER_MISSING ") "
        "WHERE " DROP_IN_RANGE " "
        "ORDER BY f.ord, r.returned_at, r.id";
    /* clang-format on */

    t->cols = cols;
    t->n_cols = 6;
    t->group = 0;
    t->group_label = "";
    set_title(t, o, "Flagged returns");
    return table_fill(store, t, sql, o, NULL, err);
}

/* The flags' counts, zeros included, for people. */
static int flag_counts(const struct table *rows, struct table *t,
                       struct dk_error *err)
{
    static const struct col cols[] = {
        {"flag", "FLAG", COL_TEXT},
        {"count", "COUNT", COL_COUNT},
    };
    int rc = 0;

    t->cols = cols;
    t->n_cols = 2;
    t->group = -1;
    snprintf(t->title, sizeof(t->title), "%s", rows->title);
    for (size_t f = 0; rc == 0 && flag_names[f] != NULL; f++) {
        char n[32];
        const char *vals[2] = {flag_names[f], n};
        size_t count = 0;

        for (size_t r = 0; r < rows->n_rows; r++)
            count += strcmp(cell(rows, r, 0), flag_names[f]) == 0;
        snprintf(n, sizeof(n), "%zu", count);
        rc = table_add(t, vals, err);
    }
    return rc;
}

static int build_leavers(struct dk_store *store, const struct dk_report_opts *o,
                         struct table *t, struct dk_error *err)
{
    static const struct col cols[] = {
        {"leader_email", "LEADER", COL_TEXT},
        {"staff_id", "STAFF ID", COL_TEXT},
        {"name", "NAME", COL_TEXT},
        {"left_on", "LAST DAY", COL_TEXT},
        {"tag", "TAG", COL_TEXT},
        {"type", "TYPE", COL_TEXT},
    };
    /* A device that came back while assigned to them (dropped, received,
     * or further) is OIIT's now, even before the inventory says so. */
    /* clang-format off */
    static const char sql[] =
        "SELECT lower(coalesce(s.leader_email, '')), s.id, s.name, "
        "s.left_on, a.tag, a.type "
        "FROM staff s JOIN assets a ON a.assignee = s.id "
        "OR (s.email IS NOT NULL AND a.assignee = s.email COLLATE NOCASE) "
        "WHERE s.left_on IS NOT NULL AND " LEFT_IN_RANGE " "
        "AND NOT EXISTS (SELECT 1 FROM returns r "
        "WHERE r.asset_tag = a.tag AND r.assignee_at_time = a.assignee) "
        "ORDER BY coalesce(s.leader_email, '') = '', "
        "lower(coalesce(s.leader_email, '')), s.name, s.id, a.tag";
    /* clang-format on */

    t->cols = cols;
    t->n_cols = 6;
    t->group = 0;
    t->group_label = "Leader ";
    set_title(t, o, "Leavers still holding devices, by leader");
    return table_fill(store, t, sql, o, NULL, err);
}

typedef int report_builder(struct dk_store *store,
                           const struct dk_report_opts *o, struct table *t,
                           struct dk_error *err);

static report_builder *const builders[DK_REPORT_COUNT] = {
    [DK_REPORT_RETURNS] = build_returns,
    [DK_REPORT_AWAITING] = build_awaiting,
    [DK_REPORT_CHARGERS] = build_chargers,
    [DK_REPORT_DISPOSITIONS] = build_dispositions,
    [DK_REPORT_FLAGS] = build_flags,
    [DK_REPORT_LEAVERS] = build_leavers,
};

int report_write(struct dk_store *store, enum dk_report r,
                 const struct dk_report_opts *opts, FILE *out,
                 struct dk_error *err)
{
    struct table t = {.group = -1};
    struct table counts = {.group = -1};
    int rc;

    if (r < 0 || r >= DK_REPORT_COUNT)
        return dk_error_set(err, DK_EINPUT, "no report number %d", (int)r);
    rc = builders[r](store, opts, &t, err);
    if (rc != 0)
        goto out;
    if (opts->csv) {
        csv_write(&t, out);
    } else if (r == DK_REPORT_FLAGS) {
        rc = flag_counts(&t, &counts, err);
        if (rc != 0)
            goto out;
        table_print(&counts, out);
        if (t.n_rows > 0) {
            fputc('\n', out);
            t.title[0] = '\0';
            table_print(&t, out);
        }
    } else {
        table_print(&t, out);
    }
    if (fflush(out) != 0 || ferror(out))
        rc = dk_error_set(err, -EIO, "cannot write report %s: %s",
                          report_names[r], strerror(errno));
out:
    table_free(&t);
    table_free(&counts);
    return rc;
}
