//! `dj-bench npy <dir> [s3-endpoint]`: <npy@> throughput through the C ABI (P1–P4, P8).
//! The raw limits (numpy) and DataJoint Python are measured by bench/npy_peers.py in the same run.

use crate::common::{check, column, insert_columns, Db};
use datajoint::*;
use serde_json::json;
use std::ffi::{c_void, CString};
use std::path::Path;
use std::ptr;
use std::time::Instant;

fn open(dir: &Path, stores: serde_json::Value, store: &str, name: &str) -> Db {
    let overrides = json!({
        "database.path": dir.join(format!("{name}.duckdb")),
        "stores": stores,
        "npy_cache.path": dir.join("cache"),
    });
    let o = CString::new(overrides.to_string()).unwrap();
    let mut conn = ptr::null_mut();
    unsafe { check(dj_connect(ptr::null(), o.as_ptr(), &mut conn)) };
    let def = CString::new(format!("id : int32\n---\narr : <npy@{store}>")).unwrap();
    Db::declare(conn, c"Rec", &def)
}

/// The .npy header numpy writes for a (rows, 1024) float32 array.
fn datajoint_core_header(rows: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, 1024), }}");
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h
}

fn sync() {
    let _ = std::process::Command::new("sync").status();
}

fn array_in(data: &[f32], shape: &[i64]) -> dj_array_in {
    dj_array_in {
        data: data.as_ptr() as *const c_void,
        nbytes: std::mem::size_of_val(data) as u64,
        dtype: DJ_DTYPE_FLOAT32,
        ndim: shape.len() as i32,
        shape: shape.as_ptr(),
        itemsize: 4,
        order: DJ_ORDER_C,
    }
}

fn insert_one(db: &Db, id: i32, data: &[f32], shape: &[i64]) -> f64 {
    let a = [array_in(data, shape)];
    let ids = [id];
    insert_columns(
        db,
        &[
            column(c"id", DJ_KIND_INT32, &ids),
            column(c"arr", DJ_KIND_ARRAY, &a),
        ],
        1,
    )
}

/// Fetch row `id`, return its NpyRef.
fn npyref(db: &Db, id: i32) -> *mut dj_npyref {
    let cond = CString::new(format!("id = {id}")).unwrap();
    unsafe {
        let mut t = ptr::null_mut();
        check(dj_table_restrict_sql(db.table, cond.as_ptr(), &mut t));
        let mut res = ptr::null_mut();
        check(dj_table_fetch1(t, ptr::null(), &mut res));
        let mut r = ptr::null_mut();
        check(dj_result_npyref(res, 1, 0, &mut r));
        dj_result_free(res);
        dj_table_free(t);
        r
    }
}

/// Time to open a zero-copy view and sum rows [start, start+n) of a (rows, 1024) float32 array.
fn view_slice(r: *mut dj_npyref, start: usize, n: usize) -> (f64, bool) {
    let t0 = Instant::now();
    let mut v: dj_array_view = unsafe { std::mem::zeroed() };
    unsafe { check(dj_npyref_map(r, &mut v)) };
    let data = unsafe { std::slice::from_raw_parts(v.data as *const f32, (v.nbytes / 4) as usize) };
    let s: f64 = data[start * 1024..(start + n) * 1024]
        .iter()
        .map(|&x| x as f64)
        .sum();
    let dt = t0.elapsed().as_secs_f64();
    let mapped = v.flags & DJ_VIEW_MAPPED != 0;
    unsafe { dj_array_view_release(&mut v) };
    assert!(s.is_finite());
    (dt, mapped)
}

pub fn run(dir: &Path, s3: Option<(String, String)>) -> serde_json::Value {
    let store_dir = dir.join("store");
    std::fs::create_dir_all(&store_dir).unwrap();
    let file_store =
        json!({"default": "main", "main": {"protocol": "file", "location": store_dir}});
    let mut out = serde_json::Map::new();

    // P1: one 256 MiB float32 array (65536 × 1024), best of 3
    let rows = 65536usize;
    let big: Vec<f32> = (0..rows * 1024).map(|i| (i % 1000) as f32).collect();
    let db = open(dir, file_store.clone(), "main", "p1");
    // Dirty pages of earlier writes are flushed first (`sync`), as the numpy side does, so both
    // write into a clean page cache.
    // Interleaved with the raw limit measured the same way: writing the same .npy bytes to a new
    // file with one write call (what np.save does), so both see the same page-cache state.
    let raw_dir = dir.join("raw");
    std::fs::create_dir_all(&raw_dir).unwrap();
    let header = datajoint_core_header(rows);
    let bytes = unsafe { std::slice::from_raw_parts(big.as_ptr() as *const u8, big.len() * 4) };
    let (mut p1, mut raw) = (f64::INFINITY, f64::INFINITY);
    for k in 0..5 {
        sync();
        let t0 = Instant::now();
        {
            use std::io::Write;
            let mut f = std::fs::File::create(raw_dir.join(format!("{k}.npy"))).unwrap();
            f.write_all(&header).unwrap();
            f.write_all(bytes).unwrap();
        }
        raw = raw.min(t0.elapsed().as_secs_f64());
        sync();
        p1 = p1.min(insert_one(&db, k, &big, &[rows as i64, 1024]));
    }
    out.insert("p1_insert_256MiB_s".into(), json!(p1));
    out.insert("raw_p1_write_npy_file_256MiB_s".into(), json!(raw));
    out.insert("p1_insert_vs_raw_file_write".into(), json!(raw / p1));
    out.insert("p1_insert_MiB_per_s".into(), json!(256.0 / p1));

    // P4: zero-copy view + 1000-row slice, for 16 MiB, 256 MiB and 1 GiB files
    for (label, nrows, id) in [
        ("16MiB", 4096usize, 100),
        ("256MiB", 65536, 0),
        ("1GiB", 262144, 101),
    ] {
        if id != 0 {
            let data: Vec<f32> = (0..nrows * 1024).map(|i| (i % 1000) as f32).collect();
            insert_one(&db, id, &data, &[nrows as i64, 1024]);
        }
        let r = npyref(&db, id);
        let best = (0..5)
            .map(|_| view_slice(r, nrows / 2 - 500, 1000))
            .fold((f64::INFINITY, true), |a, b| (a.0.min(b.0), a.1 && b.1));
        unsafe { dj_npyref_free(r) };
        out.insert(
            format!("p4_map_and_read_1000_rows_{label}_s"),
            json!(best.0),
        );
        out.insert(format!("p4_mapped_{label}"), json!(best.1));
    }
    drop(db);

    // P2: 200 × 1 MiB arrays in one call
    let db = open(dir, file_store.clone(), "main", "p2");
    let small: Vec<Vec<f32>> = (0..200).map(|k| vec![k as f32; 256 * 1024]).collect();
    let shape = [256i64, 1024];
    let arrays: Vec<dj_array_in> = small.iter().map(|a| array_in(a, &shape)).collect();
    let ids: Vec<i32> = (0..200).collect();
    let cols = [
        column(c"id", DJ_KIND_INT32, &ids),
        column(c"arr", DJ_KIND_ARRAY, &arrays),
    ];
    sync();
    let p2 = insert_columns(&db, &cols, 200);
    out.insert("p2_insert_200x1MiB_s".into(), json!(p2));
    out.insert("p2_insert_MiB_per_s".into(), json!(200.0 / p2));
    drop(db);

    // P3: fetch 10,000 rows and make their NpyRefs (no loading)
    let db = open(dir, file_store, "main", "p3");
    let tiny: Vec<f32> = vec![1.0; 4];
    let tshape = [4i64];
    let arrays: Vec<dj_array_in> = (0..10_000).map(|_| array_in(&tiny, &tshape)).collect();
    let ids: Vec<i32> = (0..10_000).collect();
    let cols = [
        column(c"id", DJ_KIND_INT32, &ids),
        column(c"arr", DJ_KIND_ARRAY, &arrays),
    ];
    insert_columns(&db, &cols, 10_000);
    let mut p3 = f64::INFINITY;
    let mut requests = 0;
    for _ in 0..3 {
        let (mut req0, mut req1) = (0u64, 0u64);
        unsafe {
            check(dj_conn_store_stats(
                db.conn,
                ptr::null(),
                &mut req0,
                ptr::null_mut(),
                ptr::null_mut(),
            ))
        };
        let t0 = Instant::now();
        unsafe {
            let mut res = ptr::null_mut();
            check(dj_table_fetch(db.table, ptr::null(), &mut res));
            let n = dj_result_nrows(res);
            let mut total = 0u64;
            for i in 0..n {
                let mut r = ptr::null_mut();
                check(dj_result_npyref(res, 1, i, &mut r));
                let mut size = 0u64;
                check(dj_npyref_size(r, &mut size, ptr::null_mut()));
                total += size;
                dj_npyref_free(r);
            }
            assert_eq!(total, 40_000);
            dj_result_free(res);
        }
        p3 = p3.min(t0.elapsed().as_secs_f64());
        unsafe {
            check(dj_conn_store_stats(
                db.conn,
                ptr::null(),
                &mut req1,
                ptr::null_mut(),
                ptr::null_mut(),
            ))
        };
        requests += req1 - req0;
    }
    out.insert("p3_fetch_10000_refs_s".into(), json!(p3));
    out.insert("p3_refs_per_s".into(), json!(10_000.0 / p3));
    out.insert("p3_store_requests".into(), json!(requests));
    drop(db);

    // P8: bytes transferred to read a 1 % slice of a 1 GiB array on S3
    if let Some((endpoint, bucket)) = s3 {
        let stores = json!({"s3": {"protocol": "s3", "endpoint": endpoint, "bucket": bucket, "location": format!("bench-{}", std::process::id()),
                                   "access_key": "testing", "secret_key": "testing", "secure": false}});
        let db = open(dir, stores, "s3", "p8");
        let nrows = 262144usize;
        let data: Vec<f32> = (0..nrows * 1024).map(|i| (i % 1000) as f32).collect();
        let up = insert_one(&db, 1, &data, &[nrows as i64, 1024]);
        drop(data);
        let r = npyref(&db, 1);
        let s3name = c"s3";
        let (mut req0, mut b0, mut req1, mut b1) = (0u64, 0u64, 0u64, 0u64);
        unsafe {
            check(dj_conn_store_stats(
                db.conn,
                s3name.as_ptr(),
                &mut req0,
                &mut b0,
                ptr::null_mut(),
            ))
        };
        let t0 = Instant::now();
        let slice_rows = nrows as u64 / 100;
        let mut v: dj_array_view = unsafe { std::mem::zeroed() };
        unsafe { check(dj_npyref_read_rows(r, 1000, 1000 + slice_rows, &mut v)) };
        let dt = t0.elapsed().as_secs_f64();
        unsafe {
            check(dj_conn_store_stats(
                db.conn,
                s3name.as_ptr(),
                &mut req1,
                &mut b1,
                ptr::null_mut(),
            ))
        };
        assert_eq!(v.nbytes, slice_rows * 1024 * 4);
        unsafe {
            dj_array_view_release(&mut v);
            dj_npyref_free(r);
        }
        let file = (nrows * 1024 * 4) as f64;
        out.insert("p8_s3_upload_1GiB_s".into(), json!(up));
        out.insert("p8_read_1pct_bytes_transferred".into(), json!(b1 - b0));
        out.insert(
            "p8_read_1pct_fraction_of_file".into(),
            json!((b1 - b0) as f64 / file),
        );
        out.insert("p8_read_1pct_requests".into(), json!(req1 - req0));
        out.insert("p8_read_1pct_s".into(), json!(dt));
    }
    serde_json::Value::Object(out)
}
