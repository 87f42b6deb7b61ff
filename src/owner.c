/* Root becoming the owner of the site's state folder.  (SQLite gives its
 * -wal and -journal files the database's owner when run as root, but the
 * database itself, our keys, receipts and mail get no such care.) */
#include "owner.h"

#include <errno.h>
#include <fcntl.h>
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
    out->umask_before = umask(0);
    umask(out->umask_before);
    if (geteuid() != 0)
        return 0;
    folder_of(database, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid == 0)
        return 0;
    account_of(&st, &a);

    rc = switch_to(&a, dir, err);
    if (rc != 0)
        return rc;

    /* The files made from here on are the service's alone, as systemd's
     * UMask= (0077 by default for a service's state) would make them, and
     * not 0644 as root's login umask of 022 would. */
    out->umask_before = umask(DK_OWNER_UMASK);
    out->became = true;
    describe(&a, who, sizeof(who));
    snprintf(out->what, sizeof(out->what), "%s and group %u, the owner of %s",
             who, (unsigned)a.gid, dir);
    return 0;
}

void owner_describe_self(char *out, size_t size)
{
    struct stat st = {.st_uid = geteuid(), .st_gid = getegid()};
    struct account a;

    account_of(&st, &a);
    describe(&a, out, size);
}

/* The name of the effective user and of its group, for a remedy the
 * operator can paste; numbers for ids with no name. */
static void names_of_self(char *user, size_t user_size, char *group, size_t group_size)
{
    struct passwd *pw = getpwuid(geteuid());
    struct group *gr = getgrgid(pw != NULL ? pw->pw_gid : getegid());

    if (pw != NULL)
        snprintf(user, user_size, "%s", pw->pw_name);
    else
        snprintf(user, user_size, "%u", (unsigned)geteuid());
    if (gr != NULL)
        snprintf(group, group_size, "%s", gr->gr_name);
    else
        snprintf(group, group_size, "%u", (unsigned)(pw != NULL ? pw->pw_gid : getegid()));
}

int owner_unreadable(const char *where, const char *what, const char *path, int code,
                     enum dk_owner_remedy remedy, struct dk_error *err)
{
    char who[300];
    char user[256];
    char group[256];

    owner_describe_self(who, sizeof(who));
    names_of_self(user, sizeof(user), group, sizeof(group));
    if (remedy == DK_OWNER_GROUP_READ)
        return dk_error_set(err, DK_EINPUT,
                            "%scannot read %s %s as %s: %s; let that user read it: "
                            "chgrp %s %s; chmod 0640 %s", where, what, path, who,
                            strerror(-code), group, path, path);
    return dk_error_set(err, DK_EINPUT,
                        "%scannot read %s %s as %s: %s; it must be that user's: "
                        "chown %s:%s %s; chmod 0600 %s", where, what, path, who,
                        strerror(-code), user, group, path, path);
}

int owner_check_readable(const char *where, const char *what, const char *path,
                         enum dk_owner_remedy remedy, struct dk_error *err)
{
    /* AT_EACCESS: as the effective user, the one that will open it. */
    if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0 || errno == ENOENT)
        return 0;
    if (errno != EACCES && errno != EPERM)
        return 0; /* the open itself will say what is wrong */
    return owner_unreadable(where, what, path, -errno, remedy, err);
}
