"""The lobby screen's session (firmware/screen-session, installed as
/usr/libexec/dropkiosk/screen-session and run by dropkiosk-screen.service):
cage showing Chromium in kiosk mode at the kiosk daemon's address.

Here cage draws on wlroots' headless back end instead of a display, and
runs as nobody (cage refuses to run as root, as the unit never does).
DROPKIOSK_CHROMIUM_FLAGS, the setting screen.conf offers for extra flags,
opens Chromium's DevTools port on loopback, so the test can ask which
page the screen shows.  In a private mount namespace, /etc/chromium holds
the package's managed policy (firmware/chromium-policy.json), as it does
on a kiosk."""

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

import websocket

from kiosk import ROOT, Kiosk, Site, free_port

SCRIPT = os.path.join(ROOT, "firmware", "screen-session")
POLICY = os.path.join(ROOT, "firmware", "chromium-policy.json")

# /etc/chromium as the package leaves it, for this session only: this
# machine's files there (Debian's master_preferences) and the policy.
WITH_POLICY = r"""
set -eu
etc=$1
shift
cp -a /etc/chromium/. "$etc/"
mkdir -p "$etc/policies/managed"
cp "$POLICY" "$etc/policies/managed/dropkiosk.json"
mount --bind "$etc" /etc/chromium
exec "$@"
"""


def browser_pids(profile):
    """Chromium's browser process(es) using this profile (not its helpers,
    which carry --type=)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(args[0]) == b"chromium" and \
                (b"--user-data-dir=" + profile.encode()) in args and \
                not any(a.startswith(b"--type=") for a in args):
            pids.append((int(entry), [a.decode() for a in args if a]))
    return pids


@unittest.skipUnless(os.geteuid() == 0, "needs root to run the session as nobody")
class ScreenSessionTest(unittest.TestCase):
    def setUp(self):
        port = free_port()
        self.site = Site(extra="\n[http]\nport = %d\n" % port)
        self.addCleanup(self.site.cleanup)
        self.kiosk = Kiosk(self.site)
        self.addCleanup(self.kiosk.stop)
        self.url = "http://127.0.0.1:%d/" % port
        nobody = pwd.getpwnam("nobody")
        self.home = tempfile.mkdtemp(prefix="dk-screen-")
        self.runtime = tempfile.mkdtemp(prefix="dk-xdg-")
        for d in (self.home, self.runtime):
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
            os.chmod(d, 0o700)
            self.addCleanup(shutil.rmtree, d, True)
        self.profile = os.path.join(self.home, "chromium")
        self.devtools = free_port()
        self.proc = None

    def start(self, policy=POLICY):
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": self.home,
            "XDG_RUNTIME_DIR": self.runtime,
            # No display here: wlroots draws into memory.
            "WLR_BACKENDS": "headless",
            "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_RENDERER": "pixman",
            "DROPKIOSK_URL": self.url,
            "DROPKIOSK_CHROMIUM_FLAGS": "--remote-debugging-port=%d" % self.devtools,
        }
        self.log = open(os.path.join(self.home, "session.log"), "wb")
        self.addCleanup(self.log.close)
        etc = tempfile.mkdtemp(prefix="dk-etc-chromium-")
        self.addCleanup(shutil.rmtree, etc, True)
        env["POLICY"] = policy
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", WITH_POLICY,
             "policy", etc, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             SCRIPT],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        self.addCleanup(self.stop)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def session_log(self):
        with open(os.path.join(self.home, "session.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def pages(self, timeout=60):
        """The pages Chromium shows, once one has loaded from the daemon."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.devtools,
                                            timeout=5) as r:
                    last = [p for p in json.load(r) if p["type"] == "page"]
                if any(p["url"] == self.url and p["title"] for p in last):
                    return last
            except OSError:
                pass
            self.assertIsNone(self.proc.poll(), self.session_log())
            time.sleep(0.5)
        self.fail("Chromium never showed %s; pages %r; log:\n%s"
                  % (self.url, last, self.session_log()))

    def test_chromium_shows_the_kiosk_screen_from_the_daemon(self):
        self.start()
        pages = self.pages()
        self.assertEqual([(p["url"], p["title"]) for p in pages],
                         [(self.url, "Device return kiosk")])

    def test_chromium_runs_in_kiosk_mode_with_sounds_allowed_and_no_way_out(self):
        self.start()
        self.pages()
        found = browser_pids(self.profile)
        self.assertEqual(len(found), 1, found)
        pid, args = found[0]
        for flag in ("--kiosk", "--ozone-platform=wayland",
                     "--autoplay-policy=no-user-gesture-required", "--noerrdialogs",
                     "--disable-pinch", "--overscroll-history-navigation=0",
                     "--disable-background-networking", "--no-first-run"):
            self.assertIn(flag, args)
        self.assertIn(self.url, args)

    def test_session_ends_when_chromium_dies_so_systemd_starts_it_again(self):
        self.start()
        self.pages()
        (pid, _), = browser_pids(self.profile)
        os.kill(pid, signal.SIGKILL)
        # cage exits with its only client; the unit's Restart=always
        # brings both back.
        self.proc.wait(timeout=20)
        self.assertEqual(browser_pids(self.profile), [])

    def navigate(self, page, url):
        """Ask the page to go to url over DevTools; Chromium's error text
        for the navigation, or None when it went there."""
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=20,
                                         suppress_origin=True)
        try:
            ws.send(json.dumps({"id": 1, "method": "Page.navigate", "params": {"url": url}}))
            while True:
                reply = json.loads(ws.recv())
                if reply.get("id") == 1:
                    return reply["result"].get("errorText")
        finally:
            ws.close()

    def test_the_policy_closes_devtools(self):
        self.start()
        page, = [p for p in self.pages() if p["url"] == self.url]
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            self.navigate(page, "file:///etc/hostname")
        self.assertEqual(refused.exception.status_code, 403)

    def test_the_policy_lets_the_screen_open_only_this_machines_pages(self):
        # The policy less the line that closes DevTools, which this test
        # drives the page with.
        with open(POLICY) as f:
            policy = json.load(f)
        self.assertEqual(policy.pop("DeveloperToolsAvailability"), 2)
        path = os.path.join(self.runtime, "policy.json")
        with open(path, "w") as f:
            json.dump(policy, f)
        self.start(path)
        page, = [p for p in self.pages() if p["url"] == self.url]
        self.assertEqual(self.navigate(page, "file:///etc/hostname"),
                         "net::ERR_BLOCKED_BY_ADMINISTRATOR")
        # Loopback, but not an address the policy allows.
        self.assertEqual(self.navigate(page, "http://127.0.0.2:9/"),
                         "net::ERR_BLOCKED_BY_ADMINISTRATOR")
        self.assertIsNone(self.navigate(page, self.url + "tech"))

    def test_each_start_has_a_fresh_profile(self):
        os.makedirs(os.path.join(self.profile, "Default"))
        # A file of the test's, which Chromium itself never writes.
        left = os.path.join(self.profile, "Default", "left-by-the-last-person")
        with open(left, "w") as f:
            f.write("the last person's pages\n")
        nobody = pwd.getpwnam("nobody")
        for path in (self.profile, os.path.dirname(left), left):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        self.start()
        self.pages()
        self.assertFalse(os.path.exists(left))


if __name__ == "__main__":
    unittest.main()
