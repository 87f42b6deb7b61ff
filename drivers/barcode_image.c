#include "barcode_image.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zbar.h>

#ifdef DK_HAVE_LIBJPEG
#include <jpeglib.h>
#endif

/* Limits on what a photo may cost us: a 48-megapixel phone photo fits, a
 * decompression bomb does not. */
#define IMAGE_FILE_MAX (64u << 20)
#define IMAGE_SIDE_MAX 16384u
#define IMAGE_PIXELS_MAX (64u << 20)

static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const unsigned char jpeg_magic[3] = {0xff, 0xd8, 0xff};

/* An image as zbar wants it: one byte of luminance a pixel, rows packed. */
struct dk_grey {
    unsigned char *pix;
    unsigned char **rows;
    uint32_t width;
    uint32_t height;
};

static void grey_free(struct dk_grey *g)
{
    free(g->pix);
    free(g->rows);
    g->pix = NULL;
    g->rows = NULL;
}

static int grey_alloc(struct dk_grey *g, uint32_t width, uint32_t height,
                      struct dk_error *err)
{
    if (width == 0 || height == 0 || width > IMAGE_SIDE_MAX || height > IMAGE_SIDE_MAX ||
        (uint64_t)width * height > IMAGE_PIXELS_MAX)
        return dk_error_set(err, DK_EINPUT, "image of %lux%lu pixels is too large to decode",
                            (unsigned long)width, (unsigned long)height);
    g->width = width;
    g->height = height;
    g->pix = malloc((size_t)width * height);
    g->rows = malloc(sizeof(*g->rows) * height);
    if (g->pix == NULL || g->rows == NULL)
        return dk_error_set(err, -ENOMEM, "cannot decode image: out of memory");
    for (uint32_t y = 0; y < height; y++)
        g->rows[y] = g->pix + (size_t)y * width;
    return 0;
}

/* ---- PNG -------------------------------------------------------------- */

struct dk_png_in {
    const unsigned char *buf;
    size_t len;
    size_t pos;
    struct dk_grey *grey;
    struct dk_error *err;
    int rc; /* what a longjmp out of libpng returns */
};

static void png_in_read(png_structp png, png_bytep out, size_t n)
{
    struct dk_png_in *in = png_get_io_ptr(png);

    if (n > in->len - in->pos)
        png_error(png, "file ends early (truncated)");
    memcpy(out, in->buf + in->pos, n);
    in->pos += n;
}

static void png_in_fail(png_structp png, png_const_charp msg)
{
    struct dk_png_in *in = png_get_error_ptr(png);

    if (in->rc == 0)
        in->rc = dk_error_set(in->err, DK_EINPUT, "cannot read PNG image: %s", msg);
    png_longjmp(png, 1);
}

static void png_in_warn(png_structp png, png_const_charp msg)
{
    (void)png;
    log_debug("libpng while reading image: %s", msg);
}

/* Ask libpng for 8-bit grey whatever the file holds; transparent pixels
 * are laid on white, the usual page a QR code is meant to sit on. */
static void png_want_grey(png_structp png, png_infop info)
{
    png_byte type = png_get_color_type(png, info);
    png_byte depth = png_get_bit_depth(png, info);
    bool alpha = (type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS);

    if (depth == 16)
        png_set_strip_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if ((type & PNG_COLOR_MASK_COLOR) != 0)
        png_set_rgb_to_gray_fixed(png, PNG_ERROR_ACTION_NONE, -1, -1);
    if (alpha) {
        png_color_16 white = {.red = 0xff, .green = 0xff, .blue = 0xff, .gray = 0xff};

        png_set_background_fixed(png, &white, PNG_BACKGROUND_GAMMA_SCREEN, 0, PNG_FP_1);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* Everything that changes after setjmp lives in *in, not in locals, so a
 * longjmp back leaves nothing indeterminate (C17 7.13.2.1p3). */
static int png_to_grey(struct dk_png_in *in)
{
    png_structp png = NULL;
    png_infop info = NULL;

    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, in, png_in_fail, png_in_warn);
    if (png != NULL)
        info = png_create_info_struct(png);
    if (png == NULL || info == NULL) {
        in->rc = dk_error_set(in->err, -ENOMEM, "cannot read PNG image: out of memory");
        goto out;
    }
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_read_fn(png, in, png_in_read);
    png_set_user_limits(png, IMAGE_SIDE_MAX, IMAGE_SIDE_MAX);
    png_read_info(png, info);
    png_want_grey(png, info);
    if (png_get_channels(png, info) != 1 || png_get_bit_depth(png, info) != 8)
        png_error(png, "cannot convert this PNG to 8-bit grey");
    in->rc = grey_alloc(in->grey, png_get_image_width(png, info),
                        png_get_image_height(png, info), in->err);
    if (in->rc != 0)
        goto out;
    if (png_get_rowbytes(png, info) != in->grey->width)
        png_error(png, "unexpected row size after conversion to grey");
    png_read_image(png, in->grey->rows);
out:
    png_destroy_read_struct(&png, &info, NULL);
    return in->rc;
}

/* ---- JPEG ------------------------------------------------------------- */

#ifdef DK_HAVE_LIBJPEG
struct dk_jpeg_fail {
    struct jpeg_error_mgr mgr; /* first, so libjpeg's pointer is ours too */
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
    struct dk_jpeg_fail *f = (struct dk_jpeg_fail *)cinfo->err;

    f->mgr.format_message(cinfo, f->msg);
    longjmp(f->jmp, 1);
}

/* libjpeg prints warnings (corrupt but readable data) to stderr; a photo
 * of a receipt often has them, and they belong in the debug log. */
static void jpeg_quiet(j_common_ptr cinfo)
{
    char msg[JMSG_LENGTH_MAX];

    cinfo->err->format_message(cinfo, msg);
    log_debug("libjpeg while reading image: %s", msg);
}

struct dk_jpeg_in {
    struct jpeg_decompress_struct cinfo;
    struct dk_jpeg_fail fail;
    struct dk_grey *grey;
    struct dk_error *err;
    int rc;
};

static int jpeg_to_grey(struct dk_jpeg_in *in, const unsigned char *buf, size_t len)
{
    struct jpeg_decompress_struct *cinfo = &in->cinfo;

    cinfo->err = jpeg_std_error(&in->fail.mgr);
    in->fail.mgr.error_exit = jpeg_fail_exit;
    in->fail.mgr.output_message = jpeg_quiet;
    if (setjmp(in->fail.jmp)) {
        in->rc = dk_error_set(in->err, DK_EINPUT, "cannot read JPEG image: %s", in->fail.msg);
        goto out;
    }
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, buf, (unsigned long)len);
    jpeg_read_header(cinfo, TRUE);
    cinfo->out_color_space = JCS_GRAYSCALE;
    in->rc = grey_alloc(in->grey, cinfo->image_width, cinfo->image_height, in->err);
    if (in->rc != 0)
        goto out;
    jpeg_start_decompress(cinfo);
    if (cinfo->output_components != 1 || cinfo->output_width != in->grey->width ||
        cinfo->output_height != in->grey->height) {
        in->rc = dk_error_set(in->err, DK_EINPUT, "cannot convert this JPEG to grey");
        goto out;
    }
    while (cinfo->output_scanline < cinfo->output_height)
        jpeg_read_scanlines(cinfo, &in->grey->rows[cinfo->output_scanline], 1);
    jpeg_finish_decompress(cinfo);
out:
    jpeg_destroy_decompress(cinfo);
    return in->rc;
}
#endif

/* ---- zbar ------------------------------------------------------------- */

static int scan_grey(const struct dk_grey *g, dk_barcode_fn fn, void *user,
                     struct dk_error *err)
{
    zbar_image_scanner_t *scanner = zbar_image_scanner_create();
    zbar_image_t *image = zbar_image_create();
    int found = 0;
    int rc;

    if (scanner == NULL || image == NULL) {
        rc = dk_error_set(err, -ENOMEM, "cannot start the barcode scanner: out of memory");
        goto out;
    }
    /* Without ZBAR_CFG_BINARY zbar guesses a character set for QR byte mode
     * and converts the data to UTF-8, which changes the bytes of a signed
     * receipt; with it the data comes back as encoded. */
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
    zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(image, g->width, g->height);
    zbar_image_set_data(image, g->pix, (unsigned long)g->width * g->height, NULL);
    if (zbar_scan_image(scanner, image) < 0) {
        rc = dk_error_set(err, -EIO, "the barcode scanner failed on the image");
        goto out;
    }

    for (const zbar_symbol_t *s = zbar_image_first_symbol(image); s != NULL;
         s = zbar_symbol_next(s)) {
        size_t len = zbar_symbol_get_data_length(s);
        char *copy = malloc(len + 1);

        if (copy == NULL) {
            rc = dk_error_set(err, -ENOMEM, "cannot copy barcode data: out of memory");
            goto out;
        }
        /* Copied so that the NUL the header promises is ours to vouch for. */
        memcpy(copy, zbar_symbol_get_data(s), len);
        copy[len] = '\0';
        fn(zbar_get_symbol_name(zbar_symbol_get_type(s)), copy, len, user);
        free(copy);
        found++;
    }
    rc = found;
out:
    if (image != NULL)
        zbar_image_destroy(image); /* the pixels stay ours: no cleanup handler */
    if (scanner != NULL)
        zbar_image_scanner_destroy(scanner);
    return rc;
}

int barcode_image_decode_buffer(const unsigned char *buf, size_t len, dk_barcode_fn fn,
                                void *user, struct dk_error *err)
{
    struct dk_grey grey = {0};
    int rc;

    if (buf != NULL && len >= sizeof(png_magic) &&
        memcmp(buf, png_magic, sizeof(png_magic)) == 0) {
        struct dk_png_in in = {.buf = buf, .len = len, .grey = &grey, .err = err};

        rc = png_to_grey(&in);
    } else if (buf != NULL && len >= sizeof(jpeg_magic) &&
               memcmp(buf, jpeg_magic, sizeof(jpeg_magic)) == 0) {
#ifdef DK_HAVE_LIBJPEG
        struct dk_jpeg_in in = {.grey = &grey, .err = err};

        rc = jpeg_to_grey(&in, buf, len);
#else
        /* TODO(build): when the Makefile links libjpeg, define
         * DK_HAVE_LIBJPEG there and drop this branch, because camera
         * photos of receipts arrive as JPEG. */
        rc = dk_error_set(err, DK_EINPUT, "cannot read JPEG image: built without libjpeg");
#endif
    } else {
        rc = dk_error_set(err, DK_EINPUT, "not an image we read (expected PNG or JPEG)");
    }
    if (rc == 0)
        rc = scan_grey(&grey, fn, user, err);
    grey_free(&grey);
    return rc;
}

static int read_whole_file(const char *path, unsigned char **buf, size_t *len,
                           struct dk_error *err)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int rc = 0;

    *buf = NULL;
    if (fd < 0) {
        rc = -errno;
        return dk_error_set(err, rc, "cannot open image %s: %s", path, strerror(-rc));
    }
    if (fstat(fd, &st) != 0) {
        rc = dk_error_set(err, -errno, "cannot read image %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > IMAGE_FILE_MAX) {
        rc = dk_error_set(err, DK_EINPUT, "image %s is not a regular file of at most %u bytes",
                          path, IMAGE_FILE_MAX);
        goto out;
    }
    *buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (*buf == NULL) {
        rc = dk_error_set(err, -ENOMEM, "cannot read image %s: out of memory", path);
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = dk_error_set(err, -errno, "cannot read image %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break; /* shrank while we read: decode what is there */
        got += (size_t)r;
    }
    *len = got;
out:
    close(fd);
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

int barcode_image_decode_file(const char *path, dk_barcode_fn fn, void *user,
                              struct dk_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    rc = read_whole_file(path, &buf, &len, err);
    if (rc != 0)
        return rc;
    rc = barcode_image_decode_buffer(buf, len, fn, user, err);
    if (rc < 0 && err != NULL) {
        char msg[DK_ERROR_MAX];

        /* Name the file: the buffer decoder cannot. */
        snprintf(msg, sizeof(msg), "%s", err->msg);
        dk_error_set(err, rc, "%s: %s", path, msg);
    }
    free(buf);
    return rc;
}
