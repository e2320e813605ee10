"""DataJoint Python 2.3.5's side of `dj-bench query`: the same query on the schema the Rust side
declared and filled on PostgreSQL (127.0.0.1), fetched into columns with to_arrays().
Usage: python query_peers.py <schema> [repeats]. Prints one JSON object (DataJoint may log to
stdout before it: read from the last "\n{")."""
import json, sys, time, warnings

warnings.filterwarnings("ignore")
schema, REPEAT = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
import datajoint as dj  # noqa: E402

dj.config["database.backend"] = "postgresql"
dj.config["database.host"] = "127.0.0.1"
dj.config["database.port"] = 5432
dj.config["database.user"] = "postgres"
dj.config["database.password"] = "x"
vm = dj.VirtualModule("vm", schema)
q = vm.Session.aggr(vm.Session.Trial & "t0 > 0.1", n="count(*)", total="sum(t1 - t0)",
                    exclude_nonmatching=True) * (vm.Subject & "species = 'mouse'")
best, rows = float("inf"), 0
for _ in range(REPEAT):
    t0 = time.perf_counter()
    a = q.to_arrays()
    best = min(best, time.perf_counter() - t0)
    rows = len(a)
j = (vm.Subject & "species = 'mouse'") * vm.Session * (vm.Session.Trial & "t0 > 0.1")
jbest, jrows = float("inf"), 0
for _ in range(REPEAT):
    t0 = time.perf_counter()
    a = j.to_arrays()
    jbest = min(jbest, time.perf_counter() - t0)
    jrows = len(a)
print(json.dumps({"fetch_to_arrays_s": best, "rows": rows, "join_fetch_to_arrays_s": jbest, "join_rows": jrows,
                  "sql": q.make_sql()}))
