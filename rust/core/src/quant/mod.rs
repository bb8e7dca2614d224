//! Weight quantization kernels: float32/bfloat16/float16 to int8 or packed
//! int4 with one float32 scale (and, asymmetric, one zero point) per run of
//! elements, and back.
//!
//! # Layout
//! A tensor is seen as `[outer, channels, inner]` (row-major, contiguous)
//! with one scale per channel:
//! - per-tensor: `[1, 1, numel]`;
//! - per-channel along axis `a` of shape `d`: `[prod(d[..a]), d[a],
//!   prod(d[a+1..])]` (axis 0 of a Linear weight is `[1, out, in]`);
//! - group-wise with group `g` along the last axis: `[1, numel / g, g]`.
//!
//! When `outer == 1` every channel is one contiguous run, and the work is
//! split across rayon tasks of whole channels (or, for a few huge
//! channels, pieces of one). The strided case (`outer > 1`, a per-channel
//! axis other than the first) is served on one thread by the same kernels
//! run after run; int4 needs `outer == 1` (its groups are contiguous).
//!
//! # Arithmetic (the contract the torch path in `scalezip.quant` mirrors)
//! All in float32, IEEE, in this order, per channel with minimum `mn` and
//! maximum `mx`:
//! - symmetric: `scale = max(-mn, mx) / qmax` with qmax 127 (int8) or 7
//!   (int4); stored `clamp(rne(x * inv) + z, lo, hi)` with `inv = 1 /
//!   scale`, z = 0, [lo, hi] = [-127, 127] for int8 (two's complement byte)
//!   and z = 8, [1, 15] for int4 (the nibble is q + 8);
//! - asymmetric: `mn0 = min(mn, 0)`, `mx0 = max(mx, 0)`, `scale = (mx0 -
//!   mn0) / levels` with levels 255 or 15, `z = clamp(-rne(mn0 * inv), 0,
//!   levels)` (+0.0 for a zero), stored `clamp(rne(x * inv) + z, 0, levels)`;
//! - with `fp16_scales` the scale is rounded to float16 (and back) before
//!   `inv` is taken, so dequantization with the float16 scale is exact;
//! - a scale below the smallest normal float32 (an all-zero run) becomes
//!   1.0; a scale that overflows is an error, as is any NaN or infinity.
//!
//! Dequantization is `(stored - z) * scale` in float32, then rounded to the
//! output type. `rne` is round-to-nearest-even, as `torch.round`. Because
//! every step is a single correctly rounded IEEE operation, the torch code
//! doing the same steps gets the same bits, which the Python tests check.
pub mod half;
pub mod kernels;
pub mod simd;

use crate::parallel::in_pool;
use half::{Bf16, Elem, F16, F32};
use kernels::{MinMax, RunParams};
use rayon::prelude::*;
pub use simd::Isa;
use std::fmt;

/// Elements per rayon task (a few channels, or a piece of a big one).
const TASK_ELEMS: usize = 1 << 15;
/// Channels longer than this (in elements) are split into pieces.
const FUSE_MAX: usize = 1 << 16;

/// Errors of the quantization kernels: all describe bad arguments or
/// values that cannot be quantized.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantError {
    /// `bits` other than 4 or 8.
    BadBits(u32),
    /// Layout dimensions that do not multiply to the element count.
    BadLayout {
        outer: usize,
        channels: usize,
        inner: usize,
        numel: usize,
    },
    /// int4 needs contiguous runs of even length.
    Int4Layout { outer: usize, inner: usize },
    /// A buffer of the wrong size.
    BufferSize {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A NaN or infinity in the input, in this channel.
    NonFinite { channel: usize },
    /// The scale of this channel is not representable (float16 scales).
    ScaleOverflow { channel: usize },
    /// A scale that is not a positive finite number, at this index.
    BadScale { index: usize },
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadBits(b) => write!(f, "bits must be 4 or 8, not {b}"),
            Self::BadLayout {
                outer,
                channels,
                inner,
                numel,
            } => write!(
                f,
                "layout [{outer}, {channels}, {inner}] does not cover {numel} elements"
            ),
            Self::Int4Layout { outer, inner } => write!(
                f,
                "int4 needs contiguous groups of even length (got outer {outer}, group {inner})"
            ),
            Self::BufferSize {
                what,
                expected,
                got,
            } => write!(f, "{what} has {got} bytes, expected {expected}"),
            Self::NonFinite { channel } => {
                write!(f, "NaN or infinity in the input (channel/group {channel})")
            }
            Self::ScaleOverflow { channel } => write!(
                f,
                "scale of channel/group {channel} overflows the scale type"
            ),
            Self::BadScale { index } => {
                write!(f, "scale {index} is not a positive finite number")
            }
        }
    }
}

impl std::error::Error for QuantError {}

/// Floating-point storage type of the input or output elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    Bf16,
    F16,
}

impl Dtype {
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::Bf16 | Dtype::F16 => 2,
        }
    }
}

/// `[outer, channels, inner]`, one scale per channel (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub outer: usize,
    pub channels: usize,
    pub inner: usize,
}

/// What to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheme {
    /// 8 or 4.
    pub bits: u32,
    pub symmetric: bool,
    /// Round scales to float16 (they are still returned as float32).
    pub fp16_scales: bool,
}

/// Scales (and zero points when asymmetric; empty when symmetric), one
/// per channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub scales: Vec<f32>,
    pub zeros: Vec<f32>,
}

impl Scheme {
    fn check(&self) -> Result<(), QuantError> {
        if self.bits != 4 && self.bits != 8 {
            return Err(QuantError::BadBits(self.bits));
        }
        Ok(())
    }

    /// The zero point used when symmetric, in stored units.
    pub fn symmetric_zero(&self) -> f32 {
        if self.bits == 4 {
            8.0
        } else {
            0.0
        }
    }

    /// Bytes of quantized data for `numel` elements.
    pub fn qbytes(&self, numel: usize) -> usize {
        if self.bits == 4 {
            numel / 2
        } else {
            numel
        }
    }

    /// Scale, and the run parameters, of one channel.
    pub fn run_params(&self, mm: MinMax, channel: usize) -> Result<(f32, RunParams), QuantError> {
        if mm.nan || mm.min.is_infinite() || mm.max.is_infinite() {
            return Err(QuantError::NonFinite { channel });
        }
        let (qmax, levels) = if self.bits == 4 {
            (7.0f32, 15.0f32)
        } else {
            (127.0, 255.0)
        };
        let (mn0, mut scale) = if self.symmetric {
            let amax = if -mm.min > mm.max { -mm.min } else { mm.max };
            (0.0, amax / qmax)
        } else {
            let mn0 = if mm.min < 0.0 { mm.min } else { 0.0 };
            let mx0 = if mm.max > 0.0 { mm.max } else { 0.0 };
            (mn0, (mx0 - mn0) / levels)
        };
        if self.fp16_scales {
            scale = half::f16_to_f32(half::f32_to_f16(scale));
        }
        if scale.is_infinite() {
            return Err(QuantError::ScaleOverflow { channel });
        }
        if scale < f32::MIN_POSITIVE {
            scale = 1.0;
        }
        let inv = 1.0 / scale;
        let p = if self.symmetric {
            let z = self.symmetric_zero();
            RunParams {
                inv,
                zero: z,
                lo: z - qmax,
                hi: z + qmax,
            }
        } else {
            let z = -(mn0 * inv).round_ties_even();
            // `+ 0.0` turns the -0.0 of an all-zero (or all-positive) run
            // into +0.0, so the stored zero point has one bit pattern on
            // every backend (CUDA's clamp returns +0.0, the CPU's -0.0).
            let z = z.clamp(0.0, levels) + 0.0;
            RunParams {
                inv,
                zero: z,
                lo: 0.0,
                hi: levels,
            }
        };
        Ok((scale, p))
    }
}

fn check_layout(layout: Layout, numel: usize) -> Result<(), QuantError> {
    let Layout {
        outer,
        channels,
        inner,
    } = layout;
    let bad = QuantError::BadLayout {
        outer,
        channels,
        inner,
        numel,
    };
    let n = outer
        .checked_mul(channels)
        .and_then(|v| v.checked_mul(inner))
        .ok_or(bad.clone())?;
    if n != numel {
        return Err(bad);
    }
    Ok(())
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), QuantError> {
    if expected != got {
        return Err(QuantError::BufferSize {
            what,
            expected,
            got,
        });
    }
    Ok(())
}

fn check_common(
    src_len: usize,
    dtype: Dtype,
    layout: Layout,
    scheme: &Scheme,
    q_len: usize,
) -> Result<usize, QuantError> {
    scheme.check()?;
    if src_len % dtype.size() != 0 {
        return Err(QuantError::BufferSize {
            what: "input",
            expected: src_len / dtype.size() * dtype.size(),
            got: src_len,
        });
    }
    let numel = src_len / dtype.size();
    check_layout(layout, numel)?;
    if scheme.bits == 4 && numel > 0 && (layout.outer != 1 || layout.inner % 2 != 0) {
        return Err(QuantError::Int4Layout {
            outer: layout.outer,
            inner: layout.inner,
        });
    }
    check_len("quantized buffer", scheme.qbytes(numel), q_len)?;
    Ok(numel)
}

/// Quantize `src` (elements of `dtype`, little-endian bytes) into `q`
/// (`numel` bytes for int8, `numel / 2` for int4) and return the scales
/// and zero points. `threads`: 1 the calling thread, 0 rayon's global
/// pool, `n` a pool of `n`. The result does not depend on `threads` or on
/// the instruction set used.
pub fn quantize(
    src: &[u8],
    dtype: Dtype,
    layout: Layout,
    scheme: Scheme,
    q: &mut [u8],
    threads: usize,
) -> Result<Params, QuantError> {
    quantize_with(simd::detected(), src, dtype, layout, scheme, q, threads)
}

/// [`quantize`] on a chosen kernel build (falls back to the baseline when
/// the CPU lacks `isa`); for tests comparing the builds.
pub fn quantize_with(
    isa: Isa,
    src: &[u8],
    dtype: Dtype,
    layout: Layout,
    scheme: Scheme,
    q: &mut [u8],
    threads: usize,
) -> Result<Params, QuantError> {
    let isa = simd::checked(isa);
    let numel = check_common(src.len(), dtype, layout, &scheme, q.len())?;
    let par = threads != 1 && numel > TASK_ELEMS;
    let mut run = || match dtype {
        Dtype::F32 => quantize_impl::<F32>(isa, src, layout, scheme, q, par),
        Dtype::Bf16 => quantize_impl::<Bf16>(isa, src, layout, scheme, q, par),
        Dtype::F16 => quantize_impl::<F16>(isa, src, layout, scheme, q, par),
    };
    if par {
        in_pool(threads, run)
    } else {
        run()
    }
}

fn quant_run<E: Elem>(isa: Isa, scheme: &Scheme, src: &[u8], p: &RunParams, q: &mut [u8]) {
    if scheme.bits == 4 {
        simd::quant4::<E>(isa, src, p, q)
    } else {
        simd::quant8::<E>(isa, src, p, q)
    }
}

/// One rayon task of the contiguous quantizer: input, output, scales and
/// zero points of a few whole channels.
type TaskItem<'a> = (((&'a [u8], &'a mut [u8]), &'a mut [f32]), &'a mut [f32]);

fn quantize_impl<E: Elem>(
    isa: Isa,
    src: &[u8],
    layout: Layout,
    scheme: Scheme,
    q: &mut [u8],
    par: bool,
) -> Result<Params, QuantError> {
    let Layout {
        outer,
        channels,
        inner,
    } = layout;
    let s = E::SIZE;
    let mut scales = vec![0f32; channels];
    let mut zeros = vec![scheme.symmetric_zero(); channels];
    let finish = |scales, mut zeros: Vec<f32>| {
        if scheme.symmetric {
            zeros.clear();
        }
        Ok(Params { scales, zeros })
    };
    if src.is_empty() {
        return finish(scales, zeros);
    }
    let qb = scheme.qbytes(inner);
    if outer == 1 && inner <= FUSE_MAX {
        // Whole channels per task: min/max then quantize while the run is
        // still in cache.
        let per_task = (TASK_ELEMS / inner).max(1);
        let task = |(((sc, qc), scc), zc): TaskItem<'_>, first: usize| -> Result<(), QuantError> {
            for (i, ((run, qr), (sv, zv))) in sc
                .chunks_exact(inner * s)
                .zip(qc.chunks_exact_mut(qb))
                .zip(scc.iter_mut().zip(zc.iter_mut()))
                .enumerate()
            {
                let mm = simd::minmax::<E>(isa, run);
                let (scale, p) = scheme.run_params(mm, first + i)?;
                *sv = scale;
                *zv = p.zero;
                quant_run::<E>(isa, &scheme, run, &p, qr);
            }
            Ok(())
        };
        let sb = per_task * inner * s;
        let qtb = per_task * qb;
        if par {
            src.par_chunks(sb)
                .zip(q.par_chunks_mut(qtb))
                .zip(scales.par_chunks_mut(per_task))
                .zip(zeros.par_chunks_mut(per_task))
                .enumerate()
                .try_for_each(|(t, item)| task(item, t * per_task))?;
        } else {
            src.chunks(sb)
                .zip(q.chunks_mut(qtb))
                .zip(scales.chunks_mut(per_task))
                .zip(zeros.chunks_mut(per_task))
                .enumerate()
                .try_for_each(|(t, item)| task(item, t * per_task))?;
        }
        return finish(scales, zeros);
    }
    if outer == 1 {
        // A few long channels: each is reduced, then quantized, in pieces
        // (even-sized, so int4 pairs never straddle two pieces).
        let piece = TASK_ELEMS;
        for c in 0..channels {
            let run = &src[c * inner * s..(c + 1) * inner * s];
            let qr = &mut q[c * qb..(c + 1) * qb];
            let mm = if par {
                run.par_chunks(piece * s)
                    .map(|p| simd::minmax::<E>(isa, p))
                    .reduce(|| MinMax::EMPTY, MinMax::merge)
            } else {
                simd::minmax::<E>(isa, run)
            };
            let (scale, p) = scheme.run_params(mm, c)?;
            scales[c] = scale;
            zeros[c] = p.zero;
            let qp = scheme.qbytes(piece);
            if par {
                run.par_chunks(piece * s)
                    .zip(qr.par_chunks_mut(qp))
                    .for_each(|(a, b)| quant_run::<E>(isa, &scheme, a, &p, b));
            } else {
                quant_run::<E>(isa, &scheme, run, &p, qr);
            }
        }
        return finish(scales, zeros);
    }
    // Strided channels (int8 only): reduce run by run, then quantize.
    let mut mms = vec![MinMax::EMPTY; channels];
    for (i, run) in src.chunks_exact(inner * s).enumerate() {
        let c = i % channels;
        mms[c] = mms[c].merge(simd::minmax::<E>(isa, run));
    }
    let mut ps = Vec::with_capacity(channels);
    for (c, mm) in mms.into_iter().enumerate() {
        let (scale, p) = scheme.run_params(mm, c)?;
        scales[c] = scale;
        zeros[c] = p.zero;
        ps.push(p);
    }
    for (i, (run, qr)) in src
        .chunks_exact(inner * s)
        .zip(q.chunks_exact_mut(inner))
        .enumerate()
    {
        quant_run::<E>(isa, &scheme, run, &ps[i % channels], qr);
    }
    finish(scales, zeros)
}

/// Dequantize `q` (as made by [`quantize`] with `scheme`, or any integers
/// in the same format) into `out` (elements of `dtype`). `zeros`: one per
/// channel when asymmetric, ignored (the scheme's fixed zero) when
/// symmetric.
#[allow(clippy::too_many_arguments)]
pub fn dequantize(
    q: &[u8],
    scales: &[f32],
    zeros: &[f32],
    layout: Layout,
    scheme: Scheme,
    dtype: Dtype,
    out: &mut [u8],
    threads: usize,
) -> Result<(), QuantError> {
    dequantize_with(
        simd::detected(),
        q,
        scales,
        zeros,
        layout,
        scheme,
        dtype,
        out,
        threads,
    )
}

/// [`dequantize`] on a chosen kernel build.
#[allow(clippy::too_many_arguments)]
pub fn dequantize_with(
    isa: Isa,
    q: &[u8],
    scales: &[f32],
    zeros: &[f32],
    layout: Layout,
    scheme: Scheme,
    dtype: Dtype,
    out: &mut [u8],
    threads: usize,
) -> Result<(), QuantError> {
    let isa = simd::checked(isa);
    let numel = check_common(out.len(), dtype, layout, &scheme, q.len())?;
    check_len("scales", layout.channels * 4, scales.len() * 4)?;
    if !scheme.symmetric {
        check_len("zero points", layout.channels * 4, zeros.len() * 4)?;
    }
    if let Some(index) = scales.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(QuantError::BadScale { index });
    }
    if let Some(index) = zeros.iter().position(|z| !z.is_finite()) {
        return Err(QuantError::BadScale { index });
    }
    let par = threads != 1 && numel > TASK_ELEMS;
    let mut run = || match dtype {
        Dtype::F32 => dequantize_impl::<F32>(isa, q, scales, zeros, layout, scheme, out, par),
        Dtype::Bf16 => dequantize_impl::<Bf16>(isa, q, scales, zeros, layout, scheme, out, par),
        Dtype::F16 => dequantize_impl::<F16>(isa, q, scales, zeros, layout, scheme, out, par),
    };
    if par {
        in_pool(threads, run);
    } else {
        run();
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn dequantize_impl<E: Elem>(
    isa: Isa,
    q: &[u8],
    scales: &[f32],
    zeros: &[f32],
    layout: Layout,
    scheme: Scheme,
    out: &mut [u8],
    par: bool,
) {
    if out.is_empty() {
        return;
    }
    let Layout {
        channels, inner, ..
    } = layout;
    let s = E::SIZE;
    let qb = scheme.qbytes(inner);
    let zero = |c: usize| {
        if scheme.symmetric {
            scheme.symmetric_zero()
        } else {
            zeros[c]
        }
    };
    let one = |qr: &[u8], c: usize, o: &mut [u8]| {
        if scheme.bits == 4 {
            simd::dequant4::<E>(isa, qr, scales[c], zero(c), o)
        } else {
            simd::dequant8::<E>(isa, qr, scheme.symmetric, scales[c], zero(c), o)
        }
    };
    // Runs in order are channels 0..channels repeated `outer` times; for
    // int4, outer is 1. Tasks hold whole runs, or pieces of long ones.
    if inner <= FUSE_MAX {
        let per_task = (TASK_ELEMS / inner).max(1);
        let task = |(t, (qc, oc)): (usize, (&[u8], &mut [u8]))| {
            for (i, (qr, o)) in qc
                .chunks_exact(qb)
                .zip(oc.chunks_exact_mut(inner * s))
                .enumerate()
            {
                one(qr, (t * per_task + i) % channels, o);
            }
        };
        if par {
            q.par_chunks(per_task * qb)
                .zip(out.par_chunks_mut(per_task * inner * s))
                .enumerate()
                .for_each(task);
        } else {
            q.chunks(per_task * qb)
                .zip(out.chunks_mut(per_task * inner * s))
                .enumerate()
                .for_each(task);
        }
    } else {
        let piece = TASK_ELEMS;
        for (r, (qr, o)) in q
            .chunks_exact(qb)
            .zip(out.chunks_exact_mut(inner * s))
            .enumerate()
        {
            let c = r % channels;
            let qp = scheme.qbytes(piece);
            if par {
                qr.par_chunks(qp)
                    .zip(o.par_chunks_mut(piece * s))
                    .for_each(|(a, b)| one(a, c, b));
            } else {
                one(qr, c, o);
            }
        }
    }
}

/// Convert `src` (elements of `from`) into `out` (elements of `to`), with
/// the rounding of [`half`]: bit-exact with torch's `.to(dtype)` on CPU for
/// every non-NaN value.
pub fn convert(src: &[u8], from: Dtype, out: &mut [u8], to: Dtype) -> Result<(), QuantError> {
    let n = src.len() / from.size();
    if src.len() % from.size() != 0 {
        return Err(QuantError::BufferSize {
            what: "input",
            expected: n * from.size(),
            got: src.len(),
        });
    }
    check_len("output", n * to.size(), out.len())?;
    fn go<A: Elem, B: Elem>(src: &[u8], out: &mut [u8]) {
        for (a, b) in src.chunks_exact(A::SIZE).zip(out.chunks_exact_mut(B::SIZE)) {
            B::store(A::load(a), b);
        }
    }
    match (from, to) {
        (Dtype::F32, Dtype::F32) => go::<F32, F32>(src, out),
        (Dtype::F32, Dtype::Bf16) => go::<F32, Bf16>(src, out),
        (Dtype::F32, Dtype::F16) => go::<F32, F16>(src, out),
        (Dtype::Bf16, Dtype::F32) => go::<Bf16, F32>(src, out),
        (Dtype::Bf16, Dtype::Bf16) => go::<Bf16, Bf16>(src, out),
        (Dtype::Bf16, Dtype::F16) => go::<Bf16, F16>(src, out),
        (Dtype::F16, Dtype::F32) => go::<F16, F32>(src, out),
        (Dtype::F16, Dtype::Bf16) => go::<F16, Bf16>(src, out),
        (Dtype::F16, Dtype::F16) => go::<F16, F16>(src, out),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
