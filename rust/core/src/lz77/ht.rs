//! Hash-table match finder for the fastest level (libdeflate's
//! `ht_matchfinder`).
//!
//! A table of 2^15 buckets, each holding the two most recent positions whose
//! next 4 bytes hash there. A search inserts the current position at the
//! front of its bucket (pushing the older entry to the second slot) and
//! checks both former entries: at most two 4-byte compares per position,
//! no chain to walk, so the cost per byte is flat whatever the data. Only
//! matches of 4 or more bytes are found; length-3 matches rarely pay for
//! themselves in a fast parse.
//!
//! Entries are the low 16 bits of positions (see [`super::dist_to`]); the
//! whole table is 128 KiB, so it stays in L2. Positions are inserted only
//! where 4 bytes remain before the segment end, so no insertion depends on
//! bytes past it.

use super::{dist_to, lz_hash, match_len_from, read_u32};

const ORDER: u32 = 15;
const SIZE: usize = 1 << ORDER;

/// See the module docs.
#[derive(Clone)]
pub struct HtMatchfinder {
    tab: Vec<[u16; 2]>,
}

impl Default for HtMatchfinder {
    fn default() -> Self {
        Self::new()
    }
}

impl HtMatchfinder {
    pub fn new() -> Self {
        Self {
            tab: vec![[0; 2]; SIZE],
        }
    }

    /// Forget every position (start of a segment).
    pub fn reset(&mut self) {
        self.tab.fill([0; 2]);
    }

    /// Insert positions `from..to`, skipping those with fewer than 4 bytes
    /// before `end`.
    #[inline(always)]
    pub fn skip(&mut self, buf: &[u8], from: usize, to: usize, end: usize) {
        let to = to.min(end.saturating_sub(3));
        let tab = &mut self.tab[..SIZE];
        for p in from..to {
            let b = &mut tab[lz_hash(read_u32(buf, p), ORDER)];
            b[1] = b[0];
            b[0] = p as u16;
        }
    }

    /// Insert `pos` and return the longest match there of length >= 4 as
    /// `(length, distance)`, or `(0, 0)`; distances are at most `limit`
    /// (see [`super::limit`]). Requires `pos + 4 <= end` and
    /// `4 <= max_len <= end - pos`; stops early at `nice`.
    #[inline(always)]
    pub fn longest_match(
        &mut self,
        buf: &[u8],
        pos: usize,
        limit: usize,
        max_len: usize,
        nice: usize,
    ) -> (usize, usize) {
        let seq = read_u32(buf, pos);
        let b = &mut self.tab[lz_hash(seq, ORDER) & (SIZE - 1)];
        let (c0, c1) = (b[0], b[1]);
        b[1] = c0;
        b[0] = pos as u16;
        let mut best = (0, 0);
        let d = dist_to(pos, c0);
        if d > limit {
            return best;
        }
        if read_u32(buf, pos - d) == seq {
            let len = match_len_from(buf, pos - d, pos, 4, max_len);
            best = (len, d);
            if len >= nice {
                return best;
            }
        }
        let d = dist_to(pos, c1);
        if d > limit {
            return best;
        }
        if read_u32(buf, pos - d) == seq {
            let len = match_len_from(buf, pos - d, pos, 4, max_len);
            if len > best.0 {
                best = (len, d);
            }
        }
        best
    }
}
