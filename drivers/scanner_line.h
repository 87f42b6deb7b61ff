/* Private to the scanner back ends: assembling whole scans from a byte
 * stream that ends each scan with a terminator character. */
#ifndef DK_SCANNER_LINE_H
#define DK_SCANNER_LINE_H

#include "scanner.h"

#include <stdint.h>

struct dk_line_buffer {
    char buf[DK_SCAN_EVENT_MAX + 1];
    size_t len;
    bool overflow;
    char terminator;  /* the byte that ends a scan */
    bool strip_cr;    /* drop a CR just before the terminator (CRLF) */
    bool no_terminator; /* scans end after a pause instead */
    uint64_t last_ns; /* CLOCK_MONOTONIC of the last byte fed */
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

/* For a scanner with no terminator: when bytes are buffered and none came
 * for pause_ms, move them into ev as one scan and return true. */
bool line_buffer_take_idle(struct dk_line_buffer *b, struct dk_scan_event *ev, int pause_ms);

/* Milliseconds until line_buffer_take_idle could end a scan, or -1 when
 * there is nothing to wait for. */
int line_buffer_wait_ms(const struct dk_line_buffer *b, int pause_ms);

#endif
