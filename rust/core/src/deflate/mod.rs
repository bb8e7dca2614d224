//! DEFLATE (RFC 1951) encoder.
//!
//! CONTRACT:
//!
//! - `Deflater` is a streaming encoder: every `deflate` call consumes ALL of
//!   `input` (buffering internally as needed, bounded memory: the window plus
//!   one segment) and appends finished bytes to `out`.
//! - Levels 0..=12 with zlib's meaning for 0..=9 (0 stored, 1 fastest,
//!   9 best), 10..=12 slower/stronger parses.
//! - Each block is emitted as whichever of stored / fixed / dynamic is
//!   smallest.
//! - `window_bits` (9..=15): no match distance may exceed `1 << window_bits`
//!   (zlib treats 8 as 9; the caller maps that).
//! - `Flush::Sync` ends the current block and emits an empty stored block so
//!   the output is byte aligned (zlib's Z_SYNC_FLUSH, ends in 00 00 FF FF);
//!   `Flush::Full` does the same and also forgets the history so later data
//!   never refers back across the flush; `Flush::Finish` emits the final
//!   block (BFINAL=1), pads to a byte, and the stream is then finished;
//!   `Flush::None` emits only what is complete.
//! - Without flushes, the output depends only on the input bytes, never on
//!   how they were split across calls: one-shot [`deflate`] and any
//!   streaming of the same bytes give identical streams.
//! - `Clone` gives an independent copy (Python's `compressobj().copy()`).
//!
//! HOW IT WORKS (libdeflate's shape, made streamable). Input is compressed
//! in *segments*: a segment ends at every multiple of [`SEGMENT`] bytes of
//! stream offset, and at every flush. A segment is compressed by a
//! [`parse::Parser`] as `buf[start..end]` with up to `max_dist` bytes of
//! history `buf[hist..start]` in the same slice; the parser clears its match
//! finder, re-inserts the history and emits blocks (cut by symbol
//! statistics, [`split`]) to [`block::write_block`], the last one ending at
//! the segment's end. Where the data lives:
//! - when the history is empty (stream start, after a full flush) or lies in
//!   the caller's input, whole segments are compressed straight from the
//!   caller's slice: one-shot compression copies nothing;
//! - otherwise input is appended to `buf` (history + pending bytes) until a
//!   segment is complete or a flush comes, and after each segment `buf`
//!   keeps only the last `max_dist` bytes as history.
//!
//! Level 0 bypasses all of this: bytes are collected into stored blocks of
//! 65 535 bytes.
//!
//! State invariants:
//! - `buf[..hist_len]` is the history (the last up to `max_dist` bytes of
//!   the stream or of the preset dictionary; empty after a full flush) and
//!   `buf[hist_len..]` the pending input, which never reaches past the next
//!   segment boundary.
//! - `total` is the stream offset of the end of the input seen so far.
//! - The bit writer keeps the partial byte between calls; `out` only ever
//!   receives whole bytes.
//! - `started` is set once data or a flush went in (a dictionary is refused
//!   afterwards); `finished` once `Flush::Finish` was done.
//!
//! Memory: `buf` (window + one segment), the parser's tables (256-512 KiB),
//! one block of symbols, and the output being built, whatever the total
//! input size.
mod block;
mod bt_matchfinder;
mod near_optimal;
mod parse;
mod split;
#[cfg(test)]
mod test_inflate;

pub use block::{write_block, write_stored, BlockMode, MAX_STORED};
pub use parse::{Emit, Parser};

use crate::bitio::BitWriter;
use crate::error::DeflateError;
use crate::lz77::{Sequences, WSIZE};
use parse::Kind;

/// What to do at the end of a `Deflater::deflate` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    None,
    Sync,
    Full,
    Finish,
}

/// zlib's compression strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    Default,
    /// Z_FILTERED: favour literals (matches shorter than 6 not used).
    Filtered,
    /// Z_HUFFMAN_ONLY: no matches at all.
    HuffmanOnly,
    /// Z_RLE: matches of distance 1 only.
    Rle,
    /// Z_FIXED: fixed Huffman blocks only.
    Fixed,
}

/// Segment length in bytes of stream offset: large enough that the cost of
/// re-inserting the history and of the forced block end (well under 0.1 %)
/// does not show, small enough to bound the streaming buffer.
pub const SEGMENT: usize = 1 << 20;

#[derive(Clone)]
pub struct Deflater {
    mode: BlockMode,
    /// `None` at level 0 (stored only).
    parser: Option<Parser>,
    max_dist: usize,
    /// History, then pending input (see the module docs).
    buf: Vec<u8>,
    hist_len: usize,
    total: u64,
    /// Level 0: bytes of the stored block being collected (< MAX_STORED).
    stored: Vec<u8>,
    bw: BitWriter,
    started: bool,
    finished: bool,
}

/// Compress one segment `data[start..end]` (history `data[hist..start]`)
/// into blocks; the block ending at `end` is final if `last`.
#[allow(clippy::too_many_arguments)]
fn compress_segment(
    parser: &mut Parser,
    bw: &mut BitWriter,
    mode: BlockMode,
    data: &[u8],
    hist: usize,
    start: usize,
    end: usize,
    max_dist: usize,
    last: bool,
) {
    let mut emit = |seq: &Sequences, bs: usize, be: usize| {
        write_block(bw, seq, Some(&data[bs..be]), last && be == end, mode);
    };
    parser.compress(data, hist, start, end, max_dist, &mut emit);
}

impl Deflater {
    /// `level` in 0..=12, `window_bits` in 9..=15.
    pub fn new(level: i32, window_bits: i32, strategy: Strategy) -> Result<Self, DeflateError> {
        if !(0..=12).contains(&level) {
            return Err(DeflateError::BadLevel(level));
        }
        if !(9..=15).contains(&window_bits) {
            return Err(DeflateError::BadWindowBits(window_bits));
        }
        let level = level as u32;
        let (kind, mode) = match strategy {
            Strategy::Default => (Kind::Default, BlockMode::Best),
            Strategy::Filtered => (Kind::Filtered, BlockMode::Best),
            Strategy::HuffmanOnly => (Kind::HuffmanOnly, BlockMode::Best),
            Strategy::Rle => (Kind::Rle, BlockMode::Best),
            Strategy::Fixed => (Kind::Default, BlockMode::FixedOnly),
        };
        Ok(Self {
            mode,
            parser: (level > 0).then(|| Parser::for_level(level, kind)),
            max_dist: (1usize << window_bits).min(WSIZE),
            buf: Vec::new(),
            hist_len: 0,
            total: 0,
            stored: Vec::new(),
            bw: BitWriter::new(),
            started: false,
            finished: false,
        })
    }

    /// Preset dictionary: only before any data; only the last
    /// `1 << window_bits` bytes of `dict` matter.
    pub fn set_dictionary(&mut self, dict: &[u8]) -> Result<(), DeflateError> {
        if self.started {
            return Err(DeflateError::DictionaryAfterData);
        }
        if self.parser.is_some() {
            // A second dictionary replaces the first, as in zlib.
            self.buf.clear();
            self.buf
                .extend_from_slice(&dict[dict.len().saturating_sub(self.max_dist)..]);
            self.hist_len = self.buf.len();
        }
        Ok(())
    }

    /// Consume all of `input`, append output to `out`.
    pub fn deflate(
        &mut self,
        input: &[u8],
        flush: Flush,
        out: &mut Vec<u8>,
    ) -> Result<(), DeflateError> {
        // Write straight into the caller's buffer.
        self.bw.attach(std::mem::take(out));
        let r = self.deflate_with(input, flush, &mut |_| {});
        *out = self.bw.detach();
        r
    }

    /// [`Deflater::deflate`], handing the finished bytes to `sink` after
    /// every segment (every stored block at level 0) and at the end, instead
    /// of appending them all to a `Vec`: the same bytes, in order, in pieces
    /// of at most about a segment's output. One-shot compression into a
    /// buffer that the caller has sized from a bound (the Python `bytes`)
    /// then holds the output once, not once in a `Vec` and again in the copy.
    /// The partial last byte stays here until the next call or the finish.
    pub fn deflate_to(
        &mut self,
        input: &[u8],
        flush: Flush,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        let r = self.deflate_with(input, flush, &mut |bw: &mut BitWriter| bw.drain_with(sink));
        self.bw.drain_with(sink);
        r
    }

    /// The body of [`Deflater::deflate`] and [`Deflater::deflate_to`]:
    /// `drain` is called on the writer after each segment.
    fn deflate_with(
        &mut self,
        input: &[u8],
        flush: Flush,
        drain: &mut impl FnMut(&mut BitWriter),
    ) -> Result<(), DeflateError> {
        if self.finished {
            return if input.is_empty() && flush == Flush::Finish {
                Ok(())
            } else {
                Err(DeflateError::StreamFinished)
            };
        }
        if !input.is_empty() || flush != Flush::None {
            self.started = true;
        }
        if self.parser.is_none() {
            self.deflate_stored(input, flush, drain);
        } else {
            self.deflate_lz(input, flush, drain);
        }
        match flush {
            Flush::Sync | Flush::Full => {
                write_stored(&mut self.bw, &[], false);
                if flush == Flush::Full {
                    self.buf.clear();
                    self.hist_len = 0;
                }
            }
            Flush::Finish => {
                self.bw.align_to_byte();
                self.finished = true;
            }
            Flush::None => {}
        }
        Ok(())
    }

    /// True once `Flush::Finish` has been processed.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn deflate_stored(
        &mut self,
        mut input: &[u8],
        flush: Flush,
        drain: &mut impl FnMut(&mut BitWriter),
    ) {
        while !input.is_empty() {
            let n = input.len().min(MAX_STORED - self.stored.len());
            if self.stored.is_empty() && n == MAX_STORED {
                // Whole blocks straight from the input, no copy.
                write_stored(&mut self.bw, &input[..n], false);
                drain(&mut self.bw);
            } else {
                self.stored.extend_from_slice(&input[..n]);
                if self.stored.len() == MAX_STORED {
                    write_stored(&mut self.bw, &self.stored, false);
                    self.stored.clear();
                    drain(&mut self.bw);
                }
            }
            input = &input[n..];
        }
        match flush {
            Flush::None => {}
            Flush::Finish => {
                write_stored(&mut self.bw, &self.stored, true);
                self.stored.clear();
            }
            Flush::Sync | Flush::Full => {
                if !self.stored.is_empty() {
                    write_stored(&mut self.bw, &self.stored, false);
                    self.stored.clear();
                }
            }
        }
    }

    /// Bytes of pending (buffered, not yet compressed) input.
    fn pending(&self) -> usize {
        self.buf.len() - self.hist_len
    }

    /// Stream offset of the first segment boundary after `offset`.
    fn boundary_after(offset: u64) -> u64 {
        (offset / SEGMENT as u64 + 1) * SEGMENT as u64
    }

    fn deflate_lz(&mut self, input: &[u8], flush: Flush, drain: &mut impl FnMut(&mut BitWriter)) {
        let finish = flush == Flush::Finish;
        let hsize = self.max_dist;
        let mut at = 0;
        // True while the last thing compressed came straight from `input`
        // (so the history is `input[..at]`'s tail, not `buf`).
        let mut direct = false;
        let mut wrote_last = false;
        while at < input.len() {
            let rest = input.len() - at;
            // The next segment ends at the boundary after its first byte.
            let seg_first = self.total - self.pending() as u64;
            let seg_end = Self::boundary_after(seg_first);
            let need = (seg_end - self.total) as usize;
            // History in the input itself (`direct`, or all of it
            // compressed from `buf` already), or none at all: no copy.
            let can_direct = self.pending() == 0 && (direct || at >= hsize || self.buf.is_empty());
            if can_direct && (rest >= need || flush != Flush::None) {
                let len = need.min(rest);
                let h = at.saturating_sub(hsize);
                let end = at + len;
                let last = finish && end == input.len();
                let parser = self.parser.as_mut().expect("level > 0 has a parser");
                compress_segment(
                    parser,
                    &mut self.bw,
                    self.mode,
                    &input[h..end],
                    0,
                    at - h,
                    end - h,
                    hsize,
                    last,
                );
                drain(&mut self.bw);
                wrote_last |= last;
                at = end;
                self.total += len as u64;
                direct = true;
                continue;
            }
            if direct {
                // Move the history from the input into `buf`.
                self.buf.clear();
                self.buf
                    .extend_from_slice(&input[at.saturating_sub(hsize)..at]);
                self.hist_len = self.buf.len();
                direct = false;
            }
            let take = need.min(rest);
            self.buf.extend_from_slice(&input[at..at + take]);
            at += take;
            self.total += take as u64;
            if take == need || (flush != Flush::None && at == input.len()) {
                let last = finish && at == input.len();
                self.compress_buf(last);
                drain(&mut self.bw);
                wrote_last |= last;
            }
        }
        if direct {
            self.buf.clear();
            self.buf
                .extend_from_slice(&input[at.saturating_sub(hsize)..at]);
            self.hist_len = self.buf.len();
        }
        if flush != Flush::None && self.pending() > 0 {
            self.compress_buf(finish);
            wrote_last |= finish;
        }
        if finish && !wrote_last {
            write_block(&mut self.bw, &Sequences::new(0), Some(&[]), true, self.mode);
        }
    }

    /// Compress the pending bytes in `buf` as one segment, then keep the
    /// last `max_dist` bytes as history.
    fn compress_buf(&mut self, last: bool) {
        let parser = self.parser.as_mut().expect("level > 0 has a parser");
        let end = self.buf.len();
        compress_segment(
            parser,
            &mut self.bw,
            self.mode,
            &self.buf,
            0,
            self.hist_len,
            end,
            self.max_dist,
            last,
        );
        let keep = end.min(self.max_dist);
        self.buf.drain(..end - keep);
        self.hist_len = keep;
    }
}

/// One-shot raw DEFLATE of `input` at `level` (same output as a `Deflater`
/// given the same bytes in any pieces, then `Flush::Finish`).
pub fn deflate(input: &[u8], level: i32) -> Result<Vec<u8>, DeflateError> {
    let mut d = Deflater::new(level, 15, Strategy::Default)?;
    let mut out = Vec::with_capacity(input.len() / 2 + 64);
    d.deflate(input, Flush::Finish, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::test_inflate::inflate as test_inflate;
    use super::*;
    use proptest::prelude::*;
    // The encoder's Strategy, not proptest's trait of the same name.
    use super::Strategy;

    const STRATEGIES: [Strategy; 5] = [
        Strategy::Default,
        Strategy::Filtered,
        Strategy::HuffmanOnly,
        Strategy::Rle,
        Strategy::Fixed,
    ];

    /// Mixed test data: text-like, runs, random and repeats far apart.
    pub(super) fn sample(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let words: [&[u8]; 8] = [
            b"the ", b"quick ", b"brown ", b"fox ", b"jumps ", b"over ", b"lazy ", b"dog\n",
        ];
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            let r = rnd();
            match r % 8 {
                0..=3 => v.extend_from_slice(words[(r >> 8) as usize % 8]),
                4 => v.extend(std::iter::repeat_n(
                    (r >> 16) as u8,
                    (r >> 24) as usize % 300,
                )),
                5 => v.extend((0..(r >> 8) % 64).map(|_| rnd() as u8)),
                _ => {
                    if v.len() > 10 {
                        let back = 1 + (r >> 8) as usize % v.len().min(40_000);
                        let len = 3 + (r >> 32) as usize % 300;
                        let start = v.len() - back;
                        for i in 0..len {
                            v.push(v[start + i]);
                        }
                    }
                }
            }
        }
        v.truncate(n);
        v
    }

    /// Compress in chunks with the given flushes; returns the stream and
    /// the input offsets at which a full flush happened.
    fn compress_chunks(
        data: &[u8],
        level: i32,
        wbits: i32,
        strategy: Strategy,
        cuts: &[(usize, Flush)],
        dict: &[u8],
    ) -> (Vec<u8>, Vec<usize>) {
        let mut d = Deflater::new(level, wbits, strategy).unwrap();
        if !dict.is_empty() {
            d.set_dictionary(dict).unwrap();
        }
        let mut out = Vec::new();
        let mut at = 0;
        let mut fulls = Vec::new();
        for &(n, flush) in cuts {
            let n = n.min(data.len() - at);
            d.deflate(&data[at..at + n], flush, &mut out).unwrap();
            at += n;
            if flush == Flush::Full {
                fulls.push(at);
            }
            if flush == Flush::Sync || flush == Flush::Full {
                assert!(out.ends_with(&[0, 0, 0xFF, 0xFF]), "sync flush marker");
            }
        }
        d.deflate(&data[at..], Flush::Finish, &mut out).unwrap();
        assert!(d.is_finished());
        (out, fulls)
    }

    fn check(
        data: &[u8],
        stream: &[u8],
        fulls: &[usize],
        wbits: i32,
        dict: &[u8],
        level: i32,
        strategy: Strategy,
    ) {
        let max_dist = 1usize << wbits;
        let dict = &dict[dict.len().saturating_sub(max_dist)..];
        let d = test_inflate(stream, dict, max_dist)
            .unwrap_or_else(|e| panic!("level {level} {strategy:?} wbits {wbits}: {e}"));
        assert!(
            d.data == data,
            "level {level} {strategy:?} wbits {wbits}: output differs"
        );
        assert_eq!(
            d.consumed,
            stream.len(),
            "trailing bytes after the final block"
        );
        let finals: Vec<bool> = d.blocks.iter().map(|b| b.0).collect();
        assert!(finals.last() == Some(&true) && finals.iter().filter(|&&f| f).count() == 1);
        for &(pos, dist) in &d.matches {
            // No match may reach back over the latest full flush before it.
            if let Some(&f) = fulls.iter().rev().find(|&&f| f <= pos) {
                assert!(
                    pos - dist >= f,
                    "match at {pos} dist {dist} crosses full flush at {f}"
                );
            }
            if dist > pos {
                assert!(dist - pos <= dict.len(), "match into missing dictionary");
            }
        }
        if strategy == Strategy::Fixed && level > 0 {
            // Only fixed blocks, plus the empty stored blocks of flushes.
            for (i, b) in d.blocks.iter().enumerate() {
                let end = d.blocks.get(i + 1).map_or(data.len(), |n| n.2);
                assert!(
                    b.1 == 1 || (b.1 == 0 && end == b.2),
                    "non-fixed block with Z_FIXED"
                );
            }
        }
        if level == 0 {
            assert!(d.blocks.iter().all(|b| b.1 == 0));
        }
        if strategy == Strategy::HuffmanOnly {
            assert!(d.matches.is_empty());
        }
        if strategy == Strategy::Rle {
            assert!(d.matches.iter().all(|m| m.1 == 1));
        }
    }

    #[test]
    fn every_level_and_strategy_round_trips() {
        let data = sample(150_000, 7);
        for level in 0..=12 {
            for strategy in STRATEGIES {
                for wbits in [9, 12, 15] {
                    let (s, f) = compress_chunks(&data, level, wbits, strategy, &[], &[]);
                    check(&data, &s, &f, wbits, &[], level, strategy);
                }
            }
        }
    }

    #[test]
    fn edge_inputs_round_trip() {
        let all: Vec<u8> = (0..=255).collect();
        let zeros = vec![0u8; 200_000];
        let ramp: Vec<u8> = (0..70_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![42],
            b"ab".to_vec(),
            b"abc".to_vec(),
            b"aaaa".to_vec(),
            all.clone(),
            all.repeat(300),
            zeros.clone(),
            ramp.clone(),
            sample(32_768, 1),
            sample(32_769, 2),
            sample(65_535, 3),
            sample(65_536, 4),
            sample(65_537, 5),
        ];
        for data in &inputs {
            for level in 0..=12 {
                for strategy in [Strategy::Default, Strategy::Rle, Strategy::Fixed] {
                    let (s, f) = compress_chunks(data, level, 15, strategy, &[], &[]);
                    check(data, &s, &f, 15, &[], level, strategy);
                }
            }
        }
    }

    #[test]
    fn empty_input_is_tiny() {
        assert_eq!(deflate(&[], 6).unwrap(), vec![3, 0]);
        assert_eq!(deflate(&[], 0).unwrap(), vec![1, 0, 0, 0xFF, 0xFF]);
    }

    #[test]
    fn stored_level0_block_sizes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
        let s = deflate(&data, 0).unwrap();
        // 4 blocks: 3 x 65535 + 3395, each with a 5-byte header.
        assert_eq!(s.len(), data.len() + 4 * 5);
        let mut at = 0;
        for (i, expect) in [65_535usize, 65_535, 65_535, 3_395].iter().enumerate() {
            assert_eq!(s[at], (i == 3) as u8, "BFINAL/BTYPE of stored block {i}");
            let len = u16::from_le_bytes([s[at + 1], s[at + 2]]) as usize;
            let nlen = u16::from_le_bytes([s[at + 3], s[at + 4]]) as usize;
            assert_eq!((len, nlen), (*expect, !*expect & 0xFFFF));
            assert_eq!(
                &s[at + 5..at + 5 + len],
                &data[i * 65_535..i * 65_535 + len]
            );
            at += 5 + len;
        }
    }

    #[test]
    fn incompressible_data_is_stored() {
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for level in 1..=9 {
            let s = deflate(&data, level).unwrap();
            // Stored blocks cost 5 bytes per 65535; compressed ones more.
            assert!(
                s.len() <= data.len() + 5 * 8,
                "level {level}: {} bytes",
                s.len()
            );
        }
    }

    #[test]
    fn sync_flush_ends_in_marker_and_finish_sets_bfinal() {
        for level in 0..=12 {
            let mut d = Deflater::new(level, 15, Strategy::Default).unwrap();
            let mut out = Vec::new();
            d.deflate(b"hello hello hello", Flush::Sync, &mut out)
                .unwrap();
            assert!(out.ends_with(&[0, 0, 0xFF, 0xFF]));
            let before = out.len();
            d.deflate(b"", Flush::Sync, &mut out).unwrap();
            assert_eq!(&out[before..], &[0, 0, 0, 0xFF, 0xFF]);
            d.deflate(b" world", Flush::None, &mut out).unwrap();
            d.deflate(b"", Flush::Finish, &mut out).unwrap();
            let r = test_inflate(&out, &[], 32768).unwrap();
            assert_eq!(r.data, b"hello hello hello world");
            assert!(r.blocks.last().unwrap().0);
            assert!(d.is_finished());
            // Finish again is a no-op; more data is an error.
            let n = out.len();
            d.deflate(b"", Flush::Finish, &mut out).unwrap();
            assert_eq!(out.len(), n);
            assert_eq!(
                d.deflate(b"x", Flush::None, &mut out),
                Err(DeflateError::StreamFinished)
            );
        }
    }

    #[test]
    fn argument_errors() {
        assert!(matches!(
            Deflater::new(13, 15, Strategy::Default),
            Err(DeflateError::BadLevel(13))
        ));
        assert!(matches!(
            Deflater::new(-1, 15, Strategy::Default),
            Err(DeflateError::BadLevel(-1))
        ));
        assert!(matches!(
            Deflater::new(6, 8, Strategy::Default),
            Err(DeflateError::BadWindowBits(8))
        ));
        assert!(matches!(
            Deflater::new(6, 16, Strategy::Default),
            Err(DeflateError::BadWindowBits(16))
        ));
        let mut d = Deflater::new(6, 15, Strategy::Default).unwrap();
        d.set_dictionary(b"abc").unwrap();
        d.deflate(b"abc", Flush::None, &mut Vec::new()).unwrap();
        assert_eq!(
            d.set_dictionary(b"abc"),
            Err(DeflateError::DictionaryAfterData)
        );
    }

    #[test]
    fn dictionary_is_used() {
        let dict = sample(40_000, 9);
        let data = dict[10_000..20_000].to_vec();
        for level in 1..=12 {
            for wbits in [9, 15] {
                let (s, f) = compress_chunks(
                    &data,
                    level,
                    wbits,
                    Strategy::Default,
                    &[(5000, Flush::None)],
                    &dict,
                );
                check(&data, &s, &f, wbits, &dict, level, Strategy::Default);
                let plain = deflate(&data, level).unwrap().len();
                if wbits == 15 {
                    assert!(
                        s.len() * 2 < plain,
                        "level {level}: dictionary not used ({} vs {plain} bytes)",
                        s.len()
                    );
                }
            }
        }
    }

    #[test]
    fn clone_is_independent() {
        let data = sample(100_000, 11);
        let mut a = Deflater::new(6, 15, Strategy::Default).unwrap();
        let mut out_a = Vec::new();
        a.deflate(&data[..50_000], Flush::None, &mut out_a).unwrap();
        let mut b = a.clone();
        let mut out_b = out_a.clone();
        a.deflate(&data[50_000..], Flush::Finish, &mut out_a)
            .unwrap();
        b.deflate(&data[50_000..60_000], Flush::Finish, &mut out_b)
            .unwrap();
        assert_eq!(test_inflate(&out_a, &[], 32768).unwrap().data, data);
        assert_eq!(
            test_inflate(&out_b, &[], 32768).unwrap().data,
            &data[..60_000]
        );
    }

    /// Stream `data` in pieces of the given sizes (cycled), no flushes.
    fn stream_in_pieces(
        data: &[u8],
        level: i32,
        wbits: i32,
        sizes: &[usize],
        dict: &[u8],
    ) -> Vec<u8> {
        let mut d = Deflater::new(level, wbits, Strategy::Default).unwrap();
        if !dict.is_empty() {
            d.set_dictionary(dict).unwrap();
        }
        let mut out = Vec::new();
        let mut at = 0;
        for &n in sizes.iter().cycle() {
            if at >= data.len() {
                break;
            }
            let n = n.min(data.len() - at);
            d.deflate(&data[at..at + n], Flush::None, &mut out).unwrap();
            at += n;
        }
        d.deflate(&[], Flush::Finish, &mut out).unwrap();
        out
    }

    #[test]
    fn streaming_equals_one_shot_across_segments() {
        // More than two segments, so boundaries fall inside calls, at call
        // ends and inside the buffered tail.
        let data = sample(2 * SEGMENT + 123_457, 21);
        let splits: [&[usize]; 4] = [
            &[1 << 30],
            &[SEGMENT],
            &[1, 100_000, 7, SEGMENT - 3, 65_536],
            &[333_333],
        ];
        for level in [1, 2, 6, 9] {
            let one = deflate(&data, level).unwrap();
            assert_eq!(test_inflate(&one, &[], 32768).unwrap().data, data);
            for sizes in splits {
                let s = stream_in_pieces(&data, level, 15, sizes, &[]);
                assert!(s == one, "level {level} pieces {sizes:?}: streams differ");
            }
        }
    }

    #[test]
    fn deflate_api_one_shot_with_finish_equals_pieces() {
        // The same through a Deflater given everything with Finish.
        let data = sample(SEGMENT + 5000, 3);
        for level in [1, 4, 7] {
            let mut d = Deflater::new(level, 12, Strategy::Default).unwrap();
            let mut a = Vec::new();
            d.deflate(&data, Flush::Finish, &mut a).unwrap();
            let b = stream_in_pieces(&data, level, 12, &[40_000, 1, 999], b"dictionary? no");
            // With a dictionary: decodes given the same dictionary.
            let c = stream_in_pieces(&data, level, 12, &[40_000, 1, 999], &[]);
            assert!(a == c, "level {level}: streams differ");
            assert_eq!(
                test_inflate(&b, b"dictionary? no", 4096).unwrap().data,
                data
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn streaming_equals_one_shot(
            n in 0usize..150_000,
            seed in any::<u64>(),
            level in 1i32..=12,
            sizes in prop::collection::vec(1usize..50_000, 1..6),
            dict_len in prop_oneof![Just(0usize), 1usize..40_000],
        ) {
            let data = sample(n, seed);
            let dict = sample(dict_len, seed ^ 77);
            let a = stream_in_pieces(&data, level, 15, &[usize::MAX], &dict);
            let b = stream_in_pieces(&data, level, 15, &sizes, &dict);
            prop_assert!(a == b);
        }
    }

    fn flush_of(i: u8) -> Flush {
        match i % 10 {
            0 => Flush::Sync,
            1 => Flush::Full,
            _ => Flush::None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn streaming_round_trips(
            n in 0usize..120_000,
            seed in any::<u64>(),
            level in 0i32..=12,
            strat in 0usize..5,
            wbits in 9i32..=15,
            cuts in prop::collection::vec((0usize..40_000, any::<u8>()), 0..12),
            dict_len in prop_oneof![Just(0usize), 1usize..40_000],
        ) {
            let data = sample(n, seed);
            let dict = sample(dict_len, seed ^ 0xABCD);
            let cuts: Vec<(usize, Flush)> = cuts.into_iter().map(|(n, f)| (n, flush_of(f))).collect();
            let strategy = STRATEGIES[strat];
            let (s, f) = compress_chunks(&data, level, wbits, strategy, &cuts, &dict);
            check(&data, &s, &f, wbits, &dict, level, strategy);
        }
    }

    /// Differential check against CPython's zlib (`python3` on PATH): every
    /// level, strategy and window size on several inputs, streamed with
    /// random flushes. Run with `cargo test -- --ignored zlib`.
    #[test]
    #[ignore]
    fn decodes_with_cpython_zlib() {
        let dir = std::env::temp_dir().join(format!("scalezip-deflate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![1],
            (0..=255).collect(),
            vec![0; 100_000],
            sample(65_536, 1),
            sample(300_000, 2),
            (0..100_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ];
        let mut manifest = String::new();
        let mut k = 0;
        for (i, data) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("in{i}")), data).unwrap();
            for level in 0..=12 {
                for (si, strategy) in STRATEGIES.iter().enumerate() {
                    for wbits in [9, 10, 13, 15] {
                        let cuts: Vec<(usize, Flush)> = (0..8)
                            .map(|j| {
                                (
                                    (k * 7919 + j * 104_729) % 50_000,
                                    flush_of((k + j * 3) as u8),
                                )
                            })
                            .collect();
                        let cuts = if k % 3 == 0 { vec![] } else { cuts };
                        let (s, _) = compress_chunks(data, level, wbits, *strategy, &cuts, &[]);
                        std::fs::write(dir.join(format!("out{k}")), &s).unwrap();
                        manifest.push_str(&format!("in{i} out{k} {wbits} L{level}/S{si}\n"));
                        k += 1;
                    }
                }
            }
        }
        std::fs::write(dir.join("manifest"), manifest).unwrap();
        let script = r#"
import sys, zlib, os
d = sys.argv[1]
bad = 0
n = 0
for line in open(os.path.join(d, 'manifest')):
    i, o, wbits, tag = line.split()
    src = open(os.path.join(d, i), 'rb').read()
    comp = open(os.path.join(d, o), 'rb').read()
    try:
        dec = zlib.decompressobj(-int(wbits))
        got = dec.decompress(comp) + dec.flush()
        ok = got == src and dec.eof and not dec.unused_data
    except zlib.error as e:
        ok = False
        print(tag, i, e)
    n += 1
    if not ok:
        bad += 1
        print('MISMATCH', tag, i, o)
print(n, 'streams checked,', bad, 'bad')
sys.exit(1 if bad else 0)
"#;
        let st = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&dir)
            .status()
            .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert!(st.success(), "CPython zlib rejected some streams");
    }
}
