//! Golden vectors (real MATLAB blobs, the reference's worked examples), round trips and a
//! bounded mutation fuzz of the decoder.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn matlab_blobs() -> Vec<(u32, Vec<u8>)> {
    include_str!("testdata/matlab_mym.hex")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (id, h) = l.split_once(' ').unwrap();
            (id.parse().unwrap(), hex(h))
        })
        .collect()
}

fn doubles(v: &BlobValue) -> (Vec<u64>, Vec<f64>) {
    match v {
        BlobValue::Array(a) => (a.shape.clone(), a.real_as::<f64>().unwrap().to_vec()),
        other => panic!("not an array: {other:?}"),
    }
}

fn unpack_vec(b: &[u8]) -> Result<BlobValue, String> {
    unpack(Bytes::copy_from_slice(b))
}

#[test]
fn matlab_golden_vectors_decode() {
    let blobs = matlab_blobs();
    assert_eq!(blobs.len(), 7);
    let v: Vec<BlobValue> = blobs.iter().map(|(_, b)| unpack_vec(b).unwrap()).collect();
    // 1: 'character string'
    let BlobValue::Array(a) = &v[0] else { panic!() };
    assert_eq!(a.class, ArrayClass::Char);
    assert_eq!(a.shape, vec![1, 16]);
    assert_eq!(a.char_text().unwrap(), "character string");
    // 2: 1:15:180
    let (shape, data) = doubles(&v[1]);
    assert_eq!(shape, vec![1, 12]);
    assert_eq!(
        data,
        (0..12).map(|k| 1.0 + 15.0 * k as f64).collect::<Vec<_>>()
    );
    // 3: {'string1' 'string2'}
    let BlobValue::Cell(c) = &v[2] else { panic!() };
    assert_eq!(c.shape, vec![1, 2]);
    let texts: Vec<String> = c
        .items
        .iter()
        .map(|x| match x {
            BlobValue::Array(a) => a.char_text().unwrap(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(texts, ["string1", "string2"]);
    // 4: struct('a', {1,2}, 'b', {struct('c', magic(3)), struct('C', magic(5))})
    let BlobValue::Struct(s) = &v[3] else {
        panic!()
    };
    assert_eq!(s.shape, vec![1, 2]);
    assert_eq!(s.fields, ["a", "b"]);
    assert_eq!(doubles(s.get(0, "a").unwrap()).1, [1.0]);
    assert_eq!(doubles(s.get(1, "a").unwrap()).1, [2.0]);
    let BlobValue::Struct(b0) = s.get(0, "b").unwrap() else {
        panic!()
    };
    assert_eq!(b0.fields, ["c"]);
    let (sh, m3) = doubles(b0.get(0, "c").unwrap());
    assert_eq!(sh, vec![3, 3]);
    assert_eq!(m3, [8.0, 3.0, 4.0, 1.0, 5.0, 9.0, 6.0, 7.0, 2.0]);
    let BlobValue::Struct(b1) = s.get(1, "b").unwrap() else {
        panic!()
    };
    assert_eq!(b1.fields, ["C"]);
    let (sh, m5) = doubles(b1.get(0, "C").unwrap());
    assert_eq!(sh, vec![5, 5]);
    assert_eq!(&m5[..5], &[17.0, 23.0, 4.0, 10.0, 11.0]);
    // 5: reshape(1:24, [2,3,4])
    let (sh, d) = doubles(&v[4]);
    assert_eq!(sh, vec![2, 3, 4]);
    assert_eq!(d, (1..=24).map(|k| k as f64).collect::<Vec<_>>());
    // 6: uint8
    let BlobValue::Array(a) = &v[5] else { panic!() };
    assert_eq!(a.real_as::<u8>().unwrap(), (1..=24).collect::<Vec<u8>>());
    assert_eq!(a.shape, vec![2, 3, 4]);
    // 7: fftn(reshape(1:24, [2,3,4])): the sum is 300, the rest sums to 0
    let BlobValue::Array(a) = &v[6] else { panic!() };
    assert!(a.complex);
    let re = a.real_as::<f64>().unwrap();
    let im = a.imag_as::<f64>().unwrap();
    assert_eq!((re.len(), im.len()), (24, 24));
    assert_eq!(re[0], 300.0);
    assert_eq!(re[1], -12.0);
    assert!(im.iter().sum::<f64>().abs() < 1e-9);
    // every MATLAB blob is MATLAB-representable, so it packs back as mYm
    for x in &v {
        assert!(x.is_matlab(), "{x:?}");
    }
}

#[test]
fn matlab_golden_vectors_repack_byte_identical() {
    for (id, b) in matlab_blobs() {
        let v = unpack_vec(&b).unwrap();
        let again = pack_with(&v, PackOptions { compress: false }).unwrap();
        assert_eq!(again, b, "blob {id} repacks differently");
    }
}

#[test]
fn reference_worked_examples() {
    let no_z = PackOptions { compress: false };
    let a = NdArray::from_slice(vec![2], &[1.0f64, 2.0]).unwrap();
    assert_eq!(
        pack_with(&BlobValue::Array(a), no_z).unwrap(),
        hex("6d596d00 41 0100000000000000 0200000000000000 06000000 00000000 000000000000f03f 0000000000000040")
    );
    let d = BlobValue::Dict(vec![(BlobValue::Str("a".into()), BlobValue::Int(1))]);
    let want = hex("646a3000 04 0100000000000000 0a00000000000000 05 0100000000000000 61  0400000000000000 0a 0100 01");
    assert_eq!(pack_with(&d, no_z).unwrap(), want);
    assert_eq!(unpack_vec(&want).unwrap(), d);
    assert_eq!(
        pack(&BlobValue::Float(3.5)).unwrap(),
        hex("646a3000 0d 0000000000000c40")
    );
    assert_eq!(pack(&BlobValue::None).unwrap(), hex("646a3000 ff"));
    let dt = crate::value::micros_of(2024, 1, 2, 3, 4, 5, 6).unwrap();
    let want = hex("646a3000 74 e6d63401 467b471407000000");
    assert_eq!(pack(&BlobValue::Datetime(dt)).unwrap(), want);
    assert_eq!(unpack_vec(&want).unwrap(), BlobValue::Datetime(dt));
}

#[test]
fn python_ints_follow_the_reference_width_rule() {
    // nbytes = bit_length // 8 + 1, two's complement, little-endian
    for (v, h) in [
        (0i64, "0a 0100 00"),
        (1, "0a 0100 01"),
        (-1, "0a 0100 ff"),
        (127, "0a 0100 7f"),
        (128, "0a 0200 8000"),
        (255, "0a 0200 ff00"),
        (-128, "0a 0200 80ff"),
        (-129, "0a 0200 7fff"),
        (i64::MIN, "0a 0900 0000000000000080ff"),
    ] {
        let mut want = DJ0.to_vec();
        want.extend(hex(h));
        assert_eq!(pack(&BlobValue::Int(v)).unwrap(), want, "{v}");
        assert_eq!(unpack_vec(&want).unwrap(), BlobValue::Int(v), "{v}");
    }
    // 2**70 needs 9 bytes + sign
    let mut big = vec![0u8; 9];
    big[8] = 0x40;
    let v = BlobValue::BigInt(big.clone());
    let packed = pack(&v).unwrap();
    assert_eq!(&packed[4..7], &[0x0a, 9, 0]);
    assert_eq!(unpack_vec(&packed).unwrap(), v);
}

fn every_kind() -> BlobValue {
    let cplx = NdArray::new(
        ArrayClass::Single,
        vec![2, 1],
        true,
        Bytes::from(
            [1.0f32, 2.0, 3.0, 4.0]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
    )
    .unwrap();
    let mut st = StructArray::new(vec![1, 2], vec!["x".into(), "name".into()]);
    st.values[0] = BlobValue::scalar(1.0);
    st.values[1] = BlobValue::Array(NdArray::char_row("first"));
    st.values[3] = BlobValue::Array(NdArray::char_row("second é"));
    BlobValue::Dict(vec![
        (BlobValue::Str("none".into()), BlobValue::None),
        (BlobValue::Str("bool".into()), BlobValue::Bool(true)),
        (BlobValue::Int(7), BlobValue::Int(-123456789012)),
        (BlobValue::Str("float".into()), BlobValue::Float(-0.25)),
        (
            BlobValue::Str("complex".into()),
            BlobValue::Complex(1.5, -2.0),
        ),
        (
            BlobValue::Str("str".into()),
            BlobValue::Str("héllo ✓".into()),
        ),
        (
            BlobValue::Str("bytes".into()),
            BlobValue::Bytes(Bytes::from_static(b"\0\x01\xff")),
        ),
        (
            BlobValue::Str("dec".into()),
            BlobValue::Decimal("-12.3400".into()),
        ),
        (BlobValue::Str("date".into()), BlobValue::Date(19000)),
        (
            BlobValue::Str("time".into()),
            BlobValue::Time(3_723_000_004),
        ),
        (BlobValue::Str("uuid".into()), BlobValue::Uuid([7; 16])),
        (
            BlobValue::Str("seq".into()),
            BlobValue::Tuple(vec![
                BlobValue::List(vec![BlobValue::Int(1), BlobValue::Str("a".into())]),
                BlobValue::Set(vec![BlobValue::Int(2)]),
            ]),
        ),
        (BlobValue::Str("cplx".into()), BlobValue::Array(cplx)),
        (BlobValue::Str("struct".into()), BlobValue::Struct(st)),
        (
            BlobValue::Str("cell".into()),
            BlobValue::Cell(CellArray {
                shape: vec![1, 2],
                items: vec![BlobValue::empty_matrix(), BlobValue::scalar(2.0)],
            }),
        ),
        (
            BlobValue::Str("objects".into()),
            BlobValue::ObjectArray(CellArray {
                shape: vec![2],
                items: vec![BlobValue::Str("u1".into()), BlobValue::Str("u2".into())],
            }),
        ),
        (
            BlobValue::Str("record".into()),
            BlobValue::Record(vec![
                (
                    "a".into(),
                    BlobValue::Array(NdArray::from_slice(vec![3], &[1i32, 2, 3]).unwrap()),
                ),
                (
                    "b".into(),
                    BlobValue::Array(NdArray::from_slice(vec![3], &[0.5f64, 1.5, 2.5]).unwrap()),
                ),
            ]),
        ),
        (
            BlobValue::Str("dt64".into()),
            BlobValue::Array(
                NdArray::new(
                    ArrayClass::Datetime64(3),
                    vec![2],
                    false,
                    Bytes::from(
                        [1i64, 2]
                            .iter()
                            .flat_map(|x| x.to_le_bytes())
                            .collect::<Vec<u8>>(),
                    ),
                )
                .unwrap(),
            ),
        ),
        (
            BlobValue::Str("sparse".into()),
            BlobValue::Sparse(SparseArray {
                rows: 3,
                cols: 2,
                class: ArrayClass::Double,
                jc: vec![0, 1, 2],
                ir: vec![2, 0],
                data: NdArray::from_slice(vec![2, 1], &[5.0f64, 6.0]).unwrap(),
            }),
        ),
    ])
}

#[test]
fn every_kind_round_trips_with_and_without_compression() {
    let v = every_kind();
    for compress in [false, true] {
        let b = pack_with(&v, PackOptions { compress }).unwrap();
        assert_eq!(&b[..4], if compress { &ZLIB_MAGIC[..4] } else { DJ0 });
        assert_eq!(unpack_vec(&b).unwrap(), v);
    }
}

#[test]
fn compression_only_when_it_pays() {
    let zeros = NdArray::from_slice(vec![1, 100_000], &vec![0.0f64; 100_000]).unwrap();
    let z = pack(&BlobValue::Array(zeros.clone())).unwrap();
    assert_eq!(&z[..6], ZLIB_MAGIC);
    assert!(z.len() < 10_000);
    assert_eq!(unpack_vec(&z).unwrap(), BlobValue::Array(zeros));
    // pseudo-random doubles: stored as they are
    let mut x = 0x9E3779B97F4A7C15u64;
    let noise: Vec<f64> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f64::from_bits((x >> 12) | 0x3FF0_0000_0000_0000)
        })
        .collect();
    let a = BlobValue::Array(NdArray::from_slice(vec![100_000, 1], &noise).unwrap());
    let b = pack(&a).unwrap();
    assert_eq!(&b[..4], MYM);
    assert_eq!(unpack_vec(&b).unwrap(), a);
}

#[test]
fn decoded_arrays_are_views_of_the_buffer() {
    let a = BlobValue::Array(NdArray::from_slice(vec![1, 1000], &vec![2.5f64; 1000]).unwrap());
    let b = Bytes::from(pack_with(&a, PackOptions { compress: false }).unwrap());
    let range = b.as_ptr() as usize..b.as_ptr() as usize + b.len();
    let BlobValue::Array(got) = unpack(b.clone()).unwrap() else {
        panic!()
    };
    let p = got.real().as_ptr() as usize;
    // aligned in place (the header is 4 + 1 + 8 + 16 + 8 = 37 bytes, so a copy is needed for
    // f64 alignment only when the buffer's base makes it misaligned)
    if (range.start + 37) % 8 == 0 {
        assert!(range.contains(&p), "a copy was made");
    }
    assert_eq!(p % 8, 0);
}

#[test]
fn legacy_32bit_dims() {
    // 'A', ndim 2 (u32), dims 1,2 (u32), class double, real; two doubles
    let mut b = MYM.to_vec();
    b.push(b'A');
    for v in [2u32, 1, 2, 6, 0] {
        b.extend(v.to_le_bytes());
    }
    b.extend(1.0f64.to_le_bytes());
    b.extend(2.0f64.to_le_bytes());
    let v = unpack_with(
        Bytes::from(b.clone()),
        UnpackOptions {
            legacy_32bit_dims: true,
        },
    )
    .unwrap();
    assert_eq!(doubles(&v), (vec![1, 2], vec![1.0, 2.0]));
    assert!(unpack_vec(&b).is_err());
}

#[test]
fn bad_blobs_are_clear_errors() {
    let ok = pack_with(&every_kind(), PackOptions { compress: false }).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "too short"),
        (b"xyz\0\xff".to_vec(), "not a DataJoint blob"),
        (ok[..ok.len() - 3].to_vec(), "left"),
        (
            [DJ0.as_slice(), &[0x02], &u64::MAX.to_le_bytes()].concat(),
            "cannot fit",
        ),
        ([DJ0.as_slice(), &[0x99]].concat(), "unknown body code"),
        ([DJ0.as_slice(), &[0xff, 0xff]].concat(), "follow the value"),
        (
            [
                ZLIB_MAGIC.as_slice(),
                &(1u64 << 40).to_le_bytes(),
                &[0x78, 0x9c, 3, 0],
            ]
            .concat(),
            "claims",
        ),
        (
            [
                MYM.as_slice(),
                b"A",
                &1u64.to_le_bytes(),
                &u64::MAX.to_le_bytes(),
                &6u32.to_le_bytes(),
                &0u32.to_le_bytes(),
            ]
            .concat(),
            "needs more than",
        ),
    ];
    for (b, want) in cases {
        let e = unpack_vec(&b).unwrap_err();
        assert!(e.contains(want), "{e:?} lacks {want:?}");
    }
}

/// Mutation fuzz: flip, overwrite, insert and truncate bytes of valid blobs; the decoder must
/// return (Ok or a clear Err) without panicking, and quickly.
#[test]
fn fuzz_decoder_bounded() {
    let mut seeds: Vec<Vec<u8>> = matlab_blobs().into_iter().map(|(_, b)| b).collect();
    seeds.push(pack_with(&every_kind(), PackOptions { compress: false }).unwrap());
    seeds.push(
        pack(&BlobValue::Array(
            NdArray::from_slice(vec![1, 4000], &vec![1.0f64; 4000]).unwrap(),
        ))
        .unwrap(),
    );
    let mut x = 0x2545F4914F6CDD1Du64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let start = std::time::Instant::now();
    for round in 0..30_000 {
        let mut b = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rnd() % 4 {
            let n = b.len().max(1);
            match rnd() % 6 {
                0 => {
                    let i = (rnd() as usize) % n;
                    if i < b.len() {
                        b[i] ^= 1 << (rnd() % 8);
                    }
                }
                1 => {
                    let i = (rnd() as usize) % n;
                    if i < b.len() {
                        b[i] = rnd() as u8;
                    }
                }
                2 => b.truncate((rnd() as usize) % n),
                3 => {
                    // a lying 8-byte length
                    let i = (rnd() as usize) % n;
                    let v = [u64::MAX, 1 << 40, 1 << 31, 0][(rnd() % 4) as usize].to_le_bytes();
                    for (k, &c) in v.iter().enumerate() {
                        if i + k < b.len() {
                            b[i + k] = c;
                        }
                    }
                }
                4 => {
                    let i = (rnd() as usize) % n;
                    b.insert(i.min(b.len()), rnd() as u8);
                }
                _ => {
                    let i = (rnd() as usize) % n;
                    if i < b.len() {
                        b.remove(i);
                    }
                }
            }
        }
        let r = std::panic::catch_unwind(|| unpack_vec(&b));
        assert!(r.is_ok(), "panic on input {b:02x?}");
    }
    assert!(
        start.elapsed().as_secs() < 60,
        "the decoder is slow on bad input"
    );
}
