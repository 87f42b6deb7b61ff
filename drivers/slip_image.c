#include "slip_image.h"

#include "receipt.h"

#include <errno.h>
#include <limits.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FONT_FAMILY "DejaVu Sans"
/* The quiet zone ISO/IEC 18004 asks around a QR Code, in modules. */
#define QR_QUIET 4
/* cairo's image surfaces stop at 32767 pixels a side. */
#define IMAGE_MAX_HEIGHT 32767
/* A PNG of the tallest slip is a few MiB; this bounds a runaway. */
#define PNG_MAX (64u << 20)

/* One paragraph of the slip, laid out, and the space left under it. */
struct block {
    PangoLayout *layout;
    int gap;
};

struct png_buf {
    unsigned char *p;
    size_t len;
    size_t cap;
};

static const char *text_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* A paragraph width pixels wide, wrapped between words (or inside a word
 * longer than the line), lines after the first indented by hang pixels.
 * NULL when out of memory. */
static PangoLayout *paragraph(cairo_t *cr, const char *text, int px, bool bold, bool centre,
                              int width, int hang)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *font = pango_font_description_new();
    char *valid = g_utf8_make_valid(text_or_empty(text), -1);

    pango_font_description_set_family(font, FONT_FAMILY);
    pango_font_description_set_absolute_size(font, (double)px * PANGO_SCALE);
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, font);
    pango_layout_set_width(l, width * PANGO_SCALE);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, centre ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
    /* A negative indent is a hanging one: the first line at the margin. */
    pango_layout_set_indent(l, -hang * PANGO_SCALE);
    /* Plain text, never markup: a "<" in a model name is just a "<". */
    pango_layout_set_text(l, valid, -1);
    g_free(valid);
    pango_font_description_free(font);
    return l;
}

static char *device_text(const struct dk_slip *slip, const struct dk_slip_device *d)
{
    const struct dk_slip_words *w = &slip->words;
    const char *model = text_or_empty(d->model);

    return g_strconcat(text_or_empty(w->device), " ", text_or_empty(d->tag),
                       model[0] != '\0' ? ", " : "", model, ", ", text_or_empty(w->charger),
                       ": ", text_or_empty(d->charger ? w->yes : w->no), NULL);
}

/* Lay out every paragraph of the slip in order into blocks (n_devices + 7
 * of them) on the measuring context cr. */
static void lay_out(cairo_t *cr, const struct dk_slip *slip, int width_px, struct block *b)
{
    int px = width_px / 24;
    int text_w = width_px - 2 * (width_px / 24);
    char *receipt = g_strconcat(text_or_empty(slip->words.receipt), " ",
                                text_or_empty(slip->receipt_id), NULL);
    size_t n = 0;

    b[n++] = (struct block){paragraph(cr, slip->words.title, px * 3 / 2, true, true, text_w, 0),
                            px / 2};
    b[n++] = (struct block){paragraph(cr, slip->district, px, false, true, text_w, 0), 0};
    b[n++] = (struct block){paragraph(cr, slip->site_name, px, false, true, text_w, 0), px};
    b[n++] = (struct block){paragraph(cr, receipt, px, false, false, text_w, 0), 0};
    b[n++] = (struct block){paragraph(cr, slip->when_local, px, false, false, text_w, 0), px};
    for (size_t i = 0; i < slip->n_devices; i++) {
        char *line = device_text(slip, &slip->devices[i]);

        b[n++] = (struct block){paragraph(cr, line, px, false, false, text_w, px), px / 4};
        g_free(line);
    }
    b[n - 1].gap = px;
    b[n++] = (struct block){paragraph(cr, slip->words.pending, px, true, false, text_w, 0), px};
    b[n++] = (struct block){paragraph(cr, slip->words.scan_qr, px, false, true, text_w, 0), 0};
    g_free(receipt);
}

static int qr_encode(const struct dk_slip *slip, QRcode **qr, struct dk_error *err)
{
    return receipt_qr_encode(slip->payload, slip->payload_len, qr, err);
}

/* Dark modules as filled squares of module pixels, the symbol's top-left
 * module at (x, y); antialiasing off so each edge lands on a pixel edge. */
static void draw_qr(cairo_t *cr, const QRcode *qr, int x, int y, int module)
{
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int row = 0; row < qr->width; row++) {
        for (int col = 0; col < qr->width; col++) {
            if ((qr->data[(size_t)row * (size_t)qr->width + (size_t)col] & 1) != 0)
                cairo_rectangle(cr, x + col * module, y + row * module, module, module);
        }
    }
    cairo_fill(cr);
}

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int n)
{
    struct png_buf *o = closure;

    if (n > PNG_MAX - o->len)
        return CAIRO_STATUS_WRITE_ERROR;
    if (o->len + n > o->cap) {
        size_t cap = o->cap != 0 ? o->cap : 16384;
        unsigned char *p;

        while (cap < o->len + n)
            cap *= 2;
        p = realloc(o->p, cap);
        if (p == NULL)
            return CAIRO_STATUS_NO_MEMORY;
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, data, n);
    o->len += n;
    return CAIRO_STATUS_SUCCESS;
}

/* The slip's height: margins, blocks with their gaps, the QR code side. */
static long slip_height(const struct block *b, size_t n, int margin, int qr_side)
{
    long h = 2L * margin + qr_side;

    for (size_t i = 0; i < n; i++) {
        int bh;

        pango_layout_get_pixel_size(b[i].layout, NULL, &bh);
        h += bh + b[i].gap;
    }
    return h;
}

static void draw_slip(cairo_t *cr, const struct block *b, size_t n, int width_px, int margin,
                      const QRcode *qr, int module)
{
    int y = margin;
    int side = (qr->width + 2 * QR_QUIET) * module;

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (size_t i = 0; i < n; i++) {
        int bh;

        /* Laid out on the measuring surface, an image surface like this
         * one, so the metrics do not change. */
        pango_cairo_update_layout(cr, b[i].layout);
        pango_layout_get_pixel_size(b[i].layout, NULL, &bh);
        cairo_move_to(cr, margin, y);
        pango_cairo_show_layout(cr, b[i].layout);
        y += bh + b[i].gap;
    }
    draw_qr(cr, qr, (width_px - side) / 2 + QR_QUIET * module, y + QR_QUIET * module, module);
}

/* Every paragraph of the slip laid out (n_devices + 7 blocks), measured on
 * a scratch image surface; NULL when out of memory. */
static struct block *measure(const struct dk_slip *slip, int width_px)
{
    struct block *blocks = calloc(slip->n_devices + 7, sizeof(*blocks));
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(scratch);

    if (blocks != NULL && cairo_status(cr) == CAIRO_STATUS_SUCCESS) {
        lay_out(cr, slip, width_px, blocks);
    } else {
        free(blocks);
        blocks = NULL;
    }
    /* Each layout keeps its own reference to the Pango context. */
    cairo_destroy(cr);
    cairo_surface_destroy(scratch);
    return blocks;
}

static void free_blocks(struct block *blocks, size_t n)
{
    for (size_t i = 0; blocks != NULL && i < n; i++)
        g_object_unref(blocks[i].layout);
    free(blocks);
}

/* Draw the slip height pixels tall and write it as a PNG into o. */
static int render(const struct block *blocks, size_t n, int width_px, long height,
                  const QRcode *qr, int module, struct png_buf *o, struct dk_error *err)
{
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width_px,
                                                          (int)height);
    cairo_t *cr = cairo_create(surface);
    cairo_status_t status = cairo_status(cr);
    int rc = 0;

    if (status == CAIRO_STATUS_SUCCESS) {
        draw_slip(cr, blocks, n, width_px, width_px / 24, qr, module);
        cairo_surface_flush(surface);
        status = cairo_status(cr);
    }
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_write_to_png_stream(surface, png_write, o);
    if (status != CAIRO_STATUS_SUCCESS)
        rc = dk_error_set(err, status == CAIRO_STATUS_NO_MEMORY ? -ENOMEM : -EIO,
                          "cannot draw the slip image: %s", cairo_status_to_string(status));
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    return rc;
}

int slip_image_png(const struct dk_slip *slip, int width_px, unsigned char **png, size_t *len,
                   struct dk_error *err)
{
    struct png_buf o = {0};
    QRcode *qr = NULL;
    struct block *blocks = NULL;
    size_t n_blocks = 0;
    int margin = width_px / 24;
    int module;
    long height;
    int rc;

    if (png == NULL || len == NULL)
        return -EINVAL;
    *png = NULL;
    *len = 0;
    if (slip == NULL || (slip->payload == NULL && slip->payload_len != 0) ||
        (slip->devices == NULL && slip->n_devices != 0))
        return dk_error_set(err, -EINVAL, "no slip to draw");
    if (width_px < SLIP_IMAGE_MIN_WIDTH || width_px > SLIP_IMAGE_MAX_WIDTH)
        return dk_error_set(err, DK_EINPUT, "slip image width of %d pixels is not %d to %d",
                            width_px, SLIP_IMAGE_MIN_WIDTH, SLIP_IMAGE_MAX_WIDTH);
    rc = qr_encode(slip, &qr, err);
    if (rc != 0)
        goto out;
    /* The largest whole number of pixels a module that keeps the symbol
     * and its quiet zone inside the margins; at least 1 (version 40 is 185
     * modules with its quiet zone, narrower than the narrowest image). */
    module = (width_px - 2 * margin) / (qr->width + 2 * QR_QUIET);

    blocks = measure(slip, width_px);
    if (blocks == NULL) {
        rc = dk_error_set(err, -ENOMEM, "cannot draw the slip: out of memory");
        goto out;
    }
    n_blocks = slip->n_devices + 7;
    height = slip_height(blocks, n_blocks, margin, (qr->width + 2 * QR_QUIET) * module);
    if (height > IMAGE_MAX_HEIGHT) {
        rc = dk_error_set(err, DK_EINPUT,
                          "slip with %zu devices would be %ld pixels tall, over %d",
                          slip->n_devices, height, IMAGE_MAX_HEIGHT);
        goto out;
    }
    rc = render(blocks, n_blocks, width_px, height, qr, module, &o, err);
    if (rc != 0)
        goto out;
    *png = o.p;
    *len = o.len;
    o.p = NULL;
out:
    free_blocks(blocks, n_blocks);
    QRcode_free(qr);
    free(o.p);
    return rc;
}
