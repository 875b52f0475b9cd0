#!/bin/sh
# Privilege drop: an agent started as root with user and group set binds,
# loads its keys, then runs as that user alone (every thread: real,
# effective, saved and filesystem ids from /proc, no other groups, no
# capabilities), serves, and reloads (SIGHUP after dbtls-certs rotate run
# as root, which keeps the files' owner, group and mode).  The documented
# layout works: keys root-owned 0640 in the agent's group.  The layouts
# that cannot work are refused with the file and line, by --check too.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { say "SKIP: needs root"; STATUS=0; exit 0; }
C=$CERTS
U=nobody G=nogroup
UID_=$(id -u $U) GID_=$(getent group $G | cut -d: -f3)

# The layout the README documents: /etc/dbtls as root:GROUP 0750, the
# config and keys root:GROUP 0640, certificates 0644.
E=$T/etc
mkdir -p "$E"
$C init-ca --dir "$T/ca" --cn "dbtls CA" >/dev/null || fail "init-ca"
$C issue --ca "$T/ca" --cn app1 --out "$E" --group $G >/dev/null || fail "issue app1"
$C issue --ca "$T/ca" --cn dbserver --dns localhost --ip 127.0.0.1 --out "$E" \
	--group $G >/dev/null || fail "issue dbserver"
cp "$T/ca/ca.crt" "$E/ca.crt"
[ "$(stat -c '%a %U %G' "$E/app1.key")" = "640 root $G" ] ||
	fail "issue --group made $(stat -c '%a %U %G' "$E/app1.key")"
chgrp $G "$E"
chmod 750 "$E"
start_pg
PKI=$E
write_pair postgresql "127.0.0.1:$PGPORT"
sed -i "s#$E/server.crt#$E/dbserver.crt#; s#$E/server.key#$E/dbserver.key#" "$T/server.conf"
for side in client server; do
	printf 'user = "%s";\ngroup = "%s";\n' $U $G >>"$T/$side.conf"
	cp "$T/$side.conf" "$E/$side.conf"
	chgrp $G "$E/$side.conf"
	chmod 640 "$E/$side.conf"
done

say "--check as root, in the user's terms"
"$AGENT" --check --config "$E/server.conf" >"$T/check.out" 2>&1 || fail "check: $(cat "$T/check.out")"
grep -q "user $U can read them" "$T/check.out" || fail "check: $(cat "$T/check.out")"

start_agent server "$E/server.conf"
start_agent client "$E/client.conf"
for side in server client; do
	eval "pid=\$PID_$side"
	log_has $side "running as user $U \\(uid $UID_\\), group $G \\(gid $GID_\\)" ||
		fail "$side did not say it dropped"
	n=0
	for task in /proc/$pid/task/*; do
		n=$((n + 1))
		grep -q "^Uid:	$UID_	$UID_	$UID_	$UID_$" "$task/status" ||
			fail "$side thread $task: $(grep Uid "$task/status")"
		grep -q "^Gid:	$GID_	$GID_	$GID_	$GID_$" "$task/status" ||
			fail "$side thread $task: $(grep Gid "$task/status")"
		grep -q "^Groups:	$GID_ *$" "$task/status" ||
			fail "$side thread $task: $(grep Groups "$task/status")"
		grep -q "^CapEff:	0000000000000000$" "$task/status" ||
			fail "$side thread $task: $(grep CapEff "$task/status")"
	done
	[ $n -ge 3 ] || fail "$side has $n threads, expected main + 2 workers"
	say "$side: $n threads, all uid $UID_ gid $GID_, no capabilities"
done
[ "$(psql_at "$CPORT" 'select 40 + 2')" = 42 ] || fail "query through the pair"

say "rotate as root keeps owner, group and mode; the agent reloads as $U"
old=$(serial "$E/dbserver.crt")
$C rotate --config "$E/server.conf" --ca "$T/ca" >"$T/rotate.out" 2>&1 ||
	fail "rotate: $(cat "$T/rotate.out")"
[ "$(stat -c '%a %U %G' "$E/dbserver.key")" = "640 root $G" ] ||
	fail "rotate made the key $(stat -c '%a %U %G' "$E/dbserver.key")"
new=$(serial "$E/dbserver.crt")
kill -HUP "$PID_server"
log_has server "now presents serial $new" || fail "reload as $U did not take serial $new"
[ "$(psql_at "$CPORT" 'select 1')" = 1 ] || fail "query after the reload"
! grep -q "reload.*failed" "$T/server.log" || fail "a reload failed"
[ "$old" != "$new" ] || fail "rotate kept serial $old"
stop_agents
forget_agent server
forget_agent client

say "rotate through symlinks: the links stay, the files they lead to keep group and mode"
mkdir "$T/live"
ln -s "$E/dbserver.key" "$T/live/k.key"
ln -s "$E/dbserver.crt" "$T/live/k.crt"
sed "s#$E/dbserver.crt#$T/live/k.crt#; s#$E/dbserver.key#$T/live/k.key#" "$E/server.conf" >"$T/link.conf"
$C rotate --config "$T/link.conf" --ca "$T/ca" >"$T/rotate2.out" 2>&1 || fail "rotate: $(cat "$T/rotate2.out")"
[ -L "$T/live/k.key" ] && [ -L "$T/live/k.crt" ] || fail "rotate replaced the symlinks"
[ "$(stat -c '%a %U %G' "$E/dbserver.key")" = "640 root $G" ] ||
	fail "rotate through a link made the key $(stat -c '%a %U %G' "$E/dbserver.key")"

# refused NAME PATTERN: --check and a start both fail, saying PATTERN.
refused() {
	if "$AGENT" --check --config "$T/bad.conf" >"$T/$1.check" 2>&1; then
		fail "$1: --check passed"
	fi
	grep -Eq "$2" "$T/$1.check" || fail "$1: --check said: $(cat "$T/$1.check")"
	if "$AGENT" --config "$T/bad.conf" >"$T/$1.start" 2>&1; then
		fail "$1: the agent started"
	fi
	grep -Eq "$2" "$T/$1.start" || fail "$1: start said: $(cat "$T/$1.start")"
	say "$1: refused: $(grep -E "$2" "$T/$1.start" | head -1 | sed 's/.*: error: //')"
}
cp "$E/server.conf" "$T/bad.conf"
chgrp $G "$T/bad.conf"
line=$(grep -n "^tls" "$T/bad.conf" | cut -d: -f1)

cp "$E/dbserver.key" "$T/k600.key"
chmod 600 "$T/k600.key"
sed -i "s#$E/dbserver.key#$T/k600.key#" "$T/bad.conf"
refused root-only-key "bad.conf:$line: tunnel \"s\": key \"$T/k600.key\" is not readable by user \"$U\""

cp "$E/dbserver.key" "$T/kroot.key"
chmod 640 "$T/kroot.key"
sed -i "s#$T/k600.key#$T/kroot.key#" "$T/bad.conf"
refused other-group "bad.conf:$line: tunnel \"s\": key \"$T/kroot.key\" is readable by its group \\(gid 0, mode 0640\\), which is not the agent's group"

chmod 644 "$T/kroot.key"
refused world-readable "key \"$T/kroot.key\" is open to others \\(mode 0644\\)"

# An ACL lets others in whatever the mode bits say (they show its mask).
chmod 600 "$T/kroot.key"
chgrp $G "$T/kroot.key"
setfacl -m u:daemon:r -m g::r "$T/kroot.key" || fail "setfacl"
refused acl "key \"$T/kroot.key\" carries an ACL"

say "a group-readable key without user/group set is refused"
sed -i '/^user = /d; /^group = /d' "$T/bad.conf"
sed -i "s#$T/kroot.key#$E/dbserver.key#" "$T/bad.conf"
refused no-group "key \"$E/dbserver.key\" is readable by its group"

say "--group is for the agents' files, not a CA's"
if $C init-ca --dir "$T/ca2" --group $G >"$T/ca2.out" 2>&1; then
	fail "init-ca --group was accepted"
fi
grep -q "are for issue and csr" "$T/ca2.out" || fail "init-ca --group: $(cat "$T/ca2.out")"

say "user set, started as another user"
cp "$E/server.conf" "$T/other.conf"
chmod 644 "$T/other.conf"
sed -i "s/^user = .*/user = \"daemon\";/" "$T/other.conf"
if runuser -u $U -- "$AGENT" --config "$T/other.conf" >"$T/other.out" 2>&1; then
	fail "an agent started as $U became root"
fi
grep -q 'user "daemon" is set, so the agent must start as root' "$T/other.out" ||
	fail "started as $U: $(cat "$T/other.out")"
pass
