//! Lossless compression of tensors (model weights): every bit pattern comes
//! back exactly, NaN payloads, signed zeros, infinities and subnormals
//! included.
//!
//! Why it works: the exponent of a trained weight carries 2-3 bits of
//! information in its 8 (bf16, fp32) or 5 (fp16) bits, and its sign and
//! mantissa are nearly random. So a chunk of elements is cut into byte
//! planes ([`planes`]: the exponent field apart from sign and mantissa, as
//! DFloat11 does; plain byte grouping, as ZipNN does; or, for bf16, fp16 and
//! fp32, the exponent's rank jointly with the top two mantissa bits, which goes
//! below the order-0 exponent-entropy bound), the exponent plane is
//! Huffman-coded with the raw Huffman engine ([`crate::huff0`]), and the
//! other planes are stored as they are unless coding them is smaller
//! ([`codec`] decides, from histograms, exactly).
//!
//! Shape of a tensor's compressed data (byte by byte in `docs/szt.md`): the
//! elements are cut into chunks of `chunk_elems` elements (the last one may
//! be shorter), and each chunk becomes one *frame*:
//!
//! ```text
//!   u32 LE  payload size
//!   u32 LE  CRC-32 of the chunk's original bytes
//!   payload (see codec)
//! ```
//!
//! Frames are independent, so both directions run one chunk per task on a
//! rayon pool, with output identical to a serial run, and a reader can
//! decode any run of whole chunks (the `.szt` container uses this to read a
//! tensor larger than memory piece by piece). The decoder checks every size
//! against the output the caller sized from the container's header, never
//! allocates more than one chunk per plane beyond it, and verifies each
//! chunk's CRC-32, so corrupt data raises an error naming the chunk instead
//! of returning wrong values.
//!
//! The container around the frames (names, dtypes, shapes, the index for
//! random access) is `scalezip.tensors` in Python; this module is the part
//! that does the work.

pub mod codec;
pub mod error;
pub mod planes;

pub use codec::Method;
pub use error::TensorError;
pub use planes::DType;

use crate::checksum;
use crate::parallel::in_pool;
use rayon::prelude::*;

/// Size of a frame header (payload size and CRC-32).
pub const FRAME_HEADER_SIZE: usize = 8;
/// Default elements per chunk: 128 Ki, so a bf16 chunk is 256 KiB and each
/// plane fits one huff0 block's worth of bytes.
pub const DEFAULT_CHUNK_ELEMS: usize = 1 << 17;
/// Smallest elements-per-chunk setting.
pub const MIN_CHUNK_ELEMS: usize = 1 << 10;
/// Largest elements-per-chunk setting.
pub const MAX_CHUNK_ELEMS: usize = 1 << 22;

/// Compression settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Elements per chunk, [`MIN_CHUNK_ELEMS`]..=[`MAX_CHUNK_ELEMS`].
    pub chunk_elems: usize,
    /// Layout choice (default [`Method::Auto`]: the smallest per chunk).
    pub method: Method,
    /// Longest Huffman code, 8..=12 bits (default 11).
    pub max_bits: u32,
    /// Worker threads: 0 = rayon's global pool, 1 = the calling thread,
    /// `n` = a pool of `n`. The output does not depend on it.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            chunk_elems: DEFAULT_CHUNK_ELEMS,
            method: Method::Auto,
            max_bits: crate::huff0::DEFAULT_MAX_BITS,
            threads: 0,
        }
    }
}

/// Check a chunk size.
pub fn check_chunk_elems(chunk_elems: usize) -> Result<(), TensorError> {
    if (MIN_CHUNK_ELEMS..=MAX_CHUNK_ELEMS).contains(&chunk_elems) {
        Ok(())
    } else {
        Err(TensorError::BadArgument(
            "chunk_elems must be between 1024 and 4194304",
        ))
    }
}

impl Options {
    /// Check the ranges documented on the fields.
    pub fn validate(&self) -> Result<(), TensorError> {
        check_chunk_elems(self.chunk_elems)?;
        if !(crate::huff0::MIN_TABLE_BITS..=crate::huff0::MAX_TABLE_BITS).contains(&self.max_bits) {
            return Err(TensorError::BadArgument(
                "max_bits must be between 8 and 12",
            ));
        }
        Ok(())
    }
}

fn whole_elements(len: usize, dtype: DType) -> Result<(), TensorError> {
    let w = dtype.itemsize();
    if len % w != 0 {
        return Err(TensorError::PartialElement { len, itemsize: w });
    }
    Ok(())
}

/// Number of chunks `n_elems` elements make.
pub fn chunk_count(n_elems: u64, chunk_elems: usize) -> u64 {
    n_elems.div_ceil(chunk_elems as u64)
}

/// Elements of each sample chunk that [`Method::Auto`] costs the layouts
/// on (a quarter of a default chunk: enough to rank the layouts, for a
/// fraction of the time).
const SAMPLE_ELEMS: usize = 1 << 15;

/// Pieces of the tensor that [`Method::Auto`] compares the layouts on: the
/// first [`SAMPLE_ELEMS`] elements of up to four chunks spread evenly over
/// it.
fn sample_chunks(data: &[u8], chunk_bytes: usize, itemsize: usize) -> Vec<&[u8]> {
    let count = data.len().div_ceil(chunk_bytes);
    let picks = count.min(4);
    let piece = chunk_bytes.min(SAMPLE_ELEMS * itemsize);
    (0..picks)
        .map(|i| {
            let c = i * count / picks;
            &data[c * chunk_bytes..(c * chunk_bytes + piece).min(data.len())]
        })
        .collect()
}

/// Compress `data` (little-endian elements of `dtype`) into frames, one per
/// chunk. Empty data gives no frames (an empty result).
///
/// The layout (field split or byte grouping) is chosen once per call (for
/// [`Method::Auto`], by coding cost on a few sample chunks), and each
/// plane of each chunk is then stored, run-length or Huffman-coded,
/// whichever is smallest.
pub fn encode(data: &[u8], dtype: DType, opts: &Options) -> Result<Vec<u8>, TensorError> {
    let mut out = vec![0u8; max_encoded_len(data.len(), dtype, opts.chunk_elems)];
    let n = encode_into(data, dtype, opts, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// The layout [`encode_into`] codes every chunk of `data` with.
fn choose_layout(data: &[u8], dtype: DType, opts: &Options) -> u8 {
    let chunk_bytes = opts.chunk_elems * dtype.itemsize();
    codec::layout_for(
        opts.method,
        dtype,
        &sample_chunks(data, chunk_bytes, dtype.itemsize()),
        opts.max_bits,
    )
}

/// Append the frame of chunk `c` (coded with `layout`) to `out`.
fn encode_frame(
    c: &[u8],
    dtype: DType,
    opts: &Options,
    layout: u8,
    planes: &mut Vec<Vec<u8>>,
    out: &mut Vec<u8>,
) {
    let at = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_SIZE]);
    let range = opts.method == Method::Range;
    codec::encode_chunk(c, dtype, layout, opts.max_bits, range, planes, out);
    let size = (out.len() - at - FRAME_HEADER_SIZE) as u32;
    out[at..at + 4].copy_from_slice(&size.to_le_bytes());
    out[at + 4..at + 8].copy_from_slice(&checksum::crc32(0, c).to_le_bytes());
}

/// Most bytes [`encode`] can produce for `data_len` bytes in chunks of
/// `chunk_elems` elements of `dtype`: per chunk, its size, a method byte
/// and a frame header (a chunk that codes badly is stored).
pub fn max_encoded_len(data_len: usize, dtype: DType, chunk_elems: usize) -> usize {
    let chunk_bytes = chunk_elems.max(1) * dtype.itemsize();
    data_len + data_len.div_ceil(chunk_bytes) * (FRAME_HEADER_SIZE + 1)
}

/// [`encode`] into `out`, which must hold at least [`max_encoded_len`]
/// bytes; returns how many of them the frames take (from the start), the
/// same bytes [`encode`] returns.
///
/// Why: fresh memory costs a page fault per 4 KiB on first touch (several
/// microseconds each in a VM), so coding every chunk into a buffer of its
/// own and joining them touches twice the output in new pages. Here each
/// thread codes its chunks into one scratch buffer it reuses, and copies
/// each frame into `out` at the chunk's worst-case offset (`i` times the
/// largest frame), so the threads write disjoint slots; then the frames
/// are moved down, in order, to close the gaps (a copy within pages
/// already touched). On one thread each frame goes straight to its final
/// place.
pub fn encode_into(
    data: &[u8],
    dtype: DType,
    opts: &Options,
    out: &mut [u8],
) -> Result<usize, TensorError> {
    opts.validate()?;
    whole_elements(data.len(), dtype)?;
    if out.len() < max_encoded_len(data.len(), dtype, opts.chunk_elems) {
        return Err(TensorError::BadArgument(
            "the output buffer is smaller than max_encoded_len",
        ));
    }
    let chunk_bytes = opts.chunk_elems * dtype.itemsize();
    let layout = choose_layout(data, dtype, opts);
    let code = |scratch: &mut (Vec<Vec<u8>>, Vec<u8>), c: &[u8], slot: &mut [u8]| {
        let (planes, frame) = scratch;
        frame.clear();
        encode_frame(c, dtype, opts, layout, planes, frame);
        // A frame never exceeds its chunk's bound (checked by
        // `max_encoded_len`'s sum): the slot holds it.
        slot[..frame.len()].copy_from_slice(frame);
        frame.len()
    };
    if opts.threads == 1 || data.len() <= chunk_bytes {
        let mut scratch = (Vec::new(), Vec::new());
        let mut at = 0;
        for c in data.chunks(chunk_bytes) {
            at += code(&mut scratch, c, &mut out[at..]);
        }
        return Ok(at);
    }
    let slot = chunk_bytes + FRAME_HEADER_SIZE + 1;
    let lens: Vec<usize> = in_pool(opts.threads, || {
        data.par_chunks(chunk_bytes)
            .zip(out.par_chunks_mut(slot))
            .map_init(|| (Vec::new(), Vec::new()), |s, (c, o)| code(s, c, o))
            .collect()
    });
    let mut at = 0;
    for (i, len) in lens.into_iter().enumerate() {
        out.copy_within(i * slot..i * slot + len, at);
        at += len;
    }
    Ok(at)
}

/// A located frame: the recorded CRC-32 and the payload.
type Frame<'a> = (u32, &'a [u8]);

/// Locate the frames of `frames`, which must hold exactly the chunks of
/// `n_chunks`, checking every size before anything is decoded.
fn index_frames(frames: &[u8], n_chunks: usize) -> Result<Vec<Frame<'_>>, TensorError> {
    // Each frame takes at least 9 bytes: refuse impossible counts before
    // allocating the index.
    if n_chunks > frames.len() / (FRAME_HEADER_SIZE + 1) + 1 {
        return Err(TensorError::Truncated {
            chunk: frames.len() / (FRAME_HEADER_SIZE + 1),
        });
    }
    let mut index = Vec::with_capacity(n_chunks);
    let mut rest = frames;
    for chunk in 0..n_chunks {
        let (h, r) = rest
            .split_first_chunk::<FRAME_HEADER_SIZE>()
            .ok_or(TensorError::Truncated { chunk })?;
        let size = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let (payload, r) = r
            .split_at_checked(size)
            .ok_or(TensorError::Truncated { chunk })?;
        index.push((crc, payload));
        rest = r;
    }
    if !rest.is_empty() {
        return Err(TensorError::TrailingData {
            offset: frames.len() - rest.len(),
        });
    }
    Ok(index)
}

/// Decode `frames` (whole frames made by [`encode`] with `chunk_elems`)
/// into `out`, whose length says how many elements they hold. Checks every
/// chunk's CRC-32. `first_chunk` is the index of the first frame within its
/// tensor, used only to number chunks in errors.
pub fn decode_into(
    frames: &[u8],
    dtype: DType,
    chunk_elems: usize,
    out: &mut [u8],
    first_chunk: usize,
    threads: usize,
) -> Result<(), TensorError> {
    check_chunk_elems(chunk_elems)?;
    whole_elements(out.len(), dtype)?;
    let chunk_bytes = chunk_elems * dtype.itemsize();
    let n_chunks = out.len().div_ceil(chunk_bytes);
    let index = index_frames(frames, n_chunks).map_err(|e| e.shifted(first_chunk))?;
    let one = |scratch: &mut codec::Scratch,
               (i, (&(crc, payload), o)): (usize, (&Frame<'_>, &mut [u8]))| {
        codec::decode_chunk(payload, dtype, o, scratch).map_err(|e| e.at(i))?;
        let actual = checksum::crc32(0, o);
        if actual != crc {
            return Err(TensorError::ChecksumMismatch {
                chunk: i,
                expected: crc,
                actual,
            });
        }
        Ok(())
    };
    let result = if threads == 1 || n_chunks <= 1 {
        let mut scratch = codec::Scratch::default();
        index
            .iter()
            .zip(out.chunks_mut(chunk_bytes))
            .enumerate()
            .try_for_each(|x| one(&mut scratch, x))
    } else {
        in_pool(threads, || {
            index
                .par_iter()
                .zip(out.par_chunks_mut(chunk_bytes))
                .enumerate()
                .try_for_each_init(codec::Scratch::default, one)
        })
    };
    result.map_err(|e| e.shifted(first_chunk))
}

/// [`decode_into`] into a new buffer of `n_elems` elements, refusing more
/// than `limit` bytes of output (checked before anything is allocated; and
/// a chunk count the frames cannot hold is refused first as truncation).
pub fn decode(
    frames: &[u8],
    dtype: DType,
    chunk_elems: usize,
    n_elems: u64,
    limit: usize,
    threads: usize,
) -> Result<Vec<u8>, TensorError> {
    check_chunk_elems(chunk_elems)?;
    let size = n_elems
        .checked_mul(dtype.itemsize() as u64)
        .filter(|&s| s <= limit as u64)
        .ok_or(TensorError::BadArgument(
            "the tensor's size is over the output limit",
        ))?;
    let n_chunks = chunk_count(n_elems, chunk_elems);
    if n_chunks > (frames.len() / (FRAME_HEADER_SIZE + 1)) as u64 + 1 {
        return Err(TensorError::Truncated {
            chunk: frames.len() / (FRAME_HEADER_SIZE + 1),
        });
    }
    let mut out = vec![0u8; size as usize];
    decode_into(frames, dtype, chunk_elems, &mut out, 0, threads)?;
    Ok(out)
}

/// Order-0 entropy in bits of the byte counts `hist`.
fn entropy_bits(hist: &[u32; 256]) -> f64 {
    let total: f64 = hist.iter().map(|&c| f64::from(c)).sum();
    hist.iter()
        .filter(|&&c| c != 0)
        .map(|&c| {
            let c = f64::from(c);
            -c * (c / total).log2()
        })
        .sum()
}

/// The entropy ideal in bytes for `data` cut into chunks of `chunk_elems`:
/// per chunk, the order-0 entropy of the exponent field plus every other
/// bit stored raw. For dtypes without a field split (integers, booleans,
/// F64), the sum of the byte planes' order-0 entropies. A yardstick for
/// benchmarks and `inspect`, not part of coding (it uses floating point).
pub fn entropy_ideal(data: &[u8], dtype: DType, chunk_elems: usize) -> Result<f64, TensorError> {
    check_chunk_elems(chunk_elems)?;
    whole_elements(data.len(), dtype)?;
    let w = dtype.itemsize();
    let bits = data
        .par_chunks(chunk_elems * w)
        .map(|c| {
            let n = c.len() / w;
            if dtype.split_planes().is_some() {
                let mut e = vec![0u8; n];
                planes::exponents(dtype, c, &mut e);
                let rest = (8 * w) as f64 - f64::from(dtype.exponent_bits());
                entropy_bits(&crate::huff0::histogram(&e)) + rest * n as f64
            } else {
                planes::strided_histograms(w, c)
                    .iter()
                    .map(entropy_bits)
                    .sum::<f64>()
            }
        })
        .sum::<f64>();
    Ok(bits / 8.0)
}

#[cfg(test)]
mod tests;
