//! The NumPy `.npy` format (versions 1.0, 2.0 and 3.0): dtypes, header writing and parsing.
//! Files written here are byte-identical in layout to `numpy.save(allow_pickle=False)`.

use crate::error::{Error, ErrorCode, Result};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Element types of `<npy@>` arrays (numpy's names as in `str(dtype)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float16,
    Float32,
    Float64,
    Complex64,
    Complex128,
    /// fixed-width bytes `|S<n>`
    Bytes(u32),
    /// fixed-width UTF-32 text `<U<n>` (n characters, 4 bytes each)
    Unicode(u32),
}

impl Dtype {
    /// numpy's `str(dtype)`: `float64`, `bool`, `|S10`, `<U10`.
    pub fn name(&self) -> String {
        match self {
            Dtype::Bool => "bool".into(),
            Dtype::Int8 => "int8".into(),
            Dtype::Int16 => "int16".into(),
            Dtype::Int32 => "int32".into(),
            Dtype::Int64 => "int64".into(),
            Dtype::Uint8 => "uint8".into(),
            Dtype::Uint16 => "uint16".into(),
            Dtype::Uint32 => "uint32".into(),
            Dtype::Uint64 => "uint64".into(),
            Dtype::Float16 => "float16".into(),
            Dtype::Float32 => "float32".into(),
            Dtype::Float64 => "float64".into(),
            Dtype::Complex64 => "complex64".into(),
            Dtype::Complex128 => "complex128".into(),
            Dtype::Bytes(n) => format!("|S{n}"),
            Dtype::Unicode(n) => format!("<U{n}"),
        }
    }

    /// Parse numpy's dtype name (as stored in the column JSON).
    pub fn from_name(s: &str) -> Option<Dtype> {
        Some(match s {
            "bool" => Dtype::Bool,
            "int8" => Dtype::Int8,
            "int16" => Dtype::Int16,
            "int32" => Dtype::Int32,
            "int64" => Dtype::Int64,
            "uint8" => Dtype::Uint8,
            "uint16" => Dtype::Uint16,
            "uint32" => Dtype::Uint32,
            "uint64" => Dtype::Uint64,
            "float16" => Dtype::Float16,
            "float32" => Dtype::Float32,
            "float64" => Dtype::Float64,
            "complex64" => Dtype::Complex64,
            "complex128" => Dtype::Complex128,
            _ => return Self::from_descr(s).map(|(d, _)| d),
        })
    }

    /// Bytes per element.
    pub fn itemsize(&self) -> usize {
        match self {
            Dtype::Bool | Dtype::Int8 | Dtype::Uint8 => 1,
            Dtype::Int16 | Dtype::Uint16 | Dtype::Float16 => 2,
            Dtype::Int32 | Dtype::Uint32 | Dtype::Float32 => 4,
            Dtype::Int64 | Dtype::Uint64 | Dtype::Float64 | Dtype::Complex64 => 8,
            Dtype::Complex128 => 16,
            Dtype::Bytes(n) => *n as usize,
            Dtype::Unicode(n) => *n as usize * 4,
        }
    }

    /// Size of the unit that byte order applies to (1 = no byte order).
    pub fn swap_unit(&self) -> usize {
        match self {
            Dtype::Bool | Dtype::Int8 | Dtype::Uint8 | Dtype::Bytes(_) => 1,
            Dtype::Complex64 => 4,
            Dtype::Complex128 => 8,
            Dtype::Unicode(_) => 4,
            other => other.itemsize(),
        }
    }

    /// The little-endian `descr` numpy writes: `<f8`, `|b1`, `|S10`, `<U10`.
    pub fn descr(&self) -> String {
        match self {
            Dtype::Bool => "|b1".into(),
            Dtype::Int8 => "|i1".into(),
            Dtype::Uint8 => "|u1".into(),
            Dtype::Int16 => "<i2".into(),
            Dtype::Int32 => "<i4".into(),
            Dtype::Int64 => "<i8".into(),
            Dtype::Uint16 => "<u2".into(),
            Dtype::Uint32 => "<u4".into(),
            Dtype::Uint64 => "<u8".into(),
            Dtype::Float16 => "<f2".into(),
            Dtype::Float32 => "<f4".into(),
            Dtype::Float64 => "<f8".into(),
            Dtype::Complex64 => "<c8".into(),
            Dtype::Complex128 => "<c16".into(),
            Dtype::Bytes(n) => format!("|S{n}"),
            Dtype::Unicode(n) => format!("<U{n}"),
        }
    }

    /// Parse a `descr`; returns the dtype and whether the data is big-endian.
    pub fn from_descr(d: &str) -> Option<(Dtype, bool)> {
        let mut chars = d.chars();
        let order = chars.next()?;
        let (big, rest) = match order {
            '<' | '|' | '=' => (false, chars.as_str()),
            '>' => (true, chars.as_str()),
            _ => (false, d),
        };
        let kind = rest.chars().next()?;
        let size: u32 = rest[1..].parse().ok()?;
        let dt = match (kind, size) {
            ('b', 1) | ('?', 1) => Dtype::Bool,
            ('i', 1) => Dtype::Int8,
            ('i', 2) => Dtype::Int16,
            ('i', 4) => Dtype::Int32,
            ('i', 8) => Dtype::Int64,
            ('u', 1) => Dtype::Uint8,
            ('u', 2) => Dtype::Uint16,
            ('u', 4) => Dtype::Uint32,
            ('u', 8) => Dtype::Uint64,
            ('f', 2) => Dtype::Float16,
            ('f', 4) => Dtype::Float32,
            ('f', 8) => Dtype::Float64,
            ('c', 8) => Dtype::Complex64,
            ('c', 16) => Dtype::Complex128,
            ('S', n) if n > 0 => Dtype::Bytes(n),
            ('U', n) if n > 0 => Dtype::Unicode(n),
            _ => return None,
        };
        let big = big && dt.swap_unit() > 1;
        Some((dt, big))
    }
}

/// Parsed `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    pub dtype: Dtype,
    pub big_endian: bool,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// Byte offset of the data from the start of the file.
    pub data_offset: usize,
    pub version: (u8, u8),
}

impl NpyHeader {
    pub fn len(&self) -> u64 {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn data_len(&self) -> u64 {
        self.len() * self.dtype.itemsize() as u64
    }
}

fn shape_repr(shape: &[u64]) -> String {
    match shape.len() {
        0 => "()".into(),
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The header bytes numpy writes for this array: magic, version, length, dict padded with
/// spaces and a newline so the data starts at a multiple of 64 bytes.
pub fn write_header(dtype: Dtype, fortran_order: bool, shape: &[u64]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
        dtype.descr(),
        if fortran_order { "True" } else { "False" },
        shape_repr(shape)
    );
    for (major, len_bytes) in [(1u8, 2usize), (2u8, 4usize)] {
        let prefix = MAGIC.len() + 2 + len_bytes;
        let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
        let hlen = total - prefix;
        if major == 1 && hlen > u16::MAX as usize {
            continue;
        }
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.push(major);
        out.push(0);
        if major == 1 {
            out.extend_from_slice(&(hlen as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(hlen as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        return out;
    }
    unreachable!("a version 2.0 header always fits")
}

fn corrupt(path: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Codec,
        format!("'{path}' is not a valid .npy file: {msg}"),
    )
}

/// Bytes needed to read a header: the caller reads at least this many (or the whole file).
pub const HEADER_PROBE: usize = 4096;

/// Parse the header from the first bytes of a file. `path` is used in messages. `file_len`,
/// when known, is checked against the data size (truncated files are rejected).
pub fn parse_header(buf: &[u8], path: &str, file_len: Option<u64>) -> Result<NpyHeader> {
    if buf.len() < 10 || &buf[..6] != MAGIC {
        return Err(corrupt(path, "missing the \\x93NUMPY magic"));
    }
    let version = (buf[6], buf[7]);
    let (hlen, start) = match version.0 {
        1 => (u16::from_le_bytes([buf[8], buf[9]]) as usize, 10),
        2 | 3 => {
            if buf.len() < 12 {
                return Err(corrupt(path, "truncated header"));
            }
            (
                u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(corrupt(
                path,
                format!("unsupported format version {v}.{}", version.1),
            ))
        }
    };
    if buf.len() < start + hlen {
        return Err(corrupt(path, "truncated header"));
    }
    let text = std::str::from_utf8(&buf[start..start + hlen])
        .map_err(|_| corrupt(path, "header is not text"))?;
    let dict = parse_dict(text)
        .ok_or_else(|| corrupt(path, format!("unreadable header {:?}", text.trim())))?;
    let descr = dict
        .descr
        .ok_or_else(|| corrupt(path, "header has no 'descr'"))?;
    let (dtype, big_endian) = Dtype::from_descr(&descr).ok_or_else(|| {
        Error::new(
            ErrorCode::Codec,
            format!("'{path}': dtype '{descr}' is not supported (object and structured dtypes cannot be read)"),
        )
    })?;
    let header = NpyHeader {
        dtype,
        big_endian,
        fortran_order: dict
            .fortran_order
            .ok_or_else(|| corrupt(path, "header has no 'fortran_order'"))?,
        shape: dict
            .shape
            .ok_or_else(|| corrupt(path, "header has no 'shape'"))?,
        data_offset: start + hlen,
        version,
    };
    if let Some(len) = file_len {
        let need = header.data_offset as u64 + header.data_len();
        if len < need {
            return Err(corrupt(
                path,
                format!("truncated: {len} bytes, the header announces {need}"),
            ));
        }
    }
    Ok(header)
}

#[derive(Default)]
struct Dict {
    descr: Option<String>,
    fortran_order: Option<bool>,
    shape: Option<Vec<u64>>,
}

/// Parse the Python dict literal of an .npy header (only the forms numpy writes).
fn parse_dict(text: &str) -> Option<Dict> {
    let t = text.trim();
    let inner = t.strip_prefix('{')?.strip_suffix('}')?;
    let mut d = Dict::default();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (key, after) = parse_pystr(rest)?;
        rest = after.trim_start().strip_prefix(':')?.trim_start();
        match key.as_str() {
            "descr" => {
                let (v, after) = parse_pystr(rest)?;
                d.descr = Some(v);
                rest = after;
            }
            "fortran_order" => {
                if let Some(r) = rest.strip_prefix("True") {
                    d.fortran_order = Some(true);
                    rest = r;
                } else if let Some(r) = rest.strip_prefix("False") {
                    d.fortran_order = Some(false);
                    rest = r;
                } else {
                    return None;
                }
            }
            "shape" => {
                let r = rest.strip_prefix('(')?;
                let close = r.find(')')?;
                let dims: Option<Vec<u64>> = r[..close]
                    .split(',')
                    .map(|x| x.trim())
                    .filter(|x| !x.is_empty())
                    .map(|x| x.trim_end_matches('L').parse().ok())
                    .collect();
                d.shape = Some(dims?);
                rest = &r[close + 1..];
            }
            _ => return None,
        }
        rest = rest.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Some(d)
}

fn parse_pystr(s: &str) -> Option<(String, &str)> {
    let q = s.chars().next()?;
    if q != '\'' && q != '"' {
        return None;
    }
    let body = &s[1..];
    let end = body.find(q)?;
    Some((body[..end].to_string(), &body[end + 1..]))
}

/// Swap the byte order of every unit in place (big-endian files, read into native order).
pub fn swap_bytes(data: &mut [u8], unit: usize) {
    if unit <= 1 {
        return;
    }
    for chunk in data.chunks_exact_mut(unit) {
        chunk.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_numpy_layout() {
        let h = write_header(Dtype::Float64, false, &[1000, 32]);
        assert_eq!(h.len(), 128);
        assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
        let text = std::str::from_utf8(&h[10..]).unwrap();
        assert!(text.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 32), }"));
        assert!(text.ends_with(" \n"));
        let p = parse_header(&h, "x.npy", None).unwrap();
        assert_eq!(p.shape, vec![1000, 32]);
        assert_eq!(p.data_offset, 128);
        let h0 = write_header(Dtype::Bool, true, &[]);
        let p0 = parse_header(&h0, "x.npy", Some(h0.len() as u64 + 1)).unwrap();
        assert!(p0.fortran_order && p0.shape.is_empty() && p0.len() == 1);
        let h1 = write_header(Dtype::Unicode(10), false, &[5]);
        assert!(
            std::str::from_utf8(&h1)
                .unwrap_or("")
                .contains("'shape': (5,)")
                || h1.windows(4).any(|w| w == b"(5,)")
        );
    }

    #[test]
    fn descr_round_trip_and_errors() {
        for d in [
            Dtype::Bool,
            Dtype::Int8,
            Dtype::Int16,
            Dtype::Int32,
            Dtype::Int64,
            Dtype::Uint8,
            Dtype::Uint16,
            Dtype::Uint32,
            Dtype::Uint64,
            Dtype::Float16,
            Dtype::Float32,
            Dtype::Float64,
            Dtype::Complex64,
            Dtype::Complex128,
            Dtype::Bytes(7),
            Dtype::Unicode(3),
        ] {
            assert_eq!(Dtype::from_descr(&d.descr()), Some((d, false)));
            assert_eq!(Dtype::from_name(&d.name()), Some(d));
        }
        assert_eq!(Dtype::from_descr(">f8"), Some((Dtype::Float64, true)));
        assert_eq!(Dtype::from_descr("|O"), None);
        assert!(parse_header(b"not an npy file at all", "f", None).is_err());
        let h = write_header(Dtype::Float32, false, &[10]);
        let e = parse_header(&h, "t.npy", Some(h.len() as u64 + 39)).unwrap_err();
        assert!(e.message.contains("truncated"), "{}", e.message);
        let mut bad = write_header(Dtype::Float32, false, &[10]);
        bad[8] = 0xff;
        assert!(parse_header(&bad, "b.npy", None).is_err());
    }
}
