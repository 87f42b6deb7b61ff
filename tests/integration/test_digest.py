"""The leaders' daily digest and the routable desktop ticket on real parts:
returns made at the real daemon through its pty scanner, `dropkioskctl
digest` and `outbox send`, and the real SMTP server on loopback.  A leader
gets one digest listing exactly their staff's devices, never a second one;
the daemon queues the digest itself at start once digest_time has passed;
`dropkioskctl digest` without --date takes the last day whose digest is due
and never queues today's before digest_time; a desktop ticket carries the
configured ticket_subject."""

import datetime
import email
import email.policy
import os
import re
import time
import unittest
import zoneinfo

from kiosk import FIXTURES, Kiosk, Site, SmtpServer

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def local_today():
    """The site's day ([kiosk] timezone in kiosk.py's config)."""
    return datetime.datetime.now(NEW_YORK).strftime("%Y-%m-%d")


def parse(eml):
    msg = email.message_from_bytes(eml, policy=email.policy.default)
    body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return msg, body


def listed_devices(body):
    """(tag, device) of each "HH:MM  Asset TAG, DEVICE" line of a digest."""
    return re.findall(r"^[0-9]{2}:[0-9]{2}  Asset ([^,]+), (.*)$", body, re.M)


class DigestTest(unittest.TestCase):
    extra = ""

    def setUp(self):
        self.smtp = SmtpServer()
        self.addCleanup(self.smtp.stop)
        self.site = Site(smtp_port=self.smtp.port, extra=self.extra)
        self.addCleanup(self.site.cleanup)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))

    def start_kiosk(self):
        """The daemon, with a fresh scanner link (a second start after a
        stop must not add the scanner sections twice)."""
        self.site.scanner_sections = ""
        link = os.path.join(self.site.dir, "scanner-lobby")
        if os.path.lexists(link):
            os.unlink(link)
        kiosk = Kiosk(self.site)
        self.addCleanup(kiosk.stop)
        return kiosk

    def visit(self, kiosk, devices, who):
        """One visit: each (tag, charger yes/no), then who (a badge, or
        SKIP), and no email receipt, so the only mail is the digest."""
        for tag, charger in devices:
            kiosk.scan(tag)
            kiosk.expect("Is the charger in the bag\\? YES or NO")
            kiosk.scan(charger)
            kiosk.expect("Scan the next device, or DONE")
        kiosk.type("DONE")
        kiosk.expect("Who is returning these devices\\?")
        if who == "SKIP":
            kiosk.type("SKIP")
        else:
            kiosk.scan(who)
            kiosk.expect("Email the receipt")
            kiosk.type("NO")
        kiosk.expect(r"Your receipt is R-[0-9A-Z]{9}\.")

    def make_returns(self, kiosk):
        """María (S100001, leader lead.finance) returns her laptop and a tag
        the inventory lacks; an anonymous hotspot with no assignee and Ana
        Lima (no leader) returning Minh's phone reach no leader."""
        self.visit(kiosk, [("104233", "YES"), ("177777", "NO")], "S100001")
        self.visit(kiosk, [("104500", "NO")], "SKIP")
        self.visit(kiosk, [("104400", "YES")], "S100004")

    def assert_finance_digest(self, eml, env, day):
        self.assertEqual(env, ["MAIL FROM:<dropkiosk@example.org>",
                               "RCPT TO:<lead.finance@example.org>"])
        msg, body = parse(eml)
        self.assertEqual(msg["To"], "lead.finance@example.org")
        self.assertEqual(msg["Subject"],
                         "Returns by your staff at Bolling Building on %s: 2 devices" % day)
        self.assertEqual(listed_devices(body), [("104233", "HP ProBook 450 G8"),
                                                ("177777", "device not in our inventory")])
        self.assertEqual(body.count("       Returned by: María José Peña (staff id S100001)\n"),
                         2)
        self.assertIn("       Charger declared: yes\n"
                      "       Status now: dropped, waiting for a technician\n\n", body)
        self.assertIn("       Charger declared: no\n"
                      "       Status now: dropped, waiting for a technician\n"
                      "       Flags: unknown asset\n\n", body)
        self.assertIn("2 devices in all.\n", body)
        self.assertNotIn("104500", body)
        self.assertNotIn("104400", body)
        html = msg.get_body(("html",)).get_content()
        self.assertIn("<td>María José Peña (staff id S100001)</td><td>104233</td>", html)


class CtlDigestTest(DigestTest):
    # 00:00 has always passed: with no --date, the day is today.
    extra = "digest_time = 00:00\n"

    def test_leader_gets_one_digest_of_exactly_their_staffs_devices(self):
        kiosk = self.start_kiosk()
        self.make_returns(kiosk)
        # The daemon's own digest is off ([mail] digest defaults to no);
        # stopped, it delivers nothing behind the test's back either.
        kiosk.stop()
        day = local_today()

        out = self.site.ctl("digest")
        self.assertEqual(out.stdout.decode(), "queued 1 digest for %s\n" % day)
        self.assertEqual(self.site.ctl("outbox", "send").stdout.decode(),
                         "1 sent, 0 failed, 0 to retry\n")
        (eml, env), = self.smtp.messages()
        self.assert_finance_digest(eml, env, day)
        self.assertEqual(self.site.query("SELECT leader_email, day, status FROM digests "
                                         "JOIN outbox ON outbox.id = digests.outbox_id"),
                         [("lead.finance@example.org", day, "sent")])

        again = self.site.ctl("digest", "--date", day)
        self.assertEqual(again.stdout.decode(),
                         "queued 0 digests for %s: already queued earlier for 1 leader\n"
                         % day)
        self.assertEqual(self.site.ctl("outbox", "send").stdout.decode(),
                         "0 sent, 0 failed, 0 to retry\n")
        self.assertEqual(len(self.smtp.messages()), 1)
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox WHERE kind = 'digest'"),
                         [(1,)])
        audit = self.site.ctl("audit", "verify").stdout.decode()
        self.assertTrue(audit.startswith("OK: "), audit)

    def test_day_without_returns_queues_nothing(self):
        out = self.site.ctl("digest", "--date", "2024-06-03")
        self.assertEqual(out.stdout.decode(),
                         "queued 0 digests for 2024-06-03: no returns that day for a leader "
                         "to hear of\n")
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), [(0,)])

    def test_bad_date_is_refused_naming_it(self):
        for bad in ("2024-13-01", "2024-02-30", "yesterday", "2024-6-3"):
            out = self.site.ctl("digest", "--date", bad, check=False)
            self.assertEqual(out.returncode, 2, bad)
            self.assertEqual(out.stderr.decode(),
                             "dropkioskctl: bad --date '%s': give a day as YYYY-MM-DD\n" % bad)
            self.assertEqual(out.stdout, b"")

    def test_day_not_yet_begun_is_refused(self):
        out = self.site.ctl("digest", "--date", "2999-01-01", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.decode(), "dropkioskctl: the day 2999-01-01 has not begun: "
                                              "no digest for it yet\n")

    def test_option_the_verb_does_not_take_is_refused(self):
        out = self.site.ctl("digest", "--from", "2024-06-03", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn("digest does not take --from", out.stderr.decode())
        self.assertEqual(self.site.query("SELECT count(*) FROM digests"), [(0,)])


class CtlDigestBeforeTimeTest(DigestTest):
    """The site's clock is set, by its time zone, to 12:00-12:59 now, so
    digest_time 23:00 is hours ahead whenever the test runs."""
    extra = "digest_time = 23:00\n"

    def setUp(self):
        super().setUp()
        offset = datetime.datetime.now(datetime.timezone.utc).hour - 12
        # POSIX signs: Etc/GMT+5 is five hours behind UTC.
        zone = "Etc/GMT%+d" % offset
        self.site.text = self.site.text.replace("timezone = America/New_York",
                                                "timezone = %s" % zone)
        self.site.write_config()
        now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
        self.assertEqual(now.hour, 12)
        self.today = now.strftime("%Y-%m-%d")
        self.yesterday = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%d")

    def set_digest_time(self, hhmm):
        self.site.text = self.site.text.replace("digest_time = 23:00\n",
                                                "digest_time = %s\n" % hhmm)
        self.site.write_config()

    def test_before_digest_time_the_day_is_yesterday_and_today_waits(self):
        kiosk = self.start_kiosk()
        self.make_returns(kiosk)
        kiosk.stop()

        out = self.site.ctl("digest")
        self.assertEqual(out.stdout.decode(),
                         "queued 0 digests for %s: no returns that day for a leader "
                         "to hear of\n" % self.yesterday)
        self.assertEqual(self.site.query("SELECT count(*) FROM digests"), [(0,)])

        # Asked for today by name, it is refused, and nothing is recorded.
        early = self.site.ctl("digest", "--date", self.today, check=False)
        self.assertEqual(early.returncode, 2)
        self.assertEqual(early.stderr.decode(),
                         "dropkioskctl: the digest of %s is due at 23:00; give --date for a "
                         "finished day, or wait\n" % self.today)
        self.assertEqual(early.stdout, b"")
        self.assertEqual(self.site.query("SELECT count(*) FROM digests"), [(0,)])
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), [(0,)])

        # Once digest_time has passed, the day's returns still reach the leader.
        self.set_digest_time("12:00")
        out = self.site.ctl("digest")
        self.assertEqual(out.stdout.decode(), "queued 1 digest for %s\n" % self.today)
        self.assertEqual(self.site.ctl("outbox", "send").stdout.decode(),
                         "1 sent, 0 failed, 0 to retry\n")
        (eml, env), = self.smtp.messages()
        self.assert_finance_digest(eml, env, self.today)


class DaemonDigestTest(DigestTest):
    # 00:00 has always passed: the daemon queues the day's digest as soon as
    # it starts.
    extra = "digest = yes\ndigest_time = 00:00\n"

    def wait_for_log(self, kiosk, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text not in kiosk.log():
            if time.monotonic() > deadline:
                raise AssertionError("daemon never logged %r; log:\n%s" % (text, kiosk.log()))
            time.sleep(0.05)

    def test_daemon_queues_and_sends_the_digest_at_start_once_time_has_passed(self):
        day = local_today()
        kiosk = self.start_kiosk()
        # Started with no returns yet: nothing to queue, nothing recorded.
        # The mail thread's first round must be over before the returns, or
        # it would rightly send a digest of the first of them.
        self.wait_for_log(kiosk, "leaders' digests for %s: 0 queued" % day)
        self.make_returns(kiosk)
        kiosk.stop()
        self.assertEqual(self.smtp.messages(), [])
        self.assertEqual(self.site.query("SELECT count(*) FROM digests"), [(0,)])

        # A restart: the day's time has passed and no digest was recorded.
        kiosk = self.start_kiosk()
        (eml, env), = self.smtp.wait_for(1)
        self.assert_finance_digest(eml, env, day)
        kiosk.stop()
        self.assertIn("leaders' digests for %s: 1 queued" % day, kiosk.log())

        # Another restart, and dropkioskctl, find it done.
        kiosk = self.start_kiosk()
        kiosk.stop()
        out = self.site.ctl("digest")
        self.assertEqual(out.stdout.decode(),
                         "queued 0 digests for %s: already queued earlier for 1 leader\n"
                         % day)
        self.assertEqual(len(self.smtp.messages()), 1)


class TicketSubjectTest(DigestTest):
    extra = "ticket_subject = KACE reimage {tag} ({model}, s/n {serial}) {site}/{kiosk} " \
            "for {staff_id} at {site_name}\n"

    def test_desktop_ticket_carries_the_configured_subject(self):
        kiosk = self.start_kiosk()
        kiosk.scan("104300")
        kiosk.expect("Asset 104300 is a desktop computer")
        kiosk.expect("Scan the next device, or DONE")
        kiosk.type("DONE")
        kiosk.expect("Who is returning these devices\\?")
        kiosk.scan("S100001")
        kiosk.expect("The service desk has been asked to reimage your desktop.")
        (eml, env), = self.smtp.wait_for(1)
        self.assertEqual(env, ["MAIL FROM:<dropkiosk@example.org>",
                               "RCPT TO:<servicedesk@example.org>"])
        msg, body = parse(eml)
        self.assertEqual(msg["Subject"],
                         "KACE reimage 104300 (OptiPlex 7090, s/n DT77889) "
                         "bolling/bolling-lobby-1 for S100001 at Bolling Building")
        self.assertIn("Asset tag: 104300\n", body)

    def test_anonymous_desktop_ticket_says_staff_id_not_given(self):
        kiosk = self.start_kiosk()
        kiosk.scan("104300")
        kiosk.expect("Scan the next device, or DONE")
        kiosk.type("DONE")
        kiosk.expect("Who is returning these devices\\?")
        kiosk.type("SKIP")
        kiosk.expect("The service desk has been asked to reimage your desktop.")
        (eml, env), = self.smtp.wait_for(1)
        msg, _ = parse(eml)
        self.assertEqual(msg["Subject"],
                         "KACE reimage 104300 (OptiPlex 7090, s/n DT77889) "
                         "bolling/bolling-lobby-1 for not given at Bolling Building")


if __name__ == "__main__":
    unittest.main()
