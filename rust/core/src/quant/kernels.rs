//! The per-run kernels: one contiguous run of elements that share a scale
//! and zero point (a channel, or a group of a channel).
//!
//! Every loop works on fixed blocks of [`LANES`] elements held in small
//! arrays, with the per-element arithmetic in one `#[inline(always)]`
//! function ([`code`]) that the tail loop calls too, so the block loop and
//! the scalar tail compute bit-identical values by construction. The block
//! loops carry no dependency between lanes, so LLVM turns them into SIMD
//! code: SSE2 in the baseline build and AVX2 when `simd.rs` compiles the
//! very same functions under `#[target_feature(enable = "avx2")]`.
//!
//! Rounding: `rne` adds and subtracts 1.5 * 2^23, which rounds any float
//! of magnitude below 2^22 to the nearest integer, ties to even, using the
//! FPU's default rounding (and needs no SSE4.1 `roundps`). Values reaching
//! it are bounded by a few hundred (see `mod.rs`), far below 2^22. The
//! result equals `torch.round` (also ties to even) on the same float.
use super::half::Elem;

/// Elements per block of the vectorisable loops.
pub const LANES: usize = 16;

/// Round to nearest, ties to even, for |v| < 2^22.
#[inline(always)]
pub fn rne(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    (v + MAGIC) - MAGIC
}

/// The quantization of one run: stored = clamp(rne(x * inv) + zero, lo, hi).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunParams {
    /// 1 / scale, computed once in float32.
    pub inv: f32,
    /// Zero point added after rounding (integer-valued).
    pub zero: f32,
    pub lo: f32,
    pub hi: f32,
}

/// The stored integer for `x` (as a float holding an integer).
#[inline(always)]
pub fn code(x: f32, p: &RunParams) -> f32 {
    let v = rne(x * p.inv) + p.zero;
    let v = if v < p.lo { p.lo } else { v };
    if v > p.hi {
        p.hi
    } else {
        v
    }
}

/// The stored integer for `x` as a byte (two's complement for negative
/// int8 values). Adding 1.5 * 2^23 to an integer-valued float below 2^22
/// in magnitude puts the integer in the low mantissa bits, so the byte is
/// read straight from the bits: unlike `as i32`, whose saturating
/// semantics cost a scalar NaN check per element, this vectorises.
#[inline(always)]
pub fn code_byte(x: f32, p: &RunParams) -> u8 {
    const MAGIC: f32 = 12_582_912.0;
    (code(x, p) + MAGIC).to_bits() as u8
}

/// Minimum, maximum and whether a NaN was seen, over one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinMax {
    pub min: f32,
    pub max: f32,
    pub nan: bool,
}

impl MinMax {
    pub const EMPTY: MinMax = MinMax {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
        nan: false,
    };

    #[inline(always)]
    pub fn merge(self, o: MinMax) -> MinMax {
        MinMax {
            min: if o.min < self.min { o.min } else { self.min },
            max: if o.max > self.max { o.max } else { self.max },
            nan: self.nan | o.nan,
        }
    }
}

#[inline(always)]
pub fn minmax<E: Elem>(src: &[u8]) -> MinMax {
    let s = E::SIZE;
    let mut mn = [f32::INFINITY; LANES];
    let mut mx = [f32::NEG_INFINITY; LANES];
    // `x * 0` is NaN exactly when x is NaN or infinite, and NaN sticks in
    // a sum: a vectorisable "any non-finite" flag (infinities also show in
    // min/max; this catches NaN, which min/max comparisons skip).
    let mut bad = [0f32; LANES];
    let mut chunks = src.chunks_exact(LANES * s);
    for c in &mut chunks {
        for l in 0..LANES {
            let x = E::load(&c[l * s..l * s + s]);
            mn[l] = if x < mn[l] { x } else { mn[l] };
            mx[l] = if x > mx[l] { x } else { mx[l] };
            bad[l] += x * 0.0;
        }
    }
    let mut r = MinMax::EMPTY;
    for l in 0..LANES {
        r = r.merge(MinMax {
            min: mn[l],
            max: mx[l],
            nan: bad[l].is_nan(),
        });
    }
    for b in chunks.remainder().chunks_exact(s) {
        let x = E::load(b);
        r = r.merge(MinMax {
            min: x,
            max: x,
            nan: x.is_nan(),
        });
    }
    r
}

/// int8: one byte per element (two's complement when the scheme is
/// symmetric, 0..=255 when it is not). `q.len()` elements.
#[inline(always)]
pub fn quant8<E: Elem>(src: &[u8], p: &RunParams, q: &mut [u8]) {
    let s = E::SIZE;
    let n = q.len();
    let src = &src[..n * s];
    let mut sc = src.chunks_exact(LANES * s);
    let mut qc = q.chunks_exact_mut(LANES);
    for (c, o) in (&mut sc).zip(&mut qc) {
        for l in 0..LANES {
            o[l] = code_byte(E::load(&c[l * s..l * s + s]), p);
        }
    }
    for (b, o) in sc.remainder().chunks_exact(s).zip(qc.into_remainder()) {
        *o = code_byte(E::load(b), p);
    }
}

/// int4: two elements per byte, element 2i in the low nibble and element
/// 2i+1 in the high nibble. `q.len()` bytes, `2 * q.len()` elements.
#[inline(always)]
pub fn quant4<E: Elem>(src: &[u8], p: &RunParams, q: &mut [u8]) {
    let s = E::SIZE;
    let n = q.len() * 2;
    let src = &src[..n * s];
    let mut sc = src.chunks_exact(LANES * s);
    let mut qc = q.chunks_exact_mut(LANES / 2);
    for (c, o) in (&mut sc).zip(&mut qc) {
        let mut t = [0u8; LANES];
        for l in 0..LANES {
            t[l] = code_byte(E::load(&c[l * s..l * s + s]), p);
        }
        for j in 0..LANES / 2 {
            o[j] = t[2 * j] | (t[2 * j + 1] << 4);
        }
    }
    for (b, o) in sc.remainder().chunks_exact(2 * s).zip(qc.into_remainder()) {
        let a = code_byte(E::load(&b[..s]), p);
        let c = code_byte(E::load(&b[s..]), p);
        *o = a | (c << 4);
    }
}

/// Dequantize int8: out = (q - zero) * scale, `q` signed when `signed`.
#[inline(always)]
pub fn dequant8<E: Elem>(q: &[u8], signed: bool, scale: f32, zero: f32, out: &mut [u8]) {
    let s = E::SIZE;
    let out = &mut out[..q.len() * s];
    let mut qc = q.chunks_exact(LANES);
    let mut oc = out.chunks_exact_mut(LANES * s);
    let val = |b: u8| {
        if signed {
            b as i8 as f32
        } else {
            b as f32
        }
    };
    for (c, o) in (&mut qc).zip(&mut oc) {
        for l in 0..LANES {
            E::store((val(c[l]) - zero) * scale, &mut o[l * s..l * s + s]);
        }
    }
    for (b, o) in qc
        .remainder()
        .iter()
        .zip(oc.into_remainder().chunks_exact_mut(s))
    {
        E::store((val(*b) - zero) * scale, o);
    }
}

/// Dequantize packed int4 (low nibble first): out = (nibble - zero) * scale.
#[inline(always)]
pub fn dequant4<E: Elem>(q: &[u8], scale: f32, zero: f32, out: &mut [u8]) {
    let s = E::SIZE;
    let out = &mut out[..q.len() * 2 * s];
    let mut qc = q.chunks_exact(LANES / 2);
    let mut oc = out.chunks_exact_mut(LANES * s);
    for (c, o) in (&mut qc).zip(&mut oc) {
        let mut t = [0f32; LANES];
        for j in 0..LANES / 2 {
            t[2 * j] = (c[j] & 15) as f32;
            t[2 * j + 1] = (c[j] >> 4) as f32;
        }
        for l in 0..LANES {
            E::store((t[l] - zero) * scale, &mut o[l * s..l * s + s]);
        }
    }
    for (b, o) in qc
        .remainder()
        .iter()
        .zip(oc.into_remainder().chunks_exact_mut(2 * s))
    {
        E::store(((b & 15) as f32 - zero) * scale, &mut o[..s]);
        E::store(((b >> 4) as f32 - zero) * scale, &mut o[s..]);
    }
}
