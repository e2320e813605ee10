//! Embedded DuckDB backend (the default): a database file or an in-memory database.
//!
//! Inserts go through DuckDB's Appender fed with Arrow record batches (columnar, no SQL per row);
//! skip-duplicates and replace stage the batch in a temporary table first. Fetches read Arrow
//! record batches straight into column buffers.

use super::{
    quote_literal, render_condition, Backend, Condition, Dialect, InsertBatch, InsertMode,
    SelectSpec, TableSpec,
};
use crate::declare::Default;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::{attribute_from_catalog, Attribute, CatalogColumn, Heading};
use crate::types::{parse_type, AttrType, CoreType, Kind};
use crate::value::{Column, ColumnData, Value, VarData};
use duckdb::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeBinaryArray, LargeBinaryArray,
    LargeStringArray, PrimitiveArray, RecordBatch,
};
use duckdb::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use duckdb::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Field, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Catalog name of the attached database; `$` cannot appear in a schema name.
pub const CATALOG: &str = "dj$db";

/// Schema names DuckDB resolves specially.
const RESERVED_SCHEMAS: [&str; 6] = [
    "main",
    "memory",
    "system",
    "temp",
    "information_schema",
    "pg_catalog",
];

pub struct DuckDbBackend {
    conn: duckdb::Connection,
    path: String,
    dialect: DuckDialect,
}

/// Names are always catalog-qualified: a database file `lab.duckdb` is catalog `lab`, which
/// would otherwise clash with a schema named `lab`.
struct DuckDialect {
    catalog: String,
}

impl Dialect for DuckDialect {
    fn quote_ident(&self, s: &str) -> String {
        q(s)
    }
    fn placeholder(&self, _n: usize, attr: &Attribute) -> String {
        format!("CAST(? AS {})", sql_type(&attr.ty))
    }
    fn full_name(&self, schema: &str, table: &str) -> String {
        format!("{}.{}.{}", q(&self.catalog), q(schema), q(table))
    }
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Map a DuckDB error to a core error with a stable code.
fn map_err(e: duckdb::Error, ctx: &str) -> Error {
    let msg = e.to_string();
    let lower = msg.to_ascii_lowercase();
    let code = if lower.contains("duplicate key")
        || lower.contains("violates primary key")
        || lower.contains("violates unique")
    {
        ErrorCode::Duplicate
    } else if lower.contains("foreign key")
        || lower.contains("not null constraint")
        || lower.contains("constraint error")
        || lower.contains("main key table")
        || lower.contains("dependency error")
    {
        ErrorCode::Integrity
    } else if lower.contains("catalog error") && lower.contains("does not exist") {
        ErrorCode::NotFound
    } else if lower.contains("conversion error") || lower.contains("could not convert") {
        ErrorCode::Type
    } else {
        ErrorCode::Backend
    };
    let msg = msg.trim().to_string();
    let msg = if code == ErrorCode::Integrity && lower.contains("still referenced") {
        format!("{msg} (delete the referencing rows in the child table(s) first)")
    } else {
        msg
    };
    Error::new(code, format!("{ctx}: {msg}"))
}

/// DuckDB column type for a DataJoint type.
pub fn sql_type(ty: &AttrType) -> String {
    match ty {
        AttrType::Core(c) => match c {
            CoreType::Int8 => "TINYINT".into(),
            CoreType::Int16 => "SMALLINT".into(),
            CoreType::Int32 => "INTEGER".into(),
            CoreType::Int64 => "BIGINT".into(),
            CoreType::Float32 => "FLOAT".into(),
            CoreType::Float64 => "DOUBLE".into(),
            CoreType::Bool => "BOOLEAN".into(),
            CoreType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
            CoreType::Char(_) | CoreType::Varchar(_) => "VARCHAR".into(),
            CoreType::Date => "DATE".into(),
            CoreType::Datetime(_) => "TIMESTAMP".into(),
            CoreType::Bytes => "BLOB".into(),
            CoreType::Json => "JSON".into(),
            CoreType::Uuid => "UUID".into(),
            CoreType::Enum(v) => {
                let items: Vec<String> = v.iter().map(|s| quote_literal(s)).collect();
                format!("ENUM({})", items.join(", "))
            }
        },
        AttrType::Codec { store: Some(_), .. } => "JSON".into(),
        AttrType::Codec { store: None, .. } => "BLOB".into(),
        AttrType::Native(s) => s.to_ascii_uppercase(),
    }
}

/// Best core type for a DuckDB column without a `:type:` marker.
fn guess_core(data_type: &str) -> Option<CoreType> {
    let t = data_type.trim().to_ascii_uppercase();
    Some(match t.as_str() {
        "TINYINT" => CoreType::Int8,
        "SMALLINT" => CoreType::Int16,
        "INTEGER" => CoreType::Int32,
        "BIGINT" => CoreType::Int64,
        "FLOAT" => CoreType::Float32,
        "DOUBLE" => CoreType::Float64,
        "BOOLEAN" => CoreType::Bool,
        "VARCHAR" => CoreType::Varchar(65535),
        "DATE" => CoreType::Date,
        "TIMESTAMP" => CoreType::Datetime(Some(6)),
        "BLOB" => CoreType::Bytes,
        "JSON" => CoreType::Json,
        "UUID" => CoreType::Uuid,
        _ if t.starts_with("DECIMAL") || t.starts_with("ENUM") => {
            return parse_type(data_type).ok().and_then(|a| a.core().cloned())
        }
        _ => return None,
    })
}

fn parse_default(text: Option<String>, nullable: bool) -> Option<Default> {
    let text = match text {
        None => return if nullable { Some(Default::Null) } else { None },
        Some(t) => t,
    };
    let t = text.trim();
    if t.eq_ignore_ascii_case("null") || t.to_ascii_uppercase().starts_with("CAST(NULL") {
        return Some(Default::Null);
    }
    // 'literal' or CAST('literal' AS TYPE)
    let inner = t
        .strip_prefix("CAST(")
        .and_then(|r| r.rfind(" AS ").map(|p| &r[..p]))
        .unwrap_or(t)
        .trim();
    if inner.len() >= 2 && inner.starts_with('\'') && inner.ends_with('\'') {
        return Some(Default::Literal(
            inner[1..inner.len() - 1].replace("''", "'"),
        ));
    }
    Some(Default::Expression(t.to_string()))
}

impl DuckDbBackend {
    /// Open a database file (created if missing) or `:memory:`.
    ///
    /// The database is attached under the fixed catalog name [`CATALOG`]: DuckDB names a file's
    /// catalog after the file (`lab.duckdb` → `lab`), which would make a schema `lab` ambiguous.
    pub fn open(path: &str) -> Result<Self> {
        let ctx = format!("opening DuckDB database '{path}'");
        let conn = duckdb::Connection::open_in_memory().map_err(|e| map_err(e, &ctx))?;
        let target = if path.is_empty() { ":memory:" } else { path };
        conn.execute_batch(&format!(
            "ATTACH {} AS {}; USE {};",
            quote_literal(target),
            q(CATALOG),
            q(CATALOG)
        ))
        .map_err(|e| {
            let mut err = map_err(e, &ctx);
            if err.code == ErrorCode::Backend {
                err.code = ErrorCode::Connection;
            }
            err
        })?;
        // UUIDs come back as 16 raw bytes rather than text (and booleans as arrow.bool8).
        let _ = conn.execute_batch("SET arrow_lossless_conversion = true");
        Ok(DuckDbBackend {
            conn,
            path: target.to_string(),
            dialect: DuckDialect {
                catalog: CATALOG.to_string(),
            },
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn exec(&self, sql: &str, ctx: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| map_err(e, ctx))
    }

    fn in_transaction<T>(
        &mut self,
        ctx: &str,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.exec("BEGIN TRANSACTION", ctx)?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.exec("COMMIT", ctx) {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn query_strings(
        &self,
        sql: &str,
        params: &[&str],
        ctx: &str,
    ) -> Result<Vec<Vec<Option<String>>>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| map_err(e, ctx))?;
        let ncols = stmt.column_count();
        let _ = ncols;
        let mut rows = stmt
            .query(duckdb::params_from_iter(params.iter()))
            .map_err(|e| map_err(e, ctx))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| map_err(e, ctx))? {
            let n = row.as_ref().column_count();
            let mut r = Vec::with_capacity(n);
            for i in 0..n {
                r.push(
                    row.get::<_, Option<String>>(i)
                        .map_err(|e| map_err(e, ctx))?,
                );
            }
            out.push(r);
        }
        Ok(out)
    }

    fn where_clause(&self, heading_cond: &Condition) -> (String, Vec<duckdb::types::Value>) {
        let mut params = Vec::new();
        let sql = render_condition(&self.dialect, heading_cond, &mut params);
        let vals = params.into_iter().map(|(_, v)| to_duck_value(&v)).collect();
        (sql, vals)
    }
}

fn to_duck_value(v: &Value) -> duckdb::types::Value {
    use duckdb::types::Value as D;
    match v {
        Value::Null => D::Null,
        Value::Bool(b) => D::Boolean(*b),
        Value::Int(i) => D::BigInt(*i),
        Value::Float(f) => D::Double(*f),
        Value::String(s) | Value::Decimal(s) | Value::Json(s) => D::Text(s.clone()),
        Value::Bytes(b) => D::Blob(b.clone()),
        Value::Date(d) => D::Date32(*d),
        Value::Datetime(us) => D::Timestamp(duckdb::types::TimeUnit::Microsecond, *us),
        Value::Uuid(u) => D::Text(uuid::Uuid::from_bytes(*u).to_string()),
        Value::Array(_) => D::Null,
    }
}

fn nulls(validity: Option<Vec<u8>>) -> Option<NullBuffer> {
    validity.map(|v| NullBuffer::from(v.iter().map(|&b| b != 0).collect::<Vec<bool>>()))
}

fn prim<T: ArrowPrimitiveType>(v: Vec<T::Native>, n: Option<NullBuffer>) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(v), n))
}

fn var_str(v: VarData, n: Option<NullBuffer>) -> ArrayRef {
    let offsets = OffsetBuffer::new(ScalarBuffer::from(v.offsets));
    Arc::new(LargeStringArray::new(offsets, Buffer::from(v.bytes), n))
}

fn var_bin(v: VarData, n: Option<NullBuffer>) -> ArrayRef {
    let offsets = OffsetBuffer::new(ScalarBuffer::from(v.offsets));
    Arc::new(LargeBinaryArray::new(offsets, Buffer::from(v.bytes), n))
}

/// Canonical column → Arrow array (+ field) for the appender; the buffers move, no copy.
fn to_arrow(name: &str, col: Column) -> Result<(Field, ArrayRef)> {
    let Column { data, validity } = col;
    let (dt, arr): (DataType, ArrayRef) = match data {
        ColumnData::Bool(v) => {
            let valid = |i: usize| validity.as_ref().is_none_or(|m| m[i] != 0);
            let b: BooleanArray = v
                .iter()
                .enumerate()
                .map(|(i, x)| valid(i).then_some(*x != 0))
                .collect();
            (DataType::Boolean, Arc::new(b))
        }
        ColumnData::Int8(v) => (DataType::Int8, prim::<Int8Type>(v, nulls(validity))),
        ColumnData::Int16(v) => (DataType::Int16, prim::<Int16Type>(v, nulls(validity))),
        ColumnData::Int32(v) => (DataType::Int32, prim::<Int32Type>(v, nulls(validity))),
        ColumnData::Int64(v) => (DataType::Int64, prim::<Int64Type>(v, nulls(validity))),
        ColumnData::Float32(v) => (DataType::Float32, prim::<Float32Type>(v, nulls(validity))),
        ColumnData::Float64(v) => (DataType::Float64, prim::<Float64Type>(v, nulls(validity))),
        ColumnData::Date(v) => (DataType::Date32, prim::<Date32Type>(v, nulls(validity))),
        ColumnData::Datetime(v) => (
            DataType::Timestamp(TimeUnit::Microsecond, None),
            prim::<TimestampMicrosecondType>(v, nulls(validity)),
        ),
        ColumnData::String(v) | ColumnData::Decimal(v) | ColumnData::Json(v) => {
            (DataType::LargeUtf8, var_str(v, nulls(validity)))
        }
        ColumnData::Bytes(v) => (DataType::LargeBinary, var_bin(v, nulls(validity))),
        ColumnData::Uuid(v) => {
            let flat: Vec<u8> = v.into_iter().flatten().collect();
            let a = FixedSizeBinaryArray::try_new(16, Buffer::from(flat), nulls(validity))
                .map_err(|e| Error::internal(format!("uuid column '{name}': {e}")))?;
            let field = Field::new(name, DataType::FixedSizeBinary(16), true).with_metadata(
                HashMap::from([("ARROW:extension:name".to_string(), "arrow.uuid".to_string())]),
            );
            return Ok((field, Arc::new(a)));
        }
    };
    Ok((Field::new(name, dt, true), arr))
}

/// Run a statement that returns rows (a SELECT or a DELETE … RETURNING) and collect its Arrow
/// batches into one column per attribute of `attrs`.
fn collect_columns(
    conn: &duckdb::Connection,
    sql: &str,
    params: Vec<duckdb::types::Value>,
    heading: &Heading,
    attrs: &[usize],
    ctx: &str,
) -> Result<Vec<Column>> {
    let mut collectors: Vec<Collector> = attrs
        .iter()
        .map(|&i| Collector::new(heading.attributes[i].ty.kind()))
        .collect();
    let mut stmt = conn.prepare(sql).map_err(|e| map_err(e, ctx))?;
    let batches = stmt
        .query_arrow(duckdb::params_from_iter(params))
        .map_err(|e| map_err(e, ctx))?;
    for rb in batches {
        for (k, c) in collectors.iter_mut().enumerate() {
            c.append(rb.column(k).as_ref(), &heading.attributes[attrs[k]].name)?;
        }
    }
    Ok(collectors.into_iter().map(|c| c.finish()).collect())
}

/// Accumulates fetched Arrow arrays into one column of the expected kind.
struct Collector {
    data: ColumnData,
    validity: Vec<u8>,
    has_null: bool,
}

impl Collector {
    fn new(kind: Kind) -> Self {
        Collector {
            data: ColumnData::new(kind, 0),
            validity: Vec::new(),
            has_null: false,
        }
    }

    fn append(&mut self, arr: &dyn Array, attr: &str) -> Result<()> {
        let len = arr.len();
        let base = self.validity.len();
        self.validity.resize(base + len, 1);
        if let Some(nb) = arr.logical_nulls() {
            for i in 0..len {
                if nb.is_null(i) {
                    self.validity[base + i] = 0;
                    self.has_null = true;
                }
            }
        }
        let mismatch = || {
            Error::internal(format!(
                "attribute '{attr}': unexpected Arrow type {} from DuckDB",
                arr.data_type()
            ))
        };
        macro_rules! primitive {
            ($v:expr, $t:ty) => {{
                let a = arr.as_primitive_opt::<$t>().ok_or_else(mismatch)?;
                $v.extend_from_slice(a.values());
            }};
        }
        match &mut self.data {
            ColumnData::Bool(v) => match arr.data_type() {
                DataType::Boolean => {
                    let a = arr.as_boolean();
                    v.extend((0..len).map(|i| a.value(i) as u8));
                }
                // arrow.bool8 (DuckDB's lossless export): one int8 per value
                DataType::Int8 => {
                    let a = arr.as_primitive::<Int8Type>();
                    v.extend(a.values().iter().map(|&x| (x != 0) as u8));
                }
                _ => return Err(mismatch()),
            },
            ColumnData::Int8(v) => primitive!(v, Int8Type),
            ColumnData::Int16(v) => primitive!(v, Int16Type),
            ColumnData::Int32(v) => primitive!(v, Int32Type),
            ColumnData::Int64(v) => primitive!(v, Int64Type),
            ColumnData::Float32(v) => primitive!(v, Float32Type),
            ColumnData::Float64(v) => primitive!(v, Float64Type),
            ColumnData::Date(v) => primitive!(v, Date32Type),
            ColumnData::Datetime(v) => primitive!(v, TimestampMicrosecondType),
            ColumnData::String(v) | ColumnData::Decimal(v) | ColumnData::Json(v) => {
                match arr.data_type() {
                    DataType::Utf8 => {
                        let a = arr.as_string::<i32>();
                        (0..len).for_each(|i| v.push(a.value(i).as_bytes()));
                    }
                    DataType::LargeUtf8 => {
                        let a = arr.as_string::<i64>();
                        (0..len).for_each(|i| v.push(a.value(i).as_bytes()));
                    }
                    DataType::Utf8View => {
                        let a = arr.as_string_view();
                        (0..len).for_each(|i| v.push(a.value(i).as_bytes()));
                    }
                    _ => return Err(mismatch()),
                }
            }
            ColumnData::Bytes(v) => match arr.data_type() {
                DataType::Binary => {
                    let a = arr.as_binary::<i32>();
                    (0..len).for_each(|i| v.push(a.value(i)));
                }
                DataType::LargeBinary => {
                    let a = arr.as_binary::<i64>();
                    (0..len).for_each(|i| v.push(a.value(i)));
                }
                DataType::BinaryView => {
                    let a = arr.as_binary_view();
                    (0..len).for_each(|i| v.push(a.value(i)));
                }
                _ => return Err(mismatch()),
            },
            ColumnData::Uuid(v) => match arr.data_type() {
                DataType::FixedSizeBinary(16) => {
                    let a = arr.as_fixed_size_binary();
                    (0..len).for_each(|i| v.push(a.value(i).try_into().unwrap_or([0; 16])));
                }
                DataType::Utf8 => {
                    let a = arr.as_string::<i32>();
                    for i in 0..len {
                        let u = if a.is_null(i) {
                            [0; 16]
                        } else {
                            *uuid::Uuid::parse_str(a.value(i))
                                .map_err(|_| mismatch())?
                                .as_bytes()
                        };
                        v.push(u);
                    }
                }
                _ => return Err(mismatch()),
            },
        }
        Ok(())
    }

    fn finish(self) -> Column {
        Column {
            data: self.data,
            validity: if self.has_null {
                Some(self.validity)
            } else {
                None
            },
        }
    }
}

/// SELECT expression for an attribute: types without a direct buffer form are cast to text.
fn select_expr(a: &Attribute) -> String {
    let name = q(&a.name);
    match &a.ty {
        AttrType::Core(CoreType::Enum(_))
        | AttrType::Core(CoreType::Decimal(..))
        | AttrType::Native(_) => {
            format!("CAST({name} AS VARCHAR) AS {name}")
        }
        AttrType::Core(CoreType::Json) | AttrType::Codec { store: Some(_), .. } => {
            format!("CAST({name} AS VARCHAR) AS {name}")
        }
        _ => name,
    }
}

impl Backend for DuckDbBackend {
    fn kind(&self) -> &'static str {
        "duckdb"
    }

    fn list_schemas(&mut self) -> Result<Vec<String>> {
        let rows = self.query_strings(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database() \
             AND NOT internal AND schema_name <> 'main' ORDER BY schema_name",
            &[],
            "listing schemas",
        )?;
        Ok(rows.into_iter().filter_map(|mut r| r.remove(0)).collect())
    }

    fn create_schema(&mut self, name: &str) -> Result<()> {
        if RESERVED_SCHEMAS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(Error::invalid_arg(format!(
                "schema name `{name}` is reserved by DuckDB"
            )));
        }
        self.exec(
            &format!(
                "CREATE SCHEMA IF NOT EXISTS {}.{}",
                q(&self.dialect.catalog),
                q(name)
            ),
            &format!("creating schema `{name}`"),
        )
    }

    fn drop_schema(&mut self, name: &str) -> Result<()> {
        self.exec(
            &format!(
                "DROP SCHEMA IF EXISTS {}.{} CASCADE",
                q(&self.dialect.catalog),
                q(name)
            ),
            &format!("dropping schema `{name}`"),
        )
    }

    fn list_tables(&mut self, schema: &str) -> Result<Vec<String>> {
        let rows = self.query_strings(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() \
             AND schema_name = ? AND NOT temporary ORDER BY table_name",
            &[schema],
            &format!("listing tables of schema `{schema}`"),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|mut r| r.remove(0))
            .filter(|t| !t.starts_with('~'))
            .collect())
    }

    fn create_table(&mut self, spec: &TableSpec) -> Result<()> {
        let full = self.dialect.full_name(spec.schema, spec.name);
        let mut cols = Vec::new();
        let mut comments = Vec::new();
        let mut pk: Vec<String> = Vec::new();
        if spec.singleton {
            cols.push(format!("{} BOOLEAN NOT NULL DEFAULT TRUE", q("_singleton")));
            comments.push((
                "_singleton".to_string(),
                ":bool:singleton primary key".to_string(),
            ));
            pk.push(q("_singleton"));
        }
        for a in &spec.heading.attributes {
            let mut c = format!("{} {}", q(&a.name), sql_type(&a.ty));
            match &a.default {
                Some(Default::Null) => c.push_str(" DEFAULT NULL"),
                Some(Default::Expression(e)) => {
                    c.push_str(" NOT NULL DEFAULT ");
                    c.push_str(e);
                }
                Some(Default::Literal(l)) => {
                    if !a.nullable {
                        c.push_str(" NOT NULL");
                    }
                    c.push_str(" DEFAULT ");
                    c.push_str(&quote_literal(l));
                }
                None => {
                    if !a.nullable {
                        c.push_str(" NOT NULL")
                    }
                }
            }
            cols.push(c);
            comments.push((a.name.clone(), a.sql_comment()));
            if a.in_key {
                pk.push(q(&a.name));
            }
        }
        cols.push(format!("PRIMARY KEY ({})", pk.join(", ")));
        for fk in &spec.foreign_keys {
            let c: Vec<String> = fk.columns.iter().map(|s| q(s)).collect();
            let p: Vec<String> = fk.parent_columns.iter().map(|s| q(s)).collect();
            cols.push(format!(
                "FOREIGN KEY ({}) REFERENCES {} ({})",
                c.join(", "),
                self.dialect.full_name(spec.schema, &fk.parent_table),
                p.join(", ")
            ));
        }
        let mut sql = format!("CREATE TABLE {full} (\n  {}\n);\n", cols.join(",\n  "));
        sql.push_str(&format!(
            "COMMENT ON TABLE {full} IS {};\n",
            quote_literal(&spec.heading.comment)
        ));
        for (name, c) in comments {
            sql.push_str(&format!(
                "COMMENT ON COLUMN {full}.{} IS {};\n",
                q(&name),
                quote_literal(&c)
            ));
        }
        for ix in &spec.indexes {
            let digest = md5_hex(&format!(
                "{}.{}:{}",
                spec.schema,
                spec.name,
                ix.columns.join(",")
            ));
            let name = format!(
                "{}_{}_{}",
                spec.name.trim_start_matches(['#', '_']),
                if ix.unique { "uq" } else { "ix" },
                &digest[..8]
            );
            let c: Vec<String> = ix.columns.iter().map(|s| q(s)).collect();
            sql.push_str(&format!(
                "CREATE {}INDEX {} ON {full} ({});\n",
                if ix.unique { "UNIQUE " } else { "" },
                q(&name),
                c.join(", ")
            ));
        }
        let ctx = format!("declaring table `{}`.`{}`", spec.schema, spec.name);
        self.in_transaction(&ctx, |b| b.exec(&sql, &ctx))
    }

    fn drop_table(&mut self, schema: &str, table: &str) -> Result<()> {
        self.exec(
            &format!("DROP TABLE {}", self.dialect.full_name(schema, table)),
            &format!("dropping table `{schema}`.`{table}`"),
        )
    }

    fn read_heading(&mut self, schema: &str, table: &str) -> Result<Option<Heading>> {
        let ctx = format!("reading the heading of `{schema}`.`{table}`");
        let trows = self.query_strings(
            "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() \
             AND schema_name = ? AND table_name = ?",
            &[schema, table],
            &ctx,
        )?;
        let Some(trow) = trows.into_iter().next() else {
            return Ok(None);
        };
        let pk_rows = self.query_strings(
            "SELECT array_to_string(constraint_column_names, ',') FROM duckdb_constraints() \
             WHERE database_name = current_database() AND schema_name = ? AND table_name = ? \
             AND constraint_type = 'PRIMARY KEY'",
            &[schema, table],
            &ctx,
        )?;
        let pk: Vec<String> = pk_rows
            .into_iter()
            .next()
            .and_then(|mut r| r.remove(0))
            .map(|s| s.split(',').map(|x| x.to_string()).collect())
            .unwrap_or_default();
        let cols = self.query_strings(
            "SELECT column_name, data_type, CAST(is_nullable AS VARCHAR), column_default, comment \
             FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? \
             AND table_name = ? ORDER BY column_index",
            &[schema, table],
            &ctx,
        )?;
        let mut heading = Heading {
            attributes: Vec::new(),
            comment: trow.into_iter().next().flatten().unwrap_or_default(),
        };
        for mut c in cols {
            let name = c[0].take().unwrap_or_default();
            if name.starts_with('_') {
                continue; // hidden attribute
            }
            let data_type = c[1].take().unwrap_or_default();
            let nullable = matches!(c[2].as_deref(), Some("true"));
            let default = parse_default(c[3].take(), nullable);
            let comment = c[4].take();
            let attr = attribute_from_catalog(
                &format!("{schema}.{table}"),
                CatalogColumn {
                    name: &name,
                    sql_type: &data_type,
                    comment: comment.as_deref(),
                    in_key: pk.contains(&name),
                    nullable,
                    default,
                },
                || guess_core(&data_type),
            )?;
            heading.attributes.push(attr);
        }
        Ok(Some(heading))
    }

    fn insert(&mut self, batch: InsertBatch, mode: InsertMode) -> Result<u64> {
        let ctx = format!("inserting into `{}`.`{}`", batch.schema, batch.table);
        if batch.nrows == 0 {
            return Ok(0);
        }
        let mut fields = Vec::with_capacity(batch.columns.len());
        let mut arrays = Vec::with_capacity(batch.columns.len());
        let mut names: Vec<String> = Vec::with_capacity(batch.columns.len());
        for (idx, col) in batch.columns {
            let name = &batch.heading.attributes[idx].name;
            let (f, a) = to_arrow(name, col)?;
            fields.push(f);
            arrays.push(a);
            names.push(name.clone());
        }
        let rb = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| Error::internal(format!("{ctx}: building the Arrow batch: {e}")))?;
        let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let (schema, table) = (batch.schema, batch.table);
        let catalog = self.dialect.catalog.clone();
        let full = self.dialect.full_name(schema, table);
        self.in_transaction(&ctx, |b| match mode {
            InsertMode::Error => {
                let mut app = b
                    .conn
                    .appender_with_columns_to_catalog_and_db(table, &catalog, schema, &name_refs)
                    .map_err(|e| map_err(e, &ctx))?;
                app.append_record_batch(rb).map_err(|e| map_err(e, &ctx))?;
                app.flush().map_err(|e| map_err(e, &ctx))?;
                Ok(batch.nrows as u64)
            }
            InsertMode::SkipDuplicates | InsertMode::Replace => {
                let cols: Vec<String> = names.iter().map(|s| q(s)).collect();
                let cols = cols.join(", ");
                let stage = "__dj_stage";
                b.exec(
                    &format!(
                        "CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {cols} FROM {full} LIMIT 0"
                    ),
                    &ctx,
                )?;
                let result = (|| {
                    let mut app = b
                        .conn
                        .appender_to_catalog_and_db(stage, "temp", "main")
                        .map_err(|e| map_err(e, &ctx))?;
                    app.append_record_batch(rb).map_err(|e| map_err(e, &ctx))?;
                    app.flush().map_err(|e| map_err(e, &ctx))?;
                    drop(app);
                    // Conflicts are judged on the primary key only (as the reference does on
                    // PostgreSQL): a clash on a secondary unique index is still an error.
                    let mut pk: Vec<String> =
                        batch.heading.primary_key().map(|a| q(&a.name)).collect();
                    if pk.is_empty() {
                        pk.push(q("_singleton"));
                    }
                    let updates: Vec<String> = names
                        .iter()
                        .filter(|n| batch.heading.get(n).is_some_and(|a| !a.in_key))
                        .map(|n| format!("{0} = EXCLUDED.{0}", q(n)))
                        .collect();
                    let action = if mode == InsertMode::Replace && !updates.is_empty() {
                        format!("DO UPDATE SET {}", updates.join(", "))
                    } else {
                        "DO NOTHING".to_string()
                    };
                    // Within the batch, a repeated key keeps the first row when skipping (like
                    // INSERT IGNORE) and the last row when replacing (like REPLACE).
                    let given_pk: Vec<String> = batch
                        .heading
                        .primary_key()
                        .filter(|a| names.contains(&a.name))
                        .map(|a| q(&a.name))
                        .collect();
                    let partition = if given_pk.is_empty() {
                        String::new()
                    } else {
                        format!("PARTITION BY {} ", given_pk.join(", "))
                    };
                    let keep = if mode == InsertMode::Replace { "DESC" } else { "ASC" };
                    b.conn
                        .execute(
                            &format!(
                                "INSERT INTO {full} ({cols}) SELECT {cols} FROM (SELECT {cols}, \
                                 row_number() OVER ({partition}ORDER BY rowid {keep}) AS __dj_rn \
                                 FROM temp.main.{stage}) WHERE __dj_rn = 1 ON CONFLICT ({}) {action}",
                                pk.join(", ")
                            ),
                            [],
                        )
                        .map(|n| n as u64)
                        .map_err(|e| map_err(e, &ctx))
                })();
                let _ = b
                    .conn
                    .execute_batch(&format!("DROP TABLE IF EXISTS temp.main.{stage}"));
                result
            }
        })
    }

    fn select(&mut self, spec: &SelectSpec) -> Result<Vec<Column>> {
        let ctx = format!("fetching from `{}`.`{}`", spec.schema, spec.table);
        let exprs: Vec<String> = spec
            .attrs
            .iter()
            .map(|&i| select_expr(&spec.heading.attributes[i]))
            .collect();
        let (cond, params) = self.where_clause(spec.condition);
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {cond}",
            if exprs.is_empty() {
                "1".to_string()
            } else {
                exprs.join(", ")
            },
            self.dialect.full_name(spec.schema, spec.table)
        );
        if !spec.order_by.is_empty() {
            let o: Vec<String> = spec
                .order_by
                .iter()
                .map(|(n, desc)| format!("{}{}", q(n), if *desc { " DESC" } else { " ASC" }))
                .collect();
            sql.push_str(&format!(" ORDER BY {}", o.join(", ")));
        }
        if let Some(l) = spec.limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        if let Some(o) = spec.offset {
            if spec.limit.is_none() {
                sql.push_str(" LIMIT ALL");
            }
            sql.push_str(&format!(" OFFSET {o}"));
        }
        collect_columns(&self.conn, &sql, params, spec.heading, &spec.attrs, &ctx)
    }

    fn count(
        &mut self,
        schema: &str,
        table: &str,
        _heading: &Heading,
        cond: &Condition,
    ) -> Result<u64> {
        let ctx = format!("counting rows of `{schema}`.`{table}`");
        let (w, params) = self.where_clause(cond);
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {w}",
            self.dialect.full_name(schema, table)
        );
        let n: i64 = self
            .conn
            .query_row(&sql, duckdb::params_from_iter(params), |r| r.get(0))
            .map_err(|e| map_err(e, &ctx))?;
        Ok(n as u64)
    }

    fn delete(
        &mut self,
        schema: &str,
        table: &str,
        heading: &Heading,
        cond: &Condition,
        returning: &[usize],
    ) -> Result<(u64, Vec<Column>)> {
        let ctx = format!("deleting from `{schema}`.`{table}`");
        let (w, params) = self.where_clause(cond);
        let full = self.dialect.full_name(schema, table);
        if returning.is_empty() {
            let sql = format!("DELETE FROM {full} WHERE {w}");
            return self.in_transaction(&ctx, |b| {
                b.conn
                    .execute(&sql, duckdb::params_from_iter(params))
                    .map(|n| (n as u64, Vec::new()))
                    .map_err(|e| map_err(e, &ctx))
            });
        }
        let exprs: Vec<String> = returning
            .iter()
            .map(|&i| select_expr(&heading.attributes[i]))
            .collect();
        let sql = format!(
            "DELETE FROM {full} WHERE {w} RETURNING {}",
            exprs.join(", ")
        );
        self.in_transaction(&ctx, |b| {
            let cols = collect_columns(&b.conn, &sql, params, heading, returning, &ctx)?;
            Ok((cols.first().map(|c| c.len()).unwrap_or(0) as u64, cols))
        })
    }
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(s.as_bytes()))
}
