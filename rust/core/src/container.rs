//! zlib (RFC 1950) and gzip (RFC 1952) framing around the raw DEFLATE
//! encoder and decoder, in both directions, streaming.
//!
//! A stream is `header | deflate data | trailer`:
//! - zlib: 2 header bytes (CMF, FLG; `(CMF << 8 | FLG) % 31 == 0`), an
//!   optional 4-byte DICTID (Adler-32 of the preset dictionary), and a
//!   big-endian Adler-32 of the uncompressed data.
//! - gzip: 10 fixed header bytes (magic 1f 8b, method 8, FLG, MTIME, XFL, OS)
//!   followed by the optional FEXTRA, FNAME, FCOMMENT and FHCRC fields, and an
//!   8-byte trailer: little-endian CRC-32 and ISIZE (length mod 2^32).
//!
//! The decoder is a state machine whose header and trailer states consume
//! one byte at a time (they are a few bytes; the body is where time goes and
//! it is handed whole slices), so input may be cut anywhere, down to single
//! bytes, and memory stays bounded: a gzip FNAME or FCOMMENT is kept up to
//! [`MAX_HEADER_FIELD`] bytes and the rest skipped, FEXTRA is at most 64 KiB
//! by construction.
//!
//! One decoder handles one member. Multi-member gzip files (what `cat a.gz
//! b.gz` makes) are decoded by starting a new `Decompressor` on the bytes
//! after `StreamEnd`, exactly as Python's gzip module does with zlib.
use crate::checksum::{adler32, crc32};
use crate::deflate::{Deflater, Flush, Strategy};
use crate::error::{DeflateError, InflateError};
use crate::inflate::{Append, Inflater, OutputBuffer, Progress, Status};

/// Longest FNAME / FCOMMENT kept from a gzip header; longer ones are
/// truncated (still parsed and checked) so a hostile header cannot make the
/// decoder allocate without bound.
pub const MAX_HEADER_FIELD: usize = 64 * 1024;

/// The framing around the DEFLATE data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Bare RFC 1951 data (zlib's negative wbits).
    Raw,
    /// RFC 1950 (zlib's wbits 9..=15, or 0 on decompression).
    Zlib,
    /// RFC 1952, one member (zlib's wbits 25..=31).
    Gzip,
    /// Decompression only: zlib or gzip, decided by the first byte
    /// (zlib's wbits 40..=47).
    Auto,
}

/// The gzip header fields users can read and write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GzipHeader {
    pub mtime: u32,
    /// FTEXT flag.
    pub text: bool,
    pub extra: Option<Vec<u8>>,
    pub filename: Option<Vec<u8>>,
    pub comment: Option<Vec<u8>>,
    /// Write (or, when read, there was) a header CRC-16 (FHCRC).
    pub hcrc: bool,
    /// Extra flags: 2 = best compression, 4 = fastest (as gzip writes them).
    pub xfl: u8,
    /// Operating system byte; 255 = unknown (what Python's gzip writes).
    pub os: u8,
}

const FTEXT: u8 = 1;
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

impl GzipHeader {
    /// The header Python's `gzip` module writes for `level`.
    pub fn for_level(level: i32, mtime: u32) -> Self {
        GzipHeader {
            mtime,
            xfl: gzip_xfl(level),
            os: 255,
            ..Default::default()
        }
    }

    /// Serialise (RFC 1952 section 2.3).
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut flg = 0u8;
        if self.text {
            flg |= FTEXT;
        }
        if self.hcrc {
            flg |= FHCRC;
        }
        if self.extra.is_some() {
            flg |= FEXTRA;
        }
        if self.filename.is_some() {
            flg |= FNAME;
        }
        if self.comment.is_some() {
            flg |= FCOMMENT;
        }
        out.extend_from_slice(&[0x1f, 0x8b, 8, flg]);
        out.extend_from_slice(&self.mtime.to_le_bytes());
        out.extend_from_slice(&[self.xfl, self.os]);
        if let Some(extra) = &self.extra {
            // The length field is 16 bits: longer extra fields are cut.
            let extra = &extra[..extra.len().min(0xffff)];
            out.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            out.extend_from_slice(extra);
        }
        for field in [&self.filename, &self.comment].into_iter().flatten() {
            // Zero-terminated: an embedded NUL would end the field early.
            out.extend(field.iter().copied().take_while(|&b| b != 0));
            out.push(0);
        }
        if self.hcrc {
            let crc = crc32(0, &out[start..]);
            out.extend_from_slice(&(crc as u16).to_le_bytes());
        }
    }
}

/// gzip's XFL byte: 2 for the slowest level, 4 for the fastest, else 0.
/// Python's gzip writes 2 for level 9 and 4 for level 1.
pub fn gzip_xfl(level: i32) -> u8 {
    match level {
        9..=12 => 2,
        1 => 4,
        _ => 0,
    }
}

/// Write a zlib header for `level` / `window_bits`, with DICTID when a preset
/// dictionary is used.
pub fn write_zlib_header(level: i32, window_bits: i32, dict_id: Option<u32>, out: &mut Vec<u8>) {
    let cmf = (((window_bits - 8) as u8) << 4) | 8;
    // FLEVEL as zlib writes it.
    let flevel: u8 = match level {
        0 | 1 => 0,
        2..=5 => 1,
        6 | -1 => 2,
        _ => 3,
    };
    let mut flg = flevel << 6;
    if dict_id.is_some() {
        flg |= 0x20;
    }
    let rem = ((cmf as u16) << 8 | flg as u16) % 31;
    if rem != 0 {
        flg += (31 - rem) as u8;
    }
    out.extend_from_slice(&[cmf, flg]);
    if let Some(id) = dict_id {
        out.extend_from_slice(&id.to_be_bytes());
    }
}

/// Streaming compressor for any [`Format`] but `Auto`.
#[derive(Clone)]
pub struct Compressor {
    format: Format,
    deflater: Deflater,
    /// Header bytes not yet emitted; written before the first output so that
    /// a compressor that is never used costs nothing.
    header: Option<Vec<u8>>,
    check: u32,
    total_in: u64,
    trailer_done: bool,
}

/// Where [`Compressor`] writes: appended to a `Vec`, or handed to a sink.
enum Out<'a> {
    Vec(&'a mut Vec<u8>),
    Sink(&'a mut dyn FnMut(&[u8])),
}

impl Compressor {
    /// `level`: -1 (default, = 6) or 0..=12; `window_bits`: 9..=15.
    pub fn new(
        format: Format,
        level: i32,
        window_bits: i32,
        strategy: Strategy,
        dict: Option<&[u8]>,
        gzip_header: Option<&GzipHeader>,
    ) -> Result<Self, DeflateError> {
        let level = if level == -1 { 6 } else { level };
        let mut deflater = Deflater::new(level, window_bits, strategy)?;
        let (header, check) = start_stream(format, level, window_bits, dict, gzip_header);
        if let Some(d) = dict {
            deflater.set_dictionary(d)?;
        }
        Ok(Compressor {
            format,
            deflater,
            header: Some(header),
            check,
            total_in: 0,
            trailer_done: false,
        })
    }

    /// Compress all of `input`, then apply `flush`; append output to `out`.
    pub fn compress(
        &mut self,
        input: &[u8],
        flush: Flush,
        out: &mut Vec<u8>,
    ) -> Result<(), DeflateError> {
        self.compress_into(input, flush, Out::Vec(out))
    }

    /// [`Compressor::compress`], handing the output to `sink` piece by
    /// piece as it is made ([`Deflater::deflate_to`]) instead of appending
    /// it to a `Vec`: the same bytes, in order. For one-shot compression
    /// straight into the returned Python `bytes`.
    pub fn compress_to(
        &mut self,
        input: &[u8],
        flush: Flush,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        self.compress_into(input, flush, Out::Sink(sink))
    }

    /// The body of [`Compressor::compress`] and [`Compressor::compress_to`].
    fn compress_into(
        &mut self,
        input: &[u8],
        flush: Flush,
        out: Out<'_>,
    ) -> Result<(), DeflateError> {
        if self.trailer_done {
            if input.is_empty() && flush == Flush::Finish {
                return Ok(());
            }
            return Err(DeflateError::StreamFinished);
        }
        let header = self.header.take();
        self.check = update_check(self.format, self.check, input);
        self.total_in += input.len() as u64;
        let mut trailer = Vec::new();
        if flush == Flush::Finish {
            write_trailer(self.format, self.check, self.total_in, &mut trailer);
        }
        match out {
            Out::Vec(v) => {
                v.extend_from_slice(header.as_deref().unwrap_or(&[]));
                self.deflater.deflate(input, flush, v)?;
                v.extend_from_slice(&trailer);
            }
            Out::Sink(sink) => {
                if let Some(h) = &header {
                    sink(h);
                }
                self.deflater.deflate_to(input, flush, sink)?;
                if !trailer.is_empty() {
                    sink(&trailer);
                }
            }
        }
        self.trailer_done = flush == Flush::Finish;
        Ok(())
    }

    pub fn is_finished(&self) -> bool {
        self.trailer_done
    }
}

/// An upper bound on the size of a whole stream of `n` input bytes in
/// `format` with a gzip header of `header_len` bytes (ignored for the other
/// formats), whatever the level: the encoder never makes a block bigger
/// than storing it would, and stored blocks cost 5 bytes per 65 535 (here
/// counted per 16 KiB, a margin for short blocks), plus the end of the last
/// block and the trailer. For sizing an output buffer that is written once
/// (only the pages written are ever touched).
pub fn compress_bound(n: usize, format: Format, header_len: usize) -> usize {
    let header = match format {
        Format::Zlib => 6,
        Format::Gzip => header_len,
        _ => 0,
    };
    n.saturating_add(5 * (n / 16384 + 2) + header + 8 + 64)
}

/// The header of a new stream (empty for raw) and the initial check value.
fn start_stream(
    format: Format,
    level: i32,
    window_bits: i32,
    dict: Option<&[u8]>,
    gzip_header: Option<&GzipHeader>,
) -> (Vec<u8>, u32) {
    let mut header = Vec::new();
    let check = match format {
        Format::Raw | Format::Auto => 0,
        Format::Zlib => {
            write_zlib_header(level, window_bits, dict.map(|d| adler32(1, d)), &mut header);
            1
        }
        Format::Gzip => {
            let default = GzipHeader::for_level(level, 0);
            gzip_header.unwrap_or(&default).write(&mut header);
            0
        }
    };
    (header, check)
}

/// Continue the check value of `format` over `data`.
fn update_check(format: Format, check: u32, data: &[u8]) -> u32 {
    match format {
        Format::Zlib => adler32(check, data),
        Format::Gzip => crc32(check, data),
        _ => 0,
    }
}

/// The trailer: zlib's big-endian Adler-32, or gzip's CRC-32 and ISIZE.
fn write_trailer(format: Format, check: u32, total_in: u64, out: &mut Vec<u8>) {
    match format {
        Format::Zlib => out.extend_from_slice(&check.to_be_bytes()),
        Format::Gzip => {
            out.extend_from_slice(&check.to_le_bytes());
            out.extend_from_slice(&(total_in as u32).to_le_bytes());
        }
        _ => {}
    }
}

/// Streaming multi-core compressor (see [`crate::parallel`]) in any format
/// but `Auto`: the same header and trailer as [`Compressor`], the body
/// compressed in parallel blocks. No preset dictionary, no flush modes but
/// finish: what a file writer needs.
pub struct ParallelCompressor {
    format: Format,
    inner: crate::parallel::ParallelDeflater,
    header: Option<Vec<u8>>,
    total_in: u64,
    finished: bool,
}

impl ParallelCompressor {
    pub fn new(
        format: Format,
        level: i32,
        threads: usize,
        block_size: usize,
        gzip_header: Option<&GzipHeader>,
    ) -> Result<Self, DeflateError> {
        let level = if level == -1 { 6 } else { level };
        // The blocks' checksums are computed by the jobs and combined.
        let kind = match format {
            Format::Gzip => crate::parallel::Check::Crc32,
            Format::Zlib => crate::parallel::Check::Adler32,
            _ => crate::parallel::Check::None,
        };
        let inner =
            crate::parallel::ParallelDeflater::new(level, threads, block_size)?.with_check(kind);
        let (header, _) = start_stream(format, level, 15, None, gzip_header);
        Ok(ParallelCompressor {
            format,
            inner,
            header: Some(header),
            total_in: 0,
            finished: false,
        })
    }

    /// Take `input`; append whatever is complete to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        self.compress_to(input, &mut |b| out.extend_from_slice(b))
    }

    /// End the stream: the last blocks, then the trailer.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DeflateError> {
        self.finish_to(&mut |b| out.extend_from_slice(b))
    }

    /// [`ParallelCompressor::compress`] handing the output to `sink` block
    /// by block (one-shot compression straight into the Python `bytes`).
    pub fn compress_to(
        &mut self,
        input: &[u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        if self.finished {
            return Err(DeflateError::StreamFinished);
        }
        if let Some(h) = self.header.take() {
            sink(&h);
        }
        self.total_in += input.len() as u64;
        self.inner.compress_to(input, sink)
    }

    /// [`ParallelCompressor::finish`] handing the output to `sink`.
    pub fn finish_to(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<(), DeflateError> {
        if self.finished {
            return Ok(());
        }
        self.compress_to(&[], sink)?;
        self.inner.finish_to(sink)?;
        let mut trailer = Vec::with_capacity(8);
        write_trailer(self.format, self.inner.check(), self.total_in, &mut trailer);
        sink(&trailer);
        self.finished = true;
        Ok(())
    }
}

/// One-shot compression in any format but `Auto`.
pub fn compress(
    input: &[u8],
    format: Format,
    level: i32,
    window_bits: i32,
) -> Result<Vec<u8>, DeflateError> {
    let mut c = Compressor::new(format, level, window_bits, Strategy::Default, None, None)?;
    let mut out = Vec::with_capacity(input.len() / 3 + 64);
    c.compress(input, Flush::Finish, &mut out)?;
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the first byte to decide zlib vs gzip.
    Sniff,
    ZlibHeader,
    ZlibDictId,
    GzipFixed,
    GzipExtraLen,
    GzipExtra,
    GzipName,
    GzipComment,
    GzipHcrc,
    Body,
    Trailer,
    Done,
}

/// Streaming decompressor for one stream (one gzip member).
#[derive(Clone)]
pub struct Decompressor {
    format: Format,
    state: State,
    /// Largest window allowed by the caller for zlib streams (0 = trust the
    /// header), as zlib's wbits.
    max_window_bits: i32,
    /// The window bits the body is decoded with.
    window: u32,
    inflater: Inflater,
    dict: Option<Vec<u8>>,
    /// Header / trailer bytes gathered so far (at most 10).
    buf: Vec<u8>,
    /// Bytes of FEXTRA left to read.
    extra_left: usize,
    header: GzipHeader,
    /// The gzip FLG byte.
    flg: u8,
    /// Running CRC of the gzip header, for FHCRC.
    header_crc: u32,
    check: u32,
    total_out: u64,
}

impl Decompressor {
    /// `window_bits`: for zlib streams the largest window accepted (9..=15,
    /// or 0 to accept what the header says); ignored for raw and gzip.
    /// `dict`: preset dictionary (raw: primes the window at once; zlib: used
    /// when the header asks for it and its Adler-32 matches).
    pub fn new(format: Format, window_bits: i32, dict: Option<&[u8]>) -> Self {
        // The window the stream may use: what the caller declared, or 32 KiB;
        // for zlib streams the header's CINFO narrows it once read.
        let window = if window_bits == 0 {
            15
        } else {
            window_bits.clamp(8, 15) as u32
        };
        let mut inflater = Inflater::with_window_bits(window);
        let state = match format {
            Format::Raw => {
                if let Some(d) = dict {
                    inflater.set_dictionary(d);
                }
                State::Body
            }
            Format::Zlib => State::ZlibHeader,
            Format::Gzip => State::GzipFixed,
            Format::Auto => State::Sniff,
        };
        Decompressor {
            format,
            state,
            max_window_bits: window_bits,
            window,
            inflater,
            dict: dict.map(<[u8]>::to_vec),
            buf: Vec::with_capacity(10),
            extra_left: 0,
            header: GzipHeader::default(),
            flg: 0,
            header_crc: 0,
            check: if format == Format::Zlib { 1 } else { 0 },
            total_out: 0,
        }
    }

    /// The format in use (after sniffing, for `Auto`: `Zlib` or `Gzip`).
    pub fn format(&self) -> Format {
        self.format
    }

    /// True once the whole stream, trailer included, has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True while the header has not been fully read yet.
    pub fn in_header(&self) -> bool {
        !matches!(self.state, State::Body | State::Trailer | State::Done)
    }

    /// The gzip header, once read (defaults otherwise).
    pub fn gzip_header(&self) -> &GzipHeader {
        &self.header
    }

    /// Decode from `input`, appending at most `max_out` bytes to `out`.
    /// `consumed` is exact at `StreamEnd` (the first byte after the trailer).
    pub fn decompress<A: Append + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut A,
        max_out: usize,
    ) -> Result<Progress, InflateError> {
        let mut pos = 0;
        let out_start = out.written();
        loop {
            match self.state {
                State::Done => {
                    return Ok(Progress {
                        consumed: pos,
                        status: Status::StreamEnd,
                    })
                }
                State::Body => {
                    let room = max_out - (out.written() - out_start);
                    let before = out.written();
                    let p = self.inflater.inflate(&input[pos..], out, room)?;
                    pos += p.consumed;
                    let new = out.since(before);
                    self.total_out += new.len() as u64;
                    self.check = update_check(self.format, self.check, new);
                    match p.status {
                        Status::StreamEnd => {
                            self.state = if self.format == Format::Raw {
                                State::Done
                            } else {
                                State::Trailer
                            };
                        }
                        status => {
                            return Ok(Progress {
                                consumed: pos,
                                status,
                            })
                        }
                    }
                }
                _ => {
                    // Header and trailer: byte at a time.
                    let Some(&b) = input.get(pos) else {
                        return Ok(Progress {
                            consumed: pos,
                            status: Status::NeedsInput,
                        });
                    };
                    pos += 1;
                    self.header_byte(b)?;
                }
            }
        }
    }

    fn header_byte(&mut self, b: u8) -> Result<(), InflateError> {
        if matches!(
            self.state,
            State::GzipFixed
                | State::GzipExtraLen
                | State::GzipExtra
                | State::GzipName
                | State::GzipComment
        ) {
            self.header_crc = crc32(self.header_crc, &[b]);
        }
        match self.state {
            State::Sniff => {
                if b == 0x1f {
                    self.format = Format::Gzip;
                    self.state = State::GzipFixed;
                } else {
                    self.format = Format::Zlib;
                    self.check = 1;
                    self.state = State::ZlibHeader;
                }
                // Re-dispatch the same byte in the chosen state.
                return self.header_byte(b);
            }
            State::ZlibHeader => {
                self.buf.push(b);
                if self.buf.len() == 2 {
                    let (cmf, flg) = (self.buf[0], self.buf[1]);
                    self.buf.clear();
                    if ((cmf as u16) << 8 | flg as u16) % 31 != 0 {
                        return Err(InflateError::IncorrectHeaderCheck);
                    }
                    if cmf & 0x0f != 8 {
                        return Err(InflateError::UnknownCompressionMethod);
                    }
                    let wbits = (cmf >> 4) as i32 + 8;
                    let limit = if self.max_window_bits == 0 {
                        15
                    } else {
                        self.max_window_bits
                    };
                    if wbits > limit {
                        return Err(InflateError::InvalidWindowSize);
                    }
                    self.window = wbits as u32;
                    self.inflater.set_window_bits(self.window);
                    self.state = if flg & 0x20 != 0 {
                        State::ZlibDictId
                    } else {
                        State::Body
                    };
                }
            }
            State::ZlibDictId => {
                self.buf.push(b);
                if self.buf.len() == 4 {
                    let id =
                        u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
                    self.buf.clear();
                    match &self.dict {
                        None => return Err(InflateError::NeedDictionary { adler: id }),
                        Some(d) if adler32(1, d) != id => {
                            return Err(InflateError::IncorrectDictionary)
                        }
                        Some(d) => self.inflater.set_dictionary(d),
                    }
                    self.state = State::Body;
                }
            }
            State::GzipFixed => {
                let i = self.buf.len();
                // Like zlib, judge the magic once both bytes are in.
                if i == 1 && (self.buf[0] != 0x1f || b != 0x8b) {
                    return Err(InflateError::NotGzip);
                }
                // Method and flags are judged together once both are in, as
                // zlib reads them as one 16-bit field: a stream cut after the
                // method byte is "need more input", not an error.
                if i == 3 && self.buf[2] != 8 {
                    return Err(InflateError::UnknownCompressionMethod);
                }
                if i == 3 && b & 0xe0 != 0 {
                    return Err(InflateError::BadGzipHeader("unknown header flags set"));
                }
                self.buf.push(b);
                if self.buf.len() == 10 {
                    let h = &self.buf;
                    self.flg = h[3];
                    self.header.text = h[3] & FTEXT != 0;
                    self.header.hcrc = h[3] & FHCRC != 0;
                    self.header.mtime = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
                    self.header.xfl = h[8];
                    self.header.os = h[9];
                    self.next_gzip_field(FEXTRA);
                }
            }
            State::GzipExtraLen => {
                self.buf.push(b);
                if self.buf.len() == 2 {
                    self.extra_left = u16::from_le_bytes([self.buf[0], self.buf[1]]) as usize;
                    self.buf.clear();
                    self.header.extra = Some(Vec::with_capacity(self.extra_left));
                    self.state = State::GzipExtra;
                    if self.extra_left == 0 {
                        self.next_gzip_field(FNAME);
                    }
                }
            }
            State::GzipExtra => {
                if let Some(e) = self.header.extra.as_mut() {
                    e.push(b);
                }
                self.extra_left -= 1;
                if self.extra_left == 0 {
                    self.next_gzip_field(FNAME);
                }
            }
            State::GzipName | State::GzipComment => {
                if b == 0 {
                    let next = if self.state == State::GzipName {
                        FCOMMENT
                    } else {
                        FHCRC
                    };
                    self.next_gzip_field(next);
                } else {
                    let field = if self.state == State::GzipName {
                        &mut self.header.filename
                    } else {
                        &mut self.header.comment
                    };
                    let f = field.get_or_insert_with(Vec::new);
                    if f.len() < MAX_HEADER_FIELD {
                        f.push(b);
                    }
                }
            }
            State::GzipHcrc => {
                self.buf.push(b);
                if self.buf.len() == 2 {
                    let want = u16::from_le_bytes([self.buf[0], self.buf[1]]);
                    self.buf.clear();
                    if want != self.header_crc as u16 {
                        return Err(InflateError::BadGzipHeader("header crc mismatch"));
                    }
                    self.state = State::Body;
                }
            }
            State::Trailer => {
                self.buf.push(b);
                let t = &self.buf;
                // Like zlib, check each field as soon as it is complete: a
                // bad CRC is reported even if the stream ends right after it.
                if t.len() == 4 {
                    let want = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                    let check = if self.format == Format::Gzip {
                        want
                    } else {
                        want.swap_bytes()
                    };
                    if check != self.check {
                        return Err(InflateError::IncorrectDataCheck);
                    }
                    if self.format != Format::Gzip {
                        self.buf.clear();
                        self.state = State::Done;
                    }
                } else if t.len() == 8 {
                    let isize = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                    if isize != self.total_out as u32 {
                        return Err(InflateError::IncorrectLengthCheck);
                    }
                    self.buf.clear();
                    self.state = State::Done;
                }
            }
            // The decode loop handles these states itself.
            State::Body | State::Done => {}
        }
        Ok(())
    }

    /// One-shot decoding: read the whole header from the start of `input`;
    /// return where the body starts.
    fn read_header(&mut self, input: &[u8]) -> Result<usize, InflateError> {
        let mut pos = 0;
        while self.in_header() {
            let &b = input.get(pos).ok_or(InflateError::Truncated)?;
            self.header_byte(b)?;
            pos += 1;
        }
        Ok(pos)
    }

    /// One-shot decoding: the body (`out`) was decoded and ends at `pos`;
    /// check the trailer after it. Returns where the stream ends.
    fn finish_one_shot(
        &mut self,
        input: &[u8],
        mut pos: usize,
        out: &[u8],
    ) -> Result<usize, InflateError> {
        self.total_out = out.len() as u64;
        self.check = update_check(self.format, self.check, out);
        self.state = if self.format == Format::Raw {
            State::Done
        } else {
            State::Trailer
        };
        while !self.is_done() {
            let &b = input.get(pos).ok_or(InflateError::Truncated)?;
            self.header_byte(b)?;
            pos += 1;
        }
        Ok(pos)
    }

    /// Move to the first optional gzip field at or after `from` whose flag is
    /// set (FEXTRA, FNAME, FCOMMENT, FHCRC in that order), else to the body.
    fn next_gzip_field(&mut self, from: u8) {
        self.buf.clear();
        for (flag, state) in [
            (FEXTRA, State::GzipExtraLen),
            (FNAME, State::GzipName),
            (FCOMMENT, State::GzipComment),
            (FHCRC, State::GzipHcrc),
        ] {
            // The flag values grow in field order except FHCRC (2), which
            // comes last: compare positions in this list, not values.
            if field_rank(flag) >= field_rank(from) && self.flg & flag != 0 {
                self.state = state;
                return;
            }
        }
        self.state = State::Body;
    }
}

fn field_rank(flag: u8) -> u8 {
    match flag {
        FEXTRA => 0,
        FNAME => 1,
        FCOMMENT => 2,
        _ => 3,
    }
}

/// [`decompress`] straight into the caller's buffer: header and trailer
/// checked as usual, the body decoded in place. Returns (bytes written,
/// input bytes used). No preset dictionary.
pub fn decompress_into(
    input: &[u8],
    format: Format,
    window_bits: i32,
    out: &mut [u8],
) -> Result<(usize, usize), InflateError> {
    let mut d = Decompressor::new(format, window_bits, None);
    let pos = d.read_header(input)?;
    let (n, used) = crate::inflate::inflate_into(&input[pos..], out, d.window)?;
    let end = d.finish_one_shot(input, pos + used, &out[..n])?;
    Ok((n, end))
}

/// Size hints are trusted up to this many times the input size (plus
/// [`TRUSTED_SLACK`]) when sizing the first output buffer: DEFLATE can expand
/// about 1032:1, but a hostile stream that merely claims a huge size (a gzip
/// ISIZE, a wrong `bufsize`) must not get that much memory reserved up
/// front. Beyond the cap the buffer grows as real output arrives.
pub const TRUSTED_EXPANSION: usize = 64;
/// See [`TRUSTED_EXPANSION`].
pub const TRUSTED_SLACK: usize = 1 << 20;
/// Smallest first buffer of one-shot decoding.
const MIN_ONE_SHOT: usize = 1024;

/// The gzip ISIZE field (output length mod 2^32) in the last 4 bytes of
/// `input`, when `input` looks like one gzip member (for `Auto`, when it
/// starts with the gzip magic). Only a hint: trailing data or further
/// members make it meaningless, so decoding always checks the real size.
fn gzip_isize_hint(input: &[u8], format: Format) -> Option<usize> {
    let gzip = match format {
        Format::Gzip => true,
        Format::Auto => input.starts_with(&[0x1f, 0x8b]),
        _ => false,
    };
    // The smallest member: 10 header bytes, 2 body bytes, 8 trailer bytes.
    if !gzip || input.len() < 20 {
        return None;
    }
    let t = &input[input.len() - 4..];
    Some(u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize)
}

/// The first output buffer size for one-shot decoding of `input`: the
/// gzip ISIZE when there is one, else `hint` (the caller's expected size,
/// 0 for none) when it is not implausibly small, else a guess of 4x the
/// input (most real data compresses less than 4:1); never more than
/// [`TRUSTED_EXPANSION`] x input + [`TRUSTED_SLACK`], never less than 1 KiB.
/// An exact hint means the output is never grown nor trimmed.
pub fn one_shot_capacity(input: &[u8], format: Format, hint: usize) -> usize {
    let cap = input
        .len()
        .saturating_mul(TRUSTED_EXPANSION)
        .saturating_add(TRUSTED_SLACK);
    let wanted = match gzip_isize_hint(input, format) {
        Some(isize) if isize > 0 => isize,
        // A hint below half the input is the default `bufsize`, not a size.
        _ if hint >= input.len() / 2 && hint > 0 => hint,
        _ => input.len().saturating_mul(4),
    };
    wanted.min(cap).max(MIN_ONE_SHOT)
}

/// One-shot decompression of a complete stream into `out` (grown as
/// needed): header and trailer checked as in streaming, the body decoded by
/// [`crate::inflate::inflate_to`]. Returns (bytes written, input bytes the
/// stream occupied); bytes after the stream are ignored, as zlib does; the
/// caller trims `out` to the bytes written. No preset dictionary.
pub fn decompress_to<B: OutputBuffer + ?Sized>(
    input: &[u8],
    format: Format,
    window_bits: i32,
    out: &mut B,
) -> Result<(usize, usize), InflateError> {
    let mut d = Decompressor::new(format, window_bits, None);
    let pos = d.read_header(input)?;
    let (n, used) = crate::inflate::inflate_to(&input[pos..], out, d.window)?;
    let end = d.finish_one_shot(input, pos + used, &out.as_mut_slice()[..n])?;
    Ok((n, end))
}

/// One-shot decompression of a complete stream in any format into a new
/// `Vec` (see [`decompress_to`]; `size_hint` as in [`one_shot_capacity`]).
/// Returns the output and the number of input bytes the stream occupied. A
/// stream that ends early is [`InflateError::Truncated`].
pub fn decompress(
    input: &[u8],
    format: Format,
    window_bits: i32,
    dict: Option<&[u8]>,
    size_hint: usize,
) -> Result<(Vec<u8>, usize), InflateError> {
    let initial = one_shot_capacity(input, format, size_hint);
    let Some(dict) = dict else {
        let mut out = vec![0u8; initial];
        let (n, used) = decompress_to(input, format, window_bits, &mut out)?;
        out.truncate(n);
        return Ok((out, used));
    };
    // A preset dictionary primes the streaming window; the one-shot kernel
    // starts from an empty one, so take the streaming road.
    let mut d = Decompressor::new(format, window_bits, Some(dict));
    let mut pos = d.read_header(input)?;
    let mut out = Vec::with_capacity(initial);
    let p = d.inflater.inflate(&input[pos..], &mut out, usize::MAX)?;
    if p.status != Status::StreamEnd {
        return Err(InflateError::Truncated);
    }
    pos += p.consumed;
    let pos = d.finish_one_shot(input, pos, &out)?;
    Ok((out, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| ((i * 31) ^ (i >> 7)) as u8 % 61).collect()
    }

    /// Decode feeding `step` input bytes at a time with at most `room` output
    /// bytes per call; returns (output, consumed).
    fn stream_decode(
        d: &mut Decompressor,
        input: &[u8],
        step: usize,
        room: usize,
    ) -> Result<(Vec<u8>, usize), InflateError> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let end = (pos + step).min(input.len());
            let p = d.decompress(&input[pos..end], &mut out, room)?;
            pos += p.consumed;
            match p.status {
                Status::StreamEnd => return Ok((out, pos)),
                Status::NeedsInput if end == input.len() => return Err(InflateError::Truncated),
                _ => {}
            }
        }
    }

    #[test]
    fn zlib_header_is_valid_for_all_levels_and_windows() {
        for level in -1..=12 {
            for wbits in 9..=15 {
                let mut h = Vec::new();
                write_zlib_header(level, wbits, None, &mut h);
                assert_eq!(((h[0] as u16) << 8 | h[1] as u16) % 31, 0);
                assert_eq!(h[0] >> 4, (wbits - 8) as u8);
                let mut h = Vec::new();
                write_zlib_header(level, wbits, Some(0xdead_beef), &mut h);
                assert_eq!(h.len(), 6);
                assert_ne!(h[1] & 0x20, 0);
            }
        }
    }

    #[test]
    fn round_trip_every_format_one_shot_and_streaming() {
        let data = sample(100_000);
        for format in [Format::Raw, Format::Zlib, Format::Gzip] {
            for level in [0, 1, 6, 9] {
                let c = compress(&data, format, level, 15).unwrap();
                let (out, used) = decompress(&c, format, 15, None, 0).unwrap();
                assert_eq!(out, data);
                assert_eq!(used, c.len());
                for (step, room) in [(1, usize::MAX), (7, 3), (c.len(), 1000)] {
                    let mut d = Decompressor::new(format, 15, None);
                    let (out, used) = stream_decode(&mut d, &c, step, room).unwrap();
                    assert_eq!(out, data);
                    assert_eq!(used, c.len());
                    assert!(d.is_done());
                }
            }
        }
    }

    #[test]
    fn auto_detects_zlib_and_gzip() {
        let data = sample(5000);
        for (format, want) in [(Format::Zlib, Format::Zlib), (Format::Gzip, Format::Gzip)] {
            let c = compress(&data, format, 6, 15).unwrap();
            let mut d = Decompressor::new(Format::Auto, 0, None);
            let (out, _) = stream_decode(&mut d, &c, 3, usize::MAX).unwrap();
            assert_eq!(out, data);
            assert_eq!(d.format(), want);
            assert_eq!(decompress(&c, Format::Auto, 0, None, 0).unwrap().0, data);
        }
    }

    #[test]
    fn consumed_stops_at_end_of_stream() {
        let data = sample(3000);
        for format in [Format::Raw, Format::Zlib, Format::Gzip] {
            let mut c = compress(&data, format, 6, 15).unwrap();
            let n = c.len();
            c.extend_from_slice(b"TRAILING GARBAGE");
            assert_eq!(decompress(&c, format, 15, None, 0).unwrap().1, n);
            let mut d = Decompressor::new(format, 15, None);
            let (out, used) = stream_decode(&mut d, &c, c.len(), usize::MAX).unwrap();
            assert_eq!((out.as_slice(), used), (data.as_slice(), n));
        }
    }

    #[test]
    fn gzip_header_fields_round_trip() {
        let data = sample(2000);
        let header = GzipHeader {
            mtime: 1_234_567_890,
            text: true,
            extra: Some(b"AB\x02\x00hi".to_vec()),
            filename: Some(b"name.txt".to_vec()),
            comment: Some(b"a comment".to_vec()),
            hcrc: true,
            xfl: 2,
            os: 3,
        };
        let mut c =
            Compressor::new(Format::Gzip, 9, 15, Strategy::Default, None, Some(&header)).unwrap();
        let mut out = Vec::new();
        c.compress(&data, Flush::Finish, &mut out).unwrap();
        for step in [1, 5, out.len()] {
            let mut d = Decompressor::new(Format::Gzip, 15, None);
            let (dec, _) = stream_decode(&mut d, &out, step, usize::MAX).unwrap();
            assert_eq!(dec, data);
            assert_eq!(d.gzip_header(), &header);
        }
        // A corrupted header CRC is caught.
        let name_end = 10 + 2 + 6 + 9 + 10;
        let mut bad = out.clone();
        bad[name_end] ^= 1;
        let err = decompress(&bad, Format::Gzip, 15, None, 0).unwrap_err();
        assert_eq!(err, InflateError::BadGzipHeader("header crc mismatch"));
    }

    #[test]
    fn trailer_and_header_errors() {
        let data = sample(4000);
        let z = compress(&data, Format::Zlib, 6, 15).unwrap();
        let g = compress(&data, Format::Gzip, 6, 15).unwrap();
        let mut bad = z.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            decompress(&bad, Format::Zlib, 15, None, 0).unwrap_err(),
            InflateError::IncorrectDataCheck
        );
        let mut bad = g.clone();
        let n = bad.len();
        bad[n - 8] ^= 1;
        assert_eq!(
            decompress(&bad, Format::Gzip, 15, None, 0).unwrap_err(),
            InflateError::IncorrectDataCheck
        );
        let mut bad = g.clone();
        bad[n - 1] ^= 1;
        assert_eq!(
            decompress(&bad, Format::Gzip, 15, None, 0).unwrap_err(),
            InflateError::IncorrectLengthCheck
        );
        let mut bad = z.clone();
        bad[1] ^= 1;
        assert_eq!(
            decompress(&bad, Format::Zlib, 15, None, 0).unwrap_err(),
            InflateError::IncorrectHeaderCheck
        );
        assert_eq!(
            decompress(&[0x78], Format::Zlib, 15, None, 0).unwrap_err(),
            InflateError::Truncated
        );
        assert_eq!(
            decompress(&z[..z.len() - 1], Format::Zlib, 15, None, 0).unwrap_err(),
            InflateError::Truncated
        );
        assert_eq!(
            decompress(b"PK\x03\x04", Format::Gzip, 15, None, 0).unwrap_err(),
            InflateError::NotGzip
        );
        // Window larger than the caller allows.
        assert_eq!(
            decompress(&z, Format::Zlib, 9, None, 0).unwrap_err(),
            InflateError::InvalidWindowSize
        );
        // Unknown method (CM = 7), with a valid check.
        let mut h = [0x77u8, 0];
        h[1] = (31 - ((h[0] as u16) << 8) % 31) as u8;
        assert_eq!(
            decompress(&h, Format::Zlib, 15, None, 0).unwrap_err(),
            InflateError::UnknownCompressionMethod
        );
    }

    #[test]
    fn parallel_compressor_makes_one_valid_stream() {
        let data = sample(900_000);
        for format in [Format::Raw, Format::Zlib, Format::Gzip] {
            for threads in [1, 2] {
                let header = GzipHeader {
                    filename: Some(b"x".to_vec()),
                    ..GzipHeader::for_level(6, 7)
                };
                let mut c =
                    ParallelCompressor::new(format, 6, threads, 64 * 1024, Some(&header)).unwrap();
                let mut out = Vec::new();
                for chunk in data.chunks(100_003) {
                    c.compress(chunk, &mut out).unwrap();
                }
                c.finish(&mut out).unwrap();
                let (dec, used) = decompress(&out, format, 15, None, 0).unwrap();
                assert_eq!((dec.len(), used), (data.len(), out.len()));
                assert_eq!(dec, data);
                if format == Format::Gzip {
                    let mut d = Decompressor::new(format, 15, None);
                    let (_, _) = stream_decode(&mut d, &out, 4096, usize::MAX).unwrap();
                    assert_eq!(d.gzip_header(), &header);
                }
            }
        }
    }

    #[test]
    fn decompress_into_a_caller_buffer() {
        let data = sample(300_000);
        for format in [Format::Raw, Format::Zlib, Format::Gzip] {
            let c = compress(&data, format, 6, 15).unwrap();
            let mut out = vec![0u8; data.len() + 10];
            let (n, used) = decompress_into(&c, format, 15, &mut out).unwrap();
            assert_eq!((&out[..n], used), (data.as_slice(), c.len()));
            let mut small = vec![0u8; data.len() - 1];
            let err = decompress_into(&c, format, 15, &mut small).unwrap_err();
            assert_eq!(
                err,
                InflateError::OutputTooSmall {
                    capacity: data.len() - 1
                }
            );
            let mut exact = vec![0u8; data.len()];
            assert_eq!(
                decompress_into(&c, format, 15, &mut exact).unwrap().0,
                data.len()
            );
            assert_eq!(exact, data);
        }
    }

    #[test]
    fn preset_dictionary_both_ways() {
        let dict = b"the quick brown fox jumps over the lazy dog ".repeat(20);
        let data = b"the lazy dog jumps over the quick brown fox".repeat(3);
        for format in [Format::Raw, Format::Zlib] {
            let mut c =
                Compressor::new(format, 6, 15, Strategy::Default, Some(&dict), None).unwrap();
            let mut out = Vec::new();
            c.compress(&data, Flush::Finish, &mut out).unwrap();
            let (dec, _) = decompress(&out, format, 15, Some(&dict), 0).unwrap();
            assert_eq!(dec, data);
            if format == Format::Zlib {
                let err = decompress(&out, format, 15, None, 0).unwrap_err();
                assert!(matches!(err, InflateError::NeedDictionary { .. }));
                let err = decompress(&out, format, 15, Some(b"other"), 0).unwrap_err();
                assert_eq!(err, InflateError::IncorrectDictionary);
            }
        }
    }

    #[test]
    fn streaming_compressor_matches_one_shot_output_validity() {
        let data = sample(200_000);
        for format in [Format::Raw, Format::Zlib, Format::Gzip] {
            let mut c = Compressor::new(format, 6, 15, Strategy::Default, None, None).unwrap();
            let mut out = Vec::new();
            for (i, chunk) in data.chunks(7777).enumerate() {
                let flush = match i % 5 {
                    1 => Flush::Sync,
                    3 => Flush::Full,
                    _ => Flush::None,
                };
                c.compress(chunk, flush, &mut out).unwrap();
            }
            c.compress(&[], Flush::Finish, &mut out).unwrap();
            assert!(c.is_finished());
            assert_eq!(decompress(&out, format, 15, None, 0).unwrap().0, data);
            assert_eq!(
                c.compress(b"x", Flush::None, &mut out),
                Err(DeflateError::StreamFinished)
            );
        }
    }

    #[test]
    fn compress_bound_holds_for_incompressible_input_and_sink_equals_vec() {
        // Pseudo-random bytes: every level falls back to stored or nearly
        // stored blocks, the worst case the bound is for. The sink path
        // gives the same bytes as the Vec path.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let header = GzipHeader::default();
        let mut hb = Vec::new();
        header.write(&mut hb);
        for n in [0, 1, 100, 16_383, 16_384, 65_535, 65_536, 70_000, 300_000] {
            for level in [0, 1, 4, 6, 9, 10, 12] {
                for format in [Format::Raw, Format::Zlib, Format::Gzip] {
                    let new = || {
                        let h = (format == Format::Gzip).then_some(&header);
                        Compressor::new(format, level, 15, Strategy::Default, None, h).unwrap()
                    };
                    let mut v = Vec::new();
                    new().compress(&data[..n], Flush::Finish, &mut v).unwrap();
                    let mut w = Vec::new();
                    new()
                        .compress_to(&data[..n], Flush::Finish, &mut |b| w.extend_from_slice(b))
                        .unwrap();
                    assert_eq!(v, w, "n {n} level {level} {format:?}");
                    let bound = compress_bound(n, format, hb.len());
                    assert!(
                        v.len() <= bound,
                        "n {n} level {level} {format:?}: {} > {bound}",
                        v.len()
                    );
                }
            }
        }
    }
}
