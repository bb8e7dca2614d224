//! LZ77 match finding for the DEFLATE encoder, on plain slices.
//!
//! The encoder ([`crate::deflate`]) compresses its input in *segments*: a
//! call compresses `buf[start..end]` with `buf[hist..start]` (at most the
//! 32 KiB window) as history, where `buf` is whatever slice holds the data
//! (the caller's own input for one-shot compression, no copy). Positions are
//! indices into that slice; the match finders' tables are cleared at the
//! start of each segment and the history positions inserted again, so a
//! segment's output depends only on `buf[hist..end]`, never on what lies
//! outside it. That is what makes streaming output independent of how the
//! input was split across calls.
//!
//! Two match finders, after libdeflate's:
//! - [`ht::HtMatchfinder`] (level 1): a hash table of 2-entry buckets keyed
//!   by the next 4 bytes; one lookup, at most two candidates.
//! - [`hc::HcMatchfinder`] (levels 2-12): hash chains keyed by 4 bytes, plus
//!   a single-entry table keyed by 3 bytes for length-3 matches.
//!
//! Both store only the low 16 bits of a position ([`dist_to`] recovers the
//! distance): a candidate is usable iff its distance is within [`limit`]
//! (the window, and never before the history start), and its bytes are
//! always compared before it is used, so a stale entry costs a compare,
//! never a wrong match. 16-bit entries halve the tables' cache footprint,
//! which is what bounds the speed of the fast levels.
//!
//! Reading near the end of the slice: every read is bounds checked (safe
//! Rust); the match finders are only called where at least 4 bytes remain
//! before `end`, and [`match_len_from`] compares 8 bytes at a time while the
//! slice has 8 more bytes, then byte by byte, and clamps to `max`, so bytes
//! past `end` never change a result.
pub mod hc;
pub mod ht;
pub mod seq;

pub use seq::Sequences;

/// The DEFLATE window, also the largest distance.
pub const WSIZE: usize = 32 * 1024;
/// Mask for the chain table indexed by position.
pub(crate) const WMASK: usize = WSIZE - 1;

#[inline(always)]
pub(crate) fn read_u64(buf: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(buf[i..i + 8].try_into().unwrap())
}

#[inline(always)]
pub(crate) fn read_u32(buf: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(buf[i..i + 4].try_into().unwrap())
}

/// Ask the CPU to start loading the cache line of `tab[i]` (if in bounds):
/// the match finders call it for the next position's hash bucket, as
/// libdeflate does, so the bucket is in cache when the search gets there.
/// A hint only: it reads nothing and never changes a result.
#[inline(always)]
pub(crate) fn prefetch<T>(tab: &[T], i: usize) {
    if let Some(x) = tab.get(i) {
        crate::mem::prefetch(x);
    }
}

/// The 4 bytes at `i` as a little-endian word, or 0 past the end of `buf`
/// (for prefetch addresses only).
#[inline(always)]
pub(crate) fn peek_u32(buf: &[u8], i: usize) -> u32 {
    buf.get(i..i + 4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()))
}

/// Multiplicative hash of a 32-bit key to `bits` bits (libdeflate's
/// `lz_hash`): the high bits of the product mix every input bit.
#[inline(always)]
pub(crate) fn lz_hash(key: u32, bits: u32) -> usize {
    (key.wrapping_mul(0x1E35_A7BD) >> (32 - bits)) as usize
}

/// Largest distance usable at `pos`: `max_dist`, one short of the window
/// (the chain slot of `pos - WSIZE` is the one `pos` reuses, so distance
/// 32768 is given up, as in libdeflate), and never reaching before `hist`.
#[inline(always)]
pub(crate) fn limit(pos: usize, hist: usize, max_dist: usize) -> usize {
    max_dist.min(WSIZE - 1).min(pos - hist)
}

/// Distance (1..=65536) from `pos` back to the most recent position whose
/// low 16 bits are `stored`. Tables keep only those 16 bits (half the cache
/// footprint of full positions); an entry is usable iff this distance is
/// within [`limit`], and its bytes are compared before use anyway, so an
/// entry that is stale or aliased from 64 KiB further back costs a compare,
/// never a wrong match.
#[inline(always)]
pub(crate) fn dist_to(pos: usize, stored: u16) -> usize {
    (pos as u16).wrapping_sub(stored).wrapping_sub(1) as usize + 1
}

/// Length of the common prefix of `buf[a..]` and `buf[b..]`, given that the
/// first `len` bytes are known equal, at most `max`. Requires `a < b` and
/// `b + max <= buf.len()`.
#[inline(always)]
pub fn match_len_from(buf: &[u8], a: usize, b: usize, mut len: usize, max: usize) -> usize {
    debug_assert!(a < b && b + max <= buf.len());
    // Word at a time while the slice has 8 bytes left at `b + len`.
    let words_end = buf.len().saturating_sub(8);
    while len < max && b + len <= words_end {
        let x = read_u64(buf, a + len) ^ read_u64(buf, b + len);
        if x != 0 {
            return (len + (x.trailing_zeros() / 8) as usize).min(max);
        }
        len += 8;
    }
    while len < max && buf[a + len] == buf[b + len] {
        len += 1;
    }
    len.min(max)
}

/// Length of the common prefix of `buf[a..]` and `buf[b..]`, at most `max`.
/// Requires `a < b` and `b + max <= buf.len()`.
#[inline(always)]
pub fn match_len(buf: &[u8], a: usize, b: usize, max: usize) -> usize {
    match_len_from(buf, a, b, 0, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn match_len_word_compare() {
        let mut buf = vec![0u8; 600];
        for (i, b) in buf.iter_mut().enumerate().take(300) {
            *b = (i % 7) as u8;
        }
        assert_eq!(match_len(&buf, 0, 7, 258), 258);
        assert_eq!(match_len(&buf, 0, 7, 5), 5);
        assert_eq!(match_len(&buf, 0, 14, 300 - 14), 300 - 14);
        assert_eq!(match_len(&buf, 0, 1, 100), 0);
        // Right up to the end of the slice, no guard bytes.
        let buf = b"abcabcabcab";
        assert_eq!(match_len(buf, 0, 3, 8), 8);
        assert_eq!(match_len(buf, 0, 6, 5), 5);
    }

    proptest! {
        #[test]
        fn match_len_agrees_with_bytewise(data in prop::collection::vec(0u8..3, 2..80), a in 0usize..80, d in 1usize..80, skip in 0usize..4) {
            let n = data.len();
            let a = a % (n - 1);
            let b = (a + 1 + d % (n - 1 - a)).min(n - 1);
            let max = n - b;
            let mut expect = 0;
            while expect < max && data[a + expect] == data[b + expect] {
                expect += 1;
            }
            let from = skip.min(expect);
            prop_assert_eq!(match_len_from(&data, a, b, from, max), expect);
        }
    }
}
