/* Reading the INI configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/dk-config-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    static const char *const names[] = {"good.conf",   "unknown.conf", "section.conf",
                                        "number.conf", "secret.conf",  "usb.conf",
                                        "badusb.conf", "refused.conf", "printer.conf",
                                        "empty.conf",  "nul.conf",     "http.conf",
                                        "kiosk.crt",   "kiosk.key"};
    char path[256];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

static void test_config_reads_sections_and_relative_paths(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("good.conf", "[kiosk]\n"
                                               "database = kiosk.db\n"
                                               "site = bolling\n"
                                               "site_name = Bolling Building\n"
                                               "idle_timeout = 90\n"
                                               "[scanner lobby]\n"
                                               "type = serial\n"
                                               "device = /dev/ttyACM0\n"
                                               "speed = 115200\n"
                                               "terminator = crlf\n"
                                               "[mail]\n"
                                               "transport = smtp\n"
                                               "url = smtp://127.0.0.1:2525\n"
                                               "starttls = optional\n");

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), 0);
    assert_string_equal(cfg.site_id, "bolling");
    assert_string_equal(cfg.site_name, "Bolling Building");
    assert_int_equal(cfg.idle_timeout, 90);
    assert_true(strncmp(cfg.database, dir, strlen(dir)) == 0);
    assert_string_equal(cfg.database + strlen(dir), "/kiosk.db");
    assert_int_equal(cfg.n_scanners, 1);
    assert_string_equal(cfg.scanners[0].name, "lobby");
    assert_int_equal(cfg.scanners[0].kind, DK_SCANNER_SERIAL);
    assert_string_equal(cfg.scanners[0].device, "/dev/ttyACM0");
    assert_int_equal(cfg.scanners[0].speed, 115200);
    assert_int_equal(cfg.scanners[0].terminator, DK_TERM_CRLF);
    assert_int_equal(cfg.transport, DK_MAIL_SMTP);
    assert_int_equal(cfg.starttls, DK_STARTTLS_OPTIONAL);
}

static void test_config_reads_usb_scanner_keys(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("usb.conf", "[scanner wedge]\n"
                                              "type = evdev\n"
                                              "vid = 05e0\n"
                                              "pid = 0x1200\n"
                                              "name = Symbol Bar Code Scanner\n"
                                              "layout = fr\n"
                                              "terminator = none\n"
                                              "char_timeout_ms = 40\n"
                                              "[scan]\n"
                                              "repeat_window_ms = 500\n");

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), 0);
    assert_int_equal(cfg.scanners[0].kind, DK_SCANNER_EVDEV);
    assert_int_equal(cfg.scanners[0].vid, 0x05e0);
    assert_int_equal(cfg.scanners[0].pid, 0x1200);
    assert_string_equal(cfg.scanners[0].match_name, "Symbol Bar Code Scanner");
    assert_string_equal(cfg.scanners[0].layout, "fr");
    assert_int_equal(cfg.scanners[0].terminator, DK_TERM_NONE);
    assert_int_equal(cfg.scanners[0].char_timeout_ms, 40);
    assert_int_equal(cfg.repeat_window_ms, 500);
}

static void test_config_refuses_bad_usb_id_and_layout(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    char expected[512];
    const char *path = write_conf("badusb.conf", "[scanner wedge]\nvid = 5e0\n");

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:2: bad value '5e0' for vid", path);
    assert_string_equal(err.msg, expected);
    path = write_conf("badusb.conf", "[scanner wedge]\nlayout = dvorak\n");
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:2: bad value 'dvorak' for layout", path);
    assert_string_equal(err.msg, expected);
}

static void test_config_unknown_key_names_file_line_and_key(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("unknown.conf", "[kiosk]\nsite = bolling\n\ncolour = blue\n");
    char expected[512];

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:4: unknown key 'colour' in [kiosk]", path);
    assert_string_equal(err.msg, expected);
}

static void test_config_unknown_section_is_refused(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("section.conf", "[printer]\nmodel = x\n");
    char expected[512];

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:2: unknown section [printer]", path);
    assert_string_equal(err.msg, expected);
}

static void test_config_bad_number_is_refused(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("number.conf", "[kiosk]\nidle_timeout = 12x\n");
    char expected[512];

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected),
             "%s:2: bad value '12x' for idle_timeout: a whole number from 5 to 86400 (seconds)",
             path);
    assert_string_equal(err.msg, expected);
}

static void test_config_password_never_echoed(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    char text[600] = "[mail]\npassword = ";

    (void)state;
    memset(text + strlen(text), 's', 300);
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, write_conf("secret.conf", text), &err), DK_EINPUT);
    assert_null(strstr(err.msg, "sss"));
    assert_non_null(strstr(err.msg, "secret.conf:2: line too long (at most 198 characters)"));
}

/* Loads text and checks the error is "PATH:LINE: what". */
static void assert_refused(const char *text, int line, const char *what)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("refused.conf", text);
    char expected[512];

    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:%d: %s", path, line, what);
    assert_string_equal(err.msg, expected);
}

/* Each whole-number setting names its range and unit when refused, as
 * speed names its values. */
static void test_config_number_refusal_names_the_range(void **state)
{
    (void)state;
    assert_refused("[kiosk]\nidle_timeout = 2\n", 2,
                   "bad value '2' for idle_timeout: a whole number from 5 to 86400 (seconds)");
    assert_refused("[scan]\nmax_length = 300\n", 2,
                   "bad value '300' for max_length: a whole number from 4 to 256 (characters)");
    assert_refused("[scan]\nrepeat_window_ms = -1\n", 2,
                   "bad value '-1' for repeat_window_ms: a whole number from 0 to 10000 "
                   "(milliseconds)");
    assert_refused("[scanner lobby]\nchar_timeout_ms = 1\n", 2,
                   "bad value '1' for char_timeout_ms: a whole number from 5 to 2000 "
                   "(milliseconds)");
    assert_refused("[printer lobby]\ntype = tcp\nport = 0\n", 3,
                   "bad value '0' for port: a whole number from 1 to 65535 (TCP port)");
    assert_refused("[printer lobby]\ntimeout_ms = 99\n", 2,
                   "bad value '99' for timeout_ms: a whole number from 100 to 60000 "
                   "(milliseconds)");
    assert_refused("[printer lobby]\nrecheck_seconds = 3601\n", 2,
                   "bad value '3601' for recheck_seconds: a whole number from 1 to 3600 "
                   "(seconds)");
    assert_refused("[mail]\ntimeout = 0\n", 2,
                   "bad value '0' for timeout: a whole number from 1 to 600 (seconds)");
    assert_refused("[mail]\nretry_base = 1.5\n", 2,
                   "bad value '1.5' for retry_base: a whole number from 1 to 86400 (seconds)");
    assert_refused("[mail]\nretry_max = 604801\n", 2,
                   "bad value '604801' for retry_max: a whole number from 1 to 604800 "
                   "(seconds)");
    assert_refused("[http]\nport = 70000\n", 2,
                   "bad value '70000' for port: a whole number from 0 to 65535 (TCP port; 0 "
                   "for no screen server)");
    assert_refused("[http]\nmax_body = 1000\n", 2,
                   "bad value '1000' for max_body: a whole number from 1024 to 16777216 "
                   "(bytes)");
    assert_refused("[http]\ntech_session_minutes = 481\n", 2,
                   "bad value '481' for tech_session_minutes: a whole number from 1 to 480 "
                   "(minutes)");
    assert_refused("[intake]\noverdue_days = 0\n", 2,
                   "bad value '0' for overdue_days: a whole number from 1 to 365 (days)");
    assert_refused("[intake]\ncharger_cost = 35.5\n", 2,
                   "bad value '35.5' for charger_cost: an amount from 0 to 100000, with no or "
                   "two decimals (35 or 35.50)");
}

static void test_config_refuses_unknown_timezone(void **state)
{
    (void)state;
    assert_refused("[kiosk]\ntimezone = Mars/Olympus\n", 2,
                   "bad value 'Mars/Olympus' for timezone");
    assert_refused("[kiosk]\ntimezone = ../../etc/passwd\n", 2,
                   "bad value '../../etc/passwd' for timezone");
}

static void test_config_refuses_malformed_addresses(void **state)
{
    (void)state;
    assert_refused("[mail]\nfrom = not an address\n", 2,
                   "bad value 'not an address' for from");
    assert_refused("[mail]\nservice_desk = desk\n", 2, "bad value 'desk' for service_desk");
}

static void test_config_refuses_control_characters_in_text(void **state)
{
    (void)state;
    assert_refused("[kiosk]\nkiosk = lobby\x01\n", 2, "bad value 'lobby?' for kiosk");
    assert_refused("[kiosk]\ndistrict = Ex\xe9mple\n", 2,
                   "bad value 'Ex\xe9mple' for district");
    /* Quoted back with '?' for each control byte: a value cannot clear the
     * terminal that shows the message. */
    assert_refused("[kiosk]\ndistrict = Example \x01\x1b[2J City\n", 2,
                   "bad value 'Example ??[2J City' for district");
}

static void test_config_refuses_key_set_twice(void **state)
{
    (void)state;
    assert_refused("[kiosk]\nsite = a\nsite = b\n", 3, "'site' set twice in [kiosk]");
}

static void test_config_refuses_smtp_without_url(void **state)
{
    (void)state;
    assert_refused("[mail]\nfrom = k@example.org\ntransport = smtp\n", 3,
                   "transport = smtp needs url = smtp://HOST:PORT or smtps://HOST:PORT in "
                   "[mail]");
}

static void test_config_refuses_serial_scanner_without_device(void **state)
{
    (void)state;
    assert_refused("[kiosk]\nsite = a\n[scanner lobby]\ntype = serial\n", 4,
                   "[scanner lobby] needs device = PATH");
}

static void test_config_reads_printer_language_and_digest(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("printer.conf", "[kiosk]\n"
                                                  "language = es\n"
                                                  "catalogs = ui/i18n\n"
                                                  "[receipt]\n"
                                                  "print = always\n"
                                                  "[printer lobby]\n"
                                                  "type = tcp\n"
                                                  "host = 127.0.0.1\n"
                                                  "port = 9101\n"
                                                  "width = 58\n"
                                                  "model = tm-t20\n"
                                                  "qr = raster\n"
                                                  "[mail]\n"
                                                  "digest = yes\n"
                                                  "digest_time = 16:45\n"
                                                  "ticket_subject = KACE reimage {tag}\n");

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), 0);
    assert_string_equal(cfg.language, "es");
    assert_int_equal(strncmp(cfg.catalog_dir, dir, strlen(dir)), 0);
    assert_string_equal(cfg.catalog_dir + strlen(dir), "/ui/i18n");
    assert_int_equal(cfg.print, DK_PRINT_ALWAYS);
    assert_int_equal(cfg.n_printers, 1);
    assert_string_equal(cfg.printers[0].name, "lobby");
    assert_int_equal(cfg.printers[0].kind, DK_PRINTER_TCP);
    assert_string_equal(cfg.printers[0].host, "127.0.0.1");
    assert_int_equal(cfg.printers[0].port, 9101);
    assert_int_equal(cfg.printers[0].width_mm, 58);
    assert_string_equal(cfg.printers[0].model, "tm-t20");
    assert_int_equal(cfg.printers[0].qr, DK_QR_RASTER);
    assert_int_equal(cfg.printers[0].timeout_ms, 3000);
    assert_int_equal(cfg.printers[0].recheck_seconds, 30);
    assert_true(cfg.digest);
    assert_int_equal(cfg.digest_minute, 16 * 60 + 45);
    assert_string_equal(cfg.ticket_subject, "KACE reimage {tag}");
}

static void test_config_printer_defaults_to_80mm_auto_qr(void **state)
{
    struct dk_config cfg;

    (void)state;
    config_defaults(&cfg);
    assert_string_equal(cfg.language, "en");
    assert_int_equal(cfg.print, DK_PRINT_ASK);
    assert_int_equal(cfg.n_printers, 0);
    assert_false(cfg.digest);
    assert_int_equal(cfg.digest_minute, 17 * 60);
    assert_string_equal(cfg.ticket_subject, "Reimage desktop {tag} at {site_name}");
}

static void test_config_refuses_bad_printer_settings(void **state)
{
    (void)state;
    assert_refused("[printer lobby]\ntype = tcp\nport = 9100\n", 2,
                   "[printer lobby] type = tcp needs host = NAME");
    assert_refused("[printer lobby]\ntype = file\nwidth = 60\n", 3,
                   "bad value '60' for width: 58 or 80 (millimetres of paper)");
    assert_refused("[printer lobby]\ntype = cups\n", 2,
                   "[printer lobby] type = cups needs queue = NAME");
    assert_refused("[printer lobby]\ntype = laser\n", 2,
                   "bad value 'laser' for type");
    assert_refused("[printer lobby]\ntype = file\ndevice = out\nqr = maybe\n", 4,
                   "bad value 'maybe' for qr");
}

static void test_config_printer_needs_a_type(void **state)
{
    (void)state;
    assert_refused("[printer desk]\ndevice = out\n", 2,
                   "[printer desk] needs type = usb, usblp, tcp, cups or file");
}

static void test_config_refuses_bad_language_and_digest_time(void **state)
{
    (void)state;
    assert_refused("[kiosk]\nlanguage = ../etc/passwd\n", 2,
                   "bad value '../etc/passwd' for language");
    assert_refused("[kiosk]\nlanguage = ES\n", 2, "bad value 'ES' for language");
    assert_refused("[mail]\ndigest_time = 24:00\n", 2, "bad value '24:00' for digest_time");
    assert_refused("[mail]\ndigest_time = 5pm\n", 2, "bad value '5pm' for digest_time");
    assert_refused("[receipt]\nprint = sometimes\n", 2, "bad value 'sometimes' for print");
    assert_refused("[mail]\nticket_subject = Reimage {tag} in {room}\n", 2,
                   "ticket_subject: unknown placeholder {room}: use {tag}, {serial}, {model}, "
                   "{site}, {site_name}, {kiosk} or {staff_id}");
}

static void test_config_refuses_unsupported_serial_speed(void **state)
{
    (void)state;
    assert_refused("[scanner serial]\ntype = serial\ndevice = /dev/ttyS0\nspeed = 9601\n", 4,
                   "bad value '9601' for speed: a serial scanner runs at 1200, 2400, 4800, "
                   "9600, 19200, 38400, 57600, 115200, 230400, 460800 or 921600 baud");
    assert_refused("[scanner serial]\nspeed = fast\n", 2,
                   "bad value 'fast' for speed: a serial scanner runs at 1200, 2400, 4800, "
                   "9600, 19200, 38400, 57600, 115200, 230400, 460800 or 921600 baud");
}

static void test_config_serial_speeds_are_listed_in_order(void **state)
{
    (void)state;
    assert_int_equal(config_serial_speed(0), 1200);
    assert_int_equal(config_serial_speed(3), 9600);
    assert_int_equal(config_serial_speed(10), 921600);
    assert_int_equal(config_serial_speed(11), 0);
    assert_int_equal(config_serial_speed(-1), 0);
}

static void test_config_refuses_bad_cups_queue_name(void **state)
{
    (void)state;
    assert_refused("[printer desk]\ntype = cups\nqueue = lobby printer\n", 3,
                   "bad value 'lobby printer' for queue: a CUPS queue name has 1 to 127 "
                   "characters, none of them a space, /, \\, ?, ', \", # or @");
    assert_refused("[printer desk]\ntype = cups\nqueue = lobby@print.example.org\n", 3,
                   "bad value 'lobby@print.example.org' for queue: a CUPS queue name has 1 to "
                   "127 characters, none of them a space, /, \\, ?, ', \", # or @");
}

static void test_config_refuses_empty_required_paths(void **state)
{
    (void)state;
    assert_refused("[kiosk]\ndatabase =\n", 2,
                   "empty value for database: give a path, or remove the line for the default");
    assert_refused("[receipt]\nsigning_key =\n", 2,
                   "empty value for signing_key: give a path, or remove the line for the "
                   "default");
    assert_refused("[receipt]\ndirectory =\n", 2,
                   "empty value for directory: give a path, or remove the line for the default");
    assert_refused("[mail]\nspool =\n", 2,
                   "empty value for spool: give a path, or remove the line for the default");
}

/* Empty is "none" or "built in", never the config's own folder. */
static void test_config_empty_optional_path_stays_unset(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("empty.conf", "[kiosk]\ncatalogs =\n[http]\nui =\n");

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), 0);
    assert_string_equal(cfg.catalog_dir, "");
    assert_string_equal(cfg.ui_dir, "");
    assert_refused("[scanner lobby]\ntype = serial\ndevice =\n", 2,
                   "[scanner lobby] needs device = PATH");
}

static void test_config_unclosed_section_is_named_at_its_line(void **state)
{
    (void)state;
    /* Not at line 6, the key inih would otherwise file under [mail]. */
    assert_refused("[kiosk]\nsite = a\n[mail]\nfrom = k@example.org\n[intake\n"
                   "overdue_days = 7\n", 5, "section header without ']'");
}

static void test_config_syntax_error_before_a_bad_key_is_named_first(void **state)
{
    (void)state;
    assert_refused("[kiosk]\nsite = a\nnot a setting\ncolour = blue\n", 3,
                   "not a valid INI line");
}

static void test_config_refuses_nul_byte_naming_its_line(void **state)
{
    static const char text[] = "[kiosk]\nsite = a\nkiosk = kio\0sk-1\n[scanner t]\n";
    struct dk_config cfg;
    struct dk_error err = {{0}};
    char path[256];
    char expected[512];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/nul.conf", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
    fclose(f);
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:3: NUL byte in the line: the config must be text",
             path);
    assert_string_equal(err.msg, expected);
}

/* Loads text (good) and checks config_check_files gives DK_EINPUT and
 * "PATH:LINE: WHAT DIR/NAME: WHY", DIR the test's folder. */
static void assert_files_refused(const char *text, int line, const char *what, const char *name,
                                 const char *why)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("http.conf", text);
    char expected[512];

    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), 0);
    assert_int_equal(config_check_files(&cfg, &err), DK_EINPUT);
    snprintf(expected, sizeof(expected), "%s:%d: %s %s/%s: %s", path, line, what, dir, name,
             why);
    assert_string_equal(err.msg, expected);
}

static void test_config_check_files_names_missing_ui_certificate_and_key(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};

    (void)state;
    write_conf("kiosk.crt", "-----BEGIN CERTIFICATE-----\n");
    write_conf("kiosk.key", "-----BEGIN PRIVATE KEY-----\n");
    assert_files_refused("[http]\nport = 8080\nui = nowhere\n", 3,
                         "cannot open [http] ui folder", "nowhere", "No such file or directory");
    assert_files_refused("[http]\nport = 8080\nui = kiosk.crt\n", 3,
                         "cannot open [http] ui folder", "kiosk.crt", "Not a directory");
    assert_files_refused("[http]\nport = 8080\ncertificate = gone.crt\nkey = kiosk.key\n", 3,
                         "cannot read [http] certificate", "gone.crt",
                         "No such file or directory");
    assert_files_refused("[http]\nport = 8080\ncertificate = kiosk.crt\n\nkey = .\n", 5,
                         "cannot read [http] key", ".", "not a regular file");

    /* Both there, and the folder: nothing to say. */
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, write_conf("http.conf", "[http]\nport = 8080\nui = .\n"
                                                             "certificate = kiosk.crt\n"
                                                             "key = kiosk.key\n"),
                                 &err),
                     0);
    assert_int_equal(config_check_files(&cfg, &err), 0);
}

static void test_config_check_files_ignores_them_without_a_screen(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};
    const char *path = write_conf("http.conf", "[http]\nport = 0\nui = nowhere\n"
                                               "certificate = gone.crt\n");

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, path, &err), 0);
    assert_int_equal(config_check_files(&cfg, &err), 0);
}

static void test_config_refuses_a_directory(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, "/tmp", &err), DK_EINPUT);
    assert_string_equal(err.msg, "config /tmp is not a regular file");
}

static void test_config_missing_file_is_errno(void **state)
{
    struct dk_config cfg;
    struct dk_error err = {{0}};

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_load(&cfg, "/nonexistent/dropkiosk.conf", &err), -2);
    assert_string_equal(err.msg, "cannot read config /nonexistent/dropkiosk.conf: "
                                 "No such file or directory");
}

static void test_config_path_order(void **state)
{
    (void)state;
    setenv("DROPKIOSK_CONFIG", "/srv/k.conf", 1);
    assert_string_equal(config_default_path("x.conf"), "x.conf");
    assert_string_equal(config_default_path(NULL), "/srv/k.conf");
    unsetenv("DROPKIOSK_CONFIG");
    assert_string_equal(config_default_path(NULL), "/etc/dropkiosk/dropkiosk.conf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_reads_sections_and_relative_paths),
        cmocka_unit_test(test_config_reads_usb_scanner_keys),
        cmocka_unit_test(test_config_refuses_bad_usb_id_and_layout),
        cmocka_unit_test(test_config_unknown_key_names_file_line_and_key),
        cmocka_unit_test(test_config_unknown_section_is_refused),
        cmocka_unit_test(test_config_bad_number_is_refused),
        cmocka_unit_test(test_config_password_never_echoed),
        cmocka_unit_test(test_config_number_refusal_names_the_range),
        cmocka_unit_test(test_config_refuses_unknown_timezone),
        cmocka_unit_test(test_config_refuses_malformed_addresses),
        cmocka_unit_test(test_config_refuses_control_characters_in_text),
        cmocka_unit_test(test_config_refuses_key_set_twice),
        cmocka_unit_test(test_config_refuses_smtp_without_url),
        cmocka_unit_test(test_config_refuses_serial_scanner_without_device),
        cmocka_unit_test(test_config_reads_printer_language_and_digest),
        cmocka_unit_test(test_config_printer_defaults_to_80mm_auto_qr),
        cmocka_unit_test(test_config_refuses_bad_printer_settings),
        cmocka_unit_test(test_config_refuses_bad_language_and_digest_time),
        cmocka_unit_test(test_config_printer_needs_a_type),
        cmocka_unit_test(test_config_refuses_unsupported_serial_speed),
        cmocka_unit_test(test_config_serial_speeds_are_listed_in_order),
        cmocka_unit_test(test_config_refuses_bad_cups_queue_name),
        cmocka_unit_test(test_config_refuses_empty_required_paths),
        cmocka_unit_test(test_config_empty_optional_path_stays_unset),
        cmocka_unit_test(test_config_unclosed_section_is_named_at_its_line),
        cmocka_unit_test(test_config_syntax_error_before_a_bad_key_is_named_first),
        cmocka_unit_test(test_config_refuses_nul_byte_naming_its_line),
        cmocka_unit_test(test_config_check_files_names_missing_ui_certificate_and_key),
        cmocka_unit_test(test_config_check_files_ignores_them_without_a_screen),
        cmocka_unit_test(test_config_refuses_a_directory),
        cmocka_unit_test(test_config_missing_file_is_errno),
        cmocka_unit_test(test_config_path_order),
    };

    return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
