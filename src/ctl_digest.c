/* dropkioskctl digest [--date YYYY-MM-DD]: queue the leaders' digests of a
 * local day now, e.g. for a day the daemon was down at [mail] digest_time.
 * Without --date, the last day whose digest is due: today once
 * digest_time has passed, else yesterday; today before digest_time is
 * refused even when asked for (digest_queue), because it would mark the
 * day done before its later returns.  A leader already sent that day's digest (by the
 * daemon or an earlier run) gets nothing again.  An explicit command is
 * its own consent, so this works whatever [mail] digest says; the setting
 * governs the daemon's daily run.  `outbox send` or the daemon delivers
 * what it queues. */
#include "ctl.h"

#include "digest.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The day asked for, into day (11 bytes); 0 or exit status 2. */
static int pick_day(const struct dk_ctl *c, time_t now, char *day, size_t size)
{
    if (c->opt.date == NULL) {
        digest_last_due_day(&c->cfg, now, day, size);
        return 0;
    }
    if (!report_day_ok(c->opt.date)) {
        fprintf(stderr,
                "dropkioskctl: bad --date '%s': give a day as YYYY-MM-DD\n",
                c->opt.date);
        return 2;
    }
    snprintf(day, size, "%s", c->opt.date);
    return 0;
}

int ctl_digest(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    time_t now = time(NULL);
    char day[11];
    int queued = 0, done = 0;
    int status, rc;

    if (ctl_only_options(c, "digest", DK_CTL_OPT_DATE) != 0)
        return 2;
    if (c->n_args != 1)
        return ctl_bad_usage(
            "digest takes no words: digest [--date YYYY-MM-DD]");
    /* Days are the site's, whatever TZ cron or a login shell gives; the
     * config's timezone was checked to name a real zone when read. */
    setenv("TZ", c->cfg.timezone, 1);
    tzset();
    status = pick_day(c, now, day, sizeof(day));
    if (status == 0)
        status = ctl_open_store(c, true, &store);
    if (status != 0)
        return status;

    rc = digest_queue(store, &c->cfg, day, now, &queued, &err);
    if (rc == 0 && queued == 0)
        rc = digest_count_done(store, day, &done, &err);
    store_close(store);
    if (rc != 0)
        return ctl_fail(rc, &err);
    if (queued > 0)
        printf("queued %d digest%s for %s\n", queued, queued == 1 ? "" : "s",
               day);
    else if (done > 0)
        printf(
            "queued 0 digests for %s: already queued earlier for %d leader%s\n",
            day, done, done == 1 ? "" : "s");
    else
        printf(
            "queued 0 digests for %s: no returns that day for a leader to hear of\n",
            day);
    return 0;
}
