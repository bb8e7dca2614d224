//! LZW in the Unix `compress` format (`.Z` files), both directions.
//!
//! LZW (Welch 1984, of the LZ78 family) parses the input into the longest
//! strings already in a dictionary, emits each string's code, and adds that
//! string extended by the next byte as a new entry. The decoder rebuilds the
//! same dictionary one code later, so nothing but codes is sent. `compress`
//! (Thomas, McKie, Davies, Turkowski, Woods, Orost, 1985; `ncompress` today)
//! fixed the container that `.Z` files use; `docs/lzw.md` describes it byte
//! by byte. In short:
//!
//! - a 3-byte header: `1f 9d`, then `block_mode << 7 | max_bits`;
//! - codes packed LSB-first, starting 9 bits wide and growing one bit each
//!   time the dictionary outgrows the width, up to `max_bits` (9..=16);
//! - in block mode code 256 is CLEAR: the dictionary is emptied and codes go
//!   back to 9 bits (the encoder sends it when the compression ratio drops
//!   after the dictionary is full, as `compress` does);
//! - the bit-group quirk: `compress` moves codes through a buffer of 8 codes
//!   (`n_bits` bytes) and, when the width changes or CLEAR is sent, writes the
//!   whole buffer, so the rest of the current group of 8 codes is padding.
//!   Both sides skip to the next multiple of `8 * n_bits` bits, counted from
//!   where the codes of the current width began.
//!
//! Where the format is defined. The decoders that exist (`compress` 4.0,
//! `ncompress`, gzip's `unlzw`) agree on one rule, and it is the format: before
//! each code the decoder widens when its next free entry exceeds
//! `2^n_bits - 1` (or, once `n_bits == max_bits`, `2^max_bits`). Our encoder
//! does not re-derive that rule on its own side; it runs a mirror of the
//! decoder's counters (`dec_free`, `maxcode`) and widens exactly when the
//! decoder will. That settles max-bits 9: the first width is already 9, the
//! rule above still widens to 10 bits once 512 entries exist, and `compress`
//! 4.0 wrote exactly that. `ncompress` 4.2's encoder instead stays at 9 bits
//! (and even defines a code 512), so its `-b 9` output is unreadable by every
//! decoder including its own. We follow 4.0 and the decoders.
//!
//! Shape of the code:
//! - [`encode`]: [`LzwEncoder`], a hash-table dictionary (open addressing,
//!   `u32` slots placed by a hash of the string's bytes, so the probes of
//!   consecutive input bytes do not wait for each other, and a one-bit-per-
//!   hash filter in front that settles most misses from L2).
//! - [`decode`]: [`LzwDecoder`], a resumable table decoder. Each entry knows
//!   its length and either its bytes (short strings) or where its latest
//!   occurrence starts in the output, so when that output is still in the
//!   caller's buffer (always, for one-shot decoding) a string is one short
//!   store or copy instead of a walk down its prefix chain; the walk remains
//!   for strings written by earlier calls. It writes to an [`LzwSink`]: a
//!   `Vec<u8>`, or a caller-grown buffer ([`decompress_to`]).
//!
//! CONTRACT:
//! - Never a panic and never an allocation sized by untrusted input: the
//!   decoder's tables have a fixed 64 Ki entries (allocated once the header
//!   is read) and its output per call is bounded by the caller's `max_out`.
//! - `.Z` has no end marker and no checksum. A stream cut at a code boundary
//!   cannot be told from a shorter stream; [`LzwDecoder::finish`] reports the
//!   cuts that can be seen (inside the header, inside a code, right after
//!   CLEAR).

mod decode;
mod encode;
mod parallel;
#[cfg(test)]
mod tests;

pub use decode::{BufferSink, LzwDecoder, LzwSink};
pub use encode::LzwEncoder;
pub use parallel::{compress_parallel, ParallelLzwEncoder, SEGMENT_SIZE};

use crate::inflate;
use std::fmt;

/// The two magic bytes of every `.Z` stream.
pub const MAGIC: [u8; 2] = [0x1f, 0x9d];
/// Header flag: block mode (code 256 is CLEAR).
pub const BLOCK_MODE: u8 = 0x80;
/// Header bits holding `max_bits`.
pub const MAX_BITS_MASK: u8 = 0x1f;
/// Smallest and largest `max_bits` the format allows.
pub const MIN_MAX_BITS: u32 = 9;
pub const MAX_MAX_BITS: u32 = 16;

/// The 3-byte stream header: the magic, then `max_bits` with the block-mode
/// flag.
pub(crate) fn header_bytes(max_bits: u32, block_mode: bool) -> [u8; 3] {
    let flags = max_bits as u8 | if block_mode { BLOCK_MODE } else { 0 };
    [MAGIC[0], MAGIC[1], flags]
}

pub(crate) const INIT_BITS: u32 = 9;
pub(crate) const CLEAR: u32 = 256;
pub(crate) const FIRST: u32 = 257;

/// What one [`LzwDecoder::decode`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes consumed (all of them unless output ran out).
    pub consumed: usize,
    /// Output bytes appended.
    pub produced: usize,
    /// The call stopped because `max_out` was reached; more output may be
    /// ready without more input (see [`LzwDecoder::has_pending_output`]).
    pub output_full: bool,
}

/// Everything that can go wrong in this module. Messages say what is wrong
/// and where (byte offsets count from the start of the `.Z` stream, header
/// included).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LzwError {
    /// Encoder argument: `max_bits` outside 9..=16.
    InvalidMaxBits { max_bits: u32 },
    /// The stream does not start with `1f 9d`.
    BadMagic { found: [u8; 2] },
    /// The header declares a `max_bits` outside 9..=16.
    UnsupportedMaxBits { max_bits: u8 },
    /// The input ended inside the 3-byte header (`len` bytes of it present).
    TruncatedHeader { len: usize },
    /// The first code (of the stream) is not a literal byte.
    FirstCodeNotLiteral { code: u32, offset: u64 },
    /// A code names a dictionary entry that does not exist yet.
    InvalidCode {
        code: u32,
        next_free: u32,
        offset: u64,
    },
    /// The input ended inside a code: `trailing_bits` (8 or more) bits after
    /// the last complete code, which a `compress` writer never leaves.
    Truncated { offset: u64, trailing_bits: u64 },
    /// The input ended right after a CLEAR code; a writer always sends at
    /// least one more code after CLEAR.
    EndsAfterClear { offset: u64 },
    /// One-shot decoding with a limit: the output would exceed it.
    OutputLimitExceeded { limit: usize },
    /// Encoder used after `finish`.
    Finished,
    /// `LzwDecoder::finish` called while decoded output was still waiting
    /// (the last `decode` stopped at its `max_out`).
    OutputPending,
    /// The caller's output buffer ([`BufferSink`]) could not grow to
    /// `size` bytes.
    OutputAllocation { size: usize },
}

impl fmt::Display for LzwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidMaxBits { max_bits } => {
                write!(f, "invalid max_bits {max_bits}: the .Z format allows 9..=16")
            }
            Self::BadMagic { found } => write!(
                f,
                "not a .Z (compress) stream: it starts with {:02x} {:02x}, expected 1f 9d",
                found[0], found[1]
            ),
            Self::UnsupportedMaxBits { max_bits } => write!(
                f,
                "corrupt .Z header: it declares max_bits {max_bits}, the format allows 9..=16"
            ),
            Self::TruncatedHeader { len: 0 } => {
                f.write_str("empty input: a .Z stream has at least its 3-byte header")
            }
            Self::TruncatedHeader { len } => write!(
                f,
                "truncated .Z stream: the input ends inside the 3-byte header ({len} bytes)"
            ),
            Self::FirstCodeNotLiteral { code, offset } => write!(
                f,
                "corrupt .Z stream: the first code must be a literal byte, found code {code} at byte {offset}"
            ),
            Self::InvalidCode {
                code,
                next_free,
                offset,
            } => write!(
                f,
                "corrupt .Z stream: code {code} at byte {offset} is not in the dictionary \
                 (the next free entry is {next_free})"
            ),
            Self::Truncated {
                offset,
                trailing_bits,
            } => write!(
                f,
                "truncated .Z stream: it ends inside a code ({trailing_bits} bits left over after \
                 the last complete code, at byte {offset})"
            ),
            Self::EndsAfterClear { offset } => write!(
                f,
                "truncated .Z stream: it ends right after a CLEAR code at byte {offset}"
            ),
            Self::OutputLimitExceeded { limit } => {
                write!(f, "decompressed data exceeds the limit of {limit} bytes")
            }
            Self::Finished => f.write_str("the .Z stream is already finished"),
            Self::OutputPending => f.write_str(
                "decoded output is still pending: call decode again before finish",
            ),
            Self::OutputAllocation { size } => {
                write!(f, "could not allocate {size} bytes for the decompressed data")
            }
        }
    }
}

impl std::error::Error for LzwError {}

/// One-shot compression in block mode, as `compress -b max_bits` does.
pub fn compress(input: &[u8], max_bits: u32) -> Result<Vec<u8>, LzwError> {
    let mut enc = LzwEncoder::new(max_bits, true)?;
    // Huge pages (when big): the output is written once, front to back, and
    // 4 KiB page faults cost as much as a tenth of the encoding.
    let mut out = crate::mem::huge_vec_with_capacity(input.len() / 2 + 16);
    enc.encode(input, &mut out)?;
    enc.finish(&mut out)?;
    Ok(out)
}

/// One-shot decompression of a whole `.Z` stream.
///
/// The output is bounded only by what the stream says (an LZW code can stand
/// for tens of kilobytes): for untrusted input prefer [`decompress_limited`]
/// or an [`LzwDecoder`] with a `max_out` per call.
pub fn decompress(input: &[u8]) -> Result<Vec<u8>, LzwError> {
    decompress_limited(input, usize::MAX)
}

/// One-shot decompression that fails with [`LzwError::OutputLimitExceeded`]
/// rather than produce more than `limit` bytes.
pub fn decompress_limited(input: &[u8], limit: usize) -> Result<Vec<u8>, LzwError> {
    // Huge pages (when big): 4 KiB page faults of the output cost a third
    // as much as the decoding itself.
    let mut out = crate::mem::huge_vec_with_capacity(one_shot_capacity(input, limit));
    decompress_to_sink(input, &mut out, limit)?;
    Ok(out)
}

/// A first guess at the size of `input` decompressed, for one-shot
/// decoding: text compresses 2.5-4x with LZW; start there and let the
/// output grow.
pub fn one_shot_capacity(input: &[u8], limit: usize) -> usize {
    input.len().saturating_mul(3).min(limit).min(1 << 30)
}

/// One-shot decompression into `out`, a buffer its owner grows on request
/// (the Python bindings' `bytes` object, so the output is never copied);
/// returns how many bytes at its start hold the output. Errors as
/// [`decompress_limited`], plus [`LzwError::OutputAllocation`] when `out`
/// cannot grow.
pub fn decompress_to<B: inflate::OutputBuffer + ?Sized>(
    input: &[u8],
    out: &mut B,
    limit: usize,
) -> Result<usize, LzwError> {
    let mut sink = BufferSink::new(out);
    decompress_to_sink(input, &mut sink, limit)?;
    Ok(sink.written())
}

fn decompress_to_sink<O: LzwSink + ?Sized>(
    input: &[u8],
    out: &mut O,
    limit: usize,
) -> Result<(), LzwError> {
    let mut dec = LzwDecoder::new();
    let p = dec.decode(input, out, limit)?;
    if p.output_full {
        // Full exactly at the limit is fine if nothing more comes out.
        let more = dec.decode(&input[p.consumed..], &mut Vec::new(), 1)?;
        if more.produced > 0 {
            return Err(LzwError::OutputLimitExceeded { limit });
        }
    }
    dec.finish()
}
