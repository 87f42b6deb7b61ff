/* The service-desk ticket for a desktop that is reimaged where it stands
 * instead of being dropped off.  Always in English: it is read by the
 * service desk, not by the person.  Its subject is [mail] ticket_subject
 * with the placeholders filled, so that the desk's intake (KACE matches
 * subjects to queues) can route it. */
#include "notice.h"
#include "notice_digest.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

/* The placeholders a ticket subject may hold, in the order of
 * subject_value's switch. */
enum placeholder {
    PH_TAG,
    PH_SERIAL,
    PH_MODEL,
    PH_SITE,
    PH_SITE_NAME,
    PH_KIOSK,
    PH_STAFF_ID,
    PH_COUNT,
};

/* The list an error names, in the words of its message. */
#define PLACEHOLDERS                                                           \
    "{tag}, {serial}, {model}, {site}, {site_name}, {kiosk} or {staff_id}"

static const char *const placeholder_names[PH_COUNT] = {
    "tag", "serial", "model", "site", "site_name", "kiosk", "staff_id",
};

/* Which placeholder p (at a '{') opens, with its length braces included in
 * *len; -1 when none of ours does. */
static int placeholder_at(const char *p, size_t *len)
{
    for (int i = 0; i < PH_COUNT; i++) {
        size_t n = strlen(placeholder_names[i]);

        if (strncmp(p + 1, placeholder_names[i], n) == 0 && p[1 + n] == '}') {
            *len = n + 2;
            return i;
        }
    }
    return -1;
}

bool notice_ticket_subject_check(const char *fmt, char *why, size_t size)
{
    const char *p = fmt;

    while ((p = strchr(p, '{')) != NULL) {
        size_t len = 0;
        size_t name = strcspn(p + 1, "{}");

        if (placeholder_at(p, &len) >= 0) {
            p += len;
            continue;
        }
        if (p[1 + name] != '}')
            snprintf(why, size, "'{' without a closing '}' in \"%s\"", fmt);
        else
            snprintf(why, size, "unknown placeholder {%.*s}: use " PLACEHOLDERS,
                     (int)name, p + 1);
        return false;
    }
    return true;
}

static const char *subject_value(enum placeholder ph,
                                 const struct dk_config *cfg,
                                 const struct dk_asset *desktop,
                                 const struct dk_staff *requester)
{
    switch (ph) {
    case PH_TAG:
        return desktop->tag;
    case PH_SERIAL:
        return desktop->serial;
    case PH_MODEL:
        return desktop->model;
    case PH_SITE:
        return cfg->site_id;
    case PH_SITE_NAME:
        return cfg->site_name;
    case PH_KIOSK:
        return cfg->kiosk_id;
    case PH_STAFF_ID:
        return requester != NULL ? requester->id : "not given";
    case PH_COUNT:
        break;
    }
    return "";
}

/* cfg->ticket_subject with each placeholder replaced by its value, as it
 * is: a value with CR, LF or another control character is the mail
 * layer's to refuse, not ours to mend.  config_load refuses an unknown
 * placeholder (notice_ticket_subject_check); should one get here anyway
 * it is kept as written, with a warning, so the ticket is still filed. */
static char *ticket_subject(const struct dk_config *cfg,
                            const struct dk_asset *desktop,
                            const struct dk_staff *requester)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    char why[DK_TEXT_MAX + 96];

    if (f == NULL)
        return NULL;
    if (!notice_ticket_subject_check(cfg->ticket_subject, why, sizeof(why)))
        log_warn("[mail] ticket_subject: %s; kept as written", why);
    for (const char *p = cfg->ticket_subject; *p != '\0'; p++) {
        size_t len = 0;
        int ph = *p == '{' ? placeholder_at(p, &len) : -1;

        if (ph < 0) {
            fputc(*p, f);
            continue;
        }
        fputs(subject_value((enum placeholder)ph, cfg, desktop, requester), f);
        p += len - 1;
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Who the inventory says has the desktop, and whether the requester is that
 * person: a reimage wipes the machine, so the service desk must see when
 * someone else asked for it. */
static const char *assignee_note(const struct dk_asset *desktop,
                                 const struct dk_staff *requester)
{
    if (desktop->assignee[0] == '\0')
        return "";
    if (requester == NULL)
        return "Note: the requester gave no name; confirm with the assignee before "
               "reimaging.\n";
    if (!inventory_is_assignee(desktop, requester))
        return "Note: the requester is not the recorded assignee; confirm with the "
               "assignee before reimaging.\n";
    return "";
}

int notice_desktop_ticket(const struct dk_config *cfg,
                          const struct dk_asset *desktop,
                          const struct dk_staff *requester, const char *when,
                          struct dk_notice *out)
{
    const char *note = assignee_note(desktop, requester);
    const char *assignee =
        desktop->assignee[0] != '\0' ? desktop->assignee : "none recorded";

    memset(out, 0, sizeof(*out));
    out->subject = ticket_subject(cfg, desktop, requester);
    if (requester != NULL)
        out->text = format(
            "A staff member asked at the %s drop-off kiosk (%s) on %s for a\n"
            "desktop computer to be reimaged where it stands.\n\n"
            "Asset tag: %s\nSerial: %s\nModel: %s %s\nAssignee: %s\n"
            "Requester: %s (staff id %s, %s)\nDepartment: %s\n%s",
            cfg->site_name, cfg->kiosk_id, when, desktop->tag, desktop->serial,
            desktop->make, desktop->model, assignee, requester->name,
            requester->id, requester->email, requester->department, note);
    else
        out->text = format(
            "A staff member asked at the %s drop-off kiosk (%s) on %s for a\n"
            "desktop computer to be reimaged where it stands.\n\n"
            "Asset tag: %s\nSerial: %s\nModel: %s %s\nAssignee: %s\n"
            "Requester: not given at the kiosk\n%s",
            cfg->site_name, cfg->kiosk_id, when, desktop->tag, desktop->serial,
            desktop->make, desktop->model, assignee, note);
    if (out->subject == NULL || out->text == NULL) {
        notice_free(out);
        return -ENOMEM;
    }
    return 0;
}
