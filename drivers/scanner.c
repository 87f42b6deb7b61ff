/* The scanner back ends behind drivers/scanner.h.  Both read a byte stream
 * and cut it into scans at a terminator; they differ in how the descriptor
 * is opened and set up. */
#include "scanner.h"

#include "log.h"
#include "scanner_line.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct dk_scanner {
    int fd;
    bool owns_fd;
    char name[64];
    char device[DK_PATH_MAX];
    struct dk_line_buffer line;
};

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

static int open_serial(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                       struct dk_error *err)
{
    int rc;

    s->fd = open(cfg->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (s->fd < 0)
        return dk_error_set(err, -errno, "cannot open scanner %s: %s: %s", cfg->name,
                            cfg->device, strerror(errno));
    s->owns_fd = true;
    rc = setup_serial(s->fd, cfg, err);
    if (rc != 0)
        return rc;
    line_buffer_init(&s->line, cfg->terminator);
    return 0;
}

static int open_stdin(struct dk_scanner *s, struct dk_error *err)
{
    int flags = fcntl(STDIN_FILENO, F_GETFL);

    if (flags < 0)
        return dk_error_set(err, -errno, "cannot use standard input as a scanner: %s",
                            strerror(errno));
    /* Non-blocking so that a partial line never stalls the kiosk loop. */
    if (fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK) != 0)
        return dk_error_set(err, -errno, "cannot use standard input as a scanner: %s",
                            strerror(errno));
    s->fd = STDIN_FILENO;
    s->owns_fd = false;
    line_buffer_init(&s->line, DK_TERM_LF);
    /* A terminal sends CR LF in raw mode and LF in cooked mode; strip both. */
    s->line.strip_cr = true;
    return 0;
}

int scanner_open(const struct dk_scanner_config *cfg, struct dk_scanner **out,
                 struct dk_error *err)
{
    struct dk_scanner *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    s->fd = -1;
    snprintf(s->name, sizeof(s->name), "%s", cfg->name);
    snprintf(s->device, sizeof(s->device), "%s",
             cfg->kind == DK_SCANNER_STDIN ? "stdin" : cfg->device);
    if (cfg->kind == DK_SCANNER_SERIAL)
        rc = open_serial(s, cfg, err);
    else
        rc = open_stdin(s, err);
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
    return s->fd;
}

const char *scanner_name(const struct dk_scanner *s)
{
    return s->name;
}

int scanner_next(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err)
{
    char chunk[DK_SCAN_EVENT_MAX];
    ssize_t n;

    for (;;) {
        if (line_buffer_take(&s->line, ev)) {
            ev->source = s->name;
            return 1;
        }
        n = read(s->fd, chunk, sizeof(chunk));
        if (n > 0) {
            line_buffer_feed(&s->line, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        /* EOF on stdin, or EIO from a tty whose other end is gone (a USB
         * scanner unplugged, a pty master closed). */
        if (n == 0 || errno == EIO)
            return dk_error_set(err, -ENODEV, "scanner %s on %s is gone", s->name, s->device);
        return dk_error_set(err, -errno, "cannot read scanner %s on %s: %s", s->name,
                            s->device, strerror(errno));
    }
}

void scanner_close(struct dk_scanner *s)
{
    if (s == NULL)
        return;
    if (s->owns_fd && s->fd >= 0)
        close(s->fd);
    free(s);
}
