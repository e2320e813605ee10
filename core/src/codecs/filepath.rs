//! `<filepath@store>`: a reference to a file or folder that already lives in the store
//! (datajoint-storage.md §5.3). The column holds `{path, store, size, is_dir, timestamp}`
//! (`size` null for folders). DataJoint never writes or deletes these files.

use super::object::{check_relative, now_iso, ObjectMeta};
use crate::error::{Error, ErrorCode, Result};
use crate::store::Store;

/// Check a `<filepath@>` value and describe it: a relative path inside the store, outside the
/// store's managed sections, under `filepath_prefix` when one is set, that exists (and, for a
/// `file` store, does not leave the store's folder through a symbolic link).
pub fn describe(store: &Store, path: &str) -> Result<ObjectMeta> {
    let bad = |m: String| Error::invalid_arg(format!("<filepath@{}> '{path}': {m}", store.name()));
    check_relative(path, "<filepath@> path").map_err(|e| bad(e.message))?;
    let spec = &store.spec;
    for (what, prefix) in [
        ("hash_prefix", &spec.hash_prefix),
        ("schema_prefix", &spec.schema_prefix),
    ] {
        if !prefix.is_empty() && path.starts_with(&format!("{prefix}/")) {
            return Err(bad(format!(
                "'{prefix}' ({what}) is managed by DataJoint and cannot be referenced"
            )));
        }
    }
    if let Some(fp) = spec.filepath_prefix.as_ref().filter(|p| !p.is_empty()) {
        if !path.starts_with(&format!("{fp}/")) {
            return Err(bad(format!("must be under '{fp}/' (filepath_prefix)")));
        }
    }
    if let (Some(local), Some(root)) = (store.local_path(path), store.local_path("")) {
        let real = local.canonicalize().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::new(
                    ErrorCode::NotFound,
                    format!(
                        "<filepath@{}>: '{path}' does not exist in the store",
                        store.name()
                    ),
                )
            } else {
                bad(e.to_string())
            }
        })?;
        let root = root.canonicalize().unwrap_or(root);
        if !real.starts_with(&root) {
            return Err(bad("leads out of the store's folder (symbolic link)".into()));
        }
    }
    let (size, is_dir) = match store.head(path)? {
        Some(h) => (Some(h.size), false),
        None if !store.list(path)?.is_empty() => (None, true),
        None => {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "<filepath@{}>: '{path}' does not exist in the store",
                    store.name()
                ),
            ))
        }
    };
    Ok(ObjectMeta {
        path: path.to_string(),
        store: store.name().to_string(),
        size,
        ext: None,
        is_dir,
        item_count: None,
        timestamp: Some(now_iso()),
        hash: None,
    })
}
