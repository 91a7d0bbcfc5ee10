#!/usr/bin/env bash
# Kartika's Windows installer (NSIS): scripts/build-installer.sh [KARTIKA_EXE [SETUP_EXE]].
# By default it packs the stripped release kartika.exe of scripts/build-windows.sh (built
# first when missing) into target/x86_64-pc-windows-gnu/release/ship/kartika-setup-VERSION.exe.
# packaging/windows/kartika.nsi says what it installs. Installs NSIS when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ship=target/x86_64-pc-windows-gnu/release/ship
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
exe=${1:-$ship/kartika.exe}
out=${2:-$ship/kartika-setup-$version.exe}
if ! command -v makensis >/dev/null; then
    echo "installing NSIS" >&2
    if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo); fi
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nsis >&2
fi
if [ ! -f "$exe" ] && [ $# -eq 0 ]; then
    scripts/build-windows.sh
fi
mkdir -p "$(dirname "$out")"
makensis -V2 -INPUTCHARSET UTF8 \
    -DEXE="$(realpath "$exe")" -DICON="$PWD/packaging/icons/kartika.ico" \
    -DVERSION="$version" -DOUT="$(realpath -m "$out")" packaging/windows/kartika.nsi
ls -l "$out"
