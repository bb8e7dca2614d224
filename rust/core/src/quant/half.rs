//! bfloat16 and IEEE binary16 (fp16) <-> float32, bit-exact with torch.
//!
//! The quantizers read weights stored as float32, bfloat16 or float16 and
//! the dequantizers write any of the three, so these conversions sit in the
//! hot loops. They are written branch-free (selects, integer and float
//! arithmetic only) so that the chunked loops calling them vectorise.
//!
//! - bf16 -> f32 is a shift. f32 -> bf16 rounds to nearest, ties to even,
//!   as `c10::BFloat16` does: add `0x7FFF` plus the lowest kept bit and
//!   truncate. NaN becomes the quiet NaN `0x7FC0` (torch's scalar path; its
//!   vector path may produce another NaN pattern: only NaN-ness is promised).
//! - f32 <-> f16 follow the FP16 library (`fp16_ieee_from_fp32_value`,
//!   `fp16_ieee_to_fp32_value`) that torch's `c10::Half` uses: exact
//!   round-to-nearest-even including subnormals, overflow to infinity, NaN
//!   kept NaN. The trick: scale by 2^112 then 2^-110 so that float addition
//!   of a chosen bias performs the rounding at the right bit.

/// Round `x` to bfloat16 (nearest, ties to even); NaN -> 0x7FC0.
#[inline(always)]
pub fn f32_to_bf16(x: f32) -> u16 {
    let u = x.to_bits();
    let rounded = (u.wrapping_add(0x7FFF + ((u >> 16) & 1)) >> 16) as u16;
    if x.is_nan() {
        0x7FC0
    } else {
        rounded
    }
}

/// Widen a bfloat16 bit pattern to float32 (exact).
#[inline(always)]
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// Round `x` to IEEE half precision (nearest, ties to even).
#[inline(always)]
pub fn f32_to_f16(x: f32) -> u16 {
    let scale_to_inf = f32::from_bits(0x7780_0000); // 2^112
    let scale_to_zero = f32::from_bits(0x0880_0000); // 2^-110
    let mut base = (x.abs() * scale_to_inf) * scale_to_zero;
    let w = x.to_bits();
    let shl1_w = w.wrapping_add(w);
    let sign = w & 0x8000_0000;
    let mut bias = shl1_w & 0xFF00_0000;
    if bias < 0x7100_0000 {
        bias = 0x7100_0000;
    }
    base += f32::from_bits((bias >> 1) + 0x0780_0000);
    let bits = base.to_bits();
    let exp_bits = (bits >> 13) & 0x0000_7C00;
    let mantissa_bits = bits & 0x0000_0FFF;
    let nonsign = exp_bits + mantissa_bits;
    ((sign >> 16)
        | if shl1_w > 0xFF00_0000 {
            0x7E00
        } else {
            nonsign
        }) as u16
}

/// Widen an IEEE half bit pattern to float32 (exact).
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let w = (h as u32) << 16;
    let sign = w & 0x8000_0000;
    let two_w = w.wrapping_add(w);
    let exp_offset: u32 = 0xE0 << 23;
    let exp_scale = f32::from_bits(0x0780_0000); // 2^-112
    let normalized = f32::from_bits((two_w >> 4) + exp_offset) * exp_scale;
    let magic_mask: u32 = 126 << 23;
    let denormalized = f32::from_bits((two_w >> 17) | magic_mask) - 0.5;
    let cutoff: u32 = 1 << 27;
    let bits = if two_w < cutoff {
        denormalized.to_bits()
    } else {
        normalized.to_bits()
    };
    f32::from_bits(sign | bits)
}

/// One storage format of floating-point elements, read and written as
/// little-endian bytes (the buffers come from numpy/torch and need not be
/// aligned, so no casts: LLVM turns these byte loads into plain loads).
pub trait Elem: Copy {
    /// Bytes per element.
    const SIZE: usize;
    fn load(b: &[u8]) -> f32;
    fn store(x: f32, b: &mut [u8]);
}

/// float32 elements.
#[derive(Clone, Copy)]
pub struct F32;
/// bfloat16 elements.
#[derive(Clone, Copy)]
pub struct Bf16;
/// IEEE half elements.
#[derive(Clone, Copy)]
pub struct F16;

impl Elem for F32 {
    const SIZE: usize = 4;
    #[inline(always)]
    fn load(b: &[u8]) -> f32 {
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    #[inline(always)]
    fn store(x: f32, b: &mut [u8]) {
        b[..4].copy_from_slice(&x.to_le_bytes());
    }
}

impl Elem for Bf16 {
    const SIZE: usize = 2;
    #[inline(always)]
    fn load(b: &[u8]) -> f32 {
        bf16_to_f32(u16::from_le_bytes([b[0], b[1]]))
    }
    #[inline(always)]
    fn store(x: f32, b: &mut [u8]) {
        b[..2].copy_from_slice(&f32_to_bf16(x).to_le_bytes());
    }
}

impl Elem for F16 {
    const SIZE: usize = 2;
    #[inline(always)]
    fn load(b: &[u8]) -> f32 {
        f16_to_f32(u16::from_le_bytes([b[0], b[1]]))
    }
    #[inline(always)]
    fn store(x: f32, b: &mut [u8]) {
        b[..2].copy_from_slice(&f32_to_f16(x).to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward reference: exact rational rounding through f64.
    fn f16_ref(x: f32) -> u16 {
        if x.is_nan() {
            return 0x7E00 | ((x.to_bits() >> 16) as u16 & 0x8000);
        }
        let sign = ((x.to_bits() >> 16) & 0x8000) as u16;
        let a = (x as f64).abs();
        // Candidates: enumerate the two neighbours among all finite halves.
        let mut best = 0u16;
        let mut best_err = f64::INFINITY;
        // Binary search over magnitudes 0..=0x7BFF (monotone).
        let (mut lo, mut hi) = (0u16, 0x7BFFu16);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if (f16_to_f32(mid) as f64) <= a {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        for c in [lo, lo.saturating_add(1).min(0x7C00)] {
            let v = if c == 0x7C00 {
                // Overflow threshold: 65520 rounds to infinity.
                65520.0
            } else {
                f16_to_f32(c) as f64
            };
            let e = (v - a).abs();
            if e < best_err || (e == best_err && c & 1 == 0) {
                best = c;
                best_err = e;
            }
        }
        sign | best
    }

    #[test]
    fn f16_widen_narrow_round_trip() {
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                assert_eq!(h & 0x7C00, 0x7C00);
                assert!(h & 0x3FF != 0);
                continue;
            }
            assert_eq!(f32_to_f16(x), h, "{h:#06x}");
        }
        assert_eq!(f16_to_f32(0x3C00), 1.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0xFC00), f32::NEG_INFINITY);
    }

    #[test]
    fn f16_rounding_matches_reference() {
        let mut s = 0x1234_5678u32;
        for i in 0..400_000u32 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            // Mix random patterns with values near the half range.
            let bits = if i % 2 == 0 {
                s
            } else {
                (s & 0x8FFF_FFFF) | 0x3000_0000
            };
            let x = f32::from_bits(bits);
            let got = f32_to_f16(x);
            if x.is_nan() {
                assert!(f16_to_f32(got).is_nan());
                continue;
            }
            assert_eq!(got, f16_ref(x), "{bits:#010x}");
        }
        // Ties: 1 + 2^-11 is halfway between 1 and 1 + 2^-10: to even (1).
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3C00);
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11)), 0x3C02);
        assert_eq!(f32_to_f16(65520.0), 0x7C00);
        assert_eq!(f32_to_f16(65519.99), 0x7BFF);
    }

    #[test]
    fn bf16_rounding() {
        assert_eq!(f32_to_bf16(1.0), 0x3F80);
        // Halfway between 0x3F80 and 0x3F81: ties to even.
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F80_8000)), 0x3F80);
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F81_8000)), 0x3F82);
        assert_eq!(f32_to_bf16(f32::from_bits(0x3F80_8001)), 0x3F81);
        assert_eq!(f32_to_bf16(f32::NAN), 0x7FC0);
        assert_eq!(f32_to_bf16(f32::INFINITY), 0x7F80);
        for h in 0..=u16::MAX {
            let x = bf16_to_f32(h);
            if !x.is_nan() {
                assert_eq!(f32_to_bf16(x), h);
            }
        }
    }
}
