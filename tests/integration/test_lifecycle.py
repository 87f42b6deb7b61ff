"""One device's whole life through the kiosk and OIIT, on the real programs:
returned at the kiosk by someone who is not its assignee and without its
charger, received damaged, proposed for recycling by the built-in rules,
recycled onto an e-waste manifest that is closed; every step in the audit
trail, which then catches a row edited by hand."""

import email
import email.policy
import os
import unittest

from kiosk import FIXTURES, Kiosk, Site, SmtpServer

PIN = b"2468\n"


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.smtp = SmtpServer()
        self.site = Site(smtp_port=self.smtp.port)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7", "--pin-stdin",
                      stdin=PIN)
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.smtp.stop()
        self.site.cleanup()

    def tech(self, *args):
        return self.site.ctl(*args, "--tech", "B-7", "--pin-stdin", stdin=PIN)

    def test_phone_from_kiosk_to_closed_manifest(self):
        k, site = self.kiosk, self.site
        k.scan("104400")                         # Tran Van Minh's phone
        k.expect("Is the charger in the bag")
        k.scan("NO")
        k.type("DONE")
        k.scan("S100001")                        # returned by María
        k.type("YES")
        k.type("NO")
        receipt = k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        self.assertEqual(site.query("SELECT returned_by, flag_not_assignee, "
                                    "flag_missing_charger, state FROM returns"),
                         [("S100001", 1, 1, "dropped")])

        self.tech("receive", "104400", "--charger", "missing", "--condition", "damaged")
        out = site.ctl("dispose", "104400", "--csv").stdout.decode()
        self.assertEqual(out, "asset_tag,return_id,proposal,rule,line,holder\n"
                              "104400,1,recycle,\"condition is damaged, not_working -> "
                              "recycle\",built-in,\n")
        self.tech("recycle", "104400", "--level", "purge")
        path = os.path.join(site.dir, "manifest.csv")
        self.tech("manifest", "close", "--vendor", "GreenCycle", "--certificate", "C-1",
                  "--out", path)
        with open(path, "rb") as f:
            self.assertTrue(f.read().startswith(
                b"asset_tag,serial,type,make,model,level,technician,date\r\n"
                b"104400,R58N123ABC,phone,Samsung,Galaxy A54,purge,T0001,"))
        self.assertEqual(site.query("SELECT state, disposition, charger_verified, condition, "
                                    "technician, dispositioned_by FROM returns"),
                         [("dispositioned", "recycle", 0, "damaged", "T0001", "T0001")])

        # Two emails to María: the receipt, then the confirmation.
        mails = self.smtp.wait_for(2)
        subjects = [email.message_from_bytes(eml, policy=email.policy.default)["Subject"]
                    for eml, _ in mails]
        self.assertEqual(subjects, ["Device return receipt %s (1 device)" % receipt,
                                    "Device received by OIIT: asset 104400, charger missing"])

        # Every step is in the audit trail, in order, and the chain holds...
        steps = [row for row in site.query(
            "SELECT action, subject FROM audit WHERE subject = '104400' ORDER BY id")]
        self.assertEqual(steps, [("return dropped", "104400"),
                                 ("return received", "104400"),
                                 ("confirmation email queued", "104400"),
                                 ("return dispositioned", "104400")])
        self.assertRegex(site.ctl("audit", "verify").stdout.decode(),
                         r"^OK: \d+ audit rows, chain intact\n$")
        # ...until someone edits a row by hand.
        row = site.query("SELECT id FROM audit WHERE action = 'return received'")[0][0]
        site.query("UPDATE audit SET details = 'charger=present' WHERE id = ?", row)
        broken = site.ctl("audit", "verify", check=False)
        self.assertEqual(broken.returncode, 1)
        self.assertTrue(broken.stdout.decode().startswith("BROKEN at row %d:" % row))


if __name__ == "__main__":
    unittest.main()
