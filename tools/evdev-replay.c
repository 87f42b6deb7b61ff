/* evdev-replay: play a keyboard-wedge scanner recording (tools/evdev-record)
 * into a FIFO or a file that a dropkiosk evdev scanner reads, with the
 * recorded timing, so the real back end can be tested without the device.
 *
 *   evdev-replay FILE TARGET [--speed X]
 *
 * FILE holds raw struct input_event records as the kernel delivered them,
 * so a recording plays back on the architecture it was made on.
 *
 * TODO(tools): when recordings travel between 64-bit and 32-bit machines,
 * give the file a header naming the record size, because struct
 * input_event's timestamp is two longs and differs between the ABIs.  X scales
 * the time between events (2 = twice as fast); 0 writes them at once. */
#include "fileio.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct options {
    const char *file;
    const char *target;
    double speed;
};

static void usage(FILE *to)
{
    fprintf(to, "usage: evdev-replay FILE TARGET [--speed X]\n"
                "Write the key events recorded in FILE to TARGET (a FIFO or a file) with\n"
                "their recorded timing divided by X (default 1; 0 = as fast as possible).\n");
}

static bool parse_speed(const char *text, double *speed)
{
    char *end = NULL;

    errno = 0;
    *speed = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && isfinite(*speed) && *speed >= 0;
}

/* 0 to go on, 1 when --help or --version has been answered, 2 for bad
 * usage (said on stderr). */
static int parse_args(int argc, char **argv, struct options *o)
{
    int positional = 0;

    o->speed = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--version") == 0) {
            printf("evdev-replay %s (%s)\n", DK_VERSION, DK_COMMIT);
            return 1;
        } else if (strcmp(a, "--speed") == 0 && i + 1 < argc) {
            if (!parse_speed(argv[++i], &o->speed)) {
                fprintf(stderr, "evdev-replay: bad --speed '%s': give a number, 0 or more\n",
                        argv[i]);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "evdev-replay: unknown option '%s'\n", a);
            return 2;
        } else if (positional == 0) {
            o->file = a;
            positional++;
        } else if (positional == 1) {
            o->target = a;
            positional++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (positional != 2) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* A FIFO is opened as it is (waiting for its reader); anything else is a
 * file created or emptied for the stream. */
static int open_target(const char *path)
{
    struct stat st;

    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        return open(path, O_WRONLY | O_CLOEXEC);
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static double event_seconds(const struct input_event *ev)
{
    return (double)ev->input_event_sec + (double)ev->input_event_usec / 1e6;
}

/* Sleep until `offset` seconds after start (CLOCK_MONOTONIC); a recording
 * whose clock went backwards plays that event at once. */
static void wait_until(const struct timespec *start, double offset)
{
    struct timespec at = *start;
    time_t whole;

    if (offset <= 0)
        return;
    whole = (time_t)offset;
    at.tv_sec += whole;
    at.tv_nsec += (long)((offset - (double)whole) * 1e9);
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
        continue;
}

/* Copy the events of in to out with their timing.  0 or -errno; *count
 * says how many were written, *trailing how many bytes at the end made no
 * whole event. */
static int replay(int in, int out, double speed, size_t *count, size_t *trailing)
{
    struct input_event ev;
    struct timespec start;
    double first = 0;
    size_t have = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        ssize_t n = read(in, (char *)&ev + have, sizeof(ev) - have);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        have += (size_t)n;
        if (have < sizeof(ev))
            continue;
        have = 0;
        if (*count == 0)
            first = event_seconds(&ev);
        if (speed > 0)
            wait_until(&start, (event_seconds(&ev) - first) / speed);
        if (file_write_all(out, &ev, sizeof(ev)) != 0)
            return -errno;
        (*count)++;
    }
    *trailing = have;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    size_t count = 0;
    size_t trailing = 0;
    int in = -1;
    int out = -1;
    int status = parse_args(argc, argv, &o);
    int rc;

    if (status != 0)
        return status == 1 ? 0 : status;
    /* A reader that goes away is reported as EPIPE, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    status = 2;
    in = open(o.file, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        log_error("cannot open recording %s: %s", o.file, strerror(errno));
        goto out;
    }
    status = 3;
    out = open_target(o.target);
    if (out < 0) {
        log_error("cannot open %s: %s", o.target, strerror(errno));
        goto out;
    }
    rc = replay(in, out, o.speed, &count, &trailing);
    if (rc != 0) {
        log_error("cannot replay %s into %s after %zu events: %s", o.file, o.target, count,
                  strerror(-rc));
        goto out;
    }
    status = 0;
    if (trailing != 0) {
        log_error("%s: %zu bytes at the end make no whole event (a recording from another "
                  "architecture, or cut short?)", o.file, trailing);
        status = 2;
    }
    printf("evdev-replay: %zu events from %s to %s\n", count, o.file, o.target);
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return status;
}
