#!/bin/sh
# Rotation under load, with a real PostgreSQL behind the agents: while one
# psql session stays open and a loop opens new connections all the time,
# rotate the server's certificate, then the client's, then the CA (with an
# overlap bundle).  No connection may fail, the long session must live on,
# and new connections must present the new serials.  Then revocation by
# CRL, and a reload with a broken key, which must change nothing.
. "$(dirname "$0")/lib.sh"
C=$CERTS
PKI=$T/pki
mkdir -p "$PKI"
$C init-ca --dir "$T/ca1" --cn "dbtls CA 2026" >/dev/null || fail "init-ca"
$C issue --ca "$T/ca1" --cn app1 --dns app1.example.com --out "$PKI" >/dev/null
$C issue --ca "$T/ca1" --cn dbserver --dns localhost --ip 127.0.0.1 --out "$PKI" >/dev/null
mv "$PKI/dbserver.crt" "$PKI/server.crt"
mv "$PKI/dbserver.key" "$PKI/server.key"
cp "$T/ca1/ca.crt" "$PKI/ca.crt"
start_pg
write_pair postgresql "127.0.0.1:$PGPORT"
echo "pidfile = \"$T/server.pid\";" >>"$T/server.conf"
echo "pidfile = \"$T/client.pid\";" >>"$T/client.conf"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

say "a long psql session and a loop of new connections"
mkfifo "$T/long.in"
psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres" -X -At \
	<"$T/long.in" >"$T/long.out" 2>&1 &
LONG=$!
PIDS="$PIDS $LONG"
exec 3>"$T/long.in"
echo "select 'alive-' || pg_backend_pid();" >&3
wait_for grep -q alive- "$T/long.out" || fail "long session did not start"
long_pid=$(sed -n 's/^alive-//p' "$T/long.out")
(
	ok=0 bad=0
	while [ ! -f "$T/stop" ]; do
		if [ "$(psql_at "$CPORT" 'select 1' 2>>"$T/loop.err")" = 1 ]; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
		fi
		echo "$ok $bad" >"$T/loop.count"
	done
) &
LOOP=$!
PIDS="$PIDS $LOOP"
wait_for test -s "$T/loop.count" || fail "loop did not start"

# opened_with AGENT SERIAL: a connection opened after now shows SERIAL.
opened_with() {
	before=$(cat "$T/loop.count")
	i=0
	while [ "$(cat "$T/loop.count")" = "$before" ] || [ $i -lt 3 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	log_has "$1" "open identity=\"[^\"]+\" serial=$2 " || fail "$1 saw no serial $2"
}

say "rotate the server's certificate"
old=$(serial "$PKI/server.crt")
$C rotate --config "$T/server.conf" --ca "$T/ca1" --reload >"$T/rotate1.out" ||
	fail "rotate server: $(cat "$T/rotate1.out")"
new=$(serial "$PKI/server.crt")
[ "$old" != "$new" ] && [ -f "$PKI/server.crt.prev" ] || fail "server certificate not rotated"
[ "$(serial "$PKI/server.crt.prev")" = "$old" ] || fail "previous certificate not kept"
log_has server "reload \\(SIGHUP\\): tunnel=s now presents serial $new" || fail "server did not reload"
opened_with client "$new"

say "rotate the client's certificate"
newc_old=$(serial "$PKI/app1.crt")
$C rotate --config "$T/client.conf" --ca "$T/ca1" --reload >/dev/null || fail "rotate client"
newc=$(serial "$PKI/app1.crt")
[ "$newc" != "$newc_old" ] || fail "client certificate not rotated"
log_has client "reload \\(SIGHUP\\): tunnel=c now presents serial $newc" || fail "client did not reload"
opened_with server "$newc"

say "rotate the CA: overlap bundle, new leaves, old CA removed"
$C init-ca --dir "$T/ca2" --cn "dbtls CA 2027" >/dev/null || fail "init-ca 2"
cat "$T/ca1/ca.crt" "$T/ca2/ca.crt" >"$PKI/ca.bundle"
mv "$PKI/ca.bundle" "$PKI/ca.crt"
kill -HUP "$(cat "$T/server.pid")" "$(cat "$T/client.pid")"
sleep 0.5
$C rotate --config "$T/server.conf" --ca "$T/ca2" --reload >/dev/null || fail "rotate server to ca2"
$C rotate --config "$T/client.conf" --ca "$T/ca2" --reload >/dev/null || fail "rotate client to ca2"
sleep 0.5
openssl verify -CAfile "$T/ca2/ca.crt" "$PKI/server.crt" "$PKI/app1.crt" >/dev/null ||
	fail "leaves are not from the new CA"

say "the long session is alive on the same backend through all of that"
echo "select 'alive-' || pg_backend_pid();" >&3
wait_for sh -c "[ \$(grep -c alive- '$T/long.out') -ge 2 ]" ||
	fail "long session died: $(cat "$T/long.out")"
[ "$(sed -n 's/^alive-//p' "$T/long.out" | sort -u)" = "$long_pid" ] || fail "long session changed backend"

say "dropping the old CA closes the sessions still on its leaves (close_on_revoke)"
cp "$T/ca2/ca.crt" "$PKI/ca.crt.new"
mv "$PKI/ca.crt.new" "$PKI/ca.crt"
kill -HUP "$(cat "$T/server.pid")" "$(cat "$T/client.pid")"
opened_with client "$(serial "$PKI/server.crt")"
opened_with server "$(serial "$PKI/app1.crt")"
touch "$T/stop"
wait $LOOP || true
read ok bad <"$T/loop.count"
say "  $ok new connections during the rotations, $bad failed"
[ "$bad" = 0 ] || fail "$bad connections failed: $(tail -3 "$T/loop.err")"
[ "$ok" -gt 20 ] || fail "only $ok connections were made"

# Whichever agent reloads first ends it, with its line.
wait_for grep -Eq 'after the reload, the peer fails identity="CN=(app1|dbserver)": its certificate no longer verifies' \
	"$T/server.log" "$T/client.log" || fail "a session on old-CA leaves was kept"
echo "select 'after-drop';" >&3
wait_for grep -q "server closed the connection\|terminated\|SSL\|connection" "$T/long.out" ||
	fail "the long session on old-CA leaves lived on: $(cat "$T/long.out")"

say "revocation: a revoked client certificate is refused, another is not"
mkdir -p "$T/spare"
$C issue --ca "$T/ca2" --cn app1 --out "$T/spare" >/dev/null || fail "spare"
$C revoke --ca "$T/ca2" --cert "$PKI/app1.crt" >/dev/null || fail "revoke"
cp "$T/ca2/ca.crl" "$PKI/ca.crl"
sed -i "s|ca = \"$PKI/ca.crt\"; };|ca = \"$PKI/ca.crt\"; crl = \"$PKI/ca.crl\"; };|" "$T/server.conf"
grep -q 'crl = ' "$T/server.conf" || fail "could not add crl"
kill -HUP "$(cat "$T/server.pid")"
log_has server 'reload \(SIGHUP\): tunnel=s now presents serial' || fail "no reload"
sleep 0.3
psql_at "$CPORT" 'select 1' >"$T/revoked.out" 2>&1 && fail "revoked client served"
log_has server 'handshake with peer failed: certificate verify failed: certificate revoked' ||
	fail "no log line for the revoked certificate"
out=$(psql "host=localhost port=$SPORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.crt sslcert=$T/spare/app1.crt sslkey=$T/spare/app1.key" \
	-X -At -c "select 'spare ok'") || fail "unrevoked certificate refused: $out"
[ "$out" = "spare ok" ] || fail "spare said $out"

say "a reload with a broken key keeps the agent serving on the old material"
cp "$PKI/server.key" "$T/good.key"
printf 'garbage\n' >"$PKI/server.key.tmp"
chmod 600 "$PKI/server.key.tmp"
mv "$PKI/server.key.tmp" "$PKI/server.key"
kill -HUP "$(cat "$T/server.pid")"
log_has server 'reload \(SIGHUP\) failed, keeping the current certificates and config \([0-9]+ failed reloads? so far\): .*server.key' ||
	fail "no log line for the failed reload"
out=$(psql "host=localhost port=$SPORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.crt sslcert=$T/spare/app1.crt sslkey=$T/spare/app1.key" \
	-X -At -c "select 'still ok'") || fail "not serving after a failed reload: $out"
cp "$T/good.key" "$PKI/server.key"

say "a reload takes a new allow list"
sed -i 's/allow = { cn = \[ "app1" \]; };/allow = { cn = [ "app9" ]; };/' "$T/server.conf"
grep -q app9 "$T/server.conf" || fail "could not change the allow list"
kill -HUP "$(cat "$T/server.pid")"
sleep 0.5
psql "host=localhost port=$SPORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.crt sslcert=$T/spare/app1.crt sslkey=$T/spare/app1.key" \
	-X -At -c "select 1" >"$T/app9.out" 2>&1 && fail "app1 served after it was no longer allowed"
log_has server 'peer certificate is not allowed: it carries CN=app1' || fail "no log line for the new allow list"
exec 3>&-
wait $LONG || true
pass
