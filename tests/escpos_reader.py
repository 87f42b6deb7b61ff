#!/usr/bin/python3
"""Read an ESC/POS byte stream back into what a printer would make of it.

A test-side reader for the slips drivers/escpos.c writes: text lines
(decoded from the code page ESC t selected), their style, style changes,
feeds, cuts, status requests, QR codes the printer would draw (GS ( k,
stored with function 180 and printed with 181) and raster images (GS v 0,
as PIL images).  It knows the commands the kiosk sends and a few common
neighbours; anything else, and any command cut off before its last byte,
raises EscposError naming the command and the byte offset where it starts,
so a test catches an encoder bug or a slip cut off mid-stream.

    escpos_reader.py FILE [--text] [--qr-png OUT.png]

FILE may be "-" for stdin.  --text prints the text lines (UTF-8);
--qr-png writes the slip's last QR code as a PNG: a raster QR as the raster
itself, a native one rendered from its stored data with python3-qrcode, as
the printer would draw it.  With neither option a one-line summary is
printed.  Exit status: 0 read; 1 --qr-png found no QR code; 2 bad usage, or
a stream that is truncated or holds an unknown command.

Only Python's standard library and Debian's python3-pil and python3-qrcode.
"""

import argparse
import sys

ESC = 0x1B
GS = 0x1D
DLE = 0x10
LF = 0x0A
CR = 0x0D

# ESC t n -> Python codec, for the tables the kiosk or a test may select.
CODE_PAGES = {
    0: "cp437",    # PC437 (USA, standard Europe): the power-on default
    2: "cp850",    # PC850 Multilingual
    16: "cp1252",  # WPC1252, what drivers/escpos.c selects
    19: "cp858",   # PC858 (PC850 with the euro sign)
}

# GS ( k fn 169's parameter -> error correction level.
QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


class EscposError(ValueError):
    """A stream the reader cannot follow; offset is where the command
    starts, and the message says how far the reader got."""

    def __init__(self, message, offset):
        super().__init__(message)
        self.offset = offset


class Style:
    def __init__(self):
        self.bold = False
        self.underline = 0
        self.width = 1   # character width multiple (GS !)
        self.height = 1
        self.align = "left"
        self.font = 0

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def __repr__(self):
        return "Style(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items()))


class Line:
    """One printed text line: its text (decoded), the raw bytes, the code
    page used, and the style in force at its first character."""

    def __init__(self, raw, code_page, style, offset, terminated=True):
        self.raw = raw
        self.code_page = code_page
        self.text = raw.decode(CODE_PAGES[code_page])
        self.style = style
        self.offset = offset
        self.terminated = terminated

    def __repr__(self):
        return "Line(%r, %r)" % (self.text, self.style)


class Qr:
    """A QR code the printer draws (GS ( k fn 181) from stored data."""

    def __init__(self, data, model, module, level, offset):
        self.data = data
        self.model = model    # 1 or 2 (fn 165), None when never set
        self.module = module  # dots a module (fn 167), None when never set
        self.level = level    # "L", "M", "Q", "H" (fn 169), None when never set
        self.offset = offset

    def image(self):
        """The symbol as the printer would draw it, made with python3-qrcode:
        a PIL image, black modules, 4-module white quiet zone."""
        import qrcode
        import qrcode.constants

        levels = {
            "L": qrcode.constants.ERROR_CORRECT_L,
            "M": qrcode.constants.ERROR_CORRECT_M,
            "Q": qrcode.constants.ERROR_CORRECT_Q,
            "H": qrcode.constants.ERROR_CORRECT_H,
        }
        if self.model == 1:
            raise EscposError("QR model 1 at byte %d: python3-qrcode draws model 2 only"
                              % self.offset, self.offset)
        # Epson's default level (before any fn 169) is L.
        code = qrcode.QRCode(error_correction=levels[self.level or "L"],
                             box_size=max(self.module or 3, 3), border=4)
        code.add_data(self.data, optimize=0)
        code.make(fit=True)
        return code.make_image(fill_color="black", back_color="white").get_image()


class Raster:
    """A GS v 0 raster image; image is a PIL "1" image, black where the
    printer prints a dot, scaled by the command's double width/height."""

    def __init__(self, image, mode, width_bytes, rows, offset):
        self.image = image
        self.mode = mode
        self.width_bytes = width_bytes
        self.rows = rows
        self.offset = offset


class Slip:
    """What a stream prints, in order (events) and by kind."""

    def __init__(self):
        self.events = []   # (kind, object) in stream order
        self.lines = []
        self.qrs = []
        self.rasters = []
        self.cuts = []     # ("partial"|"full", feed units or None)
        self.status_requests = []

    @property
    def text_lines(self):
        return [line.text for line in self.lines]

    def last_qr(self):
        """The last QR code in the stream as ("native", Qr) or ("raster",
        Raster), or None."""
        for kind, obj in reversed(self.events):
            if kind in ("qr", "raster"):
                return ("native", obj) if kind == "qr" else ("raster", obj)
        return None


def _hex(b):
    return "0x%02x" % b


class _Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0
        self.slip = Slip()
        self.code_page = 0
        self.style = Style()
        self.text = bytearray()
        self.text_style = None
        self.text_offset = 0
        self.qr_model = None
        self.qr_module = None
        self.qr_level = None
        self.qr_data = None

    # -- helpers --------------------------------------------------------

    def take(self, n, name, start, what="parameters"):
        """The next n bytes of command name (which starts at start)."""
        left = len(self.data) - self.pos
        if n > left:
            raise EscposError("truncated %s at byte %d: needs %d bytes of %s, %d left"
                              % (name, start, n, what, left), start)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def event(self, kind, obj):
        self.slip.events.append((kind, obj))

    def style_change(self, name, value):
        setattr(self.style, name, value)
        self.event("style", (name, value))

    def end_line(self, terminated=True):
        style = self.text_style if self.text_style is not None else self.style.copy()
        offset = self.text_offset if self.text_style is not None else self.pos
        line = Line(bytes(self.text), self.code_page, style, offset, terminated)
        self.slip.lines.append(line)
        self.event("line", line)
        self.text = bytearray()
        self.text_style = None

    # -- commands -------------------------------------------------------

    def esc(self, start):
        name = "ESC"
        (c,) = self.take(1, name, start, "command")
        if c == ord("@"):
            self.code_page = 0
            self.style = Style()
            self.event("init", None)
        elif c == ord("t"):
            (n,) = self.take(1, "ESC t", start)
            if n not in CODE_PAGES:
                raise EscposError("unknown code page ESC t %d at byte %d" % (n, start), start)
            self.code_page = n
            self.event("code_page", n)
        elif c == ord("E"):
            (n,) = self.take(1, "ESC E", start)
            self.style_change("bold", bool(n & 1))
        elif c == ord("-"):
            (n,) = self.take(1, "ESC -", start)
            self.style_change("underline", n & 3 if n < 48 else n - 48)
        elif c == ord("!"):
            (n,) = self.take(1, "ESC !", start)
            self.style_change("font", n & 1)
            self.style_change("bold", bool(n & 0x08))
            self.style_change("height", 2 if n & 0x10 else 1)
            self.style_change("width", 2 if n & 0x20 else 1)
        elif c == ord("a"):
            (n,) = self.take(1, "ESC a", start)
            aligns = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center",
                      50: "right"}
            if n not in aligns:
                raise EscposError("bad ESC a %d at byte %d" % (n, start), start)
            self.style_change("align", aligns[n])
        elif c == ord("M"):
            (n,) = self.take(1, "ESC M", start)
            self.style_change("font", n & 1 if n < 48 else n - 48)
        elif c in (ord("d"), ord("J")):
            (n,) = self.take(1, "ESC " + chr(c), start)
            if self.text:
                self.end_line()
            self.event("feed", ("lines" if c == ord("d") else "dots", n))
        elif c == ord("2"):
            self.event("line_spacing", None)
        elif c == ord("3"):
            (n,) = self.take(1, "ESC 3", start)
            self.event("line_spacing", n)
        else:
            raise EscposError("unknown command ESC %s at byte %d" % (_hex(c), start), start)

    def gs(self, start):
        (c,) = self.take(1, "GS", start, "command")
        if c == ord("!"):
            (n,) = self.take(1, "GS !", start)
            self.style_change("width", (n >> 4) + 1)
            self.style_change("height", (n & 0x0F) + 1)
        elif c == ord("V"):
            self.cut(start)
        elif c == ord("v"):
            self.raster(start)
        elif c == ord("("):
            (k,) = self.take(1, "GS (", start, "command")
            if k != ord("k"):
                raise EscposError("unknown command GS ( %s at byte %d" % (_hex(k), start),
                                  start)
            self.symbol(start)
        else:
            raise EscposError("unknown command GS %s at byte %d" % (_hex(c), start), start)

    def cut(self, start):
        (m,) = self.take(1, "GS V", start)
        if m in (0, 48):
            kind, feed = "full", None
        elif m in (1, 49):
            kind, feed = "partial", None
        elif m in (65, 66):
            (feed,) = self.take(1, "GS V %d" % m, start)
            kind = "full" if m == 65 else "partial"
        else:
            raise EscposError("unknown cut GS V %d at byte %d" % (m, start), start)
        if self.text:
            self.end_line(terminated=False)
        self.slip.cuts.append((kind, feed))
        self.event("cut", (kind, feed))

    def raster(self, start):
        from PIL import Image

        name = "GS v 0"
        (zero,) = self.take(1, name, start, "command")
        if zero != ord("0"):
            raise EscposError("unknown command GS v %s at byte %d" % (_hex(zero), start), start)
        m, xl, xh, yl, yh = self.take(5, name, start)
        if m not in (0, 1, 2, 3, 48, 49, 50, 51):
            raise EscposError("bad GS v 0 mode %d at byte %d" % (m, start), start)
        x = xl + xh * 256
        y = yl + yh * 256
        if x == 0 or y == 0:
            raise EscposError("empty GS v 0 image (%d x %d) at byte %d" % (x, y, start), start)
        data = self.take(x * y, name, start, "image data")
        # PIL's "1" mode: a set bit is white; ESC/POS: a set bit is a dot.
        image = Image.frombytes("1", (x * 8, y), bytes(b ^ 0xFF for b in data))
        m &= 3
        scale_w = 2 if m & 1 else 1
        scale_h = 2 if m & 2 else 1
        if scale_w != 1 or scale_h != 1:
            image = image.resize((x * 8 * scale_w, y * scale_h), Image.NEAREST)
        raster = Raster(image, m, x, y, start)
        self.slip.rasters.append(raster)
        self.event("raster", raster)

    def symbol(self, start):
        name = "GS ( k"
        pl, ph = self.take(2, name, start)
        n = pl + ph * 256
        if n < 2:
            raise EscposError("bad GS ( k length %d at byte %d" % (n, start), start)
        body = self.take(n, name, start, "data")
        cn, fn, params = body[0], body[1], body[2:]
        if cn != 49:
            raise EscposError("unknown GS ( k symbol cn %d at byte %d (49 is QR Code)"
                              % (cn, start), start)
        fixed = {65: 2, 67: 1, 69: 1, 81: 1, 82: 1}
        if fn in fixed and len(params) != fixed[fn]:
            raise EscposError("bad GS ( k QR function %d: %d parameter bytes at byte %d"
                              % (fn + 100, len(params), start), start)
        if fn == 65:
            if params[0] not in (49, 50, 51):
                raise EscposError("bad QR model %d at byte %d" % (params[0], start), start)
            self.qr_model = params[0] - 48
        elif fn == 67:
            if not 1 <= params[0] <= 16:
                raise EscposError("bad QR module size %d at byte %d" % (params[0], start),
                                  start)
            self.qr_module = params[0]
        elif fn == 69:
            if params[0] not in QR_LEVELS:
                raise EscposError("bad QR error correction %d at byte %d" % (params[0], start),
                                  start)
            self.qr_level = QR_LEVELS[params[0]]
        elif fn == 80:
            if len(params) < 2 or params[0] != 48:
                raise EscposError("bad QR store data at byte %d" % start, start)
            self.qr_data = bytes(params[1:])
        elif fn == 81:
            if self.qr_data is None:
                raise EscposError("QR print with no stored data at byte %d" % start, start)
            qr = Qr(self.qr_data, self.qr_model, self.qr_module, self.qr_level, start)
            self.slip.qrs.append(qr)
            self.event("qr", qr)
        elif fn == 82:
            self.event("qr_size_request", None)
        else:
            raise EscposError("unknown GS ( k QR function %d (fn %d) at byte %d"
                              % (fn + 100, fn, start), start)
        self.event("qr_fn", fn)

    def dle(self, start):
        (c,) = self.take(1, "DLE", start, "command")
        if c != 0x04:
            raise EscposError("unknown command DLE %s at byte %d" % (_hex(c), start), start)
        (n,) = self.take(1, "DLE EOT", start)
        if n not in (1, 2, 3, 4):
            raise EscposError("bad DLE EOT %d at byte %d" % (n, start), start)
        self.slip.status_requests.append(n)
        self.event("status_request", n)

    def run(self):
        while self.pos < len(self.data):
            start = self.pos
            b = self.data[self.pos]
            self.pos += 1
            if b == LF:
                self.end_line()
            elif b == CR:
                continue
            elif b == ESC:
                self.esc(start)
            elif b == GS:
                self.gs(start)
            elif b == DLE:
                self.dle(start)
            elif b < 0x20 or b == 0x7F:
                raise EscposError("unknown control byte %s at byte %d" % (_hex(b), start),
                                  start)
            else:
                if self.text_style is None:
                    self.text_style = self.style.copy()
                    self.text_offset = start
                self.text.append(b)
        if self.text:
            self.end_line(terminated=False)
        return self.slip


def parse(data):
    """Parse an ESC/POS byte stream into a Slip; raises EscposError."""
    return _Reader(data).run()


def write_qr_png(slip, path):
    """Write the slip's last QR code to path as a PNG; False when it has
    none."""
    found = slip.last_qr()
    if found is None:
        return False
    kind, obj = found
    image = obj.image() if kind == "native" else obj.image
    image.save(path, "PNG")
    return True


def summary(slip):
    parts = ["%d text lines" % len(slip.lines)]
    for kind, obj in slip.events:
        if kind == "qr":
            parts.append("native QR of %d bytes" % len(obj.data))
        elif kind == "raster":
            parts.append("raster %dx%d" % (obj.image.width, obj.image.height))
        elif kind == "cut":
            parts.append("%s cut" % obj[0])
    return ", ".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Read an ESC/POS stream back.")
    ap.add_argument("file", help="the ESC/POS bytes, or - for stdin")
    ap.add_argument("--text", action="store_true", help="print the text lines")
    ap.add_argument("--qr-png", metavar="OUT.png", help="write the slip's QR code as a PNG")
    args = ap.parse_args(argv)
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as f:
                data = f.read()
    except OSError as e:
        print("escpos_reader: cannot read %s: %s" % (args.file, e.strerror), file=sys.stderr)
        return 2
    try:
        slip = parse(data)
        if args.qr_png is not None and not write_qr_png(slip, args.qr_png):
            print("escpos_reader: %s: no QR code" % args.file, file=sys.stderr)
            return 1
    except EscposError as e:
        print("escpos_reader: %s: %s" % (args.file, e), file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    if args.text:
        for line in slip.lines:
            out.write(line.text.encode("utf-8") + b"\n")
    elif args.qr_png is None:
        out.write(summary(slip).encode("utf-8") + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
