#include "scanner_set.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

/* How often an unplugged scanner is looked for when nothing wakes the
 * search earlier, so that plugging it in starts using it within a second. */
#define DK_REOPEN_MS 500

struct dk_scanner_set {
    const struct dk_config *cfg;
    struct dk_scanner *slots[DK_MAX_SCANNERS]; /* NULL while unplugged */
    bool gone_for_good[DK_MAX_SCANNERS];       /* standard input at its end */
    uint64_t next_try_ms[DK_MAX_SCANNERS];
    int inotify_fd;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A device that is not there (yet) is waited for; anything else wrong with
 * a scanner's settings stops the kiosk at start. */
static bool absent(int rc)
{
    return rc == -ENOENT || rc == -ENODEV || rc == -ENXIO || rc == -EIO || rc == -EBUSY;
}

/* Watch the folder a device node or link appears in.  A watch that cannot
 * be set only costs speed: the half-second retry still finds the device. */
static void watch_folder_of(struct dk_scanner_set *set, const struct dk_scanner_config *sc)
{
    char dir[DK_PATH_MAX];
    const char *slash = strrchr(sc->device, '/');

    if (sc->kind == DK_SCANNER_EVDEV && sc->device[0] == '\0')
        snprintf(dir, sizeof(dir), "/dev/input");
    else if (slash != NULL && slash != sc->device)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - sc->device), sc->device);
    else
        return;
    if (inotify_add_watch(set->inotify_fd, dir, IN_CREATE | IN_ATTRIB | IN_MOVED_TO) < 0)
        log_debug("cannot watch %s for scanners: %s", dir, strerror(errno));
}

int scanner_set_open(const struct dk_config *cfg, struct dk_scanner_set **out,
                     struct dk_error *err)
{
    struct dk_scanner_set *set = calloc(1, sizeof(*set));

    if (set == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    set->cfg = cfg;
    set->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    for (int i = 0; i < cfg->n_scanners; i++) {
        int rc = scanner_open(&cfg->scanners[i], &set->slots[i], err);

        if (set->inotify_fd >= 0 && cfg->scanners[i].kind != DK_SCANNER_STDIN)
            watch_folder_of(set, &cfg->scanners[i]);
        if (rc != 0 && !absent(rc)) {
            scanner_set_close(set);
            return rc;
        }
        if (rc != 0) {
            log_warn("%s; waiting for it to be plugged in", err->msg);
            set->next_try_ms[i] = mono_ms() + DK_REOPEN_MS;
        }
    }
    *out = set;
    return 0;
}

void scanner_set_close(struct dk_scanner_set *set)
{
    if (set == NULL)
        return;
    for (int i = 0; i < set->cfg->n_scanners; i++)
        scanner_close(set->slots[i]);
    if (set->inotify_fd >= 0)
        close(set->inotify_fd);
    free(set);
}

int scanner_set_pollfds(const struct dk_scanner_set *set, struct pollfd *fds)
{
    int n = set->cfg->n_scanners;

    for (int i = 0; i < n; i++) {
        int fd = set->slots[i] != NULL ? scanner_fd(set->slots[i]) : -1;

        fds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
    }
    fds[n] = (struct pollfd){.fd = set->inotify_fd, .events = POLLIN};
    return n + 1;
}

int scanner_set_timeout_ms(const struct dk_scanner_set *set)
{
    int wait = -1;

    uint64_t now = mono_ms();

    for (int i = 0; i < set->cfg->n_scanners; i++) {
        int w = -1;

        if (set->slots[i] != NULL)
            w = scanner_wait_ms(set->slots[i]);
        else if (!set->gone_for_good[i])
            w = set->next_try_ms[i] > now ? (int)(set->next_try_ms[i] - now) : 0;
        if (w >= 0 && (wait < 0 || w < wait))
            wait = w;
    }
    return wait;
}

static void drop(struct dk_scanner_set *set, int i, bool for_good)
{
    scanner_close(set->slots[i]);
    set->slots[i] = NULL;
    set->gone_for_good[i] = for_good;
    set->next_try_ms[i] = mono_ms() + DK_REOPEN_MS;
}

static void read_slot(struct dk_scanner_set *set, int i, dk_scan_fn fn, void *user)
{
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    int rc;

    while ((rc = scanner_next(set->slots[i], &ev, &err)) == 1)
        fn(&ev, user);
    if (rc == DK_ENODATA) {
        log_info("%s", err.msg);
        drop(set, i, true);
    } else if (rc < 0) {
        log_warn("%s; the kiosk goes on and uses it again when it is back", err.msg);
        drop(set, i, false);
    }
}

static void try_reopen(struct dk_scanner_set *set, int i)
{
    struct dk_error err = {{0}};

    if (set->gone_for_good[i] || mono_ms() < set->next_try_ms[i])
        return;
    if (scanner_open(&set->cfg->scanners[i], &set->slots[i], &err) != 0) {
        log_debug("%s", err.msg);
        set->next_try_ms[i] = mono_ms() + DK_REOPEN_MS;
    }
}

/* Something appeared where devices live: look for every missing scanner
 * now rather than at its next retry. */
static void on_inotify(struct dk_scanner_set *set)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    while (read(set->inotify_fd, buf, sizeof(buf)) > 0)
        continue;
    for (int i = 0; i < set->cfg->n_scanners; i++)
        set->next_try_ms[i] = 0;
}

void scanner_set_service(struct dk_scanner_set *set, const struct pollfd *fds, dk_scan_fn fn,
                         void *user)
{
    int n = set->cfg->n_scanners;

    if (fds[n].revents & POLLIN)
        on_inotify(set);
    /* Every open scanner is asked, not only those with input: one waiting
     * on a pause to end its scan needs the call too. */
    for (int i = 0; i < n; i++) {
        if (set->slots[i] != NULL)
            read_slot(set, i, fn, user);
        else
            try_reopen(set, i);
    }
}

bool scanner_set_alive(const struct dk_scanner_set *set)
{
    for (int i = 0; i < set->cfg->n_scanners; i++) {
        if (set->slots[i] != NULL || !set->gone_for_good[i])
            return true;
    }
    return false;
}

bool scanner_set_connected(const struct dk_scanner_set *set, int i)
{
    return set->slots[i] != NULL;
}
