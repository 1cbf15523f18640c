# Sourced by run.sh and test.sh: one profile (dev, its hot crates optimised in Cargo.toml) and
# one target directory for both, outside the clone, so the test command reuses the build the
# first command made, and a fresh clone rebuilds nothing. The workspace's own crates compile
# through clippy-driver with warnings denied (what `cargo clippy -- -D warnings` does), so the
# lints cost no second pass over the dependencies.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/acervo/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
if [ -z "${RUSTC_WORKSPACE_WRAPPER:-}" ]; then
  clippy_driver="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)"
  if [ -z "$clippy_driver" ]; then
    echo "acervo setup: clippy is missing (rustup component add clippy)" >&2
    exit 1
  fi
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
fi
# clippy-driver's own way of taking lint flags (cargo-clippy sets it the same way).
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

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

# The server alone (the first command) and every binary of the workspace (the tests, which drive
# the server, and the benchmarks). The dependencies resolve to the same features either way, so
# the second reuses all of the first.
build_server() {
  cargo build -p acervo --bin acervo --locked
}
build_workspace() {
  cargo build --workspace --bins --locked
}
