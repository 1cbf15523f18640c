#!/usr/bin/env bash
# Runs Acervo's whole test suite: installs what is missing, checks the formatting, builds the
# workspace (the build scripts/run.sh makes, linted), then runs every test, unit and end to end,
# with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# Test servers and tools, in a folder of their own beside the target directory (installed before
# cargo-env.sh points cargo at the workspace's target directory and lints).
tools="${XDG_CACHE_HOME:-$HOME/.cache}/acervo/tools"
# A real S3 server for the object-store tests (s3s-fs, from crates.io; a debug build compiles in
# half the time and serves test-sized objects as well).
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install s3s-fs --version 0.14.1 --features binary --locked --debug --root "$tools"
fi
# Schemathesis (PyPI), which fuzzes every operation of the OpenAPI document against a live server.
if [ ! -e "$tools/python/schemathesis/__init__.py" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$tools/python" schemathesis==4.32.5
fi
# pylance (PyPI), the version of the lance crate: a second writer of the catalog's tables, for
# the audit trail's tamper test.
if [ ! -e "$tools/pylance/lance/__init__.py" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$tools/pylance" pylance==14.0.2
fi

source scripts/cargo-env.sh
python3 scripts/check-module-cycles.py
cargo fmt --all --check
build_workspace
cargo nextest run --workspace --locked --no-fail-fast
