/* Private to the scanner back ends: assembling whole scans from a byte
 * stream that ends each scan with a terminator character. */
#ifndef DK_SCANNER_LINE_H
#define DK_SCANNER_LINE_H

#include "scanner.h"

struct dk_line_buffer {
    char buf[DK_SCAN_EVENT_MAX + 1];
    size_t len;
    bool overflow;
    char terminator;  /* the byte that ends a scan */
    bool strip_cr;    /* drop a CR just before the terminator (CRLF) */
    char pending[DK_SCAN_EVENT_MAX];
    size_t pending_len;
    size_t pending_pos;
};

/* Prepare b for a scanner ending scans with term. */
void line_buffer_init(struct dk_line_buffer *b, enum dk_terminator term);

/* Feed n freshly read bytes; they are kept until taken by line_buffer_take.
 * Only call when line_buffer_take has returned false (buffer drained). */
void line_buffer_feed(struct dk_line_buffer *b, const char *data, size_t n);

/* Move the next complete scan into ev.  false when none is complete yet. */
bool line_buffer_take(struct dk_line_buffer *b, struct dk_scan_event *ev);

#endif
