#!/bin/sh
# The network between the agents cut and restored: each agent in its own
# network namespace, joined by a veth pair.  With keepalive = 2,
# keepalive_interval = 1, keepalive_count = 3 and user_timeout = 4
# (raised to the keepalive's 5 s), the client agent must end an idle
# session and one with unacknowledged data within 5 s (+ 2 s of slack),
# each as an error to its app; once the link is back, new connections
# work.
. "$(dirname "$0")/lib.sh"
netns_pair
make_pki
LIM='keepalive = 2; keepalive_interval = 1; keepalive_count = 3; user_timeout = 4;'
netns_agents
ip netns exec "$NSA" $PY "$SRC/tests/helpers/tcp_check.py" client $CPORT 100000 100000 >"$T/c1.out" ||
	fail "no traffic across the namespaces: $(cat "$T/c1.out")"

# hold MODE: an app connection through the client agent: "idle" sends a
# little then waits; "busy" keeps sending.  Prints the seconds from the
# cut (the file $T/cut appearing) to the connection's end.
cat >"$T/hold.py" <<'PYEOF'
import os, socket, sys, time
mode, cut = sys.argv[1], sys.argv[2]
s = socket.create_connection(("127.0.0.1", 7000))
s.sendall(b"\0" * 7 + b"\x10" + b"x" * 100)   # ask for 16 bytes back
s.settimeout(0.2)
print("open", flush=True)
t0 = None
while True:
    if t0 is None and os.path.exists(cut):
        t0 = time.time()
    try:
        if mode == "busy" and t0 is not None:
            s.sendall(b"y" * 65536)
        d = s.recv(65536)
        if not d:
            break
    except socket.timeout:
        pass
    except OSError:
        break
    if t0 is not None and time.time() - t0 > 60:
        print("never", flush=True)
        sys.exit(1)
print("ended %.1f" % (time.time() - t0), flush=True)
PYEOF
for mode in idle busy; do
	rm -f "$T/cut"
	ip netns exec "$NSA" $PY "$T/hold.py" $mode "$T/cut" >"$T/$mode.out" 2>&1 &
	H=$!
	wait_for grep -q open "$T/$mode.out" || fail "$mode session did not open: $(cat "$T/$mode.out")"
	sleep 1
	ip -n "$NSB" link set "$VB" down
	touch "$T/cut"
	wait "$H" || fail "$mode session: $(cat "$T/$mode.out")"
	secs=$(sed -n 's/^ended //p' "$T/$mode.out")
	limit=7
	say "$mode session ended $secs s after the cut (bound: $limit s)"
	awk -v s="$secs" -v l="$limit" 'BEGIN { exit !(s <= l) }' || fail "$mode: $secs s is past $limit s"
	ip -n "$NSB" link set "$VB" up
	sleep 1
done
say "the link is back: new connections work"
wait_for ip netns exec "$NSA" $PY "$SRC/tests/helpers/tcp_check.py" client $CPORT 100000 100000 ||
	fail "no traffic once the link was back"
pass
