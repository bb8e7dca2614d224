//! A context-mixing compressor: a bitwise predictive model in the lpaq
//! family driving the binary arithmetic coder of [`crate::rangecoder`].
//!
//! Compression is prediction: each bit is coded in `-log2 p` bits where `p`
//! is the probability the model gave it, so the model *is* the compressor.
//! The model ([`model`]) mixes bit-history predictions from contexts of
//! orders 0 to 6, two word contexts and a match model with a small online
//! neural network, then refines the result with two adaptive probability
//! maps. It learns as it goes; the decoder runs the identical model on the
//! bits it decodes, so nothing but the coded bits is stored. Everything is
//! integer arithmetic, so both sides compute the same probabilities on any
//! machine.
//!
//! The level selects memory, and only memory: the same model with hash
//! tables from 4 MiB (level 1) to 1 GiB (level 9) and a match index an
//! eighth of that ([`model_bytes`]). More memory means fewer contexts
//! forgotten on large inputs, which is the "model size" axis of the
//! compressed-size-versus-model-size curve.
//!
//! Streams (byte by byte in `docs/cm.md`). Version 2, written since the
//! streaming coders came (see [`stream`]), frames the coder's output so
//! that neither side needs the whole data:
//!
//! ```text
//!   0  4  magic "SZCM"
//!   4  1  version (2)
//!   5  1  level (1..=9)
//!   6  1  block size, log2 (20: frames close every 1 MiB of data)
//!   then frames: u32 original bytes, u32 payload bytes, payload;
//!                a frame of fewer than a block's bytes is the last
//!   then u64 original length, u32 CRC-32 of the original data
//! ```
//!
//! Version 3 is version 2 cut into segments: after the block size, a `u32`
//! segment size in blocks; every segment is coded by a fresh model and
//! coder (finished in the segment's last frame), so the segments of a
//! stream compress and decompress on as many cores as there are segments,
//! at some cost in ratio (each segment's model starts knowing nothing).
//! [`compress_with`] writes it when asked for threads or segments.
//!
//! Version 1 (still read; [`compress_v1`] writes it) is one-shot:
//!
//! ```text
//!   0  4  magic "SZCM"
//!   4  1  version (1)
//!   5  1  level (1..=9)
//!   6  8  original length, little-endian
//!  14  4  CRC-32 of the original data, little-endian
//!  18  -  arithmetic-coded bits, most significant bit of each byte first
//! ```
//!
//! Untrusted input: the header and framing are checked (magic, version,
//! level, the lengths against the caller's limit and against the most a
//! payload of that size can expand to) before the model is allocated; the
//! decoder stops at the recorded length, so it cannot hang; a truncated or
//! corrupted payload decodes to wrong bytes that the CRC-32 rejects.
pub mod model;
pub mod parts;
pub mod simd;
pub mod stream;

#[cfg(test)]
mod tests;

use crate::checksum;
use crate::rangecoder::{BinaryDecoder, BinaryEncoder};
use model::Model;
use std::fmt;

pub use stream::{CmDecoder, CmEncoder};

/// First bytes of every stream.
pub const MAGIC: [u8; 4] = *b"SZCM";
/// Format version written for one stream ([`stream`]'s framed layout); 1
/// is still read.
pub const VERSION: u8 = stream::VERSION;
/// Format version written for a segmented stream (parallel coding).
pub const VERSION_SEGMENTED: u8 = stream::VERSION_SEGMENTED;
/// Size of a block, the unit of frames and segments (1 MiB).
pub const BLOCK_SIZE: usize = 1 << stream::BLOCK_LOG;
/// Size of the version 1 header.
pub const HEADER_SIZE: usize = 18;
/// Lowest level (4 MiB hash table).
pub const MIN_LEVEL: u8 = Model::MIN_LEVEL;
/// Highest level (1 GiB hash table).
pub const MAX_LEVEL: u8 = Model::MAX_LEVEL;
/// Level used when none is given.
pub const DEFAULT_LEVEL: u8 = 6;
/// Most original bytes one payload byte can stand for: the model never
/// predicts a bit with probability above 4095/4096, so each byte costs at
/// least `8 * -log2(4095/4096)` = 0.0028 bits, i.e. at most ~2837 bytes
/// per payload byte. A header claiming more is corrupt.
pub const MAX_EXPANSION: u64 = 4096;

/// What went wrong with a `SZCM` stream or its arguments.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmError {
    /// A level outside `MIN_LEVEL..=MAX_LEVEL`.
    BadLevel(i64),
    /// The input does not start with the `SZCM` magic.
    NotCm,
    /// The input ends inside the header.
    Truncated { len: usize },
    /// The input ends (at byte `at`) before the stream does.
    TruncatedStream { at: u64, what: &'static str },
    /// A version byte this build does not read.
    UnsupportedVersion(u8),
    /// The header's level is not one this build defines.
    BadHeaderLevel(u8),
    /// The header declares more output than the caller allows.
    OutputTooLarge { size: u64, limit: u64 },
    /// The header declares more output than the payload can encode.
    ImpossibleLength { size: u64, payload: usize },
    /// The decoded data does not have the CRC-32 the header records.
    ChecksumMismatch { expected: u32, actual: u32 },
    /// A version 2 header with a block size this build does not read.
    BadBlockSize(u8),
    /// A frame declares more original bytes than a block holds.
    BadFrame { frame: u64, orig: u64, block: u64 },
    /// The trailer's length disagrees with the frames'.
    LengthMismatch { frames: u64, trailer: u64 },
    /// Bytes after the end of a version 2 stream (one-shot decoding).
    TrailingData { extra: usize },
    /// More payload than the declared data can use (streaming decoding).
    PayloadOverrun { at: u64 },
    /// The streaming compressor was used after it finished.
    Finished,
    /// A segment size that is not a positive multiple of [`BLOCK_SIZE`]
    /// (an argument), or a header declaring segments of 0 blocks.
    BadSegmentSize(u64),
}

impl fmt::Display for CmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLevel(l) => write!(f, "cm level must be {MIN_LEVEL}..{MAX_LEVEL}, got {l}"),
            Self::NotCm => write!(f, "not a scalezip cm stream (no SZCM magic)"),
            Self::Truncated { len } => {
                write!(f, "truncated cm stream: {len} bytes end inside the header")
            }
            Self::TruncatedStream { at, what } => {
                write!(f, "truncated cm stream: the input ends at byte {at}, {what}")
            }
            Self::BadBlockSize(b) => write!(
                f,
                "corrupt cm header: block size 2^{b} outside 2^{}..2^{}",
                stream::MIN_BLOCK_LOG,
                stream::MAX_BLOCK_LOG
            ),
            Self::BadFrame { frame, orig, block } => write!(
                f,
                "corrupt cm stream: frame {frame} declares {orig} bytes, more than a block of {block}"
            ),
            Self::LengthMismatch { frames, trailer } => write!(
                f,
                "corrupt cm stream: the frames hold {frames} bytes, the trailer records {trailer}"
            ),
            Self::TrailingData { extra } => {
                write!(f, "{extra} bytes of trailing data after the cm stream")
            }
            Self::PayloadOverrun { at } => write!(
                f,
                "corrupt cm stream: at byte {at}, more payload than the frames' data can use"
            ),
            Self::Finished => write!(f, "the cm compressor has already finished its stream"),
            Self::BadSegmentSize(0) => {
                write!(f, "corrupt cm header: segments of 0 blocks")
            }
            Self::BadSegmentSize(s) => write!(
                f,
                "cm segment size must be a positive multiple of {BLOCK_SIZE} bytes \
                 (up to 2^32 blocks), got {s}"
            ),
            Self::UnsupportedVersion(v) => {
                write!(
                    f,
                    "cm stream version {v} is not supported (this build reads 1 to {VERSION_SEGMENTED})"
                )
            }
            Self::BadHeaderLevel(l) => {
                write!(
                    f,
                    "corrupt cm header: level {l} outside {MIN_LEVEL}..{MAX_LEVEL}"
                )
            }
            Self::OutputTooLarge { size, limit } => write!(
                f,
                "cm stream decodes to {size} bytes, more than the limit of {limit}"
            ),
            Self::ImpossibleLength { size, payload } => write!(
                f,
                "corrupt cm header: {size} bytes cannot be coded in a payload of {payload} bytes"
            ),
            Self::ChecksumMismatch { expected, actual } => write!(
                f,
                "cm stream corrupt or truncated: CRC-32 of the decoded data is {actual:#010x}, \
                 the header records {expected:#010x}"
            ),
        }
    }
}

impl std::error::Error for CmError {}

/// Check a level and return it as a `u8`.
pub fn check_level(level: i64) -> Result<u8, CmError> {
    if (i64::from(MIN_LEVEL)..=i64::from(MAX_LEVEL)).contains(&level) {
        Ok(level as u8)
    } else {
        Err(CmError::BadLevel(level))
    }
}

/// Memory (bytes) the model of `level` uses, in either direction.
pub fn model_bytes(level: i64) -> Result<usize, CmError> {
    Ok(Model::bytes_for_level(check_level(level)?))
}

/// Compress `data` at `level` into a `SZCM` stream (version 2, the same
/// bytes [`CmEncoder::new`] writes for the same data).
pub fn compress(data: &[u8], level: i64) -> Result<Vec<u8>, CmError> {
    Ok(stream::compress(data, check_level(level)?, None, 1))
}

/// The segment size (in blocks) for `segment_size` bytes: `Ok(None)` for
/// 0 (one stream), an error unless a positive multiple of [`BLOCK_SIZE`].
pub fn segment_blocks(segment_size: u64) -> Result<Option<u32>, CmError> {
    if segment_size == 0 {
        return Ok(None);
    }
    let block = BLOCK_SIZE as u64;
    match u32::try_from(segment_size / block) {
        Ok(sb) if sb > 0 && segment_size % block == 0 => Ok(Some(sb)),
        _ => Err(CmError::BadSegmentSize(segment_size)),
    }
}

/// Segment size used when the data's length is unknown (the streaming
/// compressor with threads and no segment size): 4 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = (stream::AUTO_MIN_SEGMENT_BLOCKS * BLOCK_SIZE) as u64;

/// The segments (in blocks; `None`: one stream) for the options:
/// `segment_size` bytes when given (a multiple of [`BLOCK_SIZE`]; 0: none);
/// otherwise none on one thread, and on more the automatic choice for
/// `size` bytes ([`stream::auto_segment_blocks`]: 4 to 6 MiB each, none
/// below 8 MiB), or [`DEFAULT_SEGMENT_SIZE`] when the size is unknown.
pub fn choose_segments(
    segment_size: Option<u64>,
    threads: usize,
    size: Option<u64>,
) -> Result<Option<u32>, CmError> {
    match (segment_size, size) {
        (Some(s), _) => segment_blocks(s),
        (None, _) if threads == 1 => Ok(None),
        (None, Some(n)) => Ok(stream::auto_segment_blocks(
            usize::try_from(n).unwrap_or(usize::MAX),
        )),
        (None, None) => segment_blocks(DEFAULT_SEGMENT_SIZE),
    }
}

/// Compress `data` at `level` on `threads` threads (1: this one; 0: one
/// per core), in segments as [`choose_segments`] picks for its length. The
/// output depends on the data, the level and the segments only: the same
/// on 2 threads or 64 (as zstd's multi-threaded mode), but segmented
/// streams are a little larger than one stream.
pub fn compress_with(
    data: &[u8],
    level: i64,
    segment_size: Option<u64>,
    threads: usize,
) -> Result<Vec<u8>, CmError> {
    let level = check_level(level)?;
    let seg_blocks = choose_segments(segment_size, threads, Some(data.len() as u64))?;
    Ok(stream::compress(data, level, seg_blocks, threads))
}

/// Compress `data` at `level` into a version 1 stream, for readers older
/// than version 2. On data shorter than the level's window
/// (`2^(level + 19)` bytes less 64) its payload is byte for byte version
/// 2's.
pub fn compress_v1(data: &[u8], level: i64) -> Result<Vec<u8>, CmError> {
    let level = check_level(level)?;
    let mut out = Vec::with_capacity(HEADER_SIZE + data.len() / 3 + 16);
    out.extend_from_slice(&MAGIC);
    out.push(1);
    out.push(level);
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum::crc32(0, data).to_le_bytes());
    if data.is_empty() {
        return Ok(out);
    }
    let mut m = Model::new(level);
    let mut enc = BinaryEncoder::with_capacity(data.len() / 3 + 16);
    // The model reads only positions before the one it codes.
    simd::run(simd::Encode {
        m: &mut m,
        enc: &mut enc,
        data,
        hist: data,
    });
    out.extend_from_slice(&enc.finish());
    Ok(out)
}

/// The format version of a stream, after checking its magic.
pub fn version(data: &[u8]) -> Result<u8, CmError> {
    let n = data.len().min(4);
    if data[..n] != MAGIC[..n] {
        return Err(CmError::NotCm);
    }
    match data.get(4) {
        None => Err(CmError::Truncated { len: data.len() }),
        Some(&v) if (1..=VERSION_SEGMENTED).contains(&v) => Ok(v),
        Some(&v) => Err(CmError::UnsupportedVersion(v)),
    }
}

/// The parsed version 1 header: (level, original length, CRC-32).
pub fn read_header(data: &[u8]) -> Result<(u8, u64, u32), CmError> {
    if version(data)? != 1 {
        return Err(CmError::UnsupportedVersion(data[4]));
    }
    if data.len() < HEADER_SIZE {
        return Err(CmError::Truncated { len: data.len() });
    }
    let level = data[5];
    if !(MIN_LEVEL..=MAX_LEVEL).contains(&level) {
        return Err(CmError::BadHeaderLevel(level));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&data[6..14]);
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&data[14..18]);
    Ok((level, u64::from_le_bytes(len), u32::from_le_bytes(crc)))
}

/// The original length recorded in a stream's header, after checking it
/// against `limit` and against what the payload can encode.
pub fn decompressed_len(data: &[u8], limit: u64) -> Result<u64, CmError> {
    if version(data)? >= stream::VERSION {
        return Ok(stream::layout(data, limit)?.total);
    }
    let (_, size, _) = read_header(data)?;
    if size > limit {
        return Err(CmError::OutputTooLarge { size, limit });
    }
    let payload = data.len() - HEADER_SIZE;
    if size > (payload as u64 + 8) * MAX_EXPANSION {
        return Err(CmError::ImpossibleLength { size, payload });
    }
    Ok(size)
}

/// Decompress a `SZCM` stream of at most `limit` original bytes.
pub fn decompress(data: &[u8], limit: u64) -> Result<Vec<u8>, CmError> {
    let size = decompressed_len(data, limit)?;
    // `size` is bounded by the payload (and the limit), so this is too.
    let mut out = vec![0u8; size as usize];
    decompress_into(data, &mut out)?;
    Ok(out)
}

/// Decode a `SZCM` stream into `out`, whose length must be the original
/// length ([`decompressed_len`]). `out` also serves as the model's history.
pub fn decompress_into(data: &[u8], out: &mut [u8]) -> Result<(), CmError> {
    decompress_into_with(data, out, 1)
}

/// [`decompress_into`], decoding the segments of a version 3 stream on
/// `threads` threads (1: this one; 0: one per core; a model each).
pub fn decompress_into_with(data: &[u8], out: &mut [u8], threads: usize) -> Result<(), CmError> {
    if version(data)? >= stream::VERSION {
        let lay = stream::layout(data, u64::MAX)?;
        return stream::decompress_into(data, &lay, out, threads);
    }
    let (level, size, expected) = read_header(data)?;
    if size != out.len() as u64 {
        return Err(CmError::OutputTooLarge {
            size,
            limit: out.len() as u64,
        });
    }
    if size > 0 {
        let mut m = Model::new(level);
        let mut dec = BinaryDecoder::new(&data[HEADER_SIZE..]);
        simd::run(simd::Decode {
            m: &mut m,
            dec: &mut dec,
            out,
        });
    }
    let actual = checksum::crc32(0, out);
    if actual != expected {
        return Err(CmError::ChecksumMismatch { expected, actual });
    }
    Ok(())
}
