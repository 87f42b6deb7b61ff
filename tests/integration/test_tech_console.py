"""The technician console's JSON API (/api/tech/...) against the real daemon
on a free loopback port: login with badge and PIN (cookie, CSRF token, the
lock after five wrong PINs), then intake, disposition through to the e-waste
manifest, reports as CSV downloads, the outbox and the audit trail.  Every
refusal is checked to change nothing."""

import http.client
import json
import os
import re
import time
import unittest

from kiosk import FIXTURES, Kiosk, Site, SmtpServer, free_port

PIN = "4821"
RULES = """
[disposition]
rule = condition is damaged, not_working -> recycle
rule = always -> reimage
"""


class ConsoleTest(unittest.TestCase):
    minutes = 15
    smtp_flags = None

    def setUp(self):
        self.smtp = SmtpServer(*self.smtp_flags) if self.smtp_flags is not None else None
        self.port = free_port()
        extra = "\n[http]\nport = %d\ntech_session_minutes = %d\n%s" % (
            self.port, self.minutes, RULES)
        self.site = Site(smtp_port=self.smtp.port if self.smtp else None, extra=extra)
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        out = self.site.ctl("tech", "add", "--name", "Pat Okafor", "--badge", "B-7",
                            "--pin-stdin", stdin=PIN.encode() + b"\n")
        self.assertEqual(out.stdout, b"added technician T0001 (Pat Okafor, badge B-7)\n")
        self.kiosk = Kiosk(self.site)
        self.cookie = None
        self.csrf = None

    def tearDown(self):
        self.kiosk.stop()
        if self.smtp is not None:
            self.smtp.stop()
        self.site.cleanup()

    # ---- helpers -----------------------------------------------------------

    def request(self, method, path, body=None, cookie=True, csrf=True, raw=None):
        """One request; returns (status, headers, body bytes).  cookie and
        csrf True send the logged-in session's; a string sends that."""
        headers = {}
        if cookie is True and self.cookie:
            headers["Cookie"] = "dk_tech=" + self.cookie
        elif isinstance(cookie, str):
            headers["Cookie"] = "dk_tech=" + cookie
        if csrf is True and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            headers["X-CSRF-Token"] = csrf
        data = raw if raw is not None else (json.dumps(body).encode()
                                            if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def get(self, path, **kw):
        status, _, body = self.request("GET", path, **kw)
        return status, json.loads(body)

    def post(self, path, body, **kw):
        status, _, data = self.request("POST", path, body, **kw)
        return status, json.loads(data)

    def login(self, badge="B-7", pin=PIN):
        status, headers, body = self.request("POST", "/api/tech/login",
                                             {"badge": badge, "pin": pin}, cookie=False,
                                             csrf="login")
        reply = json.loads(body)
        if status == 200:
            m = re.match(r"dk_tech=([0-9a-f]{64});", headers["Set-Cookie"])
            self.cookie = m.group(1)
            self.csrf = reply["csrf"]
        return status, headers, reply

    def drop_laptop(self):
        """Staff member S100001 drops laptop 104233 with its charger."""
        k = self.kiosk
        k.scan("104233")
        k.expect("Is the charger in the bag")
        k.scan("YES")
        k.type("DONE")
        k.scan("S100001")
        k.expect("Email the receipt")
        k.type("YES")
        k.expect("Send a copy to your school or department leader")
        k.type("NO")
        k.expect(r"Your receipt is R-[0-9A-Z]{9}\.")

    def settle_mail(self):
        """Wait for the mail worker to be done with the outbox, so that a
        dump taken before and after a refusal sees only the refusal."""
        deadline = time.monotonic() + 20
        while (self.site.query("SELECT count(*) FROM outbox WHERE status = 'pending'")
               != [(0,)] and time.monotonic() < deadline):
            time.sleep(0.05)

    def dump(self):
        """Everything a refusal must leave as it was."""
        return [self.site.query("SELECT * FROM %s ORDER BY 1" % t)
                for t in ("returns", "assets", "audit", "outbox", "manifests",
                          "manifest_items", "technicians")]

    def audit(self, after=0):
        return self.site.query("SELECT actor, action, subject FROM audit WHERE id > ? "
                               "ORDER BY id", after)

    def last_audit_id(self):
        return self.site.query("SELECT coalesce(max(id), 0) FROM audit")[0][0]


class LoginTest(ConsoleTest):
    def test_a_login_without_its_header_is_403_and_spends_no_try(self):
        before = self.dump()
        status, _, body = self.request("POST", "/api/tech/login",
                                       {"badge": "B-7", "pin": "0000"}, cookie=False,
                                       csrf=False)
        self.assertEqual((status, json.loads(body)),
                         (403, {"error": "a login needs the header X-CSRF-Token: login"}))
        self.assertEqual(self.site.query("SELECT failed_logins FROM technicians"), [(0,)])
        self.assertEqual(self.dump(), before)

    def test_login_sets_an_httponly_strict_cookie_and_gives_the_csrf_token(self):
        status, headers, reply = self.login()
        self.assertEqual(status, 200)
        self.assertRegex(headers["Set-Cookie"],
                         r"^dk_tech=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/; "
                         r"Max-Age=900$")
        self.assertRegex(reply["csrf"], r"^[0-9a-f]{64}$")
        self.assertNotEqual(reply["csrf"], self.cookie)
        self.assertEqual({k: v for k, v in reply.items() if k != "csrf"},
                         {"id": "T0001", "name": "Pat Okafor", "minutes": 15})
        self.assertEqual(self.audit()[-1], ("tech:T0001", "tech login", "T0001"))
        # The page opened again finds who is logged in and the same token.
        self.assertEqual(self.get("/api/tech/session"),
                         (200, {"id": "T0001", "name": "Pat Okafor", "csrf": self.csrf,
                                "minutes": 15}))
        # The PIN is in no log.
        self.assertNotIn(PIN, self.kiosk.log())

    def test_five_wrong_pins_lock_the_account_with_423(self):
        for _ in range(4):
            status, _, reply = self.login(pin="0000")
            self.assertEqual((status, reply), (401, {"error": "wrong badge or PIN"}))
        status, headers, reply = self.login(pin="0000")
        self.assertEqual((status, reply),
                         (423, {"error": "too many wrong PINs: this account is locked for now",
                                "minutes": 15}))
        self.assertNotIn("Set-Cookie", headers)
        # The right PIN does not open a locked account.
        status, _, reply = self.login()
        self.assertEqual((status, reply["minutes"]), (423, 15))
        self.assertIsNone(self.cookie)
        self.assertEqual(self.site.query("SELECT count(*) FROM technicians "
                                         "WHERE locked_until IS NOT NULL"), [(1,)])
        actions = [a for _, a, _ in self.audit()]
        self.assertEqual(actions[-7:], ["tech login failed"] * 5 + ["tech locked",
                                                                    "tech login failed"])
        # dropkioskctl refuses the same account: one lock for both.
        proc = self.site.ctl("receive", "104233", "--tech", "B-7", "--charger", "present",
                             "--pin-stdin", stdin=PIN.encode() + b"\n", check=False)
        self.assertEqual(proc.returncode, 1)

    def test_an_unknown_badge_gets_the_wrong_pin_answer(self):
        status, _, reply = self.login(badge="B-999")
        self.assertEqual((status, reply), (401, {"error": "wrong badge or PIN"}))
        self.assertEqual(self.audit()[-1], ("console", "tech login failed", "unknown badge"))

    def test_unknown_or_ended_sessions_are_401(self):
        status, headers, body = self.request("GET", "/api/tech/queue", cookie="f" * 64)
        self.assertEqual((status, json.loads(body)),
                         (401, {"error": "log in first: no technician session, "
                                         "or it has ended"}))
        self.assertEqual(headers["Set-Cookie"],
                         "dk_tech=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
        self.assertEqual(self.get("/api/tech/audit", cookie=False)[0], 401)
        self.assertEqual(self.get("/api/tech/audit", cookie="not-a-session")[0], 401)
        self.login()
        self.assertEqual(self.get("/api/tech/queue")[0], 200)
        self.assertEqual(self.post("/api/tech/logout", {}), (200, {"logged_out": True}))
        self.assertEqual(self.get("/api/tech/queue")[0], 401)
        self.assertEqual(self.post("/api/tech/receive", {"tag": "104233",
                                                         "charger": "present"})[0], 401)

    def test_malformed_json_and_bad_fields_are_400_and_change_nothing(self):
        self.login()
        self.drop_laptop()
        self.settle_mail()
        before = self.dump()
        status, _, body = self.request("POST", "/api/tech/receive", raw=b'{"tag": "1042')
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body),
                         {"error": "malformed JSON at line 1 column 13: "
                                   "premature end of input near '\"1042'"})
        cases = [
            ({"charger": "present"}, "\"tag\" is required"),
            ({"tag": "104233"}, "\"charger\" is required"),
            ({"tag": "104233", "charger": "maybe"}, "\"charger\" must be present or missing"),
            ({"tag": 104233, "charger": "present"},
             "\"tag\" must be a string of at most 1024 bytes"),
        ]
        for body, error in cases:
            self.assertEqual(self.post("/api/tech/receive", body), (400, {"error": error}))
        status, reply = self.post("/api/tech/receive", {"tag": "104233", "charger": "present",
                                                        "condition": "shiny"})
        self.assertEqual(status, 400)
        self.assertIn("condition", reply["error"])
        self.assertEqual(self.get("/api/tech/dispose"),
                         (400, {"error": "the query argument \"tag\" is required"}))
        self.assertEqual(self.get("/api/tech/audit?limit=0"),
                         (400, {"error": "\"limit\" must be a whole number from 1 to 1000"}))
        self.assertEqual(self.get("/api/tech/report/nothing"),
                         (404, {"error": "no such report: returns, awaiting, chargers, "
                                         "dispositions, flags or leavers"}))
        self.assertEqual(self.get("/api/tech/report/returns?from=2026-02-30"),
                         (400, {"error": "\"from\" must be a date YYYY-MM-DD"}))
        self.assertEqual(self.post("/api/tech/outbox/retry", {"ids": [1], "failed": True}),
                         (400, {"error": "give \"ids\": [ID, ...] or \"failed\": true"}))
        self.assertEqual(self.post("/api/tech/outbox/retry", {"ids": ["1"]}),
                         (400, {"error": "\"ids\"[0] must be a message id (a whole number)"}))
        self.assertEqual(self.get("/api/tech/nothing"), (404, {"error": "no such API"}))
        self.assertEqual(self.dump(), before)


class SessionExpiryTest(ConsoleTest):
    minutes = 1

    def test_a_session_idle_past_its_minutes_is_401(self):
        status, headers, _ = self.login()
        self.assertTrue(headers["Set-Cookie"].endswith("; Max-Age=60"))
        # Use slides the expiry forward: 62 s after the login it still works.
        self.idle(31)
        self.assertEqual(self.get("/api/tech/outbox")[0], 200)
        self.idle(31)
        self.assertEqual(self.get("/api/tech/outbox")[0], 200)
        self.idle(61)
        self.assertEqual(self.get("/api/tech/outbox"),
                         (401, {"error": "log in first: no technician session, "
                                         "or it has ended"}))

    def idle(self, seconds):
        time.sleep(seconds)
        self.assertIsNone(self.kiosk.proc.poll(), self.kiosk.log())


class IntakeTest(ConsoleTest):
    def test_a_post_without_the_csrf_token_is_403_and_changes_nothing(self):
        self.login()
        self.drop_laptop()
        self.settle_mail()
        before = self.dump()
        body = {"tag": "104233", "charger": "present", "condition": "good"}
        error = {"error": "a change needs the session's X-CSRF-Token"}
        self.assertEqual(self.post("/api/tech/receive", body, csrf=False), (403, error))
        self.assertEqual(self.post("/api/tech/receive", body, csrf="0" * 64), (403, error))
        self.assertEqual(self.post("/api/tech/logout", {}, csrf=False), (403, error))
        self.assertEqual(self.dump(), before)
        self.assertEqual(self.site.query("SELECT state FROM returns"), [("dropped",)])

    def test_receive_from_the_queue_verifies_the_charger(self):
        self.login()
        self.drop_laptop()
        status, queue = self.get("/api/tech/queue?site=bolling")
        self.assertEqual(status, 200)
        self.assertEqual((queue["site"], queue["kiosk_site"], queue["sites"]),
                         ("bolling", "bolling", [{"id": "bolling", "name": "Bolling Building"}]))
        self.assertEqual([(d["site"], d["tag"], d["type"], d["age_days"], d["overdue"])
                          for d in queue["devices"]],
                         [("bolling", "104233", "laptop", "0", "no")])
        self.assertEqual(self.get("/api/tech/queue?site=nowhere"),
                         (400, {"error": "\"site\": no site has the id given"}))
        status, reply = self.post("/api/tech/receive",
                                  {"tag": "104233", "charger": "present", "condition": "good",
                                   "note": "sticker on lid"})
        self.assertEqual((status, reply),
                         (200, {"outcome": "received", "return_id": 1, "tag": "104233",
                                "model": "ProBook 450 G8", "known": True,
                                "charger": "present", "condition": "good",
                                "mail_queued": True}))
        self.assertEqual(self.site.query(
            "SELECT state, charger_declared, charger_verified, condition, condition_note, "
            "technician FROM returns"),
            [("received", 1, 1, "good", "sticker on lid", "T0001")])
        self.assertEqual(self.get("/api/tech/queue")[1]["devices"], [])
        # A second receive of the same device is refused and changes nothing.
        self.settle_mail()
        before = self.dump()
        status, reply = self.post("/api/tech/receive", {"tag": "104233", "charger": "present"})
        self.assertEqual(status, 409)
        self.assertEqual(self.dump(), before)

    def test_cleanout_takes_a_cart_and_a_stray_badge_stops_it_all(self):
        self.login()
        before = self.dump()
        status, reply = self.post("/api/tech/cleanout",
                                  {"school": "Lakeside Elementary",
                                   "tags": ["104500", "S100001"]})
        self.assertEqual(status, 400)
        self.assertTrue(reply["error"].startswith("\"tags\"[1]: "), reply)
        self.assertTrue(reply["error"].endswith("; nothing changed"), reply)
        self.assertEqual(self.dump(), before)
        status, reply = self.post("/api/tech/cleanout",
                                  {"school": "Lakeside Elementary", "tags": ["104500", "104400"]})
        self.assertEqual((status, reply),
                         (200, {"school": "Lakeside Elementary", "cleaned_out": 2,
                                "received": 0, "unknown": 0, "refused": 0,
                                "items": [{"tag": "104500", "result": "cleaned out",
                                           "return_id": 1, "known": True},
                                          {"tag": "104400", "result": "cleaned out",
                                           "return_id": 2, "known": True}]}))
        self.assertEqual(self.site.query("SELECT asset_tag, state, cleanout_school, technician "
                                         "FROM returns ORDER BY id"),
                         [("104500", "received", "Lakeside Elementary", "T0001"),
                          ("104400", "received", "Lakeside Elementary", "T0001")])


class DispositionTest(ConsoleTest):
    def line_of(self, rule):
        return self.site.text.splitlines().index("rule = " + rule) + 1

    def test_proposal_then_wipe_and_recycle_put_it_on_the_manifest(self):
        self.login()
        status, reply = self.post("/api/tech/receive", {"tag": "104400", "charger": "missing",
                                                        "condition": "damaged"})
        self.assertEqual((status, reply["outcome"]), (200, "walk-in"))
        rule = "condition is damaged, not_working -> recycle"
        line = self.line_of(rule)
        self.assertEqual(self.get("/api/tech/dispose?tag=104400"),
                         (200, {"return_id": 1, "tag": "104400", "type": "phone",
                                "model": "Galaxy A54", "condition": "damaged",
                                "proposal": "recycle", "rule": rule,
                                "source": "%s:%d" % (self.site.config, line), "line": line}))
        self.assertEqual(self.get("/api/tech/dispose?tag=999999")[0], 404)

        # Reimage before a wipe is refused, and changes nothing.
        before = self.dump()
        status, reply = self.post("/api/tech/reimage", {"tag": "104400"})
        self.assertEqual(status, 400)
        self.assertIn("no data wipe recorded", reply["error"])
        self.assertEqual(self.dump(), before)

        self.assertEqual(self.post("/api/tech/wipe", {"tag": "104400",
                                                      "method": "factory reset",
                                                      "tool": "Android recovery"}),
                         (200, {"tag": "104400", "wiped_by": "T0001",
                                "method": "factory reset", "tool": "Android recovery"}))
        self.assertEqual(self.post("/api/tech/recycle", {"tag": "104400", "level": "destroy"}),
                         (200, {"tag": "104400", "disposition": "recycle",
                                "proposal": "recycle", "rule": rule,
                                "source": "%s:%d" % (self.site.config, line),
                                "level": "destroy", "manifest": 1}))
        self.assertEqual(self.site.query("SELECT state, disposition FROM returns"),
                         [("dispositioned", "recycle")])
        day = self.site.query("SELECT substr(added_at, 1, 10) FROM manifest_items")[0][0]
        status, manifest = self.get("/api/tech/manifest")
        self.assertEqual(status, 200)
        self.assertEqual((manifest["id"], manifest["closed_at"], manifest["closed"]),
                         (1, None, []))
        self.assertEqual(manifest["devices"],
                         [{"asset_tag": "104400", "serial": "R58N123ABC", "type": "phone",
                           "make": "Samsung", "model": "Galaxy A54", "level": "destroy",
                           "technician": "T0001", "date": day}])

        # Closing downloads the CSV the vendor signs.
        csv = ("asset_tag,serial,type,make,model,level,technician,date\r\n"
               "104400,R58N123ABC,phone,Samsung,Galaxy A54,destroy,T0001,%s\r\n" % day)
        status, headers, body = self.request(
            "POST", "/api/tech/manifest/close?format=csv",
            {"vendor": "GreenCycle, LLC", "certificate": "CD-2026-0415"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/csv; charset=utf-8")
        self.assertEqual(headers["Content-Disposition"],
                         "attachment; filename=\"manifest-1.csv\"")
        self.assertEqual(body.decode(), csv)
        self.assertEqual(self.site.query("SELECT vendor, certificate FROM manifests"),
                         [("GreenCycle, LLC", "CD-2026-0415")])
        status, _, body = self.request("GET", "/api/tech/manifest?id=1&format=csv")
        self.assertEqual((status, body.decode()), (200, csv))
        status, manifest = self.get("/api/tech/manifest")
        self.assertEqual((manifest["id"], manifest["devices"], manifest["closed"][0]["id"]),
                         (None, [], 1))
        self.assertEqual(self.get("/api/tech/manifest?id=7"),
                         (404, {"error": "there is no e-waste manifest 7"}))

    def test_report_downloads_as_csv(self):
        self.login()
        self.post("/api/tech/receive", {"tag": "104233", "charger": "present",
                                        "condition": "good"})
        self.post("/api/tech/wipe", {"tag": "104233", "method": "Windows reset",
                                     "tool": "Settings"})
        status, reply = self.post("/api/tech/reimage", {"tag": "104233"})
        self.assertEqual((status, reply["disposition"], reply["proposal"]),
                         (200, "reimage", "reimage"))
        status, headers, body = self.request("GET", "/api/tech/report/dispositions?format=csv")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/csv; charset=utf-8")
        self.assertEqual(headers["Content-Disposition"],
                         "attachment; filename=\"dispositions.csv\"")
        self.assertEqual(body, b"disposition,count\nreimage,1\nreassign,0\nrecycle,0\n")
        self.assertEqual(self.get("/api/tech/report/dispositions"),
                         (200, {"report": "dispositions", "from": "", "until": "",
                                "columns": ["disposition", "count"],
                                "rows": [{"disposition": "reimage", "count": "1"},
                                         {"disposition": "reassign", "count": "0"},
                                         {"disposition": "recycle", "count": "0"}]}))

    def test_audit_view_lists_the_console_actions_newest_first(self):
        self.login()
        self.post("/api/tech/receive", {"tag": "104233", "charger": "missing"})
        self.post("/api/tech/wipe", {"tag": "104233", "method": "Windows reset",
                                     "tool": "Settings"})
        status, reply = self.get("/api/tech/audit?limit=3")
        self.assertEqual(status, 200)
        rows = self.site.query("SELECT count(*) FROM audit")[0][0]
        self.assertEqual(reply["verdict"], {"ok": True, "rows": rows})
        self.assertEqual([(e["actor"], e["action"], e["subject"]) for e in reply["entries"]],
                         [("tech:T0001", "wipe recorded", "104233"),
                          ("tech:T0001", "walk-in received", "104233"),
                          ("tech:T0001", "tech login", "T0001")])
        self.assertEqual([e["id"] for e in reply["entries"]], [rows, rows - 1, rows - 2])


class OutboxTest(ConsoleTest):
    smtp_flags = ("--fail-data", "554")

    def test_outbox_lists_a_refused_message_and_retry_queues_it_again(self):
        self.login()
        self.drop_laptop()
        deadline = time.monotonic() + 20
        while (self.site.query("SELECT status FROM outbox") != [("failed",)]
               and time.monotonic() < deadline):
            time.sleep(0.1)
        status, reply = self.get("/api/tech/outbox")
        self.assertEqual(status, 200)
        [msg] = reply["messages"]
        self.assertEqual((msg["id"], msg["status"], msg["attempts"], msg["recipients"]),
                         ("1", "failed", "1", "maria.pena@example.org"))
        self.assertTrue(msg["last_error"].startswith("554"), msg)
        # A message that is not failed is refused, all or nothing.
        before = self.dump()
        status, reply = self.post("/api/tech/outbox/retry", {"ids": [1, 2]})
        self.assertEqual((status, reply), (400, {"error": "outbox: there is no message 2"}))
        self.assertEqual(self.dump(), before)
        after = self.last_audit_id()
        self.assertEqual(self.post("/api/tech/outbox/retry", {"failed": True}),
                         (200, {"retried": 1}))
        self.assertEqual(self.audit(after), [("tech:T0001", "outbox retry", "1")])


if __name__ == "__main__":
    unittest.main()
