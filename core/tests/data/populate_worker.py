"""A DataJoint Python 2.3.5 worker on the schema of core/tests/populate (and bench/run
populate). argv: backend schema mode tag.

mode "work": populate Result with reserve_jobs (and suppress_errors), after printing "ready"
and waiting for the file $DJ_CHILD_GO; prints "success errors 0".
mode "inspect": prints the jobs table's error jobs and status counts as JSON.
mode "bench": like work, with a trivial make (Bench table) and no failing key; prints the
seconds the populate took as the last line.
"""
import json, os, sys, time, warnings

warnings.filterwarnings("ignore")
backend, schema_name, mode, tag = sys.argv[1:5]
import logging  # noqa: E402

logging.disable(logging.WARNING)
import datajoint as dj  # noqa: E402

pg = backend == "postgresql"
dj.config["database.backend"] = backend
dj.config["database.host"] = "127.0.0.1"
dj.config["database.port"] = 5432 if pg else 3306
dj.config["database.user"] = "postgres" if pg else "root"
dj.config["database.password"] = "x" if pg else ""
dj.config["safemode"] = False
ctx = {}
schema = dj.Schema(schema_name, context=ctx, create_schema=False)


@schema
class Source(dj.Manual):
    definition = "src_id : int32\n---\nvalue : float64"


ctx["Source"] = Source

if mode == "bench":

    @schema
    class Bench(dj.Computed):
        definition = "-> Source\n---\nv : float64"

        def make(self, key):
            self.insert1({**key, "v": 1.0})

    target = Bench
else:

    @schema
    class Result(dj.Computed):
        definition = "-> Source\n---\nworker : varchar(32)\nvalue2 : float64"

        def make(self, key):
            time.sleep(0.002)
            if key["src_id"] == 13:
                raise ValueError("key 13 refused")
            v = (Source & key).fetch1("value")
            self.insert1({**key, "worker": tag, "value2": v * 2})

    target = Result

if mode == "inspect":
    errors = target.jobs.errors.fetch(as_dict=True, order_by="src_id")
    out = {
        "errors": [
            {
                "src_id": e["src_id"],
                "error_message": e["error_message"],
                "error_stack": e["error_stack"],
                "status": e["status"],
            }
            for e in errors
        ],
        "progress": target.jobs.progress(),
    }
    print(json.dumps(out, default=str))
    sys.exit(0)

target.jobs  # declared here if it is not yet
go = os.environ.get("DJ_CHILD_GO")
if go:
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
t0 = time.perf_counter()
# the bench driver refreshes once for every worker
r = target.populate(reserve_jobs=True, suppress_errors=True, refresh=mode != "bench")
elapsed = time.perf_counter() - t0
print(f"{r['success_count']} {len(r['error_list'])} 0", flush=True)
if mode == "bench":
    print(f"{elapsed:.6f}", flush=True)
