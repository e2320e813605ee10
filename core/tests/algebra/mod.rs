//! The query algebra on the shared fixture (tests/data/query_fixture.json): every query's
//! result compared with the one DataJoint Python 2.3.5 computes on the same PostgreSQL schema,
//! and the same queries on DuckDB and MariaDB over the fixture declared by us; the compiler's
//! SQL, bad input, cascading delete, update1 and drop.

use crate::support::{self, for_each_backend, TestDb};
use datajoint_core::value::{format_date, format_datetime};
use datajoint_core::*;
use serde_json::{json, Value as J};
use std::collections::HashMap;
use std::path::Path;

fn fixture() -> J {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/query_fixture.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Declare the fixture's tables in `schema` and insert its rows.
fn declare_fixture(schema: &Schema, fx: &J) -> HashMap<String, Table> {
    let mut tables: HashMap<String, Table> = HashMap::new();
    for t in fx["tables"].as_array().unwrap() {
        let class = t["class"].as_str().unwrap();
        let def = t["definition"].as_str().unwrap();
        let (key, table) = match t.get("master").and_then(|m| m.as_str()) {
            Some(m) => (
                format!("{m}.{class}"),
                schema.declare_part(&tables[m], class, def).unwrap(),
            ),
            None => {
                let tier = match t["tier"].as_str().unwrap() {
                    "lookup" => Tier::Lookup,
                    _ => Tier::Manual,
                };
                (class.to_string(), schema.declare(class, tier, def).unwrap())
            }
        };
        tables.insert(key, table);
    }
    for (name, rows) in fx["rows"].as_object().unwrap() {
        let rows: Vec<Row> = rows.as_array().unwrap().iter().map(json_row).collect();
        tables[name]
            .insert_rows(&rows, InsertOptions::default())
            .unwrap();
    }
    tables
}

fn json_value(v: &J) -> Value {
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
        J::Number(n) => Value::Float(n.as_f64().unwrap()),
        J::String(s) => Value::String(s.clone()),
        other => panic!("unsupported fixture value {other}"),
    }
}

fn json_row(r: &J) -> Row {
    let mut row = Row::new();
    for (k, v) in r.as_object().unwrap() {
        row.set(k, json_value(v));
    }
    row
}

fn restriction(tables: &HashMap<String, Table>, r: &J) -> Result<Restriction> {
    Ok(match r {
        J::String(s) if tables.contains_key(s) => Restriction::Query(eval(tables, r)?),
        J::String(s) => Restriction::Sql(s.clone()),
        J::Object(_) => Restriction::Key(json_row(r)),
        J::Array(a) if a.iter().all(|x| x.is_object()) => {
            Restriction::Or(a.iter().map(|x| Restriction::Key(json_row(x))).collect())
        }
        _ => Restriction::Query(eval(tables, r)?),
    })
}

fn strs(v: &J) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Evaluate a query of the fixture's expression language.
fn eval(tables: &HashMap<String, Table>, q: &J) -> Result<Query> {
    if let J::String(name) = q {
        return tables[name.as_str()].query();
    }
    let a = q.as_array().unwrap();
    let op = a[0].as_str().unwrap();
    let items = |i: usize| strs(&a[i]);
    let refs = |v: &Vec<String>| -> Vec<String> { v.clone() };
    match op {
        "&" => eval(tables, &a[1])?.restrict(&restriction(tables, &a[2])?),
        "-" => eval(tables, &a[1])?.exclude(&restriction(tables, &a[2])?),
        "*" => eval(tables, &a[1])?.join(&eval(tables, &a[2])?),
        "*left" => eval(tables, &a[1])?.join_with(&eval(tables, &a[2])?, true, true),
        "proj" => {
            let it = refs(&items(2));
            let it: Vec<&str> = it.iter().map(|s| s.as_str()).collect();
            eval(tables, &a[1])?.proj(&it)
        }
        "aggr" => {
            let it = items(3);
            let it: Vec<&str> = it.iter().map(|s| s.as_str()).collect();
            eval(tables, &a[1])?.aggr(&eval(tables, &a[2])?, &it, a[4].as_bool().unwrap())
        }
        "+" => eval(tables, &a[1])?.union(&eval(tables, &a[2])?),
        "U" => U::new(&items(1)).restrict(&eval(tables, &a[2])?),
        "Uaggr" => {
            let it = items(3);
            let it: Vec<&str> = it.iter().map(|s| s.as_str()).collect();
            U::new(&items(1)).aggr(&eval(tables, &a[2])?, &it)
        }
        "top" => eval(tables, &a[1])?.top(&Top {
            limit: a[2].as_u64(),
            order_by: a[3].as_str().map(str::to_string),
            offset: a[4].as_u64().unwrap_or(0),
        }),
        other => panic!("unknown operator {other}"),
    }
}

/// A value as the Python side prints it: numbers as floats, dates as ISO text.
fn plain(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => json!(*b as i64 as f64),
        Value::Int(i) => json!(*i as f64),
        Value::UInt(u) => json!(*u as f64),
        Value::Float(f) => json!(f),
        Value::Decimal(d) => json!(d.parse::<f64>().unwrap()),
        Value::String(s) => json!(s),
        Value::Date(d) => json!(format_date(*d)),
        Value::Datetime(t) => json!(format_datetime(*t)),
        other => json!(format!("{other:?}")),
    }
}

/// Rows as sorted canonical text (floats rounded), for comparing results as multisets.
fn canonical(rows: &[J]) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut items: Vec<(String, String)> = r
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let t = match v {
                        J::Number(n) => format!("{:.6}", n.as_f64().unwrap()),
                        other => other.to_string(),
                    };
                    (k.clone(), t)
                })
                .collect();
            items.sort();
            format!("{items:?}")
        })
        .collect();
    out.sort();
    out
}

fn result_json(q: &Query) -> Result<J> {
    let rs = q.fetch(&FetchOptions::default())?;
    let rows: Vec<J> = (0..rs.nrows)
        .map(|i| {
            let r = rs.row(i);
            J::Object(
                r.values
                    .iter()
                    .map(|(k, v)| (k.clone(), plain(v)))
                    .collect(),
            )
        })
        .collect();
    Ok(json!({"pk": q.primary_key(), "heading": q.names(), "rows": rows}))
}

/// Compare every fixture query on `tables` with the reference's results; returns failures.
fn compare_all(
    backend: &str,
    tables: &HashMap<String, Table>,
    expected: &J,
    fx: &J,
) -> Vec<String> {
    let mut bad = Vec::new();
    for item in fx["queries"].as_array().unwrap() {
        let name = item["name"].as_str().unwrap();
        let exp = &expected[name];
        let got = eval(tables, &item["q"]).and_then(|q| result_json(&q));
        let expect_error = item.get("error").is_some_and(|e| e.as_bool() == Some(true));
        if item.get("reference_bug").is_some() {
            // the reference is wrong here: check our own result against the fixture's
            let want = item["expect_rows"].as_u64().unwrap() as usize;
            match eval(tables, &item["q"]).and_then(|q| q.count()) {
                Ok(n) if n as usize == want => {}
                other => bad.push(format!(
                    "{backend} {name}: expected {want} rows, got {other:?}"
                )),
            }
            continue;
        }
        match (got, exp.get("error")) {
            (Err(_), Some(_)) if expect_error => {}
            (Err(e), None) => bad.push(format!(
                "{backend} {name}: we fail ({e}), the reference does not"
            )),
            (Err(e), Some(m)) => bad.push(format!(
                "{backend} {name}: both fail, unexpectedly: {e} / {m}"
            )),
            (Ok(_), Some(m)) => bad.push(format!(
                "{backend} {name}: the reference fails ({m}), we do not"
            )),
            (Ok(g), None) => {
                if g["pk"] != exp["pk"] {
                    bad.push(format!(
                        "{backend} {name}: primary key {} vs {}",
                        g["pk"], exp["pk"]
                    ));
                }
                if g["heading"] != exp["heading"] {
                    bad.push(format!(
                        "{backend} {name}: heading {} vs {}",
                        g["heading"], exp["heading"]
                    ));
                }
                let (a, b) = (
                    canonical(g["rows"].as_array().unwrap()),
                    canonical(exp["rows"].as_array().unwrap()),
                );
                if a != b {
                    bad.push(format!(
                        "{backend} {name}: rows\n  ours {a:?}\n  ref  {b:?}"
                    ));
                }
            }
        }
    }
    bad
}

/// Python's results on a schema it declared on PostgreSQL (None without DJ_TEST_PYTHON).
fn reference_results(db: &TestDb, fx: &J) -> Option<(String, J)> {
    let Some(python) = std::env::var_os("DJ_TEST_PYTHON") else {
        assert!(
            !ci(),
            "CI must run the query interop test: set DJ_TEST_PYTHON"
        );
        eprintln!("skipping the comparison with DataJoint Python: DJ_TEST_PYTHON is not set");
        return None;
    };
    let _ = fx;
    let schema = db.schema_name("qalg");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/query_interop.py");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/query_fixture.json");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg("postgresql")
        .arg(&schema)
        .arg(fixture)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "query_interop.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    Some((schema, serde_json::from_str(last).unwrap()))
}

#[test]
fn query_algebra_matches_datajoint_python() {
    let fx = fixture();
    let pg = TestDb::open("postgresql");
    let Some((schema, expected)) = reference_results(&pg, &fx) else {
        return;
    };
    let bad = std::cell::RefCell::new(Vec::new());
    // the schema DataJoint Python declared and filled, read by us
    let s = pg.conn.schema(&schema, false).unwrap();
    let mut tables = HashMap::new();
    for t in fx["tables"].as_array().unwrap() {
        let class = t["class"].as_str().unwrap();
        let key = match t.get("master").and_then(|m| m.as_str()) {
            Some(m) => format!("{m}.{class}"),
            None => class.to_string(),
        };
        tables.insert(key.clone(), s.table(&key).unwrap());
    }
    bad.borrow_mut().extend(compare_all(
        "postgresql(python-declared)",
        &tables,
        &expected,
        &fx,
    ));
    // the same fixture declared by us, on every backend
    for_each_backend(|db| {
        let s = db.schema("qalg_ours");
        let tables = declare_fixture(&s, &fx);
        bad.borrow_mut()
            .extend(compare_all(&db.backend, &tables, &expected, &fx));
    });
    let bad = bad.into_inner();
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

// ---------------------------------------------------------------- cascade, update1, drop

/// A four-level pipeline with parts and `<npy@>` values in a local store.
struct Pipeline {
    db: TestDb,
    schema: Schema,
    subject: Table,
    session: Table,
    trial: Table,
    rec: Table,
    unit: Table,
    store: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn arr(v: i16) -> Value {
    use datajoint_core::npy::Dtype;
    let bytes: Vec<u8> = (0..4).flat_map(|k| (v + k).to_le_bytes()).collect();
    Value::Array(datajoint_core::value::ArrayValue::new(
        Dtype::Int16,
        vec![4],
        false,
        bytes,
    ))
}

fn pipeline(backend: &str) -> Pipeline {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let extra = json!({"stores": {"default": "main", "main": {"protocol": "file", "location": store.to_str().unwrap()}}});
    let db = TestDb::open_with(backend, &extra.to_string());
    let schema = db.schema("cascade");
    let subject = schema
        .declare(
            "Subject",
            Tier::Manual,
            "subject_id: int32\n---\nname: varchar(20)\n",
        )
        .unwrap();
    let session = schema
        .declare(
            "Session",
            Tier::Manual,
            "-> Subject\nsession: int16\n---\nnote = 'none': varchar(20)\n",
        )
        .unwrap();
    let trial = schema
        .declare_part(&session, "Trial", "-> master\ntrial: int16\n")
        .unwrap();
    let rec = schema
        .declare(
            "Rec",
            Tier::Manual,
            "-> Session.Trial\n---\ndata: <npy@>\nquality = 1.0: float64\n",
        )
        .unwrap();
    let unit = schema
        .declare_part(
            &rec,
            "Unit",
            "-> master\nunit: int16\n---\nspikes: <npy@>\n",
        )
        .unwrap();
    for s in 1..=2 {
        subject
            .insert1(
                &Row::new()
                    .with("subject_id", s)
                    .with("name", format!("s{s}")),
                InsertOptions::default(),
            )
            .unwrap();
        for se in 1..=2 {
            session
                .insert1(
                    &Row::new().with("subject_id", s).with("session", se),
                    InsertOptions::default(),
                )
                .unwrap();
            for t in 1..=3 {
                let key = Row::new()
                    .with("subject_id", s)
                    .with("session", se)
                    .with("trial", t);
                trial.insert1(&key, InsertOptions::default()).unwrap();
                rec.insert1(
                    &key.clone().with("data", arr(t as i16)),
                    InsertOptions::default(),
                )
                .unwrap();
                for u in 1..=2 {
                    unit.insert1(
                        &key.clone().with("unit", u).with("spikes", arr(u as i16)),
                        InsertOptions::default(),
                    )
                    .unwrap();
                }
            }
        }
    }
    Pipeline {
        db,
        schema,
        subject,
        session,
        trial,
        rec,
        unit,
        store,
        _dir: dir,
    }
}

fn files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += files(&p);
            } else {
                n += 1;
            }
        }
    }
    n
}

fn counts(p: &Pipeline) -> [u64; 5] {
    [
        p.subject.count().unwrap(),
        p.session.count().unwrap(),
        p.trial.count().unwrap(),
        p.rec.count().unwrap(),
        p.unit.count().unwrap(),
    ]
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> ErrorCode {
    r.expect_err("expected an error").code
}

/// A server-side failure in the middle of a cascade: a trigger on `table` that refuses
/// deletes (after its dependents' rows are already gone in the transaction).
fn refuse_deletes(backend: &str, schema: &str, table: &str) -> Option<String> {
    match backend {
        "postgresql" => {
            support::raw_sql(backend, &format!(
                "CREATE FUNCTION \"{schema}\".refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse BEFORE DELETE ON \"{schema}\".\"{table}\" FOR EACH ROW EXECUTE FUNCTION \"{schema}\".refuse();"));
            Some(format!("DROP TRIGGER refuse ON \"{schema}\".\"{table}\""))
        }
        "mysql" => {
            support::raw_sql(backend, &format!(
                "CREATE TRIGGER `{schema}`.refuse BEFORE DELETE ON `{schema}`.`{table}` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'"));
            Some(format!("DROP TRIGGER `{schema}`.refuse"))
        }
        _ => None,
    }
}

#[test]
fn cascading_delete_update1_and_drop() {
    for b in support::backends() {
        eprintln!("-- backend {b}");
        let p = pipeline(&b);
        let all = counts(&p);
        assert_eq!(all, [2, 4, 12, 12, 24]);
        let nfiles = files(&p.store);
        assert_eq!(nfiles, 36);

        // the preview counts what a delete would take, per table, and deletes nothing
        let s1 = p
            .subject
            .restrict_key(&Row::new().with("subject_id", 1))
            .unwrap();
        let preview = s1
            .delete_with(&DeleteOptions {
                dry_run: true,
                ..Default::default()
            })
            .unwrap();
        assert!(preview.dry_run);
        let per: HashMap<String, u64> = preview
            .tables
            .iter()
            .map(|(_, t, n)| (t.clone(), *n))
            .collect();
        assert_eq!(per["subject"], 1);
        assert_eq!(per["session"], 2);
        assert_eq!(per["session__trial"], 6);
        assert_eq!(per["rec"], 6);
        assert_eq!(per["rec__unit"], 12);
        assert_eq!(preview.total(), 27);
        assert_eq!(counts(&p), all);

        // a failure midway (after units, recs and trials went) leaves every row and object:
        // injected in the library on every backend (DuckDB puts rows back, the servers roll
        // back) ...
        let r = s1.delete_with(&DeleteOptions {
            inject_failure_after: Some(3),
            ..Default::default()
        });
        assert!(r.unwrap_err().message.contains("injected failure"));
        assert_eq!(counts(&p), all, "a failed cascade left partial deletes");
        assert_eq!(files(&p.store), nfiles, "a failed cascade removed objects");
        // ... and by the server itself, from a trigger
        let sname = p.schema.name().to_string();
        if let Some(undo) = refuse_deletes(&b, &sname, "session") {
            assert!(s1.delete().is_err());
            assert_eq!(counts(&p), all, "a failed cascade left partial deletes");
            assert_eq!(files(&p.store), nfiles, "a failed cascade removed objects");
            support::raw_sql(&b, &undo);
        }

        // part integrity: a part's rows alone are refused by default ...
        let t = p
            .trial
            .restrict_key(
                &Row::new()
                    .with("subject_id", 2)
                    .with("session", 1)
                    .with("trial", 1),
            )
            .unwrap();
        assert_eq!(code(t.delete()), ErrorCode::Integrity);
        assert_eq!(counts(&p), all);
        // ... go with their dependents when ignored ...
        let r = t
            .delete_with(&DeleteOptions {
                part_integrity: PartIntegrity::Ignore,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.root_count(), 1);
        assert_eq!(counts(&p), [2, 4, 11, 11, 22]);
        // ... and take their master (with all its parts) when cascading
        let t = p
            .trial
            .restrict_key(
                &Row::new()
                    .with("subject_id", 2)
                    .with("session", 2)
                    .with("trial", 2),
            )
            .unwrap();
        let r = t
            .delete_with(&DeleteOptions {
                part_integrity: PartIntegrity::Cascade,
                ..Default::default()
            })
            .unwrap();
        let per: HashMap<String, u64> = r.tables.iter().map(|(_, t, n)| (t.clone(), *n)).collect();
        assert_eq!(per["session"], 1);
        assert_eq!(per["session__trial"], 3);
        assert_eq!(counts(&p), [2, 3, 8, 8, 16]);
        // deleting a master with its parts passes the check
        let rec_row = p
            .rec
            .restrict_key(
                &Row::new()
                    .with("subject_id", 2)
                    .with("session", 1)
                    .with("trial", 2),
            )
            .unwrap();
        assert_eq!(rec_row.delete().unwrap(), 1);
        assert_eq!(counts(&p), [2, 3, 8, 7, 14]);
        assert_eq!(files(&p.store), 7 + 14);

        // the cascade from the top: every dependent row and every object, in one go
        let r = s1.delete_with(&DeleteOptions::default()).unwrap();
        assert_eq!(r.root_count(), 1);
        assert_eq!(r.total(), 27);
        assert_eq!(counts(&p), [1, 1, 2, 1, 2]);
        assert_eq!(files(&p.store), 3, "objects of deleted rows stay behind");

        // restriction by a query, then delete: sessions that have a rec
        let with_rec = p
            .session
            .restrict(&Restriction::Query(p.rec.query().unwrap()))
            .unwrap();
        assert_eq!(with_rec.count().unwrap(), 1);

        // update1: a new array replaces the old object; NULL resets to the default
        let key = Row::new()
            .with("subject_id", 2)
            .with("session", 1)
            .with("trial", 3);
        p.rec
            .update1(&key.clone().with("data", arr(100)).with("quality", 0.5))
            .unwrap();
        let q = p.rec.restrict_key(&key).unwrap();
        let rs = q.fetch(&FetchOptions::default()).unwrap();
        assert_eq!(rs.column("quality").unwrap().value(0), Value::Float(0.5));
        let r = p.rec.npyref(&rs, "data", 0).unwrap();
        let loaded = r.load().unwrap();
        assert_eq!(&loaded.data()[..2], &100i16.to_le_bytes());
        assert_eq!(files(&p.store), 3, "update1 left the old object behind");
        p.rec
            .update1(&key.clone().with("quality", Value::Null))
            .unwrap();
        let rs = q.fetch(&FetchOptions::default()).unwrap();
        assert_eq!(rs.column("quality").unwrap().value(0), Value::Float(1.0));
        p.session
            .update1(
                &Row::new()
                    .with("subject_id", 2)
                    .with("session", 1)
                    .with("note", "it's \"quoted\""),
            )
            .unwrap();
        assert_eq!(
            code(
                p.rec.update1(
                    &Row::new()
                        .with("subject_id", 9)
                        .with("session", 1)
                        .with("trial", 1)
                        .with("quality", 2.0)
                )
            ),
            ErrorCode::NotFound
        );
        assert_eq!(
            code(
                p.rec
                    .update1(&Row::new().with("subject_id", 2).with("quality", 2.0))
            ),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(q.update1(&key.clone().with("quality", 2.0))),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(p.rec.update1(&key.clone().with("nope", 2.0))),
            ErrorCode::UnknownAttribute
        );
        assert_eq!(
            code(p.rec.update1(&key.clone().with("quality", "x"))),
            ErrorCode::Type
        );
        assert_eq!(files(&p.store), 3);

        // a table restricted by its own dependents: its keys are fixed before they go
        let by_dep = p
            .subject
            .restrict(&Restriction::Query(
                p.trial
                    .query()
                    .unwrap()
                    .restrict(&Restriction::Sql("trial = 3".into()))
                    .unwrap(),
            ))
            .unwrap();
        let r = by_dep.delete_with(&DeleteOptions::default());
        let r = r.unwrap();
        assert_eq!(r.root_count(), 1, "{r:?}");
        assert_eq!(counts(&p), [0, 0, 0, 0, 0]);
        assert_eq!(files(&p.store), 0);

        // drop in dependency order: the session table takes its part and the recs along
        p.session.drop().unwrap();
        let left = p.schema.list_tables().unwrap();
        assert_eq!(left, vec!["subject".to_string()], "{left:?}");
        p.schema.drop().unwrap();
        drop(p.db);
    }
}

#[test]
fn schema_drop_orders_tables_by_dependency() {
    for_each_backend(|db| {
        let s = db.schema("dropord");
        let fx = fixture();
        let _ = declare_fixture(&s, &fx);
        assert_eq!(s.list_tables().unwrap().len(), 8);
        s.drop().unwrap();
        assert!(db.conn.schema(s.name(), false).is_err() || db.backend == "duckdb");
    });
}

#[test]
fn compiled_sql_fetch_variants_and_bad_input() {
    for_each_backend(|db| {
        let s = db.schema("qsql");
        let fx = fixture();
        let t = declare_fixture(&s, &fx);
        let (subject, session, trial) = (
            t["Subject"].query().unwrap(),
            t["Session"].query().unwrap(),
            t["Session.Trial"].query().unwrap(),
        );
        // a join of tables and its restriction need no subquery; a restriction of a computed
        // attribute needs exactly one
        let j = subject.join(&session).unwrap();
        let sql = j
            .restrict(&Restriction::Sql("species = 'rat'".into()))
            .unwrap()
            .sql()
            .unwrap();
        assert!(!sql.contains("(SELECT"), "{sql}");
        assert!(sql.contains("USING"), "{sql}");
        let p = trial
            .proj(&["dur=t1-t0"])
            .unwrap()
            .restrict(&Restriction::Sql("dur > 1".into()))
            .unwrap();
        assert_eq!(
            p.sql().unwrap().matches("(SELECT").count(),
            1,
            "{}",
            p.sql().unwrap()
        );
        // a key value is a parameter, never SQL text
        let inj = subject
            .restrict(&Restriction::Key(
                Row::new().with("species", "x' OR 1=1 --"),
            ))
            .unwrap();
        assert!(!inj.sql().unwrap().contains("OR 1=1"));
        assert_eq!(inj.count().unwrap(), 0);

        // computed attributes take the kind of what the server computes
        let a = subject
            .aggr(
                &session,
                &[
                    "n=count(session)",
                    "avg_d=avg(duration)",
                    "first=min(session_date)",
                ],
                false,
            )
            .unwrap();
        let rs = a
            .fetch(&FetchOptions {
                order_by: Some("KEY".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rs.column("n").unwrap().data.kind(), Kind::Int64);
        assert_eq!(rs.column("avg_d").unwrap().data.kind(), Kind::Float64);
        assert_eq!(rs.column("first").unwrap().data.kind(), Kind::Date);
        assert_eq!(rs.column("n").unwrap().value(2), Value::Int(3));
        assert_eq!(rs.column("avg_d").unwrap().value(0), Value::Float(37.5));
        assert_eq!(a.count().unwrap(), 5);

        // fetch variants on any expression
        let one = j
            .restrict(&Restriction::Key(
                Row::new().with("subject_id", 3).with("session", 2),
            ))
            .unwrap();
        let r = one.fetch1(&FetchOptions::default()).unwrap();
        assert_eq!(
            r.column("species").unwrap().value(0),
            Value::String("rat".into())
        );
        assert_eq!(
            code(j.fetch1(&FetchOptions::default())),
            ErrorCode::NotUnique
        );
        assert_eq!(
            j.keys(&FetchOptions::default()).unwrap().attributes.len(),
            2
        );
        assert!(j
            .contains(&Row::new().with("subject_id", 3).with("session", 3))
            .unwrap());
        assert!(!j.contains(&Row::new().with("subject_id", 5)).unwrap());
        let top = session
            .top(&Top {
                limit: Some(3),
                order_by: Some("session_date DESC".into()),
                offset: 0,
            })
            .unwrap();
        let rs = top
            .fetch(&FetchOptions {
                order_by: Some("session_date".into()),
                limit: Some(2),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rs.nrows, 2);
        assert_eq!(rs.column("duration").unwrap().value(0), Value::Float(60.0));

        // bad input: clear errors with stable codes
        assert_eq!(code(subject.proj(&["nope"])), ErrorCode::UnknownAttribute);
        assert_eq!(code(subject.proj(&["x=="])), ErrorCode::InvalidArgument);
        assert_eq!(
            code(U::new(&["nope"]).restrict(&subject)),
            ErrorCode::UnknownAttribute
        );
        assert_eq!(
            code(subject.fetch(&FetchOptions {
                attributes: Some(vec!["nope".into()]),
                ..Default::default()
            })),
            ErrorCode::UnknownAttribute
        );
        assert_eq!(
            code(subject.restrict(&Restriction::Sql("1=1; DROP TABLE x".into()))),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(subject.restrict(&Restriction::Or(vec![Restriction::Top(Top::default())]))),
            ErrorCode::InvalidArgument
        );
        assert_eq!(code(subject.union(&session)), ErrorCode::InvalidArgument);
        assert_eq!(
            code(subject.restrict(&Restriction::Key(Row::new().with("subject_id", "seven")))),
            ErrorCode::Type
        );
        let other = support::connect(&db.backend, "{}");
        if db.backend != "duckdb" {
            let s2 = other.schema(s.name(), false).unwrap();
            let q2 = s2.table("Subject").unwrap().query().unwrap();
            assert_eq!(code(subject.join(&q2)), ErrorCode::InvalidArgument);
        }
        // a bad SQL restriction fails at fetch with the backend's message
        let bad = subject
            .restrict(&Restriction::Sql("no_such_column = 1".into()))
            .unwrap();
        assert!(bad.fetch(&FetchOptions::default()).is_err());
    });
}
