"""dropkioskctl report and import leavers against the real program: a site
made from the fixtures, returns inserted as the kiosk would store them."""

import os
import shutil
import sqlite3
import subprocess
import unittest

from kiosk import CTL, FIXTURES, Site

INTAKE = "\n[intake]\ncharger_cost = 35\ncharger_cost.phone = 49.99\n"

# Times are UTC, as the kiosk stores them; the site is America/New_York.
RETURNS = [
    # tag, returned_by, assignee_at_time, returned_at, charger_declared, missing
    ("104400", "S100002", "S100002", "2024-06-04T02:00:00Z", 0, 1),
    ("104500", "S100003", None, "2024-06-04T15:00:00Z", 0, 1),
]


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.site = Site(extra=INTAKE)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.site.query("INSERT INTO sites VALUES ('bolling', 'Bolling Building')")
        self.site.query("INSERT INTO kiosks VALUES ('bolling-lobby-1', 'bolling', '')")
        for tag, by, assignee, at, declared, missing in RETURNS:
            self.site.query(
                "INSERT INTO returns (asset_tag, returned_by, assignee_at_time, site_id, "
                "kiosk_id, returned_at, charger_declared, flag_missing_charger) "
                "VALUES (?, ?, ?, 'bolling', 'bolling-lobby-1', ?, ?, ?)",
                tag, by, assignee, at, declared, missing)

    def tearDown(self):
        self.site.cleanup()

    def import_leavers(self):
        return self.site.ctl("import", "leavers", os.path.join(FIXTURES, "leavers.csv"))

    def test_import_leavers_then_again_is_unchanged(self):
        self.assertEqual(self.import_leavers().stdout, b"0 added, 2 updated, 0 unchanged\n")
        self.assertEqual(self.import_leavers().stdout, b"0 added, 0 updated, 2 unchanged\n")
        self.assertEqual(self.site.query("SELECT id, left_on FROM staff WHERE left_on IS NOT "
                                         "NULL ORDER BY id"),
                         [("S100001", "2024-06-14"), ("S100002", "2024-06-28")])

    def test_import_leavers_unknown_staff_is_bad_input_naming_line(self):
        path = os.path.join(self.site.dir, "leavers.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("Staff ID,Termination Date\nS100001,2024-06-14\nS999999,2024-06-14\n")
        proc = self.site.ctl("import", "leavers", path, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: %s:3: column 'Staff ID': no staff member has id "
                         "S999999 (import staff first)\n" % path)
        self.assertEqual(self.site.query("SELECT count(*) FROM staff WHERE left_on IS NOT "
                                         "NULL"), [(0,)])

    def test_chargers_csv(self):
        proc = self.site.ctl("report", "chargers", "--csv")
        self.assertEqual(proc.stdout.decode(),
                         "type,missing,unit_cost,cost\n"
                         "hotspot,1,35.00,35.00\n"
                         "phone,1,49.99,49.99\n"
                         "total,2,,84.99\n")

    def test_leavers_csv_lists_devices_not_yet_returned(self):
        self.import_leavers()
        proc = self.site.ctl("report", "leavers", "--csv")
        # S100002's only device (104400) is back, so only S100001 remains.
        self.assertEqual(proc.stdout.decode(),
                         "leader_email,staff_id,name,left_on,tag,type\n"
                         "lead.finance@example.org,S100001,María José Peña,2024-06-14,"
                         "104233,laptop\n"
                         "lead.finance@example.org,S100001,María José Peña,2024-06-14,"
                         "104300,desktop\n")

    def test_days_are_the_sites_whatever_tz_the_caller_has(self):
        env = dict(os.environ, TZ="UTC")
        proc = subprocess.run([CTL, "-c", self.site.config, "report", "returns", "--csv"],
                              capture_output=True, timeout=60, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.decode(),
                         "day,site,returns,with_charger,without_charger\n"
                         "2024-06-03,bolling,1,0,1\n"
                         "2024-06-04,bolling,1,0,1\n")

    def test_bad_from_date_is_bad_usage_naming_it(self):
        proc = self.site.ctl("report", "chargers", "--from", "2024-02-30", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: --from wants a date YYYY-MM-DD, got '2024-02-30'\n")
        self.assertEqual(proc.stdout, b"")

    def test_unknown_report_is_bad_usage(self):
        proc = self.site.ctl("report", "charger", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown report 'charger'", proc.stderr.decode())

    def test_all_reports_as_tables(self):
        self.import_leavers()
        out = self.site.ctl("report").stdout.decode()
        for title in ("Returns per day and site", "Devices awaiting intake",
                      "Missing chargers", "Dispositions by outcome", "Flagged returns",
                      "Leavers still holding devices"):
            self.assertIn(title, out)
        self.assertIn("$84.99", out)

    def test_csv_without_a_report_name_is_refused(self):
        proc = self.site.ctl("report", "--csv", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, b"")

    def test_report_on_a_missing_database_creates_nothing(self):
        typo = os.path.join(self.site.dir, "typo.db")
        proc = self.site.ctl("--db", typo, "report", "chargers", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertFalse(os.path.exists(typo))

    def dump(self, db):
        con = sqlite3.connect(db, timeout=10)
        try:
            return list(con.iterdump())
        finally:
            con.close()

    def test_out_writes_a_new_file(self):
        path = os.path.join(self.site.dir, "chargers.csv")
        proc = self.site.ctl("report", "chargers", "--csv", "--out", path)
        self.assertEqual(proc.stdout, b"")
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "type,missing,unit_cost,cost\n"
                                       "hotspot,1,35.00,35.00\n"
                                       "phone,1,49.99,49.99\n"
                                       "total,2,,84.99\n")

    def test_out_refuses_an_existing_file_and_leaves_it(self):
        path = os.path.join(self.site.dir, "signed.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("last month's report, signed\n")
        before = self.dump(self.site.db)
        proc = self.site.ctl("report", "returns", "--csv", "--out", path, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "dropkioskctl: %s already exists: name a new file with --out\n" % path)
        self.assertEqual(proc.stdout, b"")
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "last month's report, signed\n")
        self.assertEqual(self.dump(self.site.db), before)

    def test_out_naming_the_database_leaves_it_whole(self):
        copy = os.path.join(self.site.dir, "copy.db")
        shutil.copyfile(self.site.db, copy)
        before = self.dump(copy)
        proc = self.site.ctl("--db", copy, "report", "returns", "--out", copy, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("%s already exists" % copy, proc.stderr.decode())
        self.assertTrue(os.path.exists(copy))
        self.assertEqual(self.dump(copy), before)
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(2,)])

    def test_options_report_does_not_take_are_refused(self):
        before = self.dump(self.site.db)
        for option, value in (("--tech", "B-9"), ("--level", "purge"), ("--days", "3"),
                              ("--to", "S100003")):
            proc = self.site.ctl("report", "returns", option, value, check=False)
            self.assertEqual(proc.returncode, 2, option)
            self.assertEqual(proc.stderr.decode(),
                             "dropkioskctl: report does not take %s (see dropkioskctl "
                             "--help)\n" % option)
            self.assertEqual(proc.stdout, b"", option)
        self.assertEqual(self.dump(self.site.db), before)


if __name__ == "__main__":
    unittest.main()
