#!/bin/sh
# The man pages: clean under mandoc -Tlint; dbtls.conf(5) names every
# setting cfg.c knows, and dbtls-agent(8) every metric family /metrics
# serves; each page renders.
. "$(dirname "$0")/lib.sh"
M=$SRC/man
for p in dbtls-agent.8 dbtls-certs.1 dbtls.conf.5; do
	mandoc -Tlint -W warning "$M/$p" >"$T/lint.out" 2>&1 || fail "mandoc -Tlint $p: $(cat "$T/lint.out")"
	mandoc -Tutf8 "$M/$p" >/dev/null || fail "mandoc cannot render $p"
done
keys=$(sed -n '/^static const char \*const [a-z]*_keys\[\] = {/,/};/p; /^static const struct limit_def limit_defs/,/};/p' \
	"$SRC/common/cfg.c" | grep -o '"[a-z_0-9]*"' | tr -d '"' | sort -u)
[ "$(echo "$keys" | wc -l)" -ge 30 ] || fail "found only $(echo "$keys" | wc -l) settings in cfg.c"
for k in $keys; do
	grep -q "^\.It Cm $k\( \|$\)" "$M/dbtls.conf.5" || grep -q "^\.Cm $k\( \|$\|,\)" "$M/dbtls.conf.5" ||
		fail "dbtls.conf(5) does not document \"$k\""
done
say "dbtls.conf(5) documents all $(echo "$keys" | wc -l) settings"
# The families /metrics serves, from the source that writes them.
fams=$(grep -o '"\(dbtls\|process\)_[a-z_]*"' "$SRC/agent/expo.c" | tr -d '"' | sort -u)
for f in $fams; do
	grep -q "^\.Sy $f\( \|$\|,\)" "$M/dbtls-agent.8" || fail "dbtls-agent(8) does not list $f"
done
say "dbtls-agent(8) lists all $(echo "$fams" | wc -l) metric families"
pass
