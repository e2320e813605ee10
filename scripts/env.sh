# Sourced by the scripts: one cache folder outside the clone for cargo's target dir and sccache,
# so repeated builds (and CI runs on this machine) do not rebuild DuckDB from scratch.
export DJ_CACHE_DIR="${DJ_CACHE_DIR:-$HOME/.cache/datajoint-rs}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$DJ_CACHE_DIR/target}"
export DJ_LIB_DIR="$CARGO_TARGET_DIR/release"
if command -v sccache >/dev/null 2>&1 && [ -z "${RUSTC_WRAPPER:-}" ]; then
  export RUSTC_WRAPPER=sccache
  export SCCACHE_CACHE_SIZE="${SCCACHE_CACHE_SIZE:-10G}"
fi
