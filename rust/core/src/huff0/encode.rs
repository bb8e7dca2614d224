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
//! (chosen at run time, [`super::cpu`]) the variable shifts take any
//! register as their count.

use super::table::EncTable;

/// Size of the jump table at the start of a body.
pub(crate) const JUMP_TABLE_SIZE: usize = 12;

/// The four segments of an `n`-byte block: `(start, end)` of segment `k`.
#[inline]
pub(crate) fn segments(n: usize) -> [(usize, usize); 4] {
    let q = n.div_ceil(4);
    let at = |k: usize| (k * q).min(n);
    [(0, at(1)), (at(1), at(2)), (at(2), at(3)), (at(3), n)]
}

/// Append the body (jump table + four streams) coding `input` with `enc`,
/// whose longest code is `max_len` bits. Every byte of `input` must have a
/// code (nonzero length) in `enc`. `exact_bits`, when the caller knows it
/// (sum of code lengths over `input`), sizes the buffer exactly.
pub(crate) fn encode_body(
    enc: &EncTable,
    max_len: u32,
    input: &[u8],
    exact_bits: Option<u64>,
    out: &mut Vec<u8>,
) {
    let jt = out.len();
    out.extend_from_slice(&[0; JUMP_TABLE_SIZE]);
    let bits = exact_bits.unwrap_or(input.len() as u64 * u64::from(max_len));
    // Each stream may end in a padded byte; a store window (`WIN` bytes)
    // may reach past the end.
    let cap = usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX) + 4 + WIN;
    let start = out.len();
    out.resize(start + cap, 0);
    let buf = &mut out[start..];
    let sizes = encode_streams_dispatch(enc, input, buf);
    let pos = sizes.iter().sum::<usize>();
    out.truncate(start + pos);
    for (k, size) in sizes.iter().take(3).enumerate() {
        out[jt + 4 * k..jt + 4 * k + 4].copy_from_slice(&(*size as u32).to_le_bytes());
    }
}

/// [`encode_streams`], in the BMI2 build when [`crate::cpu::features`] allows.
fn encode_streams_dispatch(enc: &EncTable, input: &[u8], buf: &mut [u8]) -> [usize; 4] {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().bmi2 {
        #[allow(unsafe_code)]
        // SAFETY: `encode_streams_bmi2` is safe code whose only requirement
        // is that the CPU supports BMI2, which `cpu::features()` has checked.
        return unsafe { encode_streams_bmi2(enc, input, buf) };
    }
    encode_streams(enc, input, buf)
}

/// [`encode_streams`] compiled with BMI2 (see [`super::cpu`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
fn encode_streams_bmi2(enc: &EncTable, input: &[u8], buf: &mut [u8]) -> [usize; 4] {
    encode_streams(enc, input, buf)
}

/// Code the four segments of `input` back to back into `buf`; returns the
/// streams' sizes.
#[inline(always)]
fn encode_streams(enc: &EncTable, input: &[u8], buf: &mut [u8]) -> [usize; 4] {
    let mut pos = 0;
    let mut sizes = [0usize; 4];
    for (k, (a, b)) in segments(input.len()).into_iter().enumerate() {
        let end = encode_stream(&enc.packed, &input[a..b], buf, pos);
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
/// A window's size: `WIN_GROUPS` groups of at most 6 bytes, plus the 8 of
/// the last store.
const WIN: usize = 6 * WIN_GROUPS + 8;

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
            // `at <= 6 * 15` before the last group: the `min` only tells the
            // compiler so.
            let a = at.min(WIN - 8);
            let nb = (n & 0xFF) as u32;
            win[a..a + 8].copy_from_slice(&((acc >> 1) >> (63 - nb)).to_le_bytes());
            at += (nb >> 3) as usize;
            n = u64::from(nb & 7);
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
    flush(buf, &mut pos, acc, &mut n);
    // At most 7 bits are left: one padded byte (the flush wrote it).
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

    proptest! {
        #[test]
        fn bmi2_build_equals_generic(
            data in prop::collection::vec(prop_oneof![0u8..4, any::<u8>()], 0..3000),
            bits in 8u32..=12,
        ) {
            let mut h = histogram(&data);
            h[0] += 1;
            h[1] += 1;
            let enc = enc_table(&lengths_for(&h, bits));
            let mut a = vec![0u8; data.len() * 2 + 2 * WIN];
            let mut b = a.clone();
            let sa = encode_streams(&enc, &data, &mut a);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("bmi2") {
                #[allow(unsafe_code)]
                // SAFETY: the CPU has BMI2 (checked just above).
                let sb = unsafe { encode_streams_bmi2(&enc, &data, &mut b) };
                prop_assert_eq!(sa, sb);
                let n = sa.iter().sum::<usize>();
                prop_assert_eq!(&a[..n], &b[..n]);
            }
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
