//! Table-driven decoding of canonical Huffman codes given by code lengths.
//!
//! A canonical code (RFC 1951 section 3.2.2) is fully described by its code
//! lengths: codes of each length are consecutive integers, assigned in symbol
//! order, shorter codes first. DEFLATE sends codes starting from their most
//! significant bit, but the bit reader hands out bits LSB-first, so every
//! code is stored here bit-reversed: the next `k` bits of the buffer, read as
//! an integer, are the reversed prefix of the next code.
//!
//! Decoding is one table lookup in the common case. The primary table has
//! `2^BITS` entries indexed by the next `BITS` bits; a code of length
//! `len <= BITS` owns every entry whose low `len` bits are its reversed code
//! (it is replicated `2^(BITS-len)` times), so the bits after it do not
//! matter. Codes longer than `BITS` share a primary entry per `BITS`-bit
//! prefix; that entry points to a sub-table indexed by the following bits,
//! sized just large enough for the codes under that prefix (zlib's
//! `inflate_table` scheme; the `ENOUGH` sizes below are the worst cases
//! computed by zlib's `enough` program, as libdeflate uses them). With
//! `BITS = 11` for literal/length codes, sub-tables are almost never touched
//! on real data, and the primary table (8 KiB) stays in L1.
//!
//! Entries are `u32`, laid out as in libdeflate so the decoder needs no
//! second lookup to interpret them:
//!
//! ```text
//!   bits 31..16  payload: supplied by the caller per symbol (a literal byte,
//!                a length or distance base, ...); for a sub-table pointer,
//!                the sub-table's start index
//!   bit  15      ENTRY_LITERAL       \  flags: supplied by the caller,
//!   bit  14      ENTRY_EXCEPTIONAL    | except ENTRY_SUBTABLE which is
//!   bit  13      ENTRY_SUBTABLE       | set here
//!   bit  12      ENTRY_END_OF_BLOCK  /  (ENTRY_LITERAL_PAIR with LITERAL)
//!   bits 11..8   codeword length (within this table; for a pointer, the
//!                sub-table's index width)
//!   bits  7..0   bits to consume: codeword length plus the number of extra
//!                bits the caller put in its low byte (for a pointer, BITS)
//! ```
//!
//! Putting "codeword + extra bits" in the low byte lets the decoder consume a
//! whole length or distance with one shift and extract its extra bits from
//! the saved buffer as `(saved & mask(low byte)) >> codeword length`.
//!
//! Validation follows zlib exactly, since which streams are accepted is part
//! of the contract: an over-subscribed set of lengths is always an error; an
//! incomplete set is an error, except (for literal/length and distance codes)
//! a set with a single code of length 1, whose unused half decodes as the
//! caller's "invalid" entry; an empty set is accepted (for distances every
//! entry is "invalid", so only an actual distance is an error; for the
//! code-length code zlib decodes symbol 0 with 1 bit, and so do we).

/// Longest codeword DEFLATE allows.
pub const MAX_CODE_LEN: u32 = 15;

/// Symbol is a literal byte (payload = the byte).
pub const ENTRY_LITERAL: u32 = 1 << 15;
/// Not a literal or a plain length/distance: a sub-table pointer, end of
/// block, or an invalid code.
pub const ENTRY_EXCEPTIONAL: u32 = 1 << 14;
/// Primary entry pointing to a sub-table (always with ENTRY_EXCEPTIONAL).
pub const ENTRY_SUBTABLE: u32 = 1 << 13;
/// End-of-block symbol (always with ENTRY_EXCEPTIONAL).
pub const ENTRY_END_OF_BLOCK: u32 = 1 << 12;
/// With ENTRY_LITERAL: the entry holds *two* literals (see
/// [`DecodeTable::pair_literals`]): the first in bits 23..16, the second in
/// bits 31..24; bits 11..8 are the first codeword's length and the low
/// byte the length of both.
pub const ENTRY_LITERAL_PAIR: u32 = 1 << 12;
/// A code with no symbol, or a symbol DEFLATE forbids: ENTRY_EXCEPTIONAL
/// with no other flag.
pub const ENTRY_INVALID: u32 = ENTRY_EXCEPTIONAL;

/// Primary index width and worst-case size of the literal/length table.
pub const LITLEN_TABLE_BITS: u32 = 11;
pub const LITLEN_ENOUGH: usize = 2342; // enough 288 11 15
/// Primary index width and worst-case size of the distance table.
pub const DIST_TABLE_BITS: u32 = 8;
pub const DIST_ENOUGH: usize = 402; // enough 32 8 15
/// Primary index width and size of the code-length ("precode") table: its
/// codes are at most 7 bits, so it never needs sub-tables.
pub const CODELEN_TABLE_BITS: u32 = 7;
pub const CODELEN_ENOUGH: usize = 128; // enough 19 7 7

/// zlib's three kinds of code, which differ only in what sets they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// The code-length code of a dynamic block header (no incomplete sets).
    CodeLengths,
    /// Literal/length code.
    LitLen,
    /// Distance code.
    Distance,
}

/// Why a set of code lengths is not a usable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// More codes than the code space holds (Kraft sum above 1).
    OverSubscribed,
    /// Code space left over, where the kind does not allow it.
    Incomplete,
    /// A length above 15, or more symbols than payloads (a caller bug).
    BadArguments,
    /// Sub-tables would not fit in `N` entries. Cannot happen for the
    /// `*_ENOUGH` sizes; kept as an error so that a bug cannot panic.
    TableTooSmall,
}

/// A decode table with a `BITS`-bit primary index and room for `N` entries.
#[derive(Clone)]
pub struct DecodeTable<const BITS: u32, const N: usize> {
    entries: [u32; N],
}

impl<const BITS: u32, const N: usize> Default for DecodeTable<BITS, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BITS: u32, const N: usize> DecodeTable<BITS, N> {
    const PRIMARY: usize = 1 << BITS;
    const MASK: u64 = (1 << BITS) - 1;

    /// A table in which every code is invalid (build one before use).
    pub fn new() -> Self {
        const { assert!(BITS >= 1 && BITS <= MAX_CODE_LEN && (1usize << BITS) <= N && N < (1 << 16)) };
        Self {
            entries: [ENTRY_INVALID | (1 << 8) | 1; N],
        }
    }

    /// Build the table for the code with lengths `lens` (symbol `s` has
    /// length `lens[s]`, 0 meaning unused). `results[s]` gives the caller's
    /// payload, flags and extra-bit count for symbol `s` (bits 11..8 must be
    /// zero, low byte at most 13); `invalid` is the entry for bit patterns
    /// that are no code (normally `ENTRY_INVALID`).
    ///
    /// On error the table content is unspecified (but memory-safe).
    pub fn build(
        &mut self,
        lens: &[u8],
        results: &[u32],
        invalid: u32,
        kind: CodeKind,
    ) -> Result<(), TableError> {
        if lens.len() > results.len() || lens.len() > 320 {
            return Err(TableError::BadArguments);
        }
        let mut count = [0u16; 16];
        for &l in lens {
            if u32::from(l) > MAX_CODE_LEN {
                return Err(TableError::BadArguments);
            }
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let max_len = (1..16).rev().find(|&l| count[l] != 0).unwrap_or(0);

        // Kraft check, as zlib: `left` is the unused code space in units of
        // codes of the current length.
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return Err(TableError::OverSubscribed);
            }
        }
        let filler = invalid | (1 << 8) | 1;
        if max_len == 0 {
            // No codes at all. zlib accepts this and lets decoding fail; for
            // the code-length code its table decodes symbol 0 in one bit.
            let e = if kind == CodeKind::CodeLengths {
                results[0] | (1 << 8) | 1
            } else {
                filler
            };
            self.entries[..Self::PRIMARY].fill(e);
            return Ok(());
        }
        if left > 0 && (kind == CodeKind::CodeLengths || max_len != 1) {
            return Err(TableError::Incomplete);
        }
        // Only the single-code case is incomplete here; its unused half
        // keeps the filler.
        self.entries[..Self::PRIMARY].fill(filler);

        // Symbols sorted by (length, symbol) are the codes in canonical
        // order; `next_code[len]` is the next code of that length.
        let mut offset = [0u16; 16];
        for l in 1..15 {
            offset[l + 1] = offset[l] + count[l];
        }
        let mut sorted = [0u16; 320];
        for (sym, &l) in lens.iter().enumerate() {
            if l != 0 {
                let o = &mut offset[usize::from(l)];
                sorted[usize::from(*o)] = sym as u16;
                *o += 1;
            }
        }
        let mut next_code = [0u32; 16];
        let mut code = 0u32;
        for l in 1..16 {
            code = (code + u32::from(count[l - 1])) << 1;
            next_code[l] = code;
        }
        let num_codes: usize = count.iter().map(|&c| usize::from(c)).sum();

        // `remaining[len]`: codes of that length not yet placed (used to size
        // each sub-table when it is opened, as zlib does).
        let mut remaining = count;
        let mut prefix = usize::MAX; // primary index of the open sub-table
        let mut sub_start = 0usize;
        let mut sub_bits = 0u32;
        let mut next_free = Self::PRIMARY;

        for &sym in &sorted[..num_codes] {
            let sym = usize::from(sym);
            let len = u32::from(lens[sym]);
            let c = next_code[len as usize];
            next_code[len as usize] += 1;
            let rev = ((c as u16).reverse_bits() >> (16 - len)) as usize;
            let result = results[sym];

            if len <= BITS {
                let e = result + (len << 8) + len;
                let mut i = rev;
                while i < Self::PRIMARY {
                    self.entries[i] = e;
                    i += 1 << len;
                }
            } else {
                let p = rev & (Self::PRIMARY - 1);
                if p != prefix {
                    // Codes are visited in canonical order, so all codes
                    // under this prefix come now, shortest first. Grow the
                    // sub-table until they fill it.
                    prefix = p;
                    sub_bits = len - BITS;
                    let mut space: i32 = 1 << sub_bits;
                    while sub_bits + BITS < max_len as u32 {
                        space -= i32::from(remaining[(sub_bits + BITS) as usize]);
                        if space <= 0 {
                            break;
                        }
                        sub_bits += 1;
                        space <<= 1;
                    }
                    sub_start = next_free;
                    next_free += 1 << sub_bits;
                    if next_free > N {
                        return Err(TableError::TableTooSmall);
                    }
                    self.entries[p] = ENTRY_EXCEPTIONAL
                        | ENTRY_SUBTABLE
                        | ((sub_start as u32) << 16)
                        | (sub_bits << 8)
                        | BITS;
                }
                let sub_len = len - BITS;
                let e = result + (sub_len << 8) + sub_len;
                let mut i = rev >> BITS;
                while i < 1 << sub_bits {
                    self.entries[sub_start + i] = e;
                    i += 1 << sub_len;
                }
            }
            remaining[len as usize] -= 1;
        }
        Ok(())
    }

    /// Merge literal pairs (the decoder's "two literals per lookup"): where
    /// a primary entry is a literal of length `l1` and the next `BITS - l1`
    /// bits already hold a whole second literal of length `l2`, the entry
    /// becomes an [`ENTRY_LITERAL_PAIR`] that consumes `l1 + l2` bits and
    /// yields both bytes. Call right after a successful [`Self::build`]
    /// whose literal payloads are `ENTRY_LITERAL | byte << 16` with no
    /// extra bits. On text, where literal codes are 5-8 bits, most literals
    /// then come two per lookup, which halves the decoder's serial chain of
    /// table loads for them.
    pub fn pair_literals(&mut self) {
        let single = self.entries;
        for (i, e) in self.entries[..Self::PRIMARY].iter_mut().enumerate() {
            let first = single[i];
            if first & ENTRY_LITERAL == 0 {
                continue;
            }
            let l1 = first & 0xff;
            // The entry for the bits after the first code; only its low
            // `BITS - l1` bits are real, so it counts only if it is that
            // short. (`l1 <= BITS` for a primary leaf, so the index is valid.)
            let second = single[i >> l1];
            let l2 = second & 0xff;
            if second & ENTRY_LITERAL != 0 && l1 + l2 <= BITS {
                *e = (first & !0xff) | ENTRY_LITERAL_PAIR | (second >> 16) << 24 | (l1 + l2);
            }
        }
    }

    /// The primary entry for the next bits of `bitbuf`. If it has
    /// `ENTRY_SUBTABLE`, consume `BITS` bits and call [`Self::subtable`].
    #[inline(always)]
    pub fn lookup(&self, bitbuf: u64) -> u32 {
        // The mask keeps the index below 2^BITS <= N, so no bounds check.
        self.entries[(bitbuf & Self::MASK) as usize]
    }

    /// The sub-table entry under `pointer` for the next bits of `bitbuf`
    /// (the bits after the primary index).
    #[inline(always)]
    pub fn subtable(&self, pointer: u32, bitbuf: u64) -> u32 {
        let width = (pointer >> 8) & 0xf;
        let i = (pointer >> 16) as usize + (bitbuf & ((1u64 << width) - 1)) as usize;
        // In range by construction; an out-of-range index (a bug) decodes as
        // an invalid code instead of panicking.
        match self.entries.get(i) {
            Some(&e) => e,
            None => ENTRY_INVALID | (1 << 8) | 1,
        }
    }

    /// Decode the next symbol when only `bitcount` bits of `bitbuf` are
    /// valid (the careful path at the end of the input). Returns the leaf
    /// entry and the number of bits before it (0, or `BITS` if it came from
    /// a sub-table), or `None` if the codeword is not complete within
    /// `bitcount` bits. Extra bits are not checked.
    #[inline]
    pub fn decode_checked(&self, bitbuf: u64, bitcount: u32) -> Option<(u32, u32)> {
        let e = self.lookup(bitbuf);
        if e & ENTRY_SUBTABLE != 0 {
            if bitcount < BITS {
                return None;
            }
            let s = self.subtable(e, bitbuf >> BITS);
            if BITS + ((s >> 8) & 0xf) <= bitcount {
                Some((s, BITS))
            } else {
                None
            }
        } else if (e >> 8) & 0xf <= bitcount {
            Some((e, 0))
        } else {
            None
        }
    }

    /// Raw entries (for tests and diagnostics).
    pub fn entries(&self) -> &[u32; N] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Small = DecodeTable<4, 64>;

    fn results(n: usize) -> Vec<u32> {
        (0..n as u32).map(|s| s << 16).collect()
    }

    /// Bit-by-bit reference decoder: the canonical code of every symbol,
    /// compared against the input bits MSB-first. Returns (symbol, length).
    fn reference_decode(lens: &[u8], bits: u64) -> Option<(usize, u32)> {
        let mut codes = vec![(0u32, 0u32); lens.len()];
        let mut code = 0u32;
        for l in 1..=15u8 {
            for (s, &sl) in lens.iter().enumerate() {
                if sl == l {
                    codes[s] = (code, u32::from(l));
                    code += 1;
                }
            }
            code <<= 1;
        }
        for (s, &(c, l)) in codes.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let mut v = 0u32;
            for k in 0..l {
                v = (v << 1) | ((bits >> k) & 1) as u32;
            }
            if v == c {
                return Some((s, l));
            }
        }
        None
    }

    /// Table decode with full `bitcount`, following sub-table pointers.
    fn table_decode<const B: u32, const N: usize>(t: &DecodeTable<B, N>, bits: u64) -> (u32, u32) {
        let (e, pre) = t.decode_checked(bits, 64).unwrap();
        (e, pre + ((e >> 8) & 0xf))
    }

    #[test]
    fn rfc1951_example() {
        // RFC 1951 3.2.2: lengths (3,3,3,3,3,2,4,4) for A..H give
        // F=00, A=010, ..., G=1110, H=1111.
        let lens = [3u8, 3, 3, 3, 3, 2, 4, 4];
        let mut t = Small::new();
        t.build(&lens, &results(8), ENTRY_INVALID, CodeKind::LitLen)
            .unwrap();
        // F = 00 -> bits (LSB-first) 0,0
        assert_eq!(table_decode(&t, 0b00), (5 << 16 | 2 << 8 | 2, 2));
        // H = 1111
        assert_eq!(table_decode(&t, 0b1111).0 >> 16, 7);
        // A = 010 read MSB-first: bit0=0, bit1=1, bit2=0 -> 0b010
        assert_eq!(table_decode(&t, 0b010).0 >> 16, 0);
        // B = 011 -> bits 0,1,1 -> 0b110
        assert_eq!(table_decode(&t, 0b110).0 >> 16, 1);
    }

    #[test]
    fn zlib_acceptance_rules() {
        let mut t = Small::new();
        let r = results(19);
        // Over-subscribed: three codes of length 1.
        assert_eq!(
            t.build(&[1, 1, 1], &r, ENTRY_INVALID, CodeKind::LitLen),
            Err(TableError::OverSubscribed)
        );
        // Incomplete: one code of length 2.
        assert_eq!(
            t.build(&[2, 0], &r, ENTRY_INVALID, CodeKind::Distance),
            Err(TableError::Incomplete)
        );
        // Incomplete with max length > 1.
        assert_eq!(
            t.build(&[1, 2], &r, ENTRY_INVALID, CodeKind::LitLen),
            Err(TableError::Incomplete)
        );
        // Single code of length 1: fine for lit/len and distance ...
        t.build(&[0, 1], &r, ENTRY_INVALID, CodeKind::Distance)
            .unwrap();
        assert_eq!(t.decode_checked(0, 1).unwrap().0 >> 16, 1);
        assert_eq!(t.decode_checked(1, 1).unwrap().0 & !0xfff, ENTRY_INVALID);
        // ... but not for the code-length code.
        assert_eq!(
            t.build(&[0, 1], &r, ENTRY_INVALID, CodeKind::CodeLengths),
            Err(TableError::Incomplete)
        );
        // Empty set: distances all invalid; code lengths decode symbol 0.
        t.build(&[0; 5], &r, ENTRY_INVALID, CodeKind::Distance)
            .unwrap();
        assert_eq!(
            t.decode_checked(0b1011, 1).unwrap().0 & !0xfff,
            ENTRY_INVALID
        );
        let mut r2 = r.clone();
        r2[0] = 0x1234 << 16;
        t.build(&[0; 19], &r2, ENTRY_INVALID, CodeKind::CodeLengths)
            .unwrap();
        assert_eq!(
            t.decode_checked(0b1011, 1),
            Some((0x1234 << 16 | 1 << 8 | 1, 0))
        );
        // Length above 15 is a caller bug, not a panic.
        assert_eq!(
            t.build(&[16, 1], &r, ENTRY_INVALID, CodeKind::LitLen),
            Err(TableError::BadArguments)
        );
    }

    #[test]
    fn extra_bits_in_low_byte() {
        let mut t = Small::new();
        let r = [3u32 << 16 | 2, 0, 0];
        t.build(&[1, 2, 2], &r, ENTRY_INVALID, CodeKind::LitLen)
            .unwrap();
        let e = t.lookup(0);
        assert_eq!(e & 0xff, 3); // 1 code bit + 2 extra
        assert_eq!((e >> 8) & 0xf, 1);
    }

    #[test]
    fn checked_decode_needs_whole_code() {
        let mut t = Small::new();
        // Lengths up to 6 with BITS=4 -> sub-tables.
        let lens = [1u8, 2, 3, 4, 5, 6, 6];
        t.build(&lens, &results(7), ENTRY_INVALID, CodeKind::LitLen)
            .unwrap();
        // Symbol 5: code 111110 -> LSB-first bits 0b011111.
        assert_eq!(t.decode_checked(0b011111, 5), None);
        let (e, pre) = t.decode_checked(0b011111, 6).unwrap();
        assert_eq!((e >> 16, pre, (e >> 8) & 0xf), (5, 4, 2));
        assert_eq!(t.decode_checked(0b1111, 3), None);
    }

    /// Random complete codes: split leaves of a binary tree until the
    /// wanted number of symbols is reached, depth at most 15.
    fn complete_lengths(n: usize, picks: &[u16]) -> Vec<u8> {
        let mut leaves = vec![0u8];
        let mut k = 0;
        while leaves.len() < n {
            let cands: Vec<usize> = (0..leaves.len()).filter(|&i| leaves[i] < 15).collect();
            if cands.is_empty() {
                break;
            }
            let i = cands[usize::from(picks[k % picks.len()]) % cands.len()];
            k += 1;
            let d = leaves[i] + 1;
            leaves[i] = d;
            leaves.push(d);
        }
        leaves
    }

    proptest! {
        /// Every complete code decodes like the bit-by-bit reference, for
        /// every 15-bit input, with the real DEFLATE table geometries.
        #[test]
        fn matches_reference(n in 2usize..=288, picks in proptest::collection::vec(any::<u16>(), 1..64),
                             perm_seed in any::<u64>(), probes in proptest::collection::vec(any::<u16>(), 64)) {
            let mut lens = complete_lengths(n, &picks);
            // Spread lengths over symbols (and leave some symbols unused).
            let total = lens.len() + (perm_seed % 7) as usize;
            lens.resize(total, 0);
            let mut s = perm_seed | 1;
            for i in (1..lens.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                lens.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let r = results(lens.len());
            let mut lit = DecodeTable::<LITLEN_TABLE_BITS, LITLEN_ENOUGH>::new();
            if lens.len() <= 288 {
                lit.build(&lens, &r, ENTRY_INVALID, CodeKind::LitLen).unwrap();
                for &p in &probes {
                    let bits = u64::from(p) & 0x7fff;
                    let (sym, len) = reference_decode(&lens, bits).unwrap();
                    let (e, got_len) = table_decode(&lit, bits);
                    prop_assert_eq!(((e >> 16) as usize, got_len), (sym, len));
                }
            }
            if lens.len() <= 32 {
                let mut d = DecodeTable::<DIST_TABLE_BITS, DIST_ENOUGH>::new();
                d.build(&lens, &r, ENTRY_INVALID, CodeKind::Distance).unwrap();
                for &p in &probes {
                    let bits = u64::from(p) & 0x7fff;
                    let (sym, len) = reference_decode(&lens, bits).unwrap();
                    let (e, got_len) = table_decode(&d, bits);
                    prop_assert_eq!(((e >> 16) as usize, got_len), (sym, len));
                }
            }
        }
    }

    /// Paired entries decode like two single lookups, wherever both codes
    /// fit in the primary index, and nowhere else.
    #[test]
    fn literal_pairs_match_single_lookups() {
        let lit: Vec<u32> = (0..288u32)
            .map(|s| {
                if s < 256 {
                    ENTRY_LITERAL | s << 16
                } else {
                    s << 16
                }
            })
            .collect();
        // A skewed complete code: literals 0..4 at 1, 2, 3, 4 bits, end of
        // block at 5, then 63 literals and a length symbol at 11 bits.
        let mut lens = vec![0u8; 288];
        lens[..4].copy_from_slice(&[1, 2, 3, 4]);
        lens[256] = 5;
        lens[4..67].fill(11);
        lens[257] = 11;
        let mut single = DecodeTable::<LITLEN_TABLE_BITS, LITLEN_ENOUGH>::new();
        single
            .build(&lens, &lit, ENTRY_INVALID, CodeKind::LitLen)
            .unwrap();
        let mut paired = single.clone();
        paired.pair_literals();
        let mut pairs = 0;
        for i in 0..1u64 << LITLEN_TABLE_BITS {
            let (a, b) = (single.lookup(i), paired.lookup(i));
            if b & ENTRY_LITERAL_PAIR == 0 {
                assert_eq!(a, b);
                if a & ENTRY_LITERAL != 0 {
                    let next = single.lookup(i >> (a & 0xff));
                    assert!(
                        next & ENTRY_LITERAL == 0 || (a & 0xff) + (next & 0xff) > LITLEN_TABLE_BITS
                    );
                }
                continue;
            }
            pairs += 1;
            let l1 = a & 0xff;
            let second = single.lookup(i >> l1);
            assert_eq!(second & ENTRY_LITERAL, ENTRY_LITERAL);
            assert_eq!(b >> 16 & 0xff, a >> 16);
            assert_eq!(b >> 24, second >> 16);
            assert_eq!((b >> 8) & 0xf, l1);
            assert_eq!(b & 0xff, l1 + (second & 0xff));
            assert!(b & 0xff <= LITLEN_TABLE_BITS);
        }
        assert!(pairs > 0);
    }

    /// The worst cases for sub-table space fit: many codes of length 15
    /// under distinct prefixes.
    #[test]
    fn deep_codes_fit() {
        for split in 1..=14u8 {
            // A code with one symbol of each length 1..split and the rest
            // balanced at length 15 where possible.
            let mut lens: Vec<u8> = (1..=split).collect();
            let rem = 1u32 << (15 - u32::from(split)); // space left, in 15-bit units
            let n15 = rem.min(288 - lens.len() as u32);
            if n15 < rem {
                continue;
            }
            lens.extend(std::iter::repeat_n(15, n15 as usize));
            let mut t = DecodeTable::<LITLEN_TABLE_BITS, LITLEN_ENOUGH>::new();
            t.build(&lens, &results(lens.len()), ENTRY_INVALID, CodeKind::LitLen)
                .unwrap();
        }
    }
}
