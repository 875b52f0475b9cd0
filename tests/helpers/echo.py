#!/usr/bin/python3
"""echo.py PORT: a TCP echo server.  Each connection gets back what it
sends; when the client ends its side (FIN), the server ends its own once
everything is echoed.  Prints "listening" when ready."""
import socket
import sys
import threading


def serve(c):
    try:
        while True:
            b = c.recv(262144)
            if not b:
                c.shutdown(socket.SHUT_WR)
                break
            c.sendall(b)
    except OSError:
        pass
    c.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(sys.argv[1])))
    ls.listen(64)
    print("listening", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
