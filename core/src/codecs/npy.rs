//! `<npy@store>`: arrays stored as standard `.npy` files at schema-addressed paths; the column
//! holds `{"path", "store", "dtype", "shape"}` (datajoint-storage.md §5.2). Fetching gives an
//! [`NpyRef`] whose metadata needs no I/O; `load`, `map` and `read_rows` read the data.

use crate::cache;
use crate::error::{Error, ErrorCode, Result};
use crate::npy::{parse_header, swap_bytes, write_header, Dtype, NpyHeader, HEADER_PROBE};
use crate::objpath::build_object_path;
use crate::store::{Store, Stores};
use crate::types::AttrType;
use crate::value::{ArrayValue, Value};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// The column's JSON metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyMeta {
    pub path: String,
    pub store: String,
    pub dtype: Dtype,
    pub shape: Vec<u64>,
}

impl NpyMeta {
    pub fn from_json(text: &str) -> Result<NpyMeta> {
        let bad = |m: &str| Error::new(ErrorCode::Codec, format!("<npy> metadata {m}: {text}"));
        let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("is not JSON"))?;
        let path = v
            .get("path")
            .and_then(|p| p.as_str())
            .ok_or_else(|| bad("has no 'path'"))?;
        let store = v.get("store").and_then(|p| p.as_str()).unwrap_or("");
        let dtype_name = v
            .get("dtype")
            .and_then(|p| p.as_str())
            .ok_or_else(|| bad("has no 'dtype'"))?;
        let dtype = Dtype::from_name(dtype_name).ok_or_else(|| {
            Error::new(
                ErrorCode::Codec,
                format!("<npy> dtype '{dtype_name}' is not supported"),
            )
        })?;
        let shape = v
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(|| bad("has no 'shape'"))?
            .iter()
            .map(|d| d.as_u64())
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| bad("has a bad 'shape'"))?;
        Ok(NpyMeta {
            path: path.to_string(),
            store: store.to_string(),
            dtype,
            shape,
        })
    }

    pub fn to_json(&self) -> String {
        json!({"path": self.path, "store": self.store, "dtype": self.dtype.name(), "shape": self.shape}).to_string()
    }

    pub fn size(&self) -> u64 {
        self.shape.iter().product()
    }

    pub fn nbytes(&self) -> u64 {
        self.size() * self.dtype.itemsize() as u64
    }
}

/// Prepare one array for its store: the metadata for the column, and the object's bytes
/// (the .npy header, then the array's own buffer without a copy).
pub fn prepare(
    store: &Store,
    schema: &str,
    table: &str,
    key: &[(String, AttrType, Value)],
    field: &str,
    arr: &ArrayValue,
) -> Result<(NpyMeta, Vec<bytes::Bytes>)> {
    arr.validate()
        .map_err(|m| Error::type_err(format!("attribute '{field}': {m}")))?;
    let path = build_object_path(&store.spec, schema, table, key, field, ".npy");
    // numpy records 0-d and 1-d arrays as C order whatever their flags.
    let fortran = arr.fortran_order && arr.shape.len() > 1;
    let header = bytes::Bytes::from(write_header(arr.dtype, fortran, &arr.shape));
    let data = bytes::Bytes::from_owner(Lend(arr.data.clone()));
    Ok((
        NpyMeta {
            path,
            store: store.name().to_string(),
            dtype: arr.dtype,
            shape: arr.shape.clone(),
        },
        vec![header, data],
    ))
}

/// Shares an array's buffer with the store upload (no copy).
struct Lend(Arc<dyn crate::value::ArrayBytes>);

impl AsRef<[u8]> for Lend {
    fn as_ref(&self) -> &[u8] {
        self.0.bytes()
    }
}

/// Who keeps a view's memory alive.
#[derive(Clone)]
enum Owner {
    Bytes(bytes::Bytes),
    Vec(Arc<Vec<u8>>),
    Map(Arc<memmap2::Mmap>),
}

/// A read-only n-d array: a pointer into memory owned by the view (a memory map, a downloaded
/// object or a buffer). Cloning shares the memory. It outlives the ref it came from.
#[derive(Clone)]
pub struct ArrayView {
    pub dtype: Dtype,
    pub shape: Vec<u64>,
    pub fortran_order: bool,
    /// True when the data is a memory map of the file (no copy).
    pub mapped: bool,
    owner: Owner,
    offset: usize,
    len: usize,
}

impl std::fmt::Debug for ArrayView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ArrayView({} {:?}, mapped={})",
            self.dtype.name(),
            self.shape,
            self.mapped
        )
    }
}

impl ArrayView {
    pub fn data(&self) -> &[u8] {
        let all: &[u8] = match &self.owner {
            Owner::Bytes(b) => b,
            Owner::Vec(v) => v,
            Owner::Map(m) => m,
        };
        &all[self.offset..self.offset + self.len]
    }
    pub fn nbytes(&self) -> usize {
        self.len
    }
    /// Byte strides of the layout (C or Fortran order).
    pub fn strides(&self) -> Vec<i64> {
        let n = self.shape.len();
        let mut s = vec![0i64; n];
        let mut acc = self.dtype.itemsize() as i64;
        let order: Vec<usize> = if self.fortran_order {
            (0..n).collect()
        } else {
            (0..n).rev().collect()
        };
        for i in order {
            s[i] = acc;
            acc *= self.shape[i] as i64;
        }
        s
    }
    fn aligned(&self) -> bool {
        let align = self.dtype.swap_unit().clamp(1, 8);
        (self.data().as_ptr() as usize).is_multiple_of(align)
    }
    /// Copy into a fresh buffer when the data is not aligned for its element type.
    fn ensure_aligned(self) -> ArrayView {
        if self.aligned() {
            return self;
        }
        let v = self.data().to_vec();
        let len = v.len();
        ArrayView {
            owner: Owner::Vec(Arc::new(v)),
            offset: 0,
            len,
            mapped: false,
            ..self
        }
    }
}

/// Lazy reference to an `<npy@>` value.
pub struct NpyRef {
    pub meta: NpyMeta,
    stores: Arc<Stores>,
    loaded: Mutex<Option<ArrayView>>,
    /// Header read by a ranged read, kept so later ranged reads need one request.
    remote_header: Mutex<Option<NpyHeader>>,
}

impl std::fmt::Debug for NpyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NpyRef(shape={:?}, dtype={}, {})",
            self.meta.shape,
            self.meta.dtype.name(),
            if self.is_loaded() {
                "loaded"
            } else {
                "not loaded"
            }
        )
    }
}

impl NpyRef {
    /// From the column's JSON, with no I/O.
    pub fn from_json(text: &str, stores: Arc<Stores>) -> Result<NpyRef> {
        Ok(NpyRef {
            meta: NpyMeta::from_json(text)?,
            stores,
            loaded: Mutex::new(None),
            remote_header: Mutex::new(None),
        })
    }

    pub fn shape(&self) -> &[u64] {
        &self.meta.shape
    }
    pub fn dtype(&self) -> Dtype {
        self.meta.dtype
    }
    pub fn ndim(&self) -> usize {
        self.meta.shape.len()
    }
    pub fn size(&self) -> u64 {
        self.meta.size()
    }
    pub fn nbytes(&self) -> u64 {
        self.meta.nbytes()
    }
    pub fn path(&self) -> &str {
        &self.meta.path
    }
    pub fn store(&self) -> &str {
        &self.meta.store
    }
    pub fn is_loaded(&self) -> bool {
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    fn store_handle(&self) -> Result<Arc<Store>> {
        self.stores.get(&self.meta.store)
    }

    fn check_header(&self, h: &NpyHeader) -> Result<()> {
        if h.dtype != self.meta.dtype || h.shape != self.meta.shape {
            return Err(Error::new(
                ErrorCode::Codec,
                format!(
                    "'{}' holds {} {:?}, but the row says {} {:?}",
                    self.meta.path,
                    h.dtype.name(),
                    h.shape,
                    self.meta.dtype.name(),
                    self.meta.shape
                ),
            ));
        }
        Ok(())
    }

    fn view_of(&self, h: &NpyHeader, owner: Owner, offset: usize, mapped: bool) -> ArrayView {
        ArrayView {
            dtype: h.dtype,
            shape: h.shape.clone(),
            fortran_order: h.fortran_order,
            mapped,
            owner,
            offset,
            len: h.data_len() as usize,
        }
    }

    /// Read the whole array into memory (kept for later calls on this ref).
    pub fn load(&self) -> Result<ArrayView> {
        if let Some(v) = self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(v.clone());
        }
        let store = self.store_handle()?;
        let bytes = store.get(&self.meta.path)?;
        let h = parse_header(&bytes, &self.meta.path, Some(bytes.len() as u64))?;
        self.check_header(&h)?;
        let view = if h.big_endian {
            let mut v = bytes[h.data_offset..h.data_offset + h.data_len() as usize].to_vec();
            swap_bytes(&mut v, h.dtype.swap_unit());
            self.view_of(&h, Owner::Vec(Arc::new(v)), 0, false)
        } else {
            let off = h.data_offset;
            self.view_of(&h, Owner::Bytes(bytes), off, false)
                .ensure_aligned()
        };
        *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = Some(view.clone());
        Ok(view)
    }

    /// A read-only memory map of the file: in place for `file` stores; for remote stores the
    /// object is downloaded once into the local cache and the cached file is mapped. Falls back
    /// to [`load`](Self::load) for big-endian or misaligned data.
    pub fn map(&self) -> Result<ArrayView> {
        let store = self.store_handle()?;
        let file = match store.local_path(&self.meta.path) {
            Some(p) => p,
            None => cache::fetch(&store, &self.meta.path, self.stores.cache_settings())?,
        };
        let f = std::fs::File::open(&file).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorCode::NotFound
            } else {
                ErrorCode::Io
            };
            Error::new(code, format!("opening '{}': {e}", file.display()))
        })?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        // SAFETY: the file is mapped read-only; objects are immutable once written (a new token
        // per write), and cache files are renamed into place only when complete.
        let map = unsafe { memmap2::Mmap::map(&f) }
            .map_err(|e| Error::new(ErrorCode::Io, format!("mapping '{}': {e}", file.display())))?;
        let h = parse_header(
            &map[..map.len().min(HEADER_PROBE.max(64))],
            &self.meta.path,
            Some(len),
        )
        .or_else(|_| parse_header(&map, &self.meta.path, Some(len)))?;
        self.check_header(&h)?;
        let view = self.view_of(&h, Owner::Map(Arc::new(map)), h.data_offset, true);
        if h.big_endian || !view.aligned() {
            return self.load();
        }
        Ok(view)
    }

    /// A local file holding the object: the store's own file for `file` stores, else the
    /// download-cache copy (downloaded once). With the parsed header, so a caller can map it
    /// itself (MATLAB `memmapfile`, Julia `Mmap`).
    pub fn local_file(&self) -> Result<(std::path::PathBuf, NpyHeader)> {
        let store = self.store_handle()?;
        let file = match store.local_path(&self.meta.path) {
            Some(p) => p,
            None => cache::fetch(&store, &self.meta.path, self.stores.cache_settings())?,
        };
        let io = |e: std::io::Error| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorCode::NotFound
            } else {
                ErrorCode::Io
            };
            Error::new(code, format!("reading '{}': {e}", file.display()))
        };
        let len = std::fs::metadata(&file).map_err(io)?.len();
        let mut head = vec![0u8; (len as usize).min(HEADER_PROBE)];
        std::io::Read::read_exact(&mut std::fs::File::open(&file).map_err(io)?, &mut head)
            .map_err(io)?;
        let h = parse_header(&head, &self.meta.path, Some(len))?;
        self.check_header(&h)?;
        Ok((file, h))
    }

    /// Rows `[start, stop)` along the first axis of a C-order array, read with ranged requests
    /// (the file is not downloaded). From memory when the ref is already loaded.
    pub fn read_rows(&self, start: u64, stop: u64) -> Result<ArrayView> {
        let shape = &self.meta.shape;
        if shape.is_empty() {
            return Err(Error::invalid_arg(format!(
                "'{}' is 0-d: it has no rows",
                self.meta.path
            )));
        }
        if start > stop || stop > shape[0] {
            return Err(Error::invalid_arg(format!(
                "rows [{start}, {stop}) are outside [0, {}) of '{}'",
                shape[0], self.meta.path
            )));
        }
        let row_bytes: u64 = shape[1..].iter().product::<u64>() * self.meta.dtype.itemsize() as u64;
        let mut out_shape = shape.clone();
        out_shape[0] = stop - start;
        if let Some(v) = self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            if !v.fortran_order || shape.len() == 1 {
                return Ok(ArrayView {
                    shape: out_shape,
                    offset: v.offset + (start * row_bytes) as usize,
                    len: ((stop - start) * row_bytes) as usize,
                    ..v.clone()
                });
            }
        }
        let store = self.store_handle()?;
        let cached = self
            .remote_header
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let h = match cached {
            Some(h) => h,
            None => {
                let size = store.size(&self.meta.path)?;
                let probe = store.get_range(&self.meta.path, 0..size.min(HEADER_PROBE as u64))?;
                let h = parse_header(&probe, &self.meta.path, Some(size))?;
                self.check_header(&h)?;
                *self.remote_header.lock().unwrap_or_else(|p| p.into_inner()) = Some(h.clone());
                h
            }
        };
        if h.fortran_order && shape.len() > 1 {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "'{}' is in Fortran order: its rows are not contiguous; use load or map",
                    self.meta.path
                ),
            ));
        }
        let begin = h.data_offset as u64 + start * row_bytes;
        let end = h.data_offset as u64 + stop * row_bytes;
        let mut data = if end > begin {
            store.get_range(&self.meta.path, begin..end)?.to_vec()
        } else {
            Vec::new()
        };
        if h.big_endian {
            swap_bytes(&mut data, h.dtype.swap_unit());
        }
        let len = data.len();
        Ok(ArrayView {
            dtype: h.dtype,
            shape: out_shape,
            fortran_order: false,
            mapped: false,
            owner: Owner::Vec(Arc::new(data)),
            offset: 0,
            len,
        })
    }
}
