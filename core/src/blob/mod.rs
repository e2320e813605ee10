//! The DataJoint blob format (datajoint-storage.md §6): the value tree every `<blob>` holds, and
//! its byte format, read and written compatibly with DataJoint Python (`dj0`) and MATLAB's mym
//! (`mYm`). `pack` writes `mYm` whenever the whole tree is MATLAB-representable, `dj0` otherwise;
//! `unpack` reads both, compressed or not, and returns numeric arrays as views of the decoded
//! buffer (no copy).

mod pack;
mod unpack;

pub use pack::{pack, pack_with, PackOptions};
pub use unpack::{unpack, unpack_with, UnpackOptions};

use bytes::Bytes;

/// Magic of the zlib envelope: `"ZL123\0"`, u64 uncompressed length, zlib stream.
pub const ZLIB_MAGIC: &[u8; 6] = b"ZL123\0";
/// The MATLAB-compatible protocol header.
pub const MYM: &[u8; 4] = b"mYm\0";
/// DataJoint Python's extended protocol header.
pub const DJ0: &[u8; 4] = b"dj0\0";

/// The element class of an `'A'` array (MATLAB `mxClassID`, plus dj0's datetime64 units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArrayClass {
    /// MATLAB logical: one byte per element, 0 or 1.
    Logical,
    /// MATLAB char: one UTF-16 code unit (2 bytes) per element.
    Char,
    Double,
    Single,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    /// numpy `datetime64[unit]`, unit index into [`DATETIME64_UNITS`]; int64 elements (dj0).
    Datetime64(u8),
}

/// numpy datetime64 units in the order of dj0's class ids `65536 + k`.
pub const DATETIME64_UNITS: [&str; 13] = [
    "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
];

impl ArrayClass {
    /// The class id written in the blob.
    pub fn id(self) -> u32 {
        match self {
            ArrayClass::Logical => 3,
            ArrayClass::Char => 4,
            ArrayClass::Double => 6,
            ArrayClass::Single => 7,
            ArrayClass::Int8 => 8,
            ArrayClass::UInt8 => 9,
            ArrayClass::Int16 => 10,
            ArrayClass::UInt16 => 11,
            ArrayClass::Int32 => 12,
            ArrayClass::UInt32 => 13,
            ArrayClass::Int64 => 14,
            ArrayClass::UInt64 => 15,
            ArrayClass::Datetime64(k) => 65536 + k as u32,
        }
    }
    pub fn from_id(id: u32) -> Option<ArrayClass> {
        Some(match id {
            3 => ArrayClass::Logical,
            4 => ArrayClass::Char,
            6 => ArrayClass::Double,
            7 => ArrayClass::Single,
            8 => ArrayClass::Int8,
            9 => ArrayClass::UInt8,
            10 => ArrayClass::Int16,
            11 => ArrayClass::UInt16,
            12 => ArrayClass::Int32,
            13 => ArrayClass::UInt32,
            14 => ArrayClass::Int64,
            15 => ArrayClass::UInt64,
            k @ 65536..=65548 => ArrayClass::Datetime64((k - 65536) as u8),
            _ => return None,
        })
    }
    /// Bytes per (real) element.
    pub fn itemsize(self) -> usize {
        match self {
            ArrayClass::Logical | ArrayClass::Int8 | ArrayClass::UInt8 => 1,
            ArrayClass::Char | ArrayClass::Int16 | ArrayClass::UInt16 => 2,
            ArrayClass::Single | ArrayClass::Int32 | ArrayClass::UInt32 => 4,
            ArrayClass::Double
            | ArrayClass::Int64
            | ArrayClass::UInt64
            | ArrayClass::Datetime64(_) => 8,
        }
    }
    /// MATLAB's class name (numpy's dtype for datetime64).
    pub fn name(self) -> String {
        match self {
            ArrayClass::Logical => "logical".into(),
            ArrayClass::Char => "char".into(),
            ArrayClass::Double => "double".into(),
            ArrayClass::Single => "single".into(),
            ArrayClass::Int8 => "int8".into(),
            ArrayClass::UInt8 => "uint8".into(),
            ArrayClass::Int16 => "int16".into(),
            ArrayClass::UInt16 => "uint16".into(),
            ArrayClass::Int32 => "int32".into(),
            ArrayClass::UInt32 => "uint32".into(),
            ArrayClass::Int64 => "int64".into(),
            ArrayClass::UInt64 => "uint64".into(),
            ArrayClass::Datetime64(k) => format!("datetime64[{}]", DATETIME64_UNITS[k as usize]),
        }
    }
    /// Whether an element may have an imaginary part.
    pub fn allows_complex(self) -> bool {
        !matches!(
            self,
            ArrayClass::Logical | ArrayClass::Char | ArrayClass::Datetime64(_)
        )
    }
}

/// A numeric, logical or char N-d array: column-major data, the real parts then (when complex)
/// the imaginary parts. The buffer is shared: a decoded array is a view of the blob's bytes.
#[derive(Clone, PartialEq)]
pub struct NdArray {
    pub class: ArrayClass,
    pub shape: Vec<u64>,
    pub complex: bool,
    data: Bytes,
}

impl std::fmt::Debug for NdArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NdArray({} {:?}{})",
            self.class.name(),
            self.shape,
            if self.complex { " complex" } else { "" }
        )
    }
}

impl NdArray {
    /// An array over `data` (real parts, then imaginary parts when `complex`), checked.
    pub fn new(
        class: ArrayClass,
        shape: Vec<u64>,
        complex: bool,
        data: Bytes,
    ) -> Result<NdArray, String> {
        if complex && !class.allows_complex() {
            return Err(format!("{} arrays cannot be complex", class.name()));
        }
        let n = shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or("the shape overflows")?;
        let want = n
            .checked_mul(class.itemsize() as u64 * if complex { 2 } else { 1 })
            .ok_or("the shape overflows")?;
        if data.len() as u64 != want {
            return Err(format!(
                "{} shape {shape:?}{} needs {want} bytes, the buffer has {}",
                class.name(),
                if complex { " complex" } else { "" },
                data.len()
            ));
        }
        if class == ArrayClass::Logical {
            if let Some(p) = data.iter().position(|&b| b > 1) {
                return Err(format!("logical element {p} is {}, not 0 or 1", data[p]));
            }
        }
        Ok(NdArray {
            class,
            shape,
            complex,
            data: aligned(data, class.itemsize()),
        })
    }
    /// A real array from typed elements (column-major).
    pub fn from_slice<T: Element>(shape: Vec<u64>, data: &[T]) -> Result<NdArray, String> {
        NdArray::new(T::CLASS, shape, false, Bytes::from(T::to_bytes(data)))
    }
    /// A MATLAB char row vector (1×n UTF-16 units).
    pub fn char_row(s: &str) -> NdArray {
        let units: Vec<u16> = s.encode_utf16().collect();
        let mut b = Vec::with_capacity(units.len() * 2);
        for u in &units {
            b.extend_from_slice(&u.to_le_bytes());
        }
        NdArray {
            class: ArrayClass::Char,
            shape: vec![1, units.len() as u64],
            complex: false,
            data: Bytes::from(b),
        }
    }
    pub fn len(&self) -> u64 {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// All data bytes (real, then imaginary).
    pub fn bytes(&self) -> &Bytes {
        &self.data
    }
    /// The real parts (column-major).
    pub fn real(&self) -> &[u8] {
        let n = self.len() as usize * self.class.itemsize();
        &self.data[..n]
    }
    /// The imaginary parts, when complex.
    pub fn imag(&self) -> Option<&[u8]> {
        let n = self.len() as usize * self.class.itemsize();
        self.complex.then(|| &self.data[n..])
    }
    /// The real parts as typed elements (`None` when `T` is not the array's class). The buffer
    /// is aligned for its class, so this is a view.
    pub fn real_as<T: Element>(&self) -> Option<&[T]> {
        (T::CLASS == self.class).then(|| T::view(self.real()))
    }
    pub fn imag_as<T: Element>(&self) -> Option<&[T]> {
        (T::CLASS == self.class)
            .then(|| self.imag().map(T::view))
            .flatten()
    }
    /// A char array's text (UTF-16 units, column-major; lone surrogates become U+FFFD).
    pub fn char_text(&self) -> Option<String> {
        (self.class == ArrayClass::Char).then(|| {
            let units: Vec<u16> = self
                .real()
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        })
    }
}

/// Rust element types of [`NdArray`] classes (little-endian, as every blob is).
pub trait Element: Copy + 'static {
    const CLASS: ArrayClass;
    fn to_bytes(v: &[Self]) -> Vec<u8>;
    fn view(b: &[u8]) -> &[Self];
}

macro_rules! element {
    ($t:ty, $c:expr) => {
        impl Element for $t {
            const CLASS: ArrayClass = $c;
            fn to_bytes(v: &[Self]) -> Vec<u8> {
                v.iter().flat_map(|x| x.to_le_bytes()).collect()
            }
            fn view(b: &[u8]) -> &[Self] {
                // SAFETY: `NdArray` keeps its buffer aligned for its class, lengths are whole
                // elements, and every bit pattern is a valid value of these types.
                let (pre, mid, post) = unsafe { b.align_to::<$t>() };
                assert!(pre.is_empty() && post.is_empty(), "misaligned array view");
                mid
            }
        }
    };
}
element!(f64, ArrayClass::Double);
element!(f32, ArrayClass::Single);
element!(i8, ArrayClass::Int8);
element!(u8, ArrayClass::UInt8);
element!(i16, ArrayClass::Int16);
element!(u16, ArrayClass::UInt16);
element!(i32, ArrayClass::Int32);
element!(u32, ArrayClass::UInt32);
element!(i64, ArrayClass::Int64);
element!(u64, ArrayClass::UInt64);

/// The same bytes at an address aligned for `align` (a copy only when the view is misaligned).
pub(crate) fn aligned(b: Bytes, align: usize) -> Bytes {
    if (b.as_ptr() as usize).is_multiple_of(align.max(1)) {
        return b;
    }
    let mut words = vec![0u64; b.len().div_ceil(8)];
    // SAFETY: u64 has no invalid bit patterns; the byte view covers the allocation.
    let dst =
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr() as *mut u8, words.len() * 8) };
    dst[..b.len()].copy_from_slice(&b);
    let len = b.len();
    Bytes::from_owner(Words(words)).slice(..len)
}

struct Words(Vec<u64>);
impl AsRef<[u8]> for Words {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: reinterpreting initialised u64s as bytes.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr() as *const u8, self.0.len() * 8) }
    }
}

/// A MATLAB struct array: `values[elem * fields.len() + field]`, elements column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct StructArray {
    pub shape: Vec<u64>,
    pub fields: Vec<String>,
    pub values: Vec<BlobValue>,
}

impl StructArray {
    /// An array of `shape` with every field of every element empty (`[]`, 0×0 double).
    pub fn new(shape: Vec<u64>, fields: Vec<String>) -> StructArray {
        let n = shape.iter().product::<u64>() as usize * fields.len();
        StructArray {
            shape,
            fields,
            values: vec![BlobValue::empty_matrix(); n],
        }
    }
    pub fn len(&self) -> usize {
        self.shape.iter().product::<u64>() as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, elem: usize, field: &str) -> Option<&BlobValue> {
        let f = self.fields.iter().position(|n| n == field)?;
        self.values.get(elem * self.fields.len() + f)
    }
}

/// A MATLAB cell array (or a numpy object array): elements column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CellArray {
    pub shape: Vec<u64>,
    pub items: Vec<BlobValue>,
}

/// A MATLAB sparse matrix (compressed columns), as mym writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseArray {
    pub rows: u64,
    pub cols: u64,
    pub class: ArrayClass,
    /// column starts, `cols + 1` entries
    pub jc: Vec<u64>,
    /// row index of each stored element
    pub ir: Vec<u64>,
    /// the stored elements (`ir.len()` of them): real, then imaginary
    pub data: NdArray,
}

/// A value of a `<blob>`: everything DataJoint Python and MATLAB put in one.
#[derive(Debug, Clone, PartialEq)]
pub enum BlobValue {
    /// Python `None`
    None,
    Bool(bool),
    /// a Python int that fits in 64 bits
    Int(i64),
    /// a Python int beyond 64 bits: little-endian two's complement
    BigInt(Vec<u8>),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bytes(Bytes),
    /// exact decimal text (Python `Decimal`)
    Decimal(String),
    /// days since 1970-01-01
    Date(i32),
    /// microseconds since midnight
    Time(i64),
    /// microseconds since 1970-01-01T00:00:00
    Datetime(i64),
    Uuid([u8; 16]),
    Tuple(Vec<BlobValue>),
    List(Vec<BlobValue>),
    Set(Vec<BlobValue>),
    /// a mapping, in its order
    Dict(Vec<(BlobValue, BlobValue)>),
    Array(NdArray),
    Struct(StructArray),
    Cell(CellArray),
    /// a numpy object (or unicode) array: `'A'` of class 5 whose elements are blobs (dj0)
    ObjectArray(CellArray),
    /// a numpy structured array: named fields, each an array or a nested record (dj0)
    Record(Vec<(String, BlobValue)>),
    Sparse(SparseArray),
}

impl BlobValue {
    /// MATLAB's `[]`.
    pub fn empty_matrix() -> BlobValue {
        BlobValue::Array(NdArray {
            class: ArrayClass::Double,
            shape: vec![0, 0],
            complex: false,
            data: Bytes::new(),
        })
    }
    /// A 1×1 double, as MATLAB writes a number.
    pub fn scalar(v: f64) -> BlobValue {
        BlobValue::Array(NdArray::from_slice(vec![1, 1], &[v]).expect("1x1"))
    }
    pub fn type_name(&self) -> &'static str {
        match self {
            BlobValue::None => "none",
            BlobValue::Bool(_) => "bool",
            BlobValue::Int(_) | BlobValue::BigInt(_) => "int",
            BlobValue::Float(_) => "float",
            BlobValue::Complex(..) => "complex",
            BlobValue::Str(_) => "str",
            BlobValue::Bytes(_) => "bytes",
            BlobValue::Decimal(_) => "decimal",
            BlobValue::Date(_) => "date",
            BlobValue::Time(_) => "time",
            BlobValue::Datetime(_) => "datetime",
            BlobValue::Uuid(_) => "uuid",
            BlobValue::Tuple(_) => "tuple",
            BlobValue::List(_) => "list",
            BlobValue::Set(_) => "set",
            BlobValue::Dict(_) => "dict",
            BlobValue::Array(_) => "array",
            BlobValue::Struct(_) => "struct",
            BlobValue::Cell(_) => "cell",
            BlobValue::ObjectArray(_) => "object array",
            BlobValue::Record(_) => "record",
            BlobValue::Sparse(_) => "sparse",
        }
    }
    /// Whether mym (MATLAB) can read this value: arrays with at least one dimension (not
    /// datetime64), structs, cells and sparse matrices of such values.
    pub fn is_matlab(&self) -> bool {
        match self {
            BlobValue::Array(a) => {
                !a.shape.is_empty() && !matches!(a.class, ArrayClass::Datetime64(_))
            }
            BlobValue::Struct(s) => s.values.iter().all(BlobValue::is_matlab),
            BlobValue::Cell(c) => c.items.iter().all(BlobValue::is_matlab),
            BlobValue::Sparse(_) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
