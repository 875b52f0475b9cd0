#!/bin/sh
# Every refusal: no client certificate, a certificate from another CA, a CN
# not allowed, an expired certificate, a server with the wrong name, a
# plaintext startup.  Each is refused with a clear log line, and the agents
# go on serving the good client.
. "$(dirname "$0")/lib.sh"
make_pki
start_pg
# A second client tunnel expects a name the server's certificate lacks.
WPORT=$(free_port)
SPORT=$(free_port)
PPORT=$(free_port)
MORE_CLIENT_TUNNELS=", { name = \"wrong\"; mode = \"client\";
	protocol = \"postgresql\"; listen = \"127.0.0.1:$WPORT\";
	connect = \"127.0.0.1:$SPORT\"; server_name = \"db.example.org\"; },
  { name = \"pinned\"; mode = \"client\";
	protocol = \"postgresql\"; listen = \"127.0.0.1:$PPORT\";
	connect = \"127.0.0.1:$SPORT\"; allow = { cn = [ \"otherdb\" ]; }; }"
write_pair postgresql "127.0.0.1:$PGPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

good() {
	[ "$(psql_at "$CPORT" 'select 7')" = 7 ] || fail "good client refused after: $1"
	agent_alive server && agent_alive client || fail "an agent died after: $1"
}

# native NAME CERT: psql straight to the server agent presenting CERT.
native() {
	psql "host=localhost port=$SPORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.crt $2" \
		-X -At -c "select 'served'" >"$T/psql-$1.out" 2>&1 && fail "$1: was served"
	return 0
}

say "no client certificate"
native nocert "sslcert=$T/none.crt sslkey=$T/none.key"
log_has server "handshake with peer failed: .*(peer did not return a certificate|certificate required)" ||
	fail "no log line for a missing client certificate"
good nocert

say "a certificate from another CA"
native rogue "sslcert=$PKI/rogue.crt sslkey=$PKI/rogue.key"
log_has server "handshake with peer failed: certificate verify failed: unable to get local issuer certificate" ||
	fail "no log line for a foreign CA"
good rogue

say "a CN that is not allowed"
native intruder "sslcert=$PKI/intruder.crt sslkey=$PKI/intruder.key"
log_has server 'peer certificate is not allowed: it carries CN=intruder, DNS:intruder.example.com' ||
	fail "no log line for a CN not allowed"
good intruder

say "an expired certificate"
native expired "sslcert=$PKI/expired.crt sslkey=$PKI/expired.key"
log_has server "handshake with peer failed: certificate verify failed: certificate has expired" ||
	fail "no log line for an expired certificate"
good expired

say "a server certificate with the wrong name (client agent refuses)"
psql_at "$WPORT" 'select 1' >"$T/psql-wrong.out" 2>&1 && fail "wrong name served"
log_has client 'tunnel=wrong .*handshake with server failed: certificate verify failed: hostname mismatch' ||
	fail "no log line for a wrong server name"
good wrongname

say "a server whose identity is not the pinned one (client agent refuses)"
psql_at "$PPORT" 'select 1' >"$T/psql-pinned.out" 2>&1 && fail "unpinned server served"
log_has client 'tunnel=pinned .*server certificate is not allowed: it carries CN=dbserver, DNS:localhost' ||
	fail "no log line for a server not pinned"
good pinned

say "a plaintext startup to the server agent"
out=$(psql_at "$SPORT" 'select 1' sslmode=disable 2>&1) && fail "plaintext served"
echo "$out" | grep -q 'this server requires TLS' || fail "psql said: $out"
log_has server 'plaintext StartupMessage refused: TLS is required' ||
	fail "no log line for plaintext"
good plaintext

say "a client agent never falls back to plaintext"
NPORT=$(free_port)
cat >"$T/client-n.conf" <<CONF
tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "n"; mode = "client"; protocol = "postgresql";
	listen = "127.0.0.1:$NPORT"; connect = "127.0.0.1:$PGPORT"; } );
CONF
start_agent clientn "$T/client-n.conf"
psql_at "$NPORT" 'select 1' >"$T/psql-n.out" 2>&1 && fail "served without TLS"
log_has clientn "server refused TLS \\(answered 'N'\\); dbtls never falls back to plaintext" ||
	fail "no log line for a server without TLS"
good fallback
pass
