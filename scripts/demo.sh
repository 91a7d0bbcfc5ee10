#!/usr/bin/env bash
# The demo: the Kartika desktop app on a seeded Puskesmas (a few thousand patients and
# their history), with a registry running inside the program and a tray of demo cards to
# tap. With pcscd and vpcd running, a tapped card goes through the real PC/SC stack.
# Running it again reuses the demo's data; `scripts/demo.sh --fresh` starts over.
#
# With no display (a server, an SSH session), it says how to get one and runs the card
# round trip on the command line instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked --quiet --bin kartika
kartika=target/release/kartika

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec $kartika demo "$@"
fi

cat >&2 <<'MSG'
There is no display here, so the desktop app cannot open (DISPLAY and WAYLAND_DISPLAY
are unset). Run this on a desktop, or inside a virtual one:

    sudo apt-get install -y xvfb && xvfb-run -a scripts/demo.sh

Meanwhile, here is the card round trip on the command line: a registry root and a
Puskesmas node, a blank virtual card inserted into the vpcd reader, issued to a patient,
then read and verified through pcscd exactly as a plastic card would be.
MSG

demo=$(mktemp -d -t kartika-demo.XXXXXX)
reader="Virtual PCD 00 00"

$kartika root init --out "$demo/root"
$kartika node init --id P3674010 --out "$demo/node"
$kartika root certify --root "$demo/root" --node "$demo/node" --roles terminal,issuer --valid-until 2031-12-31
$kartika vcard create --out "$demo/card.json"
cp assets/demo/identity.json "$demo/identity.json"

$kartika vcard attach --card "$demo/card.json" --slot 0 &
attach=$!
trap 'kill $attach 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    $kartika readers --json | grep -A1 "\"$reader\"" | grep -q '"card_present": true' && break
    sleep 0.1
done

$kartika card issue --reader "$reader" --identity "$demo/identity.json" --pin 123456 \
    --node "$demo/node" --root-pub "$demo/root/root.pub"
$kartika card read --reader "$reader" --trust "$demo/root/root.pub"
echo
echo "demo files are in $demo"
