#!/bin/sh
# An OpenSSL release the takeover was not tested on (3.0.99, by
# LD_PRELOAD): the agent says so once, leaves the records to OpenSSL,
# offers no streams, and still carries every byte, paired with an agent
# that takes over as well as with one that does not.
. "$(dirname "$0")/lib.sh"
make_pki
FAKE="env LD_PRELOAD=$BIN/tests/libfake_openssl_version.so"
start_backend backend
check() { # check PORT
	out=$($PY "$SRC/tests/helpers/tcp_check.py" client "$1" $((4 << 20)) $((4 << 20)) 2>&1) ||
		fail "stream: $out"
	[ "$out" = "ok $((4 << 20)) $((4 << 20))" ] || fail "stream: $out"
}

for pair in both client server; do
	say "untested OpenSSL on: $pair"
	unset CPORT SPORT
	write_pair tcp "127.0.0.1:$BPORT"
	WRAP=
	[ $pair != client ] && WRAP=$FAKE
	start_agent "s$pair" "$T/server.conf"
	WRAP=
	[ $pair != server ] && WRAP=$FAKE
	start_agent "c$pair" "$T/client.conf"
	WRAP=
	check "$CPORT"
	check "$CPORT"
	for side in s c; do
		case $pair$side in both*|servers|clientc) untested=1 ;; *) untested=0 ;; esac
		n=$(grep -c "OpenSSL 3.0.99 is not a release" "$T/$side$pair.log" || true)
		[ "$n" = "$untested" ] || fail "$side$pair: warned $n times"
		if [ $untested = 1 ]; then
			grep -q " open .*records=dbtls" "$T/$side$pair.log" &&
				fail "$side$pair took the records over"
			log_has "$side$pair" " open .*records=openssl" || fail "$side$pair: no open line"
		fi
		# No streams: each app connection had a TLS connection of its own.
		grep -q " use=2$" "$T/$side$pair.log" && fail "$side$pair: a link carried two streams"
	done
done
pass
