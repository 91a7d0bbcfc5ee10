#!/usr/bin/env bash
# The Debian package as apt would see it, built around this checkout's kartika (the debug
# build, stripped: the release build takes minutes): Debian's own rules (lintian, warnings
# included), the desktop entry (desktop-file-validate), the systemd units (systemd-analyze
# verify) and the program run from the unpacked package. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
needed=(lintian desktop-file-utils systemd binutils)
if ! dpkg -s "${needed[@]}" >/dev/null 2>&1; then
    echo "installing lintian, desktop-file-utils and systemd-analyze" >&2
    if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo); fi
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >&2
fi
cargo build --locked --bin kartika
out=target/deb-test
rm -rf "$out"
mkdir -p "$out"
strip -o "$out/kartika" target/debug/kartika
scripts/build-deb.sh "$out/kartika" "$out/kartika.deb"

fail() { echo "the package: $*" >&2; exit 1; }
dpkg-deb -f "$out/kartika.deb" Depends | grep -qw pcscd || fail "does not depend on pcscd"
lintian --fail-on error,warning --tag-display-limit 0 "$out/kartika.deb" 2> >(grep -v 'root privileges' >&2) ||
    fail "lintian refuses it"

unpacked="$out/unpacked"
dpkg-deb -x "$out/kartika.deb" "$unpacked"
for file in usr/bin/kartika lib/systemd/system/kartika-clinic.service \
    lib/systemd/system/kartika-standby.service usr/share/applications/kartika.desktop \
    usr/share/icons/hicolor/256x256/apps/kartika.png; do
    test -f "$unpacked/$file" || fail "has no /$file"
done
"$unpacked/usr/bin/kartika" --version
desktop-file-validate "$unpacked/usr/share/applications/kartika.desktop" || fail "its desktop entry is not valid"
for unit in "$unpacked"/lib/systemd/system/*.service; do
    # Checked as installed, with the program where this unpacked copy has it.
    sed "s#/usr/bin/kartika#$PWD/$unpacked/usr/bin/kartika#g" "$unit" >"$out/$(basename "$unit")"
    systemd-analyze verify "$out/$(basename "$unit")" || fail "$(basename "$unit") does not verify"
done
echo "the .deb: lintian clean, desktop entry and systemd units valid, kartika runs from it: ok"
