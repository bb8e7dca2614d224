//! The predictor: given every bit so far, the probability that the next
//! bit is 1. Bits are coded most significant first, so within a byte the
//! partial byte `c0` (1 followed by the bits seen) is itself context.
//!
//! Inputs to the mixer, per bit:
//! - order 0 and order 1: bit histories in direct tables indexed by `c0`
//!   and by `(previous byte, c0)`;
//! - orders 2, 3, 4, 6 and two word contexts (the current word's letters
//!   with the byte before, and the current word with the previous word):
//!   bit histories in one shared hash table. Each context hashes, at the
//!   start of each nibble, to a 16-byte slot (a check byte and the 15
//!   histories of the nibble's binary tree); a slot is searched among the
//!   4 of one 64-byte cache line and, when absent, replaces the one seen
//!   least (lpaq's scheme, so one cache miss per context per nibble,
//!   hidden by prefetching both possible next slots one bit early: see
//!   `look_ahead`);
//! - a match model: the last place the previous 7 bytes occurred predicts
//!   the byte that followed them, with a confidence learned per match
//!   length;
//! - a bias.
//!
//! Each history becomes a probability through a per-model [`StateMap`];
//! two mixers (weights chosen by the partial byte, and by match length and
//! bit position) combine the stretched probabilities; their average goes
//! through two APM stages (contexts: the partial byte, and a hash of it
//! with the previous byte folded to 4096 contexts).
//!
//! Memory per level (see [`Model::bytes_for_level`]): the hash table is
//! `2^(level + 21)` bytes (4 MiB at level 1 to 1 GiB at level 9) and the
//! match model's index `2^(level + 18)` bytes; everything else is fixed
//! and small. The history itself is the data being coded (the caller's
//! input, or the decoder's output), so it costs nothing extra.
use super::parts::{prefetch, squash, Apm, Mixer, StateMap, StateTable, Stretch};

/// Hashed context models: orders 2, 3, 4, 6, word, word pair.
const NH: usize = 6;
/// Mixer inputs: 2 direct + NH hashed + 2 match + bias.
const NI: usize = 2 + NH + 2 + 1;
/// Bytes hashed to find a match.
const MINLEN: usize = 7;
/// Longest match length tracked.
const MAXLEN: u32 = 65535;

/// 4 slots of 16 bytes: one cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([[u8; 16]; 4]);

/// Fixed-size parts of the model (bytes), independent of the level.
const FIXED_BYTES: usize = 256 + 65536 // direct tables
    + (NH + 2) * 256 * 4 // state maps
    + 64 * 4 // match state map
    + (M1_CONTEXTS + M2_CONTEXTS) * NI * 4 // mixers
    + (A1_CONTEXTS + A2_CONTEXTS) * 33 * 2; // APMs
const M1_CONTEXTS: usize = 256;
const M2_CONTEXTS: usize = 5 * 8;
const A1_CONTEXTS: usize = 256;
const A2_CONTEXTS: usize = 4096;

#[inline(always)]
fn set(x: &mut [i32; NI], i: usize, v: i32) {
    x[i] = v;
}

/// `n` copies of `x` in memory the kernel is asked to back with huge
/// pages before it is first touched (after that it is too late).
fn huge_vec<T: Copy>(n: usize, x: T) -> Vec<T> {
    let mut v = crate::mem::huge_vec_with_capacity(n);
    v.resize(n, x);
    v
}

/// The hashed contexts after a byte: orders 2, 3, 4, 6 from the last
/// bytes `c4`, the current word `w0` with the previous byte, and the
/// current word with the previous word `w1`.
#[inline(always)]
fn contexts(c4: u64, w0: u64, w1: u64) -> [u64; NH] {
    [
        hash2(2, c4 & 0xffff),
        hash2(3, c4 & 0xff_ffff),
        hash2(4, c4 & 0xffff_ffff),
        hash2(6, c4 & 0xffff_ffff_ffff),
        hash2(7 + (w0 << 8), c4 & 0xff),
        hash2(8 + (w0 << 8), w1),
    ]
}

/// Word hashes after `byte`: letters (case-folded) extend the current
/// word; anything else ends it, making it the previous word.
#[inline(always)]
fn word_step(w0: u64, w1: u64, byte: u8) -> (u64, u64) {
    if byte.is_ascii_alphabetic() {
        (hash2(w0, u64::from(byte.to_ascii_lowercase())), w1)
    } else if w0 != 0 {
        (0, w0)
    } else {
        (0, w1)
    }
}

#[inline(always)]
fn hash2(a: u64, b: u64) -> u64 {
    let x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_add(0x632B_E59B_D9B4_E019)
            .wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let x = (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

/// Read access to the bytes coded so far, by absolute position. The model
/// reads only positions in `pos - max_dist - 32 .. pos`, where `pos` is the
/// number of bytes coded (see [`Model::with_window`]), so a ring buffer of
/// the last `window` bytes serves as well as the whole data.
pub trait History {
    /// The byte at absolute position `i`.
    fn at(&self, i: usize) -> u8;
    /// Ask for the cache line of position `i` (< the length) to be loaded.
    fn prefetch(&self, i: usize);
}

impl History for [u8] {
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self[i]
    }

    #[inline(always)]
    fn prefetch(&self, i: usize) {
        prefetch(&self[i]);
    }
}

/// The last bytes coded, by absolute position: a buffer that grows up to
/// `cap` (a power of two, or `usize::MAX` for no limit) and then wraps, so
/// position `i` lives at `i & (cap - 1)`.
pub struct Ring {
    buf: Vec<u8>,
    mask: usize,
    len: u64,
}

impl Ring {
    /// A ring keeping the last `cap` bytes (a power of two); `None` keeps
    /// everything.
    pub fn new(cap: Option<usize>) -> Self {
        let mask = cap.map_or(usize::MAX, |c| {
            debug_assert!(c.is_power_of_two());
            c - 1
        });
        Ring {
            buf: Vec::new(),
            mask,
            len: 0,
        }
    }

    /// Append byte `b` (position `len`).
    #[inline(always)]
    pub fn push(&mut self, b: u8) {
        if self.buf.len() <= self.mask {
            self.buf.push(b);
        } else {
            let i = (self.len as usize) & self.mask;
            self.buf[i] = b;
        }
        self.len += 1;
    }

    /// Bytes allocated.
    pub fn size_bytes(&self) -> usize {
        self.buf.capacity()
    }
}

impl History for Ring {
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.buf[i & self.mask]
    }

    #[inline(always)]
    fn prefetch(&self, i: usize) {
        prefetch(&self.buf[i & self.mask]);
    }
}

pub struct Model {
    // Coding position.
    c0: u32,
    bitpos: u32,
    c4: u64,
    nib: usize,
    pos: usize,
    // Word model.
    w0: u64,
    w1: u64,
    // Bit histories.
    st: StateTable,
    o0: Vec<u8>,
    o1: Vec<u8>,
    table: Vec<Line>,
    ctx: [u64; NH],
    slot: [(usize, usize); NH],
    // Look-ahead, one bit before a nibble or byte ends: for both values of
    // the bit to come, the slot hashes of the next nibble and (before a
    // byte end) the byte contexts and word hashes. Their cache lines are
    // prefetched then, and the hashes reused when the bit arrives.
    ahead_h: [[u64; NH]; 2],
    ahead_ctx: [[u64; NH]; 2],
    ahead_w: [(u64, u64); 2],
    sm: Vec<StateMap>,
    // Match model. `legacy`: format version 1's rule (a candidate is the
    // absolute position stored, however far back); otherwise the stored
    // position is taken modulo 2^32 and must lie at most `max_dist` back.
    legacy: bool,
    max_dist: usize,
    ht: Vec<u32>,
    mptr: usize,
    mlen: u32,
    mbyte: u32,
    mbit: i32,
    msm: StateMap,
    // Mixing and refinement.
    stretch: Stretch,
    x: [i32; NI],
    m1: Mixer<NI>,
    m2: Mixer<NI>,
    a1: Apm,
    a2: Apm,
    /// Context of the second APM for the next prediction, computed (and
    /// its row prefetched) early in `update`.
    a2_cx: usize,
    pr_mix: i32,
    pr: u32,
}

impl Model {
    /// Lowest and highest level.
    pub const MIN_LEVEL: u8 = 1;
    pub const MAX_LEVEL: u8 = 9;

    fn table_lines(level: u8) -> usize {
        1 << (u32::from(level) + 15)
    }

    fn match_entries(level: u8) -> usize {
        1 << (u32::from(level) + 16)
    }

    /// Memory the model of `level` allocates, in bytes.
    pub fn bytes_for_level(level: u8) -> usize {
        Self::table_lines(level) * 64 + Self::match_entries(level) * 4 + FIXED_BYTES
    }

    /// History the model of `level` keeps when it must keep its own (the
    /// streaming coders; format version 2): `2^(level + 19)` bytes, 1 MiB
    /// at level 1 to 256 MiB at level 9. Matches reach back at most
    /// [`max_dist_for_level`](Self::max_dist_for_level).
    pub fn window_for_level(level: u8) -> usize {
        1 << (u32::from(level.clamp(Self::MIN_LEVEL, Self::MAX_LEVEL)) + 19)
    }

    /// How far back a match may start under format version 2: the window
    /// less the 32 bytes a candidate is verified over, and some slack.
    pub fn max_dist_for_level(level: u8) -> usize {
        Self::window_for_level(level) - 64
    }

    /// The model of format version 1: matches may reach back to the start
    /// of the data, so the whole history must be kept.
    pub fn new(level: u8) -> Self {
        Self::build(level, true, usize::MAX)
    }

    /// The model of format version 2: matches reach back at most
    /// `max_dist_for_level(level)` bytes, so a [`Ring`] of
    /// `window_for_level(level)` bytes is history enough. On data shorter
    /// than `max_dist` it predicts exactly as [`new`](Self::new)'s.
    pub fn with_window(level: u8) -> Self {
        Self::build(level, false, Self::max_dist_for_level(level))
    }

    /// A fresh model; `level` must be in `MIN_LEVEL..=MAX_LEVEL` (the
    /// caller validates it before anything is allocated).
    fn build(level: u8, legacy: bool, max_dist: usize) -> Self {
        let level = level.clamp(Self::MIN_LEVEL, Self::MAX_LEVEL);
        let st = StateTable::new();
        let sm = (0..NH + 2)
            .map(|_| StateMap::for_states(&st, 1023))
            .collect();
        let mut m = Model {
            c0: 1,
            bitpos: 0,
            c4: 0,
            nib: 1,
            pos: 0,
            w0: 0,
            w1: 0,
            o0: vec![0; 256],
            o1: vec![0; 65536],
            table: huge_vec(Self::table_lines(level), Line([[0; 16]; 4])),
            ctx: [0; NH],
            slot: [(0, 0); NH],
            ahead_h: [[0; NH]; 2],
            ahead_ctx: [[0; NH]; 2],
            ahead_w: [(0, 0); 2],
            sm,
            legacy,
            max_dist,
            ht: huge_vec(Self::match_entries(level), 0),
            mptr: 0,
            mlen: 0,
            mbyte: 0,
            mbit: 0,
            msm: StateMap::new(64, 1023),
            stretch: Stretch::new(),
            x: [0; NI],
            m1: Mixer::new(M1_CONTEXTS, 6),
            m2: Mixer::new(M2_CONTEXTS, 6),
            a1: Apm::new(A1_CONTEXTS, 7),
            a2: Apm::new(A2_CONTEXTS, 7),
            a2_cx: 0,
            pr_mix: 2048,
            pr: 2048,
            st,
        };
        m.byte_contexts();
        m.find_slots();
        m.a2_cx = m.apm_contexts().1;
        m.predict();
        m
    }

    /// Probability (12 bits, 1..=4095) that the next bit is 1.
    #[inline(always)]
    pub fn p(&self) -> u16 {
        self.pr as u16
    }

    /// Locate (or claim) the slot of hash `h` in its cache line.
    #[inline(always)]
    fn find(&mut self, h: u64) -> (usize, usize) {
        let line = (h as usize) & (self.table.len() - 1);
        let chk = (h >> 56) as u8;
        let l = &mut self.table[line].0;
        for (i, s) in l.iter().enumerate() {
            if s[0] == chk {
                return (line, i);
            }
        }
        // Evict the slot whose first history has seen least.
        let mut best = 0;
        for i in 1..4 {
            if self.st.seen[l[i][1] as usize] < self.st.seen[l[best][1] as usize] {
                best = i;
            }
        }
        l[best] = [0; 16];
        l[best][0] = chk;
        (line, best)
    }

    fn find_slots(&mut self) {
        let nib = if self.bitpos == 0 {
            0
        } else {
            u64::from(self.c0)
        };
        for i in 0..NH {
            let h = hash2(self.ctx[i], nib);
            self.slot[i] = self.find(h);
        }
    }

    /// Context hashes at a byte boundary.
    fn byte_contexts(&mut self) {
        self.ctx = contexts(self.c4, self.w0, self.w1);
    }

    /// Update the match model once `hist` has grown by one byte (to
    /// `self.pos` bytes).
    #[inline(always)]
    fn match_update<H: History + ?Sized>(&mut self, hist: &H) {
        let pos = self.pos;
        let byte = u32::from(hist.at(pos - 1));
        if self.mlen > 0 && self.mbyte == byte {
            self.mlen = (self.mlen + 1).min(MAXLEN);
            self.mptr += 1;
        } else {
            self.mlen = 0;
        }
        if pos >= MINLEN {
            let h = self.match_hash();
            if self.mlen == 0 {
                let cand = self.candidate(h);
                if cand > 0 && cand < pos {
                    let mut l = 0;
                    while l < 32 && l < cand && hist.at(cand - 1 - l) == hist.at(pos - 1 - l) {
                        l += 1;
                    }
                    if l >= MINLEN {
                        self.mlen = l as u32;
                        self.mptr = cand;
                    }
                }
            }
            self.ht[h] = pos as u32;
        }
        self.mbyte = if self.mlen > 0 {
            u32::from(hist.at(self.mptr))
        } else {
            0
        };
    }

    /// The position the match index holds for hash slot `h` (0: none).
    #[inline(always)]
    fn candidate(&self, h: usize) -> usize {
        let (pos, stored) = (self.pos, self.ht[h]);
        if self.legacy {
            stored as usize
        } else {
            let d = (pos as u32).wrapping_sub(stored) as usize;
            if stored != 0 && d <= self.max_dist {
                pos.saturating_sub(d)
            } else {
                0
            }
        }
    }

    /// At a byte end, before the training work: when `match_update` will
    /// look a candidate up, ask for the bytes it will compare (the 32
    /// before the candidate), a cache miss otherwise.
    #[inline(always)]
    fn prefetch_candidate<H: History + ?Sized>(&self, hist: &H) {
        let (pos, byte) = (self.pos, (self.c4 & 0xff) as u32);
        let continues = self.mlen > 0 && self.mbyte == byte;
        if pos >= MINLEN && !continues {
            let cand = self.candidate(self.match_hash());
            if cand > 0 && cand < pos {
                hist.prefetch(cand - 1);
                hist.prefetch(cand.saturating_sub(32));
            }
        }
    }

    /// Compute the next prediction from the current contexts.
    #[inline(always)]
    fn predict(&mut self) {
        let s = &self.stretch;
        let c0 = self.c0 as usize;
        let c1 = (self.c4 & 0xff) as usize;
        // Direct orders 0 and 1.
        let st0 = self.o0[c0] as usize;
        let st1 = self.o1[c1 << 8 | c0] as usize;
        let p0 = self.sm[0].p(st0);
        set(&mut self.x, 0, s.get(p0));
        let p1 = self.sm[1].p(st1);
        set(&mut self.x, 1, s.get(p1));
        // Hashed orders and words.
        for i in 0..NH {
            let (line, k) = self.slot[i];
            let state = self.table[line].0[k][self.nib] as usize;
            let p = self.sm[2 + i].p(state);
            set(&mut self.x, 2 + i, s.get(p));
        }
        // Match model.
        let mut mctx = 0usize;
        if self.mlen > 0 && ((self.mbyte | 256) >> (8 - self.bitpos)) == self.c0 {
            let bit = ((self.mbyte >> (7 - self.bitpos)) & 1) as usize;
            let l = self.mlen as usize;
            let bucket = if l < 16 {
                l
            } else {
                (16 + (l - 16) / 8).min(31)
            };
            self.mbit = if bit == 1 { 1 } else { -1 };
            let p = self.msm.p(bucket * 2 + bit);
            set(&mut self.x, NH + 2, s.get(p));
            set(&mut self.x, NH + 3, self.mbit * (l.min(32) as i32) * 32);
            mctx = bucket.min(15) / 4 + 1;
        } else {
            self.mbit = 0;
            self.msm.p(0);
            set(&mut self.x, NH + 2, 0);
            set(&mut self.x, NH + 3, 0);
        }
        set(&mut self.x, NH + 4, 256);
        // Both mixers see the same inputs.
        let d1 = self.m1.mix(&self.x, c0);
        let d2 = self.m2.mix(&self.x, mctx * 8 + self.bitpos as usize);
        let d = (d1 + d2) >> 1;
        self.pr_mix = squash(d);
        // Two APM stages, averaged with what they refine.
        let (a1, a2) = (self.c0 as usize, self.a2_cx);
        let pa = self.a1.pp(d, a1);
        let pr = (self.pr_mix as u32 + 3 * pa) >> 2;
        let pb = self.a2.pp(self.stretch.get(pr), a2);
        let pr = (pr + 3 * pb) >> 2;
        self.pr = pr.clamp(1, 4095);
    }

    /// Learn bit `y` and move on. `hist` holds every byte coded so far,
    /// including the one `y` completes; it is only read at byte ends.
    #[inline(always)]
    pub fn update<H: History + ?Sized>(&mut self, y: bool, hist: &H) {
        let yi = usize::from(y);
        let old_c0 = self.c0 as usize;
        let old_c1 = (self.c4 & 0xff) as usize;
        let old_nib = self.nib;
        // 1. Advance the cheap state first, so that the memory the next
        //    prediction needs can be requested before the training work.
        self.c0 = (self.c0 << 1) | yi as u32;
        self.bitpos += 1;
        let byte_end = self.bitpos == 8;
        if byte_end {
            let byte = (self.c0 & 0xff) as u8;
            self.c4 = (self.c4 << 8) | u64::from(byte);
            self.c0 = 1;
            self.bitpos = 0;
            self.pos += 1;
            // Computed one bit ago by `look_ahead` for this bit value.
            (self.w0, self.w1) = self.ahead_w[yi];
            self.ctx = self.ahead_ctx[yi];
            self.prefetch_candidate(hist);
        }
        // The second APM's table misses the inner caches; its row for the
        // next prediction is known now.
        self.a2_cx = self.apm_contexts().1;
        self.a2.prefetch(self.a2_cx);
        let new_slots = self.bitpos == 0 || self.bitpos == 4;
        let hashes = self.ahead_h[yi];
        if self.bitpos == 3 || self.bitpos == 7 {
            self.look_ahead();
        }
        // 2. Train everything that predicted this bit.
        self.o0[old_c0] = self.st.next[2 * self.o0[old_c0] as usize + yi];
        let i1 = old_c1 << 8 | old_c0;
        self.o1[i1] = self.st.next[2 * self.o1[i1] as usize + yi];
        for i in 0..NH {
            let (line, k) = self.slot[i];
            let e = &mut self.table[line].0[k][old_nib];
            *e = self.st.next[2 * *e as usize + yi];
        }
        for m in self.sm.iter_mut() {
            m.update(y);
        }
        self.msm.update(y);
        self.m1.update(&self.x, y);
        self.m2.update(&self.x, y);
        self.a1.update(y);
        self.a2.update(y);
        // 3. Byte-level models, slots of the next nibble, next prediction.
        if byte_end {
            self.match_update(hist);
        }
        if new_slots {
            self.nib = 1;
            for (i, &h) in hashes.iter().enumerate() {
                self.slot[i] = self.find(h);
            }
        } else {
            self.nib = old_nib * 2 + yi;
        }
        self.predict();
    }

    /// One bit before a nibble (`bitpos` 3) or a byte (`bitpos` 7) ends:
    /// for both values of the last bit, compute the next nibble's slot
    /// hashes (and at 7 the next byte's contexts) and prefetch the cache
    /// lines they select, so `find` rarely waits for memory.
    #[inline(always)]
    fn look_ahead(&mut self) {
        let mask = self.table.len() - 1;
        for y in 0..2usize {
            let c = (self.c0 << 1) as u64 | y as u64;
            if self.bitpos == 3 {
                for (h, &x) in self.ahead_h[y].iter_mut().zip(&self.ctx) {
                    *h = hash2(x, c);
                }
            } else {
                let byte = (c & 0xff) as u8;
                let c4 = (self.c4 << 8) | u64::from(byte);
                let (w0, w1) = word_step(self.w0, self.w1, byte);
                let ctx = contexts(c4, w0, w1);
                for (h, &c) in self.ahead_h[y].iter_mut().zip(&ctx) {
                    *h = hash2(c, 0);
                }
                self.ahead_ctx[y] = ctx;
                self.ahead_w[y] = (w0, w1);
                let mh = hash2(0x4d, c4 & 0x00ff_ffff_ffff_ffff) as usize;
                prefetch(&self.ht[mh & (self.ht.len() - 1)]);
            }
            for &h in &self.ahead_h[y] {
                prefetch(&self.table[(h as usize) & mask]);
            }
        }
    }

    /// Contexts of the two APM stages for the current position.
    #[inline(always)]
    fn apm_contexts(&self) -> (usize, usize) {
        let c0 = self.c0 as usize;
        let c1 = (self.c4 & 0xff) as usize;
        (
            c0,
            (hash2(c1 as u64, c0 as u64) as usize) & (A2_CONTEXTS - 1),
        )
    }

    #[inline(always)]
    fn match_hash(&self) -> usize {
        (hash2(0x4d, self.c4 & 0x00ff_ffff_ffff_ffff) as usize) & (self.ht.len() - 1)
    }

    /// Bytes the model holds (tables, maps, mixers).
    pub fn size_bytes(&self) -> usize {
        self.o0.len()
            + self.o1.len()
            + self.table.len() * 64
            + self.sm.iter().map(StateMap::size_bytes).sum::<usize>()
            + self.msm.size_bytes()
            + self.ht.len() * 4
            + self.m1.size_bytes()
            + self.m2.size_bytes()
            + self.a1.size_bytes()
            + self.a2.size_bytes()
    }
}
