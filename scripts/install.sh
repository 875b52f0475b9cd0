#!/bin/sh
# install.sh [DESTDIR]: build and install dbtls-agent and dbtls-certs under
# DESTDIR/usr/local, the systemd unit and SysV init script, an example
# config, and a "dbtls" system user (only when DESTDIR is empty).
set -eu
cd "$(dirname "$0")/.."
dest=${1:-}
sh scripts/deps.sh
sh scripts/build.sh build >/dev/null
cmake --install build --prefix "$dest/usr/local" >/dev/null
install -D -m 644 scripts/dbtls-agent.service "$dest/etc/systemd/system/dbtls-agent.service"
install -D -m 755 scripts/dbtls-agent.init "$dest/etc/init.d/dbtls-agent"
install -D -m 644 README.md "$dest/usr/local/share/doc/dbtls/README.md"
install -d -m 750 "$dest/etc/dbtls"
[ -e "$dest/etc/dbtls/agent.conf.example" ] ||
	install -m 640 scripts/agent.conf.example "$dest/etc/dbtls/agent.conf.example"
if [ -z "$dest" ]; then
	id dbtls >/dev/null 2>&1 || useradd --system --no-create-home \
		--shell /usr/sbin/nologin dbtls
	chown -R root:dbtls /etc/dbtls
	command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload 2>/dev/null || true
fi
echo "installed under ${dest:-/}: write /etc/dbtls/agent.conf (see agent.conf.example), then"
echo "  systemctl enable --now dbtls-agent    (or: /etc/init.d/dbtls-agent start)"
