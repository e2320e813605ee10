//! Cascading delete (PY `table.py` `delete`, DOCS `reference/specs/cascade.md`): the restriction
//! of a table is carried down the foreign-key graph to every dependent table (through renamed
//! foreign keys too); all rows go in one transaction, dependents first; then the deleted rows'
//! objects are removed. Part tables keep their masters whole (`part_integrity`).

use crate::backend::db::{DeleteStep, ForeignKey};
use crate::connection::ConnInner;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Heading;
use crate::naming;
use crate::sql::dml::Condition;
use crate::sql::query::{Block, Col, Source};
use crate::sql::Dialect;
use crate::table::{StoredObjects, Table};
use std::collections::HashMap;
use std::sync::Arc;

/// What a delete does about part tables (the reference's `part_integrity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartIntegrity {
    /// Rows of a part table may only go with rows of its master: a delete that would remove
    /// part rows while removing nothing from the master is rolled back.
    #[default]
    Enforce,
    /// Part rows may be deleted on their own.
    Ignore,
    /// Deleting part rows deletes their master rows too, and with them all their parts.
    Cascade,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeleteOptions {
    pub part_integrity: PartIntegrity,
    /// Count what would be deleted, per table, without deleting.
    pub dry_run: bool,
    /// Tests only: fail as if the server refused the statement after this many tables were
    /// deleted from (to show that nothing stays deleted on any backend).
    #[doc(hidden)]
    pub inject_failure_after: Option<usize>,
}

/// Rows deleted (or, for a dry run, to be deleted) per table, the restricted table first and
/// then its dependents in the order they were found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeleteReport {
    /// (`schema`, SQL table name, rows)
    pub tables: Vec<(String, String, u64)>,
    pub dry_run: bool,
}

impl DeleteReport {
    /// Rows of the restricted table (the reference's return value).
    pub fn root_count(&self) -> u64 {
        self.tables.first().map(|t| t.2).unwrap_or(0)
    }
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|t| t.2).sum()
    }
}

#[derive(Clone)]
struct Node {
    schema: String,
    table: String,
    /// ORed: one per way the rows are reached (the root's own restriction, each foreign key)
    reasons: Vec<Condition>,
}

/// (parent, child, child→parent columns)
type Edge = (usize, usize, Vec<(String, String)>);

/// The foreign-key graph below a table: nodes in discovery order and edges (parent, child,
/// child→parent columns).
#[derive(Clone)]
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Graph {
    fn index(&self, schema: &str, table: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.schema == schema && n.table == table)
    }

    fn add(&mut self, schema: &str, table: &str) -> usize {
        match self.index(schema, table) {
            Some(i) => i,
            None => {
                self.nodes.push(Node {
                    schema: schema.into(),
                    table: table.into(),
                    reasons: Vec::new(),
                });
                self.nodes.len() - 1
            }
        }
    }

    /// Walk down from the nodes present, reading each table's referencing keys once.
    fn expand(&mut self, conn: &ConnInner, seen: &mut HashMap<usize, ()>) -> Result<()> {
        let mut i = 0;
        while i < self.nodes.len() {
            if seen.insert(i, ()).is_none() {
                let (s, t) = (self.nodes[i].schema.clone(), self.nodes[i].table.clone());
                let fks: Vec<ForeignKey> = conn.with(|db| db.referencing_keys(&s, &t))?;
                for fk in fks {
                    let c = self.add(&fk.schema, &fk.table);
                    if !self
                        .edges
                        .iter()
                        .any(|e| e.0 == i && e.1 == c && e.2 == fk.columns)
                    {
                        self.edges.push((i, c, fk.columns));
                    }
                }
            }
            i += 1;
        }
        Ok(())
    }

    /// Parents before children.
    fn topo_order(&self) -> Result<Vec<usize>> {
        let n = self.nodes.len();
        let mut indeg = vec![0usize; n];
        for e in &self.edges {
            if e.0 != e.1 {
                indeg[e.1] += 1;
            }
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.first().copied() {
            ready.remove(0);
            order.push(i);
            for e in self.edges.iter().filter(|e| e.0 == i && e.1 != i) {
                indeg[e.1] -= 1;
                if indeg[e.1] == 0 {
                    ready.push(e.1);
                }
            }
        }
        if order.len() != n {
            return Err(Error::new(
                ErrorCode::Integrity,
                "the foreign keys below this table form a cycle; cannot order the delete",
            ));
        }
        Ok(order)
    }
}

fn or_of(mut v: Vec<Condition>) -> Condition {
    match v.len() {
        0 => Condition::False,
        1 => v.remove(0),
        _ => Condition::Or(v),
    }
}

fn full(schema: &str, table: &str) -> String {
    format!("`{schema}`.`{table}`")
}

/// Plan the cascade from a restricted table: every table to delete from, with its
/// conditions, parents first.
/// The graph, its topological order, each node's condition, and the dialect they render in.
type Plan = (Graph, Vec<usize>, Vec<Condition>, Dialect);

fn plan(t: &Table, opts: &DeleteOptions) -> Result<Plan> {
    let conn = t.conn();
    let mut g = Graph {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    let d = conn.with(|db| Ok(db.dialect()))?;
    let root = g.add(t.schema(), t.name());
    g.nodes[root].reasons.push(t.condition());
    let mut seen = HashMap::new();
    loop {
        g.expand(conn, &mut seen)?;
        let order = g.topo_order()?;
        let conds = conditions(d, &g, &order);
        if opts.part_integrity != PartIntegrity::Cascade {
            return Ok((g, order, conds, d));
        }
        // a part's rows take their master rows along (found now: the part rows are gone by
        // the time the master's rows are deleted), and those take all their parts
        let mut grew = false;
        for &i in &order {
            let (schema, table) = (g.nodes[i].schema.clone(), g.nodes[i].table.clone());
            let Some(master) = naming::master_of(&table).map(str::to_string) else {
                continue;
            };
            let pheading = read_heading(conn, &schema, &table)?;
            let mheading = read_heading(conn, &schema, &master)?;
            let mpk = mheading.primary_key_names();
            let keys = master_keys(conn, &schema, &table, &pheading, &mpk, &conds[i])?;
            if keys.is_empty() {
                continue;
            }
            let m = g.add(&schema, &master);
            let cond = keys_condition(&mheading, &mpk, keys);
            if !g.nodes[m].reasons.contains(&cond) {
                g.nodes[m].reasons.push(cond);
                grew = true;
            }
        }
        if !grew {
            return Ok((g, order, conds, d));
        }
    }
}

/// Each node's condition in topological order: its own reasons, or membership of its
/// foreign-key columns in the parent's rows to delete.
fn conditions(d: Dialect, g: &Graph, order: &[usize]) -> Vec<Condition> {
    let mut conds: Vec<Option<Condition>> = vec![None; g.nodes.len()];
    for &i in order {
        let mut reasons = g.nodes[i].reasons.clone();
        for (p, _, cols) in g.edges.iter().filter(|e| e.1 == i && e.0 != i) {
            let parent = &g.nodes[*p];
            let pc = conds[*p].clone().unwrap_or(Condition::False);
            if pc == Condition::False {
                continue;
            }
            let mut sub = Block::over(
                Source::Table {
                    schema: parent.schema.clone(),
                    name: parent.table.clone(),
                },
                &[],
            );
            sub.columns = cols
                .iter()
                .map(|(child, par)| Col {
                    name: child.clone(),
                    expr: (child != par).then(|| d.quote(par)),
                })
                .collect();
            if pc != Condition::True {
                sub.conditions.push(pc);
            }
            reasons.push(Condition::In {
                attrs: cols.iter().map(|(c, _)| c.clone()).collect(),
                sub: Arc::new(sub),
                negate: false,
            });
        }
        conds[i] = Some(if reasons.contains(&Condition::True) {
            Condition::True
        } else {
            or_of(reasons)
        });
    }
    conds
        .into_iter()
        .map(|c| c.unwrap_or(Condition::False))
        .collect()
}

fn read_heading(conn: &ConnInner, schema: &str, table: &str) -> Result<Heading> {
    conn.with(|db| db.read_heading(schema, table))?
        .ok_or_else(|| Error::not_found(format!("table {} does not exist", full(schema, table))))
}

/// The master keys of the part rows matching `cond`.
fn master_keys(
    conn: &ConnInner,
    schema: &str,
    part: &str,
    pheading: &Heading,
    mpk: &[String],
    cond: &Condition,
) -> Result<Vec<Vec<crate::value::Value>>> {
    let mut b = Block::table(schema, part, mpk);
    b.distinct = true;
    if *cond != Condition::True {
        b.conditions.push(cond.clone());
    }
    let attrs: Vec<crate::heading::Attribute> = mpk
        .iter()
        .filter_map(|n| pheading.get(n).cloned())
        .collect();
    let ctx = format!("finding the master rows of {}", full(schema, part));
    let cols = conn.with(|db| db.query_block(&b, &attrs, &ctx))?;
    let n = cols.first().map(|c| c.len()).unwrap_or(0);
    Ok((0..n)
        .map(|i| cols.iter().map(|c| c.value(i)).collect())
        .collect())
}

fn keys_condition(h: &Heading, pk: &[String], keys: Vec<Vec<crate::value::Value>>) -> Condition {
    or_of(
        keys.into_iter()
            .map(|k| {
                let parts: Vec<Condition> = pk
                    .iter()
                    .zip(k)
                    .filter_map(|(n, v)| h.get(n).map(|a| Condition::Eq(a.clone(), v)))
                    .collect();
                Condition::And(parts)
            })
            .collect(),
    )
}

/// Delete the rows of a restricted table and everything that depends on them.
pub fn delete(t: &Table, opts: &DeleteOptions) -> Result<DeleteReport> {
    let conn = t.conn();
    let (g, order, conds, d) = plan(t, opts)?;
    let name_of = |i: usize| (g.nodes[i].schema.clone(), g.nodes[i].table.clone());
    // report order: the root, then the others as found
    let report_order: Vec<usize> = (0..g.nodes.len())
        .filter(|&i| conds[i] != Condition::False)
        .collect();
    if opts.dry_run {
        let mut tables = Vec::new();
        for &i in &report_order {
            let (s, n) = name_of(i);
            let c = conn.with(|db| db.count_where(&s, &n, &as_list(&conds[i])))?;
            tables.push((s, n, c));
        }
        return Ok(DeleteReport {
            tables,
            dry_run: true,
        });
    }
    // A restriction by the table's own dependents would see them already deleted when its
    // turn comes: its keys are fixed first, and the cascade runs once per batch of them (all
    // in the one transaction).
    let batches: Vec<Vec<Condition>> = if reads_any(&conds[0], &g) {
        let h = t.heading();
        let pk = h.primary_key_names();
        let keys = master_keys(conn, t.schema(), t.name(), h, &pk, &conds[0])?;
        let per = (KEY_VALUES_PER_BATCH / pk.len().max(1)).max(1);
        keys.chunks(per)
            .map(|c| {
                let mut g2 = g.clone();
                g2.nodes[0].reasons = vec![keys_condition(h, &pk, c.to_vec())];
                conditions(d, &g2, &order)
            })
            .collect()
    } else {
        vec![conds.clone()]
    };
    // dependents first; each with the attributes whose objects go after the commit
    let mut headings: HashMap<usize, Heading> = HashMap::new();
    let mut steps = Vec::new();
    for conds in &batches {
        for &i in order.iter().rev() {
            if conds[i] == Condition::False {
                continue;
            }
            let (s, n) = name_of(i);
            if let std::collections::hash_map::Entry::Vacant(e) = headings.entry(i) {
                e.insert(if i == 0 {
                    t.heading().clone()
                } else {
                    read_heading(conn, &s, &n)?
                });
            }
            let returning: Vec<crate::heading::Attribute> = headings[&i]
                .attributes
                .iter()
                .filter(|a| StoredObjects::holds_objects(a))
                .cloned()
                .collect();
            steps.push(DeleteStep {
                schema: s,
                table: n,
                conditions: as_list(&conds[i]),
                returning,
            });
        }
    }
    let enforce = opts.part_integrity == PartIntegrity::Enforce;
    let step_names: Vec<(String, String)> = steps
        .iter()
        .map(|s| (s.schema.clone(), s.table.clone()))
        .collect();
    // rows per table over all batches
    let totals = |counts: &[u64]| -> Vec<((String, String), u64)> {
        let mut out: Vec<((String, String), u64)> = Vec::new();
        for (name, &c) in step_names.iter().zip(counts) {
            match out.iter_mut().find(|(n, _)| n == name) {
                Some(e) => e.1 += c,
                None => out.push((name.clone(), c)),
            }
        }
        out
    };
    let check = |counts: &[u64]| -> Result<()> {
        if !enforce {
            return Ok(());
        }
        let totals = totals(counts);
        for ((s, table), n) in &totals {
            let Some(master) = naming::master_of(table) else {
                continue;
            };
            if *n == 0 {
                continue;
            }
            let master_deleted = totals
                .iter()
                .any(|((ms, mt), c)| ms == s && mt == master && *c > 0);
            if !master_deleted {
                return Err(Error::new(
                    ErrorCode::Integrity,
                    format!(
                        "deleting {n} rows of part table {} without their master {} would break \
                         the master's integrity; delete from the master, or use part_integrity \
                         'ignore' or 'cascade' (nothing was deleted)",
                        full(s, table),
                        full(s, master)
                    ),
                ));
            }
        }
        Ok(())
    };
    let results = conn.with(|db| db.delete_steps(&steps, &check, opts.inject_failure_after))?;
    // after the commit: the deleted rows' objects that no row needs any more
    for (step, (_, cols)) in steps.iter().zip(&results) {
        let mut objs = StoredObjects::default();
        for (a, c) in step.returning.iter().zip(cols) {
            objs.collect(a, c);
        }
        conn.release_objects(&step.schema, objs);
    }
    let counts: Vec<u64> = results.iter().map(|(n, _)| *n).collect();
    let totals = totals(&counts);
    let mut tables = Vec::new();
    for &i in &report_order {
        let (s, n) = name_of(i);
        let c = totals
            .iter()
            .find(|((ts, tn), _)| *ts == s && *tn == n)
            .map_or(0, |e| e.1);
        tables.push((s, n, c));
    }
    Ok(DeleteReport {
        tables,
        dry_run: false,
    })
}

/// A table and every table below it in the foreign-key graph, parents first.
pub(crate) fn dependents(
    conn: &ConnInner,
    schema: &str,
    table: &str,
) -> Result<Vec<(String, String)>> {
    let mut g = Graph {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    g.add(schema, table);
    g.expand(conn, &mut HashMap::new())?;
    Ok(g.topo_order()?
        .into_iter()
        .map(|i| (g.nodes[i].schema.clone(), g.nodes[i].table.clone()))
        .collect())
}

/// The tables of a schema in dependency order (parents first); an error names a table of
/// another schema that depends on one of them.
pub(crate) fn schema_order(
    conn: &ConnInner,
    schema: &str,
    tables: &[String],
) -> Result<Vec<String>> {
    let mut g = Graph {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    for t in tables {
        g.add(schema, t);
    }
    g.expand(conn, &mut HashMap::new())?;
    if let Some(n) = g.nodes.iter().find(|n| n.schema != schema) {
        return Err(Error::new(
            ErrorCode::Integrity,
            format!(
                "cannot drop schema `{schema}`: table {} depends on it; drop that first",
                full(&n.schema, &n.table)
            ),
        ));
    }
    Ok(g.topo_order()?
        .into_iter()
        .map(|i| g.nodes[i].table.clone())
        .collect())
}

/// Key values per batch of a delete whose keys were fixed first (parameters stay well below
/// the servers' 65,535 per statement, a batch's keys appearing once per path to a table).
const KEY_VALUES_PER_BATCH: usize = 4_000;

/// Does the condition read a table of the cascade (in a subquery)?
fn reads_any(c: &Condition, g: &Graph) -> bool {
    fn block_reads(b: &Block, g: &Graph) -> bool {
        let src = |s: &Source| match s {
            Source::Table { schema, name } => g.index(schema, name).is_some(),
            Source::Sub(b) => block_reads(b, g),
            Source::Union(a, b) => block_reads(a, g) || block_reads(b, g),
        };
        src(&b.first)
            || b.joins.iter().any(|j| src(&j.source))
            || b.conditions.iter().any(|c| reads_any(c, g))
    }
    match c {
        Condition::In { sub, .. } | Condition::Exists { sub, .. } => block_reads(sub, g),
        Condition::And(v) | Condition::Or(v) => v.iter().any(|x| reads_any(x, g)),
        Condition::Not(x) => reads_any(x, g),
        _ => false,
    }
}

fn as_list(c: &Condition) -> Vec<Condition> {
    match c {
        Condition::True => Vec::new(),
        other => vec![other.clone()],
    }
}
