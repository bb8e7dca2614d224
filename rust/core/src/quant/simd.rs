//! Runtime choice between the baseline build of the kernels and the same
//! kernels compiled for AVX2.
//!
//! There is no hand-written intrinsic here: each `*_avx2` function is the
//! generic kernel from `kernels.rs` inlined into a function compiled with
//! `#[target_feature(enable = "avx2")]`, so LLVM vectorises the very same
//! source 8 floats wide instead of 4. Both builds run the same IEEE
//! operations in the same order (no FMA is enabled, and Rust never fuses a
//! multiply and an add on its own), so their outputs are bit-identical;
//! the tests check that on every kernel, and `SCALEZIP_NO_SIMD=1` in the
//! environment forces the baseline build (so CI can cover it).
//!
//! The only `unsafe` is the call into a `target_feature` function, made
//! after `is_x86_feature_detected!("avx2")` said the CPU has it.
#![allow(unsafe_code)]

use super::half::Elem;
use super::kernels::{self, MinMax, RunParams};

/// Which build of the kernels to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The baseline build (SSE2 on x86-64), the reference.
    Generic,
    /// The AVX2 build; only ever chosen when the CPU supports it.
    Avx2,
}

/// The best build for this CPU, decided once by [`crate::cpu::features`]
/// (`SCALEZIP_NO_SIMD`, any value but empty or "0", forces [`Isa::Generic`]).
pub fn detected() -> Isa {
    if crate::cpu::features().avx2 {
        Isa::Avx2
    } else {
        Isa::Generic
    }
}

/// `isa` if the CPU can run it, else the baseline.
pub fn checked(isa: Isa) -> Isa {
    if isa == Isa::Avx2 && !avx2_available() {
        Isa::Generic
    } else {
        isa
    }
}

/// Whether the CPU has AVX2, whatever `SCALEZIP_NO_SIMD` says (tests and
/// callers may still ask for the AVX2 build explicitly through [`checked`]).
#[cfg(target_arch = "x86_64")]
fn avx2_available() -> bool {
    std::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_available() -> bool {
    false
}

macro_rules! dispatch {
    ($isa:expr, $avx2:ident, $generic:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if $isa == Isa::Avx2 {
                // SAFETY: `Isa::Avx2` is only produced by `detected()` or
                // `checked()`, both after CPUID reported AVX2.
                return unsafe { $avx2::<E>($($arg),*) };
            }
        }
        kernels::$generic::<E>($($arg),*)
    }};
}

pub fn minmax<E: Elem>(isa: Isa, src: &[u8]) -> MinMax {
    dispatch!(isa, minmax_avx2, minmax, (src))
}

pub fn quant8<E: Elem>(isa: Isa, src: &[u8], p: &RunParams, q: &mut [u8]) {
    dispatch!(isa, quant8_avx2, quant8, (src, p, q))
}

pub fn quant4<E: Elem>(isa: Isa, src: &[u8], p: &RunParams, q: &mut [u8]) {
    dispatch!(isa, quant4_avx2, quant4, (src, p, q))
}

pub fn dequant8<E: Elem>(isa: Isa, q: &[u8], signed: bool, scale: f32, zero: f32, out: &mut [u8]) {
    dispatch!(isa, dequant8_avx2, dequant8, (q, signed, scale, zero, out))
}

pub fn dequant4<E: Elem>(isa: Isa, q: &[u8], scale: f32, zero: f32, out: &mut [u8]) {
    dispatch!(isa, dequant4_avx2, dequant4, (q, scale, zero, out))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn minmax_avx2<E: Elem>(src: &[u8]) -> MinMax {
    kernels::minmax::<E>(src)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quant8_avx2<E: Elem>(src: &[u8], p: &RunParams, q: &mut [u8]) {
    kernels::quant8::<E>(src, p, q)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quant4_avx2<E: Elem>(src: &[u8], p: &RunParams, q: &mut [u8]) {
    kernels::quant4::<E>(src, p, q)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dequant8_avx2<E: Elem>(q: &[u8], signed: bool, scale: f32, zero: f32, out: &mut [u8]) {
    kernels::dequant8::<E>(q, signed, scale, zero, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dequant4_avx2<E: Elem>(q: &[u8], scale: f32, zero: f32, out: &mut [u8]) {
    kernels::dequant4::<E>(q, scale, zero, out)
}
