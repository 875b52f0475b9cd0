#!/usr/bin/python3
"""scrape.py ADDR PATH [hold N SECONDS | bigheader N]: one HTTP GET of
PATH at ADDR ("host:port" or "unix:/path"); prints "STATUS" then the body.
  hold N S      open N connections that send nothing, keep them S seconds,
                and print how many the server closed early
  slow N S      open N connections that send a header line every second
                for S seconds (never idle, never done); print how many the
                server closed
  bigheader N   send a request with an N-byte header; print the status
                (0 if the server closed without answering)
"""
import http.client
import socket
import sys
import time


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(addr[5:])
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(15)
    return s


class Conn(http.client.HTTPConnection):
    def __init__(self, addr):
        super().__init__("localhost", timeout=15)
        self.addr = addr

    def connect(self):
        self.sock = connect(self.addr)


def get(addr, path):
    c = Conn(addr)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    return r.status, body


addr, path = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3 and sys.argv[3] == "hold":
    n, secs = int(sys.argv[4]), float(sys.argv[5])
    socks = [connect(addr) for _ in range(n)]
    print("holding", n, flush=True)
    time.sleep(secs)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print("closed", closed)
elif len(sys.argv) > 3 and sys.argv[3] == "slow":
    n, secs = int(sys.argv[4]), float(sys.argv[5])
    socks = [connect(addr) for _ in range(n)]
    for s in socks:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n")
    print("slow", n, flush=True)
    closed = set()
    end = time.time() + secs
    while time.time() < end and len(closed) < n:
        time.sleep(1)
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.sendall(b"X-Slow: 1\r\n")
                s.setblocking(False)
                if s.recv(1) == b"":
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
            finally:
                s.setblocking(True)
    print("closed", len(closed))
elif len(sys.argv) > 3 and sys.argv[3] == "bigheader":
    s = connect(addr)
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Big: "
                  + b"a" * int(sys.argv[4]) + b"\r\n\r\n")
    except OSError:
        pass
    try:
        head = s.recv(100)
    except OSError:
        head = b""
    print(int(head.split()[1]) if head.startswith(b"HTTP/") else 0)
else:
    status, body = get(addr, path)
    print(status)
    sys.stdout.write(body)
