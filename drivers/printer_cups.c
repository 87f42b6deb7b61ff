/* The CUPS back end: the slip drawn as a PNG (slip_image_png) and queued on
 * an ordinary print queue through libcups, for a receipt printer that has
 * a CUPS driver or any other printer a site wants receipts on.
 *
 * The server is libcups's default: $CUPS_SERVER (a host, host:port or a
 * socket path), else client.conf, else the local scheduler.  The queue's
 * state comes from its IPP attributes (RFC 8011 section 5.4.11-12):
 * printer-state 3 (idle) or 4 (processing) is ready, 5 (stopped) or a
 * queue not accepting jobs is offline, and printer-state-reasons
 * media-empty / media-needed (paper out) and cover-open / door-open
 * (cover open) say more than the state, so they are looked at first.
 * Every exchange is bounded by the config's timeout_ms. */
#include "printer_backend.h"

#include "log.h"

#include <cups/cups.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cups_printer {
    http_t *http;
    char uri[HTTP_MAX_URI];
};

struct queue_state {
    int state; /* IPP printer-state, 0 when not given */
    bool accepting;
    bool paper_out;
    bool cover_open;
    bool offline; /* a reason saying the device cannot be reached */
};

/* A printer-state-reasons keyword, with or without its -error, -warning
 * or -report suffix (RFC 8011 section 5.4.12). */
static bool reason_is(const char *reason, const char *word)
{
    size_t n = strlen(word);

    return strncmp(reason, word, n) == 0 && (reason[n] == '\0' || reason[n] == '-');
}

static void read_reasons(ipp_attribute_t *attr, struct queue_state *qs)
{
    for (int i = 0; attr != NULL && i < ippGetCount(attr); i++) {
        const char *r = ippGetString(attr, i, NULL);

        if (r == NULL)
            continue;
        if (reason_is(r, "media-empty") || reason_is(r, "media-needed"))
            qs->paper_out = true;
        else if (reason_is(r, "cover-open") || reason_is(r, "door-open"))
            qs->cover_open = true;
        else if (reason_is(r, "offline") || reason_is(r, "shutdown"))
            qs->offline = true;
    }
}

/* Ask the queue's attributes.  0, DK_ENOTFOUND when CUPS has no such
 * queue, or -EIO with the reason in err. */
static int ask_queue(struct dk_printer *p, struct queue_state *qs, struct dk_error *err)
{
    static const char *const wanted[] = {"printer-state", "printer-state-reasons",
                                         "printer-is-accepting-jobs"};
    struct cups_printer *c = p->impl;
    ipp_t *req = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
    ipp_t *resp;
    ipp_status_t status;

    memset(qs, 0, sizeof(*qs));
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, c->uri);
    ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  (int)(sizeof(wanted) / sizeof(wanted[0])), NULL, wanted);
    resp = cupsDoRequest(c->http, req, "/"); /* frees req */
    status = cupsLastError();
    if (status == IPP_STATUS_ERROR_NOT_FOUND) {
        ippDelete(resp);
        return dk_error_set(err, DK_ENOTFOUND, "CUPS has no queue '%s'", p->cfg->device);
    }
    if (resp == NULL || status > IPP_STATUS_OK_CONFLICTING) {
        ippDelete(resp);
        return dk_error_set(err, -EIO, "CUPS did not answer about queue '%s': %s",
                            p->cfg->device, cupsLastErrorString());
    }
    qs->state = ippGetInteger(ippFindAttribute(resp, "printer-state", IPP_TAG_ENUM), 0);
    qs->accepting =
        ippGetBoolean(ippFindAttribute(resp, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN), 0);
    read_reasons(ippFindAttribute(resp, "printer-state-reasons", IPP_TAG_KEYWORD), qs);
    ippDelete(resp);
    return 0;
}

static enum dk_printer_state judge(const struct queue_state *qs)
{
    if (qs->paper_out)
        return DK_PRINTER_PAPER_OUT;
    if (qs->cover_open)
        return DK_PRINTER_COVER_OPEN;
    if (qs->state == IPP_PSTATE_STOPPED || !qs->accepting || qs->offline)
        return DK_PRINTER_OFFLINE;
    if (qs->state == IPP_PSTATE_IDLE || qs->state == IPP_PSTATE_PROCESSING)
        return DK_PRINTER_READY;
    return DK_PRINTER_OFFLINE;
}

static int cups_query(struct dk_printer *p, enum dk_printer_state *state)
{
    struct queue_state qs;
    struct dk_error err = {{0}};

    if (ask_queue(p, &qs, &err) != 0) {
        log_warn("printer %s: %s", p->label, err.msg);
        *state = DK_PRINTER_NO_ANSWER;
        return 0;
    }
    *state = judge(&qs);
    if (*state != DK_PRINTER_READY)
        log_debug("printer %s: printer-state %d, %saccepting jobs", p->label, qs.state,
                  qs.accepting ? "" : "not ");
    return 0;
}

/* Hand png to CUPS as job job_id's one document.  0 or -EIO. */
static int send_document(struct dk_printer *p, int job_id, const char *doc_name,
                         const unsigned char *png, size_t len, struct dk_error *err)
{
    struct cups_printer *c = p->impl;
    const char *queue = p->cfg->device;

    if (cupsStartDocument(c->http, queue, job_id, doc_name, "image/png", 1) !=
        HTTP_STATUS_CONTINUE)
        return dk_error_set(err, -EIO, "cannot print on printer %s: CUPS refused the slip: %s",
                            p->label, cupsLastErrorString());
    if (cupsWriteRequestData(c->http, (const char *)png, len) != HTTP_STATUS_CONTINUE) {
        cupsFinishDocument(c->http, queue);
        return dk_error_set(err, -EIO, "cannot print on printer %s: sending the slip to CUPS "
                            "failed: %s", p->label, cupsLastErrorString());
    }
    if (cupsFinishDocument(c->http, queue) > IPP_STATUS_OK_CONFLICTING)
        return dk_error_set(err, -EIO, "cannot print on printer %s: CUPS did not take the "
                            "slip: %s", p->label, cupsLastErrorString());
    return 0;
}

static int cups_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err)
{
    struct cups_printer *c = p->impl;
    unsigned char *png = NULL;
    size_t len = 0;
    char title[128];
    int job_id, rc = printer_slip_png(p, slip, &png, &len, err);

    if (rc != 0)
        return rc;
    snprintf(title, sizeof(title), "Receipt %s", slip->receipt_id);
    job_id = cupsCreateJob(c->http, p->cfg->device, title, 0, NULL);
    if (job_id == 0) {
        rc = dk_error_set(err, -EIO, "cannot print on printer %s: CUPS made no job: %s",
                          p->label, cupsLastErrorString());
        goto out;
    }
    snprintf(title, sizeof(title), "%s.png", slip->receipt_id);
    rc = send_document(p, job_id, title, png, len, err);
    if (rc != 0)
        cupsCancelJob2(c->http, p->cfg->device, job_id, 0);
    else
        log_debug("printer %s: CUPS job %d queued (%zu bytes of PNG)", p->label, job_id, len);
out:
    free(png);
    return rc;
}

static void cups_close(struct dk_printer *p)
{
    struct cups_printer *c = p->impl;

    if (c == NULL)
        return;
    httpClose(c->http);
    free(c);
    p->impl = NULL;
}

static const struct dk_printer_ops cups_ops = {
    .query = cups_query,
    .print = cups_print,
    .close = cups_close,
};

static int cups_connect(struct dk_printer *p, struct cups_printer *c, struct dk_error *err)
{
    const char *server = cupsServer();

    c->http = httpConnect2(server, ippPort(), NULL, AF_UNSPEC, cupsEncryption(), 1,
                           p->cfg->timeout_ms, NULL);
    if (c->http == NULL)
        return dk_error_set(err, -EHOSTUNREACH,
                            "cannot reach printer %s: cannot connect to the CUPS server %s: %s",
                            p->label, server, cupsLastErrorString());
    /* Without a callback, an exchange that waits this long gives up. */
    httpSetTimeout(c->http, p->cfg->timeout_ms / 1000.0, NULL, NULL);
    if (httpAssembleURIf(HTTP_URI_CODING_ALL, c->uri, sizeof(c->uri), "ipp", NULL, "localhost",
                         0, "/printers/%s", p->cfg->device) != HTTP_URI_STATUS_OK)
        return dk_error_set(err, DK_EINPUT, "cannot open printer %s: bad queue name", p->label);
    return 0;
}

int printer_cups_open(struct dk_printer *p, struct dk_error *err)
{
    struct cups_printer *c = calloc(1, sizeof(*c));
    struct queue_state qs;
    int rc;

    if (c == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    p->impl = c;
    rc = cups_connect(p, c, err);
    if (rc == 0) {
        /* A queue that is not there is a mistake in the config, said at
         * once rather than as a printer that never answers. */
        struct dk_error why = {{0}};

        rc = ask_queue(p, &qs, &why);
        if (rc != 0)
            dk_error_set(err, rc, "cannot open printer %s: %s", p->label, why.msg);
    }
    if (rc != 0) {
        cups_close(p);
        return rc;
    }
    p->ops = &cups_ops;
    return 0;
}
