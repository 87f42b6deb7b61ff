"""Mail from the daemon's outbox against a real SMTP server on loopback:
refused for good, server down then up, and the spool transport.  In every
case the server's received count equals the outbox's sent count."""

import os
import time
import unittest

from kiosk import FIXTURES, Kiosk, Site, SmtpServer, free_port


def visit(kiosk, tag="104233"):
    kiosk.scan(tag)
    kiosk.scan("YES")
    kiosk.expect("Added asset %s" % tag)
    kiosk.type("DONE")
    kiosk.expect("Who is returning")
    kiosk.scan("S100001")
    kiosk.expect("Email the receipt")
    kiosk.type("YES")
    kiosk.expect("Send a copy")
    kiosk.type("NO")
    return kiosk.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)


def wait_outbox(site, status, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = site.query("SELECT status, attempts, last_error FROM outbox")
        if rows and rows[0][0] == status:
            return rows[0]
        time.sleep(0.1)
    raise AssertionError("outbox never reached %s: %r" % (
        status, site.query("SELECT status, attempts, last_error FROM outbox")))


class MailDeliveryTest(unittest.TestCase):
    def make_site(self, smtp_port=None):
        self.site = Site(smtp_port=smtp_port)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()

    def test_permanent_refusal_is_failed_kept_and_listed(self):
        smtp = SmtpServer("--reject-rcpt", "550")
        try:
            self.make_site(smtp.port)
            receipt = visit(self.kiosk)
            status, attempts, error = wait_outbox(self.site, "failed")
            self.assertEqual(attempts, 1)
            self.assertIn("550 5.1.1 Mailbox unavailable (refused by test server)", error)
            self.assertEqual(smtp.messages(), [])
        finally:
            smtp.stop()
        listing = self.site.ctl("outbox", "--csv").stdout.decode()
        self.assertIn("failed", listing)
        self.assertIn("Device return receipt %s (1 device)" % receipt, listing)
        # The receipt itself stands: the return is recorded whatever mail does.
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(1,)])

    def test_server_down_then_up_delivers_exactly_once(self):
        port = free_port()
        self.make_site(port)
        visit(self.kiosk)
        status, attempts, error = wait_outbox(self.site, "pending")
        deadline = time.monotonic() + 10
        while self.site.query("SELECT attempts FROM outbox")[0][0] == 0:
            self.assertLess(time.monotonic(), deadline, "no delivery attempt was made")
            time.sleep(0.1)
        error = self.site.query("SELECT last_error FROM outbox")[0][0]
        self.assertIn("connect", error.lower())
        # Now the server comes up on the port the kiosk was told about.
        smtp = SmtpServer(port=port)
        try:
            self.assertEqual(smtp.port, port)
            status, attempts, error = wait_outbox(self.site, "sent", timeout=30)
            self.assertGreaterEqual(attempts, 2)
            self.assertEqual(len(smtp.wait_for(1)), 1)
            # Another retry round would be due within retry_max (2 s).
            time.sleep(3)
            self.assertEqual(len(smtp.messages()), 1)
            self.assertEqual(self.site.query("SELECT count(*) FROM outbox WHERE status = 'sent'"),
                             [(1,)])
        finally:
            smtp.stop()

    def test_spool_transport_writes_one_maildir_file(self):
        self.make_site(None)
        receipt = visit(self.kiosk)
        wait_outbox(self.site, "sent")
        new = os.path.join(self.site.dir, "mail", "new")
        files = os.listdir(new)
        self.assertEqual(len(files), 1)
        with open(os.path.join(new, files[0]), "rb") as f:
            eml = f.read()
        self.assertIn(("Subject: Device return receipt %s (1 device)" % receipt).encode(), eml)
        self.assertIn(b"To: =?UTF-8?", eml)


if __name__ == "__main__":
    unittest.main()
