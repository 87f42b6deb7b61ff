/* The technician console's API (/tech): login with badge and PIN, then
 * intake, disposition, clean-out, the e-waste manifest, reports, the
 * outbox and the audit trail, over the same database as dropkioskctl.
 *
 * A login gives a session cookie (HttpOnly, SameSite=Strict, expiring
 * after [http] tech_session_minutes without use) and a CSRF token that
 * every change must carry in X-CSRF-Token. */
#ifndef DK_TECH_API_H
#define DK_TECH_API_H

#include "config.h"
#include "error.h"
#include "http.h"

#define DK_TECH_COOKIE "dk_tech"

struct dk_tech_api;

/* 0 or -errno / DK_EDB with the reason in err. */
int tech_api_new(const struct dk_config *cfg, struct dk_tech_api **out, struct dk_error *err);

/* Free (logging every session out); accepts NULL. */
void tech_api_free(struct dk_tech_api *api);

/* Call fn(user) after every change the console makes (a receive queues a
 * confirmation email, a retry puts mail back): the daemon wakes its mail
 * worker with it.  fn must be thread-safe. */
void tech_api_on_change(struct dk_tech_api *api, void (*fn)(void *user), void *user);

/* Add the console's routes to hc.  0 or -ENOSPC. */
int tech_api_routes(struct dk_tech_api *api, struct dk_http_config *hc);

#endif
