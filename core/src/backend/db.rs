//! DataJoint's relational operations over any backend: each is SQL text from the compiler
//! ([`crate::sql`]) run through the [`Backend`] primitives, the same on all three backends.

use super::Backend;
use crate::error::{Error, Result};
use crate::heading::{parse_column_comment, Attribute, Heading};
use crate::sql::catalog::{self, CatalogColumn};
use crate::sql::ddl::{self, TableSpec};
use crate::sql::dml::{self, Condition, InsertMode, SelectSpec};
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
    b: Box<dyn Backend>,
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
        Db { b }
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
        self.b.ensure_connected()?;
        let q = self.dialect().session_id_query();
        self.scalar(q, &[], "reading the session id")
    }

    pub fn list_schemas(&mut self) -> Result<Vec<String>> {
        self.b.ensure_connected()?;
        let mut v = self.strings(
            &catalog::list_schemas(self.dialect()),
            &[],
            "listing schemas",
        )?;
        v.sort();
        Ok(v)
    }

    pub fn create_schema(&mut self, name: &str) -> Result<()> {
        self.b.ensure_connected()?;
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
        self.b.ensure_connected()?;
        self.b.execute(
            &ddl::drop_schema(self.dialect(), name),
            &[],
            &format!("dropping schema `{name}`"),
        )?;
        Ok(())
    }

    /// SQL names of the tables in a schema, hidden (`~`) tables excluded, sorted.
    pub fn list_tables(&mut self, schema: &str) -> Result<Vec<String>> {
        self.b.ensure_connected()?;
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
        self.b.ensure_connected()?;
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
        self.b.ensure_connected()?;
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

    pub fn drop_table(&mut self, schema: &str, table: &str) -> Result<()> {
        self.b.ensure_connected()?;
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
        self.b.ensure_connected()?;
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
        self.b.ensure_connected()?;
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
        let mut duck_guard: Option<DuckLock> = None;
        let mut locked = false;
        let res = self.tx(&ctx, |db| {
            let n = db.write_batch(schema, table, &attrs, &names, &pk, cols, nrows, mode, &ctx)?;
            if let Some(f) = before_commit {
                duck_guard = db.object_lock(schema, &ctx)?;
                locked = true;
                f()?;
            }
            Ok(n)
        });
        if locked {
            self.object_unlock(schema, &ctx);
        }
        drop(duck_guard);
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
        self.b.ensure_connected()?;
        let ctx = format!("locking the objects of schema `{schema}`");
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

    pub fn select(&mut self, spec: &SelectSpec) -> Result<Vec<Column>> {
        self.b.ensure_connected()?;
        let ctx = format!("fetching from `{}`.`{}`", spec.schema, spec.table);
        let (sql, params) = dml::select(self.dialect(), spec);
        let attrs: Vec<&Attribute> = spec
            .attrs
            .iter()
            .map(|&i| &spec.heading.attributes[i])
            .collect();
        if attrs.is_empty() {
            // `SELECT 1 …`: runs the restriction (and reports its errors), returns no columns
            self.b.query(&sql, &params, &[&int64_attr("one")], &ctx)?;
            return Ok(Vec::new());
        }
        self.b.query(&sql, &params, &attrs, &ctx)
    }

    pub fn count(&mut self, schema: &str, table: &str, cond: &Condition) -> Result<u64> {
        self.b.ensure_connected()?;
        let ctx = format!("counting rows of `{schema}`.`{table}`");
        let (sql, params) = dml::count(self.dialect(), schema, table, cond);
        Ok(self.scalar(&sql, &params, &ctx)? as u64)
    }

    /// Delete the matching rows in one transaction; returns the count and the deleted rows'
    /// values of the `returning` attributes (used to remove their stored objects afterwards).
    pub fn delete(
        &mut self,
        schema: &str,
        table: &str,
        heading: &Heading,
        cond: &Condition,
        returning: &[usize],
    ) -> Result<(u64, Vec<Column>)> {
        self.b.ensure_connected()?;
        let d = self.dialect();
        let ctx = format!("deleting from `{schema}`.`{table}`");
        self.tx(&ctx, |db| {
            let cols = if returning.is_empty() {
                Vec::new()
            } else {
                let (sql, params) =
                    dml::select_for_delete(d, schema, table, heading, returning, cond);
                let attrs: Vec<&Attribute> =
                    returning.iter().map(|&i| &heading.attributes[i]).collect();
                db.b.query(&sql, &params, &attrs, &ctx)?
            };
            let (sql, params) = dml::delete(d, schema, table, cond);
            let n = db.b.execute(&sql, &params, &ctx)?;
            Ok((n, cols))
        })
    }
}
