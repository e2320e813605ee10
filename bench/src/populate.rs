//! `dj-bench populate <prefix>`: 10,000 trivial jobs (each make inserts one row) populated
//! through the jobs table on PostgreSQL (127.0.0.1) by 1, 2 and 4 worker processes calling
//! `dj_table_populate` with a C callback; and the floors: the statements a worker runs per job
//! (reserve, begin, check, insert, commit, complete), sent by the raw driver on one
//! connection — in the reference's order (complete after the commit) and in ours (complete
//! inside the make's transaction). Prints one JSON object; bench/run adds DataJoint Python workers
//! (bench/populate_peers.py) and the ratios. The schema `<prefix>_p` stays for the peer;
//! bench/run drops it.
//!
//! `dj-bench populate-worker <schema> <go-file>`: one worker; prints "ready", waits for the
//! go file, populates, prints "<made> <seconds>".

use crate::common::{check, column};
use datajoint::*;
use serde_json::{json, Value};
use std::ffi::{c_void, CString};
use std::io::BufRead;
use std::path::Path;
use std::ptr;
use std::time::Instant;

const KEYS: i32 = 10_000;

fn connect() -> *mut dj_conn {
    let o = json!({"database.backend": "postgresql", "database.host": "127.0.0.1",
                   "database.port": 5432, "database.user": "postgres", "database.name": "postgres"});
    let o = CString::new(o.to_string()).unwrap();
    let mut conn = ptr::null_mut();
    unsafe { check(dj_connect(ptr::null(), o.as_ptr(), &mut conn)) };
    conn
}

fn open(conn: *mut dj_conn, schema: &str, class: &str) -> (*mut dj_schema, *mut dj_table) {
    let s = CString::new(schema).unwrap();
    let c = CString::new(class).unwrap();
    let mut sh = ptr::null_mut();
    let mut t = ptr::null_mut();
    unsafe {
        check(dj_schema_open(conn, s.as_ptr(), 0, &mut sh));
        check(dj_table_open(sh, c.as_ptr(), &mut t));
    }
    (sh, t)
}

/// The trivial make: the key plus `v = 1.0`.
unsafe extern "C" fn make(
    _user: *mut c_void,
    table: *const dj_table,
    _key: *const dj_result,
    ctx: *mut dj_make_ctx,
) -> i32 {
    let mut row = ptr::null_mut();
    if dj_row_clone(dj_make_key_row(ctx), &mut row) != DJ_OK {
        return 1;
    }
    let mut rc = dj_row_set_float(row, c"v".as_ptr(), 1.0);
    if rc == DJ_OK {
        rc = dj_table_insert1(table, row, ptr::null(), ptr::null_mut());
    }
    dj_row_free(row);
    (rc != DJ_OK) as i32
}

pub fn worker(schema: &str, go: &Path) {
    let conn = connect();
    let (sh, t) = open(conn, schema, "Bench");
    println!("ready");
    while !go.exists() {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let mut o: dj_populate_opts = unsafe { std::mem::zeroed() };
    let mut report = ptr::null_mut();
    let t0 = Instant::now();
    unsafe {
        check(dj_populate_opts_init(&mut o));
        o.reserve_jobs = 1;
        o.refresh = 0; // the driver refreshed once for everybody
        check(dj_table_populate(
            t,
            Some(make),
            ptr::null_mut(),
            &o,
            &mut report,
        ));
    }
    let secs = t0.elapsed().as_secs_f64();
    let made = unsafe { dj_populate_report_success_count(report) };
    println!("{made} {secs:.6}");
    unsafe {
        dj_populate_report_free(report);
        dj_table_free(t);
        dj_schema_free(sh);
        dj_conn_free(conn);
    }
}

/// Empty the target and the jobs table, then one refresh: returns its seconds.
fn reset(t: *mut dj_table) -> f64 {
    unsafe {
        check(dj_table_delete(t, ptr::null_mut()));
        let mut jobs = ptr::null_mut();
        check(dj_table_jobs(t, &mut jobs));
        check(dj_table_delete(jobs, ptr::null_mut()));
        dj_table_free(jobs);
        let t0 = Instant::now();
        let mut r: dj_refresh_report = std::mem::zeroed();
        check(dj_jobs_refresh(t, ptr::null(), &mut r));
        assert_eq!(r.added, KEYS as u64);
        t0.elapsed().as_secs_f64()
    }
}

/// Run `n` workers at once; returns the wall time from the start signal to the last exit.
fn round(schema: &str, n: usize, dir: &Path) -> (f64, Vec<u64>) {
    let go = dir.join(format!("go{n}"));
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["populate-worker", schema, go.to_str().unwrap()])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut readers: Vec<_> = children
        .iter_mut()
        .map(|c| std::io::BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for r in &mut readers {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        assert_eq!(l.trim(), "ready");
    }
    let t0 = Instant::now();
    std::fs::write(&go, b"go").unwrap();
    let mut made = Vec::new();
    for (mut c, mut r) in children.into_iter().zip(readers) {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        assert!(c.wait().unwrap().success());
        made.push(l.split(' ').next().unwrap().parse().unwrap());
    }
    (t0.elapsed().as_secs_f64(), made)
}

/// The floor: per job the statements a worker runs, by the raw driver on one connection, over
/// the first `n` pending jobs. `in_tx`: the job is completed inside the make's transaction
/// (our protocol: one commit fewer); else after it (the reference's).
fn raw_floor(schema: &str, n: usize, in_tx: bool) -> f64 {
    crate::query::with_pg(async |c| {
        let q = |t: &str| format!("\"{schema}\".\"{t}\"");
        let (jobs, target) = (q("~~bench"), q("__bench"));
        let reserve = c
            .prepare(&format!(
                "UPDATE {jobs} SET status = 'reserved', host = $1, pid = $2, connection_id = $3, \
                 \"user\" = $4, version = $5, reserved_time = CURRENT_TIMESTAMP(3) \
                 WHERE src_id = $6 AND status = 'pending' AND scheduled_time <= CURRENT_TIMESTAMP(3)"
            ))
            .await
            .unwrap();
        let exists = c
            .prepare(&format!("SELECT count(*) FROM {target} WHERE src_id = $1"))
            .await
            .unwrap();
        let insert = c
            .prepare(&format!("INSERT INTO {target} (src_id, v) VALUES ($1, $2)"))
            .await
            .unwrap();
        let complete = c
            .prepare(&format!("DELETE FROM {jobs} WHERE src_id = $1"))
            .await
            .unwrap();
        let keys: Vec<i32> = c
            .query(
                &format!(
                    "SELECT src_id FROM {jobs} WHERE status = 'pending' \
                     ORDER BY priority, scheduled_time"
                ),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .take(n)
            .map(|r| r.get(0))
            .collect();
        let t0 = Instant::now();
        for k in &keys {
            let n = c
                .execute(&reserve, &[&"host", &1i32, &1i64, &"postgres", &"", k])
                .await
                .unwrap();
            assert_eq!(n, 1);
            c.batch_execute("BEGIN").await.unwrap();
            let _: i64 = c.query_one(&exists, &[k]).await.unwrap().get(0);
            c.execute(&insert, &[k, &1.0f64]).await.unwrap();
            if in_tx {
                c.execute(&complete, &[k]).await.unwrap();
            }
            c.batch_execute("COMMIT").await.unwrap();
            if !in_tx {
                c.execute(&complete, &[k]).await.unwrap();
            }
        }
        t0.elapsed().as_secs_f64() / keys.len() as f64
    })
}

pub fn run(prefix: &str, dir: &Path) -> Value {
    let schema = format!("{prefix}_p");
    let conn = connect();
    let s = CString::new(schema.clone()).unwrap();
    let mut sh = ptr::null_mut();
    let (mut source, mut target) = (ptr::null_mut(), ptr::null_mut());
    unsafe {
        check(dj_schema_open(conn, s.as_ptr(), 1, &mut sh));
        check(dj_table_declare(
            sh,
            c"Source".as_ptr(),
            DJ_TIER_MANUAL,
            c"src_id : int32\n---\nvalue : float64".as_ptr(),
            &mut source,
        ));
        check(dj_table_declare(
            sh,
            c"Bench".as_ptr(),
            DJ_TIER_COMPUTED,
            c"-> Source\n---\nv : float64".as_ptr(),
            &mut target,
        ));
        let ids: Vec<i32> = (0..KEYS).collect();
        let vals: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
        let cols = [
            column(c"src_id", DJ_KIND_INT32, &ids),
            column(c"value", DJ_KIND_FLOAT64, &vals),
        ];
        check(dj_table_insert_columns(
            source,
            cols.as_ptr(),
            2,
            ids.len(),
            ptr::null(),
            ptr::null_mut(),
        ));
    }
    // the floors, before and after the rounds (best of both: the server's fsyncs vary)
    const FLOOR_JOBS: usize = 2_000;
    let mut floor_ref = f64::INFINITY;
    let mut floor_ours = f64::INFINITY;
    let mut floors = || {
        reset(target);
        floor_ref = floor_ref.min(raw_floor(&schema, FLOOR_JOBS, false));
        reset(target);
        floor_ours = floor_ours.min(raw_floor(&schema, FLOOR_JOBS, true));
    };
    floors();
    let mut rounds = serde_json::Map::new();
    let mut refresh_s = f64::INFINITY;
    for n in [1usize, 2, 4] {
        refresh_s = refresh_s.min(reset(target));
        let (wall, made) = round(&schema, n, dir);
        assert_eq!(made.iter().sum::<u64>(), KEYS as u64, "{made:?}");
        let mut count = 0u64;
        unsafe { check(dj_table_count(target, &mut count)) };
        assert_eq!(count, KEYS as u64);
        rounds.insert(
            n.to_string(),
            json!({"wall_s": wall, "jobs_per_s": KEYS as f64 / wall,
                   "per_job_ms": wall * 1e3 / KEYS as f64, "made_per_worker": made}),
        );
    }
    floors();
    unsafe {
        check(dj_table_delete(target, ptr::null_mut()));
        let mut jobs = ptr::null_mut();
        check(dj_table_jobs(target, &mut jobs));
        check(dj_table_delete(jobs, ptr::null_mut()));
        dj_table_free(jobs);
        dj_table_free(target);
        dj_table_free(source);
        dj_schema_free(sh);
        dj_conn_free(conn);
    }
    json!({
        "keys": KEYS,
        "ours_workers": rounds,
        "ours_refresh_10k_s": refresh_s,
        "raw_floor_reference_protocol_per_job_ms": floor_ref * 1e3,
        "raw_floor_our_protocol_per_job_ms": floor_ours * 1e3,
    })
}
