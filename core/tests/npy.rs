//! `<npy@>` against real stores: a local folder, and (when the test command started one) an
//! S3-compatible server on 127.0.0.1. numpy interop runs when DJ_TEST_PYTHON names a Python
//! with numpy; under CI both are required.

use datajoint_core::codecs::npy::NpyRef;
use datajoint_core::npy::Dtype;
use datajoint_core::value::ArrayValue;
use datajoint_core::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

mod objects;
mod support;

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

struct Env {
    /// the schema of the test (unique on the shared servers), dropped with `_db`
    schema: String,
    conn: Connection,
    _db: support::TestDb,
    store_dir: PathBuf,
    _dir: tempfile::TempDir,
}

fn env_with(backend: &str, stores: serde_json::Value) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    std::fs::create_dir_all(&store_dir).unwrap();
    let mut stores = stores;
    if stores.get("main").is_none() {
        stores["main"] =
            serde_json::json!({"protocol": "file", "location": store_dir.to_str().unwrap()});
    }
    let extra = serde_json::json!({
        "stores": stores,
        "npy_cache": {"path": dir.path().join("cache").to_str().unwrap()},
    });
    let db = support::TestDb::open_with(backend, &extra.to_string());
    eprintln!("-- backend {backend}");
    Env {
        schema: db.schema_name("lab"),
        conn: db.conn.clone(),
        _db: db,
        store_dir,
        _dir: dir,
    }
}

fn file_env(backend: &str) -> Env {
    env_with(backend, serde_json::json!({"default": "main"}))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Deterministic bytes for an array of `n` elements of `dtype`.
fn sample(dtype: Dtype, n: usize, seed: u8) -> Vec<u8> {
    let size = dtype.itemsize() * n;
    match dtype {
        Dtype::Bool => (0..n).map(|i| ((i + seed as usize) % 2) as u8).collect(),
        Dtype::Float16 => (0..n)
            .flat_map(|i| (0x3c00u16 + (i as u16 % 512)).to_le_bytes())
            .collect(),
        Dtype::Float32 => (0..n)
            .flat_map(|i| (i as f32 * 0.5 - seed as f32).to_le_bytes())
            .collect(),
        Dtype::Float64 | Dtype::Complex128 => (0..size / 8)
            .flat_map(|i| (i as f64 * 0.25 + seed as f64).to_le_bytes())
            .collect(),
        Dtype::Complex64 => (0..size / 4)
            .flat_map(|i| (i as f32 - 0.5).to_le_bytes())
            .collect(),
        Dtype::Bytes(_) => (0..size)
            .map(|i| b'a' + ((i + seed as usize) % 26) as u8)
            .collect(),
        Dtype::Unicode(_) => (0..size / 4)
            .flat_map(|i| (0x3b1u32 + (i as u32 % 20)).to_le_bytes())
            .collect(),
        _ => (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect(),
    }
}

const DTYPES: [Dtype; 16] = [
    Dtype::Bool,
    Dtype::Int8,
    Dtype::Int16,
    Dtype::Int32,
    Dtype::Int64,
    Dtype::Uint8,
    Dtype::Uint16,
    Dtype::Uint32,
    Dtype::Uint64,
    Dtype::Float16,
    Dtype::Float32,
    Dtype::Float64,
    Dtype::Complex64,
    Dtype::Complex128,
    Dtype::Bytes(5),
    Dtype::Unicode(3),
];

const SHAPES: [&[u64]; 3] = [&[], &[7], &[2, 3, 4]];

fn declare_rec(env: &Env, store: &str) -> Table {
    let s = env.conn.schema(&env.schema, true).unwrap();
    s.declare(
        "Rec",
        Tier::Manual,
        &format!("rec_id : int32\n---\narr = null : <npy@{store}>   # the array\nnote = '' : varchar(20)"),
    )
    .unwrap()
}

/// Insert every dtype × {0-d, 1-d, 3-d} × {C, F} and read each back through load and map.
fn round_trip_all(env: &Env, store: &str) -> Vec<(i64, ArrayValue)> {
    let t = declare_rec(env, store);
    let mut rows = Vec::new();
    let mut expected = Vec::new();
    let mut id = 0i64;
    for dtype in DTYPES {
        for shape in SHAPES {
            for fortran in [false, true] {
                let n: u64 = shape.iter().product();
                let arr = ArrayValue::new(
                    dtype,
                    shape.to_vec(),
                    fortran,
                    sample(dtype, n as usize, id as u8),
                );
                rows.push(
                    Row::new()
                        .with("rec_id", id)
                        .with("arr", Value::Array(arr.clone())),
                );
                expected.push((id, arr));
                id += 1;
            }
        }
    }
    assert_eq!(
        t.insert_rows(&rows, InsertOptions::default()).unwrap(),
        rows.len() as u64
    );
    let stats_before = env.conn.stores().get(store).unwrap().stats.snapshot();
    let rs = t
        .fetch(&FetchOptions {
            order_by: Some("rec_id".into()),
            ..Default::default()
        })
        .unwrap();
    let refs: Vec<NpyRef> = (0..rs.nrows)
        .map(|i| t.npyref(&rs, "arr", i).unwrap())
        .collect();
    for (r, (_, a)) in refs.iter().zip(&expected) {
        assert_eq!(r.dtype(), a.dtype);
        assert_eq!(r.shape(), &a.shape[..]);
        assert_eq!(r.nbytes(), a.data.bytes().len() as u64);
        assert!(!r.is_loaded());
        assert!(
            r.path()
                .starts_with(&format!("_schema/{}/rec/rec_id=", env.schema)),
            "{}",
            r.path()
        );
    }
    assert_eq!(
        env.conn.stores().get(store).unwrap().stats.snapshot(),
        stats_before,
        "fetching rows and making refs must not touch the store"
    );
    for (r, (id, a)) in refs.iter().zip(&expected) {
        let v = r.load().unwrap();
        assert_eq!(v.data(), a.data.bytes(), "load id {id} {:?}", a);
        assert_eq!(v.fortran_order, a.fortran_order && a.shape.len() > 1);
        assert!(r.is_loaded());
        let m = r.map().unwrap();
        assert_eq!(m.data(), a.data.bytes(), "map id {id}");
        assert!(m.mapped, "map gives a memory map");
    }
    expected
}

#[test]
fn every_dtype_and_layout_round_trips_in_a_file_store() {
    for b in support::backends() {
        let env = file_env(&b);
        let expected = round_trip_all(&env, "");
        // every object is a file under _schema/lab/rec/rec_id=N/arr_<token>.npy
        let files = files_under(&env.store_dir);
        assert_eq!(files.len(), expected.len());
        for f in &files {
            let rel = f
                .strip_prefix(&env.store_dir)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let parts: Vec<&str> = rel.split('/').collect();
            assert_eq!(
                &parts[..3],
                ["_schema", env.schema.as_str(), "rec"],
                "{rel}"
            );
            assert!(parts[3].starts_with("rec_id="));
            assert!(
                parts[4].starts_with("arr_")
                    && parts[4].ends_with(".npy")
                    && parts[4].len() == 4 + 8 + 4,
                "{rel}"
            );
        }
    }
}

/// The address range of `/proc/self/maps` line that contains `ptr`, if it maps `file`.
fn mapped_from(ptr: *const u8, file: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let file = file.canonicalize().unwrap();
    maps.lines().any(|l| {
        let mut it = l.split_whitespace();
        let range = it.next().unwrap_or("");
        let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
        let (a, b) = (
            usize::from_str_radix(a, 16).unwrap_or(0),
            usize::from_str_radix(b, 16).unwrap_or(0),
        );
        let p = ptr as usize;
        p >= a && p < b && l.ends_with(file.to_str().unwrap())
    })
}

#[test]
fn map_is_zero_copy_and_views_outlive_refs_and_connections() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = declare_rec(&env, "main");
        let data: Vec<u8> = (0..1000 * 8).map(|i| (i % 251) as u8).collect();
        let arr = ArrayValue::new(Dtype::Float64, vec![100, 10], false, data.clone());
        t.insert1(
            &Row::new().with("rec_id", 1).with("arr", Value::Array(arr)),
            InsertOptions::default(),
        )
        .unwrap();
        let rs = t.fetch1(&FetchOptions::default()).unwrap();
        let r = t.npyref(&rs, "arr", 0).unwrap();
        let file = env.store_dir.join(r.path());
        let view = r.map().unwrap();
        assert!(
            mapped_from(view.data().as_ptr(), &file),
            "the view points into the mapped file"
        );
        assert_eq!(view.strides(), vec![80, 8]);
        let rows = r.read_rows(10, 12).unwrap();
        assert_eq!(rows.shape, vec![2, 10]);
        assert_eq!(rows.data(), &data[800..960]);
        drop(r);
        drop(rs);
        env.conn.close();
        drop(t);
        assert_eq!(
            view.data(),
            &data[..],
            "the view outlives its ref, result and connection"
        );
    }
}

#[test]
fn bad_input_leaves_no_rows_and_no_objects() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = declare_rec(&env, "main");
        // size mismatch
        let bad = ArrayValue::new(Dtype::Float32, vec![3, 3], false, vec![0; 35]);
        let e = t
            .insert1(
                &Row::new().with("rec_id", 1).with("arr", Value::Array(bad)),
                InsertOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Type);
        assert!(
            e.message.contains("'arr'") && e.message.contains("36 bytes"),
            "{}",
            e.message
        );
        // bool arrays hold 0 or 1
        let bad = ArrayValue::new(Dtype::Bool, vec![3], false, vec![0, 2, 1]);
        let e = t
            .insert1(
                &Row::new().with("rec_id", 1).with("arr", Value::Array(bad)),
                InsertOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Type);
        assert!(e.message.contains("element 1"), "{}", e.message);
        // not an array
        let e = t
            .insert1(
                &Row::new().with("rec_id", 1).with("arr", "text"),
                InsertOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Type, "{}", e.message);
        // row k of a batch fails in the database (duplicate key): no rows, no objects
        let ok = |i: i64| {
            Row::new().with("rec_id", i).with(
                "arr",
                Value::Array(ArrayValue::new(Dtype::Int16, vec![4], false, vec![1; 8])),
            )
        };
        let mut rows: Vec<Row> = (0..10).map(ok).collect();
        rows[7] = ok(3);
        assert_eq!(
            t.insert_rows(&rows, InsertOptions::default())
                .unwrap_err()
                .code,
            ErrorCode::Duplicate
        );
        assert_eq!(t.count().unwrap(), 0);
        assert!(
            files_under(&env.store_dir).is_empty(),
            "objects of a failed batch are deleted"
        );
        // a value error in row k: nothing is written at all
        let mut rows: Vec<Row> = (0..10).map(|i| ok(i).with("note", "fine")).collect();
        rows[5].set("note", Value::String("x".repeat(50)));
        assert_eq!(
            t.insert_rows(&rows, InsertOptions::default())
                .unwrap_err()
                .code,
            ErrorCode::Type
        );
        assert!(files_under(&env.store_dir).is_empty());
        // declarations: <npy> needs a store; unknown store; unknown codec
        let s = env.conn.schema(&env.schema, true).unwrap();
        let e = s
            .declare("A", Tier::Manual, "id : int32\n---\nx : <npy>")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Definition, "{}", e.message);
        let e = s
            .declare("B", Tier::Manual, "id : int32\n---\nx : <npy@nowhere>")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Store);
        assert!(
            e.message.contains("nowhere") && e.message.contains("line 3"),
            "{}",
            e.message
        );
        let e = s
            .declare("C", Tier::Manual, "id : int32\n---\nx : <zarr@main>")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Definition);
    }
}

#[test]
fn deleting_rows_deletes_their_objects_and_replace_cleans_up() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = declare_rec(&env, "main");
        let arr = |v: u8| Value::Array(ArrayValue::new(Dtype::Uint8, vec![3], false, vec![v; 3]));
        let rows: Vec<Row> = (0..5)
            .map(|i| Row::new().with("rec_id", i).with("arr", arr(i as u8)))
            .collect();
        t.insert_rows(&rows, InsertOptions::default()).unwrap();
        assert_eq!(files_under(&env.store_dir).len(), 5);
        assert_eq!(t.restrict_sql("rec_id < 2").unwrap().delete().unwrap(), 2);
        assert_eq!(files_under(&env.store_dir).len(), 3);
        // skip_duplicates uploads nothing for existing keys
        let n = t
            .insert_rows(
                &rows,
                InsertOptions {
                    skip_duplicates: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(files_under(&env.store_dir).len(), 5);
        // replace: the old objects are deleted, the new ones kept
        let newer: Vec<Row> = (0..5)
            .map(|i| Row::new().with("rec_id", i).with("arr", arr(100 + i as u8)))
            .collect();
        t.insert_rows(
            &newer,
            InsertOptions {
                replace: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(files_under(&env.store_dir).len(), 5);
        let rs = t
            .restrict_key(&Row::new().with("rec_id", 4))
            .unwrap()
            .fetch1(&FetchOptions::default())
            .unwrap();
        assert_eq!(
            t.npyref(&rs, "arr", 0).unwrap().load().unwrap().data(),
            &[104, 104, 104]
        );
        // NULL array where nullable
        t.insert1(
            &Row::new().with("rec_id", 9).with("arr", Value::Null),
            InsertOptions::default(),
        )
        .unwrap();
        let rs = t
            .restrict_key(&Row::new().with("rec_id", 9))
            .unwrap()
            .fetch1(&FetchOptions::default())
            .unwrap();
        assert_eq!(
            t.npyref(&rs, "arr", 0).unwrap_err().code,
            ErrorCode::NotFound
        );
        t.delete().unwrap();
        assert!(files_under(&env.store_dir).is_empty());
    }
}

#[test]
fn corrupt_truncated_and_big_endian_files() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = declare_rec(&env, "main");
        let vals: Vec<u8> = [1.5f64, -2.0, 3.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for i in 0..3 {
            t.insert1(
                &Row::new().with("rec_id", i).with(
                    "arr",
                    Value::Array(ArrayValue::new(
                        Dtype::Float64,
                        vec![3],
                        false,
                        vals.clone(),
                    )),
                ),
                InsertOptions::default(),
            )
            .unwrap();
        }
        let rs = t
            .fetch(&FetchOptions {
                order_by: Some("rec_id".into()),
                ..Default::default()
            })
            .unwrap();
        let path = |i| env.store_dir.join(t.npyref(&rs, "arr", i).unwrap().path());
        // 0: corrupt header
        std::fs::write(path(0), b"garbage that is not an npy file").unwrap();
        let e = t.npyref(&rs, "arr", 0).unwrap().load().unwrap_err();
        assert_eq!(e.code, ErrorCode::Codec, "{}", e.message);
        assert_eq!(
            t.npyref(&rs, "arr", 0).unwrap().map().unwrap_err().code,
            ErrorCode::Codec
        );
        // 1: truncated
        let full = std::fs::read(path(1)).unwrap();
        std::fs::write(path(1), &full[..full.len() - 5]).unwrap();
        let e = t.npyref(&rs, "arr", 1).unwrap().load().unwrap_err();
        assert!(e.message.contains("truncated"), "{}", e.message);
        // 2: rewritten big-endian by another writer: load and map byte-swap
        let mut be = datajoint_core::npy::write_header(Dtype::Float64, false, &[3]);
        let at = be.windows(5).position(|w| w == b"'<f8'").unwrap();
        be[at + 1] = b'>';
        be.extend([1.5f64, -2.0, 3.25].iter().flat_map(|v| v.to_be_bytes()));
        std::fs::write(path(2), &be).unwrap();
        assert_eq!(
            t.npyref(&rs, "arr", 2).unwrap().load().unwrap().data(),
            &vals[..]
        );
        let m = t.npyref(&rs, "arr", 2).unwrap().map().unwrap();
        assert_eq!(m.data(), &vals[..]);
        assert!(!m.mapped, "big-endian data is swapped into memory");
        assert_eq!(
            t.npyref(&rs, "arr", 2)
                .unwrap()
                .read_rows(1, 3)
                .unwrap()
                .data(),
            &vals[8..]
        );
        // missing object
        std::fs::remove_file(path(2)).unwrap();
        assert_eq!(
            t.npyref(&rs, "arr", 2).unwrap().load().unwrap_err().code,
            ErrorCode::NotFound
        );
    }
}

#[test]
fn ten_thousand_refs_need_no_io() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = declare_rec(&env, "main");
        // 10,000 objects cost ~15 s of directory creation on this disk: the full count once,
        // 2,000 on the server backends (the fetch path is what differs there)
        let n: i32 = if b == "duckdb" { 10_000 } else { 2_000 };
        let arrays: Vec<ArrayValue> = (0..n)
            .map(|i: i32| ArrayValue::new(Dtype::Int32, vec![2], false, i.to_le_bytes().repeat(2)))
            .collect();
        let ids: Vec<i32> = (0..n).collect();
        t.insert_columns(
            &[
                InputColumn {
                    name: "rec_id",
                    data: InputData::Int32(&ids),
                    validity: None,
                },
                InputColumn {
                    name: "arr",
                    data: InputData::Array(&arrays),
                    validity: None,
                },
            ],
            n as usize,
            InsertOptions::default(),
        )
        .unwrap();
        let store = env.conn.stores().get("main").unwrap();
        let before = store.stats.requests.load(Ordering::Relaxed);
        let rs = t.fetch(&FetchOptions::default()).unwrap();
        let refs: Vec<NpyRef> = (0..rs.nrows)
            .map(|i| t.npyref(&rs, "arr", i).unwrap())
            .collect();
        assert_eq!(refs.len(), n as usize);
        assert!(refs
            .iter()
            .all(|r| r.shape() == [2] && r.dtype() == Dtype::Int32));
        assert_eq!(
            store.stats.requests.load(Ordering::Relaxed),
            before,
            "no store request"
        );
    }
}

/// numpy reads what we wrote, and we read what numpy wrote (both orders, every dtype).
#[test]
fn numpy_interop() {
    let Some(python) = std::env::var_os("DJ_TEST_PYTHON") else {
        assert!(
            !ci(),
            "CI must run the numpy interop test: set DJ_TEST_PYTHON to a Python with numpy"
        );
        eprintln!("skipping numpy interop: DJ_TEST_PYTHON is not set");
        return;
    };
    for b in support::backends() {
        let env = file_env(&b);
        let expected = round_trip_all(&env, "main");
        // 1. numpy.load on every file we wrote, compared element-wise with our bytes
        let check_dir = env.store_dir.parent().unwrap().join("check");
        std::fs::create_dir_all(&check_dir).unwrap();
        let t = env
            .conn
            .schema(&env.schema, false)
            .unwrap()
            .table("Rec")
            .unwrap();
        let rs = t
            .fetch(&FetchOptions {
                order_by: Some("rec_id".into()),
                ..Default::default()
            })
            .unwrap();
        let mut manifest = Vec::new();
        for (i, (_, a)) in expected.iter().enumerate() {
            let r = t.npyref(&rs, "arr", i).unwrap();
            let raw = check_dir.join(format!("{i}.raw"));
            std::fs::write(&raw, a.data.bytes()).unwrap();
            manifest.push(serde_json::json!({
                "npy": env.store_dir.join(r.path()), "raw": raw, "dtype": a.dtype.descr(),
                "shape": a.shape, "fortran": a.fortran_order && a.shape.len() > 1,
            }));
        }
        // 2. numpy.save files for us to read: every dtype, both orders, format versions 1.0 / 2.0 / 3.0
        let theirs = check_dir.join("theirs");
        std::fs::create_dir_all(&theirs).unwrap();
        std::fs::write(
            check_dir.join("manifest.json"),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
        let script = r#"
import json, sys, os
import numpy as np
from numpy.lib import format as npf
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
for e in m:
    a = np.load(e["npy"], allow_pickle=False)
    raw = np.frombuffer(open(e["raw"], "rb").read(), dtype=np.dtype(e["dtype"]))
    want = raw.reshape(e["shape"], order="F" if e["fortran"] else "C")
    assert a.dtype == np.dtype(e["dtype"]), (e, a.dtype)
    assert a.shape == tuple(e["shape"]), (e, a.shape)
    assert np.array_equal(a, want) or (a.dtype.kind in "fc" and np.array_equal(a, want, equal_nan=True)), e
out = os.path.join(d, "theirs")
rng = np.random.default_rng(7)
made = []
for dt in ["?", "i1", "<i2", "<i4", "<i8", "u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16", "S4", "<U3", ">f8", ">i4", ">c16"]:
    for order in "CF":
        a = rng.integers(0, 100, size=(3, 4, 5)).astype(dt, order=order)
        for ver in [(1, 0), (2, 0), (3, 0)]:
            name = os.path.join(out, f"{dt.replace('<','l').replace('>','b')}_{order}_{ver[0]}.npy")
            with open(name, "wb") as f:
                npf.write_array(f, a, version=ver, allow_pickle=False)
            a.astype(a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype).tofile(name + ".c_le", sep="")
            np.ascontiguousarray(a).astype(a.dtype.newbyteorder("=")).tofile(name + ".c")
            made.append({"file": name, "dtype": np.dtype(dt).newbyteorder("=").str if np.dtype(dt).byteorder != "|" else np.dtype(dt).str, "fortran": order == "F"})
json.dump(made, open(os.path.join(d, "theirs.json"), "w"))
print(f"numpy {np.__version__}: checked {len(m)} files, wrote {len(made)}")
"#;
        let out = std::process::Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(&check_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "numpy check failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
        // read numpy's files through a store: put each into the store folder, point a row at it
        let made: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(check_dir.join("theirs.json")).unwrap())
                .unwrap();
        assert_eq!(made.len(), 19 * 2 * 3);
        let s = env.conn.schema(&env.schema, false).unwrap();
        let ext = s
            .declare("Ext", Tier::Manual, "id : int32\n---\narr : <npy@main>")
            .unwrap();
        for (i, m) in made.iter().enumerate() {
            let file = PathBuf::from(m["file"].as_str().unwrap());
            let rel = format!("ext/{i}.npy");
            std::fs::create_dir_all(env.store_dir.join("ext")).unwrap();
            std::fs::copy(&file, env.store_dir.join(&rel)).unwrap();
            let dtype = Dtype::from_descr(m["dtype"].as_str().unwrap()).unwrap().0;
            let meta = serde_json::json!({"path": rel, "store": "main", "dtype": dtype.name(), "shape": [3, 4, 5]});
            let r = NpyRef::from_json(&meta.to_string(), env.conn.stores()).unwrap();
            let c_order = std::fs::read(format!("{}.c", file.display())).unwrap();
            let v = r
                .load()
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(v.fortran_order, m["fortran"].as_bool().unwrap());
            if !v.fortran_order {
                assert_eq!(v.data(), &c_order[..], "{}", file.display());
                let rows = r.read_rows(1, 3).unwrap();
                let rb = 4 * 5 * dtype.itemsize();
                assert_eq!(rows.data(), &c_order[rb..3 * rb], "{}", file.display());
            }
            assert_eq!(r.map().unwrap().data(), v.data());
        }
        let _ = ext;
    }
}

/// The same against an S3-compatible server (DJ_TEST_S3_ENDPOINT, bucket DJ_TEST_S3_BUCKET).
#[test]
fn s3_store() {
    let Ok(endpoint) = std::env::var("DJ_TEST_S3_ENDPOINT") else {
        assert!(!ci(), "CI must run the S3 tests: the test command starts a server and sets DJ_TEST_S3_ENDPOINT");
        eprintln!("skipping S3 tests: DJ_TEST_S3_ENDPOINT is not set");
        return;
    };
    let bucket = std::env::var("DJ_TEST_S3_BUCKET").unwrap_or_else(|_| "datajoint-test".into());
    let location = format!("run-{}", datajoint_core::objpath::token(8));
    for b in support::backends() {
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
        round_trip_all(&env, "s3");
        // hash codecs on S3: equal bytes share one object, reads verify, a delete removes it
        let hs = env.conn.schema(&env.schema, false).unwrap();
        let ht = hs
            .declare(
                "HashS3",
                Tier::Manual,
                "id : int32\n---\nx : <blob@s3>\nh : <hash@s3>",
            )
            .unwrap();
        let big = BlobValue::Array(
            NdArray::from_slice(vec![1, 300_000], &vec![1.5f64; 300_000]).unwrap(),
        );
        let hrow = |id: i64| {
            Row::new()
                .with("id", id)
                .with("x", Value::Blob(Arc::new(big.clone())))
                .with("h", Value::Bytes(vec![7u8; 20_000_000]))
        };
        ht.insert_rows(&[hrow(1), hrow(2)], Default::default())
            .unwrap();
        let s3 = env.conn.stores().get("s3").unwrap();
        let raw = ht
            .fetch(&FetchOptions {
                raw: true,
                ..Default::default()
            })
            .unwrap();
        let paths: std::collections::BTreeSet<String> = ["x", "h"]
            .iter()
            .flat_map(|c| {
                let col = raw.column(c).unwrap().clone();
                (0..2).map(move |i| match col.value(i) {
                    Value::Json(j) => {
                        datajoint_core::codecs::hash::HashMeta::from_json(&j)
                            .unwrap()
                            .path
                    }
                    _ => panic!(),
                })
            })
            .collect();
        assert_eq!(paths.len(), 2, "{b}: two distinct objects for four values");
        let rs = ht.fetch(&FetchOptions::default()).unwrap();
        assert_eq!(*blob_at(&rs, "x", 1).unwrap(), big);
        assert_eq!(
            rs.column("h").unwrap().value(0),
            Value::Bytes(vec![7u8; 20_000_000])
        );
        ht.delete().unwrap();
        for p in &paths {
            assert_eq!(
                s3.size(p).unwrap_err().code,
                ErrorCode::NotFound,
                "{b}: {p} left on S3"
            );
        }
        let t = env
            .conn
            .schema(&env.schema, false)
            .unwrap()
            .table("Rec")
            .unwrap();
        let store = env.conn.stores().get("s3").unwrap();
        // a 1000 × 1000 float32 array (4 MB); read rows [100, 110) = 1 % with ranged GETs
        let data: Vec<u8> = (0..1_000_000u32)
            .flat_map(|i| (i as f32).to_le_bytes())
            .collect();
        let arr = ArrayValue::new(Dtype::Float32, vec![1000, 1000], false, data.clone());
        t.insert1(
            &Row::new()
                .with("rec_id", 5000)
                .with("arr", Value::Array(arr)),
            InsertOptions::default(),
        )
        .unwrap();
        let rs = t
            .restrict_key(&Row::new().with("rec_id", 5000))
            .unwrap()
            .fetch1(&FetchOptions::default())
            .unwrap();
        let r = t.npyref(&rs, "arr", 0).unwrap();
        let (req0, read0, _) = store.stats.snapshot();
        let rows = r.read_rows(100, 110).unwrap();
        let (req1, read1, _) = store.stats.snapshot();
        assert_eq!(rows.data(), &data[400_000..440_000]);
        let transferred = read1 - read0;
        assert!(
            transferred <= 40_000 + 4096,
            "ranged read transferred {transferred} bytes"
        );
        assert!(req1 - req0 <= 3);
        // map downloads once into the cache, then maps the cached file
        let m1 = r.map().unwrap();
        assert!(m1.mapped);
        assert_eq!(m1.data(), &data[..]);
        let (req2, _, _) = store.stats.snapshot();
        let r2 = t.npyref(&rs, "arr", 0).unwrap();
        let m2 = r2.map().unwrap();
        assert_eq!(m2.data(), &data[..]);
        assert_eq!(
            store.stats.snapshot().0,
            req2,
            "second map is served from the cache"
        );
        // a multipart upload (40 MiB > one 16 MiB part)
        let big: Vec<u8> = (0..(40u32 << 20) / 4)
            .flat_map(|i| i.to_le_bytes())
            .collect();
        let arr = ArrayValue::new(Dtype::Uint32, vec![(40 << 20) / 4], false, big.clone());
        t.insert1(
            &Row::new()
                .with("rec_id", 6000)
                .with("arr", Value::Array(arr)),
            InsertOptions::default(),
        )
        .unwrap();
        let rs = t
            .restrict_key(&Row::new().with("rec_id", 6000))
            .unwrap()
            .fetch1(&FetchOptions::default())
            .unwrap();
        assert_eq!(
            t.npyref(&rs, "arr", 0).unwrap().load().unwrap().data(),
            &big[..]
        );
        // deleting rows deletes objects on S3 too
        t.restrict_key(&Row::new().with("rec_id", 6000))
            .unwrap()
            .delete()
            .unwrap();
        assert_eq!(
            store
                .size(t.npyref(&rs, "arr", 0).unwrap().path())
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        // an unreachable endpoint is a clear store error naming the store, without the secret
        std::env::set_var("DJ_STORE_RETRIES", "0");
        let s = env.conn.schema(&env.schema, false).unwrap();
        let dead = s
            .declare("Dead", Tier::Manual, "id : int32\n---\narr : <npy@dead>")
            .unwrap();
        let arr = ArrayValue::new(Dtype::Uint8, vec![1], false, vec![1]);
        let e = dead
            .insert1(
                &Row::new().with("id", 1).with("arr", Value::Array(arr)),
                InsertOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Store, "{}", e.message);
        assert!(
            e.message.contains("'dead'") && !e.message.contains("testing"),
            "{}",
            e.message
        );
        assert_eq!(dead.count().unwrap(), 0);
    }
}

// ---------------------------------------------------------------- hash codecs and <blob>

use datajoint_core::blob::{self, BlobValue, NdArray};
use std::sync::Arc;

fn blob_table(env: &Env) -> Table {
    let s = env.conn.schema(&env.schema, true).unwrap();
    s.declare(
        "Doc",
        Tier::Manual,
        "id : int32\n---\nmeta = null : <blob>\nraw = null : <blob@main>\nh = null : <hash@main>\natt = null : <attach>\natt2 = null : <attach@main>",
    )
    .unwrap()
}

fn tree(seed: f64) -> BlobValue {
    let a = NdArray::from_slice(vec![3, 2], &[seed, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    BlobValue::Dict(vec![
        (BlobValue::Str("x".into()), BlobValue::Array(a)),
        (
            BlobValue::Str("name".into()),
            BlobValue::Str("mouse ✓".into()),
        ),
    ])
}

fn hash_objects(env: &Env) -> Vec<PathBuf> {
    files_under(&env.store_dir.join("_hash").join(&env.schema))
}

fn blob_at(rs: &ResultSet, col: &str, row: usize) -> Option<Arc<BlobValue>> {
    match rs.column(col).unwrap().value(row) {
        Value::Blob(b) => Some(b),
        Value::Null => None,
        other => panic!("{other:?}"),
    }
}

/// Every hash codec and in-table codec on every backend: values, JSON, paths, dedup, delete.
#[test]
fn hash_codecs_round_trip_dedup_and_delete() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = blob_table(&env);
        let dl = env._dir.path().join("downloads");
        let src = env._dir.path().join("notes.txt");
        std::fs::write(&src, b"attached text").unwrap();
        let row = |id: i64, seed: f64| {
            Row::new()
                .with("id", id)
                .with("meta", Value::Blob(Arc::new(tree(seed))))
                .with("raw", Value::Blob(Arc::new(BlobValue::scalar(7.0))))
                .with("h", Value::Bytes(b"raw bytes".to_vec()))
                .with("att", src.to_str().unwrap())
                .with(
                    "att2",
                    Value::attachment("data.bin", bytes::Bytes::from_static(b"\0\x01\x02")),
                )
        };
        let mut empty = Row::new().with("id", 3i64);
        for c in ["meta", "raw", "h", "att", "att2"] {
            empty.set(c, Value::Null);
        }
        t.insert_rows(&[row(1, 0.5), row(2, 9.0), empty], Default::default())
            .unwrap();
        // equal bytes share one object: raw (same blob), h, att2 → 3 objects
        assert_eq!(hash_objects(&env).len(), 3, "{b}");
        let opts = FetchOptions {
            order_by: Some("id".into()),
            download_path: Some(dl.to_str().unwrap().into()),
            ..Default::default()
        };
        let rs = t.fetch(&opts).unwrap();
        assert_eq!(*blob_at(&rs, "meta", 0).unwrap(), tree(0.5), "{b}");
        assert_eq!(*blob_at(&rs, "meta", 1).unwrap(), tree(9.0));
        assert!(blob_at(&rs, "meta", 2).is_none());
        assert_eq!(*blob_at(&rs, "raw", 0).unwrap(), BlobValue::scalar(7.0));
        assert_eq!(
            rs.column("h").unwrap().value(0),
            Value::Bytes(b"raw bytes".to_vec())
        );
        assert_eq!(rs.column("h").unwrap().value(2), Value::Null);
        let Value::String(p) = rs.column("att").unwrap().value(0) else {
            panic!()
        };
        assert_eq!(Path::new(&p), dl.join("notes.txt"));
        assert_eq!(std::fs::read(&p).unwrap(), b"attached text");
        let Value::String(p2) = rs.column("att2").unwrap().value(1) else {
            panic!()
        };
        assert_eq!(std::fs::read(&p2).unwrap(), b"\0\x01\x02");
        // attachment metadata without a download (a ranged read of the name for <attach@>)
        let elsewhere = env._dir.path().join("not-used");
        let info = t
            .fetch(&FetchOptions {
                attachment_info: true,
                download_path: Some(elsewhere.to_str().unwrap().into()),
                ..opts.clone()
            })
            .unwrap();
        let j = |c: &str, i: usize| -> serde_json::Value {
            match info.column(c).unwrap().value(i) {
                Value::String(s) => serde_json::from_str(&s).unwrap(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            j("att", 0),
            serde_json::json!({"name": "notes.txt", "size": 13, "hash": null})
        );
        let a2 = j("att2", 0);
        assert_eq!(
            (a2["name"].as_str(), a2["size"].as_u64()),
            (Some("data.bin"), Some(3)),
            "{b}"
        );
        assert_eq!(a2["hash"].as_str().unwrap().len(), 26);
        assert_eq!(info.column("att").unwrap().value(2), Value::Null);
        assert!(!elsewhere.exists(), "attachment info downloaded files");
        // the column JSON, exactly the reference's keys; the object at its path hashes to it
        let raw = t
            .fetch(&FetchOptions {
                raw: true,
                ..opts.clone()
            })
            .unwrap();
        let Value::Json(j) = raw.column("h").unwrap().value(0) else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        if b == "postgresql" {
            keys.sort(); // jsonb keeps keys in its own order
            assert_eq!(keys, ["hash", "path", "schema", "size", "store"]);
        } else {
            assert_eq!(keys, ["hash", "path", "schema", "store", "size"], "{b}");
        }
        let h = v["hash"].as_str().unwrap();
        assert_eq!(v["path"], format!("_hash/{}/{h}", env.schema));
        assert_eq!(v["store"], "main");
        assert_eq!(v["size"], 9);
        assert_eq!(datajoint_core::codecs::hash::content_hash(b"raw bytes"), h);
        let Value::Bytes(inline) = raw.column("meta").unwrap().value(0) else {
            panic!()
        };
        assert_eq!(blob::unpack(inline.into()).unwrap(), tree(0.5));
        // delete one of two rows sharing the objects: they stay; delete the other: gone
        assert_eq!(t.restrict_sql("id = 1").unwrap().delete().unwrap(), 1);
        assert_eq!(
            hash_objects(&env).len(),
            3,
            "{b}: shared objects were deleted"
        );
        assert_eq!(t.restrict_sql("id = 2").unwrap().delete().unwrap(), 1);
        assert_eq!(
            hash_objects(&env).len(),
            0,
            "{b}: unreferenced objects were kept"
        );
        // replace: the old object goes when no row needs it
        t.insert1(
            &Row::new()
                .with("id", 5i64)
                .with("h", Value::Bytes(b"old".to_vec())),
            Default::default(),
        )
        .unwrap();
        t.insert1(
            &Row::new()
                .with("id", 5i64)
                .with("h", Value::Bytes(b"new".to_vec())),
            InsertOptions {
                replace: true,
                ..Default::default()
            },
        )
        .unwrap();
        let left = hash_objects(&env);
        assert_eq!(left.len(), 1, "{b}");
        assert_eq!(std::fs::read(&left[0]).unwrap(), b"new");
    }
}

/// Corrupt, missing and bad values are clear errors; a failed batch leaves no new objects.
#[test]
fn hash_codec_faults() {
    for b in support::backends() {
        let env = file_env(&b);
        let t = blob_table(&env);
        t.insert1(
            &Row::new()
                .with("id", 1i64)
                .with("h", Value::Bytes(b"keep".to_vec())),
            Default::default(),
        )
        .unwrap();
        let before = hash_objects(&env);
        // a duplicate key in row 2: no rows, the new object is removed, the shared one stays
        let rows = vec![
            Row::new()
                .with("id", 2i64)
                .with("h", Value::Bytes(b"keep".to_vec())),
            Row::new()
                .with("id", 3i64)
                .with("h", Value::Bytes(b"fresh".to_vec())),
            Row::new()
                .with("id", 1i64)
                .with("h", Value::Bytes(b"x".to_vec())),
        ];
        let e = t.insert_rows(&rows, Default::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::Duplicate, "{b}: {}", e.message);
        assert_eq!(t.count().unwrap(), 1);
        assert_eq!(hash_objects(&env), before, "{b}");
        // bad inputs name the attribute and row
        let bad = [
            (
                "att",
                Value::String("/nonexistent/file.txt".into()),
                "nonexistent",
            ),
            (
                "att",
                Value::String(env._dir.path().to_str().unwrap().into()),
                "folder",
            ),
            (
                "att2",
                Value::attachment("../x", bytes::Bytes::new()),
                "path separator",
            ),
            ("h", Value::String("text".into()), "expects bytes"),
            ("raw", Value::Json("{}".into()), "JSON"),
        ];
        for (col, v, want) in bad {
            let e = t
                .insert1(
                    &Row::new().with("id", 9i64).with(col, v),
                    Default::default(),
                )
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::Type, "{b} {col}");
            assert!(
                e.message.contains(want) && e.message.contains(col),
                "{b}: {}",
                e.message
            );
        }
        assert_eq!(hash_objects(&env), before);
        // a changed object: hash mismatch naming the row; a missing one: NotFound
        std::fs::write(&before[0], b"tampered").unwrap();
        let e = t.fetch(&FetchOptions::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::Codec, "{b}");
        assert!(
            e.message.contains("hash mismatch") && e.message.contains("row 0"),
            "{}",
            e.message
        );
        std::fs::remove_file(&before[0]).unwrap();
        let e = t.fetch(&FetchOptions::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound, "{b}: {}", e.message);
        // a corrupt in-table blob
        t.delete().unwrap();
        t.insert1(
            &Row::new()
                .with("id", 4i64)
                .with("meta", Value::Blob(Arc::new(tree(1.0)))),
            Default::default(),
        )
        .unwrap();
        let tn = t.name().to_string();
        let sql = match b.as_str() {
            "postgresql" => format!(
                "UPDATE \"{}\".\"{tn}\" SET meta = '\\x6d596d0041ff'::bytea",
                env.schema
            ),
            "mysql" => format!("UPDATE `{}`.`{tn}` SET meta = X'6d596d0041ff'", env.schema),
            _ => String::new(),
        };
        if !sql.is_empty() {
            support::raw_sql(&b, &sql);
            let e = t.fetch(&FetchOptions::default()).unwrap_err();
            assert_eq!(e.code, ErrorCode::Codec, "{b}");
            assert!(e.message.contains("'meta'"), "{}", e.message);
        }
    }
}

/// Child of `delete_and_insert_of_shared_content_race`: rounds of insert → fetch → delete of
/// rows with the same content as the other process.
#[test]
fn child_sharer() {
    let Ok(spec) = std::env::var("DJ_CHILD_SHARE") else {
        return;
    };
    let p: Vec<String> = spec.split('|').map(String::from).collect();
    let (backend, schema, store, base) = (&p[0], &p[1], &p[2], p[3].parse::<i64>().unwrap());
    let extra = serde_json::json!({"stores": {"main": {"protocol": "file", "location": store}}});
    let c = support::connect(backend, &extra.to_string());
    let t = c.schema(schema, false).unwrap().table("Doc").unwrap();
    for round in 0..60 {
        let id = base + round;
        t.insert1(
            &Row::new()
                .with("id", id)
                .with("h", Value::Bytes(b"shared content".to_vec())),
            Default::default(),
        )
        .unwrap();
        // a committed row never points to a missing object
        let rs = t
            .restrict_sql(&format!("id = {id}"))
            .unwrap()
            .fetch(&FetchOptions::default())
            .unwrap();
        assert_eq!(
            rs.column("h").unwrap().value(0),
            Value::Bytes(b"shared content".to_vec())
        );
        t.restrict_sql(&format!("id = {id}"))
            .unwrap()
            .delete()
            .unwrap();
    }
}

/// Two processes insert and delete rows holding the same content at the same time, many rounds:
/// no committed row ever lacks its object, and nothing is left at the end.
#[test]
fn delete_and_insert_of_shared_content_race() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let env = file_env(&b);
        let _t = blob_table(&env);
        let exe = std::env::current_exe().unwrap();
        let spawn = |base: i64| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_sharer",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(
                    "DJ_CHILD_SHARE",
                    format!(
                        "{b}|{}|{}|{base}",
                        env.schema,
                        env.store_dir.to_str().unwrap()
                    ),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let (mut p1, mut p2) = (spawn(1000), spawn(2000));
        assert!(p1.wait().unwrap().success(), "{b}: a child failed");
        assert!(p2.wait().unwrap().success(), "{b}: a child failed");
        assert!(
            hash_objects(&env).is_empty(),
            "{b}: an unreferenced object was left"
        );
    }
}

fn arr<T: blob::Element>(shape: Vec<u64>, v: &[T]) -> BlobValue {
    BlobValue::Array(NdArray::from_slice(shape, v).unwrap())
}

/// The values of core/tests/data/blob_interop.py, as the core holds them.
fn interop_values() -> Vec<(&'static str, BlobValue)> {
    use blob::ArrayClass;
    let le =
        |v: &[f64]| bytes::Bytes::from(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
    let s = |x: &str| BlobValue::Str(x.into());
    vec![
        ("float", BlobValue::Float(3.5)),
        (
            "bigint",
            BlobValue::BigInt(vec![203, 68, 66, 113, 118, 78, 182, 66, 157, 2]),
        ),
        ("neg", BlobValue::Int(-5)),
        ("bool", BlobValue::Bool(true)),
        ("none", BlobValue::None),
        ("str", s("héllo ✓")),
        (
            "bytes",
            BlobValue::Bytes(bytes::Bytes::from_static(b"\0\x01\xff")),
        ),
        (
            "list",
            BlobValue::List(vec![BlobValue::Int(1), s("a"), BlobValue::Float(2.5)]),
        ),
        (
            "tuple",
            BlobValue::Tuple(vec![BlobValue::Int(1), BlobValue::Int(2)]),
        ),
        ("set", BlobValue::Set(vec![BlobValue::Int(3)])),
        (
            "dict",
            BlobValue::Dict(vec![
                (s("a"), BlobValue::Int(1)),
                (s("b"), BlobValue::List(vec![BlobValue::Float(1.0)])),
            ]),
        ),
        ("complex", BlobValue::Complex(1.0, 2.0)),
        ("decimal", BlobValue::Decimal("1.250".into())),
        ("date", BlobValue::Date(19724)),
        (
            "datetime",
            BlobValue::Datetime(datajoint_core::value::micros_of(2024, 1, 2, 3, 4, 5, 6).unwrap()),
        ),
        ("time", BlobValue::Time(11_045_000_006)),
        (
            "uuid",
            BlobValue::Uuid([
                1, 35, 69, 103, 137, 171, 205, 239, 1, 35, 69, 103, 137, 171, 205, 239,
            ]),
        ),
        ("arr1d", arr(vec![3], &[1.0f64, 2.0, 3.0])),
        ("arr2d", arr(vec![2, 3], &[0i32, 3, 1, 4, 2, 5])),
        (
            "logical",
            BlobValue::Array(
                NdArray::new(
                    ArrayClass::Logical,
                    vec![1, 2],
                    false,
                    bytes::Bytes::from_static(&[1, 0]),
                )
                .unwrap(),
            ),
        ),
        (
            "carr",
            BlobValue::Array(
                NdArray::new(
                    ArrayClass::Double,
                    vec![2],
                    true,
                    le(&[1.0, 2.0, 1.0, -1.0]),
                )
                .unwrap(),
            ),
        ),
        ("scalar32", arr(vec![], &[2.5f32])),
        (
            "dt64",
            BlobValue::Array(
                NdArray::new(
                    ArrayClass::Datetime64(3),
                    vec![2],
                    false,
                    bytes::Bytes::from(
                        [19723i64, 19724]
                            .iter()
                            .flat_map(|x| x.to_le_bytes())
                            .collect::<Vec<u8>>(),
                    ),
                )
                .unwrap(),
            ),
        ),
        (
            "rec",
            BlobValue::Record(vec![
                ("a".into(), arr(vec![1], &[1i32])),
                ("b".into(), arr(vec![1], &[2.0f64])),
            ]),
        ),
        (
            "unicode",
            BlobValue::ObjectArray(blob::CellArray {
                shape: vec![2],
                items: vec![s("ab"), s("c")],
            }),
        ),
        (
            "cell",
            BlobValue::Cell(blob::CellArray {
                shape: vec![1, 2],
                items: vec![arr(vec![1, 1], &[1.0f64]), arr(vec![1, 2], &[2.0f64, 3.0])],
            }),
        ),
        ("zeros", arr(vec![100_000], &vec![0.0f64; 100_000])),
    ]
}

/// Blobs both ways with pip-installed DataJoint Python 2.3.5: it unpacks what we pack to equal
/// values (and our uncompressed mYm bytes equal its own), and we unpack what it packs.
#[test]
fn blob_interop_with_datajoint_python() {
    let Some(python) = std::env::var_os("DJ_TEST_PYTHON") else {
        assert!(
            !ci(),
            "CI must run the blob interop test: set DJ_TEST_PYTHON"
        );
        eprintln!("skipping blob interop: DJ_TEST_PYTHON is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let values = interop_values();
    for sub in ["ours", "ours_raw"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for (name, v) in &values {
        std::fs::write(
            dir.path().join(format!("ours/{name}.blob")),
            blob::pack(v).unwrap(),
        )
        .unwrap();
        let raw = blob::pack_with(v, blob::PackOptions { compress: false }).unwrap();
        std::fs::write(dir.path().join(format!("ours_raw/{name}.blob")), raw).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/blob_interop.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" 0 failed"),
        "DataJoint Python disagrees:\n{stdout}"
    );
    eprintln!("datajoint 2.3.5 read our blobs: {last}");
    for (name, want) in &values {
        for sub in ["theirs", "theirs_raw"] {
            let b = std::fs::read(dir.path().join(format!("{sub}/{name}.blob"))).unwrap();
            let got = blob::unpack(b.into()).unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
            assert_eq!(&got, want, "{sub}/{name}");
        }
    }
}

/// `<blob>`, `<blob@>`, `<hash@>` and `<attach@>` rows on a shared server and store with
/// DataJoint Python 2.3.5: it reads ours value by value, its rows with equal bytes share our
/// objects, and we read its rows.
#[test]
fn hash_codecs_interop_with_datajoint_python() {
    let Some(python) = std::env::var_os("DJ_TEST_PYTHON") else {
        assert!(
            !ci(),
            "CI must run the hash codec interop test: set DJ_TEST_PYTHON"
        );
        return;
    };
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let env = file_env(&b);
        let s = env.conn.schema(&env.schema, true).unwrap();
        let t = s
            .declare(
                "Doc",
                Tier::Manual,
                "id : int32\n---\nmeta : <blob>\nraw = null : <blob@main>\nh : <hash@main>\natt2 = null : <attach@main>",
            )
            .unwrap();
        let x = NdArray::from_slice(vec![2, 3], &[0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let meta = BlobValue::Dict(vec![
            (
                BlobValue::Str("name".into()),
                BlobValue::Str("mouse ✓".into()),
            ),
            (BlobValue::Str("x".into()), BlobValue::Array(x.clone())),
        ]);
        t.insert1(
            &Row::new()
                .with("id", 1i64)
                .with("meta", Value::Blob(Arc::new(meta.clone())))
                .with("raw", Value::Blob(Arc::new(BlobValue::Array(x.clone()))))
                .with("h", Value::Bytes(b"raw bytes".to_vec()))
                .with(
                    "att2",
                    Value::attachment("data.bin", bytes::Bytes::from_static(b"\0\x01\x02")),
                ),
            Default::default(),
        )
        .unwrap();
        assert_eq!(hash_objects(&env).len(), 3);
        let dl = env._dir.path().join("py-downloads");
        std::fs::create_dir_all(&dl).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hash_interop.py");
        let out = std::process::Command::new(&python)
            .arg(&script)
            .args([
                &b,
                &env.schema,
                env.store_dir.to_str().unwrap(),
                dl.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{b}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let last = stdout.lines().last().unwrap_or_default();
        assert!(
            last.ends_with(" 0 failed"),
            "{b}: DataJoint Python disagrees:\n{stdout}"
        );
        // row 2 has our bytes: no new objects; row 3 adds its own (on MariaDB the reference
        // writes only <hash@> there: see the script)
        let full = b == "postgresql";
        assert_eq!(
            hash_objects(&env).len(),
            if full { 6 } else { 4 },
            "{b}: equal bytes were not shared"
        );
        let ours_dl = env._dir.path().join("ours-downloads");
        let rs = t
            .fetch(&FetchOptions {
                order_by: Some("id".into()),
                download_path: Some(ours_dl.to_str().unwrap().into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rs.nrows, 3);
        assert_eq!(*blob_at(&rs, "meta", 1).unwrap(), meta, "{b}");
        assert_eq!(
            rs.column("h").unwrap().value(2),
            Value::Bytes(b"py bytes".to_vec())
        );
        assert_eq!(
            *blob_at(&rs, "meta", 2).unwrap(),
            BlobValue::List(vec![
                BlobValue::Int(1),
                BlobValue::Str("two".into()),
                BlobValue::Float(3.0)
            ])
        );
        if full {
            assert_eq!(
                *blob_at(&rs, "raw", 1).unwrap(),
                BlobValue::Array(x.clone())
            );
            let BlobValue::Dict(kv) = &*blob_at(&rs, "raw", 2).unwrap() else {
                panic!()
            };
            let BlobValue::Array(k) = &kv[0].1 else {
                panic!()
            };
            assert_eq!(
                (k.class, k.shape.clone(), k.real()),
                (blob::ArrayClass::Logical, vec![2], &[1u8, 0][..])
            );
            let Value::String(p) = rs.column("att2").unwrap().value(2) else {
                panic!()
            };
            assert_eq!(std::fs::read(&p).unwrap(), b"from python");
            assert!(p.ends_with("theirs.txt"));
        }
        // deleting our row keeps the objects Python's row 2 shares, and only those
        t.restrict_sql("id = 1").unwrap().delete().unwrap();
        assert_eq!(hash_objects(&env).len(), if full { 6 } else { 2 }, "{b}");
        t.restrict_sql("id = 2").unwrap().delete().unwrap();
        assert_eq!(hash_objects(&env).len(), if full { 3 } else { 1 }, "{b}");
    }
}
