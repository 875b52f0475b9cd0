#!/bin/sh
# The service manager's notify socket (sd_notify(3), as systemd's
# Type=notify uses it): READY=1 only once the listener takes connections,
# RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM,
# WATCHDOG=1 as often as WATCHDOG_USEC asks, STATUS= lines; on a path and
# in the abstract namespace.
. "$(dirname "$0")/lib.sh"
make_pki
start_backend backend
write_pair tcp "127.0.0.1:$BPORT"

for sock in "$T/notify.sock" "@dbtls-test-$$"; do
	say "NOTIFY_SOCKET=$sock"
	$PY "$SRC/tests/helpers/notify_listen.py" "$sock" "$SPORT" >"$T/notify.log" 2>&1 &
	listener=$!
	PIDS="$PIDS $listener"
	log_has notify listening || fail "notify listener did not start"
	WRAP="env NOTIFY_SOCKET=$sock WATCHDOG_USEC=400000"
	start_agent server "$T/server.conf"
	WRAP=
	log_has notify "^READY=1[|]MAINPID=$PID_server[|]STATUS=serving 1 tunnel" ||
		fail "no READY=1: $(cat "$T/notify.log")"
	log_has notify "^ready-accepts$" || fail "READY=1 before the listener took connections"
	sleep 1
	n=$(grep -c "^WATCHDOG=1$" "$T/notify.log" || true)
	[ "$n" -ge 3 ] || fail "$n WATCHDOG=1 in about 1 s at WATCHDOG_USEC=400000"
	kill -HUP "$PID_server"
	log_has notify "^RELOADING=1[|]STATUS=reloading .SIGHUP.$" || fail "no RELOADING=1"
	log_has notify "^READY=1[|]STATUS=serving; reloaded" || fail "no READY=1 after the reload"
	grep -A1000 "^RELOADING=1" "$T/notify.log" | grep -q "^READY=1" || fail "READY=1 not after RELOADING=1"
	stop_agents
	log_has notify "^STOPPING=1[|]STATUS=stopping" || fail "no STOPPING=1"
	kill "$listener"
	rm -f "$T/notify.sock"
done

say "no NOTIFY_SOCKET: nothing is sent, nothing breaks"
start_agent plain "$T/server.conf"
pass
