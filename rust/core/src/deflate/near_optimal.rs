//! Near-optimal parsing for DEFLATE levels 10-12 (libdeflate's scheme,
//! rewritten): find every useful match at every position, then choose the
//! literal/match sequence of least cost under a model of the block's
//! Huffman code, re-fit the model to the choice, and choose again.
//!
//! Per block:
//! 1. Match finding. The binary-tree finder ([`super::bt_matchfinder`])
//!    reports, at each position, matches of strictly increasing length
//!    (the nearest one for each length it saw). They go into a cache:
//!    `counts[i]` matches for position `block_begin + i`, stored in order in
//!    `matches`. After a match of `nice` bytes the next `len - 1`
//!    positions are only inserted into the tree, with no matches cached:
//!    on very redundant data this bounds the work, and costs almost
//!    nothing (the data is compressing extremely well anyway).
//! 2. Block boundaries. While scanning, a greedy reading of the matches
//!    (longest match of 4 bytes or more, 3 on data that uses nearly every
//!    byte value; else a literal) feeds libdeflate's block-split
//!    statistics: every 512 observations the distribution of the newest
//!    ones (literal classes by top bits / low bit, short / long matches) is
//!    compared with the block's; when they differ enough the block ends.
//!    It ends at the *previous* check point, not here, so the chunk that
//!    looked different starts the next block; its cached matches are kept.
//!    Blocks are at least `MIN_BLOCK` bytes (except the last) and end
//!    after about `SOFT_MAX_BLOCK` bytes or when the cache is full.
//! 3. Minimum-cost path. Going backwards over the block,
//!    `cost[i] = min(lit_cost[b_i] + cost[i + 1],
//!    min over cached (len, dist) and 3 <= l <= len of
//!    len_cost[l] + off_cost[slot(dist)] + cost[i + l])`, using for each
//!    length the nearest match that reaches it. Matches are cut at the
//!    block end. Costs are in 1/16 bit.
//! 4. Iteration. The path's symbol counts give the length-limited Huffman
//!    code that the block writer will build; its code lengths become the
//!    next costs (unused symbols get a high default so they can still be
//!    chosen). Each pass's exact symbol cost (code lengths times counts,
//!    plus extra bits) is measured and the cheapest path is kept; passes
//!    stop when they no longer gain `min_gain` bits. An all-literal
//!    block is also costed and wins when cheaper.
//! 5. Initial costs. For the first block: libdeflate's flat costs per
//!    alphabet (literal: `log2` of the number of non-rare byte values plus
//!    a share term; length symbol: 5.25-6.8 bits; distance slot: 4.9 bits),
//!    plus extra bits, the shares chosen by how common matches are in a
//!    greedy reading of the cache. Later blocks start halfway between the
//!    previous block's final costs and these.
//! 6. Joining blocks. A block is not emitted at once: when the next one is
//!    chosen, the exact size (header included) of one block holding both
//!    parses is compared with the two blocks' sizes, and the cheaper is
//!    kept, so a boundary that the statistics placed badly costs nothing.
//!    Joined blocks may join the next one too, up to `MAX_JOINED` bytes;
//!    the last is emitted at the end of the range.
//!
//! Invariants: every match distance is `<= min(max_dist, 32767)` and never
//! reaches before `hist`; the blocks handed to `emit` cover `[start, end)`
//! exactly, in order, each as one [`Sequences`] with `raw_len` equal to its
//! length; no byte at or after `end` is read.
//!
//! Memory: the finder's tables (about 0.9 MiB), the match cache (at most
//! `CACHE_CAP` entries, 4 bytes each, plus 2 bytes per position), the
//! path nodes (8 bytes per position of one block) and the pending block's
//! items (at most 4 bytes per byte of `MAX_JOINED`), whatever the input
//! size.

use super::block::{block_bits, block_freqs};
use super::bt_matchfinder::{BtMatchFinder, MAX_DIST as BT_MAX_DIST, MIN_LOOKAHEAD, WINDOW};
use super::parse::{choose_min_len, distinct_bytes};
use crate::huffman::build::lengths_from_freqs;
use crate::lz77::seq::{dist_sym, LEN_SYM};
use crate::lz77::Sequences;
use crate::tables::{DIST_EXTRA, END_OF_BLOCK, LENGTH_EXTRA};

/// Cost units per bit.
const BIT: u32 = 16;
const MIN_BLOCK: usize = 10_000;
const SOFT_MAX_BLOCK: usize = 300_000;
/// Blocks stop joining (module docs, step 6) at this many input bytes,
/// which bounds the pending block's items.
const MAX_JOINED: usize = 1 << 20;
/// Cached matches per block before the block is forced to end.
const CACHE_CAP: usize = SOFT_MAX_BLOCK * 5;
const OBS_PER_CHECK: u32 = 512;
/// Positions per match-finder segment (stamps must fit a `u32`).
const SEGMENT: usize = 1 << 30;
/// Assumed code lengths of symbols the previous pass did not use.
const NOSTAT_LIT: u32 = 13;
const NOSTAT_LEN: u32 = 13;
const NOSTAT_OFF: u32 = 10;
/// `item` of a path node: `dist << ITEM_SHIFT | len` (len 1 = literal).
const ITEM_SHIFT: u32 = 9;
const ITEM_LEN: u32 = (1 << ITEM_SHIFT) - 1;

#[derive(Clone, Copy, Debug)]
struct Params {
    depth: u32,
    nice: usize,
    passes: u32,
    /// Stop iterating when a pass gains fewer bits than this (or than
    /// 1/1024 bit per byte of the block, whichever is more).
    min_gain: u64,
}

impl Params {
    fn for_level(level: u32) -> Self {
        match level {
            ..=10 => Params {
                depth: 35,
                nice: 75,
                passes: 2,
                min_gain: 32,
            },
            11 => Params {
                depth: 100,
                nice: 150,
                passes: 4,
                min_gain: 16,
            },
            // libdeflate uses depth 300 here; on Silesia, 150 (and even 80)
            // gave the same ratio to four digits, faster.
            _ => Params {
                depth: 150,
                nice: 258,
                passes: 10,
                min_gain: 1,
            },
        }
    }
}

#[derive(Clone)]
struct Costs {
    lit: [u32; 256],
    /// Length symbol plus extra bits, per length.
    len: [u32; 259],
    /// Distance symbol plus extra bits, per distance slot.
    off: [u32; 30],
}

impl Costs {
    fn from_lens(lit_lens: &[u8], dist_lens: &[u8]) -> Self {
        let or = |l: u8, d: u32| if l == 0 { d } else { l as u32 };
        let mut c = Costs {
            lit: [0; 256],
            len: [0; 259],
            off: [0; 30],
        };
        for (b, v) in c.lit.iter_mut().enumerate() {
            *v = or(lit_lens[b], NOSTAT_LIT) * BIT;
        }
        for (v, &s) in c.len.iter_mut().zip(&LEN_SYM).skip(3) {
            let s = s as usize;
            *v = (or(lit_lens[257 + s], NOSTAT_LEN) + LENGTH_EXTRA[s] as u32) * BIT;
        }
        for (s, v) in c.off.iter_mut().enumerate() {
            *v = (or(dist_lens[s], NOSTAT_OFF) + DIST_EXTRA[s] as u32) * BIT;
        }
        c
    }

    /// Move halfway towards `to`.
    fn blend(&mut self, to: &Costs) {
        let mix = |a: &mut u32, b: u32| *a = (*a + b) / 2;
        for (a, &b) in self.lit.iter_mut().zip(&to.lit) {
            mix(a, b);
        }
        for (a, &b) in self.len.iter_mut().zip(&to.len) {
            mix(a, b);
        }
        for (a, &b) in self.off.iter_mut().zip(&to.off) {
            mix(a, b);
        }
    }
}

/// Shortest match that counts as a match (not a literal) in the block-split
/// statistics of a block starting with `head`: 3 when `head` uses nearly
/// every byte value (noisy binary data, where 3-byte matches are common and
/// counting them keeps the statistics steady, so blocks stay long: 19
/// instead of 243 blocks in the first 3 MB of Silesia's x-ray, 0.4 %
/// smaller), else 4. Measured against libdeflate's choice (3 from 113
/// distinct bytes up), which cut blocks worse on text and on mr.
fn observed_min_len(head: &[u8]) -> usize {
    if distinct_bytes(head) >= 240 {
        3
    } else {
        4
    }
}

/// libdeflate's block-split statistics (see the module docs).
#[derive(Clone, Default)]
struct SplitStats {
    new_obs: [u32; 10],
    obs: [u32; 10],
    num_new: u32,
    num: u32,
}

impl SplitStats {
    #[inline(always)]
    fn literal(&mut self, b: u8) {
        self.new_obs[(((b >> 5) & 6) | (b & 1)) as usize] += 1;
        self.num_new += 1;
    }

    #[inline(always)]
    fn matched(&mut self, len: usize) {
        self.new_obs[8 + (len >= 9) as usize] += 1;
        self.num_new += 1;
    }

    /// True if the newest observations differ enough from the block's to
    /// end it; otherwise merges them into the block's.
    fn should_end(&mut self, block_len: usize) -> bool {
        if self.num > 0 {
            let mut delta = 0u64;
            for i in 0..10 {
                let expected = self.obs[i] as u64 * self.num_new as u64;
                let actual = self.new_obs[i] as u64 * self.num as u64;
                delta += expected.abs_diff(actual);
            }
            let num = self.num as u64;
            if delta + (block_len as u64 / 4096) * num >= 200 * num {
                return true;
            }
        }
        for i in 0..10 {
            self.obs[i] += self.new_obs[i];
            self.new_obs[i] = 0;
        }
        self.num += self.num_new;
        self.num_new = 0;
        false
    }

    /// A new block starting with the observations not yet merged.
    fn restart_with_new(&mut self) {
        self.obs = [0; 10];
        self.num = 0;
    }
}

#[derive(Clone)]
pub struct NearOptimal {
    params: Params,
    mf: BtMatchFinder,
    /// Matches per pending position (from `block_begin`).
    counts: Vec<u16>,
    /// `dist << 16 | len`, position by position, lengths increasing.
    matches: Vec<u32>,
    /// Per position of the block (and one past its end): least cost to the
    /// block end, and the first item of that path.
    cost: Vec<u32>,
    item: Vec<u32>,
    costs: Costs,
    /// `costs` holds the previous block's final model.
    have_costs: bool,
    seq: Sequences,
    /// The last block chosen, not emitted yet: the next one may join it.
    /// Its start in the buffer and its exact size in bits.
    pending: Sequences,
    pending_start: usize,
    pending_bits: u64,
    split: SplitStats,
}

impl NearOptimal {
    /// `level` in 10..=12 (lower values act as 10, higher as 12).
    pub fn new(level: u32) -> Self {
        Self {
            params: Params::for_level(level),
            mf: BtMatchFinder::new(),
            counts: Vec::new(),
            matches: Vec::new(),
            cost: Vec::new(),
            item: Vec::new(),
            costs: Costs::from_lens(&[8; 286], &[5; 30]),
            have_costs: false,
            seq: Sequences::new(SOFT_MAX_BLOCK + 512),
            pending: Sequences::new(SOFT_MAX_BLOCK + 512),
            pending_start: 0,
            pending_bits: 0,
            split: SplitStats::default(),
        }
    }

    /// Parse `buf[start..end]`; `buf[hist..start]` is history that matches
    /// may refer to (only its last 32768 bytes are used); no match distance exceeds
    /// `max_dist` (512..=32768) nor reaches before `hist`. Chooses block
    /// boundaries and calls `emit(&seq, block_start, block_end)` for each
    /// block in order, `seq` covering exactly `buf[block_start..block_end]`.
    /// An empty range emits nothing. No byte at or after `end` is read.
    pub fn compress(
        &mut self,
        buf: &[u8],
        hist: usize,
        start: usize,
        end: usize,
        max_dist: usize,
        emit: &mut dyn FnMut(&Sequences, usize, usize),
    ) {
        assert!(hist <= start && start <= end && end <= buf.len());
        assert!((512..=32768).contains(&max_dist), "max_dist {max_dist}");
        // History beyond the window can never be matched: ignore it.
        let hist = hist.max(start.saturating_sub(WINDOW));
        let maxd = max_dist.min(BT_MAX_DIST);
        let p = self.params;
        let mut seg_start = start;
        while seg_start < end {
            let seg_end = end.min(seg_start + SEGMENT);
            let seg_hist = hist.max(seg_start.saturating_sub(WINDOW));
            self.mf.begin(seg_hist, seg_end - seg_hist);
            for pos in seg_hist..seg_start {
                if seg_end - pos >= MIN_LOOKAHEAD {
                    let lowest = seg_hist.max(pos.saturating_sub(maxd));
                    self.mf.skip(buf, pos, seg_end, lowest, p.nice, p.depth);
                }
            }
            self.parse_segment(buf, seg_hist, seg_start, seg_end, maxd, emit);
            seg_start = seg_end;
        }
    }

    /// Blocks over `[start, end)`; the finder holds `hist..start`.
    fn parse_segment(
        &mut self,
        buf: &[u8],
        hist: usize,
        start: usize,
        end: usize,
        maxd: usize,
        emit: &mut dyn FnMut(&Sequences, usize, usize),
    ) {
        let p = self.params;
        self.counts.clear();
        self.matches.clear();
        self.split = SplitStats::default();
        let mut block_begin = start;
        // Next position to search; positions block_begin..pos are cached.
        let mut pos = start;
        let mut next_obs = start;
        while block_begin < end {
            // (position, cached positions, cached matches) at the last
            // split check that did not end the block.
            let mut prev_check: Option<(usize, usize, usize)> = None;
            let obs_min_len = observed_min_len(&buf[block_begin..end.min(block_begin + 4096)]);
            let (block_end, n_matches) = loop {
                if pos >= end
                    || pos - block_begin >= SOFT_MAX_BLOCK
                    || self.matches.len() >= CACHE_CAP
                {
                    break (pos, self.matches.len());
                }
                if self.split.num_new >= OBS_PER_CHECK
                    && pos - block_begin >= MIN_BLOCK
                    && end - pos >= MIN_BLOCK
                {
                    if self.split.should_end(pos - block_begin) {
                        match prev_check {
                            Some((at, _, m)) => {
                                self.split.restart_with_new();
                                break (at, m);
                            }
                            None => {
                                self.split = SplitStats::default();
                                break (pos, self.matches.len());
                            }
                        }
                    }
                    prev_check = Some((pos, self.counts.len(), self.matches.len()));
                }
                let before = self.matches.len();
                let best = if end - pos >= MIN_LOOKAHEAD {
                    let lowest = hist.max(pos.saturating_sub(maxd));
                    self.mf
                        .get_matches(buf, pos, end, lowest, p.nice, p.depth, &mut self.matches)
                } else {
                    0
                };
                self.counts.push((self.matches.len() - before) as u16);
                if pos >= next_obs {
                    if best >= obs_min_len {
                        self.split.matched(best);
                        next_obs = pos + best;
                    } else {
                        self.split.literal(buf[pos]);
                        next_obs = pos + 1;
                    }
                }
                let nice = p.nice.min(end - pos);
                pos += 1;
                if best >= 3 && best >= nice {
                    for _ in 1..best {
                        if end - pos >= MIN_LOOKAHEAD {
                            let lowest = hist.max(pos.saturating_sub(maxd));
                            self.mf.skip(buf, pos, end, lowest, p.nice, p.depth);
                        }
                        self.counts.push(0);
                        pos += 1;
                    }
                }
            };
            let n = block_end - block_begin;
            self.optimize_block(buf, block_begin, n, n_matches);
            self.join_or_emit(block_begin, emit);
            self.counts.drain(..n);
            self.matches.drain(..n_matches);
            block_begin = block_end;
        }
        if !self.pending.is_empty() {
            let ps = self.pending_start;
            emit(&self.pending, ps, ps + self.pending.raw_len);
            self.pending.clear();
        }
        debug_assert!(self.counts.is_empty() && self.matches.is_empty());
    }

    /// The block just chosen (`self.seq`, starting at `start`) joins the
    /// pending block if one block for both costs no more, exactly (header
    /// included), than two; otherwise the pending block is emitted and this
    /// one becomes pending. Both parses are kept as they are.
    fn join_or_emit(&mut self, start: usize, emit: &mut dyn FnMut(&Sequences, usize, usize)) {
        let (lf, df) = block_freqs(&self.seq);
        let seq_bits = block_bits(&lf, &df, self.seq.raw_len);
        if !self.pending.is_empty() {
            let (mut jl, mut jd) = block_freqs(&self.pending);
            for (a, &b) in jl.iter_mut().zip(&lf) {
                *a += b;
            }
            // One end-of-block symbol for the joined block.
            jl[END_OF_BLOCK] = 1;
            for (a, &b) in jd.iter_mut().zip(&df) {
                *a += b;
            }
            let joined_len = self.pending.raw_len + self.seq.raw_len;
            let joined = block_bits(&jl, &jd, joined_len);
            if joined <= self.pending_bits + seq_bits && joined_len <= MAX_JOINED {
                let p = &mut self.pending;
                p.items.extend_from_slice(&self.seq.items);
                p.litlen_freq[..286].copy_from_slice(&jl);
                p.litlen_freq[END_OF_BLOCK] = 0;
                p.dist_freq = jd;
                p.raw_len += self.seq.raw_len;
                self.pending_bits = joined;
                return;
            }
            let ps = self.pending_start;
            emit(&self.pending, ps, ps + self.pending.raw_len);
        }
        std::mem::swap(&mut self.pending, &mut self.seq);
        self.pending_start = start;
        self.pending_bits = seq_bits;
    }

    /// Choose the parse of `buf[bb..bb + n]` from the first `n` cached
    /// positions and `m` cached matches; leaves it in `self.seq`.
    fn optimize_block(&mut self, buf: &[u8], bb: usize, n: usize, m: usize) {
        let block = &buf[bb..bb + n];
        let mut byte_freq = [0u32; 256];
        for &b in block {
            byte_freq[b as usize] += 1;
        }
        let initial = self.initial_costs(&byte_freq, n);
        if self.have_costs {
            self.costs.blend(&initial);
        } else {
            self.costs = initial;
        }
        self.have_costs = true;

        // All literals, for comparison.
        let lit_only_bits = {
            let mut lf = [0u32; 286];
            lf[..256].copy_from_slice(&byte_freq);
            lf[END_OF_BLOCK] = 1;
            let lens = lengths_from_freqs(&lf, 15);
            lf.iter()
                .zip(&lens)
                .map(|(&f, &l)| f as u64 * l as u64)
                .sum::<u64>()
        };

        let min_gain = self.params.min_gain.max(n as u64 >> 10);
        let mut best_bits = u64::MAX;
        for _ in 0..self.params.passes {
            self.min_cost_path(block, n, m);
            let (lf, df) = self.tally(n);
            let lit_lens = lengths_from_freqs(&lf, 15);
            let dist_lens = lengths_from_freqs(&df, 15);
            let bits = symbol_bits(&lf, &df, &lit_lens, &dist_lens);
            self.costs = Costs::from_lens(&lit_lens, &dist_lens);
            let prev_best = best_bits;
            if bits < best_bits {
                best_bits = bits;
                self.path_to_seq(block, n);
            }
            if bits.saturating_add(min_gain) > prev_best {
                break;
            }
        }
        if lit_only_bits < best_bits {
            self.seq.clear();
            for &b in block {
                self.seq.literal(b);
            }
        }
        debug_assert_eq!(self.seq.raw_len, n);
    }

    /// Starting costs for a block (libdeflate's defaults): flat within
    /// each alphabet. A literal costs `log2(u)` bits plus 3/8, 1 or 2 bits,
    /// `u` the number of byte values that are not rare in the block, and a
    /// length symbol 6.8, 5.8 or 5.25 bits, as matches are rare (under a
    /// fifth of the items), common, or the majority in a greedy reading of
    /// the cache (longest match where one starts, if at least the lazy
    /// parsers' minimum length for `u`); a distance slot 4.9 bits; plus the
    /// extra bits. (The earlier `-log2` estimate of these shares made
    /// matches cheaper at first and the passes settled on fewer of them:
    /// 0.17 % larger on Silesia's x-ray at level 12.)
    fn initial_costs(&self, byte_freq: &[u32; 256], n: usize) -> Costs {
        let used = byte_freq
            .iter()
            .filter(|&&f| f as usize > n >> 11)
            .count()
            .max(1);
        let min_len = choose_min_len(used, self.params.depth);
        let (mut lits, mut nmatch) = (0u64, 0u64);
        let mut mi = 0usize;
        let mut next = 0usize;
        for i in 0..n {
            let k = self.counts[i] as usize;
            mi += k;
            if i < next {
                continue;
            }
            let longest = if k > 0 { self.matches[mi - 1] } else { 0 };
            let len = ((longest & 0xFFFF) as usize).min(n - i);
            if len >= min_len {
                nmatch += 1;
                next = i + len;
            } else {
                lits += 1;
                next = i + 1;
            }
        }
        let class = if nmatch > lits {
            2
        } else if nmatch * 4 > lits {
            1
        } else {
            0
        };
        let lit = ((used as f64).log2() * BIT as f64).round() as u32 + [6, 16, 32][class];
        let len_sym = [109, 93, 84][class];
        let mut c = Costs {
            lit: [lit; 256],
            len: [0; 259],
            off: [0; 30],
        };
        for l in 3..=258 {
            c.len[l] = len_sym + LENGTH_EXTRA[LEN_SYM[l] as usize] as u32 * BIT;
        }
        for (s, v) in c.off.iter_mut().enumerate() {
            *v = 78 + DIST_EXTRA[s] as u32 * BIT;
        }
        c
    }

    /// Backward pass: `cost[i]` = least cost from `i` to the block end,
    /// `item[i]` the first item of that path.
    fn min_cost_path(&mut self, block: &[u8], n: usize, m: usize) {
        self.cost.clear();
        self.cost.resize(n + 1, 0);
        self.item.clear();
        self.item.resize(n + 1, 0);
        let cost = &mut self.cost[..];
        let items = &mut self.item[..n];
        let counts = &self.counts[..n];
        let matches = &self.matches[..m];
        let costs = &self.costs;
        let mut mi = m;
        for i in (0..n).rev() {
            let lit = block[i];
            let mut best = costs.lit[lit as usize] + cost[i + 1];
            let mut item = (lit as u32) << ITEM_SHIFT | 1;
            let k = counts[i] as usize;
            if k > 0 {
                mi -= k;
                let room = n - i;
                let ahead = &cost[i..];
                let mut len = 3usize;
                for &mm in &matches[mi..mi + k] {
                    let mlen = (mm & 0xFFFF) as usize;
                    let dist = mm >> 16;
                    let top = mlen.min(room);
                    if len > top {
                        break;
                    }
                    // Lengths len..=top all use this match's distance. Find
                    // the cheapest with a branch-free minimum first; only
                    // when it beats `best` look for where it is.
                    let lc = &costs.len[len..=top];
                    let ac = &ahead[len..=top];
                    let low = lc
                        .iter()
                        .zip(ac)
                        .map(|(&a, &b)| a + b)
                        .min()
                        .unwrap_or(u32::MAX);
                    let oc = costs.off[dist_sym(dist as usize)];
                    if oc + low < best {
                        best = oc + low;
                        let at = lc
                            .iter()
                            .zip(ac)
                            .position(|(&a, &b)| a + b == low)
                            .unwrap_or(0);
                        item = dist << ITEM_SHIFT | (len + at) as u32;
                    }
                    len = top + 1;
                    if top < mlen {
                        break;
                    }
                }
            }
            cost[i] = best;
            items[i] = item;
        }
        debug_assert_eq!(mi, 0);
    }

    /// Symbol counts of the current path (end-of-block included).
    fn tally(&self, n: usize) -> ([u32; 286], [u32; 30]) {
        let mut lf = [0u32; 286];
        let mut df = [0u32; 30];
        let mut i = 0;
        while i < n {
            let item = self.item[i];
            let len = (item & ITEM_LEN) as usize;
            if len == 1 {
                lf[(item >> ITEM_SHIFT) as usize] += 1;
            } else {
                lf[257 + LEN_SYM[len] as usize] += 1;
                df[dist_sym((item >> ITEM_SHIFT) as usize)] += 1;
            }
            i += len;
        }
        lf[END_OF_BLOCK] = 1;
        (lf, df)
    }

    fn path_to_seq(&mut self, block: &[u8], n: usize) {
        self.seq.clear();
        let mut i = 0;
        while i < n {
            let item = self.item[i];
            let len = (item & ITEM_LEN) as usize;
            if len == 1 {
                self.seq.literal(block[i]);
            } else {
                self.seq.matched(len, (item >> ITEM_SHIFT) as usize);
            }
            i += len;
        }
    }
}

/// Bits of a block's symbols (no header) under the given code lengths.
fn symbol_bits(lf: &[u32; 286], df: &[u32; 30], lit_lens: &[u8], dist_lens: &[u8]) -> u64 {
    let mut bits = 0u64;
    for (s, &f) in lf.iter().enumerate() {
        let extra = if s > 256 {
            LENGTH_EXTRA[s - 257] as u64
        } else {
            0
        };
        bits += f as u64 * (lit_lens[s] as u64 + extra);
    }
    for (s, &f) in df.iter().enumerate() {
        bits += f as u64 * (dist_lens[s] as u64 + DIST_EXTRA[s] as u64);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::super::block::{write_block, write_stored, BlockMode};
    use super::super::test_inflate::inflate;
    use super::*;
    use crate::bitio::BitWriter;
    use proptest::prelude::*;

    /// Compress `buf[start..end]` with `buf[hist..start]` as history; check
    /// the block cover and every match; returns the raw DEFLATE stream.
    fn compress_checked(
        no: &mut NearOptimal,
        buf: &[u8],
        hist: usize,
        start: usize,
        end: usize,
        max_dist: usize,
    ) -> Vec<u8> {
        let mut bw = BitWriter::new();
        let mut at = start;
        let mut blocks: Vec<(Sequences, usize, usize)> = Vec::new();
        no.compress(buf, hist, start, end, max_dist, &mut |seq, bs, be| {
            blocks.push((seq.clone(), bs, be));
        });
        for (i, (seq, bs, be)) in blocks.iter().enumerate() {
            assert_eq!(*bs, at, "blocks out of order");
            assert!(be > bs);
            assert_eq!(seq.raw_len, be - bs);
            // Every match is real, within max_dist and not before hist.
            let mut p = *bs;
            for &it in &seq.items {
                let d = (it >> 16) as usize;
                if d == 0 {
                    assert_eq!(buf[p], it as u8);
                    p += 1;
                } else {
                    let len = (it & 0xFFFF) as usize;
                    assert!(d <= max_dist && d <= p - hist, "dist {d} at {p}");
                    assert_eq!(buf[p - d..p - d + len], buf[p..p + len]);
                    p += len;
                }
            }
            assert_eq!(p, *be);
            write_block(
                &mut bw,
                seq,
                Some(&buf[*bs..*be]),
                i + 1 == blocks.len(),
                BlockMode::Best,
            );
            at = *be;
        }
        assert_eq!(at, end, "blocks do not reach the end");
        if blocks.is_empty() {
            write_stored(&mut bw, &[], true);
        }
        bw.align_to_byte();
        bw.detach()
    }

    fn round_trip(level: u32, buf: &[u8], hist: usize, start: usize, end: usize, max_dist: usize) {
        let mut no = NearOptimal::new(level);
        let stream = compress_checked(&mut no, buf, hist, start, end, max_dist);
        let d = inflate(&stream, &buf[hist..start], max_dist).expect("inflate");
        assert!(d.data == buf[start..end], "level {level}: data differs");
        assert_eq!(d.consumed, stream.len());
    }

    // The encoder's mixed test data (text, runs, random, far repeats).
    use super::super::tests::sample;

    fn random(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn varied_data_round_trips_at_every_level() {
        let text = sample(400_000, 5);
        let rnd = random(70_000, 3);
        let runs: Vec<u8> = (0..200_000).map(|i| (i / 1000) as u8).collect();
        let zeros = vec![0u8; 100_000];
        let mut mixed = text[..50_000].to_vec();
        mixed.extend_from_slice(&rnd);
        mixed.extend_from_slice(&text[..50_000]);
        for level in 10..=12 {
            for data in [&text, &rnd, &runs, &zeros, &mixed] {
                round_trip(level, data, 0, 0, data.len(), 32768);
            }
        }
    }

    #[test]
    fn tiny_and_empty_inputs() {
        let data = sample(300, 1);
        for n in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 17, 258, 259, 300] {
            round_trip(12, &data, 0, 0, n, 32768);
        }
        // Empty range after history: nothing is emitted.
        let mut no = NearOptimal::new(10);
        let mut called = false;
        no.compress(&data, 0, 100, 100, 32768, &mut |_, _, _| called = true);
        assert!(!called);
    }

    #[test]
    fn history_is_used_and_respected() {
        let text = sample(50_000, 11);
        let mut buf = text[10_000..30_000].to_vec();
        buf.extend_from_slice(&text[10_000..30_000]);
        // Data identical to the history: it should cost almost nothing.
        let mut no = NearOptimal::new(12);
        let stream = compress_checked(&mut no, &buf, 0, 20_000, 40_000, 32768);
        assert!(stream.len() < 200, "{} bytes", stream.len());
        round_trip(12, &buf, 0, 20_000, 40_000, 32768);
        // History starting mid-buffer: nothing before `hist` is used even
        // though the bytes are there.
        let mut b2 = text[..20_000].to_vec();
        b2.extend_from_slice(&text[..20_000]);
        round_trip(11, &b2, 10_000, 20_000, 40_000, 32768);
        // Longest allowed history.
        let mut b3 = text[..32768].to_vec();
        b3.extend_from_slice(&text[..30_000]);
        round_trip(10, &b3, 0, 32768, b3.len(), 32768);
    }

    #[test]
    fn small_windows_limit_distances() {
        let text = sample(60_000, 13);
        for max_dist in [512usize, 1024, 4096, 32768] {
            for level in [10, 12] {
                round_trip(level, &text, 0, 0, text.len(), max_dist);
                round_trip(level, &text, 1000, 20_000, 50_000, max_dist);
            }
        }
    }

    #[test]
    fn reused_across_calls_and_in_pieces() {
        // One parser, many calls over a stream (history = previous piece).
        let text = sample(200_000, 17);
        let mut no = NearOptimal::new(11);
        let mut out = Vec::new();
        let mut bw = BitWriter::new();
        let mut start = 0;
        for piece in [1usize, 5000, 70_000, 3, 40_000, 84_996] {
            let end = start + piece;
            let hist = start.saturating_sub(32768);
            no.compress(&text, hist, start, end, 32768, &mut |seq, bs, be| {
                write_block(&mut bw, seq, Some(&text[bs..be]), false, BlockMode::Best);
            });
            start = end;
        }
        assert_eq!(start, text.len());
        write_stored(&mut bw, &[], true);
        bw.align_to_byte();
        out.extend_from_slice(&bw.detach());
        let d = inflate(&out, &[], 32768).unwrap();
        assert!(d.data == text);
    }

    /// Word salad over a 600-word vocabulary with skewed word frequencies
    /// and some punctuation: closer to real text than `sample`.
    fn prose(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let vocab: Vec<Vec<u8>> = (0..600)
            .map(|_| {
                let len = 2 + rnd() as usize % 8;
                (0..len)
                    .map(|_| b"etaoinshrdlucmfwypvbgk"[rnd() as usize % 22])
                    .collect()
            })
            .collect();
        let mut v = Vec::with_capacity(n + 16);
        while v.len() < n {
            let r = rnd();
            // Product of two uniforms: small indices are far more common.
            let w = ((r & 0xFFFF) as usize * ((r >> 16) & 0xFFFF) as usize) >> (32 - 10);
            v.extend_from_slice(&vocab[w.min(599)]);
            v.push(match (r >> 40) % 16 {
                0 => b',',
                1 => b'.',
                2 => b'\n',
                _ => b' ',
            });
        }
        v.truncate(n);
        v
    }

    #[test]
    fn beats_the_lazy_parser() {
        let text = prose(500_000, 23);
        let lazy = crate::deflate::deflate(&text, 9).unwrap().len();
        for level in 10..=12 {
            let mut no = NearOptimal::new(level);
            let ours = compress_checked(&mut no, &text, 0, 0, text.len(), 32768).len();
            assert!(ours < lazy, "prose, level {level}: {ours} vs lazy {lazy}");
        }
        // The synthetic mix (copies of up to 300 bytes from up to 40 000
        // back among a tiny vocabulary) only favours the deepest search.
        let mixed = sample(500_000, 23);
        let lazy = crate::deflate::deflate(&mixed, 9).unwrap().len();
        let mut no = NearOptimal::new(12);
        let ours = compress_checked(&mut no, &mixed, 0, 0, mixed.len(), 32768).len();
        assert!(ours < lazy, "sample, level 12: {ours} vs lazy {lazy}");
    }

    /// Exact size of `seq` as one block, and its symbol counts.
    fn seq_bits(seq: &Sequences) -> (u64, [u32; 286], [u32; 30]) {
        let (lf, df) = block_freqs(seq);
        (block_bits(&lf, &df, seq.raw_len), lf, df)
    }

    #[test]
    fn emitted_neighbours_would_not_be_cheaper_joined() {
        // Changing data (text, noise, prose, runs, text): the statistics cut
        // it into many blocks; every pair of neighbours that was emitted
        // apart must cost less apart than as one block (the data is under
        // `MAX_JOINED`, so no join is refused for length).
        let mut data = sample(150_000, 41);
        data.extend_from_slice(&random(40_000, 43));
        data.extend_from_slice(&prose(450_000, 47));
        data.extend(std::iter::repeat_n(b'x', 30_000));
        data.extend_from_slice(&sample(100_000, 53));
        for level in [10, 12] {
            let mut no = NearOptimal::new(level);
            let mut blocks: Vec<Sequences> = Vec::new();
            no.compress(&data, 0, 0, data.len(), 32768, &mut |seq, _, _| {
                blocks.push(seq.clone())
            });
            assert!(blocks.len() >= 2, "level {level}: {} blocks", blocks.len());
            for w in blocks.windows(2) {
                let (a, la, da) = seq_bits(&w[0]);
                let (b, lb, db) = seq_bits(&w[1]);
                let mut lf = [0u32; 286];
                for i in 0..286 {
                    lf[i] = la[i] + lb[i];
                }
                lf[END_OF_BLOCK] = 1;
                let df: [u32; 30] = std::array::from_fn(|i| da[i] + db[i]);
                let joined = block_bits(&lf, &df, w[0].raw_len + w[1].raw_len);
                assert!(joined > a + b, "level {level}: {joined} >= {a} + {b}");
            }
            round_trip(level, &data, 0, 0, data.len(), 32768);
        }
    }

    #[test]
    fn stationary_data_blocks_join() {
        // 700 KB from one source: the parser ends blocks after 300 000
        // bytes (and here once after the first 10 000, whose code is worth
        // its header), but one Huffman code serves the rest well, so later
        // blocks join: 4 blocks without joining, 3 at level 10 (whose
        // parses fit their own codes more), 2 at level 12.
        let data = prose(700_000, 61);
        for (level, most) in [(10, 3), (12, 2)] {
            let mut no = NearOptimal::new(level);
            let mut blocks = Vec::new();
            no.compress(&data, 0, 0, data.len(), 32768, &mut |_, bs, be| {
                blocks.push((bs, be))
            });
            assert!(blocks.len() <= most, "level {level}: {blocks:?}");
        }
    }

    #[test]
    fn initial_costs_follow_the_match_share() {
        let mut no = NearOptimal::new(12);
        let n = 20_000;
        // No matches, all 256 byte values in use: literals cost 8 + 3/8
        // bits, length symbols 6.8.
        let noise = random(n, 59);
        let mut bf = [0u32; 256];
        for &b in &noise {
            bf[b as usize] += 1;
        }
        no.counts = vec![0; n];
        no.matches.clear();
        let c = no.initial_costs(&bf, n);
        assert!(c.lit.iter().all(|&v| v == 8 * BIT + 6));
        assert_eq!(c.len[3], 109);
        assert_eq!(c.len[258], 109);
        assert_eq!(c.len[11], 109 + BIT);
        assert_eq!(c.off[0], 78);
        assert_eq!(c.off[29], 78 + 13 * BIT);
        // One byte value, a 100-byte match every 100 bytes: matches are
        // the majority; literals 0 + 2 bits, length symbols 5.25.
        let mut bf = [0u32; 256];
        bf[0] = n as u32;
        no.counts = (0..n).map(|i| (i % 100 == 0) as u16).collect();
        no.matches = vec![1 << 16 | 100; n / 100];
        let c = no.initial_costs(&bf, n);
        assert!(c.lit.iter().all(|&v| v == 2 * BIT));
        assert_eq!(c.len[3], 84);
        // A 9-byte match every 12 bytes (one match per three literals):
        // more than a fifth of the items, not the majority.
        no.counts = (0..n).map(|i| (i % 12 == 0) as u16).collect();
        no.matches = vec![1 << 16 | 9; n.div_ceil(12)];
        let c = no.initial_costs(&bf, n);
        assert_eq!(c.len[3], 93);
        assert!(c.lit.iter().all(|&v| v == BIT));
    }

    #[test]
    fn long_blocks_split_and_cover() {
        // Text then random then text: at least one block boundary, blocks
        // in order and covering everything (checked in compress_checked).
        let mut data = sample(400_000, 29);
        data.extend_from_slice(&random(100_000, 31));
        data.extend_from_slice(&sample(400_000, 37));
        let mut no = NearOptimal::new(10);
        let mut n = 0;
        no.compress(&data, 0, 0, data.len(), 32768, &mut |_, _, _| n += 1);
        assert!(n >= 3, "{n} blocks");
        round_trip(10, &data, 0, 0, data.len(), 32768);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn prop_round_trips(
            seed in any::<u64>(),
            n in 0usize..30_000,
            hist_len in 0usize..=32768,
            skip in 0usize..1000,
            wbits in 9u32..=15,
            level in 10u32..=12,
            alphabet in 1u8..=255,
        ) {
            let mut data = sample(hist_len + n + skip, seed);
            // Narrow the alphabet sometimes for long, dense matches.
            for b in data.iter_mut() {
                *b %= alphabet.max(1);
            }
            let hist = skip;
            let start = skip + hist_len;
            round_trip(level, &data, hist, start, start + n, 1 << wbits);
        }
    }
}

/// Measuring harness (not a test: run by hand, see
/// docs/deflate-near-optimal.md). `SCALEZIP_NEAROPT_FILES` lists files
/// (separated by ':'); they are concatenated and compressed whole by the
/// near-optimal parser at levels 10-12 and by the crate's lazy levels;
/// prints ratio and MB/s of thread CPU time. `SCALEZIP_NEAROPT_SLICE`
/// keeps the first bytes of each file, `SCALEZIP_NEAROPT_LEVELS` picks levels.
#[cfg(all(test, target_os = "linux"))]
mod bench {
    use super::super::block::{write_block, BlockMode};
    use super::*;
    use crate::bitio::BitWriter;

    /// CPU time of this thread in seconds.
    #[allow(unsafe_code)]
    fn cpu_now() -> f64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: plain libc call writing into a valid timespec.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0);
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }

    #[test]
    #[ignore]
    fn near_optimal_bench() {
        let Ok(files) = std::env::var("SCALEZIP_NEAROPT_FILES") else {
            eprintln!("set SCALEZIP_NEAROPT_FILES");
            return;
        };
        let levels: Vec<u32> = std::env::var("SCALEZIP_NEAROPT_LEVELS")
            .unwrap_or("10,11,12".into())
            .split(',')
            .map(|s| s.parse().unwrap())
            .collect();
        // Optional: only the first SLICE bytes of each file.
        let slice: usize = std::env::var("SCALEZIP_NEAROPT_SLICE")
            .map(|s| s.parse().unwrap())
            .unwrap_or(usize::MAX);
        let mut data = Vec::new();
        for f in files.split(':') {
            let b = std::fs::read(f).unwrap();
            data.extend_from_slice(&b[..b.len().min(slice)]);
        }
        let mb = data.len() as f64 / 1e6;
        for &level in &levels {
            let t = cpu_now();
            let mut no = NearOptimal::new(level);
            let mut bw = BitWriter::new();
            let mut blocks = 0;
            no.compress(&data, 0, 0, data.len(), 32768, &mut |seq, bs, be| {
                write_block(
                    &mut bw,
                    seq,
                    Some(&data[bs..be]),
                    be == data.len(),
                    BlockMode::Best,
                );
                blocks += 1;
            });
            bw.align_to_byte();
            let out = bw.detach();
            let dt = cpu_now() - t;
            println!(
                "near-optimal {level}: ratio {:.4} {:.2} MB/s ({blocks} blocks)",
                out.len() as f64 / data.len() as f64,
                mb / dt
            );
        }
        for level in [9, 12] {
            let t = cpu_now();
            let out = crate::deflate::deflate(&data, level).unwrap();
            let dt = cpu_now() - t;
            println!(
                "lazy {level}: ratio {:.4} {:.2} MB/s",
                out.len() as f64 / data.len() as f64,
                mb / dt
            );
        }
    }
}
