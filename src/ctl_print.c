/* dropkioskctl printer and reprint.
 *
 *   printer [status] [--printer NAME]
 *       "printer NAME (type T): STATE"; exit 0 when ready, 1 otherwise.
 *   reprint [RECEIPT-ID] --tech ID [--printer NAME] [--pin-stdin]
 *       a technician prints a receipt again (by default the newest one made
 *       at this kiosk): the printer is asked first and nothing is sent
 *       unless it is ready.
 *
 * Without --printer both use the config's first [printer NAME], the
 * kiosk's own.  A name the config does not have, or no printer at all, is
 * bad usage (2).
 *
 * Every reprint attempt that reaches the printer stage is kept: a row in
 * `prints` (outcome printed or failed, with the reason) and an audit row,
 * "receipt reprinted" or "receipt reprint failed", in one transaction.  A
 * printer that answers paper out is a failed attempt too, so the record
 * shows a technician tried and why nothing came out. */
#include "ctl.h"

#include "receipt_printer.h"

#include "audit.h"
#include "printer.h"
#include "slip.h"
#include "tech.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>


/* The printer --printer names, else the first.  NULL with the reason
 * printed (exit 2). */
static const struct dk_printer_config *pick_printer(const struct dk_ctl *c)
{
    const struct dk_config *cfg = &c->cfg;
    char names[DK_MAX_PRINTERS * 70] = "";
    size_t used = 0;

    if (cfg->n_printers == 0) {
        fprintf(stderr, "dropkioskctl: no printer is configured in %s: add a [printer NAME] "
                "section\n", cfg->path);
        return NULL;
    }
    if (c->opt.printer == NULL)
        return &cfg->printers[0];
    for (int i = 0; i < cfg->n_printers; i++) {
        if (strcmp(cfg->printers[i].name, c->opt.printer) == 0)
            return &cfg->printers[i];
        used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                 cfg->printers[i].name);
    }
    fprintf(stderr, "dropkioskctl: no printer '%s' in %s (it has: %s)\n", c->opt.printer,
            cfg->path, names);
    return NULL;
}

/* Open pc and ask its state; a printer that cannot be opened is not
 * answering, with the reason in err. */
static enum dk_printer_state ask_state(const struct dk_printer_config *pc, struct dk_printer **p,
                                       struct dk_error *err)
{
    enum dk_printer_state state = DK_PRINTER_NO_ANSWER;

    *p = NULL;
    if (printer_open(pc, p, err) != 0)
        return DK_PRINTER_NO_ANSWER;
    printer_query(*p, &state);
    return state;
}

int ctl_printer(struct dk_ctl *c)
{
    const struct dk_printer_config *pc;
    struct dk_printer *p = NULL;
    struct dk_error err = {{0}};
    enum dk_printer_state state;

    if (ctl_only_options(c, "printer", DK_CTL_OPT_PRINTER) != 0)
        return 2;
    if (c->n_args > 2 || (c->n_args == 2 && strcmp(c->args[1], "status") != 0))
        return ctl_bad_usage("printer wants: printer [status] [--printer NAME]");
    pc = pick_printer(c);
    if (pc == NULL)
        return 2;
    state = ask_state(pc, &p, &err);
    printer_close(p);
    if (err.msg[0] != '\0')
        fprintf(stderr, "dropkioskctl: %s\n", err.msg);
    printf("printer %s (type %s): %s\n", pc->name, printer_kind_name(pc->kind),
           printer_state_name(state));
    return state == DK_PRINTER_READY ? 0 : 1;
}

/* ---- reprint ------------------------------------------------------------ */

/* The prints row and its audit row, together.  reason NULL: printed.
 * prints.actor is the technician's id; the audit row's actor is written
 * "tech:ID" as every technician's audit row is. */
static int record(struct dk_store *store, const char *receipt_id, const char *printer,
                  const char *tech_id, const char *reason, struct dk_error *err)
{
    char actor[32];
    struct dk_print_attempt a = {
        .receipt_id = receipt_id,
        .printer = printer,
        .actor = tech_id,
        .audit_actor = actor,
        .reprint = true,
        .reason = reason,
    };

    snprintf(actor, sizeof(actor), "tech:%s", tech_id);
    return receipt_printer_record(store, &a, err);
}

/* Ask, then print.  0, or 3 with why in reason (for the record) and the
 * message printed. */
static int print_slip(const struct dk_printer_config *pc, const struct dk_slip *slip,
                      char *reason, size_t size)
{
    struct dk_printer *p = NULL;
    struct dk_error err = {{0}};
    enum dk_printer_state state = ask_state(pc, &p, &err);
    int rc = 0;

    if (state != DK_PRINTER_READY) {
        if (err.msg[0] != '\0')
            fprintf(stderr, "dropkioskctl: %s\n", err.msg);
        fprintf(stderr, "dropkioskctl: printer %s: %s; nothing printed\n", pc->name,
                printer_state_name(state));
        snprintf(reason, size, "%s", printer_state_name(state));
        rc = 3;
    } else if (printer_print(p, slip, &err) != 0) {
        fprintf(stderr, "dropkioskctl: %s\n", err.msg);
        snprintf(reason, size, "%s", err.msg);
        rc = 3;
    }
    printer_close(p);
    return rc;
}

/* The receipt to print: the one named, else this kiosk's newest. */
static int load_slip(struct dk_ctl *c, struct dk_store *store, struct dk_slip_doc *doc)
{
    struct dk_error err = {{0}};
    char newest[DK_RECEIPT_ID_SIZE];
    const char *id = c->n_args == 2 ? c->args[1] : NULL;
    int rc = 0;

    if (id == NULL) {
        rc = slip_newest(store, &c->cfg, newest, &err);
        id = newest;
    }
    if (rc == 0)
        rc = slip_load(store, &c->cfg, id, doc, &err);
    return rc != 0 ? ctl_fail(rc, &err) : 0;
}

int ctl_reprint(struct dk_ctl *c)
{
    const struct dk_printer_config *pc;
    struct dk_slip_doc doc = {0};
    struct dk_error err = {{0}};
    struct dk_store *store = NULL;
    struct dk_tech tech;
    char pin[DK_CTL_PIN_MAX] = "";
    char reason[DK_ERROR_MAX] = "";
    int rc;

    if (ctl_only_options(c, "reprint", DK_CTL_OPT_TECH | DK_CTL_OPT_PIN_STDIN |
                                           DK_CTL_OPT_PRINTER) != 0)
        return 2;
    if (c->n_args > 2 || c->opt.tech == NULL)
        return ctl_bad_usage(
            "reprint wants: reprint [RECEIPT-ID] --tech ID [--printer NAME] [--pin-stdin]");
    pc = pick_printer(c);
    if (pc == NULL)
        return 2;
    rc = ctl_open_store(c, true, &store);
    if (rc != 0)
        goto out;

    /* A receipt that is not there is said before the PIN is asked, so a
     * mistyped id records no login. */
    rc = load_slip(c, store, &doc);
    if (rc == 0)
        rc = ctl_read_pin(c, pin, sizeof(pin));
    if (rc == 0)
        rc = ctl_login(store, c, pin, &tech);
    if (rc != 0)
        goto out;

    rc = print_slip(pc, &doc.slip, reason, sizeof(reason));
    if (record(store, doc.receipt_id, pc->name, tech.id, rc == 0 ? NULL : reason, &err) != 0) {
        fprintf(stderr, "dropkioskctl: %s\n", err.msg);
        rc = 3;
    }
    if (rc == 0)
        printf("printed receipt %s on printer %s (%zu device%s)\n", doc.receipt_id, pc->name,
               doc.slip.n_devices, doc.slip.n_devices == 1 ? "" : "s");
out:
    sodium_memzero(pin, sizeof(pin));
    slip_doc_free(&doc);
    store_close(store);
    return rc;
}
