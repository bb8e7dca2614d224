//! Hash-chain match finder (libdeflate's `hc_matchfinder`), for the greedy,
//! lazy and lazy2 parsers.
//!
//! Two tables are keyed by hashes of the bytes at a position:
//! - `h4[hash of 4 bytes]` heads a chain of earlier positions with the same
//!   4-byte hash, linked through `next[p % WSIZE]` (newest first);
//! - `h3[hash of 3 bytes]` holds just the most recent position with that
//!   3-byte hash: length-3 matches are only worth taking when close, and the
//!   most recent one is the closest.
//!
//! A search inserts the current position in all three, then walks the
//! 4-byte chain for at most `depth` candidates. Keying the chains on 4 bytes
//! rather than 3 keeps them short on text (far fewer false candidates), and
//! once a match of length `L` is in hand a candidate is checked first at
//! bytes `L-3..L+1` (must agree to beat `L`), then at `0..4`, before the full
//! word-at-a-time extension: most candidates cost two loads.
//!
//! Entries are the low 16 bits of positions (see [`super::dist_to`]): the
//! three tables take 256 KiB. The walk carries the stored node itself, so
//! the next link is loaded from `next[node % WSIZE]` straight after the
//! previous load (the loop's critical path is load, mask, load, as in
//! libdeflate); the node's distance from `pos` is decoded beside it. A walk
//! only ever moves backwards (a link whose decoded distance is not larger
//! than the current one is an alias from 64 KiB or more back, and ends the
//! walk) and ends once it passes [`super::limit`] or after `depth`
//! candidates. The slot of any position within the limit still belongs to
//! it (the limit stops one short of `WSIZE`).

use super::{dist_to, lz_hash, match_len_from, peek_u32, prefetch, read_u32, WMASK, WSIZE};

const H3_ORDER: u32 = 15;
const H4_ORDER: u32 = 16;

/// See the module docs.
#[derive(Clone)]
pub struct HcMatchfinder {
    h3: Vec<u16>,
    h4: Vec<u16>,
    next: Vec<u16>,
}

impl Default for HcMatchfinder {
    fn default() -> Self {
        Self::new()
    }
}

impl HcMatchfinder {
    pub fn new() -> Self {
        Self {
            h3: vec![0; 1 << H3_ORDER],
            h4: vec![0; 1 << H4_ORDER],
            next: vec![0; WSIZE],
        }
    }

    /// Forget every position (start of a segment). `next` needs no
    /// clearing: a slot is only reached through a valid head or link.
    pub fn reset(&mut self) {
        self.h3.fill(0);
        self.h4.fill(0);
    }

    /// Insert positions `from..to`, skipping those with fewer than 4 bytes
    /// before `end`.
    #[inline(always)]
    pub fn skip(&mut self, buf: &[u8], from: usize, to: usize, end: usize) {
        let to = to.min(end.saturating_sub(3));
        let h3 = &mut self.h3[..1 << H3_ORDER];
        let h4 = &mut self.h4[..1 << H4_ORDER];
        let next = &mut self.next[..WSIZE];
        for p in from..to {
            let seq = read_u32(buf, p);
            let s = p as u16;
            h3[lz_hash(seq & 0xFF_FFFF, H3_ORDER)] = s;
            let i4 = lz_hash(seq, H4_ORDER);
            next[p & WMASK] = h4[i4];
            h4[i4] = s;
        }
        let seq = peek_u32(buf, to);
        prefetch(h3, lz_hash(seq & 0xFF_FFFF, H3_ORDER));
        prefetch(h4, lz_hash(seq, H4_ORDER));
    }

    /// Insert `pos`, then search for a match longer than `best_len` with a
    /// distance of at most `limit` (see [`super::limit`]). Returns
    /// `(length, distance)`; the length stays `best_len` (distance 0) if
    /// nothing longer was found. Requires `pos + 4 <= end`,
    /// `best_len <= max_len <= end - pos` (or `best_len >= 4`) and
    /// `nice <= max_len`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn longest_match(
        &mut self,
        buf: &[u8],
        pos: usize,
        limit: usize,
        mut best_len: usize,
        max_len: usize,
        nice: usize,
        depth: u32,
    ) -> (usize, usize) {
        let mut depth = depth.max(1);
        let seq4 = read_u32(buf, pos);
        let i3 = lz_hash(seq4 & 0xFF_FFFF, H3_ORDER) & ((1 << H3_ORDER) - 1);
        let i4 = lz_hash(seq4, H4_ORDER) & ((1 << H4_ORDER) - 1);
        let ahead = peek_u32(buf, pos + 1);
        prefetch(&self.h3, lz_hash(ahead & 0xFF_FFFF, H3_ORDER));
        prefetch(&self.h4, lz_hash(ahead, H4_ORDER));
        let cur3 = self.h3[i3];
        let cur4 = self.h4[i4];
        self.h3[i3] = pos as u16;
        self.h4[i4] = pos as u16;
        let next = &mut self.next[..WSIZE];
        next[pos & WMASK] = cur4;
        let mut best_dist = 0;
        // The current chain node (low 16 bits of its position) and its
        // distance from pos.
        let mut node = cur4;
        let mut d = dist_to(pos, node);
        // Follow the link out of `node`: false when the walk ends (the link
        // leaves the window, aliases forwards, or the depth is spent).
        macro_rules! advance {
            () => {{
                let link = next[node as usize & WMASK];
                let nd = dist_to(pos, link);
                depth -= 1;
                if nd <= d || nd > limit || depth == 0 {
                    false
                } else {
                    node = link;
                    d = nd;
                    true
                }
            }};
        }

        if best_len < 4 {
            // Nothing of length >= 4 yet: the 3-byte singleton first. If it
            // is out of range, so is every 4-byte match (same 3-byte hash,
            // and it is the most recent).
            let d3 = dist_to(pos, cur3);
            if d3 > limit {
                return (best_len, best_dist);
            }
            if best_len < 3 && (read_u32(buf, pos - d3) ^ seq4) & 0xFF_FFFF == 0 {
                best_len = 3;
                best_dist = d3;
            }
            if d > limit {
                return (best_len, best_dist);
            }
            // Walk until the first 4-byte match.
            loop {
                if read_u32(buf, pos - d) == seq4 {
                    break;
                }
                if !advance!() {
                    return (best_len, best_dist);
                }
            }
            best_len = match_len_from(buf, pos - d, pos, 4, max_len);
            best_dist = d;
            if best_len >= nice || !advance!() {
                return (best_len, best_dist);
            }
        } else if d > limit || best_len >= nice {
            return (best_len, best_dist);
        }

        // Matches longer than best_len (>= 4): best_len < nice <= max_len,
        // so the probe at best_len + 1 stays before end.
        let mut tail = read_u32(buf, pos + best_len - 3);
        loop {
            loop {
                let m = pos - d;
                if read_u32(buf, m + best_len - 3) == tail && read_u32(buf, m) == seq4 {
                    break;
                }
                if !advance!() {
                    return (best_len, best_dist);
                }
            }
            let len = match_len_from(buf, pos - d, pos, 4, max_len);
            if len > best_len {
                best_len = len;
                best_dist = d;
                if best_len >= nice {
                    return (best_len, best_dist);
                }
                tail = read_u32(buf, pos + best_len - 3);
            }
            if !advance!() {
                return (best_len, best_dist);
            }
        }
    }
}
