"""What dropkiosk.service's sandbox allows is what the daemon does.

systemd cannot run the unit here, so the daemon runs a whole visit under
strace instead: a return with an emailed receipt (delivered to the real
SMTP server on loopback), the screen's page, state and event stream over
HTTP, and a stop; and dropkioskctl makes the receipt key as the unit's
ExecStartPre does.  Every system call they make must pass the unit's
SystemCallFilter (as systemd-analyze expands its groups), every socket
must be of a family RestrictAddressFamilies allows, and no memory may be
mapped writable and executable (MemoryDenyWriteExecute)."""

import os
import pwd
import re
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from kiosk import CTL, FIXTURES, ROOT, Kiosk, Site, SmtpServer, free_port
from test_mail_delivery import visit, wait_outbox

UNIT = os.path.join(ROOT, "firmware", "systemd", "dropkiosk.service")


def unit_settings(name):
    with open(UNIT) as f:
        return [l.split("=", 1)[1] for l in f.read().splitlines() if l.startswith(name + "=")]


def syscall_groups():
    """{"@group": [members...]} from systemd-analyze."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                         text=True, check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand(names, groups):
    calls = set()
    for name in names:
        if name.startswith("@"):
            calls |= expand(groups[name], groups)
        else:
            calls.add(name)
    return calls


def allowed_syscalls():
    """The unit's SystemCallFilter lines: the first allows, ~ lines deny."""
    groups = syscall_groups()
    allowed = set()
    for value in unit_settings("SystemCallFilter"):
        if value.startswith("~"):
            allowed -= expand(value[1:].split(), groups)
        else:
            allowed |= expand(value.split(), groups)
    return allowed


def traced(log):
    """(syscall names, socket families, writable+executable mappings)."""
    names, families, wx = set(), set(), []
    with open(log, errors="replace") as f:
        for line in f:
            m = re.match(r"\d+ +([a-z0-9_]+)\(", line)
            if m:
                names.add(m.group(1))
            m = re.search(r"\bsocket\((AF_[A-Z0-9]+)", line)
            if m:
                families.add(m.group(1))
            if re.search(r"\b(mmap|mprotect|pkey_mprotect)\(", line) and \
                    "PROT_WRITE" in line and "PROT_EXEC" in line:
                wx.append(line.strip())
    return names, families, wx


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


@unittest.skipUnless(os.geteuid() == 0, "needs root to run the daemon as another user")
class ServiceSandboxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.allowed = allowed_syscalls()
        cls.families = set(unit_settings("RestrictAddressFamilies")[0].split())
        cls.logdir = tempfile.mkdtemp(prefix="dk-strace-")
        cls.smtp = SmtpServer()
        port = free_port()
        cls.site = site = Site(smtp_port=cls.smtp.port, extra="\n[http]\nport = %d\n" % port)
        site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        os.unlink(os.path.join(site.dir, "receipt.key"))
        os.unlink(os.path.join(site.dir, "receipt.pub"))
        # As the unit does, the programs run as a user of their own, not
        # root (SQLite, for one, changes its files' owner only as root).
        nobody = pwd.getpwnam("nobody")
        for d in (site.dir, cls.logdir):
            for top, dirs, files in os.walk(d):
                for name in [top] + [os.path.join(top, n) for n in dirs + files]:
                    os.chown(name, nobody.pw_uid, nobody.pw_gid)
        strace = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                  "strace", "-f", "-qq", "-o"]
        cls.ctl_log = os.path.join(cls.logdir, "ctl")
        subprocess.run(strace + [cls.ctl_log, CTL, "-c", site.config, "keygen",
                                 "--if-missing"], check=True, capture_output=True, timeout=60)
        cls.daemon_log = os.path.join(cls.logdir, "daemon")
        kiosk = Kiosk(site, wrap=strace + [cls.daemon_log],
                      owner=(nobody.pw_uid, nobody.pw_gid))
        try:
            visit(kiosk)
            wait_outbox(site, "sent")
            base = "http://127.0.0.1:%d/" % port
            for path in ("", "api/state", "api/health"):
                with urllib.request.urlopen(base + path, timeout=10) as r:
                    r.read()
            with urllib.request.urlopen(base + "api/events", timeout=10) as r:
                r.readline()
        finally:
            # SIGTERM to the daemon itself: strace would pass it on, but
            # then detach rather than see the daemon's own way out.
            for pid in children(kiosk.proc.pid):
                os.kill(pid, signal.SIGTERM)
            cls.status = kiosk.proc.wait(timeout=30)
            kiosk.stop()
            cls.delivered = len(cls.smtp.messages())
            cls.smtp.stop()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()
        for name in os.listdir(cls.logdir):
            os.unlink(os.path.join(cls.logdir, name))
        os.rmdir(cls.logdir)

    def test_the_traced_visit_ran_to_a_clean_stop(self):
        self.assertEqual(self.status, 0)
        self.assertEqual(self.delivered, 1)

    def test_every_system_call_of_the_daemon_is_allowed(self):
        names, _, _ = traced(self.daemon_log)
        self.assertIn("sendto", names)
        self.assertEqual(sorted(names - self.allowed), [])

    def test_every_system_call_of_keygen_is_allowed(self):
        names, _, _ = traced(self.ctl_log)
        self.assertIn("getrandom", names)
        self.assertEqual(sorted(names - self.allowed), [])

    def test_every_socket_is_of_an_allowed_family(self):
        _, families, _ = traced(self.daemon_log)
        self.assertIn("AF_INET", families)
        self.assertEqual(sorted(families - self.families), [])

    def test_no_memory_is_mapped_writable_and_executable(self):
        for log in (self.daemon_log, self.ctl_log):
            self.assertEqual(traced(log)[2], [])


if __name__ == "__main__":
    unittest.main()
