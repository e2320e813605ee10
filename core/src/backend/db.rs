//! DataJoint's relational operations over any backend: each is SQL text from the compiler
//! ([`crate::sql`]) run through the [`Backend`] primitives, the same on all three backends.

use super::Backend;
use crate::error::{Error, Result};
use crate::heading::{parse_column_comment, Attribute, Heading};
use crate::sql::catalog::{self, CatalogColumn};
use crate::sql::ddl::{self, TableSpec};
use crate::sql::dml::{self, Condition, InsertMode};
use crate::sql::query::{self, Block};
use crate::sql::{Dialect, Target};
use crate::types::{AttrType, CoreType};
use crate::value::{Column, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex};

/// DuckDB's object locks: one process writes a DuckDB file, so a lock in the process orders
/// its connections.
static DUCK_LOCKS: (Mutex<Option<HashSet<String>>>, Condvar) = (Mutex::new(None), Condvar::new());

struct DuckLock(String);

impl DuckLock {
    fn acquire(name: &str) -> DuckLock {
        let (m, cv) = &DUCK_LOCKS;
        let mut held = m.lock().unwrap_or_else(|p| p.into_inner());
        while held.get_or_insert_with(HashSet::new).contains(name) {
            held = cv.wait(held).unwrap_or_else(|p| p.into_inner());
        }
        held.get_or_insert_with(HashSet::new)
            .insert(name.to_string());
        DuckLock(name.to_string())
    }
}

impl Drop for DuckLock {
    fn drop(&mut self) {
        let (m, cv) = &DUCK_LOCKS;
        let mut held = m.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = held.as_mut() {
            h.remove(&self.0);
        }
        cv.notify_all();
    }
}

/// A hash-addressed object a row may reference: (store, path).
pub type ObjectKey = (String, String);

/// Schema names DuckDB resolves specially.
const DUCKDB_RESERVED_SCHEMAS: [&str; 6] = [
    "main",
    "memory",
    "system",
    "temp",
    "information_schema",
    "pg_catalog",
];

/// Rows to insert: canonical columns (attribute index in the heading, column).
pub struct InsertBatch<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    pub heading: &'a Heading,
    pub columns: Vec<(usize, Column)>,
    pub nrows: usize,
}

pub struct Db {
    b: Tracked,
    /// The caller's transaction (a populate's `make`), when one is open: the operations'
    /// own transactions become savepoints in it, and object locks are held until it ends.
    outer: Option<Outer>,
}

#[derive(Default)]
struct Outer {
    /// nesting depth of the operations' savepoints
    depth: usize,
    /// schemas whose object lock is held (with DuckDB's in-process guard)
    locks: Vec<(String, Option<DuckLock>)>,
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn int64_attr(name: &str) -> Attribute {
    Attribute {
        name: name.into(),
        ty: AttrType::Core(CoreType::Int64),
        declared_type: "int64".into(),
        in_key: false,
        nullable: true,
        default: None,
        comment: String::new(),
    }
}

impl Db {
    pub fn new(b: Box<dyn Backend>) -> Db {
        Db {
            b: Tracked {
                inner: b,
                failed: None,
            },
            outer: None,
        }
    }

    /// Reconnect a lost session before an operation, except inside the caller's transaction:
    /// there a lost session has rolled the work back, which is an error (a silent reconnect
    /// would run the rest in autocommit).
    fn connected(&mut self) -> Result<()> {
        if self.b.ensure_connected()? && self.outer.is_some() {
            self.outer = None;
            self.b.failed = None;
            return Err(Error::new(
                crate::error::ErrorCode::Connection,
                "the connection was lost inside a transaction; its work was rolled back",
            ));
        }
        Ok(())
    }

    /// Whether the caller's transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.outer.is_some()
    }

    /// Open the caller's transaction (a `make`): every operation until [`Db::end`] is part of
    /// it.
    pub fn begin(&mut self) -> Result<()> {
        if self.outer.is_some() {
            return Err(Error::new(
                crate::error::ErrorCode::NotAllowed,
                "a transaction is already open on this connection",
            ));
        }
        self.connected()?;
        let d = self.dialect();
        self.b.execute(d.begin(), &[], "starting a transaction")?;
        self.outer = Some(Outer::default());
        // PostgreSQL and DuckDB abort the whole transaction at a failed statement
        self.b.failed = (d != Dialect::MySql).then_some(None);
        Ok(())
    }

    /// Commit (or roll back) the caller's transaction and release the object locks it held.
    pub fn end(&mut self, commit: bool) -> Result<()> {
        let Some(outer) = self.outer.take() else {
            return Err(Error::internal("no transaction is open"));
        };
        let d = self.dialect();
        let ctx = "ending a transaction";
        // A statement failed in it (and was perhaps handled): the server can only roll it
        // back, and PostgreSQL would even answer COMMIT with a silent ROLLBACK.
        let failed = self.b.failed.take().flatten();
        let res = match (commit, failed) {
            (true, Some(e)) => {
                let _ = self.b.execute(d.rollback(), &[], ctx);
                Err(Error::new(
                    e.code,
                    format!(
                        "the transaction was rolled back: an operation in it failed: {}",
                        e.message
                    ),
                ))
            }
            (true, None) => match self.b.execute(d.commit(), &[], ctx) {
                Ok(_) => Ok(()),
                Err(e) => {
                    let _ = self.b.execute(d.rollback(), &[], ctx);
                    Err(e)
                }
            },
            (false, _) => self.b.execute(d.rollback(), &[], ctx).map(|_| ()),
        };
        for (schema, guard) in outer.locks {
            self.object_unlock(&schema, ctx);
            drop(guard);
        }
        res
    }

    pub fn dialect(&self) -> Dialect {
        self.b.dialect()
    }

    pub fn kind(&self) -> &'static str {
        self.dialect().name()
    }

    /// Run `f` in one transaction; roll back on any error.
    fn tx<T>(&mut self, ctx: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let d = self.dialect();
        if let Some(depth) = self.outer.as_ref().map(|o| o.depth) {
            return self.savepoint(depth, ctx, f);
        }
        self.b.execute(d.begin(), &[], ctx)?;
        match f(self) {
            Ok(v) => match self.b.execute(d.commit(), &[], ctx) {
                Ok(_) => Ok(v),
                Err(e) => {
                    let _ = self.b.execute(d.rollback(), &[], ctx);
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.b.execute(d.rollback(), &[], ctx);
                Err(e)
            }
        }
    }

    /// Inside the caller's transaction, MySQL runs each operation in a savepoint, so a failed
    /// one undoes only itself (MySQL would keep the statements before the failing one).
    /// PostgreSQL and DuckDB need none: any failed statement aborts the whole transaction,
    /// which can then only roll back — an operation is never half kept either way.
    fn savepoint<T>(
        &mut self,
        depth: usize,
        ctx: &str,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let name = format!("dj_sp{depth}");
        let named = self.dialect() == Dialect::MySql;
        if named {
            self.b.execute(&format!("SAVEPOINT {name}"), &[], ctx)?;
        }
        if let Some(o) = self.outer.as_mut() {
            o.depth += 1;
        }
        let r = f(self);
        if let Some(o) = self.outer.as_mut() {
            o.depth = depth;
        }
        if named && self.outer.is_some() {
            let sql = if r.is_ok() {
                format!("RELEASE SAVEPOINT {name}")
            } else {
                format!("ROLLBACK TO SAVEPOINT {name}")
            };
            self.b.execute(&sql, &[], ctx)?;
        }
        r
    }

    fn strings(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<Vec<String>> {
        Ok(self
            .b
            .query_text(sql, params, ctx)?
            .into_iter()
            .filter_map(|mut r| r.drain(..).next().flatten())
            .collect())
    }

    fn scalar(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<i64> {
        let a = int64_attr("n");
        let cols = self.b.query(sql, params, &[&a], ctx)?;
        match cols.first().map(|c| c.value(0)) {
            Some(Value::Int(n)) => Ok(n),
            _ => Err(Error::internal(format!("{ctx}: no scalar result"))),
        }
    }

    /// The server's id of this session (PostgreSQL backend pid, MySQL connection id; 0 for
    /// DuckDB).
    pub fn session_id(&mut self) -> Result<i64> {
        self.connected()?;
        let q = self.dialect().session_id_query();
        self.scalar(q, &[], "reading the session id")
    }

    pub fn list_schemas(&mut self) -> Result<Vec<String>> {
        self.connected()?;
        let mut v = self.strings(
            &catalog::list_schemas(self.dialect()),
            &[],
            "listing schemas",
        )?;
        v.sort();
        Ok(v)
    }

    pub fn create_schema(&mut self, name: &str) -> Result<()> {
        self.connected()?;
        let d = self.dialect();
        if d == Dialect::DuckDb
            && DUCKDB_RESERVED_SCHEMAS.contains(&name.to_ascii_lowercase().as_str())
        {
            return Err(Error::invalid_arg(format!(
                "schema name `{name}` is reserved by DuckDB"
            )));
        }
        self.b.execute(
            &ddl::create_schema(d, name),
            &[],
            &format!("creating schema `{name}`"),
        )?;
        Ok(())
    }

    pub fn drop_schema(&mut self, name: &str) -> Result<()> {
        self.connected()?;
        self.b.execute(
            &ddl::drop_schema(self.dialect(), name),
            &[],
            &format!("dropping schema `{name}`"),
        )?;
        Ok(())
    }

    /// SQL names of the tables in a schema, hidden (`~`) tables excluded, sorted.
    pub fn list_tables(&mut self, schema: &str) -> Result<Vec<String>> {
        self.connected()?;
        let mut v: Vec<String> = self
            .strings(
                &catalog::list_tables(self.dialect()),
                &[text(schema)],
                &format!("listing tables of schema `{schema}`"),
            )?
            .into_iter()
            .filter(|t| !t.starts_with('~'))
            .collect();
        v.sort();
        Ok(v)
    }

    fn table_exists(&mut self, schema: &str, table: &str, ctx: &str) -> Result<bool> {
        Ok(!self
            .b
            .query_text(
                &catalog::table_comment(self.dialect()),
                &[text(schema), text(table)],
                ctx,
            )?
            .is_empty())
    }

    /// Declare a table: enum types (PostgreSQL), CREATE TABLE, indexes, comments and its
    /// `~lineage` rows, in one transaction where the backend has transactional DDL.
    pub fn create_table(&mut self, spec: &TableSpec) -> Result<()> {
        self.connected()?;
        let d = self.dialect();
        let ctx = format!("declaring table `{}`.`{}`", spec.schema, spec.name);
        let statements = ddl::create_table(d, spec).map_err(|e| e.context(&ctx))?;
        self.tx(&ctx, |db| {
            for (name, values) in ddl::enum_types(d, spec) {
                let exists = !db
                    .b
                    .query_text(
                        &catalog::enum_type_exists(),
                        &[text(spec.schema), text(&name)],
                        &ctx,
                    )?
                    .is_empty();
                if !exists {
                    db.b.execute(
                        &ddl::create_enum_type(d, spec.schema, &name, &values),
                        &[],
                        &ctx,
                    )?;
                }
            }
            for s in &statements {
                db.b.execute(s, &[], &ctx)?;
            }
            db.write_lineage(spec, &ctx)
        })
    }

    /// The reference's `~lineage` rows: foreign-key attributes copy their parent's lineage,
    /// native primary-key attributes are their own origin.
    fn write_lineage(&mut self, spec: &TableSpec, ctx: &str) -> Result<()> {
        let d = self.dialect();
        self.b
            .execute(&ddl::lineage_table(d, spec.schema), &[], ctx)?;
        self.b.execute(
            &ddl::lineage_delete(d, spec.schema),
            &[text(spec.name)],
            ctx,
        )?;
        let mut entries: Vec<(String, String)> = Vec::new();
        for fk in &spec.foreign_keys {
            let parent_has_lineage = self.table_exists(&fk.parent_schema, ddl::LINEAGE, ctx)?;
            for (c, pc) in fk.columns.iter().zip(&fk.parent_columns) {
                if entries.iter().any(|(a, _)| a == c) {
                    continue;
                }
                let found = if parent_has_lineage {
                    self.strings(
                        &ddl::lineage_lookup(d, &fk.parent_schema),
                        &[text(&fk.parent_table), text(pc)],
                        ctx,
                    )?
                    .into_iter()
                    .next()
                } else {
                    None
                };
                let lineage = found
                    .unwrap_or_else(|| format!("{}.{}.{pc}", fk.parent_schema, fk.parent_table));
                entries.push((c.clone(), lineage));
            }
        }
        for k in spec.primary_key() {
            if !entries.iter().any(|(a, _)| *a == k) {
                entries.push((k.clone(), format!("{}.{}.{k}", spec.schema, spec.name)));
            }
        }
        for chunk in entries.chunks(500) {
            let params: Vec<Value> = chunk
                .iter()
                .flat_map(|(a, l)| [text(spec.name), text(a), text(l)])
                .collect();
            self.b.execute(
                &ddl::lineage_insert(d, spec.schema, chunk.len()),
                &params,
                ctx,
            )?;
        }
        Ok(())
    }

    /// The `~lineage` rows of a table: (attribute, `schema.table.attribute` of its origin).
    /// Empty when the schema has no lineage table (pipelines older than DataJoint 2.0).
    pub fn lineages(&mut self, schema: &str, table: &str) -> Result<Vec<(String, String)>> {
        self.connected()?;
        let ctx = format!("reading the lineage of `{schema}`.`{table}`");
        if !self.table_exists(schema, ddl::LINEAGE, &ctx)? {
            return Ok(Vec::new());
        }
        let rows = self.b.query_text(
            &ddl::lineage_of_table(self.dialect(), schema),
            &[text(table)],
            &ctx,
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|mut r| {
                r.resize(2, None);
                Some((r[0].take()?, r[1].take()?))
            })
            .collect())
    }

    /// [`Db::lineages`], or None when the schema keeps no `~lineage` (semantic matching is
    /// then skipped, as in the reference).
    pub fn lineages_if_tracked(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<Option<Vec<(String, String)>>> {
        self.connected()?;
        let ctx = format!("reading the lineage of `{schema}`.`{table}`");
        if !self.table_exists(schema, ddl::LINEAGE, &ctx)? {
            return Ok(None);
        }
        self.lineages(schema, table).map(Some)
    }

    pub fn drop_table(&mut self, schema: &str, table: &str) -> Result<()> {
        self.connected()?;
        let d = self.dialect();
        let ctx = format!("dropping table `{schema}`.`{table}`");
        let enums = if d == Dialect::Postgres {
            self.strings(
                &catalog::table_enum_types(),
                &[text(schema), text(table)],
                &ctx,
            )?
        } else {
            Vec::new()
        };
        self.tx(&ctx, |db| {
            db.b.execute(&ddl::drop_table(d, schema, table), &[], &ctx)?;
            if db.table_exists(schema, ddl::LINEAGE, &ctx)? {
                db.b.execute(&ddl::lineage_delete(d, schema), &[text(table)], &ctx)?;
            }
            Ok(())
        })?;
        // Best effort, outside the transaction: a type other tables still use stays.
        for e in enums {
            let _ = self
                .b
                .execute(&ddl::drop_enum_type(d, schema, &e), &[], &ctx);
        }
        Ok(())
    }

    /// The heading read back from the catalog, or None if the table does not exist.
    pub fn read_heading(&mut self, schema: &str, table: &str) -> Result<Option<Heading>> {
        self.connected()?;
        self.heading(schema, table, 0)
    }

    fn heading(&mut self, schema: &str, table: &str, depth: usize) -> Result<Option<Heading>> {
        let d = self.dialect();
        let ctx = format!("reading the heading of `{schema}`.`{table}`");
        if depth > 32 {
            return Err(Error::definition(format!(
                "{ctx}: foreign keys nest deeper than 32 tables"
            )));
        }
        let p = [text(schema), text(table)];
        let Some(comment) = self
            .b
            .query_text(&catalog::table_comment(d), &p, &ctx)?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let cols = self.b.query_text(&catalog::columns(d), &p, &ctx)?;
        let pk = self.strings(&catalog::primary_key(d), &p, &ctx)?;
        let fks = self.b.query_text(&catalog::foreign_keys(d), &p, &ctx)?;
        let mut parents: HashMap<(String, String), Option<Heading>> = HashMap::new();
        let mut heading = Heading {
            attributes: Vec::new(),
            comment: comment.into_iter().next().flatten().unwrap_or_default(),
        };
        let qualified = format!("{schema}.{table}");
        for row in cols {
            let c = CatalogColumn::from_row(row);
            if c.name.starts_with('_') {
                continue; // hidden attribute
            }
            let marked = c
                .comment
                .as_deref()
                .and_then(parse_column_comment)
                .is_some();
            let fk = fks
                .iter()
                .find(|f| f.first().and_then(|x| x.as_deref()) == Some(c.name.as_str()));
            let mut parent: Option<Attribute> = None;
            if let (false, Some(f)) = (marked, fk) {
                let get = |i: usize| f.get(i).cloned().flatten().unwrap_or_default();
                let key = (get(1), get(2));
                if !parents.contains_key(&key) {
                    let h = self.heading(&key.0, &key.1, depth + 1)?;
                    parents.insert(key.clone(), h);
                }
                parent = parents[&key].as_ref().and_then(|h| h.get(&get(3)).cloned());
            }
            let in_key = pk.contains(&c.name);
            heading.attributes.push(catalog::attribute(
                d,
                &qualified,
                &c,
                in_key,
                parent.as_ref(),
            )?);
        }
        Ok(Some(heading))
    }

    /// Insert a batch atomically; returns the number of rows written. Skip-duplicates and
    /// replace stage the rows in a temporary table and merge them with one statement.
    pub fn insert(&mut self, batch: InsertBatch, mode: InsertMode) -> Result<u64> {
        self.insert_checked(batch, mode, None)
    }

    /// Insert a batch; `before_commit` (when given) runs under the schema's object lock just
    /// before the commit (it makes sure the batch's hash objects exist).
    pub fn insert_checked(
        &mut self,
        batch: InsertBatch,
        mode: InsertMode,
        before_commit: Option<&mut dyn FnMut() -> Result<()>>,
    ) -> Result<u64> {
        self.connected()?;
        let InsertBatch {
            schema,
            table,
            heading,
            columns,
            nrows,
        } = batch;
        let ctx = format!("inserting into `{schema}`.`{table}`");
        if nrows == 0 {
            return Ok(0);
        }

        let attrs: Vec<&Attribute> = columns
            .iter()
            .map(|(i, _)| &heading.attributes[*i])
            .collect();
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        let cols: Vec<Column> = columns.into_iter().map(|(_, c)| c).collect();
        let mut pk = heading.primary_key_names();
        if pk.is_empty() {
            pk.push("_singleton".into());
        }
        self.tx_checked(schema, &ctx, before_commit, |db| {
            let n = db.write_batch(schema, table, &attrs, &names, &pk, cols, nrows, mode, &ctx)?;
            Ok((n, true))
        })
    }

    /// Run `write` in one transaction; when it says so and `before_commit` is given, take the
    /// schema's object lock and run `before_commit` (the hash objects' check) before the
    /// commit, so that no delete of a shared object slips in between.
    fn tx_checked<T>(
        &mut self,
        schema: &str,
        ctx: &str,
        before_commit: Option<&mut dyn FnMut() -> Result<()>>,
        write: impl FnOnce(&mut Db) -> Result<(T, bool)>,
    ) -> Result<T> {
        let mut duck_guard: Option<DuckLock> = None;
        let mut locked = false;
        // inside the caller's transaction the lock, once taken, is held until it ends
        let held = self
            .outer
            .as_ref()
            .is_some_and(|o| o.locks.iter().any(|(s, _)| s == schema));
        let res = self.tx(ctx, |db| {
            let (v, check) = write(db)?;
            if let (true, Some(f)) = (check, before_commit) {
                if !held {
                    duck_guard = db.object_lock(schema, ctx)?;
                    locked = true;
                }
                f()?;
            }
            Ok(v)
        });
        match self.outer.as_mut() {
            // held until the caller's transaction ends (the rows are not committed before)
            Some(o) if locked => o.locks.push((schema.to_string(), duck_guard)),
            _ => {
                if locked {
                    self.object_unlock(schema, ctx);
                }
                drop(duck_guard);
            }
        }
        res
    }

    #[allow(clippy::too_many_arguments)]
    fn write_batch(
        &mut self,
        schema: &str,
        table: &str,
        attrs: &[&Attribute],
        names: &[&str],
        pk: &[String],
        cols: Vec<Column>,
        nrows: usize,
        mode: InsertMode,
        ctx: &str,
    ) -> Result<u64> {
        let d = self.dialect();
        let (db, attrs, names, pk, ctx) = (self, attrs, names, pk, ctx);
        match mode {
            InsertMode::Error => {
                db.b.append(Target::Table { schema, table }, attrs, cols, nrows, ctx)
            }
            _ => {
                db.b.execute(&dml::drop_stage(d, schema), &[], ctx)?;
                db.b.execute(&dml::create_stage(d, schema, table, names), &[], ctx)?;
                db.b.append(Target::Stage { schema }, attrs, cols, nrows, ctx)?;
                let n = db.b.execute(
                    &dml::merge_stage(d, schema, table, names, pk, mode),
                    &[],
                    ctx,
                )?;
                db.b.execute(&dml::drop_stage(d, schema), &[], ctx)?;
                Ok(if mode == InsertMode::Replace {
                    nrows as u64
                } else {
                    n
                })
            }
        }
    }

    /// Take the schema's object lock (inside a transaction; see [`Dialect::object_lock`]).
    fn object_lock(&mut self, schema: &str, ctx: &str) -> Result<Option<DuckLock>> {
        let d = self.dialect();
        match d.object_lock(schema) {
            None => Ok(Some(DuckLock::acquire(schema))),
            Some(sql) => {
                if self.scalar(&sql, &[], ctx)? != 1 {
                    return Err(Error::new(
                        crate::error::ErrorCode::Backend,
                        format!(
                            "{ctx}: timed out waiting for the object lock of schema `{schema}`"
                        ),
                    ));
                }
                Ok(None)
            }
        }
    }

    fn object_unlock(&mut self, schema: &str, ctx: &str) {
        if let Some(sql) = self.dialect().object_unlock(schema) {
            let _ = self.b.query_text(&sql, &[], ctx);
        }
    }

    /// Run `f` in one transaction holding the schema's object lock.
    pub fn with_object_lock<T>(
        &mut self,
        schema: &str,
        f: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        self.connected()?;
        let ctx = format!("locking the objects of schema `{schema}`");
        if self.outer.is_some() {
            return Err(Error::new(
                crate::error::ErrorCode::NotAllowed,
                format!("{ctx}: not possible inside a transaction (a make); run it outside"),
            ));
        }
        if self.dialect() == Dialect::Postgres {
            // READ COMMITTED: statements after the lock see every commit before it
            return self.tx(&ctx, |db| {
                db.object_lock(schema, &ctx)?;
                f(db)
            });
        }
        // MySQL and DuckDB read from a snapshot taken when the transaction starts, so the lock
        // comes first and the work runs in autocommit statements that see the latest commits.
        let guard = self.object_lock(schema, &ctx)?;
        let res = f(self);
        self.object_unlock(schema, &ctx);
        drop(guard);
        res
    }

    /// Which of `objects` a row of any table of `schema` still references (committed rows;
    /// a row whose JSON has no store name counts for every store).
    pub fn referenced_objects(&mut self, schema: &str, objects: &[ObjectKey]) -> Result<Vec<bool>> {
        let mut found = vec![false; objects.len()];
        if objects.is_empty() {
            return Ok(found);
        }
        let by_path: HashMap<&str, Vec<usize>> =
            objects
                .iter()
                .enumerate()
                .fold(HashMap::new(), |mut m, (i, (_, p))| {
                    m.entry(p.as_str()).or_default().push(i);
                    m
                });
        let d = self.dialect();
        for table in self.list_tables(schema)? {
            let Some(h) = self.read_heading(schema, &table)? else {
                continue;
            };
            for a in h.attributes.iter().filter(|a| a.ty.is_hash_object()) {
                let ctx = format!("checking references in `{schema}`.`{table}`.`{}`", a.name);
                for chunk in objects.chunks(50) {
                    let needles: Vec<Value> = chunk
                        .iter()
                        .map(|(_, p)| {
                            let leaf = p.rsplit('/').next().unwrap_or(p);
                            text(&format!("%{leaf}%"))
                        })
                        .collect();
                    let sql = dml::json_containing(d, schema, &table, &a.name, needles.len());
                    for row in self.b.query_text(&sql, &needles, &ctx)? {
                        let Some(Some(j)) = row.into_iter().next() else {
                            continue;
                        };
                        let Ok(v) = serde_json::from_str::<serde_json::Value>(&j) else {
                            continue;
                        };
                        let path = v.get("path").and_then(|x| x.as_str()).unwrap_or("");
                        let store = v.get("store").and_then(|x| x.as_str()).unwrap_or("");
                        for &i in by_path.get(path).into_iter().flatten() {
                            if store.is_empty() || objects[i].0.is_empty() || objects[i].0 == store
                            {
                                found[i] = true;
                            }
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// The JSON of every value that points to a managed object, in every table of `schema`:
    /// `<npy@>` and `<object@>` (schema-addressed) and the hash-addressed codecs. Returns
    /// (is hash-addressed, JSON text). `<filepath@>` targets belong to the user: not listed.
    pub fn object_references(&mut self, schema: &str) -> Result<Vec<(bool, String)>> {
        let d = self.dialect();
        let mut out = Vec::new();
        for table in self.list_tables(schema)? {
            let Some(h) = self.read_heading(schema, &table)? else {
                continue;
            };
            for a in &h.attributes {
                let hashed = a.ty.is_hash_object();
                let schema_addressed = matches!(a.ty.codec_name(), Some("npy" | "object"));
                if !hashed && !schema_addressed {
                    continue;
                }
                let ctx = format!("reading references in `{schema}`.`{table}`.`{}`", a.name);
                let sql = dml::json_column(d, schema, &table, &a.name);
                for row in self.b.query_text(&sql, &[], &ctx)? {
                    if let Some(Some(j)) = row.into_iter().next() {
                        out.push((hashed, j));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Run a query block; its columns are `attrs`.
    pub fn query_block(
        &mut self,
        block: &Block,
        attrs: &[Attribute],
        ctx: &str,
    ) -> Result<Vec<Column>> {
        self.connected()?;
        let refs: Vec<&Attribute> = attrs.iter().collect();
        let (sql, params) = query::select(self.dialect(), block, &refs);
        if attrs.is_empty() {
            // `SELECT 1 …`: runs the restriction (and reports its errors), returns no columns
            self.b.query(&sql, &params, &[&int64_attr("one")], ctx)?;
            return Ok(Vec::new());
        }
        self.b.query(&sql, &params, &refs, ctx)
    }

    pub fn count_block(&mut self, block: &Block, ctx: &str) -> Result<u64> {
        self.connected()?;
        let (sql, params) = query::count(self.dialect(), block);
        Ok(self.scalar(&sql, &params, ctx)? as u64)
    }

    /// `UPDATE` one row by its key in a transaction; `before_commit` runs before the commit
    /// (and fails it). Returns the rows matched (MySQL counts unchanged rows too: it is asked
    /// for found rows).
    pub fn update_row(
        &mut self,
        schema: &str,
        table: &str,
        set: &[(Attribute, Value)],
        defaults: &[String],
        key: &[Condition],
        before_commit: Option<&mut dyn FnMut() -> Result<()>>,
    ) -> Result<u64> {
        self.connected()?;
        let d = self.dialect();
        let ctx = format!("updating a row of `{schema}`.`{table}`");
        let attrs: Vec<&Attribute> = set.iter().map(|(a, _)| a).collect();
        let defs: Vec<&str> = defaults.iter().map(|s| s.as_str()).collect();
        let (sql, key_params) = query::update(d, schema, table, &attrs, &defs, key);
        let mut params: Vec<Value> = set.iter().map(|(_, v)| v.clone()).collect();
        params.extend(key_params);
        let exists = query::count_table(d, schema, table, key);
        self.tx_checked(schema, &ctx, before_commit, |db| {
            // counted first: MySQL reports changed rows, not matched ones
            let n = db.scalar(&exists.0, &exists.1, &ctx)? as u64;
            if n == 1 {
                db.b.execute(&sql, &params, &ctx)?;
            }
            Ok((n, n == 1))
        })
    }

    /// A table's own foreign keys, one per constraint: the referenced table and the
    /// (column, referenced column) pairs.
    pub fn parents(&mut self, schema: &str, table: &str) -> Result<Vec<ForeignKey>> {
        self.connected()?;
        let ctx = format!("reading the foreign keys of `{schema}`.`{table}`");
        let rows = self.b.query_text(
            &catalog::foreign_keys(self.dialect()),
            &[text(schema), text(table)],
            &ctx,
        )?;
        // column, parent schema, parent table, parent column, constraint
        Ok(group_foreign_keys(rows, [1, 2, 4], [0, 3]))
    }

    /// Whether a table has a column (hidden ones included).
    pub fn has_column(&mut self, schema: &str, table: &str, column: &str) -> Result<bool> {
        self.connected()?;
        let ctx = format!("reading the columns of `{schema}`.`{table}`");
        let cols = self.b.query_text(
            &catalog::columns(self.dialect()),
            &[text(schema), text(table)],
            &ctx,
        )?;
        Ok(cols
            .into_iter()
            .any(|r| CatalogColumn::from_row(r).name == column))
    }

    /// Run one compiled statement; returns the rows it affected.
    pub fn execute(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<u64> {
        self.connected()?;
        self.b.execute(sql, params, ctx)
    }

    /// The server's time `seconds` from now, as a `datetime(3)` value.
    pub fn server_time(&mut self, seconds: f64) -> Result<Value> {
        self.connected()?;
        let d = self.dialect();
        let a = Attribute {
            name: "t".into(),
            ty: AttrType::Core(CoreType::Datetime(Some(3))),
            declared_type: "datetime(3)".into(),
            ..int64_attr("t")
        };
        let cols = self.b.query(
            &format!("SELECT {}", d.now_plus(seconds)),
            &[],
            &[&a],
            "reading the server's time",
        )?;
        cols.first()
            .map(|c| c.value(0))
            .ok_or_else(|| Error::internal("no server time"))
    }

    /// The session's user (`user@host` on MySQL), as the jobs table records it.
    pub fn current_user(&mut self) -> Result<String> {
        self.connected()?;
        let q = self.dialect().current_user_query();
        Ok(self
            .strings(q, &[], "reading the session's user")?
            .pop()
            .unwrap_or_default())
    }

    /// The foreign keys that reference a table, one per constraint.
    pub fn referencing_keys(&mut self, schema: &str, table: &str) -> Result<Vec<ForeignKey>> {
        self.connected()?;
        let ctx = format!("reading the foreign keys that reference `{schema}`.`{table}`");
        let rows = self.b.query_text(
            &catalog::referencing_keys(self.dialect()),
            &[text(schema), text(table)],
            &ctx,
        )?;
        // child schema, child table, constraint, child column, referenced column
        Ok(group_foreign_keys(rows, [0, 1, 2], [3, 4]))
    }

    /// Rows matching the conditions of one table.
    pub fn count_where(&mut self, schema: &str, table: &str, conds: &[Condition]) -> Result<u64> {
        self.connected()?;
        let ctx = format!("counting rows of `{schema}`.`{table}`");
        let (sql, params) = query::count_table(self.dialect(), schema, table, conds);
        Ok(self.scalar(&sql, &params, &ctx)? as u64)
    }

    /// Delete from several tables in one transaction, in the order given (dependents first);
    /// returns each step's count and the deleted rows' values of its `returning` attributes
    /// (their stored objects are removed after the commit). `check` sees the counts before
    /// the commit and rolls everything back by failing.
    pub fn delete_steps(
        &mut self,
        steps: &[DeleteStep],
        check: &dyn Fn(&[u64]) -> Result<()>,
        fail_after: Option<usize>,
    ) -> Result<Vec<(u64, Vec<Column>)>> {
        self.connected()?;
        let d = self.dialect();
        let ctx = match steps.first() {
            Some(s) => format!("deleting from `{}`.`{}`", s.schema, s.table),
            None => return Ok(Vec::new()),
        };
        if d == Dialect::DuckDb && steps.len() > 1 && self.outer.is_none() {
            return self.delete_steps_undo(steps, check, fail_after, &ctx);
        }
        self.tx(&ctx, |db| {
            let mut out = Vec::with_capacity(steps.len());
            for s in steps {
                let ctx = format!("deleting from `{}`.`{}`", s.schema, s.table);
                let cols = if s.returning.is_empty() {
                    Vec::new()
                } else {
                    let attrs: Vec<&Attribute> = s.returning.iter().collect();
                    let (sql, params) =
                        query::select_for_delete(d, &s.schema, &s.table, &attrs, &s.conditions);
                    db.b.query(&sql, &params, &attrs, &ctx)?
                };
                let (sql, params) = query::delete(d, &s.schema, &s.table, &s.conditions);
                let n = db.b.execute(&sql, &params, &ctx)?;
                out.push((n, cols));
                injected(fail_after, out.len())?;
            }
            let counts: Vec<u64> = out.iter().map(|(n, _)| *n).collect();
            check(&counts)?;
            Ok(out)
        })
    }
}

impl Db {
    /// DuckDB checks a foreign key against a parent row deleted in the same transaction as its
    /// last child rows as if the children were still there (its "over-eager constraint
    /// checking"), so one transaction cannot delete a child and then its parent. There the
    /// steps run one by one, each committed, after a copy of every row to delete is kept in a
    /// temporary table; if a step fails, the rows already deleted are put back (parents
    /// first). One process writes a DuckDB file, and this connection is held throughout.
    fn delete_steps_undo(
        &mut self,
        steps: &[DeleteStep],
        check: &dyn Fn(&[u64]) -> Result<()>,
        fail_after: Option<usize>,
        ctx: &str,
    ) -> Result<Vec<(u64, Vec<Column>)>> {
        let d = self.dialect();
        let undo: Vec<query::UndoCopy> = (0..steps.len())
            .map(|k| query::UndoCopy::new(d, k))
            .collect();
        let drop_all = |db: &mut Db| {
            for u in &undo {
                let _ = db.b.execute(&u.drop(), &[], ctx);
            }
        };
        // the rows to delete, their objects and their counts, from one snapshot
        let copied = self.tx(ctx, |db| {
            let mut out = Vec::with_capacity(steps.len());
            for (s, u) in steps.iter().zip(&undo) {
                let ctx = format!("deleting from `{}`.`{}`", s.schema, s.table);
                let (sql, params) = u.create(&s.schema, &s.table, &s.conditions);
                db.b.execute(&sql, &params, &ctx)?;
                let n = db.scalar(&u.count(), &[], &ctx)? as u64;
                let cols = if s.returning.is_empty() {
                    Vec::new()
                } else {
                    let attrs: Vec<&Attribute> = s.returning.iter().collect();
                    db.b.query(&u.select(&attrs), &[], &attrs, &ctx)?
                };
                out.push((n, cols));
            }
            Ok(out)
        });
        let copied = match copied {
            Ok(c) => c,
            Err(e) => {
                drop_all(self);
                return Err(e);
            }
        };
        let counts: Vec<u64> = copied.iter().map(|(n, _)| *n).collect();
        if let Err(e) = check(&counts) {
            drop_all(self);
            return Err(e);
        }
        let mut done = 0;
        let mut failure = None;
        for s in steps {
            let ctx = format!("deleting from `{}`.`{}`", s.schema, s.table);
            let (sql, params) = query::delete(d, &s.schema, &s.table, &s.conditions);
            let r = self.b.execute(&sql, &params, &ctx);
            if r.is_ok() {
                done += 1;
            }
            if let Err(e) = r.and_then(|_| injected(fail_after, done)) {
                failure = Some(e);
                break;
            }
        }
        if let Some(e) = failure {
            for k in (0..done).rev() {
                let s = &steps[k];
                if let Err(r) = self
                    .b
                    .execute(&undo[k].restore(&s.schema, &s.table), &[], ctx)
                {
                    drop_all(self);
                    return Err(Error::new(
                        e.code,
                        format!(
                            "{}; putting back the rows already deleted from `{}`.`{}` failed too: {}",
                            e.message, s.schema, s.table, r.message
                        ),
                    ));
                }
            }
            drop_all(self);
            return Err(e);
        }
        drop_all(self);
        Ok(copied)
    }
}

/// The failure a test injects after `done` delete steps.
fn injected(fail_after: Option<usize>, done: usize) -> Result<()> {
    match fail_after {
        Some(n) if n == done => Err(Error::new(
            crate::error::ErrorCode::Backend,
            format!("injected failure after {done} delete steps"),
        )),
        _ => Ok(()),
    }
}

/// The backend, remembering (while `failed` is `Some`) the first statement that failed: inside
/// a transaction on PostgreSQL and DuckDB it aborts the transaction.
struct Tracked {
    inner: Box<dyn Backend>,
    failed: Option<Option<Error>>,
}

impl Tracked {
    fn note<T>(&mut self, r: Result<T>) -> Result<T> {
        if let (Err(e), Some(f @ None)) = (&r, self.failed.as_mut()) {
            *f = Some(e.clone());
        }
        r
    }
}

impl Backend for Tracked {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn ensure_connected(&mut self) -> Result<bool> {
        self.inner.ensure_connected()
    }
    fn execute(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<u64> {
        let r = self.inner.execute(sql, params, ctx);
        self.note(r)
    }
    fn query_text(
        &mut self,
        sql: &str,
        params: &[Value],
        ctx: &str,
    ) -> Result<Vec<Vec<Option<String>>>> {
        let r = self.inner.query_text(sql, params, ctx);
        self.note(r)
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        attrs: &[&Attribute],
        ctx: &str,
    ) -> Result<Vec<Column>> {
        let r = self.inner.query(sql, params, attrs, ctx);
        self.note(r)
    }
    fn append(
        &mut self,
        target: Target,
        attrs: &[&Attribute],
        columns: Vec<Column>,
        nrows: usize,
        ctx: &str,
    ) -> Result<u64> {
        let r = self.inner.append(target, attrs, columns, nrows, ctx);
        self.note(r)
    }
}

/// Catalog rows of foreign-key columns grouped per constraint: `id` are the columns of (schema,
/// table, constraint) of the other table, `pair` those of (column, referenced column).
fn group_foreign_keys(
    rows: Vec<Vec<Option<String>>>,
    id: [usize; 3],
    pair: [usize; 2],
) -> Vec<ForeignKey> {
    let mut out: Vec<ForeignKey> = Vec::new();
    let mut ids: Vec<(String, String, String)> = Vec::new();
    for mut r in rows {
        r.resize(5, None);
        let mut g = |i: usize| r[i].take().unwrap_or_default();
        let key = (g(id[0]), g(id[1]), g(id[2]));
        let cols = (g(pair[0]), g(pair[1]));
        match ids.iter().position(|x| *x == key) {
            Some(i) => out[i].columns.push(cols),
            None => {
                out.push(ForeignKey {
                    schema: key.0.clone(),
                    table: key.1.clone(),
                    columns: vec![cols],
                });
                ids.push(key);
            }
        }
    }
    out
}

/// A foreign key that references a table: the referencing table and its (column, referenced
/// column) pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub schema: String,
    pub table: String,
    pub columns: Vec<(String, String)>,
}

/// One table's part of a delete.
pub struct DeleteStep {
    pub schema: String,
    pub table: String,
    pub conditions: Vec<Condition>,
    /// attributes whose deleted values are returned (object references)
    pub returning: Vec<Attribute>,
}
