#!/bin/sh
# dbtls-certs: every subcommand, its output checked with openssl(1), bad
# input refused with a clear message, and issued certificates used by a
# pair of agents end to end.
. "$(dirname "$0")/lib.sh"
C=$CERTS
cd "$T"

# refuse EXPECTED-REGEX CMD...: CMD must fail (exit 2) saying EXPECTED.
refuse() {
	want=$1
	shift
	rc=0
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = 2 ] || fail "$* exited $rc, wanted 2: $out"
	echo "$out" | grep -Eq -- "$want" || fail "$*: wanted /$want/, got: $out"
	say "  refused: $(echo "$out" | head -1)"
}

say "init-ca: a P-256 CA, key 0600, CA:TRUE pathlen 0"
$C init-ca --dir ca --cn "dbtls test CA" >/dev/null || fail "init-ca"
[ "$(stat -c %a ca/ca.key)" = 600 ] || fail "ca.key mode $(stat -c %a ca/ca.key)"
openssl x509 -in ca/ca.crt -noout -text >ca.txt
grep -q 'CA:TRUE, pathlen:0' ca.txt || fail "CA basic constraints"
grep -q 'ASN1 OID: prime256v1' ca.txt || fail "CA key is not P-256"
grep -q 'Signature Algorithm: ecdsa-with-SHA256' ca.txt || fail "CA signature"
refuse 'already holds a CA; use --force' $C init-ca --dir ca
$C init-ca --dir ca-ed --key ed25519 >/dev/null || fail "ed25519 CA"
$C init-ca --dir ca-rsa --key rsa --cn "RSA CA" --days 30 >/dev/null || fail "RSA CA"
openssl x509 -in ca-rsa/ca.crt -noout -text | grep -q 'Public-Key: (3072 bit)' || fail "RSA size"

say "issue: leaves for mTLS, verified by openssl"
$C issue --ca ca --cn app1 --dns app1.example.com --uri spiffe://example.com/app1 \
	--out . >/dev/null || fail "issue app1"
$C issue --ca ca --cn dbserver --dns localhost --ip 127.0.0.1 --ip ::1 --days 30 \
	--out out >/dev/null || fail "issue dbserver"
$C issue --ca ca-ed --cn edleaf --key ed25519 --out out >/dev/null || fail "ed25519 leaf"
$C issue --ca ca-rsa --cn rsaleaf --key rsa --out out >/dev/null || fail "rsa leaf"
[ "$(stat -c %a out)" = 700 ] || fail "issue made out/ with mode $(stat -c %a out)"
openssl verify -CAfile ca/ca.crt app1.crt out/dbserver.crt >/dev/null || fail "verify"
openssl verify -CAfile ca-ed/ca.crt out/edleaf.crt >/dev/null || fail "verify ed25519"
openssl verify -CAfile ca-rsa/ca.crt out/rsaleaf.crt >/dev/null || fail "verify rsa"
openssl verify -purpose sslclient -CAfile ca/ca.crt app1.crt >/dev/null || fail "not a client cert"
openssl verify -purpose sslserver -CAfile ca/ca.crt out/dbserver.crt >/dev/null || fail "not a server cert"
[ "$(stat -c %a app1.key)" = 600 ] || fail "leaf key mode"
openssl x509 -in out/dbserver.crt -noout -text >leaf.txt
grep -q 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' leaf.txt ||
	fail "SANs: $(grep -A1 'Alternative' leaf.txt)"
grep -q 'CA:FALSE' leaf.txt || fail "leaf basic constraints"
grep -q 'Digital Signature' leaf.txt || fail "leaf key usage"
grep -q 'TLS Web Server Authentication, TLS Web Client Authentication' leaf.txt || fail "EKU"
s1=$(openssl x509 -in app1.crt -noout -serial | cut -d= -f2)
s2=$(openssl x509 -in out/dbserver.crt -noout -serial | cut -d= -f2)
[ ${#s1} -eq 32 ] && [ "$s1" != "$s2" ] || fail "serials $s1 $s2 are not 128 random bits"
refuse 'exists; use --force' $C issue --ca ca --cn app1
refuse 'cannot read nowhere/ca.crt: No such file or directory' $C issue --ca nowhere --cn x
refuse 'is not an IP address' $C issue --ca ca --cn x --ip 300.1.1.1
refuse '--key dsa: use ec, ed25519 or rsa' $C issue --ca ca --cn x --key dsa
refuse 'cannot name files' $C issue --ca ca --cn ../evil
refuse '--cn is required' $C issue --ca ca

say "csr and sign: for an outside CA, and from one (csr makes its --out)"
$C csr --cn ext --dns ext.example.com --ip 10.1.2.3 --out req >/dev/null || fail "csr"
openssl req -in req/ext.csr -noout -verify 2>&1 | grep -q 'verify OK' || fail "csr signature"
$C sign --ca ca --csr req/ext.csr --out req/ext.crt >/dev/null || fail "sign"
openssl verify -CAfile ca/ca.crt req/ext.crt >/dev/null || fail "verify signed"
openssl x509 -in req/ext.crt -noout -ext subjectAltName | grep -q 'DNS:ext.example.com, IP Address:10.1.2.3' ||
	fail "signed SANs"
[ "$(openssl x509 -in req/ext.crt -noout -pubkey)" = "$(openssl pkey -in req/ext.key -pubout)" ] ||
	fail "signed certificate is not for the request's key"
# A request with one key's body and another key's signature.
$C csr --cn other --dns ext.example.com --out req >/dev/null || fail "csr 2"
openssl req -in req/ext.csr -outform DER -out req/a.der
openssl req -in req/other.csr -outform DER -out req/b.der
$PY "$SRC/tests/helpers/csr_splice.py" req/a.der req/b.der req/bad.der
openssl req -in req/bad.der -inform DER -out req/bad.csr 2>/dev/null || fail "make bad csr"
refuse 'signature does not verify with its own public key' \
	$C sign --ca ca --csr req/bad.csr --out req/bad.crt
refuse 'no PEM certificate request' $C sign --ca ca --csr app1.crt --out req/x.crt

say "an expired CA, and a CA whose key is not its own"
mkdir -p old
sh "$SRC/tests/helpers/mkcerts.sh" "$T/oldpki" >/dev/null
cp "$T/oldpki/expired-ca.crt" old/ca.crt
cp "$T/oldpki/expired-ca.key" old/ca.key
refuse 'old/ca.crt has expired; make a new CA' $C issue --ca old --cn x --out out
mkdir -p mixed
cp ca/ca.crt mixed/ca.crt
cp ca-ed/ca.key mixed/ca.key
refuse 'mixed/ca.key does not match mixed/ca.crt' $C issue --ca mixed --cn x --out out
refuse 'no usable PEM private key' sh -c "cp ca/ca.crt mixed/ca.key; $C issue --ca mixed --cn x --out out"

say "inspect: text and JSON"
out=$($C inspect app1.crt) || fail "inspect"
echo "$out" | grep -q 'subject:    CN=app1' || fail "inspect subject: $out"
echo "$out" | grep -q 'SANs:       DNS:app1.example.com, URI:spiffe://example.com/app1' || fail "inspect SANs"
echo "$out" | grep -q "serial:     $s1" || fail "inspect serial"
echo "$out" | grep -q 'key:        EC P-256, 256 bits' || fail "inspect key"
echo "$out" | grep -Eq '\((89|90) days left\)' || fail "inspect days left"
fp=$(openssl x509 -in app1.crt -noout -fingerprint -sha256 | cut -d= -f2)
echo "$out" | grep -q "sha256:     $fp" || fail "inspect fingerprint"
json=$($C inspect --json out/dbserver.crt ca/ca.crt) || fail "inspect --json"
[ "$(echo "$json" | jq -r '.[0].sans | join(",")')" = "DNS:localhost,IP:127.0.0.1,IP:::1" ] ||
	fail "json sans: $json"
[ "$(echo "$json" | jq '.[1].is_ca')" = true ] || fail "json is_ca"
[ "$(echo "$json" | jq '.[0].days_left')" -ge 29 ] || fail "json days"
refuse 'no PEM certificate in it' $C inspect app1.key

say "agents run on what dbtls-certs issued"
start_backend backend
PKI=$T/pki
mkdir -p "$PKI"
cp ca/ca.crt "$PKI/ca.crt"
$C issue --ca ca --cn app1 --dns app1.example.com --out "$PKI" >/dev/null
$C issue --ca ca --cn dbserver --dns localhost --ip 127.0.0.1 --out "$PKI" >/dev/null
mv "$PKI/dbserver.crt" "$PKI/server.crt"
mv "$PKI/dbserver.key" "$PKI/server.key"
write_pair tcp "127.0.0.1:$BPORT"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 100000 100000) || fail "stream: $out"
log_has server "open identity=\"CN=app1\" serial=$(openssl x509 -in "$PKI/app1.crt" -noout -serial | cut -d= -f2) " ||
	fail "server did not see app1's serial"

say "check: ok, warn within --warn-days, invalid"
out=$($C check --config "$T/server.conf") || fail "check said: $out"
rc=0
out=$($C check --config "$T/server.conf" --warn-days 100 --json) || rc=$?
[ "$rc" = 1 ] || fail "check --warn-days 100 exited $rc: $out"
[ "$(echo "$out" | jq -r .status)" = warn ] || fail "json status: $out"
echo "$out" | jq -e '.results[] | select(.kind == "cert" and .status == "warn" and .days_left >= 89)' >/dev/null ||
	fail "no warned cert: $out"
chmod 644 "$PKI/server.key"
rc=0
out=$($C check --config "$T/server.conf") || rc=$?
[ "$rc" = 2 ] || fail "check with an open key exited $rc"
echo "$out" | grep -q "invalid key  $PKI/server.key: open to group or others (mode 0644, gid 0, or an ACL)" || fail "open key: $out"
chmod 600 "$PKI/server.key"
cp "$PKI/app1.key" "$PKI/server.key"
rc=0
out=$($C check --config "$T/server.conf") || rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "does not match it" || fail "mismatch: $rc $out"
say "  $(echo "$out" | grep invalid)"
pass
