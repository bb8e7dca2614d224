//! LZ77 match finding over a sliding window, with zlib's parsing schemes.
//!
//! Window. `buf` holds `2 * WSIZE` bytes (64 KiB) plus a few guard bytes;
//! positions in it fit a `u16`, which halves the cache footprint of the hash
//! tables. New input is appended at `end`; the parser consumes from `pos`.
//! When the buffer is full the upper half is moved down ("slide", as in
//! zlib) and every stored position drops by `WSIZE` (saturating at 0, which
//! is the "no candidate" value, so position 0 of the buffer is never a match
//! candidate: a loss of one position per 32 KiB). Because positions only
//! ever refer into `buf`, memory is bounded whatever the stream length.
//!
//! Hash chains. `head[h]` is the most recent position whose first bytes
//! hash to `h`; `prev[p & WMASK]` the position inserted before `p` with the
//! same hash. The hash is multiplicative over the next 3 bytes (read as one
//! little-endian word, masked), which spreads keys far better than zlib's
//! shift-xor rolling hash, so chains hold fewer false candidates.
//!
//! Invariants (checked where cheap, relied on everywhere):
//! - `0 <= hist_start <= pos <= end <= BUF_SIZE`; bytes in
//!   `buf[hist_start..end]` are real stream data (or the preset
//!   dictionary). `hist_start` moves to `pos` on a full flush so no match
//!   ever crosses it.
//! - every position stored in `head`/`prev` is `< pos` when read. Chains
//!   need not be exact (an entry may be overwritten once it is more than
//!   `WSIZE` back): every candidate is range-checked against
//!   `max(pos - max_dist, hist_start)` and its bytes are compared, so a stale
//!   entry costs a comparison, never a wrong match.
//! - when not flushing, the parser stops while at least `MIN_LOOKAHEAD`
//!   bytes remain, so a match of 258 and the hash of any position it visits
//!   only read real data; at a flush it runs to `end`, and reads past `end`
//!   hit the guard bytes and are clamped.
//! - the lazy parser's pending state (a literal at `pos - 1` not yet
//!   emitted, and the best match found there, stored as a *distance* so a
//!   slide does not disturb it) lives in the struct between calls.
//!
//! Parsers (chosen per level like zlib's `configuration_table`):
//! - greedy (levels 1-3, zlib's `deflate_fast`): take the longest match at
//!   each position; positions inside a match are inserted into the hash
//!   only when the match is short (`max_lazy` doubles as
//!   `max_insert_length`), which is what makes level 1 fast on redundant
//!   data.
//! - lazy (levels 4-12, zlib's `deflate_slow`): before taking a match, look
//!   for a longer one at the next position; with `good_length` shortening
//!   the chain once a good match is in hand and `nice_length` stopping the
//!   search. Levels 10-12 are the lazy parser with longer chains.
//! - RLE (distance 1 only) and Huffman-only (literals only).
//!
//! Why the hot loop is fast: match lengths are compared eight bytes at a
//! time (XOR of two `u64` loads, the first differing byte is
//! `trailing_zeros / 8`), relying on the guard bytes so the last word never
//! needs a byte loop; a candidate is rejected by one 2-byte compare at the
//! current best length before any full compare; the buffer and tables are
//! bound to local slices before the loops.
pub mod seq;

pub use seq::Sequences;

use crate::tables::{MAX_MATCH, MIN_MATCH};

/// Size of one window half; also the largest DEFLATE distance.
pub const WSIZE: usize = 32 * 1024;
const WMASK: usize = WSIZE - 1;
/// Positions live in `0..BUF_SIZE`, so they fit a `u16`.
pub const BUF_SIZE: usize = 2 * WSIZE;
/// Guard bytes after the buffer so word reads near the end stay in bounds.
const GUARD: usize = 16;
/// Lookahead kept while not flushing: a maximal match plus a hash's worth.
pub const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;
const HASH_BITS: u32 = 15;
const HASH_SIZE: usize = 1 << HASH_BITS;
/// Length-3 matches further back than this are not worth their distance
/// code (zlib's TOO_FAR).
const TOO_FAR: usize = 4096;

/// How positions are turned into symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseKind {
    /// Literals only (Z_HUFFMAN_ONLY).
    Literals,
    /// Runs of distance 1 only (Z_RLE).
    Rle,
    /// zlib's deflate_fast.
    Greedy,
    /// zlib's deflate_slow.
    Lazy,
}

/// Per-level search parameters (zlib's `config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub kind: ParseKind,
    /// Quarter the chain once a match at least this long is in hand.
    pub good_length: usize,
    /// Lazy: do not look for a better match when the current one is at
    /// least this long. Greedy: insert positions inside matches no longer.
    pub max_lazy: usize,
    /// Stop searching when a match at least this long is found.
    pub nice_length: usize,
    /// Maximum hash chain candidates examined per search.
    pub max_chain: usize,
    /// Z_FILTERED: drop lazy matches of length <= 5.
    pub filtered: bool,
}

impl Params {
    /// zlib's table for levels 1..=9, extended to 12 with longer chains.
    pub fn for_level(level: u32) -> Params {
        let (kind, good, lazy, nice, chain) = match level {
            0 | 1 => (ParseKind::Greedy, 4, 4, 8, 4),
            2 => (ParseKind::Greedy, 4, 5, 16, 8),
            3 => (ParseKind::Greedy, 4, 6, 32, 32),
            4 => (ParseKind::Lazy, 4, 4, 16, 16),
            5 => (ParseKind::Lazy, 8, 16, 32, 32),
            6 => (ParseKind::Lazy, 8, 16, 128, 128),
            7 => (ParseKind::Lazy, 8, 32, 128, 256),
            8 => (ParseKind::Lazy, 32, 128, 258, 1024),
            9 => (ParseKind::Lazy, 32, 258, 258, 4096),
            10 => (ParseKind::Lazy, 64, 258, 258, 8192),
            11 => (ParseKind::Lazy, 128, 258, 258, 16384),
            _ => (ParseKind::Lazy, 258, 258, 258, 32768),
        };
        Params {
            kind,
            good_length: good,
            max_lazy: lazy,
            nice_length: nice,
            max_chain: chain,
            filtered: false,
        }
    }
}

/// Sliding window, hash chains and the lazy parser's pending state.
#[derive(Clone)]
pub struct Lz77 {
    buf: Vec<u8>,
    head: Vec<u16>,
    prev: Vec<u16>,
    /// Next position to parse.
    pos: usize,
    /// End of valid data in `buf`.
    end: usize,
    /// First position a match may refer to.
    hist_start: usize,
    /// Largest distance allowed (`1 << window_bits`, at most `WSIZE`).
    max_dist: usize,
    /// Lazy parser: a literal at `pos - 1` is pending.
    match_available: bool,
    /// Lazy parser: best match length at `pos - 1` (2 = none) and its distance.
    prev_len: usize,
    prev_dist: usize,
}

#[inline(always)]
fn read_u64(buf: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(buf[i..i + 8].try_into().unwrap())
}

#[inline(always)]
fn read_u32(buf: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(buf[i..i + 4].try_into().unwrap())
}

#[inline(always)]
fn read_u16(buf: &[u8], i: usize) -> u16 {
    u16::from_le_bytes(buf[i..i + 2].try_into().unwrap())
}

#[inline(always)]
fn hash3(buf: &[u8], i: usize) -> usize {
    ((read_u32(buf, i) & 0x00FF_FFFF).wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Length of the common prefix of `buf[a..]` and `buf[b..]`, at most
/// `max`. Requires `a < b`, `b + max + 8 <= buf.len()` (guard bytes).
#[inline(always)]
pub fn match_len(buf: &[u8], a: usize, b: usize, max: usize) -> usize {
    let mut len = 0;
    while len < max {
        let x = read_u64(buf, a + len) ^ read_u64(buf, b + len);
        if x != 0 {
            return (len + (x.trailing_zeros() / 8) as usize).min(max);
        }
        len += 8;
    }
    max
}

/// Walk the chain from `cand` for a match longer than `best_len` at `pos`.
/// Returns `(length, distance)`; length stays `best_len` if nothing better.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn longest_match(
    buf: &[u8],
    prev: &[u16],
    pos: usize,
    mut cand: usize,
    limit: usize,
    mut best_len: usize,
    max_len: usize,
    nice: usize,
    mut chain: usize,
) -> (usize, usize) {
    let mut best_dist = 0;
    if best_len >= max_len {
        return (best_len, 0);
    }
    let prev = &prev[..WSIZE];
    loop {
        debug_assert!(cand < pos && cand > limit);
        // A longer match must agree at best_len-1 and best_len: check that
        // first, it rejects most candidates with one load each.
        if read_u16(buf, cand + best_len - 1) == read_u16(buf, pos + best_len - 1) {
            let len = match_len(buf, cand, pos, max_len);
            if len > best_len {
                best_len = len;
                best_dist = pos - cand;
                if len >= nice {
                    break;
                }
            }
        }
        chain -= 1;
        if chain == 0 {
            break;
        }
        let next = prev[cand & WMASK] as usize;
        // Chains run strictly backwards; anything else is a stale entry.
        if next <= limit || next >= cand {
            break;
        }
        cand = next;
    }
    (best_len, best_dist)
}

impl Lz77 {
    /// An empty window; `max_dist` is `1 << window_bits`.
    pub fn new(max_dist: usize) -> Self {
        assert!((1..=WSIZE).contains(&max_dist));
        Self {
            buf: vec![0; BUF_SIZE + GUARD],
            head: vec![0; HASH_SIZE],
            prev: vec![0; WSIZE],
            pos: 0,
            end: 0,
            hist_start: 0,
            max_dist,
            match_available: false,
            prev_len: MIN_MATCH - 1,
            prev_dist: 0,
        }
    }

    /// Next position to parse (the first byte not yet covered by a symbol,
    /// except for the lazy parser's pending literal at `pos - 1`).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Largest distance allowed.
    pub fn max_dist(&self) -> usize {
        self.max_dist
    }

    /// End of buffered data.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Room left in the buffer before a slide is needed.
    pub fn space(&self) -> usize {
        BUF_SIZE - self.end
    }

    /// The buffered bytes `buf[range]` (for stored blocks).
    pub fn bytes(&self, start: usize, len: usize) -> &[u8] {
        &self.buf[start..start + len]
    }

    /// Append up to `space()` bytes of input; returns how many were taken.
    pub fn fill(&mut self, input: &[u8]) -> usize {
        let n = input.len().min(self.space());
        self.buf[self.end..self.end + n].copy_from_slice(&input[..n]);
        self.end += n;
        n
    }

    /// Move the upper half of the buffer down. Call only when the parser
    /// has passed `WSIZE` (it has, whenever the buffer is full and the
    /// parser stopped for lack of lookahead). Returns the shift.
    pub fn slide(&mut self) -> usize {
        assert!(self.pos >= WSIZE && self.end >= self.pos);
        self.buf.copy_within(WSIZE..self.end, 0);
        self.pos -= WSIZE;
        self.end -= WSIZE;
        self.hist_start = self.hist_start.saturating_sub(WSIZE);
        for h in self.head.iter_mut() {
            *h = h.saturating_sub(WSIZE as u16);
        }
        for p in self.prev.iter_mut() {
            *p = p.saturating_sub(WSIZE as u16);
        }
        WSIZE
    }

    /// Prime the window with a preset dictionary (only before any data).
    /// Only the last `max_dist` bytes matter.
    pub fn set_dictionary(&mut self, dict: &[u8]) {
        assert!(self.end == 0, "dictionary after data");
        let dict = &dict[dict.len().saturating_sub(self.max_dist)..];
        self.fill(dict);
        self.pos = self.end;
        // Positions whose 3 bytes all lie in the dictionary.
        for p in 1..self.end.saturating_sub(MIN_MATCH - 1) {
            self.insert(p);
        }
    }

    /// Forget all history (full flush): no later match reaches before `pos`.
    pub fn reset_history(&mut self) {
        debug_assert!(!self.match_available);
        self.head.fill(0);
        self.hist_start = self.pos;
    }

    #[inline(always)]
    fn insert(&mut self, p: usize) -> usize {
        let h = hash3(&self.buf, p);
        let cand = self.head[h] as usize;
        self.prev[p & WMASK] = cand as u16;
        self.head[h] = p as u16;
        cand
    }

    /// Emit the lazy parser's pending literal; call once everything is
    /// parsed at a flush.
    pub fn finish_pending(&mut self, seq: &mut Sequences) {
        if self.match_available {
            seq.literal(self.buf[self.pos - 1]);
            self.match_available = false;
        }
        self.prev_len = MIN_MATCH - 1;
    }

    /// Parse from `pos` until `seq` is full or input runs out (to `end`
    /// when `flush`, otherwise to `MIN_LOOKAHEAD` before it).
    pub fn parse(&mut self, seq: &mut Sequences, params: &Params, flush: bool) {
        let limit = if flush {
            self.end
        } else {
            self.end.saturating_sub(MIN_LOOKAHEAD - 1)
        };
        if self.pos >= limit {
            return;
        }
        match params.kind {
            ParseKind::Literals => self.parse_literals(seq, limit),
            ParseKind::Rle => self.parse_rle(seq, limit),
            ParseKind::Greedy => self.parse_greedy(seq, params, limit),
            ParseKind::Lazy => self.parse_lazy(seq, params, limit),
        }
    }

    fn parse_literals(&mut self, seq: &mut Sequences, limit: usize) {
        let buf = &self.buf[..BUF_SIZE];
        let mut pos = self.pos;
        while pos < limit && !seq.is_full() {
            seq.literal(buf[pos]);
            pos += 1;
        }
        self.pos = pos;
    }

    fn parse_rle(&mut self, seq: &mut Sequences, limit: usize) {
        let buf = &self.buf[..];
        let end = self.end;
        let mut pos = self.pos;
        while pos < limit && !seq.is_full() {
            let max_len = (end - pos).min(MAX_MATCH);
            if pos > self.hist_start && max_len >= MIN_MATCH {
                let len = match_len(buf, pos - 1, pos, max_len);
                if len >= MIN_MATCH {
                    seq.matched(len, 1);
                    pos += len;
                    continue;
                }
            }
            seq.literal(buf[pos]);
            pos += 1;
        }
        self.pos = pos;
    }

    /// Candidates must lie strictly above this position.
    #[inline(always)]
    fn limit_for(&self, pos: usize) -> usize {
        let by_dist = pos.saturating_sub(self.max_dist + 1);
        by_dist.max(self.hist_start.saturating_sub(1))
    }

    fn parse_greedy(&mut self, seq: &mut Sequences, params: &Params, limit: usize) {
        let end = self.end;
        let mut pos = self.pos;
        let max_insert = params.max_lazy;
        while pos < limit && !seq.is_full() {
            let lookahead = end - pos;
            let mut len = 0;
            let mut dist = 0;
            if lookahead >= MIN_MATCH {
                let cand = self.insert(pos);
                let lim = self.limit_for(pos);
                if cand > lim && cand < pos {
                    let max_len = lookahead.min(MAX_MATCH);
                    (len, dist) = longest_match(
                        &self.buf,
                        &self.prev,
                        pos,
                        cand,
                        lim,
                        MIN_MATCH - 1,
                        max_len,
                        params.nice_length.min(max_len),
                        params.max_chain,
                    );
                }
            }
            if len >= MIN_MATCH {
                seq.matched(len, dist);
                if len <= max_insert && lookahead >= len + MIN_MATCH {
                    for p in pos + 1..pos + len {
                        self.insert(p);
                    }
                }
                pos += len;
            } else {
                seq.literal(self.buf[pos]);
                pos += 1;
            }
        }
        self.pos = pos;
    }

    fn parse_lazy(&mut self, seq: &mut Sequences, params: &Params, limit: usize) {
        let end = self.end;
        let mut pos = self.pos;
        let mut match_available = self.match_available;
        let mut prev_len = self.prev_len;
        let mut prev_dist = self.prev_dist;
        while pos < limit && !seq.is_full() {
            let lookahead = end - pos;
            let mut cur_len = MIN_MATCH - 1;
            let mut cur_dist = 0;
            if lookahead >= MIN_MATCH {
                let cand = self.insert(pos);
                let lim = self.limit_for(pos);
                if cand > lim && cand < pos && prev_len < params.max_lazy {
                    let max_len = lookahead.min(MAX_MATCH);
                    let chain = if prev_len >= params.good_length {
                        params.max_chain >> 2
                    } else {
                        params.max_chain
                    };
                    let (l, d) = longest_match(
                        &self.buf,
                        &self.prev,
                        pos,
                        cand,
                        lim,
                        prev_len.max(MIN_MATCH - 1),
                        max_len,
                        params.nice_length.min(max_len),
                        chain.max(1),
                    );
                    if d != 0 {
                        (cur_len, cur_dist) = (l, d);
                        if cur_len <= 5
                            && (params.filtered || (cur_len == MIN_MATCH && cur_dist > TOO_FAR))
                        {
                            cur_len = MIN_MATCH - 1;
                        }
                    }
                }
            }
            if prev_len >= MIN_MATCH && cur_len <= prev_len {
                // The match at pos - 1 wins; positions it covers after pos
                // still go into the hash (pos itself already did).
                seq.matched(prev_len, prev_dist);
                let stop = pos - 1 + prev_len;
                let ins_end = stop.min((end + 1).saturating_sub(MIN_MATCH));
                for p in pos + 1..ins_end {
                    self.insert(p);
                }
                pos = stop;
                match_available = false;
                prev_len = MIN_MATCH - 1;
            } else {
                if match_available {
                    seq.literal(self.buf[pos - 1]);
                }
                match_available = true;
                prev_len = cur_len;
                prev_dist = cur_dist;
                pos += 1;
            }
        }
        self.pos = pos;
        self.match_available = match_available;
        self.prev_len = prev_len;
        self.prev_dist = prev_dist;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feed `data` through the window in `chunk`-sized pieces and parse it,
    /// returning all items; mirrors what the deflate driver does.
    fn parse_all(
        data: &[u8],
        params: &Params,
        max_dist: usize,
        chunk: usize,
        dict: &[u8],
    ) -> Vec<u32> {
        let mut lz = Lz77::new(max_dist);
        if !dict.is_empty() {
            lz.set_dictionary(dict);
        }
        let mut seq = Sequences::new(1000);
        let mut items = Vec::new();
        let mut rest = data;
        let drain = |seq: &mut Sequences, items: &mut Vec<u32>| {
            items.extend_from_slice(&seq.items);
            seq.clear();
        };
        while !rest.is_empty() {
            if lz.space() == 0 {
                loop {
                    lz.parse(&mut seq, params, false);
                    if seq.is_full() {
                        drain(&mut seq, &mut items);
                    } else {
                        break;
                    }
                }
                lz.slide();
            }
            let n = lz.fill(&rest[..rest.len().min(chunk)]);
            rest = &rest[n..];
        }
        loop {
            lz.parse(&mut seq, params, true);
            if seq.is_full() {
                drain(&mut seq, &mut items);
            } else {
                break;
            }
        }
        lz.finish_pending(&mut seq);
        drain(&mut seq, &mut items);
        items
    }

    /// Replay items; checks every distance against the window and history.
    fn replay(items: &[u32], dict: &[u8], max_dist: usize) -> Vec<u8> {
        let dict = &dict[dict.len().saturating_sub(max_dist)..];
        let mut out = dict.to_vec();
        for &it in items {
            let dist = (it >> 16) as usize;
            let len = (it & 0xFFFF) as usize;
            if dist == 0 {
                out.push(len as u8);
            } else {
                assert!((3..=258).contains(&len));
                assert!(dist <= max_dist, "distance {dist} > window {max_dist}");
                assert!(dist <= out.len(), "distance {dist} before start");
                for _ in 0..len {
                    out.push(out[out.len() - dist]);
                }
            }
        }
        out.split_off(dict.len())
    }

    fn all_params() -> Vec<Params> {
        let mut v: Vec<Params> = (1..=12).map(Params::for_level).collect();
        let mut f = Params::for_level(6);
        f.filtered = true;
        v.push(f);
        v.push(Params {
            kind: ParseKind::Rle,
            ..Params::for_level(6)
        });
        v.push(Params {
            kind: ParseKind::Literals,
            ..Params::for_level(6)
        });
        v
    }

    fn data_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..3000),
            prop::collection::vec(0u8..3, 0..200_000),
            (prop::collection::vec(any::<u8>(), 1..50), 1usize..5000).prop_map(|(p, n)| p
                .iter()
                .cycle()
                .take(n * p.len() / 3 + 1)
                .copied()
                .collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn reproduces_input(data in data_strategy(), wbits in 9u32..=15, chunk in 1usize..100_000, dict in prop::collection::vec(0u8..3, 0..2000)) {
            let max_dist = 1usize << wbits;
            for p in all_params() {
                let items = parse_all(&data, &p, max_dist, chunk, &dict);
                prop_assert!(replay(&items, &dict, max_dist) == data, "mismatch for {:?}", p);
            }
        }
    }

    #[test]
    fn finds_long_matches() {
        let data: Vec<u8> = b"abcdefghij"
            .iter()
            .cycle()
            .take(100_000)
            .copied()
            .collect();
        let items = parse_all(&data, &Params::for_level(6), WSIZE, 1 << 20, &[]);
        assert!(items.len() < 100_000 / 258 + 20, "{} items", items.len());
        assert_eq!(replay(&items, &[], WSIZE), data);
    }

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
    }
}
