"""The technician's confirmation in the language of the person's receipt: a
laptop dropped at the real daemon, its receipt's language set in the
database (the kiosk does not record one yet), received with `dropkioskctl
receive`, and the confirmation read from the real SMTP server on loopback.

TODO(session): when the kiosk records the visit's language, choose Spanish
at the kiosk here instead of setting receipts.lang by hand, and check the
receipt email is in Spanish too."""

import email
import email.policy
import os
import unittest

from kiosk import FIXTURES, Kiosk, Site, SmtpServer

PIN = "482913"


class ConfirmationLanguageTest(unittest.TestCase):
    def setUp(self):
        self.smtp = SmtpServer()
        self.site = Site(smtp_port=self.smtp.port)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.site.ctl("tech", "add", "--name", "Jordan Reyes", "--badge", "B-1001",
                      "--pin-stdin", stdin=PIN.encode() + b"\n")

    def tearDown(self):
        self.smtp.stop()
        self.site.cleanup()

    def drop_laptop(self):
        """Drop 104233 as S100001 with the receipt emailed; the receipt id."""
        kiosk = Kiosk(self.site)
        self.addCleanup(kiosk.stop)
        kiosk.scan("104233")
        kiosk.expect(r"\(asset 104233\)")
        kiosk.scan("YES")
        kiosk.type("DONE")
        kiosk.scan("S100001")
        kiosk.expect("Email the receipt")
        kiosk.type("YES")
        kiosk.expect("Send a copy")
        kiosk.type("NO")
        receipt = kiosk.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        self.smtp.wait_for(1)
        return receipt

    def receive_missing_charger(self):
        """Receive 104233 with its charger missing; the confirmation's
        subject and text as delivered."""
        out = self.site.ctl("receive", "104233", "--tech", "B-1001", "--charger", "missing",
                            "--pin-stdin", stdin=PIN.encode() + b"\n")
        try:
            eml, _ = self.smtp.wait_for(2)[1]
        except AssertionError as e:
            raise AssertionError("%s; receive said %r %r; outbox %r" % (
                e, out.stdout, out.stderr,
                self.site.query("SELECT kind, status, attempts, last_error FROM outbox")))
        msg = email.message_from_bytes(eml, policy=email.policy.default)
        body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        return msg["Subject"], body

    def test_spanish_receipt_gets_a_spanish_confirmation(self):
        receipt = self.drop_laptop()
        self.site.query("UPDATE receipts SET lang = 'es' WHERE id = ?", receipt)
        subject, body = self.receive_missing_charger()
        self.assertEqual(subject, "OIIT recibió su equipo: etiqueta 104233, falta el cargador")
        self.assertIn("Estimado(a) María José Peña:\n\n", body)
        self.assertIn("La OIIT de Example City Public Schools recibió el equipo que usted "
                      "devolvió en el quiosco\nde Bolling Building el ", body)
        self.assertIn("  Etiqueta: 104233\n  Equipo:   ProBook 450 G8\n", body)
        self.assertIn("  Cargador: FALTA, no estaba en la bolsa\n", body)
        self.assertIn("  Recibo:   %s\n" % receipt, body)
        self.assertIn("Usted indicó en el quiosco que el cargador estaba en la bolsa, pero el\n"
                      "técnico no lo encontró.\n", body)
        self.assertIn("el costo de reposición es de $35.00.\n", body)
        self.assertIn("Aparte del cargador, usted no tiene que hacer nada más.\n", body)
        self.assertNotIn("Hello", body)

    def test_receipt_language_wins_over_the_kiosks(self):
        receipt = self.drop_laptop()
        self.assertEqual(self.site.query("SELECT lang FROM receipts WHERE id = ?", receipt),
                         [("en",)])
        # dropkioskctl reads the config afresh: the kiosk now starts in
        # Spanish, but this person's receipt was English.
        self.site.text = self.site.text.replace("[kiosk]\n", "[kiosk]\nlanguage = es\n", 1)
        self.site.write_config()
        subject, body = self.receive_missing_charger()
        self.assertEqual(subject, "Device received by OIIT: asset 104233, charger missing")
        self.assertIn("Hello María José Peña,\n", body)
        self.assertIn("  Charger:  MISSING, not in the bag\n", body)

    def test_receipt_language_without_a_catalog_falls_back_to_the_kiosks(self):
        receipt = self.drop_laptop()
        self.site.query("UPDATE receipts SET lang = 'fr' WHERE id = ?", receipt)
        self.site.text = self.site.text.replace("[kiosk]\n", "[kiosk]\nlanguage = es\n", 1)
        self.site.write_config()
        subject, body = self.receive_missing_charger()
        self.assertEqual(subject, "OIIT recibió su equipo: etiqueta 104233, falta el cargador")
        self.assertIn("Estimado(a) María José Peña:\n\n", body)


if __name__ == "__main__":
    unittest.main()
