#include "mailer.h"

#include "digest.h"
#include "log.h"
#include "outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Even with nothing queued, look again this often: retries come due. */
#define DK_MAILER_POLL_SECONDS 5

struct dk_mailer {
    const struct dk_config *cfg;
    struct dk_store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool wake;
    bool stop;
    char digest_day[11]; /* the local day whose digest this thread queued */
};

/* Once the local time passes [mail] digest_time, queue the day's digests
 * (before this round's delivery, which then sends them).  At start, with
 * digest_day empty, this also catches up a day whose digest_time passed
 * while the daemon was down; the `digests` table makes asking again for
 * a day already queued (by an earlier run or dropkioskctl) queue nothing.
 * A failure is retried at the next round. */
static void digest_round(struct dk_mailer *m)
{
    struct dk_error err = {{0}};
    time_t now = time(NULL);
    char day[11];
    int n = 0;

    if (!digest_due(m->cfg, now, m->digest_day, day, sizeof(day)))
        return;
    if (digest_queue(m->store, m->cfg, day, now, &n, &err) != 0) {
        log_error("cannot queue the leaders' digests for %s: %s", day, err.msg);
        return;
    }
    memcpy(m->digest_day, day, sizeof(m->digest_day));
    log_info("leaders' digests for %s: %d queued", day, n);
}

static void deliver_round(struct dk_mailer *m)
{
    struct dk_outbox_counts counts = {0};
    struct dk_error err = {{0}};

    if (outbox_deliver_due(m->store, m->cfg, &counts, &err) != 0) {
        log_error("cannot deliver mail: %s", err.msg);
        return;
    }
    if (counts.sent + counts.failed + counts.deferred > 0)
        log_info("mail: %d sent, %d failed, %d to retry", counts.sent, counts.failed,
                 counts.deferred);
}

static void *run(void *arg)
{
    struct dk_mailer *m = arg;

    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        struct timespec until;

        m->wake = false;
        pthread_mutex_unlock(&m->lock);
        digest_round(m);
        deliver_round(m);
        pthread_mutex_lock(&m->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += DK_MAILER_POLL_SECONDS;
        while (!m->wake && !m->stop) {
            if (pthread_cond_timedwait(&m->cond, &m->lock, &until) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

int mailer_start(const struct dk_config *cfg, struct dk_mailer **out, struct dk_error *err)
{
    struct dk_mailer *m = calloc(1, sizeof(*m));
    int rc;

    if (m == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    m->cfg = cfg;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    rc = store_open(cfg->database, &m->store, err);
    if (rc == 0) {
        rc = -pthread_create(&m->thread, NULL, run, m);
        if (rc != 0)
            dk_error_set(err, rc, "cannot start the mail worker: %s", strerror(-rc));
    }
    if (rc != 0) {
        store_close(m->store);
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void mailer_wake(void *mailer)
{
    struct dk_mailer *m = mailer;

    pthread_mutex_lock(&m->lock);
    m->wake = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

void mailer_stop(struct dk_mailer *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    store_close(m->store);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
