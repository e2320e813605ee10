//! Folders of objects: listing, streamed writes and reads, and recursive deletes.
//!
//! A `file` store is worked on with plain file I/O on its folder (names are taken literally,
//! as the reference's fsspec does, and a writer is the final file itself); cloud stores go
//! through `object_store` (a writer is a buffered upload that turns multipart above 8 MiB).

use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::runtime::block_on;
use futures::StreamExt;
use object_store::ObjectStoreExt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

/// Regular files under the folder `dir`, recursively, with their metadata. Symbolic links are
/// followed only with `follow_links` (a store's own listing never leaves its folder).
pub(crate) fn walk_files(
    dir: &Path,
    follow_links: bool,
) -> std::io::Result<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    // entries removed while the walk runs (a concurrent delete) are skipped
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Err(e) if gone(&e) && d != dir => continue,
            other => other?,
        };
        for entry in entries {
            let entry = entry?;
            let p = entry.path();
            // DirEntry::metadata does not follow symbolic links
            let m = match if follow_links {
                std::fs::metadata(&p)
            } else {
                entry.metadata()
            } {
                Err(e) if gone(&e) => continue,
                other => other?,
            };
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                out.push((p, m));
            }
        }
    }
    Ok(out)
}

/// One stored object found by a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// path relative to the store's root
    pub path: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// Bytes written so far by a writer (shared with progress callbacks).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Write buffer and multipart part size of cloud writers.
const PART: usize = 8 << 20;

impl Store {
    fn io_err(&self, rel: &str, what: &str, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::NotFound {
            return self.not_found(rel);
        }
        Error::new(
            ErrorCode::Store,
            format!("store '{}': {what} '{rel}': {e}", self.name()),
        )
    }

    /// Every object under the folder `prefix` (recursively), or `prefix` itself when it is an
    /// object. Paths are relative to the store root. An empty prefix lists the whole store.
    pub fn list(&self, prefix: &str) -> Result<Vec<Listed>> {
        let prefix = prefix.trim_matches('/');
        if let Some(root) = self.local_root.clone() {
            let start = if prefix.is_empty() {
                root.clone()
            } else {
                root.join(prefix)
            };
            let meta = match std::fs::symlink_metadata(&start) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(self.io_err(prefix, "listing", e)),
            };
            let files = if meta.is_file() {
                vec![(start, meta)]
            } else if meta.is_dir() {
                walk_files(&start, false).map_err(|e| self.io_err(prefix, "listing", e))?
            } else {
                Vec::new()
            };
            let mut out: Vec<Listed> = files
                .iter()
                .map(|(p, m)| self.listed(&root, p, m))
                .collect();
            self.count(0, 0);
            out.sort_by(|a, b| a.path.cmp(&b.path));
            return Ok(out);
        }
        let key = if prefix.is_empty() && self.root.is_empty() {
            None
        } else if prefix.is_empty() {
            Some(object_store::path::Path::from(self.root.as_str()))
        } else {
            Some(self.key(prefix)?)
        };
        let strip = if self.root.is_empty() {
            String::new()
        } else {
            format!("{}/", self.root)
        };
        let store = self.inner.clone();
        let out = block_on(async move {
            let mut s = store.list(key.as_ref());
            let mut out = Vec::new();
            while let Some(m) = s.next().await {
                let m = m?;
                let full = m.location.to_string();
                let path = full.strip_prefix(&strip).unwrap_or(&full).to_string();
                out.push(Listed {
                    path,
                    size: m.size,
                    modified: m.last_modified.into(),
                });
            }
            Ok::<_, object_store::Error>(out)
        })
        .map_err(|e| self.map_err(prefix, e))?;
        // one request per page of 1,000 keys
        self.stats
            .requests
            .fetch_add(out.len() as u64 / 1000 + 1, Ordering::Relaxed);
        let mut out = out;
        // a listing of `a/b` also finds `a/bc`: keep the folder's own objects
        out.retain(|l| {
            prefix.is_empty() || l.path == prefix || l.path.starts_with(&format!("{prefix}/"))
        });
        Ok(out)
    }

    fn listed(&self, root: &Path, file: &Path, meta: &std::fs::Metadata) -> Listed {
        Listed {
            path: file
                .strip_prefix(root)
                .unwrap_or(file)
                .to_string_lossy()
                .replace('\\', "/"),
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }

    /// The object at `rel`, if there is one (one HEAD).
    pub fn head(&self, rel: &str) -> Result<Option<Listed>> {
        if let Some(p) = self.local_path(rel) {
            self.count(0, 0);
            return match std::fs::metadata(&p) {
                Ok(m) if m.is_file() => Ok(Some(Listed {
                    path: rel.to_string(),
                    size: m.len(),
                    modified: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                })),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(self.io_err(rel, "reading", e)),
            };
        }
        let key = self.key(rel)?;
        let store = self.inner.clone();
        self.count(0, 0);
        match block_on(async move { store.head(&key).await }) {
            Ok(m) => Ok(Some(Listed {
                path: rel.to_string(),
                size: m.size,
                modified: m.last_modified.into(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.map_err(rel, e)),
        }
    }

    /// Delete objects (up to 8 at a time remotely); local folders left empty are removed up to
    /// (not including) the store root. Missing objects are not an error.
    pub fn delete_many(&self, paths: &[String]) -> Result<()> {
        if let Some(root) = self.local_root.clone() {
            for rel in paths {
                let p = root.join(rel);
                if p.is_dir() {
                    // a folder is not an object (its files are deleted one by one)
                    continue;
                }
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(self.io_err(rel, "deleting", e)),
                }
                self.count(0, 0);
                let mut dir = p.parent().map(Path::to_path_buf);
                while let Some(d) = dir {
                    if d == root || std::fs::remove_dir(&d).is_err() {
                        break;
                    }
                    dir = d.parent().map(Path::to_path_buf);
                }
            }
            return Ok(());
        }
        use futures::TryStreamExt;
        let keys: Vec<(String, object_store::path::Path)> = paths
            .iter()
            .map(|p| Ok((p.clone(), self.key(p)?)))
            .collect::<Result<_>>()?;
        let store = self.inner.clone();
        block_on(async move {
            futures::stream::iter(keys.into_iter().map(Ok))
                .try_for_each_concurrent(8, |(rel, key)| {
                    let store = store.clone();
                    async move {
                        self.count(0, 0);
                        match store.delete(&key).await {
                            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                            Err(e) => Err(self.map_err(&rel, e)),
                        }
                    }
                })
                .await
        })
    }

    /// Delete an object or folder: `rel`, everything under `rel/`, and `rel.manifest.json`.
    pub fn delete_tree(&self, rel: &str) -> Result<()> {
        // a cloud listing of `rel` gives what is under `rel/`, not `rel` itself
        let mut paths: Vec<String> = self.list(rel)?.into_iter().map(|l| l.path).collect();
        paths.push(rel.to_string());
        paths.push(format!("{rel}.manifest.json"));
        paths.sort();
        paths.dedup();
        self.delete_many(&paths)?;
        if let Some(p) = self.local_path(rel) {
            // an empty folder (e.g. a staged directory nothing was written into)
            let _ = std::fs::remove_dir(&p);
        }
        Ok(())
    }

    /// A writer for a new object at `rel`: the final file for a `file` store, a buffered
    /// (multipart above 8 MiB) upload for a cloud store.
    pub fn writer(self: &Arc<Self>, rel: &str, progress: Option<Progress>) -> Result<ObjectWriter> {
        let sink = if let Some(p) = self.local_path(rel) {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| self.io_err(rel, "creating", e))?;
            }
            let f = std::fs::File::create(&p).map_err(|e| self.io_err(rel, "creating", e))?;
            Sink::Local(std::io::BufWriter::with_capacity(1 << 20, f))
        } else {
            let key = self.key(rel)?;
            Sink::Remote(Box::new(object_store::buffered::BufWriter::with_capacity(
                self.inner.clone(),
                key,
                PART,
            )))
        };
        Ok(ObjectWriter {
            store: self.clone(),
            rel: rel.to_string(),
            sink: Some(sink),
            written: 0,
            progress,
            counter: None,
        })
    }

    /// Write a small object in one piece: a plain file write for a `file` store (no staging
    /// file, no rename), one PUT otherwise.
    pub fn put_bytes(&self, rel: &str, data: &[u8]) -> Result<()> {
        if let Some(p) = self.local_path(rel) {
            let write = |p: &Path| std::fs::write(p, data);
            if let Err(e) = write(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(self.io_err(rel, "writing", e));
                }
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| self.io_err(rel, "creating", e))?;
                }
                write(&p).map_err(|e| self.io_err(rel, "writing", e))?;
            }
            self.count(0, data.len() as u64);
            return Ok(());
        }
        self.put_parts(rel, vec![bytes::Bytes::copy_from_slice(data)])
            .map(|_| ())
    }

    /// Copy a local file into the store, streamed (never held whole in memory).
    pub fn put_file(
        self: &Arc<Self>,
        rel: &str,
        src: &Path,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let mut f = std::fs::File::open(src)
            .map_err(|e| Error::new(ErrorCode::Io, format!("opening '{}': {e}", src.display())))?;
        if let Some(dest) = self.local_path(rel) {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| self.io_err(rel, "creating", e))?;
            }
            let n = std::fs::copy(src, &dest).map_err(|e| self.io_err(rel, "writing", e))?;
            self.count(0, n);
            if let Some(p) = &progress {
                p(n);
            }
            return Ok(n);
        }
        let mut w = self.writer(rel, progress)?;
        let mut buf = vec![0u8; PART];
        loop {
            let n = f.read(&mut buf).map_err(|e| {
                Error::new(ErrorCode::Io, format!("reading '{}': {e}", src.display()))
            })?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n])
                .map_err(|e| Error::new(ErrorCode::Store, e.to_string()))?;
        }
        w.finish()
    }

    /// A reader of `rel` from `offset` (ranged reads of 8 MiB for cloud stores).
    pub fn reader(self: &Arc<Self>, rel: &str, offset: u64) -> Result<ObjectReader> {
        let size = self.head(rel)?.ok_or_else(|| self.not_found(rel))?.size;
        let local = match self.local_path(rel) {
            Some(p) => {
                use std::io::Seek;
                let mut f = std::fs::File::open(&p).map_err(|e| self.io_err(rel, "opening", e))?;
                f.seek(std::io::SeekFrom::Start(offset))
                    .map_err(|e| self.io_err(rel, "reading", e))?;
                Some(f)
            }
            None => None,
        };
        Ok(ObjectReader {
            store: self.clone(),
            rel: rel.to_string(),
            size,
            pos: offset.min(size),
            buf: bytes::Bytes::new(),
            local,
        })
    }

    /// Local folder of a `file` store path (created), for writers that need a real directory.
    pub fn local_dir(&self, rel: &str) -> Result<PathBuf> {
        let p = self.local_path(rel).ok_or_else(|| {
            Error::new(
                ErrorCode::Unsupported,
                format!(
                    "store '{}' ({}) is not a local folder: write through a stream or put() instead",
                    self.name(),
                    self.spec.url()
                ),
            )
        })?;
        std::fs::create_dir_all(&p).map_err(|e| self.io_err(rel, "creating", e))?;
        Ok(p)
    }
}

enum Sink {
    Local(std::io::BufWriter<std::fs::File>),
    Remote(Box<object_store::buffered::BufWriter>),
}

/// A new object being written. `finish` completes it; dropping it unfinished abandons it (a
/// cloud upload is aborted; a local file stays, and is removed by whoever owns the path).
pub struct ObjectWriter {
    store: Arc<Store>,
    rel: String,
    sink: Option<Sink>,
    written: u64,
    progress: Option<Progress>,
    /// shared total of a staged insert (all its writers)
    counter: Option<Arc<AtomicU64>>,
}

impl ObjectWriter {
    pub fn path(&self) -> &str {
        &self.rel
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Count the bytes into a shared total too (progress of a staged insert).
    pub fn with_counter(mut self, c: Arc<AtomicU64>) -> Self {
        self.counter = Some(c);
        self
    }

    fn closed() -> std::io::Error {
        std::io::Error::other("the object writer is already finished")
    }

    /// Complete the object; returns its size.
    pub fn finish(mut self) -> Result<u64> {
        let rel = self.rel.clone();
        match self.sink.take() {
            Some(Sink::Local(mut w)) => {
                w.flush()
                    .map_err(|e| self.store.io_err(&rel, "writing", e))?;
            }
            Some(Sink::Remote(mut w)) => {
                use tokio::io::AsyncWriteExt;
                block_on(async { w.shutdown().await })
                    .map_err(|e| self.store.io_err(&rel, "uploading", e))?;
            }
            None => {
                return Err(Error::invalid_arg(format!(
                    "object '{rel}' was already finished"
                )))
            }
        }
        Ok(self.written)
    }
}

impl Write for ObjectWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.sink.as_mut() {
            Some(Sink::Local(w)) => w.write_all(buf)?,
            Some(Sink::Remote(w)) => {
                use tokio::io::AsyncWriteExt;
                block_on(async { w.write_all(buf).await })?
            }
            None => return Err(Self::closed()),
        }
        self.written += buf.len() as u64;
        self.store
            .stats
            .bytes_written
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        let total = match &self.counter {
            Some(c) => c.fetch_add(buf.len() as u64, Ordering::Relaxed) + buf.len() as u64,
            None => self.written,
        };
        if let Some(p) = &self.progress {
            p(total);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::Local(w)) => w.flush(),
            Some(Sink::Remote(_)) => Ok(()),
            None => Err(Self::closed()),
        }
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if let Some(Sink::Remote(mut w)) = self.sink.take() {
            let _ = block_on(async { w.abort().await });
        }
    }
}

/// Sequential reads of one object.
pub struct ObjectReader {
    store: Arc<Store>,
    rel: String,
    size: u64,
    pos: u64,
    buf: bytes::Bytes,
    local: Option<std::fs::File>,
}

impl ObjectReader {
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn position(&self) -> u64 {
        self.pos - self.buf.len() as u64
    }
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if let Some(f) = self.local.as_mut() {
            let n = f.read(out)?;
            self.pos += n as u64;
            self.store
                .stats
                .bytes_read
                .fetch_add(n as u64, Ordering::Relaxed);
            return Ok(n);
        }
        if self.buf.is_empty() {
            if self.pos >= self.size || out.is_empty() {
                return Ok(0);
            }
            let end = (self.pos + PART as u64).min(self.size);
            self.buf = self
                .store
                .get_range(&self.rel, self.pos..end)
                .map_err(|e| std::io::Error::other(e.message))?;
            self.pos = end;
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}
