#include "config.h"

#include "disposition.h"
#include "fileio.h"
#include "mail.h"
#include "notice_digest.h"
#include "owner.h"
#include "text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DK_SYSTEM_CONFIG "/etc/dropkiosk/dropkiosk.conf"

#define MAX_SEEN_KEYS 256

struct load_ctx {
    struct dk_config *cfg;
    char dir[DK_PATH_MAX]; /* folder of the config file, for relative paths */
    struct dk_error *err;
    int failed_line;
    int line;
    char seen[MAX_SEEN_KEYS][96]; /* "section\nkey" of every key read so far */
    int n_seen;
    int transport_line;
    int scanner_lines[DK_MAX_SCANNERS]; /* where each [scanner NAME] began */
    int printer_lines[DK_MAX_PRINTERS]; /* where each [printer NAME] began */
    bool printer_typed[DK_MAX_PRINTERS]; /* its type = was given */
    int http_line;                       /* where [http] listen was set */
};

void config_defaults(struct dk_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->database, sizeof(cfg->database), "/var/lib/dropkiosk/dropkiosk.db");
    snprintf(cfg->district, sizeof(cfg->district), "School District");
    snprintf(cfg->site_id, sizeof(cfg->site_id), "site");
    snprintf(cfg->site_name, sizeof(cfg->site_name), "Drop-off site");
    snprintf(cfg->kiosk_id, sizeof(cfg->kiosk_id), "kiosk-1");
    snprintf(cfg->timezone, sizeof(cfg->timezone), "UTC");
    cfg->idle_timeout = 120;
    snprintf(cfg->language, sizeof(cfg->language), "en");
    cfg->checklist = true;
    snprintf(cfg->asset_pattern, sizeof(cfg->asset_pattern), "^[0-9]{6}$");
    snprintf(cfg->badge_pattern, sizeof(cfg->badge_pattern), "^S[0-9]{6}$");
    cfg->max_length = 64;
    cfg->repeat_window_ms = 750;
    snprintf(cfg->signing_key, sizeof(cfg->signing_key), "/var/lib/dropkiosk/receipt.key");
    snprintf(cfg->public_key, sizeof(cfg->public_key), "/var/lib/dropkiosk/receipt.pub");
    snprintf(cfg->receipt_dir, sizeof(cfg->receipt_dir), "/var/lib/dropkiosk/receipts");
    cfg->print = DK_PRINT_ASK;
    cfg->transport = DK_MAIL_SPOOL;
    snprintf(cfg->spool_dir, sizeof(cfg->spool_dir), "/var/lib/dropkiosk/mail");
    cfg->starttls = DK_STARTTLS_REQUIRED;
    cfg->smtp_timeout = 30;
    cfg->retry_base = 30;
    cfg->retry_max = 3600;
    snprintf(cfg->mail_from, sizeof(cfg->mail_from), "dropkiosk@localhost");
    snprintf(cfg->ticket_subject, sizeof(cfg->ticket_subject),
             "Reimage desktop {tag} at {site_name}");
    cfg->digest_minute = 17 * 60;
    snprintf(cfg->http_listen, sizeof(cfg->http_listen), "127.0.0.1");
    cfg->http_max_body = 65536;
    cfg->tech_session_minutes = 15;
    cfg->overdue_days = 7;
    for (int i = 0; i < DK_N_ASSET_TYPES; i++)
        cfg->charger_cost_cents[i] = 3500;
}

static const char *const asset_types[DK_N_ASSET_TYPES] = {
    "laptop", "chromebook", "tablet", "phone", "hotspot", "desktop", "other",
};

const char *config_asset_type(int i)
{
    return i >= 0 && i < DK_N_ASSET_TYPES ? asset_types[i] : NULL;
}

int config_asset_type_index(const char *type)
{
    for (int i = 0; i < DK_N_ASSET_TYPES; i++) {
        if (strcmp(type, asset_types[i]) == 0)
            return i;
    }
    return -1;
}

const char *config_default_path(const char *explicit_path)
{
    const char *env;

    if (explicit_path != NULL)
        return explicit_path;
    env = getenv("DROPKIOSK_CONFIG");
    if (env != NULL && env[0] != '\0')
        return env;
    return DK_SYSTEM_CONFIG;
}

/* Every value ends up in receipts, mail or the screen, so it must be
 * clean UTF-8 text. */
static bool set_text(char *dst, size_t size, const char *value)
{
    size_t len = strlen(value);

    if (len >= size || !text_is_clean(value, len))
        return false;
    memcpy(dst, value, len + 1);
    return true;
}

/* A path, relative ones taken from the config's folder.  Empty stays
 * empty (not the config's folder): for the keys where that means "none"
 * or "the built-in one"; required_path refuses it for the others. */
static bool set_path(const struct load_ctx *ctx, char *dst, const char *value)
{
    int n;

    if (value[0] == '\0' || value[0] == '/' || ctx->dir[0] == '\0')
        return set_text(dst, DK_PATH_MAX, value);
    n = snprintf(dst, DK_PATH_MAX, "%s/%s", ctx->dir, value);
    return n > 0 && n < DK_PATH_MAX;
}

static bool set_bool(bool *dst, const char *value)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
        *dst = true;
    else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
        *dst = false;
    else
        return false;
    return true;
}

static bool set_int(int *dst, const char *value, long min, long max)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
        return false;
    *dst = (int)v;
    return true;
}

/* A mail address from the config goes into headers and SMTP commands: one
 * plain address, never CR or LF (header injection).  Empty means none. */
static bool set_address(char *dst, size_t size, const char *value)
{
    return (value[0] == '\0' || mail_address_ok(value)) && set_text(dst, size, value);
}

/* A time zone name from the tz database, e.g. America/New_York.  glibc
 * falls back to UTC without a word for a name it cannot find, and the
 * wrong time would then be signed into every receipt. */
static bool set_timezone(char *dst, size_t size, const char *value)
{
    char path[DK_PATH_MAX];
    struct stat st;

    if (value[0] == '\0' || value[0] == '/' || strstr(value, "..") != NULL)
        return false;
    if (strcmp(value, "UTC") != 0) {
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", value);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return false;
    }
    return set_text(dst, size, value);
}

/* A language code as the catalogs are named: two or three lower-case
 * letters (ISO 639), optionally "-" and a region or script ("pt-BR",
 * "zh-Hans"), so it is always safe as part of a file name. */
static bool set_language(char *dst, size_t size, const char *value)
{
    size_t n = strspn(value, "abcdefghijklmnopqrstuvwxyz");
    const char *rest = value + n;

    if (n < 2 || n > 3)
        return false;
    if (*rest == '-') {
        size_t m = strspn(rest + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

        if (m < 2 || m > 4 || rest[1 + m] != '\0')
            return false;
    } else if (*rest != '\0') {
        return false;
    }
    return set_text(dst, size, value);
}

/* "HH:MM", 24-hour, into minutes after midnight. */
static bool set_time_of_day(int *dst, const char *value)
{
    if (strlen(value) != 5 || value[2] != ':' || !isdigit((unsigned char)value[0]) ||
        !isdigit((unsigned char)value[1]) || !isdigit((unsigned char)value[3]) ||
        !isdigit((unsigned char)value[4]))
        return false;
    int h = (value[0] - '0') * 10 + (value[1] - '0');
    int m = (value[3] - '0') * 10 + (value[4] - '0');

    if (h > 23 || m > 59)
        return false;
    *dst = h * 60 + m;
    return true;
}

static int fail(struct load_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct load_ctx *ctx, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    dk_error_set(ctx->err, DK_EINPUT, "%s:%d: %s", ctx->cfg->path, ctx->line, what);
    ctx->failed_line = ctx->line;
    return 0;
}

/* A file or folder the programs cannot do without (the database, the
 * keys, the receipts' and mail's folders): an empty value is refused
 * rather than taken as the config's own folder. */
static int required_path(struct load_ctx *ctx, char *dst, int *line, const char *key,
                         const char *value)
{
    *line = ctx->line;
    if (value[0] == '\0')
        return fail(ctx, "empty value for %s: give a path, or remove the line for the default",
                    key);
    return set_path(ctx, dst, value) ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

/* A whole number setting: refused naming the range it must be in and its
 * unit (a word or two for after the range), as speed names its values, so
 * that the operator need not look it up. */
static int int_key(struct load_ctx *ctx, int *dst, const char *key, const char *value,
                   long min, long max, const char *unit)
{
    if (set_int(dst, value, min, max))
        return 1;
    return fail(ctx, "bad value '%s' for %s: a whole number from %ld to %ld (%s)", value, key,
                min, max, unit);
}

static int kiosk_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;
    bool ok;

    if (strcmp(key, "database") == 0)
        return required_path(ctx, c->database, &c->database_line, key, value);
    if (strcmp(key, "district") == 0)
        ok = set_text(c->district, sizeof(c->district), value);
    else if (strcmp(key, "site") == 0)
        ok = set_text(c->site_id, sizeof(c->site_id), value) && value[0] != '\0';
    else if (strcmp(key, "site_name") == 0)
        ok = set_text(c->site_name, sizeof(c->site_name), value);
    else if (strcmp(key, "kiosk") == 0)
        ok = set_text(c->kiosk_id, sizeof(c->kiosk_id), value) && value[0] != '\0';
    else if (strcmp(key, "timezone") == 0)
        ok = set_timezone(c->timezone, sizeof(c->timezone), value);
    else if (strcmp(key, "idle_timeout") == 0)
        return int_key(ctx, &c->idle_timeout, key, value, 5, 86400, "seconds");
    else if (strcmp(key, "language") == 0)
        ok = set_language(c->language, sizeof(c->language), value);
    else if (strcmp(key, "catalogs") == 0) {
        ok = set_path(ctx, c->catalog_dir, value);
        c->catalog_line = ctx->line;
    }
    else if (strcmp(key, "checklist") == 0)
        ok = set_bool(&c->checklist, value);
    else if (strcmp(key, "bin") == 0)
        ok = set_text(c->bin, sizeof(c->bin), value);
    else
        return fail(ctx, "unknown key '%s' in [%s]", key, "kiosk");
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

static int scan_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;
    bool ok;

    if (strcmp(key, "asset_pattern") == 0)
        ok = set_text(c->asset_pattern, sizeof(c->asset_pattern), value);
    else if (strcmp(key, "badge_pattern") == 0)
        ok = set_text(c->badge_pattern, sizeof(c->badge_pattern), value);
    else if (strcmp(key, "prefix") == 0)
        ok = set_text(c->prefix, sizeof(c->prefix), value);
    else if (strcmp(key, "suffix") == 0)
        ok = set_text(c->suffix, sizeof(c->suffix), value);
    else if (strcmp(key, "max_length") == 0)
        return int_key(ctx, &c->max_length, key, value, 4, 256, "characters");
    else if (strcmp(key, "repeat_window_ms") == 0)
        return int_key(ctx, &c->repeat_window_ms, key, value, 0, 10000,
                       "milliseconds");
    else if (strcmp(key, "code39_check") == 0)
        ok = set_bool(&c->code39_check, value);
    else if (strcmp(key, "code39_full_ascii") == 0)
        ok = set_bool(&c->code39_full_ascii, value);
    else
        return fail(ctx, "unknown key '%s' in [%s]", key, "scan");
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

static bool parse_terminator(enum dk_terminator *t, const char *value)
{
    static const struct {
        const char *name;
        enum dk_terminator term;
    } names[] = {
        {"cr", DK_TERM_CR},   {"lf", DK_TERM_LF},     {"crlf", DK_TERM_CRLF},
        {"tab", DK_TERM_TAB}, {"enter", DK_TERM_CR}, {"none", DK_TERM_NONE},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(value, names[i].name) == 0) {
            *t = names[i].term;
            return true;
        }
    }
    return false;
}

static bool parse_kind(enum dk_scanner_kind *kind, const char *value)
{
    static const struct {
        const char *name;
        enum dk_scanner_kind kind;
    } kinds[] = {
        {"stdin", DK_SCANNER_STDIN}, {"serial", DK_SCANNER_SERIAL},
        {"evdev", DK_SCANNER_EVDEV}, {"hidpos", DK_SCANNER_HIDPOS},
        {"camera", DK_SCANNER_CAMERA},
    };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(value, kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return true;
        }
    }
    return false;
}

static bool parse_layout(char *dst, size_t size, const char *value)
{
    static const char *const layouts[] = {"us", "uk", "de", "fr"};

    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        if (strcmp(value, layouts[i]) == 0)
            return set_text(dst, size, value);
    }
    return false;
}

/* A USB vendor or product id: four hex digits, with or without 0x, as
 * lsusb prints them ("05e0"). */
static bool parse_usb_id(int *dst, const char *value)
{
    char *end = NULL;
    long v;

    if (strncmp(value, "0x", 2) == 0 || strncmp(value, "0X", 2) == 0)
        value += 2;
    if (strlen(value) != 4)
        return false;
    errno = 0;
    v = strtol(value, &end, 16);
    if (errno != 0 || *end != '\0' || v < 0 || v > 0xffff)
        return false;
    *dst = (int)v;
    return true;
}

/* The speeds termios has a constant for that serial barcode scanners use
 * (drivers/scanner_tty.c maps each to its B constant; test_scanner.c
 * checks that it sets every one). */
static const int serial_speeds[] = {
    1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
};

int config_serial_speed(int i)
{
    return i >= 0 && i < (int)(sizeof(serial_speeds) / sizeof(serial_speeds[0]))
               ? serial_speeds[i]
               : 0;
}

/* Checked here, not when the port is opened: a scanner plugged in later
 * would otherwise stop the kiosk then, naming no line of the config. */
static int speed_key(struct load_ctx *ctx, struct dk_scanner_config *s, const char *value)
{
    char list[160];
    size_t used = 0;
    int speed = 0;

    if (set_int(&speed, value, 1, INT_MAX)) {
        for (int i = 0; config_serial_speed(i) != 0; i++) {
            if (speed == config_serial_speed(i)) {
                s->speed = speed;
                return 1;
            }
        }
    }
    for (int i = 0; config_serial_speed(i) != 0 && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%d",
                                 i == 0 ? "" : config_serial_speed(i + 1) == 0 ? " or " : ", ",
                                 config_serial_speed(i));
    return fail(ctx, "bad value '%s' for speed: a serial scanner runs at %s baud", value, list);
}

static struct dk_scanner_config *scanner_for(struct load_ctx *ctx, const char *name)
{
    struct dk_config *c = ctx->cfg;
    struct dk_scanner_config *s;

    for (int i = 0; i < c->n_scanners; i++) {
        if (strcmp(c->scanners[i].name, name) == 0)
            return &c->scanners[i];
    }
    if (c->n_scanners == DK_MAX_SCANNERS || strlen(name) >= sizeof(s->name))
        return NULL;
    ctx->scanner_lines[c->n_scanners] = ctx->line;
    s = &c->scanners[c->n_scanners++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->kind = DK_SCANNER_STDIN;
    s->speed = 9600;
    s->terminator = DK_TERM_CR;
    snprintf(s->layout, sizeof(s->layout), "us");
    s->vid = -1;
    s->pid = -1;
    s->char_timeout_ms = 50;
    return s;
}

static int scanner_key(struct load_ctx *ctx, const char *name, const char *key,
                       const char *value)
{
    struct dk_scanner_config *s = scanner_for(ctx, name);
    bool ok;

    if (s == NULL)
        return fail(ctx, "too many scanners or name too long: '%s'", name);
    if (strcmp(key, "type") == 0) {
        ok = parse_kind(&s->kind, value);
    } else if (strcmp(key, "device") == 0) {
        ok = set_path(ctx, s->device, value);
    } else if (strcmp(key, "speed") == 0) {
        return speed_key(ctx, s, value);
    } else if (strcmp(key, "terminator") == 0) {
        ok = parse_terminator(&s->terminator, value);
    } else if (strcmp(key, "layout") == 0) {
        ok = parse_layout(s->layout, sizeof(s->layout), value);
    } else if (strcmp(key, "vid") == 0) {
        ok = parse_usb_id(&s->vid, value);
    } else if (strcmp(key, "pid") == 0) {
        ok = parse_usb_id(&s->pid, value);
    } else if (strcmp(key, "name") == 0) {
        ok = set_text(s->match_name, sizeof(s->match_name), value);
    } else if (strcmp(key, "char_timeout_ms") == 0) {
        return int_key(ctx, &s->char_timeout_ms, key, value, 5, 2000, "milliseconds");
    } else {
        return fail(ctx, "unknown key '%s' in [scanner %s]", key, name);
    }
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

static bool parse_print_mode(enum dk_print_mode *m, const char *value)
{
    if (strcmp(value, "ask") == 0)
        *m = DK_PRINT_ASK;
    else if (strcmp(value, "always") == 0)
        *m = DK_PRINT_ALWAYS;
    else if (strcmp(value, "never") == 0)
        *m = DK_PRINT_NEVER;
    else
        return false;
    return true;
}

static bool parse_printer_kind(enum dk_printer_kind *kind, const char *value)
{
    static const struct {
        const char *name;
        enum dk_printer_kind kind;
    } kinds[] = {
        {"usb", DK_PRINTER_USB},   {"usblp", DK_PRINTER_USBLP}, {"tcp", DK_PRINTER_TCP},
        {"cups", DK_PRINTER_CUPS}, {"file", DK_PRINTER_FILE},
    };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(value, kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return true;
        }
    }
    return false;
}

static bool parse_qr_mode(enum dk_qr_mode *m, const char *value)
{
    if (strcmp(value, "auto") == 0)
        *m = DK_QR_AUTO;
    else if (strcmp(value, "native") == 0)
        *m = DK_QR_NATIVE;
    else if (strcmp(value, "raster") == 0)
        *m = DK_QR_RASTER;
    else
        return false;
    return true;
}

/* A CUPS queue name as lpadmin(8) makes them: at most 127 bytes, no
 * spaces or control characters, none of / \\ ? ' " # (and no @, which
 * would name another server).  Checked here rather than when the queue is
 * first asked for, which may be long after the start. */
static int queue_key(struct load_ctx *ctx, struct dk_printer_config *p, const char *value)
{
    size_t len = strlen(value);

    if (len == 0 || len > 127 || strpbrk(value, " /\\?'\"#@") != NULL ||
        !set_text(p->device, sizeof(p->device), value))
        return fail(ctx, "bad value '%s' for queue: a CUPS queue name has 1 to 127 "
                         "characters, none of them a space, /, \\, ?, ', \", # or @", value);
    return 1;
}

static int width_key(struct load_ctx *ctx, struct dk_printer_config *p, const char *value)
{
    int mm = 0;

    if (set_int(&mm, value, 58, 80) && (mm == 58 || mm == 80)) {
        p->width_mm = mm;
        return 1;
    }
    return fail(ctx, "bad value '%s' for width: 58 or 80 (millimetres of paper)", value);
}

static struct dk_printer_config *printer_for(struct load_ctx *ctx, const char *name)
{
    struct dk_config *c = ctx->cfg;
    struct dk_printer_config *p;

    for (int i = 0; i < c->n_printers; i++) {
        if (strcmp(c->printers[i].name, name) == 0)
            return &c->printers[i];
    }
    if (c->n_printers == DK_MAX_PRINTERS || strlen(name) >= sizeof(p->name))
        return NULL;
    ctx->printer_lines[c->n_printers] = ctx->line;
    p = &c->printers[c->n_printers++];
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->kind = DK_PRINTER_FILE;
    p->port = 9100;
    p->vid = -1;
    p->pid = -1;
    snprintf(p->model, sizeof(p->model), "generic");
    p->width_mm = 80;
    p->qr = DK_QR_AUTO;
    p->timeout_ms = 3000;
    p->recheck_seconds = 30;
    return p;
}

static int printer_key(struct load_ctx *ctx, const char *name, const char *key,
                       const char *value)
{
    struct dk_config *c = ctx->cfg;
    struct dk_printer_config *p = printer_for(ctx, name);
    bool ok;

    if (p == NULL)
        return fail(ctx, "too many printers or name too long: '%s'", name);
    if (strcmp(key, "type") == 0) {
        ok = parse_printer_kind(&p->kind, value);
        ctx->printer_typed[p - c->printers] = true;
    } else if (strcmp(key, "device") == 0)
        ok = set_path(ctx, p->device, value);
    else if (strcmp(key, "queue") == 0)
        return queue_key(ctx, p, value);
    else if (strcmp(key, "host") == 0)
        ok = set_text(p->host, sizeof(p->host), value) && value[0] != '\0';
    else if (strcmp(key, "port") == 0)
        return int_key(ctx, &p->port, key, value, 1, 65535, "TCP port");
    else if (strcmp(key, "vid") == 0)
        ok = parse_usb_id(&p->vid, value);
    else if (strcmp(key, "pid") == 0)
        ok = parse_usb_id(&p->pid, value);
    else if (strcmp(key, "model") == 0)
        ok = set_text(p->model, sizeof(p->model), value) && value[0] != '\0';
    else if (strcmp(key, "width") == 0)
        return width_key(ctx, p, value);
    else if (strcmp(key, "qr") == 0)
        ok = parse_qr_mode(&p->qr, value);
    else if (strcmp(key, "timeout_ms") == 0)
        return int_key(ctx, &p->timeout_ms, key, value, 100, 60000, "milliseconds");
    else if (strcmp(key, "recheck_seconds") == 0)
        return int_key(ctx, &p->recheck_seconds, key, value, 1, 3600, "seconds");
    else
        return fail(ctx, "unknown key '%s' in [printer %s]", key, name);
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

static int receipt_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;
    bool ok;

    if (strcmp(key, "signing_key") == 0)
        return required_path(ctx, c->signing_key, &c->signing_key_line, key, value);
    if (strcmp(key, "public_key") == 0)
        return required_path(ctx, c->public_key, &c->public_key_line, key, value);
    if (strcmp(key, "directory") == 0)
        return required_path(ctx, c->receipt_dir, &c->receipt_dir_line, key, value);
    if (strcmp(key, "print") == 0)
        ok = parse_print_mode(&c->print, value);
    else
        return fail(ctx, "unknown key '%s' in [%s]", key, "receipt");
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

static bool parse_transport(enum dk_mail_transport *t, const char *value)
{
    if (strcmp(value, "spool") == 0)
        *t = DK_MAIL_SPOOL;
    else if (strcmp(value, "smtp") == 0)
        *t = DK_MAIL_SMTP;
    else
        return false;
    return true;
}

static bool parse_starttls(enum dk_starttls *t, const char *value)
{
    if (strcmp(value, "off") == 0)
        *t = DK_STARTTLS_OFF;
    else if (strcmp(value, "optional") == 0)
        *t = DK_STARTTLS_OPTIONAL;
    else if (strcmp(value, "required") == 0)
        *t = DK_STARTTLS_REQUIRED;
    else
        return false;
    return true;
}

/* The service desk routes tickets by their subject, so a mistyped
 * placeholder stops the programs here rather than reaching it. */
static int ticket_subject_key(struct load_ctx *ctx, const char *value)
{
    struct dk_config *c = ctx->cfg;
    char why[160];

    if (value[0] == '\0' || !set_text(c->ticket_subject, sizeof(c->ticket_subject), value))
        return fail(ctx, "bad value '%s' for ticket_subject", value);
    if (!notice_ticket_subject_check(value, why, sizeof(why)))
        return fail(ctx, "ticket_subject: %s", why);
    return 1;
}

static int mail_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;
    bool ok;

    if (strcmp(key, "transport") == 0) {
        ok = parse_transport(&c->transport, value);
        ctx->transport_line = ctx->line;
    }
    else if (strcmp(key, "spool") == 0)
        return required_path(ctx, c->spool_dir, &c->spool_line, key, value);
    else if (strcmp(key, "url") == 0)
        ok = set_text(c->smtp_url, sizeof(c->smtp_url), value);
    else if (strcmp(key, "starttls") == 0)
        ok = parse_starttls(&c->starttls, value);
    else if (strcmp(key, "username") == 0)
        ok = set_text(c->smtp_username, sizeof(c->smtp_username), value);
    else if (strcmp(key, "password") == 0)
        ok = set_text(c->smtp_password, sizeof(c->smtp_password), value);
    else if (strcmp(key, "timeout") == 0)
        return int_key(ctx, &c->smtp_timeout, key, value, 1, 600, "seconds");
    else if (strcmp(key, "retry_base") == 0)
        return int_key(ctx, &c->retry_base, key, value, 1, 86400, "seconds");
    else if (strcmp(key, "retry_max") == 0)
        return int_key(ctx, &c->retry_max, key, value, 1, 7 * 86400, "seconds");
    else if (strcmp(key, "from") == 0)
        ok = set_address(c->mail_from, sizeof(c->mail_from), value);
    else if (strcmp(key, "service_desk") == 0)
        ok = set_address(c->service_desk, sizeof(c->service_desk), value);
    else if (strcmp(key, "ticket_subject") == 0)
        return ticket_subject_key(ctx, value);
    else if (strcmp(key, "digest") == 0)
        ok = set_bool(&c->digest, value);
    else if (strcmp(key, "digest_time") == 0)
        ok = set_time_of_day(&c->digest_minute, value);
    else
        return fail(ctx, "unknown key '%s' in [%s]", key, "mail");
    /* The password is a secret: never echo it back in an error. */
    if (!ok && strcmp(key, "password") == 0)
        return fail(ctx, "bad value for %s", key);
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

/* A key given twice in one section is a mistake (which one was meant?),
 * not something to settle silently by taking the last. */
static bool first_time(struct load_ctx *ctx, const char *section, const char *key)
{
    char id[96];

    snprintf(id, sizeof(id), "%s\n%s", section, key);
    for (int i = 0; i < ctx->n_seen; i++) {
        if (strcmp(ctx->seen[i], id) == 0)
            return false;
    }
    if (ctx->n_seen < MAX_SEEN_KEYS)
        snprintf(ctx->seen[ctx->n_seen++], sizeof(ctx->seen[0]), "%s", id);
    return true;
}

/* A money amount as the district writes it, "35" or "35.50", into cents. */
static bool set_cents(int *dst, const char *value)
{
    char *end = NULL;
    long whole;
    long cents = 0;

    errno = 0;
    whole = strtol(value, &end, 10);
    if (errno != 0 || end == value || whole < 0 || whole > 100000)
        return false;
    if (*end == '.') {
        const char *frac = end + 1;

        if (!isdigit((unsigned char)frac[0]) || !isdigit((unsigned char)frac[1]) ||
            frac[2] != '\0')
            return false;
        cents = (frac[0] - '0') * 10 + (frac[1] - '0');
    } else if (*end != '\0') {
        return false;
    }
    *dst = (int)(whole * 100 + cents);
    return true;
}

/* A numeric IPv4 or IPv6 address, so that "loopback or not" is decided
 * here, not by a name lookup at start. */
static bool set_ip(char *dst, size_t size, const char *value)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, value, buf) != 1 && inet_pton(AF_INET6, value, buf) != 1)
        return false;
    return set_text(dst, size, value);
}

static int http_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;
    bool ok;

    if (strcmp(key, "listen") == 0) {
        ok = set_ip(c->http_listen, sizeof(c->http_listen), value);
        ctx->http_line = ctx->line;
    } else if (strcmp(key, "port") == 0) {
        return int_key(ctx, &c->http_port, key, value, 0, 65535,
                       "TCP port; 0 for no screen server");
    } else if (strcmp(key, "certificate") == 0) {
        ok = set_path(ctx, c->http_cert, value);
        c->http_cert_line = ctx->line;
    } else if (strcmp(key, "key") == 0) {
        ok = set_path(ctx, c->http_key, value);
        c->http_key_line = ctx->line;
    } else if (strcmp(key, "ui") == 0) {
        ok = set_path(ctx, c->ui_dir, value);
        c->ui_line = ctx->line;
    } else if (strcmp(key, "max_body") == 0) {
        return int_key(ctx, &c->http_max_body, key, value, 1024, 16 * 1024 * 1024,
                       "bytes");
    } else if (strcmp(key, "tech_session_minutes") == 0) {
        return int_key(ctx, &c->tech_session_minutes, key, value, 1, 480,
                       "minutes");
    } else {
        return fail(ctx, "unknown key '%s' in [%s]", key, "http");
    }
    return ok ? 1 : fail(ctx, "bad value '%s' for %s", value, key);
}

bool config_http_loopback(const struct dk_config *cfg)
{
    return strcmp(cfg->http_listen, "127.0.0.1") == 0 || strcmp(cfg->http_listen, "::1") == 0 ||
           strncmp(cfg->http_listen, "127.", 4) == 0;
}

static int intake_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;
    bool ok = true;

    if (strcmp(key, "overdue_days") == 0) {
        return int_key(ctx, &c->overdue_days, key, value, 1, 365, "days");
    } else if (strcmp(key, "charger_cost") == 0) {
        int cents = 0;

        ok = set_cents(&cents, value);
        for (int i = 0; ok && i < DK_N_ASSET_TYPES; i++)
            c->charger_cost_cents[i] = cents;
    } else if (strncmp(key, "charger_cost.", 13) == 0) {
        int i = config_asset_type_index(key + 13);

        if (i < 0)
            return fail(ctx, "unknown asset type in '%s' in [intake]", key);
        ok = set_cents(&c->charger_cost_cents[i], value);
    } else {
        return fail(ctx, "unknown key '%s' in [%s]", key, "intake");
    }
    return ok ? 1
              : fail(ctx, "bad value '%s' for %s: an amount from 0 to 100000, with no or "
                          "two decimals (35 or 35.50)", value, key);
}

/* Rules are kept as written, with their lines, for the disposition module
 * to read and to name in its errors. */
static int disposition_key(struct load_ctx *ctx, const char *key, const char *value)
{
    struct dk_config *c = ctx->cfg;

    if (strcmp(key, "rule") != 0)
        return fail(ctx, "unknown key '%s' in [%s]", key, "disposition");
    if (c->n_rules == DK_MAX_RULES)
        return fail(ctx, "more than %d rules in [disposition]", DK_MAX_RULES);
    if (!set_text(c->rules[c->n_rules], sizeof(c->rules[0]), value))
        return fail(ctx, "bad value '%s' for rule", value);
    c->rule_lines[c->n_rules++] = ctx->line;
    return 1;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    struct load_ctx *ctx = user;

    if (ctx->failed_line != 0)
        return 0;
    /* Rules are a list: `rule` is the one key that repeats. */
    if (!(strcmp(section, "disposition") == 0 && strcmp(key, "rule") == 0) &&
        !first_time(ctx, section, key))
        return fail(ctx, "'%s' set twice in [%s]", key, section);
    if (strcmp(section, "kiosk") == 0)
        return kiosk_key(ctx, key, value);
    if (strcmp(section, "scan") == 0)
        return scan_key(ctx, key, value);
    if (strncmp(section, "scanner ", 8) == 0 && section[8] != '\0')
        return scanner_key(ctx, section + 8, key, value);
    if (strncmp(section, "printer ", 8) == 0 && section[8] != '\0')
        return printer_key(ctx, section + 8, key, value);
    if (strcmp(section, "receipt") == 0)
        return receipt_key(ctx, key, value);
    if (strcmp(section, "mail") == 0)
        return mail_key(ctx, key, value);
    if (strcmp(section, "intake") == 0)
        return intake_key(ctx, key, value);
    if (strcmp(section, "http") == 0)
        return http_key(ctx, key, value);
    if (strcmp(section, "disposition") == 0)
        return disposition_key(ctx, key, value);
    return fail(ctx, "unknown section [%s]", section);
}

/* inih only reports line numbers through ini_parse's return value, so the
 * handler is wrapped to count lines through the reader. */
struct line_reader {
    FILE *fp;
    struct load_ctx *ctx;
};

/* A line that opens a section and never closes it.  inih would note the
 * line as an error but go on, filing the keys after it under the section
 * before, so that the first message would be about one of them ("unknown
 * key 'overdue_days' in [mail]").  A ']' after an inline comment is left
 * to inih, which then names this line as not a valid INI line. */
static bool unclosed_section(const char *line)
{
    line += strspn(line, " \t");
    return line[0] == '[' && strchr(line, ']') == NULL;
}

/* Read one line as fgets would, with what fgets cannot tell: a NUL byte
 * (strlen, and so inih, would silently stop at it, cutting the value, as
 * "kiosk = kio\0sk-1" would become "kio"), and a line longer than inih's
 * buffer (the rest would be parsed as a line of its own).  Both are
 * refused, ending the parse, as is a section header without ']'. */
static char *read_line(char *str, int num, void *stream)
{
    struct line_reader *r = stream;
    size_t len = 0;
    bool nul = false;
    int ch = 0;

    while (len + 1 < (size_t)num && ch != '\n' && (ch = getc(r->fp)) != EOF) {
        nul = nul || ch == '\0';
        str[len++] = (char)ch;
    }
    if (len == 0)
        return NULL;
    str[len] = '\0';
    r->ctx->line++;
    if (nul) {
        fail(r->ctx, "NUL byte in the line: the config must be text");
        return NULL;
    }
    /* A full buffer without the line's end, and more to come. */
    if (str[len - 1] != '\n' && len + 1 == (size_t)num && (ch = getc(r->fp)) != EOF) {
        fail(r->ctx, "line too long (at most %d characters)", num - 2);
        return NULL;
    }
    if (unclosed_section(str)) {
        fail(r->ctx, "section header without ']'");
        return NULL;
    }
    return str;
}

static void dir_of(char *dir, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        snprintf(dir, DK_PATH_MAX, ".");
    else if (slash == path)
        snprintf(dir, DK_PATH_MAX, "/");
    else
        snprintf(dir, DK_PATH_MAX, "%.*s", (int)(slash - path), path);
}

static int check_printers(struct load_ctx *ctx)
{
    const struct dk_config *c = ctx->cfg;

    for (int i = 0; i < c->n_printers; i++) {
        const struct dk_printer_config *p = &c->printers[i];

        ctx->line = ctx->printer_lines[i];
        if (!ctx->printer_typed[i])
            return fail(ctx, "[printer %s] needs type = usb, usblp, tcp, cups or file",
                        p->name);
        if (p->kind == DK_PRINTER_TCP && p->host[0] == '\0')
            return fail(ctx, "[printer %s] type = tcp needs host = NAME", p->name);
        if (p->kind == DK_PRINTER_CUPS && p->device[0] == '\0')
            return fail(ctx, "[printer %s] type = cups needs queue = NAME", p->name);
        if ((p->kind == DK_PRINTER_USBLP || p->kind == DK_PRINTER_FILE) &&
            p->device[0] == '\0')
            return fail(ctx, "[printer %s] needs device = PATH", p->name);
    }
    return 1;
}

/* Checks between keys, once the whole file is read. */
static int check_whole(struct load_ctx *ctx)
{
    const struct dk_config *c = ctx->cfg;

    for (int i = 0; i < c->n_scanners; i++) {
        struct dk_scanner_config *s = &ctx->cfg->scanners[i];

        s->repeat_window_ms = s->kind == DK_SCANNER_STDIN ? 0 : c->repeat_window_ms;
    }

    if (c->transport == DK_MAIL_SMTP && strncmp(c->smtp_url, "smtp://", 7) != 0 &&
        strncmp(c->smtp_url, "smtps://", 8) != 0) {
        ctx->line = ctx->transport_line;
        return fail(ctx, "transport = smtp needs url = smtp://HOST:PORT or smtps://HOST:PORT "
                         "in [mail]");
    }
    for (int i = 0; i < c->n_scanners; i++) {
        const struct dk_scanner_config *s = &c->scanners[i];
        bool needs_device = s->kind == DK_SCANNER_SERIAL || s->kind == DK_SCANNER_CAMERA;
        bool can_search = s->vid >= 0 || s->pid >= 0 || s->match_name[0] != '\0';

        ctx->line = ctx->scanner_lines[i];
        if (needs_device && s->device[0] == '\0')
            return fail(ctx, "[scanner %s] needs device = PATH", s->name);
        if (s->kind == DK_SCANNER_EVDEV && s->device[0] == '\0' && !can_search)
            return fail(ctx, "[scanner %s] needs device = PATH, or vid/pid or name to find it",
                        s->name);
    }
    if (c->http_port != 0 && !config_http_loopback(c) &&
        (c->http_cert[0] == '\0' || c->http_key[0] == '\0')) {
        ctx->line = ctx->http_line;
        return fail(ctx, "[http] listen = %s is not loopback: it needs certificate = PATH "
                         "and key = PATH (TLS)", c->http_listen);
    }
    return check_printers(ctx);
}

/* A config that cannot be opened is the setup's to fix (exit 2): under
 * systemd, exit 3 would restart the service every 5 seconds for ever.  Only
 * a shortage of memory or descriptors, or a disk error, is a runtime
 * failure. */
static int unreadable_config(const char *path, int code, struct dk_error *err)
{
    bool runtime = code == -ENOMEM || code == -EMFILE || code == -ENFILE || code == -EIO;

    if (code == -EACCES || code == -EPERM)
        return owner_unreadable("", "config", path, code, DK_OWNER_GROUP_READ, err);
    return dk_error_set(err, runtime || code == -ENOENT ? code : DK_EINPUT,
                        "cannot read config %s: %s", path, strerror(-code));
}

int config_load(struct dk_config *cfg, const char *path, struct dk_error *err)
{
    struct load_ctx ctx = {.cfg = cfg, .err = err};
    struct line_reader reader = {.ctx = &ctx};
    struct stat st;
    int rc;

    if (!set_text(cfg->path, sizeof(cfg->path), path))
        return dk_error_set(err, DK_EINPUT, "config path too long: %s", path);
    dir_of(ctx.dir, path);
    reader.fp = fopen(path, "r");
    if (reader.fp == NULL)
        return unreadable_config(path, -errno, err);
    if (fstat(fileno(reader.fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(reader.fp);
        return dk_error_set(err, DK_EINPUT, "config %s is not a regular file", path);
    }
    rc = ini_parse_stream(read_line, &reader, on_entry, &ctx);
    fclose(reader.fp);
    /* inih returns the first line it found wrong, its own syntax errors and
     * our handler's refusals alike, and goes on parsing after the first;
     * a line of its own before the handler's is the one to name. */
    if (rc > 0 && rc != ctx.failed_line)
        return dk_error_set(err, DK_EINPUT, "%s:%d: not a valid INI line", path, rc);
    if (ctx.failed_line != 0)
        return DK_EINPUT;
    if (rc != 0)
        return dk_error_set(err, -ENOMEM, "cannot read config %s: out of memory", path);
    if (check_whole(&ctx) == 0)
        return DK_EINPUT;
    return disposition_check_rules(cfg, err);
}

/* "PATH:LINE: " for a setting the file gave at line, or "PATH: ". */
static void where(const struct dk_config *cfg, int line, char *buf, size_t size)
{
    if (line > 0)
        snprintf(buf, size, "%s:%d: ", cfg->path, line);
    else
        snprintf(buf, size, "%s: ", cfg->path);
}

/* The file must be one the screen server can read whole, as http_start
 * will (the same size limit); a key is wiped once looked at. */
static int check_pem(const struct dk_config *cfg, const char *path, int line, const char *what,
                     struct dk_error *err)
{
    char at[DK_PATH_MAX + 32];
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (path[0] == '\0')
        return 0;
    rc = file_read_path(path, DK_CONFIG_PEM_MAX, &text, &len);
    if (text != NULL)
        explicit_bzero(text, len);
    free(text);
    if (rc == 0)
        return 0;
    where(cfg, line, at, sizeof(at));
    return dk_error_set(err, DK_EINPUT, "%scannot read [http] %s %s: %s", at, what, path,
                        rc == -EINVAL ? "not a regular file" : strerror(-rc));
}

/* A folder the config names (set: dir not empty) must open as one;
 * "FILE:LINE: <failure> DIR: reason" when it does not. */
static int check_folder(const struct dk_config *cfg, int line, const char *failure,
                        const char *dir, struct dk_error *err)
{
    char at[DK_PATH_MAX + 32];
    int fd;
    int e;

    if (dir[0] == '\0')
        return 0;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    e = errno;
    where(cfg, line, at, sizeof(at));
    return dk_error_set(err, DK_EINPUT, "%s%s %s: %s", at, failure, dir, strerror(e));
}

int config_check_files(const struct dk_config *cfg, struct dk_error *err)
{
    /* The catalogs' own faults are i18n_load_all's to name, by file. */
    int rc = check_folder(cfg, cfg->catalog_line, "cannot read message catalog folder",
                          cfg->catalog_dir, err);

    if (rc != 0 || cfg->http_port == 0)
        return rc;
    rc = check_folder(cfg, cfg->ui_line, "cannot open [http] ui folder", cfg->ui_dir, err);
    if (rc == 0)
        rc = check_pem(cfg, cfg->http_cert, cfg->http_cert_line, "certificate", err);
    if (rc == 0)
        rc = check_pem(cfg, cfg->http_key, cfg->http_key_line, "key", err);
    return rc;
}

int config_check_readable(const struct dk_config *cfg, struct dk_error *err)
{
    char at[DK_PATH_MAX + 32];
    int rc = owner_check_readable("", "config", cfg->path, DK_OWNER_GROUP_READ, err);

    if (rc != 0)
        return rc;
    where(cfg, cfg->signing_key_line, at, sizeof(at));
    return owner_check_readable(at, "[receipt] signing_key", cfg->signing_key, DK_OWNER_OWN,
                                err);
}

/* 0 when the effective user may make files in dir, else a negative errno
 * (-ENOTDIR for a file that is not a folder). */
static int folder_writable(const char *dir)
{
    struct stat st;

    if (stat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    /* EROFS here is what ProtectSystem=strict gives outside its writable
     * paths, as a read-only mount would. */
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        return -errno;
    return 0;
}

/* "FILE:LINE: " for a setting given in the file, "FILE: " for a default,
 * "" for a command-line option (line < 0). */
static void setting_at(const struct dk_config *cfg, int line, char *buf, size_t size)
{
    if (line < 0)
        buf[0] = '\0';
    else
        where(cfg, line, buf, size);
}

#define DK_WRITABLE_HINT "under the packaged service only /var/lib/dropkiosk is writable"

static int cannot_write(const struct dk_config *cfg, int line, const char *what,
                        const char *path, const char *in, int code, struct dk_error *err)
{
    char at[DK_PATH_MAX + 32];
    char who[300];

    setting_at(cfg, line, at, sizeof(at));
    owner_describe_self(who, sizeof(who));
    if (in != NULL)
        return dk_error_set(err, DK_EINPUT, "%scannot make %s %s in %s as %s: %s; %s", at, what,
                            path, in, who, strerror(-code), DK_WRITABLE_HINT);
    return dk_error_set(err, DK_EINPUT, "%scannot write %s %s as %s: %s; %s", at, what, path,
                        who, strerror(-code), DK_WRITABLE_HINT);
}

/* A folder the daemon makes when it first needs it (receipts, the mail
 * spool): when it is not there yet, the folder that will hold it must
 * take it. */
static int check_made_folder(const struct dk_config *cfg, int line, const char *what,
                             const char *dir, struct dk_error *err)
{
    char parent[DK_PATH_MAX];
    int rc = folder_writable(dir);

    if (rc == 0)
        return 0;
    if (rc != -ENOENT)
        return cannot_write(cfg, line, what, dir, NULL, rc, err);
    dir_of(parent, dir);
    rc = folder_writable(parent);
    return rc == 0 ? 0 : cannot_write(cfg, line, what, dir, parent, rc, err);
}

int config_check_writable(const struct dk_config *cfg, struct dk_error *err)
{
    const char *what = cfg->database_line < 0 ? "--db" : "[kiosk] database";
    char label[64];
    char dir[DK_PATH_MAX];
    int rc;

    dir_of(dir, cfg->database);
    snprintf(label, sizeof(label), "%s folder", what);
    rc = folder_writable(dir);
    if (rc != 0)
        return cannot_write(cfg, cfg->database_line, label, dir, NULL, rc, err);
    if (faccessat(AT_FDCWD, cfg->database, W_OK, AT_EACCESS) != 0 && errno != ENOENT)
        return cannot_write(cfg, cfg->database_line, what, cfg->database, NULL, -errno, err);
    rc = check_made_folder(cfg, cfg->receipt_dir_line, "[receipt] directory", cfg->receipt_dir,
                           err);
    if (rc == 0 && cfg->transport == DK_MAIL_SPOOL)
        rc = check_made_folder(cfg, cfg->spool_line, "[mail] spool", cfg->spool_dir, err);
    return rc;
}
