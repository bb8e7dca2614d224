//! Binary-tree match finder for the near-optimal parser (levels 10-12).
//!
//! Why trees. The near-optimal parser wants, at (almost) every position, the
//! whole list of useful matches: for each length, the nearest earlier
//! occurrence that reaches it. Hash chains find these by walking every
//! candidate with the same hash and comparing from byte 0; a binary tree
//! keeps the candidates of one hash bucket sorted lexicographically, so one
//! root-to-leaf walk visits candidates in order of growing common prefix and
//! each comparison resumes where the shorter of its two bounds left off.
//! The same walk re-roots the tree at the current position, so insertion is
//! free once the search is done. This is the scheme of libdeflate's
//! `bt_matchfinder.h`, rewritten for our buffers.
//!
//! Structure:
//! - `hash4[h]`: root of the tree of positions whose next 4 bytes hash to `h`.
//! - `child[p & MASK]`: left (lexicographically smaller) and right (greater)
//!   child of the node for position `p`. A node's children were written when
//!   the node was inserted (or later, when a walk re-hung a subtree under
//!   it), so they are never stale with respect to the node itself.
//! - `hash3[h]`: the two most recent positions whose next 3 bytes hash to
//!   `h`, for length-3 matches, which the 4-byte trees cannot find.
//!
//! Positions are stored as `u32` "stamps": `base + (pos - origin)` for the
//! segment set up by [`BtMatchFinder::begin`]. `base` only grows between
//! segments, so every stamp left over from an earlier segment is below the
//! current `base` and fails the range check, exactly like a node that is too
//! far back; the tables are therefore only cleared when the stamps would
//! overflow, not on every call. Stamp 0 means "no node".
//!
//! Invariants:
//! - a node is followed only if `stamp >= low`, where `low` is the stamp of
//!   the lowest position a match may start at (`max(history start, pos -
//!   max_dist)`); everything below is cut off, never compared.
//! - `max_dist < WINDOW`, so two live nodes never share a `child` slot and
//!   the current position's slot may be overwritten on insertion.
//! - matches are reported in strictly increasing length (and, for equal
//!   search order, non-decreasing distance), at most one per length, and
//!   never longer than `end - pos` (no byte at or past `end` is read).
//! - when a walk finds a match of `nice` bytes (or all bytes up to the end)
//!   it cannot tell on which side the current string belongs, so it grafts
//!   that node's two subtrees under the current one and stops; the node
//!   itself drops out of the tree (it is an equal, older duplicate).
//! - when the walk runs out of depth it cuts both pending links: the tree
//!   loses some old nodes but stays sorted.

use crate::mem::{boxed_array, prefetch};

/// Tree nodes are indexed by position modulo this: a match may not reach
/// this far back (DEFLATE's 32768 is one more; that one distance is given
/// up, as libdeflate does).
pub const WINDOW: usize = 1 << 15;
const MASK: u32 = WINDOW as u32 - 1;
/// Longest distance the finder reports.
pub const MAX_DIST: usize = WINDOW - 1;
const HASH3_BITS: u32 = 15;
const HASH4_BITS: u32 = 16;
/// Bytes needed at a position for a search (4 for the tree's hash).
pub const MIN_LOOKAHEAD: usize = 4;
const MAX_MATCH: usize = 258;

#[derive(Clone)]
pub struct BtMatchFinder {
    // Fixed-size arrays: an index masked to the size needs no bounds check.
    hash3: Box<[[u32; 2]; 1 << HASH3_BITS]>,
    hash4: Box<[u32; 1 << HASH4_BITS]>,
    /// `[left, right]` per node.
    child: Box<[[u32; 2]; WINDOW]>,
    /// Stamp of `origin`.
    base: u32,
    origin: usize,
    /// First stamp not used by the current segment.
    next_base: u32,
}

#[inline(always)]
fn load_u32(b: &[u8], p: usize) -> u32 {
    u32::from_le_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]])
}

#[inline(always)]
fn hash3(b: &[u8], p: usize) -> usize {
    let v = u32::from_le_bytes([b[p], b[p + 1], b[p + 2], 0]);
    (v.wrapping_mul(0x1E35_A7BD) >> (32 - HASH3_BITS)) as usize & ((1 << HASH3_BITS) - 1)
}

#[inline(always)]
fn hash4(v: u32) -> usize {
    (v.wrapping_mul(0x1E35_A7BD) >> (32 - HASH4_BITS)) as usize & ((1 << HASH4_BITS) - 1)
}

/// Length of the common prefix of `b[a..]` and `b[c..]`, starting from `len`
/// known-equal bytes, at most `max`. Requires `a < c` and `c + max <= b.len()`.
#[inline(always)]
fn extend(b: &[u8], a: usize, c: usize, mut len: usize, max: usize) -> usize {
    while len + 8 <= max {
        let x = u64::from_le_bytes(b[a + len..a + len + 8].try_into().unwrap());
        let y = u64::from_le_bytes(b[c + len..c + len + 8].try_into().unwrap());
        let d = x ^ y;
        if d != 0 {
            return len + (d.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && b[a + len] == b[c + len] {
        len += 1;
    }
    len
}

impl Default for BtMatchFinder {
    fn default() -> Self {
        Self::new()
    }
}

impl BtMatchFinder {
    pub fn new() -> Self {
        Self {
            hash3: boxed_array([0; 2]),
            hash4: boxed_array(0),
            child: boxed_array([0; 2]),
            base: 1,
            origin: 0,
            next_base: 1,
        }
    }

    /// Start a segment: positions `origin..origin + span` may be inserted;
    /// nothing inserted before is visible any more. `span < 2^31`.
    pub fn begin(&mut self, origin: usize, span: usize) {
        assert!(span < (1 << 31));
        if (u32::MAX - self.next_base) as usize <= span + 1 {
            self.hash3.fill([0; 2]);
            self.hash4.fill(0);
            self.child.fill([0; 2]);
            self.next_base = 1;
        }
        self.base = self.next_base;
        self.origin = origin;
        self.next_base = self.base + span as u32 + 1;
    }

    #[inline(always)]
    fn stamp(&self, pos: usize) -> u32 {
        self.base + (pos - self.origin) as u32
    }

    /// Search at `pos` and insert it. Matches (as `dist << 16 | len`, in
    /// strictly increasing length) are appended to `out` when `record`;
    /// returns the longest length found (0 if none). `lowest` is the first
    /// position a match may start at (`>= origin`), `end` the first byte
    /// that may not be read; requires `end - pos >= MIN_LOOKAHEAD` and
    /// `pos - lowest <= MAX_DIST`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn advance(
        &mut self,
        buf: &[u8],
        pos: usize,
        end: usize,
        lowest: usize,
        nice: usize,
        depth: u32,
        out: &mut Vec<u32>,
        record: bool,
    ) -> usize {
        debug_assert!(end - pos >= MIN_LOOKAHEAD && pos - lowest <= MAX_DIST);
        debug_assert!(lowest >= self.origin);
        let max_len = (end - pos).min(MAX_MATCH);
        let nice = nice.min(max_len);
        let cur = self.stamp(pos);
        let low = self.stamp(lowest);
        let (origin, base) = (self.origin, self.base);
        let to_pos = move |s: u32| origin + (s - base) as usize;
        let mut best = 0usize;

        // The buckets of the next position are random accesses into 512 KiB
        // of tables: start loading them now, as libdeflate does.
        if end - pos > MIN_LOOKAHEAD {
            prefetch(&self.hash3[hash3(buf, pos + 1)]);
            prefetch(&self.hash4[hash4(load_u32(buf, pos + 1))]);
        }
        let h3 = hash3(buf, pos);
        let [c0, c1] = self.hash3[h3];
        self.hash3[h3] = [cur, c0];
        if record {
            let seq3 = load_u32(buf, pos) & 0xFF_FFFF;
            for c in [c0, c1] {
                if c >= low && c < cur && load_u32(buf, to_pos(c)) & 0xFF_FFFF == seq3 {
                    best = 3;
                    out.push(((pos - to_pos(c)) as u32) << 16 | 3);
                    break;
                }
            }
        }

        let h4 = hash4(load_u32(buf, pos));
        let mut node = self.hash4[h4];
        self.hash4[h4] = cur;
        let cur_slot = (cur & MASK) as usize;
        // Where the next smaller / greater node will be hung: (slot, side).
        let mut lt = (cur_slot, 0usize);
        let mut gt = (cur_slot, 1usize);
        if node < low {
            self.child[cur_slot] = [0, 0];
            return best;
        }
        let (mut lt_len, mut gt_len) = (0usize, 0usize);
        let mut len = 0usize;
        let mut depth_left = depth;
        loop {
            let mpos = to_pos(node);
            let nslot = (node & MASK) as usize;
            if buf[mpos + len] == buf[pos + len] {
                len = extend(buf, mpos, pos, len + 1, max_len);
                if !record || len > best {
                    if record {
                        best = len;
                        out.push(((pos - mpos) as u32) << 16 | len as u32);
                    }
                    if len >= nice {
                        let [l, r] = self.child[nslot];
                        self.child[lt.0][lt.1] = l;
                        self.child[gt.0][gt.1] = r;
                        return best;
                    }
                }
            }
            if buf[mpos + len] < buf[pos + len] {
                self.child[lt.0][lt.1] = node;
                lt = (nslot, 1);
                node = self.child[nslot][1];
                lt_len = len;
                len = len.min(gt_len);
            } else {
                self.child[gt.0][gt.1] = node;
                gt = (nslot, 0);
                node = self.child[nslot][0];
                gt_len = len;
                len = len.min(lt_len);
            }
            depth_left -= 1;
            if node < low || depth_left == 0 {
                self.child[lt.0][lt.1] = 0;
                self.child[gt.0][gt.1] = 0;
                return best;
            }
        }
    }

    /// Matches at `pos` (see [`Self::advance`] for the arguments), appended
    /// to `out`; returns the longest length (0 if none).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub fn get_matches(
        &mut self,
        buf: &[u8],
        pos: usize,
        end: usize,
        lowest: usize,
        nice: usize,
        depth: u32,
        out: &mut Vec<u32>,
    ) -> usize {
        self.advance(buf, pos, end, lowest, nice, depth, out, true)
    }

    /// Insert `pos` without reporting matches.
    #[inline]
    pub fn skip(
        &mut self,
        buf: &[u8],
        pos: usize,
        end: usize,
        lowest: usize,
        nice: usize,
        depth: u32,
    ) {
        let mut none = Vec::new();
        self.advance(buf, pos, end, lowest, nice, depth, &mut none, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Longest match at `pos` by brute force over `lowest..pos`, with the
    /// nearest distance for it.
    fn brute(buf: &[u8], pos: usize, end: usize, lowest: usize) -> Option<(usize, usize)> {
        let max = (end - pos).min(MAX_MATCH);
        let mut best: Option<(usize, usize)> = None;
        for m in (lowest..pos).rev() {
            let l = extend(buf, m, pos, 0, max);
            if l >= 3 && best.is_none_or(|(bl, _)| l > bl) {
                best = Some((l, pos - m));
            }
        }
        best
    }

    fn data(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 4 {
                0 if v.len() > 40 => {
                    let back = 1 + (s >> 8) as usize % v.len().min(3000);
                    let start = v.len() - back;
                    for i in 0..(s >> 20) as usize % 40 {
                        v.push(v[start + i]);
                    }
                }
                _ => v.push(b"abcd"[(s >> 30) as usize % 4]),
            }
        }
        v.truncate(n);
        v
    }

    #[test]
    fn matches_are_real_and_sorted_and_deep_search_finds_longest() {
        let buf = data(20_000, 3);
        for &max_dist in &[MAX_DIST, 512, 100] {
            let mut mf = BtMatchFinder::new();
            // Two segments over the same buffer: the second must not see the first.
            for round in 0..2 {
                mf.begin(0, buf.len());
                let mut out = Vec::new();
                for pos in 0..buf.len() - MIN_LOOKAHEAD {
                    out.clear();
                    let lowest = pos.saturating_sub(max_dist);
                    let best =
                        mf.get_matches(&buf, pos, buf.len(), lowest, 258, u32::MAX, &mut out);
                    let mut prev_len = 0;
                    for &m in &out {
                        let (len, dist) = ((m & 0xFFFF) as usize, (m >> 16) as usize);
                        assert!(len > prev_len && len >= 3, "round {round}");
                        prev_len = len;
                        assert!(dist >= 1 && dist <= pos - lowest);
                        assert_eq!(
                            buf[pos - dist..pos - dist + len],
                            buf[pos..pos + len],
                            "pos {pos}"
                        );
                    }
                    assert_eq!(best, prev_len);
                    // With unlimited depth and nice = 258 the tree finds the
                    // longest 4+ match (length 3 only through the 2-way hash).
                    if let Some((bl, _)) = brute(&buf, pos, buf.len(), lowest) {
                        if bl >= 4 {
                            assert_eq!(best, bl, "pos {pos} max_dist {max_dist}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn stamps_wrap_by_clearing() {
        let buf = data(5000, 9);
        let mut mf = BtMatchFinder::new();
        mf.next_base = u32::MAX - 6000;
        for _ in 0..3 {
            mf.begin(0, buf.len());
            let mut out = Vec::new();
            for pos in 0..buf.len() - MIN_LOOKAHEAD {
                out.clear();
                mf.get_matches(
                    &buf,
                    pos,
                    buf.len(),
                    pos.saturating_sub(MAX_DIST),
                    258,
                    64,
                    &mut out,
                );
                for &m in &out {
                    let (len, dist) = ((m & 0xFFFF) as usize, (m >> 16) as usize);
                    assert!(dist <= pos);
                    assert_eq!(buf[pos - dist..pos - dist + len], buf[pos..pos + len]);
                }
            }
        }
    }
}
