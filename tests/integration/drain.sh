#!/bin/sh
# Drain: SIGTERM to either agent while a 50 MB COPY runs through the pair
# lets the COPY finish with the right checksum, refuses new connections
# meanwhile, and exits 0 once the last app connection ended; with
# drain_timeout the agent stops at the timeout; a second SIGTERM stops at
# once (tests/integration/truncation.sh).
. "$(dirname "$0")/lib.sh"
make_pki
start_pg
write_pair postgresql "127.0.0.1:$PGPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

# 50,000 rows of about 1,000 bytes (50 MB), slowed (4 s) so that it is
# still running when the signal comes.
cat >"$T/slow.sql" <<'SQL'
create function slow(g int) returns text volatile language plpgsql as $f$
begin
	if g % 500 = 0 then perform pg_sleep(0.04); end if;
	return '';
end $f$;
SQL
psql "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" -X -q \
	-f "$T/slow.sql" || fail "create function"
COPY="copy (select g, repeat(md5(g::text), 31) || slow(g) from generate_series(1, 50000) g) to stdout"
want=$(psql_at "$PGPORT" "$COPY" | sha256sum)

# stopped NAME: the agent NAME exited 0 after draining; no longer ours.
stopped() {
	eval "pid=\$PID_$1"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "$1 exited with status $rc"
	grep -Eq 'Sanitizer|runtime error:' "$T/$1.log" && fail "$1: sanitizer report"
	log_has "$1" "drained: every app connection ended" || fail "$1 did not drain"
	log_has "$1" 'info: stopped$' || fail "$1 did not stop"
	forget_agent "$1"
}

round=0
for victim in server client; do
	round=$((round + 1))
	say "SIGTERM to the $victim agent during a 50 MB COPY"
	opens=$(grep -c " open " "$T/client.log" || true)
	( psql_at "$CPORT" "$COPY" | sha256sum >"$T/copy$round.sum" ) 2>"$T/copy$round.err" &
	copy=$!
	wait_for sh -c "[ \$(grep -c ' open ' '$T/client.log') -gt $opens ]" ||
		fail "the COPY did not start"
	sleep 1
	eval "kill -TERM \$PID_$victim"
	log_has "$victim" "draining: 1 app connection" || fail "no drain line"
	say "  while it drains, a new connection is refused"
	if psql_at "$CPORT" "select 1" >/dev/null 2>&1; then
		fail "a new connection was served while draining"
	fi
	wait $copy || fail "the COPY failed: $(cat "$T/copy$round.err")"
	[ "$(cat "$T/copy$round.sum")" = "$want" ] ||
		fail "the COPY's checksum differs: $(cat "$T/copy$round.err")"
	stopped "$victim"
	say "  the COPY finished with the right checksum; the $victim agent exited 0"
	# Back for the next round, on the same ports.
	start_agent "${victim}2" "$T/$victim.conf"
	eval "PID_$victim=\$PID_${victim}2"
done
[ "$(psql_at "$CPORT" 'select 40 + 2')" = 42 ] || fail "the pair after the drains"

say "drain_timeout = 1: a long query is cut at the timeout"
sed -i '1i drain_timeout = 1;' "$T/server.conf"
kill -TERM "$PID_server2"
wait "$PID_server2" || true
forget_agent server2
start_agent server3 "$T/server.conf"
psql_at "$CPORT" "select pg_sleep(20)" >/dev/null 2>&1 &
q=$!
log_has server3 " open " || fail "the query did not start"
start=$(date +%s)
kill -TERM "$PID_server3"
log_has server3 "drain timed out after 1.[0-9]s: closing 1 app connection" ||
	fail "no timeout line"
rc=0
wait "$PID_server3" || rc=$?
[ "$rc" = 0 ] || fail "server3 exited with status $rc"
[ $(( $(date +%s) - start )) -le 4 ] || fail "the drain took longer than its timeout"
if wait $q; then fail "the long query was not cut"; fi
forget_agent server3
pass
