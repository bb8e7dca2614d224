//! Element types, and the two ways of cutting a chunk of elements into byte
//! planes that an order-0 entropy coder can exploit.
//!
//! *Field split* (DFloat11's view): a trained weight's exponent carries 2-3
//! bits of information in its 8 (or 5) bits, while its sign and mantissa are
//! close to uniformly random. Splitting each element into an exponent plane
//! (one byte per element, the exponent field right-aligned) and planes of the
//! remaining bits puts all the redundancy into one plane with a small,
//! peaked alphabet, and leaves planes that are stored as they are.
//!
//! ```text
//!   dtype     plane 0 (exponent)   plane 1                 plane 2   plane 3
//!   BF16      e7..e0               s m6..m0                -         -
//!   F16       e4..e0               s m9 m8 (bits 2,1,0)    m7..m0    -
//!   F32       e7..e0               s m22..m16              m15..m8   m7..m0
//!   F8_E4M3   e3..e0               s m2..m0 (bits 3..0)    -         -
//!   F8_E5M2   e4..e0               s m1 m0 (bits 2..0)     -         -
//! ```
//!
//! *Byte grouping* (ZipNN's view): plane `k` holds byte `k` (little-endian)
//! of every element. It is the only layout for integers, booleans and F64
//! (whose 11-bit exponent does not fit a byte plane), and for floats it wins
//! when the sign and top mantissa bits are not random (e.g. all-positive
//! tensors, or values on a coarse grid).
//!
//! Both are bijections on bit patterns: NaN payloads, signed zeros,
//! infinities and subnormals come back exactly, because the planes hold the
//! bits, never the values.

use super::error::TensorError;

/// The element types a tensor may have, named as safetensors names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F16,
    BF16,
    F32,
    F64,
    F8E4M3,
    F8E5M2,
}

impl DType {
    /// Every dtype, in a fixed order.
    pub const ALL: [DType; 15] = [
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::U16,
        DType::I16,
        DType::U32,
        DType::I32,
        DType::U64,
        DType::I64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
        DType::F8E4M3,
        DType::F8E5M2,
    ];

    /// The safetensors name (`"BF16"`, `"F8_E4M3"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "BOOL",
            DType::U8 => "U8",
            DType::I8 => "I8",
            DType::U16 => "U16",
            DType::I16 => "I16",
            DType::U32 => "U32",
            DType::I32 => "I32",
            DType::U64 => "U64",
            DType::I64 => "I64",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
            DType::F32 => "F32",
            DType::F64 => "F64",
            DType::F8E4M3 => "F8_E4M3",
            DType::F8E5M2 => "F8_E5M2",
        }
    }

    /// The dtype with safetensors name `name`.
    pub fn from_name(name: &str) -> Result<DType, TensorError> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| TensorError::UnknownDtype(name.to_string()))
    }

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 | DType::F8E4M3 | DType::F8E5M2 => 1,
            DType::U16 | DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::U32 | DType::I32 | DType::F32 => 4,
            DType::U64 | DType::I64 | DType::F64 => 8,
        }
    }

    /// Number of planes of the field split, or `None` if the dtype has no
    /// field split (integers, booleans, F64).
    pub fn split_planes(self) -> Option<usize> {
        match self {
            DType::BF16 | DType::F8E4M3 | DType::F8E5M2 => Some(2),
            DType::F16 => Some(3),
            DType::F32 => Some(4),
            _ => None,
        }
    }

    /// Width in bits of the exponent field (0 for non-float dtypes).
    pub fn exponent_bits(self) -> u32 {
        match self {
            DType::BF16 | DType::F32 => 8,
            DType::F16 | DType::F8E5M2 => 5,
            DType::F8E4M3 => 4,
            DType::F64 => 11,
            _ => 0,
        }
    }
}

/// The exponent field of every element of `data` (whose dtype has a field
/// split), one byte each, into `out` (one entry per element).
pub(crate) fn exponents(dtype: DType, data: &[u8], out: &mut [u8]) {
    match dtype {
        DType::BF16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = (u16::from_le_bytes([c[0], c[1]]) >> 7) as u8;
            }
        }
        DType::F16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = ((u16::from_le_bytes([c[0], c[1]]) >> 10) & 0x1F) as u8;
            }
        }
        DType::F32 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(4)) {
                *o = (u32::from_le_bytes([c[0], c[1], c[2], c[3]]) >> 23) as u8;
            }
        }
        DType::F8E4M3 => {
            for (o, &x) in out.iter_mut().zip(data) {
                *o = (x >> 3) & 0x0F;
            }
        }
        DType::F8E5M2 => {
            for (o, &x) in out.iter_mut().zip(data) {
                *o = (x >> 2) & 0x1F;
            }
        }
        _ => {}
    }
}

/// Which exponent values occur in `data` (BF16 or F32 elements): plain
/// stores into a flag table, with no read-modify-write chain as a
/// histogram has, which is all the joint layout's ranking needs.
pub(crate) fn exponents_seen(dtype: DType, data: &[u8]) -> [bool; 256] {
    let mut seen = [false; 256];
    match dtype {
        DType::BF16 => {
            for c in data.chunks_exact(2) {
                seen[usize::from(u16::from_le_bytes([c[0], c[1]]) >> 7) & 0xFF] = true;
            }
        }
        DType::F32 => {
            for c in data.chunks_exact(4) {
                seen[usize::from((c[3] << 1) | (c[2] >> 7))] = true;
            }
        }
        _ => {
            let mut e = vec![0u8; data.len() / dtype.itemsize()];
            exponents(dtype, data, &mut e);
            for x in e {
                seen[usize::from(x)] = true;
            }
        }
    }
    seen
}

/// Lowest and highest exponent field of `data` (BF16, F16 or F32 elements;
/// at least one): min and max of the sign-cleared top 16 bits, shifted, which
/// is a plain reduction LLVM vectorises (where a table of the exponents
/// seen is a scattered store per element).
#[inline(always)]
fn exponent_range_generic(dtype: DType, data: &[u8]) -> (u8, u8) {
    // Whole words, one accumulator pair: LLVM turns the loop into vector
    // loads and vector min/max (SSE4.1 or AVX2 have them for u16 and u32).
    let (lo, hi) = match dtype {
        DType::BF16 | DType::F16 => data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7FFF)
            .fold((0xFFFF, 0), |(lo, hi), x| (lo.min(x), hi.max(x))),
        DType::F32 => {
            let (lo, hi) = data
                .chunks_exact(4)
                .map(|c| (u32::from_le_bytes([c[0], c[1], c[2], c[3]]) >> 16) & 0x7FFF)
                .fold((0xFFFF, 0), |(lo, hi), x| (lo.min(x), hi.max(x)));
            (lo as u16, hi as u16)
        }
        _ => unreachable!("exponent_range called for a dtype without a joint layout"),
    };
    if lo > hi {
        return (255, 0); // no elements
    }
    // The exponent field sits under the sign: bits 14..7 (BF16, F32's top
    // half), bits 14..10 (F16).
    let shift = if dtype == DType::F16 { 10 } else { 7 };
    ((lo >> shift) as u8, (hi >> shift) as u8)
}

// The drivers below apply a per-element function `f` between elements of
// `W` bytes and `P` planes. Why this shape: every slice is cut to exactly
// `n` elements before the loop and each plane is its own local slice, so
// LLVM proves every index in bounds and vectorises the strided loads; the
// field arithmetic in `f` is done on bytes (never on wider words), so it
// stays in byte lanes.
/// Elements per block of the drivers' inner loops: a constant trip count
/// over constant-length slices is what lets LLVM drop the bounds checks and
/// vectorise.
const BLOCK: usize = 64;

macro_rules! split_driver {
    ($name:ident, $p:literal, [$($o:ident : $k:tt),+]) => {
        // One slice per plane, by design (see above): up to 8 planes.
        #[allow(clippy::too_many_arguments)]
        #[inline(always)]
        fn $name<const W: usize>(
            data: &[u8],
            $($o: &mut [u8],)+
            f: impl Fn(&[u8]) -> [u8; $p],
        ) {
            let n = data.len() / W;
            let full = n / BLOCK * BLOCK;
            for b in (0..full).step_by(BLOCK) {
                let d = &data[b * W..(b + BLOCK) * W];
                $(let $o = &mut $o[b..b + BLOCK];)+
                for i in 0..BLOCK {
                    let y = f(&d[i * W..i * W + W]);
                    $($o[i] = y[$k];)+
                }
            }
            for i in full..n {
                let y = f(&data[i * W..i * W + W]);
                $($o[i] = y[$k];)+
            }
        }
    };
}

macro_rules! merge_driver {
    ($name:ident, $p:literal, [$($o:ident : $k:tt),+]) => {
        // One slice per plane, by design (see above): up to 8 planes.
        #[allow(clippy::too_many_arguments)]
        #[inline(always)]
        fn $name<const W: usize>(
            $($o: &[u8],)+
            out: &mut [u8],
            f: impl Fn([u8; $p], &mut [u8]),
        ) {
            let n = out.len() / W;
            let full = n / BLOCK * BLOCK;
            for b in (0..full).step_by(BLOCK) {
                let d = &mut out[b * W..(b + BLOCK) * W];
                $(let $o = &$o[b..b + BLOCK];)+
                for i in 0..BLOCK {
                    f([$($o[i]),+], &mut d[i * W..i * W + W]);
                }
            }
            for i in full..n {
                f([$($o[i]),+], &mut out[i * W..i * W + W]);
            }
        }
    };
}

split_driver!(split2, 2, [a: 0, b: 1]);
split_driver!(split3, 3, [a: 0, b: 1, c: 2]);
split_driver!(split4, 4, [a: 0, b: 1, c: 2, d: 3]);
split_driver!(split8, 8, [a: 0, b: 1, c: 2, d: 3, e: 4, f2: 5, g: 6, h: 7]);
merge_driver!(merge2, 2, [a: 0, b: 1]);
merge_driver!(merge3, 3, [a: 0, b: 1, c: 2]);
merge_driver!(merge4, 4, [a: 0, b: 1, c: 2, d: 3]);
merge_driver!(merge8, 8, [a: 0, b: 1, c: 2, d: 3, e: 4, f2: 5, g: 6, h: 7]);

/// Field split of `data` (`n` elements of `dtype`, which has a split) into
/// `planes`, each resized to `n`.
#[inline(always)]
fn split_fields_generic(dtype: DType, data: &[u8], planes: &mut [Vec<u8>]) {
    let n = data.len() / dtype.itemsize();
    for p in planes.iter_mut() {
        p.resize(n, 0);
    }
    match (dtype, planes) {
        (DType::BF16, [e, s]) => split2::<2>(data, e, s, |c| {
            let (lo, hi) = (c[0], c[1]);
            [(hi << 1) | (lo >> 7), (hi & 0x80) | (lo & 0x7F)]
        }),
        (DType::F16, [e, t, l]) => split3::<2>(data, e, t, l, |c| {
            let (lo, hi) = (c[0], c[1]);
            [(hi >> 2) & 0x1F, ((hi >> 5) & 4) | (hi & 3), lo]
        }),
        (DType::F32, [e, s, p1, p0]) => split4::<4>(data, e, s, p1, p0, |c| {
            let (b0, b1, b2, b3) = (c[0], c[1], c[2], c[3]);
            [(b3 << 1) | (b2 >> 7), (b3 & 0x80) | (b2 & 0x7F), b1, b0]
        }),
        (DType::F8E4M3, [e, t]) => split2::<1>(data, e, t, |c| {
            let x = c[0];
            [(x >> 3) & 0x0F, ((x >> 4) & 8) | (x & 7)]
        }),
        (DType::F8E5M2, [e, t]) => split2::<1>(data, e, t, |c| {
            let x = c[0];
            [(x >> 2) & 0x1F, ((x >> 5) & 4) | (x & 3)]
        }),
        _ => unreachable!("split_fields called for a dtype without a field split"),
    }
}

/// Inverse of [`split_fields`]: rebuild the elements from `planes` (each
/// at least `out.len() / itemsize` long) into `out`. Bits a plane's field
/// does not use are ignored, so any plane bytes give some elements.
#[inline(always)]
fn merge_fields_generic(dtype: DType, planes: &[&[u8]], out: &mut [u8]) {
    match (dtype, planes) {
        (DType::BF16, &[e, s]) => merge2::<2>(e, s, out, |[e, s], o| {
            o[0] = (e << 7) | (s & 0x7F);
            o[1] = (s & 0x80) | (e >> 1);
        }),
        (DType::F16, &[e, t, l]) => merge3::<2>(e, t, l, out, |[e, t, l], o| {
            o[0] = l;
            o[1] = ((t & 4) << 5) | ((e & 0x1F) << 2) | (t & 3);
        }),
        (DType::F32, &[e, s, p1, p0]) => merge4::<4>(e, s, p1, p0, out, |[e, s, p1, p0], o| {
            o[0] = p0;
            o[1] = p1;
            o[2] = (e << 7) | (s & 0x7F);
            o[3] = (s & 0x80) | (e >> 1);
        }),
        (DType::F8E4M3, &[e, t]) => merge2::<1>(e, t, out, |[e, t], o| {
            o[0] = ((t & 8) << 4) | ((e & 0x0F) << 3) | (t & 7);
        }),
        (DType::F8E5M2, &[e, t]) => merge2::<1>(e, t, out, |[e, t], o| {
            o[0] = ((t & 4) << 5) | ((e & 0x1F) << 2) | (t & 3);
        }),
        _ => unreachable!("merge_fields called for a dtype without a field split"),
    }
}

/// Largest number of distinct exponents the joint layout can rank.
pub(crate) const JOINT_MAX_EXPONENTS: usize = 64;

/// Number of planes of the joint layout (BF16, F16 and F32 only).
pub(crate) fn joint_planes(dtype: DType) -> Option<usize> {
    match dtype {
        DType::BF16 => Some(2),
        DType::F16 => Some(3),
        DType::F32 => Some(4),
        _ => None,
    }
}

/// Joint layout: the exponent's rank among the chunk's distinct exponents
/// (`rank`, each below 64) together with the top two mantissa bits in one
/// byte, then sign and the next five mantissa bits in a 6-bit plane, then
/// (F32) the low mantissa bytes. Coding the exponent jointly with the top
/// mantissa bits captures what the exponent says about them (within a
/// binade, a bell-shaped weight distribution is not flat), which neither
/// the field split nor byte grouping can: this is what takes the coded size
/// below the order-0 exponent-entropy bound.
///
/// F16 (5-bit exponents, so ranks below 32): the rank with the top two
/// mantissa bits, then the sign alone (a 0/1 plane, stored packed in one
/// bit), then the low mantissa byte. Byte grouping codes the sign inside
/// the exponent byte's symbol, one more bit per symbol for the decoder's
/// table lookups to get through; here the coded symbol is the ~4.6 bits of
/// rank and mantissa, as for BF16, and the sign costs its one bit apart.
pub(crate) fn split_joint(dtype: DType, data: &[u8], rank: &[u8; 256], planes: &mut [Vec<u8>]) {
    let n = data.len() / dtype.itemsize();
    for p in planes.iter_mut() {
        p.resize(n, 0);
    }
    match (dtype, planes) {
        (DType::BF16, [a, b]) => split2::<2>(data, a, b, |c| {
            let (lo, hi) = (c[0], c[1]);
            let e = (hi << 1) | (lo >> 7);
            [
                (rank[e as usize] << 2) | ((lo >> 5) & 3),
                ((hi & 0x80) >> 2) | (lo & 0x1F),
            ]
        }),
        (DType::F16, [a, s, l]) => split3::<2>(data, a, s, l, |c| {
            let (lo8, hi) = (c[0], c[1]);
            let e = (hi >> 2) & 0x1F;
            [(rank[e as usize] << 2) | (hi & 3), hi >> 7, lo8]
        }),
        (DType::F32, [a, b, p1, p0]) => split4::<4>(data, a, b, p1, p0, |c| {
            let (b0, b1, b2, b3) = (c[0], c[1], c[2], c[3]);
            let e = (b3 << 1) | (b2 >> 7);
            [
                (rank[e as usize] << 2) | ((b2 >> 5) & 3),
                ((b3 & 0x80) >> 2) | (b2 & 0x1F),
                b1,
                b0,
            ]
        }),
        _ => unreachable!("split_joint called for a dtype without a joint layout"),
    }
}

/// [`split_joint`] with `rank[e] = e - lo` for every exponent `e` of
/// `data` (all of which must lie in `lo..lo + 64`): the same planes, with
/// arithmetic instead of a table lookup, so LLVM vectorises the loop.
#[inline(always)]
fn split_joint_offset_generic(dtype: DType, data: &[u8], lo: u8, planes: &mut [Vec<u8>]) {
    let n = data.len() / dtype.itemsize();
    for p in planes.iter_mut() {
        p.resize(n, 0);
    }
    match (dtype, planes) {
        (DType::BF16, [a, b]) => split2::<2>(data, a, b, |c| {
            let (lo8, hi) = (c[0], c[1]);
            let e = (hi << 1) | (lo8 >> 7);
            [
                (e.wrapping_sub(lo) << 2) | ((lo8 >> 5) & 3),
                ((hi & 0x80) >> 2) | (lo8 & 0x1F),
            ]
        }),
        (DType::F16, [a, s, l]) => split3::<2>(data, a, s, l, |c| {
            let (lo8, hi) = (c[0], c[1]);
            let e = (hi >> 2) & 0x1F;
            [(e.wrapping_sub(lo) << 2) | (hi & 3), hi >> 7, lo8]
        }),
        (DType::F32, [a, b, p1, p0]) => split4::<4>(data, a, b, p1, p0, |c| {
            let (b0, b1, b2, b3) = (c[0], c[1], c[2], c[3]);
            let e = (b3 << 1) | (b2 >> 7);
            [
                (e.wrapping_sub(lo) << 2) | ((b2 >> 5) & 3),
                ((b3 & 0x80) >> 2) | (b2 & 0x1F),
                b1,
                b0,
            ]
        }),
        _ => unreachable!("split_joint_offset called for a dtype without a joint layout"),
    }
}

/// The high byte of an F16 element of the joint layout: sign `s` (bit 0),
/// exponent `e` (low 5 bits), top mantissa bits from `a` (bits 1..0). Bits
/// beyond those (only in corrupt data) are dropped, the same way in every
/// merge, so the portable and SIMD merges agree on any input.
#[inline(always)]
pub(crate) fn f16_high(e: u8, a: u8, s: u8) -> u8 {
    ((s & 1) << 7) | ((e & 0x1F) << 2) | (a & 3)
}

/// Inverse of [`split_joint`], with `map` the chunk's distinct exponents
/// by rank (unused entries zero: garbage ranks decode to *some* value,
/// which the chunk's CRC then rejects).
pub(crate) fn merge_joint(
    dtype: DType,
    map: &[u8; JOINT_MAX_EXPONENTS],
    planes: &[&[u8]],
    out: &mut [u8],
) {
    match (dtype, planes) {
        (DType::BF16, &[a, b]) => merge2::<2>(a, b, out, |[a, b], o| {
            let e = map[usize::from(a >> 2)];
            o[0] = (e << 7) | ((a & 3) << 5) | (b & 0x1F);
            o[1] = ((b & 0x20) << 2) | (e >> 1);
        }),
        (DType::F16, &[a, s, l]) => merge3::<2>(a, s, l, out, |[a, s, l], o| {
            o[0] = l;
            o[1] = f16_high(map[usize::from(a >> 2)], a, s);
        }),
        (DType::F32, &[a, b, p1, p0]) => merge4::<4>(a, b, p1, p0, out, |[a, b, p1, p0], o| {
            let e = map[usize::from(a >> 2)];
            o[0] = p0;
            o[1] = p1;
            o[2] = (e << 7) | ((a & 3) << 5) | (b & 0x1F);
            o[3] = ((b & 0x20) << 2) | (e >> 1);
        }),
        _ => unreachable!("merge_joint called for a dtype without a joint layout"),
    }
}

/// [`merge_joint`] for a map of `len` consecutive exponents from `lo`
/// (`map[r] = lo + r`). Ranks at or past `len` (only in corrupt data)
/// give the exponent 0, as the table's zero entries do in [`merge_joint`],
/// so both merges agree on every input.
#[inline(always)]
fn merge_joint_offset_generic(dtype: DType, lo: u8, len: usize, planes: &[&[u8]], out: &mut [u8]) {
    let len = len as u8;
    let exp = move |a: u8| {
        let r = a >> 2;
        // Branch-free select: all ones below len, else zero.
        let keep = 0u8.wrapping_sub(u8::from(r < len));
        lo.wrapping_add(r) & keep
    };
    match (dtype, planes) {
        (DType::BF16, &[a, b]) => merge2::<2>(a, b, out, |[a, b], o| {
            let e = exp(a);
            o[0] = (e << 7) | ((a & 3) << 5) | (b & 0x1F);
            o[1] = ((b & 0x20) << 2) | (e >> 1);
        }),
        (DType::F16, &[a, s, l]) => merge3::<2>(a, s, l, out, |[a, s, l], o| {
            o[0] = l;
            o[1] = f16_high(exp(a), a, s);
        }),
        (DType::F32, &[a, b, p1, p0]) => merge4::<4>(a, b, p1, p0, out, |[a, b, p1, p0], o| {
            let e = exp(a);
            o[0] = p0;
            o[1] = p1;
            o[2] = (e << 7) | ((a & 3) << 5) | (b & 0x1F);
            o[3] = ((b & 0x20) << 2) | (e >> 1);
        }),
        _ => unreachable!("merge_joint_offset called for a dtype without a joint layout"),
    }
}

/// Byte grouping: plane `k` gets byte `k` of each `w`-byte element.
#[inline(always)]
fn split_bytes_generic(w: usize, data: &[u8], planes: &mut [Vec<u8>]) {
    let n = data.len() / w;
    for p in planes.iter_mut() {
        p.resize(n, 0);
    }
    match planes {
        [p0] => p0.copy_from_slice(&data[..n]),
        [a, b] => split2::<2>(data, a, b, |c| [c[0], c[1]]),
        [a, b, c, d] => split4::<4>(data, a, b, c, d, |x| [x[0], x[1], x[2], x[3]]),
        [a, b, c, d, e, f, g, h] => split8::<8>(data, a, b, c, d, e, f, g, h, |x| {
            [x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]
        }),
        _ => unreachable!("element sizes are 1, 2, 4 or 8"),
    }
}

/// Inverse of [`split_bytes`].
#[inline(always)]
fn merge_bytes_generic(planes: &[&[u8]], out: &mut [u8]) {
    match *planes {
        [p0] => out.copy_from_slice(&p0[..out.len()]),
        [a, b] => merge2::<2>(a, b, out, |x, o| o[..2].copy_from_slice(&x)),
        [a, b, c, d] => merge4::<4>(a, b, c, d, out, |x, o| o[..4].copy_from_slice(&x)),
        [a, b, c, d, e, f, g, h] => merge8::<8>(a, b, c, d, e, f, g, h, out, |x, o| {
            o[..8].copy_from_slice(&x);
        }),
        _ => unreachable!("element sizes are 1, 2, 4 or 8"),
    }
}

/// Byte counts of each of the `w` byte positions of `data`'s elements,
/// without materialising the planes (for costing byte grouping).
pub(crate) fn strided_histograms(w: usize, data: &[u8]) -> Vec<[u32; 256]> {
    let mut h = vec![[0u32; 256]; w];
    match h.as_mut_slice() {
        [h0] => *h0 = crate::huff0::histogram(data),
        [h0, h1] => {
            for c in data.chunks_exact(2) {
                h0[c[0] as usize] += 1;
                h1[c[1] as usize] += 1;
            }
        }
        _ => {
            for c in data.chunks_exact(w) {
                for (hk, &b) in h.iter_mut().zip(c) {
                    hk[b as usize] += 1;
                }
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn splits_are_bijections(data in prop::collection::vec(any::<u8>(), 0..512)) {
            for dtype in DType::ALL {
                let w = dtype.itemsize();
                let data = &data[..data.len() / w * w];
                let mut out = vec![0u8; data.len()];
                if let Some(k) = dtype.split_planes() {
                    let mut planes = vec![Vec::new(); k];
                    split_fields(dtype, data, &mut planes);
                    let refs: Vec<&[u8]> = planes.iter().map(Vec::as_slice).collect();
                    merge_fields(dtype, &refs, &mut out);
                    prop_assert_eq!(&out[..], data, "{:?}", dtype);
                    let mut e = vec![0u8; data.len() / w];
                    exponents(dtype, data, &mut e);
                    prop_assert_eq!(&e, &planes[0]);
                    let seen = exponents_seen(dtype, data);
                    for x in 0..=255u8 {
                        prop_assert_eq!(seen[usize::from(x)], e.contains(&x));
                    }
                }
                let mut planes = vec![Vec::new(); w];
                split_bytes(w, data, &mut planes);
                let refs: Vec<&[u8]> = planes.iter().map(Vec::as_slice).collect();
                merge_bytes(&refs, &mut out);
                prop_assert_eq!(&out[..], data);
                let h = strided_histograms(w, data);
                for (k, p) in planes.iter().enumerate() {
                    prop_assert_eq!(h[k], crate::huff0::histogram(p));
                }
            }
        }
    }

    proptest! {
        #[test]
        fn offset_split_matches_ranked_split(
            data in prop::collection::vec(any::<u8>(), 0..2048),
            lo in 0u8..=192,
        ) {
            for dtype in [DType::BF16, DType::F32, DType::F16] {
                let w = dtype.itemsize();
                // Force every exponent into lo..lo + 64 (F16: into lo..32,
                // with lo below 32).
                let mut data = data[..data.len() / w * w].to_vec();
                let lo = if dtype == DType::F16 { lo % 32 } else { lo };
                for c in data.chunks_exact_mut(w) {
                    if dtype == DType::F16 {
                        let e = lo + ((c[1] >> 2) & 0x1F) % (32 - lo);
                        c[1] = (c[1] & 0x83) | (e << 2);
                        continue;
                    }
                    let e = lo + ((c[w - 1] << 1) | (c[w - 2] >> 7)) % 64;
                    c[w - 1] = (c[w - 1] & 0x80) | (e >> 1);
                    c[w - 2] = (c[w - 2] & 0x7F) | ((e & 1) << 7);
                }
                let k = joint_planes(dtype).unwrap();
                let mut rank = [0u8; 256];
                for (e, r) in rank.iter_mut().enumerate() {
                    *r = (e as u8).wrapping_sub(lo);
                }
                let mut a = vec![Vec::new(); k];
                let mut b = vec![Vec::new(); k];
                split_joint(dtype, &data, &rank, &mut a);
                split_joint_offset(dtype, &data, lo, &mut b);
                prop_assert_eq!(&a, &b);
                // And back, with any map length (garbage ranks included):
                // the lookup and arithmetic merges agree byte for byte.
                for len in [1usize, 17, 64] {
                    let mut map = [0u8; JOINT_MAX_EXPONENTS];
                    for (r, m) in map.iter_mut().enumerate().take(len) {
                        *m = lo.wrapping_add(r as u8);
                    }
                    let refs: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
                    let mut x = vec![0u8; data.len()];
                    let mut y = vec![0u8; data.len()];
                    merge_joint(dtype, &map, &refs, &mut x);
                    merge_joint_offset(dtype, lo, len, &refs, &mut y);
                    prop_assert_eq!(&x, &y);
                    if len == 64 {
                        prop_assert_eq!(&x, &data);
                    }
                }
            }
        }
    }

    #[test]
    fn exponent_fields() {
        // 1.0 in each float format has the exponent bias as its field.
        let mut e = [0u8; 1];
        exponents(DType::BF16, &0x3F80u16.to_le_bytes(), &mut e);
        assert_eq!(e[0], 127);
        exponents(DType::F16, &0x3C00u16.to_le_bytes(), &mut e);
        assert_eq!(e[0], 15);
        exponents(DType::F32, &1.0f32.to_le_bytes(), &mut e);
        assert_eq!(e[0], 127);
        exponents(DType::F8E4M3, &[0x38], &mut e);
        assert_eq!(e[0], 7);
        exponents(DType::F8E5M2, &[0x3C], &mut e);
        assert_eq!(e[0], 15);
    }
}

/// Compile `$generic` (an `#[inline(always)]` function of safe code) a
/// second time with AVX2 enabled, and define `$name` to run that build
/// when [`crate::cpu::features`] allows (not with `SCALEZIP_NO_SIMD`),
/// else the portable one. The two are the same source, so they give the
/// same output (tests check it); AVX2 lets LLVM use 32-byte vectors and
/// byte shuffles for the plane loops, which baseline x86-64 (SSE2) has not.
macro_rules! multiversion {
    ($(#[$m:meta])* fn $name:ident = $generic:ident / $avx2:ident ($($a:ident : $t:ty),*) $(-> $r:ty)?) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2($($a: $t),*) $(-> $r)? {
            $generic($($a),*)
        }

        $(#[$m])*
        pub(crate) fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            if crate::cpu::features().avx2 {
                #[allow(unsafe_code)]
                // SAFETY: the AVX2 build is safe code whose only
                // requirement is a CPU with AVX2, which `cpu::features()`
                // has checked.
                return unsafe { $avx2($($a),*) };
            }
            $generic($($a),*)
        }
    };
}

multiversion! {
    /// Lowest and highest exponent field of `data` (BF16, F16 or F32
    /// elements; `(255, 0)` when empty): min and max of the sign-cleared
    /// top 16 bits, shifted, a plain reduction that vectorises (where a
    /// table of the exponents seen costs a scattered store per element).
    fn exponent_range = exponent_range_generic / exponent_range_avx2
        (dtype: DType, data: &[u8]) -> (u8, u8)
}
multiversion! {
    /// Field split of `data` (`n` elements of `dtype`, which has a split)
    /// into `planes`, each resized to `n`.
    fn split_fields = split_fields_generic / split_fields_avx2
        (dtype: DType, data: &[u8], planes: &mut [Vec<u8>])
}
multiversion! {
    /// Inverse of [`split_fields`]: rebuild the elements from `planes`
    /// (each at least `out.len() / itemsize` long) into `out`.
    fn merge_fields = merge_fields_generic / merge_fields_avx2
        (dtype: DType, planes: &[&[u8]], out: &mut [u8])
}
multiversion! {
    /// [`split_joint`] with `rank[e] = e - lo` (see the generic version).
    fn split_joint_offset = split_joint_offset_generic / split_joint_offset_avx2
        (dtype: DType, data: &[u8], lo: u8, planes: &mut [Vec<u8>])
}
multiversion! {
    /// [`merge_joint`] for a map of `len` consecutive exponents from `lo`.
    fn merge_joint_offset = merge_joint_offset_generic / merge_joint_offset_avx2
        (dtype: DType, lo: u8, len: usize, planes: &[&[u8]], out: &mut [u8])
}
multiversion! {
    /// Byte grouping: plane `k` gets byte `k` of each `w`-byte element.
    fn split_bytes = split_bytes_generic / split_bytes_avx2
        (w: usize, data: &[u8], planes: &mut [Vec<u8>])
}
multiversion! {
    /// Inverse of [`split_bytes`].
    fn merge_bytes = merge_bytes_generic / merge_bytes_avx2
        (planes: &[&[u8]], out: &mut [u8])
}

#[cfg(test)]
mod simd_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The AVX2 builds (when this CPU and SCALEZIP_NO_SIMD allow them)
        /// give exactly what the portable builds give.
        #[test]
        fn dispatched_kernels_equal_portable(
            data in prop::collection::vec(any::<u8>(), 0..3000),
            lo in any::<u8>(),
            len in 1usize..=64,
        ) {
            for dtype in [DType::BF16, DType::F32, DType::F16, DType::F8E4M3, DType::F8E5M2] {
                let w = dtype.itemsize();
                let data = &data[..data.len() / w * w];
                let n = data.len() / w;
                let k = dtype.split_planes().unwrap();
                let (mut a, mut b) = (vec![Vec::new(); k], vec![Vec::new(); k]);
                split_fields(dtype, data, &mut a);
                split_fields_generic(dtype, data, &mut b);
                prop_assert_eq!(&a, &b);
                let refs: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
                let (mut x, mut y) = (vec![0u8; n * w], vec![1u8; n * w]);
                merge_fields(dtype, &refs, &mut x);
                merge_fields_generic(dtype, &refs, &mut y);
                prop_assert_eq!(&x, &y);
                let (mut a, mut b) = (vec![Vec::new(); w], vec![Vec::new(); w]);
                split_bytes(w, data, &mut a);
                split_bytes_generic(w, data, &mut b);
                prop_assert_eq!(&a, &b);
                let refs: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
                merge_bytes(&refs, &mut x);
                merge_bytes_generic(&refs, &mut y);
                prop_assert_eq!(&x, &y);
                if let Some(k) = joint_planes(dtype) {
                    prop_assert_eq!(exponent_range(dtype, data), exponent_range_generic(dtype, data));
                    let (mut a, mut b) = (vec![Vec::new(); k], vec![Vec::new(); k]);
                    split_joint_offset(dtype, data, lo, &mut a);
                    split_joint_offset_generic(dtype, data, lo, &mut b);
                    prop_assert_eq!(&a, &b);
                    let refs: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
                    merge_joint_offset(dtype, lo, len, &refs, &mut x);
                    merge_joint_offset_generic(dtype, lo, len, &refs, &mut y);
                    prop_assert_eq!(&x, &y);
                    // The range is the exponents' true min and max.
                    let mut e = vec![0u8; n];
                    exponents(dtype, data, &mut e);
                    let want = (
                        e.iter().copied().min().unwrap_or(255),
                        e.iter().copied().max().unwrap_or(0),
                    );
                    prop_assert_eq!(exponent_range(dtype, data), want);
                }
            }
        }
    }
}
