/* A return visit at the kiosk: the state machine from the first scan to the
 * receipt, independent of how scans arrive or where the words are shown.
 *
 * The visit is held in memory until it is finished (DONE and the identity
 * questions, or the idle timeout); then every return, the receipt, its
 * audit rows and any queued mail are written in one transaction, and only
 * after that commit does the kiosk say the devices are received. */
#ifndef DK_SESSION_H
#define DK_SESSION_H

#include "config.h"
#include "i18n.h"
#include "receipt_printer.h"
#include "scan.h"
#include "store.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <time.h>

struct dk_session;

struct dk_session_deps {
    const struct dk_config *cfg;
    struct dk_store *store;
    const struct dk_scan_rules *rules;
    const unsigned char *signing_key; /* crypto_sign_SECRETKEYBYTES */
    /* The terminal view: where a person at the terminal reads the kiosk;
     * NULL for none (stdout is the journal, and the screen is the
     * browser's).  The view for the screen is kept either way. */
    FILE *out;
    /* The words in [kiosk] language; a visit may switch to any of
     * catalogs (every catalog of the folder, loaded once) at its start. */
    const struct dk_catalog *catalog;
    struct dk_catalog *const *catalogs;
    size_t n_catalogs;
    /* The receipt printer, or NULL for none. */
    struct dk_receipt_printer *printer;
    /* Called after a commit that queued mail (may be NULL). */
    void (*mail_queued)(void *user);
    void *user;
};

/* A new session at the start screen.  NULL when out of memory. */
struct dk_session *session_new(const struct dk_session_deps *deps);

/* Free; accepts NULL.  An unfinished visit is dropped (nothing of it was
 * acknowledged as received). */
void session_free(struct dk_session *s);

/* Show the start prompt. */
void session_start(struct dk_session *s);

/* Handle one scan or typed line from the scanner named source.  overflow
 * marks input longer than the scanner keeps; symbology is what the scanner
 * reported beside the text (see scan_classify_from), or NULL.  now is CLOCK_MONOTONIC
 * seconds (for the idle timeout; receipts take the wall clock). */
void session_input(struct dk_session *s, const char *text, size_t len, bool overflow,
                   const char *source, const char *symbology, time_t now);

/* Advance the idle clock (now as in session_input).  After the configured
 * idle time, an open visit
 * with answered devices is finished without a name (the devices may be in
 * the bin already), anything else is cleared, and the start prompt shown. */
void session_tick(struct dk_session *s, time_t now);

/* What the kiosk screen shows now, as JSON for the web UI:
 *   screen   start | charger | next | identity | email | leader | print |
 *            receipt (a visit just finished, until the next input)
 *   lang     the visit's language code
 *   devices  [{tag, type, type_name, model, known, charger, desktop}]
 *   pending  the device whose charger question is open, or null
 *   lines    [{key, text}]: what the kiosk said since the last input, in
 *            the visit's language (key names the catalog text)
 *   receipt  {id, qr: a PNG data URI} on the receipt screen, else null
 *   email_offered, leader_offered, idle_timeout
 * Nothing in it names a person: devices show type and model only.  A new
 * reference (the caller decrefs); NULL when out of memory. */
json_t *session_view(const struct dk_session *s);

/* Switch the visit's language at the start screen (from a touch on the
 * screen's language list); now as in session_input.  false when a visit
 * is under way or the catalog folder has no loadable catalog for code. */
bool session_set_language(struct dk_session *s, const char *code, time_t now);

/* true when the last visit could not be recorded (the database refused
 * the write): the screen shows the kiosk out of service. */
bool session_out_of_service(const struct dk_session *s);

/* A touch that answers nothing (the idle warning's "I'm still here"):
 * the idle time starts again; now as in session_input. */
void session_touch(struct dk_session *s, time_t now);

/* true while a visit is open (anything past the start prompt). */
bool session_busy(const struct dk_session *s);

/* Seconds until session_tick has something to do, or -1 when idle. */
int session_timeout_in(const struct dk_session *s, time_t now);

/* The kiosk is stopping: record the answered devices of an open visit
 * without a name (as the idle timeout does), so that nothing the screen
 * acknowledged is lost.  A no-op when no device was answered. */
void session_flush(struct dk_session *s);

#endif
