//! `<object@>` / `<filepath@>` references, staged inserts, object streams and garbage
//! collection.

use crate::dj_status;
use crate::handles::{dj_result, dj_row, dj_schema, dj_table, handle_type, Handle};
use crate::util::*;
use datajoint_core::codecs::object::ObjectRef;
use datajoint_core::gc::{GcOptions, GcStats};
use datajoint_core::staged::StagedInsert;
use datajoint_core::store::tree::{ObjectReader, ObjectWriter, Progress};
use datajoint_core::{Error, Value};
use std::ffi::{c_char, c_void, CString};
use std::io::{Read, Write};
use std::ptr;
use std::sync::Arc;

/// A lazy reference to an `<object@>` or `<filepath@>` value (metadata without I/O).
#[repr(C)]
pub struct dj_objectref {
    tag: u64,
    pub r: ObjectRef,
    path_c: CString,
    store_c: CString,
    ext_c: Option<CString>,
    timestamp_c: Option<CString>,
    local_c: std::sync::OnceLock<Option<CString>>,
}
handle_type!(dj_objectref, 0x646a_6f62_6a72_0009, "dj_objectref");

/// The files of an object: relative paths and sizes.
#[repr(C)]
pub struct dj_filelist {
    tag: u64,
    names: Vec<CString>,
    sizes: Vec<u64>,
}
handle_type!(dj_filelist, 0x646a_666c_7374_000a, "dj_filelist");

/// A sequential reader of one stored file.
#[repr(C)]
pub struct dj_reader {
    tag: u64,
    r: ObjectReader,
}
handle_type!(dj_reader, 0x646a_7264_7272_000b, "dj_reader");

/// A stream writing one new object (from a staged insert).
#[repr(C)]
pub struct dj_writer {
    tag: u64,
    w: Option<ObjectWriter>,
}
handle_type!(dj_writer, 0x646a_7772_7472_000c, "dj_writer");

/// A staged insert of one row.
#[repr(C)]
pub struct dj_staged {
    tag: u64,
    s: Option<StagedInsert>,
    dirs: Vec<CString>,
}
handle_type!(dj_staged, 0x646a_7374_6764_000d, "dj_staged");

/// Summary of an object (no I/O).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dj_object_info {
    /// total bytes (a folder's files summed); -1 when unknown (a `<filepath@>` folder)
    pub size: i64,
    /// 1 for a folder
    pub is_dir: u8,
    /// number of files of a folder; -1 when not recorded
    pub item_count: i64,
}

/// Called with the total bytes written so far (on the writing thread; must not throw).
pub type dj_progress_fn = Option<unsafe extern "C" fn(bytes: u64, user_data: *mut c_void)>;

/// Options of `dj_schema_gc`; initialize with `dj_gc_opts_init`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dj_gc_opts {
    /// sizeof(dj_gc_opts), set by dj_gc_opts_init
    pub struct_size: u32,
    /// 1: count, delete nothing
    pub dry_run: u8,
    /// only this store (NULL: every store the schema uses)
    pub store: *const c_char,
    /// objects younger than this are kept (default 3600)
    pub grace_seconds: f64,
}

/// What `dj_schema_gc` found and did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dj_gc_stats {
    pub hash_objects: u64,
    pub schema_objects: u64,
    pub references: u64,
    pub orphaned_hash: u64,
    pub orphaned_schema: u64,
    pub orphaned_bytes: u64,
    /// orphans kept for being younger than the grace period
    pub young: u64,
    pub deleted: u64,
    pub bytes_freed: u64,
    /// object-store requests made
    pub requests: u64,
    pub dry_run: u8,
}

impl From<&GcStats> for dj_gc_stats {
    fn from(s: &GcStats) -> Self {
        dj_gc_stats {
            hash_objects: s.hash_objects,
            schema_objects: s.schema_objects,
            references: s.references,
            orphaned_hash: s.orphaned_hash,
            orphaned_schema: s.orphaned_schema,
            orphaned_bytes: s.orphaned_bytes,
            young: s.young,
            deleted: s.deleted,
            bytes_freed: s.bytes_freed,
            requests: s.requests,
            dry_run: s.dry_run as u8,
        }
    }
}

unsafe fn opt_subpath<'a>(p: *const c_char) -> datajoint_core::Result<&'a str> {
    Ok(opt_str(p, "subpath")?.unwrap_or(""))
}

// ---------- ObjectRef ----------

/// Lazy reference to the `<object@>` / `<filepath@>` value in column `col`, row `row` of a
/// result. No I/O. DJ_E_NOT_FOUND if NULL; DJ_E_TYPE for another column type.
#[no_mangle]
pub unsafe extern "C" fn dj_result_objectref(
    result: *const dj_result,
    col: usize,
    row: usize,
    out_ref: *mut *mut dj_objectref,
) -> dj_status {
    call_out(out_ref, || {
        let r = handle_ref(result)?;
        let name =
            r.rs.attributes
                .get(col)
                .map(|a| a.name.clone())
                .ok_or_else(|| {
                    Error::invalid_arg(format!(
                        "column index {col} out of range ({} columns)",
                        r.rs.attributes.len()
                    ))
                })?;
        let stores = r
            .stores
            .clone()
            .ok_or_else(|| Error::type_err("this result has no <object@> columns"))?;
        let o = datajoint_core::table::objectref_of(&r.rs, &name, row, stores)?;
        Ok(Box::new(dj_objectref {
            tag: dj_objectref::TAG,
            path_c: cstring_lossy(&o.meta.path),
            store_c: cstring_lossy(&o.meta.store),
            ext_c: o.meta.ext.as_deref().map(cstring_lossy),
            timestamp_c: o.meta.timestamp.as_deref().map(cstring_lossy),
            local_c: std::sync::OnceLock::new(),
            r: o,
        }))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_objectref_free(r: *mut dj_objectref) {
    free_handle(r)
}

/// Path of the object in its store (valid until the ref is freed).
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_path(r: *const dj_objectref) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(r)?.path_c.as_ptr()))
}

/// Name of the object's store.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_store(r: *const dj_objectref) -> *const c_char {
    guard_value(ptr::null(), || Ok(handle_ref(r)?.store_c.as_ptr()))
}

fn ptr_or_null(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// Extension recorded at insert (".dat"), or NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_ext(r: *const dj_objectref) -> *const c_char {
    guard_value(ptr::null(), || Ok(ptr_or_null(&handle_ref(r)?.ext_c)))
}

/// ISO-8601 UTC time of the write, or NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_timestamp(r: *const dj_objectref) -> *const c_char {
    guard_value(ptr::null(), || Ok(ptr_or_null(&handle_ref(r)?.timestamp_c)))
}

/// Size, folder flag and file count from the metadata (no I/O).
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_info(
    r: *const dj_objectref,
    out_info: *mut dj_object_info,
) -> dj_status {
    call(|| {
        let m = &handle_ref(r)?.r.meta;
        *out_ref(out_info, "out_info")? = dj_object_info {
            size: m.size.map_or(-1, |s| s as i64),
            is_dir: m.is_dir as u8,
            item_count: m.item_count.map_or(-1, |n| n as i64),
        };
        Ok(())
    })
}

/// The files of a folder (relative paths, sorted, with sizes), or of a file (one entry "").
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_files(
    r: *const dj_objectref,
    out_list: *mut *mut dj_filelist,
) -> dj_status {
    call_out(out_list, || {
        let files = handle_ref(r)?.r.files()?;
        Ok(Box::new(dj_filelist {
            tag: dj_filelist::TAG,
            names: files.iter().map(|(n, _)| cstring_lossy(n)).collect(),
            sizes: files.iter().map(|(_, s)| *s).collect(),
        }))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_filelist_len(l: *const dj_filelist) -> usize {
    guard_value(0, || Ok(handle_ref(l)?.names.len()))
}

/// Relative path of file `i` (valid until the list is freed); NULL when out of range.
#[no_mangle]
pub unsafe extern "C" fn dj_filelist_name(l: *const dj_filelist, i: usize) -> *const c_char {
    guard_value(ptr::null(), || {
        Ok(handle_ref(l)?
            .names
            .get(i)
            .map_or(ptr::null(), |c| c.as_ptr()))
    })
}

/// Size of file `i` in bytes (0 when out of range).
#[no_mangle]
pub unsafe extern "C" fn dj_filelist_size(l: *const dj_filelist, i: usize) -> u64 {
    guard_value(0, || Ok(handle_ref(l)?.sizes.get(i).copied().unwrap_or(0)))
}

#[no_mangle]
pub unsafe extern "C" fn dj_filelist_free(l: *mut dj_filelist) {
    free_handle(l)
}

/// Whether the object (subpath NULL or "") or a file of its folder exists.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_exists(
    r: *const dj_objectref,
    subpath: *const c_char,
    out_exists: *mut u8,
) -> dj_status {
    call(|| {
        let o = out_ref(out_exists, "out_exists")?;
        *o = 0;
        *o = handle_ref(r)?.r.exists(opt_subpath(subpath)?)? as u8;
        Ok(())
    })
}

/// Read up to `len` bytes at `offset` of the file (or of `subpath` in a folder) into `buf`
/// (one ranged read); `*out_n` is the count read (less than `len` at the end).
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_read(
    r: *const dj_objectref,
    subpath: *const c_char,
    offset: u64,
    buf: *mut c_void,
    len: usize,
    out_n: *mut usize,
) -> dj_status {
    call(|| {
        let n = out_ref(out_n, "out_n")?;
        *n = 0;
        if buf.is_null() && len > 0 {
            return Err(Error::invalid_arg("buf is NULL"));
        }
        let b = handle_ref(r)?
            .r
            .read_at(opt_subpath(subpath)?, offset, len as u64)?;
        std::ptr::copy_nonoverlapping(b.as_ptr(), buf as *mut u8, b.len());
        *n = b.len();
        Ok(())
    })
}

/// A sequential reader of the file (or `subpath` of a folder) from `offset`.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_open(
    r: *const dj_objectref,
    subpath: *const c_char,
    offset: u64,
    out_reader: *mut *mut dj_reader,
) -> dj_status {
    call_out(out_reader, || {
        let rd = handle_ref(r)?.r.open(opt_subpath(subpath)?, offset)?;
        Ok(Box::new(dj_reader {
            tag: dj_reader::TAG,
            r: rd,
        }))
    })
}

/// Read up to `len` bytes; `*out_n` is 0 at the end.
#[no_mangle]
pub unsafe extern "C" fn dj_reader_read(
    rd: *mut dj_reader,
    buf: *mut c_void,
    len: usize,
    out_n: *mut usize,
) -> dj_status {
    call(|| {
        let n = out_ref(out_n, "out_n")?;
        *n = 0;
        if buf.is_null() && len > 0 {
            return Err(Error::invalid_arg("buf is NULL"));
        }
        let h = handle_mut(rd)?;
        let out = std::slice::from_raw_parts_mut(buf as *mut u8, len);
        let mut got = 0;
        // fill the buffer as far as the object goes
        while got < len {
            let k =
                h.r.read(&mut out[got..])
                    .map_err(|e| Error::new(datajoint_core::ErrorCode::Store, e.to_string()))?;
            if k == 0 {
                break;
            }
            got += k;
        }
        *n = got;
        Ok(())
    })
}

/// Size of the file being read.
#[no_mangle]
pub unsafe extern "C" fn dj_reader_size(rd: *const dj_reader) -> u64 {
    guard_value(0, || Ok(handle_ref(rd)?.r.size()))
}

#[no_mangle]
pub unsafe extern "C" fn dj_reader_free(rd: *mut dj_reader) {
    free_handle(rd)
}

/// Copy the file or folder to the local path `dest`; `*out_bytes` (may be NULL) is the total.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_download(
    r: *const dj_objectref,
    dest: *const c_char,
    out_bytes: *mut u64,
) -> dj_status {
    call_count(out_bytes, || {
        let d = req_str(dest, "dest")?;
        handle_ref(r)?.r.download(std::path::Path::new(d))
    })
}

/// For a `file` store: the object's own local path (file or folder), valid until the ref is
/// freed; `*out_path` is NULL for other stores.
#[no_mangle]
pub unsafe extern "C" fn dj_objectref_local_path(
    r: *const dj_objectref,
    out_path: *mut *const c_char,
) -> dj_status {
    call(|| {
        let o = out_ref(out_path, "out_path")?;
        *o = ptr::null();
        let h = handle_ref(r)?;
        let local = match h.local_c.get() {
            Some(l) => l,
            None => {
                let p = h.r.local_path()?;
                let _ = h
                    .local_c
                    .set(p.map(|p| cstring_lossy(&p.to_string_lossy())));
                h.local_c.get().expect("just set")
            }
        };
        *o = ptr_or_null(local);
        Ok(())
    })
}

// ---------- staged insert ----------

/// Begin a staged insert of one row into `table`.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_begin(
    table: *const dj_table,
    out_staged: *mut *mut dj_staged,
) -> dj_status {
    call_out(out_staged, || {
        let s = handle_ref(table)?.table.staged_insert1()?;
        Ok(Box::new(dj_staged {
            tag: dj_staged::TAG,
            s: Some(s),
            dirs: Vec::new(),
        }))
    })
}

unsafe fn staged<'a>(s: *mut dj_staged) -> datajoint_core::Result<&'a mut StagedInsert> {
    handle_mut(s)?
        .s
        .as_mut()
        .ok_or_else(|| Error::invalid_arg("the staged insert is already committed or aborted"))
}

/// Set the row's values from `values` (the primary key first of all; other attributes too).
#[no_mangle]
pub unsafe extern "C" fn dj_staged_set(s: *mut dj_staged, values: *const dj_row) -> dj_status {
    call(|| {
        let row = &handle_ref(values)?.row;
        let st = staged(s)?;
        for (n, v) in &row.values {
            st.set(n, v.clone())?;
        }
        Ok(())
    })
}

struct CProgress(unsafe extern "C" fn(u64, *mut c_void), usize);
// The callback and its user data are the caller's; it is called on the writing thread only.
unsafe impl Send for CProgress {}
unsafe impl Sync for CProgress {}

/// Report progress to `cb` (NULL: none) with the total bytes written by this staged insert.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_set_progress(
    s: *mut dj_staged,
    cb: dj_progress_fn,
    user_data: *mut c_void,
) -> dj_status {
    call(|| {
        let st = staged(s)?;
        st.set_progress(cb.map(|f| {
            let p = CProgress(f, user_data as usize);
            Arc::new(move |n: u64| unsafe { (p.0)(n, p.1 as *mut c_void) }) as Progress
        }));
        Ok(())
    })
}

/// Total bytes written so far.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_bytes_written(s: *const dj_staged) -> u64 {
    guard_value(0, || {
        Ok(handle_ref(s)?.s.as_ref().map_or(0, |x| x.bytes_written()))
    })
}

fn writer(w: ObjectWriter) -> Box<dj_writer> {
    Box::new(dj_writer {
        tag: dj_writer::TAG,
        w: Some(w),
    })
}

/// A stream for the `<object@>` field as one file (`ext` may be NULL). Close it before the
/// commit.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_open(
    s: *mut dj_staged,
    field: *const c_char,
    ext: *const c_char,
    out_writer: *mut *mut dj_writer,
) -> dj_status {
    call_out(out_writer, || {
        let f = req_str(field, "field")?;
        let e = opt_str(ext, "ext")?.unwrap_or("");
        Ok(writer(staged(s)?.open(f, e)?))
    })
}

/// A stream for the file `key` (a relative path) of the field's folder.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_open_key(
    s: *mut dj_staged,
    field: *const c_char,
    key: *const c_char,
    out_writer: *mut *mut dj_writer,
) -> dj_status {
    call_out(out_writer, || {
        let f = req_str(field, "field")?;
        let k = req_str(key, "key")?;
        Ok(writer(staged(s)?.open_key(f, k)?))
    })
}

/// Write the file `key` of the field's folder in one piece (e.g. a Zarr chunk).
#[no_mangle]
pub unsafe extern "C" fn dj_staged_put(
    s: *mut dj_staged,
    field: *const c_char,
    key: *const c_char,
    data: *const c_void,
    len: usize,
) -> dj_status {
    call(|| {
        let f = req_str(field, "field")?;
        let k = req_str(key, "key")?;
        let b = bytes_arg(data as *const u8, len, "data")?;
        staged(s)?.put(f, k, b)
    })
}

/// For a `file` store: the field's folder on local disk (created; valid until the staged
/// insert is freed), for libraries that write files themselves. DJ_E_UNSUPPORTED otherwise.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_local_dir(
    s: *mut dj_staged,
    field: *const c_char,
    out_path: *mut *const c_char,
) -> dj_status {
    call(|| {
        let o = out_ref(out_path, "out_path")?;
        *o = ptr::null();
        let f = req_str(field, "field")?;
        let p = staged(s)?.local_dir(f)?;
        let h = handle_mut(s)?;
        h.dirs.push(cstring_lossy(&p.to_string_lossy()));
        *o = h.dirs.last().map_or(ptr::null(), |c| c.as_ptr());
        Ok(())
    })
}

/// Measure the written fields and insert the row. On failure everything written is removed.
/// Either way the staged insert is finished (free it afterwards).
#[no_mangle]
pub unsafe extern "C" fn dj_staged_commit(s: *mut dj_staged) -> dj_status {
    call(|| {
        let h = handle_mut(s)?;
        let st = h.s.take().ok_or_else(|| {
            Error::invalid_arg("the staged insert is already committed or aborted")
        })?;
        st.commit()
    })
}

/// Remove everything written and finish (best effort: what cannot be removed is left for gc).
#[no_mangle]
pub unsafe extern "C" fn dj_staged_abort(s: *mut dj_staged) -> dj_status {
    call(|| match handle_mut(s)?.s.take() {
        Some(st) => st.abort(),
        None => Ok(()),
    })
}

/// Free; a staged insert neither committed nor aborted is aborted.
#[no_mangle]
pub unsafe extern "C" fn dj_staged_free(s: *mut dj_staged) {
    free_handle(s)
}

/// Write `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dj_writer_write(
    w: *mut dj_writer,
    data: *const c_void,
    len: usize,
) -> dj_status {
    call(|| {
        let b = bytes_arg(data as *const u8, len, "data")?;
        let wr = handle_mut(w)?
            .w
            .as_mut()
            .ok_or_else(|| Error::invalid_arg("the writer is already closed"))?;
        wr.write_all(b)
            .map_err(|e| Error::new(datajoint_core::ErrorCode::Store, e.to_string()))
    })
}

/// Finish the object (completes a multipart upload). `*out_bytes` (may be NULL) is its size.
#[no_mangle]
pub unsafe extern "C" fn dj_writer_close(w: *mut dj_writer, out_bytes: *mut u64) -> dj_status {
    call_count(out_bytes, || {
        handle_mut(w)?
            .w
            .take()
            .ok_or_else(|| Error::invalid_arg("the writer is already closed"))?
            .finish()
    })
}

/// Free; an unclosed writer is abandoned (its staged insert's commit then fails or, for a
/// local file, sees what was flushed).
#[no_mangle]
pub unsafe extern "C" fn dj_writer_free(w: *mut dj_writer) {
    free_handle(w)
}

// ---------- garbage collection ----------

/// Defaults: not a dry run, every store, one hour of grace.
#[no_mangle]
pub unsafe extern "C" fn dj_gc_opts_init(opts: *mut dj_gc_opts) -> dj_status {
    call(|| {
        *out_ref(opts, "opts")? = dj_gc_opts {
            struct_size: std::mem::size_of::<dj_gc_opts>() as u32,
            dry_run: 0,
            store: ptr::null(),
            grace_seconds: 3600.0,
        };
        Ok(())
    })
}

/// Remove the objects of the schema that no row references (opts NULL: defaults).
#[no_mangle]
pub unsafe extern "C" fn dj_schema_gc(
    schema: *const dj_schema,
    opts: *const dj_gc_opts,
    out_stats: *mut dj_gc_stats,
) -> dj_status {
    call(|| {
        let o = out_ref(out_stats, "out_stats")?;
        *o = dj_gc_stats::default();
        let mut g = GcOptions::default();
        if !opts.is_null() {
            let opts = &*opts;
            if opts.struct_size as usize != std::mem::size_of::<dj_gc_opts>() {
                return Err(Error::invalid_arg(
                    "dj_gc_opts.struct_size is wrong: initialize it with dj_gc_opts_init",
                ));
            }
            if !opts.grace_seconds.is_finite() || opts.grace_seconds < 0.0 {
                return Err(Error::invalid_arg("grace_seconds must be a number >= 0"));
            }
            g.dry_run = opts.dry_run != 0;
            g.store = opt_str(opts.store, "store")?.map(str::to_string);
            g.grace = std::time::Duration::from_secs_f64(opts.grace_seconds);
        }
        *o = (&handle_ref(schema)?.schema.gc(&g)?).into();
        Ok(())
    })
}

/// Set an `<object@>` attribute to bytes stored with extension `ext` (NULL or "": none).
#[no_mangle]
pub unsafe extern "C" fn dj_row_set_object_bytes(
    row: *mut dj_row,
    name: *const c_char,
    ext: *const c_char,
    data: *const c_void,
    len: usize,
) -> dj_status {
    crate::row_set(row, name, || {
        let e = opt_str(ext, "ext")?.unwrap_or("");
        let b = bytes_arg(data as *const u8, len, "data")?;
        Ok(if e.is_empty() {
            Value::Bytes(b.to_vec())
        } else {
            Value::attachment(e, bytes::Bytes::copy_from_slice(b))
        })
    })
}
