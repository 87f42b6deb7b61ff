/* Scan text: normalising what a scanner (or a person at the keyboard) sent,
 * and classifying it.
 *
 * Normalising strips the terminator and surrounding white space, the
 * configured prefix and suffix, and an AIM symbology identifier ("]C0",
 * "]A0", "]Q1", ...).  Classifying tells a kiosk control code from an IMEI,
 * a staff badge, an asset tag, or other text (which may be a serial number,
 * a staff id or an email address, for the caller to look up). */
#ifndef DK_SCAN_H
#define DK_SCAN_H

#include "config.h"
#include "symbology.h"

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define DK_SCAN_TEXT_MAX 256

enum dk_scan_kind {
    DK_SCAN_INVALID, /* reason says why; never becomes a return */
    DK_SCAN_CONTROL,
    DK_SCAN_IMEI,
    DK_SCAN_BADGE,
    DK_SCAN_ASSET_TAG,
    DK_SCAN_SERIAL, /* a serial number by its symbology (GS1 AI 21): only that */
    DK_SCAN_OTHER,
};

/* Kiosk control codes, printable as barcodes for scanner-only use. */
enum dk_control {
    DK_CTRL_NONE,
    DK_CTRL_DONE,
    DK_CTRL_CANCEL,
    DK_CTRL_YES,
    DK_CTRL_NO,
    DK_CTRL_SKIP,
};

struct dk_scan {
    enum dk_scan_kind kind;
    enum dk_control control;
    char text[DK_SCAN_TEXT_MAX]; /* normalised text */
    char aim[4];                 /* AIM symbology identifier sent in the text, or "" */
    enum dk_symbology symbology; /* from the AIM identifier or the scanner */
    char reason[128];            /* for DK_SCAN_INVALID */
};

/* Compiled classification rules from the [scan] config section. */
struct dk_scan_rules {
    regex_t asset;
    regex_t badge;
    bool compiled;
    char prefix[32];
    char suffix[32];
    size_t max_length;
    struct dk_code39_opts code39;
};

/* Compile the patterns of cfg.  DK_EINPUT naming the key when a pattern is
 * not a valid POSIX extended regular expression. */
int scan_rules_init(struct dk_scan_rules *rules, const struct dk_config *cfg,
                    struct dk_error *err);

/* Free the compiled patterns; accepts rules never initialised (zeroed). */
void scan_rules_free(struct dk_scan_rules *rules);

/* Normalise and classify len bytes of raw scanner text into out.  Never
 * fails: bad input is DK_SCAN_INVALID with a short reason for the person.
 * symbology is what the scanner reported beside the text (an AIM
 * identifier or a decoder's name), or NULL; an AIM identifier at the start
 * of the text wins over it.  What the symbology says is applied first (see
 * symbology_apply): GS1 serials, Code 39 checks, EAN/UPC check digits. */
void scan_classify_from(const struct dk_scan_rules *rules, const char *raw, size_t len,
                        const char *symbology, struct dk_scan *out);

/* scan_classify_from with no symbology beside the text. */
void scan_classify(const struct dk_scan_rules *rules, const char *raw, size_t len,
                   struct dk_scan *out);

/* true when text is 15 digits whose last is the Luhn check digit over the
 * first 14 (3GPP TS 23.003, Annex B). */
bool scan_imei_valid(const char *text);

#endif
