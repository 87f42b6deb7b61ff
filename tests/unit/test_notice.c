/* The receipt email's words (notice_receipt) in English and Spanish from
 * the shipped catalogs (DK_CATALOG_DIR): subject, text and HTML, with every
 * value escaped in the HTML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "i18n.h"
#include "notice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    struct dk_config cfg;
    struct dk_asset laptop, unknown;
    struct dk_notice_device devices[2];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->cfg.district, sizeof(f->cfg.district), "Example City Public Schools");
    snprintf(f->cfg.site_name, sizeof(f->cfg.site_name), "Bolling Building");
    snprintf(f->laptop.tag, sizeof(f->laptop.tag), "104233");
    snprintf(f->laptop.model, sizeof(f->laptop.model), "ProBook 450 G8");
    snprintf(f->unknown.tag, sizeof(f->unknown.tag), "199999");
    f->devices[0] = (struct dk_notice_device){.asset = &f->laptop, .charger = true};
    f->devices[1] = (struct dk_notice_device){.asset = &f->unknown, .charger = false};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void receipt_in(const char *lang, const struct fixture *f, const char *name, size_t n,
                       struct dk_notice *out)
{
    struct dk_catalog *c = NULL;

    assert_int_equal(i18n_load(DK_CATALOG_DIR, lang, &c, NULL), 0);
    assert_int_equal(notice_receipt(&f->cfg, c, "R-7K3M9QXZJ", name, "2025-12-30 10:00 EST",
                                    f->devices, n, "receipt-qr@dropkiosk", out),
                     0);
    i18n_free(c);
}

static void test_receipt_in_english(void **state)
{
    struct dk_notice n;

    receipt_in("en", *state, "Maria Pena", 2, &n);
    assert_string_equal(n.subject, "Device return receipt R-7K3M9QXZJ (2 devices)");
    assert_string_equal(
        n.text,
        "Hello Maria Pena,\n\n"
        "Example City Public Schools received these devices at the Bolling Building kiosk "
        "on 2025-12-30 10:00 EST:\n\n"
        "  - 104233  ProBook 450 G8  (charger in the bag: yes)\n"
        "  - 199999  device not in our inventory  (charger in the bag: no)\n\n"
        "Receipt: R-7K3M9QXZJ\n\n"
        "Each device is pending technician verification. OIIT will confirm when it\n"
        "has been checked in. The attached QR code is your signed receipt; keep\n"
        "this email as proof of return.\n\n"
        "This message was sent by the Example City Public Schools device return kiosk.\n");
    notice_free(&n);
}

static void test_receipt_of_one_device_says_device(void **state)
{
    struct dk_notice n;

    receipt_in("en", *state, "Maria Pena", 1, &n);
    assert_string_equal(n.subject, "Device return receipt R-7K3M9QXZJ (1 device)");
    notice_free(&n);
    receipt_in("es", *state, "Maria Pena", 1, &n);
    assert_string_equal(n.subject, "Recibo de devolución R-7K3M9QXZJ (1 equipo)");
    notice_free(&n);
}

static void test_receipt_in_spanish(void **state)
{
    struct dk_notice n;

    receipt_in("es", *state, "María José Peña", 2, &n);
    assert_string_equal(n.subject, "Recibo de devolución R-7K3M9QXZJ (2 equipos)");
    assert_string_equal(
        n.text,
        "Estimado(a) María José Peña:\n\n"
        "Example City Public Schools recibió los siguientes equipos en el quiosco de "
        "Bolling Building el 2025-12-30 10:00 EST:\n\n"
        "  - 104233  ProBook 450 G8  (cargador en la bolsa: sí)\n"
        "  - 199999  equipo que no figura en nuestro inventario  (cargador en la bolsa: no)\n\n"
        "Recibo: R-7K3M9QXZJ\n\n"
        "Cada equipo está pendiente de verificación por un técnico. OIIT le avisará\n"
        "cuando lo haya registrado. El código QR adjunto es su recibo firmado; conserve "
        "este correo\n"
        "como comprobante de la devolución.\n\n"
        "Este mensaje lo envió el quiosco de devolución de equipos de Example City Public "
        "Schools.\n");
    notice_free(&n);
}

static void test_receipt_html_in_spanish(void **state)
{
    struct dk_notice n;

    receipt_in("es", *state, "María José Peña", 2, &n);
    assert_string_equal(
        n.html,
        "<!DOCTYPE html>\n<html lang=\"es\"><body>\n"
        "<p>Estimado(a) María José Peña:</p>\n"
        "<p>Example City Public Schools recibió los siguientes equipos en el quiosco de "
        "Bolling Building el 2025-12-30 10:00 EST:</p>\n"
        "<ul>\n"
        "<li>104233  ProBook 450 G8  (cargador en la bolsa: sí)</li>\n"
        "<li>199999  equipo que no figura en nuestro inventario  (cargador en la bolsa: no)"
        "</li>\n"
        "</ul>\n"
        "<p>Recibo: <strong>R-7K3M9QXZJ</strong></p>\n"
        "<p><img src=\"cid:receipt-qr@dropkiosk\" alt=\"Código QR del recibo firmado\"></p>\n"
        "<p>Cada equipo está pendiente de verificación por un técnico. OIIT le avisará\n"
        "cuando lo haya registrado.</p>\n"
        "<p>Este mensaje lo envió el quiosco de devolución de equipos de Example City Public "
        "Schools.</p>\n"
        "</body></html>\n");
    notice_free(&n);
}

/* Names, models and the district come from imports and scans: in the HTML
 * they are text, never markup, wherever the catalog puts them. */
static void test_receipt_html_escapes_every_value(void **state)
{
    struct fixture *f = *state;
    struct dk_notice n;

    snprintf(f->cfg.district, sizeof(f->cfg.district), "A&B <Schools>");
    snprintf(f->cfg.site_name, sizeof(f->cfg.site_name), "\"Main\" 'Hall'");
    snprintf(f->laptop.model, sizeof(f->laptop.model), "<script>x</script>");
    receipt_in("en", f, "<b>Zoë</b>", 1, &n);
    assert_string_equal(
        n.html,
        "<!DOCTYPE html>\n<html lang=\"en\"><body>\n"
        "<p>Hello &lt;b&gt;Zoë&lt;/b&gt;,</p>\n"
        "<p>A&amp;B &lt;Schools&gt; received these devices at the &quot;Main&quot; "
        "&#39;Hall&#39; kiosk on 2025-12-30 10:00 EST:</p>\n"
        "<ul>\n"
        "<li>104233  &lt;script&gt;x&lt;/script&gt;  (charger in the bag: yes)</li>\n"
        "</ul>\n"
        "<p>Receipt: <strong>R-7K3M9QXZJ</strong></p>\n"
        "<p><img src=\"cid:receipt-qr@dropkiosk\" alt=\"Signed receipt QR code\"></p>\n"
        "<p>Each device is pending technician verification. OIIT will confirm when it\n"
        "has been checked in.</p>\n"
        "<p>This message was sent by the A&amp;B &lt;Schools&gt; device return kiosk.</p>\n"
        "</body></html>\n");
    notice_free(&n);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_receipt_in_english),
        T(test_receipt_of_one_device_says_device),
        T(test_receipt_in_spanish),
        T(test_receipt_html_in_spanish),
        T(test_receipt_html_escapes_every_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
