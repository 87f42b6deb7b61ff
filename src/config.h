/* The INI configuration shared by dropkiosk and dropkioskctl.
 *
 * Relative paths in the file are taken relative to the file's own folder, so
 * a site folder (config, key, database, spool) can be moved as a whole. */
#ifndef DK_CONFIG_H
#define DK_CONFIG_H

#include "error.h"

#include <stdbool.h>

#define DK_PATH_MAX 1024
#define DK_TEXT_MAX 256
#define DK_MAX_SCANNERS 8

enum dk_scanner_kind {
    DK_SCANNER_STDIN,  /* the terminal the daemon runs in */
    DK_SCANNER_SERIAL, /* CDC-ACM or RS-232 tty */
    DK_SCANNER_EVDEV,  /* keyboard-wedge scanner on /dev/input */
    DK_SCANNER_HIDPOS, /* USB HID point-of-sale scanner through libusb */
    DK_SCANNER_CAMERA, /* V4L2 camera decoded with zbar */
};

/* How a serial scanner ends each barcode. */
enum dk_terminator {
    DK_TERM_CR,
    DK_TERM_LF,
    DK_TERM_CRLF,
    DK_TERM_TAB,
    DK_TERM_NONE, /* a scan ends after a pause (char_timeout_ms) */
};

struct dk_scanner_config {
    char name[64];
    enum dk_scanner_kind kind;
    char device[DK_PATH_MAX];
    int speed; /* baud rate for serial scanners */
    enum dk_terminator terminator;
    char layout[8];       /* evdev: the scanner's keyboard layout (us, uk, de, fr) */
    int vid;              /* evdev, hidpos: USB vendor id to match, -1 for any */
    int pid;              /* evdev, hidpos: USB product id to match, -1 for any */
    char match_name[128]; /* evdev: part of the input device's name to match */
    int char_timeout_ms;  /* a pause this long ends a scan with no terminator */
    int repeat_window_ms; /* from [scan]; 0 for the terminal, where a person types */
};

#define DK_MAX_PRINTERS 4

/* How the kiosk reaches a receipt printer. */
enum dk_printer_kind {
    DK_PRINTER_USB,  /* ESC/POS over USB: libusb bulk transfers (vid/pid) */
    DK_PRINTER_USBLP, /* ESC/POS through the kernel's /dev/usb/lp* node */
    DK_PRINTER_TCP,  /* ESC/POS over a raw TCP socket (port 9100) */
    DK_PRINTER_CUPS, /* an ordinary printer queue, through libcups */
    DK_PRINTER_FILE, /* a folder: a PNG preview and the raw ESC/POS bytes */
};

/* How the receipt's QR code reaches the paper. */
enum dk_qr_mode {
    DK_QR_AUTO,   /* native when the model is known to have GS ( k, else raster */
    DK_QR_NATIVE, /* the printer draws it (GS ( k, function 180-181) */
    DK_QR_RASTER, /* we draw it with libqrencode and send GS v 0 */
};

struct dk_printer_config {
    char name[64];
    enum dk_printer_kind kind;
    char device[DK_PATH_MAX]; /* usblp node, CUPS queue, or file folder */
    char host[DK_TEXT_MAX];   /* tcp */
    int port;                 /* tcp, 9100 unless set */
    int vid;                  /* usb: vendor id, -1 for any ESC/POS printer */
    int pid;                  /* usb: product id, -1 for any */
    char model[64];           /* e.g. "tm-t20", "generic"; picks QR support */
    int width_mm;             /* paper width: 58 or 80 */
    enum dk_qr_mode qr;
    int timeout_ms;           /* for one status query or write */
    int recheck_seconds;      /* out of service: ask again this often */
};

/* When the kiosk offers a paper receipt. */
enum dk_print_mode {
    DK_PRINT_ASK,    /* ask "Print a receipt?" (the default with a printer) */
    DK_PRINT_ALWAYS, /* print every receipt without asking */
    DK_PRINT_NEVER,  /* never print, even with a printer configured */
};

enum dk_mail_transport {
    DK_MAIL_SPOOL,
    DK_MAIL_SMTP,
};

enum dk_starttls {
    DK_STARTTLS_OFF,
    DK_STARTTLS_OPTIONAL,
    DK_STARTTLS_REQUIRED,
};

#define DK_MAX_RULES 32
#define DK_N_ASSET_TYPES 7 /* laptop chromebook tablet phone hotspot desktop other */

struct dk_config {
    char path[DK_PATH_MAX]; /* the file this was read from */

    /* [kiosk] */
    char database[DK_PATH_MAX];
    char district[DK_TEXT_MAX];
    char site_id[64];
    char site_name[DK_TEXT_MAX];
    char kiosk_id[64];
    char timezone[64];
    int idle_timeout; /* seconds */
    char language[8];            /* the start screen's language, "en" unless set */
    bool checklist;              /* phones and tablets get the pre-bin checklist */
    char bin[16];                /* the drop bin's number or name, "" for one bin */
    char catalog_dir[DK_PATH_MAX]; /* message catalogs (LANG.json); "" = built in */
    /* Where database and catalogs were set, for the checks made after the
     * file is read to name; 0 when not set in the file, and database_line
     * -1 when --db gave the database. */
    int database_line;
    int catalog_line;

    /* [scan] */
    char asset_pattern[DK_TEXT_MAX]; /* POSIX extended regular expression */
    char badge_pattern[DK_TEXT_MAX];
    char prefix[32];
    char suffix[32];
    int max_length;
    int repeat_window_ms; /* the same scan from one scanner within this is one */
    bool code39_check;      /* Code 39 labels end in a mod 43 check character */
    bool code39_full_ascii; /* Code 39 labels use Full ASCII pairs */

    /* [scanner NAME] sections */
    struct dk_scanner_config scanners[DK_MAX_SCANNERS];
    int n_scanners;

    /* [receipt] */
    char signing_key[DK_PATH_MAX];
    char public_key[DK_PATH_MAX];
    char receipt_dir[DK_PATH_MAX];
    enum dk_print_mode print;
    int signing_key_line; /* where each was set; 0 when not in the file */
    int public_key_line;
    int receipt_dir_line;

    /* [printer NAME] sections; the first is the kiosk's receipt printer. */
    struct dk_printer_config printers[DK_MAX_PRINTERS];
    int n_printers;

    /* [mail] */
    enum dk_mail_transport transport;
    char spool_dir[DK_PATH_MAX];
    int spool_line; /* where spool was set; 0 when not in the file */
    char smtp_url[DK_TEXT_MAX];
    enum dk_starttls starttls;
    char smtp_username[DK_TEXT_MAX];
    char smtp_password[DK_TEXT_MAX];
    int smtp_timeout;  /* seconds */
    int retry_base;    /* seconds before the first retry */
    int retry_max;     /* longest wait between retries, seconds */
    char mail_from[DK_TEXT_MAX];
    char service_desk[DK_TEXT_MAX];
    /* The service-desk ticket's subject; {tag}, {serial}, {model},
     * {site}, {site_name}, {kiosk} and {staff_id} are replaced. */
    char ticket_subject[DK_TEXT_MAX];
    bool digest;          /* a daily digest email to each leader */
    int digest_minute;    /* local time of day it is sent, minutes after 00:00 */

    /* [http]: the kiosk screen and the technician console */
    char http_listen[64];          /* an IP address; 127.0.0.1 unless set */
    int http_port;                 /* 0: no web server */
    char http_cert[DK_PATH_MAX];   /* PEM certificate: required off loopback */
    char http_key[DK_PATH_MAX];    /* PEM private key */
    char ui_dir[DK_PATH_MAX];      /* the static UI; "" = built in */
    int http_cert_line;            /* where certificate, key and ui were set, */
    int http_key_line;             /* for config_check_files to name; 0 when */
    int ui_line;                   /* not set in the file */
    int http_max_body;             /* bytes a request body may have */
    int tech_session_minutes;      /* a console login lasts this long idle */

    /* [intake] */
    int overdue_days;   /* a dropped device not received after this is flagged */
    /* Replacement cost of a missing charger, in cents, by asset type in the
     * order of config_asset_type(); charger_cost sets them all, then
     * charger_cost.TYPE one. */
    int charger_cost_cents[DK_N_ASSET_TYPES];

    /* [disposition]: `rule = ...` lines in order, first match wins; their
     * grammar is the disposition module's (src/disposition.h). */
    char rules[DK_MAX_RULES][DK_TEXT_MAX];
    int rule_lines[DK_MAX_RULES];
    int n_rules;
};

/* The asset types in a fixed order, for per-type settings; NULL past the
 * last.  config_asset_type_index gives the index of a name, or -1. */
const char *config_asset_type(int i);
int config_asset_type_index(const char *type);

/* true when [http] listen is a loopback address (127.0.0.0/8 or ::1). */
bool config_http_loopback(const struct dk_config *cfg);

/* Fill cfg with the built-in defaults (no scanners, spool transport). */
void config_defaults(struct dk_config *cfg);

/* Read the INI file at path over the defaults.  Returns 0, DK_EINPUT with
 * "FILE:LINE: ..." in err for an unknown section or key or a bad value, or
 * -errno when the file cannot be read. */
int config_load(struct dk_config *cfg, const char *path, struct dk_error *err);

/* The serial speeds (baud) a [scanner NAME] speed may be, ascending: the
 * i-th, or 0 past the last. */
int config_serial_speed(int i);

/* The most bytes an [http] certificate or key file may have. */
#define DK_CONFIG_PEM_MAX (1024 * 1024)

/* Look at the files the [http] section names, as the daemon will use them
 * (call it after owner_become, as the user that serves the screen): a
 * [kiosk] catalogs folder must open; with an [http] port, the ui folder
 * must open and the certificate and key files must be readable regular
 * files of at most DK_CONFIG_PEM_MAX bytes.  dropkioskctl, which serves no screen, does
 * not call it.  0, or DK_EINPUT with "FILE:LINE: cannot ..." in err. */
int config_check_files(const struct dk_config *cfg, struct dk_error *err);

/* Whether the programs' user (call it after owner_become) may read the
 * config itself and the [receipt] signing_key, when that key is there (it
 * need not be yet: keygen makes it).  0, or DK_EINPUT with
 * owner_unreadable's message (src/owner.h): "cannot read config PATH as
 * user NAME (uid N): Permission denied; let that user read it: ...", or
 * "FILE[:LINE]: cannot read [receipt] signing_key KEY as ...; it must be
 * that user's: ...". */
int config_check_readable(const struct dk_config *cfg, struct dk_error *err);

/* Whether the daemon's user (call it after owner_become) may write what
 * it writes: the database's folder and the database when it is there,
 * the [receipt] directory and, with transport = spool, the [mail] spool
 * (each, when not there yet, its parent folder, where the daemon makes
 * it).  access(2) says EROFS outside ProtectSystem=strict's writable
 * paths, so a database put in /srv under the packaged service is refused
 * here, once, not by SQLite at every restart.  0, or DK_EINPUT with
 * "FILE:LINE: cannot write [kiosk] database folder DIR as user NAME (uid
 * N): REASON; under the packaged service only /var/lib/dropkiosk is
 * writable" ("FILE: " for a default, "--db folder" and no FILE with
 * database_line < 0; "cannot make [receipt] directory DIR in PARENT as
 * ..." for a folder not there yet). */
int config_check_writable(const struct dk_config *cfg, struct dk_error *err);

/* The config path to use: explicit (from -c) when not NULL, else
 * $DROPKIOSK_CONFIG, else /etc/dropkiosk/dropkiosk.conf. */
const char *config_default_path(const char *explicit_path);

#endif
