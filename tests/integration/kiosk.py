"""Helpers for integration tests: a throw-away kiosk site, the real daemon
with a pseudo-terminal scanner, and the real SMTP test server on loopback."""

import os
import pty
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CTL = os.path.join(BUILD, "dropkioskctl")
DAEMON = os.path.join(BUILD, "dropkiosk")
REPLAY = os.path.join(BUILD, "tools", "evdev-replay")
FIXTURES = os.path.join(ROOT, "tests", "integration", "fixtures")
PYTHON = "/usr/bin/python3"

BASE_CONFIG = """\
[kiosk]
database = kiosk.db
district = Example City Public Schools
site = bolling
site_name = Bolling Building
kiosk = bolling-lobby-1
timezone = America/New_York
idle_timeout = {idle_timeout}
checklist = {checklist}

[scan]
asset_pattern = ^[0-9]{{6}}$
badge_pattern = ^S[0-9]{{6}}$

[receipt]
signing_key = receipt.key
public_key = receipt.pub
directory = receipts

[mail]
from = dropkiosk@example.org
service_desk = servicedesk@example.org
retry_base = 1
retry_max = 2
timeout = 5
{mail}
"""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A kiosk's folder: config, signing key and database."""

    def __init__(self, smtp_port=None, idle_timeout=300, extra="", checklist=False):
        self.dir = tempfile.mkdtemp(prefix="dk-site-")
        self.config = os.path.join(self.dir, "dropkiosk.conf")
        self.db = os.path.join(self.dir, "kiosk.db")
        if smtp_port is None:
            mail = "transport = spool\nspool = mail\n"
        else:
            mail = "transport = smtp\nurl = smtp://127.0.0.1:%d\nstarttls = off\n" % smtp_port
        self.text = BASE_CONFIG.format(idle_timeout=idle_timeout, mail=mail,
                                       checklist="yes" if checklist else "no") + extra
        self.scanner_sections = ""
        self.write_config()
        self.ctl("keygen")

    def write_config(self):
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(self.text + self.scanner_sections)

    def add_scanner(self, name, device=None, terminator="cr"):
        if device is None:
            self.scanner_sections += "\n[scanner %s]\ntype = stdin\n" % name
        else:
            self.scanner_sections += (
                "\n[scanner %s]\ntype = serial\ndevice = %s\nspeed = 9600\nterminator = %s\n"
                % (name, device, terminator))
        self.write_config()

    def add_evdev_scanner(self, name, device, layout="us", terminator="enter"):
        """A keyboard-wedge scanner on device: an input node, or a FIFO or
        file of recorded key events (see EvdevFifo)."""
        self.scanner_sections += (
            "\n[scanner %s]\ntype = evdev\ndevice = %s\nlayout = %s\nterminator = %s\n"
            % (name, device, layout, terminator))
        self.write_config()

    def ctl(self, *args, stdin=None, check=True):
        proc = subprocess.run([CTL, "-c", self.config] + list(args), input=stdin,
                              capture_output=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError("dropkioskctl %s exited %d: %s" % (
                " ".join(args), proc.returncode, proc.stderr.decode(errors="replace")))
        return proc

    def query(self, sql, *params):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            rows = con.execute(sql, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Kiosk:
    """The real dropkiosk daemon with a pty scanner and stdin as a keyboard."""

    def __init__(self, site, pty_terminator="cr", env=None, wrap=None, owner=None):
        """env: variables to set (a value None removes one) in the
        daemon's environment, on top of this process's.  wrap: a command
        that runs the daemon (strace ...), which then is its parent.
        owner: (uid, gid) to give the pty scanner, for a daemon that wrap
        runs as another user."""
        self.site = site
        self.master, slave = pty.openpty()
        tty.setraw(self.master)
        self.slave_name = os.ttyname(slave)
        if owner is not None:
            os.chown(self.slave_name, *owner)
        # Keep the slave open here too, so the pty survives until the daemon
        # opens it; closing it later does not hang the daemon up.
        self.slave = slave
        # The daemon opens the scanner through a link, as udev gives stable
        # names; replug() points it at a new pty.
        self.link = os.path.join(site.dir, "scanner-lobby")
        os.symlink(self.slave_name, self.link)
        site.add_scanner("keyboard")
        site.add_scanner("lobby", self.link, pty_terminator)
        self.stderr_path = os.path.join(site.dir, "daemon.log")
        self.stderr = open(self.stderr_path, "wb")
        # DROPKIOSK_TEST_VERBOSE=1 puts the daemon's debug log in daemon.log.
        verbose = ["-v"] if os.environ.get("DROPKIOSK_TEST_VERBOSE") else []
        environ = dict(os.environ)
        for name, value in (env or {}).items():
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value
        self.proc = subprocess.Popen((wrap or []) + [DAEMON, "-c", site.config] + verbose,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=environ)
        self.out = ""
        self.pos = 0
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.expect("Ready. Scan the asset tag")
        except BaseException:
            # A test whose setUp fails gets no tearDown: never leave a
            # daemon behind to reopen a pty number a later test reuses.
            self.stop()
            raise

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            with self.lock:
                self.out += chunk.decode("utf-8", errors="replace")

    def expect(self, pattern, timeout=10, interval=0.02):
        """Wait for pattern (a regular expression) in output not yet consumed;
        return the match and move past it.  interval is how often to look
        (the benchmark looks far more often, to time the kiosk, not this)."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            with self.lock:
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(interval)
        raise AssertionError("kiosk never said %r; it said:\n%s\nlog:\n%s" % (
            pattern, self.out[self.pos:], self.log()))

    def _answered(self, before, timeout=10):
        """Wait until the kiosk has said something after `before` characters
        of output: scans from two devices are then handled in the order the
        test gave them, as a person at the kiosk would."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.out) > before:
                    return
            time.sleep(0.01)
        raise AssertionError("kiosk said nothing after input; log:\n%s" % self.log())

    def _length(self):
        with self.lock:
            return len(self.out)

    def scan(self, text, terminator=b"\r", wait=True):
        """A barcode read by the pty scanner; waits for the kiosk's answer."""
        data = text.encode() if isinstance(text, str) else text
        before = self._length()
        os.write(self.master, data + terminator)
        if wait:
            self._answered(before)

    def type(self, line, wait=True):
        """A line typed at the kiosk's terminal; waits for the answer."""
        before = self._length()
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        if wait:
            self._answered(before)

    def unplug(self):
        os.close(self.master)
        self.master = -1
        os.unlink(self.link)

    def replug(self):
        """A scanner plugged in again: a new pty behind the same link."""
        self.master, slave = pty.openpty()
        tty.setraw(self.master)
        os.close(self.slave)
        self.slave = slave
        self.slave_name = os.ttyname(slave)
        os.symlink(self.slave_name, self.link)

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        """Stop the daemon with SIGTERM (once; later calls do nothing) and
        return its exit status."""
        if self.stderr.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)
        if self.master >= 0:
            os.close(self.master)
        os.close(self.slave)
        self.stderr.close()
        return self.proc.returncode


class SmtpServer:
    """tests/smtp_server.py on a free loopback port, saving into a folder."""

    def __init__(self, *flags, port=0):
        self.dir = tempfile.mkdtemp(prefix="dk-smtp-")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "tests", "smtp_server.py"), "--port", str(port)]
            + list(flags) + [self.dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
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

    def wait_for(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages()) >= count:
                return self.messages()
            time.sleep(0.05)
        raise AssertionError("SMTP server received %d messages, expected %d" % (
            len(self.messages()), count))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


# struct input_event as Linux lays it out on 64-bit machines: struct timeval
# (two longs), type, code, value.
INPUT_EVENT = struct.Struct("@llHHi")
EV_SYN, EV_KEY = 0, 1


def write_recording(path, events):
    """Write a recording as build/tools/evdev-record makes one: events are
    (seconds, type, code, value) tuples."""
    with open(path, "wb") as f:
        for t, etype, code, value in events:
            sec = int(t)
            f.write(INPUT_EVENT.pack(sec, int(round((t - sec) * 1e6)), etype, code, value))


class EvdevFifo:
    """A FIFO standing in for a keyboard-wedge scanner's event node: the
    daemon's evdev back end reads raw events from it, fed by
    build/tools/evdev-replay.  hold() keeps a writer open so that a replay
    ending is not the scanner going away; close() is the unplug."""

    def __init__(self, site, name):
        self.path = os.path.join(site.dir, name + ".events")
        os.mkfifo(self.path)
        self.keeper = -1

    def hold(self):
        """Call once the daemon has the FIFO open for reading."""
        self.keeper = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)

    def replay(self, recording, speed=1.0):
        subprocess.run([REPLAY, recording, self.path, "--speed", str(speed)],
                       check=True, capture_output=True, timeout=60)

    def close(self):
        if self.keeper >= 0:
            os.close(self.keeper)
            self.keeper = -1
