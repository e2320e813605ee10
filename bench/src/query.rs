//! `dj-bench query <dir> <prefix>`: a three-table join with restrictions and an aggregation
//! over 1,000,000 trials, through the C ABI on DuckDB (a file in `<dir>`) and PostgreSQL
//! (127.0.0.1), fetched into columns; and the SQL our compiler produced for it next to a
//! hand-written query, both run by the raw driver on the same server. Prints one JSON object;
//! bench/run adds DataJoint Python (bench/query_peers.py) and the ratios.
//!
//!   Subject (1,000: half 'mouse') -> Session (20 each) -> Session.Trial (50 each)
//!   q = Session.aggr(Trial & 't0 > 0.1', n='count(*)', total='sum(t1 - t0)',
//!                    exclude_nonmatching) * (Subject & "species = 'mouse'")
//! The schema `<prefix>_q` stays for the Python peer; bench/run drops it.

use crate::common::{check, column, string_column};
use datajoint::*;
use serde_json::{json, Value};
use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr;
use std::time::Instant;

const SUBJECTS: i32 = 1_000;
const SESSIONS: i32 = 20;
const TRIALS: i32 = 50;
const REPEAT: usize = 5;

/// The hand-written SQL of the same query (`{s}`: the qualified schema prefix).
fn hand_sql(s: &str) -> String {
    format!(
        "SELECT t.subject_id, t.session, count(*) AS n, sum(t.t1 - t.t0) AS total, s.species \
         FROM {s}session__trial t JOIN {s}subject s USING (subject_id) \
         WHERE t.t0 > 0.1 AND s.species = 'mouse' GROUP BY t.subject_id, t.session, s.species"
    )
}

fn connect(server: &str, dir: &Path) -> *mut dj_conn {
    let o = match server {
        "duckdb" => {
            json!({"database.backend": "duckdb", "database.path": dir.join("query.duckdb")})
        }
        _ => json!({"database.backend": "postgresql", "database.host": "127.0.0.1",
                    "database.port": 5432, "database.user": "postgres", "database.name": "postgres"}),
    };
    let o = CString::new(o.to_string()).unwrap();
    let mut conn = ptr::null_mut();
    unsafe { check(dj_connect(ptr::null(), o.as_ptr(), &mut conn)) };
    conn
}

fn declare(schema: *mut dj_schema, class: &CStr, def: &CStr) -> *mut dj_table {
    let mut t = ptr::null_mut();
    unsafe {
        check(dj_table_declare(
            schema,
            class.as_ptr(),
            DJ_TIER_MANUAL,
            def.as_ptr(),
            &mut t,
        ))
    };
    t
}

fn insert(t: *mut dj_table, cols: &[dj_column_in], n: usize) {
    let mut w = 0u64;
    unsafe {
        check(dj_table_insert_columns(
            t,
            cols.as_ptr(),
            cols.len(),
            n,
            ptr::null(),
            &mut w,
        ))
    };
    assert_eq!(w as usize, n);
}

/// Declare and fill the pipeline; returns (subject, session, trial, load seconds).
fn load(schema: *mut dj_schema) -> ([*mut dj_table; 3], f64) {
    let t0 = Instant::now();
    let subject = declare(
        schema,
        c"Subject",
        c"subject_id : int32\n---\nspecies : varchar(16)",
    );
    let session = declare(
        schema,
        c"Session",
        c"-> Subject\nsession : int32\n---\nduration : float64",
    );
    let mut trial = ptr::null_mut();
    unsafe {
        check(dj_table_declare_part(
            schema,
            session,
            c"Trial".as_ptr(),
            c"-> master\ntrial : int32\n---\nt0 : float64\nt1 : float64".as_ptr(),
            &mut trial,
        ))
    };
    let ids: Vec<i32> = (0..SUBJECTS).collect();
    let mut bytes = Vec::new();
    let mut offsets = vec![0i64];
    for i in &ids {
        bytes.extend_from_slice(if i % 2 == 0 { b"mouse" } else { b"rat" });
        offsets.push(bytes.len() as i64);
    }
    insert(
        subject,
        &[
            column(c"subject_id", DJ_KIND_INT32, &ids),
            string_column(c"species", &bytes, &offsets),
        ],
        ids.len(),
    );
    let (mut ss, mut se, mut du) = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..SUBJECTS {
        for k in 0..SESSIONS {
            ss.push(s);
            se.push(k);
            du.push((k * 7 % 60) as f64);
        }
    }
    insert(
        session,
        &[
            column(c"subject_id", DJ_KIND_INT32, &ss),
            column(c"session", DJ_KIND_INT32, &se),
            column(c"duration", DJ_KIND_FLOAT64, &du),
        ],
        ss.len(),
    );
    // the trials in chunks of 100k rows
    let per = (SESSIONS * TRIALS) as usize;
    let chunk_subjects = 100;
    for first in (0..SUBJECTS).step_by(chunk_subjects) {
        let (mut a, mut b, mut c, mut x, mut y) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in first..(first + chunk_subjects as i32).min(SUBJECTS) {
            for k in 0..SESSIONS {
                for t in 0..TRIALS {
                    a.push(s);
                    b.push(k);
                    c.push(t);
                    x.push(((s + k + t) % 10) as f64 / 10.0);
                    y.push(((s + k + t) % 10) as f64 / 10.0 + 0.5);
                }
            }
        }
        assert_eq!(a.len(), per * chunk_subjects);
        insert(
            trial,
            &[
                column(c"subject_id", DJ_KIND_INT32, &a),
                column(c"session", DJ_KIND_INT32, &b),
                column(c"trial", DJ_KIND_INT32, &c),
                column(c"t0", DJ_KIND_FLOAT64, &x),
                column(c"t1", DJ_KIND_FLOAT64, &y),
            ],
            a.len(),
        );
    }
    ([subject, session, trial], t0.elapsed().as_secs_f64())
}

fn q_of(t: *mut dj_table) -> *mut dj_query {
    let mut q = ptr::null_mut();
    unsafe { check(dj_table_query(t, &mut q)) };
    q
}

/// Build the query through the C ABI.
fn build(tables: &[*mut dj_table; 3]) -> *mut dj_query {
    unsafe {
        let (subject, session, trial) = (q_of(tables[0]), q_of(tables[1]), q_of(tables[2]));
        let mut tr = ptr::null_mut();
        check(dj_query_restrict_sql(trial, c"t0 > 0.1".as_ptr(), &mut tr));
        let items = [c"n=count(*)".as_ptr(), c"total=sum(t1 - t0)".as_ptr()];
        let mut agg = ptr::null_mut();
        check(dj_query_aggr(session, tr, items.as_ptr(), 2, 1, &mut agg));
        let mut mice = ptr::null_mut();
        check(dj_query_restrict_sql(
            subject,
            c"species = 'mouse'".as_ptr(),
            &mut mice,
        ));
        let mut q = ptr::null_mut();
        check(dj_query_join(agg, mice, 1, 0, &mut q));
        for h in [subject, session, trial, tr, agg, mice] {
            dj_query_free(h);
        }
        q
    }
}

/// The join alone: `(Subject & "species = 'mouse'") * Session * (Trial & 't0 > 0.1')`, about
/// 400,000 rows of 7 columns.
fn build_join(tables: &[*mut dj_table; 3]) -> *mut dj_query {
    unsafe {
        let (subject, session, trial) = (q_of(tables[0]), q_of(tables[1]), q_of(tables[2]));
        let mut mice = ptr::null_mut();
        check(dj_query_restrict_sql(
            subject,
            c"species = 'mouse'".as_ptr(),
            &mut mice,
        ));
        let mut tr = ptr::null_mut();
        check(dj_query_restrict_sql(trial, c"t0 > 0.1".as_ptr(), &mut tr));
        let mut a = ptr::null_mut();
        check(dj_query_join(mice, session, 1, 0, &mut a));
        let mut q = ptr::null_mut();
        check(dj_query_join(a, tr, 1, 0, &mut q));
        for h in [subject, session, trial, mice, tr, a] {
            dj_query_free(h);
        }
        q
    }
}

/// Fetch a query into columns, every column touched; (seconds, rows).
fn fetch_all(q: *mut dj_query) -> (f64, usize) {
    let t0 = Instant::now();
    unsafe {
        let mut res = ptr::null_mut();
        check(dj_query_fetch(q, ptr::null(), &mut res));
        let n = dj_result_nrows(res);
        let mut touched = 0usize;
        for i in 0..dj_result_ncols(res) {
            let mut v: dj_column_view = std::mem::zeroed();
            check(dj_result_column(res, i, &mut v));
            touched += v.length;
        }
        assert_eq!(touched, n * dj_result_ncols(res));
        dj_result_free(res);
        (t0.elapsed().as_secs_f64(), n)
    }
}

/// Fetch the query into columns and touch them; (seconds, rows, sum of n).
fn fetch(q: *mut dj_query) -> (f64, usize, i64) {
    let t0 = Instant::now();
    unsafe {
        let mut res = ptr::null_mut();
        check(dj_query_fetch(q, ptr::null(), &mut res));
        let n = dj_result_nrows(res);
        let mut idx = 0usize;
        check(dj_result_column_index(res, c"n".as_ptr(), &mut idx));
        let mut v: dj_column_view = std::mem::zeroed();
        check(dj_result_column(res, idx, &mut v));
        assert_eq!(v.kind, DJ_KIND_INT64);
        let sum: i64 = std::slice::from_raw_parts(v.data as *const i64, v.length)
            .iter()
            .sum();
        dj_result_free(res);
        (t0.elapsed().as_secs_f64(), n, sum)
    }
}

fn best(f: &mut dyn FnMut() -> f64) -> f64 {
    (0..REPEAT).map(|_| f()).fold(f64::INFINITY, f64::min)
}

/// Run `f` with a plain (no TLS) client of the bench server, on a runtime of its own.
pub(crate) fn with_pg<T>(f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host("127.0.0.1")
            .port(5432)
            .user("postgres")
            .dbname("postgres");
        let (c, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        f(&c).await
    })
}

fn pg_vacuum_analyze(schema: &str) {
    with_pg(async |c| {
        for t in ["subject", "session", "session__trial"] {
            c.batch_execute(&format!("VACUUM ANALYZE \"{schema}\".\"{t}\""))
                .await
                .unwrap();
        }
    });
}

async fn pg_run(c: &tokio_postgres::Client, sql: &str) -> (f64, usize) {
    let t0 = Instant::now();
    let rows = c.query(sql, &[]).await.unwrap();
    (t0.elapsed().as_secs_f64(), rows.len())
}

pub fn run(dir: &Path, prefix: &str) -> Value {
    let schema_name = format!("{prefix}_q");
    let mut out = serde_json::Map::new();
    out.insert(
        "rows".into(),
        json!({"subjects": SUBJECTS, "sessions": SUBJECTS * SESSIONS,
                                     "trials": SUBJECTS * SESSIONS * TRIALS}),
    );
    out.insert("schema".into(), json!(schema_name));
    for server in ["duckdb", "postgresql"] {
        let conn = connect(server, dir);
        let name = CString::new(schema_name.clone()).unwrap();
        let mut schema = ptr::null_mut();
        unsafe { check(dj_schema_open(conn, name.as_ptr(), 1, &mut schema)) };
        let (tables, load_s) = load(schema);
        if server == "postgresql" {
            // fresh tables: statistics for the planner before anyone times a query (ours and
            // DataJoint Python's, which runs later, alike)
            pg_vacuum_analyze(&schema_name);
        }
        let q = build(&tables);
        let sql = unsafe { CStr::from_ptr(dj_query_sql(q)) }
            .to_string_lossy()
            .into_owned();
        let (mut rows, mut total) = (0, 0);
        let ours = best(&mut || {
            let (dt, n, s) = fetch(q);
            rows = n;
            total = s;
            dt
        });
        assert_eq!(rows as i32, SUBJECTS / 2 * SESSIONS);
        let jq = build_join(&tables);
        let mut join_rows = 0;
        let join_s = best(&mut || {
            let (dt, n) = fetch_all(jq);
            join_rows = n;
            dt
        });
        unsafe {
            dj_query_free(jq);
            dj_query_free(q);
            for t in tables {
                dj_table_free(t);
            }
            dj_schema_free(schema);
            dj_conn_close(conn);
            dj_conn_free(conn);
        }
        // the compiled SQL and the hand-written one, each run by the raw driver
        let (compiled, hand, n_hand) = if server == "duckdb" {
            // our SQL names the database by the catalog the library attaches it as
            let c = duckdb::Connection::open_in_memory().unwrap();
            c.execute_batch(&format!(
                "ATTACH '{}' AS \"dj$db\" (READ_ONLY); USE \"dj$db\";",
                dir.join("query.duckdb").display()
            ))
            .unwrap();
            let run = |s: &str| {
                let t0 = Instant::now();
                let mut st = c.prepare(s).unwrap();
                let n: usize = st.query_arrow([]).unwrap().map(|b| b.num_rows()).sum();
                (t0.elapsed().as_secs_f64(), n)
            };
            let hs = hand_sql(&format!("\"dj$db\".\"{schema_name}\"."));
            // interleaved, as on PostgreSQL, so that neither runs on a colder cache
            let (mut comp, mut hand, mut nh) = (f64::INFINITY, f64::INFINITY, 0);
            for _ in 0..REPEAT {
                comp = comp.min(run(&sql).0);
                let (t, n) = run(&hs);
                hand = hand.min(t);
                nh = n;
            }
            (comp, hand, nh)
        } else {
            let hs = hand_sql(&format!("\"{schema_name}\"."));
            with_pg(async |c| {
                let (mut comp, mut hand, mut nh) = (f64::INFINITY, f64::INFINITY, 0);
                for _ in 0..REPEAT {
                    comp = comp.min(pg_run(c, &sql).await.0);
                    let (t, n) = pg_run(c, &hs).await;
                    hand = hand.min(t);
                    nh = n;
                }
                (comp, hand, nh)
            })
        };
        assert_eq!(
            n_hand, rows,
            "the hand-written SQL must return the same rows"
        );
        out.insert(
            server.into(),
            json!({
                "load_1M_trials_s": load_s,
                "ours_fetch_into_columns_s": ours,
                "raw_compiled_sql_s": compiled,
                "raw_hand_written_sql_s": hand,
                "result_rows": rows,
            "join_fetch_into_columns_s": join_s,
            "join_rows": join_rows,
                "sum_n": total,
                "compiled_sql": sql,
            }),
        );
        if server == "duckdb" {
            let _ = std::fs::remove_file(dir.join("query.duckdb"));
        }
    }
    out.insert("repeats_best_of".into(), json!(REPEAT));
    Value::Object(out)
}
