"""A setup the service cannot run with is refused once, with exit status
2 (which the packaged unit does not restart), naming the file, the user
and the remedy: a config or signing key the service's user cannot read,
a database or receipt folder it cannot write.  Files the daemon makes are
its user's alone (umask 0077); a second daemon on one database stops
before it opens anything; libmicrohttpd speaks through our log.  Most
tests need root and the `nobody` account standing in for the service's
user."""

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import unittest

from kiosk import CTL, DAEMON, Kiosk, Site

SETPRIV = "/usr/bin/setpriv"
UNSHARE = "/usr/bin/unshare"
HINT = "under the packaged service only /var/lib/dropkiosk is writable"


def line_of(text, wanted):
    return text.splitlines().index(wanted) + 1


class NobodySite(unittest.TestCase):
    """A site folder owned by nobody, as the package leaves
    /var/lib/dropkiosk to the dropkiosk user; the config is root's."""

    stdin_scanner = True  # False for the tests that start a Kiosk, which adds its own

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: the programs change user only when run as root")
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("needs the 'nobody' account")
        self.uid, self.gid = self.nobody.pw_uid, self.nobody.pw_gid
        self.group = grp.getgrgid(self.gid).gr_name
        self.who = "user nobody (uid %d)" % self.uid
        self.site = Site()
        if self.stdin_scanner:
            self.site.add_scanner("keyboard")
            self.site.write_config()
        os.chown(self.site.dir, self.uid, self.gid)
        for name in ("receipt.key", "receipt.pub"):
            os.chown(os.path.join(self.site.dir, name), self.uid, self.gid)
        self.became = ("dropkiosk info: running as %s and group %d, the owner of %s\n"
                       % (self.who, self.gid, self.site.dir))

    def tearDown(self):
        self.site.cleanup()

    def daemon(self, *args, prefix=()):
        return subprocess.run(list(prefix) + [DAEMON, "-c", self.site.config] + list(args),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=30)

    def as_nobody(self):
        if not os.path.exists(SETPRIV):
            self.skipTest("needs util-linux's setpriv")
        return [SETPRIV, "--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups",
                "--"]

    def listing(self):
        return sorted(os.listdir(self.site.dir))


class UnreadableConfigTest(NobodySite):
    def setUp(self):
        super().setUp()
        os.chmod(self.site.config, 0o600)  # root:root, as the tester left it
        conf = self.site.config
        self.refusal = ("cannot read config %s as %s: Permission denied; let that user read "
                        "it: chgrp %s %s; chmod 0640 %s\n"
                        % (conf, self.who, self.group, conf, conf))

    def test_check_config_as_root_refuses_what_the_service_cannot_read(self):
        proc = self.daemon("--check-config")
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(), self.became + "dropkiosk error: " + self.refusal)
        self.assertEqual(proc.stdout, b"")

    def test_start_as_root_refuses_it_and_makes_nothing(self):
        before = self.listing()
        proc = self.daemon()
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(), self.became + "dropkiosk error: " + self.refusal)
        self.assertEqual(self.listing(), before)

    def test_service_user_itself_gets_status_2_not_3(self):
        proc = self.daemon(prefix=self.as_nobody())
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(), "dropkiosk error: " + self.refusal)

    def test_ctl_as_the_service_user_gets_status_2(self):
        proc = subprocess.run(self.as_nobody() + [CTL, "-c", self.site.config, "outbox"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(), "dropkioskctl: " + self.refusal)


class UnreadableSigningKeyTest(NobodySite):
    def setUp(self):
        super().setUp()
        self.key = os.path.join(self.site.dir, "receipt.key")
        os.chown(self.key, 0, 0)
        os.chmod(self.key, 0o600)
        line = line_of(self.site.text, "signing_key = receipt.key")
        self.refusal = ("dropkiosk error: %s:%d: cannot read [receipt] signing_key %s as %s: "
                        "Permission denied; it must be that user's: chown nobody:%s %s; chmod "
                        "0600 %s\n" % (self.site.config, line, self.key, self.who, self.group,
                                       self.key, self.key))

    def test_check_config_refuses_a_key_the_service_cannot_read(self):
        proc = self.daemon("--check-config")
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(), self.became + self.refusal)

    def test_start_refuses_it_with_status_2_and_makes_nothing(self):
        before = self.listing()
        proc = self.daemon()
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(), self.became + self.refusal)
        self.assertEqual(self.listing(), before)

    def test_ctl_reading_the_key_as_the_service_user_gets_status_2(self):
        proc = subprocess.run([CTL, "-c", self.site.config, "keygen", "--if-missing"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: cannot read key file %s as %s: Permission denied; it "
                         "must be that user's: chown nobody:%s %s; chmod 0600 %s\n"
                         % (self.key, self.who, self.group, self.key, self.key))

    def test_check_config_does_not_require_the_key(self):
        os.unlink(self.key)
        proc = self.daemon("--check-config")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "%s: configuration is valid\n" % self.site.config)


class UnwritableFolderTest(NobodySite):
    def setUp(self):
        super().setUp()
        # A folder of root's the service's user may read but not write.
        self.other = tempfile.mkdtemp(prefix="dk-other-")
        os.chmod(self.other, 0o755)
        self.addCleanup(shutil.rmtree, self.other, True)

    def set(self, old, new):
        self.site.text = self.site.text.replace(old, new)
        self.site.write_config()
        return line_of(self.site.text, new)

    def test_database_folder_the_service_cannot_write(self):
        line = self.set("database = kiosk.db", "database = %s/kiosk.db" % self.other)
        proc = self.daemon(prefix=self.as_nobody())
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: %s:%d: cannot write [kiosk] database folder %s as %s: "
                         "Permission denied; %s\n"
                         % (self.site.config, line, self.other, self.who, HINT))
        self.assertEqual(os.listdir(self.other), [])

    def test_db_option_folder_the_service_cannot_write(self):
        proc = self.daemon("--db", os.path.join(self.other, "kiosk.db"),
                           prefix=self.as_nobody())
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: cannot write --db folder %s as %s: Permission denied; "
                         "%s\n" % (self.other, self.who, HINT))

    def test_receipt_directory_not_there_in_a_folder_the_service_cannot_write(self):
        receipts = os.path.join(self.other, "receipts")
        line = self.set("directory = receipts", "directory = %s" % receipts)
        proc = self.daemon(prefix=self.as_nobody())
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: %s:%d: cannot make [receipt] directory %s in %s as %s: "
                         "Permission denied; %s\n"
                         % (self.site.config, line, receipts, self.other, self.who, HINT))
        self.assertNotIn("kiosk.db", self.listing())

    def test_receipt_directory_the_service_cannot_write(self):
        line = self.set("directory = receipts", "directory = %s" % self.other)
        proc = self.daemon(prefix=self.as_nobody())
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: %s:%d: cannot write [receipt] directory %s as %s: "
                         "Permission denied; %s\n"
                         % (self.site.config, line, self.other, self.who, HINT))

    @unittest.skipUnless(os.path.exists(UNSHARE), "needs util-linux's unshare")
    def test_read_only_database_folder_as_protect_system_makes_it(self):
        """ProtectSystem=strict mounts all but /var/lib/dropkiosk read-only:
        access(2) then says EROFS, even to root (who stays root here: the
        database's folder is root's)."""
        ro = tempfile.mkdtemp(prefix="dk-ro-")
        self.addCleanup(shutil.rmtree, ro, True)
        line = self.set("database = kiosk.db", "database = %s/kiosk.db" % ro)
        script = 'mount --bind -o ro "$1" "$1" && exec "$2" -c "$3"'
        proc = subprocess.run([UNSHARE, "-m", "sh", "-c", script, "sh", ro, DAEMON,
                               self.site.config], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=30)
        if proc.returncode != 2 and b"mount" in proc.stderr:
            self.skipTest("cannot mount here: %s" % proc.stderr.decode())
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: %s:%d: cannot write [kiosk] database folder %s as "
                         "user root (uid 0): Read-only file system; %s\n"
                         % (self.site.config, line, ro, HINT))


class UmaskTest(NobodySite):
    stdin_scanner = False

    def test_database_made_by_root_start_is_the_services_alone(self):
        old = os.umask(0o022)
        try:
            k = Kiosk(self.site, owner=(self.uid, self.gid))
        finally:
            os.umask(old)
        status = k.stop()
        self.assertEqual(status, 0, k.log())
        st = os.stat(self.site.db)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.uid, 0o600))

    def test_database_made_without_a_switch_is_0600_too(self):
        os.chown(self.site.dir, 0, 0)
        old = os.umask(0o022)
        try:
            k = Kiosk(self.site)
        finally:
            os.umask(old)
        self.assertEqual(k.stop(), 0, k.log())
        st = os.stat(self.site.db)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600))

    def test_ctl_report_out_keeps_the_callers_umask(self):
        """The database ctl makes is the service's alone; a report a person
        asked for by name is as readable as the person's other files."""
        out = os.path.join(self.site.dir, "returns.csv")
        old = os.umask(0o022)
        try:
            proc = subprocess.run([CTL, "-c", self.site.config, "import", "staff", "-"],
                                  input=b"Staff ID,Name,Email,School/Department,Leader Email\n",
                                  capture_output=True, timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            proc = subprocess.run([CTL, "-c", self.site.config, "report", "returns", "--csv",
                                   "--out", out],
                                  capture_output=True, timeout=30)
        finally:
            os.umask(old)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        st = os.stat(self.site.db)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.uid, 0o600))
        st = os.stat(out)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.uid, 0o644))


class CatalogFolderTest(unittest.TestCase):
    def test_missing_catalog_folder_names_the_config_line(self):
        site = Site()
        self.addCleanup(site.cleanup)
        site.text = site.text.replace("checklist = no\n",
                                      "checklist = no\ncatalogs = /nonexistent\n")
        site.add_scanner("keyboard")
        site.write_config()
        proc = subprocess.run([DAEMON, "-c", site.config, "--check-config"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: %s:%d: cannot read message catalog folder /nonexistent: "
                         "No such file or directory\n"
                         % (site.config, line_of(site.text, "catalogs = /nonexistent")))


class TwoDaemonsTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()

    def test_second_daemon_on_the_same_database_stops_before_opening_anything(self):
        proc = subprocess.run([DAEMON, "-c", self.site.config], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 3, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: another dropkiosk is running with database %s (pid %d)\n"
                         % (self.site.db, self.kiosk.proc.pid))
        self.assertEqual(proc.stdout, b"")
        # The first one still has its scanner and goes on.
        self.kiosk.scan("199999")
        self.kiosk.expect("Asset 199999 is not in our inventory")

    def test_ctl_works_beside_the_daemon(self):
        proc = self.site.ctl("audit", "verify")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())

    def test_a_stopped_daemon_leaves_no_lock_file(self):
        self.assertTrue(os.path.exists(self.site.db + ".lock"))
        self.assertEqual(self.kiosk.stop(), 0, self.kiosk.log())
        self.assertFalse(os.path.exists(self.site.db + ".lock"))


class ScreenServerLogTest(unittest.TestCase):
    def test_port_in_use_is_said_through_our_log(self):
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        site = Site(extra="\n[http]\nport = %d\n" % port)
        self.addCleanup(site.cleanup)
        site.add_scanner("keyboard")
        site.write_config()
        proc = subprocess.run([DAEMON, "-c", site.config], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 3, proc.stderr.decode())
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(lines[-2:], [
            "dropkiosk warning: screen server: Failed to bind to port %d: Address already in use"
            % port,
            "dropkiosk error: cannot serve the kiosk screen on 127.0.0.1 port %d (in use, or the "
            "certificate and key do not match)" % port])
        self.assertEqual([line for line in lines if not line.startswith("dropkiosk ")], [])


if __name__ == "__main__":
    unittest.main()
