"""The daemon's web server on loopback: the screen's JSON API, the event
stream, and the boundary (body size, malformed JSON, files outside the UI
folder), against the real daemon with a pty scanner."""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from kiosk import FIXTURES, ROOT, Kiosk, Site, free_port


class HttpApiTest(unittest.TestCase):
    def setUp(self):
        # A UI folder of the test's own, with a link that points out of it.
        self.ui = tempfile.mkdtemp(prefix="dk-ui-")
        with open(os.path.join(self.ui, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><title>kiosk</title>\n")
        outside = os.path.join(tempfile.mkdtemp(prefix="dk-outside-"), "secret.html")
        with open(outside, "w") as f:
            f.write("secret\n")
        os.symlink(outside, os.path.join(self.ui, "leak.html"))
        self.outside = os.path.dirname(outside)
        self.port = free_port()
        self.site = Site(extra="\n[http]\nport = %d\nui = %s\nmax_body = 2048\n"
                         % (self.port, self.ui))
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()
        shutil.rmtree(self.ui, ignore_errors=True)
        shutil.rmtree(self.outside, ignore_errors=True)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), resp.read()
        finally:
            conn.close()

    def post(self, obj):
        status, _, body = self.request("POST", "/api/input", json.dumps(obj).encode(),
                                       {"Content-Type": "application/json"})
        return status, json.loads(body)

    def state(self, screen=None, timeout=5):
        """The screen's view; with screen, wait (the view is pushed right
        after the kiosk answers) until it shows that screen."""
        deadline = time.monotonic() + timeout
        while True:
            status, ctype, body = self.request("GET", "/api/state")
            self.assertEqual((status, ctype), (200, "application/json"))
            view = json.loads(body)
            if screen is None or view["screen"] == screen or time.monotonic() > deadline:
                return view
            time.sleep(0.02)

    def test_a_touch_answers_the_question_the_scanner_opened(self):
        self.assertEqual(self.state()["screen"], "start")
        self.kiosk.scan("104233")
        self.kiosk.expect("Is the charger in the bag")
        view = self.state("charger")
        self.assertEqual(view["screen"], "charger")
        self.assertEqual(view["pending"], {"tag": "104233", "type": "laptop",
                                           "type_name": "Laptop", "model": "ProBook 450 G8",
                                           "known": True, "charger": False,
                                           "desktop": False})
        self.assertEqual(self.post({"answer": "yes"}), (202, {"queued": True}))
        self.kiosk.expect("Added asset 104233, charger in the bag. 1 device in this visit.")
        view = self.state("next")
        self.assertEqual(view["screen"], "next")
        self.assertEqual([d["tag"] for d in view["devices"]], ["104233"])
        # Nothing on the screen names a person.
        self.assertNotIn("María", json.dumps(view, ensure_ascii=False))
        self.assertNotIn("S100001", json.dumps(view))

    def test_language_is_chosen_on_the_start_screen(self):
        self.assertEqual(self.post({"language": "es"}), (202, {"queued": True}))
        self.kiosk.expect("Idioma: Español.")
        deadline = time.monotonic() + 5
        while self.state()["lang"] != "es" and time.monotonic() < deadline:
            time.sleep(0.02)
        view = self.state()
        self.assertEqual(view["lang"], "es")
        self.assertEqual(view["lines"][0], {"key": "kiosk.language_set",
                                            "text": "Idioma: Español."})
        status, _, body = self.request("GET", "/api/languages")
        self.assertEqual(status, 200)
        codes = [lang["code"] for lang in json.loads(body)]
        self.assertIn("en", codes)
        self.assertIn("es", codes)

    def test_bad_requests_are_refused_with_a_reason(self):
        status, _, body = self.request("POST", "/api/input", b'{"answer": ',
                                       {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body),
                         {"error": "malformed JSON at line 1 column 11: "
                                   "unexpected token near end of file"})
        self.assertEqual(self.post({"language": "xx"}),
                         (400, {"error": "no message catalog for \"language\" xx"}))
        self.assertEqual(self.post({"language": "../../etc"}),
                         (400, {"error": "no message catalog for \"language\" ../../etc"}))
        self.assertEqual(self.post({"answer": "maybe"}),
                         (400, {"error": "\"answer\" must be yes, no, done, skip or cancel"}))
        self.assertEqual(self.post({"answer": "yes", "text": "x"}),
                         (400, {"error": "give one of \"answer\", \"text\" or \"language\", "
                                         "as a string, or \"still_here\": true"}))
        status, _, body = self.request("POST", "/api/input",
                                       json.dumps({"text": "x" * 4000}).encode())
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body), {"error": "the request body is over 2048 bytes"})
        status, _, _ = self.request("DELETE", "/api/input")
        self.assertEqual(status, 405)
        # Nothing reached the visit.
        self.assertEqual(self.state()["screen"], "start")
        self.assertEqual(self.site.query("SELECT count(*) FROM returns"), [(0,)])

    def test_a_body_that_is_not_declared_json_is_415(self):
        # A page on another site may post text/plain without asking first.
        status, _, body = self.request("POST", "/api/input", b'{"answer": "cancel"}',
                                       {"Content-Type": "text/plain"})
        self.assertEqual((status, json.loads(body)),
                         (415, {"error": "a request body must be sent as application/json"}))
        status, _, _ = self.request("POST", "/api/input", b'{"answer": "cancel"}')
        self.assertEqual(status, 415)

    def test_event_streams_are_capped_and_the_api_still_answers(self):
        streams = []
        try:
            for _ in range(16):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/api/events")
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                streams.append(conn)
            status, _, body = self.request("GET", "/api/events")
            self.assertEqual((status, json.loads(body)),
                             (503, {"error": "too many event streams are open; try again "
                                             "later"}))
            status, _, _ = self.request("GET", "/api/health")
            self.assertEqual(status, 200)
            self.assertEqual(self.post({"answer": "cancel"})[0], 202)
        finally:
            for conn in streams:
                conn.close()

    def test_only_files_inside_the_ui_folder_are_served(self):
        status, ctype, body = self.request("GET", "/")
        self.assertEqual((status, ctype), (200, "text/html; charset=utf-8"))
        self.assertEqual(body, b"<!DOCTYPE html><title>kiosk</title>\n")
        for path in ("/leak.html", "/../../etc/passwd", "/%2e%2e/etc/passwd",
                     "/.hidden.html", "/index.html/..", "/nothing.html"):
            status, _, body = self.request("GET", path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"secret", body)
            self.assertNotIn(b"root:", body)

    def test_every_reply_carries_the_content_security_policy(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/api/health")
        resp = conn.getresponse()
        self.assertEqual(json.loads(resp.read()), {"scanner": True, "printer": "none",
                                                   "mail_queue": 0, "database": True})
        self.assertEqual(resp.getheader("Content-Security-Policy"),
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                         "script-src 'self'; connect-src 'self'; media-src 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
        self.assertEqual(resp.getheader("X-Content-Type-Options"), "nosniff")
        conn.close()

    def test_event_stream_starts_with_the_state_and_pushes_scans(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/api/events")
        resp = conn.getresponse()
        self.assertEqual(resp.getheader("Content-Type"), "text/event-stream; charset=utf-8")

        def next_event():
            name = data = None
            while True:
                line = resp.fp.readline().decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and name is not None:
                    return name, data

        name, data = next_event()
        self.assertEqual((name, data["screen"]), ("state", "start"))
        self.kiosk.scan("104233")
        while True:
            name, data = next_event()
            if name == "state":
                break
        self.assertEqual(data["screen"], "charger")
        self.assertEqual(data["pending"]["tag"], "104233")
        conn.close()


class HttpsTest(unittest.TestCase):
    """With a certificate and key the screen is served over TLS only."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dk-tls-")
        self.cert = os.path.join(self.dir, "kiosk.crt")
        self.key = os.path.join(self.dir, "kiosk.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert], check=True,
                       capture_output=True, timeout=60)
        self.port = free_port()
        self.site = Site(extra="\n[http]\nport = %d\ncertificate = %s\nkey = %s\n"
                         % (self.port, self.cert, self.key))
        self.kiosk = Kiosk(self.site)

    def tearDown(self):
        self.kiosk.stop()
        self.site.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_the_api_answers_over_tls_and_not_in_the_clear(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=ctx)
        conn.request("GET", "/api/health")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(json.loads(resp.read())["database"], True)
        conn.close()
        plain = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            plain.request("GET", "/api/health")
            plain.getresponse().read()
        plain.close()


class HttpConfigTest(unittest.TestCase):
    def test_listening_off_loopback_needs_tls(self):
        site = Site()
        site.text += "\n[http]\nlisten = 0.0.0.0\nport = 8443\n"
        site.write_config()
        try:
            proc = site.ctl("audit", "verify", check=False)
            self.assertEqual(proc.returncode, 2)
            self.assertTrue(proc.stderr.decode().endswith(
                "[http] listen = 0.0.0.0 is not loopback: it needs certificate = PATH and "
                "key = PATH (TLS)\n"), proc.stderr)
        finally:
            site.cleanup()


if __name__ == "__main__":
    unittest.main()
