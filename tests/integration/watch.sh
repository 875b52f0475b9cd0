#!/bin/sh
# reload = "watch": the agent takes new files by itself, after an atomic
# rename (dbtls-certs rotate without --reload) and after a Kubernetes
# secret-volume swap (the configured paths are symlinks through "..data",
# and "..data" is replaced).  Expiry warnings at start.
. "$(dirname "$0")/lib.sh"
C=$CERTS
$C init-ca --dir "$T/ca" >/dev/null || fail "init-ca"

# A secret volume as the kubelet lays it out.
S=$T/secret
mkdir -p "$S/..v1"
$C issue --ca "$T/ca" --cn dbserver --dns localhost --ip 127.0.0.1 --days 10 \
	--out "$S/..v1" >/dev/null
mv "$S/..v1/dbserver.crt" "$S/..v1/tls.crt"
mv "$S/..v1/dbserver.key" "$S/..v1/tls.key"
cp "$T/ca/ca.crt" "$S/..v1/ca.crt"
ln -s ..v1 "$S/..data"
for f in tls.crt tls.key ca.crt; do ln -s "..data/$f" "$S/$f"; done

PKI=$T/pki
mkdir -p "$PKI"
$C issue --ca "$T/ca" --cn app1 --out "$PKI" >/dev/null
cp "$T/ca/ca.crt" "$PKI/ca.crt"
start_backend backend
write_pair tcp "127.0.0.1:$BPORT"
sed -i "s|^tls = .*|tls = { cert = \"$S/tls.crt\"; key = \"$S/tls.key\"; ca = \"$S/ca.crt\"; reload = \"watch\"; };|" "$T/server.conf"
sed -i "s|^tls = { \\(.*\\) };|tls = { \\1 reload = \"watch\"; };|" "$T/client.conf"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"

say "a certificate that ends within expiry_warn_days (14) is warned about at start"
log_has server "warning: tunnel=s: certificate $S/tls.crt \\(CN=dbserver, serial [0-9A-F]+\\) expires in (9|10) days" ||
	fail "no expiry warning"

stream() {
	out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 10000 10000 2>&1) ||
		fail "stream: $out"
}
stream

say "Kubernetes swap: ..data now points at a new version"
mkdir -p "$S/..v2"
$C issue --ca "$T/ca" --cn dbserver --dns localhost --ip 127.0.0.1 --out "$S/..v2" >/dev/null
mv "$S/..v2/dbserver.crt" "$S/..v2/tls.crt"
mv "$S/..v2/dbserver.key" "$S/..v2/tls.key"
cp "$T/ca/ca.crt" "$S/..v2/ca.crt"
ln -s ..v2 "$S/..data_tmp"
mv -T "$S/..data_tmp" "$S/..data"
rm -rf "$S/..v1"
new=$(serial "$S/tls.crt")
log_has server "reload \\(files changed\\): tunnel=s now presents serial $new" ||
	fail "server did not pick up the swap"
stream
log_has client "open identity=\"CN=dbserver\" serial=$new " || fail "client did not see $new"

say "atomic rename: dbtls-certs rotate without --reload"
$C rotate --config "$T/client.conf" --ca "$T/ca" >/dev/null || fail "rotate"
newc=$(serial "$PKI/app1.crt")
log_has client "reload \\(files changed\\): tunnel=c now presents serial $newc" ||
	fail "client did not pick up the rotation"
stream
log_has server "open identity=\"CN=app1\" serial=$newc " || fail "server did not see $newc"
n=$(grep -c 'reload (files changed)' "$T/client.log")
[ "$n" -le 2 ] || fail "one rotation caused $n reloads"
pass
