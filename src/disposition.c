/* The disposition rules engine and the disposition acts.  The grammar is
 * described in disposition.h; rules are parsed again on every proposal
 * (a few dozen words), so the config carries them only as text. */
#include "disposition.h"

#include "csv.h"

#include "audit.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TESTS 4
#define MAX_TOKENS 64
#define WHY_MAX 256
#define FIELD_MAX 128

static const char *const builtin_rules[] = {
    "condition is damaged, not_working -> recycle",
    "older than laptop 5y, chromebook 4y, tablet 4y, phone 3y, hotspot 3y -> recycle",
    "auto update expired -> recycle",
    "reserved -> reassign",
    "always -> reimage",
};

#define N_BUILTIN ((int)(sizeof(builtin_rules) / sizeof(builtin_rules[0])))

/* The conditions the receive step records. */
static const char *const conditions[] = {"good", "worn", "damaged",
                                         "not_working"};

#define N_CONDITIONS ((int)(sizeof(conditions) / sizeof(conditions[0])))

enum test_kind {
    TEST_ALWAYS,
    TEST_CONDITION,
    TEST_TYPE,
    TEST_OLDER,
    TEST_AUE,
    TEST_RESERVED
};

struct rule_test {
    enum test_kind kind;
    unsigned set; /* TEST_CONDITION, TEST_TYPE: a bit per name */
    int months[DK_N_ASSET_TYPES]; /* TEST_OLDER: age limit per type, -1 none */
};

struct rule {
    struct rule_test tests[MAX_TESTS];
    int n_tests;
    enum dk_outcome outcome;
};

struct tok {
    const char *s;
    size_t len;
};

struct parser {
    struct tok toks[MAX_TOKENS];
    int n;
    int pos;
    char why[WHY_MAX];
};

/* What is known about one return when the rules are applied. */
struct ret {
    int64_t id;
    char tag[256];
    char state[16];
    char condition[32];
    char type[16];
    char model[256];
    char purchase[16];
    char aue[16];
    char assignee[256];
    bool known; /* the asset is in the inventory */
    char disposition[16];
    char dispositioned_at[32];
    char checklist[96]; /* what the person answered at the kiosk, or "" */
};

struct ymd {
    int y, m, d;
};

const char *disposition_outcome_name(enum dk_outcome outcome)
{
    switch (outcome) {
    case DK_OUTCOME_REIMAGE:
        return "reimage";
    case DK_OUTCOME_REASSIGN:
        return "reassign";
    case DK_OUTCOME_RECYCLE:
        return "recycle";
    default:
        return "none";
    }
}

/* ---- parsing ---- */

static bool fail_why(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool fail_why(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->why, sizeof(p->why), fmt, ap);
    va_end(ap);
    return false;
}

/* Words and commas; a comma is a token of its own. */
static bool tokenize(struct parser *p, const char *s, size_t len)
{
    size_t i = 0;

    p->n = 0;
    p->pos = 0;
    while (i < len) {
        size_t start = i;

        if (isspace((unsigned char)s[i])) {
            i++;
            continue;
        }
        if (s[i] == ',')
            i++;
        else
            while (i < len && !isspace((unsigned char)s[i]) && s[i] != ',')
                i++;
        if (p->n == MAX_TOKENS)
            return fail_why(p, "more than %d words", MAX_TOKENS);
        p->toks[p->n++] = (struct tok){s + start, i - start};
    }
    return true;
}

static bool tok_is(const struct tok *t, const char *word)
{
    return t != NULL && t->len == strlen(word) &&
           strncasecmp(t->s, word, t->len) == 0;
}

static const struct tok *peek(const struct parser *p)
{
    return p->pos < p->n ? &p->toks[p->pos] : NULL;
}

static const struct tok *take(struct parser *p)
{
    return p->pos < p->n ? &p->toks[p->pos++] : NULL;
}

/* Take the word expected next, or explain what came instead. */
static bool expect(struct parser *p, const char *word, const char *after)
{
    const struct tok *t = take(p);

    if (tok_is(t, word))
        return true;
    if (t == NULL)
        return fail_why(p, "'%s' must be followed by '%s'", after, word);
    return fail_why(p, "'%s' must be followed by '%s', not '%.*s'", after, word,
                    (int)t->len, t->s);
}

static int name_index(const struct tok *t, const char *const *names, int n)
{
    for (int i = 0; t != NULL && i < n; i++) {
        if (tok_is(t, names[i]))
            return i;
    }
    return -1;
}

static const char *const *asset_type_names(void)
{
    static const char *names[DK_N_ASSET_TYPES];

    for (int i = 0; i < DK_N_ASSET_TYPES; i++)
        names[i] = config_asset_type(i);
    return names;
}

/* NAME[, NAME]... into a bit set. */
static bool parse_names(struct parser *p, const char *const *names, int n,
                        const char *what, const char *choices, unsigned *set)
{
    *set = 0;
    for (;;) {
        const struct tok *t = take(p);
        int i = name_index(t, names, n);

        if (t == NULL)
            return fail_why(p, "%s is missing (%s)", what, choices);
        if (i < 0)
            return fail_why(p, "'%.*s' is not %s (%s)", (int)t->len, t->s, what,
                            choices);
        *set |= 1u << i;
        if (!tok_is(peek(p), ","))
            return true;
        take(p);
    }
}

/* An age: a whole number of years (5y) or months (18m), 1 to 100 years. */
static bool parse_age(const struct tok *t, int *months)
{
    long n = 0;
    size_t i = 0;

    if (t == NULL || t->len < 2)
        return false;
    for (; i < t->len - 1; i++) {
        if (!isdigit((unsigned char)t->s[i]) || n > 1200)
            return false;
        n = n * 10 + (t->s[i] - '0');
    }
    if (tolower((unsigned char)t->s[i]) == 'y')
        n *= 12;
    else if (tolower((unsigned char)t->s[i]) != 'm')
        return false;
    if (n < 1 || n > 1200)
        return false;
    *months = (int)n;
    return true;
}

/* "older than AGE" or "older than TYPE AGE[, TYPE AGE]...". */
static bool parse_older(struct parser *p, struct rule_test *test)
{
    int months = 0;

    for (int i = 0; i < DK_N_ASSET_TYPES; i++)
        test->months[i] = -1;
    if (!expect(p, "than", "older"))
        return false;
    if (parse_age(peek(p), &months)) {
        take(p);
        for (int i = 0; i < DK_N_ASSET_TYPES; i++)
            test->months[i] = months;
        return true;
    }
    for (;;) {
        const struct tok *t = take(p);
        int type = name_index(t, asset_type_names(), DK_N_ASSET_TYPES);

        if (t == NULL)
            return fail_why(
                p, "'older than' needs an age (5y, 18m) or TYPE AGE pairs");
        if (type < 0)
            return fail_why(
                p, "'%.*s' is neither an age (5y, 18m) nor an asset type",
                (int)t->len, t->s);
        if (test->months[type] >= 0)
            return fail_why(p, "'%.*s' is given twice", (int)t->len, t->s);
        t = take(p);
        if (!parse_age(t, &test->months[type]))
            return fail_why(p,
                            "'%s' must be followed by an age such as 5y or 18m",
                            config_asset_type(type));
        if (!tok_is(peek(p), ","))
            return true;
        take(p);
    }
}

static bool parse_test(struct parser *p, struct rule_test *test)
{
    const struct tok *t = take(p);

    memset(test, 0, sizeof(*test));
    if (tok_is(t, "always")) {
        test->kind = TEST_ALWAYS;
        return true;
    }
    if (tok_is(t, "reserved")) {
        test->kind = TEST_RESERVED;
        return true;
    }
    if (tok_is(t, "condition")) {
        test->kind = TEST_CONDITION;
        return expect(p, "is", "condition") &&
               parse_names(p, conditions, N_CONDITIONS, "a condition",
                           "good, worn, damaged, not_working", &test->set);
    }
    if (tok_is(t, "type")) {
        test->kind = TEST_TYPE;
        return expect(p, "is", "type") &&
               parse_names(
                   p, asset_type_names(), DK_N_ASSET_TYPES, "an asset type",
                   "laptop, chromebook, tablet, phone, hotspot, desktop, other",
                   &test->set);
    }
    if (tok_is(t, "older")) {
        test->kind = TEST_OLDER;
        return parse_older(p, test);
    }
    if (tok_is(t, "auto")) {
        test->kind = TEST_AUE;
        return expect(p, "update", "auto") &&
               expect(p, "expired", "auto update");
    }
    if (t == NULL)
        return fail_why(p, "a test is missing before '->'");
    return fail_why(
        p,
        "'%.*s' is not a test (always, condition is, type is, older than, "
        "auto update expired, reserved)",
        (int)t->len, t->s);
}

static bool parse_outcome(struct parser *p, const char *s, enum dk_outcome *out)
{
    static const char *const names[] = {"reimage", "reassign", "recycle"};
    static const enum dk_outcome outcomes[] = {
        DK_OUTCOME_REIMAGE, DK_OUTCOME_REASSIGN, DK_OUTCOME_RECYCLE};
    int i;

    if (!tokenize(p, s, strlen(s)))
        return false;
    i = name_index(peek(p), names, 3);
    if (p->n != 1 || i < 0)
        return fail_why(
            p,
            "'->' must be followed by one outcome: reimage, reassign or recycle");
    *out = outcomes[i];
    return true;
}

/* Whether the tests need a reservation to be there. */
static bool has_reserved(const struct rule *r)
{
    for (int i = 0; i < r->n_tests; i++) {
        if (r->tests[i].kind == TEST_RESERVED)
            return true;
    }
    return false;
}

static bool check_combination(struct parser *p, const struct rule *r)
{
    for (int i = 0; i < r->n_tests; i++) {
        if (r->tests[i].kind == TEST_ALWAYS && r->n_tests > 1)
            return fail_why(p, "'always' stands alone, without 'and'");
    }
    if (r->outcome == DK_OUTCOME_REASSIGN && !has_reserved(r))
        return fail_why(
            p,
            "'reassign' needs the test 'reserved' (the reservation names the person)");
    return true;
}

static bool parse_rule(struct parser *p, const char *text, struct rule *r)
{
    const char *arrow = strstr(text, "->");

    memset(r, 0, sizeof(*r));
    p->why[0] = '\0';
    if (arrow == NULL)
        return fail_why(p, "no '->': a rule reads TEST -> OUTCOME");
    if (strstr(arrow + 2, "->") != NULL)
        return fail_why(p, "more than one '->'");
    if (!parse_outcome(p, arrow + 2, &r->outcome))
        return false;
    if (!tokenize(p, text, (size_t)(arrow - text)))
        return false;
    for (;;) {
        if (r->n_tests == MAX_TESTS)
            return fail_why(p, "more than %d tests joined by 'and'", MAX_TESTS);
        if (!parse_test(p, &r->tests[r->n_tests++]))
            return false;
        if (peek(p) == NULL)
            break;
        if (!tok_is(peek(p), "and"))
            return fail_why(p, "expected 'and' or '->', not '%.*s'",
                            (int)peek(p)->len, peek(p)->s);
        take(p);
    }
    return check_combination(p, r);
}

int disposition_check_rules(const struct dk_config *cfg, struct dk_error *err)
{
    struct parser p;
    struct rule r;

    for (int i = 0; i < cfg->n_rules; i++) {
        if (!parse_rule(&p, cfg->rules[i], &r))
            return dk_error_set(err, DK_EINPUT, "%s:%d: bad rule: %s",
                                cfg->path, cfg->rule_lines[i], p.why);
    }
    return 0;
}

/* ---- matching ---- */

/* "YYYY-MM-DD" exactly. */
static bool parse_ymd(const char *s, struct ymd *out)
{
    static const int at[] = {0, 1, 2, 3, 5, 6, 8, 9};

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        if (!isdigit((unsigned char)s[at[i]]))
            return false;
    }
    out->y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
             (s[3] - '0');
    out->m = (s[5] - '0') * 10 + (s[6] - '0');
    out->d = (s[8] - '0') * 10 + (s[9] - '0');
    return out->m >= 1 && out->m <= 12 && out->d >= 1 && out->d <= 31;
}

static int ymd_cmp(const struct ymd *a, const struct ymd *b)
{
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    if (a->m != b->m)
        return a->m < b->m ? -1 : 1;
    return a->d == b->d ? 0 : a->d < b->d ? -1 : 1;
}

/* Older than `months`: today is past the day `months` after purchase.  The
 * day is not clamped to the month's length: 29 February plus a year is
 * "29 February", which sorts between the 28th and 1 March as it should. */
static bool older_than(const char *purchase, int months,
                       const struct ymd *today)
{
    struct ymd p;
    int m;

    if (months < 0 || !parse_ymd(purchase, &p))
        return false;
    m = p.m - 1 + months;
    p.y += m / 12;
    p.m = m % 12 + 1;
    return ymd_cmp(today, &p) > 0;
}

static bool test_matches(const struct rule_test *t, const struct ret *r,
                         bool reserved, const struct ymd *today)
{
    int type = config_asset_type_index(r->type);
    int cond = -1;
    struct ymd aue;

    for (int i = 0; i < N_CONDITIONS; i++) {
        if (strcmp(r->condition, conditions[i]) == 0)
            cond = i;
    }
    switch (t->kind) {
    case TEST_ALWAYS:
        return true;
    case TEST_CONDITION:
        return cond >= 0 && (t->set & (1u << cond)) != 0;
    case TEST_TYPE:
        return type >= 0 && (t->set & (1u << type)) != 0;
    case TEST_OLDER:
        return type >= 0 && older_than(r->purchase, t->months[type], today);
    case TEST_AUE:
        return parse_ymd(r->aue, &aue) && ymd_cmp(&aue, today) < 0;
    case TEST_RESERVED:
        return reserved;
    }
    return false;
}

static bool rule_matches(const struct rule *rule, const struct ret *r,
                         bool reserved, const struct ymd *today)
{
    for (int i = 0; i < rule->n_tests; i++) {
        if (!test_matches(&rule->tests[i], r, reserved, today))
            return false;
    }
    return true;
}

/* ---- the store ---- */

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);

    snprintf(dst, size, "%s", v != NULL ? (const char *)v : "");
}

static int db_fail(struct dk_store *store, struct dk_error *err,
                   const char *what)
{
    return dk_error_set(err, DK_EDB, "cannot %s: %s", what,
                        sqlite3_errmsg(store->db));
}

/* The return a tag's disposition is about: its received one, else its
 * latest (to say why it is not waiting). */
static int find_return(struct dk_store *store, int64_t id, const char *tag,
                       struct ret *r, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "SELECT r.id, r.asset_tag, r.state, r.condition, a.type, a.model, "
        "a.purchase_date, a.auto_update_expiry, a.assignee, "
        "a.tag IS NOT NULL, r.disposition, r.dispositioned_at, r.checklist "
        "FROM returns r LEFT JOIN assets a ON a.tag = r.asset_tag "
        "WHERE (?1 > 0 AND r.id = ?1) OR (?1 <= 0 AND r.asset_tag = ?2) "
        "ORDER BY r.state = 'received' DESC, r.id DESC LIMIT 1",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, tag != NULL ? tag : "", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(r, 0, sizeof(*r));
        r->id = sqlite3_column_int64(st, 0);
        copy_col(r->tag, sizeof(r->tag), st, 1);
        copy_col(r->state, sizeof(r->state), st, 2);
        copy_col(r->condition, sizeof(r->condition), st, 3);
        copy_col(r->type, sizeof(r->type), st, 4);
        copy_col(r->model, sizeof(r->model), st, 5);
        copy_col(r->purchase, sizeof(r->purchase), st, 6);
        copy_col(r->aue, sizeof(r->aue), st, 7);
        copy_col(r->assignee, sizeof(r->assignee), st, 8);
        r->known = sqlite3_column_int(st, 9) != 0;
        copy_col(r->disposition, sizeof(r->disposition), st, 10);
        copy_col(r->dispositioned_at, sizeof(r->dispositioned_at), st, 11);
        copy_col(r->checklist, sizeof(r->checklist), st, 12);
        rc = 0;
    } else if (rc == SQLITE_DONE && id > 0) {
        rc = dk_error_set(err, DK_ENOTFOUND, "return #%lld does not exist",
                          (long long)id);
    } else if (rc == SQLITE_DONE) {
        rc = dk_error_set(err, DK_ENOTFOUND, "asset %s has never been returned",
                          tag);
    } else {
        rc = db_fail(store, err, "read returns");
    }
    sqlite3_finalize(st);
    return rc;
}

static int find_received(struct dk_store *store, int64_t id, const char *tag,
                         struct ret *r, struct dk_error *err)
{
    int rc = find_return(store, id, tag, r, err);

    if (rc != 0 || strcmp(r->state, "received") == 0)
        return rc;
    if (strcmp(r->state, "dropped") == 0)
        return dk_error_set(
            err, DK_EINPUT,
            "asset %s has not been received yet: "
            "a technician receives it first (dropkioskctl receive %s)",
            r->tag, r->tag);
    return dk_error_set(err, DK_EINPUT,
                        "asset %s was already dispositioned (%s at %s); "
                        "no return of it is waiting",
                        r->tag, r->disposition, r->dispositioned_at);
}

/* The oldest open reservation for model by someone still in the district:
 * 1 with it in *p, 0 when none, DK_EDB. */
static int find_reservation(struct dk_store *store, const char *model,
                            struct dk_proposal *p, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (model[0] == '\0')
        return 0;
    rc = store_prepare(
        store,
        "SELECT v.id, v.staff_id, s.name FROM reservations v "
        "JOIN staff s ON s.id = v.staff_id "
        "WHERE v.fulfilled_by IS NULL AND v.model = ?1 COLLATE NOCASE "
        "AND s.left_on IS NULL ORDER BY v.id LIMIT 1",
        &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->reservation_id = sqlite3_column_int64(st, 0);
        copy_col(p->holder, sizeof(p->holder), st, 1);
        copy_col(p->holder_name, sizeof(p->holder_name), st, 2);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : db_fail(store, err, "read reservations");
    }
    sqlite3_finalize(st);
    return rc;
}

static void rule_source(const struct dk_config *cfg, int i,
                        struct dk_proposal *out)
{
    if (cfg->n_rules == 0) {
        snprintf(out->rule, sizeof(out->rule), "%s", builtin_rules[i]);
        snprintf(out->source, sizeof(out->source), "built-in");
        out->line = 0;
        return;
    }
    snprintf(out->rule, sizeof(out->rule), "%s", cfg->rules[i]);
    snprintf(out->source, sizeof(out->source), "%s:%d", cfg->path,
             cfg->rule_lines[i]);
    out->line = cfg->rule_lines[i];
}

static int propose_for(struct dk_store *store, const struct dk_config *cfg,
                       const struct ret *r, const struct ymd *today,
                       struct dk_proposal *out, struct dk_error *err)
{
    struct dk_proposal found = {0};
    int n = cfg->n_rules > 0 ? cfg->n_rules : N_BUILTIN;
    int reserved = find_reservation(store, r->model, &found, err);

    if (reserved < 0)
        return reserved;
    memset(out, 0, sizeof(*out));
    out->return_id = r->id;
    snprintf(out->tag, sizeof(out->tag), "%s", r->tag);
    snprintf(out->type, sizeof(out->type), "%s", r->type);
    snprintf(out->model, sizeof(out->model), "%s", r->model);
    snprintf(out->condition, sizeof(out->condition), "%s", r->condition);
    snprintf(out->checklist, sizeof(out->checklist), "%s", r->checklist);
    snprintf(out->source, sizeof(out->source), "none");
    for (int i = 0; i < n; i++) {
        struct parser p;
        struct rule rule;

        /* Config rules were checked at load; a built-in one that fails to
         * parse is a bug the unit tests catch. */
        if (!parse_rule(&p, cfg->n_rules > 0 ? cfg->rules[i] : builtin_rules[i],
                        &rule) ||
            !rule_matches(&rule, r, reserved == 1, today))
            continue;
        out->outcome = rule.outcome;
        rule_source(cfg, i, out);
        if (rule.outcome == DK_OUTCOME_REASSIGN) {
            out->reservation_id = found.reservation_id;
            snprintf(out->holder, sizeof(out->holder), "%s", found.holder);
            snprintf(out->holder_name, sizeof(out->holder_name), "%s",
                     found.holder_name);
        }
        break;
    }
    return 0;
}

int disposition_propose(struct dk_store *store, const struct dk_config *cfg,
                        int64_t return_id, const char *tag, const char *today,
                        struct dk_proposal *out, struct dk_error *err)
{
    struct ymd day;
    struct ret r;
    int rc;

    if (!parse_ymd(today, &day))
        return dk_error_set(err, DK_EINPUT, "'%s' is not a date (YYYY-MM-DD)",
                            today != NULL ? today : "");
    rc = find_received(store, return_id, tag, &r, err);
    if (rc == 0)
        rc = propose_for(store, cfg, &r, &day, out, err);
    return rc;
}

/* ---- acts ---- */

/* A value a technician typed: present, clean text, at most FIELD_MAX. */
static int check_field(const char *what, const char *value,
                       struct dk_error *err)
{
    size_t len = value != NULL ? strlen(value) : 0;

    if (len == 0)
        return dk_error_set(err, DK_EINPUT, "%s is missing", what);
    if (len > FIELD_MAX)
        return dk_error_set(err, DK_EINPUT, "%s is longer than %d bytes", what,
                            FIELD_MAX);
    if (!text_is_clean(value, len))
        return dk_error_set(err, DK_EINPUT,
                            "%s holds control characters or invalid UTF-8",
                            what);
    return 0;
}

static int check_act(const struct dk_act *act, struct dk_error *err)
{
    struct ymd day;

    if (act == NULL || act->tech == NULL || act->tech[0] == '\0' ||
        act->now == NULL || act->now[0] == '\0')
        return dk_error_set(err, DK_EINPUT,
                            "no technician or time given for the act");
    if (!parse_ymd(act->today, &day))
        return dk_error_set(err, DK_EINPUT, "'%s' is not a date (YYYY-MM-DD)",
                            act->today != NULL ? act->today : "");
    return 0;
}

static void actor_of(const struct dk_act *act, char *buf, size_t size)
{
    snprintf(buf, size, "tech:%s", act->tech);
}

static int audit(struct dk_store *store, const struct dk_act *act,
                 const char *action, const char *subject, const char *details,
                 struct dk_error *err)
{
    char actor[96];

    actor_of(act, actor, sizeof(actor));
    return audit_append(store, actor, action, subject, details, err);
}

/* Run a statement whose parameters are all bound already; 0 or DK_EDB. */
static int step_done(struct dk_store *store, sqlite3_stmt *st, const char *what,
                     struct dk_error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(store, err, what);

    sqlite3_finalize(st);
    return rc;
}

/* Bind texts (NULL binds NULL) to ?1.. and run sql. */
static int exec_texts(struct dk_store *store, const char *sql, const char *what,
                      struct dk_error *err, int n, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc = store_prepare(store, sql, &st, err);

    if (rc != 0)
        return rc;
    va_start(ap, n);
    for (int i = 1; i <= n; i++) {
        const char *v = va_arg(ap, const char *);

        if (v != NULL)
            sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    }
    va_end(ap);
    return step_done(store, st, what, err);
}

static int count_wipes(struct dk_store *store, int64_t return_id, int *n,
                       struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store, "SELECT count(*) FROM wipes WHERE return_id = ?", &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, return_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    else
        rc = db_fail(store, err, "read wipes");
    sqlite3_finalize(st);
    return rc;
}

static int need_wipe(struct dk_store *store, const struct ret *r,
                     const char *verb, struct dk_error *err)
{
    int n = 0;
    int rc = count_wipes(store, r->id, &n, err);

    if (rc == 0 && n == 0)
        rc = dk_error_set(
            err, DK_EINPUT,
            "asset %s has no data wipe recorded: "
            "record it first (dropkioskctl wipe %s --method M --tool T) before %s",
            r->tag, r->tag, verb);
    return rc;
}

/* Each act's refusals, read-only, in one function the act runs inside its
 * transaction and disposition_check_* runs before the technician logs in:
 * the two cannot drift apart. */
static int ready_to_wipe(struct dk_store *store, const char *tag,
                         const char *method, const char *tool, struct ret *r,
                         struct dk_error *err)
{
    int rc = check_field("--method", method, err);

    if (rc == 0)
        rc = check_field("--tool", tool, err);
    if (rc == 0)
        rc = find_received(store, 0, tag, r, err);
    return rc;
}

int disposition_check_wipe(struct dk_store *store, const char *tag,
                           const char *method, const char *tool,
                           struct dk_error *err)
{
    struct ret r;

    return ready_to_wipe(store, tag, method, tool, &r, err);
}

int disposition_wipe(struct dk_store *store, const struct dk_act *act,
                     const char *tag, const char *method, const char *tool,
                     struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char details[512];
    struct ret r;
    int rc = check_act(act, err);

    if (rc == 0)
        rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = ready_to_wipe(store, tag, method, tool, &r, err);
    if (rc != 0)
        goto out;
    rc = store_prepare(
        store,
        "INSERT INTO wipes (return_id, method, tool, technician, wiped_at) "
        "VALUES (?, ?, ?, ?, ?)",
        &st, err);
    if (rc != 0)
        goto out;
    sqlite3_bind_int64(st, 1, r.id);
    sqlite3_bind_text(st, 2, method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, tool, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, act->tech, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, act->now, -1, SQLITE_TRANSIENT);
    rc = step_done(store, st, "record the wipe", err);
    if (rc != 0)
        goto out;
    snprintf(details, sizeof(details), "return=%lld method=%s tool=%s",
             (long long)r.id, method, tool);
    rc = audit(store, act, "wipe recorded", r.tag, details, err);
    if (rc == 0)
        rc = store_commit(store, err);
out:
    if (rc != 0)
        store_rollback(store);
    return rc;
}

/* The disposition_reason and disposition_rule of a decision. */
static void describe(const struct dk_proposal *p, enum dk_outcome chosen,
                     const char *holder, char *reason, size_t rsize, char *rule,
                     size_t size)
{
    const char *name = disposition_outcome_name(p->outcome);

    rule[0] = '\0';
    if (p->outcome == DK_OUTCOME_NONE) {
        snprintf(reason, rsize, "no rule proposed a disposition");
        return;
    }
    snprintf(rule, size, "%s: %s", p->source, p->rule);
    if (p->outcome != chosen)
        snprintf(reason, rsize, "overrode the proposal to %s of rule '%s' (%s)",
                 name, p->rule, p->source);
    else if (chosen == DK_OUTCOME_REASSIGN && strcmp(p->holder, holder) != 0)
        snprintf(reason, rsize,
                 "followed the proposal to reassign of rule '%s' (%s), "
                 "to %s rather than the reservation's %s",
                 p->rule, p->source, holder, p->holder);
    else
        snprintf(reason, rsize, "followed the proposal to %s of rule '%s' (%s)",
                 name, p->rule, p->source);
}

/* Move r to dispositioned as chosen, with the reason against the rules'
 * proposal, and write the audit row. */
static int settle(struct dk_store *store, const struct dk_config *cfg,
                  const struct dk_act *act, const struct ret *r,
                  enum dk_outcome chosen, const char *holder,
                  struct dk_error *err)
{
    struct dk_proposal p;
    sqlite3_stmt *st = NULL;
    /* Room for the rule, its source and two staff ids, with the words. */
    char reason[sizeof(p.rule) + sizeof(p.source) + 2 * sizeof(p.holder) + 128];
    char rule[sizeof(p.source) + sizeof(p.rule) + 4];
    char details[sizeof(reason) + 64];
    struct ymd today;
    int rc;

    (void)parse_ymd(act->today, &today); /* check_act has seen it */
    rc = propose_for(store, cfg, r, &today, &p, err);
    if (rc != 0)
        return rc;
    describe(&p, chosen, holder != NULL ? holder : "", reason, sizeof(reason),
             rule, sizeof(rule));
    rc = store_prepare(
        store,
        "UPDATE returns SET state = 'dispositioned', disposition = ?1, "
        "disposition_reason = ?2, disposition_rule = ?3, "
        "dispositioned_at = ?4, dispositioned_by = ?5, new_holder = ?6 "
        "WHERE id = ?7 AND state = 'received'",
        &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, disposition_outcome_name(chosen), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_TRANSIENT);
    if (rule[0] != '\0')
        sqlite3_bind_text(st, 3, rule, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, act->now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, act->tech, -1, SQLITE_TRANSIENT);
    if (holder != NULL)
        sqlite3_bind_text(st, 6, holder, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, r->id);
    rc = step_done(store, st, "record the disposition", err);
    if (rc != 0)
        return rc;
    snprintf(details, sizeof(details), "return=%lld disposition=%s; %s",
             (long long)r->id, disposition_outcome_name(chosen), reason);
    return audit(store, act, "return dispositioned", r->tag, details, err);
}

/* A device the inventory does not hold has no record to put back in stock
 * or hand over: it is imported first, as the message says. */
static int need_known(const struct ret *r, const char *verb,
                      struct dk_error *err)
{
    if (r->known)
        return 0;
    return dk_error_set(
        err, DK_EINPUT,
        "asset %s is not in the inventory: import it before %s it", r->tag,
        verb);
}

static int ready_to_reimage(struct dk_store *store, const char *tag,
                            struct ret *r, struct dk_error *err)
{
    int rc = find_received(store, 0, tag, r, err);

    if (rc == 0)
        rc = need_known(r, "reimaging", err);
    if (rc == 0)
        rc = need_wipe(store, r, "reimaging", err);
    return rc;
}

int disposition_check_reimage(struct dk_store *store, const char *tag,
                              struct dk_error *err)
{
    struct ret r;

    return ready_to_reimage(store, tag, &r, err);
}

int disposition_reimage(struct dk_store *store, const struct dk_config *cfg,
                        const struct dk_act *act, const char *tag,
                        struct dk_error *err)
{
    struct ret r;
    int rc = check_act(act, err);

    if (rc == 0)
        rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = ready_to_reimage(store, tag, &r, err);
    if (rc == 0)
        rc = settle(store, cfg, act, &r, DK_OUTCOME_REIMAGE, NULL, err);
    /* Back in stock: nobody holds it until a reassignment names someone. */
    if (rc == 0)
        rc = exec_texts(store,
                        "UPDATE assets SET status = 'stock', assignee = NULL "
                        "WHERE tag = ?1",
                        "update the asset", err, 1, r.tag);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    return rc;
}

/* The staff member a device goes to: by exact id, still in the district. */
static int check_holder(struct dk_store *store, const char *staff_id,
                        struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = check_field("the staff id", staff_id, err);

    if (rc == 0)
        rc = store_prepare(store, "SELECT left_on FROM staff WHERE id = ?", &st,
                           err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = dk_error_set(err, DK_EINPUT, "no staff member has the id '%s'",
                          staff_id);
    else if (rc != SQLITE_ROW)
        rc = db_fail(store, err, "read staff");
    else if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        rc = dk_error_set(err, DK_EINPUT,
                          "staff member %s left the district on %s", staff_id,
                          (const char *)sqlite3_column_text(st, 0));
    else
        rc = 0;
    sqlite3_finalize(st);
    return rc;
}

/* The holder's oldest open reservation for the model is fulfilled by this
 * return; *id is 0 when they had none. */
static int fulfil(struct dk_store *store, const struct ret *r,
                  const char *staff_id, int64_t *id, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "UPDATE reservations SET fulfilled_by = ?1 WHERE id = "
        "(SELECT id FROM reservations WHERE fulfilled_by IS NULL AND "
        "staff_id = ?2 AND model = ?3 COLLATE NOCASE ORDER BY id LIMIT 1) "
        "RETURNING id",
        &st, err);

    if (rc != 0)
        return rc;
    *id = 0;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, staff_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->model, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, err, "fulfil the reservation");
    sqlite3_finalize(st);
    return rc;
}

static int hand_over(struct dk_store *store, const struct dk_act *act,
                     const struct ret *r, const char *staff_id,
                     struct dk_error *err)
{
    char details[700];
    int64_t reservation = 0;
    int rc = exec_texts(store,
                        "UPDATE assets SET assignee = ?1, status = 'deployed' "
                        "WHERE tag = ?2",
                        "update the asset", err, 2, staff_id, r->tag);

    if (rc == 0)
        rc = fulfil(store, r, staff_id, &reservation, err);
    if (rc != 0)
        return rc;
    snprintf(details, sizeof(details),
             "return=%lld from=%s to=%s reservation=%lld", (long long)r->id,
             r->assignee[0] != '\0' ? r->assignee : "-", staff_id,
             (long long)reservation);
    return audit(store, act, "asset reassigned", r->tag, details, err);
}

static int ready_to_reassign(struct dk_store *store, const char *tag,
                             const char *staff_id, struct ret *r,
                             struct dk_error *err)
{
    int rc = find_received(store, 0, tag, r, err);

    if (rc == 0)
        rc = need_known(r, "reassigning", err);
    if (rc == 0)
        rc = check_holder(store, staff_id, err);
    if (rc == 0)
        rc = need_wipe(store, r, "reassigning", err);
    return rc;
}

int disposition_check_reassign(struct dk_store *store, const char *tag,
                               const char *staff_id, struct dk_error *err)
{
    struct ret r;

    return ready_to_reassign(store, tag, staff_id, &r, err);
}

int disposition_reassign(struct dk_store *store, const struct dk_config *cfg,
                         const struct dk_act *act, const char *tag,
                         const char *staff_id, struct dk_error *err)
{
    struct ret r;
    int rc = check_act(act, err);

    if (rc == 0)
        rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = ready_to_reassign(store, tag, staff_id, &r, err);
    if (rc == 0)
        rc = settle(store, cfg, act, &r, DK_OUTCOME_REASSIGN, staff_id, err);
    if (rc == 0)
        rc = hand_over(store, act, &r, staff_id, err);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    return rc;
}

static int open_manifest_id(struct dk_store *store, int64_t *id,
                            struct dk_error *err)
{
    char opened_at[32];
    int items;

    return disposition_manifest_open(store, id, opened_at, sizeof(opened_at), &items, err);
}

/* The open manifest, opened now when there is none. */
static int manifest_for_recycle(struct dk_store *store,
                                const struct dk_act *act, int64_t *id,
                                struct dk_error *err)
{
    char subject[48];
    int rc = open_manifest_id(store, id, err);

    if (rc != DK_ENOTFOUND)
        return rc;
    rc = exec_texts(store, "INSERT INTO manifests (opened_at) VALUES (?1)",
                    "open a manifest", err, 1, act->now);
    if (rc != 0)
        return rc;
    *id = sqlite3_last_insert_rowid(store->db);
    snprintf(subject, sizeof(subject), "manifest %lld", (long long)*id);
    return audit(store, act, "manifest opened", subject, NULL, err);
}

static int add_to_manifest(struct dk_store *store, const struct dk_act *act,
                           const struct ret *r, const char *level,
                           int64_t manifest, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char subject[48];
    char details[400];
    int rc = store_prepare(
        store,
        "INSERT INTO manifest_items (manifest_id, return_id, level, "
        "technician, added_at) VALUES (?, ?, ?, ?, ?)",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, manifest);
    sqlite3_bind_int64(st, 2, r->id);
    sqlite3_bind_text(st, 3, level, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, act->tech, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, act->now, -1, SQLITE_TRANSIENT);
    rc = step_done(store, st, "add the device to the manifest", err);
    if (rc != 0)
        return rc;
    snprintf(subject, sizeof(subject), "manifest %lld", (long long)manifest);
    snprintf(details, sizeof(details), "tag=%s return=%lld level=%s", r->tag,
             (long long)r->id, level);
    return audit(store, act, "manifest item added", subject, details, err);
}

/* NIST SP 800-88 Rev. 1, section 2.5: the three sanitisation categories. */
static bool level_ok(const char *level)
{
    return level != NULL &&
           (strcmp(level, "clear") == 0 || strcmp(level, "purge") == 0 ||
            strcmp(level, "destroy") == 0);
}

static int ready_to_recycle(struct dk_store *store, const char *tag,
                            const char *level, struct ret *r,
                            struct dk_error *err)
{
    if (!level_ok(level))
        return dk_error_set(
            err, DK_EINPUT,
            "--level must be clear, purge or destroy (NIST SP 800-88), not '%s'",
            level != NULL ? level : "");
    return find_received(store, 0, tag, r, err);
}

int disposition_check_recycle(struct dk_store *store, const char *tag,
                              const char *level, struct dk_error *err)
{
    struct ret r;

    return ready_to_recycle(store, tag, level, &r, err);
}

int disposition_recycle(struct dk_store *store, const struct dk_config *cfg,
                        const struct dk_act *act, const char *tag,
                        const char *level, int64_t *manifest_id,
                        struct dk_error *err)
{
    int64_t manifest = 0;
    struct ret r;
    int rc = check_act(act, err);

    if (rc == 0)
        rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = ready_to_recycle(store, tag, level, &r, err);
    if (rc == 0)
        rc = manifest_for_recycle(store, act, &manifest, err);
    if (rc == 0)
        rc = settle(store, cfg, act, &r, DK_OUTCOME_RECYCLE, NULL, err);
    if (rc == 0)
        rc = add_to_manifest(store, act, &r, level, manifest, err);
    if (rc == 0)
        rc =
            exec_texts(store,
                       "UPDATE assets SET status = 'recycled', assignee = NULL "
                       "WHERE tag = ?1",
                       "update the asset", err, 1, r.tag);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    else if (manifest_id != NULL)
        *manifest_id = manifest;
    return rc;
}

/* The inventory's own spelling of model into out; DK_EINPUT when no asset
 * has it. */
static int known_model(struct dk_store *store, const char *model, char *out,
                       size_t size, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "SELECT model FROM assets WHERE model = ?1 COLLATE NOCASE "
        "ORDER BY model = ?1 DESC LIMIT 1",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        copy_col(out, size, st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc =
            dk_error_set(err, DK_EINPUT,
                         "no asset in the inventory has the model '%s'", model);
    } else {
        rc = db_fail(store, err, "read assets");
    }
    sqlite3_finalize(st);
    return rc;
}

static int no_open_reservation(struct dk_store *store, const char *model,
                               const char *staff_id, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "SELECT id FROM reservations WHERE fulfilled_by IS NULL AND "
        "staff_id = ? AND model = ? COLLATE NOCASE",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = dk_error_set(
            err, DK_EINPUT, "%s already has an open reservation (#%lld) for %s",
            staff_id, (long long)sqlite3_column_int64(st, 0), model);
    else
        rc = rc == SQLITE_DONE ? 0 : db_fail(store, err, "read reservations");
    sqlite3_finalize(st);
    return rc;
}

/* spelled (size bytes) receives the inventory's spelling of model. */
static int ready_to_reserve(struct dk_store *store, const char *model,
                            const char *staff_id, char *spelled, size_t size,
                            struct dk_error *err)
{
    int rc = check_field("the model", model, err);

    if (rc == 0)
        rc = known_model(store, model, spelled, size, err);
    if (rc == 0)
        rc = check_holder(store, staff_id, err);
    if (rc == 0)
        rc = no_open_reservation(store, spelled, staff_id, err);
    return rc;
}

int disposition_check_reserve(struct dk_store *store, const char *model,
                              const char *staff_id, struct dk_error *err)
{
    char spelled[256];

    return ready_to_reserve(store, model, staff_id, spelled, sizeof(spelled),
                            err);
}

int disposition_reserve(struct dk_store *store, const struct dk_act *act,
                        const char *model, const char *staff_id, int64_t *id,
                        struct dk_error *err)
{
    char spelled[256];
    char details[400];
    int64_t new_id = 0;
    int rc = check_act(act, err);

    if (rc == 0)
        rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = ready_to_reserve(store, model, staff_id, spelled, sizeof(spelled),
                          err);
    if (rc == 0)
        rc = exec_texts(
            store,
            "INSERT INTO reservations (model, staff_id, created_at) "
            "VALUES (?1, ?2, ?3)",
            "add the reservation", err, 3, spelled, staff_id, act->now);
    if (rc == 0) {
        new_id = sqlite3_last_insert_rowid(store->db);
        snprintf(details, sizeof(details), "reservation=%lld staff=%s",
                 (long long)new_id, staff_id);
        rc = audit(store, act, "reservation added", spelled, details, err);
    }
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    else if (id != NULL)
        *id = new_id;
    return rc;
}

/* ---- the manifest ---- */

/* A cell of the manifest is written exactly (csv_write_field).
 * TODO(manifest): when the vendor opens the CSV in a spreadsheet, a model
 * or serial beginning with = + - @ could be taken as a formula; if that
 * matters to them, agree a prefix with the vendor, because changing the
 * bytes here would break their reconciliation against our records. */
int disposition_manifest_csv(struct dk_store *store, int64_t manifest_id,
                             char **csv, size_t *len, struct dk_error *err)
{
    static const char header[] =
        "asset_tag,serial,type,make,model,level,technician,date\r\n";
    char *data = NULL;
    size_t size = 0;
    FILE *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "SELECT r.asset_tag, a.serial, a.type, a.make, a.model, i.level, "
        "i.technician, substr(i.added_at, 1, 10) FROM manifest_items i "
        "JOIN returns r ON r.id = i.return_id "
        "LEFT JOIN assets a ON a.tag = r.asset_tag "
        "WHERE i.manifest_id = ? ORDER BY i.rowid",
        &st, err);

    if (rc != 0)
        return rc;
    out = open_memstream(&data, &size);
    if (out == NULL) {
        sqlite3_finalize(st);
        return dk_error_set(err, -ENOMEM, "manifest %lld does not fit in memory",
                            (long long)manifest_id);
    }
    sqlite3_bind_int64(st, 1, manifest_id);
    fputs(header, out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int col = 0; col < 8; col++) {
            const unsigned char *v = sqlite3_column_text(st, col);
            const char *text = v != NULL ? (const char *)v : "";

            if (col > 0)
                fputc(',', out);
            csv_write_field(out, text, strlen(text));
        }
        fputs("\r\n", out);
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, err, "read the manifest");
    sqlite3_finalize(st);
    /* open_memstream sets data and size at fclose. */
    if (fclose(out) != 0 && rc == 0)
        rc = dk_error_set(err, -ENOMEM, "manifest %lld does not fit in memory",
                          (long long)manifest_id);
    if (rc != 0) {
        free(data);
        return rc;
    }
    *csv = data;
    *len = size;
    return 0;
}

int disposition_manifest_open(struct dk_store *store, int64_t *id,
                              char *opened_at, size_t size, int *items,
                              struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store,
        "SELECT m.id, m.opened_at, (SELECT count(*) FROM manifest_items i "
        "WHERE i.manifest_id = m.id) FROM manifests m "
        "WHERE m.closed_at IS NULL ORDER BY m.id LIMIT 1",
        &st, err);

    if (rc != 0)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        copy_col(opened_at, size, st, 1);
        *items = sqlite3_column_int(st, 2);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = dk_error_set(
            err, DK_ENOTFOUND,
            "no e-waste manifest is open (recycling a device opens one)");
    } else {
        rc = db_fail(store, err, "read manifests");
    }
    sqlite3_finalize(st);
    return rc;
}

static int close_row(struct dk_store *store, const struct dk_act *act,
                     int64_t id, const char *vendor, const char *certificate,
                     struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char subject[48];
    char details[400];
    int rc = store_prepare(
        store,
        "UPDATE manifests SET closed_at = ?, vendor = ?, certificate = ? "
        "WHERE id = ? AND closed_at IS NULL",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, act->now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, vendor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, certificate, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, id);
    rc = step_done(store, st, "close the manifest", err);
    if (rc != 0)
        return rc;
    snprintf(subject, sizeof(subject), "manifest %lld", (long long)id);
    snprintf(details, sizeof(details), "vendor=%s certificate=%s", vendor,
             certificate);
    return audit(store, act, "manifest closed", subject, details, err);
}

static int ready_to_close(struct dk_store *store, const char *vendor,
                          const char *certificate, int64_t *manifest,
                          struct dk_error *err)
{
    int rc = check_field("--vendor", vendor, err);

    if (rc == 0)
        rc = check_field("--certificate", certificate, err);
    if (rc == 0)
        rc = open_manifest_id(store, manifest, err);
    return rc;
}

int disposition_check_manifest_close(struct dk_store *store,
                                     const char *vendor,
                                     const char *certificate,
                                     struct dk_error *err)
{
    int64_t manifest = 0;

    return ready_to_close(store, vendor, certificate, &manifest, err);
}

int disposition_manifest_close(struct dk_store *store, const struct dk_act *act,
                               const char *vendor, const char *certificate,
                               int (*sink)(const char *csv, size_t len,
                                           void *user, struct dk_error *err),
                               void *user, int64_t *id, struct dk_error *err)
{
    char *csv = NULL;
    size_t len = 0;
    int64_t manifest = 0;
    int rc = check_act(act, err);

    if (rc == 0)
        rc = store_begin(store, err);
    if (rc != 0)
        return rc;
    rc = ready_to_close(store, vendor, certificate, &manifest, err);
    if (rc == 0)
        rc = disposition_manifest_csv(store, manifest, &csv, &len, err);
    if (rc == 0)
        rc = close_row(store, act, manifest, vendor, certificate, err);
    if (rc == 0 && sink != NULL)
        rc = sink(csv, len, user, err);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    else if (id != NULL)
        *id = manifest;
    free(csv);
    return rc;
}
