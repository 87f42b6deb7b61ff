/* evdev-record: record what a keyboard-wedge scanner sends, for tests and
 * for bug reports about scanners we do not have.
 *
 *   evdev-record DEVICE FILE
 *
 * Grabs DEVICE (/dev/input/eventN or a /dev/input/by-id/ link) so that the
 * scans go nowhere else, and writes its raw struct input_event stream to
 * FILE until Ctrl-C (SIGINT) or SIGTERM.  tools/evdev-replay plays FILE
 * back into a FIFO that a dropkiosk evdev scanner reads. */
#include "fileio.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Without SA_RESTART, so that poll returns EINTR and the loop ends. */
static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Write every event libevdev has for us now.  The state delta after a
 * SYN_DROPPED is written too: a replay then sees the keys as they ended up.
 * 0, or -errno (-ENODEV when the scanner was unplugged). */
static int drain(struct libevdev *dev, int out, unsigned long *count)
{
    unsigned flags = LIBEVDEV_READ_FLAG_NORMAL;

    for (;;) {
        struct input_event ev;
        int rc = libevdev_next_event(dev, flags, &ev);

        if (rc == -EAGAIN && flags == LIBEVDEV_READ_FLAG_SYNC) {
            flags = LIBEVDEV_READ_FLAG_NORMAL;
            continue;
        }
        if (rc == -EAGAIN)
            return 0;
        if (rc < 0)
            return rc;
        if (rc == LIBEVDEV_READ_STATUS_SYNC)
            flags = LIBEVDEV_READ_FLAG_SYNC;
        if (file_write_all(out, &ev, sizeof(ev)) != 0)
            return -errno;
        (*count)++;
    }
}

static int record(struct libevdev *dev, int in, int out, unsigned long *count)
{
    while (!stopping) {
        struct pollfd pfd = {.fd = in, .events = POLLIN};
        int rc;

        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        rc = drain(dev, out, count);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct libevdev *dev = NULL;
    unsigned long count = 0;
    int in = -1;
    int out = -1;
    int status = 3;
    int rc;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: evdev-record DEVICE FILE\n"
               "Grab the input device DEVICE and write its raw key events to FILE until\n"
               "interrupted (Ctrl-C).\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("evdev-record %s (%s)\n", DK_VERSION, DK_COMMIT);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: evdev-record DEVICE FILE\n");
        return 2;
    }
    catch_signals();
    in = open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) {
        log_error("cannot open %s: %s", argv[1], strerror(errno));
        status = errno == ENOENT ? 2 : 3;
        goto out;
    }
    rc = libevdev_new_from_fd(in, &dev);
    if (rc < 0) {
        log_error("cannot read %s as an input device: %s", argv[1], strerror(-rc));
        status = 2;
        goto out;
    }
    /* Grabbed, so that the test scans are not typed into this terminal. */
    rc = libevdev_grab(dev, LIBEVDEV_GRAB);
    if (rc < 0) {
        log_error("cannot grab %s: %s (is a dropkiosk using it?)", argv[1], strerror(-rc));
        goto out;
    }
    out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        log_error("cannot create %s: %s", argv[2], strerror(errno));
        goto out;
    }
    printf("recording %s: %s, usb %04x:%04x; scan, then Ctrl-C\n", argv[1],
           libevdev_get_name(dev), libevdev_get_id_vendor(dev), libevdev_get_id_product(dev));
    fflush(stdout);
    rc = record(dev, in, out, &count);
    if (rc == -ENODEV)
        log_warn("%s was unplugged; keeping what was recorded", argv[1]);
    else if (rc != 0)
        log_error("cannot record %s: %s", argv[1], strerror(-rc));
    if (rc == 0 || rc == -ENODEV)
        status = 0;
    printf("recorded %lu events to %s\n", count, argv[2]);
out:
    if (dev != NULL && in >= 0)
        libevdev_grab(dev, LIBEVDEV_UNGRAB);
    libevdev_free(dev);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return status;
}
