//! Unit and property tests of the `.Z` codec. Interoperability with the
//! reference tools in both directions is tested from Python
//! (`tests/test_lzw.py`); here the fixtures in `testdata/` (made by
//! Debian's `compress`, see `make_fixtures.py`) pin the decoder to it.

use super::*;
use proptest::prelude::*;

const INPUT: &[u8] = include_bytes!("testdata/input.bin");
const B10: &[u8] = include_bytes!("testdata/b10.Z");
const B12: &[u8] = include_bytes!("testdata/b12.Z");
const B16: &[u8] = include_bytes!("testdata/b16.Z");

/// `printf TOBEORNOTTOBEORTOBEORNOT | compress -c` (and `-b 9`).
const TOBE: &[u8] = b"TOBEORNOTTOBEORTOBEORNOT";
const TOBE_PAYLOAD: [u8; 18] = [
    0x54, 0x9e, 0x08, 0x29, 0xf2, 0x44, 0x8a, 0x93, 0x27, 0x54, 0x02, 0x0e, 0x2c, 0xa8, 0x90, 0xa0,
    0x41, 0x84,
];

fn with_header(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1f, 0x9d, flags];
    v.extend_from_slice(payload);
    v
}

fn text(n: usize) -> Vec<u8> {
    let words: Vec<&[u8]> = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do"
        .split(|&b| b == b' ')
        .collect();
    let mut x: u32 = 7;
    let mut v = Vec::with_capacity(n + 16);
    while v.len() < n {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        v.extend_from_slice(words[(x >> 16) as usize % words.len()]);
        v.push(if x % 13 == 0 { b'\n' } else { b' ' });
    }
    v.truncate(n);
    v
}

fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Streaming decode with the given input chunk sizes and output limit.
fn decode_chunked(z: &[u8], chunk: usize, max_out: usize) -> Result<Vec<u8>, LzwError> {
    let mut d = LzwDecoder::new();
    let mut out = Vec::new();
    for piece in z.chunks(chunk.max(1)) {
        let mut rest = piece;
        loop {
            let p = d.decode(rest, &mut out, max_out)?;
            rest = &rest[p.consumed..];
            if rest.is_empty() && !d.has_pending_output() {
                break;
            }
        }
    }
    while d.has_pending_output() {
        d.decode(&[], &mut out, max_out)?;
    }
    d.finish()?;
    Ok(out)
}

#[test]
fn golden_small_streams_decode() {
    for flags in [0x90, 0x89] {
        assert_eq!(
            decompress(&with_header(flags, &TOBE_PAYLOAD)).unwrap(),
            TOBE
        );
    }
}

#[test]
fn encoder_matches_compress_bit_for_bit_on_small_input() {
    // No width change, no CLEAR: the parse and packing are forced.
    assert_eq!(
        compress(TOBE, 16).unwrap(),
        with_header(0x90, &TOBE_PAYLOAD)
    );
    assert_eq!(compress(TOBE, 9).unwrap(), with_header(0x89, &TOBE_PAYLOAD));
}

#[test]
fn non_block_mode_numbers_entries_from_256() {
    // Without block mode there is no CLEAR and code 256 is the first entry
    // (compress 4.0 and every decoder). ncompress 4.2's `-C` still numbers
    // from 257 and writes the TOBE payload above under flags 0x10, which
    // neither it nor gzip decodes correctly; the right stream differs.
    let mut e = LzwEncoder::new(16, false).unwrap();
    let mut out = Vec::new();
    e.encode(TOBE, &mut out).unwrap();
    e.finish(&mut out).unwrap();
    assert_ne!(out, with_header(0x10, &TOBE_PAYLOAD));
    assert_eq!(decompress(&out).unwrap(), TOBE);
    assert_ne!(
        decompress(&with_header(0x10, &TOBE_PAYLOAD)).ok(),
        Some(TOBE.to_vec())
    );
}

#[test]
fn golden_fixtures_from_ncompress_decode() {
    for z in [B10, B12, B16] {
        assert_eq!(decompress(z).unwrap(), INPUT);
        for (chunk, max_out) in [(1, 1), (7, 3), (100, 1000), (4096, usize::MAX)] {
            assert_eq!(decode_chunked(z, chunk, max_out).unwrap(), INPUT);
        }
    }
}

#[test]
fn clear_is_sent_and_read_back() {
    let mut e = LzwEncoder::new(10, true).unwrap();
    let mut z = Vec::new();
    e.encode(INPUT, &mut z).unwrap();
    e.finish(&mut z).unwrap();
    assert!(
        e.clears() > 0,
        "the text-then-noise input should trigger CLEAR"
    );
    assert_eq!(decompress(&z).unwrap(), INPUT);
}

#[test]
fn round_trips_every_max_bits() {
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![255],
        (0..=255).collect(),
        vec![b'a'; 100_000],
        text(300_000),
        noise(70_000, 3),
    ];
    let mut mixed = text(60_000);
    mixed.extend(noise(40_000, 9));
    mixed.extend(text(60_000));
    inputs.push(mixed);
    for max_bits in 9..=16 {
        for block in [true, false] {
            for data in &inputs {
                let mut e = LzwEncoder::new(max_bits, block).unwrap();
                let mut z = Vec::new();
                e.encode(data, &mut z).unwrap();
                e.finish(&mut z).unwrap();
                assert_eq!(z[2], max_bits as u8 | if block { 0x80 } else { 0 });
                let back = decompress(&z)
                    .unwrap_or_else(|err| panic!("max_bits {max_bits} block {block}: {err}"));
                assert!(
                    back == *data,
                    "max_bits {max_bits} block {block} len {}",
                    data.len()
                );
            }
        }
    }
}

#[test]
fn empty_input_is_header_only() {
    assert_eq!(compress(b"", 16).unwrap(), [0x1f, 0x9d, 0x90]);
    assert_eq!(decompress(&[0x1f, 0x9d, 0x90]).unwrap(), b"");
}

#[test]
fn max_bits_9_widens_to_10_like_compress_4_0() {
    // 300 distinct pairs: every byte starts a new string, so the 9-bit
    // dictionary fills after 255 entries and the decoder's rule widens.
    let data = noise(3000, 11);
    let z = compress(&data, 9).unwrap();
    let mut d = LzwDecoder::new();
    let mut out = Vec::new();
    d.decode(&z, &mut out, usize::MAX).unwrap();
    d.finish().unwrap();
    assert_eq!(out, data);
    assert_eq!(d.width(), 10);
    // Noise: nearly one code per byte; the first 256 codes are 9 bits (32
    // whole groups, 288 bytes), the rest 10 bits although no code exceeds
    // 511. Staying at 9 bits would give about 3 + 3000 * 9 / 8 bytes.
    assert!(
        z.len() > 3 + 288 + (data.len() - 400) * 10 / 8,
        "{}",
        z.len()
    );
}

#[test]
fn stream_with_a_header_that_lies_about_max_bits_never_panics() {
    // Like ncompress 4.2's `-b 9` output, the codes do not follow the width
    // rule the header implies; decoding may fail or garble but not panic.
    let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let mut e = LzwEncoder::new(16, true).unwrap();
    let mut z = Vec::new();
    e.encode(&data, &mut z).unwrap();
    e.finish(&mut z).unwrap();
    z[2] = 0x89; // claim 9 bits: the codes no longer match the header
    let _ = decompress(&z);
}

#[test]
fn streaming_encoder_output_does_not_depend_on_split() {
    let mut data = text(200_000);
    data.extend(noise(50_000, 5));
    data.extend(text(100_000));
    let whole = compress(&data, 12).unwrap();
    for step in [1usize, 3, 1000, 65_536] {
        let mut e = LzwEncoder::new(12, true).unwrap();
        let mut z = Vec::new();
        for c in data.chunks(step) {
            e.encode(c, &mut z).unwrap();
        }
        e.finish(&mut z).unwrap();
        assert_eq!(z, whole, "step {step}");
    }
}

#[test]
fn encoder_refuses_bad_max_bits_and_use_after_finish() {
    assert_eq!(
        LzwEncoder::new(8, true).err(),
        Some(LzwError::InvalidMaxBits { max_bits: 8 })
    );
    assert!(LzwEncoder::new(17, true).is_err());
    let mut e = LzwEncoder::new(16, true).unwrap();
    let mut out = Vec::new();
    e.finish(&mut out).unwrap();
    assert_eq!(e.encode(b"x", &mut out), Err(LzwError::Finished));
    assert_eq!(e.finish(&mut out), Err(LzwError::Finished));
}

#[test]
fn header_errors() {
    assert_eq!(decompress(b""), Err(LzwError::TruncatedHeader { len: 0 }));
    assert_eq!(
        decompress(b"\x1f"),
        Err(LzwError::TruncatedHeader { len: 1 })
    );
    assert_eq!(
        decompress(b"\x1f\x9d"),
        Err(LzwError::TruncatedHeader { len: 2 })
    );
    assert_eq!(
        decompress(b"\x1f\x8b\x08"),
        Err(LzwError::BadMagic {
            found: [0x1f, 0x8b]
        })
    );
    assert_eq!(
        decompress(b"\x1f\x9d\x91"),
        Err(LzwError::UnsupportedMaxBits { max_bits: 17 })
    );
    assert_eq!(
        decompress(b"\x1f\x9d\x88"),
        Err(LzwError::UnsupportedMaxBits { max_bits: 8 })
    );
    // Unassigned flag bits are ignored, as compress does.
    assert_eq!(decompress(&with_header(0xf0, &TOBE_PAYLOAD)).unwrap(), TOBE);
}

#[test]
fn corrupt_codes_are_errors() {
    // First code 300 (9 bits): not a literal.
    let z = with_header(0x90, &[0x2c, 0x01]);
    assert!(matches!(
        decompress(&z),
        Err(LzwError::FirstCodeNotLiteral {
            code: 300,
            offset: 3
        })
    ));
    // 'A' then code 400 while the next free entry is 257.
    let codes = (u32::from(b'A')) | (400 << 9);
    let z = with_header(0x90, &codes.to_le_bytes()[..3]);
    assert!(matches!(
        decompress(&z),
        Err(LzwError::InvalidCode {
            code: 400,
            next_free: 257,
            ..
        })
    ));
    // The error is sticky.
    let mut d = LzwDecoder::new();
    let mut out = Vec::new();
    assert!(d.decode(&z, &mut out, usize::MAX).is_err());
    assert!(d.decode(b"", &mut out, usize::MAX).is_err());
    assert!(d.finish().is_err());
}

#[test]
fn truncation_is_reported_when_visible() {
    let data = text(50_000);
    let z = compress(&data, 16).unwrap();
    // Cut inside a code: 16-bit codes by then, so dropping one byte leaves 8
    // dangling bits.
    let cut = &z[..z.len() - 1];
    let mut seen_truncated = 0;
    for end in (z.len() - 40)..z.len() {
        match decompress(&z[..end]) {
            Err(LzwError::Truncated { trailing_bits, .. }) => {
                assert!(trailing_bits >= 8);
                seen_truncated += 1;
            }
            Ok(v) => assert!(data.starts_with(&v)),
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(seen_truncated > 10);
    assert!(decompress(cut).is_err() || data.starts_with(&decompress(cut).unwrap()));
    // A stream that ends right after CLEAR.
    let z = with_header(0x90, &[b'A', 0x00, 0x02]); // 'A', CLEAR (256) at 9 bits
    assert!(matches!(
        decompress(&z),
        Err(LzwError::EndsAfterClear { .. })
    ));
}

#[test]
fn decompress_limited_enforces_the_limit() {
    let z = compress(&vec![b'x'; 10_000], 16).unwrap();
    assert_eq!(decompress_limited(&z, 10_000).unwrap().len(), 10_000);
    assert_eq!(
        decompress_limited(&z, 9_999),
        Err(LzwError::OutputLimitExceeded { limit: 9_999 })
    );
}

#[test]
fn messages_say_what_and_where() {
    let m = LzwError::InvalidCode {
        code: 400,
        next_free: 257,
        offset: 5,
    }
    .to_string();
    assert!(
        m.contains("400") && m.contains("257") && m.contains("byte 5"),
        "{m}"
    );
    assert!(LzwError::BadMagic {
        found: [0x1f, 0x8b]
    }
    .to_string()
    .contains("1f 8b"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_round_trip(
        data in prop::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..20_000),
        max_bits in 9u32..=16,
        block in any::<bool>(),
        chunk in 1usize..5000,
        max_out in 1usize..5000,
    ) {
        let mut e = LzwEncoder::new(max_bits, block).unwrap();
        let mut z = Vec::new();
        for c in data.chunks(chunk) {
            e.encode(c, &mut z).unwrap();
        }
        e.finish(&mut z).unwrap();
        prop_assert_eq!(&decompress(&z).unwrap(), &data);
        prop_assert_eq!(&decode_chunked(&z, chunk, max_out).unwrap(), &data);
    }

    #[test]
    fn prop_mutations_never_panic(
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        trunc in any::<prop::sample::Index>(),
        which in 0usize..3,
    ) {
        let z = [B10, B12, B16][which];
        let mut m = z.to_vec();
        let i = pos.index(m.len());
        m[i] ^= byte | 1;
        m.truncate(trunc.index(m.len()) + 1);
        let one = decompress(&m);
        let streamed = decode_chunked(&m, 777, 333);
        // Streaming and one-shot agree on what the bytes mean.
        prop_assert_eq!(one.is_ok(), streamed.is_ok());
        if let (Ok(a), Ok(b)) = (one, streamed) {
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn prop_arbitrary_bytes_never_panic(
        flags in any::<u8>(),
        body in prop::collection::vec(any::<u8>(), 0..4000),
    ) {
        let z = with_header(flags, &body);
        let _ = decompress(&z);
        let _ = decode_chunked(&z, 13, 17);
    }
}

/// Inputs that stress the encoder's content hash (runs of one byte, zeros
/// above all, short periods) and the decoder's fast loop (KwKwK codes, long
/// strings, CLEAR in the middle of text).
fn hard_inputs() -> Vec<Vec<u8>> {
    let mut mixed = text(150_000);
    mixed.extend(noise(120_000, 5));
    mixed.extend(text(100_000));
    mixed.extend(vec![0u8; 70_000]);
    mixed.extend((0..90_000u32).map(|i| (i % 3) as u8));
    vec![
        vec![0u8; 300_000],
        vec![0xffu8; 100_001],
        (0..200_000u32).map(|i| (i % 2) as u8 * 7).collect(),
        mixed,
    ]
}

#[test]
fn hard_inputs_round_trip_one_shot_and_streamed_with_big_limits() {
    for data in hard_inputs() {
        for max_bits in [9, 12, 16] {
            for block in [true, false] {
                let mut e = LzwEncoder::new(max_bits, block).unwrap();
                let mut z = Vec::new();
                e.encode(&data, &mut z).unwrap();
                e.finish(&mut z).unwrap();
                // The same bytes however the input is split.
                let mut e2 = LzwEncoder::new(max_bits, block).unwrap();
                let mut z2 = Vec::new();
                for c in data.chunks(4093) {
                    e2.encode(c, &mut z2).unwrap();
                }
                e2.finish(&mut z2).unwrap();
                assert_eq!(z, z2, "max_bits {max_bits} block {block}");
                assert_eq!(decompress(&z).unwrap(), data);
                // Big output limits let the fast loop run in streaming
                // calls, with strings whose latest occurrence is in an
                // earlier call's output (the walk) and input that ends
                // inside a call; small ones keep it out.
                for (chunk, max_out) in
                    [(1000, 1 << 20), (65_536, 70_000), (7, 1 << 17), (333, 100)]
                {
                    assert_eq!(
                        decode_chunked(&z, chunk, max_out).unwrap(),
                        data,
                        "max_bits {max_bits} block {block} chunk {chunk} max_out {max_out}"
                    );
                }
            }
        }
    }
}

/// Streaming decode into a fresh buffer per call (as the Python binding
/// does), checking every call stays within `max_out`.
fn decode_fresh_buffers(z: &[u8], chunk: usize, max_out: usize) -> Vec<u8> {
    let mut d = LzwDecoder::new();
    let mut all = Vec::new();
    for piece in z.chunks(chunk.max(1)) {
        let mut rest = piece;
        loop {
            let mut out = Vec::new();
            let p = d.decode(rest, &mut out, max_out).unwrap();
            assert!(out.len() <= max_out, "{} > {max_out}", out.len());
            all.extend_from_slice(&out);
            rest = &rest[p.consumed..];
            if rest.is_empty() && !d.has_pending_output() {
                break;
            }
        }
    }
    d.finish().unwrap();
    all
}

#[test]
fn output_limits_hold_with_a_fresh_buffer_per_call() {
    let data = &hard_inputs()[3];
    for max_bits in [9, 16] {
        let z = compress(data, max_bits).unwrap();
        for (chunk, max_out) in [
            (100, 1),
            (5000, 2),
            (3, 7),
            (70_000, 65_536),
            (1 << 20, 65_537),
        ] {
            assert_eq!(&decode_fresh_buffers(&z, chunk, max_out), data);
        }
    }
}

#[test]
fn zero_runs_compress_like_text_does() {
    // A run of zeros is the easiest input there is; a content hash that
    // maps it to one slot would still round-trip but crawl. Check the
    // table stays usable: the stream is tiny and decodes.
    let data = vec![0u8; 1 << 20];
    let z = compress(&data, 16).unwrap();
    assert!(z.len() < 4000, "{}", z.len());
    assert_eq!(decompress(&z).unwrap(), data);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn prop_mutations_agree_with_big_streaming_limits(
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        which in 0usize..3,
        chunk in 100usize..100_000,
    ) {
        let z = [B10, B12, B16][which];
        let mut m = z.to_vec();
        let i = pos.index(m.len());
        m[i] ^= byte | 1;
        let one = decompress(&m);
        let streamed = decode_chunked(&m, chunk, 1 << 20);
        prop_assert_eq!(one.is_ok(), streamed.is_ok());
        if let (Ok(a), Ok(b)) = (one, streamed) {
            prop_assert_eq!(a, b);
        }
    }
}

/// An `OutputBuffer` like the Python `bytes` builder: it makes room
/// `step` bytes at a time, filled with stale bytes (not zeros: the decoder
/// must not rely on zeroed room), and refuses to grow past `fail_at`.
struct StepBuffer {
    v: Vec<u8>,
    step: usize,
    fail_at: usize,
}

impl StepBuffer {
    fn new(step: usize, fail_at: usize) -> Self {
        StepBuffer {
            v: Vec::new(),
            step,
            fail_at,
        }
    }
}

impl crate::inflate::OutputBuffer for StepBuffer {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.v
    }

    fn grow(&mut self, _keep: usize) -> Result<(), crate::InflateError> {
        let n = self.v.len() + self.step;
        if n > self.fail_at {
            return Err(crate::InflateError::OutputTooSmall {
                capacity: self.v.len(),
            });
        }
        self.v.resize(n, 0xAA);
        Ok(())
    }
}

#[test]
fn decompress_to_a_growing_buffer_matches_decompress() {
    let mut inputs = hard_inputs();
    inputs.push(INPUT.to_vec());
    inputs.push(TOBE.to_vec());
    for data in inputs {
        for max_bits in [9, 12, 16] {
            let z = compress(&data, max_bits).unwrap();
            for step in [1, 4096, 1 << 20] {
                let mut b = StepBuffer::new(step, usize::MAX);
                let n = decompress_to(&z, &mut b, usize::MAX).unwrap();
                assert_eq!(&b.v[..n], &data[..], "max_bits {max_bits} step {step}");
            }
        }
    }
    for z in [B10, B12, B16] {
        let mut b = StepBuffer::new(1000, usize::MAX);
        let n = decompress_to(z, &mut b, usize::MAX).unwrap();
        assert_eq!(&b.v[..n], INPUT);
    }
}

#[test]
fn decompress_to_reports_limits_failed_growth_and_bad_data() {
    let data = text(200_000);
    let z = compress(&data, 16).unwrap();
    let mut b = StepBuffer::new(5000, 50_000);
    assert!(matches!(
        decompress_to(&z, &mut b, usize::MAX),
        Err(LzwError::OutputAllocation { .. })
    ));
    let mut b = StepBuffer::new(5000, usize::MAX);
    assert_eq!(
        decompress_to(&z, &mut b, 1000),
        Err(LzwError::OutputLimitExceeded { limit: 1000 })
    );
    let mut b = StepBuffer::new(5000, usize::MAX);
    assert_eq!(decompress_to(&z, &mut b, data.len()), Ok(data.len()));
    assert_eq!(&b.v[..data.len()], &data[..]);
    let mut b = StepBuffer::new(5000, usize::MAX);
    assert_eq!(
        decompress_to(&z[..z.len() / 2], &mut b, usize::MAX).is_ok(),
        decompress(&z[..z.len() / 2]).is_ok()
    );
    let mut bad = z.clone();
    bad[100] ^= 0xff;
    let mut b = StepBuffer::new(5000, usize::MAX);
    assert_eq!(
        decompress_to(&bad, &mut b, usize::MAX).err(),
        decompress(&bad).err()
    );
}

/// The parallel encoder with segments of `seg` bytes, fed in pieces of
/// `piece` bytes.
fn parallel(data: &[u8], max_bits: u32, threads: usize, seg: usize, piece: usize) -> Vec<u8> {
    let mut e = ParallelLzwEncoder::with_segment(max_bits, threads, seg).unwrap();
    let mut out = Vec::new();
    for p in data.chunks(piece.max(1)) {
        e.encode(p, &mut out).unwrap();
    }
    e.finish(&mut out).unwrap();
    assert!(e.is_finished());
    assert!(matches!(e.finish(&mut out), Err(LzwError::Finished)));
    out
}

#[test]
fn parallel_segments_join_into_one_stream() {
    let mut data = text(150_000);
    data.extend(noise(40_000, 3));
    data.extend(vec![0u8; 30_000]);
    for max_bits in [9, 12, 16] {
        for seg in [4096, 50_000] {
            let want = parallel(&data, max_bits, 2, seg, usize::MAX);
            assert_eq!(
                decompress(&want).unwrap(),
                data,
                "max_bits {max_bits} seg {seg}"
            );
            // One-shot: every segment in one batch, the same bytes.
            assert_eq!(
                parallel::compress_parallel_with(&data, max_bits, 2, seg).unwrap(),
                want
            );
            // Streamed in pieces and on any thread count but 1: the same.
            for (threads, piece) in [(3, 1000), (0, 33_333), (2, 49_999)] {
                assert_eq!(
                    parallel(&data, max_bits, threads, seg, piece),
                    want,
                    "max_bits {max_bits} seg {seg} threads {threads} piece {piece}"
                );
            }
            // Every segment after the first begins after a CLEAR.
            let mut e = ParallelLzwEncoder::with_segment(max_bits, 2, seg).unwrap();
            let mut out = Vec::new();
            e.encode(&data, &mut out).unwrap();
            e.finish(&mut out).unwrap();
            assert!(e.clears() >= (data.len().div_ceil(seg) - 1) as u64);
        }
    }
}

#[test]
fn parallel_tiny_segments_and_pieces() {
    // Segments of 1 to 9 bytes (a CLEAR every few codes), fed a byte at a
    // time or whole.
    let data = text(300);
    for seg in 1..10 {
        let want = parallel(&data, 16, 2, seg, usize::MAX);
        assert_eq!(decompress(&want).unwrap(), data, "seg {seg}");
        assert_eq!(parallel(&data, 16, 3, seg, 1), want, "seg {seg}");
    }
}

#[test]
fn parallel_stream_of_one_segment_is_the_serial_stream() {
    for n in [0, 1, 2, 100, 70_000] {
        let data = text(n);
        for max_bits in [9, 16] {
            let serial = compress(&data, max_bits).unwrap();
            assert_eq!(parallel(&data, max_bits, 2, 70_000, 999), serial, "n {n}");
            if n <= SEGMENT_SIZE {
                assert_eq!(compress_parallel(&data, max_bits, 2).unwrap(), serial);
            }
        }
    }
    assert!(matches!(
        ParallelLzwEncoder::new(8, 2),
        Err(LzwError::InvalidMaxBits { max_bits: 8 })
    ));
}

#[test]
fn parallel_segments_cost_little_ratio() {
    // Segments of 1 MiB on 4 MiB of text: each starts with an empty
    // dictionary, yet the total stays close to one stream's (this text of
    // a dozen words keeps gaining from an old dictionary, so +6.5 %; the 4
    // MiB segments cost 0.3 % on Silesia).
    let data = text(4 << 20);
    let serial = compress(&data, 16).unwrap().len();
    let par = parallel(&data, 16, 2, 1 << 20, usize::MAX).len();
    assert!(par < serial * 110 / 100, "{par} vs {serial}");
}
