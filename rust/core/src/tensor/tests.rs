use super::*;
use proptest::prelude::*;

/// A deterministic "trained weights" stand-in: Gaussian-ish values from a
/// linear congruential generator (sum of uniforms), as f32 bits.
fn weights_f32(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u64 << 24) as f32
    };
    (0..n)
        .map(|_| (next() + next() + next() + next() - 2.0) * 0.05)
        .collect()
}

fn to_bytes_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn to_bf16(v: &[f32]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| ((x.to_bits() >> 16) as u16).to_le_bytes())
        .collect()
}

fn roundtrip(data: &[u8], dtype: DType, opts: &Options) -> Vec<u8> {
    let frames = encode(data, dtype, opts).unwrap();
    let n = (data.len() / dtype.itemsize()) as u64;
    let back = decode(
        &frames,
        dtype,
        opts.chunk_elems,
        n,
        usize::MAX,
        opts.threads,
    )
    .unwrap();
    assert_eq!(back, data, "{dtype:?} {opts:?}");
    frames
}

#[test]
fn weights_compress_and_round_trip() {
    let w = weights_f32(300_000, 1);
    let f32b = to_bytes_f32(&w);
    let bf = to_bf16(&w);
    for method in [
        Method::Auto,
        Method::Split,
        Method::Bytes,
        Method::Joint,
        Method::Stored,
        Method::Range,
    ] {
        let opts = Options {
            method,
            ..Options::default()
        };
        let a = roundtrip(&f32b, DType::F32, &opts);
        let b = roundtrip(&bf, DType::BF16, &opts);
        if method != Method::Stored {
            assert!(
                a.len() < f32b.len() * 90 / 100,
                "{method:?} f32 {}",
                a.len()
            );
            assert!(b.len() < bf.len() * 75 / 100, "{method:?} bf16 {}", b.len());
        }
    }
    // On bell-shaped weights the joint layout (exponent with the top
    // mantissa bits) goes below the order-0 exponent-entropy bound, which
    // the plain field split cannot reach.
    let ideal = entropy_ideal(&bf, DType::BF16, DEFAULT_CHUNK_ELEMS).unwrap();
    let got = roundtrip(&bf, DType::BF16, &Options::default()).len() as f64;
    let split = roundtrip(
        &bf,
        DType::BF16,
        &Options {
            method: Method::Split,
            ..Options::default()
        },
    )
    .len() as f64;
    assert!(got < ideal && ideal < split, "{got} {ideal} {split}");
}

/// Round-to-nearest-even f32 -> f16 bits (normal range only: the weights
/// of these tests are far from overflow; tiny values flush to zero).
fn to_f16(v: &[f32]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| {
            let b = x.to_bits();
            let sign = ((b >> 16) & 0x8000) as u16;
            let e = ((b >> 23) & 0xFF) as i32 - 127 + 15;
            let h = if e <= 0 {
                sign
            } else {
                let m = b & 0x7F_FFFF;
                let r = (m >> 13) + u32::from((m & 0x1FFF) > 0x1000 || (m & 0x3FFF) == 0x3000);
                sign | (((e as u32) << 10) + r) as u16
            };
            h.to_le_bytes()
        })
        .collect()
}

#[test]
fn f16_weights_take_the_joint_layout() {
    // fp16 weights: the joint layout (rank and top mantissa bits coded,
    // the sign packed apart) is what `auto` picks, no larger than byte
    // grouping (which codes the sign inside the symbol), and it round-trips
    // with the sign plane read packed (fused merge) and, with one chunk
    // size that leaves a tail, through the portable merge for the rest.
    let h = to_f16(&weights_f32(300_000, 5));
    let with = |method, chunk_elems| Options {
        method,
        chunk_elems,
        ..Options::default()
    };
    for chunk in [DEFAULT_CHUNK_ELEMS, 4099] {
        let auto = roundtrip(&h, DType::F16, &with(Method::Auto, chunk));
        let joint = roundtrip(&h, DType::F16, &with(Method::Joint, chunk));
        let bytes = roundtrip(&h, DType::F16, &with(Method::Bytes, chunk));
        assert_eq!(auto, joint, "auto picks joint for fp16 weights");
        assert!(
            joint.len() <= bytes.len(),
            "{} {}",
            joint.len(),
            bytes.len()
        );
        roundtrip(&h, DType::F16, &with(Method::Range, chunk));
    }
}

#[test]
fn encode_into_writes_what_encode_returns() {
    // Threads write frames into worst-case slots and close the gaps after:
    // the bytes are the frames coded one after another, for any thread count, chunk size (a short
    // last chunk included), data that stores (random) or codes, and a
    // buffer of exactly max_encoded_len; a smaller one is refused.
    let noise = codec::quick_plan_tests::xorshift(60_000, 7, 0xFF);
    let bf = to_bf16(&weights_f32(70_001, 3));
    for (data, dtype) in [
        (&bf, DType::BF16),
        (&noise, DType::F32),
        (&noise, DType::U8),
    ] {
        for threads in [1, 0, 3] {
            for chunk_elems in [1024, 4096, DEFAULT_CHUNK_ELEMS] {
                let opts = Options {
                    chunk_elems,
                    threads,
                    ..Options::default()
                };
                // The reference: each chunk's frame in turn, appended.
                let layout = choose_layout(data, dtype, &opts);
                let mut want = Vec::new();
                let mut planes = Vec::new();
                for c in data.chunks(chunk_elems * dtype.itemsize()) {
                    encode_frame(c, dtype, &opts, layout, &mut planes, &mut want);
                }
                assert_eq!(encode(data, dtype, &opts).unwrap(), want);
                let mut out = vec![0xEEu8; max_encoded_len(data.len(), dtype, chunk_elems)];
                let n = encode_into(data, dtype, &opts, &mut out).unwrap();
                assert_eq!(&out[..n], &want[..], "{dtype:?} {threads} {chunk_elems}");
                out.pop();
                assert!(encode_into(data, dtype, &opts, &mut out).is_err());
            }
        }
    }
}

#[test]
fn output_does_not_depend_on_threads() {
    let bf = to_bf16(&weights_f32(200_000, 2));
    let opts = |threads| Options {
        chunk_elems: 4096,
        threads,
        ..Options::default()
    };
    let one = encode(&bf, DType::BF16, &opts(1)).unwrap();
    assert_eq!(one, encode(&bf, DType::BF16, &opts(0)).unwrap());
    assert_eq!(one, encode(&bf, DType::BF16, &opts(3)).unwrap());
    for t in [0, 1, 3] {
        let mut out = vec![0u8; bf.len()];
        decode_into(&one, DType::BF16, 4096, &mut out, 0, t).unwrap();
        assert_eq!(out, bf);
    }
}

#[test]
fn edge_sizes_and_constant_data() {
    for dtype in DType::ALL {
        let w = dtype.itemsize();
        for n in [0usize, 1, 2, 3, 1023, 1024, 1025, 5000] {
            let zeros = vec![0u8; n * w];
            let frames = roundtrip(
                &zeros,
                dtype,
                &Options {
                    chunk_elems: 1024,
                    ..Options::default()
                },
            );
            // Constant chunks cost a few bytes each.
            assert!(frames.len() <= n.div_ceil(1024) * (FRAME_HEADER_SIZE + 1 + 2 * w));
            let ramp: Vec<u8> = (0..n * w).map(|i| (i * 7 + i / 3) as u8).collect();
            roundtrip(
                &ramp,
                dtype,
                &Options {
                    chunk_elems: 1024,
                    ..Options::default()
                },
            );
        }
    }
}

#[test]
fn special_values_round_trip() {
    // Every 16-bit pattern, as bf16 and as f16: all NaN payloads, both
    // zeros, both infinities, every subnormal.
    let all: Vec<u8> = (0..=u16::MAX).flat_map(|x| x.to_le_bytes()).collect();
    for dtype in [DType::BF16, DType::F16, DType::I16, DType::U16] {
        for method in [Method::Auto, Method::Split, Method::Bytes, Method::Range] {
            roundtrip(
                &all,
                dtype,
                &Options {
                    method,
                    chunk_elems: 1024,
                    ..Options::default()
                },
            );
        }
    }
    let bytes: Vec<u8> = (0..=255u8).collect();
    for dtype in [DType::F8E4M3, DType::F8E5M2, DType::U8, DType::Bool] {
        roundtrip(&bytes, dtype, &Options::default());
    }
    let specials: Vec<u8> = [
        0u32,
        0x8000_0000,
        0x7F80_0000,
        0xFF80_0000,
        0x7FC0_0000,
        0x7F80_0001,
        0xFFFF_FFFF,
        0x0000_0001,
        0x807F_FFFF,
        0x3F80_0000,
    ]
    .iter()
    .flat_map(|x| x.to_le_bytes())
    .collect();
    roundtrip(&specials, DType::F32, &Options::default());
}

#[test]
fn corruption_is_detected_and_named() {
    let bf = to_bf16(&weights_f32(10_000, 3));
    let frames = encode(
        &bf,
        DType::BF16,
        &Options {
            chunk_elems: 1024,
            ..Options::default()
        },
    )
    .unwrap();
    let mut out = vec![0u8; bf.len()];
    // Truncation anywhere.
    for cut in [0, 1, 7, 8, frames.len() / 2, frames.len() - 1] {
        let e = decode_into(&frames[..cut], DType::BF16, 1024, &mut out, 0, 1).unwrap_err();
        assert!(matches!(e, TensorError::Truncated { .. }), "{cut}: {e}");
    }
    // Trailing bytes.
    let mut long = frames.clone();
    long.push(0);
    assert!(matches!(
        decode_into(&long, DType::BF16, 1024, &mut out, 0, 1),
        Err(TensorError::TrailingData { .. })
    ));
    // Every single-bit flip in the first two frames is caught, and the chunk
    // numbers are shifted by first_chunk.
    let second = FRAME_HEADER_SIZE + u32::from_le_bytes(frames[..4].try_into().unwrap()) as usize;
    for byte in (0..second + 40).step_by(3) {
        for bit in [0, 3, 7] {
            let mut bad = frames.clone();
            bad[byte] ^= 1 << bit;
            let e = decode_into(&bad, DType::BF16, 1024, &mut out, 100, 0).unwrap_err();
            let s = e.to_string();
            assert!(s.contains("chunk 10"), "{byte}/{bit}: {s}");
        }
    }
    // A wrong dtype or chunk size on the reading side is an error, not a
    // panic.
    let mut small = vec![0u8; bf.len() / 2];
    assert!(decode_into(&frames, DType::U8, 1024, &mut small, 0, 1).is_err());
    assert!(decode_into(&frames, DType::BF16, 2048, &mut out, 0, 1).is_err());
}

#[test]
fn bad_arguments() {
    assert!(encode(&[0; 3], DType::BF16, &Options::default()).is_err());
    assert!(encode(
        &[0; 4],
        DType::BF16,
        &Options {
            chunk_elems: 10,
            ..Options::default()
        }
    )
    .is_err());
    assert!(decode(&[], DType::F32, 1024, 1 << 40, 1 << 20, 1).is_err());
    assert!(decode(&[], DType::F32, 1024, 1 << 20, usize::MAX, 1).is_err());
    assert_eq!(DType::from_name("F8_E4M3"), Ok(DType::F8E4M3));
    assert!(DType::from_name("F128").is_err());
}

proptest! {
    #[test]
    fn random_bits_round_trip(
        data in prop::collection::vec(any::<u8>(), 0..6000),
        dtype in prop::sample::select(DType::ALL.to_vec()),
        method in prop::sample::select(vec![Method::Auto, Method::Split, Method::Bytes, Method::Joint, Method::Range]),
    ) {
        let w = dtype.itemsize();
        let data = &data[..data.len() / w * w];
        roundtrip(data, dtype, &Options { method, chunk_elems: 1024, ..Options::default() });
    }

    #[test]
    fn garbage_never_panics(
        data in prop::collection::vec(any::<u8>(), 0..400),
        n in 0usize..3000,
    ) {
        let mut out = vec![0u8; n * 2];
        let _ = decode_into(&data, DType::BF16, 1024, &mut out, 0, 1);
    }
}

#[test]
fn range_planes_are_smaller_and_checked() {
    let bf = to_bf16(&weights_f32(300_000, 7));
    let opts = |method| Options {
        method,
        ..Options::default()
    };
    let joint = roundtrip(&bf, DType::BF16, &opts(Method::Joint));
    let range = roundtrip(&bf, DType::BF16, &opts(Method::Range));
    assert!(range.len() < joint.len(), "{} {}", range.len(), joint.len());
    // Some plane of the first chunk is range-coded: flip bytes all over
    // the frames; every change is refused (by a check or the CRC), never
    // a panic or wrong values.
    assert!(range[FRAME_HEADER_SIZE..].contains(&4));
    let n = (bf.len() / 2) as u64;
    for at in (FRAME_HEADER_SIZE..range.len()).step_by(997) {
        let mut bad = range.clone();
        bad[at] ^= 0x5A;
        assert!(decode(&bad, DType::BF16, DEFAULT_CHUNK_ELEMS, n, usize::MAX, 1).is_err());
    }
    // Truncating a range body is refused too.
    let mut cut = range.clone();
    cut.truncate(range.len() - 1);
    assert!(decode(&cut, DType::BF16, DEFAULT_CHUNK_ELEMS, n, usize::MAX, 1).is_err());
}
