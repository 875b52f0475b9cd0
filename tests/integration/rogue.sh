#!/bin/sh
# A rogue peer on the streams protocol (ALPN dbtls/1, records sealed by
# tests/helpers/rogue.py): data before OPEN, data before OK, data after
# FIN, and the next stream's OPEN and bytes while the last one drains
# each end the TLS connection as a protocol error, and no byte of one
# stream ever reaches another stream's database connection.  Honest
# sequences through the same code still work.
. "$(dirname "$0")/lib.sh"
make_pki
ROGUE="$PY $SRC/tests/helpers/rogue.py"
$PY -c "import cryptography" 2>/dev/null || fail "python3-cryptography missing (scripts/deps.sh)"

KPORT=$(free_port)
$PY "$SRC/tests/helpers/truncate.py" sink "$KPORT" >"$T/db.log" 2>&1 &
PIDS="$PIDS $!"
log_has db listening || fail "sink did not start"
write_pair tcp "127.0.0.1:$KPORT"
start_agent server "$T/server.conf"

conns() { grep -c -E '^(EOF|RESET) ' "$T/db.log" || true; }
# no_mixing: every database connection that saw "STREAM2" saw only that.
no_mixing() {
	awk '/marks=/ { split($3, m, "="); if (m[2] > 0 && $2 != 7 * m[2]) bad = 1 }
	    END { exit bad }' "$T/db.log" || fail "bytes of two streams on one database connection: $(cat "$T/db.log")"
}
# rogue_client CASE STEPS: run the steps against the server agent.
rogue_client() {
	$ROGUE client "$SPORT" "$PKI" "$2" >"$T/$1.out" 2>&1 || fail "$1: $(cat "$T/$1.out")"
}
broke() { # broke PATTERN: the server agent logged this protocol error
	log_has server "broke the streams protocol: $1" || fail "no protocol error \"$1\" logged"
}

say "honest: two streams one after the other on one TLS connection"
rogue_client honest "open,data:one,fin,expect:fin,wait:300,open,data:STREAM2,fin,read"
grep -q "^ctl OK$" "$T/honest.out" && grep -q "^ctl FIN$" "$T/honest.out" ||
	fail "honest: $(cat "$T/honest.out")"
wait_for grep -q "^EOF 7 marks=1$" "$T/db.log" || fail "honest: $(cat "$T/db.log")"
grep -q "^EOF 3 marks=0$" "$T/db.log" || fail "honest: $(cat "$T/db.log")"

say "data before OPEN: a protocol error, the database never dialled"
before=$(conns)
rogue_client early "data:STREAM2,read"
broke "DATA in state idle"
sleep 0.3
[ "$(conns)" = "$before" ] || fail "the database was dialled"

say "data after FIN: a protocol error"
rogue_client late "open,data:one,fin,data:STREAM2,read"
broke "DATA in state fin_rcvd"

say "the next OPEN and its bytes while the last stream drains"
rogue_client drain "open,big:1024,fin,open,data:STREAM2,read"
broke "OPEN in state fin_rcvd"
say "the next OPEN and its bytes right after the last stream's FIN"
# (a protocol error if the OPEN finds the last socket still closing, a
# stream of its own if not: either way STREAM2 stays on its own)
rogue_client next "open,data:one,fin,expect:fin,open,data:STREAM2,fin,read"
sleep 0.5
no_mixing

say "a rogue server: data before OK never reaches the app"
RPORT=$(free_port) APORT=$(free_port)
$ROGUE server "$RPORT" "$PKI" "expect:open,data:EARLY,ok,data:LATE,read" >"$T/rserver.log" 2>&1 &
PIDS="$PIDS $!"
log_has rserver listening || fail "rogue server did not start"
sed -e "s/127.0.0.1:$CPORT/127.0.0.1:$APORT/; s/127.0.0.1:$SPORT/127.0.0.1:$RPORT/; s/\"c\"/\"rc\"/" \
	"$T/client.conf" >"$T/rclient.conf"
start_agent rclient "$T/rclient.conf"
out=$($PY "$SRC/tests/helpers/truncate.py" app "$APORT")
case $out in *EARLY*|*LATE*) fail "the app got the rogue's bytes: $out" ;; esac
log_has rclient "broke the streams protocol: DATA in state opening" ||
	fail "the client agent logged no protocol error"

say "an honest server sequence through the same rogue"
RPORT=$(free_port) APORT=$(free_port)
$ROGUE server "$RPORT" "$PKI" "expect:open,ok,data:hello,fin,read" >"$T/hserver.log" 2>&1 &
PIDS="$PIDS $!"
log_has hserver listening || fail "rogue server did not start"
sed -e "s/127.0.0.1:$CPORT/127.0.0.1:$APORT/; s/127.0.0.1:$SPORT/127.0.0.1:$RPORT/; s/\"c\"/\"hc\"/" \
	"$T/client.conf" >"$T/hclient.conf"
start_agent hclient "$T/hclient.conf"
out=$($PY "$SRC/tests/helpers/truncate.py" app "$APORT")
[ "$out" = "EOF hello" ] || fail "honest server: the app saw \"$out\""
pass
