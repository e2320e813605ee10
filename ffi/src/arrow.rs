//! Results through the Arrow C Data Interface: a struct array whose children are the result's
//! columns, sharing the result's buffers (no copy) except where Arrow's layout differs
//! (booleans and validity are bitmaps in Arrow, one byte per value here).

use crate::dj_status;
use crate::handles::dj_result;
use crate::util::*;
use arrow::array::{Array, ArrayData, StructArray};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, TimeUnit};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use datajoint_core::{ColumnData, Error, ResultSet};
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::Arc;

/// `struct ArrowSchema` of the Arrow C Data Interface (defined in datajoint.h).
#[repr(C)]
pub struct ArrowSchema {
    _private: [u8; 0],
}

/// `struct ArrowArray` of the Arrow C Data Interface (defined in datajoint.h).
#[repr(C)]
pub struct ArrowArray {
    _private: [u8; 0],
}

/// A buffer of the shared result (kept alive by the arrays that use it).
unsafe fn shared<T>(owner: &Arc<ResultSet>, v: &[T]) -> Buffer {
    let len = std::mem::size_of_val(v);
    match NonNull::new(v.as_ptr() as *mut u8) {
        // SAFETY: the slice lives inside `owner`'s columns, which are never mutated, and the
        // Arc handed to the buffer keeps them alive until the consumer releases the array.
        Some(p) if len > 0 => Buffer::from_custom_allocation(p, len, owner.clone()),
        _ => Buffer::from_vec(Vec::<u8>::new()),
    }
}

fn bitmap(bytes: &[u8]) -> Buffer {
    let mut out = vec![0u8; bytes.len().div_ceil(8)];
    for (i, &b) in bytes.iter().enumerate() {
        if b != 0 {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    Buffer::from_vec(out)
}

fn field(name: &str, t: DataType, ext: Option<&str>) -> Field {
    let f = Field::new(name, t, true);
    match ext {
        Some(e) => f.with_metadata(HashMap::from([(
            "ARROW:extension:name".to_string(),
            e.to_string(),
        )])),
        None => f,
    }
}

/// The Arrow field and data of column `i`.
unsafe fn column(rs: &Arc<ResultSet>, i: usize) -> datajoint_core::Result<(Field, ArrayData)> {
    let a = &rs.attributes[i];
    let c = &rs.columns[i];
    let n = c.len();
    let name = a.name.as_str();
    let (f, buffers) = match &c.data {
        ColumnData::Bool(v) => (field(name, DataType::Boolean, None), vec![bitmap(v)]),
        ColumnData::Int8(v) => (field(name, DataType::Int8, None), vec![shared(rs, v)]),
        ColumnData::Int16(v) => (field(name, DataType::Int16, None), vec![shared(rs, v)]),
        ColumnData::Int32(v) => (field(name, DataType::Int32, None), vec![shared(rs, v)]),
        ColumnData::Int64(v) => (field(name, DataType::Int64, None), vec![shared(rs, v)]),
        ColumnData::UInt64(v) => (field(name, DataType::UInt64, None), vec![shared(rs, v)]),
        ColumnData::Float32(v) => (field(name, DataType::Float32, None), vec![shared(rs, v)]),
        ColumnData::Float64(v) => (field(name, DataType::Float64, None), vec![shared(rs, v)]),
        ColumnData::Date(v) => (field(name, DataType::Date32, None), vec![shared(rs, v)]),
        ColumnData::Datetime(v) => (
            field(name, DataType::Timestamp(TimeUnit::Microsecond, None), None),
            vec![shared(rs, v)],
        ),
        ColumnData::Uuid(v) => (
            field(name, DataType::FixedSizeBinary(16), Some("arrow.uuid")),
            vec![shared(rs, v)],
        ),
        ColumnData::String(v) | ColumnData::Decimal(v) | ColumnData::Json(v) => {
            let ext = matches!(c.data, ColumnData::Json(_)).then_some("arrow.json");
            (
                field(name, DataType::LargeUtf8, ext),
                vec![shared(rs, &v.offsets), shared(rs, &v.bytes)],
            )
        }
        ColumnData::Bytes(v) => (
            field(name, DataType::LargeBinary, None),
            vec![shared(rs, &v.offsets), shared(rs, &v.bytes)],
        ),
        ColumnData::Blob(_) => {
            return Err(Error::invalid_arg(format!(
                "column '{name}' holds <blob> value trees, which Arrow cannot carry; fetch it \
                 raw (packed bytes) or leave it out"
            )))
        }
    };
    let mut b = ArrayData::builder(f.data_type().clone())
        .len(n)
        .buffers(buffers);
    if let Some(v) = &c.validity {
        b = b.null_bit_buffer(Some(bitmap(v)));
    }
    let data = b
        .build()
        .map_err(|e| Error::internal(format!("column '{name}' as Arrow: {e}")))?;
    Ok((f, data))
}

/// Export a result through the Arrow C Data Interface as one struct array (a record batch):
/// `out_schema` gets format "+s" with one child per column, `out_array` the data. Columns
/// share the result's buffers, which stay valid until the consumer calls both `release`
/// callbacks, even after dj_result_free. Types: integers, floats, date32, timestamp[us],
/// large_utf8 (strings; decimals as text; JSON with extension arrow.json), large_binary,
/// fixed_size_binary(16) (extension arrow.uuid), bool. `<blob>` value trees cannot be
/// exported (fetch them raw). (ABI 0.5)
#[no_mangle]
pub unsafe extern "C" fn dj_result_export_arrow(
    result: *const dj_result,
    out_schema: *mut ArrowSchema,
    out_array: *mut ArrowArray,
) -> dj_status {
    call(|| {
        let r = handle_ref(result)?;
        if out_schema.is_null() || out_array.is_null() {
            return Err(Error::invalid_arg(
                "out_schema and out_array must not be NULL",
            ));
        }
        let (os, oa) = (
            out_schema as *mut FFI_ArrowSchema,
            out_array as *mut FFI_ArrowArray,
        );
        let rs = r.rs.clone();
        let mut fields = Vec::new();
        let mut arrays: Vec<Arc<dyn Array>> = Vec::new();
        for i in 0..rs.columns.len() {
            let (f, d) = column(&rs, i)?;
            fields.push(f);
            arrays.push(arrow::array::make_array(d));
        }
        let st = if fields.is_empty() {
            StructArray::new_empty_fields(rs.nrows, None)
        } else {
            StructArray::try_new(fields.into(), arrays, None)
                .map_err(|e| Error::internal(format!("result as Arrow: {e}")))?
        };
        let data = st.to_data();
        let schema = FFI_ArrowSchema::try_from(data.data_type())
            .map_err(|e| Error::internal(format!("result schema as Arrow: {e}")))?;
        std::ptr::write(os, schema);
        std::ptr::write(oa, FFI_ArrowArray::new(&data));
        Ok(())
    })
}
