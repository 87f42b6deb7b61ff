/* References:
 *   RFC 9110  HTTP semantics (status codes, Content-Type)
 *   RFC 6265  cookies (the console's HttpOnly, SameSite=Strict session)
 *   HTML Living Standard, "Server-sent events" (the text/event-stream format)
 */
#include "http.h"

#include "fileio.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef DK_UI_DIR
#define DK_UI_DIR "/usr/share/dropkiosk/ui"
#endif

#define EVENT_RING 64      /* events an event stream may fall behind by */
/* Event streams hold their connection for as long as the page is open: a
 * kiosk has one or two, so they are capped well below the connection
 * limit, leaving room for the screen's inputs and the console. */
#define MAX_STREAMS 16
#define MAX_CONNECTIONS 64
#define KEEPALIVE_SECONDS 15
#define MAX_STATIC (4 * 1024 * 1024)

#define CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; " \
            "script-src 'self'; connect-src 'self'; media-src 'self'; " \
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

struct event {
    unsigned long long seq;
    char *text; /* "event: NAME\ndata: JSON\n\n" */
};

struct dk_http {
    struct MHD_Daemon *mhd;
    const struct dk_http_config *hc;
    char ui_real[PATH_MAX]; /* the UI folder, symlinks resolved */
    size_t max_body;
    char *cert;
    char *key;

    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool stopping;
    int streams;            /* event streams open */
    unsigned long long seq; /* of the newest event */
    struct event ring[EVENT_RING];
    char *state; /* the newest "state" event's text */
};

int http_add_routes(struct dk_http_config *hc, const struct dk_http_route *routes, size_t n,
                    void *user)
{
    if (n > DK_HTTP_MAX_ROUTES - hc->n_routes)
        return -ENOSPC;
    for (size_t i = 0; i < n; i++) {
        hc->routes[hc->n_routes] = routes[i];
        hc->routes[hc->n_routes++].user = user;
    }
    return 0;
}

const char *http_query(const struct dk_http_request *req, const char *name)
{
    if (req->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- replies ----------------------------------------------------------- */

void http_reply_json(struct dk_http_reply *rep, int status, json_t *json)
{
    rep->status = status;
    json_decref(rep->json);
    rep->json = json;
}

void http_reply_error(struct dk_http_reply *rep, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_reply_json(rep, status, json_pack("{s:s}", "error", msg));
}

static void common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result queue_buffer(struct MHD_Connection *conn, int status, char *body,
                                    size_t len, const char *type, bool nocache)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret;

    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", type);
    if (nocache)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, int status, const char *msg)
{
    json_t *j = json_pack("{s:s}", "error", msg);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (text == NULL)
        return MHD_NO;
    return queue_buffer(conn, status, text, strlen(text), "application/json", true);
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, struct dk_http_reply *rep)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    char *text = NULL;
    size_t len = 0;
    const char *type = "application/json";

    if (rep->body != NULL) {
        text = rep->body;
        len = rep->body_len;
        type = rep->content_type != NULL ? rep->content_type : "text/plain; charset=utf-8";
        rep->body = NULL;
    } else {
        text = json_dumps(rep->json != NULL ? rep->json : json_object(), JSON_COMPACT);
        len = text != NULL ? strlen(text) : 0;
    }
    if (text == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (rep->set_cookie[0] != '\0')
        MHD_add_response_header(r, "Set-Cookie", rep->set_cookie);
    if (rep->filename[0] != '\0') {
        char disp[160];

        snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", rep->filename);
        MHD_add_response_header(r, "Content-Disposition", disp);
    }
    ret = MHD_queue_response(conn, (unsigned)(rep->status != 0 ? rep->status : 200), r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- static files ------------------------------------------------------ */

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".wav", "audio/wav"},
        {".woff2", "font/woff2"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

/* Whether url names a file the UI may serve: letters, digits, '-', '_',
 * '.' and '/' only, no segment starting with '.', so no "..", no dot
 * files and nothing to decode. */
static bool static_name_ok(const char *url)
{
    if (url[0] != '/' || strlen(url) > 200)
        return false;
    for (const char *p = url; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
                  *p == '/';

        if (!ok || (p[0] == '/' && (p[1] == '.' || p[1] == '/')))
            return false;
    }
    return true;
}

/* The page for a path a person types: "/" is the kiosk, "/tech" the
 * technician console. */
static const char *page_for(const char *url)
{
    if (strcmp(url, "/") == 0)
        return "/index.html";
    if (strcmp(url, "/tech") == 0 || strcmp(url, "/tech/") == 0)
        return "/tech.html";
    return url;
}

static enum MHD_Result serve_static(struct dk_http *h, struct MHD_Connection *conn,
                                    const char *url)
{
    char path[PATH_MAX], real[PATH_MAX];
    const char *name = page_for(url);
    const char *type = content_type(name);
    size_t len = 0;
    char *data = NULL;
    int rc;

    if (!static_name_ok(name) || type == NULL)
        return queue_error(conn, 404, "no such page");
    if ((size_t)snprintf(path, sizeof(path), "%.3800s%.200s", h->ui_real, name) >= sizeof(path))
        return queue_error(conn, 404, "no such page");
    /* A symlink inside the folder may point anywhere: only what resolves
     * to a file inside the UI folder is served. */
    if (realpath(path, real) == NULL ||
        strncmp(real, h->ui_real, strlen(h->ui_real)) != 0 ||
        real[strlen(h->ui_real)] != '/')
        return queue_error(conn, 404, "no such page");
    rc = file_read_path(real, MAX_STATIC, &data, &len);
    if (rc != 0)
        return queue_error(conn, 404, "no such page");
    return queue_buffer(conn, 200, data, len, type, strcmp(type, "application/json") == 0);
}

/* ---- the event stream -------------------------------------------------- */

struct stream {
    struct dk_http *h;
    unsigned long long next; /* the seq of the next event to send */
    char *pending;           /* text not yet handed to MHD */
    size_t pending_len, pending_off;
};

static char *event_text(const char *event, const json_t *data)
{
    char *json = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    char *text = NULL;

    if (json == NULL)
        return NULL;
    /* JSON_COMPACT output holds no raw newline, so it is one data line. */
    if (asprintf(&text, "event: %s\ndata: %s\n\n", event, json) < 0)
        text = NULL;
    free(json);
    return text;
}

void http_publish(struct dk_http *h, const char *event, const json_t *data)
{
    char *text;
    struct event *slot;

    if (h == NULL)
        return;
    text = event_text(event, data);
    if (text == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    h->seq++;
    slot = &h->ring[h->seq % EVENT_RING];
    free(slot->text);
    slot->seq = h->seq;
    slot->text = text;
    if (strcmp(event, "state") == 0) {
        free(h->state);
        h->state = strdup(text);
    }
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

/* The next text for a stream, under the lock: the event it is due, or the
 * newest state when it fell more than EVENT_RING behind.  NULL when
 * there is nothing new. */
static char *next_text(struct stream *s)
{
    struct dk_http *h = s->h;

    if (s->next > h->seq)
        return NULL;
    if (h->seq - s->next >= EVENT_RING) {
        s->next = h->seq + 1;
        return h->state != NULL ? strdup(h->state) : NULL;
    }
    return strdup(h->ring[s->next++ % EVENT_RING].text);
}

/* Fill buf from the stream, waiting up to KEEPALIVE_SECONDS for an event
 * and sending a comment line when none comes (so a dead client is found
 * and proxies keep the connection). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    struct dk_http *h = s->h;
    size_t n;

    (void)pos;
    if (s->pending == NULL) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += KEEPALIVE_SECONDS;
        pthread_mutex_lock(&h->lock);
        while (!h->stopping && s->next > h->seq &&
               pthread_cond_timedwait(&h->changed, &h->lock, &until) == 0)
            ;
        if (h->stopping) {
            pthread_mutex_unlock(&h->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        s->pending = next_text(s);
        pthread_mutex_unlock(&h->lock);
        if (s->pending == NULL)
            s->pending = strdup(": keepalive\n\n");
        if (s->pending == NULL)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        s->pending_len = strlen(s->pending);
        s->pending_off = 0;
    }
    n = s->pending_len - s->pending_off;
    if (n > max)
        n = max;
    memcpy(buf, s->pending + s->pending_off, n);
    s->pending_off += n;
    if (s->pending_off == s->pending_len) {
        free(s->pending);
        s->pending = NULL;
    }
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;

    pthread_mutex_lock(&s->h->lock);
    s->h->streams--;
    pthread_mutex_unlock(&s->h->lock);
    free(s->pending);
    free(s);
}

static enum MHD_Result serve_events(struct dk_http *h, struct MHD_Connection *conn)
{
    struct stream *s = calloc(1, sizeof(*s));
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (s == NULL)
        return MHD_NO;
    s->h = h;
    pthread_mutex_lock(&h->lock);
    if (h->streams >= MAX_STREAMS) {
        pthread_mutex_unlock(&h->lock);
        free(s);
        return queue_error(conn, 503, "too many event streams are open; try again later");
    }
    h->streams++;
    /* A new stream starts with the newest state, then what follows it. */
    s->next = h->seq + 1;
    if (h->state != NULL) {
        s->pending = strdup(h->state);
        s->pending_len = s->pending != NULL ? strlen(s->pending) : 0;
    }
    pthread_mutex_unlock(&h->lock);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (r == NULL) {
        stream_free(s); /* counts the stream closed again */
        return MHD_NO;
    }
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- requests ---------------------------------------------------------- */

struct upload {
    char *data;
    size_t len;
    bool too_big;
};

static const struct dk_http_route *find_route(const struct dk_http_config *hc,
                                              const char *method, const char *url,
                                              bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < hc->n_routes; i++) {
        const struct dk_http_route *r = &hc->routes[i];
        size_t n = strlen(r->path);
        bool match = r->path[n - 1] == '*' ? strncmp(url, r->path, n - 1) == 0
                                           : strcmp(url, r->path) == 0;

        if (!match)
            continue;
        *path_known = true;
        if (strcmp(r->method, method) == 0)
            return r;
    }
    return NULL;
}

/* A body must say it is JSON: a page on another site can post a plain
 * form or text/plain to the kiosk without the browser asking first, but
 * not application/json. */
static bool json_content_type(struct MHD_Connection *conn)
{
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen("application/json");

    return type != NULL && strncasecmp(type, "application/json", n) == 0 &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static enum MHD_Result run_route(struct dk_http *h, struct MHD_Connection *conn,
                                 const struct dk_http_route *route, const char *method,
                                 const char *url, struct upload *up)
{
    struct dk_http_request req = {.method = method, .path = url, .conn = conn};
    struct dk_http_reply rep = {.status = 200};
    enum MHD_Result ret;

    if (up != NULL && !json_content_type(conn))
        return queue_error(conn, 415, "a request body must be sent as application/json");
    if (up != NULL && up->len > 0) {
        json_error_t jerr;

        req.body = json_loadb(up->data, up->len, JSON_REJECT_DUPLICATES, &jerr);
        if (req.body == NULL || !json_is_object(req.body)) {
            char msg[300];

            if (req.body == NULL)
                snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s",
                         jerr.line, jerr.column, jerr.text);
            else
                snprintf(msg, sizeof(msg), "the request body must be a JSON object");
            json_decref(req.body);
            dk_error_printable(msg);
            return queue_error(conn, 400, msg);
        }
    }
    if (h->hc->cookie_name != NULL)
        req.cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, h->hc->cookie_name);
    if (h->hc->query_name != NULL)
        req.query = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                h->hc->query_name);
    req.csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    route->fn(route->user, &req, &rep);
    json_decref(req.body);
    ret = queue_reply(conn, &rep);
    json_decref(rep.json);
    free(rep.body);
    return ret;
}

/* Gather a body (at most max_body bytes); true while more is coming. */
static bool take_upload(struct dk_http *h, struct upload *up, const char *data, size_t *size)
{
    if (*size == 0)
        return false;
    if (!up->too_big && up->len + *size <= h->max_body) {
        char *grown = realloc(up->data, up->len + *size);

        if (grown != NULL) {
            memcpy(grown + up->len, data, *size);
            up->data = grown;
            up->len += *size;
        } else {
            up->too_big = true;
        }
    } else {
        up->too_big = true;
    }
    *size = 0;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **con_cls)
{
    struct dk_http *h = cls;
    struct upload *up = *con_cls;
    const struct dk_http_route *route;
    bool known = false;
    bool has_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;

    (void)version;
    if (has_body && up == NULL) {
        up = calloc(1, sizeof(*up));
        if (up == NULL)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (has_body && take_upload(h, up, data, size))
        return MHD_YES;
    if (up != NULL && up->too_big) {
        char msg[96];

        snprintf(msg, sizeof(msg), "the request body is over %zu bytes", h->max_body);
        return queue_error(conn, 413, msg);
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/api/events") == 0)
        return serve_events(h, conn);
    route = find_route(h->hc, method, url, &known);
    if (route != NULL)
        return run_route(h, conn, route, method, url, up);
    if (known)
        return queue_error(conn, 405, "method not allowed here");
    if (strncmp(url, "/api/", 5) == 0)
        return queue_error(conn, 404, "no such API");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return queue_error(conn, 405, "method not allowed here");
    return serve_static(h, conn, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct upload *up = *con_cls;

    (void)cls;
    (void)conn;
    (void)why;
    if (up != NULL) {
        /* A body may hold a technician's PIN (POST /api/tech/login). */
        if (up->data != NULL)
            explicit_bzero(up->data, up->len);
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

/* ---- life cycle -------------------------------------------------------- */

static int read_pem(const char *path, const char *what, char **out, struct dk_error *err)
{
    size_t len = 0;
    int rc = file_read_path(path, DK_CONFIG_PEM_MAX, out, &len);

    if (rc != 0)
        return dk_error_set(err, rc, "cannot read [http] %s %s: %s", what, path,
                            strerror(-rc));
    return 0;
}

/* libmicrohttpd's own messages ("Failed to bind to port 8080: Address
 * already in use") would go to stderr bare, with no program or level: they
 * go through our log, as warnings, the refusal that follows them being
 * ours to say. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char what[512];
    size_t len;

    (void)cls;
    if (DK_LOG_WARN > dk_log_threshold)
        return;
    vsnprintf(what, sizeof(what), fmt, ap);
    len = strlen(what);
    while (len > 0 && (what[len - 1] == '\n' || what[len - 1] == '\r'))
        what[--len] = '\0';
    log_warn("screen server: %s", what);
}

static int start_mhd(struct dk_http *h, const struct dk_config *cfg, struct dk_error *err)
{
    struct sockaddr_storage addr;
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_ERROR_LOG;
    bool v6 = strchr(cfg->http_listen, ':') != NULL;

    memset(&addr, 0, sizeof(addr));
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;

        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)cfg->http_port);
        inet_pton(AF_INET6, cfg->http_listen, &a->sin6_addr);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&addr;

        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)cfg->http_port);
        inet_pton(AF_INET, cfg->http_listen, &a->sin_addr);
    }
    if (h->cert != NULL)
        flags |= MHD_USE_TLS;
    h->mhd = MHD_start_daemon(
        flags, (uint16_t)cfg->http_port, NULL, NULL, on_request, h,
        /* First, or MHD says so through its own logger (stderr). */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
        /* The certificate options only with TLS (MHD warns of them otherwise). */
        h->cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
        MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
    if (h->mhd == NULL)
        return dk_error_set(err, -EADDRINUSE,
                            "cannot serve the kiosk screen on %s port %d (in use, or the "
                            "certificate and key do not match)",
                            cfg->http_listen, cfg->http_port);
    return 0;
}

static const char *ui_dir(const struct dk_config *cfg)
{
    return cfg->ui_dir[0] != '\0' ? cfg->ui_dir : DK_UI_DIR;
}

int http_start(const struct dk_config *cfg, const struct dk_http_config *hc,
               struct dk_http **out, struct dk_error *err)
{
    struct dk_http *h = calloc(1, sizeof(*h));
    int rc = 0;

    *out = NULL;
    if (h == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->changed, NULL);
    h->hc = hc;
    h->max_body = (size_t)cfg->http_max_body;
    if (realpath(ui_dir(cfg), h->ui_real) == NULL)
        rc = dk_error_set(err, -errno, "cannot open the kiosk screen's files %s: %s",
                          ui_dir(cfg), strerror(errno));
    if (rc == 0 && cfg->http_cert[0] != '\0')
        rc = read_pem(cfg->http_cert, "certificate", &h->cert, err);
    if (rc == 0 && cfg->http_key[0] != '\0')
        rc = read_pem(cfg->http_key, "key", &h->key, err);
    if (rc == 0)
        rc = start_mhd(h, cfg, err);
    if (rc != 0) {
        http_stop(h);
        return rc;
    }
    *out = h;
    return 0;
}

void http_stop(struct dk_http *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    if (h->mhd != NULL)
        MHD_stop_daemon(h->mhd);
    for (size_t i = 0; i < EVENT_RING; i++)
        free(h->ring[i].text);
    free(h->state);
    if (h->key != NULL)
        explicit_bzero(h->key, strlen(h->key));
    free(h->key);
    free(h->cert);
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
