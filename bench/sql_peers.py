"""DataJoint Python 2.3.5's side of `dj-bench sql`, on one server (PostgreSQL or MariaDB on
127.0.0.1), with the same rows as the Rust side:
  insert 10,000 / 100,000 rows (`id : int32` key, `x : float64`, `name : varchar(32)`) with one
  Table.insert call into a fresh table, both as a list of dicts and as a numpy structured array
  (best of the repeats each; the faster of the two is what the ratios use);
  fetch them with to_arrays();
  fetch 10,000 <npy@main> refs with to_dicts() (inserted once beforehand, not timed).
Usage: python sql_peers.py postgresql|mysql <store-dir> <schema-prefix> [repeats]
Prints one JSON object (DataJoint may log to stdout before it: read from the last "\n{")."""
import json, os, sys, time, warnings

import numpy as np

warnings.filterwarnings("ignore")
backend, store, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
REPEAT = int(sys.argv[4]) if len(sys.argv) > 4 else 5
pg = backend == "postgresql"

import datajoint as dj  # noqa: E402

dj.config["database.backend"] = backend
dj.config["database.host"] = "127.0.0.1"
dj.config["database.port"] = 5432 if pg else 3306
dj.config["database.user"] = "postgres" if pg else "root"
# it refuses an unset password; trust auth (PostgreSQL) ignores it, MariaDB's root has none
dj.config["database.password"] = "x" if pg else ""
dj.config["safemode"] = False
os.makedirs(store, exist_ok=True)
dj.config["stores"] = {"main": {"protocol": "file", "location": store}}
dj.conn()

ITEM = """
id : int32
---
x : float64
name : varchar(32)
"""
REC = """
id : int32
---
arr : <npy@main>
"""


def rows_of(n):
    """The bench rows, as the Rust side makes them: id i, x = i / 2, name 'item-%06d'."""
    ids = np.arange(n, dtype=np.int32)
    xs = ids.astype(np.float64) * 0.5
    names = [f"item-{i:06d}" for i in range(n)]
    return ids, xs, names


out = {"datajoint_version": dj.__version__, "backend": backend, "repeats_best_of": REPEAT}
schema = dj.Schema(f"{prefix}_py", context={}, create_schema=True)
counter = [0]


def fresh_item():
    """A new Item table (a class of its own, so a fresh table every time)."""
    counter[0] += 1
    k, name = counter[0], "Item"
    while k:
        k, r = divmod(k - 1, 26)
        name += chr(65 + r)
    cls = type(name, (dj.Manual,), {"definition": ITEM})
    return schema(cls)()


try:
    for n in (10_000, 100_000):
        ids, xs, names = rows_of(n)
        as_dicts = lambda: [{"id": int(i), "x": float(x), "name": s} for i, x, s in zip(ids, xs, names)]
        rec = np.empty(n, dtype=[("id", np.int32), ("x", np.float64), ("name", "U32")])
        rec["id"], rec["x"], rec["name"] = ids, xs, names
        # building the rows is the caller's business on both sides: only Table.insert is timed
        last = None
        for how, make in (("dicts", as_dicts), ("structured_array", lambda: rec)):
            best = float("inf")
            for _ in range(REPEAT):
                t = fresh_item()
                data = make()
                t0 = time.perf_counter()
                t.insert(data)
                best = min(best, time.perf_counter() - t0)
                if last is not None:
                    last.drop_quick()
                last = t
            assert len(last) == n
            out[f"insert_{how}_{n}_s"] = best
        out[f"insert_{n}_s"] = min(out[f"insert_dicts_{n}_s"], out[f"insert_structured_array_{n}_s"])
        out[f"insert_{n}_fastest"] = (
            "dicts" if out[f"insert_dicts_{n}_s"] <= out[f"insert_structured_array_{n}_s"] else "structured_array"
        )

        def fetch():
            t0 = time.perf_counter()
            a = last.to_arrays()
            dt = time.perf_counter() - t0
            assert len(a) == n and float(a["x"].sum()) == float(xs.sum())
            return dt

        out[f"fetch_to_arrays_{n}_s"] = min(fetch() for _ in range(REPEAT))
        last.drop_quick()

    Rec = schema(type("Rec", (dj.Manual,), {"definition": REC}))()
    Rec.insert([{"id": k, "arr": np.ones(4, dtype=np.float32)} for k in range(10_000)])

    def refs():
        t0 = time.perf_counter()
        recs = Rec.to_dicts()
        dt = time.perf_counter() - t0
        assert len(recs) == 10_000 and all(r["arr"].shape == (4,) for r in recs)
        return dt

    out["refs_to_dicts_10000_s"] = min(refs() for _ in range(3))
finally:
    schema.drop(prompt=False)

print(json.dumps(out, indent=2))
