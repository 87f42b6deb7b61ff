#include "barcode_image.h"

#include "fileio.h"

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

static const unsigned char png_magic[8] = {0x89, 'P',  'N',  'G',
                                           '\r', '\n', 0x1a, '\n'};
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
    if (width == 0 || height == 0 || width > IMAGE_SIDE_MAX ||
        height > IMAGE_SIDE_MAX || (uint64_t)width * height > IMAGE_PIXELS_MAX)
        return dk_error_set(err, DK_EINPUT,
                            "image of %lux%lu pixels is too large to decode",
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
        in->rc =
            dk_error_set(in->err, DK_EINPUT, "cannot read PNG image: %s", msg);
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
    bool alpha = (type & PNG_COLOR_MASK_ALPHA) != 0 ||
                 png_get_valid(png, info, PNG_INFO_tRNS);

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
        png_color_16 white = {
            .red = 0xff, .green = 0xff, .blue = 0xff, .gray = 0xff};

        png_set_background_fixed(png, &white, PNG_BACKGROUND_GAMMA_SCREEN, 0,
                                 PNG_FP_1);
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

    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, in, png_in_fail,
                                 png_in_warn);
    if (png != NULL)
        info = png_create_info_struct(png);
    if (png == NULL || info == NULL) {
        in->rc = dk_error_set(in->err, -ENOMEM,
                              "cannot read PNG image: out of memory");
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

static int jpeg_to_grey(struct dk_jpeg_in *in, const unsigned char *buf,
                        size_t len)
{
    struct jpeg_decompress_struct *cinfo = &in->cinfo;

    cinfo->err = jpeg_std_error(&in->fail.mgr);
    in->fail.mgr.error_exit = jpeg_fail_exit;
    in->fail.mgr.output_message = jpeg_quiet;
    if (setjmp(in->fail.jmp)) {
        in->rc = dk_error_set(in->err, DK_EINPUT, "cannot read JPEG image: %s",
                              in->fail.msg);
        goto out;
    }
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, buf, (unsigned long)len);
    jpeg_read_header(cinfo, TRUE);
    cinfo->out_color_space = JCS_GRAYSCALE;
    in->rc =
        grey_alloc(in->grey, cinfo->image_width, cinfo->image_height, in->err);
    if (in->rc != 0)
        goto out;
    jpeg_start_decompress(cinfo);
    if (cinfo->output_components != 1 ||
        cinfo->output_width != in->grey->width ||
        cinfo->output_height != in->grey->height) {
        in->rc = dk_error_set(in->err, DK_EINPUT,
                              "cannot convert this JPEG to grey");
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

/* ---- image passes ----------------------------------------------------- */

/* Aggressive passes work on a copy no longer than this on its long side: a
 * phone photo shrunk this far still holds a readable label, and a pass over
 * it costs a few milliseconds instead of a second. */
#define WORK_SIDE_MAX 1600u
/* Images up to these long sides are also tried two and three times larger:
 * zbar finds edges by the difference between neighbouring pixels, and a
 * label a few pixels a module wide has edges too soft to see. */
#define UPSCALE2_SIDE_MAX 1024u
#define UPSCALE3_SIDE_MAX 480u
/* A grey range narrower than this is paper, sky or a wall, not a label;
 * stretching it would only turn sensor noise into bars. */
#define STRETCH_RANGE_MIN 24

static int grey_invert(const struct dk_grey *src, struct dk_grey *dst,
                       struct dk_error *err)
{
    size_t n = (size_t)src->width * src->height;
    int rc = grey_alloc(dst, src->width, src->height, err);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        dst->pix[i] = (unsigned char)(255 - src->pix[i]);
    return 0;
}

/* Average k x k blocks: halves the noise of a grainy photo with each step
 * and brings a label photographed too close back to zbar's scale. */
static int grey_shrink(const struct dk_grey *src, uint32_t k,
                       struct dk_grey *dst, struct dk_error *err)
{
    uint32_t w = src->width / k;
    uint32_t h = src->height / k;
    int rc;

    if (w == 0 || h == 0)
        return DK_ENODATA; /* the pass does not apply: no message */
    rc = grey_alloc(dst, w, h, err);
    if (rc != 0)
        return rc;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint32_t sum = 0;

            for (uint32_t dy = 0; dy < k; dy++) {
                const unsigned char *row =
                    src->rows[y * k + dy] + (size_t)x * k;

                for (uint32_t dx = 0; dx < k; dx++)
                    sum += row[dx];
            }
            dst->rows[y][x] = (unsigned char)(sum / (k * k));
        }
    }
    return 0;
}

static double floor_of(double v)
{
    double t = (double)(long)v;

    return t > v ? t - 1.0 : t;
}

/* Bilinear sample at (fx, fy) in source pixels; outside the image is
 * white, the paper a label sits on. */
static unsigned char grey_sample(const struct dk_grey *g, double fx, double fy)
{
    double x0 = floor_of(fx);
    double y0 = floor_of(fy);
    double ax = fx - x0;
    double ay = fy - y0;
    long ix = (long)x0;
    long iy = (long)y0;
    double v[4];

    for (int i = 0; i < 4; i++) {
        long px = ix + (i & 1);
        long py = iy + (i >> 1);

        if (px < 0 || py < 0 || px >= (long)g->width || py >= (long)g->height)
            v[i] = 255.0;
        else
            v[i] = g->rows[py][px];
    }
    return (unsigned char)((v[0] * (1 - ax) + v[1] * ax) * (1 - ay) +
                           (v[2] * (1 - ax) + v[3] * ax) * ay + 0.5);
}

static int grey_enlarge(const struct dk_grey *src, uint32_t k,
                        struct dk_grey *dst, struct dk_error *err)
{
    int rc = grey_alloc(dst, src->width * k, src->height * k, err);

    if (rc != 0)
        return rc;
    for (uint32_t y = 0; y < dst->height; y++) {
        for (uint32_t x = 0; x < dst->width; x++) {
            /* Pixel centres line up: (x + 0.5) / k - 0.5 in the source. */
            double fx = ((double)x + 0.5) / k - 0.5;
            double fy = ((double)y + 0.5) / k - 0.5;

            dst->rows[y][x] =
                grey_sample(src, fx < 0 ? 0 : fx, fy < 0 ? 0 : fy);
        }
    }
    return 0;
}

/* The turns the rotation passes use, as cosine and sine.  Written out so
 * that the driver needs no libm for three fixed angles. */
struct dk_turn {
    double cos;
    double sin;
};

static const struct dk_turn turn22 = {0.92387953251128674, 0.38268343236508978};
static const struct dk_turn turn45 = {0.70710678118654752, 0.70710678118654752};
static const struct dk_turn turn67 = {0.38268343236508978, 0.92387953251128674};

/* Turn anticlockwise about the centre into a canvas that holds all of it
 * (the angles are all in the first quadrant, so cos and sin are >= 0).
 * zbar scans rows and columns only, so a label at 45 degrees crosses no
 * scan line end to end; turned by 45 it lies along one. */
static int grey_rotate(const struct dk_grey *src, const struct dk_turn *turn,
                       struct dk_grey *dst, struct dk_error *err)
{
    double c = turn->cos;
    double s = turn->sin;
    uint32_t w = (uint32_t)(src->width * c + src->height * s + 1.0);
    uint32_t h = (uint32_t)(src->width * s + src->height * c + 1.0);
    double cx = src->width / 2.0;
    double cy = src->height / 2.0;
    int rc = grey_alloc(dst, w, h, err);

    if (rc != 0)
        return rc;
    for (uint32_t y = 0; y < h; y++) {
        double ry = y + 0.5 - h / 2.0;

        for (uint32_t x = 0; x < w; x++) {
            double rx = x + 0.5 - w / 2.0;

            dst->rows[y][x] = grey_sample(src, c * rx + s * ry + cx - 0.5,
                                          -s * rx + c * ry + cy - 0.5);
        }
    }
    return 0;
}

/* A white margin of m pixels all round: a label cropped to its bars has
 * no quiet zone, and zbar will not start a symbol without one. */
static int grey_pad(const struct dk_grey *src, uint32_t m, struct dk_grey *dst,
                    struct dk_error *err)
{
    int rc = grey_alloc(dst, src->width + 2 * m, src->height + 2 * m, err);

    if (rc != 0)
        return rc;
    memset(dst->pix, 255, (size_t)dst->width * dst->height);
    for (uint32_t y = 0; y < src->height; y++)
        memcpy(dst->rows[y + m] + m, src->rows[y], src->width);
    return 0;
}

/* Unsharp mask: each pixel pushed away from the mean of its 3 x 3
 * neighbourhood.  A photo taken slightly out of focus has bars whose
 * edges are ramps too gentle for zbar's edge detector; this steepens them. */
static int grey_sharpen(const struct dk_grey *src, struct dk_grey *dst,
                        struct dk_error *err)
{
    int rc = grey_alloc(dst, src->width, src->height, err);

    if (rc != 0)
        return rc;
    for (uint32_t y = 0; y < src->height; y++) {
        for (uint32_t x = 0; x < src->width; x++) {
            int sum = 0;
            int n = 0;
            int v;

            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    long px = (long)x + dx;
                    long py = (long)y + dy;

                    if (px < 0 || py < 0 || px >= (long)src->width ||
                        py >= (long)src->height)
                        continue;
                    sum += src->rows[py][px];
                    n++;
                }
            }
            v = src->rows[y][x] + 2 * (src->rows[y][x] - sum / n);
            dst->rows[y][x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    return 0;
}

/* The grey levels below which lo_pct and hi_pct percent of pixels lie. */
static void grey_percentiles(const struct dk_grey *g, unsigned lo_pct,
                             unsigned hi_pct, int *lo, int *hi)
{
    size_t hist[256] = {0};
    size_t n = (size_t)g->width * g->height;
    size_t seen = 0;

    for (size_t i = 0; i < n; i++)
        hist[g->pix[i]]++;
    *lo = -1;
    *hi = 255;
    for (int v = 0; v < 256; v++) {
        seen += hist[v];
        if (*lo < 0 && seen * 100 > n * lo_pct)
            *lo = v;
        if (seen * 100 >= n * hi_pct) {
            *hi = v;
            break;
        }
    }
    if (*lo < 0)
        *lo = 0;
}

/* Spread the levels between the 1st and 99th percentile over 0..255: a
 * grey-on-grey photo taken in poor light gets the contrast zbar expects. */
static int grey_stretch(const struct dk_grey *src, struct dk_grey *dst,
                        struct dk_error *err)
{
    size_t n = (size_t)src->width * src->height;
    int lo, hi;
    int rc;

    grey_percentiles(src, 1, 99, &lo, &hi);
    if (hi - lo < STRETCH_RANGE_MIN)
        return DK_ENODATA; /* the pass does not apply: no message */
    rc = grey_alloc(dst, src->width, src->height, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        int v = (src->pix[i] - lo) * 255 / (hi - lo);

        dst->pix[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return 0;
}

/* Black where a pixel is clearly darker than the mean of its
 * neighbourhood, white elsewhere: uneven light (a shadow across half a
 * label, glare on the other) defeats one threshold for the whole image. */
static int grey_threshold(const struct dk_grey *src, struct dk_grey *dst,
                          struct dk_error *err)
{
    uint32_t w = src->width;
    uint32_t h = src->height;
    uint32_t r = (w > h ? w : h) / 24;
    uint64_t *sum = NULL;
    int rc;

    if (r < 8)
        r = 8;
    rc = grey_alloc(dst, w, h, err);
    if (rc != 0)
        return rc;
    sum = calloc((size_t)(w + 1) * (h + 1), sizeof(*sum));
    if (sum == NULL)
        return dk_error_set(err, -ENOMEM, "cannot decode image: out of memory");
    /* sum[y][x] holds the total of the pixels above and left of (x, y). */
    for (uint32_t y = 0; y < h; y++) {
        uint64_t row = 0;

        for (uint32_t x = 0; x < w; x++) {
            row += src->rows[y][x];
            sum[(size_t)(y + 1) * (w + 1) + x + 1] =
                sum[(size_t)y * (w + 1) + x + 1] + row;
        }
    }
    for (uint32_t y = 0; y < h; y++) {
        uint32_t y0 = y > r ? y - r : 0;
        uint32_t y1 = y + r + 1 < h ? y + r + 1 : h;

        for (uint32_t x = 0; x < w; x++) {
            uint32_t x0 = x > r ? x - r : 0;
            uint32_t x1 = x + r + 1 < w ? x + r + 1 : w;
            uint64_t total = sum[(size_t)y1 * (w + 1) + x1] -
                             sum[(size_t)y0 * (w + 1) + x1] -
                             sum[(size_t)y1 * (w + 1) + x0] +
                             sum[(size_t)y0 * (w + 1) + x0];
            uint64_t area = (uint64_t)(x1 - x0) * (y1 - y0);

            /* The margin of 8 levels keeps flat paper white instead of
             * turning its grain into specks. */
            dst->rows[y][x] =
                (uint64_t)src->rows[y][x] * area + 8 * area < total ? 0 : 255;
        }
    }
    free(sum);
    return 0;
}

/* ---- Code 128 read again, for FNC4 ------------------------------------ */

/* zbar 0.23 decodes Code 128 but drops FNC4 (ISO/IEC 15417 section 4.3.4.2),
 * so an extended character such as 0xf3 comes back as 0x73: a wrong text
 * with a valid check character.  Each Code 128 symbol zbar reports is read
 * again along the scan lines zbar found it on; when that read has a valid
 * check character and, with FNC4 ignored, the same text as zbar's, its text
 * (with FNC4 applied, ISO 8859-1) replaces zbar's. */

/* Bar and space widths in modules of the 106 symbol characters, by value
 * (ISO/IEC 15417 table 1); the stop character 106 has a seventh element. */
static const char code128_widths[107][7] = {
    "212222", "222122", "222221", "121223", "121322", "131222", "122213",
    "122312", "132212", "221213", "221312", "231212", "112232", "122132",
    "122231", "113222", "123122", "123221", "223211", "221132", "221231",
    "213212", "223112", "312131", "311222", "321122", "321221", "312212",
    "322112", "322211", "212123", "212321", "232121", "111323", "131123",
    "131321", "112313", "132113", "132311", "211313", "231113", "231311",
    "112133", "112331", "132131", "113123", "113321", "133121", "313121",
    "211331", "231131", "213113", "213311", "213131", "311123", "311321",
    "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214",
    "112412", "122114", "122411", "142112", "142211", "241211", "221114",
    "413111", "241112", "134111", "111242", "121142", "121241", "114212",
    "124112", "124211", "411212", "421112", "421211", "212141", "214121",
    "412121", "111143", "111341", "131141", "114113", "114311", "411113",
    "411311", "113141", "114131", "311141", "411131", "211412", "211214",
    "211232", "233111",
};

enum {
    C128_FNC3 = 96,
    C128_FNC2 = 97,
    C128_SHIFT = 98,
    C128_CODE_C = 99,
    C128_CODE_B = 100, /* FNC4 in set B */
    C128_CODE_A = 101, /* FNC4 in set A */
    C128_FNC1 = 102,
    C128_START_A = 103,
    C128_START_C = 105,
    C128_STOP = 106,
    C128_LINE_MAX = 8192, /* runs on one scan line we look at */
    C128_TEXT_MAX = 256,
};

/* The value of the character whose six runs start at r, or -1. */
static int code128_char(const uint32_t *r)
{
    uint32_t total = 0;
    char w[6];

    for (int i = 0; i < 6; i++)
        total += r[i];
    if (total < 11)
        return -1;
    for (int i = 0; i < 6; i++) {
        uint32_t m =
            (r[i] * 22 + total) / (2 * total); /* round(r * 11 / total) */

        if (m < 1 || m > 4)
            return -1;
        w[i] = (char)('0' + m);
    }
    for (int v = 0; v < 107; v++) {
        if (memcmp(code128_widths[v], w, 6) == 0)
            return v;
    }
    return -1;
}

struct dk_c128_text {
    unsigned char b[C128_TEXT_MAX];
    size_t len;
};

static bool c128_put(struct dk_c128_text *t, int c, bool high)
{
    if (t->len == C128_TEXT_MAX)
        return false;
    t->b[t->len++] = (unsigned char)(high ? c + 128 : c);
    return true;
}

/* Turn values (start, data, no check, no stop) into text, applying code
 * sets, SHIFT and FNC4; FNC1-3 carry no text here, as in zbar. */
static bool code128_text(const int *v, size_t n, struct dk_c128_text *t)
{
    int set = v[0] - C128_START_A; /* 0 A, 1 B, 2 C */
    bool latched = false;          /* FNC4 FNC4: extended until undone */
    bool fnc4 = false;             /* one FNC4: the next character flips */
    bool shift = false;

    t->len = 0;
    for (size_t i = 1; i < n; i++) {
        int c = v[i];
        int cur = shift ? 1 - set : set;

        shift = false;
        if (set == 2 && c < 100) {
            if (!c128_put(t, '0' + c / 10, false) ||
                !c128_put(t, '0' + c % 10, false))
                return false;
            continue;
        }
        if (c >= C128_START_A)
            return false;
        if (c == C128_FNC1 || c == C128_FNC2 || c == C128_FNC3)
            continue;
        if (c == C128_SHIFT && set != 2) {
            shift = true;
            continue;
        }
        if ((cur == 0 && c == C128_CODE_A) || (cur == 1 && c == C128_CODE_B)) {
            if (fnc4) {
                latched = !latched;
                fnc4 = false;
            } else {
                fnc4 = true;
            }
            continue;
        }
        if (c == C128_CODE_A || c == C128_CODE_B || c == C128_CODE_C) {
            set = C128_CODE_A - c;
            continue;
        }
        if (!c128_put(t, cur == 0 && c >= 64 ? c - 64 : c + 32,
                      latched != fnc4))
            return false;
        fnc4 = false;
    }
    return true;
}

/* Read one Code 128 symbol from the runs of one line (runs[0] a bar). */
static bool code128_runs(const uint32_t *runs, size_t n, struct dk_c128_text *t)
{
    int v[C128_TEXT_MAX];

    for (size_t start = 0; start + 6 <= n; start += 2) {
        int first = code128_char(runs + start);
        size_t k = 0;
        uint32_t sum;

        if (first < C128_START_A || first > C128_START_C)
            continue;
        for (size_t i = start; i + 6 <= n && k < C128_TEXT_MAX; i += 6) {
            v[k] = code128_char(runs + i);
            if (v[k] < 0 || v[k] == C128_STOP)
                break;
            k++;
        }
        if (k < 3 || k == C128_TEXT_MAX || start + 6 * k + 6 > n ||
            code128_char(runs + start + 6 * k) != C128_STOP)
            continue;
        sum = (uint32_t)v[0];
        for (size_t i = 1; i + 1 < k; i++)
            sum += (uint32_t)(v[i] * (int)i);
        if (sum % 103 == (uint32_t)v[k - 1] && code128_text(v, k - 1, t))
            return true;
    }
    return false;
}

/* Runs of dark and light along n pixels at px (step apart), starting at
 * the first dark run.  A pixel is dark below level eighths of the way from
 * the line's darkest to its lightest.  reverse reads the line from its far
 * end. */
static size_t line_runs(const unsigned char *px, size_t n, size_t step,
                        unsigned level, bool reverse, uint32_t *runs,
                        size_t max)
{
    unsigned char lo = 255, hi = 0;
    size_t count = 0;
    bool dark = false;

    for (size_t i = 0; i < n; i++) {
        unsigned char p = px[i * step];

        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        bool d = px[i * step] * 8u < lo * 8u + (unsigned)(hi - lo) * level;

        if (count == 0 && !d)
            continue;
        if (count == 0 || d != dark) {
            if (count == max)
                break;
            runs[count++] = 0;
            dark = d;
        }
        runs[count - 1]++;
    }
    return count;
}

/* Read the Code 128 symbol s again from g; true with t filled when the
 * read agrees with zbar's text once FNC4 is set aside. */
static bool code128_reread(const struct dk_grey *g, const zbar_symbol_t *s,
                           struct dk_c128_text *t)
{
    uint32_t *runs = malloc(sizeof(*runs) * C128_LINE_MAX);
    const char *data = zbar_symbol_get_data(s);
    size_t len = zbar_symbol_get_data_length(s);
    zbar_orientation_t o = zbar_symbol_get_orientation(s);
    bool vertical = o == ZBAR_ORIENT_RIGHT || o == ZBAR_ORIENT_LEFT;
    unsigned points = zbar_symbol_get_loc_size(s);
    bool found = false;

    /* Sixteen lines are plenty: a clean symbol reads on the first. */
    for (unsigned i = 0; runs != NULL && i < points && i < 16 && !found; i++) {
        int at = vertical ? zbar_symbol_get_loc_x(s, i)
                          : zbar_symbol_get_loc_y(s, i);
        const unsigned char *px;
        size_t n, step, count;

        if (at < 0 || (uint32_t)at >= (vertical ? g->width : g->height))
            continue;
        px = vertical ? g->pix + at : g->rows[at];
        n = vertical ? g->height : g->width;
        step = vertical ? g->width : 1;
        /* Midway first; then nearer the dark and the light ends, for bars
         * that ink has spread or glare has thinned. */
        for (int try = 0; try < 6 && !found; try++) {
            static const unsigned levels[3] = {4, 3, 5};

            count = line_runs(px, n, step, levels[try / 2], try % 2 != 0, runs,
                              C128_LINE_MAX);
            if (!code128_runs(runs, count, t) || t->len != len)
                continue;
            found = true;
            for (size_t k = 0; k < len && found; k++)
                found = (t->b[k] & 0x7f) == (unsigned char)data[k];
        }
    }
    free(runs);
    return found;
}

/* ---- zbar and the trust rule ------------------------------------------ */

/* What the district's labels use (see barcode_image.h for the choice). */
static const zbar_symbol_type_t wanted_symbologies[] = {
    ZBAR_EAN13, ZBAR_EAN8, ZBAR_UPCE, ZBAR_CODE128, ZBAR_CODE39, ZBAR_QRCODE,
};

/* Code 39 shorter than this is more often a fragment of print than a
 * label; our shortest tags are six characters. */
#define CODE39_MIN_LEN 4
/* Distinct texts remembered per image; a photo with more is not a label. */
#define CANDIDATES_MAX 32

enum dk_check {
    DK_CHECK_STRONG, /* Reed-Solomon: a misread does not survive it */
    DK_CHECK_DIGIT,  /* one check character: a misread rarely survives */
    DK_CHECK_NONE,   /* nothing: any run of plausible bars is a result */
};

static enum dk_check symbology_check(zbar_symbol_type_t type)
{
    switch (type) {
    case ZBAR_QRCODE:
        return DK_CHECK_STRONG;
    case ZBAR_EAN13:
    case ZBAR_EAN8:
    case ZBAR_UPCE:
    case ZBAR_UPCA:
    case ZBAR_CODE128:
        return DK_CHECK_DIGIT;
    default:
        return DK_CHECK_NONE;
    }
}

struct dk_candidate {
    zbar_symbol_type_t type;
    char *data; /* len bytes and a NUL */
    size_t len;
    uint32_t passes; /* bit i: pass i found this text */
    int quality;     /* most scan lines one pass read it on */
    bool emitted;
};

struct dk_tally {
    struct dk_candidate c[CANDIDATES_MAX];
    size_t n;
};

static void tally_free(struct dk_tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->c[i].data);
    t->n = 0;
}

static int tally_add(struct dk_tally *t, zbar_symbol_type_t type,
                     const char *data, size_t len, int quality, unsigned pass,
                     struct dk_error *err)
{
    struct dk_candidate *c = NULL;

    for (size_t i = 0; i < t->n && c == NULL; i++) {
        if (t->c[i].type == type && t->c[i].len == len &&
            memcmp(t->c[i].data, data, len) == 0)
            c = &t->c[i];
    }
    if (c == NULL) {
        if (t->n == CANDIDATES_MAX)
            return 0;
        c = &t->c[t->n];
        memset(c, 0, sizeof(*c));
        c->data = malloc(len + 1);
        if (c->data == NULL)
            return dk_error_set(err, -ENOMEM,
                                "cannot copy barcode data: out of memory");
        memcpy(c->data, data, len);
        c->data[len] = '\0';
        c->type = type;
        c->len = len;
        t->n++;
    }
    c->passes |= UINT32_C(1) << pass;
    if (quality > c->quality)
        c->quality = quality;
    return 0;
}

/* ---- the passes, in the order they are tried -------------------------- */

enum dk_step {
    DK_STEP_END,
    DK_STEP_INVERT,
    DK_STEP_STRETCH,
    DK_STEP_THRESHOLD,
    DK_STEP_SHARPEN,
    DK_STEP_PAD,
    DK_STEP_SHRINK2,
    DK_STEP_SHRINK3,
    DK_STEP_ENLARGE2,
    DK_STEP_ENLARGE3,
    DK_STEP_ROTATE22,
    DK_STEP_ROTATE45,
    DK_STEP_ROTATE67,
};

#define PASS_STEPS_MAX 3

/* A pass is up to three steps applied to the work image in order. */
struct dk_pass {
    const char *name;
    enum dk_step steps[PASS_STEPS_MAX];
};

/* Pass 0 is the image as it came; the others are tried in this order, the
 * cheap and likely ones first, until one makes a text trusted. */
static const struct dk_pass passes[] = {
    {"plain", {DK_STEP_END}},
    {"invert", {DK_STEP_INVERT}},
    {"pad", {DK_STEP_PAD}},
    {"stretch", {DK_STEP_STRETCH}},
    {"threshold", {DK_STEP_THRESHOLD}},
    {"sharpen", {DK_STEP_SHARPEN}},
    {"shrink2", {DK_STEP_SHRINK2}},
    {"shrink3", {DK_STEP_SHRINK3}},
    {"enlarge2", {DK_STEP_PAD, DK_STEP_ENLARGE2}},
    {"enlarge3", {DK_STEP_PAD, DK_STEP_ENLARGE3}},
    {"enlarge2+sharpen", {DK_STEP_PAD, DK_STEP_ENLARGE2, DK_STEP_SHARPEN}},
    {"enlarge3+threshold", {DK_STEP_PAD, DK_STEP_ENLARGE3, DK_STEP_THRESHOLD}},
    {"invert+enlarge2", {DK_STEP_INVERT, DK_STEP_PAD, DK_STEP_ENLARGE2}},
    {"stretch+sharpen", {DK_STEP_STRETCH, DK_STEP_SHARPEN}},
    {"rotate22", {DK_STEP_ROTATE22}},
    {"rotate45", {DK_STEP_ROTATE45}},
    {"rotate67", {DK_STEP_ROTATE67}},
    {"stretch+rotate22", {DK_STEP_STRETCH, DK_STEP_ROTATE22}},
    {"stretch+rotate45", {DK_STEP_STRETCH, DK_STEP_ROTATE45}},
    {"stretch+rotate67", {DK_STEP_STRETCH, DK_STEP_ROTATE67}},
};

#define PASS_COUNT (sizeof(passes) / sizeof(passes[0]))

static uint32_t long_side(const struct dk_grey *g)
{
    return g->width > g->height ? g->width : g->height;
}

/* One step from src into dst.  DK_ENODATA means the step does not apply
 * to this image (too large to enlarge, too flat to stretch); other
 * negatives are failures. */
static int pass_step(enum dk_step step, const struct dk_grey *src,
                     struct dk_grey *dst, struct dk_error *err)
{
    switch (step) {
    case DK_STEP_END:
        break;
    case DK_STEP_INVERT:
        return grey_invert(src, dst, err);
    case DK_STEP_STRETCH:
        return grey_stretch(src, dst, err);
    case DK_STEP_THRESHOLD:
        return grey_threshold(src, dst, err);
    case DK_STEP_SHARPEN:
        return grey_sharpen(src, dst, err);
    case DK_STEP_PAD:
        return grey_pad(src, 8 + long_side(src) / 16, dst, err);
    case DK_STEP_SHRINK2:
        return grey_shrink(src, 2, dst, err);
    case DK_STEP_SHRINK3:
        return grey_shrink(src, 3, dst, err);
    case DK_STEP_ENLARGE2:
        if (long_side(src) > UPSCALE2_SIDE_MAX)
            break;
        return grey_enlarge(src, 2, dst, err);
    case DK_STEP_ENLARGE3:
        if (long_side(src) > UPSCALE3_SIDE_MAX)
            break;
        return grey_enlarge(src, 3, dst, err);
    case DK_STEP_ROTATE22:
        return grey_rotate(src, &turn22, dst, err);
    case DK_STEP_ROTATE45:
        return grey_rotate(src, &turn45, dst, err);
    case DK_STEP_ROTATE67:
        return grey_rotate(src, &turn67, dst, err);
    }
    return DK_ENODATA;
}

/* Build pass p's image from the work image w into out (empty on entry). */
static int pass_image(const struct dk_pass *p, const struct dk_grey *w,
                      struct dk_grey *out, struct dk_error *err)
{
    struct dk_grey cur = {0};
    int rc = DK_ENODATA;

    for (size_t i = 0; i < PASS_STEPS_MAX && p->steps[i] != DK_STEP_END; i++) {
        struct dk_grey next = {0};

        rc = pass_step(p->steps[i], i == 0 ? w : &cur, &next, err);
        grey_free(&cur);
        cur = next;
        if (rc != 0)
            break;
    }
    if (rc == 0)
        *out = cur;
    else
        grey_free(&cur);
    return rc;
}

/* Whether two passes changed the pixels in different ways.  A margin
 * changes none of the pixels inside a label, so it does not count; two
 * passes that both sharpen can both invent the same false edge. */
static bool passes_independent(unsigned a, unsigned b)
{
    for (size_t i = 0; i < PASS_STEPS_MAX; i++) {
        enum dk_step s = passes[a].steps[i];

        if (s == DK_STEP_END)
            break;
        if (s == DK_STEP_PAD)
            continue;
        for (size_t k = 0;
             k < PASS_STEPS_MAX && passes[b].steps[k] != DK_STEP_END; k++) {
            if (passes[b].steps[k] == s)
                return false;
        }
    }
    return a != b;
}

static bool independent_agreement(uint32_t mask)
{
    for (unsigned a = 0; a < PASS_COUNT; a++) {
        for (unsigned b = a + 1; b < PASS_COUNT; b++) {
            if ((mask >> a & 1u) && (mask >> b & 1u) &&
                passes_independent(a, b))
                return true;
        }
    }
    return false;
}

/* EAN-13, UPC-A, EAN-8 and UPC-E are one family: a misread of one can come
 * out as another. */
static int symbology_family(zbar_symbol_type_t type)
{
    switch (type) {
    case ZBAR_EAN13:
    case ZBAR_EAN8:
    case ZBAR_UPCE:
    case ZBAR_UPCA:
        return ZBAR_EAN13;
    default:
        return (int)type;
    }
}

/* Whether any pass read a different text of c's family in this image. */
static bool candidate_contested(const struct dk_tally *t,
                                const struct dk_candidate *c)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct dk_candidate *o = &t->c[i];

        if (o != c && symbology_family(o->type) == symbology_family(c->type))
            return true;
    }
    return false;
}

/* The trust rule (barcode_image.h says it for callers).  Pass 0 is the
 * image as it came, which is what zbarimg reads; every other pass changes
 * the pixels, and a changed image can show bars that were never printed:
 *   - QR Code: trusted from any pass; its Reed-Solomon code corrects what
 *     it can and refuses the rest, so a misread does not come out.
 *   - a check character (EAN/UPC, Code 128): trusted from the plain pass;
 *     from the others only when two independent passes read the same text
 *     and no pass read a different text of the same family.
 *   - no check (Code 39): as a check character, and on top of that read on
 *     at least two scan lines of one pass. */
static bool candidate_trusted(const struct dk_tally *t,
                              const struct dk_candidate *c)
{
    bool plain = (c->passes & 1u) != 0;
    bool agreed =
        independent_agreement(c->passes) && !candidate_contested(t, c);

    switch (symbology_check(c->type)) {
    case DK_CHECK_STRONG:
        return true;
    case DK_CHECK_DIGIT:
        return plain || agreed;
    case DK_CHECK_NONE:
        return c->quality >= 2 && (plain || agreed);
    }
    return false;
}

/* Hand each newly trusted candidate to fn; returns how many. */
static int tally_emit(struct dk_tally *t, dk_barcode_fn fn, void *user)
{
    int n = 0;

    for (size_t i = 0; i < t->n; i++) {
        struct dk_candidate *c = &t->c[i];

        if (c->emitted || !candidate_trusted(t, c))
            continue;
        c->emitted = true;
        fn(zbar_get_symbol_name(c->type), c->data, c->len, user);
        n++;
    }
    return n;
}

static zbar_image_scanner_t *scanner_new(void)
{
    zbar_image_scanner_t *scanner = zbar_image_scanner_create();

    if (scanner == NULL)
        return NULL;
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    for (size_t i = 0;
         i < sizeof(wanted_symbologies) / sizeof(wanted_symbologies[0]); i++)
        zbar_image_scanner_set_config(scanner, wanted_symbologies[i],
                                      ZBAR_CFG_ENABLE, 1);
    /* Without ZBAR_CFG_BINARY zbar guesses a character set for QR byte mode
     * and converts the data to UTF-8, which changes the bytes of a signed
     * receipt; with it the data comes back as encoded. */
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
    zbar_image_scanner_set_config(scanner, ZBAR_CODE39, ZBAR_CFG_MIN_LEN,
                                  CODE39_MIN_LEN);
    /* Scan every row and column: the passes below assume zbar looks along
     * both axes, in both directions. */
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_X_DENSITY, 1);
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, 1);
    return scanner;
}

/* Run zbar over g and add what it finds to t as pass number pass. */
static int scan_pass(zbar_image_scanner_t *scanner, const struct dk_grey *g,
                     unsigned pass, struct dk_tally *t, struct dk_error *err)
{
    zbar_image_t *image = zbar_image_create();
    int rc = 0;

    if (image == NULL)
        return dk_error_set(err, -ENOMEM,
                            "cannot start the barcode scanner: out of memory");
    zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(image, g->width, g->height);
    zbar_image_set_data(image, g->pix, (unsigned long)g->width * g->height,
                        NULL);
    if (zbar_scan_image(scanner, image) < 0) {
        rc = dk_error_set(err, -EIO, "the barcode scanner failed on the image");
        goto out;
    }
    for (const zbar_symbol_t *s = zbar_image_first_symbol(image);
         s != NULL && rc == 0; s = zbar_symbol_next(s)) {
        zbar_symbol_type_t type = zbar_symbol_get_type(s);
        const char *data = zbar_symbol_get_data(s);
        size_t len = zbar_symbol_get_data_length(s);
        int quality = zbar_symbol_get_quality(s);
        struct dk_c128_text fixed;

        if (type == ZBAR_CODE128 && code128_reread(g, s, &fixed)) {
            data = (const char *)fixed.b;
            len = fixed.len;
        } else if (type == ZBAR_CODE128) {
            /* TODO(barcode): when zbar decodes FNC4 itself (it does not in
             * 0.23.92), drop code128_reread, because until then a symbol
             * our simple re-read cannot follow may hide an extended
             * character behind zbar's 7-bit text. */
            log_debug(
                "barcode pass %s: Code 128 not read again; zbar's text kept",
                passes[pass].name);
        }
        log_debug("barcode pass %s: %s quality %d: %.*s", passes[pass].name,
                  zbar_get_symbol_name(type), quality, (int)len, data);
        rc = tally_add(t, type, data, len, quality, pass, err);
    }
out:
    zbar_image_destroy(image); /* the pixels stay ours: no cleanup handler */
    return rc;
}

/* The passes after the plain one, until one of them makes a text
 * trusted.  Returns how many symbols were handed to fn, or a negative. */
static int scan_harder(zbar_image_scanner_t *scanner, const struct dk_grey *g,
                       struct dk_tally *t, dk_barcode_fn fn, void *user,
                       struct dk_error *err)
{
    struct dk_grey shrunk = {0};
    const struct dk_grey *w = g;
    int emitted = 0;
    int rc = 0;

    if (long_side(g) > WORK_SIDE_MAX) {
        rc = grey_shrink(g, (long_side(g) + WORK_SIDE_MAX - 1) / WORK_SIDE_MAX,
                         &shrunk, err);
        if (rc == DK_ENODATA)
            rc = 0; /* a sliver thinner than the factor: nothing to try */
        if (rc != 0 || shrunk.pix == NULL)
            goto out;
        w = &shrunk;
    }
    for (unsigned p = 1; p < PASS_COUNT && emitted == 0; p++) {
        struct dk_grey img = {0};

        rc = pass_image(&passes[p], w, &img, err);
        if (rc == 0)
            rc = scan_pass(scanner, &img, p, t, err);
        grey_free(&img);
        if (rc == DK_ENODATA)
            rc = 0;
        if (rc != 0)
            goto out;
        emitted = tally_emit(t, fn, user);
    }
    rc = emitted;
out:
    grey_free(&shrunk);
    return rc;
}

static int decode_grey(const struct dk_grey *g, dk_barcode_fn fn, void *user,
                       struct dk_error *err)
{
    zbar_image_scanner_t *scanner = scanner_new();
    struct dk_tally *t = calloc(1, sizeof(*t));
    int rc;

    if (scanner == NULL || t == NULL) {
        rc = dk_error_set(err, -ENOMEM,
                          "cannot start the barcode scanner: out of memory");
        goto out;
    }
    rc = scan_pass(scanner, g, 0, t, err);
    if (rc != 0)
        goto out;
    rc = tally_emit(t, fn, user);
    if (rc == 0)
        rc = scan_harder(scanner, g, t, fn, user, err);
out:
    if (t != NULL)
        tally_free(t);
    free(t);
    if (scanner != NULL)
        zbar_image_scanner_destroy(scanner);
    return rc;
}

int barcode_image_decode_buffer(const unsigned char *buf, size_t len,
                                dk_barcode_fn fn, void *user,
                                struct dk_error *err)
{
    struct dk_grey grey = {0};
    int rc;

    if (buf != NULL && len >= sizeof(png_magic) &&
        memcmp(buf, png_magic, sizeof(png_magic)) == 0) {
        struct dk_png_in in = {
            .buf = buf, .len = len, .grey = &grey, .err = err};

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
        rc = dk_error_set(err, DK_EINPUT,
                          "cannot read JPEG image: built without libjpeg");
#endif
    } else {
        rc = dk_error_set(err, DK_EINPUT,
                          "not an image we read (expected PNG or JPEG)");
    }
    if (rc == 0)
        rc = decode_grey(&grey, fn, user, err);
    grey_free(&grey);
    return rc;
}

static int read_whole_file(const char *path, unsigned char **buf, size_t *len,
                           struct dk_error *err)
{
    int rc = file_read_path(path, IMAGE_FILE_MAX, (char **)buf, len);

    if (rc == -EINVAL || rc == -EFBIG)
        return dk_error_set(err, DK_EINPUT,
                            "image %s is not a regular file of at most %u bytes", path,
                            IMAGE_FILE_MAX);
    if (rc != 0)
        return dk_error_set(err, rc, "cannot open image %s: %s", path, strerror(-rc));
    return 0;
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

/* Well-formed UTF-8 (RFC 3629 section 4): no overlong forms, no surrogates,
 * nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char b = s[i];
        size_t n;
        uint32_t cp;

        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf)
            n = 1, cp = b & 0x1f;
        else if (b >= 0xe0 && b <= 0xef)
            n = 2, cp = b & 0x0f;
        else if (b >= 0xf0 && b <= 0xf4)
            n = 3, cp = b & 0x07;
        else
            return false;
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

char *barcode_image_utf8(const char *symbology, const char *data, size_t len,
                         size_t *out_len)
{
    const unsigned char *in = (const unsigned char *)data;
    bool keep = strcmp(symbology, "QR-Code") == 0 && utf8_valid(in, len);
    char *out = malloc(keep ? len + 1 : 2 * len + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (keep || in[i] < 0x80) {
            out[n++] = (char)in[i];
            continue;
        }
        out[n++] = (char)(0xc0 | (in[i] >> 6));
        out[n++] = (char)(0x80 | (in[i] & 0x3f));
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}
