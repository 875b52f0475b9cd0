#!/bin/sh
# log_format = "json": once the config is read, every line of both agents
# is one JSON object; the open and close lines carry each figure as its
# own field, with the byte counts exactly what crossed.  An error before
# the config is read stays text.
. "$(dirname "$0")/lib.sh"
make_pki
start_backend backend
write_pair tcp "127.0.0.1:$BPORT"
for side in client server; do
	echo 'log_format = "json";' >>"$T/$side.conf"
done
start_agent server "$T/server.conf"
start_agent client "$T/client.conf"
$PY "$SRC/tests/helpers/tcp_check.py" client "$CPORT" 100000 300000 >"$T/c1.out" ||
	fail "transfer: $(cat "$T/c1.out")"
kill -HUP "$PID_server"
log_has server '"reload' || fail "no reload line"
stop_agents

$PY - "$T/client.log" "$T/server.log" <<'PYEOF' || fail "JSON logs"
import json, sys
for path, side in ((sys.argv[1], "client"), (sys.argv[2], "server")):
    lines = open(path, encoding="utf-8").read().splitlines()
    assert len(lines) >= 5, (path, lines)
    objs = []
    for line in lines:
        o = json.loads(line)            # every line, or this raises
        for k, t in (("ts", str), ("level", str), ("program", str),
                     ("pid", int), ("msg", str)):
            assert isinstance(o.get(k), t), (k, line)
        objs.append(o)
    assert any(" ready: " in o["msg"] for o in objs), path
    closes = [o for o in objs if o.get("to_db") is not None]
    assert len(closes) == 1, (side, closes)
    c = closes[0]
    assert c["tunnel"] == ("c" if side == "client" else "s"), c
    assert c["to_db"] == 100008 and c["from_db"] == 300064, c
    assert isinstance(c["duration"], float) and c["duration"] > 0, c
    assert isinstance(c["conn"], int), c
    assert c["identity"] == ("CN=dbserver" if side == "client" else "CN=app1"), c
    assert c["peer"].startswith("127.0.0.1:"), c
    assert isinstance(c["reason"], str) and c["reason"], c
    assert c["msg"].startswith("tunnel="), c
    print(side, "ok:", len(objs), "lines; close:",
          {k: c[k] for k in ("tunnel", "identity", "to_db", "from_db",
                             "duration", "reason")})
PYEOF

say "an error before the config is read is text"
echo 'tunnels = (' >"$T/broken.conf"
! "$AGENT" --config "$T/broken.conf" >"$T/broken.out" 2>&1 || fail "broken config started"
grep -Eq '^[0-9T:.-]*Z dbtls-agent\[[0-9]*\]: error: .*broken.conf:[0-9]+: ' "$T/broken.out" ||
	fail "broken config: $(cat "$T/broken.out")"
pass
