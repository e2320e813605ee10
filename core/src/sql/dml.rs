//! Data statements: restrictions, SELECT, COUNT, DELETE, bulk INSERT/COPY and the staged
//! merge behind skip-duplicates and replace.

use super::query::{Block, Render};
use super::{Dialect, Target};
use crate::heading::Attribute;
use crate::types::{AttrType, CoreType, NativeRepr};
use crate::value::Value;
use std::sync::Arc;

/// A restriction, rendered into a WHERE clause.
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
    /// `(a, b) [NOT] IN (SELECT a, b …)`: a semijoin or antijoin on the shared attributes.
    In {
        attrs: Vec<String>,
        sub: Arc<Block>,
        negate: bool,
    },
    /// `[NOT] EXISTS (…)`: restriction by a query that shares no attribute.
    Exists {
        sub: Arc<Block>,
        negate: bool,
    },
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

/// Render a condition; parameters are appended to the renderer's in placeholder order.
pub(super) fn condition_with(r: &mut Render, c: &Condition) -> String {
    let d = r.d;
    match c {
        Condition::True => "TRUE".into(),
        Condition::False => "FALSE".into(),
        Condition::Sql(s) => format!("({s})"),
        Condition::Eq(a, v) => {
            let ph = d.placeholder(r.params.len(), Some(a));
            r.params.push(v.clone());
            format!("{} = {ph}", d.quote(&a.name))
        }
        Condition::IsNull(n) => format!("{} IS NULL", d.quote(n)),
        Condition::And(v) if v.is_empty() => "TRUE".into(),
        Condition::Or(v) if v.is_empty() => "FALSE".into(),
        Condition::And(v) | Condition::Or(v) => {
            let op = if matches!(c, Condition::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts: Vec<String> = v.iter().map(|x| condition_with(r, x)).collect();
            format!("({})", parts.join(op))
        }
        Condition::Not(x) => format!("(NOT {})", condition_with(r, x)),
        Condition::In { attrs, sub, negate } => {
            let lhs = if attrs.len() == 1 {
                d.quote(&attrs[0])
            } else {
                format!("({})", d.quote_list(attrs))
            };
            let sql = r.block(sub, None);
            format!("({lhs} {}IN ({sql}))", if *negate { "NOT " } else { "" })
        }
        Condition::Exists { sub, negate } => {
            let sql = r.block(sub, None);
            format!("({}EXISTS ({sql}))", if *negate { "NOT " } else { "" })
        }
    }
}

/// SELECT expression of an attribute: types the backend cannot decode from its wire format are
/// cast here (to text, or DuckDB's unsigned integers to the buffer kind's width).
pub fn select_expr(d: Dialect, a: &Attribute) -> String {
    select_expr_as(d, &d.quote(&a.name), a)
}

/// [`select_expr`] of the value of `expr`, named after the attribute.
pub fn select_expr_as(d: Dialect, expr: &str, a: &Attribute) -> String {
    let name = d.quote(&a.name);
    let cast = |t: &str| format!("CAST({expr} AS {t}) AS {name}");
    let plain = || {
        if expr == name {
            name.clone()
        } else {
            format!("{expr} AS {name}")
        }
    };
    match (d, &a.ty) {
        (Dialect::DuckDb, AttrType::Core(CoreType::Enum(_) | CoreType::Decimal(..)))
        | (Dialect::DuckDb, AttrType::Core(CoreType::Json))
        | (Dialect::DuckDb, AttrType::Codec { store: Some(_), .. }) => cast("VARCHAR"),
        (Dialect::DuckDb, AttrType::Native(n)) => match &n.repr {
            NativeRepr::Int { .. } | NativeRepr::Year => match n.kind() {
                crate::types::Kind::Int8 => cast("TINYINT"),
                crate::types::Kind::Int16 => cast("SMALLINT"),
                crate::types::Kind::Int32 => cast("INTEGER"),
                crate::types::Kind::Int64 => cast("BIGINT"),
                _ => cast("UBIGINT"),
            },
            NativeRepr::Float32 | NativeRepr::Float64 | NativeRepr::Bytes => plain(),
            NativeRepr::Date | NativeRepr::Datetime(_) | NativeRepr::Uuid => plain(),
            _ => cast("VARCHAR"),
        },
        (Dialect::Postgres, AttrType::Native(n)) if n.repr == NativeRepr::Other => cast("text"),
        (Dialect::MySql, AttrType::Native(n)) if n.repr == NativeRepr::Other => cast("CHAR"),
        _ => plain(),
    }
}

/// One multi-row INSERT of `nrows` rows with placeholders: MySQL's bulk path, and
/// PostgreSQL's for small batches (one round trip, where COPY takes several).
pub fn insert_values(d: Dialect, target: Target, names: &[&str], nrows: usize) -> String {
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        d.target(target),
        d.quote_list(names)
    );
    let w = names.len();
    for r in 0..nrows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..w {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&d.placeholder(r * w + c, None));
        }
        sql.push(')');
    }
    sql
}

/// PostgreSQL's bulk path: binary COPY.
pub fn copy_in(d: Dialect, target: Target, names: &[&str]) -> String {
    format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        d.target(target),
        d.quote_list(names)
    )
}

/// A query with no rows whose result columns describe `names` (their server types).
pub fn probe_columns(d: Dialect, target: Target, names: &[&str]) -> String {
    format!(
        "SELECT {} FROM {} LIMIT 0",
        d.quote_list(names),
        d.target(target)
    )
}

/// An empty staging table with the given columns of `table`.
pub fn create_stage(d: Dialect, schema: &str, table: &str, names: &[&str]) -> String {
    let temp = if d == Dialect::MySql {
        "TEMPORARY"
    } else {
        "TEMP"
    };
    let stage = match d {
        Dialect::Postgres => d.quote(super::STAGE),
        _ => d.target(Target::Stage { schema }),
    };
    format!(
        "CREATE {temp} TABLE {stage} AS SELECT {} FROM {} LIMIT 0",
        d.quote_list(names),
        d.table(schema, table)
    )
}

pub fn drop_stage(d: Dialect, schema: &str) -> String {
    let temp = if d == Dialect::MySql {
        "TEMPORARY "
    } else {
        ""
    };
    format!(
        "DROP {temp}TABLE IF EXISTS {}",
        d.target(Target::Stage { schema })
    )
}

/// Move the staged rows into the table: skip rows whose key exists, or replace them. Judged on
/// the primary key on PostgreSQL and DuckDB; on MySQL on any unique key, as the reference does
/// (`ON DUPLICATE KEY UPDATE`).
pub fn merge_stage(
    d: Dialect,
    schema: &str,
    table: &str,
    names: &[&str],
    primary_key: &[String],
    mode: InsertMode,
) -> String {
    let full = d.table(schema, table);
    let cols = d.quote_list(names);
    let updates: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !primary_key.iter().any(|k| k == n))
        .collect();
    let head = format!(
        "INSERT INTO {full} ({cols}) SELECT {cols} FROM {}",
        d.target(Target::Stage { schema })
    );
    match d {
        Dialect::MySql => {
            let action = if mode == InsertMode::Replace && !updates.is_empty() {
                let u: Vec<String> = updates
                    .iter()
                    .map(|n| format!("{0} = VALUES({0})", d.quote(n)))
                    .collect();
                u.join(", ")
            } else {
                let k = d.quote(&primary_key[0]);
                format!("{k} = {full}.{k}")
            };
            format!("{head} ON DUPLICATE KEY UPDATE {action}")
        }
        _ => {
            let action = if mode == InsertMode::Replace && !updates.is_empty() {
                let u: Vec<String> = updates
                    .iter()
                    .map(|n| format!("{0} = EXCLUDED.{0}", d.quote(n)))
                    .collect();
                format!("DO UPDATE SET {}", u.join(", "))
            } else {
                "DO NOTHING".to_string()
            };
            format!(
                "{head} ON CONFLICT ({}) {action}",
                d.quote_list(primary_key)
            )
        }
    }
}

/// Rows of a JSON column whose text contains any of `needles` (one parameter each).
pub fn json_containing(d: Dialect, schema: &str, table: &str, col: &str, needles: usize) -> String {
    let text = d.json_text(col);
    let ors: Vec<String> = (0..needles)
        .map(|i| format!("{text} LIKE {}", d.placeholder(i, None)))
        .collect();
    format!(
        "SELECT {} FROM {} WHERE {}",
        d.json_text(col),
        d.table(schema, table),
        ors.join(" OR ")
    )
}

/// Every non-NULL value of a JSON column, as text.
pub fn json_column(d: Dialect, schema: &str, table: &str, col: &str) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} IS NOT NULL",
        d.json_text(col),
        d.table(schema, table),
        d.quote(col)
    )
}
