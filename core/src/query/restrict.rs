//! Restrictions (PY `condition.py` `make_condition`): SQL text, keys, OR-lists, AND-lists,
//! negation, booleans, other queries (semijoin / antijoin) and Top. Values always travel as
//! parameters, never spliced into the SQL text.

use super::{Query, QueryAttr};
use crate::error::{Error, Result};
use crate::sql::dml::Condition;
use crate::sql::query::Col;
use crate::table::Row;
use crate::types::AttrType;
use crate::value::{Converter, Value};
use std::sync::Arc;

/// `Top(limit, order_by, offset)`: the first `limit` rows in `order_by` order (default: the
/// primary key), after skipping `offset`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Top {
    pub limit: Option<u64>,
    pub order_by: Option<String>,
    pub offset: u64,
}

/// A restriction, as the reference accepts them.
#[derive(Debug, Clone)]
pub enum Restriction {
    /// An SQL condition over the query's attributes, used verbatim.
    Sql(String),
    /// Equalities over the names that are attributes (others are ignored; none: true).
    Key(Row),
    /// Any of (an empty list matches nothing).
    Or(Vec<Restriction>),
    /// All of (an empty list matches everything).
    And(Vec<Restriction>),
    Not(Box<Restriction>),
    Bool(bool),
    /// Rows matching some row of another query on the shared attributes (none shared: true
    /// if that query has any row).
    Query(Query),
    Top(Top),
}

impl Restriction {
    pub fn keys(rows: &[Row]) -> Restriction {
        Restriction::Or(rows.iter().cloned().map(Restriction::Key).collect())
    }

    /// Does it restrict by another query anywhere?
    pub fn has_query(&self) -> bool {
        match self {
            Restriction::Query(_) => true,
            Restriction::Or(v) | Restriction::And(v) => v.iter().any(|r| r.has_query()),
            Restriction::Not(r) => r.has_query(),
            _ => false,
        }
    }
}

fn negate(c: Condition) -> Condition {
    match c {
        Condition::True => Condition::False,
        Condition::False => Condition::True,
        Condition::Not(x) => *x,
        Condition::In { attrs, sub, negate } => Condition::In {
            attrs,
            sub,
            negate: !negate,
        },
        Condition::Exists { sub, negate } => Condition::Exists {
            sub,
            negate: !negate,
        },
        other => Condition::Not(Box::new(other)),
    }
}

/// An SQL restriction text: refused when empty or when it could end the statement.
pub(crate) fn check_sql(condition: &str) -> Result<()> {
    if condition.trim().is_empty() {
        return Err(Error::invalid_arg("empty SQL restriction"));
    }
    if condition.contains(';') {
        return Err(Error::invalid_arg(format!(
            "SQL restriction may not contain ';': {condition}"
        )));
    }
    Ok(())
}

/// The condition of one key over a heading: AND of equalities over names that are attributes
/// (others ignored, as in the reference); NULL becomes IS NULL; values are converted to the
/// attribute's type first, so a bad value is an error naming the attribute.
fn key_condition(attrs: &[QueryAttr], context: &str, key: &Row) -> Result<Condition> {
    let mut parts = Vec::new();
    for (name, v) in &key.values {
        let Some(qa) = attrs.iter().find(|a| &a.attr.name == name) else {
            continue;
        };
        let attr = &qa.attr;
        if let Value::Null = v {
            parts.push(Condition::IsNull(name.clone()));
            continue;
        }
        if attr.ty == AttrType::Computed {
            parts.push(Condition::Eq(attr.clone(), v.clone()));
            continue;
        }
        let mut a = attr.clone();
        a.nullable = true;
        let mut conv = Converter::new(context, &a, 1);
        conv.push(v.as_elem(), None)?;
        let col = conv.finish();
        parts.push(Condition::Eq(attr.clone(), col.value(0)));
    }
    Ok(match parts.len() {
        0 => Condition::True,
        1 => parts.remove(0),
        _ => Condition::And(parts),
    })
}

impl Query {
    pub(crate) fn condition_of(&self, r: &Restriction, semantic_check: bool) -> Result<Condition> {
        Ok(match r {
            Restriction::Sql(s) => {
                check_sql(s)?;
                Condition::Sql(s.clone())
            }
            Restriction::Key(row) => key_condition(&self.attrs, "restriction", row)?,
            Restriction::Bool(b) => {
                if *b {
                    Condition::True
                } else {
                    Condition::False
                }
            }
            Restriction::Not(x) => negate(self.condition_of(x, semantic_check)?),
            Restriction::And(list) => {
                let mut parts = Vec::new();
                for x in list {
                    match self.condition_of(x, semantic_check)? {
                        Condition::True => {}
                        Condition::False => return Ok(Condition::False),
                        c => parts.push(c),
                    }
                }
                match parts.len() {
                    0 => Condition::True,
                    1 => parts.remove(0),
                    _ => Condition::And(parts),
                }
            }
            Restriction::Or(list) => {
                let mut parts = Vec::new();
                for x in list {
                    match self.condition_of(x, semantic_check)? {
                        Condition::False => {}
                        Condition::True => return Ok(Condition::True),
                        c => parts.push(c),
                    }
                }
                match parts.len() {
                    0 => Condition::False,
                    1 => parts.remove(0),
                    _ => Condition::Or(parts),
                }
            }
            Restriction::Query(q) => self.semijoin(q, semantic_check)?,
            Restriction::Top(_) => {
                return Err(Error::invalid_arg(
                    "Top can only restrict a query directly, not inside a list or Not",
                ))
            }
        })
    }

    /// `(shared…) IN (SELECT shared… FROM q)`, or EXISTS when nothing is shared.
    fn semijoin(&self, q: &Query, semantic_check: bool) -> Result<Condition> {
        self.check_compatible(q, semantic_check)?;
        let shared: Vec<String> = q.names().into_iter().filter(|n| self.has(n)).collect();
        if shared.is_empty() {
            return Ok(Condition::Exists {
                sub: q.block.clone(),
                negate: false,
            });
        }
        // the subquery selects only the shared attributes (a DISTINCT block is wrapped first:
        // narrowing its select list would change its rows)
        let base = if q.block.distinct { q.sub() } else { q.clone() };
        let mut block = (*base.block).clone();
        block.columns = shared
            .iter()
            .map(|n| {
                base.block.column(n).cloned().unwrap_or(Col {
                    name: n.clone(),
                    expr: None,
                })
            })
            .collect();
        Ok(Condition::In {
            attrs: shared,
            sub: Arc::new(block),
            negate: false,
        })
    }
}
