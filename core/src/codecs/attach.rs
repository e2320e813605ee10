//! `<attach>` / `<attach@store>`: a file kept with its name (datajoint-storage.md §7). The stored
//! bytes are `filename\0content`, in the table (`<attach>`) or hash-addressed in a store
//! (`<attach@>`). A fetch writes the file into the download folder under its name, with the
//! reference's rule for names that are taken (`stem_1.ext`, `stem_2.ext`, …), and returns its
//! local path.

use crate::error::{Error, ErrorCode, Result};
use bytes::Bytes;
use std::path::{Path, PathBuf};

/// A file name as an attachment may carry it: no folders, no `..`, no NUL.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("'{name}' is not a file name"));
    }
    if name.contains(['/', '\\', '\0']) {
        return Err(format!(
            "the attachment name '{}' contains a path separator or a NUL (give a plain file name)",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// The stored parts of an attachment given as a name and its bytes.
pub fn encode(name: &str, content: Bytes) -> std::result::Result<Vec<Bytes>, String> {
    check_name(name)?;
    let mut head = Vec::with_capacity(name.len() + 1);
    head.extend_from_slice(name.as_bytes());
    head.push(0);
    Ok(vec![Bytes::from(head), content])
}

/// The stored parts of an attachment given as a path to a file (read into memory once).
pub fn encode_file(path: &str) -> std::result::Result<Vec<Bytes>, String> {
    let p = Path::new(path);
    let md = std::fs::metadata(p).map_err(|e| format!("attachment file '{path}': {e}"))?;
    if md.is_dir() {
        return Err(format!(
            "'{path}' is a folder; <attach> stores single files (use <object@> for folders)"
        ));
    }
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("attachment file '{path}' has no UTF-8 file name"))?;
    let content = std::fs::read(p).map_err(|e| format!("reading '{path}': {e}"))?;
    encode(name, Bytes::from(content))
}

/// Split stored bytes into the file name and the content (a view, no copy).
pub fn split(stored: &Bytes) -> Result<(String, Bytes)> {
    let nul = stored.iter().position(|&c| c == 0).ok_or_else(|| {
        Error::new(
            ErrorCode::Codec,
            "an attachment has no NUL after its file name",
        )
    })?;
    let name = std::str::from_utf8(&stored[..nul])
        .map_err(|_| Error::new(ErrorCode::Codec, "an attachment's file name is not UTF-8"))?
        .to_string();
    check_name(&name)
        .map_err(|m| Error::new(ErrorCode::Codec, format!("stored attachment: {m}")))?;
    Ok((name, stored.slice(nul + 1..)))
}

/// Write the attachment into `dir` (created if missing): `name` when free or holding the same
/// bytes, else the first of `stem_1.ext`, `stem_2.ext`, … that is free or holds the same bytes.
pub fn save(dir: &Path, name: &str, content: &[u8]) -> Result<PathBuf> {
    let io = |p: &Path, e: std::io::Error| {
        Error::new(ErrorCode::Io, format!("attachment '{}': {e}", p.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let (stem, ext) = stem_and_suffix(name);
    let mut k = 0u64;
    loop {
        let cand = if k == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}_{k}{ext}"))
        };
        match std::fs::metadata(&cand) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // write beside, then rename: a reader never sees half a file
                let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
                std::fs::write(&tmp, content).map_err(|e| io(&tmp, e))?;
                std::fs::rename(&tmp, &cand).map_err(|e| io(&cand, e))?;
                return Ok(cand);
            }
            Err(e) => return Err(io(&cand, e)),
            Ok(md) if md.len() == content.len() as u64 => {
                let existing = std::fs::read(&cand).map_err(|e| io(&cand, e))?;
                if existing == content {
                    return Ok(cand);
                }
            }
            Ok(_) => {}
        }
        k += 1;
    }
}

/// Python's `Path.stem` / `Path.suffix`.
fn stem_and_suffix(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_collisions() {
        assert_eq!(stem_and_suffix("a.tar.gz"), ("a.tar", ".gz"));
        assert_eq!(stem_and_suffix(".bashrc"), (".bashrc", ""));
        assert_eq!(stem_and_suffix("x."), ("x.", ""));
        for bad in ["", "..", "a/b", "../x", "a\\b", "a\0b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let dir = std::env::temp_dir().join(format!("dj-attach-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p1 = save(&dir, "r.txt", b"one").unwrap();
        assert_eq!(p1, dir.join("r.txt"));
        assert_eq!(save(&dir, "r.txt", b"one").unwrap(), p1);
        let p2 = save(&dir, "r.txt", b"two").unwrap();
        assert_eq!(p2, dir.join("r_1.txt"));
        assert_eq!(save(&dir, "r.txt", b"two").unwrap(), p2);
        assert_eq!(save(&dir, "r.txt", b"three").unwrap(), dir.join("r_2.txt"));
        assert_eq!(std::fs::read(&p2).unwrap(), b"two");
        let stored = Bytes::from(
            encode("r.txt", Bytes::from_static(b"abc"))
                .unwrap()
                .concat(),
        );
        assert_eq!(
            split(&stored).unwrap(),
            ("r.txt".to_string(), Bytes::from_static(b"abc"))
        );
        assert!(split(&Bytes::from_static(b"../evil\0x")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
