"""Bad input gets a clear message naming what and where, and changes
nothing: a malformed CSV, a garbage scan, a broken config."""

import os
import sqlite3
import subprocess
import unittest

from kiosk import CTL, DAEMON, FIXTURES, Kiosk, Site


def counts(site):
    return {t: site.query("SELECT count(*) FROM %s" % t)[0][0]
            for t in ("assets", "staff", "returns", "receipts", "outbox", "audit")}


class BadCsvTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))

    def tearDown(self):
        self.site.cleanup()

    def test_unclosed_quote_names_file_and_line_and_imports_nothing(self):
        before = counts(self.site)
        path = os.path.join(FIXTURES, "unclosed-quote.csv")
        proc = self.site.ctl("import", "assets", path, check=False)
        self.assertEqual(proc.returncode, 2)
        err = proc.stderr.decode()
        self.assertTrue(err.startswith("dropkioskctl: %s:2: " % path), err)
        self.assertIn("quote", err)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(counts(self.site), before)

    def test_bad_row_after_good_rows_imports_nothing(self):
        before = counts(self.site)
        path = os.path.join(self.site.dir, "bad-imei.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("Asset Tag,Serial,IMEI,Type,Model\n"
                    "108001,S1,,laptop,Latitude 5420\n"
                    "108002,S2,490154203237519,phone,Galaxy A54\n")
        proc = self.site.ctl("import", "assets", path, check=False)
        self.assertEqual(proc.returncode, 2)
        err = proc.stderr.decode()
        self.assertTrue(err.startswith("dropkioskctl: %s:3: column 'IMEI'" % path), err)
        self.assertEqual(counts(self.site), before)
        self.assertEqual(self.site.query("SELECT count(*) FROM assets WHERE tag = '108001'"),
                         [(0,)])

    def test_refused_staff_import_leaves_the_database_as_it_was(self):
        """An address the mailer would refuse, and a name with a right-to-left
        override: each file is refused naming file, line and column, and the
        database dump is the same after as before, even for the good line
        before the bad one (an update of a known person)."""
        header = "Staff ID,Name,Email,School/Department,Leader Email\n"
        known = ("S100001,María José Peña,maria.pena@example.org,Lakeside Elementary,"
                 "lead.finance@example.org\n")
        cases = [
            ("S100901,Léa Martin,lea.martin@example.org,Lakeside Elementary,"
             "léad@example.org\n",
             "column 'Leader Email': léad@example.org is not an address the mailer can send "
             "to (plain ASCII only)"),
            ("S100902,Ann\u202eLee,ann.lee@example.org,Lakeside Elementary,\n",
             "column 'Name': value holds a bidirectional text control (U+202E)"),
        ]
        for bad, message in cases:
            before = dump(self.site)
            path = os.path.join(self.site.dir, "staff-refused.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(header + known + bad)
            proc = self.site.ctl("import", "staff", path, check=False)
            self.assertEqual(proc.returncode, 2, message)
            self.assertEqual(proc.stderr.decode(), "dropkioskctl: %s:3: %s\n" % (path, message))
            self.assertEqual(proc.stdout, b"")
            self.assertEqual(dump(self.site), before)
        self.assertEqual(self.site.query("SELECT department FROM staff WHERE id = 'S100001'"),
                         [("Bolling Building - Finance",)])

    def test_missing_file_is_a_clear_error(self):
        proc = self.site.ctl("import", "assets", "/nonexistent/assets.csv", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("/nonexistent/assets.csv", proc.stderr.decode())


class BadCommandLineTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()

    def tearDown(self):
        self.site.cleanup()

    def test_checks_on_a_mistyped_database_create_nothing(self):
        typo = os.path.join(self.site.dir, "typo.db")
        for verb in (["audit", "verify"], ["outbox"], ["outbox", "send"]):
            proc = self.site.ctl("--db", typo, *verb, check=False)
            self.assertEqual(proc.returncode, 2, verb)
            self.assertEqual(proc.stderr.decode(),
                             "dropkioskctl: database %s does not exist: No such file or "
                             "directory\n" % typo)
        self.assertFalse(os.path.exists(typo))

    def test_verify_of_a_missing_file_is_bad_input(self):
        proc = self.site.ctl("verify", "/nonexistent/receipt.png", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("/nonexistent/receipt.png", proc.stderr.decode())

    def test_verify_reads_stdin_once(self):
        proc = self.site.ctl("verify", "-", "-", stdin=b"x", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("verify reads standard input (-) once", proc.stderr.decode())

    def test_verify_refuses_oversized_stdin(self):
        proc = self.site.ctl("verify", "-", stdin=b"A" * 20000, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("more than a receipt payload", proc.stderr.decode())

    def test_decode_needs_no_config(self):
        path = os.path.join(self.site.dir, "not-an-image.png")
        with open(path, "wb") as f:
            f.write(b"plain text, not a picture\n")
        env = dict(os.environ, DROPKIOSK_CONFIG="/nonexistent/dropkiosk.conf")
        proc = subprocess.run([CTL, "decode", path], capture_output=True, env=env, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(path, proc.stderr.decode())
        self.assertNotIn("config", proc.stderr.decode())

    def test_extra_arguments_are_refused(self):
        proc = self.site.ctl("pubkey", "extra", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("pubkey takes no arguments", proc.stderr.decode())


def dump(site):
    """The whole database as SQL text, as sqlite3 .dump prints it."""
    con = sqlite3.connect(site.db, timeout=10)
    try:
        return list(con.iterdump())
    finally:
        con.close()


class OptionNotTakenTest(unittest.TestCase):
    """An option a verb does not take is refused by name before the verb
    does anything; it is never silently dropped."""

    PIN = b"4821\n"

    def setUp(self):
        self.site = Site()
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7", "--pin-stdin",
                      stdin=self.PIN)

    def tearDown(self):
        self.site.cleanup()

    def refused(self, args, message):
        before = dump(self.site)
        with open(os.path.join(self.site.dir, "receipt.pub"), "rb") as f:
            key = f.read()
        proc = self.site.ctl(*args, stdin=self.PIN, check=False)
        self.assertEqual(proc.returncode, 2, (args, proc.stderr))
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: %s (see dropkioskctl --help)\n" % message, args)
        self.assertEqual(proc.stdout, b"", args)
        self.assertEqual(dump(self.site), before, args)
        with open(os.path.join(self.site.dir, "receipt.pub"), "rb") as f:
            self.assertEqual(f.read(), key, args)

    def test_discrepancies_refuses_from(self):
        self.refused(["discrepancies", "--from", "2024-01-01"],
                     "discrepancies does not take --from")

    def test_tech_list_refuses_level(self):
        self.refused(["tech", "list", "--level", "purge"], "tech list does not take --level")

    def test_receive_refuses_level_before_the_login(self):
        self.refused(["receive", "104233", "--tech", "B-7", "--charger", "present",
                      "--level", "purge", "--pin-stdin"], "receive does not take --level")

    def test_audit_verify_refuses_level(self):
        self.refused(["audit", "verify", "--level", "x"], "audit verify does not take --level")

    def test_outbox_refuses_level(self):
        self.refused(["outbox", "--level", "x"], "outbox list does not take --level")
        self.refused(["outbox", "send", "--csv"], "outbox send does not take --csv")

    def test_each_verb_names_the_option_it_does_not_take(self):
        assets = os.path.join(FIXTURES, "assets.csv")
        cases = [
            (["keygen", "--csv"], "keygen does not take --csv"),
            (["pubkey", "--to", "S100003"], "pubkey does not take --to"),
            (["import", "assets", assets, "--csv"], "import does not take --csv"),
            (["verify", "-", "--out", "x.txt"], "verify does not take --out"),
            (["tech", "add", "--name", "Sam", "--badge", "B-2", "--level", "purge",
              "--pin-stdin"], "tech add does not take --level"),
            (["tech", "disable", "T0001", "--note", "left"], "tech disable does not take --note"),
            (["cleanout", "--school", "Lakeside", "--tech", "B-7", "--note", "x",
              "--pin-stdin", "104233"], "cleanout does not take --note"),
            (["discrepancies", "--map", "Tag=asset_tag"], "discrepancies does not take --map"),
            (["report", "returns", "--days", "3"], "report does not take --days"),
        ]
        for args, message in cases:
            self.refused(args, message)

    def test_decode_refuses_level(self):
        path = os.path.join(self.site.dir, "none.png")
        proc = self.site.ctl("decode", path, "--level", "x", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: decode does not take --level (see dropkioskctl "
                         "--help)\n")

    def test_options_a_verb_takes_still_work(self):
        self.assertEqual(self.site.ctl("discrepancies", "--days", "3", "--csv").returncode, 0)
        self.assertEqual(self.site.ctl("tech", "list", "--csv").returncode, 0)
        self.assertEqual(self.site.ctl("outbox", "list", "--csv").returncode, 0)


class BadScanTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()

    def test_4k_of_garbage_is_refused_and_changes_nothing(self):
        before = counts(self.site)
        garbage = bytes((i * 37 + 11) % 94 + 33 for i in range(4096))
        # A pty's input queue holds about 4 KiB: send it in pieces, as a
        # scanner would.
        for i in range(0, len(garbage), 512):
            os.write(self.kiosk.master, garbage[i:i + 512])
        self.kiosk.scan(b"")
        self.kiosk.expect("Scan not accepted: too long to be a barcode we use. "
                          "Nothing was changed.")
        self.kiosk.scan("104233")
        self.kiosk.expect("Is the charger in the bag\\?")
        self.kiosk.type("CANCEL")
        self.kiosk.expect("Asset 104233 removed from this visit.")
        self.assertEqual(counts(self.site), before)

    def test_control_characters_are_refused(self):
        self.kiosk.scan(b"10\x014233")
        self.kiosk.expect("Scan not accepted: scan holds unreadable control characters or "
                          "bytes that are not text. Nothing was changed.")

    def test_unknown_text_is_not_a_return(self):
        before = counts(self.site)
        self.kiosk.scan("ZZ-NOT-A-TAG")
        self.kiosk.expect('Not recognised: "ZZ-NOT-A-TAG" is not an asset tag, serial number '
                          "or IMEI we know.")
        self.kiosk.type("DONE")
        self.kiosk.expect("Nothing scanned yet.")
        self.assertEqual(counts(self.site), before)


class BadConfigTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()

    def tearDown(self):
        self.site.cleanup()

    def write(self, text):
        path = os.path.join(self.site.dir, "broken.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_unknown_key_stops_both_programs_naming_file_line_key(self):
        path = self.write("[kiosk]\ndatabase = k.db\ncolour = blue\n[scanner t]\ntype = stdin\n")
        for prog, prefix in ((DAEMON, "dropkiosk error: "), (CTL, "dropkioskctl: ")):
            args = [prog, "-c", path] + (["audit", "verify"] if prog == CTL else [])
            proc = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL,
                                  timeout=30)
            self.assertEqual(proc.returncode, 2, prog)
            self.assertEqual(proc.stderr.decode(),
                             "%s%s:3: unknown key 'colour' in [kiosk]\n" % (prefix, path))
        self.assertFalse(os.path.exists(os.path.join(self.site.dir, "k.db")))

    def test_check_config_accepts_a_good_file(self):
        self.site.add_scanner("terminal")
        proc = subprocess.run([DAEMON, "-c", self.site.config, "--check-config"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stdout.decode(), "%s: configuration is valid\n" % self.site.config)

    def test_reference_config_is_valid(self):
        path = os.path.join(os.path.dirname(CTL), "..", "firmware", "dropkiosk.conf")
        proc = subprocess.run([DAEMON, "-c", path, "--check-config"], capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())

    def test_bad_regular_expression_is_named(self):
        path = self.write("[scan]\nasset_pattern = ^[0-9\n[scanner t]\ntype = stdin\n")
        proc = subprocess.run([DAEMON, "-c", path, "--check-config"], capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("[scan] asset_pattern '^[0-9'", proc.stderr.decode())

    def test_broken_catalog_stops_the_check_naming_file_line_column(self):
        catalogs = os.path.join(self.site.dir, "i18n")
        os.mkdir(catalogs)
        shipped = os.path.join(os.path.dirname(CTL), "..", "kiosk-ui", "i18n")
        for name in ("en.json", "es.json"):
            with open(os.path.join(shipped, name), "rb") as f:
                data = f.read()
            if name == "es.json":
                # Cut off inside its second line's text, after "Español".
                data = data[:data.index(b"\n", data.index(b"\n") + 1) - 2]
            with open(os.path.join(catalogs, name), "wb") as f:
                f.write(data)
        path = self.write("[kiosk]\ncatalogs = i18n\n[scanner t]\ntype = stdin\n")
        proc = subprocess.run([DAEMON, "-c", path, "--check-config"], capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkiosk error: message catalog %s/es.json:2:29: "
                         "premature end of input near '\"Español'\n" % catalogs)

    def assert_refused(self, text, line, what):
        """Both --check-config and a start refuse the config text with
        "dropkiosk error: PATH:LINE: WHAT", exit 2, and make no database."""
        path = self.write(text)
        for extra in (["--check-config"], []):
            proc = subprocess.run([DAEMON, "-c", path] + extra, capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=30)
            self.assertEqual(proc.returncode, 2, extra)
            self.assertEqual(proc.stderr.decode(),
                             "dropkiosk error: %s:%d: %s\n" % (path, line, what))
            self.assertEqual(proc.stdout, b"")
        self.assertFalse(os.path.exists(os.path.join(self.site.dir, "k.db")))

    def test_unsupported_serial_speed_is_named_with_the_speeds_there_are(self):
        self.assert_refused("[kiosk]\ndatabase = k.db\n[scanner serial]\ntype = serial\n"
                            "device = /dev/dropkiosk/scanner-serial\nspeed = 9601\n", 6,
                            "bad value '9601' for speed: a serial scanner runs at 1200, 2400, "
                            "4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800 or 921600 "
                            "baud")

    def test_bad_cups_queue_name_is_named(self):
        self.assert_refused("[kiosk]\ndatabase = k.db\n[printer desk]\ntype = cups\n"
                            "queue = Front Desk\n[scanner t]\ntype = stdin\n", 5,
                            "bad value 'Front Desk' for queue: a CUPS queue name has 1 to 127 "
                            "characters, none of them a space, /, \\, ?, ', \", # or @")

    def test_empty_database_is_named(self):
        self.assert_refused("[kiosk]\ndatabase =\n[scanner t]\ntype = stdin\n", 2,
                            "empty value for database: give a path, or remove the line for the "
                            "default")

    def test_missing_ui_folder_is_named(self):
        self.assert_refused("[kiosk]\ndatabase = k.db\n[http]\nport = 18080\nui = nowhere\n"
                            "[scanner t]\ntype = stdin\n", 5,
                            "cannot open [http] ui folder %s/nowhere: No such file or directory"
                            % self.site.dir)

    def test_unreadable_certificate_and_key_are_named(self):
        cert = os.path.join(self.site.dir, "kiosk.crt")
        with open(cert, "w", encoding="ascii") as f:
            f.write("-----BEGIN CERTIFICATE-----\n")
        self.assert_refused("[kiosk]\ndatabase = k.db\n[http]\nport = 18080\n"
                            "certificate = gone.crt\nkey = kiosk.key\n[scanner t]\ntype = stdin\n",
                            5, "cannot read [http] certificate %s/gone.crt: No such file or "
                            "directory" % self.site.dir)
        self.assert_refused("[kiosk]\ndatabase = k.db\n[http]\nport = 18080\n"
                            "certificate = kiosk.crt\nkey = .\n[scanner t]\ntype = stdin\n",
                            6, "cannot read [http] key %s/.: not a regular file" % self.site.dir)

    def test_section_header_without_bracket_is_named_at_its_line(self):
        # Not "unknown key 'overdue_days' in [mail]" at line 6.
        self.assert_refused("[kiosk]\ndatabase = k.db\n[mail]\nfrom = k@example.org\n[intake\n"
                            "overdue_days = 7\n[scanner t]\ntype = stdin\n", 5,
                            "section header without ']'")

    def test_nul_byte_is_named_at_its_line(self):
        # Else "kiosk = kio\0sk-1" would silently be kiosk "kio".
        self.assert_refused("[kiosk]\ndatabase = k.db\nkiosk = kio\0sk-1\n[scanner t]\n"
                            "type = stdin\n", 3, "NUL byte in the line: the config must be text")

    def test_check_config_does_not_need_the_receipt_key(self):
        """The package's first start makes the key after the config is
        checked."""
        os.unlink(os.path.join(self.site.dir, "receipt.key"))
        os.unlink(os.path.join(self.site.dir, "receipt.pub"))
        self.site.add_scanner("terminal")
        proc = subprocess.run([DAEMON, "-c", self.site.config, "--check-config"],
                              capture_output=True, timeout=30)
        self.assertEqual((proc.returncode, proc.stderr), (0, b""))
        self.assertEqual(proc.stdout.decode(), "%s: configuration is valid\n" % self.site.config)

    def test_no_scanner_is_refused(self):
        path = self.write("[kiosk]\ndatabase = k.db\n")
        proc = subprocess.run([DAEMON, "-c", path], capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no [scanner NAME] section", proc.stderr.decode())


if __name__ == "__main__":
    unittest.main()
