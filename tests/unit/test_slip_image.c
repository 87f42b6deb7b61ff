/* Slip image: the PNG's QR code read back with the zbar image driver gives
 * the payload's exact bytes at 80 and 58 mm widths and with Arabic and
 * Chinese words; the symbol has crisp square modules and a white quiet
 * zone; bad widths and payloads are refused.
 *
 * A 600-byte payload needs QR version 19 at level M in 8-bit mode (ISO/IEC
 * 18004 table 7, checked with python3-qrcode): 93 modules a side.  Sizes
 * below follow slip_image.h: margin width / 24, module the largest whole
 * number of pixels that fits (93 + 8) modules between the
 * margins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "barcode_image.h"
#include "slip_image.h"

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 600 bytes of receipt-like UTF-8 text (accents are two bytes each). */
static const char payload600[] =
    "dropkiosk receipt v1\n"
    "District: Distrito Escolar de Richmond\n"
    "Receipt: R-7K3M9QXZJ\n"
    "Site: Escuela Sim\xc3\xb3n Bol\xc3\xadvar, Campbell Resource Center\n"
    "Kiosk: CRC-LOBBY\n"
    "Time: 2026-12-04 10:37 EST\n"
    "Device: RPS-104233 | Dell Latitude 3420 | charger yes\n"
    "Device: RPS-CB-88121 | Lenovo 100e Chromebook | charger no\n"
    "Device: RPS-TB-55120 | Apple iPad 9th generation | charger yes\n"
    "Device: RPS-HS-00917 | Franklin T10 hotspot | charger no\n"
    "Device: RPS-PH-40442 | Samsung Galaxy A14 | charger yes\n"
    "Key: ed25519:56475aa75463474c\n"
    "Signature: eGiaiO1EpsFbO57dNajvNZxHWel9x3/DZk6jk4GMqwkP7OYPrI4OyCN3tlUFI4ywEsVohDECUB71lV"
    "B5WDGjAw==\n";


static const struct dk_slip_device devices[] = {
    {.tag = "RPS-104233", .model = "Dell Latitude 3420", .charger = true},
    {.tag = "RPS-CB-88121", .model = "", .charger = false},
};

static struct dk_slip make_slip(const unsigned char *payload, size_t len)
{
    struct dk_slip s = {
        .district = "Distrito Escolar de Richmond",
        .site_name = "Campbell Resource Center",
        .receipt_id = "R-7K3M9QXZJ",
        .when_local = "2026-12-04 10:37",
        .devices = devices,
        .n_devices = 2,
        .payload = payload,
        .payload_len = len,
        .words = {
            .title = "Recibo de devoluci\xc3\xb3n",
            .receipt = "Recibo",
            .device = "Equipo",
            .charger = "Cargador",
            .yes = "S\xc3\xad",
            .no = "No",
            .pending = "Pendiente de verificaci\xc3\xb3n",
            .scan_qr = "Escanee para comprobar este recibo",
        },
    };

    return s;
}

struct seen {
    int calls;
    char symbology[32];
    unsigned char data[700];
    size_t len;
};

static void remember(const char *symbology, const char *data, size_t len, void *user)
{
    struct seen *s = user;

    s->calls++;
    snprintf(s->symbology, sizeof(s->symbology), "%s", symbology);
    assert_true(len <= sizeof(s->data));
    memcpy(s->data, data, len);
    s->len = len;
}

static void draw(const struct dk_slip *s, int width, unsigned char **png, size_t *len)
{
    struct dk_error err = {{0}};

    assert_int_equal(slip_image_png(s, width, png, len, &err), 0);
    assert_non_null(*png);
}

static void assert_qr_reads_back(const unsigned char *png, size_t len)
{
    struct dk_error err = {{0}};
    struct seen seen = {0};

    assert_int_equal(barcode_image_decode_buffer(png, len, remember, &seen, &err), 1);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.symbology, "QR-Code");
    assert_int_equal(seen.len, 600);
    assert_memory_equal(seen.data, payload600, 600);
}

/* The PNG's width and height from its IHDR chunk (bytes 16-23). */
static void png_size(const unsigned char *png, size_t len, long *w, long *h)
{
    static const unsigned char sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    assert_true(len > 24);
    assert_memory_equal(png, sig, sizeof(sig));
    *w = (long)png[16] << 24 | (long)png[17] << 16 | (long)png[18] << 8 | png[19];
    *h = (long)png[20] << 24 | (long)png[21] << 16 | (long)png[22] << 8 | png[23];
}

static void test_payload_is_600_bytes(void **state)
{
    (void)state;
    assert_int_equal(sizeof(payload600) - 1, 600);
}

static void test_qr_reads_back_exact_payload_at_576_px(void **state)
{
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    unsigned char *png = NULL;
    size_t len = 0;
    long w;
    long h;

    (void)state;
    draw(&s, 576, &png, &len);
    png_size(png, len, &w, &h);
    assert_int_equal(w, 576);
    assert_true(h > 576);
    assert_qr_reads_back(png, len);
    free(png);
}

static void test_qr_reads_back_exact_payload_at_384_px(void **state)
{
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    unsigned char *png = NULL;
    size_t len = 0;
    long w;
    long h;

    (void)state;
    draw(&s, 384, &png, &len);
    png_size(png, len, &w, &h);
    assert_int_equal(w, 384);
    assert_qr_reads_back(png, len);
    free(png);
}

static void test_arabic_and_chinese_words_draw_and_qr_reads_back(void **state)
{
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    unsigned char *png = NULL;
    size_t len = 0;

    (void)state;
    /* "receipt" in Arabic, "device" and "charger" in Chinese. */
    s.words.title = "\xd8\xa5\xd9\x8a\xd8\xb5\xd8\xa7\xd9\x84";
    s.words.device = "\xe8\xae\xbe\xe5\xa4\x87";
    s.words.charger = "\xe5\x85\x85\xe7\x94\xb5\xe5\x99\xa8";
    s.words.pending = "bad \xff utf-8 <b>not markup</b>";
    draw(&s, 576, &png, &len);
    assert_qr_reads_back(png, len);
    free(png);
}

struct pixels {
    cairo_surface_t *surface;
    const unsigned char *data;
    int stride;
    int w;
    int h;
};

struct png_read {
    const unsigned char *p;
    size_t left;
};

static cairo_status_t png_read(void *closure, unsigned char *data, unsigned int n)
{
    struct png_read *r = closure;

    if (n > r->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->p, n);
    r->p += n;
    r->left -= n;
    return CAIRO_STATUS_SUCCESS;
}

static struct pixels load(const unsigned char *png, size_t len)
{
    struct png_read r = {png, len};
    struct pixels px;

    px.surface = cairo_image_surface_create_from_png_stream(png_read, &r);
    assert_int_equal(cairo_surface_status(px.surface), CAIRO_STATUS_SUCCESS);
    px.data = cairo_image_surface_get_data(px.surface);
    px.stride = cairo_image_surface_get_stride(px.surface);
    px.w = cairo_image_surface_get_width(px.surface);
    px.h = cairo_image_surface_get_height(px.surface);
    return px;
}

/* 0x000000 black, 0xffffff white, anything else grey (RGB24 is 32 bits a
 * pixel, the top byte unused). */
static uint32_t pixel(const struct pixels *px, int x, int y)
{
    uint32_t v;

    memcpy(&v, px->data + (size_t)y * (size_t)px->stride + (size_t)x * 4, 4);
    return v & 0xffffffu;
}

static void test_qr_modules_are_crisp_with_white_quiet_zone(void **state)
{
    /* 576 px: margin 24, (576 - 48) / 101 = 5 px a module, so the symbol
     * with its quiet zone is 505 px, from x = (576 - 505) / 2 = 35; the
     * modules from x = 55 to 519, the last row 24 + 20 px above the foot. */
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    unsigned char *png = NULL;
    size_t len = 0;
    struct pixels px;
    int top;

    (void)state;
    draw(&s, 576, &png, &len);
    px = load(png, len);
    top = px.h - 24 - 20 - 465;
    for (int y = top - 20; y < px.h; y++) {
        for (int x = 0; x < px.w; x++) {
            uint32_t v = pixel(&px, x, y);
            bool in_symbol = y >= top && y < top + 465 && x >= 55 && x < 55 + 465;

            if (in_symbol)
                assert_true(v == 0x000000u || v == 0xffffffu);
            else
                assert_int_equal(v, 0xffffffu);
        }
    }
    /* Each 5 x 5 module is one colour: the finder's corner is black, the
     * separator beside it white. */
    for (int y = top; y < top + 5; y++) {
        for (int x = 55; x < 60; x++)
            assert_int_equal(pixel(&px, x, y), 0x000000u);
    }
    for (int y = top; y < top + 5; y++) {
        for (int x = 55 + 35; x < 55 + 40; x++)
            assert_int_equal(pixel(&px, x, y), 0xffffffu);
    }
    cairo_surface_destroy(px.surface);
    free(png);
}

static void test_text_is_drawn_above_the_code(void **state)
{
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    unsigned char *png = NULL;
    size_t len = 0;
    struct pixels px;
    int dark = 0;

    (void)state;
    draw(&s, 576, &png, &len);
    px = load(png, len);
    /* The title's first line sits in the top margin's next 36 px. */
    for (int y = 24; y < 60; y++) {
        for (int x = 0; x < px.w; x++)
            dark += pixel(&px, x, y) != 0xffffffu;
    }
    assert_true(dark > 200);
    cairo_surface_destroy(px.surface);
    free(png);
}

static void test_oversize_payload_refused(void **state)
{
    static unsigned char big[2332];
    struct dk_slip s;
    struct dk_error err = {{0}};
    unsigned char *png = (unsigned char *)"untouched";
    size_t len = 1;

    (void)state;
    memset(big, 'A', sizeof(big));
    s = make_slip(big, sizeof(big));
    assert_int_equal(slip_image_png(&s, 576, &png, &len, &err), DK_EINPUT);
    assert_null(png);
    assert_int_equal(len, 0);
    assert_string_equal(err.msg,
                        "receipt payload of 2332 bytes does not fit one QR code "
                        "(2331 bytes at most)");
}

static void test_narrow_and_wide_images_refused(void **state)
{
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(slip_image_png(&s, 239, &png, &len, &err), DK_EINPUT);
    assert_string_equal(err.msg, "slip image width of 239 pixels is not 240 to 4096");
    assert_int_equal(slip_image_png(&s, 4097, &png, &len, &err), DK_EINPUT);
    assert_null(png);
}

static void test_slip_taller_than_cairo_allows_refused(void **state)
{
    static struct dk_slip_device many[1200];
    struct dk_slip s = make_slip((const unsigned char *)payload600, 600);
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;

    (void)state;
    for (size_t i = 0; i < 1200; i++)
        many[i] = (struct dk_slip_device){.tag = "RPS-104233", .model = "Dell", .charger = true};
    s.devices = many;
    s.n_devices = 1200;
    assert_int_equal(slip_image_png(&s, 576, &png, &len, &err), DK_EINPUT);
    assert_null(png);
    assert_non_null(strstr(err.msg, "slip with 1200 devices would be "));
}

/* Pango's per-thread font map and cairo's caches live until exit; drop
 * them so LeakSanitizer reports only what the slip code itself leaks.
 * fontconfig's own configuration, loaded once a process by Pango's start-up
 * thread, is freed only by FcFini, which the build does not link (the
 * pangocairo package does not list -lfontconfig).  fontconfig is built
 * without frame pointers, so LeakSanitizer's stacks stop in it and cannot
 * name the function: its allocations are suppressed by library.  The
 * slip code never calls fontconfig itself. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

static int drop_font_caches(void **state)
{
    (void)state;
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_is_600_bytes),
        cmocka_unit_test(test_qr_reads_back_exact_payload_at_576_px),
        cmocka_unit_test(test_qr_reads_back_exact_payload_at_384_px),
        cmocka_unit_test(test_arabic_and_chinese_words_draw_and_qr_reads_back),
        cmocka_unit_test(test_qr_modules_are_crisp_with_white_quiet_zone),
        cmocka_unit_test(test_text_is_drawn_above_the_code),
        cmocka_unit_test(test_oversize_payload_refused),
        cmocka_unit_test(test_narrow_and_wide_images_refused),
        cmocka_unit_test(test_slip_taller_than_cairo_allows_refused),
    };

    return cmocka_run_group_tests(tests, NULL, drop_font_caches);
}
