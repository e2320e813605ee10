//! `dj-bench blob <dir> <schema>`: `<blob@>` on PostgreSQL (127.0.0.1) + a file store through the
//! C ABI: 200 × 1 MiB random float64 arrays inserted in one call and fetched + decoded; one
//! 256 MiB array of zeros (the compressed path); MD5 of 200 MiB in the core vs `md5sum`.
//! DataJoint Python 2.3.5 does the same in bench/blob_peers.py in the same run.

use crate::common::check;
use datajoint::*;
use serde_json::json;
use std::ffi::CString;
use std::path::Path;
use std::ptr;
use std::time::Instant;

const N: usize = 200;
const ELEMS: usize = 1 << 17; // 1 MiB of float64

fn random(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f64::from_bits((x >> 12) | 0x3FF0_0000_0000_0000) - 1.0
        })
        .collect()
}

unsafe fn array_value(data: &[f64], shape: [i64; 2]) -> *mut dj_value {
    let mut v = ptr::null_mut();
    check(dj_value_new_array(
        DJ_CLASS_DOUBLE,
        2,
        shape.as_ptr(),
        data.as_ptr() as *const _,
        ptr::null(),
        &mut v,
    ));
    v
}

pub fn run(dir: &Path, schema: &str) -> serde_json::Value {
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let o = json!({"database.backend": "postgresql", "database.host": "127.0.0.1",
                   "database.port": 5432, "database.user": "postgres", "database.name": "postgres",
                   "stores": {"main": {"protocol": "file", "location": store}}});
    let o = CString::new(o.to_string()).unwrap();
    let s = CString::new(schema).unwrap();
    let mut out = serde_json::Map::new();
    unsafe {
        let mut conn = ptr::null_mut();
        check(dj_connect(ptr::null(), o.as_ptr(), &mut conn));
        let mut sch = ptr::null_mut();
        check(dj_schema_open(conn, s.as_ptr(), 1, &mut sch));
        let mut t = ptr::null_mut();
        check(dj_table_declare(
            sch,
            c"Raw".as_ptr(),
            DJ_TIER_MANUAL,
            c"id : int32\n---\nx : <blob@main>".as_ptr(),
            &mut t,
        ));
        // 200 × 1 MiB random arrays, one insert call
        let arrays: Vec<Vec<f64>> = (0..N).map(|i| random(i as u64 + 1, ELEMS)).collect();
        let values: Vec<*mut dj_value> = arrays
            .iter()
            .map(|a| array_value(a, [ELEMS as i64, 1]))
            .collect();
        let ids: Vec<i32> = (0..N as i32).collect();
        let cols = [
            crate::common::column(c"id", DJ_KIND_INT32, &ids),
            crate::common::column(c"x", DJ_KIND_BLOB, &values),
        ];
        let t0 = Instant::now();
        let mut n = 0;
        check(dj_table_insert_columns(
            t,
            cols.as_ptr(),
            2,
            N,
            ptr::null(),
            &mut n,
        ));
        out.insert(
            "insert_200x1MiB_s".into(),
            json!(t0.elapsed().as_secs_f64()),
        );
        let t0 = Instant::now();
        let mut r = ptr::null_mut();
        check(dj_table_fetch(t, ptr::null(), &mut r));
        let mut checksum = 0.0;
        for row in 0..N {
            let mut v = ptr::null();
            check(dj_result_value(r, 1, row, &mut v));
            let mut a = std::mem::zeroed::<dj_blob_array>();
            check(dj_value_array(v, &mut a));
            checksum += *(a.real as *const f64);
        }
        out.insert(
            "fetch_decode_200x1MiB_s".into(),
            json!(t0.elapsed().as_secs_f64()),
        );
        out.insert("checksum".into(), json!(checksum));
        dj_result_free(r);
        for v in values {
            dj_value_free(v);
        }
        // 256 MiB of zeros: the compressed path
        let zeros = vec![0.0f64; 32 << 20];
        let z = array_value(&zeros, [zeros.len() as i64, 1]);
        let mut row = ptr::null_mut();
        check(dj_row_new(&mut row));
        check(dj_row_set_int(row, c"id".as_ptr(), 1000));
        check(dj_row_set_value(row, c"x".as_ptr(), z));
        let t0 = Instant::now();
        check(dj_table_insert1(t, row, ptr::null(), &mut n));
        out.insert(
            "insert_zeros_256MiB_s".into(),
            json!(t0.elapsed().as_secs_f64()),
        );
        let mut t1 = ptr::null_mut();
        check(dj_table_restrict_sql(t, c"id = 1000".as_ptr(), &mut t1));
        let t0 = Instant::now();
        check(dj_table_fetch(t1, ptr::null(), &mut r));
        out.insert(
            "fetch_zeros_256MiB_s".into(),
            json!(t0.elapsed().as_secs_f64()),
        );
        dj_result_free(r);
        dj_row_free(row);
        dj_value_free(z);
        dj_table_free(t1);
        let stored: u64 = std::fs::read_dir(store.join("_hash").join(schema))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        out.insert("stored_bytes_all_objects".into(), json!(stored));
        check(dj_schema_drop(sch));
        dj_table_free(t);
        dj_schema_free(sch);
        dj_conn_free(conn);
    }
    // MD5: the core's hashing (as the codec uses it) vs md5sum on the same 200 MiB
    let bytes: Vec<u8> = random(7, 25 << 20)
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let f = dir.join("md5.bin");
    std::fs::write(&f, &bytes).unwrap();
    let t0 = Instant::now();
    let h = datajoint_core::codecs::hash::content_hash(&bytes);
    out.insert(
        "md5_core_200MiB_s".into(),
        json!(t0.elapsed().as_secs_f64()),
    );
    out.insert("md5_core_hash".into(), json!(h));
    let _ = std::process::Command::new("md5sum").arg(&f).output(); // warm the page cache
    let t0 = Instant::now();
    let o = std::process::Command::new("md5sum")
        .arg(&f)
        .output()
        .unwrap();
    out.insert(
        "raw_md5sum_200MiB_s".into(),
        json!(t0.elapsed().as_secs_f64()),
    );
    assert!(o.status.success());
    serde_json::Value::Object(out)
}
