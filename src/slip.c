/* A receipt slip rebuilt from the database (see slip.h). */
#include "slip.h"

#include "i18n.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEVICES_MAX 1000 /* far more than a visit or a clean-out cart holds */

/* The slip's words when no catalog can be read: a reprint must not fail
 * for want of a translation.  They match en.json's slip.* texts. */
static const struct dk_slip_words english = {
    .title = "Device return receipt",
    .receipt = "Receipt",
    .device = "Device",
    .charger = "Charger",
    .yes = "Yes",
    .no = "No",
    .pending = "Pending technician verification",
    .scan_qr = "Scan the QR code to check this receipt.",
};

/* The stored form of a valid id: upper case, with the Crockford
 * confusables read as the digits they stand for. */
static void canonical_id(const char *id, char *out)
{
    size_t i;

    out[0] = 'R';
    out[1] = '-';
    for (i = 2; id[i] != '\0' && i + 1 < DK_RECEIPT_ID_SIZE; i++) {
        char c = (char)toupper((unsigned char)id[i]);

        out[i] = c == 'O' ? '0' : c == 'I' || c == 'L' ? '1' : c;
    }
    out[i] = '\0';
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(dst, size, "%s", t != NULL ? (const char *)t : "");
}

/* The receipt row itself. */
static int load_receipt(struct dk_store *store, struct dk_slip_doc *doc, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store,
                           "SELECT created_at, payload, lang FROM receipts WHERE id = ?", &st,
                           err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, doc->receipt_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        copy_text(doc->created_at, sizeof(doc->created_at), st, 0);
        copy_text(doc->lang, sizeof(doc->lang), st, 2);
        const unsigned char *payload = sqlite3_column_text(st, 1);

        doc->payload = payload != NULL ? strdup((const char *)payload) : NULL;
        rc = doc->payload != NULL ? 0 : dk_error_set(err, -ENOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        rc = dk_error_set(err, DK_ENOTFOUND, "no receipt %s in the database", doc->receipt_id);
    } else {
        rc = dk_error_set(err, DK_EDB, "cannot read receipt %s: %s", doc->receipt_id,
                          sqlite3_errmsg(store->db));
    }
    sqlite3_finalize(st);
    return rc;
}

static char *keep(struct dk_slip_doc *doc, const unsigned char *text)
{
    char *s = strdup(text != NULL ? (const char *)text : "");

    if (s != NULL)
        doc->strings[doc->n_strings++] = s;
    return s;
}

/* The receipt's returns, as scanned.  A device unknown when it was
 * returned prints without a model, as its receipt says "unknown device",
 * even if an import has named it since. */
static int load_devices(struct dk_store *store, struct dk_slip_doc *doc, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int rc = store_prepare(store,
                           "SELECT t.asset_tag, t.charger_declared, "
                           "  CASE WHEN t.flag_unknown_asset THEN '' "
                           "  ELSE COALESCE(a.model, '') END "
                           "FROM returns t LEFT JOIN assets a ON a.tag = t.asset_tag "
                           "WHERE t.receipt_id = ? ORDER BY t.id LIMIT ?",
                           &st, err);

    if (rc != 0)
        return rc;
    doc->devices = calloc(DEVICES_MAX, sizeof(*doc->devices));
    doc->strings = calloc(2 * DEVICES_MAX, sizeof(*doc->strings));
    if (doc->devices == NULL || doc->strings == NULL)
        rc = dk_error_set(err, -ENOMEM, "out of memory");
    sqlite3_bind_text(st, 1, doc->receipt_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, DEVICES_MAX);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct dk_slip_device *d = &doc->devices[n];

        d->tag = keep(doc, sqlite3_column_text(st, 0));
        d->charger = sqlite3_column_int(st, 1) != 0;
        d->model = keep(doc, sqlite3_column_text(st, 2));
        rc = d->tag != NULL && d->model != NULL ? 0 : dk_error_set(err, -ENOMEM, "out of memory");
        n++;
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = dk_error_set(err, DK_EDB, "cannot read the returns of receipt %s: %s",
                          doc->receipt_id, sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    doc->slip.n_devices = n;
    return rc;
}

/* The stored UTC time in the site's time zone, as the kiosk showed it. */
static void local_when(const struct dk_config *cfg, struct dk_slip_doc *doc)
{
    const char *tz = getenv("TZ");
    struct tm tm;
    const char *end;
    time_t t;

    if (tz == NULL || strcmp(tz, cfg->timezone) != 0) {
        setenv("TZ", cfg->timezone, 1);
        tzset();
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(doc->created_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    t = end != NULL && *end == '\0' ? timegm(&tm) : (time_t)-1;
    if (t == (time_t)-1) {
        snprintf(doc->when_local, sizeof(doc->when_local), "%s", doc->created_at);
        return;
    }
    localtime_r(&t, &tm);
    strftime(doc->when_local, sizeof(doc->when_local), "%Y-%m-%d %H:%M %Z", &tm);
}

/* The words in the receipt's language, else the kiosk's, else English. */
static void load_words(const struct dk_config *cfg, struct dk_slip_doc *doc)
{
    const char *dir = i18n_dir(cfg);
    const char *lang = doc->lang[0] != '\0' && i18n_available(dir, doc->lang) ? doc->lang
                                                                                : cfg->language;
    struct dk_error err = {{0}};
    const struct dk_catalog *c;

    if (i18n_load(dir, lang, &doc->catalog, &err) != 0) {
        log_warn("receipt %s prints in English: %s", doc->receipt_id, err.msg);
        doc->catalog = NULL;
        doc->slip.words = english;
        snprintf(doc->lang, sizeof(doc->lang), "en");
        return;
    }
    c = doc->catalog;
    snprintf(doc->lang, sizeof(doc->lang), "%s", i18n_lang(c));
    doc->slip.words = (struct dk_slip_words){
        .title = i18n_text(c, "slip.title"),
        .receipt = i18n_text(c, "slip.receipt"),
        .device = i18n_text(c, "slip.device"),
        .charger = i18n_text(c, "slip.charger"),
        .yes = i18n_text(c, "slip.yes"),
        .no = i18n_text(c, "slip.no"),
        .pending = i18n_text(c, "slip.pending"),
        .scan_qr = i18n_text(c, "slip.scan_qr"),
    };
}

int slip_load(struct dk_store *store, const struct dk_config *cfg, const char *receipt_id,
              struct dk_slip_doc *out, struct dk_error *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (receipt_id == NULL || !receipt_id_valid(receipt_id))
        return dk_error_set(err, DK_EINPUT, "'%s' is not a receipt id (R- and 9 characters)",
                            receipt_id != NULL ? receipt_id : "");
    canonical_id(receipt_id, out->receipt_id);
    rc = load_receipt(store, out, err);
    if (rc == 0)
        rc = load_devices(store, out, err);
    if (rc != 0) {
        slip_doc_free(out);
        return rc;
    }
    local_when(cfg, out);
    load_words(cfg, out);
    out->slip = (struct dk_slip){
        .district = cfg->district,
        .site_name = cfg->site_name,
        .receipt_id = out->receipt_id,
        .when_local = out->when_local,
        .devices = out->devices,
        .n_devices = out->slip.n_devices,
        .payload = (const unsigned char *)out->payload,
        .payload_len = strlen(out->payload),
        .words = out->slip.words,
    };
    return 0;
}

/* Receipts made here: marked with this kiosk, or (made before receipts
 * recorded their kiosk) holding a return made at this kiosk. */
static const char newest_here[] =
    "SELECT r.id FROM receipts r WHERE r.kiosk_id = ?1 "
    "OR (r.kiosk_id IS NULL AND EXISTS (SELECT 1 FROM returns t "
    "    WHERE t.receipt_id = r.id AND t.kiosk_id = ?1)) "
    "ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1";

static const char newest_any[] =
    "SELECT r.id FROM receipts r "
    "WHERE NOT EXISTS (SELECT 1 FROM receipts k WHERE k.kiosk_id IS NOT NULL) "
    "ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1";

/* 0 with id set, 1 when sql finds nothing, DK_EDB. */
static int newest(struct dk_store *store, const char *sql, const char *kiosk, char *id,
                  struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, sql, &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_text(st, 1, kiosk, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_text(id, DK_RECEIPT_ID_SIZE, st, 0);
    if (rc == SQLITE_ROW)
        rc = 0;
    else if (rc == SQLITE_DONE)
        rc = 1;
    else
        rc = dk_error_set(err, DK_EDB, "cannot look for the newest receipt: %s",
                          sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

int slip_newest(struct dk_store *store, const struct dk_config *cfg, char *id,
                struct dk_error *err)
{
    int rc = newest(store, newest_here, cfg->kiosk_id, id, err);

    if (rc == 1)
        rc = newest(store, newest_any, NULL, id, err);
    if (rc == 1)
        rc = dk_error_set(err, DK_ENOTFOUND, "no receipt has been made at kiosk %s",
                          cfg->kiosk_id);
    return rc;
}

void slip_doc_free(struct dk_slip_doc *doc)
{
    if (doc == NULL)
        return;
    for (size_t i = 0; i < doc->n_strings; i++)
        free(doc->strings[i]);
    free(doc->strings);
    free(doc->devices);
    free(doc->payload);
    i18n_free(doc->catalog);
    memset(doc, 0, sizeof(*doc));
}
