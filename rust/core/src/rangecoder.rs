//! Entropy coders for model-driven compression: a binary arithmetic coder
//! for bitwise models (context mixing) and a multi-symbol range coder for
//! models that output a whole distribution per step (neural byte models,
//! tensor codecs). Integer arithmetic only, so encoder and decoder agree on
//! every machine.
//!
//! ## Binary coder ([`BinaryEncoder`], [`BinaryDecoder`])
//!
//! The carry-less 32-bit coder of the paq/lpaq family. The state is an
//! interval `[x1, x2]` of 32-bit values; a bit with probability `p1/4096` of
//! being 1 splits it at `xmid = x1 + range * p1 / 4096` (computed in two
//! halves so that no bit of the range is lost): a 1 keeps `[x1, xmid]`, a
//! 0 keeps `[xmid + 1, x2]`. Whenever the leading bytes of `x1` and `x2`
//! agree, that byte is final: it is written and both ends shift left (`x2`
//! shifting in ones). Because a byte is only written once it can no longer
//! change, there is no carry to propagate. Invariant after every step:
//! `x1 < x2` and their top bytes differ, so `range >= 1` and `xmid` lies in
//! `[x1, x2)`, leaving both halves non-empty for any `p1` in 1..=4095.
//! The cost is that the range can become small when the interval straddles
//! a byte boundary; on real streams this wastes far less than 0.1 % (tested).
//!
//! `finish` writes the shortest prefix of a value inside the final interval;
//! the decoder reads zeros past the end of its input, so that prefix is
//! enough.
//!
//! ## Range coder ([`RangeEncoder`], [`RangeDecoder`])
//!
//! LZMA's range coder widened to 48 bits: `low` (with one carry bit above
//! it) and `range` live in `u64`, `range` is kept in `(2^40, 2^48]` by
//! shifting out a byte whenever it falls to `2^40` or below. A symbol with
//! cumulative frequency `cum_lo` and frequency `freq` out of `2^total_bits`
//! maps to `r = range >> total_bits`, `low += r * cum_lo`,
//! `range = r * freq`. The truncation of `range` costs at most
//! `2^16 / 2^40` of the range per symbol, about 1e-7 bits: negligible even
//! for near-certain symbols, which is why the state is 48 bits and not
//! LZMA's 32. A carry out of `low` is propagated into the bytes held back
//! (one `cache` byte plus a count of pending 0xFF bytes), as in LZMA.
//!
//! ## Untrusted input
//!
//! Decoders never panic and never loop: past the end of the input they read
//! zeros, and a garbage stream decodes to garbage symbols that the caller's
//! container checksum rejects. Invalid arguments (a zero frequency, a
//! cumulative range beyond the total, more than 16 total bits) are
//! [`RangeCoderError`]s, never a hang.

use std::fmt;

/// Probability scale of the binary coder: `p1` is `P(bit = 1) * 4096`.
pub const PROB_BITS: u32 = 12;
/// Largest `total_bits` accepted by the range coder.
pub const MAX_TOTAL_BITS: u32 = 16;

/// Invalid arguments to a coder (never caused by the compressed data).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeCoderError {
    /// `total_bits` above [`MAX_TOTAL_BITS`].
    TotalBits(u32),
    /// A symbol of frequency 0, or `cum_lo + freq` beyond `2^total_bits`.
    BadInterval { cum_lo: u32, freq: u32, total: u32 },
    /// A frequency table whose sum is not a power of two `<= 2^16`.
    BadTable { sum: u64 },
    /// A symbol index outside the table.
    BadSymbol { symbol: usize, len: usize },
}

impl fmt::Display for RangeCoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TotalBits(b) => write!(f, "total_bits must be at most 16, got {b}"),
            Self::BadInterval { cum_lo, freq, total } => write!(
                f,
                "invalid symbol interval: cum_lo {cum_lo} + freq {freq} must be within total {total} with freq >= 1"
            ),
            Self::BadTable { sum } => write!(
                f,
                "frequency table sums to {sum}, which is not a power of two between 1 and 65536"
            ),
            Self::BadSymbol { symbol, len } => {
                write!(f, "symbol {symbol} outside a table of {len} frequencies")
            }
        }
    }
}

impl std::error::Error for RangeCoderError {}

// ---------------------------------------------------------------- binary

/// Where `p1 * range / 4096` splits `[x1, x2]`. `p1` is clamped to
/// 1..=4095 so that both halves stay non-empty whatever the caller passes.
#[inline(always)]
pub(crate) fn split(x1: u32, x2: u32, p1: u16) -> u32 {
    let p = u32::from(p1.clamp(1, 4095));
    let range = x2 - x1;
    x1 + (range >> PROB_BITS) * p + (((range & 0xfff) * p) >> PROB_BITS)
}

/// Binary arithmetic encoder (see the module documentation).
#[derive(Debug, Clone)]
pub struct BinaryEncoder {
    x1: u32,
    x2: u32,
    out: Vec<u8>,
}

impl Default for BinaryEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BinaryEncoder {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An encoder whose output buffer starts with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        BinaryEncoder {
            x1: 0,
            x2: u32::MAX,
            out: Vec::with_capacity(cap),
        }
    }

    /// Code `bit`, predicted to be 1 with probability `p1 / 4096`
    /// (`p1` in 1..=4095; values outside are clamped into it).
    #[inline]
    pub fn encode(&mut self, bit: bool, p1: u16) {
        let xmid = split(self.x1, self.x2, p1);
        if bit {
            self.x2 = xmid;
        } else {
            self.x1 = xmid + 1;
        }
        while (self.x1 ^ self.x2) & 0xff00_0000 == 0 {
            self.out.push((self.x2 >> 24) as u8);
            self.x1 <<= 8;
            self.x2 = (self.x2 << 8) | 0xff;
        }
    }

    /// Take the bytes written so far, leaving the coder's state (and the
    /// bytes still to come) as they are: for streaming containers, whose
    /// concatenated pieces equal the whole stream `finish` would return,
    /// but for trailing zero bytes, dropped only from the last piece.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Bytes written so far (the final length is at most 4 more).
    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// End the stream: write the shortest byte prefix of a value in
    /// `[x1, x2]` (the decoder pads with zeros).
    pub fn finish(mut self) -> Vec<u8> {
        for k in 1..=4u32 {
            let low_bits = 32 - 8 * k;
            let mask = if low_bits == 0 {
                0
            } else {
                (1u32 << low_bits) - 1
            };
            // x1 rounded up to a multiple of 2^low_bits, if that fits.
            let Some(v) = self.x1.checked_add(mask).map(|v| v & !mask) else {
                continue;
            };
            if v <= self.x2 {
                for i in 0..k {
                    self.out.push((v >> (24 - 8 * i)) as u8);
                }
                break;
            }
        }
        // The decoder reads zeros past the end: trailing zeros are implied.
        while self.out.last() == Some(&0) {
            self.out.pop();
        }
        self.out
    }
}

/// The decoders' input: the stream's bytes, then zeros past its end (a
/// truncated stream decodes to garbage that the container's checksum
/// rejects, never a panic). `pos` counts every byte asked for.
#[derive(Debug, Clone)]
struct ByteInput<D: AsRef<[u8]>> {
    data: D,
    pos: usize,
}

impl<D: AsRef<[u8]>> ByteInput<D> {
    #[inline(always)]
    fn next_byte(&mut self) -> u8 {
        let b = self.data.as_ref().get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }
}

/// Binary arithmetic decoder over a stream it borrows (`&[u8]`) or owns
/// (`Vec<u8>`).
#[derive(Debug, Clone)]
pub struct BinaryDecoder<D: AsRef<[u8]>> {
    x1: u32,
    x2: u32,
    x: u32,
    input: ByteInput<D>,
}

impl<D: AsRef<[u8]>> BinaryDecoder<D> {
    pub fn new(data: D) -> Self {
        let mut d = BinaryDecoder {
            x1: 0,
            x2: u32::MAX,
            x: 0,
            input: ByteInput { data, pos: 0 },
        };
        for _ in 0..4 {
            d.x = (d.x << 8) | u32::from(d.input.next_byte());
        }
        d
    }

    /// Decode one bit coded with the same `p1` the encoder used.
    #[inline]
    pub fn decode(&mut self, p1: u16) -> bool {
        let xmid = split(self.x1, self.x2, p1);
        let bit = self.x <= xmid;
        if bit {
            self.x2 = xmid;
        } else {
            self.x1 = xmid + 1;
        }
        while (self.x1 ^ self.x2) & 0xff00_0000 == 0 {
            self.x1 <<= 8;
            self.x2 = (self.x2 << 8) | 0xff;
            self.x = (self.x << 8) | u32::from(self.input.next_byte());
        }
        bit
    }

    /// Input bytes consumed so far, counting the 4 read ahead; may exceed
    /// the input length when the stream was truncated (zeros were read).
    pub fn position(&self) -> usize {
        self.input.pos
    }
}

// ---------------------------------------------------------------- range

const RC_BITS: u32 = 48;
const RC_TOP: u64 = 1 << (RC_BITS - 8);
const RC_MASK: u64 = (1 << RC_BITS) - 1;

fn check(cum_lo: u32, freq: u32, total_bits: u32) -> Result<(), RangeCoderError> {
    if total_bits > MAX_TOTAL_BITS {
        return Err(RangeCoderError::TotalBits(total_bits));
    }
    let total = 1u32 << total_bits;
    if freq == 0 || u64::from(cum_lo) + u64::from(freq) > u64::from(total) {
        return Err(RangeCoderError::BadInterval {
            cum_lo,
            freq,
            total,
        });
    }
    Ok(())
}

/// `log2(sum(freqs))` when that sum is a power of two `<= 2^16`.
pub fn table_bits(freqs: &[u32]) -> Result<u32, RangeCoderError> {
    let sum: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
    if sum == 0 || !sum.is_power_of_two() || sum > 1 << MAX_TOTAL_BITS {
        return Err(RangeCoderError::BadTable { sum });
    }
    Ok(sum.trailing_zeros())
}

/// Multi-symbol range encoder (see the module documentation).
#[derive(Debug, Clone)]
pub struct RangeEncoder {
    low: u64,
    range: u64,
    cache: u8,
    /// Bytes held back: the `cache` byte plus `pending - 1` bytes of 0xFF.
    pending: u64,
    out: Vec<u8>,
    /// The very first byte LZMA's scheme emits is always 0; it is dropped.
    first: bool,
}

impl Default for RangeEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RangeEncoder {
    pub fn new() -> Self {
        RangeEncoder {
            low: 0,
            range: RC_MASK,
            cache: 0,
            pending: 1,
            out: Vec::new(),
            first: true,
        }
    }

    fn shift_low(&mut self) {
        let carry = (self.low >> RC_BITS) as u8; // 0 or 1
        if self.low < (0xff << (RC_BITS - 8)) || carry != 0 {
            let mut byte = self.cache.wrapping_add(carry);
            loop {
                if self.first {
                    self.first = false;
                } else {
                    self.out.push(byte);
                }
                byte = 0xffu8.wrapping_add(carry);
                self.pending -= 1;
                if self.pending == 0 {
                    break;
                }
            }
            self.cache = ((self.low >> (RC_BITS - 8)) & 0xff) as u8;
        }
        self.pending += 1;
        self.low = (self.low << 8) & RC_MASK;
    }

    /// Code the symbol occupying `[cum_lo, cum_lo + freq)` of a total of
    /// `2^total_bits` (`total_bits <= 16`, `freq >= 1`).
    #[inline]
    pub fn encode(
        &mut self,
        cum_lo: u32,
        freq: u32,
        total_bits: u32,
    ) -> Result<(), RangeCoderError> {
        check(cum_lo, freq, total_bits)?;
        let r = self.range >> total_bits;
        self.low += r * u64::from(cum_lo);
        self.range = r * u64::from(freq);
        while self.range <= RC_TOP {
            self.range <<= 8;
            self.shift_low();
        }
        Ok(())
    }

    /// Code symbol `sym` of the table `freqs`, whose sum must be a power of
    /// two `<= 2^16`, with `freqs[sym] >= 1`.
    pub fn encode_symbol(&mut self, freqs: &[u32], sym: usize) -> Result<(), RangeCoderError> {
        let bits = table_bits(freqs)?;
        if sym >= freqs.len() {
            return Err(RangeCoderError::BadSymbol {
                symbol: sym,
                len: freqs.len(),
            });
        }
        let cum: u32 = freqs[..sym].iter().sum();
        self.encode(cum, freqs[sym], bits)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// End the stream and return it.
    pub fn finish(mut self) -> Vec<u8> {
        // Enough bytes of `low` to pin a value in [low, low + range): all
        // of them (6), then drop trailing zeros the decoder pads back.
        for _ in 0..=RC_BITS / 8 {
            self.shift_low();
        }
        while self.out.last() == Some(&0) {
            self.out.pop();
        }
        self.out
    }
}

/// Multi-symbol range decoder over a stream it borrows (`&[u8]`) or owns
/// (`Vec<u8>`).
#[derive(Debug, Clone)]
pub struct RangeDecoder<D: AsRef<[u8]>> {
    code: u64,
    range: u64,
    input: ByteInput<D>,
}

impl<D: AsRef<[u8]>> RangeDecoder<D> {
    pub fn new(data: D) -> Self {
        let mut d = RangeDecoder {
            code: 0,
            range: RC_MASK,
            input: ByteInput { data, pos: 0 },
        };
        for _ in 0..RC_BITS / 8 {
            d.code = (d.code << 8) | u64::from(d.input.next_byte());
        }
        d
    }

    /// The cumulative frequency the next symbol's interval contains, in
    /// `0..2^total_bits` (`total_bits` above 16 is treated as 16; a
    /// garbage stream is clamped into range).
    #[inline]
    pub fn target(&self, total_bits: u32) -> u32 {
        let bits = total_bits.min(MAX_TOTAL_BITS);
        let r = self.range >> bits;
        let t = self.code / r.max(1);
        t.min((1u64 << bits) - 1) as u32
    }

    /// Remove the symbol `[cum_lo, cum_lo + freq)` found through
    /// [`target`](Self::target).
    #[inline]
    pub fn consume(
        &mut self,
        cum_lo: u32,
        freq: u32,
        total_bits: u32,
    ) -> Result<(), RangeCoderError> {
        check(cum_lo, freq, total_bits)?;
        let r = self.range >> total_bits;
        // Wrapping: a garbage stream may put `code` outside the interval;
        // it then decodes garbage but never panics.
        self.code = self.code.wrapping_sub(r * u64::from(cum_lo)) & RC_MASK;
        self.range = r * u64::from(freq);
        while self.range <= RC_TOP {
            self.range <<= 8;
            self.code = ((self.code << 8) | u64::from(self.input.next_byte())) & RC_MASK;
        }
        Ok(())
    }

    /// Decode one symbol of the table `freqs`; `None` if the table's sum is
    /// not a power of two `<= 2^16`.
    pub fn decode_symbol(&mut self, freqs: &[u32]) -> Option<usize> {
        let bits = table_bits(freqs).ok()?;
        let t = self.target(bits);
        let mut cum = 0u32;
        for (i, &f) in freqs.iter().enumerate() {
            if f > 0 && t < cum + f {
                self.consume(cum, f, bits).ok()?;
                return Some(i);
            }
            cum += f;
        }
        None // unreachable for a valid table: t < sum
    }

    /// Input bytes consumed so far (may exceed the input when truncated).
    pub fn position(&self) -> usize {
        self.input.pos
    }
}

// ---------------------------------------------------------------- quantize

/// Turn one row of model probabilities into integer frequencies that sum
/// to exactly `2^total_bits`, every one at least 1, by a fixed rule so that
/// encoder and decoder get identical tables from identical floats:
///
/// 1. `w[i] = p[i]` when finite and positive, else 0; `s = sum(w)` added
///    in index order. If `s` is not a finite positive number, `w[i] = 1`.
/// 2. `spare = 2^total_bits - k`; `f[i] = 1 + floor(w[i] / s * spare)`
///    (IEEE-754 double division then multiplication, each correctly
///    rounded, so the result is the same on every machine).
/// 3. The shortfall `2^total_bits - sum(f)` goes to the symbol with the
///    largest `f` (the first among equals). Should rounding ever make the
///    sum exceed the total, the excess is taken from that symbol too.
///
/// Errors: `total_bits > 16`, or `k` (the row length) 0 or above the total.
pub fn quantize_probs(
    probs: &[f64],
    total_bits: u32,
    out: &mut [u32],
) -> Result<(), RangeCoderError> {
    if total_bits > MAX_TOTAL_BITS {
        return Err(RangeCoderError::TotalBits(total_bits));
    }
    let total = 1u32 << total_bits;
    let k = probs.len();
    if k == 0 || k > total as usize || out.len() != k {
        return Err(RangeCoderError::BadTable { sum: k as u64 });
    }
    let w = |p: f64| if p.is_finite() && p > 0.0 { p } else { 0.0 };
    let mut s = 0f64;
    for &p in probs {
        s += w(p);
    }
    let uniform = !(s.is_finite() && s > 0.0);
    if uniform {
        s = k as f64;
    }
    let spare = f64::from(total - k as u32);
    let mut sum = 0u64;
    for (&p, f) in probs.iter().zip(out.iter_mut()) {
        let wi = if uniform { 1.0 } else { w(p) };
        let q = (wi / s * spare).floor().clamp(0.0, spare);
        *f = 1 + q as u32;
        sum += u64::from(*f);
    }
    let total = u64::from(total);
    if sum < total {
        let b = argmax(out);
        out[b] += (total - sum) as u32;
    } else {
        // Only reachable through rounding, by a few units at most; the
        // largest frequency is at least total / k, far above that.
        let mut excess = sum - total;
        while excess > 0 {
            let b = argmax(out);
            let take = excess.min(u64::from(out[b] - 1));
            out[b] -= take as u32;
            excess -= take;
        }
    }
    Ok(())
}

/// Index of the largest value, the first among equals.
fn argmax(v: &[u32]) -> usize {
    let mut b = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[b] {
            b = i;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// xorshift64*, deterministic test data without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn bin_round_trip(bits: &[bool], probs: &[u16]) -> Vec<u8> {
        let mut e = BinaryEncoder::new();
        for (&b, &p) in bits.iter().zip(probs) {
            e.encode(b, p);
        }
        let out = e.finish();
        let mut d = BinaryDecoder::new(&out);
        for (i, (&b, &p)) in bits.iter().zip(probs).enumerate() {
            assert_eq!(d.decode(p), b, "bit {i}");
        }
        out
    }

    #[test]
    fn binary_empty_and_tiny() {
        assert!(bin_round_trip(&[], &[]).is_empty());
        bin_round_trip(&[true], &[1]);
        bin_round_trip(&[false], &[4095]);
        bin_round_trip(&[true, false, true], &[4095, 1, 2048]);
    }

    #[test]
    fn binary_code_length_near_ideal() {
        // Bits drawn from their own probabilities, probabilities spread
        // over the whole 12-bit scale: the ideal is sum(-log2 p(bit)).
        let mut rng = Rng(0x1234_5678);
        let n = 2_000_000;
        let mut bits = Vec::with_capacity(n);
        let mut probs = Vec::with_capacity(n);
        let mut ideal = 0f64;
        for _ in 0..n {
            let p = (1 + rng.below(4095)) as u16;
            let bit = rng.below(4096) < u64::from(p);
            let q = f64::from(p) / 4096.0;
            ideal -= if bit { q.log2() } else { (1.0 - q).log2() };
            bits.push(bit);
            probs.push(p);
        }
        let out = bin_round_trip(&bits, &probs);
        let actual = out.len() as f64 * 8.0;
        assert!(actual <= ideal * 1.001 + 32.0, "{actual} vs ideal {ideal}");
    }

    #[test]
    fn binary_skewed_code_length_near_ideal() {
        // Highly predictable bits (p near the ends of the scale), the
        // regime of a context-mixing model on redundant data.
        let mut rng = Rng(99);
        let n = 3_000_000;
        let (mut bits, mut probs, mut ideal) = (Vec::new(), Vec::new(), 0f64);
        for _ in 0..n {
            let p = if rng.below(2) == 0 { 4000 } else { 60 };
            let bit = rng.below(4096) < u64::from(p);
            let q = f64::from(p) / 4096.0;
            ideal -= if bit { q.log2() } else { (1.0 - q).log2() };
            bits.push(bit);
            probs.push(p);
        }
        let out = bin_round_trip(&bits, &probs);
        let actual = out.len() as f64 * 8.0;
        assert!(actual <= ideal * 1.001 + 32.0, "{actual} vs ideal {ideal}");
    }

    fn rc_round_trip(tables: &[Vec<u32>], syms: &[usize]) -> Vec<u8> {
        let mut e = RangeEncoder::new();
        for (t, &s) in tables.iter().zip(syms) {
            e.encode_symbol(t, s).unwrap();
        }
        let out = e.finish();
        let mut d = RangeDecoder::new(&out);
        for (i, (t, &s)) in tables.iter().zip(syms).enumerate() {
            assert_eq!(d.decode_symbol(t), Some(s), "symbol {i}");
        }
        out
    }

    /// A random table of `k` symbols summing to `2^bits`, every freq >= 1.
    fn random_table(rng: &mut Rng, k: usize, bits: u32) -> Vec<u32> {
        let total = 1u32 << bits;
        let mut f = vec![1u32; k];
        let mut left = total - k as u32;
        // Skewed: a few symbols take most of the mass.
        while left > 0 {
            let i = (rng.below(k as u64) * rng.below(k as u64) / k as u64) as usize;
            let add = (1 + rng.below(u64::from(left))).min(u64::from(left)) as u32;
            let add = add.div_ceil(2).max(1);
            f[i] += add;
            left -= add;
        }
        f
    }

    fn draw(rng: &mut Rng, t: &[u32]) -> usize {
        let total: u32 = t.iter().sum();
        let mut x = rng.below(u64::from(total)) as u32;
        for (i, &f) in t.iter().enumerate() {
            if x < f {
                return i;
            }
            x -= f;
        }
        unreachable!()
    }

    #[test]
    fn range_empty_and_tiny() {
        assert!(RangeEncoder::new().finish().is_empty());
        let t = vec![1u32, 65535];
        rc_round_trip(std::slice::from_ref(&t), &[0]);
        rc_round_trip(&[t.clone(), t.clone()], &[1, 0]);
        rc_round_trip(&[vec![1]], &[0]); // total 1: zero bits
        let mut e = RangeEncoder::new();
        for _ in 0..1000 {
            e.encode(0, 1, 0).unwrap();
        }
        assert!(e.finish().is_empty());
    }

    #[test]
    fn range_code_length_near_ideal() {
        let mut rng = Rng(7);
        for bits in [8u32, 12, 15, 16] {
            let tables: Vec<Vec<u32>> =
                (0..64).map(|_| random_table(&mut rng, 256, bits)).collect();
            let n = 400_000;
            let mut ts = Vec::with_capacity(n);
            let mut syms = Vec::with_capacity(n);
            let mut ideal = 0f64;
            for _ in 0..n {
                let t = &tables[rng.below(64) as usize];
                let s = draw(&mut rng, t);
                ideal -= (f64::from(t[s]) / f64::from(1u32 << bits)).log2();
                ts.push(t.clone());
                syms.push(s);
            }
            let out = rc_round_trip(&ts, &syms);
            let actual = out.len() as f64 * 8.0;
            assert!(
                actual <= ideal * 1.001 + 64.0,
                "bits {bits}: {actual} vs {ideal}"
            );
        }
    }

    #[test]
    fn range_near_certain_symbols_cost_little() {
        // p = 65535/65536 per symbol: ideal 2.2e-5 bits each.
        let t = vec![65535u32, 1];
        let mut e = RangeEncoder::new();
        let n = 1_000_000;
        for _ in 0..n {
            e.encode_symbol(&t, 0).unwrap();
        }
        let out = e.finish();
        let ideal = -(65535f64 / 65536.0).log2() * n as f64;
        assert!((out.len() as f64 * 8.0) <= ideal * 1.001 + 64.0);
        let mut d = RangeDecoder::new(&out);
        for _ in 0..n {
            assert_eq!(d.decode_symbol(&t), Some(0));
        }
    }

    #[test]
    fn carries_propagate() {
        // Symbols at the top of the range push carries through runs of 0xFF.
        let mut rng = Rng(3);
        let t: Vec<u32> = vec![1, 1, 65534];
        let syms: Vec<usize> = (0..200_000)
            .map(|_| if rng.below(100) == 0 { 1 } else { 2 })
            .collect();
        let ts = vec![t; syms.len()];
        rc_round_trip(&ts, &syms);
    }

    #[test]
    fn invalid_arguments_are_errors() {
        let mut e = RangeEncoder::new();
        assert!(e.encode(0, 0, 8).is_err());
        assert!(e.encode(255, 2, 8).is_err());
        assert!(e.encode(0, 1, 17).is_err());
        assert!(e.encode_symbol(&[1, 2], 0).is_err());
        assert!(e.encode_symbol(&[2, 2], 2).is_err());
        assert!(e.encode_symbol(&[], 0).is_err());
        let mut d = RangeDecoder::new(&[1, 2, 3]);
        assert_eq!(d.decode_symbol(&[3, 2]), None);
        assert!(d.consume(0, 0, 4).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = Rng(11);
        for len in [0usize, 1, 3, 7, 100, 5000] {
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let mut d = RangeDecoder::new(&data);
            let t = random_table(&mut rng, 300, 16);
            for _ in 0..10_000 {
                let s = d.decode_symbol(&t).unwrap();
                assert!(t[s] > 0);
            }
            let mut b = BinaryDecoder::new(&data);
            for i in 0..10_000u32 {
                b.decode((i % 4097) as u16);
            }
        }
        // All-0xFF input, the extreme of `code`.
        let ff = vec![0xffu8; 64];
        let mut d = RangeDecoder::new(&ff);
        for _ in 0..1000 {
            assert!(d.decode_symbol(&[1, 1, 2, 4, 8]).is_some());
            let _ = d.target(16);
            let _ = d.consume(0, 1, 16);
        }
    }

    #[test]
    fn quantize_rule() {
        let mut f = vec![0u32; 4];
        quantize_probs(&[0.5, 0.25, 0.25, 0.0], 4, &mut f).unwrap();
        // spare 12: 1+6, 1+3, 1+3, 1+0 = 16 exactly.
        assert_eq!(f, vec![7, 4, 4, 1]);
        quantize_probs(&[0.3, 0.3, 0.4], 4, &mut f[..3]).unwrap();
        // spare 13: 1+3, 1+3, 1+5 = 14; the shortfall 2 goes to the largest.
        assert_eq!(&f[..3], &[4, 4, 8]);
        quantize_probs(&[f64::NAN, -1.0, f64::INFINITY, 0.0], 4, &mut f).unwrap();
        assert_eq!(f, vec![4, 4, 4, 4]);
        let mut g = vec![0u32; 3];
        quantize_probs(&[1.0, 1.0, 1.0], 16, &mut g).unwrap();
        assert_eq!(g, vec![21846, 21845, 21845]);
        assert!(quantize_probs(&[1.0; 5], 2, &mut [0; 5]).is_err());
        assert!(quantize_probs(&[], 8, &mut []).is_err());
        assert!(quantize_probs(&[1.0], 17, &mut [0]).is_err());
    }

    proptest! {
        #[test]
        fn quantized_rows_are_valid(p in proptest::collection::vec(any::<f64>(), 1..300), bits in 9u32..=16) {
            let mut f = vec![0u32; p.len()];
            quantize_probs(&p, bits, &mut f).unwrap();
            prop_assert!(f.iter().all(|&x| x >= 1));
            prop_assert_eq!(f.iter().map(|&x| u64::from(x)).sum::<u64>(), 1u64 << bits);
        }

        #[test]
        fn binary_round_trips(v in proptest::collection::vec((any::<bool>(), 0u16..=4096), 0..2000)) {
            let bits: Vec<bool> = v.iter().map(|x| x.0).collect();
            let probs: Vec<u16> = v.iter().map(|x| x.1).collect();
            bin_round_trip(&bits, &probs);
        }

        #[test]
        fn range_round_trips(seed in any::<u64>(), n in 0usize..600, k in 1usize..300, bits in 0u32..=16) {
            let mut rng = Rng(seed | 1);
            let k = k.min(1 << bits);
            let t = random_table(&mut rng, k, bits);
            let ts: Vec<Vec<u32>> = (0..n).map(|_| if rng.below(3) == 0 { random_table(&mut rng, k, bits) } else { t.clone() }).collect();
            let syms: Vec<usize> = ts.iter().map(|t| draw(&mut rng, t)).collect();
            rc_round_trip(&ts, &syms);
        }

        #[test]
        fn range_decoder_survives_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut d = RangeDecoder::new(&data);
            for _ in 0..500 {
                prop_assert!(d.decode_symbol(&[100, 1, 1, 154]).is_some());
            }
        }
    }
}
