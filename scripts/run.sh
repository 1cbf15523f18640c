#!/usr/bin/env bash
# Builds Acervo (scripts/cargo-env.sh: the build the tests reuse) and runs the acervo binary with
# the given arguments: `bash scripts/run.sh serve` serves the API on 127.0.0.1:8080 with its
# data under ./acervo-data. For production, build once with `cargo build --release` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cargo-env.sh
build_server
exec "$CARGO_TARGET_DIR/debug/acervo" "$@"
