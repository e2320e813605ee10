"""DataJoint Python 2.3.5's side of `dj-bench blob` on PostgreSQL (127.0.0.1) + a file store:
the same 200 x 1 MiB random float64 arrays inserted as <blob@main> in one call, fetched; one
256 MiB array of zeros. Usage: python blob_peers.py <store-dir> <schema>. Prints one JSON object
(DataJoint may log to stdout before it: read from the last "\n{")."""
import json, os, sys, time, warnings

import numpy as np

warnings.filterwarnings("ignore")
store, schema_name = sys.argv[1], sys.argv[2]
import datajoint as dj  # noqa: E402

dj.config["database.backend"] = "postgresql"
dj.config["database.host"] = "127.0.0.1"
dj.config["database.port"] = 5432
dj.config["database.user"] = "postgres"
dj.config["database.password"] = "x"
dj.config["safemode"] = False
os.makedirs(store, exist_ok=True)
dj.config["stores"] = {"main": {"protocol": "file", "location": store}}
schema = dj.Schema(schema_name)


@schema
class Raw(dj.Manual):
    definition = """
    id : int32
    ---
    x : <blob@main>
    """


rng = np.random.default_rng(1)
rows = [dict(id=i, x=rng.random((1 << 17, 1))) for i in range(200)]
out = {}
t0 = time.perf_counter()
Raw.insert(rows)
out["dj_insert_200x1MiB_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
got = Raw.to_arrays("x")
out["dj_fetch_decode_200x1MiB_s"] = time.perf_counter() - t0
assert len(got) == 200
t0 = time.perf_counter()
Raw.insert1(dict(id=1000, x=np.zeros((32 << 20, 1))))
out["dj_insert_zeros_256MiB_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
(Raw & "id = 1000").fetch1("x")
out["dj_fetch_zeros_256MiB_s"] = time.perf_counter() - t0
schema.drop()
print(json.dumps(out))
