//! The relational layer: one trait, one implementation per file. DuckDB is the embedded default;
//! PostgreSQL and MySQL implement the same trait.

pub mod duckdb;

use crate::error::Result;
use crate::heading::{Attribute, Heading};
use crate::value::{Column, Value};

/// A resolved foreign key: child columns reference the parent's primary-key columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeySpec {
    pub columns: Vec<String>,
    pub parent_table: String,
    pub parent_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub unique: bool,
    pub columns: Vec<String>,
}

/// Everything a backend needs to create a table.
#[derive(Debug, Clone)]
pub struct TableSpec<'a> {
    pub schema: &'a str,
    pub name: &'a str,
    pub heading: &'a Heading,
    /// A table with an empty primary key gets the hidden `_singleton` key column.
    pub singleton: bool,
    pub foreign_keys: Vec<ForeignKeySpec>,
    pub indexes: Vec<IndexSpec>,
}

/// A restriction, rendered into a WHERE clause by each backend's dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    True,
    False,
    /// An SQL condition used verbatim (parenthesised).
    Sql(String),
    /// attribute = value (value already converted to the attribute's canonical form)
    Eq(Attribute, Value),
    IsNull(String),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// A duplicate key is an error.
    Error,
    /// Rows whose primary key exists are skipped.
    SkipDuplicates,
    /// Rows whose primary key exists replace the old row.
    Replace,
}

pub struct InsertBatch<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    pub heading: &'a Heading,
    /// (attribute index in heading, canonical column)
    pub columns: Vec<(usize, Column)>,
    pub nrows: usize,
}

pub struct SelectSpec<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    pub heading: &'a Heading,
    /// attribute indexes to return
    pub attrs: Vec<usize>,
    pub condition: &'a Condition,
    /// (attribute name, descending)
    pub order_by: Vec<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

pub trait Backend: Send {
    /// "duckdb", "postgresql" or "mysql".
    fn kind(&self) -> &'static str;
    fn list_schemas(&mut self) -> Result<Vec<String>>;
    fn create_schema(&mut self, name: &str) -> Result<()>;
    fn drop_schema(&mut self, name: &str) -> Result<()>;
    /// SQL names of the tables in a schema, hidden (`~`) tables excluded, sorted.
    fn list_tables(&mut self, schema: &str) -> Result<Vec<String>>;
    fn create_table(&mut self, spec: &TableSpec) -> Result<()>;
    fn drop_table(&mut self, schema: &str, table: &str) -> Result<()>;
    /// The heading read back from the catalog, or None if the table does not exist.
    fn read_heading(&mut self, schema: &str, table: &str) -> Result<Option<Heading>>;
    /// Insert a batch atomically; returns the number of rows written.
    /// The batch is consumed so its buffers can move into the driver without a copy.
    fn insert(&mut self, batch: InsertBatch, mode: InsertMode) -> Result<u64>;
    fn select(&mut self, spec: &SelectSpec) -> Result<Vec<Column>>;
    fn count(
        &mut self,
        schema: &str,
        table: &str,
        heading: &Heading,
        cond: &Condition,
    ) -> Result<u64>;
    /// Delete the matching rows in one transaction; returns the count and the deleted rows'
    /// values of the `returning` attributes (used to remove their stored objects afterwards).
    fn delete(
        &mut self,
        schema: &str,
        table: &str,
        heading: &Heading,
        cond: &Condition,
        returning: &[usize],
    ) -> Result<(u64, Vec<Column>)>;
}

/// SQL text generation shared by the backends.
pub trait Dialect {
    fn quote_ident(&self, s: &str) -> String;
    /// Placeholder for the n-th (0-based) parameter compared against `attr`.
    fn placeholder(&self, n: usize, attr: &Attribute) -> String;
    fn full_name(&self, schema: &str, table: &str) -> String {
        format!("{}.{}", self.quote_ident(schema), self.quote_ident(table))
    }
}

pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Render a condition; parameters are appended to `params` in placeholder order.
pub fn render_condition(
    d: &dyn Dialect,
    c: &Condition,
    params: &mut Vec<(Attribute, Value)>,
) -> String {
    match c {
        Condition::True => "TRUE".into(),
        Condition::False => "FALSE".into(),
        Condition::Sql(s) => format!("({s})"),
        Condition::Eq(a, v) => {
            let ph = d.placeholder(params.len(), a);
            params.push((a.clone(), v.clone()));
            format!("{} = {ph}", d.quote_ident(&a.name))
        }
        Condition::IsNull(n) => format!("{} IS NULL", d.quote_ident(n)),
        Condition::And(v) if v.is_empty() => "TRUE".into(),
        Condition::Or(v) if v.is_empty() => "FALSE".into(),
        Condition::And(v) => {
            let parts: Vec<String> = v.iter().map(|x| render_condition(d, x, params)).collect();
            format!("({})", parts.join(" AND "))
        }
        Condition::Or(v) => {
            let parts: Vec<String> = v.iter().map(|x| render_condition(d, x, params)).collect();
            format!("({})", parts.join(" OR "))
        }
        Condition::Not(x) => format!("(NOT {})", render_condition(d, x, params)),
    }
}
