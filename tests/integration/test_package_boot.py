"""The package on a real Debian system booted by systemd.

debootstrap makes a minimal Debian root of this machine's release from
this machine's own Debian mirror (as its apt sources name it); apt
installs the package there with its dependencies and without the
recommended ones (no screen); systemd-nspawn boots it with a network of
its own (loopback only), and a pseudo-terminal from this machine is bound
in as /dev/dropkiosk/scanner-serial.  Then systemd itself runs
dropkiosk.service with the whole sandbox: the tests look at the running
unit, its journal, its screen server and a scan.

Needs root (debootstrap, chroot, systemd-nspawn) and the mirror."""

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import tempfile
import time
import tty
import unittest

from kiosk import ROOT
from test_package import DEB, VERSION, make_deb, passwd_entry, run


def codename():
    with open("/etc/os-release") as f:
        return re.search(r"^VERSION_CODENAME=(\S+)$", f.read(), re.M).group(1)


def mirror(release):
    """The URI this machine's apt sources give for `release`."""
    folder = "/etc/apt/sources.list.d"
    texts = [os.path.join(folder, n) for n in sorted(os.listdir(folder))
             if n.endswith(".sources")]
    for path in texts:
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = dict(re.findall(r"^(\w[\w-]*): *(.*)$", stanza, re.M))
                if release in fields.get("Suites", "").split() and "URIs" in fields:
                    return fields["URIs"].split()[0]
    with open("/etc/apt/sources.list") as f:
        for line in f:
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == release:
                return words[1]
    raise unittest.SkipTest("no apt source for %s on this machine" % release)


def make_system(root):
    """A minimal booting Debian with the package installed."""
    release = codename()
    out = run(["debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus",
               release, root, mirror(release)], timeout=900)
    if out.returncode != 0:
        raise AssertionError("debootstrap failed:\n" + out.stdout[-3000:] + out.stderr[-3000:])
    shutil.copy(DEB, os.path.join(root, "tmp"))
    script = ('mount -t proc proc "$1/proc" && exec chroot "$1" sh -c '
              '"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '
              '--no-install-recommends /tmp/$2"')
    out = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "apt",
               root, os.path.basename(DEB)], timeout=900)
    if out.returncode != 0:
        raise AssertionError("apt-get install failed:\n" + out.stdout[-3000:] + out.stderr)
    return out.stdout


class Machine:
    """systemd-nspawn booting `root`; commands run inside with nsenter."""

    def __init__(self, root, binds):
        # nspawn cleans up after itself under /run/systemd/nspawn, which
        # must be a tmpfs; a private one keeps this machine's /run as it is.
        script = ('mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn && '
                  'exec systemd-nspawn -q -D "$@"')
        args = [root, "-b", "--private-network", "--register=no", "--keep-unit",
                "--console=pipe"] + ["--bind=%s:%s" % b for b in binds]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "boot"] +
            args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            self.leader = self._leader()
            state = self.run("systemctl", "is-system-running", "--wait", timeout=120)
            if state.stdout.strip() not in ("running", "degraded"):
                raise AssertionError("the system did not come up: %r\n%s" % (
                    state.stdout, self.run("systemctl", "list-jobs", "--no-pager").stdout))
        except BaseException:
            self.stop()
            raise

    def _leader(self, timeout=60):
        """The container's init: the child of systemd-nspawn."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = run(["pgrep", "-x", "-s", str(self.proc.pid), "systemd-nspawn"]).stdout.split()
            for pid in out:
                try:
                    with open("/proc/%s/task/%s/children" % (pid, pid)) as f:
                        children = f.read().split()
                except OSError:
                    continue
                if children:
                    return children[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.log.seek(0)
        raise AssertionError("systemd-nspawn did not boot:\n" + self.log.read().decode())

    def run(self, *args, timeout=60, net_only=False):
        which = ["--net"] if net_only else ["--all"]
        return run(["nsenter", "--target", self.leader] + which + ["--"] + list(args),
                   timeout=timeout)

    def show(self, unit, *props):
        out = self.run("systemctl", "show", unit, "--property=" + ",".join(props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_for(self, unit, prop, value, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.show(unit, prop)[prop]
            if now == value:
                return
            time.sleep(0.2)
        raise AssertionError("%s %s stayed %r, not %r" % (unit, prop, now, value))

    def http(self, path):
        out = self.run("curl", "-sS", "--max-time", "10", "http://127.0.0.1:8080" + path,
                       net_only=True)
        return json.loads(out.stdout)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@unittest.skipUnless(os.geteuid() == 0, "needs root: debootstrap, chroot, systemd-nspawn")
class BootedPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        make_deb()
        cls.root = tempfile.mkdtemp(prefix="dk-boot-")
        # A system's / is 0755: its services' users (dbus's, the daemon's)
        # must walk through it.
        os.chmod(cls.root, 0o755)
        cls.machine = None
        cls.master = cls.slave = -1
        try:
            cls.apt = make_system(cls.root)
            cls.uid = int(passwd_entry(cls.root, "dropkiosk")[2])
            cls.master, cls.slave = pty.openpty()
            tty.setraw(cls.master)
            pts = os.ttyname(cls.slave)
            os.chown(pts, cls.uid, cls.uid)
            cls.machine = Machine(cls.root, [(pts, "/dev/dropkiosk/scanner-serial")])
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.machine is not None:
            cls.machine.stop()
        for fd in (cls.master, cls.slave):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_apt_installs_it_with_its_dependencies(self):
        status = run(["dpkg-query", "--admindir=" + os.path.join(self.root, "var/lib/dpkg"),
                      "-W", "-f", "${Status} ${Version}", "dropkiosk"]).stdout
        self.assertEqual(status, "install ok installed %s" % VERSION)
        self.assertIn("dropkiosk: cage, xwayland or chromium is not installed", self.apt)

    def test_systemd_runs_the_daemon_ready_as_its_own_user_in_the_sandbox(self):
        props = self.machine.show("dropkiosk.service", "ActiveState", "SubState", "StatusText",
                                  "MainPID", "NRestarts")
        self.assertEqual((props["ActiveState"], props["SubState"], props["NRestarts"]),
                         ("active", "running", "0"))
        self.assertEqual(props["StatusText"], "kiosk kiosk-1 at Drop-off site is ready")
        status = self.machine.run("cat", "/proc/%s/status" % props["MainPID"]).stdout
        fields = dict(re.findall(r"^(\w+):\s+(.*)$", status, re.M))
        self.assertEqual(fields["Uid"].split(), [str(self.uid)] * 4)
        self.assertEqual(fields["NoNewPrivs"], "1")
        self.assertEqual(fields["Seccomp"], "2")       # a system call filter
        self.assertEqual(fields["CapEff"], "0000000000000000")

    def test_the_journal_has_the_key_fingerprint_at_info_priority(self):
        fingerprint = self.machine.run("dropkioskctl", "pubkey", "--fingerprint").stdout.strip()
        self.assertRegex(fingerprint, r"^SHA256:[A-Za-z0-9+/]{43}$")
        out = self.machine.run("journalctl", "-u", "dropkiosk", "-o", "json", "--no-pager")
        found = set((e.get("PRIORITY"), e.get("MESSAGE")) for e in map(json.loads,
                                                                      out.stdout.splitlines())
                    if "receipt signing key fingerprint" in str(e.get("MESSAGE")))
        # Once per start of the daemon, the same line each time.
        self.assertEqual(found, {("6", "dropkiosk info: receipt signing key fingerprint %s "
                                  "(publish the public key with dropkioskctl pubkey)"
                                  % fingerprint)})

    def test_the_state_folder_and_key_belong_to_the_daemon(self):
        for rel, mode in (("var/lib/dropkiosk", 0o700), ("var/lib/dropkiosk/receipt.key", 0o600),
                          ("var/lib/dropkiosk/dropkiosk.db", 0o600)):
            st = os.stat(os.path.join(self.root, rel))
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.uid, mode), rel)

    def test_a_scan_from_the_serial_scanner_reaches_the_screen(self):
        self.assertEqual(self.machine.http("/api/health")["scanner"], True)
        os.write(self.master, b"123456\r")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            state = self.machine.http("/api/state")
            if state["pending"] is not None:
                break
            time.sleep(0.2)
        # Not in the (empty) inventory: accepted, and the charger asked for.
        self.assertEqual((state["screen"], state["pending"]["tag"], state["pending"]["known"]),
                         ("charger", "123456", False))
        os.write(self.master, b"CANCEL\r")

    def test_the_screen_is_left_disabled_without_cage_and_chromium(self):
        props = self.machine.show("dropkiosk-screen.service", "UnitFileState", "ActiveState")
        self.assertEqual(props, {"UnitFileState": "disabled", "ActiveState": "inactive"})

    def test_a_config_error_stops_the_daemon_once_without_restarts(self):
        conf = os.path.join(self.root, "etc/dropkiosk/dropkiosk.conf")
        with open(conf) as f:
            good = f.read()
        try:
            with open(conf, "w") as f:
                f.write(good.replace("idle_timeout = 120\n", "idle_timeout = 2\n"))
            self.machine.run("systemctl", "restart", "dropkiosk")
            self.machine.wait_for("dropkiosk.service", "ActiveState", "failed")
            time.sleep(7)   # longer than RestartSec=
            props = self.machine.show("dropkiosk.service", "ActiveState", "NRestarts",
                                      "ExecMainStatus")
            self.assertEqual(props, {"ActiveState": "failed", "NRestarts": "0",
                                     "ExecMainStatus": "2"})
        finally:
            with open(conf, "w") as f:
                f.write(good)
            self.machine.run("systemctl", "reset-failed", "dropkiosk")
            self.machine.run("systemctl", "start", "dropkiosk")
        self.machine.wait_for("dropkiosk.service", "SubState", "running")

    def test_a_stop_is_clean_and_stays_stopped(self):
        try:
            self.machine.run("systemctl", "stop", "dropkiosk")
            props = self.machine.show("dropkiosk.service", "ActiveState", "ExecMainStatus")
            self.assertEqual(props, {"ActiveState": "inactive", "ExecMainStatus": "0"})
        finally:
            self.machine.run("systemctl", "start", "dropkiosk")
        self.machine.wait_for("dropkiosk.service", "SubState", "running")


if __name__ == "__main__":
    unittest.main()
