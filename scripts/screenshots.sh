#!/usr/bin/env bash
# Screenshots of the desktop app for README.md: the release build of `kartika demo` in a
# virtual display (Xvfb), driven through its accessibility tree as a screen reader would
# (AT-SPI), saved into docs/screenshots/. Needs: xvfb imagemagick at-spi2-core
# python3-pyatspi dbus-x11 (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! dpkg -s xvfb imagemagick at-spi2-core python3-pyatspi dbus-x11 >/dev/null 2>&1; then
    sudo_or_not() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_or_not apt-get update -qq
    sudo_or_not env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        xvfb imagemagick at-spi2-core python3-pyatspi dbus-x11 >&2
fi
cargo build --release --locked --quiet --bin kartika
out=docs/screenshots
mkdir -p "$out"
data=$(mktemp -d -t kartika-shots.XXXXXX)
source scripts/virtual-desktop.sh
start_virtual_display :97
with_accessibility '
    target/release/kartika demo --data "$1/demo" --fresh &
    app=$!
    /usr/bin/python3 scripts/drive_demo.py screenshots "$2"
    kill $app 2>/dev/null || true
' _ "$data" "$out"
rm -rf "$data"
echo "screenshots saved in $out"
