#!/usr/bin/python3
"""tcp_check.py: check that a tunnel carries a byte stream exactly, in
both directions at once, and carries a half-close.

  server PORT [PAUSE_S]   per connection: read an 8-byte length D, send D
                          random bytes while reading the client's upload
                          (after waiting PAUSE_S, to test backpressure),
                          then, once the upload has ended (the client's
                          FIN), send sha256(download) + sha256(upload)
                          and close
  client PORT UP DOWN     send D=DOWN, UP random bytes, shut down writing;
                          read everything; check both digests; prints
                          "ok UP DOWN"
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024


def send_random(sock, n, digest):
    while n > 0:
        b = os.urandom(min(n, CHUNK))
        digest.update(b)
        sock.sendall(b)
        n -= len(b)


def serve(conn, pause):
    head = b""
    while len(head) < 8:
        b = conn.recv(8 - len(head))
        if not b:
            return
        head += b
    (down,) = struct.unpack("!Q", head)
    dsum = hashlib.sha256()
    sender = threading.Thread(target=send_random, args=(conn, down, dsum))
    sender.start()
    time.sleep(pause)
    usum = hashlib.sha256()
    while True:
        b = conn.recv(CHUNK)
        if not b:
            break
        usum.update(b)
    sender.join()
    conn.sendall(dsum.digest() + usum.digest())
    conn.close()


def server(port, pause=0.0):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1024)  # the agents dial hundreds at once in some cases
    print("listening", flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, pause), daemon=True).start()


def client(port, up, down):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(struct.pack("!Q", down))
    usum = hashlib.sha256()

    def upload():
        send_random(s, up, usum)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=upload)
    t.start()
    got = bytearray()
    dsum = hashlib.sha256()
    total = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            break
        total += len(b)
        got += b
        if len(got) > 64:  # keep only the tail that may be the digests
            dsum.update(got[:-64])
            del got[:-64]
    t.join()
    if total != down + 64:
        sys.exit("got %d bytes, expected %d" % (total, down + 64))
    if bytes(got[:32]) != dsum.digest():
        sys.exit("download corrupted")
    if bytes(got[32:]) != usum.digest():
        sys.exit("upload corrupted")
    print("ok", up, down)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0)
    else:
        client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
