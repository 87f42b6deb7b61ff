/* The serial scanner back end, driven through a real pseudo-terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "scanner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct pty {
    int master;
    int slave;
    struct dk_scanner *scanner;
};

static struct pty open_scanner_window(enum dk_terminator term, int window_ms);

static struct pty open_scanner(enum dk_terminator term)
{
    return open_scanner_window(term, 0);
}

static struct pty open_scanner_window(enum dk_terminator term, int window_ms)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_SERIAL, .speed = 9600};
    struct dk_error err = {{0}};
    struct pty p = {-1, -1, NULL};
    char name[256];

    assert_int_equal(openpty(&p.master, &p.slave, name, NULL, NULL), 0);
    snprintf(cfg.name, sizeof(cfg.name), "%s", "pty");
    snprintf(cfg.device, sizeof(cfg.device), "%s", name);
    cfg.terminator = term;
    cfg.char_timeout_ms = 80;
    cfg.repeat_window_ms = window_ms;
    assert_int_equal(scanner_open(&cfg, &p.scanner, &err), 0);
    return p;
}

static void close_pty(struct pty *p)
{
    scanner_close(p->scanner);
    if (p->master >= 0)
        close(p->master);
    close(p->slave);
}

static void send(struct pty *p, const char *bytes, size_t n)
{
    assert_int_equal(write(p->master, bytes, n), (ssize_t)n);
    tcdrain(p->master);
}

/* Wait for input and take the next scan; 1, 0 or -errno as scanner_next. */
static int next(struct pty *p, struct dk_scan_event *ev)
{
    struct pollfd pfd = {.fd = scanner_fd(p->scanner), .events = POLLIN};
    struct dk_error err = {{0}};
    int rc = scanner_next(p->scanner, ev, &err);

    if (rc != 0)
        return rc;
    if (poll(&pfd, 1, 2000) <= 0)
        return 0;
    return scanner_next(p->scanner, ev, &err);
}

static void test_serial_cr_terminated_scans(void **state)
{
    struct pty p = open_scanner(DK_TERM_CR);
    struct dk_scan_event ev;

    (void)state;
    send(&p, "104233\r104234\r", 14);
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "104233");
    assert_string_equal(ev.source, "pty");
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "104234");
    close_pty(&p);
}

static void test_serial_crlf_strips_both(void **state)
{
    struct pty p = open_scanner(DK_TERM_CRLF);
    struct dk_scan_event ev;

    (void)state;
    send(&p, "]C0104233\r\n", 11);
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "]C0104233");
    assert_int_equal(ev.len, 9);
    close_pty(&p);
}

static void test_serial_tab_terminator(void **state)
{
    struct pty p = open_scanner(DK_TERM_TAB);
    struct dk_scan_event ev;

    (void)state;
    send(&p, "DONE\t", 5);
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "DONE");
    close_pty(&p);
}

static void test_serial_scan_split_across_reads(void **state)
{
    struct pty p = open_scanner(DK_TERM_LF);
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    send(&p, "1042", 4);
    usleep(50000);
    assert_int_equal(scanner_next(p.scanner, &ev, &err), 0);
    send(&p, "33\n", 3);
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "104233");
    close_pty(&p);
}

static void test_serial_raw_mode_keeps_bytes(void **state)
{
    struct pty p = open_scanner(DK_TERM_CR);
    struct dk_scan_event ev;

    (void)state;
    /* In cooked mode the tty would turn CR into LF and treat ^C as a signal;
     * raw mode must hand both through. */
    send(&p, "A\x03" "B\r", 4);
    assert_int_equal(next(&p, &ev), 1);
    assert_int_equal(ev.len, 3);
    assert_memory_equal(ev.text, "A\x03" "B", 3);
    close_pty(&p);
}

static void test_serial_overlong_scan_is_marked_overflow(void **state)
{
    struct pty p = open_scanner(DK_TERM_CR);
    struct dk_scan_event ev;
    char garbage[4096];
    size_t sent = 0;

    (void)state;
    memset(garbage, 'Z', sizeof(garbage));
    /* A pty's input queue holds about 4 KiB, so feed it while reading. */
    while (sent < sizeof(garbage)) {
        size_t n = sizeof(garbage) - sent > 512 ? 512 : sizeof(garbage) - sent;
        struct dk_error err = {{0}};

        send(&p, garbage + sent, n);
        sent += n;
        usleep(10000);
        assert_int_equal(scanner_next(p.scanner, &ev, &err), 0);
    }
    send(&p, "\r104233\r", 8);
    assert_int_equal(next(&p, &ev), 1);
    assert_true(ev.overflow);
    assert_int_equal(ev.len, DK_SCAN_EVENT_MAX);
    assert_int_equal(next(&p, &ev), 1);
    assert_false(ev.overflow);
    assert_string_equal(ev.text, "104233");
    close_pty(&p);
}

static void test_serial_no_terminator_ends_scan_after_pause(void **state)
{
    struct pty p = open_scanner(DK_TERM_NONE);
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    int wait;

    (void)state;
    assert_int_equal(scanner_wait_ms(p.scanner), -1);
    send(&p, "1042", 4);
    usleep(20000);
    assert_int_equal(scanner_next(p.scanner, &ev, &err), 0);
    send(&p, "33", 2);
    usleep(20000);
    assert_int_equal(scanner_next(p.scanner, &ev, &err), 0);
    wait = scanner_wait_ms(p.scanner);
    assert_in_range(wait, 1, 80);
    usleep(100000);
    assert_int_equal(scanner_wait_ms(p.scanner), 0);
    assert_int_equal(scanner_next(p.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "104233");
    assert_int_equal(scanner_wait_ms(p.scanner), -1);
    close_pty(&p);
}

static void test_serial_double_read_within_window_is_one_scan(void **state)
{
    struct pty p = open_scanner_window(DK_TERM_CR, 750);
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    send(&p, "DONE\rDONE\rYES\r", 14);
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "DONE");
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "YES");
    assert_int_equal(scanner_next(p.scanner, &ev, &err), 0);
    close_pty(&p);
}

static void test_serial_same_scan_after_window_counts_again(void **state)
{
    struct pty p = open_scanner_window(DK_TERM_CR, 50);
    struct dk_scan_event ev;

    (void)state;
    send(&p, "YES\r", 4);
    assert_int_equal(next(&p, &ev), 1);
    usleep(80000);
    send(&p, "YES\r", 4);
    assert_int_equal(next(&p, &ev), 1);
    assert_string_equal(ev.text, "YES");
    close_pty(&p);
}

static void test_serial_unplug_reports_enodev(void **state)
{
    struct pty p = open_scanner(DK_TERM_CR);
    struct dk_scan_event ev;

    (void)state;
    close(p.master);
    p.master = -1;
    assert_int_equal(next(&p, &ev), -ENODEV);
    close_pty(&p);
}

static void test_serial_missing_device_names_it(void **state)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_SERIAL, .speed = 9600};
    struct dk_scanner *s = NULL;
    struct dk_error err = {{0}};

    (void)state;
    snprintf(cfg.name, sizeof(cfg.name), "%s", "lobby");
    snprintf(cfg.device, sizeof(cfg.device), "%s", "/dev/nonexistent-scanner");
    assert_int_equal(scanner_open(&cfg, &s, &err), -ENOENT);
    assert_string_equal(err.msg, "cannot open scanner lobby: /dev/nonexistent-scanner: "
                                 "No such file or directory");
}

static void test_serial_rejects_unknown_speed(void **state)
{
    struct pty p = {-1, -1, NULL};
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_SERIAL, .speed = 12345};
    struct dk_error err = {{0}};
    char name[256];

    (void)state;
    assert_int_equal(openpty(&p.master, &p.slave, name, NULL, NULL), 0);
    snprintf(cfg.name, sizeof(cfg.name), "%s", "lobby");
    snprintf(cfg.device, sizeof(cfg.device), "%s", name);
    assert_int_equal(scanner_open(&cfg, &p.scanner, &err), DK_EINPUT);
    assert_string_equal(err.msg, "scanner lobby: unsupported speed 12345");
    close_pty(&p);
}

/* config.c accepts exactly config_serial_speed's list; the tty back end
 * must set up each of them. */
static void test_serial_sets_every_speed_the_config_accepts(void **state)
{
    (void)state;
    for (int i = 0; config_serial_speed(i) != 0; i++) {
        struct pty p = {-1, -1, NULL};
        struct dk_scanner_config cfg = {.kind = DK_SCANNER_SERIAL};
        struct dk_error err = {{0}};
        char name[256];

        cfg.speed = config_serial_speed(i);
        assert_int_equal(openpty(&p.master, &p.slave, name, NULL, NULL), 0);
        snprintf(cfg.name, sizeof(cfg.name), "%s", "lobby");
        snprintf(cfg.device, sizeof(cfg.device), "%s", name);
        if (scanner_open(&cfg, &p.scanner, &err) != 0)
            fail_msg("speed %d: %s", cfg.speed, err.msg);
        close_pty(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_cr_terminated_scans),
        cmocka_unit_test(test_serial_crlf_strips_both),
        cmocka_unit_test(test_serial_tab_terminator),
        cmocka_unit_test(test_serial_scan_split_across_reads),
        cmocka_unit_test(test_serial_raw_mode_keeps_bytes),
        cmocka_unit_test(test_serial_overlong_scan_is_marked_overflow),
        cmocka_unit_test(test_serial_no_terminator_ends_scan_after_pause),
        cmocka_unit_test(test_serial_double_read_within_window_is_one_scan),
        cmocka_unit_test(test_serial_same_scan_after_window_counts_again),
        cmocka_unit_test(test_serial_unplug_reports_enodev),
        cmocka_unit_test(test_serial_missing_device_names_it),
        cmocka_unit_test(test_serial_rejects_unknown_speed),
        cmocka_unit_test(test_serial_sets_every_speed_the_config_accepts),
    };

    return cmocka_run_group_tests_name("scanner", tests, NULL, NULL);
}
