#!/usr/bin/python3
"""rogue.py: a peer that speaks the streams protocol (ALPN dbtls/1) with
records it writes itself, to send what an honest agent never would.
Python's ssl does the handshake (its key log gives the traffic
secrets); then the records are sealed and opened here, with
python3-cryptography's AEADs and HKDF-Expand-Label (RFC 8446 7.1).

  client PORT PKI STEPS   connect as app1 to a server agent
  server PORT PKI STEPS   accept one client agent (as the server cert)

STEPS, comma-separated, each sent at once with those before it:
  open ok fin abort       control records
  data:TEXT               a data record
  big:KIB                 KIB KiB of data, in 16 KiB records
  wait:MS                 flush, then pause
  expect:open             (server) read until the client's OPEN
  read                    flush, then print what arrives until the
                          connection ends or 3 s pass: "ctl OK",
                          "data N", "alert N", then "closed" or
                          "timeout"
"""
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import tempfile
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from truncate import tls_context   # the same certificates, from one place

CTL = {"open": 1, "fin": 2, "abort": 3, "fin_last": 4, "ok": 5, "refuse": 6}
NAMES = {v: k.upper() for k, v in CTL.items()}
SUITES = {"TLS_AES_128_GCM_SHA256": (AESGCM, 16, "sha256"),
          "TLS_AES_256_GCM_SHA384": (AESGCM, 32, "sha384"),
          "TLS_CHACHA20_POLY1305_SHA256": (ChaCha20Poly1305, 32, "sha256")}


def expand_label(md, secret, label, length):
    info = struct.pack(">H", length) + bytes([6 + len(label)]) + \
        b"tls13 " + label + b"\x00"
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), md).digest()
        out += block
        i += 1
    return out[:length]


class Direction:
    def __init__(self, suite, secret):
        self.aead, self.klen, self.md = SUITES[suite]
        self.set(secret)

    def set(self, secret):
        self.secret = secret
        self.key = self.aead(expand_label(self.md, secret, b"key", self.klen))
        self.iv = expand_label(self.md, secret, b"iv", 12)
        self.seq = 0

    def update(self):
        self.set(expand_label(self.md, self.secret, b"traffic upd",
                              len(self.secret)))

    def nonce(self):
        n = bytearray(self.iv)
        for i in range(8):
            n[11 - i] ^= (self.seq >> (8 * i)) & 0xff
        self.seq += 1
        return bytes(n)

    def seal(self, ctype, data):
        hdr = b"\x17\x03\x03" + struct.pack(">H", len(data) + 1 + 16)
        return hdr + self.key.encrypt(self.nonce(), data + bytes([ctype]), hdr)

    def open(self, rec):
        inner = self.key.decrypt(self.nonce(), rec[5:], rec[:5]).rstrip(b"\0")
        return inner[-1], inner[:-1]


class Rogue:
    def __init__(self, sock, keylog, client):
        suite = sock.cipher()[0]
        secrets = {}
        for line in open(keylog):
            f = line.split()
            if len(f) == 3:
                secrets[f[0]] = bytes.fromhex(f[2])
        mine, theirs = ("CLIENT", "SERVER") if client else ("SERVER", "CLIENT")
        self.tx = Direction(suite, secrets[mine + "_TRAFFIC_SECRET_0"])
        self.rx = Direction(suite, secrets[theirs + "_TRAFFIC_SECRET_0"])
        # From here on the records are ours: the raw socket only.
        self.raw = socket.socket(fileno=os.dup(sock.fileno()))
        self.out = b""
        self.inbuf = b""

    def send(self, ctype, data):
        self.out += self.tx.seal(ctype, data)

    def flush(self):
        if self.out:
            self.raw.sendall(self.out)
            self.out = b""

    def records(self, timeout):
        """Yield (type, content) as they arrive; None when it ends."""
        self.raw.settimeout(timeout)
        while True:
            while len(self.inbuf) >= 5:
                n = struct.unpack(">H", self.inbuf[3:5])[0]
                if len(self.inbuf) < 5 + n:
                    break
                rec, self.inbuf = self.inbuf[:5 + n], self.inbuf[5 + n:]
                ctype, data = self.rx.open(rec)
                if ctype == 22:
                    if data[:1] == b"\x18":
                        self.rx.update()
                    continue        # tickets, key updates
                yield ctype, data
            try:
                b = self.raw.recv(65536)
            except socket.timeout:
                yield "timeout"
                return
            except ConnectionResetError:
                b = b""
            if not b:
                yield None
                return
            self.inbuf += b

    def report(self, timeout=3.0):
        for r in self.records(timeout):
            if r is None or r == "timeout":
                print("closed" if r is None else "timeout", flush=True)
                return
            ctype, data = r
            if ctype == 224:
                print("ctl", NAMES.get(data[0], data[0]), flush=True)
            elif ctype == 23:
                print("data", len(data), flush=True)
            elif ctype == 21:
                print("alert", data[1], flush=True)

    def run(self, steps):
        for step in steps.split(","):
            name, _, arg = step.partition(":")
            if name in CTL:
                self.send(224, bytes([CTL[name]]))
            elif name == "data":
                self.send(23, arg.encode())
            elif name == "big":
                for _ in range(int(arg) // 16):
                    self.send(23, b"a" * 16384)
            elif name == "wait":
                self.flush()
                time.sleep(int(arg) / 1000)
            elif name == "expect":
                self.flush()
                for r in self.records(5):
                    if r in (None, "timeout", (224, bytes([CTL[arg]]))):
                        break
            elif name == "read":
                self.flush()
                self.report()
        self.flush()


def context(side, pki, keylog):
    ctx = tls_context(side, pki)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["dbtls/1"])
    ctx.keylog_filename = keylog
    if side == "server":
        ctx.num_tickets = 0     # else OpenSSL's tickets take sequence numbers
    return ctx


def main():
    side, port, pki, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[4]
    keylog = tempfile.mktemp(prefix="rogue-keylog.")
    ctx = context(side, pki, keylog)
    if side == "client":
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    else:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen()
        print("listening", flush=True)
        c, _ = ls.accept()
        s = ctx.wrap_socket(c, server_side=True)
    assert s.selected_alpn_protocol() == "dbtls/1", s.selected_alpn_protocol()
    rogue = Rogue(s, keylog, side == "client")
    os.unlink(keylog)
    rogue.run(steps)
    print("done", flush=True)


if __name__ == "__main__":
    main()
