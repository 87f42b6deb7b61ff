#!/usr/bin/python3
"""Run every tests/integration/test_*.py against the built programs.

Closes with one line "integration: N passed, N failed, N skipped"; exits
non-zero when anything failed.
"""

import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def stop_leftovers():
    """End any daemon or SMTP server a failed test left running (the tests
    start them as children of this process)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                # The parent pid is the second field after the ")" that
                # closes the command name.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            try:
                os.kill(int(entry), signal.SIGTERM)
            except OSError:
                pass


def main():
    sys.path.insert(0, HERE)
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    try:
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    finally:
        stop_leftovers()
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    # A class whose setUpClass fails counts one failure but runs no test.
    passed = max(result.testsRun - failed - skipped, 0)
    print("integration: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
