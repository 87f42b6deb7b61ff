#include "scanner_line.h"

#include <string.h>
#include <time.h>

void line_buffer_init(struct dk_line_buffer *b, enum dk_terminator term)
{
    memset(b, 0, sizeof(*b));
    switch (term) {
    case DK_TERM_CR:
        b->terminator = '\r';
        break;
    case DK_TERM_TAB:
        b->terminator = '\t';
        break;
    case DK_TERM_CRLF:
        b->terminator = '\n';
        b->strip_cr = true;
        break;
    case DK_TERM_LF:
        b->terminator = '\n';
        break;
    case DK_TERM_NONE:
        b->no_terminator = true;
        break;
    }
}

static uint64_t mono_ns(void);

void line_buffer_feed(struct dk_line_buffer *b, const char *data, size_t n)
{
    b->last_ns = mono_ns();
    if (n > sizeof(b->pending))
        n = sizeof(b->pending);
    memcpy(b->pending, data, n);
    b->pending_len = n;
    b->pending_pos = 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void emit(struct dk_line_buffer *b, struct dk_scan_event *ev)
{
    size_t len = b->len;

    if (b->strip_cr && len > 0 && b->buf[len - 1] == '\r')
        len--;
    memcpy(ev->text, b->buf, len);
    ev->text[len] = '\0';
    ev->len = len;
    ev->overflow = b->overflow;
    ev->mono_ns = mono_ns();
    b->len = 0;
    b->overflow = false;
}

bool line_buffer_take(struct dk_line_buffer *b, struct dk_scan_event *ev)
{
    while (b->pending_pos < b->pending_len) {
        char c = b->pending[b->pending_pos++];

        if (c == b->terminator && !b->no_terminator) {
            /* An empty line is no scan (a CRLF scanner configured as CR, or
             * a person pressing Enter twice). */
            if (b->len == 0 && !b->overflow)
                continue;
            emit(b, ev);
            return true;
        }
        if (b->len < DK_SCAN_EVENT_MAX)
            b->buf[b->len++] = c;
        else
            b->overflow = true;
    }
    return false;
}

bool line_buffer_take_idle(struct dk_line_buffer *b, struct dk_scan_event *ev, int pause_ms)
{
    if (line_buffer_wait_ms(b, pause_ms) != 0)
        return false;
    emit(b, ev);
    return true;
}

int line_buffer_wait_ms(const struct dk_line_buffer *b, int pause_ms)
{
    uint64_t waited;
    uint64_t pause = (uint64_t)pause_ms * 1000000u;

    if (!b->no_terminator || (b->len == 0 && !b->overflow))
        return -1;
    waited = mono_ns() - b->last_ns;
    return waited >= pause ? 0 : (int)((pause - waited + 999999u) / 1000000u);
}
