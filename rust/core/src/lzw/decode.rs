//! The `.Z` decoder: a resumable LZW table decoder.
//!
//! The dictionary is three parallel arrays indexed by code: `prefix` and
//! `suffix` (the classic representation: entry = string(prefix) + suffix)
//! and `meta`, the string's length and either its bytes (strings of up to
//! `INLINE` = 6 bytes) or the absolute output position of its latest
//! occurrence. Every entry is "the previous string plus the first byte of
//! the current one", both just written, so every entry is a substring of
//! the output. So a code is one 8-byte store (short strings, no load from
//! the output at all) or one copy from recent output (one 16-byte move for
//! strings up to 16 bytes) when that output is in the buffer this call is
//! filling (always, in one-shot decoding); otherwise the decoder walks the
//! prefix chain backwards, exactly `len` steps, which is how `compress`
//! itself decodes.
//!
//! Output goes to an [`LzwSink`]: a `Vec<u8>`, or through [`BufferSink`] a
//! buffer its owner grows (the Python bindings decode one-shot input
//! straight into the `bytes` object they return, with no copy).
//!
//! Two loops share this state: [`LzwDecoder::fast`] decodes runs of codes
//! with everything in registers and one branch-free 64-bit refill per code
//! while the input has 8 bytes left and the output has room for the longest
//! string; it hands every other case (width changes, CLEAR, corrupt codes,
//! strings to walk or to split at `max_out`, the last bytes of the input)
//! to the general loop, code by code.
//!
//! State between calls (so input may be split anywhere and output limited
//! per call): the header bytes seen so far, the bit buffer (fewer than 64
//! bits, never any bit beyond `bitcnt`), the width state (`n_bits`,
//! `maxcode`, codes read in the current run and padding bits still to
//! skip), the previous code with its length and position, and the tail of a
//! string that did not fit in the caller's `max_out`.
//!
//! Width rule, shared by every `compress` decoder: before reading a code, if
//! `free > maxcode`, skip to the end of the current group of 8 codes and
//! widen; `maxcode` is `2^n_bits - 1`, except `2^max_bits` once `n_bits`
//! reaches `max_bits`. CLEAR (block mode) resets `free` to 256 (the decoder
//! keeps its previous code, so the next code fills the never-used entry
//! 256), skips to the end of the group and goes back to 9 bits.
//!
//! Corrupt input: a first code that is not a literal, or a code beyond the
//! next free entry, is an error (the reference decoders stop there too); a
//! code equal to the next free entry is the KwKwK case, except when the
//! dictionary is full, where no such entry can exist and it is an error.

use crate::inflate::OutputBuffer;
use crate::mem::prefetch;

use super::{
    LzwError, Progress, BLOCK_MODE, CLEAR, FIRST, INIT_BITS, MAGIC, MAX_BITS_MASK, MAX_MAX_BITS,
    MIN_MAX_BITS,
};

const NONE: u32 = u32::MAX;
const LEN_BITS: u32 = 16;
const LEN_MASK: u64 = (1 << LEN_BITS) - 1;
/// Positions up to 16 TiB fit beside a length in one `u64`.
const MAX_POS: u64 = 1 << (64 - LEN_BITS);
/// Strings up to this long keep their bytes in `meta` instead of a
/// position: no load from the output to copy them.
const INLINE: u32 = 6;
/// Bytes of slack kept initialised after the output so short strings are copied
/// as one fixed 16-byte move.
const SLACK: usize = 16;
/// Entries in each dictionary table (`2^MAX_MAX_BITS`).
const TABLE: usize = 1 << MAX_MAX_BITS;
/// Room the fast loop keeps ahead of its output position: the longest
/// string (at most `TABLE - 256 + 1` bytes) plus the 16-byte copy.
const FAST_ROOM: usize = TABLE + SLACK;

/// Streaming `.Z` decoder.
#[derive(Clone)]
pub struct LzwDecoder {
    header: [u8; 3],
    header_len: usize,
    max_bits: u32,
    block_mode: bool,
    maxmax: u32,

    n_bits: u32,
    maxcode: u32,
    free: u32,
    codes_in_run: u32,
    /// Padding bits still to skip before the next code.
    skip: u32,
    /// Bits skipped as padding since the last code (for `finish`).
    skipped: u32,
    /// The last code read was CLEAR.
    after_clear: bool,

    /// Previous code (`NONE` at the start), its string's length and the
    /// absolute output position where that string starts.
    old: u32,
    old_len: u32,
    last_pos: u64,

    bitbuf: u64,
    bitcnt: u32,
    /// Bytes of the stream consumed so far (header included).
    in_pos: u64,
    /// Absolute output position after the last decoded string (including a
    /// pending tail not delivered yet).
    out_pos: u64,

    prefix: Vec<u16>,
    suffix: Vec<u8>,
    /// Per entry: `x << LEN_BITS | len`, where `x` is the string's bytes
    /// (little-endian) when `len <= INLINE`, else the absolute output
    /// position of its latest occurrence.
    meta: Vec<u64>,
    /// Output went past `MAX_POS`: positions no longer fit in `meta`, every
    /// string is made by walking its chain.
    walk_only: bool,

    pending: Vec<u8>,
    pending_at: usize,
    /// The last call stopped at `max_out` (more output may be ready).
    blocked: bool,

    error: Option<LzwError>,
}

impl Default for LzwDecoder {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    NeedInput,
    OutputFull,
}

impl LzwDecoder {
    /// A decoder for one `.Z` stream; `max_bits` and block mode come from the
    /// stream's header. Allocates nothing until the header is read.
    pub fn new() -> Self {
        LzwDecoder {
            header: [0; 3],
            header_len: 0,
            max_bits: 0,
            block_mode: false,
            maxmax: 0,
            n_bits: INIT_BITS,
            maxcode: (1 << INIT_BITS) - 1,
            free: FIRST,
            codes_in_run: 0,
            skip: 0,
            skipped: 0,
            after_clear: false,
            old: NONE,
            old_len: 0,
            last_pos: 0,
            bitbuf: 0,
            bitcnt: 0,
            in_pos: 0,
            out_pos: 0,
            prefix: Vec::new(),
            suffix: Vec::new(),
            meta: Vec::new(),
            walk_only: false,
            pending: Vec::new(),
            pending_at: 0,
            blocked: false,
            error: None,
        }
    }

    /// `max_bits` from the header (`None` until the header is complete).
    pub fn max_bits(&self) -> Option<u32> {
        (self.header_len == 3).then_some(self.max_bits)
    }

    /// Block mode flag from the header (`None` until it is complete).
    pub fn block_mode(&self) -> Option<bool> {
        (self.header_len == 3).then_some(self.block_mode)
    }

    /// True when the last call stopped at its `max_out`: more output may be
    /// ready without more input. Call `decode` again (with the unconsumed
    /// input, or none) to get it.
    pub fn has_pending_output(&self) -> bool {
        self.blocked
    }

    fn has_pending_tail(&self) -> bool {
        self.pending_at < self.pending.len()
    }

    /// Decode from `input`, appending at most `max_out` bytes to `out`.
    ///
    /// Returns how much input was consumed (all of it, unless `max_out` was
    /// reached) and how much output was produced. The stream has no end
    /// marker: when the input is over, call [`finish`](Self::finish). After
    /// an error, every call returns the same error.
    pub fn decode<O: LzwSink + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut O,
        max_out: usize,
    ) -> Result<Progress, LzwError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let start = out.len();
        let r = self.decode_inner(input, out, start.saturating_add(max_out));
        match r {
            Ok((consumed, stop)) => {
                self.blocked = stop == Stop::OutputFull;
                Ok(Progress {
                    consumed,
                    produced: out.len() - start,
                    output_full: self.blocked,
                })
            }
            Err(e) => {
                self.error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Check that the stream ended where a `compress` writer could have
    /// ended it. Call once the whole input went through `decode` and the
    /// output was drained ([`LzwError::OutputPending`] otherwise). Reports an empty or cut header, a
    /// stream that ends inside a code or right after CLEAR; a stream cut
    /// exactly between two codes cannot be detected (the format has no end
    /// marker or length).
    pub fn finish(&self) -> Result<(), LzwError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.blocked {
            return Err(LzwError::OutputPending);
        }
        if self.header_len < 3 {
            return Err(LzwError::TruncatedHeader {
                len: self.header_len,
            });
        }
        let offset = self.in_pos - u64::from(self.bitcnt / 8);
        if self.after_clear {
            return Err(LzwError::EndsAfterClear { offset });
        }
        let trailing = u64::from(self.bitcnt) + u64::from(self.skipped);
        if trailing >= 8 {
            return Err(LzwError::Truncated {
                offset: self.in_pos - trailing / 8,
                trailing_bits: trailing,
            });
        }
        Ok(())
    }

    fn read_header(&mut self, input: &[u8], inp: &mut usize) -> Result<bool, LzwError> {
        while self.header_len < 3 {
            let Some(&b) = input.get(*inp) else {
                return Ok(false);
            };
            self.header[self.header_len] = b;
            self.header_len += 1;
            *inp += 1;
            self.in_pos += 1;
            if self.header_len == 2 && self.header[..2] != MAGIC {
                return Err(LzwError::BadMagic {
                    found: [self.header[0], self.header[1]],
                });
            }
        }
        let flags = self.header[2];
        let max_bits = flags & MAX_BITS_MASK;
        if !(MIN_MAX_BITS..=MAX_MAX_BITS).contains(&u32::from(max_bits)) {
            return Err(LzwError::UnsupportedMaxBits { max_bits });
        }
        // Bits 0x60 are unassigned; compress and ncompress ignore them (gzip
        // warns), and so do we.
        self.max_bits = u32::from(max_bits);
        self.block_mode = flags & BLOCK_MODE != 0;
        self.maxmax = 1 << self.max_bits;
        self.free = if self.block_mode { FIRST } else { CLEAR };
        // Full size whatever `max_bits` (entries above it are never used):
        // fixed-size tables let the fast loop index without bounds checks.
        self.prefix = vec![0; TABLE];
        self.suffix = (0..TABLE).map(|i| i as u8).collect();
        self.meta = vec![0; TABLE];
        Ok(true)
    }

    /// Returns bytes of `input` consumed; stops when the input is exhausted
    /// or `out.len()` reaches `limit`.
    fn decode_inner<O: LzwSink + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut O,
        limit: usize,
    ) -> Result<(usize, Stop), LzwError> {
        let mut inp = 0;
        if self.header_len < 3 && !self.read_header(input, &mut inp)? {
            return Ok((inp, Stop::NeedInput));
        }
        // Absolute output position of `out[start]`.
        let start = out.len();
        let base_abs = self.out_pos - (self.pending.len() - self.pending_at) as u64;

        if self.has_pending_tail() {
            let room = limit - out.len();
            let take = room.min(self.pending.len() - self.pending_at);
            let at = out.len();
            out.grow(at + take, at + take)?;
            out.truncate(at + take);
            out.as_mut_slice()[at..at + take]
                .copy_from_slice(&self.pending[self.pending_at..self.pending_at + take]);
            self.pending_at += take;
            if self.has_pending_tail() {
                return Ok((inp, Stop::OutputFull));
            }
        }

        let stop = self.run(input, &mut inp, out, start, base_abs, limit)?;
        Ok((inp, stop))
    }

    #[inline(always)]
    fn refill(&mut self, input: &[u8], inp: &mut usize) {
        if let Some(chunk) = input.get(*inp..*inp + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let k = (63 - self.bitcnt) / 8;
            self.bitbuf |= u64::from_le_bytes(w) << self.bitcnt;
            *inp += k as usize;
            self.bitcnt += 8 * k;
            // Keep no bits beyond `bitcnt` (they belong to bytes not consumed).
            self.bitbuf &= (1u64 << self.bitcnt) - 1;
        } else {
            while self.bitcnt <= 56 && *inp < input.len() {
                self.bitbuf |= u64::from(input[*inp]) << self.bitcnt;
                *inp += 1;
                self.bitcnt += 8;
            }
        }
    }

    /// The main loop: one iteration per code. Output is written at `op`
    /// into `out`, which is kept initialised at least `SLACK` bytes beyond
    /// the string being written (so short copies are one 16-byte move) and
    /// truncated to `op` on the way out.
    fn run<O: LzwSink + ?Sized>(
        &mut self,
        input: &[u8],
        inp: &mut usize,
        out: &mut O,
        start: usize,
        base_abs: u64,
        limit: usize,
    ) -> Result<Stop, LzwError> {
        let in_base = self.in_pos - *inp as u64;
        let mut op = out.len();
        let grow_to = limit.saturating_add(SLACK);
        let result = loop {
            if op >= limit {
                break Ok(Stop::OutputFull);
            }
            if self.free > self.maxcode {
                self.start_new_run();
                self.n_bits += 1;
                self.maxcode = if self.n_bits == self.max_bits {
                    self.maxmax
                } else {
                    (1 << self.n_bits) - 1
                };
            }
            if self.skip > 0 && !self.skip_padding(input, inp) {
                break Ok(Stop::NeedInput);
            }
            if self.old != NONE
                && !self.walk_only
                && self.fast(input, inp, out, &mut op, start, base_abs, limit, grow_to)
            {
                continue;
            }
            let n = self.n_bits;
            if self.bitcnt < n {
                self.refill(input, inp);
                if self.bitcnt < n {
                    break Ok(Stop::NeedInput);
                }
            }
            let code = (self.bitbuf & ((1 << n) - 1)) as u32;
            self.bitbuf >>= n;
            self.bitcnt -= n;
            self.codes_in_run += 1;
            self.skipped = 0;
            let cur_abs = base_abs + (op - start) as u64;

            if code < 256 {
                // Literal (also the first code of the stream).
                if op + SLACK > out.len() {
                    if let Err(e) = out.grow(op + SLACK, grow_to) {
                        break Err(e);
                    }
                }
                out.as_mut_slice()[op] = code as u8;
                op += 1;
                if self.old != NONE && self.free < self.maxmax {
                    let f = self.free as usize;
                    self.prefix[f] = self.old as u16;
                    self.suffix[f] = code as u8;
                    self.meta[f] = self.entry_meta(f, self.last_pos, self.old_len + 1);
                    self.free += 1;
                }
                self.old = code;
                self.old_len = 1;
                self.last_pos = cur_abs;
                self.out_pos = cur_abs + 1;
                self.after_clear = false;
                if self.out_pos >= MAX_POS {
                    self.walk_only = true;
                }
                continue;
            }
            if self.old == NONE {
                break Err(LzwError::FirstCodeNotLiteral {
                    code,
                    offset: self.code_offset(in_base, *inp, n),
                });
            }
            if code == CLEAR && self.block_mode {
                self.free = CLEAR;
                self.start_new_run();
                self.n_bits = INIT_BITS;
                self.maxcode = (1 << INIT_BITS) - 1;
                self.after_clear = true;
                continue;
            }
            self.after_clear = false;
            let free = self.free;
            if code > free || (code == free && free == self.maxmax) {
                break Err(LzwError::InvalidCode {
                    code,
                    next_free: free,
                    offset: self.code_offset(in_base, *inp, n),
                });
            }

            let kwkwk = code == free;
            let (src_code, p, slen) = if kwkwk {
                // The entry being defined right now: string(old) plus its own
                // first byte.
                (self.old, self.last_pos, self.old_len + 1)
            } else {
                let m = self.meta[code as usize];
                (code, m >> LEN_BITS, (m & LEN_MASK) as u32)
            };
            let first = match self.put_string(
                out, &mut op, start, base_abs, limit, grow_to, src_code, slen, p, kwkwk,
            ) {
                Ok(first) => first,
                Err(e) => break Err(e),
            };

            if free < self.maxmax {
                let f = free as usize;
                self.prefix[f] = self.old as u16;
                self.suffix[f] = first;
                // For KwKwK the new entry is exactly the string just written.
                let at = if kwkwk { cur_abs } else { self.last_pos };
                self.meta[f] = self.entry_meta(f, at, self.old_len + 1);
                self.free = free + 1;
            }
            if !kwkwk && slen > INLINE {
                // Point the entry at its latest occurrence: recent output is
                // in cache, the first occurrence may be megabytes back.
                self.meta[code as usize] = pack(cur_abs, slen);
            }
            self.old = code;
            self.old_len = slen;
            self.last_pos = cur_abs;
            self.out_pos = cur_abs + u64::from(slen);
            if self.out_pos >= MAX_POS {
                self.walk_only = true;
            }
        };
        out.truncate(op);
        self.in_pos = in_base + *inp as u64;
        result
    }

    /// The common case, one code per iteration with everything in locals:
    /// at least 8 input bytes left (one unaligned 64-bit read refills the
    /// bit buffer per code, no branch), room for the longest string below
    /// `limit` and in the initialised part of `out` (checked once per code),
    /// and the code is a literal, the KwKwK code, or an entry whose latest
    /// occurrence is in this call's output (one 16-byte copy for short
    /// strings). Anything else (a width change, CLEAR, a corrupt code, a
    /// string to walk, the end of the input) stops it before that code,
    /// with the state written back, and the general loop in
    /// [`run`](Self::run) handles the code. Returns whether any code was
    /// decoded.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn fast<O: LzwSink + ?Sized>(
        &mut self,
        input: &[u8],
        inp: &mut usize,
        out: &mut O,
        op_ref: &mut usize,
        start: usize,
        base_abs: u64,
        limit: usize,
        grow_to: usize,
    ) -> bool {
        // The tables are always allocated at full size (`read_header`).
        let (Ok(prefix), Ok(suffix), Ok(meta)) = (
            <&mut [u16; TABLE]>::try_from(&mut self.prefix[..]),
            <&mut [u8; TABLE]>::try_from(&mut self.suffix[..]),
            <&mut [u64; TABLE]>::try_from(&mut self.meta[..]),
        ) else {
            return false;
        };
        let n = self.n_bits;
        let mask = (1u64 << n) - 1;
        let maxcode = self.maxcode;
        let maxmax = self.maxmax;
        // Entries start here; CLEAR (block mode) is below and goes to the
        // general loop.
        let first_entry = if self.block_mode { FIRST } else { CLEAR };
        // Absolute positions stay well below `MAX_POS` here.
        let abs_room = (MAX_POS - (1 << 20)).saturating_sub(base_abs);
        let limit =
            limit.min(start.saturating_add(usize::try_from(abs_room).unwrap_or(usize::MAX)));
        let mut ip = *inp;
        let mut op = *op_ref;
        let mut bitbuf = self.bitbuf;
        let mut bitcnt = self.bitcnt;
        let mut free = self.free;
        let mut old = self.old;
        let mut old_len = self.old_len as usize;
        let mut last_pos = self.last_pos;
        let mut codes = 0u32;
        // The bytes of string(old) when it is short (little-endian).
        let mut old_bytes = 0u64;
        if old_len <= INLINE as usize {
            let mut b = [0u8; 8];
            Self::walk_tables(&prefix[..], &suffix[..], old, &mut b[..old_len]);
            old_bytes = u64::from_le_bytes(b);
        }
        // `abs = op + delta` (wrapping: `start` may exceed `base_abs`).
        let delta = base_abs.wrapping_sub(start as u64);
        // The last position where the longest string (and the 16-byte
        // copy) still fits in `buf` and below `limit`.
        let Some(last_op) = limit.saturating_add(SLACK).checked_sub(FAST_ROOM) else {
            return false;
        };
        let in_len = input.len();
        'grow: loop {
            // Grow only when a code can be decoded here (not for every call
            // of a decoder fed a few bytes at a time).
            if op > last_op || free > maxcode || ip + 8 > in_len {
                break;
            }
            // A failed allocation ends this loop; the general loop meets it
            // again and reports it.
            if op + FAST_ROOM > out.len() && out.grow(op + FAST_ROOM, grow_to).is_err() {
                break;
            }
            let buf = out.as_mut_slice();
            let buf_op_end = buf.len() - FAST_ROOM;
            let op_end = last_op.min(buf_op_end);
            while free <= maxcode && ip + 8 <= in_len {
                if op > op_end {
                    continue 'grow;
                }
                let mut w = [0u8; 8];
                w.copy_from_slice(&input[ip..ip + 8]);
                // Bits beyond `bitcnt` already there are these same bytes.
                bitbuf |= u64::from_le_bytes(w) << bitcnt;
                let k = (63 - bitcnt) / 8;
                ip += k as usize;
                bitcnt += 8 * k;
                let code = (bitbuf & mask) as u32;
                // The entries of the next two codes, if they are read here
                // (after the refill `bitcnt` >= 56 >= 3 * 16): their loads
                // then overlap the branch on this code's length, which the
                // CPU often mispredicts (advisory: nothing depends on it).
                prefetch(&meta[(bitbuf >> n) as usize & mask as usize & (TABLE - 1)]);
                prefetch(&meta[(bitbuf >> (2 * n)) as usize & mask as usize & (TABLE - 1)]);
                let cur_abs = (op as u64).wrapping_add(delta);
                let slen;
                let first;
                let mut bytes = 0u64;
                if code < 256 {
                    slen = 1;
                    first = code as u8;
                    bytes = u64::from(first);
                    buf[op] = first;
                } else if code >= first_entry && code < free {
                    let m = meta[code as usize & (TABLE - 1)];
                    slen = (m & LEN_MASK) as usize;
                    if slen <= INLINE as usize {
                        // The bytes are in `meta`: one 8-byte store.
                        bytes = m >> LEN_BITS;
                        first = bytes as u8;
                        buf[op..op + 8].copy_from_slice(&bytes.to_le_bytes());
                    } else {
                        let p = m >> LEN_BITS;
                        if p < base_abs {
                            break 'grow;
                        }
                        let s = (p.wrapping_sub(delta)) as usize;
                        // `s + slen <= op`: entries point at complete output.
                        first = buf[s];
                        // Overlap is fine: copy_within moves as if through a
                        // buffer, and only the first `slen` bytes matter.
                        if slen <= SLACK {
                            buf.copy_within(s..s + SLACK, op);
                        } else {
                            buf.copy_within(s..s + slen, op);
                        }
                        // Point the entry at its latest occurrence (recent
                        // output is in cache).
                        meta[code as usize & (TABLE - 1)] = pack(cur_abs, slen as u32);
                    }
                } else if code == free
                    && free < maxmax
                    && code >= first_entry
                    && last_pos >= base_abs
                {
                    // KwKwK: string(old) plus its own first byte; string(old)
                    // is the last thing written, just before `op`.
                    slen = old_len + 1;
                    let s = (last_pos.wrapping_sub(delta)) as usize;
                    first = buf[s];
                    if slen <= INLINE as usize {
                        bytes = old_bytes | u64::from(first) << (8 * old_len);
                        buf[op..op + 8].copy_from_slice(&bytes.to_le_bytes());
                    } else if old_len <= SLACK {
                        buf.copy_within(s..s + SLACK, op);
                    } else {
                        buf.copy_within(s..s + old_len, op);
                    }
                    buf[op + old_len] = first;
                } else {
                    break 'grow;
                }
                if free < maxmax {
                    let f = free as usize & (TABLE - 1);
                    prefix[f] = old as u16;
                    suffix[f] = first;
                    // For KwKwK the new entry is exactly the string just
                    // written.
                    meta[f] = if old_len < INLINE as usize {
                        pack(
                            old_bytes | u64::from(first) << (8 * old_len),
                            old_len as u32 + 1,
                        )
                    } else {
                        let at = if code == free { cur_abs } else { last_pos };
                        pack(at, old_len as u32 + 1)
                    };
                    free += 1;
                }
                bitbuf >>= n;
                bitcnt -= n;
                codes += 1;
                old = code;
                old_len = slen;
                old_bytes = bytes;
                last_pos = cur_abs;
                op += slen;
            }
            break;
        }
        // No bits beyond `bitcnt` leave this function.
        self.bitbuf = bitbuf & ((1u64 << bitcnt) - 1);
        self.bitcnt = bitcnt;
        *inp = ip;
        if codes == 0 {
            return false;
        }
        self.free = free;
        self.old = old;
        self.old_len = old_len as u32;
        self.last_pos = last_pos;
        self.out_pos = (op as u64).wrapping_add(delta);
        self.codes_in_run += codes;
        self.skipped = 0;
        self.after_clear = false;
        *op_ref = op;
        true
    }

    fn code_offset(&self, in_base: u64, inp: usize, n: u32) -> u64 {
        let end_bits = (in_base + inp as u64) * 8 - u64::from(self.bitcnt);
        (end_bits - u64::from(n)) / 8
    }

    /// The group quirk: the rest of the current group of 8 codes is padding.
    fn start_new_run(&mut self) {
        self.skip += ((8 - self.codes_in_run % 8) % 8) * self.n_bits;
        self.codes_in_run = 0;
    }

    /// Skip padding bits; false if the input ran out first.
    fn skip_padding(&mut self, input: &[u8], inp: &mut usize) -> bool {
        loop {
            let d = self.skip.min(self.bitcnt);
            self.bitbuf = self.bitbuf.checked_shr(d).unwrap_or(0);
            self.bitcnt -= d;
            self.skip -= d;
            self.skipped += d;
            if self.skip == 0 {
                return true;
            }
            // Buffer empty: skip whole bytes straight from the input.
            let whole = ((self.skip / 8) as usize).min(input.len() - *inp);
            *inp += whole;
            self.skip -= 8 * whole as u32;
            self.skipped += 8 * whole as u32;
            if self.skip == 0 {
                return true;
            }
            self.refill(input, inp);
            if self.bitcnt == 0 {
                return false;
            }
        }
    }

    /// Write at `op` the `slen`-byte string of `code` (or, for KwKwK,
    /// string(code) plus its first byte) whose latest occurrence starts at
    /// absolute output position `p`. Returns the string's first byte. What
    /// does not fit below `limit` is kept as pending output.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn put_string<O: LzwSink + ?Sized>(
        &mut self,
        out: &mut O,
        op: &mut usize,
        start: usize,
        base_abs: u64,
        limit: usize,
        grow_to: usize,
        code: u32,
        slen: u32,
        p: u64,
        kwkwk: bool,
    ) -> Result<u8, LzwError> {
        let o = *op;
        let slen = slen as usize;
        let copy_len = if kwkwk { slen - 1 } else { slen };
        // Where that occurrence sits in `out`, if this call wrote it.
        let src = (p >= base_abs && !self.walk_only && (kwkwk || slen > INLINE as usize))
            .then(|| start + (p - base_abs) as usize)
            .filter(|&s| s + copy_len <= o);
        if o + slen <= limit {
            if o + slen.max(SLACK) > out.len() {
                out.grow(o + slen.max(SLACK), grow_to)?;
            }
            let out = out.as_mut_slice();
            match src {
                // Overlap is fine: copy_within moves as if through a buffer,
                // and only the first `copy_len` bytes matter.
                Some(s) if copy_len <= SLACK => out.copy_within(s..s + SLACK, o),
                Some(s) => out.copy_within(s..s + copy_len, o),
                None => self.walk(code, &mut out[o..o + copy_len]),
            }
            let first = out[o];
            if kwkwk {
                out[o + copy_len] = first;
            }
            *op = o + slen;
            Ok(first)
        } else {
            // Does not fit: build it aside and hand out what fits.
            let mut pend = std::mem::take(&mut self.pending);
            pend.clear();
            match src {
                Some(s) => pend.extend_from_slice(&out.as_mut_slice()[s..s + copy_len]),
                None => {
                    pend.resize(copy_len, 0);
                    self.walk(code, &mut pend);
                }
            }
            let first = pend[0];
            if kwkwk {
                pend.push(first);
            }
            let take = limit - o;
            if o + take > out.len() {
                out.grow(o + take, grow_to)?;
            }
            out.as_mut_slice()[o..o + take].copy_from_slice(&pend[..take]);
            *op = o + take;
            self.pending = pend;
            self.pending_at = take;
            Ok(first)
        }
    }

    /// `meta` of the new entry `f` (its prefix and suffix already set), of
    /// length `len`, whose latest occurrence starts at `at`: the position,
    /// or for a short string its bytes (walked from the chain, at most
    /// `INLINE` steps).
    fn entry_meta(&self, f: usize, at: u64, len: u32) -> u64 {
        if len > INLINE {
            return pack(at, len);
        }
        let mut b = [0u8; 8];
        self.walk(f as u32, &mut b[..len as usize]);
        pack(u64::from_le_bytes(b), len)
    }

    /// Write string(code) into `dst` (its exact length) by walking the
    /// prefix chain from the last byte back to the first.
    fn walk(&self, code: u32, dst: &mut [u8]) {
        Self::walk_tables(&self.prefix, &self.suffix, code, dst);
    }

    fn walk_tables(prefix: &[u16], suffix: &[u8], mut code: u32, dst: &mut [u8]) {
        for b in dst.iter_mut().rev() {
            let c = code as usize;
            *b = suffix[c];
            code = u32::from(prefix[c]);
        }
    }
}

fn pack(pos: u64, len: u32) -> u64 {
    (pos << LEN_BITS) | u64::from(len)
}

/// Where [`LzwDecoder::decode`] writes: a `Vec<u8>`, or a caller's buffer
/// through [`BufferSink`] (the Python bindings decode straight into the
/// `bytes` object they return). The decoder works on `as_mut_slice()`: the
/// bytes written so far and initialised room after them, which it extends
/// with `grow` and trims with `truncate` when it stops.
pub trait LzwSink {
    /// Length of `as_mut_slice()`.
    fn len(&self) -> usize;
    /// True when `len()` is 0.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// What was written, and initialised room after it.
    fn as_mut_slice(&mut self) -> &mut [u8];
    /// Make `len()` at least `need` (new bytes initialised), growing by
    /// up to `cap` so that growth is amortised. An error (no memory for
    /// the caller's buffer) ends decoding.
    fn grow(&mut self, need: usize, cap: usize) -> Result<(), LzwError>;
    /// Keep the first `n` bytes (`n <= len()`).
    fn truncate(&mut self, n: usize);
}

impl LzwSink for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        self
    }

    /// Zero-fill to at least `need` bytes, doubling (up to `cap`).
    #[cold]
    fn grow(&mut self, need: usize, cap: usize) -> Result<(), LzwError> {
        let mut target = self.len().saturating_mul(2).min(cap);
        if need <= self.capacity() {
            // Stay within the allocation the caller sized (one-shot decoding
            // reserves its estimate up front): doubling past it would copy
            // everything decoded so far into a new one.
            target = target.min(self.capacity());
        }
        self.resize(target.max(need), 0);
        Ok(())
    }

    fn truncate(&mut self, n: usize) {
        Vec::truncate(self, n);
    }
}

/// An [`OutputBuffer`] (a buffer that its owner grows on request, e.g. a
/// Python `bytes` object under construction) as an [`LzwSink`]; `len()`
/// counts from the buffer's start. [`written`](Self::written) says how
/// much of the buffer holds output once decoding stops.
pub struct BufferSink<'a, B: OutputBuffer + ?Sized> {
    buf: &'a mut B,
    len: usize,
    failed: bool,
}

impl<'a, B: OutputBuffer + ?Sized> BufferSink<'a, B> {
    /// A sink writing `buf` from its start.
    pub fn new(buf: &'a mut B) -> Self {
        BufferSink {
            buf,
            len: 0,
            failed: false,
        }
    }

    /// Bytes of output at the buffer's start.
    pub fn written(&self) -> usize {
        self.len
    }
}

impl<B: OutputBuffer + ?Sized> LzwSink for BufferSink<'_, B> {
    fn len(&self) -> usize {
        self.len
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut_slice()[..self.len]
    }

    #[cold]
    fn grow(&mut self, need: usize, cap: usize) -> Result<(), LzwError> {
        // After a failure the buffer may be gone: never ask again.
        while !self.failed && self.buf.as_mut_slice().len() < need {
            if self.buf.grow(self.len).is_err() {
                self.failed = true;
            }
        }
        if self.failed {
            return Err(LzwError::OutputAllocation { size: need });
        }
        // All the room the buffer has initialised, up to `cap`.
        self.len = self.buf.as_mut_slice().len().min(cap).max(need);
        Ok(())
    }

    fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }
}

#[cfg(test)]
impl LzwDecoder {
    /// Current code width (tests).
    pub(crate) fn width(&self) -> u32 {
        self.n_bits
    }
}
