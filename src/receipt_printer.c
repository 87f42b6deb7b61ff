#include "receipt_printer.h"

#include "audit.h"
#include "log.h"
#include "slip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dk_receipt_printer {
    const struct dk_config *cfg;
    const struct dk_printer_config *pc;
    bool in_service;
    enum dk_printer_state state;
    time_t last_try; /* monotonic seconds of the last query while out of service */
};

static time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

int receipt_printer_new(const struct dk_config *cfg, struct dk_receipt_printer **out)
{
    struct dk_receipt_printer *rp;

    *out = NULL;
    if (cfg->n_printers == 0 || cfg->print == DK_PRINT_NEVER)
        return 0;
    rp = calloc(1, sizeof(*rp));
    if (rp == NULL)
        return -ENOMEM;
    rp->cfg = cfg;
    rp->pc = &cfg->printers[0];
    rp->in_service = true;
    rp->state = DK_PRINTER_READY;
    *out = rp;
    return 0;
}

void receipt_printer_free(struct dk_receipt_printer *rp)
{
    free(rp);
}

bool receipt_printer_in_service(const struct dk_receipt_printer *rp)
{
    return rp->in_service;
}

const char *receipt_printer_name(const struct dk_receipt_printer *rp)
{
    return rp->pc->name;
}

/* The one place the service state changes, so each change is logged once. */
static void set_state(struct dk_receipt_printer *rp, enum dk_printer_state state,
                      const char *why)
{
    bool ready = state == DK_PRINTER_READY;

    if (rp->in_service && !ready)
        log_warn("receipt printer %s out of service: %s", rp->pc->name,
                 why != NULL ? why : printer_state_name(state));
    else if (!rp->in_service && ready)
        log_info("receipt printer %s is ready again", rp->pc->name);
    rp->in_service = ready;
    rp->state = state;
    if (!ready)
        rp->last_try = mono_now();
}

static enum dk_printer_state ask(const struct dk_printer_config *pc)
{
    struct dk_error err = {{0}};
    struct dk_printer *p = NULL;
    enum dk_printer_state state = DK_PRINTER_NO_ANSWER;

    if (printer_open(pc, &p, &err) != 0) {
        log_debug("cannot open printer %s: %s", pc->name, err.msg);
        return DK_PRINTER_NO_ANSWER;
    }
    printer_query(p, &state);
    printer_close(p);
    return state;
}

bool receipt_printer_ready(struct dk_receipt_printer *rp, enum dk_printer_state *state)
{
    if (rp->in_service)
        set_state(rp, ask(rp->pc), NULL);
    if (state != NULL)
        *state = rp->state;
    return rp->in_service;
}


static const char *action(const struct dk_print_attempt *a)
{
    if (a->reprint)
        return a->reason == NULL ? "receipt reprinted" : "receipt reprint failed";
    return a->reason == NULL ? "receipt printed" : "receipt print failed";
}

int receipt_printer_record(struct dk_store *store, const struct dk_print_attempt *a,
                           struct dk_error *err)
{
    sqlite3_stmt *st = NULL;
    char now[32], details[DK_ERROR_MAX + 96];
    int rc;

    store_utc_now(now, sizeof(now));
    snprintf(details, sizeof(details), "printer=%s%s%s", a->printer,
             a->reason != NULL ? " reason=" : "", a->reason != NULL ? a->reason : "");
    rc = store_begin(store, err);
    if (rc == 0)
        rc = store_prepare(store,
                           "INSERT INTO prints (receipt_id, printer, at, actor, outcome, reason) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           &st, err);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, a->receipt_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->printer, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->reason == NULL ? "printed" : "failed", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, a->reason == NULL ? "" : a->reason, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = dk_error_set(err, DK_EDB, "cannot record the print of %s: %s", a->receipt_id,
                              sqlite3_errmsg(store->db));
        sqlite3_finalize(st);
    }
    if (rc == 0)
        rc = audit_append(store, a->audit_actor, action(a), a->receipt_id, details, err);
    if (rc == 0)
        rc = store_commit(store, err);
    if (rc != 0)
        store_rollback(store);
    return rc;
}

int receipt_printer_print(struct dk_receipt_printer *rp, struct dk_store *store,
                          const char *receipt_id, const char *actor, struct dk_error *err)
{
    struct dk_slip_doc doc;
    struct dk_printer *p = NULL;
    struct dk_error rec = {{0}};
    int rc = slip_load(store, rp->cfg, receipt_id, &doc, err);

    if (rc != 0)
        return rc;
    rc = printer_open(rp->pc, &p, err);
    if (rc == 0)
        rc = printer_print(p, &doc.slip, err);
    printer_close(p);
    slip_doc_free(&doc);
    if (rc != 0)
        set_state(rp, DK_PRINTER_NO_ANSWER, err->msg);
    struct dk_print_attempt a = {
        .receipt_id = receipt_id,
        .printer = rp->pc->name,
        .actor = actor,
        .audit_actor = actor,
        .reason = rc == 0 ? NULL : err->msg,
    };

    if (receipt_printer_record(store, &a, &rec) != 0) {
        log_error("%s", rec.msg);
        if (rc == 0)
            *err = rec;
        return rc == 0 ? DK_EDB : rc;
    }
    return rc;
}

void receipt_printer_tick(struct dk_receipt_printer *rp, time_t now)
{
    if (rp == NULL || rp->in_service || now - rp->last_try < rp->pc->recheck_seconds)
        return;
    set_state(rp, ask(rp->pc), NULL);
    rp->last_try = now;
}

int receipt_printer_timeout_in(const struct dk_receipt_printer *rp, time_t now)
{
    time_t left;

    if (rp == NULL || rp->in_service)
        return -1;
    left = rp->last_try + rp->pc->recheck_seconds - now;
    return left > 0 ? (int)left : 0;
}
