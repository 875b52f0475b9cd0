#!/bin/sh
# An impaired network between the agents (each in its own namespace):
# 100 MiB each way at once, checked by SHA-256 at both ends, through
#  - 2% random loss each way (iptables statistic; GSO off on the veth,
#    so ordinary segments are dropped, not 64 KB bursts);
#  - a 200 Mbit/s rate limit each way (tc tbf): it must take at least
#    the time the limit allows;
#  - 20 ms added each way by a userspace relay (this kernel has no netem)
#    between the client agent and the server agent (an exchange on a
#    kept link must take the 80 ms of its two round trips).
. "$(dirname "$0")/lib.sh"
netns_pair
make_pki
netns_agents
MIB=100
cross() { # cross PORT WHAT: MIB each way at once; prints the seconds
	t0=$(date +%s.%N)
	ip netns exec "$NSA" $PY "$SRC/tests/helpers/tcp_check.py" client "$1" \
		$((MIB << 20)) $((MIB << 20)) >"$T/cross.out" 2>&1 ||
		fail "$2: $(cat "$T/cross.out")"
	SECS=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
	say "  $2: $MIB MiB each way, exact, in $SECS s"
}

say "2% random loss each way"
ip -n "$NSA" link set "$VA" gso_max_segs 1
ip -n "$NSB" link set "$VB" gso_max_segs 1
for side in "$NSA $VA" "$NSB $VB"; do
	set -- $side
	ip netns exec "$1" iptables -A INPUT -i "$2"	# counts every packet
	ip netns exec "$1" iptables -A INPUT -i "$2" \
		-m statistic --mode random --probability 0.02 -j DROP ||
		fail "iptables in $1"
done
cross 7000 "2% loss"
dropped=0 seen=0
for n in "$NSA" "$NSB"; do
	d=$(ip netns exec "$n" iptables -nvxL INPUT | awk '/statistic/ { print $1 }')
	a=$(ip netns exec "$n" iptables -nvxL INPUT | awk 'NR == 3 { print $1 }')
	dropped=$((dropped + d)) seen=$((seen + a))
	ip netns exec "$n" iptables -F INPUT
done
say "  $dropped of $seen packets dropped ($(awk -v d=$dropped -v s=$seen 'BEGIN { printf "%.1f", 100 * d / s }')%)"
[ "$dropped" -ge 1000 ] || fail "only $dropped packets dropped: the loss did not apply"

say "a 200 Mbit/s rate limit each way (tc tbf)"
tc -n "$NSA" qdisc add dev "$VA" root tbf rate 200mbit burst 64kb latency 100ms
tc -n "$NSB" qdisc add dev "$VB" root tbf rate 200mbit burst 64kb latency 100ms
cross 7000 "200 Mbit/s"
# 100 MiB at 200 Mbit/s is 4.2 s; less means the limit did not apply.
awk -v s="$SECS" 'BEGIN { exit !(s >= 4.0) }' || fail "faster than the limit: $SECS s"
tc -n "$NSA" qdisc del dev "$VA" root
tc -n "$NSB" qdisc del dev "$VB" root

say "20 ms added each way by a relay between the agents"
ip netns exec "$NSA" $PY "$SRC/tests/helpers/delay_relay.py" 7500 10.213.0.2 7432 20 \
	>"$T/relay.log" 2>&1 &
PIDS="$PIDS $!"
log_has relay listening || fail "relay did not start"
sed -e 's/10.213.0.2:7432/127.0.0.1:7500/; s/127.0.0.1:7000/127.0.0.1:7010/; s/"c"/"cd"/; s/^workers = 2;/workers = 1;/' \
	"$T/client.conf" >"$T/client_delay.conf"
WRAP="ip netns exec $NSA" start_agent client_delay "$T/client_delay.conf"
# The second of two exchanges, on the link the first left in the pool
# (one worker, so one pool): two round trips through the relay (the
# stream's OPEN is answered before the app's bytes go on), 80 ms when
# both ways are delayed, 40 when only one is.
ms=$(ip netns exec "$NSA" $PY -c '
import socket, time
for _ in range(2):
    s = socket.create_connection(("127.0.0.1", 7010))
    t = time.monotonic()
    s.sendall(b"\0" * 7 + b"\x01")
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    ms = int((time.monotonic() - t) * 1000)
    while s.recv(65536):
        pass
    s.close()
    time.sleep(0.2)
print(ms)')
say "  a byte there and back on a kept link: $ms ms"
[ "$ms" -ge 70 ] || fail "the delay did not apply both ways ($ms ms)"
cross 7010 "20 ms each way"
pass
