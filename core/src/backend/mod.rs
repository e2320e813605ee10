//! The relational layer: one trait of connection primitives, one implementation per file
//! (DuckDB embedded by default, PostgreSQL, MySQL/MariaDB), and [`Db`], which runs DataJoint's
//! operations on any of them with SQL from the one compiler in [`crate::sql`].
//!
//! A backend file holds only what differs for real: connecting, executing text, bulk transfer
//! (DuckDB Arrow appends, PostgreSQL binary COPY, MySQL multi-row statements), converting result
//! columns to buffers and mapping server errors to stable codes.

pub mod db;
pub mod duckdb;
pub mod mysql;
pub mod postgres;

pub use db::{Db, InsertBatch};

use crate::error::Result;
use crate::heading::Attribute;
use crate::sql::{Dialect, Target};
use crate::value::{Column, Value};

pub trait Backend: Send {
    fn dialect(&self) -> Dialect;

    /// Reconnect if the session was lost (returns true when it did). Called before every
    /// operation, so a dropped connection costs the one call that saw it.
    fn ensure_connected(&mut self) -> Result<bool>;

    /// Run one statement; returns the number of rows it affected.
    fn execute(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<u64>;

    /// Run a query whose columns are all text (catalog queries).
    fn query_text(
        &mut self,
        sql: &str,
        params: &[Value],
        ctx: &str,
    ) -> Result<Vec<Vec<Option<String>>>>;

    /// Run a query whose result columns are the given attributes, decoded into their buffer
    /// kinds.
    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        attrs: &[&Attribute],
        ctx: &str,
    ) -> Result<Vec<Column>>;

    /// Append rows (no conflict handling) with the backend's bulk path.
    fn append(
        &mut self,
        target: Target,
        attrs: &[&Attribute],
        columns: Vec<Column>,
        nrows: usize,
        ctx: &str,
    ) -> Result<u64>;
}
