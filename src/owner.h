/* Run as root, become the user who owns a site's state folder.
 *
 * On the appliance the database's folder (/var/lib/dropkiosk, mode 0700)
 * belongs to the unprivileged dropkiosk user the service runs as.  A
 * database, key, receipt or mail file that root made there would belong
 * to root, and the service could then not write it ("attempt to write a
 * readonly database"); so both programs, run as root, first become the
 * folder's owner, and every file made afterwards is that user's. */
#ifndef DK_OWNER_H
#define DK_OWNER_H

#include "config.h"
#include "error.h"

#include <stdbool.h>

/* What owner_become did. */
struct dk_owner {
    bool became; /* false: not root, or the folder is root's or not there */
    /* When became: "user NAME (uid N) and group G, the owner of DIR", or
     * "uid N (no account) and group G, the owner of DIR"; for a log line
     * that starts "running as ". */
    char what[DK_PATH_MAX + 384];
};

/* When the process runs as root (euid 0) and the folder that holds
 * database (a path as in [kiosk] database) is a folder whose owner is not
 * root, become that owner: its supplementary groups (initgroups, or none
 * for a uid with no account), then its primary group (the folder's group
 * for a uid with no account), then its uid, and check that root cannot be
 * taken back.  Call after the config is read and before any file of the
 * site is opened.
 *
 * 0, with out->became saying whether anything changed; nothing is done
 * when not root or when the folder is root's or cannot be looked at (the
 * file's own open then says what is wrong).  -EPERM when a step fails,
 * whatever the step's errno, so that both programs exit 3; err then says
 * "cannot become user NAME (uid N), the owner of DIR: STEP: REASON". */
int owner_become(const char *database, struct dk_owner *out,
                 struct dk_error *err);

#endif
