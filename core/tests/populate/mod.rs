//! Autopopulate: key source, populate (direct and through the jobs table), failing and
//! panicking makes rolled back with their objects, direct inserts refused, the jobs table's
//! rules; four worker processes (ours, then two ours + two DataJoint Python 2.3.5) on one
//! server schema; a worker killed with SIGKILL mid-make and recovered.

use crate::support::{self, TestDb};
use datajoint_core::blob::BlobValue;
use datajoint_core::value::ArrayValue;
use datajoint_core::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn store_json(dir: &Path) -> String {
    serde_json::json!({"stores": {"default": "main",
        "main": {"protocol": "file", "location": dir.to_str().unwrap()}}})
    .to_string()
}

fn int(rs: &ResultSet, col: &str, i: usize) -> i64 {
    match rs.column(col).unwrap().value(i) {
        Value::Int(v) => v,
        other => panic!("{col}: {other:?}"),
    }
}

fn text(rs: &ResultSet, col: &str, i: usize) -> String {
    match rs.column(col).unwrap().value(i) {
        Value::String(v) => v,
        other => panic!("{col}: {other:?}"),
    }
}

fn key_id(k: &Row, name: &str) -> i64 {
    match k.get(name) {
        Some(Value::Int(v)) => *v,
        other => panic!("{name}: {other:?}"),
    }
}

fn arr(x: f64) -> Value {
    Value::Array(ArrayValue::new(
        npy::Dtype::Float64,
        vec![2],
        false,
        [x, x + 1.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
    ))
}

/// Subject → Session → Analysis (computed, with a part and an `<npy@>` array).
fn pipeline(s: &Schema, nsubjects: i64, nsessions: i64) -> (Table, Table, Table, Table) {
    let subject = s
        .declare(
            "Subject",
            Tier::Manual,
            "subject_id : int32\n---\nname : varchar(16)",
        )
        .unwrap();
    let session = s
        .declare(
            "Session",
            Tier::Manual,
            "-> Subject\nsession : int16\n---\nduration : float64",
        )
        .unwrap();
    let analysis = s
        .declare(
            "Analysis",
            Tier::Computed,
            "-> Session\n---\ntotal : float64\ntrace : <npy@>",
        )
        .unwrap();
    let trial = s
        .declare_part(
            &analysis,
            "Trial",
            "-> master\ntrial : int16\n---\nv : float64",
        )
        .unwrap();
    let subjects: Vec<Row> = (1..=nsubjects)
        .map(|i| {
            Row::new()
                .with("subject_id", i)
                .with("name", format!("s{i}"))
        })
        .collect();
    subject.insert_rows(&subjects, Default::default()).unwrap();
    let sessions: Vec<Row> = (1..=nsubjects)
        .flat_map(|i| {
            (1..=nsessions).map(move |j| {
                Row::new()
                    .with("subject_id", i)
                    .with("session", j)
                    .with("duration", (i * 10 + j) as f64)
            })
        })
        .collect();
    session.insert_rows(&sessions, Default::default()).unwrap();
    (subject, session, analysis, trial)
}

/// The make of the pipeline: the part rows first, then the master row with an array; keys
/// with `subject_id == fail` fail after everything was written.
fn analysis_make(
    session: &Table,
    trial: &Table,
    fail: i64,
) -> impl FnMut(&MakeCall) -> std::result::Result<(), MakeError> {
    let (session, trial) = (session.clone(), trial.clone());
    move |c: &MakeCall| {
        let d = session.restrict_key(c.key)?.fetch1(&FetchOptions {
            attributes: Some(vec!["duration".into()]),
            ..Default::default()
        })?;
        let duration = match d.column("duration").unwrap().value(0) {
            Value::Float(f) => f,
            other => panic!("{other:?}"),
        };
        let rows: Vec<Row> = (1..=3)
            .map(|t| {
                let mut r = c.key.clone();
                r.set("trial", Value::Int(t));
                r.set("v", Value::Float(duration * t as f64));
                r
            })
            .collect();
        c.table
            .insert1(
                &c.key
                    .clone()
                    .with("total", duration * 6.0)
                    .with("trace", arr(duration)),
                Default::default(),
            )
            .map_err(MakeError::from)?;
        trial.insert_rows(&rows, Default::default())?;
        if key_id(c.key, "subject_id") == fail {
            return Err(MakeError {
                message: format!("ValueError: subject {fail} is refused"),
                stack: Some(format!("stack of subject {fail}")),
            });
        }
        Ok(())
    }
}

#[test]
fn populate_runs_make_in_a_transaction_on_every_backend() {
    for b in support::backends() {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::open_with(&b, &store_json(dir.path()));
        eprintln!("-- backend {b}");
        let s = db.schema("pop");
        let (_subject, session, analysis, trial) = pipeline(&s, 4, 3);

        // the key source is the session keys; nothing made yet
        let ks = analysis.key_source().unwrap();
        assert_eq!(ks.primary_key(), vec!["subject_id", "session"], "{b}");
        assert_eq!(ks.count().unwrap(), 12, "{b}");
        assert_eq!(analysis.progress(&[]).unwrap(), (12, 12), "{b}");
        assert_eq!(
            analysis
                .progress(&[Restriction::Sql("subject_id = 1".into())])
                .unwrap(),
            (3, 3)
        );

        // direct inserts are refused outside make, allowed when asked for
        let direct = Row::new()
            .with("subject_id", 1i64)
            .with("session", 1i64)
            .with("total", 1.0)
            .with("trace", arr(1.0));
        let e = analysis.insert1(&direct, Default::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotAllowed, "{b}: {e:?}");
        assert!(e.message.contains("allow_direct_insert"), "{}", e.message);
        let allowed = InsertOptions {
            allow_direct_insert: true,
            ..Default::default()
        };
        analysis.insert1(&direct, allowed).unwrap();
        assert_eq!(analysis.progress(&[]).unwrap(), (11, 12));
        analysis.delete().unwrap();
        assert!(files(dir.path()).is_empty(), "{b}");

        // a failing make (subject 2) rolls back its master and part rows and its arrays;
        // suppress_errors goes on with the rest
        let mut progress = Vec::new();
        let mut record = |p: &Progress| progress.push(*p);
        let mut make = analysis_make(&session, &trial, 2);
        let report = analysis
            .populate(
                &mut make,
                PopulateOptions {
                    suppress_errors: true,
                    progress: Some(&mut record),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(report.success_count, 9, "{b}");
        assert_eq!(report.errors.len(), 3, "{b}");
        assert!(report.errors[0].message.contains("subject 2 is refused"));
        assert_eq!(key_id(&report.errors[0].key, "subject_id"), 2);
        assert_eq!(progress.len(), 12);
        assert_eq!(progress[11].done, 12);
        assert_eq!(progress[11].failed, 3);
        assert_eq!(analysis.count().unwrap(), 9, "{b}");
        assert_eq!(trial.count().unwrap(), 27, "{b}");
        assert_eq!(
            analysis
                .restrict_sql("subject_id = 2")
                .unwrap()
                .count()
                .unwrap(),
            0
        );
        // only the committed rows' arrays are in the store
        assert_eq!(files(dir.path()).len(), 9, "{b}: {:?}", files(dir.path()));
        assert_eq!(analysis.progress(&[]).unwrap(), (3, 12));

        // without suppress_errors the first failure stops the populate with its message
        let mut make = analysis_make(&session, &trial, 2);
        let e = analysis
            .populate(&mut make, PopulateOptions::default())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::MakeFailed);
        assert!(
            e.message.contains("subject_id=2") && e.message.contains("is refused"),
            "{}",
            e.message
        );

        // a panicking make is caught and rolled back as well
        let mut panicking = |c: &MakeCall| -> std::result::Result<(), MakeError> {
            c.table
                .insert1(
                    &c.key.clone().with("total", 0.0).with("trace", arr(0.0)),
                    Default::default(),
                )
                .map_err(MakeError::from)?;
            panic!("make exploded");
        };
        let r = analysis
            .populate(
                &mut panicking,
                PopulateOptions {
                    suppress_errors: true,
                    max_calls: Some(1),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].message.contains("panic: make exploded"),
            "{:?}",
            r.errors
        );
        assert_eq!(analysis.count().unwrap(), 9);
        assert_eq!(files(dir.path()).len(), 9, "{b}");

        // the remaining keys, restricted, in reverse order, at most 2
        let mut order = Vec::new();
        let mut make = analysis_make(&session, &trial, 0);
        let mut logged = |c: &MakeCall| {
            order.push(key_id(c.key, "session"));
            make(c)
        };
        let r = analysis
            .populate(
                &mut logged,
                PopulateOptions {
                    restrictions: vec![Restriction::Sql("subject_id = 2".into())],
                    order: Order::Reverse,
                    max_calls: Some(2),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(r.success_count, 2);
        assert_eq!(order, vec![3, 2], "{b}");
        assert_eq!(analysis.progress(&[]).unwrap(), (1, 12));

        // a populate inside a make is refused; a restricted table cannot be populated
        let mut nested = |c: &MakeCall| -> std::result::Result<(), MakeError> {
            let mut inner = |_: &MakeCall| Ok(());
            let e = c
                .table
                .populate(&mut inner, PopulateOptions::default())
                .unwrap_err();
            Err(MakeError::new(format!("{:?}", e.code)))
        };
        let r = analysis
            .populate(
                &mut nested,
                PopulateOptions {
                    suppress_errors: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(r.errors[0].message, "NotAllowed");
        let e = analysis
            .restrict_sql("subject_id = 1")
            .unwrap()
            .populate(&mut make, PopulateOptions::default())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        let e = session
            .populate(&mut make, PopulateOptions::default())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);

        // a key source of our own
        let custom = analysis.with_key_source(
            session
                .query()
                .unwrap()
                .restrict(&Restriction::Sql("session = 1".into()))
                .unwrap()
                .proj(&[])
                .unwrap(),
        );
        assert_eq!(custom.progress(&[]).unwrap(), (1, 4), "{b}: (2, 1) is left");
        drop(make);

        // a make that handles an error of its own and returns: MySQL undoes the failed insert
        // alone and commits the rest; PostgreSQL and DuckDB abort the whole transaction at a
        // failed statement, so the make fails (not a silent rollback reported as success)
        let mut handled = |c: &MakeCall| -> std::result::Result<(), MakeError> {
            let row = c.key.clone().with("total", 1.0).with("trace", arr(1.0));
            c.table.insert1(&row, Default::default())?;
            let again = c.table.insert1(&row, Default::default()).unwrap_err();
            assert_eq!(again.code, ErrorCode::Duplicate);
            Ok(())
        };
        let r = analysis
            .populate(
                &mut handled,
                PopulateOptions {
                    suppress_errors: true,
                    ..Default::default()
                },
            )
            .unwrap();
        if b == "mysql" {
            assert_eq!(
                (r.success_count, analysis.progress(&[]).unwrap().0),
                (1, 0),
                "{b}"
            );
        } else {
            assert_eq!(r.errors.len(), 1, "{b}");
            assert!(
                r.errors[0].message.contains("rolled back"),
                "{b}: {:?}",
                r.errors
            );
            assert_eq!(analysis.progress(&[]).unwrap().0, 1, "{b}");
        }
        jobs_table_rules(&db, &s, &analysis, &session, &trial);
    }
}

/// The jobs table: declared as the reference does, errors recorded (truncated), priority,
/// ignore, refresh clean-up, keep_completed and the job metadata columns.
fn jobs_table_rules(db: &TestDb, s: &Schema, analysis: &Table, session: &Table, trial: &Table) {
    let b = &db.backend;
    analysis.delete().unwrap();
    let jobs = analysis.jobs().unwrap();
    assert_eq!(jobs.table().name(), "~~analysis");
    let heading: Vec<String> = jobs.table().heading().names();
    assert_eq!(
        heading,
        [
            "subject_id",
            "session",
            "status",
            "priority",
            "created_time",
            "scheduled_time",
            "reserved_time",
            "completed_time",
            "duration",
            "error_message",
            "error_stack",
            "user",
            "host",
            "pid",
            "connection_id",
            "version"
        ]
    );
    assert_eq!(
        jobs.table().heading().primary_key_names(),
        ["subject_id", "session"]
    );
    let r = jobs.refresh(&RefreshOptions::default()).unwrap();
    assert_eq!(r.added, 12, "{b}");
    assert_eq!(jobs.refresh(&RefreshOptions::default()).unwrap().added, 0);
    let counts = jobs.progress().unwrap();
    assert_eq!((counts.pending, counts.total), (12, 12), "{b}");

    // a key ignored by every worker; a long message truncated as the reference does
    let ignored = Row::new().with("subject_id", 4i64).with("session", 3i64);
    jobs.ignore(&ignored).unwrap();
    let mut make = analysis_make(session, trial, 3);
    let long = "x".repeat(3000);
    let mut long_fail = |c: &MakeCall| -> std::result::Result<(), MakeError> {
        if key_id(c.key, "subject_id") == 1 && key_id(c.key, "session") == 1 {
            return Err(MakeError::new(long.clone()));
        }
        make(c)
    };
    let r = analysis
        .populate(
            &mut long_fail,
            PopulateOptions {
                reserve_jobs: true,
                suppress_errors: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.success_count, 7, "{b}: {r:?}");
    assert_eq!(r.errors.len(), 4);
    let counts = jobs.progress().unwrap();
    assert_eq!(
        (
            counts.error,
            counts.ignore,
            counts.pending,
            counts.reserved,
            counts.total
        ),
        (4, 1, 0, 0, 5),
        "{b}"
    );
    let errs = jobs
        .with_status("error")
        .unwrap()
        .fetch(&FetchOptions {
            order_by: Some("subject_id, session".into()),
            ..Default::default()
        })
        .unwrap();
    let first = text(&errs, "error_message", 0);
    assert_eq!(first.chars().count(), 2047);
    assert!(first.ends_with("...truncated"));
    assert!(text(&errs, "error_message", 1).contains("subject 3 is refused"));
    match errs.column("error_stack").unwrap().value(1) {
        Value::Blob(bv) => assert_eq!(*bv, BlobValue::Str("stack of subject 3".into())),
        other => panic!("{b}: error_stack {other:?}"),
    }
    assert_eq!(int(&errs, "pid", 1), std::process::id() as i64);
    assert!(!text(&errs, "host", 1).is_empty());
    // errors stay errors: a second populate makes nothing
    let mut none = |_: &MakeCall| -> std::result::Result<(), MakeError> { panic!("not called") };
    let r = analysis
        .populate(
            &mut none,
            PopulateOptions {
                reserve_jobs: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.success_count + r.errors.len() as u64, 0);

    // clearing the error jobs lets them run again, most urgent first
    jobs.with_status("error").unwrap().delete().unwrap();
    let r = jobs
        .refresh(&RefreshOptions {
            priority: Some(1),
            restrictions: vec![Restriction::Sql("subject_id = 3".into())],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.added, 3);
    assert_eq!(jobs.refresh(&RefreshOptions::default()).unwrap().added, 1);
    let seen = std::cell::RefCell::new(Vec::new());
    let mut make = analysis_make(session, trial, 0);
    let mut logged = |c: &MakeCall| {
        seen.borrow_mut().push(key_id(c.key, "subject_id"));
        make(c)
    };
    analysis
        .populate(
            &mut logged,
            PopulateOptions {
                reserve_jobs: true,
                priority: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(*seen.borrow(), vec![3, 3, 3], "{b}: only the urgent jobs");
    analysis
        .populate(
            &mut logged,
            PopulateOptions {
                reserve_jobs: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(seen.borrow().len(), 4);
    assert_eq!(
        analysis.progress(&[]).unwrap(),
        (1, 12),
        "{b}: the ignored key"
    );

    // a job whose key left the key source goes at refresh; ignore jobs stay
    let gone = Row::new().with("subject_id", 4i64).with("session", 2i64);
    analysis.restrict_key(&gone).unwrap().delete().unwrap();
    jobs.ignore(&gone).unwrap();
    session.restrict_key(&gone).unwrap().delete().unwrap();
    session.restrict_key(&ignored).unwrap().delete().unwrap();
    let r = jobs
        .refresh(&RefreshOptions {
            stale_timeout: Some(0.0),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.removed, 0);
    assert_eq!(jobs.progress().unwrap().ignore, 2);

    // keep_completed and the hidden job metadata columns
    let mut cfg = serde_json::json!({"jobs": {"keep_completed": true, "add_job_metadata": true}});
    cfg["stores"] = db.conn.config().get("stores").unwrap().clone();
    let db2 = TestDb::open_with(b, &cfg.to_string());
    let s2 = db2.schema("popmeta");
    let (_, session2, analysis2, trial2) = pipeline(&s2, 2, 1);
    let _ = s;
    let mut make = analysis_make(&session2, &trial2, 0);
    analysis2
        .populate(
            &mut make,
            PopulateOptions {
                reserve_jobs: true,
                ..Default::default()
            },
        )
        .unwrap();
    let jobs2 = analysis2.jobs().unwrap();
    let c = jobs2.progress().unwrap();
    assert_eq!((c.success, c.total), (2, 2), "{b}");
    let done = jobs2
        .with_status("success")
        .unwrap()
        .restrict_sql("completed_time IS NOT NULL AND duration IS NOT NULL")
        .unwrap();
    assert_eq!(done.count().unwrap(), 2);
    assert_eq!(
        analysis2
            .restrict_sql("_job_start_time IS NOT NULL AND _job_duration >= 0")
            .unwrap()
            .count()
            .unwrap(),
        2,
        "{b}: job metadata"
    );
    assert!(analysis2.heading().get("_job_start_time").is_none());
    // success jobs whose rows are gone are pending again
    analysis2.delete().unwrap();
    let r = jobs2.refresh(&RefreshOptions::default()).unwrap();
    assert_eq!(r.re_pended, 2, "{b}");
}

// ---------------------------------------------------------------- worker processes

const WORKER_SOURCE: &str = "src_id : int32\n---\nvalue : float64";
const WORKER_RESULT: &str = "-> Source\n---\nworker : varchar(32)\nvalue2 : float64";
const WORKER_KEYS: i32 = 2000;
const FAILING_KEY: i64 = 13;

/// Helper run as a child process by the worker tests: `backend:schema:tag[:kill-key]`.
#[test]
fn child_populate_worker() {
    let Ok(spec) = std::env::var("DJ_CHILD_POPULATE") else {
        return;
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (backend, schema, tag) = (parts[0], parts[1], parts[2]);
    let extra = std::env::var("DJ_CHILD_EXTRA").unwrap_or_else(|_| "{}".into());
    let c = support::connect(backend, &extra);
    let s = c.schema(schema, false).unwrap();
    if let Some(go) = std::env::var_os("DJ_CHILD_GO") {
        println!("ready");
        while !Path::new(&go).exists() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    if parts.len() > 3 {
        return kill_target_worker(&s, parts[3].parse().unwrap());
    }
    let source = s.table("Source").unwrap();
    let result = s.table("Result").unwrap();
    let mut make = |m: &MakeCall| -> std::result::Result<(), MakeError> {
        let id = key_id(m.key, "src_id");
        std::thread::sleep(Duration::from_millis(2));
        if id == FAILING_KEY {
            return Err(MakeError {
                message: format!("ValueError: key {id} refused"),
                stack: Some(format!("stack of key {id}")),
            });
        }
        let v = source
            .restrict_key(m.key)?
            .fetch1(&FetchOptions::default())?;
        let value = match v.column("value").unwrap().value(0) {
            Value::Float(f) => f,
            other => panic!("{other:?}"),
        };
        m.table.insert1(
            &m.key
                .clone()
                .with("worker", tag)
                .with("value2", value * 2.0),
            Default::default(),
        )?;
        Ok(())
    };
    let r = result
        .populate(
            &mut make,
            PopulateOptions {
                reserve_jobs: true,
                suppress_errors: true,
                ..Default::default()
            },
        )
        .unwrap();
    println!("{} {} {}", r.success_count, r.errors.len(), r.skipped);
}

/// The python interpreter with DataJoint 2.3.5 (None outside CI without DJ_TEST_PYTHON).
fn python() -> Option<std::ffi::OsString> {
    let p = std::env::var_os("DJ_TEST_PYTHON");
    if p.is_none() {
        assert!(
            !ci(),
            "CI must run the populate interop test: set DJ_TEST_PYTHON"
        );
        eprintln!("skipping DataJoint Python workers: DJ_TEST_PYTHON is not set");
    }
    p
}

fn worker_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/populate_worker.py")
}

/// Spawn workers (ours: `ours-N`, DataJoint Python: `py-N`), release them at once and
/// collect (success, errors) of each.
fn run_workers(backend: &str, schema: &str, ours: usize, py: usize) -> Vec<(String, u64, u64)> {
    use std::io::BufRead;
    let go = tempfile::tempdir().unwrap();
    let go_file = go.path().join("go");
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for i in 0..ours {
        let tag = format!("ours-{i}");
        let child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "populate::child_populate_worker",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("DJ_CHILD_POPULATE", format!("{backend}:{schema}:{tag}"))
            .env("DJ_CHILD_GO", &go_file)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        children.push((tag, child));
    }
    if py > 0 {
        let python = python().expect("python");
        for i in 0..py {
            let tag = format!("py-{i}");
            let child = std::process::Command::new(&python)
                .arg(worker_script())
                .args([backend, schema, "work", &tag])
                .env("DJ_CHILD_GO", &go_file)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            children.push((tag, child));
        }
    }
    // every worker is connected and waiting before they all start
    let mut readers: Vec<_> = children
        .iter_mut()
        .map(|(_, c)| std::io::BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for r in &mut readers {
        let mut line = String::new();
        while !line.trim_end().ends_with("ready") {
            line.clear();
            assert!(
                r.read_line(&mut line).unwrap() > 0,
                "a worker ended before it was ready"
            );
        }
    }
    std::fs::write(&go_file, b"go").unwrap();
    let mut out = Vec::new();
    for ((tag, mut child), mut r) in children.into_iter().zip(readers) {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut r, &mut rest).unwrap();
        assert!(
            child.wait().unwrap().success(),
            "worker {tag} failed: {rest}"
        );
        let line = rest
            .lines()
            .rev()
            .find(|l| l.split(' ').count() == 3 && l.split(' ').all(|x| x.parse::<u64>().is_ok()))
            .unwrap_or_else(|| panic!("worker {tag} printed no report: {rest}"));
        let v: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        out.push((tag, v[0], v[1]));
    }
    out
}

/// Check one round of workers: every key made exactly once, one error job, none reserved.
fn check_round(
    b: &str,
    result: &Table,
    jobs: &Jobs,
    reports: &[(String, u64, u64)],
) -> Vec<String> {
    let made: u64 = reports.iter().map(|r| r.1).sum();
    let failed: u64 = reports.iter().map(|r| r.2).sum();
    assert_eq!(made, WORKER_KEYS as u64 - 1, "{b}: {reports:?}");
    assert_eq!(failed, 1, "{b}: the failing key is made once: {reports:?}");
    assert_eq!(result.count().unwrap(), WORKER_KEYS as u64 - 1);
    let c = jobs.progress().unwrap();
    assert_eq!(
        (c.reserved, c.pending, c.error, c.total),
        (0, 0, 1, 1),
        "{b}: {c:?}"
    );
    let rs = result
        .fetch(&FetchOptions {
            attributes: Some(vec!["worker".into()]),
            ..Default::default()
        })
        .unwrap();
    let mut workers: Vec<String> = (0..rs.nrows).map(|i| text(&rs, "worker", i)).collect();
    workers.sort();
    workers.dedup();
    workers
}

/// What DataJoint Python reads from the jobs table: the error job's key, message and stack.
fn python_reads_jobs(b: &str, schema: &str) -> Option<serde_json::Value> {
    let python = python()?;
    let out = std::process::Command::new(python)
        .arg(worker_script())
        .args([b, schema, "inspect", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    Some(serde_json::from_str(text.lines().last().unwrap()).unwrap())
}

#[test]
fn worker_processes_share_the_jobs_table_with_datajoint_python() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let db = TestDb::open(&b);
        let s = db.schema("popw");
        let source = s.declare("Source", Tier::Manual, WORKER_SOURCE).unwrap();
        let result = s.declare("Result", Tier::Computed, WORKER_RESULT).unwrap();
        let rows: Vec<Row> = (0..WORKER_KEYS)
            .map(|i| Row::new().with("src_id", i).with("value", i as f64 / 2.0))
            .collect();
        source.insert_rows(&rows, Default::default()).unwrap();
        let jobs = result.jobs().unwrap();

        // four of ours
        let reports = run_workers(&b, s.name(), 4, 0);
        let workers = check_round(&b, &result, &jobs, &reports);
        eprintln!("{b}: ours ×4: {reports:?}");
        assert!(workers.len() >= 2, "{b}: the work was shared: {workers:?}");
        let errs = jobs
            .with_status("error")
            .unwrap()
            .fetch(&Default::default())
            .unwrap();
        assert_eq!(int(&errs, "src_id", 0), FAILING_KEY);
        assert_eq!(
            text(&errs, "error_message", 0),
            "ValueError: key 13 refused"
        );
        // DataJoint Python reads our jobs table
        if let Some(seen) = python_reads_jobs(&b, s.name()) {
            assert_eq!(seen["errors"][0]["src_id"], FAILING_KEY, "{b}: {seen}");
            assert_eq!(
                seen["errors"][0]["error_message"],
                "ValueError: key 13 refused"
            );
            assert_eq!(seen["errors"][0]["error_stack"], "stack of key 13");
            assert_eq!(seen["progress"]["error"], 1);
            assert_eq!(seen["progress"]["total"], 1);
        }

        // two of ours and two of DataJoint Python's on the same table
        if python().is_none() {
            continue;
        }
        // this time DataJoint Python declares the jobs table: the same heading as ours, but
        // for the key's declared type (the reference records the key's SQL type, e.g.
        // `integer`, where it means the alias it came from, `int32`, as we do)
        let ours_heading = jobs.table().heading().clone();
        result.delete().unwrap();
        jobs.table().drop().unwrap();
        let seen = python_reads_jobs(&b, s.name()).unwrap();
        assert_eq!(seen["progress"]["total"], 0, "{b}: {seen}");
        let jobs = result.jobs().unwrap();
        let theirs = jobs.table().heading();
        assert_eq!(theirs.names(), ours_heading.names(), "{b}");
        for (a, o) in theirs.attributes.iter().zip(&ours_heading.attributes) {
            if a.in_key {
                assert_eq!(a.ty.kind(), o.ty.kind(), "{b}: {}", a.name);
                continue;
            }
            assert_eq!(
                (&a.ty, &a.declared_type, a.in_key, a.nullable, &a.default),
                (&o.ty, &o.declared_type, o.in_key, o.nullable, &o.default),
                "{b}: jobs attribute {}",
                a.name
            );
        }
        let reports = run_workers(&b, s.name(), 2, 2);
        eprintln!("{b}: ours ×2 + Python ×2: {reports:?}");
        let workers = check_round(&b, &result, &jobs, &reports);
        assert!(
            workers.iter().any(|w| w.starts_with("ours"))
                && workers.iter().any(|w| w.starts_with("py")),
            "{b}: both implementations made keys: {workers:?}"
        );
        let errs = jobs
            .with_status("error")
            .unwrap()
            .fetch(&Default::default())
            .unwrap();
        assert_eq!(
            text(&errs, "error_message", 0),
            "ValueError: key 13 refused"
        );
        match errs.column("error_stack").unwrap().value(0) {
            Value::Blob(bv) => match &*bv {
                BlobValue::Str(st) => assert!(st.contains("key 13"), "{b}: {st}"),
                other => panic!("{b}: {other:?}"),
            },
            other => panic!("{b}: {other:?}"),
        }
        let seen = python_reads_jobs(&b, s.name()).unwrap();
        assert_eq!(seen["progress"]["error"], 1, "{b}: {seen}");
        assert_eq!(seen["progress"]["reserved"], 0);
    }
}

// ---------------------------------------------------------------- a killed worker

const KILL_DEF: &str = "-> Source\n---\narr : <npy@>";

/// The killed worker's make: key `hang` writes its row and array, says so, and hangs.
fn kill_target_worker(s: &Schema, hang: i64) {
    let t = s.table("KillTarget").unwrap();
    let marker = std::env::var("DJ_CHILD_MARKER").unwrap();
    let mut make = |m: &MakeCall| -> std::result::Result<(), MakeError> {
        let id = key_id(m.key, "src_id");
        m.table.insert1(
            &m.key.clone().with("arr", arr(id as f64)),
            Default::default(),
        )?;
        if id == hang {
            std::fs::write(&marker, b"in make").unwrap();
            std::thread::sleep(Duration::from_secs(120));
        }
        Ok(())
    };
    let r = t
        .populate(
            &mut make,
            PopulateOptions {
                reserve_jobs: true,
                ..Default::default()
            },
        )
        .unwrap();
    println!("{} {} {}", r.success_count, r.errors.len(), r.skipped);
}

#[test]
fn a_killed_worker_is_rolled_back_and_its_key_recomputed() {
    for b in support::backends() {
        let store = tempfile::tempdir().unwrap();
        let dbdir = tempfile::tempdir().unwrap();
        // DuckDB: a file the worker holds while it runs
        let dbfile = dbdir.path().join("kill.duckdb");
        let mut extra: serde_json::Value = serde_json::from_str(&store_json(store.path())).unwrap();
        if b == "duckdb" {
            extra["database.path"] = dbfile.to_str().unwrap().into();
        }
        let extra = extra.to_string();
        let schema_name = if b == "duckdb" {
            "popkill".to_string()
        } else {
            format!("djt{}_popkill", std::process::id() % 100_000)
        };
        // no connection stays open while the worker runs (DuckDB: one process per file)
        let setup = support::connect(&b, &extra);
        let _ = setup.schema(&schema_name, false).map(|s| s.drop());
        let s = setup.schema(&schema_name, true).unwrap();
        let source = s.declare("Source", Tier::Manual, WORKER_SOURCE).unwrap();
        let t = s.declare("KillTarget", Tier::Computed, KILL_DEF).unwrap();
        let rows: Vec<Row> = (1..=5)
            .map(|i| Row::new().with("src_id", i).with("value", 0.0))
            .collect();
        source.insert_rows(&rows, Default::default()).unwrap();
        drop((source, t, s));
        setup.close();

        let marker = dbdir.path().join("marker");
        let exe = std::env::current_exe().unwrap();
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "populate::child_populate_worker",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("DJ_CHILD_POPULATE", format!("{b}:{schema_name}:killed:3"))
            .env("DJ_CHILD_EXTRA", &extra)
            .env("DJ_CHILD_MARKER", &marker)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !marker.exists() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "{b}: the worker never reached make"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // the server may take a moment to notice the dead session and roll it back
        std::thread::sleep(Duration::from_millis(300));

        let db = TestDb::open_with(&b, &extra);
        let s = db.conn.schema(&schema_name, false).unwrap();
        let t = s.table("KillTarget").unwrap();
        // the keys made before the hang (pending jobs come in no set order) are there; key 3
        // was rolled back
        let made = t.count().unwrap();
        assert!(made < 5, "{b}");
        assert_eq!(
            t.restrict_sql("src_id = 3").unwrap().count().unwrap(),
            0,
            "{b}: key 3 was rolled back"
        );
        let jobs = t.jobs().unwrap();
        let c = jobs.progress().unwrap();
        assert_eq!((c.reserved, c.pending), (1, 4 - made), "{b}: {c:?}");
        assert_eq!(
            jobs.with_status("reserved")
                .unwrap()
                .restrict_sql("src_id = 3")
                .unwrap()
                .count()
                .unwrap(),
            1
        );
        // its array is an orphan in the store, which gc collects
        assert_eq!(files(store.path()).len() as u64, made + 1, "{b}");
        let g = s
            .gc(&gc::GcOptions {
                grace: Duration::ZERO,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(g.orphaned_schema, 1, "{b}: {g:?}");
        assert_eq!(files(store.path()).len() as u64, made, "{b}");
        // a refresh returns the orphaned reservation to pending; the next worker makes it
        std::thread::sleep(Duration::from_millis(1100));
        let r = jobs
            .refresh(&RefreshOptions {
                orphan_timeout: Some(1.0),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.orphaned, 1, "{b}: {r:?}");
        let mut make = |m: &MakeCall| -> std::result::Result<(), MakeError> {
            let id = key_id(m.key, "src_id");
            m.table.insert1(
                &m.key.clone().with("arr", arr(id as f64)),
                Default::default(),
            )?;
            Ok(())
        };
        let r = t
            .populate(
                &mut make,
                PopulateOptions {
                    reserve_jobs: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(r.success_count, 5 - made, "{b}");
        assert_eq!(t.count().unwrap(), 5);
        assert_eq!(files(store.path()).len(), 5);
        assert_eq!(jobs.progress().unwrap().total, 0);
        if b != "duckdb" {
            s.drop().unwrap();
        }
    }
}
