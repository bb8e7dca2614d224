//! The byte statistics a block's code is built from (an encoder's choice,
//! not part of the format: any complete code that covers the block's bytes
//! decodes).
//!
//! Counting is a memory increment per byte, about as costly as the coding
//! itself (the increments are bound by the core's store throughput, not by
//! a dependency chain: more sub-histograms do not help). So only an eighth
//! of the block is counted: the first 8-byte word of every 64 bytes
//! ([`WINDOW`]). The code needs every byte value that occurs, though (a
//! byte without a code cannot be coded), so the block is then checked
//! against the counted values, which costs far less than counting (with
//! AVX2: 32 bytes per a dozen vector operations, from two 16-entry nibble
//! tables of the set), and a value that occurs only among the bytes not
//! counted gets a count of 1: it is rare there, and its code is long
//! whatever its exact count.
//!
//! An eighth of a 128 KiB block is 16 K samples in runs of eight: the
//! code's lengths follow the byte distribution closely. Against counting
//! half the bytes (the rule before, itself within 0.03 % of exact counts
//! over Silesia): +0.06 % on float32 exponent bytes, +0.002 % on geometric
//! bytes, +0.07 % over the 8 Silesia files (+0.22 % on `mr`, the worst),
//! for 7-15 % more speed (`docs/huffman.md`).
//! The rule depends on the block's bytes alone, so the serial encoder
//! (which counts the next block while it codes this one) and the parallel
//! one (which counts each block by itself) build the same code.
use super::table::{count8, merge4};

/// Bytes are counted in 8-byte words, the first word of every window of
/// this many bytes: an eighth of the block. Whole words, not single bytes
/// a stride apart, which alias with 2- and 4-byte structure (every 8th
/// byte of a 16-bit image is a high byte: measured +15 % on Silesia `mr`);
/// and at the same offset in every window, so that the encoder's loads of
/// them keep a constant stride the hardware prefetcher follows (a word
/// picked by a hash of the window's index measured 10-20 % slower on text,
/// for 0.02 % smaller output over Silesia).
pub(crate) const WINDOW: usize = 64;
const WORD: usize = 8;

/// The counted word of a window.
#[inline(always)]
pub(crate) fn sample_word(win: &[u8; WINDOW]) -> u64 {
    u64::from_le_bytes([
        win[0], win[1], win[2], win[3], win[4], win[5], win[6], win[7],
    ])
}

/// Count the counted words of `data` into `h` (four sub-histograms, as in
/// [`super::table::histogram_small`]); `data` must start at a block
/// offset that is a multiple of [`WINDOW`].
#[inline(always)]
pub(crate) fn count_sample(h: &mut [[u32; 256]; 4], data: &[u8]) {
    let mut chunks = data.chunks_exact(WINDOW);
    for c in &mut chunks {
        count8(h, sample_word(c.try_into().unwrap_or(&[0; WINDOW])));
    }
    for &b in chunks.remainder().iter().take(WORD) {
        h[0][usize::from(b)] += 1;
    }
}

/// The statistics of `block` (module docs): the counts of its counted
/// words, and 1 for each other byte value in it.
pub(crate) fn block_stats(block: &[u8]) -> [u32; 256] {
    let mut h = [[0; 256]; 4];
    count_sample(&mut h, block);
    finish(merge4(&h), block)
}

/// [`block_stats`] from `sample`, the counts of `block`'s counted words.
pub(crate) fn finish(sample: [u32; 256], block: &[u8]) -> [u32; 256] {
    let mut counts = sample;
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx2 {
        #[allow(unsafe_code)]
        // SAFETY: `add_missing_avx2` needs only a CPU with AVX2, which
        // `cpu::features()` has just checked.
        unsafe {
            add_missing_avx2(&mut counts, block)
        };
        return counts;
    }
    add_missing_generic(&mut counts, block);
    counts
}

/// Give each byte of `data` with no count a count of 1, a byte at a time.
fn add_missing_generic(counts: &mut [u32; 256], data: &[u8]) {
    for &b in data {
        let c = &mut counts[usize::from(b)];
        *c = (*c).max(1);
    }
}

/// The set of bytes with nonzero counts as two tables indexed by a byte's
/// low nibble: bit `h` of `lo[n]` is set when byte `h << 4 | n` is in the
/// set (for `h < 8`), bit `h - 8` of `hi[n]` likewise for `h >= 8`.
fn nibble_tables(counts: &[u32; 256]) -> ([u8; 16], [u8; 16]) {
    let (mut lo, mut hi) = ([0u8; 16], [0u8; 16]);
    for (b, &c) in counts.iter().enumerate() {
        if c != 0 {
            let (h, n) = (b >> 4, b & 15);
            if h < 8 {
                lo[n] |= 1 << h;
            } else {
                hi[n] |= 1 << (h - 8);
            }
        }
    }
    (lo, hi)
}

/// [`add_missing_generic`] with AVX2, 32 bytes at a time: each byte's row
/// of the set (`lo` or `hi` of [`nibble_tables`], by its high nibble) is
/// looked up by its low nibble with `vpshufb`, its bit (one of eight, by
/// the high nibble) by another; a chunk with a byte whose bit is clear
/// (rare) goes through the generic code, and the tables are rebuilt. The
/// tail (under 32 bytes) goes through the generic code. A test checks
/// that both give the same counts.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn add_missing_avx2(counts: &mut [u32; 256], data: &[u8]) {
    use std::arch::x86_64::*;
    let tables = |counts: &[u32; 256]| {
        let (lo, hi) = nibble_tables(counts);
        // SAFETY: 16-byte unaligned loads of the two 16-byte tables.
        unsafe {
            (
                _mm256_broadcastsi128_si256(_mm_loadu_si128(lo.as_ptr().cast())),
                _mm256_broadcastsi128_si256(_mm_loadu_si128(hi.as_ptr().cast())),
            )
        }
    };
    let (mut lo, mut hi) = tables(counts);
    let bits = _mm256_setr_epi8(
        1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
        1, 2, 4, 8, 16, 32, 64, -128,
    );
    let nibble = _mm256_set1_epi8(0x0F);
    let seven = _mm256_set1_epi8(7);
    let zero = _mm256_setzero_si256();
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        // SAFETY: a 32-byte unaligned load of the 32 bytes of `c`.
        let x = unsafe { _mm256_loadu_si256(c.as_ptr().cast()) };
        let n = _mm256_and_si256(x, nibble);
        let h = _mm256_and_si256(_mm256_srli_epi16::<4>(x), nibble);
        let row = _mm256_blendv_epi8(
            _mm256_shuffle_epi8(lo, n),
            _mm256_shuffle_epi8(hi, n),
            _mm256_cmpgt_epi8(h, seven),
        );
        let hit = _mm256_and_si256(row, _mm256_shuffle_epi8(bits, h));
        let missing = _mm256_cmpeq_epi8(hit, zero);
        if _mm256_testz_si256(missing, missing) == 0 {
            add_missing_generic(counts, c);
            (lo, hi) = tables(counts);
        }
    }
    add_missing_generic(counts, chunks.remainder());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::huff0::histogram;
    use proptest::prelude::*;

    /// The counts of the sampled bytes, the slow way.
    fn sample_counts(block: &[u8]) -> [u32; 256] {
        let mut h = [0u32; 256];
        for (i, &b) in block.iter().enumerate() {
            if i % WINDOW < WORD {
                h[usize::from(b)] += 1;
            }
        }
        h
    }

    /// `block_stats`, the slow way.
    fn stats_slow(block: &[u8]) -> [u32; 256] {
        let mut h = sample_counts(block);
        for &b in block {
            h[usize::from(b)] = h[usize::from(b)].max(1);
        }
        h
    }

    #[test]
    fn sample_counts_and_one_for_the_others() {
        let mut block: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 13) as u8).collect();
        assert_eq!(block_stats(&block), sample_counts(&block));
        assert_ne!(block_stats(&block), histogram(&block));
        // Byte values only among the bytes not counted, at the start, in
        // the middle, in the tail.
        let uncounted = |i: usize| i % WINDOW >= WORD;
        let firsts = (0..).filter(|&i| uncounted(i));
        let lasts = (0..10_000).rev().filter(|&i| uncounted(i));
        let middles = (5000..).filter(|&i| uncounted(i));
        let ats: Vec<usize> = firsts
            .take(2)
            .chain(middles.take(1))
            .chain(lasts.take(2))
            .collect();
        for at in ats {
            assert!(at != 57 && uncounted(57));
            let mut b = block.clone();
            b[at] = 200;
            b[57] = 201;
            let s = block_stats(&b);
            assert_eq!(s, stats_slow(&b), "at {at}");
            assert_eq!((s[200], s[201]), (1, 1));
        }
        // ... and a value among the sampled bytes too: its count there.
        let counted: Vec<usize> = (0..10_000).filter(|&i| !uncounted(i)).take(2).collect();
        block[counted[0]] = 200;
        block[counted[1]] = 200;
        block[(0..).find(|&i| uncounted(i)).unwrap()] = 200;
        assert_eq!(block_stats(&block), sample_counts(&block));
        assert_eq!(block_stats(&block)[200], 2);
        // Tiny blocks, tails shorter than a word or a period.
        for n in 0..40 {
            let distinct: Vec<u8> = (0..n as u8).collect();
            assert_eq!(block_stats(&distinct), stats_slow(&distinct), "n = {n}");
            let s = block_stats(&distinct);
            assert!(distinct.iter().all(|&x| s[usize::from(x)] == 1));
        }
    }

    #[test]
    fn counting_a_block_in_parts_is_counting_it_whole() {
        let block: Vec<u8> = (0..5000u32).map(|i| (i * i % 251) as u8).collect();
        for cut in [0, 64, 128, 4992, 5000] {
            let mut h = [[0; 256]; 4];
            count_sample(&mut h, &block[..cut]);
            count_sample(&mut h, &block[cut..]);
            assert_eq!(merge4(&h), sample_counts(&block), "cut {cut}");
        }
    }

    proptest! {
        #[test]
        fn avx2_and_generic_agree(
            data in prop::collection::vec(prop_oneof![0u8..8, any::<u8>()], 0..700),
            set in prop::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut counts = [0u32; 256];
            for &b in &set {
                counts[usize::from(b)] += 3;
            }
            let mut generic = counts;
            add_missing_generic(&mut generic, &data);
            prop_assert_eq!(finish(counts, &data), generic);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                let mut avx2 = counts;
                #[allow(unsafe_code)]
                // SAFETY: AVX2 is present (checked just above).
                unsafe { add_missing_avx2(&mut avx2, &data) };
                prop_assert_eq!(avx2, generic);
            }
        }
    }

    #[test]
    fn every_byte_value_in_every_lane() {
        // Each of the 256 values missing from an otherwise full set, at
        // several positions of several 32-byte chunks and in the tail.
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            for missing in 0..=255u8 {
                let mut counts = [5u32; 256];
                counts[usize::from(missing)] = 0;
                for at in [0, 7, 16, 31, 40, 70, 100, 127, 161, 255, 290] {
                    let mut data: Vec<u8> = (0..300u32).map(|i| (i * 37 % 256) as u8).collect();
                    for d in &mut data {
                        if *d == missing {
                            *d = missing.wrapping_add(1);
                        }
                    }
                    data[at] = missing;
                    let mut avx2 = counts;
                    #[allow(unsafe_code)]
                    // SAFETY: AVX2 is present (checked above).
                    unsafe {
                        add_missing_avx2(&mut avx2, &data)
                    };
                    let mut want = counts;
                    want[usize::from(missing)] = 1;
                    assert_eq!(avx2, want, "missing {missing} at {at}");
                }
            }
        }
    }
}
