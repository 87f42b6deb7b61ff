/* dropkioskctl run as root on the appliance.  The database's folder
 * (/var/lib/dropkiosk, mode 0700) belongs to the unprivileged dropkiosk
 * user the daemon runs as.  A key, database, receipt or mail file that
 * root made there would belong to root, and the daemon could then not
 * read or write it; so root first becomes the folder's owner, and every
 * file made afterwards is the daemon's.  (SQLite gives its -wal and
 * -journal files the database's owner when run as root, but our own
 * files get no such care.) */
#include "ctl.h"

#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder holding path: "." for a bare name, "/" for one in the root. */
static void folder_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

struct owner {
    uid_t uid;
    gid_t gid;
    char name[256]; /* "" when the uid has no account */
};

/* The folder's owner, and the group to take: the account's primary group,
 * or the folder's own group for a uid with no account (a user removed
 * after the package made the folder). */
static void owner_of(const struct stat *st, struct owner *o)
{
    struct passwd *pw = getpwuid(st->st_uid);

    o->uid = st->st_uid;
    o->gid = pw != NULL ? pw->pw_gid : st->st_gid;
    o->name[0] = '\0';
    if (pw != NULL)
        snprintf(o->name, sizeof(o->name), "%s", pw->pw_name);
}

/* "user NAME (uid N)", or "uid N (no account)". */
static void describe(const struct owner *o, char *out, size_t size)
{
    if (o->name[0] != '\0')
        snprintf(out, size, "user %s (uid %u)", o->name, (unsigned)o->uid);
    else
        snprintf(out, size, "uid %u (no account)", (unsigned)o->uid);
}

static int fail(const struct owner *o, const char *dir, const char *step, const char *why)
{
    char who[300];

    describe(o, who, sizeof(who));
    fprintf(stderr, "%sdropkioskctl: cannot become %s, the owner of %s: %s: %s\n",
            log_priority(DK_LOG_ERROR), who, dir, step, why);
    return 3;
}

int ctl_become_owner(const struct dk_ctl *c)
{
    char dir[DK_PATH_MAX];
    char who[300];
    struct owner o;
    struct stat st;

    if (geteuid() != 0)
        return 0;
    folder_of(c->cfg.database, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid == 0)
        return 0;
    owner_of(&st, &o);

    /* Supplementary groups first, while we may still set them: the
     * account's own, or none at all (root's must not stay). */
    if (o.name[0] != '\0' ? initgroups(o.name, o.gid) != 0 : setgroups(0, NULL) != 0)
        return fail(&o, dir, o.name[0] != '\0' ? "initgroups" : "setgroups", strerror(errno));
    if (setgid(o.gid) != 0)
        return fail(&o, dir, "setgid", strerror(errno));
    if (setuid(o.uid) != 0)
        return fail(&o, dir, "setuid", strerror(errno));
    /* CERT POS37-C: make sure root cannot be taken back. */
    if (setuid(0) == 0)
        return fail(&o, dir, "setuid(0)", "root could be taken back");
    describe(&o, who, sizeof(who));
    log_debug("running as %s and group %u, the owner of %s", who, (unsigned)o.gid, dir);
    return 0;
}
