#!/bin/sh
# bench.sh [--quick] [--out DIR] [--reps N]: dbtls against stunnel and
# HAProxy, side by side on this machine (see tests/bench/bench.py).
# Installs the peers from Debian (as root), builds, runs, and writes
# bench.md, bench.csv and PNG charts to DIR (bench-results/).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build >/dev/null
exec /usr/bin/python3 tests/bench/bench.py --build build "$@"
