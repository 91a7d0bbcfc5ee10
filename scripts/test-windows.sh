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
