#!/usr/bin/env bash
# Runs Acervo's whole test suite: installs what is missing, builds the binary the end-to-end
# tests drive, then runs every test with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# Reuse a target directory outside the clone, so a fresh clone does not rebuild the world.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/acervo/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# A real S3 server for the object-store tests (s3s-fs, from crates.io).
tools="${XDG_CACHE_HOME:-$HOME/.cache}/acervo/tools"
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$tools"
fi

cargo build --workspace --bins --locked
cargo nextest run --workspace --locked --no-fail-fast
