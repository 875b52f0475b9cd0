#!/bin/sh
# prewarm = N: the client agent keeps N handshaken TLS connections per
# worker, so an app's connect costs no handshake; the server agent dials
# the database only when the first bytes come, so they cost it nothing.
. "$(dirname "$0")/lib.sh"
make_pki
start_pg
PGC=$(free_port)
SPORT=$(free_port)
CLIENT_OPTS="prewarm = 3;"
LOG_LEVEL=debug
MORE_CLIENT_TUNNELS=", { name = \"pg\"; mode = \"client\"; protocol = \"postgresql\";
	listen = \"127.0.0.1:$PGC\"; connect = \"127.0.0.1:$SPORT\"; prewarm = 2; }"
write_pair postgresql "127.0.0.1:$PGPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
established() { ss -Htn state established "dport = :$SPORT" | wc -l; }

say "the pools fill: (3 + 2) per worker x 2 workers, and PostgreSQL sees none"
wait_for sh -c "[ \$(ss -Htn state established 'dport = :$SPORT' | wc -l) -eq 10 ]" ||
	fail "$(established) prewarmed connections, wanted 10"
[ "$(psql -h "$PGSOCK" -p "$PGPORT" -U postgres -X -At -c \
	"select count(*) from pg_stat_activity where backend_type = 'client backend'")" = 1 ] ||
	fail "the database saw prewarmed connections"

say "apps connect through prewarmed connections, and the pools refill"
for i in 1 2 3 4 5 6 7 8; do
	[ "$(psql_at "$CPORT" "select $i")" = "$i" ] || fail "query $i"
	[ "$(psql_at "$PGC" "select $i")" = "$i" ] || fail "pg query $i"
done
log_has client 'tunnel=c .*open identity="CN=dbserver"' || fail "no open line"
# Connections whose app closed cleanly are kept too (streams), so at least.
wait_for sh -c "[ \$(ss -Htn state established 'dport = :$SPORT' | wc -l) -ge 10 ]" ||
	fail "pools did not refill: $(established)"

say "after a reload, connections prewarmed before it are not used"
kill -HUP "$PID_client"
log_has client 'reload \(SIGHUP\)' || fail "no reload"
[ "$(psql_at "$CPORT" 'select 1')" = 1 ] || fail "query after reload"
log_has client 'reason="idle since before a reload"' || fail "stale prewarmed connection kept"

say "the server agent restarts: pooled connections go, new ones come"
kill -TERM "$PID_server"
wait "$PID_server" || true
AGENTS=client
start_agent server "$T/server.conf"
wait_for sh -c "[ \$(ss -Htn state established 'dport = :$SPORT' | wc -l) -ge 10 ]" ||
	fail "pools did not refill after the restart: $(established)"
[ "$(psql_at "$CPORT" 'select 2')" = 2 ] || fail "query after restart"
pass
