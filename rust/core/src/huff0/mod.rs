//! A raw Huffman codec for byte streams, in the manner of zstd's huff0:
//! entropy coding only (no LZ77), for data whose redundancy is in the byte
//! distribution rather than in repeats: exponent bytes of floating-point
//! weights, quantized values, already-transformed residuals, text.
//!
//! Shape of a stream (byte-by-byte in `docs/huffman.md`):
//!
//! ```text
//!   header   magic "SZH0", version 2, flags, block size, original length,
//!            block count, CRC-32 of the original data       (26 bytes)
//!   blocks   each up to `block_size` (at most 128 KiB) original bytes:
//!            0 raw      the bytes as they are (incompressible data)
//!            1 rle      one byte, repeated for the whole block
//!            2 huffman  payload size, the code lengths (4 bits per symbol
//!                       over the used range), 3 stream sizes, 4 streams
//!                       (one per quarter of the block)
//! ```
//!
//! Algorithm per block: count an eighth of its bytes and give a count of 1
//! to any byte value only the rest holds (`stats`; four interleaved
//! sub-histograms; the serial encoder counts each block while coding the
//! one before it, `encode::SideCount`); one distinct byte makes an RLE
//! block; otherwise build a canonical code limited to 11 bits (12 on
//! request) with the DEFLATE encoder's builder
//! ([`crate::huffman::build::lengths_from_freqs`]), and if its estimated
//! cost beats storing the block, code quarter `k` of the block into stream `k`
//! of four LSB-first bit streams ([`encode`]), which the decoder reads with
//! four independent bit readers in one loop ([`decode`]), up to three bytes
//! per lookup in a multi-symbol table ([`table`]); a coded block that
//! comes out no smaller than the raw one is stored raw.
//!
//! Why blocks: they bound the decoder's memory and work per unit, let the
//! code follow a drifting distribution, and are independent, so both
//! directions run one block per thread ([`compress_blocks_parallel`],
//! [`decompress_with`]) with output identical to the serial run.
//!
//! For callers that already know the distribution (the tensor codecs code
//! exponent planes with a table built from a histogram over many tensors),
//! [`Table`] codes bare block bodies with no per-block header:
//! [`encode_block_with`], [`encode_blocks_with`], [`decode_block_with`].
//!
//! Untrusted input: every length is checked before it is used, so decoding
//! never panics, never loops beyond the declared output, and allocates at
//! most the declared output (itself bounded by the caller's limit and by
//! 64 KiB of output per input byte, the RLE ratio).
pub mod decode;
pub mod encode;
pub mod error;
mod stats;
pub mod table;

#[cfg(test)]
mod tests;

pub use error::Huff0Error;
pub use table::{histogram, Table, DEFAULT_MAX_BITS, MAX_TABLE_BITS, MIN_TABLE_BITS};

use crate::checksum;
use crate::inflate::{reserve, OutputBuffer};
use crate::parallel::in_pool;
use crate::InflateError;
use encode::{encode_body, encode_body_into, SideCount, JUMP_TABLE_SIZE};
use rayon::prelude::*;
use stats::block_stats;
use table::{
    check_lengths, enc_table, lengths_for, lengths_size, read_lengths, write_lengths_into,
    DecTable, MAX_LENGTHS_SIZE,
};

/// First bytes of every stream.
pub const MAGIC: [u8; 4] = *b"SZH0";
/// Format version written and read (1, never released, interleaved the
/// four streams byte by byte; it is refused).
pub const VERSION: u8 = 2;
/// Size of the stream header.
pub const HEADER_SIZE: usize = 26;
/// Largest (and default) block size: 128 KiB, as in huff0.
pub const MAX_BLOCK_SIZE: usize = 128 << 10;

const BLOCK_RAW: u8 = 0;
const BLOCK_RLE: u8 = 1;
const BLOCK_HUFFMAN: u8 = 2;

/// Compression settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Original bytes per block, 1..=[`MAX_BLOCK_SIZE`] (default 128 KiB).
    /// Smaller blocks follow a changing distribution more closely but pay
    /// a table (up to 130 bytes) per block.
    pub block_size: usize,
    /// Longest code, 8..=12 bits (default 11). 12 gains a little ratio on
    /// very skewed data; 11 decodes five bytes per refill instead of four.
    pub max_bits: u32,
    /// Worker threads: 1 (default) runs on the calling thread, 0 uses
    /// rayon's global pool (all cores), `n` a pool of `n` threads. The
    /// output does not depend on it.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_size: MAX_BLOCK_SIZE,
            max_bits: DEFAULT_MAX_BITS,
            threads: 1,
        }
    }
}

impl Options {
    /// Check the ranges documented on the fields.
    pub fn validate(&self) -> Result<(), Huff0Error> {
        if !(1..=MAX_BLOCK_SIZE).contains(&self.block_size) {
            return Err(Huff0Error::BadArgument(
                "block_size must be between 1 and 131072 (128 KiB)",
            ));
        }
        if !(MIN_TABLE_BITS..=MAX_TABLE_BITS).contains(&self.max_bits) {
            return Err(Huff0Error::BadArgument("max_bits must be between 8 and 12"));
        }
        Ok(())
    }

    /// The options with out-of-range values clamped into range.
    fn clamped(&self) -> Options {
        Options {
            block_size: self.block_size.clamp(1, MAX_BLOCK_SIZE),
            max_bits: self.max_bits.clamp(MIN_TABLE_BITS, MAX_TABLE_BITS),
            threads: self.threads,
        }
    }

    /// Whether compressing `n` bytes runs on the calling thread alone
    /// (one thread asked for, or a single block), so that the output is
    /// written in order, block after block, into the buffer given.
    pub fn is_serial_for(&self, n: usize) -> bool {
        let o = self.clamped();
        o.threads == 1 || n <= o.block_size
    }
}

/// Compress `input` into a scalezip Huffman stream. Cannot fail: options
/// outside their ranges are clamped into them (check them first with
/// [`Options::validate`] to report them instead). Runs on `opts.threads`
/// threads; the output is the same for any thread count.
pub fn compress(input: &[u8], opts: &Options) -> Vec<u8> {
    into_vec(input, opts, compress_to)
}

/// A `*_to` compression function writing into a `Vec`.
type ToVec = fn(&[u8], &Options, &mut Vec<u8>) -> Result<usize, InflateError>;

/// Run `to` into a new `Vec` of [`compress_bound`]'s capacity, which it
/// grows without failing (or aborts, as any allocation).
fn into_vec(input: &[u8], opts: &Options, to: ToVec) -> Vec<u8> {
    let mut out = Vec::with_capacity(compress_bound(input.len(), opts.block_size));
    let n = to(input, opts, &mut out).unwrap_or(0);
    out.truncate(n);
    out
}

/// [`compress`] into `out`, an [`OutputBuffer`] grown as needed (so a
/// binding can write the stream straight into the object it returns);
/// returns the stream's size: `out.as_mut_slice()[..size]` (what comes
/// after is scratch). Fails only when `out` cannot grow.
///
/// On one thread each block's bytes are counted while the block before it
/// is coded (`SideCount`: the first one alone has a counting pass of its
/// own), and the CRC-32 is taken block by block, while the block is still
/// in cache, then written into the header.
pub fn compress_to<B: OutputBuffer + ?Sized>(
    input: &[u8],
    opts: &Options,
    out: &mut B,
) -> Result<usize, InflateError> {
    let o = opts.clamped();
    if !o.is_serial_for(input.len()) {
        return compress_parallel_to(input, &o, out);
    }
    reserve(out, 0, HEADER_SIZE)?;
    let mut pos = HEADER_SIZE;
    let mut crc = 0;
    let mut chunks = input.chunks(o.block_size).peekable();
    let mut hist = chunks.peek().map_or([0; 256], |b| block_stats(b));
    while let Some(block) = chunks.next() {
        let mut side = SideCount::new(chunks.peek().copied().unwrap_or(&[]));
        let buf = reserve(out, pos, block_capacity(block.len()))?;
        pos += encode_block_into(block, &hist, o.max_bits, &mut buf[pos..], &mut side);
        crc = checksum::crc32(crc, block);
        hist = side.counts();
    }
    write_header(reserve(out, 0, HEADER_SIZE)?, &o, input, crc);
    Ok(pos)
}

/// The most memory [`compress_to`] asks of its output for `n` input bytes
/// in blocks of `block_size` (clamped as [`compress`] does): a buffer of
/// this size never has to grow.
pub fn compress_bound(n: usize, block_size: usize) -> usize {
    let block_size = block_size.clamp(1, MAX_BLOCK_SIZE);
    let blocks = n.div_ceil(block_size);
    HEADER_SIZE + n + blocks + block_capacity(block_size.min(n))
}

/// [`compress`] with one block per task on a rayon pool (`opts.threads`: 0
/// for the global pool, `n` for `n` threads), the CRC-32 computed
/// alongside. The output is byte-identical to the serial [`compress`].
pub fn compress_blocks_parallel(input: &[u8], opts: &Options) -> Vec<u8> {
    into_vec(input, opts, compress_parallel_to)
}

thread_local! {
    /// A worker's room to code one block in (up to [`block_capacity`] of
    /// the largest block, 193 KiB), kept between blocks and calls: a
    /// zeroed buffer that size per block was a fresh allocation (and a
    /// `memset` of 1.5x the input) each time. The block is then copied out
    /// at its exact size.
    static BLOCK_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A stream compressed in parallel, in parts: the header, then each
/// block's bytes ([`compress_parts`]).
pub struct Parts {
    pub header: [u8; HEADER_SIZE],
    pub blocks: Vec<Vec<u8>>,
}

impl Parts {
    /// The stream's size: the parts' sizes summed.
    pub fn len(&self) -> usize {
        HEADER_SIZE + self.blocks.iter().map(Vec::len).sum::<usize>()
    }

    /// Never: a stream has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The parts in stream order: the header, then each block.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(&self.header[..]).chain(self.blocks.iter().map(Vec::as_slice))
    }
}

/// The stream [`compress_blocks_parallel`] writes, as its parts, so that a
/// caller can put them into memory of the exact size (the Python binding
/// into the `bytes` object it returns). Each block is coded, and its
/// CRC-32 taken, by one task on a rayon pool (`opts.threads`, as there),
/// while it is in that core's cache.
pub fn compress_parts(input: &[u8], opts: &Options) -> Parts {
    let o = opts.clamped();
    let work = || {
        input
            .par_chunks(o.block_size)
            .map(|block| {
                let bytes = BLOCK_SCRATCH.with(|cell| {
                    let mut scratch = cell.borrow_mut();
                    let cap = block_capacity(block.len());
                    if scratch.len() < cap {
                        scratch.resize(cap, 0);
                    }
                    let hist = block_stats(block);
                    let n = encode_block_into(
                        block,
                        &hist,
                        o.max_bits,
                        &mut scratch,
                        &mut SideCount::none(),
                    );
                    scratch[..n].to_vec()
                });
                (checksum::crc32(0, block), bytes)
            })
            .collect::<Vec<_>>()
    };
    let coded = in_pool(o.threads, work);
    let mut crc = 0;
    let mut blocks = Vec::with_capacity(coded.len());
    for ((c, bytes), block) in coded.into_iter().zip(input.chunks(o.block_size)) {
        crc = checksum::crc32_combine(crc, c, block.len() as u64);
        blocks.push(bytes);
    }
    let mut header = [0; HEADER_SIZE];
    write_header(&mut header, &o, input, crc);
    Parts { header, blocks }
}

/// [`compress_blocks_parallel`] into `out`, as [`compress_to`]: the blocks
/// are coded apart ([`compress_parts`]), then copied in.
fn compress_parallel_to<B: OutputBuffer + ?Sized>(
    input: &[u8],
    opts: &Options,
    out: &mut B,
) -> Result<usize, InflateError> {
    let parts = compress_parts(input, opts);
    let buf = reserve(out, 0, parts.len())?;
    let mut pos = 0;
    for b in parts.pieces() {
        buf[pos..pos + b.len()].copy_from_slice(b);
        pos += b.len();
    }
    Ok(pos)
}

/// Write the header into `out[..HEADER_SIZE]`.
fn write_header(out: &mut [u8], o: &Options, input: &[u8], crc: u32) {
    let count = input.len().div_ceil(o.block_size) as u32;
    let fields: [&[u8]; 7] = [
        &MAGIC,
        &[VERSION],
        &[0], // flags, reserved
        &(o.block_size as u32).to_le_bytes(),
        &(input.len() as u64).to_le_bytes(),
        &count.to_le_bytes(),
        &crc.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        out[at..at + f.len()].copy_from_slice(f);
        at += f.len();
    }
}

/// Room [`encode_block_into`] needs for a block of `n` bytes: the type
/// byte, and the raw bytes or the payload size, the code lengths and the
/// body.
fn block_capacity(n: usize) -> usize {
    // The counts are of a sample of the block, so the body is sized for any
    // coding of it (`encode::body_capacity` without an exact bit count).
    1 + 4 + MAX_LENGTHS_SIZE + encode::body_capacity(n, None)
}

/// Write one block (type byte and payload) coding `block` (non-empty),
/// whose byte counts are `hist`, at the start of `buf` (at least
/// [`block_capacity`] bytes); returns its size. `side` counts another
/// block on the way (see `encode::SideCount`).
fn encode_block_into(
    block: &[u8],
    hist: &[u32; 256],
    max_bits: u32,
    buf: &mut [u8],
    side: &mut SideCount<'_>,
) -> usize {
    debug_assert_eq!(hist, &block_stats(block));
    // Every byte of the block has a nonzero count: one counted byte value
    // is the whole block.
    if hist.iter().filter(|&&c| c != 0).count() == 1 {
        buf[..2].copy_from_slice(&[BLOCK_RLE, block[0]]);
        return 2;
    }
    let lens = lengths_for(hist, max_bits);
    let (counted, bits) = hist
        .iter()
        .zip(&lens)
        .fold((0u64, 0u64), |(n, b), (&c, &l)| {
            (n + u64::from(c), b + u64::from(c) * u64::from(l))
        });
    // Payload size to within the 0-3 padding bytes of the last 3 streams,
    // when the counts are of the whole block, else as the counted sample
    // predicts (the size coded decides below).
    let bits = bits * block.len() as u64 / counted.max(1);
    let estimate = 4 + lengths_size(&lens) + JUMP_TABLE_SIZE + bits.div_ceil(8) as usize;
    if estimate < block.len() {
        buf[0] = BLOCK_HUFFMAN;
        let mut pos = 5;
        pos += write_lengths_into(&lens, &mut buf[pos..]);
        pos += encode_body_into(&enc_table(&lens), block, &mut buf[pos..], side);
        let payload = pos - 5;
        if 4 + payload < block.len() {
            buf[1..5].copy_from_slice(&(payload as u32).to_le_bytes());
            return pos;
        }
    }
    buf[0] = BLOCK_RAW;
    buf[1..1 + block.len()].copy_from_slice(block);
    1 + block.len()
}

/// The fields of a stream header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub block_size: usize,
    pub original_len: u64,
    pub block_count: usize,
    pub crc32: u32,
}

/// Parse and check the header at the start of `input` (see the module docs).
pub fn read_header(input: &[u8]) -> Result<Header, Huff0Error> {
    let n = input.len().min(MAGIC.len());
    if input[..n] != MAGIC[..n] {
        return Err(Huff0Error::NotHuff0);
    }
    let Some(h) = input.first_chunk::<HEADER_SIZE>() else {
        return Err(Huff0Error::Truncated {
            what: "the 26-byte header",
            needed: HEADER_SIZE,
            len: input.len(),
        });
    };
    if h[4] != VERSION {
        return Err(Huff0Error::UnsupportedVersion(h[4]));
    }
    if h[5] != 0 {
        return Err(Huff0Error::BadHeader("the reserved flags byte is not zero"));
    }
    let block_size = u32::from_le_bytes([h[6], h[7], h[8], h[9]]) as usize;
    let original_len = u64::from_le_bytes([h[10], h[11], h[12], h[13], h[14], h[15], h[16], h[17]]);
    let block_count = u32::from_le_bytes([h[18], h[19], h[20], h[21]]) as usize;
    let crc32 = u32::from_le_bytes([h[22], h[23], h[24], h[25]]);
    if !(1..=MAX_BLOCK_SIZE).contains(&block_size) {
        return Err(Huff0Error::BadHeader(
            "the block size is not between 1 and 131072",
        ));
    }
    if original_len.div_ceil(block_size as u64) != block_count as u64 {
        return Err(Huff0Error::BadHeader(
            "the block count does not match the original length and block size",
        ));
    }
    // Every block takes at least 2 bytes: reject impossible counts before
    // trusting the length for an allocation.
    let needed = (block_count as u64) * 2 + HEADER_SIZE as u64;
    if needed > input.len() as u64 {
        return Err(Huff0Error::Truncated {
            what: "the blocks the header declares",
            needed: usize::try_from(needed).unwrap_or(usize::MAX),
            len: input.len(),
        });
    }
    Ok(Header {
        block_size,
        original_len,
        block_count,
        crc32,
    })
}

/// The original length recorded in a stream's header (checked as
/// [`read_header`] does), to size an output buffer for [`decompress_into`].
pub fn decompressed_len(input: &[u8]) -> Result<u64, Huff0Error> {
    read_header(input).map(|h| h.original_len)
}

/// Decompress a whole stream, refusing to produce more than `max_output`
/// bytes (checked against the header before anything is allocated; pass
/// `usize::MAX` only for trusted input).
pub fn decompress(input: &[u8], max_output: usize) -> Result<Vec<u8>, Huff0Error> {
    decompress_with(input, max_output, 1)
}

/// [`decompress`] on `threads` threads (1: the calling thread, 0: rayon's
/// global pool, `n`: a pool of `n`).
pub fn decompress_with(
    input: &[u8],
    max_output: usize,
    threads: usize,
) -> Result<Vec<u8>, Huff0Error> {
    let h = read_header(input)?;
    if h.original_len > max_output as u64 {
        return Err(Huff0Error::OutputTooLarge {
            size: h.original_len,
            limit: max_output,
        });
    }
    let len = usize::try_from(h.original_len).map_err(|_| Huff0Error::OutputTooLarge {
        size: h.original_len,
        limit: usize::MAX,
    })?;
    // Locate every block before allocating: a stream that lies about its
    // length fails here, in time proportional to its own size.
    let blocks = index_blocks(input, &h)?;
    let mut out = Vec::new();
    out.try_reserve_exact(len)
        .map_err(|_| Huff0Error::OutputTooLarge {
            size: h.original_len,
            limit: max_output,
        })?;
    out.resize(len, 0);
    decode_blocks(&blocks, &h, &mut out, threads)?;
    Ok(out)
}

/// Decompress into `out`, whose length must be the stream's original length
/// ([`decompressed_len`]): this lets a caller decode straight into memory it
/// owns (the Python bindings decode into the new `bytes` object).
pub fn decompress_into(input: &[u8], out: &mut [u8], threads: usize) -> Result<(), Huff0Error> {
    let h = read_header(input)?;
    if h.original_len != out.len() as u64 {
        return Err(Huff0Error::BadArgument(
            "the output buffer's length differs from the stream's original length",
        ));
    }
    let blocks = index_blocks(input, &h)?;
    decode_blocks(&blocks, &h, out, threads)
}

/// One block of a stream, located and bounds-checked.
#[derive(Clone, Copy)]
struct BlockRef<'a> {
    kind: u8,
    /// raw: the bytes; rle: the byte; huffman: the payload.
    payload: &'a [u8],
}

fn index_blocks<'a>(input: &'a [u8], h: &Header) -> Result<Vec<BlockRef<'a>>, Huff0Error> {
    let mut blocks = Vec::with_capacity(h.block_count);
    let mut off = HEADER_SIZE;
    let take = |off: usize, n: usize, what: &'static str| -> Result<&'a [u8], Huff0Error> {
        input.get(off..off + n).ok_or(Huff0Error::Truncated {
            what,
            needed: off + n,
            len: input.len(),
        })
    };
    for i in 0..h.block_count {
        let kind = take(off, 1, "a block type byte")?[0];
        off += 1;
        let payload = match kind {
            BLOCK_RAW => take(off, block_len(h, i), "a raw block")?,
            BLOCK_RLE => take(off, 1, "an RLE block")?,
            BLOCK_HUFFMAN => {
                let s = take(off, 4, "a Huffman block's size field")?;
                off += 4;
                let size = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
                take(off, size, "a Huffman block")?
            }
            _ => return Err(Huff0Error::BadBlockType { block: i, kind }),
        };
        off += payload.len();
        blocks.push(BlockRef { kind, payload });
    }
    if off != input.len() {
        return Err(Huff0Error::TrailingData { offset: off });
    }
    Ok(blocks)
}

/// Original length of block `i`.
fn block_len(h: &Header, i: usize) -> usize {
    let start = i as u64 * h.block_size as u64;
    (h.original_len - start).min(h.block_size as u64) as usize
}

fn decode_blocks(
    blocks: &[BlockRef<'_>],
    h: &Header,
    out: &mut [u8],
    threads: usize,
) -> Result<(), Huff0Error> {
    // One decoding table per thread, refilled for each block.
    let one = |dec: &mut Box<DecTable>, (i, (b, o)): (usize, (&BlockRef<'_>, &mut [u8]))| {
        decode_block(b, o, dec).map_err(|e| e.at_block(i))?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(o);
        Ok::<_, Huff0Error>(crc)
    };
    let crcs: Vec<Result<crc32fast::Hasher, Huff0Error>> = if threads == 1 || blocks.len() <= 1 {
        let mut dec = DecTable::boxed();
        blocks
            .iter()
            .zip(out.chunks_mut(h.block_size))
            .enumerate()
            .map(|x| one(&mut dec, x))
            .collect()
    } else {
        in_pool(threads, || {
            blocks
                .par_iter()
                .zip(out.par_chunks_mut(h.block_size))
                .enumerate()
                .map_init(DecTable::boxed, one)
                .collect()
        })
    };
    let mut crc = crc32fast::Hasher::new();
    for c in crcs {
        crc.combine(&c?);
    }
    let actual = crc.finalize();
    if actual != h.crc32 {
        return Err(Huff0Error::ChecksumMismatch {
            expected: h.crc32,
            actual,
        });
    }
    Ok(())
}

/// Decode one located block into `out` (its original length).
fn decode_block(b: &BlockRef<'_>, out: &mut [u8], dec: &mut DecTable) -> Result<(), Huff0Error> {
    match b.kind {
        BLOCK_RAW => out.copy_from_slice(b.payload),
        BLOCK_RLE => out.fill(b.payload[0]),
        _ => {
            let bad = |reason| Huff0Error::BadCodeLengths { block: 0, reason };
            let (lens, used) = read_lengths(b.payload).map_err(bad)?;
            let max_len = check_lengths(&lens).map_err(bad)?;
            let body = &b.payload[used..];
            check_body_size(body, out.len())?;
            // The decoder's rule for the multi-symbol table (see
            // `decode::decode_body`): skip building it when it will not run.
            let multi = (body.len() as u64) * 8 <= out.len() as u64 * decode::MULTI_MAX_BITS;
            dec.fill(&lens, max_len, multi);
            decode::decode_body(dec, body, out)?;
        }
    }
    Ok(())
}

/// A body holds at least one bit per coded byte: refuse an output size its
/// input cannot hold before allocating or decoding anything.
fn check_body_size(body: &[u8], out_len: usize) -> Result<(), Huff0Error> {
    let bits = (body.len().saturating_sub(JUMP_TABLE_SIZE) as u64) * 8;
    if out_len as u64 > bits {
        return Err(Huff0Error::CorruptStream {
            block: 0,
            stream: 0,
        });
    }
    Ok(())
}

/// Code `input` with `table` as a bare block body (3 stream sizes + 4
/// streams, no table and no length; see [`encode`]). Fails if `input` holds
/// a byte the table has no code for.
pub fn encode_block_with(table: &Table, input: &[u8]) -> Result<Vec<u8>, Huff0Error> {
    if !table.covers_all_bytes() {
        if let Some(&symbol) = input.iter().find(|&&b| table.lengths()[b as usize] == 0) {
            return Err(Huff0Error::SymbolNotInTable { symbol });
        }
    }
    Ok(encode_covered(table, input))
}

/// [`encode_block_with`] for a caller that already holds `input`'s byte
/// histogram (typically the one `table` was built from): coverage is
/// checked on the 256 counts instead of by reading `input` again. The
/// histogram must be `input`'s; one that is not gives a body that does not
/// decode to `input` (never a panic).
pub fn encode_block_with_histogram(
    table: &Table,
    input: &[u8],
    histogram: &[u32; 256],
) -> Result<Vec<u8>, Huff0Error> {
    debug_assert_eq!(histogram, &self::histogram(input));
    if let Some(symbol) = (0..256).find(|&s| histogram[s] != 0 && table.lengths()[s] == 0) {
        return Err(Huff0Error::SymbolNotInTable {
            symbol: symbol as u8,
        });
    }
    Ok(encode_covered(table, input))
}

/// Code lengths for byte counts `hist`, limited to `max_bits` (8..=12):
/// those of [`Table::from_histogram`], without building its coding and
/// decoding tables. For an encoder that sizes a block from its histogram
/// and then codes it once ([`encode_block_with_lengths`]). With fewer than
/// two counted bytes the lengths still form a two-code table, as there.
pub fn code_lengths(hist: &[u32; 256], max_bits: u32) -> Result<[u8; 256], Huff0Error> {
    if !(MIN_TABLE_BITS..=MAX_TABLE_BITS).contains(&max_bits) {
        return Err(Huff0Error::BadArgument(
            "max_bits must be between 8 and 12 (a code for 256 bytes needs 8)",
        ));
    }
    Ok(lengths_for(hist, max_bits))
}

/// Append to `out` the bare block body (as [`encode_block_with`] makes)
/// coding `input` with the code of lengths `lens` (a complete code, as
/// [`code_lengths`] gives), whose byte counts are `histogram`. The body is
/// written in place at the end of `out`, sized exactly from the counts, so
/// no intermediate buffer is made. Fails, leaving `out` as it was, if the
/// lengths are not a complete code or a counted byte has no code.
/// `histogram` must be `input`'s byte counts (checked in debug builds): the
/// output is sized from it, so a wrong one can panic. Crate-internal for
/// that reason (the tensor codec computes the counts itself).
pub(crate) fn encode_block_with_lengths(
    lens: &[u8; 256],
    input: &[u8],
    histogram: &[u32; 256],
    out: &mut Vec<u8>,
) -> Result<(), Huff0Error> {
    debug_assert_eq!(histogram, &self::histogram(input));
    check_lengths(lens).map_err(|reason| Huff0Error::BadCodeLengths { block: 0, reason })?;
    let mut bits = 0u64;
    for (s, (&c, &l)) in histogram.iter().zip(lens).enumerate() {
        if c != 0 && l == 0 {
            return Err(Huff0Error::SymbolNotInTable { symbol: s as u8 });
        }
        bits += u64::from(c) * u64::from(l);
    }
    encode_body(
        &enc_table(lens),
        input,
        Some(bits),
        out,
        &mut SideCount::none(),
    );
    Ok(())
}

/// A decoding table kept across blocks (one per thread), for a caller that
/// stores code lengths itself (as [`Table::write_to`] writes them) and
/// decodes each block once: it builds only the decoding tables, into the
/// same 24 KiB each time, where [`Table::read_from`] would also build a
/// coding table and allocate fresh decoding tables per block.
pub struct BlockDecoder {
    dec: Box<DecTable>,
}

impl Default for BlockDecoder {
    fn default() -> Self {
        BlockDecoder {
            dec: DecTable::boxed(),
        }
    }
}

impl BlockDecoder {
    /// Read stored code lengths from the start of `bytes` (the form
    /// [`Table::write_to`] writes); returns them and the bytes they took.
    /// They are checked when a block is decoded with them.
    pub fn read_lengths(bytes: &[u8]) -> Result<([u8; 256], usize), Huff0Error> {
        read_lengths(bytes).map_err(|reason| Huff0Error::BadCodeLengths { block: 0, reason })
    }

    /// Decode a bare block body (as [`encode_block_with`] makes) coded with
    /// lengths `lens` into `out` (the original length). The same result as
    /// [`decode_block_into`] with `Table::from_lengths(lens)`.
    pub fn decode(
        &mut self,
        lens: &[u8; 256],
        body: &[u8],
        out: &mut [u8],
    ) -> Result<(), Huff0Error> {
        let max_len = check_lengths(lens)
            .map_err(|reason| Huff0Error::BadCodeLengths { block: 0, reason })?;
        check_body_size(body, out.len())?;
        // The block decoder's rule for the multi-symbol table.
        let multi = (body.len() as u64) * 8 <= out.len() as u64 * decode::MULTI_MAX_BITS;
        self.dec.fill(lens, max_len, multi);
        decode::decode_body(&self.dec, body, out)
    }
}

/// Code `input`, every byte of which has a code in `table`.
fn encode_covered(table: &Table, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(JUMP_TABLE_SIZE + input.len() * 3 / 2 + 16);
    encode_body(&table.enc, input, None, &mut out, &mut SideCount::none());
    out
}

/// [`encode_block_with`] over many blocks, one task per block on
/// `threads` threads (1: the calling thread, 0: rayon's global pool).
pub fn encode_blocks_with(
    table: &Table,
    blocks: &[&[u8]],
    threads: usize,
) -> Result<Vec<Vec<u8>>, Huff0Error> {
    if threads == 1 || blocks.len() <= 1 {
        return blocks.iter().map(|b| encode_block_with(table, b)).collect();
    }
    in_pool(threads, || {
        blocks
            .par_iter()
            .map(|b| encode_block_with(table, b))
            .collect()
    })
}

/// Decode a body made by [`encode_block_with`] with the same table, whose
/// original length the caller knows (`out_len`; refused before allocating
/// if `bytes` cannot hold that many codes).
pub fn decode_block_with(
    table: &Table,
    bytes: &[u8],
    out_len: usize,
) -> Result<Vec<u8>, Huff0Error> {
    check_body_size(bytes, out_len)?;
    let mut out = vec![0u8; out_len];
    decode_block_into(table, bytes, &mut out)?;
    Ok(out)
}

/// [`decode_block_with`] into the caller's buffer (`out.len()` is the
/// original length).
pub fn decode_block_into(table: &Table, bytes: &[u8], out: &mut [u8]) -> Result<(), Huff0Error> {
    check_body_size(bytes, out.len())?;
    decode::decode_body(&table.dec, bytes, out)
}
