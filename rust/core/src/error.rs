//! Error types of the codecs. Each message says what is wrong and, where it
//! helps, where; the Python bindings convert them in one place into the
//! exception the stdlib would raise (`zlib.error`, `gzip.BadGzipFile`).

use std::fmt;

/// Errors from compression. Compression of valid arguments cannot fail, so
/// these are all argument errors.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeflateError {
    /// Level outside 0..=12.
    BadLevel(i32),
    /// Window bits outside 9..=15.
    BadWindowBits(i32),
    /// A preset dictionary was given after data had been compressed.
    DictionaryAfterData,
    /// Data was given after the stream was finished with `Flush::Finish`.
    StreamFinished,
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLevel(l) => write!(f, "Bad compression level {l} (expected -1 or 0..=12)"),
            Self::BadWindowBits(w) => write!(
                f,
                "Invalid initialization option: window bits {w} not in 9..=15"
            ),
            Self::DictionaryAfterData => {
                f.write_str("preset dictionary must be set before any data is compressed")
            }
            Self::StreamFinished => f.write_str("the compressed stream is already finished"),
        }
    }
}

impl std::error::Error for DeflateError {}

/// Errors from decompression: the input is not a valid stream. Messages follow
/// zlib's wording where zlib has one, so users searching for them find answers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// Block type 3 (reserved).
    InvalidBlockType,
    /// Stored block whose LEN and NLEN are not complements.
    InvalidStoredLengths,
    /// Dynamic header declares more than 286 literal/length or 30 distance codes.
    TooManyCodes,
    /// Code-length code lengths do not form a valid prefix code.
    InvalidCodeLengthsSet,
    /// A repeat code (16) appears with no previous length.
    InvalidBitLengthRepeat,
    /// Literal/length code lengths are over-subscribed or incomplete.
    InvalidLiteralLengthsSet,
    /// Distance code lengths are over-subscribed or incomplete.
    InvalidDistancesSet,
    /// The end-of-block code (256) has length zero.
    MissingEndOfBlock,
    /// A literal/length symbol 286 or 287 (or one with no code) was decoded.
    InvalidLiteralLengthCode,
    /// A distance symbol 30 or 31 (or one with no code) was decoded.
    InvalidDistanceCode,
    /// A match refers to data before the start of the window / stream.
    DistanceTooFarBack {
        distance: usize,
        available: usize,
    },
    /// The input ended before the end of the stream (only reported by one-shot
    /// decoding; streaming decoders simply ask for more input).
    Truncated,
    /// Container header errors.
    IncorrectHeaderCheck,
    UnknownCompressionMethod,
    InvalidWindowSize,
    /// zlib header asks for a preset dictionary and none was given.
    NeedDictionary {
        adler: u32,
    },
    /// Preset dictionary given does not match the one the stream was made with.
    IncorrectDictionary,
    /// gzip magic bytes are wrong.
    NotGzip,
    /// gzip header flags reserved bits set, or bad FHCRC.
    BadGzipHeader(&'static str),
    /// Trailer checksum mismatch.
    IncorrectDataCheck,
    /// gzip ISIZE mismatch.
    IncorrectLengthCheck,
    /// Decoding into a caller's buffer: the data does not fit.
    OutputTooSmall {
        capacity: usize,
    },
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBlockType => f.write_str("invalid block type"),
            Self::InvalidStoredLengths => f.write_str("invalid stored block lengths"),
            Self::TooManyCodes => f.write_str("too many length or distance symbols"),
            Self::InvalidCodeLengthsSet => f.write_str("invalid code lengths set"),
            Self::InvalidBitLengthRepeat => f.write_str("invalid bit length repeat"),
            Self::InvalidLiteralLengthsSet => f.write_str("invalid literal/lengths set"),
            Self::InvalidDistancesSet => f.write_str("invalid distances set"),
            Self::MissingEndOfBlock => f.write_str("invalid code -- missing end-of-block"),
            Self::InvalidLiteralLengthCode => f.write_str("invalid literal/length code"),
            Self::InvalidDistanceCode => f.write_str("invalid distance code"),
            // zlib's exact words: programs match on them. The distance and
            // the history available stay in the variant for Rust callers.
            Self::DistanceTooFarBack { .. } => f.write_str("invalid distance too far back"),
            Self::Truncated => f.write_str("incomplete or truncated stream"),
            Self::IncorrectHeaderCheck => f.write_str("incorrect header check"),
            Self::UnknownCompressionMethod => f.write_str("unknown compression method"),
            Self::InvalidWindowSize => f.write_str("invalid window size"),
            Self::NeedDictionary { adler } => write!(f, "need dictionary (Adler-32 {adler:#010x})"),
            Self::IncorrectDictionary => {
                f.write_str("incorrect dictionary (Adler-32 does not match)")
            }
            // zlib reports a bad gzip magic as a header check failure.
            Self::NotGzip => f.write_str("incorrect header check"),
            Self::BadGzipHeader(why) => f.write_str(why),
            Self::IncorrectDataCheck => f.write_str("incorrect data check"),
            Self::IncorrectLengthCheck => f.write_str("incorrect length check"),
            Self::OutputTooSmall { capacity } => {
                write!(
                    f,
                    "output buffer too small: the data does not fit in {capacity} bytes"
                )
            }
        }
    }
}

impl std::error::Error for InflateError {}
