//! The building blocks of the context-mixing model, all in integer
//! arithmetic so that the encoder and the decoder compute bit-identical
//! probabilities on every machine:
//!
//! - [`squash`] / [`stretch`]: the logistic function and its inverse on the
//!   12-bit probability scale (`stretch(p) = ln(p / (1 - p))` in units of
//!   1/256, clamped to -2047..=2047). Mixing happens in the stretched domain.
//! - [`StateTable`]: bit-history states. A state stands for a pair of
//!   counts `(n0, n1)` of zeros and ones seen in a context, plus the last
//!   bit; the table is generated (not copied) from one update rule: the
//!   count of the bit seen goes up, the opposite count, when above 2, is
//!   halved (old evidence against a now-repeating bit fades fast), and
//!   pairs outside a bounded set give up the opposite count first. That
//!   set keeps the number of states under 256, so a history is one byte.
//! - [`StateMap`]: turns a state (or any small context) into a probability,
//!   learned online: each entry moves towards the bits it sees with rate
//!   `1 / (n + 1.5)` for its `n`-th observation, down to `1 / (limit + 1.5)`.
//! - [`Mixer`]: a single-layer network (one weight vector per selected
//!   context) combining stretched predictions; trained online by gradient
//!   descent on coding cost, which for the logistic output is simply
//!   `err * input`.
//! - [`Apm`]: adaptive probability map (secondary estimation): refines a
//!   probability given a context by interpolating between 33 learned
//!   points along the stretched axis.
use std::collections::HashMap;

/// `4096 / (1 + e^-x)` at `x = -8, -7.5, ..., 8`, rounded: the knots that
/// [`squash`] interpolates between.
const SQUASH_KNOTS: [i32; 33] = [
    1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349,
    3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
];

/// The logistic function: stretched value `d` (1/256 units) to a 12-bit
/// probability in 1..=4095.
#[inline(always)]
pub fn squash(d: i32) -> i32 {
    if d > 2047 {
        return 4095;
    }
    if d < -2047 {
        return 1;
    }
    let w = d & 127;
    let i = ((d >> 7) + 16) as usize;
    (SQUASH_KNOTS[i] * (128 - w) + SQUASH_KNOTS[i + 1] * w + 64) >> 7
}

pub use crate::mem::prefetch;

/// Lookup table of `stretch`, the inverse of [`squash`].
pub struct Stretch {
    t: Box<[i16; 4096]>,
}

impl Stretch {
    pub fn new() -> Self {
        let mut t = Box::new([0i16; 4096]);
        let mut pi = 0usize;
        for x in -2047..=2047 {
            let v = squash(x) as usize;
            for e in t.iter_mut().take(v + 1).skip(pi) {
                *e = x as i16;
            }
            pi = pi.max(v + 1);
        }
        for e in t.iter_mut().skip(pi) {
            *e = 2047;
        }
        Stretch { t }
    }

    /// `ln(p / (1 - p)) * 256` for a 12-bit probability `p`.
    #[inline(always)]
    pub fn get(&self, p: u32) -> i32 {
        i32::from(self.t[(p & 4095) as usize])
    }
}

impl Default for Stretch {
    fn default() -> Self {
        Self::new()
    }
}

/// Count bounds of the bit-history states: with the smaller count `lo`,
/// the larger may reach `MAX_HI[lo]`; `lo` above 4 is not represented.
const MAX_HI: [u32; 5] = [50, 20, 10, 6, 5];

fn allowed(n0: u32, n1: u32) -> bool {
    let (lo, hi) = (n0.min(n1), n0.max(n1));
    (lo as usize) < MAX_HI.len() && hi <= MAX_HI[lo as usize]
}

/// The bit-history state machine (see the module documentation).
pub struct StateTable {
    /// `next[2 * s + y]`: the state after bit `y` in state `s`.
    pub next: Vec<u8>,
    /// `n0 + n1` of each state: how much a context has been seen, the
    /// priority used when a hash bucket must evict a slot.
    pub seen: Vec<u8>,
    /// `(n0, n1)` of each state.
    pub counts: Vec<(u32, u32)>,
}

impl StateTable {
    pub fn new() -> Self {
        // Breadth-first from the empty history, numbering states as found:
        // a deterministic numbering with state 0 = nothing seen.
        type Key = (u32, u32, u8);
        let start: Key = (0, 0, 0);
        let mut ids: HashMap<Key, usize> = HashMap::new();
        let mut order: Vec<Key> = vec![start];
        ids.insert(start, 0);
        let mut next_keys: Vec<[Key; 2]> = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let (n0, n1, _) = order[i];
            let mut succ = [start; 2];
            for y in 0..2u32 {
                let (mut a, mut b) = (n0, n1); // a: count of y, b: opposite
                if y == 1 {
                    std::mem::swap(&mut a, &mut b);
                }
                a += 1;
                if b > 2 {
                    b = b / 2 + 1;
                }
                let fits = |a: u32, b: u32| {
                    if y == 1 {
                        allowed(b, a)
                    } else {
                        allowed(a, b)
                    }
                };
                while !fits(a, b) {
                    if b > 0 {
                        b -= 1;
                    } else {
                        a -= 1;
                    }
                }
                let (m0, m1) = if y == 1 { (b, a) } else { (a, b) };
                // The last bit is only worth a state when both counts are
                // non-zero (otherwise it is implied).
                let last = if m0 > 0 && m1 > 0 { y as u8 } else { 0 };
                let key = (m0, m1, last);
                if let std::collections::hash_map::Entry::Vacant(e) = ids.entry(key) {
                    e.insert(order.len());
                    order.push(key);
                }
                succ[y as usize] = key;
            }
            next_keys.push(succ);
            i += 1;
        }
        assert!(order.len() <= 256, "bit-history states must fit a byte");
        let next = next_keys
            .iter()
            .flat_map(|s| [ids[&s[0]] as u8, ids[&s[1]] as u8])
            .collect();
        let seen = order
            .iter()
            .map(|&(a, b, _)| (a + b).min(255) as u8)
            .collect();
        let counts = order.iter().map(|&(a, b, _)| (a, b)).collect();
        StateTable { next, seen, counts }
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

impl Default for StateTable {
    fn default() -> Self {
        Self::new()
    }
}

/// `131072 / (2n + 3)`: the learning rate `1 / (n + 1.5)` in 16-bit fixed
/// point, for the `n`-th update of a [`StateMap`] entry.
const RECIP: [i64; 1024] = {
    let mut t = [0i64; 1024];
    let mut n = 0;
    while n < 1024 {
        t[n] = 131072 / (2 * n as i64 + 3);
        n += 1;
    }
    t
};

/// Context to probability, learned online (see the module documentation).
/// Each entry: probability in the top 22 bits, update count in the low 10.
pub struct StateMap {
    t: Vec<u32>,
    cx: usize,
    limit: u32,
}

impl StateMap {
    /// `n` contexts (a power of two), all starting at probability 1/2.
    pub fn new(n: usize, limit: u32) -> Self {
        debug_assert!(n.is_power_of_two());
        StateMap {
            t: vec![1 << 31; n],
            cx: 0,
            limit: limit.min(1023),
        }
    }

    /// Contexts are bit-history states, each starting at the probability
    /// its counts suggest, `(n1 + 1/2) / (n0 + n1 + 1)`.
    pub fn for_states(states: &StateTable, limit: u32) -> Self {
        let mut m = Self::new(256, limit);
        for (s, &(n0, n1)) in states.counts.iter().enumerate() {
            let p = ((2 * u64::from(n1) + 1) << 22) / (2 * u64::from(n0 + n1) + 2);
            m.t[s] = (p.min((1 << 22) - 1) as u32) << 10;
        }
        m
    }

    /// 12-bit probability that the next bit is 1 in context `cx` (which
    /// the following [`update`](Self::update) trains).
    #[inline(always)]
    pub fn p(&mut self, cx: usize) -> u32 {
        self.cx = cx & (self.t.len() - 1);
        self.t[self.cx] >> 20
    }

    #[inline(always)]
    pub fn update(&mut self, y: bool) {
        let e = self.t[self.cx];
        let n = e & 1023;
        let p = i64::from(e >> 10);
        let target = if y { (1i64 << 22) - 1 } else { 0 };
        let p = p + (((target - p) * RECIP[n as usize]) >> 16);
        let n = if n < self.limit { n + 1 } else { n };
        self.t[self.cx] = ((p as u32) << 10) | n;
    }

    pub fn size_bytes(&self) -> usize {
        self.t.len() * 4
    }
}

/// Mixer weights are 16.16 fixed point; inputs stretched probabilities,
/// passed in by the caller (the same array to `mix` and to `update`).
/// `N` inputs, a compile-time size, so the loops are fully unrolled with
/// no bounds checks.
pub struct Mixer<const N: usize> {
    w: Vec<[i32; N]>,
    sel: usize,
    pr: i32,
    lr: i32,
}

impl<const N: usize> Mixer<N> {
    /// `contexts` weight vectors, learning rate `lr`.
    pub fn new(contexts: usize, lr: i32) -> Self {
        Mixer {
            w: vec![[(1 << 16) / 4; N]; contexts.max(1)],
            sel: 0,
            pr: 2048,
            lr,
        }
    }

    /// The mixed prediction of inputs `x`, stretched (clamped to
    /// +-2047), using weight vector `cx`.
    #[inline(always)]
    pub fn mix(&mut self, x: &[i32; N], cx: usize) -> i32 {
        self.sel = cx.min(self.w.len() - 1);
        let w = &self.w[self.sel];
        let mut dot = 0i64;
        for i in 0..N {
            dot += i64::from(w[i]) * i64::from(x[i]);
        }
        let d = (dot >> 16).clamp(-2047, 2047) as i32;
        self.pr = squash(d);
        d
    }

    /// Train the weights used by the last `mix` of `x` on bit `y`.
    #[inline(always)]
    pub fn update(&mut self, x: &[i32; N], y: bool) {
        let err = ((i32::from(y) << 12) - self.pr) * self.lr;
        let w = &mut self.w[self.sel];
        for i in 0..N {
            w[i] = w[i].saturating_add((x[i] * err) >> 10);
        }
    }

    pub fn size_bytes(&self) -> usize {
        self.w.len() * N * 4
    }
}

/// Adaptive probability map: 33 interpolation points per context.
pub struct Apm {
    t: Vec<u16>,
    mask: usize,
    idx: usize,
    rate: u32,
}

impl Apm {
    /// `contexts` (a power of two) sets of 33 points, learning rate
    /// `1 / 2^rate`.
    pub fn new(contexts: usize, rate: u32) -> Self {
        debug_assert!(contexts.is_power_of_two());
        let mut t = vec![0u16; contexts * 33];
        for (i, e) in t.iter_mut().enumerate() {
            *e = (squash(((i % 33) as i32 - 16) * 128) * 16) as u16;
        }
        Apm {
            t,
            mask: contexts - 1,
            idx: 0,
            rate,
        }
    }

    /// Refine 12-bit probability `pr` (stretched: `st`) in context `cx`.
    #[inline(always)]
    pub fn pp(&mut self, st: i32, cx: usize) -> u32 {
        let s = (st.clamp(-2047, 2047) + 2048) as u32; // 1..4095
        let lo = (s >> 7) as usize; // 0..31
        let w = s & 127;
        let base = (cx & self.mask) * 33 + lo;
        self.idx = if w < 64 { base } else { base + 1 };
        (u32::from(self.t[base]) * (128 - w) + u32::from(self.t[base + 1]) * w) >> 11
    }

    /// Prefetch the points of context `cx`, ahead of a [`pp`](Self::pp)
    /// in that context (for tables too big for the innermost caches).
    #[inline(always)]
    pub fn prefetch(&self, cx: usize) {
        let base = (cx & self.mask) * 33;
        prefetch(&self.t[base]);
        prefetch(&self.t[base + 32]);
    }

    #[inline(always)]
    pub fn update(&mut self, y: bool) {
        let g = (i32::from(y) << 16) + (i32::from(y) << self.rate) - i32::from(y) - i32::from(y);
        let e = &mut self.t[self.idx];
        let v = i32::from(*e);
        *e = (v + ((g - v) >> self.rate)).clamp(0, 65535) as u16;
    }

    pub fn size_bytes(&self) -> usize {
        self.t.len() * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squash_and_stretch_are_inverse_and_monotone() {
        let s = Stretch::new();
        let mut last = 0;
        for d in -2047..=2047 {
            let p = squash(d);
            assert!((1..=4095).contains(&p));
            assert!(p >= last);
            last = p;
        }
        for p in 1..4095u32 {
            let d = s.get(p);
            assert!((squash(d) - p as i32).abs() <= 40, "p {p} d {d}");
        }
        assert!(s.get(1) < -1500 && s.get(4095) > 1500 && s.get(2048).abs() < 8);
    }

    #[test]
    fn state_table_is_closed_and_counts_follow_bits() {
        let st = StateTable::new();
        assert!(st.len() <= 256 && st.len() > 100, "{} states", st.len());
        assert_eq!(st.counts[0], (0, 0));
        let mut s = 0usize;
        for _ in 0..100 {
            s = st.next[2 * s + 1] as usize;
        }
        let (n0, n1) = st.counts[s];
        assert_eq!(n0, 0);
        assert_eq!(n1, MAX_HI[0]);
        s = st.next[2 * s] as usize;
        let (n0, n1) = st.counts[s];
        assert_eq!(n0, 1);
        assert!(n1 <= MAX_HI[1] && n1 > 5);
        for &n in &st.next {
            assert!((n as usize) < st.len());
        }
    }

    #[test]
    fn state_map_learns() {
        let mut m = StateMap::new(4, 1023);
        for _ in 0..200 {
            m.p(1);
            m.update(true);
            m.p(2);
            m.update(false);
        }
        assert!(m.p(1) > 4000);
        assert!(m.p(2) < 100);
        assert_eq!(m.p(3), 2048);
    }
}
