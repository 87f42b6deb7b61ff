/* The receipt slip as a picture: what the file printer back end saves as a
 * preview beside the ESC/POS bytes, and what the CUPS back end prints.
 *
 * Text is laid out by Pango in DejaVu Sans (Debian's fonts-dejavu-core),
 * so every script the message catalogs use (Arabic right to left, Chinese,
 * accented Latin) is shaped correctly, unlike on an ESC/POS code page. */
#ifndef DK_SLIP_IMAGE_H
#define DK_SLIP_IMAGE_H

#include "error.h"
#include "printer.h"

#include <stddef.h>

/* Narrowest and widest image slip_image_png draws. */
#define SLIP_IMAGE_MIN_WIDTH 240
#define SLIP_IMAGE_MAX_WIDTH 4096

/* Draw slip as a PNG width_px pixels wide (576 is an 80 mm slip at 203
 * dpi, 384 a 58 mm one) and as tall as it needs: black on white, the same
 * parts in the same order as escpos_slip (title, district and site
 * centred; receipt id and time; one entry a device; the pending note; the
 * scan note), then the QR code of the payload_len bytes at payload (8-bit
 * mode, level M, as receipt_qr_png) with square modules of a whole number
 * of pixels, not smoothed, inside a white quiet zone of 4 modules.  The
 * margin is width_px / 24; text is width_px / 24 pixels high, the title
 * bold and larger.  Text that is not UTF-8 is drawn with U+FFFD in place
 * of the bad bytes; NULL text fields are left empty.
 *
 * Returns 0 with *png malloc'd (the caller frees) and *len set; DK_EINPUT
 * with the reason in err when width_px is outside SLIP_IMAGE_MIN_WIDTH to
 * SLIP_IMAGE_MAX_WIDTH, the payload is empty or does not fit one QR code
 * (over 2331 bytes), or the slip would be taller than 32767 pixels;
 * -ENOMEM; -EIO when cairo fails; -EINVAL for a NULL argument.  *png is
 * NULL on failure. */
int slip_image_png(const struct dk_slip *slip, int width_px, unsigned char **png, size_t *len,
                   struct dk_error *err);

#endif
