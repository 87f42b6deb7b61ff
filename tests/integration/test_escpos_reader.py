"""The ESC/POS encoder end to end, and the test-side reader itself.

End to end: a real signed receipt payload (signed here with openssl from the
site's own key, then checked by dropkioskctl) -> build/tools/escpos-slip
(drivers/escpos.c) -> tests/escpos_reader.py --qr-png -> zbarimg -> the
same bytes, and `dropkioskctl verify -` says VALID; for the printer's own
QR code and the raster one, on 58 and 80 mm paper.  A stream cut off inside
its QR code is reported as truncated at the command's offset.

The reader's own tests run it on byte streams written out here by hand."""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from kiosk import BUILD, PYTHON, ROOT, Site

READER = os.path.join(ROOT, "tests", "escpos_reader.py")
SLIP_TOOL = os.path.join(BUILD, "tools", "escpos-slip")

sys.path.insert(0, os.path.join(ROOT, "tests"))
import escpos_reader  # noqa: E402

# PKCS #8 DER for an Ed25519 private key (RFC 8410 section 7), seed last.
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")

PAYLOAD_LINES = [
    "dropkiosk receipt v1",
    "District: Example City Public Schools",
    "Receipt: R-7K3M9QXZJ",
    "Site: Escuela Sim\u00f3n Bol\u00edvar, Campbell Resource Center",
    "Kiosk: bolling-lobby-1",
    "Time: 2026-12-04 10:37 EST",
    "Device: RPS-104233 | Dell Latitude 3420 | charger yes",
    "Device: RPS-CB-88121 | Lenovo 100e Chromebook | charger no",
    "Device: RPS-TB-55120 | Apple iPad 9th generation | charger yes",
    "Device: RPS-HS-00917 | Franklin T10 hotspot | charger no",
    "Device: RPS-PH-40442 | Samsung Galaxy A14 5G | charger yes",
]


def signed_payload(site):
    """A receipt payload signed with the site's key, built as
    src/receipt.h describes it; the signature is made by openssl."""
    with open(os.path.join(site.dir, "receipt.key"), encoding="ascii") as f:
        label, seed_b64 = f.read().split()
    with open(os.path.join(site.dir, "receipt.pub"), encoding="ascii") as f:
        _, pk_b64 = f.read().split()
    assert label == "dropkiosk-receipt-secret-v1"
    seed = base64.b64decode(seed_b64)
    fingerprint = hashlib.sha256(base64.b64decode(pk_b64)).hexdigest()[:16]
    signed = "\n".join(PAYLOAD_LINES + ["Key: ed25519:" + fingerprint]) + "\n"
    key_der = os.path.join(site.dir, "sign.der")
    message = os.path.join(site.dir, "message")
    with open(key_der, "wb") as f:
        f.write(ED25519_PKCS8_PREFIX + seed)
    with open(message, "wb") as f:
        f.write(signed.encode("utf-8"))
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-keyform", "DER",
                          "-inkey", key_der, "-in", message],
                         check=True, capture_output=True, timeout=30).stdout
    assert len(sig) == 64
    return (signed + "Signature: " + base64.b64encode(sig).decode("ascii") + "\n").encode()


def zbarimg(png):
    """zbarimg's reading of png.  -Sbinary keeps QR byte-mode data as the
    bytes encoded: without it zbar guesses a character set and may turn
    UTF-8 into something else (it read "\u00f3" as Shift JIS here)."""
    return subprocess.run(["zbarimg", "--raw", "-q", "-Sbinary", png], capture_output=True,
                          timeout=60)


@unittest.skipUnless(shutil.which("openssl"), "openssl (the test's signer) is not installed")
class EncoderEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.payload = signed_payload(cls.site)
        cls.tmp = tempfile.mkdtemp(prefix="dk-escpos-")
        cls.payload_file = os.path.join(cls.tmp, "payload")
        with open(cls.payload_file, "wb") as f:
            f.write(cls.payload)

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def slip(self, width, mode):
        out = os.path.join(self.tmp, "slip-%d-%s.bin" % (width, mode))
        proc = subprocess.run([SLIP_TOOL, "--width", str(width), "--" + mode,
                               self.payload_file, out], capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return out

    def reader(self, *args):
        return subprocess.run([PYTHON, READER] + list(args), capture_output=True, timeout=60)

    def round_trip(self, width, mode):
        stream = self.slip(width, mode)
        png = os.path.join(self.tmp, "qr-%d-%s.png" % (width, mode))
        proc = self.reader(stream, "--qr-png", png)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        zbar = zbarimg(png)
        self.assertEqual(zbar.returncode, 0, zbar.stderr.decode(errors="replace"))
        # With -Sbinary zbarimg adds nothing after the symbol's bytes.
        self.assertEqual(zbar.stdout, self.payload)
        verify = self.site.ctl("verify", "-", stdin=zbar.stdout)
        self.assertTrue(verify.stdout.startswith(b"VALID\n"), verify.stdout)

    def test_payload_is_realistic_length_and_verifies(self):
        self.assertEqual(len(self.payload), 608)
        verify = self.site.ctl("verify", "-", stdin=self.payload)
        self.assertTrue(verify.stdout.startswith(b"VALID\n"), verify.stdout)

    def test_native_qr_58mm_decodes_to_payload(self):
        self.round_trip(58, "native")

    def test_native_qr_80mm_decodes_to_payload(self):
        self.round_trip(80, "native")

    def test_raster_qr_58mm_decodes_to_payload(self):
        self.round_trip(58, "raster")

    def test_raster_qr_80mm_decodes_to_payload(self):
        self.round_trip(80, "raster")

    def test_native_stream_holds_payload_in_store_command(self):
        with open(self.slip(58, "native"), "rb") as f:
            slip = escpos_reader.parse(f.read())
        self.assertEqual(len(slip.qrs), 1)
        qr = slip.qrs[0]
        self.assertEqual(qr.data, self.payload)
        self.assertEqual((qr.model, qr.module, qr.level), (2, 3, "M"))
        self.assertEqual(slip.cuts, [("partial", 3)])

    def test_raster_stream_is_paper_wide(self):
        for width, dots in ((58, 384), (80, 576)):
            with open(self.slip(width, "raster"), "rb") as f:
                slip = escpos_reader.parse(f.read())
            self.assertEqual(len(slip.rasters), 1)
            self.assertEqual(slip.rasters[0].image.width, dots)
            self.assertEqual(slip.qrs, [])

    def test_text_lines_in_wpc1252_wrap_at_32_columns(self):
        proc = self.reader(self.slip(58, "raster"), "--text")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        self.assertEqual(proc.stdout.decode("utf-8").split("\n")[:16], [
            "Recibo de",
            "devoluci\u00f3n",
            "Richmond Public Schools",
            "Centro de Recursos Campbell",
            "",
            "Recibo R-7K3M9QXZJ",
            "2026-12-04 10:37 EST",
            "",
            "Equipo RPS-104233, Dell Latitude",
            "  3420, Cargador: S\u00ed",
            "Equipo RPS-CB-88121, Lenovo 100e",
            "  Chromebook, Cargador: No",
            "Equipo RPS-TB-55120, Cargador:",
            "  S\u00ed",
            "",
            "Pendiente de verificaci\u00f3n",
        ])

    def test_text_lines_wrap_at_48_columns_on_80mm(self):
        proc = self.reader(self.slip(80, "native"), "--text")
        lines = proc.stdout.decode("utf-8").split("\n")
        self.assertIn("Equipo RPS-104233, Dell Latitude 3420, Cargador:", lines)
        self.assertIn("  S\u00ed", lines)
        self.assertIn("Pendiente de verificaci\u00f3n t\u00e9cnica", lines)

    def test_title_is_bold_double_and_centred(self):
        with open(self.slip(80, "native"), "rb") as f:
            slip = escpos_reader.parse(f.read())
        title = slip.lines[0]
        self.assertEqual(title.text, "Recibo de devoluci\u00f3n")
        self.assertEqual(title.raw, b"Recibo de devoluci\xf3n")
        self.assertEqual((title.style.bold, title.style.width, title.style.height,
                          title.style.align), (True, 2, 2, "center"))
        district = slip.lines[1]
        self.assertEqual((district.style.bold, district.style.width, district.style.align),
                         (False, 1, "center"))

    def test_raster_stream_cut_mid_image_is_truncated(self):
        with open(self.slip(58, "raster"), "rb") as f:
            data = f.read()
        at = data.index(b"\x1dv0")
        cut = os.path.join(self.tmp, "cut-raster.bin")
        with open(cut, "wb") as f:
            f.write(data[:at + 8 + 500])
        proc = self.reader(cut, "--text")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "escpos_reader: %s: truncated GS v 0 at byte %d: needs %d bytes of "
                         "image data, 500 left\n" % (cut, at, 48 * 303))

    def test_native_stream_cut_mid_store_is_truncated(self):
        with open(self.slip(80, "native"), "rb") as f:
            data = f.read()
        # fn 180: length 611 = 0x263 (608 bytes + cn, fn, m)
        at = data.index(b"\x1d(k\x63\x02\x31\x50\x30")
        cut = os.path.join(self.tmp, "cut-native.bin")
        with open(cut, "wb") as f:
            f.write(data[:at + 100])
        proc = self.reader(cut, "--qr-png", os.path.join(self.tmp, "never.png"))
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "escpos_reader: %s: truncated GS ( k at byte %d: needs 611 bytes of "
                         "data, 95 left\n" % (cut, at))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never.png")))

    def test_oversize_payload_refused_by_encoder(self):
        big = os.path.join(self.tmp, "big")
        with open(big, "wb") as f:
            f.write(b"A" * 2332)
        proc = subprocess.run([SLIP_TOOL, "--width", "58", big, os.path.join(self.tmp, "x")],
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr,
                         b"escpos-slip: receipt payload of 2332 bytes does not fit one QR "
                         b"code (2331 bytes at most)\n")

    def test_slip_image_qr_decodes_to_payload(self):
        png = os.path.join(self.tmp, "slip.png")
        proc = subprocess.run([SLIP_TOOL, "--png", "576", self.payload_file, png],
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        zbar = zbarimg(png)
        self.assertEqual(zbar.stdout, self.payload)
        verify = self.site.ctl("verify", png)
        self.assertTrue(verify.stdout.startswith(b"VALID\n"), verify.stdout)


class ReaderTest(unittest.TestCase):
    """The reader on streams written out by hand."""

    def test_spanish_si_read_from_wpc1252(self):
        slip = escpos_reader.parse(b"\x1b@\x1bt\x10Cargador: S\xed\n\x1dVB\x03")
        self.assertEqual(slip.text_lines, ["Cargador: S\u00ed"])
        self.assertEqual(slip.cuts, [("partial", 3)])

    def test_same_byte_in_pc437_default_is_another_letter(self):
        # Without ESC t the printer is on PC437, where 0xED is a Greek phi.
        slip = escpos_reader.parse(b"\x1b@S\xed\n")
        self.assertEqual(slip.text_lines, ["S\u03c6"])

    def test_init_resets_code_page_and_style(self):
        slip = escpos_reader.parse(b"\x1bt\x10\x1bE\x01\x1b@\xed\n")
        self.assertEqual(slip.text_lines, ["\u03c6"])
        self.assertFalse(slip.lines[0].style.bold)

    def test_style_at_first_character_of_line(self):
        slip = escpos_reader.parse(b"\x1ba\x01\x1bE\x01\x1d!\x11Title\n\x1d!\x00\x1bE\x00x\n")
        title, body = slip.lines
        self.assertEqual((title.style.align, title.style.bold, title.style.width,
                          title.style.height), ("center", True, 2, 2))
        self.assertEqual((body.style.bold, body.style.width), (False, 1))
        self.assertIn(("style", ("width", 2)), slip.events)

    def test_native_qr_from_store_and_print(self):
        slip = escpos_reader.parse(
            b"\x1d(k\x04\x001A2\x00"      # model 2
            b"\x1d(k\x03\x001C\x05"       # module 5
            b"\x1d(k\x03\x001E1"          # level M
            b"\x1d(k\x08\x001P0hello"     # store 5 bytes
            b"\x1d(k\x03\x001Q0")         # print
        self.assertEqual(len(slip.qrs), 1)
        qr = slip.qrs[0]
        self.assertEqual((qr.data, qr.model, qr.module, qr.level), (b"hello", 2, 5, "M"))
        self.assertEqual(qr.offset, 38)

    def test_qr_print_without_data_is_an_error(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1b@\x1d(k\x03\x001Q0")
        self.assertEqual(str(cm.exception), "QR print with no stored data at byte 2")

    def test_raster_bits_become_black_pixels(self):
        # 2 bytes (16 dots) a row, 2 rows.
        slip = escpos_reader.parse(b"\x1dv0\x00\x02\x00\x02\x00\x80\x01\xff\x00")
        image = slip.rasters[0].image
        self.assertEqual(image.size, (16, 2))
        row0 = [image.getpixel((x, 0)) for x in range(16)]
        row1 = [image.getpixel((x, 1)) for x in range(16)]
        self.assertEqual(row0, [0] + [255] * 14 + [0])
        self.assertEqual(row1, [0] * 8 + [255] * 8)

    def test_raster_double_width_mode_scales(self):
        slip = escpos_reader.parse(b"\x1dv0\x01\x01\x00\x01\x00\xf0")
        self.assertEqual(slip.rasters[0].image.size, (16, 1))

    def test_truncated_raster_reports_offset(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1b@\x1dv0\x00\x02\x00\x02\x00\xff")
        self.assertEqual(str(cm.exception),
                         "truncated GS v 0 at byte 2: needs 4 bytes of image data, 1 left")
        self.assertEqual(cm.exception.offset, 2)

    def test_truncated_raster_header(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"AB\n\x1dv0\x00\x30")
        self.assertEqual(str(cm.exception),
                         "truncated GS v 0 at byte 3: needs 5 bytes of parameters, 2 left")

    def test_truncated_symbol_length(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1d(k\x05")
        self.assertEqual(str(cm.exception),
                         "truncated GS ( k at byte 0: needs 2 bytes of parameters, 1 left")

    def test_truncated_code_page(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1b@\x1bt")
        self.assertEqual(str(cm.exception),
                         "truncated ESC t at byte 2: needs 1 bytes of parameters, 0 left")

    def test_unknown_esc_command(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1b@AB\x1b\x7f")
        self.assertEqual(str(cm.exception), "unknown command ESC 0x7f at byte 4")
        self.assertEqual(cm.exception.offset, 4)

    def test_unknown_gs_command(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1dZ\x00")
        self.assertEqual(str(cm.exception), "unknown command GS 0x5a at byte 0")

    def test_unknown_control_byte(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"ok\n\x07")
        self.assertEqual(str(cm.exception), "unknown control byte 0x07 at byte 3")

    def test_unknown_code_page(self):
        with self.assertRaises(escpos_reader.EscposError) as cm:
            escpos_reader.parse(b"\x1bt\x63")
        self.assertEqual(str(cm.exception), "unknown code page ESC t 99 at byte 0")

    def test_status_requests_recorded(self):
        slip = escpos_reader.parse(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")
        self.assertEqual(slip.status_requests, [1, 2, 4])

    def test_text_without_line_feed_is_unterminated(self):
        slip = escpos_reader.parse(b"abc")
        self.assertEqual(slip.text_lines, ["abc"])
        self.assertFalse(slip.lines[0].terminated)

    def test_cli_without_qr_exits_1(self):
        tmp = tempfile.mkdtemp(prefix="dk-escpos-")
        try:
            path = os.path.join(tmp, "s.bin")
            with open(path, "wb") as f:
                f.write(b"\x1b@hi\n\x1dVB\x00")
            proc = subprocess.run([PYTHON, READER, path, "--qr-png",
                                   os.path.join(tmp, "q.png")], capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(proc.stderr.decode(), "escpos_reader: %s: no QR code\n" % path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
