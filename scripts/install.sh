#!/bin/sh
# install.sh [DESTDIR]: build and install dbtls under DESTDIR: programs in
# /usr/local/bin, man pages, docs and examples under /usr/local/share, the
# systemd units in /etc/systemd/system, the SysV script in /etc/init.d
# and its logrotate snippet; and, when DESTDIR is empty, a "dbtls" system
# user and /etc/dbtls as root:dbtls 0750.  (scripts/package.sh makes a
# Debian package of the same instead.)
set -eu
cd "$(dirname "$0")/.."
dest=${1:-}
sh scripts/deps.sh --run
sh scripts/build.sh build-install -DBUILD_TESTING=OFF \
	-DVALGRIND_BUILD=OFF -DCOVERAGE=OFF -DSANITIZED_TWINS=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr/local >/dev/null
DESTDIR=$dest cmake --install build-install >/dev/null
for u in dbtls-agent.service dbtls-agent@.service dbtls-certs-check.service \
    dbtls-certs-check.timer; do
	install -D -m 644 "build-install/dist/$u" "$dest/etc/systemd/system/$u"
done
install -D -m 755 build-install/dist/dbtls-agent.init "$dest/etc/init.d/dbtls-agent"
install -D -m 644 scripts/logrotate/dbtls-agent "$dest/etc/logrotate.d/dbtls-agent"
install -d -m 750 "$dest/etc/dbtls"
if [ -z "$dest" ]; then
	id dbtls >/dev/null 2>&1 || useradd --system --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin dbtls
	chown root:dbtls /etc/dbtls
	command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload 2>/dev/null || true
fi
echo "installed under ${dest:-/}.  Write /etc/dbtls/agent.conf from"
echo "  /usr/local/share/doc/dbtls/examples/{client,server}.conf, then"
echo "  systemctl enable --now dbtls-agent    (or: /etc/init.d/dbtls-agent start)"
