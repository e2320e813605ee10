# LibDataJoint.jl — low-level bindings of libdatajoint (include/datajoint.h).
#
# One `ccall` wrapper per C function (same name, same parameter names, same order), the C
# structs mirrored field by field, the opaque handle types, and every constant. Nothing here
# checks errors, copies strings or manages lifetimes: that is the job of the high-level
# module `DataJoint` (src/DataJoint.jl).
#
# Type rules (checked against the header by bindings/julia/check/check_julia.py):
#   int32_t, dj_status  -> Int32 / Cint         uint32_t -> UInt32
#   int64_t             -> Int64                uint64_t -> UInt64
#   size_t              -> Csize_t              double   -> Cdouble
#   const char* (argument, NUL-terminated)            -> Cstring (accepts a String or C_NULL)
#   const char* (result, or bytes that may hold a NUL) -> Ptr{UInt8}
#   char* (output buffer)                              -> Ptr{UInt8}
#   const void* / const uint8_t*                       -> Ptr{Cvoid} / Ptr{UInt8}
#   handle (dj_conn* ...)                              -> Ptr{dj_conn} ...
#   required out parameter T*                          -> Ref{T}
#   optional pointer T* (the header allows NULL)       -> Ptr{T} (pass a Ref, or C_NULL)
#   arrays of handles/structs (const T* const*, T*)    -> Ptr{Ptr{T}} / Ptr{T} (pass a Vector)
#   function pointer                                   -> Ptr{Cvoid}
# A typed NULL such as `Ptr{UInt64}(C_NULL)` may be passed for a Ref{UInt64} parameter.

"""
    LibDataJoint

Low-level bindings of libdatajoint: one `ccall` wrapper per function of `datajoint.h` (same
name and parameters), the C structs (`dj_insert_opts`, `dj_fetch_opts`, `dj_attr_info`,
`dj_column_in`, `dj_column_view`, `dj_array_in`, `dj_array_view`, `dj_blob_array`,
`dj_blob_sparse`, `dj_object_info`, `dj_gc_opts`, `dj_gc_stats`, `dj_delete_opts`, the
autopopulate structs `dj_populate_opts`, `dj_populate_progress`, `dj_refresh_opts`,
`dj_refresh_report`, `dj_job_counts`, and the Arrow C Data Interface's `ArrowSchema` and
`ArrowArray`), the opaque handle types (including the `<blob>` value node `dj_value`, the
object handles `dj_objectref`, `dj_filelist`, `dj_reader`, `dj_writer`, `dj_staged`, and
`dj_query`, `dj_delete_report`, `dj_make_ctx`, `dj_populate_report`) and all `DJ_*` constants.
The C callback types (`dj_progress_fn`, `dj_populate_progress_fn`, `dj_make_fn`) are passed as
`Ptr{Cvoid}` made with `@cfunction` (see the comments above `dj_staged_set_progress` and
`dj_table_populate`). Errors are returned as `dj_status` codes; see `DataJoint` for the
checked, garbage-collected API.

The library is `libdatajoint` (a `const` fixed at precompile time): the `"libdatajoint"`
preference of the DataJoint package if set (`DataJoint.set_library!`), else the environment
variable `DATAJOINT_LIBRARY`, else the name `"libdatajoint"` resolved by the system loader.
"""
module LibDataJoint

using Libdl
using Preferences

"""
Path (or name) of the shared library, fixed when the package is precompiled: the
`"libdatajoint"` preference, else `ENV["DATAJOINT_LIBRARY"]`, else `"libdatajoint"`.
"""
const libdatajoint = String(something(@load_preference("libdatajoint", nothing),
                                      get(ENV, "DATAJOINT_LIBRARY", "libdatajoint")))

# -------------------------------------------------------------------------------- constants

"ABI major version; `dj_abi_version() >> 16` must equal it."
const DJ_ABI_VERSION_MAJOR = UInt32(0)
"ABI minor version (additions only)."
const DJ_ABI_VERSION_MINOR = UInt32(6)
"Buffer kind (of `dj_column_in.kind`, `dj_column_view.kind`): uint8_t per value, 0 or 1."
const DJ_KIND_BOOL = Int32(1)
"Buffer kind: int8_t per value."
const DJ_KIND_INT8 = Int32(2)
"Buffer kind: int16_t per value."
const DJ_KIND_INT16 = Int32(3)
"Buffer kind: int32_t per value."
const DJ_KIND_INT32 = Int32(4)
"Buffer kind: int64_t per value."
const DJ_KIND_INT64 = Int32(5)
"Buffer kind: float per value."
const DJ_KIND_FLOAT32 = Int32(6)
"Buffer kind: double per value."
const DJ_KIND_FLOAT64 = Int32(7)
"Buffer kind: UTF-8 text, `offsets` (nrows+1 int64_t) into `data` bytes; not NUL-terminated."
const DJ_KIND_STRING = Int32(8)
"Buffer kind: bytes, `offsets` (nrows+1 int64_t) into `data`."
const DJ_KIND_BYTES = Int32(9)
"Buffer kind: int32_t days since 1970-01-01."
const DJ_KIND_DATE = Int32(10)
"Buffer kind: int64_t microseconds since 1970-01-01T00:00:00 (UTC by DataJoint convention)."
const DJ_KIND_DATETIME = Int32(11)
"Buffer kind: 16 bytes per value (RFC 4122 byte order)."
const DJ_KIND_UUID = Int32(12)
"Buffer kind: exact decimal as text (offsets + bytes), e.g. `-12.50`."
const DJ_KIND_DECIMAL = Int32(13)
"Buffer kind: JSON document as text (offsets + bytes)."
const DJ_KIND_JSON = Int32(14)
"Input kind for `<npy@>` attributes in a columnar insert: `data` points to `nrows` `dj_array_in` structs (one array per row); `offsets` is unused."
const DJ_KIND_ARRAY = Int32(15)
"Buffer kind: uint64_t per value (native `bigint unsigned` columns of older MySQL pipelines; smaller unsigned native integers arrive in the next wider signed kind)."
const DJ_KIND_UINT64 = Int32(16)
"Buffer kind: `<blob>` values, one `const dj_value*` per row (results: borrowed from the result; columnar inserts: read during the call)."
const DJ_KIND_BLOB = Int32(17)
"Array element type: numpy bool (1 byte)."
const DJ_DTYPE_BOOL = Int32(1)
"Array element type: int8."
const DJ_DTYPE_INT8 = Int32(2)
"Array element type: int16."
const DJ_DTYPE_INT16 = Int32(3)
"Array element type: int32."
const DJ_DTYPE_INT32 = Int32(4)
"Array element type: int64."
const DJ_DTYPE_INT64 = Int32(5)
"Array element type: uint8."
const DJ_DTYPE_UINT8 = Int32(6)
"Array element type: uint16."
const DJ_DTYPE_UINT16 = Int32(7)
"Array element type: uint32."
const DJ_DTYPE_UINT32 = Int32(8)
"Array element type: uint64."
const DJ_DTYPE_UINT64 = Int32(9)
"Array element type: IEEE half precision (2 bytes)."
const DJ_DTYPE_FLOAT16 = Int32(10)
"Array element type: float."
const DJ_DTYPE_FLOAT32 = Int32(11)
"Array element type: double."
const DJ_DTYPE_FLOAT64 = Int32(12)
"Array element type: complex of two floats (real, imaginary)."
const DJ_DTYPE_COMPLEX64 = Int32(13)
"Array element type: complex of two doubles (real, imaginary)."
const DJ_DTYPE_COMPLEX128 = Int32(14)
"Array element type: fixed-width bytes (numpy `S<n>`); `itemsize` = n."
const DJ_DTYPE_BYTES = Int32(15)
"Array element type: fixed-width UTF-32 text (numpy `U<n>`); `itemsize` = 4 n."
const DJ_DTYPE_UNICODE = Int32(16)
"Memory order of an array: row-major (C, numpy's default)."
const DJ_ORDER_C = Int32(0)
"Memory order of an array: column-major (Fortran; MATLAB and Julia arrays)."
const DJ_ORDER_F = Int32(1)
"`dj_array_view.flags`: the data is in row-major order."
const DJ_VIEW_C_ORDER = UInt32(1)
"`dj_array_view.flags`: the data is in column-major order."
const DJ_VIEW_F_ORDER = UInt32(2)
"`dj_array_view.flags`: the data must not be written."
const DJ_VIEW_READONLY = UInt32(4)
"`dj_array_view.flags`: the data is a memory map of a file (no copy was made)."
const DJ_VIEW_MAPPED = UInt32(8)
"Table tier Manual (SQL name `snake_case`)."
const DJ_TIER_MANUAL = Int32(0)
"Table tier Lookup (SQL name `#snake_case`)."
const DJ_TIER_LOOKUP = Int32(1)
"Table tier Imported (SQL name `_snake_case`)."
const DJ_TIER_IMPORTED = Int32(2)
"Table tier Computed (SQL name `__snake_case`)."
const DJ_TIER_COMPUTED = Int32(3)
"No value (Python `None`); also a NULL attribute."
const DJ_VALUE_NONE = Int32(0)
"Value type: a boolean."
const DJ_VALUE_BOOL = Int32(1)
"Value type: a Python int within 64 bits."
const DJ_VALUE_INT = Int32(2)
"Value type: a Python int beyond 64 bits (little-endian two's complement bytes, `dj_value_get_bytes`)."
const DJ_VALUE_BIGINT = Int32(3)
"Value type: a double."
const DJ_VALUE_FLOAT = Int32(4)
"Value type: a complex double."
const DJ_VALUE_COMPLEX = Int32(5)
"Value type: UTF-8 text (Python `str`)."
const DJ_VALUE_STRING = Int32(6)
"Value type: bytes."
const DJ_VALUE_BYTES = Int32(7)
"Value type: exact decimal text (`dj_value_get_string`)."
const DJ_VALUE_DECIMAL = Int32(8)
"Value type: days since 1970-01-01."
const DJ_VALUE_DATE = Int32(9)
"Value type: microseconds since midnight."
const DJ_VALUE_TIME = Int32(10)
"Value type: microseconds since 1970-01-01T00:00:00."
const DJ_VALUE_DATETIME = Int32(11)
"Value type: a UUID (16 bytes)."
const DJ_VALUE_UUID = Int32(12)
"Value type: a tuple."
const DJ_VALUE_TUPLE = Int32(13)
"Value type: a list."
const DJ_VALUE_LIST = Int32(14)
"Value type: a set."
const DJ_VALUE_SET = Int32(15)
"Value type: a mapping (`dj_value_dict_key(v, i)` / `dj_value_item(v, i)`)."
const DJ_VALUE_DICT = Int32(16)
"Value type: a numeric / logical / char N-d array (`dj_value_array`)."
const DJ_VALUE_ARRAY = Int32(17)
"Value type: a MATLAB struct array (`dj_value_struct_get`)."
const DJ_VALUE_STRUCT = Int32(18)
"Value type: a MATLAB cell array."
const DJ_VALUE_CELL = Int32(19)
"Value type: a numpy object array (items like a cell; written only in the dj0 protocol)."
const DJ_VALUE_OBJECT_ARRAY = Int32(20)
"Value type: a numpy structured array (`dj_value_field_name`, `dj_value_item`)."
const DJ_VALUE_RECORD = Int32(21)
"Value type: a MATLAB sparse matrix (`dj_value_sparse`)."
const DJ_VALUE_SPARSE = Int32(22)
"Array element class (MATLAB mxClassID): logical, 1 byte."
const DJ_CLASS_LOGICAL = Int32(3)
"Array element class: UTF-16 code units, 2 bytes each."
const DJ_CLASS_CHAR = Int32(4)
"Array element class: double."
const DJ_CLASS_DOUBLE = Int32(6)
"Array element class: single (float)."
const DJ_CLASS_SINGLE = Int32(7)
"Array element class: int8."
const DJ_CLASS_INT8 = Int32(8)
"Array element class: uint8."
const DJ_CLASS_UINT8 = Int32(9)
"Array element class: int16."
const DJ_CLASS_INT16 = Int32(10)
"Array element class: uint16."
const DJ_CLASS_UINT16 = Int32(11)
"Array element class: int32."
const DJ_CLASS_INT32 = Int32(12)
"Array element class: uint32."
const DJ_CLASS_UINT32 = Int32(13)
"Array element class: int64."
const DJ_CLASS_INT64 = Int32(14)
"Array element class: uint64."
const DJ_CLASS_UINT64 = Int32(15)
"numpy datetime64: `DJ_CLASS_DATETIME64 + k`, k the unit in Y,M,W,D,h,m,s,ms,us,ns,ps,fs,as."
const DJ_CLASS_DATETIME64 = Int32(65536)
"`dj_populate_opts.order` (ABI 0.6): the key source's order (with the jobs table: priority, then scheduled time)."
const DJ_ORDER_ORIGINAL = Int32(0)
"`dj_populate_opts.order`: the reverse of DJ_ORDER_ORIGINAL."
const DJ_ORDER_REVERSE = Int32(1)
"`dj_populate_opts.order`: shuffled (with the jobs table: within each priority)."
const DJ_ORDER_RANDOM = Int32(2)
"Success."
const DJ_OK = Int32(0)
"A function argument is invalid (NULL where not allowed, bad UTF-8, bad option)."
const DJ_E_INVALID_ARG = Int32(-1)
"A handle is NULL or not of the expected kind."
const DJ_E_INVALID_HANDLE = Int32(-2)
"The connection was closed."
const DJ_E_CLOSED = Int32(-3)
"A schema, table or row does not exist (also: fetch1 found no row)."
const DJ_E_NOT_FOUND = Int32(-4)
"Duplicate primary key or unique value."
const DJ_E_DUPLICATE = Int32(-5)
"Foreign-key or other integrity constraint violated."
const DJ_E_INTEGRITY = Int32(-6)
"A value does not fit the attribute's type."
const DJ_E_TYPE = Int32(-7)
"Malformed table definition."
const DJ_E_DEFINITION = Int32(-8)
"Other database error."
const DJ_E_BACKEND = Int32(-9)
"Bad or missing configuration."
const DJ_E_CONFIG = Int32(-10)
"fetch1 found more than one row."
const DJ_E_NOT_UNIQUE = Int32(-11)
"A row, key or option names an attribute the table does not have."
const DJ_E_UNKNOWN_ATTRIBUTE = Int32(-12)
"Object-store error."
const DJ_E_STORE = Int32(-13)
"Codec error."
const DJ_E_CODEC = Int32(-14)
"Local I/O error."
const DJ_E_IO = Int32(-15)
"The database cannot be reached or opened."
const DJ_E_CONNECTION = Int32(-16)
"Not supported by this backend or version."
const DJ_E_UNSUPPORTED = Int32(-17)
"Not allowed here: a direct insert into a Computed/Imported table outside its `make` (ABI 0.6), a populate inside a transaction."
const DJ_E_NOT_ALLOWED = Int32(-18)
"A `make` callback failed; the message is the callback's (ABI 0.6)."
const DJ_E_MAKE_FAILED = Int32(-19)
"A Rust panic was caught at the boundary (a bug; please report it)."
const DJ_E_PANIC = Int32(-98)
"Internal error (a bug)."
const DJ_E_INTERNAL = Int32(-99)
"`dj_delete_opts.part_integrity` (ABI 0.5): part rows may only be deleted with their master's rows (the default)."
const DJ_PART_INTEGRITY_ENFORCE = Int32(0)
"`dj_delete_opts.part_integrity`: part rows may be deleted on their own."
const DJ_PART_INTEGRITY_IGNORE = Int32(1)
"`dj_delete_opts.part_integrity`: deleting part rows deletes their master rows and all the master's parts."
const DJ_PART_INTEGRITY_CASCADE = Int32(2)
"`ArrowSchema.flags` (Arrow C Data Interface): a dictionary's indices are ordered."
const ARROW_FLAG_DICTIONARY_ORDERED = Int64(1)
"`ArrowSchema.flags`: the field is nullable."
const ARROW_FLAG_NULLABLE = Int64(2)
"`ArrowSchema.flags`: the keys of a map are sorted."
const ARROW_FLAG_MAP_KEYS_SORTED = Int64(4)

# -------------------------------------------------------------------------------- handles

"Opaque connection handle."
mutable struct dj_conn end
"Opaque schema handle."
mutable struct dj_schema end
"Opaque table handle (possibly restricted)."
mutable struct dj_table end
"Opaque row (also a key) handle."
mutable struct dj_row end
"Opaque columnar result handle."
mutable struct dj_result end
"Opaque list of strings."
mutable struct dj_strlist end
"Opaque lazy reference to an `<npy@>` value."
mutable struct dj_npyref end
"A `<blob>` value tree node: owned (`dj_value_new_*`, `dj_value_clone`; free with `dj_value_free`) or borrowed."
mutable struct dj_value end
"Opaque lazy reference to an `<object@>` or `<filepath@>` value (metadata without I/O)."
mutable struct dj_objectref end
"Opaque list of the files of an object (relative paths and sizes)."
mutable struct dj_filelist end
"Opaque sequential reader of one stored file."
mutable struct dj_reader end
"Opaque stream writing one new object of a staged insert."
mutable struct dj_writer end
"Opaque staged insert of one row."
mutable struct dj_staged end
"Opaque query expression (ABI 0.5): a table or an operator over query expressions; immutable."
mutable struct dj_query end
"Opaque report of a cascading delete (ABI 0.5): rows per table."
mutable struct dj_delete_report end
"Opaque context of one `make` call (ABI 0.6): `dj_make_fail`, `dj_make_key_row`; valid only during the call."
mutable struct dj_make_ctx end
"Opaque report of a populate (ABI 0.6): keys made, skipped and failed."
mutable struct dj_populate_report end

# -------------------------------------------------------------------------------- structs

"""
Options of an insert. Initialise with `dj_insert_opts_init`; the library reads only the fields
covered by `struct_size`.
"""
struct dj_insert_opts
    struct_size::UInt32
    skip_duplicates::UInt8
    ignore_extra_fields::UInt8
    replace::UInt8
    allow_direct_insert::UInt32  # ABI 0.6: non-zero: insert into a Computed/Imported table outside its make
end

"""
Options of a fetch. Initialise with `dj_fetch_opts_init`. `attributes` points to
`n_attributes` NUL-terminated names (NULL: all); `order_by` is NULL for no ordering.
"""
struct dj_fetch_opts
    struct_size::UInt32
    attributes::Ptr{Ptr{UInt8}}
    n_attributes::Csize_t
    order_by::Ptr{UInt8}
    limit::Int64
    offset::Int64
    raw::Int32                  # ABI 0.3: non-zero: codec columns as stored, no download/decoding
    attachment_info::Int32      # ABI 0.3: non-zero: attachments as JSON {"name","size","hash"}, no download
    download_path::Ptr{UInt8}   # ABI 0.3: folder for fetched attachments (NULL: the setting, else ".")
end

"Description of one attribute of a heading; strings are borrowed from the table handle."
struct dj_attr_info
    name::Ptr{UInt8}
    type_name::Ptr{UInt8}
    comment::Ptr{UInt8}
    default_value::Ptr{UInt8}
    kind::Int32
    in_key::UInt8
    nullable::UInt8
end

"One input column of a columnar insert; buffers are read during the call only."
struct dj_column_in
    name::Ptr{UInt8}
    kind::Int32
    data::Ptr{Cvoid}
    offsets::Ptr{Int64}
    validity::Ptr{UInt8}
end

"A read-only view of one result column, valid until the result is freed."
struct dj_column_view
    name::Ptr{UInt8}
    type_name::Ptr{UInt8}
    kind::Int32
    in_key::UInt8
    length::Csize_t
    data::Ptr{Cvoid}
    offsets::Ptr{Int64}
    validity::Ptr{UInt8}
end

"""
An array to store in an `<npy@>` attribute; the buffer is borrowed until the insert returns
(for `dj_row_set_array`: until the row is inserted or freed).
"""
struct dj_array_in
    data::Ptr{Cvoid}
    nbytes::UInt64
    dtype::Int32
    ndim::Int32
    shape::Ptr{Int64}
    itemsize::Int64
    order::Int32
end

"""
A read-only n-d array produced by the library. The consumer calls `dj_array_view_release`
exactly once; the memory stays valid until then, independently of refs, results and
connections. `release` is a C function pointer (NULL once released).
"""
struct dj_array_view
    data::Ptr{Cvoid}
    nbytes::UInt64
    dtype::Int32
    ndim::Int32
    shape::Ptr{Int64}
    strides::Ptr{Int64}
    itemsize::Int64
    flags::UInt32
    release::Ptr{Cvoid}
    private_data::Ptr{Cvoid}
end

"A borrowed view of a `<blob>` array value (`dj_value_array`); pointers live as long as the value."
struct dj_blob_array
    class_id::Int32
    is_complex::Int32
    ndim::Int32
    shape::Ptr{Int64}
    length::UInt64
    itemsize::Int64
    real::Ptr{Cvoid}
    imag::Ptr{Cvoid}
end

"A borrowed view of a `<blob>` sparse matrix (compressed columns; `dj_value_sparse`)."
struct dj_blob_sparse
    rows::UInt64
    cols::UInt64
    nnz::UInt64
    jc::Ptr{UInt64}
    ir::Ptr{UInt64}
    values::dj_blob_array
end

"An all-zero `dj_blob_array`, for out parameters."
dj_blob_array() = dj_blob_array(0, 0, 0, C_NULL, 0, 0, C_NULL, C_NULL)

"An all-zero `dj_blob_sparse`, for out parameters."
dj_blob_sparse() = dj_blob_sparse(0, 0, 0, C_NULL, C_NULL, dj_blob_array())

"An all-zero (released) `dj_array_view`, for out parameters."
dj_array_view() = dj_array_view(C_NULL, 0, 0, 0, C_NULL, C_NULL, 0, 0, C_NULL, C_NULL)

"An all-zero `dj_column_view`, for out parameters."
dj_column_view() = dj_column_view(C_NULL, C_NULL, 0, 0, 0, C_NULL, C_NULL, C_NULL)

"An all-zero `dj_attr_info`, for out parameters."
dj_attr_info() = dj_attr_info(C_NULL, C_NULL, C_NULL, C_NULL, 0, 0, 0)

"Zero `dj_insert_opts` (call `dj_insert_opts_init` before use)."
dj_insert_opts() = dj_insert_opts(0, 0, 0, 0, 0)

"Zero `dj_fetch_opts` (call `dj_fetch_opts_init` before use)."
dj_fetch_opts() = dj_fetch_opts(0, C_NULL, 0, C_NULL, 0, 0, 0, 0, C_NULL)

"Summary of an `<object@>` / `<filepath@>` value (no I/O): `size` -1 when unknown, `item_count` -1 when not recorded."
struct dj_object_info
    size::Int64
    is_dir::UInt8
    item_count::Int64
end

"""
Options of `dj_schema_gc`; initialise with `dj_gc_opts_init`. `store` NULL: every store the
schema uses; objects younger than `grace_seconds` are kept.
"""
struct dj_gc_opts
    struct_size::UInt32
    dry_run::UInt8
    store::Ptr{UInt8}
    grace_seconds::Cdouble
end

"What `dj_schema_gc` found and did."
struct dj_gc_stats
    hash_objects::UInt64
    schema_objects::UInt64
    references::UInt64
    orphaned_hash::UInt64
    orphaned_schema::UInt64
    orphaned_bytes::UInt64
    young::UInt64
    deleted::UInt64
    bytes_freed::UInt64
    requests::UInt64
    dry_run::UInt8
end

"An all-zero `dj_object_info`, for out parameters."
dj_object_info() = dj_object_info(0, 0, 0)

"Zero `dj_gc_opts` (call `dj_gc_opts_init` before use)."
dj_gc_opts() = dj_gc_opts(0, 0, C_NULL, 0.0)

"An all-zero `dj_gc_stats`, for out parameters."
dj_gc_stats() = dj_gc_stats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

"""
Options of `dj_table_delete_cascade` (ABI 0.5); initialise with `dj_delete_opts_init`.
`part_integrity` is a `DJ_PART_INTEGRITY_*` constant; `dry_run` non-zero counts the rows per
table without deleting.
"""
struct dj_delete_opts
    struct_size::UInt32
    part_integrity::Int32
    dry_run::Int32
end

"Zero `dj_delete_opts` (call `dj_delete_opts_init` before use)."
dj_delete_opts() = dj_delete_opts(0, 0, 0)

"Where a populate is (ABI 0.6), passed to its progress callback after each key: keys handled so far (made, failed or skipped) of `total`."
struct dj_populate_progress
    done::UInt64
    total::UInt64
    succeeded::UInt64
    failed::UInt64
end

"""
Options of `dj_table_populate` and `dj_table_progress` (ABI 0.6); initialise with
`dj_populate_opts_init`. `restrictions` (SQL, AND), `restrict_queries` (AND) and `keys` (any
of them; NULL: no key restriction) restrict the key source. `max_calls` -1: no limit; `order`
a `DJ_ORDER_*` constant; `priority` -1: the default (all jobs); `refresh` 1, 0, or -1 (the
`jobs.auto_refresh` setting). `progress` is a `dj_populate_progress_fn` (`@cfunction`
pointer, or C_NULL) called with `progress_user_data`.
"""
struct dj_populate_opts
    struct_size::UInt32
    restrictions::Ptr{Ptr{UInt8}}
    n_restrictions::Csize_t
    restrict_queries::Ptr{Ptr{dj_query}}
    n_restrict_queries::Csize_t
    keys::Ptr{Ptr{dj_row}}
    n_keys::Csize_t
    reserve_jobs::Int32
    suppress_errors::Int32
    max_calls::Int64
    order::Int32
    priority::Int64
    refresh::Int32
    progress::Ptr{Cvoid}
    progress_user_data::Ptr{Cvoid}
end

"""
Options of `dj_jobs_refresh` (ABI 0.6); initialise with `dj_refresh_opts_init`.
`restrictions` (SQL, AND) restrict the key source for new jobs; `delay`: seconds until the new
jobs are due; `priority` -1: the `jobs.default_priority` setting; `stale_timeout` -1: the
`jobs.stale_timeout` setting, 0: never; `orphan_timeout` 0 or less: never.
"""
struct dj_refresh_opts
    struct_size::UInt32
    restrictions::Ptr{Ptr{UInt8}}
    n_restrictions::Csize_t
    delay::Cdouble
    priority::Int64
    stale_timeout::Cdouble
    orphan_timeout::Cdouble
end

"What `dj_jobs_refresh` did (ABI 0.6)."
struct dj_refresh_report
    added::UInt64
    removed::UInt64
    orphaned::UInt64
    re_pended::UInt64
end

"Jobs per status (`dj_jobs_progress`, ABI 0.6)."
struct dj_job_counts
    pending::UInt64
    reserved::UInt64
    success::UInt64
    error::UInt64
    ignore::UInt64
    total::UInt64
end

"Zero `dj_populate_opts` (call `dj_populate_opts_init` before use)."
dj_populate_opts() = dj_populate_opts(0, C_NULL, 0, C_NULL, 0, C_NULL, 0, 0, 0, 0, 0, 0, 0, C_NULL, C_NULL)

"Zero `dj_refresh_opts` (call `dj_refresh_opts_init` before use)."
dj_refresh_opts() = dj_refresh_opts(0, C_NULL, 0, 0.0, 0, 0.0, 0.0)

"An all-zero `dj_populate_progress`."
dj_populate_progress() = dj_populate_progress(0, 0, 0, 0)

"An all-zero `dj_refresh_report`, for out parameters."
dj_refresh_report() = dj_refresh_report(0, 0, 0, 0)

"An all-zero `dj_job_counts`, for out parameters."
dj_job_counts() = dj_job_counts(0, 0, 0, 0, 0, 0)

"""
`struct ArrowSchema` of the Arrow C Data Interface
(https://arrow.apache.org/docs/format/CDataInterface.html), filled by `dj_result_export_arrow`.
The consumer calls `release` (a C function pointer, NULL once released) exactly once.
"""
struct ArrowSchema
    format::Ptr{UInt8}
    name::Ptr{UInt8}
    metadata::Ptr{UInt8}
    flags::Int64
    n_children::Int64
    children::Ptr{Ptr{ArrowSchema}}
    dictionary::Ptr{ArrowSchema}
    release::Ptr{Cvoid}
    private_data::Ptr{Cvoid}
end

"""
`struct ArrowArray` of the Arrow C Data Interface, filled by `dj_result_export_arrow`. The
consumer calls `release` (a C function pointer, NULL once released) exactly once.
"""
struct ArrowArray
    length::Int64
    null_count::Int64
    offset::Int64
    n_buffers::Int64
    n_children::Int64
    buffers::Ptr{Ptr{Cvoid}}
    children::Ptr{Ptr{ArrowArray}}
    dictionary::Ptr{ArrowArray}
    release::Ptr{Cvoid}
    private_data::Ptr{Cvoid}
end

"An all-zero (released) `ArrowSchema`, for out parameters."
ArrowSchema() = ArrowSchema(C_NULL, C_NULL, C_NULL, 0, 0, C_NULL, C_NULL, C_NULL, C_NULL)

"An all-zero (released) `ArrowArray`, for out parameters."
ArrowArray() = ArrowArray(0, 0, 0, 0, 0, C_NULL, C_NULL, C_NULL, C_NULL, C_NULL)

# -------------------------------------------------------------------------------- functions

"""
    dj_abi_version()

`uint32_t dj_abi_version(void)`

Runtime ABI version: (major << 16) | minor. Bindings refuse a different major.
"""
dj_abi_version() =
    ccall((:dj_abi_version, libdatajoint), UInt32, ())

"""
    dj_version_string()

`const char *dj_version_string(void)`

Library version string, e.g. "0.1.0". Static storage.
"""
dj_version_string() =
    ccall((:dj_version_string, libdatajoint), Ptr{UInt8}, ())

"""
    dj_last_error_code()

`dj_status dj_last_error_code(void)`

Code of the last error on this thread (DJ_OK if the last call succeeded).
"""
dj_last_error_code() =
    ccall((:dj_last_error_code, libdatajoint), Cint, ())

"""
    dj_last_error_message()

`const char *dj_last_error_message(void)`

Message of the last error on this thread; never NULL ("" after success). Valid until the next dj_* call on this thread.
"""
dj_last_error_message() =
    ccall((:dj_last_error_message, libdatajoint), Ptr{UInt8}, ())

"""
    dj_status_name(status)

`const char *dj_status_name(dj_status status)`

Short name of a status code ("NotFound", "Duplicate", …); static storage, never NULL.
"""
dj_status_name(status) =
    ccall((:dj_status_name, libdatajoint), Ptr{UInt8}, (Cint,), status)

"""
    dj_kind_name(kind)

`const char *dj_kind_name(int32_t kind)`

Name of a buffer kind (DJ_KIND_*): "int32", "string", "array", …; "unknown" for other values. Static storage, never NULL.
"""
dj_kind_name(kind) =
    ccall((:dj_kind_name, libdatajoint), Ptr{UInt8}, (Int32,), kind)

"""
    dj_insert_opts_init(opts)

`dj_status dj_insert_opts_init(struct dj_insert_opts *opts)`

Initialise insert options to their defaults (everything off).
"""
dj_insert_opts_init(opts) =
    ccall((:dj_insert_opts_init, libdatajoint), Cint, (Ref{dj_insert_opts},), opts)

"""
    dj_fetch_opts_init(opts)

`dj_status dj_fetch_opts_init(struct dj_fetch_opts *opts)`

Initialise fetch options to their defaults (all attributes, no order, no limit).
"""
dj_fetch_opts_init(opts) =
    ccall((:dj_fetch_opts_init, libdatajoint), Cint, (Ref{dj_fetch_opts},), opts)

"""
    dj_connect(config_path, overrides_json, out_conn)

`dj_status dj_connect(const char *config_path, const char *overrides_json, dj_conn **out_conn)`

Connect using `datajoint.json` (`config_path`, or NULL to search upward from the current directory), environment variables (DJ_BACKEND, DJ_DATABASE_PATH, …), then `overrides_json` (NULL or a JSON object, nested or with dotted keys, e.g. {"database.path": "lab.duckdb"}).
"""
dj_connect(config_path, overrides_json, out_conn) =
    ccall((:dj_connect, libdatajoint), Cint, (Cstring, Cstring, Ref{Ptr{dj_conn}}), config_path, overrides_json, out_conn)

"""
    dj_connect_duckdb(path, out_conn)

`dj_status dj_connect_duckdb(const char *path, dj_conn **out_conn)`

Open (or create) an embedded DuckDB database file; NULL or ":memory:" for in-memory.
"""
dj_connect_duckdb(path, out_conn) =
    ccall((:dj_connect_duckdb, libdatajoint), Cint, (Cstring, Ref{Ptr{dj_conn}}), path, out_conn)

"""
    dj_conn_close(conn)

`dj_status dj_conn_close(dj_conn *conn)`

Close the connection now (releases the database file or sockets). Idempotent. Schemas, tables and results made from it stay valid to free, but operations fail with DJ_E_CLOSED.
"""
dj_conn_close(conn) =
    ccall((:dj_conn_close, libdatajoint), Cint, (Ptr{dj_conn},), conn)

"""
    dj_conn_free(conn)

`void dj_conn_free(dj_conn *conn)`

Free a connection handle (closes it if no schema or table still uses it). NULL is ignored.
"""
dj_conn_free(conn) =
    ccall((:dj_conn_free, libdatajoint), Cvoid, (Ptr{dj_conn},), conn)

"""
    dj_conn_backend(conn, out_name)

`dj_status dj_conn_backend(const dj_conn *conn, const char **out_name)`

Backend name: "duckdb", "postgresql" or "mysql". Static storage.
"""
dj_conn_backend(conn, out_name) =
    ccall((:dj_conn_backend, libdatajoint), Cint, (Ptr{dj_conn}, Ref{Ptr{UInt8}}), conn, out_name)

"""
    dj_conn_list_schemas(conn, out_list)

`dj_status dj_conn_list_schemas(const dj_conn *conn, dj_strlist **out_list)`

List the schemas of the database.
"""
dj_conn_list_schemas(conn, out_list) =
    ccall((:dj_conn_list_schemas, libdatajoint), Cint, (Ptr{dj_conn}, Ref{Ptr{dj_strlist}}), conn, out_list)

"""
    dj_strlist_len(list)

`size_t dj_strlist_len(const dj_strlist *list)`

Number of strings in a list (0 for NULL).
"""
dj_strlist_len(list) =
    ccall((:dj_strlist_len, libdatajoint), Csize_t, (Ptr{dj_strlist},), list)

"""
    dj_strlist_get(list, i)

`const char *dj_strlist_get(const dj_strlist *list, size_t i)`

String `i` (NUL-terminated, valid until the list is freed), or NULL if out of range.
"""
dj_strlist_get(list, i) =
    ccall((:dj_strlist_get, libdatajoint), Ptr{UInt8}, (Ptr{dj_strlist}, Csize_t), list, i)

"""
    dj_strlist_free(list)

`void dj_strlist_free(dj_strlist *list)`
"""
dj_strlist_free(list) =
    ccall((:dj_strlist_free, libdatajoint), Cvoid, (Ptr{dj_strlist},), list)

"""
    dj_schema_open(conn, name, create, out_schema)

`dj_status dj_schema_open(const dj_conn *conn, const char *name, int32_t create, dj_schema **out_schema)`

Open schema `name`; with `create` non-zero, create it if missing (else DJ_E_NOT_FOUND).
"""
dj_schema_open(conn, name, create, out_schema) =
    ccall((:dj_schema_open, libdatajoint), Cint, (Ptr{dj_conn}, Cstring, Int32, Ref{Ptr{dj_schema}}), conn, name, create, out_schema)

"""
    dj_schema_name(schema)

`const char *dj_schema_name(const dj_schema *schema)`

The schema's name (valid until the schema is freed).
"""
dj_schema_name(schema) =
    ccall((:dj_schema_name, libdatajoint), Ptr{UInt8}, (Ptr{dj_schema},), schema)

"""
    dj_schema_list_tables(schema, out_list)

`dj_status dj_schema_list_tables(const dj_schema *schema, dj_strlist **out_list)`

SQL names of the schema's tables, sorted.
"""
dj_schema_list_tables(schema, out_list) =
    ccall((:dj_schema_list_tables, libdatajoint), Cint, (Ptr{dj_schema}, Ref{Ptr{dj_strlist}}), schema, out_list)

"""
    dj_schema_drop(schema)

`dj_status dj_schema_drop(const dj_schema *schema)`

Drop the schema and all its tables.
"""
dj_schema_drop(schema) =
    ccall((:dj_schema_drop, libdatajoint), Cint, (Ptr{dj_schema},), schema)

"""
    dj_schema_free(schema)

`void dj_schema_free(dj_schema *schema)`
"""
dj_schema_free(schema) =
    ccall((:dj_schema_free, libdatajoint), Cvoid, (Ptr{dj_schema},), schema)

"""
    dj_table_declare(schema, class_name, tier, definition, out_table)

`dj_status dj_table_declare(const dj_schema *schema, const char *class_name, int32_t tier, const char *definition, dj_table **out_table)`

Declare a table from a DataJoint definition. `class_name` is CamelCase; the tier (DJ_TIER_*) sets the SQL name prefix. Declaring an existing table opens it.
"""
dj_table_declare(schema, class_name, tier, definition, out_table) =
    ccall((:dj_table_declare, libdatajoint), Cint, (Ptr{dj_schema}, Cstring, Int32, Cstring, Ref{Ptr{dj_table}}), schema, class_name, tier, definition, out_table)

"""
    dj_table_declare_part(schema, master, part_class, definition, out_table)

`dj_status dj_table_declare_part(const dj_schema *schema, const dj_table *master, const char *part_class, const char *definition, dj_table **out_table)`

Declare a part table of `master` (SQL name: master name + "__" + snake_case(part_class)). In its definition, `-> master` references the master table.
"""
dj_table_declare_part(schema, master, part_class, definition, out_table) =
    ccall((:dj_table_declare_part, libdatajoint), Cint, (Ptr{dj_schema}, Ptr{dj_table}, Cstring, Cstring, Ref{Ptr{dj_table}}), schema, master, part_class, definition, out_table)

"""
    dj_table_open(schema, name, out_table)

`dj_status dj_table_open(const dj_schema *schema, const char *name, dj_table **out_table)`

Open an existing table by class name ("SessionTrial", "Master.Part") or SQL name; its heading is read from the database.
"""
dj_table_open(schema, name, out_table) =
    ccall((:dj_table_open, libdatajoint), Cint, (Ptr{dj_schema}, Cstring, Ref{Ptr{dj_table}}), schema, name, out_table)

"""
    dj_table_free(table)

`void dj_table_free(dj_table *table)`
"""
dj_table_free(table) =
    ccall((:dj_table_free, libdatajoint), Cvoid, (Ptr{dj_table},), table)

"""
    dj_table_clone(table, out_table)

`dj_status dj_table_clone(const dj_table *table, dj_table **out_table)`

A new handle of the same table (with its restrictions). (ABI 0.6)
"""
dj_table_clone(table, out_table) =
    ccall((:dj_table_clone, libdatajoint), Cint, (Ptr{dj_table}, Ref{Ptr{dj_table}}), table, out_table)

"""
    dj_table_name(table)

`const char *dj_table_name(const dj_table *table)`

SQL name of the table (valid until the table is freed).
"""
dj_table_name(table) =
    ccall((:dj_table_name, libdatajoint), Ptr{UInt8}, (Ptr{dj_table},), table)

"""
    dj_table_comment(table)

`const char *dj_table_comment(const dj_table *table)`

The table comment (valid until the table is freed).
"""
dj_table_comment(table) =
    ccall((:dj_table_comment, libdatajoint), Ptr{UInt8}, (Ptr{dj_table},), table)

"""
    dj_table_attr_count(table)

`size_t dj_table_attr_count(const dj_table *table)`

Number of (visible) attributes of the table.
"""
dj_table_attr_count(table) =
    ccall((:dj_table_attr_count, libdatajoint), Csize_t, (Ptr{dj_table},), table)

"""
    dj_table_attr(table, i, out_info)

`dj_status dj_table_attr(const dj_table *table, size_t i, struct dj_attr_info *out_info)`

Describe attribute `i` (0-based, in heading order).
"""
dj_table_attr(table, i, out_info) =
    ccall((:dj_table_attr, libdatajoint), Cint, (Ptr{dj_table}, Csize_t, Ref{dj_attr_info}), table, i, out_info)

"""
    dj_table_drop(table)

`dj_status dj_table_drop(const dj_table *table)`

Drop the table (fails with DJ_E_INTEGRITY/DJ_E_BACKEND while other tables reference it).
"""
dj_table_drop(table) =
    ccall((:dj_table_drop, libdatajoint), Cint, (Ptr{dj_table},), table)

"""
    dj_table_restrict_sql(table, condition, out_table)

`dj_status dj_table_restrict_sql(const dj_table *table, const char *condition, dj_table **out_table)`

New table handle restricted by an SQL condition (used verbatim; ANDed with existing ones).
"""
dj_table_restrict_sql(table, condition, out_table) =
    ccall((:dj_table_restrict_sql, libdatajoint), Cint, (Ptr{dj_table}, Cstring, Ref{Ptr{dj_table}}), table, condition, out_table)

"""
    dj_table_exclude_sql(table, condition, out_table)

`dj_status dj_table_exclude_sql(const dj_table *table, const char *condition, dj_table **out_table)`

New table handle excluding rows that match an SQL condition.
"""
dj_table_exclude_sql(table, condition, out_table) =
    ccall((:dj_table_exclude_sql, libdatajoint), Cint, (Ptr{dj_table}, Cstring, Ref{Ptr{dj_table}}), table, condition, out_table)

"""
    dj_table_restrict_key(table, key, out_table)

`dj_status dj_table_restrict_key(const dj_table *table, const dj_row *key, dj_table **out_table)`

New table handle restricted to rows matching `key` (equality on every attribute the key shares with the table; other names are ignored; NULL means IS NULL).
"""
dj_table_restrict_key(table, key, out_table) =
    ccall((:dj_table_restrict_key, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_row}, Ref{Ptr{dj_table}}), table, key, out_table)

"""
    dj_table_exclude_key(table, key, out_table)

`dj_status dj_table_exclude_key(const dj_table *table, const dj_row *key, dj_table **out_table)`

New table handle excluding rows that match `key`.
"""
dj_table_exclude_key(table, key, out_table) =
    ccall((:dj_table_exclude_key, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_row}, Ref{Ptr{dj_table}}), table, key, out_table)

"""
    dj_table_restrict_keys(table, keys, n, out_table)

`dj_status dj_table_restrict_keys(const dj_table *table, const dj_row *const *keys, size_t n, dj_table **out_table)`

New table handle restricted to rows matching any of `n` keys (OR); n = 0 matches nothing.
"""
dj_table_restrict_keys(table, keys, n, out_table) =
    ccall((:dj_table_restrict_keys, libdatajoint), Cint, (Ptr{dj_table}, Ptr{Ptr{dj_row}}, Csize_t, Ref{Ptr{dj_table}}), table, keys, n, out_table)

"""
    dj_row_new(out_row)

`dj_status dj_row_new(dj_row **out_row)`

New empty row (also used as a key for restrictions).
"""
dj_row_new(out_row) =
    ccall((:dj_row_new, libdatajoint), Cint, (Ref{Ptr{dj_row}},), out_row)

"""
    dj_row_free(row)

`void dj_row_free(dj_row *row)`
"""
dj_row_free(row) =
    ccall((:dj_row_free, libdatajoint), Cvoid, (Ptr{dj_row},), row)

"""
    dj_row_clone(row, out_row)

`dj_status dj_row_clone(const dj_row *row, dj_row **out_row)`

A copy of a row. (ABI 0.6)
"""
dj_row_clone(row, out_row) =
    ccall((:dj_row_clone, libdatajoint), Cint, (Ptr{dj_row}, Ref{Ptr{dj_row}}), row, out_row)

"""
    dj_row_clear(row)

`dj_status dj_row_clear(dj_row *row)`

Remove all values.
"""
dj_row_clear(row) =
    ccall((:dj_row_clear, libdatajoint), Cint, (Ptr{dj_row},), row)

"""
    dj_row_len(row)

`size_t dj_row_len(const dj_row *row)`

Number of values set.
"""
dj_row_len(row) =
    ccall((:dj_row_len, libdatajoint), Csize_t, (Ptr{dj_row},), row)

"""
    dj_row_set_null(row, name)

`dj_status dj_row_set_null(dj_row *row, const char *name)`

Set attribute `name` to NULL.
"""
dj_row_set_null(row, name) =
    ccall((:dj_row_set_null, libdatajoint), Cint, (Ptr{dj_row}, Cstring), row, name)

"""
    dj_row_set_bool(row, name, v)

`dj_status dj_row_set_bool(dj_row *row, const char *name, int32_t v)`
"""
dj_row_set_bool(row, name, v) =
    ccall((:dj_row_set_bool, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Int32), row, name, v)

"""
    dj_row_set_int(row, name, v)

`dj_status dj_row_set_int(dj_row *row, const char *name, int64_t v)`

Set an integer (fits any integer attribute it is in range of; also decimal and float).
"""
dj_row_set_int(row, name, v) =
    ccall((:dj_row_set_int, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Int64), row, name, v)

"""
    dj_row_set_uint(row, name, v)

`dj_status dj_row_set_uint(dj_row *row, const char *name, uint64_t v)`

Set an unsigned integer: the whole uint64 range, for native `bigint unsigned` attributes (any integer attribute it is in range of, as `dj_row_set_int`).
"""
dj_row_set_uint(row, name, v) =
    ccall((:dj_row_set_uint, libdatajoint), Cint, (Ptr{dj_row}, Cstring, UInt64), row, name, v)

"""
    dj_row_set_float(row, name, v)

`dj_status dj_row_set_float(dj_row *row, const char *name, double v)`

Set a float (NaN means NULL; an integral value also fits integer attributes).
"""
dj_row_set_float(row, name, v) =
    ccall((:dj_row_set_float, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Cdouble), row, name, v)

"""
    dj_row_set_string(row, name, v)

`dj_status dj_row_set_string(dj_row *row, const char *name, const char *v)`

Set a NUL-terminated UTF-8 string (also parsed for date, datetime, uuid, decimal, json, enum).
"""
dj_row_set_string(row, name, v) =
    ccall((:dj_row_set_string, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Cstring), row, name, v)

"""
    dj_row_set_string_n(row, name, data, len)

`dj_status dj_row_set_string_n(dj_row *row, const char *name, const char *data, size_t len)`

Set a UTF-8 string of `len` bytes (may contain NUL).
"""
dj_row_set_string_n(row, name, data, len) =
    ccall((:dj_row_set_string_n, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Ptr{UInt8}, Csize_t), row, name, data, len)

"""
    dj_row_set_bytes(row, name, data, len)

`dj_status dj_row_set_bytes(dj_row *row, const char *name, const void *data, size_t len)`
"""
dj_row_set_bytes(row, name, data, len) =
    ccall((:dj_row_set_bytes, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Ptr{Cvoid}, Csize_t), row, name, data, len)

"""
    dj_row_set_date(row, name, days)

`dj_status dj_row_set_date(dj_row *row, const char *name, int32_t days)`

Set a date as days since 1970-01-01.
"""
dj_row_set_date(row, name, days) =
    ccall((:dj_row_set_date, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Int32), row, name, days)

"""
    dj_row_set_datetime(row, name, micros)

`dj_status dj_row_set_datetime(dj_row *row, const char *name, int64_t micros)`

Set a datetime as microseconds since 1970-01-01T00:00:00.
"""
dj_row_set_datetime(row, name, micros) =
    ccall((:dj_row_set_datetime, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Int64), row, name, micros)

"""
    dj_row_set_uuid(row, name, bytes16)

`dj_status dj_row_set_uuid(dj_row *row, const char *name, const uint8_t *bytes16)`

Set a UUID from its 16 bytes (RFC 4122 order).
"""
dj_row_set_uuid(row, name, bytes16) =
    ccall((:dj_row_set_uuid, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Ptr{UInt8}), row, name, bytes16)

"""
    dj_row_set_decimal(row, name, text)

`dj_status dj_row_set_decimal(dj_row *row, const char *name, const char *text)`

Set an exact decimal from text, e.g. "-12.50".
"""
dj_row_set_decimal(row, name, text) =
    ccall((:dj_row_set_decimal, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Cstring), row, name, text)

"""
    dj_row_set_json(row, name, json)

`dj_status dj_row_set_json(dj_row *row, const char *name, const char *json)`

Set a JSON document from its text (validated on insert).
"""
dj_row_set_json(row, name, json) =
    ccall((:dj_row_set_json, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Cstring), row, name, json)

"""
    dj_table_insert1(table, row, opts, out_count)

`dj_status dj_table_insert1(const dj_table *table, const dj_row *row, const struct dj_insert_opts *opts, uint64_t *out_count)`

Insert one row. `opts` may be NULL. `out_count` (may be NULL) receives the rows written.
"""
dj_table_insert1(table, row, opts, out_count) =
    ccall((:dj_table_insert1, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_row}, Ptr{dj_insert_opts}, Ptr{UInt64}), table, row, opts, out_count)

"""
    dj_table_insert_rows(table, rows, n, opts, out_count)

`dj_status dj_table_insert_rows(const dj_table *table, const dj_row *const *rows, size_t n, const struct dj_insert_opts *opts, uint64_t *out_count)`

Insert `n` rows (all with the same attribute names) in one transaction: on any error no row of the batch remains.
"""
dj_table_insert_rows(table, rows, n, opts, out_count) =
    ccall((:dj_table_insert_rows, libdatajoint), Cint, (Ptr{dj_table}, Ptr{Ptr{dj_row}}, Csize_t, Ptr{dj_insert_opts}, Ptr{UInt64}), table, rows, n, opts, out_count)

"""
    dj_table_insert_columns(table, cols, ncols, nrows, opts, out_count)

`dj_status dj_table_insert_columns(const dj_table *table, const struct dj_column_in *cols, size_t ncols, size_t nrows, const struct dj_insert_opts *opts, uint64_t *out_count)`

Columnar batch insert: `ncols` typed buffers of `nrows` values each, in one transaction (on any error no row remains). Buffers are only read during the call.
"""
dj_table_insert_columns(table, cols, ncols, nrows, opts, out_count) =
    ccall((:dj_table_insert_columns, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_column_in}, Csize_t, Csize_t, Ptr{dj_insert_opts}, Ptr{UInt64}), table, cols, ncols, nrows, opts, out_count)

"""
    dj_table_fetch(table, opts, out_result)

`dj_status dj_table_fetch(const dj_table *table, const struct dj_fetch_opts *opts, dj_result **out_result)`

Fetch the matching rows into a columnar result. `opts` may be NULL.
"""
dj_table_fetch(table, opts, out_result) =
    ccall((:dj_table_fetch, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_fetch_opts}, Ref{Ptr{dj_result}}), table, opts, out_result)

"""
    dj_table_fetch1(table, opts, out_result)

`dj_status dj_table_fetch1(const dj_table *table, const struct dj_fetch_opts *opts, dj_result **out_result)`

Fetch exactly one row: DJ_E_NOT_FOUND if none match, DJ_E_NOT_UNIQUE if several do.
"""
dj_table_fetch1(table, opts, out_result) =
    ccall((:dj_table_fetch1, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_fetch_opts}, Ref{Ptr{dj_result}}), table, opts, out_result)

"""
    dj_table_keys(table, opts, out_result)

`dj_status dj_table_keys(const dj_table *table, const struct dj_fetch_opts *opts, dj_result **out_result)`

Fetch the primary keys of the matching rows.
"""
dj_table_keys(table, opts, out_result) =
    ccall((:dj_table_keys, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_fetch_opts}, Ref{Ptr{dj_result}}), table, opts, out_result)

"""
    dj_table_count(table, out_count)

`dj_status dj_table_count(const dj_table *table, uint64_t *out_count)`

Number of matching rows.
"""
dj_table_count(table, out_count) =
    ccall((:dj_table_count, libdatajoint), Cint, (Ptr{dj_table}, Ref{UInt64}), table, out_count)

"""
    dj_table_delete(table, out_count)

`dj_status dj_table_delete(const dj_table *table, uint64_t *out_count)`

Delete the matching rows in one transaction. Rows still referenced by a child table make the whole delete fail with DJ_E_INTEGRITY. `out_count` (may be NULL) receives the rows deleted.
"""
dj_table_delete(table, out_count) =
    ccall((:dj_table_delete, libdatajoint), Cint, (Ptr{dj_table}, Ptr{UInt64}), table, out_count)

"""
    dj_result_nrows(result)

`size_t dj_result_nrows(const dj_result *result)`

Number of rows of a result (0 for NULL).
"""
dj_result_nrows(result) =
    ccall((:dj_result_nrows, libdatajoint), Csize_t, (Ptr{dj_result},), result)

"""
    dj_result_ncols(result)

`size_t dj_result_ncols(const dj_result *result)`

Number of columns of a result (0 for NULL).
"""
dj_result_ncols(result) =
    ccall((:dj_result_ncols, libdatajoint), Csize_t, (Ptr{dj_result},), result)

"""
    dj_result_column_index(result, name, out_index)

`dj_status dj_result_column_index(const dj_result *result, const char *name, size_t *out_index)`

Index of the column named `name`.
"""
dj_result_column_index(result, name, out_index) =
    ccall((:dj_result_column_index, libdatajoint), Cint, (Ptr{dj_result}, Cstring, Ref{Csize_t}), result, name, out_index)

"""
    dj_result_column(result, i, out_view)

`dj_status dj_result_column(const dj_result *result, size_t i, struct dj_column_view *out_view)`

View of column `i`: typed buffers valid until the result is freed (no copy).
"""
dj_result_column(result, i, out_view) =
    ccall((:dj_result_column, libdatajoint), Cint, (Ptr{dj_result}, Csize_t, Ref{dj_column_view}), result, i, out_view)

"""
    dj_result_free(result)

`void dj_result_free(dj_result *result)`
"""
dj_result_free(result) =
    ccall((:dj_result_free, libdatajoint), Cvoid, (Ptr{dj_result},), result)

"""
    dj_result_clone(result, out_result)

`dj_status dj_result_clone(const dj_result *result, dj_result **out_result)`

A new handle of the same result (its buffers are shared, not copied). (ABI 0.6)
"""
dj_result_clone(result, out_result) =
    ccall((:dj_result_clone, libdatajoint), Cint, (Ptr{dj_result}, Ref{Ptr{dj_result}}), result, out_result)

"""
    dj_row_set_array(row, name, array)

`dj_status dj_row_set_array(dj_row *row, const char *name, const struct dj_array_in *array)`

Set an `<npy@>` attribute to an array (buffer borrowed until the row is inserted or freed).
"""
dj_row_set_array(row, name, array) =
    ccall((:dj_row_set_array, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Ref{dj_array_in}), row, name, array)

"""
    dj_result_npyref(result, col, row, out_ref)

`dj_status dj_result_npyref(const dj_result *result, size_t col, size_t row, dj_npyref **out_ref)`

Lazy reference to the `<npy@>` value in column `col`, row `row` of a result. No I/O. DJ_E_NOT_FOUND if the value is NULL; DJ_E_TYPE if the column is not `<npy@>`.
"""
dj_result_npyref(result, col, row, out_ref) =
    ccall((:dj_result_npyref, libdatajoint), Cint, (Ptr{dj_result}, Csize_t, Csize_t, Ref{Ptr{dj_npyref}}), result, col, row, out_ref)

"""
    dj_npyref_free(r)

`void dj_npyref_free(dj_npyref *r)`
"""
dj_npyref_free(r) =
    ccall((:dj_npyref_free, libdatajoint), Cvoid, (Ptr{dj_npyref},), r)

"""
    dj_npyref_dtype(r, out_dtype, out_itemsize)

`dj_status dj_npyref_dtype(const dj_npyref *r, int32_t *out_dtype, int64_t *out_itemsize)`

Element type (DJ_DTYPE_*) and bytes per element; from metadata, no I/O.
"""
dj_npyref_dtype(r, out_dtype, out_itemsize) =
    ccall((:dj_npyref_dtype, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{Int32}, Ptr{Int64}), r, out_dtype, out_itemsize)

"""
    dj_npyref_dtype_name(r)

`const char *dj_npyref_dtype_name(const dj_npyref *r)`

numpy's name of the element type ("float64", "<U10"); valid until the ref is freed.
"""
dj_npyref_dtype_name(r) =
    ccall((:dj_npyref_dtype_name, libdatajoint), Ptr{UInt8}, (Ptr{dj_npyref},), r)

"""
    dj_npyref_shape(r, out_ndim, out_shape)

`dj_status dj_npyref_shape(const dj_npyref *r, int32_t *out_ndim, const int64_t **out_shape)`

Number of dimensions and the shape (borrowed until the ref is freed); no I/O.
"""
dj_npyref_shape(r, out_ndim, out_shape) =
    ccall((:dj_npyref_shape, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{Int32}, Ptr{Ptr{Int64}}), r, out_ndim, out_shape)

"""
    dj_npyref_size(r, out_size, out_nbytes)

`dj_status dj_npyref_size(const dj_npyref *r, uint64_t *out_size, uint64_t *out_nbytes)`

Number of elements and of data bytes; no I/O.
"""
dj_npyref_size(r, out_size, out_nbytes) =
    ccall((:dj_npyref_size, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{UInt64}, Ptr{UInt64}), r, out_size, out_nbytes)

"""
    dj_npyref_path(r)

`const char *dj_npyref_path(const dj_npyref *r)`

The object's path relative to its store (valid until the ref is freed).
"""
dj_npyref_path(r) =
    ccall((:dj_npyref_path, libdatajoint), Ptr{UInt8}, (Ptr{dj_npyref},), r)

"""
    dj_npyref_store(r)

`const char *dj_npyref_store(const dj_npyref *r)`

The store's name (valid until the ref is freed).
"""
dj_npyref_store(r) =
    ccall((:dj_npyref_store, libdatajoint), Ptr{UInt8}, (Ptr{dj_npyref},), r)

"""
    dj_npyref_is_loaded(r, out_loaded)

`dj_status dj_npyref_is_loaded(const dj_npyref *r, int32_t *out_loaded)`

Whether `dj_npyref_load` has already read the data (then later loads need no I/O).
"""
dj_npyref_is_loaded(r, out_loaded) =
    ccall((:dj_npyref_is_loaded, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{Int32}), r, out_loaded)

"""
    dj_npyref_load(r, out_view)

`dj_status dj_npyref_load(const dj_npyref *r, struct dj_array_view *out_view)`

Read the whole array into memory (cached on the ref; a second load does no I/O).
"""
dj_npyref_load(r, out_view) =
    ccall((:dj_npyref_load, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{dj_array_view}), r, out_view)

"""
    dj_npyref_map(r, out_view)

`dj_status dj_npyref_map(const dj_npyref *r, struct dj_array_view *out_view)`

Zero-copy read-only memory map: the file itself for local stores; for remote stores the object is downloaded once into the cache and the cached copy is mapped. Big-endian or misaligned files are loaded instead (flags tell: DJ_VIEW_MAPPED is then not set).
"""
dj_npyref_map(r, out_view) =
    ccall((:dj_npyref_map, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{dj_array_view}), r, out_view)

"""
    dj_npyref_read_rows(r, start, stop, out_view)

`dj_status dj_npyref_read_rows(const dj_npyref *r, uint64_t start, uint64_t stop, struct dj_array_view *out_view)`

Rows [start, stop) along the first axis of a C-order array, read with ranged requests (without downloading the whole object).
"""
dj_npyref_read_rows(r, start, stop, out_view) =
    ccall((:dj_npyref_read_rows, libdatajoint), Cint, (Ptr{dj_npyref}, UInt64, UInt64, Ref{dj_array_view}), r, start, stop, out_view)

"""
    dj_npyref_local_file(r, out_path, out_data_offset, out_fortran, out_big_endian)

`dj_status dj_npyref_local_file(const dj_npyref *r, const char **out_path, uint64_t *out_data_offset, int32_t *out_fortran, int32_t *out_big_endian)`

A local file with the `.npy` object, for callers that map it themselves (MATLAB `memmapfile`, Julia `Mmap`): the store's file for `file` stores, else the download-cache copy (downloaded on first call). `out_path` is valid until the ref is freed; `out_data_offset` is where the elements start; `out_fortran` (may be NULL) is 1 for column-major data and `out_big_endian` (may be NULL) 1 when the file is big-endian (then map it with swapped bytes or use dj_npyref_load).
"""
dj_npyref_local_file(r, out_path, out_data_offset, out_fortran, out_big_endian) =
    ccall((:dj_npyref_local_file, libdatajoint), Cint, (Ptr{dj_npyref}, Ref{Ptr{UInt8}}, Ref{UInt64}, Ptr{Int32}, Ptr{Int32}), r, out_path, out_data_offset, out_fortran, out_big_endian)

"""
    dj_array_view_release(view)

`void dj_array_view_release(struct dj_array_view *view)`

Release a view (calls its `release`); NULL and already released views are ignored.
"""
dj_array_view_release(view) =
    ccall((:dj_array_view_release, libdatajoint), Cvoid, (Ptr{dj_array_view},), view)

"""
    dj_conn_store_stats(conn, store, out_requests, out_bytes_read, out_bytes_written)

`dj_status dj_conn_store_stats(const dj_conn *conn, const char *store, uint64_t *out_requests, uint64_t *out_bytes_read, uint64_t *out_bytes_written)`

Object-store traffic of a store since the connection opened: requests, bytes read and bytes written (for tests and benchmarks). `store` NULL or "" means the default store.
"""
dj_conn_store_stats(conn, store, out_requests, out_bytes_read, out_bytes_written) =
    ccall((:dj_conn_store_stats, libdatajoint), Cint, (Ptr{dj_conn}, Cstring, Ref{UInt64}, Ptr{UInt64}, Ptr{UInt64}), conn, store, out_requests, out_bytes_read, out_bytes_written)

"""
    dj_date_from_ymd(year, month, day, out_days)

`dj_status dj_date_from_ymd(int32_t year, uint32_t month, uint32_t day, int32_t *out_days)`

Days since 1970-01-01 of a calendar date (DJ_E_INVALID_ARG for an impossible date).
"""
dj_date_from_ymd(year, month, day, out_days) =
    ccall((:dj_date_from_ymd, libdatajoint), Cint, (Int32, UInt32, UInt32, Ref{Int32}), year, month, day, out_days)

"""
    dj_datetime_parse(text, out_micros)

`dj_status dj_datetime_parse(const char *text, int64_t *out_micros)`

Parse "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]" (or with 'T') into microseconds since the epoch.
"""
dj_datetime_parse(text, out_micros) =
    ccall((:dj_datetime_parse, libdatajoint), Cint, (Cstring, Ref{Int64}), text, out_micros)

"""
    dj_datetime_format(micros, buf, len, out_needed)

`dj_status dj_datetime_format(int64_t micros, char *buf, size_t len, size_t *out_needed)`

Format microseconds since the epoch as "YYYY-MM-DD HH:MM:SS[.ffffff]" into `buf` (always NUL-terminated when `len` > 0). `out_needed` (may be NULL) receives the length without NUL; DJ_E_INVALID_ARG if the buffer is too small.
"""
dj_datetime_format(micros, buf, len, out_needed) =
    ccall((:dj_datetime_format, libdatajoint), Cint, (Int64, Ptr{UInt8}, Csize_t, Ptr{Csize_t}), micros, buf, len, out_needed)

"""
    dj_date_format(days, buf, len, out_needed)

`dj_status dj_date_format(int32_t days, char *buf, size_t len, size_t *out_needed)`

Format days since the epoch as "YYYY-MM-DD" (buffer rules as dj_datetime_format).
"""
dj_date_format(days, buf, len, out_needed) =
    ccall((:dj_date_format, libdatajoint), Cint, (Int32, Ptr{UInt8}, Csize_t, Ptr{Csize_t}), days, buf, len, out_needed)

# -------------------------------------------------------------------------------- <blob> values (ABI 0.3)

"""
    dj_value_free(v)

`void dj_value_free(dj_value *v)`

Free an owned value (NULL is ignored). Never free a borrowed node.
"""
dj_value_free(v) =
    ccall((:dj_value_free, libdatajoint), Cvoid, (Ptr{dj_value},), v)

"""
    dj_value_clone(v, out_value)

`dj_status dj_value_clone(const dj_value *v, dj_value **out_value)`

A deep copy (arrays share their immutable buffers) that the caller owns.
"""
dj_value_clone(v, out_value) =
    ccall((:dj_value_clone, libdatajoint), Cint, (Ptr{dj_value}, Ref{Ptr{dj_value}}), v, out_value)

"""
    dj_value_new_none(out_value)

`dj_status dj_value_new_none(dj_value **out_value)`
"""
dj_value_new_none(out_value) =
    ccall((:dj_value_new_none, libdatajoint), Cint, (Ref{Ptr{dj_value}},), out_value)

"""
    dj_value_new_bool(v, out_value)

`dj_status dj_value_new_bool(int32_t v, dj_value **out_value)`
"""
dj_value_new_bool(v, out_value) =
    ccall((:dj_value_new_bool, libdatajoint), Cint, (Int32, Ref{Ptr{dj_value}}), v, out_value)

"""
    dj_value_new_int(v, out_value)

`dj_status dj_value_new_int(int64_t v, dj_value **out_value)`
"""
dj_value_new_int(v, out_value) =
    ccall((:dj_value_new_int, libdatajoint), Cint, (Int64, Ref{Ptr{dj_value}}), v, out_value)

"""
    dj_value_new_bigint(le, n, out_value)

`dj_status dj_value_new_bigint(const uint8_t *le, size_t n, dj_value **out_value)`

An integer of any size from `n` little-endian two's complement bytes.
"""
dj_value_new_bigint(le, n, out_value) =
    ccall((:dj_value_new_bigint, libdatajoint), Cint, (Ptr{UInt8}, Csize_t, Ref{Ptr{dj_value}}), le, n, out_value)

"""
    dj_value_new_float(v, out_value)

`dj_status dj_value_new_float(double v, dj_value **out_value)`
"""
dj_value_new_float(v, out_value) =
    ccall((:dj_value_new_float, libdatajoint), Cint, (Cdouble, Ref{Ptr{dj_value}}), v, out_value)

"""
    dj_value_new_complex(re, im, out_value)

`dj_status dj_value_new_complex(double re, double im, dj_value **out_value)`
"""
dj_value_new_complex(re, im, out_value) =
    ccall((:dj_value_new_complex, libdatajoint), Cint, (Cdouble, Cdouble, Ref{Ptr{dj_value}}), re, im, out_value)

"""
    dj_value_new_string(s, len, out_value)

`dj_status dj_value_new_string(const char *s, size_t len, dj_value **out_value)`

A Python `str` from `len` bytes of UTF-8.
"""
dj_value_new_string(s, len, out_value) =
    ccall((:dj_value_new_string, libdatajoint), Cint, (Ptr{UInt8}, Csize_t, Ref{Ptr{dj_value}}), s, len, out_value)

"""
    dj_value_new_bytes(data, len, out_value)

`dj_status dj_value_new_bytes(const void *data, size_t len, dj_value **out_value)`
"""
dj_value_new_bytes(data, len, out_value) =
    ccall((:dj_value_new_bytes, libdatajoint), Cint, (Ptr{Cvoid}, Csize_t, Ref{Ptr{dj_value}}), data, len, out_value)

"""
    dj_value_new_decimal(text, out_value)

`dj_status dj_value_new_decimal(const char *text, dj_value **out_value)`

An exact decimal from its text (e.g. "-12.50").
"""
dj_value_new_decimal(text, out_value) =
    ccall((:dj_value_new_decimal, libdatajoint), Cint, (Cstring, Ref{Ptr{dj_value}}), text, out_value)

"""
    dj_value_new_date(days, out_value)

`dj_status dj_value_new_date(int32_t days, dj_value **out_value)`
"""
dj_value_new_date(days, out_value) =
    ccall((:dj_value_new_date, libdatajoint), Cint, (Int32, Ref{Ptr{dj_value}}), days, out_value)

"""
    dj_value_new_time(micros, out_value)

`dj_status dj_value_new_time(int64_t micros, dj_value **out_value)`
"""
dj_value_new_time(micros, out_value) =
    ccall((:dj_value_new_time, libdatajoint), Cint, (Int64, Ref{Ptr{dj_value}}), micros, out_value)

"""
    dj_value_new_datetime(micros, out_value)

`dj_status dj_value_new_datetime(int64_t micros, dj_value **out_value)`
"""
dj_value_new_datetime(micros, out_value) =
    ccall((:dj_value_new_datetime, libdatajoint), Cint, (Int64, Ref{Ptr{dj_value}}), micros, out_value)

"""
    dj_value_new_uuid(bytes16, out_value)

`dj_status dj_value_new_uuid(const uint8_t *bytes16, dj_value **out_value)`
"""
dj_value_new_uuid(bytes16, out_value) =
    ccall((:dj_value_new_uuid, libdatajoint), Cint, (Ptr{UInt8}, Ref{Ptr{dj_value}}), bytes16, out_value)

"""
    dj_value_new_array(class_id, ndim, shape, real, imag, out_value)

`dj_status dj_value_new_array(int32_t class_id, int32_t ndim, const int64_t *shape, const void *real, const void *imag, dj_value **out_value)`

An N-d array of DJ_CLASS_* `class_id`, copying `real` (and `imag` when not NULL, making it complex): `prod(shape)` elements each, column-major. Char arrays hold UTF-16 code units.
"""
dj_value_new_array(class_id, ndim, shape, real, imag, out_value) =
    ccall((:dj_value_new_array, libdatajoint), Cint, (Int32, Int32, Ptr{Int64}, Ptr{Cvoid}, Ptr{Cvoid}, Ref{Ptr{dj_value}}), class_id, ndim, shape, real, imag, out_value)

"""
    dj_value_new_char(s, len, out_value)

`dj_status dj_value_new_char(const char *s, size_t len, dj_value **out_value)`

A 1×n MATLAB char row from `len` bytes of UTF-8.
"""
dj_value_new_char(s, len, out_value) =
    ccall((:dj_value_new_char, libdatajoint), Cint, (Ptr{UInt8}, Csize_t, Ref{Ptr{dj_value}}), s, len, out_value)

"""
    dj_value_new_container(value_type, out_value)

`dj_status dj_value_new_container(int32_t value_type, dj_value **out_value)`

An empty DJ_VALUE_TUPLE, DJ_VALUE_LIST, DJ_VALUE_SET or DJ_VALUE_DICT.
"""
dj_value_new_container(value_type, out_value) =
    ccall((:dj_value_new_container, libdatajoint), Cint, (Int32, Ref{Ptr{dj_value}}), value_type, out_value)

"""
    dj_value_append(seq, item)

`dj_status dj_value_append(dj_value *seq, dj_value *item)`

Append `item` (an owned value, consumed even on failure) to a tuple, list or set.
"""
dj_value_append(seq, item) =
    ccall((:dj_value_append, libdatajoint), Cint, (Ptr{dj_value}, Ptr{dj_value}), seq, item)

"""
    dj_value_dict_insert(dict, key, value)

`dj_status dj_value_dict_insert(dj_value *dict, dj_value *key, dj_value *value)`

Add `key` → `value` (owned values, consumed even on failure) to a dict.
"""
dj_value_dict_insert(dict, key, value) =
    ccall((:dj_value_dict_insert, libdatajoint), Cint, (Ptr{dj_value}, Ptr{dj_value}, Ptr{dj_value}), dict, key, value)

"""
    dj_value_record_add(rec, name, value)

`dj_status dj_value_record_add(dj_value *rec, const char *name, dj_value *value)`

Add field `name` = `value` (an owned array or record, consumed) to a record.
"""
dj_value_record_add(rec, name, value) =
    ccall((:dj_value_record_add, libdatajoint), Cint, (Ptr{dj_value}, Cstring, Ptr{dj_value}), rec, name, value)

"""
    dj_value_new_cell(value_type, ndim, shape, out_value)

`dj_status dj_value_new_cell(int32_t value_type, int32_t ndim, const int64_t *shape, dj_value **out_value)`

A DJ_VALUE_CELL (or DJ_VALUE_OBJECT_ARRAY) of `shape` whose items are all `[]`.
"""
dj_value_new_cell(value_type, ndim, shape, out_value) =
    ccall((:dj_value_new_cell, libdatajoint), Cint, (Int32, Int32, Ptr{Int64}, Ref{Ptr{dj_value}}), value_type, ndim, shape, out_value)

"""
    dj_value_cell_set(cell, i, item)

`dj_status dj_value_cell_set(dj_value *cell, size_t i, dj_value *item)`

Set item `i` (column-major) of a cell or object array to `item` (owned, consumed).
"""
dj_value_cell_set(cell, i, item) =
    ccall((:dj_value_cell_set, libdatajoint), Cint, (Ptr{dj_value}, Csize_t, Ptr{dj_value}), cell, i, item)

"""
    dj_value_new_struct(ndim, shape, nfields, names, out_value)

`dj_status dj_value_new_struct(int32_t ndim, const int64_t *shape, size_t nfields, const char *const *names, dj_value **out_value)`

A struct array of `shape` with `nfields` fields named `names`; every value starts as `[]`.
"""
dj_value_new_struct(ndim, shape, nfields, names, out_value) =
    ccall((:dj_value_new_struct, libdatajoint), Cint, (Int32, Ptr{Int64}, Csize_t, Ptr{Ptr{UInt8}}, Ref{Ptr{dj_value}}), ndim, shape, nfields, names, out_value)

"""
    dj_value_struct_set(s, elem, field, value)

`dj_status dj_value_struct_set(dj_value *s, size_t elem, const char *field, dj_value *value)`

Set field `field` of element `elem` (column-major) of a struct array (`value` owned, consumed).
"""
dj_value_struct_set(s, elem, field, value) =
    ccall((:dj_value_struct_set, libdatajoint), Cint, (Ptr{dj_value}, Csize_t, Cstring, Ptr{dj_value}), s, elem, field, value)

"""
    dj_value_type(v)

`int32_t dj_value_type(const dj_value *v)`

DJ_VALUE_* of a value; -1 for NULL.
"""
dj_value_type(v) =
    ccall((:dj_value_type, libdatajoint), Int32, (Ptr{dj_value},), v)

"""
    dj_value_get_bool(v, out_bool)

`dj_status dj_value_get_bool(const dj_value *v, int32_t *out_bool)`

DJ_VALUE_BOOL, and 1×1 logical arrays.
"""
dj_value_get_bool(v, out_bool) =
    ccall((:dj_value_get_bool, libdatajoint), Cint, (Ptr{dj_value}, Ref{Int32}), v, out_bool)

"""
    dj_value_get_int(v, out_int)

`dj_status dj_value_get_int(const dj_value *v, int64_t *out_int)`

DJ_VALUE_INT (and DJ_VALUE_BOOL as 0/1).
"""
dj_value_get_int(v, out_int) =
    ccall((:dj_value_get_int, libdatajoint), Cint, (Ptr{dj_value}, Ref{Int64}), v, out_int)

"""
    dj_value_get_float(v, out_float)

`dj_status dj_value_get_float(const dj_value *v, double *out_float)`

DJ_VALUE_FLOAT, DJ_VALUE_INT, and real 1×1 double/single arrays (MATLAB's scalars).
"""
dj_value_get_float(v, out_float) =
    ccall((:dj_value_get_float, libdatajoint), Cint, (Ptr{dj_value}, Ref{Cdouble}), v, out_float)

"""
    dj_value_get_complex(v, out_re, out_im)

`dj_status dj_value_get_complex(const dj_value *v, double *out_re, double *out_im)`
"""
dj_value_get_complex(v, out_re, out_im) =
    ccall((:dj_value_get_complex, libdatajoint), Cint, (Ptr{dj_value}, Ref{Cdouble}, Ref{Cdouble}), v, out_re, out_im)

"""
    dj_value_get_string(v, out_data, out_len)

`dj_status dj_value_get_string(const dj_value *v, const char **out_data, size_t *out_len)`

The UTF-8 bytes (not NUL-terminated) of DJ_VALUE_STRING or DJ_VALUE_DECIMAL, borrowed.
"""
dj_value_get_string(v, out_data, out_len) =
    ccall((:dj_value_get_string, libdatajoint), Cint, (Ptr{dj_value}, Ref{Ptr{UInt8}}, Ref{Csize_t}), v, out_data, out_len)

"""
    dj_value_get_bytes(v, out_data, out_len)

`dj_status dj_value_get_bytes(const dj_value *v, const void **out_data, size_t *out_len)`

The bytes of DJ_VALUE_BYTES, or the little-endian bytes of DJ_VALUE_BIGINT, borrowed.
"""
dj_value_get_bytes(v, out_data, out_len) =
    ccall((:dj_value_get_bytes, libdatajoint), Cint, (Ptr{dj_value}, Ref{Ptr{Cvoid}}, Ref{Csize_t}), v, out_data, out_len)

"""
    dj_value_get_temporal(v, out_value)

`dj_status dj_value_get_temporal(const dj_value *v, int64_t *out_value)`

DJ_VALUE_DATE (days), DJ_VALUE_TIME and DJ_VALUE_DATETIME (µs) as one integer.
"""
dj_value_get_temporal(v, out_value) =
    ccall((:dj_value_get_temporal, libdatajoint), Cint, (Ptr{dj_value}, Ref{Int64}), v, out_value)

"""
    dj_value_get_uuid(v, out_bytes16)

`dj_status dj_value_get_uuid(const dj_value *v, const uint8_t **out_bytes16)`

The 16 bytes of a DJ_VALUE_UUID, borrowed.
"""
dj_value_get_uuid(v, out_bytes16) =
    ccall((:dj_value_get_uuid, libdatajoint), Cint, (Ptr{dj_value}, Ref{Ptr{UInt8}}), v, out_bytes16)

"""
    dj_value_len(v)

`size_t dj_value_len(const dj_value *v)`

Number of items: of a tuple/list/set/cell/object array, entries of a dict, elements of a struct array, fields of a record; 0 for anything else.
"""
dj_value_len(v) =
    ccall((:dj_value_len, libdatajoint), Csize_t, (Ptr{dj_value},), v)

"""
    dj_value_item(v, i)

`const dj_value *dj_value_item(const dj_value *v, size_t i)`

Item `i` (borrowed): of a sequence or cell (column-major), the value of dict entry `i`, or field `i` of a record. NULL when out of range or not a container.
"""
dj_value_item(v, i) =
    ccall((:dj_value_item, libdatajoint), Ptr{dj_value}, (Ptr{dj_value}, Csize_t), v, i)

"""
    dj_value_dict_key(v, i)

`const dj_value *dj_value_dict_key(const dj_value *v, size_t i)`

The key of dict entry `i` (borrowed), or NULL.
"""
dj_value_dict_key(v, i) =
    ccall((:dj_value_dict_key, libdatajoint), Ptr{dj_value}, (Ptr{dj_value}, Csize_t), v, i)

"""
    dj_value_shape(v, out_ndim, out_shape)

`dj_status dj_value_shape(const dj_value *v, int32_t *out_ndim, const int64_t **out_shape)`

The shape of an array, cell, object array or struct array (borrowed extents).
"""
dj_value_shape(v, out_ndim, out_shape) =
    ccall((:dj_value_shape, libdatajoint), Cint, (Ptr{dj_value}, Ref{Int32}, Ref{Ptr{Int64}}), v, out_ndim, out_shape)

"""
    dj_value_array(v, out_array)

`dj_status dj_value_array(const dj_value *v, struct dj_blob_array *out_array)`

A view of a DJ_VALUE_ARRAY: the decoded buffer itself, no copy.
"""
dj_value_array(v, out_array) =
    ccall((:dj_value_array, libdatajoint), Cint, (Ptr{dj_value}, Ref{dj_blob_array}), v, out_array)

"""
    dj_value_sparse(v, out_sparse)

`dj_status dj_value_sparse(const dj_value *v, struct dj_blob_sparse *out_sparse)`

A view of a DJ_VALUE_SPARSE.
"""
dj_value_sparse(v, out_sparse) =
    ccall((:dj_value_sparse, libdatajoint), Cint, (Ptr{dj_value}, Ref{dj_blob_sparse}), v, out_sparse)

"""
    dj_value_field_count(v)

`size_t dj_value_field_count(const dj_value *v)`

Number of fields of a struct array or record; 0 otherwise.
"""
dj_value_field_count(v) =
    ccall((:dj_value_field_count, libdatajoint), Csize_t, (Ptr{dj_value},), v)

"""
    dj_value_field_name(v, i, out_name, out_len)

`dj_status dj_value_field_name(const dj_value *v, size_t i, const char **out_name, size_t *out_len)`

Name of field `i` of a struct array or record (UTF-8, not NUL-terminated, borrowed).
"""
dj_value_field_name(v, i, out_name, out_len) =
    ccall((:dj_value_field_name, libdatajoint), Cint, (Ptr{dj_value}, Csize_t, Ref{Ptr{UInt8}}, Ref{Csize_t}), v, i, out_name, out_len)

"""
    dj_value_struct_get(v, elem, field)

`const dj_value *dj_value_struct_get(const dj_value *v, size_t elem, size_t field)`

Field `field` (index) of element `elem` (column-major) of a struct array (borrowed), or NULL.
"""
dj_value_struct_get(v, elem, field) =
    ccall((:dj_value_struct_get, libdatajoint), Ptr{dj_value}, (Ptr{dj_value}, Csize_t, Csize_t), v, elem, field)

"""
    dj_value_pack(v, buf, len, out_needed)

`dj_status dj_value_pack(const dj_value *v, void *buf, size_t len, size_t *out_needed)`

Pack a value into DataJoint blob bytes (`mYm` when MATLAB can read it, `dj0` otherwise; compressed when that pays). Copies into `buf` when `len` suffices; `out_needed` gets the size.
"""
dj_value_pack(v, buf, len, out_needed) =
    ccall((:dj_value_pack, libdatajoint), Cint, (Ptr{dj_value}, Ptr{Cvoid}, Csize_t, Ref{Csize_t}), v, buf, len, out_needed)

"""
    dj_value_unpack(data, len, out_value)

`dj_status dj_value_unpack(const void *data, size_t len, dj_value **out_value)`

Unpack DataJoint blob bytes (mYm or dj0, compressed or not) into an owned value.
"""
dj_value_unpack(data, len, out_value) =
    ccall((:dj_value_unpack, libdatajoint), Cint, (Ptr{Cvoid}, Csize_t, Ref{Ptr{dj_value}}), data, len, out_value)

"""
    dj_row_set_value(row, name, value)

`dj_status dj_row_set_value(dj_row *row, const char *name, const dj_value *value)`

Set a `<blob>` attribute to a value tree (copied; the caller keeps and frees `value`).
"""
dj_row_set_value(row, name, value) =
    ccall((:dj_row_set_value, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Ptr{dj_value}), row, name, value)

"""
    dj_row_set_attachment(row, name, filename, data, len)

`dj_status dj_row_set_attachment(dj_row *row, const char *name, const char *filename, const void *data, size_t len)`

Set an `<attach>` attribute to a file given by its name and content (copied). A path to a file is set with `dj_row_set_string`.
"""
dj_row_set_attachment(row, name, filename, data, len) =
    ccall((:dj_row_set_attachment, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Cstring, Ptr{Cvoid}, Csize_t), row, name, filename, data, len)

"""
    dj_result_value(result, col, row, out_value)

`dj_status dj_result_value(const dj_result *result, size_t col, size_t row, const dj_value **out_value)`

The `<blob>` value in column `col`, row `row` of a result, borrowed from the result (valid until it is freed). DJ_E_NOT_FOUND when NULL; DJ_E_TYPE when the column is not a blob.
"""
dj_result_value(result, col, row, out_value) =
    ccall((:dj_result_value, libdatajoint), Cint, (Ptr{dj_result}, Csize_t, Csize_t, Ref{Ptr{dj_value}}), result, col, row, out_value)


# -------------------------------------------------------------------------------- <object@>, <filepath@>, staged inserts, gc

# `dj_progress_fn` is `void (*)(uint64_t bytes, void *user_data)`: pass a `@cfunction` pointer
# (`Ptr{Cvoid}`) or C_NULL. It is called on the writing thread, inside dj_writer_write /
# dj_staged_put, and must not throw.

"""
    dj_result_objectref(result, col, row, out_ref)

`dj_status dj_result_objectref(const dj_result *result, size_t col, size_t row, dj_objectref **out_ref)`

Lazy reference to the `<object@>` / `<filepath@>` value in column `col`, row `row` of a result. No I/O. DJ_E_NOT_FOUND if NULL; DJ_E_TYPE for another column type.
"""
dj_result_objectref(result, col, row, out_ref) =
    ccall((:dj_result_objectref, libdatajoint), Cint, (Ptr{dj_result}, Csize_t, Csize_t, Ref{Ptr{dj_objectref}}), result, col, row, out_ref)

"""
    dj_objectref_free(r)

`void dj_objectref_free(dj_objectref *r)`
"""
dj_objectref_free(r) =
    ccall((:dj_objectref_free, libdatajoint), Cvoid, (Ptr{dj_objectref},), r)

"""
    dj_objectref_path(r)

`const char *dj_objectref_path(const dj_objectref *r)`

Path of the object in its store (valid until the ref is freed).
"""
dj_objectref_path(r) =
    ccall((:dj_objectref_path, libdatajoint), Ptr{UInt8}, (Ptr{dj_objectref},), r)

"""
    dj_objectref_store(r)

`const char *dj_objectref_store(const dj_objectref *r)`

Name of the object's store.
"""
dj_objectref_store(r) =
    ccall((:dj_objectref_store, libdatajoint), Ptr{UInt8}, (Ptr{dj_objectref},), r)

"""
    dj_objectref_ext(r)

`const char *dj_objectref_ext(const dj_objectref *r)`

Extension recorded at insert (".dat"), or NULL.
"""
dj_objectref_ext(r) =
    ccall((:dj_objectref_ext, libdatajoint), Ptr{UInt8}, (Ptr{dj_objectref},), r)

"""
    dj_objectref_timestamp(r)

`const char *dj_objectref_timestamp(const dj_objectref *r)`

ISO-8601 UTC time of the write, or NULL.
"""
dj_objectref_timestamp(r) =
    ccall((:dj_objectref_timestamp, libdatajoint), Ptr{UInt8}, (Ptr{dj_objectref},), r)

"""
    dj_objectref_info(r, out_info)

`dj_status dj_objectref_info(const dj_objectref *r, struct dj_object_info *out_info)`

Size, folder flag and file count from the metadata (no I/O).
"""
dj_objectref_info(r, out_info) =
    ccall((:dj_objectref_info, libdatajoint), Cint, (Ptr{dj_objectref}, Ref{dj_object_info}), r, out_info)

"""
    dj_objectref_files(r, out_list)

`dj_status dj_objectref_files(const dj_objectref *r, dj_filelist **out_list)`

The files of a folder (relative paths, sorted, with sizes), or of a file (one entry "").
"""
dj_objectref_files(r, out_list) =
    ccall((:dj_objectref_files, libdatajoint), Cint, (Ptr{dj_objectref}, Ref{Ptr{dj_filelist}}), r, out_list)

"""
    dj_filelist_len(l)

`size_t dj_filelist_len(const dj_filelist *l)`
"""
dj_filelist_len(l) =
    ccall((:dj_filelist_len, libdatajoint), Csize_t, (Ptr{dj_filelist},), l)

"""
    dj_filelist_name(l, i)

`const char *dj_filelist_name(const dj_filelist *l, size_t i)`

Relative path of file `i` (valid until the list is freed); NULL when out of range.
"""
dj_filelist_name(l, i) =
    ccall((:dj_filelist_name, libdatajoint), Ptr{UInt8}, (Ptr{dj_filelist}, Csize_t), l, i)

"""
    dj_filelist_size(l, i)

`uint64_t dj_filelist_size(const dj_filelist *l, size_t i)`

Size of file `i` in bytes (0 when out of range).
"""
dj_filelist_size(l, i) =
    ccall((:dj_filelist_size, libdatajoint), UInt64, (Ptr{dj_filelist}, Csize_t), l, i)

"""
    dj_filelist_free(l)

`void dj_filelist_free(dj_filelist *l)`
"""
dj_filelist_free(l) =
    ccall((:dj_filelist_free, libdatajoint), Cvoid, (Ptr{dj_filelist},), l)

"""
    dj_objectref_exists(r, subpath, out_exists)

`dj_status dj_objectref_exists(const dj_objectref *r, const char *subpath, uint8_t *out_exists)`

Whether the object (subpath NULL or "") or a file of its folder exists.
"""
dj_objectref_exists(r, subpath, out_exists) =
    ccall((:dj_objectref_exists, libdatajoint), Cint, (Ptr{dj_objectref}, Cstring, Ref{UInt8}), r, subpath, out_exists)

"""
    dj_objectref_read(r, subpath, offset, buf, len, out_n)

`dj_status dj_objectref_read(const dj_objectref *r, const char *subpath, uint64_t offset, void *buf, size_t len, size_t *out_n)`

Read up to `len` bytes at `offset` of the file (or of `subpath` in a folder) into `buf` (one ranged read); `*out_n` is the count read (less than `len` at the end).
"""
dj_objectref_read(r, subpath, offset, buf, len, out_n) =
    ccall((:dj_objectref_read, libdatajoint), Cint, (Ptr{dj_objectref}, Cstring, UInt64, Ptr{Cvoid}, Csize_t, Ref{Csize_t}), r, subpath, offset, buf, len, out_n)

"""
    dj_objectref_open(r, subpath, offset, out_reader)

`dj_status dj_objectref_open(const dj_objectref *r, const char *subpath, uint64_t offset, dj_reader **out_reader)`

A sequential reader of the file (or `subpath` of a folder) from `offset`.
"""
dj_objectref_open(r, subpath, offset, out_reader) =
    ccall((:dj_objectref_open, libdatajoint), Cint, (Ptr{dj_objectref}, Cstring, UInt64, Ref{Ptr{dj_reader}}), r, subpath, offset, out_reader)

"""
    dj_reader_read(rd, buf, len, out_n)

`dj_status dj_reader_read(dj_reader *rd, void *buf, size_t len, size_t *out_n)`

Read up to `len` bytes; `*out_n` is 0 at the end.
"""
dj_reader_read(rd, buf, len, out_n) =
    ccall((:dj_reader_read, libdatajoint), Cint, (Ptr{dj_reader}, Ptr{Cvoid}, Csize_t, Ref{Csize_t}), rd, buf, len, out_n)

"""
    dj_reader_size(rd)

`uint64_t dj_reader_size(const dj_reader *rd)`

Size of the file being read.
"""
dj_reader_size(rd) =
    ccall((:dj_reader_size, libdatajoint), UInt64, (Ptr{dj_reader},), rd)

"""
    dj_reader_free(rd)

`void dj_reader_free(dj_reader *rd)`
"""
dj_reader_free(rd) =
    ccall((:dj_reader_free, libdatajoint), Cvoid, (Ptr{dj_reader},), rd)

"""
    dj_objectref_download(r, dest, out_bytes)

`dj_status dj_objectref_download(const dj_objectref *r, const char *dest, uint64_t *out_bytes)`

Copy the file or folder to the local path `dest`; `*out_bytes` (may be NULL) is the total.
"""
dj_objectref_download(r, dest, out_bytes) =
    ccall((:dj_objectref_download, libdatajoint), Cint, (Ptr{dj_objectref}, Cstring, Ptr{UInt64}), r, dest, out_bytes)

"""
    dj_objectref_local_path(r, out_path)

`dj_status dj_objectref_local_path(const dj_objectref *r, const char **out_path)`

For a `file` store: the object's own local path (file or folder), valid until the ref is freed; `*out_path` is NULL for other stores.
"""
dj_objectref_local_path(r, out_path) =
    ccall((:dj_objectref_local_path, libdatajoint), Cint, (Ptr{dj_objectref}, Ref{Ptr{UInt8}}), r, out_path)

"""
    dj_staged_begin(table, out_staged)

`dj_status dj_staged_begin(const dj_table *table, dj_staged **out_staged)`

Begin a staged insert of one row into `table`.
"""
dj_staged_begin(table, out_staged) =
    ccall((:dj_staged_begin, libdatajoint), Cint, (Ptr{dj_table}, Ref{Ptr{dj_staged}}), table, out_staged)

"""
    dj_staged_set(s, values)

`dj_status dj_staged_set(dj_staged *s, const dj_row *values)`

Set the row's values from `values` (the primary key first of all; other attributes too).
"""
dj_staged_set(s, values) =
    ccall((:dj_staged_set, libdatajoint), Cint, (Ptr{dj_staged}, Ptr{dj_row}), s, values)

"""
    dj_staged_set_progress(s, cb, user_data)

`dj_status dj_staged_set_progress(dj_staged *s, dj_progress_fn cb, void *user_data)`

Report progress to `cb` (NULL: none) with the total bytes written by this staged insert. `cb` is a `@cfunction` pointer.
"""
dj_staged_set_progress(s, cb, user_data) =
    ccall((:dj_staged_set_progress, libdatajoint), Cint, (Ptr{dj_staged}, Ptr{Cvoid}, Ptr{Cvoid}), s, cb, user_data)

"""
    dj_staged_bytes_written(s)

`uint64_t dj_staged_bytes_written(const dj_staged *s)`

Total bytes written so far.
"""
dj_staged_bytes_written(s) =
    ccall((:dj_staged_bytes_written, libdatajoint), UInt64, (Ptr{dj_staged},), s)

"""
    dj_staged_open(s, field, ext, out_writer)

`dj_status dj_staged_open(dj_staged *s, const char *field, const char *ext, dj_writer **out_writer)`

A stream for the `<object@>` field as one file (`ext` may be NULL). Close it before the commit.
"""
dj_staged_open(s, field, ext, out_writer) =
    ccall((:dj_staged_open, libdatajoint), Cint, (Ptr{dj_staged}, Cstring, Cstring, Ref{Ptr{dj_writer}}), s, field, ext, out_writer)

"""
    dj_staged_open_key(s, field, key, out_writer)

`dj_status dj_staged_open_key(dj_staged *s, const char *field, const char *key, dj_writer **out_writer)`

A stream for the file `key` (a relative path) of the field's folder.
"""
dj_staged_open_key(s, field, key, out_writer) =
    ccall((:dj_staged_open_key, libdatajoint), Cint, (Ptr{dj_staged}, Cstring, Cstring, Ref{Ptr{dj_writer}}), s, field, key, out_writer)

"""
    dj_staged_put(s, field, key, data, len)

`dj_status dj_staged_put(dj_staged *s, const char *field, const char *key, const void *data, size_t len)`

Write the file `key` of the field's folder in one piece (e.g. a Zarr chunk).
"""
dj_staged_put(s, field, key, data, len) =
    ccall((:dj_staged_put, libdatajoint), Cint, (Ptr{dj_staged}, Cstring, Cstring, Ptr{Cvoid}, Csize_t), s, field, key, data, len)

"""
    dj_staged_local_dir(s, field, out_path)

`dj_status dj_staged_local_dir(dj_staged *s, const char *field, const char **out_path)`

For a `file` store: the field's folder on local disk (created; valid until the staged insert is freed), for libraries that write files themselves. DJ_E_UNSUPPORTED otherwise.
"""
dj_staged_local_dir(s, field, out_path) =
    ccall((:dj_staged_local_dir, libdatajoint), Cint, (Ptr{dj_staged}, Cstring, Ref{Ptr{UInt8}}), s, field, out_path)

"""
    dj_staged_commit(s)

`dj_status dj_staged_commit(dj_staged *s)`

Measure the written fields and insert the row. On failure everything written is removed. Either way the staged insert is finished (free it afterwards).
"""
dj_staged_commit(s) =
    ccall((:dj_staged_commit, libdatajoint), Cint, (Ptr{dj_staged},), s)

"""
    dj_staged_abort(s)

`dj_status dj_staged_abort(dj_staged *s)`

Remove everything written and finish (best effort: what cannot be removed is left for gc).
"""
dj_staged_abort(s) =
    ccall((:dj_staged_abort, libdatajoint), Cint, (Ptr{dj_staged},), s)

"""
    dj_staged_free(s)

`void dj_staged_free(dj_staged *s)`

Free; a staged insert neither committed nor aborted is aborted.
"""
dj_staged_free(s) =
    ccall((:dj_staged_free, libdatajoint), Cvoid, (Ptr{dj_staged},), s)

"""
    dj_writer_write(w, data, len)

`dj_status dj_writer_write(dj_writer *w, const void *data, size_t len)`

Write `len` bytes.
"""
dj_writer_write(w, data, len) =
    ccall((:dj_writer_write, libdatajoint), Cint, (Ptr{dj_writer}, Ptr{Cvoid}, Csize_t), w, data, len)

"""
    dj_writer_close(w, out_bytes)

`dj_status dj_writer_close(dj_writer *w, uint64_t *out_bytes)`

Finish the object (completes a multipart upload). `*out_bytes` (may be NULL) is its size.
"""
dj_writer_close(w, out_bytes) =
    ccall((:dj_writer_close, libdatajoint), Cint, (Ptr{dj_writer}, Ptr{UInt64}), w, out_bytes)

"""
    dj_writer_free(w)

`void dj_writer_free(dj_writer *w)`

Free; an unclosed writer is abandoned (its staged insert's commit then fails or, for a local file, sees what was flushed).
"""
dj_writer_free(w) =
    ccall((:dj_writer_free, libdatajoint), Cvoid, (Ptr{dj_writer},), w)

"""
    dj_gc_opts_init(opts)

`dj_status dj_gc_opts_init(struct dj_gc_opts *opts)`

Defaults: not a dry run, every store, one hour of grace.
"""
dj_gc_opts_init(opts) =
    ccall((:dj_gc_opts_init, libdatajoint), Cint, (Ref{dj_gc_opts},), opts)

"""
    dj_schema_gc(schema, opts, out_stats)

`dj_status dj_schema_gc(const dj_schema *schema, const struct dj_gc_opts *opts, struct dj_gc_stats *out_stats)`

Remove the objects of the schema that no row references (opts NULL: defaults).
"""
dj_schema_gc(schema, opts, out_stats) =
    ccall((:dj_schema_gc, libdatajoint), Cint, (Ptr{dj_schema}, Ptr{dj_gc_opts}, Ref{dj_gc_stats}), schema, opts, out_stats)

"""
    dj_row_set_object_bytes(row, name, ext, data, len)

`dj_status dj_row_set_object_bytes(dj_row *row, const char *name, const char *ext, const void *data, size_t len)`

Set an `<object@>` attribute to bytes stored with extension `ext` (NULL or "": none).
"""
dj_row_set_object_bytes(row, name, ext, data, len) =
    ccall((:dj_row_set_object_bytes, libdatajoint), Cint, (Ptr{dj_row}, Cstring, Cstring, Ptr{Cvoid}, Csize_t), row, name, ext, data, len)


# -------------------------------------------------------------------------------- autopopulate, jobs (ABI 0.6)

# `dj_make_fn` is `int32_t (*)(void *user_data, const dj_table *table, const dj_result *key,
# dj_make_ctx *ctx)`: pass a `@cfunction` pointer (`Ptr{Cvoid}`) made with the argument types
# (Ptr{Cvoid}, Ptr{dj_table}, Ptr{dj_result}, Ptr{dj_make_ctx}) and return type Int32. It is
# called on the populating thread, inside dj_table_populate, in a transaction: return 0 to
# commit, anything else (after dj_make_fail) to roll back. `table`, `key` and `ctx` are
# borrowed for the call (dj_table_clone / dj_result_clone / dj_row_clone keep them). It must
# not throw. `dj_populate_progress_fn` is `void (*)(const struct dj_populate_progress *progress,
# void *user_data)` (argument types (Ptr{dj_populate_progress}, Ptr{Cvoid}), return Cvoid).

"""
    dj_populate_opts_init(opts)

`dj_status dj_populate_opts_init(struct dj_populate_opts *opts)`

Initialise populate options with the defaults (no restriction, direct mode, stop at the first error, no limit, original order, default priority, auto refresh, no progress).
"""
dj_populate_opts_init(opts) =
    ccall((:dj_populate_opts_init, libdatajoint), Cint, (Ref{dj_populate_opts},), opts)

"""
    dj_refresh_opts_init(opts)

`dj_status dj_refresh_opts_init(struct dj_refresh_opts *opts)`

Initialise refresh options with the reference's defaults.
"""
dj_refresh_opts_init(opts) =
    ccall((:dj_refresh_opts_init, libdatajoint), Cint, (Ref{dj_refresh_opts},), opts)

"""
    dj_make_fail(ctx, message, stack)

`dj_status dj_make_fail(dj_make_ctx *ctx, const char *message, const char *stack)`

Record why this make failed (copied; `stack` may be NULL), then return non-zero from the callback. Without it, a non-zero return is reported with the last error of the thread (a failed `dj_*` call in the callback), else with the returned code.
"""
dj_make_fail(ctx, message, stack) =
    ccall((:dj_make_fail, libdatajoint), Cint, (Ptr{dj_make_ctx}, Cstring, Cstring), ctx, message, stack)

"""
    dj_make_key_row(ctx)

`const dj_row *dj_make_key_row(const dj_make_ctx *ctx)`

The key of this make as a row (for `dj_table_restrict_key` and the like); valid during the call.
"""
dj_make_key_row(ctx) =
    ccall((:dj_make_key_row, libdatajoint), Ptr{dj_row}, (Ptr{dj_make_ctx},), ctx)

"""
    dj_table_populate(table, make, user_data, opts, out_report)

`dj_status dj_table_populate(const dj_table *table, dj_make_fn make, void *user_data, const struct dj_populate_opts *opts, dj_populate_report **out_report)`

Populate a Computed or Imported table: call `make` for every key of its key source (restricted by `opts`) not yet in the table, each in its own transaction (see `dj_make_fn`). With `opts->reserve_jobs`, keys are reserved in the jobs table `~~<table>` first, so that any number of worker processes (ours or DataJoint Python's) can populate the table at once. A failing make stops the populate with DJ_E_MAKE_FAILED (its message names the key), unless `suppress_errors`. `opts` may be NULL; `out_report` (may be NULL) receives what was done. `make` is a `@cfunction` pointer.
"""
dj_table_populate(table, make, user_data, opts, out_report) =
    ccall((:dj_table_populate, libdatajoint), Cint, (Ptr{dj_table}, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{dj_populate_opts}, Ptr{Ptr{dj_populate_report}}), table, make, user_data, opts, out_report)

"""
    dj_populate_report_free(r)

`void dj_populate_report_free(dj_populate_report *r)`
"""
dj_populate_report_free(r) =
    ccall((:dj_populate_report_free, libdatajoint), Cvoid, (Ptr{dj_populate_report},), r)

"""
    dj_populate_report_success_count(r)

`uint64_t dj_populate_report_success_count(const dj_populate_report *r)`

Keys whose make succeeded.
"""
dj_populate_report_success_count(r) =
    ccall((:dj_populate_report_success_count, libdatajoint), UInt64, (Ptr{dj_populate_report},), r)

"""
    dj_populate_report_skipped(r)

`uint64_t dj_populate_report_skipped(const dj_populate_report *r)`

Keys skipped (reserved by another worker, or already in the table).
"""
dj_populate_report_skipped(r) =
    ccall((:dj_populate_report_skipped, libdatajoint), UInt64, (Ptr{dj_populate_report},), r)

"""
    dj_populate_report_error_count(r)

`size_t dj_populate_report_error_count(const dj_populate_report *r)`

Keys whose make failed (with suppress_errors).
"""
dj_populate_report_error_count(r) =
    ccall((:dj_populate_report_error_count, libdatajoint), Csize_t, (Ptr{dj_populate_report},), r)

"""
    dj_populate_report_error(r, i, out_message, out_key_row, out_key)

`dj_status dj_populate_report_error(const dj_populate_report *r, size_t i, const char **out_message, dj_row **out_key_row, dj_result **out_key)`

Failure `i`: its message (valid as long as the report) and its key, as a new row (`out_key_row`, may be NULL; free with `dj_row_free`) and as a new one-row result (`out_key`, may be NULL; free with `dj_result_free`).
"""
dj_populate_report_error(r, i, out_message, out_key_row, out_key) =
    ccall((:dj_populate_report_error, libdatajoint), Cint, (Ptr{dj_populate_report}, Csize_t, Ref{Ptr{UInt8}}, Ptr{Ptr{dj_row}}, Ref{Ptr{dj_result}}), r, i, out_message, out_key_row, out_key)

"""
    dj_table_progress(table, opts, out_remaining, out_total)

`dj_status dj_table_progress(const dj_table *table, const struct dj_populate_opts *opts, uint64_t *out_remaining, uint64_t *out_total)`

`(remaining, total)`: keys of the key source (restricted by `opts`' restrictions; `opts` may be NULL) not yet in the table, and all of them.
"""
dj_table_progress(table, opts, out_remaining, out_total) =
    ccall((:dj_table_progress, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_populate_opts}, Ref{UInt64}, Ref{UInt64}), table, opts, out_remaining, out_total)

"""
    dj_table_key_source(table, out_query)

`dj_status dj_table_key_source(const dj_table *table, dj_query **out_query)`

The key source of a Computed/Imported table: the join of the tables its primary key references (projected, renamed as its foreign keys rename), or the one set with `dj_table_with_key_source`.
"""
dj_table_key_source(table, out_query) =
    ccall((:dj_table_key_source, libdatajoint), Cint, (Ptr{dj_table}, Ref{Ptr{dj_query}}), table, out_query)

"""
    dj_table_with_key_source(table, key_source, out_table)

`dj_status dj_table_with_key_source(const dj_table *table, const dj_query *key_source, dj_table **out_table)`

A new handle of the table whose populate, progress and jobs refresh use `key_source` (any query whose primary key the table has).
"""
dj_table_with_key_source(table, key_source, out_table) =
    ccall((:dj_table_with_key_source, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_query}, Ref{Ptr{dj_table}}), table, key_source, out_table)

"""
    dj_table_jobs(table, out_table)

`dj_status dj_table_jobs(const dj_table *table, dj_table **out_table)`

The jobs table `~~<table>` of a Computed/Imported table (declared on first use as DataJoint Python declares it), as a table handle to fetch, restrict or delete.
"""
dj_table_jobs(table, out_table) =
    ccall((:dj_table_jobs, libdatajoint), Cint, (Ptr{dj_table}, Ref{Ptr{dj_table}}), table, out_table)

"""
    dj_jobs_refresh(table, opts, out_report)

`dj_status dj_jobs_refresh(const dj_table *table, const struct dj_refresh_opts *opts, struct dj_refresh_report *out_report)`

Refresh the jobs table: add the missing keys as pending, remove stale jobs, make orphaned reservations (older than `orphan_timeout`) pending again. `opts` may be NULL; `out_report` may be NULL.
"""
dj_jobs_refresh(table, opts, out_report) =
    ccall((:dj_jobs_refresh, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_refresh_opts}, Ptr{dj_refresh_report}), table, opts, out_report)

"""
    dj_jobs_progress(table, out_counts)

`dj_status dj_jobs_progress(const dj_table *table, struct dj_job_counts *out_counts)`

Jobs per status.
"""
dj_jobs_progress(table, out_counts) =
    ccall((:dj_jobs_progress, libdatajoint), Cint, (Ptr{dj_table}, Ref{dj_job_counts}), table, out_counts)

"""
    dj_jobs_ignore(table, key)

`dj_status dj_jobs_ignore(const dj_table *table, const dj_row *key)`

Mark a key's job `ignore`: no worker makes it.
"""
dj_jobs_ignore(table, key) =
    ccall((:dj_jobs_ignore, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_row}), table, key)


# -------------------------------------------------------------------------------- queries, cascading delete, update1, Arrow (ABI 0.5)

"""
    dj_table_query(table, out_query)

`dj_status dj_table_query(const dj_table *table, dj_query **out_query)`

The query of a table (with the table's restrictions).
"""
dj_table_query(table, out_query) =
    ccall((:dj_table_query, libdatajoint), Cint, (Ptr{dj_table}, Ref{Ptr{dj_query}}), table, out_query)

"""
    dj_table_restrict_query(table, q, out_table)

`dj_status dj_table_restrict_query(const dj_table *table, const dj_query *q, dj_table **out_table)`

New table handle restricted by a query: rows matching a row of `query` on their shared attributes (semantic matching). Delete from it to delete those rows.
"""
dj_table_restrict_query(table, q, out_table) =
    ccall((:dj_table_restrict_query, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_query}, Ref{Ptr{dj_table}}), table, q, out_table)

"""
    dj_table_exclude_query(table, q, out_table)

`dj_status dj_table_exclude_query(const dj_table *table, const dj_query *q, dj_table **out_table)`

New table handle without the rows that match a row of `query`.
"""
dj_table_exclude_query(table, q, out_table) =
    ccall((:dj_table_exclude_query, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_query}, Ref{Ptr{dj_table}}), table, q, out_table)

"""
    dj_query_free(q)

`void dj_query_free(dj_query *q)`
"""
dj_query_free(q) =
    ccall((:dj_query_free, libdatajoint), Cvoid, (Ptr{dj_query},), q)

"""
    dj_query_clone(q, out_query)

`dj_status dj_query_clone(const dj_query *q, dj_query **out_query)`

A second handle to the same query (queries are immutable; this costs no query).
"""
dj_query_clone(q, out_query) =
    ccall((:dj_query_clone, libdatajoint), Cint, (Ptr{dj_query}, Ref{Ptr{dj_query}}), q, out_query)

"""
    dj_query_restrict_sql(q, condition, out_query)

`dj_status dj_query_restrict_sql(const dj_query *q, const char *condition, dj_query **out_query)`

`q & condition` (SQL, used verbatim).
"""
dj_query_restrict_sql(q, condition, out_query) =
    ccall((:dj_query_restrict_sql, libdatajoint), Cint, (Ptr{dj_query}, Cstring, Ref{Ptr{dj_query}}), q, condition, out_query)

"""
    dj_query_exclude_sql(q, condition, out_query)

`dj_status dj_query_exclude_sql(const dj_query *q, const char *condition, dj_query **out_query)`

`q - condition`.
"""
dj_query_exclude_sql(q, condition, out_query) =
    ccall((:dj_query_exclude_sql, libdatajoint), Cint, (Ptr{dj_query}, Cstring, Ref{Ptr{dj_query}}), q, condition, out_query)

"""
    dj_query_restrict_keys(q, keys, n, negate, out_query)

`dj_status dj_query_restrict_keys(const dj_query *q, const dj_row *const *keys, size_t n, int32_t negate, dj_query **out_query)`

`q & keys` (the rows matching any of the keys; `negate`: none of them). Names that are not attributes of `q` are ignored; values are parameters, never SQL text.
"""
dj_query_restrict_keys(q, keys, n, negate, out_query) =
    ccall((:dj_query_restrict_keys, libdatajoint), Cint, (Ptr{dj_query}, Ptr{Ptr{dj_row}}, Csize_t, Int32, Ref{Ptr{dj_query}}), q, keys, n, negate, out_query)

"""
    dj_query_restrict_query(q, other, negate, semantic_check, out_query)

`dj_status dj_query_restrict_query(const dj_query *q, const dj_query *other, int32_t negate, int32_t semantic_check, dj_query **out_query)`

`q & other` (semijoin on the shared attributes) or, with `negate`, `q - other` (antijoin). `semantic_check` 0 matches namesakes whatever their lineage.
"""
dj_query_restrict_query(q, other, negate, semantic_check, out_query) =
    ccall((:dj_query_restrict_query, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_query}, Int32, Int32, Ref{Ptr{dj_query}}), q, other, negate, semantic_check, out_query)

"""
    dj_query_join(a, b, semantic_check, left, out_query)

`dj_status dj_query_join(const dj_query *a, const dj_query *b, int32_t semantic_check, int32_t left, dj_query **out_query)`

`a * b`: the join on the shared attributes; `left` keeps every row of `a` (which must determine `b`).
"""
dj_query_join(a, b, semantic_check, left, out_query) =
    ccall((:dj_query_join, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_query}, Int32, Int32, Ref{Ptr{dj_query}}), a, b, semantic_check, left, out_query)

"""
    dj_query_proj(q, items, n, out_query)

`dj_status dj_query_proj(const dj_query *q, const char *const *items, size_t n, dj_query **out_query)`

`q.proj(items)`: "a" keeps a secondary attribute, "..." all of them, "-a" drops one, "new=old" renames, "new=(old)" copies, "new=<SQL expression>" computes. The primary key is always kept.
"""
dj_query_proj(q, items, n, out_query) =
    ccall((:dj_query_proj, libdatajoint), Cint, (Ptr{dj_query}, Ptr{Ptr{UInt8}}, Csize_t, Ref{Ptr{dj_query}}), q, items, n, out_query)

"""
    dj_query_aggr(q, group, items, n, exclude_nonmatching, out_query)

`dj_status dj_query_aggr(const dj_query *q, const dj_query *group, const char *const *items, size_t n, int32_t exclude_nonmatching, dj_query **out_query)`

`q.aggr(group, items)`: one row per row of `q` (`exclude_nonmatching`: per row with a match), `items` as in dj_query_proj; computations aggregate over the matching rows of `group` ("n=count(*)").
"""
dj_query_aggr(q, group, items, n, exclude_nonmatching, out_query) =
    ccall((:dj_query_aggr, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_query}, Ptr{Ptr{UInt8}}, Csize_t, Int32, Ref{Ptr{dj_query}}), q, group, items, n, exclude_nonmatching, out_query)

"""
    dj_query_union(a, b, out_query)

`dj_status dj_query_union(const dj_query *a, const dj_query *b, dj_query **out_query)`

`a + b`: the union of two queries with the same primary key.
"""
dj_query_union(a, b, out_query) =
    ccall((:dj_query_union, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_query}, Ref{Ptr{dj_query}}), a, b, out_query)

"""
    dj_query_universal(attrs, n, q, out_query)

`dj_status dj_query_universal(const char *const *attrs, size_t n, const dj_query *q, dj_query **out_query)`

`U(attrs) & q`: the distinct values of `attrs` in `q`, with `attrs` as the primary key.
"""
dj_query_universal(attrs, n, q, out_query) =
    ccall((:dj_query_universal, libdatajoint), Cint, (Ptr{Ptr{UInt8}}, Csize_t, Ptr{dj_query}, Ref{Ptr{dj_query}}), attrs, n, q, out_query)

"""
    dj_query_universal_aggr(attrs, n, group, items, n_items, out_query)

`dj_status dj_query_universal_aggr(const char *const *attrs, size_t n, const dj_query *group, const char *const *items, size_t n_items, dj_query **out_query)`

`U(attrs).aggr(group, computations)`: one row per distinct value of `attrs` in `group` (no attributes: one row), with "name=expression" computations over its rows.
"""
dj_query_universal_aggr(attrs, n, group, items, n_items, out_query) =
    ccall((:dj_query_universal_aggr, libdatajoint), Cint, (Ptr{Ptr{UInt8}}, Csize_t, Ptr{dj_query}, Ptr{Ptr{UInt8}}, Csize_t, Ref{Ptr{dj_query}}), attrs, n, group, items, n_items, out_query)

"""
    dj_query_top(q, limit, order_by, offset, out_query)

`dj_status dj_query_top(const dj_query *q, int64_t limit, const char *order_by, uint64_t offset, dj_query **out_query)`

`q & Top(limit, order_by, offset)`: `limit` -1 for none, `order_by` NULL for the primary key ("KEY"), e.g. "t DESC, KEY".
"""
dj_query_top(q, limit, order_by, offset, out_query) =
    ccall((:dj_query_top, libdatajoint), Cint, (Ptr{dj_query}, Int64, Cstring, UInt64, Ref{Ptr{dj_query}}), q, limit, order_by, offset, out_query)

"""
    dj_query_attr_count(q)

`size_t dj_query_attr_count(const dj_query *q)`

Number of attributes of the query's heading.
"""
dj_query_attr_count(q) =
    ccall((:dj_query_attr_count, libdatajoint), Csize_t, (Ptr{dj_query},), q)

"""
    dj_query_attr(q, i, out_info)

`dj_status dj_query_attr(const dj_query *q, size_t i, struct dj_attr_info *out_info)`

Describe attribute `i` of the heading. A computed attribute reports type "computed" and DJ_KIND_STRING here; its result column has the kind of what the server computes.
"""
dj_query_attr(q, i, out_info) =
    ccall((:dj_query_attr, libdatajoint), Cint, (Ptr{dj_query}, Csize_t, Ref{dj_attr_info}), q, i, out_info)

"""
    dj_query_fetch(q, opts, out_result)

`dj_status dj_query_fetch(const dj_query *q, const struct dj_fetch_opts *opts, dj_result **out_result)`

Fetch the query's rows (the same options and results as dj_table_fetch).
"""
dj_query_fetch(q, opts, out_result) =
    ccall((:dj_query_fetch, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_fetch_opts}, Ref{Ptr{dj_result}}), q, opts, out_result)

"""
    dj_query_fetch1(q, opts, out_result)

`dj_status dj_query_fetch1(const dj_query *q, const struct dj_fetch_opts *opts, dj_result **out_result)`

Fetch exactly one row: DJ_E_NOT_FOUND if none match, DJ_E_NOT_UNIQUE if several do.
"""
dj_query_fetch1(q, opts, out_result) =
    ccall((:dj_query_fetch1, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_fetch_opts}, Ref{Ptr{dj_result}}), q, opts, out_result)

"""
    dj_query_keys(q, opts, out_result)

`dj_status dj_query_keys(const dj_query *q, const struct dj_fetch_opts *opts, dj_result **out_result)`

Fetch the primary keys of the query's rows.
"""
dj_query_keys(q, opts, out_result) =
    ccall((:dj_query_keys, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_fetch_opts}, Ref{Ptr{dj_result}}), q, opts, out_result)

"""
    dj_query_count(q, out_count)

`dj_status dj_query_count(const dj_query *q, uint64_t *out_count)`

Number of rows of the query.
"""
dj_query_count(q, out_count) =
    ccall((:dj_query_count, libdatajoint), Cint, (Ptr{dj_query}, Ref{UInt64}), q, out_count)

"""
    dj_query_contains(q, key, out_found)

`dj_status dj_query_contains(const dj_query *q, const dj_row *key, int32_t *out_found)`

Is a row matching `key` in the query? (`*out_found` 1 or 0)
"""
dj_query_contains(q, key, out_found) =
    ccall((:dj_query_contains, libdatajoint), Cint, (Ptr{dj_query}, Ptr{dj_row}, Ref{Int32}), q, key, out_found)

"""
    dj_query_sql(q)

`const char *dj_query_sql(const dj_query *q)`

The SQL a fetch of the query runs (parameters as placeholders), for debugging; valid as long as the handle.
"""
dj_query_sql(q) =
    ccall((:dj_query_sql, libdatajoint), Ptr{UInt8}, (Ptr{dj_query},), q)

"""
    dj_delete_opts_init(opts)

`dj_status dj_delete_opts_init(struct dj_delete_opts *opts)`

Defaults: DJ_PART_INTEGRITY_ENFORCE, not a dry run.
"""
dj_delete_opts_init(opts) =
    ccall((:dj_delete_opts_init, libdatajoint), Cint, (Ref{dj_delete_opts},), opts)

"""
    dj_table_delete_cascade(table, opts, out_report)

`dj_status dj_table_delete_cascade(const dj_table *table, const struct dj_delete_opts *opts, dj_delete_report **out_report)`

Delete the table's (restricted) rows and, down the foreign keys, every row that depends on them, in one transaction, then their objects. `opts` may be NULL (defaults). The report gives the rows per table, this table first.
"""
dj_table_delete_cascade(table, opts, out_report) =
    ccall((:dj_table_delete_cascade, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_delete_opts}, Ref{Ptr{dj_delete_report}}), table, opts, out_report)

"""
    dj_delete_report_free(r)

`void dj_delete_report_free(dj_delete_report *r)`
"""
dj_delete_report_free(r) =
    ccall((:dj_delete_report_free, libdatajoint), Cvoid, (Ptr{dj_delete_report},), r)

"""
    dj_delete_report_len(r)

`size_t dj_delete_report_len(const dj_delete_report *r)`

Number of tables in the report.
"""
dj_delete_report_len(r) =
    ccall((:dj_delete_report_len, libdatajoint), Csize_t, (Ptr{dj_delete_report},), r)

"""
    dj_delete_report_dry_run(r)

`int32_t dj_delete_report_dry_run(const dj_delete_report *r)`

Non-zero if the report is a dry run's (nothing was deleted).
"""
dj_delete_report_dry_run(r) =
    ccall((:dj_delete_report_dry_run, libdatajoint), Int32, (Ptr{dj_delete_report},), r)

"""
    dj_delete_report_table(r, i, out_schema, out_table, out_rows)

`dj_status dj_delete_report_table(const dj_delete_report *r, size_t i, const char **out_schema, const char **out_table, uint64_t *out_rows)`

Table `i` of the report: its schema, SQL name (valid as long as the report) and rows.
"""
dj_delete_report_table(r, i, out_schema, out_table, out_rows) =
    ccall((:dj_delete_report_table, libdatajoint), Cint, (Ptr{dj_delete_report}, Csize_t, Ref{Ptr{UInt8}}, Ref{Ptr{UInt8}}, Ref{UInt64}), r, i, out_schema, out_table, out_rows)

"""
    dj_table_update1(table, row)

`dj_status dj_table_update1(const dj_table *table, const dj_row *row)`

Update one existing row: `row` holds the full primary key and the attributes to change; a NULL value resets an attribute to its default. Codec values are encoded as on insert and the row's old objects are removed after the commit. DJ_E_NOT_FOUND if no row has the key.
"""
dj_table_update1(table, row) =
    ccall((:dj_table_update1, libdatajoint), Cint, (Ptr{dj_table}, Ptr{dj_row}), table, row)

"""
    dj_result_export_arrow(result, out_schema, out_array)

`dj_status dj_result_export_arrow(const dj_result *result, struct ArrowSchema *out_schema, struct ArrowArray *out_array)`

Export a result through the Arrow C Data Interface as one struct array (a record batch): `out_schema` gets format "+s" with one child per column, `out_array` the data. Columns share the result's buffers, which stay valid until the consumer calls both `release` callbacks, even after dj_result_free. `<blob>` value trees cannot be exported (fetch them raw).
"""
dj_result_export_arrow(result, out_schema, out_array) =
    ccall((:dj_result_export_arrow, libdatajoint), Cint, (Ptr{dj_result}, Ref{ArrowSchema}, Ref{ArrowArray}), result, out_schema, out_array)


# -------------------------------------------------------------------------------- loading

function __init__()
    v = try
        dj_abi_version()
    catch e
        error("DataJoint.jl cannot call libdatajoint at \"$libdatajoint\": $(sprint(showerror, e)). " *
              "Point the package at the library with DataJoint.set_library!(path) (a preference) or " *
              "the DATAJOINT_LIBRARY environment variable, then restart Julia so the package is " *
              "precompiled again.")
    end
    major = v >> 16
    if major != DJ_ABI_VERSION_MAJOR
        error("libdatajoint at \"$libdatajoint\" has ABI major $major (version $(v >> 16).$(v & 0xffff)); " *
              "this DataJoint.jl needs ABI major $DJ_ABI_VERSION_MAJOR")
    end
    env = get(ENV, "DATAJOINT_LIBRARY", nothing)
    if env !== nothing && env != libdatajoint && !has_preference(@__MODULE__, "libdatajoint")
        @warn "DATAJOINT_LIBRARY=\"$env\" differs from the library this package was precompiled " *
              "with (\"$libdatajoint\"); the precompiled path is used. Delete the compile cache " *
              "(or touch a source file) to rebuild with the new value."
    end
    return nothing
end

end # module LibDataJoint
