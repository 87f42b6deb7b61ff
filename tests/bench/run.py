#!/usr/bin/python3
"""`make bench`: how fast the kiosk answers, on this machine.

- scan to answer: a tag written to the pty scanner until the kiosk's
  answer appears on its screen (the daemon's stdout), 300 scans;
- clean-out: a cart of 500 devices through `dropkioskctl cleanout`,
  whole process, three runs.

Figures only; nothing here passes or fails on a time.
"""

import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from kiosk import FIXTURES, Kiosk, Site  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def bench_scan_latency(n=300):
    site = Site()
    site.ctl("import", "staff", os.path.join(FIXTURES, "staff.csv"))
    site.ctl("import", "assets", os.path.join(FIXTURES, "assets.csv"))
    kiosk = Kiosk(site)
    times = []
    try:
        for _ in range(n):
            start = time.monotonic()
            kiosk.scan("104233", wait=False)
            kiosk.expect("Is the charger in the bag", interval=0.0001)
            times.append((time.monotonic() - start) * 1000.0)
            kiosk.scan("CANCEL")
            kiosk.expect("Ready.")
    finally:
        kiosk.stop()
        site.cleanup()
    print("scan to answer (pty scanner, %d scans): median %.2f ms, p99 %.2f ms, max %.2f ms"
          % (n, statistics.median(times), percentile(times, 99), max(times)))


def cart_site(n):
    site = Site()
    path = os.path.join(site.dir, "cart.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("Asset Tag,Serial,Type,Model\n")
        for i in range(n):
            f.write("%d,CB%d,chromebook,Lenovo 300e Chromebook Gen 3\n" % (300000 + i, i))
    site.ctl("import", "assets", path)
    site.ctl("tech", "add", "--name", "Bench Tech", "--badge", "BENCH1", "--pin-stdin",
             stdin=b"2468\n")
    return site


def bench_cleanout(n=500, runs=3):
    seconds = []
    for _ in range(runs):
        site = cart_site(n)
        tags = "".join("%d\n" % (300000 + i) for i in range(n))
        start = time.monotonic()
        site.ctl("cleanout", "--school", "Bench Elementary", "--tech", "BENCH1",
                 "--pin-stdin", "-", stdin=("2468\n" + tags).encode())
        seconds.append(time.monotonic() - start)
        site.cleanup()
    best = min(seconds)
    print("clean-out of %d devices (whole process, %d runs): best %.2f s (%.2f ms a device), "
          "worst %.2f s" % (n, runs, best, best * 1000.0 / n, max(seconds)))


def main():
    bench_scan_latency()
    bench_cleanout()


if __name__ == "__main__":
    main()
