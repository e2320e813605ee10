//! Blob decoder (datajoint-storage.md §6). Every length is checked against the bytes that are
//! left before anything is allocated, so a lying length field is an error, never a huge
//! allocation or a panic. Arrays are views of the (decompressed) buffer.

use super::{
    aligned, ArrayClass, BlobValue, CellArray, NdArray, SparseArray, StructArray, DJ0, MYM,
    ZLIB_MAGIC,
};
use bytes::Bytes;
use std::io::Read;

/// How to unpack.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnpackOptions {
    /// Read counts, dimensions and lengths as u32: blobs of the 32-bit mym of very old MATLAB
    /// pipelines (the reference's `dj.blob.use_32bit_dims`).
    pub legacy_32bit_dims: bool,
}

/// Unpack a blob (compressed or not, `mYm` or `dj0`).
pub fn unpack(b: Bytes) -> Result<BlobValue, String> {
    unpack_with(b, UnpackOptions::default())
}

pub fn unpack_with(b: Bytes, opts: UnpackOptions) -> Result<BlobValue, String> {
    let buf = if b.starts_with(ZLIB_MAGIC) {
        inflate(&b, opts)?
    } else {
        b
    };
    let mut r = Reader {
        buf,
        pos: 0,
        wide: !opts.legacy_32bit_dims,
    };
    let proto = r
        .take(4)
        .map_err(|_| "the blob is too short for a header".to_string())?;
    if &proto[..] != MYM && &proto[..] != DJ0 {
        return Err(format!(
            "not a DataJoint blob: the header is {:?}, not \"mYm\" or \"dj0\"",
            String::from_utf8_lossy(&proto[..proto.iter().position(|&c| c == 0).unwrap_or(4)])
        ));
    }
    let end = r.buf.len();
    let v = r.body(0)?;
    if r.pos != end {
        return Err(format!(
            "{} bytes follow the value (a corrupt blob)",
            end - r.pos
        ));
    }
    Ok(v)
}

/// Inflate a `ZL123\0` envelope. The stated length bounds the output, and so does deflate's
/// maximum ratio, so a lying header cannot make us reserve more than the data can produce.
fn inflate(b: &Bytes, opts: UnpackOptions) -> Result<Bytes, String> {
    let hdr = ZLIB_MAGIC.len();
    let width = if opts.legacy_32bit_dims { 4 } else { 8 };
    if b.len() < hdr + width {
        return Err("the compressed blob is truncated".into());
    }
    let n = if width == 8 {
        u64::from_le_bytes(b[hdr..hdr + 8].try_into().unwrap())
    } else {
        u32::from_le_bytes(b[hdr..hdr + 4].try_into().unwrap()) as u64
    };
    let stream = &b[hdr + width..];
    let bound = (stream.len() as u64)
        .saturating_mul(1032)
        .saturating_add(64);
    if n > bound {
        return Err(format!(
            "the compressed blob claims {n} bytes, more than its {} compressed bytes can hold",
            stream.len()
        ));
    }
    // A top-level 2-d array's data starts at byte 37 (4 + 1 + 8 + 2·8 + 8, ≡ 5 mod 8): start the
    // output 3 bytes past an 8-byte boundary so the data of the common big case needs no copy.
    let mut out: Vec<u8> = Vec::with_capacity(n as usize + 16);
    let pad = (8 - (out.as_ptr() as usize + 5) % 8) % 8;
    out.resize(pad, 0);
    let mut dec = flate2::read::ZlibDecoder::new(stream);
    (&mut dec)
        .take(n + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the compressed blob does not inflate: {e}"))?;
    let got = out.len() - pad;
    if got as u64 != n {
        return Err(format!(
            "the compressed blob inflates to {got} bytes, its header says {n}"
        ));
    }
    Ok(Bytes::from(out).slice(pad..))
}

const MAX_DEPTH: usize = 256;

struct Reader {
    buf: Bytes,
    pos: usize,
    /// u64 lengths (false: the legacy u32 mode)
    wide: bool,
}

impl Reader {
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn take(&mut self, n: usize) -> Result<Bytes, String> {
        if n > self.left() {
            return Err(format!(
                "truncated: {n} bytes needed at offset {}, {} left",
                self.pos,
                self.left()
            ));
        }
        let s = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2)?[..].try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?[..].try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_le_bytes(self.take(4)?[..].try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take(8)?[..].try_into().unwrap()))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(self.take(8)?[..].try_into().unwrap()))
    }
    /// A count, dimension or length (u64, or u32 in the legacy mode).
    fn len(&mut self) -> Result<u64, String> {
        if self.wide {
            Ok(u64::from_le_bytes(self.take(8)?[..].try_into().unwrap()))
        } else {
            Ok(self.u32()? as u64)
        }
    }
    /// A count of items that each take at least `min_bytes`: checked against what is left.
    fn count(&mut self, min_bytes: usize, what: &str) -> Result<usize, String> {
        let n = self.len()?;
        self.fits(n, min_bytes, what)
    }
    fn fits(&self, n: u64, min_bytes: usize, what: &str) -> Result<usize, String> {
        if n.saturating_mul(min_bytes.max(1) as u64) > self.left() as u64 {
            return Err(format!(
                "{what}: {n} items cannot fit in the {} bytes left (a corrupt blob)",
                self.left()
            ));
        }
        Ok(n as usize)
    }
    fn shape(&mut self) -> Result<(Vec<u64>, u64), String> {
        let w = if self.wide { 8 } else { 4 };
        let ndim = self.count(w, "dimensions")?;
        let mut shape = Vec::with_capacity(ndim);
        for _ in 0..ndim {
            shape.push(self.len()?);
        }
        let n = shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| format!("shape {shape:?} overflows"))?;
        Ok((shape, n))
    }
    fn cstr(&mut self) -> Result<String, String> {
        let rest = &self.buf[self.pos..];
        let end = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or("a field name is not NUL-terminated")?;
        let s = std::str::from_utf8(&rest[..end])
            .map_err(|_| "a field name is not UTF-8".to_string())?
            .to_string();
        self.pos += end + 1;
        Ok(s)
    }
    fn names(&mut self) -> Result<Vec<String>, String> {
        let n = self.u32()? as u64;
        let n = self.fits(n, 1, "field names")?;
        if n == 0 {
            // the reference writes a lone NUL after an empty name list
            if self.buf.get(self.pos) == Some(&0) {
                self.pos += 1;
            }
            return Ok(Vec::new());
        }
        (0..n).map(|_| self.cstr()).collect()
    }
    fn text(&mut self) -> Result<String, String> {
        let n = self.len()?;
        let n = self.fits(n, 1, "text")?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }
    /// `u64 len` + body, checked to use exactly `len` bytes.
    fn prefixed(&mut self, depth: usize) -> Result<BlobValue, String> {
        let n = self.len()?;
        let n = self.fits(n, 1, "element")?;
        let start = self.pos;
        let v = self.body(depth)?;
        if self.pos - start != n {
            return Err(format!(
                "an element at offset {start} says {n} bytes but holds {} (a corrupt blob)",
                self.pos - start
            ));
        }
        Ok(v)
    }
    fn items(&mut self, n: usize, depth: usize) -> Result<Vec<BlobValue>, String> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.prefixed(depth)?);
        }
        Ok(v)
    }

    fn body(&mut self, depth: usize) -> Result<BlobValue, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "the value is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        let d = depth + 1;
        let at = self.pos;
        let code = self.u8()?;
        let w = if self.wide { 8 } else { 4 };
        Ok(match code {
            b'A' => self.array(d)?,
            b'S' => {
                let (shape, n) = self.shape()?;
                let fields = self.names()?;
                let nv = self.fits(n.saturating_mul(fields.len() as u64), w + 1, "struct")?;
                StructArray {
                    shape,
                    fields,
                    values: self.items(nv, d)?,
                }
                .into()
            }
            b'C' => {
                let (shape, n) = self.shape()?;
                let n = self.fits(n, w + 1, "cell")?;
                BlobValue::Cell(CellArray {
                    shape,
                    items: self.items(n, d)?,
                })
            }
            b'P' => self.sparse()?,
            0xFF => BlobValue::None,
            1..=3 => {
                let n = self.count(w + 1, "sequence")?;
                let xs = self.items(n, d)?;
                match code {
                    1 => BlobValue::Tuple(xs),
                    2 => BlobValue::List(xs),
                    _ => BlobValue::Set(xs),
                }
            }
            4 => {
                let n = self.count(2 * (w + 1), "dict")?;
                let mut kv = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.prefixed(d)?;
                    kv.push((k, self.prefixed(d)?));
                }
                BlobValue::Dict(kv)
            }
            5 => BlobValue::Str(self.text()?),
            6 => {
                let n = self.len()?;
                let n = self.fits(n, 1, "bytes")?;
                BlobValue::Bytes(self.take(n)?)
            }
            0x0A => {
                let n = self.u16()? as usize;
                let b = self.take(n)?;
                int_of(&b)
            }
            0x0B => BlobValue::Bool(self.u8()? != 0),
            0x0C => {
                let re = self.f64()?;
                BlobValue::Complex(re, self.f64()?)
            }
            0x0D => BlobValue::Float(self.f64()?),
            b'F' => {
                let fields = self.names()?;
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    let v = self.body(d)?;
                    if !matches!(
                        v,
                        BlobValue::Array(_) | BlobValue::ObjectArray(_) | BlobValue::Record(_)
                    ) {
                        return Err(format!(
                            "record field '{f}' holds {}, not an array",
                            v.type_name()
                        ));
                    }
                    out.push((f, v));
                }
                BlobValue::Record(out)
            }
            b'd' => {
                let s = self.text()?;
                if s.is_empty() || !s.bytes().all(|c| c.is_ascii_graphic()) {
                    return Err(format!("decimal {s:?} is not a number"));
                }
                BlobValue::Decimal(s)
            }
            b't' => self.temporal()?,
            b'u' => BlobValue::Uuid(self.take(16)?[..].try_into().unwrap()),
            other => {
                return Err(format!(
                    "unknown body code 0x{other:02x} at offset {at} (a corrupt blob, or a newer format)"
                ))
            }
        })
    }

    fn array(&mut self, d: usize) -> Result<BlobValue, String> {
        let (shape, n) = self.shape()?;
        let class_id = self.u32()?;
        let complex = self.u32()?;
        if class_id == 5 {
            let w = if self.wide { 8 } else { 4 };
            let n = self.fits(n, w + 1, "object array")?;
            return Ok(BlobValue::ObjectArray(CellArray {
                shape,
                items: self.items(n, d)?,
            }));
        }
        let class = ArrayClass::from_id(class_id)
            .ok_or_else(|| format!("array class {class_id} is not supported"))?;
        if complex > 1 || (complex == 1 && !class.allows_complex()) {
            return Err(format!(
                "a {} array with complex flag {complex}",
                class.name()
            ));
        }
        let per = class.itemsize() as u64 * (1 + complex as u64);
        let nbytes = n
            .checked_mul(per)
            .filter(|&b| b <= self.left() as u64)
            .ok_or_else(|| {
                format!(
                    "array {shape:?} of {} needs more than the {} bytes left (a corrupt blob)",
                    class.name(),
                    self.left()
                )
            })?;
        let data = self.take(nbytes as usize)?;
        let data = aligned(data, class.itemsize());
        NdArray::new(class, shape, complex == 1, data).map(BlobValue::Array)
    }

    fn sparse(&mut self) -> Result<BlobValue, String> {
        let rows = self.len()?;
        let cols = self.len()?;
        let nz = self.len()?;
        let class_id = self.u32()?;
        let complex = self.u32()? == 1;
        let class = ArrayClass::from_id(class_id)
            .filter(|c| matches!(c, ArrayClass::Double | ArrayClass::Logical))
            .ok_or_else(|| format!("sparse class {class_id} is not double or logical"))?;
        let w = if self.wide { 8 } else { 4 };
        let ncol = self.fits(cols.saturating_add(1), w, "sparse columns")?;
        let mut jc = Vec::with_capacity(ncol);
        for _ in 0..ncol {
            jc.push(self.len()?);
        }
        let nz = self.fits(nz, w, "sparse elements")?;
        let mut ir = Vec::with_capacity(nz);
        for _ in 0..nz {
            let i = self.len()?;
            if i >= rows {
                return Err(format!("sparse row index {i} ≥ {rows} rows"));
            }
            ir.push(i);
        }
        if jc.first() != Some(&0)
            || jc.windows(2).any(|p| p[1] < p[0])
            || jc.last() != Some(&(nz as u64))
        {
            return Err("sparse column starts are not a valid index".into());
        }
        let per = class.itemsize() * (1 + complex as usize);
        let data = self.take(
            nz.checked_mul(per)
                .filter(|&b| b <= self.left())
                .ok_or("sparse data is truncated")?,
        )?;
        let data = NdArray::new(
            class,
            vec![nz as u64, 1],
            complex,
            aligned(data, class.itemsize()),
        )?;
        Ok(BlobValue::Sparse(SparseArray {
            rows,
            cols,
            class,
            jc,
            ir,
            data,
        }))
    }

    fn temporal(&mut self) -> Result<BlobValue, String> {
        let date = self.i32()?;
        let time = self.i64()?;
        let days = if date >= 0 {
            let (y, m, d) = (date / 10000, (date / 100 % 100) as u32, (date % 100) as u32);
            Some(
                crate::value::date_from_ymd(y, m, d)
                    .ok_or_else(|| format!("date {date} is not a calendar date"))?,
            )
        } else {
            None
        };
        let micros = if time >= 0 {
            let (h, mi, s, us) = (
                time / 10_000_000_000 % 100,
                time / 100_000_000 % 100,
                time / 1_000_000 % 100,
                time % 1_000_000,
            );
            if h > 23 || mi > 59 || s > 59 {
                return Err(format!("time {time} is not a time of day"));
            }
            Some(((h * 60 + mi) * 60 + s) * 1_000_000 + us)
        } else {
            None
        };
        Ok(match (days, micros) {
            (Some(d), Some(t)) => BlobValue::Datetime(d as i64 * 86_400_000_000 + t),
            (Some(d), None) => BlobValue::Date(d),
            (None, Some(t)) => BlobValue::Time(t),
            // the reference reads this as None
            (None, None) => BlobValue::None,
        })
    }
}

impl From<StructArray> for BlobValue {
    fn from(s: StructArray) -> Self {
        BlobValue::Struct(s)
    }
}

/// A Python int: `Int` when it fits in 64 bits, `BigInt` (normalised) otherwise.
fn int_of(b: &[u8]) -> BlobValue {
    if b.is_empty() {
        return BlobValue::Int(0);
    }
    let negative = b[b.len() - 1] & 0x80 != 0;
    let fill = if negative { 0xFF } else { 0 };
    // strip redundant sign bytes
    let mut n = b.len();
    while n > 1 && b[n - 1] == fill && (b[n - 2] & 0x80 != 0) == negative {
        n -= 1;
    }
    if n <= 8 {
        let mut w = [fill; 8];
        w[..n].copy_from_slice(&b[..n]);
        BlobValue::Int(i64::from_le_bytes(w))
    } else {
        BlobValue::BigInt(b[..n].to_vec())
    }
}
