#!/usr/bin/env bash
# Runs Acervo's whole test suite: installs what is missing, builds the binary the end-to-end
# tests drive, then runs every test with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# Reuse a target directory outside the clone, so a fresh clone does not rebuild the world.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/acervo/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# A reused target directory keeps every stale build (another feature set, an older dependency)
# and grows until the disk is full, which fails the build half-way. Below 25 GiB free, drop the
# incremental caches, then the whole debug build (a cold build fits CI's time).
free_gib() { df --output=avail -B1G "$(dirname "$CARGO_TARGET_DIR")" 2>/dev/null | tail -1 | tr -d ' '; }
mkdir -p "$CARGO_TARGET_DIR"
if [ "$(free_gib)" -lt 25 ]; then
  echo "only $(free_gib) GiB free: removing $CARGO_TARGET_DIR/debug/incremental"
  rm -rf "$CARGO_TARGET_DIR/debug/incremental"
fi
if [ "$(free_gib)" -lt 25 ]; then
  echo "only $(free_gib) GiB free: removing the debug build in $CARGO_TARGET_DIR"
  rm -rf "$CARGO_TARGET_DIR/debug"
fi

# A real S3 server for the object-store tests (s3s-fs, from crates.io).
tools="${XDG_CACHE_HOME:-$HOME/.cache}/acervo/tools"
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$tools"
fi

cargo build --workspace --bins --locked
cargo nextest run --workspace --locked --no-fail-fast
