//! `<object@store>`: a file or a folder at a schema-addressed path (datajoint-storage.md §5.3).
//! The column holds `{path, store, size, ext, is_dir, item_count, timestamp}`; fetching gives an
//! [`ObjectRef`] whose metadata needs no I/O. `<filepath@>` values (a file the user placed in
//! the store) come back as the same kind of reference.

use crate::error::{Error, ErrorCode, Result};
use crate::store::tree::{Listed, ObjectReader, Progress};
use crate::store::{Store, Stores};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The column's JSON metadata of an `<object@>` or `<filepath@>` value.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub path: String,
    /// the store's name; empty when the reference wrote `null` (its default store)
    pub store: String,
    /// total bytes (files of a folder summed); None for a `<filepath@>` folder
    pub size: Option<u64>,
    pub ext: Option<String>,
    pub is_dir: bool,
    pub item_count: Option<u64>,
    pub timestamp: Option<String>,
    /// MD5 hex, when a writer recorded one (the reference's ObjectRef accepts it)
    pub hash: Option<String>,
}

/// The reference's `datetime.now(timezone.utc).isoformat()`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

impl ObjectMeta {
    pub fn from_json(text: &str) -> Result<ObjectMeta> {
        let bad = |m: &str| Error::new(ErrorCode::Codec, format!("<object> metadata {m}: {text}"));
        let v: Json = serde_json::from_str(text).map_err(|_| bad("is not JSON"))?;
        let path = v
            .get("path")
            .and_then(|p| p.as_str())
            .ok_or_else(|| bad("has no 'path'"))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Ok(ObjectMeta {
            path: path.to_string(),
            store: s("store").unwrap_or_default(),
            size: v.get("size").and_then(|x| x.as_u64()),
            ext: s("ext"),
            is_dir: v.get("is_dir").and_then(|x| x.as_bool()).unwrap_or(false),
            item_count: v.get("item_count").and_then(|x| x.as_u64()),
            timestamp: s("timestamp"),
            hash: s("hash"),
        })
    }

    /// `<object@>` JSON, keys in the reference's order.
    pub fn to_json(&self) -> String {
        json!({
            "path": self.path, "store": self.store, "size": self.size, "ext": self.ext,
            "is_dir": self.is_dir, "item_count": self.item_count, "timestamp": self.timestamp,
        })
        .to_string()
    }

    /// `<filepath@>` JSON: `{path, store, size, is_dir, timestamp}`.
    pub fn to_filepath_json(&self) -> String {
        json!({
            "path": self.path, "store": self.store, "size": self.size,
            "is_dir": self.is_dir, "timestamp": self.timestamp,
        })
        .to_string()
    }
}

/// What an insert was given for an `<object@>` value.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    /// a local file or folder
    Path(&'a str),
    /// bytes (the extension, if any, is given beside)
    Bytes(&'a [u8]),
}

/// Check a source before anything is written; returns (is_dir, ext for the path and the JSON).
pub fn check_source(src: &Source) -> std::result::Result<(bool, Option<String>), String> {
    match src {
        Source::Path(p) => {
            let meta = std::fs::metadata(p).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!("source path '{p}' does not exist")
                } else {
                    format!("source path '{p}': {e}")
                }
            })?;
            if meta.is_dir() {
                Ok((true, None))
            } else {
                let ext = Path::new(p)
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy()));
                Ok((false, ext))
            }
        }
        Source::Bytes(_) => Ok((false, None)),
    }
}

/// The path suffix for an extension (a dot added when missing).
pub fn path_ext(ext: Option<&str>) -> String {
    match ext {
        Some(e) if !e.is_empty() && !e.starts_with('.') => format!(".{e}"),
        Some(e) => e.to_string(),
        None => String::new(),
    }
}

/// The files of a local folder, recursively: (relative posix path, absolute path, size), sorted.
pub fn walk_local(dir: &Path) -> Result<Vec<(String, PathBuf, u64)>> {
    let files = crate::store::tree::walk_files(dir, true).map_err(|e| {
        Error::new(
            ErrorCode::Io,
            format!("reading folder '{}': {e}", dir.display()),
        )
    })?;
    let mut out: Vec<(String, PathBuf, u64)> = files
        .into_iter()
        .map(|(p, m)| {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p, m.len())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Write one value to `path` in `store` (streamed; a folder file by file, then its
/// `.manifest.json` as the reference writes it). On error the caller deletes the tree.
pub fn upload(
    store: &Arc<Store>,
    path: &str,
    src: &Source,
    ext: Option<String>,
    progress: Option<Progress>,
) -> Result<ObjectMeta> {
    let (size, is_dir, item_count) = match src {
        Source::Bytes(b) => {
            store.put_parts(path, vec![bytes::Bytes::copy_from_slice(b)])?;
            (b.len() as u64, false, None)
        }
        Source::Path(p) if Path::new(p).is_dir() => {
            let files = walk_local(Path::new(p))?;
            let mut total = 0u64;
            for (rel, abs, _) in &files {
                total += store.put_file(&format!("{path}/{rel}"), abs, progress.clone())?;
            }
            let manifest = json!({
                "files": files.iter().map(|(rel, _, size)| json!({"path": rel, "size": size})).collect::<Vec<_>>(),
                "total_size": total,
                "item_count": files.len(),
                "created": now_iso(),
            });
            let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
            store.put_parts(
                &format!("{path}.manifest.json"),
                vec![bytes::Bytes::from(text)],
            )?;
            (total, true, Some(files.len() as u64))
        }
        Source::Path(p) => (store.put_file(path, Path::new(p), progress)?, false, None),
    };
    Ok(ObjectMeta {
        path: path.to_string(),
        store: store.name().to_string(),
        size: Some(size),
        ext,
        is_dir,
        item_count,
        timestamp: Some(now_iso()),
        hash: None,
    })
}

/// Check a relative key inside an object folder (staged `put`, `ObjectRef` subpaths): no
/// absolute path, no `.`/`..` or empty segments, no backslash or control characters.
pub fn check_relative(key: &str, what: &str) -> Result<()> {
    let bad = |m: &str| Error::invalid_arg(format!("{what} '{key}': {m}"));
    if key.is_empty() {
        return Err(bad("is empty"));
    }
    if key.starts_with('/') {
        return Err(bad("must be relative (it starts with '/')"));
    }
    if key.contains('\\') || key.chars().any(|c| c.is_control()) {
        return Err(bad("contains a backslash or a control character"));
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(bad("has an empty, '.' or '..' segment"));
    }
    Ok(())
}

/// A lazy reference to a stored object or folder: metadata without I/O; listing, reads and
/// downloads on demand.
#[derive(Clone)]
pub struct ObjectRef {
    pub meta: ObjectMeta,
    stores: Arc<Stores>,
    /// a `<filepath@>` value (its bare `@` means `stores.filepath_default`)
    pub filepath: bool,
}

impl std::fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectRef({:?})", self.meta)
    }
}

impl ObjectRef {
    pub fn from_json(text: &str, stores: Arc<Stores>) -> Result<ObjectRef> {
        Ok(ObjectRef {
            meta: ObjectMeta::from_json(text)?,
            stores,
            filepath: false,
        })
    }

    pub fn store(&self) -> Result<Arc<Store>> {
        if self.filepath {
            self.stores.get_filepath(&self.meta.store)
        } else {
            self.stores.get(&self.meta.store)
        }
    }

    fn sub(&self, subpath: &str) -> Result<String> {
        if subpath.is_empty() {
            return Ok(self.meta.path.clone());
        }
        check_relative(subpath, "subpath")?;
        Ok(format!("{}/{subpath}", self.meta.path))
    }

    /// The files: a folder's (relative path, size), sorted; a file gives itself as `""`.
    pub fn files(&self) -> Result<Vec<(String, u64)>> {
        let store = self.store()?;
        if !self.meta.is_dir {
            let h = store
                .head(&self.meta.path)?
                .ok_or_else(|| self.missing(""))?;
            return Ok(vec![(String::new(), h.size)]);
        }
        let prefix = format!("{}/", self.meta.path);
        Ok(store
            .list(&self.meta.path)?
            .into_iter()
            .filter_map(|Listed { path, size, .. }| {
                path.strip_prefix(&prefix).map(|r| (r.to_string(), size))
            })
            .collect())
    }

    fn missing(&self, subpath: &str) -> Error {
        Error::new(
            ErrorCode::NotFound,
            format!(
                "store '{}': object '{}' does not exist",
                self.meta.store,
                if subpath.is_empty() {
                    self.meta.path.clone()
                } else {
                    format!("{}/{subpath}", self.meta.path)
                }
            ),
        )
    }

    /// Whether the object (or a file of the folder) exists.
    pub fn exists(&self, subpath: &str) -> Result<bool> {
        let store = self.store()?;
        if subpath.is_empty() && self.meta.is_dir {
            return Ok(!store.list(&self.meta.path)?.is_empty());
        }
        Ok(store.head(&self.sub(subpath)?)?.is_some())
    }

    /// Bytes `range` of a file (the object itself, or `subpath` of a folder).
    pub fn read(&self, subpath: &str, range: Option<std::ops::Range<u64>>) -> Result<bytes::Bytes> {
        if self.meta.is_dir && subpath.is_empty() {
            return Err(Error::invalid_arg(format!(
                "'{}' is a folder: name a file in it",
                self.meta.path
            )));
        }
        let store = self.store()?;
        let rel = self.sub(subpath)?;
        match range {
            None => store.get(&rel),
            Some(r) => store.get_range(&rel, r),
        }
    }

    /// Up to `len` bytes at `offset` of a file (the object, or `subpath` of a folder), in one
    /// ranged read; fewer at the end. The object's own size comes from the metadata; a file of
    /// a folder costs one HEAD more.
    pub fn read_at(&self, subpath: &str, offset: u64, len: u64) -> Result<bytes::Bytes> {
        if self.meta.is_dir && subpath.is_empty() {
            return Err(Error::invalid_arg(format!(
                "'{}' is a folder: name a file in it",
                self.meta.path
            )));
        }
        let store = self.store()?;
        let rel = self.sub(subpath)?;
        let size = match (subpath.is_empty(), self.meta.size) {
            (true, Some(s)) => s,
            _ => store.head(&rel)?.ok_or_else(|| self.missing(subpath))?.size,
        };
        let end = offset.saturating_add(len).min(size);
        if offset >= end {
            return Ok(bytes::Bytes::new());
        }
        store.get_range(&rel, offset..end)
    }

    /// A sequential reader of a file from `offset`.
    pub fn open(&self, subpath: &str, offset: u64) -> Result<ObjectReader> {
        if self.meta.is_dir && subpath.is_empty() {
            return Err(Error::invalid_arg(format!(
                "'{}' is a folder: name a file in it",
                self.meta.path
            )));
        }
        self.store()?.reader(&self.sub(subpath)?, offset)
    }

    /// Copy the file or folder to `dest` (a folder is created with its files; a file is written
    /// as `dest`). Returns the bytes copied.
    pub fn download(&self, dest: &Path) -> Result<u64> {
        let store = self.store()?;
        let io = |p: &Path, e: std::io::Error| {
            Error::new(ErrorCode::Io, format!("writing '{}': {e}", p.display()))
        };
        if !self.meta.is_dir {
            if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            return store.download_to(&self.meta.path, dest);
        }
        let mut n = 0;
        std::fs::create_dir_all(dest).map_err(|e| io(dest, e))?;
        for (rel, _) in self.files()? {
            check_relative(&rel, "stored file")?;
            let to = dest.join(&rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            n += store.download_to(&format!("{}/{rel}", self.meta.path), &to)?;
        }
        Ok(n)
    }

    /// For a `file` store: the object's own local path (file or folder); None otherwise.
    pub fn local_path(&self) -> Result<Option<PathBuf>> {
        Ok(self.store()?.local_path(&self.meta.path))
    }

    /// Check sizes against the metadata (a file's size; a folder's total).
    pub fn verify(&self) -> Result<bool> {
        let total: u64 = self.files()?.iter().map(|(_, s)| s).sum();
        Ok(self.meta.size.is_none_or(|s| s == total))
    }
}
