/* Barcode images: the retry passes (inverted, turned, tiny), the trust
 * rule on images with nothing in them, Code 128 FNC4, the UTF-8 form of a
 * symbol's text, and the camera back end's missing-device message.
 *
 * QR codes are made with libqrencode; the Code 128 symbol is drawn from
 * bar and space widths written out below from ISO/IEC 15417 table 1, so
 * that it does not depend on the decoder's own table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "barcode_image.h"
#include "scanner.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
    int calls;
    char symbology[32];
    char data[256];
    size_t len;
};

static void remember(const char *symbology, const char *data, size_t len,
                     void *user)
{
    struct seen *s = user;

    s->calls++;
    snprintf(s->symbology, sizeof(s->symbology), "%s", symbology);
    assert_true(len < sizeof(s->data));
    memcpy(s->data, data, len + 1);
    s->len = len;
}

struct image {
    unsigned char *pix;
    unsigned w;
    unsigned h;
};

static void image_new(struct image *im, unsigned w, unsigned h,
                      unsigned char fill)
{
    im->w = w;
    im->h = h;
    im->pix = malloc((size_t)w * h);
    assert_non_null(im->pix);
    memset(im->pix, fill, (size_t)w * h);
}

/* 8-bit grey PNG in memory; caller frees *out. */
static void image_png(const struct image *im, unsigned char **out,
                      size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);

    assert_non_null(f);
    assert_non_null(info);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, im->w, im->h, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < im->h; y++)
        png_write_row(png, im->pix + (size_t)y * im->w);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    assert_int_equal(fclose(f), 0);
    *out = (unsigned char *)buf;
    *out_len = len;
}

static int decode_image(const struct image *im, struct seen *seen)
{
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;
    int rc;

    image_png(im, &png, &len);
    rc = barcode_image_decode_buffer(png, len, remember, seen, &err);
    free(png);
    free(im->pix);
    return rc;
}

enum qr_draw { QR_PLAIN, QR_INVERTED, QR_TURNED_90 };

/* text as a QR code, scale pixels a module, a quiet zone of qz modules. */
static void draw_qr(const char *text, unsigned scale, unsigned qz,
                    enum qr_draw how, struct image *im)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    unsigned side;
    unsigned char dark = how == QR_INVERTED ? 255 : 0;

    assert_non_null(qr);
    side = ((unsigned)qr->width + 2 * qz) * scale;
    image_new(im, side, side, (unsigned char)(255 - dark));
    for (unsigned my = 0; my < (unsigned)qr->width; my++) {
        for (unsigned mx = 0; mx < (unsigned)qr->width; mx++) {
            /* Turned 90 degrees clockwise: module (mx, my) lands at
             * (width - 1 - my, mx). */
            unsigned dx =
                how == QR_TURNED_90 ? (unsigned)qr->width - 1 - my : mx;
            unsigned dy = how == QR_TURNED_90 ? mx : my;

            if ((qr->data[my * (unsigned)qr->width + mx] & 1) == 0)
                continue;
            for (unsigned y = 0; y < scale; y++)
                memset(im->pix + (size_t)((dy + qz) * scale + y) * side +
                           (dx + qz) * scale,
                       dark, scale);
        }
    }
    QRcode_free(qr);
}

static void test_qr_light_on_dark_is_found(void **state)
{
    struct seen seen = {0};
    struct image im;

    (void)state;
    draw_qr("RPS-104233", 4, 4, QR_INVERTED, &im);
    assert_int_equal(decode_image(&im, &seen), 1);
    assert_string_equal(seen.symbology, "QR-Code");
    assert_string_equal(seen.data, "RPS-104233");
}

static void test_qr_turned_90_degrees_is_found(void **state)
{
    struct seen seen = {0};
    struct image im;

    (void)state;
    draw_qr("RPS-104233", 4, 4, QR_TURNED_90, &im);
    assert_int_equal(decode_image(&im, &seen), 1);
    assert_string_equal(seen.symbology, "QR-Code");
    assert_string_equal(seen.data, "RPS-104233");
}

/* One pixel a module in a 37-pixel image: zbar does not find it as it
 * comes, nor with a wider margin; an enlarging pass does. */
static void test_tiny_qr_is_found_enlarged(void **state)
{
    struct seen seen = {0};
    struct image im;

    (void)state;
    draw_qr("RPS-104233", 1, 8, QR_PLAIN, &im);
    assert_int_equal(im.w, 37);
    assert_int_equal(decode_image(&im, &seen), 1);
    assert_string_equal(seen.symbology, "QR-Code");
    assert_string_equal(seen.data, "RPS-104233");
}

static void test_blank_image_gives_nothing(void **state)
{
    struct seen seen = {0};
    struct image im;

    (void)state;
    image_new(&im, 320, 240, 250);
    assert_int_equal(decode_image(&im, &seen), 0);
    assert_int_equal(seen.calls, 0);
}

/* Grey noise from a fixed linear congruential sequence: every pass runs
 * over it (stretch, threshold and sharpen make the most of noise) and none
 * may turn it into a barcode. */
static void test_noise_image_gives_nothing(void **state)
{
    struct seen seen = {0};
    struct image im;
    uint32_t x = 12345;

    (void)state;
    image_new(&im, 320, 240, 0);
    for (size_t i = 0; i < (size_t)im.w * im.h; i++) {
        x = x * 1103515245u + 12345u;
        im.pix[i] = (unsigned char)(x >> 24);
    }
    assert_int_equal(decode_image(&im, &seen), 0);
    assert_int_equal(seen.calls, 0);
}

/* Vertical stripes: bars everywhere but no symbol in them. */
static void test_stripes_give_nothing(void **state)
{
    struct seen seen = {0};
    struct image im;

    (void)state;
    image_new(&im, 320, 120, 255);
    for (unsigned y = 0; y < im.h; y++) {
        for (unsigned x = 0; x < im.w; x++)
            im.pix[(size_t)y * im.w + x] = (x / 3 + x / 7) % 2 ? 0 : 255;
    }
    assert_int_equal(decode_image(&im, &seen), 0);
    assert_int_equal(seen.calls, 0);
}

/* Code 128 "\xf3" "1234": Start B, FNC4, 's' (value 83), Code C, 12, 34,
 * check character 61 ((104 + 100 + 2*83 + 3*99 + 4*12 + 5*34) mod 103),
 * Stop.  zbar alone returns "s1234". */
static const char *const fnc4_symbol[] = {
    "211214", "114131", "114212", "113141",
    "112232", "131123", "221411", "2331112",
};

static void draw_widths(const char *const *chars, size_t n, unsigned scale,
                        struct image *im)
{
    unsigned modules = 20; /* quiet zones of 10 modules */
    unsigned x;

    for (size_t i = 0; i < n; i++) {
        for (const char *w = chars[i]; *w != '\0'; w++)
            modules += (unsigned)(*w - '0');
    }
    image_new(im, modules * scale, 60, 255);
    x = 10 * scale;
    for (size_t i = 0; i < n; i++) {
        bool bar = true;

        for (const char *w = chars[i]; *w != '\0'; w++, bar = !bar) {
            unsigned width = (unsigned)(*w - '0') * scale;

            for (unsigned y = 0; bar && y < im->h; y++)
                memset(im->pix + (size_t)y * im->w + x, 0, width);
            x += width;
        }
    }
}

static void test_code128_fnc4_gives_latin1_byte(void **state)
{
    struct seen seen = {0};
    struct image im;

    (void)state;
    draw_widths(fnc4_symbol, sizeof(fnc4_symbol) / sizeof(fnc4_symbol[0]), 3,
                &im);
    assert_int_equal(decode_image(&im, &seen), 1);
    assert_string_equal(seen.symbology, "CODE-128");
    assert_int_equal(seen.len, 5);
    assert_memory_equal(seen.data,
                        "\xf3"
                        "1234",
                        5);
}

static void test_utf8_of_code128_latin1(void **state)
{
    size_t len = 0;
    char *s = barcode_image_utf8("CODE-128",
                                 "\xf3"
                                 "1234",
                                 5, &len);

    (void)state;
    assert_non_null(s);
    assert_int_equal(len, 6);
    assert_string_equal(s, "\xc3\xb3"
                           "1234");
    free(s);
}

static void test_utf8_of_qr_keeps_utf8(void **state)
{
    size_t len = 0;
    char *s = barcode_image_utf8("QR-Code", "Jos\xc3\xa9", 5, &len);

    (void)state;
    assert_non_null(s);
    assert_int_equal(len, 5);
    assert_string_equal(s, "Jos\xc3\xa9");
    free(s);
}

static void test_utf8_of_qr_reads_invalid_utf8_as_latin1(void **state)
{
    size_t len = 0;
    char *s = barcode_image_utf8("QR-Code", "Jos\xe9", 4, &len);

    (void)state;
    assert_non_null(s);
    assert_int_equal(len, 5);
    assert_string_equal(s, "Jos\xc3\xa9");
    free(s);
}

/* The camera back end lives in drivers/scanner_camera.c; this machine has
 * no camera, so only opening a missing one is tested here. */
static void test_camera_missing_device_names_it(void **state)
{
    struct dk_scanner_config cfg = {
        .name = "lobby-camera",
        .kind = DK_SCANNER_CAMERA,
        .device = "/nonexistent/video7",
    };
    struct dk_scanner *s = NULL;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(scanner_open(&cfg, &s, &err), -ENOENT);
    assert_null(s);
    assert_string_equal(
        err.msg, "cannot open scanner lobby-camera: /nonexistent/video7: "
                 "No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qr_light_on_dark_is_found),
        cmocka_unit_test(test_qr_turned_90_degrees_is_found),
        cmocka_unit_test(test_tiny_qr_is_found_enlarged),
        cmocka_unit_test(test_blank_image_gives_nothing),
        cmocka_unit_test(test_noise_image_gives_nothing),
        cmocka_unit_test(test_stripes_give_nothing),
        cmocka_unit_test(test_code128_fnc4_gives_latin1_byte),
        cmocka_unit_test(test_utf8_of_code128_latin1),
        cmocka_unit_test(test_utf8_of_qr_keeps_utf8),
        cmocka_unit_test(test_utf8_of_qr_reads_invalid_utf8_as_latin1),
        cmocka_unit_test(test_camera_missing_device_names_it),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
