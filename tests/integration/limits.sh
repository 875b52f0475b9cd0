#!/bin/sh
# Limits and hostile peers: a silent peer is dropped at the handshake
# timeout, max_connections turns the next one away, an idle connection is
# closed at idle_timeout, random bytes from the network never hurt the
# agent, and SIGHUP does not stop it.
. "$(dirname "$0")/lib.sh"
make_pki
start_backend backend
PGP=$(free_port)
LPORT=$(free_port)
ALLOW='allow_any = true; handshake_timeout = 1; },
  { name = "pg"; mode = "server"; protocol = "postgresql";
	listen = "127.0.0.1:'$PGP'"; connect = "127.0.0.1:'$BPORT'";
	allow_any = true; handshake_timeout = 1; },
  { name = "lim"; mode = "server"; protocol = "tcp";
	listen = "127.0.0.1:'$LPORT'"; connect = "127.0.0.1:'$BPORT'";
	allow_any = true; max_connections = 2;'
CLIENT_OPTS='idle_timeout = 1;'
write_pair tcp "127.0.0.1:$BPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
probe() { $PY "$SRC/tests/helpers/sockprobe.py" "$@"; }

say "a peer that sends nothing is dropped at handshake_timeout (1 s)"
[ "$(probe silent "$SPORT" 4)" = closed ] || fail "silent peer kept (tcp)"
[ "$(probe silent "$PGP" 4)" = closed ] || fail "silent peer kept (postgresql)"
log_has server 'tunnel=s .*state=handshake reason="TLS handshake timed out"' ||
	fail "no log line for the handshake timeout"
log_has server 'tunnel=pg .*state=negotiating reason="TLS handshake timed out"' ||
	fail "no log line for the negotiation timeout"

say "max_connections = 2: the third connection is turned away"
probe hold "$LPORT" 2 3 >"$T/hold.log" &
holder=$!
log_has hold holding || fail "holder"
[ "$(probe silent "$LPORT" 2)" = closed ] || fail "third connection kept"
log_has server 'tunnel=lim .*reason="max_connections \(2\) reached"' ||
	fail "no log line for max_connections"
wait $holder
wait_for sh -c "[ \"\$($PY '$SRC/tests/helpers/sockprobe.py' silent $LPORT 1)\" = open ]" ||
	fail "a slot was not given back"

say "an idle connection is closed at idle_timeout (1 s)"
[ "$(probe silent "$CPORT" 5)" = closed ] || fail "idle connection kept"
log_has client 'reason="idle for 1\.[0-9]s"' || fail "no log line for idle timeout"

say "random bytes to the network-facing listeners: refused, agent unharmed"
for port in $SPORT $PGP; do
	n=$(probe garbage "$port" 25 "$port")
	[ "$n" = 25 ] || fail "garbage to $port: only $n of 25 closed"
done

say "SIGHUP does not stop the agents"
kill -HUP "$PID_server" "$PID_client"
sleep 0.3
out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 100000 100000 2>&1) ||
	fail "stream after all this: $out"
agent_alive server && agent_alive client || fail "an agent died"
pass
