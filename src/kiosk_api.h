/* The kiosk screen's API: what the page may ask and do.
 *
 *   GET  /api/state      the screen's view now (session_view), also pushed
 *                        as "state" events on GET /api/events
 *   GET  /api/health     {scanner, printer, mail_queue, database}
 *   GET  /api/languages  [{code, name}] the catalogs the screen may offer
 *   POST /api/input      {"answer": "yes"|"no"|"done"|"skip"|"cancel"}, or
 *                        {"text": "104233"} typed on the screen, or
 *                        {"language": "es"} at the start screen, or
 *                        {"still_here": true} (the idle warning's button:
 *                        restarts the idle time, changes nothing else)
 *
 * Inputs are queued for the kiosk's main thread (which owns the visit) and
 * answered 202; their effect arrives as a "state" event. */
#ifndef DK_KIOSK_API_H
#define DK_KIOSK_API_H

#include "config.h"
#include "error.h"
#include "http.h"

#include <jansson.h>
#include <stdbool.h>

#define DK_SCREEN_TEXT_MAX 256

/* One input from the screen, for the main thread. */
struct dk_screen_input {
    char text[DK_SCREEN_TEXT_MAX + 1]; /* an answer word, or typed text */
    char language[16];                 /* or a language to switch to */
    bool still_here;                   /* or only a touch */
};

/* The health the screen shows. */
struct dk_kiosk_health {
    bool scanner;   /* at least one scanner connected */
    bool printer;   /* a printer configured and in service */
    bool has_printer;
    int mail_queue; /* messages waiting in the outbox */
    bool database;  /* the last write worked */
};

struct dk_kiosk_api;

struct dk_catalog;

/* Start the API's queue (an eventfd the main loop polls) and its routes,
 * which http_start serves.  catalogs (n_catalogs, the daemon's, which must
 * outlive the API) are the languages the screen offers.  0 or -errno. */
int kiosk_api_new(const struct dk_config *cfg, struct dk_catalog *const *catalogs,
                  size_t n_catalogs, struct dk_kiosk_api **out, struct dk_error *err);
void kiosk_api_free(struct dk_kiosk_api *api);

/* Add the screen's routes to hc (for http_start).  0 or -ENOSPC. */
int kiosk_api_routes(struct dk_kiosk_api *api, struct dk_http_config *hc);

/* The descriptor that is readable while inputs wait. */
int kiosk_api_fd(const struct dk_kiosk_api *api);

/* Take the next waiting input; false when none.  Main thread only. */
bool kiosk_api_next(struct dk_kiosk_api *api, struct dk_screen_input *in);

/* Keep the view (taken: the API owns the reference) for GET /api/state
 * and push it to the event streams of h (may be NULL). */
void kiosk_api_set_state(struct dk_kiosk_api *api, struct dk_http *h, json_t *view);

/* Keep the health for GET /api/health and push it as a "health" event
 * when it changed. */
void kiosk_api_set_health(struct dk_kiosk_api *api, struct dk_http *h,
                          const struct dk_kiosk_health *health);

#endif
