/* drivers/scanner.h: one interface over every scanner back end. */
#include "scanner_backend.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*open_fn)(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                       struct dk_error *err);

static open_fn opener(enum dk_scanner_kind kind)
{
    switch (kind) {
    case DK_SCANNER_STDIN:
        return scanner_tty_open_stdin;
    case DK_SCANNER_SERIAL:
        return scanner_tty_open_serial;
    case DK_SCANNER_EVDEV:
        return scanner_evdev_open;
    case DK_SCANNER_HIDPOS:
        return scanner_hidpos_open;
    case DK_SCANNER_CAMERA:
        return scanner_camera_open;
    }
    return NULL;
}

int scanner_open(const struct dk_scanner_config *cfg, struct dk_scanner **out,
                 struct dk_error *err)
{
    struct dk_scanner *s = calloc(1, sizeof(*s));
    open_fn fn = opener(cfg->kind);
    int rc;

    if (s == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    if (fn == NULL) {
        free(s);
        return dk_error_set(err, DK_EINPUT, "scanner %s: this kind of scanner is not built in",
                            cfg->name);
    }
    snprintf(s->name, sizeof(s->name), "%s", cfg->name);
    s->repeat_window_ns = (uint64_t)cfg->repeat_window_ms * 1000000u;
    snprintf(s->device, sizeof(s->device), "%s",
             cfg->kind == DK_SCANNER_STDIN ? "stdin" : cfg->device);
    rc = fn(s, cfg, err);
    if (rc != 0) {
        scanner_close(s);
        return rc;
    }
    log_info("scanner %s ready on %s", s->name, s->device);
    *out = s;
    return 0;
}

int scanner_fd(const struct dk_scanner *s)
{
    return s->ops->fd(s);
}

const char *scanner_name(const struct dk_scanner *s)
{
    return s->name;
}

/* A scanner that reads one label twice (a double beep, a label held under a
 * presentation scanner) must not answer two questions: an identical scan
 * within the window of the last one from the same scanner is dropped, and
 * the window slides while the repeats go on. */
static bool is_repeat(struct dk_scanner *s, const struct dk_scan_event *ev)
{
    bool same = ev->len == s->last_len && memcmp(ev->text, s->last_text, ev->len) == 0 &&
                ev->mono_ns - s->last_ns < s->repeat_window_ns;

    memcpy(s->last_text, ev->text, ev->len);
    s->last_len = ev->len;
    s->last_ns = ev->mono_ns;
    return same;
}

int scanner_next(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err)
{
    int rc;

    for (;;) {
        memset(ev, 0, sizeof(*ev));
        rc = s->ops->next(s, ev, err);
        if (rc != 1)
            return rc;
        ev->source = s->name;
        if (!is_repeat(s, ev) || s->repeat_window_ns == 0)
            return 1;
        log_debug("scanner %s: dropped a repeat of the last scan", s->name);
    }
}

int scanner_wait_ms(const struct dk_scanner *s)
{
    return s->ops->wait_ms != NULL ? s->ops->wait_ms(s) : -1;
}

void scanner_close(struct dk_scanner *s)
{
    if (s == NULL)
        return;
    if (s->ops != NULL)
        s->ops->close(s);
    free(s);
}
