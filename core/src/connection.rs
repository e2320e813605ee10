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
use crate::table::StoredObjects;
use std::sync::{Arc, Mutex};

pub(crate) struct ConnInner {
    backend: Mutex<Option<Db>>,
    pub(crate) config: Config,
    /// Object stores; independent of the database, so refs and views outlive a closed connection.
    pub(crate) stores: Arc<Stores>,
    /// The open transaction's objects (a populate's `make`), when one is open.
    journal: Mutex<Option<Journal>>,
}

/// What the open transaction did to object stores: the objects its writes added (removed
/// again if it rolls back) and the objects its replaced or deleted rows held (removed only
/// once it commits).
#[derive(Default)]
struct Journal {
    added: Vec<(String, StoredObjects)>,
    released: Vec<(String, StoredObjects)>,
    /// `(schema, table)` of the Computed/Imported table whose `make` runs in it
    making: Option<(String, String)>,
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

    fn journal(&self) -> std::sync::MutexGuard<'_, Option<Journal>> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open a transaction on this connection; with `making`, inserts into that table are
    /// allowed in it (its `make`).
    pub(crate) fn begin(&self, making: Option<(String, String)>) -> Result<()> {
        self.with(|b| b.begin())?;
        *self.journal() = Some(Journal {
            making,
            ..Default::default()
        });
        Ok(())
    }

    /// Commit (or roll back) the open transaction, then settle its objects: after a commit
    /// the released ones are removed; after a rollback (or a failed commit) the added ones.
    pub(crate) fn end(&self, commit: bool) -> Result<()> {
        let j = self.journal().take().unwrap_or_default();
        let r = self.with(|b| b.end(commit));
        let remove = if commit && r.is_ok() {
            j.released
        } else {
            j.added
        };
        for (schema, objs) in remove {
            objs.release(self, &schema);
        }
        r
    }

    pub(crate) fn in_transaction(&self) -> bool {
        self.journal().is_some()
    }

    /// Whether inserts into `schema`.`table` are inside its `make`.
    pub(crate) fn making(&self, schema: &str, table: &str) -> bool {
        self.journal()
            .as_ref()
            .and_then(|j| j.making.as_ref())
            .is_some_and(|(s, t)| s == schema && t == table)
    }

    /// Objects a committed write added: inside a transaction they are removed again if it
    /// rolls back.
    pub(crate) fn added_objects(&self, schema: &str, objs: StoredObjects) {
        if let Some(j) = self.journal().as_mut() {
            j.added.push((schema.to_string(), objs));
        }
    }

    /// Objects that rows no longer hold: removed now, or when the open transaction commits.
    pub(crate) fn release_objects(&self, schema: &str, objs: StoredObjects) {
        if let Some(j) = self.journal().as_mut() {
            j.released.push((schema.to_string(), objs));
            return;
        }
        objs.release(self, schema);
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
                journal: Mutex::new(None),
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
