#!/bin/sh
# deps.sh [--run]: install what dbtls needs to build, test and run its
# demo and benchmark on Debian 12, from Debian's own packages; with --run,
# only what building and running the programs needs
# (cmake -DBUILD_TESTING=OFF).  Run as root.  --no-upgrade keeps
# already-installed PostgreSQL and OpenSSL as they are.
set -eu
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: run as root (apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
run="build-essential cmake pkg-config libssl-dev openssl libuv1-dev
libconfig-dev libmicrohttpd-dev libseccomp-dev"
# Tests, demo and benchmark: a MongoDB driver, PostgreSQL, the peers
# compared against; independent TLS stacks (GnuTLS, Go, Python's ssl
# with hand-made records), the TLS scanner and clang's libFuzzer; the
# tools that check units, man pages, the init script and the package;
# iptables for network faults; the audit's analysers, valgrind and gcovr.
test="libmongoc-dev libbson-dev postgresql postgresql-client
python3 iproute2 iptables procps jq stunnel4 haproxy gnuplot-nox
gnutls-bin golang-go python3-cryptography testssl.sh clang
mandoc devscripts lintian debhelper fakeroot systemd logrotate acl
valgrind cppcheck clang-tidy clang-format clang-tools gcovr"
case ${1:-} in
--run) pkgs=$run ;;
"") pkgs="$run $test" ;;
*) echo "usage: deps.sh [--run]" >&2; exit 2 ;;
esac
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	apt-get install -y -qq --no-upgrade $missing >/dev/null
fi
# promtool checks /metrics; it comes in Debian's prometheus package,
# which is unpacked, not installed (no daemon is wanted here).
if [ "${1:-}" != --run ] && ! command -v promtool >/dev/null; then
	d=$(mktemp -d)
	(cd "$d" && { apt-get download prometheus >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get download prometheus >/dev/null; }; } &&
		dpkg -x prometheus_*.deb x &&
		install -m 755 x/usr/bin/promtool /usr/local/bin/promtool)
	rm -rf "$d"
fi
