/* Private to drivers/: what each scanner back end provides behind
 * drivers/scanner.h.  A back end fills in a struct dk_scanner's ops and impl
 * in its open function; scanner.c dispatches. */
#ifndef DK_SCANNER_BACKEND_H
#define DK_SCANNER_BACKEND_H

#include "scanner.h"

struct dk_scanner_ops {
    /* The descriptor to poll for input. */
    int (*fd)(const struct dk_scanner *s);
    /* As scanner_next. */
    int (*next)(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err);
    /* As scanner_wait_ms; NULL means never. */
    int (*wait_ms)(const struct dk_scanner *s);
    /* Free impl and close what the back end opened; impl may be NULL. */
    void (*close)(struct dk_scanner *s);
};

struct dk_scanner {
    const struct dk_scanner_ops *ops;
    char name[64];
    char device[DK_PATH_MAX]; /* for messages: a path, "stdin", "usb 05e0:1200" */
    void *impl;
    /* The last scan, to fold a double read into one (scanner.c). */
    uint64_t repeat_window_ns;
    char last_text[DK_SCAN_EVENT_MAX + 1];
    size_t last_len;
    uint64_t last_ns;
};

/* Each back end's open: set s->ops and s->impl (s->name and s->device are
 * already set), or return -errno / DK_E... with err set and s->impl NULL or
 * freed. */
int scanner_tty_open_serial(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                            struct dk_error *err);
int scanner_tty_open_stdin(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                           struct dk_error *err);
int scanner_evdev_open(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                       struct dk_error *err);
int scanner_hidpos_open(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                        struct dk_error *err);
int scanner_camera_open(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                        struct dk_error *err);

#endif
