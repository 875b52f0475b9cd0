#!/bin/sh
# coverage.sh SRC BUILD MIN: what the suite's runs of the sanitized twins
# covered of agent/ and common/ (gcovr over BUILD's .gcda files), kept in
# BUILD/coverage.txt; fails when under MIN% of lines were run.
set -eu
src=$1 build=$2 min=$3
gcovr -r "$src" --object-directory "$build" --gcov-executable gcov-12 \
	--filter "$src/agent/" --filter "$src/common/" \
	--exclude-unreachable-branches --print-summary -s \
	-o "$build/coverage-files.txt" >"$build/coverage.txt"
cat "$build/coverage.txt"
pct=$(sed -n 's/^lines: \([0-9.]*\)%.*/\1/p' "$build/coverage.txt")
[ -n "$pct" ] || { echo "coverage: gcovr gave no line figure" >&2; exit 1; }
awk -v p="$pct" -v m="$min" 'BEGIN { exit !(p >= m) }' ||
	{ echo "coverage: $pct% of lines, under $min%" >&2; exit 1; }
