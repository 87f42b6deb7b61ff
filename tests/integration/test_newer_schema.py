"""A database written by a newer dropkiosk (a package downgraded, a copy
from a newer kiosk) is refused by both programs with exit status 2 and a
message naming the file, both schema versions and the remedy, and is left
byte for byte as it was, whether it is in WAL mode (as dropkiosk leaves
its databases) or in rollback-journal mode (whose header a switch to WAL
would rewrite)."""

import os
import sqlite3
import subprocess
import unittest

from kiosk import CTL, DAEMON, FIXTURES, Site

NEWER = 99
# The schema version this build writes (src/store.c, N_MIGRATIONS).
CURRENT = 4


def message(path):
    return ("database %s has schema version %d, newer than this dropkiosk knows (up to %d); "
            "the database was left unchanged: it needs a dropkiosk at least as new as the one "
            "that wrote it (after a package downgrade, reinstall the newer package)"
            % (path, NEWER, CURRENT))


class NewerSchemaTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.site.add_scanner("keyboard")
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))

    def tearDown(self):
        self.site.cleanup()

    def make_newer(self, journal_mode):
        con = sqlite3.connect(self.site.db)
        try:
            con.execute("PRAGMA journal_mode=%s" % journal_mode)
            con.execute("PRAGMA user_version = %d" % NEWER)
            con.commit()
        finally:
            con.close()
        self.assertFalse(os.path.exists(self.site.db + "-wal"))

    def state(self):
        with open(self.site.db, "rb") as f:
            data = f.read()
        return data, sorted(os.listdir(self.site.dir))

    def check_refused(self, journal_mode):
        self.make_newer(journal_mode)
        before = self.state()
        want = message(self.site.db)
        runs = [
            ([DAEMON, "-c", self.site.config], "dropkiosk error: "),
            ([CTL, "-c", self.site.config, "audit", "verify"], "dropkioskctl: "),
            ([CTL, "-c", self.site.config, "import", "staff",
              os.path.join(FIXTURES, "staff.csv")], "dropkioskctl: "),
        ]
        for args, prefix in runs:
            proc = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL,
                                  timeout=30)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))
            self.assertEqual(proc.stderr.decode(), prefix + want + "\n", args)
            self.assertEqual(self.state(), before, args)

    def test_newer_wal_database_is_refused_and_left_unchanged(self):
        self.check_refused("wal")

    def test_newer_rollback_journal_database_is_refused_and_left_unchanged(self):
        self.check_refused("delete")

    def test_current_schema_version_is_what_this_test_expects(self):
        self.assertEqual(self.site.query("PRAGMA user_version"), [(CURRENT,)])


if __name__ == "__main__":
    unittest.main()
