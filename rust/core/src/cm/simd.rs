//! The model's hot loops, compiled twice: the portable build (the
//! reference) and the *same safe source* compiled with AVX2, BMI1 and BMI2
//! enabled, chosen at run time by [`crate::cpu::features`] (so
//! `SCALEZIP_NO_SIMD=1` selects the portable one), as the DEFLATE decoder's
//! fast loop is.
//!
//! Nothing here is hand-written SIMD: the model is integer arithmetic with
//! fixed-size loops (the mixers' 11-input dot products and weight updates,
//! the state-map updates), which the compiler vectorises far better with
//! AVX2 (`vpmulld`/`vpmuldq` instead of SSE2's shuffled `pmuludq` pairs)
//! and whose variable shifts BMI2 makes single instructions. Integer
//! arithmetic is exact, so both builds compute identical probabilities and
//! streams; `tests.rs` checks that they do.
use super::model::{History, Model, Ring};
use crate::rangecoder::{BinaryDecoder, BinaryEncoder};
use std::cell::Cell;

thread_local! {
    /// Test hook: force the portable build on this thread.
    static FORCE_PORTABLE: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` with the portable build forced (`true`) or not on this thread.
#[cfg(test)]
pub fn with_portable<R>(portable: bool, f: impl FnOnce() -> R) -> R {
    let old = FORCE_PORTABLE.with(|c| c.replace(portable));
    let r = f();
    FORCE_PORTABLE.with(|c| c.set(old));
    r
}

/// Whether [`run`] takes the AVX2 build on this thread.
pub fn uses_avx2() -> bool {
    let f = crate::cpu::features();
    f.avx2 && f.bmi2 && !FORCE_PORTABLE.with(Cell::get)
}

/// A hot loop to run in the best build: its `go` must be
/// `#[inline(always)]` (as is everything it calls in the model), so that it
/// is compiled into each build's wrapper below.
pub trait Kernel {
    type Out;
    fn go(self) -> Self::Out;
}

/// Run `k` in the best build for this CPU.
#[allow(unsafe_code)]
#[inline(always)]
pub fn run<K: Kernel>(k: K) -> K::Out {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,bmi1,bmi2")]
        #[inline(never)]
        unsafe fn avx2<K: Kernel>(k: K) -> K::Out {
            k.go()
        }
        if uses_avx2() {
            // SAFETY: `go` is safe Rust; the only requirement of a
            // `target_feature` function is that the CPU has the features,
            // and `uses_avx2` is true only when CPUID reported AVX2, BMI1
            // and BMI2 (`crate::cpu::features`).
            return unsafe { avx2(k) };
        }
    }
    portable(k)
}

#[inline(never)]
fn portable<K: Kernel>(k: K) -> K::Out {
    k.go()
}

/// Code `data` (all of it already in `hist`, or pushed to a ring first).
pub struct Encode<'a, H: History + ?Sized> {
    pub m: &'a mut Model,
    pub enc: &'a mut BinaryEncoder,
    pub data: &'a [u8],
    pub hist: &'a H,
}

impl<H: History + ?Sized> Kernel for Encode<'_, H> {
    type Out = ();
    #[inline(always)]
    fn go(self) {
        for &c in self.data {
            code_byte(self.m, self.enc, c, self.hist);
        }
    }
}

/// Code `data`, pushing each byte to `ring` (the history) first.
pub struct EncodeRing<'a> {
    pub m: &'a mut Model,
    pub enc: &'a mut BinaryEncoder,
    pub data: &'a [u8],
    pub ring: &'a mut Ring,
}

impl Kernel for EncodeRing<'_> {
    type Out = ();
    #[inline(always)]
    fn go(self) {
        for &c in self.data {
            self.ring.push(c);
            code_byte(self.m, self.enc, c, &*self.ring);
        }
    }
}

/// Decode `out.len()` bytes into `out`, which is also the history.
pub struct Decode<'a, 'b> {
    pub m: &'a mut Model,
    pub dec: &'a mut BinaryDecoder<&'b [u8]>,
    pub out: &'a mut [u8],
}

impl Kernel for Decode<'_, '_> {
    type Out = ();
    #[inline(always)]
    fn go(self) {
        for i in 0..self.out.len() {
            let mut c = 0u32;
            for _ in 0..8 {
                let bit = self.dec.decode(self.m.p());
                c = (c << 1) | u32::from(bit);
                self.out[i] = c as u8; // complete after the 8th bit, when it is read
                self.m.update(bit, &*self.out);
            }
        }
    }
}

/// Code one byte, most significant bit first.
#[inline(always)]
pub fn code_byte<H: History + ?Sized>(m: &mut Model, enc: &mut BinaryEncoder, c: u8, hist: &H) {
    for b in (0..8).rev() {
        let bit = (c >> b) & 1 == 1;
        enc.encode(bit, m.p());
        m.update(bit, hist);
    }
}
