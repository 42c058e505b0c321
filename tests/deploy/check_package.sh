#!/usr/bin/env bash
# deploy_package: `cpack -G DEB` in the build directory (the package goes to a temp
# directory, not the build tree), then `dpkg-deb -x` into a temporary root and checks:
# the package is named ballast at the project's version; every file of the layout is in
# its place (ballastd in /usr/sbin, the unit in /lib/systemd/system, config/default.json
# as /etc/ballast/ballastd.json and a conffile, the schema and every example in
# /usr/share/ballast, every dashboards/*.json in /usr/share/ballast/dashboards); the
# packaged files equal their sources; Depends is filled in (libbpf, CAF); and the packaged
# usr/sbin/ballastd --version runs and prints the version.
# Usage: check_package.sh BUILD_DIR SOURCE_DIR VERSION CPACK
set -euo pipefail
build=$1 src=$2 version=$3 cpack=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$build" && "$cpack" -G DEB -B "$tmp/out") > "$tmp/cpack.log" 2>&1 \
  || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
debs=("$tmp"/out/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { cat "$tmp/cpack.log"; fail "expected one .deb, got: ${debs[*]}"; }
deb=${debs[0]}
echo "package: $(basename "$deb")"

[ "$(dpkg-deb -f "$deb" Package)" = ballast ] || fail "Package is not ballast"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libbpf libcaf-core libprometheus-cpp; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib"
done
[ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"
[ -n "$(dpkg-deb -f "$deb" Description)" ] || fail "no Description"

dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/ballast/ballastd.json "$tmp/control/conffiles" || fail "/etc/ballast/ballastd.json is not a conffile"
[ -x "$tmp/control/postinst" ] && grep -q "groupadd --system ballast" "$tmp/control/postinst" ||
  fail "postinst does not create the ballast group"

root=$tmp/root
dpkg-deb -x "$deb" "$root"
same() {  # same PACKAGED SOURCE
  [ -f "$root/$1" ] || fail "missing /$1"
  cmp -s "$root/$1" "$2" || fail "/$1 differs from $2"
}
same lib/systemd/system/ballastd.service "$src/deploy/systemd/ballastd.service"
same etc/ballast/ballastd.json "$src/config/default.json"
same usr/share/ballast/ballast.schema.json "$src/config/ballast.schema.json"
for f in "$src"/config/examples/*.json; do same "usr/share/ballast/examples/$(basename "$f")" "$f"; done
shopt -s nullglob
dashboards=("$src"/dashboards/*.json)
for f in "${dashboards[@]}"; do same "usr/share/ballast/dashboards/$(basename "$f")" "$f"; done
echo "dashboards: ${#dashboards[@]}"
for daemon in usr/sbin/ballastd usr/sbin/ballast-job-shim; do
  [ -x "$root/$daemon" ] || fail "/$daemon missing or not executable"
done
for tool in usr/bin/ballastctl usr/bin/ballast-coordinator; do
  [ -x "$root/$tool" ] || fail "/$tool missing or not executable"
  "$root/$tool" --help >/dev/null || fail "packaged /$tool --help exited $?"
done
# Nothing else: no tests, benchmarks or static libraries.
unexpected=$(cd "$root" && find . -type f | sed 's#^\./##' | grep -vxE \
  'usr/sbin/ballastd|usr/sbin/ballast-job-shim|usr/bin/ballastctl|usr/bin/ballast-coordinator|lib/systemd/system/ballastd\.service|etc/ballast/ballastd\.json|usr/share/ballast/ballast\.schema\.json|usr/share/ballast/(examples|dashboards)/[^/]+\.json' || true)
[ -z "$unexpected" ] || fail "unexpected files in the package: $unexpected"

out=$("$root/usr/sbin/ballastd" --version) || fail "packaged ballastd --version exited $?"
echo "packaged ballastd --version: $out"
grep -q "^ballastd $version\b" <<<"$out" || fail "--version does not print 'ballastd $version'"
echo "ok: package layout"
