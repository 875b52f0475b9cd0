#!/bin/sh
# package.sh [OUTDIR]: build the Debian package dbtls_VERSION_ARCH.deb
# (debhelper, from scripts/debian) from the committed tree plus any local
# changes, check it with lintian, and leave it in OUTDIR (./dist).  Run
# as root on Debian 12: it installs what building needs.
set -eu
cd "$(dirname "$0")/.."
src=$PWD
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
sh scripts/deps.sh --run
missing=
for p in debhelper fakeroot lintian dpkg-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] || apt-get install -y -qq --no-upgrade $missing >/dev/null
version=$(sed -n 's/^project(dbtls VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/dbtls-$version
mkdir -p "$tree"
# The source as git sees it (tracked and new files, not build output).
git ls-files -co --exclude-standard | while read -r f; do
	[ -e "$f" ] || continue
	mkdir -p "$tree/$(dirname "$f")"
	cp -p "$f" "$tree/$f"
done
cp -r scripts/debian "$tree/debian"
cat >"$tree/debian/changelog" <<CHANGES
dbtls ($version-1) unstable; urgency=medium

  * Package built from the dbtls source tree by scripts/package.sh.

 -- dbtls developers <dbtls@example.org>  $(date -R)
CHANGES
(cd "$tree" && dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) || {
	tail -40 "$work/build.log" >&2
	echo "package.sh: dpkg-buildpackage failed" >&2
	exit 1
}
deb=$(ls "$work"/dbtls_"$version"-1_*.deb)
lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs \
	"$deb" >"$work/lintian.log" 2>&1 || {
	cat "$work/lintian.log" >&2
	echo "package.sh: lintian found errors" >&2
	exit 1
}
cat "$work/lintian.log"
cp "$deb" "$out/"
echo "package.sh: $out/$(basename "$deb")"
