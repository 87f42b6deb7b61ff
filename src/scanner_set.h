/* The daemon's scanners as a set: one slot per configured scanner, opened
 * at start, dropped when unplugged and opened again when the device comes
 * back.  An inotify watch on the folders that hold the devices (and on
 * /dev/input for scanners found by USB id or name) wakes the search as soon
 * as a node appears; a retry every half second covers the rest. */
#ifndef DK_SCANNER_SET_H
#define DK_SCANNER_SET_H

#include "config.h"
#include "scanner.h"

#include <poll.h>
#include <stdbool.h>

/* Slots, plus the inotify descriptor. */
#define DK_SCANNER_SET_FDS (DK_MAX_SCANNERS + 1)

struct dk_scanner_set;

/* Called for each scan, in the order each scanner delivered them. */
typedef void (*dk_scan_fn)(const struct dk_scan_event *ev, void *user);

/* Open every scanner of cfg (which must outlive the set).  A device that
 * is not there is waited for (logged); any other failure is returned with
 * the reason in err.  *out is the caller's to scanner_set_close. */
int scanner_set_open(const struct dk_config *cfg, struct dk_scanner_set **out,
                     struct dk_error *err);

/* Close every scanner and free; accepts NULL. */
void scanner_set_close(struct dk_scanner_set *set);

/* Fill fds (DK_SCANNER_SET_FDS entries; closed slots get fd -1, which poll
 * skips) and return how many were filled. */
int scanner_set_pollfds(const struct dk_scanner_set *set, struct pollfd *fds);

/* Milliseconds until scanner_set_service has work without input (a pause
 * ending a scan, a retry falling due), or -1. */
int scanner_set_timeout_ms(const struct dk_scanner_set *set);

/* After poll: pass every complete scan to fn, drop scanners that are gone,
 * and look for missing ones that are due. */
void scanner_set_service(struct dk_scanner_set *set, const struct pollfd *fds, dk_scan_fn fn,
                         void *user);

/* false when no scanner is open and none can come back (standard input at
 * its end was the last). */
bool scanner_set_alive(const struct dk_scanner_set *set);

/* Whether slot i is open now, for the start-up banner. */
bool scanner_set_connected(const struct dk_scanner_set *set, int i);

#endif
