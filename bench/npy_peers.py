"""Peers of `dj-bench npy`, measured in the same run on the same filesystem:
raw numpy (np.save, np.load(mmap_mode='r')) and DataJoint Python 2.3 (PostgreSQL on 127.0.0.1,
file store; the store is named explicitly because its bare `@` is broken).
Usage: python npy_peers.py <dir> [--datajoint]. Prints one JSON object."""
import json, os, sys, time
import numpy as np

d = sys.argv[1]
out = {"numpy_version": np.__version__}
raw = os.path.join(d, "raw")
os.makedirs(raw, exist_ok=True)

def best(f, n=3):
    return min(f() for _ in range(n))

rows = 65536
big = (np.arange(rows * 1024, dtype=np.float64) % 1000).astype(np.float32).reshape(rows, 1024)

def sync():
    os.sync()


def save():
    sync()
    t = time.perf_counter()
    np.save(os.path.join(raw, "p1.npy"), big)
    return time.perf_counter() - t

out["raw_p1_np_save_256MiB_s"] = best(save)

for label, n in [("16MiB", 4096), ("256MiB", 65536), ("1GiB", 262144)]:
    path = os.path.join(raw, f"p4_{label}.npy")
    np.save(path, (np.arange(n * 1024, dtype=np.float64) % 1000).astype(np.float32).reshape(n, 1024))

    def view():
        t = time.perf_counter()
        a = np.load(path, mmap_mode="r")
        s = float(a[n // 2 - 500 : n // 2 + 500].sum(dtype=np.float64))
        assert np.isfinite(s)
        return time.perf_counter() - t

    out[f"raw_p4_np_load_mmap_read_1000_rows_{label}_s"] = best(view, 5)

if "--datajoint" in sys.argv:
    os.environ.setdefault("DJ_BACKEND", "postgresql")
    os.environ.setdefault("DJ_HOST", "127.0.0.1")
    os.environ.setdefault("DJ_USER", "postgres")
    os.environ.setdefault("DJ_PASS", "postgres")
    import datajoint as dj

    store = os.path.join(d, "dj_store")
    os.makedirs(store, exist_ok=True)
    dj.config["stores"] = {"default": "main", "main": {"protocol": "file", "location": store}}
    out["datajoint_version"] = dj.__version__
    schema = dj.Schema(f"djbench_{os.getpid()}")
    try:

        @schema
        class Rec(dj.Manual):
            definition = """
            id : int32
            ---
            arr : <npy@main>
            """

        def p1():
            sync()
            t = time.perf_counter()
            Rec.insert1({"id": p1.k, "arr": big})
            p1.k += 1
            return time.perf_counter() - t

        p1.k = 0
        out["dj_p1_insert_256MiB_s"] = best(p1)

        def p4():
            ref = (Rec & "id=0").fetch1("arr")
            t = time.perf_counter()
            a = ref.load(mmap_mode="r")
            s = float(a[rows // 2 - 500 : rows // 2 + 500].sum(dtype=np.float64))
            assert np.isfinite(s)
            return time.perf_counter() - t

        out["dj_p4_map_and_read_1000_rows_256MiB_s"] = best(p4, 5)

        @schema
        class Many(dj.Manual):
            definition = """
            id : int32
            ---
            arr : <npy@main>
            """

        small = [np.full((256, 1024), k, dtype=np.float32) for k in range(200)]
        sync()
        t = time.perf_counter()
        Many.insert([{"id": k, "arr": a} for k, a in enumerate(small)])
        out["dj_p2_insert_200x1MiB_s"] = time.perf_counter() - t

        @schema
        class Tiny(dj.Manual):
            definition = """
            id : int32
            ---
            arr : <npy@main>
            """

        Tiny.insert([{"id": k, "arr": np.ones(4, dtype=np.float32)} for k in range(10000)])

        def p3():
            t = time.perf_counter()
            recs = Tiny.to_dicts()
            total = sum(int(np.prod(r["arr"].shape)) for r in recs)
            assert total == 40000, total
            return time.perf_counter() - t

        out["dj_p3_fetch_10000_refs_s"] = best(p3)
    finally:
        schema.drop(prompt=False)

print(json.dumps(out, indent=2))
