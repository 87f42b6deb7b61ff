/* The leaders' daily digest: one email listing the devices a leader's staff
 * returned at this kiosk's site on one local day.  Every value comes from
 * scans and imports, so the HTML writes each as escaped text. */
#include "notice_digest.h"

#include "notice.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* open_memstream sets *buf only when the stream is flushed or closed, so
 * the pointer is read after fclose, through buf. */
static char *close_stream(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        *buf = NULL;
    }
    return *buf;
}

static void put_text(FILE *f, const char *s)
{
    fputs(s, f);
}

/* "HP ProBook 450 G8", or what stands in for a device we do not know. */
static void put_device(FILE *f, const struct dk_digest_item *it, bool html)
{
    void (*put)(FILE *, const char *) = html ? notice_put_html : put_text;

    if (it->make[0] == '\0' && it->model[0] == '\0') {
        fputs(it->unknown_asset ? "device not in our inventory"
                                : "model not recorded",
              f);
        return;
    }
    if (it->make[0] != '\0') {
        put(f, it->make);
        fputc(' ', f);
    }
    put(f, it->model);
}

static const char *status_words(enum dk_digest_status s)
{
    switch (s) {
    case DK_DIGEST_DROPPED:
        return "dropped, waiting for a technician";
    case DK_DIGEST_RECEIVED:
        return "received by OIIT";
    case DK_DIGEST_CHARGER_VERIFIED:
        return "received by OIIT, charger verified";
    case DK_DIGEST_CHARGER_MISSING:
        return "received by OIIT, charger missing";
    case DK_DIGEST_DISPOSITIONED:
        return "dispositioned";
    }
    return "unknown";
}

/* The status, with the outcome once there is one ("dispositioned:
 * reimage"). */
static void put_status(FILE *f, const struct dk_digest_item *it, bool html)
{
    fputs(status_words(it->status), f);
    if (it->status == DK_DIGEST_DISPOSITIONED && it->disposition[0] != '\0') {
        fputs(": ", f);
        (html ? notice_put_html : put_text)(f, it->disposition);
    }
}

/* "not the assignee, unknown asset", or "" for none. */
static const char *flag_words(const struct dk_digest_item *it)
{
    if (it->not_assignee && it->unknown_asset)
        return "not the assignee, unknown asset";
    if (it->not_assignee)
        return "not the assignee";
    if (it->unknown_asset)
        return "unknown asset";
    return "";
}

static void put_item_text(FILE *f, const struct dk_digest_item *it)
{
    const char *flags = flag_words(it);

    fprintf(f, "%s  Asset %s, ", it->time, it->tag);
    put_device(f, it, false);
    if (it->returner_id[0] != '\0')
        fprintf(f, "\n       Returned by: %s (staff id %s)\n",
                it->returner_name, it->returner_id);
    else
        fprintf(
            f,
            "\n       Returned by: not given at the kiosk; assigned to %s (staff id %s)\n",
            it->assignee_name, it->assignee_id);
    fprintf(f, "       Charger declared: %s\n",
            it->charger_declared ? "yes" : "no");
    fputs("       Status now: ", f);
    put_status(f, it, false);
    fputc('\n', f);
    if (flags[0] != '\0')
        fprintf(f, "       Flags: %s\n", flags);
    fputc('\n', f);
}

static char *digest_text(const struct dk_config *cfg,
                         const struct dk_digest_notice *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fputs("Hello,\n\n", f);
    fprintf(f, "Your staff returned these devices at %s on %s.\n",
            cfg->site_name, d->day);
    fprintf(f, "Times are %s; status as of %s.\n\n", cfg->timezone, d->as_of);
    for (size_t i = 0; i < d->n; i++)
        put_item_text(f, &d->items[i]);
    fprintf(f, "%zu device%s in all.\n\n", d->n, d->n == 1 ? "" : "s");
    fprintf(f,
            "This is the daily summary from the %s device drop-off kiosk.\n"
            "It is sent only on days when your staff return devices there.\n",
            cfg->district);
    return close_stream(f, &buf);
}

static void put_cell(FILE *f, const char *s)
{
    fputs("<td>", f);
    notice_put_html(f, s);
    fputs("</td>", f);
}

static void put_item_html(FILE *f, const struct dk_digest_item *it)
{
    fputs("<tr>", f);
    put_cell(f, it->time);
    fputs("<td>", f);
    if (it->returner_id[0] != '\0') {
        notice_put_html(f, it->returner_name);
        fputs(" (staff id ", f);
        notice_put_html(f, it->returner_id);
    } else {
        fputs("not given at the kiosk; assigned to ", f);
        notice_put_html(f, it->assignee_name);
        fputs(" (staff id ", f);
        notice_put_html(f, it->assignee_id);
    }
    fputs(")</td>", f);
    put_cell(f, it->tag);
    fputs("<td>", f);
    put_device(f, it, true);
    fputs("</td>", f);
    put_cell(f, it->charger_declared ? "yes" : "no");
    fputs("<td>", f);
    put_status(f, it, true);
    fputs("</td>", f);
    put_cell(f, flag_words(it));
    fputs("</tr>\n", f);
}

static char *digest_html(const struct dk_config *cfg,
                         const struct dk_digest_notice *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fputs(
        "<!DOCTYPE html>\n<html><body>\n<p>Hello,</p>\n<p>Your staff returned these "
        "devices at ",
        f);
    notice_put_html(f, cfg->site_name);
    fputs(" on ", f);
    notice_put_html(f, d->day);
    fputs(". Times are ", f);
    notice_put_html(f, cfg->timezone);
    fputs("; status as of ", f);
    notice_put_html(f, d->as_of);
    fputs(".</p>\n<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n"
          "<tr><th>Time</th><th>Returned by</th><th>Asset</th><th>Device</th>"
          "<th>Charger declared</th><th>Status now</th><th>Flags</th></tr>\n",
          f);
    for (size_t i = 0; i < d->n; i++)
        put_item_html(f, &d->items[i]);
    fprintf(
        f,
        "</table>\n<p>%zu device%s in all.</p>\n<p>This is the daily summary from the ",
        d->n, d->n == 1 ? "" : "s");
    notice_put_html(f, cfg->district);
    fputs(
        " device drop-off kiosk. It is sent only on days when your staff return devices "
        "there.</p>\n</body></html>\n",
        f);
    return close_stream(f, &buf);
}

int notice_digest(const struct dk_config *cfg, const struct dk_digest_notice *d,
                  struct dk_notice *out)
{
    memset(out, 0, sizeof(*out));
    if (asprintf(&out->subject,
                 "Returns by your staff at %s on %s: %zu device%s",
                 cfg->site_name, d->day, d->n, d->n == 1 ? "" : "s") < 0)
        out->subject = NULL;
    out->text = digest_text(cfg, d);
    out->html = digest_html(cfg, d);
    if (out->subject == NULL || out->text == NULL || out->html == NULL) {
        notice_free(out);
        return -ENOMEM;
    }
    return 0;
}
