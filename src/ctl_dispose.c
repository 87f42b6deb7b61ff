/* dropkioskctl's disposition verbs: dispose (the proposal), wipe, reimage,
 * reassign, recycle, reserve and manifest.  The rules and the records are
 * src/disposition.c's; this file reads the command line, authenticates the
 * technician and prints. */
#include "ctl.h"

#include "csv.h"
#include "disposition.h"
#include "fileio.h"
#include "tech.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static const char close_usage[] =
    "manifest close wants: manifest close --tech ID --vendor V --certificate N [--out FILE]";
/* The options every acting verb takes: who acts, and how the PIN comes. */
#define DK_ACTING_OPTS (DK_CTL_OPT_TECH | DK_CTL_OPT_PIN_STDIN)

static const char clear_warning[] =
    "NIST SP 800-88 calls for purge or destroy when media leaves the organisation's control";

/* The local date in the site's time zone: ages and expiry dates are the
 * district's calendar days, not UTC ones. */
static void local_today(const struct dk_config *cfg, char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    setenv("TZ", cfg->timezone, 1);
    tzset();
    localtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}

/* --tech and its PIN, through tech_login (which counts wrong PINs, locks
 * and audits every attempt).  0 or an exit status (message printed), as
 * the intake verbs give it: a wrong PIN, a lock or a disabled account is a
 * clean "no" (1); a badge or id nobody has is bad input (2). */
static int authenticate(const struct dk_ctl *c, struct dk_store *store,
                        struct dk_tech *t)
{
    char pin[DK_CTL_PIN_MAX];
    int rc = ctl_read_pin(c, pin, sizeof(pin));
    if (rc == 0)
        rc = ctl_login(store, c, pin, t);
    sodium_memzero(pin, sizeof(pin));
    return rc;
}


static void print_proposal_csv(const struct dk_proposal *p)
{
    char id[24];
    char line[24];

    snprintf(id, sizeof(id), "%lld", (long long)p->return_id);
    if (p->outcome == DK_OUTCOME_NONE)
        line[0] = '\0';
    else if (p->line == 0)
        snprintf(line, sizeof(line), "built-in");
    else
        snprintf(line, sizeof(line), "%d", p->line);
    fputs("asset_tag,return_id,proposal,rule,line,holder\n", stdout);
    csv_write_field(stdout, p->tag, strlen(p->tag));
    printf(",%s,%s,", id, disposition_outcome_name(p->outcome));
    csv_write_field(stdout, p->rule, strlen(p->rule));
    printf(",%s,", line);
    csv_write_field(stdout, p->holder, strlen(p->holder));
    putchar('\n');
}

static void print_proposal(const struct dk_proposal *p)
{
    printf("asset     %s", p->tag);
    if (p->type[0] != '\0')
        printf("  %s  %s", p->type, p->model);
    else
        printf("  (not in the inventory)");
    printf("\nreturn    #%lld, condition %s\n", (long long)p->return_id,
           p->condition[0] != '\0' ? p->condition : "not recorded");
    if (p->checklist[0] != '\0')
        printf("kiosk     %s\n", p->checklist);
    if (p->outcome == DK_OUTCOME_NONE) {
        printf("proposal  none: no rule matched; the technician decides\n");
        return;
    }
    printf("proposal  %s", disposition_outcome_name(p->outcome));
    if (p->outcome == DK_OUTCOME_REASSIGN)
        printf(" to %s (%s), reservation #%lld", p->holder, p->holder_name,
               (long long)p->reservation_id);
    printf("\nrule      %s\nfrom      %s\n", p->rule, p->source);
}

static int cmd_propose(struct dk_ctl *c)
{
    struct dk_proposal p;
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    char today[16];
    int rc = ctl_only_options(c, "dispose", DK_CTL_OPT_CSV);

    if (rc != 0)
        return rc;
    if (c->n_args != 2)
        return ctl_bad_usage("dispose wants: dispose TAG");
    rc = ctl_open_store(c, true, &store);
    if (rc != 0)
        return rc;
    local_today(&c->cfg, today, sizeof(today));
    rc = disposition_propose(store, &c->cfg, 0, c->args[1], today, &p, &err);
    store_close(store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    if (c->csv)
        print_proposal_csv(&p);
    else
        print_proposal(&p);
    return 0;
}

/* Everything an acting verb needs: the store, who, and when. */
struct acting {
    struct dk_store *store;
    struct dk_tech tech;
    char now[32];
    char today[16];
    struct dk_act act;
};

/* Open the store, say every refusal ready (the verb's disposition_check_*
 * call, which only reads) can foresee, and only then ask the PIN and log
 * in: a login writes an audit row, so a mistyped tag, a device in the
 * wrong state or an unknown staff id must stop before it, as receive does
 * with intake_check_receive. */
static int begin_acting(struct dk_ctl *c,
                        int (*ready)(const struct dk_ctl *c,
                                     struct dk_store *store,
                                     struct dk_error *err),
                        struct acting *a)
{
    struct dk_error err = {{0}};
    int rc;

    if (c->opt.tech == NULL)
        return ctl_bad_usage("technician verbs need --tech ID (or badge)");
    rc = ctl_open_store(c, true, &a->store);
    if (rc == 0) {
        rc = ready(c, a->store, &err);
        if (rc != 0)
            rc = ctl_fail(rc, &err);
    }
    if (rc == 0)
        rc = authenticate(c, a->store, &a->tech);
    if (rc != 0) {
        store_close(a->store);
        a->store = NULL;
        return rc;
    }
    store_utc_now(a->now, sizeof(a->now));
    local_today(&c->cfg, a->today, sizeof(a->today));
    a->act =
        (struct dk_act){.tech = a->tech.id, .now = a->now, .today = a->today};
    return 0;
}

/* What the rules proposed, for the technician to see beside what they
 * did ("" when it cannot be worked out: the act itself will say why). */
static void proposal_note(struct dk_ctl *c, struct acting *a, const char *tag,
                          char *buf, size_t size)
{
    struct dk_proposal p;
    struct dk_error err = {{0}};

    buf[0] = '\0';
    if (disposition_propose(a->store, &c->cfg, 0, tag, a->today, &p, &err) != 0)
        return;
    if (p.outcome == DK_OUTCOME_NONE)
        snprintf(buf, size, " (no rule proposed anything)");
    else
        snprintf(buf, size, " (the rules proposed %s: '%s', %s)",
                 disposition_outcome_name(p.outcome), p.rule, p.source);
}

static int wipe_ready(const struct dk_ctl *c, struct dk_store *store,
                      struct dk_error *err)
{
    return disposition_check_wipe(store, c->args[1], c->opt.method,
                                  c->opt.tool, err);
}

static int cmd_wipe(struct dk_ctl *c)
{
    struct acting a = {0};
    struct dk_error err = {{0}};
    int rc = ctl_only_options(
        c, "wipe", DK_ACTING_OPTS | DK_CTL_OPT_METHOD | DK_CTL_OPT_TOOL);

    if (rc != 0)
        return rc;
    if (c->n_args != 2 || c->opt.method == NULL || c->opt.tool == NULL)
        return ctl_bad_usage(
            "wipe wants: wipe TAG --tech ID --method M --tool T");
    rc = begin_acting(c, wipe_ready, &a);
    if (rc != 0)
        return rc;
    rc = disposition_wipe(a.store, &a.act, c->args[1], c->opt.method,
                          c->opt.tool, &err);
    store_close(a.store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("%s: data wipe recorded (%s with %s, by %s)\n", c->args[1],
           c->opt.method, c->opt.tool, a.tech.id);
    return 0;
}

static int reimage_ready(const struct dk_ctl *c, struct dk_store *store,
                         struct dk_error *err)
{
    return disposition_check_reimage(store, c->args[1], err);
}

static int cmd_reimage(struct dk_ctl *c)
{
    struct acting a = {0};
    struct dk_error err = {{0}};
    char note[DK_PATH_MAX + 2 * DK_TEXT_MAX];
    int rc = ctl_only_options(c, "reimage", DK_ACTING_OPTS);

    if (rc != 0)
        return rc;
    if (c->n_args != 2)
        return ctl_bad_usage("reimage wants: reimage TAG --tech ID");
    rc = begin_acting(c, reimage_ready, &a);
    if (rc != 0)
        return rc;
    proposal_note(c, &a, c->args[1], note, sizeof(note));
    rc = disposition_reimage(a.store, &c->cfg, &a.act, c->args[1], &err);
    store_close(a.store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("%s: reimaged, back in stock%s\n", c->args[1], note);
    return 0;
}

static int reassign_ready(const struct dk_ctl *c, struct dk_store *store,
                          struct dk_error *err)
{
    return disposition_check_reassign(store, c->args[1], c->opt.to, err);
}

static int cmd_reassign(struct dk_ctl *c)
{
    struct acting a = {0};
    struct dk_error err = {{0}};
    char note[DK_PATH_MAX + 2 * DK_TEXT_MAX];
    int rc = ctl_only_options(c, "reassign", DK_ACTING_OPTS | DK_CTL_OPT_TO);

    if (rc != 0)
        return rc;
    if (c->n_args != 2 || c->opt.to == NULL)
        return ctl_bad_usage(
            "reassign wants: reassign TAG --tech ID --to STAFF");
    rc = begin_acting(c, reassign_ready, &a);
    if (rc != 0)
        return rc;
    proposal_note(c, &a, c->args[1], note, sizeof(note));
    rc = disposition_reassign(a.store, &c->cfg, &a.act, c->args[1], c->opt.to,
                              &err);
    store_close(a.store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("%s: reassigned to %s%s\n", c->args[1], c->opt.to, note);
    return 0;
}

static int recycle_ready(const struct dk_ctl *c, struct dk_store *store,
                         struct dk_error *err)
{
    return disposition_check_recycle(store, c->args[1], c->opt.level, err);
}

static int cmd_recycle(struct dk_ctl *c)
{
    struct acting a = {0};
    struct dk_error err = {{0}};
    char note[DK_PATH_MAX + 2 * DK_TEXT_MAX];
    int64_t manifest = 0;
    int rc = ctl_only_options(c, "recycle", DK_ACTING_OPTS | DK_CTL_OPT_LEVEL);

    if (rc != 0)
        return rc;
    if (c->n_args != 2 || c->opt.level == NULL)
        return ctl_bad_usage(
            "recycle wants: recycle TAG --tech ID --level clear|purge|destroy");
    rc = begin_acting(c, recycle_ready, &a);
    if (rc != 0)
        return rc;
    proposal_note(c, &a, c->args[1], note, sizeof(note));
    rc = disposition_recycle(a.store, &c->cfg, &a.act, c->args[1], c->opt.level,
                             &manifest, &err);
    store_close(a.store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("%s: recycled (level %s), on e-waste manifest %lld%s\n", c->args[1],
           c->opt.level, (long long)manifest, note);
    /* NIST SP 800-88 Rev. 1, section 4: media leaving the organisation's
     * control calls for purge or destroy; clear is meant for reuse inside. */
    if (strcmp(c->opt.level, "clear") == 0)
        fprintf(
            stderr,
            "dropkioskctl: warning: %s leaves the district at level clear; %s\n",
            c->args[1], clear_warning);
    return 0;
}

int ctl_dispose(struct dk_ctl *c)
{
    const char *verb = c->args[0];

    if (strcmp(verb, "wipe") == 0)
        return cmd_wipe(c);
    if (strcmp(verb, "reimage") == 0)
        return cmd_reimage(c);
    if (strcmp(verb, "reassign") == 0)
        return cmd_reassign(c);
    if (strcmp(verb, "recycle") == 0)
        return cmd_recycle(c);
    return cmd_propose(c);
}

/* ---- manifest ---- */

/* Print CSV text as an aligned table, reading it back with the project's
 * own RFC 4180 reader. */
static int print_table(const char *text, size_t len, struct dk_error *err)
{
    size_t width[16] = {0};
    struct dk_csv_record rec;
    struct dk_csv *csv = NULL;
    int pass, rc = 0;

    for (pass = 0; pass < 2 && rc == 0; pass++) {
        rc = csv_open_memory(text, len, "manifest", NULL, &csv, err);
        while (rc == 0 && (rc = csv_next(csv, &rec, err)) == 1) {
            rc = 0;
            for (size_t i = 0; i < rec.n_fields && i < 16; i++) {
                size_t w = strlen(rec.fields[i]);

                if (pass == 0 && w > width[i])
                    width[i] = w;
                if (pass == 1)
                    printf("%s%-*s", i > 0 ? "  " : "",
                           i + 1 < rec.n_fields ? (int)width[i] : 0,
                           rec.fields[i]);
            }
            if (pass == 1)
                putchar('\n');
        }
        csv_close(csv);
        csv = NULL;
    }
    return rc;
}

static int manifest_show(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    char opened[32];
    char *csv = NULL;
    size_t len = 0;
    int64_t id = 0;
    int items = 0;
    int rc = ctl_open_store(c, true, &store);

    if (rc != 0)
        return rc;
    rc = disposition_manifest_open(store, &id, opened, sizeof(opened), &items,
                                   &err);
    /* Nothing open is an answer, not a failure: a sentence for people, the
     * header alone (no manifest has id 0) for programs. */
    if (rc == DK_ENOTFOUND && !c->csv)
        printf("%s\n", err.msg);
    if (rc == 0 || (rc == DK_ENOTFOUND && c->csv))
        rc = disposition_manifest_csv(store, id, &csv, &len, &err);
    else if (rc == DK_ENOTFOUND)
        rc = 0;
    store_close(store);
    if (rc == 0 && c->csv)
        fwrite(csv, 1, len, stdout);
    if (rc == 0 && !c->csv && csv != NULL) {
        printf("e-waste manifest %lld, open since %s, %d device%s\n\n",
               (long long)id, opened, items, items == 1 ? "" : "s");
        rc = print_table(csv, len, &err);
    }
    free(csv);
    return rc != 0 ? ctl_fail(rc, &err) : 0;
}

struct sink_ctx {
    const char *path; /* NULL: stdout */
    bool written;
};

/* The CSV goes out before the close commits: a file is created new (never
 * replacing one, and durable), stdout is flushed and checked. */
static int write_manifest(const char *csv, size_t len, void *user,
                          struct dk_error *err)
{
    struct sink_ctx *s = user;
    int rc;

    if (s->path == NULL) {
        if (fwrite(csv, 1, len, stdout) != len || fflush(stdout) != 0)
            return dk_error_set(
                err, -EIO, "cannot write the manifest to standard output: %s",
                strerror(errno));
        return 0;
    }
    rc = file_write_new(s->path, 0644, csv, len);
    if (rc == -EEXIST)
        return dk_error_set(err, DK_EINPUT,
                            "%s already exists: name a new file with --out",
                            s->path);
    if (rc != 0)
        return dk_error_set(err, rc, "cannot write %s: %s", s->path,
                            strerror(-rc));
    s->written = true;
    return 0;
}

static int close_ready(const struct dk_ctl *c, struct dk_store *store,
                       struct dk_error *err)
{
    return disposition_check_manifest_close(store, c->opt.vendor,
                                            c->opt.certificate, err);
}

static int manifest_close(struct dk_ctl *c)
{
    struct sink_ctx sink = {.path = c->opt.out};
    struct acting a = {0};
    struct dk_error err = {{0}};
    int64_t id = 0;
    int rc = ctl_only_options(c, "manifest close",
                              DK_ACTING_OPTS | DK_CTL_OPT_VENDOR |
                                  DK_CTL_OPT_CERTIFICATE | DK_CTL_OPT_OUT);

    if (rc != 0)
        return rc;
    if (c->n_args != 2 || c->opt.vendor == NULL || c->opt.certificate == NULL)
        return ctl_bad_usage(close_usage);
    if (sink.path != NULL && access(sink.path, F_OK) == 0) {
        fprintf(stderr,
                "dropkioskctl: %s already exists: name a new file with --out\n",
                sink.path);
        return 2;
    }
    rc = begin_acting(c, close_ready, &a);
    if (rc != 0)
        return rc;
    rc = disposition_manifest_close(a.store, &a.act, c->opt.vendor,
                                    c->opt.certificate, write_manifest, &sink,
                                    &id, &err);
    store_close(a.store);
    /* The close did not commit after the file was written: the file must
     * not outlive it as if it were a closed manifest. */
    if (rc != 0 && sink.written)
        unlink(sink.path);
    if (rc != 0)
        return ctl_fail(rc, &err);
    if (sink.path != NULL)
        printf("e-waste manifest %lld closed (vendor %s, certificate %s): %s\n",
               (long long)id, c->opt.vendor, c->opt.certificate, sink.path);
    return 0;
}

int ctl_manifest(struct dk_ctl *c)
{
    const char *sub = c->n_args > 1 ? c->args[1] : "show";

    if (strcmp(sub, "close") == 0)
        return manifest_close(c);
    if (strcmp(sub, "show") != 0 || c->n_args > 2)
        return ctl_bad_usage(
            "manifest wants: manifest [show] or manifest close");
    if (ctl_only_options(c, "manifest show", DK_CTL_OPT_CSV) != 0)
        return 2;
    return manifest_show(c);
}

static int reserve_ready(const struct dk_ctl *c, struct dk_store *store,
                         struct dk_error *err)
{
    return disposition_check_reserve(store, c->args[1], c->opt.to, err);
}

int ctl_reserve(struct dk_ctl *c)
{
    struct acting a = {0};
    struct dk_error err = {{0}};
    int64_t id = 0;
    int rc = ctl_only_options(c, "reserve", DK_ACTING_OPTS | DK_CTL_OPT_TO);

    if (rc != 0)
        return rc;
    if (c->n_args != 2 || c->opt.to == NULL)
        return ctl_bad_usage(
            "reserve wants: reserve MODEL --tech ID --to STAFF");
    rc = begin_acting(c, reserve_ready, &a);
    if (rc != 0)
        return rc;
    rc = disposition_reserve(a.store, &a.act, c->args[1], c->opt.to, &id, &err);
    store_close(a.store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("reservation %lld: the next %s for %s\n", (long long)id, c->args[1],
           c->opt.to);
    return 0;
}
