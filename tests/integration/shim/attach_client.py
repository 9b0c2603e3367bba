#!/usr/bin/env python3
"""A small attach client for silo-shim's attach socket (protocol in src/shim/shim.h).

usage: attach_client.py SOCKET [--tty] [--resize ROWS COLS] [--stdin TEXT]
                        [--stdin-bytes N] [--close-stdin] [--timeout SECONDS]
                        [--connected FILE]

Connects, sends the requests given (resize first, then stdin, then close), and copies
the container's output until the shim closes the connection: stdout payloads to
stdout and stderr payloads to stderr (non-tty, demultiplexing Docker frames), or the
raw bytes to stdout (--tty). Exits 3 when the timeout passes first.
"""
import argparse
import os
import socket
import struct
import sys


def frame(kind, payload=b""):
    return struct.pack(">BI", kind, len(payload)) + payload


def main():
    p = argparse.ArgumentParser()
    p.add_argument("socket")
    p.add_argument("--tty", action="store_true")
    p.add_argument("--resize", nargs=2, type=int)
    p.add_argument("--stdin")
    p.add_argument("--stdin-bytes", type=int)
    p.add_argument("--close-stdin", action="store_true")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--connected")
    a = p.parse_args()

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    s.connect(a.socket)
    if a.connected:
        open(a.connected, "w").close()
    out = b""
    if a.resize:
        out += frame(3, struct.pack(">HH", a.resize[0], a.resize[1]))
    if a.stdin is not None:
        out += frame(1, a.stdin.encode().decode("unicode_escape").encode("latin-1"))
    if a.stdin_bytes:
        # Frames of at most 64 KiB (the shim takes up to 1 MiB a frame).
        left = a.stdin_bytes
        while left > 0:
            n = min(left, 65536)
            out += frame(1, b"x" * n)
            left -= n
    if a.close_stdin:
        out += frame(2)
    if out:
        s.sendall(out)

    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            if a.tty:
                os.write(1, chunk)
                continue
            buf += chunk
            while len(buf) >= 8:
                stream, length = buf[0], struct.unpack(">I", buf[4:8])[0]
                if len(buf) < 8 + length:
                    break
                os.write(2 if stream == 2 else 1, buf[8:8 + length])
                buf = buf[8 + length:]
    except socket.timeout:
        print("attach_client: timed out", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
