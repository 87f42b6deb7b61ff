"""The daemon under systemd, with systemd's side played by this test: the
sd_notify(3) datagrams on NOTIFY_SOCKET (READY=1 once it is up, WATCHDOG=1
while the main loop turns, STOPPING=1 on SIGTERM), the watchdog's
WATCHDOG_PID rule, and the journal's priority prefixes when stderr is the
stream JOURNAL_STREAM names."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from kiosk import DAEMON, Kiosk, Site

# 400 ms: the daemon must ping at least every 200 ms (half of it).
WATCHDOG_USEC = 400000


class NotifySocket:
    """A Unix datagram socket in a folder of its own, as systemd's."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dk-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.got = []  # (monotonic seconds, text)

    def read_until(self, done, timeout):
        """Take datagrams until done(self.got) or timeout seconds pass."""
        deadline = time.monotonic() + timeout
        while not done(self.got):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return False
            self.got.append((time.monotonic(), data.decode()))
        return True

    def texts(self):
        return [text for _, text in self.got]

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def watchdogs(got):
    return [t for t, text in got if text == "WATCHDOG=1"]


class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.notify = NotifySocket()
        self.kiosk = None

    def tearDown(self):
        if self.kiosk is not None:
            self.kiosk.stop()
        self.notify.close()
        self.site.cleanup()

    def start(self, watchdog_pid=None):
        self.kiosk = Kiosk(self.site, env={
            "NOTIFY_SOCKET": self.notify.path,
            "WATCHDOG_USEC": str(WATCHDOG_USEC),
            "WATCHDOG_PID": watchdog_pid,
        })

    def test_ready_then_watchdog_pings_then_stopping_on_sigterm(self):
        self.start()
        self.assertTrue(self.notify.read_until(lambda got: len(watchdogs(got)) >= 8, 10),
                        self.notify.texts())
        texts = self.notify.texts()
        self.assertEqual(texts[0], "READY=1\nSTATUS=kiosk bolling-lobby-1 at Bolling Building "
                                   "is ready")
        self.assertEqual(set(texts[1:]), {"WATCHDOG=1"})
        # systemd would kill a daemon silent for the whole interval; the
        # daemon aims at a quarter of it, so this holds on a busy machine.
        pings = watchdogs(self.notify.got)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), WATCHDOG_USEC / 1e6, gaps)

        self.assertEqual(self.kiosk.stop(), 0)
        self.assertTrue(self.notify.read_until(
            lambda got: any(text.startswith("STOPPING=1") for _, text in got), 5),
            self.notify.texts())
        stopping = [text for text in self.notify.texts() if text.startswith("STOPPING=1")]
        self.assertEqual(stopping, ["STOPPING=1\nSTATUS=stopping"])

    def test_watchdog_pid_of_another_process_means_no_pings(self):
        """WATCHDOG_PID names the process the watchdog is for; a child that
        inherits the variables must not ping for its parent."""
        self.start(watchdog_pid=str(os.getpid()))
        self.assertTrue(self.notify.read_until(lambda got: len(got) >= 1, 10))
        self.assertTrue(self.notify.texts()[0].startswith("READY=1\n"))
        time.sleep(1.0)  # 2.5 watchdog intervals
        self.notify.read_until(lambda got: False, 0.1)
        self.assertEqual(watchdogs(self.notify.got), [])

    def test_watchdog_pid_of_the_daemon_itself_gets_pings(self):
        """sh execs the daemon, so $$ is the daemon's own pid."""
        script = 'WATCHDOG_PID=$$ exec "$0" -c "$1"'
        log = open(os.path.join(self.site.dir, "daemon.log"), "wb")
        self.addCleanup(log.close)
        self.site.add_scanner("keyboard")
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path,
                   WATCHDOG_USEC=str(WATCHDOG_USEC))
        proc = subprocess.Popen(["/bin/sh", "-c", script, DAEMON, self.site.config],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=log, env=env)
        try:
            self.assertTrue(self.notify.read_until(lambda got: len(watchdogs(got)) >= 3, 10),
                            self.notify.texts())
            self.assertTrue(self.notify.texts()[0].startswith("READY=1\n"))
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=15), 0)


class JournalPrefixTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dk-journal-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_daemon(self, stream_of):
        """The daemon on a config with no scanner, its stderr a file;
        JOURNAL_STREAM names stream_of(that file's stat)."""
        config = os.path.join(self.dir, "dropkiosk.conf")
        with open(config, "w", encoding="utf-8") as f:
            f.write("[kiosk]\ndatabase = k.db\n")
        err_path = os.path.join(self.dir, "stderr")
        with open(err_path, "wb") as err:
            st = os.fstat(err.fileno())
            env = dict(os.environ, JOURNAL_STREAM=stream_of(st))
            proc = subprocess.run([DAEMON, "-c", config], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=err, env=env, timeout=30)
        with open(err_path, encoding="utf-8") as f:
            return proc.returncode, f.read(), config

    def test_stderr_that_is_the_journal_stream_gets_priorities(self):
        status, text, config = self.run_daemon(lambda st: "%d:%d" % (st.st_dev, st.st_ino))
        self.assertEqual(status, 2)
        self.assertEqual(text, "<3>dropkiosk error: %s: no [scanner NAME] section: the kiosk "
                               "needs at least one scanner\n" % config)

    def test_stderr_that_is_not_the_journal_stream_is_plain(self):
        status, text, config = self.run_daemon(lambda st: "%d:%d" % (st.st_dev, st.st_ino + 1))
        self.assertEqual(status, 2)
        self.assertEqual(text, "dropkiosk error: %s: no [scanner NAME] section: the kiosk "
                               "needs at least one scanner\n" % config)


if __name__ == "__main__":
    unittest.main()
