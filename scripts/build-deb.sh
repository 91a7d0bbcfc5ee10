#!/usr/bin/env bash
# Kartika's Debian/Ubuntu package: scripts/build-deb.sh [KARTIKA_BINARY [OUT.deb]].
# By default it packs the stripped release binary of scripts/build-release.sh (built first
# when missing) into target/release/ship/kartika_VERSION_amd64.deb: the program in
# /usr/bin, the systemd units of contrib/ (not enabled), a desktop entry and its icon. It
# depends on pcscd; the libraries the window loads are recommended (a server needs none).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
binary=${1:-target/release/ship/kartika}
out=${2:-target/release/ship/kartika_${version}_amd64.deb}
if [ ! -f "$binary" ] && [ $# -eq 0 ]; then
    scripts/build-release.sh
fi
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -Dm0755 "$binary" "$root/usr/bin/kartika"
for unit in contrib/*.service; do
    # The units name the hand-installed /usr/local/bin; the package's is /usr/bin.
    sed 's#/usr/local/bin/kartika#/usr/bin/kartika#g' "$unit" |
        install -Dm0644 /dev/stdin "$root/lib/systemd/system/$(basename "$unit")"
done
install -Dm0644 packaging/linux/kartika.desktop "$root/usr/share/applications/kartika.desktop"
install -Dm0644 packaging/icons/kartika.png "$root/usr/share/icons/hicolor/256x256/apps/kartika.png"
install -Dm0644 packaging/linux/copyright "$root/usr/share/doc/kartika/copyright"
install -Dm0644 packaging/linux/lintian-overrides "$root/usr/share/lintian/overrides/kartika"
printf 'kartika (%s) unstable; urgency=medium\n\n  * Built from the Kartika repository at %s.\n\n -- Kartika <kartika@example.org>  %s\n' \
    "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -R)" |
    gzip -9n | install -Dm0644 /dev/stdin "$root/usr/share/doc/kartika/changelog.gz"
install -Dm0755 packaging/linux/postinst "$root/DEBIAN/postinst"
install -Dm0755 packaging/linux/postrm "$root/DEBIAN/postrm"
size=$(du -ks --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: kartika
Version: $version
Architecture: amd64
Maintainer: Kartika <kartika@example.org>
Installed-Size: $size
Depends: libc6 (>= 2.36), libgcc-s1, libpcsclite1, pcscd, adduser
Recommends: libgl1, libegl1, libx11-6, libxcursor1, libxrandr2, libxi6, libxkbcommon-x11-0
Section: misc
Priority: optional
Description: patient smart cards for Indonesia's Puskesmas
 Registration desks tap a patient's chip card to open a visit, nurses
 record the examination, admins issue and block cards; the clinic's
 visit log works offline and syncs to the central registry. Includes
 the clinic server (kartika-clinic.service, not enabled until the store
 and the node are set up).
CONTROL
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
ls -l "$out"
