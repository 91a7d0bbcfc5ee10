#!/usr/bin/env bash
# Makes a Debian/Ubuntu machine ready to run and test Kartika: the PC/SC daemon and the
# vsmartcard virtual reader (vpcd), with pcscd running, and the PostgreSQL server programs
# (the registry's PostgreSQL tests start a private server of their own). Safe to run again.
# vpcd accepts virtual cards over TCP on every interface: it belongs on test and demo
# machines, never on a clinic PC.
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! dpkg -s pcscd vsmartcard-vpcd procps >/dev/null 2>&1; then
    echo "installing pcscd, vsmartcard-vpcd and procps" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pcscd vsmartcard-vpcd procps >&2
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "installing postgresql (server programs for the registry's tests)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust from https://rustup.rs, then run this again" >&2
    exit 1
fi

pcscd_running() {
    # On a desktop, systemd starts pcscd on the first connection to its socket.
    systemctl is-active --quiet pcscd.socket 2>/dev/null && return 0
    pgrep -x pcscd >/dev/null && [ -S /run/pcscd/pcscd.comm ]
}

if ! pcscd_running; then
    echo "starting pcscd" >&2
    as_root pcscd
    for _ in $(seq 1 100); do
        [ -S /run/pcscd/pcscd.comm ] && break
        sleep 0.1
    done
    pcscd_running || { echo "pcscd did not start; see: sudo pcscd --foreground --debug" >&2; exit 1; }
fi
