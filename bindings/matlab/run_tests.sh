#!/usr/bin/env bash
# Build the MATLAB binding's MEX file with GNU Octave and run its tests.
#
#   bindings/matlab/run_tests.sh            # DJ_LIB_DIR defaults to ~/.cache/datajoint-rs/target/release
#   DJ_LIB_DIR=/path/to/release bindings/matlab/run_tests.sh [name-filter]
#
# (a) dj.build_mex links libdatajoint.a statically into bindings/matlab/dj_mex.mex,
# (b) tests/run_tests.m runs every test (prints "N passed, M failed"),
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
echo "== building dj_mex against $DJ_LIB_DIR/libdatajoint.a"
"${OCTAVE[@]}" --eval "warning('off', 'Octave:shadowed-function'); addpath('$here'); dj.build_mex('lib_dir', getenv('DJ_LIB_DIR'), 'verbose', true);"
echo "== running Octave tests"
cd "$here/tests"
"${OCTAVE[@]}" --eval "run_tests('$filter')"
