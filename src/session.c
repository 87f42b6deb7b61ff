#include "session.h"

#include "audit.h"
#include "fileio.h"
#include "inventory.h"
#include "log.h"
#include "notice.h"
#include "outbox.h"
#include "receipt.h"

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
};

struct dk_visit_item {
    struct dk_asset asset;
    bool known;   /* in the inventory */
    bool charger; /* declared in the bag */
    bool desktop; /* not taken: a service-desk ticket instead */
};

struct dk_session {
    struct dk_session_deps deps;
    enum dk_session_state state;
    struct dk_visit_item items[DK_VISIT_MAX];
    size_t n_items;
    struct dk_visit_item pending;
    struct dk_staff who;
    bool identified;
    bool email_me;
    bool copy_leader;
    bool mail_problem; /* a message could not be composed; told at the end */
    time_t last_input; /* monotonic seconds */
};

static void say(struct dk_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct dk_session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(s->deps.out, fmt, ap);
    va_end(ap);
    fputc('\n', s->deps.out);
    fflush(s->deps.out);
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
    free(s);
}

static void reset(struct dk_session *s)
{
    struct dk_session_deps deps = s->deps;

    memset(s, 0, sizeof(*s));
    s->deps = deps;
}

void session_start(struct dk_session *s)
{
    reset(s);
    say(s, "\nReady. Scan the asset tag of a device you are returning (or type it).");
}

static size_t returns_in_visit(const struct dk_session *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_items; i++)
        n += !s->items[i].desktop;
    return n;
}

static const char *type_name(const struct dk_asset *a)
{
    static const struct {
        const char *type;
        const char *name;
    } names[] = {
        {"laptop", "Laptop"},   {"chromebook", "Chromebook"}, {"tablet", "Tablet"},
        {"phone", "Phone"},     {"hotspot", "Hotspot"},       {"desktop", "Desktop computer"},
        {"other", "Device"},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(a->type, names[i].type) == 0)
            return names[i].name;
    }
    return "Device";
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

    snprintf(channels, sizeof(channels), "screen,png%s", s->email_me ? ",email" : "");
    if (s->email_me)
        snprintf(recipients, sizeof(recipients), "%s%s%s", s->who.email,
                 s->copy_leader ? "," : "", s->copy_leader ? s->who.leader_email : "");
    rc = store_prepare(s->deps.store,
                       "INSERT INTO receipts (id, created_at, return_ids, payload, channels, "
                       "recipients) VALUES (?, ?, '', ?, ?, ?)",
                       &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, c->receipt_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->now_utc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->payload, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, channels, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, recipients, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record receipt: %s",
                          sqlite3_errmsg(s->deps.store->db));
    sqlite3_finalize(st);
    return rc;
}

static int insert_return(struct dk_session *s, struct commit_ctx *c,
                         const struct dk_visit_item *it, int64_t *id, struct dk_error *err)
{
    const struct dk_config *cfg = s->deps.cfg;
    sqlite3_stmt *st = NULL;
    bool not_assignee = s->identified && it->known && it->asset.assignee[0] != '\0' &&
                        !inventory_is_assignee(&it->asset, &s->who);
    bool missing = !it->charger && (!it->known || it->asset.charger_expected);
    int rc;

    rc = store_prepare(s->deps.store,
                       "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, "
                       "kiosk_id, returned_at, charger_declared, receipt_id, "
                       "flag_not_assignee, flag_unknown_asset, flag_missing_charger) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record return of %s: %s", it->asset.tag,
                          sqlite3_errmsg(s->deps.store->db));
    *id = sqlite3_last_insert_rowid(s->deps.store->db);
    sqlite3_finalize(st);
    if (rc == 0) {
        char details[256];

        snprintf(details, sizeof(details), "receipt=%s charger=%s%s%s%s", c->receipt_id,
                 it->charger ? "yes" : "no", not_assignee ? " not_assignee" : "",
                 it->known ? "" : " unknown_asset", missing ? " missing_charger" : "");
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
static int mail_refused(struct dk_session *s, int rc, const char *what, const char *subject,
                        struct dk_error *err)
{
    if (rc != DK_EINPUT)
        return rc;
    log_error("cannot queue %s for %s: %s", what, subject, err->msg);
    s->mail_problem = true;
    return 0;
}

static int queue_receipt_mail(struct dk_session *s, struct commit_ctx *c, struct dk_error *err)
{
    struct dk_notice_device devs[DK_VISIT_MAX];
    struct dk_notice notice = {0};
    struct dk_catalog *cat = NULL;
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
    /* TODO(session): the visit's language, once the kiosk records it.  A
     * catalog that cannot be read refuses the mail, not the visit. */
    if (rc == 0 && i18n_load(i18n_dir(s->deps.cfg), s->deps.cfg->language, &cat, err) != 0)
        rc = DK_EINPUT;
    if (rc == 0)
        rc = notice_receipt(s->deps.cfg, cat, c->receipt_id, s->who.name, c->when_local, devs,
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
    }
    if (rc == 0)
        rc = audit_append(s->deps.store, c->actor, "receipt email queued", c->receipt_id,
                          s->copy_leader ? "to staff, cc leader" : "to staff", err);
    notice_free(&notice);
    i18n_free(cat);
    free(png);
    return mail_refused(s, rc, "receipt email", c->receipt_id, err);
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
    return mail_refused(s, rc, "desktop ticket", it->asset.tag, err);
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

    say(s, "Received: %zu device%s, recorded at %s.", n, n == 1 ? "" : "s", c->when_local);
    say(s, "Your receipt is %s. Scan this code with your phone to keep it:", c->receipt_id);
    if (receipt_qr_terminal(c->payload, s->deps.out, &err) != 0)
        log_warn("cannot draw receipt QR: %s", err.msg);
    save_png(s, c, png_path, sizeof(png_path));
    if (png_path[0] != '\0')
        say(s, "Receipt image: %s", png_path);
    if (s->email_me && !s->mail_problem)
        say(s, "A copy will be emailed to you%s.", s->copy_leader ? " and your leader" : "");
    else if (s->email_me)
        say(s, "The email could not be prepared; please ask at the OIIT desk for a copy of "
               "this receipt.");
    say(s, "Please put the devices in the drop bin. Thank you!");
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
        log_error("cannot record visit: %s", err.msg);
        say(s, "Sorry, the kiosk could not record this return. Nothing was recorded; "
               "please keep your devices and ask at the OIIT desk.");
        goto out;
    }
    for (size_t i = 0; i < s->n_items; i++)
        mail = mail || s->items[i].desktop;
    if (returns_in_visit(s) > 0)
        show_receipt(s, &c);
    else
        say(s, "Thank you. The service desk has been asked to reimage your desktop.");
    if (mail && s->deps.mail_queued != NULL)
        s->deps.mail_queued(s->deps.user);
out:
    free(c.payload);
    session_start(s);
}

/* ---- the questions ---------------------------------------------------- */

static void ask_next(struct dk_session *s)
{
    s->state = ST_NEXT;
    say(s, "Scan the next device, or DONE when you have scanned them all.");
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
    say(s, "Asset %s is a desktop computer. Desktops are not dropped off: they are "
           "reimaged where they are.",
        a->tag);
    say(s, "Please leave it in place. When you finish, the kiosk will ask the service desk "
           "to reimage it for you.");
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
        say(s, "Sorry, the kiosk cannot look that up right now. Please try again.");
        return false;
    }
    if (scan->kind == DK_SCAN_SERIAL) {
        say(s, "Not recognised: no device we know has serial number \"%s\". Scan the asset "
               "tag instead.",
            scan->text);
        return false;
    }
    if (scan->kind == DK_SCAN_OTHER) {
        say(s, "Not recognised: \"%s\" is not an asset tag, serial number or IMEI we know. "
               "Check the label and scan again.",
            scan->text);
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
    char when[32];
    int rc = inventory_open_return(s->deps.store, tag, when, sizeof(when), &err);

    if (rc < 0) {
        log_error("cannot check earlier returns of %s: %s", tag, err.msg);
        return false;
    }
    if (rc == DK_RETURN_DROPPED)
        say(s, "Asset %s was already returned (%s) and is waiting for a technician. "
               "No second return is recorded.",
            tag, when);
    else if (rc == DK_RETURN_RECEIVED)
        say(s, "Asset %s is with OIIT already (received %s). No second return is recorded.",
            tag, when);
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
        say(s, "Sorry, the kiosk cannot look that up right now. Please try again.");
        return true;
    }
    if (rc == 1) {
        log_warn("refused a drop of asset %s: recycled (manifest %lld)", tag,
                 (long long)manifest);
        say(s, "Asset %s was recycled and cannot be returned here. Please take it to the "
               "OIIT service desk.",
            tag);
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
        say(s, "This visit holds as many devices as one receipt can list. Scan DONE, then "
               "start a new visit for the rest.");
        return;
    }
    if (in_visit(s, it->asset.tag)) {
        say(s, "Asset %s is already in this visit.", it->asset.tag);
        return;
    }
    if (it->known && strcmp(it->asset.type, "desktop") == 0) {
        add_desktop(s, &it->asset);
        return;
    }
    if (already_returned(s, it->asset.tag))
        return;
    if (it->known)
        say(s, "%s %s%s%s (asset %s).", type_name(&it->asset), it->asset.make,
            it->asset.make[0] != '\0' ? " " : "", it->asset.model, it->asset.tag);
    else
        say(s, "Asset %s is not in our inventory. It will be accepted and checked by a "
               "technician.",
            it->asset.tag);
    say(s, "Is the charger in the bag? YES or NO");
    s->state = ST_CHARGER;
}

static void charger_answered(struct dk_session *s, bool yes)
{
    s->pending.charger = yes;
    s->items[s->n_items++] = s->pending;
    say(s, "Added asset %s, charger %s. %zu device%s in this visit.", s->pending.asset.tag,
        yes ? "in the bag" : "not in the bag", returns_in_visit(s),
        returns_in_visit(s) == 1 ? "" : "s");
    ask_next(s);
}

static void ask_identity(struct dk_session *s)
{
    s->state = ST_IDENTITY;
    say(s, "Who is returning these devices? Scan your badge, or type your staff id or "
           "email. SKIP to stay anonymous (no email receipt).");
}

static void identity_given(struct dk_session *s, const struct dk_scan *scan)
{
    struct dk_error err = {{0}};
    int rc;

    if (scan->kind == DK_SCAN_CONTROL &&
        (scan->control == DK_CTRL_SKIP || scan->control == DK_CTRL_NO ||
         scan->control == DK_CTRL_DONE)) {
        finish(s);
        return;
    }
    if (scan->kind == DK_SCAN_SERIAL || scan->kind == DK_SCAN_IMEI) {
        say(s, "That is a device's label. Scan your badge, or type your staff id or email, "
               "or SKIP.");
        return;
    }
    rc = inventory_find_staff(s->deps.store, scan->text, &s->who, &err);
    if (rc == DK_EINPUT) {
        log_warn("%s", err.msg);
        say(s, "That email belongs to more than one person. Scan your badge or type your "
               "staff id instead, or SKIP.");
        return;
    }
    if (rc != 0) {
        if (rc != DK_ENOTFOUND)
            log_error("cannot look up staff: %s", err.msg);
        say(s, "We could not find that badge, staff id or email. Try again, or SKIP.");
        return;
    }
    s->identified = true;
    if (s->who.email[0] == '\0' || returns_in_visit(s) == 0) {
        finish(s);
        return;
    }
    s->state = ST_EMAIL;
    say(s, "Thank you. Email the receipt to the address on file for you? YES or NO");
}

static void email_answered(struct dk_session *s, bool yes)
{
    s->email_me = yes;
    /* A leader's own leader address may be their own: no copy to ask for. */
    if (yes && s->who.leader_email[0] != '\0' &&
        strcasecmp(s->who.leader_email, s->who.email) != 0) {
        s->state = ST_LEADER;
        say(s, "Send a copy to your school or department leader? YES or NO");
        return;
    }
    finish(s);
}

static void cancel(struct dk_session *s)
{
    if (s->state == ST_CHARGER) {
        say(s, "Asset %s removed from this visit.", s->pending.asset.tag);
        if (s->n_items > 0)
            ask_next(s);
        else
            session_start(s);
        return;
    }
    say(s, "Cancelled. Nothing from this visit was recorded.");
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
            say(s, "Nothing scanned yet. Scan the asset tag of a device first.");
        else
            ask_identity(s);
    } else if (scan->kind == DK_SCAN_BADGE) {
        say(s, "That is a staff badge. Scan your devices first; the kiosk asks who you are "
               "after DONE.");
    } else {
        say(s, "Scan a device's asset tag%s.", s->n_items > 0 ? ", or DONE" : "");
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
            say(s, "Please answer first: is the charger for asset %s in the bag? YES or NO",
                s->pending.asset.tag);
        break;
    case ST_IDENTITY:
        identity_given(s, scan);
        break;
    case ST_EMAIL:
        if (is_yes_no(scan))
            email_answered(s, scan->control == DK_CTRL_YES);
        else
            say(s, "Email the receipt to you? YES or NO");
        break;
    case ST_LEADER:
        if (is_yes_no(scan)) {
            s->copy_leader = scan->control == DK_CTRL_YES;
            finish(s);
        } else {
            say(s, "Copy your leader? YES or NO");
        }
        break;
    }
}

void session_input(struct dk_session *s, const char *text, size_t len, bool overflow,
                   const char *source, const char *symbology, time_t now)
{
    struct dk_scan scan;

    s->last_input = now;
    if (overflow) {
        log_warn("scanner %s: refused a scan longer than the scanner buffer", source);
        say(s, "Scan not accepted: too long to be a barcode we use. Nothing was changed.");
        return;
    }
    scan_classify_from(s->deps.rules, text, len, symbology, &scan);
    if (scan.kind == DK_SCAN_INVALID) {
        log_info("scanner %s: refused a scan: %s", source, scan.reason);
        say(s, "Scan not accepted: %s. Nothing was changed.", scan.reason);
        return;
    }
    log_debug("scanner %s: %s", source, scan.text);
    on_scan(s, &scan);
}

int session_timeout_in(const struct dk_session *s, time_t now)
{
    time_t left;

    if (s->state == ST_START)
        return -1;
    left = s->last_input + s->deps.cfg->idle_timeout - now;
    return left > 0 ? (int)left : 0;
}

void session_flush(struct dk_session *s)
{
    if (s->n_items == 0)
        return;
    say(s, "\nThe kiosk is stopping. Recording the devices scanned so far without a name.");
    s->identified = false;
    s->email_me = false;
    s->copy_leader = false;
    finish(s);
}

void session_tick(struct dk_session *s, time_t now)
{
    if (session_timeout_in(s, now) != 0)
        return;
    say(s, "\nNo activity for %d seconds.", s->deps.cfg->idle_timeout);
    if (s->n_items == 0) {
        session_start(s);
        return;
    }
    /* The devices answered so far may already be in the bin: record them
     * without a name rather than lose them. */
    s->identified = false;
    s->email_me = false;
    s->copy_leader = false;
    say(s, "Recording the devices scanned so far without a name.");
    finish(s);
}
