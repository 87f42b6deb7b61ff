/* The keyboard-wedge decoder, fed key events written out by hand, and the
 * evdev back end, fed recorded events through a FIFO and a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "evdev_decode.h"
#include "scanner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A stream of key events as a scanner sends them. */
struct keys {
    struct input_event ev[256];
    size_t n;
};

static void add(struct keys *k, unsigned type, unsigned code, int value)
{
    assert_true(k->n < sizeof(k->ev) / sizeof(k->ev[0]));
    k->ev[k->n++] = (struct input_event){.type = (uint16_t)type, .code = (uint16_t)code,
                                         .value = value};
}

/* Key down or up, then the EV_SYN report end, as the kernel sends them. */
static void down(struct keys *k, unsigned code)
{
    add(k, EV_KEY, code, 1);
    add(k, EV_SYN, SYN_REPORT, 0);
}

static void up(struct keys *k, unsigned code)
{
    add(k, EV_KEY, code, 0);
    add(k, EV_SYN, SYN_REPORT, 0);
}

static void tap(struct keys *k, unsigned code)
{
    down(k, code);
    up(k, code);
}

static void shifted(struct keys *k, unsigned code)
{
    down(k, KEY_LEFTSHIFT);
    tap(k, code);
    up(k, KEY_LEFTSHIFT);
}

static void altgr(struct keys *k, unsigned code)
{
    down(k, KEY_RIGHTALT);
    tap(k, code);
    up(k, KEY_RIGHTALT);
}

/* Left Alt held while the keypad keys are typed. */
static void alt_code(struct keys *k, const unsigned *kp, size_t n)
{
    down(k, KEY_LEFTALT);
    for (size_t i = 0; i < n; i++)
        tap(k, kp[i]);
    up(k, KEY_LEFTALT);
}

/* Decode k with layout into a NUL-terminated string; return the count of
 * skipped key presses. */
static size_t decode(const char *layout, const struct keys *k, char *text, size_t size)
{
    struct dk_evdev_decoder d;
    size_t len = 0;

    assert_true(evdev_decoder_init(&d, layout));
    for (size_t i = 0; i < k->n; i++) {
        char out[DK_EVDEV_OUT_MAX];
        size_t n = evdev_decode(&d, &k->ev[i], out);

        assert_true(len + n < size);
        memcpy(text + len, out, n);
        len += n;
    }
    text[len] = '\0';
    return d.skipped;
}

static void test_us_digits_and_letters(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_1);
    tap(&k, KEY_0);
    tap(&k, KEY_4);
    tap(&k, KEY_2);
    tap(&k, KEY_3);
    tap(&k, KEY_3);
    tap(&k, KEY_D);
    tap(&k, KEY_O);
    tap(&k, KEY_Z);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "104233doz");
}

static void test_us_shift_gives_capitals_and_symbols(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    shifted(&k, KEY_S);
    tap(&k, KEY_1);
    shifted(&k, KEY_1);
    down(&k, KEY_RIGHTSHIFT);
    tap(&k, KEY_SLASH);
    tap(&k, KEY_Q);
    up(&k, KEY_RIGHTSHIFT);
    tap(&k, KEY_Q);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "S1!?Qq");
}

static void test_caps_lock_capitalises_letters_only(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_CAPSLOCK);
    tap(&k, KEY_A);
    tap(&k, KEY_1);
    tap(&k, KEY_MINUS);
    shifted(&k, KEY_B);
    tap(&k, KEY_CAPSLOCK);
    tap(&k, KEY_C);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "A1-bc");
}

static void test_caps_lock_capitalises_german_umlauts(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_CAPSLOCK);
    tap(&k, KEY_SEMICOLON);
    tap(&k, KEY_MINUS);
    assert_int_equal(decode("de", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xc3\x96\xc3\x9f"); /* Öß */
}

static void test_autorepeat_adds_nothing(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    add(&k, EV_KEY, KEY_7, 1);
    add(&k, EV_KEY, KEY_7, 2);
    add(&k, EV_KEY, KEY_7, 2);
    add(&k, EV_KEY, KEY_7, 0);
    add(&k, EV_KEY, KEY_LEFTSHIFT, 1);
    add(&k, EV_KEY, KEY_LEFTSHIFT, 2);
    add(&k, EV_KEY, KEY_X, 1);
    add(&k, EV_KEY, KEY_X, 0);
    add(&k, EV_KEY, KEY_LEFTSHIFT, 0);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "7X");
}

static void test_syn_and_msc_events_are_ignored(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    /* USB keyboards send the HID usage (07:0004 is "a") before each key. */
    add(&k, EV_MSC, MSC_SCAN, 0x70004);
    add(&k, EV_KEY, KEY_A, 1);
    add(&k, EV_SYN, SYN_REPORT, 0);
    add(&k, EV_MSC, MSC_SCAN, 0x70004);
    add(&k, EV_KEY, KEY_A, 0);
    add(&k, EV_SYN, SYN_REPORT, 0);
    add(&k, EV_LED, LED_CAPSL, 1);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "a");
}

static void test_alt_keypad_0029_types_group_separator(void **state)
{
    static const unsigned kp[] = {KEY_KP0, KEY_KP0, KEY_KP2, KEY_KP9};
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_0);
    tap(&k, KEY_1);
    alt_code(&k, kp, 4);
    tap(&k, KEY_2);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "01\x1d" "2");
}

static void test_alt_keypad_29_without_zero_types_group_separator(void **state)
{
    static const unsigned kp[] = {KEY_KP2, KEY_KP9};
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    alt_code(&k, kp, 2);
    assert_int_equal(decode("fr", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\x1d");
}

static void test_alt_keypad_0233_is_windows_1252_e_acute(void **state)
{
    static const unsigned kp[] = {KEY_KP0, KEY_KP2, KEY_KP3, KEY_KP3};
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    alt_code(&k, kp, 4);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xc3\xa9");
}

static void test_alt_keypad_130_is_cp437_e_acute(void **state)
{
    static const unsigned kp[] = {KEY_KP1, KEY_KP3, KEY_KP0};
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    alt_code(&k, kp, 3);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xc3\xa9");
}

static void test_alt_keypad_0128_is_the_euro_sign(void **state)
{
    static const unsigned kp[] = {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP8};
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    alt_code(&k, kp, 4);
    assert_int_equal(decode("de", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xe2\x82\xac");
}

static void test_alt_keypad_undefined_windows_1252_is_skipped(void **state)
{
    static const unsigned kp[] = {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP9};
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    alt_code(&k, kp, 4);
    tap(&k, KEY_5);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 1);
    assert_string_equal(text, "5");
}

static void test_same_keys_differ_on_fr_and_us(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_Q);
    tap(&k, KEY_W);
    tap(&k, KEY_A);
    tap(&k, KEY_SEMICOLON);
    tap(&k, KEY_M);
    tap(&k, KEY_1);
    tap(&k, KEY_2);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "qwa;m12");
    assert_int_equal(decode("fr", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "azqm,&\xc3\xa9");
}

static void test_fr_digits_need_shift(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    down(&k, KEY_LEFTSHIFT);
    tap(&k, KEY_1);
    tap(&k, KEY_0);
    tap(&k, KEY_4);
    tap(&k, KEY_2);
    tap(&k, KEY_3);
    tap(&k, KEY_3);
    up(&k, KEY_LEFTSHIFT);
    assert_int_equal(decode("fr", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "104233");
}

static void test_fr_altgr_0_types_at(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    altgr(&k, KEY_0);
    altgr(&k, KEY_3);
    assert_int_equal(decode("fr", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "@#");
}

static void test_de_altgr_q_types_at(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_Y);
    altgr(&k, KEY_Q);
    altgr(&k, KEY_8);
    altgr(&k, KEY_MINUS);
    tap(&k, KEY_Z);
    assert_int_equal(decode("de", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "z@[\\y");
}

static void test_de_ctrl_alt_is_altgr(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    down(&k, KEY_LEFTCTRL);
    down(&k, KEY_LEFTALT);
    tap(&k, KEY_E);
    up(&k, KEY_LEFTALT);
    up(&k, KEY_LEFTCTRL);
    assert_int_equal(decode("de", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xe2\x82\xac");
}

static void test_us_right_alt_is_no_altgr(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    altgr(&k, KEY_Q);
    tap(&k, KEY_Q);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 1);
    assert_string_equal(text, "q");
}

static void test_de_dead_circumflex_combines_or_stands_alone(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_GRAVE);
    tap(&k, KEY_E);
    tap(&k, KEY_GRAVE);
    tap(&k, KEY_SPACE);
    tap(&k, KEY_GRAVE);
    tap(&k, KEY_1);
    assert_int_equal(decode("de", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xc3\xaa^^1");
}

static void test_uk_shift_3_is_pound_and_quote_keys_swap(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    shifted(&k, KEY_3);
    shifted(&k, KEY_2);
    shifted(&k, KEY_APOSTROPHE);
    tap(&k, KEY_BACKSLASH);
    altgr(&k, KEY_4);
    assert_int_equal(decode("uk", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\xc2\xa3\"@#\xe2\x82\xac");
}

static void test_ctrl_right_bracket_types_group_separator(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    down(&k, KEY_LEFTCTRL);
    tap(&k, KEY_RIGHTBRACE);
    up(&k, KEY_LEFTCTRL);
    assert_int_equal(decode("us", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "\x1d");
}

static void test_enter_keypad_enter_and_tab_type_cr_and_tab(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_9);
    tap(&k, KEY_ENTER);
    tap(&k, KEY_KP8);
    tap(&k, KEY_KPENTER);
    tap(&k, KEY_KPDOT);
    tap(&k, KEY_TAB);
    assert_int_equal(decode("de", &k, text, sizeof(text)), 0);
    assert_string_equal(text, "9\r8\r,\t");
}

static void test_unknown_keys_are_skipped_and_counted(void **state)
{
    struct keys k = {.n = 0};
    char text[64];

    (void)state;
    tap(&k, KEY_F1);
    tap(&k, KEY_A);
    tap(&k, KEY_ESC);
    tap(&k, KEY_VOLUMEUP);
    shifted(&k, KEY_GRAVE); /* nothing on the French ² key with Shift */
    tap(&k, KEY_B);
    assert_int_equal(decode("fr", &k, text, sizeof(text)), 4);
    assert_string_equal(text, "qb");
}

static void test_unknown_layout_is_refused(void **state)
{
    struct dk_evdev_decoder d;

    (void)state;
    assert_false(evdev_decoder_init(&d, "dvorak"));
    assert_true(evdev_decoder_init(&d, ""));
    assert_string_equal(evdev_decoder_layout_name(&d), "us");
}

static void test_code_page_tables(void **state)
{
    (void)state;
    assert_int_equal(evdev_codepage_char(0x80, true), 0x20AC);
    assert_int_equal(evdev_codepage_char(0x9F, true), 0x0178);
    assert_int_equal(evdev_codepage_char(0x8D, true), 0);
    assert_int_equal(evdev_codepage_char(0xE9, true), 0x00E9);
    assert_int_equal(evdev_codepage_char(0x80, false), 0x00C7);
    assert_int_equal(evdev_codepage_char(0xDB, false), 0x2588);
    assert_int_equal(evdev_codepage_char(0xFF, false), 0x00A0);
    assert_int_equal(evdev_codepage_char(0x1D, false), 0x1D);
    assert_int_equal(evdev_codepage_char(0, true), 0);
}

/* The back end on a FIFO in a fresh folder. */
struct fifo {
    char dir[64];
    char path[96];
    int writer;
    struct dk_scanner *scanner;
};

static void open_fifo_scanner(struct fifo *f, enum dk_terminator term, const char *layout)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_EVDEV, .vid = -1, .pid = -1};
    struct dk_error err = {{0}};

    snprintf(f->dir, sizeof(f->dir), "%s", "/tmp/dk-evdev-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/scanner", f->dir);
    assert_int_equal(mkfifo(f->path, 0600), 0);
    snprintf(cfg.name, sizeof(cfg.name), "%s", "wedge");
    snprintf(cfg.device, sizeof(cfg.device), "%s", f->path);
    snprintf(cfg.layout, sizeof(cfg.layout), "%s", layout);
    cfg.terminator = term;
    cfg.char_timeout_ms = 80;
    assert_int_equal(scanner_open(&cfg, &f->scanner, &err), 0);
    /* The reader is open, so this does not block. */
    f->writer = open(f->path, O_WRONLY | O_CLOEXEC);
    assert_true(f->writer >= 0);
}

static void close_fifo(struct fifo *f)
{
    scanner_close(f->scanner);
    if (f->writer >= 0)
        close(f->writer);
    unlink(f->path);
    rmdir(f->dir);
}

static void send_keys(int fd, const struct keys *k)
{
    size_t size = k->n * sizeof(k->ev[0]);

    assert_int_equal(write(fd, k->ev, size), (ssize_t)size);
}

/* Take the next scan, waiting up to 2 s for input or a pause to end. */
static int next_scan(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err)
{
    for (int i = 0; i < 40; i++) {
        struct pollfd pfd = {.fd = scanner_fd(s), .events = POLLIN};
        int rc = scanner_next(s, ev, err);
        int wait = scanner_wait_ms(s);

        if (rc != 0)
            return rc;
        poll(&pfd, 1, wait >= 0 && wait < 50 ? wait : 50);
    }
    return 0;
}

static void test_fifo_scans_end_at_enter(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    open_fifo_scanner(&f, DK_TERM_CR, "us");
    tap(&k, KEY_1);
    tap(&k, KEY_0);
    tap(&k, KEY_4);
    tap(&k, KEY_ENTER);
    shifted(&k, KEY_Y);
    shifted(&k, KEY_E);
    shifted(&k, KEY_S);
    tap(&k, KEY_KPENTER);
    send_keys(f.writer, &k);
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "104");
    assert_string_equal(ev.source, "wedge");
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "YES");
    assert_int_equal(scanner_next(f.scanner, &ev, &err), 0);
    close_fifo(&f);
}

static void test_fifo_uses_the_configured_layout(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    open_fifo_scanner(&f, DK_TERM_CR, "fr");
    shifted(&k, KEY_1);
    shifted(&k, KEY_0);
    tap(&k, KEY_Q);
    tap(&k, KEY_ENTER);
    send_keys(f.writer, &k);
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "10a");
    close_fifo(&f);
}

static void test_fifo_tab_terminator(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    open_fifo_scanner(&f, DK_TERM_TAB, "us");
    shifted(&k, KEY_D);
    shifted(&k, KEY_O);
    shifted(&k, KEY_N);
    shifted(&k, KEY_E);
    tap(&k, KEY_TAB);
    send_keys(f.writer, &k);
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "DONE");
    close_fifo(&f);
}

static void test_fifo_no_terminator_ends_scan_after_pause(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    open_fifo_scanner(&f, DK_TERM_NONE, "us");
    tap(&k, KEY_4);
    tap(&k, KEY_2);
    tap(&k, KEY_ENTER); /* types nothing when scans end at a pause */
    send_keys(f.writer, &k);
    usleep(20000);
    assert_int_equal(scanner_next(f.scanner, &ev, &err), 0);
    assert_true(scanner_wait_ms(f.scanner) > 0);
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "42");
    assert_int_equal(scanner_wait_ms(f.scanner), -1);
    close_fifo(&f);
}

static void test_fifo_event_split_across_writes(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    const char *bytes = (const char *)k.ev;

    (void)state;
    open_fifo_scanner(&f, DK_TERM_CR, "us");
    tap(&k, KEY_7);
    tap(&k, KEY_ENTER);
    assert_int_equal(write(f.writer, bytes, 5), 5);
    assert_int_equal(next_scan(f.scanner, &ev, &err), 0);
    assert_int_equal(write(f.writer, bytes + 5, k.n * sizeof(k.ev[0]) - 5),
                     (ssize_t)(k.n * sizeof(k.ev[0]) - 5));
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "7");
    close_fifo(&f);
}

static void test_fifo_before_any_writer_is_not_gone(void **state)
{
    struct fifo f;
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_EVDEV, .vid = -1, .pid = -1};

    (void)state;
    snprintf(f.dir, sizeof(f.dir), "%s", "/tmp/dk-evdev-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    snprintf(f.path, sizeof(f.path), "%s/scanner", f.dir);
    assert_int_equal(mkfifo(f.path, 0600), 0);
    snprintf(cfg.name, sizeof(cfg.name), "%s", "wedge");
    snprintf(cfg.device, sizeof(cfg.device), "%s", f.path);
    cfg.char_timeout_ms = 50;
    assert_int_equal(scanner_open(&cfg, &f.scanner, &err), 0);
    f.writer = -1;
    assert_int_equal(scanner_next(f.scanner, &ev, &err), 0);
    assert_int_equal(scanner_next(f.scanner, &ev, &err), 0);
    close_fifo(&f);
}

static void test_fifo_writer_closing_is_scanner_gone(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    char expected[256];

    (void)state;
    open_fifo_scanner(&f, DK_TERM_CR, "us");
    tap(&k, KEY_5);
    tap(&k, KEY_ENTER);
    send_keys(f.writer, &k);
    close(f.writer);
    f.writer = -1;
    assert_int_equal(next_scan(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "5");
    assert_int_equal(next_scan(f.scanner, &ev, &err), -ENODEV);
    snprintf(expected, sizeof(expected), "scanner wedge on %s is gone", f.path);
    assert_string_equal(err.msg, expected);
    close_fifo(&f);
}

static void test_fifo_gone_mid_pause_hands_over_the_scan(void **state)
{
    struct fifo f;
    struct keys k = {.n = 0};
    struct dk_scan_event ev;
    struct dk_error err = {{0}};

    (void)state;
    open_fifo_scanner(&f, DK_TERM_NONE, "us");
    tap(&k, KEY_8);
    send_keys(f.writer, &k);
    close(f.writer);
    f.writer = -1;
    assert_int_equal(scanner_next(f.scanner, &ev, &err), 1);
    assert_string_equal(ev.text, "8");
    assert_int_equal(scanner_next(f.scanner, &ev, &err), -ENODEV);
    close_fifo(&f);
}

static void test_recorded_file_is_read_then_ends_for_good(void **state)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_EVDEV, .vid = -1, .pid = -1};
    struct dk_error err = {{0}};
    struct dk_scanner *s = NULL;
    struct dk_scan_event ev;
    struct keys k = {.n = 0};
    char dir[] = "/tmp/dk-evdev-XXXXXX";
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(cfg.name, sizeof(cfg.name), "%s", "file");
    snprintf(cfg.device, sizeof(cfg.device), "%s/recording", dir);
    cfg.char_timeout_ms = 50;
    tap(&k, KEY_6);
    tap(&k, KEY_ENTER);
    tap(&k, KEY_X);
    tap(&k, KEY_ENTER);
    fd = open(cfg.device, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    send_keys(fd, &k);
    close(fd);
    assert_int_equal(scanner_open(&cfg, &s, &err), 0);
    assert_int_equal(scanner_next(s, &ev, &err), 1);
    assert_string_equal(ev.text, "6");
    assert_int_equal(scanner_next(s, &ev, &err), 1);
    assert_string_equal(ev.text, "x");
    /* Ended, not "gone": a gone scanner is opened again, and a recording
     * opened again would play the same keys again. */
    assert_int_equal(scanner_next(s, &ev, &err), DK_ENODATA);
    assert_non_null(strstr(err.msg, "scanner file: recording "));
    assert_non_null(strstr(err.msg, "/recording has ended"));
    scanner_close(s);
    unlink(cfg.device);
    rmdir(dir);
}

static void test_missing_device_names_it(void **state)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_EVDEV, .vid = -1, .pid = -1};
    struct dk_error err = {{0}};
    struct dk_scanner *s = NULL;

    (void)state;
    snprintf(cfg.name, sizeof(cfg.name), "%s", "w");
    snprintf(cfg.device, sizeof(cfg.device), "%s", "/nonexistent/ev9");
    assert_int_equal(scanner_open(&cfg, &s, &err), -ENOENT);
    assert_string_equal(err.msg,
                        "cannot open scanner w: /nonexistent/ev9: No such file or directory");
}

static void test_search_with_no_matching_device_is_enodev(void **state)
{
    struct dk_scanner_config cfg = {.kind = DK_SCANNER_EVDEV, .vid = 0x05e0, .pid = -1};
    struct dk_error err = {{0}};
    struct dk_scanner *s = NULL;

    (void)state;
    /* No input device here has Symbol's vendor id (05e0), on a test machine
     * or in a container without /dev/input. */
    snprintf(cfg.name, sizeof(cfg.name), "%s", "w");
    snprintf(cfg.match_name, sizeof(cfg.match_name), "%s", "no such scanner 7Q");
    assert_int_equal(scanner_open(&cfg, &s, &err), -ENODEV);
    assert_non_null(strstr(err.msg,
                           "cannot find scanner w: no input device has vid 05e0 pid any name "
                           "'no such scanner 7Q'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_us_digits_and_letters),
        cmocka_unit_test(test_us_shift_gives_capitals_and_symbols),
        cmocka_unit_test(test_caps_lock_capitalises_letters_only),
        cmocka_unit_test(test_caps_lock_capitalises_german_umlauts),
        cmocka_unit_test(test_autorepeat_adds_nothing),
        cmocka_unit_test(test_syn_and_msc_events_are_ignored),
        cmocka_unit_test(test_alt_keypad_0029_types_group_separator),
        cmocka_unit_test(test_alt_keypad_29_without_zero_types_group_separator),
        cmocka_unit_test(test_alt_keypad_0233_is_windows_1252_e_acute),
        cmocka_unit_test(test_alt_keypad_130_is_cp437_e_acute),
        cmocka_unit_test(test_alt_keypad_0128_is_the_euro_sign),
        cmocka_unit_test(test_alt_keypad_undefined_windows_1252_is_skipped),
        cmocka_unit_test(test_same_keys_differ_on_fr_and_us),
        cmocka_unit_test(test_fr_digits_need_shift),
        cmocka_unit_test(test_fr_altgr_0_types_at),
        cmocka_unit_test(test_de_altgr_q_types_at),
        cmocka_unit_test(test_de_ctrl_alt_is_altgr),
        cmocka_unit_test(test_us_right_alt_is_no_altgr),
        cmocka_unit_test(test_de_dead_circumflex_combines_or_stands_alone),
        cmocka_unit_test(test_uk_shift_3_is_pound_and_quote_keys_swap),
        cmocka_unit_test(test_ctrl_right_bracket_types_group_separator),
        cmocka_unit_test(test_enter_keypad_enter_and_tab_type_cr_and_tab),
        cmocka_unit_test(test_unknown_keys_are_skipped_and_counted),
        cmocka_unit_test(test_unknown_layout_is_refused),
        cmocka_unit_test(test_code_page_tables),
        cmocka_unit_test(test_fifo_scans_end_at_enter),
        cmocka_unit_test(test_fifo_uses_the_configured_layout),
        cmocka_unit_test(test_fifo_tab_terminator),
        cmocka_unit_test(test_fifo_no_terminator_ends_scan_after_pause),
        cmocka_unit_test(test_fifo_event_split_across_writes),
        cmocka_unit_test(test_fifo_before_any_writer_is_not_gone),
        cmocka_unit_test(test_fifo_writer_closing_is_scanner_gone),
        cmocka_unit_test(test_fifo_gone_mid_pause_hands_over_the_scan),
        cmocka_unit_test(test_recorded_file_is_read_then_ends_for_good),
        cmocka_unit_test(test_missing_device_names_it),
        cmocka_unit_test(test_search_with_no_matching_device_is_enodev),
    };

    return cmocka_run_group_tests_name("evdev", tests, NULL, NULL);
}
