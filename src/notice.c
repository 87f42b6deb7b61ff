#include "notice.h"

#include <errno.h>
#include <stdarg.h>
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

/* Values come from scans and imports, so they are written into HTML as
 * text, never as markup. */
static void put_html(FILE *f, const char *s)
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

static const char *model_of(const struct dk_asset *a)
{
    return a->model[0] != '\0' ? a->model : "device not in our inventory";
}

/* open_memstream sets *buf only when the stream is flushed or closed, so
 * the pointer is read after fclose, through buf. */
static char *close_stream(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

static char *receipt_text(const struct dk_config *cfg, const char *receipt_id,
                          const char *name, const char *when,
                          const struct dk_notice_device *devices, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fprintf(f, "Hello %s,\n\n", name);
    fprintf(f, "%s received these devices at the %s kiosk on %s:\n\n", cfg->district,
            cfg->site_name, when);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  - %s  %s  (charger in the bag: %s)\n", devices[i].asset->tag,
                model_of(devices[i].asset), devices[i].charger ? "yes" : "no");
    fprintf(f, "\nReceipt: %s\n\n", receipt_id);
    fputs("Each device is pending technician verification. OIIT will confirm when it\n"
          "has been checked in. The attached QR code is your signed receipt; keep\n"
          "this email as proof of return.\n",
          f);
    return close_stream(f, &buf);
}

static char *receipt_html(const struct dk_config *cfg, const char *receipt_id,
                          const char *name, const char *when,
                          const struct dk_notice_device *devices, size_t n, const char *cid)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fputs("<!DOCTYPE html>\n<html><body>\n<p>Hello ", f);
    put_html(f, name);
    fputs(",</p>\n<p>", f);
    put_html(f, cfg->district);
    fputs(" received these devices at the ", f);
    put_html(f, cfg->site_name);
    fputs(" kiosk on ", f);
    put_html(f, when);
    fputs(":</p>\n<ul>\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("<li>", f);
        put_html(f, devices[i].asset->tag);
        fputs(" &ndash; ", f);
        put_html(f, model_of(devices[i].asset));
        fprintf(f, " (charger in the bag: %s)</li>\n", devices[i].charger ? "yes" : "no");
    }
    fputs("</ul>\n<p>Receipt: <strong>", f);
    put_html(f, receipt_id);
    fputs("</strong></p>\n<p><img src=\"cid:", f);
    put_html(f, cid);
    fputs("\" alt=\"Signed receipt QR code\"></p>\n"
          "<p>Each device is pending technician verification. OIIT will confirm when it "
          "has been checked in.</p>\n</body></html>\n",
          f);
    return close_stream(f, &buf);
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

int notice_receipt(const struct dk_config *cfg, const char *receipt_id, const char *name,
                   const char *when, const struct dk_notice_device *devices, size_t n,
                   const char *qr_cid, struct dk_notice *out)
{
    memset(out, 0, sizeof(*out));
    out->subject = format("Device return receipt %s (%zu device%s)", receipt_id, n,
                          n == 1 ? "" : "s");
    out->text = receipt_text(cfg, receipt_id, name, when, devices, n);
    out->html = receipt_html(cfg, receipt_id, name, when, devices, n, qr_cid);
    if (out->subject == NULL || out->text == NULL || out->html == NULL) {
        notice_free(out);
        return -ENOMEM;
    }
    return 0;
}
