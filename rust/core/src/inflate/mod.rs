//! DEFLATE (RFC 1951) decoder.
//!
//! A DEFLATE stream is a sequence of blocks, each stored (raw bytes), or
//! Huffman-coded with the fixed code or a dynamic code sent in its header.
//! Huffman blocks are LZ77 streams of literals and (length, distance)
//! matches that copy from up to 32 KiB back, across block boundaries. The
//! work is split three ways:
//! - [`crate::bitio::BitReader`]: LSB-first bits through a 64-bit buffer
//!   refilled a word at a time.
//! - [`crate::huffman::decode`]: one-lookup decode tables with sub-tables
//!   for long codes, and zlib's rules for which code sets are valid.
//! - `decoder`: the block state machine and the fast loop, writing into
//!   `buf[pos..limit]` with `buf[..pos]` as the history.
//!
//! This file holds the two front ends. The one-shot [`inflate`] decodes
//! straight into the output `Vec`, which is the window: no copy, and the
//! fast loop runs everywhere except the last few hundred bytes before each
//! growth of the `Vec`. The streaming [`Inflater`] decodes into its own
//! buffer of `STREAM_BUF` bytes: `window[..wpos]` is history (preset
//! dictionary, then output; at least the last 32 KiB of it whenever there is
//! that much), new output is appended after it, copied to the caller, and
//! when the free room runs low the last 32 KiB slide to the front. Memory is
//! that fixed buffer plus the tables, whatever the input says.
//!
//! CONTRACT:
//! - `Inflater` is a resumable state machine: input may arrive in chunks of
//!   any size (down to one byte) and output may be limited per call; the
//!   state (bit buffer, current block, partial match) carries over.
//! - `inflate(input, out, max_out)` appends at most `max_out` bytes to `out`
//!   and returns how many input bytes were consumed plus a status:
//!   `StreamEnd` once the final block is complete (then `consumed` stops
//!   exactly at the byte after the stream's last byte: bytes pulled into the
//!   bit buffer beyond it are given back), `NeedsInput` when all input was
//!   consumed and more is needed, `OutputFull` when `max_out` was reached
//!   with more output pending (the caller calls again, with more room, and
//!   the input from `consumed` on). Output that ends exactly at `max_out`
//!   together with the stream gives `StreamEnd`. After `StreamEnd`, calls
//!   consume nothing and return `StreamEnd`.
//! - Memory is bounded: the 32 KiB window plus the caller's output; never an
//!   allocation sized by untrusted input.
//! - Every malformed stream gives an `InflateError`, never a panic; the
//!   streaming decoder then keeps returning that error. It never reports
//!   `Truncated`: a stream cut short just asks for more input.
//! - `Clone` gives an independent copy (Python's `decompressobj().copy()`).
//!
//! How `consumed` stays exact although the bit buffer reads ahead: every
//! decoder state lies between atomic items, so when a call runs out of input
//! the bits kept for the next call are a strict prefix of the next item,
//! and the stream cannot end inside them. So at `StreamEnd` every whole byte
//! left in the buffer came from this call's input and can be handed back.
//! `OutputFull` hands back the whole bytes read ahead in this call too.

mod decoder;
#[cfg(test)]
mod tests;

use crate::bitio::reader::{BitReader, BitState};
use crate::error::InflateError;
use crate::tables::WINDOW_SIZE;
use decoder::{Decoder, Stop};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NeedsInput,
    OutputFull,
    StreamEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub consumed: usize,
    pub status: Status,
}

/// Size of the streaming decoder's buffer: 32 KiB of history and 96 KiB for
/// new output, so the 32 KiB slide happens once per 96 KiB decoded.
const STREAM_BUF: usize = 4 * WINDOW_SIZE;
/// Slide the window when less than this much room is left after it. Well
/// above the fast loop's margin, so sliding, not the careful path, is what
/// normally meets the end of the buffer.
const SLIDE_ROOM: usize = 8 * 1024;

/// Streaming raw-DEFLATE decoder; see the module documentation.
#[derive(Clone)]
pub struct Inflater {
    dec: Box<Decoder>,
    /// Bits read ahead of the stream position, kept between calls.
    bits: BitState,
    /// History then pending output; allocated on first use.
    window: Vec<u8>,
    /// End of valid data in `window`.
    wpos: usize,
    /// The error that stopped the stream, returned again on later calls.
    error: Option<InflateError>,
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Inflater {
    pub fn new() -> Self {
        Self {
            dec: Box::new(Decoder::new()),
            bits: BitState::default(),
            window: Vec::new(),
            wpos: 0,
            error: None,
        }
    }

    fn ensure_window(&mut self) {
        if self.window.is_empty() {
            self.window = vec![0; STREAM_BUF];
        }
    }

    /// A decoder that rejects distances beyond `1 << window_bits` (8..=15)
    /// with `DistanceTooFarBack`, like zlib given a smaller `wbits`.
    pub fn with_window_bits(window_bits: u32) -> Self {
        let mut s = Self::new();
        s.set_window_bits(window_bits);
        s
    }

    /// Change the largest distance accepted (see [`Self::with_window_bits`]);
    /// meant for before the first input, e.g. once a zlib header is read.
    pub fn set_window_bits(&mut self, window_bits: u32) {
        self.dec.set_window_bits(window_bits);
    }

    /// Keep only the last 32 KiB of history, at the front of the buffer.
    fn slide(&mut self) {
        if self.wpos > WINDOW_SIZE {
            self.window
                .copy_within(self.wpos - WINDOW_SIZE..self.wpos, 0);
            self.wpos = WINDOW_SIZE;
        }
    }

    /// Preset dictionary (becomes the initial window); before any input.
    /// Only its last 32 KiB can be referred to, so only those are kept.
    /// Matches may reach into it; it is never part of the output.
    pub fn set_dictionary(&mut self, dict: &[u8]) {
        self.ensure_window();
        let d = &dict[dict.len().saturating_sub(WINDOW_SIZE)..];
        if self.window.len() - self.wpos < d.len() {
            self.slide();
        }
        self.window[self.wpos..self.wpos + d.len()].copy_from_slice(d);
        self.wpos += d.len();
    }

    /// Decode from `input`, appending at most `max_out` bytes to `out`. See
    /// the module documentation for the meaning of the result.
    pub fn inflate<A: Append + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut A,
        max_out: usize,
    ) -> Result<Progress, InflateError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.dec.is_done() {
            return Ok(Progress {
                consumed: 0,
                status: Status::StreamEnd,
            });
        }
        self.ensure_window();
        let mut br = BitReader::resume(input, self.bits);
        let mut left = max_out;
        let status = loop {
            if self.window.len() - self.wpos < SLIDE_ROOM {
                self.slide();
            }
            let start = self.wpos;
            let limit = start + left.min(self.window.len() - start);
            let r = self
                .dec
                .run(&mut br, &mut self.window, &mut self.wpos, limit);
            let appended = out.append(&self.window[start..self.wpos]);
            left -= self.wpos - start;
            if let Err(e) = appended {
                self.error = Some(e.clone());
                return Err(e);
            }
            match r {
                Err(e) => {
                    self.error = Some(e.clone());
                    return Err(e);
                }
                Ok(Stop::NeedInput) => break Status::NeedsInput,
                Ok(Stop::StreamEnd) => break Status::StreamEnd,
                // The buffer, not the caller's limit, was full: slide, go on.
                Ok(Stop::OutputFull) if left > 0 => {}
                Ok(Stop::OutputFull) => break Status::OutputFull,
            }
        };
        match status {
            Status::StreamEnd => {
                // The rest of the last byte is padding; whole bytes after
                // it are not ours.
                br.align_to_byte();
                br.give_back_bytes(usize::MAX);
            }
            Status::OutputFull => {
                br.give_back_bytes(usize::MAX);
            }
            Status::NeedsInput => {}
        }
        self.bits = br.suspend();
        Ok(Progress {
            consumed: br.position(),
            status,
        })
    }

    /// True once the final block has been decoded.
    pub fn is_done(&self) -> bool {
        self.dec.is_done()
    }
}

/// One-shot raw inflate of a complete stream (fast path: the output buffer
/// is the window). Returns the output and the number of input bytes the
/// stream occupied; a stream that ends early is `InflateError::Truncated`.
/// `size_hint` only preallocates.
pub fn inflate(input: &[u8], size_hint: usize) -> Result<(Vec<u8>, usize), InflateError> {
    inflate_window(input, size_hint, 15)
}

/// [`inflate`] for a stream declared with a window of `1 << window_bits`
/// bytes (8..=15): distances beyond it are `DistanceTooFarBack`.
pub fn inflate_window(
    input: &[u8],
    size_hint: usize,
    window_bits: u32,
) -> Result<(Vec<u8>, usize), InflateError> {
    // DEFLATE expands at most about 1032:1 (a 258-byte match per two bits),
    // so a larger hint cannot be right and is not worth reserving.
    let plausible = input.len().saturating_mul(1032).saturating_add(1024);
    // Start at 4x the input (most real data compresses less than 4:1), or
    // the hint if larger: growing a large buffer costs a realloc copy, while
    // untouched capacity costs nothing (the pages are never faulted in).
    let initial = size_hint.max(input.len().saturating_mul(4));
    let initial = initial.min(plausible).clamp(1024, 1 << 30);

    let mut dec = Box::new(Decoder::new());
    dec.set_window_bits(window_bits);
    inflate_one_shot(dec, input, initial)
}

/// [`inflate`] with the portable fast loop only, whatever the CPU (tests
/// compare it with the CPU-specific variant).
#[cfg(test)]
pub(crate) fn inflate_portable(input: &[u8]) -> Result<(Vec<u8>, usize), InflateError> {
    let mut dec = Box::new(Decoder::new());
    dec.force_portable();
    inflate_one_shot(dec, input, 1024)
}

/// Where the one-shot decoder writes: memory it may ask to grow. The slice
/// is both the output and the window (`[..written]` is history), so growing
/// must keep its contents, as `Vec::resize` or `realloc` do. Implemented for
/// `Vec<u8>` here and, in the Python bindings, for a `bytes` object being
/// built, so `zlib.decompress` decodes straight into the object it returns.
pub trait OutputBuffer {
    /// The memory written so far and the room after it (all initialised).
    fn as_mut_slice(&mut self) -> &mut [u8];
    /// Make the slice longer, keeping its first `keep` bytes. Called only
    /// when the decoder has filled the slice and has more to write; an
    /// error (e.g. a failed allocation) ends decoding.
    fn grow(&mut self, keep: usize) -> Result<(), InflateError>;
}

impl OutputBuffer for Vec<u8> {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        self
    }

    fn grow(&mut self, _keep: usize) -> Result<(), InflateError> {
        let grow = self.len().max(64 * 1024);
        self.resize(self.len() + grow, 0);
        Ok(())
    }
}

/// `out`'s memory with at least `extra` bytes after `pos`, growing it
/// (keeping `..pos`, which must be in it already) as needed: for writers
/// that know how much they are about to write.
pub fn reserve<B: OutputBuffer + ?Sized>(
    out: &mut B,
    pos: usize,
    extra: usize,
) -> Result<&mut [u8], InflateError> {
    while out.as_mut_slice().len() < pos.saturating_add(extra) {
        out.grow(pos)?;
    }
    Ok(out.as_mut_slice())
}

/// Where the streaming decoders append their output: a `Vec<u8>`, or an
/// [`Appender`] over any [`OutputBuffer`] (so a binding can stream into
/// the object it returns rather than into a `Vec` it then copies).
pub trait Append {
    /// Bytes appended so far (a `Vec`: its length).
    fn written(&self) -> usize;
    /// Append `data`; an error (a failed allocation) ends decoding.
    fn append(&mut self, data: &[u8]) -> Result<(), InflateError>;
    /// The bytes appended from position `from` on.
    fn since(&mut self, from: usize) -> &[u8];
}

impl Append for Vec<u8> {
    fn written(&self) -> usize {
        self.len()
    }

    fn append(&mut self, data: &[u8]) -> Result<(), InflateError> {
        self.extend_from_slice(data);
        Ok(())
    }

    fn since(&mut self, from: usize) -> &[u8] {
        &self[from..]
    }
}

/// [`Append`] over an [`OutputBuffer`]: `buf.as_mut_slice()[..written]`
/// is the output, grown through [`OutputBuffer::grow`].
pub struct Appender<'a, B: OutputBuffer + ?Sized> {
    buf: &'a mut B,
    len: usize,
}

impl<'a, B: OutputBuffer + ?Sized> Appender<'a, B> {
    /// Appending to `buf` from its start.
    pub fn new(buf: &'a mut B) -> Self {
        Appender { buf, len: 0 }
    }
}

impl<B: OutputBuffer + ?Sized> Append for Appender<'_, B> {
    fn written(&self) -> usize {
        self.len
    }

    fn append(&mut self, data: &[u8]) -> Result<(), InflateError> {
        let room = reserve(self.buf, self.len, data.len())?;
        room[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
        Ok(())
    }

    fn since(&mut self, from: usize) -> &[u8] {
        &self.buf.as_mut_slice()[from..self.len]
    }
}

/// One-shot raw inflate of a complete stream into `out`, growing it as
/// needed. Returns (bytes written, input bytes the stream occupied); bytes
/// after `written` in `out` are left as they are (the caller trims). A
/// stream that ends early is [`InflateError::Truncated`].
pub fn inflate_to<B: OutputBuffer + ?Sized>(
    input: &[u8],
    out: &mut B,
    window_bits: u32,
) -> Result<(usize, usize), InflateError> {
    let mut dec = Box::new(Decoder::new());
    dec.set_window_bits(window_bits);
    run_one_shot(dec, input, out)
}

fn run_one_shot<B: OutputBuffer + ?Sized>(
    mut dec: Box<Decoder>,
    input: &[u8],
    out: &mut B,
) -> Result<(usize, usize), InflateError> {
    let mut br = BitReader::new(input);
    let mut pos = 0;
    loop {
        let buf = out.as_mut_slice();
        let limit = buf.len();
        match dec.run(&mut br, buf, &mut pos, limit)? {
            Stop::StreamEnd => {
                br.align_to_byte();
                br.give_back_bytes(usize::MAX);
                return Ok((pos, br.position()));
            }
            Stop::NeedInput => return Err(InflateError::Truncated),
            Stop::OutputFull => out.grow(pos)?,
        }
    }
}

/// The body of [`inflate_window`]: decode into a `Vec` that starts at
/// `initial` bytes and grows as needed.
fn inflate_one_shot(
    dec: Box<Decoder>,
    input: &[u8],
    initial: usize,
) -> Result<(Vec<u8>, usize), InflateError> {
    let mut buf = vec![0u8; initial];
    let (n, used) = run_one_shot(dec, input, &mut buf)?;
    buf.truncate(n);
    Ok((buf, used))
}

/// One-shot raw inflate straight into the caller's buffer `out` (no
/// allocation, no copy: the top speed when the size is known, e.g. from a
/// container's header). Returns (bytes written, input bytes used). A stream
/// that does not fit is [`InflateError::OutputTooSmall`]; one that ends
/// early is [`InflateError::Truncated`].
pub fn inflate_into(
    input: &[u8],
    out: &mut [u8],
    window_bits: u32,
) -> Result<(usize, usize), InflateError> {
    let mut dec = Box::new(Decoder::new());
    dec.set_window_bits(window_bits);
    let mut br = BitReader::new(input);
    let mut pos = 0;
    let limit = out.len();
    match dec.run(&mut br, out, &mut pos, limit)? {
        Stop::StreamEnd => {
            br.align_to_byte();
            br.give_back_bytes(usize::MAX);
            Ok((pos, br.position()))
        }
        Stop::NeedInput => Err(InflateError::Truncated),
        Stop::OutputFull => Err(InflateError::OutputTooSmall { capacity: limit }),
    }
}
