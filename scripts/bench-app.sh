#!/usr/bin/env bash
# The desktop app's benchmarks (docs/benchmarks.md): the release build in a virtual
# display, beside an empty eframe window measured in the same run. Prints time to first
# frame, resident memory, CPU used while idle for 10 s, and tap-to-screen times (from the
# moment PC/SC reports the card, so pcscd's own polling is excluded) with the
# million-visit demo database. Needs what scripts/screenshots.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked --quiet --bin kartika
cargo build --release --locked --quiet -p kartika-app --example empty_window
data=${KARTIKA_BENCH_DATA:-/tmp/kartika-bench-demo}
logs=$(mktemp -d -t kartika-bench.XXXXXX)
source scripts/virtual-desktop.sh
start_virtual_display :96

wait_for_line() { # file pattern
    for _ in $(seq 1 6000); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "gave up waiting for \"$2\" in $1" >&2; return 1
}
rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ split($0, a, ") "); split(a[2], f, " "); printf "%.3f", (f[12] + f[13]) / hz }' "/proc/$1/stat"; }

echo "== empty eframe window"
target/release/examples/empty_window 2>"$logs/empty.err" &
empty=$!
wait_for_line "$logs/empty.err" "first frame"
sleep 2
grep "timing:" "$logs/empty.err"
echo "bench: rss $(rss_mb $empty) MB"
before=$(cpu_s $empty); sleep 10; after=$(cpu_s $empty)
echo "bench: idle cpu over 10 s $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.3f", a - b }') s"
kill $empty

if [ ! -f "$data/demo.json" ]; then
    echo "== seeding $data with 200,000 patients and 1,000,000 visits (once)"
    KARTIKA_TIMINGS=1 target/release/kartika demo --data "$data" --fresh \
        --patients 200000 --visits 1000000 2>"$logs/seed.err" &
    seed=$!
    wait_for_line "$logs/seed.err" "first frame"
    kill $seed; wait $seed 2>/dev/null || true
fi

echo "== kartika demo on the million-visit database"
with_accessibility '
    KARTIKA_TIMINGS=1 target/release/kartika demo --data "$1" 2>"$2/app.err" &
    app=$!
    /usr/bin/python3 scripts/drive_demo.py bench $app
    kill $app 2>/dev/null || true
' _ "$data" "$logs" 2>/dev/null
grep "timing:" "$logs/app.err"
