"""Under systemd the daemon's stdout is the journal (JOURNAL_STREAM names
it): the terminal view (banner, prompts, language offers, the receipt's
QR code in text) is not written there, where each line would be a
journal entry; the screen is the browser, driven here through the HTTP
API.  The log keeps one line a visit with the receipt and how many
devices, never who.  A JOURNAL_STREAM that names another stream (inherited
from a parent) changes nothing."""

import http.client
import json
import os
import pty
import subprocess
import time
import tty
import unittest

from kiosk import DAEMON, FIXTURES, Kiosk, Site, free_port


class JournalStdoutTest(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        self.site = Site(extra="\n[http]\nport = %d\n" % self.port)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        # One pty scanner and no terminal one: under systemd stdin is
        # /dev/null.
        self.master, self.slave = pty.openpty()
        tty.setraw(self.master)
        self.site.add_scanner("lobby", os.ttyname(self.slave))
        self.out_path = os.path.join(self.site.dir, "stdout")
        self.err_path = os.path.join(self.site.dir, "stderr")
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        os.close(self.master)
        os.close(self.slave)
        self.site.cleanup()

    def start(self, journal):
        """The daemon with stdout a file, and JOURNAL_STREAM naming that
        file (journal true) or not set."""
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            if journal:
                st = os.fstat(out.fileno())
                env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
            self.proc = subprocess.Popen([DAEMON, "-c", self.site.config],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.state()["screen"] == "start":
                    return
            except (OSError, ValueError, KeyError):
                pass
            self.assertIsNone(self.proc.poll(), self.log())
            time.sleep(0.05)
        self.fail("the screen never showed the start screen; log:\n" + self.log())

    def log(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def state(self):
        status, body = self.request("GET", "/api/state")
        self.assertEqual(status, 200)
        return json.loads(body)

    def touch(self, obj, screen):
        """Post one input as the screen does and wait for screen."""
        status, _ = self.request("POST", "/api/input", json.dumps(obj).encode())
        self.assertEqual(status, 202)
        deadline = time.monotonic() + 10
        while self.state()["screen"] != screen:
            self.assertLess(time.monotonic(), deadline,
                            "never reached %s after %r; log:\n%s" % (screen, obj, self.log()))
            time.sleep(0.02)

    def visit(self):
        """One laptop returned by S100001 through the screen; the
        receipt's id."""
        self.touch({"text": "104233"}, "charger")
        self.touch({"answer": "yes"}, "next")
        self.touch({"answer": "done"}, "identity")
        self.touch({"text": "S100001"}, "email")
        self.touch({"answer": "no"}, "receipt")
        return self.state()["receipt"]["id"]

    def stop(self):
        self.proc.terminate()
        self.assertEqual(self.proc.wait(timeout=15), 0, self.log())

    def test_stdout_that_is_the_journal_gets_no_terminal_view(self):
        self.start(journal=True)
        receipt = self.visit()
        self.stop()
        # No banner, prompt, language offer or QR art: nothing at all.
        self.assertEqual(self.stdout(), b"")
        self.assertEqual(self.site.query("SELECT id FROM receipts"), [(receipt,)])
        log = self.log()
        self.assertEqual([line for line in log.splitlines() if "visit" in line],
                         ["dropkiosk info: visit recorded: receipt %s, 1 device returned"
                          % receipt])
        # Nobody is named in the log: not the staff id, name or address.
        for personal in ("S100001", "María", "Peña", "@"):
            self.assertNotIn(personal, log)

    def test_stdout_that_is_not_the_journal_keeps_the_terminal_view(self):
        self.start(journal=False)
        receipt = self.visit()
        self.stop()
        out = self.stdout().decode()
        self.assertIn("Ready. Scan the asset tag", out)
        self.assertIn("Your receipt is %s." % receipt, out)
        self.assertIn("\u2580", out)  # the QR code's half blocks
        self.assertIn("dropkiosk info: visit recorded: receipt %s, 1 device returned\n"
                      % receipt, self.log())


class InheritedJournalStreamTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()

    def tearDown(self):
        self.site.cleanup()

    def test_journal_stream_of_another_stream_keeps_the_terminal_view(self):
        """Kiosk reads the prompts from stdout, a pipe: JOURNAL_STREAM
        naming some other file must not silence them."""
        other = os.stat(self.site.config)
        # Kiosk waits for the start prompt ("Ready. Scan the asset tag").
        kiosk = Kiosk(self.site, env={"JOURNAL_STREAM": "%d:%d" % (other.st_dev,
                                                                   other.st_ino)})
        self.assertEqual(kiosk.stop(), 0)
        self.assertIn("Type or scan CANCEL at any time to start over", kiosk.out)


if __name__ == "__main__":
    unittest.main()
