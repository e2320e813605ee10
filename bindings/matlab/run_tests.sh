#!/usr/bin/env bash
# Build the MATLAB binding's MEX file with GNU Octave and run its tests.
#
#   bindings/matlab/run_tests.sh            # DJ_LIB_DIR defaults to ~/.cache/datajoint-rs/target/release
#   DJ_LIB_DIR=/path/to/release bindings/matlab/run_tests.sh [name-filter]
#   DJ_TEST_BACKEND=mysql DJ_TEST_CONFIG='{"database.backend": "mysql", ...}' bindings/matlab/run_tests.sh
#
# (a) dj.build_mex links libdatajoint.a statically into bindings/matlab/dj_mex.mex (skipped when
#     the MEX file is newer than its sources and the library; DJ_MEX_REBUILD=1 forces it),
# (b) tests/run_tests.m runs every test on the backend named by DJ_TEST_BACKEND (default duckdb)
#     with the dj_connect overrides DJ_TEST_CONFIG (prints "N passed, M failed"),
# (c) the exit status is non-zero on any build or test failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DJ_LIB_DIR="${DJ_LIB_DIR:-/root/.cache/datajoint-rs/target/release}"
OCTAVE=(octave-cli --no-history --norc --quiet)
command -v octave-cli >/dev/null || {
    echo "octave-cli not found: apt-get install -y --no-install-recommends octave liboctave-dev" >&2
    exit 2
}
filter="${1:-}"
mex="$here/dj_mex.mex"
stale="${DJ_MEX_REBUILD:-0}"
for f in "$here/src/dj_mex.cpp" "$here/+dj/build_mex.m" "$DJ_LIB_DIR/libdatajoint.a" "$here/../../include/datajoint.h"; do
    [[ -f "$mex" && ! "$f" -nt "$mex" ]] || stale=1
done
if [[ "$stale" == 1 ]]; then
    echo "== building dj_mex against $DJ_LIB_DIR/libdatajoint.a"
    "${OCTAVE[@]}" --eval "warning('off', 'Octave:shadowed-function'); addpath('$here'); dj.build_mex('lib_dir', getenv('DJ_LIB_DIR'), 'verbose', true);"
else
    echo "== dj_mex is up to date ($mex)"
fi
echo "== running Octave tests"
cd "$here/tests"
"${OCTAVE[@]}" --eval "run_tests('$filter')"
