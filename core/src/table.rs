//! A table, optionally restricted: insert, fetch, count, delete.

use crate::backend::InsertBatch;
use crate::codecs;
use crate::connection::ConnInner;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::{Attribute, Heading};
use crate::naming::{self, Tier};
use crate::query::{DeleteOptions, DeleteReport, Query, QueryAttr, Restriction};
use crate::sql::dml::{Condition, InsertMode};
use crate::store::{Store, Stores};
use crate::types::AttrType;
use crate::value::{ArrayValue, Column, Converter, Elem, InputColumn, InputData, Value};
use std::sync::Arc;

/// Options of an insert (the reference's `insert` keyword arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InsertOptions {
    /// Rows whose primary key already exists are skipped silently.
    pub skip_duplicates: bool,
    /// Names that are not attributes of the table are ignored instead of being an error.
    pub ignore_extra_fields: bool,
    /// Rows whose primary key already exists replace the existing row.
    pub replace: bool,
    /// Insert into a Computed or Imported table outside its `make` (refused otherwise, as
    /// in the reference).
    pub allow_direct_insert: bool,
}

/// Options of a fetch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchOptions {
    /// Attributes to return (None: all). `"KEY"` stands for the primary key.
    pub attributes: Option<Vec<String>>,
    /// e.g. `"session_date DESC, subject_id"` or `"KEY DESC"`.
    pub order_by: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Return codec columns as stored: JSON metadata (hash, size, path) and in-table bytes,
    /// with no download and no decoding.
    pub raw: bool,
    /// Folder for fetched attachments (default: the `download_path` setting, else `.`).
    pub download_path: Option<String>,
    /// Attachments come back as their metadata, `{"name", "size", "hash"}` (JSON text; `hash`
    /// is null in the table), instead of being downloaded: `<attach@>` reads only the name at
    /// the object's start (one small ranged read).
    pub attachment_info: bool,
}

/// A row (or key): attribute names with values, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub values: Vec<(String, Value)>,
}

impl Row {
    pub fn new() -> Row {
        Row::default()
    }
    /// Set a value, replacing an earlier value of the same name.
    pub fn set(&mut self, name: &str, v: Value) -> &mut Row {
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.values.push((name.to_string(), v)),
        }
        self
    }
    pub fn with(mut self, name: &str, v: impl Into<Value>) -> Row {
        self.set(name, v.into());
        self
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

/// Columnar fetch result.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    pub attributes: Vec<Attribute>,
    pub columns: Vec<Column>,
    pub nrows: usize,
}

impl ResultSet {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a.name == name)
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.column_index(name).map(|i| &self.columns[i])
    }
    /// Row i as a [`Row`] (convenient, not fast).
    pub fn row(&self, i: usize) -> Row {
        Row {
            values: self
                .attributes
                .iter()
                .zip(&self.columns)
                .map(|(a, c)| (a.name.clone(), c.value(i)))
                .collect(),
        }
    }
}

/// (attribute, origin `schema.table.attribute`) of a table's `~lineage` rows
type Lineage = Vec<(String, String)>;

#[derive(Clone)]
pub struct Table {
    conn: Arc<ConnInner>,
    schema: String,
    name: String,
    heading: Arc<Heading>,
    restrictions: Vec<Condition>,
    /// `~lineage` rows, read on first use by a query (None: the schema has no `~lineage`)
    lineage: Arc<std::sync::OnceLock<Option<Lineage>>>,
    /// a Computed/Imported table's own key source (None: the join of its primary parents)
    pub(crate) key_source: Option<Arc<Query>>,
}

impl Table {
    pub(crate) fn new(conn: Arc<ConnInner>, schema: &str, name: &str, heading: Heading) -> Table {
        Table {
            conn,
            schema: schema.to_string(),
            name: name.to_string(),
            heading: Arc::new(heading),
            restrictions: Vec::new(),
            lineage: Arc::new(std::sync::OnceLock::new()),
            key_source: None,
        }
    }

    /// Open `schema`.`sql_name` (its heading read from the catalog).
    pub(crate) fn open(conn: Arc<ConnInner>, schema: &str, sql_name: &str) -> Result<Table> {
        let heading = conn
            .with(|b| b.read_heading(schema, sql_name))?
            .ok_or_else(|| {
                Error::not_found(format!("table `{schema}`.`{sql_name}` does not exist"))
            })?;
        Ok(Table::new(conn, schema, sql_name, heading))
    }

    pub(crate) fn conn_arc(&self) -> &Arc<ConnInner> {
        &self.conn
    }

    pub(crate) fn conn(&self) -> &ConnInner {
        &self.conn
    }

    /// The table as a query expression (with its restrictions), for the algebra.
    pub fn query(&self) -> Result<Query> {
        let lineage = match self.lineage.get() {
            Some(l) => l.clone(),
            None => {
                let l = self
                    .conn
                    .with(|b| b.lineages_if_tracked(&self.schema, &self.name))?;
                let _ = self.lineage.set(l.clone());
                l
            }
        };
        Ok(self.query_with(lineage))
    }

    /// The query of a fetch, count or delete, which matches nothing by name: no lineage
    /// needed (and none read).
    fn terminal(&self) -> Query {
        self.query_with(self.lineage.get().cloned().flatten())
    }

    fn query_with(&self, lineage: Option<Lineage>) -> Query {
        let attrs = self
            .heading
            .attributes
            .iter()
            .map(|a| QueryAttr {
                attr: a.clone(),
                lineage: lineage
                    .as_ref()
                    .and_then(|l| l.iter().find(|(n, _)| *n == a.name).map(|(_, o)| o.clone())),
            })
            .collect();
        Query::new_table(
            self.conn.clone(),
            &self.schema,
            &self.name,
            attrs,
            lineage.is_some(),
            self.restrictions.clone(),
        )
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }
    /// SQL table name (with the tier prefix).
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn full_name(&self) -> String {
        format!("`{}`.`{}`", self.schema, self.name)
    }
    pub fn class_name(&self) -> String {
        let parts: Vec<String> = self
            .name
            .trim_start_matches(['#', '_'])
            .split("__")
            .map(naming::to_camel_case)
            .collect();
        parts.join(".")
    }
    pub fn tier(&self) -> Option<Tier> {
        naming::tier_of(&self.name)
    }
    pub fn heading(&self) -> &Heading {
        &self.heading
    }
    pub fn is_restricted(&self) -> bool {
        !self.restrictions.is_empty()
    }

    pub(crate) fn condition(&self) -> Condition {
        match self.restrictions.len() {
            0 => Condition::True,
            1 => self.restrictions[0].clone(),
            _ => Condition::And(self.restrictions.clone()),
        }
    }

    fn restricted(&self, c: Condition) -> Table {
        let mut t = self.clone();
        t.restrictions.push(c);
        t
    }

    /// Delete the matching rows of this table alone, with one statement: no cascade and no
    /// object clean-up (for tables that hold neither, such as a jobs table). Returns the count.
    pub(crate) fn delete_quick(&self) -> Result<u64> {
        let d = self.conn.with(|b| Ok(b.dialect()))?;
        let (sql, params) =
            crate::sql::query::delete(d, &self.schema, &self.name, &[self.condition()]);
        let ctx = format!("deleting from {}", self.full_name());
        self.conn.with(|b| b.execute(&sql, &params, &ctx))
    }

    /// Restrict by any restriction (SQL, keys, lists, Not, another query, …).
    pub fn restrict(&self, r: &Restriction) -> Result<Table> {
        self.restrict_with(r, true)
    }

    /// [`Table::restrict`]; with `semantic_check` false, a restriction by a query matches
    /// all namesakes whatever their lineage.
    pub fn restrict_with(&self, r: &Restriction, semantic_check: bool) -> Result<Table> {
        if let Restriction::Top(_) = r {
            return Err(Error::invalid_arg(
                "a table cannot be restricted by Top (restrict its query instead)",
            ));
        }
        // only a restriction by a query matches names (and needs the lineage)
        let q = if r.has_query() {
            self.query()?
        } else {
            self.terminal()
        };
        let c = q.condition_of(r, semantic_check)?;
        Ok(if c == Condition::True {
            self.clone()
        } else {
            self.restricted(c)
        })
    }

    /// Rows that do not match `r`.
    pub fn exclude(&self, r: &Restriction) -> Result<Table> {
        self.restrict(&Restriction::Not(Box::new(r.clone())))
    }

    /// Restrict to rows matching a key (attribute → value).
    pub fn restrict_key(&self, key: &Row) -> Result<Table> {
        self.restrict(&Restriction::Key(key.clone()))
    }

    /// Restrict to rows matching any of the keys (OR). An empty list matches nothing.
    pub fn restrict_keys(&self, keys: &[Row]) -> Result<Table> {
        self.restrict(&Restriction::keys(keys))
    }

    /// Restrict by an SQL condition, used verbatim.
    pub fn restrict_sql(&self, condition: &str) -> Result<Table> {
        self.restrict(&Restriction::Sql(condition.to_string()))
    }

    /// Negated restriction by an SQL condition.
    pub fn exclude_sql(&self, condition: &str) -> Result<Table> {
        self.exclude(&Restriction::Sql(condition.to_string()))
    }

    pub fn exclude_key(&self, key: &Row) -> Result<Table> {
        self.exclude(&Restriction::Key(key.clone()))
    }

    // ---------- insert ----------

    /// Insert one row.
    pub fn insert1(&self, row: &Row, opts: InsertOptions) -> Result<u64> {
        self.insert_rows(std::slice::from_ref(row), opts)
    }

    /// Insert rows (all with the same attribute names) as one transaction.
    pub fn insert_rows(&self, rows: &[Row], opts: InsertOptions) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let names: Vec<&str> = rows[0].values.iter().map(|(n, _)| n.as_str()).collect();
        for (k, r) in rows.iter().enumerate().skip(1) {
            if r.values.len() != names.len()
                || r.values.iter().any(|(n, _)| !names.contains(&n.as_str()))
            {
                return Err(Error::invalid_arg(format!(
                    "{}: row {k} has other attributes than row 0 (all rows must have the same attributes)",
                    self.full_name()
                )));
            }
        }
        let elem = |pos: usize, k: usize| -> Result<Elem> {
            let v = if k == 0 {
                &rows[0].values[pos].1
            } else {
                rows[k].get(names[pos]).unwrap_or(&Value::Null)
            };
            Ok(v.as_elem())
        };
        self.insert_impl(&names, rows.len(), &elem, opts, None)
    }

    /// Update one existing row (the reference's `update1`): `row` holds the full primary key
    /// and the attributes to change; NULL resets an attribute to its default. Codec values are
    /// encoded as on insert and the row's old objects are removed after the commit.
    pub fn update1(&self, row: &Row) -> Result<()> {
        let tname = self.full_name();
        if self.is_restricted() {
            return Err(Error::invalid_arg(format!(
                "{tname}: update1 cannot be used on a restricted table"
            )));
        }
        for a in self.heading.primary_key() {
            if row.get(&a.name).is_none_or(|v| matches!(v, Value::Null)) {
                return Err(Error::invalid_arg(format!(
                    "{tname}: update1 needs the whole primary key; '{}' is not given",
                    a.name
                )));
            }
        }
        let mut values = Row::new();
        let mut defaults = Vec::new();
        for (n, v) in &row.values {
            let a = self.heading.get(n).ok_or_else(|| {
                Error::new(
                    ErrorCode::UnknownAttribute,
                    format!("{tname} has no attribute '{n}'"),
                )
            })?;
            if a.in_key || !matches!(v, Value::Null) {
                values.set(n, v.clone());
            } else if a.default.is_none() && !a.nullable {
                return Err(Error::invalid_arg(format!(
                    "{tname}: attribute '{n}' has no default and is not nullable; it cannot be reset to NULL"
                )));
            } else {
                defaults.push(n.clone());
            }
        }
        if values.values.len() + defaults.len() == self.heading.primary_key().count() {
            return Err(Error::invalid_arg(format!(
                "{tname}: update1 was given no attribute to change"
            )));
        }
        let names: Vec<&str> = values.values.iter().map(|(n, _)| n.as_str()).collect();
        let elem = |pos: usize, _k: usize| -> Result<Elem> { Ok(values.values[pos].1.as_elem()) };
        self.insert_impl(&names, 1, &elem, InsertOptions::default(), Some(&defaults))
            .map(|_| ())
    }

    /// Insert typed columns (the fast path). All columns must have `nrows` values.
    pub fn insert_columns(
        &self,
        cols: &[InputColumn],
        nrows: usize,
        opts: InsertOptions,
    ) -> Result<u64> {
        let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
        let tname = self.full_name();
        for c in cols {
            let n = c.data.checked_len(c.name)?;
            if n != nrows {
                return Err(Error::invalid_arg(format!(
                    "{tname}: column '{}' has {n} values, expected {nrows}",
                    c.name
                )));
            }
            if let Some(v) = c.validity {
                if v.len() < nrows {
                    return Err(Error::invalid_arg(format!(
                        "{tname}: validity of column '{}' has {} entries, expected {nrows}",
                        c.name,
                        v.len()
                    )));
                }
            }
        }
        let elem = |pos: usize, i: usize| -> Result<Elem> {
            let c = &cols[pos];
            if c.validity.is_some_and(|v| v[i] == 0) {
                Ok(Elem::Null)
            } else {
                c.data.elem(c.name, i)
            }
        };
        self.insert_impl(&names, nrows, &elem, opts, None)
    }

    /// Insert owned columns (name, column).
    pub fn insert_owned_columns(
        &self,
        cols: &[(String, Column)],
        opts: InsertOptions,
    ) -> Result<u64> {
        let nrows = cols.first().map(|(_, c)| c.len()).unwrap_or(0);
        let inputs: Vec<InputColumn> = cols
            .iter()
            .map(|(n, c)| InputColumn {
                name: n,
                data: InputData::from_column(&c.data),
                validity: c.validity.as_deref(),
            })
            .collect();
        self.insert_columns(&inputs, nrows, opts)
    }

    /// The one insert path: validate every plain value first, then write codec values to their
    /// stores, then insert the batch in one transaction. Objects written for a batch that does
    /// not commit are deleted again.
    /// `update`: one row updated instead (with the attributes reset to their defaults).
    fn insert_impl<'e>(
        &self,
        names: &[&str],
        nrows: usize,
        elem: &dyn Fn(usize, usize) -> Result<Elem<'e>>,
        opts: InsertOptions,
        update: Option<&[String]>,
    ) -> Result<u64> {
        let plan = self.plan_columns(names, opts, update.is_some())?;
        let tname = self.full_name();
        let is_codec =
            |idx: usize| matches!(self.heading.attributes[idx].ty, AttrType::Codec { .. });
        let mut columns = Vec::with_capacity(plan.len());
        for &(pos, idx) in plan.iter().filter(|(_, idx)| !is_codec(*idx)) {
            let attr = &self.heading.attributes[idx];
            let mut conv = Converter::new(&tname, attr, nrows);
            for k in 0..nrows {
                conv.push(elem(pos, k)?, Some(k))?;
            }
            columns.push((idx, conv.finish()));
        }
        self.check_finite(&columns)?;
        let codec_plan: Vec<(usize, usize)> = plan
            .iter()
            .copied()
            .filter(|(_, idx)| is_codec(*idx))
            .collect();
        if codec_plan.is_empty() {
            return match update {
                Some(defaults) => self.run_update(columns, defaults, None),
                None => self.run_insert(columns, nrows, opts, None),
            };
        }
        // Codec values: check and encode them all before writing anything. `<npy@>` paths
        // need the primary key, so those arrays are only checked here.
        enum Pending<'a> {
            Npy(&'a ArrayValue),
            /// an `<object@>` source and the extension of its path
            Object(codecs::object::Source<'a>, Option<String>),
            /// finished column JSON (`<filepath@>`; `<object@>` metadata passed through)
            Json(String),
            Todo(Elem<'a>),
            Ready(codecs::Encoded),
        }
        let mut pending: Vec<Vec<Option<Pending>>> = Vec::new();
        for &(pos, idx) in &codec_plan {
            let attr = &self.heading.attributes[idx];
            let AttrType::Codec { name, store } = &attr.ty else {
                unreachable!()
            };
            codecs::check_writable(name, &attr.name).map_err(|e| e.context(&tname))?;
            let store = match store {
                Some(s) => Some(
                    if name == "filepath" {
                        self.conn.stores.get_filepath(s)
                    } else {
                        self.conn.stores.get(s)
                    }
                    .map_err(|e| e.context(format!("{tname}, attribute '{}'", attr.name)))?,
                ),
                None => None,
            };
            let bad = |k: usize, m: String| {
                Error::type_err(format!(
                    "{tname}, attribute '{}' ({}) (row {k}): {m}",
                    attr.name, attr.declared_type
                ))
            };
            let mut col = Vec::with_capacity(nrows);
            for k in 0..nrows {
                let e = elem(pos, k)?;
                if let Elem::Null = e {
                    if !attr.nullable {
                        return Err(bad(
                            k,
                            "NULL is not allowed (the attribute is not nullable)".into(),
                        ));
                    }
                    col.push(None);
                    continue;
                }
                if name == "object" || name == "filepath" {
                    use codecs::object::{check_source, ObjectMeta, Source};
                    let store = store.as_ref().ok_or_else(|| Error::internal("no store"))?;
                    let p = match (name.as_str(), e) {
                        ("filepath", Elem::Str(path)) => Pending::Json(
                            codecs::filepath::describe(store, path)
                                .map_err(|er| {
                                    er.context(format!(
                                        "{tname}, attribute '{}' (row {k})",
                                        attr.name
                                    ))
                                })?
                                .to_filepath_json(),
                        ),
                        ("object", Elem::Json(j)) => {
                            ObjectMeta::from_json(j).map_err(|er| bad(k, er.message))?;
                            Pending::Json(j.to_string())
                        }
                        ("object", Elem::Str(path)) => {
                            let src = Source::Path(path);
                            let (_, ext) = check_source(&src).map_err(|m| bad(k, m))?;
                            Pending::Object(src, ext)
                        }
                        ("object", Elem::Bytes(b)) => Pending::Object(Source::Bytes(b), None),
                        ("object", Elem::Attach(ext, b)) => Pending::Object(
                            Source::Bytes(b.as_ref()),
                            Some(ext.to_string()).filter(|x| !x.is_empty()),
                        ),
                        ("filepath", other) => {
                            return Err(bad(
                                k,
                                format!(
                                    "expects the path of a file in the store, got {}",
                                    codecs::other_kind(&other)
                                ),
                            ))
                        }
                        (_, other) => {
                            return Err(bad(
                                k,
                                format!(
                                    "expects a file or folder path, bytes, or (extension, bytes), got {}",
                                    codecs::other_kind(&other)
                                ),
                            ))
                        }
                    };
                    col.push(Some(p));
                    continue;
                }
                col.push(Some(if name == "npy" {
                    match e {
                        Elem::Array(a) => {
                            a.validate().map_err(|m| bad(k, m))?;
                            Pending::Npy(a)
                        }
                        other => {
                            return Err(bad(
                                k,
                                format!(
                                    "expects an array, got {}",
                                    match other {
                                        Elem::Str(_) | Elem::Json(_) | Elem::Decimal(_) => "text",
                                        Elem::Bytes(_) => "bytes",
                                        _ => "a scalar",
                                    }
                                ),
                            ))
                        }
                    }
                } else {
                    Pending::Todo(e)
                }));
            }
            // pack, read and hash the values on every core
            let todo: Vec<(usize, Elem)> = col
                .iter()
                .enumerate()
                .filter_map(|(k, p)| match p {
                    Some(Pending::Todo(e)) => Some((k, *e)),
                    _ => None,
                })
                .collect();
            let elems: Vec<Elem> = todo.iter().map(|(_, e)| *e).collect();
            let done = codecs::encode_all(attr, store.as_ref(), &self.schema, &elems);
            for ((k, _), enc) in todo.iter().zip(done) {
                col[*k] = Some(Pending::Ready(enc.map_err(|m| bad(*k, m))?));
            }
            pending.push(col);
        }
        // The primary key of every row, for the object paths.
        let pk: Vec<(usize, &Column)> = self
            .heading
            .attributes
            .iter()
            .enumerate()
            .filter(|(_, a)| a.in_key)
            .map(|(i, a)| {
                columns
                    .iter()
                    .find(|(idx, _)| *idx == i)
                    .map(|(_, c)| (i, c))
                    .ok_or_else(|| {
                        Error::invalid_arg(format!(
                            "{tname}: primary-key attribute '{}' is missing",
                            a.name
                        ))
                    })
            })
            .collect::<Result<_>>()?;
        let keys: Vec<Vec<(String, AttrType, Value)>> = (0..nrows)
            .map(|k| {
                pk.iter()
                    .map(|(i, c)| {
                        let a = &self.heading.attributes[*i];
                        (a.name.clone(), a.ty.clone(), c.value(k))
                    })
                    .collect()
            })
            .collect();
        drop(pk);
        let key_of = |k: usize| -> &[(String, AttrType, Value)] { &keys[k] };
        let key_row = |k: usize| Row {
            values: key_of(k)
                .iter()
                .map(|(n, _, v)| (n.clone(), v.clone()))
                .collect(),
        };
        // Rows whose key exists are left out entirely when skipping (nothing is uploaded for
        // them); when replacing, the objects of the replaced rows are released after the commit.
        let existing: Vec<ResultSet> = if opts.skip_duplicates || opts.replace || update.is_some() {
            let keys: Vec<Row> = (0..nrows).map(key_row).collect();
            let mut found = Vec::new();
            for chunk in keys.chunks(500) {
                let mut attrs = self.heading.primary_key_names();
                if opts.replace || update.is_some() {
                    attrs.extend(
                        codec_plan
                            .iter()
                            .map(|(_, idx)| self.heading.attributes[*idx].name.clone()),
                    );
                }
                found.push(self.restrict_keys(chunk)?.fetch_stored(&FetchOptions {
                    attributes: Some(attrs),
                    ..Default::default()
                })?);
            }
            found
        } else {
            Vec::new()
        };
        if update.is_some() && existing.iter().all(|rs| rs.nrows == 0) {
            return Err(Error::not_found(format!(
                "{tname}: update1 found no row with this primary key"
            )));
        }
        let mut keep: Vec<bool> = vec![true; nrows];
        let mut replaced = StoredObjects::default();
        if !existing.is_empty() {
            let existing_keys: std::collections::HashSet<Vec<String>> = existing
                .iter()
                .flat_map(|rs| (0..rs.nrows).map(move |i| key_strings(rs, i, &self.heading)))
                .collect();
            for (k, keep_k) in keep.iter_mut().enumerate() {
                let ks: Vec<String> = key_of(k).iter().map(|(_, _, v)| format!("{v:?}")).collect();
                if existing_keys.contains(&ks) && opts.skip_duplicates {
                    *keep_k = false;
                }
            }
            if opts.replace || update.is_some() {
                for rs in &existing {
                    for (i, a) in rs.attributes.iter().enumerate() {
                        replaced.collect(a, &rs.columns[i]);
                    }
                }
            }
            // Within the batch, a repeated key keeps its first row when skipping and its last
            // row when replacing; the other rows are not written at all.
            let mut seen = std::collections::HashSet::new();
            let order: Vec<usize> = if opts.replace {
                (0..nrows).rev().collect()
            } else {
                (0..nrows).collect()
            };
            for k in order {
                let ks: Vec<String> = key_of(k).iter().map(|(_, _, v)| format!("{v:?}")).collect();
                if keep[k] && !seen.insert(ks) {
                    keep[k] = false;
                }
            }
        }
        let kept: Vec<usize> = (0..nrows).filter(|&k| keep[k]).collect();
        if kept.is_empty() {
            return Ok(0);
        }
        let mut columns: Vec<(usize, Column)> = columns
            .into_iter()
            .map(|(i, c)| (i, c.take(&kept)))
            .collect();
        // schema-addressed objects of the batch: (store, path, may be a folder)
        let mut written: Vec<(Arc<Store>, String, bool)> = Vec::new();
        let mut jobs: Vec<(Arc<Store>, String, Vec<bytes::Bytes>)> = Vec::new();
        // hash objects of the batch, once each: (store, path, parts)
        let mut hashed: Vec<(Arc<Store>, String, Vec<bytes::Bytes>)> = Vec::new();
        let mut uploaded: Vec<(Arc<Store>, String)> = Vec::new();
        let result = (|| -> Result<u64> {
            let mut seen_hash = std::collections::HashSet::new();
            for (j, &(_, idx)) in codec_plan.iter().enumerate() {
                let attr = &self.heading.attributes[idx];
                let AttrType::Codec {
                    name,
                    store: declared,
                } = &attr.ty
                else {
                    unreachable!()
                };
                let store_codec = matches!(name.as_str(), "npy" | "object" | "filepath");
                if !store_codec && declared.is_none() {
                    // in-table bytes (`<blob>`, `<attach>`)
                    let mut v = crate::value::VarData::with_capacity(kept.len(), 0);
                    let mut validity = Vec::with_capacity(kept.len());
                    for &k in &kept {
                        match &pending[j][k] {
                            Some(Pending::Ready(codecs::Encoded::InTable(b))) => {
                                v.push(b);
                                validity.push(1);
                            }
                            _ => {
                                v.push(b"");
                                validity.push(0);
                            }
                        }
                    }
                    let has_null = validity.contains(&0);
                    columns.push((
                        idx,
                        Column {
                            data: crate::value::ColumnData::Bytes(v),
                            validity: has_null.then_some(validity),
                        },
                    ));
                    continue;
                }
                let declared = declared.as_deref().unwrap_or("");
                let store = if name == "filepath" {
                    self.conn.stores.get_filepath(declared)?
                } else {
                    self.conn.stores.get(declared)?
                };
                let mut conv = Converter::new(&tname, attr, kept.len());
                for &k in &kept {
                    match pending[j][k].take() {
                        None => conv.push(Elem::Null, Some(k))?,
                        Some(Pending::Npy(a)) => {
                            let (meta, parts) = codecs::npy::prepare(
                                &store,
                                &self.schema,
                                &self.name,
                                key_of(k),
                                &attr.name,
                                a,
                            )
                            .map_err(|e| e.context(format!("{tname}, row {k}")))?;
                            written.push((store.clone(), meta.path.clone(), false));
                            jobs.push((store.clone(), meta.path.clone(), parts));
                            conv.push(Elem::Json(&meta.to_json()), Some(k))?;
                        }
                        Some(Pending::Json(j)) => conv.push(Elem::Json(&j), Some(k))?,
                        Some(Pending::Object(src, ext)) => {
                            let path = crate::objpath::build_object_path(
                                &store.spec,
                                &self.schema,
                                &self.name,
                                key_of(k),
                                &attr.name,
                                &codecs::object::path_ext(ext.as_deref()),
                            );
                            written.push((store.clone(), path.clone(), true));
                            let meta = codecs::object::upload(&store, &path, &src, ext, None)
                                .map_err(|e| {
                                    e.context(format!(
                                        "{tname}, attribute '{}', row {k}",
                                        attr.name
                                    ))
                                })?;
                            conv.push(Elem::Json(&meta.to_json()), Some(k))?;
                        }
                        Some(Pending::Ready(codecs::Encoded::Hashed(p))) => {
                            conv.push(Elem::Json(&p.meta.to_json()), Some(k))?;
                            if seen_hash.insert((p.meta.store.clone(), p.meta.path.clone())) {
                                hashed.push((store.clone(), p.meta.path, p.parts));
                            }
                        }
                        Some(Pending::Ready(codecs::Encoded::InTable(_)))
                        | Some(Pending::Todo(_)) => {
                            return Err(Error::internal("unencoded value for a store codec"))
                        }
                    }
                }
                columns.push((idx, conv.finish()));
            }
            // Objects first (concurrently; hash objects only when missing), then the rows in
            // one transaction that checks, under the schema's object lock, that every hash
            // object is still there (a concurrent delete may have removed a shared one).
            let upload_missing = |uploaded: &mut Vec<(Arc<Store>, String)>| -> Result<()> {
                let there = Store::exist_all(
                    hashed
                        .iter()
                        .map(|(s, p, _)| (s.clone(), p.clone()))
                        .collect(),
                )?;
                let missing: Vec<_> = hashed
                    .iter()
                    .zip(there)
                    .filter(|(_, t)| !t)
                    .map(|((s, p, parts), _)| (s.clone(), p.clone(), parts.clone()))
                    .collect();
                uploaded.extend(missing.iter().map(|(s, p, _)| (s.clone(), p.clone())));
                Store::put_all(missing)
            };
            if !hashed.is_empty() {
                upload_missing(&mut uploaded)?;
            }
            Store::put_all(std::mem::take(&mut jobs))?;
            if hashed.is_empty() {
                return match update {
                    Some(defaults) => self.run_update(columns, defaults, None),
                    None => self.run_insert(columns, kept.len(), opts, None),
                };
            }
            let mut again = Vec::new();
            let mut check = || upload_missing(&mut again);
            let n = match update {
                Some(defaults) => self.run_update(columns, defaults, Some(&mut check)),
                None => self.run_insert(columns, kept.len(), opts, Some(&mut check)),
            };
            uploaded.extend(again);
            n
        })();
        match result {
            Ok(n) => {
                if self.conn.in_transaction() {
                    self.conn.added_objects(
                        &self.schema,
                        StoredObjects {
                            schema_addressed: written
                                .iter()
                                .map(|(s, p, t)| (s.name().to_string(), p.clone(), *t))
                                .collect(),
                            hashed: uploaded
                                .iter()
                                .map(|(s, p)| (s.name().to_string(), p.clone()))
                                .collect(),
                        },
                    );
                }
                self.conn.release_objects(&self.schema, replaced);
                Ok(n)
            }
            Err(e) => {
                for (store, path, tree) in written {
                    let _ = if tree {
                        store.delete_tree(&path)
                    } else {
                        store.delete(&path)
                    };
                }
                // new hash objects go again unless another row now shares them
                StoredObjects {
                    schema_addressed: Vec::new(),
                    hashed: uploaded
                        .into_iter()
                        .map(|(s, p)| (s.name().to_string(), p))
                        .collect(),
                }
                .release(&self.conn, &self.schema);
                Err(e)
            }
        }
    }

    /// Map input names to attribute indexes: (position in input, attribute index).
    fn plan_columns(
        &self,
        names: &[&str],
        opts: InsertOptions,
        update: bool,
    ) -> Result<Vec<(usize, usize)>> {
        if self.is_restricted() {
            return Err(Error::invalid_arg(format!(
                "{}: cannot insert into a restricted table",
                self.full_name()
            )));
        }
        if !update
            && !opts.allow_direct_insert
            && matches!(self.tier(), Some(Tier::Computed | Tier::Imported))
            && !self.conn.making(&self.schema, &self.name)
        {
            return Err(Error::new(
                ErrorCode::NotAllowed,
                format!(
                    "{}: inserts into a Computed or Imported table are made by its make() \
                     during populate; to insert directly, set allow_direct_insert",
                    self.full_name()
                ),
            ));
        }
        if opts.replace && opts.skip_duplicates {
            return Err(Error::invalid_arg(
                "replace and skip_duplicates cannot both be set",
            ));
        }
        let mut plan = Vec::with_capacity(names.len());
        for (pos, n) in names.iter().enumerate() {
            if names[..pos].contains(n) {
                return Err(Error::invalid_arg(format!(
                    "{}: attribute '{n}' is given twice",
                    self.full_name()
                )));
            }
            match self.heading.index_of(n) {
                Some(idx) => plan.push((pos, idx)),
                None if opts.ignore_extra_fields => {}
                None => {
                    return Err(Error::new(
                        ErrorCode::UnknownAttribute,
                        format!(
                            "{} has no attribute '{n}' (attributes: {})",
                            self.full_name(),
                            self.heading.names().join(", ")
                        ),
                    ))
                }
            }
        }
        for a in &self.heading.attributes {
            let given = plan
                .iter()
                .any(|(_, idx)| self.heading.attributes[*idx].name == a.name);
            let generated = matches!(&a.ty, AttrType::Native(n) if n.is_auto_increment());
            if !given && a.default.is_none() && !a.nullable && !generated && !update {
                return Err(Error::invalid_arg(format!(
                    "{}: attribute '{}' is missing and has no default",
                    self.full_name(),
                    a.name
                )));
            }
        }
        Ok(plan)
    }

    /// The UPDATE of [`Table::update1`]: one row by its key, which must exist.
    fn run_update(
        &self,
        columns: Vec<(usize, Column)>,
        defaults: &[String],
        before_commit: Option<&mut dyn FnMut() -> Result<()>>,
    ) -> Result<u64> {
        let mut key = Vec::new();
        let mut set = Vec::new();
        for (i, c) in columns {
            let a = &self.heading.attributes[i];
            if a.in_key {
                key.push(Condition::Eq(a.clone(), c.value(0)));
            } else {
                set.push((a.clone(), c.value(0)));
            }
        }
        let n = self.conn.with(|b| {
            b.update_row(
                &self.schema,
                &self.name,
                &set,
                defaults,
                &key,
                before_commit,
            )
        })?;
        if n == 0 {
            return Err(Error::not_found(format!(
                "{}: update1 found no row with this primary key",
                self.full_name()
            )));
        }
        Ok(n)
    }

    fn run_insert(
        &self,
        columns: Vec<(usize, Column)>,
        nrows: usize,
        opts: InsertOptions,
        before_commit: Option<&mut dyn FnMut() -> Result<()>>,
    ) -> Result<u64> {
        let mode = if opts.replace {
            InsertMode::Replace
        } else if opts.skip_duplicates {
            InsertMode::SkipDuplicates
        } else {
            InsertMode::Error
        };
        let (columns, nrows) = if mode == InsertMode::Error {
            (columns, nrows)
        } else {
            self.dedup_batch(columns, nrows, mode == InsertMode::Replace)
        };
        let batch = InsertBatch {
            schema: &self.schema,
            table: &self.name,
            heading: &self.heading,
            columns,
            nrows,
        };
        self.conn
            .with(move |b| b.insert_checked(batch, mode, before_commit))
    }

    /// Within one batch a repeated primary key keeps its first row when skipping (like INSERT
    /// IGNORE) and its last row when replacing (like REPLACE); the other rows are not sent.
    fn dedup_batch(
        &self,
        columns: Vec<(usize, Column)>,
        nrows: usize,
        keep_last: bool,
    ) -> (Vec<(usize, Column)>, usize) {
        let key_cols: Vec<&Column> = columns
            .iter()
            .filter(|(i, _)| self.heading.attributes[*i].in_key)
            .map(|(_, c)| c)
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut keep = vec![false; nrows];
        let order: Box<dyn Iterator<Item = usize>> = if keep_last {
            Box::new((0..nrows).rev())
        } else {
            Box::new(0..nrows)
        };
        for k in order {
            let key: Vec<String> = key_cols
                .iter()
                .map(|c| format!("{:?}", c.value(k)))
                .collect();
            keep[k] = seen.insert(key);
        }
        if keep.iter().all(|&k| k) {
            return (columns, nrows);
        }
        let kept: Vec<usize> = (0..nrows).filter(|&k| keep[k]).collect();
        let n = kept.len();
        (
            columns
                .into_iter()
                .map(|(i, c)| (i, c.take(&kept)))
                .collect(),
            n,
        )
    }

    /// MySQL cannot store ±inf: refuse it before anything (objects included) is written.
    fn check_finite(&self, columns: &[(usize, Column)]) -> Result<()> {
        if self.conn.with(|b| Ok(b.dialect().stores_infinity()))? {
            return Ok(());
        }
        for (idx, c) in columns {
            let bad = match &c.data {
                crate::value::ColumnData::Float32(v) => v.iter().position(|f| f.is_infinite()),
                crate::value::ColumnData::Float64(v) => v.iter().position(|f| f.is_infinite()),
                _ => None,
            };
            if let Some(row) = bad.filter(|&r| !c.is_null(r)) {
                let a = &self.heading.attributes[*idx];
                return Err(Error::type_err(format!(
                    "{}, attribute '{}' ({}) (row {row}): {} cannot be stored by MySQL/MariaDB",
                    self.full_name(),
                    a.name,
                    a.declared_type,
                    match c.value(row) {
                        Value::Float(f) => format!("{f}"),
                        _ => "inf".into(),
                    }
                )));
            }
        }
        Ok(())
    }

    // ---------- fetch ----------

    /// Fetch the matching rows (see [`Query::fetch`]).
    pub fn fetch(&self, opts: &FetchOptions) -> Result<ResultSet> {
        self.terminal().fetch(opts)
    }

    /// Fetch the values as the database stores them (codec columns undecoded).
    fn fetch_stored(&self, opts: &FetchOptions) -> Result<ResultSet> {
        self.terminal().fetch_stored(opts)
    }

    /// Fetch exactly one row: `NotFound` for none, `NotUnique` for more than one.
    pub fn fetch1(&self, opts: &FetchOptions) -> Result<ResultSet> {
        self.terminal().fetch1(opts)
    }

    /// Primary-key attributes of the matching rows.
    pub fn keys(&self, opts: &FetchOptions) -> Result<ResultSet> {
        self.terminal().keys(opts)
    }

    pub fn count(&self) -> Result<u64> {
        self.terminal().count()
    }

    /// Delete the matching rows and, cascading down the foreign keys, every row that depends
    /// on them, in one transaction; then their objects. Returns the rows deleted from this
    /// table. Part rows may only go with their master's ([`PartIntegrity::Enforce`]).
    pub fn delete(&self) -> Result<u64> {
        Ok(self.delete_with(&DeleteOptions::default())?.root_count())
    }

    /// Cascading delete with options; the count per table (or, for a dry run, the counts a
    /// delete would have).
    pub fn delete_with(&self, opts: &DeleteOptions) -> Result<DeleteReport> {
        crate::query::delete::delete(self, opts)
    }

    /// The `~lineage` of the table's attributes: (attribute, origin `schema.table.attribute`),
    /// in heading order; attributes without lineage (secondary ones) are left out.
    pub fn lineage(&self) -> Result<Vec<(String, String)>> {
        let rows = self.conn.with(|b| b.lineages(&self.schema, &self.name))?;
        Ok(self
            .heading
            .attributes
            .iter()
            .filter_map(|a| rows.iter().find(|(n, _)| *n == a.name).cloned())
            .collect())
    }

    /// The object stores of this table's connection.
    pub fn stores(&self) -> Arc<Stores> {
        self.conn.stores.clone()
    }

    /// The lazy reference to an `<npy@>` value of a fetched row (no I/O).
    pub fn npyref(&self, rs: &ResultSet, column: &str, row: usize) -> Result<codecs::npy::NpyRef> {
        npyref_of(rs, column, row, self.stores())
    }

    /// The lazy reference to an `<object@>` or `<filepath@>` value of a fetched row (no I/O).
    pub fn objectref(
        &self,
        rs: &ResultSet,
        column: &str,
        row: usize,
    ) -> Result<codecs::object::ObjectRef> {
        objectref_of(rs, column, row, self.stores())
    }

    /// Begin a staged insert of one row (see [`crate::staged::StagedInsert`]).
    pub fn staged_insert1(&self) -> Result<crate::staged::StagedInsert> {
        crate::staged::StagedInsert::begin(self)
    }

    /// The primary-key values of `row`, converted to the attributes' types, in key order.
    pub(crate) fn key_values(&self, row: &Row) -> Result<Vec<(String, AttrType, Value)>> {
        let tname = self.full_name();
        self.heading
            .primary_key()
            .map(|a| {
                let v = row.get(&a.name).filter(|v| !matches!(v, Value::Null)).ok_or_else(|| {
                    Error::invalid_arg(format!(
                        "{tname}: primary-key attribute '{}' is not set (set the whole primary key first)",
                        a.name
                    ))
                })?;
                let mut conv = Converter::new(&tname, a, 1);
                conv.push(v.as_elem(), Some(0))?;
                Ok((a.name.clone(), a.ty.clone(), conv.finish().value(0)))
            })
            .collect()
    }

    /// Drop the table and every table that depends on it, dependents first. Their stored
    /// objects stay for [`crate::gc`] (as in the reference).
    pub fn drop(&self) -> Result<()> {
        if self.is_restricted() {
            return Err(Error::invalid_arg("cannot drop a restricted table"));
        }
        for (s, t) in crate::query::delete::dependents(&self.conn, &self.schema, &self.name)?
            .into_iter()
            .rev()
        {
            self.conn.with(|b| b.drop_table(&s, &t))?;
        }
        Ok(())
    }
}

/// The stored JSON of a codec value in a result: its attribute and the text. `codecs` names
/// the codecs the caller accepts (`what` for the message).
fn stored_json<'r>(
    rs: &'r ResultSet,
    column: &str,
    row: usize,
    codecs: &[&str],
    what: &str,
) -> Result<(&'r Attribute, String)> {
    let i = rs.column_index(column).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownAttribute,
            format!("the result has no column '{column}'"),
        )
    })?;
    let a = &rs.attributes[i];
    if !a.ty.codec_name().is_some_and(|c| codecs.contains(&c)) {
        return Err(Error::type_err(format!(
            "attribute '{column}' is {}, not {what}",
            a.declared_type
        )));
    }
    if row >= rs.nrows {
        return Err(Error::invalid_arg(format!(
            "row {row} is out of range ({} rows)",
            rs.nrows
        )));
    }
    match rs.columns[i].value(row) {
        Value::Json(j) => Ok((a, j)),
        Value::Null => Err(Error::not_found(format!(
            "attribute '{column}' is NULL in row {row}"
        ))),
        other => Err(Error::internal(format!(
            "unexpected {} in a {what} column",
            other.kind_name()
        ))),
    }
}

/// The lazy reference to an `<npy@>` value in a result (no I/O).
pub fn npyref_of(
    rs: &ResultSet,
    column: &str,
    row: usize,
    stores: Arc<Stores>,
) -> Result<codecs::npy::NpyRef> {
    let (_, j) = stored_json(rs, column, row, &["npy"], "<npy@>")?;
    codecs::npy::NpyRef::from_json(&j, stores)
}

/// The lazy reference to an `<object@>` or `<filepath@>` value in a result (no I/O).
pub fn objectref_of(
    rs: &ResultSet,
    column: &str,
    row: usize,
    stores: Arc<Stores>,
) -> Result<codecs::object::ObjectRef> {
    let (a, j) = stored_json(
        rs,
        column,
        row,
        &["object", "filepath"],
        "<object@> or <filepath@>",
    )?;
    let mut r = codecs::object::ObjectRef::from_json(&j, stores)?;
    r.filepath = a.ty.codec_name() == Some("filepath");
    if r.meta.store.is_empty() {
        // the reference writes `null` for a bare `@`
        if let AttrType::Codec { store: Some(s), .. } = &a.ty {
            r.meta.store = s.clone();
        }
    }
    Ok(r)
}

/// The primary-key values of row `i` of a result, as comparable strings.
fn key_strings(rs: &ResultSet, i: usize, heading: &Heading) -> Vec<String> {
    heading
        .primary_key()
        .map(|a| {
            rs.column(&a.name)
                .map(|c| format!("{:?}", c.value(i)))
                .unwrap_or_default()
        })
        .collect()
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("schema", &self.schema)
            .field("name", &self.name)
            .field("restrictions", &self.restrictions)
            .finish()
    }
}

/// Objects that rows being deleted or replaced pointed to.
#[derive(Default)]
pub(crate) struct StoredObjects {
    /// `<npy@>` and `<object@>` objects: one row's own (store, path, is a folder)
    pub(crate) schema_addressed: Vec<(String, String, bool)>,
    /// hash-addressed objects, possibly shared: (store, path)
    pub(crate) hashed: Vec<(String, String)>,
}

impl StoredObjects {
    pub(crate) fn holds_objects(a: &Attribute) -> bool {
        a.ty.is_hash_object()
            || matches!(&a.ty, AttrType::Codec { name, store: Some(_) } if name == "npy" || name == "object")
    }

    /// Collect the objects of a stored (raw) column.
    pub(crate) fn collect(&mut self, a: &Attribute, c: &Column) {
        if !Self::holds_objects(a) {
            return;
        }
        for i in 0..c.len() {
            let Value::Json(j) = c.value(i) else { continue };
            if a.ty.is_hash_object() {
                if let Ok(m) = codecs::hash::HashMeta::from_json(&j) {
                    self.hashed.push((m.store, m.path));
                }
            } else if a.ty.codec_name() == Some("object") {
                if let Ok(m) = codecs::object::ObjectMeta::from_json(&j) {
                    self.schema_addressed.push((m.store, m.path, m.is_dir));
                }
            } else if let Ok(m) = codecs::npy::NpyMeta::from_json(&j) {
                self.schema_addressed.push((m.store, m.path, false));
            }
        }
    }

    /// Delete the schema-addressed objects, and each hash object no committed row of the
    /// schema references any more (checked and deleted under the schema's object lock, so an
    /// insert that shares the object either commits first and keeps it, or finds it gone and
    /// uploads it again). Best effort: what fails here is left for gc.
    pub(crate) fn release(mut self, conn: &ConnInner, schema: &str) {
        for (store, path, tree) in &self.schema_addressed {
            if let Ok(s) = conn.stores.get(store) {
                let _ = if *tree {
                    s.delete_tree(path)
                } else {
                    s.delete(path)
                };
            }
        }
        self.hashed.sort();
        self.hashed.dedup();
        if self.hashed.is_empty() {
            return;
        }
        let stores = &conn.stores;
        let objs: Vec<(String, String)> = self
            .hashed
            .iter()
            .map(|(s, p)| {
                (
                    stores.resolve_name(s).unwrap_or_else(|_| s.clone()),
                    p.clone(),
                )
            })
            .collect();
        let _ = conn.with(|db| {
            db.with_object_lock(schema, |db| {
                let refd = db.referenced_objects(schema, &objs)?;
                for ((store, path), r) in objs.iter().zip(refd) {
                    if !r {
                        if let Ok(s) = stores.get(store) {
                            let _ = s.delete(path);
                        }
                    }
                }
                Ok(())
            })
        });
    }
}
