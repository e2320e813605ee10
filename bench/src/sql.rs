//! `dj-bench sql <dir> <prefix>`: small rows through the C ABI on DuckDB (a file in `<dir>`),
//! PostgreSQL and MariaDB (127.0.0.1), next to each server's raw limit measured in the same run
//! with the same rows. Prints one JSON object; bench/run adds DataJoint Python (bench/sql_peers.py)
//! and the ratios.
//!
//! Cases, each best of `REPEAT`:
//!   insert   10,000 / 100,000 rows (`id : int32` key, `x : float64`, `name : varchar(32)`), one
//!            dj_table_insert_columns call into a freshly declared table;
//!   fetch    the same rows back into columns (dj_table_fetch), every column touched;
//!   refs     fetch 10,000 `<npy@main>` rows and make every NpyRef (dj_result_npyref), no store
//!            I/O (asserted with dj_conn_store_stats).
//! Raw limits: DuckDB Appender fed one Arrow batch and an Arrow SELECT; PostgreSQL binary COPY and
//! a plain SELECT through tokio-postgres (over TLS like the library's default `sslmode=prefer`
//! connection, and without TLS; also binary COPY TO STDOUT); MariaDB one multi-row text INSERT,
//! the library's method (prepared multi-row INSERTs of at most 65,535 placeholders), the same with
//! 1,000-row statements, and SELECTs in the text and binary protocols through mysql_async.
//! Ours also reports the process CPU time (all threads) of its best repeat: wall minus that is
//! roughly the time spent waiting for the server.
//! Server schemas are `<prefix>_ours` and `<prefix>_raw`; both are dropped on the way out.

use crate::common::{check, column, string_column};
use datajoint::*;
use serde_json::{json, Map, Value};
use std::ffi::{c_void, CString};
use std::path::Path;
use std::ptr;
use std::sync::Arc;
use std::time::Instant;

const SIZES: [usize; 2] = [10_000, 100_000];
const REPEAT: usize = 5;
const NREFS: usize = 10_000;
const PG_HOST: &str = "127.0.0.1";
const PG_PORT: u16 = 5432;
const MY_PORT: u16 = 3306;
const ITEM: &std::ffi::CStr = c"id : int32\n---\nx : float64\nname : varchar(32)";

/// The bench rows: id i, x = i / 2, name `item-%06d`, also as one string column.
struct Rows {
    ids: Vec<i32>,
    xs: Vec<f64>,
    names: Vec<String>,
    bytes: Vec<u8>,
    offsets: Vec<i64>,
}

fn rows(n: usize) -> Rows {
    let ids: Vec<i32> = (0..n as i32).collect();
    let xs: Vec<f64> = ids.iter().map(|&i| i as f64 * 0.5).collect();
    let names: Vec<String> = (0..n).map(|i| format!("item-{i:06}")).collect();
    let mut offsets = vec![0i64];
    let mut bytes = Vec::new();
    for s in &names {
        bytes.extend_from_slice(s.as_bytes());
        offsets.push(bytes.len() as i64);
    }
    Rows {
        ids,
        xs,
        names,
        bytes,
        offsets,
    }
}

/// What a fetch gives back, reduced to numbers checked against the rows.
fn digest(ids: &[i32], xs: &[f64], name_bytes: usize) -> (i64, f64, usize) {
    (
        ids.iter().map(|&i| i as i64).sum(),
        xs.iter().sum(),
        name_bytes,
    )
}

fn expected(r: &Rows) -> (i64, f64, usize) {
    digest(&r.ids, &r.xs, r.bytes.len())
}

fn best(n: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..n).map(|_| f()).fold(f64::INFINITY, f64::min)
}

/// CPU seconds used so far by this process, all threads (the library's I/O runtime and DuckDB's
/// workers included).
fn process_cpu() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    assert_eq!(
        unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) },
        0
    );
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

/// Wall and process CPU seconds of one measurement.
#[derive(Clone, Copy)]
struct Times {
    wall: f64,
    cpu: f64,
}

struct Clock(Instant, f64);

impl Clock {
    fn start() -> Clock {
        Clock(Instant::now(), process_cpu())
    }
    fn stop(&self) -> Times {
        Times {
            wall: self.0.elapsed().as_secs_f64(),
            cpu: process_cpu() - self.1,
        }
    }
}

/// The repeat with the shortest wall time.
fn best_times(n: usize, mut f: impl FnMut() -> Times) -> Times {
    (0..n)
        .map(|_| f())
        .min_by(|a, b| a.wall.total_cmp(&b.wall))
        .unwrap()
}

/// `<key>_s` (wall) and `<key>_process_cpu_s` of the best repeat.
fn put(out: &mut Map<String, Value>, key: &str, t: Times) {
    out.insert(format!("{key}_s"), json!(t.wall));
    out.insert(format!("{key}_process_cpu_s"), json!(t.cpu));
}

/// Runs a closure when dropped (cleanup that also happens when a measurement panics).
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Server {
    DuckDb,
    Postgres,
    MySql,
}

impl Server {
    fn key(self) -> &'static str {
        match self {
            Server::DuckDb => "duckdb",
            Server::Postgres => "postgresql",
            Server::MySql => "mysql",
        }
    }
}

// ---------------------------------------------------------------- ours (the C ABI)

fn connect(server: Server, dir: &Path) -> *mut dj_conn {
    let store = dir.join(format!("store-{}", server.key()));
    std::fs::create_dir_all(&store).unwrap();
    let mut o = match server {
        Server::DuckDb => json!({"database.backend": "duckdb",
                                 "database.path": dir.join("ours.duckdb")}),
        Server::Postgres => json!({"database.backend": "postgresql", "database.host": PG_HOST,
                                   "database.port": PG_PORT, "database.user": "postgres",
                                   "database.name": "postgres"}),
        Server::MySql => json!({"database.backend": "mysql", "database.host": PG_HOST,
                                "database.port": MY_PORT, "database.user": "root",
                                "database.password": ""}),
    };
    o["stores"] = json!({"default": "main", "main": {"protocol": "file", "location": store}});
    o["npy_cache.path"] = json!(dir.join(format!("cache-{}", server.key())));
    let o = CString::new(o.to_string()).unwrap();
    let mut conn = ptr::null_mut();
    unsafe { check(dj_connect(ptr::null(), o.as_ptr(), &mut conn)) };
    conn
}

fn declare(schema: *mut dj_schema, class: &std::ffi::CStr, def: &std::ffi::CStr) -> *mut dj_table {
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

fn drop_table(t: *mut dj_table) {
    unsafe {
        check(dj_table_drop(t));
        dj_table_free(t);
    }
}

/// One dj_table_insert_columns call.
fn insert(t: *mut dj_table, r: &Rows) -> Times {
    let cols = [
        column(c"id", DJ_KIND_INT32, &r.ids),
        column(c"x", DJ_KIND_FLOAT64, &r.xs),
        string_column(c"name", &r.bytes, &r.offsets),
    ];
    let n = r.ids.len();
    let mut written = 0u64;
    let clock = Clock::start();
    unsafe {
        check(dj_table_insert_columns(
            t,
            cols.as_ptr(),
            cols.len(),
            n,
            ptr::null(),
            &mut written,
        ))
    };
    let dt = clock.stop();
    assert_eq!(written as usize, n);
    dt
}

/// dj_table_fetch of all rows into columns, every column touched.
fn fetch(t: *mut dj_table, r: &Rows) -> Times {
    let clock = Clock::start();
    let got = unsafe {
        let mut res = ptr::null_mut();
        check(dj_table_fetch(t, ptr::null(), &mut res));
        let n = dj_result_nrows(res);
        let mut v: dj_column_view = std::mem::zeroed();
        check(dj_result_column(res, 0, &mut v));
        let ids = std::slice::from_raw_parts(v.data as *const i32, v.length);
        check(dj_result_column(res, 1, &mut v));
        let xs = std::slice::from_raw_parts(v.data as *const f64, v.length);
        check(dj_result_column(res, 2, &mut v));
        let name_bytes = *v.offsets.add(v.length) as usize;
        let d = digest(ids, xs, name_bytes);
        assert_eq!(n, r.ids.len());
        dj_result_free(res);
        d
    };
    let dt = clock.stop();
    assert_eq!(got, expected(r));
    dt
}

fn store_requests(conn: *mut dj_conn) -> u64 {
    let mut n = 0u64;
    unsafe {
        check(dj_conn_store_stats(
            conn,
            ptr::null(),
            &mut n,
            ptr::null_mut(),
            ptr::null_mut(),
        ))
    };
    n
}

/// Fetch the refs table and make every row's NpyRef; (times, store requests).
fn refs(conn: *mut dj_conn, t: *mut dj_table) -> (Times, u64) {
    let req0 = store_requests(conn);
    let clock = Clock::start();
    let mut first = ptr::null_mut();
    unsafe {
        let mut res = ptr::null_mut();
        check(dj_table_fetch(t, ptr::null(), &mut res));
        let n = dj_result_nrows(res);
        assert_eq!(n, NREFS);
        for i in 0..n {
            let mut r = ptr::null_mut();
            check(dj_result_npyref(res, 1, i, &mut r));
            if i == 0 {
                first = r;
            } else {
                dj_npyref_free(r);
            }
        }
        dj_result_free(res);
    }
    let dt = clock.stop();
    let requests = store_requests(conn) - req0;
    // the refs are real: the first one knows its array without I/O
    let mut size = 0u64;
    unsafe {
        check(dj_npyref_size(first, &mut size, ptr::null_mut()));
        dj_npyref_free(first);
    }
    assert_eq!(size, 4);
    (dt, requests)
}

fn ours(server: Server, dir: &Path, prefix: &str) -> Value {
    let conn = connect(server, dir);
    let name = CString::new(format!("{prefix}_ours")).unwrap();
    let mut schema = ptr::null_mut();
    unsafe { check(dj_schema_open(conn, name.as_ptr(), 1, &mut schema)) };
    let _cleanup = Defer(|| unsafe {
        if dj_schema_drop(schema) != DJ_OK {
            eprintln!("could not drop schema {name:?}");
        }
        dj_schema_free(schema);
        dj_conn_free(conn);
    });
    let mut out = Map::new();
    for n in SIZES {
        let r = rows(n);
        let mut table: *mut dj_table = ptr::null_mut();
        let ins = best_times(REPEAT, || {
            if !table.is_null() {
                drop_table(table);
            }
            table = declare(schema, c"Item", ITEM);
            insert(table, &r)
        });
        put(&mut out, &format!("insert_{n}"), ins);
        put(
            &mut out,
            &format!("fetch_{n}"),
            best_times(REPEAT, || fetch(table, &r)),
        );
        drop_table(table);
    }
    // refs: 10,000 small arrays inserted once (not timed)
    let rec = declare(schema, c"Rec", c"id : int32\n---\narr : <npy@main>");
    let tiny = [1.0f32; 4];
    let shape = [4i64];
    let arrays: Vec<dj_array_in> = (0..NREFS)
        .map(|_| dj_array_in {
            data: tiny.as_ptr() as *const c_void,
            nbytes: 16,
            dtype: DJ_DTYPE_FLOAT32,
            ndim: 1,
            shape: shape.as_ptr(),
            itemsize: 4,
            order: DJ_ORDER_C,
        })
        .collect();
    let ids: Vec<i32> = (0..NREFS as i32).collect();
    let cols = [
        column(c"id", DJ_KIND_INT32, &ids),
        column(c"arr", DJ_KIND_ARRAY, &arrays),
    ];
    let mut written = 0u64;
    unsafe {
        check(dj_table_insert_columns(
            rec,
            cols.as_ptr(),
            2,
            NREFS,
            ptr::null(),
            &mut written,
        ))
    };
    assert_eq!(written as usize, NREFS);
    let mut requests = 0;
    let t = best_times(REPEAT, || {
        let (dt, req) = refs(conn, rec);
        requests += req;
        dt
    });
    assert_eq!(requests, 0, "making NpyRefs must not touch the store");
    put(&mut out, &format!("refs_{NREFS}"), t);
    out.insert("refs_store_requests".into(), json!(requests));
    unsafe { dj_table_free(rec) };
    Value::Object(out)
}

// ---------------------------------------------------------------- raw: DuckDB

/// An Arrow SELECT of the rows from a DuckDB file, collected and touched.
fn duckdb_select(dir: &Path, r: &Rows) -> f64 {
    use duckdb::arrow::array::{Array, Float64Array, Int32Array, StringArray};
    let n = r.ids.len();
    let conn = duckdb::Connection::open(dir.join(format!("raw-select-{n}.duckdb"))).unwrap();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE t (id INTEGER PRIMARY KEY, x DOUBLE NOT NULL, name VARCHAR NOT NULL);
         INSERT INTO t SELECT i, i * 0.5, printf('item-%06d', i) FROM range({n}) r(i);"
    ))
    .unwrap();
    best(REPEAT, || {
        let t0 = Instant::now();
        let mut stmt = conn.prepare("SELECT id, x, name FROM t").unwrap();
        let (mut ids, mut xs, mut name_bytes) = (Vec::new(), Vec::new(), 0usize);
        for b in stmt.query_arrow([]).unwrap() {
            let id = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
            let x = b.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
            let s = b.column(2).as_any().downcast_ref::<StringArray>().unwrap();
            ids.extend_from_slice(id.values());
            xs.extend_from_slice(x.values());
            name_bytes += (s.value_offsets()[s.len()] - s.value_offsets()[0]) as usize;
        }
        let dt = t0.elapsed().as_secs_f64();
        // row order of a plain SELECT is the insertion order here
        assert_eq!(digest(&ids, &xs, name_bytes), expected(r));
        dt
    })
}

fn raw_duckdb(dir: &Path) -> Value {
    let mut out = Map::new();
    for n in SIZES {
        let r = rows(n);
        let t = best(REPEAT, || {
            crate::raw_arrow_appender(&r.ids, &r.xs, &r.names)
        });
        out.insert(format!("arrow_appender_insert_{n}_s"), json!(t));
        out.insert(format!("arrow_select_{n}_s"), json!(duckdb_select(dir, &r)));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------- raw: PostgreSQL

fn runtime() -> tokio::runtime::Runtime {
    // like the library's: a 2-worker multi-thread runtime the caller blocks on
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Accepts the server's certificate (libpq's sslmode prefer/require), as the library does.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

async fn pg_connect(tls: bool) -> tokio_postgres::Client {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(PG_HOST)
        .port(PG_PORT)
        .user("postgres")
        .dbname("postgres")
        .application_name("dj-bench-raw");
    let client = if tls {
        cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth();
        let (client, conn) = cfg
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(config))
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    } else {
        cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
        let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    };
    client
}

async fn pg_copy(c: &tokio_postgres::Client, table: &str, r: &Rows) -> f64 {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::{ToSql, Type};
    let t0 = Instant::now();
    let sink = c
        .copy_in(&format!("COPY {table} (id, x, name) FROM STDIN BINARY"))
        .await
        .unwrap();
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT4, Type::FLOAT8, Type::VARCHAR]);
    let mut writer = std::pin::pin!(writer);
    for i in 0..r.ids.len() {
        let row: [&(dyn ToSql + Sync); 3] = [&r.ids[i], &r.xs[i], &r.names[i]];
        writer.as_mut().write(&row).await.unwrap();
    }
    let n = writer.finish().await.unwrap();
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(n as usize, r.ids.len());
    dt
}

async fn pg_select(c: &tokio_postgres::Client, table: &str, r: &Rows) -> f64 {
    let t0 = Instant::now();
    let res = c
        .query(&format!("SELECT id, x, name FROM {table}"), &[])
        .await
        .unwrap();
    let mut ids = Vec::with_capacity(res.len());
    let mut xs = Vec::with_capacity(res.len());
    let mut bytes = Vec::new();
    let mut offsets = Vec::with_capacity(res.len() + 1);
    offsets.push(0i64);
    for row in &res {
        ids.push(row.get::<_, i32>(0));
        xs.push(row.get::<_, f64>(1));
        bytes.extend_from_slice(row.get::<_, &str>(2).as_bytes());
        offsets.push(bytes.len() as i64);
    }
    drop(res);
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(digest(&ids, &xs, bytes.len()), expected(r));
    dt
}

/// Another way to read them: `COPY (SELECT ...) TO STDOUT (FORMAT binary)`, decoded the same way.
async fn pg_copy_out(c: &tokio_postgres::Client, table: &str, r: &Rows) -> f64 {
    use tokio_postgres::binary_copy::BinaryCopyOutStream;
    use tokio_postgres::types::Type;
    let t0 = Instant::now();
    let stream = c
        .copy_out(&format!(
            "COPY (SELECT id, x, name FROM {table}) TO STDOUT (FORMAT binary)"
        ))
        .await
        .unwrap();
    let rows = BinaryCopyOutStream::new(stream, &[Type::INT4, Type::FLOAT8, Type::VARCHAR]);
    let mut rows = std::pin::pin!(rows);
    let mut ids = Vec::with_capacity(r.ids.len());
    let mut xs = Vec::with_capacity(r.ids.len());
    let mut bytes = Vec::new();
    let mut offsets = vec![0i64];
    while let Some(row) = futures::StreamExt::next(&mut rows).await {
        let row = row.unwrap();
        ids.push(row.get::<i32>(0));
        xs.push(row.get::<f64>(1));
        bytes.extend_from_slice(row.get::<&str>(2).as_bytes());
        offsets.push(bytes.len() as i64);
    }
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(digest(&ids, &xs, bytes.len()), expected(r));
    dt
}

/// The table the library declares for `Item` (as its catalog shows it).
const PG_DDL: &str =
    "(id integer NOT NULL, x double precision NOT NULL, name varchar(32) NOT NULL, PRIMARY KEY (id))";

async fn pg_measure(schema: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (tls, label) in [(true, ""), (false, "_notls")] {
        let c = pg_connect(tls).await;
        let ssl: bool = c
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(ssl, tls);
        for n in SIZES {
            let r = rows(n);
            let mut best_copy = f64::INFINITY;
            let mut table = String::new();
            for k in 0..REPEAT {
                if !table.is_empty() {
                    c.batch_execute(&format!("DROP TABLE {table}"))
                        .await
                        .unwrap();
                }
                table = format!("{schema}.t{label}_{n}_{k}");
                c.batch_execute(&format!("CREATE TABLE {table} {PG_DDL}"))
                    .await
                    .unwrap();
                best_copy = best_copy.min(pg_copy(&c, &table, &r).await);
            }
            let (mut best_select, mut best_copy_out) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..REPEAT {
                best_select = best_select.min(pg_select(&c, &table, &r).await);
                best_copy_out = best_copy_out.min(pg_copy_out(&c, &table, &r).await);
            }
            out.insert(format!("copy_binary_insert{label}_{n}_s"), json!(best_copy));
            out.insert(format!("select{label}_{n}_s"), json!(best_select));
            out.insert(
                format!("copy_binary_out{label}_{n}_s"),
                json!(best_copy_out),
            );
        }
    }
    out
}

/// Run `measure` between creating and dropping a schema (dropped also when it panics).
fn in_schema<T>(
    rt: &tokio::runtime::Runtime,
    create: impl std::future::Future<Output = ()>,
    measure: impl FnOnce() -> T,
    drop: impl std::future::Future<Output = ()>,
) -> T {
    rt.block_on(create);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(measure));
    rt.block_on(drop);
    r.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn raw_postgres(prefix: &str) -> Value {
    let rt = runtime();
    let schema = format!("\"{prefix}_raw\"");
    let admin = rt.block_on(pg_connect(false));
    let out = in_schema(
        &rt,
        async {
            admin
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .await
                .unwrap()
        },
        || rt.block_on(pg_measure(&schema)),
        async {
            admin
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .unwrap()
        },
    );
    Value::Object(out)
}

// ---------------------------------------------------------------- raw: MariaDB

/// The table the library declares for `Item` (as SHOW CREATE TABLE shows it, comments aside).
const MY_DDL: &str = "(id int NOT NULL, x double NOT NULL, name varchar(32) NOT NULL, \
                      PRIMARY KEY (id)) ENGINE=InnoDB";

async fn my_connect() -> mysql_async::Conn {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(PG_HOST)
        .tcp_port(MY_PORT)
        .user(Some("root"))
        .prefer_socket(false);
    mysql_async::Conn::new(opts).await.unwrap()
}

/// One multi-row INSERT in the text protocol (values formatted into the statement).
async fn my_insert_text(c: &mut mysql_async::Conn, table: &str, r: &Rows) -> f64 {
    use mysql_async::prelude::Queryable;
    use std::fmt::Write;
    let t0 = Instant::now();
    let mut sql = String::with_capacity(40 + r.ids.len() * 32);
    write!(sql, "INSERT INTO {table} (id, x, name) VALUES ").unwrap();
    for i in 0..r.ids.len() {
        if i > 0 {
            sql.push(',');
        }
        // the names need no escaping (item-NNNNNN)
        write!(sql, "({},{:?},'{}')", r.ids[i], r.xs[i], r.names[i]).unwrap();
    }
    c.query_drop(sql).await.unwrap();
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(c.affected_rows() as usize, r.ids.len());
    dt
}

/// Prepared multi-row INSERTs of `per_stmt` rows each (the library's method with 21,845: at most
/// 65,535 placeholders); equal chunks reuse one prepared statement (mysql_async's cache).
async fn my_insert_prepared(
    c: &mut mysql_async::Conn,
    table: &str,
    r: &Rows,
    per_stmt: usize,
) -> f64 {
    use mysql_async::prelude::Queryable;
    use mysql_async::Value as V;
    let t0 = Instant::now();
    let mut written = 0;
    for chunk in (0..r.ids.len()).collect::<Vec<_>>().chunks(per_stmt) {
        let sql = format!(
            "INSERT INTO {table} (id, x, name) VALUES {}",
            vec!["(?,?,?)"; chunk.len()].join(",")
        );
        let mut params = Vec::with_capacity(chunk.len() * 3);
        for &i in chunk {
            params.push(V::Int(r.ids[i] as i64));
            params.push(V::Double(r.xs[i]));
            params.push(V::Bytes(r.names[i].as_bytes().to_vec()));
        }
        c.exec_drop(sql, params).await.unwrap();
        written += c.affected_rows() as usize;
    }
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(written, r.ids.len());
    dt
}

/// A SELECT of the rows into columns, in the text (`query`) or binary (`exec`) protocol.
async fn my_select(c: &mut mysql_async::Conn, table: &str, r: &Rows, binary: bool) -> f64 {
    use mysql_async::prelude::Queryable;
    let sql = format!("SELECT id, x, name FROM {table}");
    let t0 = Instant::now();
    let res: Vec<(i32, f64, Vec<u8>)> = if binary {
        c.exec(sql, ()).await.unwrap()
    } else {
        c.query(sql).await.unwrap()
    };
    let mut ids = Vec::with_capacity(res.len());
    let mut xs = Vec::with_capacity(res.len());
    let mut bytes = Vec::new();
    let mut offsets = Vec::with_capacity(res.len() + 1);
    offsets.push(0i64);
    for (id, x, name) in res {
        ids.push(id);
        xs.push(x);
        bytes.extend_from_slice(&name);
        offsets.push(bytes.len() as i64);
    }
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(digest(&ids, &xs, bytes.len()), expected(r));
    dt
}

async fn my_measure(db: &str) -> Map<String, Value> {
    use mysql_async::prelude::Queryable;
    let mut out = Map::new();
    let mut c = my_connect().await;
    for n in SIZES {
        let r = rows(n);
        let mut table = String::new();
        for (label, per_stmt) in [
            ("one_multirow_insert_text", 0),
            ("prepared_multirow_insert", 65_535 / 3),
            ("prepared_multirow_insert_1000_rows_per_stmt", 1000),
        ] {
            let mut b = f64::INFINITY;
            for k in 0..REPEAT {
                if !table.is_empty() {
                    c.query_drop(format!("DROP TABLE {table}")).await.unwrap();
                }
                table = format!("{db}.t_{label}_{n}_{k}");
                c.query_drop(format!("CREATE TABLE {table} {MY_DDL}"))
                    .await
                    .unwrap();
                b = b.min(if per_stmt == 0 {
                    my_insert_text(&mut c, &table, &r).await
                } else {
                    my_insert_prepared(&mut c, &table, &r, per_stmt).await
                });
            }
            out.insert(format!("{label}_{n}_s"), json!(b));
        }
        for (label, binary) in [("select_text", false), ("select_binary", true)] {
            let mut b = f64::INFINITY;
            for _ in 0..REPEAT {
                b = b.min(my_select(&mut c, &table, &r, binary).await);
            }
            out.insert(format!("{label}_{n}_s"), json!(b));
        }
    }
    c.disconnect().await.unwrap();
    out
}

async fn my_admin(sql: String) {
    use mysql_async::prelude::Queryable;
    let mut c = my_connect().await;
    c.query_drop(sql).await.unwrap();
    c.disconnect().await.unwrap();
}

fn raw_mysql(prefix: &str) -> Value {
    let rt = runtime();
    let db = format!("`{prefix}_raw`");
    let out = in_schema(
        &rt,
        my_admin(format!("CREATE DATABASE {db}")),
        || rt.block_on(my_measure(&db)),
        my_admin(format!("DROP DATABASE {db}")),
    );
    Value::Object(out)
}

// ---------------------------------------------------------------- the run

/// `only`: backends to run (duckdb, postgresql, mysql; empty = all), e.g. to profile one.
pub fn run(dir: &Path, prefix: &str, only: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("benchmark".into(), json!("sql"));
    out.insert("rows".into(), json!(SIZES));
    out.insert("refs".into(), json!(NREFS));
    out.insert("repeats_best_of".into(), json!(REPEAT));
    for server in [Server::DuckDb, Server::Postgres, Server::MySql] {
        if !only.is_empty() && !only.iter().any(|o| o == server.key()) {
            continue;
        }
        eprintln!("dj-bench sql: {}", server.key());
        let raw = match server {
            Server::DuckDb => raw_duckdb(dir),
            Server::Postgres => raw_postgres(prefix),
            Server::MySql => raw_mysql(prefix),
        };
        let o = ours(server, dir, prefix);
        out.insert(server.key().into(), json!({"ours": o, "raw": raw}));
    }
    Value::Object(out)
}
