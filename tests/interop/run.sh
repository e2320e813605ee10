#!/usr/bin/env bash
# Two-way interop with DataJoint Python 2.3.5 on a shared server and one file store.
#
#   tests/interop/run.sh postgresql|mysql      (DJ_TEST_PYTHON: a Python with datajoint==2.3.5)
#
# 1. DataJoint Python declares the dataset (tests/interop/dataset.py) and inserts its rows;
#    libdatajoint opens every table by name and dumps every row through the C ABI (interop.cpp);
#    Python compares every value, and each NpyRef's metadata (read without I/O) and array.
# 2. libdatajoint declares the same tables and inserts the same rows; DataJoint Python opens the
#    schema as a virtual module, reads every value (to_dicts, fetch1, NpyRef.load), joins tables
#    (semantic matching over our ~lineage) and draws its Diagram.
# 3. The two schemas' catalogs (column types, comments, defaults, keys, foreign keys and their
#    actions, indexes, enum types, table comments, ~lineage) are compared entry by entry.
# Prints every check and finally "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
backend="${1:?usage: run.sh postgresql|mysql}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="${DJ_LIB_DIR:-$HOME/.cache/datajoint-rs/target/release}"
py="${DJ_TEST_PYTHON:?DJ_TEST_PYTHON must name a Python with datajoint==2.3.5}"
work="$(mktemp -d)"
log="$work/log"
: >"$log"
tag="djx$$"
theirs="${tag}_py"
ours="${tag}_us"
store="$work/store"
mkdir -p "$store"
# the servers, as for the other suites (DJ_TEST_PG_* / DJ_TEST_MYSQL_*)
if [[ "$backend" == postgresql ]]; then
    export DJ_TEST_HOST="${DJ_TEST_PG_HOST:-127.0.0.1}" DJ_TEST_PORT="${DJ_TEST_PG_PORT:-5432}"
    export DJ_TEST_USER="${DJ_TEST_PG_USER:-postgres}" DJ_TEST_PASS=""
    server="\"database.backend\": \"postgresql\", \"database.host\": \"$DJ_TEST_HOST\", \"database.port\": $DJ_TEST_PORT, \"database.user\": \"$DJ_TEST_USER\""
    drop() { psql -h "$DJ_TEST_HOST" -p "$DJ_TEST_PORT" -U "$DJ_TEST_USER" -d postgres -qc "DROP SCHEMA IF EXISTS \"$1\" CASCADE" >/dev/null 2>&1; }
else
    export DJ_TEST_HOST="${DJ_TEST_MYSQL_HOST:-127.0.0.1}" DJ_TEST_PORT="${DJ_TEST_MYSQL_PORT:-3306}"
    export DJ_TEST_USER="${DJ_TEST_MYSQL_USER:-root}" DJ_TEST_PASS="${DJ_TEST_MYSQL_PASS:-}"
    server="\"database.backend\": \"mysql\", \"database.host\": \"$DJ_TEST_HOST\", \"database.port\": $DJ_TEST_PORT, \"database.user\": \"$DJ_TEST_USER\", \"database.password\": \"$DJ_TEST_PASS\""
    client=$(command -v mariadb || command -v mysql)
    drop() { "$client" -h "$DJ_TEST_HOST" -P "$DJ_TEST_PORT" -u"$DJ_TEST_USER" ${DJ_TEST_PASS:+-p"$DJ_TEST_PASS"} -e "DROP DATABASE IF EXISTS \`$1\`" >/dev/null 2>&1; }
fi
overrides="{$server, \"stores\": {\"default\": \"main\", \"main\": {\"protocol\": \"file\", \"location\": \"$store\"}}}"
cleanup() { drop "$theirs"; drop "$ours"; rm -rf "$work"; }
trap cleanup EXIT

steps_failed=0
step() {  # name, command...
    local name="$1"; shift
    echo "== $name"
    if ! "$@" 2>&1 | tee -a "$log"; then
        echo "FAIL step '$name' exited non-zero" | tee -a "$log"
        steps_failed=$((steps_failed + 1))
    fi
}

echo "== building interop (C++ over libdatajoint.so)"
g++ -std=c++20 -O1 -Wall -Wextra -I"$repo/include" -I"$repo/bindings/cpp/include" "$here/interop.cpp" \
    -L"$lib" -ldatajoint -Wl,-rpath,"$lib" -o "$work/interop" || { echo "FAIL build interop"; exit 1; }

step "DataJoint Python declares and inserts ($backend, schema $theirs)" \
    "$py" "$here/dj_side.py" write --backend "$backend" --schema "$theirs" --store "$store"
step "libdatajoint opens and fetches every table" "$work/interop" dump "$overrides" "$theirs" "$work/dump.txt"
step "every value fetched by libdatajoint equals what DataJoint Python inserted" \
    "$py" "$here/dj_side.py" check --dump "$work/dump.txt" --schema "$theirs"
"$py" -c "import sys; sys.path.insert(0, '$here'); import dataset; open('$work/plan.txt', 'w').write(dataset.plan_lines())"
step "libdatajoint declares and inserts (schema $ours)" "$work/interop" write "$overrides" "$ours" "$work/plan.txt"
step "DataJoint Python reads every value libdatajoint inserted" \
    "$py" "$here/dj_side.py" read --backend "$backend" --schema "$ours" --store "$store"
step "the two declarations have the same catalog" \
    "$py" "$here/dj_side.py" catalog --backend "$backend" --ours "$ours" --theirs "$theirs"

passed=$(grep -c '^ok ' "$log" || true)
failed=$(grep -c '^FAIL' "$log" || true)
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 && "$steps_failed" -eq 0 && "$passed" -gt 0 ]]
