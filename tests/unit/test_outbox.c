/* The outbox against a real SQLite file, a real Maildir folder and a real
 * SMTP server (tests/smtp_server.py, aiosmtpd) on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"
#include "outbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Debian's interpreter, which has aiosmtpd; not whichever is on PATH. */
#define PYTHON "/usr/bin/python3"
#define SMTP_SERVER "tests/smtp_server.py"

struct fixture {
    char dir[64];
    char spool[128];
    char received[128];
    struct dk_store *store;
    struct dk_config cfg;
    pid_t server;
    int blocker; /* a bound socket that never listens: "server down" */
};

struct row {
    char status[16];
    int attempts;
    int64_t next_attempt;
    char last_error[DK_ERROR_MAX];
    bool has_sent_at;
    char message_id[128];
    char recipients[256];
    char kind[32];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char db[128];
    struct dk_error err = {""};

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/dk-test-outbox-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(db, sizeof(db), "%s/kiosk.db", f->dir);
    snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
    snprintf(f->received, sizeof(f->received), "%s/received", f->dir);
    assert_int_equal(mkdir(f->received, 0700), 0);
    assert_int_equal(store_open(db, &f->store, &err), 0);

    config_defaults(&f->cfg);
    f->cfg.transport = DK_MAIL_SPOOL;
    snprintf(f->cfg.spool_dir, sizeof(f->cfg.spool_dir), "%s", f->spool);
    f->cfg.starttls = DK_STARTTLS_OFF;
    f->cfg.smtp_timeout = 10;
    f->cfg.retry_base = 60;
    f->cfg.retry_max = 3600;
    f->server = -1;
    f->blocker = -1;
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    if (f->server > 0) {
        kill(f->server, SIGTERM);
        waitpid(f->server, NULL, 0);
    }
    if (f->blocker >= 0)
        close(f->blocker);
    store_close(f->store);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Start tests/smtp_server.py on port 0 with extra flags (a NULL-terminated
 * list of at most 8) and point cfg at the port it prints on its first
 * line. */
static void start_server_flags(struct fixture *f, const char *const *flags)
{
    const char *argv[16] = {PYTHON, SMTP_SERVER, "--port", "0", f->received};
    size_t argc = 5;
    int out[2];
    char line[32] = "";
    size_t got = 0;
    char log[160];
    struct pollfd pfd;
    long port;

    for (size_t i = 0; flags[i] != NULL && argc + 1 < 16; i++)
        argv[argc++] = flags[i];
    argv[argc] = NULL;
    assert_int_equal(pipe(out), 0);
    snprintf(log, sizeof(log), "%s/smtp_server.log", f->dir);
    f->server = fork();
    assert_true(f->server >= 0);
    if (f->server == 0) {
        FILE *errlog = fopen(log, "w");

        dup2(out[1], STDOUT_FILENO);
        if (errlog != NULL)
            dup2(fileno(errlog), STDERR_FILENO);
        close(out[0]);
        execv(PYTHON, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);

    pfd.fd = out[0];
    pfd.events = POLLIN;
    while (got + 1 < sizeof(line) && strchr(line, '\n') == NULL) {
        ssize_t n;

        assert_int_equal(poll(&pfd, 1, 15000), 1);
        n = read(out[0], line + got, sizeof(line) - 1 - got);
        assert_true(n > 0);
        got += (size_t)n;
        line[got] = '\0';
    }
    close(out[0]);
    port = strtol(line, NULL, 10);
    assert_true(port > 0 && port < 65536);
    snprintf(f->cfg.smtp_url, sizeof(f->cfg.smtp_url), "smtp://127.0.0.1:%ld",
             port);
    f->cfg.transport = DK_MAIL_SMTP;
}

static void start_server(struct fixture *f, const char *flag1,
                         const char *flag2)
{
    const char *flags[] = {flag1, flag2, NULL};

    start_server_flags(f, flags);
}

/* A loopback port with a socket bound to it but not listening: connecting
 * is refused at once, and no other test can take the port meanwhile. */
static void point_at_dead_port(struct fixture *f)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->blocker = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->blocker >= 0);
    assert_int_equal(bind(f->blocker, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(f->blocker, (struct sockaddr *)&sa, &len), 0);
    snprintf(f->cfg.smtp_url, sizeof(f->cfg.smtp_url), "smtp://127.0.0.1:%d",
             ntohs(sa.sin_port));
    f->cfg.transport = DK_MAIL_SMTP;
}

static struct dk_mail receipt_mail(void)
{
    struct dk_mail m = {
        .from = "dropkiosk@rps.example.org",
        .to = "ann.lee@rps.example.org",
        .to_name = "Ann Lee",
        .cc = "principal@rps.example.org",
        .subject = "Return receipt, RPS123456",
        .text = "You returned RPS123456.\n",
    };
    return m;
}

static int64_t enqueue(struct fixture *f, const struct dk_mail *m)
{
    struct dk_error err = {""};
    int64_t id = 0;

    assert_int_equal(store_begin(f->store, &err), 0);
    assert_int_equal(outbox_enqueue(f->store, "receipt", m, &id, &err), 0);
    assert_int_equal(store_commit(f->store, &err), 0);
    return id;
}

static struct dk_outbox_counts deliver(struct fixture *f)
{
    struct dk_outbox_counts counts = {-1, -1, -1};
    struct dk_error err = {""};

    assert_int_equal(outbox_deliver_due(f->store, &f->cfg, &counts, &err), 0);
    return counts;
}

static void copy_column(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    snprintf(dst, size, "%s", s != NULL ? (const char *)s : "");
}

static struct row read_row(struct fixture *f, int64_t id)
{
    struct row r;
    sqlite3_stmt *st = NULL;
    struct dk_error err = {""};

    memset(&r, 0, sizeof(r));
    assert_int_equal(
        store_prepare(f->store,
                      "SELECT status, attempts, next_attempt, last_error, "
                      "sent_at, message_id, recipients, kind FROM outbox "
                      "WHERE id = ?",
                      &st, &err),
        0);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    copy_column(st, 0, r.status, sizeof(r.status));
    r.attempts = sqlite3_column_int(st, 1);
    r.next_attempt = sqlite3_column_int64(st, 2);
    copy_column(st, 3, r.last_error, sizeof(r.last_error));
    r.has_sent_at = sqlite3_column_type(st, 4) != SQLITE_NULL;
    copy_column(st, 5, r.message_id, sizeof(r.message_id));
    copy_column(st, 6, r.recipients, sizeof(r.recipients));
    copy_column(st, 7, r.kind, sizeof(r.kind));
    sqlite3_finalize(st);
    return r;
}

/* The stored MIME bytes of row id, NUL-terminated; free it. */
static char *read_mime(struct fixture *f, int64_t id, size_t *len)
{
    sqlite3_stmt *st = NULL;
    struct dk_error err = {""};
    char *copy;

    assert_int_equal(store_prepare(f->store,
                                   "SELECT mime FROM outbox WHERE id = ?", &st,
                                   &err),
                     0);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *len = (size_t)sqlite3_column_bytes(st, 0);
    copy = malloc(*len + 1);
    assert_non_null(copy);
    memcpy(copy, sqlite3_column_blob(st, 0), *len);
    copy[*len] = '\0';
    sqlite3_finalize(st);
    return copy;
}

static int count_rows(struct fixture *f, const char *table)
{
    char sql[64];
    sqlite3_stmt *st = NULL;
    struct dk_error err = {""};
    int n;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    assert_int_equal(store_prepare(f->store, sql, &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Files in dir whose names end in suffix ("" for all); the last one's
 * name goes to last (may be NULL). */
static int count_files(const char *dir, const char *suffix, char *last,
                       size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || len < strlen(suffix) ||
            strcmp(e->d_name + len - strlen(suffix), suffix) != 0)
            continue;
        n++;
        if (last != NULL)
            snprintf(last, size, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long size;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    buf[size] = '\0';
    fclose(fp);
    *len = (size_t)size;
    return buf;
}

static void assert_counts(struct dk_outbox_counts c, int sent, int failed,
                          int deferred)
{
    assert_int_equal(c.sent, sent);
    assert_int_equal(c.failed, failed);
    assert_int_equal(c.deferred, deferred);
}

/* ---- queueing ---------------------------------------------------------- */

static void test_enqueue_stores_pending_row(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    struct row r = read_row(f, id);

    assert_int_equal(id, 1);
    assert_string_equal(r.status, "pending");
    assert_string_equal(r.kind, "receipt");
    assert_int_equal(r.attempts, 0);
    assert_string_equal(r.recipients,
                        "ann.lee@rps.example.org\nprincipal@rps.example.org");
    assert_true(r.next_attempt <= (int64_t)time(NULL));
    assert_false(r.has_sent_at);
}

static void test_enqueue_makes_message_id_from_row_id(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id;
    struct row r;
    size_t len;
    char *mime;
    char header[160];

    m.message_id = "ignored@example.org";
    enqueue(f, &m);
    id = enqueue(f, &m);
    r = read_row(f, id);
    assert_int_equal(id, 2);
    assert_memory_equal(r.message_id, "dropkiosk.2.", 12);
    assert_non_null(strstr(r.message_id, "@rps.example.org"));
    mime = read_mime(f, id, &len);
    snprintf(header, sizeof(header), "\r\nMessage-Id: <%s>\r\n", r.message_id);
    assert_non_null(strstr(mime, header));
    assert_null(strstr(mime, "ignored@example.org"));
    free(mime);
}

static void test_enqueue_outside_transaction_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};

    assert_int_equal(outbox_enqueue(f->store, "receipt", &m, NULL, &err),
                     -EINVAL);
    assert_int_equal(count_rows(f, "outbox"), 0);
}

static void test_enqueue_refusal_keeps_callers_transaction(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};

    m.subject = "Receipt\r\nBcc: everyone@example.org";
    assert_int_equal(store_begin(f->store, &err), 0);
    assert_int_equal(
        store_exec(f->store,
                   "INSERT INTO sync_queue (created_at, event, payload) "
                   "VALUES ('2024-05-01T10:00:00Z', 'return', '{}')",
                   &err),
        0);
    assert_int_equal(outbox_enqueue(f->store, "receipt", &m, NULL, &err),
                     DK_EINPUT);
    assert_non_null(strstr(err.msg, "Subject"));
    assert_int_equal(store_commit(f->store, &err), 0);
    assert_int_equal(count_rows(f, "sync_queue"), 1);
    assert_int_equal(count_rows(f, "outbox"), 0);
}

/* ---- the spool --------------------------------------------------------- */

static void
test_spool_delivery_writes_one_file_in_new_and_marks_sent(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    char newdir[160], tmpdir[160], name[256], path[600];
    size_t mime_len, file_len;
    char *mime, *file;
    struct row r;

    assert_counts(deliver(f), 1, 0, 0);
    snprintf(newdir, sizeof(newdir), "%s/new", f->spool);
    snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", f->spool);
    assert_int_equal(count_files(newdir, "", name, sizeof(name)), 1);
    assert_int_equal(count_files(tmpdir, "", NULL, 0), 0);
    assert_non_null(strstr(name, "Q1."));

    snprintf(path, sizeof(path), "%s/%s", newdir, name);
    file = read_file(path, &file_len);
    mime = read_mime(f, id, &mime_len);
    assert_int_equal(file_len, mime_len);
    assert_memory_equal(file, mime, mime_len);
    free(file);
    free(mime);

    r = read_row(f, id);
    assert_string_equal(r.status, "sent");
    assert_int_equal(r.attempts, 1);
    assert_true(r.has_sent_at);
    assert_string_equal(r.last_error, "");
}

static void test_second_delivery_round_sends_nothing_more(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    char newdir[160];

    enqueue(f, &m);
    assert_counts(deliver(f), 1, 0, 0);
    assert_counts(deliver(f), 0, 0, 0);
    snprintf(newdir, sizeof(newdir), "%s/new", f->spool);
    assert_int_equal(count_files(newdir, "", NULL, 0), 1);
}

static void test_spool_creates_maildir_folders(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    char cur[160];

    enqueue(f, &m);
    deliver(f);
    snprintf(cur, sizeof(cur), "%s/cur", f->spool);
    assert_int_equal(count_files(cur, "", NULL, 0), 0);
}

/* ---- SMTP -------------------------------------------------------------- */

static void test_smtp_delivery_reaches_server_with_envelope(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    char path[200];
    size_t len, mime_len;
    char *env, *eml, *mime;

    start_server(f, NULL, NULL);
    assert_counts(deliver(f), 1, 0, 0);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 1);

    snprintf(path, sizeof(path), "%s/1.env", f->received);
    env = read_file(path, &len);
    assert_string_equal(env, "MAIL FROM:<dropkiosk@rps.example.org>\n"
                             "RCPT TO:<ann.lee@rps.example.org>\n"
                             "RCPT TO:<principal@rps.example.org>\n");
    snprintf(path, sizeof(path), "%s/1.eml", f->received);
    eml = read_file(path, &len);
    mime = read_mime(f, id, &mime_len);
    assert_int_equal(len, mime_len);
    assert_memory_equal(eml, mime, mime_len);
    free(env);
    free(eml);
    free(mime);

    assert_string_equal(read_row(f, id).status, "sent");
}

static void test_smtp_sends_each_message_once(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();

    enqueue(f, &m);
    enqueue(f, &m);
    start_server(f, NULL, NULL);
    assert_counts(deliver(f), 2, 0, 0);
    assert_counts(deliver(f), 0, 0, 0);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 2);
}

static void test_smtp_server_down_defers_with_backoff(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    int64_t before, after;
    struct row r;

    point_at_dead_port(f);
    before = (int64_t)time(NULL);
    assert_counts(deliver(f), 0, 0, 1);
    after = (int64_t)time(NULL);

    r = read_row(f, id);
    assert_string_equal(r.status, "pending");
    assert_int_equal(r.attempts, 1);
    /* retry_base 60, less up to 10% jitter. */
    assert_true(r.next_attempt >= before + 54);
    assert_true(r.next_attempt <= after + 60);
    assert_non_null(
        strstr(r.last_error, "Failed to connect to 127.0.0.1 port"));
}

static void test_deferred_message_waits_for_next_attempt(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);

    point_at_dead_port(f);
    assert_counts(deliver(f), 0, 0, 1);
    assert_counts(deliver(f), 0, 0, 0);
    assert_int_equal(read_row(f, id).attempts, 1);
}

static void test_second_deferral_doubles_the_wait(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};
    int64_t id = enqueue(f, &m);
    int64_t before;
    struct row r;

    point_at_dead_port(f);
    deliver(f);
    assert_int_equal(
        store_exec(f->store, "UPDATE outbox SET next_attempt = 0", &err), 0);
    before = (int64_t)time(NULL);
    assert_counts(deliver(f), 0, 0, 1);

    r = read_row(f, id);
    assert_int_equal(r.attempts, 2);
    assert_true(r.next_attempt >= before + 108);
    assert_true(r.next_attempt <= (int64_t)time(NULL) + 120);
}

static void test_backoff_is_capped_at_retry_max(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};
    int64_t id = enqueue(f, &m);
    int64_t before;
    struct row r;

    f->cfg.retry_max = 100;
    point_at_dead_port(f);
    assert_int_equal(
        store_exec(f->store, "UPDATE outbox SET attempts = 9", &err), 0);
    before = (int64_t)time(NULL);
    assert_counts(deliver(f), 0, 0, 1);

    r = read_row(f, id);
    assert_int_equal(r.attempts, 10);
    assert_true(r.next_attempt >= before + 90);
    assert_true(r.next_attempt <= (int64_t)time(NULL) + 100);
}

static void test_smtp_550_fails_with_server_words(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    struct row r;

    start_server(f, "--reject-rcpt", "550");
    assert_counts(deliver(f), 0, 1, 0);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 0);

    r = read_row(f, id);
    assert_string_equal(r.status, "failed");
    assert_int_equal(r.attempts, 1);
    assert_string_equal(
        r.last_error, "550 5.1.1 Mailbox unavailable (refused by test server)");
    assert_false(r.has_sent_at);
    assert_counts(deliver(f), 0, 0, 0);
}

static void test_smtp_451_defers_with_server_words(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    struct row r;

    start_server(f, "--fail-data", "451");
    assert_counts(deliver(f), 0, 0, 1);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 0);

    r = read_row(f, id);
    assert_string_equal(r.status, "pending");
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.last_error,
                        "451 4.3.0 Temporary failure requested by test server");
    assert_true(r.next_attempt > (int64_t)time(NULL));
}

static void test_smtp_dropped_connection_defers(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    struct row r;

    start_server(f, "--drop-data", NULL);
    assert_counts(deliver(f), 0, 0, 1);
    r = read_row(f, id);
    assert_string_equal(r.status, "pending");
    assert_int_equal(r.attempts, 1);
    assert_string_not_equal(r.last_error, "");
}

static void test_smtp_authenticates_with_configured_user(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    char path[200];
    size_t len;
    char *env;

    enqueue(f, &m);
    start_server(f, "--auth", "kiosk:s3cret-pass");
    snprintf(f->cfg.smtp_username, sizeof(f->cfg.smtp_username), "kiosk");
    snprintf(f->cfg.smtp_password, sizeof(f->cfg.smtp_password), "s3cret-pass");
    assert_counts(deliver(f), 1, 0, 0);
    snprintf(path, sizeof(path), "%s/1.env", f->received);
    env = read_file(path, &len);
    assert_non_null(strstr(env, "\nAUTH kiosk\n"));
    free(env);
}

/* The server's port as the config names it, for expected messages. */
static const char *server_url(struct fixture *f)
{
    return f->cfg.smtp_url;
}

static void test_smtp_wrong_password_fails_naming_the_config(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    char expected[DK_ERROR_MAX];
    struct row r;

    start_server(f, "--auth", "kiosk:s3cret-pass");
    snprintf(f->cfg.smtp_username, sizeof(f->cfg.smtp_username), "kiosk");
    snprintf(f->cfg.smtp_password, sizeof(f->cfg.smtp_password), "wrong-pass");
    assert_counts(deliver(f), 0, 1, 0);
    r = read_row(f, id);
    assert_string_equal(r.status, "failed");
    assert_int_equal(r.attempts, 1);
    snprintf(expected, sizeof(expected),
             "the server at %s refused the login of [mail] username = kiosk "
             "(535 5.7.8 Authentication credentials invalid); check [mail] "
             "username and password, then run dropkioskctl outbox retry",
             server_url(f));
    assert_string_equal(r.last_error, expected);
    assert_null(strstr(r.last_error, "wrong-pass"));
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 0);
}

static void test_smtp_starttls_required_but_not_offered_fails(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    char expected[DK_ERROR_MAX];
    struct row r;

    start_server(f, NULL, NULL);
    f->cfg.starttls = DK_STARTTLS_REQUIRED;
    assert_counts(deliver(f), 0, 1, 0);
    r = read_row(f, id);
    assert_string_equal(r.status, "failed");
    snprintf(expected, sizeof(expected),
             "the server at %s does not offer STARTTLS, and [mail] starttls = "
             "required; fix the server or the config, then run dropkioskctl "
             "outbox retry",
             server_url(f));
    assert_string_equal(r.last_error, expected);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 0);
}

static void test_smtp_url_credentials_are_not_shown(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);
    char url[64];
    char expected[DK_ERROR_MAX];

    start_server(f, NULL, NULL);
    snprintf(url, sizeof(url), "%.63s", f->cfg.smtp_url);
    snprintf(f->cfg.smtp_url, sizeof(f->cfg.smtp_url), "smtp://kiosk:pa55@%s",
             url + strlen("smtp://"));
    f->cfg.starttls = DK_STARTTLS_REQUIRED;
    assert_counts(deliver(f), 0, 1, 0);
    snprintf(expected, sizeof(expected),
             "the server at %s does not offer STARTTLS, and [mail] starttls = "
             "required; fix the server or the config, then run dropkioskctl "
             "outbox retry",
             url);
    assert_string_equal(read_row(f, id).last_error, expected);
}

/* A server that stalls after the final dot, longer than [mail] timeout:
 * the attempt times out, and the connection is cut rather than QUIT, so
 * the server (which only saves once the stall is over) keeps nothing and
 * the retry is the only copy. */
static void test_smtp_timeout_defers_and_server_keeps_nothing(void **state)
{
    static const char *const flags[] = {"--stall", "end", "--stall-seconds",
                                        "2", "--faults", "1", NULL};
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};
    int64_t id = enqueue(f, &m);
    char expected[DK_ERROR_MAX];
    struct row r;

    start_server_flags(f, flags);
    f->cfg.smtp_timeout = 1;
    assert_counts(deliver(f), 0, 0, 1);
    r = read_row(f, id);
    assert_string_equal(r.status, "pending");
    assert_int_equal(r.attempts, 1);
    snprintf(expected, sizeof(expected),
             "the server at %s did not answer within [mail] timeout = 1 s "
             "(server response timeout)",
             server_url(f));
    assert_string_equal(r.last_error, expected);
    /* Past the stall: a server still holding the connection would have
     * saved the message by now. */
    sleep(3);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 0);

    assert_int_equal(
        store_exec(f->store, "UPDATE outbox SET next_attempt = 0", &err), 0);
    assert_counts(deliver(f), 1, 0, 0);
    assert_int_equal(count_files(f->received, ".eml", NULL, 0), 1);
    assert_int_equal(read_row(f, id).attempts, 2);
}

/* With attempts already at 3, the fourth try waits
 * min(60 * 2^3, 3600) = 480 s less up to 10% jitter: 432 to 480 s. */
static void test_backoff_fourth_attempt_waits_432_to_480_seconds(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};
    int64_t id = enqueue(f, &m);
    int64_t before, after;
    struct row r;

    point_at_dead_port(f);
    assert_int_equal(
        store_exec(f->store, "UPDATE outbox SET attempts = 3", &err), 0);
    before = (int64_t)time(NULL);
    assert_counts(deliver(f), 0, 0, 1);
    after = (int64_t)time(NULL);

    r = read_row(f, id);
    assert_int_equal(r.attempts, 4);
    assert_true(r.next_attempt >= before + 432);
    assert_true(r.next_attempt <= after + 480);
}

/* Thirty messages deferred in one round with retry_base 1000: each waits
 * 900 to 1000 s, and the jitter spreads them (all thirty equal would be a
 * 1 in 101^29 chance if the jitter were applied). */
static void test_backoff_jitter_spreads_retries(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t first = 0;
    int64_t before, after;
    bool spread = false;

    f->cfg.retry_base = 1000;
    f->cfg.retry_max = 100000;
    for (int i = 0; i < 30; i++)
        enqueue(f, &m);
    point_at_dead_port(f);
    before = (int64_t)time(NULL);
    assert_counts(deliver(f), 0, 0, 30);
    after = (int64_t)time(NULL);
    for (int64_t id = 1; id <= 30; id++) {
        struct row r = read_row(f, id);

        assert_true(r.next_attempt >= before + 900);
        assert_true(r.next_attempt <= after + 1000);
        if (id == 1)
            first = r.next_attempt;
        spread = spread || r.next_attempt != first;
    }
    assert_true(spread);
}

/* ---- outbox_retry ------------------------------------------------------ */

static int64_t failed_message(struct fixture *f)
{
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);

    start_server(f, "--reject-rcpt", "550");
    assert_counts(deliver(f), 0, 1, 0);
    return id;
}

static void test_retry_puts_failed_message_back_and_audits(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {""};
    int64_t id = failed_message(f);
    int count = -1;
    struct row r;
    sqlite3_stmt *st = NULL;

    assert_int_equal(outbox_retry(f->store, &id, 1, false, "cli", &count, &err),
                     0);
    assert_int_equal(count, 1);
    r = read_row(f, id);
    assert_string_equal(r.status, "pending");
    assert_int_equal(r.attempts, 0);
    assert_string_equal(r.last_error, "");
    assert_true(r.next_attempt <= (int64_t)time(NULL));

    assert_int_equal(store_prepare(f->store,
                                   "SELECT actor, action, subject, details "
                                   "FROM audit",
                                   &st, &err),
                     0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "cli");
    assert_string_equal((const char *)sqlite3_column_text(st, 1),
                        "outbox retry");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "1");
    assert_string_equal(
        (const char *)sqlite3_column_text(st, 3),
        "was failed after 1 attempts: 550 5.1.1 Mailbox unavailable "
        "(refused by test server)");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void test_retry_refuses_sent_message_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};
    int64_t failed = failed_message(f);
    int64_t sent;
    int64_t ids[2];

    kill(f->server, SIGTERM);
    waitpid(f->server, NULL, 0);
    f->server = -1;
    sent = enqueue(f, &m);
    start_server(f, NULL, NULL);
    assert_counts(deliver(f), 1, 0, 0);
    ids[0] = failed;
    ids[1] = sent;
    assert_int_equal(outbox_retry(f->store, ids, 2, false, "cli", NULL, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "outbox: message 2 is sent, not failed; only "
                                 "failed messages can be retried");
    assert_string_equal(read_row(f, failed).status, "failed");
    assert_int_equal(count_rows(f, "audit"), 0);
}

static void test_retry_refuses_unknown_id(void **state)
{
    struct fixture *f = *state;
    struct dk_error err = {""};
    int64_t id = 42;

    assert_int_equal(outbox_retry(f->store, &id, 1, false, "cli", NULL, &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "outbox: there is no message 42");
}

static void test_retry_all_failed_takes_only_failed_rows(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    struct dk_error err = {""};
    int count = -1;

    failed_message(f);
    enqueue(f, &m);
    enqueue(f, &m);
    assert_counts(deliver(f), 0, 2, 0);
    enqueue(f, &m);
    assert_int_equal(outbox_retry(f->store, NULL, 0, true, "cli", &count, &err),
                     0);
    assert_int_equal(count, 3);
    assert_string_equal(read_row(f, 1).status, "pending");
    assert_string_equal(read_row(f, 3).status, "pending");
    assert_int_equal(read_row(f, 4).attempts, 0);
    assert_int_equal(count_rows(f, "audit"), 3);
}

static void test_non_smtp_url_defers(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    int64_t id = enqueue(f, &m);

    f->cfg.transport = DK_MAIL_SMTP;
    snprintf(f->cfg.smtp_url, sizeof(f->cfg.smtp_url), "file:///etc/passwd");
    assert_counts(deliver(f), 0, 0, 1);
    assert_string_equal(read_row(f, id).last_error,
                        "the [mail] url must start smtp:// or smtps://");
}

/* ---- listing ----------------------------------------------------------- */

static char *list_output(struct fixture *f, bool csv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct dk_error err = {""};

    assert_non_null(out);
    assert_int_equal(outbox_list(f->store, out, csv, &err), 0);
    fclose(out);
    return buf;
}

static void test_list_csv_quotes_and_joins_recipients(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    char *text;

    enqueue(f, &m);
    deliver(f);
    text = list_output(f, true);
    assert_string_equal(
        text, "id,status,attempts,next_attempt,recipients,subject,last_error\n"
              "1,sent,1,,ann.lee@rps.example.org principal@rps.example.org,"
              "\"Return receipt, RPS123456\",\n");
    free(text);
}

static void test_list_csv_shows_failure_reason(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    char *text;

    m.cc = NULL;
    m.subject = "Ticket";
    enqueue(f, &m);
    start_server(f, "--reject-rcpt", "550");
    deliver(f);
    text = list_output(f, true);
    assert_string_equal(
        text, "id,status,attempts,next_attempt,recipients,subject,last_error\n"
              "1,failed,1,,ann.lee@rps.example.org,Ticket,"
              "550 5.1.1 Mailbox unavailable (refused by test server)\n");
    free(text);
}

static void test_list_table_has_header_and_row(void **state)
{
    struct fixture *f = *state;
    struct dk_mail m = receipt_mail();
    char *text;

    enqueue(f, &m);
    deliver(f);
    text = list_output(f, false);
    assert_memory_equal(
        text,
        "    ID  STATUS   ATTEMPTS  NEXT ATTEMPT (UTC)    RECIPIENTS       "
        "                 SUBJECT                           LAST ERROR\n"
        "     1  sent            1  -                     ann.lee@rps.exam"
        "ple.org, prin...  Return receipt, RPS123456         \n",
        strlen(text) + 1);
    free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_enqueue_stores_pending_row),
        T(test_enqueue_makes_message_id_from_row_id),
        T(test_enqueue_outside_transaction_is_refused),
        T(test_enqueue_refusal_keeps_callers_transaction),
        T(test_spool_delivery_writes_one_file_in_new_and_marks_sent),
        T(test_second_delivery_round_sends_nothing_more),
        T(test_spool_creates_maildir_folders),
        T(test_smtp_delivery_reaches_server_with_envelope),
        T(test_smtp_sends_each_message_once),
        T(test_smtp_server_down_defers_with_backoff),
        T(test_deferred_message_waits_for_next_attempt),
        T(test_second_deferral_doubles_the_wait),
        T(test_backoff_is_capped_at_retry_max),
        T(test_smtp_550_fails_with_server_words),
        T(test_smtp_451_defers_with_server_words),
        T(test_smtp_dropped_connection_defers),
        T(test_smtp_authenticates_with_configured_user),
        T(test_smtp_wrong_password_fails_naming_the_config),
        T(test_smtp_starttls_required_but_not_offered_fails),
        T(test_smtp_url_credentials_are_not_shown),
        T(test_smtp_timeout_defers_and_server_keeps_nothing),
        T(test_backoff_fourth_attempt_waits_432_to_480_seconds),
        T(test_backoff_jitter_spreads_retries),
        T(test_retry_puts_failed_message_back_and_audits),
        T(test_retry_refuses_sent_message_and_changes_nothing),
        T(test_retry_refuses_unknown_id),
        T(test_retry_all_failed_takes_only_failed_rows),
        T(test_non_smtp_url_defers),
        T(test_list_csv_quotes_and_joins_recipients),
        T(test_list_csv_shows_failure_reason),
        T(test_list_table_has_header_and_row),
    };

    /* Delivery logs each attempt; the tests read the rows instead. */
    log_set_level(DK_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
