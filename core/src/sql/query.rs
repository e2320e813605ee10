//! SELECT blocks of the query algebra and their SQL. A [`Block`] is one `SELECT … FROM … WHERE
//! … GROUP BY … ORDER BY … LIMIT`; the algebra ([`crate::query`]) decides when an operator
//! extends a block and when it wraps it as a subquery. Rendering numbers the parameters in
//! text order, so `$n` (PostgreSQL) and `?` (MySQL, DuckDB) both line up.

use super::dml::{condition_with, Condition};
use super::Dialect;
use crate::heading::Attribute;
use crate::value::Value;
use std::sync::Arc;

/// One output column: its name and, for a renamed or computed attribute, the SQL expression
/// over the block's sources (None: the source column of that name).
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    pub name: String,
    pub expr: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Table {
        schema: String,
        name: String,
    },
    Sub(Arc<Block>),
    /// `(a) UNION (b)`; both sides select the same columns in the same order.
    Union(Arc<Block>, Arc<Block>),
}

/// How a source after the first is joined: LEFT or inner, on the shared attributes (`USING`;
/// none: a cross join).
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub source: Source,
    pub left: bool,
    pub using: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub first: Source,
    pub joins: Vec<Join>,
    pub columns: Vec<Col>,
    /// ANDed
    pub conditions: Vec<Condition>,
    /// Some: an aggregation grouped by these columns (empty: one group, no GROUP BY)
    pub group_by: Option<Vec<String>>,
    pub distinct: bool,
    /// (column, descending)
    pub order_by: Vec<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl Block {
    pub fn table(schema: &str, name: &str, columns: &[String]) -> Block {
        Block::over(
            Source::Table {
                schema: schema.into(),
                name: name.into(),
            },
            columns,
        )
    }

    /// A block selecting `columns` unchanged from one source.
    pub fn over(first: Source, columns: &[String]) -> Block {
        Block {
            first,
            joins: Vec::new(),
            columns: columns
                .iter()
                .map(|n| Col {
                    name: n.clone(),
                    expr: None,
                })
                .collect(),
            conditions: Vec::new(),
            group_by: None,
            distinct: false,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// A block whose FROM is this block (the subquery every wrapping operator starts from).
    pub fn wrap(self: &Arc<Block>) -> Block {
        let names: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
        Block::over(Source::Sub(self.clone()), &names)
    }

    pub fn has_top(&self) -> bool {
        !self.order_by.is_empty() || self.limit.is_some() || self.offset.is_some()
    }

    /// A bare table read: no joins, no conditions, nothing derived.
    pub fn is_table(&self) -> bool {
        matches!(self.first, Source::Table { .. })
            && self.joins.is_empty()
            && self.conditions.is_empty()
            && self.group_by.is_none()
            && !self.distinct
            && !self.has_top()
            && self.columns.iter().all(|c| c.expr.is_none())
    }

    pub fn column(&self, name: &str) -> Option<&Col> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Renders blocks; one per statement, so subquery aliases are numbered from `$0`.
pub struct Render<'p> {
    pub d: Dialect,
    pub params: &'p mut Vec<Value>,
    alias: usize,
}

impl<'p> Render<'p> {
    pub fn new(d: Dialect, params: &'p mut Vec<Value>) -> Self {
        Render {
            d,
            params,
            alias: 0,
        }
    }

    fn alias(&mut self) -> String {
        let a = self.d.quote(&format!("${:x}", self.alias));
        self.alias += 1;
        a
    }

    fn source(&mut self, s: &Source) -> String {
        match s {
            Source::Table { schema, name } => self.d.table(schema, name),
            Source::Sub(b) => {
                let sql = self.block(b, None);
                format!("({sql}) AS {}", self.alias())
            }
            Source::Union(a, b) => {
                let sa = self.block(a, None);
                let sb = self.block(b, None);
                format!("(({sa}) UNION ({sb})) AS {}", self.alias())
            }
        }
    }

    pub fn condition(&mut self, c: &Condition) -> String {
        condition_with(self, c)
    }

    /// The SELECT list: `outer` gives the attributes of the statement's result, whose values
    /// may need a cast to travel (see [`super::dml::select_expr`]).
    fn columns(&mut self, b: &Block, outer: Option<&[&Attribute]>) -> String {
        if b.columns.is_empty() {
            return "1".into();
        }
        let d = self.d;
        let items: Vec<String> = b
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = d.quote(&c.name);
                let expr = c.expr.clone().unwrap_or_else(|| name.clone());
                match outer.and_then(|o| o.get(i)) {
                    Some(a) => super::dml::select_expr_as(d, &expr, a),
                    None if c.expr.is_some() => format!("{expr} AS {name}"),
                    None => name,
                }
            })
            .collect();
        items.join(", ")
    }

    /// `FROM … WHERE … GROUP BY …` of a block.
    fn body(&mut self, b: &Block) -> String {
        let d = self.d;
        let mut sql = format!(" FROM {}", self.source(&b.first));
        for j in &b.joins {
            let src = self.source(&j.source);
            let kw = if j.left { "LEFT JOIN" } else { "JOIN" };
            if j.using.is_empty() {
                if j.left {
                    sql.push_str(&format!(" LEFT JOIN {src} ON TRUE"));
                } else {
                    sql.push_str(&format!(" CROSS JOIN {src}"));
                }
            } else {
                sql.push_str(&format!(" {kw} {src} USING ({})", d.quote_list(&j.using)));
            }
        }
        if !b.conditions.is_empty() {
            let parts: Vec<String> = b.conditions.iter().map(|c| self.condition(c)).collect();
            sql.push_str(&format!(" WHERE {}", parts.join(" AND ")));
        }
        if let Some(g) = b.group_by.as_ref().filter(|g| !g.is_empty()) {
            sql.push_str(&format!(" GROUP BY {}", d.quote_list(g)));
        }
        sql
    }

    pub fn block(&mut self, b: &Block, outer: Option<&[&Attribute]>) -> String {
        let cols = self.columns(b, outer);
        let body = self.body(b);
        format!(
            "SELECT {}{cols}{body}{}",
            if b.distinct { "DISTINCT " } else { "" },
            order_limit(self.d, &b.order_by, b.limit, b.offset)
        )
    }

    /// `SELECT count(*)` of the block's rows.
    pub fn count(&mut self, b: &Block) -> String {
        let int = if self.d == Dialect::MySql {
            "SIGNED"
        } else {
            "BIGINT"
        };
        if b.group_by.is_none() && !b.distinct && !b.has_top() {
            let body = self.body(b);
            return format!("SELECT CAST(count(*) AS {int}){body}");
        }
        let inner = self.block(b, None);
        format!(
            "SELECT CAST(count(*) AS {int}) FROM ({inner}) AS {}",
            self.alias()
        )
    }
}

/// ` ORDER BY … LIMIT … OFFSET …`
pub fn order_limit(
    d: Dialect,
    order_by: &[(String, bool)],
    limit: Option<u64>,
    offset: Option<u64>,
) -> String {
    let mut sql = String::new();
    if !order_by.is_empty() {
        let o: Vec<String> = order_by
            .iter()
            .map(|(n, desc)| format!("{}{}", d.quote(n), if *desc { " DESC" } else { " ASC" }))
            .collect();
        sql.push_str(&format!(" ORDER BY {}", o.join(", ")));
    }
    match (limit, offset) {
        (Some(l), None) => sql.push_str(&format!(" LIMIT {l}")),
        (Some(l), Some(o)) => sql.push_str(&format!(" LIMIT {l} OFFSET {o}")),
        (None, Some(o)) => match d {
            Dialect::MySql => sql.push_str(&format!(" LIMIT 18446744073709551615 OFFSET {o}")),
            Dialect::DuckDb => sql.push_str(&format!(" LIMIT ALL OFFSET {o}")),
            Dialect::Postgres => sql.push_str(&format!(" OFFSET {o}")),
        },
        (None, None) => {}
    }
    sql
}

/// The SELECT of a block as a statement, with the casts its result attributes need.
pub fn select(d: Dialect, b: &Block, attrs: &[&Attribute]) -> (String, Vec<Value>) {
    let mut params = Vec::new();
    let sql = Render::new(d, &mut params).block(b, Some(attrs));
    (sql, params)
}

pub fn count(d: Dialect, b: &Block) -> (String, Vec<Value>) {
    let mut params = Vec::new();
    let sql = Render::new(d, &mut params).count(b);
    (sql, params)
}

/// `DELETE FROM t WHERE …` for the rows of a table block.
pub fn delete(d: Dialect, schema: &str, table: &str, conds: &[Condition]) -> (String, Vec<Value>) {
    let mut params = Vec::new();
    let mut r = Render::new(d, &mut params);
    let w = where_of(&mut r, conds);
    (format!("DELETE FROM {}{w}", d.table(schema, table)), params)
}

fn where_of(r: &mut Render, conds: &[Condition]) -> String {
    if conds.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = conds.iter().map(|c| r.condition(c)).collect();
    format!(" WHERE {}", parts.join(" AND "))
}

/// The values of `attrs` of the rows a delete will remove, locked until the delete commits.
pub fn select_for_delete(
    d: Dialect,
    schema: &str,
    table: &str,
    attrs: &[&Attribute],
    conds: &[Condition],
) -> (String, Vec<Value>) {
    let exprs: Vec<String> = attrs
        .iter()
        .map(|a| super::dml::select_expr(d, a))
        .collect();
    let mut params = Vec::new();
    let mut r = Render::new(d, &mut params);
    let w = where_of(&mut r, conds);
    let lock = if d == Dialect::DuckDb {
        ""
    } else {
        " FOR UPDATE"
    };
    (
        format!(
            "SELECT {} FROM {}{w}{lock}",
            exprs.join(", "),
            d.table(schema, table)
        ),
        params,
    )
}

/// `SELECT count(*) FROM t WHERE …` of one table.
pub fn count_table(
    d: Dialect,
    schema: &str,
    table: &str,
    conds: &[Condition],
) -> (String, Vec<Value>) {
    let mut b = Block::table(schema, table, &[]);
    b.conditions = conds.to_vec();
    count(d, &b)
}

/// `UPDATE t SET a = ?, b = DEFAULT WHERE <key>`: `set` holds the attributes given a value
/// (their parameters come first), `defaults` those reset to their default. Returns the text
/// and the key's parameters, which follow the values.
pub fn update(
    d: Dialect,
    schema: &str,
    table: &str,
    set: &[&Attribute],
    defaults: &[&str],
    key: &[Condition],
) -> (String, Vec<Value>) {
    let fixed: Vec<(&str, &str)> = defaults.iter().map(|n| (*n, "DEFAULT")).collect();
    update_with(d, schema, table, set, &fixed, key)
}

/// [`update`] with `fixed` (column, SQL expression) assignments after the values, such as
/// `DEFAULT` or the server's time.
pub fn update_with(
    d: Dialect,
    schema: &str,
    table: &str,
    set: &[&Attribute],
    fixed: &[(&str, &str)],
    key: &[Condition],
) -> (String, Vec<Value>) {
    let (head, w, params) = update_parts(d, schema, table, set, fixed, key);
    (format!("{head}{w}"), params)
}

/// [`update_with`] of the rows no other transaction holds: on PostgreSQL, rows locked by
/// another transaction are skipped (`FOR UPDATE SKIP LOCKED`) instead of waited for; elsewhere
/// the plain update.
pub fn update_unlocked(
    d: Dialect,
    schema: &str,
    table: &str,
    set: &[&Attribute],
    fixed: &[(&str, &str)],
    key: &[Condition],
) -> (String, Vec<Value>) {
    let (head, w, params) = update_parts(d, schema, table, set, fixed, key);
    if d != Dialect::Postgres {
        return (format!("{head}{w}"), params);
    }
    let t = d.table(schema, table);
    (
        format!("{head} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t}{w} FOR UPDATE SKIP LOCKED))"),
        params,
    )
}

/// `UPDATE t SET …`, ` WHERE <key>` and the key's parameters (which follow the SET values).
fn update_parts(
    d: Dialect,
    schema: &str,
    table: &str,
    set: &[&Attribute],
    fixed: &[(&str, &str)],
    key: &[Condition],
) -> (String, String, Vec<Value>) {
    let mut params = Vec::new();
    let mut items: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, a)| format!("{} = {}", d.quote(&a.name), d.placeholder(i, Some(a))))
        .collect();
    items.extend(fixed.iter().map(|(n, e)| format!("{} = {e}", d.quote(n))));
    params.resize(set.len(), Value::Null);
    let mut r = Render::new(d, &mut params);
    let w = where_of(&mut r, key);
    let head = format!("UPDATE {} SET {}", d.table(schema, table), items.join(", "));
    (head, w, params.split_off(set.len()))
}

/// DuckDB's copy of the rows one step of a delete removes, kept until the delete is through
/// (see `Db::delete_steps_undo`): a temporary table per step.
pub struct UndoCopy {
    d: Dialect,
    name: String,
}

impl UndoCopy {
    pub fn new(d: Dialect, step: usize) -> UndoCopy {
        UndoCopy {
            d,
            name: format!("temp.main.{}", d.quote(&format!("~undo{step}"))),
        }
    }

    /// Copy the rows of the table that match the step's conditions.
    pub fn create(&self, schema: &str, table: &str, conds: &[Condition]) -> (String, Vec<Value>) {
        let mut params = Vec::new();
        let w = where_of(&mut Render::new(self.d, &mut params), conds);
        let sql = format!(
            "CREATE TEMP TABLE {} AS SELECT * FROM {}{w}",
            self.name,
            self.d.table(schema, table)
        );
        (sql, params)
    }

    pub fn count(&self) -> String {
        format!("SELECT CAST(count(*) AS BIGINT) FROM {}", self.name)
    }

    /// The copied rows' values of `attrs` (as a fetch casts them).
    pub fn select(&self, attrs: &[&Attribute]) -> String {
        let exprs: Vec<String> = attrs
            .iter()
            .map(|a| super::dml::select_expr(self.d, a))
            .collect();
        format!("SELECT {} FROM {}", exprs.join(", "), self.name)
    }

    /// Put the copied rows back.
    pub fn restore(&self, schema: &str, table: &str) -> String {
        format!(
            "INSERT INTO {} SELECT * FROM {}",
            self.d.table(schema, table),
            self.name
        )
    }

    pub fn drop(&self) -> String {
        format!("DROP TABLE IF EXISTS {}", self.name)
    }
}
