#include "session.h"

#include "audit.h"
#include "fileio.h"
#include "i18n.h"
#include "inventory.h"
#include "log.h"
#include "mail.h"
#include "notice.h"
#include "outbox.h"
#include "receipt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* More devices than this in one visit is a cart, which is a technician's
 * clean-out, not a lobby return. */
#define DK_VISIT_MAX 24
/* The signed receipt must fit one QR code (2331 bytes at level M, version
 * 40) with room to spare, so a visit stops taking devices past this many
 * payload bytes (counting the fixed lines and the signature). */
#define DK_RECEIPT_BUDGET 1800
#define DK_RECEIPT_FIXED 260 /* header, time, key and signature lines */
#define DK_RECEIPT_PER_DEVICE 30 /* "Device: " and the separators */
#define QR_CID "receipt-qr@dropkiosk"

enum dk_session_state {
    ST_START,       /* waiting for the first device */
    ST_CHARGER,     /* a device scanned, charger question open */
    ST_NEXT,        /* devices answered; next device or DONE */
    ST_IDENTITY,    /* DONE given: who are you? */
    ST_EMAIL,       /* identified: email the receipt? */
    ST_LEADER,      /* email yes: copy the leader? */
    ST_PRINT,       /* a paper receipt? */
    ST_CHECK,       /* a phone or tablet: the checklist before the bin */
};

/* The questions asked of a phone or tablet before it goes in the bin, so
 * that the technician can wipe and reuse it: each answer is kept with the
 * return ("sim=yes signed_out=no lock_off=yes"). */
#define N_CHECKS 3
static const struct {
    const char *name; /* in returns.checklist */
    const char *key;  /* the question */
} checks[N_CHECKS] = {
    {"sim_removed", "kiosk.check.sim"},
    {"signed_out", "kiosk.check.signed_out"},
    {"lock_off", "kiosk.check.lock_off"},
};

struct dk_visit_item {
    struct dk_asset asset;
    bool known;   /* in the inventory */
    bool charger; /* declared in the bag */
    bool desktop; /* not taken: a service-desk ticket instead */
    int checked;  /* checklist questions answered (phones and tablets) */
    bool check[N_CHECKS];
};

/* What the screen shows besides the state: the lines said since the last
 * input, and the receipt of the visit just finished.  Kept across reset()
 * so the receipt stays up until the next person touches the kiosk. */
#define VIEW_LINES 24
struct dk_view {
    struct {
        char key[64];
        char *text;
    } lines[VIEW_LINES];
    size_t n_lines;
    char receipt_id[DK_RECEIPT_ID_SIZE];
    char *receipt_payload;
    bool db_failed; /* the last visit could not be recorded */
};

struct dk_session {
    struct dk_session_deps deps;
    struct dk_view view;
    enum dk_session_state state;
    struct dk_visit_item items[DK_VISIT_MAX];
    size_t n_items;
    struct dk_visit_item pending;
    struct dk_staff who;
    bool identified;
    bool email_me;
    bool copy_leader;
    bool print_me;     /* a paper receipt after the commit */
    bool mail_problem;   /* the receipt email could not be composed; told at the end */
    bool ticket_problem; /* a desktop ticket could not be composed; told at the end */
    const struct dk_catalog *visit_cat; /* the language chosen at the start, or NULL */
    time_t last_input; /* monotonic seconds */
};

/* The visit's catalog: the language the person chose, else the kiosk's. */
static const struct dk_catalog *words(const struct dk_session *s)
{
    return s->visit_cat != NULL ? s->visit_cat : s->deps.catalog;
}

/* A blank line on the terminal view, to set a new screen apart. */
static void blank_line(struct dk_session *s)
{
    if (s->deps.out != NULL)
        fputc('\n', s->deps.out);
}

/* Show one line of text made by i18n_format (and free it). */
static void show(struct dk_session *s, char *line, const char *key)
{
    struct dk_view *v = &s->view;

    if (s->deps.out != NULL) {
        fputs(line != NULL ? line : key, s->deps.out);
        fputc('\n', s->deps.out);
        fflush(s->deps.out);
    }
    /* The receipt image's path is for the terminal's operator, not for the
     * screen or its API. */
    if (line != NULL && v->n_lines < VIEW_LINES && strcmp(key, "kiosk.receipt_image") != 0) {
        snprintf(v->lines[v->n_lines].key, sizeof(v->lines[0].key), "%s", key);
        v->lines[v->n_lines++].text = line;
        return;
    }
    free(line);
}

static void view_clear(struct dk_view *v, bool receipt_too)
{
    for (size_t i = 0; i < v->n_lines; i++)
        free(v->lines[i].text);
    v->n_lines = 0;
    if (receipt_too) {
        free(v->receipt_payload);
        v->receipt_payload = NULL;
        v->receipt_id[0] = '\0';
    }
}

/* tell(s, "kiosk.key", "name", value, ..., NULL): show the catalog text
 * for key in the visit's language with its placeholders filled. */
#define tell(s, key, ...) show((s), i18n_format(words(s), (key), __VA_ARGS__), (key))

static const char *num(char *buf, size_t size, long long n)
{
    snprintf(buf, size, "%lld", n);
    return buf;
}

struct dk_session *session_new(const struct dk_session_deps *deps)
{
    struct dk_session *s = calloc(1, sizeof(*s));

    if (s != NULL)
        s->deps = *deps;
    return s;
}

void session_free(struct dk_session *s)
{
    if (s != NULL) {
        view_clear(&s->view, true);
    }
    free(s);
}

static void reset(struct dk_session *s)
{
    struct dk_session_deps deps = s->deps;
    struct dk_view view = s->view;
    time_t last_input = s->last_input;
    /* While a receipt is on the screen it stays in the language of the
     * visit it belongs to; the next input returns to the kiosk's own. */
    const struct dk_catalog *lang = view.receipt_payload != NULL ? s->visit_cat : NULL;

    memset(s, 0, sizeof(*s));
    s->deps = deps;
    s->view = view;
    s->visit_cat = lang;
    /* The idle time of a receipt left on the screen runs from the visit's
     * last input, not from the epoch. */
    s->last_input = last_input;
}

void session_start(struct dk_session *s)
{
    reset(s);
    blank_line(s);
    tell(s, "kiosk.ready", I18N_END);
    /* Each other language offers itself in its own words. */
    for (size_t i = 0; i < s->deps.n_catalogs; i++) {
        const struct dk_catalog *cat = s->deps.catalogs[i];

        if (cat != words(s))
            show(s, strdup(i18n_text(cat, "kiosk.language_prompt")), "kiosk.language_prompt");
    }
}

static size_t returns_in_visit(const struct dk_session *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_items; i++)
        n += !s->items[i].desktop;
    return n;
}

/* The device type in the visit's language ("kiosk.type.laptop"). */
static const char *type_name(const struct dk_session *s, const struct dk_asset *a)
{
    char key[48];

    snprintf(key, sizeof(key), "kiosk.type.%s",
             config_asset_type_index(a->type) >= 0 ? a->type : "other");
    return i18n_text(words(s), key);
}

/* ---- finishing a visit ------------------------------------------------ */

struct commit_ctx {
    char receipt_id[DK_RECEIPT_ID_SIZE];
    char now_utc[32];
    char when_local[64];
    char *payload;
    char actor[96];
};

static void local_time(char *buf, size_t size, time_t t)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M %Z", &tm);
}

static int sign_receipt(struct dk_session *s, struct commit_ctx *c, time_t now,
                        struct dk_error *err)
{
    struct dk_receipt_device devs[DK_VISIT_MAX];
    struct dk_receipt r = {
        .id = c->receipt_id,
        .district = s->deps.cfg->district,
        .site = s->deps.cfg->site_name,
        .kiosk = s->deps.cfg->kiosk_id,
        .when = now,
        .devices = devs,
    };

    for (size_t i = 0; i < s->n_items; i++) {
        const struct dk_visit_item *it = &s->items[i];

        if (it->desktop)
            continue;
        devs[r.n_devices].tag = it->asset.tag;
        devs[r.n_devices].model = it->known ? it->asset.model : "unknown device";
        devs[r.n_devices].charger = it->charger;
        r.n_devices++;
    }
    return receipt_sign(&r, s->deps.signing_key, &c->payload, err);
}

static int insert_receipt(struct dk_session *s, struct commit_ctx *c, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char channels[64];
    char recipients[600] = "";
    int rc;

    snprintf(channels, sizeof(channels), "screen,png%s%s", s->email_me ? ",email" : "",
             s->print_me ? ",paper" : "");
    if (s->email_me)
        snprintf(recipients, sizeof(recipients), "%s%s%s", s->who.email,
                 s->copy_leader ? "," : "", s->copy_leader ? s->who.leader_email : "");
    rc = store_prepare(s->deps.store,
                       "INSERT INTO receipts (id, created_at, return_ids, payload, channels, "
                       "recipients, lang, kiosk_id) VALUES (?, ?, '', ?, ?, ?, ?, ?)",
                       &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, c->receipt_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->now_utc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->payload, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, channels, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, recipients, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, i18n_lang(words(s)), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, s->deps.cfg->kiosk_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record receipt: %s",
                          sqlite3_errmsg(s->deps.store->db));
    sqlite3_finalize(st);
    return rc;
}

/* "sim_removed=yes signed_out=no lock_off=yes", or "" for a device that
 * had no checklist. */
static void checklist_text(const struct dk_visit_item *it, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < it->checked && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", i > 0 ? " " : "",
                                 checks[i].name, it->check[i] ? "yes" : "no");
}

static int insert_return(struct dk_session *s, struct commit_ctx *c,
                         const struct dk_visit_item *it, int64_t *id, struct dk_error *err)
{
    const struct dk_config *cfg = s->deps.cfg;
    sqlite3_stmt *st = NULL;
    bool not_assignee = s->identified && it->known && it->asset.assignee[0] != '\0' &&
                        !inventory_is_assignee(&it->asset, &s->who);
    bool missing = !it->charger && (!it->known || it->asset.charger_expected);
    char checklist[96];
    int rc;

    rc = store_prepare(s->deps.store,
                       "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, "
                       "kiosk_id, returned_at, charger_declared, receipt_id, "
                       "flag_not_assignee, flag_unknown_asset, flag_missing_charger, "
                       "checklist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, it->asset.tag, -1, SQLITE_STATIC);
    if (s->identified)
        sqlite3_bind_text(st, 2, s->who.id, -1, SQLITE_STATIC);
    if (it->known && it->asset.assignee[0] != '\0')
        sqlite3_bind_text(st, 3, it->asset.assignee, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, cfg->site_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, cfg->kiosk_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->now_utc, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, it->charger);
    sqlite3_bind_text(st, 8, c->receipt_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, not_assignee);
    sqlite3_bind_int(st, 10, !it->known);
    sqlite3_bind_int(st, 11, missing);
    checklist_text(it, checklist, sizeof(checklist));
    if (checklist[0] != '\0')
        sqlite3_bind_text(st, 12, checklist, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record return of %s: %s", it->asset.tag,
                          sqlite3_errmsg(s->deps.store->db));
    *id = sqlite3_last_insert_rowid(s->deps.store->db);
    sqlite3_finalize(st);
    if (rc == 0) {
        char details[256];

        snprintf(details, sizeof(details), "receipt=%s charger=%s%s%s%s%s%s", c->receipt_id,
                 it->charger ? "yes" : "no", not_assignee ? " not_assignee" : "",
                 it->known ? "" : " unknown_asset", missing ? " missing_charger" : "",
                 checklist[0] != '\0' ? " " : "", checklist);
        rc = audit_append(s->deps.store, c->actor, "return dropped", it->asset.tag, details,
                          err);
    }
    return rc;
}

static int link_returns(struct dk_session *s, struct commit_ctx *c, const char *ids,
                        struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s->deps.store, "UPDATE receipts SET return_ids = ? WHERE id = ?",
                           &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->receipt_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record receipt: %s",
                          sqlite3_errmsg(s->deps.store->db));
    sqlite3_finalize(st);
    return rc;
}

static int write_returns(struct dk_session *s, struct commit_ctx *c, struct dk_error *err)
{
    char ids[DK_VISIT_MAX * 21] = "";
    size_t used = 0;
    int rc;

    rc = insert_receipt(s, c, err);
    for (size_t i = 0; rc == 0 && i < s->n_items; i++) {
        int64_t id = 0;

        if (s->items[i].desktop)
            continue;
        rc = insert_return(s, c, &s->items[i], &id, err);
        used += (size_t)snprintf(ids + used, sizeof(ids) - used, "%s%lld", used ? "," : "",
                                 (long long)id);
    }
    if (rc == 0)
        rc = link_returns(s, c, ids, err);
    if (rc == 0)
        rc = audit_append(s->deps.store, c->actor, "receipt issued", c->receipt_id, ids, err);
    return rc;
}

/* A message that cannot be composed (an address or text the mail layer
 * refuses) must not undo the returns it belongs to: they are logged, the
 * person is told, and the visit is still recorded.  outbox_enqueue has
 * already taken back its own row.  Other failures still abort. */
static int mail_refused(int rc, bool *problem, const char *what, const char *subject,
                        struct dk_error *err)
{
    if (rc != DK_EINPUT)
        return rc;
    log_error("cannot queue %s for %s: %s", what, subject, err->msg);
    *problem = true;
    return 0;
}

static int queue_receipt_mail(struct dk_session *s, struct commit_ctx *c, struct dk_error *err)
{
    struct dk_notice_device devs[DK_VISIT_MAX];
    struct dk_notice notice = {0};
    unsigned char *png = NULL;
    size_t png_len = 0, n = 0;
    int rc;

    for (size_t i = 0; i < s->n_items; i++) {
        if (!s->items[i].desktop) {
            devs[n].asset = &s->items[i].asset;
            devs[n++].charger = s->items[i].charger;
        }
    }
    rc = receipt_qr_png(c->payload, &png, &png_len, err);
    if (rc == 0)
        rc = notice_receipt(s->deps.cfg, words(s), c->receipt_id, s->who.name, c->when_local, devs,
                            n, QR_CID, &notice);
    if (rc == 0) {
        struct dk_mail m = {
            .from = s->deps.cfg->mail_from,
            .to = s->who.email,
            .to_name = s->who.name,
            .cc = s->copy_leader ? s->who.leader_email : NULL,
            .subject = notice.subject,
            .text = notice.text,
            .html = notice.html,
            .png = png,
            .png_len = png_len,
            .png_cid = QR_CID,
        };

        rc = outbox_enqueue(s->deps.store, "receipt", &m, NULL, err);
        /* A name the mail layer cannot put in a header (an unbroken word
         * too long to fold) must not cost the person their receipt: the
         * address alone still reaches them. */
        if (rc == DK_EINPUT && strstr(err->msg, "To display name") != NULL) {
            log_warn("receipt %s: mailing without the display name: %s", c->receipt_id,
                     err->msg);
            m.to_name = NULL;
            rc = outbox_enqueue(s->deps.store, "receipt", &m, NULL, err);
        }
    }
    if (rc == 0)
        rc = audit_append(s->deps.store, c->actor, "receipt email queued", c->receipt_id,
                          s->copy_leader ? "to staff, cc leader" : "to staff", err);
    notice_free(&notice);
    free(png);
    return mail_refused(rc, &s->mail_problem, "receipt email", c->receipt_id, err);
}

static int queue_ticket(struct dk_session *s, struct commit_ctx *c,
                        const struct dk_visit_item *it, struct dk_error *err)
{
    struct dk_notice notice = {0};
    int rc;

    if (s->deps.cfg->service_desk[0] == '\0') {
        log_warn("no [mail] service_desk address: no ticket filed for desktop %s",
                 it->asset.tag);
        return 0;
    }
    rc = notice_desktop_ticket(s->deps.cfg, &it->asset, s->identified ? &s->who : NULL,
                               c->when_local, &notice);
    if (rc == 0) {
        struct dk_mail m = {
            .from = s->deps.cfg->mail_from,
            .to = s->deps.cfg->service_desk,
            .subject = notice.subject,
            .text = notice.text,
        };

        rc = outbox_enqueue(s->deps.store, "ticket", &m, NULL, err);
    }
    if (rc == 0)
        rc = audit_append(s->deps.store, c->actor, "desktop ticket queued", it->asset.tag,
                          s->identified ? s->who.id : "requester not given", err);
    notice_free(&notice);
    return mail_refused(rc, &s->ticket_problem, "desktop ticket", it->asset.tag, err);
}

static int write_visit(struct dk_session *s, struct commit_ctx *c, struct dk_error *err)
{
    int rc = 0;

    if (returns_in_visit(s) > 0) {
        rc = write_returns(s, c, err);
        if (rc == 0 && s->email_me)
            rc = queue_receipt_mail(s, c, err);
    }
    for (size_t i = 0; rc == 0 && i < s->n_items; i++) {
        if (s->items[i].desktop)
            rc = queue_ticket(s, c, &s->items[i], err);
    }
    return rc;
}

/* The PNG beside the database is a convenience copy; the receipt itself is
 * already committed, so a failure here is logged, not fatal. */
static void save_png(struct dk_session *s, const struct commit_ctx *c, char *path,
                     size_t size)
{
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;
    int rc;

    path[0] = '\0';
    if (receipt_qr_png(c->payload, &png, &len, &err) != 0) {
        log_warn("cannot draw receipt %s: %s", c->receipt_id, err.msg);
        return;
    }
    mkdir(s->deps.cfg->receipt_dir, 0750);
    snprintf(path, size, "%s/%s.png", s->deps.cfg->receipt_dir, c->receipt_id);
    rc = file_write_new(path, 0640, png, len);
    if (rc != 0) {
        log_warn("cannot write receipt image %s: %s", path, strerror(-rc));
        path[0] = '\0';
    }
    free(png);
}

static void show_receipt(struct dk_session *s, const struct commit_ctx *c)
{
    struct dk_error err = {{0}};
    size_t n = returns_in_visit(s);
    char png_path[DK_PATH_MAX + 32];

    char count[24];

    tell(s, n == 1 ? "kiosk.received.one" : "kiosk.received.other", "count",
         num(count, sizeof(count), (long long)n), "when", c->when_local, I18N_END);
    tell(s, "kiosk.receipt_id", "id", c->receipt_id, I18N_END);
    free(s->view.receipt_payload);
    snprintf(s->view.receipt_id, sizeof(s->view.receipt_id), "%s", c->receipt_id);
    s->view.receipt_payload = strdup(c->payload);
    if (s->deps.out != NULL && receipt_qr_terminal(c->payload, s->deps.out, &err) != 0)
        log_warn("cannot draw receipt QR: %s", err.msg);
    save_png(s, c, png_path, sizeof(png_path));
    if (png_path[0] != '\0')
        tell(s, "kiosk.receipt_image", "path", png_path, I18N_END);
    if (s->email_me && !s->mail_problem)
        tell(s, s->copy_leader ? "kiosk.email_copy_leader" : "kiosk.email_copy", I18N_END);
    else if (s->email_me)
        tell(s, "kiosk.email_failed", I18N_END);
}

/* After the commit: the receipt is safe whatever the printer does. */
static void print_receipt(struct dk_session *s, const struct commit_ctx *c)
{
    struct dk_error err = {{0}};

    tell(s, "kiosk.printing", I18N_END);
    if (receipt_printer_print(s->deps.printer, s->deps.store, c->receipt_id, c->actor,
                              &err) == 0)
        return;
    log_error("cannot print receipt %s: %s", c->receipt_id, err.msg);
    tell(s, s->email_me ? "kiosk.print_failed_email" : "kiosk.print_failed", I18N_END);
}

/* One line in the log for each visit recorded, whether or not a terminal
 * shows it: the receipt and how many devices, never who (no name, no
 * address: the log is kept longer and read more widely than the
 * database). */
static void log_visit(const struct dk_session *s, const struct commit_ctx *c)
{
    size_t returned = returns_in_visit(s);
    size_t desktops = s->n_items - returned;

    if (returned > 0 && desktops > 0)
        log_info("visit recorded: receipt %s, %zu device%s returned, %zu desktop%s reported",
                 c->receipt_id, returned, returned == 1 ? "" : "s", desktops,
                 desktops == 1 ? "" : "s");
    else if (returned > 0)
        log_info("visit recorded: receipt %s, %zu device%s returned", c->receipt_id, returned,
                 returned == 1 ? "" : "s");
    else
        log_info("visit recorded: no receipt, %zu desktop%s reported", desktops,
                 desktops == 1 ? "" : "s");
}

static void finish(struct dk_session *s)
{
    time_t now = time(NULL);
    struct commit_ctx c;
    struct dk_error err = {{0}};
    bool mail = s->email_me;
    int rc;

    memset(&c, 0, sizeof(c));
    receipt_new_id(c.receipt_id);
    store_utc_now(c.now_utc, sizeof(c.now_utc));
    local_time(c.when_local, sizeof(c.when_local), now);
    snprintf(c.actor, sizeof(c.actor), "kiosk:%s", s->deps.cfg->kiosk_id);

    rc = returns_in_visit(s) > 0 ? sign_receipt(s, &c, now, &err) : 0;
    if (rc == 0)
        rc = store_begin(s->deps.store, &err);
    if (rc == 0)
        rc = write_visit(s, &c, &err);
    if (rc == 0)
        rc = store_commit(s->deps.store, &err);
    if (rc != 0) {
        store_rollback(s->deps.store);
        s->view.db_failed = true;
        log_error("cannot record visit: %s", err.msg);
        tell(s, "kiosk.record_failed", I18N_END);
        goto out;
    }
    s->view.db_failed = false;
    log_visit(s, &c);
    for (size_t i = 0; i < s->n_items; i++)
        mail = mail || s->items[i].desktop;
    if (returns_in_visit(s) > 0) {
        show_receipt(s, &c);
        if (s->print_me)
            print_receipt(s, &c);
    }
    /* The person is told the ticket went only when it is in the outbox. */
    if (s->ticket_problem)
        tell(s, "kiosk.ticket_failed", I18N_END);
    else if (returns_in_visit(s) == 0)
        tell(s, "kiosk.desktop_ticket_done", I18N_END);
    if (returns_in_visit(s) > 0 && s->deps.cfg->bin[0] != '\0')
        tell(s, "kiosk.drop_bin_numbered", "bin", s->deps.cfg->bin, I18N_END);
    else if (returns_in_visit(s) > 0)
        tell(s, "kiosk.drop_bin", I18N_END);
    if (mail && s->deps.mail_queued != NULL)
        s->deps.mail_queued(s->deps.user);
out:
    free(c.payload);
    session_start(s);
}

/* ---- the questions ---------------------------------------------------- */

/* The printer's state in the person's words ("kiosk.printer_state.paper_out"). */
static const char *printer_words(const struct dk_session *s, enum dk_printer_state state)
{
    switch (state) {
    case DK_PRINTER_PAPER_OUT:
        return i18n_text(words(s), "kiosk.printer_state.paper_out");
    case DK_PRINTER_COVER_OPEN:
        return i18n_text(words(s), "kiosk.printer_state.cover_open");
    case DK_PRINTER_OFFLINE:
        return i18n_text(words(s), "kiosk.printer_state.offline");
    default:
        return i18n_text(words(s), "kiosk.printer_state.no_answer");
    }
}

/* The last question: a paper receipt, when there is a printer and it is
 * ready.  A printer that is not gets its state said, and the person is
 * pointed at the code on the screen and the email instead. */
static void ask_print(struct dk_session *s)
{
    enum dk_printer_state state = DK_PRINTER_READY;

    if (s->deps.printer == NULL || returns_in_visit(s) == 0) {
        finish(s);
        return;
    }
    if (!receipt_printer_ready(s->deps.printer, &state)) {
        tell(s, "kiosk.printer_unavailable", "state", printer_words(s, state), I18N_END);
        tell(s, s->email_me ? "kiosk.use_screen_or_email" : "kiosk.use_screen", I18N_END);
        finish(s);
        return;
    }
    if (s->deps.cfg->print == DK_PRINT_ALWAYS) {
        s->print_me = true;
        finish(s);
        return;
    }
    s->state = ST_PRINT;
    tell(s, "kiosk.print_question", I18N_END);
}

static void ask_next(struct dk_session *s)
{
    s->state = ST_NEXT;
    tell(s, "kiosk.next", I18N_END);
}

static size_t receipt_bytes(const struct dk_visit_item *it)
{
    return strlen(it->asset.tag) + strlen(it->known ? it->asset.model : "unknown device") +
           DK_RECEIPT_PER_DEVICE;
}

/* Whether one more device still fits the visit's one receipt. */
static bool receipt_has_room(const struct dk_session *s, const struct dk_visit_item *next)
{
    const struct dk_config *cfg = s->deps.cfg;
    size_t total = DK_RECEIPT_FIXED + strlen(cfg->district) + strlen(cfg->site_name) +
                   strlen(cfg->kiosk_id) + receipt_bytes(next);

    for (size_t i = 0; i < s->n_items; i++) {
        if (!s->items[i].desktop)
            total += receipt_bytes(&s->items[i]);
    }
    return s->n_items < DK_VISIT_MAX && total <= DK_RECEIPT_BUDGET;
}

static bool in_visit(const struct dk_session *s, const char *tag)
{
    for (size_t i = 0; i < s->n_items; i++) {
        if (strcmp(s->items[i].asset.tag, tag) == 0)
            return true;
    }
    return false;
}

static void add_desktop(struct dk_session *s, const struct dk_asset *a)
{
    struct dk_visit_item *it = &s->items[s->n_items++];

    memset(it, 0, sizeof(*it));
    it->asset = *a;
    it->known = true;
    it->desktop = true;
    tell(s, "kiosk.desktop", "tag", a->tag, I18N_END);
    tell(s, "kiosk.desktop_leave", I18N_END);
    ask_next(s);
}

/* Resolve a scanned device to an inventory record, or to an unknown tag.
 * Returns false (having told the person why) when the scan is refused. */
static bool resolve_device(struct dk_session *s, const struct dk_scan *scan,
                           struct dk_visit_item *it)
{
    struct dk_error err = {{0}};
    enum dk_asset_key by = DK_ASSET_BY_TAG;
    int rc;

    memset(it, 0, sizeof(*it));
    if (scan->kind == DK_SCAN_IMEI)
        by = DK_ASSET_BY_IMEI;
    else if (scan->kind == DK_SCAN_OTHER || scan->kind == DK_SCAN_SERIAL)
        by = DK_ASSET_BY_SERIAL;
    rc = inventory_find_asset(s->deps.store, by, scan->text, &it->asset, &err);
    if (rc == 0) {
        it->known = true;
        return true;
    }
    if (rc != DK_ENOTFOUND) {
        log_error("cannot look up %s: %s", scan->text, err.msg);
        tell(s, "kiosk.lookup_failed", I18N_END);
        return false;
    }
    if (scan->kind == DK_SCAN_SERIAL) {
        tell(s, "kiosk.unknown_serial", "serial", scan->text, I18N_END);
        return false;
    }
    if (scan->kind == DK_SCAN_OTHER) {
        tell(s, "kiosk.unknown_code", "text", scan->text, I18N_END);
        return false;
    }
    /* An asset tag or IMEI of the right form that the inventory lacks: the
     * device is still safer in the bin; a technician sorts it out. */
    snprintf(it->asset.tag, sizeof(it->asset.tag), "%s", scan->text);
    snprintf(it->asset.type, sizeof(it->asset.type), "other");
    return true;
}

/* A device received and not yet dispositioned is with OIIT as surely as
 * one still waiting in the bin: a second drop would be received and
 * dispositioned twice. */
static bool already_returned(struct dk_session *s, const char *tag)
{
    struct dk_error err = {{0}};
    char when[64], local[64];
    int rc = inventory_open_return(s->deps.store, tag, when, sizeof(when), &err);
    struct tm tm;

    if (rc < 0) {
        log_error("cannot check earlier returns of %s: %s", tag, err.msg);
        return false;
    }
    /* Stored in UTC; said in the kiosk's local time, as receipts are. */
    memset(&tm, 0, sizeof(tm));
    if (strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL) {
        local_time(local, sizeof(local), timegm(&tm));
        snprintf(when, sizeof(when), "%s", local);
    }
    if (rc == DK_RETURN_DROPPED)
        tell(s, "kiosk.already_dropped", "tag", tag, "when", when, I18N_END);
    else if (rc == DK_RETURN_RECEIVED)
        tell(s, "kiosk.already_received", "tag", tag, "when", when, I18N_END);
    return rc != DK_RETURN_NONE;
}

/* A recycled device went to the e-waste vendor and must not come back
 * into use through the bin.  The screen says so without anything about
 * who held it; nothing is recorded.  true (having told the person) when
 * the device is refused, including when the kiosk cannot tell. */
static bool recycled(struct dk_session *s, const char *tag)
{
    struct dk_error err = {{0}};
    int64_t manifest = 0;
    int rc = inventory_recycled(s->deps.store, tag, &manifest, &err);

    if (rc < 0) {
        log_error("cannot check whether %s was recycled: %s", tag, err.msg);
        tell(s, "kiosk.lookup_failed", I18N_END);
        return true;
    }
    if (rc == 1) {
        log_warn("refused a drop of asset %s: recycled (manifest %lld)", tag,
                 (long long)manifest);
        tell(s, "kiosk.recycled", "tag", tag, I18N_END);
    }
    return rc == 1;
}

static void device_scanned(struct dk_session *s, const struct dk_scan *scan)
{
    struct dk_visit_item *it = &s->pending;

    if (!resolve_device(s, scan, it))
        return;
    if (recycled(s, it->asset.tag))
        return;
    if (!receipt_has_room(s, it)) {
        tell(s, "kiosk.visit_full", I18N_END);
        return;
    }
    if (in_visit(s, it->asset.tag)) {
        tell(s, "kiosk.already_in_visit", "tag", it->asset.tag, I18N_END);
        return;
    }
    if (it->known && strcmp(it->asset.type, "desktop") == 0) {
        add_desktop(s, &it->asset);
        return;
    }
    if (already_returned(s, it->asset.tag))
        return;
    if (it->known) {
        char model[DK_TEXT_MAX * 2];

        snprintf(model, sizeof(model), "%s%s%s", it->asset.make,
                 it->asset.make[0] != '\0' ? " " : "", it->asset.model);
        tell(s, "kiosk.device_found", "type", type_name(s, &it->asset), "model", model, "tag",
             it->asset.tag, I18N_END);
    } else {
        tell(s, "kiosk.unknown_asset", "tag", it->asset.tag, I18N_END);
    }
    tell(s, "kiosk.charger_question", I18N_END);
    s->state = ST_CHARGER;
}

static bool needs_checklist(const struct dk_session *s, const struct dk_visit_item *it)
{
    return s->deps.cfg->checklist && it->known &&
           (strcmp(it->asset.type, "phone") == 0 || strcmp(it->asset.type, "tablet") == 0);
}

/* The pending device joins the visit once every question is answered. */
static void add_pending(struct dk_session *s)
{
    size_t n;
    char count[24];

    s->items[s->n_items++] = s->pending;
    n = returns_in_visit(s);
    tell(s, n == 1 ? "kiosk.added.one" : "kiosk.added.other", "tag", s->pending.asset.tag,
         "charger",
         i18n_text(words(s), s->pending.charger ? "kiosk.charger_yes" : "kiosk.charger_no"),
         "count", num(count, sizeof(count), (long long)n), I18N_END);
    ask_next(s);
}

static void charger_answered(struct dk_session *s, bool yes)
{
    s->pending.charger = yes;
    if (!needs_checklist(s, &s->pending)) {
        add_pending(s);
        return;
    }
    s->state = ST_CHECK;
    tell(s, "kiosk.check.intro", "type", type_name(s, &s->pending.asset), I18N_END);
    tell(s, checks[0].key, I18N_END);
}

static void check_answered(struct dk_session *s, bool yes)
{
    struct dk_visit_item *it = &s->pending;

    it->check[it->checked++] = yes;
    if (it->checked < N_CHECKS) {
        tell(s, checks[it->checked].key, I18N_END);
        return;
    }
    for (int i = 0; i < N_CHECKS; i++) {
        if (!it->check[i]) {
            tell(s, "kiosk.check.not_done", I18N_END);
            break;
        }
    }
    add_pending(s);
}

static void ask_identity(struct dk_session *s)
{
    s->state = ST_IDENTITY;
    tell(s, "kiosk.identity_question", I18N_END);
}

static void identity_given(struct dk_session *s, const struct dk_scan *scan)
{
    struct dk_error err = {{0}};
    int rc;

    if (scan->kind == DK_SCAN_CONTROL &&
        (scan->control == DK_CTRL_SKIP || scan->control == DK_CTRL_NO ||
         scan->control == DK_CTRL_DONE)) {
        ask_print(s);
        return;
    }
    if (scan->kind == DK_SCAN_SERIAL || scan->kind == DK_SCAN_IMEI) {
        tell(s, "kiosk.identity_not_device", I18N_END);
        return;
    }
    rc = inventory_find_staff(s->deps.store, scan->text, &s->who, &err);
    if (rc == DK_EINPUT) {
        log_warn("%s", err.msg);
        tell(s, "kiosk.identity_email_shared", I18N_END);
        return;
    }
    if (rc != 0) {
        if (rc != DK_ENOTFOUND)
            log_error("cannot look up staff: %s", err.msg);
        tell(s, "kiosk.identity_not_found", I18N_END);
        return;
    }
    s->identified = true;
    /* An address the mail layer would refuse (left by an older import) is
     * treated as none, so that the person is never promised an email. */
    if (s->who.email[0] != '\0' && !mail_address_ok(s->who.email)) {
        log_warn("staff %s: email address on file is not usable; no email offered", s->who.id);
        s->who.email[0] = '\0';
    }
    if (s->who.leader_email[0] != '\0' && !mail_address_ok(s->who.leader_email)) {
        log_warn("staff %s: leader's email address on file is not usable; no copy offered",
                 s->who.id);
        s->who.leader_email[0] = '\0';
    }
    /* Devices go back to OIIT, never from hand to hand: someone else's
     * device is taken (it is safer in the bin) and the person is told,
     * without its holder's name. */
    for (size_t i = 0; i < s->n_items; i++) {
        const struct dk_visit_item *it = &s->items[i];

        if (!it->desktop && it->known && it->asset.assignee[0] != '\0' &&
            !inventory_is_assignee(&it->asset, &s->who))
            tell(s, "kiosk.not_yours", "tag", it->asset.tag, I18N_END);
    }
    if (s->who.email[0] == '\0' || returns_in_visit(s) == 0) {
        ask_print(s);
        return;
    }
    s->state = ST_EMAIL;
    tell(s, "kiosk.email_question", I18N_END);
}

static void email_answered(struct dk_session *s, bool yes)
{
    s->email_me = yes;
    /* A leader's own leader address may be their own: no copy to ask for. */
    if (yes && s->who.leader_email[0] != '\0' &&
        strcasecmp(s->who.leader_email, s->who.email) != 0) {
        s->state = ST_LEADER;
        tell(s, "kiosk.leader_question", I18N_END);
        return;
    }
    ask_print(s);
}

static void cancel(struct dk_session *s)
{
    if (s->state == ST_CHARGER || s->state == ST_CHECK) {
        tell(s, "kiosk.removed", "tag", s->pending.asset.tag, I18N_END);
        if (s->n_items > 0)
            ask_next(s);
        else
            session_start(s);
        return;
    }
    /* At the start screen there is no visit to cancel: CANCEL only starts
     * over (it may come right after a visit was recorded). */
    if (s->state != ST_START || s->n_items > 0)
        tell(s, "kiosk.cancelled", I18N_END);
    session_start(s);
}

static bool is_yes_no(const struct dk_scan *scan)
{
    return scan->kind == DK_SCAN_CONTROL &&
           (scan->control == DK_CTRL_YES || scan->control == DK_CTRL_NO);
}

static bool is_device(const struct dk_scan *scan)
{
    return scan->kind == DK_SCAN_ASSET_TAG || scan->kind == DK_SCAN_IMEI ||
           scan->kind == DK_SCAN_SERIAL || scan->kind == DK_SCAN_OTHER;
}

static void on_device_step(struct dk_session *s, const struct dk_scan *scan)
{
    if (is_device(scan)) {
        device_scanned(s, scan);
    } else if (scan->kind == DK_SCAN_CONTROL && scan->control == DK_CTRL_DONE) {
        if (s->n_items == 0)
            tell(s, "kiosk.nothing_scanned", I18N_END);
        else
            ask_identity(s);
    } else if (scan->kind == DK_SCAN_BADGE) {
        tell(s, "kiosk.badge_too_early", I18N_END);
    } else {
        tell(s, s->n_items > 0 ? "kiosk.scan_device_or_done" : "kiosk.scan_device", I18N_END);
    }
}

static void on_scan(struct dk_session *s, const struct dk_scan *scan)
{
    if (scan->kind == DK_SCAN_CONTROL && scan->control == DK_CTRL_CANCEL) {
        cancel(s);
        return;
    }
    switch (s->state) {
    case ST_START:
    case ST_NEXT:
        on_device_step(s, scan);
        break;
    case ST_CHARGER:
        if (is_yes_no(scan))
            charger_answered(s, scan->control == DK_CTRL_YES);
        else
            tell(s, "kiosk.charger_reminder", "tag", s->pending.asset.tag, I18N_END);
        break;
    case ST_CHECK:
        if (is_yes_no(scan))
            check_answered(s, scan->control == DK_CTRL_YES);
        else
            tell(s, checks[s->pending.checked].key, I18N_END);
        break;
    case ST_IDENTITY:
        identity_given(s, scan);
        break;
    case ST_EMAIL:
        if (is_yes_no(scan))
            email_answered(s, scan->control == DK_CTRL_YES);
        else
            tell(s, "kiosk.email_reminder", I18N_END);
        break;
    case ST_LEADER:
        if (is_yes_no(scan)) {
            s->copy_leader = scan->control == DK_CTRL_YES;
            ask_print(s);
        } else {
            tell(s, "kiosk.leader_reminder", I18N_END);
        }
        break;
    case ST_PRINT:
        if (is_yes_no(scan)) {
            s->print_me = scan->control == DK_CTRL_YES;
            finish(s);
        } else {
            tell(s, "kiosk.print_reminder", I18N_END);
        }
        break;
    }
}

/* At the start prompt, a language code alone ("ES", "en") switches the
 * visit to that catalog, when the catalog folder has it.  true when the
 * input was such a code (and the start prompt was shown again). */
static bool switch_language(struct dk_session *s, const char *text, size_t len)
{
    const struct dk_catalog *cat = NULL;
    char code[16];

    if (len < 2 || len >= sizeof(code))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalpha((unsigned char)text[i]) && text[i] != '-')
            return false;
        code[i] = text[i];
    }
    code[len] = '\0';
    /* Typed codes are matched without case ("ES", "zh-hans"), and a
     * language alone names its one regional catalog ("ZH" for zh-Hans). */
    for (size_t i = 0; cat == NULL && i < s->deps.n_catalogs; i++) {
        if (strcasecmp(i18n_lang(s->deps.catalogs[i]), code) == 0)
            cat = s->deps.catalogs[i];
    }
    for (size_t i = 0; cat == NULL && i < s->deps.n_catalogs; i++) {
        const char *lang = i18n_lang(s->deps.catalogs[i]);

        if (strncasecmp(lang, code, len) == 0 && lang[len] == '-')
            cat = s->deps.catalogs[i];
    }
    if (cat == NULL)
        return false;
    s->visit_cat = cat == s->deps.catalog ? NULL : cat;
    log_info("visit language: %s", i18n_lang(cat));
    tell(s, "kiosk.language_set", "language", i18n_text(cat, "language.name"), I18N_END);
    tell(s, "kiosk.ready", I18N_END);
    return true;
}

void session_input(struct dk_session *s, const char *text, size_t len, bool overflow,
                   const char *source, const char *symbology, time_t now)
{
    struct dk_scan scan;

    s->last_input = now;
    /* A new input: what was said before is no longer on the screen, and a
     * receipt left there (with its visit's language) makes way. */
    if (s->state == ST_START && s->view.receipt_payload != NULL)
        s->visit_cat = NULL;
    view_clear(&s->view, true);
    if (overflow) {
        log_warn("scanner %s: refused a scan longer than the scanner buffer", source);
        tell(s, "kiosk.scan_too_long", I18N_END);
        return;
    }
    if (s->state == ST_START && switch_language(s, text, len))
        return;
    scan_classify_from(s->deps.rules, text, len, symbology, &scan);
    if (scan.kind == DK_SCAN_INVALID) {
        log_info("scanner %s: refused a scan: %s", source, scan.reason);
        tell(s, "kiosk.scan_refused", "reason", scan.reason, I18N_END);
        return;
    }
    log_debug("scanner %s: %s", source, scan.text);
    on_scan(s, &scan);
}

bool session_busy(const struct dk_session *s)
{
    return s->state != ST_START || s->n_items > 0;
}

int session_timeout_in(const struct dk_session *s, time_t now)
{
    time_t left;

    /* A language chosen at the start prompt is forgotten after the idle
     * time too, so the next person starts in the kiosk's own. */
    if (s->state == ST_START && s->visit_cat == NULL && s->view.receipt_payload == NULL)
        return -1;
    left = s->last_input + s->deps.cfg->idle_timeout - now;
    return left > 0 ? (int)left : 0;
}

/* The questions left open when a visit is cut short (idle or stop) are
 * taken as "no".  Answers already given stand: a person who said who they
 * are and asked for the email keeps both when they walk away from the
 * print question.  Before the identity was given, the devices are
 * recorded without a name.  true when the visit keeps its identity. */
static bool settle_unanswered(struct dk_session *s)
{
    s->print_me = false;
    switch (s->state) {
    case ST_PRINT:
        return s->identified;
    case ST_LEADER:
        s->copy_leader = false;
        return true;
    case ST_EMAIL:
        s->email_me = false;
        return true;
    default:
        s->identified = false;
        s->email_me = false;
        s->copy_leader = false;
        return false;
    }
}

void session_flush(struct dk_session *s)
{
    if (s->n_items == 0)
        return;
    blank_line(s);
    tell(s, settle_unanswered(s) ? "kiosk.stopping_answered" : "kiosk.stopping", I18N_END);
    finish(s);
}

void session_tick(struct dk_session *s, time_t now)
{
    if (session_timeout_in(s, now) != 0)
        return;
    char seconds[24];

    /* Whatever was on the screen goes, the receipt of the last visit too. */
    view_clear(&s->view, true);
    blank_line(s);
    tell(s, "kiosk.idle", "seconds", num(seconds, sizeof(seconds), s->deps.cfg->idle_timeout),
         I18N_END);
    if (s->n_items == 0) {
        session_start(s);
        return;
    }
    /* The devices answered so far may already be in the bin: record them
     * rather than lose them. */
    tell(s, settle_unanswered(s) ? "kiosk.recording_answered" : "kiosk.recording_anonymous",
         I18N_END);
    finish(s);
}

/* ---- the screen's view ------------------------------------------------- */

static const char *state_name(enum dk_session_state st)
{
    static const char *const names[] = {
        [ST_START] = "start",       [ST_CHARGER] = "charger", [ST_NEXT] = "next",
        [ST_IDENTITY] = "identity", [ST_EMAIL] = "email",     [ST_LEADER] = "leader",
        [ST_PRINT] = "print",       [ST_CHECK] = "checklist",
    };

    return names[st];
}

static json_t *device_json(const struct dk_session *s, const struct dk_visit_item *it)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "tag", it->asset.tag, "type",
                     it->asset.type, "type_name", type_name(s, &it->asset), "model",
                     it->known ? it->asset.model : "", "known", it->known, "charger",
                     it->charger, "desktop", it->desktop);
}

static json_t *lines_json(const struct dk_view *v)
{
    json_t *lines = json_array();

    for (size_t i = 0; lines != NULL && i < v->n_lines; i++)
        json_array_append_new(lines, json_pack("{s:s, s:s}", "key", v->lines[i].key, "text",
                                               v->lines[i].text));
    return lines;
}

static json_t *receipt_json(const struct dk_view *v)
{
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;
    char *b64 = NULL;
    json_t *j = NULL;

    if (v->receipt_payload == NULL)
        return json_null();
    if (receipt_qr_png(v->receipt_payload, &png, &len, &err) != 0) {
        log_warn("cannot draw receipt %s for the screen: %s", v->receipt_id, err.msg);
        return json_pack("{s:s}", "id", v->receipt_id);
    }
    size_t b64_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);

    b64 = malloc(b64_len);
    if (b64 != NULL) {
        sodium_bin2base64(b64, b64_len, png, len, sodium_base64_VARIANT_ORIGINAL);
        j = json_pack("{s:s, s:s+}", "id", v->receipt_id, "qr", "data:image/png;base64,",
                      b64);
    }
    free(b64);
    free(png);
    return j != NULL ? j : json_pack("{s:s}", "id", v->receipt_id);
}

json_t *session_view(const struct dk_session *s)
{
    json_t *devices = json_array();
    bool receipt = s->state == ST_START && s->view.receipt_payload != NULL;
    bool asking = s->state == ST_CHARGER || s->state == ST_CHECK;
    /* A leader whose leader address is their own is not offered a copy. */
    bool leader = s->who.leader_email[0] != '\0' &&
                  strcasecmp(s->who.leader_email, s->who.email) != 0;

    for (size_t i = 0; devices != NULL && i < s->n_items; i++)
        json_array_append_new(devices, device_json(s, &s->items[i]));
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:i}", "screen",
                     receipt ? "receipt" : state_name(s->state), "lang", i18n_lang(words(s)),
                     "devices", devices != NULL ? devices : json_array(), "pending",
                     asking ? device_json(s, &s->pending) : json_null(), "lines",
                     lines_json(&s->view), "receipt", receipt_json(&s->view),
                     "email_offered", s->identified && s->who.email[0] != '\0',
                     "leader_offered", leader, "idle_timeout", s->deps.cfg->idle_timeout);
}

void session_touch(struct dk_session *s, time_t now)
{
    s->last_input = now;
}

bool session_out_of_service(const struct dk_session *s)
{
    return s->view.db_failed;
}

bool session_set_language(struct dk_session *s, const char *code, time_t now)
{
    size_t len = strlen(code);

    if (s->state != ST_START || s->n_items > 0)
        return false;
    /* The choice counts as input: it is forgotten after the idle time. */
    s->last_input = now;
    view_clear(&s->view, true);
    return switch_language(s, code, len);
}
