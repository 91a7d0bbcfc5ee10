#!/usr/bin/env bash
# kartika.exe for Windows (x86_64), cross-built here with MinGW-w64, its debug information
# split off into kartika.exe.debug (kept for crash reports, never shipped) and the shipped
# copy stripped (ship/kartika.exe). Installs what it needs. Prints the files and sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/windows/prepare.sh
trap stop_wine EXIT

cargo build --locked --release --target "$target" --bin kartika
out="target/$target/release"
objcopy=x86_64-w64-mingw32-objcopy
# Cargo's own kartika.exe stays as built (a later build knows it); the shipped copy is
# ship/kartika.exe.
"$objcopy" --only-keep-debug "$out/kartika.exe" "$out/kartika.exe.debug"
mkdir -p "$out/ship"
"$objcopy" --strip-debug --strip-unneeded --add-gnu-debuglink="$out/kartika.exe.debug" \
    "$out/kartika.exe" "$out/ship/kartika.exe"
ls -l "$out/ship/kartika.exe" "$out/kartika.exe.debug"
