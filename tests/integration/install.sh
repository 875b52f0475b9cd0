#!/bin/sh
# Installation pieces: cmake --install puts both programs in PREFIX/bin,
# the man pages and the example configs; each example config is valid
# once its certificate paths exist (and the user it names is there).
. "$(dirname "$0")/lib.sh"
cmake --install "$BIN" --prefix "$T/root" >/dev/null || fail "cmake --install"
"$T/root/bin/dbtls-agent" --version | grep -q '^dbtls-agent ' || fail "installed agent"
"$T/root/bin/dbtls-certs" --version | grep -q '^dbtls-certs ' || fail "installed certs"
for m in man8/dbtls-agent.8 man1/dbtls-certs.1 man5/dbtls.conf.5; do
	[ -s "$T/root/share/man/$m" ] || fail "man page $m not installed"
done
make_pki
for side in client server; do
	f=$T/root/share/doc/dbtls/examples/$side.conf
	[ -s "$f" ] || fail "example $side.conf not installed"
	sed -E -e "s#/etc/dbtls/[a-z0-9.]+\\.example\\.com\\.crt#$PKI/server.crt#" \
		-e "s#/etc/dbtls/[a-z0-9.]+\\.example\\.com\\.key#$PKI/server.key#" \
		-e "s#/etc/dbtls/ca.crt#$PKI/ca.crt#" \
		-e 's#^user = "dbtls";#user = "nobody";#; s#^group = "dbtls";#group = "nogroup";#' \
		"$f" >"$T/$side.conf"
	chgrp nogroup "$PKI/server.key" "$T/$side.conf" "$PKI"
	chmod 640 "$PKI/server.key"
	chmod 750 "$PKI"
	out=$("$AGENT" --check --config "$T/$side.conf" 2>&1) || fail "example $side.conf: $out"
	say "example $side.conf: $out"
done
pass
