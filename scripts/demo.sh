#!/bin/sh
# demo.sh: the whole story on one machine.  Installs what is needed
# (Debian 12, as root), builds dbtls, issues a CA and certificates with
# dbtls-certs, starts
# a real PostgreSQL that knows nothing of TLS, a server agent in front of
# it, a client agent beside the "app", and runs queries through the
# tunnel, showing what each agent logged about the TLS connection.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
sh scripts/deps.sh
sh scripts/build.sh build >/dev/null

D=$(mktemp -d /tmp/dbtls-demo.XXXXXX)
chmod 755 "$D"
PGBIN=/usr/lib/postgresql/15/bin
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pgdata" -m fast -w stop \
		>/dev/null 2>&1 || true
	rm -rf "$D"
}
trap cleanup EXIT

free_port() {
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12700 ))
		[ -n "$(ss -Htln "sport = :$p")" ] || { echo "$p"; return; }
	done
}
step() { printf '\n== %s\n' "$*"; }

step "1. A CA and certificates for both agents, with dbtls-certs (ECDSA P-256)"
C=build/dbtls-certs
$C init-ca --dir "$D/ca" --cn "demo CA" | sed 's/^/   /'
mkdir -p "$D/pki"
$C issue --ca "$D/ca" --cn dbserver --dns localhost --ip 127.0.0.1 --out "$D/pki" | sed 's/^/   /'
$C issue --ca "$D/ca" --cn app1 --dns app1.example.com --out "$D/pki" | sed 's/^/   /'
mv "$D/pki/dbserver.crt" "$D/pki/server.crt"
mv "$D/pki/dbserver.key" "$D/pki/server.key"
cp "$D/ca/ca.crt" "$D/pki/ca.crt"
$C inspect "$D/pki/app1.crt" | sed 's/^/   /'

step "2. PostgreSQL 15 with no TLS at all, on its unix socket only"
mkdir -p "$D/pgdata" "$D/sock"
touch "$D/postgres.log"
chown postgres "$D/pgdata" "$D/sock" "$D/postgres.log"
runuser -u postgres -- "$PGBIN/initdb" -A trust --no-sync -U postgres -D "$D/pgdata" >/dev/null
PGPORT=$(free_port)
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pgdata" -w -l "$D/postgres.log" \
	-o "-c listen_addresses='' -p $PGPORT -k $D/sock" start >/dev/null
echo "   listening on unix:$D/sock/.s.PGSQL.$PGPORT"

SPORT=$(free_port)
CPORT=$(free_port)
step "3. The server agent (TLS in on 127.0.0.1:$SPORT, plaintext out to the socket)"
cat >"$D/server.conf" <<CONF
tls = { cert = "$D/pki/server.crt"; key = "$D/pki/server.key"; ca = "$D/pki/ca.crt"; };
tunnels = (
  { name = "pg-in"; mode = "server"; protocol = "postgresql";
    listen = "127.0.0.1:$SPORT"; connect = "unix:$D/sock/.s.PGSQL.$PGPORT";
    allow = { cn = [ "app1" ]; }; }
);
CONF
cat "$D/server.conf" | sed 's/^/   /'
build/dbtls-agent --config "$D/server.conf" 2>"$D/server.log" &
pids="$pids $!"

step "4. The client agent (plaintext in on 127.0.0.1:$CPORT, TLS out)"
cat >"$D/client.conf" <<CONF
tls = { cert = "$D/pki/app1.crt"; key = "$D/pki/app1.key"; ca = "$D/pki/ca.crt"; };
tunnels = (
  { name = "pg"; mode = "client"; protocol = "postgresql";
    listen = "127.0.0.1:$CPORT"; connect = "127.0.0.1:$SPORT";
    server_name = "localhost"; }
);
CONF
cat "$D/client.conf" | sed 's/^/   /'
build/dbtls-agent --config "$D/client.conf" 2>"$D/client.log" &
pids="$pids $!"
for f in server client; do
	i=0
	until grep -q ' ready: ' "$D/$f.log"; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$D/$f.log"; exit 1; }
		sleep 0.1
	done
done

step "5. The app (psql) speaks plaintext to the client agent"
q() { psql "host=127.0.0.1 port=$CPORT user=postgres dbname=postgres" -X "$@"; }
q -c "select version()"
q -q -c "create table greetings(id serial, said text)" \
	-c "insert into greetings(said) values ('hello through dbtls'), ('mutual TLS, no database changes')"
q -c "select * from greetings"
echo "   (the database sees the server agent on its unix socket:)"
q -c "select client_addr, backend_type, ssl from pg_stat_activity join pg_stat_ssl using (pid) where pid = pg_backend_pid()"

step "6. What crossed the network: the agents' connection lines"
sleep 0.2
for f in client server; do
	echo "   $f agent:"
	grep -E ' (open|close) ' "$D/$f.log" | tail -n 2 | sed 's/^[^ ]* [^ ]* info: /     /'
done

step "7. dbtls-certs check on both agents' configs"
$C check --config "$D/server.conf" | sed 's/^/   /'
$C check --config "$D/client.conf" | sed 's/^/   /'

step "8. A plaintext client straight to the server agent is refused"
psql "host=127.0.0.1 port=$SPORT user=postgres dbname=postgres sslmode=disable" -X -c 'select 1' 2>&1 |
	sed 's/^/   /' || true
echo
echo "demo done: certificates issued, both agents ran in front of PostgreSQL, queries went through mutual TLS."
