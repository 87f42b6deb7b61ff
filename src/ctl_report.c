/* dropkioskctl report [NAME] [--from DATE] [--until DATE] [--csv]
 * [--out FILE]: OIIT's reports (src/report.h says what each holds).  No
 * NAME prints every report as a table, one after another. */
#include "ctl.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Copy --from or --until (NULL when not given) into day; 0 or exit 2. */
static int take_day(const char *option, const char *value, char *day,
                    size_t size)
{
    day[0] = '\0';
    if (value == NULL)
        return 0;
    if (!report_day_ok(value)) {
        fprintf(stderr, "dropkioskctl: %s wants a date YYYY-MM-DD, got '%s'\n",
                option, value);
        return 2;
    }
    snprintf(day, size, "%s", value);
    return 0;
}

/* The report asked for (-1: all) and the range; 0 or exit 2. */
static int read_args(const struct dk_ctl *c, int *which,
                     struct dk_report_opts *o)
{
    char what[160];
    int rc;

    *which = -1;
    if (ctl_only_options(c, "report",
                         DK_CTL_OPT_FROM | DK_CTL_OPT_UNTIL | DK_CTL_OPT_CSV |
                             DK_CTL_OPT_OUT) != 0)
        return 2;
    if (c->n_args > 2)
        return ctl_bad_usage("report takes at most one report name");
    if (c->n_args == 2) {
        *which = report_find(c->args[1]);
        if (*which < 0) {
            snprintf(
                what, sizeof(what), "unknown report '%s' (%s)", c->args[1],
                "returns, awaiting, chargers, dispositions, flags or leavers");
            return ctl_bad_usage(what);
        }
    }
    /* One CSV file holds one table: a second header part-way down would be
     * read as data by every program that takes the file. */
    if (*which < 0 && c->csv)
        return ctl_bad_usage(
            "report --csv needs a report name (one table per CSV)");
    rc = take_day("--from", c->opt.from, o->from, sizeof(o->from));
    if (rc == 0)
        rc = take_day("--until", c->opt.until, o->until, sizeof(o->until));
    if (rc == 0 && o->from[0] != '\0' && o->until[0] != '\0' &&
        strcmp(o->from, o->until) > 0) {
        fprintf(stderr, "dropkioskctl: --from %s is after --until %s\n",
                o->from, o->until);
        rc = 2;
    }
    return rc;
}

static int write_reports(struct dk_store *store, int which,
                         const struct dk_report_opts *o, FILE *out,
                         struct dk_error *err)
{
    int rc = 0;

    if (which >= 0)
        return report_write(store, (enum dk_report)which, o, out, err);
    for (int r = 0; rc == 0 && r < DK_REPORT_COUNT; r++) {
        if (r > 0)
            fputc('\n', out);
        rc = report_write(store, (enum dk_report)r, o, out, err);
    }
    return rc;
}

/* --out is created new, never replacing a file: an earlier report, a
 * signed copy or the database itself (--db x.db report --out x.db) must
 * survive a slip of the keyboard, as manifest close's --out does.  The
 * mode is 0666 before the umask the person ran us with, as fopen gives. */
static int open_out(const struct dk_ctl *c, const char *path, FILE **out)
{
    int fd, e;

    *out = stdout;
    if (path == NULL)
        return 0;
    fd = ctl_create_out(c, path, 0666);
    if (fd < 0 && errno == EEXIST) {
        fprintf(stderr,
                "dropkioskctl: %s already exists: name a new file with --out\n",
                path);
        return 2;
    }
    if (fd >= 0) {
        *out = fdopen(fd, "w");
        if (*out != NULL)
            return 0;
    }
    e = errno;
    *out = stdout;
    if (fd >= 0) {
        /* fdopen failed on the file just made: it is ours to remove. */
        close(fd);
        unlink(path);
    }
    fprintf(stderr, "dropkioskctl: cannot write %s: %s\n", path, strerror(e));
    return dk_exit_status(-e);
}

int ctl_report(struct dk_ctl *c)
{
    struct dk_report_opts o = {.now = time(NULL), .cfg = &c->cfg};
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    FILE *out = NULL;
    int which;
    int status = read_args(c, &which, &o);
    int rc;

    if (status != 0)
        return status;
    o.csv = c->csv;
    /* Days are the site's: dropkioskctl runs from cron or a login shell
     * whose TZ is anything, and the config's timezone was checked to name
     * a real zone when it was read. */
    setenv("TZ", c->cfg.timezone, 1);
    tzset();

    status = ctl_open_store(c, true, &store);
    if (status == 0)
        status = open_out(c, c->opt.out, &out);
    if (status != 0)
        goto out;
    rc = write_reports(store, which, &o, out, &err);
    if (out != stdout && fclose(out) != 0 && rc == 0)
        rc = dk_error_set(&err, -EIO, "cannot write %s: %s", c->opt.out,
                          strerror(errno));
    /* A half-written report must not pass for a whole one.  out is not
     * stdout only when open_out created the file (O_EXCL), so what is
     * removed here is always this run's own. */
    if (rc != 0 && out != stdout)
        unlink(c->opt.out);
    if (rc != 0)
        status = ctl_fail(rc, &err);
out:
    store_close(store);
    return status;
}
