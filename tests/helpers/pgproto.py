#!/usr/bin/python3
"""pgproto.py: PostgreSQL wire-protocol probes that psql cannot make.

  direct-tls PORT CA CERT KEY ALPN   PostgreSQL 17 direct TLS (no SSLRequest),
                                     ALPN "postgresql" or "none"; prints the
                                     first message type after the startup
  negotiate PORT                     GSSENCRequest, SSLRequest, then a plain
                                     startup (what a client agent must take);
                                     prints the answers and message type
  inject PORT                        SSLRequest with bytes behind it in one
                                     write; prints what came back ("closed"
                                     if the server hung up)
"""
import socket
import ssl
import struct
import sys

SSLREQ = struct.pack("!II", 8, 80877103)
GSSREQ = struct.pack("!II", 8, 80877104)


def startup(user="postgres", db="postgres"):
    body = struct.pack("!I", 196608)
    for k, v in (("user", user), ("database", db)):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def first_message(s):
    head = recv_exact(s, 5)
    if len(head) < 5:
        return "closed"
    return chr(head[0])


def direct_tls(port, ca, cert, key, alpn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    if alpn != "none":
        ctx.set_alpn_protocols([alpn])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(startup())
        print(first_message(s))
    except (ssl.SSLError, ConnectionError) as e:
        print("refused:", e.__class__.__name__)


def negotiate(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(GSSREQ)
    a = recv_exact(s, 1)
    s.sendall(SSLREQ)
    b = recv_exact(s, 1)
    s.sendall(startup())
    print(a.decode(), b.decode(), first_message(s))


def inject(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(SSLREQ + startup())
    data = s.recv(16)
    print("closed" if not data else repr(data))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "direct-tls":
        direct_tls(int(args[0]), *args[1:])
    elif cmd == "negotiate":
        negotiate(int(args[0]))
    elif cmd == "inject":
        inject(int(args[0]))
    else:
        sys.exit(__doc__)
