# Sourced by scripts/screenshots.sh and scripts/bench-app.sh: a virtual display (Xvfb) for
# the release app, and a session bus with the accessibility bus switched on, so that
# scripts/drive_demo.py can find the app's widgets as a screen reader does.

# Starts Xvfb on display $1 and exports DISPLAY; stopped when the calling script exits.
start_virtual_display() {
    Xvfb "$1" -screen 0 1280x800x24 -nolisten tcp &
    virtual_display_pid=$!
    trap 'kill $virtual_display_pid 2>/dev/null || true' EXIT
    export DISPLAY=$1
    for _ in $(seq 1 100); do [ -S "/tmp/.X11-unix/X${1#:}" ] && break; sleep 0.1; done
}

# Runs "$@" (a shell snippet and its arguments, as for bash -c) inside a session bus where
# AT-SPI is running and enabled.
with_accessibility() {
    dbus-run-session -- bash -c '
        set -euo pipefail
        /usr/libexec/at-spi-bus-launcher --launch-immediately &
        launcher=$!
        trap "kill $launcher 2>/dev/null || true" EXIT
        for _ in $(seq 1 50); do
            busctl --user set-property org.a11y.Bus /org/a11y/bus org.a11y.Status IsEnabled b true 2>/dev/null && break
            sleep 0.1
        done
        bash -c "$@"
    ' _ "$@"
}
