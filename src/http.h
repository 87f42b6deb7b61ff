/* The daemon's web server (libmicrohttpd): the static UI from the UI
 * folder, a JSON API, and a server-sent-events stream that pushes the
 * kiosk's state to the page.
 *
 * One thread per connection: a handler may block on the database, and an
 * event stream waits for events, without holding up other requests.
 * Handlers therefore run on those threads, never on the kiosk's main
 * thread; whatever must reach the visit goes through a queue (see
 * src/kiosk_api.h).
 *
 * Safety at the boundary: a request body is at most [http] max_body bytes
 * (413 beyond), a body that is not JSON gets 400 naming the line and
 * column, static files are served only from inside the UI folder (no "..",
 * no symlink out of it, no dot files), and every reply carries a
 * Content-Security-Policy that allows scripts and styles from the kiosk
 * alone. */
#ifndef DK_HTTP_H
#define DK_HTTP_H

#include "config.h"
#include "error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct dk_http;

struct dk_http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* without the query string */
    json_t *body;        /* a POST's JSON body (an object), or NULL */
    const char *cookie;  /* the value of the cookie named by the route table, or NULL */
    const char *csrf;    /* the X-CSRF-Token header, or NULL */
    const char *query;   /* one query argument the route asked for, or NULL */
    void *conn;          /* the connection, for http_query; opaque */
};

struct dk_http_reply {
    int status;                /* 200 unless set */
    json_t *json;              /* a JSON body (the server takes the reference) */
    char *body;                /* or a malloc'd body of body_len bytes (taken) */
    size_t body_len;
    const char *content_type;  /* for body: "text/csv; charset=utf-8", ... */
    char filename[96];         /* for body: sent as an attachment with this name */
    char set_cookie[320];      /* a whole Set-Cookie value, or "" */
};

typedef void (*dk_http_fn)(void *user, const struct dk_http_request *req,
                           struct dk_http_reply *rep);

struct dk_http_route {
    const char *method;
    const char *path;   /* exact, or ending in '*' for a prefix */
    dk_http_fn fn;
    void *user;         /* passed to fn */
};

#define DK_HTTP_MAX_ROUTES 64

/* The routes served, gathered from each API module (http_add_routes). */
struct dk_http_config {
    struct dk_http_route routes[DK_HTTP_MAX_ROUTES];
    size_t n_routes;
    const char *cookie_name; /* the cookie handlers see in req->cookie */
    const char *query_name;  /* the query argument handlers see in req->query */
};

/* Append n routes, each with user as its handler's context.  -ENOSPC when
 * more than DK_HTTP_MAX_ROUTES in all. */
int http_add_routes(struct dk_http_config *hc, const struct dk_http_route *routes, size_t n,
                    void *user);

/* Start serving cfg's [http] address with the routes of hc (which must
 * outlive the server).  0, or -errno / DK_EINPUT with the reason in err
 * (the address in use, a certificate that cannot be read). */
int http_start(const struct dk_config *cfg, const struct dk_http_config *hc,
               struct dk_http **out, struct dk_error *err);

/* Stop: end every event stream, wait for the connection threads, free.
 * Accepts NULL. */
void http_stop(struct dk_http *h);

/* Send an event to every open event stream (GET /api/events): `event` is
 * the SSE event name, data a JSON value (not taken).  "state" events are
 * also kept, and the newest is sent first to a stream that opens later.
 * Thread-safe. */
void http_publish(struct dk_http *h, const char *event, const json_t *data);

/* The query argument name of req's URL (?name=value, decoded), or NULL
 * when it is absent.  Valid while the handler runs. */
const char *http_query(const struct dk_http_request *req, const char *name);

/* The reply helpers handlers use: a JSON error {"error": MESSAGE} with
 * status, or a JSON body. */
void http_reply_error(struct dk_http_reply *rep, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void http_reply_json(struct dk_http_reply *rep, int status, json_t *json);

#endif
