"""`make run`'s demo site: created on first use, filled with demo data, and
the kiosk reaches its ready prompt."""

import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from kiosk import ROOT


class DemoTest(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(tempfile.mkdtemp(prefix="dk-demo-"), "var")

    def tearDown(self):
        shutil.rmtree(os.path.dirname(self.dir), ignore_errors=True)

    def run_demo(self, stdin):
        env = dict(os.environ, DROPKIOSK_DEMO_DIR=self.dir)
        return subprocess.run([os.path.join(ROOT, "tools", "run-demo")], input=stdin,
                              capture_output=True, env=env, cwd=ROOT, timeout=120)

    def test_first_run_creates_site_and_reaches_ready_prompt(self):
        proc = self.run_demo(b"100001\nYES\nDONE\nS100001\nYES\nYES\n")
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn("run-demo: creating a demo site in %s" % self.dir, out)
        self.assertIn("200 added, 0 updated, 0 unchanged", out)
        self.assertIn("500 added, 0 updated, 0 unchanged", out)
        self.assertIn("Ready. Scan the asset tag of a device you are returning", out)
        self.assertIn("Received: 1 device", out)
        receipts = os.listdir(os.path.join(self.dir, "receipts"))
        self.assertEqual(len(receipts), 1)
        self.assertIn("Print a paper receipt? YES or NO", out)
        receipt = receipts[0][:-len(".png")]
        self.assertEqual(sorted(os.listdir(os.path.join(self.dir, "printed"))),
                         [receipt + ".escpos", receipt + ".png"])
        # Standard input ends right after the visit, so the kiosk stops at
        # once; the receipt email waits in the outbox for the next start.
        con = sqlite3.connect(os.path.join(self.dir, "dropkiosk.db"))
        self.assertEqual(con.execute("SELECT kind, recipients FROM outbox").fetchall(),
                         [("receipt", "fatima.fernandez@example.org")])
        con.close()
        key_mode = os.stat(os.path.join(self.dir, "receipt.key")).st_mode & 0o777
        self.assertEqual(key_mode, 0o600)

        again = self.run_demo(b"")
        self.assertEqual(again.returncode, 0)
        self.assertNotIn("creating", again.stdout.decode())
        self.assertIn("Ready.", again.stdout.decode())


if __name__ == "__main__":
    unittest.main()
