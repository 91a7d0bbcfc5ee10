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
display=:97
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$data"' EXIT
export DISPLAY=$display
for _ in $(seq 1 100); do [ -S "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
dbus-run-session -- bash -c '
    set -euo pipefail
    /usr/libexec/at-spi-bus-launcher --launch-immediately &
    launcher=$!
    for _ in $(seq 1 50); do
        busctl --user set-property org.a11y.Bus /org/a11y/bus org.a11y.Status IsEnabled b true 2>/dev/null && break
        sleep 0.1
    done
    target/release/kartika demo --data "$1/demo" --fresh &
    app=$!
    /usr/bin/python3 scripts/drive_demo.py screenshots "$2"
    kill $app $launcher 2>/dev/null || true
' _ "$data" "$out"
echo "screenshots saved in $out"
