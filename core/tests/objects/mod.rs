//! `<object@>`, `<filepath@>`, ObjectRef, staged inserts and gc, on a local folder store and
//! on the S3 test server (part of the `npy` test binary: it shares its fixtures).

use super::{ci, env_with, file_env, files_under, support, Env};
use datajoint_core::codecs::object::ObjectRef;
use datajoint_core::gc::GcOptions;
use datajoint_core::*;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

fn code<T>(r: Result<T>) -> ErrorCode {
    match r {
        Err(e) => e.code,
        Ok(_) => panic!("expected an error"),
    }
}

fn objects_table(env: &Env, store: &str) -> Table {
    let s = env.conn.schema(&env.schema, true).unwrap();
    s.declare(
        "Recording",
        Tier::Manual,
        &format!(
            "rec_id : int32\n---\ndata = null : <object@{store}>   # a file or folder\nnote = '' : varchar(40)"
        ),
    )
    .unwrap()
}

/// A local folder of `n` files in two levels, and its (relative path, bytes).
fn make_folder(dir: &Path, n: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..n {
        let rel = if i % 2 == 0 {
            format!("f{i:04}.bin")
        } else {
            format!("sub/d{}/f{i:04}.bin", i % 5)
        };
        let body: Vec<u8> = (0..(i % 97 + 1)).map(|k| (k * 7 + i) as u8).collect();
        let p = dir.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &body).unwrap();
        out.push((rel, body));
    }
    out.sort();
    out
}

fn object_ref(t: &Table, id: i64, col: &str) -> ObjectRef {
    let rs = t
        .restrict_key(&Row::new().with("rec_id", id))
        .unwrap()
        .fetch(&FetchOptions::default())
        .unwrap();
    assert_eq!(rs.nrows, 1, "row {id}");
    t.objectref(&rs, col, 0).unwrap()
}

fn raw_json(t: &Table, id: i64, col: &str) -> serde_json::Value {
    let rs = t
        .restrict_key(&Row::new().with("rec_id", id))
        .unwrap()
        .fetch(&FetchOptions {
            raw: true,
            ..Default::default()
        })
        .unwrap();
    match rs.column(col).unwrap().value(0) {
        Value::Json(j) => serde_json::from_str(&j).unwrap(),
        other => panic!("{other:?}"),
    }
}

/// Files, folders, bytes and (ext, bytes) as `<object@>`; ObjectRef reads; `<filepath@>`
/// references; deletes remove objects but never `<filepath@>` targets.
fn objects_round_trip(env: &Env, store: &str) {
    let b = &env.conn.backend_kind().unwrap();
    let t = objects_table(env, store);
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("trace.dat");
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &payload).unwrap();
    let folder = src.path().join("session");
    let files = make_folder(&folder, 12);
    t.insert_rows(
        &[
            Row::new()
                .with("rec_id", 1i64)
                .with("data", file.to_str().unwrap()),
            Row::new()
                .with("rec_id", 2i64)
                .with("data", folder.to_str().unwrap()),
            Row::new()
                .with("rec_id", 3i64)
                .with("data", Value::Bytes(b"raw bytes".to_vec())),
            Row::new().with("rec_id", 4i64).with(
                "data",
                Value::attachment("bin", bytes::Bytes::from_static(b"\x01\x02\x03")),
            ),
            Row::new().with("rec_id", 5i64).with("data", Value::Null),
        ],
        Default::default(),
    )
    .unwrap();
    // the column JSON as the reference writes it
    let j = raw_json(&t, 1, "data");
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for k in [
        "path",
        "store",
        "size",
        "ext",
        "is_dir",
        "item_count",
        "timestamp",
    ] {
        assert!(keys.contains(&k), "{b}: {k} missing in {j}");
    }
    assert_eq!(j["size"], 300_000);
    assert_eq!(j["ext"], ".dat");
    assert_eq!(j["is_dir"], false);
    assert!(j["item_count"].is_null());
    assert!(j["timestamp"].as_str().unwrap().ends_with("+00:00"));
    let path = j["path"].as_str().unwrap();
    assert!(
        path.starts_with(&format!("_schema/{}/recording/rec_id=1/data_", env.schema)),
        "{b}: {path}"
    );
    assert!(path.ends_with(".dat"));
    let fr = object_ref(&t, 1, "data");
    assert_eq!(fr.meta.size, Some(300_000));
    assert_eq!(fr.read("", None).unwrap(), payload);
    assert_eq!(
        fr.read("", Some(1000..1010)).unwrap(),
        payload[1000..1010].to_vec()
    );
    let mut rd = fr.open("", 299_990).unwrap();
    let mut tail = Vec::new();
    rd.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, payload[299_990..].to_vec());
    let mut whole = Vec::new();
    fr.open("", 0).unwrap().read_to_end(&mut whole).unwrap();
    assert_eq!(whole, payload, "{b}: streamed read");
    assert_eq!(fr.files().unwrap(), vec![(String::new(), 300_000)]);
    let dl = src.path().join("dl/trace.dat");
    assert_eq!(fr.download(&dl).unwrap(), 300_000);
    assert_eq!(std::fs::read(&dl).unwrap(), payload);
    assert!(fr.verify().unwrap());
    // a folder: every file, the manifest, listing, subpath reads, download
    let j2 = raw_json(&t, 2, "data");
    let total: usize = files.iter().map(|(_, d)| d.len()).sum();
    assert_eq!(
        (j2["is_dir"].as_bool(), j2["item_count"].as_u64()),
        (Some(true), Some(12))
    );
    assert_eq!(j2["size"].as_u64(), Some(total as u64));
    assert!(j2["ext"].is_null());
    let dr = object_ref(&t, 2, "data");
    let listed = dr.files().unwrap();
    assert_eq!(
        listed,
        files
            .iter()
            .map(|(p, d)| (p.clone(), d.len() as u64))
            .collect::<Vec<_>>(),
        "{b}"
    );
    for (p, d) in &files {
        assert_eq!(&dr.read(p, None).unwrap()[..], &d[..], "{b}: {p}");
    }
    assert!(dr.exists("sub/d1/f0001.bin").unwrap());
    assert!(!dr.exists("nope.bin").unwrap());
    assert_eq!(code(dr.read("", None)), ErrorCode::InvalidArgument);
    assert_eq!(code(dr.read("../x", None)), ErrorCode::InvalidArgument);
    let st = env.conn.stores().get(store).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&st.get(&format!("{}.manifest.json", dr.meta.path)).unwrap())
            .unwrap();
    assert_eq!(manifest["item_count"], 12);
    assert_eq!(manifest["total_size"], total);
    assert_eq!(manifest["files"][0]["path"], files[0].0);
    let dd = src.path().join("dl/session");
    dr.download(&dd).unwrap();
    for (p, d) in &files {
        assert_eq!(&std::fs::read(dd.join(p)).unwrap(), d);
    }
    // bytes and (ext, bytes)
    assert_eq!(
        object_ref(&t, 3, "data").read("", None).unwrap(),
        &b"raw bytes"[..]
    );
    let j4 = raw_json(&t, 4, "data");
    assert_eq!(j4["ext"], "bin");
    assert!(j4["path"].as_str().unwrap().ends_with(".bin"));
    assert_eq!(
        object_ref(&t, 4, "data").read("", None).unwrap(),
        &b"\x01\x02\x03"[..]
    );
    // local stores: the object's own path
    if st.is_local() {
        let lp = fr.local_path().unwrap().unwrap();
        assert_eq!(std::fs::read(lp).unwrap(), payload);
        assert!(dr.local_path().unwrap().unwrap().is_dir());
    } else {
        assert!(fr.local_path().unwrap().is_none());
    }
    // bad input: nothing inserted, nothing written
    let before = st.list("").unwrap().len();
    let missing = src.path().join("missing.dat");
    for (id, v, want) in [
        (
            10,
            Value::String(missing.to_str().unwrap().into()),
            ErrorCode::Type,
        ),
        (11, Value::Int(3), ErrorCode::Type),
        (12, Value::Float(2.5), ErrorCode::Type),
    ] {
        let e = t
            .insert1(
                &Row::new().with("rec_id", id as i64).with("data", v),
                Default::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, want, "{b}: {e}");
        assert!(e.message.contains("'data'"), "{e}");
    }
    // a duplicate key in the batch: the first row's folder is removed again
    let e = t
        .insert_rows(
            &[
                Row::new()
                    .with("rec_id", 20i64)
                    .with("data", folder.to_str().unwrap()),
                Row::new()
                    .with("rec_id", 1i64)
                    .with("data", file.to_str().unwrap()),
            ],
            Default::default(),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Duplicate, "{e}");
    assert_eq!(
        st.list("").unwrap().len(),
        before,
        "{b}: a failed batch left objects"
    );
    // delete removes files, folders and manifests
    (t.restrict_sql("rec_id <= 2").unwrap()).delete().unwrap();
    assert!(st.head(&fr.meta.path).unwrap().is_none());
    assert!(st.list(&dr.meta.path).unwrap().is_empty());
    assert!(st
        .head(&format!("{}.manifest.json", dr.meta.path))
        .unwrap()
        .is_none());
    t.delete().unwrap();
    assert!(
        st.list(&format!("_schema/{}", env.schema))
            .unwrap()
            .is_empty(),
        "{b}: objects left after deleting every row"
    );
}

fn filepath_checks(env: &Env, store: &str) {
    let b = &env.conn.backend_kind().unwrap();
    let s = env.conn.schema(&env.schema, true).unwrap();
    let t = s
        .declare(
            "Raw",
            Tier::Manual,
            &format!("raw_id : int32\n---\nsrc : <filepath@{store}>"),
        )
        .unwrap();
    let st = env.conn.stores().get(store).unwrap();
    st.put_parts(
        "raw/session1/a.txt",
        vec![bytes::Bytes::from_static(b"hello")],
    )
    .unwrap();
    st.put_parts(
        "raw/session1/b/c.txt",
        vec![bytes::Bytes::from_static(b"hi")],
    )
    .unwrap();
    t.insert_rows(
        &[
            Row::new()
                .with("raw_id", 1i64)
                .with("src", "raw/session1/a.txt"),
            Row::new().with("raw_id", 2i64).with("src", "raw/session1"),
        ],
        Default::default(),
    )
    .unwrap();
    let rs = t
        .fetch(&FetchOptions {
            order_by: Some("raw_id".into()),
            ..Default::default()
        })
        .unwrap();
    let a = t.objectref(&rs, "src", 0).unwrap();
    assert_eq!((a.meta.size, a.meta.is_dir), (Some(5), false));
    assert_eq!(a.read("", None).unwrap(), &b"hello"[..]);
    let d = t.objectref(&rs, "src", 1).unwrap();
    assert_eq!((d.meta.size, d.meta.is_dir), (None, true), "{b}");
    assert_eq!(
        d.files().unwrap(),
        vec![("a.txt".to_string(), 5), ("b/c.txt".to_string(), 2)]
    );
    let raw = t
        .fetch(&FetchOptions {
            raw: true,
            order_by: Some("raw_id".into()),
            ..Default::default()
        })
        .unwrap();
    let Value::Json(j) = raw.column("src").unwrap().value(0) else {
        panic!()
    };
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    let mut keys: Vec<&String> = j.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["is_dir", "path", "size", "store", "timestamp"]);
    // refused: traversal, absolute, managed sections, missing, symlink out of the store
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"x").unwrap();
    if let Some(root) = st.local_path("") {
        std::os::unix::fs::symlink(outside.path(), root.join("raw/escape")).unwrap();
    }
    let mut bad = vec![
        ("../etc/passwd", ErrorCode::InvalidArgument),
        ("raw/../../x", ErrorCode::InvalidArgument),
        ("/etc/passwd", ErrorCode::InvalidArgument),
        ("_hash/x/abc", ErrorCode::InvalidArgument),
        ("_schema/x/y", ErrorCode::InvalidArgument),
        ("raw/nope.txt", ErrorCode::NotFound),
    ];
    if st.is_local() {
        bad.push(("raw/escape/secret.txt", ErrorCode::InvalidArgument));
    }
    for (i, (p, want)) in bad.iter().enumerate() {
        let e = t
            .insert1(
                &Row::new().with("raw_id", 10 + i as i64).with("src", *p),
                Default::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, *want, "{b}: {p}: {e}");
        assert!(
            e.message.contains(p.trim_start_matches('/')) || e.message.contains("src"),
            "{e}"
        );
    }
    assert_eq!(t.count().unwrap(), 2);
    // the user's files stay when the rows go
    t.delete().unwrap();
    assert!(st.head("raw/session1/a.txt").unwrap().is_some());
    assert!(st.head("raw/session1/b/c.txt").unwrap().is_some());
    t.drop().unwrap();
}

#[test]
fn objects_and_filepaths_on_a_file_store() {
    for b in support::backends() {
        let env = file_env(&b);
        objects_round_trip(&env, "main");
        filepath_checks(&env, "main");
    }
}

/// Staged inserts of a 1,000-file folder (put), a large file in 4 MiB chunks (open) and a
/// local folder written with plain file I/O; errors midway, in the final insert, and misuse.
fn staged_suite(env: &Env, store: &str, big: u64) {
    let b = &env.conn.backend_kind().unwrap();
    let t = objects_table(env, store);
    let st = env.conn.stores().get(store).unwrap();
    // a folder of 1,000 files through put
    let mut s = t.staged_insert1().unwrap();
    assert_eq!(
        code(s.put("data", "x.bin", b"1")),
        ErrorCode::InvalidArgument,
        "a field before the primary key"
    );
    s.set("rec_id", Value::Int(1)).unwrap();
    assert_eq!(
        code(s.open("note", "")),
        ErrorCode::Type,
        "a field that is not <object@>"
    );
    assert_eq!(code(s.open("nope", "")), ErrorCode::UnknownAttribute);
    for bad in ["../x", "/abs", "a//b", "a/./b", "a\\b", ""] {
        assert_eq!(
            code(s.put("data", bad, b"1")),
            ErrorCode::InvalidArgument,
            "{bad}"
        );
    }
    let mut expect = Vec::new();
    for i in 0..1000 {
        let key = format!("c/{}/{}", i / 100, i % 100);
        let body = format!("chunk {i}").into_bytes();
        s.put("data", &key, &body).unwrap();
        expect.push((key, body));
    }
    s.put("data", ".zarray", b"{}").unwrap();
    expect.push((".zarray".into(), b"{}".to_vec()));
    expect.sort();
    assert_eq!(
        code(s.open("data", ".bin")),
        ErrorCode::InvalidArgument,
        "file after folder"
    );
    assert_eq!(
        code(s.set("rec_id", Value::Int(2))),
        ErrorCode::InvalidArgument,
        "the key is in the paths already"
    );
    s.set("note", Value::String("zarr".into())).unwrap();
    s.commit().unwrap();
    let j = raw_json(&t, 1, "data");
    let total: usize = expect.iter().map(|(_, d)| d.len()).sum();
    assert_eq!(
        (
            j["is_dir"].as_bool(),
            j["item_count"].as_u64(),
            j["size"].as_u64()
        ),
        (Some(true), Some(1001), Some(total as u64)),
        "{b}"
    );
    assert!(
        j["path"]
            .as_str()
            .unwrap()
            .starts_with(&format!("_schema/{}/recording/rec_id=1/data_", env.schema)),
        "{j}"
    );
    let r = object_ref(&t, 1, "data");
    let files = r.files().unwrap();
    assert_eq!(files.len(), 1001);
    for (k, d) in expect.iter().step_by(97) {
        assert_eq!(&r.read(k, None).unwrap()[..], &d[..], "{b}: {k}");
    }
    assert!(st
        .head(&format!("{}.manifest.json", r.meta.path))
        .unwrap()
        .is_none());
    // one big file through a stream, 4 MiB at a time, with progress
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut s = t.staged_insert1().unwrap();
    s.set("rec_id", Value::Int(2)).unwrap();
    let seen2 = seen.clone();
    s.set_progress(Some(std::sync::Arc::new(move |n| {
        seen2.store(n, std::sync::atomic::Ordering::Relaxed)
    })));
    let mut w = s.open("data", ".raw").unwrap();
    let mut chunk = vec![0u8; 4 << 20];
    let mut k = 0u64;
    let mut md5 = md5_state();
    while k < big {
        let n = chunk.len().min((big - k) as usize);
        for (i, x) in chunk[..n].iter_mut().enumerate().step_by(4096) {
            *x = ((k as usize + i) / 4096) as u8;
        }
        w.write_all(&chunk[..n]).unwrap();
        md5.update(&chunk[..n]);
        k += n as u64;
    }
    assert_eq!(w.finish().unwrap(), big);
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), big);
    s.commit().unwrap();
    let j = raw_json(&t, 2, "data");
    assert_eq!(
        (j["size"].as_u64(), j["is_dir"].as_bool(), j["ext"].as_str()),
        (Some(big), Some(false), Some(".raw"))
    );
    let r = object_ref(&t, 2, "data");
    let mut rd = r.open("", 0).unwrap();
    let mut back = md5_state();
    let mut buf = vec![0u8; 1 << 20];
    let mut n_back = 0u64;
    loop {
        let n = rd.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        back.update(&buf[..n]);
        n_back += n as u64;
    }
    assert_eq!(n_back, big);
    assert_eq!(
        back.finalize(),
        md5.finalize(),
        "{b}: the big file's bytes differ"
    );
    // a local folder written with plain file I/O
    if st.is_local() {
        let mut s = t.staged_insert1().unwrap();
        s.set("rec_id", Value::Int(3)).unwrap();
        let d = s.local_dir("data").unwrap();
        std::fs::create_dir_all(d.join("g")).unwrap();
        std::fs::write(d.join("g/a.h5"), vec![1u8; 1000]).unwrap();
        std::fs::write(d.join("b.txt"), b"xy").unwrap();
        s.commit().unwrap();
        let j = raw_json(&t, 3, "data");
        assert_eq!(
            (j["size"].as_u64(), j["item_count"].as_u64()),
            (Some(1002), Some(2))
        );
    } else {
        let mut s = t.staged_insert1().unwrap();
        s.set("rec_id", Value::Int(3)).unwrap();
        assert_eq!(code(s.local_dir("data")), ErrorCode::Unsupported);
    }
    let rows = t.count().unwrap();
    let objects = st.list("").unwrap();
    // an error midway: dropping (or aborting) removes what was written
    {
        let mut s = t.staged_insert1().unwrap();
        s.set("rec_id", Value::Int(4)).unwrap();
        for i in 0..20 {
            s.put("data", &format!("k{i}"), &[7u8; 1000]).unwrap();
        }
        let mut s2 = t.staged_insert1().unwrap();
        s2.set("rec_id", Value::Int(5)).unwrap();
        let mut w = s2.open("data", ".bin").unwrap();
        w.write_all(&[1u8; 10_000_000]).unwrap();
        w.finish().unwrap();
        s2.abort().unwrap();
        // s is dropped here, as when the writing code returns an error
    }
    // the final insert fails (duplicate key): nothing stays
    let mut s = t.staged_insert1().unwrap();
    s.set("rec_id", Value::Int(1)).unwrap();
    s.put("data", "a", b"dup").unwrap();
    assert_eq!(code(s.commit()), ErrorCode::Duplicate);
    // nothing written at all
    let mut s = t.staged_insert1().unwrap();
    s.set("rec_id", Value::Int(6)).unwrap();
    let w = s.open("data", "").unwrap();
    drop(w);
    if !st.is_local() {
        assert_eq!(
            code(s.commit()),
            ErrorCode::InvalidArgument,
            "an unfinished stream"
        );
    } else {
        s.abort().unwrap();
    }
    assert_eq!(t.count().unwrap(), rows, "{b}");
    assert_eq!(
        st.list("").unwrap(),
        objects,
        "{b}: failed staged inserts left objects"
    );
    t.delete().unwrap();
    assert!(st
        .list(&format!("_schema/{}", env.schema))
        .unwrap()
        .is_empty());
}

struct Md5(md5::Md5);
fn md5_state() -> Md5 {
    use md5::Digest;
    Md5(md5::Md5::new())
}
impl Md5 {
    fn update(&mut self, b: &[u8]) {
        use md5::Digest;
        self.0.update(b);
    }
    fn finalize(self) -> Vec<u8> {
        use md5::Digest;
        self.0.finalize().to_vec()
    }
}

#[test]
fn staged_inserts_on_a_file_store() {
    for b in support::backends() {
        let env = file_env(&b);
        // the 1 GiB file once (DuckDB); smaller ones on the servers
        let big = if b == "duckdb" { 1 << 30 } else { 24 << 20 };
        staged_suite(&env, "main", big);
    }
}

/// Orphans of failed inserts and crashed writers are collected; referenced and young objects
/// stay; a dry run deletes nothing; a listing error deletes nothing.
fn gc_suite(env: &Env, store: &str) {
    let b = &env.conn.backend_kind().unwrap();
    let s = env.conn.schema(&env.schema, true).unwrap();
    let t = objects_table(env, store);
    let h = s
        .declare(
            "Hashed",
            Tier::Manual,
            &format!("h_id : int32\n---\nh : <hash@{store}>\nn = null : <npy@{store}>"),
        )
        .unwrap();
    let st = env.conn.stores().get(store).unwrap();
    let src = tempfile::tempdir().unwrap();
    let folder = src.path().join("f");
    make_folder(&folder, 6);
    t.insert1(
        &Row::new()
            .with("rec_id", 1i64)
            .with("data", folder.to_str().unwrap()),
        Default::default(),
    )
    .unwrap();
    let arr = datajoint_core::value::ArrayValue::new(
        datajoint_core::npy::Dtype::Float64,
        vec![3],
        false,
        vec![0u8; 24],
    );
    h.insert1(
        &Row::new()
            .with("h_id", 1i64)
            .with("h", Value::Bytes(b"kept".to_vec()))
            .with("n", Value::Array(arr.clone())),
        Default::default(),
    )
    .unwrap();
    let kept = st.list("").unwrap();
    // orphans as the reference leaves them: objects written, rows never committed
    let hp = format!("_hash/{}/aaaaaaaaaaaaaaaaaaaaaaaaaa", env.schema);
    st.put_parts(&hp, vec![bytes::Bytes::from_static(b"orphan")])
        .unwrap();
    let sp = format!("_schema/{}/recording/rec_id=9/data_XXXXXXXX", env.schema);
    for i in 0..5 {
        st.put_parts(
            &format!("{sp}/{i}"),
            vec![bytes::Bytes::from(vec![1u8; 100])],
        )
        .unwrap();
    }
    st.put_parts(
        &format!("{sp}.manifest.json"),
        vec![bytes::Bytes::from_static(b"{}")],
    )
    .unwrap();
    // not an object of this schema's layout: never touched
    st.put_parts("elsewhere/file.txt", vec![bytes::Bytes::from_static(b"x")])
        .unwrap();
    let young = s
        .gc(&GcOptions {
            dry_run: false,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((young.deleted, young.young), (0, 7), "{b}: {young:?}");
    std::thread::sleep(Duration::from_millis(1100));
    let dry = s
        .gc(&GcOptions {
            dry_run: true,
            grace: Duration::from_secs(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        (
            dry.orphaned_hash,
            dry.orphaned_schema,
            dry.deleted,
            dry.orphaned_bytes
        ),
        (1, 6, 0, 6 + 500 + 2),
        "{b}: {dry:?}"
    );
    assert!(dry.references >= 3 && dry.hash_objects == 2, "{dry:?}");
    // a store that cannot be listed: an error, nothing deleted
    if let Ok(dead) = env.conn.stores().get("dead") {
        let _ = dead;
        let e = s
            .gc(&GcOptions {
                store: Some("dead".into()),
                grace: Duration::ZERO,
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Store, "{e}");
    }
    let done = s
        .gc(&GcOptions {
            grace: Duration::from_secs(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((done.deleted, done.bytes_freed), (7, 508), "{b}: {done:?}");
    let mut left = st.list("").unwrap();
    left.retain(|l| l.path != "elsewhere/file.txt");
    assert_eq!(
        left.iter().map(|l| &l.path).collect::<Vec<_>>(),
        kept.iter().map(|l| &l.path).collect::<Vec<_>>(),
        "{b}: gc removed a referenced object"
    );
    assert!(st.head("elsewhere/file.txt").unwrap().is_some());
    let again = s
        .gc(&GcOptions {
            grace: Duration::ZERO,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(again.deleted, 0, "{again:?}");
    // the objects are still readable
    let r = object_ref(&t, 1, "data");
    assert_eq!(r.files().unwrap().len(), 6);
    st.delete("elsewhere/file.txt").unwrap();
    t.delete().unwrap();
    h.delete().unwrap();
    assert!(
        st.list("").unwrap().is_empty(),
        "{b}: {:?}",
        st.list("").unwrap()
    );
}

#[test]
fn gc_collects_orphans_only() {
    for b in support::backends() {
        let env = file_env(&b);
        gc_suite(&env, "main");
    }
}

/// Child of `a_killed_writer_leaves_orphans_for_gc`: writes a staged folder and a file, then
/// says so and waits to be killed.
#[test]
fn staged_child() {
    let Ok(spec) = std::env::var("DJ_STAGED_CHILD") else {
        return;
    };
    let parts: Vec<&str> = spec.splitn(4, '|').collect();
    let (backend, schema, marker, extra) = (parts[0], parts[1], parts[2], parts[3]);
    let c = support::connect(backend, extra);
    let t = c.schema(schema, false).unwrap().table("Recording").unwrap();
    let mut s = t.staged_insert1().unwrap();
    s.set("rec_id", Value::Int(100)).unwrap();
    for i in 0..50 {
        s.put("data", &format!("part{i}"), &[i as u8; 4096])
            .unwrap();
    }
    std::fs::write(marker, b"ready").unwrap();
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_writer_leaves_orphans_for_gc() {
    let s3 = std::env::var("DJ_TEST_S3_ENDPOINT").ok();
    assert!(s3.is_some() || !ci(), "CI must run the S3 tests");
    let servers: Vec<String> = support::backends()
        .into_iter()
        .filter(|b| b != "duckdb")
        .collect();
    // every server with a file store; the first one with an S3 store as well
    let mut runs: Vec<(String, bool)> = servers.iter().map(|b| (b.clone(), false)).collect();
    if let (Some(_), Some(first)) = (&s3, servers.first()) {
        runs.push((first.clone(), true));
    }
    for (b, on_s3) in runs {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&store_dir).unwrap();
        let stores = if on_s3 {
            serde_json::json!({"default": "main",
                "main": {"protocol": "s3", "endpoint": s3.clone().unwrap_or_default(),
                         "bucket": std::env::var("DJ_TEST_S3_BUCKET").unwrap_or_else(|_| "datajoint-test".into()),
                         "location": format!("kill-{}", datajoint_core::objpath::token(8)),
                         "access_key": "testing", "secret_key": "testing", "secure": false}})
        } else {
            serde_json::json!({"default": "main",
                "main": {"protocol": "file", "location": store_dir.to_str().unwrap()}})
        };
        let env = env_with(&b, stores.clone());
        let t = objects_table(&env, "main");
        let marker = dir.path().join("ready");
        let extra = serde_json::json!({"stores": stores}).to_string();
        let exe = std::env::current_exe().unwrap();
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "objects::staged_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(
                "DJ_STAGED_CHILD",
                format!("{b}|{}|{}|{extra}", env.schema, marker.display()),
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !marker.exists() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the child never got ready"
            );
            if let Some(st) = child.try_wait().unwrap() {
                panic!("the child exited: {st}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // kill -9: no cleanup runs
        child.kill().unwrap();
        child.wait().unwrap();
        let st = env.conn.stores().get("main").unwrap();
        let orphans = st.list(&format!("_schema/{}", env.schema)).unwrap();
        assert_eq!(orphans.len(), 50, "{b} (S3: {on_s3})");
        assert_eq!(t.count().unwrap(), 0);
        std::thread::sleep(Duration::from_millis(2100));
        // a live staged insert of this process, within the grace period
        let mut live = t.staged_insert1().unwrap();
        live.set("rec_id", Value::Int(7)).unwrap();
        live.put("data", "live.bin", b"still writing").unwrap();
        let s = env.conn.schema(&env.schema, false).unwrap();
        let g = s
            .gc(&GcOptions {
                grace: Duration::from_secs(2),
                ..Default::default()
            })
            .unwrap();
        assert_eq!((g.deleted, g.young), (50, 1), "{b} (S3: {on_s3}): {g:?}");
        live.put("data", "more.bin", b"done").unwrap();
        live.commit().unwrap();
        let r = object_ref(&t, 7, "data");
        assert_eq!(r.read("live.bin", None).unwrap(), &b"still writing"[..]);
        assert_eq!(r.meta.item_count, Some(2));
        let left = st.list(&format!("_schema/{}", env.schema)).unwrap();
        assert_eq!(left.len(), 2, "{b}: {left:?}");
        t.delete().unwrap();
        let _ = files_under(&store_dir);
    }
}

/// The same on the S3 test server, plus a store that is down during a staged write.
#[test]
fn objects_staged_and_gc_on_s3() {
    let Ok(endpoint) = std::env::var("DJ_TEST_S3_ENDPOINT") else {
        assert!(!ci(), "CI must run the S3 tests: the test command starts a server and sets DJ_TEST_S3_ENDPOINT");
        eprintln!("skipping S3 object tests: DJ_TEST_S3_ENDPOINT is not set");
        return;
    };
    let bucket = std::env::var("DJ_TEST_S3_BUCKET").unwrap_or_else(|_| "datajoint-test".into());
    for (i, b) in support::backends().into_iter().enumerate() {
        let location = format!("obj-{}", datajoint_core::objpath::token(8));
        let env = env_with(
            &b,
            serde_json::json!({
                "default": "s3",
                "s3": {"protocol": "s3", "endpoint": endpoint, "bucket": bucket, "location": location,
                       "access_key": "testing", "secret_key": "testing", "secure": false},
                "dead": {"protocol": "s3", "endpoint": "http://127.0.0.1:9", "bucket": bucket, "location": "x",
                         "access_key": "testing", "secret_key": "testing"},
            }),
        );
        objects_round_trip(&env, "s3");
        // the 1 GiB file once; smaller ones on the other backends
        staged_suite(&env, "s3", if i == 0 { 1 << 30 } else { 20 << 20 });
        gc_suite(&env, "s3");
        // S3 down during a staged write: a clear error, abort is best effort, gc reports it
        let s = env.conn.schema(&env.schema, true).unwrap();
        let t = s
            .declare("Dead", Tier::Manual, "d_id : int32\n---\nx : <object@dead>")
            .unwrap();
        let mut st = t.staged_insert1().unwrap();
        st.set("d_id", Value::Int(1)).unwrap();
        let e = st.put("x", "a.bin", b"lost").unwrap_err();
        assert_eq!(e.code, ErrorCode::Store, "{e}");
        assert_eq!(code(st.commit()), ErrorCode::Store);
        assert_eq!(t.count().unwrap(), 0);
        let e = s
            .gc(&GcOptions {
                store: Some("dead".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Store);
        t.drop().unwrap();
    }
}

/// Interop with DataJoint Python 2.3.5 on PostgreSQL: it reads our `<object@>` values and
/// staged folders, writes its own (staged_insert1 with class-name paths, and insert), and its
/// GarbageCollector and ours agree that neither side left orphans.
#[test]
fn objects_interop_with_datajoint_python() {
    let Some(python) = std::env::var_os("DJ_TEST_PYTHON") else {
        assert!(
            !ci(),
            "CI must run the object interop test: set DJ_TEST_PYTHON"
        );
        return;
    };
    for b in support::backends()
        .into_iter()
        .filter(|b| b == "postgresql")
    {
        let env = file_env(&b);
        let t = objects_table(&env, "main");
        let src = tempfile::tempdir().unwrap();
        let file = src.path().join("ours.dat");
        std::fs::write(&file, b"our file bytes").unwrap();
        let folder = src.path().join("ours");
        make_folder(&folder, 5);
        t.insert_rows(
            &[
                Row::new()
                    .with("rec_id", 1i64)
                    .with("data", file.to_str().unwrap()),
                Row::new()
                    .with("rec_id", 2i64)
                    .with("data", folder.to_str().unwrap()),
            ],
            Default::default(),
        )
        .unwrap();
        let mut s = t.staged_insert1().unwrap();
        s.set("rec_id", Value::Int(3)).unwrap();
        s.put("data", ".zgroup", b"{\"zarr_format\": 2}").unwrap();
        s.put("data", "x/0.0", &[5u8; 64]).unwrap();
        s.commit().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/object_interop.py");
        let out = std::process::Command::new(&python)
            .arg(&script)
            .args([&b, &env.schema, env.store_dir.to_str().unwrap()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{b}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout
                .lines()
                .last()
                .unwrap_or_default()
                .ends_with(" 0 failed"),
            "{b}: DataJoint Python disagrees:\n{stdout}"
        );
        // its rows: 10 (insert of a file), 11 (insert of a folder), 12 (staged_insert1)
        let r10 = object_ref(&t, 10, "data");
        assert_eq!(r10.read("", None).unwrap(), &b"python file"[..]);
        let r11 = object_ref(&t, 11, "data");
        assert_eq!(
            r11.files().unwrap(),
            vec![("a.txt".to_string(), 1), ("sub/b.txt".to_string(), 2)]
        );
        let r12 = object_ref(&t, 12, "data");
        assert!(
            r12.meta.path.contains("/Recording/"),
            "class-name path: {}",
            r12.meta.path
        );
        assert_eq!(r12.read("zarr/0", None).unwrap(), &b"py chunk"[..]);
        assert_eq!(r12.meta.item_count, Some(2));
        let s = env.conn.schema(&env.schema, false).unwrap();
        let g = s
            .gc(&GcOptions {
                dry_run: true,
                grace: Duration::ZERO,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            (g.orphaned_hash, g.orphaned_schema),
            (0, 0),
            "{b}: our gc finds orphans in a schema both wrote: {g:?}"
        );
        assert!(g.schema_objects >= 5 + 1 + 2 + 1 + 2 + 2, "{g:?}");
    }
}
