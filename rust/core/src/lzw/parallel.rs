//! Multi-core `.Z` compression: the input is cut into segments of
//! [`SEGMENT_SIZE`] bytes, each coded by an encoder of its own, on as many
//! threads as there are segments in a batch, and the segments are joined
//! with CLEAR codes.
//!
//! Why that is still one ordinary `.Z` stream: in block mode the encoder may
//! send CLEAR whenever it likes (`compress` does when the ratio drops), and
//! after a CLEAR the decoder is exactly where it was at the start of the
//! stream: an empty dictionary, 9-bit codes, the next free entry 257, a new
//! group of eight codes. CLEAR pads its group, and every group of eight
//! `n`-bit codes is `n` whole bytes, so the CLEAR ends on a byte boundary with
//! nothing left in the bit buffer. So segment `k`'s codes, as a fresh encoder
//! writes them (without the 3-byte header), ended by CLEAR for every segment
//! but the last, are whole bytes that simply follow each other. Every
//! decoder reads the result (`ncompress`, `gzip -d`; tested).
//!
//! The cut points depend on the input's length alone (every `SEGMENT_SIZE`
//! bytes), so the output is the same for every thread count other than 1,
//! and the same whether the input comes whole or in pieces; an input of at
//! most one segment comes out exactly as the serial encoder writes it. Each
//! segment starts with an empty dictionary: over the 8 Silesia files, each
//! compressed alone, 0.3 % larger than serial streams; on their
//! concatenation 2.4 % smaller (a fresh dictionary at each segment follows
//! the change of data better than `compress`'s ratio-triggered CLEAR);
//! `docs/lzw.md`.
//!
//! Memory: the streaming encoder holds a batch of four segments per thread
//! until the byte after it arrives (the last segment must be finished
//! differently); the one-shot [`compress_parallel`] codes the caller's
//! buffer in place; each thread's encoder has about 1 MiB of tables.
use super::encode::LzwEncoder;
use super::{header_bytes, LzwError};
use crate::parallel::{in_pool, pool_size};
use rayon::prelude::*;

/// Bytes per segment.
pub const SEGMENT_SIZE: usize = 4 << 20;

/// Streaming multi-core `.Z` encoder (block mode). Feed input with
/// [`encode`](Self::encode) in pieces of any size, then call
/// [`finish`](Self::finish) once.
#[derive(Clone)]
pub struct ParallelLzwEncoder {
    max_bits: u32,
    threads: usize,
    segment: usize,
    /// Input not coded yet: whole segments of the current batch, then part
    /// of one.
    pending: Vec<u8>,
    header_done: bool,
    finished: bool,
    clears: u64,
}

impl ParallelLzwEncoder {
    /// An encoder of codes of at most `max_bits` bits (9..=16) on `threads`
    /// threads (0: one per core).
    pub fn new(max_bits: u32, threads: usize) -> Result<Self, LzwError> {
        Self::with_segment(max_bits, threads, SEGMENT_SIZE)
    }

    /// [`new`](Self::new) with segments of `segment` bytes (at least 1;
    /// tests use small ones).
    pub fn with_segment(max_bits: u32, threads: usize, segment: usize) -> Result<Self, LzwError> {
        LzwEncoder::new(max_bits, true)?;
        Ok(ParallelLzwEncoder {
            max_bits,
            threads,
            segment: segment.max(1),
            pending: Vec::new(),
            header_done: false,
            finished: false,
            clears: 0,
        })
    }

    /// `max_bits` given to [`new`](Self::new).
    pub fn max_bits(&self) -> u32 {
        self.max_bits
    }

    /// CLEAR codes sent so far: the encoders' own, and one per segment
    /// joined.
    pub fn clears(&self) -> u64 {
        self.clears
    }

    /// True once [`finish`](Self::finish) has run.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Compress `input`, appending the output that is ready to `out`: the
    /// header, then each batch of segments once the byte after it is here.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), LzwError> {
        if self.finished {
            return Err(LzwError::Finished);
        }
        self.header(out);
        let batch = pool_size(self.threads).max(1) * BATCH_PER_THREAD * self.segment;
        let mut input = input;
        while !input.is_empty() {
            let take = (batch + 1 - self.pending.len().min(batch)).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() > batch {
                self.code_batch(batch, false, out)?;
            }
        }
        Ok(())
    }

    /// Code what is pending, the last segment finished as the stream's end.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), LzwError> {
        if self.finished {
            return Err(LzwError::Finished);
        }
        self.header(out);
        self.code_batch(self.pending.len(), true, out)?;
        self.finished = true;
        Ok(())
    }

    fn header(&mut self, out: &mut Vec<u8>) {
        if !self.header_done {
            self.header_done = true;
            out.extend_from_slice(&header_bytes(self.max_bits, true));
        }
    }

    /// Code `pending[..len]` and drop it from `pending`.
    fn code_batch(&mut self, len: usize, last: bool, out: &mut Vec<u8>) -> Result<(), LzwError> {
        let data = &self.pending[..len];
        self.clears += code_segments(data, self.max_bits, self.threads, self.segment, last, out)?;
        self.pending.drain(..len);
        Ok(())
    }
}

/// Segments held per thread before a batch is coded: the segments of a
/// batch take different times (text codes faster than noise), and a thread
/// with none left waits for the batch's slowest; more per thread balance
/// better, at `threads * BATCH_PER_THREAD * SEGMENT_SIZE` bytes held.
const BATCH_PER_THREAD: usize = 4;

/// Code `data` (whole segments of `segment` bytes, but for the stream's
/// `last`) in parallel, appending to `out`; returns the CLEAR codes sent.
fn code_segments(
    data: &[u8],
    max_bits: u32,
    threads: usize,
    segment: usize,
    last: bool,
    out: &mut Vec<u8>,
) -> Result<u64, LzwError> {
    let segs: Vec<&[u8]> = data.chunks(segment).collect();
    let n = segs.len();
    let code = |(k, seg): (usize, &&[u8])| encode_segment(seg, max_bits, last && k + 1 == n);
    let parts: Vec<Result<(Vec<u8>, u64), LzwError>> = if n <= 1 {
        segs.iter().enumerate().map(code).collect()
    } else {
        in_pool(threads, || segs.par_iter().enumerate().map(code).collect())
    };
    let mut clears = 0;
    for p in parts {
        let (bytes, c) = p?;
        out.extend_from_slice(&bytes);
        clears += c;
    }
    Ok(clears)
}

/// One segment's codes (no header), ended by CLEAR unless it is the
/// stream's `last`; returns them with the CLEAR codes sent.
fn encode_segment(seg: &[u8], max_bits: u32, last: bool) -> Result<(Vec<u8>, u64), LzwError> {
    let mut enc = LzwEncoder::segment(max_bits)?;
    let mut out = Vec::with_capacity(seg.len() / 2 + 16);
    enc.encode(seg, &mut out)?;
    if last {
        enc.finish(&mut out)?;
        Ok((out, enc.clears()))
    } else {
        enc.finish_with_clear(&mut out)?;
        Ok((out, enc.clears() + 1))
    }
}

/// One-shot [`ParallelLzwEncoder`]: the same bytes, with every segment in
/// one batch (the threads take segments as they come free).
pub fn compress_parallel(input: &[u8], max_bits: u32, threads: usize) -> Result<Vec<u8>, LzwError> {
    compress_parallel_with(input, max_bits, threads, SEGMENT_SIZE)
}

/// [`compress_parallel`] with segments of `segment` bytes (tests).
pub(crate) fn compress_parallel_with(
    input: &[u8],
    max_bits: u32,
    threads: usize,
    segment: usize,
) -> Result<Vec<u8>, LzwError> {
    let enc = ParallelLzwEncoder::with_segment(max_bits, threads, segment)?;
    let mut out = crate::mem::huge_vec_with_capacity(input.len() / 2 + 16);
    out.extend_from_slice(&header_bytes(max_bits, true));
    code_segments(input, max_bits, threads, enc.segment, true, &mut out)?;
    Ok(out)
}
