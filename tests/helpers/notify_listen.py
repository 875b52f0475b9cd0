#!/usr/bin/python3
"""notify_listen.py SOCKET PORT: be the service manager's notify socket
(sd_notify(3)): print each datagram as one line ("|" for newlines).  On
READY=1, connect to 127.0.0.1:PORT at once and print "ready-accepts" or
"ready-refuses": READY must come only once the listener takes
connections.  SOCKET "@name" is in the abstract namespace."""
import socket
import sys


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + path[1:] if path.startswith("@") else path)
    print("listening", flush=True)
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "READY=1" in msg.split("\n"):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                print("ready-accepts", flush=True)
            except OSError:
                print("ready-refuses", flush=True)


if __name__ == "__main__":
    main()
