//! scalezip-core: the pure-Rust compression kernels behind the `scalezip`
//! Python package. No PyO3 here: everything in this crate is plain Rust that
//! can be tested, fuzzed and benchmarked without an interpreter.
//!
//! One module per concern:
//! - [`bitio`]: LSB-first bit reader and writer with 64-bit buffers.
//! - [`huffman`]: length-limited canonical Huffman code construction and
//!   table-driven decoding.
//! - [`lz77`]: match finding over a 32 KiB sliding window.
//! - [`deflate`]: the RFC 1951 encoder (stored / fixed / dynamic blocks).
//! - [`inflate`]: the RFC 1951 decoder, a resumable state machine.
//! - [`container`]: zlib (RFC 1950) and gzip (RFC 1952) framing around both.
//! - [`lzw`]: LZW in the Unix `compress` (.Z) format.
//! - [`parallel`]: multi-core DEFLATE emitting one ordinary stream (pigz's way).
//! - [`checksum`]: CRC-32 and Adler-32 (from well-kept crates).
//! - [`cpu`]: run-time choice of the CPU-specific kernel variants.
//! - [`huff0`]: raw Huffman codec for byte streams (huff0-style: 128 KiB
//!   blocks, four interleaved streams).
//! - [`tensor`]: lossless tensor (model weight) codecs: exponent/byte planes,
//!   Huffman-coded, in independent checksummed chunks.
//! - [`cm`]: a context-mixing compressor (lpaq-style bitwise model and
//!   arithmetic coder), levels selecting model memory.
//! - [`rangecoder`]: binary arithmetic coder and multi-symbol range coder
//!   for model-driven compression.
//! - [`quant`]: int8 / packed int4 weight quantization and bf16/fp16
//!   conversions (scales per tensor, channel or group).
//!
//! Untrusted input never panics: decoders return [`error`] values, and every
//! allocation they make is bounded by the caller's output limit.
#![deny(unsafe_code)]

pub mod bitio;
pub mod checksum;
pub mod cm;
pub mod container;
pub mod cpu;
pub mod deflate;
pub mod error;
pub mod huff0;
pub mod huffman;
pub mod inflate;
pub mod lz77;
pub mod lzw;
pub mod mem;
pub mod parallel;
pub mod quant;
pub mod rangecoder;
pub mod tables;
pub mod tensor;

pub use error::{DeflateError, InflateError};
