"""The whole return path on real parts: CSV imports in every supported
format, scans through a pseudo-terminal, the commit, the signed receipt, and
the email received by a real SMTP server whose inline QR code verifies."""

import email
import email.policy
import os
import subprocess
import unittest

from kiosk import CTL, FIXTURES, Kiosk, Site, SmtpServer


def import_all(site):
    out = []
    out.append(site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv")))
    out.append(site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv")))
    out.append(site.ctl("import", "assets", os.path.join(FIXTURES, "snipeit-assets.csv")))
    out.append(site.ctl("import", "assets", os.path.join(FIXTURES, "google-chromeos.csv")))
    return [p.stdout.decode().strip() for p in out]


class ReturnFlowTest(unittest.TestCase):
    def setUp(self):
        self.smtp = SmtpServer()
        self.site = Site(smtp_port=self.smtp.port)
        self.imports = import_all(self.site)
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.smtp.stop()
        self.site.cleanup()

    def visit_three_devices(self):
        k = self.kiosk
        k.scan("]C0104233")                 # own laptop, from our CSV format
        k.expect(r"Laptop HP ProBook 450 G8 \(asset 104233\)")
        k.expect("Is the charger in the bag\\? YES or NO")
        k.scan("YES")
        k.expect("Added asset 104233, charger in the bag. 1 device in this visit.")
        k.scan("F9KXJ2LMQ1")                # own iPad by serial, from Snipe-IT
        k.expect(r"Tablet Apple iPad \(9th generation\) \(asset 105001\)")
        k.scan("NO")
        k.expect("Added asset 105001, charger not in the bag. 2 devices in this visit.")
        k.scan("106001")                    # a colleague's Chromebook, Google export
        k.expect(r"Chromebook Lenovo 300e Chromebook Gen 3 \(asset 106001\)")
        k.scan("YES")
        k.expect("3 devices in this visit.")
        k.type("DONE")
        k.expect("Who is returning these devices\\?")
        k.scan("S100001")
        # Asset 105001 is recorded to María José Peña by name; 106001 is a
        # colleague's: both are taken, the person is told, no name shown.
        k.expect("Asset 106001 is assigned to someone else. It is accepted; OIIT will follow "
                 "up with the person it is assigned to.")
        k.expect("Email the receipt to the address on file for you\\? YES or NO")
        k.type("yes")
        k.expect("Send a copy to your school or department leader\\? YES or NO")
        k.type("YES")
        k.expect(r"Received: 3 devices, recorded at 20[0-9-]{8} [0-9:]{5} E[SD]T\.")
        return k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)

    def test_imports_report_counts(self):
        self.assertEqual(self.imports, [
            "4 added, 0 updated, 0 unchanged",
            "4 added, 0 updated, 0 unchanged",
            "2 added, 0 updated, 0 unchanged",
            "2 added, 0 updated, 0 unchanged",
        ])
        again = self.site.ctl("import", "assets", os.path.join(FIXTURES, "snipeit-assets.csv"))
        self.assertEqual(again.stdout.decode().strip(), "0 added, 0 updated, 2 unchanged")

    def test_three_devices_make_three_flagged_returns_and_one_receipt(self):
        receipt = self.visit_three_devices()
        rows = self.site.query(
            "SELECT asset_tag, returned_by, assignee_at_time, charger_declared, state, "
            "flag_not_assignee, flag_unknown_asset, flag_missing_charger, receipt_id, "
            "site_id, kiosk_id FROM returns ORDER BY id")
        self.assertEqual(rows, [
            ("104233", "S100001", "S100001", 1, "dropped", 0, 0, 0, receipt,
             "bolling", "bolling-lobby-1"),
            ("105001", "S100001", "María José Peña", 0, "dropped", 0, 0, 1, receipt,
             "bolling", "bolling-lobby-1"),
            ("106001", "S100001", "S100003", 1, "dropped", 1, 0, 0, receipt,
             "bolling", "bolling-lobby-1"),
        ])
        receipts = self.site.query("SELECT id, return_ids, channels, recipients FROM receipts")
        self.assertEqual(receipts, [(receipt, "1,2,3", "screen,png,email",
                                     "maria.pena@example.org,lead.finance@example.org")])

    def test_receipt_email_arrives_once_with_verifiable_qr(self):
        receipt = self.visit_three_devices()
        (eml, env), = self.smtp.wait_for(1)
        self.assertEqual(env, ["MAIL FROM:<dropkiosk@example.org>",
                               "RCPT TO:<maria.pena@example.org>",
                               "RCPT TO:<lead.finance@example.org>"])
        msg = email.message_from_bytes(eml, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "Device return receipt %s (3 devices)" % receipt)
        self.assertEqual(msg["To"], "María José Peña <maria.pena@example.org>")
        self.assertEqual(msg["Cc"], "lead.finance@example.org")
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("Hello María José Peña,", text)
        self.assertIn("  - 105001  iPad (9th generation)  (charger in the bag: no)", text)
        self.assertIn("Receipt: %s" % receipt, text)
        html = msg.get_body(("html",)).get_content()
        self.assertIn("<strong>%s</strong>" % receipt, html)
        self.assertIn('src="cid:receipt-qr@dropkiosk"', html)
        pngs = [p for p in msg.walk() if p.get_content_type() == "image/png"]
        self.assertEqual(len(pngs), 1)
        self.assertEqual(pngs[0]["Content-ID"], "<receipt-qr@dropkiosk>")
        png_path = os.path.join(self.site.dir, "mailed.png")
        with open(png_path, "wb") as f:
            f.write(pngs[0].get_content())
        check = self.site.ctl("verify", png_path)
        out = check.stdout.decode()
        self.assertTrue(out.startswith("VALID\n"), out)
        self.assertIn("Receipt: %s\n" % receipt, out)
        self.assertIn("Device: 104233 | ProBook 450 G8 | charger yes\n", out)
        self.assertIn("Device: 105001 | iPad (9th generation) | charger no\n", out)
        self.assertIn("Device: 106001 | Lenovo 300e Chromebook Gen 3 | charger yes\n", out)
        # The outbox agrees with the server: one sent, nothing pending.
        self.kiosk.stop()
        self.assertEqual(self.site.query("SELECT kind, status, attempts FROM outbox"),
                         [("receipt", "sent", 1)])
        self.assertEqual(len(self.smtp.messages()), 1)

    def test_audit_trail_records_each_step_and_verifies(self):
        receipt = self.visit_three_devices()
        self.kiosk.expect("Please put the devices in the drop bin")
        rows = self.site.query("SELECT actor, action, subject FROM audit ORDER BY id")
        self.assertEqual(rows, [
            ("cli", "import staff", os.path.join(FIXTURES, "staff.csv")),
            ("cli", "import assets", os.path.join(FIXTURES, "assets.csv")),
            ("cli", "import assets", os.path.join(FIXTURES, "snipeit-assets.csv")),
            ("cli", "import assets", os.path.join(FIXTURES, "google-chromeos.csv")),
            ("kiosk:bolling-lobby-1", "return dropped", "104233"),
            ("kiosk:bolling-lobby-1", "return dropped", "105001"),
            ("kiosk:bolling-lobby-1", "return dropped", "106001"),
            ("kiosk:bolling-lobby-1", "receipt issued", receipt),
            ("kiosk:bolling-lobby-1", "receipt email queued", receipt),
        ])
        ok = self.site.ctl("audit", "verify")
        self.assertEqual(ok.stdout.decode(), "OK: 9 audit rows, chain intact\n")
        self.site.query("UPDATE audit SET details = 'charger=yes' WHERE id = 6")
        broken = self.site.ctl("audit", "verify", check=False)
        self.assertEqual(broken.returncode, 1)
        self.assertTrue(broken.stdout.decode().startswith("BROKEN at row 6:"))

    def test_receipt_png_on_disk_verifies_and_a_forgery_does_not(self):
        receipt = self.visit_three_devices()
        m = self.kiosk.expect(r"Receipt image: (\S+\.png)")
        self.assertEqual(os.path.basename(m.group(1)), receipt + ".png")
        self.assertEqual(self.site.ctl("verify", m.group(1)).returncode, 0)
        payload = self.site.query("SELECT payload FROM receipts")[0][0]
        self.assertEqual(self.site.ctl("verify", "-", stdin=payload.encode()).returncode, 0)
        forged = payload.replace("charger no", "charger yes")
        bad = self.site.ctl("verify", "-", stdin=forged.encode(), check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertTrue(bad.stdout.decode().startswith("FORGED: "))


if __name__ == "__main__":
    unittest.main()
