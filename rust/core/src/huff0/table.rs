//! Byte histograms, and the code table shared by the encoder and decoder.
//!
//! A table is fully described by 256 code lengths (0 = the byte has no
//! code), at most [`MAX_TABLE_BITS`] = 12 bits each, forming a *complete*
//! prefix code (Kraft sum exactly 1) with at least two codes. Canonical codes
//! are assigned from the lengths in (length, symbol) order by
//! [`crate::huffman::build::codes_from_lengths`], bit-reversed because the
//! streams are written LSB-first (see [`super::encode`]).
//!
//! The decoder keeps two tables ([`DecTable`]):
//!
//! * `single`: `2^12` entries indexed by the next 12 bits of a stream. A code
//!   of length `L` has its bit-reversed code in the low `L` bits of the index
//!   and owns all `2^(12-L)` entries that share them, so one lookup yields
//!   the symbol and the bits to consume, whatever the following bits are.
//!   Each entry is `length | symbol << 8` in a `u16`. It serves the last few
//!   bytes of each stream, and is the building block of the other table.
//! * `multi`: `2^T` entries (`T` = 11, or 12 when the code has 12-bit codes)
//!   that decode up to **three** symbols per lookup: every symbol whose code
//!   lies entirely within the next `T` bits, in order. An entry packs, from
//!   bit 0 up, the total bits consumed (6 bits), the three symbols (8 bits
//!   each; unused ones 0) and the symbol count (2 bits, 1..=3) on top, so the
//!   decoder's hot loop uses it with a shift (the bits, the shift count taken
//!   modulo 64), a 4-byte store of `entry >> 6` (the symbols, plus one
//!   don't-care byte that the next store overwrites) and `entry >> 30` (how
//!   far the output advances). On skewed data (exponent bytes, about 2.7 bits
//!   per byte) one lookup yields close to three bytes: the table turns the
//!   per-byte dependency chain into a per-11-bits one.
//!
//! Because the code is complete, every entry of both tables is filled: a
//! corrupt stream decodes to *some* bytes (caught by the stream-size check
//! and the CRC), never to an invalid entry, so the hot loop has no error
//! branch.
//!
//! Why complete codes only: the length-limited builder always produces one,
//! and insisting on it on the decoding side both removes the "no symbol"
//! case from the hot loop and rejects most corrupt length headers early.
//!
//! The stored form of a table (in every Huffman block of a container, and
//! via [`Table::write_to`] for callers that keep tables elsewhere) covers the
//! symbol range `first..first + count` that has codes: byte `first`, byte
//! `count - 1`, then the lengths as 4-bit nibbles, two per byte, low nibble
//! first; an odd count leaves the last high nibble zero. A text block (codes
//! for bytes 0x0A..0x7E) costs 2 + 59 bytes.

use super::error::Huff0Error;
use crate::huffman::build::{codes_from_lengths, lengths_from_freqs};

/// Longest code any table may hold; the decode table has `2^12` entries.
pub const MAX_TABLE_BITS: u32 = 12;
/// Shortest code-length limit [`Table::from_histogram`] accepts: 256 symbols
/// need at least 8 bits.
pub const MIN_TABLE_BITS: u32 = 8;
/// The encoder's default length limit: 11 bits lets the decoder take five
/// symbols per 56-bit refill (four at 12 bits).
pub const DEFAULT_MAX_BITS: u32 = 11;

pub(crate) const DTABLE_SIZE: usize = 1 << MAX_TABLE_BITS;

/// Decoding tables (module docs): `single` by the next 12 bits, `multi` by
/// the next `log` bits (11 or 12).
#[derive(Clone)]
pub(crate) struct DecTable {
    pub(crate) single: [u16; DTABLE_SIZE],
    pub(crate) multi: [u32; DTABLE_SIZE],
    pub(crate) log: u32,
    /// `multi` is filled for the current lengths.
    pub(crate) has_multi: bool,
    /// The lengths the tables were last filled for, if any: a refill for
    /// the same code (blocks of stationary data) is skipped. Tensor chunks
    /// rarely repeat a code exactly (each has its own lengths), so this
    /// is a saving for the raw codec, not for weights.
    filled_for: Option<[u8; 256]>,
}

impl DecTable {
    /// An empty table on the heap (24 KiB), to be [`fill`](Self::fill)ed:
    /// decoders keep one per thread and refill it per block, rather than
    /// build and move a new one.
    pub(crate) fn boxed() -> Box<DecTable> {
        Box::new(DecTable {
            single: [0; DTABLE_SIZE],
            multi: [0; DTABLE_SIZE],
            log: MAX_TABLE_BITS,
            has_multi: false,
            filled_for: None,
        })
    }

    /// Fill the tables for a checked (complete) set of lengths whose
    /// longest code is `max_len` bits; the multi-symbol one only if
    /// `multi` (a block that will not use it skips its cost).
    pub(crate) fn fill(&mut self, lens: &[u8; 256], max_len: u32, multi: bool) {
        if self.filled_for.as_ref() == Some(lens) {
            // Same code as last time: `single` and `log` are right, and
            // `multi` too if it was filled (a table only ever marked as not
            // filled keeps `has_multi` false until it is).
            if multi && !self.has_multi {
                fill_multi(&self.single, self.log, &mut self.multi);
                self.has_multi = true;
            }
            return;
        }
        self.log = if max_len <= 11 { 11 } else { 12 };
        fill_dec_table(lens, &mut self.single);
        self.has_multi = multi;
        if multi {
            fill_multi(&self.single, self.log, &mut self.multi);
        }
        self.filled_for = Some(*lens);
    }
}
/// Encoding table: the bit-reversed code and length of each byte, and the
/// form the encoder's loop uses, `code << (64 - len) | len` in one `u64`
/// (see [`super::encode`]; 0 for bytes without a code).
#[derive(Clone)]
pub(crate) struct EncTable {
    pub(crate) codes: [u16; 256],
    pub(crate) packed: [u64; 256],
}

/// Counts of each byte value in `data` (saturating at `u32::MAX`).
///
/// Four sub-histograms are updated round-robin: on skewed data consecutive
/// bytes are often equal, and a single table would serialise every
/// increment behind the previous store to the same counter.
pub fn histogram(data: &[u8]) -> [u32; 256] {
    let mut total = [0u32; 256];
    // u32 counters cannot overflow within 2^30 bytes.
    for part in data.chunks(1 << 30) {
        let h = histogram_small(part);
        for (t, c) in total.iter_mut().zip(h) {
            *t = t.saturating_add(c);
        }
    }
    total
}

/// [`histogram`] for `data.len() < 2^32`.
pub(crate) fn histogram_small(data: &[u8]) -> [u32; 256] {
    let mut h = [[0u32; 256]; 4];
    let mut words = data.chunks_exact(8);
    for c in &mut words {
        count8(
            &mut h,
            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        );
    }
    for &b in words.remainder() {
        h[0][b as usize] += 1;
    }
    merge4(&h)
}

/// Count the eight bytes of `w` (little-endian) into four sub-histograms,
/// byte `i` into `h[i % 4]`: consecutive equal bytes then update different
/// counters, so the increments do not wait on each other.
#[inline(always)]
pub(crate) fn count8(h: &mut [[u32; 256]; 4], w: u64) {
    h[0][(w & 0xFF) as usize] += 1;
    h[1][((w >> 8) & 0xFF) as usize] += 1;
    h[2][((w >> 16) & 0xFF) as usize] += 1;
    h[3][((w >> 24) & 0xFF) as usize] += 1;
    h[0][((w >> 32) & 0xFF) as usize] += 1;
    h[1][((w >> 40) & 0xFF) as usize] += 1;
    h[2][((w >> 48) & 0xFF) as usize] += 1;
    h[3][(w >> 56) as usize] += 1;
}

/// The sum of four sub-histograms.
pub(crate) fn merge4(h: &[[u32; 256]; 4]) -> [u32; 256] {
    let mut out = [0u32; 256];
    for (i, o) in out.iter_mut().enumerate() {
        *o = h[0][i] + h[1][i] + h[2][i] + h[3][i];
    }
    out
}

/// Check that `lens` is a complete prefix code of at most 12 bits with at
/// least two codes; return its longest length.
pub(crate) fn check_lengths(lens: &[u8; 256]) -> Result<u32, &'static str> {
    let mut kraft: u32 = 0;
    let mut used = 0;
    let mut max = 0;
    for &l in lens {
        let l = u32::from(l);
        if l > MAX_TABLE_BITS {
            return Err("a code is longer than 12 bits");
        }
        if l != 0 {
            kraft += 1 << (MAX_TABLE_BITS - l);
            used += 1;
            max = max.max(l);
        }
    }
    if used < 2 {
        return Err("fewer than two symbols have codes");
    }
    if kraft > DTABLE_SIZE as u32 {
        return Err("the lengths are over-subscribed (Kraft sum above 1)");
    }
    if kraft < DTABLE_SIZE as u32 {
        return Err("the lengths are incomplete (Kraft sum below 1)");
    }
    Ok(max)
}

/// Encoding entries for a checked set of lengths.
pub(crate) fn enc_table(lens: &[u8; 256]) -> EncTable {
    let mut enc = EncTable {
        codes: [0; 256],
        packed: [0; 256],
    };
    enc.codes.copy_from_slice(&codes_from_lengths(lens));
    for ((p, &c), &l) in enc.packed.iter_mut().zip(&enc.codes).zip(lens) {
        if l != 0 {
            *p = u64::from(c) << (64 - u32::from(l)) | u64::from(l);
        }
    }
    enc
}

/// Fill the single-symbol table for a checked (complete) set of lengths.
///
/// By doubling, as libdeflate builds its tables: after the codes of length
/// `l` are placed, entries `0..2^l` are right for every index whose code is
/// at most `l` bits long (such an entry depends only on the index's low `l`
/// bits). Copying them to `2^l..2^(l+1)` keeps that true one bit wider, and
/// the codes of length `l + 1` then take their own index. So a code costs
/// one store, and the rest is 8 KiB of block copies.
fn fill_dec_table(lens: &[u8; 256], dec: &mut [u16; DTABLE_SIZE]) {
    let codes = codes_from_lengths(lens);
    let mut by_len = [[0u8; 256]; MAX_TABLE_BITS as usize + 1];
    let mut count = [0usize; MAX_TABLE_BITS as usize + 1];
    for (s, &l) in lens.iter().enumerate() {
        let l = usize::from(l).min(MAX_TABLE_BITS as usize);
        by_len[l][count[l]] = s as u8;
        count[l] += 1;
    }
    for l in 1..=MAX_TABLE_BITS as usize {
        let size = 1usize << l;
        let (lo, hi) = dec.split_at_mut(size / 2);
        hi[..size / 2].copy_from_slice(lo);
        for &s in &by_len[l][..count[l]] {
            let s = usize::from(s);
            // `codes[s] < 2^l`: the entry is inside the filled part.
            dec[usize::from(codes[s]) & (size - 1)] = l as u16 | (s as u16) << 8;
        }
    }
}

/// Fill the multi-symbol table (module docs) of `2^log` entries from the
/// single-symbol one. Entry `i`: decode a symbol from `i`, then another from
/// the bits that remain, and a third, keeping each only if its code ends
/// within the `log` bits. A code of `l` bits read from `i >> used` is only
/// looked at when `used + l <= log`, so the zero bits shifted in above the
/// index never decide a symbol. Branch-free: the choices are data.
fn fill_multi(single: &[u16; DTABLE_SIZE], log: u32, multi: &mut [u32; DTABLE_SIZE]) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx2 {
        #[allow(unsafe_code)]
        // SAFETY: `fill_multi_avx2` needs only a CPU with AVX2, which
        // `cpu::features()` has just checked.
        unsafe {
            fill_multi_avx2(single, log, multi)
        };
        return;
    }
    fill_multi_generic(single, log, multi);
}

/// [`fill_multi`] with AVX2: eight entries at a time, each of the three
/// lookups one gather from a 32-bit copy of `single` (indices masked to
/// 12 bits, so every gather stays inside it), the choices made with
/// compare masks. The same arithmetic as [`fill_multi_generic`], entry for
/// entry (a test checks that the tables are equal).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn fill_multi_avx2(single: &[u16; DTABLE_SIZE], log: u32, multi: &mut [u32; DTABLE_SIZE]) {
    use std::arch::x86_64::*;
    let mut wide = [0u32; DTABLE_SIZE];
    for (w, &e) in wide.iter_mut().zip(single) {
        *w = u32::from(e);
    }
    let n = 1usize << log;
    let mask = _mm256_set1_epi32(DTABLE_SIZE as i32 - 1);
    let ff = _mm256_set1_epi32(0xFF);
    let thirty_one = _mm256_set1_epi32(31);
    let log1 = _mm256_set1_epi32(log as i32 + 1);
    let one = _mm256_set1_epi32(1);
    let eight = _mm256_set1_epi32(8);
    let mut i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let base = wide.as_ptr().cast::<i32>();
    for m in multi[..n].chunks_exact_mut(8) {
        let Ok(m): Result<&mut [u32; 8], _> = m.try_into() else {
            break;
        };
        // SAFETY: every index is masked to 0..DTABLE_SIZE, inside `wide`.
        let gather = |idx: __m256i| unsafe {
            _mm256_i32gather_epi32::<4>(base, _mm256_and_si256(idx, mask))
        };
        let e0 = gather(i);
        let l0 = _mm256_and_si256(e0, ff);
        let e1 = gather(_mm256_srlv_epi32(i, l0));
        let l1 = _mm256_and_si256(e1, ff);
        let l01 = _mm256_add_epi32(l0, l1);
        let e2 = gather(_mm256_srlv_epi32(i, _mm256_and_si256(l01, thirty_one)));
        let l2 = _mm256_and_si256(e2, ff);
        let l012 = _mm256_add_epi32(l01, l2);
        let ok1 = _mm256_cmpgt_epi32(log1, l01);
        let ok2 = _mm256_and_si256(ok1, _mm256_cmpgt_epi32(log1, l012));
        let bits = _mm256_add_epi32(
            l0,
            _mm256_add_epi32(_mm256_and_si256(l1, ok1), _mm256_and_si256(l2, ok2)),
        );
        let syms = _mm256_or_si256(
            _mm256_srli_epi32::<8>(e0),
            _mm256_or_si256(
                _mm256_slli_epi32::<8>(_mm256_and_si256(_mm256_srli_epi32::<8>(e1), ok1)),
                _mm256_slli_epi32::<16>(_mm256_and_si256(_mm256_srli_epi32::<8>(e2), ok2)),
            ),
        );
        // 1 + ok1 + ok2 with the masks as -1.
        let count = _mm256_sub_epi32(_mm256_sub_epi32(one, ok1), ok2);
        let e = _mm256_or_si256(
            bits,
            _mm256_or_si256(_mm256_slli_epi32::<6>(syms), _mm256_slli_epi32::<30>(count)),
        );
        // SAFETY: a 32-byte store into the 8 entries of `m`; unaligned
        // stores have no alignment requirement.
        unsafe { _mm256_storeu_si256(m.as_mut_ptr().cast(), e) };
        i = _mm256_add_epi32(i, eight);
    }
}

/// The portable [`fill_multi`].
fn fill_multi_generic(single: &[u16; DTABLE_SIZE], log: u32, multi: &mut [u32; DTABLE_SIZE]) {
    let n = 1usize << log;
    for (i, m) in multi.iter_mut().take(n).enumerate() {
        let e0 = u32::from(single[i & (DTABLE_SIZE - 1)]);
        let l0 = e0 & 0xFF;
        let e1 = u32::from(single[(i >> l0) & (DTABLE_SIZE - 1)]);
        let l01 = l0 + (e1 & 0xFF);
        let e2 = u32::from(single[(i >> (l01 & 31)) & (DTABLE_SIZE - 1)]);
        let l012 = l01 + (e2 & 0xFF);
        let ok1 = u32::from(l01 <= log);
        let ok2 = ok1 & u32::from(l012 <= log);
        let bits = if ok2 == 1 {
            l012
        } else if ok1 == 1 {
            l01
        } else {
            l0
        };
        let syms = (e0 >> 8) | (ok1 * (e1 >> 8)) << 8 | (ok2 * (e2 >> 8)) << 16;
        *m = bits | syms << 6 | (1 + ok1 + ok2) << 30;
    }
}

/// Length-limited code lengths for `hist`, as the container encoder and
/// [`Table::from_histogram`] build them. `max_bits` must be in 8..=12.
pub(crate) fn lengths_for(hist: &[u32; 256], max_bits: u32) -> [u8; 256] {
    let v = lengths_from_freqs(hist, max_bits);
    let mut lens = [0u8; 256];
    lens.copy_from_slice(&v);
    lens
}

/// Bytes [`write_lengths`] produces for `lens`.
pub(crate) fn lengths_size(lens: &[u8; 256]) -> usize {
    2 + used_range(lens).1.div_ceil(2)
}

/// The range `first..first + count` of symbols with codes (count >= 1;
/// with no codes at all, symbol 0 alone).
fn used_range(lens: &[u8; 256]) -> (usize, usize) {
    let first = lens.iter().position(|&l| l != 0).unwrap_or(0);
    let last = lens.iter().rposition(|&l| l != 0).unwrap_or(0);
    (first, last + 1 - first)
}

/// Append the stored form of `lens` (module docs) to `out`.
pub(crate) fn write_lengths(lens: &[u8; 256], out: &mut Vec<u8>) {
    let mut buf = [0; MAX_LENGTHS_SIZE];
    let n = write_lengths_into(lens, &mut buf);
    out.extend_from_slice(&buf[..n]);
}

/// Most bytes the stored form of a set of lengths takes.
pub(crate) const MAX_LENGTHS_SIZE: usize = 2 + 128;

/// Write the stored form of `lens` at the start of `out` (at least
/// [`MAX_LENGTHS_SIZE`] bytes, or [`lengths_size`]); returns its size.
pub(crate) fn write_lengths_into(lens: &[u8; 256], out: &mut [u8]) -> usize {
    let (first, count) = used_range(lens);
    out[0] = first as u8;
    out[1] = (count - 1) as u8;
    for (o, pair) in out[2..]
        .iter_mut()
        .zip(lens[first..first + count].chunks(2))
    {
        let hi = pair.get(1).copied().unwrap_or(0);
        *o = pair[0] | hi << 4;
    }
    2 + count.div_ceil(2)
}

/// Parse a stored table from the start of `bytes`: the lengths and the
/// number of bytes used. Only the encoding is checked here, not that the
/// lengths form a code ([`check_lengths`]).
pub(crate) fn read_lengths(bytes: &[u8]) -> Result<([u8; 256], usize), &'static str> {
    let (&first, &count_m1) = match bytes {
        [a, b, ..] => (a, b),
        _ => return Err("the code-length header is cut short"),
    };
    let (first, count) = (usize::from(first), usize::from(count_m1) + 1);
    if first + count > 256 {
        return Err("the code-length header covers symbols past 255");
    }
    let n = count.div_ceil(2);
    let Some(packed) = bytes.get(2..2 + n) else {
        return Err("the code-length header is cut short");
    };
    let mut lens = [0u8; 256];
    for (i, l) in lens[first..first + count].iter_mut().enumerate() {
        *l = (packed[i / 2] >> (4 * (i & 1))) & 0x0F;
    }
    if count % 2 == 1 && packed[n - 1] >> 4 != 0 {
        return Err("the code-length header has a nonzero padding nibble");
    }
    Ok((lens, 2 + n))
}

/// A Huffman code over bytes, ready for encoding and decoding: built from a
/// histogram ([`Table::from_histogram`]) or from stored code lengths
/// ([`Table::from_lengths`], [`Table::read_from`]).
///
/// This is what callers with a precomputed distribution (the tensor codecs'
/// exponent planes) use to code many blocks with one table, storing the
/// table once: see [`super::encode_block_with`] and
/// [`super::decode_block_with`].
#[derive(Clone)]
pub struct Table {
    lens: [u8; 256],
    max_len: u32,
    pub(crate) enc: EncTable,
    pub(crate) dec: Box<DecTable>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("max_len", &self.max_len)
            .field("lens", &&self.lens[..])
            .finish()
    }
}

impl Table {
    /// The length-limited Huffman code for byte counts `hist`, with codes of
    /// at most `max_bits` (8..=12; [`DEFAULT_MAX_BITS`] is 11) bits.
    ///
    /// Bytes with count 0 get no code, and encoding them later fails with
    /// [`Huff0Error::SymbolNotInTable`]; add 1 to every count to get a table
    /// that codes any input. With fewer than two counted bytes the table
    /// still has two 1-bit codes (the counted byte and byte 0 or 1).
    pub fn from_histogram(hist: &[u32; 256], max_bits: u32) -> Result<Table, Huff0Error> {
        if !(MIN_TABLE_BITS..=MAX_TABLE_BITS).contains(&max_bits) {
            return Err(Huff0Error::BadArgument(
                "max_bits must be between 8 and 12 (a code for 256 bytes needs 8)",
            ));
        }
        Table::from_lengths(&lengths_for(hist, max_bits))
    }

    /// The table with code lengths `lens` (0 = no code). They must form a
    /// complete prefix code of at most 12 bits with at least two codes.
    pub fn from_lengths(lens: &[u8; 256]) -> Result<Table, Huff0Error> {
        let max_len = check_lengths(lens)
            .map_err(|reason| Huff0Error::BadCodeLengths { block: 0, reason })?;
        Ok(Table {
            lens: *lens,
            max_len,
            enc: enc_table(lens),
            dec: {
                let mut d = DecTable::boxed();
                d.fill(lens, max_len, true);
                d
            },
        })
    }

    /// Code length of each byte (0 = no code).
    pub fn lengths(&self) -> &[u8; 256] {
        &self.lens
    }

    /// The longest code length in the table.
    pub fn max_len(&self) -> u32 {
        self.max_len
    }

    /// True if every byte value has a code.
    pub fn covers_all_bytes(&self) -> bool {
        self.lens.iter().all(|&l| l != 0)
    }

    /// Exact size in bits of data with byte counts `hist` coded with this
    /// table (`None` if a counted byte has no code).
    pub fn coded_bits(&self, hist: &[u32; 256]) -> Option<u64> {
        let mut bits = 0u64;
        for (&c, &l) in hist.iter().zip(&self.lens) {
            if c != 0 && l == 0 {
                return None;
            }
            bits += u64::from(c) * u64::from(l);
        }
        Some(bits)
    }

    /// Append the table's stored form (2 + ceil(count / 2) bytes; see the
    /// module docs) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_lengths(&self.lens, out);
    }

    /// Read a table written by [`Table::write_to`] from the start of
    /// `bytes`; returns it and the number of bytes it took.
    pub fn read_from(bytes: &[u8]) -> Result<(Table, usize), Huff0Error> {
        let (lens, used) = read_lengths(bytes)
            .map_err(|reason| Huff0Error::BadCodeLengths { block: 0, reason })?;
        Ok((Table::from_lengths(&lens)?, used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn histogram_counts_every_byte() {
        let data: Vec<u8> = (0..100_003u64).map(|i| (i * i % 251) as u8).collect();
        let mut want = [0u32; 256];
        for &b in &data {
            want[b as usize] += 1;
        }
        assert_eq!(histogram(&data), want);
        assert_eq!(histogram(&[]), [0; 256]);
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut lens = [0u8; 256];
        lens[7] = 1;
        assert!(check_lengths(&lens).is_err(), "one symbol");
        lens[8] = 1;
        assert_eq!(check_lengths(&lens), Ok(1));
        lens[9] = 2;
        assert!(check_lengths(&lens)
            .unwrap_err()
            .contains("over-subscribed"));
        lens[8] = 2;
        lens[9] = 3;
        assert!(check_lengths(&lens).unwrap_err().contains("incomplete"));
        lens[9] = 13;
        assert!(check_lengths(&lens).unwrap_err().contains("12 bits"));
        assert!(Table::from_histogram(&[1; 256], 7).is_err());
        assert!(Table::from_histogram(&[1; 256], 13).is_err());
    }

    #[test]
    fn stored_form_edges() {
        // Range at the very end and an odd count.
        let mut lens = [0u8; 256];
        lens[253] = 1;
        lens[255] = 1;
        let t = Table::from_lengths(&lens).unwrap();
        let mut out = Vec::new();
        t.write_to(&mut out);
        assert_eq!(out, vec![253, 2, 0x01, 0x01]);
        let (back, used) = Table::read_from(&out).unwrap();
        assert_eq!((back.lengths(), used), (&lens, 4));
        // Nonzero padding nibble, range past 255, short input.
        assert!(Table::read_from(&[253, 2, 0x01, 0x11]).is_err());
        assert!(Table::read_from(&[254, 2, 0x11, 0x01]).is_err());
        assert!(Table::read_from(&[0, 9, 0x11]).is_err());
        assert!(Table::read_from(&[0]).is_err());
    }

    proptest! {
        #[test]
        fn tables_from_histograms_are_valid(
            hist in prop::collection::vec(prop_oneof![Just(0u32), 1u32..5, 1u32..1_000_000], 256),
            bits in 8u32..=12,
        ) {
            let hist: [u32; 256] = hist.try_into().unwrap();
            let t = Table::from_histogram(&hist, bits).unwrap();
            prop_assert!(t.max_len() <= bits);
            for (c, l) in hist.iter().zip(t.lengths()) {
                prop_assert!(*c == 0 || *l != 0);
            }
            // Every decode entry maps back to a symbol whose code matches.
            for (i, &e) in t.dec.single.iter().enumerate() {
                let (s, l) = ((e >> 8) as usize, u32::from(e & 0xFF));
                prop_assert_eq!(u32::from(t.lengths()[s]), l);
                let code = u32::from(t.enc.codes[s]);
                prop_assert_eq!(i as u32 & ((1 << l) - 1), code);
            }
            // Every multi-symbol entry is the longest run of at most three
            // whole codes at the start of its index.
            let log = t.dec.log;
            prop_assert_eq!(log, if t.max_len() <= 11 { 11 } else { 12 });
            for i in 0..1usize << log {
                let e = t.dec.multi[i];
                let (mut at, mut n) = (0u32, 0u32);
                let mut syms = 0u32;
                while n < 3 {
                    let s = t.dec.single[(i >> at) & (DTABLE_SIZE - 1)];
                    let l = u32::from(s & 0xFF);
                    if at + l > log {
                        break;
                    }
                    syms |= u32::from(s >> 8) << (8 * n);
                    at += l;
                    n += 1;
                }
                prop_assert!(n >= 1);
                prop_assert_eq!(e & 63, at);
                prop_assert_eq!((e >> 6) & 0xFF_FFFF, syms);
                prop_assert_eq!(e >> 30, n);
            }
            let mut out = Vec::new();
            t.write_to(&mut out);
            prop_assert_eq!(out.len(), lengths_size(t.lengths()));
            let (back, used) = Table::read_from(&out).unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(back.lengths(), t.lengths());
        }
    }

    proptest! {
        /// A reused decoder (tables kept while the lengths repeat, the
        /// multi-symbol table built only when a block needs it) decodes
        /// every block as a fresh one does, whatever the order of codes
        /// and of blocks that do and do not use the multi-symbol table.
        #[test]
        fn reused_block_decoder_equals_fresh(
            blocks in prop::collection::vec(
                (prop::collection::vec(prop_oneof![0u8..3, any::<u8>()], 1..3000), 0usize..3),
                1..8,
            ),
        ) {
            use crate::huff0::{encode_block_with_lengths, BlockDecoder};
            // Three codes: two skewed, one near flat (no multi table).
            let mut dec = BlockDecoder::default();
            for (data, pick) in &blocks {
                let mut h = histogram(data);
                match pick {
                    0 => {}
                    1 => h[0] += data.len() as u32 * 8,
                    _ => h.iter_mut().for_each(|c| *c += 1000),
                }
                h[1] += 1;
                h[2] += 1;
                let lens = lengths_for(&h, 11);
                let mut body = Vec::new();
                encode_block_with_lengths(&lens, data, &histogram(data), &mut body).unwrap();
                let mut a = vec![0u8; data.len()];
                dec.decode(&lens, &body, &mut a).unwrap();
                prop_assert_eq!(&a, data);
                a.fill(0);
                dec.decode(&lens, &body, &mut a).unwrap();
                let mut b = vec![0u8; data.len()];
                BlockDecoder::default().decode(&lens, &body, &mut b).unwrap();
                prop_assert_eq!(&a, data);
                prop_assert_eq!(&a, &b);
            }
        }
    }

    /// One code, blocks that do (mostly short codes) and do not (mostly
    /// long codes) use the multi-symbol table, in every order.
    #[test]
    fn reused_block_decoder_toggles_multi() {
        use crate::huff0::{encode_block_with_lengths, BlockDecoder};
        let mut h = [1u32; 256];
        h[0] = 1 << 20;
        let lens = lengths_for(&h, 11);
        let short: Vec<u8> = (0..5000u32)
            .map(|i| if i % 17 == 0 { i as u8 } else { 0 })
            .collect();
        let long: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 1) as u8).collect();
        let body = |d: &[u8]| {
            let mut b = Vec::new();
            encode_block_with_lengths(&lens, d, &histogram(d), &mut b).unwrap();
            b
        };
        let (bs, bl) = (body(&short), body(&long));
        assert!(bs.len() * 8 <= short.len() * 6 && bl.len() * 8 > long.len() * 6);
        let mut dec = BlockDecoder::default();
        for d in [&short, &long, &short, &long, &long, &short, &short] {
            let b = if d == &short { &bs } else { &bl };
            let mut out = vec![0u8; d.len()];
            dec.decode(&lens, b, &mut out).unwrap();
            assert_eq!(&out, d);
        }
    }

    proptest! {
        /// The AVX2 multi-symbol table fill (where this CPU and
        /// SCALEZIP_NO_SIMD allow it) equals the portable one.
        #[test]
        fn fill_multi_dispatch_equals_portable(
            data in prop::collection::vec(prop_oneof![0u8..4, any::<u8>()], 2..3000),
            bits in 8u32..=12,
        ) {
            let mut h = histogram(&data);
            h[0] += 1;
            h[255] += 1;
            let lens = lengths_for(&h, bits);
            let max_len = check_lengths(&lens).unwrap();
            let mut single = [0u16; DTABLE_SIZE];
            fill_dec_table(&lens, &mut single);
            for log in [max_len.max(11), 12] {
                let mut a = [0u32; DTABLE_SIZE];
                let mut b = [0u32; DTABLE_SIZE];
                fill_multi(&single, log, &mut a);
                fill_multi_generic(&single, log, &mut b);
                prop_assert_eq!(&a[..], &b[..]);
            }
        }
    }
}
