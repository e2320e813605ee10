//! `<blob>` / `<blob@store>`: any value tree ([`BlobValue`]) in the DataJoint blob format, in
//! the table or hash-addressed in a store (the format itself is in [`crate::blob`]).

use crate::blob::{self, ArrayClass, BlobValue, NdArray};
use crate::npy::Dtype;
use crate::value::{ArrayValue, Elem};
use bytes::Bytes;
use std::borrow::Cow;

/// The value tree of an input element: a tree as given, or a scalar / array as DataJoint Python
/// packs the same Python value.
pub fn tree_of<'e>(e: &Elem<'e>) -> Result<Cow<'e, BlobValue>, String> {
    Ok(Cow::Owned(match *e {
        Elem::Blob(v) => return Ok(Cow::Borrowed(v)),
        Elem::Bool(b) => BlobValue::Bool(b),
        Elem::Int(i) => BlobValue::Int(i),
        Elem::UInt(u) => BlobValue::BigInt(u.to_le_bytes().iter().copied().chain([0]).collect()),
        Elem::Float(f) => BlobValue::Float(f),
        Elem::Str(s) => BlobValue::Str(s.to_string()),
        Elem::Bytes(b) => BlobValue::Bytes(Bytes::copy_from_slice(b)),
        Elem::Date(d) => BlobValue::Date(d),
        Elem::Datetime(d) => BlobValue::Datetime(d),
        Elem::Uuid(u) => BlobValue::Uuid(*u),
        Elem::Decimal(s) => BlobValue::Decimal(s.to_string()),
        Elem::Array(a) => BlobValue::Array(array_of(a)?),
        Elem::Json(_) => {
            return Err("a JSON document is not a blob value (give a value tree)".into())
        }
        Elem::Attach(..) => return Err("an attachment is not a blob value".into()),
        Elem::Null => BlobValue::None,
    }))
}

/// Pack an input element.
pub fn encode(e: &Elem) -> Result<Bytes, String> {
    let t = tree_of(e)?;
    blob::pack(&t).map(Bytes::from)
}

/// An `<npy>`-style array as a blob array: numpy's dtype → MATLAB class, data to column-major
/// order, complex numbers split into real and imaginary parts.
pub fn array_of(a: &ArrayValue) -> Result<NdArray, String> {
    a.validate()?;
    let (class, complex) = match a.dtype {
        Dtype::Bool => (ArrayClass::Logical, false),
        Dtype::Int8 => (ArrayClass::Int8, false),
        Dtype::Int16 => (ArrayClass::Int16, false),
        Dtype::Int32 => (ArrayClass::Int32, false),
        Dtype::Int64 => (ArrayClass::Int64, false),
        Dtype::Uint8 => (ArrayClass::UInt8, false),
        Dtype::Uint16 => (ArrayClass::UInt16, false),
        Dtype::Uint32 => (ArrayClass::UInt32, false),
        Dtype::Uint64 => (ArrayClass::UInt64, false),
        Dtype::Float32 => (ArrayClass::Single, false),
        Dtype::Float64 => (ArrayClass::Double, false),
        Dtype::Complex64 => (ArrayClass::Single, true),
        Dtype::Complex128 => (ArrayClass::Double, true),
        other => {
            return Err(format!(
                "{} arrays cannot be stored in a <blob>",
                other.name()
            ))
        }
    };
    let src = a.data.bytes();
    let w = a.dtype.itemsize();
    let n = a.size() as usize;
    // element order: column-major index k → source element
    let fortran = a.fortran_order || a.shape.len() <= 1;
    let order: Option<Vec<usize>> = (!fortran).then(|| c_to_f_order(&a.shape));
    let elem = |k: usize| -> &[u8] {
        let i = order.as_ref().map_or(k, |o| o[k]);
        &src[i * w..(i + 1) * w]
    };
    let mut out = Vec::with_capacity(src.len());
    if complex {
        let h = w / 2;
        for k in 0..n {
            out.extend_from_slice(&elem(k)[..h]);
        }
        for k in 0..n {
            out.extend_from_slice(&elem(k)[h..]);
        }
    } else if order.is_none() {
        out.extend_from_slice(src);
    } else {
        for k in 0..n {
            out.extend_from_slice(elem(k));
        }
    }
    NdArray::new(class, a.shape.clone(), complex, Bytes::from(out))
}

/// For each column-major position, the row-major index of the same element.
fn c_to_f_order(shape: &[u64]) -> Vec<usize> {
    let n: usize = shape.iter().product::<u64>() as usize;
    let nd = shape.len();
    let mut cstride = vec![1usize; nd];
    for d in (0..nd.saturating_sub(1)).rev() {
        cstride[d] = cstride[d + 1] * shape[d + 1] as usize;
    }
    let mut idx = vec![0u64; nd];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(
            idx.iter()
                .zip(&cstride)
                .map(|(&i, &s)| i as usize * s)
                .sum(),
        );
        for d in 0..nd {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_order_arrays_become_column_major() {
        // [[1,2,3],[4,5,6]] in C order → column-major 1,4,2,5,3,6
        let data: Vec<u8> = [1.0f64, 2., 3., 4., 5., 6.]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let a = ArrayValue::new(Dtype::Float64, vec![2, 3], false, data);
        let nd = array_of(&a).unwrap();
        assert_eq!(nd.real_as::<f64>().unwrap(), [1., 4., 2., 5., 3., 6.]);
        let z: Vec<u8> = [1.0f64, -1., 2., -2.]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let c = array_of(&ArrayValue::new(Dtype::Complex128, vec![2], false, z)).unwrap();
        assert_eq!(c.real_as::<f64>().unwrap(), [1., 2.]);
        assert_eq!(c.imag_as::<f64>().unwrap(), [-1., -2.]);
    }
}
