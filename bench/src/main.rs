//! `dj-bench skeleton`: insert and fetch 100,000 small rows through the C ABI, compared with the
//! raw DuckDB Appender in the same run. Prints one JSON object.

use common::{check, column, insert_columns, string_column, Db};
use datajoint::*;
use std::ffi::CString;
use std::ptr;
use std::time::Instant;

mod blob;
mod common;
mod npy;
mod objects;
mod populate;
mod query;
mod sql;

const N: usize = 100_000;
const REPEAT: usize = 5;

fn best(mut f: impl FnMut() -> f64) -> f64 {
    (0..REPEAT).map(|_| f()).fold(f64::INFINITY, f64::min)
}

/// Raw limit: DuckDB's Appender, one append_row per row, into a fresh file database.
fn raw_appender(ids: &[i64], vals: &[f64], names: &[String]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let conn = duckdb::Connection::open(dir.path().join("raw.duckdb")).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x DOUBLE NOT NULL, name VARCHAR NOT NULL)",
    )
    .unwrap();
    let t0 = Instant::now();
    {
        let mut app = conn.appender("t").unwrap();
        for i in 0..ids.len() {
            app.append_row(duckdb::params![ids[i] as i32, vals[i], names[i].as_str()])
                .unwrap();
        }
        app.flush().unwrap();
    }
    t0.elapsed().as_secs_f64()
}

/// Stronger raw limit: DuckDB's Appender fed one Arrow record batch (what the library uses).
fn raw_arrow_appender(ids: &[i32], vals: &[f64], names: &[String]) -> f64 {
    use duckdb::arrow::array::{ArrayRef, Float64Array, Int32Array, StringArray};
    use duckdb::arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let conn = duckdb::Connection::open(dir.path().join("raw.duckdb")).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x DOUBLE NOT NULL, name VARCHAR NOT NULL)",
    )
    .unwrap();
    let t0 = Instant::now();
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(Int32Array::from(ids.to_vec()))),
        ("x", Arc::new(Float64Array::from(vals.to_vec()))),
        (
            "name",
            Arc::new(StringArray::from_iter_values(names.iter())),
        ),
    ];
    let rb = RecordBatch::try_from_iter(cols).unwrap();
    {
        let mut app = conn.appender("t").unwrap();
        app.append_record_batch(rb).unwrap();
        app.flush().unwrap();
    }
    t0.elapsed().as_secs_f64()
}

fn fresh_db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = CString::new(dir.path().join("dj.duckdb").to_str().unwrap()).unwrap();
    let mut conn = ptr::null_mut();
    unsafe { check(dj_connect_duckdb(path.as_ptr(), &mut conn)) };
    let mut db = Db::declare(
        conn,
        c"Item",
        c"id : int32\n---\nx : float64\nname : varchar(32)",
    );
    db._dir = Some(dir);
    db
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).cloned().unwrap_or_else(|| "skeleton".into());
    if mode == "objects" {
        let dir = std::path::PathBuf::from(args.get(2).expect("usage: dj-bench objects <dir>"));
        println!(
            "{}",
            serde_json::to_string_pretty(&objects::run(&dir)).unwrap()
        );
        return;
    }
    if mode == "populate" {
        let prefix = args
            .get(2)
            .cloned()
            .unwrap_or_else(|| format!("djb{}", std::process::id()));
        let dir = tempfile::tempdir().unwrap();
        println!(
            "{}",
            serde_json::to_string_pretty(&populate::run(&prefix, dir.path())).unwrap()
        );
        return;
    }
    if mode == "populate-worker" {
        let schema = args
            .get(2)
            .expect("usage: dj-bench populate-worker <schema> <go>");
        let go = std::path::PathBuf::from(args.get(3).expect("the go file"));
        populate::worker(schema, &go);
        return;
    }
    if mode == "query" {
        let dir =
            std::path::PathBuf::from(args.get(2).expect("usage: dj-bench query <dir> <prefix>"));
        let prefix = args
            .get(3)
            .cloned()
            .unwrap_or_else(|| format!("djb{}", std::process::id()));
        println!(
            "{}",
            serde_json::to_string_pretty(&query::run(&dir, &prefix)).unwrap()
        );
        return;
    }
    if mode == "blob" {
        let dir =
            std::path::PathBuf::from(args.get(2).expect("usage: dj-bench blob <dir> <schema>"));
        let schema = args
            .get(3)
            .cloned()
            .unwrap_or_else(|| "djbench_blob".into());
        println!(
            "{}",
            serde_json::to_string_pretty(&blob::run(&dir, &schema)).unwrap()
        );
        return;
    }
    if mode == "npy" {
        let dir = std::path::PathBuf::from(
            args.get(2)
                .expect("usage: dj-bench npy <dir> [s3-endpoint bucket]"),
        );
        let s3 = args.get(3).map(|e| {
            (
                e.clone(),
                args.get(4)
                    .cloned()
                    .unwrap_or_else(|| "datajoint-test".into()),
            )
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&npy::run(&dir, s3)).unwrap()
        );
        return;
    }
    if mode == "sql" {
        let dir = std::path::PathBuf::from(
            args.get(2)
                .expect("usage: dj-bench sql <dir> [prefix [backend...]]"),
        );
        let prefix = args
            .get(3)
            .cloned()
            .unwrap_or_else(|| format!("djb{}", std::process::id()));
        println!(
            "{}",
            serde_json::to_string_pretty(&sql::run(
                &dir,
                &prefix,
                args.get(4..).unwrap_or_default()
            ))
            .unwrap()
        );
        return;
    }
    if mode != "skeleton" {
        eprintln!(
            "usage: dj-bench skeleton | dj-bench npy <dir> [s3-endpoint bucket] | dj-bench sql <dir> [prefix [backend...]]"
        );
        std::process::exit(2);
    }
    let ids: Vec<i64> = (0..N as i64).collect();
    let ids32: Vec<i32> = (0..N as i32).collect();
    let vals: Vec<f64> = (0..N).map(|i| i as f64 * 0.5).collect();
    let names: Vec<String> = (0..N).map(|i| format!("item-{i:06}")).collect();
    let mut offsets = vec![0i64];
    let mut bytes = Vec::new();
    for n in &names {
        bytes.extend_from_slice(n.as_bytes());
        offsets.push(bytes.len() as i64);
    }

    let raw_s = best(|| raw_appender(&ids, &vals, &names));
    let raw_arrow_s = best(|| raw_arrow_appender(&ids32, &vals, &names));

    let mut fetch_s = f64::INFINITY;
    let insert_s = best(|| {
        let db = fresh_db();
        let cols = [
            column(c"id", DJ_KIND_INT32, &ids32),
            column(c"x", DJ_KIND_FLOAT64, &vals),
            string_column(c"name", &bytes, &offsets),
        ];
        let dt = insert_columns(&db, &cols, N);
        // fetch all rows back into column buffers and touch every value
        let t1 = Instant::now();
        let mut res = ptr::null_mut();
        let mut sum = 0.0;
        unsafe {
            check(dj_table_fetch(db.table, ptr::null(), &mut res));
            assert_eq!(dj_result_nrows(res), N);
            let mut v: dj_column_view = std::mem::zeroed();
            check(dj_result_column(res, 1, &mut v));
            let xs = std::slice::from_raw_parts(v.data as *const f64, v.length);
            sum += xs.iter().sum::<f64>();
            check(dj_result_column(res, 2, &mut v));
            sum += *v.offsets.add(v.length) as f64;
            dj_result_free(res);
        }
        fetch_s = fetch_s.min(t1.elapsed().as_secs_f64());
        assert!(sum > 0.0);
        dt
    });

    let out = serde_json::json!({
        "benchmark": "skeleton",
        "rows": N,
        "repeats_best_of": REPEAT,
        "raw_duckdb_appender_rows_per_s": (N as f64 / raw_s).round(),
        "raw_duckdb_arrow_appender_rows_per_s": (N as f64 / raw_arrow_s).round(),
        "dj_insert_columns_rows_per_s": (N as f64 / insert_s).round(),
        "dj_fetch_rows_per_s": (N as f64 / fetch_s).round(),
        "insert_ratio_vs_raw_appender": ((raw_s / insert_s) * 1000.0).round() / 1000.0,
        "insert_ratio_vs_raw_arrow_appender": ((raw_arrow_s / insert_s) * 1000.0).round() / 1000.0,
        "target_insert_ratio": 0.5,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
