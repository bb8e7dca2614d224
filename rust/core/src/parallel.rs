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
//! Pipeline ([`ParallelDeflater`]):
//! - blocks are cut at fixed offsets (`block_size` each, from the start of
//!   the stream), so the output depends on the block size only, never on
//!   the thread count, the scheduling or how the input was split into
//!   calls;
//! - each block is one job on the pool: compress it, and checksum it
//!   (CRC-32 or Adler-32 of the block alone; the per-block values are
//!   joined with `crc32_combine` / `adler32_combine` in stream order), so
//!   no core makes a serial pass over the input;
//! - a call's input is compressed where it lies: full blocks inside the
//!   caller's slice are borrowed by the jobs (a scope ends the call once
//!   they are done); only the tail (at most one block) is copied, into
//!   `pending`, and is held back until more input (or `finish`) shows
//!   whether it is the last block, which must carry BFINAL;
//! - results are appended in order as they complete, while later blocks
//!   are still being compressed: no batch barrier, and at most
//!   `IN_FLIGHT_PER_THREAD * threads` blocks in flight (memory bound);
//!   a block dispatched from `pending` runs in the background across calls,
//!   so small writes (a file writer) keep every core busy too;
//! - `history` is the last (up to) 32 KiB of input before `pending`: the
//!   dictionary of the next block.
use std::collections::VecDeque;
use std::sync::mpsc;

use crate::checksum::{adler32, adler32_combine, crc32, crc32_combine};
use crate::deflate::{Deflater, Flush, Strategy};
use crate::error::DeflateError;
use crate::tables::WINDOW_SIZE;

/// Default block size: large enough that the per-block costs (a fresh
/// match finder, the 5-byte sync marker, a cold dictionary) stay well under
/// 0.5 % of the output, small enough to split a few MB across cores.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Blocks in flight per thread before the caller waits for the oldest.
const IN_FLIGHT_PER_THREAD: usize = 4;

/// Run `f` on a pool of `threads` threads (0: rayon's global pool, one
/// thread per core). Shared by every codec that takes a `threads` option.
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    if threads == 0 {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        // No threads to be had: the work still runs, on the global pool.
        Err(_) => f(),
    }
}

/// How many threads [`in_pool`]`(threads, ..)` runs on: `threads`, or for 0
/// the global pool's size (one per core).
pub fn pool_size(threads: usize) -> usize {
    match threads {
        0 => rayon::current_num_threads(),
        t => t,
    }
}

/// The checksum computed alongside compression (the container's trailer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    /// gzip's CRC-32.
    Crc32,
    /// zlib's Adler-32.
    Adler32,
}

impl Check {
    /// The value for empty data.
    fn initial(self) -> u32 {
        match self {
            Check::Adler32 => 1,
            _ => 0,
        }
    }

    fn of(self, data: &[u8]) -> u32 {
        match self {
            Check::None => 0,
            Check::Crc32 => crc32(0, data),
            Check::Adler32 => adler32(1, data),
        }
    }

    fn combine(self, a: u32, b: u32, len_b: u64) -> u32 {
        match self {
            Check::None => 0,
            Check::Crc32 => crc32_combine(a, b, len_b),
            Check::Adler32 => adler32_combine(a, b, len_b),
        }
    }
}

/// One compressed block with the checksum of its input.
struct Block {
    out: Vec<u8>,
    check: u32,
    len: u64,
}

/// What a job sends back: its result, or the panic that ended it (raised
/// again on the caller's thread).
type JobResult = std::thread::Result<Result<Block, DeflateError>>;

/// Compress one block: `dict` is the (up to) 32 KiB before it; the last
/// block of the stream finishes it, the others end with a sync flush.
fn compress_block(
    data: &[u8],
    dict: &[u8],
    level: i32,
    last: bool,
    check: Check,
) -> Result<Block, DeflateError> {
    let mut d = Deflater::new(level, 15, Strategy::Default)?;
    if !dict.is_empty() {
        d.set_dictionary(dict)?;
    }
    let flush = if last { Flush::Finish } else { Flush::Sync };
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    d.deflate(data, flush, &mut out)?;
    Ok(Block {
        out,
        check: check.of(data),
        len: data.len() as u64,
    })
}

/// Streaming multi-core raw-DEFLATE compressor; see the module docs.
pub struct ParallelDeflater {
    level: i32,
    block_size: usize,
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    check_kind: Check,
    /// The held-back tail: at most `block_size` bytes, not yet dispatched.
    pending: Vec<u8>,
    /// The last (up to) 32 KiB of input before `pending`.
    history: Vec<u8>,
    /// Blocks dispatched and not yet written, in stream order.
    queue: VecDeque<mpsc::Receiver<JobResult>>,
    /// Checksum of the input of the blocks written so far.
    check: u32,
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
            check_kind: Check::None,
            pending: Vec::new(),
            history: Vec::new(),
            queue: VecDeque::new(),
            check: 0,
            finished: false,
        })
    }

    /// Also compute `check` of the input (before any data).
    pub fn with_check(mut self, check: Check) -> Self {
        self.check_kind = check;
        self.check = check.initial();
        self
    }

    /// The checksum of all input so far; complete after [`Self::finish`].
    pub fn check(&self) -> u32 {
        self.check
    }

    /// Take `input`; compress every block known not to be the last and
    /// append to `out` the output of those completed, in order.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        self.compress_to(input, &mut |b| out.extend_from_slice(b))
    }

    /// End the stream: compress what is pending as the last block and
    /// append everything to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DeflateError> {
        self.finish_to(&mut |b| out.extend_from_slice(b))
    }

    /// [`Self::compress`], handing each completed block's output to `sink`
    /// (in order) instead of appending it to a `Vec`: one-shot compression
    /// into a buffer of the caller's own holds the output once.
    pub fn compress_to(
        &mut self,
        input: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        if self.finished {
            return Err(DeflateError::StreamFinished);
        }
        let bs = self.block_size;
        let mut input = input;
        if !self.pending.is_empty() {
            let take = (bs - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if input.is_empty() {
                return self.write_ready(out, false);
            }
            // Full, and more follows: not the last block.
            let block = std::mem::take(&mut self.pending);
            self.dispatch_owned(block, false, out)?;
        }
        // Whole blocks of the caller's slice but the last, compressed in
        // place; the last (full or not) is held back.
        let n_borrowed = input.len().saturating_sub(1) / bs;
        if n_borrowed > 0 {
            self.compress_borrowed(&input[..n_borrowed * bs], out)?;
            input = &input[n_borrowed * bs..];
        }
        self.pending.extend_from_slice(input);
        self.write_ready(out, false)
    }

    /// [`Self::finish`], handing the output to `sink`.
    pub fn finish_to(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<(), DeflateError> {
        if self.finished {
            return Ok(());
        }
        let block = std::mem::take(&mut self.pending);
        self.dispatch_owned(block, true, out)?;
        self.write_ready(out, true)?;
        self.finished = true;
        Ok(())
    }

    /// Start compressing `block` (owned: it may run past this call).
    fn dispatch_owned(
        &mut self,
        block: Vec<u8>,
        last: bool,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        let dict = self.history.clone();
        push_history(&mut self.history, &block);
        let (level, check) = (self.level, self.check_kind);
        let (tx, rx) = mpsc::sync_channel(1);
        let job = move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                compress_block(&block, &dict, level, last, check)
            }));
            // The receiver only goes away when the compressor is dropped.
            let _ = tx.send(r);
        };
        match &self.pool {
            Some(p) => p.spawn(job),
            None => job(),
        }
        self.queue.push_back(rx);
        self.write_ready(out, false)
    }

    /// Compress `data` (whole blocks, none of them the last) in place.
    fn compress_borrowed(
        &mut self,
        data: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        let history = std::mem::take(&mut self.history);
        let pool = self.pool.take();
        let result = match &pool {
            Some(p) => p.in_place_scope(|s| {
                self.spawn_blocks(data, &history, out, |job| s.spawn(move |_| job()))
            }),
            None => self.spawn_blocks(data, &history, out, |job| job()),
        };
        self.pool = pool;
        self.history = history;
        push_history(&mut self.history, data);
        result
    }

    /// Hand one job per block of `data` to `spawn`, queueing their results.
    // `'d` ties the jobs to `data` in `F`'s bound, which elision cannot name.
    #[allow(clippy::needless_lifetimes)]
    fn spawn_blocks<'d, F>(
        &mut self,
        data: &'d [u8],
        history: &[u8],
        out: &mut dyn FnMut(&[u8]),
        mut spawn: F,
    ) -> Result<(), DeflateError>
    where
        F: FnMut(Box<dyn FnOnce() + Send + 'd>),
    {
        let bs = self.block_size;
        let (level, check) = (self.level, self.check_kind);
        for (i, block) in data.chunks(bs).enumerate() {
            let start = i * bs;
            // The 32 KiB before the block: from `data`, topped up from
            // `history`.
            let from_data = &data[start.saturating_sub(WINDOW_SIZE)..start];
            let need = WINDOW_SIZE - from_data.len();
            let mut dict = history[history.len().saturating_sub(need)..].to_vec();
            dict.extend_from_slice(from_data);
            let (tx, rx) = mpsc::sync_channel(1);
            spawn(Box::new(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    compress_block(block, &dict, level, false, check)
                }));
                let _ = tx.send(r);
            }));
            self.queue.push_back(rx);
            self.write_ready(out, false)?;
        }
        Ok(())
    }

    /// Append to `out` the blocks at the front of the queue that are done;
    /// wait for the oldest while too many are in flight, or for all when
    /// `all`.
    fn write_ready(&mut self, out: &mut dyn FnMut(&[u8]), all: bool) -> Result<(), DeflateError> {
        let max_in_flight = IN_FLIGHT_PER_THREAD * self.threads;
        while let Some(rx) = self.queue.front() {
            let r = if all || self.queue.len() > max_in_flight {
                rx.recv().ok()
            } else {
                match rx.try_recv() {
                    Ok(r) => Some(r),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => None,
                }
            };
            self.queue.pop_front();
            // A job always sends before it ends; a missing result would be
            // a job that never ran, which the pool does not allow.
            let r = r.expect("parallel block job ended without a result");
            let block = match r {
                Ok(b) => b?,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            out(&block.out);
            self.check = self.check_kind.combine(self.check, block.check, block.len);
        }
        Ok(())
    }
}

/// Keep the last 32 KiB of `history ++ data` in `history`.
fn push_history(history: &mut Vec<u8>, data: &[u8]) {
    if data.len() >= WINDOW_SIZE {
        history.clear();
        history.extend_from_slice(&data[data.len() - WINDOW_SIZE..]);
    } else {
        history.extend_from_slice(data);
        let cut = history.len().saturating_sub(WINDOW_SIZE);
        history.drain(..cut);
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
    fn any_split_of_the_input_gives_the_same_stream_and_checksums() {
        let bs = 64 * 1024;
        let data = sample(9 * bs + 1234);
        let one = deflate_parallel(&data, 3, 2, bs).unwrap();
        // Tiny writes (owned blocks in the background), writes of exactly a
        // block, big writes (borrowed blocks), and a mix of them.
        let splits: [&[usize]; 5] = [
            &[1000],
            &[bs],
            &[bs + 1, 7],
            &[5 * bs, 1, bs - 1, 3 * bs],
            &[data.len()],
        ];
        for threads in [1, 2, 3] {
            for split in splits {
                for kind in [Check::Crc32, Check::Adler32, Check::None] {
                    let mut p = ParallelDeflater::new(3, threads, bs)
                        .unwrap()
                        .with_check(kind);
                    let mut out = Vec::new();
                    let mut rest = &data[..];
                    let mut i = 0;
                    while !rest.is_empty() {
                        let n = split[i % split.len()].min(rest.len());
                        p.compress(&rest[..n], &mut out).unwrap();
                        rest = &rest[n..];
                        i += 1;
                    }
                    p.finish(&mut out).unwrap();
                    assert_eq!(out, one, "threads={threads} split={split:?}");
                    let want = match kind {
                        Check::Crc32 => crc32(0, &data),
                        Check::Adler32 => adler32(1, &data),
                        Check::None => 0,
                    };
                    assert_eq!(p.check(), want, "{kind:?}");
                }
            }
        }
    }

    #[test]
    fn empty_input_is_one_final_empty_block() {
        for threads in [1, 2] {
            let mut p = ParallelDeflater::new(6, threads, 1 << 16)
                .unwrap()
                .with_check(Check::Adler32);
            let mut out = Vec::new();
            p.compress(&[], &mut out).unwrap();
            p.finish(&mut out).unwrap();
            assert_eq!(inflate(&out, 0).unwrap().0, b"");
            assert_eq!(p.check(), 1);
        }
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
