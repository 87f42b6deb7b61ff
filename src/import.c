#include "import.h"

#include "audit.h"
#include "csv.h"
#include "log.h"
#include "mail.h"
#include "scan.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TODO(import): when import_csv is given the config, check tags against
 * [scan] asset_pattern and staff ids against badge_pattern, because a tag
 * the scanner pattern refuses can be imported but never scanned. */

/* Longest value the importer stores; longer ones are a mistake in the file
 * (a notes column mapped by accident) rather than a real serial or name. */
#define IMPORT_VALUE_MAX 255
#define IMPORT_MAX_FIELDS 11
#define IMPORT_MAX_SOURCES 4
#define IMPORT_SHOW_MAX 80

/* How a field's text is checked and normalised. */
enum import_check {
    CHECK_TEXT,
    CHECK_IMEI,
    CHECK_DATE,
    CHECK_EMAIL,
    CHECK_TYPE,
    CHECK_BOOL,
    CHECK_STATUS,
};

struct field_def {
    const char *name; /* table column and --map field name */
    enum import_check check;
    bool required;
};

/* A header (normalised) that fills a field.  When several columns fill one
 * field, the lowest rank that is not empty on a row wins; equal ranks are a
 * conflict the operator settles with --map. */
struct alias {
    const char *norm;
    int field;
    int rank;
};

struct kind_def {
    const char *noun;   /* "assets", "staff" */
    const char *action; /* audit action */
    const struct field_def *fields;
    int n_fields;
    const struct alias *aliases;
    const char *select_sql;
    const char *insert_sql;
    const char *update_sql;
};

enum {
    A_TAG,
    A_SERIAL,
    A_IMEI,
    A_TYPE,
    A_MAKE,
    A_MODEL,
    A_PURCHASE_DATE,
    A_AUTO_UPDATE_EXPIRY,
    A_ASSIGNEE,
    A_CHARGER_EXPECTED,
    A_STATUS,
    A_N_FIELDS,
};

enum {
    S_ID,
    S_NAME,
    S_EMAIL,
    S_DEPARTMENT,
    S_LEADER_EMAIL,
    S_N_FIELDS,
};

enum {
    L_ID,
    L_LEFT_ON,
    L_N_FIELDS,
};

static const struct field_def asset_fields[A_N_FIELDS] = {
    [A_TAG] = {"tag", CHECK_TEXT, true},
    [A_SERIAL] = {"serial", CHECK_TEXT, false},
    [A_IMEI] = {"imei", CHECK_IMEI, false},
    [A_TYPE] = {"type", CHECK_TYPE, false},
    [A_MAKE] = {"make", CHECK_TEXT, false},
    [A_MODEL] = {"model", CHECK_TEXT, false},
    [A_PURCHASE_DATE] = {"purchase_date", CHECK_DATE, false},
    [A_AUTO_UPDATE_EXPIRY] = {"auto_update_expiry", CHECK_DATE, false},
    [A_ASSIGNEE] = {"assignee", CHECK_TEXT, false},
    [A_CHARGER_EXPECTED] = {"charger_expected", CHECK_BOOL, false},
    [A_STATUS] = {"status", CHECK_STATUS, false},
};

/* Our own headers, Snipe-IT's asset export and Google Admin's ChromeOS
 * device export.  Google's "Annotated User" is the person an administrator
 * assigned; its "User" column is a fallback for rows that have none. */
static const struct alias asset_aliases[] = {
    {"tag", A_TAG, 0},
    {"assettag", A_TAG, 0},
    {"assetid", A_TAG, 1},
    {"annotatedassetid", A_TAG, 1},
    {"serial", A_SERIAL, 0},
    {"serialnumber", A_SERIAL, 0},
    {"serialno", A_SERIAL, 0},
    {"imei", A_IMEI, 0},
    {"imeinumber", A_IMEI, 0},
    {"type", A_TYPE, 0},
    {"devicetype", A_TYPE, 0},
    {"assettype", A_TYPE, 0},
    {"category", A_TYPE, 1},
    {"make", A_MAKE, 0},
    {"manufacturer", A_MAKE, 0},
    {"model", A_MODEL, 0},
    {"modelname", A_MODEL, 0},
    {"purchasedate", A_PURCHASE_DATE, 0},
    {"autoupdateexpiry", A_AUTO_UPDATE_EXPIRY, 0},
    {"autoupdateexpiration", A_AUTO_UPDATE_EXPIRY, 0},
    {"aue", A_AUTO_UPDATE_EXPIRY, 0},
    {"assignee", A_ASSIGNEE, 0},
    {"assignedto", A_ASSIGNEE, 0},
    {"checkedoutto", A_ASSIGNEE, 0},
    {"annotateduser", A_ASSIGNEE, 1},
    {"user", A_ASSIGNEE, 2},
    {"chargerexpected", A_CHARGER_EXPECTED, 0},
    {"charger", A_CHARGER_EXPECTED, 0},
    {"status", A_STATUS, 0},
    {NULL, 0, 0},
};

static const struct field_def staff_fields[S_N_FIELDS] = {
    [S_ID] = {"id", CHECK_TEXT, true},
    [S_NAME] = {"name", CHECK_TEXT, true},
    [S_EMAIL] = {"email", CHECK_EMAIL, false},
    [S_DEPARTMENT] = {"department", CHECK_TEXT, false},
    [S_LEADER_EMAIL] = {"leader_email", CHECK_EMAIL, false},
};

static const struct alias staff_aliases[] = {
    {"id", S_ID, 0},
    {"staffid", S_ID, 0},
    {"employeeid", S_ID, 0},
    {"name", S_NAME, 0},
    {"fullname", S_NAME, 0},
    {"displayname", S_NAME, 0},
    {"email", S_EMAIL, 0},
    {"emailaddress", S_EMAIL, 0},
    {"department", S_DEPARTMENT, 0},
    {"school/department", S_DEPARTMENT, 0},
    {"school", S_DEPARTMENT, 1},
    {"leaderemail", S_LEADER_EMAIL, 0},
    {"supervisoremail", S_LEADER_EMAIL, 0},
    {"manageremail", S_LEADER_EMAIL, 0},
    {NULL, 0, 0},
};

static const struct kind_def asset_kind = {
    .noun = "assets",
    .action = "import assets",
    .fields = asset_fields,
    .n_fields = A_N_FIELDS,
    .aliases = asset_aliases,
    .select_sql = "SELECT tag, serial, imei, type, make, model, purchase_date, "
                  "auto_update_expiry, assignee, charger_expected, status "
                  "FROM assets WHERE tag = ?1",
    .insert_sql = "INSERT INTO assets (tag, serial, imei, type, make, model, "
                  "purchase_date, auto_update_expiry, assignee, charger_expected, "
                  "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    .update_sql = "UPDATE assets SET serial = ?2, imei = ?3, type = ?4, make = ?5, "
                  "model = ?6, purchase_date = ?7, auto_update_expiry = ?8, "
                  "assignee = ?9, charger_expected = ?10, status = ?11 "
                  "WHERE tag = ?1",
};

static const struct kind_def staff_kind = {
    .noun = "staff",
    .action = "import staff",
    .fields = staff_fields,
    .n_fields = S_N_FIELDS,
    .aliases = staff_aliases,
    .select_sql = "SELECT id, name, email, department, leader_email FROM staff "
                  "WHERE id = ?1",
    .insert_sql = "INSERT INTO staff (id, name, email, department, leader_email) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)",
    .update_sql = "UPDATE staff SET name = ?2, email = ?3, department = ?4, "
                  "leader_email = ?5 WHERE id = ?1",
};

/* HR's leavers list: who (staff id, or the email when the id is empty or
 * absent) and the last day worked.  It only ever updates staff.left_on of
 * people the staff import already knows: a leaver we cannot name is a
 * mistake in one of the two files, and guessing would put the wrong
 * person on the leavers report. */
static const struct field_def leaver_fields[L_N_FIELDS] = {
    [L_ID] = {"id", CHECK_TEXT, true},
    [L_LEFT_ON] = {"left_on", CHECK_DATE, true},
};

static const struct alias leaver_aliases[] = {
    {"id", L_ID, 0},
    {"staffid", L_ID, 0},
    {"employeeid", L_ID, 0},
    {"email", L_ID, 1},
    {"emailaddress", L_ID, 1},
    {"lefton", L_LEFT_ON, 0},
    {"lastday", L_LEFT_ON, 0},
    {"lastdayworked", L_LEFT_ON, 0},
    {"terminationdate", L_LEFT_ON, 0},
    {"separationdate", L_LEFT_ON, 0},
    {NULL, 0, 0},
};

/* No insert: a leaver must already be on staff (see leaver_resolve). */
static const struct kind_def leaver_kind = {
    .noun = "leavers",
    .action = "import leavers",
    .fields = leaver_fields,
    .n_fields = L_N_FIELDS,
    .aliases = leaver_aliases,
    .select_sql = "SELECT id, left_on FROM staff WHERE id = ?1",
    .insert_sql = NULL,
    .update_sql = "UPDATE staff SET left_on = ?2 WHERE id = ?1",
};

/* Headers that only Google Admin's ChromeOS export has: such a file lists
 * Chromebooks (and Chromeboxes, which we also call chromebook). */
static const char *const google_headers[] = {
    "autoupdateexpiration", "annotateduser", "annotatedassetid", "orgunitpath", NULL,
};

static const char *const device_types[] = {
    "laptop", "chromebook", "tablet", "phone", "hotspot", "desktop", "other", NULL,
};

/* Keywords in a Snipe-IT category name, tried in order: "Chromebook" before
 * "book"-like laptop words, "hotspot" before "phone" ("Phone Hotspots"). */
static const struct {
    const char *keyword;
    const char *type;
} category_keywords[] = {
    {"chromebook", "chromebook"}, {"hotspot", "hotspot"}, {"mifi", "hotspot"},
    {"jetpack", "hotspot"},       {"laptop", "laptop"},   {"notebook", "laptop"},
    {"tablet", "tablet"},         {"ipad", "tablet"},     {"phone", "phone"},
    {"desktop", "desktop"},       {NULL, NULL},
};

struct source {
    size_t col;
    int rank;
};

struct seen_entry {
    char *key;
    long line;
};

/* The keys already imported from this file, for naming both lines of a
 * duplicate.  Open addressing; grows at half full. */
struct seen_set {
    struct seen_entry *slots;
    size_t cap;
    size_t used;
};

struct importer {
    struct dk_store *store;
    const struct kind_def *kind;
    struct dk_csv *csv;
    const char *name;
    size_t n_cols;
    char **headers;
    bool *category; /* per column: a Snipe-IT category name, not our type */
    struct source src[IMPORT_MAX_FIELDS][IMPORT_MAX_SOURCES];
    int n_src[IMPORT_MAX_FIELDS];
    bool google;
    sqlite3_stmt *select;
    sqlite3_stmt *insert;
    sqlite3_stmt *update;
    sqlite3_stmt *staff_by_email;
    sqlite3_stmt *staff_by_id;
    struct seen_set seen;
    struct seen_set seen_email; /* staff emails, lower case: the kiosk finds people by them */
    struct dk_import_result counts;
    int stray_assignees;
    long stray_line;
    const char *actor;
    int kept_recycled; /* recycled assets whose file row said otherwise */
};

/* One row on its way to the table.  given[f] false means the file says
 * nothing about f: an existing row keeps its value, a new row gets the
 * default.  given with val NULL stores NULL. */
struct row {
    long line;
    bool given[IMPORT_MAX_FIELDS];
    const char *val[IMPORT_MAX_FIELDS];
    size_t col[IMPORT_MAX_FIELDS];
    char buf[IMPORT_MAX_FIELDS][IMPORT_VALUE_MAX + 1];
    bool exists;
    char *old[IMPORT_MAX_FIELDS];
};

/* ---- small text helpers ---- */

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool text_ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b))
            return false;
    return *a == *b;
}

static bool text_icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++) {
        size_t i = 0;

        while (i < n && hay[i] != '\0' && ascii_lower(hay[i]) == needle[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* Header matching ignores case, spaces, '_' and '-' ("Asset Tag",
 * "asset_tag" and "ASSET-TAG" are one name). */
static void normalise_header(const char *in, char *out, size_t size)
{
    size_t n = 0;

    for (; *in != '\0' && n + 1 < size; in++)
        if (*in != ' ' && *in != '_' && *in != '-' && *in != '\t')
            out[n++] = ascii_lower(*in);
    out[n] = '\0';
}

static bool header_is(const char *header, const char *norm)
{
    char buf[256];

    normalise_header(header, buf, sizeof(buf));
    return strcmp(buf, norm) == 0;
}

/* A copy of s fit for a message: what text_check refuses (controls, C1,
 * line separators, bidirectional controls) becomes '?' and long text is
 * cut, so a hostile file cannot forge extra terminal lines or reorder the
 * message. */
static const char *shown(const char *s, char *buf, size_t size)
{
    return text_shown(s, IMPORT_SHOW_MAX, buf, size);
}

static void trim(const char *in, const char **start, size_t *len)
{
    size_t n = strlen(in);

    while (*in == ' ' || *in == '\t') {
        in++;
        n--;
    }
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    *start = in;
    *len = n;
}

/* ---- the set of keys seen in this file ---- */

static uint64_t key_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct seen_entry *seen_slot(struct seen_entry *slots, size_t cap, const char *key)
{
    size_t i = (size_t)key_hash(key) & (cap - 1);

    while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int seen_grow(struct seen_set *set)
{
    size_t ncap = set->cap == 0 ? 256 : set->cap * 2;
    struct seen_entry *slots = calloc(ncap, sizeof(*slots));

    if (slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i].key != NULL)
            *seen_slot(slots, ncap, set->slots[i].key) = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->cap = ncap;
    return 0;
}

/* Record key at line.  0 when new; 1 with *first_line when already there. */
static int seen_add(struct seen_set *set, const char *key, long line, long *first_line)
{
    struct seen_entry *e;

    if ((set->used + 1) * 2 > set->cap && seen_grow(set) != 0)
        return -ENOMEM;
    e = seen_slot(set->slots, set->cap, key);
    if (e->key != NULL) {
        *first_line = e->line;
        return 1;
    }
    e->key = strdup(key);
    if (e->key == NULL)
        return -ENOMEM;
    e->line = line;
    set->used++;
    return 0;
}

static void seen_free(struct seen_set *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i].key);
    free(set->slots);
}

/* ---- value checks ---- */

/* IMEI: 15 digits whose last is the Luhn check digit over the first 14
 * (3GPP TS 23.003 section 6.2.1, Annex B).  Spaces and '-' between groups
 * are dropped, as labels print them that way. */
static bool check_imei(const char *in, char *out, const char **why)
{
    size_t n = 0;

    for (; *in != '\0'; in++) {
        if (*in == ' ' || *in == '-')
            continue;
        if (*in < '0' || *in > '9' || n == 15) {
            *why = "15 digits expected";
            return false;
        }
        out[n++] = *in;
    }
    out[n] = '\0';
    if (n != 15) {
        *why = "15 digits expected";
        return false;
    }
    *why = "check digit";
    return scan_imei_valid(out);
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

/* Read exactly 'min' to 'max' digits at *p into *v. */
static bool read_digits(const char **p, int min, int max, int *v)
{
    int n = 0;

    *v = 0;
    while (n < max && **p >= '0' && **p <= '9') {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min;
}

/* YYYY-MM-DD, MM/DD/YYYY (US exports, 1- or 2-digit month and day) or
 * YYYY-MM.  YYYY-MM means the last day of that month: Google gives a
 * Chromebook's auto-update expiration as a month and keeps updating it
 * through that month, so the last day is the date it stops; one rule for
 * every date column keeps the meaning easy to state. */
static bool check_date(const char *in, char *out, size_t size)
{
    const char *p = in;
    int y = 0, m = 0, d = 0;

    if (read_digits(&p, 4, 4, &y) && *p == '-') {
        p++;
        if (!read_digits(&p, 2, 2, &m))
            return false;
        if (*p == '-') {
            p++;
            if (!read_digits(&p, 2, 2, &d))
                return false;
        } else if (m >= 1 && m <= 12) {
            d = days_in_month(y, m);
        }
    } else {
        p = in;
        if (!read_digits(&p, 1, 2, &m) || *p++ != '/' || !read_digits(&p, 1, 2, &d) ||
            *p++ != '/' || !read_digits(&p, 4, 4, &y))
            return false;
    }
    if (*p != '\0' || y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 ||
        d > days_in_month(y, m))
        return false;
    snprintf(out, size, "%04d-%02d-%02d", y, m, d);
    return true;
}

static bool has_non_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

static const char *category_type(const char *category)
{
    for (size_t i = 0; category_keywords[i].keyword != NULL; i++)
        if (text_icontains(category, category_keywords[i].keyword))
            return category_keywords[i].type;
    return "other";
}

static const char *device_type(const char *s)
{
    for (size_t i = 0; device_types[i] != NULL; i++)
        if (text_ieq(s, device_types[i]))
            return device_types[i];
    return NULL;
}

static bool check_bool(const char *s, char *out)
{
    static const char *const yes[] = {"yes", "true", "1", NULL};
    static const char *const no[] = {"no", "false", "0", NULL};

    for (size_t i = 0; yes[i] != NULL; i++) {
        if (text_ieq(s, yes[i])) {
            snprintf(out, 2, "1");
            return true;
        }
        if (text_ieq(s, no[i])) {
            snprintf(out, 2, "0");
            return true;
        }
    }
    return false;
}

/* Desktops and "other" (projectors, document cameras) run from fixed power;
 * everything else comes with a charger the kiosk must ask about. */
static const char *default_charger(const char *type)
{
    if (type != NULL && (strcmp(type, "desktop") == 0 || strcmp(type, "other") == 0))
        return "0";
    return "1";
}

/* ---- header ---- */

static int field_index(const struct kind_def *kind, const char *name)
{
    for (int f = 0; f < kind->n_fields; f++)
        if (strcmp(kind->fields[f].name, name) == 0)
            return f;
    return -1;
}

static const struct alias *find_alias(const struct kind_def *kind, const char *norm)
{
    for (const struct alias *a = kind->aliases; a->norm != NULL; a++)
        if (strcmp(a->norm, norm) == 0)
            return a;
    return NULL;
}

static int add_source(struct importer *im, int field, size_t col, int rank, long line,
                      struct dk_error *err)
{
    int n = im->n_src[field];
    int i;

    for (i = 0; i < n; i++) {
        if (im->src[field][i].rank == rank)
            return dk_error_set(err, DK_EINPUT,
                                "%s:%ld: columns '%s' and '%s' both fill field '%s'; "
                                "choose one with --map COLUMN=%s and --map OTHER=-",
                                im->name, line, im->headers[im->src[field][i].col],
                                im->headers[col], im->kind->fields[field].name,
                                im->kind->fields[field].name);
    }
    if (n == IMPORT_MAX_SOURCES)
        return dk_error_set(err, DK_EINPUT, "%s:%ld: too many columns fill field '%s'",
                            im->name, line, im->kind->fields[field].name);
    /* Keep sources ordered by rank, lowest first. */
    for (i = n; i > 0 && im->src[field][i - 1].rank > rank; i--)
        im->src[field][i] = im->src[field][i - 1];
    im->src[field][i].col = col;
    im->src[field][i].rank = rank;
    im->n_src[field] = n + 1;
    return 0;
}

static void field_list(const struct kind_def *kind, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int f = 0; f < kind->n_fields && n < size; f++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", f > 0 ? ", " : "",
                              kind->fields[f].name);
}

/* Apply the --map overrides: map_field[col] becomes the field a mapped
 * column fills (-1 ignores it); fields named by a --map take no column
 * from the built-in names.  -2 marks a column no --map names. */
static int apply_maps(struct importer *im, const struct dk_import_map *maps, size_t n_maps,
                      int *map_field, bool *overridden, long line, struct dk_error *err)
{
    char want[256];
    char fields[256];

    for (size_t i = 0; i < n_maps; i++) {
        int f = strcmp(maps[i].field, "-") == 0 ? -1 : field_index(im->kind, maps[i].field);
        bool found = false;

        if (f == -1 && strcmp(maps[i].field, "-") != 0) {
            field_list(im->kind, fields, sizeof(fields));
            return dk_error_set(err, DK_EINPUT,
                                "--map %s=%s: no field '%s' in %s (fields: %s, or - to ignore)",
                                maps[i].column, maps[i].field, maps[i].field, im->kind->noun,
                                fields);
        }
        normalise_header(maps[i].column, want, sizeof(want));
        for (size_t c = 0; c < im->n_cols; c++) {
            if (!header_is(im->headers[c], want))
                continue;
            found = true;
            map_field[c] = f;
            if (f >= 0) {
                int rc = add_source(im, f, c, -1, line, err);

                if (rc != 0)
                    return rc;
                overridden[f] = true;
            }
        }
        if (!found)
            return dk_error_set(err, DK_EINPUT, "%s:%ld: --map %s=%s: there is no column '%s'",
                                im->name, line, maps[i].column, maps[i].field,
                                maps[i].column);
    }
    return 0;
}

static void note_ignored(char *buf, size_t size, size_t *n, const char *header)
{
    char show[IMPORT_SHOW_MAX + 4];

    if (*n >= size)
        return;
    *n += (size_t)snprintf(buf + *n, size - *n, "%s'%s'", *n > 0 ? ", " : "",
                           shown(header, show, sizeof(show)));
}

static int bind_builtin(struct importer *im, const int *map_field, const bool *overridden,
                        long line, struct dk_error *err)
{
    char ignored[512];
    size_t n_ignored = 0;

    ignored[0] = '\0';
    for (size_t c = 0; c < im->n_cols; c++)
        for (size_t g = 0; google_headers[g] != NULL; g++)
            if (header_is(im->headers[c], google_headers[g]))
                im->google = true;
    for (size_t c = 0; c < im->n_cols; c++) {
        char norm[256];
        const struct alias *a;

        normalise_header(im->headers[c], norm, sizeof(norm));
        im->category[c] = strcmp(norm, "category") == 0;
        if (map_field[c] != -2)
            continue;
        a = find_alias(im->kind, norm);
        /* Google's "Status" is the enrollment state (Provisioned,
         * Deprovisioned), not where the device is in our life cycle. */
        if (a != NULL && im->google && im->kind == &asset_kind && a->field == A_STATUS)
            a = NULL;
        if (a == NULL || overridden[a->field]) {
            note_ignored(ignored, sizeof(ignored), &n_ignored, im->headers[c]);
            continue;
        }
        int rc = add_source(im, a->field, c, a->rank, line, err);
        if (rc != 0)
            return rc;
    }
    if (n_ignored > 0)
        log_info("%s: ignoring columns not imported: %s", im->name, ignored);
    return 0;
}

static int read_header(struct importer *im, const struct dk_import_map *maps, size_t n_maps,
                       struct dk_error *err)
{
    struct dk_csv_record rec;
    int *map_field = NULL;
    bool overridden[IMPORT_MAX_FIELDS] = {false};
    int rc = csv_next(im->csv, &rec, err);

    if (rc == 0)
        return dk_error_set(err, DK_EINPUT, "%s: the file is empty (no header row)", im->name);
    if (rc < 0)
        return rc;

    im->n_cols = rec.n_fields;
    im->headers = calloc(rec.n_fields, sizeof(*im->headers));
    im->category = calloc(rec.n_fields, sizeof(*im->category));
    map_field = calloc(rec.n_fields, sizeof(*map_field));
    if (im->headers == NULL || im->category == NULL || map_field == NULL) {
        rc = dk_error_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < rec.n_fields; c++) {
        const char *h;
        size_t len;

        trim(rec.fields[c], &h, &len);
        im->headers[c] = strndup(h, len);
        if (im->headers[c] == NULL) {
            rc = dk_error_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        map_field[c] = -2;
    }

    rc = apply_maps(im, maps, n_maps, map_field, overridden, rec.line, err);
    if (rc == 0)
        rc = bind_builtin(im, map_field, overridden, rec.line, err);
    for (int f = 0; rc == 0 && f < im->kind->n_fields; f++)
        if (im->kind->fields[f].required && im->n_src[f] == 0)
            rc = dk_error_set(err, DK_EINPUT,
                              "%s:%ld: no column for field '%s'; name one with --map COLUMN=%s",
                              im->name, rec.line, im->kind->fields[f].name,
                              im->kind->fields[f].name);
out:
    free(map_field);
    return rc;
}

/* ---- rows ---- */

__attribute__((format(printf, 5, 6))) static int row_fail(const struct importer *im,
                                                          const struct row *row, size_t col,
                                                          struct dk_error *err,
                                                          const char *fmt, ...)
{
    char reason[DK_ERROR_MAX];
    char header[IMPORT_SHOW_MAX + 4];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return dk_error_set(err, DK_EINPUT, "%s:%ld: column '%s': %s", im->name, row->line,
                        shown(im->headers[col], header, sizeof(header)), reason);
}

/* The text for field f: the first of its columns, by rank, that is not
 * empty on this row.  *len is 0 when all are empty. */
static void field_text(const struct importer *im, const struct dk_csv_record *rec, int f,
                       struct row *row, const char **text, size_t *len)
{
    row->col[f] = im->src[f][0].col;
    *text = "";
    *len = 0;
    for (int i = 0; i < im->n_src[f]; i++) {
        size_t c = im->src[f][i].col;

        trim(rec->fields[c], text, len);
        if (*len > 0) {
            row->col[f] = c;
            return;
        }
    }
}

/* Check raw (trimmed, non-empty) for field f; store the normalised value in
 * row->buf[f]. */
static int check_value(const struct importer *im, struct row *row, int f, const char *raw,
                       struct dk_error *err)
{
    char show[IMPORT_SHOW_MAX + 4];
    char *out = row->buf[f];
    const char *why = NULL;
    const char *type;
    size_t col = row->col[f];

    shown(raw, show, sizeof(show));
    switch (im->kind->fields[f].check) {
    case CHECK_TEXT:
        snprintf(out, IMPORT_VALUE_MAX + 1, "%s", raw);
        return 0;
    case CHECK_STATUS:
        for (size_t i = 0; raw[i] != '\0'; i++)
            out[i] = ascii_lower(raw[i]);
        out[strlen(raw)] = '\0';
        return 0;
    case CHECK_IMEI:
        if (check_imei(raw, out, &why))
            return 0;
        return row_fail(im, row, col, err, "%s is not a valid IMEI (%s)", show, why);
    case CHECK_DATE:
        if (check_date(raw, out, IMPORT_VALUE_MAX + 1))
            return 0;
        return row_fail(im, row, col, err,
                        "%s is not a date (YYYY-MM-DD, MM/DD/YYYY or YYYY-MM)", show);
    case CHECK_EMAIL:
        /* The mailer's own rule, so an address the import takes is one the
         * kiosk can send a receipt to (mail_compose refuses the rest). */
        if (mail_address_ok(raw)) {
            snprintf(out, IMPORT_VALUE_MAX + 1, "%s", raw);
            return 0;
        }
        if (has_non_ascii(raw))
            return row_fail(im, row, col, err,
                            "%s is not an address the mailer can send to (plain ASCII only)",
                            show);
        return row_fail(im, row, col, err, "%s is not a plausible email address", show);
    case CHECK_TYPE:
        type = im->category[col] ? category_type(raw) : device_type(raw);
        if (type != NULL) {
            snprintf(out, IMPORT_VALUE_MAX + 1, "%s", type);
            return 0;
        }
        return row_fail(im, row, col, err,
                        "%s is not a device type (laptop, chromebook, tablet, phone, "
                        "hotspot, desktop or other)",
                        show);
    case CHECK_BOOL:
        if (check_bool(raw, out))
            return 0;
        return row_fail(im, row, col, err, "%s is not yes or no (yes/no, true/false, 1/0)",
                        show);
    }
    return 0;
}

/* Fill row->given/val for field f from the record. */
static int read_field(const struct importer *im, const struct dk_csv_record *rec, int f,
                      struct row *row, struct dk_error *err)
{
    const struct field_def *def = &im->kind->fields[f];
    char raw[IMPORT_VALUE_MAX + 1];
    char why[DK_TEXT_WHY_MAX];
    const char *text;
    size_t len;
    int rc;

    if (im->n_src[f] == 0)
        return 0;
    field_text(im, rec, f, row, &text, &len);
    if (len == 0) {
        if (def->required)
            return row_fail(im, row, row->col[f], err, "empty, but every row needs a %s",
                            def->name);
        /* An empty type, charger or status means "not stated"; other
         * empty cells clear the value (a device no longer assigned). */
        row->given[f] = def->check != CHECK_TYPE && def->check != CHECK_BOOL &&
                        def->check != CHECK_STATUS;
        row->val[f] = NULL;
        return 0;
    }
    if (len > IMPORT_VALUE_MAX)
        return row_fail(im, row, row->col[f], err, "value is longer than %d bytes",
                        IMPORT_VALUE_MAX);
    /* The rule config values, scans and technician names meet too: a
     * name that reaches a receipt or a mail header must stay one line
     * and read in the order it is written. */
    if (!text_check(text, len, why, sizeof(why)))
        return row_fail(im, row, row->col[f], err, "value holds %s", why);
    memcpy(raw, text, len);
    raw[len] = '\0';
    rc = check_value(im, row, f, raw, err);
    if (rc != 0)
        return rc;
    row->given[f] = true;
    row->val[f] = row->buf[f];
    return 0;
}

/* 1 when every cell is empty (spreadsheets leave ",,,," rows behind). */
static bool blank_record(const struct dk_csv_record *rec)
{
    for (size_t c = 0; c < rec->n_fields; c++) {
        const char *t;
        size_t len;

        trim(rec->fields[c], &t, &len);
        if (len > 0)
            return false;
    }
    return true;
}

static int check_shape(const struct importer *im, const struct dk_csv_record *rec,
                       struct dk_error *err)
{
    /* Extra cells are tolerated only when empty: some exporters end every
     * row with a comma. */
    for (size_t c = im->n_cols; c < rec->n_fields; c++)
        if (rec->fields[c][0] != '\0')
            return dk_error_set(err, DK_EINPUT, "%s:%ld: %zu fields, but the header has %zu",
                                im->name, rec->line, rec->n_fields, im->n_cols);
    if (rec->n_fields < im->n_cols)
        return dk_error_set(err, DK_EINPUT, "%s:%ld: %zu fields, but the header has %zu",
                            im->name, rec->line, rec->n_fields, im->n_cols);
    return 0;
}

/* Two staff members with one email could not be told apart at the kiosk,
 * which finds people by email; the file is refused naming both lines. */
static int check_email_once(struct importer *im, const struct row *row, struct dk_error *err)
{
    char lower[IMPORT_SHOW_MAX + 4];
    char key[512];
    long first = 0;
    size_t n;
    int rc;

    if (!row->given[S_EMAIL] || row->val[S_EMAIL] == NULL || row->val[S_EMAIL][0] == '\0')
        return 0;
    n = strlen(row->val[S_EMAIL]);
    if (n >= sizeof(key))
        n = sizeof(key) - 1;
    for (size_t i = 0; i < n; i++)
        key[i] = (char)tolower((unsigned char)row->val[S_EMAIL][i]);
    key[n] = '\0';
    rc = seen_add(&im->seen_email, key, row->line, &first);
    if (rc < 0)
        return dk_error_set(err, rc, "out of memory");
    if (rc == 1)
        return row_fail(im, row, row->col[S_EMAIL], err,
                        "email %s appears twice, on lines %ld and %ld",
                        shown(row->val[S_EMAIL], lower, sizeof(lower)), first, row->line);
    return 0;
}

/* Count the staff rows st finds for key; the first one's id goes to id. */
static int staff_matches(sqlite3_stmt *st, const char *key, char *id, size_t size)
{
    int found = 0;

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW)
        if (++found == 1)
            snprintf(id, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return found;
}

/* Turn a leaver's id or email into the staff id, in row->buf[L_ID].  An id
 * is matched exactly; a value with '@' that is no id is matched as an email
 * ignoring case, as the kiosk does. */
static int leaver_resolve(struct importer *im, struct row *row, struct dk_error *err)
{
    char show[IMPORT_SHOW_MAX + 4];
    char id[IMPORT_VALUE_MAX + 1];
    const char *key = row->val[L_ID];
    int found;

    if (staff_matches(im->staff_by_id, key, id, sizeof(id)) == 1)
        return 0;
    shown(key, show, sizeof(show));
    if (strchr(key, '@') == NULL)
        return row_fail(im, row, row->col[L_ID], err,
                        "no staff member has id %s (import staff first)", show);
    found = staff_matches(im->staff_by_email, key, id, sizeof(id));
    if (found == 0)
        return row_fail(im, row, row->col[L_ID], err,
                        "no staff member has id or email %s (import staff first)", show);
    if (found > 1)
        return row_fail(im, row, row->col[L_ID], err,
                        "email %s belongs to more than one staff member; give the staff id",
                        show);
    snprintf(row->buf[L_ID], IMPORT_VALUE_MAX + 1, "%s", id);
    return 0;
}

static int read_row(struct importer *im, const struct dk_csv_record *rec, struct row *row,
                    struct dk_error *err)
{
    long first = 0;
    int rc;

    row->line = rec->line;
    rc = check_shape(im, rec, err);
    for (int f = 0; rc == 0 && f < im->kind->n_fields; f++)
        rc = read_field(im, rec, f, row, err);
    if (rc != 0)
        return rc;

    if (im->kind == &asset_kind && im->n_src[A_TYPE] == 0 && im->google) {
        row->given[A_TYPE] = true;
        row->val[A_TYPE] = "chromebook";
    }
    /* Resolved first, so one person named by id on one line and by email
     * on another is caught as a duplicate. */
    if (im->kind == &leaver_kind) {
        rc = leaver_resolve(im, row, err);
        if (rc != 0)
            return rc;
    }

    rc = seen_add(&im->seen, row->val[0], row->line, &first);
    if (rc < 0)
        return dk_error_set(err, rc, "out of memory");
    if (rc == 1) {
        char show[IMPORT_SHOW_MAX + 4];

        return row_fail(im, row, row->col[0], err, "%s %s appears twice, on lines %ld and %ld",
                        im->kind->fields[0].name, shown(row->val[0], show, sizeof(show)),
                        first, row->line);
    }
    if (im->kind == &staff_kind)
        return check_email_once(im, row, err);
    return 0;
}

/* ---- database ---- */

static int db_fail(const struct importer *im, struct dk_error *err)
{
    return dk_error_set(err, DK_EDB, "database %s: %s", im->store->path,
                        sqlite3_errmsg(im->store->db));
}

static int load_existing(struct importer *im, struct row *row, struct dk_error *err)
{
    sqlite3_stmt *st = im->select;
    int rc = 0;

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, row->val[0], -1, SQLITE_TRANSIENT);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        row->exists = true;
        for (int f = 0; f < im->kind->n_fields; f++) {
            const char *t = (const char *)sqlite3_column_text(st, f);

            if (t == NULL)
                continue;
            row->old[f] = strdup(t);
            if (row->old[f] == NULL) {
                rc = dk_error_set(err, -ENOMEM, "out of memory");
                break;
            }
        }
        break;
    case SQLITE_DONE:
        break;
    default:
        rc = db_fail(im, err);
    }
    sqlite3_reset(st);
    return rc;
}

/* Assignee columns from Google Admin hold an email address; the kiosk
 * compares assignees with badge ids, so an address that names exactly one
 * staff member becomes that person's id.
 * TODO(import): when Snipe-IT's "Checked Out To" (a display name) must be
 * resolved, match names that belong to exactly one staff member, because
 * today such an asset flags every return as "not the assignee". */
static void resolve_assignee(struct importer *im, struct row *row)
{
    char id[IMPORT_VALUE_MAX + 1];
    sqlite3_stmt *st;
    const char *v = row->val[A_ASSIGNEE];
    int found = 0;

    if (!row->given[A_ASSIGNEE] || v == NULL)
        return;
    if (strchr(v, '@') != NULL) {
        st = im->staff_by_email;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW && ++found == 1)
            snprintf(id, sizeof(id), "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        /* Zero or several matches: keep the address as given. */
        if (found == 1) {
            snprintf(row->buf[A_ASSIGNEE], IMPORT_VALUE_MAX + 1, "%s", id);
            return;
        }
    }

    st = im->staff_by_id;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW && im->stray_assignees++ == 0)
        im->stray_line = row->line;
    sqlite3_reset(st);
}

static bool same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* The value each column will hold: what the file gives, else what the row
 * already has, else the default. */
static void final_values(const struct importer *im, const struct row *row, const char **final)
{
    for (int f = 0; f < im->kind->n_fields; f++) {
        if (row->given[f])
            final[f] = row->val[f];
        else if (row->exists)
            final[f] = row->old[f];
        else
            final[f] = NULL;
    }
    if (im->kind != &asset_kind)
        return;
    if (final[A_TYPE] == NULL)
        final[A_TYPE] = "other";
    if (!row->given[A_STATUS] && !row->exists)
        final[A_STATUS] = "deployed";
    /* Not stated in the file: follow the type, so a row retyped as a
     * desktop stops expecting a charger. */
    if (!row->given[A_CHARGER_EXPECTED])
        final[A_CHARGER_EXPECTED] = default_charger(final[A_TYPE]);
    /* A recycled device never comes back into use: an inventory export
     * that has not caught up yet cannot put it back in someone's hands. */
    if (row->exists && same(row->old[A_STATUS], "recycled")) {
        final[A_STATUS] = row->old[A_STATUS];
        final[A_ASSIGNEE] = row->old[A_ASSIGNEE];
    }
}

/* An import that moves a device to someone else is recorded device by
 * device: the kiosk's policy is that devices change hands through OIIT,
 * so every change of holder must be traceable to where it came from. */
static int audit_handover(struct importer *im, const struct row *row, const char *now_holder,
                          struct dk_error *err)
{
    char details[600];

    snprintf(details, sizeof(details), "import %s line %ld: %s -> %s", im->name, row->line,
             row->old[A_ASSIGNEE] != NULL ? row->old[A_ASSIGNEE] : "nobody",
             now_holder != NULL ? now_holder : "nobody");
    return audit_append(im->store, im->actor != NULL ? im->actor : "cli",
                        "asset assignee changed", row->val[A_TAG], details, err);
}

static int write_row(struct importer *im, const struct row *row, struct dk_error *err)
{
    const char *final[IMPORT_MAX_FIELDS];
    sqlite3_stmt *st;
    bool changed = !row->exists;
    int rc = 0;

    final_values(im, row, final);
    if (im->kind == &asset_kind && row->exists && same(row->old[A_STATUS], "recycled") &&
        row->given[A_STATUS] && !same(row->val[A_STATUS], "recycled"))
        im->kept_recycled++;
    for (int f = 0; f < im->kind->n_fields && !changed; f++)
        changed = !same(final[f], row->old[f]);
    if (!changed) {
        im->counts.unchanged++;
        return 0;
    }
    if (im->kind == &asset_kind && row->exists && !same(final[A_ASSIGNEE], row->old[A_ASSIGNEE])) {
        rc = audit_handover(im, row, final[A_ASSIGNEE], err);
        if (rc != 0)
            return rc;
    }

    st = row->exists ? im->update : im->insert;
    sqlite3_reset(st);
    for (int f = 0; f < im->kind->n_fields; f++) {
        if (final[f] == NULL)
            sqlite3_bind_null(st, f + 1);
        else if (im->kind->fields[f].check == CHECK_BOOL)
            sqlite3_bind_int(st, f + 1, final[f][0] == '1');
        else
            sqlite3_bind_text(st, f + 1, final[f], -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(im, err);
    sqlite3_reset(st);
    if (rc == 0 && row->exists)
        im->counts.updated++;
    else if (rc == 0)
        im->counts.added++;
    return rc;
}

static void row_clear(struct row *row)
{
    for (int f = 0; f < IMPORT_MAX_FIELDS; f++)
        free(row->old[f]);
    memset(row, 0, sizeof(*row));
}

static int import_record(struct importer *im, const struct dk_csv_record *rec,
                         struct dk_error *err)
{
    struct row row;
    int rc;

    if (blank_record(rec))
        return 0;
    memset(&row, 0, sizeof(row));
    rc = read_row(im, rec, &row, err);
    if (rc == 0 && im->kind == &asset_kind)
        resolve_assignee(im, &row);
    if (rc == 0)
        rc = load_existing(im, &row, err);
    if (rc == 0)
        rc = write_row(im, &row, err);
    row_clear(&row);
    return rc;
}

static int prepare_all(struct importer *im, struct dk_error *err)
{
    int rc = store_prepare(im->store, im->kind->select_sql, &im->select, err);

    if (rc == 0 && im->kind->insert_sql != NULL)
        rc = store_prepare(im->store, im->kind->insert_sql, &im->insert, err);
    if (rc == 0)
        rc = store_prepare(im->store, im->kind->update_sql, &im->update, err);
    if (rc == 0 && im->kind != &staff_kind)
        rc = store_prepare(im->store,
                           "SELECT id FROM staff WHERE email = ?1 COLLATE NOCASE LIMIT 2",
                           &im->staff_by_email, err);
    if (rc == 0 && im->kind != &staff_kind)
        rc = store_prepare(im->store, "SELECT id FROM staff WHERE id = ?1", &im->staff_by_id,
                           err);
    return rc;
}

static void importer_free(struct importer *im)
{
    sqlite3_finalize(im->select);
    sqlite3_finalize(im->insert);
    sqlite3_finalize(im->update);
    sqlite3_finalize(im->staff_by_email);
    sqlite3_finalize(im->staff_by_id);
    for (size_t c = 0; im->headers != NULL && c < im->n_cols; c++)
        free(im->headers[c]);
    free(im->headers);
    free(im->category);
    seen_free(&im->seen);
    seen_free(&im->seen_email);
    csv_close(im->csv);
}

static int import_rows(struct importer *im, struct dk_error *err)
{
    struct dk_csv_record rec;
    int rc;

    while ((rc = csv_next(im->csv, &rec, err)) == 1) {
        rc = import_record(im, &rec, err);
        if (rc != 0)
            return rc;
    }
    return rc;
}

static int record_audit(struct importer *im, const char *actor, struct dk_error *err)
{
    char details[128];

    snprintf(details, sizeof(details), "%d added, %d updated, %d unchanged",
             im->counts.added, im->counts.updated, im->counts.unchanged);
    return audit_append(im->store, actor != NULL ? actor : "cli", im->kind->action, im->name,
                        details, err);
}

int import_csv(struct dk_store *store, enum dk_import_kind kind, const char *path,
               const struct dk_import_map *maps, size_t n_maps, const char *actor,
               struct dk_import_result *result, struct dk_error *err)
{
    struct importer im;
    bool in_tx = false;
    int rc;

    memset(&im, 0, sizeof(im));
    im.store = store;
    im.actor = actor;
    im.kind = kind == DK_IMPORT_LEAVERS ? &leaver_kind
              : kind == DK_IMPORT_STAFF ? &staff_kind
                                        : &asset_kind;

    /* The whole file is read before BEGIN, so a slow pipe never holds the
     * database's write lock. */
    rc = csv_open(path, NULL, &im.csv, err);
    if (rc != 0)
        goto out;
    im.name = csv_name(im.csv);
    rc = read_header(&im, maps, n_maps, err);
    if (rc != 0)
        goto out;
    rc = prepare_all(&im, err);
    if (rc != 0)
        goto out;

    rc = store_begin(store, err);
    if (rc != 0)
        goto out;
    in_tx = true;
    rc = import_rows(&im, err);
    if (rc == 0)
        rc = record_audit(&im, actor, err);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc == 0) {
        in_tx = false;
        if (im.kept_recycled > 0)
            log_warn("%s: %d recycled assets stay recycled whatever the file says", im.name,
                     im.kept_recycled);
        if (im.stray_assignees > 0)
            log_info("%s: %d assignees are not staff ids (first on line %ld); import staff first",
                     im.name, im.stray_assignees, im.stray_line);
        if (result != NULL)
            *result = im.counts;
    }
out:
    /* Statements are finalised before ROLLBACK so none is left pending. */
    importer_free(&im);
    if (in_tx)
        store_rollback(store);
    return rc;
}
