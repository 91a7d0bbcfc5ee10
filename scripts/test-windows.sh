#!/usr/bin/env bash
# The durable writes', store's, card's, report's and FHIR crates' tests as Windows programs:
# cross-built for x86_64-pc-windows-gnu with MinGW-w64 and run under Wine (docs/windows.md
# says what does not run there). Installs what it needs; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! dpkg -s gcc-mingw-w64-x86-64 wine64 >/dev/null 2>&1; then
    echo "installing the MinGW-w64 cross compiler and Wine" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-mingw-w64-x86-64 wine64 >&2
fi
if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
    rustup target add x86_64-pc-windows-gnu
fi

target=x86_64-pc-windows-gnu
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=/usr/lib/wine/wine64
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wine-prefix}"
export WINEDEBUG=-all
crates=(-p kartika-durable -p kartika-store -p kartika-card -p kartika-report -p kartika-fhir)

# Wine is told that N: is a network share, so the store's refusal of one is tested.
wine=/usr/lib/wine/wine64
share="$PWD/target/wine-share"
mkdir -p "$share"
"$wine" reg add 'HKLM\Software\Wine\Drives' /v n: /t REG_SZ /d network /f >/dev/null
ln -sfn "$share" "$WINEPREFIX/dosdevices/n:"
/usr/lib/wine/wineserver -k || true
export KARTIKA_TEST_NETWORK_DRIVE='N:'

cargo test --locked --target "$target" "${crates[@]}" --no-run
# Wine 8.0 lacks bcryptprimitives.dll, which Rust's standard library needs: a stand-in
# beside the test programs (scripts/windows/bcryptprimitives.c).
x86_64-w64-mingw32-gcc -shared -O2 -o "target/$target/debug/deps/bcryptprimitives.dll" \
    scripts/windows/bcryptprimitives.c
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --target "$target" "${crates[@]}" 2>&1 | tee "$log"
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 } END { printf "windows total: %d passed, %d failed, %d skipped\n", passed, failed, ignored }' "$log"
