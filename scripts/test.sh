#!/usr/bin/env bash
# The whole test suite, the real PC/SC tests included (pcscd with the vpcd virtual reader).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
# Ignored tests are counted too, so one cannot slip in unseen.
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 } END { printf "total: %d passed, %d failed, %d skipped\n", passed, failed, ignored }' "$log"
