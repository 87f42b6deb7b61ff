/* The technician's confirmation (notice_received) in Spanish from the
 * shipped catalog; the English words are tested in test_intake.c. */
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

static struct dk_config cfg;
static struct dk_catalog *es;

static int group_setup(void **state)
{
    (void)state;
    snprintf(cfg.district, sizeof(cfg.district), "Example City Public Schools");
    return i18n_load(DK_CATALOG_DIR, "es", &es, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    i18n_free(es);
    return 0;
}

static void test_confirmation_in_spanish_states_a_missing_chargers_cost(void **state)
{
    struct dk_asset a = {.tag = "104233", .model = "ProBook 450 G8"};
    struct dk_notice_received r = {
        .asset = &a,
        .name = "María José Peña",
        .site_name = "Bolling Building",
        .returned_when = "2025-12-30 10:00 EST",
        .received_when = "2025-12-31 19:00 EST",
        .receipt_id = "R-AAAAAAAA1",
        .charger_declared = true,
        .charger_present = false,
        .charger_expected = true,
        .charger_cost_cents = 4250,
    };
    struct dk_notice n;

    (void)state;
    assert_int_equal(notice_received(&cfg, es, &r, &n), 0);
    assert_string_equal(n.subject, "OIIT recibió su equipo: etiqueta 104233, falta el cargador");
    assert_string_equal(
        n.text,
        "Estimado(a) María José Peña:\n\n"
        "La OIIT de Example City Public Schools recibió el equipo que usted devolvió en el "
        "quiosco\nde Bolling Building el 2025-12-30 10:00 EST:\n\n"
        "  Etiqueta: 104233\n"
        "  Equipo:   ProBook 450 G8\n"
        "  Recibido: 2025-12-31 19:00 EST\n"
        "  Cargador: FALTA, no estaba en la bolsa\n"
        "  Recibo:   R-AAAAAAAA1\n\n"
        "Usted indicó en el quiosco que el cargador estaba en la bolsa, pero el\n"
        "técnico no lo encontró.\n"
        "Le pedimos que entregue el cargador en OIIT lo antes posible. Si no lo\n"
        "devuelve, el costo de reposición es de $42.50.\n\n"
        "Próximos pasos: OIIT borra de forma segura los datos del equipo y luego\n"
        "lo prepara para volver a usarlo o lo envía a reciclaje. Aparte del cargador, usted "
        "no tiene que hacer nada más.\n");
    assert_null(n.html);
    notice_free(&n);
}

static void test_confirmation_in_spanish_of_an_unknown_device_with_its_charger(void **state)
{
    struct dk_asset a = {.tag = "199999"};
    struct dk_notice_received r = {
        .asset = &a,
        .name = "María José Peña",
        .site_name = "Bolling Building",
        .returned_when = "2025-12-30 10:00 EST",
        .received_when = "2025-12-31 19:00 EST",
        .receipt_id = "",
        .charger_declared = true,
        .charger_present = true,
        .charger_expected = true,
        .charger_cost_cents = 4250,
    };
    struct dk_notice n;

    (void)state;
    assert_int_equal(notice_received(&cfg, es, &r, &n), 0);
    assert_string_equal(n.subject, "OIIT recibió su equipo: etiqueta 199999");
    assert_non_null(strstr(n.text, "  Etiqueta: 199999\n"
                                   "  Equipo:   equipo que no figura en nuestro inventario\n"
                                   "  Recibido: 2025-12-31 19:00 EST\n"
                                   "  Cargador: verificado, estaba en la bolsa\n\n"
                                   "Próximos pasos:"));
    assert_non_null(strstr(n.text, "reciclaje. Usted no tiene que hacer nada más.\n"));
    assert_null(strstr(n.text, "Recibo:"));
    assert_null(strstr(n.text, "$"));
    notice_free(&n);
}

static void test_confirmation_in_spanish_of_a_charger_said_missing(void **state)
{
    struct dk_asset a = {.tag = "104400", .model = "Galaxy A54"};
    struct dk_notice_received r = {
        .asset = &a,
        .name = "Tran Van Minh",
        .site_name = "Bolling Building",
        .returned_when = "2025-12-30 11:00 EST",
        .received_when = "2025-12-31 19:00 EST",
        .receipt_id = "R-BBBBBBBB2",
        .charger_declared = false,
        .charger_present = false,
        .charger_expected = true,
        .charger_cost_cents = 2000,
    };
    struct dk_notice n;

    (void)state;
    assert_int_equal(notice_received(&cfg, es, &r, &n), 0);
    assert_non_null(strstr(n.text, "  Recibo:   R-BBBBBBBB2\n\n"
                                   "Tal como usted indicó en el quiosco, el cargador no estaba "
                                   "en la bolsa.\n"
                                   "Le pedimos que entregue el cargador en OIIT lo antes "
                                   "posible. Si no lo\n"
                                   "devuelve, el costo de reposición es de $20.00.\n\n"));
    notice_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confirmation_in_spanish_states_a_missing_chargers_cost),
        cmocka_unit_test(test_confirmation_in_spanish_of_an_unknown_device_with_its_charger),
        cmocka_unit_test(test_confirmation_in_spanish_of_a_charger_said_missing),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
