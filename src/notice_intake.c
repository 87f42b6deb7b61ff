/* The words of the technician intake's messages: the confirmation a staff
 * member (and, if they asked for it at the kiosk, their leader) receives
 * when OIIT has checked in a device they returned. */
#include "notice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void notice_money(int cents, char *buf, size_t size)
{
    snprintf(buf, size, "$%d.%02d", cents / 100, cents % 100);
}

static const char *model_or_unknown(const struct dk_asset *a)
{
    return a->model[0] != '\0' ? a->model : "device not in our inventory";
}

static void charger_line(FILE *f, const struct dk_notice_received *r)
{
    if (r->charger_present)
        fputs("  Charger:  verified, in the bag\n", f);
    else if (r->charger_expected)
        fputs("  Charger:  MISSING, not in the bag\n", f);
    else
        fputs("  Charger:  none expected for this device\n", f);
}

/* A missing charger is said plainly, with what it may cost, because the
 * district can bill for it and the person should hear it first from us. */
static void charger_paragraph(FILE *f, const struct dk_notice_received *r)
{
    char cost[16];

    if (r->charger_present || !r->charger_expected)
        return;
    notice_money(r->charger_cost_cents, cost, sizeof(cost));
    if (r->charger_declared)
        fputs(
            "You told the kiosk the charger was in the bag, but the technician\n"
            "did not find it there.\n",
            f);
    else
        fputs("The charger was not in the bag, as you told the kiosk.\n", f);
    fprintf(
        f,
        "Please bring the charger to OIIT as soon as you can. If it is not\n"
        "returned, the replacement cost is %s.\n\n",
        cost);
}

static char *received_text(const struct dk_config *cfg,
                           const struct dk_notice_received *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool missing = !r->charger_present && r->charger_expected;

    if (f == NULL)
        return NULL;
    fprintf(f, "Hello %s,\n\n", r->name);
    fprintf(
        f,
        "%s OIIT has received the device you returned at the %s kiosk\non %s:\n\n",
        cfg->district, r->site_name, r->returned_when);
    fprintf(f, "  Asset:    %s\n  Device:   %s\n  Received: %s\n",
            r->asset->tag, model_or_unknown(r->asset), r->received_when);
    charger_line(f, r);
    if (r->receipt_id[0] != '\0')
        fprintf(f, "  Receipt:  %s\n", r->receipt_id);
    fputc('\n', f);
    charger_paragraph(f, r);
    fprintf(
        f,
        "What happens next: OIIT securely erases the data on the device, then\n"
        "reimages it for reuse or sends it for recycling. %s\n",
        missing
            ? "Apart from the charger, there is nothing more you need to do."
            : "There is nothing more you need to do.");
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int notice_received(const struct dk_config *cfg,
                    const struct dk_notice_received *r, struct dk_notice *out)
{
    bool missing = !r->charger_present && r->charger_expected;

    memset(out, 0, sizeof(*out));
    if (asprintf(&out->subject, "Device received by OIIT: asset %s%s",
                 r->asset->tag, missing ? ", charger missing" : "") < 0)
        out->subject = NULL;
    out->text = received_text(cfg, r);
    if (out->subject == NULL || out->text == NULL) {
        notice_free(out);
        return -ENOMEM;
    }
    return 0;
}
