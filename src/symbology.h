/* What a barcode's symbology says about its text, applied before the text
 * is classified: GS1 element strings, Code 39's check character and Full
 * ASCII, UPC-E expansion and the EAN/UPC check digits.
 *
 * The symbology comes from an AIM identifier (ISO/IEC 15424: "]C1",
 * "]A3", "]E0", ...) sent by the scanner, or from the name a decoder gives
 * ("EAN-13", "CODE-39", as zbar names them). */
#ifndef DK_SYMBOLOGY_H
#define DK_SYMBOLOGY_H

#include <stdbool.h>
#include <stddef.h>

enum dk_symbology {
    DK_SYM_UNKNOWN, /* typed, or a scanner that says nothing: text as it is */
    DK_SYM_CODE128,
    DK_SYM_GS1,     /* GS1-128, GS1 QR, GS1 DataMatrix, GS1 DataBar */
    DK_SYM_CODE39,
    DK_SYM_EAN13,   /* EAN-13, and UPC-A sent with or without its leading 0 */
    DK_SYM_EAN8,
    DK_SYM_UPCE,
    DK_SYM_QR,
    DK_SYM_OTHER,   /* known but nothing to do (DataMatrix, ITF, ...) */
};

/* Code 39 as the labels are printed, for what the reader does not do
 * itself (told by its AIM modifier; with no identifier nothing is known to
 * be Code 39 and these do not apply). */
struct dk_code39_opts {
    bool check_char; /* the last character is a mod 43 check: verify, strip */
    bool full_ascii; /* decode Full ASCII pairs ("+A" is "a", "$M" is CR) */
};

/* What an AIM Code 39 modifier says the reader did itself. */
enum dk_code39_check {
    DK_C39_CHECK_BY_CONFIG, /* the reader did not check: dk_code39_opts says */
    DK_C39_CHECK_SENT,      /* verified by the reader and still at the end */
    DK_C39_CHECK_STRIPPED,  /* verified by the reader and removed */
};

struct dk_symbol {
    enum dk_symbology sym;
    enum dk_code39_check c39_check;
    bool c39_ascii_done; /* the reader decoded Full ASCII already */
};

/* The symbology named by an AIM identifier (3 characters) or a decoder's
 * name; DK_SYM_UNKNOWN for NULL, "" or anything not known. */
struct dk_symbol symbology_identify(const char *id);

/* What the text of a scan turned out to be. */
enum dk_symbol_text {
    DK_SYMTEXT_PLAIN,    /* classify it as usual */
    DK_SYMTEXT_SERIAL,   /* a GS1 serial number, AI (21): a serial, nothing else */
    DK_SYMTEXT_ASSET_ID, /* a GS1 asset identifier, AI (8004): an asset tag */
};

/* Apply what the symbology says to len bytes of text into out (at most
 * size - 1 bytes and a NUL).  Returns true with out filled and *kind set,
 * or false with a short reason for the person in why (at most why_size
 * bytes):
 *   - GS1: the element string is read; an asset identifier, AI (8004), or
 *     else a serial number, AI (21), becomes the text; a GTIN, AI (01),
 *     alone names a product, not one device, and is refused; check digits
 *     of GTIN and SSCC verified; an AI given twice is refused;
 *   - Code 39: the mod 43 check character verified and removed; Full ASCII
 *     pairs decoded;
 *   - EAN-13/UPC-A/EAN-8: the check digit verified; leading zeros kept;
 *   - UPC-E: expanded to the 12-digit UPC-A and its check digit verified.
 * GS1's group separator (0x1D) is only allowed in GS1 symbols. */
bool symbology_apply(const struct dk_symbol *sym, const struct dk_code39_opts *c39,
                     const char *in, size_t len, char *out, size_t size,
                     enum dk_symbol_text *kind, char *why, size_t why_size);

/* true when the digits of s (all digits, length 8, 12, 13 or 14) end in
 * the GS1 mod 10 check digit of the others. */
bool symbology_gs1_check_ok(const char *s, size_t len);

/* Expand the len bytes of an 8-digit UPC-E (number system 0 or 1, six
 * digits, check) to the 12-digit UPC-A in out (13 bytes, NUL-terminated).
 * false when it is not one. */
bool symbology_upce_to_upca(const char *upce, size_t len, char out[13]);

#endif
