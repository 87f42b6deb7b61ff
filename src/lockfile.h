/* One daemon a database.  A second dropkiosk started by hand while the
 * service runs would open the scanners, take scans the first one also
 * reads, and only then fail on the screen's port; it is stopped before it
 * opens anything. */
#ifndef DK_LOCKFILE_H
#define DK_LOCKFILE_H

#include "error.h"

/* Take an exclusive lock (flock(2), LOCK_EX | LOCK_NB) on DATABASE.lock,
 * beside the database, made mode 0600 when not there, and write our pid
 * into it.  Call after owner_become, so that the file is the service's,
 * and before the scanners or the store are opened.  dropkioskctl never
 * takes it: it works beside a running daemon, as SQLite allows.
 *
 * 0 with *fd the lock's descriptor (held until lockfile_release, or exit,
 * which leaves the file behind, locking nothing).  -EWOULDBLOCK when
 * another process holds the lock, err "another dropkiosk is running with
 * database PATH (pid N)" (the pid when the file says it); a negative errno
 * with "cannot lock ..." when the file cannot be made or locked. */
int lockfile_take(const char *database, int *fd, struct dk_error *err);

/* Remove DATABASE.lock and release the lock lockfile_take took on it, so
 * that a daemon that stopped leaves no file behind; accepts fd -1 (then
 * nothing is done). */
void lockfile_release(const char *database, int fd);

#endif
