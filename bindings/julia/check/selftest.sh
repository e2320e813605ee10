#!/usr/bin/env bash
# Prove that check_julia.py catches drift: copy the package to a temporary folder, inject one
# fault at a time and require the checker to fail for that reason; the unmodified copy must
# pass.
#
#   bindings/julia/check/selftest.sh            (uses $PYTHON, default python3)
#
# The Python must have tree-sitter==0.26.1 and tree-sitter-julia==0.23.1 (see run.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$(cd "$here/.." && pwd)"
header="$(cd "$pkg/../.." && pwd)/include/datajoint.h"
python="${PYTHON:-python3}"
checker="$here/check_julia.py"

work="$(mktemp -d "${TMPDIR:-/tmp}/dj_julia_selftest.XXXXXX")"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
ok() { echo "selftest: ok   - $1"; passed=$((passed + 1)); }
bad() { echo "selftest: FAIL - $1"; failed=$((failed + 1)); }

fresh_copy() {
    rm -rf "$work/julia"
    mkdir -p "$work/julia"
    # The package sources only (no caches or manifests a Julia run may have left).
    cp -R "$pkg/Project.toml" "$pkg/src" "$pkg/test" "$work/julia/"
}

# inject FILE OLD NEW: replace exactly one occurrence of OLD by NEW (fails if OLD is not there
# exactly once, so that a stale fault cannot pass silently).
inject() {
    "$python" - "$work/julia/$1" "$2" "$3" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2].encode().decode("unicode_escape"), sys.argv[3].encode().decode("unicode_escape")
with open(path, encoding="utf-8") as f:
    src = f.read()
n = src.count(old)
if n != 1:
    sys.exit(f"selftest: cannot inject into {path}: {old!r} occurs {n} times")
with open(path, "w", encoding="utf-8") as f:
    f.write(src.replace(old, new))
PY
}

# expect_failure NAME PATTERN: the checker must exit 1 and print PATTERN.
expect_failure() {
    local name="$1" pattern="$2" out rc
    set +e
    out="$("$python" "$checker" --root "$work/julia" --header "$header" 2>&1)"
    rc=$?
    set -e
    if [ "$rc" -ne 1 ]; then
        bad "$name: the checker exited $rc, expected 1"
        echo "$out" | sed 's/^/    /'
    elif ! grep -qE "$pattern" <<<"$out"; then
        bad "$name: the checker failed, but without /$pattern/"
        echo "$out" | sed 's/^/    /'
    else
        ok "$name ($(grep -E "$pattern" <<<"$out" | head -1))"
    fi
}

# 0. The unmodified copy passes.
fresh_copy
set +e
out="$("$python" "$checker" --root "$work/julia" --header "$header" 2>&1)"
rc=$?
set -e
if [ "$rc" -eq 0 ] && grep -qE '^[0-9]+ passed, 0 failed$' <<<"$out"; then
    ok "the unmodified package passes ($(tail -1 <<<"$out"))"
else
    bad "the unmodified package fails (exit $rc)"
    echo "$out" | sed 's/^/    /'
fi

# 1. A syntax error (an unclosed parenthesis in the high-level module).
fresh_copy
inject src/handles.jl 'function backend(c::Connection)\n' 'function backend(c::Connection\n'
expect_failure "syntax error" 'src/handles\.jl:[0-9]+:[0-9]+: syntax error'

# 2. A renamed ccall symbol (a function the header does not declare).
fresh_copy
inject src/LibDataJoint.jl '(:dj_table_count, libdatajoint)' '(:dj_table_counts, libdatajoint)'
expect_failure "renamed ccall symbol" "ccall to 'dj_table_counts', which include/datajoint.h does not declare"

# 3. A wrong argument type (int64_t v of dj_row_set_int declared as Int32).
fresh_copy
inject src/LibDataJoint.jl '(Ptr{dj_row}, Cstring, Int64), row, name, v)' '(Ptr{dj_row}, Cstring, Int32), row, name, v)'
expect_failure "wrong argument type" 'dj_row_set_int argument 3 \(v: int64_t\): C int64_t needs Int64, not Int32'

# 4. A missing struct field (dj_insert_opts without `replace`).
fresh_copy
inject src/LibDataJoint.jl '    ignore_extra_fields::UInt8\n    replace::UInt8\n' '    ignore_extra_fields::UInt8\n'
expect_failure "missing struct field" 'struct dj_insert_opts fields .* missing replace'

# 5. A missing field of a plain `struct X { ... };` of the header (the Arrow C Data Interface).
fresh_copy
inject src/LibDataJoint.jl '    n_buffers::Int64\n' ''
expect_failure "missing Arrow struct field" 'struct ArrowArray fields .* missing n_buffers'

# 6. A ccall through a function pointer that passes more values than it declares types.
fresh_copy
inject src/arrow.jl 'ccall(release, Cvoid, (Ref{Lib.ArrowSchema},), s)' 'ccall(release, Cvoid, (Ref{Lib.ArrowSchema},), s, s)'
expect_failure "function-pointer ccall arity" 'ccall through a function pointer declares 1 argument type\(s\) but passes 2 value\(s\)'

# 7. A @cfunction trampoline whose argument type differs from the header's callback typedef
#    (the key of dj_make_fn as a row instead of a result).
fresh_copy
inject src/populate.jl 'Ptr{Lib.dj_result}, Ptr{Lib.dj_make_ctx}))' 'Ptr{Lib.dj_row}, Ptr{Lib.dj_make_ctx}))'
expect_failure "@cfunction argument type" 'matches no callback typedef of include/datajoint\.h: dj_make_fn: argument 3 \(key: const dj_result \*\)'

# 8. A closure @cfunction (state must go through user_data).
fresh_copy
inject src/populate.jl '@cfunction(_make_trampoline,' '@cfunction($_make_trampoline,'
expect_failure "closure @cfunction" '@cfunction\(\$_make_trampoline, \.\.\.\) is a closure'

# 9. A trampoline defined with another number of arguments than its @cfunction passes.
fresh_copy
inject src/populate.jl 'function _populate_progress_trampoline(p::Ptr{Lib.dj_populate_progress}, data::Ptr{Cvoid})' 'function _populate_progress_trampoline(p::Ptr{Lib.dj_populate_progress}, data::Ptr{Cvoid}, extra)'
expect_failure "trampoline arity" "@cfunction passes 2 argument\(s\) to '_populate_progress_trampoline', defined with 3"

echo "selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
