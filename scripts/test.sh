#!/usr/bin/env bash
# Runs Acervo's whole test suite: installs what is missing, builds the binary the end-to-end
# tests drive, then runs every test with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# Reuse a target directory outside the clone, so a fresh clone does not rebuild the world.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/acervo/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

cargo build --workspace --bins --locked
cargo nextest run --workspace --locked --no-fail-fast
