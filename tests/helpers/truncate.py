#!/usr/bin/python3
"""truncate.py: the ends of a stream, clean and cut short, for the
truncation test.  Python's ssl is the independent TLS peer; an SSLSocket's
shutdown() ends TCP without a close_notify, unwrap() sends one.

  sink PORT               plain TCP server: per connection, read until
                          the end and print "EOF <bytes> marks=<n>" or
                          "RESET <bytes> marks=<n>" (a connection reset;
                          n: how many times "STREAM2" came)
  app PORT [SEND]         plain TCP client: send SEND (default "ping"),
                          read until the end, print "EOF <data>" or
                          "RESET <data>"
  hold PORT               plain TCP client: send "hello", print "sent",
                          then wait for the end and print it as app does
  tlsclient PORT DIR clean|cut
                          TLS client (DIR/app1.crt, DIR/ca.crt): send
                          "hello", then end cleanly or cut it short
  tlsserver PORT DIR clean|cut|midrecord
                          TLS server (DIR/server.crt), one connection:
                          send "hi", then end cleanly, cut it short, or
                          cut it in the middle of a record
"""
import os
import socket
import ssl
import sys
import time


def outcome(s):
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return "EOF " + got.decode(errors="replace")
            got += b
    except ConnectionResetError:
        return "RESET " + got.decode(errors="replace")


def listener(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen()
    print("listening", flush=True)
    return ls


def sink(port):
    ls = listener(port)
    while True:
        c, _ = ls.accept()
        got = b""
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    end = "EOF"
                    break
                got += b
        except ConnectionResetError:
            end = "RESET"
        print(end, len(got), "marks=%d" % got.count(b"STREAM2"), flush=True)
        c.close()


def app(port, send):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(send.encode())
    print(outcome(s), flush=True)


def hold(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"hello")
    print("sent", flush=True)
    print(outcome(s), flush=True)


def tls_context(side, d):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if side == "server" else
                         ssl.PROTOCOL_TLS_CLIENT)
    name = "server" if side == "server" else "app1"
    ctx.load_cert_chain(f"{d}/{name}.crt", f"{d}/{name}.key")
    ctx.load_verify_locations(f"{d}/ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = False
    return ctx


def finish(s, how):
    if how == "clean":
        s.unwrap().close()           # close_notify, then FIN
    elif how == "cut":
        s.shutdown(socket.SHUT_WR)   # FIN, no close_notify
        time.sleep(1)
        s.close()
    else:                            # half a record, then FIN
        raw = socket.socket(fileno=os.dup(s.fileno()))
        raw.sendall(b"\x17\x03\x03\x00\x40" + b"\x00" * 20)
        raw.shutdown(socket.SHUT_WR)
        time.sleep(1)
        raw.close()


def tlsclient(port, d, how):
    ctx = tls_context("client", d)
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    s.sendall(b"hello")
    time.sleep(0.5)
    finish(s, how)
    print("done", flush=True)


def tlsserver(port, d, how):
    ls = listener(port)
    ctx = tls_context("server", d)
    c, _ = ls.accept()
    s = ctx.wrap_socket(c, server_side=True)
    s.recv(100)
    s.sendall(b"hi")
    time.sleep(0.5)
    finish(s, how)
    print("done", flush=True)


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "sink":
        sink(port)
    elif cmd == "app":
        app(port, sys.argv[3] if len(sys.argv) > 3 else "ping")
    elif cmd == "hold":
        hold(port)
    elif cmd == "tlsclient":
        tlsclient(port, sys.argv[3], sys.argv[4])
    elif cmd == "tlsserver":
        tlsserver(port, sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
