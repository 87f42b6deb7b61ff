/* Decoding barcodes and QR codes from image files (PNG, JPEG) with zbar.
 * The core sees only this header, never zbar's. */
#ifndef DK_BARCODE_IMAGE_H
#define DK_BARCODE_IMAGE_H

#include "error.h"

#include <stddef.h>

/* Called once for each symbol found.  data is len bytes, exactly as encoded
 * (QR byte mode is returned raw, not re-encoded), NUL-terminated too.
 * symbology is zbar's name, e.g. "QR-Code", "CODE-128". */
typedef void (*dk_barcode_fn)(const char *symbology, const char *data, size_t len,
                              void *user);

/* Decode every symbol in the image file at path (PNG or JPEG, told by its
 * first bytes).  Returns the number of symbols (0 when none), -errno when
 * the file cannot be read, DK_EINPUT when it is not an image we read
 * (unknown format, truncated or corrupt, over 64 MiB or 64 megapixels).
 * Colour and transparent images are read as grey laid on white.  JPEG is
 * read only when the build defines DK_HAVE_LIBJPEG and links libjpeg;
 * otherwise a JPEG gives DK_EINPUT saying so.  err names the file. */
int barcode_image_decode_file(const char *path, dk_barcode_fn fn, void *user,
                              struct dk_error *err);

/* The same for an image already in memory (len bytes at buf). */
int barcode_image_decode_buffer(const unsigned char *buf, size_t len, dk_barcode_fn fn,
                                void *user, struct dk_error *err);

#endif
