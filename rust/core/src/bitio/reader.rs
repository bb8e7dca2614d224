//! LSB-first bit reader over one borrowed input slice, with a 64-bit buffer.
//!
//! DEFLATE packs its data elements starting at the least significant bit of
//! each byte, so the natural buffer is a `u64` whose bit 0 is the next bit of
//! the stream: `peek(n)` is a mask, `consume(n)` is a shift. The costly part
//! of a bit reader is getting bytes into that buffer, so it is done a word at
//! a time: [`BitReader::refill_fast`] loads eight bytes with one unaligned
//! little-endian read, shifts them above the bits already held, and advances
//! the input by however many *whole* bytes fitted (libdeflate's branchless
//! refill: `pos += (63 - bitcount) / 8; bitcount |= 56`). After a refill the
//! buffer holds at least 56 valid bits, enough for a whole DEFLATE match
//! (15 + 5 bits of length, 15 + 13 of distance = 48 bits) with no further
//! check. Near the end of the input, [`BitReader::refill`] falls back to
//! loading single bytes.
//!
//! State and invariants:
//! - `input[..pos]` has been pulled into the buffer (or skipped by
//!   [`BitReader::take_bytes`]); `input[pos..]` has not.
//! - `bitbuf` bits `0..bitcount` are the next `bitcount` bits of the stream.
//!   `bitcount <= 63` except transiently inside a refill.
//! - Bits at and above `bitcount` are either zero or exactly the low bits of
//!   `input[pos]` sitting where a later refill will OR them again (the word
//!   refill loads a partial byte it does not count). ORing equal bits is
//!   harmless, so the next refill need not clear them; whoever moves `pos`
//!   by other means masks them away.
//! - The top `8 * (bitcount / 8)` buffered bits are whole input bytes, which
//!   is what lets [`BitReader::give_back_bytes`] return them to the caller:
//!   a decoder that stops must report exactly where its stream ended.
//!
//! A reader lives for one call on one input slice. A streaming decoder that
//! must continue on the next slice keeps the few leftover bits as a
//! [`BitState`] ([`BitReader::suspend`] / [`BitReader::resume`]).

/// The bits a suspended reader still held: at most 63, masked clean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BitState {
    bitbuf: u64,
    bitcount: u32,
}

impl BitState {
    /// Number of buffered bits.
    pub fn bit_count(&self) -> u32 {
        self.bitcount
    }
}

/// LSB-first bit reader; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct BitReader<'a> {
    input: &'a [u8],
    pos: usize,
    bitbuf: u64,
    bitcount: u32,
}

/// `(1 << n) - 1` for `n` in `0..=63`.
#[inline(always)]
pub(crate) const fn low_mask(n: u32) -> u64 {
    (1u64 << n) - 1
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `input`.
    pub const fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            bitbuf: 0,
            bitcount: 0,
        }
    }

    /// A reader that first returns the bits saved by [`Self::suspend`], then
    /// continues with `input`.
    pub fn resume(input: &'a [u8], state: BitState) -> Self {
        Self {
            input,
            pos: 0,
            bitbuf: state.bitbuf,
            bitcount: state.bitcount,
        }
    }

    /// The buffered bits, masked so that the next input slice may differ
    /// from whatever bytes followed this one.
    pub fn suspend(&self) -> BitState {
        BitState {
            bitbuf: self.bitbuf & low_mask(self.bitcount),
            bitcount: self.bitcount,
        }
    }

    /// Bytes of the input pulled into the buffer (or skipped) so far.
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes of the input not yet pulled into the buffer.
    #[inline(always)]
    pub fn bytes_left(&self) -> usize {
        self.input.len() - self.pos
    }

    /// Number of valid bits in the buffer.
    #[inline(always)]
    pub fn bit_count(&self) -> u32 {
        self.bitcount
    }

    /// The buffer itself: bits `0..bit_count()` are valid, higher bits are
    /// unspecified (zero or input bits not yet counted).
    #[inline(always)]
    pub fn bit_buffer(&self) -> u64 {
        self.bitbuf
    }

    /// The reader's state as plain values `(input, position, bit buffer,
    /// bit count)`, for a hot loop that keeps them in registers and hands
    /// them back with [`Self::set_raw_parts`].
    #[inline(always)]
    pub(crate) fn raw_parts(&self) -> (&'a [u8], usize, u64, u32) {
        (self.input, self.pos, self.bitbuf, self.bitcount)
    }

    /// Restore state taken with [`Self::raw_parts`] and advanced by the
    /// same rules as [`Self::refill_fast`] and [`Self::consume`] (so the
    /// module invariants hold): `pos <= input.len()`, `bitcount <= 63`.
    #[inline(always)]
    pub(crate) fn set_raw_parts(&mut self, pos: usize, bitbuf: u64, bitcount: u32) {
        debug_assert!(pos <= self.input.len() && bitcount <= 63);
        self.pos = pos;
        self.bitbuf = bitbuf;
        self.bitcount = bitcount;
    }

    /// Word refill. Precondition: `bytes_left() >= 8`. Afterwards
    /// `bit_count() >= 56`.
    #[inline(always)]
    pub fn refill_fast(&mut self) {
        debug_assert!(self.bytes_left() >= 8 && self.bitcount < 64);
        let mut w = [0u8; 8];
        match self.input.get(self.pos..self.pos + 8) {
            Some(s) => w.copy_from_slice(s),
            // Precondition broken: stay correct, not fast.
            None => return self.refill_slow(),
        }
        let word = u64::from_le_bytes(w);
        self.bitbuf |= word << self.bitcount;
        self.pos += ((63 - self.bitcount) >> 3) as usize;
        self.bitcount |= 56;
    }

    /// Fill the buffer to at least 56 bits, or with all remaining input if
    /// there is less.
    #[inline(always)]
    pub fn refill(&mut self) {
        if self.bytes_left() >= 8 {
            self.refill_fast();
        } else {
            self.refill_slow();
        }
    }

    // Inlined although cold: a call taking `&mut self` would force a reader
    // copied into a hot loop out of registers and into memory.
    #[inline(always)]
    fn refill_slow(&mut self) {
        // Stop below 64 bits: a whole byte must always fit above the valid bits.
        while self.bitcount < 56 {
            let Some(&b) = self.input.get(self.pos) else {
                break;
            };
            self.bitbuf |= u64::from(b) << self.bitcount;
            self.pos += 1;
            self.bitcount += 8;
        }
    }

    /// The next `n` bits (`n <= 32`), without consuming them. Bits beyond
    /// `bit_count()` read as unspecified; check `bit_count()` first.
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u64 {
        self.bitbuf & low_mask(n)
    }

    /// Drop `n <= bit_count()` bits.
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.bitcount);
        self.bitbuf >>= n;
        self.bitcount -= n;
    }

    /// Read `n <= 32` bits, refilling as needed; `None` (consuming nothing)
    /// when the input holds fewer than `n` more bits.
    pub fn read_bits(&mut self, n: u32) -> Option<u32> {
        if self.bitcount < n {
            self.refill();
            if self.bitcount < n {
                return None;
            }
        }
        let v = self.peek(n) as u32;
        self.consume(n);
        Some(v)
    }

    /// Skip to the next byte boundary (drop the rest of a partial byte).
    #[inline]
    pub fn align_to_byte(&mut self) {
        let n = self.bitcount & 7;
        self.consume(n);
    }

    /// Un-read whole buffered bytes, at most `max` of them (never more than
    /// were pulled from this reader's own input), so that `position()` is
    /// the first byte not yet needed. Call after [`Self::align_to_byte`]
    /// to find the exact end of a byte-aligned stream. Returns the number of
    /// bytes given back.
    pub fn give_back_bytes(&mut self, max: usize) -> usize {
        let n = ((self.bitcount / 8) as usize).min(max).min(self.pos);
        self.pos -= n;
        self.bitcount -= 8 * n as u32;
        self.bitbuf &= low_mask(self.bitcount);
        n
    }

    /// The next `n <= bytes_left()` input bytes, bypassing the buffer (for
    /// stored blocks). Precondition: the buffer is empty (`bit_count() == 0`),
    /// so the stream really is at `position()`.
    #[inline]
    pub fn take_bytes(&mut self, n: usize) -> &'a [u8] {
        debug_assert_eq!(self.bitcount, 0);
        let n = n.min(self.bytes_left());
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        // Any uncounted bits above bitcount belonged to input[old pos]; they
        // are stale now.
        self.bitbuf = 0;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_lsb_first() {
        let data = [0b1010_1100u8, 0xff, 0x01];
        let mut r = BitReader::new(&data);
        assert_eq!(r.read_bits(2), Some(0b00));
        assert_eq!(r.read_bits(3), Some(0b011));
        assert_eq!(r.read_bits(3), Some(0b101));
        assert_eq!(r.read_bits(9), Some(0x1ff));
        assert_eq!(r.read_bits(7), Some(0));
        assert_eq!(r.read_bits(1), None);
    }

    #[test]
    fn refill_fast_keeps_whole_bytes() {
        let data: Vec<u8> = (0u8..32).collect();
        let mut r = BitReader::new(&data);
        r.refill_fast();
        assert_eq!(r.bit_count(), 56);
        assert_eq!(r.position(), 7);
        r.consume(3);
        r.refill_fast();
        // 53 bits held, room for one more byte only.
        assert_eq!(r.bit_count(), 61);
        assert_eq!(r.position(), 8);
    }

    #[test]
    fn give_back_after_align() {
        let data: Vec<u8> = (1u8..=20).collect();
        let mut r = BitReader::new(&data);
        r.refill();
        assert_eq!(r.read_bits(12), Some(0x201));
        r.align_to_byte();
        let n = r.give_back_bytes(usize::MAX);
        assert_eq!(n, 5);
        assert_eq!(r.position(), 2);
        assert_eq!(r.bit_count(), 0);
        assert_eq!(r.take_bytes(3), &[3, 4, 5]);
        assert_eq!(r.read_bits(8), Some(6));
    }

    #[test]
    fn suspend_resume_across_slices() {
        let data = [0xabu8, 0xcd, 0xef];
        let mut r = BitReader::new(&data[..2]);
        assert_eq!(r.read_bits(4), Some(0xb));
        assert_eq!(r.read_bits(16), None);
        let st = r.suspend();
        assert_eq!(st.bit_count(), 12);
        let mut r = BitReader::resume(&data[2..], st);
        assert_eq!(r.read_bits(16), Some(0xfcda));
        assert_eq!(r.read_bits(4), Some(0xe));
    }

    proptest! {
        /// Reading arbitrary widths through word refills, byte refills and
        /// suspensions at arbitrary slice boundaries gives the same bits as
        /// a trivially correct bit-at-a-time model.
        #[test]
        fn matches_bitwise_model(data in proptest::collection::vec(any::<u8>(), 0..200),
                                 widths in proptest::collection::vec(0u32..=32, 1..100),
                                 cut in 0usize..200) {
            let bit = |i: usize| (data[i / 8] >> (i % 8)) & 1;
            let cut = cut.min(data.len());
            let mut r = BitReader::new(&data[..cut]);
            let mut second = false;
            let mut at = 0usize;
            for &w in &widths {
                let mut got = r.read_bits(w);
                if got.is_none() && !second {
                    let st = r.suspend();
                    r = BitReader::resume(&data[cut..], st);
                    second = true;
                    got = r.read_bits(w);
                }
                if at + w as usize > data.len() * 8 {
                    prop_assert!(got.is_none());
                    break;
                }
                let want = (0..w as usize).fold(0u32, |acc, k| acc | u32::from(bit(at + k)) << k);
                prop_assert_eq!(got, Some(want));
                at += w as usize;
                if w % 3 == 0 { r.refill(); }
            }
        }
    }
}
