#!/bin/sh
# Truncation: a peer's TCP end without a close_notify (or inside a
# record) is never passed on as a clean end: the other side gets a reset
# and the agent logs "truncated"; a clean end still arrives as a FIN.
# Both agents, both directions: one-stream links against Python's ssl as
# the independent peer, and streams links whose other agent is killed.
. "$(dirname "$0")/lib.sh"
make_pki
TRUNC="$PY $SRC/tests/helpers/truncate.py"

# start_sink NAME: a truncate.py sink logging to $T/NAME.log; port in KPORT.
start_sink() {
	KPORT=$(free_port)
	$TRUNC sink "$KPORT" >"$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	log_has "$1" listening || fail "sink $1 did not start"
}

# killed NAME: SIGKILL the agent NAME; it is no longer stopped at the end.
killed() {
	eval "kill -KILL \$PID_$1"
	forget_agent "$1"
}

say "server agent, TLS client ending cleanly: the database gets a FIN"
start_sink db
write_pair tcp "127.0.0.1:$KPORT"
start_agent server "$T/server.conf"
$TRUNC tlsclient "$SPORT" "$PKI" clean >/dev/null
log_has db "^EOF 5 " || fail "clean end: the database saw $(tail -n 1 "$T/db.log")"
say "server agent, TLS client cutting TCP: the database gets a reset"
$TRUNC tlsclient "$SPORT" "$PKI" cut >/dev/null
log_has db "^RESET " || fail "cut end: the database saw $(tail -n 1 "$T/db.log")"
log_has server "reason=\".*ended TCP without close_notify: truncated\"" ||
	fail "the server agent did not log the truncation"

for how in clean cut midrecord; do
	say "client agent, TLS server ending $how"
	RPORT=$(free_port) APORT=$(free_port)
	$TRUNC tlsserver "$RPORT" "$PKI" "$how" >"$T/peer-$how.log" 2>&1 &
	PIDS="$PIDS $!"
	log_has "peer-$how" listening || fail "TLS server did not start"
	sed -e "s/127.0.0.1:$CPORT/127.0.0.1:$APORT/; s/127.0.0.1:$SPORT/127.0.0.1:$RPORT/; s/\"c\"/\"c$how\"/" \
		"$T/client.conf" >"$T/c-$how.conf"
	start_agent "c$how" "$T/c-$how.conf"
	out=$($TRUNC app "$APORT")
	case $how in
	clean) [ "$out" = "EOF hi" ] || fail "clean end: the app saw \"$out\"" ;;
	*)
		case $out in RESET*) ;; *) fail "$how: the app saw \"$out\"" ;; esac
		log_has "c$how" "truncated" || fail "$how: no truncation logged"
		;;
	esac
done

say "streams: the client agent killed mid-stream: the database is reset"
start_sink db2
unset CPORT SPORT
write_pair tcp "127.0.0.1:$KPORT"
start_agent server2 "$T/server.conf"
start_agent client2 "$T/client.conf"
$TRUNC hold "$CPORT" >"$T/hold1.log" 2>&1 &
PIDS="$PIDS $!"
log_has hold1 "^sent$" || fail "app did not connect"
log_has server2 " open .* use=1$" || fail "the stream did not open"
killed client2
log_has db2 "^RESET " || fail "the database saw $(tail -n 1 "$T/db2.log")"
log_has server2 "truncated" || fail "the server agent did not log the truncation"

say "streams: the server agent killed mid-stream: the app is reset"
unset CPORT SPORT
write_pair tcp "127.0.0.1:$KPORT"
start_agent client3 "$T/client.conf"
start_agent server3 "$T/server.conf"
$TRUNC hold "$CPORT" >"$T/hold2.log" 2>&1 &
PIDS="$PIDS $!"
log_has hold2 "^sent$" || fail "app did not connect"
log_has server3 " open .* use=1$" || fail "the stream did not open"
killed server3
log_has hold2 "^RESET" || fail "the app saw $(tail -n 1 "$T/hold2.log")"
log_has client3 "truncated" || fail "the client agent did not log the truncation"

say "an agent stopped mid-stream (a second SIGTERM ends its drain): the app and the database are reset"
start_agent server4 "$T/server.conf"
for victim in server4 client3; do
	$TRUNC hold "$CPORT" >"$T/hold-$victim.log" 2>&1 &
	PIDS="$PIDS $!"
	log_has "hold-$victim" "^sent$" || fail "app did not connect"
	sleep 0.5
	resets=$(grep -c "^RESET" "$T/db2.log" || true)
	eval "kill -TERM \$PID_$victim"
	log_has "$victim" "draining: 1 app connection" || fail "$victim: no drain"
	eval "kill -TERM \$PID_$victim; wait \$PID_$victim" || fail "$victim did not stop cleanly"
	killed "$victim" 2>/dev/null || true
	grep -Eq 'Sanitizer|runtime error:' "$T/$victim.log" && fail "$victim: sanitizer report"
	log_has "hold-$victim" "^RESET" || fail "$victim stopped: the app saw $(tail -n 1 "$T/hold-$victim.log")"
	wait_for sh -c "[ \$(grep -c '^RESET' '$T/db2.log') -gt $resets ]" ||
		fail "$victim stopped: the database saw $(tail -n 1 "$T/db2.log")"
	[ $victim = client3 ] || start_agent server5 "$T/server.conf"
done
pass
