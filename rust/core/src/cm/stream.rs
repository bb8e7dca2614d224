//! Format version 2 of `SZCM`: the framed layout that lets the compressor
//! and the decompressor run as streams, in constant memory.
//!
//! Version 1 records the original length and CRC-32 before the payload, so
//! the writer must have seen all of the data first, and its match model may
//! point anywhere back into the data, so the reader must keep all of it.
//! Version 2 fixes both:
//!
//! - The arithmetic coder's output is cut into frames at fixed points of
//!   the *original* data, every `2^block_log` bytes (1 MiB as written):
//!   each frame says how many original bytes it closes and how many payload
//!   bytes follow. The payload bytes of all frames, concatenated, are one
//!   continuous coder stream, exactly what version 1 would store (the coder
//!   is never flushed between frames, so framing costs 8 bytes per MiB and
//!   nothing in ratio). A frame holding fewer than `2^block_log` original
//!   bytes is the last; a trailer with the total length and the CRC-32
//!   follows it. Because the cut points depend only on the data, the
//!   stream is the same however the input was split into `compress` calls,
//!   and the one-shot [`compress`] writes it too.
//! - The match model looks back at most `Model::max_dist_for_level` bytes
//!   (the window, `2^(level + 19)` bytes, less 64), so the history is a
//!   ring of the window's size. On data shorter than that (10 MB of
//!   `dickens` at the default level 6, whose window is 32 MiB) every
//!   prediction, and so every payload byte, equals version 1's.
//!
//! Why the frame counts matter to the decoder: the coder can encode
//! thousands of predictable bytes in one payload byte, so a decoder reading
//! zeros past the end of what it has would happily invent bytes that were
//! never coded. It decodes a byte only when the frames read so far declare
//! it, and only with at least [`LOOKAHEAD`] payload bytes in hand (a byte's
//! 8 bits consume at most 32) or once the last frame is complete (then the
//! coder's zero padding is legitimate).
//!
//! Untrusted input: frame counts are bounded by the block size; the running
//! totals must satisfy the same expansion bound as version 1's header
//! (`MAX_EXPANSION` original bytes per payload byte), so no input makes the
//! decoder work or allocate more than a constant times its size; the
//! streaming decoder buffers at most [`PEND_CAP`] payload bytes beyond what
//! it has used; the trailer's length and CRC-32 are checked at the end.
use super::model::{Model, Ring};
use super::simd;
use super::{CmError, MAGIC, MAX_EXPANSION, MAX_LEVEL, MIN_LEVEL};
use crate::checksum;
use crate::parallel::{in_pool, pool_size};
use crate::rangecoder::{split, BinaryDecoder, BinaryEncoder};
use rayon::prelude::*;

/// The version byte of this layout.
pub const VERSION: u8 = 2;
/// The version byte of the segmented layout: version 2 plus a segment size
/// (in blocks) after the block size; every segment is coded with a fresh
/// model and coder, so segments compress and decompress in parallel.
pub const VERSION_SEGMENTED: u8 = 3;
/// Magic, version, level, block size (log2).
pub const HEADER_SIZE: usize = 7;
/// The segmented header: version 2's, then the segment size in blocks
/// (`u32`, at least 1).
pub const HEADER_SIZE_SEGMENTED: usize = 11;
/// Original length in a frame (`u32`) and payload length (`u32`).
pub const FRAME_HEADER: usize = 8;
/// Total original length (`u64`) and CRC-32 (`u32`).
pub const TRAILER_SIZE: usize = 12;
/// Block size written: frames close every 1 MiB of original data.
pub const BLOCK_LOG: u8 = 20;
/// Block sizes a reader accepts (1 KiB to 16 MiB).
pub const MIN_BLOCK_LOG: u8 = 10;
pub const MAX_BLOCK_LOG: u8 = 24;
/// Payload bytes one decoded byte may consume at most (4 per bit).
pub const LOOKAHEAD: usize = 32;
/// Payload bytes the streaming decoder holds beyond what it has used.
pub const PEND_CAP: usize = 1 << 16;

fn put_header(out: &mut Vec<u8>, level: u8, block_log: u8, seg_blocks: Option<u32>) {
    out.extend_from_slice(&MAGIC);
    match seg_blocks {
        None => out.extend_from_slice(&[VERSION, level, block_log]),
        Some(sb) => {
            out.extend_from_slice(&[VERSION_SEGMENTED, level, block_log]);
            out.extend_from_slice(&sb.to_le_bytes());
        }
    }
}

fn put_frame(out: &mut Vec<u8>, orig: usize, payload: &[u8]) {
    out.extend_from_slice(&(orig as u32).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
}

fn put_trailer(out: &mut Vec<u8>, total: u64, crc: u32) {
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The smallest segment (in blocks) the automatic choice makes: 4 MiB, long
/// enough for the model to learn (on `dickens`, 5 MiB segments cost about
/// 3 % of ratio against one stream; 1 MiB ones would cost 8 %).
pub const AUTO_MIN_SEGMENT_BLOCKS: usize = 4;

/// The segment size (in blocks) of the automatic choice for `n` bytes:
/// `None` (one stream, version 2) below two minimum segments (8 MiB);
/// otherwise as many segments of at least [`AUTO_MIN_SEGMENT_BLOCKS`]
/// blocks as fit, as even as whole blocks allow (4 to 6 MiB each), so that
/// even a few of them keep the cores evenly busy. Depends on `n` only, so
/// the output never depends on the thread count.
pub fn auto_segment_blocks(n: usize) -> Option<u32> {
    let block = 1usize << BLOCK_LOG;
    let k = n / (AUTO_MIN_SEGMENT_BLOCKS * block);
    (k >= 2).then(|| u32::try_from(n.div_ceil(block).div_ceil(k)).unwrap_or(u32::MAX))
}

/// Frames of one segment: `(original bytes, payload)` per block.
type Frames = Vec<(usize, Vec<u8>)>;

/// Code one segment with a fresh model and coder, a frame per block. The
/// coder is finished in the segment's last frame: its last full block, or,
/// for the stream's final segment, the frame of fewer than a block's bytes
/// (possibly none) that ends every stream. An unsegmented (version 2)
/// stream is one final segment.
fn encode_segment(seg: &[u8], level: u8, block: usize, final_seg: bool) -> Frames {
    let mut frames = Vec::with_capacity(seg.len() / block + 1);
    let mut enc = BinaryEncoder::with_capacity(block / 2);
    let mut m = (!seg.is_empty()).then(|| Model::with_window(level));
    let mut start = 0;
    loop {
        let end = (start + block).min(seg.len());
        if let Some(m) = m.as_mut() {
            // The model reads only positions before the one it codes.
            simd::run(simd::Encode {
                m,
                enc: &mut enc,
                data: &seg[start..end],
                hist: seg,
            });
        }
        let n = end - start;
        start = end;
        if n == block && (final_seg || end < seg.len()) {
            frames.push((n, enc.take_output()));
        } else {
            frames.push((n, enc.finish()));
            return frames;
        }
    }
}

/// Code `segs` (the last one final when `final_last`) in blocks of
/// `block` bytes, on `threads` threads (1: this one; 0: one per core), in
/// order.
fn encode_segments(
    segs: &[&[u8]],
    level: u8,
    block: usize,
    final_last: bool,
    threads: usize,
) -> Vec<Frames> {
    let last = segs.len().saturating_sub(1);
    let one = |(i, s): (usize, &&[u8])| encode_segment(s, level, block, final_last && i == last);
    if threads == 1 || segs.len() <= 1 {
        return segs.iter().enumerate().map(one).collect();
    }
    in_pool(threads, || {
        segs.par_iter()
            .enumerate()
            .with_max_len(1)
            .map(one)
            .collect()
    })
}

/// `data` cut into segments of `seg` bytes; the final one holds the rest,
/// and is empty when the data ends on a segment boundary.
fn segment_slices(data: &[u8], seg: usize) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = data.chunks(seg).collect();
    if data.len() % seg == 0 {
        v.push(&[]);
    }
    v
}

fn put_frames(out: &mut Vec<u8>, segs: &[Frames]) {
    for &(n, ref payload) in segs.iter().flatten() {
        put_frame(out, n, payload);
    }
}

/// Compress `data` at `level` (already checked): one stream (version 2)
/// when `seg_blocks` is `None`, otherwise segments of `seg_blocks` blocks
/// (version 3), coded on `threads` threads (the output does not depend on
/// them).
pub fn compress(data: &[u8], level: u8, seg_blocks: Option<u32>, threads: usize) -> Vec<u8> {
    compress_blocks(data, level, BLOCK_LOG, seg_blocks, threads)
}

/// [`compress`] with blocks of `2^block_log` bytes (tests use small ones).
pub(crate) fn compress_blocks(
    data: &[u8],
    level: u8,
    block_log: u8,
    seg_blocks: Option<u32>,
    threads: usize,
) -> Vec<u8> {
    let block = 1usize << block_log;
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    put_header(&mut out, level, block_log, seg_blocks);
    let segs = match seg_blocks {
        None => vec![data],
        Some(sb) => segment_slices(data, sb as usize * block),
    };
    put_frames(
        &mut out,
        &encode_segments(&segs, level, block, true, threads),
    );
    put_trailer(&mut out, data.len() as u64, checksum::crc32(0, data));
    out
}

/// Where the pieces of a version 2 or 3 stream lie, after checking its
/// framing.
pub struct Layout {
    pub level: u8,
    pub block_log: u8,
    /// Frames per segment (version 3); `None`: one stream.
    pub seg_blocks: Option<u32>,
    /// `(offset, length)` of each frame's payload in the stream.
    pub payload: Vec<(usize, usize)>,
    pub total: u64,
    pub crc: u32,
}

/// The header size of a version 2 or 3 stream (`version` already checked).
fn header_size(version: u8) -> usize {
    if version == VERSION_SEGMENTED {
        HEADER_SIZE_SEGMENTED
    } else {
        HEADER_SIZE
    }
}

/// Check a whole version 2 or 3 header: (level, block log, segment blocks).
fn check_header(data: &[u8]) -> Result<(u8, u8, Option<u32>), CmError> {
    if data.len() < header_size(data[4]) {
        return Err(CmError::Truncated { len: data.len() });
    }
    let (level, block_log) = (data[5], data[6]);
    if !(MIN_LEVEL..=MAX_LEVEL).contains(&level) {
        return Err(CmError::BadHeaderLevel(level));
    }
    if !(MIN_BLOCK_LOG..=MAX_BLOCK_LOG).contains(&block_log) {
        return Err(CmError::BadBlockSize(block_log));
    }
    let seg_blocks = if data[4] == VERSION_SEGMENTED {
        match le_u32(&data[7..]) {
            0 => return Err(CmError::BadSegmentSize(0)),
            sb => Some(sb),
        }
    } else {
        None
    };
    Ok((level, block_log, seg_blocks))
}

/// Walk the frames of a whole version 2 or 3 stream (magic and version
/// already checked): every count is checked before anything is allocated
/// for it.
pub fn layout(data: &[u8], limit: u64) -> Result<Layout, CmError> {
    let (level, block_log, seg_blocks) = check_header(data)?;
    let block = 1u64 << block_log;
    let mut payload = Vec::new();
    let (mut total, mut coded) = (0u64, 0u64);
    let mut at = header_size(data[4]);
    loop {
        let Some(head) = data.get(at..at + FRAME_HEADER) else {
            return Err(CmError::TruncatedStream {
                at: data.len() as u64,
                what: "a frame header",
            });
        };
        let (orig, plen) = (u64::from(le_u32(head)), le_u32(&head[4..]) as usize);
        let frame = payload.len() as u64;
        if orig > block {
            return Err(CmError::BadFrame { frame, orig, block });
        }
        at += FRAME_HEADER;
        if data.len() - at < plen {
            return Err(CmError::TruncatedStream {
                at: data.len() as u64,
                what: "a frame's payload",
            });
        }
        total += orig;
        coded += plen as u64;
        if total > limit {
            return Err(CmError::OutputTooLarge { size: total, limit });
        }
        if total > (coded + 8) * MAX_EXPANSION {
            return Err(CmError::ImpossibleLength {
                size: total,
                payload: coded as usize,
            });
        }
        payload.push((at, plen));
        at += plen;
        if orig < block {
            break;
        }
    }
    let Some(tr) = data.get(at..at + TRAILER_SIZE) else {
        return Err(CmError::TruncatedStream {
            at: data.len() as u64,
            what: "the trailer",
        });
    };
    let (t, crc) = (le_u64(tr), le_u32(&tr[8..]));
    if t != total {
        return Err(CmError::LengthMismatch {
            frames: total,
            trailer: t,
        });
    }
    at += TRAILER_SIZE;
    if at != data.len() {
        return Err(CmError::TrailingData {
            extra: data.len() - at,
        });
    }
    Ok(Layout {
        level,
        block_log,
        seg_blocks,
        payload,
        total,
        crc,
    })
}

/// Decode one segment (or a whole version 2 stream): `out.len()` bytes
/// from its coder stream `coded`, with a fresh model.
fn decode_segment(level: u8, coded: &[u8], out: &mut [u8]) {
    if out.is_empty() {
        return;
    }
    let mut m = Model::with_window(level);
    let mut dec = BinaryDecoder::new(coded);
    simd::run(simd::Decode {
        m: &mut m,
        dec: &mut dec,
        out,
    });
}

/// A segment to decode: its frames' `(offset, length)` payload spans and
/// its part of the output.
type SegmentJob<'a> = (&'a [(usize, usize)], &'a mut [u8]);

/// Decode a whole version 2 or 3 stream into `out`, whose length must be
/// the layout's total (the caller allocated it from [`layout`]); the
/// segments of a version 3 stream are decoded on `threads` threads (1:
/// this one; 0: one per core).
pub fn decompress_into(
    data: &[u8],
    lay: &Layout,
    out: &mut [u8],
    threads: usize,
) -> Result<(), CmError> {
    if lay.total != out.len() as u64 {
        return Err(CmError::OutputTooLarge {
            size: lay.total,
            limit: out.len() as u64,
        });
    }
    // Segment j is frames j*per.. and output bytes j*per*block.. (every
    // frame but the last holds a whole block, as `layout` checked); a
    // final segment of one empty frame has no output and nothing to do.
    let per = lay
        .seg_blocks
        .map_or(lay.payload.len(), |sb| sb as usize)
        .max(1);
    let seg_bytes = (per as u64)
        .saturating_mul(1 << lay.block_log)
        .min(lay.total.max(1)) as usize;
    let jobs: Vec<SegmentJob> = lay
        .payload
        .chunks(per)
        .zip(out.chunks_mut(seg_bytes))
        .collect();
    let level = lay.level;
    let one = |(frames, dst): SegmentJob| {
        let mut coded = Vec::with_capacity(frames.iter().map(|p| p.1).sum());
        for &(at, len) in frames {
            coded.extend_from_slice(&data[at..at + len]);
        }
        decode_segment(level, &coded, dst);
    };
    if threads == 1 || jobs.len() <= 1 {
        jobs.into_iter().for_each(one);
    } else {
        in_pool(threads, || {
            jobs.into_par_iter().with_max_len(1).for_each(one)
        });
    }
    let actual = checksum::crc32(0, out);
    if actual != lay.crc {
        return Err(CmError::ChecksumMismatch {
            expected: lay.crc,
            actual,
        });
    }
    Ok(())
}

// ------------------------------------------------------------ streaming

/// Streaming compressor, byte-identical to [`compress`]'s output for the
/// same data and segment size however the data is split into calls.
///
/// Unsegmented (version 2): coded as it comes, a frame per completed
/// block; memory is the model of its level, the history window, and the
/// payload of the current block. Segmented (version 3): input is held
/// until `threads` whole segments are in hand (or the stream ends), which
/// are then coded in parallel; memory is that input plus a model per
/// thread.
pub struct CmEncoder {
    level: u8,
    block_log: u8,
    seg_blocks: Option<u32>,
    threads: usize,
    model: Option<Box<Model>>,
    enc: BinaryEncoder,
    ring: Ring,
    in_block: usize,
    /// Segmented: input not coded yet (less than a batch of segments).
    held: Vec<u8>,
    total: u64,
    crc: u32,
    started: bool,
    finished: bool,
}

impl CmEncoder {
    /// A compressor at `level` (checked) writing one stream (version 2);
    /// the model is allocated with the first byte of data.
    pub fn new(level: i64) -> Result<Self, CmError> {
        Self::with_segments(level, None, 1)
    }

    /// A compressor at `level` (checked) cutting the data into segments of
    /// `seg_blocks` blocks (version 3) when given, coded `threads` at a
    /// time (0: one per core).
    pub fn with_segments(
        level: i64,
        seg_blocks: Option<u32>,
        threads: usize,
    ) -> Result<Self, CmError> {
        Self::with_blocks(level, BLOCK_LOG, seg_blocks, threads)
    }

    /// [`with_segments`](Self::with_segments) with blocks of
    /// `2^block_log` bytes (tests use small ones).
    pub(crate) fn with_blocks(
        level: i64,
        block_log: u8,
        seg_blocks: Option<u32>,
        threads: usize,
    ) -> Result<Self, CmError> {
        let level = super::check_level(level)?;
        if seg_blocks == Some(0) {
            return Err(CmError::BadSegmentSize(0));
        }
        Ok(CmEncoder {
            level,
            block_log,
            seg_blocks,
            threads,
            model: None,
            enc: BinaryEncoder::new(),
            ring: Ring::new(Some(Model::window_for_level(level))),
            in_block: 0,
            held: Vec::new(),
            total: 0,
            crc: 0,
            started: false,
            finished: false,
        })
    }

    pub fn level(&self) -> u8 {
        self.level
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            put_header(out, self.level, self.block_log, self.seg_blocks);
            self.started = true;
        }
    }

    /// Compress `data`, appending the output that is ready to `out` (the
    /// header, and the frames completed).
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), CmError> {
        if self.finished {
            return Err(CmError::Finished);
        }
        self.start(out);
        if data.is_empty() {
            return Ok(());
        }
        self.crc = checksum::crc32(self.crc, data);
        self.total += data.len() as u64;
        if let Some(sb) = self.seg_blocks {
            // Whole segments are never the final one (that one holds the
            // rest, possibly nothing), so a batch can be coded now.
            let block = 1usize << self.block_log;
            let seg = sb as usize * block;
            let batch = seg.saturating_mul(pool_size(self.threads));
            self.held.extend_from_slice(data);
            while self.held.len() >= batch {
                let segs: Vec<&[u8]> = self.held[..batch].chunks(seg).collect();
                let frames = encode_segments(&segs, self.level, block, false, self.threads);
                put_frames(out, &frames);
                self.held.drain(..batch);
            }
            return Ok(());
        }
        let level = self.level;
        let m = self
            .model
            .get_or_insert_with(|| Box::new(Model::with_window(level)));
        let block = 1usize << self.block_log;
        let mut rest = data;
        while !rest.is_empty() {
            let n = rest.len().min(block - self.in_block);
            simd::run(simd::EncodeRing {
                m,
                enc: &mut self.enc,
                data: &rest[..n],
                ring: &mut self.ring,
            });
            rest = &rest[n..];
            self.in_block += n;
            if self.in_block == block {
                put_frame(out, block, &self.enc.take_output());
                self.in_block = 0;
            }
        }
        Ok(())
    }

    /// End the stream: the last frames and the trailer.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CmError> {
        if self.finished {
            return Err(CmError::Finished);
        }
        self.start(out);
        if let Some(sb) = self.seg_blocks {
            let held = std::mem::take(&mut self.held);
            let block = 1usize << self.block_log;
            let segs = segment_slices(&held, sb as usize * block);
            let frames = encode_segments(&segs, self.level, block, true, self.threads);
            put_frames(out, &frames);
        } else {
            let last = std::mem::take(&mut self.enc).finish();
            put_frame(out, self.in_block, &last);
        }
        put_trailer(out, self.total, self.crc);
        self.finished = true;
        self.model = None;
        self.ring = Ring::new(Some(1));
        Ok(())
    }

    /// Memory held: model, history, pending payload, held input.
    pub fn size_bytes(&self) -> usize {
        self.model.as_ref().map_or(0, |m| m.size_bytes())
            + self.ring.size_bytes()
            + self.enc.len()
            + self.held.capacity()
    }
}

/// What the streaming decoder expects next in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The magic and version byte, then the rest of the header.
    Header,
    /// Version 1: everything after the header is payload.
    V1Payload,
    FrameHead,
    /// Payload bytes of the current frame still to come.
    Payload(u64),
    Trailer,
    /// Version 3: a segment's frames are all read; its data is decoded
    /// before the next segment's input is taken (a fresh model and coder).
    SegmentEnd,
    /// The stream's bytes are all read; anything after is not ours.
    Done,
}

/// Largest segment the streaming decoder gathers whole to decode segments
/// in parallel; a stream with bigger ones is decoded sequentially.
pub const PAR_MAX_SEGMENT: u64 = 16 << 20;

/// Most payload bytes a segment of `n` original bytes can need: the model
/// gives every bit a probability of at least 1/4096, so a bit costs at
/// most 12 bits (and a hair of rounding), a byte at most 12 bytes; plus
/// the coder's final bytes.
fn max_payload(n: u64) -> u64 {
    n.saturating_mul(13).saturating_add(16)
}

/// The parallel streaming decoder's gathered segments (version 3, more
/// than one thread): whole segments' payloads, then their decoded bytes.
#[derive(Default)]
struct Batch {
    threads: usize,
    /// Payloads of the gathered segments, back to back.
    payload: Vec<u8>,
    /// Per complete segment: (end of its payload, original bytes).
    segs: Vec<(usize, u64)>,
    /// Original bytes declared so far for the segment being gathered.
    cur: u64,
    /// Decoded bytes not handed out yet, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
}

impl Batch {
    /// The segment being gathered is complete.
    fn close_segment(&mut self) {
        self.segs.push((self.payload.len(), self.cur));
        self.cur = 0;
    }

    fn pending_out(&self) -> usize {
        self.out.len() - self.out_at
    }

    /// Decode the gathered segments, in parallel, into `out`.
    fn decode(&mut self, level: u8) {
        let total: u64 = self.segs.iter().map(|s| s.1).sum();
        let mut out = vec![0u8; total as usize];
        let mut jobs: Vec<(&[u8], &mut [u8])> = Vec::with_capacity(self.segs.len());
        let (mut start, mut rest) = (0usize, &mut out[..]);
        for &(end, n) in &self.segs {
            let (dst, tail) = rest.split_at_mut(n as usize);
            jobs.push((&self.payload[start..end], dst));
            (start, rest) = (end, tail);
        }
        let one = |(coded, dst): (&[u8], &mut [u8])| decode_segment(level, coded, dst);
        in_pool(self.threads, || {
            jobs.into_par_iter().with_max_len(1).for_each(one);
        });
        self.payload.clear();
        self.segs.clear();
        self.out = out;
        self.out_at = 0;
    }
}

/// Streaming decompressor of one `SZCM` stream (version 1, 2 or 3). The
/// segments of version 3 are decoded one after another in constant
/// memory, or with [`with_threads`](Self::with_threads) gathered
/// `threads` at a time and decoded in parallel.
///
/// [`decompress`](Self::decompress) takes input as it comes and appends
/// output up to a limit; it reads input only as far as it needs (at most
/// [`PEND_CAP`] payload bytes ahead), so input it did not take is left to
/// the caller. Version 2 streams end on their own (the trailer), after
/// which input is left unread; version 1 streams record no payload length,
/// so their last bytes come out of [`finish`](Self::finish), and their
/// match model may reach back to the start, so their whole output is kept
/// as history (memory grows with the output; version 2 is constant).
pub struct CmDecoder {
    phase: Phase,
    acc: Vec<u8>,
    version: u8,
    level: u8,
    block: u64,
    /// Frames per segment (`u64::MAX`: one stream).
    seg_blocks: u64,
    model: Option<Box<Model>>,
    ring: Ring,
    x1: u32,
    x2: u32,
    x: u32,
    primed: bool,
    pend: Vec<u8>,
    rd: usize,
    /// No more payload will come: past the end, the coder reads zeros.
    complete: bool,
    /// Original bytes the stream has declared so far.
    declared: u64,
    coded: u64,
    frames: u64,
    /// The frame being read holds fewer than a block: it is the last.
    last: bool,
    produced: u64,
    crc: u32,
    expect: Option<(u64, u32)>,
    eof: bool,
    failed: Option<CmError>,
    /// Input bytes consumed so far (for error positions).
    offset: u64,
    /// Threads for the segments of version 3 streams (1: sequential).
    threads: usize,
    /// Parallel mode, once a version 3 header allows it.
    par: Option<Batch>,
}

impl Default for CmDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl CmDecoder {
    pub fn new() -> Self {
        Self::with_threads(1)
    }

    /// A decoder that decodes the segments of a version 3 stream on
    /// `threads` threads (0: one per core; 1: one after another), each
    /// with its own model. It then holds up to `threads` segments of
    /// payload and of output (segments of at most [`PAR_MAX_SEGMENT`]
    /// bytes; bigger ones are decoded sequentially).
    pub fn with_threads(threads: usize) -> Self {
        CmDecoder {
            phase: Phase::Header,
            acc: Vec::with_capacity(18),
            version: 0,
            level: 0,
            block: 0,
            seg_blocks: u64::MAX,
            model: None,
            ring: Ring::new(Some(1)),
            x1: 0,
            x2: u32::MAX,
            x: 0,
            primed: false,
            pend: Vec::new(),
            rd: 0,
            complete: false,
            declared: 0,
            coded: 0,
            frames: 0,
            last: false,
            produced: 0,
            crc: 0,
            expect: None,
            eof: false,
            failed: None,
            offset: 0,
            threads,
            par: None,
        }
    }

    /// True once the whole stream has been decoded and verified.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Format version of the stream, once its header is read.
    pub fn version(&self) -> Option<u8> {
        (self.version != 0).then_some(self.version)
    }

    /// Level of the stream, once its header is read.
    pub fn level(&self) -> Option<u8> {
        (self.level != 0).then_some(self.level)
    }

    /// True when output can be produced without more input (a call
    /// stopped at its output limit).
    pub fn has_pending_output(&self) -> bool {
        !self.eof
            && self.failed.is_none()
            && match &self.par {
                Some(b) => b.pending_out() > 0 || self.batch_ready(b),
                None => self.can_decode(),
            }
    }

    /// Parallel mode: the gathered segments may be decoded now (the batch
    /// is full, or the stream's frames are all read).
    fn batch_ready(&self, b: &Batch) -> bool {
        !b.segs.is_empty() && (self.phase == Phase::SegmentEnd || self.complete)
    }

    fn unread(&self) -> usize {
        self.pend.len().saturating_sub(self.rd)
    }

    fn can_decode(&self) -> bool {
        self.model.is_some()
            && self.produced < self.declared
            && (self.complete || self.unread() >= LOOKAHEAD)
    }

    /// Decode from `input`, appending at most `limit` bytes to `out`;
    /// returns how many input bytes were consumed. Input after that was
    /// not needed (the output limit was reached, or the stream ended).
    pub fn decompress(
        &mut self,
        input: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, CmError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.run(input, out.len().saturating_add(limit), out);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// The input has ended: decode what is left (version 1 streams end
    /// here) and check that the stream was complete.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CmError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.end(out);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), CmError> {
        if self.eof {
            return Ok(());
        }
        if self.phase == Phase::V1Payload {
            if self.declared > (self.coded + 8) * MAX_EXPANSION {
                return Err(CmError::ImpossibleLength {
                    size: self.declared,
                    payload: self.coded as usize,
                });
            }
            self.complete = true;
            self.decode(out, usize::MAX)?;
        }
        if self.eof {
            return Ok(());
        }
        let what = match self.phase {
            Phase::Header => "in the header",
            Phase::FrameHead => "in a frame header",
            Phase::Payload(_) | Phase::V1Payload => "in a frame's payload",
            Phase::Trailer => "in the trailer",
            Phase::SegmentEnd => "inside a segment",
            Phase::Done => "before its data was complete",
        };
        Err(CmError::TruncatedStream {
            at: self.offset,
            what,
        })
    }

    fn run(&mut self, input: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<usize, CmError> {
        let mut used = 0;
        loop {
            self.decode(out, limit)?;
            if self.eof || out.len() >= limit {
                return Ok(used);
            }
            let n = self.pull(&input[used..])?;
            used += n;
            self.offset += n as u64;
            if n == 0 {
                if used < input.len() && self.phase != Phase::Done {
                    // Holding PEND_CAP payload bytes and still unable to
                    // decode: the frames declare too little data for them.
                    return Err(CmError::PayloadOverrun { at: self.offset });
                }
                return Ok(used);
            }
        }
    }

    /// Take framing and payload bytes from `input`; returns how many.
    fn pull(&mut self, input: &[u8]) -> Result<usize, CmError> {
        if !self.complete && self.rd > 0 {
            let k = self.rd.min(self.pend.len());
            self.pend.drain(..k);
            self.rd = 0;
        }
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            match self.phase {
                Phase::Header => {
                    let need = match self.acc.len() {
                        n if n < 5 => 5,
                        _ if self.acc[4] == 1 => super::HEADER_SIZE,
                        _ => header_size(self.acc[4]),
                    };
                    used += self.fill(rest, need);
                    let n = self.acc.len().min(4);
                    if self.acc[..n] != MAGIC[..n] {
                        return Err(CmError::NotCm);
                    }
                    if self.acc.len() == 5
                        && !matches!(self.acc[4], 1 | VERSION | VERSION_SEGMENTED)
                    {
                        return Err(CmError::UnsupportedVersion(self.acc[4]));
                    }
                    if self.acc.len() == need && need > 5 {
                        self.start()?;
                    }
                }
                Phase::FrameHead => {
                    used += self.fill(rest, FRAME_HEADER);
                    if self.acc.len() == FRAME_HEADER {
                        self.frame_head()?;
                    }
                }
                Phase::Trailer => {
                    used += self.fill(rest, TRAILER_SIZE);
                    if self.acc.len() == TRAILER_SIZE {
                        let (t, crc) = (le_u64(&self.acc), le_u32(&self.acc[8..]));
                        if t != self.declared {
                            return Err(CmError::LengthMismatch {
                                frames: self.declared,
                                trailer: t,
                            });
                        }
                        self.expect = Some((t, crc));
                        self.acc.clear();
                        self.phase = Phase::Done;
                    }
                }
                Phase::Payload(left) => {
                    // Sequential: at most PEND_CAP bytes ahead of decoding.
                    // Parallel: whole segments (bounded in `frame_head`).
                    let room = match self.par {
                        Some(_) => usize::MAX,
                        None => PEND_CAP.saturating_sub(self.unread()),
                    };
                    let n = (left.min(rest.len() as u64) as usize).min(room);
                    if n == 0 && left > 0 {
                        break;
                    }
                    match self.par.as_mut() {
                        Some(b) => b.payload.extend_from_slice(&rest[..n]),
                        None => self.pend.extend_from_slice(&rest[..n]),
                    }
                    used += n;
                    if left == n as u64 {
                        self.end_of_frame();
                    } else {
                        self.phase = Phase::Payload(left - n as u64);
                    }
                }
                Phase::V1Payload => {
                    let n = rest.len().min(PEND_CAP.saturating_sub(self.unread()));
                    if n == 0 {
                        break;
                    }
                    self.pend.extend_from_slice(&rest[..n]);
                    self.coded += n as u64;
                    used += n;
                }
                Phase::SegmentEnd | Phase::Done => break,
            }
        }
        Ok(used)
    }

    /// Move up to `need - acc.len()` bytes of `rest` into `acc`.
    fn fill(&mut self, rest: &[u8], need: usize) -> usize {
        let n = need.saturating_sub(self.acc.len()).min(rest.len());
        self.acc.extend_from_slice(&rest[..n]);
        n
    }

    /// The header is complete: check it and set up the model.
    fn start(&mut self) -> Result<(), CmError> {
        let h = std::mem::take(&mut self.acc);
        self.version = h[4];
        if self.version == 1 {
            let (level, size, crc) = super::read_header(&h)?;
            self.level = level;
            self.declared = size;
            self.expect = Some((size, crc));
            if size == 0 {
                self.phase = Phase::Done;
                self.complete = true;
            } else {
                self.model = Some(Box::new(Model::new(level)));
                self.ring = Ring::new(None);
                self.phase = Phase::V1Payload;
            }
        } else {
            let (level, block_log, seg_blocks) = check_header(&h)?;
            self.level = level;
            self.block = 1 << block_log;
            self.seg_blocks = seg_blocks.map_or(u64::MAX, u64::from);
            let seg_bytes = self.seg_blocks.saturating_mul(self.block);
            if seg_blocks.is_some() && self.threads != 1 && seg_bytes <= PAR_MAX_SEGMENT {
                self.par = Some(Batch {
                    threads: pool_size(self.threads),
                    ..Batch::default()
                });
            }
            self.phase = Phase::FrameHead;
        }
        Ok(())
    }

    fn frame_head(&mut self) -> Result<(), CmError> {
        let (orig, plen) = (
            u64::from(le_u32(&self.acc)),
            u64::from(le_u32(&self.acc[4..])),
        );
        self.acc.clear();
        if orig > self.block {
            return Err(CmError::BadFrame {
                frame: self.frames,
                orig,
                block: self.block,
            });
        }
        self.frames += 1;
        self.declared += orig;
        self.coded += plen;
        if self.declared > (self.coded + 8) * MAX_EXPANSION {
            return Err(CmError::ImpossibleLength {
                size: self.declared,
                payload: self.coded as usize,
            });
        }
        if let Some(b) = self.par.as_mut() {
            b.cur += orig;
            let held = b.payload.len() - b.segs.last().map_or(0, |s| s.0);
            if held as u64 + plen > max_payload(b.cur) {
                return Err(CmError::PayloadOverrun { at: self.offset });
            }
        } else if orig > 0 && self.model.is_none() {
            self.model = Some(Box::new(Model::with_window(self.level)));
            self.ring = Ring::new(Some(Model::window_for_level(self.level)));
        }
        self.last = orig < self.block;
        if plen == 0 {
            self.end_of_frame();
        } else {
            self.phase = Phase::Payload(plen);
        }
        Ok(())
    }

    fn end_of_frame(&mut self) {
        if let Some(b) = self.par.as_mut() {
            let seg_end = self.frames % self.seg_blocks == 0;
            if self.last || seg_end {
                b.close_segment();
            }
            self.phase = if self.last {
                self.complete = true;
                Phase::Trailer
            } else if seg_end && b.segs.len() >= b.threads {
                // A batch: decoded before more input is taken.
                Phase::SegmentEnd
            } else {
                Phase::FrameHead
            };
            return;
        }
        if self.last {
            self.complete = true;
            self.phase = Phase::Trailer;
        } else if self.frames % self.seg_blocks == 0 {
            // The segment's payload is all here: past it, its coder reads
            // zeros, as at the end of a stream.
            self.complete = true;
            self.phase = Phase::SegmentEnd;
        } else {
            self.phase = Phase::FrameHead;
        }
    }

    /// A segment is decoded: the next one starts from scratch.
    fn next_segment(&mut self) {
        self.model = None;
        self.ring = Ring::new(Some(1));
        (self.x1, self.x2, self.x) = (0, u32::MAX, 0);
        self.primed = false;
        self.pend.clear();
        self.rd = 0;
        self.complete = false;
        self.phase = Phase::FrameHead;
    }

    #[inline(always)]
    fn next_byte(&mut self) -> u8 {
        let b = self.pend.get(self.rd).copied().unwrap_or(0);
        self.rd += 1;
        b
    }

    /// Decode while the declared data and the payload in hand allow, up
    /// to `limit` bytes in `out`; then, at the end, verify.
    fn decode(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), CmError> {
        let start = out.len();
        if self.par.is_some() {
            self.decode_batches(out, limit);
        }
        if self.model.is_some() && !self.primed && (self.complete || self.unread() >= LOOKAHEAD) {
            for _ in 0..4 {
                self.x = (self.x << 8) | u32::from(self.next_byte());
            }
            self.primed = true;
        }
        if self.primed {
            simd::run(DecodeLoop {
                d: self,
                out,
                limit,
            });
        }
        self.crc = checksum::crc32(self.crc, &out[start..]);
        // Version 1 streams end at their recorded length; version 2 ones
        // once the trailer is read (`expect`) and the payload complete.
        if self.produced == self.declared && (self.complete || self.version == 1) {
            if let Some((total, expected)) = self.expect {
                if total != self.produced || expected != self.crc {
                    return Err(CmError::ChecksumMismatch {
                        expected,
                        actual: self.crc,
                    });
                }
                self.eof = true;
                self.model = None;
                self.par = None;
                self.ring = Ring::new(Some(1));
            } else if self.phase == Phase::SegmentEnd && self.par.is_none() {
                self.next_segment();
            }
        }
        Ok(())
    }

    /// Parallel mode: hand out decoded bytes up to `limit`, decoding the
    /// gathered segments when they are all handed out and a batch is ready.
    fn decode_batches(&mut self, out: &mut Vec<u8>, limit: usize) {
        let ready = self.par.as_ref().is_some_and(|b| self.batch_ready(b));
        let Some(b) = self.par.as_mut() else {
            return;
        };
        loop {
            let n = b.pending_out().min(limit.saturating_sub(out.len()));
            out.extend_from_slice(&b.out[b.out_at..b.out_at + n]);
            b.out_at += n;
            self.produced += n as u64;
            if b.pending_out() > 0 || !ready || b.segs.is_empty() {
                break;
            }
            b.decode(self.level);
            if self.phase == Phase::SegmentEnd {
                self.phase = Phase::FrameHead;
            }
        }
    }

    /// The decoding loop proper (run through [`DecodeLoop`]).
    #[inline(always)]
    fn decode_loop(&mut self, out: &mut Vec<u8>, limit: usize) {
        while self.can_decode() && out.len() < limit {
            let mut m = self.model.take().expect("checked by can_decode");
            let mut c = 0u32;
            for k in 0..8 {
                // The coder of `rangecoder::BinaryDecoder`, fed from `pend`.
                let xmid = split(self.x1, self.x2, m.p());
                let bit = self.x <= xmid;
                if bit {
                    self.x2 = xmid;
                } else {
                    self.x1 = xmid + 1;
                }
                while (self.x1 ^ self.x2) & 0xff00_0000 == 0 {
                    self.x1 <<= 8;
                    self.x2 = (self.x2 << 8) | 0xff;
                    self.x = (self.x << 8) | u32::from(self.next_byte());
                }
                c = (c << 1) | u32::from(bit);
                if k == 7 {
                    self.ring.push(c as u8);
                }
                m.update(bit, &self.ring);
            }
            self.model = Some(m);
            out.push(c as u8);
            self.produced += 1;
        }
    }
}

/// [`CmDecoder::decode_loop`] as a kernel, compiled into both builds.
struct DecodeLoop<'a> {
    d: &'a mut CmDecoder,
    out: &'a mut Vec<u8>,
    limit: usize,
}

impl simd::Kernel for DecodeLoop<'_> {
    type Out = ();
    #[inline(always)]
    fn go(self) {
        self.d.decode_loop(self.out, self.limit);
    }
}
