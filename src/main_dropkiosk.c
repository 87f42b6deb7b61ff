/* dropkiosk: the kiosk daemon.  It owns the scanners, the database and the
 * return session, shows the kiosk in the terminal for now, and delivers
 * queued mail from a worker thread. */
#include "config.h"
#include "error.h"
#include "inventory.h"
#include "log.h"
#include "mail.h"
#include "http.h"
#include "i18n.h"
#include "kiosk_api.h"
#include "lockfile.h"
#include "tech_api.h"
#include "mailer.h"
#include "owner.h"
#include "receipt_printer.h"
#include "receipt.h"
#include "scan.h"
#include "scanner_set.h"
#include "session.h"
#include "store.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

struct options {
    const char *config;
    const char *db;
    bool check_config;
};

/* How often the screen's health (scanner, printer, mail queue, database)
 * is looked at. */
#define HEALTH_SECONDS 2

struct kiosk {
    struct dk_config cfg;
    struct dk_store *store;
    struct dk_scan_rules rules;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_scanner_set *scanners;
    struct dk_mailer *mailer;
    struct dk_session *session;
    struct dk_catalog **catalogs;        /* every catalog of the folder */
    size_t n_catalogs;
    const struct dk_catalog *catalog;    /* [kiosk] language's, among them */
    struct dk_receipt_printer *printer; /* NULL without one */
    struct dk_kiosk_api *api;           /* NULL without [http] port */
    struct dk_tech_api *tech;           /* the technician console's API */
    struct dk_http *http;
    struct dk_http_config routes;       /* every API's routes, for http */
    json_t *shown;                      /* the view the screen has now */
    time_t health_at;                   /* when the health was last looked at */
    uint64_t watchdog_ms;               /* systemd's watchdog ping period; 0: off */
    uint64_t watchdog_at;               /* monotonic ms of the last ping; 0: none */
    int sigfd;
    int lock_fd;                        /* DATABASE.lock, held while we run */
};

static void usage(FILE *f)
{
    fputs("Usage: dropkiosk [-c FILE] [--db PATH] [-v] [--check-config]\n"
          "Run the device drop-off kiosk.\n\n"
          "  -c, --config FILE  config file (default $DROPKIOSK_CONFIG, then\n"
          "                     /etc/dropkiosk/dropkiosk.conf)\n"
          "      --db PATH      use this database instead of the config's\n"
          "      --check-config check the config and exit\n"
          "  -v, --verbose      debug logging\n"
          "      --help         this help\n"
          "      --version      version and git commit\n",
          f);
}

/* 0 to go on, or an exit status + 1 (so 1 means "exit 0"). */
static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_DB = 256, OPT_CHECK, OPT_HELP, OPT_VERSION };
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, OPT_DB},
        {"check-config", no_argument, NULL, OPT_CHECK}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, OPT_HELP},     {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:v", longs, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_CHECK:
            o->check_config = true;
            break;
        case 'v':
            log_set_level(DK_LOG_DEBUG);
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        case OPT_VERSION:
            printf("dropkiosk %s (commit %s)\n", DK_VERSION, DK_COMMIT);
            return 1;
        default:
            usage(stderr);
            return 3;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "dropkiosk: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 3;
    }
    return 0;
}

static int load_config(struct kiosk *k, const struct options *o, struct dk_error *err)
{
    int rc;

    config_defaults(&k->cfg);
    rc = config_load(&k->cfg, config_default_path(o->config), err);
    if (rc != 0)
        return rc;
    if (o->db != NULL) {
        snprintf(k->cfg.database, sizeof(k->cfg.database), "%s", o->db);
        k->cfg.database_line = -1;
    }
    if (k->cfg.n_scanners == 0)
        return dk_error_set(err, DK_EINPUT, "%s: no [scanner NAME] section: the kiosk needs "
                            "at least one scanner", k->cfg.path);
    return 0;
}

/* Run as root (`sudo dropkiosk` before the service's first start), become
 * the owner of the database's folder, the service's user, before any file
 * there is opened: a database root made would be read-only to the
 * service.  --check-config does it too, so that it checks the files the
 * way the service will read them. */
static int become_owner(const struct kiosk *k, struct dk_error *err)
{
    struct dk_owner who;
    int rc = owner_become(k->cfg.database, &who, err);

    if (rc == 0 && who.became)
        log_info("running as %s", who.what);
    return rc;
}

/* What the config names beyond its own text: the config and signing key as
 * the service's user reads them, the message catalogs, the scan patterns
 * and the screen's files, each refused here, so that --check-config says
 * what a start would.  (The folders the daemon writes are checked at
 * start only: --check-config runs on machines without them, such as the
 * reference config's check at build time.) */
static int check_site(struct kiosk *k, struct dk_error *err)
{
    int rc;

    /* Receipts and email show the kiosk's local time. */
    setenv("TZ", k->cfg.timezone, 1);
    tzset();
    /* Root read the config before becoming the folder's owner: the
     * service, which starts as that user, must be able to as well. */
    rc = config_check_readable(&k->cfg, err);
    /* The folders the config names, [kiosk] catalogs among them, so that a
     * folder that is not there is named by its line. */
    if (rc == 0)
        rc = config_check_files(&k->cfg, err);
    /* Every catalog in the folder is checked, so a language the start
     * prompt offers can always be switched to; a kiosk that cannot say
     * anything must not start, and --check-config says so too. */
    if (rc == 0)
        rc = i18n_load_all(i18n_dir(&k->cfg), &k->catalogs, &k->n_catalogs, err);
    for (size_t i = 0; rc == 0 && k->catalog == NULL && i < k->n_catalogs; i++) {
        if (strcmp(i18n_lang(k->catalogs[i]), k->cfg.language) == 0)
            k->catalog = k->catalogs[i];
    }
    if (rc == 0 && k->catalog == NULL)
        rc = dk_error_set(err, -ENOENT, "%s: no message catalog %s.json in %s for [kiosk] "
                          "language = %s", k->cfg.path, k->cfg.language,
                          i18n_dir(&k->cfg), k->cfg.language);
    if (rc == 0)
        rc = scan_rules_init(&k->rules, &k->cfg, err);
    return rc;
}

/* Say which key signs receipts, so that the operator can compare it with
 * the published one; a public key file that is not its pair is warned of
 * (the kiosk still works, but its receipts would not check out). */
static void log_signing_key(const struct kiosk *k)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char fpr[DK_RECEIPT_FINGERPRINT_SIZE];
    struct dk_error err = {{0}};
    int rc;

    crypto_sign_ed25519_sk_to_pk(pk, k->sk);
    receipt_fingerprint(pk, fpr);
    log_info("receipt signing key fingerprint %s (publish the public key with dropkioskctl "
             "pubkey)", fpr);
    rc = receipt_check_public(k->cfg.public_key, k->cfg.signing_key, k->sk, &err);
    if (rc != 0 && rc != -ENOENT)
        log_warn("%s", err.msg);
}

/* The signing key first: a kiosk that cannot sign receipts refuses to
 * start (exit 2) before it has made a database or anything else.  Then
 * the lock, before the store and the scanners: a second daemon on the
 * same database must not read the first one's scans.  The key's
 * fingerprint is logged once the store is open, as it always was. */
static int open_store(struct kiosk *k, struct dk_error *err)
{
    int rc = receipt_load_secret(k->cfg.signing_key, k->sk, err);

    if (rc == 0)
        rc = lockfile_take(k->cfg.database, &k->lock_fd, err);
    if (rc == 0)
        rc = store_open(k->cfg.database, &k->store, err);
    if (rc == 0)
        rc = inventory_register_kiosk(k->store, k->cfg.site_id, k->cfg.site_name,
                                      k->cfg.kiosk_id, err);
    if (rc == 0)
        log_signing_key(k);
    return rc;
}

/* SIGINT and SIGTERM arrive through a descriptor, so the loop ends between
 * two scans and never in the middle of a commit.  Blocked before the mail
 * thread starts, so that thread never takes them. */
static int open_signals(struct kiosk *k, struct dk_error *err)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    k->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (k->sigfd < 0)
        return dk_error_set(err, -errno, "cannot watch signals: %s", strerror(errno));
    return 0;
}

static void banner(const struct kiosk *k)
{
    const struct dk_config *c = &k->cfg;

    printf("dropkiosk %s: %s, kiosk %s\n", DK_VERSION, c->site_name, c->kiosk_id);
    printf("  database:  %s\n", c->database);
    printf("  receipts:  %s\n", c->receipt_dir);
    if (c->transport == DK_MAIL_SPOOL)
        printf("  mail:      written to the Maildir %s (not sent)\n", c->spool_dir);
    else
        printf("  mail:      sent through %s\n", c->smtp_url);
    if (k->http != NULL)
        printf("  screen:    %s://%s%s%s:%d/ (technicians: /tech)\n",
               c->http_cert[0] != '\0' ? "https" : "http",
               strchr(c->http_listen, ':') != NULL ? "[" : "", c->http_listen,
               strchr(c->http_listen, ':') != NULL ? "]" : "", c->http_port);
    for (int i = 0; i < c->n_scanners; i++)
        printf("  scanner:   %s (%s)%s\n", c->scanners[i].name,
               c->scanners[i].kind == DK_SCANNER_STDIN ? "this terminal"
               : c->scanners[i].device[0] != '\0'     ? c->scanners[i].device
                                                       : "found by USB id or name",
               scanner_set_connected(k->scanners, i) ? "" : ", not connected yet");
    printf("Type or scan CANCEL at any time to start over; Ctrl-C stops the kiosk.\n");
    fflush(stdout);
}

static time_t mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- systemd (sd_notify(3)); every call is a no-op without NOTIFY_SOCKET,
 * as when run from a terminal or by the tests. */

/* WatchdogSec= reaches us as WATCHDOG_USEC (and WATCHDOG_PID, which must
 * be ours).  We ping every quarter of it: sd_watchdog_enabled(3) asks for
 * at least every half, and a quarter keeps a slow turn of the loop (a
 * printer query) from making a late ping look like a hang. */
static void watchdog_setup(struct kiosk *k)
{
    uint64_t usec = 0;
    int rc = sd_watchdog_enabled(0, &usec);

    if (rc < 0)
        log_warn("ignoring systemd's watchdog settings (WATCHDOG_USEC): %s", strerror(-rc));
    if (rc <= 0)
        return;
    k->watchdog_ms = usec / 4000 > 0 ? usec / 4000 : 1;
    log_debug("systemd watchdog: %llu ms; pinging every %llu ms",
              (unsigned long long)(usec / 1000), (unsigned long long)k->watchdog_ms);
}

static void watchdog_ping(struct kiosk *k)
{
    uint64_t now;
    int rc;

    if (k->watchdog_ms == 0)
        return;
    now = mono_ms();
    if (k->watchdog_at != 0 && now - k->watchdog_at < k->watchdog_ms)
        return;
    k->watchdog_at = now;
    rc = sd_notify(0, "WATCHDOG=1");
    if (rc < 0)
        log_debug("cannot ping systemd's watchdog: %s", strerror(-rc));
}

/* Milliseconds until the next watchdog ping is due; -1 without one. */
static int watchdog_timeout(const struct kiosk *k)
{
    uint64_t now = mono_ms();
    uint64_t due = k->watchdog_at + k->watchdog_ms;

    if (k->watchdog_ms == 0)
        return -1;
    return due <= now ? 0 : (int)(due - now);
}

/* The store, scanners and screen server are up: systemd may start what
 * waits for us (the lobby screen). */
static void notify_ready(struct kiosk *k)
{
    int rc = sd_notifyf(0, "READY=1\nSTATUS=kiosk %s at %s is ready", k->cfg.kiosk_id,
                        k->cfg.site_name);

    if (rc < 0)
        log_warn("cannot tell systemd the kiosk is ready: %s", strerror(-rc));
    watchdog_setup(k);
}

static void notify_stopping(void)
{
    int rc = sd_notify(0, "STOPPING=1\nSTATUS=stopping");

    if (rc < 0)
        log_debug("cannot tell systemd the kiosk is stopping: %s", strerror(-rc));
}

static void on_scan(const struct dk_scan_event *ev, void *user)
{
    struct kiosk *k = user;

    session_input(k->session, ev->text, ev->len, ev->overflow, ev->source, ev->symbology,
                  mono_seconds());
}

/* The sooner of two timeouts in ms, where -1 is none. */
static int sooner(int a, int b)
{
    if (a < 0)
        return b;
    return b >= 0 && b < a ? b : a;
}

/* Milliseconds poll may sleep: until the session's idle timeout, a
 * scanner's pause timeout or the next watchdog ping, whichever comes
 * first; -1 for no limit. */
static int poll_timeout(const struct kiosk *k)
{
    time_t now = mono_seconds();
    int idle = session_timeout_in(k->session, now);
    int probe = receipt_printer_timeout_in(k->printer, now);
    int wait;

    if (probe >= 0 && (idle < 0 || probe < idle))
        idle = probe;
    wait = idle < 0 ? -1 : idle * 1000 + 50;
    int w = scanner_set_timeout_ms(k->scanners);

    /* The screen's health is looked at every HEALTH_SECONDS. */
    if (k->api != NULL && (wait < 0 || wait > HEALTH_SECONDS * 1000))
        wait = HEALTH_SECONDS * 1000;
    return sooner(sooner(w, wait), watchdog_timeout(k));
}

/* Push the screen's view when it changed. */
static void publish_view(struct kiosk *k)
{
    json_t *view;

    if (k->api == NULL)
        return;
    view = session_view(k->session);
    if (view == NULL || (k->shown != NULL && json_equal(view, k->shown))) {
        json_decref(view);
        return;
    }
    json_decref(k->shown);
    k->shown = json_incref(view);
    kiosk_api_set_state(k->api, k->http, view);
}

static int outbox_waiting(struct dk_store *store)
{
    struct dk_error err = {{0}};
    sqlite3_stmt *st = NULL;
    int n = -1;

    if (store_prepare(store, "SELECT count(*) FROM outbox WHERE status = 'pending'", &st,
                      &err) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Scanner, printer, mail queue and database, for the screen: looked at
 * every HEALTH_SECONDS and pushed when something changed. */
static void publish_health(struct kiosk *k)
{
    struct dk_kiosk_health hl = {0};
    time_t now = mono_seconds();
    int waiting;

    if (k->api == NULL || (k->health_at != 0 && now - k->health_at < HEALTH_SECONDS))
        return;
    k->health_at = now;
    for (int i = 0; i < k->cfg.n_scanners; i++)
        hl.scanner = hl.scanner || scanner_set_connected(k->scanners, i);
    hl.has_printer = k->printer != NULL;
    hl.printer = k->printer != NULL && receipt_printer_in_service(k->printer);
    waiting = outbox_waiting(k->store);
    hl.mail_queue = waiting < 0 ? 0 : waiting;
    hl.database = waiting >= 0 && !session_out_of_service(k->session);
    kiosk_api_set_health(k->api, k->http, &hl);
}

static void on_screen_input(struct kiosk *k)
{
    struct dk_screen_input in;

    while (kiosk_api_next(k->api, &in)) {
        if (in.still_here) {
            session_touch(k->session, mono_seconds());
            continue;
        }
        if (in.language[0] != '\0') {
            if (!session_set_language(k->session, in.language, mono_seconds()))
                log_info("screen: language %s not switched to (a visit is open, or no "
                         "such catalog)", in.language);
            continue;
        }
        session_input(k->session, in.text, strlen(in.text), false, "screen", NULL,
                      mono_seconds());
    }
}

static int run_loop(struct kiosk *k)
{
    for (;;) {
        struct pollfd fds[DK_SCANNER_SET_FDS + 2];
        int n;

        if (!scanner_set_alive(k->scanners)) {
            log_info("no scanner left and none can come back; stopping");
            return 0;
        }
        watchdog_ping(k);
        publish_view(k);
        publish_health(k);
        n = scanner_set_pollfds(k->scanners, fds);
        fds[n] = (struct pollfd){.fd = k->sigfd, .events = POLLIN};
        fds[n + 1] = (struct pollfd){.fd = k->api != NULL ? kiosk_api_fd(k->api) : -1,
                                     .events = POLLIN};
        if (poll(fds, (nfds_t)n + 2, poll_timeout(k)) < 0 && errno != EINTR) {
            log_error("cannot wait for scanners: %s", strerror(errno));
            return 3;
        }
        if (fds[n].revents & POLLIN) {
            log_info("stopping on signal");
            return 0;
        }
        scanner_set_service(k->scanners, fds, on_scan, k);
        if (fds[n + 1].revents & POLLIN)
            on_screen_input(k);
        session_tick(k->session, mono_seconds());
        /* The printer is asked again only between visits: the query may
         * take the printer's whole timeout. */
        if (!session_busy(k->session))
            receipt_printer_tick(k->printer, mono_seconds());
    }
}

/* Where the kiosk is shown as text: stdout, unless that is the journal
 * (the service under systemd), where each prompt, the language banner and
 * each row of a receipt's QR code would be an entry of its own, some 60 a
 * visit; the screen there is the browser, and the log says what matters
 * (one line a visit). */
static FILE *terminal_view(void)
{
    return log_stdout_is_journal() ? NULL : stdout;
}

static int start(struct kiosk *k, struct dk_error *err)
{
    struct dk_session_deps deps = {
        .cfg = &k->cfg,
        .store = k->store,
        .rules = &k->rules,
        .signing_key = k->sk,
        .out = terminal_view(),
        .catalog = k->catalog,
        .catalogs = k->catalogs,
        .n_catalogs = k->n_catalogs,
        .mail_queued = mailer_wake,
    };
    int rc = open_signals(k, err);

    if (rc == 0)
        rc = scanner_set_open(&k->cfg, &k->scanners, err);
    if (rc == 0)
        rc = mailer_start(&k->cfg, &k->mailer, err);
    if (rc == 0 && receipt_printer_new(&k->cfg, &k->printer) != 0)
        rc = dk_error_set(err, -ENOMEM, "out of memory");
    if (rc == 0 && k->cfg.http_port != 0)
        rc = kiosk_api_new(&k->cfg, k->catalogs, k->n_catalogs, &k->api, err);
    if (rc == 0 && k->api != NULL)
        rc = tech_api_new(&k->cfg, &k->tech, err);
    if (rc == 0 && k->tech != NULL)
        tech_api_on_change(k->tech, mailer_wake, k->mailer);
    if (rc == 0 && k->api != NULL &&
        (kiosk_api_routes(k->api, &k->routes) != 0 || tech_api_routes(k->tech, &k->routes) != 0))
        rc = dk_error_set(err, -ENOSPC, "too many web routes");
    k->routes.cookie_name = DK_TECH_COOKIE;
    if (rc == 0 && k->api != NULL)
        rc = http_start(&k->cfg, &k->routes, &k->http, err);
    if (rc != 0)
        return rc;
    deps.printer = k->printer;
    deps.user = k->mailer;
    k->session = session_new(&deps);
    if (k->session == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    return 0;
}

static void stop(struct kiosk *k)
{
    http_stop(k->http);
    kiosk_api_free(k->api);
    tech_api_free(k->tech);
    json_decref(k->shown);
    session_free(k->session);
    receipt_printer_free(k->printer);
    i18n_free_all(k->catalogs, k->n_catalogs);
    mailer_stop(k->mailer);
    scanner_set_close(k->scanners);
    if (k->sigfd >= 0)
        close(k->sigfd);
    scan_rules_free(&k->rules);
    store_close(k->store);
    lockfile_release(k->cfg.database, k->lock_fd);
    sodium_memzero(k->sk, sizeof(k->sk));
}

int main(int argc, char **argv)
{
    static struct kiosk k = {.sigfd = -1, .lock_fd = -1};
    struct options o = {0};
    struct dk_error err = {{0}};
    int rc;

    log_init();
    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc - 1;
    /* The files the daemon makes are the service's alone, whoever started
     * it and with whatever umask (root's 022 from sudo). */
    umask(DK_OWNER_UMASK);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        log_error("cannot initialise libsodium or libcurl");
        return 3;
    }
    mail_init();
    rc = load_config(&k, &o, &err);
    if (rc == 0)
        rc = become_owner(&k, &err);
    if (rc == 0)
        rc = check_site(&k, &err);
    if (rc == 0 && o.check_config) {
        printf("%s: configuration is valid\n", k.cfg.path);
        goto out;
    }
    if (rc == 0)
        rc = config_check_writable(&k.cfg, &err);
    if (rc == 0)
        rc = open_store(&k, &err);
    if (rc == 0)
        rc = start(&k, &err);
    if (rc != 0) {
        log_error("%s", err.msg);
        goto out;
    }
    if (terminal_view() != NULL)
        banner(&k);
    session_start(k.session);
    notify_ready(&k);
    rc = run_loop(&k);
    notify_stopping();
    session_flush(k.session);
out:
    stop(&k);
    curl_global_cleanup();
    return rc < 0 ? dk_exit_status(rc) : rc;
}
