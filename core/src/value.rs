//! Values, columnar buffers, and conversion of user input to an attribute's canonical form.
//!
//! Every insert (single row or columnar batch) and every key restriction goes through one
//! element converter, so validation is identical on all paths.

use crate::blob::BlobValue;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::types::{AttrType, CoreType, Kind, NativeRepr, NativeType};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::sync::Arc;

/// Variable-width buffer: `offsets` has n+1 entries, value i is `bytes[offsets[i]..offsets[i+1]]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VarData {
    pub offsets: Vec<i64>,
    pub bytes: Vec<u8>,
}

impl VarData {
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        VarData {
            offsets,
            bytes: Vec::with_capacity(bytes),
        }
    }
    pub fn push(&mut self, v: &[u8]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.bytes.extend_from_slice(v);
        self.offsets.push(self.bytes.len() as i64);
    }
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
    /// Value i as UTF-8 (buffers of string kinds are always valid UTF-8).
    pub fn get_str(&self, i: usize) -> &str {
        std::str::from_utf8(self.get(i)).unwrap_or("")
    }
}

/// A typed column buffer. The variant is the buffer kind ([`Kind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Bool(Vec<u8>),
    Int8(Vec<i8>),
    Int16(Vec<i16>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    String(VarData),
    Bytes(VarData),
    Date(Vec<i32>),
    Datetime(Vec<i64>),
    Uuid(Vec<[u8; 16]>),
    Decimal(VarData),
    Json(VarData),
    UInt64(Vec<u64>),
    /// decoded `<blob>` values (NULL rows hold `None` and are marked in the validity)
    Blob(Vec<Arc<BlobValue>>),
}

impl ColumnData {
    pub fn new(kind: Kind, capacity: usize) -> Self {
        match kind {
            Kind::Bool => ColumnData::Bool(Vec::with_capacity(capacity)),
            Kind::Int8 => ColumnData::Int8(Vec::with_capacity(capacity)),
            Kind::Int16 => ColumnData::Int16(Vec::with_capacity(capacity)),
            Kind::Int32 => ColumnData::Int32(Vec::with_capacity(capacity)),
            Kind::Int64 => ColumnData::Int64(Vec::with_capacity(capacity)),
            Kind::Float32 => ColumnData::Float32(Vec::with_capacity(capacity)),
            Kind::Float64 => ColumnData::Float64(Vec::with_capacity(capacity)),
            Kind::String => ColumnData::String(VarData::with_capacity(capacity, 0)),
            Kind::Bytes => ColumnData::Bytes(VarData::with_capacity(capacity, 0)),
            Kind::Date => ColumnData::Date(Vec::with_capacity(capacity)),
            Kind::Datetime => ColumnData::Datetime(Vec::with_capacity(capacity)),
            Kind::Uuid => ColumnData::Uuid(Vec::with_capacity(capacity)),
            Kind::Decimal => ColumnData::Decimal(VarData::with_capacity(capacity, 0)),
            Kind::Json => ColumnData::Json(VarData::with_capacity(capacity, 0)),
            Kind::UInt64 => ColumnData::UInt64(Vec::with_capacity(capacity)),
            Kind::Blob => ColumnData::Blob(Vec::with_capacity(capacity)),
        }
    }
    pub fn kind(&self) -> Kind {
        match self {
            ColumnData::Bool(_) => Kind::Bool,
            ColumnData::Int8(_) => Kind::Int8,
            ColumnData::Int16(_) => Kind::Int16,
            ColumnData::Int32(_) => Kind::Int32,
            ColumnData::Int64(_) => Kind::Int64,
            ColumnData::Float32(_) => Kind::Float32,
            ColumnData::Float64(_) => Kind::Float64,
            ColumnData::String(_) => Kind::String,
            ColumnData::Bytes(_) => Kind::Bytes,
            ColumnData::Date(_) => Kind::Date,
            ColumnData::Datetime(_) => Kind::Datetime,
            ColumnData::Uuid(_) => Kind::Uuid,
            ColumnData::Decimal(_) => Kind::Decimal,
            ColumnData::Json(_) => Kind::Json,
            ColumnData::UInt64(_) => Kind::UInt64,
            ColumnData::Blob(_) => Kind::Blob,
        }
    }
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Bool(v) => v.len(),
            ColumnData::Int8(v) => v.len(),
            ColumnData::Int16(v) => v.len(),
            ColumnData::Int32(v) => v.len(),
            ColumnData::Int64(v) => v.len(),
            ColumnData::Float32(v) => v.len(),
            ColumnData::Float64(v) => v.len(),
            ColumnData::Date(v) => v.len(),
            ColumnData::Datetime(v) => v.len(),
            ColumnData::Uuid(v) => v.len(),
            ColumnData::UInt64(v) => v.len(),
            ColumnData::Blob(v) => v.len(),
            ColumnData::String(v)
            | ColumnData::Bytes(v)
            | ColumnData::Decimal(v)
            | ColumnData::Json(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Append a placeholder for a NULL (the validity buffer marks it).
    pub fn push_null(&mut self) {
        match self {
            ColumnData::Bool(v) => v.push(0),
            ColumnData::Int8(v) => v.push(0),
            ColumnData::Int16(v) => v.push(0),
            ColumnData::Int32(v) => v.push(0),
            ColumnData::Int64(v) => v.push(0),
            ColumnData::Float32(v) => v.push(0.0),
            ColumnData::Float64(v) => v.push(0.0),
            ColumnData::Date(v) => v.push(0),
            ColumnData::Datetime(v) => v.push(0),
            ColumnData::Uuid(v) => v.push([0; 16]),
            ColumnData::UInt64(v) => v.push(0),
            ColumnData::Blob(v) => v.push(Arc::new(BlobValue::None)),
            ColumnData::String(v)
            | ColumnData::Bytes(v)
            | ColumnData::Decimal(v)
            | ColumnData::Json(v) => v.push(b""),
        }
    }
    /// Element i as a [`Value`] (ignores validity).
    pub fn value(&self, i: usize) -> Value {
        match self {
            ColumnData::Bool(v) => Value::Bool(v[i] != 0),
            ColumnData::Int8(v) => Value::Int(v[i] as i64),
            ColumnData::Int16(v) => Value::Int(v[i] as i64),
            ColumnData::Int32(v) => Value::Int(v[i] as i64),
            ColumnData::Int64(v) => Value::Int(v[i]),
            ColumnData::Float32(v) => Value::Float(v[i] as f64),
            ColumnData::Float64(v) => Value::Float(v[i]),
            ColumnData::String(v) => Value::String(v.get_str(i).to_string()),
            ColumnData::Bytes(v) => Value::Bytes(v.get(i).to_vec()),
            ColumnData::Date(v) => Value::Date(v[i]),
            ColumnData::Datetime(v) => Value::Datetime(v[i]),
            ColumnData::Uuid(v) => Value::Uuid(v[i]),
            ColumnData::Decimal(v) => Value::Decimal(v.get_str(i).to_string()),
            ColumnData::Json(v) => Value::Json(v.get_str(i).to_string()),
            ColumnData::UInt64(v) => Value::UInt(v[i]),
            ColumnData::Blob(v) => Value::Blob(v[i].clone()),
        }
    }
}

/// A column with its validity (one byte per row, 1 = present; None = no NULLs).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub data: ColumnData,
    pub validity: Option<Vec<u8>>,
}

impl Column {
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn is_null(&self, i: usize) -> bool {
        self.validity.as_ref().is_some_and(|v| v[i] == 0)
    }
    pub fn value(&self, i: usize) -> Value {
        if self.is_null(i) {
            Value::Null
        } else {
            self.data.value(i)
        }
    }

    /// Row i of a text column (None for NULL or another kind).
    pub fn text(&self, i: usize) -> Option<String> {
        match (&self.data, self.is_null(i)) {
            (ColumnData::String(v), false) => Some(v.get_str(i).to_string()),
            _ => None,
        }
    }

    /// Row i as a borrowed element (what the server backends encode).
    pub fn elem(&self, i: usize) -> Elem<'_> {
        if self.is_null(i) {
            return Elem::Null;
        }
        match &self.data {
            ColumnData::Bool(v) => Elem::Bool(v[i] != 0),
            ColumnData::Int8(v) => Elem::Int(v[i] as i64),
            ColumnData::Int16(v) => Elem::Int(v[i] as i64),
            ColumnData::Int32(v) => Elem::Int(v[i] as i64),
            ColumnData::Int64(v) => Elem::Int(v[i]),
            ColumnData::UInt64(v) => Elem::UInt(v[i]),
            ColumnData::Float32(v) => Elem::Float(v[i] as f64),
            ColumnData::Float64(v) => Elem::Float(v[i]),
            ColumnData::String(v) => Elem::Str(v.get_str(i)),
            ColumnData::Bytes(v) => Elem::Bytes(v.get(i)),
            ColumnData::Date(v) => Elem::Date(v[i]),
            ColumnData::Datetime(v) => Elem::Datetime(v[i]),
            ColumnData::Uuid(v) => Elem::Uuid(&v[i]),
            ColumnData::Decimal(v) => Elem::Decimal(v.get_str(i)),
            ColumnData::Json(v) => Elem::Json(v.get_str(i)),
            ColumnData::Blob(v) => Elem::Blob(&v[i]),
        }
    }

    /// The rows at `idx`, in that order.
    pub fn take(self, idx: &[usize]) -> Column {
        if idx.len() == self.len() && idx.iter().enumerate().all(|(i, &k)| i == k) {
            return self;
        }
        self.select(idx)
    }

    /// A copy of the rows at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Column {
        fn pick<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().map(|&k| v[k]).collect()
        }
        fn pick_var(v: &VarData, idx: &[usize]) -> VarData {
            let mut out = VarData::with_capacity(idx.len(), 0);
            for &k in idx {
                out.push(v.get(k));
            }
            out
        }
        let data = match &self.data {
            ColumnData::Bool(v) => ColumnData::Bool(pick(v, idx)),
            ColumnData::Int8(v) => ColumnData::Int8(pick(v, idx)),
            ColumnData::Int16(v) => ColumnData::Int16(pick(v, idx)),
            ColumnData::Int32(v) => ColumnData::Int32(pick(v, idx)),
            ColumnData::Int64(v) => ColumnData::Int64(pick(v, idx)),
            ColumnData::Float32(v) => ColumnData::Float32(pick(v, idx)),
            ColumnData::Float64(v) => ColumnData::Float64(pick(v, idx)),
            ColumnData::Date(v) => ColumnData::Date(pick(v, idx)),
            ColumnData::Datetime(v) => ColumnData::Datetime(pick(v, idx)),
            ColumnData::Uuid(v) => ColumnData::Uuid(pick(v, idx)),
            ColumnData::UInt64(v) => ColumnData::UInt64(pick(v, idx)),
            ColumnData::Blob(v) => ColumnData::Blob(idx.iter().map(|&k| v[k].clone()).collect()),
            ColumnData::String(v) => ColumnData::String(pick_var(v, idx)),
            ColumnData::Bytes(v) => ColumnData::Bytes(pick_var(v, idx)),
            ColumnData::Decimal(v) => ColumnData::Decimal(pick_var(v, idx)),
            ColumnData::Json(v) => ColumnData::Json(pick_var(v, idx)),
        };
        let validity = self.validity.as_ref().map(|v| pick(v, idx));
        Column { data, validity }
    }
}

/// Bytes of an array to store; lets a caller lend its buffer without a copy.
pub trait ArrayBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl ArrayBytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// An n-dimensional array value for `<npy@>` attributes.
#[derive(Clone)]
pub struct ArrayValue {
    pub dtype: crate::npy::Dtype,
    pub shape: Vec<u64>,
    /// Column-major data (numpy's `fortran_order`).
    pub fortran_order: bool,
    pub data: std::sync::Arc<dyn ArrayBytes>,
}

impl ArrayValue {
    pub fn new(
        dtype: crate::npy::Dtype,
        shape: Vec<u64>,
        fortran_order: bool,
        data: Vec<u8>,
    ) -> ArrayValue {
        ArrayValue {
            dtype,
            shape,
            fortran_order,
            data: std::sync::Arc::new(data),
        }
    }
    /// Number of elements.
    pub fn size(&self) -> u64 {
        self.shape.iter().product()
    }
    /// Check that the buffer holds exactly `size × itemsize` bytes.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.shape.len() > 32 {
            return Err(format!(
                "{} dimensions exceed numpy's limit of 32",
                self.shape.len()
            ));
        }
        let want = self
            .shape
            .iter()
            .try_fold(self.dtype.itemsize() as u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| "the shape overflows".to_string())?;
        let got = self.data.bytes().len() as u64;
        if got != want {
            return Err(format!(
                "{} shape {:?} needs {want} bytes, the buffer has {got}",
                self.dtype.name(),
                self.shape
            ));
        }
        // numpy's bool is one byte holding 0 or 1; anything else would read back inconsistently.
        if self.dtype == crate::npy::Dtype::Bool {
            if let Some(pos) = self.data.bytes().iter().position(|&b| b > 1) {
                return Err(format!(
                    "bool element {pos} holds the byte {}, not 0 or 1",
                    self.data.bytes()[pos]
                ));
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for ArrayValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Array({} {:?}{})",
            self.dtype.name(),
            self.shape,
            if self.fortran_order { " F" } else { "" }
        )
    }
}

impl PartialEq for ArrayValue {
    fn eq(&self, o: &Self) -> bool {
        self.dtype == o.dtype
            && self.shape == o.shape
            && self.fortran_order == o.fortran_order
            && self.data.bytes() == o.data.bytes()
    }
}

/// A file for an `<attach>` attribute: its name and content.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub data: bytes::Bytes,
}

impl Value {
    /// An attachment value from a file name and its bytes.
    pub fn attachment(name: &str, data: bytes::Bytes) -> Value {
        Value::Attach(Arc::new(Attachment {
            name: name.to_string(),
            data,
        }))
    }
}

/// One value, as set on a row builder or used in a key restriction.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// an unsigned integer above i64's range (native `bigint unsigned`)
    UInt(u64),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    /// days since 1970-01-01
    Date(i32),
    /// microseconds since 1970-01-01T00:00:00
    Datetime(i64),
    Uuid([u8; 16]),
    /// exact decimal text
    Decimal(String),
    /// JSON document text
    Json(String),
    /// An array for an `<npy@>` attribute.
    Array(ArrayValue),
    /// A `<blob>` value tree.
    Blob(Arc<BlobValue>),
    /// An `<attach>` file given by name and content.
    Attach(Arc<Attachment>),
}

impl Value {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Date(_) => "date",
            Value::Datetime(_) => "datetime",
            Value::Uuid(_) => "uuid",
            Value::Decimal(_) => "decimal",
            Value::Json(_) => "json",
            Value::Array(_) => "array",
            Value::Blob(_) => "blob",
            Value::Attach(_) => "attachment",
        }
    }
    pub fn as_elem(&self) -> Elem<'_> {
        match self {
            Value::Null => Elem::Null,
            Value::Bool(b) => Elem::Bool(*b),
            Value::Int(v) => Elem::Int(*v),
            Value::UInt(v) => Elem::UInt(*v),
            Value::Float(v) => Elem::Float(*v),
            Value::String(s) => Elem::Str(s),
            Value::Bytes(b) => Elem::Bytes(b),
            Value::Date(d) => Elem::Date(*d),
            Value::Datetime(d) => Elem::Datetime(*d),
            Value::Uuid(u) => Elem::Uuid(u),
            Value::Decimal(s) => Elem::Decimal(s),
            Value::Json(s) => Elem::Json(s),
            Value::Array(a) => Elem::Array(a),
            Value::Blob(b) => Elem::Blob(b),
            Value::Attach(a) => Elem::Attach(&a.name, &a.data),
        }
    }
}

/// A borrowed input element.
#[derive(Debug, Clone, Copy)]
pub enum Elem<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    Date(i32),
    Datetime(i64),
    Uuid(&'a [u8; 16]),
    Decimal(&'a str),
    Json(&'a str),
    Array(&'a ArrayValue),
    Blob(&'a BlobValue),
    Attach(&'a str, &'a bytes::Bytes),
}

impl Elem<'_> {
    fn describe(&self) -> String {
        match self {
            Elem::Null => "NULL".into(),
            Elem::Bool(b) => format!("bool {b}"),
            Elem::Int(v) => format!("integer {v}"),
            Elem::UInt(v) => format!("integer {v}"),
            Elem::Float(v) => format!("float {v}"),
            Elem::Str(s) => format!("string '{}'", truncate(s)),
            Elem::Bytes(b) => format!("{} bytes", b.len()),
            Elem::Date(d) => format!("date {}", format_date(*d)),
            Elem::Datetime(d) => format!("datetime {}", format_datetime(*d)),
            Elem::Uuid(u) => format!("uuid {}", uuid::Uuid::from_bytes(**u)),
            Elem::Decimal(s) => format!("decimal '{}'", truncate(s)),
            Elem::Json(s) => format!("json '{}'", truncate(s)),
            Elem::Array(a) => format!("{a:?}"),
            Elem::Blob(b) => format!("a {} blob value", b.type_name()),
            Elem::Attach(n, d) => format!("attachment '{n}' ({} bytes)", d.len()),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        let t: String = s.chars().take(40).collect();
        format!("{t}…")
    } else {
        s.to_string()
    }
}

/// A borrowed input column (from the C ABI's columnar insert or an owned [`Column`]).
#[derive(Debug, Clone, Copy)]
pub enum InputData<'a> {
    Bool(&'a [u8]),
    Int8(&'a [i8]),
    Int16(&'a [i16]),
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Float32(&'a [f32]),
    Float64(&'a [f64]),
    String {
        offsets: &'a [i64],
        bytes: &'a [u8],
    },
    Bytes {
        offsets: &'a [i64],
        bytes: &'a [u8],
    },
    Date(&'a [i32]),
    Datetime(&'a [i64]),
    Uuid(&'a [[u8; 16]]),
    Decimal {
        offsets: &'a [i64],
        bytes: &'a [u8],
    },
    Json {
        offsets: &'a [i64],
        bytes: &'a [u8],
    },
    /// One array per row (for `<npy@>` attributes).
    Array(&'a [ArrayValue]),
    UInt64(&'a [u64]),
    /// One value tree per row (for `<blob>` attributes).
    Blob(&'a [&'a BlobValue]),
}

#[derive(Debug, Clone, Copy)]
pub struct InputColumn<'a> {
    pub name: &'a str,
    pub data: InputData<'a>,
    pub validity: Option<&'a [u8]>,
}

impl<'a> InputData<'a> {
    pub fn from_column(c: &'a ColumnData) -> InputData<'a> {
        match c {
            ColumnData::Bool(v) => InputData::Bool(v),
            ColumnData::Int8(v) => InputData::Int8(v),
            ColumnData::Int16(v) => InputData::Int16(v),
            ColumnData::Int32(v) => InputData::Int32(v),
            ColumnData::Int64(v) => InputData::Int64(v),
            ColumnData::Float32(v) => InputData::Float32(v),
            ColumnData::Float64(v) => InputData::Float64(v),
            ColumnData::String(v) => InputData::String {
                offsets: &v.offsets,
                bytes: &v.bytes,
            },
            ColumnData::Bytes(v) => InputData::Bytes {
                offsets: &v.offsets,
                bytes: &v.bytes,
            },
            ColumnData::Date(v) => InputData::Date(v),
            ColumnData::Datetime(v) => InputData::Datetime(v),
            ColumnData::Uuid(v) => InputData::Uuid(v),
            ColumnData::Decimal(v) => InputData::Decimal {
                offsets: &v.offsets,
                bytes: &v.bytes,
            },
            ColumnData::Json(v) => InputData::Json {
                offsets: &v.offsets,
                bytes: &v.bytes,
            },
            ColumnData::UInt64(v) => InputData::UInt64(v),
            // owned blob columns are inserted row by row
            ColumnData::Blob(_) => InputData::Blob(&[]),
        }
    }

    /// Number of elements, after checking that variable-width buffers are well formed.
    pub fn checked_len(&self, name: &str) -> Result<usize> {
        let var = |offsets: &[i64], bytes: &[u8]| -> Result<usize> {
            if offsets.is_empty() {
                return Ok(0);
            }
            let mut prev = offsets[0];
            if prev < 0 {
                return Err(Error::invalid_arg(format!(
                    "attribute '{name}': negative offset"
                )));
            }
            for &o in &offsets[1..] {
                if o < prev {
                    return Err(Error::invalid_arg(format!(
                        "attribute '{name}': offsets must not decrease"
                    )));
                }
                prev = o;
            }
            if prev as usize > bytes.len() {
                return Err(Error::invalid_arg(format!(
                    "attribute '{name}': offsets point past the end of the data buffer"
                )));
            }
            Ok(offsets.len() - 1)
        };
        Ok(match self {
            InputData::Bool(v) => v.len(),
            InputData::Int8(v) => v.len(),
            InputData::Int16(v) => v.len(),
            InputData::Int32(v) => v.len(),
            InputData::Int64(v) => v.len(),
            InputData::Float32(v) => v.len(),
            InputData::Float64(v) => v.len(),
            InputData::Date(v) => v.len(),
            InputData::Datetime(v) => v.len(),
            InputData::Uuid(v) => v.len(),
            InputData::Array(v) => v.len(),
            InputData::UInt64(v) => v.len(),
            InputData::Blob(v) => v.len(),
            InputData::String { offsets, bytes }
            | InputData::Bytes { offsets, bytes }
            | InputData::Decimal { offsets, bytes }
            | InputData::Json { offsets, bytes } => var(offsets, bytes)?,
        })
    }

    /// Element i; text kinds are checked for UTF-8 here.
    pub fn elem(&self, name: &str, i: usize) -> Result<Elem<'a>> {
        let text = |offsets: &'a [i64], bytes: &'a [u8]| -> Result<&'a str> {
            let b = &bytes[offsets[i] as usize..offsets[i + 1] as usize];
            std::str::from_utf8(b).map_err(|_| {
                Error::invalid_arg(format!("attribute '{name}': row {i} is not valid UTF-8"))
            })
        };
        Ok(match *self {
            InputData::Bool(v) => match v[i] {
                0 | 1 => Elem::Bool(v[i] == 1),
                other => {
                    return Err(Error::type_err(format!(
                        "attribute '{name}': row {i}: bool byte {other} is not 0 or 1"
                    )))
                }
            },
            InputData::Int8(v) => Elem::Int(v[i] as i64),
            InputData::Int16(v) => Elem::Int(v[i] as i64),
            InputData::Int32(v) => Elem::Int(v[i] as i64),
            InputData::Int64(v) => Elem::Int(v[i]),
            InputData::Float32(v) => Elem::Float(v[i] as f64),
            InputData::Float64(v) => Elem::Float(v[i]),
            InputData::Date(v) => Elem::Date(v[i]),
            InputData::Datetime(v) => Elem::Datetime(v[i]),
            InputData::Uuid(v) => Elem::Uuid(&v[i]),
            InputData::Array(v) => Elem::Array(&v[i]),
            InputData::Blob(v) => Elem::Blob(v[i]),
            InputData::UInt64(v) => match i64::try_from(v[i]) {
                Ok(x) => Elem::Int(x),
                Err(_) => Elem::UInt(v[i]),
            },
            InputData::String { offsets, bytes } => Elem::Str(text(offsets, bytes)?),
            InputData::Bytes { offsets, bytes } => {
                Elem::Bytes(&bytes[offsets[i] as usize..offsets[i + 1] as usize])
            }
            InputData::Decimal { offsets, bytes } => Elem::Decimal(text(offsets, bytes)?),
            InputData::Json { offsets, bytes } => Elem::Json(text(offsets, bytes)?),
        })
    }
}

/// Builds a result column of one buffer kind from the values a driver decoded (PostgreSQL,
/// MySQL): the one place where a server's value becomes a buffer element.
pub struct ColumnBuilder {
    data: ColumnData,
    validity: Vec<u8>,
    has_null: bool,
    attr: String,
}

impl ColumnBuilder {
    pub fn new(kind: Kind, capacity: usize, attr: &str) -> Self {
        ColumnBuilder {
            data: ColumnData::new(kind, capacity),
            validity: Vec::with_capacity(capacity),
            has_null: false,
            attr: attr.to_string(),
        }
    }

    fn bad(&self, what: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorCode::Type,
            format!(
                "attribute '{}': the server returned {what}, which does not fit a {} buffer",
                self.attr,
                self.data.kind().name()
            ),
        )
    }

    fn ok(&mut self) -> Result<()> {
        self.validity.push(1);
        Ok(())
    }

    pub fn kind(&self) -> Kind {
        self.data.kind()
    }

    /// One value, decoded by `f`, as text (the cells of catalog queries).
    pub fn text_of(f: impl FnOnce(&mut ColumnBuilder) -> Result<()>) -> Result<Option<String>> {
        let mut b = ColumnBuilder::new(Kind::String, 1, "catalog");
        f(&mut b)?;
        Ok(b.finish().text(0))
    }

    pub fn null(&mut self) {
        self.data.push_null();
        self.validity.push(0);
        self.has_null = true;
    }

    pub fn int(&mut self, v: i128) -> Result<()> {
        // built only on failure: this runs for every integer cell of a fetch
        let kind = self.data.kind();
        let attr = &self.attr;
        let bad = || {
            Error::new(
                ErrorCode::Type,
                format!(
                    "attribute '{attr}': the server returned the integer {v}, which does not fit a {} buffer",
                    kind.name()
                ),
            )
        };
        macro_rules! fit {
            ($o:expr, $t:ty) => {{
                let x = <$t>::try_from(v).map_err(|_| bad())?;
                $o.push(x)
            }};
        }
        match &mut self.data {
            ColumnData::Bool(o) => o.push((v != 0) as u8),
            ColumnData::Int8(o) => fit!(o, i8),
            ColumnData::Int16(o) => fit!(o, i16),
            ColumnData::Int32(o) => fit!(o, i32),
            ColumnData::Int64(o) => fit!(o, i64),
            ColumnData::UInt64(o) => fit!(o, u64),
            ColumnData::Float32(o) => o.push(v as f32),
            ColumnData::Float64(o) => o.push(v as f64),
            ColumnData::String(o) | ColumnData::Decimal(o) | ColumnData::Json(o) => {
                o.push(v.to_string().as_bytes())
            }
            _ => return Err(bad()),
        }
        self.ok()
    }

    pub fn float(&mut self, f: f64) -> Result<()> {
        match &mut self.data {
            ColumnData::Float32(o) => o.push(f as f32),
            ColumnData::Float64(o) => o.push(f),
            ColumnData::String(o) | ColumnData::Decimal(o) => o.push(format!("{f}").as_bytes()),
            ColumnData::Json(o) if f.is_finite() => o.push(format!("{f}").as_bytes()),
            _ => return Err(self.bad(format!("the float {f}"))),
        }
        self.ok()
    }

    pub fn text(&mut self, s: &str) -> Result<()> {
        let parsed_int = || s.trim().parse::<i128>().ok();
        match self.data.kind() {
            Kind::String | Kind::Decimal | Kind::Json | Kind::Bytes => match &mut self.data {
                ColumnData::String(o)
                | ColumnData::Decimal(o)
                | ColumnData::Json(o)
                | ColumnData::Bytes(o) => o.push(s.as_bytes()),
                _ => unreachable!(),
            },
            Kind::Bool => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "t" | "true" => return self.int(1),
                "0" | "f" | "false" => return self.int(0),
                _ => return Err(self.bad(format!("'{}'", truncate(s)))),
            },
            Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64 | Kind::UInt64 => {
                let v = parsed_int().ok_or_else(|| self.bad(format!("'{}'", truncate(s))))?;
                return self.int(v);
            }
            Kind::Float32 | Kind::Float64 => {
                let f: f64 = s
                    .trim()
                    .parse()
                    .map_err(|_| self.bad(format!("'{}'", truncate(s))))?;
                return self.float(f);
            }
            Kind::Date => {
                let d = parse_date(s).ok_or_else(|| self.bad(format!("'{}'", truncate(s))))?;
                return self.date(d);
            }
            Kind::Datetime => {
                let d = parse_datetime(s).ok_or_else(|| self.bad(format!("'{}'", truncate(s))))?;
                return self.datetime(d);
            }
            Kind::Uuid => {
                let u = uuid::Uuid::parse_str(s.trim())
                    .map_err(|_| self.bad(format!("'{}'", truncate(s))))?;
                return self.uuid(*u.as_bytes());
            }
            Kind::Blob => return Err(self.bad("a blob value from text")),
        }
        self.ok()
    }

    pub fn bytes(&mut self, b: &[u8]) -> Result<()> {
        match self.data.kind() {
            Kind::Bytes => {
                if let ColumnData::Bytes(o) = &mut self.data {
                    o.push(b)
                }
                self.ok()
            }
            Kind::Uuid if b.len() == 16 => self.uuid(b.try_into().expect("16 bytes")),
            _ => match std::str::from_utf8(b) {
                Ok(s) => self.text(s),
                Err(_) => Err(self.bad(format!("{} bytes that are not UTF-8 text", b.len()))),
            },
        }
    }

    pub fn date(&mut self, days: i32) -> Result<()> {
        match &mut self.data {
            ColumnData::Date(o) => o.push(days),
            ColumnData::Datetime(o) => o.push(days as i64 * 86_400_000_000),
            ColumnData::String(o) => o.push(format_date(days).as_bytes()),
            _ => return Err(self.bad(format!("the date {}", format_date(days)))),
        }
        self.ok()
    }

    pub fn datetime(&mut self, us: i64) -> Result<()> {
        match &mut self.data {
            ColumnData::Datetime(o) => o.push(us),
            ColumnData::String(o) => o.push(format_datetime(us).as_bytes()),
            _ => return Err(self.bad(format!("the datetime {}", format_datetime(us)))),
        }
        self.ok()
    }

    pub fn uuid(&mut self, u: [u8; 16]) -> Result<()> {
        match &mut self.data {
            ColumnData::Uuid(o) => o.push(u),
            ColumnData::Bytes(o) => o.push(&u),
            ColumnData::String(o) => o.push(uuid::Uuid::from_bytes(u).to_string().as_bytes()),
            _ => return Err(self.bad("a uuid")),
        }
        self.ok()
    }

    pub fn finish(self) -> Column {
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

/// Days since 1970-01-01 → (year, month, day).
pub fn ymd_of(days: i32) -> Option<(i32, u32, u32)> {
    let d = NaiveDate::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?)?;
    Some((d.year(), d.month(), d.day()))
}

/// Microseconds since the epoch → (year, month, day, hour, minute, second, microsecond).
pub fn civil_of(us: i64) -> Option<(i32, u32, u32, u32, u32, u32, u32)> {
    let dt = chrono::DateTime::from_timestamp_micros(us)?.naive_utc();
    Some((
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.nanosecond() / 1000,
    ))
}

/// (year, month, day, hour, minute, second, microsecond) → microseconds since the epoch.
pub fn micros_of(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(y, mo, d)?;
    let dt = date.and_hms_micro_opt(h, mi, s, us)?;
    Some(dt.and_utc().timestamp_micros())
}

// ---------- dates and times ----------

const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

pub fn date_from_ymd(y: i32, m: u32, d: u32) -> Option<i32> {
    NaiveDate::from_ymd_opt(y, m, d).map(|nd| nd.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)
}

pub fn format_date(days: i32) -> String {
    match NaiveDate::from_num_days_from_ce_opt(days.saturating_add(UNIX_EPOCH_DAYS_FROM_CE)) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => format!("<invalid date {days}>"),
    }
}

pub fn format_datetime(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(dt) => {
            let n = dt.naive_utc();
            if n.nanosecond() == 0 {
                n.format("%Y-%m-%d %H:%M:%S").to_string()
            } else {
                n.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
            }
        }
        None => format!("<invalid datetime {micros}>"),
    }
}

pub fn parse_date(s: &str) -> Option<i32> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)
}

/// Accepts `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.ffffff]]`, with `T` or space; a trailing `Z` is allowed.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let t = s.trim().trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    parse_date(t).map(|d| d as i64 * 86_400_000_000)
}

/// `[-]H…H:MM:SS[.ffffff]` (MySQL's TIME range, ±838:59:59) → signed microseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let (hms, frac) = match body.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (a, format!("{f:0<6}").parse::<i64>().ok()?)
        }
        Some(_) => return None,
        None => (body, 0),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (h, m, sec): (i64, i64, i64) = (
        parts[0].parse().ok()?,
        parts[1].parse().ok()?,
        parts[2].parse().ok()?,
    );
    if parts[1].len() != 2 || parts[2].len() != 2 || m > 59 || sec > 59 || h > 838 {
        return None;
    }
    let us = ((h * 60 + m) * 60 + sec) * 1_000_000 + frac;
    Some(if neg { -us } else { us })
}

/// Signed microseconds → `[-]HH:MM:SS[.ffffff]`.
pub fn format_time(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    let (s, frac) = (a / 1_000_000, a % 1_000_000);
    let base = format!("{sign}{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    }
}

/// Supported calendar range, as MySQL and PostgreSQL both store it: 0001-01-01 .. 9999-12-31.
pub const MIN_DATE_DAYS: i32 = -719_162;
pub const MAX_DATE_DAYS: i32 = 2_932_896;
const MIN_MICROS: i64 = MIN_DATE_DAYS as i64 * 86_400_000_000;
const MAX_MICROS: i64 = (MAX_DATE_DAYS as i64 + 1) * 86_400_000_000 - 1;

/// Round to `precision` fractional digits; None if the result leaves the supported range.
fn round_micros(us: i64, precision: Option<u8>) -> Option<i64> {
    if !(MIN_MICROS..=MAX_MICROS).contains(&us) {
        return None;
    }
    let p = precision.unwrap_or(0).min(6) as u32;
    let unit = 10i64.pow(6 - p);
    let r = us.rem_euclid(unit);
    let base = us - r;
    let v = if r * 2 >= unit { base + unit } else { base };
    (MIN_MICROS..=MAX_MICROS).contains(&v).then_some(v)
}

// ---------- decimals ----------

/// Normalise decimal text to exactly `scale` fractional digits; error if it does not fit
/// `precision`, or if it has more fractional digits than `scale` (no silent rounding).
pub fn normalize_decimal(
    text: &str,
    precision: u8,
    scale: u8,
) -> std::result::Result<String, String> {
    let t = text.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(p) => (
            &body[..p],
            body[p + 1..]
                .parse::<i32>()
                .map_err(|_| format!("'{text}' is not a decimal number"))?,
        ),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("'{text}' is not a decimal number"));
    }
    // digits with the decimal point after position `point`
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let mut point = int_part.len() as i64 + exp as i64;
    while point < 0 {
        digits.insert(0, b'0');
        point += 1;
    }
    while (digits.len() as i64) < point {
        digits.push(b'0');
    }
    let point = point as usize;
    let (ip, fp) = digits.split_at(point);
    let fp_trimmed_len = fp
        .iter()
        .rposition(|&b| b != b'0')
        .map(|p| p + 1)
        .unwrap_or(0);
    if fp_trimmed_len > scale as usize {
        return Err(format!("'{text}' has more than {scale} fractional digits"));
    }
    let ip_str = std::str::from_utf8(ip)
        .unwrap_or("")
        .trim_start_matches('0');
    if ip_str.len() > (precision - scale) as usize {
        return Err(format!(
            "'{text}' does not fit decimal({precision},{scale})"
        ));
    }
    let mut out = String::new();
    let is_zero = ip_str.is_empty() && fp[..fp_trimmed_len].iter().all(|&b| b == b'0');
    if neg && !is_zero {
        out.push('-');
    }
    out.push_str(if ip_str.is_empty() { "0" } else { ip_str });
    if scale > 0 {
        out.push('.');
        out.extend(fp[..fp_trimmed_len].iter().map(|&b| b as char));
        out.extend(std::iter::repeat_n('0', scale as usize - fp_trimmed_len));
    }
    Ok(out)
}

// ---------- conversion ----------

/// Builds the canonical column for one attribute from input elements.
pub struct Converter<'h> {
    attr: &'h Attribute,
    table: &'h str,
    pub out: ColumnData,
    pub validity: Vec<u8>,
    has_null: bool,
}

impl<'h> Converter<'h> {
    pub fn new(table: &'h str, attr: &'h Attribute, capacity: usize) -> Self {
        Converter {
            attr,
            table,
            out: ColumnData::new(canonical_kind(&attr.ty), capacity),
            validity: Vec::with_capacity(capacity),
            has_null: false,
        }
    }

    fn err(&self, code: ErrorCode, row: Option<usize>, msg: impl std::fmt::Display) -> Error {
        let at = match row {
            Some(r) => format!(" (row {r})"),
            None => String::new(),
        };
        Error::new(
            code,
            format!(
                "table {}, attribute '{}' ({}){at}: {msg}",
                self.table, self.attr.name, self.attr.declared_type
            ),
        )
    }

    fn type_err(&self, row: Option<usize>, e: &Elem) -> Error {
        self.err(
            ErrorCode::Type,
            row,
            format!("cannot store {}", e.describe()),
        )
    }

    /// Convert and append one element. `row` is used in messages only.
    pub fn push(&mut self, e: Elem, row: Option<usize>) -> Result<()> {
        // NaN in a numeric attribute means NULL (the reference's rule).
        let e = match e {
            Elem::Float(f) if f.is_nan() => Elem::Null,
            other => other,
        };
        if let Elem::Null = e {
            if !self.attr.nullable {
                return Err(self.err(
                    ErrorCode::Type,
                    row,
                    "NULL is not allowed (the attribute is not nullable)",
                ));
            }
            self.out.push_null();
            self.validity.push(0);
            self.has_null = true;
            return Ok(());
        }
        let ty = self.attr.ty.clone();
        match ty {
            AttrType::Core(c) => self.push_core(&c, e, row)?,
            AttrType::Native(n) => self.push_native(&n, e, row)?,
            AttrType::Codec { store: Some(_), .. } => match e {
                Elem::Json(s) => {
                    if let ColumnData::Json(o) = &mut self.out {
                        o.push(s.as_bytes())
                    }
                }
                _ => return Err(self.type_err(row, &e)),
            },
            AttrType::Codec { .. } | AttrType::Computed => {
                return Err(self.err(
                    ErrorCode::Unsupported,
                    row,
                    "inserting into this attribute type is not supported yet",
                ))
            }
        }
        self.validity.push(1);
        Ok(())
    }

    fn int_in(&self, v: i64, lo: i64, hi: i64, row: Option<usize>) -> Result<i64> {
        if v < lo || v > hi {
            return Err(self.err(
                ErrorCode::Type,
                row,
                format!("value {v} is out of range [{lo}, {hi}]"),
            ));
        }
        Ok(v)
    }

    fn as_int(&self, e: &Elem, lo: i64, hi: i64, row: Option<usize>) -> Result<i64> {
        match *e {
            Elem::Int(v) => self.int_in(v, lo, hi, row),
            Elem::UInt(v) => Err(self.err(
                ErrorCode::Type,
                row,
                format!("value {v} is out of range [{lo}, {hi}]"),
            )),
            Elem::Bool(b) => Ok(b as i64),
            Elem::Float(f) => {
                // Exactly representable i64 range: [-2^63, 2^63); `as` would saturate silently.
                if f.fract() != 0.0
                    || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
                {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("float {f} is not an integer in range [{lo}, {hi}]"),
                    ));
                }
                self.int_in(f as i64, lo, hi, row)
            }
            Elem::Decimal(s) => {
                let n =
                    normalize_decimal(s, 38, 0).map_err(|m| self.err(ErrorCode::Type, row, m))?;
                let v: i64 = n.parse().map_err(|_| {
                    self.err(ErrorCode::Type, row, format!("value {n} is out of range"))
                })?;
                self.int_in(v, lo, hi, row)
            }
            _ => Err(self.type_err(row, e)),
        }
    }

    fn as_float(&self, e: &Elem, row: Option<usize>) -> Result<f64> {
        match *e {
            Elem::Int(v) => Ok(v as f64),
            Elem::UInt(v) => Ok(v as f64),
            Elem::Float(f) => Ok(f),
            Elem::Bool(b) => Ok(b as i64 as f64),
            Elem::Decimal(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| self.err(ErrorCode::Type, row, format!("'{s}' is not a number"))),
            _ => Err(self.type_err(row, e)),
        }
    }

    fn as_text<'e>(&self, e: &Elem<'e>, row: Option<usize>) -> Result<&'e str> {
        match *e {
            Elem::Str(s) => Ok(s),
            _ => Err(self.type_err(row, e)),
        }
    }

    /// Native SQL types of older pipelines: integers are range-checked against the SQL type
    /// (unsigned ones travel in the next wider buffer kind); the others share the core rules.
    fn push_native(&mut self, n: &NativeType, e: Elem, row: Option<usize>) -> Result<()> {
        match &n.repr {
            NativeRepr::Int { .. } | NativeRepr::Year => {
                let (lo, hi) = n.int_range().expect("integer range");
                let v: i128 = match e {
                    Elem::Int(v) => v as i128,
                    Elem::UInt(v) => v as i128,
                    Elem::Bool(b) => b as i128,
                    Elem::Float(f) if f.fract() == 0.0 && f.abs() < 1.9e19 => f as i128,
                    Elem::Decimal(s) => normalize_decimal(s, 38, 0)
                        .ok()
                        .and_then(|t| t.parse::<i128>().ok())
                        .ok_or_else(|| self.type_err(row, &e))?,
                    _ => return Err(self.type_err(row, &e)),
                };
                if v < lo || v > hi {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("value {v} is out of range [{lo}, {hi}]"),
                    ));
                }
                match &mut self.out {
                    ColumnData::Int8(o) => o.push(v as i8),
                    ColumnData::Int16(o) => o.push(v as i16),
                    ColumnData::Int32(o) => o.push(v as i32),
                    ColumnData::Int64(o) => o.push(v as i64),
                    ColumnData::UInt64(o) => o.push(v as u64),
                    _ => return Err(Error::internal("native integer buffer")),
                }
            }
            NativeRepr::Float32 => self.push_core(&CoreType::Float32, e, row)?,
            NativeRepr::Float64 => self.push_core(&CoreType::Float64, e, row)?,
            NativeRepr::Decimal(Some((p, s))) => {
                let (p, s) = ((*p).min(38), *s);
                self.push_core(&CoreType::Decimal(p, s.min(p)), e, row)?
            }
            NativeRepr::Decimal(None) => {
                let text = match e {
                    Elem::Decimal(s) | Elem::Str(s) => s.trim().to_string(),
                    Elem::Int(v) => v.to_string(),
                    Elem::UInt(v) => v.to_string(),
                    Elem::Float(f) if f.is_finite() => format!("{f}"),
                    _ => return Err(self.type_err(row, &e)),
                };
                if text.parse::<f64>().is_err() || text.contains(['i', 'I', 'n', 'N']) {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("'{}' is not a decimal number", truncate(&text)),
                    ));
                }
                if let ColumnData::Decimal(o) = &mut self.out {
                    o.push(text.as_bytes())
                }
            }
            NativeRepr::Text(Some(n)) => self.push_core(&CoreType::Varchar(*n), e, row)?,
            NativeRepr::Text(None) => {
                let s = self.as_text(&e, row)?;
                if let ColumnData::String(o) = &mut self.out {
                    o.push(s.as_bytes())
                }
            }
            NativeRepr::Bytes => self.push_core(&CoreType::Bytes, e, row)?,
            NativeRepr::Date => self.push_core(&CoreType::Date, e, row)?,
            NativeRepr::Datetime(p) => self.push_core(&CoreType::Datetime(*p), e, row)?,
            NativeRepr::Time => {
                let s = self.as_text(&e, row)?;
                if parse_time(s).is_none() {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("'{}' is not a time ([-]HH:MM:SS[.ffffff])", truncate(s)),
                    ));
                }
                if let ColumnData::String(o) = &mut self.out {
                    o.push(s.trim().as_bytes())
                }
            }
            NativeRepr::Enum(m) => self.push_core(&CoreType::Enum(m.clone()), e, row)?,
            NativeRepr::Json => self.push_core(&CoreType::Json, e, row)?,
            NativeRepr::Uuid => self.push_core(&CoreType::Uuid, e, row)?,
            NativeRepr::Other => {
                return Err(self.err(
                    ErrorCode::Unsupported,
                    row,
                    "values of this native SQL type can be fetched (as text) but not written",
                ))
            }
        }
        Ok(())
    }

    fn push_core(&mut self, c: &CoreType, e: Elem, row: Option<usize>) -> Result<()> {
        match (c, &mut self.out) {
            (CoreType::Int8, _) => {
                let v = self.as_int(&e, i8::MIN as i64, i8::MAX as i64, row)?;
                if let ColumnData::Int8(o) = &mut self.out {
                    o.push(v as i8)
                }
            }
            (CoreType::Int16, _) => {
                let v = self.as_int(&e, i16::MIN as i64, i16::MAX as i64, row)?;
                if let ColumnData::Int16(o) = &mut self.out {
                    o.push(v as i16)
                }
            }
            (CoreType::Int32, _) => {
                let v = self.as_int(&e, i32::MIN as i64, i32::MAX as i64, row)?;
                if let ColumnData::Int32(o) = &mut self.out {
                    o.push(v as i32)
                }
            }
            (CoreType::Int64, _) => {
                let v = self.as_int(&e, i64::MIN, i64::MAX, row)?;
                if let ColumnData::Int64(o) = &mut self.out {
                    o.push(v)
                }
            }
            (CoreType::Bool, _) => {
                let v = match e {
                    Elem::Bool(b) => b,
                    Elem::Int(0) => false,
                    Elem::Int(1) => true,
                    Elem::Float(0.0) => false,
                    Elem::Float(1.0) => true,
                    _ => return Err(self.type_err(row, &e)),
                };
                if let ColumnData::Bool(o) = &mut self.out {
                    o.push(v as u8)
                }
            }
            (CoreType::Float32, _) => {
                let f = self.as_float(&e, row)?;
                if f.is_finite() && (f as f32).is_infinite() {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("value {f} overflows float32"),
                    ));
                }
                if let ColumnData::Float32(o) = &mut self.out {
                    o.push(f as f32)
                }
            }
            (CoreType::Float64, _) => {
                let f = self.as_float(&e, row)?;
                if let ColumnData::Float64(o) = &mut self.out {
                    o.push(f)
                }
            }
            (CoreType::Decimal(p, s), _) => {
                let text = match e {
                    Elem::Decimal(s) | Elem::Str(s) => s.to_string(),
                    Elem::Int(v) => v.to_string(),
                    Elem::UInt(v) => v.to_string(),
                    Elem::Float(f) if f.is_finite() => format!("{f}"),
                    _ => return Err(self.type_err(row, &e)),
                };
                let n = normalize_decimal(&text, *p, *s)
                    .map_err(|m| self.err(ErrorCode::Type, row, m))?;
                if let ColumnData::Decimal(o) = &mut self.out {
                    o.push(n.as_bytes())
                }
            }
            (CoreType::Char(n) | CoreType::Varchar(n), _) => {
                let s = self.as_text(&e, row)?;
                let len = s.chars().count();
                if len > *n as usize {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("string of {len} characters exceeds the length {n}"),
                    ));
                }
                if let ColumnData::String(o) = &mut self.out {
                    o.push(s.as_bytes())
                }
            }
            (CoreType::Enum(members), _) => {
                let s = self.as_text(&e, row)?;
                if !members.iter().any(|m| m == s) {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!("'{}' is not one of {:?}", truncate(s), members),
                    ));
                }
                if let ColumnData::String(o) = &mut self.out {
                    o.push(s.as_bytes())
                }
            }
            (CoreType::Json, _) => {
                let s = match e {
                    Elem::Json(s) | Elem::Str(s) => s,
                    _ => return Err(self.type_err(row, &e)),
                };
                if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(s) {
                    return Err(self.err(ErrorCode::Type, row, format!("invalid JSON: {err}")));
                }
                if let ColumnData::Json(o) = &mut self.out {
                    o.push(s.as_bytes())
                }
            }
            (CoreType::Bytes, _) => {
                let b = match e {
                    Elem::Bytes(b) => b,
                    _ => return Err(self.type_err(row, &e)),
                };
                if let ColumnData::Bytes(o) = &mut self.out {
                    o.push(b)
                }
            }
            (CoreType::Uuid, _) => {
                let u: [u8; 16] = match e {
                    Elem::Uuid(u) => *u,
                    Elem::Bytes(b) if b.len() == 16 => b.try_into().expect("16 bytes"),
                    Elem::Str(s) => *uuid::Uuid::parse_str(s.trim())
                        .map_err(|_| {
                            self.err(
                                ErrorCode::Type,
                                row,
                                format!("'{}' is not a UUID", truncate(s)),
                            )
                        })?
                        .as_bytes(),
                    _ => return Err(self.type_err(row, &e)),
                };
                if let ColumnData::Uuid(o) = &mut self.out {
                    o.push(u)
                }
            }
            (CoreType::Date, _) => {
                let d = match e {
                    Elem::Date(d) => d,
                    Elem::Str(s) => parse_date(s).ok_or_else(|| {
                        self.err(
                            ErrorCode::Type,
                            row,
                            format!("'{}' is not a date (YYYY-MM-DD)", truncate(s)),
                        )
                    })?,
                    _ => return Err(self.type_err(row, &e)),
                };
                if !(MIN_DATE_DAYS..=MAX_DATE_DAYS).contains(&d) {
                    return Err(self.err(
                        ErrorCode::Type,
                        row,
                        format!(
                            "date {d} (days since 1970-01-01) is outside 0001-01-01 .. 9999-12-31"
                        ),
                    ));
                }
                if let ColumnData::Date(o) = &mut self.out {
                    o.push(d)
                }
            }
            (CoreType::Datetime(prec), _) => {
                let us = match e {
                    Elem::Datetime(us) => us,
                    Elem::Date(d) => d as i64 * 86_400_000_000,
                    Elem::Str(s) => parse_datetime(s).ok_or_else(|| {
                        self.err(
                            ErrorCode::Type,
                            row,
                            format!(
                                "'{}' is not a datetime (YYYY-MM-DD HH:MM:SS[.ffffff])",
                                truncate(s)
                            ),
                        )
                    })?,
                    _ => return Err(self.type_err(row, &e)),
                };
                let us = round_micros(us, *prec).ok_or_else(|| {
                    self.err(
                        ErrorCode::Type,
                        row,
                        format!(
                            "datetime {us} µs since the epoch is outside 0001-01-01 .. 9999-12-31"
                        ),
                    )
                })?;
                if let ColumnData::Datetime(o) = &mut self.out {
                    o.push(us)
                }
            }
        }
        Ok(())
    }

    /// Finish: the column plus validity (None when there were no NULLs).
    pub fn finish(self) -> Column {
        Column {
            data: self.out,
            validity: if self.has_null {
                Some(self.validity)
            } else {
                None
            },
        }
    }
}

/// The canonical buffer kind for an attribute's values on their way to the backend.
pub fn canonical_kind(ty: &AttrType) -> Kind {
    ty.kind()
}
