//! `dj-bench objects <dir>`: staged writes and gc through the C ABI on DuckDB + a file store.
//! - a 1 GiB dataset written in 4 MiB chunks through `dj_staged_open` / `dj_writer_write`,
//!   committed, vs `dd` of the same bytes into the same folder;
//! - 1,000 small files (4 KiB) through `dj_staged_put` vs plain file writes;
//! - gc of a schema with 100,000 objects (half of them orphans): dry run, then the collection.

use crate::common::check;
use datajoint::*;
use serde_json::json;
use std::ffi::CString;
use std::path::Path;
use std::ptr;
use std::time::Instant;

const GIB: usize = 1 << 30;
const CHUNK: usize = 4 << 20;

unsafe fn row_id(id: i64) -> *mut dj_row {
    let mut r = ptr::null_mut();
    check(dj_row_new(&mut r));
    check(dj_row_set_int(r, c"id".as_ptr(), id));
    r
}

unsafe fn staged(t: *mut dj_table, id: i64) -> *mut dj_staged {
    let mut s = ptr::null_mut();
    check(dj_staged_begin(t, &mut s));
    let r = row_id(id);
    check(dj_staged_set(s, r));
    dj_row_free(r);
    s
}

fn drop_caches_hint(path: &Path) {
    // keep the runs comparable: the page cache holds what was written; flush it to disk
    let _ = std::process::Command::new("sync").arg(path).status();
}

pub fn run(dir: &Path) -> serde_json::Value {
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let o = json!({"database.backend": "duckdb", "database.path": dir.join("bench.duckdb"),
                   "stores": {"default": "main", "main": {"protocol": "file", "location": store}}});
    let o = CString::new(o.to_string()).unwrap();
    let mut out = serde_json::Map::new();
    unsafe {
        let mut conn = ptr::null_mut();
        check(dj_connect(ptr::null(), o.as_ptr(), &mut conn));
        let mut sch = ptr::null_mut();
        check(dj_schema_open(conn, c"objbench".as_ptr(), 1, &mut sch));
        let mut t = ptr::null_mut();
        check(dj_table_declare(
            sch,
            c"Dataset".as_ptr(),
            DJ_TIER_MANUAL,
            c"id : int32\n---\ndata : <object@>".as_ptr(),
            &mut t,
        ));
        let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        // 1 GiB staged file vs dd, three rounds each, best of
        let (mut ours, mut dd, mut raw) = (f64::MAX, f64::MAX, f64::MAX);
        for round in 0..3 {
            let t0 = Instant::now();
            let s = staged(t, 100 + round);
            let mut w = ptr::null_mut();
            check(dj_staged_open(
                s,
                c"data".as_ptr(),
                c".raw".as_ptr(),
                &mut w,
            ));
            for _ in 0..GIB / CHUNK {
                check(dj_writer_write(w, chunk.as_ptr() as *const _, CHUNK));
            }
            let mut n = 0u64;
            check(dj_writer_close(w, &mut n));
            dj_writer_free(w);
            check(dj_staged_commit(s));
            dj_staged_free(s);
            ours = ours.min(t0.elapsed().as_secs_f64());
            assert_eq!(n as usize, GIB);
            drop_caches_hint(&store);
            let target = store.join(format!("dd-{round}.raw"));
            let t0 = Instant::now();
            let st = std::process::Command::new("dd")
                .args([
                    "if=/dev/zero",
                    &format!("of={}", target.display()),
                    "bs=4M",
                    &format!("count={}", GIB / CHUNK),
                    "status=none",
                ])
                .status()
                .unwrap();
            assert!(st.success());
            dd = dd.min(t0.elapsed().as_secs_f64());
            std::fs::remove_file(&target).unwrap();
            drop_caches_hint(&store);
            // the same chunks written with plain file I/O from this process
            let target = store.join(format!("raw-{round}.raw"));
            let t0 = Instant::now();
            {
                use std::io::Write;
                let mut f = std::fs::File::create(&target).unwrap();
                for _ in 0..GIB / CHUNK {
                    f.write_all(&chunk).unwrap();
                }
            }
            raw = raw.min(t0.elapsed().as_secs_f64());
            std::fs::remove_file(&target).unwrap();
            drop_caches_hint(&store);
        }
        out.insert("raw_file_write_1GiB_4MiB_chunks_s".into(), json!(raw));
        out.insert("staged_1GiB_4MiB_chunks_s".into(), json!(ours));
        out.insert("raw_dd_1GiB_bs4M_s".into(), json!(dd));
        out.insert("staged_1GiB_MiB_per_s".into(), json!(1024.0 / ours));
        // 1,000 small files
        let small: Vec<u8> = vec![7u8; 4096];
        let (mut ours_small, mut raw_small) = (f64::MAX, f64::MAX);
        for round in 0..3 {
            let t0 = Instant::now();
            let s = staged(t, 200 + round);
            for i in 0..1000 {
                let key = CString::new(format!("c/{}/{}", i / 100, i % 100)).unwrap();
                check(dj_staged_put(
                    s,
                    c"data".as_ptr(),
                    key.as_ptr(),
                    small.as_ptr() as *const _,
                    small.len(),
                ));
            }
            check(dj_staged_commit(s));
            dj_staged_free(s);
            ours_small = ours_small.min(t0.elapsed().as_secs_f64());
            let raw = store.join(format!("raw-small-{round}"));
            let t0 = Instant::now();
            for i in 0..1000 {
                let p = raw.join(format!("c/{}/{}", i / 100, i % 100));
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, &small).unwrap();
            }
            raw_small = raw_small.min(t0.elapsed().as_secs_f64());
            std::fs::remove_dir_all(&raw).unwrap();
        }
        out.insert("staged_1000_small_files_s".into(), json!(ours_small));
        out.insert("raw_1000_small_files_s".into(), json!(raw_small));
        // gc of 100,000 objects: 50,000 referenced (one staged folder), 50,000 orphans
        let s = staged(t, 300);
        for i in 0..50_000 {
            let key = CString::new(format!("k/{}/{}", i / 1000, i % 1000)).unwrap();
            check(dj_staged_put(
                s,
                c"data".as_ptr(),
                key.as_ptr(),
                small.as_ptr() as *const _,
                16,
            ));
        }
        check(dj_staged_commit(s));
        dj_staged_free(s);
        let orphan_root = store.join("_schema/objbench/dataset/id=999/data_ORPHANS");
        for i in 0..50_000 {
            let p = orphan_root.join(format!("{}/{}", i / 1000, i % 1000));
            if i % 1000 == 0 {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            }
            std::fs::write(&p, &small[..16]).unwrap();
        }
        let mut opts: dj_gc_opts = std::mem::zeroed();
        check(dj_gc_opts_init(&mut opts));
        opts.grace_seconds = 0.0;
        opts.dry_run = 1;
        let mut stats = dj_gc_stats::default();
        let t0 = Instant::now();
        check(dj_schema_gc(sch, &opts, &mut stats));
        let dry = t0.elapsed().as_secs_f64();
        assert_eq!(stats.orphaned_schema, 50_000);
        out.insert("gc_dry_run_100k_objects_s".into(), json!(dry));
        out.insert("gc_dry_run_requests".into(), json!(stats.requests));
        out.insert(
            "gc_objects_scanned".into(),
            json!(stats.schema_objects + stats.hash_objects),
        );
        opts.dry_run = 0;
        let t0 = Instant::now();
        check(dj_schema_gc(sch, &opts, &mut stats));
        out.insert(
            "gc_collect_50k_orphans_of_100k_s".into(),
            json!(t0.elapsed().as_secs_f64()),
        );
        out.insert("gc_collect_requests".into(), json!(stats.requests));
        assert_eq!(stats.deleted, 50_000);
        dj_table_free(t);
        check(dj_schema_drop(sch));
        dj_schema_free(sch);
        dj_conn_free(conn);
    }
    serde_json::Value::Object(out)
}
