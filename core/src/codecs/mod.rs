//! Codec types (`<name>`, `<name@store>`): what a declaration may use, and the codecs this
//! library can store. One codec per file.

pub mod attach;
pub mod blob;
pub mod filepath;
pub mod hash;
pub mod npy;
pub mod object;

use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::store::{Store, Stores};
use crate::value::{Column, ColumnData, Elem, VarData};
use bytes::Bytes;
use std::sync::Arc;

/// Codecs of DataJoint 2.x and whether they need a store (`@`).
const KNOWN: [(&str, bool); 6] = [
    ("blob", false),
    ("attach", false),
    ("hash", true),
    ("npy", true),
    ("object", true),
    ("filepath", true),
];

/// Check a codec type in a definition: known name; `@` present where the codec needs a store.
pub fn check_declared(name: &str, store: Option<&str>) -> Result<()> {
    let Some((_, needs_store)) = KNOWN.iter().find(|(n, _)| *n == name) else {
        return Err(Error::definition(format!(
            "unknown codec <{name}> (known: <blob>, <attach>, <hash@>, <npy@>, <object@>, <filepath@>)"
        )));
    };
    if *needs_store && store.is_none() {
        return Err(Error::definition(format!(
            "<{name}> stores its values in an object store: write <{name}@> (default store) or <{name}@store>"
        )));
    }
    Ok(())
}

/// Whether values of this codec can be written by this version.
pub fn check_writable(name: &str, attr: &str) -> Result<()> {
    if matches!(
        name,
        "npy" | "blob" | "attach" | "hash" | "object" | "filepath"
    ) {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::Unsupported,
        format!("attribute '{attr}': writing <{name}> values is not supported by this version"),
    ))
}

/// What an insert stores for one value of a hash-codec or in-table codec attribute.
pub enum Encoded {
    /// bytes for the table's own column (`<blob>`, `<attach>`)
    InTable(Bytes),
    /// a hash-addressed object; its JSON goes in the column (`<blob@>`, `<attach@>`, `<hash@>`)
    Hashed(hash::Prepared),
}

/// Encode one non-NULL value of a `<blob>`, `<attach>` or `<hash@>` attribute (`store` is the
/// attribute's store, connected, when it has one). The message names no row: the caller adds it.
pub fn encode(
    attr: &Attribute,
    store: Option<&Arc<Store>>,
    schema: &str,
    e: &Elem,
) -> std::result::Result<Encoded, String> {
    let name = attr.ty.codec_name().unwrap_or_default();
    let parts: Vec<Bytes> = match (name, e) {
        ("blob", e) => vec![blob::encode(e)?],
        ("attach", Elem::Str(path)) => attach::encode_file(path)?,
        ("attach", Elem::Attach(n, data)) => attach::encode(n, (*data).clone())?,
        ("attach", other) => {
            return Err(format!(
                "expects a file path or a (name, bytes) attachment, got {}",
                other_kind(other)
            ))
        }
        ("hash", Elem::Bytes(b)) => vec![Bytes::copy_from_slice(b)],
        ("hash", other) => return Err(format!("expects bytes, got {}", other_kind(other))),
        (other, _) => return Err(format!("<{other}> is not a hash or in-table codec")),
    };
    Ok(match store {
        Some(s) => Encoded::Hashed(hash::prepare(s, schema, parts).map_err(|e| e.message)?),
        None if parts.len() == 1 => Encoded::InTable(parts.into_iter().next().unwrap_or_default()),
        None => Encoded::InTable(Bytes::from(parts.concat())),
    })
}

/// `f` over `items` on up to 8 threads (packing, hashing and decoding are CPU work); results in
/// input order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// [`encode`] for many values, in parallel; results in input order.
pub fn encode_all(
    attr: &Attribute,
    store: Option<&Arc<Store>>,
    schema: &str,
    elems: &[Elem],
) -> Vec<std::result::Result<Encoded, String>> {
    par_map(elems, |e| encode(attr, store, schema, e))
}

/// `{"name", "size", "hash"}` of each attachment: in-table ones from their bytes, stored ones
/// from the column's metadata plus the file name at the object's start (a ranged read).
fn attachment_info(attr: &Attribute, col: Column, ctx: &DecodeContext) -> Result<Column> {
    let err = |row: usize, m: String| {
        Error::new(
            ErrorCode::Codec,
            format!(
                "table {}, attribute '{}', row {row}: {m}",
                ctx.table, attr.name
            ),
        )
    };
    let mut out = VarData::with_capacity(col.len(), 0);
    for i in 0..col.len() {
        if col.is_null(i) {
            out.push(b"");
            continue;
        }
        let info = match &col.data {
            ColumnData::Bytes(v) => {
                let (name, content) = attach::split(&Bytes::copy_from_slice(v.get(i)))
                    .map_err(|e| err(i, e.message))?;
                serde_json::json!({"name": name, "size": content.len(), "hash": null})
            }
            ColumnData::Json(v) => {
                let m = hash::HashMeta::from_json(v.get_str(i)).map_err(|e| err(i, e.message))?;
                let store = ctx.stores.get(&m.store).map_err(|e| err(i, e.message))?;
                // a file name is at most a few hundred bytes; read more only if needed
                let mut head = Bytes::new();
                for len in [1024u64, 65536, m.size] {
                    head = store
                        .get_range(&m.path, 0..len.min(m.size))
                        .map_err(|e| err(i, e.message))?;
                    if head.contains(&0) || len >= m.size {
                        break;
                    }
                }
                let (name, _) = attach::split(&head).map_err(|e| err(i, e.message))?;
                let size = m.size.saturating_sub(name.len() as u64 + 1);
                serde_json::json!({"name": name, "size": size, "hash": m.hash})
            }
            other => {
                return Err(Error::internal(format!(
                    "attribute '{}': a {} column for <attach>",
                    attr.name,
                    other.kind().name()
                )))
            }
        };
        out.push(info.to_string().as_bytes());
    }
    Ok(Column {
        data: ColumnData::String(out),
        validity: col.validity,
    })
}

pub(crate) fn other_kind(e: &Elem) -> &'static str {
    match e {
        Elem::Str(_) | Elem::Json(_) | Elem::Decimal(_) => "text",
        Elem::Bytes(_) => "bytes",
        Elem::Array(_) => "an array",
        Elem::Blob(_) => "a value tree",
        Elem::Attach(..) => "an attachment",
        _ => "a scalar",
    }
}

/// Where fetched attachments are written.
#[derive(Debug, Clone)]
pub struct DecodeContext<'a> {
    pub stores: &'a Stores,
    pub download_path: std::path::PathBuf,
    /// the table, for messages
    pub table: &'a str,
    /// attachments as `{"name", "size", "hash"}` without a download
    pub attachment_info: bool,
}

/// Decode a fetched column of a `<blob>`, `<attach>` or hash-codec attribute into what a fetch
/// returns ([`crate::types::AttrType::result_kind`]): value trees, bytes, or attachment paths.
/// Objects are read up to 8 at a time and their hashes checked. Other columns pass through.
pub fn decode_column(attr: &Attribute, col: Column, ctx: &DecodeContext) -> Result<Column> {
    let Some(name) = attr.ty.codec_name() else {
        return Ok(col);
    };
    if !matches!(name, "blob" | "attach" | "hash") {
        return Ok(col);
    }
    let n = col.len();
    if name == "attach" && ctx.attachment_info {
        return attachment_info(attr, col, ctx);
    }
    let err = |row: usize, m: String| {
        Error::new(
            ErrorCode::Codec,
            format!(
                "table {}, attribute '{}' ({}), row {row}: {m}",
                ctx.table, attr.name, attr.declared_type
            ),
        )
    };
    let Column { data, validity } = col;
    let present = |i: usize| validity.as_ref().is_none_or(|v| v[i] != 0);
    // the stored bytes of every present row
    let mut stored: Vec<Option<Bytes>> = vec![None; n];
    match data {
        ColumnData::Bytes(v) => {
            let offsets = v.offsets;
            let all = Bytes::from(v.bytes);
            for (i, s) in stored.iter_mut().enumerate() {
                if present(i) {
                    *s = Some(all.slice(offsets[i] as usize..offsets[i + 1] as usize));
                }
            }
        }
        ColumnData::Json(v) => {
            let mut metas = Vec::new();
            let mut jobs = Vec::new();
            for i in (0..n).filter(|&i| present(i)) {
                let m = hash::HashMeta::from_json(v.get_str(i)).map_err(|e| err(i, e.message))?;
                jobs.push((
                    ctx.stores.get(&m.store).map_err(|e| err(i, e.message))?,
                    m.path.clone(),
                ));
                metas.push((i, m));
            }
            let got = Store::get_all(jobs).map_err(|e| {
                let row = metas.first().map_or(0, |(i, _)| *i);
                if e.code == ErrorCode::NotFound {
                    Error::new(
                        ErrorCode::NotFound,
                        format!(
                            "table {}, attribute '{}': {}",
                            ctx.table, attr.name, e.message
                        ),
                    )
                } else {
                    err(row, e.message)
                }
            })?;
            let sums = par_map(&got, |b| hash::content_hash(b));
            for (((i, m), b), h) in metas.into_iter().zip(got).zip(sums) {
                if h != m.hash {
                    return Err(err(
                        i,
                        format!(
                            "hash mismatch: the object '{}' hashes to {h}, the row says {}",
                            m.path, m.hash
                        ),
                    ));
                }
                stored[i] = Some(b);
            }
        }
        other => {
            return Err(Error::internal(format!(
                "attribute '{}': a {} column for a codec",
                attr.name,
                other.kind().name()
            )))
        }
    }
    let data = match name {
        "blob" => {
            let indexed: Vec<(usize, Option<Bytes>)> = stored.into_iter().enumerate().collect();
            ColumnData::Blob(
                par_map(&indexed, |(i, b)| match b {
                    None => Ok(Arc::new(crate::blob::BlobValue::None)),
                    Some(b) => crate::blob::unpack(b.clone())
                        .map(Arc::new)
                        .map_err(|m| err(*i, m)),
                })
                .into_iter()
                .collect::<Result<_>>()?,
            )
        }
        "hash" => {
            let mut v = VarData::with_capacity(n, 0);
            for b in &stored {
                v.push(b.as_deref().unwrap_or_default());
            }
            ColumnData::Bytes(v)
        }
        _ => {
            let mut v = VarData::with_capacity(n, 0);
            for (i, b) in stored.iter().enumerate() {
                match b {
                    None => v.push(b""),
                    Some(b) => {
                        let (fname, content) = attach::split(b).map_err(|e| err(i, e.message))?;
                        let p = attach::save(&ctx.download_path, &fname, &content)
                            .map_err(|e| err(i, e.message))?;
                        v.push(p.to_string_lossy().as_bytes());
                    }
                }
            }
            ColumnData::String(v)
        }
    };
    Ok(Column { data, validity })
}
