#!/usr/bin/env bash
# Kartika as a Windows program, under Wine: the durable writes', store's, card's, report's
# and FHIR crates' tests cross-built for x86_64-pc-windows-gnu, then kartika.exe run as an
# operator would (db init, staff add, db generate, report lb1, audit verify) on C:\ paths.
# docs/windows.md says what does not run under Wine. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/windows/prepare.sh

crates=(-p kartika-durable -p kartika-store -p kartika-card -p kartika-report -p kartika-fhir)
cargo test --locked --target "$target" "${crates[@]}" --no-run
shim_beside "target/$target/debug/deps"
log=$(mktemp)
trap 'rm -f "$log"; stop_wine' EXIT
# Into a file, not a pipe: Wine's own helper programs live as long as the wineserver and
# would hold a pipe open.
if ! cargo test --locked --target "$target" "${crates[@]}" >"$log" 2>&1; then
    cat "$log"
    exit 1
fi
cat "$log"
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 } END { printf "windows total: %d passed, %d failed, %d skipped\n", passed, failed, ignored }' "$log"

# kartika.exe itself.
out=target/windows-test
mkdir -p "$out"
cargo build --locked --target "$target" --bin kartika
exe="target/$target/debug/kartika.exe"
shim_beside "target/$target/debug"
rm -rf "$WINEPREFIX/drive_c/kartika-smoke"
db='C:\kartika-smoke\clinic.sqlite'
kartika() { "$wine" "$exe" "$@"; }
mkdir -p "$WINEPREFIX/drive_c/kartika-smoke"
kartika db init --db "$db" --facility-code P3674060 --facility-name "Puskesmas Pamulang" --region 36.74.06
KARTIKA_NEW_PASSWORD=smoke-password-1 kartika staff add --db "$db" --username admin --display-name Admin --role admin
kartika db generate --db "$db" --patients 200 --visits 1000 --days 30
month=$(date -d 'yesterday' +%Y-%m)
KARTIKA_PASSWORD=smoke-password-1 kartika report lb1 --db "$db" --as admin --month "$month" --format csv --out 'C:\kartika-smoke\lb1.csv'
kartika audit verify --db "$db"
test -s "$WINEPREFIX/drive_c/kartika-smoke/lb1.csv"
# A store on the share Wine was told about is refused.
if kartika db init --db 'N:\clinic.sqlite' --facility-code P3674060 --facility-name Pamulang 2>/dev/null; then
    echo "kartika.exe made a store on a network drive" >&2
    exit 1
fi
echo "kartika.exe under Wine: db init, staff add, db generate, report lb1, audit verify: ok"
x86_64-w64-mingw32-objdump -h "$exe" | grep -q '\.rsrc' ||
    { echo "kartika.exe carries no icon or version information (.rsrc)" >&2; exit 1; }

# The clinic server as a native Windows service, in the machine's data folder by default:
# installed, started by Wine's service manager, answering on loopback, stopped through its
# control handler (the log beside the store says so), removed with the data left.
machine="$WINEPREFIX/drive_c/ProgramData/Kartika"
rm -rf "$machine"
kartika service uninstall >/dev/null 2>&1 || true
kartika db init --db 'C:\ProgramData\Kartika\clinic.sqlite' --facility-code P3674060 --facility-name "Puskesmas Pamulang"
kartika service install --listen 127.0.0.1:7943
kartika service start
protocol=$(sed -n 's/^pub const PROTOCOL_VERSION: u32 = \([0-9]*\);/\1/p' crates/lan/src/lib.rs)
curl -sf -H "kartika-lan-protocol: $protocol" http://127.0.0.1:7943/v1/facility | grep -q P3674060 ||
    { echo "the kartika-clinic service does not answer on 127.0.0.1:7943" >&2; exit 1; }
kartika service stop
if curl -s http://127.0.0.1:7943/v1/facility >/dev/null; then
    echo "the kartika-clinic service still answers after it was stopped" >&2
    exit 1
fi
grep -q "the clinic service stopped" "$machine"/logs/kartika.*.log ||
    { echo "the service's log has no stop in it" >&2; exit 1; }
kartika service uninstall
test -f "$machine/clinic.sqlite"
echo "kartika.exe as a Windows service: install, start, answer, stop, uninstall (data kept): ok"

# The installer, made with NSIS around this build's kartika.exe (stripped): installed
# silently with the server part, then removed, the data left.
x86_64-w64-mingw32-strip -o "$out/kartika.exe" "$exe"
scripts/build-installer.sh "$out/kartika.exe" "$out/kartika-setup.exe"
installed="$WINEPREFIX/drive_c/Program Files/Kartika"
menu="$WINEPREFIX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/Kartika"
"$wine" "$out/kartika-setup.exe" /S /SERVER
for file in "$installed/kartika.exe" "$installed/kartika.ico" "$menu/Kartika.lnk" "$menu/Kartika (demo).lnk"; do
    test -f "$file" || { echo "the installer left no $file" >&2; exit 1; }
done
"$wine" 'C:\Program Files\Kartika\kartika.exe' --version
"$wine" reg query 'HKLM\System\CurrentControlSet\Services\kartika-clinic' | grep -qF '\Kartika\kartika.exe" service run' ||
    { echo "the installer's server part registered no service" >&2; exit 1; }
"$wine" 'C:\Program Files\Kartika\uninstall.exe' /S
# The uninstaller works from a copy of itself and returns at once: wait for it to finish.
for _ in $(seq 1 300); do [ -e "$installed" ] || break; sleep 0.1; done
if [ -e "$installed" ] || [ -e "$menu" ]; then
    echo "the uninstaller left the program or its Start menu entries" >&2
    exit 1
fi
if "$wine" reg query 'HKLM\System\CurrentControlSet\Services\kartika-clinic' >/dev/null 2>&1; then
    echo "the uninstaller left the service" >&2
    exit 1
fi
test -f "$machine/clinic.sqlite" || { echo "the uninstaller took the data" >&2; exit 1; }
echo "the installer under Wine: program, Start menu, service installed; uninstalled with the data kept: ok"

# kartika.exe demo on a virtual display: the window opens, the clerk signs in with the
# keyboard, and the desk shows the demo's cards (the photograph is kept for a person).
Xvfb :61 -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -f "$log"; stop_wine' EXIT
for _ in $(seq 1 100); do [ -S /tmp/.X11-unix/X61 ] && break; sleep 0.1; done
# Wine's desktop process takes the display of the wineserver's first program: start anew.
stop_wine
export DISPLAY=:61
/usr/lib/wine/wineserver -p
"$wine" "$exe" demo --fresh --data 'C:\kartika-demo' >"$out/demo.log" 2>&1 &
demo=$!
timeout 120 xdotool search --sync --name "^Kartika$" >/dev/null ||
    { cat "$out/demo.log"; echo "kartika.exe demo under Wine: no window within two minutes" >&2; exit 1; }
# The window is mapped before its first frame: wait for the sign-in form to be drawn.
login_drawn() { import -window root -crop 360x240+460+100 txt:- | awk 'NR > 1 && $3 != "#F8F8F8" { n++ } END { exit n < 1000 }'; }
for _ in $(seq 1 600); do login_drawn && break; sleep 0.1; done
import -window root "$out/demo-login.png"
xdotool type --delay 30 loket
xdotool key Tab
xdotool type --delay 30 loket-demo
xdotool key Return
# The desk's left panel lists the demo's cards once the clerk is in.
cards_listed() { import -window root -crop 220x240+5+120 txt:- | awk 'NR > 1 && $3 != "#F8F8F8" { n++ } END { exit n < 500 }'; }
for _ in $(seq 1 600); do cards_listed && break; sleep 0.1; done
cards_listed || { cat "$out/demo.log"; echo "kartika.exe demo under Wine: no demo cards on the desk" >&2; exit 1; }
import -window root "$out/demo-desk.png"
kill "$demo" 2>/dev/null || true
echo "kartika.exe demo under Wine: window, keyboard sign-in, the desk with the demo's cards: ok ($out/demo-desk.png)"
