/* The printer back ends at the descriptor level: the tcp one against a
 * loopback socket this test opens and plays the printer on, the usblp one
 * against a pseudo-terminal, the usb one with nothing plugged in, and the
 * file one against a scratch folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "escpos.h"
#include "printer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define NOT_SET ((size_t)-1)
#define GOT_MAX (256 * 1024)

/* A printer on a loopback socket, played by a thread. */
struct peer {
    int listen_fd;
    int port;
    const unsigned char *answers; /* for DLE EOT 1, 2, 4; NULL: never answer */
    size_t close_after;           /* drop the connection (reset) after this many slip bytes */
    bool never_read;              /* accept, then take nothing until told to stop */
    int stop[2];                  /* a pipe: the test closes stop[1] to end the peer */
    unsigned char *got;           /* every byte received, status requests included */
    size_t n_got;
    size_t slip_bytes;
    pthread_t thread;
};

static const unsigned char READY[3] = {0x12, 0x12, 0x12};
static const unsigned char PAPER_OUT[3] = {0x1A, 0x32, 0x72};
static const unsigned char COVER_OPEN[3] = {0x1A, 0x16, 0x12};
static const unsigned char OFFLINE[3] = {0x1A, 0x52, 0x12};
static const unsigned char NOT_ESCPOS[3] = {0xFF, 0xFF, 0xFF};

static const char PAYLOAD[] = "dropkiosk receipt v1\n"
                              "District: Example City Public Schools\n"
                              "Receipt: R-7K3M9QXZJ\n"
                              "Site: Bolling Building\n"
                              "Kiosk: bolling-lobby-1\n"
                              "Time: 2026-12-04 10:37 EST\n"
                              "Device: 104233 | ProBook 450 G8 | charger yes\n"
                              "Key: ed25519:56475aa75463474c\n"
                              "Signature: AAAA\n";

static const struct dk_slip_device DEVICES[1] = {{"104233", "ProBook 450 G8", true}};

static const struct dk_slip SLIP = {
    .district = "Example City Public Schools",
    .site_name = "Bolling Building",
    .receipt_id = "R-7K3M9QXZJ",
    .when_local = "2026-12-04 10:37 EST",
    .devices = DEVICES,
    .n_devices = 1,
    .payload = (const unsigned char *)PAYLOAD,
    .payload_len = sizeof(PAYLOAD) - 1,
    .words = {"Device return receipt", "Receipt", "Device", "Charger", "Yes", "No",
              "Pending technician verification", "Scan to check this receipt"},
};

static void wait_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    poll(&pfd, 1, 10000);
}

/* Take a chunk as a printer would: status requests answered, slip bytes
 * counted.  false when the connection is to be dropped. */
static bool take(struct peer *pe, int fd, const unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool query = i + 2 < n && buf[i] == 0x10 && buf[i + 1] == 0x04 &&
                     (buf[i + 2] == 1 || buf[i + 2] == 2 || buf[i + 2] == 4);

        if (query) {
            unsigned char r = pe->answers != NULL ? pe->answers[buf[i + 2] == 4 ? 2
                                                                                 : buf[i + 2] - 1]
                                                  : 0;

            if (pe->n_got + 3 <= GOT_MAX) {
                memcpy(pe->got + pe->n_got, buf + i, 3);
                pe->n_got += 3;
            }
            i += 2;
            if (pe->answers != NULL && write(fd, &r, 1) != 1)
                return false;
            continue;
        }
        if (pe->slip_bytes == pe->close_after)
            return false;
        if (pe->n_got < GOT_MAX)
            pe->got[pe->n_got++] = buf[i];
        pe->slip_bytes++;
    }
    return true;
}

static void *peer_main(void *arg)
{
    struct peer *pe = arg;
    unsigned char buf[4096];
    int fd = accept(pe->listen_fd, NULL, NULL);

    if (fd < 0)
        return NULL;
    if (pe->never_read) {
        wait_readable(pe->stop[0]);
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n <= 0)
            break;
        if (!take(pe, fd, buf, (size_t)n)) {
            /* A zero linger time: close sends a reset, as a printer losing
             * power mid-slip does. */
            struct linger lg = {.l_onoff = 1, .l_linger = 0};

            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            break;
        }
    }
    close(fd);
    return NULL;
}

static struct peer *peer_start(const unsigned char *answers, size_t close_after, bool never_read)
{
    struct peer *pe = calloc(1, sizeof(*pe));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int small = 4096;

    assert_non_null(pe);
    pe->got = malloc(GOT_MAX);
    assert_non_null(pe->got);
    pe->answers = answers;
    pe->close_after = close_after;
    pe->never_read = never_read;
    assert_int_equal(pipe(pe->stop), 0);
    pe->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(pe->listen_fd >= 0);
    /* A printer's input buffer is small; so is this one's. */
    setsockopt(pe->listen_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(bind(pe->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(pe->listen_fd, 4), 0);
    assert_int_equal(getsockname(pe->listen_fd, (struct sockaddr *)&sa, &len), 0);
    pe->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&pe->thread, NULL, peer_main, pe), 0);
    return pe;
}

/* Wait for the peer to finish (the printer must be closed first, or the
 * peer must be a never_read one); what it got can then be read. */
static void peer_join(struct peer *pe)
{
    close(pe->stop[1]);
    pthread_join(pe->thread, NULL);
}

static void peer_free(struct peer *pe)
{
    close(pe->stop[0]);
    close(pe->listen_fd);
    free(pe->got);
    free(pe);
}

static void peer_end(struct peer *pe)
{
    peer_join(pe);
    peer_free(pe);
}

static struct dk_printer_config tcp_config(int port, int timeout_ms, enum dk_qr_mode qr)
{
    struct dk_printer_config pc = {.kind = DK_PRINTER_TCP, .port = port, .vid = -1, .pid = -1,
                                   .width_mm = 80, .qr = qr, .timeout_ms = timeout_ms};

    snprintf(pc.name, sizeof(pc.name), "lobby");
    snprintf(pc.host, sizeof(pc.host), "127.0.0.1");
    snprintf(pc.model, sizeof(pc.model), "generic");
    return pc;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum dk_printer_state tcp_state(const unsigned char *answers, int timeout_ms)
{
    struct peer *pe = peer_start(answers, NOT_SET, false);
    struct dk_printer_config pc = tcp_config(pe->port, timeout_ms, DK_QR_NATIVE);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    enum dk_printer_state state = DK_PRINTER_READY;

    assert_int_equal(printer_open(&pc, &p, &err), 0);
    assert_int_equal(printer_query(p, &state), 0);
    printer_close(p);
    peer_end(pe);
    return state;
}

static void test_tcp_status_ready(void **state)
{
    (void)state;
    assert_int_equal(tcp_state(READY, 2000), DK_PRINTER_READY);
}

static void test_tcp_status_paper_out(void **state)
{
    (void)state;
    assert_int_equal(tcp_state(PAPER_OUT, 2000), DK_PRINTER_PAPER_OUT);
}

static void test_tcp_status_cover_open(void **state)
{
    (void)state;
    assert_int_equal(tcp_state(COVER_OPEN, 2000), DK_PRINTER_COVER_OPEN);
}

static void test_tcp_status_offline(void **state)
{
    (void)state;
    assert_int_equal(tcp_state(OFFLINE, 2000), DK_PRINTER_OFFLINE);
}

static void test_tcp_status_not_escpos_is_no_answer(void **state)
{
    (void)state;
    assert_int_equal(tcp_state(NOT_ESCPOS, 2000), DK_PRINTER_NO_ANSWER);
}

static void test_tcp_status_asks_dle_eot_1_2_4(void **state)
{
    static const unsigned char asked[9] = {0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04};
    struct peer *pe = peer_start(READY, NOT_SET, false);
    struct dk_printer_config pc = tcp_config(pe->port, 2000, DK_QR_NATIVE);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    enum dk_printer_state st;

    (void)state;
    assert_int_equal(printer_open(&pc, &p, &err), 0);
    assert_int_equal(printer_query(p, &st), 0);
    printer_close(p);
    peer_join(pe);
    assert_int_equal(st, DK_PRINTER_READY);
    assert_int_equal(pe->n_got, 9);
    assert_memory_equal(pe->got, asked, 9);
    peer_free(pe);
}

static void test_tcp_silent_printer_is_no_answer_after_timeout(void **state)
{
    long long t0 = now_ms();

    (void)state;
    assert_int_equal(tcp_state(NULL, 200), DK_PRINTER_NO_ANSWER);
    /* One unanswered question ends the query: about 200 ms, not 600. */
    assert_true(now_ms() - t0 >= 200);
    assert_true(now_ms() - t0 < 550);
}

/* The stream a printer of pc's kind gets for SLIP, from the encoder. */
static unsigned char *expected_stream(bool native, size_t *len)
{
    struct dk_error err = {{0}};
    unsigned char *want = NULL;

    assert_int_equal(escpos_slip(&SLIP, 80, native, &want, len, &err), 0);
    return want;
}

static bool contains(const unsigned char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void test_tcp_prints_every_byte(void **state)
{
    struct peer *pe = peer_start(READY, NOT_SET, false);
    struct dk_printer_config pc = tcp_config(pe->port, 2000, DK_QR_RASTER);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    size_t n_want = 0;
    unsigned char *want = expected_stream(false, &n_want);

    (void)state;
    assert_int_equal(printer_open(&pc, &p, &err), 0);
    assert_int_equal(printer_print(p, &SLIP, &err), 0);
    printer_close(p);
    peer_join(pe);
    assert_int_equal(pe->n_got, n_want);
    assert_memory_equal(pe->got, want, n_want);
    assert_memory_equal(pe->got, "\x1b\x40", 2);
    assert_true(contains(pe->got, pe->n_got, "R-7K3M9QXZJ"));
    assert_true(contains(pe->got, pe->n_got, "104233"));
    peer_free(pe);
    free(want);
}

static void test_tcp_native_qr_carries_the_payload(void **state)
{
    struct peer *pe = peer_start(READY, NOT_SET, false);
    struct dk_printer_config pc = tcp_config(pe->port, 2000, DK_QR_AUTO);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;

    (void)state;
    /* qr = auto with a model known to draw QR codes: GS ( k, whose store
     * command carries the payload as it is. */
    snprintf(pc.model, sizeof(pc.model), "TM-T20");
    assert_true(escpos_model_has_qr("TM-T20"));
    assert_int_equal(printer_open(&pc, &p, &err), 0);
    assert_int_equal(printer_print(p, &SLIP, &err), 0);
    printer_close(p);
    peer_join(pe);
    assert_true(contains(pe->got, pe->n_got, "\x1d\x28\x6b"));
    assert_true(contains(pe->got, pe->n_got, "Signature: AAAA"));
    peer_free(pe);
}

static void test_tcp_peer_closing_mid_slip_names_the_bytes(void **state)
{
    struct peer *pe = peer_start(READY, 100, false);
    struct dk_printer_config pc = tcp_config(pe->port, 2000, DK_QR_RASTER);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    size_t n_want = 0;
    unsigned char *want = expected_stream(false, &n_want);
    char prefix[200], suffix[64];
    int rc;

    (void)state;
    assert_int_equal(printer_open(&pc, &p, &err), 0);
    rc = printer_print(p, &SLIP, &err);
    printer_close(p);
    peer_join(pe);
    assert_true(rc == -EPIPE || rc == -ECONNRESET);
    assert_int_equal(pe->n_got, 100);
    snprintf(prefix, sizeof(prefix), "printer lobby (127.0.0.1:%d) closed the connection after ",
             pe->port);
    snprintf(suffix, sizeof(suffix), " of %zu bytes", n_want);
    assert_memory_equal(err.msg, prefix, strlen(prefix));
    assert_string_equal(err.msg + strlen(err.msg) - strlen(suffix), suffix);
    peer_free(pe);
    free(want);
}

static void test_tcp_peer_dropping_a_short_slip_unread_is_caught(void **state)
{
    struct peer *pe = peer_start(READY, 100, false);
    struct dk_printer_config pc = tcp_config(pe->port, 2000, DK_QR_NATIVE);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    size_t n_want = 0;
    unsigned char *want = expected_stream(true, &n_want);
    char msg[300];
    int rc;

    (void)state;
    /* The whole short slip fits the socket buffers, so every write works;
     * the reset for the bytes the printer dropped unread still fails it. */
    assert_true(n_want < 4096);
    assert_int_equal(printer_open(&pc, &p, &err), 0);
    rc = printer_print(p, &SLIP, &err);
    printer_close(p);
    peer_join(pe);
    assert_true(rc == -EPIPE || rc == -ECONNRESET);
    assert_int_equal(pe->n_got, 100);
    snprintf(msg, sizeof(msg),
             "printer lobby (127.0.0.1:%d) closed the connection after all %zu bytes were sent "
             "but before taking them; the slip may be cut short",
             pe->port, n_want);
    assert_string_equal(err.msg, msg);
    peer_free(pe);
    free(want);
}

static void test_tcp_stalled_printer_times_out(void **state)
{
    struct peer *pe = peer_start(READY, NOT_SET, true);
    struct dk_printer_config pc = tcp_config(pe->port, 200, DK_QR_RASTER);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    char prefix[200];
    int rc;

    (void)state;
    assert_int_equal(printer_open(&pc, &p, &err), 0);
    rc = printer_print(p, &SLIP, &err);
    assert_int_equal(rc, -ETIMEDOUT);
    snprintf(prefix, sizeof(prefix), "printer lobby (127.0.0.1:%d) stopped taking data after ",
             pe->port);
    assert_memory_equal(err.msg, prefix, strlen(prefix));
    assert_non_null(strstr(err.msg, " bytes (nothing taken for 200 ms)"));
    peer_join(pe);
    printer_close(p);
    peer_free(pe);
}

static void test_tcp_nothing_listening_is_refused(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct dk_printer_config pc;
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    char want[200];

    (void)state;
    /* Bound but not listening: the port stays ours, and connecting to it
     * is refused. */
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    pc = tcp_config(ntohs(sa.sin_port), 500, DK_QR_NATIVE);
    assert_int_equal(printer_open(&pc, &p, &err), -ECONNREFUSED);
    assert_null(p);
    snprintf(want, sizeof(want), "cannot reach printer lobby (127.0.0.1:%d): Connection refused",
             ntohs(sa.sin_port));
    assert_string_equal(err.msg, want);
    close(fd);
}

/* ---- usblp, on a pseudo-terminal standing in for /dev/usb/lp0 ---- */

struct lp {
    int master;
    int slave;
    struct dk_printer_config pc;
};

static struct lp lp_open(int timeout_ms)
{
    struct lp lp = {.pc = {.kind = DK_PRINTER_USBLP, .vid = -1, .pid = -1, .width_mm = 58,
                           .qr = DK_QR_RASTER, .timeout_ms = timeout_ms}};
    struct termios raw;
    char name[256];

    assert_int_equal(openpty(&lp.master, &lp.slave, name, NULL, NULL), 0);
    tcgetattr(lp.slave, &raw);
    cfmakeraw(&raw);
    tcsetattr(lp.slave, TCSANOW, &raw);
    snprintf(lp.pc.name, sizeof(lp.pc.name), "counter");
    snprintf(lp.pc.device, sizeof(lp.pc.device), "%s", name);
    snprintf(lp.pc.model, sizeof(lp.pc.model), "generic");
    return lp;
}

static void lp_close(struct lp *lp)
{
    close(lp->master);
    close(lp->slave);
}

struct lp_answer {
    int master;
    const unsigned char *answers;
};

/* Read each status request on the master side and answer it. */
static void *lp_answerer(void *arg)
{
    struct lp_answer *a = arg;
    unsigned char q[3];

    for (int i = 0; i < 3; i++) {
        size_t got = 0;

        while (got < 3) {
            ssize_t n = read(a->master, q + got, 3 - got);

            if (n <= 0)
                return NULL;
            got += (size_t)n;
        }
        if (write(a->master, &a->answers[q[2] == 4 ? 2 : q[2] - 1], 1) != 1)
            return NULL;
    }
    return NULL;
}

static void test_usblp_status_cover_open(void **state)
{
    struct lp lp = lp_open(2000);
    struct lp_answer a = {lp.master, COVER_OPEN};
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    enum dk_printer_state st = DK_PRINTER_READY;
    pthread_t t;

    (void)state;
    assert_int_equal(printer_open(&lp.pc, &p, &err), 0);
    assert_int_equal(pthread_create(&t, NULL, lp_answerer, &a), 0);
    assert_int_equal(printer_query(p, &st), 0);
    pthread_join(t, NULL);
    assert_int_equal(st, DK_PRINTER_COVER_OPEN);
    printer_close(p);
    lp_close(&lp);
}

static void test_usblp_read_timeout_is_no_answer(void **state)
{
    struct lp lp = lp_open(150);
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    enum dk_printer_state st = DK_PRINTER_READY;

    (void)state;
    assert_int_equal(printer_open(&lp.pc, &p, &err), 0);
    assert_int_equal(printer_query(p, &st), 0);
    assert_int_equal(st, DK_PRINTER_NO_ANSWER);
    printer_close(p);
    lp_close(&lp);
}

static void test_usblp_missing_node(void **state)
{
    struct dk_printer_config pc = {.kind = DK_PRINTER_USBLP, .width_mm = 80, .timeout_ms = 100};
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;

    (void)state;
    snprintf(pc.name, sizeof(pc.name), "counter");
    snprintf(pc.device, sizeof(pc.device), "/nonexistent/usb/lp7");
    assert_int_equal(printer_open(&pc, &p, &err), -ENOENT);
    assert_string_equal(err.msg, "cannot open printer counter (/nonexistent/usb/lp7): No such "
                                 "file or directory (is it plugged in?)");
}

/* ---- usb, with nothing plugged in ---- */

static void test_usb_not_plugged_in_names_vid_pid(void **state)
{
    struct dk_printer_config pc = {.kind = DK_PRINTER_USB, .vid = 0x04b8, .pid = 0x0e15,
                                   .width_mm = 80, .timeout_ms = 500};
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;

    (void)state;
    snprintf(pc.name, sizeof(pc.name), "lobby");
    assert_int_equal(printer_open(&pc, &p, &err), -ENODEV);
    assert_null(p);
    assert_string_equal(err.msg, "cannot open printer lobby (usb 04b8:0e15): no USB device "
                                 "04b8:0e15 is plugged in");
}

static void test_usb_any_printer_not_plugged_in(void **state)
{
    struct dk_printer_config pc = {.kind = DK_PRINTER_USB, .vid = -1, .pid = -1,
                                   .width_mm = 80, .timeout_ms = 500};
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;

    (void)state;
    snprintf(pc.name, sizeof(pc.name), "lobby");
    assert_int_equal(printer_open(&pc, &p, &err), -ENODEV);
    assert_string_equal(err.msg, "cannot open printer lobby (usb, first printer found): no USB "
                                 "printer is plugged in (no device has a printer-class or "
                                 "vendor-specific interface with a bulk OUT endpoint)");
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(printer_state_name(DK_PRINTER_READY), "ready");
    assert_string_equal(printer_state_name(DK_PRINTER_PAPER_OUT), "paper out");
    assert_string_equal(printer_state_name(DK_PRINTER_COVER_OPEN), "cover open");
    assert_string_equal(printer_state_name(DK_PRINTER_OFFLINE), "offline");
    assert_string_equal(printer_state_name(DK_PRINTER_NO_ANSWER), "not answering");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_status_ready),
        cmocka_unit_test(test_tcp_status_paper_out),
        cmocka_unit_test(test_tcp_status_cover_open),
        cmocka_unit_test(test_tcp_status_offline),
        cmocka_unit_test(test_tcp_status_not_escpos_is_no_answer),
        cmocka_unit_test(test_tcp_status_asks_dle_eot_1_2_4),
        cmocka_unit_test(test_tcp_silent_printer_is_no_answer_after_timeout),
        cmocka_unit_test(test_tcp_prints_every_byte),
        cmocka_unit_test(test_tcp_native_qr_carries_the_payload),
        cmocka_unit_test(test_tcp_peer_closing_mid_slip_names_the_bytes),
        cmocka_unit_test(test_tcp_peer_dropping_a_short_slip_unread_is_caught),
        cmocka_unit_test(test_tcp_stalled_printer_times_out),
        cmocka_unit_test(test_tcp_nothing_listening_is_refused),
        cmocka_unit_test(test_usblp_status_cover_open),
        cmocka_unit_test(test_usblp_read_timeout_is_no_answer),
        cmocka_unit_test(test_usblp_missing_node),
        cmocka_unit_test(test_usb_not_plugged_in_names_vid_pid),
        cmocka_unit_test(test_usb_any_printer_not_plugged_in),
        cmocka_unit_test(test_state_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
