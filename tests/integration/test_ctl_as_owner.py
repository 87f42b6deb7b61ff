"""dropkioskctl run as root becomes the owner of the database's folder
(the daemon's user on the appliance) before it touches any file there, so
the keys and the database it makes belong to that user; a folder of root's
changes nothing; a switch that fails stops it with exit status 3.  Needs
root, and the `nobody` account standing in for the daemon's user."""

import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from kiosk import BASE_CONFIG, CTL, FIXTURES

SETPRIV = "/usr/bin/setpriv"


def config_text():
    return BASE_CONFIG.format(idle_timeout=300, checklist="no",
                              mail="transport = spool\nspool = mail\n")


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: dropkioskctl changes user only when run as root")
class CtlAsOwnerTest(unittest.TestCase):
    def setUp(self):
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("needs the 'nobody' account to own the test's folder")
        # In /tmp itself (mode 1777), so that nobody can reach the folder.
        self.dir = tempfile.mkdtemp(prefix="dk-owner-")
        os.chown(self.dir, self.nobody.pw_uid, self.nobody.pw_gid)
        os.chmod(self.dir, 0o700)
        # The config is root's, in the folder: it is read before the switch.
        self.config = os.path.join(self.dir, "dropkiosk.conf")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(config_text())

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args, stdin=None, prefix=()):
        return subprocess.run(list(prefix) + [CTL, "-c", self.config, "-v"] + list(args),
                              input=stdin, capture_output=True, timeout=60)

    def owners(self):
        """(name, uid, gid) of every file the programs made in the folder."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name == "dropkiosk.conf":
                continue
            st = os.lstat(os.path.join(self.dir, name))
            out.append((name, st.st_uid, st.st_gid))
        return out

    def test_keygen_and_import_as_root_make_files_of_the_folders_owner(self):
        uid, gid = self.nobody.pw_uid, self.nobody.pw_gid
        became = ("dropkioskctl debug: running as user nobody (uid %d) and group %d, the owner "
                  "of %s\n" % (uid, gid, self.dir))

        proc = self.ctl("keygen")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn(became, proc.stderr.decode())
        with open(os.path.join(FIXTURES, "staff.csv"), "rb") as f:
            staff = f.read()
        proc = self.ctl("import", "staff", "-", stdin=staff)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn(became, proc.stderr.decode())

        self.assertEqual(self.owners(), [("kiosk.db", uid, gid), ("receipt.key", uid, gid),
                                         ("receipt.pub", uid, gid)])
        self.assertEqual(os.stat(os.path.join(self.dir, "receipt.key")).st_mode & 0o7777, 0o600)

    def test_folder_of_root_keeps_root(self):
        root_dir = tempfile.mkdtemp(prefix="dk-owner-root-")
        self.addCleanup(shutil.rmtree, root_dir, True)
        db = os.path.join(root_dir, "kiosk.db")
        proc = self.ctl("--db", db, "import", "staff", "-",
                        stdin=b"Staff ID,Name,Email,School/Department,Leader Email\n")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertNotIn("running as", proc.stderr.decode())
        self.assertEqual(os.stat(db).st_uid, 0)

    @unittest.skipUnless(os.path.exists(SETPRIV), "needs util-linux's setpriv")
    def test_switch_that_fails_stops_with_status_3_and_touches_nothing(self):
        """Root without CAP_SETGID and CAP_SETUID cannot change its groups."""
        drop = [SETPRIV, "--bounding-set", "-setgid,-setuid", "--inh-caps", "-setgid,-setuid",
                "--"]
        proc = self.ctl("keygen", prefix=drop)
        self.assertEqual(proc.returncode, 3, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: cannot become user nobody (uid %d), the owner of %s: "
                         "initgroups: Operation not permitted\n"
                         % (self.nobody.pw_uid, self.dir))
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(self.owners(), [])


if __name__ == "__main__":
    unittest.main()
