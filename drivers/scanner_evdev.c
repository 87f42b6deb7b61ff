/* The keyboard-wedge scanner back end: a USB scanner that presents itself as
 * a keyboard, read from its /dev/input/event* node with libevdev and
 * grabbed (EVIOCGRAB) so that its keystrokes reach neither the kiosk
 * browser nor a console.  Key events become text through evdev_decode.h in
 * the scanner's own layout; scans are cut by scanner_line.h, at Enter, at
 * Tab, or after a pause.
 *
 * A device that is a regular file or a FIFO is a recorded stream of raw
 * struct input_event records (tools/evdev-record, tools/evdev-replay): it is
 * read as is, with no ioctl and no grab.  That is how tests, and machines
 * without /dev/input, drive this back end. */
#include "scanner_backend.h"

#include "evdev_decode.h"
#include "log.h"
#include "scanner_line.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Events taken per read: their text (at most DK_EVDEV_OUT_MAX bytes each)
 * must fit scanner_line.h's pending buffer. */
#define BATCH (DK_SCAN_EVENT_MAX / DK_EVDEV_OUT_MAX)

struct evdev_scanner {
    int fd;
    struct libevdev *dev; /* NULL for a recorded stream */
    bool grabbed;
    bool fifo;
    bool drop_terminators; /* terminator = none: Enter and Tab type nothing */
    bool syncing;          /* reading libevdev's delta after a SYN_DROPPED */
    int pause_ms;
    size_t skipped_seen; /* dec.skipped when last reported */
    struct dk_evdev_decoder dec;
    struct dk_line_buffer line;
    unsigned char partial[sizeof(struct input_event)]; /* a record cut by read */
    size_t partial_len;
};

static int evdev_fd(const struct dk_scanner *s)
{
    const struct evdev_scanner *e = s->impl;

    return e->fd;
}

static void decode_into(struct evdev_scanner *e, const struct input_event *ev, char *text,
                        size_t *len)
{
    size_t n = evdev_decode(&e->dec, ev, text + *len);

    if (e->drop_terminators && n == 1 && (text[*len] == '\r' || text[*len] == '\t'))
        return;
    *len += n;
}

/* A FIFO reads as EOF both before any writer came and after the last one
 * left; only the second sets POLLHUP (Linux fs/pipe.c reports a hangup to a
 * reader only for writers that arrived after it opened). */
static bool writer_left(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0;
}

/* One read of a recorded stream.  1 with *len bytes of text (maybe 0), 0
 * when nothing is there yet, or -errno. */
static int pull_raw(struct dk_scanner *s, char *text, size_t *len, struct dk_error *err)
{
    struct evdev_scanner *e = s->impl;
    unsigned char buf[BATCH * sizeof(struct input_event)];
    size_t have = e->partial_len;
    size_t used = 0;
    ssize_t n;

    memcpy(buf, e->partial, have);
    do
        n = read(e->fd, buf + have, sizeof(buf) - have);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n == 0 && e->fifo && !writer_left(e->fd))
        return 0;
    /* The end of a recorded file is the end for good: reopened, it would
     * play the same keys again. */
    if (n == 0 && !e->fifo)
        return dk_error_set(err, DK_ENODATA, "scanner %s: recording %s has ended", s->name,
                            s->device);
    if (n == 0)
        return dk_error_set(err, -ENODEV, "scanner %s on %s is gone", s->name, s->device);
    if (n < 0)
        return dk_error_set(err, -errno, "cannot read scanner %s on %s: %s", s->name,
                            s->device, strerror(errno));
    have += (size_t)n;
    for (; have - used >= sizeof(struct input_event); used += sizeof(struct input_event)) {
        struct input_event ev;

        memcpy(&ev, buf + used, sizeof(ev));
        decode_into(e, &ev, text, len);
    }
    e->partial_len = have - used;
    memcpy(e->partial, buf + used, e->partial_len);
    return 1;
}

/* Up to BATCH events from libevdev.  As pull_raw. */
static int pull_device(struct dk_scanner *s, char *text, size_t *len, struct dk_error *err)
{
    struct evdev_scanner *e = s->impl;

    for (int i = 0; i < BATCH; i++) {
        struct input_event ev;
        unsigned flags = e->syncing ? LIBEVDEV_READ_FLAG_SYNC : LIBEVDEV_READ_FLAG_NORMAL;
        int rc = libevdev_next_event(e->dev, flags, &ev);

        if (rc == LIBEVDEV_READ_STATUS_SYNC) {
            /* TODO(scanner): when events are dropped in the middle of a scan,
             * make the session refuse that scan, because a tag with a lost
             * digit can be another real asset; scanner.h has no flag for it. */
            if (!e->syncing)
                log_warn("scanner %s on %s dropped events (SYN_DROPPED); a scan may be cut "
                         "short", s->name, s->device);
            e->syncing = true;
            evdev_decode_resync(&e->dec, &ev);
        } else if (rc == LIBEVDEV_READ_STATUS_SUCCESS) {
            decode_into(e, &ev, text, len);
        } else if (rc == -EAGAIN && e->syncing) {
            e->syncing = false;
        } else if (rc == -EAGAIN || rc == -EINTR) {
            return i > 0 ? 1 : 0;
        } else if (rc == -ENODEV) {
            return dk_error_set(err, -ENODEV, "scanner %s on %s is gone", s->name, s->device);
        } else {
            return dk_error_set(err, rc, "cannot read scanner %s on %s: %s", s->name,
                                s->device, strerror(-rc));
        }
    }
    return 1;
}

/* Say once per scan when keys typed nothing on the configured layout: the
 * usual cause is a scanner set to another keyboard country. */
static void report_skipped(struct dk_scanner *s)
{
    struct evdev_scanner *e = s->impl;
    size_t n = e->dec.skipped - e->skipped_seen;

    if (n == 0)
        return;
    e->skipped_seen = e->dec.skipped;
    log_warn("scanner %s on %s: %zu key presses typed nothing on the %s layout; check the "
             "scanner's keyboard country and the config's layout", s->name, s->device, n,
             evdev_decoder_layout_name(&e->dec));
}

static int evdev_next(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err)
{
    struct evdev_scanner *e = s->impl;
    char text[DK_SCAN_EVENT_MAX];

    for (;;) {
        size_t len = 0;
        int rc;

        if (line_buffer_take(&e->line, ev)) {
            report_skipped(s);
            return 1;
        }
        rc = e->dev != NULL ? pull_device(s, text, &len, err) : pull_raw(s, text, &len, err);
        /* A scanner gone mid-pause still hands over what it typed. */
        if (rc <= 0 && line_buffer_take_idle(&e->line, ev, rc == 0 ? e->pause_ms : 0)) {
            report_skipped(s);
            return 1;
        }
        if (rc <= 0)
            return rc;
        if (len > 0)
            line_buffer_feed(&e->line, text, len);
    }
}

static int evdev_wait_ms(const struct dk_scanner *s)
{
    const struct evdev_scanner *e = s->impl;

    return line_buffer_wait_ms(&e->line, e->pause_ms);
}

static void evdev_close(struct dk_scanner *s)
{
    struct evdev_scanner *e = s->impl;

    if (e == NULL)
        return;
    if (e->grabbed)
        libevdev_grab(e->dev, LIBEVDEV_UNGRAB);
    libevdev_free(e->dev);
    if (e->fd >= 0)
        close(e->fd);
    free(e);
    s->impl = NULL;
}

static const struct dk_scanner_ops evdev_ops = {
    .fd = evdev_fd,
    .next = evdev_next,
    .wait_ms = evdev_wait_ms,
    .close = evdev_close,
};

/* A keyboard has one Enter key, so cr, lf and crlf all mean it (the decoder
 * types it as "\r"). */
static void setup_line(struct evdev_scanner *e, enum dk_terminator term)
{
    switch (term) {
    case DK_TERM_CR:
    case DK_TERM_LF:
    case DK_TERM_CRLF:
        line_buffer_init(&e->line, DK_TERM_CR);
        break;
    case DK_TERM_TAB:
        line_buffer_init(&e->line, DK_TERM_TAB);
        break;
    case DK_TERM_NONE:
        line_buffer_init(&e->line, DK_TERM_NONE);
        e->drop_terminators = true;
        break;
    }
}

/* Does the input device dev fit what cfg asks for?  Only devices with
 * keys (EV_KEY with KEY_ENTER) qualify: a wedge scanner's USB interface
 * often has a second node for consumer or system control keys. */
static bool device_matches(struct libevdev *dev, const struct dk_scanner_config *cfg)
{
    const char *name = libevdev_get_name(dev);

    if (!libevdev_has_event_code(dev, EV_KEY, KEY_ENTER))
        return false;
    if (cfg->vid >= 0 && libevdev_get_id_vendor(dev) != cfg->vid)
        return false;
    if (cfg->pid >= 0 && libevdev_get_id_product(dev) != cfg->pid)
        return false;
    return cfg->match_name[0] == '\0' || (name != NULL && strstr(name, cfg->match_name));
}

/* Open path as an input device into e (fd and dev).  -errno. */
static int open_node(struct evdev_scanner *e, const char *path)
{
    int rc;

    e->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (e->fd < 0)
        return -errno;
    rc = libevdev_new_from_fd(e->fd, &e->dev);
    if (rc < 0) {
        close(e->fd);
        e->fd = -1;
        e->dev = NULL;
    }
    return rc;
}

static void close_node(struct evdev_scanner *e)
{
    libevdev_free(e->dev);
    e->dev = NULL;
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
}

static int is_event_node(const struct dirent *d)
{
    return strncmp(d->d_name, "event", 5) == 0;
}

/* "vid 05e0 pid any name 'Symbol'" for messages. */
static void describe_match(const struct dk_scanner_config *cfg, char *buf, size_t size)
{
    char vid[12] = "any";
    char pid[12] = "any";

    if (cfg->vid >= 0)
        snprintf(vid, sizeof(vid), "%04x", (unsigned)cfg->vid);
    if (cfg->pid >= 0)
        snprintf(pid, sizeof(pid), "%04x", (unsigned)cfg->pid);
    snprintf(buf, size, "vid %s pid %s name '%s'", vid, pid, cfg->match_name);
}

/* Find the first /dev/input/event* (in number order) that matches cfg and
 * leave it open in e, its path in s->device. */
static int find_node(struct dk_scanner *s, struct evdev_scanner *e,
                     const struct dk_scanner_config *cfg, struct dk_error *err)
{
    struct dirent **names = NULL;
    int n = scandir("/dev/input", &names, is_event_node, versionsort);
    int unreadable = 0;
    char wanted[256];

    for (int i = 0; i < n && e->dev == NULL; i++) {
        char path[DK_PATH_MAX];

        snprintf(path, sizeof(path), "/dev/input/%s", names[i]->d_name);
        if (open_node(e, path) != 0)
            unreadable++;
        else if (device_matches(e->dev, cfg))
            snprintf(s->device, sizeof(s->device), "%s", path);
        else
            close_node(e);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (e->dev != NULL)
        return 0;
    describe_match(cfg, wanted, sizeof(wanted));
    if (unreadable > 0)
        return dk_error_set(err, -ENODEV, "cannot find scanner %s: no input device has %s; "
                            "%d could not be opened (is the daemon in the input group?)",
                            cfg->name, wanted, unreadable);
    return dk_error_set(err, -ENODEV, "cannot find scanner %s: no input device has %s",
                        cfg->name, wanted);
}

/* Take the device for ourselves.  Without the grab every scan would also
 * be typed into the browser or a console. */
static int grab_node(struct dk_scanner *s, struct evdev_scanner *e, struct dk_error *err)
{
    int rc;

    if (!libevdev_has_event_type(e->dev, EV_KEY))
        return dk_error_set(err, DK_EINPUT, "cannot use scanner %s: %s (%s) has no keys",
                            s->name, s->device, libevdev_get_name(e->dev));
    rc = libevdev_grab(e->dev, LIBEVDEV_GRAB);
    if (rc < 0)
        return dk_error_set(err, rc, "cannot grab scanner %s on %s: %s (is another program, "
                            "or a second dropkiosk, holding it?)", s->name, s->device,
                            strerror(-rc));
    e->grabbed = true;
    log_info("scanner %s is %s (usb %04x:%04x) on %s, layout %s", s->name,
             libevdev_get_name(e->dev), libevdev_get_id_vendor(e->dev),
             libevdev_get_id_product(e->dev), s->device, evdev_decoder_layout_name(&e->dec));
    return 0;
}

/* A named device: an input node, or a recorded stream (file or FIFO). */
static int open_path(struct dk_scanner *s, struct evdev_scanner *e,
                     const struct dk_scanner_config *cfg, struct dk_error *err)
{
    struct stat st;
    int rc;

    if (stat(cfg->device, &st) != 0)
        return dk_error_set(err, -errno, "cannot open scanner %s: %s: %s", cfg->name,
                            cfg->device, strerror(errno));
    if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) {
        e->fifo = S_ISFIFO(st.st_mode);
        /* Non-blocking, so a FIFO with no writer yet opens at once. */
        e->fd = open(cfg->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (e->fd < 0)
            return dk_error_set(err, -errno, "cannot open scanner %s: %s: %s", cfg->name,
                                cfg->device, strerror(errno));
        log_debug("scanner %s reads recorded key events from %s, layout %s", s->name,
                 cfg->device, evdev_decoder_layout_name(&e->dec));
        return 0;
    }
    rc = open_node(e, cfg->device);
    if (rc < 0)
        return dk_error_set(err, rc, "cannot open scanner %s: %s: %s", cfg->name,
                            cfg->device, strerror(-rc));
    /* The path wins; the ids and name are only checked, so that a by-path
     * link that now points at another device is noticed. */
    if ((cfg->vid >= 0 || cfg->pid >= 0 || cfg->match_name[0] != '\0') &&
        !device_matches(e->dev, cfg))
        log_warn("scanner %s: %s is '%s' (usb %04x:%04x), not the vid, pid or name configured; "
                 "using it anyway", cfg->name, cfg->device, libevdev_get_name(e->dev),
                 libevdev_get_id_vendor(e->dev), libevdev_get_id_product(e->dev));
    return 0;
}

int scanner_evdev_open(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                       struct dk_error *err)
{
    struct evdev_scanner *e = calloc(1, sizeof(*e));
    int rc;

    if (e == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    e->fd = -1;
    s->impl = e;
    s->ops = &evdev_ops;
    if (!evdev_decoder_init(&e->dec, cfg->layout))
        return dk_error_set(err, DK_EINPUT, "scanner %s: unknown keyboard layout '%s'",
                            cfg->name, cfg->layout);
    e->pause_ms = cfg->char_timeout_ms;
    setup_line(e, cfg->terminator);

    if (cfg->device[0] != '\0')
        rc = open_path(s, e, cfg, err);
    else
        rc = find_node(s, e, cfg, err);
    if (rc != 0 || e->dev == NULL)
        return rc;
    return grab_node(s, e, err);
}
