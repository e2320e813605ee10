"""DataJoint Python 2.3.5's side of the interop test (run by run.sh, in the test venv).

  dj_side.py write   --backend B --schema S --store DIR          declare the dataset, insert it
  dj_side.py check   --dump FILE --schema S                      compare libdatajoint's dump
  dj_side.py read    --backend B --schema S --store DIR          read what libdatajoint wrote
  dj_side.py catalog --backend B --ours S1 --theirs S2           compare the two declarations

Prints "ok <check>" for every check that passed and "FAIL <check>: why" for every one that did
not; exits non-zero if any failed.

Reference bugs worked around on PostgreSQL (datajoint-storage.md §1.5): uuid values cannot be
inserted or fetched by DataJoint Python there (it sends/expects 16 bytes where psycopg2 uses
text), and a JSON value that is a bare string cannot be fetched (psycopg2 parses it, DataJoint
parses it again). Those cells are written and checked with plain SQL instead.
"""

import argparse
import datetime as dt
import decimal
import json
import os
import sys
import uuid
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset  # noqa: E402

warnings.filterwarnings("ignore")
FAILED = []


def ok(what):
    print(f"ok {what}")


def fail(what, why):
    print(f"FAIL {what}: {why}")
    FAILED.append(what)


def check(what, cond, why=""):
    (ok if cond else lambda w: fail(w, why))(what)


def connect(args):
    import datajoint as dj

    pg = args.backend == "postgresql"
    dj.config["database.backend"] = args.backend
    dj.config["database.host"] = os.environ.get("DJ_TEST_HOST", "127.0.0.1")
    dj.config["database.port"] = int(os.environ.get("DJ_TEST_PORT", "5432" if pg else "3306"))
    dj.config["database.user"] = os.environ.get("DJ_TEST_USER", "postgres" if pg else "root")
    dj.config["database.password"] = os.environ.get("DJ_TEST_PASS", "")
    dj.config["safemode"] = False
    if getattr(args, "store", None):
        dj.config["stores"] = {"main": {"protocol": "file", "location": args.store}}
    dj.conn()
    return dj


def q(dj, backend, name):
    return f'"{name}"' if backend == "postgresql" else f"`{name}`"


def full(dj, backend, schema, table):
    return f"{q(dj, backend, schema)}.{q(dj, backend, table)}"


def declare(dj, schema_name):
    ctx = {}
    schema = dj.Schema(schema_name, context=ctx, create_schema=True)
    tiers = {"Lookup": dj.Lookup, "Manual": dj.Manual}
    parts = {m: (c, d) for c, t, d, m in dataset.TABLES if t == "Part"}
    for cls, tier, definition, master in dataset.TABLES:
        if tier == "Part":
            continue
        body = {"definition": definition}
        for part, (pcls, pdef) in [(m, v) for m, v in parts.items() if m == cls]:
            body[pcls] = type(pcls, (dj.Part,), {"definition": pdef})
        c = type(cls, (tiers[tier],), body)
        ctx[cls] = schema(c)
    return schema, ctx


def write(args):
    dj = connect(args)
    schema, ctx = declare(dj, args.schema)
    data = dataset.rows()
    pg = args.backend == "postgresql"
    conn = dj.conn()
    if pg:  # uuid rows with raw SQL: DataJoint Python's own insert fails on PostgreSQL
        for r in data["Device"]:
            conn.query(
                f"INSERT INTO {full(dj, 'postgresql', args.schema, '#device')} (device_id, label) "
                "VALUES (%s::uuid, %s)",
                args=(str(r["device_id"]), r["label"]),
            )
    else:
        ctx["Device"].insert(data["Device"])
    ctx["Subject"].insert(data["Subject"])
    for r in data["Session"]:
        row = dict(r)
        uuids = {k: row.pop(k) for k in ("device_id", "uid")} if pg else {}
        ctx["Session"].insert1(row)
        if pg and any(v is not None for v in uuids.values()):
            sets = ", ".join(f"{k} = %s::uuid" for k in uuids)
            conn.query(
                f"UPDATE {full(dj, 'postgresql', args.schema, 'session')} SET {sets} "
                "WHERE subject_id = %s AND session_id = %s",
                args=tuple(str(v) if v is not None else None for v in uuids.values())
                + (r["subject_id"], r["session_id"]),
            )
    ctx["Session"].Trial.insert(data["Trial"])
    ok(f"DataJoint Python wrote {sum(len(v) for v in data.values())} rows into {args.schema}")


PKS = {
    "#device": ["device_id"],
    "#subject": ["subject_id"],
    "session": ["subject_id", "session_id"],
    "session__trial": ["subject_id", "session_id", "trial"],
}


def parse_dump(path):
    tables, cur, row, refs = {}, None, None, {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "TABLE":
            cur = f[1]
            tables[cur] = []
        elif f[0] == "ROW":
            row = {}
        elif f[0] == "VAL":
            row[f[1]] = f[2]
        elif f[0] == "REF":
            row["__ref__" + f[1]] = f[2:]
        elif f[0] == "END":
            tables[cur].append(row)
    return tables


def same_token(a, b):
    if a == b:
        return True
    if a.startswith("J:") and b.startswith("J:"):
        return json.loads(bytes.fromhex(a[2:])) == json.loads(bytes.fromhex(b[2:]))
    return False


def check_dump(args):
    got = parse_dump(args.dump)
    want = dataset.expected_tokens()
    check("dump lists the tables by name", sorted(got) == sorted(want), f"{sorted(got)}")
    for table, rows in want.items():
        mine = got.get(table, [])
        check(f"{table}: {len(rows)} rows", len(mine) == len(rows), f"got {len(mine)}")
        by_key = {tuple(r[k] for k in PKS[table]): r for r in mine}
        for r in rows:
            key = tuple(r[k] for k in PKS[table])
            m = by_key.get(key)
            if m is None:
                fail(f"{table} {key}", "row missing")
                continue
            for attr, tok in r.items():
                if not same_token(m.get(attr, "<absent>"), tok):
                    fail(f"{table} {key} {attr}", f"{m.get(attr, '<absent>')[:80]} != {tok[:80]}")
                else:
                    ok(f"{table} {key} {attr}")
                ref = m.get("__ref__" + attr)
                if tok.startswith("A:"):
                    _, dtype, shape, _, _ = tok.split(":", 4)
                    check(
                        f"{table} {key} {attr} NpyRef metadata without I/O",
                        ref is not None
                        and ref[0].startswith(f"_schema/{args.schema}/{table}/")
                        and ref[0].endswith(".npy")
                        and ref[1] == "main"
                        and np.dtype(ref[2]) == np.dtype(dtype)
                        and ref[3] == shape
                        and ref[4] == "0",
                        f"{ref}",
                    )
            extra = set(m) - set(r) - {k for k in m if k.startswith("__ref__")}
            check(f"{table} {key}: no unexpected attributes", not extra, f"{extra}")


def norm(value, declared, backend):
    """A value as DataJoint Python 2.3.5 returns it for a declared type, for comparison."""
    if value is None:
        return None
    t = declared.lower()
    if t == "bool":
        return int(value)  # MySQL returns 0/1, PostgreSQL a bool: compare as int
    if t == "float32":
        return float(np.float32(value))
    if t == "bytes":
        return bytes(value)
    if t == "uuid":
        return uuid.UUID(str(value))
    return value


def read(args):
    dj = connect(args)
    pg = args.backend == "postgresql"
    vm = dj.VirtualModule("ours", args.schema)
    check("virtual module spawned every table", all(hasattr(vm, c) for c in ("Device", "Subject", "Session")))
    types = dataset.attribute_types()
    data = dataset.rows()
    conn = dj.conn()
    classes = {"Device": vm.Device, "Subject": vm.Subject, "Session": vm.Session, "Trial": vm.Session.Trial}
    for cls, rows in data.items():
        table = classes[cls]
        attrs = [a for a in types[cls] if not (pg and (types[cls][a] == "uuid" or (cls, a) == ("Session", "doc")))]
        raw = [a for a in types[cls] if a not in attrs]
        pk = PKS[dataset.SQL_NAMES[cls]]
        if any(a in raw for a in pk):
            fetched = None  # a uuid key on PostgreSQL: the whole table through SQL
        else:
            fetched = {tuple(r[k] for k in pk): r for r in table.proj(*[a for a in attrs if a not in pk]).to_dicts()}
            check(f"{cls}: to_dicts() gives {len(rows)} rows", len(fetched) == len(rows), f"{len(fetched)}")
        for r in rows:
            key = tuple(r[k] for k in pk)
            got = fetched.get(key) if fetched is not None else None
            for a in attrs:
                if fetched is None:
                    break
                if got is None:
                    fail(f"{cls} {key}", "row missing")
                    break
                want, have = r[a], got.get(a)
                decl = types[cls][a]
                if decl.startswith("<npy"):
                    if want is None:
                        check(f"{cls} {key} {a}", have is None, f"{have!r}")
                        continue
                    meta_ok = tuple(have.shape) == want.shape and have.dtype == want.dtype
                    arr = have.load()
                    same = (
                        meta_ok
                        and arr.dtype == want.dtype
                        and np.array_equal(arr, want)
                        and (arr.ndim < 2 or arr.flags.f_contiguous == want.flags.f_contiguous)
                    )
                    check(f"{cls} {key} {a} NpyRef.load()", same, f"{have!r} {arr!r}")
                    continue
                check(
                    f"{cls} {key} {a}",
                    norm(have, decl, args.backend) == norm(want, decl, args.backend),
                    f"{have!r} != {want!r}",
                )
            for a in raw:  # PostgreSQL only: the cells DataJoint Python cannot decode there
                sql_table = full(dj, "postgresql", args.schema, dataset.SQL_NAMES[cls])
                where = " AND ".join(f"{k} = %s" for k in pk if k not in raw)
                kv = tuple(r[k] for k in pk if k not in raw)
                if types[cls][a] == "uuid":
                    cond = where or f"{a}::text = %s"
                    args_ = kv or (str(r[a]),)
                    v = conn.query(f"SELECT {a}::text FROM {sql_table} WHERE {cond}", args=args_).fetchall()
                    have = uuid.UUID(v[0][0]) if v and v[0][0] else None
                    check(f"{cls} {key} {a} (SQL)", len(v) == 1 and have == r[a], f"{v}")
                else:
                    v = conn.query(f"SELECT {a}::text FROM {sql_table} WHERE {where}", args=kv).fetchall()
                    have = json.loads(v[0][0]) if v and v[0][0] is not None else None
                    check(f"{cls} {key} {a} (SQL)", have == r[a], f"{v}")
    # fetch1 with a restriction, a join and a semijoin: semantic checks use our ~lineage
    one = (vm.Subject & {"subject_id": 1}).fetch1()
    check("fetch1 by key", one["species"] == "mouse" and one["sex"] == "F", f"{one}")
    sess_attrs = ["started", "note"]
    joined = (vm.Session.proj(*sess_attrs) * vm.Subject.proj("species")).to_dicts()
    check("join Session * Subject (lineage matches)", len(joined) == 4, f"{len(joined)}")
    semi = (vm.Subject & vm.Session.proj()).to_dicts()
    check("semijoin Subject & Session", sorted(r["subject_id"] for r in semi) == [1, 2], f"{semi}")
    parts = (vm.Session.Trial & {"outcome": "hit"}).proj("outcome").to_dicts()
    check("part restricted by enum value", len(parts) == 2, f"{parts}")
    try:
        lin = conn.query(
            f"SELECT table_name, attribute_name, lineage FROM {full(dj, args.backend, args.schema, '~lineage')}"
        ).fetchall()
        got = {(t, a): l for t, a, l in lin}
        want = {
            ("session", "buddy_id"): f"{args.schema}.#subject.subject_id",
            ("session", "subject_id"): f"{args.schema}.#subject.subject_id",
            ("session", "device_id"): f"{args.schema}.#device.device_id",
            ("session__trial", "session_id"): f"{args.schema}.session.session_id",
            ("#subject", "subject_id"): f"{args.schema}.#subject.subject_id",
        }
        check("~lineage rows", all(got.get(k) == v for k, v in want.items()), f"{got}")
    except Exception as e:  # noqa: BLE001
        fail("~lineage rows", repr(e))
    try:
        d = dj.Diagram(dj.Schema(args.schema, create_schema=False))
        nodes = set(d.nodes()) if hasattr(d, "nodes") else set()
        check("Diagram of our schema", len(nodes) >= 4, f"{nodes}")
    except Exception as e:  # noqa: BLE001
        fail("Diagram of our schema", repr(e))


def catalog_rows(dj, backend, schema):
    """Normalised catalog of a schema: tables, columns, keys, foreign keys, indexes, comments."""
    conn = dj.conn()
    out = set()
    if backend == "postgresql":
        for t, c in conn.query(
            "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            args=(schema,),
        ).fetchall():
            out.add(("table", t, c))
        for row in conn.query(
            "SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "coalesce(pg_get_expr(d.adbin, d.adrelid), '<none>'), coalesce(col_description(c.oid, a.attnum), '<null>') "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            args=(schema,),
        ).fetchall():
            out.add(("column",) + tuple(str(x).replace(schema, "<S>") for x in row))
        for row in conn.query(
            "SELECT c.relname, pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
            args=(schema,),
        ).fetchall():
            out.add(("constraint", row[0], row[1].replace(schema, "<S>")))
        for row in conn.query(
            "SELECT tablename, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') FROM pg_indexes WHERE schemaname = %s",
            args=(schema,),
        ).fetchall():
            out.add(("index", row[0], row[1].replace(schema, "<S>")))
        for row in conn.query(
            "SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid "
            "WHERE n.nspname = %s GROUP BY t.typname",
            args=(schema,),
        ).fetchall():
            out.add(("enum",) + tuple(row))
    else:
        for t, e, c in conn.query(
            "SELECT TABLE_NAME, ENGINE, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            args=(schema,),
        ).fetchall():
            out.add(("table", t, e, c))
        for row in conn.query(
            "SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, coalesce(COLUMN_DEFAULT, '<none>'), "
            "COLUMN_COMMENT, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s",
            args=(schema,),
        ).fetchall():
            out.add(("column",) + tuple(str(x) for x in row))
        for row in conn.query(
            "SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, "
            "r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
            "ON r.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
            "WHERE k.TABLE_SCHEMA = %s",
            args=(schema,),
        ).fetchall():
            out.add(("fk",) + tuple(row))
        for row in conn.query(
            "SELECT TABLE_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = %s GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE",
            args=(schema,),
        ).fetchall():
            out.add(("index",) + tuple(str(x) for x in row))
    lin = conn.query(
        f"SELECT table_name, attribute_name, lineage FROM {full(dj, backend, schema, '~lineage')}"
    ).fetchall()
    for t, a, l in lin:
        out.add(("lineage", t, a, l.replace(schema, "<S>")))
    return out


def catalog(args):
    dj = connect(args)
    ours = catalog_rows(dj, args.backend, args.ours)
    theirs = catalog_rows(dj, args.backend, args.theirs)
    for item in sorted(theirs | ours):
        label = " ".join(item[:3])
        if item in ours and item in theirs:
            ok(f"catalog {label}")
        elif item in theirs:
            fail(f"catalog {label}", f"DataJoint Python has {item}, we do not")
        else:
            fail(f"catalog {label}", f"we have {item}, DataJoint Python does not")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["write", "check", "read", "catalog"])
    p.add_argument("--backend", default="postgresql")
    p.add_argument("--schema")
    p.add_argument("--store")
    p.add_argument("--dump")
    p.add_argument("--ours")
    p.add_argument("--theirs")
    args = p.parse_args()
    {"write": write, "check": check_dump, "read": read, "catalog": catalog}[args.command](args)
    if FAILED:
        print(f"{len(FAILED)} interop checks failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
