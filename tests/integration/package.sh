#!/bin/sh
# The Debian package: scripts/package.sh builds it (debhelper) and
# lintian finds no error; dpkg -i installs it on this machine (programs,
# man pages, units, init script, logrotate, examples, the dbtls user and
# /etc/dbtls root:dbtls 0750); the agent starts from the installed files
# (its init script, the example config, keys in the documented layout) as
# user dbtls and carries a query; dpkg --purge removes every file.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { say "SKIP: needs root"; STATUS=0; exit 0; }
if dpkg-query -W -f='${Status}' dbtls 2>/dev/null | grep -q "ok installed"; then
	fail "a dbtls package is installed already; this test would replace it"
fi
ON_EXIT='/etc/init.d/dbtls-agent stop >/dev/null 2>&1; rm -f /etc/dbtls/agent.conf /etc/dbtls/*.crt /etc/dbtls/*.key; dpkg --purge dbtls >/dev/null 2>&1'
sh "$SRC/scripts/package.sh" "$T/out" >"$T/package.log" 2>&1 || fail "package.sh: $(tail -30 "$T/package.log")"
deb=$(ls "$T"/out/dbtls_*.deb)
say "built $(basename "$deb"); lintian: $(grep -c '^[EW]:' "$T/package.log" || true) error/warning line(s)"
grep '^[EW]:' "$T/package.log" || true
dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg.log")"
for f in /usr/bin/dbtls-agent /usr/bin/dbtls-certs /lib/systemd/system/dbtls-agent.service \
	/lib/systemd/system/dbtls-agent@.service /lib/systemd/system/dbtls-certs-check.timer \
	/etc/init.d/dbtls-agent /etc/logrotate.d/dbtls-agent /usr/share/man/man8/dbtls-agent.8.gz \
	/usr/share/man/man5/dbtls.conf.5.gz /usr/share/man/man1/dbtls-certs.1.gz \
	/usr/share/doc/dbtls/examples/server.conf /usr/share/doc/dbtls/copyright; do
	[ -e "$f" ] || fail "not installed: $f"
done
! grep -q /usr/local /lib/systemd/system/dbtls-agent.service || fail "the unit names /usr/local"
getent passwd dbtls >/dev/null || fail "no dbtls user"
[ "$(stat -c '%a %U %G' /etc/dbtls)" = "750 root dbtls" ] || fail "/etc/dbtls is $(stat -c '%a %U %G' /etc/dbtls)"
/etc/init.d/dbtls-agent start | grep -q "not starting" || fail "init start without a config"

say "the installed agent, from the example config and the documented layout"
start_backend backend
P=$(free_port)
/usr/bin/dbtls-certs init-ca --dir "$T/ca" >/dev/null
/usr/bin/dbtls-certs issue --ca "$T/ca" --cn db1.example.com --dns db1.example.com \
	--out /etc/dbtls --group dbtls >/dev/null || fail "issue"
cp "$T/ca/ca.crt" /etc/dbtls/ca.crt
sed -e "s#0.0.0.0:7432#127.0.0.1:$P#; s#127.0.0.1:5432#127.0.0.1:$BPORT#" \
	-e 's#protocol = "postgresql"#protocol = "tcp"#; s#^metrics = .*#\# no metrics here#' \
	-e 's#cn = \[ "app1.example.com" \]#cn = [ "app1" ]#' \
	/usr/share/doc/dbtls/examples/server.conf >/etc/dbtls/agent.conf
chgrp dbtls /etc/dbtls/agent.conf
chmod 640 /etc/dbtls/agent.conf
/usr/bin/dbtls-agent --check --config /etc/dbtls/agent.conf >"$T/check.out" 2>&1 ||
	fail "check: $(cat "$T/check.out")"
/etc/init.d/dbtls-agent start || fail "init start"
wait_for grep -q " ready: " /var/log/dbtls-agent.log || fail "start: $(tail /var/log/dbtls-agent.log)"
pid=$(cat /run/dbtls-agent.pid)
agent=$(pgrep -P "$pid" dbtls-agent || echo "$pid")
grep -q "^Uid:	$(id -u dbtls)	" "/proc/$agent/status" || fail "the agent does not run as dbtls"
/usr/bin/dbtls-certs issue --ca "$T/ca" --cn app1 --out "$T/app" >/dev/null
cat >"$T/client.conf" <<CONF
tls = { cert = "$T/app/app1.crt"; key = "$T/app/app1.key"; ca = "$T/ca/ca.crt"; };
tunnels = ( { name = "c"; mode = "client"; protocol = "tcp"; listen = "127.0.0.1:$(free_port)";
	connect = "127.0.0.1:$P"; server_name = "db1.example.com"; } );
CONF
CPORT=$(sed -n 's/.*listen = "127.0.0.1:\([0-9]*\)".*/\1/p' "$T/client.conf")
start_agent client "$T/client.conf"
$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 100000 100000 >"$T/c.out" ||
	fail "through the installed agent: $(cat "$T/c.out")"
stop_agents
/etc/init.d/dbtls-agent stop || fail "init stop"

say "dpkg --purge removes it"
rm -f /etc/dbtls/agent.conf /etc/dbtls/*.crt /etc/dbtls/*.key /etc/dbtls/*.prev
dpkg --purge dbtls >"$T/purge.log" 2>&1 || fail "purge: $(cat "$T/purge.log")"
for f in /usr/bin/dbtls-agent /etc/init.d/dbtls-agent /lib/systemd/system/dbtls-agent.service \
	/etc/logrotate.d/dbtls-agent /etc/dbtls /usr/share/doc/dbtls; do
	[ ! -e "$f" ] || fail "left after purge: $f"
done
ON_EXIT=
pass
