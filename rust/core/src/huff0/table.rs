//! Byte histograms, and the code table shared by the encoder and decoder.
//!
//! A table is fully described by 256 code lengths (0 = the byte has no
//! code), at most [`MAX_TABLE_BITS`] = 12 bits each, forming a *complete*
//! prefix code (Kraft sum exactly 1) with at least two codes. Canonical codes
//! are assigned from the lengths in (length, symbol) order by
//! [`crate::huffman::build::codes_from_lengths`], bit-reversed because the
//! streams are written LSB-first (see [`super::encode`]).
//!
//! The decoder's table has `2^12` entries indexed by the next 12 bits of a
//! stream. A code of length `L` has its bit-reversed code in the low `L`
//! bits of the index and owns all `2^(12-L)` entries that share them, so a
//! single lookup yields the symbol and the bits to consume, whatever the
//! following bits are. Each entry is `length | symbol << 8` in a `u16` (the
//! length in the low byte, so that it can be the shift count as it is): the
//! whole table is 8 KiB and stays in L1. Because the code is complete, every
//! entry is filled: a corrupt stream decodes to *some* bytes (caught by the
//! stream-size check and the CRC), never to an invalid entry, so the hot loop
//! has no error branch.
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

/// Decoding table: `length | symbol << 8`, indexed by the next 12 bits.
pub(crate) type DecTable = [u16; DTABLE_SIZE];
/// Encoding table: bit-reversed code and length per byte, in two arrays
/// (two plain loads are cheaper in the encoder's loop than unpacking one).
#[derive(Clone)]
pub(crate) struct EncTable {
    pub(crate) codes: [u16; 256],
    pub(crate) lens: [u8; 256],
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
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h[0][(w & 0xFF) as usize] += 1;
        h[1][((w >> 8) & 0xFF) as usize] += 1;
        h[2][((w >> 16) & 0xFF) as usize] += 1;
        h[3][((w >> 24) & 0xFF) as usize] += 1;
        h[0][((w >> 32) & 0xFF) as usize] += 1;
        h[1][((w >> 40) & 0xFF) as usize] += 1;
        h[2][((w >> 48) & 0xFF) as usize] += 1;
        h[3][(w >> 56) as usize] += 1;
    }
    for &b in words.remainder() {
        h[0][b as usize] += 1;
    }
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
        lens: *lens,
    };
    enc.codes.copy_from_slice(&codes_from_lengths(lens));
    enc
}

/// Fill `dec` for a checked (complete) set of lengths.
pub(crate) fn fill_dec_table(lens: &[u8; 256], dec: &mut DecTable) {
    let codes = codes_from_lengths(lens);
    for (s, &l) in lens.iter().enumerate() {
        if l == 0 {
            continue;
        }
        let entry = u16::from(l) | (s as u16) << 8;
        let step = 1usize << l;
        // `codes[s] < 2^l`, so these indices are exactly the entries whose
        // low `l` bits are the code.
        for e in dec.iter_mut().skip(usize::from(codes[s])).step_by(step) {
            *e = entry;
        }
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
    let (first, count) = used_range(lens);
    out.push(first as u8);
    out.push((count - 1) as u8);
    for pair in lens[first..first + count].chunks(2) {
        let hi = pair.get(1).copied().unwrap_or(0);
        out.push(pair[0] | hi << 4);
    }
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
        let mut dec = Box::new([0u16; DTABLE_SIZE]);
        fill_dec_table(lens, &mut dec);
        Ok(Table {
            lens: *lens,
            max_len,
            enc: enc_table(lens),
            dec,
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
            for (i, &e) in t.dec.iter().enumerate() {
                let (s, l) = ((e >> 8) as usize, u32::from(e & 0xFF));
                prop_assert_eq!(u32::from(t.lengths()[s]), l);
                let code = u32::from(t.enc.codes[s]);
                prop_assert_eq!(i as u32 & ((1 << l) - 1), code);
            }
            let mut out = Vec::new();
            t.write_to(&mut out);
            prop_assert_eq!(out.len(), lengths_size(t.lengths()));
            let (back, used) = Table::read_from(&out).unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(back.lengths(), t.lengths());
        }
    }
}
