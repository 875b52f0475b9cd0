#!/bin/sh
# MongoDB over the pair and straight to the server agent, with the official
# C driver as the client.  No mongod can be installed on these machines, so
# the database is tests/helpers/mongo_server.c, a wire-protocol server that
# answers hello, ping, insert and find the way mongod does.
. "$(dirname "$0")/lib.sh"
make_pki
MPORT=$(free_port)
"$BIN/tests/mongo_server" "$MPORT" >"$T/mongo.log" 2>&1 &
PIDS="$PIDS $!"
log_has mongo listening || fail "mongo_server did not start"

write_pair mongodb "127.0.0.1:$MPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

say "the C driver through the pair"
out=$("$BIN/tests/mongo_client" "mongodb://127.0.0.1:$CPORT/?directConnection=true" \
	pair 200 2>&1) || fail "through the pair: $out"
[ "$out" = "ok 200 documents" ] || fail "through the pair: $out"
log_has server 'tunnel=s .*open identity="CN=app1" serial=[0-9A-F]+ tls=TLSv1.3' || fail "server open line"

say "the C driver with TLS and a client certificate, straight to the server agent"
cat "$PKI/app1.crt" "$PKI/app1.key" >"$T/app1.pem"
uri="mongodb://localhost:$SPORT/?directConnection=true&tls=true"
out=$("$BIN/tests/mongo_client" "$uri&tlsCAFile=$PKI/ca.crt&tlsCertificateKeyFile=$T/app1.pem" \
	direct 50 2>&1) || fail "direct: $out"
[ "$out" = "ok 50 documents" ] || fail "direct: $out"

say "the C driver without a client certificate is refused"
out=$("$BIN/tests/mongo_client" "$uri&tlsCAFile=$PKI/ca.crt&serverSelectionTimeoutMS=2000" \
	nocert 1 2>&1) && fail "served without a client certificate: $out"
say "  driver: $out"
log_has server 'handshake with peer failed' || fail "no log line for the refusal"

say "the C driver in plaintext to the server agent is refused"
out=$("$BIN/tests/mongo_client" "mongodb://127.0.0.1:$SPORT/?directConnection=true&serverSelectionTimeoutMS=2000" \
	plain 1 2>&1) && fail "served in plaintext: $out"
say "  driver: $out"

agent_alive server && agent_alive client || fail "an agent died"
pass
