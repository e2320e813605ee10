#!/usr/bin/env bash
# Static check of the Julia package (no Julia runtime is available on this project's machines):
# a Python venv with the pinned tree-sitter wheels, then check_julia.py and its selftest.
#
#   bindings/julia/check/run.sh
#
# DJ_VENV_JULIA: the venv folder (default $DJ_CACHE_DIR/jlvenv, i.e. ~/.cache/datajoint-rs/jlvenv); it is created, and
# the two wheels installed, when missing or at other versions. Exit status non-zero on any
# failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${DJ_VENV_JULIA:-${DJ_CACHE_DIR:-$HOME/.cache/datajoint-rs}/jlvenv}"
pins=(tree-sitter==0.26.1 tree-sitter-julia==0.23.1)

have_pins() {
    [ -x "$venv/bin/python" ] && "$venv/bin/python" - <<'PY' >/dev/null 2>&1
from importlib.metadata import version
import tree_sitter, tree_sitter_julia  # noqa: F401  (importable, not only installed)
assert version("tree-sitter") == "0.26.1", version("tree-sitter")
assert version("tree-sitter-julia") == "0.23.1", version("tree-sitter-julia")
PY
}

if ! have_pins; then
    echo "julia check: preparing the venv $venv (${pins[*]})"
    if [ ! -x "$venv/bin/python" ]; then
        mkdir -p "$(dirname "$venv")"
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
    have_pins || { echo "julia check: the venv $venv lacks ${pins[*]}"; exit 1; }
fi

passed=0
failed=0
echo "== julia static check (check_julia.py)"
if "$venv/bin/python" "$here/check_julia.py"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "== julia checker selftest (selftest.sh)"
if PYTHON="$venv/bin/python" bash "$here/selftest.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "julia: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
