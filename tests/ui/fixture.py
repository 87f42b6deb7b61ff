#!/usr/bin/python3
"""A scratch kiosk site with the real daemon, for the browser tests.

Starts tests/integration/kiosk.py's Site and Kiosk (the daemon with a pty
as its serial scanner and its terminal as a second one) with an [http]
section on a free loopback port, imports the integration fixtures'
staff.csv and assets.csv, and prints one JSON line:

    {"url": "http://127.0.0.1:PORT/", "db": PATH, "dir": PATH, "config": PATH,
     "printed": PATH|null}

Then it reads commands on stdin, one a line, and answers each with one
JSON line on stdout:

    scan TEXT    TEXT + CR on the pty, as a barcode scanner sends it
                 -> {"ok": true}
    type TEXT    a line typed at the daemon's terminal -> {"ok": true}
    sql QUERY    a query on the kiosk's database -> {"rows": [[...], ...]}
    tech NAME BADGE PIN
                 dropkioskctl tech add --name NAME --badge BADGE --pin-stdin
                 with PIN on its stdin (NAME may have spaces; BADGE and PIN
                 not) -> {"id": "T0001"}
    log          -> {"log": the daemon's stderr so far}
    quit         stop the daemon, remove the site, exit

A command that fails answers {"error": REASON}.  End of input is quit.
Neither scan nor type waits for the kiosk's answer: a test waits for what
the page shows.

Flags: --idle-timeout SECONDS, --printer (a file printer writing slips to
the site's printed/ folder), --ui DIR (another UI folder than this tree's
kiosk-ui/, which the daemon serves by default), --checklist ([kiosk]
checklist = yes, the reference default: phones and tablets get their
checklist before the bin; without it the site says checklist = no), --rule
RULE (a [disposition] rule line, e.g. "always -> reimage"; repeat it for
more, in order).
"""

import argparse
import importlib.util
import json
import os
import re
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load_kiosk_module():
    """tests/integration/kiosk.py, imported by its path (it is not a
    package)."""
    path = os.path.join(ROOT, "tests", "integration", "kiosk.py")
    spec = importlib.util.spec_from_file_location("dk_integration_kiosk", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def idle_seconds(text):
    """[kiosk] idle_timeout's range, checked here: a Site whose config the
    daemon refuses would be left behind by kiosk.py's Site()."""
    value = int(text)
    if not 5 <= value <= 86400:
        raise argparse.ArgumentTypeError("idle timeout must be 5 to 86400 seconds")
    return value


def rule_line(text):
    """A [disposition] rule: one line of the config, so no line break."""
    if not text.strip() or "\n" in text or "\r" in text:
        raise argparse.ArgumentTypeError("a rule is one non-empty line")
    return text


def parse_args():
    ap = argparse.ArgumentParser(description="a scratch kiosk for the browser tests")
    ap.add_argument("--idle-timeout", type=idle_seconds, default=300,
                    help="[kiosk] idle_timeout in seconds (at least 5)")
    ap.add_argument("--printer", action="store_true",
                    help="a file printer writing slips to the site's printed/")
    ap.add_argument("--ui", help="the UI folder to serve (default: this tree's kiosk-ui)")
    ap.add_argument("--checklist", action="store_true",
                    help="[kiosk] checklist = yes: the phone and tablet checklist")
    ap.add_argument("--rule", action="append", default=[], type=rule_line,
                    help="a [disposition] rule line (repeat for more, in order)")
    return ap.parse_args()


def config_extra(port, args):
    extra = "\n[http]\nport = %d\n" % port
    if args.ui:
        extra += "ui = %s\n" % os.path.abspath(args.ui)
    if args.printer:
        extra += "\n[printer slips]\ntype = file\ndevice = printed\nwidth = 80\n"
    if args.rule:
        extra += "\n[disposition]\n" + "".join("rule = %s\n" % r for r in args.rule)
    return extra


def wait_for_http(port, kiosk, timeout=10):
    """The daemon prints its prompt once its loop runs; make sure the web
    server answers too before handing the address out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("the daemon's web server never answered on 127.0.0.1:%d; log:\n%s"
                         % (port, kiosk.log()))


def reply(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def add_tech(site, arg):
    """tech NAME BADGE PIN: dropkioskctl tech add, the PIN on its stdin;
    the technician id it gave."""
    parts = arg.rsplit(" ", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError("tech wants: tech NAME BADGE PIN")
    name, badge, pin = parts
    out = site.ctl("tech", "add", "--name", name, "--badge", badge, "--pin-stdin",
                   stdin=pin.encode() + b"\n").stdout.decode()
    m = re.match(r"added technician (\S+) ", out)
    if m is None:
        raise AssertionError("dropkioskctl tech add said %r" % out)
    return m.group(1)


def handle(line, site, kiosk):
    """Run one command; False when it was quit."""
    verb, _, arg = line.partition(" ")
    if verb == "quit":
        return False
    try:
        if verb == "scan":
            kiosk.scan(arg, wait=False)
            reply({"ok": True})
        elif verb == "type":
            kiosk.type(arg, wait=False)
            reply({"ok": True})
        elif verb == "sql":
            rows = site.query(arg)
            reply({"rows": [list(r) for r in rows]})
        elif verb == "tech":
            reply({"id": add_tech(site, arg)})
        elif verb == "log":
            reply({"log": kiosk.log()})
        else:
            reply({"error": "unknown command %r: use scan, type, sql, tech, log or quit"
                            % verb})
    except Exception as e:  # the test reads the reason; the fixture goes on
        reply({"error": "%s: %s" % (type(e).__name__, e)})
    return True


def serve(site, kiosk, printed):
    reply({"url": "http://127.0.0.1:%d/" % kiosk.port, "db": site.db, "dir": site.dir,
           "config": site.config, "printed": printed})
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        if line and not handle(line, site, kiosk):
            break


def start(km, args, port):
    """The site and its running daemon; (site, kiosk, printed folder)."""
    site = km.Site(idle_timeout=args.idle_timeout, extra=config_extra(port, args),
                   checklist=args.checklist)
    try:
        printed = None
        if args.printer:
            printed = os.path.join(site.dir, "printed")
            os.makedirs(printed)
        site.ctl("import", "staff", os.path.join(km.FIXTURES, "staff.csv"))
        site.ctl("import", "assets", os.path.join(km.FIXTURES, "assets.csv"))
        kiosk = km.Kiosk(site)
    except BaseException:
        site.cleanup()
        raise
    try:
        kiosk.port = port
        wait_for_http(port, kiosk)
    except BaseException:
        kiosk.stop()
        site.cleanup()
        raise
    return site, kiosk, printed


def main():
    args = parse_args()

    # SIGTERM from the test runner ends the fixture like end of input: the
    # daemon is stopped and the site removed either way.
    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    km = load_kiosk_module()
    try:
        site, kiosk, printed = start(km, args, km.free_port())
    except KeyboardInterrupt:
        return 1
    except Exception as e:
        # The first line is the test's to read: say why there is no kiosk.
        reply({"error": "cannot start the kiosk: %s: %s" % (type(e).__name__, e)})
        return 1
    try:
        serve(site, kiosk, printed)
    except KeyboardInterrupt:
        pass
    finally:
        kiosk.stop()
        site.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
