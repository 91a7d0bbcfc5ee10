#!/usr/bin/env bash
# The whole test suite, the real PC/SC tests included (pcscd with the vpcd virtual reader).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --locked "$@"
