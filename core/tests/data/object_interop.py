"""`<object@>` and staged inserts with DataJoint Python 2.3.5 (run by core/tests/objects
`objects_interop_with_datajoint_python`). argv: backend schema store-dir.
Reads rows 1-3 (written by the Rust core: a file, a folder, a staged folder) and compares their
bytes; inserts row 10 (a file), row 11 (a folder) and row 12 (staged_insert1 into a mapper);
then runs its GarbageCollector on the schema, which must find no orphans. Prints problems and
a last line `N passed, M failed`."""
import os, sys, tempfile, warnings

warnings.filterwarnings("ignore")
backend, schema_name, store = sys.argv[1:4]
import datajoint as dj  # noqa: E402
from datajoint.gc import GarbageCollector  # noqa: E402

pg = backend == "postgresql"
dj.config["database.backend"] = backend
dj.config["database.host"] = "127.0.0.1"
dj.config["database.port"] = 5432 if pg else 3306
dj.config["database.user"] = "postgres" if pg else "root"
dj.config["database.password"] = "x" if pg else ""
dj.config["safemode"] = False
dj.config["stores"] = {"default": "main", "main": {"protocol": "file", "location": store}}
vm = dj.VirtualModule("vm", schema_name)
ok = bad = 0


def check(what, cond):
    global ok, bad
    if cond:
        ok += 1
    else:
        bad += 1
        print("FAIL", what)


def folder_files(n):
    """The files core/tests/objects `make_folder` writes."""
    out = {}
    for i in range(n):
        rel = f"f{i:04}.bin" if i % 2 == 0 else f"sub/d{i % 5}/f{i:04}.bin"
        out[rel] = bytes(((k * 7 + i) % 256) for k in range(i % 97 + 1))
    return out


rows = {r["rec_id"]: r for r in vm.Recording.fetch(as_dict=True)}
f = rows[1]["data"]
check("file ObjectRef", not f.is_dir and f.size == 14 and f.read() == b"our file bytes")
check("file ext", f.ext == ".dat")
check("file verify", f.verify())
d = rows[2]["data"]
expect = folder_files(5)
got = {}
for root, dirs, files in d.walk():
    for name in files:
        rel = f"{root}/{name}".lstrip("/") if root else name
        got[rel] = None
check("folder walk " + repr(sorted(got)), sorted(got) == sorted(expect))
for rel, body in expect.items():
    with d.open(rel) as fh:
        check(f"folder file {rel}", fh.read() == body)
check("folder size/count", d.size == sum(len(b) for b in expect.values()) and d.is_dir)
check("folder verify (manifest)", d.verify())
z = rows[3]["data"]
check("staged folder", z.is_dir and z.open(".zgroup").read() == b'{"zarr_format": 2}')
check("staged chunk", z.open("x/0.0").read() == bytes([5] * 64))

tmp = tempfile.mkdtemp()
src = os.path.join(tmp, "py.dat")
open(src, "wb").write(b"python file")
os.makedirs(os.path.join(tmp, "pyfolder", "sub"))
open(os.path.join(tmp, "pyfolder", "a.txt"), "wb").write(b"1")
open(os.path.join(tmp, "pyfolder", "sub", "b.txt"), "wb").write(b"22")
vm.Recording.insert1(dict(rec_id=10, data=src))
vm.Recording.insert1(dict(rec_id=11, data=os.path.join(tmp, "pyfolder")))
with vm.Recording.staged_insert1 as st:
    st.rec["rec_id"] = 12
    m = st.store("data")
    m["zarr/0"] = b"py chunk"
    m["zarr/1"] = b"second"
check("three rows of ours", len(vm.Recording()) == 6)

stats = GarbageCollector(vm.schema, store="main").collect(dry_run=True)
check(f"reference gc: no hash orphans {stats['orphaned_hash_paths']}", stats["hash_paths_orphaned"] == 0)
check(f"reference gc: no schema orphans {stats['orphaned_schema_paths']}", stats["schema_paths_orphaned"] == 0)
check("reference gc sees our objects", stats["schema_paths_stored"] >= 5 + 1 + 2 + 1)
print(f"{ok} passed, {bad} failed")
