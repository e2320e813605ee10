//! DataJoint Object-Augmented Schema core: table definitions, core types, insert / fetch /
//! restrict / delete over three relational backends (DuckDB embedded by default, PostgreSQL,
//! MySQL/MariaDB) and object stores.
//!
//! Pure Rust with no FFI; the C ABI lives in the `datajoint-ffi` crate. Folders:
//! `schema/` (definitions, headings, naming, declaration), `sql/` (the one SQL compiler),
//! `backend/` (the backends and DataJoint's operations over them), `store/` (object stores,
//! paths, the download cache), `codecs/` (one codec per file).

pub mod backend;
pub mod blob;
pub mod codecs;
pub mod config;
pub mod connection;
pub mod error;
pub mod gc;
pub mod npy;
pub mod populate;
pub mod query;
pub mod runtime;
pub mod schema;
pub mod sql;
pub mod staged;
pub mod store;
pub mod table;
pub mod types;
pub mod value;

// Paths of the modules before they were grouped into folders.
pub use schema::{declare, heading, naming};
pub use store::{cache, objpath};

pub use config::Config;
pub use connection::Connection;
pub use error::{Error, ErrorCode, Result};
pub use heading::{Attribute, Heading};
pub use naming::Tier;
pub use populate::{
    FailedKey, JobCounts, Jobs, MakeCall, MakeError, Order, PopulateOptions, PopulateReport,
    Progress, RefreshOptions, RefreshReport,
};
pub use query::{DeleteOptions, DeleteReport, PartIntegrity, Query, Restriction, Top, U};
pub use schema::Schema;
pub use table::{FetchOptions, InsertOptions, ResultSet, Row, Table};
pub use types::{AttrType, CoreType, Kind};
pub use value::{Column, ColumnData, InputColumn, InputData, Value, VarData};

/// Version of the core crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
