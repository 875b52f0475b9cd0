# lib.sh: shared harness for the end-to-end tests (POSIX sh).  Sourced by
# each case.  Makes a temp dir and a throwaway PKI, starts PostgreSQL and
# agents on free loopback ports, and in an EXIT trap stops them all and
# shows their logs when the case failed.
#
# CTest passes AGENT and CERTS (the dbtls-agent and dbtls-certs
# binaries), SRC (source tree) and BIN (build tree, for helper programs).
set -eu

: "${AGENT:?AGENT must name the dbtls-agent binary}"
: "${SRC:?SRC must name the source tree}"
: "${BIN:?BIN must name the build tree}"
PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3

T=$(mktemp -d /tmp/dbtls-test.XXXXXX)
chmod 755 "$T"
PIDS=
AGENTS=
PGDATA=
STATUS=1
CASE=$(basename "$0" .sh)

say() { printf '%s: %s\n' "$CASE" "$*"; }

cleanup() {
	rc=$?
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	# valgrind's reports, of agents a case stopped itself too
	for f in "$T"/*.valgrind; do
		[ -s "$f" ] || continue
		echo "----- $f"
		cat "$f"
		STATUS=1 rc=1
	done
	[ -z "${ON_EXIT:-}" ] || eval "$ON_EXIT" || true
	if [ -n "$PGDATA" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate \
			-w stop >/dev/null 2>&1 || true
	fi
	if [ "$STATUS" != 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "----- $f (last 60 lines)"
			tail -n 60 "$f"
		done
	fi
	if [ -f "$T/claimed-ports" ]; then
		while read -r p; do rmdir "$CLAIMS/$p" 2>/dev/null || true
		done <"$T/claimed-ports"
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap 'cleanup' EXIT
trap 'exit 1' INT TERM

fail() {
	say "FAIL: $*" >&2
	exit 1
}

# stop_agents: SIGTERM every agent (a second one after 3 s if it is
# still draining app connections a case left open); each must exit 0
# and its log must hold no sanitizer report (leaks are reported at exit).
stop_agents() {
	for name in $AGENTS; do
		eval "pid=\$PID_$name"
		kill -TERM "$pid" 2>/dev/null || fail "agent $name was not running"
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -TERM "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		if [ -s "$T/$name.valgrind" ]; then
			cat "$T/$name.valgrind" >&2
			fail "agent $name: valgrind found errors"
		fi
		[ "$rc" = 0 ] || fail "agent $name exited with status $rc"
		if grep -Eq 'Sanitizer|runtime error:' "$T/$name.log"; then
			fail "agent $name: sanitizer report in its log"
		fi
		log_has "$name" '(info: stopped|"msg":"stopped"\})$' || fail "agent $name did not stop cleanly"
	done
	AGENTS=
}

# forget_agent NAME: a case stopped or killed the agent itself; pass()
# no longer stops it.
forget_agent() {
	rest=
	for a in $AGENTS; do [ "$a" = "$1" ] || rest="$rest $a"; done
	AGENTS=$rest
}

pass() {
	stop_agents
	STATUS=0
	say "ok"
	exit 0
}

# free_port: a free TCP port on 127.0.0.1 in 20000-32767 (outside the
# ephemeral range, so short-lived client connections never take it).
# Each port handed out is claimed under $CLAIMS (mkdir is atomic) until
# the case ends, so two cases run in parallel, or two ports one case
# picks before binding either, never get the same one.
CLAIMS=/tmp/dbtls-port-claims
# a case killed outright leaves its claims; they lapse after two hours
find "$CLAIMS" -mindepth 1 -maxdepth 1 -mmin +120 -exec rmdir {} + 2>/dev/null || true
free_port() {
	mkdir -p "$CLAIMS"
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12700 ))
		[ -z "$(ss -Htan "sport = :$p")" ] || continue
		mkdir "$CLAIMS/$p" 2>/dev/null || continue
		echo "$p" >>"$T/claimed-ports"
		echo "$p"
		return
	done
}

# wait_for CMD...: retry CMD for up to 10 s.
wait_for() {
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}

# log_has NAME PATTERN: the agent NAME's log matches PATTERN (grep -E),
# waiting up to 5 s for it to appear.
log_has() {
	i=0
	until grep -Eq -- "$2" "$T/$1.log"; do
		i=$((i + 1))
		[ $i -lt $((${VALGRIND:+3 *} 50)) ] || return 1
		sleep 0.1
	done
}

# start_backend NAME [PAUSE]: a tcp_check.py server (see tests/helpers)
# logging to $T/NAME.log; its port is left in BPORT.
start_backend() {
	BPORT=$(free_port)
	$PY "$SRC/tests/helpers/tcp_check.py" server "$BPORT" ${2:-} >"$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	log_has "$1" listening || fail "backend $1 did not start"
}

make_pki() {
	sh "$SRC/tests/helpers/mkcerts.sh" "$T/pki"
	PKI=$T/pki
}

# start_pg [extra postgres -c options...]: a fresh cluster on PGPORT.
start_pg() {
	PGPORT=$(free_port)
	PGDATA=$T/pgdata
	PGSOCK=$T/pgsock
	mkdir -p "$PGDATA" "$PGSOCK"
	chown postgres "$PGDATA" "$PGSOCK"
	runuser -u postgres -- "$PGBIN/initdb" -A trust --no-sync -U postgres \
		-D "$PGDATA" >"$T/initdb.log" 2>&1 || fail "initdb"
	opts="-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGSOCK -c fsync=off"
	opts="$opts -c max_connections=200"
	for o in "$@"; do opts="$opts -c $o"; done
	touch "$T/postgres.log"
	chown postgres "$T/postgres.log"
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$T/postgres.log" \
		-o "$opts" start >/dev/null || fail "PostgreSQL did not start"
}

# start_agent NAME CONF: run dbtls-agent with CONF, log to $T/NAME.log,
# wait until it says it is ready.  WRAP, if set, is a command prefix.
# With VALGRIND set (scripts/audit.sh), the agent runs under memcheck:
# any invalid access or leak makes it exit 97, and stop_agents fails
# showing $T/NAME.valgrind.
start_agent() {
	vg=
	if [ -n "${VALGRIND:-}" ]; then
		vg="valgrind -q --vgdb=no --error-exitcode=97 --leak-check=full
		    --show-leak-kinds=definite,indirect
		    --errors-for-leak-kinds=definite,indirect
		    --suppressions=$SRC/tests/valgrind.supp
		    --log-file=$T/$1.valgrind"
	fi
	${WRAP:-} $vg "$AGENT" --config "$2" >"$T/$1.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$1=$pid"
	AGENTS="$AGENTS $1"
	i=0
	until grep -q " ready: " "$T/$1.log"; do
		kill -0 "$pid" 2>/dev/null || fail "agent $1 exited: $(cat "$T/$1.log")"
		i=$((i + 1))
		[ $i -lt $((${VALGRIND:+3 *} 100)) ] || fail "agent $1 did not start"
		sleep 0.1
	done
}

# agent_alive NAME: the agent's process is still running.
agent_alive() {
	eval "kill -0 \"\$PID_$1\"" 2>/dev/null
}

# write_pair PROTO BACKEND: client.conf and server.conf for a tunnel pair
# in front of BACKEND ("127.0.0.1:port"); sets CPORT (app side) and SPORT
# (server agent) unless they are set.  ALLOW overrides the server's allow setting;
# CLIENT_OPTS adds settings to the client tunnel, MORE_CLIENT_TUNNELS
# (", { ... }") adds tunnels to the client.
write_pair() {
	CPORT=${CPORT:-$(free_port)}
	SPORT=${SPORT:-$(free_port)}
	allow=${ALLOW:-'allow = { cn = [ "app1" ]; };'}
	cat >"$T/client.conf" <<CONF
log_level = "${LOG_LEVEL:-info}";
workers = 2;
tls = { cert = "$PKI/app1.crt"; key = "$PKI/app1.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "c"; mode = "client"; protocol = "$1";
	listen = "127.0.0.1:$CPORT"; connect = "127.0.0.1:$SPORT";
	${CLIENT_OPTS:-} }
	${MORE_CLIENT_TUNNELS:-} );
CONF
	cat >"$T/server.conf" <<CONF
log_level = "${LOG_LEVEL:-info}";
workers = 2;
tls = { cert = "$PKI/server.crt"; key = "$PKI/server.key"; ca = "$PKI/ca.crt"; };
tunnels = ( { name = "s"; mode = "server"; protocol = "$1";
	listen = "127.0.0.1:$SPORT"; connect = "$2";
	$allow } );
CONF
}

# netns_pair: two network namespaces joined by a veth pair, NSA (VA,
# 10.213.0.1) and NSB (VB, 10.213.0.2), removed when the case ends; where
# namespaces are not permitted the case is skipped, saying so.
netns_pair() {
	NSA=dbtA$$ NSB=dbtB$$ VA=va$$ VB=vb$$
	if ! ip netns add "$NSA" 2>/dev/null; then
		say "SKIP: network namespaces are not permitted here"
		STATUS=0
		exit 77	# ctest's SKIP_RETURN_CODE: counted as not run
	fi
	ON_EXIT="ip netns del $NSA${ON_EXIT:+; $ON_EXIT}"
	ip netns add "$NSB" || fail "netns $NSB"
	ON_EXIT="ip netns del $NSB; $ON_EXIT"
	ip link add "$VA" type veth peer name "$VB" || fail "veth"
	ip link set "$VA" netns "$NSA"
	ip link set "$VB" netns "$NSB"
	ip -n "$NSA" addr add 10.213.0.1/24 dev "$VA"
	ip -n "$NSB" addr add 10.213.0.2/24 dev "$VB"
	for n in "$NSA" "$NSB"; do ip -n "$n" link set lo up; done
	ip -n "$NSA" link set "$VA" up
	ip -n "$NSB" link set "$VB" up
}

# netns_agents: write_pair's configs for a client agent in NSA and a
# server agent in NSB (the tcp_check backend in NSB on port 7001), both
# started; CPORT is 7000 in NSA.  LIM, if set, is added to both configs.
netns_agents() {
	ip netns exec "$NSB" $PY "$SRC/tests/helpers/tcp_check.py" server 7001 \
		>"$T/backend.log" 2>&1 &
	PIDS="$PIDS $!"
	log_has backend listening || fail "backend did not start"
	CPORT=7000 SPORT=7432
	write_pair tcp "127.0.0.1:7001"
	sed -i "s#127.0.0.1:$SPORT\"; connect#0.0.0.0:$SPORT\"; connect#" "$T/server.conf"
	sed -i "s#connect = \"127.0.0.1:$SPORT\";#connect = \"10.213.0.2:$SPORT\"; server_name = \"127.0.0.1\";#" "$T/client.conf"
	echo "${LIM:-}" >>"$T/client.conf"
	echo "${LIM:-}" >>"$T/server.conf"
	WRAP="ip netns exec $NSB" start_agent server "$T/server.conf"
	WRAP="ip netns exec $NSA" start_agent client "$T/client.conf"
}

# serial CERT: the certificate's serial number in hex.
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# psql_at PORT SQL [conninfo...]: one query, unaligned output.
psql_at() {
	port=$1 sql=$2
	shift 2
	psql "host=127.0.0.1 port=$port user=postgres dbname=postgres $*" \
		-X -At -v ON_ERROR_STOP=1 -c "$sql"
}
