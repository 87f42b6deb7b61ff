/* dropkioskctl's intake verbs: technician accounts, receiving devices,
 * clean-outs and the discrepancy list.
 *
 * A technician's PIN is asked on the terminal (/dev/tty, echo off), twice
 * when it is being set; with --pin-stdin it is the first line of standard
 * input instead, so scripts and tests can give it.  For `cleanout -`, the
 * tags follow that line, one a line. */
#include "csv.h"
#include "ctl.h"

#include "intake.h"
#include "log.h"
#include "tech.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 256 /* a scan the kiosk would take is shorter */
#define CLEANOUT_MAX 10000 /* far more than any cart; bounds the memory */

/* ---- tech --------------------------------------------------------------- */

/* Accounts are managed by a technician who logs in: otherwise anyone at the
 * shell, or a technician who was just locked or disabled, could make a new
 * account and carry on.  The very first account needs no login, since
 * there is nobody to give it.  0 with *actor set ("tech:ID", or "cli" for
 * the first account), or an exit status (message printed). */
static int approve(struct dk_ctl *c, struct dk_store *store, bool first_allowed,
                   char *actor, size_t size)
{
    struct dk_error err = {{0}};
    struct dk_tech tech;
    char pin[DK_CTL_PIN_MAX];
    int active = 0;
    int rc = tech_active_count(store, &active, &err);

    if (rc != 0)
        return ctl_fail(rc, &err);
    if (active == 0 && first_allowed && c->opt.tech == NULL) {
        snprintf(actor, size, "cli");
        return 0;
    }
    if (c->opt.tech == NULL)
        return ctl_bad_usage("managing technicians needs --tech ID: an active technician "
                             "logs in to do it");
    rc = ctl_read_pin(c, pin, sizeof(pin));
    if (rc == 0)
        rc = ctl_login(store, c, pin, &tech);
    sodium_memzero(pin, sizeof(pin));
    if (rc == 0)
        snprintf(actor, size, "tech:%s", tech.id);
    return rc;
}

static int tech_add_verb(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    char pin[DK_CTL_PIN_MAX] = "";
    char actor[32];
    char id[16];
    int rc;

    if (ctl_only_options(c, "tech add", DK_CTL_OPT_NAME | DK_CTL_OPT_BADGE |
                                            DK_CTL_OPT_PIN_STDIN | DK_CTL_OPT_TECH) != 0)
        return 2;
    if (c->n_args != 2 || c->opt.name == NULL || c->opt.badge == NULL)
        return ctl_bad_usage(
            "tech add wants: tech add --name NAME --badge CODE [--tech ID]");
    rc = ctl_open_store(c, false, &store);
    /* With --pin-stdin the approving technician's PIN is the first line and
     * the new account's PIN the next. */
    if (rc == 0)
        rc = approve(c, store, true, actor, sizeof(actor));
    if (rc == 0)
        rc = ctl_read_new_pin(c, pin, sizeof(pin));
    if (rc == 0) {
        rc = tech_add(store, c->opt.name, c->opt.badge, pin, actor, id, &err);
        rc = rc != 0 ? ctl_fail(rc, &err) : 0;
    }
    sodium_memzero(pin, sizeof(pin));
    store_close(store);
    if (rc == 0)
        printf("added technician %s (%s, badge %s)\n", id, c->opt.name,
               c->opt.badge);
    return rc;
}

static int tech_disable_verb(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    char actor[32];
    int rc;

    if (ctl_only_options(c, "tech disable", DK_CTL_OPT_TECH | DK_CTL_OPT_PIN_STDIN) != 0)
        return 2;
    if (c->n_args != 3)
        return ctl_bad_usage("tech disable wants: tech disable ID --tech ID");
    rc = ctl_open_store(c, true, &store);
    if (rc == 0)
        rc = approve(c, store, false, actor, sizeof(actor));
    if (rc == 0) {
        rc = tech_disable(store, c->args[2], actor, &err);
        rc = rc != 0 ? ctl_fail(rc, &err) : 0;
    }
    store_close(store);
    if (rc == 0)
        printf("technician %s disabled\n", c->args[2]);
    return rc;
}

static int tech_list_verb(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    int rc;

    if (ctl_only_options(c, "tech list", DK_CTL_OPT_CSV) != 0)
        return 2;
    if (c->n_args != 2)
        return ctl_bad_usage("tech list takes no arguments");
    rc = ctl_open_store(c, true, &store);
    if (rc == 0) {
        rc = tech_list(store, stdout, c->csv, time(NULL), &err);
        rc = rc != 0 ? ctl_fail(rc, &err) : 0;
    }
    store_close(store);
    return rc;
}

int ctl_tech(struct dk_ctl *c)
{
    const char *sub = c->n_args > 1 ? c->args[1] : "";

    if (strcmp(sub, "add") == 0)
        return tech_add_verb(c);
    if (strcmp(sub, "disable") == 0)
        return tech_disable_verb(c);
    if (strcmp(sub, "list") == 0)
        return tech_list_verb(c);
    return ctl_bad_usage("tech wants: tech add|disable|list");
}

/* ---- receive ------------------------------------------------------------ */

/* Email shows the kiosk's local time, as the daemon's does. */
static void use_site_time(const struct dk_ctl *c)
{
    setenv("TZ", c->cfg.timezone, 1);
    tzset();
}

static const char *charger_words(const struct dk_intake_result *r)
{
    if (!r->charger_checked)
        return "charger not checked";
    return r->charger_present ? "charger present" : "charger missing";
}

static void print_mail(const struct dk_intake_result *r)
{
    if (r->mail_queued)
        printf("Confirmation email queued to %s%s%s.\n", r->mail_to,
               r->mail_cc[0] != '\0' ? ", copy to " : "", r->mail_cc);
    else if (r->mail_problem)
        printf(
            "Confirmation email not composed (see the log); the receive stands.\n");
    else if (r->outcome == DK_INTAKE_RECEIVED)
        printf(
            "No confirmation email: the return was anonymous or has no address on file.\n");
}

static void print_received(const struct dk_intake_result *r,
                           const char *condition)
{
    const char *model = r->known ? r->model : "not in the inventory";

    if (r->outcome == DK_INTAKE_WALK_IN) {
        printf("Walk-in: asset %s (%s) has no open return: recorded as a walk-in.\n",
               r->tag, model);
        printf("Recorded as return %lld, received, flagged for review: %s.\n",
               (long long)r->return_id, charger_words(r));
    } else
        printf("Received asset %s (%s), return %lld: %s, condition %s.\n",
               r->tag, model, (long long)r->return_id, charger_words(r),
               condition != NULL ? condition : "not assessed");
    print_mail(r);
}

/* The refusal code rc as an exit status, its reason printed.  A device
 * already received or recycled is a clean "no" (1), not a failure. */
static int receive_refused(int rc, const struct dk_error *err)
{
    fprintf(stderr, "dropkioskctl: %s\n", err->msg);
    return rc == -EALREADY || rc == -EPERM ? 1 : dk_exit_status(rc);
}

int ctl_receive(struct dk_ctl *c)
{
    struct dk_intake_item item = {.condition = c->opt.condition,
                                  .note = c->opt.note};
    struct dk_intake_result res;
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    struct dk_tech tech;
    char pin[DK_CTL_PIN_MAX] = "";
    int rc;

    if (ctl_only_options(c, "receive",
                         DK_CTL_OPT_TECH | DK_CTL_OPT_PIN_STDIN |
                             DK_CTL_OPT_CHARGER | DK_CTL_OPT_CONDITION |
                             DK_CTL_OPT_NOTE) != 0)
        return 2;
    if (c->n_args != 2 || c->opt.tech == NULL)
        return ctl_bad_usage(
            "receive wants: receive TAG --tech ID [--charger C] [--condition C] [--note T]");
    if (!intake_parse_charger(c->opt.charger, &item.charger))
        return ctl_bad_usage("--charger must be present or missing");
    item.scan = c->args[1];
    use_site_time(c);
    rc = ctl_open_store(c, true, &store);
    if (rc != 0)
        goto out;

    /* Every refusal the command line can earn is said before the PIN is
     * asked, so a mistyped tag records no login and changes nothing. */
    rc = intake_check_receive(store, &c->cfg, &item, &err);
    if (rc != 0) {
        rc = receive_refused(rc, &err);
        goto out;
    }
    rc = ctl_read_pin(c, pin, sizeof(pin));
    if (rc == 0)
        rc = ctl_login(store, c, pin, &tech);
    if (rc != 0)
        goto out;
    rc = intake_receive(store, &c->cfg, &tech, &item, time(NULL), &res, &err);
    if (rc != 0)
        rc = receive_refused(rc, &err);
    else
        print_received(&res, item.condition);
out:
    sodium_memzero(pin, sizeof(pin));
    store_close(store);
    return rc;
}

/* ---- cleanout ----------------------------------------------------------- */

struct scan_list {
    char **items;
    size_t n;
};

static void scan_list_free(struct scan_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Strip the white space a scanner or an editor puts around a tag. */
static char *trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static int scan_list_add(struct scan_list *l, const char *text)
{
    char **grown;

    if (l->n == CLEANOUT_MAX) {
        fprintf(
            stderr,
            "dropkioskctl: more than %d devices in one clean-out; split the cart\n",
            CLEANOUT_MAX);
        return 2;
    }
    grown = realloc(l->items, (l->n + 1) * sizeof(*l->items));
    if (grown == NULL)
        return 3;
    l->items = grown;
    l->items[l->n] = strdup(text);
    if (l->items[l->n] == NULL)
        return 3;
    l->n++;
    return 0;
}

/* Tags one a line from stdin; empty lines are skipped. */
static int read_scans(struct scan_list *l)
{
    char line[LINE_MAX_BYTES + 2];
    long lineno = 0;
    int rc = 0;

    while (rc == 0 && fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strlen(line);

        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(stdin)) {
            fprintf(
                stderr,
                "dropkioskctl: stdin:%ld: line longer than %d bytes is not a tag\n",
                lineno, LINE_MAX_BYTES);
            return 2;
        }
        if (*trim(line) != '\0')
            rc = scan_list_add(l, trim(line));
    }
    if (rc == 0 && ferror(stdin)) {
        fprintf(stderr, "dropkioskctl: cannot read tags from stdin: %s\n",
                strerror(errno));
        rc = 3;
    }
    return rc;
}

/* Every tag is checked before the PIN is asked: a stray badge or a
 * mangled read in the list stops the whole cart with nothing changed. */
static int check_scans(const struct dk_ctl *c, const struct scan_list *l,
                       bool from_stdin, const struct dk_cleanout *opts)
{
    for (size_t i = 0; i < l->n; i++) {
        struct dk_intake_item item = {l->items[i], opts->charger,
                                      opts->condition, NULL};
        struct dk_error err = {{0}};

        if (intake_check_item(&c->cfg, &item, &err) != 0) {
            fprintf(stderr, "dropkioskctl: %s %zu: %s; nothing changed\n",
                    from_stdin ? "tag line" : "tag", i + 1, err.msg);
            return 2;
        }
    }
    if (l->n == 0) {
        fprintf(stderr, "dropkioskctl: cleanout: no tags given\n");
        return 2;
    }
    return 0;
}

static int collect_scans(struct dk_ctl *c, struct scan_list *l,
                         bool *from_stdin)
{
    *from_stdin = c->n_args == 2 && strcmp(c->args[1], "-") == 0;
    if (*from_stdin)
        return read_scans(l);
    for (int i = 1; i < c->n_args; i++) {
        int rc;

        if (strcmp(c->args[i], "-") == 0)
            return ctl_bad_usage(
                "cleanout takes tags as arguments or '-' alone, not both");
        rc = scan_list_add(l, c->args[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct cleanout_print {
    const struct scan_list *scans;
};

static void on_cleanout_item(size_t i, int rc,
                             const struct dk_intake_result *res,
                             const struct dk_error *err, void *user)
{
    const struct cleanout_print *p = user;

    if (rc != 0) {
        printf("%-16s refused: %s\n", p->scans->items[i], err->msg);
        return;
    }
    if (res->outcome == DK_INTAKE_RECEIVED) {
        printf("%-16s received: was dropped at a kiosk (return %lld), %s\n",
               res->tag, (long long)res->return_id, charger_words(res));
        if (res->mail_queued)
            printf("%-16s confirmation email queued to %s\n", "", res->mail_to);
        return;
    }
    printf("%-16s returned and received (return %lld)%s\n", res->tag,
           (long long)res->return_id,
           res->known ? "" : "; not in the inventory, flagged for review");
}

/* pin is "" when it is still to be asked on the terminal. */
static int run_cleanout(struct dk_ctl *c, const struct dk_cleanout *opts,
                        const struct scan_list *l, char *pin)
{
    struct cleanout_print p = {l};
    struct dk_cleanout_counts counts = {0};
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    struct dk_tech tech;
    int rc = ctl_open_store(c, true, &store);

    if (rc == 0 && !c->opt.pin_stdin)
        rc = ctl_ask_pin("Technician PIN: ", pin, DK_CTL_PIN_MAX);
    if (rc == 0)
        rc = ctl_login(store, c, pin, &tech);
    if (rc != 0)
        goto out;
    rc = intake_cleanout(store, &c->cfg, opts, &tech,
                         (const char *const *)l->items, l->n, time(NULL),
                         on_cleanout_item, &p, &counts, &err);
    if (rc != 0) {
        rc = ctl_fail(rc, &err);
        goto out;
    }
    printf("Clean-out of %s: %d returned and received, %d from the drop bin.\n",
           opts->school, counts.cleaned_out, counts.received);
    printf("%d refused; %d not in the inventory (flagged).\n", counts.refused,
           counts.unknown);
    rc = counts.refused > 0 ? 1 : 0;
out:
    store_close(store);
    return rc;
}

int ctl_cleanout(struct dk_ctl *c)
{
    struct dk_cleanout opts = {.school = c->opt.school,
                               .condition = c->opt.condition};
    struct scan_list scans = {0};
    char pin[DK_CTL_PIN_MAX] = "";
    bool from_stdin = false;
    int rc = 0;

    if (ctl_only_options(c, "cleanout",
                         DK_CTL_OPT_SCHOOL | DK_CTL_OPT_TECH |
                             DK_CTL_OPT_PIN_STDIN | DK_CTL_OPT_CHARGER |
                             DK_CTL_OPT_CONDITION) != 0)
        return 2;
    if (c->n_args < 2 || c->opt.tech == NULL || c->opt.school == NULL)
        return ctl_bad_usage(
            "cleanout wants: cleanout --school NAME --tech ID TAG... or -");
    if (!intake_parse_charger(c->opt.charger, &opts.charger))
        return ctl_bad_usage("--charger must be present or missing");
    use_site_time(c);
    /* With --pin-stdin the PIN is the first line of stdin, before any tags
     * that follow it there (cleanout -). */
    if (c->opt.pin_stdin)
        rc = ctl_read_pin(c, pin, sizeof(pin));
    if (rc == 0)
        rc = collect_scans(c, &scans, &from_stdin);
    if (rc == 0)
        rc = check_scans(c, &scans, from_stdin, &opts);
    if (rc == 0)
        rc = run_cleanout(c, &opts, &scans, pin);
    sodium_memzero(pin, sizeof(pin));
    scan_list_free(&scans);
    return rc;
}

/* ---- discrepancies ------------------------------------------------------ */

struct disc_print {
    bool csv;
    int n;
};

static void put_csv(const char *s, const char *end)
{
    csv_write_field(stdout, s, strlen(s));
    fputs(end, stdout);
}

static void on_discrepancy(const struct dk_discrepancy *d, void *user)
{
    struct disc_print *p = user;
    char detail[64] = "";

    p->n++;
    if (d->kind == DK_DISC_NOT_RECEIVED)
        snprintf(detail, sizeof(detail), "%d day%s waiting", d->days_waiting,
                 d->days_waiting == 1 ? "" : "s");
    if (p->csv) {
        printf("%s,%lld,", intake_discrepancy_name(d->kind),
               (long long)d->return_id);
        put_csv(d->tag, ",");
        put_csv(d->model, ",");
        printf("%s,%s,", d->returned_at, d->received_at);
        put_csv(d->returned_by, ",");
        printf("%s,%d\n", d->technician,
               d->kind == DK_DISC_NOT_RECEIVED ? d->days_waiting : 0);
        return;
    }
    printf("%-15s  %6lld  %-16s  %-24.24s  %-20s  %-20s  %-10s  %-6s  %s\n",
           intake_discrepancy_name(d->kind), (long long)d->return_id, d->tag,
           d->model, d->returned_at, d->received_at[0] ? d->received_at : "-",
           d->returned_by[0] ? d->returned_by : "-",
           d->technician[0] ? d->technician : "-", detail);
}

int ctl_discrepancies(struct dk_ctl *c)
{
    struct disc_print p = {.csv = c->csv};
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    int days = c->opt.days >= 0 ? c->opt.days : c->cfg.overdue_days;
    int rc;

    if (ctl_only_options(c, "discrepancies",
                         DK_CTL_OPT_DAYS | DK_CTL_OPT_CSV) != 0)
        return 2;
    if (c->n_args != 1)
        return ctl_bad_usage(
            "discrepancies wants: discrepancies [--days N] [--csv]");
    rc = ctl_open_store(c, true, &store);
    if (rc != 0)
        return rc;
    if (p.csv)
        puts(
            "kind,return,tag,model,returned_at,received_at,returned_by,technician,days_waiting");
    else
        printf("%-15s  %6s  %-16s  %-24s  %-20s  %-20s  %-10s  %-6s  %s\n",
               "KIND", "RETURN", "TAG", "MODEL", "RETURNED", "RECEIVED", "BY",
               "TECH", "DETAIL");
    rc =
        intake_discrepancies(store, days, time(NULL), on_discrepancy, &p, &err);
    store_close(store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    if (!p.csv)
        printf("%d discrepanc%s (not received after %d day%s)\n", p.n,
               p.n == 1 ? "y" : "ies", days, days == 1 ? "" : "s");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dropkioskctl: cannot write the list: %s\n",
                strerror(errno));
        return 3;
    }
    return 0;
}
