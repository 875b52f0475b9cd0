#!/bin/sh
# Native PostgreSQL TLS on either side of the pair: psql with
# sslmode=verify-full straight to the server agent; the client agent in
# front of a PostgreSQL that has ssl=on and cert authentication; direct
# TLS (PostgreSQL 17 style, ALPN); the app's own SSLRequest/GSSENCRequest
# answered 'N' by the client agent; injected bytes after an SSLRequest.
. "$(dirname "$0")/lib.sh"
make_pki
# PostgreSQL wants its own key owned by itself, mode 0600.
mkdir -p "$T/pgkeys"
cp "$PKI/server.crt" "$PKI/server.key" "$PKI/ca.crt" "$T/pgkeys/"
chown -R postgres "$T/pgkeys"
start_pg ssl=on ssl_cert_file="$T/pgkeys/server.crt" \
	ssl_key_file="$T/pgkeys/server.key" ssl_ca_file="$T/pgkeys/ca.crt"
# Only TLS with a client certificate over TCP; trust on the local socket.
cat >"$PGDATA/pg_hba.conf" <<HBA
local all all trust
hostssl all all 127.0.0.1/32 cert
HBA
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" reload >/dev/null
sleep 0.3
psql -h "$PGSOCK" -p "$PGPORT" -U postgres -X -q -c "create role app1 login" ||
	fail "create role"

# The server agent fronts the same database over its unix socket.
write_pair postgresql "unix:$PGSOCK/.s.PGSQL.$PGPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

say "psql sslmode=verify-full straight to the server agent"
tls="sslmode=verify-full sslrootcert=$PKI/ca.crt sslcert=$PKI/app1.crt sslkey=$PKI/app1.key"
out=$(psql "host=localhost port=$SPORT user=postgres dbname=postgres $tls" -X -At \
	-c "select 'native ok'") || fail "native psql"
[ "$out" = "native ok" ] || fail "native psql said $out"
log_has server 'open identity="CN=app1" serial=[0-9A-F]+ tls=TLSv1.3' || fail "server open line"

say "client agent in front of PostgreSQL with ssl=on (cert auth as app1)"
CPORT2=$(free_port)
cat >"$T/client-pg.conf" <<CONF
tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "to-pg"; mode = "client"; protocol = "postgresql";
	listen = "127.0.0.1:$CPORT2"; connect = "127.0.0.1:$PGPORT";
	server_name = "localhost"; } );
CONF
start_agent clientpg "$T/client-pg.conf"
out=$(psql "host=127.0.0.1 port=$CPORT2 user=app1 dbname=postgres" -X -At \
	-c "select ssl, client_dn from pg_stat_ssl where pid = pg_backend_pid()") ||
	fail "psql through client agent to ssl=on PostgreSQL"
[ "$out" = "t|/CN=app1" ] || fail "pg_stat_ssl says $out"
say "  pg_stat_ssl: $out"
# PostgreSQL sends no session ticket: the client agent still takes the
# records over (it used to keep OpenSSL's for the connection's life).
log_has clientpg " close .*records=dbtls" ||
	fail "the client agent kept OpenSSL's records against ssl=on PostgreSQL"

say "direct TLS with ALPN postgresql, and without"
out=$($PY "$SRC/tests/helpers/pgproto.py" direct-tls "$SPORT" "$PKI/ca.crt" \
	"$PKI/app1.crt" "$PKI/app1.key" postgresql)
[ "$out" = R ] || fail "direct TLS answered $out"
out=$($PY "$SRC/tests/helpers/pgproto.py" direct-tls "$SPORT" "$PKI/ca.crt" \
	"$PKI/app1.crt" "$PKI/app1.key" none)
[ "$out" != R ] || fail "direct TLS without ALPN was served"
log_has server 'direct TLS without ALPN' || fail "no log line for missing ALPN"

say "the client agent answers the app's GSSENCRequest and SSLRequest with N"
out=$($PY "$SRC/tests/helpers/pgproto.py" negotiate "$CPORT")
[ "$out" = "N N R" ] || fail "negotiation gave $out"

say "bytes injected behind an SSLRequest close the connection"
out=$($PY "$SRC/tests/helpers/pgproto.py" inject "$SPORT")
[ "$out" = closed ] || fail "injection answered $out"
log_has server 'CVE-2021-23214' || fail "no log line for injection"

agent_alive server && agent_alive client && agent_alive clientpg || fail "an agent died"
pass
