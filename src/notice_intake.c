/* The words of the technician intake's messages: the confirmation a staff
 * member (and, if they asked for it at the kiosk, their leader) receives
 * when OIIT has checked in a device they returned, in the language of
 * their receipt (email.received.* in the message catalogs). */
#include "notice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void notice_money(int cents, char *buf, size_t size)
{
    snprintf(buf, size, "$%d.%02d", cents / 100, cents % 100);
}

/* Write a filled catalog text and free it; NULL (memory ran out) clears
 * ok, which the caller checks once at the end. */
static void put(FILE *f, char *text, bool *ok)
{
    if (text == NULL) {
        *ok = false;
        return;
    }
    fputs(text, f);
    free(text);
}

static const char *model_or_unknown(const struct dk_catalog *cat, const struct dk_asset *a)
{
    return a->model[0] != '\0' ? a->model : i18n_text(cat, "email.received.unknown_model");
}

static const char *charger_line(const struct dk_catalog *cat,
                                const struct dk_notice_received *r)
{
    if (r->charger_present)
        return i18n_text(cat, "email.received.charger_verified");
    if (r->charger_expected)
        return i18n_text(cat, "email.received.charger_missing");
    return i18n_text(cat, "email.received.charger_none");
}

/* A missing charger is said plainly, with what it may cost, because the
 * district can bill for it and the person should hear it first from us. */
static void charger_paragraph(FILE *f, const struct dk_catalog *cat,
                              const struct dk_notice_received *r, bool *ok)
{
    char cost[16];

    if (r->charger_present || !r->charger_expected)
        return;
    notice_money(r->charger_cost_cents, cost, sizeof(cost));
    fputs(i18n_text(cat, r->charger_declared ? "email.received.declared_but_missing"
                                             : "email.received.not_declared"),
          f);
    fputc('\n', f);
    put(f, i18n_format(cat, "email.received.bring_charger", "cost", cost, I18N_END), ok);
    fputs("\n\n", f);
}

/* The facts, one indented line each; the catalog aligns its own labels. */
static void facts(FILE *f, const struct dk_catalog *cat, const struct dk_notice_received *r,
                  bool *ok)
{
    fputs("  ", f);
    put(f, i18n_format(cat, "email.received.asset", "tag", r->asset->tag, I18N_END), ok);
    fputs("\n  ", f);
    put(f, i18n_format(cat, "email.received.device", "model", model_or_unknown(cat, r->asset),
                       I18N_END),
        ok);
    fputs("\n  ", f);
    put(f, i18n_format(cat, "email.received.received", "when", r->received_when, I18N_END), ok);
    fprintf(f, "\n  %s\n", charger_line(cat, r));
    if (r->receipt_id[0] != '\0') {
        fputs("  ", f);
        put(f, i18n_format(cat, "email.received.receipt", "id", r->receipt_id, I18N_END), ok);
        fputc('\n', f);
    }
}

static char *received_text(const struct dk_config *cfg, const struct dk_catalog *cat,
                           const struct dk_notice_received *r)
{
    char *buf = NULL;
    size_t len = 0;
    bool ok = true;
    FILE *f = open_memstream(&buf, &len);
    bool missing = !r->charger_present && r->charger_expected;

    if (f == NULL)
        return NULL;
    put(f, i18n_format(cat, "email.received.greeting", "name", r->name, I18N_END), &ok);
    fputs("\n\n", f);
    put(f,
        i18n_format(cat, "email.received.intro", "district", cfg->district, "site",
                    r->site_name, "when", r->returned_when, I18N_END),
        &ok);
    fputs("\n\n", f);
    facts(f, cat, r, &ok);
    fputc('\n', f);
    charger_paragraph(f, cat, r, &ok);
    fprintf(f, "%s %s\n", i18n_text(cat, "email.received.next"),
            i18n_text(cat, missing ? "email.received.nothing_more_but_charger"
                                   : "email.received.nothing_more"));
    /* open_memstream sets buf only once the stream is closed. */
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

int notice_received(const struct dk_config *cfg, const struct dk_catalog *cat,
                    const struct dk_notice_received *r, struct dk_notice *out)
{
    bool missing = !r->charger_present && r->charger_expected;

    memset(out, 0, sizeof(*out));
    out->subject = i18n_format(cat,
                               missing ? "email.received.subject_missing"
                                       : "email.received.subject",
                               "tag", r->asset->tag, I18N_END);
    out->text = received_text(cfg, cat, r);
    if (out->subject == NULL || out->text == NULL) {
        notice_free(out);
        return -ENOMEM;
    }
    return 0;
}
