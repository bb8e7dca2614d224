//! Canonical Huffman coding (RFC 1951 section 3.2.2).
//! - [`build`]: code lengths from symbol frequencies, limited to a maximum
//!   length, and the canonical codes (bit-reversed for LSB-first output).
//! - [`decode`]: table-driven decoding from code lengths.
pub mod build;
pub mod decode;
