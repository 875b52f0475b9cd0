#!/bin/sh
# The sandbox: both agents run confined (Landlock and seccomp, said in
# one line at start) and still carry traffic, reload on SIGHUP and on a
# file change (reload = "watch"), serve /metrics (from /proc/self) and
# drain.  The test builds (dbtls-agent-san) also try to escape on
# SIGUSR2: reading /etc/shadow and a file beside the config's directory
# and writing one are refused; exec kills the process (SIGSYS).
# sandbox = false says so and confines nothing.
. "$(dirname "$0")/lib.sh"
make_pki
start_backend backend
write_pair tcp "127.0.0.1:$BPORT"
sed -i "s#ca = \"$PKI/ca.crt\"; };#ca = \"$PKI/ca.crt\"; reload = \"watch\"; };#" "$T/server.conf"
grep -q 'reload = "watch"' "$T/server.conf" || fail "could not set reload = watch"
MP=$(free_port)
echo "metrics = \"127.0.0.1:$MP\";" >>"$T/server.conf"
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
# Landlock where the kernel has it (these machines offer ABI 7).
abi=$($PY -c "import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.syscall(444, None, 0, 1))")
LL=yes
[ "$abi" -gt 0 ] 2>/dev/null || LL=
for side in server client; do
	log_has $side "sandbox: ${LL:+Landlock ABI [0-9]+ and }seccomp\$" ||
		fail "$side is not sandboxed: $(grep sandbox "$T/$side.log")"
done
[ -n "$LL" ] || say "this kernel has no Landlock: only seccomp is checked"

say "confined: traffic, SIGHUP, a file change, /metrics"
$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 1000000 1000000 >"$T/c1.out" ||
	fail "traffic: $(cat "$T/c1.out")"
kill -HUP "$PID_server" "$PID_client"
log_has server 'reload \(SIGHUP\): tunnel=s now presents' || fail "server SIGHUP reload"
log_has client 'reload \(SIGHUP\): tunnel=c now presents' || fail "client SIGHUP reload"
cp "$PKI/server.crt" "$PKI/server.crt.new"
mv "$PKI/server.crt.new" "$PKI/server.crt"
log_has server 'reload \(files changed\): tunnel=s now presents' || fail "watch reload under the sandbox"
$PY "$SRC/tests/helpers/scrape.py" "127.0.0.1:$MP" /metrics >"$T/m.txt" || fail "scrape"
head -1 "$T/m.txt" | grep -q '^200$' || fail "/metrics: $(head -3 "$T/m.txt")"
grep -Eq '^process_open_fds [1-9]' "$T/m.txt" || fail "no process_open_fds from /proc/self: $(grep process_ "$T/m.txt")"
$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 100000 100000 >"$T/c2.out" ||
	fail "traffic after the reloads: $(cat "$T/c2.out")"

case $AGENT in
*-san)
	[ -n "$LL" ] || { say "no Landlock: file escapes not tried"; }
	say "escape attempts (test build): refused, and exec is fatal"
	# Beside the config's directory, not beneath it (which is allowed).
	OUT=$(mktemp -d /tmp/dbtls-outside.XXXXXX)
	ON_EXIT="rm -rf $OUT"
	echo secret >"$OUT/outside.txt"
	kill "$PID_server"	# replaced by one that has the escape list
	wait "$PID_server" || true
	forget_agent server
	sleep 600 &	# a process outside the sandbox, to be signalled
	OUTSIDER=$!
	ON_EXIT="rm -rf $OUT; kill $OUTSIDER"
	WRAP="env DBTLS_TEST_ESCAPE=read:/etc/shadow,read:$OUT/outside.txt,write:$OUT/escaped.txt,read:$PKI/ca.crt,signal:$OUTSIDER"
	start_agent esc "$T/server.conf"
	WRAP=
	kill -USR2 "$PID_esc"
	[ -z "$LL" ] || {	# Landlock's refusals
	log_has esc "escape test: read /etc/shadow: refused: Permission denied" || fail "read /etc/shadow was not refused"
	log_has esc "escape test: read $OUT/outside.txt: refused: Permission denied" || fail "reading outside was not refused"
	log_has esc "escape test: write $OUT/escaped.txt: refused: Permission denied" || fail "writing was not refused"
	log_has esc "escape test: read $PKI/ca.crt: ALLOWED" || fail "its own CA file was not readable"
	[ ! -e "$OUT/escaped.txt" ] || fail "a file was written outside the sandbox"
	if [ "$abi" -ge 6 ]; then	# Landlock's signal scope
		log_has esc "escape test: signal $OUTSIDER: refused" ||
			fail "a process outside was signalled: $(grep 'escape test: signal' "$T/esc.log")"
	fi
	}
	forget_agent esc
	kill "$PID_esc"
	wait "$PID_esc" || true
	WRAP="env DBTLS_TEST_ESCAPE=exec:/bin/true"
	start_agent exec "$T/server.conf"
	WRAP=
	forget_agent exec
	kill -USR2 "$PID_exec"
	rc=0
	wait "$PID_exec" || rc=$?
	[ "$rc" = $((128 + 31)) ] || fail "exec under the sandbox: status $rc, not SIGSYS: $(tail -3 "$T/exec.log")"
	say "exec killed the agent with SIGSYS (status $rc)"
	;;
*)
	say "escape attempts: only in the test build (dbtls-agent-san)"
	;;
esac

say "sandbox = false"
echo 'sandbox = false;' >>"$T/client.conf"
kill "$PID_client"
wait "$PID_client" || true
forget_agent client
start_agent plain "$T/client.conf"
log_has plain 'sandbox: off \(sandbox = false\)' || fail "sandbox = false not said"
pass
