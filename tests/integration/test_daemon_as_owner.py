"""The daemon run as root (`sudo dropkiosk` on the appliance before the
service's first start) becomes the owner of the database's folder before
it opens any file there, so the database and receipts it makes belong to
the service's user, who can then write them; a switch that fails stops it
with exit status 3 before anything is made.  Needs root, and the `nobody`
account standing in for the service's user."""

import os
import pwd
import subprocess
import unittest

from kiosk import DAEMON, Kiosk, Site

SETPRIV = "/usr/bin/setpriv"
# Made by the test itself (as root), not by the daemon.
TEST_FILES = {"dropkiosk.conf", "daemon.log", "scanner-lobby", "kiosk.crt", "kiosk.key"}


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: the daemon changes user only when run as root")
class DaemonAsOwnerTest(unittest.TestCase):
    def setUp(self):
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("needs the 'nobody' account to own the test's folder")
        self.uid, self.gid = self.nobody.pw_uid, self.nobody.pw_gid
        # The folder as the package leaves it: the service user's, mode
        # 0700, with the key pair its keygen made.  The config stays
        # root's: it is read before the switch.
        self.site = Site()
        os.chown(self.site.dir, self.uid, self.gid)
        for name in ("receipt.key", "receipt.pub"):
            os.chown(os.path.join(self.site.dir, name), self.uid, self.gid)

    def tearDown(self):
        self.site.cleanup()

    def made(self):
        """(path, uid, gid) of every file and folder the daemon made."""
        out = []
        for top, dirs, files in os.walk(self.site.dir):
            for name in dirs + files:
                path = os.path.join(top, name)
                rel = os.path.relpath(path, self.site.dir)
                if rel in TEST_FILES or rel in ("receipt.key", "receipt.pub"):
                    continue
                st = os.lstat(path)
                out.append((rel, st.st_uid, st.st_gid))
        return sorted(out)

    def test_started_as_root_it_makes_files_of_the_folders_owner(self):
        k = Kiosk(self.site, owner=(self.uid, self.gid))
        try:
            k.scan("199999")
            k.expect("Asset 199999 is not in our inventory. It will be accepted")
            k.scan("NO")
            k.type("DONE")
            k.type("SKIP")
            k.expect("Received: 1 device")
            receipt = k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        finally:
            status = k.stop()
        self.assertEqual(status, 0, k.log())
        self.assertIn("dropkiosk info: running as user nobody (uid %d) and group %d, the owner "
                      "of %s\n" % (self.uid, self.gid, self.site.dir), k.log())

        made = self.made()
        names = [m[0] for m in made]
        for name in ("kiosk.db", "receipts", os.path.join("receipts", receipt + ".png")):
            self.assertIn(name, names)
        self.assertEqual([m for m in made if (m[1], m[2]) != (self.uid, self.gid)], [])
        # And the service's user can go on writing the database.
        self.assertEqual(os.stat(os.path.join(self.site.dir, "kiosk.db")).st_uid, self.uid)

    @unittest.skipUnless(os.path.exists(SETPRIV), "needs util-linux's setpriv")
    def test_switch_that_fails_stops_with_status_3_and_makes_nothing(self):
        """Root without CAP_SETGID and CAP_SETUID cannot change its groups."""
        self.site.add_scanner("keyboard")
        drop = [SETPRIV, "--bounding-set", "-setgid,-setuid", "--inh-caps", "-setgid,-setuid",
                "--"]
        proc = subprocess.run(drop + [DAEMON, "-c", self.site.config], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(proc.returncode, 3, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: cannot become user nobody (uid %d), the owner of %s: "
                         "initgroups: Operation not permitted\n" % (self.uid, self.site.dir))
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(self.made(), [])

    def test_check_config_reads_the_tls_key_as_the_folders_owner_will(self):
        """A key root can read but the service's user cannot would stop
        every start of the service: --check-config run as root says so."""
        key = os.path.join(self.site.dir, "kiosk.key")
        for name in ("kiosk.crt", "kiosk.key"):
            with open(os.path.join(self.site.dir, name), "w", encoding="ascii") as f:
                f.write("-----BEGIN PRIVATE KEY-----\n")
        os.chmod(key, 0o600)
        self.site.text += ("\n[http]\nport = 18080\ncertificate = kiosk.crt\nkey = kiosk.key\n"
                           "\n[scanner keyboard]\ntype = stdin\n")
        self.site.write_config()
        proc = subprocess.run([DAEMON, "-c", self.site.config, "--check-config"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        line = self.site.text.splitlines().index("key = kiosk.key") + 1
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk info: running as user nobody (uid %d) and group %d, the "
                         "owner of %s\n"
                         "dropkiosk error: %s:%d: cannot read [http] key %s: Permission denied\n"
                         % (self.uid, self.gid, self.site.dir, self.site.config, line, key))

    def test_folder_of_root_keeps_root(self):
        os.chown(self.site.dir, 0, 0)
        self.site.add_scanner("keyboard")
        proc = subprocess.run([DAEMON, "-c", self.site.config, "--check-config"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stderr, b"")


if __name__ == "__main__":
    unittest.main()
