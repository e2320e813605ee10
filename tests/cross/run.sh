#!/usr/bin/env bash
# Cross-language test: values written through C++ (datajoint.hpp) are read back through
# MATLAB/Octave (dj_mex) and the reverse, with identical values — including <npy@> arrays
# compared element-wise with numpy's (i,j,k) semantics.
#
#   tests/cross/run.sh          # DJ_LIB_DIR defaults to ~/.cache/datajoint-rs/target/release
#
# Steps: build cross_cpp (g++ -std=c++20 against libdatajoint.so, rpath) and, if needed, the
# MEX file; cross_cpp write; cross_octave.m (read FromCpp, write FromOctave); cross_cpp read.
# Prints every check and finally "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="${DJ_LIB_DIR:-/root/.cache/datajoint-rs/target/release}"
export DJ_LIB_DIR="$lib"
OCTAVE=(octave-cli --no-history --norc --quiet)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/log"
: >"$log"
steps_failed=0

echo "== building cross_cpp"
g++ -std=c++20 -O1 -Wall -Wextra -I"$repo/include" -I"$repo/bindings/cpp/include" "$here/cross_cpp.cpp" \
    -L"$lib" -ldatajoint -Wl,-rpath,"$lib" -o "$work/cross_cpp" || { echo "FAIL build cross_cpp"; exit 1; }

mex="$repo/bindings/matlab/dj_mex.mex"
if [[ ! -f "$mex" || "$repo/bindings/matlab/src/dj_mex.cpp" -nt "$mex" || "$lib/libdatajoint.a" -nt "$mex" ]]; then
    echo "== building dj_mex"
    "${OCTAVE[@]}" --eval "warning('off', 'Octave:shadowed-function'); addpath('$repo/bindings/matlab'); dj.build_mex('lib_dir', '$lib');" \
        || { echo "FAIL build dj_mex"; exit 1; }
fi

mkdir -p "$work/db/store"
run_step() {  # name, command...
    local name="$1"; shift
    echo "== $name"
    if ! "$@" 2>&1 | tee -a "$log"; then
        echo "FAIL step $name exited non-zero" | tee -a "$log"
        steps_failed=$((steps_failed + 1))
    fi
}
run_step "C++ writes FromCpp" "$work/cross_cpp" write "$work/db"
run_step "Octave reads FromCpp, writes FromOctave" "${OCTAVE[@]}" --eval \
    "warning('off', 'Octave:shadowed-function'); addpath('$repo/bindings/matlab'); addpath('$here'); cross_octave('$work/db');"
run_step "C++ reads FromOctave" "$work/cross_cpp" read "$work/db"

passed=$(grep -c '^ok ' "$log" || true)
failed=$(grep -c '^FAIL' "$log" || true)
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 && "$steps_failed" -eq 0 && "$passed" -gt 0 ]]
