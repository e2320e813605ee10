//! Schema-addressed object paths (datajoint-storage.md §5.1):
//! `[schema_prefix/][pattr=v/…]schema/table/pk1=v1/…/field_token.ext`.

use crate::store::StoreSpec;
use crate::types::{AttrType, CoreType};
use crate::value::{format_date, Value};
use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Python's `quote(s, safe="")`: everything but letters, digits and `_.-~` is encoded.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

const TOKEN_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random token of `len` symbols from `A–Z a–z 0–9 - _`.
pub fn token(len: usize) -> String {
    let mut buf = vec![0u8; len];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to a time-seeded mix (tokens only need to be unlikely to clash).
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    buf.iter()
        .map(|b| TOKEN_ALPHABET[(b & 63) as usize] as char)
        .collect()
}

/// Python's `repr(float)` (what `str()` gives for a float key value).
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust prints 1e20 / 1.5e-7; Python prints 1e+20 / 1.5e-07.
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{m}e{sign}{digits:0>2}");
    }
    let s = format!("{f:?}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// How the reference renders a primary-key value in a path segment.
pub fn encode_pk_value(ty: &AttrType, v: &Value) -> String {
    let text = match v {
        Value::Null => "None".to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Int(i) => {
            if matches!(ty, AttrType::Core(CoreType::Bool)) {
                if *i != 0 { "True" } else { "False" }.to_string()
            } else {
                i.to_string()
            }
        }
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => python_float(*f),
        Value::Date(d) => format_date(*d),
        Value::Datetime(us) => match chrono::DateTime::from_timestamp_micros(*us) {
            Some(dt) => dt.naive_utc().format("%Y-%m-%dT%H-%M-%S").to_string(),
            None => us.to_string(),
        },
        Value::Uuid(u) => uuid::Uuid::from_bytes(*u).to_string(),
        Value::String(s) | Value::Decimal(s) | Value::Json(s) => s.clone(),
        Value::Bytes(b) => hex::encode(b),
        Value::Array(_) | Value::Blob(_) | Value::Attach(_) => v.kind_name().to_string(),
    };
    if matches!(v, Value::String(_)) {
        return encode_string(&text);
    }
    text
}

fn encode_string(s: &str) -> String {
    let unsafe_chars = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];
    let long = s.chars().count() > 100;
    if !long && !s.contains(unsafe_chars) {
        return s.to_string();
    }
    let s = if long {
        let head: String = s.chars().take(50).collect();
        let digest = hex::encode(Md5::digest(s.as_bytes()));
        format!("{head}_{}", &digest[..8])
    } else {
        s.to_string()
    };
    utf8_percent_encode(&s, QUOTE).to_string()
}

/// Placeholders `{attr}` of a partition pattern, in order.
fn pattern_attrs(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            out.push(name.to_string());
        }
        rest = &after[close + 1..];
    }
    out
}

/// Build the relative object path for one value. `key` holds the row's primary-key attributes
/// in key order: (name, type, value).
pub fn build_object_path(
    spec: &StoreSpec,
    schema: &str,
    table: &str,
    key: &[(String, AttrType, Value)],
    field: &str,
    ext: &str,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !spec.schema_prefix.is_empty() {
        parts.push(spec.schema_prefix.clone());
    }
    let mut remaining: Vec<&(String, AttrType, Value)> = key.iter().collect();
    if let Some(pattern) = &spec.partition_pattern {
        for attr in pattern_attrs(pattern) {
            if let Some(pos) = remaining.iter().position(|(n, _, _)| *n == attr) {
                let (n, t, v) = remaining.remove(pos);
                parts.push(format!("{n}={}", encode_pk_value(t, v)));
            }
        }
    }
    parts.push(schema.to_string());
    parts.push(table.to_string());
    for (n, t, v) in remaining {
        parts.push(format!("{n}={}", encode_pk_value(t, v)));
    }
    parts.push(format!("{field}_{}{ext}", token(spec.token_length)));
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn int() -> AttrType {
        AttrType::Core(CoreType::Int32)
    }
    fn text() -> AttrType {
        AttrType::Core(CoreType::Varchar(200))
    }

    #[test]
    fn paths_follow_the_reference_layout() {
        let spec =
            StoreSpec::parse("main", &json!({"protocol": "file", "location": "/tmp"})).unwrap();
        let key = vec![
            ("subject_id".to_string(), int(), Value::Int(1)),
            ("rec_id".to_string(), int(), Value::Int(7)),
        ];
        let p = build_object_path(&spec, "djexp", "rec", &key, "n", ".npy");
        assert!(
            p.starts_with("_schema/djexp/rec/subject_id=1/rec_id=7/n_"),
            "{p}"
        );
        assert!(p.ends_with(".npy"));
        assert_eq!(
            p.len(),
            "_schema/djexp/rec/subject_id=1/rec_id=7/n_".len() + 8 + 4
        );
        let part = StoreSpec::parse(
            "s2",
            &json!({"protocol": "file", "location": "/tmp", "schema_prefix": "_s2", "partition_pattern": "{subject_id}/{nope}", "token_length": 4}),
        )
        .unwrap();
        let p = build_object_path(&part, "djexp", "rec", &key, "n", ".npy");
        assert!(
            p.starts_with("_s2/subject_id=1/djexp/rec/rec_id=7/n_"),
            "{p}"
        );
        let flat = StoreSpec::parse(
            "f",
            &json!({"protocol": "file", "location": "/tmp", "schema_prefix": ""}),
        )
        .unwrap();
        assert!(build_object_path(&flat, "s", "#t", &key, "x", ".npy").starts_with("s/#t/"));
    }

    #[test]
    fn key_values_are_rendered_like_python() {
        assert_eq!(
            encode_pk_value(&text(), &Value::String("a/b c".into())),
            "a%2Fb%20c"
        );
        assert_eq!(
            encode_pk_value(&text(), &Value::String("a/b:c".into())),
            "a%2Fb%3Ac"
        );
        assert_eq!(
            encode_pk_value(&text(), &Value::String("plain name".into())),
            "plain name"
        );
        let long = "x".repeat(120);
        assert_eq!(
            encode_pk_value(&text(), &Value::String(long)),
            format!("{}_fb98667f", "x".repeat(50))
        );
        assert_eq!(python_float(1.5), "1.5");
        assert_eq!(python_float(2.0), "2.0");
        assert_eq!(python_float(1e20), "1e+20");
        assert_eq!(python_float(1.5e-7), "1.5e-07");
        let dt = crate::value::parse_datetime("2024-01-02 03:04:05.678").unwrap();
        assert_eq!(
            encode_pk_value(
                &AttrType::Core(CoreType::Datetime(Some(3))),
                &Value::Datetime(dt)
            ),
            "2024-01-02T03-04-05"
        );
        assert_eq!(
            encode_pk_value(&AttrType::Core(CoreType::Date), &Value::Date(0)),
            "1970-01-01"
        );
        assert_eq!(token(8).len(), 8);
        assert!(token(16).bytes().all(|b| TOKEN_ALPHABET.contains(&b)));
    }
}
