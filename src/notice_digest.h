/* The words of the leaders' daily digest (src/notice_digest.c), and the
 * check of the service-desk ticket's subject template
 * (src/notice_ticket.c).
 *
 * The digest is in English: the staff list records no leader's language.
 * TODO(i18n): when the staff import carries a preferred language, take the
 * digest's words from that catalog, because a leader reads the digest. */
#ifndef DK_NOTICE_DIGEST_H
#define DK_NOTICE_DIGEST_H

#include "config.h"
#include "notice.h"

#include <stdbool.h>
#include <stddef.h>

/* Where a returned device is now, as the digest words it. */
enum dk_digest_status {
    DK_DIGEST_DROPPED,          /* in the bin, waiting for a technician */
    DK_DIGEST_RECEIVED,         /* with OIIT; no charger expected or checked */
    DK_DIGEST_CHARGER_VERIFIED, /* with OIIT, charger found in the bag */
    DK_DIGEST_CHARGER_MISSING,  /* with OIIT, charger not found */
    DK_DIGEST_DISPOSITIONED,    /* its fate decided (disposition says which) */
};

/* One returned device in a digest.  Text values are as stored, never
 * NULL; "" where the store has nothing. */
struct dk_digest_item {
    const char *time;          /* local "HH:MM" of the drop */
    const char *returner_name; /* "" when the person gave no name (SKIP) */
    const char *returner_id;
    const char *assignee_name; /* for a SKIP: the device's assignee */
    const char *assignee_id;
    const char *tag;
    const char *make;  /* "" when unknown */
    const char *model; /* "" when unknown */
    bool charger_declared;
    enum dk_digest_status status;
    const char *disposition; /* reimage, reassign, recycle; "" until then */
    bool not_assignee;
    bool unknown_asset;
};

/* One leader's digest for one local day. */
struct dk_digest_notice {
    const char *day;   /* "YYYY-MM-DD" */
    const char *as_of; /* local "YYYY-MM-DD HH:MM ZONE": when status was read */
    const struct dk_digest_item *items;
    size_t n;
};

/* The digest's subject, text and HTML bodies (every value escaped in the
 * HTML).  0 or -ENOMEM; the caller frees out with notice_free. */
int notice_digest(const struct dk_config *cfg, const struct dk_digest_notice *d,
                  struct dk_notice *out);

/* true when fmt is a usable [mail] ticket_subject: every "{" opens one of
 * the placeholders {tag}, {serial}, {model}, {site}, {site_name}, {kiosk}
 * or {staff_id} (a "}" alone is kept as it is).  Otherwise false with the
 * reason, naming the offending placeholder, in why (size bytes).  For
 * config_load, so that a mistyped placeholder stops the programs at start
 * rather than reaching the service desk. */
bool notice_ticket_subject_check(const char *fmt, char *why, size_t size);

#endif
