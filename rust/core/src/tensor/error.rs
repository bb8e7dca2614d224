//! Errors of the tensor codecs. Decoding errors name the chunk (counted from
//! the start of the tensor when the caller says where its frames start), so
//! that the container can add the tensor's name and a user can tell which
//! part of a checkpoint is damaged.

use std::fmt;

/// What went wrong encoding or decoding a tensor's chunk frames.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorError {
    /// A dtype name this build does not know.
    UnknownDtype(String),
    /// An argument outside its documented range.
    BadArgument(&'static str),
    /// The data's length is not a whole number of elements.
    PartialElement { len: usize, itemsize: usize },
    /// The frames end inside chunk `chunk` (in its frame header or payload).
    Truncated { chunk: usize },
    /// Chunk `chunk`'s payload is malformed: `reason` says how.
    Corrupt { chunk: usize, reason: &'static str },
    /// Chunk `chunk` decoded to bytes whose CRC-32 differs from the one
    /// recorded when it was compressed.
    ChecksumMismatch {
        chunk: usize,
        expected: u32,
        actual: u32,
    },
    /// Bytes follow the last chunk's frame.
    TrailingData { offset: usize },
}

impl TensorError {
    /// The same error with its chunk number shifted by `first` (the index
    /// of the first chunk the decoder was given).
    pub(crate) fn shifted(self, first: usize) -> Self {
        match self {
            Self::Truncated { chunk } => Self::Truncated {
                chunk: chunk + first,
            },
            Self::Corrupt { chunk, reason } => Self::Corrupt {
                chunk: chunk + first,
                reason,
            },
            Self::ChecksumMismatch {
                chunk,
                expected,
                actual,
            } => Self::ChecksumMismatch {
                chunk: chunk + first,
                expected,
                actual,
            },
            other => other,
        }
    }

    /// The same error attributed to chunk `chunk`.
    pub(crate) fn at(self, chunk: usize) -> Self {
        match self {
            Self::Truncated { .. } => Self::Truncated { chunk },
            Self::Corrupt { reason, .. } => Self::Corrupt { chunk, reason },
            Self::ChecksumMismatch {
                expected, actual, ..
            } => Self::ChecksumMismatch {
                chunk,
                expected,
                actual,
            },
            other => other,
        }
    }
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownDtype(name) => write!(
                f,
                "unknown tensor dtype {name:?} (expected one of BOOL, U8, I8, U16, I16, U32, \
                 I32, U64, I64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2)"
            ),
            Self::BadArgument(what) => f.write_str(what),
            Self::PartialElement { len, itemsize } => write!(
                f,
                "{len} bytes is not a whole number of {itemsize}-byte elements"
            ),
            Self::Truncated { chunk } => {
                write!(
                    f,
                    "chunk {chunk}: the compressed data ends inside it (truncated)"
                )
            }
            Self::Corrupt { chunk, reason } => write!(f, "chunk {chunk}: {reason} (corrupt data)"),
            Self::ChecksumMismatch {
                chunk,
                expected,
                actual,
            } => write!(
                f,
                "chunk {chunk}: CRC-32 mismatch, recorded {expected:#010x}, decoded data has \
                 {actual:#010x} (corrupt data)"
            ),
            Self::TrailingData { offset } => {
                write!(f, "unexpected data after the last chunk, at byte {offset}")
            }
        }
    }
}

impl std::error::Error for TensorError {}
