#!/bin/sh
# psql, COPY, pgbench and a query cancel through a client+server agent pair
# in front of a real PostgreSQL.
. "$(dirname "$0")/lib.sh"
make_pki
start_pg
write_pair postgresql "127.0.0.1:$PGPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

say "a query through the pair"
[ "$(psql_at "$CPORT" 'select 40 + 2')" = 42 ] || fail "query"
log_has server 'open identity="CN=app1" serial=[0-9A-F]+ tls=TLSv1.3/' || fail "server open line"
log_has client 'open identity="CN=dbserver" serial=[0-9A-F]+ tls=TLSv1.3/' || fail "client open line"
log_has client 'close .*to_db=[0-9]+ from_db=[0-9]+ .*reason=' || fail "close line"

say "COPY of 64 MB in and out, checksums equal"
head -c $((48 * 1024 * 1024)) /dev/urandom | base64 -w 1000 >"$T/data.txt"
in_sum=$(sha256sum <"$T/data.txt" | cut -d' ' -f1)
psql_at "$CPORT" "create table blob(line text)" >/dev/null
psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres" -X -q \
	-v ON_ERROR_STOP=1 -c "\\copy blob from '$T/data.txt'" || fail "COPY in"
rows=$(psql_at "$CPORT" "select count(*) from blob")
[ "$rows" = "$(wc -l <"$T/data.txt")" ] || fail "row count $rows"
psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres" -X -q \
	-v ON_ERROR_STOP=1 -c "\\copy blob to '$T/out.txt'" || fail "COPY out"
out_sum=$(sha256sum <"$T/out.txt" | cut -d' ' -f1)
[ "$in_sum" = "$out_sum" ] || fail "checksums differ: $in_sum $out_sum"
db_sum=$(psql_at "$CPORT" "select encode(sha256(convert_to(string_agg(line || E'\\n', '' order by ctid), 'UTF8')), 'hex') from blob")
[ "$db_sum" = "$in_sum" ] || fail "database holds other bytes: $db_sum"
say "  $(wc -c <"$T/data.txt") bytes each way, sha256 $in_sum"

say "pgbench -S and -S -C"
pgbench -i -q -s 2 -h 127.0.0.1 -p "$CPORT" -U postgres postgres \
	>"$T/pgbench-init.log" 2>&1 || fail "pgbench -i"
pgbench -S -c 4 -j 2 -T 5 -h 127.0.0.1 -p "$CPORT" -U postgres postgres \
	>"$T/pgbench.log" 2>&1 || fail "pgbench -S"
grep -q 'number of failed transactions: 0' "$T/pgbench.log" || fail "pgbench -S failures"
say "  $(grep -E '^tps' "$T/pgbench.log" | head -1)"
pgbench -S -C -c 4 -j 2 -T 5 -h 127.0.0.1 -p "$CPORT" -U postgres postgres \
	>"$T/pgbench-C.log" 2>&1 || fail "pgbench -S -C"
grep -q 'number of failed transactions: 0' "$T/pgbench-C.log" || fail "pgbench -C failures"
say "  -C: $(grep -E '^tps' "$T/pgbench-C.log" | head -1)"
grep -q 'resumed=yes' "$T/client.log" || fail "no resumed TLS session"
# After the handshake the agents protect records themselves (rec13): the
# server agent at once, the client agent once it has its session ticket.
grep -q 'close .*records=dbtls' "$T/client.log" || fail "client: no records=dbtls"
grep -q 'close .*records=dbtls' "$T/server.log" || fail "server: no records=dbtls"
! grep 'close .*TLSv1.3.*records=openssl' "$T/server.log" ||
	fail "server: a TLS 1.3 connection stayed with OpenSSL"
say "  records=dbtls: $(grep -c 'close .*records=dbtls' "$T/client.log") client, $(grep -c 'close .*records=dbtls' "$T/server.log") server closes"

say "a cancelled query is cancelled"
out=$(timeout --preserve-status -s INT 1 psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres" \
	-X -c 'select pg_sleep(10)' 2>&1 || true)
echo "$out" | grep -q "canceling statement due to user request" ||
	fail "cancel: $out"

say "the agents are still serving"
[ "$(psql_at "$CPORT" 'select 1')" = 1 ] || fail "query after all"
agent_alive client && agent_alive server || fail "an agent died"
pass
