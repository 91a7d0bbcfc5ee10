#!/usr/bin/env bash
# kartika.exe for Windows (x86_64), cross-built here with MinGW-w64, its debug information
# split off into kartika.exe.debug beside it (kept for crash reports, never shipped) and
# the shipped file stripped. Installs what it needs. Prints the files and their sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/windows/prepare.sh

cargo build --locked --release --target "$target" --bin kartika
out="target/$target/release"
objcopy=x86_64-w64-mingw32-objcopy
"$objcopy" --only-keep-debug "$out/kartika.exe" "$out/kartika.exe.debug"
"$objcopy" --strip-debug --strip-unneeded --add-gnu-debuglink="$out/kartika.exe.debug" \
    "$out/kartika.exe" "$out/kartika-stripped.exe"
mv "$out/kartika-stripped.exe" "$out/kartika.exe"
ls -l "$out/kartika.exe" "$out/kartika.exe.debug"
