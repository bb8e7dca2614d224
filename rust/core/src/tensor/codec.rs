//! One chunk: choose a layout, code each plane, and back.
//!
//! A chunk payload is a method byte followed by the method's planes:
//!
//! ```text
//!   0 stored   the chunk's bytes as they are
//!   1 split    the field-split planes ([`super::planes`]), in order
//!   2 bytes    the byte-grouped planes, byte 0 (least significant) first
//!   3 joint    K-1 (one byte, K <= 64), K distinct exponents in increasing
//!              order (every one from the chunk's lowest to its highest when
//!              they span at most 64, else those that occur), then the
//!              joint planes (BF16, F16, F32)
//! ```
//!
//! and each plane is a kind byte and its data:
//!
//! ```text
//!   0 raw      n bytes (one per element)
//!   1 rle      1 byte: every element of the plane has this value
//!   2 huffman  the code table (huff0's stored form: first symbol, count,
//!              4-bit lengths), u32 LE body size, the body (huff0's bare
//!              block body: 3 stream sizes and 4 interleaved streams)
//!   4 range    first byte, count - 1, the counts (u16 LE, summing to 2^15),
//!              u32 LE body size, the range-coded body (`Method::Range`)
//!   3 packed   k (1..=7), then ceil(n * k / 8) bytes: every value in k bits,
//!              LSB-first (for planes of nearly uniform small values, such
//!              as the joint layout's 6-bit sign-and-mantissa plane: as
//!              small as Huffman there, and several times faster both ways)
//! ```
//!
//! Choices are made from histograms before anything is coded: the exact
//! Huffman size of a plane is `sum(count * length)` bits plus the table.
//! A plane whose sample is as good as random (`quick_plan`: the low
//! mantissa bytes, the joint layout's sign-and-mantissa plane) is stored
//! raw or packed without its full histogram, which is most of the saving
//! in time on float weights.
//! The layout is chosen once per tensor (`layout_for`, on a few sample
//! chunks); then each plane of each chunk is raw, rle or Huffman, whichever
//! is smallest, and a chunk whose planes would all be raw is stored. So
//! whatever the data, a chunk costs at most its raw size plus one byte.

use super::error::TensorError;
use super::planes::{exponent_range, merge_joint_offset, split_joint_offset};
use super::planes::{
    exponents_seen, joint_planes, merge_bytes, merge_fields, merge_joint, split_bytes,
    split_fields, split_joint, DType, JOINT_MAX_EXPONENTS,
};
use crate::huff0::{self, histogram};
use crate::rangecoder::{RangeDecoder, RangeEncoder};

pub(crate) const METHOD_STORED: u8 = 0;
pub(crate) const METHOD_SPLIT: u8 = 1;
pub(crate) const METHOD_BYTES: u8 = 2;
pub(crate) const METHOD_JOINT: u8 = 3;

const PLANE_RAW: u8 = 0;
const PLANE_RLE: u8 = 1;
const PLANE_HUFFMAN: u8 = 2;
const PLANE_RANGE: u8 = 4;
/// Range-coded planes' counts sum to `2^RANGE_BITS`.
const RANGE_BITS: u32 = 15;
const PLANE_PACKED: u8 = 3;

/// Which layout to use for every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The smallest of stored, field split and byte grouping, per chunk.
    Auto,
    /// Field split (falls back to byte grouping for dtypes without one).
    Split,
    /// Byte grouping.
    Bytes,
    /// Exponent jointly with the top mantissa bits (BF16, F16, F32; falls
    /// back to the field split elsewhere, and for chunks with over 64
    /// distinct exponents).
    Joint,
    /// No coding at all.
    Stored,
    /// The joint layout (BF16, F16, F32; elsewhere the [`Method::Auto`] choice)
    /// with every plane also tried
    /// with the range coder over the chunk's own quantised counts, kept
    /// where smaller: about 0.5 % smaller on bf16 weights than Huffman
    /// coding, and several times slower both ways. Opt-in.
    Range,
}

impl Method {
    /// `"auto"`, `"split"`, `"bytes"` or `"stored"`.
    pub fn from_name(name: &str) -> Option<Method> {
        match name {
            "auto" => Some(Method::Auto),
            "split" => Some(Method::Split),
            "bytes" => Some(Method::Bytes),
            "joint" => Some(Method::Joint),
            "stored" => Some(Method::Stored),
            "range" => Some(Method::Range),
            _ => None,
        }
    }
}

/// How one plane will be coded.
enum Plan {
    Raw,
    Rle(u8),
    Packed(u32),
    /// The code lengths (huff0's table, without its decoding tables).
    Huffman(Box<[u8; 256]>),
    /// The plane's whole range-coded form (after the kind byte).
    Range(Vec<u8>),
}

/// The cheapest coding of a plane of `n` bytes with counts `hist`, and its
/// size in bytes (kind byte included; Huffman bodies may be up to 3 bytes
/// shorter than counted, the padding of the last three streams). Codes of
/// up to `max_bits` are tried, and one bit longer when that limit binds
/// (a 12-bit limit gains a little on very peaked exponent planes).
fn plan(hist: &[u32; 256], n: usize, max_bits: u32) -> (Plan, usize) {
    let mut used = hist.iter().enumerate().filter(|(_, &c)| c != 0);
    let first = used.next().map_or(0, |(s, _)| s as u8);
    if used.next().is_none() {
        return (Plan::Rle(first), 2);
    }
    let mut best = (Plan::Raw, 1 + n);
    let top = hist.iter().rposition(|&c| c != 0).unwrap_or(0) as u32;
    let k = 32 - top.leading_zeros();
    if k < 8 {
        best = (Plan::Packed(k), 2 + (n * k as usize).div_ceil(8));
    }
    let mut bits = max_bits;
    // code_lengths only fails for a bad max_bits, checked by the caller.
    while let Ok(lens) = huff0::code_lengths(hist, bits) {
        let mut coded = 0u64;
        for (&c, &l) in hist.iter().zip(&lens) {
            coded += if l == 0 && c != 0 {
                u64::MAX / 512
            } else {
                u64::from(c) * u64::from(l)
            };
        }
        let cost = 1 + table_size(&lens) + 4 + 12 + coded.div_ceil(8) as usize + 3;
        let binding = lens.iter().any(|&l| u32::from(l) == bits);
        if cost < best.1 {
            best = (Plan::Huffman(Box::new(lens)), cost);
        }
        if !binding || bits >= huff0::MAX_TABLE_BITS {
            break;
        }
        bits += 1;
    }
    best
}

/// Size of a table's stored form: first symbol, count, 4-bit lengths.
fn table_size(lens: &[u8; 256]) -> usize {
    let first = lens.iter().position(|&l| l != 0).unwrap_or(0);
    let last = lens.iter().rposition(|&l| l != 0).unwrap_or(0);
    2 + (last + 1 - first).div_ceil(2)
}

fn write_plane(plan: &Plan, plane: &[u8], hist: &[u32; 256], out: &mut Vec<u8>) {
    match plan {
        Plan::Raw => {
            out.push(PLANE_RAW);
            out.extend_from_slice(plane);
        }
        Plan::Rle(b) => out.extend_from_slice(&[PLANE_RLE, *b]),
        Plan::Packed(k) => {
            out.extend_from_slice(&[PLANE_PACKED, *k as u8]);
            pack(plane, *k, out);
        }
        Plan::Range(coded) => {
            out.push(PLANE_RANGE);
            out.extend_from_slice(coded);
        }
        Plan::Huffman(lens) => {
            out.push(PLANE_HUFFMAN);
            huff0::table::write_lengths(lens, out);
            // The lengths were built from this plane's histogram: every
            // byte has a code, so encoding cannot fail. The body goes
            // straight into `out`, its size patched in after.
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            if huff0::encode_block_with_lengths(lens, plane, hist, out).is_err() {
                out.truncate(at + 4);
            }
            let size = (out.len() - at - 4) as u32;
            out[at..at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

/// Append `plane` (values below `2^k`, `k` in 1..=7) packed in `k` bits
/// each, LSB-first: `ceil(n * k / 8)` bytes.
fn pack(plane: &[u8], k: u32, out: &mut Vec<u8>) {
    let mut plane = plane;
    if k == 6 {
        // The joint layout's plane: 8 values in every 6 bytes, written a
        // fixed-size group at a time (no bit accumulator across groups).
        let groups = plane.len() / 8;
        let at = out.len();
        out.resize(at + groups * 6, 0);
        for (o, v) in out[at..]
            .chunks_exact_mut(6)
            .zip(plane[..groups * 8].chunks_exact(8))
        {
            let w = gather6(u64::from_le_bytes([
                v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
            ]));
            o.copy_from_slice(&w.to_le_bytes()[..6]);
        }
        // Whole groups end on a byte boundary: the rest packs as usual.
        plane = &plane[groups * 8..];
    } else if k == 1 {
        // The F16 joint layout's sign plane: 8 values to a byte.
        let groups = plane.len() / 8;
        out.extend(plane[..groups * 8].chunks_exact(8).map(|v| {
            gather1(u64::from_le_bytes([
                v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
            ]))
        }));
        plane = &plane[groups * 8..];
    }
    let mut acc = 0u64;
    let mut nbits = 0u32;
    for &v in plane {
        acc |= u64::from(v) << nbits;
        nbits += k;
        if nbits >= 32 {
            out.extend_from_slice(&(acc as u32).to_le_bytes());
            acc >>= 32;
            nbits -= 32;
        }
    }
    while nbits > 0 {
        out.push(acc as u8);
        acc >>= 8;
        nbits = nbits.saturating_sub(8);
    }
}

/// The 48-bit string of eight 6-bit values (value `i` in bits `6i..6i+6`)
/// of the eight bytes of `w` (byte `i` is value `i`; bits above 6 ignored),
/// by halving: 24-bit halves, then 12-bit quarters, then 6-bit values, each
/// step one shift and two masks for all lanes at once.
#[inline(always)]
fn gather6(w: u64) -> u64 {
    let w = w & 0x3F3F_3F3F_3F3F_3F3F;
    let w = (w & 0x003F_003F_003F_003F) | ((w >> 2) & 0x0FC0_0FC0_0FC0_0FC0);
    let w = (w & 0x0000_0FFF_0000_0FFF) | ((w >> 4) & 0x00FF_F000_00FF_F000);
    (w & 0x00FF_FFFF) | ((w >> 8) & 0xFFFF_FF00_0000)
}

/// The byte of eight 1-bit values (value `i` in bit `i`) of the eight
/// bytes of `w` (byte `i` is value `i`; bits above bit 0 ignored): one
/// multiply moves bit `8i` to bit `56 + i`, and no two of the eight partial
/// products meet in a bit, so there are no carries.
#[inline(always)]
fn gather1(w: u64) -> u8 {
    ((w & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// Inverse of [`gather6`]: the eight 6-bit values of the low 48 bits of
/// `w`, one per byte.
#[inline(always)]
fn spread6(w: u64) -> u64 {
    let w = (w & 0x00FF_FFFF) | ((w << 8) & 0x00FF_FFFF_0000_0000);
    let w = (w & 0x0000_0FFF_0000_0FFF) | ((w << 4) & 0x0FFF_0000_0FFF_0000);
    (w & 0x003F_003F_003F_003F) | ((w << 2) & 0x3F00_3F00_3F00_3F00)
}

/// Inverse of [`pack`]: `src` must be exactly `ceil(out.len() * k / 8)`
/// bytes (checked by the caller).
fn unpack(src: &[u8], k: u32, out: &mut [u8]) {
    if k == 6 {
        // The joint layout's plane: 32 values per 24 bytes with AVX2 where
        // the CPU has it, then the portable code from where that stopped.
        let done = unpack6_simd(src, out);
        unpack6_from(src, out, done / 8);
        return;
    }
    unpack_from(src, k, out, 0);
}

/// [`unpack`] of a 6-bit plane with AVX2 (when [`crate::cpu::features`]
/// allows): returns how many leading values it unpacked, a multiple of 32
/// (0 without AVX2); the rest is left to the portable code.
fn unpack6_simd(src: &[u8], out: &mut [u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx2 {
        #[allow(unsafe_code)]
        // SAFETY: `unpack6_avx2` needs only a CPU with AVX2, which
        // `cpu::features()` has just checked.
        return unsafe { unpack6_avx2(src, out) };
    }
    let _ = (src, out);
    0
}

/// Spread 32 six-bit values, packed little-endian in the first 24 of the 28
/// bytes of `s`, one per byte (the bits [`spread6`] moves, 32 at a time):
/// a shuffle puts each 3-byte group of 4 values in its own 32-bit lane,
/// then shifts and masks move value `j` of a lane to its byte `j`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn spread6_avx2(s: &[u8; 28]) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let shuf = _mm256_setr_epi8(
        0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, //
        0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1,
    );
    // SAFETY: both loads read 16 bytes inside the 28 of `s` (offsets 0 and
    // 12); unaligned loads have no alignment requirement.
    let (lo, hi) = unsafe {
        (
            _mm_loadu_si128(s.as_ptr().cast()),
            _mm_loadu_si128(s.as_ptr().add(12).cast()),
        )
    };
    let v = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), shuf);
    _mm256_or_si256(
        _mm256_or_si256(
            _mm256_and_si256(v, _mm256_set1_epi32(0x3F)),
            _mm256_and_si256(_mm256_slli_epi32::<2>(v), _mm256_set1_epi32(0x3F00)),
        ),
        _mm256_or_si256(
            _mm256_and_si256(_mm256_slli_epi32::<4>(v), _mm256_set1_epi32(0x3F_0000)),
            _mm256_and_si256(_mm256_slli_epi32::<6>(v), _mm256_set1_epi32(0x3F00_0000)),
        ),
    )
}

/// How many 32-value steps of [`spread6_avx2`] a 6-bit plane of
/// `packed_len` bytes feeds for `n` values: each step reads 28 bytes from
/// a multiple of 24, so the last one needs 4 bytes of slack after it.
fn spread6_blocks(packed_len: usize, n: usize) -> usize {
    match packed_len.checked_sub(28) {
        Some(slack) => (slack / 24 + 1).min(n / 32),
        None => 0,
    }
}

/// The AVX2 kernel of [`unpack6_simd`]: [`spread6_avx2`] per 24 bytes of
/// `src` (each block reads 28, so it needs 4 bytes of slack after it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn unpack6_avx2(src: &[u8], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let blocks = spread6_blocks(src.len(), out.len());
    for (s, o) in src
        .windows(28)
        .step_by(24)
        .zip(out.chunks_exact_mut(32))
        .take(blocks)
    {
        let (s, o): (&[u8; 28], &mut [u8; 32]) = match (s.try_into(), o.try_into()) {
            (Ok(s), Ok(o)) => (s, o),
            _ => break,
        };
        let r = spread6_avx2(s);
        // SAFETY: `o` is 32 bytes; unaligned stores have no alignment
        // requirement.
        unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), r) };
    }
    blocks * 32
}

/// The portable [`unpack`] of a 6-bit plane, from group `first` (of 8
/// values, 6 bytes) on.
fn unpack6_from(src: &[u8], out: &mut [u8], first: usize) {
    let groups = (out.len() / 8).min(src.len() / 6);
    // Groups with two more bytes after them load one whole word.
    let wide = if src.len() >= 8 {
        ((src.len() - 8) / 6 + 1).min(groups)
    } else {
        0
    };
    let first = first.min(groups);
    let wide = wide.max(first);
    for (o, s) in out[first * 8..wide * 8]
        .chunks_exact_mut(8)
        .zip(src[first * 6..].windows(8).step_by(6))
    {
        let w = u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
        o.copy_from_slice(&spread6(w & 0xFFFF_FFFF_FFFF).to_le_bytes());
    }
    for (o, s) in out[wide * 8..groups * 8]
        .chunks_exact_mut(8)
        .zip(src[wide * 6..groups * 6].chunks_exact(6))
    {
        let w = u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], 0, 0]);
        o.copy_from_slice(&spread6(w).to_le_bytes());
    }
    unpack_from(src, 6, out, groups * 8);
}

/// [`unpack`] of values `start..` (any `k`).
fn unpack_from(src: &[u8], k: u32, out: &mut [u8], start: usize) {
    let mask = (1u16 << k) - 1;
    // Values whose two bytes are both inside `src` take the fast path.
    let fast = if src.len() >= 2 {
        (((src.len() - 1) * 8) / k as usize).min(out.len())
    } else {
        0
    };
    for (i, o) in out.iter_mut().enumerate().take(fast).skip(start) {
        let p = i * k as usize;
        let w = u16::from_le_bytes([src[p / 8], src[p / 8 + 1]]);
        *o = ((w >> (p % 8)) & mask) as u8;
    }
    for (i, o) in out.iter_mut().enumerate().skip(fast.max(start)) {
        let p = i * k as usize;
        let lo = src.get(p / 8).copied().unwrap_or(0);
        let hi = src.get(p / 8 + 1).copied().unwrap_or(0);
        *o = ((u16::from_le_bytes([lo, hi]) >> (p % 8)) & mask) as u8;
    }
}

/// Split `data` into the planes of `method` in `planes`, and return the
/// method actually used with its header bytes: the joint layout needs at
/// most 64 distinct exponents in the chunk, and falls back to the field
/// split otherwise.
fn make_planes(data: &[u8], dtype: DType, method: u8, planes: &mut Vec<Vec<u8>>) -> (u8, Vec<u8>) {
    if method == METHOD_JOINT {
        if let Some(k) = joint_planes(dtype) {
            planes.resize(k, Vec::new());
            let (lo, hi) = exponent_range(dtype, data);
            let (lo, hi) = (usize::from(lo), usize::from(hi));
            if lo <= hi && hi - lo < JOINT_MAX_EXPONENTS {
                // The exponents lie within 64 of each other (as in most
                // weight tensors): list them all from the lowest, so the
                // rank is the exponent minus the lowest, computed with no
                // table lookup (the split then vectorises). Unused entries
                // cost a byte of map and no code.
                split_joint_offset(dtype, data, lo as u8, planes);
                let mut head = vec![(hi - lo) as u8];
                head.extend((lo..=hi).map(|e| e as u8));
                return (METHOD_JOINT, head);
            }
            let seen = exponents_seen(dtype, data);
            let used: Vec<u8> = (0..=255u8).filter(|&e| seen[usize::from(e)]).collect();
            if !used.is_empty() && used.len() <= JOINT_MAX_EXPONENTS {
                let mut rank = [0u8; 256];
                for (r, &e) in used.iter().enumerate() {
                    rank[usize::from(e)] = r as u8;
                }
                split_joint(dtype, data, &rank, planes);
                let mut head = vec![(used.len() - 1) as u8];
                head.extend_from_slice(&used);
                return (METHOD_JOINT, head);
            }
        }
        return make_planes(data, dtype, METHOD_SPLIT, planes);
    }
    if method == METHOD_SPLIT {
        planes.resize(dtype.split_planes().unwrap_or(0), Vec::new());
        split_fields(dtype, data, planes);
    } else {
        planes.resize(dtype.itemsize(), Vec::new());
        split_bytes(dtype.itemsize(), data, planes);
    }
    (method, Vec::new())
}

/// Coded size of `data` (whole elements) with layout `method` (split or
/// bytes): what [`encode_chunk`] would produce, to within 3 bytes a plane.
pub(crate) fn cost(data: &[u8], dtype: DType, method: u8, max_bits: u32) -> usize {
    let mut planes = Vec::new();
    let (_, head) = make_planes(data, dtype, method, &mut planes);
    head.len() + plan_planes(&planes, max_bits, false).2
}

/// Below this many bytes a plane is always planned from its full
/// histogram (sampling saves nothing there).
const SAMPLE_MIN: usize = 16 << 10;
/// Pieces and piece size of the sample [`quick_plan`] reads.
const SAMPLE_PIECES: usize = 8;
const SAMPLE_PIECE: usize = 1 << 10;

/// A plane's plan without its full histogram, where one is plainly not
/// needed: a plane of one value is rle, and a plane whose sample (8
/// spread pieces of 1 KiB) has an order-0 entropy within 1.5 % of its
/// stored width (8 bits raw, or `k` bits packed) is stored that way, since
/// no Huffman code could gain more than that on it (and the sample's
/// entropy estimate errs low, towards the full plan). `None`: plan it from
/// its histogram. What it decides depends only on the plane's bytes.
fn quick_plan(plane: &[u8]) -> Option<(Plan, usize)> {
    let n = plane.len();
    let (or, and) = plane
        .iter()
        .fold((0u8, 0xFFu8), |(o, a), &b| (o | b, a & b));
    if or == and {
        return (n > 0).then_some((Plan::Rle(or), 2));
    }
    if n < SAMPLE_MIN {
        return None;
    }
    let k = 8 - or.leading_zeros();
    let mut hist = [0u32; 256];
    for i in 0..SAMPLE_PIECES {
        let at = i * (n - SAMPLE_PIECE) / (SAMPLE_PIECES - 1);
        let h = histogram(&plane[at..at + SAMPLE_PIECE]);
        for (t, c) in hist.iter_mut().zip(h) {
            *t += c;
        }
    }
    let total = (SAMPLE_PIECES * SAMPLE_PIECE) as f64;
    let entropy: f64 = hist
        .iter()
        .filter(|&&c| c != 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum();
    if entropy < 0.985 * f64::from(k) {
        return None;
    }
    Some(if k < 8 {
        (Plan::Packed(k), 2 + (n * k as usize).div_ceil(8))
    } else {
        (Plan::Raw, 1 + n)
    })
}

/// Plans for every plane (each of the same length), their histograms
/// (zero for planes planned without one) and the total coded size (one
/// method byte included). `full`: every plane from its full histogram.
fn plan_planes(
    planes: &[Vec<u8>],
    max_bits: u32,
    full: bool,
) -> (Vec<Plan>, Vec<[u32; 256]>, usize) {
    let mut total = 1;
    let mut plans = Vec::with_capacity(planes.len());
    let mut hists = Vec::with_capacity(planes.len());
    for p in planes {
        let (q, h, c) = match (!full).then(|| quick_plan(p)).flatten() {
            Some((q, c)) => (q, [0u32; 256], c),
            None => {
                let h = histogram(p);
                let (q, c) = plan(&h, p.len(), max_bits);
                (q, h, c)
            }
        };
        total += c;
        plans.push(q);
        hists.push(h);
    }
    (plans, hists, total)
}

/// The layout to code a tensor with, for `method`: the forced one, or for
/// [`Method::Auto`] the smaller of split and bytes on `sample` (a few
/// chunks of the tensor).
pub(crate) fn layout_for(method: Method, dtype: DType, sample: &[&[u8]], max_bits: u32) -> u8 {
    let has_split = dtype.split_planes().is_some();
    match method {
        Method::Stored => METHOD_STORED,
        Method::Bytes => METHOD_BYTES,
        Method::Split if has_split => METHOD_SPLIT,
        Method::Split => METHOD_BYTES,
        Method::Joint if joint_planes(dtype).is_some() => METHOD_JOINT,
        Method::Joint if has_split => METHOD_SPLIT,
        Method::Joint => METHOD_BYTES,
        Method::Range if joint_planes(dtype).is_some() => METHOD_JOINT,
        Method::Range => layout_for(Method::Auto, dtype, sample, max_bits),
        Method::Auto if !has_split => METHOD_BYTES,
        Method::Auto => {
            let total = |m| -> usize { sample.iter().map(|c| cost(c, dtype, m, max_bits)).sum() };
            let mut best = (total(METHOD_SPLIT), METHOD_SPLIT);
            best = best.min((total(METHOD_BYTES), METHOD_BYTES));
            if joint_planes(dtype).is_some() {
                best = best.min((total(METHOD_JOINT), METHOD_JOINT));
            }
            best.1
        }
    }
}

/// Append the payload of one chunk (a non-empty whole number of elements)
/// coded with layout `method` to `out`; `planes` is scratch space.
pub(crate) fn encode_chunk(
    data: &[u8],
    dtype: DType,
    method: u8,
    max_bits: u32,
    range: bool,
    planes: &mut Vec<Vec<u8>>,
    out: &mut Vec<u8>,
) {
    let n = data.len() / dtype.itemsize();
    if method != METHOD_STORED {
        let (method, head) = make_planes(data, dtype, method, planes);
        let (mut plans, hists, mut total) = plan_planes(planes, max_bits, range);
        if range {
            for ((p, plane), hist) in plans.iter_mut().zip(planes.iter()).zip(&hists) {
                if matches!(p, Plan::Rle(_)) {
                    continue;
                }
                // The chosen plan's size (plans are deterministic).
                let old = plan(hist, n, max_bits).1;
                let coded = range_plane(hist, plane);
                if 1 + coded.len() < old {
                    total = total + 1 + coded.len() - old;
                    *p = Plan::Range(coded);
                }
            }
        }
        // All planes raw: storing the chunk whole is smaller and decodes
        // with one copy.
        if plans.iter().any(|p| !matches!(p, Plan::Raw)) && total + head.len() <= data.len() {
            out.push(method);
            out.extend_from_slice(&head);
            for ((p, plane), hist) in plans.iter().zip(planes.iter()).zip(&hists) {
                write_plane(p, plane, hist, out);
            }
            return;
        }
    }
    out.push(METHOD_STORED);
    out.extend_from_slice(data);
}

/// Counts `hist` (of `n > 0` bytes) scaled to sum to exactly
/// `2^RANGE_BITS`, every byte that occurs keeping at least 1: integer
/// arithmetic only, so the rule is exact (the decoder reads the result,
/// it never recomputes it).
fn quantize(hist: &[u32; 256]) -> [u32; 256] {
    let n: u64 = hist.iter().map(|&c| u64::from(c)).sum();
    let total = 1u64 << RANGE_BITS;
    let mut f = [0u32; 256];
    for (q, &c) in f.iter_mut().zip(hist) {
        if c != 0 {
            *q = ((u64::from(c) * total / n.max(1)) as u32).max(1);
        }
    }
    let mut sum: u64 = f.iter().map(|&q| u64::from(q)).sum();
    // Fix the rounding on the largest count: down while over (some count
    // is above 1 whenever the sum is over, as at most 256 are nonzero),
    // up while under.
    while sum != total {
        let big = (0..256).max_by_key(|&i| (f[i], 255 - i)).unwrap_or(0);
        if sum > total {
            let cut = (sum - total).min(u64::from(f[big] - 1)) as u32;
            f[big] -= cut.max(1);
            sum -= u64::from(cut.max(1));
        } else {
            f[big] += (total - sum) as u32;
            sum = total;
        }
    }
    f
}

/// The range-coded form of `plane` (counts `hist`, at least two distinct
/// bytes): first byte, count - 1, the counts (u16 LE each, summing to
/// `2^RANGE_BITS`), u32 LE body size, the body.
fn range_plane(hist: &[u32; 256], plane: &[u8]) -> Vec<u8> {
    let f = quantize(hist);
    let first = f.iter().position(|&q| q != 0).unwrap_or(0);
    let last = f.iter().rposition(|&q| q != 0).unwrap_or(0);
    let mut cum = [0u32; 257];
    for i in 0..256 {
        cum[i + 1] = cum[i] + f[i];
    }
    let mut enc = RangeEncoder::new();
    for &b in plane {
        let b = usize::from(b);
        // Every byte of the plane has a nonzero count by construction.
        let _ = enc.encode(cum[b], f[b], RANGE_BITS);
    }
    let body = enc.finish();
    let mut out = Vec::with_capacity(body.len() + 520);
    out.extend_from_slice(&[first as u8, (last - first) as u8]);
    for &q in &f[first..=last] {
        out.extend_from_slice(&(q as u16).to_le_bytes());
    }
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decode a range-coded plane from the start of `src` into `out`; returns
/// the bytes used. Garbage bodies decode to some bytes (which the chunk's
/// CRC rejects); bad tables are refused.
fn decode_range_plane(src: &[u8], out: &mut [u8]) -> Result<usize, TensorError> {
    let short = || corrupt("a range-coded plane is cut short");
    let [first, span] = *src.first_chunk::<2>().ok_or_else(short)?;
    let (first, count) = (usize::from(first), usize::from(span) + 1);
    if first + count > 256 {
        return Err(corrupt("a range-coded plane's table runs past byte 255"));
    }
    let table = src.get(2..2 + 2 * count).ok_or_else(short)?;
    let mut f = [0u32; 256];
    for (q, c) in f[first..first + count]
        .iter_mut()
        .zip(table.chunks_exact(2))
    {
        *q = u32::from(u16::from_le_bytes([c[0], c[1]]));
    }
    if f.iter().sum::<u32>() != 1 << RANGE_BITS {
        return Err(corrupt("a range-coded plane's counts do not sum to 2^15"));
    }
    let at = 2 + 2 * count;
    let size = src.get(at..at + 4).ok_or_else(short)?;
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
    let body = src
        .get(at + 4..)
        .and_then(|r| r.get(..size))
        .ok_or_else(short)?;
    let mut cum = [0u32; 256];
    let mut lut = vec![0u8; 1 << RANGE_BITS];
    let mut c = 0u32;
    for s in 0..256 {
        cum[s] = c;
        lut[c as usize..(c + f[s]) as usize].fill(s as u8);
        c += f[s];
    }
    let mut dec = RangeDecoder::new(body);
    for o in out.iter_mut() {
        let s = lut[dec.target(RANGE_BITS) as usize];
        *o = s;
        let s = usize::from(s);
        // The table sums to 2^15 with f[s] >= 1 (lut only names such s).
        dec.consume(cum[s], f[s], RANGE_BITS)
            .map_err(|_| corrupt("a range-coded plane's coded bits are invalid"))?;
    }
    Ok(at + 4 + size)
}

/// The joint merge ([`merge_joint_offset`] with exponents `lo..lo + len`)
/// of `planes` in the joint layout's order, where plane 1 is still packed
/// (6 bits for BF16 and F32, the sign's 1 bit for F16: `ceil(n * k / 8)`
/// bytes) and the others hold one byte per element, into `out` (`n`
/// elements): with AVX2 where the CPU has it, 32 elements per step with no
/// unpacked copy of plane 1, and the portable unpack-then-merge for the
/// rest. Same output as unpacking plane 1 and merging.
fn merge_joint_packed(dtype: DType, lo: u8, len: usize, planes: &[&[u8]], out: &mut [u8]) {
    let done = merge_joint_simd(dtype, lo, len, planes, out);
    let n = planes[0].len();
    if done < n {
        // `done` is a multiple of 32 (0 without AVX2): the rest of plane 1
        // starts on a byte.
        let k = joint_packed_bits(dtype);
        let mut buf = vec![0u8; n - done];
        unpack(&planes[1][done * k as usize / 8..], k, &mut buf);
        let mut rest: [&[u8]; 4] = [&[]; 4];
        for (i, (r, p)) in rest.iter_mut().zip(planes).enumerate() {
            *r = if i == 1 { &buf } else { &p[done..] };
        }
        merge_joint_offset(
            dtype,
            lo,
            len,
            &rest[..planes.len()],
            &mut out[done * dtype.itemsize()..],
        );
    }
}

/// The width plane 1 of `dtype`'s joint layout is packed in when the fused
/// merges read it packed: BF16's and F32's 6-bit sign-and-mantissa plane,
/// F16's 1-bit sign plane.
fn joint_packed_bits(dtype: DType) -> u32 {
    if dtype == DType::F16 {
        1
    } else {
        6
    }
}

/// The AVX2 part of [`merge_joint_packed`]: how many leading elements it
/// merged (a multiple of 32; 0 without AVX2 or for another dtype).
fn merge_joint_simd(dtype: DType, lo: u8, len: usize, planes: &[&[u8]], out: &mut [u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx2 {
        #[allow(unsafe_code)]
        // SAFETY: the kernels need only a CPU with AVX2, which
        // `cpu::features()` has just checked.
        return unsafe {
            match (dtype, planes) {
                (DType::BF16, &[a, b]) => merge_joint_bf16_avx2(lo, len, a, b, out),
                (DType::F16, &[a, s, l]) => merge_joint_f16_avx2(lo, len, a, s, l, out),
                (DType::F32, &[a, b, p1, p0]) => merge_joint_f32_avx2(lo, len, [a, b, p1, p0], out),
                _ => 0,
            }
        };
    }
    let _ = (dtype, lo, len, planes, out);
    0
}

/// The exponents of 32 joint elements from 32 bytes of plane `a`, as
/// [`merge_joint_offset`] computes them: `lo + (a >> 2)`, or 0 where
/// `a >> 2 >= len`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn joint_exponents_avx2(
    va: std::arch::x86_64::__m256i,
    lo: u8,
    len: usize,
) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    // Byte-lane shift by a 16-bit shift and a mask.
    let r = _mm256_and_si256(_mm256_srli_epi16::<2>(va), _mm256_set1_epi8(0x3F));
    // Ranks are below 64 and `len` at most 64: signed compares are exact.
    let keep = _mm256_cmpgt_epi8(_mm256_set1_epi8(len.min(64) as i8), r);
    _mm256_and_si256(_mm256_add_epi8(_mm256_set1_epi8(lo as i8), r), keep)
}

/// The top two bytes of 32 BF16/F32 joint elements (the two bytes of a
/// BF16 element, bytes 2 and 3 of an F32 one), from 32 bytes of plane `a`
/// and 32 unpacked values of the 6-bit plane `b`, as [`merge_joint_offset`]
/// builds them: exponent `lo + (a >> 2)`, or 0 where `a >> 2 >= len`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn joint_top_bytes_avx2(
    va: std::arch::x86_64::__m256i,
    vb: std::arch::x86_64::__m256i,
    lo: u8,
    len: usize,
) -> (std::arch::x86_64::__m256i, std::arch::x86_64::__m256i) {
    use std::arch::x86_64::*;
    let x03 = _mm256_set1_epi8(3);
    let x1f = _mm256_set1_epi8(0x1F);
    let x20 = _mm256_set1_epi8(0x20);
    let x80 = _mm256_set1_epi8(-128);
    let x7f = _mm256_set1_epi8(0x7F);
    let e = joint_exponents_avx2(va, lo, len);
    // Byte-lane shifts by 16-bit shifts and masks.
    let o0 = _mm256_or_si256(
        _mm256_or_si256(
            _mm256_and_si256(_mm256_slli_epi16::<7>(e), x80),
            _mm256_slli_epi16::<5>(_mm256_and_si256(va, x03)),
        ),
        _mm256_and_si256(vb, x1f),
    );
    let o1 = _mm256_or_si256(
        _mm256_slli_epi16::<2>(_mm256_and_si256(vb, x20)),
        _mm256_and_si256(_mm256_srli_epi16::<1>(e), x7f),
    );
    (o0, o1)
}

/// 32 elements of two byte planes `x` (low) and `y` (high) interleaved
/// into 64 bytes, in element order (the unpacks work within 128-bit lanes;
/// the permutes put the lanes back in order).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn interleave2_avx2(
    x: std::arch::x86_64::__m256i,
    y: std::arch::x86_64::__m256i,
) -> [std::arch::x86_64::__m256i; 2] {
    use std::arch::x86_64::*;
    let lo16 = _mm256_unpacklo_epi8(x, y);
    let hi16 = _mm256_unpackhi_epi8(x, y);
    [
        _mm256_permute2x128_si256::<0x20>(lo16, hi16),
        _mm256_permute2x128_si256::<0x31>(lo16, hi16),
    ]
}

/// The BF16 kernel of [`merge_joint_simd`]: per 32 elements, `b`'s 24
/// bytes are unpacked as [`unpack6_avx2`] does, the two bytes of each
/// element built by [`joint_top_bytes_avx2`], then interleaved.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn merge_joint_bf16_avx2(lo: u8, len: usize, a: &[u8], b: &[u8], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let n = a.len().min(out.len() / 2);
    let blocks = spread6_blocks(b.len(), n);
    for ((bs, a), o) in b
        .windows(28)
        .step_by(24)
        .zip(a.chunks_exact(32))
        .zip(out.chunks_exact_mut(64))
        .take(blocks)
    {
        let (bs, a, o): (&[u8; 28], &[u8; 32], &mut [u8; 64]) =
            match (bs.try_into(), a.try_into(), o.try_into()) {
                (Ok(bs), Ok(a), Ok(o)) => (bs, a, o),
                _ => break,
            };
        // SAFETY: the load reads the 32 bytes of `a`; unaligned loads have
        // no alignment requirement.
        let va = unsafe { _mm256_loadu_si256(a.as_ptr().cast()) };
        let (o0, o1) = joint_top_bytes_avx2(va, spread6_avx2(bs), lo, len);
        let [first, second] = interleave2_avx2(o0, o1);
        // SAFETY: two 32-byte stores into the 64 bytes of `o`; unaligned
        // stores have no alignment requirement.
        unsafe {
            _mm256_storeu_si256(o.as_mut_ptr().cast(), first);
            _mm256_storeu_si256(o.as_mut_ptr().add(32).cast(), second);
        }
    }
    blocks * 32
}

/// The F32 kernel of [`merge_joint_simd`]: per 32 elements, the top two
/// bytes as for BF16 ([`joint_top_bytes_avx2`]), then the four byte planes
/// interleaved: bytes 0-1 and 2-3 into 16-bit pairs, the pairs into 32-bit
/// elements (all within 128-bit lanes), and the lanes put in order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn merge_joint_f32_avx2(lo: u8, len: usize, planes: [&[u8]; 4], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let [a, b, p1, p0] = planes;
    let n = a.len().min(p1.len()).min(p0.len()).min(out.len() / 4);
    let blocks = spread6_blocks(b.len(), n);
    for ((((bs, a), p1), p0), o) in b
        .windows(28)
        .step_by(24)
        .zip(a.chunks_exact(32))
        .zip(p1.chunks_exact(32))
        .zip(p0.chunks_exact(32))
        .zip(out.chunks_exact_mut(128))
        .take(blocks)
    {
        let (Ok(a), Ok(p1), Ok(p0)) = (
            <&[u8; 32]>::try_from(a),
            <&[u8; 32]>::try_from(p1),
            <&[u8; 32]>::try_from(p0),
        ) else {
            break;
        };
        let (Ok(bs), Ok(o)) = (<&[u8; 28]>::try_from(bs), <&mut [u8; 128]>::try_from(o)) else {
            break;
        };
        // SAFETY: the loads read the 32 bytes of `a`, `p1` and `p0`;
        // unaligned loads have no alignment requirement.
        let (va, v1, v0) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().cast()),
                _mm256_loadu_si256(p1.as_ptr().cast()),
                _mm256_loadu_si256(p0.as_ptr().cast()),
            )
        };
        let (o2, o3) = joint_top_bytes_avx2(va, spread6_avx2(bs), lo, len);
        // Per 128-bit lane: 16-bit pairs (b0 b1) and (b2 b3) of elements
        // 0-7 (lo) and 8-15 (hi) of the lane, then 32-bit elements.
        let l01 = _mm256_unpacklo_epi8(v0, v1);
        let h01 = _mm256_unpackhi_epi8(v0, v1);
        let l23 = _mm256_unpacklo_epi8(o2, o3);
        let h23 = _mm256_unpackhi_epi8(o2, o3);
        // Lane k of each: elements 16k + (0-3, 4-7, 8-11, 12-15).
        let e0 = _mm256_unpacklo_epi16(l01, l23);
        let e1 = _mm256_unpackhi_epi16(l01, l23);
        let e2 = _mm256_unpacklo_epi16(h01, h23);
        let e3 = _mm256_unpackhi_epi16(h01, h23);
        let r = [
            _mm256_permute2x128_si256::<0x20>(e0, e1),
            _mm256_permute2x128_si256::<0x20>(e2, e3),
            _mm256_permute2x128_si256::<0x31>(e0, e1),
            _mm256_permute2x128_si256::<0x31>(e2, e3),
        ];
        for (k, v) in r.into_iter().enumerate() {
            // SAFETY: four 32-byte stores into the 128 bytes of `o`;
            // unaligned stores have no alignment requirement.
            unsafe { _mm256_storeu_si256(o.as_mut_ptr().add(32 * k).cast(), v) };
        }
    }
    blocks * 32
}

/// The F16 kernel of [`merge_joint_simd`]: per 32 elements, the 4 sign
/// bytes are spread one bit per byte lane (broadcast, a shuffle giving lane
/// `j` byte `j / 8`, then a test of bit `j % 8`), and the two bytes of each
/// element built as [`merge_joint_offset`] builds them ([`super::planes`]'s
/// `f16_high`: exponent `lo + (a >> 2)`, or 0 where `a >> 2 >= len`), then
/// interleaved with the low bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn merge_joint_f16_avx2(lo: u8, len: usize, a: &[u8], s: &[u8], l: &[u8], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let n = a.len().min(l.len()).min(out.len() / 2).min(s.len() * 8);
    let x1f = _mm256_set1_epi8(0x1F);
    let x03 = _mm256_set1_epi8(3);
    let x80 = _mm256_set1_epi8(-128);
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, //
        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bit = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    for (((a, l), s), o) in a
        .chunks_exact(32)
        .zip(l.chunks_exact(32))
        .zip(s.chunks_exact(4))
        .zip(out.chunks_exact_mut(64))
        .take(n / 32)
    {
        let (a, l, s, o): (&[u8; 32], &[u8; 32], &[u8; 4], &mut [u8; 64]) =
            match (a.try_into(), l.try_into(), s.try_into(), o.try_into()) {
                (Ok(a), Ok(l), Ok(s), Ok(o)) => (a, l, s, o),
                _ => break,
            };
        // SAFETY: the loads read the 32 bytes of `a` and of `l`; unaligned
        // loads have no alignment requirement.
        let (va, vl) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().cast()),
                _mm256_loadu_si256(l.as_ptr().cast()),
            )
        };
        // Both 128-bit lanes hold the 4 sign bytes; lane j of the shuffle
        // takes byte j / 8 (within its 128-bit lane: bytes 0-1 for the low
        // half, 2-3 for the high half).
        let m = _mm256_shuffle_epi8(_mm256_set1_epi32(i32::from_le_bytes(*s)), spread);
        let sign = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(m, bit), bit), x80);
        let e = joint_exponents_avx2(va, lo, len);
        let hi = _mm256_or_si256(
            _mm256_or_si256(sign, _mm256_slli_epi16::<2>(_mm256_and_si256(e, x1f))),
            _mm256_and_si256(va, x03),
        );
        let [first, second] = interleave2_avx2(vl, hi);
        // SAFETY: two 32-byte stores into the 64 bytes of `o`; unaligned
        // stores have no alignment requirement.
        unsafe {
            _mm256_storeu_si256(o.as_mut_ptr().cast(), first);
            _mm256_storeu_si256(o.as_mut_ptr().add(32).cast(), second);
        }
    }
    n / 32 * 32
}

fn corrupt(reason: &'static str) -> TensorError {
    TensorError::Corrupt { chunk: 0, reason }
}

/// Where a plane's bytes are: in the payload (raw), one value (rle), or
/// decoded into scratch buffer `i`.
#[derive(Clone, Copy)]
enum Src<'a> {
    Borrowed(&'a [u8]),
    Scratch(usize),
    /// A plane packed in `.1` bits, not unpacked yet (the BF16 and F16
    /// joint merges read their 6-bit and 1-bit planes packed; other merges
    /// unpack it into scratch buffer `.2` first).
    Packed(&'a [u8], u32, usize),
}

/// The bytes of a plane that is not packed (one per element, `n`).
fn plane_bytes<'s>(src: Src<'s>, scratch: &'s [Vec<u8>], n: usize) -> Option<&'s [u8]> {
    match src {
        Src::Borrowed(a) => Some(a),
        Src::Scratch(i) => Some(&scratch[i][..n]),
        Src::Packed(..) => None,
    }
}

/// What a thread keeps from chunk to chunk while decoding: buffers for
/// decoded planes, and a Huffman decoding table (made at the first
/// Huffman plane, then refilled).
#[derive(Default)]
pub(crate) struct Scratch {
    planes: Vec<Vec<u8>>,
    huff: Option<huff0::BlockDecoder>,
}

/// Decode a payload into `out` (the chunk's original size), using
/// `scratch` for decoded planes. Errors name chunk 0; the caller attributes
/// them.
pub(crate) fn decode_chunk(
    payload: &[u8],
    dtype: DType,
    out: &mut [u8],
    state: &mut Scratch,
) -> Result<(), TensorError> {
    let scratch = &mut state.planes;
    let w = dtype.itemsize();
    let n = out.len() / w;
    let Some((&method, mut rest)) = payload.split_first() else {
        return Err(corrupt("empty chunk payload"));
    };
    let mut map = [0u8; JOINT_MAX_EXPONENTS];
    let mut map_len = 0;
    let k = match method {
        METHOD_STORED => {
            if rest.len() != out.len() {
                return Err(corrupt("a stored chunk's size differs from the chunk size"));
            }
            out.copy_from_slice(rest);
            return Ok(());
        }
        METHOD_SPLIT => dtype
            .split_planes()
            .ok_or(corrupt("field split used for a dtype that has none"))?,
        METHOD_BYTES => w,
        METHOD_JOINT => {
            let k = joint_planes(dtype)
                .ok_or(corrupt("joint layout used for a dtype that has none"))?;
            let (&count, r) = rest
                .split_first()
                .ok_or(corrupt("the exponent map is cut short"))?;
            let count = usize::from(count) + 1;
            if count > JOINT_MAX_EXPONENTS {
                return Err(corrupt("the exponent map has over 64 entries"));
            }
            let (used, r) = r
                .split_at_checked(count)
                .ok_or(corrupt("the exponent map is cut short"))?;
            map[..count].copy_from_slice(used);
            map_len = count;
            rest = r;
            k
        }
        _ => return Err(corrupt("unknown chunk method")),
    };
    if scratch.len() < k {
        scratch.resize(k, Vec::new());
    }
    let mut srcs: [Src<'_>; 8] = [Src::Borrowed(&[]); 8];
    for (i, src) in srcs.iter_mut().enumerate().take(k) {
        let (&kind, r) = rest.split_first().ok_or(corrupt("a plane is missing"))?;
        rest = r;
        match kind {
            PLANE_RAW => {
                let (p, r) = rest
                    .split_at_checked(n)
                    .ok_or(corrupt("a raw plane is cut short"))?;
                *src = Src::Borrowed(p);
                rest = r;
            }
            PLANE_RLE => {
                let (&b, r) = rest
                    .split_first()
                    .ok_or(corrupt("an RLE plane is cut short"))?;
                let buf = &mut scratch[i];
                buf.clear();
                buf.resize(n, b);
                *src = Src::Scratch(i);
                rest = r;
            }
            PLANE_PACKED => {
                let (&k, r) = rest
                    .split_first()
                    .ok_or(corrupt("a packed plane is cut short"))?;
                let k = u32::from(k);
                if !(1..=7).contains(&k) {
                    return Err(corrupt("a packed plane's width is not 1 to 7 bits"));
                }
                let (p, r) = r
                    .split_at_checked((n * k as usize).div_ceil(8))
                    .ok_or(corrupt("a packed plane is cut short"))?;
                *src = Src::Packed(p, k, i);
                rest = r;
            }
            PLANE_HUFFMAN => {
                let (lens, used) = huff0::BlockDecoder::read_lengths(rest)
                    .map_err(|_| corrupt("a plane's Huffman table is invalid"))?;
                rest = &rest[used..];
                let (size, r) = rest
                    .split_first_chunk::<4>()
                    .ok_or(corrupt("a Huffman plane is cut short"))?;
                let size = u32::from_le_bytes(*size) as usize;
                let (body, r) = r
                    .split_at_checked(size)
                    .ok_or(corrupt("a Huffman plane is cut short"))?;
                let buf = &mut scratch[i];
                buf.resize(n, 0);
                let dec = state.huff.get_or_insert_with(Default::default);
                dec.decode(&lens, body, &mut buf[..n])
                    .map_err(|e| match e {
                        huff0::Huff0Error::BadCodeLengths { .. } => {
                            corrupt("a plane's Huffman table is invalid")
                        }
                        _ => corrupt("a Huffman plane's coded bits are invalid"),
                    })?;
                *src = Src::Scratch(i);
                rest = r;
            }
            PLANE_RANGE => {
                let buf = &mut scratch[i];
                buf.resize(n, 0);
                let used = decode_range_plane(rest, &mut buf[..n])?;
                *src = Src::Scratch(i);
                rest = &rest[used..];
            }
            _ => return Err(corrupt("unknown plane kind")),
        }
    }
    if !rest.is_empty() {
        return Err(corrupt("bytes follow the last plane"));
    }
    let consecutive = (1..map_len).all(|i| map[i] == map[0].wrapping_add(i as u8));
    if method == METHOD_JOINT && consecutive {
        // The common cases of float weights: the sign-and-mantissa plane
        // packed in 6 bits (BF16, F32), the sign plane packed in 1 bit
        // (F16), read packed; the byte planes are read as they are. Other
        // codings take the general path below.
        let bytes = |s| plane_bytes(s, scratch, n);
        if let Src::Packed(packed, bits, _) = srcs[1] {
            let mut planes: [&[u8]; 4] = [packed; 4];
            let mut fused = bits == joint_packed_bits(dtype);
            for i in [0, 2, 3].into_iter().filter(|&i| i < k) {
                match bytes(srcs[i]) {
                    Some(p) => planes[i] = p,
                    None => fused = false,
                }
            }
            if fused {
                merge_joint_packed(dtype, map[0], map_len, &planes[..k], out);
                return Ok(());
            }
        }
    }
    for s in &mut srcs[..k] {
        if let Src::Packed(p, bits, i) = *s {
            let buf = &mut scratch[i];
            buf.resize(n, 0);
            unpack(p, bits, &mut buf[..n]);
            *s = Src::Scratch(i);
        }
    }
    let mut refs: [&[u8]; 8] = [&[]; 8];
    for (r, s) in refs.iter_mut().zip(&srcs[..k]) {
        // Every packed plane was unpacked just above.
        *r = plane_bytes(*s, scratch, n).unwrap_or_default();
    }
    if method == METHOD_SPLIT {
        merge_fields(dtype, &refs[..k], out);
    } else if method == METHOD_JOINT {
        // A map of consecutive exponents (what the encoder writes when
        // they span under 64) is merged with arithmetic, not a lookup.
        if consecutive {
            merge_joint_offset(dtype, map[0], map_len, &refs[..k], out);
        } else {
            merge_joint(dtype, &map, &refs[..k], out);
        }
    } else {
        merge_bytes(&refs[..k], out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn packing_round_trips(k in 1u32..=7, v in prop::collection::vec(any::<u8>(), 0..300)) {
            let plane: Vec<u8> = v.iter().map(|&b| b & ((1 << k) - 1)).collect();
            let mut out = Vec::new();
            pack(&plane, k, &mut out);
            prop_assert_eq!(out.len(), (plane.len() * k as usize).div_ceil(8));
            let mut back = vec![0u8; plane.len()];
            unpack(&out, k, &mut back);
            prop_assert_eq!(back, plane);
        }

        /// The fused joint merges with plane 1 read packed (AVX2 where
        /// this CPU and SCALEZIP_NO_SIMD allow it) give what unpacking it
        /// and merging give, for BF16, F16 and F32, on any plane bytes and
        /// map; the SIMD part alone covers a prefix of whole 32-element
        /// steps.
        #[test]
        fn fused_joint_merges_equal_unpack_and_merge(
            a in prop::collection::vec(any::<u8>(), 0..600),
            p in prop::collection::vec(any::<u8>(), 1200),
            bytes in prop::collection::vec(any::<u8>(), 450),
            lo in any::<u8>(),
            len in 1usize..=64,
        ) {
            let n = a.len();
            for (dtype, k) in [(DType::BF16, 6), (DType::F16, 1), (DType::F32, 6)] {
                let packed = &bytes[..(n * k).div_ceil(8)];
                let mut plane = vec![0u8; n];
                unpack(packed, k as u32, &mut plane);
                let byte_planes = [&p[..n], &p[600..600 + n]];
                let np = joint_planes(dtype).unwrap();
                let mut planes: Vec<&[u8]> = vec![&a, packed];
                planes.extend(&byte_planes[..np - 2]);
                let mut unpacked = planes.clone();
                unpacked[1] = &plane;
                let size = n * dtype.itemsize();
                let mut want = vec![0u8; size];
                merge_joint_offset(dtype, lo, len, &unpacked, &mut want);
                let mut got = vec![0xA5u8; size];
                merge_joint_packed(dtype, lo, len, &planes, &mut got);
                prop_assert_eq!(&got, &want, "{:?}", dtype);
                let mut part = vec![0u8; size];
                let done = merge_joint_simd(dtype, lo, len, &planes, &mut part);
                prop_assert_eq!(done % 32, 0);
                let m = done * dtype.itemsize();
                prop_assert_eq!(&part[..m], &want[..m], "{:?}", dtype);
            }
        }

        /// One-bit packing (eight values per multiply) writes what the
        /// generic bit loop writes.
        #[test]
        fn pack1_equals_bit_loop(v in prop::collection::vec(0u8..2, 0..300)) {
            let mut fast = Vec::new();
            pack(&v, 1, &mut fast);
            let mut want = vec![0u8; v.len().div_ceil(8)];
            for (i, &b) in v.iter().enumerate() {
                want[i / 8] |= b << (i % 8);
            }
            prop_assert_eq!(fast, want);
        }

        /// The AVX2 unpacking of 6-bit planes (where this CPU and
        /// SCALEZIP_NO_SIMD allow it) gives what the portable code gives,
        /// on any bytes (not only what `pack` writes).
        #[test]
        fn unpack6_simd_equals_portable(src in prop::collection::vec(any::<u8>(), 0..700)) {
            let n = src.len() * 8 / 6;
            for n in [n, n.saturating_sub(1), n.saturating_sub(5)] {
                let src = &src[..(n * 6).div_ceil(8)];
                let mut a = vec![0xAAu8; n];
                let mut b = vec![0x55u8; n];
                unpack(src, 6, &mut a);
                unpack6_from(src, &mut b, 0);
                prop_assert_eq!(&a, &b);
                let done = unpack6_simd(src, &mut b);
                prop_assert_eq!(done % 32, 0);
                prop_assert_eq!(&a, &b);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod quick_plan_tests {
    use super::*;

    /// `n` pseudo-random bytes (xorshift64 from `seed`), ANDed with `mask`.
    pub(crate) fn xorshift(n: usize, seed: u64, mask: u8) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8 & mask
            })
            .collect()
    }

    #[test]
    fn quick_plan_decides_only_plain_cases() {
        let n = 1 << 17;
        assert!(matches!(quick_plan(&xorshift(n, 1, 0xFF)), Some((Plan::Raw, c)) if c == n + 1));
        assert!(matches!(
            quick_plan(&xorshift(n, 2, 0x3F)),
            Some((Plan::Packed(6), c)) if c == 2 + n * 6 / 8
        ));
        assert!(matches!(quick_plan(&vec![9u8; n]), Some((Plan::Rle(9), 2))));
        // Skewed, and small: left to the full plan.
        let skewed: Vec<u8> = xorshift(n, 3, 0xFF)
            .iter()
            .map(|&b| b.leading_zeros() as u8)
            .collect();
        assert!(quick_plan(&skewed).is_none());
        assert!(quick_plan(&xorshift(SAMPLE_MIN - 1, 4, 0xFF)).is_none());
        // Random except for the sampled pieces' complement: the sample
        // says random, and raw is then within 1.5 % of what a full plan
        // would find, by construction of the rule, on any plane of this
        // kind (here the full plan is raw too).
        let p = xorshift(n, 5, 0xFF);
        let (full, _) = plan(&histogram(&p), n, 11);
        assert!(matches!(full, Plan::Raw));
    }
}
