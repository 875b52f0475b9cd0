#!/usr/bin/python3
"""tls_first_bytes.py PORT PKI: as app1, over TLS straight to a server
agent in front of tcp_check.py's server, send a request for 1000 bytes
(and 100 of upload) at once, before the agent can have reached the
database, and print how many bytes came back within 5 s."""
import socket
import ssl
import struct
import sys

port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(pki + "/ca.crt")
ctx.load_cert_chain(pki + "/app1.crt", pki + "/app1.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                    server_hostname="localhost")
s.settimeout(5)
s.sendall(struct.pack("!Q", 1000) + b"x" * 100)
got = 0
try:
    while got < 1000:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
except (socket.timeout, ConnectionError, ssl.SSLError):
    pass
print(got)
