"""The photo corpus (../shared/testdata/barcode-photos/ from the project's
root, read only) through `dropkioskctl decode`, with Debian's zbarimg as
the reference: we read at least every image zbarimg reads, every text we
return is exactly the one in NAME.txt, and we read nothing at all in
falsepositives-1/.

Our text is compared as UTF-8: `decode` prints every symbol's text as UTF-8
(Code 128 FNC4 characters are ISO 8859-1 in the symbol, so code128-1/6's
0xf3 is printed as U+00F3, as its 6.txt holds it).  zbarimg counts as
reading an image only when its text is the expected one: it drops FNC4
and returns "ssss1234ssabszz" for code128-1/6, which is a misread."""

import csv
import io
import os
import shutil
import subprocess
import tempfile
import unittest

from kiosk import CTL, ROOT

CORPUS = os.path.join(ROOT, "..", "shared", "testdata", "barcode-photos")
NO_BARCODE = "falsepositives-1"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def images_in(folder):
    return sorted(name for name in os.listdir(folder)
                  if name.lower().endswith(IMAGE_EXTENSIONS))


def expected_text(folder, name):
    """NAME.txt's text, or None when the image has none."""
    path = os.path.join(folder, os.path.splitext(name)[0] + ".txt")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def ours(config, paths):
    """{path: [(symbology, text), ...]} from one `decode --csv` run."""
    proc = subprocess.run([CTL, "-c", config, "decode", "--csv"] + paths,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if proc.returncode not in (0, 1):
        raise AssertionError("decode exited %d: %s" % (proc.returncode, proc.stderr.decode()))
    rows = list(csv.reader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))
    if rows[0] != ["file", "symbology", "text"]:
        raise AssertionError("unexpected CSV header %r" % rows[0])
    found = {path: [] for path in paths}
    for path, symbology, text in rows[1:]:
        if symbology:
            found[path].append((symbology, text))
    return found, proc.returncode


def zbarimg(path):
    """zbarimg's texts for path, one string for all symbols (may be '')."""
    proc = subprocess.run(["zbarimg", "--raw", "-q", path], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, timeout=60)
    return proc.stdout.decode("utf-8", "replace")


@unittest.skipUnless(os.path.isdir(CORPUS), "photo corpus not found at %s" % CORPUS)
@unittest.skipUnless(shutil.which("zbarimg"), "zbarimg (Debian's zbar-tools) not installed")
class PhotoCorpusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dk-corpus-")
        # decode needs no database, but dropkioskctl reads a config first.
        cls.config = os.path.join(cls.tmp, "empty.conf")
        open(cls.config, "w").close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def folders(self):
        return sorted(name for name in os.listdir(CORPUS)
                      if os.path.isdir(os.path.join(CORPUS, name)))

    def check_folder(self, name):
        """Assert the rules for one folder; returns its summary line."""
        folder = os.path.join(CORPUS, name)
        paths = [os.path.join(folder, image) for image in images_in(folder)]
        found, status = ours(self.config, paths)
        read = reference = 0
        for path in paths:
            expected = expected_text(folder, os.path.basename(path))
            theirs = zbarimg(path)
            texts = [text for _, text in found[path]]
            if expected is None:
                self.assertEqual(found[path], [], "false positive in %s" % path)
                read += bool(texts)
                reference += theirs != ""
                continue
            they_read = theirs == expected + "\n"
            self.assertTrue(all(text == expected for text in texts),
                            "%s: we returned %r, expected %r" % (path, texts, expected))
            if they_read:
                self.assertTrue(texts, "%s: zbarimg reads it, we do not" % path)
            read += bool(texts)
            reference += they_read
        self.assertEqual(status, 0 if read == len(paths) else 1)
        if name == NO_BARCODE:
            return "%s: %d of %d with a false read (zbarimg %d)" % (
                name, read, len(paths), reference)
        return "%s: %d/%d (zbarimg %d/%d)" % (name, read, len(paths), reference, len(paths))

    def test_reads_what_zbarimg_reads_exactly_and_nothing_where_there_is_nothing(self):
        lines = []
        for name in self.folders():
            with self.subTest(folder=name):
                lines.append(self.check_folder(name))
        print()
        for line in lines:
            print("    " + line)


class DecodeVerbTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dk-decode-")
        self.config = os.path.join(self.tmp, "empty.conf")
        open(self.config, "w").close()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def decode(self, *paths):
        return subprocess.run([CTL, "-c", self.config, "decode"] + list(paths),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)

    def test_text_file_is_bad_input_naming_the_file(self):
        path = os.path.join(self.tmp, "notes.txt")
        with open(path, "w") as f:
            f.write("not an image\n")
        proc = self.decode(path)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: %s: not an image we read (expected PNG or JPEG)\n" % path)

    def test_missing_file_is_bad_input_naming_the_file(self):
        proc = self.decode("/nonexistent/label.png")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("/nonexistent/label.png", proc.stderr.decode())

    def test_no_file_is_bad_usage(self):
        proc = self.decode()
        self.assertEqual(proc.returncode, 2)
        self.assertIn("decode wants: decode FILE...", proc.stderr.decode())


if __name__ == "__main__":
    unittest.main()
