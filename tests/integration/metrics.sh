#!/bin/sh
# metrics = "...": /metrics in Prometheus' text format (promtool accepts
# it) with counters that moved by exactly what crossed, refusals by
# reason, reloads by result; /healthz and /readyz (503 while draining and
# once a certificate has expired); a unix socket endpoint; the endpoint's
# bounds (connections at once, header size) while the data path goes on;
# and --status.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing (scripts/deps.sh installs it)"
make_pki
start_backend backend
write_pair tcp "127.0.0.1:$BPORT"
CM=$(free_port)
echo "metrics = \"127.0.0.1:$CM\";" >>"$T/client.conf"
echo "metrics = \"unix:$T/metrics.sock\";" >>"$T/server.conf"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
S="$PY $SRC/tests/helpers/scrape.py"
SM=unix:$T/metrics.sock

# metric ADDR SAMPLE: the value of one sample ("name{labels}") at ADDR.
metric() {
	$S "$1" /metrics | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }'
}
# expect ADDR SAMPLE VALUE: wait up to 5 s for it.
expect() {
	i=0
	until [ "$(metric "$1" "$2")" = "$3" ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "$2 at $1 is $(metric "$1" "$2"), wanted $3"
		sleep 0.1
	done
}

say "readiness, health, and a clean exposition"
[ "$($S 127.0.0.1:$CM /readyz)" = "200
ready" ] || fail "client /readyz: $($S 127.0.0.1:$CM /readyz)"
[ "$($S $SM /healthz)" = "200
ok" ] || fail "server /healthz: $($S $SM /healthz)"
for a in 127.0.0.1:$CM $SM; do
	$S "$a" /metrics | tail -n +2 >"$T/m.txt"
	promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 ||
		fail "promtool on $a: $(cat "$T/promtool.out")"
done

say "3 connections of known size: counters move by exactly that"
for i in 1 2 3; do
	$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 100000 300000 >"$T/c$i.out" ||
		fail "transfer $i: $(cat "$T/c$i.out")"
done
for side in "127.0.0.1:$CM c" "$SM s"; do
	set -- $side
	expect "$1" "dbtls_connections_open{tunnel=\"$2\"}" 0
	expect "$1" "dbtls_connections_total{tunnel=\"$2\"}" 3
	expect "$1" "dbtls_bytes_total{tunnel=\"$2\",direction=\"to_db\"}" $((3 * 100008))
	expect "$1" "dbtls_bytes_total{tunnel=\"$2\",direction=\"from_db\"}" $((3 * 300064))
	expect "$1" "dbtls_streams_total{tunnel=\"$2\"}" 3
done
hs=$(metric 127.0.0.1:$CM 'dbtls_handshakes_total{tunnel="c",resumed="no"}')
[ "$hs" -ge 1 ] || fail "no full handshake counted"
expect $SM 'dbtls_handshakes_total{tunnel="s",resumed="no"}' "$hs"
expect 127.0.0.1:$CM 'dbtls_handshake_seconds_count{tunnel="c"}' "$hs"
expect 127.0.0.1:$CM 'dbtls_dial_seconds_count{tunnel="c",target="agent"}' "$hs"
expect $SM 'dbtls_dial_seconds_count{tunnel="s",target="database"}' 3
expect $SM 'dbtls_dial_seconds_count{tunnel="s",target="agent"}' 0
links=$(metric 127.0.0.1:$CM 'dbtls_links_open{tunnel="c"}')
[ "$links" -ge 1 ] || fail "client: $links links open, the pool keeps one"
expect $SM 'dbtls_links_open{tunnel="s"}' "$links"

say "refusals by reason"
openssl s_client -connect 127.0.0.1:$SPORT -cert "$PKI/intruder.crt" -key "$PKI/intruder.key" \
	-CAfile "$PKI/ca.crt" </dev/null >/dev/null 2>&1 || true
expect $SM 'dbtls_refused_total{tunnel="s",reason="not_allowed"}' 1
printf 'GET / HTTP/1.0\r\n\r\n' | $PY -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$SPORT)); s.sendall(sys.stdin.buffer.read()); s.recv(100)" 2>/dev/null || true
expect $SM 'dbtls_refused_total{tunnel="s",reason="handshake"}' 1
expect $SM 'dbtls_connections_total{tunnel="s"}' 3

say "reloads by result"
kill -HUP "$PID_server"
expect $SM 'dbtls_reloads_total{result="ok"}' 1
cp "$PKI/server.key" "$T/server.key.good"
echo broken >"$PKI/server.key"
kill -HUP "$PID_server"
expect $SM 'dbtls_reloads_total{result="failed"}' 1
cp "$T/server.key.good" "$PKI/server.key"
chmod 600 "$PKI/server.key"
exp=$(metric $SM "dbtls_certificate_expiry_timestamp_seconds{tunnel=\"s\",file=\"$PKI/server.crt\"}")
want=$(date -d "$(openssl x509 -in "$PKI/server.crt" -noout -enddate | cut -d= -f2)" +%s)
[ "$exp" = "$want" ] || fail "certificate expiry $exp, openssl says $want"

say "the endpoint's bounds; the data path goes on"
fds() { ls "/proc/$PID_client/fd" | wc -l; }
before=$(fds)
$S 127.0.0.1:$CM /metrics hold 14 4 >"$T/hold.out" &
HOLD=$!
PIDS="$PIDS $HOLD"
wait_for grep -q holding "$T/hold.out" || fail "hold did not start: $(cat "$T/hold.out")"
sleep 0.5
during=$(fds)
# 8 connections at most, each a socket and the dup that bounds its life.
[ $((during - before)) -le 16 ] || fail "14 idle scrapes took $((during - before)) descriptors; at most 8 connections (16) may be open"
$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 1000000 1000000 >"$T/c4.out" ||
	fail "transfer while the endpoint is full: $(cat "$T/c4.out")"
wait "$HOLD" || fail "hold failed"
say "14 idle scrapes held: $((during - before)) descriptors taken (8 connections, 2 each), 1 MB each way crossed meanwhile"
$S 127.0.0.1:$CM /metrics slow 8 20 >"$T/slow.out" &
SLOW=$!
PIDS="$PIDS $SLOW"
wait_for grep -q "^slow" "$T/slow.out" || fail "slow scrapers did not start"
t0=$(date +%s)
[ "$($S 127.0.0.1:$CM /healthz | head -1)" = 200 ] || fail "/healthz behind 8 slow scrapers"
t1=$(date +%s)
wait "$SLOW"
[ "$(sed -n 's/^closed //p' "$T/slow.out")" = 8 ] || fail "slow scrapers: $(cat "$T/slow.out")"
[ $((t1 - t0)) -le 12 ] || fail "/healthz took $((t1 - t0)) s behind slow scrapers"
say "8 scrapers that never finish their headers: all closed at 10 s, /healthz answered after $((t1 - t0)) s"
big=$($S 127.0.0.1:$CM /metrics bigheader 100000)
[ "$big" != 200 ] || fail "a 100 KB request header was served"
say "100 KB header: answered $big"
[ "$($S 127.0.0.1:$CM /nothing | head -1)" = 404 ] || fail "no 404"

say "--status"
"$AGENT" --status --config "$T/client.conf" >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
grep -Eq "^c +0 +4 +" "$T/status.out" || fail "status: $(cat "$T/status.out")"
grep -q "ready; ok" "$T/status.out" || fail "status: $(cat "$T/status.out")"
cat "$T/status.out"

say "draining: /readyz 503, /healthz 200, the open connection finishes"
$PY -c "import socket, time; s = socket.create_connection(('127.0.0.1', $CPORT)); s.sendall(bytes(8) + b'x' * 10); time.sleep(3)" &
C5=$!
expect 127.0.0.1:$CM 'dbtls_connections_open{tunnel="c"}' 1
kill -TERM "$PID_client"
log_has client "draining: 1 app connection" || fail "no drain line"
r=$($S 127.0.0.1:$CM /readyz)
[ "$r" = "503
draining" ] || fail "/readyz while draining: $r"
[ "$($S 127.0.0.1:$CM /healthz | head -1)" = 200 ] || fail "/healthz while draining"
[ "$(metric 127.0.0.1:$CM dbtls_ready)" = 0 ] || fail "dbtls_ready while draining"
wait "$C5" || true
forget_agent client
wait "$PID_client" || fail "client did not exit 0"
log_has client "drained: every app connection ended" || fail "the drain did not end with the connection"

say "a certificate that expires while the agent runs: /readyz 503"
$PY "$SRC/tests/helpers/shortcert.py" "$PKI" short short 4 || fail "short certificate"
EM=$(free_port)
sed "s#$PKI/server.crt#$PKI/short.crt#; s#$PKI/server.key#$PKI/short.key#; s#unix:$T/metrics.sock#127.0.0.1:$EM#; s#127.0.0.1:$SPORT#127.0.0.1:$(free_port)#" \
	"$T/server.conf" >"$T/short.conf"
start_agent short "$T/short.conf"
[ "$($S 127.0.0.1:$EM /readyz | head -1)" = 200 ] || fail "short: not ready at first"
sleep 5
r=$($S 127.0.0.1:$EM /readyz)
echo "$r" | grep -q "^503$" || fail "short: /readyz after expiry: $r"
echo "$r" | grep -q "certificate $PKI/short.crt has expired" || fail "short: $r"
[ "$(metric 127.0.0.1:$EM dbtls_ready)" = 0 ] || fail "dbtls_ready is not 0"
pass
