/* The daemon's lock file.  flock(2) rather than fcntl(2) locks: those are
 * dropped when any descriptor of the file is closed by any thread, and
 * they are the ones SQLite uses on the database itself. */
#include "lockfile.h"

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pid the holder wrote, or 0 when the file does not hold one. */
static long holder_pid(int fd)
{
    char text[24];
    char *end = NULL;
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    long pid;

    if (n <= 0)
        return 0;
    text[n] = '\0';
    errno = 0;
    pid = strtol(text, &end, 10);
    if (errno != 0 || end == text || (*end != '\n' && *end != '\0') || pid <= 0)
        return 0;
    return pid;
}

static int held(int fd, const char *database, struct dk_error *err)
{
    long pid = holder_pid(fd);

    if (pid > 0)
        return dk_error_set(err, -EWOULDBLOCK,
                            "another dropkiosk is running with database %s (pid %ld)",
                            database, pid);
    return dk_error_set(err, -EWOULDBLOCK, "another dropkiosk is running with database %s",
                        database);
}

/* Our pid, for the next one to name; the lock works without it. */
static int write_pid(int fd, const char *path, struct dk_error *err)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != (ssize_t)n)
        return dk_error_set(err, -errno, "cannot write lock file %s: %s", path,
                            strerror(errno));
    return 0;
}

/* The file at path is still the one fd has open: a daemon that stops
 * removes the file (lockfile_release), and one that opened it just before
 * would otherwise hold a lock on a file no one else can find. */
static bool still_there(int fd, const char *path)
{
    struct stat ours, now;

    return fstat(fd, &ours) == 0 && stat(path, &now) == 0 && ours.st_dev == now.st_dev &&
           ours.st_ino == now.st_ino;
}

/* Open and lock path once: 0 with *out, 1 to try again (the file was
 * removed under us), or a negative code with err set. */
static int try_lock(const char *path, const char *database, int *out, struct dk_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    int rc = 0;

    if (fd < 0) {
        rc = -errno;
        return dk_error_set(err, rc, "cannot lock database %s: cannot open %s: %s", database,
                            path, strerror(-rc));
    }

    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? held(fd, database, err)
                                  : dk_error_set(err, -errno, "cannot lock %s: %s", path,
                                                 strerror(errno));
        goto out;
    }
    if (!still_there(fd, path)) {
        rc = 1;
        goto out;
    }

    rc = write_pid(fd, path, err);
    if (rc == 0) {
        *out = fd;
        fd = -1;
    }
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static bool lock_path(const char *database, char *path, size_t size)
{
    int n = snprintf(path, size, "%s.lock", database);

    return n > 0 && (size_t)n < size;
}

int lockfile_take(const char *database, int *out, struct dk_error *err)
{
    char path[DK_PATH_MAX + 8];
    int rc = 1;

    *out = -1;
    if (!lock_path(database, path, sizeof(path)))
        return dk_error_set(err, DK_EINPUT, "database path too long: %s", database);
    /* A few tries: each retry means another daemon stopped meanwhile. */
    for (int i = 0; rc == 1 && i < 8; i++)
        rc = try_lock(path, database, out, err);
    if (rc == 1)
        rc = dk_error_set(err, -EAGAIN, "cannot lock database %s: %s keeps being removed",
                          database, path);
    return rc;
}

void lockfile_release(const char *database, int fd)
{
    char path[DK_PATH_MAX + 8];

    if (fd < 0)
        return;
    /* Removed while still locked, so that no one locks it in between
     * (try_lock checks that the file it locked is still there). */
    if (lock_path(database, path, sizeof(path)))
        unlink(path);
    close(fd);
}
