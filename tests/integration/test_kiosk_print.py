"""Paper receipts and languages at the kiosk, on real parts: the daemon with
a pty scanner, a file printer and a network printer on loopback (the
tests/printer_sink.py stand-in answering DLE EOT), the ESC/POS stream read
back by tests/escpos_reader.py, its QR code decoded by zbarimg and verified
by dropkioskctl."""

import email
import email.policy
import glob
import os
import subprocess
import sys
import tempfile
import time
import unittest

from kiosk import CTL, FIXTURES, PYTHON, ROOT, Kiosk, Site, SmtpServer

sys.path.insert(0, os.path.join(ROOT, "tests"))
import escpos_reader  # noqa: E402  (the test-side reader lives in tests/)

SINK = os.path.join(ROOT, "tests", "printer_sink.py")


class PrinterSink:
    """tests/printer_sink.py on 127.0.0.1, recording what it is sent."""

    def __init__(self, *flags, port=0):
        fd, self.path = tempfile.mkstemp(prefix="dk-sink-", suffix=".escpos")
        os.close(fd)
        self.proc = subprocess.Popen([PYTHON, SINK, "--port", str(port)] + list(flags) +
                                     [self.path], stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline())

    def data(self):
        with open(self.path, "rb") as f:
            return f.read()

    def stop(self):
        self.proc.kill()
        self.proc.wait()

    def cleanup(self):
        self.stop()
        os.unlink(self.path)


def qr_payload(png):
    """The text zbarimg reads from the QR code in png."""
    out = subprocess.run(["zbarimg", "--raw", "-q", "-Sbinary", png], capture_output=True,
                         timeout=30)
    # With -Sbinary zbarimg gives the symbol's bytes exactly, adding nothing.
    return out.stdout


def wait_for_log(k, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in k.log():
            return
        time.sleep(0.05)
    raise AssertionError("not in the daemon's log within %ds: %s\n%s" % (timeout, text, k.log()))


def visit(k, tag="104233", lang=None):
    """One device returned by S100001 with the email receipt declined, up
    to the question after the identity; the receipt id is not known yet."""
    if lang is not None:
        k.type(lang)
    k.scan(tag)
    k.expect("(charger|cargador)")
    k.scan("YES")
    k.type("DONE")
    k.expect("(Who is returning|Quién devuelve)")
    k.scan("S100001")
    k.expect("(Email the receipt|enviemos el recibo)")
    k.type("NO")


class FilePrinterTest(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="dk-printed-")
        self.site = Site(extra="\n[printer desk]\ntype = file\ndevice = %s\nwidth = 58\n"
                         "qr = raster\n" % self.out)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()
        subprocess.run(["rm", "-rf", self.out])

    def test_yes_prints_a_slip_whose_raster_qr_verifies(self):
        k = self.kiosk
        visit(k)
        k.expect(r"Print a paper receipt\? YES or NO")
        k.scan("YES")
        receipt = k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        k.expect("Printing your receipt. Please take it from the printer.")
        k.expect("Please put the devices in the drop bin. Thank you!")

        self.assertEqual(sorted(os.listdir(self.out)),
                         [receipt + ".escpos", receipt + ".png"])
        slip = escpos_reader.parse(open(os.path.join(self.out, receipt + ".escpos"),
                                        "rb").read())
        text = [line.text for line in slip.lines]
        self.assertIn("Example City Public Schools", text)
        self.assertIn("Bolling Building", text)
        self.assertIn("Receipt " + receipt, text)
        self.assertIn("Pending technician verification", text)
        self.assertTrue(any("104233" in t for t in text), text)
        png = os.path.join(self.out, "qr.png")
        self.assertTrue(escpos_reader.write_qr_png(slip, png))
        payload = qr_payload(png)
        stored, = self.site.query("SELECT payload FROM receipts WHERE id = ?", receipt)[0]
        self.assertEqual(payload, stored.encode())
        check = subprocess.run([CTL, "-c", self.site.config, "verify", "-"], input=payload,
                               capture_output=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertTrue(check.stdout.decode().startswith("VALID"), check.stdout)
        self.assertEqual(self.site.query("SELECT receipt_id, printer, actor, outcome FROM prints"),
                         [(receipt, "desk", "kiosk:bolling-lobby-1", "printed")])
        self.assertEqual(self.site.query("SELECT channels, lang, kiosk_id FROM receipts"),
                         [("screen,png,paper", "en", "bolling-lobby-1")])

    def test_no_prints_nothing(self):
        k = self.kiosk
        visit(k)
        k.expect(r"Print a paper receipt\? YES or NO")
        k.type("NO")
        k.expect("Please put the devices in the drop bin")
        self.assertEqual(os.listdir(self.out), [])
        self.assertEqual(self.site.query("SELECT count(*) FROM prints"), [(0,)])
        self.assertEqual(self.site.query("SELECT channels FROM receipts"), [("screen,png",)])

    def test_spanish_visit_gets_spanish_words_on_screen_and_slip(self):
        k = self.kiosk
        k.type("ES")
        k.expect("Idioma: Español.")
        k.expect("Listo. Escanee la etiqueta de inventario")
        visit(k)
        k.expect(r"¿Desea un recibo impreso\? Responda YES \(sí\) o NO\.")
        k.scan("YES")
        receipt = k.expect(r"Su recibo es el (R-[0-9A-Z]{9})\.").group(1)
        k.expect("Por favor, coloque los equipos en el contenedor de devoluciones.")
        # The receipt stays in Spanish until the next input; the next person
        # starts in the kiosk's own language.
        k.expect("Listo. Escanee la etiqueta de inventario")
        k.expect("For English, type EN.")
        k.type("CANCEL")
        k.expect("Ready. Scan the asset tag")
        self.assertNotIn("Cancelado", k.out)
        self.assertEqual(self.site.query("SELECT lang FROM receipts"), [("es",)])
        slip = escpos_reader.parse(open(os.path.join(self.out, receipt + ".escpos"),
                                        "rb").read())
        text = "\n".join(line.text for line in slip.lines)
        # 58 mm paper: the double-width title wraps at 16 columns.
        self.assertIn("Recibo de\ndevolución\nExample City Public Schools\n", text)
        self.assertIn("Recibo " + receipt, text)
        self.assertIn("Equipo 104233, ProBook 450 G8,\n  Cargador: Sí\n", text)
        self.assertIn("Pendiente de verificación por un\ntécnico", text)


class NetworkPrinterTest(unittest.TestCase):
    """A printer on TCP port 9100 (the sink), with a short recheck."""

    def start(self, *flags, port=0):
        self.sink = PrinterSink(*flags, port=port)
        self.site = Site(extra="\n[printer lobby]\ntype = tcp\nhost = 127.0.0.1\nport = %d\n"
                         "model = tm-t20\ntimeout_ms = 500\nrecheck_seconds = 1\n"
                         % self.sink.port)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.sink.cleanup()
        self.site.cleanup()

    def test_native_qr_slip_reaches_the_network_printer_and_verifies(self):
        self.start()
        k = self.kiosk
        visit(k)
        k.expect(r"Print a paper receipt\? YES or NO")
        k.scan("YES")
        receipt = k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        k.expect("Please put the devices in the drop bin")
        slip = escpos_reader.parse(self.sink.data())
        self.assertIn("Receipt " + receipt, [line.text for line in slip.lines])
        png = self.sink.path + ".png"
        self.assertTrue(escpos_reader.write_qr_png(slip, png))
        payload = qr_payload(png)
        os.unlink(png)
        check = subprocess.run([CTL, "-c", self.site.config, "verify", "-"], input=payload,
                               capture_output=True, timeout=30)
        self.assertTrue(check.stdout.decode().startswith("VALID"), check.stdout)
        self.assertEqual(self.site.query("SELECT outcome FROM prints"), [("printed",)])

    def test_paper_out_is_said_and_the_printer_comes_back_when_it_answers(self):
        self.start("--paper-out")
        k = self.kiosk
        visit(k)
        k.expect("The receipt printer cannot print right now: it is out of paper.")
        k.expect("Your receipt is the code on the screen: scan it with your phone to keep it.")
        receipt = k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        k.expect("Please put the devices in the drop bin")
        self.assertEqual(self.site.query("SELECT count(*) FROM prints"), [(0,)])
        self.assertEqual(self.site.query("SELECT id FROM receipts"), [(receipt,)])
        self.assertEqual(self.sink.data(), b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")

        # Paper loaded: the same port now answers ready; the kiosk asks it
        # again between visits and offers paper to the next person.
        port = self.sink.port
        self.sink.cleanup()
        self.sink = PrinterSink(port=port)
        wait_for_log(k, "receipt printer lobby is ready again")
        visit(k, tag="104234")
        k.expect(r"Print a paper receipt\? YES or NO")

    def test_printer_that_drops_mid_slip_leaves_the_receipt_and_says_so(self):
        self.start("--close-after", "200")
        k = self.kiosk
        visit(k)
        k.expect(r"Print a paper receipt\? YES or NO")
        k.scan("YES")
        receipt = k.expect(r"Your receipt is (R-[0-9A-Z]{9})\.").group(1)
        k.expect("The printer stopped before your receipt was printed. The code on the screen "
                 "is your receipt; the OIIT desk can print you a copy.")
        self.assertEqual(self.site.query("SELECT asset_tag, receipt_id FROM returns"),
                         [("104233", receipt)])
        rows = self.site.query("SELECT outcome, reason FROM prints")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "failed")
        self.assertIn("lobby", rows[0][1])
        # The printer is out of service: the next visit is not offered paper.
        visit(k, tag="104234")
        k.expect("The receipt printer cannot print right now: it is not answering.")


class CutShortTest(unittest.TestCase):
    """A visit left at its last questions keeps the answers already given."""

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="dk-printed-")
        self.site = Site(idle_timeout=5, extra="ticket_subject = Reimage {model} {tag}\n"
                         "\n[printer desk]\ntype = file\ndevice = %s\n" % self.out)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()
        subprocess.run(["rm", "-rf", self.out])

    def test_walking_away_at_the_print_question_keeps_name_and_email(self):
        k = self.kiosk
        k.scan("104233")
        k.scan("YES")
        k.type("DONE")
        k.scan("S100001")
        k.expect("Email the receipt")
        k.type("YES")
        k.expect("Send a copy")
        k.type("YES")
        k.expect(r"Print a paper receipt\? YES or NO")
        k.expect("No activity for 5 seconds.", timeout=15)
        k.expect("Recording the devices with the answers given so far.")
        k.expect("A copy will be emailed to you and your leader.")
        self.assertEqual(self.site.query("SELECT asset_tag, returned_by FROM returns"),
                         [("104233", "S100001")])
        self.assertEqual(self.site.query("SELECT kind, recipients FROM outbox"),
                         [("receipt", "maria.pena@example.org\nlead.finance@example.org")])
        self.assertEqual(os.listdir(self.out), [])

    def test_a_ticket_that_cannot_be_queued_is_not_promised(self):
        # A model name with a word too long for a mail header once encoded.
        self.site.query("UPDATE assets SET model = ? WHERE tag = '104300'", "Ñ" * 30)
        k = self.kiosk
        k.scan("104300")
        k.expect("is a desktop computer")
        k.type("DONE")
        k.scan("S100001")
        k.expect("The kiosk could not file the service desk ticket for your desktop. Please "
                 "tell the OIIT desk that it needs reimaging.")
        self.assertNotIn("has been asked to reimage", k.out)
        self.assertEqual(self.site.query("SELECT count(*) FROM outbox"), [(0,)])


class SpanishEmailTest(unittest.TestCase):
    def test_receipt_email_is_in_the_language_of_the_visit(self):
        smtp = SmtpServer()
        site = Site(smtp_port=smtp.port)
        try:
            site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
            site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
            k = Kiosk(site)
            try:
                k.type("es")
                k.expect("Idioma: Español.")
                k.scan("104233")
                k.scan("NO")
                k.type("DONE")
                k.scan("S100001")
                k.expect("enviemos el recibo")
                k.type("YES")
                k.expect("copia al director")
                k.type("NO")
                receipt = k.expect(r"Su recibo es el (R-[0-9A-Z]{9})\.").group(1)
                (eml, env), = smtp.wait_for(1)
            finally:
                k.stop()
            msg = email.message_from_bytes(eml, policy=email.policy.default)
            self.assertEqual(msg["Subject"], "Recibo de devolución %s (1 equipo)" % receipt)
            body = msg.get_body(("plain",)).get_content()
            self.assertIn("104233", body)
            self.assertEqual(site.query("SELECT lang FROM receipts"), [("es",)])
        finally:
            smtp.stop()
            site.cleanup()


if __name__ == "__main__":
    unittest.main()
