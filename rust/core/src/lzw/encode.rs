//! The `.Z` encoder: LZW with a hash-table dictionary.
//!
//! The dictionary maps (prefix code, next byte) to a code. Strings of two
//! bytes (prefix a literal) live in a dense 64 Ki-entry `u16` array: a
//! quarter to a third of all lookups, served from 128 KiB that stay in L2.
//! Longer ones live in an open-addressing table of `u32` slots, linear
//! probing, at most half full (`2^(max_bits+1)` slots, 512 KiB at 16 bits),
//! each slot `prefix << 16 | code` (0 = empty: a prefix there is >= 256),
//! with the last byte of every code in `suffix` (64 KiB): a slot matches
//! when its prefix is the current code and `suffix[code]` the next byte.
//!
//! The slot of an entry comes from a hash of the string's *bytes* (a
//! multiplicative hash rolled over the input since the current string
//! began), not of its (prefix code, byte) key. That is what makes the loop
//! fast: with a key hash, the address of each probe depends on the code the
//! previous probe returned, so the loop runs at one memory latency per
//! input byte. With the content hash every address depends on the input
//! only; the CPU predicts "found" and issues the probes of the next bytes
//! while the current one is in flight, and only the comparisons wait for
//! the codes. A miss (the end of each string) is a mispredicted branch,
//! once per code, and the time until the CPU sees it is most of the cost of
//! a code. So a miss is settled first by `filter`, one bit per
//! `2^FILTER_EXTRA_BITS`-th of a slot (128 KiB at 16 bits, which stays in
//! L2), set for the content hash of every entry in `table`: most misses end
//! there instead of at a slot of the 512 KiB table.
//!
//! History, measured on the Silesia corpus: content hashing ran 1.6-2x as
//! fast as the earlier key-hashed table of `u64` slots; content-hashed
//! `u64` slots holding the key (1 or 2 MiB) were slower than `u32` slots
//! with a 16-bit hash tag plus the key of each code in a 256 KiB array; the
//! prefix-in-slot layout with a 64 KiB `suffix` and the filter replaced that
//! (docs/lzw.md has the figures).
//!
//! CLEAR wipes the table and the filter (the part `max_bits` uses: 640 KiB
//! at 16 bits, once per dictionary: a few per cent of the time on input
//! that clears often).
//!
//! Code widths are not decided by the encoder's own counters. It keeps a
//! mirror of the decoder's (`dec_free`, `maxcode`, the number of codes in the
//! current bit group) and widens, with the group padding, exactly where every
//! `compress` decoder will; see the module essay in `mod.rs` for why that
//! matters at max-bits 9.
//!
//! CLEAR policy (block mode), as `compress` 4.0 and `ncompress` do it: once
//! the dictionary is full, every `CHECK_GAP` input bytes compare the running
//! ratio (input bytes * 256 / output bytes) with the best seen since the last
//! CLEAR; when it drops, send CLEAR and start a new dictionary.

use super::{header_bytes, LzwError, CLEAR, FIRST, INIT_BITS, MAX_MAX_BITS, MIN_MAX_BITS};
use crate::mem::boxed_array;

/// Input bytes between two ratio checks once the dictionary is full.
const CHECK_GAP: u64 = 10_000;
/// Slots of the largest table (`max_bits` 16: at most half full).
const SLOTS: usize = 1 << (MAX_MAX_BITS + 1);
/// The filter has `2^FILTER_EXTRA_BITS` bits per table slot.
const FILTER_EXTRA_BITS: u32 = 3;
const FILTER_BITS: usize = SLOTS << FILTER_EXTRA_BITS;
const FILTER_WORDS: usize = FILTER_BITS / 64;
/// Table slots and filter bits come from the top bits of the content hash
/// (fixed shifts; smaller tables mask off the high ones).
const HSHIFT: u32 = 64 - (MAX_MAX_BITS + 1);
const FSHIFT: u32 = HSHIFT - FILTER_EXTRA_BITS;
/// No pending string (before the first byte).
const NONE: u32 = u32::MAX;

/// Content hash of the empty string (not 0: a run of zero bytes would stay
/// at 0 and pile every such string onto one slot).
const SEED: u64 = 0x2545_F491_4F6C_DD1D;

/// The content hash of a string extended by one byte. The table slot of an
/// entry is chosen from the hash of its bytes, not of its (prefix code,
/// byte) key, so the address of every probe depends on the input alone and
/// the CPU can issue the probes for the next bytes before the current one
/// has answered; only the comparison waits for the previous code.
#[inline(always)]
fn step(h: u64, c: u8) -> u64 {
    (h ^ u64::from(c)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Streaming `.Z` encoder. Feed input with [`encode`](Self::encode) in pieces
/// of any size, then call [`finish`](Self::finish) once; the output is the
/// same however the input was split.
#[derive(Clone)]
pub struct LzwEncoder {
    block_mode: bool,
    header_done: bool,
    finished: bool,
    dict: Dict,
    w: Writer,
    /// Content hash of the string matched so far (see [`step`]).
    hs: u64,
    /// Next code the encoder will assign.
    free: u32,
    /// Code of the string matched so far (`NONE` before the first byte).
    ent: u32,

    // CLEAR policy.
    bytes_in: u64,
    bytes_out: u64,
    checkpoint: u64,
    ratio: u64,
    /// CLEAR codes sent so far.
    clears: u64,
}

/// The dictionary, apart from the writer so that the hot loop can hold
/// both borrowed at once.
#[derive(Clone)]
struct Dict {
    /// Two-byte strings, indexed by `first << 8 | second`, 0 = absent (no
    /// code is 0).
    pairs: Box<[u16; 1 << 16]>,
    /// Longer strings. Open addressing, linear probing: `prefix << 16 |
    /// code`, 0 = empty. Fixed size (no bounds checks); the first `hmask +
    /// 1` slots are used.
    table: Box<[u32; SLOTS]>,
    /// Last byte of each code in `table`.
    suffix: Box<[u8; 1 << 16]>,
    /// One bit per content hash value (`fmask + 1` of them), set when some
    /// entry of `table` has that hash (a Bloom filter with one function).
    filter: Box<[u64; FILTER_WORDS]>,
    hmask: usize,
    fmask: usize,
}

impl Dict {
    fn new(max_bits: u32) -> Self {
        let hbits = max_bits + 1;
        Dict {
            pairs: boxed_array(0),
            table: boxed_array(0),
            suffix: boxed_array(0),
            filter: boxed_array(0),
            hmask: (1 << hbits) - 1,
            fmask: (1 << (hbits + FILTER_EXTRA_BITS)) - 1,
        }
    }
}

/// The bit writer and its mirror of the decoder: the decoder's next free
/// entry as it will be when it reads the next code, the largest entry its
/// width allows, and the width.
#[derive(Clone)]
struct Writer {
    max_bits: u32,
    /// `1 << max_bits`: entries are numbered below it.
    maxmax: u32,
    dec_free: u32,
    maxcode: u32,
    n_bits: u32,
    /// Codes written since the current width (bit group run) began.
    codes_in_run: u32,
    // Bit output: `bitcnt` (< 32 between codes) bits waiting in `bitbuf`.
    bitbuf: u64,
    bitcnt: u32,
}

impl LzwEncoder {
    /// A new encoder writing codes of at most `max_bits` bits (9..=16, 16 is
    /// `compress`'s default). `block_mode` false gives the pre-1985 format
    /// without CLEAR (the `-C` option of `compress`).
    pub fn new(max_bits: u32, block_mode: bool) -> Result<Self, LzwError> {
        if !(MIN_MAX_BITS..=MAX_MAX_BITS).contains(&max_bits) {
            return Err(LzwError::InvalidMaxBits { max_bits });
        }
        let first = if block_mode { FIRST } else { CLEAR };
        Ok(LzwEncoder {
            block_mode,
            header_done: false,
            finished: false,
            dict: Dict::new(max_bits),
            w: Writer {
                max_bits,
                maxmax: 1 << max_bits,
                // The decoder adds no entry for the first code; starting the
                // mirror one lower and counting every code lands on the same
                // numbers from the second code on.
                dec_free: first - 1,
                maxcode: (1 << INIT_BITS) - 1,
                n_bits: INIT_BITS,
                codes_in_run: 0,
                bitbuf: 0,
                bitcnt: 0,
            },
            hs: SEED,
            free: first,
            ent: NONE,
            bytes_in: 0,
            bytes_out: 0,
            checkpoint: CHECK_GAP,
            ratio: 0,
            clears: 0,
        })
    }

    /// A block-mode encoder for one segment of a multi-core stream
    /// ([`super::parallel`]): as [`new`](Self::new), but its header counts
    /// as written (the stream's writer sends it once), so a stream of one
    /// segment is byte for byte the serial one.
    pub(crate) fn segment(max_bits: u32) -> Result<Self, LzwError> {
        let mut e = Self::new(max_bits, true)?;
        e.header_done = true;
        e.bytes_out = 3;
        Ok(e)
    }

    /// Finish a segment that another follows: the last code, then CLEAR and
    /// its group's padding, which end on a byte boundary (a group of eight
    /// `n`-bit codes is `n` bytes), so the next segment's bytes can follow.
    pub(crate) fn finish_with_clear(&mut self, out: &mut Vec<u8>) -> Result<(), LzwError> {
        if self.finished {
            return Err(LzwError::Finished);
        }
        if self.ent != NONE {
            self.w.put_code(self.ent, out);
        }
        self.w.clear(out);
        debug_assert_eq!(self.w.bitcnt, 0, "CLEAR's group ends on a byte boundary");
        self.finished = true;
        Ok(())
    }

    /// `max_bits` given to [`new`](Self::new).
    pub fn max_bits(&self) -> u32 {
        self.w.max_bits
    }

    /// How many CLEAR codes the encoder has sent so far.
    pub fn clears(&self) -> u64 {
        self.clears
    }

    /// True once [`finish`](Self::finish) has run.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn header(&mut self, out: &mut Vec<u8>) {
        if !self.header_done {
            self.header_done = true;
            out.extend_from_slice(&header_bytes(self.w.max_bits, self.block_mode));
            self.bytes_out += 3;
        }
    }

    /// Compress all of `input`, appending whole bytes of output to `out`
    /// (up to 7 bits stay buffered until the next call or `finish`).
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), LzwError> {
        if self.finished {
            return Err(LzwError::Finished);
        }
        self.header(out);
        if input.is_empty() {
            return Ok(());
        }
        out.reserve(input.len() / 2 + 8);
        let out_start = out.len();
        let in_start = self.bytes_in;

        let mut rest = input;
        if self.ent == NONE {
            self.ent = u32::from(input[0]);
            self.hs = step(SEED, input[0]);
            rest = &input[1..];
        }
        // The caller's index `i` into `rest` converts to bytes consumed.
        let base = in_start + (input.len() - rest.len()) as u64;
        // One copy of the loop per table size, with the masks as constants
        // (two registers fewer in the loop).
        match self.w.max_bits {
            9 => self.run::<9>(rest, base, out, out_start),
            10 => self.run::<10>(rest, base, out, out_start),
            11 => self.run::<11>(rest, base, out, out_start),
            12 => self.run::<12>(rest, base, out, out_start),
            13 => self.run::<13>(rest, base, out, out_start),
            14 => self.run::<14>(rest, base, out, out_start),
            15 => self.run::<15>(rest, base, out, out_start),
            _ => self.run::<16>(rest, base, out, out_start),
        }
        self.bytes_in = in_start + input.len() as u64;
        self.bytes_out += (out.len() - out_start) as u64;
        Ok(())
    }

    /// The loop of [`encode`](Self::encode) over `rest` (the input after
    /// the first byte of the stream), for `max_bits == MB`; `base` is the
    /// stream offset of `rest[0]`, `out_start` where this call's output
    /// began.
    #[inline(always)]
    fn run<const MB: u32>(&mut self, rest: &[u8], base: u64, out: &mut Vec<u8>, out_start: usize) {
        let hmask: usize = (1 << (MB + 1)) - 1;
        let fmask: usize = (1 << (MB + 1 + FILTER_EXTRA_BITS)) - 1;
        debug_assert!(hmask == self.dict.hmask && fmask == self.dict.fmask);
        let mut ent = self.ent;
        let mut hs = self.hs;
        let mut free = self.free;
        let maxmax = self.w.maxmax;
        let Dict {
            pairs,
            table,
            suffix,
            filter,
            ..
        } = &mut self.dict;
        let w = &mut self.w;

        'bytes: for (i, &c) in rest.iter().enumerate() {
            let hn = step(hs, c);
            let mut h = 0;
            if ent < 256 {
                // Strings of two bytes: a dense table, 128 KiB, always cached.
                let code = pairs[(ent << 8 | u32::from(c)) as usize & 0xFFFF];
                if code != 0 {
                    ent = u32::from(code);
                    hs = hn;
                    continue;
                }
            } else {
                h = (hn >> HSHIFT) as usize & hmask;
                let fb = (hn >> FSHIFT) as usize & fmask;
                if filter[(fb >> 6) & (FILTER_WORDS - 1)] >> (fb & 63) & 1 != 0 {
                    loop {
                        let s = table[h & (SLOTS - 1)];
                        if s >> 16 == ent {
                            // Same prefix; the last byte says for sure. Only
                            // a hit waits for this second load (64 KiB), and
                            // hits are predicted, so it costs no latency.
                            let code = s & 0xFFFF;
                            if suffix[code as usize] == c {
                                ent = code;
                                hs = hn;
                                continue 'bytes;
                            }
                        } else if s == 0 {
                            break;
                        }
                        h = (h + 1) & hmask;
                    }
                } else {
                    // Absent: find the first empty slot for the new entry.
                    while table[h & (SLOTS - 1)] != 0 {
                        h = (h + 1) & hmask;
                    }
                }
            }
            // `ent + c` is new: send `ent`, remember the new string, go on
            // from `c`.
            w.put_code(ent, out);
            if free < maxmax {
                if ent < 256 {
                    pairs[(ent << 8 | u32::from(c)) as usize & 0xFFFF] = free as u16;
                } else {
                    table[h & (SLOTS - 1)] = ent << 16 | free;
                    suffix[free as usize & 0xFFFF] = c;
                    let fb = (hn >> FSHIFT) as usize & fmask;
                    filter[(fb >> 6) & (FILTER_WORDS - 1)] |= 1 << (fb & 63);
                }
                free += 1;
            } else if self.block_mode {
                let bytes_in = base + i as u64 + 1;
                if bytes_in >= self.checkpoint {
                    let bytes_out = self.bytes_out + (out.len() - out_start) as u64;
                    let bytes_out = bytes_out + u64::from(w.bitcnt / 8);
                    if ratio_dropped(&mut self.checkpoint, &mut self.ratio, bytes_in, bytes_out) {
                        w.clear(out);
                        free = FIRST;
                        self.clears += 1;
                        // A new dictionary: empty the parts in use.
                        pairs.fill(0);
                        table[..=hmask].fill(0);
                        filter[..(fmask + 1).div_ceil(64)].fill(0);
                    }
                }
            }
            ent = u32::from(c);
            hs = step(SEED, c);
        }
        self.ent = ent;
        self.hs = hs;
        self.free = free;
    }

    /// Write the last code and the final partial byte. Further calls to
    /// `encode` or `finish` fail with [`LzwError::Finished`].
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), LzwError> {
        if self.finished {
            return Err(LzwError::Finished);
        }
        self.header(out);
        let w = &mut self.w;
        if self.ent != NONE {
            let start = out.len();
            w.put_code(self.ent, out);
            self.bytes_out += (out.len() - start) as u64;
        }
        let nbytes = w.bitcnt.div_ceil(8) as usize;
        out.extend_from_slice(&w.bitbuf.to_le_bytes()[..nbytes]);
        self.bytes_out += nbytes as u64;
        w.bitbuf = 0;
        w.bitcnt = 0;
        self.finished = true;
        Ok(())
    }
}

/// The CLEAR test, every `CHECK_GAP` input bytes once the dictionary is
/// full: has the ratio dropped below the best since the last CLEAR?
#[cold]
fn ratio_dropped(checkpoint: &mut u64, ratio: &mut u64, bytes_in: u64, bytes_out: u64) -> bool {
    *checkpoint = bytes_in + CHECK_GAP;
    // 8 fractional bits, computed exactly as compress does (its second
    // form avoided a 32-bit overflow; keeping it keeps our CLEARs, and so
    // our bytes, the same as ncompress's).
    let rat = if bytes_in > 0x007f_ffff {
        match bytes_out >> 8 {
            0 => 0x7fff_ffff,
            d => bytes_in / d,
        }
    } else {
        (bytes_in << 8) / bytes_out.max(1)
    };
    if rat >= *ratio {
        *ratio = rat;
        false
    } else {
        *ratio = 0;
        true
    }
}

impl Writer {
    /// Send `code` as the decoder will read it: first the decoder's width
    /// check (widen after padding out the group), then the code, then the
    /// decoder's dictionary count.
    #[inline(always)]
    fn put_code(&mut self, code: u32, out: &mut Vec<u8>) {
        if self.dec_free > self.maxcode {
            self.widen(out);
        }
        self.put_bits(code);
        self.dec_free += u32::from(self.dec_free < self.maxmax);
        self.flush_word(out);
    }

    #[cold]
    fn widen(&mut self, out: &mut Vec<u8>) {
        self.pad_group(out);
        self.n_bits += 1;
        self.maxcode = if self.n_bits == self.max_bits {
            self.maxmax
        } else {
            (1 << self.n_bits) - 1
        };
    }

    #[inline(always)]
    fn put_bits(&mut self, code: u32) {
        self.bitbuf |= u64::from(code) << self.bitcnt;
        self.bitcnt += self.n_bits;
        self.codes_in_run += 1;
    }

    /// Move the whole bytes of `bitbuf` (at most 23 bits are there after a
    /// code) to `out`, without a branch on how many: write all 8 and keep
    /// the right number.
    #[inline(always)]
    fn flush_word(&mut self, out: &mut Vec<u8>) {
        let len = out.len();
        out.extend_from_slice(&self.bitbuf.to_le_bytes());
        let n = self.bitcnt / 8;
        out.truncate(len + n as usize);
        self.bitbuf >>= 8 * n;
        self.bitcnt -= 8 * n;
    }

    /// The bit-group quirk: fill the rest of the current group of 8 codes
    /// with zero bits, as `compress` does when it writes out its whole
    /// 8-code buffer at a width change or CLEAR.
    #[cold]
    fn pad_group(&mut self, out: &mut Vec<u8>) {
        while self.codes_in_run % 8 != 0 {
            self.put_bits(0);
            self.flush_word(out);
        }
        self.codes_in_run = 0;
    }

    /// Send CLEAR, pad its group, and go back to 9 bits (the caller empties
    /// the dictionary).
    #[cold]
    fn clear(&mut self, out: &mut Vec<u8>) {
        // CLEAR goes through the decoder's width check like any code, but
        // the decoder adds no entry for it.
        if self.dec_free > self.maxcode {
            self.pad_group(out);
            self.n_bits += 1;
        }
        self.put_bits(CLEAR);
        self.flush_word(out);
        self.pad_group(out);
        self.n_bits = INIT_BITS;
        self.maxcode = (1 << INIT_BITS) - 1;
        // The decoder resets its next free entry to 256 and then (it keeps
        // its previous code) fills the unusable entry 256 on the next code.
        self.dec_free = CLEAR;
    }
}
