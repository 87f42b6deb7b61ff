"""The Debian package, as a district technician would install it.

`make deb` builds it; dpkg installs it into a scratch root (dpkg --root,
its maintainer scripts run outside that root with DPKG_ROOT set, as dpkg
supports); systemd's and udev's own tools check the units, the rules and
the hardware database there; and the installed daemon is started inside
that root (chroot, private mount and network namespaces) with the
installed default config and a pseudo-terminal as its serial scanner,
first through the unit's key-making step.  Upgrades keep the database and
the administrator's config; a database from a newer dropkiosk is refused.

Needs root, for dpkg --root, chroot and the namespaces."""

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import pty
import tty

from kiosk import ROOT

VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                      text=True).stdout.strip()
DEB = os.path.join(ROOT, "build", "dropkiosk_%s_%s.deb" % (VERSION, ARCH))

# Every file the package installs, with its mode (the man pages and
# docs are gzipped; the UI folder is checked by its catalogs and pages).
EXPECTED_FILES = {
    "usr/sbin/dropkiosk": 0o755,
    "usr/sbin/dropkioskctl": 0o755,
    "usr/libexec/dropkiosk/screen-session": 0o755,
    "usr/share/man/man8/dropkiosk.8.gz": 0o644,
    "usr/share/man/man8/dropkioskctl.8.gz": 0o644,
    "etc/dropkiosk/dropkiosk.conf": 0o640,
    "etc/dropkiosk/screen.conf": 0o644,
    "etc/pam.d/dropkiosk-screen": 0o644,
    "etc/chromium/policies/managed/dropkiosk.json": 0o644,
    "lib/systemd/system/dropkiosk.service": 0o644,
    "lib/systemd/system/dropkiosk-screen.service": 0o644,
    "lib/udev/rules.d/60-dropkiosk.rules": 0o644,
    "lib/udev/hwdb.d/60-dropkiosk.hwdb": 0o644,
    "usr/lib/sysusers.d/dropkiosk.conf": 0o644,
    "usr/lib/tmpfiles.d/dropkiosk.conf": 0o644,
    "usr/share/doc/dropkiosk/copyright": 0o644,
    "usr/share/doc/dropkiosk/changelog.gz": 0o644,
    "usr/share/dropkiosk/ui/index.html": 0o644,
    "usr/share/dropkiosk/ui/tech.html": 0o644,
    "usr/share/dropkiosk/ui/kiosk.js": 0o644,
    "usr/share/dropkiosk/ui/i18n/en.json": 0o644,
    "usr/share/dropkiosk/ui/i18n/ar.json": 0o644,
}

# Runs a command inside the scratch root as a given user, as systemd
# would run the unit's commands there: a private mount namespace gives the
# root this machine's shared libraries (the ones the package's Depends
# line names), a /dev with the pty behind /dev/dropkiosk/scanner-serial,
# and a /tmp; a private network namespace has its own loopback, so the
# daemon's default port 8080 is free whatever else runs here.
IN_ROOT = r"""
set -eu
root=$1 pts=$2 ids=$3
shift 3
ip link set lo up
bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; }
bind "$LIBDIR" "$LIBDIR"
bind "$(dirname "$(realpath "$INTERP")")" "$(dirname "$INTERP")"
mkdir -p "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
for node in null zero random urandom; do
    touch "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
done
bind /dev/pts /dev/pts
ln -s pts/ptmx "$root/dev/ptmx"
mkdir "$root/dev/dropkiosk"
[ -z "$pts" ] || ln -s "$pts" "$root/dev/dropkiosk/scanner-serial"
mkdir -p "$root/tmp" && mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
umask 0077  # the unit's UMask=
exec env -i PATH=/usr/sbin:/usr/bin LANG=C.UTF-8 \
    chroot --userspec="$ids" "$root" "$@"
"""


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(args, **kw)


def interpreter(path):
    out = run(["readelf", "-l", path]).stdout
    return re.search(r"\[Requesting program interpreter: ([^\]]+)\]", out).group(1)


def multiarch_libdir():
    triplet = run(["gcc", "-print-multiarch"]).stdout.strip()
    return "/usr/lib/" + triplet


def unit_commands(root, unit):
    """The unit's ExecStartPre and ExecStart command lines, split (a "-"
    prefix, failure ignored, stays on the program's name)."""
    with open(os.path.join(root, "lib/systemd/system", unit)) as f:
        lines = f.read().splitlines()
    pre = [shlex.split(l.split("=", 1)[1]) for l in lines if l.startswith("ExecStartPre=")]
    main = [shlex.split(l.split("=", 1)[1]) for l in lines if l.startswith("ExecStart=")]
    return pre, main


def make_deb():
    """`make deb`, as a technician would run it; its output."""
    build = run(["make", "--no-print-directory", "-C", ROOT, "deb"], timeout=900)
    if build.returncode != 0:
        raise AssertionError("make deb failed:\n" + build.stdout + build.stderr)
    return build.stdout


def install(root, deb):
    return run(["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
                "--log=/dev/null", "-i", deb])


def new_root():
    root = tempfile.mkdtemp(prefix="dk-root-")
    # As a real root is: every user may walk through it.
    os.chmod(root, 0o755)
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"):
        os.makedirs(os.path.join(root, d))
    for f in ("var/lib/dpkg/status", "var/lib/dpkg/available"):
        open(os.path.join(root, f), "w").close()
    return root


def passwd_entry(root, name):
    with open(os.path.join(root, "etc/passwd")) as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            if fields[0] == name:
                return fields
    return None


class InRoot:
    """A command of the installed package run inside the scratch root as
    the dropkiosk user, with a pty as the serial scanner."""

    def __init__(self, root, args, user="dropkiosk", scanner=True):
        entry = passwd_entry(root, user)
        self.uid, self.gid = int(entry[2]), int(entry[3])
        self.master = self.slave = -1
        pts = ""
        if scanner:
            self.master, self.slave = pty.openpty()
            tty.setraw(self.master)
            pts = os.ttyname(self.slave)
            os.chown(pts, self.uid, self.gid)
        env = dict(os.environ, LIBDIR=multiarch_libdir(),
                   INTERP=interpreter(os.path.join(root, "usr/sbin/dropkiosk")))
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c",
             IN_ROOT, "in-root", root, pts, "%d:%d" % (self.uid, self.gid)] + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env)
        self.out = ""
        self.err = ""
        self.lock = threading.Lock()
        self.readers = [threading.Thread(target=self._read, args=(s, n), daemon=True)
                        for s, n in ((self.proc.stdout, "out"), (self.proc.stderr, "err"))]
        for r in self.readers:
            r.start()

    def _read(self, stream, name):
        while True:
            chunk = stream.read1(4096)
            if not chunk:
                return
            with self.lock:
                setattr(self, name, getattr(self, name) + chunk.decode(errors="replace"))

    def expect(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                m = re.search(pattern, self.out)
            if m:
                return m
            if self.proc.poll() is not None and not any(r.is_alive() for r in self.readers):
                break
            time.sleep(0.05)
        raise AssertionError("never printed %r; stdout:\n%s\nstderr:\n%s"
                             % (pattern, self.out, self.err))

    def scan(self, text):
        os.write(self.master, text.encode() + b"\r")

    def wait(self, timeout=60):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            for r in self.readers:
                r.join(timeout=5)
            self.close()
        return self.proc.returncode

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait(20)

    def close(self):
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1


def in_root_run(root, args, timeout=60):
    """Run a command to its end inside the root; (status, stdout, stderr)."""
    p = InRoot(root, args, scanner=False)
    status = p.wait(timeout)
    return status, p.out, p.err


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: dpkg --root, chroot and mount namespaces")
class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.build_output = make_deb()
        cls.root = new_root()
        cls.installed = install(cls.root, DEB)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def test_make_deb_names_the_package_by_version_and_architecture(self):
        self.assertIn("build-deb: build/dropkiosk_%s_%s.deb\n" % (VERSION, ARCH),
                      self.build_output)
        info = run(["dpkg-deb", "--field", DEB, "Package", "Version", "Architecture"]).stdout
        self.assertEqual(info, "Package: dropkiosk\nVersion: %s\nArchitecture: %s\n"
                         % (VERSION, ARCH))

    def test_lintian_reports_nothing_beyond_the_justified_overrides(self):
        self.assertIn("build-deb: lintian found nothing to report", self.build_output)
        out = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "env", "HOME=/tmp", "lintian", "--display-info", "--display-experimental",
                   "--pedantic", "--show-overrides",
                   DEB])
        tags = sorted(set(l.split(" [")[0] for l in out.stdout.splitlines()
                          if l.startswith(("E:", "W:", "I:", "P:", "O:"))))
        self.assertEqual(tags, [
            "O: dropkiosk: package-contains-documentation-outside-usr-share-doc",
            "O: dropkiosk: package-supports-alternative-init-but-no-init.d-script",
        ])

    def test_dpkg_installs_it_into_a_scratch_root(self):
        self.assertEqual(self.installed.returncode, 0,
                         self.installed.stdout + self.installed.stderr)
        status = run(["dpkg-query", "--admindir=" + self.path("var/lib/dpkg"), "-W",
                      "-f", "${Status} ${Version}", "dropkiosk"]).stdout
        self.assertEqual(status, "install ok installed %s" % VERSION)

    def test_every_file_is_installed_with_its_mode(self):
        for rel, mode in EXPECTED_FILES.items():
            st = os.lstat(self.path(rel))
            self.assertEqual(oct(st.st_mode & 0o7777), oct(mode), rel)

    def test_the_config_is_a_conffile_readable_only_by_root_and_the_daemons_group(self):
        conffiles = run(["dpkg-query", "--admindir=" + self.path("var/lib/dpkg"), "-W",
                         "-f", "${Conffiles}", "dropkiosk"]).stdout
        names = sorted(l.split()[0] for l in conffiles.splitlines() if l.strip())
        self.assertEqual(names, ["/etc/chromium/policies/managed/dropkiosk.json",
                                 "/etc/dropkiosk/dropkiosk.conf", "/etc/dropkiosk/screen.conf",
                                 "/etc/pam.d/dropkiosk-screen"])
        gid = int(passwd_entry(self.root, "dropkiosk")[3])
        st = os.stat(self.path("etc/dropkiosk/dropkiosk.conf"))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, gid, 0o640))

    def test_install_makes_the_two_system_users(self):
        daemon = passwd_entry(self.root, "dropkiosk")
        screen = passwd_entry(self.root, "dropkiosk-screen")
        self.assertEqual(daemon[4:], ["dropkiosk kiosk daemon", "/var/lib/dropkiosk",
                                      "/usr/sbin/nologin"])
        self.assertEqual(screen[4:], ["dropkiosk lobby screen", "/var/lib/dropkiosk-screen",
                                      "/usr/sbin/nologin"])
        self.assertLess(int(daemon[2]), 1000)
        self.assertNotEqual(daemon[2], screen[2])

    def test_state_folder_belongs_to_the_daemon_with_mode_0700(self):
        uid = int(passwd_entry(self.root, "dropkiosk")[2])
        st = os.stat(self.path("var/lib/dropkiosk"))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (uid, 0o700))

    def test_without_cage_and_chromium_only_the_daemon_is_enabled(self):
        wants = sorted(os.listdir(self.path("etc/systemd/system/multi-user.target.wants")))
        self.assertEqual(wants, ["dropkiosk.service"])
        self.assertIn("dropkiosk: cage, xwayland or chromium is not installed, so the lobby "
                      "screen (dropkiosk-screen.service) is left disabled; install all three, "
                      "then: systemctl enable --now dropkiosk-screen\n", self.installed.stdout)

    def test_with_cage_and_chromium_both_units_are_enabled(self):
        root = new_root()
        try:
            # What the recommended packages would put there.
            os.makedirs(os.path.join(root, "usr/bin"))
            for name in ("cage", "Xwayland", "chromium"):
                path = os.path.join(root, "usr/bin", name)
                with open(path, "w") as f:
                    f.write("#!/bin/sh\n")
                os.chmod(path, 0o755)
            out = install(root, DEB)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            wants = sorted(os.listdir(os.path.join(
                root, "etc/systemd/system/multi-user.target.wants")))
            self.assertEqual(wants, ["dropkiosk-screen.service", "dropkiosk.service"])
            self.assertIn("dropkiosk: the lobby screen takes over tty1 at the next boot (or "
                          "now, ending any login there: systemctl start dropkiosk-screen)\n",
                          out.stdout)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def test_systemd_analyze_verify_accepts_every_unit(self):
        # The root has no systemd of its own (dependencies were forced), so
        # it is given this machine's systemd units (sysinit.target and the
        # rest) in the place its package would put them.
        units = self.path("usr/lib/systemd/system")
        if not os.path.isdir(units):
            shutil.copytree("/usr/lib/systemd/system", units, symlinks=True)
        out = run(["systemd-analyze", "verify", "--root=" + self.root, "--man=no",
                   "dropkiosk.service", "dropkiosk-screen.service"])
        self.assertEqual((out.returncode, out.stdout + out.stderr), (0, ""))

    def test_daemon_unit_is_rated_2_5_or_safer(self):
        out = run(["systemd-analyze", "security", "--offline=true",
                   self.path("lib/systemd/system/dropkiosk.service")])
        m = re.search(r"Overall exposure level for dropkiosk.service: ([0-9.]+)", out.stdout)
        self.assertIsNotNone(m, out.stdout + out.stderr)
        self.assertLessEqual(float(m.group(1)), 2.5)

    def test_daemon_unit_runs_unprivileged_and_restarts_on_failure(self):
        with open(self.path("lib/systemd/system/dropkiosk.service")) as f:
            lines = set(f.read().splitlines())
        for setting in ("User=dropkiosk", "Restart=on-failure", "NoNewPrivileges=yes",
                        "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                        "DevicePolicy=closed", "StateDirectory=dropkiosk",
                        "StateDirectoryMode=0700", "Type=notify",
                        "RestartPreventExitStatus=2"):
            self.assertIn(setting, lines)

    def test_screen_unit_runs_cage_and_chromium_in_kiosk_mode_and_restarts(self):
        with open(self.path("lib/systemd/system/dropkiosk-screen.service")) as f:
            unit = f.read().splitlines()
        self.assertIn("Restart=always", unit)
        self.assertIn("User=dropkiosk-screen", unit)
        self.assertIn("ExecStart=/usr/libexec/dropkiosk/screen-session", unit)
        with open(self.path("usr/libexec/dropkiosk/screen-session")) as f:
            script = f.read()
        self.assertIn("exec cage -d -- chromium", script)
        for flag in ("--kiosk", "--autoplay-policy=no-user-gesture-required",
                     "--ozone-platform=wayland"):
            self.assertIn("    %s \\\n" % flag, script)

    def test_udevadm_parses_the_rules_without_a_complaint(self):
        # udevadm test reads the rules from /etc/udev/rules.d among others;
        # in a private mount namespace that folder holds the package's
        # rules, and /etc/group knows the package's group.
        group_file = tempfile.NamedTemporaryFile("w", delete=False)
        with open("/etc/group") as f:
            group_file.write(f.read())
        gid = passwd_entry(self.root, "dropkiosk")[3]
        group_file.write("dropkiosk:x:%s:\n" % gid)
        group_file.close()
        script = ('mount -t tmpfs tmpfs /etc/udev/rules.d && cp "$1" /etc/udev/rules.d/ && '
                  'mount --bind "$2" /etc/group && exec udevadm test /sys/class/mem/null')
        try:
            out = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                       "udev", self.path("lib/udev/rules.d/60-dropkiosk.rules"),
                       group_file.name])
        finally:
            os.unlink(group_file.name)
        said = [l for l in (out.stdout + out.stderr).splitlines() if "60-dropkiosk" in l]
        self.assertEqual(said, ["Reading rules file: /etc/udev/rules.d/60-dropkiosk.rules"])

    def test_hwdb_names_known_scanners_and_printers(self):
        out = run(["systemd-hwdb", "--root=" + self.root, "update", "--strict"])
        self.assertEqual(out.returncode, 0, out.stderr)
        cases = {
            "usb:v05E0p1200": "DROPKIOSK_DEVICE=scanner",            # Zebra/Symbol
            "usb:v0C2Ep0B61": "DROPKIOSK_DEVICE=scanner",            # Honeywell
            "usb:v05F9p2206d0100dc00dsc00dp00ic03isc01ip01in00": "DROPKIOSK_DEVICE=scanner",
            "usb:v04B8p0E15": "DROPKIOSK_DEVICE=printer",            # Epson TM-T20II
            "usb:v04B8p0202": "DROPKIOSK_DEVICE=printer",            # Epson TM-T88V
            "usb:v0416p5011": "DROPKIOSK_DEVICE=printer",            # POS-58
            "usb:v046DpC52B": "",                                    # a Logitech receiver
            "usb:v04B8p1234": "",                                    # an Epson inkjet
        }
        for modalias, want in cases.items():
            got = run(["systemd-hwdb", "--root=" + self.root, "query", modalias]).stdout
            self.assertEqual(got.strip(), want, modalias)

    def first_start(self):
        """The unit's ExecStartPre then ExecStart, inside the root; returns
        (keygen output, the running daemon)."""
        pre, main = unit_commands(self.root, "dropkiosk.service")
        self.assertEqual(pre, [["-/usr/sbin/dropkioskctl", "keygen", "--if-missing"]])
        self.assertEqual(main, [["/usr/sbin/dropkiosk"]])
        status, out, err = in_root_run(self.root, [pre[0][0][1:]] + pre[0][1:])
        self.assertEqual(status, 0, out + err)
        daemon = InRoot(self.root, main[0])
        return out, daemon

    def test_installed_daemon_starts_with_the_default_config_and_a_pty_scanner(self):
        keygen, daemon = self.first_start()
        try:
            fingerprint = re.search(r"SHA256:[A-Za-z0-9+/]{43}", keygen)
            self.assertIsNotNone(fingerprint, keygen)
            daemon.expect(r"Ready\. Scan the asset tag")
            self.assertIn("scanner:   serial (/dev/dropkiosk/scanner-serial)\n", daemon.out)
            self.assertIn("screen:    http://127.0.0.1:8080/", daemon.out)
            self.assertIn("receipt signing key fingerprint " + fingerprint.group(0),
                          daemon.err)
            health = run(["nsenter", "--target", str(daemon.proc.pid), "--net", "curl",
                          "-sS", "--max-time", "10", "http://127.0.0.1:8080/api/health"])
            self.assertEqual(json.loads(health.stdout)["scanner"], True, health.stderr)
            daemon.scan("123456")
            daemon.expect(r"Asset 123456 is not in our inventory\. It will be accepted and "
                          r"checked by a technician\.")
        finally:
            status = daemon.stop()
        self.assertEqual(status, 0, daemon.err)
        uid = int(passwd_entry(self.root, "dropkiosk")[2])
        for name, mode in (("dropkiosk.db", 0o600), ("receipt.key", 0o600)):
            st = os.stat(self.path("var/lib/dropkiosk/" + name))
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (uid, mode), name)
        status, out, err = in_root_run(self.root, ["/usr/sbin/dropkioskctl", "pubkey",
                                                   "--fingerprint"])
        self.assertEqual((status, out), (0, fingerprint.group(0) + "\n"), err)



def repack(version):
    """This package under another version number: (folder, .deb)."""
    work = tempfile.mkdtemp(prefix="dk-deb-")
    tree = os.path.join(work, "pkg")
    run(["dpkg-deb", "--raw-extract", DEB, tree], check=True)
    control = os.path.join(tree, "DEBIAN", "control")
    with open(control) as f:
        text = f.read()
    with open(control, "w") as f:
        f.write(text.replace("Version: %s\n" % VERSION, "Version: %s\n" % version))
    deb = os.path.join(work, "dropkiosk_%s_%s.deb" % (version, ARCH))
    run(["dpkg-deb", "--root-owner-group", "--build", tree, deb], check=True)
    return work, deb


def dump(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: dpkg --root, chroot and mount namespaces")
class UpgradeTest(unittest.TestCase):
    """Each test installs into a root of its own, starts the kiosk once,
    then installs another version over it."""

    NEWER = VERSION + "+1"

    @classmethod
    def setUpClass(cls):
        make_deb()
        cls.work, cls.newer = repack(cls.NEWER)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.root = new_root()
        self.addCleanup(shutil.rmtree, self.root, True)
        self.db = os.path.join(self.root, "var/lib/dropkiosk/dropkiosk.db")
        self.conf = os.path.join(self.root, "etc/dropkiosk/dropkiosk.conf")

    def install(self, deb):
        out = install(self.root, deb)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def start_once(self):
        """The unit's first start, one scan, and a stop."""
        pre, main = unit_commands(self.root, "dropkiosk.service")
        status, out, err = in_root_run(self.root, [pre[0][0][1:]] + pre[0][1:])
        self.assertEqual(status, 0, out + err)
        daemon = InRoot(self.root, main[0])
        try:
            daemon.expect(r"Ready\. Scan the asset tag")
            daemon.scan("123456")
            daemon.expect(r"Asset 123456 is not in our inventory")
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.err)
        return daemon

    def installed_version(self):
        return run(["dpkg-query", "--admindir=" + os.path.join(self.root, "var/lib/dpkg"),
                    "-W", "-f", "${Version}", "dropkiosk"]).stdout

    def test_upgrade_keeps_the_database_and_the_administrators_config(self):
        self.install(DEB)
        with open(self.conf) as f:
            text = f.read()
        edited = text.replace("site_name = Drop-off site\n",
                              "site_name = Campbell Resource Center\n")
        self.assertNotEqual(edited, text)
        with open(self.conf, "w") as f:
            f.write(edited)
        self.start_once()
        with open(os.path.join(self.root, "var/lib/dropkiosk/receipt.key"), "rb") as f:
            key = f.read()
        before = dump(self.db)

        self.install(self.newer)

        self.assertEqual(self.installed_version(), self.NEWER)
        with open(self.conf) as f:
            self.assertEqual(f.read(), edited)
        st = os.stat(self.conf)
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.assertEqual(dump(self.db), before)
        with open(os.path.join(self.root, "var/lib/dropkiosk/receipt.key"), "rb") as f:
            self.assertEqual(f.read(), key)
        daemon = self.start_once()
        self.assertIn("dropkiosk %s: Campbell Resource Center, kiosk kiosk-1\n" % VERSION,
                      daemon.out)

    def test_a_config_error_ends_the_start_with_status_2_naming_file_line_and_key(self):
        # The unit ignores its key step's failure ("-") so that the daemon's
        # own status 2 is what systemd sees, and RestartPreventExitStatus=2
        # then keeps it from starting again and again.
        self.install(DEB)
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("idle_timeout = 120\n", "idle_timeout = 2\n"))
        line = text[:text.index("idle_timeout = 120\n")].count("\n") + 1
        pre, main = unit_commands(self.root, "dropkiosk.service")
        self.assertTrue(pre[0][0].startswith("-"))
        status, out, err = in_root_run(self.root, [pre[0][0][1:]] + pre[0][1:])
        self.assertEqual(status, 2, out + err)
        status, out, err = in_root_run(self.root, main[0])
        self.assertEqual(status, 2, out + err)
        self.assertIn("dropkiosk error: /etc/dropkiosk/dropkiosk.conf:%d: bad value '2' for "
                      "idle_timeout: a whole number from 5 to 86400 (seconds)\n" % line, err)
        self.assertEqual(os.listdir(os.path.join(self.root, "var/lib/dropkiosk")), [])

    def test_downgrade_refuses_a_database_from_the_newer_version(self):
        self.install(self.newer)
        self.start_once()
        # What a newer dropkiosk's migration would leave: a higher schema
        # version than this build knows.
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA user_version = 99")
        con.commit()
        con.close()
        with open(self.db, "rb") as f:
            before = f.read()

        self.install(DEB)

        self.assertEqual(self.installed_version(), VERSION)
        _, main = unit_commands(self.root, "dropkiosk.service")
        status, out, err = in_root_run(self.root, main[0])
        self.assertEqual(status, 2, out + err)
        self.assertIn("dropkiosk error: database /var/lib/dropkiosk/dropkiosk.db has schema "
                      "version 99, newer than this dropkiosk knows", err)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), before)


if __name__ == "__main__":
    unittest.main()
