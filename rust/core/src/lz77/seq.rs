//! The parser's output: a buffer of literals and (length, distance) matches
//! for one DEFLATE block, with the symbol frequencies tallied as they are
//! produced (as zlib's `_tr_tally` does), so that building the block's
//! Huffman codes needs no second pass over the symbols.
//!
//! Each item is one `u32`: a literal is the byte value (distance field 0);
//! a match is `distance << 16 | length` with `3 <= length <= 258` and
//! `1 <= distance <= 32768`. `raw_len` is the number of input bytes the
//! items cover, so the block's raw bytes (for the stored-block option) are
//! exactly `raw_len` bytes starting where the previous block ended.

use crate::tables::{DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA, NUM_LITLEN};

/// Length (3..=258) to length symbol index (0..=28, i.e. symbol - 257).
pub static LEN_SYM: [u8; 259] = build_len_sym();
/// Distance symbol of `dist - 1` for `dist - 1 < 256`.
static DIST_SYM_LO: [u8; 256] = build_dist_sym().0;
/// Distance symbol of `dist - 1` for `dist - 1 >= 256`, indexed by `(dist - 1) >> 7`.
static DIST_SYM_HI: [u8; 256] = build_dist_sym().1;

const fn build_len_sym() -> [u8; 259] {
    let mut t = [0u8; 259];
    let mut s = 0;
    while s < 29 {
        let base = LENGTH_BASE[s] as usize;
        let n = 1usize << LENGTH_EXTRA[s];
        let mut i = 0;
        // Symbol 284 nominally covers 227..=258, but 258 is symbol 285's;
        // the later symbol overwrites it.
        while i < n && base + i <= 258 {
            t[base + i] = s as u8;
            i += 1;
        }
        s += 1;
    }
    t
}

const fn build_dist_sym() -> ([u8; 256], [u8; 256]) {
    let mut lo = [0u8; 256];
    let mut hi = [0u8; 256];
    let mut s = 0;
    while s < 30 {
        let base = DIST_BASE[s] as usize;
        let n = 1usize << DIST_EXTRA[s];
        let mut i = 0;
        while i < n {
            let d = base + i - 1;
            if d < 256 {
                lo[d] = s as u8;
            } else {
                hi[d >> 7] = s as u8;
            }
            i += 1;
        }
        s += 1;
    }
    (lo, hi)
}

/// Distance symbol (0..=29) of a distance in 1..=32768.
#[inline(always)]
pub fn dist_sym(dist: usize) -> usize {
    let d = dist - 1;
    if d < 256 {
        DIST_SYM_LO[d] as usize
    } else {
        DIST_SYM_HI[(d >> 7) & 0xFF] as usize
    }
}

/// One block's worth of parsed symbols plus their frequencies.
#[derive(Clone)]
pub struct Sequences {
    pub items: Vec<u32>,
    /// Literal/length symbol counts (end-of-block not included).
    pub litlen_freq: [u32; NUM_LITLEN],
    pub dist_freq: [u32; 30],
    /// Input bytes covered by `items`.
    pub raw_len: usize,
    cap: usize,
}

impl Sequences {
    /// A buffer that reports [`Sequences::is_full`] after `cap` items.
    pub fn new(cap: usize) -> Self {
        Self {
            items: Vec::with_capacity(cap + 2),
            litlen_freq: [0; NUM_LITLEN],
            dist_freq: [0; 30],
            raw_len: 0,
            cap,
        }
    }

    #[inline(always)]
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.cap
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.litlen_freq = [0; NUM_LITLEN];
        self.dist_freq = [0; 30];
        self.raw_len = 0;
    }

    #[inline(always)]
    pub fn literal(&mut self, b: u8) {
        self.items.push(b as u32);
        self.litlen_freq[b as usize] += 1;
        self.raw_len += 1;
    }

    #[inline(always)]
    pub fn matched(&mut self, len: usize, dist: usize) {
        debug_assert!((3..=258).contains(&len) && (1..=32768).contains(&dist));
        self.items.push(((dist as u32) << 16) | len as u32);
        self.litlen_freq[257 + LEN_SYM[len] as usize] += 1;
        self.dist_freq[dist_sym(dist)] += 1;
        self.raw_len += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_tables_agree_with_rfc() {
        for (len, &s) in LEN_SYM.iter().enumerate().skip(3) {
            let s = s as usize;
            let base = LENGTH_BASE[s] as usize;
            assert!(
                len >= base && len - base < (1 << LENGTH_EXTRA[s]) || (s == 28 && len == 258),
                "len {len}"
            );
            if s == 27 {
                assert!(len < 258);
            }
        }
        for dist in 1..=32768usize {
            let s = dist_sym(dist);
            let base = DIST_BASE[s] as usize;
            assert!(
                dist >= base && dist - base < (1 << DIST_EXTRA[s]),
                "dist {dist}"
            );
        }
    }
}
