//! Multi-core DEFLATE compression that still emits ONE ordinary stream (the
//! pigz technique).
//!
//! The input is cut into blocks of `block_size` bytes. Each block is
//! compressed independently, on its own core, by a fresh `Deflater` primed
//! with the 32 KiB that precede the block as a preset dictionary, so matches
//! may still reach back across the cut and the ratio stays within a fraction
//! of a percent of the single-threaded one. Every block but the last ends
//! with a sync flush (an empty stored block), which leaves the bit stream
//! byte-aligned with no BFINAL bit; the last block ends with `Finish`. Their
//! concatenation is therefore a single valid DEFLATE stream, which any
//! decoder reads as usual: nothing about the format changes.
//!
//! Invariants of [`ParallelDeflater`]:
//! - `pending` holds input not yet compressed; it is compressed in batches
//!   of `threads` full blocks (so cores stay busy), the remainder at
//!   `finish`. Memory is bounded by `threads * block_size` plus the output of
//!   one batch.
//! - `history` is the last (up to) 32 KiB of input already compressed: the
//!   dictionary of the next block.
//!
//! Output is deterministic: it depends on the block size, never on the
//! number of threads or on scheduling.
use rayon::prelude::*;

use crate::deflate::{Deflater, Flush, Strategy};
use crate::error::DeflateError;
use crate::tables::WINDOW_SIZE;

/// Default block size: large enough that the per-block costs (a fresh
/// match finder, the 5-byte sync marker, a cold dictionary) stay well under
/// 0.5 % of the output, small enough to split a few MB across cores.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Streaming multi-core raw-DEFLATE compressor; see the module docs.
pub struct ParallelDeflater {
    level: i32,
    block_size: usize,
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    pending: Vec<u8>,
    history: Vec<u8>,
    finished: bool,
}

impl ParallelDeflater {
    /// `threads` 0 means one per core. `block_size` is clamped to at least
    /// 64 KiB.
    pub fn new(level: i32, threads: usize, block_size: usize) -> Result<Self, DeflateError> {
        let level = if level == -1 { 6 } else { level };
        // Validate the level once, up front, like a single Deflater would.
        Deflater::new(level, 15, Strategy::Default)?;
        let pool = if threads == 1 {
            None
        } else {
            // A pool that cannot be built (no threads available) degrades to
            // serial compression: same output, just slower.
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .ok()
        };
        let threads = pool
            .as_ref()
            .map_or(1, rayon::ThreadPool::current_num_threads);
        Ok(ParallelDeflater {
            level,
            block_size: block_size.max(64 * 1024),
            pool,
            threads,
            pending: Vec::new(),
            history: Vec::new(),
            finished: false,
        })
    }

    /// Buffer `input`; compress and append to `out` every full batch.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        if self.finished {
            return Err(DeflateError::StreamFinished);
        }
        let batch = self.block_size * self.threads;
        let mut input = input;
        while !input.is_empty() {
            let take = (batch - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            // Keep the last batch back until more input (or finish) shows
            // it is not the end: the final block must carry BFINAL.
            if self.pending.len() == batch && !input.is_empty() {
                self.flush_pending(false, out)?;
            }
        }
        Ok(())
    }

    /// Compress what is pending and end the stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DeflateError> {
        if self.finished {
            return Ok(());
        }
        self.flush_pending(true, out)?;
        self.finished = true;
        Ok(())
    }

    fn flush_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), DeflateError> {
        let data = std::mem::take(&mut self.pending);
        let parts = compress_blocks(
            &self.history,
            &data,
            self.level,
            self.block_size,
            last,
            self.pool.as_ref(),
        )?;
        for p in &parts {
            out.extend_from_slice(p);
        }
        // The next block's dictionary: the last 32 KiB seen.
        let mut h = std::mem::take(&mut self.history);
        h.extend_from_slice(&data[data.len().saturating_sub(WINDOW_SIZE)..]);
        let cut = h.len().saturating_sub(WINDOW_SIZE);
        h.drain(..cut);
        self.history = h;
        self.pending = data;
        self.pending.clear();
        Ok(())
    }
}

/// Compress `data` (preceded by `history`) as blocks; the last block
/// finishes the stream when `last`. Empty `data` with `last` gives the
/// final empty block.
fn compress_blocks(
    history: &[u8],
    data: &[u8],
    level: i32,
    block_size: usize,
    last: bool,
    pool: Option<&rayon::ThreadPool>,
) -> Result<Vec<Vec<u8>>, DeflateError> {
    let n = data.len().div_ceil(block_size).max(usize::from(last));
    let one = |i: usize| -> Result<Vec<u8>, DeflateError> {
        let start = i * block_size;
        let end = (start + block_size).min(data.len());
        let mut d = Deflater::new(level, 15, Strategy::Default)?;
        // The 32 KiB before the block: from `data`, topped up from `history`.
        let from_data = &data[start.saturating_sub(WINDOW_SIZE)..start];
        let need = WINDOW_SIZE - from_data.len();
        let mut dict = history[history.len().saturating_sub(need)..].to_vec();
        dict.extend_from_slice(from_data);
        if !dict.is_empty() {
            d.set_dictionary(&dict)?;
        }
        let flush = if last && i + 1 == n {
            Flush::Finish
        } else {
            Flush::Sync
        };
        let mut out = Vec::with_capacity((end - start) / 2 + 64);
        d.deflate(&data[start..end], flush, &mut out)?;
        Ok(out)
    };
    match pool {
        Some(p) if n > 1 => p.install(|| (0..n).into_par_iter().map(one).collect()),
        _ => (0..n).map(one).collect(),
    }
}

/// One-shot multi-core raw DEFLATE of `input`.
pub fn deflate_parallel(
    input: &[u8],
    level: i32,
    threads: usize,
    block_size: usize,
) -> Result<Vec<u8>, DeflateError> {
    let mut p = ParallelDeflater::new(level, threads, block_size)?;
    let mut out = Vec::with_capacity(input.len() / 3 + 64);
    p.compress(input, &mut out)?;
    p.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inflate::inflate;

    fn sample(n: usize) -> Vec<u8> {
        let words = [
            &b"alpha "[..],
            b"beta ",
            b"gamma ",
            b"delta\n",
            b"epsilon ",
            b"zeta ",
        ];
        let mut v = Vec::with_capacity(n);
        let mut x = 12345u32;
        while v.len() < n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            v.extend_from_slice(words[(x >> 16) as usize % words.len()]);
            if x % 7 == 0 {
                v.push((x >> 8) as u8);
            }
        }
        v.truncate(n);
        v
    }

    #[test]
    fn round_trips_at_every_size_edge() {
        let bs = 64 * 1024;
        for n in [0, 1, bs - 1, bs, bs + 1, 3 * bs, 5 * bs + 17] {
            let data = sample(n);
            for threads in [1, 2, 3] {
                let c = deflate_parallel(&data, 6, threads, bs).unwrap();
                assert_eq!(inflate(&c, 0).unwrap().0, data, "n={n} threads={threads}");
            }
        }
    }

    #[test]
    fn output_does_not_depend_on_threads() {
        let data = sample(700_000);
        let a = deflate_parallel(&data, 6, 1, 64 * 1024).unwrap();
        let b = deflate_parallel(&data, 6, 2, 64 * 1024).unwrap();
        let c = deflate_parallel(&data, 6, 4, 64 * 1024).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn streaming_in_odd_chunks_equals_one_shot() {
        let data = sample(600_000);
        let one = deflate_parallel(&data, 5, 2, 64 * 1024).unwrap();
        let mut p = ParallelDeflater::new(5, 2, 64 * 1024).unwrap();
        let mut out = Vec::new();
        for chunk in data.chunks(77_777) {
            p.compress(chunk, &mut out).unwrap();
        }
        p.finish(&mut out).unwrap();
        assert_eq!(out, one);
        assert_eq!(
            p.compress(b"x", &mut out),
            Err(DeflateError::StreamFinished)
        );
    }

    #[test]
    fn ratio_close_to_single_threaded() {
        let data = sample(4 << 20);
        let serial = crate::deflate::deflate(&data, 6).unwrap().len() as f64;
        let par = deflate_parallel(&data, 6, 2, DEFAULT_BLOCK_SIZE)
            .unwrap()
            .len() as f64;
        assert!(par / serial < 1.005, "parallel {par} vs serial {serial}");
    }

    #[test]
    fn bad_level_is_an_error() {
        assert!(ParallelDeflater::new(13, 2, DEFAULT_BLOCK_SIZE).is_err());
    }
}
