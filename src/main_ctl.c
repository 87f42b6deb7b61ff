/* dropkioskctl: the administrator's command line.  Verb first:
 * keygen, pubkey, import, verify, outbox, audit. */
#include "audit.h"
#include "config.h"
#include "csv.h"
#include "ctl.h"
#include "error.h"
#include "import.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "owner.h"
#include "receipt.h"
#include "store.h"

#include "barcode_image.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A receipt payload is a few hundred bytes; anything near this is not one. */
#define MAX_PAYLOAD 16384

#define MAX_MAPS DK_CTL_MAX_MAPS

static const char usage_text[] =
    "Usage: dropkioskctl [-c FILE] [--db PATH] [-v] VERB ...\n"
    "Administer a dropkiosk database.\n\n"
    "Verbs:\n"
    "  keygen [--if-missing]        create the receipt signing key pair and show\n"
    "                               its fingerprint; never replaces a key (with\n"
    "                               --if-missing, a pair already there is checked\n"
    "                               and kept)\n"
    "  pubkey [--fingerprint]       print the receipt public key (base64), or\n"
    "                               only its SHA256: fingerprint\n"
    "  import assets|staff FILE     import a CSV export (FILE may be -)\n"
    "         [--map COLUMN=FIELD]  read COLUMN as FIELD (FIELD - ignores it)\n"
    "  verify FILE.png...|-         check receipt QR images, or a payload on stdin\n"
    "  decode FILE... [--csv]       print the barcodes and QR codes in images\n"
    "  outbox [list] [--csv]        list queued, sent and failed mail\n"
    "  outbox send                  deliver the mail that is due now\n"
    "  outbox retry ID...|failed    put failed mail back in the queue (after\n"
    "                               fixing what failed it)\n"
    "  audit verify                 check the audit trail's hash chain\n"
    "  import leavers FILE [--map COLUMN=FIELD]\n"
    "                               import the HR list of staff who left\n\n"
    "Technician verbs (--tech ID acts as that technician; the PIN is asked on\n"
    "the terminal, or read from stdin with --pin-stdin, which each of them\n"
    "takes):\n"
    "  tech add --name N --badge B [--tech ID]\n"
    "                               add a technician (sets the PIN); --tech is\n"
    "                               the active technician who approves it (the\n"
    "                               first account needs none)\n"
    "  tech disable ID --tech ID | tech list [--csv]\n"
    "  receive TAG --tech ID [--charger present|missing] [--condition C]\n"
    "          [--note T]\n"
    "                               confirm a dropped device arrived\n"
    "  cleanout --school NAME --tech ID [--charger present|missing]\n"
    "           [--condition C] TAG...|-\n"
    "                               return and receive a whole cart at once\n"
    "  discrepancies [--days N] [--csv]\n"
    "                               walk-ins, devices not received, chargers\n"
    "  dispose TAG [--csv]          show the proposed disposition and its rule\n"
    "  wipe TAG --tech ID --method M --tool T\n"
    "                               record the data wipe\n"
    "  reimage TAG --tech ID        return a wiped device to stock\n"
    "  reassign TAG --to STAFF --tech ID\n"
    "                               hand a wiped device to a named person\n"
    "  recycle TAG --level clear|purge|destroy --tech ID\n"
    "                               add a device to the open e-waste manifest\n"
    "  reserve MODEL --to STAFF --tech ID\n"
    "                               reserve the next device of a model\n"
    "  manifest [show] [--csv]      the open e-waste manifest\n"
    "  manifest close --vendor V --certificate N --tech ID [--out FILE]\n"
    "  report [returns|awaiting|chargers|dispositions|flags|leavers]\n"
    "         [--from DATE] [--until DATE] [--csv] [--out FILE]\n"
    "  printer [status] [--printer NAME]\n"
    "                               ask the receipt printer's state\n"
    "  reprint [RECEIPT-ID] --tech ID [--printer NAME] [--pin-stdin]\n"
    "                               print a receipt again (default: this\n"
    "                               kiosk's last one)\n"
    "  digest [--date DATE]         queue the leaders' digests of the last day due\n\n"
    "Options:\n"
    "  -c, --config FILE  config file (default $DROPKIOSK_CONFIG, then\n"
    "                     /etc/dropkiosk/dropkiosk.conf)\n"
    "      --db PATH      use this database instead of the config's\n"
    "      --csv          CSV output for programs\n"
    "  -v, --verbose      debug logging\n"
    "      --help         this help\n"
    "      --version      version and git commit\n\n"
    "Run as root, dropkioskctl first becomes the user and group that own the\n"
    "database's folder (unless root owns it), so that the files it makes belong\n"
    "to the daemon's user.  Files named on the command line are then read and\n"
    "written as that user (import, verify and cleanout also read - from stdin).\n\n"
    "Exit status: 0 success, 1 a clean negative answer (forged receipt, failed\n"
    "check), 2 bad usage or input, 3 a runtime failure.\n";

static int add_map(struct dk_ctl *c, char *spec)
{
    char *eq = strchr(spec, '=');

    if (c->n_maps == MAX_MAPS) {
        fprintf(stderr, "dropkioskctl: at most %d --map options\n", MAX_MAPS);
        return 2;
    }
    if (eq == NULL || eq == spec || eq[1] == '\0') {
        fprintf(stderr, "dropkioskctl: --map wants COLUMN=FIELD, got '%s'\n", spec);
        return 2;
    }
    *eq = '\0';
    c->maps[c->n_maps].column = spec;
    c->maps[c->n_maps].field = eq + 1;
    c->n_maps++;
    return 0;
}

/* The options of particular verbs (struct dk_ctl_opts), by long name. */
static const struct {
    const char *name;
    size_t offset;
} text_opts[] = {
    {"tech", offsetof(struct dk_ctl_opts, tech)},
    {"charger", offsetof(struct dk_ctl_opts, charger)},
    {"condition", offsetof(struct dk_ctl_opts, condition)},
    {"note", offsetof(struct dk_ctl_opts, note)},
    {"school", offsetof(struct dk_ctl_opts, school)},
    {"vendor", offsetof(struct dk_ctl_opts, vendor)},
    {"certificate", offsetof(struct dk_ctl_opts, certificate)},
    {"method", offsetof(struct dk_ctl_opts, method)},
    {"tool", offsetof(struct dk_ctl_opts, tool)},
    {"level", offsetof(struct dk_ctl_opts, level)},
    {"to", offsetof(struct dk_ctl_opts, to)},
    {"out", offsetof(struct dk_ctl_opts, out)},
    {"from", offsetof(struct dk_ctl_opts, from)},
    {"until", offsetof(struct dk_ctl_opts, until)},
    {"name", offsetof(struct dk_ctl_opts, name)},
    {"badge", offsetof(struct dk_ctl_opts, badge)},
    {"printer", offsetof(struct dk_ctl_opts, printer)},
    {"date", offsetof(struct dk_ctl_opts, date)},
};

#define N_TEXT_OPTS (sizeof(text_opts) / sizeof(text_opts[0]))

enum { OPT_DB = 256, OPT_CSV, OPT_MAP, OPT_HELP, OPT_VERSION, OPT_PIN_STDIN, OPT_DAYS,
       OPT_IF_MISSING, OPT_FINGERPRINT, OPT_TEXT /* OPT_TEXT + i: text_opts[i] */ };

static void fill_options(struct option *longs)
{
    static const struct option fixed[] = {
        {"config", required_argument, NULL, 'c'},   {"db", required_argument, NULL, OPT_DB},
        {"csv", no_argument, NULL, OPT_CSV},         {"map", required_argument, NULL, OPT_MAP},
        {"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {"pin-stdin", no_argument, NULL, OPT_PIN_STDIN},
        {"days", required_argument, NULL, OPT_DAYS},
        {"if-missing", no_argument, NULL, OPT_IF_MISSING},
        {"fingerprint", no_argument, NULL, OPT_FINGERPRINT},
    };
    size_t n = sizeof(fixed) / sizeof(fixed[0]);

    memcpy(longs, fixed, sizeof(fixed));
    for (size_t i = 0; i < N_TEXT_OPTS; i++)
        longs[n + i] = (struct option){text_opts[i].name, required_argument, NULL,
                                       OPT_TEXT + (int)i};
    longs[n + N_TEXT_OPTS] = (struct option){NULL, 0, NULL, 0};
}

static int parse_days(struct dk_ctl *c, const char *value)
{
    char *end = NULL;
    long v = strtol(value, &end, 10);

    if (end == value || *end != '\0' || v < 0 || v > 3650) {
        fprintf(stderr, "dropkioskctl: --days wants a number of days, got '%s'\n", value);
        return 2;
    }
    c->opt.days = (int)v;
    return 0;
}

/* One option; 0 to go on, else an exit status + 1 (1 means "exit 0"). */
static int take_option(struct dk_ctl *c, int o)
{
    if (o >= OPT_TEXT && o < OPT_TEXT + (int)N_TEXT_OPTS) {
        *(const char **)((char *)&c->opt + text_opts[o - OPT_TEXT].offset) = optarg;
        return 0;
    }
    switch (o) {
    case 'c':
        c->config_path = optarg;
        return 0;
    case OPT_DB:
        c->db = optarg;
        return 0;
    case OPT_CSV:
        c->csv = true;
        return 0;
    case OPT_MAP:
        return add_map(c, optarg) != 0 ? 3 : 0;
    case OPT_PIN_STDIN:
        c->opt.pin_stdin = true;
        return 0;
    case OPT_DAYS:
        return parse_days(c, optarg) != 0 ? 3 : 0;
    case OPT_IF_MISSING:
        c->opt.if_missing = true;
        return 0;
    case OPT_FINGERPRINT:
        c->opt.fingerprint = true;
        return 0;
    case 'v':
        log_set_level(DK_LOG_DEBUG);
        return 0;
    case OPT_HELP:
        fputs(usage_text, stdout);
        return 1;
    case OPT_VERSION:
        printf("dropkioskctl %s (commit %s)\n", DK_VERSION, DK_COMMIT);
        return 1;
    default:
        fputs(usage_text, stderr);
        return 3;
    }
}

/* -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct dk_ctl *c)
{
    struct option longs[16 + N_TEXT_OPTS];
    int o;

    fill_options(longs);
    c->opt.days = -1;
    while ((o = getopt_long(argc, argv, "c:v", longs, NULL)) != -1) {
        int rc = take_option(c, o);

        if (rc != 0)
            return rc - 1;
    }
    c->args = argv + optind;
    c->n_args = argc - optind;
    if (c->n_args == 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    return -1;
}

int ctl_fail(int code, const struct dk_error *err)
{
    fprintf(stderr, "%sdropkioskctl: %s\n", log_priority(DK_LOG_ERROR), err->msg);
    return dk_exit_status(code);
}

int ctl_bad_usage(const char *what)
{
    fprintf(stderr, "%sdropkioskctl: %s (see dropkioskctl --help)\n", log_priority(DK_LOG_ERROR),
            what);
    return 2;
}

int ctl_only_options(const struct dk_ctl *c, const char *verb,
                     unsigned allowed)
{
    const struct dk_ctl_opts *o = &c->opt;
    const struct {
        unsigned bit;
        bool given;
        const char *name;
    } opts[] = {
        {DK_CTL_OPT_TECH, o->tech != NULL, "--tech"},
        {DK_CTL_OPT_PIN_STDIN, o->pin_stdin, "--pin-stdin"},
        {DK_CTL_OPT_CHARGER, o->charger != NULL, "--charger"},
        {DK_CTL_OPT_CONDITION, o->condition != NULL, "--condition"},
        {DK_CTL_OPT_NOTE, o->note != NULL, "--note"},
        {DK_CTL_OPT_SCHOOL, o->school != NULL, "--school"},
        {DK_CTL_OPT_VENDOR, o->vendor != NULL, "--vendor"},
        {DK_CTL_OPT_CERTIFICATE, o->certificate != NULL, "--certificate"},
        {DK_CTL_OPT_METHOD, o->method != NULL, "--method"},
        {DK_CTL_OPT_TOOL, o->tool != NULL, "--tool"},
        {DK_CTL_OPT_LEVEL, o->level != NULL, "--level"},
        {DK_CTL_OPT_TO, o->to != NULL, "--to"},
        {DK_CTL_OPT_OUT, o->out != NULL, "--out"},
        {DK_CTL_OPT_FROM, o->from != NULL, "--from"},
        {DK_CTL_OPT_UNTIL, o->until != NULL, "--until"},
        {DK_CTL_OPT_NAME, o->name != NULL, "--name"},
        {DK_CTL_OPT_BADGE, o->badge != NULL, "--badge"},
        {DK_CTL_OPT_PRINTER, o->printer != NULL, "--printer"},
        {DK_CTL_OPT_DATE, o->date != NULL, "--date"},
        {DK_CTL_OPT_DAYS, o->days >= 0, "--days"},
        {DK_CTL_OPT_IF_MISSING, o->if_missing, "--if-missing"},
        {DK_CTL_OPT_FINGERPRINT, o->fingerprint, "--fingerprint"},
        {DK_CTL_OPT_CSV, c->csv, "--csv"},
        {DK_CTL_OPT_MAP, c->n_maps > 0, "--map"},
    };
    char what[128];

    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (opts[i].given && (opts[i].bit & allowed) == 0) {
            snprintf(what, sizeof(what), "%s does not take %s", verb, opts[i].name);
            return ctl_bad_usage(what);
        }
    }
    return 0;
}

int ctl_open_store(const struct dk_ctl *c, bool must_exist, struct dk_store **out)
{
    struct dk_error err = {{0}};
    int rc = must_exist ? store_open_existing(c->cfg.database, out, &err)
                        : store_open(c->cfg.database, out, &err);

    return rc != 0 ? ctl_fail(rc, &err) : 0;
}

/* Run as root on the appliance, become the owner of the database's folder
 * (src/owner.h) so that every file made from here on is the daemon's.  0,
 * or 3 with "cannot become ..." printed; -v says which user. */
static int become_owner(struct dk_ctl *c)
{
    struct dk_owner who;
    struct dk_error err = {{0}};
    int rc = owner_become(c->cfg.database, &who, &err);

    if (rc != 0)
        return ctl_fail(rc, &err);
    if (who.became)
        log_debug("running as %s", who.what);
    c->out_umask = who.umask_before;
    return 0;
}

int ctl_create_out(const struct dk_ctl *c, const char *path, mode_t mode)
{
    mode_t ours = umask(c->out_umask);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode);
    int e = errno;

    umask(ours);
    errno = e;
    return fd;
}

static int load_config(struct dk_ctl *c, struct dk_error *err)
{
    int rc;

    config_defaults(&c->cfg);
    rc = config_load(&c->cfg, config_default_path(c->config_path), err);
    if (rc == 0 && c->db != NULL) {
        snprintf(c->cfg.database, sizeof(c->cfg.database), "%s", c->db);
        c->cfg.database_line = -1;
    }
    return rc;
}

static int cmd_import(struct dk_ctl *c)
{
    struct dk_import_result res = {0};
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    enum dk_import_kind kind;
    int rc;

    if (ctl_only_options(c, "import", DK_CTL_OPT_MAP) != 0)
        return 2;
    if (c->n_args != 3)
        return ctl_bad_usage("import wants: import assets|staff|leavers FILE");
    if (strcmp(c->args[1], "assets") == 0)
        kind = DK_IMPORT_ASSETS;
    else if (strcmp(c->args[1], "staff") == 0)
        kind = DK_IMPORT_STAFF;
    else if (strcmp(c->args[1], "leavers") == 0)
        kind = DK_IMPORT_LEAVERS;
    else
        return ctl_bad_usage("import wants 'assets', 'staff' or 'leavers'");
    rc = store_open(c->cfg.database, &store, &err);
    if (rc == 0)
        rc = import_csv(store, kind, c->args[2], c->maps, c->n_maps, "cli", &res, &err);
    store_close(store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("%d added, %d updated, %d unchanged\n", res.added, res.updated, res.unchanged);
    return 0;
}

struct verify_ctx {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    int valid;
    int forged;
    int unreadable;
    int bad_input;
};

static void print_payload(const char *payload)
{
    const char *sig = strstr(payload, "Signature:");
    int len = sig != NULL ? (int)(sig - payload) : (int)strlen(payload);

    printf("%.*s", len, payload);
}

static void verify_one(struct verify_ctx *v, const char *data, size_t len)
{
    struct dk_error err = {{0}};
    int rc = receipt_verify(data, len, v->pk, &err);

    if (rc == 0) {
        v->valid++;
        printf("VALID\n");
        print_payload(data);
    } else if (rc == DK_EFORGED) {
        v->forged++;
        printf("FORGED: %s\n", err.msg);
    } else {
        v->unreadable++;
        printf("UNREADABLE: %s\n", err.msg);
    }
}

static void on_symbol(const char *symbology, const char *data, size_t len, void *user)
{
    (void)symbology;
    verify_one(user, data, len);
}

/* Read all of stdin into buf; DK_EINPUT when it holds more than a receipt
 * could (nothing is cut silently). */
static int read_stdin(char *buf, size_t size, size_t *len)
{
    *len = fread(buf, 1, size - 1, stdin);
    if (ferror(stdin))
        return -EIO;
    buf[*len] = '\0';
    if (*len == size - 1 && fgetc(stdin) != EOF)
        return DK_EINPUT;
    return 0;
}

static int verify_file(struct verify_ctx *v, const char *path)
{
    struct dk_error err = {{0}};
    int rc = barcode_image_decode_file(path, on_symbol, v, &err);

    if (rc < 0 && dk_exit_status(rc) == 2) {
        /* Not there, or not an image: the caller's mistake, not an answer. */
        v->bad_input++;
        fprintf(stderr, "dropkioskctl: %s\n", err.msg);
    } else if (rc < 0) {
        v->unreadable++;
        printf("UNREADABLE: %s\n", err.msg);
    } else if (rc == 0) {
        v->unreadable++;
        printf("UNREADABLE: no QR code found in %s\n", path);
    }
    return rc;
}

static int cmd_verify(struct dk_ctl *c)
{
    static char payload[MAX_PAYLOAD];
    struct verify_ctx v;
    struct dk_error err = {{0}};
    bool stdin_used = false;
    size_t len = 0;
    int rc;

    memset(&v, 0, sizeof(v));
    if (ctl_only_options(c, "verify", 0) != 0)
        return 2;
    if (c->n_args < 2)
        return ctl_bad_usage("verify wants: verify FILE.png... or verify -");
    rc = receipt_load_public(c->cfg.public_key, v.pk, &err);
    if (rc != 0)
        return ctl_fail(rc, &err);
    for (int i = 1; i < c->n_args; i++) {
        if (strcmp(c->args[i], "-") == 0 && stdin_used)
            return ctl_bad_usage("verify reads standard input (-) once");
        if (strcmp(c->args[i], "-") != 0) {
            verify_file(&v, c->args[i]);
            continue;
        }
        stdin_used = true;
        rc = read_stdin(payload, sizeof(payload), &len);
        if (rc == DK_EINPUT)
            return ctl_bad_usage("standard input holds more than a receipt payload (16 KiB)");
        if (rc != 0)
            return ctl_bad_usage("cannot read the payload from standard input");
        verify_one(&v, payload, len);
    }
    if (v.bad_input > 0)
        return 2;
    return v.valid > 0 && v.forged == 0 && v.unreadable == 0 ? 0 : 1;
}

/* The ids after "outbox retry": numbers, or the one word "failed" for
 * every failed message.  0, or an exit status. */
static int outbox_retry_args(const struct dk_ctl *c, int64_t *ids, size_t *n,
                             bool *all_failed)
{
    *n = 0;
    *all_failed = c->n_args == 3 && strcmp(c->args[2], "failed") == 0;
    if (c->n_args < 3)
        return ctl_bad_usage("outbox retry wants message ids, or the word failed");
    for (int i = 2; !*all_failed && i < c->n_args; i++) {
        char *end = NULL;
        long long v;

        errno = 0;
        v = strtoll(c->args[i], &end, 10);
        if (errno != 0 || end == c->args[i] || *end != '\0' || v <= 0) {
            fprintf(stderr, "dropkioskctl: outbox retry: '%s' is not a message id "
                    "(see dropkioskctl outbox)\n", c->args[i]);
            return 2;
        }
        ids[(*n)++] = (int64_t)v;
    }
    return 0;
}

static int outbox_retry_verb(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    int64_t *ids = calloc((size_t)c->n_args, sizeof(*ids));
    size_t n = 0;
    bool all_failed = false;
    int count = 0;
    int rc;

    if (ids == NULL)
        return ctl_fail(-ENOMEM, &(struct dk_error){"out of memory"});
    rc = outbox_retry_args(c, ids, &n, &all_failed);
    if (rc == 0 && ctl_only_options(c, "outbox retry", 0) != 0)
        rc = 2;
    if (rc != 0)
        goto out;
    rc = store_open_existing(c->cfg.database, &store, &err);
    if (rc == 0)
        rc = outbox_retry(store, ids, n, all_failed, "cli", &count, &err);
    store_close(store);
    if (rc != 0) {
        rc = ctl_fail(rc, &err);
        goto out;
    }
    printf("%d queued again\n", count);
out:
    free(ids);
    return rc;
}

static int cmd_outbox(struct dk_ctl *c)
{
    struct dk_outbox_counts counts = {0};
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    const char *sub = c->n_args > 1 ? c->args[1] : "list";
    bool list;
    int rc;

    if (strcmp(sub, "retry") == 0)
        return outbox_retry_verb(c);
    if (c->n_args > 2 || (strcmp(sub, "list") != 0 && strcmp(sub, "send") != 0))
        return ctl_bad_usage("outbox wants: outbox [list|send|retry]");
    list = strcmp(sub, "list") == 0;
    if (ctl_only_options(c, list ? "outbox list" : "outbox send",
                         list ? DK_CTL_OPT_CSV : 0) != 0)
        return 2;
    rc = store_open_existing(c->cfg.database, &store, &err);
    if (rc == 0 && list)
        rc = outbox_list(store, stdout, c->csv, &err);
    else if (rc == 0)
        rc = outbox_deliver_due(store, &c->cfg, &counts, &err);
    store_close(store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    if (!list)
        printf("%d sent, %d failed, %d to retry\n", counts.sent, counts.failed,
               counts.deferred);
    return 0;
}

static int cmd_audit(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    int64_t bad = 0, rows = 0;
    int rc;

    if (c->n_args != 2 || strcmp(c->args[1], "verify") != 0)
        return ctl_bad_usage("audit wants: audit verify");
    if (ctl_only_options(c, "audit verify", 0) != 0)
        return 2;
    rc = store_open_existing(c->cfg.database, &store, &err);
    if (rc == 0)
        rc = audit_verify(store, &bad, &rows, &err);
    store_close(store);
    if (rc == DK_EFORGED) {
        printf("BROKEN at row %lld: %s\n", (long long)bad, err.msg);
        return 1;
    }
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("OK: %lld audit rows, chain intact\n", (long long)rows);
    return 0;
}

/* decode FILE...: one line a symbol, "FILE: SYMBOLOGY: TEXT", or with
 * --csv the header "file,symbology,text" and one RFC 4180 row a symbol.
 * TEXT is UTF-8 (see barcode_image_utf8).  In lines for people, control
 * characters are written \n, \r, \t or \xHH and a backslash as \\, so that
 * each symbol stays on one line and reads back unambiguously; CSV carries
 * the text exactly.  A file with no symbol prints "FILE: nothing decoded"
 * (CSV: a row with empty symbology and text).  Exit 0 when every file gave
 * a symbol, 1 when some gave none, 2 when a file is unreadable or not an
 * image we read, 3 when decoding itself failed (out of memory). */
struct decode_ctx {
    const char *path;
    bool csv;
    bool failed; /* a symbol's text could not be converted */
};

static void put_escaped(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];

        if (b == '\\')
            fputs("\\\\", stdout);
        else if (b == '\n')
            fputs("\\n", stdout);
        else if (b == '\r')
            fputs("\\r", stdout);
        else if (b == '\t')
            fputs("\\t", stdout);
        else if (b < 0x20 || b == 0x7f)
            printf("\\x%02x", b);
        else
            putchar(b);
    }
}

static void on_decoded(const char *symbology, const char *data, size_t len, void *user)
{
    struct decode_ctx *d = user;
    size_t text_len = 0;
    char *text = barcode_image_utf8(symbology, data, len, &text_len);

    if (text == NULL) {
        d->failed = true;
        return;
    }
    if (d->csv) {
        csv_write_field(stdout, d->path, strlen(d->path));
        printf(",%s,", symbology);
        csv_write_field(stdout, text, text_len);
    } else {
        printf("%s: %s: ", d->path, symbology);
        put_escaped(text, text_len);
    }
    putchar('\n');
    free(text);
}

/* The exit status for one file: 0, 1 (nothing), 2 or 3. */
static int decode_one(const char *path, bool csv)
{
    struct decode_ctx d = {.path = path, .csv = csv};
    struct dk_error err = {{0}};
    int rc = barcode_image_decode_file(path, on_decoded, &d, &err);

    if (rc < 0) {
        fflush(stdout);
        fprintf(stderr, "dropkioskctl: %s\n", err.msg);
        return rc == -ENOMEM || rc == -EIO ? 3 : 2;
    }
    if (d.failed) {
        fflush(stdout);
        fprintf(stderr, "dropkioskctl: cannot print a symbol from %s: out of memory\n", path);
        return 3;
    }
    if (rc > 0)
        return 0;
    if (csv) {
        csv_write_field(stdout, path, strlen(path));
        fputs(",,\n", stdout);
    } else {
        printf("%s: nothing decoded\n", path);
    }
    return 1;
}

static int cmd_decode(struct dk_ctl *c)
{
    int status = 0;

    if (ctl_only_options(c, "decode", DK_CTL_OPT_CSV) != 0)
        return 2;
    if (c->n_args < 2)
        return ctl_bad_usage("decode wants: decode FILE...");
    if (c->csv)
        fputs("file,symbology,text\n", stdout);
    for (int i = 1; i < c->n_args; i++) {
        int one = decode_one(c->args[i], c->csv);

        if (one > status)
            status = one;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dropkioskctl: cannot write the results: %s\n", strerror(errno));
        return 3;
    }
    return status;
}

static int run_verb(struct dk_ctl *c)
{
    static const struct {
        const char *verb;
        int (*fn)(struct dk_ctl *c);
    } verbs[] = {
        {"keygen", ctl_keygen}, {"pubkey", ctl_pubkey}, {"import", cmd_import},
        {"verify", cmd_verify}, {"outbox", cmd_outbox}, {"audit", cmd_audit},
        {"decode", cmd_decode}, {"tech", ctl_tech}, {"receive", ctl_receive},
        {"cleanout", ctl_cleanout}, {"discrepancies", ctl_discrepancies},
        {"dispose", ctl_dispose}, {"wipe", ctl_dispose}, {"reassign", ctl_dispose},
        {"recycle", ctl_dispose}, {"manifest", ctl_manifest}, {"reserve", ctl_reserve},
        {"reimage", ctl_dispose},
        {"report", ctl_report}, {"printer", ctl_printer}, {"reprint", ctl_reprint},
        {"digest", ctl_digest},
    };

    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(c->args[0], verbs[i].verb) == 0)
            return verbs[i].fn(c);
    }
    fprintf(stderr, "dropkioskctl: unknown verb '%s' (see dropkioskctl --help)\n",
            c->args[0]);
    return 2;
}

int main(int argc, char **argv)
{
    static struct dk_ctl c;
    struct dk_error err = {{0}};
    int rc;

    log_set_program("dropkioskctl");
    log_init();
    rc = parse_args(argc, argv, &c);
    if (rc >= 0)
        return rc;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "dropkioskctl: cannot initialise libsodium or libcurl\n");
        return 3;
    }
    mail_init();
    /* Decoding an image needs no site: it must work on any machine. */
    rc = strcmp(c.args[0], "decode") == 0 ? 0 : load_config(&c, &err);
    if (rc != 0)
        rc = ctl_fail(rc, &err);
    else if (strcmp(c.args[0], "decode") != 0)
        rc = become_owner(&c);
    if (rc == 0)
        rc = run_verb(&c);
    curl_global_cleanup();
    return rc;
}
