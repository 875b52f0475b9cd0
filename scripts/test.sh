#!/bin/sh
# test.sh: install what is needed (Debian 12, as root), build the programs
# and their AddressSanitizer+UBSan twins with warnings as errors, and run
# every unit and end-to-end test against both in one ctest run.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build -DSANITIZED_TWINS=ON
cd build
exec ctest --output-on-failure --parallel 2 --timeout 900
