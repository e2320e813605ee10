//! The query algebra: restriction, join, projection, aggregation, union, the universal set and
//! Top, over tables and over each other, with the reference's heading and primary-key rules and
//! its semantic matching of namesake attributes by lineage (datajoint-storage.md §10).
//!
//! A [`Query`] is one SELECT block ([`crate::sql::query::Block`]) and its heading. Each
//! operator either extends the block of its operand or, where SQL would change meaning (a
//! restriction of a renamed attribute, a join with an aggregation, anything after a LIMIT),
//! starts a new block over it as a subquery. All SQL text comes from [`crate::sql`].

pub mod delete;
mod fetch;
mod restrict;

pub use delete::{DeleteOptions, DeleteReport, PartIntegrity};
pub use restrict::{Restriction, Top};

use crate::connection::ConnInner;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::sql::query::{Block, Col, Join, Source};
use crate::types::AttrType;
use std::sync::Arc;

/// An attribute of a query's heading.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryAttr {
    pub attr: Attribute,
    /// Origin `schema.table.attribute` from `~lineage` (None: secondary or computed).
    pub lineage: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Plain,
    /// GROUP BY block: a restriction applies to its result, in a block over it
    Aggregation,
    Union,
}

/// A query expression: a table or an operator over query expressions. Cheap to clone; every
/// operator returns a new expression and leaves its operands unchanged.
#[derive(Clone)]
pub struct Query {
    pub(crate) conn: Arc<ConnInner>,
    pub(crate) block: Arc<Block>,
    attrs: Arc<Vec<QueryAttr>>,
    shape: Shape,
    /// false when a table's schema has no `~lineage` (semantic checks are then skipped)
    lineage_available: bool,
    /// Column names the block's FROM sources expose, projected away or not: two operands
    /// sharing one that is not joined on must each be a subquery.
    source_names: Arc<Vec<String>>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("heading", &self.names())
            .field("block", &self.block)
            .finish()
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::invalid_arg(msg)
}

fn unknown(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::UnknownAttribute, msg)
}

/// Words a bare identifier in `proj` may be without naming an attribute.
const CONSTANT_LITERALS: [&str; 7] = [
    "null",
    "true",
    "false",
    "current_timestamp",
    "current_date",
    "current_time",
    "default",
];

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !CONSTANT_LITERALS.contains(&s.to_ascii_lowercase().as_str())
}

fn computed_attr(name: &str) -> Attribute {
    Attribute {
        name: name.to_string(),
        ty: AttrType::Computed,
        declared_type: "computed".into(),
        in_key: false,
        nullable: true,
        default: None,
        comment: String::new(),
    }
}

/// One item of a projection.
enum ProjItem<'a> {
    All,
    Keep(&'a str),
    Exclude(&'a str),
    /// new name ← existing attribute; `dup` keeps the original too (`new='(old)'`)
    Rename {
        new: &'a str,
        old: &'a str,
    },
    Compute {
        new: &'a str,
        expr: &'a str,
    },
}

fn parse_proj_item(item: &str) -> Result<ProjItem<'_>> {
    let t = item.trim();
    if t == "..." {
        return Ok(ProjItem::All);
    }
    if let Some(x) = t.strip_prefix('-') {
        return Ok(ProjItem::Exclude(x.trim()));
    }
    if let Some((new, expr)) = t.split_once('=') {
        let new = new.trim();
        if is_identifier(new) && !expr.starts_with('=') {
            let e = expr.trim();
            if e.is_empty() {
                return Err(bad(format!("proj: '{item}' has no expression")));
            }
            let inner = e
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')'))
                .map(str::trim);
            return Ok(match inner {
                Some(old) if is_identifier(old) => ProjItem::Rename { new, old },
                _ if is_identifier(e) => ProjItem::Rename { new, old: e },
                _ => ProjItem::Compute { new, expr: e },
            });
        }
    }
    if is_identifier(t) {
        return Ok(ProjItem::Keep(t));
    }
    Err(bad(format!(
        "proj: '{item}' is neither an attribute, '-attribute', '...' nor 'name=expression'"
    )))
}

impl Query {
    pub(crate) fn new_table(
        conn: Arc<ConnInner>,
        schema: &str,
        table: &str,
        attrs: Vec<QueryAttr>,
        lineage_available: bool,
        conditions: Vec<crate::sql::dml::Condition>,
    ) -> Query {
        let names: Vec<String> = attrs.iter().map(|a| a.attr.name.clone()).collect();
        let mut block = Block::table(schema, table, &names);
        block.conditions = conditions;
        Query {
            conn,
            block: Arc::new(block),
            attrs: Arc::new(attrs),
            shape: Shape::Plain,
            lineage_available,
            source_names: Arc::new(names),
        }
    }

    /// The heading: the attributes in result order.
    pub fn attributes(&self) -> &[QueryAttr] {
        &self.attrs
    }

    pub fn names(&self) -> Vec<String> {
        self.attrs.iter().map(|a| a.attr.name.clone()).collect()
    }

    pub fn primary_key(&self) -> Vec<String> {
        self.attrs
            .iter()
            .filter(|a| a.attr.in_key)
            .map(|a| a.attr.name.clone())
            .collect()
    }

    fn get(&self, name: &str) -> Option<&QueryAttr> {
        self.attrs.iter().find(|a| a.attr.name == name)
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn secondary(&self) -> Vec<String> {
        self.attrs
            .iter()
            .filter(|a| !a.attr.in_key)
            .map(|a| a.attr.name.clone())
            .collect()
    }

    /// True when every primary-key attribute of `other` is an attribute of `self`.
    pub fn determines(&self, other: &Query) -> bool {
        other.primary_key().iter().all(|n| self.has(n))
    }

    fn has_derived(&self) -> bool {
        self.block.columns.iter().any(|c| c.expr.is_some())
    }

    /// The same rows as a new block whose FROM is this one.
    fn sub(&self) -> Query {
        Query {
            conn: self.conn.clone(),
            block: Arc::new(self.block.wrap()),
            attrs: self.attrs.clone(),
            shape: Shape::Plain,
            lineage_available: self.lineage_available,
            source_names: Arc::new(self.names()),
        }
    }

    fn with_block(&self, block: Block, attrs: Vec<QueryAttr>, shape: Shape) -> Query {
        debug_assert_eq!(block.columns.len(), attrs.len());
        Query {
            conn: self.conn.clone(),
            block: Arc::new(block),
            attrs: Arc::new(attrs),
            shape,
            lineage_available: self.lineage_available,
            source_names: self.source_names.clone(),
        }
    }

    /// Can this block take more sources (no subquery)? On the right of a join, a block with
    /// several sources can only be spliced in when nothing is shared (`shared`): its first
    /// source alone might not have the shared attributes to join on.
    fn joinable(&self, right_with_shared: bool) -> bool {
        self.shape == Shape::Plain
            && !self.has_derived()
            && !self.block.has_top()
            && !self.block.distinct
            && (self.block.joins.is_empty() || !right_with_shared)
    }

    fn same_connection(&self, other: &Query) -> Result<()> {
        if Arc::ptr_eq(&self.conn, &other.conn) {
            Ok(())
        } else {
            Err(bad(
                "the operands come from different connections; use one connection for both",
            ))
        }
    }

    /// Semantic matching: every namesake of the two operands must have the same lineage
    /// (PY `condition.py` `assert_join_compatibility`).
    fn check_compatible(&self, other: &Query, semantic_check: bool) -> Result<()> {
        self.same_connection(other)?;
        if !semantic_check || !self.lineage_available || !other.lineage_available {
            return Ok(());
        }
        for a in self.attrs.iter() {
            let Some(b) = other.get(&a.attr.name) else {
                continue;
            };
            match (&a.lineage, &b.lineage) {
                (Some(x), Some(y)) if x == y => {}
                (Some(x), Some(y)) => {
                    return Err(bad(format!(
                        "cannot match on attribute `{}`: different lineages ({x} vs {y}); \
                         rename one of them with proj()",
                        a.attr.name
                    )))
                }
                (x, y) => {
                    return Err(bad(format!(
                        "cannot match on attribute `{}`: lineage missing on one side ({} vs {}); \
                         rename one of them with proj(), or turn the semantic check off",
                        a.attr.name,
                        x.as_deref().unwrap_or("None"),
                        y.as_deref().unwrap_or("None")
                    )))
                }
            }
        }
        Ok(())
    }

    // ---------- restriction ----------

    /// `self & r`.
    pub fn restrict(&self, r: &Restriction) -> Result<Query> {
        self.restrict_with(r, true)
    }

    /// `self - r`.
    pub fn exclude(&self, r: &Restriction) -> Result<Query> {
        self.restrict_with(&Restriction::Not(Box::new(r.clone())), true)
    }

    /// Restriction; with `semantic_check` false, a restriction by a query matches all
    /// namesakes whatever their lineage.
    pub fn restrict_with(&self, r: &Restriction, semantic_check: bool) -> Result<Query> {
        if let Restriction::Top(t) = r {
            return self.top(t);
        }
        let cond = self.condition_of(r, semantic_check)?;
        if cond == crate::sql::dml::Condition::True {
            return Ok(self.clone());
        }
        let need_sub = self.shape != Shape::Plain
            || self.has_derived()
            || self.block.has_top()
            || self.block.distinct;
        let base = if need_sub { self.sub() } else { self.clone() };
        let mut block = (*base.block).clone();
        block.conditions.push(cond);
        Ok(Query {
            block: Arc::new(block),
            ..base
        })
    }

    /// `Top(limit, order_by, offset)`: the first rows in an order (default: the primary key).
    pub fn top(&self, t: &Top) -> Result<Query> {
        let order = self.parse_order_by(t.order_by.as_deref().unwrap_or("KEY"))?;
        let base = if self.block.has_top() || self.block.distinct {
            self.sub()
        } else {
            self.clone()
        };
        let mut block = (*base.block).clone();
        block.order_by = order;
        block.limit = t.limit;
        block.offset = (t.offset > 0).then_some(t.offset);
        Ok(Query {
            block: Arc::new(block),
            ..base
        })
    }

    /// `"a DESC, KEY"` → (column, descending) over the heading.
    pub(crate) fn parse_order_by(&self, text: &str) -> Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for item in text.split(',') {
            let words: Vec<&str> = item.split_whitespace().collect();
            let (name, desc) = match words.as_slice() {
                [] => continue,
                [n] => (*n, false),
                [n, d] if d.eq_ignore_ascii_case("desc") => (*n, true),
                [n, d] if d.eq_ignore_ascii_case("asc") => (*n, false),
                _ => {
                    return Err(bad(format!(
                        "order_by item '{}' must be `attribute [ASC|DESC]`",
                        item.trim()
                    )))
                }
            };
            if name == "KEY" {
                for n in self.primary_key() {
                    out.push((n, desc));
                }
            } else if self.has(name) {
                out.push((name.to_string(), desc));
            } else {
                return Err(unknown(format!(
                    "order_by: the query has no attribute '{name}' (attributes: {})",
                    self.names().join(", ")
                )));
            }
        }
        Ok(out)
    }

    // ---------- join ----------

    /// `self * other`: the natural join on the shared attributes (semantic matching).
    pub fn join(&self, other: &Query) -> Result<Query> {
        self.join_with(other, true, false)
    }

    /// Join; `left` keeps every row of `self` (which must determine `other`).
    pub fn join_with(&self, other: &Query, semantic_check: bool, left: bool) -> Result<Query> {
        self.join_impl(other, semantic_check, left, false)
    }

    fn join_impl(
        &self,
        other: &Query,
        semantic_check: bool,
        left: bool,
        nullable_pk: bool,
    ) -> Result<Query> {
        self.check_compatible(other, semantic_check)?;
        if left && !nullable_pk && !self.determines(other) {
            let missing: Vec<String> = other
                .primary_key()
                .into_iter()
                .filter(|n| !self.has(n))
                .collect();
            return Err(bad(format!(
                "a left join requires the left operand to determine the right one; the right \
                 operand's primary-key attributes {missing:?} are not in the left operand"
            )));
        }
        let shared: Vec<String> = self.names().into_iter().filter(|n| other.has(n)).collect();
        let clash = self
            .source_names
            .iter()
            .any(|n| other.source_names.contains(n) && !shared.contains(n));
        // an aggregation joined on its grouping attributes only needs the groups the other
        // side has: that restriction goes into its WHERE, before the GROUP BY
        let (this, that) = if left {
            (self.clone(), other.clone())
        } else {
            (
                self.narrowed_by(other, &shared),
                other.narrowed_by(self, &shared),
            )
        };
        let (self_, other) = (&this, &that);
        let l = if self_.joinable(false) && !clash {
            self_.clone()
        } else {
            self_.sub()
        };
        // a left join's right side keeps its restrictions inside (a WHERE would drop the rows
        // without a match)
        let r_flat = other.joinable(!shared.is_empty())
            && !clash
            && (!left || other.block.conditions.is_empty());
        let r = if r_flat { other.clone() } else { other.sub() };
        let attrs = join_heading(&l.attrs, &r.attrs, nullable_pk);
        let mut block = (*l.block).clone();
        block.joins.push(Join {
            source: r.block.first.clone(),
            left,
            using: shared,
        });
        block.joins.extend(r.block.joins.iter().cloned());
        block.conditions.extend(r.block.conditions.iter().cloned());
        block.columns = attrs
            .iter()
            .map(|a| Col {
                name: a.attr.name.clone(),
                expr: None,
            })
            .collect();
        let mut sources = (*l.source_names).clone();
        sources.extend(
            r.source_names
                .iter()
                .filter(|n| !l.source_names.contains(n))
                .cloned(),
        );
        Ok(Query {
            conn: self.conn.clone(),
            block: Arc::new(block),
            attrs: Arc::new(attrs),
            shape: Shape::Plain,
            lineage_available: self.lineage_available && other.lineage_available,
            source_names: Arc::new(sources),
        })
    }

    /// An aggregation joined with `other` on `shared` ⊆ its grouping attributes, restricted to
    /// the groups `other` has (`shared IN (SELECT shared FROM other)` before the GROUP BY):
    /// the same rows, without aggregating groups the join drops. Only when `other` restricts.
    fn narrowed_by(&self, other: &Query, shared: &[String]) -> Query {
        let Some(group) = self.block.group_by.as_ref() else {
            return self.clone();
        };
        if self.shape != Shape::Aggregation
            || shared.is_empty()
            || !shared.iter().all(|n| group.contains(n))
            || self.block.has_top()
            || other.block.is_table()
        {
            return self.clone();
        }
        let mut sub = (*other.block).clone();
        if sub.distinct {
            sub = other.block.wrap();
        }
        sub.columns = shared
            .iter()
            .map(|n| {
                sub.column(n).cloned().unwrap_or(Col {
                    name: n.clone(),
                    expr: None,
                })
            })
            .collect();
        let mut block = (*self.block).clone();
        block.conditions.push(crate::sql::dml::Condition::In {
            attrs: shared.to_vec(),
            sub: Arc::new(sub),
            negate: false,
        });
        self.with_block(block, (*self.attrs).clone(), self.shape)
    }

    // ---------- projection ----------

    /// `proj(items)`: `"a"` keeps a secondary attribute, `"..."` keeps them all, `"-a"` drops
    /// one, `"new=old"` renames, `"new=(old)"` copies and `"new=<SQL expression>"` computes.
    /// The primary key is always kept (it may be renamed).
    pub fn proj(&self, items: &[&str]) -> Result<Query> {
        self.proj_impl(items, false)
    }

    fn proj_impl(&self, items: &[&str], aggregating: bool) -> Result<Query> {
        let parsed: Vec<ProjItem> = items
            .iter()
            .map(|s| parse_proj_item(s))
            .collect::<Result<_>>()?;
        let mut keep: Vec<String> = Vec::new();
        let mut exclude: Vec<String> = Vec::new();
        let mut all = false;
        // (new, old, keep the original)
        let mut renames: Vec<(String, String, bool)> = Vec::new();
        let mut computed: Vec<(String, String)> = Vec::new();
        for (item, p) in items.iter().zip(&parsed) {
            match p {
                ProjItem::All => all = true,
                ProjItem::Keep(n) => keep.push(n.to_string()),
                ProjItem::Exclude(n) => exclude.push(n.to_string()),
                ProjItem::Rename { new, old } => {
                    let dup = item.contains('(');
                    renames.push((new.to_string(), old.to_string(), dup))
                }
                ProjItem::Compute { new, expr } => {
                    computed.push((new.to_string(), expr.to_string()))
                }
            }
        }
        for n in keep
            .iter()
            .chain(&exclude)
            .chain(renames.iter().map(|r| &r.1))
        {
            if !self.has(n) {
                return Err(unknown(format!(
                    "proj: attribute `{n}` not found (attributes: {})",
                    self.names().join(", ")
                )));
            }
        }
        let pk = self.primary_key();
        if let Some(n) = exclude.iter().find(|n| pk.contains(n)) {
            return Err(bad(format!(
                "proj: cannot exclude primary-key attribute `{n}` (rename it instead)"
            )));
        }
        let renamed_away = |n: &String| renames.iter().any(|(_, old, dup)| old == n && !dup);
        let mut selected: Vec<String> = pk.iter().filter(|n| !renamed_away(n)).cloned().collect();
        for n in &keep {
            if !selected.contains(n) {
                selected.push(n.clone());
            }
        }
        if all {
            for n in self.secondary() {
                if !selected.contains(&n) && !renamed_away(&n) {
                    selected.push(n);
                }
            }
        }
        selected.retain(|n| !exclude.contains(n));
        // each new name once, and not the name of a kept attribute
        let mut new_names: Vec<&String> = Vec::new();
        for n in renames
            .iter()
            .map(|r| &r.0)
            .chain(computed.iter().map(|c| &c.0))
        {
            if selected.contains(n) || new_names.contains(&n) {
                return Err(bad(format!(
                    "proj: attribute `{n}` already exists (an attribute can be named only once)"
                )));
            }
            new_names.push(n);
        }
        // a rename or computation over a derived attribute needs that attribute's value from
        // a subquery; so does anything after a LIMIT or a DISTINCT
        let derived_used = renames
            .iter()
            .any(|(_, old, _)| self.block.column(old).is_some_and(|c| c.expr.is_some()))
            || (!computed.is_empty() && self.has_derived());
        let need_sub = !aggregating
            && (self.shape == Shape::Union
                || derived_used
                || self.block.has_top()
                || self.block.distinct);
        let base = if need_sub { self.sub() } else { self.clone() };
        let d = base.conn.with(|db| Ok(db.dialect()))?;
        let mut attrs = Vec::new();
        let mut columns = Vec::new();
        for (a, c) in base.attrs.iter().zip(&base.block.columns) {
            if selected.contains(&a.attr.name) {
                attrs.push(a.clone());
                columns.push(c.clone());
            }
            for (new, old, _) in renames.iter().filter(|r| r.1 == a.attr.name) {
                let mut na = a.clone();
                na.attr.name = new.clone();
                attrs.push(na);
                columns.push(Col {
                    name: new.clone(),
                    expr: Some(c.expr.clone().unwrap_or_else(|| d.quote(old))),
                });
            }
        }
        for (new, expr) in &computed {
            attrs.push(QueryAttr {
                attr: computed_attr(new),
                lineage: None,
            });
            columns.push(Col {
                name: new.clone(),
                expr: Some(translate(d, expr)),
            });
        }
        let mut block = (*base.block).clone();
        block.columns = columns;
        let shape = base.shape;
        Ok(base.with_block(block, attrs, shape))
    }

    // ---------- aggregation ----------

    /// `self.aggr(group, items)`: one row per row of `self` (LEFT JOIN), or per matching row
    /// with `exclude_nonmatching`, with `items` as in [`Query::proj`]; computations aggregate
    /// over the matching rows of `group` (`n=count(*)`, `avg_t=avg(t)`).
    pub fn aggr(&self, group: &Query, items: &[&str], exclude_nonmatching: bool) -> Result<Query> {
        if !group.determines(self) {
            let missing: Vec<String> = self
                .primary_key()
                .into_iter()
                .filter(|n| !group.has(n))
                .collect();
            return Err(bad(format!(
                "aggr: the group must contain every primary-key attribute of the grouping \
                 expression; missing: {missing:?}"
            )));
        }
        let own: Vec<String> = self.names();
        for item in items {
            if let Ok(ProjItem::Keep(n)) | Ok(ProjItem::Rename { old: n, .. }) =
                parse_proj_item(item)
            {
                if !own.contains(&n.to_string()) {
                    return Err(bad(format!(
                        "aggr: `{n}` is not an attribute of the grouping expression; aggregate \
                         it in a computation (e.g. 'm=max({n})')"
                    )));
                }
            }
        }
        let keep_all = !exclude_nonmatching;
        if !keep_all && self.covered_by_foreign_key(group, items)? {
            // every row of the group has its one row here: aggregate the group alone
            self.check_compatible(group, true)?;
            return group.grouped_by(&self.primary_key()).finish_aggr(items);
        }
        // the group is a subquery unless it is one table read as is (its restrictions would
        // otherwise apply after the LEFT JOIN)
        let g = if group.joinable(true) && (!keep_all || group.block.conditions.is_empty()) {
            group.clone()
        } else {
            group.sub()
        };
        let agg = self
            .join_impl(&g, true, keep_all, keep_all)?
            .grouped_by(&self.primary_key());
        let mut with_items: Vec<&str> = items.to_vec();
        if with_items.iter().any(|s| s.trim() == "...") {
            with_items.retain(|s| s.trim() != "...");
            let sec = self.secondary();
            let sec: Vec<&str> = sec.iter().map(|s| s.as_str()).collect();
            return agg.finish_aggr(&[with_items, sec].concat());
        }
        agg.finish_aggr(&with_items)
    }

    /// Is this an unrestricted table whose key `group` (one table, restricted or not) holds
    /// in primary-key columns that a foreign key of the group's table references, and do
    /// the aggregation's items use nothing but that key? Then the inner join of an aggregation
    /// changes no group: every row of the group matches exactly one row here.
    fn covered_by_foreign_key(&self, group: &Query, items: &[&str]) -> Result<bool> {
        let (
            Source::Table { schema, name },
            Source::Table {
                schema: gs,
                name: gt,
            },
        ) = (&self.block.first, &group.block.first)
        else {
            return Ok(false);
        };
        let pk = self.primary_key();
        let own_secondary = self.secondary();
        let shared: Vec<String> = self.names().into_iter().filter(|n| group.has(n)).collect();
        let mut sorted = shared.clone();
        sorted.sort();
        let mut spk = pk.clone();
        spk.sort();
        let plain_group = group.shape == Shape::Plain
            && group.block.joins.is_empty()
            && !group.has_derived()
            && !group.block.has_top()
            && !group.block.distinct;
        if !self.block.is_table()
            || !plain_group
            || sorted != spk
            || !pk
                .iter()
                .all(|n| group.get(n).is_some_and(|a| a.attr.in_key))
        {
            return Ok(false);
        }
        // the items keep nothing of this table but its key, and computations name none of
        // its other attributes
        for item in items {
            match parse_proj_item(item)? {
                ProjItem::Compute { expr, .. } => {
                    let words = expr
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .filter(|w| !w.is_empty());
                    let mut words = words;
                    if words.any(|w| own_secondary.iter().any(|n| n == w) && !group.has(w)) {
                        return Ok(false);
                    }
                }
                _ => return Ok(false),
            }
        }
        let fks = self.conn.with(|db| db.referencing_keys(schema, name))?;
        Ok(fks.iter().any(|fk| {
            &fk.schema == gs
                && &fk.table == gt
                && pk
                    .iter()
                    .all(|n| fk.columns.iter().any(|(c, p)| c == n && p == n))
        }))
    }

    /// This query as an aggregation grouped by `pk` (the grouping expression's key, first and
    /// in its order); every attribute stays visible to the computations.
    fn grouped_by(&self, pk: &[String]) -> Query {
        let mut attrs: Vec<QueryAttr> = self.attrs.iter().cloned().collect();
        for a in attrs.iter_mut() {
            a.attr.in_key = pk.contains(&a.attr.name);
        }
        attrs.sort_by_key(|a| {
            pk.iter()
                .position(|n| *n == a.attr.name)
                .unwrap_or(usize::MAX)
        });
        let mut block = (*self.block).clone();
        block.columns = attrs
            .iter()
            .map(|a| Col {
                name: a.attr.name.clone(),
                expr: None,
            })
            .collect();
        block.group_by = Some(pk.to_vec());
        self.with_block(block, attrs, Shape::Aggregation)
    }

    /// Apply an aggregation's items and group by every plain column it keeps.
    fn finish_aggr(&self, items: &[&str]) -> Result<Query> {
        let q = self.proj_impl(items, true)?;
        let mut block = (*q.block).clone();
        let mut group = block.group_by.clone().unwrap_or_default();
        for (a, c) in q.attrs.iter().zip(&q.block.columns) {
            if a.attr.ty == AttrType::Computed {
                continue;
            }
            // a kept or renamed attribute of the grouping expression: functionally dependent
            // on its key, grouped by so that every backend accepts it
            let src = match &c.expr {
                None => c.name.clone(),
                Some(_) => continue,
            };
            if !group.contains(&src) {
                group.push(src);
            }
        }
        for (_, old, _) in self.renames_in(items) {
            if !group.contains(&old) {
                group.push(old);
            }
        }
        if block.group_by.as_ref().is_some_and(|g| !g.is_empty()) {
            block.group_by = Some(group);
        }
        let attrs = (*q.attrs).clone();
        Ok(q.with_block(block, attrs, Shape::Aggregation))
    }

    fn renames_in(&self, items: &[&str]) -> Vec<(String, String, bool)> {
        items
            .iter()
            .filter_map(|s| match parse_proj_item(s) {
                Ok(ProjItem::Rename { new, old }) => {
                    Some((new.to_string(), old.to_string(), s.contains('(')))
                }
                _ => None,
            })
            .collect()
    }

    // ---------- union ----------

    /// `self + other`: both operands have the same primary key and share no secondary
    /// attribute; a row's secondary attributes come from the operand that has it.
    pub fn union(&self, other: &Query) -> Result<Query> {
        self.check_compatible(other, true)?;
        let (mut pa, mut pb) = (self.primary_key(), other.primary_key());
        pa.sort();
        pb.sort();
        if pa != pb {
            return Err(bad(format!(
                "the operands of a union must have the same primary key ({} vs {})",
                self.primary_key().join(", "),
                other.primary_key().join(", ")
            )));
        }
        let (sa, sb) = (self.secondary(), other.secondary());
        if let Some(n) = sa.iter().find(|n| sb.contains(n)) {
            return Err(bad(format!(
                "the operands of a union must not share secondary attributes (both have `{n}`)"
            )));
        }
        let (a, b) = if sa.is_empty() && sb.is_empty() {
            let a = self.proj(&[])?;
            let b = other.proj(&[])?.reorder(&a.names())?;
            (a, b)
        } else {
            let a = self.join_with(other, true, true)?;
            let names = a.names();
            let nulls: Vec<String> = sa.iter().map(|n| format!("{n}=NULL")).collect();
            let mut items: Vec<&str> = vec!["..."];
            items.extend(nulls.iter().map(|s| s.as_str()));
            let b = other
                .exclude(&Restriction::Query(self.clone()))?
                .proj(&items)?
                .reorder(&names)?;
            (a, b)
        };
        let names = a.names();
        let block = Block::over(Source::Union(a.block.clone(), b.block.clone()), &names);
        let attrs = (*a.attrs).clone();
        Ok(Query {
            conn: self.conn.clone(),
            block: Arc::new(block),
            attrs: Arc::new(attrs),
            shape: Shape::Union,
            lineage_available: self.lineage_available && other.lineage_available,
            source_names: Arc::new(names),
        })
    }

    /// The same query with its columns in the order of `names` (a permutation).
    fn reorder(&self, names: &[String]) -> Result<Query> {
        let mut attrs = Vec::new();
        let mut columns = Vec::new();
        for n in names {
            let i = self
                .attrs
                .iter()
                .position(|a| &a.attr.name == n)
                .ok_or_else(|| Error::internal(format!("reorder: no attribute {n}")))?;
            attrs.push(self.attrs[i].clone());
            columns.push(self.block.columns[i].clone());
        }
        let mut block = (*self.block).clone();
        block.columns = columns;
        Ok(self.with_block(block, attrs, self.shape))
    }
}

/// The heading of a join (PY `heading.py` `join`): PK(A) if A determines B, PK(B) if only B
/// determines A, else PK(A) ∪ PK(B).
fn join_heading(a: &[QueryAttr], b: &[QueryAttr], nullable_pk: bool) -> Vec<QueryAttr> {
    let names =
        |h: &[QueryAttr]| -> Vec<String> { h.iter().map(|x| x.attr.name.clone()).collect() };
    let pk = |h: &[QueryAttr]| -> Vec<String> {
        h.iter()
            .filter(|x| x.attr.in_key)
            .map(|x| x.attr.name.clone())
            .collect()
    };
    let (na, nb) = (names(a), names(b));
    let determines = |x: &Vec<String>, h: &[QueryAttr]| pk(h).iter().all(|n| x.contains(n));
    let (ab, ba) = if nullable_pk {
        (false, false)
    } else {
        (determines(&na, b), determines(&nb, a))
    };
    let dependent = |first: &[QueryAttr], second: &[QueryAttr]| -> Vec<QueryAttr> {
        let nf = names(first);
        let mut out: Vec<QueryAttr> = first.iter().filter(|x| x.attr.in_key).cloned().collect();
        out.extend(first.iter().filter(|x| !x.attr.in_key).cloned());
        out.extend(
            second
                .iter()
                .filter(|x| !nf.contains(&x.attr.name))
                .map(|x| {
                    let mut y = x.clone();
                    y.attr.in_key = false;
                    y
                }),
        );
        out
    };
    if ab {
        return dependent(a, b);
    }
    if ba {
        return dependent(b, a);
    }
    let (pa, pb) = (pk(a), pk(b));
    let mut out: Vec<QueryAttr> = a.iter().filter(|x| x.attr.in_key).cloned().collect();
    out.extend(
        b.iter()
            .filter(|x| x.attr.in_key && !pa.contains(&x.attr.name))
            .map(|x| {
                let mut y = x.clone();
                y.attr.in_key = true;
                y
            }),
    );
    out.extend(
        a.iter()
            .filter(|x| !x.attr.in_key && !pb.contains(&x.attr.name))
            .cloned(),
    );
    out.extend(
        b.iter()
            .filter(|x| !x.attr.in_key && !pa.contains(&x.attr.name) && !na.contains(&x.attr.name))
            .cloned(),
    );
    out
}

/// Backend spellings of the aggregate functions that differ (PY `adapters/*`
/// `translate_expression`): `GROUP_CONCAT` on MySQL, `STRING_AGG` on PostgreSQL and DuckDB.
fn translate(d: crate::sql::Dialect, expr: &str) -> String {
    crate::sql::translate_expression(d, expr)
}

/// The universal set `U(attrs)`: the distinct values of attributes of another query, or a
/// grouping by arbitrary attributes.
#[derive(Debug, Clone)]
pub struct U {
    pub attrs: Vec<String>,
}

impl U {
    pub fn new<S: AsRef<str>>(attrs: &[S]) -> U {
        U {
            attrs: attrs.iter().map(|s| s.as_ref().to_string()).collect(),
        }
    }

    fn check(&self, q: &Query) -> Result<()> {
        if let Some(n) = self.attrs.iter().find(|n| !q.has(n)) {
            return Err(unknown(format!(
                "U: attribute `{n}` not found in the query (attributes: {})",
                q.names().join(", ")
            )));
        }
        Ok(())
    }

    /// The attributes (as the primary key) and columns of `q` that this set names.
    fn key_of(&self, q: &Query) -> (Vec<QueryAttr>, Vec<Col>) {
        self.attrs
            .iter()
            .filter_map(|n| q.attrs.iter().position(|a| &a.attr.name == n))
            .map(|i| {
                let mut a = q.attrs[i].clone();
                a.attr.in_key = true;
                (a, q.block.columns[i].clone())
            })
            .unzip()
    }

    /// `U(attrs) & q`: the distinct values of `attrs` in `q`, with `attrs` as the key.
    pub fn restrict(&self, q: &Query) -> Result<Query> {
        self.check(q)?;
        let base = if q.shape == Shape::Plain && !q.block.has_top() && !q.block.distinct {
            q.clone()
        } else {
            q.sub()
        };
        let (attrs, columns) = self.key_of(&base);
        let mut block = (*base.block).clone();
        block.columns = columns;
        block.distinct = true;
        Ok(base.with_block(block, attrs, Shape::Plain))
    }

    /// `U(attrs).aggr(group, computations)`: one row per distinct value of `attrs` in `group`
    /// (no attributes: one row), with the computations aggregated over its rows.
    pub fn aggr(&self, group: &Query, items: &[&str]) -> Result<Query> {
        self.check(group)?;
        for item in items {
            if !matches!(parse_proj_item(item)?, ProjItem::Compute { .. }) {
                return Err(bad(format!(
                    "U.aggr takes computations 'name=expression' only, not '{item}'"
                )));
            }
        }
        let base = if group.joinable(false) {
            group.clone()
        } else {
            group.sub()
        };
        let (attrs, columns) = self.key_of(&base);
        // the other attributes stay visible to the computations, not to the result
        let mut block = (*base.block).clone();
        block.group_by = Some(self.attrs.clone());
        let mut all_attrs = attrs.clone();
        let mut all_cols = columns.clone();
        for (a, c) in base.attrs.iter().zip(&base.block.columns) {
            if !self.attrs.contains(&a.attr.name) {
                let mut a = a.clone();
                a.attr.in_key = false;
                all_attrs.push(a);
                all_cols.push(c.clone());
            }
        }
        block.columns = all_cols;
        let agg = base.with_block(block, all_attrs, Shape::Aggregation);
        // proj keeps the key (the grouping attributes) and adds the computations
        agg.proj_impl(items, true)
    }
}
