//! `dj_value`: the `<blob>` value tree through the C ABI. A `dj_value*` is either an owned root
//! (from a `dj_value_new_*` constructor or `dj_value_clone`, freed with `dj_value_free`) or a
//! borrowed node inside another tree or a result (never freed; valid while its owner lives).
//! Numeric arrays are views: `dj_value_array` points into the value's own buffer.

use crate::util::*;
use crate::{dj_result, dj_row, dj_status};
use bytes::Bytes;
use datajoint_core::blob::{ArrayClass, BlobValue, CellArray, NdArray, StructArray};
use datajoint_core::{ColumnData, Error, Value};
use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Arc;

/// Opaque: a node of a `<blob>` value tree.
pub struct dj_value {
    _private: [u8; 0],
}

/// No value (Python `None`); also a NULL attribute.
pub const DJ_VALUE_NONE: i32 = 0;
pub const DJ_VALUE_BOOL: i32 = 1;
/// A Python int within 64 bits.
pub const DJ_VALUE_INT: i32 = 2;
/// A Python int beyond 64 bits: little-endian two's complement bytes (`dj_value_get_bytes`).
pub const DJ_VALUE_BIGINT: i32 = 3;
pub const DJ_VALUE_FLOAT: i32 = 4;
pub const DJ_VALUE_COMPLEX: i32 = 5;
/// UTF-8 text (Python `str`).
pub const DJ_VALUE_STRING: i32 = 6;
pub const DJ_VALUE_BYTES: i32 = 7;
/// Exact decimal text (`dj_value_get_string`).
pub const DJ_VALUE_DECIMAL: i32 = 8;
/// Days since 1970-01-01.
pub const DJ_VALUE_DATE: i32 = 9;
/// Microseconds since midnight.
pub const DJ_VALUE_TIME: i32 = 10;
/// Microseconds since 1970-01-01T00:00:00.
pub const DJ_VALUE_DATETIME: i32 = 11;
pub const DJ_VALUE_UUID: i32 = 12;
pub const DJ_VALUE_TUPLE: i32 = 13;
pub const DJ_VALUE_LIST: i32 = 14;
pub const DJ_VALUE_SET: i32 = 15;
/// A mapping: `dj_value_dict_key(v, i)` / `dj_value_item(v, i)`.
pub const DJ_VALUE_DICT: i32 = 16;
/// A numeric / logical / char N-d array (`dj_value_array`).
pub const DJ_VALUE_ARRAY: i32 = 17;
/// A MATLAB struct array (`dj_value_struct_get`).
pub const DJ_VALUE_STRUCT: i32 = 18;
/// A MATLAB cell array.
pub const DJ_VALUE_CELL: i32 = 19;
/// A numpy object array (items like a cell; written only in the dj0 protocol).
pub const DJ_VALUE_OBJECT_ARRAY: i32 = 20;
/// A numpy structured array: named fields (`dj_value_field_name`, `dj_value_item`).
pub const DJ_VALUE_RECORD: i32 = 21;
/// A MATLAB sparse matrix (`dj_value_sparse`).
pub const DJ_VALUE_SPARSE: i32 = 22;

/// Array element classes: MATLAB's mxClassID numbers.
pub const DJ_CLASS_LOGICAL: i32 = 3;
/// UTF-16 code units, 2 bytes each.
pub const DJ_CLASS_CHAR: i32 = 4;
pub const DJ_CLASS_DOUBLE: i32 = 6;
pub const DJ_CLASS_SINGLE: i32 = 7;
pub const DJ_CLASS_INT8: i32 = 8;
pub const DJ_CLASS_UINT8: i32 = 9;
pub const DJ_CLASS_INT16: i32 = 10;
pub const DJ_CLASS_UINT16: i32 = 11;
pub const DJ_CLASS_INT32: i32 = 12;
pub const DJ_CLASS_UINT32: i32 = 13;
pub const DJ_CLASS_INT64: i32 = 14;
pub const DJ_CLASS_UINT64: i32 = 15;
/// numpy datetime64: `DJ_CLASS_DATETIME64 + k`, k the unit in Y,M,W,D,h,m,s,ms,us,ns,ps,fs,as.
pub const DJ_CLASS_DATETIME64: i32 = 65536;

/// A borrowed view of an array value. Pointers live as long as the value.
#[repr(C)]
pub struct dj_blob_array {
    /// DJ_CLASS_*.
    pub class_id: i32,
    /// Non-zero when `imag` holds imaginary parts.
    pub is_complex: i32,
    pub ndim: i32,
    /// `ndim` extents (MATLAB/numpy shape; data is column-major).
    pub shape: *const i64,
    /// Number of elements (product of the shape).
    pub length: u64,
    /// Bytes per element (of the real part).
    pub itemsize: i64,
    /// `length` elements, column-major, aligned for their type.
    pub real: *const c_void,
    /// `length` imaginary parts, or NULL.
    pub imag: *const c_void,
}

/// A borrowed view of a sparse matrix (compressed columns).
#[repr(C)]
pub struct dj_blob_sparse {
    pub rows: u64,
    pub cols: u64,
    /// Number of stored elements.
    pub nnz: u64,
    /// `cols + 1` column starts.
    pub jc: *const u64,
    /// `nnz` row indexes.
    pub ir: *const u64,
    /// The `nnz` stored elements (an nnz×1 array).
    pub values: dj_blob_array,
}

pub(crate) fn owned(v: BlobValue) -> *mut dj_value {
    Box::into_raw(Box::new(v)) as *mut dj_value
}

pub(crate) unsafe fn node<'a>(v: *const dj_value) -> datajoint_core::Result<&'a BlobValue> {
    if v.is_null() {
        return Err(Error::new(
            datajoint_core::ErrorCode::InvalidHandle,
            "dj_value is NULL",
        ));
    }
    Ok(&*(v as *const BlobValue))
}

unsafe fn node_mut<'a>(v: *mut dj_value) -> datajoint_core::Result<&'a mut BlobValue> {
    node(v)?;
    Ok(&mut *(v as *mut BlobValue))
}

/// Take ownership of a root passed to a container (it is consumed even when the call fails).
unsafe fn take(v: *mut dj_value) -> datajoint_core::Result<BlobValue> {
    node(v)?;
    Ok(*Box::from_raw(v as *mut BlobValue))
}

unsafe fn new_out(
    out: *mut *mut dj_value,
    f: impl FnOnce() -> datajoint_core::Result<BlobValue>,
) -> dj_status {
    call(|| {
        let o = out_ref(out, "out_value")?;
        *o = ptr::null_mut();
        *o = owned(f()?);
        Ok(())
    })
}

unsafe fn shape_of(ndim: i32, shape: *const i64) -> datajoint_core::Result<Vec<u64>> {
    if !(0..=64).contains(&ndim) {
        return Err(Error::invalid_arg(format!("ndim {ndim} is not in 0..64")));
    }
    if ndim > 0 && shape.is_null() {
        return Err(Error::invalid_arg("shape is NULL"));
    }
    let s = if ndim == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(shape, ndim as usize)
    };
    s.iter()
        .map(|&d| u64::try_from(d).map_err(|_| Error::invalid_arg(format!("negative extent {d}"))))
        .collect()
}

fn class_of(id: i32) -> datajoint_core::Result<ArrayClass> {
    u32::try_from(id)
        .ok()
        .and_then(ArrayClass::from_id)
        .ok_or_else(|| Error::invalid_arg(format!("unknown array class {id}")))
}

fn count(shape: &[u64]) -> datajoint_core::Result<usize> {
    shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::invalid_arg("the shape overflows"))
}

/// Free an owned value (NULL is ignored). Never free a borrowed node.
#[no_mangle]
pub unsafe extern "C" fn dj_value_free(v: *mut dj_value) {
    if !v.is_null() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(Box::from_raw(v as *mut BlobValue))
        }));
    }
}

/// A deep copy (arrays share their immutable buffers) that the caller owns.
#[no_mangle]
pub unsafe extern "C" fn dj_value_clone(
    v: *const dj_value,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || Ok(node(v)?.clone()))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_none(out_value: *mut *mut dj_value) -> dj_status {
    new_out(out_value, || Ok(BlobValue::None))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_bool(v: i32, out_value: *mut *mut dj_value) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Bool(v != 0)))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_int(v: i64, out_value: *mut *mut dj_value) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Int(v)))
}

/// An integer of any size from `n` little-endian two's complement bytes.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_bigint(
    le: *const u8,
    n: usize,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        if n == 0 || le.is_null() || n > 65535 {
            return Err(Error::invalid_arg("a big integer needs 1..65535 bytes"));
        }
        let b = std::slice::from_raw_parts(le, n);
        // normalise through the packer's reader: an int that fits is DJ_VALUE_INT
        let mut blob = datajoint_core::blob::DJ0.to_vec();
        blob.push(0x0A);
        blob.extend_from_slice(&(n as u16).to_le_bytes());
        blob.extend_from_slice(b);
        datajoint_core::blob::unpack(Bytes::from(blob)).map_err(Error::invalid_arg)
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_float(v: f64, out_value: *mut *mut dj_value) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Float(v)))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_complex(
    re: f64,
    im: f64,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Complex(re, im)))
}

/// A Python `str` from `len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_string(
    s: *const c_char,
    len: usize,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Str(utf8(s, len)?.to_string())))
}

unsafe fn utf8<'a>(s: *const c_char, len: usize) -> datajoint_core::Result<&'a str> {
    if len == 0 {
        return Ok("");
    }
    if s.is_null() {
        return Err(Error::invalid_arg("text is NULL"));
    }
    std::str::from_utf8(std::slice::from_raw_parts(s as *const u8, len))
        .map_err(|_| Error::invalid_arg("text is not valid UTF-8"))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_bytes(
    data: *const c_void,
    len: usize,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        if len > 0 && data.is_null() {
            return Err(Error::invalid_arg("data is NULL"));
        }
        let b = if len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(data as *const u8, len)
        };
        Ok(BlobValue::Bytes(Bytes::copy_from_slice(b)))
    })
}

/// An exact decimal from its text (e.g. "-12.50").
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_decimal(
    text: *const c_char,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        let t = req_str(text, "text")?;
        if t.parse::<f64>().is_err() && !matches!(t, "NaN" | "Infinity" | "-Infinity") {
            return Err(Error::invalid_arg(format!("'{t}' is not a decimal number")));
        }
        Ok(BlobValue::Decimal(t.to_string()))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_date(days: i32, out_value: *mut *mut dj_value) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Date(days)))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_time(
    micros: i64,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        if !(0..86_400_000_000).contains(&micros) {
            return Err(Error::invalid_arg("a time of day is 0 ≤ µs < 86400e6"));
        }
        Ok(BlobValue::Time(micros))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_datetime(
    micros: i64,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || Ok(BlobValue::Datetime(micros)))
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_new_uuid(
    bytes16: *const u8,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        if bytes16.is_null() {
            return Err(Error::invalid_arg("bytes16 is NULL"));
        }
        Ok(BlobValue::Uuid(
            std::slice::from_raw_parts(bytes16, 16)
                .try_into()
                .unwrap_or([0; 16]),
        ))
    })
}

/// An N-d array of DJ_CLASS_* `class_id`, copying `real` (and `imag` when not NULL, making it
/// complex): `prod(shape)` elements each, column-major. Char arrays hold UTF-16 code units.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_array(
    class_id: i32,
    ndim: i32,
    shape: *const i64,
    real: *const c_void,
    imag: *const c_void,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        let class = class_of(class_id)?;
        let shape = shape_of(ndim, shape)?;
        let nbytes = count(&shape)?
            .checked_mul(class.itemsize())
            .ok_or_else(|| Error::invalid_arg("the shape overflows"))?;
        if nbytes > 0 && real.is_null() {
            return Err(Error::invalid_arg("real is NULL"));
        }
        let mut data = Vec::with_capacity(nbytes * if imag.is_null() { 1 } else { 2 });
        if nbytes > 0 {
            data.extend_from_slice(std::slice::from_raw_parts(real as *const u8, nbytes));
            if !imag.is_null() {
                data.extend_from_slice(std::slice::from_raw_parts(imag as *const u8, nbytes));
            }
        }
        NdArray::new(class, shape, !imag.is_null(), Bytes::from(data))
            .map(BlobValue::Array)
            .map_err(Error::type_err)
    })
}

/// A 1×n MATLAB char row from `len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_char(
    s: *const c_char,
    len: usize,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        Ok(BlobValue::Array(NdArray::char_row(utf8(s, len)?)))
    })
}

/// An empty DJ_VALUE_TUPLE, DJ_VALUE_LIST, DJ_VALUE_SET or DJ_VALUE_DICT.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_container(
    value_type: i32,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        Ok(match value_type {
            DJ_VALUE_TUPLE => BlobValue::Tuple(Vec::new()),
            DJ_VALUE_LIST => BlobValue::List(Vec::new()),
            DJ_VALUE_SET => BlobValue::Set(Vec::new()),
            DJ_VALUE_DICT => BlobValue::Dict(Vec::new()),
            DJ_VALUE_RECORD => BlobValue::Record(Vec::new()),
            other => {
                return Err(Error::invalid_arg(format!(
                    "{other} is not a container type"
                )))
            }
        })
    })
}

/// Append `item` (an owned value, consumed even on failure) to a tuple, list or set.
#[no_mangle]
pub unsafe extern "C" fn dj_value_append(seq: *mut dj_value, item: *mut dj_value) -> dj_status {
    call(|| {
        let item = take(item)?;
        match node_mut(seq)? {
            BlobValue::Tuple(v) | BlobValue::List(v) | BlobValue::Set(v) => {
                v.push(item);
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "cannot append to a {}",
                other.type_name()
            ))),
        }
    })
}

/// Add `key` → `value` (owned values, consumed even on failure) to a dict.
#[no_mangle]
pub unsafe extern "C" fn dj_value_dict_insert(
    dict: *mut dj_value,
    key: *mut dj_value,
    value: *mut dj_value,
) -> dj_status {
    call(|| {
        let k = take(key);
        let v = take(value);
        let (k, v) = (k?, v?);
        match node_mut(dict)? {
            BlobValue::Dict(kv) => {
                kv.push((k, v));
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "{} is not a dict",
                other.type_name()
            ))),
        }
    })
}

/// Add field `name` = `value` (an owned array or record, consumed) to a record.
#[no_mangle]
pub unsafe extern "C" fn dj_value_record_add(
    rec: *mut dj_value,
    name: *const c_char,
    value: *mut dj_value,
) -> dj_status {
    call(|| {
        let v = take(value)?;
        let name = req_str(name, "name")?;
        if !matches!(
            v,
            BlobValue::Array(_) | BlobValue::ObjectArray(_) | BlobValue::Record(_)
        ) {
            return Err(Error::type_err(
                "a record field must be an array or a record",
            ));
        }
        match node_mut(rec)? {
            BlobValue::Record(f) => {
                f.push((name.to_string(), v));
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "{} is not a record",
                other.type_name()
            ))),
        }
    })
}

/// A DJ_VALUE_CELL (or DJ_VALUE_OBJECT_ARRAY) of `shape` whose items are all `[]`.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_cell(
    value_type: i32,
    ndim: i32,
    shape: *const i64,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        let shape = shape_of(ndim, shape)?;
        let n = count(&shape)?;
        let c = CellArray {
            shape,
            items: vec![BlobValue::empty_matrix(); n],
        };
        match value_type {
            DJ_VALUE_CELL => Ok(BlobValue::Cell(c)),
            DJ_VALUE_OBJECT_ARRAY => Ok(BlobValue::ObjectArray(c)),
            other => Err(Error::invalid_arg(format!("{other} is not a cell type"))),
        }
    })
}

/// Set item `i` (column-major) of a cell or object array to `item` (owned, consumed).
#[no_mangle]
pub unsafe extern "C" fn dj_value_cell_set(
    cell: *mut dj_value,
    i: usize,
    item: *mut dj_value,
) -> dj_status {
    call(|| {
        let item = take(item)?;
        match node_mut(cell)? {
            BlobValue::Cell(c) | BlobValue::ObjectArray(c) => {
                let n = c.items.len();
                *c.items
                    .get_mut(i)
                    .ok_or_else(|| Error::invalid_arg(format!("item {i} of {n}")))? = item;
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "{} is not a cell",
                other.type_name()
            ))),
        }
    })
}

/// A struct array of `shape` with `nfields` fields named `names`; every value starts as `[]`.
#[no_mangle]
pub unsafe extern "C" fn dj_value_new_struct(
    ndim: i32,
    shape: *const i64,
    nfields: usize,
    names: *const *const c_char,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        let shape = shape_of(ndim, shape)?;
        count(&shape)?;
        if nfields > 0 && names.is_null() {
            return Err(Error::invalid_arg("names is NULL"));
        }
        let mut fields = Vec::with_capacity(nfields);
        for k in 0..nfields {
            let n = req_str(*names.add(k), "names[i]")?;
            if n.is_empty() || fields.iter().any(|f: &String| f == n) {
                return Err(Error::invalid_arg(format!(
                    "field name '{n}' is empty or repeated"
                )));
            }
            fields.push(n.to_string());
        }
        Ok(BlobValue::Struct(StructArray::new(shape, fields)))
    })
}

/// Set field `field` of element `elem` (column-major) of a struct array (`value` owned, consumed).
#[no_mangle]
pub unsafe extern "C" fn dj_value_struct_set(
    s: *mut dj_value,
    elem: usize,
    field: *const c_char,
    value: *mut dj_value,
) -> dj_status {
    call(|| {
        let v = take(value)?;
        let field = req_str(field, "field")?;
        match node_mut(s)? {
            BlobValue::Struct(st) => {
                let f = st
                    .fields
                    .iter()
                    .position(|n| n == field)
                    .ok_or_else(|| Error::invalid_arg(format!("no field '{field}'")))?;
                let n = st.len();
                if elem >= n {
                    return Err(Error::invalid_arg(format!("element {elem} of {n}")));
                }
                let nf = st.fields.len();
                st.values[elem * nf + f] = v;
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "{} is not a struct",
                other.type_name()
            ))),
        }
    })
}

// ---------------------------------------------------------------- reading

/// DJ_VALUE_* of a value; -1 for NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_value_type(v: *const dj_value) -> i32 {
    guard_value(-1, || {
        Ok(match node(v)? {
            BlobValue::None => DJ_VALUE_NONE,
            BlobValue::Bool(_) => DJ_VALUE_BOOL,
            BlobValue::Int(_) => DJ_VALUE_INT,
            BlobValue::BigInt(_) => DJ_VALUE_BIGINT,
            BlobValue::Float(_) => DJ_VALUE_FLOAT,
            BlobValue::Complex(..) => DJ_VALUE_COMPLEX,
            BlobValue::Str(_) => DJ_VALUE_STRING,
            BlobValue::Bytes(_) => DJ_VALUE_BYTES,
            BlobValue::Decimal(_) => DJ_VALUE_DECIMAL,
            BlobValue::Date(_) => DJ_VALUE_DATE,
            BlobValue::Time(_) => DJ_VALUE_TIME,
            BlobValue::Datetime(_) => DJ_VALUE_DATETIME,
            BlobValue::Uuid(_) => DJ_VALUE_UUID,
            BlobValue::Tuple(_) => DJ_VALUE_TUPLE,
            BlobValue::List(_) => DJ_VALUE_LIST,
            BlobValue::Set(_) => DJ_VALUE_SET,
            BlobValue::Dict(_) => DJ_VALUE_DICT,
            BlobValue::Array(_) => DJ_VALUE_ARRAY,
            BlobValue::Struct(_) => DJ_VALUE_STRUCT,
            BlobValue::Cell(_) => DJ_VALUE_CELL,
            BlobValue::ObjectArray(_) => DJ_VALUE_OBJECT_ARRAY,
            BlobValue::Record(_) => DJ_VALUE_RECORD,
            BlobValue::Sparse(_) => DJ_VALUE_SPARSE,
        })
    })
}

unsafe fn get<T>(
    v: *const dj_value,
    out: *mut T,
    f: impl FnOnce(&BlobValue) -> Option<T>,
) -> dj_status {
    call(|| {
        let o = out_ref(out, "out")?;
        let n = node(v)?;
        *o = f(n).ok_or_else(|| Error::type_err(format!("the value is a {}", n.type_name())))?;
        Ok(())
    })
}

/// DJ_VALUE_BOOL, and 1×1 logical arrays.
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_bool(v: *const dj_value, out_bool: *mut i32) -> dj_status {
    get(v, out_bool, |n| match n {
        BlobValue::Bool(b) => Some(*b as i32),
        BlobValue::Array(a) if a.class == ArrayClass::Logical && a.len() == 1 => {
            Some(a.real()[0] as i32)
        }
        _ => None,
    })
}

/// DJ_VALUE_INT (and DJ_VALUE_BOOL as 0/1).
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_int(v: *const dj_value, out_int: *mut i64) -> dj_status {
    get(v, out_int, |n| match n {
        BlobValue::Int(i) => Some(*i),
        BlobValue::Bool(b) => Some(*b as i64),
        _ => None,
    })
}

/// DJ_VALUE_FLOAT, DJ_VALUE_INT, and real 1×1 double/single arrays (MATLAB's scalars).
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_float(v: *const dj_value, out_float: *mut f64) -> dj_status {
    get(v, out_float, |n| match n {
        BlobValue::Float(f) => Some(*f),
        BlobValue::Int(i) => Some(*i as f64),
        BlobValue::Array(a) if a.len() == 1 && !a.complex => match a.class {
            ArrayClass::Double => a.real_as::<f64>().map(|x| x[0]),
            ArrayClass::Single => a.real_as::<f32>().map(|x| x[0] as f64),
            _ => None,
        },
        _ => None,
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_value_get_complex(
    v: *const dj_value,
    out_re: *mut f64,
    out_im: *mut f64,
) -> dj_status {
    call(|| {
        let (re, im) = (out_ref(out_re, "out_re")?, out_ref(out_im, "out_im")?);
        match node(v)? {
            BlobValue::Complex(a, b) => {
                (*re, *im) = (*a, *b);
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "the value is a {}",
                other.type_name()
            ))),
        }
    })
}

/// The UTF-8 bytes (not NUL-terminated) of DJ_VALUE_STRING or DJ_VALUE_DECIMAL, borrowed.
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_string(
    v: *const dj_value,
    out_data: *mut *const c_char,
    out_len: *mut usize,
) -> dj_status {
    call(|| {
        let (d, l) = (out_ref(out_data, "out_data")?, out_ref(out_len, "out_len")?);
        match node(v)? {
            BlobValue::Str(s) | BlobValue::Decimal(s) => {
                (*d, *l) = (s.as_ptr() as *const c_char, s.len());
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "the value is a {}",
                other.type_name()
            ))),
        }
    })
}

/// The bytes of DJ_VALUE_BYTES, or the little-endian bytes of DJ_VALUE_BIGINT, borrowed.
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_bytes(
    v: *const dj_value,
    out_data: *mut *const c_void,
    out_len: *mut usize,
) -> dj_status {
    call(|| {
        let (d, l) = (out_ref(out_data, "out_data")?, out_ref(out_len, "out_len")?);
        let b: &[u8] = match node(v)? {
            BlobValue::Bytes(b) => b,
            BlobValue::BigInt(b) => b,
            other => {
                return Err(Error::type_err(format!(
                    "the value is a {}",
                    other.type_name()
                )))
            }
        };
        (*d, *l) = (b.as_ptr() as *const c_void, b.len());
        Ok(())
    })
}

/// DJ_VALUE_DATE (days), DJ_VALUE_TIME and DJ_VALUE_DATETIME (µs) as one integer.
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_temporal(
    v: *const dj_value,
    out_value: *mut i64,
) -> dj_status {
    get(v, out_value, |n| match n {
        BlobValue::Date(d) => Some(*d as i64),
        BlobValue::Time(t) | BlobValue::Datetime(t) => Some(*t),
        _ => None,
    })
}

/// The 16 bytes of a DJ_VALUE_UUID, borrowed.
#[no_mangle]
pub unsafe extern "C" fn dj_value_get_uuid(
    v: *const dj_value,
    out_bytes16: *mut *const u8,
) -> dj_status {
    get(v, out_bytes16, |n| match n {
        BlobValue::Uuid(u) => Some(u.as_ptr()),
        _ => None,
    })
}

/// Number of items: of a tuple/list/set/cell/object array, entries of a dict, elements of a
/// struct array, fields of a record; 0 for anything else.
#[no_mangle]
pub unsafe extern "C" fn dj_value_len(v: *const dj_value) -> usize {
    guard_value(0, || {
        Ok(match node(v)? {
            BlobValue::Tuple(x) | BlobValue::List(x) | BlobValue::Set(x) => x.len(),
            BlobValue::Dict(kv) => kv.len(),
            BlobValue::Cell(c) | BlobValue::ObjectArray(c) => c.items.len(),
            BlobValue::Struct(s) => s.len(),
            BlobValue::Record(f) => f.len(),
            _ => 0,
        })
    })
}

/// Item `i` (borrowed): of a sequence or cell (column-major), the value of dict entry `i`, or
/// field `i` of a record. NULL when out of range or not a container.
#[no_mangle]
pub unsafe extern "C" fn dj_value_item(v: *const dj_value, i: usize) -> *const dj_value {
    guard_value(ptr::null(), || {
        let item = match node(v)? {
            BlobValue::Tuple(x) | BlobValue::List(x) | BlobValue::Set(x) => x.get(i),
            BlobValue::Dict(kv) => kv.get(i).map(|(_, x)| x),
            BlobValue::Cell(c) | BlobValue::ObjectArray(c) => c.items.get(i),
            BlobValue::Record(f) => f.get(i).map(|(_, x)| x),
            _ => None,
        };
        Ok(item.map_or(ptr::null(), |x| x as *const BlobValue as *const dj_value))
    })
}

/// The key of dict entry `i` (borrowed), or NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_value_dict_key(v: *const dj_value, i: usize) -> *const dj_value {
    guard_value(ptr::null(), || {
        Ok(match node(v)? {
            BlobValue::Dict(kv) => kv.get(i).map_or(ptr::null(), |(k, _)| {
                k as *const BlobValue as *const dj_value
            }),
            _ => ptr::null(),
        })
    })
}

/// The shape of an array, cell, object array or struct array (borrowed extents).
#[no_mangle]
pub unsafe extern "C" fn dj_value_shape(
    v: *const dj_value,
    out_ndim: *mut i32,
    out_shape: *mut *const i64,
) -> dj_status {
    call(|| {
        let (nd, sh) = (
            out_ref(out_ndim, "out_ndim")?,
            out_ref(out_shape, "out_shape")?,
        );
        let shape: &[u64] = match node(v)? {
            BlobValue::Array(a) => &a.shape,
            BlobValue::Cell(c) | BlobValue::ObjectArray(c) => &c.shape,
            BlobValue::Struct(s) => &s.shape,
            other => {
                return Err(Error::type_err(format!(
                    "a {} has no shape",
                    other.type_name()
                )))
            }
        };
        // u64 extents below 2^63 read the same as i64
        (*nd, *sh) = (shape.len() as i32, shape.as_ptr() as *const i64);
        Ok(())
    })
}

pub(crate) fn array_view(a: &NdArray) -> dj_blob_array {
    dj_blob_array {
        class_id: a.class.id() as i32,
        is_complex: a.complex as i32,
        ndim: a.shape.len() as i32,
        shape: a.shape.as_ptr() as *const i64,
        length: a.len(),
        itemsize: a.class.itemsize() as i64,
        real: a.real().as_ptr() as *const c_void,
        imag: a
            .imag()
            .map_or(ptr::null(), |b| b.as_ptr() as *const c_void),
    }
}

/// A view of a DJ_VALUE_ARRAY: the decoded buffer itself, no copy.
#[no_mangle]
pub unsafe extern "C" fn dj_value_array(
    v: *const dj_value,
    out_array: *mut dj_blob_array,
) -> dj_status {
    call(|| {
        let o = out_ref(out_array, "out_array")?;
        match node(v)? {
            BlobValue::Array(a) => {
                *o = array_view(a);
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "the value is a {}, not an array",
                other.type_name()
            ))),
        }
    })
}

/// A view of a DJ_VALUE_SPARSE.
#[no_mangle]
pub unsafe extern "C" fn dj_value_sparse(
    v: *const dj_value,
    out_sparse: *mut dj_blob_sparse,
) -> dj_status {
    call(|| {
        let o = out_ref(out_sparse, "out_sparse")?;
        match node(v)? {
            BlobValue::Sparse(s) => {
                *o = dj_blob_sparse {
                    rows: s.rows,
                    cols: s.cols,
                    nnz: s.ir.len() as u64,
                    jc: s.jc.as_ptr(),
                    ir: s.ir.as_ptr(),
                    values: array_view(&s.data),
                };
                Ok(())
            }
            other => Err(Error::type_err(format!(
                "the value is a {}, not sparse",
                other.type_name()
            ))),
        }
    })
}

/// Number of fields of a struct array or record; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn dj_value_field_count(v: *const dj_value) -> usize {
    guard_value(0, || {
        Ok(match node(v)? {
            BlobValue::Struct(s) => s.fields.len(),
            BlobValue::Record(f) => f.len(),
            _ => 0,
        })
    })
}

/// Name of field `i` of a struct array or record (UTF-8, not NUL-terminated, borrowed).
#[no_mangle]
pub unsafe extern "C" fn dj_value_field_name(
    v: *const dj_value,
    i: usize,
    out_name: *mut *const c_char,
    out_len: *mut usize,
) -> dj_status {
    call(|| {
        let (d, l) = (out_ref(out_name, "out_name")?, out_ref(out_len, "out_len")?);
        let name = match node(v)? {
            BlobValue::Struct(s) => s.fields.get(i),
            BlobValue::Record(f) => f.get(i).map(|(n, _)| n),
            other => {
                return Err(Error::type_err(format!(
                    "a {} has no fields",
                    other.type_name()
                )))
            }
        }
        .ok_or_else(|| Error::invalid_arg(format!("field {i} is out of range")))?;
        (*d, *l) = (name.as_ptr() as *const c_char, name.len());
        Ok(())
    })
}

/// Field `field` (index) of element `elem` (column-major) of a struct array (borrowed), or NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_value_struct_get(
    v: *const dj_value,
    elem: usize,
    field: usize,
) -> *const dj_value {
    guard_value(ptr::null(), || {
        Ok(match node(v)? {
            BlobValue::Struct(s) if field < s.fields.len() => s
                .values
                .get(elem * s.fields.len() + field)
                .map_or(ptr::null(), |x| x as *const BlobValue as *const dj_value),
            _ => ptr::null(),
        })
    })
}

/// Pack a value into DataJoint blob bytes (`mYm` when MATLAB can read it, `dj0` otherwise;
/// compressed when that pays). Copies into `buf` when `len` suffices; `out_needed` gets the size.
#[no_mangle]
pub unsafe extern "C" fn dj_value_pack(
    v: *const dj_value,
    buf: *mut c_void,
    len: usize,
    out_needed: *mut usize,
) -> dj_status {
    call(|| {
        let need = out_ref(out_needed, "out_needed")?;
        let b = datajoint_core::blob::pack(node(v)?).map_err(Error::type_err)?;
        *need = b.len();
        if !buf.is_null() && len >= b.len() {
            std::ptr::copy_nonoverlapping(b.as_ptr(), buf as *mut u8, b.len());
        }
        Ok(())
    })
}

/// Unpack DataJoint blob bytes (mYm or dj0, compressed or not) into an owned value.
#[no_mangle]
pub unsafe extern "C" fn dj_value_unpack(
    data: *const c_void,
    len: usize,
    out_value: *mut *mut dj_value,
) -> dj_status {
    new_out(out_value, || {
        if data.is_null() {
            return Err(Error::invalid_arg("data is NULL"));
        }
        let b = Bytes::copy_from_slice(std::slice::from_raw_parts(data as *const u8, len));
        datajoint_core::blob::unpack(b).map_err(|m| Error::new(datajoint_core::ErrorCode::Codec, m))
    })
}

// ---------------------------------------------------------------- rows and results

/// Set a `<blob>` attribute to a value tree (copied; the caller keeps and frees `value`).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_value(
    row: *mut dj_row,
    name: *const c_char,
    value: *const dj_value,
) -> dj_status {
    crate::row_set(row, name, || {
        Ok(Value::Blob(Arc::new(node(value)?.clone())))
    })
}

/// Set an `<attach>` attribute to a file given by its name and content (copied). A path to a
/// file is set with `dj_row_set_string`.
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_attachment(
    row: *mut dj_row,
    name: *const c_char,
    filename: *const c_char,
    data: *const c_void,
    len: usize,
) -> dj_status {
    crate::row_set(row, name, || {
        let f = req_str(filename, "filename")?;
        if len > 0 && data.is_null() {
            return Err(Error::invalid_arg("data is NULL"));
        }
        let b = if len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(data as *const u8, len)
        };
        Ok(Value::attachment(f, Bytes::copy_from_slice(b)))
    })
}

/// The `<blob>` value in column `col`, row `row` of a result, borrowed from the result (valid
/// until it is freed). DJ_E_NOT_FOUND when NULL; DJ_E_TYPE when the column is not a blob.
#[no_mangle]
pub unsafe extern "C" fn dj_result_value(
    result: *const dj_result,
    col: usize,
    row: usize,
    out_value: *mut *const dj_value,
) -> dj_status {
    call(|| {
        let o = out_ref(out_value, "out_value")?;
        *o = ptr::null();
        let r = handle_ref(result)?;
        let c = r.rs.columns.get(col).ok_or_else(|| {
            Error::invalid_arg(format!(
                "column index {col} out of range ({} columns)",
                r.rs.columns.len()
            ))
        })?;
        let ColumnData::Blob(v) = &c.data else {
            return Err(Error::type_err(format!(
                "column '{}' ({}) does not hold blob values",
                r.rs.attributes[col].name, r.rs.attributes[col].declared_type
            )));
        };
        if row >= v.len() {
            return Err(Error::invalid_arg(format!(
                "row {row} is out of range ({} rows)",
                v.len()
            )));
        }
        if c.is_null(row) {
            return Err(Error::not_found(format!(
                "attribute '{}' is NULL in row {row}",
                r.rs.attributes[col].name
            )));
        }
        *o = Arc::as_ptr(&v[row]) as *const dj_value;
        Ok(())
    })
}
