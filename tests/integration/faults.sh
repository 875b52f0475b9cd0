#!/bin/sh
# Faults, with a real PostgreSQL: the database restarted under traffic,
# and the server agent killed (SIGKILL) and started again under a client
# agent with prewarmed connections.  Clients get errors, none hangs, new
# connections work once the part is back, and the agents never need a
# restart of their own.
. "$(dirname "$0")/lib.sh"
make_pki
start_pg
CLIENT_OPTS='prewarm = 2;'
write_pair postgresql "127.0.0.1:$PGPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
q() { timeout 15 psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres connect_timeout=10" -X -At -c "$1"; }
[ "$(q 'select 1')" = 1 ] || fail "no first query"

say "PostgreSQL restarted while queries run"
(
	ok=0 bad=0 hung=0
	while [ ! -f "$T/stop" ]; do
		rc=0
		timeout 15 psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres connect_timeout=10" \
			-X -At -c "select md5(repeat('x', 100000))" >/dev/null 2>&1 || rc=$?
		case $rc in
		0) ok=$((ok + 1)) ;;
		124) hung=$((hung + 1)) ;;
		*) bad=$((bad + 1)) ;;
		esac
		echo "$ok $bad $hung" >"$T/loop.count"
	done
) &
LOOP=$!
PIDS="$PIDS $LOOP"
wait_for test -s "$T/loop.count" || fail "loop did not start"
sleep 1
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || fail "pg stop"
sleep 2
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$T/postgres.log" \
	-o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGSOCK -c fsync=off -c max_connections=200" \
	start >/dev/null || fail "pg start"
read ok0 bad0 hung0 <"$T/loop.count"
sleep 2
touch "$T/stop"
wait "$LOOP" || true
read ok bad hung <"$T/loop.count"
say "  $ok queries answered, $bad refused while PostgreSQL was down, $hung hung"
[ "$hung" = 0 ] || fail "$hung clients hung"
[ "$bad" -gt 0 ] || fail "no client noticed the restart"
[ "$ok" -gt "$ok0" ] || fail "no query succeeded after PostgreSQL came back"
[ "$(q 'select 2')" = 2 ] || fail "no query after the restart"
agent_alive server && agent_alive client || fail "an agent died"

say "the server agent killed with SIGKILL, then started again"
mkfifo "$T/long.in"
psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres" -X -At <"$T/long.in" >"$T/long.out" 2>&1 &
LONG=$!
PIDS="$PIDS $LONG"
exec 3>"$T/long.in"
echo "select 'alive';" >&3
wait_for grep -q '^alive$' "$T/long.out" || fail "long session did not start"
kill -KILL "$PID_server"
wait "$PID_server" 2>/dev/null || true
forget_agent server
t0=$(date +%s)
echo "select 'after';" >&3
# The client agent sees the reset (or the cut) and ends the session.
ended() { ! kill -0 "$LONG" 2>/dev/null || grep -q 'connection' "$T/long.out"; }
wait_for ended || fail "the session on a dead server agent lived on: $(cat "$T/long.out")"
t1=$(date +%s)
say "  the open session ended with an error $((t1 - t0)) s after the kill"
exec 3>&-
q 'select 3' >/dev/null 2>&1 && fail "a query succeeded with no server agent"
start_agent server "$T/server.conf"
wait_for sh -c "[ \"\$(timeout 15 psql 'host=127.0.0.1 port=$CPORT user=postgres dbname=postgres' -X -At -c 'select 4' 2>/dev/null)\" = 4 ]" ||
	fail "no query once the server agent was back"
# The prewarmed pool is replaced: links to the new server agent.
established() { ss -Htn state established "dport = :$SPORT" | wc -l; }
refilled() { [ "$(established)" -ge 2 ]; }
wait_for refilled || fail "the pool did not refill: $(established) links"
agent_alive client || fail "the client agent died"
pass
