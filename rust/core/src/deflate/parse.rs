//! Parsers: turn a segment of input into blocks of literals and matches.
//!
//! Every parser has the same shape, [`Parser::compress`]: compress
//! `buf[start..end]` with `buf[hist..start]` as history, handing each block
//! to `emit(&seq, block_start, block_end)` as soon as it is complete (the
//! block's raw bytes are `buf[block_start..block_end]`). The match finder is
//! cleared and the history re-inserted at the start of every call, so the
//! result depends only on `buf[hist..end]`.
//!
//! The parsers, per level, follow libdeflate's table:
//! - level 1, [`Parser::Fastest`]: hash table of 2-entry buckets, greedy,
//!   blocks of at most 64 KiB cut by length only (no statistics: speed);
//! - levels 2-4, [`Parser::Greedy`]: hash chains, take the longest match;
//! - levels 5-7, lazy: before taking a match, search one position ahead
//!   with half the depth and prefer a literal plus that match if it is
//!   longer by enough to pay for its (estimated) offset bits;
//! - levels 8-12, lazy2: the same, then also two positions ahead with a
//!   quarter of the depth;
//! - Z_RLE and Z_HUFFMAN_ONLY: distance-1 runs, and literals only.
//!
//! Greedy and lazy parsers end blocks by symbol statistics
//! ([`super::split`]); all parsers also end a block at
//! `SOFT_MAX_BLOCK_LENGTH` bytes or when the symbol buffer fills.
//!
//! Z_FILTERED is `min_len = 6`: shorter matches are treated as absent.
//!
//! A third kind of parser (the near-optimal one for levels 10-12) plugs in
//! as one more variant with the same `compress` signature; see
//! [`Parser::for_level`].

use super::near_optimal::NearOptimal;
use super::split::{SplitStats, MIN_BLOCK_LENGTH, SOFT_MAX_BLOCK_LENGTH};
use crate::lz77::hc::HcMatchfinder;
use crate::lz77::ht::HtMatchfinder;
use crate::lz77::{limit, match_len, Sequences};
use crate::tables::MAX_MATCH;

/// Symbols per block at most (a block of literals ends here).
pub const SEQ_CAPACITY: usize = 1 << 17;
/// Level 1 blocks end at this many input bytes.
const FAST_MAX_BLOCK_LENGTH: usize = 65_535;

/// Hash-chain search parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainParams {
    /// Chain candidates examined per search.
    pub depth: u32,
    /// Stop searching once a match this long is found.
    pub nice: usize,
    /// Shortest match taken (3; 6 for Z_FILTERED).
    pub min_len: usize,
}

/// The callback receiving finished blocks.
pub type Emit<'a> = dyn FnMut(&Sequences, usize, usize) + 'a;

/// A parser with its match finder and symbol buffer; see the module docs.
#[derive(Clone)]
pub enum Parser {
    Literals(Box<State<()>>),
    Rle(Box<State<()>>),
    Fastest(Box<State<HtMatchfinder>>, ChainParams),
    Greedy(Box<State<HcMatchfinder>>, ChainParams),
    Lazy(Box<State<HcMatchfinder>>, ChainParams),
    Lazy2(Box<State<HcMatchfinder>>, ChainParams),
    /// Levels 10-12: binary trees and a cost-model parse ([`super::near_optimal`]).
    NearOptimal(Box<NearOptimal>),
}

/// Match finder, symbol buffer and block statistics of one parser.
#[derive(Clone)]
pub struct State<M> {
    mf: M,
    seq: Sequences,
    stats: SplitStats,
}

impl<M> State<M> {
    fn new(mf: M) -> Box<Self> {
        Box::new(Self {
            mf,
            seq: Sequences::new(SEQ_CAPACITY),
            stats: SplitStats::default(),
        })
    }

    #[inline(always)]
    fn literal(&mut self, b: u8) {
        self.seq.literal(b);
        self.stats.literal(b);
    }

    #[inline(always)]
    fn matched(&mut self, len: usize, dist: usize) {
        self.seq.matched(len, dist);
        self.stats.matched(len);
    }

    /// Should the block `block_start..pos` end here (segment ends at `end`,
    /// block at `max_end` at the latest)?
    #[inline(always)]
    fn block_done(&mut self, block_start: usize, pos: usize, max_end: usize, end: usize) -> bool {
        pos >= max_end || self.seq.is_full() || self.stats.should_end(pos - block_start, end - pos)
    }

    #[inline(always)]
    fn emit(&mut self, emit: &mut Emit, block_start: usize, pos: usize) {
        emit(&self.seq, block_start, pos);
        self.seq.clear();
        self.stats.reset();
    }
}

/// Where a block starting at `block_start` ends at the latest: `soft_max`
/// bytes on, unless that would leave a tail shorter than a minimum block.
#[inline(always)]
fn max_block_end(block_start: usize, end: usize, soft_max: usize) -> usize {
    if end - block_start < soft_max + MIN_BLOCK_LENGTH {
        end
    } else {
        block_start + soft_max
    }
}

/// Shortest match worth taking given how many distinct literals are in use
/// (libdeflate's heuristic): with few distinct bytes literals are cheap and
/// short matches cost more than they save. Shallow searches are capped
/// lower, since they find fewer long matches to replace the short ones.
pub(super) fn choose_min_len(used_literals: usize, depth: u32) -> usize {
    #[rustfmt::skip]
    const MIN_LENS: [u8; 80] = [
        9, 9, 9, 9, 9, 9, 8, 8, 7, 7, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5,
        5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
        5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    ];
    let Some(&m) = MIN_LENS.get(used_literals) else {
        return 3;
    };
    let m = m as usize;
    match depth {
        0..=4 => m.min(4),
        5..=9 => m.min(5),
        10..=15 => m.min(7),
        _ => m,
    }
}

/// Minimum match length from the distinct bytes among the first 4 KiB of
/// `data` (3 for short data).
fn min_len_of_data(data: &[u8], depth: u32) -> usize {
    if data.len() < 512 {
        return 3;
    }
    choose_min_len(distinct_bytes(&data[..data.len().min(4096)]), depth)
}

/// How many different byte values `data` holds.
pub(super) fn distinct_bytes(data: &[u8]) -> usize {
    let mut used = [false; 256];
    for &b in data {
        used[b as usize] = true;
    }
    used.iter().filter(|&&u| u).count()
}

/// Minimum match length from the literals of the block so far: those used
/// more than once per 1024 literals count as in use.
fn min_len_of_block(seq: &Sequences, depth: u32) -> usize {
    let lits = &seq.litlen_freq[..256];
    let cutoff = lits.iter().sum::<u32>() >> 10;
    choose_min_len(lits.iter().filter(|&&f| f > cutoff).count(), depth)
}

/// Which parse a zlib strategy asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Default,
    Filtered,
    HuffmanOnly,
    Rle,
}

impl Parser {
    /// The parser for `level` (1..=12) and strategy.
    pub fn for_level(level: u32, kind: Kind) -> Parser {
        match kind {
            Kind::HuffmanOnly => return Parser::Literals(State::new(())),
            Kind::Rle => return Parser::Rle(State::new(())),
            Kind::Default | Kind::Filtered => {}
        }
        let min_len = if kind == Kind::Filtered { 6 } else { 3 };
        let p = |depth, nice| ChainParams {
            depth,
            nice,
            min_len,
        };
        let hc = || State::new(HcMatchfinder::new());
        match level {
            0 | 1 => Parser::Fastest(State::new(HtMatchfinder::new()), p(1, 32)),
            2 => Parser::Greedy(hc(), p(6, 10)),
            3 => Parser::Greedy(hc(), p(12, 14)),
            4 => Parser::Greedy(hc(), p(16, 30)),
            5 => Parser::Lazy(hc(), p(16, 30)),
            6 => Parser::Lazy(hc(), p(40, 65)),
            7 => Parser::Lazy(hc(), p(100, 130)),
            8 => Parser::Lazy2(hc(), p(300, MAX_MATCH)),
            9 => Parser::Lazy2(hc(), p(700, MAX_MATCH)),
            // Levels 10-12: the near-optimal parser, except under
            // Z_FILTERED, whose minimum match length it does not model.
            10..=12 if kind == Kind::Default => {
                Parser::NearOptimal(Box::new(NearOptimal::new(level)))
            }
            10 => Parser::Lazy2(hc(), p(1500, MAX_MATCH)),
            11 => Parser::Lazy2(hc(), p(3000, MAX_MATCH)),
            _ => Parser::Lazy2(hc(), p(8192, MAX_MATCH)),
        }
    }

    /// Compress `buf[start..end]` with `buf[hist..start]` as history and
    /// matches no farther than `max_dist`, handing each finished block to
    /// `emit`. The last block emitted ends at `end`; nothing is emitted if
    /// `start == end`.
    pub fn compress(
        &mut self,
        buf: &[u8],
        hist: usize,
        start: usize,
        end: usize,
        max_dist: usize,
        emit: &mut Emit,
    ) {
        assert!(hist <= start && start <= end && end <= buf.len());
        if start == end {
            return;
        }
        match self {
            Parser::Literals(st) => literals(st, buf, start, end, emit),
            Parser::Rle(st) => rle(st, buf, hist, start, end, emit),
            Parser::Fastest(st, p) => fastest(st, p, buf, hist, start, end, max_dist, emit),
            Parser::Greedy(st, p) => greedy(st, p, buf, hist, start, end, max_dist, emit),
            Parser::Lazy(st, p) => lazy::<false>(st, p, buf, hist, start, end, max_dist, emit),
            Parser::Lazy2(st, p) => lazy::<true>(st, p, buf, hist, start, end, max_dist, emit),
            Parser::NearOptimal(n) => n.compress(buf, hist, start, end, max_dist, emit),
        }
    }
}

fn literals(st: &mut State<()>, buf: &[u8], start: usize, end: usize, emit: &mut Emit) {
    let mut pos = start;
    let mut block_start = start;
    st.stats.reset();
    while pos < end {
        let max_end = max_block_end(block_start, end, SOFT_MAX_BLOCK_LENGTH);
        loop {
            st.literal(buf[pos]);
            pos += 1;
            if st.block_done(block_start, pos, max_end, end) {
                break;
            }
        }
        st.emit(emit, block_start, pos);
        block_start = pos;
    }
}

fn rle(st: &mut State<()>, buf: &[u8], hist: usize, start: usize, end: usize, emit: &mut Emit) {
    let mut pos = start;
    let mut block_start = start;
    st.stats.reset();
    while pos < end {
        let max_end = max_block_end(block_start, end, SOFT_MAX_BLOCK_LENGTH);
        loop {
            let max_len = (end - pos).min(MAX_MATCH);
            let len = if pos > hist && max_len >= 3 {
                match_len(buf, pos - 1, pos, max_len)
            } else {
                0
            };
            if len >= 3 {
                st.matched(len, 1);
                pos += len;
            } else {
                st.literal(buf[pos]);
                pos += 1;
            }
            if st.block_done(block_start, pos, max_end, end) {
                break;
            }
        }
        st.emit(emit, block_start, pos);
        block_start = pos;
    }
}

#[allow(clippy::too_many_arguments)]
fn fastest(
    st: &mut State<HtMatchfinder>,
    p: &ChainParams,
    buf: &[u8],
    hist: usize,
    start: usize,
    end: usize,
    max_dist: usize,
    emit: &mut Emit,
) {
    st.mf.reset();
    st.mf.skip(buf, hist, start, end);
    let min_len = p.min_len.max(4);
    let mut pos = start;
    let mut block_start = start;
    while pos < end {
        let block_end = max_block_end(block_start, end, FAST_MAX_BLOCK_LENGTH);
        while pos < block_end {
            let remaining = end - pos;
            if remaining >= 4 {
                let max_len = remaining.min(MAX_MATCH);
                let nice = p.nice.min(max_len);
                let (len, dist) =
                    st.mf
                        .longest_match(buf, pos, limit(pos, hist, max_dist), max_len, nice);
                if len >= min_len {
                    st.seq.matched(len, dist);
                    st.mf.skip(buf, pos + 1, pos + len, end);
                    pos += len;
                    continue;
                }
            }
            st.seq.literal(buf[pos]);
            pos += 1;
        }
        emit(&st.seq, block_start, pos);
        st.seq.clear();
        block_start = pos;
    }
}

#[allow(clippy::too_many_arguments)]
fn greedy(
    st: &mut State<HcMatchfinder>,
    p: &ChainParams,
    buf: &[u8],
    hist: usize,
    start: usize,
    end: usize,
    max_dist: usize,
    emit: &mut Emit,
) {
    st.mf.reset();
    st.mf.skip(buf, hist, start, end);
    st.stats.reset();
    let mut pos = start;
    let mut block_start = start;
    while pos < end {
        let max_end = max_block_end(block_start, end, SOFT_MAX_BLOCK_LENGTH);
        let min_len = p.min_len.max(min_len_of_data(&buf[pos..max_end], p.depth));
        loop {
            let remaining = end - pos;
            let mut took = false;
            if remaining >= 4 {
                let max_len = remaining.min(MAX_MATCH);
                let nice = p.nice.min(max_len);
                let (len, dist) = st.mf.longest_match(
                    buf,
                    pos,
                    limit(pos, hist, max_dist),
                    min_len - 1,
                    max_len,
                    nice,
                    p.depth,
                );
                if len >= min_len && (len > 3 || dist <= 4096) {
                    st.matched(len, dist);
                    st.mf.skip(buf, pos + 1, pos + len, end);
                    pos += len;
                    took = true;
                }
            }
            if !took {
                st.literal(buf[pos]);
                pos += 1;
            }
            if st.block_done(block_start, pos, max_end, end) {
                break;
            }
        }
        st.emit(emit, block_start, pos);
        block_start = pos;
    }
}

/// floor(log2(d)) for d >= 1: the offset's extra-bits class, roughly.
#[inline(always)]
fn log2(d: usize) -> i32 {
    (usize::BITS - 1 - d.leading_zeros()) as i32
}

/// Lazy (`LAZY2 = false`) and lazy2 parsers, after libdeflate's
/// `deflate_compress_lazy_generic`. Invariant at the top of the inner
/// `loop`: a match `(cur_len, cur_dist)` starts at `pos - 1`, and every
/// position before `pos` has been inserted into the match finder.
#[allow(clippy::too_many_arguments)]
fn lazy<const LAZY2: bool>(
    st: &mut State<HcMatchfinder>,
    p: &ChainParams,
    buf: &[u8],
    hist: usize,
    start: usize,
    end: usize,
    max_dist: usize,
    emit: &mut Emit,
) {
    st.mf.reset();
    st.mf.skip(buf, hist, start, end);
    st.stats.reset();
    let mut pos = start;
    let mut block_start = start;
    while pos < end {
        let max_end = max_block_end(block_start, end, SOFT_MAX_BLOCK_LENGTH);
        let mut min_len = p.min_len.max(min_len_of_data(&buf[pos..max_end], p.depth));
        let mut next_recalc = pos + (end - pos).min(10_000);
        loop {
            if pos >= next_recalc {
                min_len = p.min_len.max(min_len_of_block(&st.seq, p.depth));
                next_recalc += (end - next_recalc).min(pos - block_start);
            }
            lazy_step::<LAZY2>(st, p, min_len, buf, hist, &mut pos, end, max_dist);
            if st.block_done(block_start, pos, max_end, end) {
                break;
            }
        }
        st.emit(emit, block_start, pos);
        block_start = pos;
    }
}

/// One literal, or one match with the literals the lazy evaluation put
/// before it.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn lazy_step<const LAZY2: bool>(
    st: &mut State<HcMatchfinder>,
    p: &ChainParams,
    min_len: usize,
    buf: &[u8],
    hist: usize,
    pos_ref: &mut usize,
    end: usize,
    max_dist: usize,
) {
    let mut pos = *pos_ref;
    let remaining = end - pos;
    if remaining < 4 {
        st.literal(buf[pos]);
        *pos_ref = pos + 1;
        return;
    }
    let max_len = remaining.min(MAX_MATCH);
    let mut nice = p.nice.min(max_len);
    let (mut cur_len, mut cur_dist) = st.mf.longest_match(
        buf,
        pos,
        limit(pos, hist, max_dist),
        min_len - 1,
        max_len,
        nice,
        p.depth,
    );
    if cur_len < min_len || (cur_len == 3 && cur_dist > 8192) {
        st.literal(buf[pos]);
        *pos_ref = pos + 1;
        return;
    }
    pos += 1;
    loop {
        // The match (cur_len, cur_dist) starts at pos - 1.
        let remaining = end - pos;
        if cur_len >= nice || remaining < 4 {
            st.matched(cur_len, cur_dist);
            st.mf.skip(buf, pos, pos - 1 + cur_len, end);
            *pos_ref = pos - 1 + cur_len;
            return;
        }
        let max_len = remaining.min(MAX_MATCH);
        nice = p.nice.min(max_len);
        let (next_len, next_dist) = st.mf.longest_match(
            buf,
            pos,
            limit(pos, hist, max_dist),
            cur_len - 1,
            max_len,
            nice,
            p.depth >> 1,
        );
        pos += 1;
        if next_len >= cur_len
            && 4 * (next_len - cur_len) as i32 + (log2(cur_dist) - log2(next_dist)) > 2
        {
            // A better match one position later: literal, then that one.
            st.literal(buf[pos - 2]);
            cur_len = next_len;
            cur_dist = next_dist;
            continue;
        }
        // The match (cur_len, cur_dist) starts at pos - 2.
        if !LAZY2 || end - pos < 4 {
            st.matched(cur_len, cur_dist);
            st.mf.skip(buf, pos, pos - 2 + cur_len, end);
            *pos_ref = pos - 2 + cur_len;
            return;
        }
        let max_len = (end - pos).min(MAX_MATCH);
        nice = p.nice.min(max_len);
        let (next_len, next_dist) = st.mf.longest_match(
            buf,
            pos,
            limit(pos, hist, max_dist),
            cur_len - 1,
            max_len,
            nice,
            p.depth >> 2,
        );
        pos += 1;
        if next_len >= cur_len
            && 4 * (next_len - cur_len) as i32 + (log2(cur_dist) - log2(next_dist)) > 6
        {
            // A much better match two positions later: two literals.
            st.literal(buf[pos - 3]);
            st.literal(buf[pos - 2]);
            cur_len = next_len;
            cur_dist = next_dist;
            continue;
        }
        // The match starts at pos - 3.
        st.matched(cur_len, cur_dist);
        st.mf.skip(buf, pos, pos - 3 + cur_len, end);
        *pos_ref = pos - 3 + cur_len;
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_parsers() -> Vec<Parser> {
        let mut v: Vec<Parser> = (1..=12)
            .map(|l| Parser::for_level(l, Kind::Default))
            .collect();
        for kind in [Kind::Filtered, Kind::HuffmanOnly, Kind::Rle] {
            v.push(Parser::for_level(1, kind));
            v.push(Parser::for_level(6, kind));
        }
        v
    }

    /// Run `parser` over `buf[start..end]` and replay its blocks on top of
    /// the history, checking every invariant of `compress`.
    fn replay(
        parser: &mut Parser,
        buf: &[u8],
        hist: usize,
        start: usize,
        max_dist: usize,
    ) -> Vec<u8> {
        let end = buf.len();
        let mut out = buf[hist..start].to_vec();
        let mut next_block = start;
        let mut emit = |seq: &Sequences, bs: usize, be: usize| {
            assert_eq!(bs, next_block, "blocks must be contiguous");
            assert!(be > bs && be <= end);
            assert_eq!(seq.raw_len, be - bs);
            next_block = be;
            for &it in &seq.items {
                let dist = (it >> 16) as usize;
                let len = (it & 0xFFFF) as usize;
                if dist == 0 {
                    out.push(len as u8);
                } else {
                    assert!((3..=258).contains(&len));
                    assert!(dist <= max_dist.min(WSIZE_TEST - 1), "distance {dist}");
                    assert!(dist <= out.len(), "match reaches before the history");
                    for _ in 0..len {
                        out.push(out[out.len() - dist]);
                    }
                }
            }
        };
        parser.compress(buf, hist, start, end, max_dist, &mut emit);
        assert_eq!(next_block, if start == end { start } else { end });
        out.split_off(start - hist)
    }

    const WSIZE_TEST: usize = crate::lz77::WSIZE;

    fn data_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..3000),
            prop::collection::vec(0u8..3, 0..100_000),
            (prop::collection::vec(any::<u8>(), 1..50), 1usize..5000).prop_map(|(p, n)| p
                .iter()
                .cycle()
                .take(n * p.len() / 3 + 1)
                .copied()
                .collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn parsers_reproduce_the_segment(data in data_strategy(), pre in 0usize..3, h in 0usize..40_000, s in 0usize..40_000, wbits in 9u32..=15) {
            // Bytes before `hist` exist in the slice but must never be used.
            let n = data.len();
            let hist = pre.min(n);
            let start = (hist + h.min(s)).min(n);
            let max_dist = 1usize << wbits;
            for mut p in all_parsers() {
                let got = replay(&mut p, &data, hist, start, max_dist);
                prop_assert!(got == data[start..], "parser output differs");
            }
        }
    }

    #[test]
    fn long_matches_and_repeated_segments() {
        let data: Vec<u8> = b"abcdefghij"
            .iter()
            .cycle()
            .take(300_000)
            .copied()
            .collect();
        for mut p in all_parsers() {
            // The same parser twice: state from the first call must not leak.
            assert_eq!(replay(&mut p, &data, 0, 0, 32768), data);
            assert_eq!(replay(&mut p, &data, 1000, 50_000, 32768), &data[50_000..]);
        }
        let mut p = Parser::for_level(6, Kind::Default);
        let mut items = 0;
        p.compress(
            &data,
            0,
            0,
            data.len(),
            32768,
            &mut |seq: &Sequences, _, _| items += seq.len(),
        );
        assert!(items < 300_000 / 258 + 50, "{items} items");
    }

    #[test]
    fn blocks_split_where_the_data_changes() {
        // Text, then random bytes, then text: a block boundary soon after
        // each change (random bytes also end blocks by filling the symbol
        // buffer, so the second change is allowed more slack).
        let text: Vec<u8> = (0..150_000u32)
            .map(|i| b"lorem ipsum dolor "[(i % 18) as usize] ^ ((i / 997 % 3) as u8))
            .collect();
        let mut x = 99u32;
        let random: Vec<u8> = (0..150_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let data = [text.clone(), random, text].concat();
        let mut cuts = Vec::new();
        let mut p = Parser::for_level(6, Kind::Default);
        p.compress(
            &data,
            0,
            0,
            data.len(),
            32768,
            &mut |_: &Sequences, _, be| cuts.push(be),
        );
        assert!(
            cuts.iter().any(|&c| (150_000..170_000).contains(&c)),
            "{cuts:?}"
        );
        assert!(
            cuts.iter().any(|&c| (300_000..350_000).contains(&c)),
            "{cuts:?}"
        );
    }
}
