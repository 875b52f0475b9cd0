#!/bin/sh
# Interop with independent TLS stacks, several MiB each way, checked by
# digests: GnuTLS's gnutls-cli against the server agent (both kinds of
# KeyUpdate, resumption), openssl s_client asking for 512-byte records
# (RFC 6066), gnutls-serv with and without session tickets
# upstream of the client agent, Go's crypto/tls both ways with a
# HelloRetryRequest forced, and Python's ssl both ways.  Every
# connection's records are dbtls's own after the handshake.
. "$(dirname "$0")/lib.sh"
make_pki
command -v gnutls-cli >/dev/null || fail "gnutls-cli missing (scripts/deps.sh)"
command -v go >/dev/null || fail "go missing (scripts/deps.sh)"

start_echo() { # start_echo NAME: an echo server; its port in EPORT
	EPORT=$(free_port)
	$PY "$SRC/tests/helpers/echo.py" "$EPORT" >"$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	log_has "$1" listening || fail "echo server $1 did not start"
}
start_echo echo
write_pair tcp "127.0.0.1:$EPORT"
start_agent server "$T/server.conf"

# gnutls_cli ARGS...: GnuTLS as app1 to the server agent.
gnutls_cli() {
	gnutls-cli --x509cafile "$PKI/ca.crt" --x509certfile "$PKI/app1.crt" \
		--x509keyfile "$PKI/app1.key" -p "$SPORT" "$@" 127.0.0.1
}
for n in 1 2 3; do
	head -c 1500000 /dev/urandom | base64 -w 76 >"$T/part$n.txt"
done
cat "$T/part1.txt" "$T/part2.txt" "$T/part3.txt" >"$T/want.txt"

say "gnutls-cli: 6 MiB each way, a KeyUpdate asking for one back, one not"
{ cat "$T/part1.txt"; echo '^rekey^'; cat "$T/part2.txt"; echo '^rekey1^'
	cat "$T/part3.txt"; } >"$T/in.txt"
gnutls_cli --logfile="$T/gnutls.log" --inline-commands <"$T/in.txt" >"$T/out.txt" ||
	fail "gnutls-cli: $(tail -n 5 "$T/gnutls.log")"
cmp -s "$T/want.txt" "$T/out.txt" || fail "gnutls-cli: the echo differs"
[ "$(grep -c 'Rekey was completed' "$T/gnutls.log")" = 2 ] ||
	fail "gnutls-cli: both key updates should complete"
for suite in CHACHA20-POLY1305 AES-128-GCM; do
	say "gnutls-cli: TLS_$suite"
	gnutls_cli --logfile="$T/gnutls-$suite.log" \
		--priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+$suite" \
		<"$T/part1.txt" >"$T/out-$suite.txt" || fail "gnutls-cli $suite"
	cmp -s "$T/part1.txt" "$T/out-$suite.txt" || fail "$suite: the echo differs"
done
say "gnutls-cli: resumption"
echo hello | gnutls_cli --logfile="$T/gnutls-r.log" -r --waitresumption >"$T/out-r.txt" ||
	fail "gnutls-cli -r: $(tail -n 5 "$T/gnutls-r.log")"
grep -q "This is a resumed session" "$T/gnutls-r.log" || fail "not resumed"
log_has server "resumed=yes records=dbtls" || fail "the server agent did not resume"
[ "$(grep -c ' open .*records=openssl' "$T/server.log")" = 0 ] ||
	fail "a connection stayed with OpenSSL"

say "openssl s_client -maxfraglen 512: records it can take"
head -c 200000 /dev/urandom | base64 -w 76 >"$T/mfl.txt"
{ cat "$T/mfl.txt"; sleep 2; } | timeout 10 openssl s_client -quiet -tls1_3 \
	-maxfraglen 512 -connect "127.0.0.1:$SPORT" -CAfile "$PKI/ca.crt" \
	-cert "$PKI/app1.crt" -key "$PKI/app1.key" >"$T/mfl.out" 2>"$T/mfl.err" || true
cmp -s "$T/mfl.txt" "$T/mfl.out" ||
	fail "max fragment length: $(wc -c <"$T/mfl.out") of $(wc -c <"$T/mfl.txt") bytes back: $(tail -n 3 "$T/mfl.err")"

say "Go crypto/tls client, HelloRetryRequest forced: 8 MiB each way"
export GOPATH="$T/go" GOCACHE="$T/go/cache" GOFLAGS=-mod=mod
go build -o "$T/tlspeer" "$SRC/tests/interop/tlspeer.go" || fail "go build"
out=$("$T/tlspeer" client "127.0.0.1:$SPORT" "$PKI" 8) || fail "Go client: $out"
[ "$out" = "ok 8388608 hrr=yes" ] || fail "Go client: $out"

say "Python ssl client: 8 MiB each way"
$PY - "$SPORT" "$PKI" <<'PYEOF' || fail "Python client"
import hashlib, os, select, socket, ssl, sys
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_cert_chain(pki + "/app1.crt", pki + "/app1.key")
ctx.load_verify_locations(pki + "/ca.crt")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                    server_hostname="127.0.0.1")
data = os.urandom(8 << 20)
# One thread only: OpenSSL's SSL object is not for two threads at once.
s.setblocking(False)
sent, got = 0, bytearray()
while len(got) < len(data):
    r, w, _ = select.select([s], [s] if sent < len(data) else [], [], 30)
    assert r or w or s.pending(), "stalled at %d sent, %d got" % (sent, len(got))
    if w:
        try:
            sent += s.send(data[sent:sent + 65536])
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
    if r or s.pending():
        try:
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
s.setblocking(True)
s.unwrap()
PYEOF

# upstream NAME PORT: a client agent in front of the TLS server on PORT;
# its app port in APORT.
upstream() {
	APORT=$(free_port)
	sed -e "s/127.0.0.1:$CPORT/127.0.0.1:$APORT/; s/127.0.0.1:$SPORT/127.0.0.1:$2/; s/\"c\"/\"$1\"/" \
		"$T/client.conf" >"$T/$1.conf"
	start_agent "$1" "$T/$1.conf"
}
# through PORT MIB: MIB MiB each way through the app port, digests checked.
through() {
	$PY - "$1" "$2" <<'PYEOF'
import hashlib, os, socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = os.urandom(int(sys.argv[2]) << 20)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
got = bytearray()
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    got += b
if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
    sys.exit("echo differs: %d of %d bytes back" % (len(got), len(data)))
PYEOF
}

for tickets in yes no; do
	say "gnutls-serv upstream of the client agent, tickets: $tickets"
	GPORT=$(free_port)
	opt=
	[ $tickets = no ] && opt=--noticket
	gnutls-serv --echo -p "$GPORT" --x509certfile "$PKI/server.crt" \
		--x509keyfile "$PKI/server.key" --x509cafile "$PKI/ca.crt" \
		--require-client-cert $opt >"$T/gserv-$tickets.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for sh -c "ss -Htln 'sport = :$GPORT' | grep -q LISTEN" ||
		fail "gnutls-serv did not start"
	upstream "g$tickets" "$GPORT"
	# gnutls-serv --echo answers line by line: text, not binary.
	out=$($PY - "$APORT" <<'PYEOF'
import base64, os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = base64.encodebytes(os.urandom(3 << 20))
s.sendall(data)
got = bytearray()
while len(got) < len(data):
    b = s.recv(1 << 20)
    if not b:
        break
    got += b
print("ok" if bytes(got) == data else "differs: %d of %d" % (len(got), len(data)))
PYEOF
)
	[ "$out" = ok ] || fail "gnutls-serv $tickets: $out"
	log_has "g$tickets" " open .*records=dbtls" ||
		fail "the client agent kept OpenSSL's records (tickets: $tickets)"
done

say "Go crypto/tls server upstream of the client agent, HelloRetryRequest forced"
GOPORT=$(free_port)
"$T/tlspeer" server "127.0.0.1:$GOPORT" "$PKI" >"$T/goserver.log" 2>&1 &
PIDS="$PIDS $!"
log_has goserver listening || fail "Go server did not start"
upstream gocli "$GOPORT"
through "$APORT" 8 || fail "through the Go server"
log_has goserver "^echoed 8388608 hrr=yes$" || fail "Go server: $(cat "$T/goserver.log")"
log_has gocli " open .*records=dbtls" || fail "records stayed with OpenSSL"

say "Python ssl server upstream of the client agent"
PYPORT=$(free_port)
$PY - "$PYPORT" "$PKI" >"$T/pyserver.log" 2>&1 <<'PYEOF' &
import socket, ssl, sys, threading
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + "/server.crt", pki + "/server.key")
ctx.load_verify_locations(pki + "/ca.crt")
ctx.verify_mode = ssl.CERT_REQUIRED
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen()
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    s = ctx.wrap_socket(c, server_side=True)
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        s.sendall(b)
    s.unwrap()
    s.close()
PYEOF
PIDS="$PIDS $!"
log_has pyserver listening || fail "Python server did not start"
upstream pycli "$PYPORT"
through "$APORT" 8 || fail "through the Python server"
log_has pycli " open .*records=dbtls" || fail "records stayed with OpenSSL"
pass
