"""Hash codecs on a shared server with DataJoint Python 2.3.5 (run by core/tests/npy.rs
`hash_codecs_interop_with_datajoint_python`). argv: backend schema store-dir download-dir.
Reads row 1 (written by the Rust core) and compares every value; inserts row 2 with the same
content (which must deduplicate against ours) and row 3 with its own. Prints problems and a
last line `N passed, M failed`."""
import os, sys, warnings

import numpy as np

warnings.filterwarnings("ignore")
backend, schema_name, store, download = sys.argv[1:5]
import datajoint as dj  # noqa: E402

pg = backend == "postgresql"
dj.config["database.backend"] = backend
dj.config["database.host"] = "127.0.0.1"
dj.config["database.port"] = 5432 if pg else 3306
dj.config["database.user"] = "postgres" if pg else "root"
dj.config["database.password"] = "x" if pg else ""
dj.config["safemode"] = False
dj.config["download_path"] = download
dj.config["stores"] = {"main": {"protocol": "file", "location": store}}
vm = dj.VirtualModule("vm", schema_name)
ok = bad = 0


def check(what, cond):
    global ok, bad
    if cond:
        ok += 1
    else:
        bad += 1
        print("FAIL", what)


row = (vm.Doc & "id = 1").fetch1()
check("meta dict", row["meta"]["name"] == "mouse ✓" and np.array_equal(row["meta"]["x"], np.arange(6.0).reshape(2, 3, order="F")))
check("raw array", isinstance(row["raw"], np.ndarray) and row["raw"].shape == (2, 3) and np.array_equal(row["raw"], np.arange(6.0).reshape(2, 3, order="F")))
check("hash bytes", row["h"] == b"raw bytes")
check("attach@ file", open(row["att2"], "rb").read() == b"\x00\x01\x02" and os.path.basename(row["att2"]) == "data.bin")
# DataJoint Python 2.3.5 cannot insert <blob@>/<attach@> on MariaDB, even into its own tables
# (MariaDB reports json as longtext, so it passes the metadata dict unserialised): on MariaDB
# it writes only <blob> and <hash@> here.
full = backend == "postgresql"
src = os.path.join(download, "theirs.txt")
open(src, "wb").write(b"from python")
r2 = dict(id=2, meta={"name": "mouse ✓", "x": np.arange(6.0).reshape(2, 3, order="F")}, h=b"raw bytes")
r3 = dict(id=3, meta=[1, "two", 3.0], h=b"py bytes")
if full:
    r2.update(raw=np.arange(6.0).reshape(2, 3, order="F"), att2=os.path.join(os.path.dirname(row["att2"]), "data.bin"))
    r3.update(raw={"k": np.array([True, False])}, att2=src)
vm.Doc.insert1(r2)
vm.Doc.insert1(r3)
print(f"{ok} passed, {bad} failed")
