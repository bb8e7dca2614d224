//! Block writer: turns one block's parsed symbols into the cheapest of a
//! stored, a fixed-Huffman or a dynamic-Huffman DEFLATE block.
//!
//! The cost of each kind is computed exactly, in bits, from the symbol
//! frequencies the parser tallied (so no trial encoding is needed):
//! - stored: per 65 535-byte piece a 3-bit header, padding to the byte
//!   boundary (which depends on where the writer currently stands), LEN and
//!   NLEN, then the bytes; only possible while the block's raw bytes are
//!   still in the window.
//! - fixed: the RFC 1951 section 3.2.6 code lengths times the frequencies.
//! - dynamic: the code-length header (run-length coded with symbols
//!   16/17/18 over the literal/length and distance lengths together, which
//!   RFC 1951 allows, then Huffman coded with a code limited to 7 bits) plus
//!   the symbols under length-limited (15-bit) codes built for this block.
//!
//! Extra bits of lengths and distances are the same for both Huffman kinds.
//!
//! Emission combines each length code with its extra bits through a
//! 259-entry table built per block (one `put` per length), and each distance
//! code with its extra bits in a second `put`; both fit the writer's 32-bit
//! `put` limit (15 + 5 and 15 + 13 bits).

use crate::bitio::BitWriter;
use crate::huffman::build::{codes_from_lengths, cost, lengths_from_freqs};
use crate::lz77::seq::{dist_sym, LEN_SYM};
use crate::lz77::Sequences;
use crate::tables::{
    fixed_dist_lengths, fixed_litlen_lengths, CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA,
    END_OF_BLOCK, LENGTH_BASE, LENGTH_EXTRA, NUM_CODELEN,
};

/// Largest payload of one stored block.
pub const MAX_STORED: usize = 65_535;

/// Which block kinds may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockMode {
    /// Smallest of stored / fixed / dynamic.
    Best,
    /// Fixed Huffman only (Z_FIXED).
    FixedOnly,
}

/// Write `data` as stored blocks (an empty `data` gives one empty block);
/// BFINAL on the last piece if `last`.
pub fn write_stored(bw: &mut BitWriter, data: &[u8], last: bool) {
    let mut rest = data;
    loop {
        let n = rest.len().min(MAX_STORED);
        let is_last_piece = n == rest.len();
        bw.put((last && is_last_piece) as u64, 3);
        bw.align_to_byte();
        bw.put(n as u64, 16);
        bw.put(!n as u64 & 0xFFFF, 16);
        bw.write_bytes(&rest[..n]);
        rest = &rest[n..];
        if rest.is_empty() {
            break;
        }
    }
}

/// Exact size in bits of `write_stored` of `len` bytes when the writer has
/// `pending` bits (mod 8) in its current byte.
pub fn stored_cost(pending: u32, len: usize) -> u64 {
    let pieces = len.div_ceil(MAX_STORED).max(1) as u64;
    let first_pad = (8 - (pending + 3) % 8) % 8;
    // Later pieces start byte aligned: 3 header bits + 5 padding bits.
    (3 + first_pad as u64) + (pieces - 1) * 8 + pieces * 32 + 8 * len as u64
}

/// Run-length coded code lengths of a dynamic block header.
struct Header {
    hlit: usize,
    hdist: usize,
    hclen: usize,
    /// (code-length symbol, extra-bits value)
    rle: Vec<(u8, u8)>,
    cl_lens: Vec<u8>,
    cl_codes: Vec<u16>,
    /// Header size in bits after the 3-bit block header.
    bits: u64,
}

fn build_header(lit_lens: &[u8], dist_lens: &[u8]) -> Header {
    let hlit = (257..=286)
        .rev()
        .find(|&n| lit_lens[n - 1] != 0)
        .unwrap_or(257)
        .max(257);
    let hdist = (1..=30).rev().find(|&n| dist_lens[n - 1] != 0).unwrap_or(1);
    let all: Vec<u8> = lit_lens[..hlit]
        .iter()
        .chain(&dist_lens[..hdist])
        .copied()
        .collect();
    let mut rle = Vec::with_capacity(all.len());
    let mut i = 0;
    while i < all.len() {
        let l = all[i];
        let mut run = 1;
        while i + run < all.len() && all[i + run] == l {
            run += 1;
        }
        i += run;
        if l == 0 {
            let mut r = run;
            while r >= 11 {
                let k = r.min(138);
                rle.push((18, (k - 11) as u8));
                r -= k;
            }
            if r >= 3 {
                rle.push((17, (r - 3) as u8));
                r = 0;
            }
            rle.extend(std::iter::repeat_n((0, 0), r));
        } else {
            rle.push((l, 0));
            let mut r = run - 1;
            while r >= 3 {
                let k = r.min(6);
                rle.push((16, (k - 3) as u8));
                r -= k;
            }
            rle.extend(std::iter::repeat_n((l, 0), r));
        }
    }
    let mut cl_freq = [0u32; NUM_CODELEN];
    for &(s, _) in &rle {
        cl_freq[s as usize] += 1;
    }
    let cl_lens = lengths_from_freqs(&cl_freq, 7);
    let cl_codes = codes_from_lengths(&cl_lens);
    let hclen = (4..=NUM_CODELEN)
        .rev()
        .find(|&n| cl_lens[CODE_LENGTH_ORDER[n - 1]] != 0)
        .unwrap_or(4);
    let extra = 2 * cl_freq[16] as u64 + 3 * cl_freq[17] as u64 + 7 * cl_freq[18] as u64;
    let bits = 5 + 5 + 4 + 3 * hclen as u64 + cost(&cl_freq, &cl_lens) + extra;
    Header {
        hlit,
        hdist,
        hclen,
        rle,
        cl_lens,
        cl_codes,
        bits,
    }
}

/// The extra bits of the lengths and distances counted in `lf` (litlen
/// symbols) and `df`.
fn extra_bits(lf: &[u32], df: &[u32; 30]) -> u64 {
    (0..29)
        .map(|i| lf[257 + i] as u64 * LENGTH_EXTRA[i] as u64)
        .sum::<u64>()
        + (0..30)
            .map(|i| df[i] as u64 * DIST_EXTRA[i] as u64)
            .sum::<u64>()
}

/// The symbol counts of `seq` as one block: its litlen counts with the
/// end-of-block symbol counted once, and its distance counts (what
/// [`block_bits`] takes).
pub(super) fn block_freqs(seq: &Sequences) -> ([u32; 286], [u32; 30]) {
    let mut lf = [0u32; 286];
    lf.copy_from_slice(&seq.litlen_freq[..286]);
    lf[END_OF_BLOCK] = 1;
    (lf, seq.dist_freq)
}

/// Exact size in bits of the cheapest of a dynamic, a fixed and a stored
/// block (this one as if the writer stood on a byte boundary: up to 7
/// bits off) for the symbol counts `lf` (end-of-block included) and `df`,
/// covering `raw_len` input bytes. Same choice as [`write_block`] makes.
pub(super) fn block_bits(lf: &[u32; 286], df: &[u32; 30], raw_len: usize) -> u64 {
    let extra_bits = extra_bits(lf, df);
    let fixed_bits = 3
        + cost(lf, &fixed_litlen_lengths()[..286])
        + cost(df, &fixed_dist_lengths()[..30])
        + extra_bits;
    let lit_lens = lengths_from_freqs(lf, 15);
    let dist_lens = lengths_from_freqs(df, 15);
    let header = build_header(&lit_lens, &dist_lens);
    let dyn_bits = 3 + header.bits + cost(lf, &lit_lens) + cost(df, &dist_lens) + extra_bits;
    dyn_bits.min(fixed_bits).min(stored_cost(0, raw_len))
}

fn write_header(bw: &mut BitWriter, h: &Header) {
    bw.put((h.hlit - 257) as u64, 5);
    bw.put((h.hdist - 1) as u64, 5);
    bw.put((h.hclen - 4) as u64, 4);
    for &s in &CODE_LENGTH_ORDER[..h.hclen] {
        bw.put(h.cl_lens[s] as u64, 3);
    }
    for &(s, x) in &h.rle {
        let s = s as usize;
        bw.put(h.cl_codes[s] as u64, h.cl_lens[s] as u32);
        match s {
            16 => bw.put(x as u64, 2),
            17 => bw.put(x as u64, 3),
            18 => bw.put(x as u64, 7),
            _ => {}
        }
    }
}

/// Emit the symbols under the given codes (the caller writes end-of-block).
fn write_symbols(
    bw: &mut BitWriter,
    items: &[u32],
    lit_codes: &[u16],
    lit_lens: &[u8],
    dist_codes: &[u16],
    dist_lens: &[u8],
) {
    // Length code and extra bits, combined, per match length.
    let mut len_bits = [0u32; 259];
    let mut len_n = [0u8; 259];
    for len in 3..=258usize {
        let s = LEN_SYM[len] as usize;
        let cl = lit_lens[257 + s] as u32;
        len_bits[len] =
            lit_codes[257 + s] as u32 | (((len - LENGTH_BASE[s] as usize) as u32) << cl);
        len_n[len] = cl as u8 + LENGTH_EXTRA[s];
    }
    let lit_codes = &lit_codes[..256];
    let lit_lens = &lit_lens[..256];
    let dist_codes = &dist_codes[..30];
    let dist_lens = &dist_lens[..30];
    bw.reserve(items.len() * 6);
    for &it in items {
        let dist = (it >> 16) as usize;
        let v = (it & 0xFFFF) as usize;
        if dist == 0 {
            let b = v & 0xFF;
            bw.put(lit_codes[b] as u64, lit_lens[b] as u32);
        } else {
            let len = v.min(258);
            bw.put(len_bits[len] as u64, len_n[len] as u32);
            let ds = dist_sym(dist);
            let dl = dist_lens[ds] as u32;
            let extra = (dist - DIST_BASE[ds] as usize) as u64;
            bw.put(
                dist_codes[ds] as u64 | (extra << dl),
                dl + DIST_EXTRA[ds] as u32,
            );
        }
    }
}

/// Write one block for `seq` (with `raw` its input bytes, if still
/// available), choosing the cheapest kind allowed by `mode`.
pub fn write_block(
    bw: &mut BitWriter,
    seq: &Sequences,
    raw: Option<&[u8]>,
    last: bool,
    mode: BlockMode,
) {
    let mut lf = seq.litlen_freq;
    lf[END_OF_BLOCK] = 1;
    let df = &seq.dist_freq;
    let extra_bits = extra_bits(&lf, df);

    let fixed_lit = fixed_litlen_lengths();
    let fixed_dist = fixed_dist_lengths();
    let fixed_bits = 3 + cost(&lf, &fixed_lit) + cost(df, &fixed_dist[..30]) + extra_bits;

    if mode == BlockMode::FixedOnly {
        write_fixed(bw, seq, last, &fixed_lit, &fixed_dist);
        return;
    }

    let lit_lens = lengths_from_freqs(&lf[..286], 15);
    let dist_lens = lengths_from_freqs(df, 15);
    let header = build_header(&lit_lens, &dist_lens);
    let dyn_bits =
        3 + header.bits + cost(&lf[..286], &lit_lens) + cost(df, &dist_lens) + extra_bits;
    let stored_bits = raw
        .map(|r| stored_cost(bw.pending_bits(), r.len()))
        .unwrap_or(u64::MAX);

    if stored_bits < fixed_bits.min(dyn_bits) {
        write_stored(bw, raw.unwrap_or_default(), last);
    } else if fixed_bits <= dyn_bits {
        write_fixed(bw, seq, last, &fixed_lit, &fixed_dist);
    } else {
        bw.put(last as u64 | (2 << 1), 3);
        write_header(bw, &header);
        let lit_codes = codes_from_lengths(&lit_lens);
        let dist_codes = codes_from_lengths(&dist_lens);
        write_symbols(
            bw,
            &seq.items,
            &lit_codes,
            &lit_lens,
            &dist_codes,
            &dist_lens,
        );
        bw.put(
            lit_codes[END_OF_BLOCK] as u64,
            lit_lens[END_OF_BLOCK] as u32,
        );
    }
}

fn write_fixed(bw: &mut BitWriter, seq: &Sequences, last: bool, lit_lens: &[u8], dist_lens: &[u8]) {
    bw.put(last as u64 | (1 << 1), 3);
    let lit_codes = codes_from_lengths(lit_lens);
    let dist_codes = codes_from_lengths(dist_lens);
    write_symbols(bw, &seq.items, &lit_codes, lit_lens, &dist_codes, dist_lens);
    bw.put(
        lit_codes[END_OF_BLOCK] as u64,
        lit_lens[END_OF_BLOCK] as u32,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_cost_matches_writer() {
        for pending in 0..8u32 {
            for len in [0usize, 1, 100, 65_535, 65_536, 200_000] {
                let data = vec![7u8; len];
                let mut bw = BitWriter::new();
                bw.put(0, pending);
                let before = bw.bit_len();
                write_stored(&mut bw, &data, true);
                assert_eq!(
                    bw.bit_len() - before,
                    stored_cost(pending, len),
                    "pending {pending} len {len}"
                );
            }
        }
    }

    #[test]
    fn block_bits_matches_writer() {
        // Symbol mixes that make each block kind win: skewed literals with
        // matches (dynamic), a few symbols (fixed), noise (stored), empty.
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut cases: Vec<(Sequences, Vec<u8>)> = Vec::new();
        for kind in 0..4 {
            let mut seq = Sequences::new(1 << 16);
            let mut raw = Vec::new();
            let n = [20_000, 30, 3000, 0][kind];
            while raw.len() < n {
                let r = rnd();
                if kind == 0 && r % 5 == 0 && raw.len() > 300 {
                    let len = 3 + (r >> 8) as usize % 256;
                    let dist = 1 + (r >> 20) as usize % raw.len().min(32768);
                    for _ in 0..len {
                        raw.push(raw[raw.len() - dist]);
                    }
                    seq.matched(len, dist);
                } else {
                    let b = match kind {
                        0 => (r % 7 * (r >> 9) % 40) as u8,
                        1 => b'a' + (r % 3) as u8,
                        _ => r as u8,
                    };
                    raw.push(b);
                    seq.literal(b);
                }
            }
            cases.push((seq, raw));
        }
        for (seq, raw) in &cases {
            let (lf, df) = block_freqs(seq);
            let mut bw = BitWriter::new();
            write_block(&mut bw, seq, Some(raw), true, BlockMode::Best);
            assert_eq!(bw.bit_len(), block_bits(&lf, &df, raw.len()));
        }
    }

    #[test]
    fn header_rle_round_trips() {
        let mut lit = vec![0u8; 286];
        for (i, l) in lit.iter_mut().enumerate() {
            *l = if i < 20 {
                8
            } else if i % 50 == 0 {
                9
            } else if i == 256 {
                7
            } else {
                0
            };
        }
        let dist = vec![5u8; 30];
        let h = build_header(&lit, &dist);
        let mut out = Vec::new();
        for &(s, x) in &h.rle {
            match s {
                16 => {
                    let last = *out.last().unwrap();
                    out.extend(std::iter::repeat_n(last, 3 + x as usize));
                }
                17 => out.extend(std::iter::repeat_n(0, 3 + x as usize)),
                18 => out.extend(std::iter::repeat_n(0, 11 + x as usize)),
                l => out.push(l),
            }
        }
        let mut expect = lit[..h.hlit].to_vec();
        expect.extend_from_slice(&dist[..h.hdist]);
        assert_eq!(out, expect);
    }
}
