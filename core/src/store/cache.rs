//! Local download cache for remote objects that are memory-mapped: each object is downloaded
//! once, written under a temporary name and renamed into place when complete, and the folder is
//! kept under a size limit by evicting the least recently used files.

use crate::error::{Error, ErrorCode, Result};
use crate::store::Store;
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            dir: std::env::temp_dir().join("datajoint_mmap"),
            max_bytes: 10 << 30,
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorCode::Io,
        format!("download cache '{}': {e}", path.display()),
    )
}

/// The cached file of an object: its name is a digest of the store URL and the path.
pub fn cached_path(store: &Store, rel: &str, settings: &CacheSettings) -> PathBuf {
    let digest = hex::encode(Md5::digest(
        format!("{}\0{rel}", store.spec.url()).as_bytes(),
    ));
    settings.dir.join(format!("{}.npy", &digest[..24]))
}

/// Return a local file with the object's bytes, downloading it if it is not cached.
pub fn fetch(store: &Store, rel: &str, settings: &CacheSettings) -> Result<PathBuf> {
    let target = cached_path(store, rel, settings);
    if target.is_file() {
        // Objects are immutable (a new token per write): a cached copy stays valid.
        let _ = std::fs::File::options()
            .append(true)
            .open(&target)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(target);
    }
    std::fs::create_dir_all(&settings.dir).map_err(|e| io(&settings.dir, e))?;
    let partial = settings.dir.join(format!(
        ".partial-{}-{}",
        std::process::id(),
        crate::objpath::token(12)
    ));
    let result = store.download_to(rel, &partial);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &target).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        io(&target, e)
    })?;
    evict(settings, &target);
    Ok(target)
}

/// Remove least recently used files until the folder is under its limit (never `keep`).
/// Mapped files stay valid after removal (the mapping keeps the inode alive).
fn evict(settings: &CacheSettings, keep: &Path) {
    let Ok(rd) = std::fs::read_dir(&settings.dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            let name = e.file_name().to_string_lossy().to_string();
            if !(m.is_file() && name.ends_with(".npy")) {
                return None;
            }
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= settings.max_bytes {
            break;
        }
        if path == keep {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}
