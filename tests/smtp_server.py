#!/usr/bin/python3
"""A real SMTP server on loopback for dropkiosk's tests (Debian's aiosmtpd).

Run it with /usr/bin/python3 (the Debian interpreter that has aiosmtpd), not
whichever python3 is first on PATH:

    /usr/bin/python3 tests/smtp_server.py --port 0 DIR

The first line on stdout is the port it listens on (useful with --port 0).
Every accepted message N (counting from 1) is saved as two files in DIR:

    N.eml   the message bytes exactly as received (after dot-unstuffing)
    N.env   the envelope, one line each: "MAIL FROM:<a>", "RCPT TO:<b>"...,
            and "AUTH user" when the client authenticated

N.env is written first and each file appears by rename, so a test that sees
N.eml can read both whole.  "Accepted" means saved: a message is saved just
before its 250 reply, so the count of N.eml files is the count of messages
this server took responsibility for (RFC 5321 section 6.1).

Flags make the server misbehave, so tests can reach permanent and temporary
failures.  Each refusal code is 4xx or 5xx:

    --greeting 421      answer the connection with that code and close it
    --fail-mail 451     answer MAIL FROM with that code
    --reject-rcpt 550   answer every RCPT TO with that code
    --fail-data 451     answer the end of DATA with that code
    --drop-data         close the connection instead of answering the end of
                        DATA (the message is not kept)
    --drop-mid-data     after the 354, read one line of the message, then
                        close the connection
    --stall WHERE       say nothing for --stall-seconds (default 30) at WHERE:
                          greeting  before the 220 greeting
                          data      before the 354 that answers DATA
                          end       after the final dot, before saving
                                    (a client that leaves meanwhile loses
                                    nothing: the message is not kept)
                          accepted  after saving the message, before the 250
                                    (the RFC 1047 window: the client cannot
                                    know the message was taken)
                          quit      before the 221 that answers QUIT
    --faults N          misbehave on the first N connections only, then
                        serve normally (default 0: on every connection)
    --auth USER:PASS    require AUTH PLAIN/LOGIN with these credentials
                        (over plain TCP: this is a loopback test server)

The server never offers STARTTLS, so a client that requires it must refuse
to go on.  Each connection, fault and saved message is logged on stderr.
"""

import argparse
import asyncio
import ipaddress
import os
import signal
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# Replies for the refusal flags, with enhanced status codes (RFC 3463).
REPLY_TEXT = {
    4: "4.3.0 Temporary failure requested by test server",
    5: "5.1.1 Mailbox unavailable (refused by test server)",
}

STALL_PLACES = ("greeting", "data", "end", "accepted", "quit")


def reply(code):
    return "%d %s" % (code, REPLY_TEXT[code // 100])


class TestSMTP(SMTP):
    """aiosmtpd's server, one per connection, told whether this connection
    is one of the faulty ones (see --faults)."""

    def __init__(self, handler, args, faulty, **kw):
        super().__init__(handler, **kw)
        self.args = args
        self.faulty = faulty

    def fault(self, name):
        """The value of fault flag `name` on this connection (None when the
        flag is off or this connection is past --faults)."""
        return getattr(self.args, name) if self.faulty else None

    async def stall(self, where):
        if self.fault("stall") == where:
            log("stalling %s seconds at %s" % (self.args.stall_seconds, where))
            await asyncio.sleep(self.args.stall_seconds)

    async def _handle_client(self):
        # The greeting is sent by aiosmtpd's own connection loop, so the
        # greeting faults wrap that loop rather than a handler hook.
        code = self.fault("greeting")
        if code:
            log("answering the connection with %d and closing it" % code)
            await self.push(reply(code))
            self.transport.close()
            return
        await self.stall("greeting")
        await super()._handle_client()

    async def smtp_DATA(self, arg):
        if self.envelope.rcpt_tos and not arg:
            await self.stall("data")
            if self.fault("drop_mid_data"):
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                line = await self._reader.readuntil(b"\r\n")
                log("dropping the connection in DATA after %d bytes" % len(line))
                self.transport.close()
                return
        await super().smtp_DATA(arg)


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        code = server.fault("fail_mail")
        if code:
            log("refusing MAIL FROM:<%s> with %d" % (address, code))
            return reply(code)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = server.fault("reject_rcpt")
        if code:
            log("refusing RCPT TO:<%s> with %d" % (address, code))
            return reply(code)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if server.fault("drop_data"):
            log("dropping the connection at end of DATA")
            server.transport.close()
            return "421 4.3.0 closing (test server)"
        code = server.fault("fail_data")
        if code:
            log("refusing DATA with %d" % code)
            return reply(code)
        # A client that goes away during this stall cancels the handler
        # (aiosmtpd's eof_received), so nothing is saved.
        await server.stall("end")
        self.count += 1
        self.save(self.count, session, envelope)
        log("saved message %d from %s to %s"
            % (self.count, envelope.mail_from, ",".join(envelope.rcpt_tos)))
        await server.stall("accepted")
        return "250 2.0.0 Message accepted as %d" % self.count

    async def handle_QUIT(self, server, session, envelope):
        await server.stall("quit")
        return "221 Bye"

    def save(self, n, session, envelope):
        lines = ["MAIL FROM:<%s>" % envelope.mail_from]
        lines += ["RCPT TO:<%s>" % r for r in envelope.rcpt_tos]
        if session.authenticated and session.auth_data is not None:
            lines.append("AUTH %s" % session.auth_data.decode("utf-8", "replace"))
        write_file(os.path.join(self.args.dir, "%d.env" % n),
                   ("\n".join(lines) + "\n").encode("utf-8"))
        write_file(os.path.join(self.args.dir, "%d.eml" % n),
                   envelope.original_content)


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user
              and auth_data.password == self.password)
        log("AUTH %s %s" % (mechanism, "accepted" if ok else "refused"))
        # auth_data is what session.auth_data becomes: keep the user only,
        # never the password.
        return AuthResult(success=ok, handled=False,
                          auth_data=self.user if ok else None)


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def log(text):
    print("smtp_server: " + text, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description="SMTP server on loopback for tests")
    p.add_argument("dir", help="folder to save accepted messages in")
    p.add_argument("--host", default="127.0.0.1", help="loopback address")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--greeting", type=int, metavar="CODE")
    p.add_argument("--fail-mail", type=int, metavar="CODE")
    p.add_argument("--reject-rcpt", type=int, metavar="CODE")
    p.add_argument("--fail-data", type=int, metavar="CODE")
    p.add_argument("--drop-data", action="store_true")
    p.add_argument("--drop-mid-data", action="store_true")
    p.add_argument("--stall", choices=STALL_PLACES)
    p.add_argument("--stall-seconds", type=float, default=30.0, metavar="N")
    p.add_argument("--faults", type=int, default=0, metavar="N")
    p.add_argument("--auth", metavar="USER:PASS")
    args = p.parse_args()
    for code in (args.greeting, args.fail_mail, args.reject_rcpt, args.fail_data):
        if code is not None and not 400 <= code <= 599:
            p.error("refusal codes are 4xx or 5xx, not %d" % code)
    if args.faults < 0:
        p.error("--faults wants a count of connections, not %d" % args.faults)
    # A test server with no TLS and test credentials stays on loopback.
    if not ipaddress.ip_address(args.host).is_loopback:
        p.error("--host must be a loopback address, not %s" % args.host)
    if not os.path.isdir(args.dir):
        p.error("no such folder: %s" % args.dir)
    return args


def make_smtp(args, handler):
    # aiosmtpd's idle timeout must outlast the longest stall.
    kw = {"hostname": "localhost", "timeout": max(30, args.stall_seconds + 30)}
    if args.auth:
        # Plain-text AUTH is the point here (loopback, test credentials), so
        # aiosmtpd's warning about it would only be noise in test output.
        warnings.filterwarnings("ignore", message="Requiring AUTH while not")
        user, _, password = args.auth.partition(":")
        kw.update(authenticator=Authenticator(user, password),
                  auth_required=True, auth_require_tls=False)
    connections = 0

    def factory():
        nonlocal connections
        connections += 1
        faulty = args.faults == 0 or connections <= args.faults
        log("connection %d%s" % (connections, "" if faulty else " (no fault)"))
        return TestSMTP(handler, args, faulty, **kw)
    return factory


async def serve(args):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(make_smtp(args, Handler(args)),
                                      host=args.host, port=args.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()
    await server.wait_closed()


def main():
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    main()
