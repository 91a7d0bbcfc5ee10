#!/usr/bin/env bash
# kartika for Linux (x86_64), release build, its debug information split off into
# kartika.debug (kept for crash reports, never shipped) and the shipped copy stripped
# (ship/kartika). Prints the files and their sizes. (scripts/build-windows.sh does the same for
# kartika.exe.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release --bin kartika
out=target/release
objcopy --only-keep-debug "$out/kartika" "$out/kartika.debug"
# Cargo's own kartika stays as built (a later build knows it); the shipped copy is
# ship/kartika.
mkdir -p "$out/ship"
objcopy --strip-debug --strip-unneeded --add-gnu-debuglink="$out/kartika.debug" \
    "$out/kartika" "$out/ship/kartika"
ls -l "$out/ship/kartika" "$out/kartika.debug"
