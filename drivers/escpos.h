/* ESC/POS: the byte stream for one receipt slip, the printer's status
 * replies, and which printer models draw QR codes themselves.
 *
 * A pure encoder and decoder: nothing here does I/O.  The usb, usblp and
 * tcp printer back ends send what escpos_slip makes and ask the state with
 * escpos_status_query.
 *
 * Command facts are Epson's "ESC/POS Application Programming Guide" and
 * command reference (TM-T20/TM-T88V class printers): ESC @, ESC t, ESC E,
 * ESC a, ESC d, GS !, GS ( k (QR Code, cn 49), GS v 0, GS V, DLE EOT. */
#ifndef DK_ESCPOS_H
#define DK_ESCPOS_H

#include "error.h"
#include "printer.h"

#include <stdbool.h>
#include <stddef.h>

/* The code page every slip is printed in: Windows-1252 ("WPC1252"),
 * selected with ESC t 16, which holds every letter Spanish, French,
 * Portuguese and the other Western European languages use. */
#define ESCPOS_CODE_PAGE 16

/* Printable dots a line and characters a line (font A, 12 x 24 dots) for
 * the two paper widths of 203 dpi receipt printers. */
#define ESCPOS_DOTS_58MM 384
#define ESCPOS_DOTS_80MM 576
#define ESCPOS_COLUMNS_58MM 32
#define ESCPOS_COLUMNS_80MM 48

/* The whole slip as ESC/POS bytes, in order:
 *   ESC @; ESC t 16; the title centred, bold and double size; district and
 *   site centred; the receipt word and id, and the local time; one entry a
 *   device ("<device> <tag>, <model>, <charger>: <yes|no>", the model left
 *   out when empty); the pending note; the scan note centred; the QR code
 *   of payload; a feed and a partial cut (GS V 66 3).
 * Text is converted from UTF-8 to Windows-1252; a character that code page
 * lacks (Arabic, Chinese, most of Cyrillic), a byte that is not UTF-8 and
 * a control character each print as '?', so no text can carry a printer
 * command.  Lines wrap at word boundaries to 32 (58 mm) or 48 (80 mm)
 * columns, 16 or 24 for the double-size title; a word longer than a line
 * is broken between characters, never inside one.  NULL text fields print
 * as empty.
 *
 * The QR code holds the payload_len bytes at payload exactly (8-bit mode,
 * level M).  native: the printer draws it (GS ( k: model 2, module size,
 * level M, store data, print); otherwise it is drawn here with libqrencode
 * and sent as one GS v 0 raster as wide as the paper, the symbol centred
 * with a 4-module quiet zone.  Either way the module size is the largest
 * of 1 to 8 dots that fits the symbol and its quiet zone on the paper.
 *
 * width_mm is 58 or 80.  Returns 0 with *out (malloc'd, the caller frees)
 * and *len set; DK_EINPUT with the reason in err for another width, an
 * empty payload or one that does not fit one QR code (over 2331 bytes);
 * -ENOMEM; -EINVAL for a NULL argument.  *out is NULL on failure. */
int escpos_slip(const struct dk_slip *slip, int width_mm, bool native_qr, unsigned char **out,
                size_t *len, struct dk_error *err);

/* The three real-time status requests, in the order escpos_state takes
 * their answers: DLE EOT 1 (printer status), DLE EOT 2 (offline cause),
 * DLE EOT 4 (roll paper sensor); 3 bytes each, 9 in all.  The printer
 * answers each with one byte.  A back end sends them one at a time and
 * reads one byte after each, with the config's timeout; it asks only
 * between jobs and empties its input first, because some printers also act
 * on a "10 04 n" that happens to sit inside raster data and answer it. */
#define ESCPOS_STATUS_QUERY_LEN 9
#define ESCPOS_STATUS_QUERY_ONE 3
extern const unsigned char escpos_status_query[ESCPOS_STATUS_QUERY_LEN];

/* The printer's state from its answers to the three requests above, each
 * the byte received (0-255) or -1 when none came.  Every answer has fixed
 * bits (bit 1 and bit 4 on, bits 0 and 7 off); a missing answer or one
 * whose fixed bits are wrong (a printer that is not ESC/POS, or noise) is
 * DK_PRINTER_NO_ANSWER.  Otherwise, first match wins:
 *   DK_PRINTER_COVER_OPEN  offline cause bit 2
 *   DK_PRINTER_PAPER_OUT   offline cause bit 5 (stopped at paper end), or
 *                          paper sensor bit 5 or 6 (roll paper end)
 *   DK_PRINTER_OFFLINE     printer status bit 3 (offline), or offline
 *                          cause bit 6 (an error occurred)
 *   DK_PRINTER_READY       none of these.
 * The paper near-end bits (paper sensor bits 2-3) do not stop a slip. */
enum dk_printer_state escpos_state(int printer_status, int offline_cause, int paper_status);

/* true when model (as in [printer NAME] model =, case ignored) is one we
 * know draws QR codes with GS ( k; false for "generic", NULL and any
 * model not in our short table, which then gets a raster QR code. */
bool escpos_model_has_qr(const char *model);

#endif
