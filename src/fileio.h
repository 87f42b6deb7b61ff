/* Writing files so that what was written survives a power cut: every
 * byte written, the file fsync'd, and its folder fsync'd so that the new
 * name is on disk too (fsync(2): a file's directory entry needs an fsync of
 * the directory). */
#ifndef DK_FILEIO_H
#define DK_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes to fd, going on after short writes and EINTR.
 * 0 or -errno. */
int file_write_all(int fd, const void *data, size_t len);

/* fsync the folder dir.  0 or -errno. */
int file_sync_dir(const char *dir);

/* fsync the folder that holds path.  0 or -errno. */
int file_sync_parent(const char *path);

/* Create path with exactly mode (whatever the umask), never replacing a
 * file already there, write len bytes, and make file and name durable.
 * 0, -EEXIST when path exists, or -errno; on failure nothing is left at
 * path. */
int file_write_new(const char *path, mode_t mode, const void *data, size_t len);

/* Read all of fd (a file, pipe or tty) into a new buffer (*buf, *len; the
 * caller frees *buf, which holds one spare byte set to NUL after the
 * data).  0, -EFBIG when there is more than max bytes, -ENOMEM or -errno. */
int file_read_fd(int fd, size_t max, char **buf, size_t *len);

/* Read the regular file at path as file_read_fd does.  -EINVAL when path
 * is not a regular file (a folder, a device, a FIFO). */
int file_read_path(const char *path, size_t max, char **buf, size_t *len);

#endif
