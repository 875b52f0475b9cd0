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
libconfig-dev"
# Tests, demo and benchmark: a MongoDB driver, PostgreSQL, the peers
# compared against; independent TLS stacks (GnuTLS, Go, Python's ssl
# with hand-made records), the TLS scanner and clang's libFuzzer.
test="libmongoc-dev libbson-dev postgresql postgresql-client
python3 iproute2 procps jq stunnel4 haproxy gnuplot-nox
gnutls-bin golang-go python3-cryptography testssl.sh clang"
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
