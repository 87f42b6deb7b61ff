/* Root becoming the owner of the site's state folder.  (SQLite gives its
 * -wal and -journal files the database's owner when run as root, but the
 * database itself, our keys, receipts and mail get no such care.) */
#include "owner.h"

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

struct account {
    uid_t uid;
    gid_t gid;
    char name[256]; /* "" when the uid has no account */
};

/* The folder's owner, and the group to take: the account's primary group,
 * or the folder's own group for a uid with no account (a user removed
 * after the package made the folder). */
static void account_of(const struct stat *st, struct account *a)
{
    struct passwd *pw = getpwuid(st->st_uid);

    a->uid = st->st_uid;
    a->gid = pw != NULL ? pw->pw_gid : st->st_gid;
    a->name[0] = '\0';
    if (pw != NULL)
        snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
}

/* "user NAME (uid N)", or "uid N (no account)". */
static void describe(const struct account *a, char *out, size_t size)
{
    if (a->name[0] != '\0')
        snprintf(out, size, "user %s (uid %u)", a->name, (unsigned)a->uid);
    else
        snprintf(out, size, "uid %u (no account)", (unsigned)a->uid);
}

static int fail(const struct account *a, const char *dir, const char *step,
                const char *why, struct dk_error *err)
{
    char who[300];

    describe(a, who, sizeof(who));
    return dk_error_set(err, -EPERM,
                        "cannot become %s, the owner of %s: %s: %s", who, dir,
                        step, why);
}

/* Supplementary groups first, while we may still set them: the account's
 * own, or none at all (root's must not stay); then the group, then the
 * user. */
static int switch_to(const struct account *a, const char *dir,
                     struct dk_error *err)
{
    bool named = a->name[0] != '\0';

    if (named ? initgroups(a->name, a->gid) != 0 : setgroups(0, NULL) != 0)
        return fail(a, dir, named ? "initgroups" : "setgroups", strerror(errno),
                    err);
    if (setgid(a->gid) != 0)
        return fail(a, dir, "setgid", strerror(errno), err);
    if (setuid(a->uid) != 0)
        return fail(a, dir, "setuid", strerror(errno), err);
    /* CERT POS37-C: make sure root cannot be taken back. */
    if (setuid(0) == 0)
        return fail(a, dir, "setuid(0)", "root could be taken back", err);
    return 0;
}

int owner_become(const char *database, struct dk_owner *out,
                 struct dk_error *err)
{
    char dir[DK_PATH_MAX];
    char who[300];
    struct account a;
    struct stat st;
    int rc;

    out->became = false;
    out->what[0] = '\0';
    if (geteuid() != 0)
        return 0;
    folder_of(database, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid == 0)
        return 0;
    account_of(&st, &a);

    rc = switch_to(&a, dir, err);
    if (rc != 0)
        return rc;

    out->became = true;
    describe(&a, who, sizeof(who));
    snprintf(out->what, sizeof(out->what), "%s and group %u, the owner of %s",
             who, (unsigned)a.gid, dir);
    return 0;
}
