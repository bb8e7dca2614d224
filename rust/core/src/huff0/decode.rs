//! Decoding one block body: four bit readers advanced in one loop.
//!
//! Stream `i` holds bytes `i, i + 4, ...` of the block (see
//! [`super::encode`]). The hot loop decodes groups of `4 * K` output bytes,
//! `K` from each stream (`K = 5` when the table's longest code is at most 11
//! bits, 4 at 12), writing them contiguously through one output pointer.
//!
//! Each reader's only state between groups is its absolute bit position in
//! the body. At the start of a group it loads the eight bytes under that
//! position as one little-endian word and shifts off the `pos % 8` bits
//! already used, leaving at least 57 valid bits: enough for `K` codes. A
//! code is then one lookup in the 4096-entry table (see [`super::table`]):
//! the entry's low byte is the code length, used directly as the shift
//! count, and its high byte is the symbol. So the loop-carried chain of a
//! reader is AND, load, shift; four independent chains overlap, which is
//! where huff0's speed comes from. Keeping the state to two registers per
//! reader (position, word) plus one output pointer is what lets the four
//! readers live in registers; nothing here needs `unsafe` or SIMD.
//!
//! Bounds: the loop runs in rounds. Before a round, each reader works out
//! how many groups it can take while its 8-byte load stays inside *its own*
//! stream (a group advances at most 7 bytes), and the round runs that many
//! groups with no end-of-input checks. When no full round fits, each reader
//! finishes its remaining bytes alone, reading zero bits past its stream's
//! end. Work is bounded by the output size whatever the input.
//!
//! Validation: the table is complete, so every 12-bit pattern decodes to a
//! symbol and the loop has no error branch. A stream is accepted only if its
//! codes end within its last byte (`ceil(bits / 8) == size`); anything that
//! reads past its end or stops short is corrupt. What slips through (a
//! flipped bit that still decodes consistently) is caught by the
//! container's CRC-32.

use super::encode::JUMP_TABLE_SIZE;
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

/// Decode one symbol from `word`: returns the entry (length in the low
/// byte, symbol in the high byte) and shifts the code off the word.
#[inline(always)]
fn step(dec: &DecTable, word: &mut u64) -> u16 {
    let e = dec[*word as usize & (DTABLE_SIZE - 1)];
    // The length is at most 12, so `e mod 64` is the length: the shift
    // takes the entry as it is.
    *word = word.wrapping_shr(u32::from(e));
    e
}

/// How many groups a reader at `bitpos` can take before its 8-byte load
/// would pass `end` (each group advances at most 7 bytes).
#[inline(always)]
fn safe_groups(bitpos: usize, end: usize) -> usize {
    match end.checked_sub((bitpos >> 3) + 8) {
        Some(slack) => slack / 7 + 1,
        None => 0,
    }
}

/// Decode a body (jump table + four streams, see [`super::encode`]) into
/// `out`, whose length is the block's original size. `max_len` is the
/// table's longest code. Errors name block 0; the container re-attributes
/// them.
pub(crate) fn decode_body(
    dec: &DecTable,
    max_len: u32,
    body: &[u8],
    out: &mut [u8],
) -> Result<(), Huff0Error> {
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
    // Byte offsets of the stream boundaries within `streams`.
    let bounds = [0, e0 as usize, e1 as usize, e2 as usize, streams.len()];
    if max_len <= 11 {
        decode4::<5>(dec, streams, bounds, out)
    } else {
        decode4::<4>(dec, streams, bounds, out)
    }
}

/// The interleaved loop; `K * max_len <= 56`. Stream `i` is
/// `streams[bounds[i]..bounds[i + 1]]`.
fn decode4<const K: usize>(
    dec: &DecTable,
    streams: &[u8],
    bounds: [usize; 5],
    out: &mut [u8],
) -> Result<(), Huff0Error> {
    let ends = [bounds[1], bounds[2], bounds[3], bounds[4]];
    let (mut p0, mut p1, mut p2, mut p3) =
        (bounds[0] * 8, bounds[1] * 8, bounds[2] * 8, bounds[3] * 8);
    let groups = out.len() / (4 * K);
    let mut g = 0;
    loop {
        let rounds = (groups - g)
            .min(safe_groups(p0, ends[0]))
            .min(safe_groups(p1, ends[1]))
            .min(safe_groups(p2, ends[2]))
            .min(safe_groups(p3, ends[3]));
        if rounds == 0 {
            break;
        }
        for chunk in out[g * 4 * K..(g + rounds) * 4 * K].chunks_exact_mut(4 * K) {
            let mut w0 = load_word(streams, p0);
            let mut w1 = load_word(streams, p1);
            let mut w2 = load_word(streams, p2);
            let mut w3 = load_word(streams, p3);
            for j in 0..K {
                let e0 = step(dec, &mut w0);
                let e1 = step(dec, &mut w1);
                let e2 = step(dec, &mut w2);
                let e3 = step(dec, &mut w3);
                chunk[4 * j] = (e0 >> 8) as u8;
                chunk[4 * j + 1] = (e1 >> 8) as u8;
                chunk[4 * j + 2] = (e2 >> 8) as u8;
                chunk[4 * j + 3] = (e3 >> 8) as u8;
                p0 += usize::from(e0 & 0xFF);
                p1 += usize::from(e1 & 0xFF);
                p2 += usize::from(e2 & 0xFF);
                p3 += usize::from(e3 & 0xFF);
            }
        }
        g += rounds;
    }
    // Each reader finishes alone, then must end in its stream's last byte.
    let done = g * 4 * K;
    for (lane, start_bit) in [p0, p1, p2, p3].into_iter().enumerate() {
        let data = &streams[bounds[lane]..bounds[lane + 1]];
        let mut p = start_bit - bounds[lane] * 8;
        let rest = out.get_mut(done + lane..).unwrap_or_default();
        for o in rest.iter_mut().step_by(4) {
            let mut w = load_word_slow(data, p);
            let e = step(dec, &mut w);
            *o = (e >> 8) as u8;
            p += usize::from(e & 0xFF);
        }
        if p.div_ceil(8) != data.len() {
            return Err(Huff0Error::CorruptStream {
                block: 0,
                stream: lane,
            });
        }
    }
    Ok(())
}
