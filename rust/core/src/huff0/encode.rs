//! Encoding one block into four LSB-first bit streams.
//!
//! The block is cut into four contiguous segments of `q = ceil(n / 4)` bytes
//! (the last one takes what is left, possibly fewer or none), and segment `k`
//! is coded as stream `k`, as in zstd's huff0. Contiguous segments, rather
//! than bytes `j % 4`, are what let the decoder emit a variable number of
//! bytes per table lookup (up to three, see [`super::table`]): each of its
//! four readers then owns an output cursor of its own. The body is:
//!
//! ```text
//!   u32 LE  size of stream 0 in bytes
//!   u32 LE  size of stream 1
//!   u32 LE  size of stream 2      (stream 3 is the rest of the body)
//!   stream 0 | stream 1 | stream 2 | stream 3
//! ```
//!
//! Bit order is LSB-first, as in DEFLATE: a stream's first code sits in the
//! low bits of its first byte, and each code is stored bit-reversed
//! (canonical codes sent most-significant bit first), so that the decoder's
//! next-bits index is `bitbuf & mask`. A stream ends at the byte holding its
//! last bit, padded with zero bits; a stream with no bytes to code is empty.
//!
//! Why it is fast (the accumulator of zstd's `HUF_addBits`): the writer
//! keeps the pending bits in the *top* of a 64-bit word, oldest lowest, and
//! each table entry is `code << (64 - len) | len`. Adding a code is then
//!
//! ```text
//!   acc = (acc >> e) | e        shift counts are taken mod 64: e's low 6 bits
//!   n += e                      only n's low byte is used: it counts the bits
//! ```
//!
//! a byte load, a table load and three one-cycle operations, with no masking:
//! the length byte ORed into the bottom of `acc` is garbage that only ever
//! moves down, below the valid bits (at most 55 of them, from bit 9 up), and
//! the garbage added to `n` above its low byte never reaches it. After `K`
//! codes (`7 + K * L <= 55`: `K = 4` for codes of up to 12 bits) a flush
//! stores the valid bits, moved to the bottom, as one unconditional 8-byte
//! write, and keeps the last partial byte's bits (the top ones) for the next
//! store to rewrite. The four streams are written back to back into one
//! buffer sized up front for the worst case (or, from the container, for the
//! exact size the histogram gives), so the loop never grows it. With BMI2
//! (chosen at run time, [`crate::cpu`]) the variable shifts take any
//! register as their count.
//!
//! Two bytes per lookup: for a block with few distinct bytes (skewed data,
//! text) a `PairTable` holds the entry of every pair of coded bytes
//! (two codes, at most 24 bits), so the main loop reads eight bytes as
//! four `u16`s, makes four lookups and, when the four pair codes take at most
//! 48 bits (nearly always on skewed data), one flush; otherwise two. The
//! same loop counts another block's bytes on the way (`SideCount`): its
//! memory increments overlap the coding's shifts. `docs/huffman.md` ("How
//! the encoder is fast") has the figures.

use super::stats::{self, count_sample};
use super::table::{count8, merge4, EncTable, MAX_TABLE_BITS};
use crate::mem::boxed_array;
use std::cell::RefCell;

/// Size of the jump table at the start of a body.
pub(crate) const JUMP_TABLE_SIZE: usize = 12;

/// The four segments of an `n`-byte block: `(start, end)` of segment `k`.
#[inline]
pub(crate) fn segments(n: usize) -> [(usize, usize); 4] {
    let q = n.div_ceil(4);
    let at = |k: usize| (k * q).min(n);
    [(0, at(1)), (at(1), at(2)), (at(2), at(3)), (at(3), n)]
}

/// Room [`encode_body_into`] needs for a body coding `n` bytes: the jump
/// table, the streams (`exact_bits` when the caller knows the sum of the
/// code lengths over the input, else 12 bits a byte, which holds whatever
/// the loops write even for an input that breaks the rule of
/// [`encode_body_into`]: a byte without a code takes no bits in the byte
/// loop, and at most 12 a byte through a stale pair-table entry), a padded
/// byte per stream and a store window that may reach past the end.
pub(crate) fn body_capacity(n: usize, exact_bits: Option<u64>) -> usize {
    let bits = exact_bits.unwrap_or(n as u64 * u64::from(MAX_TABLE_BITS));
    let streams = usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX);
    streams.saturating_add(JUMP_TABLE_SIZE + BODY_SLACK)
}

/// What [`body_capacity`] adds to the jump table and the streams' bytes.
pub(crate) const BODY_SLACK: usize = 4 + WIN;

/// Write the body (jump table + four streams) coding `input` with `enc`
/// at the start of `buf`, which holds at least [`body_capacity`]`(input.len(),
/// exact_bits)` bytes; returns the body's size (the bytes after it are
/// scratch). Every byte of `input` must have a code (nonzero length) in
/// `enc`; an input that breaks the rule gets a body that does not decode
/// to it, never a panic. `side` counts another block's bytes on the way
/// ([`SideCount`]; pass [`SideCount::none`] when there is none).
pub(crate) fn encode_body_into(
    enc: &EncTable,
    input: &[u8],
    buf: &mut [u8],
    side: &mut SideCount<'_>,
) -> usize {
    let (jt, streams) = buf.split_at_mut(JUMP_TABLE_SIZE);
    let sizes = if use_pairs(enc, input.len()) {
        PAIRS.with(|p| {
            let mut slot = p.borrow_mut();
            let pairs = slot.get_or_insert_with(PairTable::boxed);
            pairs.fill(enc);
            encode_streams_dispatch(enc, Some(pairs), input, streams, side)
        })
    } else {
        encode_streams_dispatch(enc, None, input, streams, side)
    };
    for (k, size) in sizes.iter().take(3).enumerate() {
        jt[4 * k..4 * k + 4].copy_from_slice(&(*size as u32).to_le_bytes());
    }
    JUMP_TABLE_SIZE + sizes.iter().sum::<usize>()
}

/// [`encode_body_into`] appending to `out`, sized from `exact_bits` as
/// [`body_capacity`] says.
pub(crate) fn encode_body(
    enc: &EncTable,
    input: &[u8],
    exact_bits: Option<u64>,
    out: &mut Vec<u8>,
    side: &mut SideCount<'_>,
) {
    let start = out.len();
    out.resize(start + body_capacity(input.len(), exact_bits), 0);
    let n = encode_body_into(enc, input, &mut out[start..], side);
    out.truncate(start + n);
}

/// The statistics of another block (in the container, the next one; see
/// [`super::stats`]), taken while [`encode_body`] codes this one: the pair
/// loop counts the counted word of 64 bytes of it per window it codes, so
/// the counting's loads and stores run alongside the coding's shifts
/// instead of in a pass of their own (the two share no data, and neither
/// loop alone keeps the core busy). [`SideCount::counts`] counts whatever
/// the coding loop did not reach (all of it when the block was not coded
/// with the pair loop) and checks the bytes not counted.
pub(crate) struct SideCount<'a> {
    data: &'a [u8],
    /// `data[..pos]` is counted in `h`.
    pos: usize,
    /// Four sub-histograms, as in [`super::table::histogram_small`].
    h: [[u32; 256]; 4],
}

impl<'a> SideCount<'a> {
    /// Counting `data` (under 2^32 bytes: the counters are `u32`).
    pub(crate) fn new(data: &'a [u8]) -> Self {
        SideCount {
            data,
            pos: 0,
            h: [[0; 256]; 4],
        }
    }

    /// Nothing to count.
    pub(crate) fn none() -> SideCount<'static> {
        SideCount::new(&[])
    }

    /// The next part, of `len` bytes rounded down to whole windows (and to
    /// what is left), for a stream's window loop to count.
    fn take_windows(&mut self, len: usize) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        let part = &rest[..len.min(rest.len()) / WIN_BYTES * WIN_BYTES];
        self.pos += part.len();
        part
    }

    /// The statistics of the whole of `data`: [`super::stats::block_stats`].
    pub(crate) fn counts(&self) -> [u32; 256] {
        let mut h = self.h;
        count_sample(&mut h, &self.data[self.pos..]);
        stats::finish(merge4(&h), self.data)
    }
}

/// Entries of the pair table: one per pair of bytes.
const PAIR_ENTRIES: usize = 1 << 16;

/// Codes for pairs of bytes: entry `a | b << 8` holds the code of byte `a`
/// followed by that of byte `b`, in the form of [`EncTable::packed`]
/// (`code << (64 - len) | len`, at most 24 bits), so that the coding loop
/// takes two bytes per lookup (one little-endian `u16` load) and does half
/// the shifts and ORs. Only the entries of pairs of bytes that have codes
/// are filled (`u * u` of them for `u` coded bytes); the others keep
/// whatever an earlier code put there, and are never read for input whose
/// bytes all have codes (an input that breaks that rule gets a body that
/// does not decode to it, never a panic: every entry is a plain number).
///
/// 512 KiB, so one per thread ([`PAIRS`]) is kept and refilled per block,
/// and only when the block has few enough coded bytes that the `u * u`
/// entries cost less than the lookups they save ([`use_pairs`]).
pub(crate) struct PairTable {
    entries: Box<[u64; PAIR_ENTRIES]>,
    /// The packed codes the entries were last filled for: a block with the
    /// same code (stationary data) skips the refill.
    filled_for: Option<Box<[u64; 256]>>,
}

thread_local! {
    /// This thread's pair table, made on first use by a large enough block.
    static PAIRS: RefCell<Option<PairTable>> = const { RefCell::new(None) };
}

impl PairTable {
    fn boxed() -> PairTable {
        PairTable {
            entries: boxed_array(0),
            filled_for: None,
        }
    }

    /// Fill the entries of every pair of coded bytes of `enc`.
    fn fill(&mut self, enc: &EncTable) {
        if self.filled_for.as_deref() == Some(&enc.packed) {
            return;
        }
        let mut used = [(0u8, 0u64, 0u32); 256];
        let mut u = 0;
        for (s, (&c, &p)) in enc.codes.iter().zip(&enc.packed).enumerate() {
            if p != 0 {
                used[u] = (s as u8, u64::from(c), p as u32 & 0xFF);
                u += 1;
            }
        }
        let used = &used[..u];
        for &(b, code_b, len_b) in used {
            let row = usize::from(b) << 8;
            for &(a, code_a, len_a) in used {
                // Byte `a` first, so its code takes the low bits (LSB-first).
                let len = len_a + len_b;
                let code = code_a | code_b << len_a;
                self.entries[row | usize::from(a)] = code << (64 - len) | u64::from(len);
            }
        }
        match &mut self.filled_for {
            Some(f) => f.copy_from_slice(&enc.packed),
            None => self.filled_for = Some(Box::new(enc.packed)),
        }
    }
}

/// Whether coding `n` bytes with `enc` should go through the pair table:
/// when its `u * u` entries cost well under the `n / 2` lookups they save.
fn use_pairs(enc: &EncTable, n: usize) -> bool {
    let u = enc.packed.iter().filter(|&&p| p != 0).count();
    n >= 4096 && u * u * 4 <= n
}

/// [`encode_streams`], in the BMI2 build when [`crate::cpu::features`] allows.
fn encode_streams_dispatch(
    enc: &EncTable,
    pairs: Option<&PairTable>,
    input: &[u8],
    buf: &mut [u8],
    side: &mut SideCount<'_>,
) -> [usize; 4] {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().bmi2 {
        #[allow(unsafe_code)]
        // SAFETY: `encode_streams_bmi2` is safe code whose only requirement
        // is that the CPU supports BMI2, which `cpu::features()` has checked.
        return unsafe { encode_streams_bmi2(enc, pairs, input, buf, side) };
    }
    encode_streams(enc, pairs, input, buf, side)
}

/// [`encode_streams`] compiled with BMI2 (see [`super::cpu`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
fn encode_streams_bmi2(
    enc: &EncTable,
    pairs: Option<&PairTable>,
    input: &[u8],
    buf: &mut [u8],
    side: &mut SideCount<'_>,
) -> [usize; 4] {
    encode_streams(enc, pairs, input, buf, side)
}

/// Code the four segments of `input` back to back into `buf`, with the
/// pair table when given (filled for `enc`); returns the streams' sizes.
#[inline(always)]
fn encode_streams(
    enc: &EncTable,
    pairs: Option<&PairTable>,
    input: &[u8],
    buf: &mut [u8],
    side: &mut SideCount<'_>,
) -> [usize; 4] {
    let mut pos = 0;
    let mut sizes = [0usize; 4];
    for (k, (a, b)) in segments(input.len()).into_iter().enumerate() {
        let seg = &input[a..b];
        let end = match pairs {
            Some(p) => {
                let part = side.take_windows(seg.len());
                encode_stream_pairs(&p.entries, &enc.packed, seg, buf, pos, &mut side.h, part)
            }
            None => encode_stream(&enc.packed, seg, buf, pos),
        };
        sizes[k] = end - pos;
        pos = end;
    }
    sizes
}

/// Codes per flush: `7 + K * 12 <= 55` (module docs).
const K: usize = 4;

/// Groups per output window: the inner loop writes through a fixed-size
/// window of the buffer, taken (and bounds-checked) once per `WIN_GROUPS`
/// groups, so that its stores need no check of their own.
const WIN_GROUPS: usize = 16;
/// Input bytes per window.
const WIN_BYTES: usize = K * WIN_GROUPS;
/// A window's size: its stores start at `at & WIN_MASK`, which is `at`
/// itself and which the compiler sees is in bounds with the 8 bytes of a
/// store after it. A window takes `WIN_BYTES` input bytes in flushes of at
/// most 6 bytes: 16 in the byte loop (four bytes each), at most 16 in the
/// pair loop (one or two per eight bytes), so at most 15 flushes, 90
/// bytes, come before the last store.
const WIN: usize = WIN_MASK + 1 + 8;
const WIN_MASK: usize = 127;
const _: () = assert!(6 * (WIN_BYTES / 4 - 1) <= WIN_MASK);
// The pair loop counts one sample word of the side block per window.
const _: () = assert!(WIN_BYTES == stats::WINDOW);

/// Code `seg` as one stream into `buf` from byte `pos`; returns the end.
#[inline(always)]
fn encode_stream(packed: &[u64; 256], seg: &[u8], buf: &mut [u8], pos: usize) -> usize {
    let mut pos = pos;
    // Valid bits: the top `n & 0xFF` bits of `acc`, oldest lowest.
    let mut acc = 0u64;
    let mut n = 0u64;
    let mut chunks = seg.chunks_exact(K * WIN_GROUPS);
    for c in &mut chunks {
        let win: &mut [u8; WIN] = (&mut buf[pos..pos + WIN]).try_into().unwrap();
        let mut at = 0usize;
        for g in c.chunks_exact(K) {
            // The four steps `acc = (acc >> e) | e` folded into one, so that
            // only two operations per group sit on `acc`'s dependency chain:
            // `acc >> (l1 + l2 + l3 + l4) | e4 | e3 >> l4 | e2 >> (l3 + l4) |
            // e1 >> (l2 + l3 + l4)`. Sums of whole entries have the sums of
            // the lengths in their low 6 bits, all a shift looks at.
            let [e1, e2, e3, e4] = [g[0], g[1], g[2], g[3]].map(|b| packed[usize::from(b)]);
            let s3 = e3.wrapping_add(e4);
            let s2 = e2.wrapping_add(s3);
            let s1 = e1.wrapping_add(s2);
            let t = e4
                | e3.wrapping_shr(e4 as u32)
                | e2.wrapping_shr(s3 as u32)
                | e1.wrapping_shr(s2 as u32);
            acc = acc.wrapping_shr(s1 as u32) | t;
            n = n.wrapping_add(s1);
            store_group(win, &mut at, acc, &mut n);
        }
        pos += at;
    }
    for &b in chunks.remainder() {
        let e = packed[usize::from(b)];
        acc = acc.wrapping_shr(e as u32) | e;
        n = n.wrapping_add(e);
        if n & 0xFF > 48 {
            flush(buf, &mut pos, acc, &mut n);
        }
    }
    finish(buf, pos, acc, n)
}

/// [`encode_stream`] two bytes per lookup, with the pair table `pairs`
/// ([`PairTable`]); the same bits. A group is two pairs (at most 48 bits,
/// as four codes); an odd last byte goes through `packed`.
#[inline(always)]
fn encode_stream_pairs(
    pairs: &[u64; PAIR_ENTRIES],
    packed: &[u64; 256],
    seg: &[u8],
    buf: &mut [u8],
    pos: usize,
    h: &mut [[u32; 256]; 4],
    side: &[u8],
) -> usize {
    let mut pos = pos;
    let mut sides = side.chunks_exact(WIN_BYTES);
    let mut acc = 0u64;
    let mut n = 0u64;
    let mut chunks = seg.chunks_exact(K * WIN_GROUPS);
    for c in &mut chunks {
        let win: &mut [u8; WIN] = (&mut buf[pos..pos + WIN]).try_into().unwrap();
        let mut at = 0usize;
        // Eight bytes, four pairs: one flush when their codes take at most
        // 48 bits (nearly always on skewed data, so the branch is well
        // predicted), else one per two pairs.
        let group =
            |g: &[u8; 8], acc: &mut u64, n: &mut u64, win: &mut [u8; WIN], at: &mut usize| {
                // Four 2-byte loads (no shifts to take the pairs apart).
                let pair = |k: usize| {
                    let p: [u8; 2] = g[k..k + 2].try_into().unwrap_or([0; 2]);
                    pairs[usize::from(u16::from_le_bytes(p))]
                };
                let [e1, e2, e3, e4] = [pair(0), pair(2), pair(4), pair(6)];
                let s3 = e3.wrapping_add(e4);
                let s2 = e2.wrapping_add(s3);
                let s1 = e1.wrapping_add(s2);
                let l1 = s1 & 0xFF;
                if l1 <= 48 {
                    // As in `encode_stream`; every partial sum is under 64.
                    let t = e4
                        | e3.wrapping_shr(e4 as u32)
                        | e2.wrapping_shr(s3 as u32)
                        | e1.wrapping_shr(s2 as u32);
                    *acc = acc.wrapping_shr(s1 as u32) | t;
                    *n += l1;
                    store_exact(win, at, *acc, n);
                } else {
                    for (e1, e2) in [(e1, e2), (e3, e4)] {
                        let s = e1.wrapping_add(e2);
                        *acc = acc.wrapping_shr(s as u32) | (e2 | e1.wrapping_shr(e2 as u32));
                        *n += s & 0xFF;
                        store_exact(win, at, *acc, n);
                    }
                }
            };
        // Fixed-size arrays and constant offsets: no iterator state nor
        // bounds check in the loop, whatever the build inlines.
        let c: &[u8; WIN_BYTES] = c.try_into().unwrap_or(&[0; WIN_BYTES]);
        for j in (0..WIN_BYTES / 2).step_by(8) {
            let g: &[u8; 8] = c[j..j + 8].try_into().unwrap_or(&[0; 8]);
            group(g, &mut acc, &mut n, win, &mut at);
        }
        // The counted word of the side window (`stats::count_sample`).
        if let Some(sc) = sides.next() {
            count8(
                h,
                stats::sample_word(sc.try_into().unwrap_or(&[0; WIN_BYTES])),
            );
        }
        for j in (WIN_BYTES / 2..WIN_BYTES).step_by(8) {
            let g: &[u8; 8] = c[j..j + 8].try_into().unwrap_or(&[0; 8]);
            group(g, &mut acc, &mut n, win, &mut at);
        }
        pos += at;
    }
    let mut rest = chunks.remainder().chunks_exact(2);
    for p in &mut rest {
        let e = pairs[usize::from(u16::from_le_bytes([p[0], p[1]]))];
        acc = acc.wrapping_shr(e as u32) | e;
        n = n.wrapping_add(e);
        // At most 31 + 24 bits, as a group's 7 + 48.
        if n & 0xFF > 31 {
            flush(buf, &mut pos, acc, &mut n);
        }
    }
    for &b in rest.remainder() {
        let e = packed[usize::from(b)];
        acc = acc.wrapping_shr(e as u32) | e;
        n = n.wrapping_add(e);
    }
    finish(buf, pos, acc, n)
}

/// The flush after a group of the window loops: store the valid bits (the
/// top `n & 0xFF`) at `win[at..]`, advance `at` over the whole bytes, keep
/// the bits of the last partial byte. A group of a complete code adds at
/// least 4 bits, so `n & 0xFF` is 1..=55 and the store's shift,
/// `64 - n` = `-n` modulo 64, is in range (for an input with a byte that
/// has no code, anything may be stored, and nothing panics).
#[inline(always)]
fn store_group(win: &mut [u8; WIN], at: &mut usize, acc: u64, n: &mut u64) {
    *n &= 0xFF;
    store_exact(win, at, acc, n);
}

/// [`store_group`] for a count `n` that is exact (at most 55, not a sum of
/// whole entries), so it needs no masking: the pair loop has the low byte
/// of its sum at hand anyway, for its branch (2-7 % faster there).
#[inline(always)]
fn store_exact(win: &mut [u8; WIN], at: &mut usize, acc: u64, n: &mut u64) {
    let a = *at & WIN_MASK;
    let nb = *n;
    win[a..a + 8].copy_from_slice(&acc.wrapping_shr((nb as u32).wrapping_neg()).to_le_bytes());
    *at += (nb >> 3) as usize;
    *n = nb & 7;
}

/// The last flush of a stream; returns its end (at most 7 bits are left:
/// one padded byte, which the flush wrote).
#[inline(always)]
fn finish(buf: &mut [u8], pos: usize, acc: u64, n: u64) -> usize {
    let (mut pos, mut n) = (pos, n);
    flush(buf, &mut pos, acc, &mut n);
    if n != 0 {
        pos += 1;
    }
    pos
}

/// Store the valid bits of `acc` (the top `n & 0xFF`, at most 55) at
/// `buf[pos..]`, advance `pos` over the whole bytes and keep the count of
/// the bits of the last partial byte, which stay at the top of `acc`.
#[inline(always)]
fn flush(buf: &mut [u8], pos: &mut usize, acc: u64, n: &mut u64) {
    let nb = (*n & 0xFF) as u32;
    // `>> 1 >> (63 - nb)` rather than `>> (64 - nb)`: right for nb = 0 too.
    let w = (acc >> 1) >> (63 - nb);
    buf[*pos..*pos + 8].copy_from_slice(&w.to_le_bytes());
    *pos += (nb >> 3) as usize;
    *n = u64::from(nb & 7);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::huff0::histogram;
    use crate::huff0::table::{enc_table, lengths_for};
    use proptest::prelude::*;

    /// The four ways to code `data` (generic or BMI2 build, one byte or
    /// two per lookup) give the same bytes, and each counts `other` right
    /// on the way; returns the bytes.
    fn all_variants_agree(data: &[u8], other: &[u8], bits: u32) -> Vec<u8> {
        let mut h = histogram(data);
        h[0] += 1;
        h[1] += 1;
        let enc = enc_table(&lengths_for(&h, bits));
        let mut pairs = PairTable::boxed();
        pairs.fill(&enc);
        let run = |p: Option<&PairTable>, bmi2: bool| {
            let mut buf = vec![0u8; data.len() * 2 + 2 * WIN];
            let mut side = SideCount::new(other);
            #[cfg(target_arch = "x86_64")]
            let sizes = if bmi2 {
                #[allow(unsafe_code)]
                // SAFETY: only called when the CPU has BMI2 (checked below).
                unsafe {
                    encode_streams_bmi2(&enc, p, data, &mut buf, &mut side)
                }
            } else {
                encode_streams(&enc, p, data, &mut buf, &mut side)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let sizes = encode_streams(&enc, p, data, &mut buf, &mut side);
            assert_eq!(side.counts(), stats::block_stats(other));
            buf.truncate(sizes.iter().sum());
            (sizes, buf)
        };
        let reference = run(None, false);
        assert_eq!(run(Some(&pairs), false), reference, "pairs, generic");
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("bmi2") {
            assert_eq!(run(None, true), reference, "bytes, BMI2");
            assert_eq!(run(Some(&pairs), true), reference, "pairs, BMI2");
        }
        reference.1
    }

    proptest! {
        #[test]
        fn variants_equal_generic(
            data in prop::collection::vec(prop_oneof![0u8..4, any::<u8>()], 0..3000),
            other in prop::collection::vec(any::<u8>(), 0..4000),
            bits in 8u32..=12,
        ) {
            all_variants_agree(&data, &other, bits);
        }
    }

    #[test]
    fn pair_table_refills_for_a_new_code() {
        // A table filled for one code, then another with other bytes: every
        // entry the second code needs is rewritten.
        let a: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 13) as u8).collect();
        let b: Vec<u8> = (0..5000u32).map(|i| (i * 5 % 11) as u8 + 6).collect();
        let mut pairs = PairTable::boxed();
        for data in [&a, &b, &a] {
            let enc = enc_table(&lengths_for(&histogram(data), 11));
            pairs.fill(&enc);
            let mut x = vec![0u8; data.len() * 2 + 2 * WIN];
            let mut y = x.clone();
            let sx = encode_streams(&enc, None, data, &mut x, &mut SideCount::none());
            let sy = encode_streams(&enc, Some(&pairs), data, &mut y, &mut SideCount::none());
            assert_eq!(sx, sy);
            let n = sx.iter().sum::<usize>();
            assert_eq!(x[..n], y[..n]);
        }
    }

    #[test]
    fn long_codes_and_fallback_groups() {
        // Runs of 12-bit codes (pairs of 24 bits: eight bytes take the
        // two-flush path) among short ones (one flush per eight bytes).
        let mut data = vec![0u8; 20_000];
        for (i, d) in data.iter_mut().enumerate() {
            *d = if i % 97 < 90 {
                (i % 3) as u8
            } else {
                (i % 256) as u8
            };
        }
        for run_start in [1000, 5003, 12_001] {
            for (k, d) in data[run_start..run_start + 600].iter_mut().enumerate() {
                *d = 3 + (k % 200) as u8;
            }
        }
        let other: Vec<u8> = (0..30_000u32).map(|i| (i * i % 251) as u8).collect();
        for bits in [8, 11, 12] {
            let enc = enc_table(&lengths_for(&histogram(&data), bits));
            assert_eq!(
                enc.packed.iter().map(|&p| p & 0xFF).max(),
                Some(u64::from(bits))
            );
            all_variants_agree(&data, &other, bits);
            all_variants_agree(&data, &other[..777], bits);
        }
    }

    #[test]
    fn side_count_covers_every_length() {
        let other: Vec<u8> = (0..10_000u32).map(|i| (i % 7 * 3) as u8).collect();
        for n in [0, 1, 63, 64, 65, 640, 5000, 9999, 10_000] {
            let mut side = SideCount::new(&other[..n]);
            let a = side.take_windows(100);
            assert_eq!(a.len(), 64.min(n / 64 * 64));
            let b = side.take_windows(1000);
            assert_eq!(b.len(), 1000.min(n - a.len()) / 64 * 64);
            assert_eq!(a, &other[..a.len()]);
            assert_eq!(b, &other[a.len()..a.len() + b.len()]);
            // What a stream's window loop does with its part.
            count_sample(&mut side.h, a);
            count_sample(&mut side.h, b);
            assert_eq!(side.counts(), stats::block_stats(&other[..n]), "n = {n}");
        }
    }

    #[test]
    fn segments_cover_the_block() {
        for n in 0..200 {
            let s = segments(n);
            assert_eq!(s[0].0, 0);
            assert_eq!(s[3].1, n);
            for k in 0..3 {
                assert_eq!(s[k].1, s[k + 1].0, "n = {n}");
            }
            let q = n.div_ceil(4);
            assert!(s.iter().all(|(a, b)| a <= b && b - a <= q));
        }
        assert_eq!(segments(5), [(0, 2), (2, 4), (4, 5), (5, 5)]);
        assert_eq!(segments(8), [(0, 2), (2, 4), (4, 6), (6, 8)]);
    }
}
