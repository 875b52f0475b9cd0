#!/bin/sh
# Revoked, disallowed and expired peers lose the sessions they have, not
# only new ones.  Two app hosts (client agents as app1 and app2) hold long
# psql sessions through one server agent in front of PostgreSQL:
#  - app1 revoked by CRL + reload: its session ends within seconds, with a
#    line saying why; app2's session lives on, on the same backend;
#  - app2 removed from allow + reload: the same for app2;
#  - close_on_revoke = false keeps today's behaviour: the session lives,
#    new connections are refused;
#  - close_expired = true: a session whose certificate expires ends then.
. "$(dirname "$0")/lib.sh"
make_pki
C=$CERTS
for n in app2 app3; do
	$C issue --ca "$PKI" --cn $n --out "$PKI" >/dev/null || fail "issue $n"
done
$C crl --ca "$PKI" >/dev/null || fail "crl"
start_pg
SPORT=$(free_port)
# server CLOSE_ON_REVOKE ALLOW: (re)write the server's config.
server() {
	cat >"$T/server.conf" <<CONF
close_on_revoke = $1;
close_expired = true;
tls = { cert = "$PKI/server.crt"; key = "$PKI/server.key"; ca = "$PKI/ca.crt"; crl = "$PKI/ca.crl"; };
tunnels = ( { name = "s"; mode = "server"; protocol = "postgresql";
	listen = "127.0.0.1:$SPORT"; connect = "127.0.0.1:$PGPORT";
	allow = { cn = [ $2 ]; }; } );
CONF
}
# client NAME CERT: a client agent for that identity; its port in P_NAME.
client() {
	p=$(free_port)
	eval "P_$1=$p"
	cat >"$T/$1.conf" <<CONF
tls = { cert = "$PKI/$2.crt"; key = "$PKI/$2.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "$1"; mode = "client"; protocol = "postgresql";
	listen = "127.0.0.1:$p"; connect = "127.0.0.1:$SPORT"; server_name = "localhost"; } );
CONF
	start_agent "$1" "$T/$1.conf"
}
# session NAME: a long psql session through client NAME, fd 3+n.
session() {
	eval "port=\$P_$1"
	rm -f "$T/$1.in"
	mkfifo "$T/$1.in"
	psql "host=127.0.0.1 port=$port user=postgres dbname=postgres" -X -At \
		<"$T/$1.in" >"$T/$1.out" 2>&1 &
	PIDS="$PIDS $!"
	eval "SPID_$1=$!"
}
ask() { # ask NAME SQL: send a query into the session
	printf '%s\n' "$2" >>"$T/$1.in" &
}
alive() { # alive NAME MARK: the session answers MARK
	ask "$1" "select '$2-' || pg_backend_pid();"
	wait_for grep -q "^$2-" "$T/$1.out"
}
ended() { # ended NAME: the session's psql saw the connection go
	eval "pid=\$SPID_$1"
	ask "$1" "select 'after';"
	wait_for sh -c "! kill -0 $pid 2>/dev/null || grep -q 'connection' '$T/$1.out'"
}
# Each writer keeps the fifo open so psql waits for more.
hold() { exec 3>"$T/a1.in" 4>"$T/a2.in"; }

server true '"app1", "app2"'
start_agent server "$T/server.conf"
client a1 app1
client a2 app2
session a1
session a2
hold
alive a1 one || fail "app1's session did not start: $(cat "$T/a1.out")"
alive a2 one || fail "app2's session did not start: $(cat "$T/a2.out")"
b2=$(sed -n 's/^one-//p' "$T/a2.out")

say "app1 revoked by CRL, then a reload: its session ends, app2's does not"
$C revoke --ca "$PKI" --cert "$PKI/app1.crt" >/dev/null || fail "revoke"
t0=$(date +%s.%N)
kill -HUP "$PID_server"
log_has server 'after the reload, the peer fails identity="CN=app1": its certificate no longer verifies: certificate revoked; closing it' ||
	fail "no line for the revoked peer"
ended a1 || fail "app1's session lived on: $(cat "$T/a1.out")"
t1=$(date +%s.%N)
say "  app1's session ended $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after the reload"
log_has server 'close identity="CN=app1" .*reason="after the reload, the peer fails: its certificate no longer verifies: certificate revoked"' ||
	fail "no close line for app1's connection"
alive a2 two || fail "app2's session died: $(cat "$T/a2.out")"
[ "$(sed -n 's/^two-//p' "$T/a2.out")" = "$b2" ] || fail "app2's session changed backend"
grep -q 'peer fails identity="CN=app2"' "$T/server.log" && fail "app2 was judged too"

say "app2 removed from allow, then a reload: its session ends"
server true '"app3"'
kill -HUP "$PID_server"
log_has server 'after the reload, the peer fails identity="CN=app2": it is no longer allowed: it carries CN=app2' ||
	fail "no line for the disallowed peer"
ended a2 || fail "app2's session lived on: $(cat "$T/a2.out")"

say "close_on_revoke = false: the session lives on, new connections are refused"
server false '"app2"'
kill -HUP "$PID_server"
log_has server 'reload \(SIGHUP\): tunnel=s now presents' || fail "no reload"
sleep 0.5
session a2
exec 4>"$T/a2.in"
alive a2 three || fail "app2's new session did not start: $(cat "$T/a2.out")"
$C revoke --ca "$PKI" --cert "$PKI/app2.crt" >/dev/null || fail "revoke app2"
kill -HUP "$PID_server"
sleep 1
alive a2 four || fail "with close_on_revoke = false app2's session ended: $(cat "$T/a2.out")"
psql_at "$P_a2" 'select 1' >"$T/new.out" 2>&1 && fail "a revoked app2 got a new connection"
log_has server 'certificate revoked' || fail "no refusal line"

say "close_expired: a session whose certificate expires ends when it does"
$PY "$SRC/tests/helpers/shortcert.py" "$PKI" short app3 5 || fail "short certificate"
server true '"app3"'
kill -HUP "$PID_server"
log_has server 'reload \(SIGHUP\): tunnel=s now presents' || fail "no reload"
client a3 short
session a3
exec 5>"$T/a3.in"
alive a3 one || fail "app3's session did not start: $(cat "$T/a3.out")"
sleep 5
log_has server "the peer's certificate expired identity=\"CN=app3\": close_expired is set" ||
	fail "no line for the expired peer"
ended a3 || fail "app3's session outlived its certificate: $(cat "$T/a3.out")"
exec 3>&- 4>&- 5>&-
pass
