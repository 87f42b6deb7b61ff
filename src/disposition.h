/* The disposition rules engine and the acts that follow a decision: which
 * fate (reimage, reassign, recycle) a received device is proposed, by the
 * first matching rule of the config's [disposition] section, and the data
 * wipe, reimage, reassign, recycle and e-waste manifest records that carry
 * out what the technician decides.  The technician decides; the rule only
 * proposes, and what was proposed is kept beside what was done.
 *
 * Rule grammar (one `rule = ...` line each; keywords ignore case):
 *
 *   rule = TEST [and TEST]... -> OUTCOME
 *
 *   OUTCOME  reimage | reassign | recycle
 *   TEST     always                        matches every device
 *            condition is C[, C]...        C: good, worn, damaged,
 *                                          not_working (from receive)
 *            type is T[, T]...             T: laptop, chromebook, tablet,
 *                                          phone, hotspot, desktop, other
 *            older than AGE                purchase date more than AGE
 *                                          before today, any type
 *            older than T AGE[, T AGE]...  the same, per type; a type not
 *                                          named does not match
 *            auto update expired           the auto-update expiry date
 *                                          (Chromebooks) is before today
 *            reserved                      an open reservation exists for
 *                                          the device's model
 *   AGE      a whole number and y (years) or m (months): 5y, 18m
 *
 * `always` stands alone; `reassign` needs `reserved` among its tests, since
 * a reassignment needs a person (the oldest open reservation's).  A device
 * with no purchase date, model or recorded condition does not match the
 * tests that need them.  When no rule matches, nothing is proposed.
 *
 * With no rules configured the built-in set below applies, in this order:
 *
 *   condition is damaged, not_working -> recycle
 *   older than laptop 5y, chromebook 4y, tablet 4y, phone 3y, hotspot 3y ->
 * recycle auto update expired -> recycle reserved -> reassign always -> reimage
 *
 * Dates are "YYYY-MM-DD"; times are UTC "YYYY-MM-DDTHH:MM:SSZ".  Every act
 * runs in one transaction of its own (none may be open) with its audit rows,
 * and changes nothing when it fails. */
#ifndef DK_DISPOSITION_H
#define DK_DISPOSITION_H

#include "config.h"
#include "store.h"

#include <stdint.h>

enum dk_outcome {
    DK_OUTCOME_NONE, /* no rule matched */
    DK_OUTCOME_REIMAGE,
    DK_OUTCOME_REASSIGN,
    DK_OUTCOME_RECYCLE,
};

/* "reimage", "reassign", "recycle", or "none". */
const char *disposition_outcome_name(enum dk_outcome outcome);

/* Check every `rule =` line of cfg; DK_EINPUT with "FILE:LINE: ..." in err
 * naming the first that is not a rule.  Called by config_load. */
int disposition_check_rules(const struct dk_config *cfg, struct dk_error *err);

/* What the rules propose for one return. */
struct dk_proposal {
    int64_t return_id;
    char tag[256];
    char type[16]; /* "" for a device not in the inventory */
    char model[256];
    char condition[32]; /* as received; "" when not recorded */
    /* A phone's or tablet's checklist as answered at the kiosk
     * ("sim_removed=yes signed_out=no lock_off=yes"); "" for none. */
    char checklist[96];
    enum dk_outcome outcome;
    char rule[DK_TEXT_MAX];        /* the matching rule's text; "" when none */
    int line;                      /* its line in cfg->path; 0 when built-in */
    char source[DK_PATH_MAX + 16]; /* "FILE:LINE", "built-in" or "none" */
    char holder[256]; /* reassign: the reserved person's staff id */
    char holder_name[256];
    int64_t reservation_id; /* reassign: that reservation; 0 otherwise */
};

/* Propose a fate for a received return: return_id when above 0, else the
 * received return of asset tag.  today is "YYYY-MM-DD" (ages and expiry
 * are judged against it).  0 with *out filled (outcome DK_OUTCOME_NONE
 * when no rule matches); DK_ENOTFOUND when the tag or id has no return;
 * DK_EINPUT when its return is not waiting for a disposition (not yet
 * received, or already dispositioned) or today is not a date; DK_EDB. */
int disposition_propose(struct dk_store *store, const struct dk_config *cfg,
                        int64_t return_id, const char *tag, const char *today,
                        struct dk_proposal *out, struct dk_error *err);

/* Who acts and when, for the acts below. */
struct dk_act {
    const char *tech;  /* the technician's id, already authenticated */
    const char *now;   /* UTC time recorded for the act */
    const char *today; /* local date the proposal is judged on */
};

/* The checks below say, reading only, whether the act of the same name
 * would be refused for these inputs, with the same code and message it
 * would give: the command line runs them before the technician's PIN is
 * asked, so that a mistyped tag or option records no login and changes
 * nothing.  Each returns 0 when the act may go ahead (it checks again in
 * its own transaction), DK_EINPUT or DK_ENOTFOUND naming what is wrong, or
 * DK_EDB.  Who acts and when is not checked: that is the login's. */
int disposition_check_wipe(struct dk_store *store, const char *tag,
                           const char *method, const char *tool,
                           struct dk_error *err);
int disposition_check_reimage(struct dk_store *store, const char *tag,
                              struct dk_error *err);
int disposition_check_reassign(struct dk_store *store, const char *tag,
                               const char *staff_id, struct dk_error *err);
int disposition_check_recycle(struct dk_store *store, const char *tag,
                              const char *level, struct dk_error *err);
int disposition_check_reserve(struct dk_store *store, const char *model,
                              const char *staff_id, struct dk_error *err);
int disposition_check_manifest_close(struct dk_store *store,
                                     const char *vendor,
                                     const char *certificate,
                                     struct dk_error *err);

/* Record a data wipe of asset tag's received return: method (e.g.
 * "powerwash", "cryptographic erase") and tool (what ran it) as the
 * technician names them, 1 to 128 bytes of clean text.  DK_EINPUT naming
 * the field or the return's state; DK_ENOTFOUND; DK_EDB. */
int disposition_wipe(struct dk_store *store, const struct dk_act *act,
                     const char *tag, const char *method, const char *tool,
                     struct dk_error *err);

/* Reimage: back to stock.  Needs the asset in the inventory and a wipe of
 * this return (DK_EINPUT otherwise).  The return becomes dispositioned 'reimage' with the reason
 * (proposal followed or overridden, and its rule); the asset's status
 * becomes 'stock' and its assignee none. */
int disposition_reimage(struct dk_store *store, const struct dk_config *cfg,
                        const struct dk_act *act, const char *tag,
                        struct dk_error *err);

/* Reassign to staff_id (a staff id, not an email; not a leaver).  Needs a
 * wipe.  The asset's assignee becomes staff_id (status 'deployed') — the
 * only way a device changes hands — and that person's oldest open
 * reservation for the model, if any, is fulfilled by this return. */
int disposition_reassign(struct dk_store *store, const struct dk_config *cfg,
                         const struct dk_act *act, const char *tag,
                         const char *staff_id, struct dk_error *err);

/* Recycle with the NIST SP 800-88 Rev. 1 sanitisation level (section 2.5):
 * "clear", "purge" or "destroy".  The return becomes dispositioned
 * 'recycle', the asset's status 'recycled' and its assignee none, and the
 * device joins the open e-waste manifest (one is opened when none is).
 * *manifest_id (may be NULL) receives that manifest's id. */
int disposition_recycle(struct dk_store *store, const struct dk_config *cfg,
                        const struct dk_act *act, const char *tag,
                        const char *level, int64_t *manifest_id,
                        struct dk_error *err);

/* Reserve the next device of model (as the inventory spells it, ignoring
 * case) for staff_id.  DK_EINPUT when no asset has that model, the staff
 * id is unknown or a leaver, or that person already holds an open
 * reservation for it.  *id (may be NULL) receives the reservation's id. */
int disposition_reserve(struct dk_store *store, const struct dk_act *act,
                        const char *model, const char *staff_id, int64_t *id,
                        struct dk_error *err);

/* The manifest as RFC 4180 CSV (CRLF line ends): a header row
 * "asset_tag,serial,type,make,model,level,technician,date" and one row per
 * device in the order added; date is the UTC day it was added.  *csv is the
 * caller's to free; *len its length.  0, -ENOMEM, DK_EDB. */
int disposition_manifest_csv(struct dk_store *store, int64_t manifest_id,
                             char **csv, size_t *len, struct dk_error *err);

/* The open manifest's id and when it was opened (at least 32 bytes), and
 * how many devices it holds.  0, DK_ENOTFOUND when none is open, DK_EDB. */
int disposition_manifest_open(struct dk_store *store, int64_t *id,
                              char *opened_at, size_t size, int *items,
                              struct dk_error *err);

/* Close the open manifest: vendor and certificate (the vendor's signed
 * certificate of destruction or recycling number) are 1 to 128 bytes of
 * clean text.  sink receives the CSV inside the transaction, before the
 * close commits (to write it to a file or stdout); a nonzero return from
 * it, with err set, rolls the close back, so a manifest is never closed
 * without its CSV written.  *id (may be NULL) receives the closed
 * manifest's id.  DK_EINPUT naming the field, DK_ENOTFOUND when none is
 * open, sink's error, DK_EDB. */
int disposition_manifest_close(struct dk_store *store, const struct dk_act *act,
                               const char *vendor, const char *certificate,
                               int (*sink)(const char *csv, size_t len,
                                           void *user, struct dk_error *err),
                               void *user, int64_t *id, struct dk_error *err);

#endif
