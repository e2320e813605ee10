//! `<hash@store>`: content-addressed objects (datajoint-storage.md §4). The object's name is the
//! MD5 of its bytes in lowercase unpadded base32 (26 characters), at
//! `{hash_prefix}/{schema}/[subfolds/]{hash}`; the column holds
//! `{"hash", "path", "schema", "store", "size"}`. `<blob@>` and `<attach@>` store through here.
//! Objects are shared by every row of a schema with the same bytes (deduplication).

use crate::error::{Error, ErrorCode, Result};
use crate::store::{Store, StoreSpec, Stores};
use bytes::Bytes;
use md5::{Digest, Md5};
use serde_json::json;

/// The column's JSON metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashMeta {
    pub hash: String,
    pub path: String,
    pub schema: String,
    pub store: String,
    pub size: u64,
}

impl HashMeta {
    pub fn from_json(text: &str) -> Result<HashMeta> {
        let bad = |m: &str| Error::new(ErrorCode::Codec, format!("hash metadata {m}: {text}"));
        let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("is not JSON"))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Ok(HashMeta {
            hash: s("hash").ok_or_else(|| bad("has no 'hash'"))?,
            path: s("path").ok_or_else(|| bad("has no 'path'"))?,
            schema: s("schema").unwrap_or_default(),
            // a null store means the default store (the reference's reading)
            store: s("store").unwrap_or_default(),
            size: v
                .get("size")
                .and_then(|x| x.as_u64())
                .ok_or_else(|| bad("has no 'size'"))?,
        })
    }

    /// The reference's key order: hash, path, schema, store, size.
    pub fn to_json(&self) -> String {
        json!({"hash": self.hash, "path": self.path, "schema": self.schema,
               "store": self.store, "size": self.size})
        .to_string()
    }
}

/// MD5 of `bytes` as lowercase unpadded RFC 4648 base32.
pub fn content_hash(bytes: &[u8]) -> String {
    encode_digest(&Md5::digest(bytes))
}

/// The same over several parts (no concatenation).
pub fn content_hash_parts(parts: &[&[u8]]) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    encode_digest(&h.finalize())
}

fn encode_digest(d: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, d).to_ascii_lowercase()
}

/// `{hash_prefix}/{schema}/[h[0:a]/h[a:a+b]/…/]{hash}`; rejects anything but 26 base32 letters.
pub fn hash_path(spec: &StoreSpec, schema: &str, hash: &str) -> Result<String> {
    if hash.len() != 26 || !hash.bytes().all(|c| matches!(c, b'a'..=b'z' | b'2'..=b'7')) {
        return Err(Error::new(
            ErrorCode::Codec,
            format!("'{hash}' is not a content hash (26 lowercase base32 characters)"),
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    if !spec.hash_prefix.is_empty() {
        parts.push(&spec.hash_prefix);
    }
    parts.push(schema);
    let mut at = 0;
    for &n in spec.subfolding.iter().flatten() {
        let end = (at + n).min(hash.len());
        parts.push(&hash[at..end]);
        at = end;
    }
    parts.push(hash);
    Ok(parts.join("/"))
}

/// One object to store: its metadata and its bytes (in parts, not concatenated).
pub struct Prepared {
    pub meta: HashMeta,
    pub parts: Vec<Bytes>,
}

/// Hash the bytes and build the metadata for `store` and `schema`.
pub fn prepare(store: &Store, schema: &str, parts: Vec<Bytes>) -> Result<Prepared> {
    let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
    let hash = content_hash_parts(&refs);
    let path = hash_path(&store.spec, schema, &hash)?;
    Ok(Prepared {
        meta: HashMeta {
            hash,
            path,
            schema: schema.to_string(),
            store: store.name().to_string(),
            size: parts.iter().map(|p| p.len() as u64).sum(),
        },
        parts,
    })
}

/// Whether the object exists (deduplication: an existing object is not uploaded again).
pub fn exists(store: &Store, path: &str) -> Result<bool> {
    match store.size(path) {
        Ok(_) => Ok(true),
        Err(e) if e.code == ErrorCode::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Read an object by its stored `path` and check its hash.
pub fn get(stores: &Stores, meta: &HashMeta) -> Result<Bytes> {
    let store = stores.get(&meta.store)?;
    let b = store.get(&meta.path).map_err(|e| {
        if e.code == ErrorCode::NotFound {
            Error::new(
                ErrorCode::NotFound,
                format!(
                    "the object '{}' is missing from store '{}'",
                    meta.path,
                    store.name()
                ),
            )
        } else {
            e
        }
    })?;
    let got = content_hash(&b);
    if got != meta.hash {
        return Err(Error::new(
            ErrorCode::Codec,
            format!(
                "hash mismatch: the object '{}' in store '{}' hashes to {got}, the row says {}",
                meta.path,
                store.name(),
                meta.hash
            ),
        ));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_paths_match_the_reference() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(content_hash(b""), "2qoyzwmpaczaj2mabgmoz6ccpy");
        assert_eq!(content_hash(b"hello"), content_hash_parts(&[b"he", b"llo"]));
        let mut spec = StoreSpec::parse(
            "main",
            &serde_json::json!({"protocol": "file", "location": "/tmp"}),
        )
        .unwrap();
        let h = "ao2emszparpbfg3aipehtlao7u";
        assert_eq!(
            hash_path(&spec, "djexp", h).unwrap(),
            "_hash/djexp/ao2emszparpbfg3aipehtlao7u"
        );
        spec.hash_prefix = "_h2".into();
        spec.subfolding = Some(vec![2, 2]);
        assert_eq!(
            hash_path(&spec, "djexp", "epmvyxcfkzgk3wah3ilbrw3aam").unwrap(),
            "_h2/djexp/ep/mv/epmvyxcfkzgk3wah3ilbrw3aam"
        );
        spec.hash_prefix = String::new();
        spec.subfolding = None;
        assert_eq!(hash_path(&spec, "s", h).unwrap(), format!("s/{h}"));
        for bad in [
            "",
            "ABC",
            "ao2emszparpbfg3aipehtlao7",
            "ao2emszparpbfg3aipehtlao71",
        ] {
            assert!(hash_path(&spec, "s", bad).is_err(), "{bad}");
        }
        let m = HashMeta {
            hash: h.into(),
            path: format!("_hash/djexp/{h}"),
            schema: "djexp".into(),
            store: "main".into(),
            size: 53,
        };
        assert_eq!(
            m.to_json(),
            r#"{"hash":"ao2emszparpbfg3aipehtlao7u","path":"_hash/djexp/ao2emszparpbfg3aipehtlao7u","schema":"djexp","store":"main","size":53}"#
        );
        assert_eq!(HashMeta::from_json(&m.to_json()).unwrap(), m);
    }
}
