#!/usr/bin/env bash
# Cross-language test: values written through C++ (datajoint.hpp) are read back through
# MATLAB/Octave (dj_mex) and the reverse, with identical values — including <npy@> arrays
# compared element-wise with numpy's (i,j,k) semantics.
#
#   tests/cross/run.sh          # DJ_LIB_DIR defaults to ~/.cache/datajoint-rs/target/release
#   DJ_TEST_BACKEND=postgresql DJ_TEST_CONFIG='{"database.backend": "postgresql", ...}' tests/cross/run.sh
#
# Both sides use the backend under test (DJ_TEST_BACKEND / DJ_TEST_CONFIG as in the C++ and
# Octave suites; DuckDB by default) and one schema name, unique on the shared servers
# (DJ_CROSS_SCHEMA, default "djc<pid>_x_cross"); the schema is dropped at the end.
# Steps: build cross_cpp if needed (g++ -std=c++20 against libdatajoint.so, rpath) and the
# MEX file; cross_cpp write; cross_octave.m (read FromCpp, write FromOctave); cross_cpp read;
# cross_cpp drop. Prints every check and finally "N passed, M failed"; exits non-zero on any
# failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="${DJ_LIB_DIR:-/root/.cache/datajoint-rs/target/release}"
export DJ_LIB_DIR="$lib"
OCTAVE=(octave-cli --no-history --norc --quiet)
schema="${DJ_CROSS_SCHEMA:-djc$$_x_cross}"
work="$(mktemp -d)"
log="$work/log"
: >"$log"
steps_failed=0

# cross_cpp is built once into the cache folder and rebuilt only when a source or the library
# changed (scripts/test runs this script once per backend).
bin_dir="${DJ_CACHE_DIR:-$HOME/.cache/datajoint-rs}/cross"
cross="$bin_dir/cross_cpp"
sources=("$here/cross_cpp.cpp" "$repo/bindings/cpp/tests/backend_env.hpp" "$repo/bindings/cpp/include/datajoint.hpp"
         "$repo/include/datajoint.h" "$lib/libdatajoint.so")
stale=0
[[ -x "$cross" ]] || stale=1
for f in "${sources[@]}"; do [[ "$f" -nt "$cross" ]] && stale=1; done
if [[ "$stale" -eq 1 ]]; then
    echo "== building cross_cpp"
    mkdir -p "$bin_dir"
    g++ -std=c++20 -O1 -Wall -Wextra -I"$repo/include" -I"$repo/bindings/cpp/include" -I"$repo/bindings/cpp/tests" \
        "$here/cross_cpp.cpp" -L"$lib" -ldatajoint -Wl,-rpath,"$lib" -o "$cross.tmp" \
        || { echo "FAIL build cross_cpp"; rm -rf "$work"; exit 1; }
    mv "$cross.tmp" "$cross"
fi

mex="$repo/bindings/matlab/dj_mex.mex"
if [[ ! -f "$mex" || "$repo/bindings/matlab/src/dj_mex.cpp" -nt "$mex" || "$lib/libdatajoint.a" -nt "$mex" ]]; then
    echo "== building dj_mex"
    "${OCTAVE[@]}" --eval "warning('off', 'Octave:shadowed-function'); addpath('$repo/bindings/matlab'); dj.build_mex('lib_dir', '$lib');" \
        || { echo "FAIL build dj_mex"; rm -rf "$work"; exit 1; }
fi

mkdir -p "$work/db/store"
# The last step drops the schema; should the script stop earlier, this still tries.
dropped=0
cleanup() {
    [[ "$dropped" -eq 1 ]] || "$cross" drop "$work/db" "$schema" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
echo "== backend ${DJ_TEST_BACKEND:-duckdb}, schema $schema"
run_step() {  # name, command...
    local name="$1"; shift
    echo "== $name"
    if ! "$@" 2>&1 | tee -a "$log"; then
        echo "FAIL step $name exited non-zero" | tee -a "$log"
        steps_failed=$((steps_failed + 1))
    fi
}
run_step "C++ writes FromCpp" "$cross" write "$work/db" "$schema"
run_step "Octave reads FromCpp, writes FromOctave" "${OCTAVE[@]}" --eval \
    "warning('off', 'Octave:shadowed-function'); addpath('$repo/bindings/matlab'); addpath('$repo/bindings/matlab/tests'); addpath('$here'); cross_octave('$work/db', '$schema');"
run_step "C++ reads FromOctave" "$cross" read "$work/db" "$schema"
run_step "drop the schema" "$cross" drop "$work/db" "$schema" && dropped=1

passed=$(grep -c '^ok ' "$log" || true)
failed=$(grep -c '^FAIL' "$log" || true)
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 && "$steps_failed" -eq 0 && "$passed" -gt 0 ]]
