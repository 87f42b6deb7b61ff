/* Barcode scanners as the core sees them: a file descriptor to poll and a
 * stream of whole scans.  Back ends (drivers/scanner_*.c): the terminal
 * (stdin, one scan or typed answer a line), serial ttys (CDC-ACM and
 * RS-232), keyboard-wedge scanners through evdev (the terminator settings
 * cr, lf, crlf and enter all mean the Enter key there), USB HID-POS
 * scanners through libusb, and cameras through zbar.  An identical scan
 * from one scanner within its repeat window is dropped here, whatever the
 * back end. */
#ifndef DK_SCANNER_H
#define DK_SCANNER_H

#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest scan kept whole; longer input is cut and marked overflow. */
#define DK_SCAN_EVENT_MAX 512

struct dk_scan_event {
    char text[DK_SCAN_EVENT_MAX + 1]; /* NUL-terminated, terminator removed */
    size_t len;
    bool overflow;      /* the scan was longer than DK_SCAN_EVENT_MAX */
    char symbology[16]; /* AIM identifier or a name when the scanner says; "" */
    const char *source; /* the scanner's configured name */
    uint64_t mono_ns;   /* CLOCK_MONOTONIC when the terminator arrived */
};

struct dk_scanner;

/* Open the scanner cfg describes.  *out is the caller's to scanner_close.
 * -errno with "cannot open scanner DEVICE: reason" in err. */
int scanner_open(const struct dk_scanner_config *cfg, struct dk_scanner **out,
                 struct dk_error *err);

/* The descriptor to poll for input (POLLIN). */
int scanner_fd(const struct dk_scanner *s);

/* The configured name, e.g. "lobby". */
const char *scanner_name(const struct dk_scanner *s);

/* Take the next complete scan.  Returns 1 with ev filled, 0 when no whole
 * scan is buffered yet (poll again), -ENODEV when the device is gone (it
 * may come back: open it again later), DK_ENODATA when its input has ended
 * for good (standard input, a recorded file), or another -errno; err says
 * which.  Call
 * until it returns 0 after each POLLIN, since one read can hold several
 * scans. */
int scanner_next(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err);

/* Milliseconds until scanner_next should be called even without input (a
 * scanner with no terminator ends a scan after a pause), or -1 for never. */
int scanner_wait_ms(const struct dk_scanner *s);

/* Close and free; accepts NULL. */
void scanner_close(struct dk_scanner *s);

#endif
