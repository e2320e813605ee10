//! Opaque handle types. Each starts with a tag checked on entry, so a wrong or stale pointer of
//! another handle type is reported as DJ_E_INVALID_HANDLE instead of being misused.

use crate::{
    dj_array_view, dj_attr_info, dj_column_view, util::cstring_lossy, DJ_VIEW_C_ORDER,
    DJ_VIEW_F_ORDER, DJ_VIEW_MAPPED, DJ_VIEW_READONLY,
};
use datajoint_core::codecs::npy::{ArrayView, NpyRef};
use datajoint_core::store::Stores;
use datajoint_core::{
    declare::Default, Attribute, ColumnData, Connection, Error, ResultSet, Row, Schema, Table,
};
use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::Arc;

pub trait Handle {
    const TAG: u64;
    const NAME: &'static str;
    fn tag(&self) -> u64;
    fn clear_tag(&mut self);
}

macro_rules! handle_type {
    ($t:ident, $tag:expr, $name:expr) => {
        impl Handle for $t {
            const TAG: u64 = $tag;
            const NAME: &'static str = $name;
            fn tag(&self) -> u64 {
                self.tag
            }
            fn clear_tag(&mut self) {
                self.tag = 0;
            }
        }
    };
}
pub(crate) use handle_type;

/// A connection to a database.
#[repr(C)]
pub struct dj_conn {
    tag: u64,
    pub conn: Connection,
}
handle_type!(dj_conn, 0x646a_636f_6e6e_0001, "dj_conn");

impl dj_conn {
    pub fn new(conn: Connection) -> Box<dj_conn> {
        Box::new(dj_conn {
            tag: Self::TAG,
            conn,
        })
    }
}

/// A schema (keeps its connection alive).
#[repr(C)]
pub struct dj_schema {
    tag: u64,
    pub schema: Schema,
    pub name_c: CString,
}
handle_type!(dj_schema, 0x646a_7363_686d_0002, "dj_schema");

impl dj_schema {
    pub fn new(schema: Schema) -> Box<dj_schema> {
        let name_c = cstring_lossy(schema.name());
        Box::new(dj_schema {
            tag: Self::TAG,
            schema,
            name_c,
        })
    }
}

pub struct AttrStrings {
    pub name: CString,
    pub type_name: CString,
    pub comment: CString,
    pub default: Option<CString>,
}

/// A table, possibly restricted (keeps its connection alive).
#[repr(C)]
pub struct dj_table {
    tag: u64,
    pub table: Table,
    pub name_c: CString,
    pub comment_c: CString,
    pub attrs: Vec<AttrStrings>,
}
handle_type!(dj_table, 0x646a_7461_626c_0003, "dj_table");

/// The C strings of a heading's attributes.
pub fn attr_strings(attrs: &[Attribute]) -> Vec<AttrStrings> {
    attrs
        .iter()
        .map(|a| AttrStrings {
            name: cstring_lossy(&a.name),
            type_name: cstring_lossy(&a.declared_type),
            comment: cstring_lossy(&a.comment),
            default: a.default.as_ref().map(|d| {
                cstring_lossy(&match d {
                    Default::Null => "NULL".to_string(),
                    Default::Expression(e) => e.clone(),
                    Default::Literal(l) => l.clone(),
                })
            }),
        })
        .collect()
}

impl AttrStrings {
    /// The description of `a` (whose strings these are).
    pub fn info(&self, a: &Attribute) -> dj_attr_info {
        dj_attr_info {
            name: self.name.as_ptr(),
            type_name: self.type_name.as_ptr(),
            comment: self.comment.as_ptr(),
            default_value: self
                .default
                .as_ref()
                .map(|d| d.as_ptr())
                .unwrap_or(ptr::null()),
            kind: a.ty.result_kind() as i32,
            in_key: a.in_key as u8,
            nullable: a.nullable as u8,
        }
    }
}

impl dj_table {
    pub fn new(table: Table) -> Box<dj_table> {
        let attrs = attr_strings(&table.heading().attributes);
        Box::new(dj_table {
            tag: Self::TAG,
            name_c: cstring_lossy(table.name()),
            comment_c: cstring_lossy(&table.heading().comment),
            attrs,
            table,
        })
    }
}

/// A row of values, or a key.
#[repr(C)]
pub struct dj_row {
    tag: u64,
    pub row: Row,
}
handle_type!(dj_row, 0x646a_726f_7700_0004, "dj_row");

impl dj_row {
    pub fn new(row: Row) -> Box<dj_row> {
        Box::new(dj_row {
            tag: Self::TAG,
            row,
        })
    }
}

/// A columnar fetch result; its buffers stay valid until it is freed (independent of the
/// connection).
#[repr(C)]
pub struct dj_result {
    tag: u64,
    /// shared with the Arrow arrays exported from it
    pub rs: Arc<ResultSet>,
    names: Vec<CString>,
    types: Vec<CString>,
    /// Stores of the table the result came from (for `<npy@>` refs).
    pub stores: Option<Arc<Stores>>,
    /// For blob columns: one `const dj_value*` per row (addresses into `rs`).
    blob_ptrs: Vec<Vec<usize>>,
}
handle_type!(dj_result, 0x646a_7265_7375_0005, "dj_result");

impl dj_result {
    pub fn new(rs: ResultSet, stores: Option<Arc<Stores>>) -> Box<dj_result> {
        let names = rs
            .attributes
            .iter()
            .map(|a| cstring_lossy(&a.name))
            .collect();
        let types = rs
            .attributes
            .iter()
            .map(|a| cstring_lossy(&a.declared_type))
            .collect();
        let blob_ptrs = rs
            .columns
            .iter()
            .map(|c| match &c.data {
                ColumnData::Blob(v) => v.iter().map(|b| Arc::as_ptr(b) as usize).collect(),
                _ => Vec::new(),
            })
            .collect();
        Box::new(dj_result {
            tag: Self::TAG,
            rs: Arc::new(rs),
            names,
            types,
            stores,
            blob_ptrs,
        })
    }

    /// Another handle of the same result (the buffers are shared).
    pub fn share(&self) -> Box<dj_result> {
        Box::new(dj_result {
            tag: Self::TAG,
            rs: self.rs.clone(),
            names: self.names.clone(),
            types: self.types.clone(),
            stores: self.stores.clone(),
            blob_ptrs: self.blob_ptrs.clone(),
        })
    }

    pub fn view(&self, i: usize) -> datajoint_core::Result<dj_column_view> {
        let col = self.rs.columns.get(i).ok_or_else(|| {
            Error::invalid_arg(format!(
                "column index {i} out of range ({} columns)",
                self.rs.columns.len()
            ))
        })?;
        let attr = &self.rs.attributes[i];
        let (data, offsets): (*const c_void, *const i64) = match &col.data {
            ColumnData::Bool(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Int8(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Int16(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Int32(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Int64(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::UInt64(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Float32(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Float64(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Date(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Datetime(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::Uuid(v) => (v.as_ptr() as _, ptr::null()),
            ColumnData::String(v)
            | ColumnData::Bytes(v)
            | ColumnData::Decimal(v)
            | ColumnData::Json(v) => (v.bytes.as_ptr() as _, v.offsets.as_ptr()),
            ColumnData::Blob(_) => (self.blob_ptrs[i].as_ptr() as _, ptr::null()),
        };
        Ok(dj_column_view {
            name: self.names[i].as_ptr(),
            type_name: self.types[i].as_ptr(),
            kind: col.data.kind() as i32,
            in_key: attr.in_key as u8,
            length: col.len(),
            data,
            offsets,
            validity: col
                .validity
                .as_ref()
                .map(|v| v.as_ptr())
                .unwrap_or(ptr::null()),
        })
    }
}

/// A list of strings.
#[repr(C)]
pub struct dj_strlist {
    tag: u64,
    pub items: Vec<CString>,
}
handle_type!(dj_strlist, 0x646a_7374_726c_0006, "dj_strlist");

impl dj_strlist {
    pub fn new(items: Vec<String>) -> Box<dj_strlist> {
        Box::new(dj_strlist {
            tag: Self::TAG,
            items: items.iter().map(|s| cstring_lossy(s)).collect(),
        })
    }
}

/// A lazy reference to an `<npy@>` value.
#[repr(C)]
pub struct dj_npyref {
    tag: u64,
    pub r: NpyRef,
    pub local_file: std::sync::OnceLock<CString>,
    pub shape: Vec<i64>,
    pub dtype_c: CString,
    pub path_c: CString,
    pub store_c: CString,
}
handle_type!(dj_npyref, 0x646a_6e70_7972_0007, "dj_npyref");

impl dj_npyref {
    pub fn new(r: NpyRef) -> Box<dj_npyref> {
        Box::new(dj_npyref {
            tag: Self::TAG,
            shape: r.shape().iter().map(|&d| d as i64).collect(),
            dtype_c: cstring_lossy(&r.dtype().name()),
            path_c: cstring_lossy(r.path()),
            store_c: cstring_lossy(r.store()),
            local_file: std::sync::OnceLock::new(),
            r,
        })
    }
}

/// What a released-on-demand `dj_array_view` owns.
struct ViewPrivate {
    _view: ArrayView,
    shape: Vec<i64>,
    strides: Vec<i64>,
}

pub fn empty_view() -> dj_array_view {
    dj_array_view {
        data: ptr::null(),
        nbytes: 0,
        dtype: 0,
        ndim: 0,
        shape: ptr::null(),
        strides: ptr::null(),
        itemsize: 0,
        flags: 0,
        release: None,
        private_data: ptr::null_mut(),
    }
}

unsafe extern "C" fn release_view(v: *mut dj_array_view) {
    if v.is_null() || (*v).private_data.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drop(Box::from_raw((*v).private_data as *mut ViewPrivate));
    }));
    *v = empty_view();
}

/// Hand a view to C: its memory (map, download or buffer) is owned by `private_data`.
pub fn export_view(view: ArrayView) -> dj_array_view {
    let private = Box::new(ViewPrivate {
        shape: view.shape.iter().map(|&d| d as i64).collect(),
        strides: view.strides(),
        _view: view,
    });
    let v = &private._view;
    let mut flags = DJ_VIEW_READONLY
        | if v.fortran_order {
            DJ_VIEW_F_ORDER
        } else {
            DJ_VIEW_C_ORDER
        };
    if v.mapped {
        flags |= DJ_VIEW_MAPPED;
    }
    // 0-d and 1-d arrays are both C and F contiguous.
    if v.shape.len() <= 1 {
        flags |= DJ_VIEW_C_ORDER | DJ_VIEW_F_ORDER;
    }
    let out = dj_array_view {
        data: v.data().as_ptr() as *const c_void,
        nbytes: v.nbytes() as u64,
        dtype: crate::dtype_code_pub(v.dtype),
        ndim: v.shape.len() as i32,
        shape: private.shape.as_ptr(),
        strides: private.strides.as_ptr(),
        itemsize: v.dtype.itemsize() as i64,
        flags,
        release: Some(release_view),
        private_data: ptr::null_mut(),
    };
    dj_array_view {
        private_data: Box::into_raw(private) as *mut c_void,
        ..out
    }
}
