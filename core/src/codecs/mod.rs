//! Codec types (`<name>`, `<name@store>`): what a declaration may use, and the codecs this
//! library can store. One codec per file.

pub mod npy;

use crate::error::{Error, ErrorCode, Result};

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
    if name == "npy" {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::Unsupported,
        format!("attribute '{attr}': writing <{name}> values is not supported by this version yet"),
    ))
}
