"""The query-algebra fixture in DataJoint Python 2.3.5 (run by core/tests/algebra
`query_algebra_matches_datajoint_python`). argv: backend schema fixture.json.
Declares the fixture's tables in `schema`, inserts its rows, evaluates every query and prints one
JSON object: {name: {"pk": [...], "heading": [...], "rows": [...]}} or {name: {"error": msg}}."""
import datetime, decimal, json, sys, uuid, warnings

warnings.filterwarnings("ignore")
backend, schema_name, fixture_path = sys.argv[1:4]
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
fixture = json.load(open(fixture_path))
ctx = {}
schema = dj.Schema(schema_name, context=ctx)
tiers = {"manual": dj.Manual, "lookup": dj.Lookup}
classes = {}
for t in fixture["tables"]:
    if "master" in t:
        continue
    body = {"definition": t["definition"]}
    for p in fixture["tables"]:
        if p.get("master") == t["class"]:
            body[p["class"]] = type(p["class"], (dj.Part,), {"definition": p["definition"]})
    cls = schema(type(t["class"], (tiers[t["tier"]],), body))
    classes[t["class"]] = ctx[t["class"]] = cls
    for p in fixture["tables"]:
        if p.get("master") == t["class"]:
            classes[f"{t['class']}.{p['class']}"] = getattr(cls, p["class"])
for name, rows in fixture["rows"].items():
    classes[name].insert(rows)


def items_args(items):
    pos, named = [], {}
    for s in items:
        if s == "...":
            pos.append(...)
        elif "=" in s and s.split("=", 1)[0].strip().isidentifier():
            k, v = s.split("=", 1)
            named[k.strip()] = v.strip()
        else:
            pos.append(s)
    return pos, named


def restriction(r):
    if isinstance(r, str) and r in classes:
        return ev(r)
    if isinstance(r, (str, dict)):
        return r
    if isinstance(r, list) and all(isinstance(x, dict) for x in r):
        return r
    return ev(r)


def ev(q):
    if isinstance(q, str):
        return classes[q]()
    op, *a = q
    if op == "&":
        return ev(a[0]) & restriction(a[1])
    if op == "-":
        return ev(a[0]) - restriction(a[1])
    if op == "*":
        return ev(a[0]) * ev(a[1])
    if op == "*left":
        return ev(a[0]).join(ev(a[1]), left=True)
    if op == "proj":
        pos, named = items_args(a[1])
        return ev(a[0]).proj(*pos, **named)
    if op == "aggr":
        pos, named = items_args(a[2])
        return ev(a[0]).aggr(ev(a[1]), *pos, exclude_nonmatching=a[3], **named)
    if op == "+":
        return ev(a[0]) + ev(a[1])
    if op == "U":
        return dj.U(*a[0]) & ev(a[1])
    if op == "Uaggr":
        _, named = items_args(a[2])
        return dj.U(*a[0]).aggr(ev(a[1]), **named)
    if op == "top":
        return ev(a[0]) & dj.Top(a[1], a[2], a[3])
    raise ValueError(op)


def plain(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (int, float, decimal.Decimal)) or hasattr(v, "item"):
        return float(v)
    return str(v)


out = {}
for item in fixture["queries"]:
    try:
        q = ev(item["q"])
        rows = [{k: plain(v) for k, v in r.items()} for r in q.to_dicts()]
        out[item["name"]] = {"pk": list(q.primary_key), "heading": list(q.heading.names), "rows": rows}
    except Exception as e:  # noqa: BLE001
        out[item["name"]] = {"error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
