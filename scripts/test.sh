#!/bin/sh
# test.sh: install what is needed (Debian 12, as root), build the programs
# and their AddressSanitizer+UBSan twins with warnings as errors, and run
# every unit and end-to-end test against both in one ctest run; the twins
# are built with --coverage, and the run's last test reports what it
# covered (build/coverage.txt).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build -DSANITIZED_TWINS=ON -DCOVERAGE=ON
cd build
find . -name '*.gcda' -delete	# this run's coverage, not an earlier one's
exec ctest --output-on-failure --parallel 2 --timeout 900
