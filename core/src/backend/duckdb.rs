//! Embedded DuckDB backend (the default): a database file or an in-memory database.
//!
//! Bulk appends go through DuckDB's Appender fed with Arrow record batches (columnar, no SQL per
//! row). Query results are read as Arrow record batches straight into column buffers.

use super::Backend;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::sql::{Dialect, Target, DUCKDB_CATALOG, STAGE};
use crate::types::{AttrType, Kind, NativeRepr, ValueClass};
use crate::value::{Column, ColumnData, Value, VarData};
use duckdb::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeBinaryArray, LargeBinaryArray,
    LargeStringArray, PrimitiveArray, RecordBatch,
};
use duckdb::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use duckdb::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Field, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Schema, TimeUnit, TimestampMicrosecondType, UInt64Type,
};
use std::collections::HashMap;
use std::sync::Arc;

pub struct DuckDbBackend {
    conn: duckdb::Connection,
    path: String,
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
    } else if lower.contains("referenced column") && lower.contains("not found") {
        ErrorCode::UnknownAttribute
    } else if lower.contains("catalog error")
        && lower.contains("does not exist")
        && (lower.contains("table with name") || lower.contains("schema with name"))
    {
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

impl DuckDbBackend {
    /// Open a database file (created if missing) or `:memory:`, attached as
    /// [`DUCKDB_CATALOG`].
    pub fn open(path: &str) -> Result<Self> {
        let ctx = format!("opening DuckDB database '{path}'");
        let conn = duckdb::Connection::open_in_memory().map_err(|e| map_err(e, &ctx))?;
        let target = if path.is_empty() { ":memory:" } else { path };
        conn.execute_batch(&Dialect::duckdb_attach(target))
            .map_err(|e| {
                let mut err = map_err(e, &ctx);
                if err.code == ErrorCode::Backend {
                    err.code = ErrorCode::Connection;
                }
                err
            })?;
        for s in Dialect::DuckDb.session_setup() {
            let _ = conn.execute_batch(&s);
        }
        Ok(DuckDbBackend {
            conn,
            path: target.to_string(),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

fn to_duck_value(v: &Value) -> duckdb::types::Value {
    use duckdb::types::Value as D;
    match v {
        Value::Null => D::Null,
        Value::Bool(b) => D::Boolean(*b),
        Value::Int(i) => D::BigInt(*i),
        Value::UInt(u) => D::UBigInt(*u),
        Value::Float(f) => D::Double(*f),
        Value::String(s) | Value::Decimal(s) | Value::Json(s) => D::Text(s.clone()),
        Value::Bytes(b) => D::Blob(b.clone()),
        Value::Date(d) => D::Date32(*d),
        Value::Datetime(us) => D::Timestamp(duckdb::types::TimeUnit::Microsecond, *us),
        Value::Uuid(u) => D::Text(uuid::Uuid::from_bytes(*u).to_string()),
        Value::Array(_) | Value::Blob(_) | Value::Attach(_) => D::Null,
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
        ColumnData::UInt64(v) => (DataType::UInt64, prim::<UInt64Type>(v, nulls(validity))),
        ColumnData::Float32(v) => (DataType::Float32, prim::<Float32Type>(v, nulls(validity))),
        ColumnData::Float64(v) => (DataType::Float64, prim::<Float64Type>(v, nulls(validity))),
        ColumnData::Blob(_) => {
            return Err(Error::internal(format!(
                "column '{name}': blob values are packed before they reach the backend"
            )))
        }
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
            ColumnData::UInt64(v) => primitive!(v, UInt64Type),
            ColumnData::Float32(v) => primitive!(v, Float32Type),
            ColumnData::Float64(v) => primitive!(v, Float64Type),
            ColumnData::Date(v) => primitive!(v, Date32Type),
            ColumnData::Datetime(v) => primitive!(v, TimestampMicrosecondType),
            ColumnData::Blob(_) => return Err(mismatch()),
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

/// Native TIME columns take Arrow time values; the canonical column holds their text.
fn time_to_arrow(name: &str, col: &Column) -> Result<(Field, ArrayRef)> {
    let mut v = Vec::with_capacity(col.len());
    for i in 0..col.len() {
        v.push(match col.value(i) {
            Value::String(s) => Some(
                crate::value::parse_time(&s)
                    .filter(|&us| (0..=86_400_000_000).contains(&us))
                    .ok_or_else(|| {
                        Error::type_err(format!(
                            "attribute '{name}' (row {i}): DuckDB's TIME holds 00:00:00 to 24:00:00, not '{s}'"
                        ))
                    })?,
            ),
            _ => None,
        });
    }
    let a = duckdb::arrow::array::Time64MicrosecondArray::from(v);
    Ok((
        Field::new(name, DataType::Time64(TimeUnit::Microsecond), true),
        Arc::new(a),
    ))
}

/// Run a query and collect its Arrow batches into one column per attribute.
fn collect_columns(
    conn: &duckdb::Connection,
    sql: &str,
    params: Vec<duckdb::types::Value>,
    attrs: &[&Attribute],
    ctx: &str,
) -> Result<Vec<Column>> {
    let mut stmt = conn.prepare(sql).map_err(|e| map_err(e, ctx))?;
    let batches = stmt
        .query_arrow(duckdb::params_from_iter(params))
        .map_err(|e| map_err(e, ctx))?;
    // computed columns take the kind of what DuckDB returns, cast to that kind's Arrow type
    let schema = batches.get_schema();
    let kinds: Vec<Kind> = attrs
        .iter()
        .enumerate()
        .map(|(k, a)| match (&a.ty, schema.fields().get(k)) {
            (AttrType::Computed, Some(f)) => Kind::of_computed(value_class(f.data_type())),
            _ => a.ty.kind(),
        })
        .collect();
    let computed: Vec<Option<DataType>> = attrs
        .iter()
        .zip(&kinds)
        .map(|(a, k)| (a.ty == AttrType::Computed).then(|| arrow_type(*k)))
        .collect();
    let mut collectors: Vec<Collector> = kinds.iter().map(|k| Collector::new(*k)).collect();
    for rb in batches {
        for (k, c) in collectors.iter_mut().enumerate() {
            match &computed[k] {
                Some(t) => {
                    let arr = duckdb::arrow::compute::cast(rb.column(k), t).map_err(|e| {
                        Error::type_err(format!("{ctx}: attribute '{}': {e}", attrs[k].name))
                    })?;
                    c.append(arr.as_ref(), &attrs[k].name)?
                }
                None => c.append(rb.column(k).as_ref(), &attrs[k].name)?,
            }
        }
    }
    Ok(collectors.into_iter().map(|c| c.finish()).collect())
}

/// What a computed result column of this Arrow type holds.
fn value_class(t: &DataType) -> ValueClass {
    match t {
        DataType::Boolean => ValueClass::Bool,
        t if t.is_integer() => ValueClass::Int,
        t if t.is_floating() => ValueClass::Number,
        DataType::Decimal128(..) | DataType::Decimal256(..) => ValueClass::Number,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => ValueClass::Bytes,
        DataType::FixedSizeBinary(16) => ValueClass::Uuid,
        DataType::Date32 | DataType::Date64 => ValueClass::Date,
        DataType::Timestamp(..) => ValueClass::Datetime,
        _ => ValueClass::Text,
    }
}

/// The Arrow type the collector of a kind reads.
fn arrow_type(k: Kind) -> DataType {
    match k {
        Kind::Bool => DataType::Boolean,
        Kind::Int64 => DataType::Int64,
        Kind::Float64 => DataType::Float64,
        Kind::Bytes => DataType::LargeBinary,
        Kind::Uuid => DataType::FixedSizeBinary(16),
        Kind::Date => DataType::Date32,
        Kind::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
        _ => DataType::LargeUtf8,
    }
}

impl Backend for DuckDbBackend {
    fn dialect(&self) -> Dialect {
        Dialect::DuckDb
    }

    fn ensure_connected(&mut self) -> Result<bool> {
        Ok(false)
    }

    fn execute(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<u64> {
        let p: Vec<duckdb::types::Value> = params.iter().map(to_duck_value).collect();
        self.conn
            .execute(sql, duckdb::params_from_iter(p))
            .map(|n| n as u64)
            .map_err(|e| map_err(e, ctx))
    }

    fn query_text(
        &mut self,
        sql: &str,
        params: &[Value],
        ctx: &str,
    ) -> Result<Vec<Vec<Option<String>>>> {
        let p: Vec<duckdb::types::Value> = params.iter().map(to_duck_value).collect();
        let mut stmt = self.conn.prepare(sql).map_err(|e| map_err(e, ctx))?;
        let mut rows = stmt
            .query(duckdb::params_from_iter(p))
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

    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        attrs: &[&Attribute],
        ctx: &str,
    ) -> Result<Vec<Column>> {
        let p: Vec<duckdb::types::Value> = params.iter().map(to_duck_value).collect();
        collect_columns(&self.conn, sql, p, attrs, ctx)
    }

    fn append(
        &mut self,
        target: Target,
        attrs: &[&Attribute],
        columns: Vec<Column>,
        nrows: usize,
        ctx: &str,
    ) -> Result<u64> {
        let mut fields = Vec::with_capacity(columns.len());
        let mut arrays = Vec::with_capacity(columns.len());
        for (a, col) in attrs.iter().zip(columns) {
            let (f, arr) = if matches!(&a.ty, AttrType::Native(n) if n.repr == NativeRepr::Time) {
                time_to_arrow(&a.name, &col)?
            } else {
                to_arrow(&a.name, col)?
            };
            fields.push(f);
            arrays.push(arr);
        }
        let rb = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| Error::internal(format!("{ctx}: building the Arrow batch: {e}")))?;
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        let mut app =
            match target {
                Target::Table { schema, table } => self
                    .conn
                    .appender_with_columns_to_catalog_and_db(table, DUCKDB_CATALOG, schema, &names),
                Target::Stage { .. } => self.conn.appender_to_catalog_and_db(STAGE, "temp", "main"),
            }
            .map_err(|e| map_err(e, ctx))?;
        app.append_record_batch(rb).map_err(|e| map_err(e, ctx))?;
        app.flush().map_err(|e| map_err(e, ctx))?;
        Ok(nrows as u64)
    }
}
