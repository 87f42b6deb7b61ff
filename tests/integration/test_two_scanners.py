"""Two scanners of different kinds at once: the pty serial scanner and a
keyboard-wedge (evdev) scanner whose key events come from a recording that
build/tools/evdev-replay plays into a FIFO, through the real back end."""

import os
import time
import unittest

from kiosk import EV_KEY, EV_SYN, FIXTURES, EvdevFifo, Kiosk, Site, write_recording

# Linux key codes (include/uapi/linux/input-event-codes.h).
KEY_1, KEY_2, KEY_3, KEY_4, KEY_0 = 2, 3, 4, 5, 11
KEY_E, KEY_Y, KEY_O = 18, 21, 24
KEY_ENTER = 28
KEY_S, KEY_D = 31, 32
KEY_LEFTSHIFT = 42
KEY_N = 49
KEY_KPENTER = 96


class Keys:
    """Key events as a US-layout wedge scanner sends them: each key down,
    report, up, report, 8 ms apart; `gap` seconds between scans."""

    def __init__(self, start=1700000000.0):
        self.t = start
        self.events = []

    def _event(self, code, value):
        self.events.append((self.t, EV_KEY, code, value))
        self.events.append((self.t, EV_SYN, 0, 0))
        self.t += 0.004

    def tap(self, *codes):
        for code in codes:
            self._event(code, 1)
            self._event(code, 0)
        return self

    def shifted(self, *codes):
        self._event(KEY_LEFTSHIFT, 1)
        self.tap(*codes)
        self._event(KEY_LEFTSHIFT, 0)
        return self

    def gap(self, seconds):
        self.t += seconds
        return self


class TwoKindsOfScannerTest(unittest.TestCase):
    def setUp(self):
        self.site = Site()
        self.site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
        self.site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
        self.wedge = EvdevFifo(self.site, "wedge")
        self.site.add_evdev_scanner("wedge", self.wedge.path, layout="us", terminator="enter")
        self.kiosk = Kiosk(self.site)
        self.wedge.hold()
        self.n = 0

    def tearDown(self):
        self.kiosk.stop()
        self.wedge.close()
        self.site.cleanup()

    def replay(self, keys, speed=1.0):
        self.n += 1
        path = os.path.join(self.site.dir, "recording-%d.events" % self.n)
        write_recording(path, keys.events)
        self.wedge.replay(path, speed)

    def returns(self):
        return self.site.query(
            "SELECT asset_tag, returned_by, charger_declared, flag_not_assignee, "
            "flag_unknown_asset, flag_missing_charger FROM returns ORDER BY id")

    def test_scans_from_wedge_and_serial_scanner_reach_the_visit_in_order(self):
        k = self.kiosk
        self.replay(Keys().tap(KEY_1, KEY_0, KEY_4, KEY_2, KEY_3, KEY_3, KEY_ENTER))
        k.expect(r"Is the charger in the bag\? YES or NO")
        k.scan("YES")
        k.expect("Added asset 104233, charger in the bag. 1 device in this visit.")
        k.scan("104400")
        k.expect(r"Phone Samsung Galaxy A54")
        self.replay(Keys().shifted(KEY_N, KEY_O).tap(KEY_KPENTER))
        k.expect("Added asset 104400, charger not in the bag. 2 devices in this visit.")
        self.replay(Keys().shifted(KEY_D, KEY_O, KEY_N, KEY_E).tap(KEY_ENTER))
        k.expect(r"Who is returning these devices\?")
        k.scan("S100001")
        k.expect("Email the receipt")
        k.type("NO")
        k.expect("Received: 2 devices")
        self.assertEqual(self.returns(), [("104233", "S100001", 1, 0, 0, 0),
                                          ("104400", "S100001", 0, 1, 0, 1)])

    def test_a_recorded_visit_replayed_with_its_timing_loses_and_repeats_nothing(self):
        k = self.kiosk
        keys = Keys().tap(KEY_1, KEY_0, KEY_4, KEY_2, KEY_3, KEY_3, KEY_ENTER).gap(0.3)
        keys.shifted(KEY_Y, KEY_E, KEY_S).tap(KEY_ENTER).gap(0.3)
        keys.tap(KEY_1, KEY_0, KEY_4, KEY_4, KEY_0, KEY_0, KEY_ENTER)
        self.replay(keys)
        k.expect("Added asset 104233, charger in the bag. 1 device in this visit.")
        k.expect(r"Phone Samsung Galaxy A54")
        k.scan("NO")
        k.expect("Added asset 104400, charger not in the bag. 2 devices in this visit.")
        k.type("DONE")
        k.expect(r"Who is returning these devices\?")
        k.type("S100001")
        k.expect("Email the receipt")
        k.type("NO")
        k.expect("Received: 2 devices")
        self.assertEqual(self.returns(), [("104233", "S100001", 1, 0, 0, 0),
                                          ("104400", "S100001", 0, 1, 0, 1)])
        self.assertNotIn("typed nothing", k.log())

    def test_wedge_scanner_going_away_mid_visit_is_survived(self):
        k = self.kiosk
        self.replay(Keys().tap(KEY_1, KEY_0, KEY_4, KEY_2, KEY_3, KEY_3, KEY_ENTER))
        k.expect(r"Is the charger in the bag\? YES or NO")
        self.wedge.close()
        gone = "dropkiosk warning: scanner wedge on %s is gone; the kiosk goes on" % (
            self.wedge.path)
        deadline = time.monotonic() + 10
        while gone not in k.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn(gone, k.log())
        k.scan("YES")
        k.expect("Added asset 104233, charger in the bag. 1 device in this visit.")
        k.type("DONE")
        k.type("SKIP")
        k.expect("Received: 1 device")
        self.assertEqual(self.returns(), [("104233", None, 1, 0, 0, 0)])
        self.assertEqual(k.stop(), 0)


if __name__ == "__main__":
    unittest.main()
