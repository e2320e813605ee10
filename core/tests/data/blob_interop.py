"""Blob interop with DataJoint Python 2.3.5 (run by core/tests/npy.rs `blob_interop_with_datajoint_python`).

argv: <dir>. Writes <dir>/theirs/<name>.blob (datajoint.blob.pack, compressed when the
reference compresses) and <dir>/theirs_raw/<name>.blob (compress=False) for every value below;
unpacks <dir>/ours/<name>.blob (written by the Rust core) and compares it with the same value;
for values the reference writes as mYm, checks that our uncompressed bytes (<dir>/ours_raw) are
byte-identical to its own. Prints one line per problem and a last line `N passed, M failed`.
"""
import datetime, os, sys, uuid
from decimal import Decimal

import numpy as np
import datajoint as dj
from datajoint.blob import MatCell, pack, unpack

assert dj.__version__ == "2.3.5", dj.__version__
d = sys.argv[1]


def cell():
    m = np.empty((1, 2), dtype=object)
    m[0, 0] = np.array([[1.0]])
    m[0, 1] = np.array([[2.0, 3.0]])
    return m.view(MatCell)


VALUES = {
    "float": 3.5,
    "bigint": 12345678901234567890123,
    "neg": -5,
    "bool": True,
    "none": None,
    "str": "héllo ✓",
    "bytes": b"\x00\x01\xff",
    "list": [1, "a", 2.5],
    "tuple": (1, 2),
    "set": {3},
    "dict": {"a": 1, "b": [1.0]},
    "complex": 1 + 2j,
    "decimal": Decimal("1.250"),
    "date": datetime.date(2024, 1, 2),
    "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
    "time": datetime.time(3, 4, 5, 6),
    "uuid": uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF),
    "arr1d": np.array([1.0, 2.0, 3.0]),
    "arr2d": np.arange(6, dtype=np.int32).reshape(2, 3),
    "logical": np.array([[True, False]]),
    "carr": np.array([1 + 1j, 2 - 1j]),
    "scalar32": np.float32(2.5),
    "dt64": np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
    "rec": np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
    "unicode": np.array(["ab", "c"]),
    "cell": cell(),
    "zeros": np.zeros(100000),
}
MYM = {"arr1d", "arr2d", "logical", "carr", "cell", "zeros"}


def eq(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.names or b.dtype.names:
            return a.dtype.names == b.dtype.names and all(eq(a[f], b[f]) for f in a.dtype.names)
        if a.shape != b.shape:
            return False
        if a.dtype == object or b.dtype == object:
            return all(eq(x, y) for x, y in zip(a.ravel(), b.ravel()))
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(eq(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


ok = bad = 0
for sub in ("theirs", "theirs_raw"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
for name, v in VALUES.items():
    open(os.path.join(d, "theirs", name + ".blob"), "wb").write(pack(v))
    open(os.path.join(d, "theirs_raw", name + ".blob"), "wb").write(pack(v, compress=False))
    ours = open(os.path.join(d, "ours", name + ".blob"), "rb").read()
    got = unpack(ours)
    if eq(v, got) or (name == "unicode" and [str(x) for x in got] == list(v)):
        ok += 1
    else:
        bad += 1
        print(f"FAIL {name}: ours unpacks to {got!r}, expected {v!r}")
    if name in MYM:
        ref = pack(v, compress=False)
        mine = open(os.path.join(d, "ours_raw", name + ".blob"), "rb").read()
        if ref == mine and ref[:4] == b"mYm\0":
            ok += 1
        else:
            bad += 1
            print(f"FAIL {name}: our mYm bytes differ from the reference's ({mine[:24].hex()} vs {ref[:24].hex()})")
print(f"{ok} passed, {bad} failed")
