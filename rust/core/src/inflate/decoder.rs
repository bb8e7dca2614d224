//! The DEFLATE block decoder shared by the one-shot and streaming front ends.
//!
//! [`Decoder::run`] decodes from a [`BitReader`] into `buf[*pos..limit]`,
//! where `buf[..*pos]` is the history that matches may refer back to. It is
//! a resumable state machine ([`Mode`]): it returns when it needs input it
//! does not have ([`Stop::NeedInput`]), when it must write a byte at `limit`
//! ([`Stop::OutputFull`]), or at the end of the final block. Neither front end
//! knows about blocks; the one-shot path passes the whole input and a
//! growing output `Vec` (the output is the window), the streaming path a
//! fixed buffer of 32 KiB of history plus room for new output.
//!
//! Invariants of the state:
//! - Every `Mode` is a point *between* atomic items. An item is something
//!   that is decoded only once all of its bits are in the bit buffer: a
//!   block header, the stored LEN/NLEN pair, the 14-bit dynamic counts, one
//!   3-bit code-length-code length, one code length symbol with its repeat
//!   bits, a literal/length symbol with its extra bits, a distance symbol
//!   with its extra bits. So when the input runs dry, the bits still
//!   buffered are all a strict prefix of the next item; the streaming front
//!   end relies on this to report exactly where a stream ends.
//! - A decoded length waits in `Mode::Distance`; a match whose copy did not
//!   fit below `limit` waits in `Mode::Copy` with the length still to copy.
//!   Distances are validated against `*pos` (the history actually present)
//!   when decoded, and sliding the streaming window always keeps 32 KiB, so
//!   a pending copy stays valid across calls.
//! - Nothing is written at or beyond `limit` in the careful path; the fast
//!   loop may scribble up to 31 bytes past the end of a match or one byte
//!   past a literal, but only while `*pos + FAST_OUT_MARGIN <= limit <=
//!   buf.len()`, and only on bytes past `*pos`, which are not yet output.
//!
//! The fast loop (libdeflate's structure, see `fast_loop_body`) runs while
//! at least `FAST_IN_MARGIN` input bytes and `FAST_OUT_MARGIN` output bytes
//! remain. Under those conditions no check for input or output space is
//! needed inside an item: word refills keep 56+ bits in the buffer, one
//! primary table lookup yields the symbol *and* how many bits to consume
//! including extra bits (or two literals at once, `ENTRY_LITERAL_PAIR`),
//! the next lookup is issued as soon as the bits are consumed, and match
//! copies move 16- or 8-byte words. Only the last few hundred bytes of
//! output or last few bytes of input go through the careful per-item path.
//! The loop is compiled twice, portable and with BMI2 (chosen once at run
//! time, [`crate::cpu`]); both come from the same safe source.

use crate::bitio::reader::{low_mask, BitReader};
use crate::error::InflateError;
use crate::huffman::decode::{
    CodeKind, DecodeTable, CODELEN_ENOUGH, CODELEN_TABLE_BITS, DIST_ENOUGH, DIST_TABLE_BITS,
    ENTRY_END_OF_BLOCK, ENTRY_EXCEPTIONAL, ENTRY_INVALID, ENTRY_LITERAL, ENTRY_LITERAL_PAIR,
    ENTRY_SUBTABLE, LITLEN_ENOUGH, LITLEN_TABLE_BITS,
};
use crate::tables::{
    fixed_dist_lengths, fixed_litlen_lengths, CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA,
    LENGTH_BASE, LENGTH_EXTRA, NUM_CODELEN, NUM_DIST, NUM_LITLEN,
};

/// Output room the fast loop needs per iteration: up to three literal
/// entries of two bytes each, or two and then the longest match plus the
/// overshoot of its word copy.
pub(crate) const FAST_OUT_MARGIN: usize = 4 + 258 + 32;
/// Input the fast loop needs per iteration: two 8-byte refills, the second
/// at most 7 bytes after the first.
const FAST_IN_MARGIN: usize = 16;

type LitLenTable = DecodeTable<LITLEN_TABLE_BITS, LITLEN_ENOUGH>;
type DistTable = DecodeTable<DIST_TABLE_BITS, DIST_ENOUGH>;
type CodeLenTable = DecodeTable<CODELEN_TABLE_BITS, CODELEN_ENOUGH>;

/// Per-symbol table payloads (see `huffman::decode` for the entry layout).
/// Literals carry their byte, lengths and distances their base value and
/// extra-bit count; 286/287 and distance 30/31 exist in the fixed code but
/// are forbidden, so they decode as invalid.
const LITLEN_RESULTS: [u32; NUM_LITLEN] = {
    let mut r = [ENTRY_INVALID; NUM_LITLEN];
    let mut s = 0;
    while s < 256 {
        r[s] = ENTRY_LITERAL | (s as u32) << 16;
        s += 1;
    }
    r[256] = ENTRY_EXCEPTIONAL | ENTRY_END_OF_BLOCK;
    let mut i = 0;
    while i < 29 {
        r[257 + i] = (LENGTH_BASE[i] as u32) << 16 | LENGTH_EXTRA[i] as u32;
        i += 1;
    }
    r
};
const DIST_RESULTS: [u32; NUM_DIST] = {
    let mut r = [ENTRY_INVALID; NUM_DIST];
    let mut i = 0;
    while i < 30 {
        r[i] = (DIST_BASE[i] as u32) << 16 | DIST_EXTRA[i] as u32;
        i += 1;
    }
    r
};
const CODELEN_RESULTS: [u32; NUM_CODELEN] = {
    let mut r = [0u32; NUM_CODELEN];
    let mut s = 0;
    while s < 19 {
        r[s] = (s as u32) << 16;
        s += 1;
    }
    r[16] |= 2;
    r[17] |= 3;
    r[18] |= 7;
    r
};

/// Where the decoder is, between atomic items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Next: the 3-bit block header.
    Header,
    /// Next: LEN and NLEN of a stored block (the partial byte is dropped).
    StoredHeader,
    /// Inside a stored block with `remaining` bytes to copy.
    Stored { remaining: u16 },
    /// Next: HLIT, HDIST, HCLEN.
    DynamicCounts,
    /// Next: code-length-code length number `read` (in transmission order).
    CodeLenLens { read: u8 },
    /// Next: code length number `have` (litlen and distance lengths are one
    /// sequence, so repeats may cross from one to the other).
    CodeLens { have: u16 },
    /// Next: a literal/length symbol of a Huffman block.
    LitLen,
    /// A length has been decoded; next: its distance.
    Distance { length: u16 },
    /// A match still has `length` bytes to copy from `distance` back.
    Copy { length: u16, distance: u16 },
    /// The final block has ended.
    Done,
}

/// Why [`Decoder::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    NeedInput,
    OutputFull,
    StreamEnd,
}

/// The decoder state: see the module documentation.
#[derive(Clone)]
pub(crate) struct Decoder {
    mode: Mode,
    /// The current block has BFINAL set.
    last_block: bool,
    /// Which code the tables hold, so runs of fixed blocks build them once.
    fixed_loaded: bool,
    nlen: u16,
    ndist: u16,
    nclen: u8,
    codelen_lens: [u8; NUM_CODELEN],
    /// Literal/length lengths followed by distance lengths (286 + 30 max).
    lens: [u8; 286 + 30],
    litlen: LitLenTable,
    dist: DistTable,
    codelen: CodeLenTable,
    /// Largest distance the stream may use: the window size the caller
    /// declared (zlib's wbits), 32 KiB unless told otherwise.
    max_dist: usize,
    /// Run the BMI2 build of the fast loop (only ever true when the CPU
    /// has BMI1 and BMI2; see [`crate::cpu`]).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    bmi2: bool,
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Self {
            mode: Mode::Header,
            last_block: false,
            fixed_loaded: false,
            nlen: 0,
            ndist: 0,
            nclen: 0,
            codelen_lens: [0; NUM_CODELEN],
            lens: [0; 286 + 30],
            litlen: LitLenTable::new(),
            dist: DistTable::new(),
            codelen: CodeLenTable::new(),
            max_dist: crate::tables::WINDOW_SIZE,
            bmi2: crate::cpu::features().bmi2,
        }
    }

    /// Use only the portable fast loop (tests compare the variants).
    #[cfg(test)]
    pub(crate) fn force_portable(&mut self) {
        self.bmi2 = false;
    }

    /// Reject distances beyond `1 << window_bits` (8..=15), as zlib does
    /// for a stream declared with a smaller window.
    pub(crate) fn set_window_bits(&mut self, window_bits: u32) {
        self.max_dist = 1usize << window_bits.clamp(8, 15);
    }

    pub(crate) fn is_done(&self) -> bool {
        self.mode == Mode::Done
    }

    fn end_block(&mut self) {
        self.mode = if self.last_block {
            Mode::Done
        } else {
            Mode::Header
        };
    }

    fn load_fixed(&mut self) -> Result<(), InflateError> {
        if !self.fixed_loaded {
            // The fixed codes are complete, so these cannot fail; map the
            // impossible anyway rather than unwrap.
            self.litlen
                .build(
                    &fixed_litlen_lengths(),
                    &LITLEN_RESULTS,
                    ENTRY_INVALID,
                    CodeKind::LitLen,
                )
                .map_err(|_| InflateError::InvalidLiteralLengthsSet)?;
            self.dist
                .build(
                    &fixed_dist_lengths(),
                    &DIST_RESULTS,
                    ENTRY_INVALID,
                    CodeKind::Distance,
                )
                .map_err(|_| InflateError::InvalidDistancesSet)?;
            self.fixed_loaded = true;
        }
        Ok(())
    }

    /// Decode until input runs out, output reaches `limit`, or the stream
    /// ends. `buf[..*pos]` is history; `*pos <= limit <= buf.len()`.
    pub(crate) fn run(
        &mut self,
        br: &mut BitReader<'_>,
        buf: &mut [u8],
        pos: &mut usize,
        limit: usize,
    ) -> Result<Stop, InflateError> {
        debug_assert!(*pos <= limit && limit <= buf.len());
        loop {
            match self.mode {
                Mode::Header => {
                    let Some(h) = br.read_bits(3) else {
                        return Ok(Stop::NeedInput);
                    };
                    self.last_block = h & 1 != 0;
                    match h >> 1 {
                        0 => {
                            // The partial byte after the header is padding;
                            // dropping it now keeps the LEN/NLEN item whole.
                            br.align_to_byte();
                            self.mode = Mode::StoredHeader;
                        }
                        1 => {
                            self.load_fixed()?;
                            self.mode = Mode::LitLen;
                        }
                        2 => self.mode = Mode::DynamicCounts,
                        _ => return Err(InflateError::InvalidBlockType),
                    }
                }
                Mode::StoredHeader => {
                    let Some(v) = br.read_bits(32) else {
                        return Ok(Stop::NeedInput);
                    };
                    let (len, nlen) = (v & 0xffff, v >> 16);
                    if len != !nlen & 0xffff {
                        return Err(InflateError::InvalidStoredLengths);
                    }
                    self.mode = Mode::Stored {
                        remaining: len as u16,
                    };
                }
                Mode::Stored { remaining } => {
                    let mut rem = usize::from(remaining);
                    // Whole bytes already in the bit buffer come first (at
                    // most 7), then a straight copy from the input.
                    while rem > 0 && *pos < limit && br.bit_count() >= 8 {
                        buf[*pos] = br.peek(8) as u8;
                        br.consume(8);
                        *pos += 1;
                        rem -= 1;
                    }
                    if rem > 0 && br.bit_count() == 0 {
                        let n = rem.min(limit - *pos).min(br.bytes_left());
                        buf[*pos..*pos + n].copy_from_slice(br.take_bytes(n));
                        *pos += n;
                        rem -= n;
                    }
                    if rem == 0 {
                        self.end_block();
                        continue;
                    }
                    self.mode = Mode::Stored {
                        remaining: rem as u16,
                    };
                    return Ok(if *pos == limit {
                        Stop::OutputFull
                    } else {
                        Stop::NeedInput
                    });
                }
                Mode::DynamicCounts => {
                    let Some(v) = br.read_bits(14) else {
                        return Ok(Stop::NeedInput);
                    };
                    self.nlen = (v & 31) as u16 + 257;
                    self.ndist = ((v >> 5) & 31) as u16 + 1;
                    self.nclen = ((v >> 10) & 15) as u8 + 4;
                    if self.nlen > 286 || self.ndist > 30 {
                        return Err(InflateError::TooManyCodes);
                    }
                    self.codelen_lens = [0; NUM_CODELEN];
                    self.mode = Mode::CodeLenLens { read: 0 };
                }
                Mode::CodeLenLens { mut read } => {
                    while read < self.nclen {
                        let Some(l) = br.read_bits(3) else {
                            self.mode = Mode::CodeLenLens { read };
                            return Ok(Stop::NeedInput);
                        };
                        self.codelen_lens[CODE_LENGTH_ORDER[usize::from(read)]] = l as u8;
                        read += 1;
                    }
                    // The tables are about to be overwritten.
                    self.fixed_loaded = false;
                    self.codelen
                        .build(
                            &self.codelen_lens,
                            &CODELEN_RESULTS,
                            ENTRY_INVALID,
                            CodeKind::CodeLengths,
                        )
                        .map_err(|_| InflateError::InvalidCodeLengthsSet)?;
                    self.mode = Mode::CodeLens { have: 0 };
                }
                Mode::CodeLens { have } => {
                    self.read_code_lengths(br, usize::from(have))?;
                    if let Mode::CodeLens { .. } = self.mode {
                        return Ok(Stop::NeedInput);
                    }
                }
                Mode::LitLen => {
                    // Near the end of input or output, the fast loop
                    // returns false and the careful path below takes over.
                    if br.bytes_left() >= FAST_IN_MARGIN
                        && limit - *pos >= FAST_OUT_MARGIN
                        && self.fast_loop(br, buf, pos, limit)?
                    {
                        self.end_block();
                        continue;
                    }
                    if br.bit_count() < 48 {
                        br.refill();
                    }
                    let (bitbuf, bitcount) = (br.bit_buffer(), br.bit_count());
                    let Some((e, pre)) = self.litlen.decode_checked(bitbuf, bitcount) else {
                        return Ok(Stop::NeedInput);
                    };
                    let total = pre + (e & 0xff);
                    if e & ENTRY_LITERAL != 0 {
                        if *pos == limit {
                            return Ok(Stop::OutputFull);
                        }
                        if e & ENTRY_LITERAL_PAIR != 0 && total <= bitcount && limit - *pos >= 2 {
                            br.consume(total);
                            buf[*pos] = (e >> 16) as u8;
                            buf[*pos + 1] = (e >> 24) as u8;
                            *pos += 2;
                        } else {
                            // One literal (of a pair, the first alone when
                            // the second's bits or room are not there yet).
                            br.consume(pre + ((e >> 8) & 0xf));
                            buf[*pos] = (e >> 16) as u8;
                            *pos += 1;
                        }
                    } else if e & ENTRY_EXCEPTIONAL != 0 {
                        if e & ENTRY_END_OF_BLOCK == 0 {
                            return Err(InflateError::InvalidLiteralLengthCode);
                        }
                        br.consume(total);
                        self.end_block();
                    } else {
                        if total > bitcount {
                            return Ok(Stop::NeedInput);
                        }
                        br.consume(total);
                        let extra = (bitbuf >> pre) & low_mask(e & 0xff);
                        let length = (e >> 16) + (extra >> ((e >> 8) & 0xf)) as u32;
                        self.mode = Mode::Distance {
                            length: length as u16,
                        };
                    }
                }
                Mode::Distance { length } => {
                    if br.bit_count() < 48 {
                        br.refill();
                    }
                    let (bitbuf, bitcount) = (br.bit_buffer(), br.bit_count());
                    let Some((e, pre)) = self.dist.decode_checked(bitbuf, bitcount) else {
                        return Ok(Stop::NeedInput);
                    };
                    if e & ENTRY_EXCEPTIONAL != 0 {
                        return Err(InflateError::InvalidDistanceCode);
                    }
                    let total = pre + (e & 0xff);
                    if total > bitcount {
                        return Ok(Stop::NeedInput);
                    }
                    br.consume(total);
                    let extra = (bitbuf >> pre) & low_mask(e & 0xff);
                    let distance = ((e >> 16) + (extra >> ((e >> 8) & 0xf)) as u32) as usize;
                    // Validated in Copy, once there is room to copy: zlib
                    // only judges a distance when it is about to use it, so
                    // a stream cut off by the output limit right here is not
                    // an error yet (Python's `max_length` relies on that).
                    self.mode = Mode::Copy {
                        length,
                        distance: distance as u16,
                    };
                }
                Mode::Copy { length, distance } => {
                    if *pos == limit {
                        return Ok(Stop::OutputFull);
                    }
                    let d = usize::from(distance);
                    if d > *pos || d > self.max_dist {
                        return Err(InflateError::DistanceTooFarBack {
                            distance: d,
                            available: *pos,
                        });
                    }
                    let n = usize::from(length).min(limit - *pos);
                    copy_match_exact(buf, *pos, usize::from(distance), n);
                    *pos += n;
                    if n < usize::from(length) {
                        self.mode = Mode::Copy {
                            length: length - n as u16,
                            distance,
                        };
                        return Ok(Stop::OutputFull);
                    }
                    self.mode = Mode::LitLen;
                }
                Mode::Done => return Ok(Stop::StreamEnd),
            }
        }
    }

    /// Code lengths of a dynamic header, from number `have` on. Leaves
    /// `self.mode` at `CodeLens` if input ran out, else builds the tables and
    /// moves on to `LitLen`.
    fn read_code_lengths(
        &mut self,
        br: &mut BitReader<'_>,
        mut have: usize,
    ) -> Result<(), InflateError> {
        let total = usize::from(self.nlen) + usize::from(self.ndist);
        while have < total {
            if br.bit_count() < 14 {
                br.refill();
            }
            let (bitbuf, bitcount) = (br.bit_buffer(), br.bit_count());
            // At most 7 bits: never a sub-table, so `pre` is 0.
            let Some((e, _)) = self.codelen.decode_checked(bitbuf, bitcount) else {
                self.mode = Mode::CodeLens { have: have as u16 };
                return Ok(());
            };
            let n = e & 0xff;
            if n > bitcount {
                self.mode = Mode::CodeLens { have: have as u16 };
                return Ok(());
            }
            br.consume(n);
            let sym = e >> 16;
            let extra = ((bitbuf & low_mask(n)) >> ((e >> 8) & 0xf)) as usize;
            let (value, count) = match sym {
                0..=15 => (sym as u8, 1),
                16 => {
                    if have == 0 {
                        return Err(InflateError::InvalidBitLengthRepeat);
                    }
                    (self.lens[have - 1], 3 + extra)
                }
                17 => (0, 3 + extra),
                _ => (0, 11 + extra),
            };
            if have + count > total {
                return Err(InflateError::InvalidBitLengthRepeat);
            }
            self.lens[have..have + count].fill(value);
            have += count;
        }
        let nlen = usize::from(self.nlen);
        if self.lens[256] == 0 {
            return Err(InflateError::MissingEndOfBlock);
        }
        self.litlen
            .build(
                &self.lens[..nlen],
                &LITLEN_RESULTS,
                ENTRY_INVALID,
                CodeKind::LitLen,
            )
            .map_err(|_| InflateError::InvalidLiteralLengthsSet)?;
        self.litlen.pair_literals();
        self.dist
            .build(
                &self.lens[nlen..total],
                &DIST_RESULTS,
                ENTRY_INVALID,
                CodeKind::Distance,
            )
            .map_err(|_| InflateError::InvalidDistancesSet)?;
        self.mode = Mode::LitLen;
        Ok(())
    }

    /// The fast loop of a Huffman block, in the variant chosen at run time
    /// (see [`crate::cpu`]). Returns `Ok(true)` at end of block,
    /// `Ok(false)` when the input or output margin ran out (between items).
    ///
    /// The shape is libdeflate's: the next literal/length entry is looked up
    /// as soon as the bits of the previous item are consumed ("preloaded"),
    /// so the table load overlaps the work on the current item; the bit
    /// count is decremented by the whole entry (only its low byte, the bits
    /// consumed, matters: `bitsleft` is meaningful modulo 256, the higher
    /// bits collect garbage); and the margins are checked once per
    /// iteration, at the bottom. Bit budget: a refill leaves at least 56
    /// valid bits. Up to three primary-table literals take 33 bits and the
    /// preload after them 11 more; two literals and a length (up to 15 + 5
    /// bits, from a sub-table) take 42; the distance (up to 15 + 13 bits) and
    /// the preload after it come after a second refill. So an iteration
    /// refills at most twice (reading at most 15 bytes ahead) and writes at
    /// most two literals plus one match with its copy overshoot.
    #[inline(always)]
    fn fast_loop(
        &self,
        br: &mut BitReader<'_>,
        buf: &mut [u8],
        pos: &mut usize,
        limit: usize,
    ) -> Result<bool, InflateError> {
        #[cfg(target_arch = "x86_64")]
        if self.bmi2 {
            return fast_loop_bmi2(self, br, buf, pos, limit);
        }
        self.fast_loop_portable(br, buf, pos, limit)
    }

    /// [`Self::fast_loop_body`] built for any x86-64 (or other) CPU.
    #[inline(never)]
    fn fast_loop_portable(
        &self,
        br: &mut BitReader<'_>,
        buf: &mut [u8],
        pos: &mut usize,
        limit: usize,
    ) -> Result<bool, InflateError> {
        self.fast_loop_body(br, buf, pos, limit)
    }

    /// The fast loop itself (one safe source, compiled per variant).
    #[inline(always)]
    fn fast_loop_body(
        &self,
        br: &mut BitReader<'_>,
        buf: &mut [u8],
        pos: &mut usize,
        limit: usize,
    ) -> Result<bool, InflateError> {
        let litlen = &self.litlen;
        let dist = &self.dist;
        let max_dist = self.max_dist;
        // `limit <= buf.len()`, so every write below stays in `buf`.
        let out_end = limit.min(buf.len());
        let (input, mut ip, mut bitbuf, bitcount) = br.raw_parts();
        let mut bitsleft = bitcount;
        let mut op = *pos;
        if input.len() - ip < FAST_IN_MARGIN || out_end - op < FAST_OUT_MARGIN {
            return Ok(false);
        }
        let in_fast_end = input.len() - FAST_IN_MARGIN;
        let out_fast_end = out_end - FAST_OUT_MARGIN;

        // Branch-free word refill (see `BitReader::refill_fast`); needs
        // `ip + 8 <= input.len()`, which the margins guarantee.
        macro_rules! refill {
            () => {{
                let mut w = [0u8; 8];
                w.copy_from_slice(&input[ip..ip + 8]);
                bitbuf |= u64::from_le_bytes(w) << (bitsleft as u8);
                ip += 7 - ((bitsleft as u8 >> 3) & 7) as usize;
                bitsleft |= 56;
            }};
        }
        macro_rules! consume {
            ($e:expr) => {{
                bitbuf = bitbuf.wrapping_shr($e);
                bitsleft = bitsleft.wrapping_sub($e);
            }};
        }

        // Refill before the first lookup so the preloaded entry sees at
        // least 11 valid bits.
        refill!();
        let mut e = litlen.lookup(bitbuf);
        let result = loop {
            refill!();
            if e & ENTRY_LITERAL != 0 {
                consume!(e);
                put_literals(buf, op, e);
                op += 1 + ((e >> 12) & 1) as usize;
                e = litlen.lookup(bitbuf);
                if e & ENTRY_LITERAL != 0 {
                    consume!(e);
                    put_literals(buf, op, e);
                    op += 1 + ((e >> 12) & 1) as usize;
                    e = litlen.lookup(bitbuf);
                    if e & ENTRY_LITERAL != 0 {
                        consume!(e);
                        put_literals(buf, op, e);
                        op += 1 + ((e >> 12) & 1) as usize;
                        e = litlen.lookup(bitbuf);
                        if ip > in_fast_end || op > out_fast_end {
                            break Ok(false);
                        }
                        continue;
                    }
                }
            }
            if e & ENTRY_EXCEPTIONAL != 0 {
                if e & ENTRY_SUBTABLE != 0 {
                    consume!(LITLEN_TABLE_BITS);
                    e = litlen.subtable(e, bitbuf);
                    if e & ENTRY_LITERAL != 0 {
                        consume!(e);
                        put_literals(buf, op, e);
                        op += 1 + ((e >> 12) & 1) as usize;
                        e = litlen.lookup(bitbuf);
                        if ip > in_fast_end || op > out_fast_end {
                            break Ok(false);
                        }
                        continue;
                    }
                }
                if e & ENTRY_EXCEPTIONAL != 0 {
                    if e & ENTRY_END_OF_BLOCK != 0 {
                        consume!(e);
                        break Ok(true);
                    }
                    break Err(InflateError::InvalidLiteralLengthCode);
                }
            }
            let saved = bitbuf;
            consume!(e);
            let length = (e >> 16) as usize + extra_bits(saved, e);

            // Look the distance up *before* refilling: at least 14 valid
            // bits remain (56 - 2 * 11 - 20), enough for the 8-bit index,
            // and a refill only ORs bits in above the valid ones, so the
            // load does not wait for the refill (libdeflate's ordering; it
            // keeps the refill off the serial chain of table loads).
            let mut d = dist.lookup(bitbuf);
            refill!();
            if d & ENTRY_SUBTABLE != 0 {
                consume!(DIST_TABLE_BITS);
                d = dist.subtable(d, bitbuf);
            }
            if d & ENTRY_EXCEPTIONAL != 0 {
                break Err(InflateError::InvalidDistanceCode);
            }
            let saved = bitbuf;
            consume!(d);
            let distance = (d >> 16) as usize + extra_bits(saved, d);
            if distance > op || distance > max_dist {
                break Err(InflateError::DistanceTooFarBack {
                    distance,
                    available: op,
                });
            }
            e = litlen.lookup(bitbuf);
            copy_match_fast(buf, op, distance, length);
            op += length;
            if ip > in_fast_end || op > out_fast_end {
                break Ok(false);
            }
        };
        br.set_raw_parts(ip, bitbuf, bitsleft as u8 as u32);
        *pos = op;
        result
    }
}

/// Store the literal(s) of entry `e` at `op`: always two bytes (one 16-bit
/// store, no branch on whether the entry is a pair); the second is garbage
/// for a single literal and is overwritten by the next output.
#[inline(always)]
fn put_literals(buf: &mut [u8], op: usize, e: u32) {
    buf[op..op + 2].copy_from_slice(&((e >> 16) as u16).to_le_bytes());
}

/// [`Decoder::fast_loop_body`] compiled with BMI1/BMI2 enabled.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn fast_loop_bmi2(
    d: &Decoder,
    br: &mut BitReader<'_>,
    buf: &mut [u8],
    pos: &mut usize,
    limit: usize,
) -> Result<bool, InflateError> {
    #[target_feature(enable = "bmi1,bmi2")]
    #[inline(never)]
    unsafe fn inner(
        d: &Decoder,
        br: &mut BitReader<'_>,
        buf: &mut [u8],
        pos: &mut usize,
        limit: usize,
    ) -> Result<bool, InflateError> {
        d.fast_loop_body(br, buf, pos, limit)
    }
    // SAFETY: the body is safe Rust; the only requirement of a
    // `target_feature` function is that the CPU has the features, and
    // `Decoder::bmi2` is only set when CPUID reported BMI1 and BMI2
    // (`crate::cpu::features`).
    unsafe { inner(d, br, buf, pos, limit) }
}

/// The extra bits of a length or distance entry `e` (no flags set) from the
/// bit buffer `saved` taken before the entry was consumed: bits
/// `codeword length .. bits to consume`. Shift counts wrap at 64 as x86
/// shifts do, so the low byte of `e` and `e >> 8` (whose bits above the
/// codeword length are the flags, all clear here) serve as counts without
/// masking; with BMI2 this is one `bzhi` and one `shrx`.
#[inline(always)]
fn extra_bits(saved: u64, e: u32) -> usize {
    (saved & !u64::MAX.wrapping_shl(e)).wrapping_shr(e >> 8) as usize
}

/// Copy `len` bytes from `distance` back, exactly (no byte past
/// `pos + len` written). Overlap (distance < len) repeats the pattern, as
/// LZ77 requires.
fn copy_match_exact(buf: &mut [u8], pos: usize, distance: usize, len: usize) {
    let src = pos - distance;
    if distance >= len {
        buf.copy_within(src..src + len, pos);
    } else {
        let region = &mut buf[src..pos + len];
        for i in distance..region.len() {
            region[i] = region[i - distance];
        }
    }
}

/// Copy a match in the fast loop. Precondition: `distance <= pos`,
/// `pos + len + 32 <= buf.len()`. May write up to 31 bytes past the match
/// (garbage that later output overwrites), which is what lets it move whole
/// 16- or 8-byte words: when the distance is at least the word size, each
/// word read lies entirely before the word written, so word-at-a-time
/// copying reproduces the byte-serial LZ77 semantics even when the match
/// overlaps itself. Shorter periods step by the period: each 8-byte store
/// is correct in its first `distance` bytes, and the next store starts
/// there.
#[inline(always)]
fn copy_match_fast(buf: &mut [u8], pos: usize, distance: usize, len: usize) {
    // One bounds check for the whole window touched (source start to
    // destination end plus overshoot); indices below are relative to it.
    let Some(w) = buf.get_mut(pos - distance..pos + len + 32) else {
        // Unreachable given the fast loop's margins; stay correct anyway.
        return copy_match_exact(buf, pos, distance, len);
    };
    let end = distance + len;
    if distance >= 16 {
        // Two unconditional 16-byte moves cover most matches.
        copy_word::<16>(w, 0, distance);
        copy_word::<16>(w, 16, distance + 16);
        let mut d = distance + 32;
        while d < end {
            copy_word::<16>(w, d - distance, d);
            d += 16;
        }
    } else if distance >= 8 {
        copy_word::<8>(w, 0, distance);
        copy_word::<8>(w, 8, distance + 8);
        let mut d = distance + 16;
        while d < end {
            copy_word::<8>(w, d - distance, d);
            d += 8;
        }
    } else if distance == 1 {
        let v = [w[0]; 16];
        let mut d = 1;
        while d < end {
            w[d..d + 16].copy_from_slice(&v);
            d += 16;
        }
    } else {
        let mut d = distance;
        while d < end {
            copy_word::<8>(w, d - distance, d);
            d += distance;
        }
    }
}

/// Move `N` bytes from `s` to `d` through a register (both ranges checked).
#[inline(always)]
fn copy_word<const N: usize>(buf: &mut [u8], s: usize, d: usize) {
    let mut w = [0u8; N];
    w.copy_from_slice(&buf[s..s + N]);
    buf[d..d + N].copy_from_slice(&w);
}
