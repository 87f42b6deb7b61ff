/* The receipt email: subject, text and HTML in the person's language,
 * every word from their message catalog (kiosk-ui/i18n/LANG.json,
 * email.receipt.*), every value escaped for HTML. */
#include "notice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void notice_free(struct dk_notice *n)
{
    free(n->subject);
    free(n->text);
    free(n->html);
    n->subject = n->text = n->html = NULL;
}

void notice_put_html(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static const char *model_of(const struct dk_catalog *cat, const struct dk_asset *a)
{
    return a->model[0] != '\0' ? a->model : i18n_text(cat, "email.receipt.unknown_model");
}

/* Write one catalog text (already filled by i18n_format, then freed here),
 * as HTML text when html is set.  A NULL text (memory ran out) clears ok;
 * the caller checks ok once at the end. */
static void put_text(FILE *f, char *text, bool html, bool *ok)
{
    if (text == NULL) {
        *ok = false;
        return;
    }
    if (html)
        notice_put_html(f, text);
    else
        fputs(text, f);
    free(text);
}

/* open_memstream sets *buf only when the stream is flushed or closed, so
 * the pointer is read after fclose, through buf. */
static char *close_stream(FILE *f, char **buf, bool ok)
{
    if (fclose(f) != 0 || !ok) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

/* The words every receipt email has, whether text or HTML. */
struct receipt_words {
    const struct dk_config *cfg;
    const struct dk_catalog *cat;
    const char *receipt_id;
    const char *name;
    const char *when;
    const struct dk_notice_device *devices;
    size_t n;
};

static char *greeting(const struct receipt_words *w)
{
    return i18n_format(w->cat, "email.receipt.greeting", "name", w->name, I18N_END);
}

static char *intro(const struct receipt_words *w)
{
    return i18n_format(w->cat, "email.receipt.intro", "district", w->cfg->district, "site",
                       w->cfg->site_name, "when", w->when, I18N_END);
}

static char *device_line(const struct receipt_words *w, size_t i)
{
    const struct dk_notice_device *d = &w->devices[i];

    return i18n_format(w->cat, "email.receipt.device", "tag", d->asset->tag, "model",
                       model_of(w->cat, d->asset), "charger",
                       i18n_text(w->cat, d->charger ? "email.receipt.yes" : "email.receipt.no"),
                       I18N_END);
}

static char *footer(const struct receipt_words *w)
{
    return i18n_format(w->cat, "email.receipt.footer", "district", w->cfg->district, I18N_END);
}

static char *receipt_text(const struct receipt_words *w)
{
    char *buf = NULL;
    size_t len = 0;
    bool ok = true;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    put_text(f, greeting(w), false, &ok);
    fputs("\n\n", f);
    put_text(f, intro(w), false, &ok);
    fputs("\n\n", f);
    for (size_t i = 0; i < w->n; i++) {
        fputs("  - ", f);
        put_text(f, device_line(w, i), false, &ok);
        fputc('\n', f);
    }
    fprintf(f, "\n%s %s\n\n", i18n_text(w->cat, "email.receipt.receipt_label"), w->receipt_id);
    fprintf(f, "%s %s\n\n", i18n_text(w->cat, "email.receipt.pending"),
            i18n_text(w->cat, "email.receipt.qr"));
    put_text(f, footer(w), false, &ok);
    fputc('\n', f);
    return close_stream(f, &buf, ok);
}

static char *receipt_html(const struct receipt_words *w, const char *cid)
{
    char *buf = NULL;
    size_t len = 0;
    bool ok = true;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    /* The lang attribute lets a screen reader speak the mail in its own
     * language. */
    fputs("<!DOCTYPE html>\n<html lang=\"", f);
    notice_put_html(f, i18n_lang(w->cat));
    fputs("\"><body>\n<p>", f);
    put_text(f, greeting(w), true, &ok);
    fputs("</p>\n<p>", f);
    put_text(f, intro(w), true, &ok);
    fputs("</p>\n<ul>\n", f);
    for (size_t i = 0; i < w->n; i++) {
        fputs("<li>", f);
        put_text(f, device_line(w, i), true, &ok);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<p>", f);
    notice_put_html(f, i18n_text(w->cat, "email.receipt.receipt_label"));
    fputs(" <strong>", f);
    notice_put_html(f, w->receipt_id);
    fputs("</strong></p>\n<p><img src=\"cid:", f);
    notice_put_html(f, cid);
    fputs("\" alt=\"", f);
    notice_put_html(f, i18n_text(w->cat, "email.receipt.qr_alt"));
    fputs("\"></p>\n<p>", f);
    notice_put_html(f, i18n_text(w->cat, "email.receipt.pending"));
    fputs("</p>\n<p>", f);
    put_text(f, footer(w), true, &ok);
    fputs("</p>\n</body></html>\n", f);
    return close_stream(f, &buf, ok);
}

int notice_receipt(const struct dk_config *cfg, const struct dk_catalog *cat,
                   const char *receipt_id, const char *name, const char *when,
                   const struct dk_notice_device *devices, size_t n, const char *qr_cid,
                   struct dk_notice *out)
{
    const struct receipt_words w = {
        .cfg = cfg,
        .cat = cat,
        .receipt_id = receipt_id,
        .name = name,
        .when = when,
        .devices = devices,
        .n = n,
    };
    char count[24];

    memset(out, 0, sizeof(*out));
    snprintf(count, sizeof(count), "%zu", n);
    out->subject = i18n_format(cat,
                               n == 1 ? "email.receipt.subject.one"
                                      : "email.receipt.subject.other",
                               "id", receipt_id, "count", count, I18N_END);
    out->text = receipt_text(&w);
    out->html = receipt_html(&w, qr_cid);
    if (out->subject == NULL || out->text == NULL || out->html == NULL) {
        notice_free(out);
        return -ENOMEM;
    }
    return 0;
}
