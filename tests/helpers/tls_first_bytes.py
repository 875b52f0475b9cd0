#!/usr/bin/python3
"""tls_first_bytes.py PORT PKI: as app1, over TLS straight to a server
agent in front of tcp_check.py's server, send a request for 1000 bytes
and 100 bytes of upload at once, then close_notify (a half-close: we
keep reading), all before the agent can have reached the database.
Prints "ok" if the 1000 bytes came back, then digests showing that the
database saw exactly the upload and its end; else what went wrong."""
import hashlib
import socket
import ssl
import struct
import sys

port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(pki + "/ca.crt")
ctx.load_cert_chain(pki + "/app1.crt", pki + "/app1.key")
sock = socket.create_connection(("127.0.0.1", port))
sock.settimeout(5)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="localhost")


def pump(want_read=True):
    if out.pending:
        sock.sendall(out.read())
    if want_read:
        b = sock.recv(65536)
        if not b:
            inc.write_eof()
        else:
            inc.write(b)


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
pump(False)
upload = b"x" * 100
tls.write(struct.pack("!Q", 1000) + upload)
try:
    tls.unwrap()		# close_notify out; the peer's comes later
except ssl.SSLWantReadError:
    pass
pump(False)
data = b""
try:
    while True:
        try:
            b = tls.read(65536)
            if not b:
                break
            data += b
        except ssl.SSLWantReadError:
            pump()
except ssl.SSLZeroReturnError:
    pass			# the agent's close_notify: a clean end
except (socket.timeout, ConnectionError, ssl.SSLError) as e:
    print("error after %d bytes: %s" % (len(data), e))
    sys.exit(0)
down, sums = data[:-64], data[-64:]
if len(down) != 1000:
    print("got %d bytes" % len(data))
elif sums != hashlib.sha256(down).digest() + hashlib.sha256(upload).digest():
    print("digests differ")
else:
    print("ok")
