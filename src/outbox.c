/* The mail outbox: queueing in the caller's transaction, delivery to a
 * Maildir spool or over SMTP with libcurl, backoff, and a listing.
 *
 * Authorities:
 *   RFC 5321  SMTP: reply codes (section 4.2.1: 4yz transient, 5yz
 *             permanent), reply lines (section 4.2), retry strategy
 *             (section 4.5.4.1: retry with growing intervals), the
 *             server's responsibility once it answers 250 (section 6.1)
 *   RFC 1047  duplicate messages when the 250 after DATA is lost
 *   RFC 3207  STARTTLS
 *   RFC 4954  AUTH reply codes (section 6: 530, 535, 454)
 *   RFC 5322  Message-ID (section 3.6.4)
 *   RFC 4180  CSV
 *   Maildir   https://cr.yp.to/proto/maildir.html (tmp/ then new/) */
#include "outbox.h"

#include "audit.h"
#include "csv.h"
#include "fileio.h"

#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Longest SMTP reply text kept for last_error (several lines joined). */
#define REPLY_MAX 400

enum dk_outcome {
    DK_OUT_SENT,
    DK_OUT_FAILED,
    DK_OUT_DEFERRED,
};

/* One due outbox row, loaded before the attempt so that no statement or
 * transaction stays open while the network is slow. */
struct dk_outbox_row {
    int64_t id;
    int attempts;
    char *mail_from;
    char *recipients;
    char *message_id;
    unsigned char *mime;
    size_t mime_len;
};

struct dk_attempt {
    enum dk_outcome outcome;
    char why[DK_ERROR_MAX];
};

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void libs_start(void)
{
    /* libcurl wants its global set-up once, before any thread uses it. */
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_ready)
        log_error("cannot start libcurl: SMTP delivery is off until restart");
    /* The jitter comes from randombytes_uniform, which wants sodium_init. */
    if (sodium_init() < 0)
        log_warn("cannot start libsodium: backoff jitter may be predictable");
}

static void utc_text(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int db_error(struct dk_store *store, struct dk_error *err)
{
    return dk_error_set(err, DK_EDB, "database %s: %s", store->path,
                        sqlite3_errmsg(store->db));
}

/* ---- queueing ---------------------------------------------------------- */

static int insert_row(struct dk_store *store, const char *kind,
                      const struct dk_mail *m, time_t now, int64_t *id,
                      struct dk_error *err)
{
    static const char sql[] =
        "INSERT INTO outbox (created_at, kind, mail_from, recipients, subject, status, "
        "next_attempt) VALUES (?, ?, ?, ?, ?, 'pending', ?)";
    sqlite3_stmt *st = NULL;
    char created[32];
    char recipients[2 * 256 + 2];
    int rc;

    utc_text(now, created, sizeof(created));
    /* Addresses are checked (at most 254 bytes, no newline) before this. */
    if (m->cc != NULL && *m->cc != '\0')
        snprintf(recipients, sizeof(recipients), "%s\n%s", m->to, m->cc);
    else
        snprintf(recipients, sizeof(recipients), "%s", m->to);

    rc = store_prepare(store, sql, &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, created, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, recipients, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, m->subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_error(store, err);
    else
        *id = sqlite3_last_insert_rowid(store->db);
    sqlite3_finalize(st);
    return rc;
}

static int store_mime(struct dk_store *store, int64_t id,
                      const char *message_id, const char *mime, size_t len,
                      struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(
        store, "UPDATE outbox SET message_id = ?, mime = ? WHERE id = ?", &st,
        err);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, mime, len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_error(store, err);
    sqlite3_finalize(st);
    return rc;
}

/* The cheap checks that must pass before a row is written; mail_compose
 * checks the rest. */
static int check_enqueue(struct dk_store *store, const char *kind,
                         const struct dk_mail *m, struct dk_error *err)
{
    if (sqlite3_get_autocommit(store->db))
        return dk_error_set(
            err, -EINVAL,
            "outbox: queue mail inside the transaction of its event");
    if (kind == NULL || *kind == '\0')
        return dk_error_set(err, DK_EINPUT,
                            "outbox: the message kind is missing");
    if (!mail_address_ok(m->from))
        return dk_error_set(
            err, DK_EINPUT,
            "mail: the From address must be one plain ASCII user@domain address");
    if (!mail_address_ok(m->to))
        return dk_error_set(
            err, DK_EINPUT,
            "mail: the To address must be one plain ASCII user@domain address");
    if (m->subject == NULL)
        return dk_error_set(err, DK_EINPUT, "mail: the Subject is missing");
    return 0;
}

int outbox_enqueue(struct dk_store *store, const char *kind,
                   const struct dk_mail *m, int64_t *id, struct dk_error *err)
{
    struct dk_mail with_id = *m;
    time_t now = time(NULL);
    char message_id[320];
    char *mime = NULL;
    size_t len = 0;
    int64_t row = 0;
    int rc;

    rc = check_enqueue(store, kind, m, err);
    if (rc != 0)
        return rc;

    /* A savepoint, so that a refusal after the INSERT takes the row back
     * out without touching the rest of the caller's transaction. */
    rc = store_exec(store, "SAVEPOINT outbox_enqueue", err);
    if (rc != 0)
        return rc;
    rc = insert_row(store, kind, m, now, &row, err);
    if (rc != 0)
        goto out;

    /* RFC 5322 section 3.6.4: unique left part, our own domain on the
     * right.  The row id makes every retry carry the same Message-ID. */
    snprintf(message_id, sizeof(message_id), "dropkiosk.%" PRId64 ".%lld@%s",
             row, (long long)now, strchr(m->from, '@') + 1);
    with_id.message_id = message_id;
    rc = mail_compose(&with_id, &mime, &len, err);
    if (rc != 0)
        goto out;
    rc = store_mime(store, row, message_id, mime, len, err);
out:
    if (rc != 0)
        store_exec(store, "ROLLBACK TO outbox_enqueue", NULL);
    store_exec(store, "RELEASE outbox_enqueue", NULL);
    free(mime);
    if (rc == 0 && id != NULL)
        *id = row;
    return rc;
}

/* ---- loading and recording -------------------------------------------- */

static void row_free(struct dk_outbox_row *r)
{
    free(r->mail_from);
    free(r->recipients);
    free(r->message_id);
    free(r->mime);
    memset(r, 0, sizeof(*r));
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return strdup(s != NULL ? (const char *)s : "");
}

static int row_load(sqlite3_stmt *st, struct dk_outbox_row *r)
{
    const void *mime = sqlite3_column_blob(st, 4);

    r->id = sqlite3_column_int64(st, 0);
    r->attempts = sqlite3_column_int(st, 1);
    r->mail_from = column_dup(st, 2);
    r->recipients = column_dup(st, 3);
    r->message_id = column_dup(st, 5);
    r->mime_len = (size_t)sqlite3_column_bytes(st, 4);
    r->mime = malloc(r->mime_len + 1);
    if (r->mail_from == NULL || r->recipients == NULL ||
        r->message_id == NULL || r->mime == NULL)
        return -ENOMEM;
    if (mime != NULL)
        memcpy(r->mime, mime, r->mime_len);
    else
        r->mime_len = 0;
    return 0;
}

/* The first pending row due at `now` with an id above `after`; rows are
 * taken in id order so each is tried at most once per round. */
static int next_due(struct dk_store *store, time_t now, int64_t after,
                    struct dk_outbox_row *r, bool *found, struct dk_error *err)
{
    static const char sql[] =
        "SELECT id, attempts, mail_from, recipients, mime, message_id FROM outbox "
        "WHERE status = 'pending' AND next_attempt <= ? AND id > ? ORDER BY id LIMIT 1";
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(store, sql, &st, err);

    *found = false;
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
    sqlite3_bind_int64(st, 2, after);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        *found = true;
        if (row_load(st, r) != 0)
            rc = dk_error_set(err, -ENOMEM,
                              "outbox: out of memory loading message %lld",
                              (long long)sqlite3_column_int64(st, 0));
        break;
    case SQLITE_DONE:
        break;
    default:
        rc = db_error(store, err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Run one UPDATE with its parameters bound by bind(), in its own
 * transaction, so the row's new state is on disk before the next attempt. */
static int update_row(struct dk_store *store, const char *sql,
                      void (*bind)(sqlite3_stmt *, const void *),
                      const void *arg, int *changes, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store_begin(store, err);

    if (rc != 0)
        return rc;
    rc = store_prepare(store, sql, &st, err);
    if (rc != 0)
        goto out;
    bind(st, arg);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_error(store, err);
        goto out;
    }
    if (changes != NULL)
        *changes = sqlite3_changes(store->db);
    sqlite3_finalize(st);
    st = NULL;
    rc = store_commit(store, err);
out:
    sqlite3_finalize(st);
    if (rc != 0)
        store_rollback(store);
    return rc;
}

struct dk_claim {
    int64_t id;
    int attempts;
    time_t now;
    time_t lease_end;
    char note[128];
};

static void bind_claim(sqlite3_stmt *st, const void *arg)
{
    const struct dk_claim *c = arg;

    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->lease_end);
    sqlite3_bind_text(st, 2, c->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->now);
    sqlite3_bind_int(st, 5, c->attempts);
}

/* Before trying, and in its own committed transaction:
 *   - push next_attempt past the longest attempt (a lease), so that a
 *     second deliverer (the daemon and `dropkioskctl outbox send` at once)
 *     skips the row instead of sending it twice;
 *   - count the attempt, so that one which never finishes (the process is
 *     killed, the power goes) still counts and is still backed off;
 *   - say so in last_error, which the outcome overwrites.
 * A process that dies mid-attempt leaves the row pending; it is tried
 * again, with the same bytes and Message-ID, once the lease runs out.
 * The lease covers curl's whole-transfer limit (smtp_timeout) and the
 * outcome's commit, which may wait out SQLite's busy timeout.
 * *claimed is false when another deliverer got there first. */
static int claim_row(struct dk_store *store, const struct dk_config *cfg,
                     const struct dk_outbox_row *r, time_t now, bool *claimed,
                     struct dk_error *err)
{
    struct dk_claim c = {r->id, r->attempts, now,
                         now + 2 * (time_t)cfg->smtp_timeout + 60, ""};
    char started[32];
    int changes = 0;
    int rc;

    utc_text(now, started, sizeof(started));
    snprintf(c.note, sizeof(c.note),
             "attempt %d started %s has no outcome yet (still running, or the "
             "sender stopped)",
             r->attempts + 1, started);
    rc = update_row(store,
                    "UPDATE outbox SET next_attempt = ?, attempts = attempts + 1, "
                    "last_error = ? WHERE id = ? AND status = 'pending' AND "
                    "next_attempt <= ? AND attempts = ?",
                    bind_claim, &c, &changes, err);

    *claimed = rc == 0 && changes == 1;
    return rc;
}

/* min(retry_base * 2^(attempts-1), retry_max), less up to a tenth so that
 * many kiosks cut off by one outage do not all come back in the same second
 * (RFC 5321 section 4.5.4.1 asks for growing retry intervals). */
static time_t backoff(const struct dk_config *cfg, int attempts)
{
    int64_t delay = cfg->retry_base > 0 ? cfg->retry_base : 1;
    int64_t max = cfg->retry_max > 0 ? cfg->retry_max : delay;

    for (int i = 1; i < attempts && delay < max; i++)
        delay *= 2;
    if (delay > max)
        delay = max;
    delay -= randombytes_uniform((uint32_t)(delay / 10 + 1));
    return (time_t)(delay > 0 ? delay : 1);
}

struct dk_result_args {
    const struct dk_outbox_row *row;
    const struct dk_attempt *attempt;
    time_t next;
    const char *sent_at;
};

static void bind_result(sqlite3_stmt *st, const void *arg)
{
    const struct dk_result_args *a = arg;
    static const char *const status[] = {"sent", "failed", "pending"};

    sqlite3_bind_text(st, 1, status[a->attempt->outcome], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)a->next);
    if (a->attempt->outcome == DK_OUT_SENT)
        sqlite3_bind_null(st, 3);
    else
        sqlite3_bind_text(st, 3, a->attempt->why, -1, SQLITE_STATIC);
    if (a->sent_at != NULL)
        sqlite3_bind_text(st, 4, a->sent_at, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, a->row->id);
}

static int record_attempt(struct dk_store *store, const struct dk_config *cfg,
                          const struct dk_outbox_row *r,
                          const struct dk_attempt *a, struct dk_error *err)
{
    time_t now = time(NULL);
    char sent_at[32];
    struct dk_result_args args = {r, a, now, NULL};

    if (a->outcome == DK_OUT_SENT) {
        utc_text(now, sent_at, sizeof(sent_at));
        args.sent_at = sent_at;
    } else if (a->outcome == DK_OUT_DEFERRED) {
        args.next = now + backoff(cfg, r->attempts + 1);
    }
    /* attempts was counted by claim_row. */
    return update_row(store,
                      "UPDATE outbox SET status = ?, next_attempt = ?, "
                      "last_error = ?, sent_at = ? WHERE id = ?",
                      bind_result, &args, NULL, err);
}

/* ---- the Maildir spool ------------------------------------------------- */

static void attempt_set(struct dk_attempt *a, enum dk_outcome outcome,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void attempt_set(struct dk_attempt *a, enum dk_outcome outcome,
                        const char *fmt, ...)
{
    va_list ap;

    a->outcome = outcome;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
}

static bool make_dir(const char *path)
{
    return mkdir(path, 0750) == 0 || errno == EEXIST;
}

static bool path_join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);

    return n > 0 && (size_t)n < size;
}

static int maildir_prepare(const char *root, struct dk_attempt *a)
{
    static const char *const subdirs[] = {"tmp", "new", "cur"};
    char path[DK_PATH_MAX + 8];

    if (root[0] == '\0') {
        attempt_set(a, DK_OUT_DEFERRED, "no [mail] spool folder is configured");
        return -EINVAL;
    }
    if (!make_dir(root)) {
        attempt_set(a, DK_OUT_DEFERRED, "cannot create spool %s: %s", root,
                    strerror(errno));
        return -errno;
    }
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        if (!path_join(path, sizeof(path), root, subdirs[i]) ||
            !make_dir(path)) {
            attempt_set(a, DK_OUT_DEFERRED, "cannot create %s/%s: %s", root,
                        subdirs[i], strerror(errno));
            return -EIO;
        }
    }
    return 0;
}

/* Maildir names are time.unique.host; '/' and ':' cannot appear in the
 * host part (':' starts the info suffix), so they become '_'. */
static void maildir_name(char *buf, size_t size, int64_t id)
{
    struct timeval tv;
    char host[256] = "localhost";

    gettimeofday(&tv, NULL);
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p != '\0'; p++) {
        if (*p == '/' || *p == ':')
            *p = '_';
    }
    snprintf(buf, size, "%lld.M%06ldP%dQ%" PRId64 ".%s", (long long)tv.tv_sec,
             (long)tv.tv_usec, (int)getpid(), id, host);
}

/* The file holds exactly the bytes SMTP would carry (CRLF line ends), so a
 * relay that picks the spool up forwards the message unchanged. */
static void spool_deliver(const char *root, const struct dk_outbox_row *r,
                          struct dk_attempt *a)
{
    char name[512];
    char tmp[DK_PATH_MAX + 600];
    char dst[DK_PATH_MAX + 600];
    char newdir[DK_PATH_MAX + 8];
    int fd = -1;
    int rc;

    if (maildir_prepare(root, a) != 0)
        return;
    maildir_name(name, sizeof(name), r->id);
    if (snprintf(tmp, sizeof(tmp), "%s/tmp/%s", root, name) >=
            (int)sizeof(tmp) ||
        snprintf(dst, sizeof(dst), "%s/new/%s", root, name) >=
            (int)sizeof(dst) ||
        !path_join(newdir, sizeof(newdir), root, "new")) {
        attempt_set(a, DK_OUT_DEFERRED, "spool path %s is too long", root);
        return;
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    rc = fd < 0 ? -errno : file_write_all(fd, r->mime, r->mime_len);
    /* fsync before rename: a file in new/ must be whole after power loss. */
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -errno;
    if (rc != 0) {
        if (fd >= 0)
            unlink(tmp);
        attempt_set(a, DK_OUT_DEFERRED, "cannot write %s into spool %s: %s",
                    name, root, strerror(-rc));
        return;
    }

    /* The message is in new/ now; retrying would spool it twice, so a
     * failed directory fsync is only worth a warning. */
    rc = file_sync_dir(newdir);
    if (rc != 0)
        log_warn("cannot flush spool folder %s: %s", newdir, strerror(-rc));
    attempt_set(a, DK_OUT_SENT, "%s", "");
}

/* ---- SMTP through libcurl ---------------------------------------------- */

struct dk_upload {
    const unsigned char *data;
    size_t len;
    size_t pos;
};

static size_t upload_read(char *buf, size_t size, size_t nitems, void *userp)
{
    struct dk_upload *u = userp;
    size_t n = u->len - u->pos;

    if (n > size * nitems)
        n = size * nitems;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* The server's replies as they come: the last complete one, and the last
 * complete refusal (4yz or 5yz).  RFC 5321 section 4.2.1: "xyz-text" lines
 * continue a reply and "xyz text" ends it. */
struct dk_reply {
    char text[REPLY_MAX];
    size_t len;
    bool complete;
    char refusal[REPLY_MAX];
};

static void reply_add_line(struct dk_reply *r, const char *line, size_t n)
{
    if (r->complete) {
        r->len = 0;
        r->complete = false;
    }
    if (r->len > 0 && r->len + 1 < sizeof(r->text))
        r->text[r->len++] = ' ';
    for (size_t i = 0; i < n && r->len + 1 < sizeof(r->text); i++) {
        unsigned char c = (unsigned char)line[i];

        /* The server's words go into the database, the log and a
         * terminal: no control characters. */
        r->text[r->len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    r->text[r->len] = '\0';
    r->complete = n < 4 || line[3] != '-';
    if (r->complete && (r->text[0] == '4' || r->text[0] == '5'))
        snprintf(r->refusal, sizeof(r->refusal), "%s", r->text);
}

static int smtp_debug(CURL *h, curl_infotype type, char *data, size_t size,
                      void *userp)
{
    struct dk_reply *reply = userp;

    (void)h;
    /* Only the server's replies are kept.  What we send (HEADER_OUT)
     * includes the AUTH exchange, which carries the password. */
    if (type != CURLINFO_HEADER_IN)
        return 0;
    while (size > 0) {
        char *nl = memchr(data, '\n', size);
        size_t n = nl != NULL ? (size_t)(nl - data) + 1 : size;
        size_t text = n;

        while (text > 0 && (data[text - 1] == '\n' || data[text - 1] == '\r'))
            text--;
        if (text > 0)
            reply_add_line(reply, data, text);
        data += n;
        size -= n;
    }
    return 0;
}

/* "<addr>" for each line of recipients; NULL (with why set) when a stored
 * address no longer passes mail_address_ok or memory runs out.
 *
 * TODO(outbox): when the server refuses one recipient of two (the person's
 * leader, say) with 5xx, send to the others and record the refusal per
 * recipient, because today curl ends the transaction at the first refused
 * RCPT and the whole message is marked failed. */
static struct curl_slist *rcpt_list(const char *recipients,
                                    struct dk_attempt *a)
{
    struct curl_slist *list = NULL;
    const char *p = recipients;

    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        char addr[260];
        struct curl_slist *grown;

        snprintf(addr, sizeof(addr), "%.*s", (int)(n < 255 ? n : 255), p);
        if (!mail_address_ok(addr)) {
            attempt_set(a, DK_OUT_FAILED,
                        "stored recipient is not a plain address");
            goto fail;
        }
        snprintf(addr, sizeof(addr), "<%.*s>", (int)n, p);
        grown = curl_slist_append(list, addr);
        if (grown == NULL) {
            attempt_set(a, DK_OUT_DEFERRED,
                        "out of memory building the recipient list");
            goto fail;
        }
        list = grown;
        p += n;
        if (*p == '\n')
            p++;
    }
    if (list == NULL)
        attempt_set(a, DK_OUT_FAILED, "message has no recipients");
    return list;
fail:
    curl_slist_free_all(list);
    return NULL;
}

static long use_ssl(enum dk_starttls starttls)
{
    switch (starttls) {
    case DK_STARTTLS_OFF:
        return CURLUSESSL_NONE;
    case DK_STARTTLS_OPTIONAL:
        return CURLUSESSL_TRY;
    default:
        return CURLUSESSL_ALL;
    }
}

/* One SMTP attempt: the libcurl handle and everything it points at, kept
 * until the attempt's outcome is committed (see deliver_one). */
struct dk_smtp {
    CURL *h;
    struct curl_slist *rcpts;
    struct dk_upload up;
    struct dk_reply reply;
    curl_socket_t fd; /* the connection's socket while curl has it open */
    char errbuf[CURL_ERROR_SIZE];
    char from[260];
};

/* The socket callbacks only watch: curl makes and closes the socket as it
 * would anyway, and smtp_finish learns whether it is still open. */
static int smtp_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    struct dk_smtp *s = clientp;

    (void)purpose;
    s->fd = fd;
    return CURL_SOCKOPT_OK;
}

static int smtp_closesocket(void *clientp, curl_socket_t fd)
{
    struct dk_smtp *s = clientp;

    if (s->fd == fd)
        s->fd = CURL_SOCKET_BAD;
    return close(fd);
}

/* Where and how to connect: URL, TLS, credentials, time limits. */
static CURLcode smtp_connection_opts(struct dk_smtp *s,
                                     const struct dk_config *cfg)
{
    long timeout = cfg->smtp_timeout > 0 ? cfg->smtp_timeout : 30;
    CURL *h = s->h;
    CURLcode c = curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);

    /* Whatever the config says, this handle speaks SMTP and nothing else. */
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl(cfg->starttls));
    if (c == CURLE_OK && cfg->smtp_username[0] != '\0')
        c = curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_username);
    if (c == CURLE_OK && cfg->smtp_password[0] != '\0')
        c = curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->smtp_password);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    /* Each wait for a reply, QUIT's at curl_easy_cleanup included (which
     * CURLOPT_TIMEOUT does not cover), ends after the same time. */
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
    /* No SIGALRM for name resolution: the daemon has other threads. */
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, smtp_sockopt);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, s);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, smtp_closesocket);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, s);
    return c;
}

/* What to send: envelope, message bytes, and the reply capture. */
static CURLcode smtp_transfer_opts(struct dk_smtp *s)
{
    CURL *h = s->h;
    CURLcode c = curl_easy_setopt(h, CURLOPT_MAIL_FROM, s->from);

    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_MAIL_RCPT, s->rcpts);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_READDATA, &s->up);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                             (curl_off_t)s->up.len);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    /* The debug callback only runs in verbose mode; it writes nothing. */
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_DEBUGDATA, &s->reply);
    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    return c;
}

/* The configured URL as it may be shown: without a user:password@ part,
 * since last_error goes to the database, the log and a terminal. */
static void url_shown(const char *url, char *buf, size_t size)
{
    const char *host = strstr(url, "://");
    const char *at;

    host = host != NULL ? host + 3 : url;
    at = strchr(host, '@');
    if (at != NULL && at < host + strcspn(host, "/?#"))
        snprintf(buf, size, "%.*s%s", (int)(host - url), url, at + 1);
    else
        snprintf(buf, size, "%s", url);
}

/* Our own configuration is wrong, not this message: the STARTTLS the
 * config requires is missing or refused, or the login is refused (RFC 4954
 * section 6: 535; 530 is "authentication required").  Such a message is
 * failed, with a reason naming the setting, rather than retried for ever
 * against a server that will say the same; once the config is fixed,
 * `dropkioskctl outbox retry` puts it back.  A 4yz (454: temporary) is
 * left to the retry below.  Returns false when the failure is not one. */
static bool classify_config(const struct dk_config *cfg, CURLcode res,
                            long code, const char *words,
                            struct dk_attempt *a)
{
    static const char retry[] = "then run dropkioskctl outbox retry";
    char url[DK_TEXT_MAX];

    if (code >= 400 && code < 500)
        return false;
    url_shown(cfg->smtp_url, url, sizeof(url));
    if (res == CURLE_USE_SSL_FAILED && code < 400)
        attempt_set(a, DK_OUT_FAILED,
                    "the server at %s does not offer STARTTLS, and [mail] "
                    "starttls = required; fix the server or the config, %s",
                    url, retry);
    else if (res == CURLE_USE_SSL_FAILED)
        attempt_set(a, DK_OUT_FAILED,
                    "the server at %s refused STARTTLS (%s), and [mail] "
                    "starttls = required; fix the server or the config, %s",
                    url, words, retry);
    else if (res == CURLE_LOGIN_DENIED || code == 535)
        attempt_set(a, DK_OUT_FAILED,
                    "the server at %s refused the login of [mail] username = "
                    "%s (%s); check [mail] username and password, %s",
                    url, cfg->smtp_username, words, retry);
    else if (code == 530)
        attempt_set(a, DK_OUT_FAILED,
                    "the server at %s wants a login or TLS first (%s); check "
                    "[mail] username, password and starttls, %s",
                    url, words, retry);
    else
        return false;
    return true;
}

/* RFC 5321 section 4.2.1: 5yz is a permanent refusal, anything else
 * (4yz, no answer, a dropped connection, a timeout) is worth another try;
 * classify_config comes first. */
static void classify(const struct dk_config *cfg, const struct dk_smtp *s,
                     CURLcode res, long code, struct dk_attempt *a)
{
    const char *curl_words =
        s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(res);
    bool refused =
        code >= 400 && code < 600 && s->reply.refusal[0] != '\0';
    const char *words = refused ? s->reply.refusal : curl_words;
    char url[DK_TEXT_MAX];

    if (res == CURLE_OK) {
        attempt_set(a, DK_OUT_SENT, "%s", "");
    } else if (res == CURLE_OPERATION_TIMEDOUT) {
        url_shown(cfg->smtp_url, url, sizeof(url));
        attempt_set(a, DK_OUT_DEFERRED,
                    "the server at %s did not answer within [mail] timeout = "
                    "%d s (%s)",
                    url, cfg->smtp_timeout > 0 ? cfg->smtp_timeout : 30,
                    curl_words);
    } else if (classify_config(cfg, res, code, words, a)) {
        return;
    } else if (code >= 500 && code < 600) {
        attempt_set(a, DK_OUT_FAILED, "%s", words);
    } else {
        attempt_set(a, DK_OUT_DEFERRED, "%s", words);
    }
}

static bool url_is_smtp(const char *url)
{
    return strncasecmp(url, "smtp://", 7) == 0 ||
           strncasecmp(url, "smtps://", 8) == 0;
}

/* Run the SMTP transaction; s keeps the connection for smtp_finish. */
static void smtp_attempt(struct dk_smtp *s, const struct dk_config *cfg,
                         const struct dk_outbox_row *r, struct dk_attempt *a)
{
    CURLcode res;
    long code = 0;

    if (!url_is_smtp(cfg->smtp_url)) {
        attempt_set(a, DK_OUT_DEFERRED,
                    "the [mail] url must start smtp:// or smtps://");
        return;
    }
    if (!mail_address_ok(r->mail_from)) {
        attempt_set(a, DK_OUT_FAILED, "stored sender is not a plain address");
        return;
    }
    snprintf(s->from, sizeof(s->from), "<%s>", r->mail_from);
    s->up = (struct dk_upload){r->mime, r->mime_len, 0};
    s->rcpts = rcpt_list(r->recipients, a);
    if (s->rcpts == NULL)
        return;
    s->h = curl_ready ? curl_easy_init() : NULL;
    if (s->h == NULL) {
        attempt_set(a, DK_OUT_DEFERRED, "cannot start a libcurl session");
        return;
    }

    res = smtp_connection_opts(s, cfg);
    if (res == CURLE_OK)
        res = smtp_transfer_opts(s);
    if (res == CURLE_OK)
        res = curl_easy_perform(s->h);
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    classify(cfg, s, res, code, a);
}

/* After the outcome is committed.  A sent message's connection ends
 * politely: curl_easy_cleanup sends QUIT and waits for 221, which is why
 * this comes after the commit and not before.  A failed or deferred
 * attempt's connection is cut without QUIT: left open, curl would send
 * QUIT and wait, and a slow server that had not yet answered DATA could
 * take the message meanwhile (and a retry would send it twice). */
static void smtp_finish(struct dk_smtp *s, const struct dk_attempt *a)
{
    if (a->outcome != DK_OUT_SENT && s->fd != CURL_SOCKET_BAD)
        shutdown(s->fd, SHUT_RDWR);
    curl_easy_cleanup(s->h);
    curl_slist_free_all(s->rcpts);
}

/* ---- the delivery round ------------------------------------------------ */

static void count_outcome(struct dk_outbox_counts *c,
                          const struct dk_outbox_row *r,
                          const struct dk_attempt *a)
{
    switch (a->outcome) {
    case DK_OUT_SENT:
        c->sent++;
        log_info("sent message %" PRId64 " <%s>", r->id, r->message_id);
        break;
    case DK_OUT_FAILED:
        c->failed++;
        log_warn("cannot send message %" PRId64 " <%s>, giving up: %s", r->id,
                 r->message_id, a->why);
        break;
    case DK_OUT_DEFERRED:
        c->deferred++;
        log_warn("cannot send message %" PRId64 " <%s> yet (attempt %d): %s",
                 r->id, r->message_id, r->attempts + 1, a->why);
        break;
    }
}

/* Never sent twice, as far as SMTP allows.  The row is claimed (and the
 * attempt counted) before connecting, and its outcome is committed as soon
 * as curl_easy_perform returns, which is right after the server's reply to
 * the end of DATA: QUIT waits until after the commit (smtp_finish).
 *
 * What is left is inherent to SMTP (RFC 1047): between the moment the
 * server takes responsibility for the message (RFC 5321 section 6.1, just
 * before it sends 250) and the moment our 'sent' reaches the disk, a
 * crash, a power cut or a lost 250 leaves the row pending, and the retry
 * sends the message again.  That window is one round trip plus one SQLite
 * commit.  The retry carries the same bytes, so the same Message-ID, and
 * a receiver (or a person) can recognise the copy. */
static int deliver_one(struct dk_store *store, const struct dk_config *cfg,
                       const struct dk_outbox_row *r, time_t now,
                       struct dk_outbox_counts *counts, struct dk_error *err)
{
    struct dk_attempt a = {DK_OUT_DEFERRED, ""};
    struct dk_smtp s;
    bool claimed = false;
    int rc = claim_row(store, cfg, r, now, &claimed, err);

    if (rc != 0 || !claimed)
        return rc;

    memset(&s, 0, sizeof(s));
    s.fd = CURL_SOCKET_BAD;
    if (r->mime_len == 0)
        attempt_set(&a, DK_OUT_FAILED, "no message bytes were stored");
    else if (cfg->transport == DK_MAIL_SMTP)
        smtp_attempt(&s, cfg, r, &a);
    else
        spool_deliver(cfg->spool_dir, r, &a);

    rc = record_attempt(store, cfg, r, &a, err);
    smtp_finish(&s, &a);
    if (rc == 0)
        count_outcome(counts, r, &a);
    return rc;
}

int outbox_deliver_due(struct dk_store *store, const struct dk_config *cfg,
                       struct dk_outbox_counts *counts, struct dk_error *err)
{
    struct dk_outbox_counts c = {0, 0, 0};
    /* One clock for the round: what falls due during it waits for the next
     * round, so a round always ends. */
    time_t now = time(NULL);
    int64_t after = 0;
    int rc = 0;

    pthread_once(&libs_once, libs_start);
    for (;;) {
        struct dk_outbox_row r = {0};
        bool found = false;

        rc = next_due(store, now, after, &r, &found, err);
        if (rc == 0 && found) {
            after = r.id;
            rc = deliver_one(store, cfg, &r, now, &c, err);
        }
        row_free(&r);
        if (rc != 0 || !found)
            break;
    }
    if (counts != NULL)
        *counts = c;
    return rc;
}

/* ---- listing ----------------------------------------------------------- */

/* Write s in `width` terminal columns (one per UTF-8 character; good enough
 * for names and subjects), cut with "..." when longer, control characters
 * shown as '?' so a stored server reply cannot drive the terminal.
 * width 0 writes all of s. */
static void put_cell(FILE *out, const char *s, size_t width)
{
    size_t chars = 0;
    size_t total = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        total += ((*p & 0xc0) != 0x80) + (*p == '\n');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool starts = (*p & 0xc0) != 0x80;

        if (starts && width > 0 && total > width && chars + 3 >= width) {
            fputs("...", out);
            chars += 3;
            break;
        }
        chars += starts;
        if (*p == '\n') {
            fputs(", ", out);
            chars++;
        } else {
            fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
        }
    }
    while (chars < width) {
        fputc(' ', out);
        chars++;
    }
}

/* RFC 4180 section 2: a field with a comma, quote or line break is quoted,
 * quotes doubled.  Recipients are joined with a space, which no address
 * that passes mail_address_ok contains.  Lines end in LF rather than the
 * CRLF of rule 1: the readers of this output are Unix tools and scripts. */
static void put_csv(FILE *out, const char *s, bool recipients, const char *end)
{
    char joined[1024];
    size_t n = strlen(s);

    if (recipients && n < sizeof(joined)) {
        for (size_t i = 0; i <= n; i++)
            joined[i] = s[i] == '\n' ? ' ' : s[i];
        s = joined;
    }
    csv_write_field(out, s, n);
    fputs(end, out);
}

static const char *column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s != NULL ? (const char *)s : "";
}

static void list_row(FILE *out, sqlite3_stmt *st, bool csv)
{
    const char *status = column_text(st, 1);
    char next[32] = "";
    char id[24];
    char attempts[16];

    if (strcmp(status, "pending") == 0)
        utc_text((time_t)sqlite3_column_int64(st, 3), next, sizeof(next));
    snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
    snprintf(attempts, sizeof(attempts), "%d", sqlite3_column_int(st, 2));
    if (csv) {
        fprintf(out, "%s,%s,%s,%s,", id, status, attempts, next);
        put_csv(out, column_text(st, 4), true, ",");
        put_csv(out, column_text(st, 5), false, ",");
        put_csv(out, column_text(st, 6), false, "\n");
        return;
    }
    fprintf(out, "%6s  %-7s  %8s  %-20s  ", id, status, attempts,
            next[0] ? next : "-");
    put_cell(out, column_text(st, 4), 32);
    fputs("  ", out);
    put_cell(out, column_text(st, 5), 32);
    fputs("  ", out);
    put_cell(out, column_text(st, 6), 0);
    fputc('\n', out);
}

int outbox_list(struct dk_store *store, FILE *out, bool csv,
                struct dk_error *err)
{
    static const char sql[] =
        "SELECT id, status, attempts, next_attempt, recipients, "
        "subject, last_error FROM outbox ORDER BY id";
    sqlite3_stmt *st = NULL;
    int step;
    int rc = store_prepare(store, sql, &st, err);

    if (rc != 0)
        return rc;
    if (csv)
        fputs("id,status,attempts,next_attempt,recipients,subject,last_error\n",
              out);
    else
        fprintf(out, "%6s  %-7s  %8s  %-20s  %-32s  %-32s  %s\n", "ID",
                "STATUS", "ATTEMPTS", "NEXT ATTEMPT (UTC)", "RECIPIENTS",
                "SUBJECT", "LAST ERROR");
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        list_row(out, st, csv);
    if (step != SQLITE_DONE)
        rc = db_error(store, err);
    sqlite3_finalize(st);
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = dk_error_set(err, -EIO, "cannot write the outbox listing: %s",
                          strerror(errno));
    return rc;
}

/* ---- putting failed messages back --------------------------------------- */

/* One failed row back to pending, and its audit row.  DK_EINPUT when id
 * is unknown or not failed. */
static int retry_one(struct dk_store *store, int64_t id, time_t now,
                     const char *actor, struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char subject[24];
    char details[DK_ERROR_MAX];
    char status[16] = "";
    int rc = store_prepare(
        store,
        "SELECT status, attempts, coalesce(last_error, '') FROM outbox WHERE id = ?",
        &st, err);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        snprintf(status, sizeof(status), "%s", column_text(st, 0));
        snprintf(details, sizeof(details), "was failed after %d attempts: %s",
                 sqlite3_column_int(st, 1), column_text(st, 2));
        break;
    case SQLITE_DONE:
        rc = dk_error_set(err, DK_EINPUT, "outbox: there is no message %" PRId64,
                          id);
        break;
    default:
        rc = db_error(store, err);
    }
    sqlite3_finalize(st);
    st = NULL;
    /* A pending row may be in the middle of an attempt (claim_row), and a
     * sent one must never go again: only failed rows come back. */
    if (rc == 0 && strcmp(status, "failed") != 0)
        rc = dk_error_set(err, DK_EINPUT,
                          "outbox: message %" PRId64 " is %s, not failed; only "
                          "failed messages can be retried",
                          id, status);
    if (rc == 0)
        rc = store_prepare(store,
                           "UPDATE outbox SET status = 'pending', attempts = 0, "
                           "next_attempt = ?, last_error = NULL WHERE id = ?",
                           &st, err);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_error(store, err);
    }
    sqlite3_finalize(st);
    snprintf(subject, sizeof(subject), "%" PRId64, id);
    if (rc == 0)
        rc = audit_append(store, actor, "outbox retry", subject, details, err);
    return rc;
}

/* The ids of every failed row, in id order; *ids is malloc'd. */
static int failed_ids(struct dk_store *store, int64_t **ids, size_t *n,
                      struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step;
    int rc = store_prepare(
        store, "SELECT id FROM outbox WHERE status = 'failed' ORDER BY id", &st,
        err);

    *ids = NULL;
    *n = 0;
    if (rc != 0)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t grown_cap = cap == 0 ? 16 : cap * 2;
            int64_t *grown = realloc(*ids, grown_cap * sizeof(**ids));

            if (grown == NULL) {
                rc = dk_error_set(err, -ENOMEM, "outbox: out of memory");
                break;
            }
            *ids = grown;
            cap = grown_cap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error(store, err);
    sqlite3_finalize(st);
    return rc;
}

int outbox_retry(struct dk_store *store, const int64_t *ids, size_t n,
                 bool all_failed, const char *actor, int *count,
                 struct dk_error *err)
{
    int64_t *all = NULL;
    time_t now = time(NULL);
    int done = 0;
    int rc = store_begin(store, err);

    if (rc != 0)
        return rc;
    if (all_failed) {
        rc = failed_ids(store, &all, &n, err);
        ids = all;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool repeated = false;

        for (size_t j = 0; j < i; j++)
            repeated = repeated || ids[j] == ids[i];
        if (repeated)
            continue;
        rc = retry_one(store, ids[i], now, actor, err);
        done += rc == 0;
    }
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    free(all);
    if (rc == 0) {
        log_info("outbox: %d failed message%s put back in the queue by %s",
                 done, done == 1 ? "" : "s", actor);
        if (count != NULL)
            *count = done;
    }
    return rc;
}
