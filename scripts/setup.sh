#!/usr/bin/env bash
# Makes a Debian/Ubuntu machine ready to run and test Kartika: the PC/SC daemon and the
# vsmartcard virtual reader (vpcd), with pcscd running. Safe to run again.
# vpcd accepts virtual cards over TCP on every interface: it belongs on test and demo
# machines, never on a clinic PC.
set -euo pipefail

need_packages=()
command -v pcscd >/dev/null 2>&1 || need_packages+=(pcscd)
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || need_packages+=(vsmartcard-vpcd)
ldconfig -p 2>/dev/null | grep -q 'libpcsclite.so.1 ' || need_packages+=(libpcsclite1)

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#need_packages[@]} -gt 0 ]; then
    echo "installing ${need_packages[*]}" >&2
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust from https://rustup.rs, then run this again" >&2
    exit 1
fi

pcscd_answers() {
    python3 - <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("/run/pcscd/pcscd.comm")
except OSError:
    sys.exit(1)
PY
}

if ! pcscd_answers; then
    echo "starting pcscd" >&2
    sudo_if_needed pcscd
    for _ in $(seq 1 100); do
        pcscd_answers && break
        sleep 0.1
    done
    pcscd_answers || { echo "pcscd did not start; see: sudo pcscd --foreground --debug" >&2; exit 1; }
fi
