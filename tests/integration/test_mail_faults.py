"""Mail that is never lost and never sent twice, against the real SMTP test
server (tests/smtp_server.py, aiosmtpd) on 127.0.0.1.

Each test queues one receipt through the real daemon (a one-device visit)
while the configured server port refuses connections, so the daemon's
attempt 1 is "server down".  The daemon is then stopped and the rest is
driven by `dropkioskctl outbox send` rounds against a server that
misbehaves on its first connection only (--faults 1), so the fault clears
by itself.  Every test writes out the server's count of accepted messages
and the outbox's count of 'sent' rows, and checks that the message that
finally arrives carries the Message-ID stored on its row.

Run with: /usr/bin/python3 tests/integration/run.py test_mail_faults.py
"""

import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from kiosk import CTL, FIXTURES, PYTHON, ROOT, Kiosk, Site


class FaultServer:
    """tests/smtp_server.py with flags, its log kept so a test can wait for
    the moment it stalls."""

    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="dk-smtp-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "tests", "smtp_server.py"), "--port", "0"]
            + list(flags) + [self.dir],
            stdout=subprocess.PIPE, stderr=self.log_file)
        self.port = int(self.proc.stdout.readline())

    def messages(self):
        names = sorted((n for n in os.listdir(self.dir) if n.endswith(".eml")),
                       key=lambda n: int(n.split(".")[0]))
        out = []
        for n in names:
            with open(os.path.join(self.dir, n), "rb") as f:
                eml = f.read()
            with open(os.path.join(self.dir, n[:-4] + ".env"), encoding="utf-8") as f:
                env = f.read().splitlines()
            out.append((eml, env))
        return out

    def message_ids(self):
        return [email.message_from_bytes(eml, policy=email.policy.default)["Message-ID"]
                for eml, _ in self.messages()]

    def wait_log(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                if text in f.read():
                    return
            time.sleep(0.05)
        raise AssertionError("the SMTP server never logged %r" % text)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


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


class MailFaultTest(unittest.TestCase):
    def setUp(self):
        # A bound socket that never listens: connecting is refused at once,
        # and no other program can take the port meanwhile.
        self.dead = socket.socket()
        self.dead.bind(("127.0.0.1", 0))
        self.dead_port = self.dead.getsockname()[1]
        self.site = Site(smtp_port=self.dead_port)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.stop()
        self.dead.close()
        self.site.cleanup()

    # ---- helpers ---------------------------------------------------------

    def row(self):
        (row,) = self.site.query(
            "SELECT status, attempts, next_attempt, coalesce(last_error, ''), message_id "
            "FROM outbox")
        return row

    def queue_receipt(self):
        """One visit through the daemon; its attempt 1 meets the refused
        port.  Returns the row's Message-ID, in angle brackets."""
        kiosk = Kiosk(self.site)
        try:
            visit(kiosk)
            deadline = time.monotonic() + 15
            while True:
                rows = self.site.query("SELECT attempts, coalesce(last_error, '') FROM outbox")
                if rows and rows[0][0] == 1 and not rows[0][1].startswith("attempt "):
                    break
                self.assertLess(time.monotonic(), deadline, "the daemon made no attempt")
                time.sleep(0.05)
        finally:
            kiosk.stop()
        status, attempts, _, error, message_id = self.row()
        self.assertEqual((status, attempts), ("pending", 1))
        self.assertIn("Failed to connect to 127.0.0.1 port %d" % self.dead_port, error)
        self.assertEqual(self.sent_rows(), 0)
        return "<%s>" % message_id

    def configure(self, old, new):
        self.assertIn(old, self.site.text)
        self.site.text = self.site.text.replace(old, new)
        self.site.write_config()

    def use_server(self, *flags):
        self.server = FaultServer(*flags)
        self.configure("url = smtp://127.0.0.1:%d" % self.dead_port,
                       "url = smtp://127.0.0.1:%d" % self.server.port)
        return "smtp://127.0.0.1:%d" % self.server.port

    def wait_due(self):
        """Wait out the backoff ([mail] retry_max = 2 s in the test config)."""
        deadline = time.monotonic() + 10
        while self.site.query("SELECT count(*) FROM outbox WHERE status = 'pending' "
                              "AND next_attempt > strftime('%s', 'now')")[0][0] > 0:
            self.assertLess(time.monotonic(), deadline, "the retry never fell due")
            time.sleep(0.1)

    def send_round(self):
        return self.site.ctl("outbox", "send").stdout.decode()

    def sent_rows(self):
        return self.site.query("SELECT count(*) FROM outbox WHERE status = 'sent'")[0][0]

    def assert_delivered_once(self, message_id):
        """The fault has cleared: the next round sends the message, exactly
        once and with its own Message-ID, and a further round sends
        nothing."""
        self.wait_due()
        self.assertEqual(self.send_round(), "1 sent, 0 failed, 0 to retry\n")
        self.assertEqual(self.send_round(), "0 sent, 0 failed, 0 to retry\n")
        self.assertEqual(len(self.server.messages()), 1)
        self.assertEqual(self.sent_rows(), 1)
        self.assertEqual(self.server.message_ids(), [message_id])

    def assert_deferred(self, error):
        """One round against the faulty server: retried later, nothing
        accepted, the server's (or curl's) words kept."""
        self.wait_due()
        before = int(time.time())
        self.assertEqual(self.send_round(), "0 sent, 0 failed, 1 to retry\n")
        status, attempts, next_attempt, last_error, _ = self.row()
        self.assertEqual((status, attempts, last_error), ("pending", 2, error))
        # Attempt 2 waits min(1 * 2^1, 2) = 2 s less up to 10% (0 s here).
        self.assertGreaterEqual(next_attempt, before + 2)
        self.assertLessEqual(next_attempt, int(time.time()) + 2)
        self.assertEqual(len(self.server.messages()), 0)
        self.assertEqual(self.sent_rows(), 0)

    def assert_failed(self, error):
        self.wait_due()
        self.assertEqual(self.send_round(), "0 sent, 1 failed, 0 to retry\n")
        status, attempts, _, last_error, _ = self.row()
        self.assertEqual((status, attempts, last_error), ("failed", 2, error))
        self.assertEqual(self.send_round(), "0 sent, 0 failed, 0 to retry\n")
        self.assertEqual(len(self.server.messages()), 0)
        self.assertEqual(self.sent_rows(), 0)
        listing = self.site.ctl("outbox").stdout.decode()
        self.assertIn("failed", listing)
        self.assertIn(error, listing)

    # ---- temporary faults: pending, retried --------------------------------

    def test_server_down_then_up_delivers_once(self):
        message_id = self.queue_receipt()
        self.use_server()
        self.assert_delivered_once(message_id)
        self.assertEqual(self.row()[1], 2)

    def test_421_at_greeting_is_retried(self):
        message_id = self.queue_receipt()
        self.use_server("--greeting", "421", "--faults", "1")
        self.assert_deferred("421 4.3.0 Temporary failure requested by test server")
        self.assert_delivered_once(message_id)

    def test_451_at_mail_is_retried(self):
        message_id = self.queue_receipt()
        self.use_server("--fail-mail", "451", "--faults", "1")
        self.assert_deferred("451 4.3.0 Temporary failure requested by test server")
        self.assert_delivered_once(message_id)

    def test_450_at_rcpt_is_retried(self):
        message_id = self.queue_receipt()
        self.use_server("--reject-rcpt", "450", "--faults", "1")
        self.assert_deferred("450 4.3.0 Temporary failure requested by test server")
        self.assert_delivered_once(message_id)

    def test_452_at_end_of_data_is_retried(self):
        message_id = self.queue_receipt()
        self.use_server("--fail-data", "452", "--faults", "1")
        self.assert_deferred("452 4.3.0 Temporary failure requested by test server")
        self.assert_delivered_once(message_id)

    def test_connection_dropped_mid_data_is_retried(self):
        message_id = self.queue_receipt()
        self.use_server("--drop-mid-data", "--faults", "1")
        self.assert_deferred("response reading failed (errno: 115)")
        self.assert_delivered_once(message_id)

    def test_server_silent_past_timeout_is_retried_and_keeps_nothing(self):
        message_id = self.queue_receipt()
        self.configure("timeout = 5", "timeout = 1")
        url = self.use_server("--stall", "end", "--stall-seconds", "3", "--faults", "1")
        self.assert_deferred("the server at %s did not answer within [mail] timeout = 1 s "
                             "(server response timeout)" % url)
        # Past the server's stall: had the connection been left open for a
        # QUIT, the server would have taken the message by now.
        self.server.wait_log("stalling 3.0 seconds at end")
        time.sleep(3)
        self.assertEqual(len(self.server.messages()), 0)
        self.assertEqual(self.sent_rows(), 0)
        self.assert_delivered_once(message_id)

    # ---- permanent faults: failed, kept, retried by an operator -------------

    def test_554_at_end_of_data_fails_and_operator_retry_delivers_once(self):
        message_id = self.queue_receipt()
        self.use_server("--fail-data", "554", "--faults", "1")
        self.assert_failed("554 5.1.1 Mailbox unavailable (refused by test server)")
        self.assertEqual(self.site.ctl("outbox", "retry", "1").stdout.decode(),
                         "1 queued again\n")
        self.assertEqual(self.row()[:2], ("pending", 0))
        self.assert_delivered_once(message_id)
        self.assertEqual(self.site.query(
            "SELECT actor, action, subject, details FROM audit WHERE action = 'outbox retry'"),
            [("cli", "outbox retry", "1", "was failed after 2 attempts: "
              "554 5.1.1 Mailbox unavailable (refused by test server)")])

    def test_starttls_required_but_not_offered_fails_with_reason(self):
        message_id = self.queue_receipt()
        url = self.use_server()
        self.configure("starttls = off", "starttls = required")
        self.assert_failed(
            "the server at %s does not offer STARTTLS, and [mail] starttls = required; "
            "fix the server or the config, then run dropkioskctl outbox retry" % url)
        # The operator decides this server may be used without TLS.
        self.configure("starttls = required", "starttls = off")
        self.assertEqual(self.site.ctl("outbox", "retry", "failed").stdout.decode(),
                         "1 queued again\n")
        self.assert_delivered_once(message_id)

    def test_login_refused_fails_with_reason_and_no_password(self):
        message_id = self.queue_receipt()
        url = self.use_server("--auth", "kiosk:right-pass")
        self.configure("starttls = off",
                       "starttls = off\nusername = kiosk\npassword = wrong-pass")
        self.assert_failed(
            "the server at %s refused the login of [mail] username = kiosk "
            "(535 5.7.8 Authentication credentials invalid); check [mail] username and "
            "password, then run dropkioskctl outbox retry" % url)
        self.assertNotIn("wrong-pass", self.site.ctl("outbox", "--csv").stdout.decode())
        self.configure("password = wrong-pass", "password = right-pass")
        self.assertEqual(self.site.ctl("outbox", "retry", "1").stdout.decode(),
                         "1 queued again\n")
        self.assert_delivered_once(message_id)
        self.assertIn("AUTH kiosk", self.server.messages()[0][1])

    def test_retry_refuses_a_sent_message(self):
        self.queue_receipt()
        self.use_server()
        self.wait_due()
        self.assertEqual(self.send_round(), "1 sent, 0 failed, 0 to retry\n")
        bad = self.site.ctl("outbox", "retry", "1", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(bad.stderr.decode(), "dropkioskctl: outbox: message 1 is sent, not "
                         "failed; only failed messages can be retried\n")
        self.assertEqual(len(self.server.messages()), 1)
        self.assertEqual(self.sent_rows(), 1)

    # ---- the sender killed mid-attempt --------------------------------------

    def kill_send_while_server_stalls(self, where):
        """Start `dropkioskctl outbox send`, wait until the server stalls at
        `where`, and kill -9 the sender there."""
        self.wait_due()
        proc = subprocess.Popen([CTL, "-c", self.site.config, "outbox", "send"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.server.wait_log("stalling 30.0 seconds at %s" % where)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        self.assertEqual(proc.returncode, -signal.SIGKILL)

    def lease_runs_out(self):
        """An attempt that never finished holds its row until
        2 * [mail] timeout + 60 s after it began; stand in for that wait."""
        self.assertEqual(self.send_round(), "0 sent, 0 failed, 0 to retry\n")
        self.site.query("UPDATE outbox SET next_attempt = 0")

    def test_killed_before_the_server_accepted_sends_once(self):
        message_id = self.queue_receipt()
        self.use_server("--stall", "end", "--stall-seconds", "30", "--faults", "1")
        self.kill_send_while_server_stalls("end")
        status, attempts, _, error, _ = self.row()
        self.assertEqual((status, attempts), ("pending", 2))
        self.assertRegex(error, r"^attempt 2 started 20[0-9-]{8}T[0-9:]{8}Z has no outcome "
                         r"yet \(still running, or the sender stopped\)$")
        self.assertEqual(len(self.server.messages()), 0)
        self.assertEqual(self.sent_rows(), 0)
        self.lease_runs_out()
        self.assert_delivered_once(message_id)
        self.assertEqual(self.row()[1], 3)

    def test_killed_while_quitting_after_the_250_sends_once(self):
        message_id = self.queue_receipt()
        self.use_server("--stall", "quit", "--stall-seconds", "30", "--faults", "1")
        self.kill_send_while_server_stalls("quit")
        # 'sent' was committed before QUIT, so the kill loses nothing.
        self.assertEqual(self.row()[:2], ("sent", 2))
        self.assertEqual(self.send_round(), "0 sent, 0 failed, 0 to retry\n")
        self.assertEqual(len(self.server.messages()), 1)
        self.assertEqual(self.sent_rows(), 1)
        self.assertEqual(self.server.message_ids(), [message_id])

    def test_killed_between_acceptance_and_250_sends_a_copy_with_same_message_id(self):
        """The window SMTP cannot close (RFC 1047, KNOWN_ISSUES.md): the
        server has taken the message but its 250 never reached us.  The
        retry sends a second copy, which carries the same Message-ID so the
        receiver can tell it is the same message."""
        message_id = self.queue_receipt()
        self.use_server("--stall", "accepted", "--stall-seconds", "30", "--faults", "1")
        self.kill_send_while_server_stalls("accepted")
        self.assertEqual(self.row()[:2], ("pending", 2))
        self.assertEqual(len(self.server.messages()), 1)
        self.assertEqual(self.sent_rows(), 0)
        self.lease_runs_out()
        self.wait_due()
        self.assertEqual(self.send_round(), "1 sent, 0 failed, 0 to retry\n")
        # Here, and only here, the counts differ: 2 accepted, 1 sent row.
        self.assertEqual(len(self.server.messages()), 2)
        self.assertEqual(self.sent_rows(), 1)
        self.assertEqual(self.server.message_ids(), [message_id, message_id])
        self.assertEqual(self.server.messages()[0][0], self.server.messages()[1][0])


class StaffImportInjectionTest(unittest.TestCase):
    """A staff name with a quoted CR/LF would become a header line if it
    reached the receipt's To: the import refuses the file."""

    def test_import_refuses_name_with_line_break_naming_file_and_line(self):
        site = Site()
        try:
            path = os.path.join(site.dir, "staff-crlf.csv")
            with open(path, "wb") as f:
                f.write(b"Staff ID,Name,Email,School/Department,Leader Email\r\n"
                        b"S100001,\"Ann Lee\r\nBcc: everyone@example.org\",ann.lee@example.org,"
                        b"Lakeside Elementary,\r\n")
            bad = site.ctl("import", "staff", path, check=False)
            self.assertEqual(bad.returncode, 2)
            self.assertEqual(bad.stderr.decode(),
                             "dropkioskctl: %s:2: column 'Name': value holds a control "
                             "character (a tab or line break)\n" % path)
            self.assertEqual(site.query("SELECT count(*) FROM staff"), [(0,)])
        finally:
            site.cleanup()


if __name__ == "__main__":
    unittest.main()
