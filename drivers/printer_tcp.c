/* The network receipt printer back end: ESC/POS over a raw TCP socket,
 * the "port 9100" (JetDirect-style) interface of Ethernet ESC/POS
 * printers.
 *
 * Every wait is bounded by the config's timeout_ms: the connect, each
 * status reply and each write.  The socket's send buffer is kept small, so
 * that the bytes counted as handed over follow what the printer has
 * actually taken (it stops reading when its own buffer is full) and a
 * printer that stalls mid-slip is noticed within timeout_ms rather than
 * after the kernel has buffered megabytes for it.
 *
 * A slip counts as delivered once every byte is written, our side is shut
 * and the printer has not reset the connection: a printer that closes
 * with bytes still unread makes its kernel answer with a reset (RFC 9293
 * section 3.6.1), which is how a slip cut off after it all left here is
 * still caught. */
#include "printer_backend.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Small enough that "handed over" means "taken by the printer" to within
 * a few kilobytes (Linux doubles the value asked for); big enough that a
 * slip goes out in a handful of writes. */
#define SEND_BUFFER 4096
#define DRAIN_MAX 256 /* what wait_close reads at a time while the printer closes */

struct tcp_printer {
    int fd;
};



static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    int size = SEND_BUFFER, one = 1, soerr = 0;
    socklen_t len = sizeof(soerr);
    int rc;

    if (fd < 0)
        return -errno;
    /* Failing to shrink the buffer or set TCP_NODELAY costs accuracy of a
     * count and a little latency, not the slip. */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    rc = errno == EINPROGRESS ? printer_wait_fd(fd, POLLOUT, timeout_ms) : -errno;
    if (rc == 1)
        rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ? -errno : -soerr;
    if (rc == 0)
        return fd;
    close(fd);
    return rc;
}

static int tcp_connect(const struct dk_printer_config *pc, int *out, struct dk_error *err,
                       const char *label)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[8];
    int rc, fd = -ETIMEDOUT;

    snprintf(port, sizeof(port), "%d", pc->port);
    rc = getaddrinfo(pc->host, port, &hints, &res);
    if (rc != 0)
        return dk_error_set(err, rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH,
                            "cannot reach printer %s: cannot resolve %s: %s", label, pc->host,
                            gai_strerror(rc));
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = connect_one(ai, pc->timeout_ms);
        if (fd >= 0)
            break;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return dk_error_set(err, fd, "cannot reach printer %s: %s", label,
                            fd == -ETIMEDOUT ? "no answer to the connection in time"
                                             : strerror(-fd));
    *out = fd;
    return 0;
}

/* Send all len bytes; *sent counts those the socket took.  0, or
 * -ETIMEDOUT when the printer stopped taking data, or -errno. */
static int send_all(int fd, const unsigned char *buf, size_t len, int timeout_ms,
                    size_t *sent)
{
    *sent = 0;
    while (*sent < len) {
        ssize_t n = send(fd, buf + *sent, len - *sent, MSG_NOSIGNAL);

        if (n > 0) {
            *sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = printer_wait_fd(fd, POLLOUT, timeout_ms);

        if (rc < 0)
            return rc;
    }
    return 0;
}


static int tcp_ask(struct dk_printer *p, const unsigned char q[3])
{
    struct tcp_printer *t = p->impl;
    size_t sent;
    int rc;

    printer_drain(t->fd);
    rc = send_all(t->fd, q, 3, p->cfg->timeout_ms, &sent);
    if (rc != 0)
        return rc;
    return printer_read_reply(t->fd, p->cfg->timeout_ms, -ECONNRESET);
}

static int tcp_query(struct dk_printer *p, enum dk_printer_state *state)
{
    *state = printer_escpos_state(p, tcp_ask);
    return 0;
}

/* After the last byte: shut our side and wait (timeout_ms) for the
 * printer's end of file.  0 when it closed cleanly or kept the connection
 * open; -ECONNRESET (or another -errno) when it dropped unread data. */
static int wait_close(int fd, int timeout_ms)
{
    long long deadline = printer_now_ms() + timeout_ms;
    unsigned char junk[DRAIN_MAX];

    /* A reset that came first leaves nothing to shut. */
    if (shutdown(fd, SHUT_WR) != 0)
        return errno == ENOTCONN ? -ECONNRESET : -errno;
    for (;;) {
        long long left = deadline - printer_now_ms();
        int rc = printer_wait_fd(fd, POLLIN, left > 0 ? (int)left : 0);
        ssize_t n;

        /* A printer that keeps the connection open after the slip has
         * still been handed every byte. */
        if (rc == -ETIMEDOUT)
            return 0;
        if (rc < 0)
            return rc;
        n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
        if (n == 0)
            return 0;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return -errno;
    }
}

static int tcp_failed(struct dk_printer *p, int rc, size_t sent, size_t len,
                      struct dk_error *err)
{
    if (rc == -ETIMEDOUT)
        return dk_error_set(err, rc,
                            "printer %s stopped taking data after %zu of %zu bytes "
                            "(nothing taken for %d ms)",
                            p->label, sent, len, p->cfg->timeout_ms);
    if (rc == -EPIPE || rc == -ECONNRESET) {
        if (sent < len)
            return dk_error_set(err, rc, "printer %s closed the connection after %zu of %zu bytes",
                                p->label, sent, len);
        return dk_error_set(err, rc,
                            "printer %s closed the connection after all %zu bytes were sent "
                            "but before taking them; the slip may be cut short",
                            p->label, len);
    }
    return dk_error_set(err, rc, "cannot print on printer %s after %zu of %zu bytes: %s",
                        p->label, sent, len, strerror(-rc));
}

static int tcp_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err)
{
    struct tcp_printer *t = p->impl;
    unsigned char *buf = NULL;
    size_t len = 0, sent = 0;
    int rc = printer_escpos_render(p, slip, &buf, &len, err);

    if (rc != 0)
        return rc;
    rc = send_all(t->fd, buf, len, p->cfg->timeout_ms, &sent);
    if (rc == 0)
        rc = wait_close(t->fd, p->cfg->timeout_ms);
    if (rc != 0)
        rc = tcp_failed(p, rc, sent, len, err);
    else
        log_debug("printer %s: sent %zu bytes", p->label, len);
    free(buf);
    return rc;
}

static void tcp_close(struct dk_printer *p)
{
    struct tcp_printer *t = p->impl;

    if (t == NULL)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
    p->impl = NULL;
}

static const struct dk_printer_ops tcp_ops = {
    .query = tcp_query,
    .print = tcp_print,
    .close = tcp_close,
};

int printer_tcp_open(struct dk_printer *p, struct dk_error *err)
{
    struct tcp_printer *t = calloc(1, sizeof(*t));
    int rc;

    if (t == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    t->fd = -1;
    rc = tcp_connect(p->cfg, &t->fd, err, p->label);
    if (rc != 0) {
        free(t);
        return rc;
    }
    p->ops = &tcp_ops;
    p->impl = t;
    return 0;
}
