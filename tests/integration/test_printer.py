"""Receipt printers end to end: a receipt made through the real daemon and
its pty scanner, then `dropkioskctl printer` and `dropkioskctl reprint`
against tests/printer_sink.py (a loopback ESC/POS network printer), a file
printer, and a real cupsd started for the test.  The QR code read back off
each slip (tests/escpos_reader.py, zbarimg) must verify with
`dropkioskctl verify -`."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from kiosk import CTL, FIXTURES, PYTHON, ROOT, Kiosk, Site

SINK = os.path.join(ROOT, "tests", "printer_sink.py")
READER = os.path.join(ROOT, "tests", "escpos_reader.py")
STATUS_QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
PIN = b"2468\n"


class Sink:
    """tests/printer_sink.py on a free loopback port."""

    def __init__(self, folder, name, *flags):
        self.path = os.path.join(folder, name + ".bytes")
        self.proc = subprocess.Popen([PYTHON, SINK, "--port", "0"] + list(flags) + [self.path],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.port = int(self.proc.stdout.readline())

    def data(self):
        with open(self.path, "rb") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def qr_payload(test, image):
    """The text zbarimg reads from the QR code in image."""
    proc = subprocess.run(["zbarimg", "--raw", "-q", image], capture_output=True, timeout=60)
    test.assertEqual(proc.returncode, 0, proc.stderr)
    return proc.stdout


def escpos_qr_payload(test, stream_file):
    """The QR code of an ESC/POS stream, drawn by tests/escpos_reader.py
    as the printer would and read back with zbarimg."""
    png = stream_file + ".qr.png"
    proc = subprocess.run([PYTHON, READER, stream_file, "--qr-png", png], capture_output=True,
                          timeout=60)
    test.assertEqual(proc.returncode, 0, proc.stderr)
    return qr_payload(test, png)


def make_receipt(site):
    """One visit at the kiosk: two devices, identified, no email."""
    k = Kiosk(site)
    try:
        k.scan("104233")
        k.expect("Is the charger in the bag\\? YES or NO")
        k.scan("YES")
        k.expect("1 device in this visit")
        k.scan("104400")
        k.expect("Is the charger in the bag\\? YES or NO")
        k.scan("NO")
        k.expect("2 devices in this visit")
        k.type("DONE")
        k.expect("Who is returning these devices\\?")
        k.scan("S100001")
        k.expect("Email the receipt to the address on file for you\\? YES or NO")
        k.type("NO")
        return k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
    finally:
        k.stop()


class PrinterTest(unittest.TestCase):
    """One receipt for the class; each test gives the site its printers."""

    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        cls.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        cls.receipt = make_receipt(cls.site)
        cls.base_text = cls.site.text
        cls.site.ctl("tech", "add", "--name", "Pat Tech", "--badge", "B7001", "--pin-stdin",
                     stdin=PIN)
        cls.payload = cls.site.query("SELECT payload FROM receipts WHERE id = ?",
                                     cls.receipt)[0][0].encode()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def setUp(self):
        self.sinks = []
        self.slips = os.path.join(self.site.dir, "slips")
        shutil.rmtree(self.slips, ignore_errors=True)
        os.mkdir(self.slips)

    def tearDown(self):
        for s in self.sinks:
            s.stop()
        self.site.text = self.base_text
        self.site.write_config()
        self.site.query("DELETE FROM prints")

    def sink(self, name, *flags):
        s = Sink(self.site.dir, name, *flags)
        self.sinks.append(s)
        return s

    def printers(self, sections):
        self.site.text = self.base_text + sections
        self.site.write_config()

    def tcp(self, name, sink, qr="native"):
        return "\n[printer %s]\ntype = tcp\nhost = 127.0.0.1\nport = %d\nqr = %s\n" \
            "timeout_ms = 500\n" % (name, sink.port, qr)

    def files(self, qr="raster"):
        return "\n[printer files]\ntype = file\ndevice = slips\nqr = %s\n" % qr

    def reprint(self, *args):
        return self.site.ctl("reprint", "--tech", "T0001", "--pin-stdin", *args, stdin=PIN,
                             check=False)

    def prints(self):
        return self.site.query("SELECT receipt_id, printer, actor, outcome, reason FROM prints "
                               "ORDER BY id")

    def assert_verifies(self, payload):
        self.assertEqual(payload.rstrip(b"\n"), self.payload.rstrip(b"\n"))
        proc = self.site.ctl("verify", "-", stdin=payload, check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    # ---- status ----

    def test_status_of_a_ready_network_printer(self):
        s = self.sink("lobby")
        self.printers(self.tcp("lobby", s))
        proc = self.site.ctl("printer", "status", check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"printer lobby (type tcp): ready\n")
        self.assertEqual(s.data(), STATUS_QUERIES)

    def test_status_words_and_exit_one(self):
        for flag, words in (("--paper-out", "paper out"), ("--cover-open", "cover open"),
                            ("--offline", "offline"), ("--silent", "not answering")):
            with self.subTest(flag=flag):
                s = self.sink("lobby" + flag, flag)
                self.printers(self.tcp("lobby", s))
                proc = self.site.ctl("printer", check=False)
                self.assertEqual(proc.returncode, 1)
                self.assertEqual(proc.stdout.decode(), "printer lobby (type tcp): %s\n" % words)

    def test_status_of_a_file_printer(self):
        self.printers(self.files())
        proc = self.site.ctl("printer", "status", "--printer", "files", check=False)
        self.assertEqual((proc.returncode, proc.stdout), (0, b"printer files (type file): ready\n"))
        shutil.rmtree(self.slips)
        proc = self.site.ctl("printer", "status", "--printer", "files", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"printer files (type file): offline\n")
        self.assertIn(b"No such file or directory", proc.stderr)

    def test_nothing_listening_is_not_answering(self):
        spare = socket.socket()
        spare.bind(("127.0.0.1", 0))  # bound, never listening: refused
        port = spare.getsockname()[1]
        self.printers("\n[printer lobby]\ntype = tcp\nhost = 127.0.0.1\nport = %d\n" % port)
        proc = self.site.ctl("printer", check=False)
        spare.close()
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"printer lobby (type tcp): not answering\n")
        self.assertIn(("cannot reach printer lobby (127.0.0.1:%d): Connection refused" % port)
                      .encode(), proc.stderr)

    def test_unknown_or_no_printer_is_bad_usage(self):
        s = self.sink("lobby")
        self.printers(self.tcp("lobby", s) + self.files())
        for verb in (["printer"], ["reprint", "--tech", "T0001"]):
            with self.subTest(verb=verb[0]):
                proc = self.site.ctl(*verb, "--printer", "attic", check=False)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(proc.stderr.decode(),
                                 "dropkioskctl: no printer 'attic' in %s (it has: lobby, files)\n"
                                 % self.site.config)
        self.printers("")
        proc = self.site.ctl("printer", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: no printer is configured in %s: add a [printer NAME] "
                         "section\n" % self.site.config)
        self.assertEqual(self.prints(), [])

    # ---- reprint ----

    def reprint_to_sink(self, qr):
        s = self.sink("lobby-" + qr)
        self.printers(self.tcp("lobby", s, qr=qr))
        proc = self.reprint(self.receipt)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.decode(),
                         "printed receipt %s on printer lobby (2 devices)\n" % self.receipt)
        data = s.data()
        self.assertTrue(data.startswith(STATUS_QUERIES + b"\x1b\x40"))
        self.assertIn(self.receipt.encode(), data)
        self.assertIn(b"104233", data)
        self.assertIn(b"104400", data)
        self.assert_verifies(escpos_qr_payload(self, s.path))
        self.assertEqual(self.prints(), [(self.receipt, "lobby", "T0001", "printed", "")])
        return data

    def test_reprint_native_qr_verifies(self):
        data = self.reprint_to_sink("native")
        self.assertIn(b"\x1d\x28\x6b", data)  # GS ( k: the printer draws the QR code
        self.assertIn(self.payload, data)

    def test_reprint_raster_qr_verifies(self):
        data = self.reprint_to_sink("raster")
        self.assertIn(b"\x1d\x76\x30", data)  # GS v 0: we drew it
        self.assertNotIn(b"\x1d\x28\x6b", data)

    def test_reprint_newest_to_file_printer(self):
        self.printers(self.files(qr="raster"))
        proc = self.reprint("--printer", "files")  # no id: this kiosk's newest
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(sorted(os.listdir(self.slips)),
                         [self.receipt + ".escpos", self.receipt + ".png"])
        stream = os.path.join(self.slips, self.receipt + ".escpos")
        self.assert_verifies(escpos_qr_payload(self, stream))
        self.assert_verifies(qr_payload(self, os.path.join(self.slips, self.receipt + ".png")))
        with open(stream, "rb") as f:
            escpos = f.read()
        # The same slip over the network is the same bytes after the status
        # questions.
        s = self.sink("lobby-same")
        self.printers(self.tcp("lobby", s, qr="raster"))
        self.assertEqual(self.reprint(self.receipt.lower()).returncode, 0)
        self.assertEqual(s.data(), STATUS_QUERIES + escpos)

    def test_reprint_audited(self):
        self.printers(self.files())
        self.assertEqual(self.reprint(self.receipt, "--printer", "files").returncode, 0)
        rows = self.site.query("SELECT actor, action, subject, details FROM audit "
                               "WHERE action LIKE 'receipt reprint%'")
        self.assertEqual(rows[-1], ("tech:T0001", "receipt reprinted", self.receipt,
                                    "printer=files"))
        self.assertEqual(self.site.ctl("audit", "verify", check=False).returncode, 0)

    def test_refused_status_prints_nothing(self):
        for flag, words in (("--paper-out", "paper out"), ("--cover-open", "cover open"),
                            ("--offline", "offline"), ("--silent", "not answering")):
            with self.subTest(flag=flag):
                self.site.query("DELETE FROM prints")
                s = self.sink("refuse" + flag, flag)
                self.printers(self.tcp("lobby", s))
                proc = self.reprint(self.receipt)
                self.assertEqual(proc.returncode, 3)
                self.assertIn(("dropkioskctl: printer lobby: %s; nothing printed\n" % words)
                              .encode(), proc.stderr)
                # Only the status questions went (the first alone when the
                # printer never answers).
                self.assertEqual(s.data(), STATUS_QUERIES[:3] if flag == "--silent"
                                 else STATUS_QUERIES)
                self.assertEqual(self.prints(), [(self.receipt, "lobby", "T0001", "failed",
                                                  words)])

    def test_disconnect_mid_slip_names_the_bytes(self):
        self.printers(self.files(qr="raster"))
        self.assertEqual(self.reprint(self.receipt, "--printer", "files").returncode, 0)
        total = os.path.getsize(os.path.join(self.slips, self.receipt + ".escpos"))
        s = self.sink("cut", "--close-after", "100")
        self.printers(self.tcp("lobby", s, qr="raster"))
        self.site.query("DELETE FROM prints")
        proc = self.reprint(self.receipt)
        self.assertEqual(proc.returncode, 3)
        err = proc.stderr.decode()
        prefix = "dropkioskctl: printer lobby (127.0.0.1:%d) closed the connection after " % s.port
        self.assertTrue(err.startswith(prefix), err)
        sent = int(err[len(prefix):].split(" ")[0])
        self.assertEqual(err[len(prefix):], "%d of %d bytes\n" % (sent, total))
        self.assertTrue(100 <= sent < total)
        self.assertEqual(s.data(), STATUS_QUERIES + s.data()[9:109])
        self.assertEqual(len(s.data()), 9 + 100)
        self.assertEqual(self.prints(), [(self.receipt, "lobby", "T0001", "failed", err[14:-1])])

    def test_unknown_receipt_and_wrong_pin_print_nothing(self):
        s = self.sink("lobby")
        self.printers(self.tcp("lobby", s))
        proc = self.reprint("R-000000000")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr, b"dropkioskctl: no receipt R-000000000 in the database\n")
        proc = self.reprint("R-12345")
        self.assertEqual(proc.returncode, 2)
        proc = self.site.ctl("reprint", self.receipt, "--tech", "T0001", "--pin-stdin",
                             stdin=b"9999\n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(s.data(), b"")
        self.assertEqual(self.prints(), [])


def cupsd_usable():
    return os.geteuid() == 0 and shutil.which("cupsd") is not None


BACKEND = """#!/bin/sh
# The device end of the test queue: the job's bytes go to the file the
# queue's URI names (dkout:PATH).
if [ $# -eq 0 ]; then
    echo 'direct dkout "Unknown" "dropkiosk test output"'
    exit 0
fi
path=${DEVICE_URI#dkout:}
if [ -n "$6" ]; then cat -- "$6" >"$path.tmp"; else cat >"$path.tmp"; fi && mv -- "$path.tmp" "$path"
"""


class Cupsd:
    """A real cupsd for one test class, on 127.0.0.1 and a socket in its
    scratch folder, with queues whose device end writes into the folder.

    Debian's cups-daemon alone has no filters (those come with the `cups`
    package), and a raw queue with a file: device then completes jobs
    without writing anything.  So the queues use a small backend of the
    test's own, in a ServerBin of its own beside links to the system's
    daemon and notifier programs; cupsd, IPP and the job are the real ones.
    """

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dk-cups-")
        os.chmod(self.dir, 0o755)  # backends and filters run as lp
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        d = self.dir
        for sub in ("spool", "cache", "state", "tmp", "log", "bin", "bin/backend"):
            os.mkdir(os.path.join(d, sub))
        os.symlink("/usr/lib/cups/daemon", os.path.join(d, "bin", "daemon"))
        os.symlink("/usr/lib/cups/notifier", os.path.join(d, "bin", "notifier"))
        backend = os.path.join(d, "bin", "backend", "dkout")
        with open(backend, "w") as f:
            f.write(BACKEND)
        os.chmod(backend, 0o700)  # run as root, so it can write the output
        with open(os.path.join(d, "cupsd.conf"), "w") as f:
            f.write("LogLevel info\nListen 127.0.0.1:%d\nListen %s/cups.sock\nBrowsing No\n"
                    "WebInterface No\nDefaultAuthType None\n"
                    "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
                    "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n"
                    "</Policy>\n" % (self.port, d))
        with open(os.path.join(d, "cups-files.conf"), "w") as f:
            f.write("FileDevice Yes\nServerRoot {d}\nServerBin {d}/bin\nRequestRoot {d}/spool\n"
                    "CacheDir {d}/cache\nStateDir {d}/state\nTempDir {d}/tmp\n"
                    "ErrorLog {d}/log/error_log\nAccessLog {d}/log/access_log\n"
                    "PageLog {d}/log/page_log\nUser lp\nGroup lp\nSystemGroup root\n"
                    .format(d=d))
        queues = ""
        for name, extra in (("receipts", ""), ("jammed", "Reason media-empty-error\n"),
                            ("lidup", "Reason cover-open-error\n"), ("halted", "")):
            queues += ("<Printer %s>\nDeviceURI dkout:%s/%s.out\nState %s\n%sAccepting Yes\n"
                       "Shared No\n</Printer>\n"
                       % (name, d, name, "Stopped" if name == "halted" else "Idle", extra))
        with open(os.path.join(d, "printers.conf"), "w") as f:
            f.write(queues)
        os.chmod(os.path.join(d, "printers.conf"), 0o600)
        self.proc = subprocess.Popen(["cupsd", "-f", "-c", os.path.join(d, "cupsd.conf"),
                                      "-s", os.path.join(d, "cups-files.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise AssertionError("cupsd did not start; its log:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "log", "error_log")) as f:
                return f.read()
        except OSError:
            return ""

    def wait_output(self, queue, timeout=20):
        path = os.path.join(self.dir, queue + ".out")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                return path
            time.sleep(0.1)
        raise AssertionError("CUPS wrote nothing for queue %s; its log:\n%s" % (queue, self.log()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(cupsd_usable(), "needs root and Debian's cups-daemon")
class CupsPrinterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cups = Cupsd()
        cls.old_server = os.environ.get("CUPS_SERVER")
        os.environ["CUPS_SERVER"] = "127.0.0.1:%d" % cls.cups.port
        cls.site = Site()
        cls.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        cls.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        cls.receipt = make_receipt(cls.site)
        cls.site.ctl("tech", "add", "--name", "Pat Tech", "--badge", "B7001", "--pin-stdin",
                     stdin=PIN)
        cls.base_text = cls.site.text
        # DK_MAX_PRINTERS is 4; test_missing_queue_is_named has its own.
        for name in ("receipts", "jammed", "lidup", "halted"):
            cls.site.text += "\n[printer %s]\ntype = cups\nqueue = %s\n" % (name, name)
        cls.site.write_config()

    @classmethod
    def tearDownClass(cls):
        if cls.old_server is None:
            del os.environ["CUPS_SERVER"]
        else:
            os.environ["CUPS_SERVER"] = cls.old_server
        cls.cups.stop()
        cls.site.cleanup()

    def status(self, name):
        proc = self.site.ctl("printer", "--printer", name, check=False)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def test_queue_states(self):
        self.assertEqual(self.status("receipts")[:2], (0, "printer receipts (type cups): ready\n"))
        self.assertEqual(self.status("jammed")[:2], (1, "printer jammed (type cups): paper out\n"))
        self.assertEqual(self.status("lidup")[:2], (1, "printer lidup (type cups): cover open\n"))
        self.assertEqual(self.status("halted")[:2], (1, "printer halted (type cups): offline\n"))

    def test_missing_queue_is_named(self):
        text = self.site.text
        self.site.text = self.base_text + "\n[printer nosuch]\ntype = cups\nqueue = nosuch\n"
        self.site.write_config()
        try:
            rc, out, err = self.status("nosuch")
        finally:
            self.site.text = text
            self.site.write_config()
        self.assertEqual((rc, out), (1, "printer nosuch (type cups): not answering\n"))
        self.assertEqual(err, "dropkioskctl: cannot open printer nosuch (cups queue nosuch): "
                              "CUPS has no queue 'nosuch'\n")

    def test_reprint_through_cups_verifies(self):
        proc = self.site.ctl("reprint", self.receipt, "--printer", "receipts", "--tech", "T0001",
                             "--pin-stdin", stdin=PIN, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = self.cups.wait_output("receipts")
        with open(out, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        payload = qr_payload(self, out)
        stored = self.site.query("SELECT payload FROM receipts WHERE id = ?", self.receipt)[0][0]
        self.assertEqual(payload.rstrip(b"\n"), stored.encode().rstrip(b"\n"))
        self.assertEqual(self.site.ctl("verify", "-", stdin=payload, check=False).returncode, 0)

    def test_reprint_on_a_jammed_queue_prints_nothing(self):
        proc = self.site.ctl("reprint", self.receipt, "--printer", "jammed", "--tech", "T0001",
                             "--pin-stdin", stdin=PIN, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn(b"dropkioskctl: printer jammed: paper out; nothing printed\n", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.cups.dir, "jammed.out")))


if __name__ == "__main__":
    unittest.main()
