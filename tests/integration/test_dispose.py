"""Disposition on the real dropkioskctl: devices received by a technician
are proposed a fate by the site's [disposition] rules, then reimaged,
reassigned to the person who reserved the model, or recycled onto the
e-waste manifest, which closes into the CSV the vendor signs.  The audit
chain verifies afterwards.  Bad input changes nothing."""

import os
import sqlite3
import unittest

from kiosk import FIXTURES, Site

PIN = b"4821\n"

RULES = """
[disposition]
rule = condition is damaged, not_working -> recycle
rule = reserved -> reassign
rule = always -> reimage
"""


class DisposeFlowTest(unittest.TestCase):
    def setUp(self):
        # Rules that do not depend on the day the test runs (no ages).
        self.site = Site(extra=RULES)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        out = self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7",
                            "--pin-stdin", stdin=PIN)
        self.assertIn(b"T0001", out.stdout)
        self.config_lines = self.site.text.splitlines()

    def tearDown(self):
        self.site.cleanup()

    def line_of(self, rule):
        return self.config_lines.index("rule = " + rule) + 1

    def tech(self, *args, check=True):
        return self.site.ctl(*args, "--tech", "B-7", "--pin-stdin", stdin=PIN, check=check)

    def receive(self, tag, condition):
        self.tech("receive", tag, "--charger", "present", "--condition", condition)

    def state(self, tag):
        return self.site.query(
            "SELECT state, disposition FROM returns WHERE asset_tag = ? ORDER BY id DESC", tag)[0]

    def test_reimage_reassign_recycle_through_to_the_closed_manifest(self):
        site = self.site
        self.receive("104233", "good")      # laptop: reimage
        self.receive("104500", "worn")      # hotspot someone reserved: reassign
        self.receive("104400", "damaged")   # phone: recycle
        out = self.tech("reserve", "T10 Hotspot", "--to", "S100003")
        self.assertEqual(out.stdout, b"reservation 1: the next T10 Hotspot for S100003\n")

        # The proposals, each with the rule and its place in the config.
        out = site.ctl("dispose", "104233").stdout.decode()
        self.assertEqual(out,
                         "asset     104233  laptop  ProBook 450 G8\n"
                         "return    #1, condition good\n"
                         "proposal  reimage\n"
                         "rule      always -> reimage\n"
                         "from      %s:%d\n" % (site.config, self.line_of("always -> reimage")))
        out = site.ctl("dispose", "104500", "--csv").stdout.decode()
        self.assertEqual(out,
                         "asset_tag,return_id,proposal,rule,line,holder\n"
                         "104500,2,reassign,reserved -> reassign,%d,S100003\n"
                         % self.line_of("reserved -> reassign"))
        out = site.ctl("dispose", "104400", "--csv").stdout.decode()
        self.assertEqual(out,
                         "asset_tag,return_id,proposal,rule,line,holder\n"
                         "104400,3,recycle,\"condition is damaged, not_working -> recycle\",%d,\n"
                         % self.line_of("condition is damaged, not_working -> recycle"))

        # Reimage needs a wipe first.
        proc = self.tech("reimage", "104233", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: asset 104233 has no data wipe recorded: record it first "
                         "(dropkioskctl wipe 104233 --method M --tool T) before reimaging\n")
        self.assertEqual(self.state("104233"), ("received", None))
        self.tech("wipe", "104233", "--method", "Windows reset, remove everything",
                  "--tool", "Settings > Recovery")
        out = self.tech("reimage", "104233")
        self.assertTrue(out.stdout.startswith(b"104233: reimaged, back in stock"), out.stdout)
        self.assertEqual(self.state("104233"), ("dispositioned", "reimage"))
        self.assertEqual(site.query("SELECT status, assignee FROM assets WHERE tag = '104233'"),
                         [("stock", None)])

        # Reassign: the device changes hands and the reservation is met.
        self.tech("wipe", "104500", "--method", "factory reset", "--tool", "Franklin web admin")
        self.tech("reassign", "104500", "--to", "S100003")
        self.assertEqual(site.query("SELECT assignee, status FROM assets WHERE tag = '104500'"),
                         [("S100003", "deployed")])
        self.assertEqual(site.query("SELECT staff_id, fulfilled_by FROM reservations"),
                         [("S100003", 2)])
        self.assertEqual(
            site.query("SELECT new_holder, disposition_reason FROM returns WHERE id = 2"),
            [("S100003", "followed the proposal to reassign of rule 'reserved -> reassign' "
                         "(%s:%d)" % (site.config, self.line_of("reserved -> reassign")))])

        # Recycle opens a manifest; show lists it; close writes the CSV.
        out = self.tech("recycle", "104400", "--level", "destroy")
        self.assertTrue(out.stdout.startswith(
            b"104400: recycled (level destroy), on e-waste manifest 1"), out.stdout)
        shown = site.ctl("manifest").stdout.decode()
        self.assertIn("1 device\n", shown)
        self.assertIn("104400     R58N123ABC  phone  Samsung  Galaxy A54  destroy  T0001", shown)
        day = site.query("SELECT substr(added_at, 1, 10) FROM manifest_items")[0][0]
        path = os.path.join(site.dir, "manifest-1.csv")
        out = self.tech("manifest", "close", "--vendor", "GreenCycle, LLC",
                        "--certificate", "CD-2026-0415", "--out", path)
        self.assertEqual(out.stdout.decode(),
                         "e-waste manifest 1 closed (vendor GreenCycle, LLC, certificate "
                         "CD-2026-0415): %s\n" % path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(),
                             b"asset_tag,serial,type,make,model,level,technician,date\r\n"
                             b"104400,R58N123ABC,phone,Samsung,Galaxy A54,destroy,T0001,"
                             + day.encode() + b"\r\n")
        self.assertEqual(site.ctl("manifest").stdout,
                         b"no e-waste manifest is open (recycling a device opens one)\n")
        self.assertEqual(site.query("SELECT vendor, certificate FROM manifests WHERE "
                                    "closed_at IS NOT NULL"),
                         [("GreenCycle, LLC", "CD-2026-0415")])

        out = site.ctl("audit", "verify").stdout.decode()
        self.assertRegex(out, r"^OK: \d+ audit rows, chain intact\n$")
        actions = [a for (a,) in site.query(
            "SELECT action FROM audit WHERE actor = 'tech:T0001' AND action NOT LIKE 'tech %' "
            "AND action NOT LIKE '%received%' ORDER BY id")]
        self.assertEqual(actions, [
            "reservation added",
            "wipe recorded", "return dispositioned",
            "wipe recorded", "return dispositioned", "asset reassigned",
            "manifest opened", "return dispositioned", "manifest item added",
            "manifest closed"])

    def test_manifest_close_to_stdout(self):
        self.receive("104400", "damaged")
        self.tech("recycle", "104400", "--level", "purge")
        out = self.tech("manifest", "close", "--vendor", "GreenCycle", "--certificate", "7")
        self.assertTrue(out.stdout.startswith(
            b"asset_tag,serial,type,make,model,level,technician,date\r\n104400,R58N123ABC,"),
            out.stdout)


class DisposeBadInputTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7", "--pin-stdin",
                      stdin=PIN)
        self.site.ctl("receive", "104400", "--tech", "B-7", "--charger", "present",
                      "--condition", "damaged", "--pin-stdin", stdin=PIN)

    def tearDown(self):
        self.site.cleanup()

    def counts(self):
        return [self.site.query("SELECT count(*) FROM %s" % t)[0][0]
                for t in ("wipes", "manifests", "manifest_items", "reservations")] + \
            self.site.query("SELECT state FROM returns")

    def dump(self):
        """The whole database as SQL text (what sqlite3 .dump prints): the
        audit trail, the logins in it and every table the verbs touch."""
        con = sqlite3.connect(self.site.db, timeout=10)
        try:
            return list(con.iterdump())
        finally:
            con.close()

    def tech(self, *args):
        return self.site.ctl(*args, "--tech", "B-7", "--pin-stdin", stdin=PIN)

    def assert_refused_unchanged(self, cases):
        """Each case exits 2 naming what is wrong, prints nothing on stdout,
        and leaves every row as it was: no 'tech login' audit row either,
        since the refusal comes before the PIN is asked."""
        before = self.dump()
        for args, message in cases:
            proc = self.site.ctl(*args, stdin=PIN, check=False)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))
            self.assertIn(message, proc.stderr.decode(), args)
            self.assertEqual(proc.stdout, b"", args)
            self.assertEqual(self.dump(), before, args)

    def test_bad_input_names_what_and_changes_nothing(self):
        before = self.counts()
        cases = [
            (["recycle", "104400", "--tech", "B-7", "--level", "shred", "--pin-stdin"], 2,
             "--level must be clear, purge or destroy (NIST SP 800-88)"),
            (["wipe", "104400", "--tech", "B-7", "--method", "dd", "--level", "purge",
              "--pin-stdin"], 2, "wipe does not take --level"),
            (["reassign", "104400", "--tech", "B-7", "--to", "S999999", "--pin-stdin"], 2,
             "no staff member has the id 'S999999'"),
            (["reserve", "Latitude 9999", "--tech", "B-7", "--to", "S100003", "--pin-stdin"],
             2, "no asset in the inventory has the model 'Latitude 9999'"),
            (["dispose", "999999"], 2, "asset 999999 has never been returned"),
            (["manifest", "close", "--tech", "B-7", "--vendor", "V", "--certificate", "1",
              "--pin-stdin"], 2, "no e-waste manifest is open"),
        ]
        dumped = self.dump()
        for args, status, message in cases:
            proc = self.site.ctl(*args, stdin=PIN, check=False)
            self.assertEqual(proc.returncode, status, args)
            self.assertIn(message, proc.stderr.decode(), args)
            self.assertEqual(proc.stdout, b"", args)
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.dump(), dumped)

    def test_reimage_of_a_tag_never_returned_records_no_login(self):
        self.assert_refused_unchanged([
            (["reimage", "999999", "--tech", "B-7", "--pin-stdin"],
             "dropkioskctl: asset 999999 has never been returned\n"),
        ])

    def test_reimage_of_a_device_only_dropped_records_no_login(self):
        self.site.query(
            "INSERT INTO returns (asset_tag, site_id, kiosk_id, returned_at, charger_declared) "
            "SELECT '104233', site_id, kiosk_id, '2026-04-01T14:00:00Z', 1 FROM returns "
            "WHERE asset_tag = '104400'")
        self.assert_refused_unchanged([
            (["reimage", "104233", "--tech", "B-7", "--pin-stdin"],
             "asset 104233 has not been received yet: a technician receives it first "
             "(dropkioskctl receive 104233)"),
        ])

    def test_reimage_of_a_device_not_in_the_inventory_is_refused(self):
        self.tech("cleanout", "--school", "Lakeside Elementary", "177777")
        self.tech("wipe", "177777", "--method", "powerwash", "--tool", "Google Admin")
        self.assert_refused_unchanged([
            (["reimage", "177777", "--tech", "B-7", "--pin-stdin"],
             "asset 177777 is not in the inventory: import it before reimaging it"),
        ])
        self.assertEqual(self.site.query(
            "SELECT state FROM returns WHERE asset_tag = '177777'"), [("received",)])

    def test_bad_words_to_acting_verbs_record_no_login(self):
        self.assert_refused_unchanged([
            (["wipe", "104400", "--tech", "B-7", "--method", "", "--tool", "GA",
              "--pin-stdin"], "--method is missing"),
            (["wipe", "104400", "--tech", "B-7", "--method", "dd", "--tool", "",
              "--pin-stdin"], "--tool is missing"),
            (["wipe", "999999", "--tech", "B-7", "--method", "dd", "--tool", "GA",
              "--pin-stdin"], "asset 999999 has never been returned"),
            (["reassign", "104400", "--tech", "B-7", "--to", "S999999", "--pin-stdin"],
             "no staff member has the id 'S999999'"),
            (["reassign", "104400", "--tech", "B-7", "--to", "S100003", "--pin-stdin"],
             "asset 104400 has no data wipe recorded"),
            (["recycle", "104400", "--tech", "B-7", "--level", "shred", "--pin-stdin"],
             "--level must be clear, purge or destroy (NIST SP 800-88), not 'shred'"),
            (["recycle", "999999", "--tech", "B-7", "--level", "purge", "--pin-stdin"],
             "asset 999999 has never been returned"),
            (["reserve", "Latitude 9999", "--tech", "B-7", "--to", "S100003",
              "--pin-stdin"], "no asset in the inventory has the model 'Latitude 9999'"),
            (["reserve", "Galaxy A54", "--tech", "B-7", "--to", "S999999", "--pin-stdin"],
             "no staff member has the id 'S999999'"),
            (["manifest", "close", "--tech", "B-7", "--vendor", "V", "--certificate", "1",
              "--pin-stdin"], "no e-waste manifest is open"),
            (["reimage", "104400", "--pin-stdin"],
             "technician verbs need --tech ID (or badge)"),
        ])

    def test_second_manifest_close_records_no_login(self):
        self.tech("recycle", "104400", "--level", "purge")
        self.tech("manifest", "close", "--vendor", "V", "--certificate", "1")
        self.assert_refused_unchanged([
            (["manifest", "close", "--tech", "B-7", "--vendor", "V", "--certificate", "1",
              "--pin-stdin"],
             "dropkioskctl: no e-waste manifest is open (recycling a device opens one)\n"),
            (["manifest", "close", "--tech", "B-7", "--vendor", "V", "--certificate", "",
              "--pin-stdin"], "--certificate is missing"),
        ])

    def test_options_a_verb_does_not_take_are_refused(self):
        self.assert_refused_unchanged([
            (["dispose", "104400", "--level", "purge"], "dispose does not take --level"),
            (["reimage", "104400", "--tech", "B-7", "--to", "S100003", "--pin-stdin"],
             "reimage does not take --to"),
            (["recycle", "104400", "--tech", "B-7", "--level", "purge", "--csv",
              "--pin-stdin"], "recycle does not take --csv"),
            (["reserve", "Galaxy A54", "--tech", "B-7", "--to", "S100003", "--days", "3",
              "--pin-stdin"], "reserve does not take --days"),
            (["manifest", "--vendor", "V"], "manifest show does not take --vendor"),
            (["manifest", "close", "--tech", "B-7", "--vendor", "V", "--certificate", "1",
              "--level", "purge", "--pin-stdin"], "manifest close does not take --level"),
        ])

    def test_wrong_pin_is_refused_and_changes_nothing(self):
        before = self.counts()
        proc = self.site.ctl("recycle", "104400", "--tech", "B-7", "--level", "purge",
                             "--pin-stdin", stdin=b"0000\n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(self.counts(), before)

    def test_existing_out_file_is_not_replaced(self):
        self.site.ctl("recycle", "104400", "--tech", "B-7", "--level", "purge", "--pin-stdin",
                      stdin=PIN)
        path = os.path.join(self.site.dir, "signed.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("the vendor's signed copy\n")
        proc = self.site.ctl("manifest", "close", "--tech", "B-7", "--vendor", "V",
                             "--certificate", "1", "--out", path, "--pin-stdin", stdin=PIN,
                             check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("already exists", proc.stderr.decode())
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "the vendor's signed copy\n")
        self.assertEqual(self.site.query("SELECT count(*) FROM manifests WHERE closed_at IS NULL"),
                         [(1,)])

    def test_malformed_rule_names_file_and_line(self):
        self.site.text += "\n[disposition]\nrule = condition is broken -> recycle\n"
        self.site.write_config()
        line = self.site.text.splitlines().index("rule = condition is broken -> recycle") + 1
        proc = self.site.ctl("dispose", "104400", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: %s:%d: bad rule: 'broken' is not a condition (good, "
                         "worn, damaged, not_working)\n" % (self.site.config, line))


if __name__ == "__main__":
    unittest.main()
