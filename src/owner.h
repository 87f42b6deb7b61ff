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
#include <stddef.h>
#include <sys/types.h>

/* The umask both programs take when they become the folder's owner, and
 * the daemon at every start: the files of the state folder are the
 * service's alone. */
#define DK_OWNER_UMASK 0077

/* What owner_become did. */
struct dk_owner {
    mode_t umask_before; /* the umask the program was started with */
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
 * taken back, and set the umask to DK_OWNER_UMASK.  Call after the config
 * is read and before any file of the site is opened.
 *
 * 0, with out->became saying whether anything changed; nothing is done
 * when not root or when the folder is root's or cannot be looked at (the
 * file's own open then says what is wrong).  -EPERM when a step fails,
 * whatever the step's errno, so that both programs exit 3; err then says
 * "cannot become user NAME (uid N), the owner of DIR: STEP: REASON". */
int owner_become(const char *database, struct dk_owner *out,
                 struct dk_error *err);

/* "user NAME (uid N)" for the effective uid, or "uid N (no account)", into
 * out (300 bytes are always enough). */
void owner_describe_self(char *out, size_t size);

/* What a file the effective user cannot read should become. */
enum dk_owner_remedy {
    DK_OWNER_GROUP_READ, /* root's, readable by the user's group (the config) */
    DK_OWNER_OWN,        /* the user's own, mode 0600 (a secret key) */
};

/* Say that path, a `what` ("config", "[receipt] signing_key"), cannot be
 * read as the effective user for code (a negative errno), and what to do:
 * "WHEREcannot read WHAT PATH as user NAME (uid N): REASON; let that user
 * read it: chgrp GROUP PATH; chmod 0640 PATH" (DK_OWNER_GROUP_READ) or
 * "...; it must be that user's: chown NAME:GROUP PATH; chmod 0600 PATH"
 * (DK_OWNER_OWN).  where is "" or "FILE:LINE: ".  Returns DK_EINPUT: a file
 * the programs' user cannot read is the setup's to fix (exit 2), which a
 * restart would not mend. */
int owner_unreadable(const char *where, const char *what, const char *path, int code,
                     enum dk_owner_remedy remedy, struct dk_error *err);

/* Whether the effective user may read path (faccessat with AT_EACCESS):
 * 0 when it may, or when path is not there or fails for another reason
 * (the open that follows then says what is wrong); DK_EINPUT with
 * owner_unreadable's message when it is refused (EACCES, EPERM). */
int owner_check_readable(const char *where, const char *what, const char *path,
                         enum dk_owner_remedy remedy, struct dk_error *err);

#endif
