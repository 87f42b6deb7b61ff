/* The terminal (stdin) and serial tty (CDC-ACM, RS-232) scanner back ends.
 * Both read a byte stream and cut it into scans at a terminator; they differ
 * in how the descriptor is opened and set up. */
#include "scanner_backend.h"

#include "scanner_line.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct tty_scanner {
    int fd;
    bool owns_fd;
    int pause_ms; /* ends a scan when there is no terminator */
    struct dk_line_buffer line;
};

/* Each speed config_serial_speed lists, with its termios constant (the
 * config refuses any other, naming its line; test_scanner.c checks that
 * every one listed is here). */
static const struct {
    int baud;
    speed_t speed;
} speeds[] = {
    {1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
    {19200, B19200},   {38400, B38400},   {57600, B57600},   {115200, B115200},
    {230400, B230400}, {460800, B460800}, {921600, B921600},
};

static bool speed_for(int baud, speed_t *out)
{
    for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
        if (speeds[i].baud == baud) {
            *out = speeds[i].speed;
            return true;
        }
    }
    return false;
}

/* Raw mode: no echo, no line editing, no CR/LF translation, so the bytes the
 * scanner sends arrive unchanged and the terminator stays ours to find. */
static int setup_serial(int fd, const struct dk_scanner_config *cfg, struct dk_error *err)
{
    struct termios tio;
    speed_t speed;

    if (!speed_for(cfg->speed, &speed))
        return dk_error_set(err, DK_EINPUT, "scanner %s: unsupported speed %d", cfg->name,
                            cfg->speed);
    if (tcgetattr(fd, &tio) != 0)
        return dk_error_set(err, -errno, "cannot set up scanner %s: %s is not a tty: %s",
                            cfg->name, cfg->device, strerror(errno));
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, speed);
    cfsetospeed(&tio, speed);
    if (tcsetattr(fd, TCSANOW, &tio) != 0)
        return dk_error_set(err, -errno, "cannot set up scanner %s on %s: %s", cfg->name,
                            cfg->device, strerror(errno));
    /* Bytes from before we opened belong to no scan we can trust. */
    tcflush(fd, TCIFLUSH);
    return 0;
}

static int tty_fd(const struct dk_scanner *s)
{
    const struct tty_scanner *t = s->impl;

    return t->fd;
}

/* Standard input stays blocking: it is usually the same open terminal as
 * standard output, and O_NONBLOCK on it would make the kiosk's own prompts
 * fail with EAGAIN on a slow terminal (and stay set after exit).  So ask
 * poll first and read only what is there. */
static bool readable_now(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0) > 0;
}

static int tty_next(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err)
{
    struct tty_scanner *t = s->impl;
    char chunk[DK_SCAN_EVENT_MAX];
    ssize_t n;

    for (;;) {
        if (line_buffer_take(&t->line, ev))
            return 1;
        if (!t->owns_fd && !readable_now(t->fd))
            return line_buffer_take_idle(&t->line, ev, t->pause_ms) ? 1 : 0;
        n = read(t->fd, chunk, sizeof(chunk));
        if (n > 0) {
            line_buffer_feed(&t->line, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return line_buffer_take_idle(&t->line, ev, t->pause_ms) ? 1 : 0;
        /* The end of standard input is for good; EOF or EIO on a tty means
         * its other end is gone (a USB scanner unplugged, a pty master
         * closed), which may come back. */
        if (n == 0 && !t->owns_fd)
            return dk_error_set(err, DK_ENODATA, "scanner %s: standard input has ended",
                                s->name);
        if (n == 0 || errno == EIO)
            return dk_error_set(err, -ENODEV, "scanner %s on %s is gone", s->name, s->device);
        return dk_error_set(err, -errno, "cannot read scanner %s on %s: %s", s->name,
                            s->device, strerror(errno));
    }
}

static int tty_wait_ms(const struct dk_scanner *s)
{
    const struct tty_scanner *t = s->impl;

    return line_buffer_wait_ms(&t->line, t->pause_ms);
}

static void tty_close(struct dk_scanner *s)
{
    struct tty_scanner *t = s->impl;

    if (t == NULL)
        return;
    if (t->owns_fd && t->fd >= 0)
        close(t->fd);
    free(t);
    s->impl = NULL;
}

static const struct dk_scanner_ops tty_ops = {
    .fd = tty_fd,
    .next = tty_next,
    .wait_ms = tty_wait_ms,
    .close = tty_close,
};

static struct tty_scanner *tty_new(struct dk_scanner *s)
{
    struct tty_scanner *t = calloc(1, sizeof(*t));

    if (t != NULL) {
        t->fd = -1;
        s->impl = t;
        s->ops = &tty_ops;
    }
    return t;
}

int scanner_tty_open_serial(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                            struct dk_error *err)
{
    struct tty_scanner *t = tty_new(s);

    if (t == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    t->fd = open(cfg->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0)
        return dk_error_set(err, -errno, "cannot open scanner %s: %s: %s", cfg->name,
                            cfg->device, strerror(errno));
    t->owns_fd = true;
    t->pause_ms = cfg->char_timeout_ms;
    line_buffer_init(&t->line, cfg->terminator);
    return setup_serial(t->fd, cfg, err);
}

int scanner_tty_open_stdin(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                           struct dk_error *err)
{
    struct tty_scanner *t = tty_new(s);

    (void)cfg;
    if (t == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    if (fcntl(STDIN_FILENO, F_GETFL) < 0)
        return dk_error_set(err, -errno, "cannot use standard input as a scanner: %s",
                            strerror(errno));
    t->fd = STDIN_FILENO;
    line_buffer_init(&t->line, DK_TERM_LF);
    /* A terminal sends CR LF in raw mode and LF in cooked mode; strip both. */
    t->line.strip_cr = true;
    return 0;
}
