#include "intake.h"

#include "audit.h"
#include "inventory.h"
#include "log.h"
#include "mail.h"
#include "notice.h"
#include "outbox.h"
#include "scan.h"
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What one call knows about its surroundings. */
struct intake_ctx {
    struct dk_store *store;
    const struct dk_config *cfg;
    const struct dk_tech *tech;
    const struct dk_scan_rules *rules;
    const char *school; /* a clean-out's, or NULL for a receive */
    time_t now;
    char now_utc[32];
    char actor[32];
};

/* A scan resolved to a device: from the inventory, or an asset tag or IMEI
 * of the right form that the inventory lacks. */
struct device {
    struct dk_asset asset;
    bool known;
};

/* The device's return not yet dispositioned: one still 'received' when
 * there is one, else the newest 'dropped'. */
struct open_return {
    bool found;
    int64_t id;
    char state[16];
    char returned_by[256]; /* "" when anonymous */
    char receipt_id[32];
    bool charger_declared;
    char returned_at[32];
    char received_at[32];
    char technician[32];
    char site_name[256];
    char lang[16]; /* the receipt's language; "" without a receipt */
};

bool intake_condition_ok(const char *condition)
{
    static const char *const known[] = {"good", "worn", "damaged",
                                        "not_working"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(condition, known[i]) == 0)
            return true;
    }
    return false;
}

bool intake_parse_charger(const char *text, int *out)
{
    if (text == NULL)
        *out = DK_CHARGER_DEFAULT;
    else if (strcmp(text, "present") == 0)
        *out = DK_CHARGER_PRESENT;
    else if (strcmp(text, "missing") == 0)
        *out = DK_CHARGER_MISSING;
    else
        return false;
    return true;
}

static int check_options(const struct dk_intake_item *item,
                         struct dk_error *err)
{
    if (item->charger != DK_CHARGER_DEFAULT &&
        item->charger != DK_CHARGER_MISSING &&
        item->charger != DK_CHARGER_PRESENT)
        return dk_error_set(err, DK_EINPUT,
                            "--charger must be present or missing");
    if (item->condition != NULL && !intake_condition_ok(item->condition))
        return dk_error_set(
            err, DK_EINPUT,
            "--condition must be good, worn, damaged or not_working, not '%s'",
            item->condition);
    if (item->note != NULL && (strlen(item->note) > DK_INTAKE_NOTE_MAX ||
                               !text_is_clean(item->note, strlen(item->note))))
        return dk_error_set(
            err, DK_EINPUT,
            "--note must be at most %d bytes of text without control characters",
            DK_INTAKE_NOTE_MAX);
    return 0;
}

/* text with control bytes written as \xNN, so a refused scan can be named
 * in a message without its escape sequences reaching the terminal. */
static void visible(const char *text, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0';
         p++) {
        int n = *p < 0x20 || *p == 0x7f
                    ? snprintf(out + used, size - used, "\\x%02x", *p)
                    : snprintf(out + used, size - used, "%c", *p);

        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* Classify the scan as the kiosk would; only device labels go further. */
static int check_scan(const struct dk_scan_rules *rules, const char *text,
                      struct dk_scan *scan, struct dk_error *err)
{
    char shown[128];

    scan_classify(rules, text, strlen(text), scan);
    switch (scan->kind) {
    case DK_SCAN_INVALID:
        visible(text, shown, sizeof(shown));
        return dk_error_set(err, DK_EINPUT, "'%s' is not a device label: %s",
                            shown, scan->reason);
    case DK_SCAN_CONTROL:
        return dk_error_set(err, DK_EINPUT,
                            "'%s' is a kiosk control code, not a device label",
                            text);
    case DK_SCAN_BADGE:
        return dk_error_set(err, DK_EINPUT,
                            "'%s' is a staff badge, not a device label", text);
    default:
        return 0;
    }
}

int intake_check_item(const struct dk_config *cfg,
                      const struct dk_intake_item *item, struct dk_error *err)
{
    struct dk_scan_rules rules = {0};
    struct dk_scan scan;
    int rc = check_options(item, err);

    if (rc == 0)
        rc = scan_rules_init(&rules, cfg, err);
    if (rc == 0)
        rc = check_scan(&rules, item->scan, &scan, err);
    scan_rules_free(&rules);
    return rc;
}

/* ---- looking things up -------------------------------------------------- */

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    snprintf(dst, size, "%s", t != NULL ? (const char *)t : "");
}

static int resolve(struct intake_ctx *x, const struct dk_scan *scan,
                   struct device *dev, struct dk_error *err)
{
    enum dk_asset_key by = DK_ASSET_BY_TAG;
    int rc;

    memset(dev, 0, sizeof(*dev));
    if (scan->kind == DK_SCAN_IMEI)
        by = DK_ASSET_BY_IMEI;
    else if (scan->kind == DK_SCAN_SERIAL || scan->kind == DK_SCAN_OTHER)
        by = DK_ASSET_BY_SERIAL;
    rc = inventory_find_asset(x->store, by, scan->text, &dev->asset, err);
    if (rc == 0) {
        dev->known = true;
        return 0;
    }
    if (rc != DK_ENOTFOUND)
        return rc;
    if (scan->kind == DK_SCAN_SERIAL)
        return dk_error_set(err, DK_ENOTFOUND,
                            "no device we know has serial number '%s'",
                            scan->text);
    if (scan->kind == DK_SCAN_OTHER)
        return dk_error_set(
            err, DK_ENOTFOUND,
            "'%s' is not an asset tag, serial number or IMEI we know",
            scan->text);
    /* The kiosk takes such a tag and flags it; so do we, so the two agree
     * on what one device is called. */
    snprintf(dev->asset.tag, sizeof(dev->asset.tag), "%s", scan->text);
    snprintf(dev->asset.type, sizeof(dev->asset.type), "other");
    return 0;
}

static int latest_return(struct intake_ctx *x, const char *tag,
                         struct open_return *r, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        x->store,
        "SELECT r.id, r.state, r.returned_by, r.receipt_id, "
        "r.charger_declared, r.returned_at, r.received_at, r.technician, "
        "coalesce(s.name, r.site_id), coalesce(rc.lang, '') FROM returns r "
        "LEFT JOIN sites s ON s.id = r.site_id "
        "LEFT JOIN receipts rc ON rc.id = r.receipt_id "
        "WHERE r.asset_tag = ? AND r.state IN ('dropped', 'received') "
        /* A received return not yet dispositioned means the device is
         * already with OIIT, whatever newer drop the kiosk took since:
         * taking that drop would receive and disposition it twice. */
        "ORDER BY r.state = 'received' DESC, r.id DESC LIMIT 1",
        &st, err);

    if (rc != 0)
        return rc;
    memset(r, 0, sizeof(*r));
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        r->found = true;
        r->id = sqlite3_column_int64(st, 0);
        copy_col(r->state, sizeof(r->state), st, 1);
        copy_col(r->returned_by, sizeof(r->returned_by), st, 2);
        copy_col(r->receipt_id, sizeof(r->receipt_id), st, 3);
        r->charger_declared = sqlite3_column_int(st, 4) != 0;
        copy_col(r->returned_at, sizeof(r->returned_at), st, 5);
        copy_col(r->received_at, sizeof(r->received_at), st, 6);
        copy_col(r->technician, sizeof(r->technician), st, 7);
        copy_col(r->site_name, sizeof(r->site_name), st, 8);
        copy_col(r->lang, sizeof(r->lang), st, 9);
        break;
    case SQLITE_DONE:
        break;
    default:
        rc = dk_error_set(err, DK_EDB, "cannot look up returns of %s: %s", tag,
                          sqlite3_errmsg(x->store->db));
    }
    sqlite3_finalize(st);
    return rc;
}

/* "YYYY-MM-DDTHH:MM:SSZ" to a time; -1 when it is not that. */
static time_t parse_utc(const char *text)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return (time_t)-1;
    return timegm(&tm);
}

static void local_text(const char *utc, char *buf, size_t size)
{
    time_t t = parse_utc(utc);
    struct tm tm;

    if (t == (time_t)-1) {
        snprintf(buf, size, "%s", utc);
        return;
    }
    localtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M %Z", &tm);
}

/* Whether the receipt was copied to leader: its channels include email
 * and its recipients (comma-separated) name the address. */
static int receipt_copied_to(struct intake_ctx *x, const char *receipt_id,
                             const char *leader, bool *copied,
                             struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char channels[128] = "";
    char recipients[1024] = "";
    size_t n = strlen(leader);
    int rc;

    *copied = false;
    if (receipt_id[0] == '\0' || n == 0)
        return 0;
    rc = store_prepare(x->store,
                       "SELECT channels, recipients FROM receipts WHERE id = ?",
                       &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, receipt_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_col(channels, sizeof(channels), st, 0);
        copy_col(recipients, sizeof(recipients), st, 1);
    }
    sqlite3_finalize(st);
    if (strstr(channels, "email") == NULL)
        return 0;
    for (const char *p = recipients; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

        if (len == n && strncasecmp(p, leader, n) == 0)
            *copied = true;
        p += len + (comma != NULL);
    }
    return 0;
}

/* ---- the confirmation --------------------------------------------------- */

static int charger_cost(const struct dk_config *cfg, const struct device *dev)
{
    int i = config_asset_type_index(dev->asset.type);

    if (i < 0)
        i = config_asset_type_index("other");
    return cfg->charger_cost_cents[i];
}

static int enqueue_confirmation(struct intake_ctx *x, const struct device *dev,
                                const struct open_return *r,
                                const struct dk_staff *who, bool present,
                                bool cc, struct dk_error *err)
{
    struct dk_notice notice = {0};
    struct dk_catalog *cat = NULL;
    const char *lang = r->lang;
    char returned[64], received[64];
    struct dk_notice_received n = {
        .asset = &dev->asset,
        .name = who->name,
        .site_name = r->site_name,
        .returned_when = returned,
        .received_when = received,
        .receipt_id = r->receipt_id,
        .charger_declared = r->charger_declared,
        .charger_present = present,
        .charger_expected = !dev->known || dev->asset.charger_expected,
        .charger_cost_cents = charger_cost(x->cfg, dev),
    };
    int rc;

    local_text(r->returned_at, returned, sizeof(returned));
    local_text(x->now_utc, received, sizeof(received));
    /* In the language the person chose at the kiosk (the kiosk's own when
     * that catalog is gone).  A catalog that cannot be read refuses the
     * mail (DK_EINPUT), not the receive. */
    if (r->lang[0] == '\0' || !i18n_available(i18n_dir(x->cfg), r->lang))
        lang = x->cfg->language;
    rc = i18n_load(i18n_dir(x->cfg), lang, &cat, err) != 0 ? DK_EINPUT : 0;
    if (rc == 0)
        rc = notice_received(x->cfg, cat, &n, &notice);
    if (rc == 0) {
        struct dk_mail m = {
            .from = x->cfg->mail_from,
            .to = who->email,
            .to_name = who->name,
            .cc = cc ? who->leader_email : NULL,
            .subject = notice.subject,
            .text = notice.text,
        };

        rc = outbox_enqueue(x->store, "confirmation", &m, NULL, err);
    } else if (rc == -ENOMEM) {
        dk_error_set(err, rc, "cannot compose the confirmation: out of memory");
    }
    notice_free(&notice);
    i18n_free(cat);
    return rc;
}

/* Queue the confirmation to whoever returned the device, copying their
 * leader when the receipt went to the leader too.  Nothing for an
 * anonymous return or a person without an email address.  A message the
 * mail layer refuses (a malformed address from the HR import) must not undo
 * the receive: it is logged and noted in res. */
static int queue_confirmation(struct intake_ctx *x, const struct device *dev,
                              const struct open_return *r, bool present,
                              struct dk_intake_result *res,
                              struct dk_error *err)
{
    struct dk_staff who;
    bool cc = false;
    int rc;

    if (r->returned_by[0] == '\0')
        return 0;
    rc = inventory_find_staff(x->store, r->returned_by, &who, err);
    if (rc == DK_ENOTFOUND || (rc == 0 && who.email[0] == '\0')) {
        log_info(
            "no confirmation for %s: staff %s has no email address on file",
            dev->asset.tag, r->returned_by);
        return 0;
    }
    if (rc == 0)
        rc = receipt_copied_to(x, r->receipt_id, who.leader_email, &cc, err);
    /* A leader's own leader address may be their own: one copy is enough. */
    if (cc && strcasecmp(who.leader_email, who.email) == 0)
        cc = false;
    if (rc == 0)
        rc = enqueue_confirmation(x, dev, r, &who, present, cc, err);
    if (rc == DK_EINPUT) {
        log_error("cannot queue the confirmation for %s: %s", dev->asset.tag,
                  err->msg);
        res->mail_problem = true;
        return 0;
    }
    if (rc == 0)
        rc = audit_append(x->store, x->actor, "confirmation email queued",
                          dev->asset.tag,
                          cc ? "to staff, cc leader" : "to staff", err);
    if (rc == 0) {
        res->mail_queued = true;
        snprintf(res->mail_to, sizeof(res->mail_to), "%s", who.email);
        snprintf(res->mail_cc, sizeof(res->mail_cc), "%s",
                 cc ? who.leader_email : "");
    }
    return rc;
}

/* ---- recording ---------------------------------------------------------- */

static void bind_opt(sqlite3_stmt *st, int i, const char *text)
{
    if (text != NULL)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int step_done(struct intake_ctx *x, sqlite3_stmt *st, const char *tag,
                     struct dk_error *err)
{
    int rc = 0;

    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot record receipt of %s: %s", tag,
                          sqlite3_errmsg(x->store->db));
    sqlite3_finalize(st);
    return rc;
}

static int receive_dropped(struct intake_ctx *x, const struct device *dev,
                           const struct open_return *r,
                           const struct dk_intake_item *item,
                           struct dk_intake_result *res, struct dk_error *err)
{
    bool present = item->charger == DK_CHARGER_DEFAULT
                       ? r->charger_declared
                       : item->charger == DK_CHARGER_PRESENT;
    sqlite3_stmt *st = NULL;
    char details[160];
    int rc = store_prepare(
        x->store,
        "UPDATE returns SET state = 'received', received_at = ?, "
        "charger_verified = ?, condition = ?, condition_note = ?, "
        "technician = ? WHERE id = ? AND state = 'dropped'",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, x->now_utc, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, present);
    bind_opt(st, 3, item->condition);
    bind_opt(st, 4, item->note);
    sqlite3_bind_text(st, 5, x->tech->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, r->id);
    rc = step_done(x, st, dev->asset.tag, err);
    if (rc != 0)
        return rc;

    res->outcome = DK_INTAKE_RECEIVED;
    res->return_id = r->id;
    res->charger_checked = true;
    res->charger_present = present;
    snprintf(details, sizeof(details),
             "return=%lld charger=%s declared=%s condition=%s",
             (long long)r->id, present ? "present" : "missing",
             r->charger_declared ? "yes" : "no",
             item->condition != NULL ? item->condition : "not assessed");
    rc = audit_append(x->store, x->actor, "return received", dev->asset.tag,
                      details, err);
    if (rc == 0)
        rc = queue_confirmation(x, dev, r, present, res, err);
    return rc;
}

static int insert_received(struct intake_ctx *x, const struct device *dev,
                           const struct dk_intake_item *item, int64_t *id,
                           struct dk_error *err)
{
    bool checked = item->charger != DK_CHARGER_DEFAULT;
    bool present = item->charger == DK_CHARGER_PRESENT;
    bool expected = !dev->known || dev->asset.charger_expected;
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        x->store,
        "INSERT INTO returns (asset_tag, assignee_at_time, site_id, "
        "kiosk_id, returned_at, charger_declared, state, charger_verified, "
        "condition, technician, flag_unknown_asset, flag_missing_charger, "
        "received_at, condition_note, cleanout_school, flag_walk_in) "
        "VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, dev->asset.tag, -1, SQLITE_STATIC);
    bind_opt(st, 2,
             dev->asset.assignee[0] != '\0' ? dev->asset.assignee : NULL);
    sqlite3_bind_text(st, 3, x->cfg->site_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, x->cfg->kiosk_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, x->now_utc, -1, SQLITE_STATIC);
    /* Nobody declared anything: the technician's finding stands in for it. */
    sqlite3_bind_int(st, 6, present);
    if (checked)
        sqlite3_bind_int(st, 7, present);
    bind_opt(st, 8, item->condition);
    sqlite3_bind_text(st, 9, x->tech->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, !dev->known);
    sqlite3_bind_int(st, 11, checked && !present && expected);
    sqlite3_bind_text(st, 12, x->now_utc, -1, SQLITE_STATIC);
    bind_opt(st, 13, item->note);
    bind_opt(st, 14, x->school);
    sqlite3_bind_int(st, 15, x->school == NULL);
    rc = step_done(x, st, dev->asset.tag, err);
    *id = sqlite3_last_insert_rowid(x->store->db);
    return rc;
}

/* A device with no open return: a walk-in, or one device of a clean-out
 * cart. */
static int receive_new(struct intake_ctx *x, const struct device *dev,
                       const struct dk_intake_item *item,
                       struct dk_intake_result *res, struct dk_error *err)
{
    const char *charger = item->charger == DK_CHARGER_DEFAULT   ? "not checked"
                          : item->charger == DK_CHARGER_PRESENT ? "present"
                                                                : "missing";
    char details[400];
    int rc;

    rc = inventory_register_kiosk(x->store, x->cfg->site_id, x->cfg->site_name,
                                  x->cfg->kiosk_id, err);
    if (rc == 0)
        rc = insert_received(x, dev, item, &res->return_id, err);
    if (rc != 0)
        return rc;

    res->outcome =
        x->school != NULL ? DK_INTAKE_CLEANED_OUT : DK_INTAKE_WALK_IN;
    res->charger_checked = item->charger != DK_CHARGER_DEFAULT;
    res->charger_present = item->charger == DK_CHARGER_PRESENT;
    snprintf(
        details, sizeof(details), "return=%lld charger=%s condition=%s%s%s%s",
        (long long)res->return_id, charger,
        item->condition != NULL ? item->condition : "not assessed",
        dev->known ? "" : " unknown_asset", x->school != NULL ? " school=" : "",
        x->school != NULL ? x->school : "");
    return audit_append(x->store, x->actor,
                        x->school != NULL ? "cleanout received"
                                          : "walk-in received",
                        dev->asset.tag, details, err);
}

/* A recycled device went to the e-waste vendor on a manifest; if it turns
 * up again it must not be received and so reassigned or reimaged back into
 * use. */
static int refuse_recycled(struct intake_ctx *x, const char *tag,
                           struct dk_error *err)
{
    int64_t manifest = 0;
    int rc = inventory_recycled(x->store, tag, &manifest, err);

    if (rc <= 0)
        return rc;
    if (manifest > 0)
        return dk_error_set(
            err, -EPERM,
            "asset %s was recycled on manifest %lld; it cannot come back into use",
            tag, (long long)manifest);
    return dk_error_set(err, -EPERM,
                        "asset %s was recycled; it cannot come back into use",
                        tag);
}

/* Every reason to refuse the item, found without writing anything: 0 with
 * dev and r filled in. */
static int plan(struct intake_ctx *x, const struct dk_scan *scan,
                const struct dk_intake_item *item, struct device *dev,
                struct open_return *r, struct dk_error *err)
{
    int rc = resolve(x, scan, dev, err);

    if (rc == 0)
        rc = refuse_recycled(x, dev->asset.tag, err);
    if (rc == 0)
        rc = latest_return(x, dev->asset.tag, r, err);
    if (rc != 0)
        return rc;
    if (r->found && strcmp(r->state, "received") == 0)
        return dk_error_set(
            err, -EALREADY,
            "asset %s was already received on %s by technician %s; nothing changed",
            dev->asset.tag, r->received_at, r->technician);
    if (!r->found && x->school == NULL && item->charger == DK_CHARGER_DEFAULT)
        return dk_error_set(
            err, DK_EINPUT,
            "asset %s has no open return: give --charger present or missing to record a walk-in",
            dev->asset.tag);
    return 0;
}

static int receive_in_tx(struct intake_ctx *x, const struct dk_scan *scan,
                         const struct dk_intake_item *item,
                         struct dk_intake_result *res, struct dk_error *err)
{
    struct open_return r;
    struct device dev;
    int rc = plan(x, scan, item, &dev, &r, err);

    if (rc != 0)
        return rc;
    snprintf(res->tag, sizeof(res->tag), "%s", dev.asset.tag);
    snprintf(res->model, sizeof(res->model), "%s", dev.asset.model);
    res->known = dev.known;
    if (r.found)
        return receive_dropped(x, &dev, &r, item, res, err);
    return receive_new(x, &dev, item, res, err);
}

static int receive_one(struct intake_ctx *x, const struct dk_intake_item *item,
                       struct dk_intake_result *res, struct dk_error *err)
{
    struct dk_scan scan;
    int rc;

    memset(res, 0, sizeof(*res));
    rc = check_options(item, err);
    if (rc == 0)
        rc = check_scan(x->rules, item->scan, &scan, err);
    if (rc != 0)
        return rc;
    rc = store_begin(x->store, err);
    if (rc != 0)
        return rc;
    rc = receive_in_tx(x, &scan, item, res, err);
    if (rc == 0)
        rc = store_commit(x->store, err);
    if (rc != 0)
        store_rollback(x->store);
    return rc;
}

static void ctx_init(struct intake_ctx *x, struct dk_store *store,
                     const struct dk_config *cfg, const struct dk_tech *tech,
                     const struct dk_scan_rules *rules, time_t now)
{
    memset(x, 0, sizeof(*x));
    x->store = store;
    x->cfg = cfg;
    x->tech = tech;
    x->rules = rules;
    x->now = now;
    tech_utc_text(now, x->now_utc, sizeof(x->now_utc));
    snprintf(x->actor, sizeof(x->actor), "tech:%s",
             tech != NULL ? tech->id : "");
}

int intake_receive(struct dk_store *store, const struct dk_config *cfg,
                   const struct dk_tech *tech,
                   const struct dk_intake_item *item, time_t now,
                   struct dk_intake_result *res, struct dk_error *err)
{
    struct dk_scan_rules rules = {0};
    struct dk_intake_result local;
    struct intake_ctx x;
    int rc = scan_rules_init(&rules, cfg, err);

    if (rc == 0) {
        ctx_init(&x, store, cfg, tech, &rules, now);
        rc = receive_one(&x, item, res != NULL ? res : &local, err);
    }
    scan_rules_free(&rules);
    return rc;
}

int intake_check_receive(struct dk_store *store, const struct dk_config *cfg,
                         const struct dk_intake_item *item,
                         struct dk_error *err)
{
    struct dk_scan_rules rules = {0};
    struct open_return r;
    struct intake_ctx x;
    struct device dev;
    struct dk_scan scan;
    int rc = check_options(item, err);

    if (rc == 0)
        rc = scan_rules_init(&rules, cfg, err);
    if (rc == 0) {
        ctx_init(&x, store, cfg, NULL, &rules, 0);
        rc = check_scan(&rules, item->scan, &scan, err);
    }
    if (rc == 0)
        rc = plan(&x, &scan, item, &dev, &r, err);
    scan_rules_free(&rules);
    return rc;
}

/* ---- clean-out ---------------------------------------------------------- */

static int check_cleanout(const struct dk_cleanout *opts, struct dk_error *err)
{
    struct dk_intake_item probe = {.charger = opts->charger,
                                   .condition = opts->condition};
    size_t n = opts->school != NULL ? strlen(opts->school) : 0;

    if (n == 0 || n > 255 || !text_is_clean(opts->school, n))
        return dk_error_set(
            err, DK_EINPUT,
            "--school must name the school: 1 to 255 characters without control characters");
    return check_options(&probe, err);
}

static void count(struct dk_cleanout_counts *c, int rc,
                  const struct dk_intake_result *res)
{
    if (rc != 0) {
        c->refused++;
        return;
    }
    if (res->outcome == DK_INTAKE_CLEANED_OUT)
        c->cleaned_out++;
    else
        c->received++;
    c->unknown += !res->known;
}

int intake_cleanout(struct dk_store *store, const struct dk_config *cfg,
                    const struct dk_cleanout *opts, const struct dk_tech *tech,
                    const char *const *scans, size_t n, time_t now,
                    void (*fn)(size_t i, int rc,
                               const struct dk_intake_result *res,
                               const struct dk_error *err, void *user),
                    void *user, struct dk_cleanout_counts *counts,
                    struct dk_error *err)
{
    struct dk_cleanout_counts local = {0};
    struct dk_scan_rules rules = {0};
    struct intake_ctx x;
    int rc = check_cleanout(opts, err);

    if (counts == NULL)
        counts = &local;
    memset(counts, 0, sizeof(*counts));
    if (rc == 0)
        rc = scan_rules_init(&rules, cfg, err);
    if (rc != 0)
        goto out;
    ctx_init(&x, store, cfg, tech, &rules, now);
    x.school = opts->school;
    for (size_t i = 0; i < n; i++) {
        struct dk_intake_item item = {scans[i], opts->charger, opts->condition,
                                      NULL};
        struct dk_intake_result res;
        struct dk_error one = {{0}};
        int irc = receive_one(&x, &item, &res, &one);

        if (fn != NULL)
            fn(i, irc, &res, &one, user);
        if (irc == DK_EDB) {
            rc = dk_error_set(err, irc, "%s", one.msg);
            goto out;
        }
        count(counts, irc, &res);
    }
out:
    scan_rules_free(&rules);
    return rc;
}

/* ---- discrepancies ------------------------------------------------------ */

const char *intake_discrepancy_name(enum dk_discrepancy_kind kind)
{
    switch (kind) {
    case DK_DISC_WALK_IN:
        return "walk-in";
    case DK_DISC_NOT_RECEIVED:
        return "not received";
    case DK_DISC_CHARGER_MISSING:
        return "charger missing";
    }
    return "?";
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t != NULL ? (const char *)t : "";
}

#define DISC_COLUMNS                                                           \
    "r.id, r.asset_tag, coalesce(a.model, ''), r.returned_at, r.received_at, " \
    "r.returned_by, r.technician FROM returns r LEFT JOIN assets a ON a.tag = r.asset_tag "

int intake_discrepancies(struct dk_store *store, int overdue_days, time_t now,
                         void (*fn)(const struct dk_discrepancy *d, void *user),
                         void *user, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char cutoff[32];
    int rc =
        store_prepare(store,
                      "SELECT 0, " DISC_COLUMNS "WHERE r.flag_walk_in = 1 "
                      "UNION ALL SELECT 1, " DISC_COLUMNS
                      "WHERE r.state = 'dropped' AND r.returned_at <= ?1 "
                      "UNION ALL SELECT 2, " DISC_COLUMNS
                      "WHERE r.charger_declared = 1 AND r.charger_verified = 0 "
                      "ORDER BY 1, 5, 2",
                      &st, err);
    int step;

    if (rc != 0)
        return rc;
    tech_utc_text(now - (time_t)overdue_days * 86400, cutoff, sizeof(cutoff));
    sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct dk_discrepancy d = {
            .kind = (enum dk_discrepancy_kind)sqlite3_column_int(st, 0),
            .return_id = sqlite3_column_int64(st, 1),
            .tag = col_text(st, 2),
            .model = col_text(st, 3),
            .returned_at = col_text(st, 4),
            .received_at = col_text(st, 5),
            .returned_by = col_text(st, 6),
            .technician = col_text(st, 7),
        };
        time_t dropped = parse_utc(d.returned_at);

        if (d.kind == DK_DISC_NOT_RECEIVED && dropped != (time_t)-1)
            d.days_waiting = (int)((now - dropped) / 86400);
        fn(&d, user);
    }
    if (step != SQLITE_DONE)
        rc = dk_error_set(err, DK_EDB, "cannot list discrepancies: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}
