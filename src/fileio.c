#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int file_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

int file_sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return file_sync_dir(".");
    if (slash == path)
        return file_sync_dir("/");
    if ((size_t)(slash - path) >= sizeof(dir))
        return -ENAMETOOLONG;
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    return file_sync_dir(dir);
}

int file_write_new(const char *path, mode_t mode, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    int rc;

    if (fd < 0)
        return -errno;
    if (fchmod(fd, mode) != 0)
        rc = -errno;
    else if ((rc = file_write_all(fd, data, len)) == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0)
        rc = file_sync_parent(path);
    if (rc != 0)
        unlink(path);
    return rc;
}

/* Reads one byte past max so that a file of exactly max bytes is taken
 * whole and a longer one is told apart without reading all of it. */
int file_read_fd(int fd, size_t max, char **buf, size_t *len)
{
    char *data = NULL;
    size_t cap = 0, used = 0;
    int rc = 0;

    for (;;) {
        ssize_t n;

        if (cap - used < 2) { /* room for one byte and the NUL */
            size_t ncap = cap == 0 ? 65536 : cap * 2;
            char *p;

            if (ncap > max + 2)
                ncap = max + 2; /* max, one byte to tell "more", the NUL */
            if (ncap < used + 2) {
                rc = -EFBIG;
                goto out;
            }
            p = realloc(data, ncap);
            if (p == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            data = p;
            cap = ncap;
        }
        n = read(fd, data + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            rc = -EFBIG;
            goto out;
        }
    }
    data[used] = '\0';
out:
    if (rc != 0) {
        free(data);
        return rc;
    }
    *buf = data;
    *len = used;
    return 0;
}

int file_read_path(const char *path, size_t max, char **buf, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int rc;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if ((uintmax_t)st.st_size > max)
        rc = -EFBIG;
    else
        rc = file_read_fd(fd, max, buf, len);
    close(fd);
    return rc;
}
