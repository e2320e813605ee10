//! Shared fixtures: run a test body on every backend (DuckDB in memory, the PostgreSQL and MySQL
//! servers on 127.0.0.1), each with uniquely named schemas that are dropped afterwards.
//!
//! `DJ_TEST_BACKENDS` (default `duckdb,postgresql,mysql`) selects the backends; an unreachable
//! server is a failure, never a skip. `DJ_TEST_PG_HOST/PORT/USER`, `DJ_TEST_MYSQL_HOST/PORT/USER/
//! PASS` point at other servers.
#![allow(dead_code)]

use datajoint_core::{Config, Connection, Schema};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn env(k: &str, d: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| d.to_string())
}

/// Settings of a server backend as `dj_connect` overrides.
pub fn server_overrides(backend: &str) -> String {
    match backend {
        "postgresql" => serde_json::json!({
            "database.backend": "postgresql",
            "database.host": env("DJ_TEST_PG_HOST", "127.0.0.1"),
            "database.port": env("DJ_TEST_PG_PORT", "5432").parse::<u16>().unwrap(),
            "database.user": env("DJ_TEST_PG_USER", "postgres"),
            "database.name": env("DJ_TEST_PG_DATABASE", "postgres"),
        })
        .to_string(),
        "mysql" => serde_json::json!({
            "database.backend": "mysql",
            "database.host": env("DJ_TEST_MYSQL_HOST", "127.0.0.1"),
            "database.port": env("DJ_TEST_MYSQL_PORT", "3306").parse::<u16>().unwrap(),
            "database.user": env("DJ_TEST_MYSQL_USER", "root"),
            "database.password": env("DJ_TEST_MYSQL_PASS", ""),
        })
        .to_string(),
        "duckdb" => r#"{"database.backend": "duckdb", "database.path": ":memory:"}"#.into(),
        other => panic!("unknown test backend {other}"),
    }
}

pub fn backends() -> Vec<String> {
    env("DJ_TEST_BACKENDS", "duckdb,postgresql,mysql")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A connection of one backend plus the schemas a test made on it.
pub struct TestDb {
    pub backend: String,
    pub conn: Connection,
    extra: String,
    schemas: Mutex<Vec<String>>,
}

impl TestDb {
    pub fn open(backend: &str) -> TestDb {
        TestDb::open_with(backend, "{}")
    }

    /// A connection with more settings (e.g. stores) merged over the backend's.
    pub fn open_with(backend: &str, extra_json: &str) -> TestDb {
        let conn = connect(backend, extra_json);
        TestDb {
            backend: backend.to_string(),
            conn,
            extra: extra_json.to_string(),
            schemas: Mutex::new(Vec::new()),
        }
    }

    /// A new connection to the same database (DuckDB in memory: not shared, so only for
    /// server backends).
    pub fn reconnect(&self) -> Connection {
        connect(&self.backend, &self.extra)
    }

    /// A unique schema name for `base` on the shared servers.
    pub fn schema_name(&self, base: &str) -> String {
        if self.backend == "duckdb" {
            return base.to_string();
        }
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("djt{}_{n}_{base}", std::process::id() % 100_000);
        self.schemas.lock().unwrap().push(name.clone());
        name
    }

    /// Create a fresh schema (dropped when the test's TestDb is dropped).
    pub fn schema(&self, base: &str) -> Schema {
        let name = self.schema_name(base);
        let _ = self.conn.schema(&name, false).map(|s| s.drop());
        self.conn.schema(&name, true).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(c) = std::panic::catch_unwind(|| connect(&self.backend, &self.extra)) {
            for s in self.schemas.lock().unwrap().iter() {
                if let Ok(sc) = c.schema(s, false) {
                    let _ = sc.drop();
                }
            }
        }
    }
}

pub fn connect(backend: &str, extra_json: &str) -> Connection {
    let mut cfg = Config::empty();
    cfg.apply_overrides_json(&server_overrides(backend))
        .unwrap();
    cfg.apply_overrides_json(extra_json).unwrap();
    Connection::open(cfg).unwrap_or_else(|e| {
        panic!("cannot connect to the {backend} test database (is the server running?): {e}")
    })
}

/// Run `f` on every test backend, each with its own connection and schemas.
pub fn for_each_backend(f: impl Fn(&TestDb)) {
    for b in backends() {
        let db = TestDb::open(&b);
        eprintln!("-- backend {b}");
        f(&db);
    }
}

/// Run SQL on a server with its command-line client (psql / mariadb); returns stdout, rows as
/// tab-separated lines. For catalog checks and faults the library itself does not offer.
pub fn raw_sql(backend: &str, sql: &str) -> String {
    let out = raw_command(backend, sql)
        .output()
        .unwrap_or_else(|e| panic!("running the {backend} client: {e}"));
    assert!(
        out.status.success(),
        "{backend} client failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The client command for `sql` (to run in the background too).
pub fn raw_command(backend: &str, sql: &str) -> std::process::Command {
    match backend {
        "postgresql" => {
            let mut c = std::process::Command::new("psql");
            c.args([
                "-h",
                &env("DJ_TEST_PG_HOST", "127.0.0.1"),
                "-p",
                &env("DJ_TEST_PG_PORT", "5432"),
                "-U",
                &env("DJ_TEST_PG_USER", "postgres"),
                "-d",
                &env("DJ_TEST_PG_DATABASE", "postgres"),
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-F",
                "\t",
                "-c",
                sql,
            ]);
            c
        }
        "mysql" => {
            let bin = if std::path::Path::new("/usr/bin/mariadb").exists() {
                "mariadb"
            } else {
                "mysql"
            };
            let mut c = std::process::Command::new(bin);
            c.args([
                "-h",
                &env("DJ_TEST_MYSQL_HOST", "127.0.0.1"),
                "-P",
                &env("DJ_TEST_MYSQL_PORT", "3306"),
                "-u",
                &env("DJ_TEST_MYSQL_USER", "root"),
                "-N",
                "-B",
                "-e",
                sql,
            ]);
            let pass = env("DJ_TEST_MYSQL_PASS", "");
            if !pass.is_empty() {
                c.arg(format!("-p{pass}"));
            }
            c
        }
        other => panic!("no SQL client for {other}"),
    }
}
