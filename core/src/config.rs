//! Configuration: `datajoint.json` (searched like the reference does), secret files, environment
//! variables and runtime overrides (datajoint-storage.md §3.2).
//!
//! Precedence, highest first: runtime overrides, environment, the file, secret files (which only
//! fill gaps), defaults.

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "datajoint.json";

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Nested settings (`{"database": {"backend": ...}, "stores": {...}}`).
    pub values: Map<String, Value>,
    /// The file the settings came from, if any; relative paths are resolved against its folder.
    pub source: Option<PathBuf>,
}

/// Set a dotted key (`database.host`) in a nested map.
fn set_dotted(map: &mut Map<String, Value>, key: &str, v: Value) {
    let mut parts = key.splitn(2, '.');
    let head = parts.next().unwrap_or_default().to_string();
    match parts.next() {
        None => {
            map.insert(head, v);
        }
        Some(rest) => {
            let entry = map.entry(head).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                set_dotted(m, rest, v);
            }
        }
    }
}

/// Merge `src` (nested or with dotted keys) into `dst`; `fill_only` keeps existing values.
fn merge(dst: &mut Map<String, Value>, src: &Map<String, Value>, fill_only: bool) {
    for (k, v) in src {
        if k.contains('.') {
            let mut tmp = Map::new();
            set_dotted(&mut tmp, k, v.clone());
            merge(dst, &tmp, fill_only);
            continue;
        }
        match (dst.get_mut(k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => merge(d, s, fill_only),
            (Some(_), _) if fill_only => {}
            _ => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

impl Config {
    /// Settings with no file: defaults + environment.
    pub fn empty() -> Config {
        Config::default()
    }

    /// Load: an explicit file, or `datajoint.json` searched upward from the current directory
    /// (stopping at a folder containing `.git` or `.hg`), then secrets, then the environment.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let ignore_file = std::env::var("DJ_IGNORE_CONFIG_FILE")
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
            .unwrap_or(false);
        let mut cfg = Config::default();
        let path = match explicit {
            Some(p) => {
                if !p.is_file() {
                    return Err(Error::config(format!(
                        "config file '{}' does not exist",
                        p.display()
                    )));
                }
                Some(p.to_path_buf())
            }
            None if ignore_file => None,
            None => find_config_file(&std::env::current_dir().unwrap_or_default()),
        };
        if let Some(p) = &path {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::config(format!("reading '{}': {e}", p.display())))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| Error::config(format!("'{}' is not valid JSON: {e}", p.display())))?;
            let Value::Object(m) = v else {
                return Err(Error::config(format!(
                    "'{}' must hold a JSON object",
                    p.display()
                )));
            };
            merge(&mut cfg.values, &m, false);
            cfg.source = Some(p.canonicalize().unwrap_or_else(|_| p.clone()));
        }
        if !ignore_file || explicit.is_some() {
            cfg.load_secrets();
        }
        cfg.apply_env()?;
        Ok(cfg)
    }

    fn load_secrets(&mut self) {
        let mut dirs = Vec::new();
        if let Some(dir) = self.source.as_ref().and_then(|p| p.parent()) {
            dirs.push(dir.join(".secrets"));
        }
        dirs.push(PathBuf::from("/run/secrets/datajoint"));
        for dir in dirs {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut secrets = Map::new();
            for entry in rd.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if !(name.starts_with("database.") || name.starts_with("stores.")) {
                    continue;
                }
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    secrets.insert(name, Value::String(text.trim().to_string()));
                }
            }
            merge(&mut self.values, &secrets, true);
            break;
        }
    }

    fn apply_env(&mut self) -> Result<()> {
        let pairs = [
            ("DJ_HOST", "database.host"),
            ("DJ_USER", "database.user"),
            ("DJ_PASS", "database.password"),
            ("DJ_BACKEND", "database.backend"),
            ("DJ_PORT", "database.port"),
            ("DJ_DATABASE_NAME", "database.name"),
            ("DJ_DATABASE_PATH", "database.path"),
            ("DJ_USE_TLS", "database.use_tls"),
        ];
        for (env, key) in pairs {
            if let Ok(v) = std::env::var(env) {
                let val = if key == "database.port" {
                    v.parse::<u64>()
                        .map(Value::from)
                        .map_err(|_| Error::config(format!("{env} must be a port number")))?
                } else {
                    Value::String(v)
                };
                set_dotted(&mut self.values, key, val);
            }
        }
        if let Ok(v) = std::env::var("DJ_STORES") {
            let stores: Value = serde_json::from_str(&v)
                .map_err(|e| Error::config(format!("DJ_STORES is not valid JSON: {e}")))?;
            if !stores.is_object() {
                return Err(Error::config("DJ_STORES must be a JSON object"));
            }
            self.values.insert("stores".into(), stores);
        }
        Ok(())
    }

    /// Apply runtime overrides (highest precedence): a JSON object, nested or with dotted keys.
    pub fn apply_overrides_json(&mut self, json: &str) -> Result<()> {
        let v: Value = serde_json::from_str(json)
            .map_err(|e| Error::config(format!("overrides are not valid JSON: {e}")))?;
        let Value::Object(m) = v else {
            return Err(Error::config("overrides must be a JSON object"));
        };
        merge(&mut self.values, &m, false);
        Ok(())
    }

    pub fn set(&mut self, key: &str, v: Value) {
        set_dotted(&mut self.values, key, v);
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        let mut cur: Option<&Value> = None;
        let mut map = &self.values;
        for part in key.split('.') {
            let v = map.get(part)?;
            cur = Some(v);
            if let Value::Object(m) = v {
                map = m;
            }
        }
        cur
    }

    /// A boolean setting (`true`/`false`, or the strings "true"/"false"), else `default`.
    pub fn get_bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
            _ => default,
        }
    }

    /// A numeric setting, else `default`.
    pub fn get_f64(&self, key: &str, default: f64) -> f64 {
        match self.get(key) {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(default),
            Some(Value::String(s)) => s.parse().unwrap_or(default),
            _ => default,
        }
    }

    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The backend named by `database.backend`. Without one: `mysql` when `database.host` is
    /// set (DataJoint Python's default, so a shared `datajoint.json` means the same server),
    /// else the embedded `duckdb`.
    pub fn backend(&self) -> Result<String> {
        let b = match self.get_str("database.backend") {
            Some(b) => b.to_ascii_lowercase(),
            None if self.get_str("database.host").is_some() => "mysql".into(),
            None => "duckdb".into(),
        };
        match b.as_str() {
            "duckdb" => Ok(b),
            "postgresql" | "postgres" => Ok("postgresql".into()),
            "mysql" | "mariadb" => Ok("mysql".into()),
            other => Err(Error::config(format!(
                "unknown database.backend '{other}' (expected duckdb, postgresql or mysql)"
            ))),
        }
    }

    /// Settings of a PostgreSQL or MySQL server: `database.host` (default `localhost`, may
    /// carry `:port`), `database.port` (5432 / 3306), `database.user`, `database.password`,
    /// `database.name` (PostgreSQL database, default `postgres`), `database.use_tls`.
    pub fn server(&self) -> Result<ServerSettings> {
        let backend = self.backend()?;
        let pg = backend == "postgresql";
        let mut host = self
            .get_str("database.host")
            .unwrap_or_else(|| "localhost".into());
        let mut port: Option<u16> = None;
        if let Some((h, p)) = host.rsplit_once(':') {
            if !h.contains(':') {
                port = Some(
                    p.parse()
                        .map_err(|_| Error::config(format!("database.host '{host}': bad port")))?,
                );
                host = h.to_string();
            }
        }
        if let Some(v) = self.get("database.port") {
            let p = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                Value::Null => None,
                _ => None,
            };
            if !matches!(v, Value::Null) {
                port = Some(
                    p.and_then(|p| u16::try_from(p).ok())
                        .ok_or_else(|| Error::config("database.port must be a port number"))?,
                );
            }
        }
        let use_tls = match self.get("database.use_tls") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "" | "none" | "null" => None,
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" => Some(false),
                other => {
                    return Err(Error::config(format!(
                        "database.use_tls must be true, false or null, not '{other}'"
                    )))
                }
            },
            Some(_) => {
                return Err(Error::config(
                    "database.use_tls must be true, false or null",
                ))
            }
        };
        Ok(ServerSettings {
            host,
            port: port.unwrap_or(if pg { 5432 } else { 3306 }),
            // as libpq and the MySQL clients do: the login name when none is configured
            user: self
                .get_str("database.user")
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "root".into()),
            password: self.get_str("database.password").unwrap_or_default(),
            database: self
                .get_str("database.name")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "postgres".into()),
            use_tls,
        })
    }

    /// DuckDB database path: `database.path`, relative to the config file's folder;
    /// default `datajoint.duckdb` there (or in the current directory). `:memory:` for in-memory.
    pub fn duckdb_path(&self) -> String {
        let p = self
            .get_str("database.path")
            .unwrap_or_else(|| "datajoint.duckdb".into());
        if p == ":memory:" || Path::new(&p).is_absolute() {
            return p;
        }
        match self.source.as_ref().and_then(|s| s.parent()) {
            Some(dir) => dir.join(p).to_string_lossy().to_string(),
            None => p,
        }
    }
}

/// How to reach a PostgreSQL or MySQL server. `Debug` never shows the password.
#[derive(Clone)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// PostgreSQL: the database holding the schemas.
    pub database: String,
    /// None: TLS if the server offers it; Some(true): required; Some(false): off.
    pub use_tls: Option<bool>,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("database", &self.database)
            .field("use_tls", &self.use_tls)
            .finish()
    }
}

impl ServerSettings {
    /// `user@host:port` for messages (never the password).
    pub fn describe(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

/// Search upward from `start` for `datajoint.json`, stopping at a repository root or `/`.
pub fn find_config_file(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if d.join(".git").exists() || d.join(".hg").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_and_nested_merge() {
        let mut c = Config::default();
        c.apply_overrides_json(
            r#"{"database.backend": "duckdb", "database": {"path": ":memory:"}}"#,
        )
        .unwrap();
        assert_eq!(c.get_str("database.backend").as_deref(), Some("duckdb"));
        assert_eq!(c.duckdb_path(), ":memory:");
        assert!(c.apply_overrides_json("[1]").is_err());
        c.set("database.backend", Value::String("oracle".into()));
        assert_eq!(
            c.backend().unwrap_err().code,
            crate::error::ErrorCode::Config
        );
        // a shared datajoint.json with a host and no backend means MySQL, as in the reference
        let mut s = Config::default();
        s.apply_overrides_json(r#"{"database.host": "db.lab:3307", "database.password": "pw"}"#)
            .unwrap();
        assert_eq!(s.backend().unwrap(), "mysql");
        let srv = s.server().unwrap();
        assert_eq!((srv.host.as_str(), srv.port), ("db.lab", 3307));
        assert!(!format!("{srv:?}").contains("pw"));
        s.set("database.backend", Value::String("postgresql".into()));
        s.set("database.host", Value::String("db.lab".into()));
        let srv = s.server().unwrap();
        assert_eq!((srv.port, srv.database.as_str()), (5432, "postgres"));
    }

    #[test]
    fn file_search_and_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            dir.path().join("datajoint.json"),
            r#"{"database": {"path": "db.duckdb", "user": "from_file"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join(".secrets")).unwrap();
        std::fs::write(dir.path().join(".secrets/database.user"), "secret_user\n").unwrap();
        std::fs::write(dir.path().join(".secrets/database.password"), "pw\n").unwrap();
        let found = find_config_file(&sub).unwrap();
        let cfg = Config::load(Some(&found)).unwrap();
        // the file wins over secrets; secrets fill gaps
        assert_eq!(cfg.get_str("database.user").as_deref(), Some("from_file"));
        assert_eq!(cfg.get_str("database.password").as_deref(), Some("pw"));
        assert!(cfg.duckdb_path().ends_with("db.duckdb"));
        assert!(Path::new(&cfg.duckdb_path()).is_absolute());
        assert_eq!(
            Config::load(Some(&dir.path().join("missing.json")))
                .unwrap_err()
                .code,
            crate::error::ErrorCode::Config
        );
    }
}
