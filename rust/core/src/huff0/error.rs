//! Errors of the raw Huffman codec. Every decoding error names what is wrong
//! and where (byte offset, block, stream), so that a user holding a damaged
//! file can tell truncation from corruption from a wrong file type.

use std::fmt;

/// What went wrong encoding or decoding a scalezip Huffman (`SZH0`) stream.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Huff0Error {
    /// The input does not start with the `SZH0` magic: not our format.
    NotHuff0,
    /// The format version byte is one this build does not read.
    UnsupportedVersion(u8),
    /// A header field holds an impossible value.
    BadHeader(&'static str),
    /// The input ends inside `what`, which needs bytes up to `needed`
    /// (exclusive) while the input has only `len`.
    Truncated {
        what: &'static str,
        needed: usize,
        len: usize,
    },
    /// The header declares more output than the caller allows.
    OutputTooLarge { size: u64, limit: usize },
    /// Block `block` has a type byte this version does not define.
    BadBlockType { block: usize, kind: u8 },
    /// The code lengths of a block (or of a stored table) are not a complete
    /// prefix code of at most 12 bits.
    BadCodeLengths { block: usize, reason: &'static str },
    /// The three stream sizes of a block add up to more than its payload.
    BadStreamSizes { block: usize },
    /// A stream's bits do not end where its size says: corrupt data.
    CorruptStream { block: usize, stream: usize },
    /// Bytes follow the last block.
    TrailingData { offset: usize },
    /// The decoded data does not have the CRC-32 the header records.
    ChecksumMismatch { expected: u32, actual: u32 },
    /// Encoding with a fixed table met a byte the table has no code for.
    SymbolNotInTable { symbol: u8 },
    /// An argument outside its documented range (block size, code length
    /// limit, histogram).
    BadArgument(&'static str),
}

impl Huff0Error {
    /// The same error, attributed to block `b` (the block-level decoders do
    /// not know their position in a container).
    pub(crate) fn at_block(self, b: usize) -> Self {
        match self {
            Self::BadCodeLengths { reason, .. } => Self::BadCodeLengths { block: b, reason },
            Self::BadStreamSizes { .. } => Self::BadStreamSizes { block: b },
            Self::CorruptStream { stream, .. } => Self::CorruptStream { block: b, stream },
            Self::BadBlockType { kind, .. } => Self::BadBlockType { block: b, kind },
            other => other,
        }
    }
}

impl fmt::Display for Huff0Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHuff0 => f.write_str(
                "not a scalezip Huffman stream: it must start with the magic bytes b\"SZH0\"",
            ),
            Self::UnsupportedVersion(v) => write!(
                f,
                "unsupported scalezip Huffman format version {v} (this build reads version 1; \
                 upgrade scalezip)"
            ),
            Self::BadHeader(what) => write!(f, "invalid scalezip Huffman header: {what}"),
            Self::Truncated { what, needed, len } => write!(
                f,
                "truncated scalezip Huffman stream: {what} needs {needed} bytes but the input \
                 has {len}"
            ),
            Self::OutputTooLarge { size, limit } => write!(
                f,
                "the stream decodes to {size} bytes, over the limit of {limit} bytes"
            ),
            Self::BadBlockType { block, kind } => {
                write!(f, "block {block} has unknown type {kind} (corrupt data)")
            }
            Self::BadCodeLengths { block, reason } => {
                write!(f, "invalid Huffman code lengths in block {block}: {reason}")
            }
            Self::BadStreamSizes { block } => write!(
                f,
                "block {block}: stream sizes add up to more than the block payload (corrupt data)"
            ),
            Self::CorruptStream { block, stream } => write!(
                f,
                "block {block}, stream {stream}: the coded bits do not end where the stream \
                 size says (corrupt data)"
            ),
            Self::TrailingData { offset } => {
                write!(f, "unexpected data after the last block, at byte {offset}")
            }
            Self::ChecksumMismatch { expected, actual } => write!(
                f,
                "CRC-32 mismatch: the header says {expected:#010x}, the decoded data has \
                 {actual:#010x} (corrupt data)"
            ),
            Self::SymbolNotInTable { symbol } => write!(
                f,
                "byte {symbol:#04x} has no code in this Huffman table (build the table from a \
                 histogram that counts every byte the data holds)"
            ),
            Self::BadArgument(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for Huff0Error {}
