"""Each special path of a visit: desktops, unknown tags, devices already
returned, received or recycled, cancelling, the idle timeout, two scanners
and an unplugged one."""

import email
import email.policy
import os
import time
import unittest

from kiosk import FIXTURES, Kiosk, Site, SmtpServer


class SpecialCaseTest(unittest.TestCase):
    idle_timeout = 300

    def setUp(self):
        self.smtp = SmtpServer()
        self.site = Site(smtp_port=self.smtp.port, idle_timeout=self.idle_timeout)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.smtp.stop()
        self.site.cleanup()

    def returns(self):
        return self.site.query(
            "SELECT asset_tag, returned_by, charger_declared, flag_not_assignee, "
            "flag_unknown_asset, flag_missing_charger FROM returns ORDER BY id")


class DesktopTest(SpecialCaseTest):
    def test_desktop_is_not_taken_and_a_ticket_is_mailed(self):
        k = self.kiosk
        k.scan("104300")
        k.expect("Asset 104300 is a desktop computer. Desktops are not dropped off")
        k.expect("Scan the next device, or DONE")
        k.type("DONE")
        k.expect("Who is returning these devices\\?")
        k.type("minh.tran@example.org")
        k.expect("The service desk has been asked to reimage your desktop.")
        (eml, env), = self.smtp.wait_for(1)
        self.assertEqual(env, ["MAIL FROM:<dropkiosk@example.org>",
                               "RCPT TO:<servicedesk@example.org>"])
        msg = email.message_from_bytes(eml, policy=email.policy.default)
        # The default [mail] ticket_subject, "Reimage desktop {tag} at {site_name}".
        self.assertEqual(msg["Subject"], "Reimage desktop 104300 at Bolling Building")
        body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        self.assertIn("Asset tag: 104300\n", body)
        self.assertIn("Serial: DT77889\n", body)
        self.assertIn("Assignee: S100001\n"
                      "Requester: Tran Van Minh (staff id S100002, minh.tran@example.org)\n",
                      body)
        self.assertIn("Note: the requester is not the recorded assignee; confirm with the "
                      "assignee before reimaging.\n", body)
        self.assertEqual(self.returns(), [])
        self.assertEqual(self.site.query("SELECT count(*) FROM receipts"), [(0,)])
        self.assertEqual(self.site.query("SELECT action, subject, details FROM audit "
                                         "WHERE actor LIKE 'kiosk:%'"),
                         [("desktop ticket queued", "104300", "S100002")])


class UnknownAndRepeatTest(SpecialCaseTest):
    def test_unknown_tag_is_accepted_and_flagged(self):
        k = self.kiosk
        k.scan("199999")
        k.expect("Asset 199999 is not in our inventory. It will be accepted")
        k.scan("NO")
        k.type("DONE")
        k.type("SKIP")
        k.expect("Received: 1 device")
        self.assertEqual(self.returns(), [("199999", None, 0, 0, 1, 1)])
        self.assertEqual(self.site.query("SELECT channels, recipients FROM receipts"),
                         [("screen,png", "")])

    def test_phone_found_by_imei(self):
        k = self.kiosk
        k.scan("490154203237518")
        k.expect(r"Phone Samsung Galaxy A54 \(asset 104400\)")
        k.scan("YES")
        k.type("DONE")
        k.expect("Who is returning")
        k.scan("S100002")
        k.expect("Email the receipt")
        k.type("NO")
        k.expect("Received: 1 device")
        self.assertEqual(self.returns(), [("104400", "S100002", 1, 0, 0, 0)])
        self.assertEqual(self.site.query("SELECT checklist FROM returns"), [(None,)])

    def test_gs1_label_is_found_by_its_serial_only(self):
        k = self.kiosk
        # GS1-128: GTIN (01), then the serial (21) after a group separator.
        k.scan(b"]C10109506000134352\x1d" b"21HS-55120")
        k.expect(r"Hotspot Franklin T10 Hotspot \(asset 104500\)")
        k.scan("NO")
        k.expect("Added asset 104500")
        # A serial that happens to look like an asset tag is still a serial.
        k.scan(b"]C121104233")
        k.expect('Not recognised: no device we know has serial number "104233". Scan the '
                 "asset tag instead.")
        k.scan(b"]C10109506000134352")
        k.expect("this code names a product \\(GTIN\\), not one device; scan the asset tag")

    def test_already_returned_device_records_no_second_return(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.type("SKIP")
        k.expect("Received: 1 device")
        k.expect("Ready.")
        k.scan("104233")
        # The time is said in the kiosk's zone, as on receipts.
        k.expect(r"Asset 104233 was already returned \(20[0-9-]{8} [0-9:]{5} E[SD]T\) and is "
                 r"waiting for a "
                 r"technician. No second return is recorded.")
        k.type("DONE")
        k.expect("Nothing scanned yet.")
        self.assertEqual(len(self.returns()), 1)

    def test_same_device_twice_in_one_visit(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.scan("5CD1234XYZ")
        k.expect("Asset 104233 is already in this visit.")

    def test_cancel_records_nothing(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.scan("104400")
        k.scan("NO")
        k.scan("CANCEL")
        k.expect("Cancelled. Nothing from this visit was recorded.")
        self.assertEqual(self.returns(), [])
        self.assertEqual(self.site.query("SELECT count(*) FROM audit"), [(2,)])

    def test_scanner_enter_does_not_answer_the_charger_question(self):
        k = self.kiosk
        k.scan("104233")
        k.expect("Is the charger in the bag\\?")
        k.scan(b"\r\r", wait=False)  # bare terminators: no scan at all
        k.scan("104400")
        k.expect("Please answer first: is the charger for asset 104233 in the bag\\?")


class ChecklistTest(SpecialCaseTest):
    """[kiosk] checklist = yes: phones and tablets are asked three
    questions before they go in the bin."""

    def setUp(self):
        self.smtp = SmtpServer()
        self.site = Site(smtp_port=self.smtp.port, checklist=True)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def test_phone_gets_the_checklist_before_the_bin(self):
        k = self.kiosk
        k.scan("490154203237518")
        k.expect(r"Phone Samsung Galaxy A54 \(asset 104400\)")
        k.scan("YES")
        k.expect("Before the Phone goes in the bin, please check three things.")
        # Typed, since the same card scanned again within the repeat window
        # would be folded into one read.
        k.expect(r"Are the SIM card and the case removed\? YES or NO")
        k.type("YES")
        k.expect(r"Are you signed out of your Apple ID or Google account on it\? YES or NO")
        k.type("YES")
        k.expect(r"Is Find My \(activation lock\) turned off\? YES or NO")
        k.type("YES")
        k.expect("Added asset 104400, charger in the bag. 1 device in this visit.")
        self.assertNotIn("A technician will finish", k.out)
        k.type("DONE")
        k.expect("Who is returning")
        k.scan("S100002")
        k.expect("Email the receipt")
        k.type("NO")
        k.expect("Received: 1 device")
        self.assertEqual(self.returns(), [("104400", "S100002", 1, 0, 0, 0)])
        self.assertEqual(self.site.query("SELECT checklist FROM returns"),
                         [("sim_removed=yes signed_out=yes lock_off=yes",)])

    def test_phone_checklist_answers_are_kept_for_the_technician(self):
        k = self.kiosk
        k.scan("104400")
        k.type("NO")
        k.expect("SIM card")
        # The scanner's DONE card is not an answer: the question is asked again.
        k.type("DONE")
        k.expect(r"Are the SIM card and the case removed\? YES or NO")
        k.type("YES")
        k.type("NO")
        k.type("NO")
        k.expect("Thank you. A technician will finish what is not done, which may take longer.")
        k.expect("Added asset 104400, charger not in the bag.")
        k.type("DONE")
        k.scan("S100002")
        k.type("NO")
        k.expect("Received: 1 device")
        self.assertEqual(self.site.query("SELECT checklist FROM returns"),
                         [("sim_removed=yes signed_out=no lock_off=no",)])
        details, = self.site.query(
            "SELECT details FROM audit WHERE action = 'return dropped'")[0]
        self.assertTrue(details.endswith(" sim_removed=yes signed_out=no lock_off=no"),
                        details)
        pin = b"4821\n"
        self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7", "--pin-stdin",
                      stdin=pin)
        self.site.ctl("receive", "104400", "--tech", "B-7", "--pin-stdin", "--charger",
                      "missing", "--condition", "good", stdin=pin)
        out = self.site.ctl("dispose", "104400").stdout.decode()
        self.assertIn("\nkiosk     sim_removed=yes signed_out=no lock_off=no\n", out)


class NumberedBinTest(unittest.TestCase):
    def test_the_receipt_names_the_kiosks_bin(self):
        site = Site(extra="\n[kiosk]\nbin = 2\n")
        try:
            site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
            site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
            k = Kiosk(site)
            try:
                k.type("ES")
                k.scan("104233")
                k.scan("YES")
                k.type("DONE")
                k.type("SKIP")
                k.expect("Por favor, coloque los equipos en el contenedor de devoluciones 2. "
                         "¡Gracias!")
            finally:
                k.stop()
        finally:
            site.cleanup()


class BackWithOiitTest(SpecialCaseTest):
    """Devices that must not be dropped again: one recycled onto an e-waste
    manifest, and one received by a technician but not yet dispositioned."""

    PIN = b"4821\n"

    def setUp(self):
        super().setUp()
        self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7",
                      "--pin-stdin", stdin=self.PIN)

    def tech(self, *args, check=True):
        return self.site.ctl(*args, "--tech", "B-7", "--pin-stdin", stdin=self.PIN,
                             check=check)

    def recycle_the_phone(self):
        self.tech("receive", "104400", "--charger", "present", "--condition", "damaged")
        out = self.tech("recycle", "104400", "--level", "destroy")
        self.assertTrue(out.stdout.startswith(b"104400: recycled"), out.stdout)

    def test_recycled_device_is_refused_at_the_kiosk(self):
        self.recycle_the_phone()
        counts = "SELECT (SELECT count(*) FROM returns), (SELECT count(*) FROM audit), " \
                 "(SELECT count(*) FROM outbox), (SELECT count(*) FROM receipts)"
        before = self.site.query(counts)
        k = self.kiosk
        k.scan("104400")
        refusal = k.expect(r"Asset 104400 was recycled and cannot be returned here\. Please "
                           r"take it to the OIIT service desk\.\n")
        self.assertNotIn("Galaxy", refusal.string[refusal.start():])
        k.type("DONE")
        k.expect("Nothing scanned yet.")
        self.assertEqual(self.site.query(counts), before)
        self.assertEqual(self.site.query("SELECT state FROM returns WHERE asset_tag = "
                                         "'104400'"), [("dispositioned",)])

    def test_recycled_device_is_refused_by_receive(self):
        self.recycle_the_phone()
        out = self.tech("receive", "104400", "--charger", "present", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.decode(),
                         "dropkioskctl: asset 104400 was recycled on manifest 1; it cannot "
                         "come back into use\n")
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(1,)])

    def test_received_device_is_with_oiit_already(self):
        self.tech("receive", "104400", "--charger", "present", "--condition", "good")
        k = self.kiosk
        k.scan("104400")
        k.expect(r"Asset 104400 is with OIIT already \(received 20[0-9-]{8} [0-9:]{5} E[SD]T\)\. "
                 r"No second "
                 r"return is recorded\.")
        k.type("DONE")
        k.expect("Nothing scanned yet.")
        self.assertEqual(self.site.query("SELECT state FROM returns"), [("received",)])


class DoubleReadTest(SpecialCaseTest):
    def test_double_read_done_does_not_skip_the_identity_question(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.expect("Added asset 104233")
        os.write(k.master, b"DONE\rDONE\r")
        k.expect("Who is returning these devices\\?")
        time.sleep(0.5)
        self.assertNotIn("Received", k.out)
        k.scan("S100002")
        k.expect("Email the receipt")


class IdleTimeoutTest(SpecialCaseTest):
    idle_timeout = 5

    def test_idle_visit_records_answered_devices_without_a_name(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.scan("104400")
        k.expect("Is the charger in the bag\\?")
        # No answer for the phone: only the laptop was acknowledged.
        k.expect("No activity for 5 seconds.", timeout=15)
        k.expect("Recording the devices scanned so far without a name.")
        k.expect("Received: 1 device")
        k.expect("Ready.")
        self.assertEqual(self.returns(), [("104233", None, 1, 0, 0, 0)])

    def test_idle_with_nothing_answered_records_nothing(self):
        k = self.kiosk
        k.scan("104233")
        k.expect("No activity for 5 seconds.", timeout=15)
        k.expect("Ready.")
        self.assertEqual(self.returns(), [])


class TwoScannersTest(SpecialCaseTest):
    def test_scans_from_both_scanners_reach_the_visit_in_order(self):
        k = self.kiosk
        k.scan("104233")           # pty
        k.expect("Is the charger in the bag\\?")
        k.type("YES")              # keyboard
        k.expect("Added asset 104233")
        k.type("104400")           # keyboard
        k.expect(r"Phone Samsung Galaxy A54")
        k.scan("NO")               # pty
        k.expect("Added asset 104400, charger not in the bag. 2 devices")
        k.type("DONE")
        k.expect("Who is returning")
        k.scan("S100001")
        k.expect("Email the receipt")
        k.type("NO")
        k.expect("Received: 2 devices")
        self.assertEqual(self.returns(), [("104233", "S100001", 1, 0, 0, 0),
                                          ("104400", "S100001", 0, 1, 0, 1)])

    def test_unplugging_a_scanner_mid_visit_is_survived(self):
        k = self.kiosk
        k.scan("104233")
        k.expect("Is the charger in the bag\\?")
        k.unplug()
        deadline = time.monotonic() + 10
        while "is gone" not in k.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("dropkiosk warning: scanner lobby on %s is gone; the kiosk goes on and "
                      "uses it again when it is back" % k.link, k.log())
        k.type("YES")
        k.type("DONE")
        k.type("SKIP")
        k.expect("Received: 1 device")
        self.assertEqual(self.returns(), [("104233", None, 1, 0, 0, 0)])
        self.assertEqual(k.stop(), 0)

    def test_replugged_scanner_is_used_again_within_a_second(self):
        k = self.kiosk
        k.unplug()
        deadline = time.monotonic() + 10
        while "is gone" not in k.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        k.replug()
        plugged = time.monotonic()
        while k.log().count("scanner lobby ready on") < 2:
            self.assertLess(time.monotonic() - plugged, 1.0, k.log())
            time.sleep(0.02)
        k.scan("104233")
        k.expect("Is the charger in the bag\\?")


if __name__ == "__main__":
    unittest.main()


class RobustnessTest(SpecialCaseTest):
    def test_stopping_mid_visit_records_answered_devices(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.scan("104400")
        k.scan("NO")
        k.expect("2 devices in this visit.")
        k.scan("104500")
        k.expect("Is the charger in the bag\\?")
        self.assertEqual(k.stop(), 0)
        self.assertIn("The kiosk is stopping. Recording the devices scanned so far without "
                      "a name.", k.out)
        # The hotspot's question was never answered: it was not acknowledged.
        self.assertEqual(self.returns(), [("104233", None, 1, 0, 0, 0),
                                          ("104400", None, 0, 0, 0, 1)])

    def test_visit_stops_taking_devices_when_the_receipt_is_full(self):
        long_model = "Latitude 7440 2-in-1 with extended warranty and docking bundle " * 2
        rows = "".join("%d,SN%d,laptop,Dell,%s\n" % (110000 + i, i, long_model)
                       for i in range(20))
        path = os.path.join(self.site.dir, "long-models.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("Asset Tag,Serial,Type,Make,Model\n" + rows)
        self.site.ctl("import", "assets", path)
        k = self.kiosk
        added = 0
        for i in range(20):
            k.scan(str(110000 + i))
            m = k.expect(r"(Is the charger in the bag\?|as many devices as one receipt can "
                         r"list)")
            if m.group(1).startswith("as many"):
                break
            k.scan("YES")
            added += 1
            k.expect("%d devices? in this visit" % added)
        # 320 bytes of fixed lines and 163 a device: the tenth would pass 1800.
        self.assertEqual(added, 9)
        k.type("DONE")
        k.type("SKIP")
        k.expect("Received: 9 devices")
        payload = self.site.query("SELECT payload FROM receipts")[0][0]
        self.assertLess(len(payload.encode()), 1800)
        m = k.expect(r"Receipt image: (\S+\.png)")
        self.assertEqual(self.site.ctl("verify", m.group(1)).returncode, 0)

    def test_unusable_address_on_file_is_never_promised_an_email(self):
        # An address no import would accept, as if left by an older version.
        self.site.query("UPDATE staff SET email = 'bad address@example.org' "
                        "WHERE id = 'S100001'")
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.expect("Who is returning")
        k.scan("S100001")
        k.expect("Received: 1 device")
        k.expect("Please put the devices in the drop bin")
        self.assertNotIn("Email the receipt", k.out)
        self.assertEqual(self.returns(), [("104233", "S100001", 1, 0, 0, 0)])
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), [(0,)])

    def test_unusable_leader_address_is_not_offered_a_copy(self):
        self.site.query("UPDATE staff SET leader_email = 'léad@example.org' "
                        "WHERE id = 'S100001'")
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.scan("S100001")
        k.expect("Email the receipt")
        k.type("YES")
        k.expect("A copy will be emailed to you.")
        self.assertNotIn("Send a copy to your school", k.out)
        self.assertEqual(self.site.query("SELECT kind, recipients FROM outbox"),
                         [("receipt", "maria.pena@example.org")])

    def test_name_too_long_for_a_header_still_gets_the_receipt_email(self):
        # One unbroken word longer than a header line may hold once encoded.
        long_name = "María-" + "Aparecida" * 6 + " Peña"
        self.site.query("UPDATE staff SET name = ? WHERE id = 'S100001'", long_name)
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.expect("Who is returning")
        k.scan("S100001")
        k.expect("Email the receipt")
        k.type("YES")
        k.expect("Send a copy")
        k.type("NO")
        k.expect("Received: 1 device")
        k.expect("A copy will be emailed to you.")
        self.assertEqual(self.site.query("SELECT kind, recipients FROM outbox"),
                         [("receipt", "maria.pena@example.org")])
        mime, = self.site.query("SELECT mime FROM outbox")[0]
        self.assertIn(b"\r\nTo: maria.pena@example.org\r\n", mime)

    def test_a_staff_id_is_found_in_either_case(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.expect("Who is returning")
        k.type("s100001")
        k.expect("Email the receipt")
        k.type("NO")
        k.expect("Received: 1 device")
        self.assertEqual(self.returns(), [("104233", "S100001", 1, 0, 0, 0)])

    def test_email_shared_by_two_staff_asks_for_badge(self):
        self.site.query("UPDATE staff SET email = 'maria.pena@example.org' "
                        "WHERE id = 'S100004'")
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.expect("Who is returning")
        k.type("maria.pena@example.org")
        k.expect("That email belongs to more than one person. Scan your badge or type your "
                 "staff id instead, or SKIP.")
        k.scan("S100001")
        k.expect("Email the receipt")
