/* Decoding barcodes and QR codes from image files (PNG, JPEG) with zbar.
 * The core sees only this header, never zbar's. */
#ifndef DK_BARCODE_IMAGE_H
#define DK_BARCODE_IMAGE_H

#include "error.h"

#include <stddef.h>

/* Called once for each distinct symbol found (same symbology and bytes
 * is one symbol).  data is len bytes, exactly as encoded, NUL-terminated
 * too: QR byte mode is returned raw, not re-encoded; Code 128 extended
 * characters (FNC4) are ISO 8859-1 bytes 0x80-0xff.  symbology is zbar's
 * name, e.g. "QR-Code", "CODE-128", "EAN-13". */
typedef void (*dk_barcode_fn)(const char *symbology, const char *data,
                              size_t len, void *user);

/* Decode every symbol in the image file at path (PNG or JPEG, told by its
 * first bytes).  Returns the number of symbols (0 when none), -errno when
 * the file cannot be read, DK_EINPUT when it is not an image we read
 * (unknown format, truncated or corrupt, over 64 MiB or 64 megapixels).
 * Colour and transparent images are read as grey laid on white.  JPEG is
 * read only when the build defines DK_HAVE_LIBJPEG and links libjpeg;
 * otherwise a JPEG gives DK_EINPUT saying so.  err names the file.
 *
 * Symbologies: QR Code, Code 128, Code 39, EAN-13, EAN-8 and UPC-E; a
 * UPC-A symbol is reported as EAN-13 with a leading 0 (the same GTIN).
 * Interleaved 2 of 5, DataBar, Codabar, Code 93, PDF417 and the EAN
 * add-ons are not looked for: no district label uses them, and I2/5 in
 * particular reads fragments of other print as short valid numbers.
 *
 * zbar first reads the image as it came.  When that finds nothing
 * trusted, further passes try it inverted (light on dark), with a white
 * margin, contrast-stretched, locally thresholded, sharpened, shrunk 2x
 * and 3x, enlarged 2x and 3x (small images only), and turned by 22.5, 45
 * and 67.5 degrees; they stop at the first pass that makes a text
 * trusted.  Turns of 90, 180 and 270 degrees need no pass: zbar scans rows
 * and columns in both directions.  Passes work on a copy at most 1600
 * pixels on its long side.
 *
 * The trust rule: a QR Code is trusted from any pass (Reed-Solomon refuses
 * misreads).  EAN/UPC and Code 128 (one check character) are trusted from
 * the plain read; from the other passes only when two passes that change
 * the pixels in different ways read the same text and no pass read a
 * different text of the same family in the image.  Code 39 (no check
 * character) needs all that and, in addition, the same text on at least
 * two scan lines of one pass.  Anything else found is dropped. */
int barcode_image_decode_file(const char *path, dk_barcode_fn fn, void *user,
                              struct dk_error *err);

/* The same for an image already in memory (len bytes at buf). */
int barcode_image_decode_buffer(const unsigned char *buf, size_t len,
                                dk_barcode_fn fn, void *user,
                                struct dk_error *err);

/* The text of a symbol as UTF-8, for people and for CSV.  Linear symbols
 * (Code 128 with FNC4, Code 39, EAN/UPC) carry ISO 8859-1, so each byte
 * past 0x7f becomes its two-byte UTF-8 form.  QR byte mode carries no
 * character set we can trust: bytes that already form valid UTF-8 are kept
 * as they are (what every phone writes), anything else is read as ISO
 * 8859-1, the default of ISO/IEC 18004.  Returns a NUL-terminated string of
 * *out_len bytes that the caller frees, or NULL when out of memory. */
char *barcode_image_utf8(const char *symbology, const char *data, size_t len,
                         size_t *out_len);

#endif
