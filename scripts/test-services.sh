# Sourced by scripts/test and bench/run: a Python venv with numpy, moto and DataJoint Python 2.3.5,
# and an S3-compatible
# server (moto) on a free loopback port with a test bucket. Exports DJ_TEST_PYTHON,
# DJ_TEST_S3_ENDPOINT and DJ_TEST_S3_BUCKET; stop_test_services stops the server.

ensure_venv() {
  DJ_VENV="${DJ_VENV:-$DJ_CACHE_DIR/venv}"
  # DataJoint Python 2.3.5 (with psycopg2 for PostgreSQL) is the interop peer of the tests
  if ! "$DJ_VENV/bin/python" -c "import numpy, moto, psycopg2, datajoint; assert datajoint.__version__ == '2.3.5'" >/dev/null 2>&1; then
    python3 -m venv "$DJ_VENV"
    "$DJ_VENV/bin/pip" install -q --disable-pip-version-check numpy 'moto[server]' 'datajoint==2.3.5' psycopg2-binary
  fi
  export DJ_TEST_PYTHON="$DJ_VENV/bin/python"
}

start_test_services() {
  local logdir="$1"
  ensure_venv
  local port
  port=$("$DJ_TEST_PYTHON" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  "$DJ_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$logdir/moto.log" 2>&1 &
  DJ_MOTO_PID=$!
  export DJ_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  export DJ_TEST_S3_BUCKET="datajoint-test"
  "$DJ_TEST_PYTHON" - <<PY
import time, urllib.request
url = "$DJ_TEST_S3_ENDPOINT"
for _ in range(150):
    try:
        urllib.request.urlopen(url, timeout=1)
        break
    except Exception:
        time.sleep(0.2)
else:
    raise SystemExit("the S3 test server did not start; see $logdir/moto.log")
req = urllib.request.Request(url + "/$DJ_TEST_S3_BUCKET", method="PUT")
urllib.request.urlopen(req, timeout=5)
print("S3 test server (moto) at", url, "bucket $DJ_TEST_S3_BUCKET")
PY
}

stop_test_services() {
  if [ -n "${DJ_MOTO_PID:-}" ]; then
    kill "$DJ_MOTO_PID" 2>/dev/null || true
    wait "$DJ_MOTO_PID" 2>/dev/null || true
  fi
}
