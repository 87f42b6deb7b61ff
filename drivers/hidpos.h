/* Private to drivers/: a pure parser (no I/O) for the input reports of USB
 * HID point-of-sale barcode scanners (usage page 0x8C, "Bar Code Scanner",
 * in the USB HID Point of Sale Usage Tables 1.02).
 *
 * The Usage Tables name the fields of a Scanned Data Report (usage 0x12):
 * Symbology Identifier 1-3 (0xFB-0xFD), Decoded Data (0xFE) and Decode Data
 * Continued (0xFF), but leave their order and sizes to each report
 * descriptor.  The layout implemented by default is the 64-byte one printed
 * in the Access-IS LSR116/LSR118/ATR110 product manuals (appendix "HID
 * reports") and sent by Honeywell scanners in HID-POS mode (a reply read
 * from a Honeywell Voyager starts 02 38 5D 58 30: ID 2, 56 bytes, "]X0"):
 *
 *   byte  0      report ID, 0x02
 *   byte  1      number of decoded data bytes in this report, 0-56
 *   bytes 2-4    AIM symbology identifier (ISO/IEC 15424), e.g. "]C0"
 *   bytes 5-60   decoded data, the unused tail padded with 0x00
 *   bytes 61-62  vendor's own code ID and a reserved byte (ignored)
 *   byte  63     bit 0: Decode Data Continued, more reports follow
 *
 * A barcode longer than 56 bytes comes as several reports, every one but the
 * last with the continued bit set; the decoded data of all of them, in
 * order, is the barcode.  The report ID byte is there because the
 * descriptor declares report IDs (HID 1.11 section 5.6: every report then
 * starts with its ID).  Other makers move the fields (the QUIO QU-R-302
 * engine manual puts data at bytes 2-57 and a one-byte symbology at byte
 * 62), so the offsets live in a struct dk_hidpos_layout, not in the code.
 *
 * TODO(hidpos): when a scanner with another layout is met, read the
 * offsets from its report descriptor (the Input items under usages
 * 0xFB-0xFF) or from [scanner NAME] keys, because only the default layout
 * is chosen today. */
#ifndef DK_HIDPOS_H
#define DK_HIDPOS_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Bar Code Scanner usage page (HID POS Usage Tables, section 3). */
#define DK_HIDPOS_USAGE_PAGE 0x8C

/* Longest report a layout may describe: a full-speed interrupt endpoint
 * carries at most 64 bytes a packet (USB 2.0 section 5.7.3), and every
 * HID-POS scanner we know sends one 64-byte report a packet. */
#define DK_HIDPOS_REPORT_MAX 64

/* Longest barcode assembled; matches DK_SCAN_EVENT_MAX in scanner.h. */
#define DK_HIDPOS_SCAN_MAX 512

/* Longest symbology identifier kept (AIM identifiers are 3 bytes). */
#define DK_HIDPOS_SYMBOLOGY_MAX 8

/* Where the fields of a Scanned Data Report sit, as byte offsets from the
 * start of the report as it arrives (report ID included). */
struct dk_hidpos_layout {
    uint8_t report_id;      /* ID of the scanned data report; 0: reports carry no ID byte */
    uint8_t report_size;    /* bytes in one report, ID included */
    uint8_t length_at;      /* the count of decoded data bytes in this report */
    uint8_t symbology_at;   /* the symbology identifier */
    uint8_t symbology_len;  /* its size; 0 when the scanner sends none */
    uint8_t data_at;        /* the first decoded data byte */
    uint8_t data_max;       /* room for decoded data in one report */
    uint8_t flags_at;       /* the byte holding Decode Data Continued */
    uint8_t continued_mask; /* its bit */
};

/* The layout described at the top of this file. */
extern const struct dk_hidpos_layout dk_hidpos_default_layout;

/* One barcode, whole. */
struct dk_hidpos_scan {
    char text[DK_HIDPOS_SCAN_MAX + 1]; /* NUL-terminated; may hold 0x1D (GS) */
    size_t len;
    char symbology[DK_HIDPOS_SYMBOLOGY_MAX + 1]; /* e.g. "]C0"; "" when none sent */
    unsigned reports;                            /* how many reports it came in */
};

/* Assembly state for one scanner; only the functions below touch it. */
struct dk_hidpos_assembler {
    struct dk_hidpos_layout layout;
    struct dk_hidpos_scan scan;
    bool busy;       /* a report with the continued bit came; more are due */
    bool discarding; /* skipping the rest of a rejected scan */
};

/* Check that every field of layout lies inside its report and inside
 * DK_HIDPOS_REPORT_MAX.  0, or DK_EINPUT with the reason in err. */
int hidpos_layout_check(const struct dk_hidpos_layout *layout, struct dk_error *err);

/* Start assembling with layout (copied), which must pass
 * hidpos_layout_check; 0 or DK_EINPUT as that function. */
int hidpos_assembler_init(struct dk_hidpos_assembler *a, const struct dk_hidpos_layout *layout,
                          struct dk_error *err);

/* Forget a partly assembled scan, e.g. when its next report is overdue. */
void hidpos_assembler_reset(struct dk_hidpos_assembler *a);

/* true while a scan is partly assembled (its last report not yet fed). */
bool hidpos_assembler_busy(const struct dk_hidpos_assembler *a);

/* Feed one input report of n bytes, exactly as read from the interrupt
 * endpoint.  Returns
 *   1          a scan is complete and copied into *out;
 *   0          the report was taken and more are due (or it was the rest
 *              of a scan already rejected);
 *   DK_EINPUT  the report is not a well-formed scanned data report (wrong
 *              report ID, too short, a data length past the report or the
 *              layout, a scan with no data); err says which.  A report with
 *              another ID leaves a scan in progress alone; a malformed
 *              scanned data report drops it, and the reports still due for
 *              it are skipped;
 *   -EMSGSIZE  the scan grew past DK_HIDPOS_SCAN_MAX; it is dropped and the
 *              reports still due for it are skipped.
 * Never reads outside report[0..n) nor writes outside *a and *out. */
int hidpos_feed(struct dk_hidpos_assembler *a, const uint8_t *report, size_t n,
                struct dk_hidpos_scan *out, struct dk_error *err);

/* Whether a HID report descriptor (HID 1.11 section 6.2.2) declares the Bar
 * Code Scanner usage page, as a Usage Page item or as the page half of an
 * extended (32-bit) Usage.  Stops at the first item that runs past len. */
bool hidpos_descriptor_is_pos(const uint8_t *desc, size_t len);

#endif
