#!/usr/bin/python3
"""A network receipt printer for tests: listens on 127.0.0.1 like the raw
"port 9100" interface of an Ethernet ESC/POS printer, appends every byte it
receives to FILE, and answers the real-time status requests DLE EOT 1, 2
and 4 (10 04 n) with one byte each, as an Epson TM printer does.

    printer_sink.py [--port N] [--paper-out | --cover-open | --offline]
                    [--silent] [--close-after N] FILE

--port 0 (the default) takes a free port; the port is printed on stdout as
one line once the sink listens.  --paper-out, --cover-open and --offline
set the status answers; --silent answers nothing; --close-after N drops the
connection (with a reset, as a printer that loses power does) once N bytes
of slip data (bytes that are not a status request) have come on it.
FILE is emptied at start.  Runs until killed.  Python standard library only.
"""

import argparse
import socket
import socketserver
import struct
import sys
import threading

DLE, EOT = 0x10, 0x04

# Status bytes (ESC/POS DLE EOT): bits 1 and 4 are always on, 0 and 7 off.
#   n = 1 printer status: bit 3 offline
#   n = 2 offline cause:  bit 2 cover open, bit 5 stopped at paper end,
#                         bit 6 an error occurred
#   n = 4 paper sensor:   bits 5 and 6 roll paper end
READY = {1: 0x12, 2: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x72}
COVER_OPEN = {1: 0x1A, 2: 0x16, 4: 0x12}
OFFLINE = {1: 0x1A, 2: 0x52, 4: 0x12}

# A printer's own input buffer is a few kilobytes; a small receive buffer
# makes the sender feel the printer's pace as it would on a real one.
RECEIVE_BUFFER = 4096


class Sink:
    def __init__(self, path, answers, close_after):
        self.path = path
        self.answers = answers  # None: never answer
        self.close_after = close_after
        self.lock = threading.Lock()

    def record(self, data):
        with self.lock:
            with open(self.path, "ab") as f:
                f.write(data)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sink = self.server.sink
        sock = self.request
        pending = b""  # the start of a status request split across reads
        slip_bytes = 0
        while True:
            try:
                chunk = sock.recv(4096)
            except ConnectionError:
                return
            if not chunk:
                return  # the sender is done: close our side too
            data = pending + chunk
            pending = b""
            kept = bytearray()
            replies = bytearray()
            i = 0
            dropped = False
            while i < len(data):
                if data[i] == DLE and i + 1 >= len(data):
                    pending = data[i:]
                    break
                if data[i] == DLE and data[i + 1] == EOT and i + 2 >= len(data):
                    pending = data[i:]
                    break
                if (data[i] == DLE and data[i + 1] == EOT and data[i + 2] in (1, 2, 4)):
                    kept += data[i:i + 3]
                    if sink.answers is not None:
                        replies.append(sink.answers[data[i + 2]])
                    i += 3
                    continue
                if sink.close_after is not None and slip_bytes == sink.close_after:
                    dropped = True
                    break
                kept.append(data[i])
                slip_bytes += 1
                i += 1
            sink.record(bytes(kept))
            if dropped:
                # SO_LINGER with a zero timeout: close() sends a reset.
                # Closed here, before socketserver's own shutdown could
                # send an orderly end of file first.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                return
            if replies:
                try:
                    sock.sendall(bytes(replies))
                except ConnectionError:
                    return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        super().server_bind()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    state = ap.add_mutually_exclusive_group()
    state.add_argument("--paper-out", action="store_true")
    state.add_argument("--cover-open", action="store_true")
    state.add_argument("--offline", action="store_true")
    ap.add_argument("--silent", action="store_true", help="never answer a status request")
    ap.add_argument("--close-after", type=int, default=None, metavar="N")
    ap.add_argument("file")
    args = ap.parse_args()

    answers = READY
    if args.paper_out:
        answers = PAPER_OUT
    elif args.cover_open:
        answers = COVER_OPEN
    elif args.offline:
        answers = OFFLINE
    if args.silent:
        answers = None
    open(args.file, "wb").close()  # a new printer records from nothing
    server = Server(("127.0.0.1", args.port), Handler)
    server.sink = Sink(args.file, answers, args.close_after)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
