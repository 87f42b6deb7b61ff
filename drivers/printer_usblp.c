/* The kernel USB printer back end: ESC/POS written to the usblp driver's
 * /dev/usb/lp* node (Linux drivers/usb/class/usblp.c).
 *
 * The node is opened non-blocking and every write and status read waits
 * in poll for at most the config's timeout_ms: a blocking write to a
 * printer out of paper would otherwise hang the kiosk until someone
 * fixed the printer.  usblp reads the printer's bulk IN endpoint, which is
 * where an ESC/POS printer's DLE EOT replies arrive; a printer with no IN
 * endpoint never answers, and its state is "not answering". */
#include "printer_backend.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


struct usblp_printer {
    int fd;
};



static int write_all(int fd, const unsigned char *buf, size_t len, int timeout_ms,
                     size_t *done)
{
    *done = 0;
    while (*done < len) {
        ssize_t n = write(fd, buf + *done, len - *done);
        int rc;

        if (n > 0) {
            *done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return n == 0 ? -EIO : -errno;
        rc = printer_wait_fd(fd, POLLOUT, timeout_ms);
        if (rc < 0)
            return rc;
    }
    return 0;
}


static int usblp_ask(struct dk_printer *p, const unsigned char q[3])
{
    struct usblp_printer *u = p->impl;
    size_t done;
    int rc;

    printer_drain(u->fd);
    rc = write_all(u->fd, q, 3, p->cfg->timeout_ms, &done);
    if (rc != 0)
        return rc;
    return printer_read_reply(u->fd, p->cfg->timeout_ms, -EIO);
}

static int usblp_query(struct dk_printer *p, enum dk_printer_state *state)
{
    *state = printer_escpos_state(p, usblp_ask);
    return 0;
}

static int usblp_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err)
{
    struct usblp_printer *u = p->impl;
    unsigned char *buf = NULL;
    size_t len = 0, done = 0;
    int rc = printer_escpos_render(p, slip, &buf, &len, err);

    if (rc != 0)
        return rc;
    rc = write_all(u->fd, buf, len, p->cfg->timeout_ms, &done);
    if (rc == -ETIMEDOUT)
        dk_error_set(err, rc,
                     "printer %s stopped taking data after %zu of %zu bytes "
                     "(nothing taken for %d ms)",
                     p->label, done, len, p->cfg->timeout_ms);
    else if (rc != 0)
        dk_error_set(err, rc, "cannot print on printer %s after %zu of %zu bytes: %s", p->label,
                     done, len, strerror(-rc));
    else
        log_debug("printer %s: wrote %zu bytes", p->label, len);
    free(buf);
    return rc;
}

static void usblp_close(struct dk_printer *p)
{
    struct usblp_printer *u = p->impl;

    if (u == NULL)
        return;
    if (u->fd >= 0)
        close(u->fd);
    free(u);
    p->impl = NULL;
}

static const struct dk_printer_ops usblp_ops = {
    .query = usblp_query,
    .print = usblp_print,
    .close = usblp_close,
};

int printer_usblp_open(struct dk_printer *p, struct dk_error *err)
{
    struct usblp_printer *u = calloc(1, sizeof(*u));

    if (u == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    u->fd = open(p->cfg->device, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (u->fd < 0) {
        int e = errno;

        free(u);
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            return dk_error_set(err, -e, "cannot open printer %s: %s (is it plugged in?)",
                                p->label, strerror(e));
        if (e == EACCES)
            return dk_error_set(err, -e,
                                "cannot open printer %s: %s (the dropkiosk user needs the lp "
                                "group)",
                                p->label, strerror(e));
        return dk_error_set(err, -e, "cannot open printer %s: %s", p->label, strerror(e));
    }
    p->ops = &usblp_ops;
    p->impl = u;
    return 0;
}
