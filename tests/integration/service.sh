#!/bin/sh
# The service files: every unit clean under systemd-analyze verify, with
# its systemd-analyze security exposure printed (the README quotes it) and
# held under 3.0; the SysV script clean under sh -n and checkbashisms and
# working for real (start, status, reload, restart, stop) through
# start-stop-daemon; its logrotate snippet accepted by logrotate.
. "$(dirname "$0")/lib.sh"
D=$BIN/dist
mkdir -p "$T/units"
for u in dbtls-agent.service dbtls-agent@.service dbtls-certs-check.service dbtls-certs-check.timer; do
	[ -s "$D/$u" ] || fail "$u was not made"
	! grep -q '@[A-Z]*@' "$D/$u" || fail "$u keeps a placeholder"
	# verify wants the programs where the unit says: point it at ours.
	sed -e "s#/[^ ']*/bin/dbtls-agent #$AGENT #g" \
		-e "s#/[^ ']*/bin/dbtls-certs #$CERTS #g" "$D/$u" >"$T/units/$u"
done
cp "$T/units/dbtls-agent@.service" "$T/units/dbtls-agent@pg.service"
for u in dbtls-agent.service dbtls-agent@pg.service dbtls-certs-check.service dbtls-certs-check.timer; do
	systemd-analyze verify --man=no "$T/units/$u" >"$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify $u: $(cat "$T/verify.out")"
	# Only warnings about this machine (no systemd running) are allowed.
	if grep -v -e 'Failed to connect' -e 'not running' -e '^$' "$T/verify.out" | grep -q .; then
		fail "systemd-analyze verify $u: $(cat "$T/verify.out")"
	fi
done
for u in dbtls-agent.service dbtls-agent@pg.service dbtls-certs-check.service; do
	systemd-analyze security --offline=true "$T/units/$u" >"$T/sec.out" 2>&1 ||
		true	# exits non-zero above its threshold; the score is judged below
	score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' "$T/sec.out")
	[ -n "$score" ] || fail "no security score for $u: $(tail -3 "$T/sec.out")"
	say "systemd-analyze security $u: $(grep 'Overall exposure' "$T/sec.out" | sed 's/.*: //')"
	awk -v s="$score" 'BEGIN { exit !(s < 3.0) }' || fail "$u exposure $score is 3.0 or more"
done

say "SysV init script"
I=$D/dbtls-agent.init
sh -n "$I" || fail "init script does not parse"
checkbashisms "$I" || fail "checkbashisms"
make_pki
start_backend backend
write_pair tcp "127.0.0.1:$BPORT"
sed -e "s#^DAEMON=.*#DAEMON=$AGENT#" -e "s#^CONFIG=.*#CONFIG=$T/server.conf#" \
	-e "s#^PIDFILE=.*#PIDFILE=$T/init.pid#" -e "s#^LOG=.*#LOG=$T/init.log#" "$I" >"$T/init"
sh "$T/init" status >/dev/null && fail "status says running before start"
sh "$T/init" start || fail "init start"
wait_for grep -q " ready: " "$T/init.log" || fail "init start: $(cat "$T/init.log")"
sh "$T/init" status | grep -q "is running" || fail "init status"
pid=$(cat "$T/init.pid")
sh "$T/init" start | grep -q "already running" || fail "second start"
sh "$T/init" reload || fail "init reload"
wait_for grep -q "reload (SIGHUP)" "$T/init.log" || fail "reload not seen: $(cat "$T/init.log")"
sh "$T/init" restart || fail "init restart"
readies() { [ "$(grep -c ' ready: ' "$T/init.log")" = 2 ]; }
wait_for readies || fail "restart: $(cat "$T/init.log")"
[ "$(cat "$T/init.pid")" != "$pid" ] || fail "restart kept pid $pid"
# Gone, or a zombie its detached parent has not reaped yet.
running() { [ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status"; }
! running "$pid" || fail "the old agent $pid still runs"
sh "$T/init" stop || fail "init stop"
sh "$T/init" status >/dev/null && fail "status says running after stop"
grep -q "info: stopped" "$T/init.log" || fail "no clean stop: $(cat "$T/init.log")"
sh "$T/init" stop || fail "stop when stopped must succeed"

say "logrotate snippet"
sed "s#/var/log/dbtls-agent.log#$T/init.log#" "$SRC/scripts/logrotate/dbtls-agent" >"$T/logrotate.conf"
logrotate -d -s "$T/logrotate.state" "$T/logrotate.conf" >"$T/logrotate.out" 2>&1 ||
	fail "logrotate: $(cat "$T/logrotate.out")"
grep -q "error" "$T/logrotate.out" && fail "logrotate: $(cat "$T/logrotate.out")"
pass
