/* The camera scanner back end: a V4L2 camera ([scanner NAME] type = camera,
 * device = /dev/video0) read and decoded by zbar's processor.
 *
 * Threads.  zbar's processor runs its own thread that captures frames,
 * decodes them and calls camera_on_frame with each frame's symbols.  That
 * handler writes each new scan as one fixed-size record into a pipe; the
 * read end is the descriptor the kiosk loop polls.  A record is smaller
 * than PIPE_BUF, so each write is atomic and every read of one record's
 * size gets exactly one record.  The dedup state is touched only by zbar's
 * thread; the kiosk side touches only the read end.
 *
 * One label, one scan.  The camera sees a label held in front of it many
 * times a second.  A text equal to one emitted before (up to
 * CAMERA_SEEN_MAX labels at once), seen again within CAMERA_HOLD_MS of its
 * previous sighting, is the same presentation and is dropped; each
 * sighting restarts the hold, so a label left in view stays one scan
 * however long it stays.  The kiosk's repeat window (drivers/scanner.c)
 * then judges deliberate rescans as it does for every scanner.
 *
 * Symbologies are the ones barcode_image.h lists, for the same reasons.
 * Only what zbar reads in one frame is used: the retry passes of
 * barcode_image.c are too slow for 30 frames a second, and the next frame
 * is another chance anyway. */
#include "scanner_backend.h"

#include "log.h"

#include <zbar.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A label out of view this long and shown again is a new scan. */
#define CAMERA_HOLD_MS 1000

struct camera_record {
    char symbology[16];
    char text[DK_SCAN_EVENT_MAX + 1];
    size_t len;
    bool overflow;
    uint64_t mono_ns;
};

_Static_assert(sizeof(struct camera_record) <= PIPE_BUF,
               "a camera record must be written to the pipe atomically");

/* Labels held in view at once that are still told apart: an asset tag and
 * a serial sticker side by side are two, each one scan. */
#define CAMERA_SEEN_MAX 8

struct camera_sighting {
    char text[DK_SCAN_EVENT_MAX + 1];
    size_t len;
    zbar_symbol_type_t type;
    uint64_t last_ns; /* 0: a free slot */
};

struct camera_scanner {
    zbar_processor_t *proc;
    int rd; /* the kiosk loop's end */
    int wr; /* zbar's thread's end */

    /* Owned by zbar's thread once the processor is active. */
    struct camera_sighting seen[CAMERA_SEEN_MAX];
    const char *name; /* for log messages */
};

static const zbar_symbol_type_t camera_symbologies[] = {
    ZBAR_EAN13, ZBAR_EAN8, ZBAR_UPCE, ZBAR_CODE128, ZBAR_CODE39, ZBAR_QRCODE,
};

static uint64_t mono_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether this sighting continues a label already in view (and so is no
 * new scan).  Every label seen within the hold time is remembered, so two
 * labels in one frame do not take turns being "new". */
static bool camera_same_presentation(struct camera_scanner *c,
                                     zbar_symbol_type_t type, const char *data,
                                     size_t len, uint64_t now)
{
    const uint64_t hold = (uint64_t)CAMERA_HOLD_MS * 1000000u;
    struct camera_sighting *slot = &c->seen[0];

    for (int i = 0; i < CAMERA_SEEN_MAX; i++) {
        struct camera_sighting *e = &c->seen[i];
        bool live = e->last_ns != 0 && now - e->last_ns < hold;

        if (live && e->type == type && e->len == len && memcmp(e->text, data, len) == 0) {
            e->last_ns = now;
            return true;
        }
        /* Reuse a free or expired slot, else the oldest one. */
        if (!live || (slot->last_ns != 0 && e->last_ns < slot->last_ns))
            slot = e;
    }
    memcpy(slot->text, data, len);
    slot->len = len;
    slot->type = type;
    slot->last_ns = now;
    return false;
}

static void camera_send(struct camera_scanner *c, const zbar_symbol_t *s,
                        uint64_t now)
{
    struct camera_record rec;
    const char *data = zbar_symbol_get_data(s);
    size_t len = zbar_symbol_get_data_length(s);
    ssize_t n;

    memset(&rec, 0, sizeof(rec));
    /* zbar drops a leading FNC1 and says so only in a modifier; without it
     * a GS1-128 label would read as one run of digits. */
    if (zbar_symbol_get_modifiers(s) & (1u << ZBAR_MOD_GS1))
        snprintf(rec.symbology, sizeof(rec.symbology), "%s", "GS1");
    else
        snprintf(rec.symbology, sizeof(rec.symbology), "%s",
                 zbar_get_symbol_name(zbar_symbol_get_type(s)));
    rec.overflow = len > DK_SCAN_EVENT_MAX;
    rec.len = rec.overflow ? DK_SCAN_EVENT_MAX : len;
    memcpy(rec.text, data, rec.len);
    rec.mono_ns = now;
    do {
        n = write(c->wr, &rec, sizeof(rec));
    } while (n < 0 && errno == EINTR);
    /* A full pipe means the kiosk loop has left a hundred scans unread; the
     * person will scan again, and blocking here would stall the camera. */
    if (n < 0)
        log_warn("scanner %s: dropped a camera scan: %s", c->name,
                 strerror(errno));
}

/* zbar's thread: called with each decoded frame. */
static void camera_on_frame(zbar_image_t *image, const void *user)
{
    struct camera_scanner *c = (struct camera_scanner *)user;
    uint64_t now = mono_now_ns();

    for (const zbar_symbol_t *s = zbar_image_first_symbol(image); s != NULL;
         s = zbar_symbol_next(s)) {
        size_t len = zbar_symbol_get_data_length(s);

        /* zbar's video cache marks a symbol not yet seen in enough frames
         * with a negative count: not yet a reading to act on. */
        if (zbar_symbol_get_count(s) < 0)
            continue;
        if (camera_same_presentation(
                c, zbar_symbol_get_type(s), zbar_symbol_get_data(s),
                len > DK_SCAN_EVENT_MAX ? DK_SCAN_EVENT_MAX : len, now))
            continue;
        camera_send(c, s, now);
    }
}

static int camera_fd(const struct dk_scanner *s)
{
    const struct camera_scanner *c = s->impl;

    return c->rd;
}

static int camera_next(struct dk_scanner *s, struct dk_scan_event *ev,
                       struct dk_error *err)
{
    struct camera_scanner *c = s->impl;
    struct camera_record rec;
    ssize_t n;

    do {
        n = read(c->rd, &rec, sizeof(rec));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n < 0)
        return dk_error_set(err, -errno, "cannot read scanner %s on %s: %s",
                            s->name, s->device, strerror(errno));
    if (n != (ssize_t)sizeof(rec))
        return dk_error_set(err, -ENODEV, "scanner %s on %s is gone", s->name,
                            s->device);
    memcpy(ev->text, rec.text, rec.len);
    ev->text[rec.len] = '\0';
    ev->len = rec.len;
    ev->overflow = rec.overflow;
    snprintf(ev->symbology, sizeof(ev->symbology), "%s", rec.symbology);
    ev->mono_ns = rec.mono_ns;
    return 1;
}

static void camera_close(struct dk_scanner *s)
{
    struct camera_scanner *c = s->impl;

    if (c == NULL)
        return;
    /* The processor first: destroying it stops and joins zbar's thread, so
     * nothing writes to the pipe once it is closed. */
    if (c->proc != NULL) {
        zbar_processor_set_active(c->proc, 0);
        zbar_processor_destroy(c->proc);
    }
    if (c->rd >= 0)
        close(c->rd);
    if (c->wr >= 0)
        close(c->wr);
    free(c);
    s->impl = NULL;
}

static const struct dk_scanner_ops camera_ops = {
    .fd = camera_fd,
    .next = camera_next,
    .wait_ms = NULL,
    .close = camera_close,
};

/* zbar's own message, on one line: it spreads its reasons over several. */
static void zbar_reason(const zbar_processor_t *proc, char *out, size_t size)
{
    const char *msg = zbar_processor_error_string(proc, 0);
    size_t n = 0;
    bool space = false;

    for (const char *p = msg != NULL ? msg : "unknown zbar error"; *p != '\0';
         p++) {
        bool blank = *p == '\n' || *p == ' ' || *p == '\t';

        if (blank) {
            space = n > 0;
            continue;
        }
        if (space && n + 1 < size)
            out[n++] = ' ';
        space = false;
        if (n + 1 < size)
            out[n++] = *p;
    }
    out[n] = '\0';
}

static void camera_configure(zbar_processor_t *proc)
{
    zbar_processor_set_config(proc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    for (size_t i = 0;
         i < sizeof(camera_symbologies) / sizeof(camera_symbologies[0]); i++)
        zbar_processor_set_config(proc, camera_symbologies[i], ZBAR_CFG_ENABLE,
                                  1);
    /* As in barcode_image.c: QR bytes as encoded, not re-encoded to UTF-8. */
    zbar_processor_set_config(proc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
}

/* TODO(camera): when the camera is unplugged while open, report -ENODEV
 * from next, because today zbar's thread stops quietly and the kiosk sees
 * a scanner that never scans; zbar 0.23's processor offers no callback for
 * that, so it needs a watch on the device node. */
int scanner_camera_open(struct dk_scanner *s,
                        const struct dk_scanner_config *cfg,
                        struct dk_error *err)
{
    struct camera_scanner *c = calloc(1, sizeof(*c));
    int fds[2];
    int probe;
    char why[DK_ERROR_MAX];

    if (c == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    c->rd = -1;
    c->wr = -1;
    c->name = s->name;
    s->impl = c;
    s->ops = &camera_ops;

    /* zbar's message for a missing device is three lines of internals;
     * opening it ourselves first gives the operator the usual one. */
    probe = open(cfg->device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (probe < 0)
        return dk_error_set(err, -errno, "cannot open scanner %s: %s: %s",
                            cfg->name, cfg->device, strerror(errno));
    close(probe);

    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return dk_error_set(err, -errno, "cannot open scanner %s: pipe: %s",
                            cfg->name, strerror(errno));
    c->rd = fds[0];
    c->wr = fds[1];

    c->proc = zbar_processor_create(1);
    if (c->proc == NULL)
        return dk_error_set(err, -ENOMEM,
                            "cannot open scanner %s: out of memory", cfg->name);
    camera_configure(c->proc);
    zbar_processor_set_data_handler(c->proc, camera_on_frame, c);
    if (zbar_processor_init(c->proc, cfg->device, 0) != 0) {
        zbar_reason(c->proc, why, sizeof(why));
        return dk_error_set(err, -ENODEV, "cannot open scanner %s: %s: %s",
                            cfg->name, cfg->device, why);
    }
    if (zbar_processor_set_active(c->proc, 1) != 0) {
        zbar_reason(c->proc, why, sizeof(why));
        return dk_error_set(err, -EIO, "cannot start scanner %s on %s: %s",
                            cfg->name, cfg->device, why);
    }
    return 0;
}
