#!/bin/sh
# Installation pieces: cmake --install puts both programs in PREFIX/bin,
# the init script parses, and the example config is valid once its
# certificate paths exist.
. "$(dirname "$0")/lib.sh"
cmake --install "$BIN" --prefix "$T/root" >/dev/null || fail "cmake --install"
"$T/root/bin/dbtls-agent" --version | grep -q '^dbtls-agent ' || fail "installed agent"
"$T/root/bin/dbtls-certs" --version | grep -q '^dbtls-certs ' || fail "installed certs"
sh -n "$SRC/scripts/dbtls-agent.init" || fail "init script does not parse"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$SRC/scripts/dbtls-agent.service" ||
	fail "unit has no reload"
make_pki
sed -e "s|/etc/dbtls/this-host.crt|$PKI/server.crt|; s|/etc/dbtls/this-host.key|$PKI/server.key|" \
	-e "s|/etc/dbtls/ca.crt|$PKI/ca.crt|; s|/run/dbtls/agent.pid|$T/agent.pid|" \
	"$SRC/scripts/agent.conf.example" >"$T/agent.conf"
out=$("$AGENT" --check --config "$T/agent.conf") || fail "example config: $out"
pass
