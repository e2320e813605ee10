//! Blob encoder (datajoint-storage.md §6): protocol header, bodies, and the zlib envelope when it
//! pays.

use super::{BlobValue, NdArray, DJ0, MYM, ZLIB_MAGIC};
use std::io::Write;

/// How to pack.
#[derive(Debug, Clone, Copy)]
pub struct PackOptions {
    /// Allow the zlib envelope (used only when a probe says it pays).
    pub compress: bool,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions { compress: true }
    }
}

/// Pack a value with the default options.
pub fn pack(v: &BlobValue) -> Result<Vec<u8>, String> {
    pack_with(v, PackOptions::default())
}

/// Pack a value: `mYm` when MATLAB can read the whole tree, `dj0` otherwise.
pub fn pack_with(v: &BlobValue, opts: PackOptions) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body_size_hint(v) + 8);
    out.extend_from_slice(if v.is_matlab() { MYM } else { DJ0 });
    body(v, &mut out, 0)?;
    if opts.compress && out.len() > 1000 && compression_pays(&out) {
        let mut z = Vec::with_capacity(ZLIB_MAGIC.len() + 8 + out.len() / 2);
        z.extend_from_slice(ZLIB_MAGIC);
        z.extend_from_slice(&(out.len() as u64).to_le_bytes());
        let mut enc = flate2::write::ZlibEncoder::new(z, flate2::Compression::default());
        enc.write_all(&out).map_err(|e| e.to_string())?;
        let z = enc.finish().map_err(|e| e.to_string())?;
        // As the reference: keep the envelope only when it is shorter.
        if z.len() < out.len() {
            return Ok(z);
        }
    }
    Ok(out)
}

/// A quick look at the data: compress a few samples at the fastest level and keep the zlib
/// envelope only when they shrink by a tenth or more. Random floats fail this in microseconds,
/// so incompressible blobs cost no compression time.
fn compression_pays(b: &[u8]) -> bool {
    const SAMPLE: usize = 16 << 10;
    if b.len() <= 4 * SAMPLE {
        return true;
    }
    let step = (b.len() - SAMPLE) / 3;
    let mut raw = 0usize;
    let mut packed = 0usize;
    for k in 0..4 {
        let s = &b[k * step..k * step + SAMPLE];
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        if enc.write_all(s).is_err() {
            return false;
        }
        packed += enc.finish().map(|v| v.len()).unwrap_or(usize::MAX / 8);
        raw += s.len();
    }
    packed * 10 < raw * 9
}

fn body_size_hint(v: &BlobValue) -> usize {
    match v {
        BlobValue::Array(a) => 32 + 8 * a.shape.len() + a.bytes().len(),
        _ => 64,
    }
}

const MAX_DEPTH: usize = 256;

fn u64le(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn dims(out: &mut Vec<u8>, shape: &[u64]) {
    u64le(out, shape.len() as u64);
    for &d in shape {
        u64le(out, d);
    }
}

/// `u64 len` + body: the length is patched in after the body is written.
fn prefixed(v: &BlobValue, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    let at = out.len();
    u64le(out, 0);
    body(v, out, depth)?;
    let n = (out.len() - at - 8) as u64;
    out[at..at + 8].copy_from_slice(&n.to_le_bytes());
    Ok(())
}

fn names(out: &mut Vec<u8>, names: &[String]) -> Result<(), String> {
    out.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for (i, n) in names.iter().enumerate() {
        if n.contains('\0') {
            return Err(format!("field name {n:?} contains a NUL"));
        }
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(n.as_bytes());
    }
    out.push(0);
    Ok(())
}

fn count_of(shape: &[u64]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("shape {shape:?} overflows"))
}

fn array(a: &NdArray, out: &mut Vec<u8>) {
    out.push(b'A');
    dims(out, &a.shape);
    out.extend_from_slice(&a.class.id().to_le_bytes());
    out.extend_from_slice(&(a.complex as u32).to_le_bytes());
    out.extend_from_slice(a.bytes());
}

fn body(v: &BlobValue, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "the value is nested deeper than {MAX_DEPTH} levels"
        ));
    }
    let d = depth + 1;
    match v {
        BlobValue::Array(a) => array(a, out),
        BlobValue::Struct(s) => {
            let n = count_of(&s.shape)?;
            if s.values.len() != n * s.fields.len() {
                return Err(format!(
                    "struct of shape {:?} with {} fields needs {} values, has {}",
                    s.shape,
                    s.fields.len(),
                    n * s.fields.len(),
                    s.values.len()
                ));
            }
            out.push(b'S');
            dims(out, &s.shape);
            names(out, &s.fields)?;
            for x in &s.values {
                prefixed(x, out, d)?;
            }
        }
        BlobValue::Cell(c) | BlobValue::ObjectArray(c) => {
            let n = count_of(&c.shape)?;
            if c.items.len() != n {
                return Err(format!(
                    "cell of shape {:?} needs {n} items, has {}",
                    c.shape,
                    c.items.len()
                ));
            }
            if matches!(v, BlobValue::Cell(_)) {
                out.push(b'C');
                dims(out, &c.shape);
            } else {
                out.push(b'A');
                dims(out, &c.shape);
                out.extend_from_slice(&5u32.to_le_bytes());
                out.extend_from_slice(&0u32.to_le_bytes());
            }
            for x in &c.items {
                prefixed(x, out, d)?;
            }
        }
        BlobValue::Sparse(s) => {
            let nz = s.ir.len() as u64;
            if s.jc.len() as u64 != s.cols + 1 || s.data.len() != nz {
                return Err("sparse matrix: jc needs cols+1 entries and data one per ir".into());
            }
            out.push(b'P');
            u64le(out, s.rows);
            u64le(out, s.cols);
            u64le(out, nz);
            out.extend_from_slice(&s.class.id().to_le_bytes());
            out.extend_from_slice(&(s.data.complex as u32).to_le_bytes());
            for &j in &s.jc {
                u64le(out, j);
            }
            for &i in &s.ir {
                u64le(out, i);
            }
            out.extend_from_slice(s.data.bytes());
        }
        BlobValue::None => out.push(0xFF),
        BlobValue::Tuple(xs) | BlobValue::List(xs) | BlobValue::Set(xs) => {
            out.push(match v {
                BlobValue::Tuple(_) => 1,
                BlobValue::List(_) => 2,
                _ => 3,
            });
            u64le(out, xs.len() as u64);
            for x in xs {
                prefixed(x, out, d)?;
            }
        }
        BlobValue::Dict(kv) => {
            out.push(4);
            u64le(out, kv.len() as u64);
            for (k, x) in kv {
                prefixed(k, out, d)?;
                prefixed(x, out, d)?;
            }
        }
        BlobValue::Str(s) => {
            out.push(5);
            u64le(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        BlobValue::Bytes(b) => {
            out.push(6);
            u64le(out, b.len() as u64);
            out.extend_from_slice(b);
        }
        BlobValue::Int(i) => int(out, &i.to_le_bytes(), *i < 0)?,
        BlobValue::BigInt(b) => int(out, b, b.last().is_some_and(|&x| x & 0x80 != 0))?,
        BlobValue::Bool(b) => {
            out.push(0x0B);
            out.push(*b as u8);
        }
        BlobValue::Complex(re, im) => {
            out.push(0x0C);
            out.extend_from_slice(&re.to_le_bytes());
            out.extend_from_slice(&im.to_le_bytes());
        }
        BlobValue::Float(f) => {
            out.push(0x0D);
            out.extend_from_slice(&f.to_le_bytes());
        }
        BlobValue::Record(fields) => {
            out.push(b'F');
            let ns: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
            names(out, &ns)?;
            for (n, x) in fields {
                match x {
                    BlobValue::Array(_) | BlobValue::ObjectArray(_) | BlobValue::Record(_) => {
                        body(x, out, d)?
                    }
                    other => {
                        return Err(format!(
                            "record field '{n}' must be an array or a record, not {}",
                            other.type_name()
                        ))
                    }
                }
            }
        }
        BlobValue::Decimal(s) => {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_graphic()) {
                return Err(format!("decimal {s:?} is not a decimal number"));
            }
            out.push(b'd');
            u64le(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        BlobValue::Date(days) => temporal(out, Some(*days), None)?,
        BlobValue::Time(us) => temporal(out, None, Some(*us))?,
        BlobValue::Datetime(us) => {
            let days = us.div_euclid(86_400_000_000);
            let t = us.rem_euclid(86_400_000_000);
            let days = i32::try_from(days).map_err(|_| "datetime out of range".to_string())?;
            temporal(out, Some(days), Some(t))?
        }
        BlobValue::Uuid(u) => {
            out.push(b'u');
            out.extend_from_slice(u);
        }
    }
    Ok(())
}

/// Python's int: `u16 nbytes` + little-endian two's complement, nbytes = bit_length // 8 + 1
/// (the reference's rule, which this reproduces byte for byte).
fn int(out: &mut Vec<u8>, le: &[u8], negative: bool) -> Result<(), String> {
    // magnitude bit length of the value
    let mut mag: Vec<u8> = le.to_vec();
    if negative {
        // |v| = !v + 1
        let mut carry = true;
        for b in mag.iter_mut() {
            let (x, c) = (!*b).overflowing_add(carry as u8);
            *b = x;
            carry = c;
        }
    }
    let top = mag.iter().rposition(|&b| b != 0);
    let bit_length = top.map_or(0, |i| i * 8 + (8 - mag[i].leading_zeros() as usize));
    let n = bit_length / 8 + 1;
    if n > 0xFFFF {
        return Err("integers are limited to 65535 bytes".into());
    }
    out.push(0x0A);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    let fill = if negative { 0xFF } else { 0 };
    for i in 0..n {
        out.push(*le.get(i).unwrap_or(&fill));
    }
    Ok(())
}

/// `'t'`: i32 YYYYMMDD (-1: none), i64 HHMMSSuuuuuu (-1: none).
fn temporal(out: &mut Vec<u8>, days: Option<i32>, micros: Option<i64>) -> Result<(), String> {
    let date = match days {
        None => -1i32,
        Some(d) => {
            let (y, m, dd) = crate::value::ymd_of(d).ok_or("date out of range")?;
            if !(1..=9999).contains(&y) {
                return Err(format!("year {y} is outside 1..9999"));
            }
            (y * 100 + m as i32) * 100 + dd as i32
        }
    };
    let time = match micros {
        None => -1i64,
        Some(t) => {
            if !(0..86_400_000_000).contains(&t) {
                return Err(format!("time of day {t} µs is outside one day"));
            }
            let s = t / 1_000_000;
            ((s / 3600 * 100 + s / 60 % 60) * 100 + s % 60) * 1_000_000 + t % 1_000_000
        }
    };
    out.push(b't');
    out.extend_from_slice(&date.to_le_bytes());
    out.extend_from_slice(&time.to_le_bytes());
    Ok(())
}
