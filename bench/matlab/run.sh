#!/usr/bin/env bash
# MATLAB-binding benchmark (GNU Octave vs C++ on the same data, same machine):
#   - fetch of 100,000 small rows (int32 key, float64, varchar(32)) as columns;
#   - load of a 256 MiB float32 <npy@> array (8192 x 8192), C order and Fortran order.
# Prints one JSON object with the timings (best of $REPS, milliseconds) and the Octave/C++ ratios.
#
#   bench/matlab/run.sh                 # DJ_LIB_DIR defaults to ~/.cache/datajoint-rs/target/release
#   REPS=7 bench/matlab/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="${DJ_LIB_DIR:-/root/.cache/datajoint-rs/target/release}"
export DJ_LIB_DIR="$lib"
reps="${REPS:-5}"
OCTAVE=(octave-cli --no-history --norc --quiet)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

g++ -std=c++20 -O2 -I"$repo/include" -I"$repo/bindings/cpp/include" "$here/bench_cpp.cpp" \
    -L"$lib" -ldatajoint -Wl,-rpath,"$lib" -o "$work/bench_cpp" >&2
mex="$repo/bindings/matlab/dj_mex.mex"
if [[ ! -f "$mex" || "$repo/bindings/matlab/src/dj_mex.cpp" -nt "$mex" || "$lib/libdatajoint.a" -nt "$mex" ]]; then
    "${OCTAVE[@]}" --eval "warning('off', 'Octave:shadowed-function'); addpath('$repo/bindings/matlab'); dj.build_mex('lib_dir', '$lib');" >&2
fi
mkdir -p "$work/db/store"
"$work/bench_cpp" setup "$work/db" >&2
cpp_json="$("$work/bench_cpp" run "$work/db" "$reps" | tail -1)"
oct_json="$("${OCTAVE[@]}" --eval "warning('off', 'Octave:shadowed-function'); addpath('$repo/bindings/matlab'); addpath('$here'); bench('$work/db', $reps);" | tail -1)"
python3 - "$cpp_json" "$oct_json" "$reps" <<'PY'
import json, sys, platform
cpp, octv, reps = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
assert cpp["rows"] == octv["rows"] == 100000, (cpp, octv)
out = {"benchmark": "matlab-binding", "best_of": reps, "rows": cpp["rows"],
       "npy_array": "float32 (8192, 8192) = 256 MiB, file store, page cache warm"}
out.update({k: v for k, v in cpp.items() if k != "rows"})
out.update({k: v for k, v in octv.items() if k != "rows"})
r = lambda a, b: round(a / b, 2)
out["ratio_fetch_octave_columns_vs_cpp"] = r(octv["octave_fetch_columns_ms"], cpp["cpp_fetch_ms"])
out["ratio_fetch_octave_columns_vs_cpp_copy"] = r(octv["octave_fetch_columns_ms"], cpp["cpp_fetch_copy_ms"])
out["ratio_load_c_order_octave_vs_cpp_load"] = r(octv["octave_load_c_order_ms"], cpp["cpp_load_c_order_ms"])
out["ratio_load_f_order_octave_vs_cpp_load"] = r(octv["octave_load_f_order_ms"], cpp["cpp_load_f_order_ms"])
out["ratio_load_f_order_octave_vs_cpp_map_and_sum"] = r(octv["octave_load_f_order_ms"], cpp["cpp_map_and_sum_ms"])
out["ratio_map_f_order_octave_vs_cpp_map_and_sum"] = r(octv["octave_map_f_order_ms"], cpp["cpp_map_and_sum_ms"])
print(json.dumps(out))
PY
