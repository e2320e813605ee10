//! DataJoint Object-Augmented Schema core: table definitions, core types, insert / fetch /
//! restrict / delete over a pluggable relational backend (DuckDB embedded by default).
//!
//! Pure Rust with no FFI; the C ABI lives in the `datajoint-ffi` crate.

pub mod backend;
pub mod cache;
pub mod codecs;
pub mod config;
pub mod connection;
pub mod declare;
pub mod error;
pub mod heading;
pub mod naming;
pub mod npy;
pub mod objpath;
pub mod runtime;
pub mod schema;
pub mod sql;
pub mod store;
pub mod table;
pub mod types;
pub mod value;

pub use config::Config;
pub use connection::Connection;
pub use error::{Error, ErrorCode, Result};
pub use heading::{Attribute, Heading};
pub use naming::Tier;
pub use schema::Schema;
pub use table::{FetchOptions, InsertOptions, ResultSet, Row, Table};
pub use types::{AttrType, CoreType, Kind};
pub use value::{Column, ColumnData, InputColumn, InputData, Value, VarData};

/// Version of the core crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
