//! Garbage collection of a schema's stored objects (datajoint-storage.md §4.4, §5.4): objects
//! under the schema's hash-addressed and schema-addressed prefixes that no row references —
//! left by crashed writers, failed inserts, or the reference's deletes — are removed.
//!
//! Everything is listed first; a listing error stops the collection before anything is
//! deleted. The references are then read and the orphans deleted under the schema's object
//! lock, so an insert that reuses a hash object either commits before (and keeps it) or finds
//! it gone and uploads it again. Objects younger than the grace period are never touched: an
//! upload or staged insert in progress in another process has not committed its row yet.

use crate::error::Result;
use crate::schema::Schema;
use crate::store::tree::Listed;
use crate::store::Store;
use crate::types::AttrType;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Options of a collection.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Only this store (None: every store the schema's attributes and rows name).
    pub store: Option<String>,
    /// Report what would be deleted, delete nothing.
    pub dry_run: bool,
    /// Objects modified more recently than this are kept (default one hour).
    pub grace: Duration,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            store: None,
            dry_run: false,
            grace: Duration::from_secs(3600),
        }
    }
}

/// What a collection found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcStats {
    /// stores scanned
    pub stores: Vec<String>,
    /// hash-addressed objects found under `hash_prefix/schema/`
    pub hash_objects: u64,
    /// schema-addressed objects found under `schema_prefix/…/schema/`
    pub schema_objects: u64,
    /// values in the schema's rows that point to objects
    pub references: u64,
    pub orphaned_hash: u64,
    pub orphaned_schema: u64,
    pub orphaned_bytes: u64,
    /// orphans kept because they are younger than the grace period
    pub young: u64,
    pub deleted: u64,
    pub bytes_freed: u64,
    pub dry_run: bool,
    /// object-store requests made
    pub requests: u64,
}

fn is_hash_name(name: &str) -> bool {
    name.len() == 26
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Whether a path lies under `schema` in a schema-addressed layout: after the prefix, any
/// partition segments `attr=value`, then the schema's own segment.
fn in_schema(rest: &str, schema: &str) -> bool {
    let mut segs = rest.split('/');
    for s in segs.by_ref() {
        if s == schema {
            return true;
        }
        if !s.contains('=') {
            return false;
        }
    }
    false
}

/// The stored objects of a schema in one store: (hash-addressed, schema-addressed).
fn list_store(store: &Store, schema: &str) -> Result<(Vec<Listed>, Vec<Listed>)> {
    let spec = &store.spec;
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    let hashed: Vec<Listed> = store
        .list(&join(&spec.hash_prefix, schema))?
        .into_iter()
        .filter(|l| is_hash_name(l.path.rsplit('/').next().unwrap_or("")))
        .collect();
    let schema_addressed = if spec.partition_pattern.is_some() && !spec.schema_prefix.is_empty() {
        // partition segments come before the schema: list the prefix and keep this schema's
        let strip = format!("{}/", spec.schema_prefix);
        store
            .list(&spec.schema_prefix)?
            .into_iter()
            .filter(|l| {
                l.path
                    .strip_prefix(&strip)
                    .is_some_and(|r| in_schema(r, schema))
            })
            .collect()
    } else {
        store.list(&join(&spec.schema_prefix, schema))?
    };
    Ok((hashed, schema_addressed))
}

/// Collect the orphans of `schema` (see the module documentation).
pub fn collect(schema: &Schema, opts: &GcOptions) -> Result<GcStats> {
    let conn = schema.conn.clone();
    let stores = conn.stores.clone();
    let name = schema.name().to_string();
    // the stores to scan: the one asked for, or those the schema's attributes name
    let mut store_names: Vec<String> = match &opts.store {
        Some(s) => vec![stores.resolve_name(s)?],
        None => {
            let mut v = Vec::new();
            for t in schema.list_tables()? {
                let t = schema.table(&t)?;
                for a in &t.heading().attributes {
                    if let AttrType::Codec {
                        name: codec,
                        store: Some(s),
                    } = &a.ty
                    {
                        if codec != "filepath" {
                            v.push(stores.resolve_name(s)?);
                        }
                    }
                }
            }
            v
        }
    };
    store_names.sort();
    store_names.dedup();
    let connected: Vec<Arc<Store>> = store_names
        .iter()
        .map(|s| stores.get(s))
        .collect::<Result<_>>()?;
    let before: u64 = connected.iter().map(|s| s.stats.snapshot().0).sum();
    let mut stats = GcStats {
        stores: store_names.clone(),
        dry_run: opts.dry_run,
        ..Default::default()
    };
    // 1. list everything (any error: nothing is deleted)
    let mut listed = Vec::new();
    for s in &connected {
        let (h, sa) = list_store(s, &name)?;
        stats.hash_objects += h.len() as u64;
        stats.schema_objects += sa.len() as u64;
        listed.push((s.clone(), h, sa));
    }
    let cutoff = SystemTime::now()
        .checked_sub(opts.grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // 2. under the object lock: read the references, delete what none covers
    let outcome = conn.with(|db| {
        db.with_object_lock(&name, |db| {
            let refs = db.object_references(&name)?;
            // store name ("" = any store) -> paths
            let mut hashed: HashMap<String, HashSet<String>> = HashMap::new();
            let mut addressed: HashMap<String, HashSet<String>> = HashMap::new();
            let mut n = 0u64;
            for (is_hash, j) in &refs {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(j) else {
                    continue;
                };
                let (Some(path), store) = (
                    v.get("path").and_then(|p| p.as_str()),
                    v.get("store").and_then(|p| p.as_str()).unwrap_or(""),
                ) else {
                    continue;
                };
                n += 1;
                let store = if store.is_empty() {
                    String::new()
                } else {
                    stores
                        .resolve_name(store)
                        .unwrap_or_else(|_| store.to_string())
                };
                let map = if *is_hash {
                    &mut hashed
                } else {
                    &mut addressed
                };
                map.entry(store).or_default().insert(path.to_string());
            }
            let mut out = (n, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
            for (store, h, sa) in &listed {
                let sname = store.name().to_string();
                let has = |m: &HashMap<String, HashSet<String>>, p: &str| {
                    [sname.as_str(), ""]
                        .iter()
                        .any(|k| m.get(*k).is_some_and(|s| s.contains(p)))
                };
                let covered = |p: &str| {
                    if has(&addressed, p) {
                        return true;
                    }
                    // a file of a referenced folder, or a folder's manifest
                    if let Some(base) = p.strip_suffix(".manifest.json") {
                        if has(&addressed, base) {
                            return true;
                        }
                    }
                    let mut cur = p;
                    while let Some((parent, _)) = cur.rsplit_once('/') {
                        if has(&addressed, parent) {
                            return true;
                        }
                        cur = parent;
                    }
                    false
                };
                let mut doomed = Vec::new();
                for (l, is_hash) in h
                    .iter()
                    .map(|l| (l, true))
                    .chain(sa.iter().map(|l| (l, false)))
                {
                    let referenced = if is_hash {
                        has(&hashed, &l.path)
                    } else {
                        covered(&l.path)
                    };
                    if referenced {
                        continue;
                    }
                    if l.modified > cutoff {
                        out.5 += 1;
                        continue;
                    }
                    if is_hash {
                        out.1 += 1;
                    } else {
                        out.2 += 1;
                    }
                    out.3 += l.size;
                    doomed.push(l);
                }
                if !opts.dry_run && !doomed.is_empty() {
                    let paths: Vec<String> = doomed.iter().map(|l| l.path.clone()).collect();
                    store.delete_many(&paths)?;
                    out.4 += doomed.len() as u64;
                    out.6 += doomed.iter().map(|l| l.size).sum::<u64>();
                }
            }
            Ok(out)
        })
    })?;
    stats.references = outcome.0;
    stats.orphaned_hash = outcome.1;
    stats.orphaned_schema = outcome.2;
    stats.orphaned_bytes = outcome.3;
    stats.deleted = outcome.4;
    stats.young = outcome.5;
    stats.bytes_freed = outcome.6;
    let after: u64 = connected.iter().map(|s| s.stats.snapshot().0).sum();
    stats.requests = after - before;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_layouts() {
        assert!(is_hash_name("abcdefghijklmnopqrstuvwxyz"));
        assert!(is_hash_name("a2345672345672345672345672"));
        assert!(!is_hash_name("abcdefghijklmnopqrstuvwxy1"));
        assert!(!is_hash_name("short"));
        assert!(in_schema("djexp/rec/x", "djexp"));
        assert!(in_schema("subject_id=1/djexp/rec/x", "djexp"));
        assert!(!in_schema("other/djexp/x", "djexp"));
    }
}
