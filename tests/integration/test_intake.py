"""Technician intake on real parts: a laptop dropped at the real daemon is
received with `dropkioskctl receive` and the confirmation, with the charger's
replacement cost, reaches the real SMTP server; walk-ins, a clean-out cart
from stdin, the lock after five wrong PINs, and bad input that changes
nothing.  Every test ends with `audit verify` still OK."""

import email
import email.policy
import os
import pty
import select
import time
import unittest

from kiosk import CTL, FIXTURES, Kiosk, Site, SmtpServer

PIN = "482913"


class IntakeTest(unittest.TestCase):
    def setUp(self):
        self.smtp = SmtpServer()
        self.site = Site(smtp_port=self.smtp.port,
                         extra="\n[intake]\ncharger_cost.phone = 20.00\n")
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        added = self.site.ctl("tech", "add", "--name", "Jordan Reyes", "--badge", "B-1001",
                              "--pin-stdin", stdin=PIN.encode() + b"\n")
        self.assertEqual(added.stdout.decode(),
                         "added technician T0001 (Jordan Reyes, badge B-1001)\n")

    def tearDown(self):
        self.smtp.stop()
        self.site.cleanup()

    def ctl(self, *args, pin=PIN, stdin=b"", check=True):
        data = (pin.encode() + b"\n" if pin is not None else b"") + stdin
        return self.site.ctl(*args, "--pin-stdin", stdin=data, check=check)

    def audit_ok(self):
        out = self.site.ctl("audit", "verify").stdout.decode()
        self.assertTrue(out.startswith("OK: "), out)

    def audit_actions(self, after=0):
        return self.site.query("SELECT actor, action, subject FROM audit WHERE id > ? "
                               "ORDER BY id", after)

    def last_audit_id(self):
        return self.site.query("SELECT coalesce(max(id), 0) FROM audit")[0][0]


class ReceiveTest(IntakeTest):
    def drop_laptop_at_the_kiosk(self):
        kiosk = Kiosk(self.site)
        self.addCleanup(kiosk.stop)
        kiosk.scan("104233")
        kiosk.expect(r"Laptop HP ProBook 450 G8 \(asset 104233\)")
        kiosk.scan("YES")
        kiosk.type("DONE")
        kiosk.scan("S100001")
        kiosk.expect("Email the receipt")
        kiosk.type("YES")
        kiosk.expect("Send a copy to your school or department leader")
        kiosk.type("YES")
        receipt = kiosk.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        self.smtp.wait_for(1)
        return receipt

    def test_dropped_laptop_received_with_charger_missing_mails_the_cost(self):
        receipt = self.drop_laptop_at_the_kiosk()
        out = self.ctl("receive", "104233", "--tech", "B-1001", "--charger", "missing",
                       "--condition", "worn", "--note", "lid scratched")
        self.assertEqual(out.stdout.decode(),
                         "Received asset 104233 (ProBook 450 G8), return 1: charger missing, "
                         "condition worn.\n"
                         "Confirmation email queued to maria.pena@example.org, copy to "
                         "lead.finance@example.org.\n")
        self.assertEqual(
            self.site.query("SELECT state, charger_declared, charger_verified, condition, "
                            "condition_note, technician, flag_walk_in FROM returns"),
            [("received", 1, 0, "worn", "lid scratched", "T0001", 0)])

        # The daemon's mail worker delivers what dropkioskctl queued.
        (eml, env) = self.smtp.wait_for(2)[1]
        self.assertEqual(env, ["MAIL FROM:<dropkiosk@example.org>",
                               "RCPT TO:<maria.pena@example.org>",
                               "RCPT TO:<lead.finance@example.org>"])
        msg = email.message_from_bytes(eml, policy=email.policy.default)
        self.assertEqual(msg["Subject"],
                         "Device received by OIIT: asset 104233, charger missing")
        self.assertEqual(msg["Cc"], "lead.finance@example.org")
        body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        self.assertIn("Hello María José Peña,\n", body)
        self.assertIn("  Asset:    104233\n  Device:   ProBook 450 G8\n", body)
        self.assertIn("  Charger:  MISSING, not in the bag\n", body)
        self.assertIn("  Receipt:  %s\n" % receipt, body)
        self.assertIn("You told the kiosk the charger was in the bag, but the technician\n"
                      "did not find it there.\n", body)
        self.assertIn("the replacement cost is $35.00.\n", body)
        self.assertEqual(
            [a for a in self.audit_actions() if a[0].startswith("tech:")],
            [("tech:T0001", "tech login", "T0001"),
             ("tech:T0001", "return received", "104233"),
             ("tech:T0001", "confirmation email queued", "104233")])
        self.audit_ok()

    def test_receiving_twice_is_refused_and_changes_nothing(self):
        self.drop_laptop_at_the_kiosk()
        self.ctl("receive", "104233", "--tech", "T0001")
        before = self.site.query("SELECT count(*) FROM outbox")
        again = self.ctl("receive", "104233", "--tech", "T0001", "--charger", "missing",
                         check=False)
        self.assertEqual(again.returncode, 1)
        self.assertRegex(again.stderr.decode(),
                         r"^dropkioskctl: asset 104233 was already received on "
                         r"20[0-9T:-]+Z by technician T0001; nothing changed\n$")
        self.assertEqual(self.site.query("SELECT charger_verified FROM returns"), [(1,)])
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), before)
        self.audit_ok()

    def test_walk_in_is_received_flagged_and_listed(self):
        out = self.ctl("receive", "104400", "--tech", "B-1001", "--charger", "present")
        self.assertEqual(out.stdout.decode(),
                         "Walk-in: asset 104400 (Galaxy A54) has no open return: recorded "
                         "as a walk-in.\n"
                         "Recorded as return 1, received, flagged for review: charger "
                         "present.\n")
        self.assertEqual(
            self.site.query("SELECT asset_tag, returned_by, state, flag_walk_in, "
                            "charger_verified, site_id FROM returns"),
            [("104400", None, "received", 1, 1, "bolling")])
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), [(0,)])
        listed = self.site.ctl("discrepancies", "--csv").stdout.decode().splitlines()
        self.assertEqual(listed[0], "kind,return,tag,model,returned_at,received_at,"
                                    "returned_by,technician,days_waiting")
        self.assertRegex(listed[1], r"^walk-in,1,104400,Galaxy A54,20[0-9T:-]+Z,"
                                    r"20[0-9T:-]+Z,,T0001,0$")
        self.assertEqual(len(listed), 2)
        self.audit_ok()

    def test_walk_in_without_a_charger_answer_is_refused(self):
        out = self.ctl("receive", "104400", "--tech", "B-1001", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.decode(),
                         "dropkioskctl: asset 104400 has no open return: give --charger "
                         "present or missing to record a walk-in\n")
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(0,)])


class CleanoutTest(IntakeTest):
    def test_cart_from_stdin_is_returned_and_received(self):
        cart = b"104400\n\n104500\n177777\r\n"
        out = self.ctl("cleanout", "--school", "Lakeside Elementary", "--tech", "T0001",
                       "-", stdin=cart)
        self.assertEqual(out.stdout.decode().splitlines(), [
            "104400           returned and received (return 1)",
            "104500           returned and received (return 2)",
            "177777           returned and received (return 3); not in the inventory, "
            "flagged for review",
            "Clean-out of Lakeside Elementary: 3 returned and received, 0 from the drop bin.",
            "0 refused; 1 not in the inventory (flagged).",
        ])
        self.assertEqual(
            self.site.query("SELECT asset_tag, returned_by, state, cleanout_school, "
                            "flag_walk_in, flag_unknown_asset FROM returns ORDER BY id"),
            [("104400", None, "received", "Lakeside Elementary", 0, 0),
             ("104500", None, "received", "Lakeside Elementary", 0, 0),
             ("177777", None, "received", "Lakeside Elementary", 0, 1)])
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), [(0,)])
        self.assertEqual([a[1] for a in self.audit_actions() if a[0] == "tech:T0001"],
                         ["tech login"] + ["cleanout received"] * 3)
        self.audit_ok()

    def test_a_badge_in_the_cart_stops_it_with_nothing_changed(self):
        before = self.last_audit_id()
        out = self.ctl("cleanout", "--school", "Lakeside Elementary", "--tech", "T0001",
                       "-", stdin=b"104400\nS100001\n", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.decode(),
                         "dropkioskctl: tag line 2: 'S100001' is a staff badge, not a device "
                         "label; nothing changed\n")
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(0,)])
        self.assertEqual(self.last_audit_id(), before)

    def test_already_received_device_in_a_cart_is_refused_the_rest_taken(self):
        self.ctl("receive", "104400", "--tech", "T0001", "--charger", "present")
        out = self.ctl("cleanout", "--school", "Lakeside Elementary", "--tech", "T0001",
                       "104400", "104500", check=False)
        self.assertEqual(out.returncode, 1)
        lines = out.stdout.decode().splitlines()
        self.assertRegex(lines[0], r"^104400 +refused: asset 104400 was already received on ")
        self.assertEqual(lines[1], "104500           returned and received (return 2)")
        self.assertEqual(lines[3], "1 refused; 0 not in the inventory (flagged).")
        self.audit_ok()


class LockoutTest(IntakeTest):
    def test_five_wrong_pins_lock_the_account(self):
        before = self.last_audit_id()
        for i in range(1, 5):
            out = self.ctl("receive", "104400", "--tech", "B-1001", "--charger", "present",
                           pin="000000", check=False)
            self.assertEqual(out.returncode, 1)
            self.assertEqual(out.stderr.decode(),
                             "dropkioskctl: wrong PIN for technician T0001 (%d of 5 tries "
                             "before a 15-minute lock)\n" % i)
        out = self.ctl("receive", "104400", "--tech", "B-1001", "--charger", "present",
                       pin="000000", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr.decode(),
                         r"^dropkioskctl: wrong PIN for technician T0001; 5 wrong PINs in a "
                         r"row locked the account until 20[0-9T:-]+Z\n$")
        # The right PIN does not open a locked account.
        out = self.ctl("receive", "104400", "--tech", "B-1001", "--charger", "present",
                       check=False)
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr.decode(), r"technician T0001 is locked until "
                                              r"20[0-9T:-]+Z after 5 wrong PINs")
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(0,)])
        self.assertEqual([a[1] for a in self.audit_actions(before)],
                         ["tech login failed"] * 5 + ["tech locked", "tech login failed"])
        listed = self.site.ctl("tech", "list", "--csv").stdout.decode().splitlines()
        self.assertRegex(listed[1], r"^T0001,Jordan Reyes,B-1001,locked until 20[0-9T:-]+Z,")
        self.assertEqual(self.site.query("SELECT count(*) FROM audit WHERE details LIKE "
                                         "'%000000%' OR details LIKE ?", "%" + PIN + "%"),
                         [(0,)])
        self.audit_ok()

    def test_pin_typed_as_the_badge_is_not_kept(self):
        before = self.last_audit_id()
        out = self.ctl("receive", "104400", "--tech", "2222", "--charger", "present",
                       pin="2222", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.decode(),
                         "dropkioskctl: no technician has that badge or id\n")
        self.assertEqual(self.audit_actions(before),
                         [("cli", "tech login failed", "unknown badge")])
        self.assertEqual(self.site.query("SELECT count(*) FROM audit WHERE actor || action || "
                                         "subject || details LIKE '%2222%'"), [(0,)])
        self.audit_ok()

    def test_disabled_technician_is_refused(self):
        # Accounts are managed by a technician who logs in; here T0001 itself.
        self.ctl("tech", "disable", "T0001", "--tech", "B-1001")
        out = self.ctl("receive", "104400", "--tech", "T0001", "--charger", "present",
                       check=False)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.decode(), "dropkioskctl: technician T0001 is disabled\n")


class TerminalPinTest(IntakeTest):
    def read_until(self, fd, text, timeout=10):
        seen = b""
        deadline = time.monotonic() + timeout
        while text.encode() not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # EIO: the program closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
        return seen.decode(errors="replace")

    def test_new_pin_is_asked_twice_on_the_terminal_without_echo(self):
        # pty.fork makes the pty the child's controlling terminal, which
        # dropkioskctl opens as /dev/tty.
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(CTL, [CTL, "-c", self.site.config, "tech", "add", "--name",
                           "Sam Okafor", "--badge", "B-2002", "--tech", "B-1001"])
        try:
            # The approving technician's PIN first, then the new one twice.
            said = self.read_until(fd, "Technician PIN: ")
            os.write(fd, PIN.encode() + b"\n")
            said += self.read_until(fd, "New PIN (4-12 digits): ")
            os.write(fd, b"2468\n")
            said += self.read_until(fd, "Same PIN again: ")
            os.write(fd, b"2468\n")
            said += self.read_until(fd, "badge B-2002)")
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertNotIn("2468", said)
        self.assertNotIn(PIN, said)
        self.assertIn("added technician T0002 (Sam Okafor, badge B-2002)", said)
        out = self.ctl("receive", "104400", "--tech", "B-2002", "--charger", "present",
                       pin="2468")
        self.assertIn("Walk-in: asset 104400", out.stdout.decode())


class AccountsTest(IntakeTest):
    def test_adding_a_second_technician_needs_a_login(self):
        before = self.last_audit_id()
        out = self.site.ctl("tech", "add", "--name", "Sam", "--badge", "B-2", "--pin-stdin",
                            stdin=b"1357\n", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.decode(),
                         "dropkioskctl: managing technicians needs --tech ID: an active "
                         "technician logs in to do it (see dropkioskctl --help)\n")
        self.assertEqual(self.last_audit_id(), before)
        out = self.site.ctl("tech", "add", "--name", "Sam", "--badge", "B-2", "--tech",
                            "B-1001", "--pin-stdin", stdin=PIN.encode() + b"\n1357\n")
        self.assertEqual(out.stdout.decode(), "added technician T0002 (Sam, badge B-2)\n")
        self.assertEqual(self.audit_actions(before)[-1],
                         ("tech:T0001", "tech added", "T0002"))

    def test_a_disabled_technician_cannot_add_accounts(self):
        self.ctl("tech", "disable", "T0001", "--tech", "B-1001")
        out = self.site.ctl("tech", "add", "--name", "Sam", "--badge", "B-2", "--tech",
                            "B-1001", "--pin-stdin", stdin=PIN.encode() + b"\n1357\n",
                            check=False)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(self.site.query("SELECT count(*) FROM technicians"), [(1,)])


class BadInputTest(IntakeTest):
    def refused(self, args, message):
        before = self.last_audit_id()
        out = self.ctl(*args, check=False)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertEqual(out.stderr.decode(), "dropkioskctl: " + message + "\n")
        self.assertEqual(self.last_audit_id(), before)
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(0,)])

    def test_bad_condition_is_named(self):
        self.refused(["receive", "104400", "--tech", "T0001", "--condition", "broken"],
                     "--condition must be good, worn, damaged or not_working, not 'broken'")

    def test_bad_charger_word_is_named(self):
        self.refused(["receive", "104400", "--tech", "T0001", "--charger", "yes"],
                     "--charger must be present or missing (see dropkioskctl --help)")

    def test_a_badge_is_not_a_device(self):
        self.refused(["receive", "S100002", "--tech", "T0001"],
                     "'S100002' is a staff badge, not a device label")

    def test_an_unknown_label_is_refused_before_the_pin(self):
        self.refused(["receive", "ZZZ999XX", "--tech", "T0001"],
                     "'ZZZ999XX' is not an asset tag, serial number or IMEI we know")

    def test_a_mangled_read_is_refused(self):
        self.refused(["receive", "1044\x1b00", "--tech", "T0001"],
                     "'1044\\x1b00' is not a device label: scan holds unreadable "
                     "control characters or bytes that are not text")

    def test_a_pin_with_letters_is_refused_at_add(self):
        out = self.site.ctl("tech", "add", "--name", "Sam", "--badge", "B-2", "--tech",
                            "B-1001", "--pin-stdin", stdin=PIN.encode() + b"\n12ab\n",
                            check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.decode(), "dropkioskctl: the PIN must be 4 to 12 digits\n")


if __name__ == "__main__":
    unittest.main()
