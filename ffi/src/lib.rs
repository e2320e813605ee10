//! C ABI over `datajoint-core`: only `extern "C"` shims. Conventions (see README "C API"):
//! - every fallible call returns a `dj_status` (0 = DJ_OK, negative = error code);
//! - details of the last error on the calling thread: `dj_last_error_code()` / `dj_last_error_message()`;
//! - each handle type has one `_free` function, NULL-safe; children keep their parents alive;
//! - out parameters come last, are named `out*`, and are set to NULL/0 on failure;
//! - no panic crosses the boundary (it becomes DJ_E_PANIC).
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

mod arrow;
mod blobvalue;
mod handles;
mod objects;
mod populate;
mod query;
mod util;

pub use arrow::*;
pub use blobvalue::*;
use datajoint_core::codecs::npy::ArrayView;
use datajoint_core::npy::Dtype;
use datajoint_core::value::ArrayValue;
use datajoint_core::{
    value, Connection, ErrorCode, FetchOptions, InputColumn, InputData, InsertOptions, Kind, Row,
    Tier, Value,
};
pub use handles::{dj_conn, dj_npyref, dj_result, dj_row, dj_schema, dj_strlist, dj_table};
pub use objects::*;
pub use populate::*;
pub use query::*;
use std::ffi::{c_char, c_void};
use std::ptr;
use util::*;

/// Status code returned by every fallible function: DJ_OK or a negative DJ_E_* code.
pub type dj_status = i32;

/// Success.
pub const DJ_OK: dj_status = 0;
/// A function argument is invalid (NULL where not allowed, bad UTF-8, bad option).
pub const DJ_E_INVALID_ARG: dj_status = -1;
/// A handle is NULL or not of the expected kind.
pub const DJ_E_INVALID_HANDLE: dj_status = -2;
/// The connection was closed.
pub const DJ_E_CLOSED: dj_status = -3;
/// A schema, table or row does not exist (also: fetch1 found no row).
pub const DJ_E_NOT_FOUND: dj_status = -4;
/// Duplicate primary key or unique value.
pub const DJ_E_DUPLICATE: dj_status = -5;
/// Foreign-key or other integrity constraint violated.
pub const DJ_E_INTEGRITY: dj_status = -6;
/// A value does not fit the attribute's type.
pub const DJ_E_TYPE: dj_status = -7;
/// Malformed table definition.
pub const DJ_E_DEFINITION: dj_status = -8;
/// Other database error.
pub const DJ_E_BACKEND: dj_status = -9;
/// Bad or missing configuration.
pub const DJ_E_CONFIG: dj_status = -10;
/// fetch1 found more than one row.
pub const DJ_E_NOT_UNIQUE: dj_status = -11;
/// A row, key or option names an attribute the table does not have.
pub const DJ_E_UNKNOWN_ATTRIBUTE: dj_status = -12;
/// Object-store error.
pub const DJ_E_STORE: dj_status = -13;
/// Codec error.
pub const DJ_E_CODEC: dj_status = -14;
/// Local I/O error.
pub const DJ_E_IO: dj_status = -15;
/// The database cannot be reached or opened.
pub const DJ_E_CONNECTION: dj_status = -16;
/// Not supported by this backend or version.
pub const DJ_E_UNSUPPORTED: dj_status = -17;
/// Not allowed here: a direct insert into a Computed/Imported table outside its `make`
/// (ABI 0.6), a populate inside a transaction.
pub const DJ_E_NOT_ALLOWED: dj_status = -18;
/// A `make` callback failed; the message is the callback's (ABI 0.6).
pub const DJ_E_MAKE_FAILED: dj_status = -19;
/// A Rust panic was caught at the boundary (a bug; please report it).
pub const DJ_E_PANIC: dj_status = -98;
/// Internal error (a bug).
pub const DJ_E_INTERNAL: dj_status = -99;

/// ABI major version; `dj_abi_version() >> 16` must equal it.
pub const DJ_ABI_VERSION_MAJOR: u32 = 0;
/// ABI minor version (additions only).
pub const DJ_ABI_VERSION_MINOR: u32 = 6;

/// Buffer kind (of `dj_column_in.kind`, `dj_column_view.kind`): uint8_t per value, 0 or 1.
pub const DJ_KIND_BOOL: i32 = 1;
/// Buffer kind: int8_t per value.
pub const DJ_KIND_INT8: i32 = 2;
/// Buffer kind: int16_t per value.
pub const DJ_KIND_INT16: i32 = 3;
/// Buffer kind: int32_t per value.
pub const DJ_KIND_INT32: i32 = 4;
/// Buffer kind: int64_t per value.
pub const DJ_KIND_INT64: i32 = 5;
/// Buffer kind: float per value.
pub const DJ_KIND_FLOAT32: i32 = 6;
/// Buffer kind: double per value.
pub const DJ_KIND_FLOAT64: i32 = 7;
/// Buffer kind: UTF-8 text, `offsets` (nrows+1 int64_t) into `data` bytes; not NUL-terminated.
pub const DJ_KIND_STRING: i32 = 8;
/// Buffer kind: bytes, `offsets` (nrows+1 int64_t) into `data`.
pub const DJ_KIND_BYTES: i32 = 9;
/// Buffer kind: int32_t days since 1970-01-01.
pub const DJ_KIND_DATE: i32 = 10;
/// Buffer kind: int64_t microseconds since 1970-01-01T00:00:00 (UTC by DataJoint convention).
pub const DJ_KIND_DATETIME: i32 = 11;
/// Buffer kind: 16 bytes per value (RFC 4122 byte order).
pub const DJ_KIND_UUID: i32 = 12;
/// Buffer kind: exact decimal as text (offsets + bytes), e.g. "-12.50".
pub const DJ_KIND_DECIMAL: i32 = 13;
/// Buffer kind: JSON document as text (offsets + bytes).
pub const DJ_KIND_JSON: i32 = 14;
/// Input kind for `<npy@>` attributes in a columnar insert: `data` points to `nrows`
/// `dj_array_in` structs (one array per row); `offsets` is unused.
pub const DJ_KIND_ARRAY: i32 = 15;
/// Buffer kind: uint64_t per value (native `bigint unsigned` columns of older MySQL pipelines;
/// smaller unsigned native integers arrive in the next wider signed kind).
pub const DJ_KIND_UINT64: i32 = 16;
/// `<blob>` values: one `const dj_value*` per row (results: borrowed from the result; columnar
/// inserts: read during the call).
pub const DJ_KIND_BLOB: i32 = 17;

/// Array element type: numpy bool (1 byte).
pub const DJ_DTYPE_BOOL: i32 = 1;
/// Array element type: int8.
pub const DJ_DTYPE_INT8: i32 = 2;
/// Array element type: int16.
pub const DJ_DTYPE_INT16: i32 = 3;
/// Array element type: int32.
pub const DJ_DTYPE_INT32: i32 = 4;
/// Array element type: int64.
pub const DJ_DTYPE_INT64: i32 = 5;
/// Array element type: uint8.
pub const DJ_DTYPE_UINT8: i32 = 6;
/// Array element type: uint16.
pub const DJ_DTYPE_UINT16: i32 = 7;
/// Array element type: uint32.
pub const DJ_DTYPE_UINT32: i32 = 8;
/// Array element type: uint64.
pub const DJ_DTYPE_UINT64: i32 = 9;
/// Array element type: IEEE half precision (2 bytes).
pub const DJ_DTYPE_FLOAT16: i32 = 10;
/// Array element type: float.
pub const DJ_DTYPE_FLOAT32: i32 = 11;
/// Array element type: double.
pub const DJ_DTYPE_FLOAT64: i32 = 12;
/// Array element type: complex of two floats (real, imaginary).
pub const DJ_DTYPE_COMPLEX64: i32 = 13;
/// Array element type: complex of two doubles (real, imaginary).
pub const DJ_DTYPE_COMPLEX128: i32 = 14;
/// Array element type: fixed-width bytes (numpy `S<n>`); `itemsize` = n.
pub const DJ_DTYPE_BYTES: i32 = 15;
/// Array element type: fixed-width UTF-32 text (numpy `U<n>`); `itemsize` = 4 n.
pub const DJ_DTYPE_UNICODE: i32 = 16;

/// Memory order of an array: row-major (C, numpy's default).
pub const DJ_ORDER_C: i32 = 0;
/// Memory order of an array: column-major (Fortran; MATLAB and Julia arrays).
pub const DJ_ORDER_F: i32 = 1;

/// `dj_array_view.flags`: the data is in row-major order.
pub const DJ_VIEW_C_ORDER: u32 = 1;
/// `dj_array_view.flags`: the data is in column-major order.
pub const DJ_VIEW_F_ORDER: u32 = 2;
/// `dj_array_view.flags`: the data must not be written.
pub const DJ_VIEW_READONLY: u32 = 4;
/// `dj_array_view.flags`: the data is a memory map of a file (no copy was made).
pub const DJ_VIEW_MAPPED: u32 = 8;

/// Table tier Manual (SQL name `snake_case`).
pub const DJ_TIER_MANUAL: i32 = 0;
/// Table tier Lookup (SQL name `#snake_case`).
pub const DJ_TIER_LOOKUP: i32 = 1;
/// Table tier Imported (SQL name `_snake_case`).
pub const DJ_TIER_IMPORTED: i32 = 2;
/// Table tier Computed (SQL name `__snake_case`).
pub const DJ_TIER_COMPUTED: i32 = 3;

/// Options of an insert. Initialise with `dj_insert_opts_init`; fields may be appended in later
/// minor versions, and the library reads only the fields covered by `struct_size`.
#[repr(C)]
pub struct dj_insert_opts {
    pub struct_size: u32,
    /// Non-zero: rows whose primary key exists are skipped.
    pub skip_duplicates: u8,
    /// Non-zero: names that are not attributes are ignored instead of failing.
    pub ignore_extra_fields: u8,
    /// Non-zero: rows whose primary key exists replace the old row.
    pub replace: u8,
    /// Non-zero: insert into a Computed or Imported table outside its `make` (refused with
    /// DJ_E_NOT_ALLOWED otherwise). (ABI 0.6)
    pub allow_direct_insert: u32,
}

/// `dj_insert_opts` as of ABI 0.5 (before `allow_direct_insert`).
const INSERT_OPTS_V5_SIZE: usize = std::mem::offset_of!(dj_insert_opts, allow_direct_insert);

/// Options of a fetch. Initialise with `dj_fetch_opts_init`.
#[repr(C)]
pub struct dj_fetch_opts {
    pub struct_size: u32,
    /// Attribute names to return (NULL: all). "KEY" stands for the primary key.
    pub attributes: *const *const c_char,
    pub n_attributes: usize,
    /// e.g. "session_date DESC, subject_id" or "KEY"; NULL for no ordering.
    pub order_by: *const c_char,
    /// Maximum rows, or -1 for no limit.
    pub limit: i64,
    /// Rows to skip, or 0.
    pub offset: i64,
    /// Non-zero: codec columns as stored (JSON metadata such as hash and size, in-table bytes),
    /// with no download and no decoding. (ABI 0.3)
    pub raw: i32,
    /// Non-zero: attachments come back as JSON `{"name", "size", "hash"}` without a download
    /// (`<attach@>` reads only the name at the object's start). (ABI 0.3)
    pub attachment_info: i32,
    /// Folder for fetched attachments; NULL: the `download_path` setting, else ".". (ABI 0.3)
    pub download_path: *const c_char,
}

/// Size of `dj_fetch_opts` before ABI 0.3 added `raw` and `download_path`.
const FETCH_OPTS_V2_SIZE: usize = std::mem::offset_of!(dj_fetch_opts, raw);

/// One input column of a columnar insert. Buffers are read during the call only.
#[repr(C)]
pub struct dj_column_in {
    /// Attribute name (UTF-8, NUL-terminated).
    pub name: *const c_char,
    /// DJ_KIND_* of the buffer.
    pub kind: i32,
    /// Values (fixed-width kinds) or the concatenated bytes (variable-width kinds).
    pub data: *const c_void,
    /// Variable-width kinds: nrows+1 offsets into `data`; NULL for fixed-width kinds.
    pub offsets: *const i64,
    /// One byte per row, 0 = NULL; NULL pointer = no NULLs.
    pub validity: *const u8,
}

/// A read-only view of one result column. All pointers stay valid until the result is freed.
#[repr(C)]
pub struct dj_column_view {
    /// Attribute name (NUL-terminated).
    pub name: *const c_char,
    /// Declared DataJoint type, e.g. "varchar(30)" (NUL-terminated).
    pub type_name: *const c_char,
    /// DJ_KIND_* of the buffer.
    pub kind: i32,
    /// Non-zero if the attribute is in the primary key.
    pub in_key: u8,
    /// Number of rows.
    pub length: usize,
    /// Values (fixed-width kinds) or bytes (variable-width kinds).
    pub data: *const c_void,
    /// Variable-width kinds: length+1 offsets into `data`; NULL otherwise.
    pub offsets: *const i64,
    /// One byte per row, 0 = NULL; NULL pointer when the column has no NULLs.
    pub validity: *const u8,
}

/// An array to store in an `<npy@>` attribute. The buffer is borrowed: it must stay valid and
/// unchanged until the insert call returns (for `dj_row_set_array`: until the row is inserted
/// or freed). Nothing is copied before the bytes are written to the store.
#[repr(C)]
pub struct dj_array_in {
    /// The elements, in `order`, little-endian.
    pub data: *const c_void,
    /// Size of `data` in bytes; must equal the element count × itemsize.
    pub nbytes: u64,
    /// DJ_DTYPE_*.
    pub dtype: i32,
    /// Number of dimensions (0 for a scalar array, at most 32).
    pub ndim: i32,
    /// `ndim` extents (may be NULL when ndim is 0).
    pub shape: *const i64,
    /// Bytes per element for DJ_DTYPE_BYTES / DJ_DTYPE_UNICODE; ignored (may be 0) otherwise.
    pub itemsize: i64,
    /// DJ_ORDER_C or DJ_ORDER_F.
    pub order: i32,
}

/// A read-only n-d array produced by the library (frozen layout, after the Arrow C data
/// interface): the consumer calls `release(view)` exactly once (or `dj_array_view_release`).
/// The memory stays valid until then, even after the ref, result and connection are freed.
/// Moving the struct by bitwise copy is allowed; shape and strides live in `private_data`.
#[repr(C)]
pub struct dj_array_view {
    pub data: *const c_void,
    pub nbytes: u64,
    /// DJ_DTYPE_*.
    pub dtype: i32,
    pub ndim: i32,
    /// `ndim` extents.
    pub shape: *const i64,
    /// `ndim` byte strides.
    pub strides: *const i64,
    /// Bytes per element.
    pub itemsize: i64,
    /// DJ_VIEW_* bits.
    pub flags: u32,
    /// Frees the view's memory and sets itself to NULL; NULL once released.
    pub release: Option<unsafe extern "C" fn(view: *mut dj_array_view)>,
    pub private_data: *mut c_void,
}

/// Description of one attribute of a table's heading. Strings are borrowed from the table handle.
#[repr(C)]
pub struct dj_attr_info {
    pub name: *const c_char,
    /// Declared DataJoint type, e.g. "decimal(10,2)".
    pub type_name: *const c_char,
    pub comment: *const c_char,
    /// Default as declared ("NULL", "CURRENT_TIMESTAMP", or the literal), or NULL if none.
    pub default_value: *const c_char,
    /// DJ_KIND_* of this attribute's values in results.
    pub kind: i32,
    pub in_key: u8,
    pub nullable: u8,
}

// ---------------------------------------------------------------- library, errors

/// Runtime ABI version: (major << 16) | minor. Bindings refuse a different major.
#[no_mangle]
pub extern "C" fn dj_abi_version() -> u32 {
    (DJ_ABI_VERSION_MAJOR << 16) | DJ_ABI_VERSION_MINOR
}

/// Library version string, e.g. "0.1.0". Static storage.
#[no_mangle]
pub extern "C" fn dj_version_string() -> *const c_char {
    static V: &[u8] = concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes();
    V.as_ptr() as *const c_char
}

/// Code of the last error on this thread (DJ_OK if the last call succeeded).
#[no_mangle]
pub extern "C" fn dj_last_error_code() -> dj_status {
    last_error_code()
}

/// Message of the last error on this thread; never NULL ("" after success). Valid until the
/// next dj_* call on this thread.
#[no_mangle]
pub extern "C" fn dj_last_error_message() -> *const c_char {
    last_error_message_ptr()
}

/// Short name of a status code ("NotFound", "Duplicate", …); static storage, never NULL.
#[no_mangle]
pub extern "C" fn dj_status_name(status: dj_status) -> *const c_char {
    status_name_ptr(status)
}

/// Name of a buffer kind (DJ_KIND_*): "int32", "string", "array", …; "unknown" for other
/// values. Static storage, never NULL.
#[no_mangle]
pub extern "C" fn dj_kind_name(kind: i32) -> *const c_char {
    if kind == DJ_KIND_ARRAY {
        return c"array".as_ptr();
    }
    match Kind::from_i32(kind) {
        Some(k) => util::kind_name_ptr(k),
        None => c"unknown".as_ptr(),
    }
}

/// Initialise insert options to their defaults (everything off).
#[no_mangle]
pub unsafe extern "C" fn dj_insert_opts_init(opts: *mut dj_insert_opts) -> dj_status {
    call(|| {
        let o = out_ref(opts, "opts")?;
        *o = dj_insert_opts {
            struct_size: std::mem::size_of::<dj_insert_opts>() as u32,
            skip_duplicates: 0,
            ignore_extra_fields: 0,
            replace: 0,
            allow_direct_insert: 0,
        };
        Ok(())
    })
}

/// Initialise fetch options to their defaults (all attributes, no order, no limit).
#[no_mangle]
pub unsafe extern "C" fn dj_fetch_opts_init(opts: *mut dj_fetch_opts) -> dj_status {
    call(|| {
        let o = out_ref(opts, "opts")?;
        *o = dj_fetch_opts {
            struct_size: std::mem::size_of::<dj_fetch_opts>() as u32,
            attributes: ptr::null(),
            n_attributes: 0,
            order_by: ptr::null(),
            limit: -1,
            offset: 0,
            raw: 0,
            attachment_info: 0,
            download_path: ptr::null(),
        };
        Ok(())
    })
}

// ---------------------------------------------------------------- connection

/// Connect using `datajoint.json` (`config_path`, or NULL to search upward from the current
/// directory), environment variables (DJ_BACKEND, DJ_DATABASE_PATH, …), then `overrides_json`
/// (NULL or a JSON object, nested or with dotted keys, e.g. {"database.path": "lab.duckdb"}).
#[no_mangle]
pub unsafe extern "C" fn dj_connect(
    config_path: *const c_char,
    overrides_json: *const c_char,
    out_conn: *mut *mut dj_conn,
) -> dj_status {
    call_out(out_conn, || {
        let path = opt_str(config_path, "config_path")?;
        let overrides = opt_str(overrides_json, "overrides_json")?;
        let conn = Connection::connect(path.map(std::path::Path::new), overrides)?;
        Ok(dj_conn::new(conn))
    })
}

/// Open (or create) an embedded DuckDB database file; NULL or ":memory:" for in-memory.
#[no_mangle]
pub unsafe extern "C" fn dj_connect_duckdb(
    path: *const c_char,
    out_conn: *mut *mut dj_conn,
) -> dj_status {
    call_out(out_conn, || {
        let p = opt_str(path, "path")?.unwrap_or(":memory:");
        Ok(dj_conn::new(Connection::open_duckdb(p)?))
    })
}

/// Close the connection now (releases the database file or sockets). Idempotent. Schemas,
/// tables and results made from it stay valid to free, but operations fail with DJ_E_CLOSED.
#[no_mangle]
pub unsafe extern "C" fn dj_conn_close(conn: *mut dj_conn) -> dj_status {
    call(|| {
        handle_ref(conn)?.conn.close();
        Ok(())
    })
}

/// Free a connection handle (closes it if no schema or table still uses it). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn dj_conn_free(conn: *mut dj_conn) {
    free_handle(conn)
}

/// Backend name: "duckdb", "postgresql" or "mysql". Static storage.
#[no_mangle]
pub unsafe extern "C" fn dj_conn_backend(
    conn: *const dj_conn,
    out_name: *mut *const c_char,
) -> dj_status {
    call(|| {
        let o = out_ref(out_name, "out_name")?;
        *o = ptr::null();
        let kind = handle_ref(conn)?.conn.backend_kind()?;
        *o = static_cstr(kind);
        Ok(())
    })
}

/// List the schemas of the database.
#[no_mangle]
pub unsafe extern "C" fn dj_conn_list_schemas(
    conn: *const dj_conn,
    out_list: *mut *mut dj_strlist,
) -> dj_status {
    call_out(out_list, || {
        Ok(dj_strlist::new(handle_ref(conn)?.conn.list_schemas()?))
    })
}

// ---------------------------------------------------------------- string lists

/// Number of strings in a list (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn dj_strlist_len(list: *const dj_strlist) -> usize {
    guard_value(0, || Ok(handle_ref(list)?.items.len()))
}

/// String `i` (NUL-terminated, valid until the list is freed), or NULL if out of range.
#[no_mangle]
pub unsafe extern "C" fn dj_strlist_get(list: *const dj_strlist, i: usize) -> *const c_char {
    guard_value(ptr::null(), || {
        Ok(handle_ref(list)?
            .items
            .get(i)
            .map(|s| s.as_ptr())
            .unwrap_or(ptr::null()))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_strlist_free(list: *mut dj_strlist) {
    free_handle(list)
}

// ---------------------------------------------------------------- schemas

/// Open schema `name`; with `create` non-zero, create it if missing (else DJ_E_NOT_FOUND).
#[no_mangle]
pub unsafe extern "C" fn dj_schema_open(
    conn: *const dj_conn,
    name: *const c_char,
    create: i32,
    out_schema: *mut *mut dj_schema,
) -> dj_status {
    call_out(out_schema, || {
        let c = handle_ref(conn)?;
        let name = req_str(name, "name")?;
        Ok(dj_schema::new(c.conn.schema(name, create != 0)?))
    })
}

/// The schema's name (valid until the schema is freed).
#[no_mangle]
pub unsafe extern "C" fn dj_schema_name(schema: *const dj_schema) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(schema)?.name_c.as_ptr()))
}

/// SQL names of the schema's tables, sorted.
#[no_mangle]
pub unsafe extern "C" fn dj_schema_list_tables(
    schema: *const dj_schema,
    out_list: *mut *mut dj_strlist,
) -> dj_status {
    call_out(out_list, || {
        Ok(dj_strlist::new(handle_ref(schema)?.schema.list_tables()?))
    })
}

/// Drop the schema and all its tables.
#[no_mangle]
pub unsafe extern "C" fn dj_schema_drop(schema: *const dj_schema) -> dj_status {
    call(|| handle_ref(schema)?.schema.drop())
}

#[no_mangle]
pub unsafe extern "C" fn dj_schema_free(schema: *mut dj_schema) {
    free_handle(schema)
}

// ---------------------------------------------------------------- tables

/// Declare a table from a DataJoint definition. `class_name` is CamelCase; the tier
/// (DJ_TIER_*) sets the SQL name prefix. Declaring an existing table opens it.
#[no_mangle]
pub unsafe extern "C" fn dj_table_declare(
    schema: *const dj_schema,
    class_name: *const c_char,
    tier: i32,
    definition: *const c_char,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let s = handle_ref(schema)?;
        let class_name = req_str(class_name, "class_name")?;
        let definition = req_str(definition, "definition")?;
        let tier = match Tier::from_i32(tier) {
            Some(Tier::Part) | None => {
                return Err(datajoint_core::Error::invalid_arg(format!(
                    "tier {tier} is not one of DJ_TIER_MANUAL/LOOKUP/IMPORTED/COMPUTED (declare parts with dj_table_declare_part)"
                )))
            }
            Some(t) => t,
        };
        Ok(dj_table::new(
            s.schema.declare(class_name, tier, definition)?,
        ))
    })
}

/// Declare a part table of `master` (SQL name: master name + "__" + snake_case(part_class)).
/// In its definition, `-> master` references the master table.
#[no_mangle]
pub unsafe extern "C" fn dj_table_declare_part(
    schema: *const dj_schema,
    master: *const dj_table,
    part_class: *const c_char,
    definition: *const c_char,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let s = handle_ref(schema)?;
        let m = handle_ref(master)?;
        let part_class = req_str(part_class, "part_class")?;
        let definition = req_str(definition, "definition")?;
        Ok(dj_table::new(
            s.schema.declare_part(&m.table, part_class, definition)?,
        ))
    })
}

/// Open an existing table by class name ("SessionTrial", "Master.Part") or SQL name; its
/// heading is read from the database.
#[no_mangle]
pub unsafe extern "C" fn dj_table_open(
    schema: *const dj_schema,
    name: *const c_char,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let s = handle_ref(schema)?;
        Ok(dj_table::new(s.schema.table(req_str(name, "name")?)?))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_table_free(table: *mut dj_table) {
    free_handle(table)
}

/// A new handle of the same table (with its restrictions). (ABI 0.6)
#[no_mangle]
pub unsafe extern "C" fn dj_table_clone(
    table: *const dj_table,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        Ok(dj_table::new(handle_ref(table)?.table.clone()))
    })
}

/// SQL name of the table (valid until the table is freed).
#[no_mangle]
pub unsafe extern "C" fn dj_table_name(table: *const dj_table) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(table)?.name_c.as_ptr()))
}

/// The table comment (valid until the table is freed).
#[no_mangle]
pub unsafe extern "C" fn dj_table_comment(table: *const dj_table) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(table)?.comment_c.as_ptr()))
}

/// Number of (visible) attributes of the table.
#[no_mangle]
pub unsafe extern "C" fn dj_table_attr_count(table: *const dj_table) -> usize {
    guard_value(0, || Ok(handle_ref(table)?.attrs.len()))
}

/// Describe attribute `i` (0-based, in heading order).
#[no_mangle]
pub unsafe extern "C" fn dj_table_attr(
    table: *const dj_table,
    i: usize,
    out_info: *mut dj_attr_info,
) -> dj_status {
    call(|| {
        let o = out_ref(out_info, "out_info")?;
        let t = handle_ref(table)?;
        let a = t.attrs.get(i).ok_or_else(|| {
            datajoint_core::Error::invalid_arg(format!(
                "attribute index {i} out of range ({} attributes)",
                t.attrs.len()
            ))
        })?;
        *o = a.info(&t.table.heading().attributes[i]);
        Ok(())
    })
}

/// Drop the table (fails with DJ_E_INTEGRITY/DJ_E_BACKEND while other tables reference it).
#[no_mangle]
pub unsafe extern "C" fn dj_table_drop(table: *const dj_table) -> dj_status {
    call(|| handle_ref(table)?.table.drop())
}

/// New table handle restricted by an SQL condition (used verbatim; ANDed with existing ones).
#[no_mangle]
pub unsafe extern "C" fn dj_table_restrict_sql(
    table: *const dj_table,
    condition: *const c_char,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        Ok(dj_table::new(
            t.table.restrict_sql(req_str(condition, "condition")?)?,
        ))
    })
}

/// New table handle excluding rows that match an SQL condition.
#[no_mangle]
pub unsafe extern "C" fn dj_table_exclude_sql(
    table: *const dj_table,
    condition: *const c_char,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        Ok(dj_table::new(
            t.table.exclude_sql(req_str(condition, "condition")?)?,
        ))
    })
}

/// New table handle restricted to rows matching `key` (equality on every attribute the key
/// shares with the table; other names are ignored; NULL means IS NULL).
#[no_mangle]
pub unsafe extern "C" fn dj_table_restrict_key(
    table: *const dj_table,
    key: *const dj_row,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        Ok(dj_table::new(t.table.restrict_key(&handle_ref(key)?.row)?))
    })
}

/// New table handle excluding rows that match `key`.
#[no_mangle]
pub unsafe extern "C" fn dj_table_exclude_key(
    table: *const dj_table,
    key: *const dj_row,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        Ok(dj_table::new(t.table.exclude_key(&handle_ref(key)?.row)?))
    })
}

/// New table handle restricted to rows matching any of `n` keys (OR); n = 0 matches nothing.
#[no_mangle]
pub unsafe extern "C" fn dj_table_restrict_keys(
    table: *const dj_table,
    keys: *const *const dj_row,
    n: usize,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        let rows = row_list(keys, n)?;
        Ok(dj_table::new(t.table.restrict_keys(&rows)?))
    })
}

// ---------------------------------------------------------------- rows

/// New empty row (also used as a key for restrictions).
#[no_mangle]
pub unsafe extern "C" fn dj_row_new(out_row: *mut *mut dj_row) -> dj_status {
    call_out(out_row, || Ok(dj_row::new(Row::new())))
}

#[no_mangle]
pub unsafe extern "C" fn dj_row_free(row: *mut dj_row) {
    free_handle(row)
}

/// A copy of a row. (ABI 0.6)
#[no_mangle]
pub unsafe extern "C" fn dj_row_clone(row: *const dj_row, out_row: *mut *mut dj_row) -> dj_status {
    call_out(out_row, || Ok(dj_row::new(handle_ref(row)?.row.clone())))
}

/// Remove all values.
#[no_mangle]
pub unsafe extern "C" fn dj_row_clear(row: *mut dj_row) -> dj_status {
    call(|| {
        handle_mut(row)?.row.values.clear();
        Ok(())
    })
}

/// Number of values set.
#[no_mangle]
pub unsafe extern "C" fn dj_row_len(row: *const dj_row) -> usize {
    guard_value(0, || Ok(handle_ref(row)?.row.values.len()))
}

pub(crate) unsafe fn row_set(
    row: *mut dj_row,
    name: *const c_char,
    v: impl FnOnce() -> datajoint_core::Result<Value>,
) -> dj_status {
    call(|| {
        let r = handle_mut(row)?;
        let name = req_str(name, "name")?;
        let v = v()?;
        r.row.set(name, v);
        Ok(())
    })
}

/// Set attribute `name` to NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_null(row: *mut dj_row, name: *const c_char) -> dj_status {
    row_set(row, name, || Ok(Value::Null))
}

#[no_mangle]
pub unsafe extern "C" fn dj_row_set_bool(
    row: *mut dj_row,
    name: *const c_char,
    v: i32,
) -> dj_status {
    row_set(row, name, || Ok(Value::Bool(v != 0)))
}

/// Set an integer (fits any integer attribute it is in range of; also decimal and float).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_int(
    row: *mut dj_row,
    name: *const c_char,
    v: i64,
) -> dj_status {
    row_set(row, name, || Ok(Value::Int(v)))
}

/// Set an unsigned integer: the whole uint64 range, for native `bigint unsigned` attributes
/// (any integer attribute it is in range of, as `dj_row_set_int`).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_uint(
    row: *mut dj_row,
    name: *const c_char,
    v: u64,
) -> dj_status {
    row_set(row, name, || {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        })
    })
}

/// Set a float (NaN means NULL; an integral value also fits integer attributes).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_float(
    row: *mut dj_row,
    name: *const c_char,
    v: f64,
) -> dj_status {
    row_set(row, name, || Ok(Value::Float(v)))
}

/// Set a NUL-terminated UTF-8 string (also parsed for date, datetime, uuid, decimal, json, enum).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_string(
    row: *mut dj_row,
    name: *const c_char,
    v: *const c_char,
) -> dj_status {
    row_set(row, name, || {
        Ok(Value::String(req_str(v, "value")?.to_string()))
    })
}

/// Set a UTF-8 string of `len` bytes (may contain NUL).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_string_n(
    row: *mut dj_row,
    name: *const c_char,
    data: *const c_char,
    len: usize,
) -> dj_status {
    row_set(row, name, || {
        let b = bytes_arg(data as *const u8, len, "value")?;
        let s = std::str::from_utf8(b)
            .map_err(|_| datajoint_core::Error::invalid_arg("value is not valid UTF-8"))?;
        Ok(Value::String(s.to_string()))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_row_set_bytes(
    row: *mut dj_row,
    name: *const c_char,
    data: *const c_void,
    len: usize,
) -> dj_status {
    row_set(row, name, || {
        Ok(Value::Bytes(
            bytes_arg(data as *const u8, len, "value")?.to_vec(),
        ))
    })
}

/// Set a date as days since 1970-01-01.
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_date(
    row: *mut dj_row,
    name: *const c_char,
    days: i32,
) -> dj_status {
    row_set(row, name, || Ok(Value::Date(days)))
}

/// Set a datetime as microseconds since 1970-01-01T00:00:00.
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_datetime(
    row: *mut dj_row,
    name: *const c_char,
    micros: i64,
) -> dj_status {
    row_set(row, name, || Ok(Value::Datetime(micros)))
}

/// Set a UUID from its 16 bytes (RFC 4122 order).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_uuid(
    row: *mut dj_row,
    name: *const c_char,
    bytes16: *const u8,
) -> dj_status {
    row_set(row, name, || {
        let b = bytes_arg(bytes16, 16, "bytes16")?;
        Ok(Value::Uuid(b.try_into().expect("16 bytes")))
    })
}

/// Set an exact decimal from text, e.g. "-12.50".
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_decimal(
    row: *mut dj_row,
    name: *const c_char,
    text: *const c_char,
) -> dj_status {
    row_set(row, name, || {
        Ok(Value::Decimal(req_str(text, "text")?.to_string()))
    })
}

/// Set a JSON document from its text (validated on insert).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_json(
    row: *mut dj_row,
    name: *const c_char,
    json: *const c_char,
) -> dj_status {
    row_set(row, name, || {
        Ok(Value::Json(req_str(json, "json")?.to_string()))
    })
}

// ---------------------------------------------------------------- insert

unsafe fn insert_options(opts: *const dj_insert_opts) -> datajoint_core::Result<InsertOptions> {
    if opts.is_null() {
        return Ok(InsertOptions::default());
    }
    let o = &*opts;
    let size = o.struct_size as usize;
    if size < INSERT_OPTS_V5_SIZE {
        return Err(datajoint_core::Error::invalid_arg(
            "dj_insert_opts.struct_size is too small (initialise with dj_insert_opts_init)",
        ));
    }
    Ok(InsertOptions {
        skip_duplicates: o.skip_duplicates != 0,
        ignore_extra_fields: o.ignore_extra_fields != 0,
        replace: o.replace != 0,
        allow_direct_insert: size >= std::mem::size_of::<dj_insert_opts>()
            && o.allow_direct_insert != 0,
    })
}

/// Insert one row. `opts` may be NULL. `out_count` (may be NULL) receives the rows written.
#[no_mangle]
pub unsafe extern "C" fn dj_table_insert1(
    table: *const dj_table,
    row: *const dj_row,
    opts: *const dj_insert_opts,
    out_count: *mut u64,
) -> dj_status {
    call_count(out_count, || {
        let t = handle_ref(table)?;
        let r = handle_ref(row)?;
        t.table.insert1(&r.row, insert_options(opts)?)
    })
}

/// Insert `n` rows (all with the same attribute names) in one transaction: on any error no
/// row of the batch remains.
#[no_mangle]
pub unsafe extern "C" fn dj_table_insert_rows(
    table: *const dj_table,
    rows: *const *const dj_row,
    n: usize,
    opts: *const dj_insert_opts,
    out_count: *mut u64,
) -> dj_status {
    call_count(out_count, || {
        let t = handle_ref(table)?;
        let rows = row_list(rows, n)?;
        t.table.insert_rows(&rows, insert_options(opts)?)
    })
}

/// Columnar batch insert: `ncols` typed buffers of `nrows` values each, in one transaction
/// (on any error no row remains). Buffers are only read during the call.
#[no_mangle]
pub unsafe extern "C" fn dj_table_insert_columns(
    table: *const dj_table,
    cols: *const dj_column_in,
    ncols: usize,
    nrows: usize,
    opts: *const dj_insert_opts,
    out_count: *mut u64,
) -> dj_status {
    call_count(out_count, || {
        let t = handle_ref(table)?;
        if ncols > 0 && cols.is_null() {
            return Err(datajoint_core::Error::invalid_arg("cols is NULL"));
        }
        let cols = if ncols == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(cols, ncols)
        };
        // Array columns: one dj_array_in per row, lent (not copied) for the call.
        let mut arrays: Vec<Vec<ArrayValue>> = Vec::new();
        for c in cols {
            if c.kind == DJ_KIND_ARRAY {
                let name = req_str(c.name, "dj_column_in.name")?;
                if nrows > 0 && c.data.is_null() {
                    return Err(datajoint_core::Error::invalid_arg(format!(
                        "column '{name}': data is NULL"
                    )));
                }
                let ins = if nrows == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(c.data as *const dj_array_in, nrows)
                };
                let valid = |i: usize| c.validity.is_null() || *c.validity.add(i) != 0;
                let mut v = Vec::with_capacity(nrows);
                for (i, a) in ins.iter().enumerate() {
                    v.push(if valid(i) {
                        array_value(a)
                            .map_err(|e| e.context(format!("column '{name}', row {i}")))?
                    } else {
                        ArrayValue::new(Dtype::Uint8, vec![0], false, Vec::new())
                    });
                }
                arrays.push(v);
            }
        }
        // Blob columns: one `const dj_value*` per row (a NULL pointer or validity 0: NULL).
        let none = datajoint_core::blob::BlobValue::None;
        let mut trees: Vec<(Vec<&datajoint_core::blob::BlobValue>, Option<Vec<u8>>)> = Vec::new();
        for c in cols.iter().filter(|c| c.kind == DJ_KIND_BLOB) {
            let name = req_str(c.name, "dj_column_in.name")?;
            if nrows > 0 && c.data.is_null() {
                return Err(datajoint_core::Error::invalid_arg(format!(
                    "column '{name}': data is NULL"
                )));
            }
            let ptrs = if nrows == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(c.data as *const *const dj_value, nrows)
            };
            let valid =
                |i: usize| !ptrs[i].is_null() && (c.validity.is_null() || *c.validity.add(i) != 0);
            let validity = (0..nrows)
                .any(|i| !valid(i))
                .then(|| (0..nrows).map(|i| valid(i) as u8).collect());
            let values = ptrs
                .iter()
                .map(|&p| {
                    if p.is_null() {
                        &none
                    } else {
                        &*(p as *const datajoint_core::blob::BlobValue)
                    }
                })
                .collect();
            trees.push((values, validity));
        }
        let mut inputs = Vec::with_capacity(ncols);
        let mut next_array = 0;
        let mut next_tree = 0;
        for c in cols {
            if c.kind == DJ_KIND_BLOB {
                let (values, validity) = &trees[next_tree];
                inputs.push(InputColumn {
                    name: req_str(c.name, "dj_column_in.name")?,
                    data: InputData::Blob(values),
                    validity: validity.as_deref(),
                });
                next_tree += 1;
            } else if c.kind == DJ_KIND_ARRAY {
                let validity = if c.validity.is_null() {
                    None
                } else {
                    Some(std::slice::from_raw_parts(c.validity, nrows))
                };
                inputs.push(InputColumn {
                    name: req_str(c.name, "dj_column_in.name")?,
                    data: InputData::Array(&arrays[next_array]),
                    validity,
                });
                next_array += 1;
            } else {
                inputs.push(input_column(c, nrows)?);
            }
        }
        t.table
            .insert_columns(&inputs, nrows, insert_options(opts)?)
    })
}

unsafe fn input_column(c: &dj_column_in, nrows: usize) -> datajoint_core::Result<InputColumn<'_>> {
    let name = req_str(c.name, "dj_column_in.name")?;
    let kind = Kind::from_i32(c.kind).ok_or_else(|| {
        datajoint_core::Error::invalid_arg(format!("column '{name}': unknown kind {}", c.kind))
    })?;
    let err = |m: &str| datajoint_core::Error::invalid_arg(format!("column '{name}': {m}"));
    let validity = if c.validity.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(c.validity, nrows))
    };
    if nrows > 0 && c.data.is_null() && !kind.is_var_width() {
        return Err(err("data is NULL"));
    }
    unsafe fn sl<'a, T>(p: *const c_void, n: usize) -> &'a [T] {
        if n == 0 || p.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(p as *const T, n)
        }
    }
    let data = if kind.is_var_width() {
        if c.offsets.is_null() {
            return Err(err("offsets is NULL for a variable-width kind"));
        }
        let offsets = std::slice::from_raw_parts(c.offsets, nrows + 1);
        let total = *offsets.last().unwrap_or(&0);
        if total < 0 {
            return Err(err("negative offset"));
        }
        if total > 0 && c.data.is_null() {
            return Err(err("data is NULL"));
        }
        let bytes: &[u8] = sl(c.data, total as usize);
        match kind {
            Kind::String => InputData::String { offsets, bytes },
            Kind::Bytes => InputData::Bytes { offsets, bytes },
            Kind::Decimal => InputData::Decimal { offsets, bytes },
            _ => InputData::Json { offsets, bytes },
        }
    } else {
        match kind {
            Kind::Bool => InputData::Bool(sl(c.data, nrows)),
            Kind::Int8 => InputData::Int8(sl(c.data, nrows)),
            Kind::Int16 => InputData::Int16(sl(c.data, nrows)),
            Kind::Int32 => InputData::Int32(sl(c.data, nrows)),
            Kind::Int64 => InputData::Int64(sl(c.data, nrows)),
            Kind::Float32 => InputData::Float32(sl(c.data, nrows)),
            Kind::Float64 => InputData::Float64(sl(c.data, nrows)),
            Kind::Date => InputData::Date(sl(c.data, nrows)),
            Kind::Datetime => InputData::Datetime(sl(c.data, nrows)),
            Kind::UInt64 => InputData::UInt64(sl(c.data, nrows)),
            _ => InputData::Uuid(sl(c.data, nrows)),
        }
    };
    Ok(InputColumn {
        name,
        data,
        validity,
    })
}

// ---------------------------------------------------------------- fetch

pub(crate) unsafe fn fetch_options(
    opts: *const dj_fetch_opts,
) -> datajoint_core::Result<FetchOptions> {
    if opts.is_null() {
        return Ok(FetchOptions::default());
    }
    let o = &*opts;
    let size = o.struct_size as usize;
    if size < FETCH_OPTS_V2_SIZE {
        return Err(datajoint_core::Error::invalid_arg(
            "dj_fetch_opts.struct_size is too small (initialise with dj_fetch_opts_init)",
        ));
    }
    let attributes = if o.attributes.is_null() {
        if o.n_attributes > 0 {
            return Err(datajoint_core::Error::invalid_arg(
                "attributes is NULL but n_attributes > 0",
            ));
        }
        None
    } else {
        let mut v = Vec::with_capacity(o.n_attributes);
        for &p in std::slice::from_raw_parts(o.attributes, o.n_attributes) {
            v.push(req_str(p, "attributes[i]")?.to_string());
        }
        Some(v)
    };
    if o.limit < -1 || o.offset < 0 {
        return Err(datajoint_core::Error::invalid_arg(
            "limit must be >= -1 and offset >= 0",
        ));
    }
    Ok(FetchOptions {
        attributes,
        order_by: opt_str(o.order_by, "order_by")?.map(|s| s.to_string()),
        limit: if o.limit < 0 {
            None
        } else {
            Some(o.limit as u64)
        },
        offset: if o.offset == 0 {
            None
        } else {
            Some(o.offset as u64)
        },
        raw: size >= std::mem::size_of::<dj_fetch_opts>() && o.raw != 0,
        attachment_info: size >= std::mem::size_of::<dj_fetch_opts>() && o.attachment_info != 0,
        download_path: if size >= std::mem::size_of::<dj_fetch_opts>() {
            opt_str(o.download_path, "download_path")?.map(|s| s.to_string())
        } else {
            None
        },
    })
}

/// Fetch the matching rows into a columnar result. `opts` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_table_fetch(
    table: *const dj_table,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
) -> dj_status {
    call_out(out_result, || {
        let t = handle_ref(table)?;
        Ok(dj_result::new(
            t.table.fetch(&fetch_options(opts)?)?,
            Some(t.table.stores()),
        ))
    })
}

/// Fetch exactly one row: DJ_E_NOT_FOUND if none match, DJ_E_NOT_UNIQUE if several do.
#[no_mangle]
pub unsafe extern "C" fn dj_table_fetch1(
    table: *const dj_table,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
) -> dj_status {
    call_out(out_result, || {
        let t = handle_ref(table)?;
        Ok(dj_result::new(
            t.table.fetch1(&fetch_options(opts)?)?,
            Some(t.table.stores()),
        ))
    })
}

/// Fetch the primary keys of the matching rows.
#[no_mangle]
pub unsafe extern "C" fn dj_table_keys(
    table: *const dj_table,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
) -> dj_status {
    call_out(out_result, || {
        let t = handle_ref(table)?;
        Ok(dj_result::new(t.table.keys(&fetch_options(opts)?)?, None))
    })
}

/// Number of matching rows.
#[no_mangle]
pub unsafe extern "C" fn dj_table_count(table: *const dj_table, out_count: *mut u64) -> dj_status {
    call(|| {
        let o = out_ref(out_count, "out_count")?;
        *o = 0;
        *o = handle_ref(table)?.table.count()?;
        Ok(())
    })
}

/// Delete the matching rows and, down the foreign keys, every row that depends on them, in one
/// transaction (since ABI 0.5; before, referenced rows failed the delete), then their objects.
/// Part rows only go with their master's rows (DJ_E_INTEGRITY otherwise; see
/// dj_table_delete_cascade for the options). `out_count` (may be NULL) receives the rows
/// deleted from this table.
#[no_mangle]
pub unsafe extern "C" fn dj_table_delete(table: *const dj_table, out_count: *mut u64) -> dj_status {
    call_count(out_count, || handle_ref(table)?.table.delete())
}

// ---------------------------------------------------------------- results

/// Number of rows of a result (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn dj_result_nrows(result: *const dj_result) -> usize {
    guard_value(0, || Ok(handle_ref(result)?.rs.nrows))
}

/// Number of columns of a result (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn dj_result_ncols(result: *const dj_result) -> usize {
    guard_value(0, || Ok(handle_ref(result)?.rs.columns.len()))
}

/// Index of the column named `name`.
#[no_mangle]
pub unsafe extern "C" fn dj_result_column_index(
    result: *const dj_result,
    name: *const c_char,
    out_index: *mut usize,
) -> dj_status {
    call(|| {
        let o = out_ref(out_index, "out_index")?;
        *o = 0;
        let r = handle_ref(result)?;
        let name = req_str(name, "name")?;
        *o = r.rs.column_index(name).ok_or_else(|| {
            datajoint_core::Error::new(
                ErrorCode::UnknownAttribute,
                format!("the result has no column '{name}'"),
            )
        })?;
        Ok(())
    })
}

/// View of column `i`: typed buffers valid until the result is freed (no copy).
#[no_mangle]
pub unsafe extern "C" fn dj_result_column(
    result: *const dj_result,
    i: usize,
    out_view: *mut dj_column_view,
) -> dj_status {
    call(|| {
        let o = out_ref(out_view, "out_view")?;
        let r = handle_ref(result)?;
        *o = r.view(i)?;
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_result_free(result: *mut dj_result) {
    free_handle(result)
}

/// A new handle of the same result (its buffers are shared, not copied). (ABI 0.6)
#[no_mangle]
pub unsafe extern "C" fn dj_result_clone(
    result: *const dj_result,
    out_result: *mut *mut dj_result,
) -> dj_status {
    call_out(out_result, || Ok(handle_ref(result)?.share()))
}

// ---------------------------------------------------------------- arrays and NpyRef

fn dtype_from_code(code: i32, itemsize: i64) -> datajoint_core::Result<Dtype> {
    let bad_size = || {
        datajoint_core::Error::invalid_arg(format!("dtype {code}: itemsize {itemsize} is invalid"))
    };
    Ok(match code {
        DJ_DTYPE_BOOL => Dtype::Bool,
        DJ_DTYPE_INT8 => Dtype::Int8,
        DJ_DTYPE_INT16 => Dtype::Int16,
        DJ_DTYPE_INT32 => Dtype::Int32,
        DJ_DTYPE_INT64 => Dtype::Int64,
        DJ_DTYPE_UINT8 => Dtype::Uint8,
        DJ_DTYPE_UINT16 => Dtype::Uint16,
        DJ_DTYPE_UINT32 => Dtype::Uint32,
        DJ_DTYPE_UINT64 => Dtype::Uint64,
        DJ_DTYPE_FLOAT16 => Dtype::Float16,
        DJ_DTYPE_FLOAT32 => Dtype::Float32,
        DJ_DTYPE_FLOAT64 => Dtype::Float64,
        DJ_DTYPE_COMPLEX64 => Dtype::Complex64,
        DJ_DTYPE_COMPLEX128 => Dtype::Complex128,
        DJ_DTYPE_BYTES if itemsize > 0 && itemsize <= u32::MAX as i64 => {
            Dtype::Bytes(itemsize as u32)
        }
        DJ_DTYPE_UNICODE
            if itemsize > 0 && itemsize % 4 == 0 && itemsize / 4 <= u32::MAX as i64 =>
        {
            Dtype::Unicode((itemsize / 4) as u32)
        }
        DJ_DTYPE_BYTES | DJ_DTYPE_UNICODE => return Err(bad_size()),
        other => {
            return Err(datajoint_core::Error::type_err(format!(
                "dtype code {other} is not a supported array type (object arrays cannot be stored)"
            )))
        }
    })
}

pub(crate) fn dtype_code_pub(d: Dtype) -> i32 {
    dtype_code(d)
}

fn dtype_code(d: Dtype) -> i32 {
    match d {
        Dtype::Bool => DJ_DTYPE_BOOL,
        Dtype::Int8 => DJ_DTYPE_INT8,
        Dtype::Int16 => DJ_DTYPE_INT16,
        Dtype::Int32 => DJ_DTYPE_INT32,
        Dtype::Int64 => DJ_DTYPE_INT64,
        Dtype::Uint8 => DJ_DTYPE_UINT8,
        Dtype::Uint16 => DJ_DTYPE_UINT16,
        Dtype::Uint32 => DJ_DTYPE_UINT32,
        Dtype::Uint64 => DJ_DTYPE_UINT64,
        Dtype::Float16 => DJ_DTYPE_FLOAT16,
        Dtype::Float32 => DJ_DTYPE_FLOAT32,
        Dtype::Float64 => DJ_DTYPE_FLOAT64,
        Dtype::Complex64 => DJ_DTYPE_COMPLEX64,
        Dtype::Complex128 => DJ_DTYPE_COMPLEX128,
        Dtype::Bytes(_) => DJ_DTYPE_BYTES,
        Dtype::Unicode(_) => DJ_DTYPE_UNICODE,
    }
}

/// A caller's buffer lent for the duration of an insert.
struct Lent {
    ptr: *const u8,
    len: usize,
}
// SAFETY: the caller guarantees the buffer is valid and unchanged while the library uses it
// (documented on dj_array_in); it is only read.
unsafe impl Send for Lent {}
unsafe impl Sync for Lent {}
impl value::ArrayBytes for Lent {
    fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: see above.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

unsafe fn array_value(a: &dj_array_in) -> datajoint_core::Result<ArrayValue> {
    let dtype = dtype_from_code(a.dtype, a.itemsize)?;
    if a.ndim < 0 || a.ndim > 32 {
        return Err(datajoint_core::Error::invalid_arg(format!(
            "ndim {} is outside 0..32",
            a.ndim
        )));
    }
    if a.ndim > 0 && a.shape.is_null() {
        return Err(datajoint_core::Error::invalid_arg("shape is NULL"));
    }
    let shape: Vec<u64> = if a.ndim == 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(a.shape, a.ndim as usize)
            .iter()
            .map(|&d| {
                u64::try_from(d).map_err(|_| {
                    datajoint_core::Error::invalid_arg(format!("negative extent {d} in shape"))
                })
            })
            .collect::<datajoint_core::Result<_>>()?
    };
    let fortran = match a.order {
        DJ_ORDER_C => false,
        DJ_ORDER_F => true,
        o => {
            return Err(datajoint_core::Error::invalid_arg(format!(
                "order {o} is not DJ_ORDER_C or DJ_ORDER_F"
            )))
        }
    };
    if a.nbytes > 0 && a.data.is_null() {
        return Err(datajoint_core::Error::invalid_arg("array data is NULL"));
    }
    let arr = ArrayValue {
        dtype,
        shape,
        fortran_order: fortran,
        data: std::sync::Arc::new(Lent {
            ptr: a.data as *const u8,
            len: a.nbytes as usize,
        }),
    };
    arr.validate().map_err(datajoint_core::Error::type_err)?;
    Ok(arr)
}

/// Set an `<npy@>` attribute to an array (buffer borrowed until the row is inserted or freed).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_array(
    row: *mut dj_row,
    name: *const c_char,
    array: *const dj_array_in,
) -> dj_status {
    row_set(row, name, || {
        if array.is_null() {
            return Err(datajoint_core::Error::invalid_arg("array is NULL"));
        }
        Ok(Value::Array(array_value(&*array)?))
    })
}

/// Lazy reference to the `<npy@>` value in column `col`, row `row` of a result. No I/O.
/// DJ_E_NOT_FOUND if the value is NULL; DJ_E_TYPE if the column is not `<npy@>`.
#[no_mangle]
pub unsafe extern "C" fn dj_result_npyref(
    result: *const dj_result,
    col: usize,
    row: usize,
    out_ref: *mut *mut dj_npyref,
) -> dj_status {
    call_out(out_ref, || {
        let r = handle_ref(result)?;
        let name =
            r.rs.attributes
                .get(col)
                .map(|a| a.name.clone())
                .ok_or_else(|| {
                    datajoint_core::Error::invalid_arg(format!(
                        "column index {col} out of range ({} columns)",
                        r.rs.attributes.len()
                    ))
                })?;
        let stores = r
            .stores
            .clone()
            .ok_or_else(|| datajoint_core::Error::type_err("this result has no <npy@> columns"))?;
        Ok(dj_npyref::new(datajoint_core::table::npyref_of(
            &r.rs, &name, row, stores,
        )?))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_npyref_free(r: *mut dj_npyref) {
    free_handle(r)
}

/// Element type (DJ_DTYPE_*) and bytes per element (`out_itemsize` may be NULL); no I/O.
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_dtype(
    r: *const dj_npyref,
    out_dtype: *mut i32,
    out_itemsize: *mut i64,
) -> dj_status {
    call(|| {
        let h = handle_ref(r)?;
        *out_ref(out_dtype, "out_dtype")? = dtype_code(h.r.dtype());
        if !out_itemsize.is_null() {
            *out_itemsize = h.r.dtype().itemsize() as i64;
        }
        Ok(())
    })
}

/// numpy's name of the element type ("float64", "<U10"); valid until the ref is freed.
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_dtype_name(r: *const dj_npyref) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(r)?.dtype_c.as_ptr()))
}

/// Number of dimensions and the shape (borrowed until the ref is freed; `out_shape` may be
/// NULL); no I/O.
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_shape(
    r: *const dj_npyref,
    out_ndim: *mut i32,
    out_shape: *mut *const i64,
) -> dj_status {
    call(|| {
        let h = handle_ref(r)?;
        *out_ref(out_ndim, "out_ndim")? = h.shape.len() as i32;
        if !out_shape.is_null() {
            *out_shape = h.shape.as_ptr();
        }
        Ok(())
    })
}

/// Number of elements and of data bytes (`out_nbytes` may be NULL); no I/O.
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_size(
    r: *const dj_npyref,
    out_size: *mut u64,
    out_nbytes: *mut u64,
) -> dj_status {
    call(|| {
        let h = handle_ref(r)?;
        *out_ref(out_size, "out_size")? = h.r.size();
        if !out_nbytes.is_null() {
            *out_nbytes = h.r.nbytes();
        }
        Ok(())
    })
}

/// The object's path relative to its store (valid until the ref is freed).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_path(r: *const dj_npyref) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(r)?.path_c.as_ptr()))
}

/// The store's name (valid until the ref is freed).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_store(r: *const dj_npyref) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(r)?.store_c.as_ptr()))
}

/// Whether `dj_npyref_load` has already read the data (then later loads need no I/O).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_is_loaded(
    r: *const dj_npyref,
    out_loaded: *mut i32,
) -> dj_status {
    call(|| {
        *out_ref(out_loaded, "out_loaded")? = handle_ref(r)?.r.is_loaded() as i32;
        Ok(())
    })
}

unsafe fn fill_view(
    out: *mut dj_array_view,
    f: impl FnOnce() -> datajoint_core::Result<ArrayView>,
) -> dj_status {
    call(|| {
        let o = out_ref(out, "out_view")?;
        *o = handles::empty_view();
        *o = handles::export_view(f()?);
        Ok(())
    })
}

/// Read the whole array into memory (cached on the ref; a second load does no I/O).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_load(
    r: *const dj_npyref,
    out_view: *mut dj_array_view,
) -> dj_status {
    fill_view(out_view, || handle_ref(r)?.r.load())
}

/// Zero-copy read-only memory map: the file itself for local stores; for remote stores the
/// object is downloaded once into the cache and the cached copy is mapped. Big-endian or
/// misaligned files are loaded instead (flags tell: DJ_VIEW_MAPPED is then not set).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_map(
    r: *const dj_npyref,
    out_view: *mut dj_array_view,
) -> dj_status {
    fill_view(out_view, || handle_ref(r)?.r.map())
}

/// Rows [start, stop) along the first axis of a C-order array, read with ranged requests
/// (without downloading the whole object).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_read_rows(
    r: *const dj_npyref,
    start: u64,
    stop: u64,
    out_view: *mut dj_array_view,
) -> dj_status {
    fill_view(out_view, || handle_ref(r)?.r.read_rows(start, stop))
}

/// A local file with the `.npy` object, for callers that map it themselves (MATLAB
/// `memmapfile`, Julia `Mmap`): the store's file for `file` stores, else the download-cache copy
/// (downloaded on first call). `out_path` is valid until the ref is freed; `out_data_offset` is
/// where the elements start; `out_fortran` (may be NULL) is 1 for column-major data and
/// `out_big_endian` (may be NULL) 1 when the file is big-endian (then map it with swapped bytes
/// or use dj_npyref_load).
#[no_mangle]
pub unsafe extern "C" fn dj_npyref_local_file(
    r: *const dj_npyref,
    out_path: *mut *const c_char,
    out_data_offset: *mut u64,
    out_fortran: *mut i32,
    out_big_endian: *mut i32,
) -> dj_status {
    call(|| {
        let o = out_ref(out_path, "out_path")?;
        *o = ptr::null();
        let h = handle_ref(r)?;
        let (path, header) = h.r.local_file()?;
        let c = h
            .local_file
            .get_or_init(|| util::cstring_lossy(&path.to_string_lossy()));
        *o = c.as_ptr();
        if !out_data_offset.is_null() {
            *out_data_offset = header.data_offset as u64;
        }
        if !out_fortran.is_null() {
            *out_fortran = header.fortran_order as i32;
        }
        if !out_big_endian.is_null() {
            *out_big_endian = header.big_endian as i32;
        }
        Ok(())
    })
}

/// Release a view (calls its `release`); NULL and already released views are ignored.
#[no_mangle]
pub unsafe extern "C" fn dj_array_view_release(view: *mut dj_array_view) {
    if view.is_null() {
        return;
    }
    if let Some(rel) = (*view).release {
        rel(view);
    }
}

/// Object-store traffic of a store since the connection opened: requests, bytes read and
/// bytes written (for tests and benchmarks). `store` NULL or "" means the default store.
/// `out_bytes_read` and `out_bytes_written` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_conn_store_stats(
    conn: *const dj_conn,
    store: *const c_char,
    out_requests: *mut u64,
    out_bytes_read: *mut u64,
    out_bytes_written: *mut u64,
) -> dj_status {
    call(|| {
        let c = handle_ref(conn)?;
        let name = opt_str(store, "store")?.unwrap_or("");
        let (r, br, bw) = c.conn.stores().get(name)?.stats.snapshot();
        *out_ref(out_requests, "out_requests")? = r;
        if !out_bytes_read.is_null() {
            *out_bytes_read = br;
        }
        if !out_bytes_written.is_null() {
            *out_bytes_written = bw;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------- date helpers

/// Days since 1970-01-01 of a calendar date (DJ_E_INVALID_ARG for an impossible date).
#[no_mangle]
pub unsafe extern "C" fn dj_date_from_ymd(
    year: i32,
    month: u32,
    day: u32,
    out_days: *mut i32,
) -> dj_status {
    call(|| {
        let o = out_ref(out_days, "out_days")?;
        *o = value::date_from_ymd(year, month, day).ok_or_else(|| {
            datajoint_core::Error::invalid_arg(format!(
                "{year:04}-{month:02}-{day:02} is not a date"
            ))
        })?;
        Ok(())
    })
}

/// Parse "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]" (or with 'T') into microseconds since the epoch.
#[no_mangle]
pub unsafe extern "C" fn dj_datetime_parse(text: *const c_char, out_micros: *mut i64) -> dj_status {
    call(|| {
        let o = out_ref(out_micros, "out_micros")?;
        let s = req_str(text, "text")?;
        *o = value::parse_datetime(s).ok_or_else(|| {
            datajoint_core::Error::invalid_arg(format!("'{s}' is not a datetime"))
        })?;
        Ok(())
    })
}

/// Format microseconds since the epoch as "YYYY-MM-DD HH:MM:SS[.ffffff]" into `buf` (always
/// NUL-terminated when `len` > 0). `out_needed` (may be NULL) receives the length without NUL;
/// DJ_E_INVALID_ARG if the buffer is too small.
#[no_mangle]
pub unsafe extern "C" fn dj_datetime_format(
    micros: i64,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dj_status {
    call(|| write_str_buf(&value::format_datetime(micros), buf, len, out_needed))
}

/// Format days since the epoch as "YYYY-MM-DD" (buffer rules as dj_datetime_format).
#[no_mangle]
pub unsafe extern "C" fn dj_date_format(
    days: i32,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dj_status {
    call(|| write_str_buf(&value::format_date(days), buf, len, out_needed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn codes_and_kinds_match_the_core() {
        let pairs = [
            (DJ_E_INVALID_ARG, ErrorCode::InvalidArgument),
            (DJ_E_INVALID_HANDLE, ErrorCode::InvalidHandle),
            (DJ_E_CLOSED, ErrorCode::Closed),
            (DJ_E_NOT_FOUND, ErrorCode::NotFound),
            (DJ_E_DUPLICATE, ErrorCode::Duplicate),
            (DJ_E_INTEGRITY, ErrorCode::Integrity),
            (DJ_E_TYPE, ErrorCode::Type),
            (DJ_E_DEFINITION, ErrorCode::Definition),
            (DJ_E_BACKEND, ErrorCode::Backend),
            (DJ_E_CONFIG, ErrorCode::Config),
            (DJ_E_NOT_UNIQUE, ErrorCode::NotUnique),
            (DJ_E_UNKNOWN_ATTRIBUTE, ErrorCode::UnknownAttribute),
            (DJ_E_STORE, ErrorCode::Store),
            (DJ_E_CODEC, ErrorCode::Codec),
            (DJ_E_IO, ErrorCode::Io),
            (DJ_E_CONNECTION, ErrorCode::Connection),
            (DJ_E_UNSUPPORTED, ErrorCode::Unsupported),
            (DJ_E_NOT_ALLOWED, ErrorCode::NotAllowed),
            (DJ_E_MAKE_FAILED, ErrorCode::MakeFailed),
            (DJ_E_PANIC, ErrorCode::Panic),
            (DJ_E_INTERNAL, ErrorCode::Internal),
        ];
        assert_eq!(pairs.len(), ErrorCode::ALL.len());
        for (c, e) in pairs {
            assert_eq!(c, e.as_i32());
            let name = unsafe { CStr::from_ptr(dj_status_name(c)) };
            assert_eq!(name.to_str().unwrap(), e.name());
        }
        let kinds = [
            (DJ_KIND_BOOL, Kind::Bool),
            (DJ_KIND_INT8, Kind::Int8),
            (DJ_KIND_INT16, Kind::Int16),
            (DJ_KIND_INT32, Kind::Int32),
            (DJ_KIND_INT64, Kind::Int64),
            (DJ_KIND_FLOAT32, Kind::Float32),
            (DJ_KIND_FLOAT64, Kind::Float64),
            (DJ_KIND_STRING, Kind::String),
            (DJ_KIND_BYTES, Kind::Bytes),
            (DJ_KIND_DATE, Kind::Date),
            (DJ_KIND_DATETIME, Kind::Datetime),
            (DJ_KIND_UUID, Kind::Uuid),
            (DJ_KIND_DECIMAL, Kind::Decimal),
            (DJ_KIND_JSON, Kind::Json),
            (DJ_KIND_UINT64, Kind::UInt64),
        ];
        for (c, k) in kinds {
            assert_eq!(Kind::from_i32(c), Some(k));
            let name = unsafe { CStr::from_ptr(dj_kind_name(c)) };
            assert_eq!(name.to_str().unwrap(), k.name(), "dj_kind_name({c})");
        }
        assert_eq!(DJ_TIER_COMPUTED, Tier::Computed as i32);
    }

    #[test]
    fn errors_are_thread_local_and_cleared() {
        unsafe {
            let mut conn = ptr::null_mut();
            assert_eq!(dj_connect_duckdb(c":memory:".as_ptr(), &mut conn), DJ_OK);
            let mut schema = ptr::null_mut();
            assert_eq!(
                dj_schema_open(conn, c"bad name".as_ptr(), 1, &mut schema),
                DJ_E_INVALID_ARG
            );
            assert!(schema.is_null());
            assert_eq!(dj_last_error_code(), DJ_E_INVALID_ARG);
            let msg = CStr::from_ptr(dj_last_error_message())
                .to_str()
                .unwrap()
                .to_string();
            assert!(msg.contains("bad name"), "{msg}");
            // another thread sees no error
            let other = std::thread::spawn(|| dj_last_error_code()).join().unwrap();
            assert_eq!(other, DJ_OK);
            // the next successful call clears it
            assert_eq!(
                dj_schema_open(conn, c"good".as_ptr(), 1, &mut schema),
                DJ_OK
            );
            assert_eq!(dj_last_error_code(), DJ_OK);
            assert_eq!(CStr::from_ptr(dj_last_error_message()).to_bytes(), b"");
            // wrong handle type and double free
            assert_eq!(
                dj_schema_drop(conn as *const dj_schema),
                DJ_E_INVALID_HANDLE
            );
            dj_schema_free(schema);
            dj_conn_free(conn);
            dj_conn_free(ptr::null_mut());
            assert_eq!(dj_abi_version(), DJ_ABI_VERSION_MINOR);
        }
    }
}
