#!/usr/bin/python3
"""sockprobe.py: hostile and lazy peers.

  silent PORT WAIT          connect, send nothing; print "closed" if the
                            far end hangs up within WAIT seconds, else "open"
  garbage PORT N SEED       N connections, each sending 1-4000 random bytes
                            (some starting like TLS or PostgreSQL); print how
                            many the far end closed within 5 s
  hold PORT N WAIT          open N silent connections, hold them WAIT s
  silentmany PORT N WAIT    open N silent connections at once; print
                            "closed K of N, the last S s after it opened"
                            for those the far end hung up within WAIT s
"""
import os
import random
import selectors
import socket
import struct
import sys
import time


def closed_within(s, wait):
    deadline = time.monotonic() + wait
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            s.settimeout(left)
            if not s.recv(65536):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def silent(port, wait):
    s = socket.create_connection(("127.0.0.1", port))
    print("closed" if closed_within(s, wait) else "open")


def garbage(port, n, seed):
    rnd = random.Random(seed)
    heads = [b"", b"\x16\x03\x01", b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
             struct.pack("!II", 9999, 196608), b"\x16\x03\x03\x40\x00"]
    closed = 0
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        body = rnd.choice(heads) + bytes(rnd.getrandbits(8)
                                         for _ in range(rnd.randint(1, 4000)))
        try:
            s.sendall(body)
        except OSError:
            pass
        closed += closed_within(s, 5)
        s.close()
    print(closed)


def hold(port, n, wait):
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    print("holding", flush=True)
    time.sleep(wait)
    for s in socks:
        s.close()


def silentmany(port, n, wait):
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, time.monotonic())
    print("holding", flush=True)
    closed, last = 0, 0.0
    deadline = time.monotonic() + wait
    while closed < n and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            try:
                if key.fileobj.recv(65536):
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            last = max(last, time.monotonic() - key.data)
            closed += 1
            sel.unregister(key.fileobj)
            key.fileobj.close()
    print("closed %d of %d, the last %.1f s after it opened"
          % (closed, n, last))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "silent":
        silent(int(args[0]), float(args[1]))
    elif cmd == "garbage":
        garbage(int(args[0]), int(args[1]), int(args[2]))
    elif cmd == "hold":
        hold(int(args[0]), int(args[1]), float(args[2]))
    elif cmd == "silentmany":
        silentmany(int(args[0]), int(args[1]), float(args[2]))
    else:
        sys.exit(__doc__)
