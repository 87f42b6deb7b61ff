"""The receipt signing key pair on the real programs: keygen never replaces
a key, keygen --if-missing makes a pair only when there is none and checks
the one there, pubkey prints the key or its fingerprint, and the daemon
logs the fingerprint it signs with and warns of a public key that is not
its pair, and refuses to start without its signing key before it makes a
database.  Fingerprints are worked out here with hashlib from the public
key file, not by the programs under test."""

import base64
import hashlib
import os
import subprocess
import unittest

from kiosk import DAEMON, Kiosk, Site

LABEL = "dropkiosk-receipt-public-v1 "


def public_key_bytes(path):
    with open(path, encoding="ascii") as f:
        line = f.read()
    assert line.startswith(LABEL) and line.endswith("\n"), line
    return base64.b64decode(line[len(LABEL):-1], validate=True)


def fingerprint(path):
    digest = hashlib.sha256(public_key_bytes(path)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def snapshot(*paths):
    """Each file's bytes and modification time, or None when it is not there."""
    out = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                out.append((f.read(), os.stat(p).st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return out


class KeyFilesTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()  # makes a pair with plain keygen
        self.sk = os.path.join(self.site.dir, "receipt.key")
        self.pk = os.path.join(self.site.dir, "receipt.pub")

    def tearDown(self):
        self.site.cleanup()

    def remove_keys(self):
        os.unlink(self.sk)
        os.unlink(self.pk)

    def other_pair(self):
        """A second pair's files, made by keygen in a folder of their own."""
        other = Site()
        self.addCleanup(other.cleanup)
        return (os.path.join(other.dir, "receipt.key"), os.path.join(other.dir, "receipt.pub"))

    def new_pair_said(self):
        """What keygen prints when it has made the pair."""
        return ("signing key: %s (keep it secret)\n"
                "public key:  %s\n"
                "public key fingerprint: %s\n"
                "publish the public key (dropkioskctl pubkey prints it) so that "
                "receipts can be checked\n" % (self.sk, self.pk, fingerprint(self.pk)))

    def test_keygen_shows_the_new_keys_fingerprint(self):
        self.remove_keys()
        proc = self.site.ctl("keygen")
        self.assertEqual(proc.stdout.decode(),
                         self.new_pair_said())
        self.assertEqual(os.stat(self.sk).st_mode & 0o7777, 0o600)
        self.assertEqual(os.stat(self.pk).st_mode & 0o7777, 0o644)

    def test_keygen_refuses_to_overwrite_the_signing_key(self):
        before = snapshot(self.sk, self.pk)
        proc = self.site.ctl("keygen", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: refusing to overwrite %s: it already exists\n" % self.sk)
        self.assertEqual(snapshot(self.sk, self.pk), before)

    def test_if_missing_makes_both_keys_when_neither_is_there(self):
        self.remove_keys()
        proc = self.site.ctl("keygen", "--if-missing")
        self.assertEqual(proc.stdout.decode(),
                         self.new_pair_said())
        self.assertEqual(proc.stderr, b"")
        self.assertEqual(os.stat(self.sk).st_mode & 0o7777, 0o600)
        self.assertEqual(os.stat(self.pk).st_mode & 0o7777, 0o644)

    def test_if_missing_keeps_the_pair_there_and_shows_its_fingerprint(self):
        before = snapshot(self.sk, self.pk)
        proc = self.site.ctl("keygen", "--if-missing")
        self.assertEqual(proc.stdout.decode(),
                         "receipt signing key: %s (already there)\n"
                         "public key fingerprint: %s\n" % (self.sk, fingerprint(self.pk)))
        self.assertEqual(proc.stderr, b"")
        self.assertEqual(snapshot(self.sk, self.pk), before)
        self.assertEqual(sorted(os.listdir(self.site.dir)),
                         ["dropkiosk.conf", "receipt.key", "receipt.pub"])

    def assert_if_missing_refuses(self, message):
        """keygen --if-missing exits 2 with message and changes no file."""
        before = snapshot(self.sk, self.pk)
        proc = self.site.ctl("keygen", "--if-missing", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(proc.stderr.decode(), "dropkioskctl: " + message + "\n")
        self.assertEqual(snapshot(self.sk, self.pk), before)

    def test_if_missing_refuses_a_signing_key_without_its_public_key(self):
        os.unlink(self.pk)
        self.assert_if_missing_refuses(
            "receipt signing key %s is there but its public key %s is not: restore the "
            "public key from a backup (keygen never replaces a key)" % (self.sk, self.pk))

    def test_if_missing_refuses_a_public_key_without_its_signing_key(self):
        os.unlink(self.sk)
        self.assert_if_missing_refuses(
            "public key %s is there without its signing key %s: move the public key away "
            "(it still checks the receipts it signed) before making a new pair"
            % (self.pk, self.sk))

    def test_if_missing_refuses_a_public_key_of_another_pair(self):
        _, other_pk = self.other_pair()
        with open(other_pk, "rb") as src, open(self.pk, "wb") as dst:
            dst.write(src.read())
        self.assert_if_missing_refuses(
            "public key %s does not match the signing key %s: receipts signed with it would "
            "not verify with that public key" % (self.pk, self.sk))

    def test_pubkey_prints_the_base64_key_line_alone(self):
        proc = self.site.ctl("pubkey")
        key = base64.b64encode(public_key_bytes(self.pk)).decode()
        self.assertEqual(proc.stdout.decode(), key + "\n")
        self.assertEqual(proc.stderr, b"")

    def test_pubkey_fingerprint_prints_the_fingerprint_alone(self):
        proc = self.site.ctl("pubkey", "--fingerprint")
        self.assertEqual(proc.stdout.decode(), "%s\n" % fingerprint(self.pk))
        self.assertEqual(proc.stderr, b"")

    def test_options_are_refused_on_the_other_verb(self):
        for args, message in ((["pubkey", "--if-missing"], "pubkey does not take --if-missing"),
                              (["keygen", "--fingerprint"], "keygen does not take --fingerprint")):
            proc = self.site.ctl(*args, check=False)
            self.assertEqual(proc.returncode, 2, args)
            self.assertEqual(proc.stderr.decode(),
                             "dropkioskctl: %s (see dropkioskctl --help)\n" % message)

    def test_help_names_the_new_options(self):
        proc = self.site.ctl("--help")
        self.assertIn("keygen [--if-missing]", proc.stdout.decode())
        self.assertIn("pubkey [--fingerprint]", proc.stdout.decode())


class DaemonKeyLogTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.sk = os.path.join(self.site.dir, "receipt.key")
        self.pk = os.path.join(self.site.dir, "receipt.pub")
        self.kiosk = None

    def tearDown(self):
        if self.kiosk is not None:
            self.kiosk.stop()
        self.site.cleanup()

    def fingerprint_line(self):
        return ("dropkiosk info: receipt signing key fingerprint %s (publish the public key "
                "with dropkioskctl pubkey)\n" % fingerprint(self.pk))

    def test_daemon_logs_the_signing_keys_fingerprint(self):
        self.kiosk = Kiosk(self.site)
        log = self.kiosk.log()
        self.assertIn(self.fingerprint_line(), log)
        self.assertNotIn("warning", log)

    def test_daemon_warns_of_a_public_key_of_another_pair(self):
        expected = self.fingerprint_line()
        other = Site()
        self.addCleanup(other.cleanup)
        with open(os.path.join(other.dir, "receipt.pub"), "rb") as src, \
                open(self.pk, "wb") as dst:
            dst.write(src.read())
        self.kiosk = Kiosk(self.site)
        log = self.kiosk.log()
        self.assertIn(expected, log)
        self.assertIn("dropkiosk warning: public key %s does not match the signing key %s: "
                      "receipts signed with it would not verify with that public key\n"
                      % (self.pk, self.sk), log)

    def test_daemon_without_a_public_key_file_logs_the_fingerprint_only(self):
        expected = self.fingerprint_line()
        os.unlink(self.pk)
        self.kiosk = Kiosk(self.site)
        log = self.kiosk.log()
        self.assertIn(expected, log)
        self.assertNotIn("warning", log)

    def test_daemon_without_a_signing_key_exits_2_and_makes_no_database(self):
        """Exit 2 is a start refused for the config's sake: it must leave
        the site as it found it, with no database made on the way."""
        os.unlink(self.sk)
        self.site.add_scanner("keyboard")
        proc = subprocess.run([DAEMON, "-c", self.site.config], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: cannot open key file %s: No such file or directory\n"
                         % self.sk)
        self.assertEqual(proc.stdout, b"")
        self.assertFalse(os.path.exists(self.site.db))
        self.assertEqual(sorted(os.listdir(self.site.dir)),
                         ["dropkiosk.conf", "receipt.pub"])


if __name__ == "__main__":
    unittest.main()
