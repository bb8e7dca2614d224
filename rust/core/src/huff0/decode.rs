//! Decoding one block body: four bit readers advanced in one loop, up to
//! three bytes per table lookup.
//!
//! Stream `k` holds segment `k` of the block (see [`super::encode`]), so
//! each reader has its own output cursor. The hot loop runs *groups*: per
//! group each reader loads the eight bytes under its bit position as one
//! little-endian word, shifts off the `pos % 8` bits already used (leaving at
//! least 57 valid bits) and makes `G` lookups in the multi-symbol table
//! (see [`super::table`]): `G = 5` with an 11-bit table, 4 with a 12-bit one,
//! so `G * T <= 56`. A lookup is
//!
//! ```text
//!   e = multi[word & mask]          the next T bits
//!   word >>= e                      (shift counts are taken mod 64: e's low 6 bits)
//!   out[o..o + 4] = e >> 6          up to three symbols and a don't-care byte
//!   o += e >> 30                    how many of them are real
//! ```
//!
//! The word's bit 63 is set at the start of a group as a sentinel (a group
//! reads at most 56 bits, so it is never decoded): its leading zeros at the
//! end are the bits the group consumed, and the bit position is updated once
//! per group, not per lookup. The loop-carried chains are the word (AND, load, shift)
//! and the output cursor (one add); the four readers' chains overlap, which
//! is where huff0's speed comes from, and each lookup yields about
//! `T / (bits per byte)` bytes, up to three.
//!
//! Bounds, without a check per lookup: the loop runs in *rounds*. Before a
//! round, each reader works out how many groups it can take while its 8-byte
//! load stays inside its own stream (a group advances at most 7 bytes) and
//! its 4-byte stores stay inside its own segment (a group advances the cursor
//! by at most `3 * G` and writes at most one byte past that); the round runs
//! the smallest of these with no end checks. When a reader can no longer take
//! a group, it leaves the four-reader loop: it finishes alone, one symbol per
//! lookup in the single-symbol table, reading zero bits past its stream's
//! end, while the others carry on in a loop of fewer readers. Work is bounded
//! by the output size whatever the input.
//!
//! Registers: four readers' words, cursors and store windows overflow
//! x86-64's 15 general registers in the safe loop (the compiler spills the
//! windows to the stack). The BMI2 build therefore runs the multi-symbol
//! rounds in [`rounds_raw`], a small unsafe function whose only state per
//! reader is its word and one output pointer, within the bounds the round
//! has already established; measured in CPU time on one core against the
//! safe loop, 10-20 % faster on skewed bytes and float32 exponent bytes. The
//! portable build (and `SCALEZIP_NO_SIMD`) keeps the safe loop; a test
//! compares the two.
//!
//! Why peeking is safe: a lookup may read bits past the codes it emits (they
//! are the next codes, or another stream's bytes, or padding), but it only
//! emits a second or third symbol whose whole code lies in the `T` bits, and
//! the fast loop only runs while at least `3 * G + 1` bytes of the segment
//! remain, so in a valid stream every symbol it emits is a real one.
//!
//! Validation: the table is complete, so every pattern decodes to a symbol
//! and the loop has no error branch. A stream is accepted only if its codes
//! end within its last byte (`ceil(bits / 8) == size`); anything that reads
//! past its end or stops short is corrupt. What slips through (a flipped bit
//! that still decodes consistently) is caught by the container's CRC-32.

use super::encode::{segments, JUMP_TABLE_SIZE};
use super::error::Huff0Error;
use super::table::{DecTable, DTABLE_SIZE};

/// The 64 bits of `data` from bit `bitpos` on (LSB-first), at least 57 of
/// them valid: the eight bytes under `bitpos`, shifted right by
/// `bitpos % 8`. Zero if the load would leave `data` (the callers' bounds
/// make that impossible).
#[inline(always)]
fn load_word(data: &[u8], bitpos: usize) -> u64 {
    let i = bitpos >> 3;
    match data.get(i..i + 8) {
        Some(s) => {
            u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) >> (bitpos & 7)
        }
        None => 0,
    }
}

/// Like [`load_word`] for the tail: bytes past the end of `data` read as
/// zero. At least 17 bits are valid.
fn load_word_slow(data: &[u8], bitpos: usize) -> u64 {
    let i = bitpos >> 3;
    let mut w = 0u64;
    for k in 0..3 {
        w |= u64::from(data.get(i + k).copied().unwrap_or(0)) << (8 * k);
    }
    w >> (bitpos & 7)
}

/// How many groups a reader at `bitpos` can take before its 8-byte load
/// would pass `end` (each group advances at most 7 bytes).
#[inline(always)]
fn safe_in(bitpos: usize, end: usize) -> usize {
    match end.checked_sub((bitpos >> 3) + 8) {
        Some(slack) => slack / 7 + 1,
        None => 0,
    }
}

/// Average code length (bits per byte, from the body's size) up to which
/// the decoder uses the multi-symbol table.
pub(crate) const MULTI_MAX_BITS: u64 = 6;

/// Bytes of output a reader claims per group: its stores land in
/// `out[o..o + WINDOW]` (a group advances the cursor by at most `3 * G`
/// <= 15, and each 4-byte store starts at most `3 * (G - 1)` <= 12 bytes
/// in). The window is wider than that needs so that the store's offset
/// can be bounded with a mask (`at & 15`, one instruction) rather than a
/// compare and select: `at & 15 == at` in a group, and `15 + 4 <= 20`.
const WINDOW: usize = 20;

/// How many groups of `g` lookups a reader whose cursor is at `o` can take
/// before its window would pass `end` (a group advances at most `3g`).
#[inline(always)]
fn safe_out(o: usize, end: usize, g: usize) -> usize {
    match end.checked_sub(o + WINDOW) {
        Some(slack) => slack / (3 * g) + 1,
        None => 0,
    }
}

/// Decode a body (jump table + four streams, see [`super::encode`]) into
/// `out`, whose length is the block's original size. Errors name block 0;
/// the container re-attributes them.
pub(crate) fn decode_body(dec: &DecTable, body: &[u8], out: &mut [u8]) -> Result<(), Huff0Error> {
    let bad_sizes = Huff0Error::BadStreamSizes { block: 0 };
    let Some((jt, streams)) = body.split_first_chunk::<JUMP_TABLE_SIZE>() else {
        return Err(bad_sizes);
    };
    let size = |i: usize| {
        u64::from(u32::from_le_bytes([
            jt[4 * i],
            jt[4 * i + 1],
            jt[4 * i + 2],
            jt[4 * i + 3],
        ]))
    };
    let (e0, e1, e2) = (size(0), size(0) + size(1), size(0) + size(1) + size(2));
    if e2 > streams.len() as u64 {
        return Err(bad_sizes);
    }
    let ends = [e0 as usize, e1 as usize, e2 as usize, streams.len()];
    let seg = segments(out.len());
    // Reader k: bit position in `streams`, end of its stream, output cursor,
    // end of its segment.
    let mut r: [Reader; 4] = std::array::from_fn(|k| Reader {
        bitpos: if k == 0 { 0 } else { ends[k - 1] * 8 },
        end: ends[k],
        ostart: seg[k].0,
        o: seg[k].0,
        oend: seg[k].1,
    });
    // Several bytes per lookup pay when codes are short; at more than 6
    // bits a byte on average (near-uniform data) a lookup mostly yields
    // one, and the one-byte loop (cheaper per lookup, and its table is
    // already built) does as well. Measured: text (4.6 bits) is faster
    // with the multi-symbol table.
    let multi = dec.has_multi && (streams.len() as u64) * 8 <= out.len() as u64 * MULTI_MAX_BITS;
    fast_dispatch(dec, multi, streams, out, &mut r);
    for (k, rd) in r.iter().enumerate() {
        let start = if k == 0 { 0 } else { ends[k - 1] };
        finish(&dec.single, &streams[start..rd.end], rd, start, out, k)?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Reader {
    bitpos: usize,
    end: usize,
    ostart: usize,
    o: usize,
    oend: usize,
}

/// Run [`fast`] for `dec`'s table size, in the BMI2 build when
/// [`crate::cpu::features`] allows it.
fn fast_dispatch(dec: &DecTable, multi: bool, streams: &[u8], out: &mut [u8], r: &mut [Reader; 4]) {
    #[cfg(target_arch = "x86_64")]
    if has_bmi2_lzcnt() {
        #[allow(unsafe_code)]
        // SAFETY: `fast_bmi2` is safe code whose only requirement is that
        // the CPU supports BMI1, BMI2 and LZCNT, which `has_bmi2_lzcnt`
        // has just checked.
        unsafe {
            fast_bmi2(dec, multi, streams, out, r)
        };
        return;
    }
    fast_generic::<false>(dec, multi, streams, out, r);
}

/// The fast loops for `dec`'s table size; `RAW`: the multi-symbol rounds
/// run in [`rounds_raw`] (the BMI2 build only), else in the safe loop.
#[inline(always)]
fn fast_generic<const RAW: bool>(
    dec: &DecTable,
    multi: bool,
    streams: &[u8],
    out: &mut [u8],
    r: &mut [Reader; 4],
) {
    match (dec.log <= 11, multi) {
        (true, true) => fast::<0x7FF, 5, true, RAW>(dec, streams, out, r),
        (false, true) => fast::<0xFFF, 4, true, RAW>(dec, streams, out, r),
        (true, false) => fast::<0xFFF, 5, false, RAW>(dec, streams, out, r),
        (false, false) => fast::<0xFFF, 4, false, RAW>(dec, streams, out, r),
    }
}

/// Whether [`fast_bmi2`] may run: [`crate::cpu::features`] allows BMI2
/// (so not with `SCALEZIP_NO_SIMD`) and the CPU has LZCNT (every x86-64
/// CPU with BMI2 has it; checked all the same).
#[cfg(target_arch = "x86_64")]
fn has_bmi2_lzcnt() -> bool {
    crate::cpu::features().bmi2 && std::arch::is_x86_feature_detected!("lzcnt")
}

/// [`fast_generic`] compiled with BMI1, BMI2 and LZCNT (see
/// [`crate::cpu`]): `shrx` for the shifts, and `lzcnt` for the bits a
/// group consumed (one instruction, where the baseline needs `bsr` and a
/// correction).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt")]
fn fast_bmi2(dec: &DecTable, multi: bool, streams: &[u8], out: &mut [u8], r: &mut [Reader; 4]) {
    // The multi-symbol loops run their rounds with raw output pointers
    // ([`rounds_raw`]); the one-symbol loops are the portable ones.
    fast_generic::<true>(dec, multi, streams, out, r);
}

/// The fast loops: four readers together while all can go on, then the
/// ones that still can in a loop of three, two, one. Leaves each reader
/// where its own bounds stopped it.
#[inline(always)]
fn fast<const MASK: u64, const G: usize, const MULTI: bool, const RAW: bool>(
    dec: &DecTable,
    streams: &[u8],
    out: &mut [u8],
    r: &mut [Reader; 4],
) {
    let can = |rd: &Reader| safe_in(rd.bitpos, rd.end).min(safe_out(rd.o, rd.oend, G)) > 0;
    let mut order = [0usize, 1, 2, 3];
    let mut live = 4;
    loop {
        // Move the readers that can go on to the front.
        let mut n = 0;
        for i in 0..live {
            if can(&r[order[i]]) {
                order.swap(n, i);
                n += 1;
            }
        }
        live = n;
        match live {
            4 => lanes::<MASK, G, 4, MULTI, RAW>(dec, streams, out, r, [0, 1, 2, 3]),
            3 => lanes::<MASK, G, 3, MULTI, RAW>(
                dec,
                streams,
                out,
                r,
                [order[0], order[1], order[2]],
            ),
            2 => lanes::<MASK, G, 2, MULTI, RAW>(dec, streams, out, r, [order[0], order[1]]),
            1 => lanes::<MASK, G, 1, MULTI, RAW>(dec, streams, out, r, [order[0]]),
            _ => return,
        }
    }
}

/// Run readers `idx` (N of them) in rounds of groups while all of them can
/// go on (module docs).
///
/// Each group borrows a [`WINDOW`]-byte window of the output per reader
/// (checked once per group) and stores at `window[at & 15..][..4]`: `at`
/// never exceeds 12 within a group, and the mask lets the compiler see that
/// the store stays inside the window, so the lookups need no bounds check.
#[inline(always)]
fn lanes<const MASK: u64, const G: usize, const N: usize, const MULTI: bool, const RAW: bool>(
    dec: &DecTable,
    streams: &[u8],
    out: &mut [u8],
    r: &mut [Reader; 4],
    idx: [usize; N],
) {
    // The readers' segments as disjoint slices, cursors relative to them.
    let mut segs = split4(out, r).map(Some);
    let mut seg: [&mut [u8]; N] = std::array::from_fn(|i| segs[idx[i]].take().unwrap_or_default());
    let mut p: [usize; N] = std::array::from_fn(|i| r[idx[i]].bitpos);
    let mut o: [usize; N] = std::array::from_fn(|i| r[idx[i]].o - r[idx[i]].ostart);
    let end: [usize; N] = std::array::from_fn(|i| r[idx[i]].end);
    loop {
        let mut rounds = usize::MAX;
        for i in 0..N {
            rounds = rounds
                .min(safe_in(p[i], end[i]))
                .min(safe_out(o[i], seg[i].len(), G));
        }
        if rounds == 0 {
            break;
        }
        #[cfg(target_arch = "x86_64")]
        if MULTI && RAW {
            #[allow(unsafe_code)]
            // SAFETY: `rounds` is at most `safe_in` and `safe_out` of every
            // reader, as `rounds_raw` requires (computed just above).
            unsafe {
                rounds_raw::<MASK, G, N>(&dec.multi, streams, &mut p, &mut seg, &mut o, rounds)
            };
            continue;
        }
        for _ in 0..rounds {
            // Bit 63 is a sentinel: the group reads at most 56 bits, so it
            // is never decoded, and its leading zeros at the end are the bits
            // consumed.
            let mut w: [u64; N] = std::array::from_fn(|i| load_word(streams, p[i]) | 1 << 63);
            let mut at = [0usize; N];
            let mut k = 0;
            // In bounds by `safe_out` (the round's bound).
            let win: [&mut [u8; WINDOW]; N] = seg.each_mut().map(|s| {
                let o = o[k];
                k += 1;
                let w: &mut [u8; WINDOW] = (&mut s[o..o + WINDOW]).try_into().unwrap();
                w
            });
            if MULTI {
                for _ in 0..G {
                    for i in 0..N {
                        let e = dec.multi[(w[i] & MASK) as usize];
                        w[i] = w[i].wrapping_shr(e);
                        let a = at[i] & 15;
                        win[i][a..a + 4].copy_from_slice(&(e >> 6).to_le_bytes());
                        at[i] += (e >> 30) as usize;
                    }
                }
            } else {
                // One byte per lookup in the single-symbol table (12-bit
                // index; the group peeks at most 11 * 4 + 12 bits).
                // `j` indexes each reader's window: the loop is over
                // positions, with the readers interleaved inside.
                #[allow(clippy::needless_range_loop)]
                for j in 0..G {
                    for i in 0..N {
                        let e = dec.single[(w[i] & MASK) as usize];
                        w[i] = w[i].wrapping_shr(u32::from(e));
                        win[i][j] = (e >> 8) as u8;
                    }
                }
                at = [G; N];
            }
            for i in 0..N {
                p[i] += w[i].leading_zeros() as usize;
                o[i] += at[i];
            }
        }
    }
    for i in 0..N {
        r[idx[i]].bitpos = p[i];
        r[idx[i]].o = r[idx[i]].ostart + o[i];
    }
}

/// `rounds` rounds of the multi-symbol loop of [`lanes`], with raw
/// pointers for the word loads and output stores: per reader, only its bit
/// position and an output pointer (where [`lanes`]' safe loop keeps a
/// cursor, a window and an offset in it), so the four readers' state fits
/// in registers without spills. Same lookups, same stores, same results as
/// the safe loop (tests compare the two builds).
///
/// # Safety
///
/// For every reader `i`, `rounds <= safe_in(p[i], end_i)` where `end_i <=
/// streams.len()` is its stream's end, and `rounds <= safe_out(o[i],
/// seg[i].len(), G)`: then every 8-byte load lies in `streams` (a group
/// moves at most 7 bytes on) and every 4-byte store in `seg[i]` (a group
/// moves the cursor at most `3 * G`, and [`WINDOW`] covers the store's
/// reach past it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
unsafe fn rounds_raw<const MASK: u64, const G: usize, const N: usize>(
    table: &[u32; DTABLE_SIZE],
    streams: &[u8],
    p: &mut [usize; N],
    seg: &mut [&mut [u8]; N],
    o: &mut [usize; N],
    rounds: usize,
) {
    let base = streams.as_ptr();
    // SAFETY (all blocks below): in bounds by the function's contract.
    let start: [*mut u8; N] = std::array::from_fn(|i| seg[i].as_mut_ptr());
    let mut op: [*mut u8; N] = std::array::from_fn(|i| unsafe { start[i].add(o[i]) });
    for _ in 0..rounds {
        let mut w: [u64; N] = std::array::from_fn(|i| {
            let word = unsafe { std::ptr::read_unaligned(base.add(p[i] >> 3).cast::<u64>()) };
            (u64::from_le(word) >> (p[i] & 7)) | 1 << 63
        });
        for _ in 0..G {
            for i in 0..N {
                let e = table[(w[i] & MASK) as usize];
                w[i] = w[i].wrapping_shr(e);
                unsafe {
                    std::ptr::write_unaligned(op[i].cast::<u32>(), (e >> 6).to_le());
                    op[i] = op[i].add((e >> 30) as usize);
                }
            }
        }
        for i in 0..N {
            p[i] += w[i].leading_zeros() as usize;
        }
    }
    for i in 0..N {
        o[i] = unsafe { op[i].offset_from(start[i]) } as usize;
    }
}

/// `out` cut into the four readers' segments.
fn split4<'a>(out: &'a mut [u8], r: &[Reader; 4]) -> [&'a mut [u8]; 4] {
    let (s0, rest) = out.split_at_mut(r[1].ostart);
    let (s1, rest) = rest.split_at_mut(r[2].ostart - r[1].ostart);
    let (s2, s3) = rest.split_at_mut(r[3].ostart - r[2].ostart);
    [s0, s1, s2, s3]
}

/// Finish reader `k` one symbol per lookup, then check that its codes end
/// in the last byte of its stream `data` (which starts at byte `start`).
fn finish(
    single: &[u16; DTABLE_SIZE],
    data: &[u8],
    rd: &Reader,
    start: usize,
    out: &mut [u8],
    k: usize,
) -> Result<(), Huff0Error> {
    let mut p = rd.bitpos - start * 8;
    for o in out.get_mut(rd.o..rd.oend).unwrap_or_default() {
        let w = load_word_slow(data, p);
        let e = single[w as usize & (DTABLE_SIZE - 1)];
        *o = (e >> 8) as u8;
        p += usize::from(e & 0xFF);
    }
    if p.div_ceil(8) != data.len() {
        return Err(Huff0Error::CorruptStream {
            block: 0,
            stream: k,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::huff0::{histogram, Table};
    use proptest::prelude::*;

    /// Decode `body` with the generic fast loop and, where the CPU has it,
    /// the BMI2 build: same output, same reader positions.
    fn both_builds(t: &Table, body: &[u8], n: usize, multi: bool) {
        let run = |bmi2: bool| {
            let mut out = vec![0u8; n];
            let (jt, streams) = body.split_at(JUMP_TABLE_SIZE);
            let size =
                |i: usize| u32::from_le_bytes(jt[4 * i..4 * i + 4].try_into().unwrap()) as usize;
            let ends = [
                size(0),
                size(0) + size(1),
                size(0) + size(1) + size(2),
                streams.len(),
            ];
            let seg = segments(n);
            let mut r: [Reader; 4] = std::array::from_fn(|k| Reader {
                bitpos: if k == 0 { 0 } else { ends[k - 1] * 8 },
                end: ends[k],
                ostart: seg[k].0,
                o: seg[k].0,
                oend: seg[k].1,
            });
            if bmi2 {
                #[cfg(target_arch = "x86_64")]
                #[allow(unsafe_code)]
                // SAFETY: only called after checking that the CPU has BMI1,
                // BMI2 and LZCNT.
                unsafe {
                    fast_bmi2(&t.dec, multi, streams, &mut out, &mut r)
                };
            } else {
                fast_generic::<false>(&t.dec, multi, streams, &mut out, &mut r);
            }
            (out, r.map(|r| (r.bitpos, r.o)))
        };
        let generic = run(false);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
        {
            assert_eq!(run(true), generic);
        }
    }

    proptest! {
        #[test]
        fn bmi2_build_equals_generic(
            data in prop::collection::vec(prop_oneof![0u8..4, any::<u8>()], 1..5000),
            bits in 8u32..=12,
        ) {
            let mut h = histogram(&data);
            h[0] += 1;
            let t = Table::from_histogram(&h, bits).unwrap();
            let body = crate::huff0::encode_block_with(&t, &data).unwrap();
            both_builds(&t, &body, data.len(), true);
            both_builds(&t, &body, data.len(), false);
            prop_assert_eq!(crate::huff0::decode_block_with(&t, &body, data.len()).unwrap(), data);
        }
    }
}
