//! A connection to the relational backend. Schemas and tables made from it hold an `Arc` to the
//! shared state, so any free order is safe; `close()` invalidates them all at once.

use crate::backend::duckdb::DuckDbBackend;
use crate::backend::mysql::MySqlBackend;
use crate::backend::postgres::PgBackend;
use crate::backend::Db;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::store::Stores;
use std::sync::{Arc, Mutex};

pub(crate) struct ConnInner {
    backend: Mutex<Option<Db>>,
    pub(crate) config: Config,
    /// Object stores; independent of the database, so refs and views outlive a closed connection.
    pub(crate) stores: Arc<Stores>,
}

impl ConnInner {
    /// Run `f` with the backend; one operation at a time per connection.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Db) -> Result<T>) -> Result<T> {
        let mut guard = self.backend.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(b) => f(b),
            None => Err(Error::closed()),
        }
    }
}

#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<ConnInner>,
}

impl Connection {
    /// Connect with settings from a [`Config`] (`database.backend`, `database.path`, …).
    pub fn open(config: Config) -> Result<Connection> {
        let backend = match config.backend()?.as_str() {
            "duckdb" => Db::new(Box::new(DuckDbBackend::open(&config.duckdb_path())?)),
            "postgresql" => Db::new(Box::new(PgBackend::connect(config.server()?)?)),
            "mysql" => Db::new(Box::new(MySqlBackend::connect(config.server()?)?)),
            other => return Err(Error::config(format!("unsupported backend '{other}'"))),
        };
        let stores = Arc::new(Stores::from_config(&config)?);
        Ok(Connection {
            inner: Arc::new(ConnInner {
                backend: Mutex::new(Some(backend)),
                config,
                stores,
            }),
        })
    }

    /// Load `datajoint.json` (explicit path, or searched upward from the current directory),
    /// apply environment variables and then `overrides_json` (a JSON object), and connect.
    pub fn connect(
        config_path: Option<&std::path::Path>,
        overrides_json: Option<&str>,
    ) -> Result<Connection> {
        let mut cfg = Config::load(config_path)?;
        if let Some(o) = overrides_json {
            cfg.apply_overrides_json(o)?;
        }
        Connection::open(cfg)
    }

    /// An embedded DuckDB database at `path` (created if missing), or `:memory:`.
    pub fn open_duckdb(path: &str) -> Result<Connection> {
        let mut cfg = Config::empty();
        cfg.set("database.backend", "duckdb".into());
        cfg.set("database.path", path.into());
        Connection::open(cfg)
    }

    /// Release the database (file lock, sockets) now. Idempotent; every schema and table made
    /// from this connection then fails with `Closed`.
    pub fn close(&self) {
        let mut guard = self.inner.backend.lock().unwrap_or_else(|p| p.into_inner());
        *guard = None;
    }

    pub fn is_closed(&self) -> bool {
        self.inner
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    pub fn backend_kind(&self) -> Result<&'static str> {
        self.inner.with(|b| Ok(b.kind()))
    }

    /// The server's id of this connection's session: PostgreSQL's backend pid, MySQL's
    /// connection id (what `pg_terminate_backend` / `KILL CONNECTION` take); 0 for DuckDB.
    /// A reconnect gives a new id.
    pub fn session_id(&self) -> Result<i64> {
        self.inner.with(|b| b.session_id())
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The configured object stores (connected on first use).
    pub fn stores(&self) -> Arc<Stores> {
        self.inner.stores.clone()
    }

    pub fn list_schemas(&self) -> Result<Vec<String>> {
        self.inner.with(|b| b.list_schemas())
    }

    /// Open a schema; with `create`, create it if it does not exist.
    pub fn schema(&self, name: &str, create: bool) -> Result<Schema> {
        Schema::open(self.inner.clone(), name, create)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.is_closed())
            .finish()
    }
}
