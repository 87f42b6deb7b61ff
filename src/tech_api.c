/* The technician console's JSON API (/api/tech/...).
 *
 * Handlers run on the web server's connection threads.  Each request opens
 * its own database connection (store_open_existing) and closes it before
 * returning, and reaches the kiosk's main-thread objects never: what the
 * console changes goes through the same modules dropkioskctl uses (tech,
 * intake, disposition, report, outbox, audit), with their checks, their
 * transactions and their audit rows.
 *
 * Sessions live in memory only: a restart logs every technician out.  A
 * session id and its CSRF token are 32 random bytes each (libsodium),
 * compared in constant time.  The session cookie is HttpOnly and
 * SameSite=Strict (RFC 6265bis section 5.4.7), so another site can neither
 * read it nor have a browser send it; the CSRF token, which a change must
 * also carry in X-CSRF-Token, is a second lock for browsers that ignore
 * SameSite.  A cross-origin page cannot read the token from
 * GET /api/tech/session either: the server grants no CORS.
 *
 * Logins are hashed one at a time: Argon2id at libsodium's interactive
 * limits takes 64 MiB, and a burst of parallel logins must not exhaust the
 * kiosk's memory. */
#include "tech_api.h"

#include "audit.h"
#include "csv.h"
#include "disposition.h"
#include "intake.h"
#include "log.h"
#include "outbox.h"
#include "report.h"
#include "store.h"
#include "tech.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TECH_API_SESSIONS 64 /* logged-in consoles at once; the oldest idle goes */
#define TOKEN_BYTES 32
#define TOKEN_HEX (2 * TOKEN_BYTES)
#define PIN_INPUT_MAX 64     /* longer is not a PIN: refused before any hashing */
#define TEXT_FIELD_MAX 1024  /* any other string field; the modules check tighter */
#define CLEANOUT_MAX 2000    /* devices in one cart sent from the console */
#define RETRY_IDS_MAX 1000
#define AUDIT_DEFAULT 100
#define AUDIT_MAX 1000
#define CLOSED_SHOWN 20      /* closed manifests listed for download again */

static const char clear_warning[] =
    "level clear leaves the district's control: NIST SP 800-88 calls for purge or destroy";

struct tech_session {
    bool used;
    char id[TOKEN_HEX + 1];
    char csrf[TOKEN_HEX + 1];
    char tech_id[16];
    time_t last_used; /* CLOCK_MONOTONIC seconds: a clock change ends none */
};

struct dk_tech_api {
    const struct dk_config *cfg;
    pthread_mutex_t lock;       /* sessions */
    pthread_mutex_t login_lock; /* one PIN hash at a time */
    struct tech_session sessions[TECH_API_SESSIONS];
    void (*changed)(void *user); /* after a change that may have queued mail */
    void *changed_user;
};

/* One request being served. */
struct call {
    struct dk_tech_api *api;
    const struct dk_http_request *req;
    struct dk_http_reply *rep;
    struct dk_store *store;
    struct dk_tech tech;
    char actor[32]; /* "tech:T0001" */
    char now[32];   /* UTC */
    char today[16]; /* the site's local day */
    char csrf[TOKEN_HEX + 1]; /* the session's token, wiped when the call ends */
    struct dk_act act;
    struct dk_error err;
};

/* ---- sessions ----------------------------------------------------------- */

static time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static bool token_shape_ok(const char *s)
{
    if (s == NULL || strlen(s) != TOKEN_HEX)
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void new_token(char *hex)
{
    unsigned char raw[TOKEN_BYTES];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, TOKEN_HEX + 1, raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
}

static void session_clear(struct tech_session *s)
{
    sodium_memzero(s, sizeof(*s));
}

/* The live session with id cookie, under the lock; expired ones are
 * cleared on the way.  NULL when there is none. */
static struct tech_session *session_find(struct dk_tech_api *api, const char *cookie)
{
    time_t idle = (time_t)api->cfg->tech_session_minutes * 60;
    time_t now = mono_now();
    struct tech_session *found = NULL;

    for (size_t i = 0; i < TECH_API_SESSIONS; i++) {
        struct tech_session *s = &api->sessions[i];

        if (s->used && now - s->last_used >= idle)
            session_clear(s);
        if (s->used && token_shape_ok(cookie) &&
            sodium_memcmp(s->id, cookie, TOKEN_HEX) == 0)
            found = s;
    }
    return found;
}

/* A new session for technician tech_id: its id and CSRF token copied out
 * (TOKEN_HEX + 1 bytes each).  The oldest idle session makes room. */
static void session_create(struct dk_tech_api *api, const char *tech_id, char *id,
                           char *csrf)
{
    struct tech_session *slot = NULL;

    pthread_mutex_lock(&api->lock);
    session_find(api, NULL);
    for (size_t i = 0; i < TECH_API_SESSIONS; i++) {
        struct tech_session *s = &api->sessions[i];

        if (!s->used) {
            slot = s;
            break;
        }
        if (slot == NULL || s->last_used < slot->last_used)
            slot = s;
    }
    session_clear(slot);
    slot->used = true;
    new_token(slot->id);
    new_token(slot->csrf);
    snprintf(slot->tech_id, sizeof(slot->tech_id), "%s", tech_id);
    slot->last_used = mono_now();
    memcpy(id, slot->id, TOKEN_HEX + 1);
    memcpy(csrf, slot->csrf, TOKEN_HEX + 1);
    pthread_mutex_unlock(&api->lock);
}

static void session_end(struct dk_tech_api *api, const char *cookie)
{
    struct tech_session *s;

    pthread_mutex_lock(&api->lock);
    s = session_find(api, cookie);
    if (s != NULL)
        session_clear(s);
    pthread_mutex_unlock(&api->lock);
}

/* Check the request's session, and its CSRF token when it changes
 * something; slide the session's expiry only when both pass.  0 with the
 * technician's id and the token copied out, or the HTTP status: 401 no
 * live session, 403 a missing or wrong token. */
static int session_check(struct dk_tech_api *api, const struct dk_http_request *req,
                         bool change, char *tech_id, size_t size, char *csrf)
{
    struct tech_session *s;
    int status = 0;

    pthread_mutex_lock(&api->lock);
    s = session_find(api, req->cookie);
    if (s == NULL)
        status = 401;
    else if (change && (req->csrf == NULL || strlen(req->csrf) != TOKEN_HEX ||
                        sodium_memcmp(s->csrf, req->csrf, TOKEN_HEX) != 0))
        status = 403;
    if (status == 0) {
        s->last_used = mono_now();
        snprintf(tech_id, size, "%s", s->tech_id);
        memcpy(csrf, s->csrf, TOKEN_HEX + 1);
    }
    pthread_mutex_unlock(&api->lock);
    return status;
}

/* The Set-Cookie value for session id ("" ends the cookie). */
static void set_cookie(const struct dk_tech_api *api, struct dk_http_reply *rep,
                       const char *id)
{
    int max_age = id[0] != '\0' ? api->cfg->tech_session_minutes * 60 : 0;

    snprintf(rep->set_cookie, sizeof(rep->set_cookie),
             "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s", DK_TECH_COOKIE, id,
             max_age, api->cfg->http_cert[0] != '\0' ? "; Secure" : "");
}

/* ---- replies ------------------------------------------------------------ */

/* A module's refusal as an HTTP status, with its reason. */
static void fail(struct call *c, int rc)
{
    int status = 500;

    if (rc == DK_EINPUT)
        status = 400;
    else if (rc == DK_ENOTFOUND)
        status = 404;
    else if (rc == -EALREADY || rc == -EPERM)
        status = 409;
    else if (rc == DK_ETEMP)
        status = 503;
    if (status == 500)
        log_error("technician console: %s", c->err.msg);
    http_reply_error(c->rep, status, "%s", c->err.msg);
}

static void reply(struct call *c, json_t *json)
{
    if (json == NULL) {
        http_reply_error(c->rep, 500, "out of memory");
        return;
    }
    http_reply_json(c->rep, 200, json);
}

/* A download: body (taken) as an attachment called filename. */
static void reply_csv(struct call *c, char *body, size_t len, const char *filename)
{
    free(c->rep->body);
    c->rep->status = 200;
    c->rep->body = body;
    c->rep->body_len = len;
    c->rep->content_type = "text/csv; charset=utf-8";
    snprintf(c->rep->filename, sizeof(c->rep->filename), "%s", filename);
}

/* ---- request fields ----------------------------------------------------- */

/* The string field name of the body into *out: false, with a 400 naming the
 * field, when it is required and absent, or not a string, or longer than
 * max bytes.  An absent optional field is NULL. */
static bool body_text(struct call *c, const char *name, bool required, size_t max,
                      const char **out)
{
    json_t *v = c->req->body != NULL ? json_object_get(c->req->body, name) : NULL;

    *out = NULL;
    if (v == NULL && !required)
        return true;
    if (v == NULL) {
        http_reply_error(c->rep, 400, "\"%s\" is required", name);
        return false;
    }
    if (!json_is_string(v) || json_string_length(v) > max) {
        http_reply_error(c->rep, 400, "\"%s\" must be a string of at most %zu bytes", name,
                         max);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* The query argument name, required: false with a 400 naming it. */
static bool query_text(struct call *c, const char *name, const char **out)
{
    *out = http_query(c->req, name);
    if (*out == NULL || (*out)[0] == '\0' || strlen(*out) > TEXT_FIELD_MAX) {
        http_reply_error(c->rep, 400, "the query argument \"%s\" is required", name);
        return false;
    }
    return true;
}

/* A whole number from lo to hi in text; false for anything else. */
static bool whole_number(const char *text, long long lo, long long hi, long long *out)
{
    char *end = NULL;

    if (text == NULL || text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0' && *out >= lo && *out <= hi;
}

/* ?format=json (the default) or csv: false with a 400 for another. */
static bool want_csv(struct call *c, bool *csv)
{
    const char *f = http_query(c->req, "format");

    *csv = f != NULL && strcmp(f, "csv") == 0;
    if (f == NULL || *csv || strcmp(f, "json") == 0)
        return true;
    http_reply_error(c->rep, 400, "\"format\" must be json or csv");
    return false;
}

/* ---- CSV the modules write, as JSON ------------------------------------- */

/* CSV text with a header row as an array of objects keyed by the header
 * (every value a string), read back with the project's RFC 4180 reader;
 * *columns (may be NULL) gets the header's names.  0, -ENOMEM, DK_EINPUT. */
static int csv_json(const char *text, size_t len, json_t **columns, json_t **rows,
                    struct dk_error *err)
{
    struct dk_csv *csv = NULL;
    struct dk_csv_record rec;
    json_t *head = json_array();
    int rc = csv_open_memory(text, len, "table", NULL, &csv, err);

    *rows = json_array();
    while (rc == 0 && (rc = csv_next(csv, &rec, err)) == 1) {
        json_t *row = json_array_size(head) > 0 ? json_object() : NULL;

        rc = 0;
        for (size_t i = 0; i < rec.n_fields; i++) {
            if (row == NULL)
                json_array_append_new(head, json_string(rec.fields[i]));
            else if (i < json_array_size(head))
                json_object_set_new(row, json_string_value(json_array_get(head, i)),
                                    json_string(rec.fields[i]));
        }
        if (row != NULL)
            json_array_append_new(*rows, row);
    }
    csv_close(csv);
    if (rc == 0 && columns != NULL)
        *columns = json_incref(head);
    json_decref(head);
    if (rc != 0) {
        json_decref(*rows);
        *rows = NULL;
    }
    return rc;
}

/* ---- the request's frame ------------------------------------------------ */

static int open_store(struct call *c)
{
    int rc = store_open_existing(c->api->cfg->database, &c->store, &c->err);

    if (rc != 0)
        fail(c, rc == -ENOENT ? DK_EDB : rc);
    return rc;
}

/* The site's local day; the daemon set TZ from [kiosk] timezone at start,
 * so localtime_r reads it without touching the environment here. */
static void local_today(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}

/* Admit a request that needs a session (and for a change, the CSRF token),
 * open the database and load the technician, who must still be active.
 * false when the reply is already made. */
static bool call_begin(struct call *c, bool change)
{
    char id[16];
    int status = session_check(c->api, c->req, change, id, sizeof(id), c->csrf);
    int rc;

    if (status == 401) {
        set_cookie(c->api, c->rep, "");
        http_reply_error(c->rep, 401, "log in first: no technician session, or it has ended");
        return false;
    }
    if (status == 403) {
        http_reply_error(c->rep, 403, "a change needs the session's X-CSRF-Token");
        return false;
    }
    if (open_store(c) != 0)
        return false;
    rc = tech_find(c->store, id, &c->tech, &c->err);
    if (rc == 0 && !c->tech.active) {
        session_end(c->api, c->req->cookie);
        set_cookie(c->api, c->rep, "");
        http_reply_error(c->rep, 401, "technician %s is disabled", c->tech.id);
        return false;
    }
    if (rc != 0) {
        fail(c, rc);
        return false;
    }
    set_cookie(c->api, c->rep, c->req->cookie);
    snprintf(c->actor, sizeof(c->actor), "tech:%s", c->tech.id);
    store_utc_now(c->now, sizeof(c->now));
    local_today(c->today, sizeof(c->today));
    c->act = (struct dk_act){.tech = c->tech.id, .now = c->now, .today = c->today};
    return true;
}

/* ---- login, logout, session --------------------------------------------- */

/* Whole minutes left of technician badge's lock (at least 1). */
static int lock_minutes(struct dk_store *store, const char *badge, time_t now)
{
    struct dk_error err = {{0}};
    struct dk_tech t;
    struct tm tm = {0};
    const char *end;
    time_t until;

    if (tech_find(store, badge, &t, &err) != 0 || t.locked_until[0] == '\0')
        return DK_TECH_LOCK_SECONDS / 60;
    end = strptime(t.locked_until, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return DK_TECH_LOCK_SECONDS / 60;
    until = timegm(&tm);
    return until <= now ? 1 : (int)((until - now + 59) / 60);
}

/* A PIN typed into the form stays in the parsed body until the server frees
 * it: overwrite it there once read (jansson's string is ours to change). */
static void wipe_body_field(const struct dk_http_request *req, const char *name)
{
    json_t *v = req->body != NULL ? json_object_get(req->body, name) : NULL;

    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

/* The refusal of a login: the same words whether the badge exists or the PIN
 * is wrong, so the console tells a guesser no more than that. */
static void login_refused(struct call *c, int rc, int minutes)
{
    if (rc == DK_ENOTFOUND || rc == -EACCES)
        http_reply_error(c->rep, 401, "wrong badge or PIN");
    else if (rc == DK_ETEMP)
        http_reply_json(c->rep, 423,
                        json_pack("{s:s, s:i}", "error",
                                  "too many wrong PINs: this account is locked for now",
                                  "minutes", minutes));
    else if (rc == DK_EPERM)
        http_reply_error(c->rep, 403, "this technician account is disabled");
    else
        fail(c, rc);
}

static void login_accepted(struct call *c, const struct dk_tech *t)
{
    char id[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1];

    session_create(c->api, t->id, id, csrf);
    set_cookie(c->api, c->rep, id);
    reply(c, json_pack("{s:s, s:s, s:s, s:i}", "id", t->id, "name", t->name, "csrf", csrf,
                       "minutes", c->api->cfg->tech_session_minutes));
    log_info("technician %s logged in to the console", t->id);
    sodium_memzero(id, sizeof(id));
    sodium_memzero(csrf, sizeof(csrf));
}

static void ep_login(struct call *c)
{
    char pin[PIN_INPUT_MAX + 1] = "";
    const char *badge = NULL, *pin_in = NULL;
    struct dk_tech t;
    time_t now = time(NULL);
    int minutes = 0;
    int rc;

    /* A page on another site can post a form to the console, but cannot
     * add a header without the browser asking first (CORS), which this
     * server never allows: the header keeps such pages from spending a
     * technician's five tries. */
    if (c->req->csrf == NULL || strcmp(c->req->csrf, "login") != 0) {
        http_reply_error(c->rep, 403, "a login needs the header X-CSRF-Token: login");
        goto out;
    }
    if (!body_text(c, "badge", true, TEXT_FIELD_MAX, &badge) ||
        !body_text(c, "pin", true, PIN_INPUT_MAX, &pin_in))
        goto out;
    snprintf(pin, sizeof(pin), "%s", pin_in);
    wipe_body_field(c->req, "pin");
    if (badge[0] == '\0') {
        http_reply_error(c->rep, 400, "\"badge\" is required");
        goto out;
    }
    pthread_mutex_lock(&c->api->login_lock);
    rc = open_store(c);
    if (rc == 0) {
        rc = tech_login(c->store, badge, pin, "console", now, &t, &c->err);
        if (rc == DK_ETEMP)
            minutes = lock_minutes(c->store, badge, now);
        if (rc == 0)
            login_accepted(c, &t);
        else
            login_refused(c, rc, minutes);
    }
    pthread_mutex_unlock(&c->api->login_lock);
out:
    wipe_body_field(c->req, "pin");
    sodium_memzero(pin, sizeof(pin));
}

static void ep_logout(struct call *c)
{
    if (!call_begin(c, true))
        return;
    session_end(c->api, c->req->cookie);
    set_cookie(c->api, c->rep, "");
    log_info("technician %s logged out of the console", c->tech.id);
    reply(c, json_pack("{s:b}", "logged_out", 1));
}

/* Who is logged in, and the CSRF token, for a page opened again. */
static void ep_session(struct call *c)
{
    if (!call_begin(c, false))
        return;
    reply(c, json_pack("{s:s, s:s, s:s, s:i}", "id", c->tech.id, "name", c->tech.name,
                       "csrf", c->csrf, "minutes", c->api->cfg->tech_session_minutes));
}

/* ---- intake ------------------------------------------------------------- */

/* Every site, for the queue's chooser: [{"id", "name"}]. */
static int sites_json(struct call *c, json_t **out)
{
    sqlite3_stmt *st = NULL;
    int step;
    int rc = store_prepare(c->store, "SELECT id, name FROM sites ORDER BY id", &st, &c->err);

    *out = json_array();
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(*out, json_pack("{s:s, s:s}", "id",
                                              (const char *)sqlite3_column_text(st, 0),
                                              "name",
                                              (const char *)sqlite3_column_text(st, 1)));
    if (rc == 0 && step != SQLITE_DONE)
        rc = dk_error_set(&c->err, DK_EDB, "cannot read the sites: %s",
                          sqlite3_errmsg(c->store->db));
    sqlite3_finalize(st);
    return rc;
}

static bool site_known(const json_t *sites, const char *id)
{
    size_t i;
    json_t *s;

    json_array_foreach(sites, i, s)
        if (strcmp(json_string_value(json_object_get(s, "id")), id) == 0)
            return true;
    return false;
}

/* Report r as CSV, read back: its columns and rows as JSON. */
static int report_json(struct call *c, enum dk_report r, const struct dk_report_opts *o,
                       json_t **columns, json_t **rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int rc;

    if (mem == NULL)
        return dk_error_set(&c->err, -ENOMEM, "out of memory");
    rc = report_write(c->store, r, o, mem, &c->err);
    if (fclose(mem) != 0 && rc == 0)
        rc = dk_error_set(&c->err, -ENOMEM, "out of memory");
    if (rc == 0)
        rc = csv_json(text, len, columns, rows, &c->err);
    free(text);
    return rc;
}

/* Devices dropped and not yet received (the awaiting report), at one site
 * (?site=ID) or all. */
static void ep_queue(struct call *c)
{
    struct dk_report_opts o = {.csv = true, .now = time(NULL), .cfg = c->api->cfg};
    const char *site = http_query(c->req, "site");
    json_t *sites = NULL, *rows = NULL, *devices = json_array();
    size_t i;
    json_t *row;
    int rc;

    if (!call_begin(c, false))
        goto out;
    if (site != NULL && site[0] == '\0')
        site = NULL;
    rc = sites_json(c, &sites);
    if (rc == 0 && site != NULL && !site_known(sites, site)) {
        http_reply_error(c->rep, 400, "\"site\": no site has the id given");
        goto out;
    }
    if (rc == 0)
        rc = report_json(c, DK_REPORT_AWAITING, &o, NULL, &rows);
    if (rc != 0) {
        fail(c, rc);
        goto out;
    }
    json_array_foreach(rows, i, row)
        if (site == NULL || strcmp(json_string_value(json_object_get(row, "site")), site) == 0)
            json_array_append(devices, row);
    reply(c, json_pack("{s:s?, s:s, s:O, s:O}", "site", site, "kiosk_site",
                       c->api->cfg->site_id, "sites", sites, "devices", devices));
out:
    json_decref(sites);
    json_decref(rows);
    json_decref(devices);
}

static const char *charger_word(const struct dk_intake_result *r)
{
    if (!r->charger_checked)
        return "not checked";
    return r->charger_present ? "present" : "missing";
}

static const char *outcome_word(enum dk_intake_outcome o)
{
    if (o == DK_INTAKE_WALK_IN)
        return "walk-in";
    return o == DK_INTAKE_CLEANED_OUT ? "cleaned out" : "received";
}

static void ep_receive(struct call *c)
{
    struct dk_intake_item item = {0};
    struct dk_intake_result res;
    const char *charger = NULL;
    int rc;

    if (!call_begin(c, true) || !body_text(c, "tag", true, TEXT_FIELD_MAX, &item.scan) ||
        !body_text(c, "charger", true, TEXT_FIELD_MAX, &charger) ||
        !body_text(c, "condition", false, TEXT_FIELD_MAX, &item.condition) ||
        !body_text(c, "note", false, TEXT_FIELD_MAX, &item.note))
        return;
    if (!intake_parse_charger(charger, &item.charger)) {
        http_reply_error(c->rep, 400, "\"charger\" must be present or missing");
        return;
    }
    if (item.note != NULL && item.note[0] == '\0')
        item.note = NULL;
    if (item.condition != NULL && item.condition[0] == '\0')
        item.condition = NULL;
    rc = intake_receive(c->store, c->api->cfg, &c->tech, &item, time(NULL), &res, &c->err);
    if (rc != 0) {
        fail(c, rc);
        return;
    }
    reply(c, json_pack("{s:s, s:I, s:s, s:s, s:b, s:s, s:s?, s:b}", "outcome",
                       outcome_word(res.outcome), "return_id", (json_int_t)res.return_id,
                       "tag", res.tag, "model", res.model, "known", res.known, "charger",
                       charger_word(&res), "condition", item.condition, "mail_queued",
                       res.mail_queued));
}

/* One device of a clean-out, as the cart goes. */
static void on_cleanout(size_t i, int rc, const struct dk_intake_result *res,
                        const struct dk_error *err, void *user)
{
    json_t *o = json_array_get(user, i);

    if (rc != 0) {
        json_object_set_new(o, "result", json_string("refused"));
        json_object_set_new(o, "reason", json_string(err->msg));
        return;
    }
    json_object_set_new(o, "result", json_string(outcome_word(res->outcome)));
    json_object_set_new(o, "return_id", json_integer((json_int_t)res->return_id));
    json_object_set_new(o, "known", json_boolean(res->known));
}

/* The cart's tags, each checked as the command line checks them before
 * anything is written: a stray badge or a mangled read stops the whole
 * cart with nothing changed.  NULL after a 400. */
static const char **cleanout_tags(struct call *c, const struct dk_cleanout *opts,
                                  size_t *n)
{
    json_t *tags = json_object_get(c->req->body, "tags");
    const char **scans;
    json_t *v;
    size_t i;

    *n = json_array_size(tags);
    if (!json_is_array(tags) || *n == 0 || *n > CLEANOUT_MAX) {
        http_reply_error(c->rep, 400, "\"tags\" must be a list of 1 to %d tags", CLEANOUT_MAX);
        return NULL;
    }
    scans = calloc(*n, sizeof(*scans));
    if (scans == NULL) {
        http_reply_error(c->rep, 500, "out of memory");
        return NULL;
    }
    json_array_foreach(tags, i, v) {
        struct dk_intake_item item = {json_string_value(v), opts->charger, opts->condition,
                                      NULL};

        if (item.scan == NULL || intake_check_item(c->api->cfg, &item, &c->err) != 0) {
            http_reply_error(c->rep, 400, "\"tags\"[%zu]: %s; nothing changed", i,
                             item.scan == NULL ? "not a string" : c->err.msg);
            free(scans);
            return NULL;
        }
        scans[i] = item.scan;
    }
    return scans;
}

static void ep_cleanout(struct call *c)
{
    struct dk_cleanout opts = {.charger = DK_CHARGER_DEFAULT};
    struct dk_cleanout_counts n = {0};
    const char *charger = NULL;
    const char **scans = NULL;
    json_t *items = json_array();
    size_t count = 0;
    int rc;

    if (!call_begin(c, true) || !body_text(c, "school", true, TEXT_FIELD_MAX, &opts.school) ||
        !body_text(c, "charger", false, TEXT_FIELD_MAX, &charger) ||
        !body_text(c, "condition", false, TEXT_FIELD_MAX, &opts.condition))
        goto out;
    if (!intake_parse_charger(charger, &opts.charger)) {
        http_reply_error(c->rep, 400, "\"charger\" must be present or missing");
        goto out;
    }
    scans = cleanout_tags(c, &opts, &count);
    if (scans == NULL)
        goto out;
    for (size_t i = 0; i < count; i++)
        json_array_append_new(items, json_pack("{s:s}", "tag", scans[i]));
    rc = intake_cleanout(c->store, c->api->cfg, &opts, &c->tech, scans, count, time(NULL),
                         on_cleanout, items, &n, &c->err);
    if (rc != 0) {
        fail(c, rc);
        goto out;
    }
    reply(c, json_pack("{s:s, s:i, s:i, s:i, s:i, s:O}", "school", opts.school,
                       "cleaned_out", n.cleaned_out, "received", n.received, "unknown",
                       n.unknown, "refused", n.refused, "items", items));
out:
    free(scans);
    json_decref(items);
}

/* ---- disposition -------------------------------------------------------- */

static json_t *proposal_json(const struct dk_proposal *p)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "return_id",
                          (json_int_t)p->return_id, "tag", p->tag, "type", p->type, "model",
                          p->model, "condition", p->condition, "proposal",
                          disposition_outcome_name(p->outcome), "rule", p->rule, "source",
                          p->source, "line", p->line);

    if (j != NULL && p->outcome == DK_OUTCOME_REASSIGN)
        json_object_set_new(j, "holder", json_pack("{s:s, s:s, s:I}", "staff_id", p->holder,
                                                   "name", p->holder_name, "reservation_id",
                                                   (json_int_t)p->reservation_id));
    return j;
}

static void ep_dispose(struct call *c)
{
    struct dk_proposal p;
    const char *tag = NULL;
    int rc;

    if (!call_begin(c, false) || !query_text(c, "tag", &tag))
        return;
    rc = disposition_propose(c->store, c->api->cfg, 0, tag, c->today, &p, &c->err);
    if (rc != 0) {
        fail(c, rc);
        return;
    }
    reply(c, proposal_json(&p));
}

static void ep_wipe(struct call *c)
{
    const char *tag, *method, *tool;
    int rc;

    if (!call_begin(c, true) || !body_text(c, "tag", true, TEXT_FIELD_MAX, &tag) ||
        !body_text(c, "method", true, TEXT_FIELD_MAX, &method) ||
        !body_text(c, "tool", true, TEXT_FIELD_MAX, &tool))
        return;
    rc = disposition_wipe(c->store, &c->act, tag, method, tool, &c->err);
    if (rc != 0) {
        fail(c, rc);
        return;
    }
    reply(c, json_pack("{s:s, s:s, s:s, s:s}", "tag", tag, "wiped_by", c->tech.id, "method",
                       method, "tool", tool));
}

/* The act's reply: what was done, beside what the rules proposed just
 * before (null when that could not be worked out). */
static json_t *act_json(const char *tag, const char *done, const struct dk_proposal *p,
                        bool proposed)
{
    return json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "tag", tag, "disposition", done,
                     "proposal", proposed ? disposition_outcome_name(p->outcome) : NULL,
                     "rule", proposed ? p->rule : NULL, "source", proposed ? p->source : NULL);
}

enum act_kind { ACT_REIMAGE, ACT_REASSIGN, ACT_RECYCLE };

static void run_act(struct call *c, enum act_kind kind)
{
    static const char *const names[] = {"reimage", "reassign", "recycle"};
    struct dk_proposal p;
    const char *tag, *to = NULL, *level = NULL;
    int64_t manifest = 0;
    bool proposed;
    json_t *j;
    int rc;

    if (!call_begin(c, true) || !body_text(c, "tag", true, TEXT_FIELD_MAX, &tag) ||
        (kind == ACT_REASSIGN && !body_text(c, "to", true, TEXT_FIELD_MAX, &to)) ||
        (kind == ACT_RECYCLE && !body_text(c, "level", true, TEXT_FIELD_MAX, &level)))
        return;
    proposed = disposition_propose(c->store, c->api->cfg, 0, tag, c->today, &p, &c->err) == 0;
    if (kind == ACT_REIMAGE)
        rc = disposition_reimage(c->store, c->api->cfg, &c->act, tag, &c->err);
    else if (kind == ACT_REASSIGN)
        rc = disposition_reassign(c->store, c->api->cfg, &c->act, tag, to, &c->err);
    else
        rc = disposition_recycle(c->store, c->api->cfg, &c->act, tag, level, &manifest,
                                 &c->err);
    if (rc != 0) {
        fail(c, rc);
        return;
    }
    j = act_json(tag, names[kind], &p, proposed);
    if (j != NULL && to != NULL)
        json_object_set_new(j, "to", json_string(to));
    if (j != NULL && level != NULL) {
        json_object_set_new(j, "level", json_string(level));
        json_object_set_new(j, "manifest", json_integer((json_int_t)manifest));
        /* NIST SP 800-88 Rev. 1, section 4: clear is for reuse inside. */
        if (strcmp(level, "clear") == 0)
            json_object_set_new(j, "warning", json_string(clear_warning));
    }
    reply(c, j);
}

static void ep_reimage(struct call *c)
{
    run_act(c, ACT_REIMAGE);
}

static void ep_reassign(struct call *c)
{
    run_act(c, ACT_REASSIGN);
}

static void ep_recycle(struct call *c)
{
    run_act(c, ACT_RECYCLE);
}

/* ---- the e-waste manifest ----------------------------------------------- */

/* Manifest id's record as JSON, without its devices.  DK_ENOTFOUND. */
static int manifest_row(struct call *c, int64_t id, json_t **out)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(c->store,
                           "SELECT opened_at, closed_at, vendor, certificate "
                           "FROM manifests WHERE id = ?",
                           &st, &c->err);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = json_pack("{s:I, s:s, s:s?, s:s?, s:s?}", "id", (json_int_t)id, "opened_at",
                         (const char *)sqlite3_column_text(st, 0), "closed_at",
                         (const char *)sqlite3_column_text(st, 1), "vendor",
                         (const char *)sqlite3_column_text(st, 2), "certificate",
                         (const char *)sqlite3_column_text(st, 3));
    if (rc == SQLITE_ROW)
        rc = *out != NULL ? 0 : dk_error_set(&c->err, -ENOMEM, "out of memory");
    else if (rc == SQLITE_DONE)
        rc = dk_error_set(&c->err, DK_ENOTFOUND, "there is no e-waste manifest %" PRId64, id);
    else
        rc = dk_error_set(&c->err, DK_EDB, "cannot read manifest %" PRId64 ": %s", id,
                          sqlite3_errmsg(c->store->db));
    sqlite3_finalize(st);
    return rc;
}

/* The closed manifests, newest first, to download again. */
static int closed_manifests(struct call *c, json_t **out)
{
    sqlite3_stmt *st = NULL;
    int step;
    int rc = store_prepare(c->store,
                           "SELECT id, closed_at, vendor, certificate FROM manifests "
                           "WHERE closed_at IS NOT NULL ORDER BY id DESC LIMIT ?",
                           &st, &c->err);

    *out = json_array();
    if (rc == 0)
        sqlite3_bind_int(st, 1, CLOSED_SHOWN);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(*out, json_pack("{s:I, s:s?, s:s?, s:s?}", "id",
                                              (json_int_t)sqlite3_column_int64(st, 0),
                                              "closed_at", sqlite3_column_text(st, 1),
                                              "vendor", sqlite3_column_text(st, 2),
                                              "certificate", sqlite3_column_text(st, 3)));
    if (rc == 0 && step != SQLITE_DONE)
        rc = dk_error_set(&c->err, DK_EDB, "cannot list the manifests: %s",
                          sqlite3_errmsg(c->store->db));
    sqlite3_finalize(st);
    return rc;
}

/* Which manifest: ?id=N, else the open one (*id 0 when none is open). */
static int manifest_wanted(struct call *c, int64_t *id)
{
    const char *text = http_query(c->req, "id");
    char opened[32];
    long long n;
    int items = 0;
    int rc;

    *id = 0;
    if (text != NULL) {
        if (!whole_number(text, 1, INT64_MAX, &n))
            return dk_error_set(&c->err, DK_EINPUT, "\"id\" must be a manifest number");
        *id = n;
        return 0;
    }
    rc = disposition_manifest_open(c->store, id, opened, sizeof(opened), &items, &c->err);
    return rc == DK_ENOTFOUND ? 0 : rc;
}

static int manifest_json(struct call *c, int64_t id, const char *csv, size_t len)
{
    json_t *j = NULL, *rows = NULL, *closed = NULL;
    int rc = id > 0 ? manifest_row(c, id, &j) : 0;

    if (rc == 0 && id == 0)
        j = json_pack("{s:n}", "id");
    if (rc == 0 && id > 0)
        rc = csv_json(csv, len, NULL, &rows, &c->err);
    if (rc == 0)
        rc = closed_manifests(c, &closed);
    if (rc == 0) {
        json_object_set_new(j, "devices", rows != NULL ? json_incref(rows) : json_array());
        json_object_set_new(j, "closed", json_incref(closed));
        reply(c, json_incref(j));
    }
    json_decref(j);
    json_decref(rows);
    json_decref(closed);
    return rc;
}

static void ep_manifest(struct call *c)
{
    char *csv = NULL;
    size_t len = 0;
    int64_t id = 0;
    bool as_csv = false;
    json_t *row = NULL;
    char name[64];
    int rc;

    if (!call_begin(c, false) || !want_csv(c, &as_csv))
        return;
    rc = manifest_wanted(c, &id);
    if (rc == 0 && id > 0 && as_csv) {
        rc = manifest_row(c, id, &row);
        json_decref(row);
    }
    if (rc == 0 && id == 0 && as_csv)
        rc = dk_error_set(&c->err, DK_ENOTFOUND, "no e-waste manifest is open");
    if (rc == 0 && id > 0)
        rc = disposition_manifest_csv(c->store, id, &csv, &len, &c->err);
    if (rc == 0 && as_csv) {
        snprintf(name, sizeof(name), "manifest-%" PRId64 ".csv", id);
        reply_csv(c, csv, len, name);
        csv = NULL;
    } else if (rc == 0) {
        rc = manifest_json(c, id, csv, len);
    }
    if (rc != 0)
        fail(c, rc);
    free(csv);
}

struct captured {
    char *csv;
    size_t len;
};

/* The manifest's CSV, kept for the reply: it is written inside the close's
 * transaction, so what is downloaded is exactly what was closed. */
static int capture_csv(const char *csv, size_t len, void *user, struct dk_error *err)
{
    struct captured *cap = user;

    cap->csv = malloc(len + 1);
    if (cap->csv == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    memcpy(cap->csv, csv, len);
    cap->csv[len] = '\0';
    cap->len = len;
    return 0;
}

static void ep_manifest_close(struct call *c)
{
    struct captured cap = {0};
    const char *vendor, *certificate;
    char name[64], url[96];
    int64_t id = 0;
    bool as_csv = false;
    int rc;

    if (!call_begin(c, true) || !want_csv(c, &as_csv) ||
        !body_text(c, "vendor", true, TEXT_FIELD_MAX, &vendor) ||
        !body_text(c, "certificate", true, TEXT_FIELD_MAX, &certificate))
        return;
    rc = disposition_manifest_close(c->store, &c->act, vendor, certificate, capture_csv, &cap,
                                    &id, &c->err);
    if (rc != 0) {
        fail(c, rc);
    } else if (as_csv) {
        snprintf(name, sizeof(name), "manifest-%" PRId64 ".csv", id);
        reply_csv(c, cap.csv, cap.len, name);
        cap.csv = NULL;
    } else {
        snprintf(url, sizeof(url), "/api/tech/manifest?id=%" PRId64 "&format=csv", id);
        reply(c, json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "vendor", vendor,
                           "certificate", certificate, "download", url));
    }
    free(cap.csv);
}

/* ---- reports ------------------------------------------------------------ */

/* ?from= and ?until=, each a day or absent.  false after a 400. */
static bool report_range(struct call *c, struct dk_report_opts *o)
{
    const char *from = http_query(c->req, "from");
    const char *until = http_query(c->req, "until");

    if (from != NULL && from[0] != '\0' && !report_day_ok(from)) {
        http_reply_error(c->rep, 400, "\"from\" must be a date YYYY-MM-DD");
        return false;
    }
    if (until != NULL && until[0] != '\0' && !report_day_ok(until)) {
        http_reply_error(c->rep, 400, "\"until\" must be a date YYYY-MM-DD");
        return false;
    }
    snprintf(o->from, sizeof(o->from), "%s", from != NULL ? from : "");
    snprintf(o->until, sizeof(o->until), "%s", until != NULL ? until : "");
    if (o->from[0] != '\0' && o->until[0] != '\0' && strcmp(o->from, o->until) > 0) {
        http_reply_error(c->rep, 400, "\"from\" is after \"until\"");
        return false;
    }
    return true;
}

static void ep_report(struct call *c)
{
    struct dk_report_opts o = {.csv = true, .now = time(NULL), .cfg = c->api->cfg};
    const char *name = c->req->path + strlen("/api/tech/report/");
    json_t *columns = NULL, *rows = NULL;
    char *text = NULL;
    size_t len = 0;
    char file[48];
    bool as_csv = false;
    FILE *mem = NULL;
    int which = report_find(name);
    int rc;

    if (!call_begin(c, false))
        return;
    if (which < 0) {
        http_reply_error(c->rep, 404, "no such report: returns, awaiting, chargers, "
                                      "dispositions, flags or leavers");
        return;
    }
    if (!want_csv(c, &as_csv) || !report_range(c, &o))
        return;
    mem = open_memstream(&text, &len);
    if (mem == NULL) {
        http_reply_error(c->rep, 500, "out of memory");
        return;
    }
    rc = report_write(c->store, (enum dk_report)which, &o, mem, &c->err);
    if (fclose(mem) != 0 && rc == 0)
        rc = dk_error_set(&c->err, -ENOMEM, "out of memory");
    if (rc == 0 && as_csv) {
        snprintf(file, sizeof(file), "%s.csv", report_name((enum dk_report)which));
        reply_csv(c, text, len, file);
        return;
    }
    if (rc == 0)
        rc = csv_json(text, len, &columns, &rows, &c->err);
    free(text);
    if (rc != 0)
        fail(c, rc);
    else
        reply(c, json_pack("{s:s, s:s, s:s, s:o, s:o}", "report",
                           report_name((enum dk_report)which), "from", o.from, "until",
                           o.until, "columns", columns, "rows", rows));
}

/* ---- outbox ------------------------------------------------------------- */

static void ep_outbox(struct call *c)
{
    char *text = NULL;
    size_t len = 0;
    json_t *rows = NULL;
    FILE *mem;
    int rc;

    if (!call_begin(c, false))
        return;
    mem = open_memstream(&text, &len);
    if (mem == NULL) {
        http_reply_error(c->rep, 500, "out of memory");
        return;
    }
    rc = outbox_list(c->store, mem, true, &c->err);
    if (fclose(mem) != 0 && rc == 0)
        rc = dk_error_set(&c->err, -ENOMEM, "out of memory");
    if (rc == 0)
        rc = csv_json(text, len, NULL, &rows, &c->err);
    free(text);
    if (rc != 0)
        fail(c, rc);
    else
        reply(c, json_pack("{s:o}", "messages", rows));
}

/* {"ids": [ID, ...]} into a new array (*n), or NULL after a 400. */
static int64_t *retry_ids(struct call *c, const json_t *list, size_t *n)
{
    int64_t *ids;
    json_t *v;
    size_t i;

    *n = json_array_size(list);
    if (!json_is_array(list) || *n == 0 || *n > RETRY_IDS_MAX) {
        http_reply_error(c->rep, 400, "\"ids\" must be a list of 1 to %d message ids",
                         RETRY_IDS_MAX);
        return NULL;
    }
    ids = calloc(*n, sizeof(*ids));
    if (ids == NULL) {
        http_reply_error(c->rep, 500, "out of memory");
        return NULL;
    }
    json_array_foreach(list, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            http_reply_error(c->rep, 400, "\"ids\"[%zu] must be a message id (a whole number)",
                             i);
            free(ids);
            return NULL;
        }
        ids[i] = (int64_t)json_integer_value(v);
    }
    return ids;
}

static void ep_outbox_retry(struct call *c)
{
    const json_t *list = NULL, *failed = NULL;
    int64_t *ids = NULL;
    size_t n = 0;
    int count = 0;
    int rc;

    if (!call_begin(c, true))
        return;
    if (c->req->body != NULL) {
        list = json_object_get(c->req->body, "ids");
        failed = json_object_get(c->req->body, "failed");
    }
    if ((list == NULL) == (failed == NULL) || (failed != NULL && !json_is_true(failed))) {
        http_reply_error(c->rep, 400, "give \"ids\": [ID, ...] or \"failed\": true");
        return;
    }
    if (list != NULL && (ids = retry_ids(c, list, &n)) == NULL)
        return;
    rc = outbox_retry(c->store, ids, n, failed != NULL, c->actor, &count, &c->err);
    free(ids);
    if (rc != 0)
        fail(c, rc);
    else
        reply(c, json_pack("{s:i}", "retried", count));
}

/* ---- audit -------------------------------------------------------------- */

static int audit_rows(struct call *c, long long limit, json_t **out)
{
    sqlite3_stmt *st = NULL;
    int step;
    int rc = store_prepare(c->store,
                           "SELECT id, at, actor, action, subject, details FROM audit "
                           "ORDER BY id DESC LIMIT ?",
                           &st, &c->err);

    *out = json_array();
    if (rc == 0)
        sqlite3_bind_int64(st, 1, limit);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(
            *out, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id",
                            (json_int_t)sqlite3_column_int64(st, 0), "at",
                            sqlite3_column_text(st, 1), "actor", sqlite3_column_text(st, 2),
                            "action", sqlite3_column_text(st, 3), "subject",
                            sqlite3_column_text(st, 4), "details", sqlite3_column_text(st, 5)));
    if (rc == 0 && step != SQLITE_DONE)
        rc = dk_error_set(&c->err, DK_EDB, "cannot read the audit trail: %s",
                          sqlite3_errmsg(c->store->db));
    sqlite3_finalize(st);
    return rc;
}

static void ep_audit(struct call *c)
{
    const char *text = http_query(c->req, "limit");
    long long limit = AUDIT_DEFAULT;
    int64_t bad = 0, checked = 0;
    json_t *verdict, *rows = NULL;
    int rc;

    if (!call_begin(c, false))
        return;
    if (text != NULL && !whole_number(text, 1, AUDIT_MAX, &limit)) {
        http_reply_error(c->rep, 400, "\"limit\" must be a whole number from 1 to %d",
                         AUDIT_MAX);
        return;
    }
    rc = audit_verify(c->store, &bad, &checked, &c->err);
    if (rc == 0)
        verdict = json_pack("{s:b, s:I}", "ok", 1, "rows", (json_int_t)checked);
    else if (rc == DK_EFORGED)
        verdict = json_pack("{s:b, s:I, s:I, s:s}", "ok", 0, "rows", (json_int_t)checked,
                            "first_bad", (json_int_t)bad, "reason", c->err.msg);
    else {
        fail(c, rc);
        return;
    }
    rc = audit_rows(c, limit, &rows);
    if (rc != 0) {
        json_decref(verdict);
        json_decref(rows);
        fail(c, rc);
        return;
    }
    reply(c, json_pack("{s:o, s:o}", "verdict", verdict, "entries", rows));
}

/* ---- routing ------------------------------------------------------------ */

struct endpoint {
    const char *method;
    const char *path; /* exact, or ending in '/' for a prefix */
    void (*fn)(struct call *c);
};

static const struct endpoint endpoints[] = {
    {"POST", "/api/tech/login", ep_login},
    {"POST", "/api/tech/logout", ep_logout},
    {"GET", "/api/tech/session", ep_session},
    {"GET", "/api/tech/queue", ep_queue},
    {"POST", "/api/tech/receive", ep_receive},
    {"POST", "/api/tech/cleanout", ep_cleanout},
    {"GET", "/api/tech/dispose", ep_dispose},
    {"POST", "/api/tech/wipe", ep_wipe},
    {"POST", "/api/tech/reimage", ep_reimage},
    {"POST", "/api/tech/reassign", ep_reassign},
    {"POST", "/api/tech/recycle", ep_recycle},
    {"GET", "/api/tech/manifest", ep_manifest},
    {"POST", "/api/tech/manifest/close", ep_manifest_close},
    {"GET", "/api/tech/report/", ep_report},
    {"GET", "/api/tech/outbox", ep_outbox},
    {"POST", "/api/tech/outbox/retry", ep_outbox_retry},
    {"GET", "/api/tech/audit", ep_audit},
};

static bool path_matches(const struct endpoint *e, const char *path)
{
    size_t n = strlen(e->path);

    if (e->path[n - 1] == '/')
        return strncmp(path, e->path, n) == 0 && path[n] != '\0';
    return strcmp(path, e->path) == 0;
}

/* Every /api/tech/ request comes here and goes to its endpoint. */
static void dispatch(void *user, const struct dk_http_request *req, struct dk_http_reply *rep)
{
    struct call c = {.api = user, .req = req, .rep = rep};
    bool known = false;

    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (!path_matches(&endpoints[i], req->path))
            continue;
        known = true;
        if (strcmp(endpoints[i].method, req->method) == 0) {
            endpoints[i].fn(&c);
            store_close(c.store);
            /* A receive queues the confirmation, a retry puts mail back:
             * the mail worker is woken rather than left to its next round. */
            if (strcmp(req->method, "POST") == 0 && rep->status < 400 &&
                c.api->changed != NULL)
                c.api->changed(c.api->changed_user);
            sodium_memzero(c.csrf, sizeof(c.csrf));
            return;
        }
    }
    if (known)
        http_reply_error(rep, 405, "method not allowed here");
    else
        http_reply_error(rep, 404, "no such API");
}

static const struct dk_http_route routes[] = {
    {"GET", "/api/tech/*", dispatch, NULL},
    {"POST", "/api/tech/*", dispatch, NULL},
};

int tech_api_new(const struct dk_config *cfg, struct dk_tech_api **out, struct dk_error *err)
{
    struct dk_tech_api *api = NULL;

    *out = NULL;
    if (sodium_init() < 0)
        return dk_error_set(err, -EIO, "cannot start libsodium for console sessions");
    api = calloc(1, sizeof(*api));
    if (api == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&api->lock, NULL);
    pthread_mutex_init(&api->login_lock, NULL);
    api->cfg = cfg;
    *out = api;
    return 0;
}

void tech_api_free(struct dk_tech_api *api)
{
    if (api == NULL)
        return;
    pthread_mutex_destroy(&api->lock);
    pthread_mutex_destroy(&api->login_lock);
    sodium_memzero(api->sessions, sizeof(api->sessions));
    free(api);
}

void tech_api_on_change(struct dk_tech_api *api, void (*fn)(void *user), void *user)
{
    api->changed = fn;
    api->changed_user = user;
}

int tech_api_routes(struct dk_tech_api *api, struct dk_http_config *hc)
{
    return http_add_routes(hc, routes, sizeof(routes) / sizeof(routes[0]), api);
}
