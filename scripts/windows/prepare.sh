# Sourced by the Windows scripts: installs what they need (MinGW-w64, Wine, the Rust
# target), sets cargo and Wine up for x86_64-pc-windows-gnu, tells Wine that N: is a
# network share, and offers `shim_beside DIR` (Wine 8.0 lacks bcryptprimitives.dll, which
# Rust's standard library needs: scripts/windows/bcryptprimitives.c stands in for it).

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The cross compiler, Wine, NSIS for the installer, and a virtual display with the tools
# that type into kartika.exe's window and photograph it.
needed=(gcc-mingw-w64-x86-64 wine64 nsis xvfb xdotool imagemagick curl)
if ! dpkg -s "${needed[@]}" >/dev/null 2>&1; then
    echo "installing the MinGW-w64 cross compiler, Wine, NSIS and a virtual display" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >&2
fi
if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
    rustup target add x86_64-pc-windows-gnu
fi

target=x86_64-pc-windows-gnu
wine=/usr/lib/wine/wine64
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wine-prefix}"
export WINEDEBUG=-all

share="$PWD/target/wine-share"
mkdir -p "$share"
"$wine" reg add 'HKLM\Software\Wine\Drives' /v n: /t REG_SZ /d network /f >/dev/null
ln -sfn "$share" "$WINEPREFIX/dosdevices/n:"
/usr/lib/wine/wineserver -k || true
# One wineserver for the whole run: left to itself it stops a few seconds after its last
# program, and the next test program, starting just then, loses its connection to it.
/usr/lib/wine/wineserver -p
stop_wine() { /usr/lib/wine/wineserver -k 2>/dev/null || true; }
export KARTIKA_TEST_NETWORK_DRIVE='N:'
# Wine keeps no file access lists: the tests then check only that one was set.
export KARTIKA_TEST_UNDER_WINE=1

shim_beside() {
    x86_64-w64-mingw32-gcc -shared -O2 -o "$1/bcryptprimitives.dll" \
        scripts/windows/bcryptprimitives.c
}
# And in Wine's System32, for the programs the installer puts in Program Files.
shim_beside "$WINEPREFIX/drive_c/windows/system32"
