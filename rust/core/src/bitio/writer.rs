//! LSB-first bit writer for the DEFLATE encoder.
//!
//! DEFLATE packs data elements starting at the least significant bit of each
//! byte, and Huffman codes are sent most-significant-bit first, which the
//! encoder handles by storing codes already bit-reversed (see
//! [`crate::huffman::build`]). So this writer only ever appends `n` low bits
//! of a value above the bits it already holds.
//!
//! State and invariants:
//! - `bitbuf` holds `bitcount` pending bits in its low end (bit 0 is the next
//!   bit of the stream); every bit at or above `bitcount` is zero.
//! - After every public call `bitcount < 32`, so a single [`BitWriter::put`]
//!   of up to 32 bits always fits in the 64-bit buffer without a check.
//! - `out[..pos]` are finished bytes; `out.len() >= pos + 8` at all times, so
//!   a flush can store all 8 bytes of `bitbuf` unconditionally and then
//!   advance `pos` by the number of whole bytes only. The bytes written past
//!   `pos` are scratch that the next flush overwrites.
//!
//! Why it is fast: a `put` is an OR, a shift and an add; the flush (taken at
//! most once per 32 bits) is one unconditional 8-byte store plus a shift,
//! not a loop over bits or bytes. Callers emitting a literal/length code with
//! its extra bits combine them into one `put` (at most 15 + 5 bits), and the
//! distance code with its extra bits into another (at most 15 + 13 bits).
//!
//! Partial bits survive across calls: the encoder drains finished bytes with
//! [`BitWriter::drain_into`] after every `deflate` call and the last `< 8`
//! bits wait here for the next one.

/// Streaming LSB-first bit writer with a 64-bit buffer.
#[derive(Clone, Debug)]
pub struct BitWriter {
    bitbuf: u64,
    bitcount: u32,
    out: Vec<u8>,
    pos: usize,
}

impl Default for BitWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BitWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self {
            bitbuf: 0,
            bitcount: 0,
            out: vec![0; 64],
            pos: 0,
        }
    }

    /// Make room so that at least `n` more bytes can be written without
    /// growing inside a hot loop (optional: `put` grows on demand too).
    pub fn reserve(&mut self, n: usize) {
        let need = self.pos + n + 8;
        if need > self.out.len() {
            self.out.resize(need.max(self.out.len() * 2).max(4096), 0);
        }
    }

    #[cold]
    fn grow(&mut self) {
        self.reserve(4096);
    }

    /// Append the low `n` bits of `bits` (`n <= 32`; higher bits of `bits`
    /// must be zero).
    #[inline(always)]
    pub fn put(&mut self, bits: u64, n: u32) {
        debug_assert!(n <= 32);
        debug_assert!(n == 64 || bits >> n == 0);
        self.bitbuf |= bits << self.bitcount;
        self.bitcount += n;
        if self.bitcount >= 32 {
            self.flush_word();
        }
    }

    /// Store the whole buffer, keep only the bits of the last partial byte.
    #[inline(always)]
    fn flush_word(&mut self) {
        if self.pos + 8 > self.out.len() {
            self.grow();
        }
        self.out[self.pos..self.pos + 8].copy_from_slice(&self.bitbuf.to_le_bytes());
        let nbytes = self.bitcount >> 3;
        self.pos += nbytes as usize;
        // nbytes <= 7 here (bitcount < 64), so the shift is in range.
        self.bitbuf >>= nbytes * 8;
        self.bitcount &= 7;
    }

    /// Pad with zero bits up to the next byte boundary.
    pub fn align_to_byte(&mut self) {
        self.bitcount = (self.bitcount + 7) & !7;
        self.flush_word();
        debug_assert_eq!(self.bitcount, 0);
    }

    /// True if no partial byte is pending.
    pub fn is_aligned(&self) -> bool {
        self.bitcount & 7 == 0
    }

    /// Number of pending bits not yet in a whole byte (0..=7 after a flush;
    /// `bitcount` is always < 32).
    pub fn pending_bits(&self) -> u32 {
        self.bitcount
    }

    /// Bits written since the last `drain_into` / `attach` (plus the bytes
    /// already in an attached buffer).
    pub fn bit_len(&self) -> u64 {
        self.pos as u64 * 8 + self.bitcount as u64
    }

    /// Append raw bytes (stored block payload). The writer must be byte
    /// aligned (call [`BitWriter::align_to_byte`] first).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        assert!(self.is_aligned(), "write_bytes on an unaligned BitWriter");
        // Any whole bytes in the bit buffer go first.
        self.flush_word();
        debug_assert_eq!(self.bitcount, 0);
        // Append instead of resize-then-copy: the payload is written once,
        // not zero-filled first.
        self.out.truncate(self.pos);
        self.out.extend_from_slice(bytes);
        self.pos += bytes.len();
        self.out.extend_from_slice(&[0; 8]);
    }

    /// Start appending to `out` (the caller's buffer) without copying: the
    /// encoder attaches the caller's `Vec` for the duration of a call and
    /// [`BitWriter::detach`]es it at the end, so output is written once.
    /// Finished bytes not yet drained or detached are moved to `out` first.
    pub fn attach(&mut self, mut out: Vec<u8>) {
        self.flush_word();
        out.extend_from_slice(&self.out[..self.pos]);
        self.pos = out.len();
        out.extend_from_slice(&[0; 8]);
        self.out = out;
    }

    /// Give back the attached buffer holding every finished byte; the
    /// partial byte stays here.
    pub fn detach(&mut self) -> Vec<u8> {
        self.flush_word();
        let mut out = std::mem::take(&mut self.out);
        out.truncate(self.pos);
        self.pos = 0;
        self.out = vec![0; 64];
        out
    }

    /// Move all finished bytes to the end of `dst`, keeping the partial byte.
    pub fn drain_into(&mut self, dst: &mut Vec<u8>) {
        self.flush_word();
        dst.extend_from_slice(&self.out[..self.pos]);
        self.pos = 0;
        // Do not keep a huge scratch buffer alive after a big one-shot call.
        if self.out.len() > (1 << 20) {
            self.out.truncate(1 << 16);
            self.out.shrink_to_fit();
        }
    }

    /// Hand all finished bytes to `sink`, keeping the partial byte and the
    /// scratch buffer (reused for the next bytes): how the one-shot encoder
    /// moves output into a buffer of the caller's own as it goes, so that it
    /// never holds more than a segment's worth here.
    pub fn drain_with(&mut self, sink: &mut dyn FnMut(&[u8])) {
        self.flush_word();
        if self.pos > 0 {
            sink(&self.out[..self.pos]);
        }
        self.pos = 0;
    }

    /// Finished bytes not yet drained.
    pub fn bytes(&self) -> &[u8] {
        &self.out[..self.pos]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Minimal LSB-first reader for the tests only (the real one lives in
    /// `bitio::reader`, written separately).
    struct TestReader<'a> {
        data: &'a [u8],
        bit: usize,
    }
    impl TestReader<'_> {
        fn get(&mut self, n: u32) -> u64 {
            let mut v = 0u64;
            for i in 0..n as usize {
                let b = self.bit + i;
                let bitv = (self.data[b / 8] >> (b % 8)) & 1;
                v |= (bitv as u64) << i;
            }
            self.bit += n as usize;
            v
        }
    }

    #[test]
    fn simple_bits() {
        let mut w = BitWriter::new();
        w.put(0b1, 1);
        w.put(0b01, 2);
        w.put(0b11111, 5);
        let mut out = Vec::new();
        w.drain_into(&mut out);
        assert_eq!(out, vec![0b1111_1011]);
        w.put(0b101, 3);
        w.align_to_byte();
        w.drain_into(&mut out);
        assert_eq!(out, vec![0b1111_1011, 0b101]);
    }

    #[test]
    fn partial_bits_survive_drain() {
        let mut w = BitWriter::new();
        let mut out = Vec::new();
        w.put(0b101, 3);
        w.drain_into(&mut out);
        assert!(out.is_empty());
        w.put(0b11111, 5);
        w.drain_into(&mut out);
        assert_eq!(out, vec![0b1111_1101]);
    }

    #[test]
    fn raw_bytes_after_align() {
        let mut w = BitWriter::new();
        w.put(1, 3);
        w.align_to_byte();
        w.write_bytes(&[0xAB, 0xCD]);
        w.put(0xFFFF, 16);
        let mut out = Vec::new();
        w.drain_into(&mut out);
        assert_eq!(out, vec![1, 0xAB, 0xCD, 0xFF, 0xFF]);
        let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        w.write_bytes(&big);
        w.drain_into(&mut out);
        assert_eq!(&out[5..], &big[..]);
    }

    #[test]
    fn attach_detach_keeps_partial_bits() {
        let mut w = BitWriter::new();
        w.put(0xABC, 12);
        let out = vec![9u8];
        w.attach(out);
        w.put(0xF, 4);
        let out = w.detach();
        assert_eq!(out, vec![9, 0xBC, 0xFA]);
        w.put(0x5, 4);
        w.attach(out);
        w.align_to_byte();
        assert_eq!(w.detach(), vec![9, 0xBC, 0xFA, 0x05]);
    }

    proptest! {
        #[test]
        fn round_trip(items in prop::collection::vec((any::<u32>(), 0u32..=32, any::<bool>()), 0..400)) {
            let mut w = BitWriter::new();
            let mut out = Vec::new();
            let mut expect = Vec::new();
            for (i, &(v, n, align)) in items.iter().enumerate() {
                let v = if n == 32 { v as u64 } else { (v as u64) & ((1u64 << n) - 1) };
                w.put(v, n);
                expect.push((v, n));
                if align && i % 7 == 0 {
                    let pad = (8 - (w.bit_len() % 8) as u32) % 8;
                    w.align_to_byte();
                    expect.push((0, pad));
                }
                if i % 13 == 0 {
                    w.drain_into(&mut out);
                }
            }
            w.align_to_byte();
            w.drain_into(&mut out);
            let mut r = TestReader { data: &out, bit: 0 };
            for &(v, n) in &expect {
                prop_assert_eq!(r.get(n), v);
            }
            prop_assert!(r.bit <= out.len() * 8 && out.len() * 8 - r.bit < 8);
        }
    }
}
