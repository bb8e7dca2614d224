//! Kernels against a plain reference written from the contract in the
//! module doc, for every dtype, layout shape, kernel build and thread count.
use super::half::{f16_to_f32, f32_to_bf16, f32_to_f16};
use super::*;

fn rng(seed: &mut u64) -> f32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// Random values with per-channel magnitudes and an offset (so asymmetric
/// differs from symmetric), some exact ties and some zero channels.
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|i| {
            let r = rng(&mut s);
            match i % 97 {
                0 => 0.0,
                1 => 0.5,
                _ => r * (1.0 + (i / 64 % 5) as f32) + 0.3,
            }
        })
        .collect()
}

fn encode(x: &[f32], dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in x {
        match dtype {
            Dtype::F32 => out.extend_from_slice(&v.to_le_bytes()),
            Dtype::Bf16 => out.extend_from_slice(&f32_to_bf16(v).to_le_bytes()),
            Dtype::F16 => out.extend_from_slice(&f32_to_f16(v).to_le_bytes()),
        }
    }
    out
}

fn decode(b: &[u8], dtype: Dtype) -> Vec<f32> {
    match dtype {
        Dtype::F32 => b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::Bf16 => b
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 => b
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
    }
}

/// The reference: per channel, plain loops, `round_ties_even`, and the
/// integers unpacked (one i32 per element, nibble value for int4).
fn reference(x: &[f32], l: Layout, sc: Scheme) -> (Vec<i32>, Vec<f32>, Vec<f32>) {
    let idx = |o: usize, c: usize, i: usize| (o * l.channels + c) * l.inner + i;
    let mut q = vec![0i32; x.len()];
    let mut scales = vec![];
    let mut zeros = vec![];
    for c in 0..l.channels {
        let (mut mn, mut mx) = (f32::INFINITY, f32::NEG_INFINITY);
        for o in 0..l.outer {
            for i in 0..l.inner {
                mn = mn.min(x[idx(o, c, i)]);
                mx = mx.max(x[idx(o, c, i)]);
            }
        }
        let (qmax, levels) = if sc.bits == 4 {
            (7.0f32, 15.0f32)
        } else {
            (127.0, 255.0)
        };
        let mut scale = if sc.symmetric {
            mn.abs().max(mx.abs()) / qmax
        } else {
            (mx.max(0.0) - mn.min(0.0)) / levels
        };
        if sc.fp16_scales {
            scale = f16_to_f32(f32_to_f16(scale));
        }
        if scale < f32::MIN_POSITIVE {
            scale = 1.0;
        }
        let inv = 1.0 / scale;
        let (z, lo, hi) = if sc.symmetric {
            let z = if sc.bits == 4 { 8.0 } else { 0.0 };
            (z, z - qmax, z + qmax)
        } else {
            (
                (-(mn.min(0.0) * inv).round_ties_even()).clamp(0.0, levels),
                0.0,
                levels,
            )
        };
        for o in 0..l.outer {
            for i in 0..l.inner {
                let v = ((x[idx(o, c, i)] * inv).round_ties_even() + z).clamp(lo, hi);
                q[idx(o, c, i)] = v as i32;
            }
        }
        scales.push(scale);
        if !sc.symmetric {
            zeros.push(z);
        }
    }
    (q, scales, zeros)
}

fn unpack(q: &[u8], sc: Scheme) -> Vec<i32> {
    if sc.bits == 4 {
        q.iter()
            .flat_map(|b| [(b & 15) as i32, (b >> 4) as i32])
            .collect()
    } else if sc.symmetric {
        q.iter().map(|&b| b as i8 as i32).collect()
    } else {
        q.iter().map(|&b| b as i32).collect()
    }
}

fn layouts() -> Vec<Layout> {
    let l = |outer, channels, inner| Layout {
        outer,
        channels,
        inner,
    };
    vec![
        l(1, 1, 1000),      // per tensor
        l(1, 24, 130),      // per channel, axis 0, odd tail
        l(1, 64, 32),       // group 32
        l(1, 40, 128),      // group 128
        l(1, 3, 70_000),    // long channels, split in pieces
        l(1, 700, 64),      // many tasks
        l(6, 10, 7),        // strided per-channel
        l(50, 33, 1),       // per channel along the last axis
        l(1, 1, 1 << 17),   // big per-tensor
        l(1, 1 << 11, 128), // parallel group-wise
    ]
}

#[test]
fn kernels_match_reference() {
    let isas = [Isa::Generic, Isa::Avx2];
    for (k, l) in layouts().into_iter().enumerate() {
        let n = l.outer * l.channels * l.inner;
        let x = data(n, 7 + k as u64);
        for dtype in [Dtype::F32, Dtype::Bf16, Dtype::F16] {
            let src = encode(&x, dtype);
            let xr = decode(&src, dtype);
            for bits in [8u32, 4] {
                if bits == 4 && (l.outer != 1 || l.inner % 2 != 0) {
                    continue;
                }
                for symmetric in [true, false] {
                    for fp16_scales in [false, true] {
                        let sc = Scheme {
                            bits,
                            symmetric,
                            fp16_scales,
                        };
                        let (rq, rs, rz) = reference(&xr, l, sc);
                        let mut first: Option<Vec<u8>> = None;
                        for isa in isas {
                            for threads in [1, 0, 3] {
                                let mut q = vec![0u8; sc.qbytes(n)];
                                let p = quantize_with(isa, &src, dtype, l, sc, &mut q, threads)
                                    .unwrap();
                                assert_eq!(p.scales, rs, "{l:?} {dtype:?} {sc:?}");
                                assert_eq!(p.zeros, rz, "{l:?} {dtype:?} {sc:?}");
                                assert!(unpack(&q, sc) == rq, "{l:?} {dtype:?} {sc:?} {isa:?}");
                                match &first {
                                    None => first = Some(q.clone()),
                                    Some(f) => assert_eq!(f, &q),
                                }
                                // Dequantization, to every output type.
                                for od in [Dtype::F32, Dtype::Bf16, Dtype::F16] {
                                    let mut out = vec![0u8; n * od.size()];
                                    dequantize_with(
                                        isa, &q, &p.scales, &p.zeros, l, sc, od, &mut out, threads,
                                    )
                                    .unwrap();
                                    let z = |c: usize| {
                                        if symmetric {
                                            sc.symmetric_zero()
                                        } else {
                                            rz[c]
                                        }
                                    };
                                    let want: Vec<f32> = (0..n)
                                        .map(|i| {
                                            let c = i / l.inner % l.channels;
                                            (rq[i] as f32 - z(c)) * rs[c]
                                        })
                                        .collect();
                                    assert_eq!(out, encode(&want, od), "{l:?} {sc:?} {od:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn error_is_bounded_by_half_a_step() {
    let l = Layout {
        outer: 1,
        channels: 16,
        inner: 128,
    };
    let x = data(16 * 128, 3);
    let src = encode(&x, Dtype::F32);
    for bits in [8, 4] {
        for symmetric in [true, false] {
            let sc = Scheme {
                bits,
                symmetric,
                fp16_scales: false,
            };
            let mut q = vec![0u8; sc.qbytes(x.len())];
            let p = quantize(&src, Dtype::F32, l, sc, &mut q, 1).unwrap();
            let mut out = vec![0u8; x.len() * 4];
            dequantize(&q, &p.scales, &p.zeros, l, sc, Dtype::F32, &mut out, 1).unwrap();
            for (i, (a, b)) in x.iter().zip(decode(&out, Dtype::F32)).enumerate() {
                let step = p.scales[i / 128];
                assert!((a - b).abs() <= step * 0.5001, "{a} {b} {step}");
            }
        }
    }
}

#[test]
fn unaligned_buffers() {
    let l = Layout {
        outer: 1,
        channels: 8,
        inner: 100,
    };
    let x = data(800, 11);
    let src = encode(&x, Dtype::F32);
    let sc = Scheme {
        bits: 8,
        symmetric: false,
        fp16_scales: false,
    };
    let mut q = vec![0u8; 800];
    let p = quantize(&src, Dtype::F32, l, sc, &mut q, 1).unwrap();
    for off in 1..4 {
        let mut shifted = vec![0u8; off];
        shifted.extend_from_slice(&src);
        let mut q2 = vec![0u8; 800 + off];
        let p2 = quantize(&shifted[off..], Dtype::F32, l, sc, &mut q2[off..], 1).unwrap();
        assert_eq!(p, p2);
        assert_eq!(q, q2[off..]);
    }
}

#[test]
fn bad_input_is_an_error() {
    let l = Layout {
        outer: 1,
        channels: 2,
        inner: 4,
    };
    let sc = Scheme {
        bits: 8,
        symmetric: true,
        fp16_scales: false,
    };
    let mut x = data(8, 1);
    let mut q = vec![0u8; 8];
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        x[5] = bad;
        let e = quantize(&encode(&x, Dtype::F32), Dtype::F32, l, sc, &mut q, 1);
        assert_eq!(e, Err(QuantError::NonFinite { channel: 1 }));
    }
    x[5] = 0.0;
    let src = encode(&x, Dtype::F32);
    let e = quantize(&src, Dtype::F32, l, Scheme { bits: 3, ..sc }, &mut q, 1);
    assert_eq!(e, Err(QuantError::BadBits(3)));
    let e = quantize(&src, Dtype::F32, Layout { inner: 3, ..l }, sc, &mut q, 1);
    assert!(matches!(e, Err(QuantError::BadLayout { .. })));
    let e = quantize(&src, Dtype::F32, l, sc, &mut q[..7], 1);
    assert!(matches!(e, Err(QuantError::BufferSize { .. })));
    let s4 = Scheme { bits: 4, ..sc };
    let e = quantize(
        &src,
        Dtype::F32,
        Layout {
            outer: 2,
            channels: 2,
            inner: 2,
        },
        s4,
        &mut q[..4],
        1,
    );
    assert!(matches!(e, Err(QuantError::Int4Layout { .. })));
    let e = quantize(&src[..31], Dtype::F32, l, sc, &mut q, 1);
    assert!(matches!(e, Err(QuantError::BufferSize { .. })));
    // float16 scales overflow for huge weights.
    let big = encode(&[1e30f32; 8], Dtype::F32);
    let e = quantize(
        &big,
        Dtype::F32,
        l,
        Scheme {
            fp16_scales: true,
            ..sc
        },
        &mut q,
        1,
    );
    assert_eq!(e, Err(QuantError::ScaleOverflow { channel: 0 }));
    // Dequantize: bad scales and missing zero points.
    let mut out = vec![0u8; 32];
    let e = dequantize(&q, &[1.0, f32::NAN], &[], l, sc, Dtype::F32, &mut out, 1);
    assert_eq!(e, Err(QuantError::BadScale { index: 1 }));
    let asym = Scheme {
        symmetric: false,
        ..sc
    };
    let e = dequantize(&q, &[1.0, 1.0], &[], l, asym, Dtype::F32, &mut out, 1);
    assert!(matches!(e, Err(QuantError::BufferSize { .. })));
}

#[test]
fn zero_and_empty() {
    let l = Layout {
        outer: 1,
        channels: 2,
        inner: 4,
    };
    let sc = Scheme {
        bits: 4,
        symmetric: true,
        fp16_scales: false,
    };
    let mut q = vec![0u8; 4];
    let p = quantize(&[0u8; 32], Dtype::F32, l, sc, &mut q, 1).unwrap();
    assert_eq!(p.scales, vec![1.0, 1.0]);
    assert_eq!(q, vec![0x88; 4]);
    let e = Layout {
        outer: 1,
        channels: 0,
        inner: 4,
    };
    let p = quantize(&[], Dtype::F32, e, sc, &mut [], 1).unwrap();
    assert!(p.scales.is_empty());
}
