/* The service-desk ticket for a desktop that is reimaged where it stands
 * instead of being dropped off.  Always in English: it is read by the
 * service desk, not by the person. */
#include "notice.h"

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

/* Who the inventory says has the desktop, and whether the requester is that
 * person: a reimage wipes the machine, so the service desk must see when
 * someone else asked for it. */
static const char *assignee_note(const struct dk_asset *desktop, const struct dk_staff *requester)
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

int notice_desktop_ticket(const struct dk_config *cfg, const struct dk_asset *desktop,
                          const struct dk_staff *requester, const char *when,
                          struct dk_notice *out)
{
    const char *note = assignee_note(desktop, requester);
    const char *assignee = desktop->assignee[0] != '\0' ? desktop->assignee : "none recorded";

    memset(out, 0, sizeof(*out));
    out->subject = format("Desktop reimage request: asset %s at %s", desktop->tag,
                          cfg->site_name);
    if (requester != NULL)
        out->text = format("A staff member asked at the %s drop-off kiosk (%s) on %s for a\n"
                           "desktop computer to be reimaged where it stands.\n\n"
                           "Asset tag: %s\nSerial: %s\nModel: %s %s\nAssignee: %s\n"
                           "Requester: %s (staff id %s, %s)\nDepartment: %s\n%s",
                           cfg->site_name, cfg->kiosk_id, when, desktop->tag, desktop->serial,
                           desktop->make, desktop->model, assignee, requester->name,
                           requester->id, requester->email, requester->department, note);
    else
        out->text = format("A staff member asked at the %s drop-off kiosk (%s) on %s for a\n"
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
