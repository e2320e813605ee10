"""DataJoint Python 2.3.5 workers on the schema of `dj-bench populate` (PostgreSQL): 10,000
trivial jobs populated by 1, 2 and 4 worker processes (core/tests/data/populate_worker.py in
"bench" mode), after one `jobs.refresh()` each round. argv: schema. Prints one JSON object."""
import json, os, subprocess, sys, tempfile, time, warnings

warnings.filterwarnings("ignore")
import logging  # noqa: E402

logging.disable(logging.WARNING)
import datajoint as dj  # noqa: E402

schema_name = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
worker = os.path.join(here, "..", "core", "tests", "data", "populate_worker.py")
for k, v in {"database.backend": "postgresql", "database.host": "127.0.0.1", "database.port": 5432,
             "database.user": "postgres", "database.password": "x", "safemode": False}.items():
    dj.config[k] = v
ctx = {}
schema = dj.Schema(schema_name, context=ctx, create_schema=False)


@schema
class Source(dj.Manual):
    definition = "src_id : int32\n---\nvalue : float64"


ctx["Source"] = Source


@schema
class Bench(dj.Computed):
    definition = "-> Source\n---\nv : float64"

    def make(self, key):
        self.insert1({**key, "v": 1.0})


keys = len(Source())
out = {"keys": keys, "workers": {}}
refresh = []
with tempfile.TemporaryDirectory() as d:
    for n in (1, 2, 4):
        Bench.delete_quick()
        Bench.jobs.delete_quick()
        t0 = time.perf_counter()
        Bench.jobs.refresh()
        refresh.append(time.perf_counter() - t0)
        go = os.path.join(d, f"go{n}")
        env = dict(os.environ, DJ_CHILD_GO=go)
        procs = [subprocess.Popen([sys.executable, worker, "postgresql", schema_name, "bench", f"py-{i}"],
                                  stdout=subprocess.PIPE, text=True, env=env) for i in range(n)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        t0 = time.perf_counter()
        open(go, "w").close()
        made = []
        for p in procs:
            lines = p.stdout.read().split()
            assert p.wait() == 0
            made.append(int(lines[0]))
        wall = time.perf_counter() - t0
        assert sum(made) == keys, made
        assert len(Bench()) == keys
        out["workers"][str(n)] = {"wall_s": wall, "jobs_per_s": keys / wall, "per_job_ms": wall * 1e3 / keys,
                                  "made_per_worker": made}
out["refresh_10k_s"] = min(refresh)
Bench.delete_quick()
Bench.jobs.delete_quick()
print(json.dumps(out))
