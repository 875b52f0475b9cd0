#!/bin/sh
# Streams: a client and a server agent that agree on ALPN "dbtls/1" carry
# one app connection after another over one TLS connection.  Checked:
# many apps over few handshakes, each stream exact (digests, half-close);
# an app that resets mid-stream and a database that refuses both end only
# their stream, and the connection serves the next app; a reload during a
# stream retires that connection after it, and idle ones at once; apps
# that send and reset at once while the server is still resolving the
# database's name leave nothing behind.
. "$(dirname "$0")/lib.sh"
make_pki
start_backend backend
BPID=${PIDS##* }
LOG_LEVEL=debug
write_pair tcp "127.0.0.1:$BPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

check() { # check UP DOWN
	out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" "$@" 2>&1) ||
		fail "stream $*: $out"
	[ "$out" = "ok $1 $2" ] || fail "stream $*: $out"
}
# TLS connections the server saw start: one "open ... use=1" line each.
tls_conns() { grep -c ' open .* use=1$' "$T/server.log"; }

say "30 apps one after another, each stream exact, over few TLS connections"
i=0
while [ $i -lt 30 ]; do
	check 100000 $((i * 1000))
	i=$((i + 1))
done
apps=$(grep -c ' open ' "$T/server.log")
n=$(tls_conns)
say "  $apps apps over $n TLS connection(s) (one per client worker at most)"
[ "$apps" -eq 30 ] || fail "$apps apps seen by the server"
[ "$n" -le 2 ] || fail "$n handshakes for 30 apps"
log_has server 'close .* use=1[0-9] .*reason="both sides closed; TLS connection kept"' ||
	fail "no stream closed cleanly on a kept connection"

say "an app that resets mid-stream: its stream is aborted, the connection kept"
$PY - "$CPORT" <<'EOF' || fail "reset client"
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack(">Q", 1 << 30) + b"x" * 1000)  # ask for 1 GiB
time.sleep(0.3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()  # RST
EOF
log_has client 'reason="read from app: connection reset by peer"' ||
	fail "client: no reset logged"
log_has server 'reason="peer aborted the stream"' || fail "server: no abort"
check 1000 1000
[ "$(tls_conns)" -le 2 ] || fail "a new handshake after an aborted stream"

say "a database that refuses: the app is closed (EOF or reset), the connection kept"
kill "$BPID"
wait "$BPID" 2>/dev/null || true
got=$($PY - "$CPORT" <<'EOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
try:
    s.sendall(struct.pack(">Q", 10))
    print("closed" if s.recv(100) == b"" else "data")
except (ConnectionResetError, BrokenPipeError):
    print("closed")
EOF
)
[ "$got" = closed ] || fail "app not closed when the database refused: $got"
log_has server 'reason="connect to db 127.0.0.1:[0-9]+: connection refused"' ||
	fail "server: no refusal logged"
$PY "$SRC/tests/helpers/tcp_check.py" server "$BPORT" >"$T/backend2.log" 2>&1 &
PIDS="$PIDS $!"
wait_for sh -c "ss -Htln 'sport = :$BPORT' | grep -q ." || fail "backend back"
check 1000 1000
[ "$(tls_conns)" -le 2 ] || fail "a new handshake after a refused stream"

say "a reload during a stream: that connection is retired after it"
opens=$(grep -c ' open ' "$T/server.log")
out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" $((32 << 20)) $((32 << 20)) 2>&1) &
BG=$!
# Reload only once the server has opened that stream, so it crosses the
# reload (under load the client may connect late).
wait_for sh -c "[ \$(grep -c ' open ' '$T/server.log') -gt $opens ]" ||
	fail "the 32 MiB stream did not open"
kill -HUP "$PID_server"
wait "$BG" || fail "stream across the reload"
log_has server 'reason="(retired after [0-9]+ streams|idle since before a reload)"' ||
	fail "old connections not retired"
before=$(tls_conns)
check 1000 1000
[ "$(tls_conns)" -gt "$before" ] || fail "the app after the reload used an old connection"
say "apps that send and reset at once, to a database named by host name"
# The server dials "localhost" (a lookup off the loop) while the stream's
# bytes, and then its ABORT, may already be there: nothing of it may
# leak or linger (the sanitized build checks for leaks at exit).
CPORT=$(free_port) SPORT=$(free_port)
write_pair tcp "localhost:$BPORT"
sed -i 's/name = "c"/name = "c3"/' "$T/client.conf"
sed -i 's/name = "s"/name = "s3"/' "$T/server.conf"
mv "$T/client.conf" "$T/client3.conf"
mv "$T/server.conf" "$T/server3.conf"
start_agent server3 "$T/server3.conf"
start_agent client3 "$T/client3.conf"
$PY - "$CPORT" <<'EOF' || fail "reset clients"
import socket, struct, sys
for i in range(100):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(struct.pack(">Q", 1 << 20) + b"x" * 65536)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST
EOF
out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 1000 1000 2>&1) ||
	fail "after the resets: $out"
[ "$out" = "ok 1000 1000" ] || fail "after the resets: $out"
agent_alive server3 && agent_alive client3 || fail "an agent died"

agent_alive server && agent_alive client || fail "an agent died"
pass
