//! LSB-first bit I/O as DEFLATE needs it (RFC 1951 section 3.1.1: data
//! elements are packed starting with the least significant bit of each byte).
//! Both directions keep a 64-bit buffer and move whole words, not bits.
pub mod reader;
pub mod writer;

pub use reader::BitReader;
pub use writer::BitWriter;
