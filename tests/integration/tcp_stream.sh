#!/bin/sh
# protocol = "tcp": streams pass unchanged in both directions at once,
# half-close is carried through, a slow reader holds the writer back
# without the agents' memory growing, and a unix socket on the app side.
. "$(dirname "$0")/lib.sh"
make_pki
start_backend backend
FAST=$BPORT
start_backend slow 3
PPORT=$BPORT
BPORT=$FAST

write_pair tcp "127.0.0.1:$BPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

check() { # check PORT UP DOWN
	out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$@" 2>&1) ||
		fail "stream $*: $out"
	[ "$out" = "ok $2 $3" ] || fail "stream $*: $out"
}

say "64 MiB up and 64 MiB down at once, then the client's FIN, then the digests"
check "$CPORT" $((64 << 20)) $((64 << 20))
say "upload only, download only, empty"
check "$CPORT" $((8 << 20)) 0
check "$CPORT" 0 $((8 << 20))
check "$CPORT" 0 0
say "8 streams in parallel"
i=0
while [ $i -lt 8 ]; do
	$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" $((4 << 20)) $((4 << 20)) \
		>"$T/par$i.out" 2>&1 &
	eval "par$i=$!"
	i=$((i + 1))
done
i=0
while [ $i -lt 8 ]; do
	eval "wait \$par$i" || fail "parallel stream $i: $(cat "$T/par$i.out")"
	i=$((i + 1))
done

say "a reader that pauses 3 s: the agents hold the writer back"
SPORT2=$(free_port) CPORT2=$(free_port)
sed -e "s/$SPORT/$SPORT2/; s/$BPORT/$PPORT/; s/\"s\"/\"s2\"/" "$T/server.conf" >"$T/server2.conf"
sed -e "s/$SPORT/$SPORT2/; s/$CPORT/$CPORT2/; s/\"c\"/\"c2\"/" "$T/client.conf" >"$T/client2.conf"
start_agent server2 "$T/server2.conf"
start_agent client2 "$T/client2.conf"
$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT2" $((256 << 20)) 0 >"$T/slow-client.out" 2>&1 &
slow=$!
sleep 2
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
rc=$(rss "$PID_client2") rs=$(rss "$PID_server2")
say "  during the pause: client agent ${rc} KiB, server agent ${rs} KiB resident"
[ "$rc" -lt 65536 ] && [ "$rs" -lt 65536 ] || fail "agents buffered the stream"
wait $slow || fail "slow stream: $(cat "$T/slow-client.out")"

say "a service that speaks first (as MySQL and SMTP do) is heard at once"
GPORT=$(free_port) GSPORT=$(free_port) GCPORT=$(free_port)
$PY -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $GPORT)); s.listen(); print('listening', flush=True)
while True:
    c, _ = s.accept(); c.sendall(b'220 greetings\\n'); c.close()
" >"$T/greeter.log" 2>&1 &
PIDS="$PIDS $!"
log_has greeter listening || fail "greeter"
sed -e "s/$SPORT/$GSPORT/; s/$BPORT/$GPORT/; s/\"s\"/\"gs\"/" "$T/server.conf" >"$T/gserver.conf"
sed -e "s/$SPORT/$GSPORT/; s/$CPORT/$GCPORT/; s/\"c\"/\"gc\"/" "$T/client.conf" >"$T/gclient.conf"
start_agent gserver "$T/gserver.conf"
start_agent gclient "$T/gclient.conf"
out=$($PY -c "
import socket
s = socket.create_connection(('127.0.0.1', $GCPORT), timeout=5)
print(s.recv(100).decode().strip())")
[ "$out" = "220 greetings" ] || fail "greeting: $out"

say "a unix socket on the app side (the database side is in pg_native), mode 0660, group postgres"
USOCK=$T/app.sock
cat >"$T/unix.conf" <<CONF
tls = { cert = "$PKI/server.crt"; key = "$PKI/server.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "u"; mode = "client"; protocol = "tcp";
	listen = "unix:$USOCK"; connect = "127.0.0.1:$SPORT"; server_name = "localhost";
	listen_mode = "0660"; listen_owner = "root"; listen_group = "postgres";
	tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; }; } );
CONF
start_agent unix "$T/unix.conf"
out=$(printf 'x' | $PY -c "
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect('$USOCK')
s.sendall(struct.pack('!Q', 1000))
s.shutdown(socket.SHUT_WR)
n = 0
while True:
    b = s.recv(65536)
    if not b: break
    n += len(b)
print(n)") || fail "unix client"
[ "$out" = 1064 ] || fail "unix socket stream gave $out bytes"
perms=$(stat -c '%a %U %G' "$USOCK")
[ "$perms" = "660 root postgres" ] || fail "the unix socket is $perms"
# A member of the group gets in; others are refused by the mode.
runuser -u postgres -- $PY -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('$USOCK')" ||
	fail "group postgres could not connect"
if runuser -u nobody -- $PY -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('$USOCK')" 2>/dev/null; then
	fail "nobody connected to a 0660 socket"
fi

say "IPv6: a server agent on [::1], a client agent dialling it"
V6S=$(free_port) V6C=$(free_port) NAMEC=$(free_port)
cat >"$T/v6.conf" <<CONF
tls = { cert = "$PKI/server.crt"; key = "$PKI/server.key"; ca = "$PKI/ca.crt"; };
tunnels = (
  { name = "v6s"; mode = "server"; protocol = "tcp"; listen = "[::1]:$V6S";
	connect = "127.0.0.1:$BPORT"; allow = { dns = [ "app1.example.com" ]; }; },
  { name = "v6c"; mode = "client"; protocol = "tcp"; listen = "127.0.0.1:$V6C";
	connect = "[::1]:$V6S"; server_name = "localhost";
	tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; }; },
  { name = "byname"; mode = "client"; protocol = "tcp"; listen = "127.0.0.1:$NAMEC";
	connect = "localhost:$SPORT";
	tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; }; } );
CONF
start_agent v6 "$T/v6.conf"
check "$V6C" 1000000 1000000
say "a host name to resolve in connect (localhost)"
check "$NAMEC" 1000000 1000000
log_has v6 'tunnel=v6s conn=[0-9]+ peer=\[::1\]:[0-9]+ open identity="CN=app1"' ||
	fail "no IPv6 open line"

say "a name with an IPv6 address that refuses and an IPv4 one that works"
printf '::1 dualhost\n127.0.0.1 dualhost\n' >"$T/hosts"
printf 'mount --bind %s /etc/hosts && exec "$@"\n' "$T/hosts" >"$T/wrap.sh"
DUALC=$(free_port) DUALDB=$(free_port)
# The agent gets its own /etc/hosts in a private mount namespace.  unshare
# -m fails where / is not a mount point (a container or chroot): there,
# "localhost" serves if the system's /etc/hosts gives it ::1 before
# 127.0.0.1, as Debian's does; else this one step is skipped.
if unshare -m true 2>/dev/null; then
	DUALNAME=dualhost
	WRAP="unshare -m sh $T/wrap.sh"
elif [ "$(getent ahosts localhost | awk 'NR == 1 { print $1 }')" = ::1 ] &&
    getent ahosts localhost | grep -q '^127\.0\.0\.1 '; then
	DUALNAME=localhost
	WRAP=
	say "  (no private mount namespace here: using localhost, ::1 then 127.0.0.1)"
else
	DUALNAME=
fi
if [ -n "$DUALNAME" ]; then
	cat >"$T/dual.conf" <<CONF
log_level = "debug";
tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "dual"; mode = "client"; protocol = "tcp";
	listen = "127.0.0.1:$DUALC"; connect = "$DUALNAME:$SPORT";
	server_name = "localhost"; },
  { name = "dualdb"; mode = "server"; protocol = "mongodb";
	listen = "127.0.0.1:$DUALDB"; connect = "$DUALNAME:$BPORT";
	tls = { cert = "$PKI/server.crt"; key = "$PKI/server.key"; };
	allow = { dns = [ "app1.example.com" ]; }; } );
CONF
	start_agent dual "$T/dual.conf"
	WRAP=
	check "$DUALC" 100000 100000
	log_has dual "connect to server $DUALNAME: connection refused; trying its next address" ||
		fail "no second address tried"
	# A server agent whose database's first address refuses: the bytes
	# and the half-close that came before the database was up go to the
	# next address.
	got=$($PY "$SRC/tests/helpers/tls_first_bytes.py" "$DUALDB" "$PKI" 2>&1)
	[ "$got" = ok ] || fail "database behind a refusing first address: $got"
	log_has dual "connect to db $DUALNAME: connection refused; trying its next address" ||
		fail "no second database address tried"
else
	say "  SKIPPED: no private mount namespace (/ is not a mount point) and localhost is not ::1 then 127.0.0.1 here"
fi

agent_alive server && agent_alive client || fail "an agent died"
pass
