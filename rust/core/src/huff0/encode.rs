//! Encoding one block into four interleaved LSB-first bit streams.
//!
//! Byte `j` of a block goes to stream `j % 4`, so that the decoder can run
//! four independent bit readers in one loop and still write its output
//! contiguously (one output pointer instead of four, which is what keeps the
//! decoder's state in registers). The body is:
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
//! next-12-bits index is `bitbuf & 0xFFF`. A stream ends at the byte holding
//! its last bit, padded with zero bits; a stream with no bytes to code is
//! empty.
//!
//! Why it is fast: the writer keeps a 64-bit buffer. After a flush it holds
//! at most 7 bits, so `K` codes of at most `L` bits fit with no check when
//! `7 + K * L <= 63`: `K = 5` for 11-bit codes, `K = 4` for 12-bit ones.
//! Each code costs a byte load, two table loads (code, length), a shift, an
//! OR and an add, with only the add on the loop-carried chain; each group of
//! K ends with one unconditional 8-byte store and a shift. The output buffer
//! is sized for the worst case up front, so the loop never grows it.

use super::table::EncTable;

/// Size of the jump table at the start of a body.
pub(crate) const JUMP_TABLE_SIZE: usize = 12;

/// Number of bytes of an `n`-byte block that go to stream `lane` (0..4).
#[inline]
pub(crate) fn lane_len(n: usize, lane: usize) -> usize {
    (n + 3 - lane.min(3)) / 4
}

/// Append the body (jump table + four streams) coding `input` with `enc`,
/// whose longest code is `max_len` bits. Every byte of `input` must have a
/// code (nonzero length) in `enc`.
pub(crate) fn encode_body(enc: &EncTable, max_len: u32, input: &[u8], out: &mut Vec<u8>) {
    let jt = out.len();
    out.extend_from_slice(&[0; JUMP_TABLE_SIZE]);
    for lane in 0..4 {
        let before = out.len();
        if max_len <= 11 {
            encode_stream::<5>(enc, input, lane, out);
        } else {
            encode_stream::<4>(enc, input, lane, out);
        }
        if lane < 3 {
            let size = (out.len() - before) as u32;
            out[jt + 4 * lane..jt + 4 * lane + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

/// Append bytes `lane, lane + 4, ...` of `input` coded as one stream. `K`
/// codes must fit in 56 bits.
fn encode_stream<const K: usize>(enc: &EncTable, input: &[u8], lane: usize, out: &mut Vec<u8>) {
    // Masked so the compiler sees `lane + 4 * j < 4 * K` below.
    let lane = lane & 3;
    let n = lane_len(input.len(), lane);
    if n == 0 {
        return;
    }
    let (codes, lens) = (&enc.codes, &enc.lens);
    let start = out.len();
    // Worst case 12 bits a byte, plus the 8-byte store past the end.
    out.resize(start + n * 3 / 2 + 16, 0);
    let buf = &mut out[start..];
    let mut pos = 0usize;
    let mut bitbuf = 0u64;
    let mut bitcount = 0u32;

    let mut groups = input.chunks_exact(4 * K);
    for g in &mut groups {
        for j in 0..K {
            let b = usize::from(g[lane + 4 * j]);
            bitbuf |= u64::from(codes[b]) << bitcount;
            bitcount += u32::from(lens[b]);
        }
        flush(buf, &mut pos, &mut bitbuf, &mut bitcount);
    }
    // At most K bytes of this lane are left.
    for &b in groups.remainder().iter().skip(lane).step_by(4) {
        let b = usize::from(b);
        bitbuf |= u64::from(codes[b]) << bitcount;
        bitcount += u32::from(lens[b]);
    }
    flush(buf, &mut pos, &mut bitbuf, &mut bitcount);
    // At most 7 bits are left: one padded byte.
    if bitcount != 0 {
        buf[pos] = bitbuf as u8;
        pos += 1;
    }
    out.truncate(start + pos);
}

/// Store the whole buffer, keep the bits of the last partial byte.
#[inline(always)]
fn flush(buf: &mut [u8], pos: &mut usize, bitbuf: &mut u64, bitcount: &mut u32) {
    buf[*pos..*pos + 8].copy_from_slice(&bitbuf.to_le_bytes());
    let nbytes = *bitcount >> 3; // <= 7: bitcount <= 63
    *pos += nbytes as usize;
    *bitbuf >>= nbytes * 8;
    *bitcount &= 7;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_cover_the_block() {
        for n in 0..200 {
            let l: Vec<usize> = (0..4).map(|i| lane_len(n, i)).collect();
            assert_eq!(l.iter().sum::<usize>(), n, "n = {n}");
            assert!(l.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
        }
        assert_eq!(
            (0..4).map(|i| lane_len(5, i)).collect::<Vec<_>>(),
            [2, 1, 1, 1]
        );
    }
}
