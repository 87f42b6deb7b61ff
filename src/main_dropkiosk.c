/* dropkiosk: the kiosk daemon.  It owns the scanners, the database and the
 * return session, shows the kiosk in the terminal for now, and delivers
 * queued mail from a worker thread. */
#include "config.h"
#include "error.h"
#include "inventory.h"
#include "log.h"
#include "mail.h"
#include "mailer.h"
#include "receipt.h"
#include "scan.h"
#include "scanner.h"
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
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct options {
    const char *config;
    const char *db;
    bool check_config;
};

struct kiosk {
    struct dk_config cfg;
    struct dk_store *store;
    struct dk_scan_rules rules;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    /* One slot per configured scanner; NULL while it is unplugged. */
    struct dk_scanner *scanners[DK_MAX_SCANNERS];
    bool gone_for_good[DK_MAX_SCANNERS]; /* standard input at its end */
    uint64_t next_try_ms[DK_MAX_SCANNERS];
    struct dk_mailer *mailer;
    struct dk_session *session;
    int sigfd;
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
    if (o->db != NULL)
        snprintf(k->cfg.database, sizeof(k->cfg.database), "%s", o->db);
    if (k->cfg.n_scanners == 0)
        return dk_error_set(err, DK_EINPUT, "%s: no [scanner NAME] section: the kiosk needs "
                            "at least one scanner", k->cfg.path);
    /* Receipts and email show the kiosk's local time. */
    setenv("TZ", k->cfg.timezone, 1);
    tzset();
    return scan_rules_init(&k->rules, &k->cfg, err);
}

static int open_store(struct kiosk *k, struct dk_error *err)
{
    int rc = store_open(k->cfg.database, &k->store, err);

    if (rc == 0)
        rc = inventory_register_kiosk(k->store, k->cfg.site_id, k->cfg.site_name,
                                      k->cfg.kiosk_id, err);
    if (rc == 0)
        rc = receipt_load_secret(k->cfg.signing_key, k->sk, err);
    return rc;
}

/* How often an unplugged scanner is looked for, so that plugging it back in
 * starts using it within a second. */
#define DK_REOPEN_MS 500

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A device that is not there (yet) is waited for; anything else wrong with
 * a scanner's settings stops the kiosk at start. */
static bool absent(int rc)
{
    return rc == -ENOENT || rc == -ENODEV || rc == -ENXIO || rc == -EIO || rc == -EBUSY;
}

static int open_scanners(struct kiosk *k, struct dk_error *err)
{
    for (int i = 0; i < k->cfg.n_scanners; i++) {
        int rc = scanner_open(&k->cfg.scanners[i], &k->scanners[i], err);

        if (rc != 0 && !absent(rc))
            return rc;
        if (rc != 0) {
            log_warn("%s; waiting for it to be plugged in", err->msg);
            k->next_try_ms[i] = mono_ms() + DK_REOPEN_MS;
        }
    }
    return 0;
}

static void try_reopen(struct kiosk *k, int i)
{
    struct dk_error err = {{0}};

    if (k->scanners[i] != NULL || k->gone_for_good[i] || mono_ms() < k->next_try_ms[i])
        return;
    if (scanner_open(&k->cfg.scanners[i], &k->scanners[i], &err) != 0) {
        log_debug("%s", err.msg);
        k->next_try_ms[i] = mono_ms() + DK_REOPEN_MS;
    }
}

/* Whether any scanner is open or may come back. */
static bool any_scanner(const struct kiosk *k)
{
    for (int i = 0; i < k->cfg.n_scanners; i++) {
        if (k->scanners[i] != NULL || !k->gone_for_good[i])
            return true;
    }
    return false;
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
    for (int i = 0; i < c->n_scanners; i++)
        printf("  scanner:   %s (%s)%s\n", c->scanners[i].name,
               c->scanners[i].kind == DK_SCANNER_STDIN ? "this terminal"
               : c->scanners[i].device[0] != '\0'     ? c->scanners[i].device
                                                       : "found by USB id or name",
               k->scanners[i] == NULL ? ", not connected yet" : "");
    printf("Type or scan CANCEL at any time to start over; Ctrl-C stops the kiosk.\n");
    fflush(stdout);
}

static void drop_scanner(struct kiosk *k, int i)
{
    scanner_close(k->scanners[i]);
    k->scanners[i] = NULL;
    k->gone_for_good[i] = k->cfg.scanners[i].kind == DK_SCANNER_STDIN;
    k->next_try_ms[i] = mono_ms() + DK_REOPEN_MS;
}

static time_t mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void read_scanner(struct kiosk *k, int i)
{
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    int rc;

    while ((rc = scanner_next(k->scanners[i], &ev, &err)) == 1)
        session_input(k->session, ev.text, ev.len, ev.overflow, ev.source, ev.symbology,
                      mono_seconds());
    if (rc < 0) {
        log_warn("%s; the kiosk goes on and uses it again when it is back", err.msg);
        drop_scanner(k, i);
    }
}

/* Milliseconds poll may sleep: until the session's idle timeout or a
 * scanner's pause timeout, whichever comes first; -1 for no limit. */
static int poll_timeout(const struct kiosk *k)
{
    int idle = session_timeout_in(k->session, mono_seconds());
    int wait = idle < 0 ? -1 : idle * 1000 + 50;

    for (int i = 0; i < k->cfg.n_scanners; i++) {
        int w = k->scanners[i] != NULL ? scanner_wait_ms(k->scanners[i])
                : k->gone_for_good[i]   ? -1
                                        : DK_REOPEN_MS;

        if (w >= 0 && (wait < 0 || w < wait))
            wait = w;
    }
    return wait;
}

static int run_loop(struct kiosk *k)
{
    for (;;) {
        struct pollfd fds[DK_MAX_SCANNERS + 1];
        int n = k->cfg.n_scanners;

        if (!any_scanner(k)) {
            log_info("no scanner left and none can come back; stopping");
            return 0;
        }
        for (int i = 0; i < n; i++) {
            int fd = k->scanners[i] != NULL ? scanner_fd(k->scanners[i]) : -1;

            /* poll skips negative descriptors. */
            fds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
        fds[n] = (struct pollfd){.fd = k->sigfd, .events = POLLIN};
        if (poll(fds, (nfds_t)n + 1, poll_timeout(k)) < 0 && errno != EINTR) {
            log_error("cannot wait for scanners: %s", strerror(errno));
            return 3;
        }
        if (fds[n].revents & POLLIN) {
            log_info("stopping on signal");
            return 0;
        }
        /* Every scanner is asked, not only those with input: one waiting
         * on a pause to end its scan needs the call too. */
        for (int i = 0; i < n; i++) {
            if (k->scanners[i] != NULL)
                read_scanner(k, i);
            else
                try_reopen(k, i);
        }
        session_tick(k->session, mono_seconds());
    }
}

static int start(struct kiosk *k, struct dk_error *err)
{
    struct dk_session_deps deps = {
        .cfg = &k->cfg,
        .store = k->store,
        .rules = &k->rules,
        .signing_key = k->sk,
        .out = stdout,
        .mail_queued = mailer_wake,
    };
    int rc = open_signals(k, err);

    if (rc == 0)
        rc = open_scanners(k, err);
    if (rc == 0)
        rc = mailer_start(&k->cfg, &k->mailer, err);
    if (rc != 0)
        return rc;
    deps.user = k->mailer;
    k->session = session_new(&deps);
    if (k->session == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    return 0;
}

static void stop(struct kiosk *k)
{
    session_free(k->session);
    mailer_stop(k->mailer);
    for (int i = 0; i < k->cfg.n_scanners; i++)
        scanner_close(k->scanners[i]);
    if (k->sigfd >= 0)
        close(k->sigfd);
    scan_rules_free(&k->rules);
    store_close(k->store);
    sodium_memzero(k->sk, sizeof(k->sk));
}

int main(int argc, char **argv)
{
    static struct kiosk k = {.sigfd = -1};
    struct options o = {0};
    struct dk_error err = {{0}};
    int rc = parse_args(argc, argv, &o);

    if (rc != 0)
        return rc - 1;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        log_error("cannot initialise libsodium or libcurl");
        return 3;
    }
    mail_init();
    rc = load_config(&k, &o, &err);
    if (rc == 0 && o.check_config) {
        printf("%s: configuration is valid\n", k.cfg.path);
        goto out;
    }
    if (rc == 0)
        rc = open_store(&k, &err);
    if (rc == 0)
        rc = start(&k, &err);
    if (rc != 0) {
        log_error("%s", err.msg);
        goto out;
    }
    banner(&k);
    session_start(k.session);
    rc = run_loop(&k);
    session_flush(k.session);
out:
    stop(&k);
    curl_global_cleanup();
    return rc < 0 ? dk_exit_status(rc) : rc;
}
