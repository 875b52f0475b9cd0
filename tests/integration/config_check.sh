#!/bin/sh
# dbtls-agent --check: a good config says ok; each bad one exits 1 with an
# error naming the file and line and what is wrong.
. "$(dirname "$0")/lib.sh"
make_pki
C=$T/agent.conf

# bad EXPECTED-REGEX: --check on $C must fail, printing the pattern.
bad() {
	if out=$("$AGENT" --check --config "$C" 2>&1); then
		fail "accepted a bad config, wanted: $1"
	fi
	echo "$out" | grep -Eq -- "$1" || fail "wanted /$1/, got: $out"
	say "  refused: $(echo "$out" | sed 's/^.*error: //')"
}

conf() { # conf TUNNEL-BODY [TOP-LEVEL]
	cat >"$C" <<CONF
tls = { cert = "$PKI/server.crt"; key = "$PKI/server.key"; ca = "$PKI/ca.crt"; };
${2:-}
tunnels = (
  { name = "pg-in"; mode = "server"; protocol = "postgresql";
    listen = "127.0.0.1:7432"; connect = "127.0.0.1:5432";
    $1 }
);
CONF
}

say "a good config"
conf 'allow = { cn = [ "app1" ]; dns = [ "app1.example.com" ]; uri = [ "spiffe://example.com/app1" ]; };'
out=$("$AGENT" --check --config "$C") || fail "good config refused: $out"
echo "$out" | grep -q '^ok' || fail "no ok: $out"

say "a server tunnel whose database hop leaves the host: a warning, still ok"
conf 'allow_any = true;'
sed -i 's/connect = "127.0.0.1:5432";/connect = "10.1.2.3:5432";/' "$C"
out=$("$AGENT" --check --config "$C" 2>&1) || fail "remote database refused: $out"
echo "$out" | grep -q 'warning: .*agent.conf:4: tunnel "pg-in": connect = "10.1.2.3:5432" is not loopback or a unix socket' ||
	fail "no warning for a remote database: $out"
echo "$out" | grep -q '^ok' || fail "no ok: $out"

say "bad configs"
conf 'allow_any = true; protocol = "tcp";'
bad 'agent.conf:[0-9]+: duplicate setting name'
conf 'allow_any = true;'
sed -i 's/protocol = "postgresql";/protocol = "pgsql";/' "$C"
bad 'agent.conf:4: tunnel "pg-in": unknown protocol "pgsql"'
conf ''
bad 'agent.conf:4: tunnel "pg-in": a server tunnel must say who may connect'
conf 'allow_any = true; alow = { cn = [ "x" ]; };'
bad 'agent.conf:6: tunnel "pg-in": unknown setting "alow"'
conf 'allow_any = true; connect_timeout = -1;'
bad 'agent.conf:6: tunnel "pg-in": "connect_timeout" = -1 is out of range'
conf 'allow_any = true; listen_mode = "0660";'
bad 'agent.conf:4: tunnel "pg-in": listen_mode, listen_owner and listen_group are for a unix socket listener'
conf 'allow_any = true; listen_group = "no-such-group-here";'
sed -i 's|listen = "127.0.0.1:7432";|listen = "unix:/tmp/x.sock";|' "$C"
bad 'agent.conf:6: tunnel "pg-in": no group "no-such-group-here"'
conf 'allow_any = true;' 'drain_timeout = 7200;'
bad 'agent.conf:2: drain_timeout must be a number of seconds from 0'
conf 'allow_any = true;' 'workers = "many";'
bad 'agent.conf:2: workers must be a whole number'
conf 'allow_any = true;' 'user = "no-such-user-here";'
bad 'agent.conf:2: no user "no-such-user-here"'
conf 'allow_any = true;' 'user = "root";'
bad 'agent.conf:2: user "root" would keep every power'
conf 'allow_any = true;'
sed -i 's/name = "pg-in"/name = "pg in"/' "$C"
bad 'tunnel name "pg in": use at most 64 letters, digits'
conf 'allow_any = true;' 'group = "nogroup";'
bad 'agent.conf:2: "group" needs "user" beside it'
conf 'allow_any = true;' 'log_format = "xml";'
bad 'agent.conf:2: unknown log_format "xml" \(text, json\)'
conf 'allow_any = true;' 'metrics = "127.0.0.1";'
bad 'agent.conf:2: metrics "127.0.0.1": missing port'
conf 'allow_any = true;' 'workers = "many";'
bad 'agent.conf:2: workers must be a whole number'
conf 'allow_any = true;'
sed -i 's/127.0.0.1:7432/127.0.0.1/' "$C"
bad 'agent.conf:5: tunnel "pg-in": listen "127.0.0.1": missing port'
conf 'allow_any = true;'
sed -i 's/127.0.0.1:7432/[::1:7432/' "$C"
bad 'agent.conf:5: tunnel "pg-in": listen "\[::1:7432": missing .\]'
conf 'allow_any = true;'
sed -i 's/127.0.0.1:5432/127.0.0.1:99999/' "$C"
bad 'agent.conf:5: tunnel "pg-in": connect "127.0.0.1:99999": port out of range'
conf 'allow_any = ;'
bad 'agent.conf:[0-9]+: syntax error'
conf 'allow_any = true; tls = { min_version = "1.1"; };'
bad 'agent.conf:6: tunnel "pg-in": unknown min_version "1.1"'

say "bad files"
conf 'allow_any = true; tls = { cert = "/nonexistent.crt"; };'
bad 'agent.conf:6: tunnel "pg-in": cert "/nonexistent.crt": No such file or directory'
cp "$PKI/server.key" "$T/open.key"
chmod 644 "$T/open.key"
conf "allow_any = true; tls = { key = \"$T/open.key\"; };"
bad "agent.conf:6: tunnel \"pg-in\": key \"$T/open.key\" is open to others \\(mode 0644\\)"
conf "allow_any = true; tls = { key = \"$PKI/app1.key\"; };"
bad "agent.conf:6: tunnel \"pg-in\": key \"$PKI/app1.key\" does not match cert"
conf "allow_any = true; tls = { cert = \"$PKI/expired.crt\"; key = \"$PKI/expired.key\"; };"
bad "agent.conf:6: tunnel \"pg-in\": cert \"$PKI/expired.crt\" has expired"
printf 'not a certificate\n' >"$T/junk.crt"
conf "allow_any = true; tls = { ca = \"$T/junk.crt\"; };"
bad "agent.conf:6: tunnel \"pg-in\": ca \"$T/junk.crt\": no usable PEM CA"
conf "allow_any = true; tls = { cert = \"$T/junk.crt\"; };"
bad "agent.conf:6: tunnel \"pg-in\": cert \"$T/junk.crt\": no usable PEM certificate chain"

say "a port already in use fails at start, naming the tunnel"
# The holder picks its own port: a port chosen first could be taken.
$PY -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print('up',s.getsockname()[1],flush=True); time.sleep(30)" >"$T/holder.log" &
PIDS="$PIDS $!"
log_has holder up || fail "holder did not start"
P=$(sed -n 's/^up //p' "$T/holder.log")
conf 'allow_any = true;'
sed -i "s/127.0.0.1:7432/127.0.0.1:$P/" "$C"
out=$("$AGENT" --config "$C" 2>&1) && fail "started on a busy port"
echo "$out" | grep -q "tunnel \"pg-in\": cannot listen on 127.0.0.1:$P: Address already in use" ||
	fail "busy port said: $out"
pass
