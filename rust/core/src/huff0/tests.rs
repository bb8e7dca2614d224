//! Round trips over every kind of byte distribution, the container's
//! special cases, and the decoder's behaviour on damaged input.
use super::*;
use proptest::prelude::*;

/// Deterministic xorshift bytes.
fn rng_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Geometric-ish skew: byte k with probability about 2^-(k+1).
fn skewed(n: usize, seed: u64) -> Vec<u8> {
    rng_bytes(n, seed)
        .chunks(1)
        .zip(rng_bytes(n, seed + 1))
        .map(|(a, b)| (a[0] | 1).trailing_zeros() as u8 * 3 + (b & 1))
        .collect()
}

fn text(n: usize) -> Vec<u8> {
    let src = include_str!("mod.rs").as_bytes();
    src.iter().cycle().take(n).copied().collect()
}

fn round_trip(data: &[u8], opts: &Options) -> Vec<u8> {
    let c = compress(data, opts);
    let d = decompress(&c, data.len()).expect("decodes");
    assert_eq!(d, data);
    let p = decompress_with(&c, usize::MAX, 0).expect("decodes in parallel");
    assert_eq!(p, data);
    c
}

#[test]
fn distributions_round_trip() {
    let o = Options::default();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one byte", vec![42]),
        ("single symbol", vec![7; 300_000]),
        (
            "two symbols",
            rng_bytes(300_000, 1).iter().map(|b| b & 1).collect(),
        ),
        (
            "two symbols skewed",
            rng_bytes(300_000, 2)
                .iter()
                .map(|&b| (b < 3) as u8 * 200)
                .collect(),
        ),
        ("uniform", rng_bytes(300_000, 3)),
        ("skewed", skewed(300_000, 4)),
        ("text", text(300_000)),
        ("all bytes", (0..=255u8).cycle().take(70_000).collect()),
    ];
    for (name, data) in &cases {
        for bits in [8, 11, 12] {
            let c = round_trip(
                data,
                &Options {
                    max_bits: bits,
                    ..o
                },
            );
            if *name == "skewed" || *name == "text" {
                assert!(
                    c.len() < data.len() * 3 / 4,
                    "{name}: {} -> {}",
                    data.len(),
                    c.len()
                );
            }
        }
    }
}

#[test]
fn special_blocks() {
    let o = Options::default();
    assert_eq!(compress(&[], &o).len(), HEADER_SIZE);
    // One RLE block of 2 bytes per 128 KiB.
    let c = compress(&vec![9u8; 3 * MAX_BLOCK_SIZE], &o);
    assert_eq!(c.len(), HEADER_SIZE + 3 * 2);
    // Uniform random: stored, one byte of overhead per block.
    let r = rng_bytes(MAX_BLOCK_SIZE + 1, 5);
    let c = compress(&r, &o);
    assert_eq!(c.len(), HEADER_SIZE + r.len() + 2);
    assert_eq!(c[HEADER_SIZE], BLOCK_RAW);
}

#[test]
fn block_boundaries_and_sizes() {
    let data = skewed(3 * MAX_BLOCK_SIZE + 17, 6);
    for n in [
        1,
        2,
        3,
        4,
        5,
        7,
        8,
        9,
        63,
        64,
        65,
        MAX_BLOCK_SIZE - 1,
        MAX_BLOCK_SIZE,
        MAX_BLOCK_SIZE + 1,
        data.len(),
    ] {
        round_trip(&data[..n], &Options::default());
    }
    for bs in [1, 2, 5, 100, 4096, 65_537] {
        round_trip(
            &data[..300_000],
            &Options {
                block_size: bs,
                ..Options::default()
            },
        );
    }
}

/// An output that grows `step` bytes at a time (a binding's object grows
/// in chunks) and, from `fail_after` growths on, refuses (a failed
/// allocation).
struct Steps {
    v: Vec<u8>,
    step: usize,
    grows: usize,
    fail_after: usize,
}

impl OutputBuffer for Steps {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.v
    }

    fn grow(&mut self, keep: usize) -> Result<(), InflateError> {
        assert!(keep <= self.v.len());
        if self.grows == self.fail_after {
            return Err(InflateError::OutputTooSmall {
                capacity: self.v.len(),
            });
        }
        self.grows += 1;
        // Scribble on the room past `keep`: what the encoder has not
        // written yet must not matter.
        self.v[keep..].fill(0xA5);
        self.v.resize(self.v.len() + self.step, 0x5A);
        Ok(())
    }
}

#[test]
fn compress_to_a_growing_output() {
    let mut data = skewed(300_000, 3);
    data.extend(text(100_000));
    data.extend(rng_bytes(70_000, 4));
    data.extend([9; 5000]);
    for threads in [1, 2] {
        for block_size in [1000, MAX_BLOCK_SIZE] {
            let o = Options {
                threads,
                block_size,
                ..Options::default()
            };
            let want = compress(&data, &o);
            assert!(want.len() <= compress_bound(data.len(), block_size));
            for step in [1, 777, 64 << 10] {
                let mut out = Steps {
                    v: Vec::new(),
                    step,
                    grows: 0,
                    fail_after: usize::MAX,
                };
                let n = compress_to(&data, &o, &mut out).unwrap();
                assert_eq!(out.v[..n], want[..], "threads {threads} step {step}");
            }
            // A bound-sized buffer never grows.
            let mut out = Steps {
                v: vec![0; compress_bound(data.len(), block_size)],
                step: 1,
                grows: 0,
                fail_after: 0,
            };
            let n = compress_to(&data, &o, &mut out).unwrap();
            assert_eq!(out.v[..n], want[..]);
            // An output that cannot grow is an error, not a panic.
            for fail_after in [0, 3] {
                let mut out = Steps {
                    v: Vec::new(),
                    step: 4096,
                    grows: 0,
                    fail_after,
                };
                assert!(compress_to(&data, &o, &mut out).is_err());
            }
        }
    }
    assert_eq!(compress(&[], &Options::default()).len(), HEADER_SIZE);
}

#[test]
fn parallel_equals_serial() {
    let mut data = skewed(1_000_000, 7);
    data.extend(text(500_000));
    data.extend(rng_bytes(300_000, 8));
    let serial = compress(&data, &Options::default());
    for threads in [0, 2, 3] {
        let o = Options {
            threads,
            ..Options::default()
        };
        assert_eq!(compress(&data, &o), serial);
        assert_eq!(compress_blocks_parallel(&data, &o), serial);
        assert_eq!(decompress_with(&serial, usize::MAX, threads).unwrap(), data);
    }
}

#[test]
fn clamped_options() {
    let data = skewed(10_000, 9);
    let bad = Options {
        block_size: 0,
        max_bits: 99,
        threads: 1,
    };
    assert!(bad.validate().is_err());
    assert_eq!(
        decompress(&compress(&data, &bad), usize::MAX).unwrap(),
        data
    );
}

#[test]
fn header_errors_are_specific() {
    let data = skewed(200_000, 10);
    let c = compress(&data, &Options::default());
    assert_eq!(
        decompress(b"", 1),
        Err(Huff0Error::Truncated {
            what: "the 26-byte header",
            needed: 26,
            len: 0
        })
    );
    assert_eq!(
        decompress(b"SZ", 1).unwrap_err().to_string(),
        "truncated scalezip Huffman stream: the 26-byte header needs 26 bytes but the input has 2"
    );
    assert_eq!(decompress(b"PK\x03\x04", 1), Err(Huff0Error::NotHuff0));
    for version in [1, 3] {
        let mut v = c.clone();
        v[4] = version;
        assert_eq!(
            decompress(&v, usize::MAX),
            Err(Huff0Error::UnsupportedVersion(version))
        );
    }
    let mut v = c.clone();
    v[5] = 1;
    assert!(matches!(
        decompress(&v, usize::MAX),
        Err(Huff0Error::BadHeader(_))
    ));
    let mut v = c.clone();
    v[18] += 1;
    assert!(matches!(
        decompress(&v, usize::MAX),
        Err(Huff0Error::BadHeader(_))
    ));
    assert_eq!(
        decompress(&c, 1000),
        Err(Huff0Error::OutputTooLarge {
            size: 200_000,
            limit: 1000
        })
    );
    let mut v = c.clone();
    v.push(0);
    assert_eq!(
        decompress(&v, usize::MAX),
        Err(Huff0Error::TrailingData { offset: c.len() })
    );
    let mut v = c.clone();
    v[22] ^= 1;
    assert!(matches!(
        decompress(&v, usize::MAX),
        Err(Huff0Error::ChecksumMismatch { .. })
    ));
    let mut v = c.clone();
    v[HEADER_SIZE] = 9;
    assert_eq!(
        decompress(&v, usize::MAX),
        Err(Huff0Error::BadBlockType { block: 0, kind: 9 })
    );
}

#[test]
fn lying_length_does_not_allocate() {
    // A header claiming 2^40 bytes in 2^23 RLE blocks, with no blocks behind it.
    let mut v = Vec::from(MAGIC);
    v.extend([VERSION, 0]);
    v.extend((MAX_BLOCK_SIZE as u32).to_le_bytes());
    v.extend((1u64 << 40).to_le_bytes());
    v.extend((((1u64 << 40) / MAX_BLOCK_SIZE as u64) as u32).to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend([BLOCK_RLE, 0]);
    assert!(matches!(
        decompress(&v, usize::MAX),
        Err(Huff0Error::Truncated { .. })
    ));
}

#[test]
fn every_truncation_is_an_error() {
    let mut data = skewed(40_000, 11);
    data.extend(vec![3u8; 5000]);
    data.extend(rng_bytes(5000, 12));
    let c = compress(
        &data,
        &Options {
            block_size: 16_384,
            ..Options::default()
        },
    );
    for n in 0..c.len() {
        assert!(
            decompress(&c[..n], usize::MAX).is_err(),
            "prefix of {n} bytes decoded"
        );
    }
}

#[test]
fn table_api_round_trips() {
    let train = skewed(100_000, 13);
    let mut hist = histogram(&train);
    let t = Table::from_histogram(&hist, 11).unwrap();
    let blocks: Vec<Vec<u8>> = (0..6)
        .map(|i| skewed(50_000 + i * 1000, 14 + i as u64))
        .collect();
    let refs: Vec<&[u8]> = blocks.iter().map(Vec::as_slice).collect();
    let serial = encode_blocks_with(&t, &refs, 1);
    // Bytes missing from the training histogram have no code.
    if let Err(Huff0Error::SymbolNotInTable { .. }) = serial {
        for h in hist.iter_mut() {
            *h += 1;
        }
    }
    let t = Table::from_histogram(&hist, 11).unwrap();
    let serial = encode_blocks_with(&t, &refs, 1).unwrap();
    assert_eq!(encode_blocks_with(&t, &refs, 0).unwrap(), serial);
    let mut stored = Vec::new();
    t.write_to(&mut stored);
    let (t2, _) = Table::read_from(&stored).unwrap();
    for (b, e) in blocks.iter().zip(&serial) {
        assert_eq!(&decode_block_with(&t2, e, b.len()).unwrap(), b);
        assert!(e.len() < b.len() / 2);
    }
    let mut lens = [0u8; 256];
    lens[1] = 1;
    lens[2] = 1;
    let t = Table::from_lengths(&lens).unwrap();
    assert_eq!(
        encode_block_with(&t, b"\x01\x02\x03"),
        Err(Huff0Error::SymbolNotInTable { symbol: 3 })
    );
    // Claimed sizes the body cannot hold are refused before allocating.
    assert!(decode_block_with(&t, &[0; 12], usize::MAX).is_err());
}

/// Any damage to a stream gives an error or, for the rare mutation that
/// still decodes consistently, the original data; never a panic.
fn check_damaged(c: &[u8], data: &[u8]) {
    match decompress(c, 1 << 24) {
        Ok(d) => assert_eq!(d, data),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn round_trip_any(data in prop::collection::vec(prop_oneof![any::<u8>(), 0u8..3, Just(0u8)], 0..3000),
                      bs in prop_oneof![Just(MAX_BLOCK_SIZE), 1usize..600], bits in 8u32..=12) {
        let o = Options { block_size: bs, max_bits: bits, threads: 1 };
        let c = compress(&data, &o);
        prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn mutations_never_panic(seed in any::<u64>(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                             cut in prop::option::of(any::<usize>())) {
        let mut data = skewed(6000, seed);
        data.extend(text(3000 + (seed % 100) as usize));
        data.extend(vec![5u8; 1000]);
        let mut c = compress(&data, &Options { block_size: 2048, ..Options::default() });
        for (at, x) in flips {
            let i = at % c.len();
            c[i] ^= x.max(1);
        }
        if let Some(n) = cut {
            c.truncate(n % (c.len() + 1));
        }
        check_damaged(&c, &data);
    }

    #[test]
    fn damaged_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..200), out_len in 0usize..2000, bits in 8u32..=12) {
        let t = Table::from_histogram(&histogram(&skewed(5000, 3)), bits).unwrap();
        let _ = decode_block_with(&t, &body, out_len);
    }
}

#[test]
fn uneven_quarters_round_trip() {
    // The four streams of a block run out at different times: one quarter
    // of near-constant bytes (three per lookup), one uniform (one per
    // lookup), so the decoder's four-reader loop hands over to the
    // three-, two- and one-reader loops.
    let q = MAX_BLOCK_SIZE / 4;
    let mut data = Vec::new();
    data.extend(rng_bytes(q, 20).iter().map(|&b| u8::from(b < 8)));
    data.extend(rng_bytes(q, 21));
    data.extend(skewed(q, 22));
    data.extend(text(q));
    for bits in [8, 11, 12] {
        let o = Options {
            max_bits: bits,
            ..Options::default()
        };
        round_trip(&data, &o);
        // Also with the uniform quarter last, and odd sizes.
        let mut d2 = data.clone();
        d2.rotate_left(q);
        for n in [d2.len(), d2.len() - 1, d2.len() - 3, 1000, 97] {
            round_trip(&d2[..n], &o);
        }
    }
}

proptest! {
    /// The lengths-only entry points give exactly what the `Table` ones
    /// give: the same body bytes, and the same decoded bytes (and the
    /// reused decoder stays right from one block to the next).
    #[test]
    fn lengths_entry_points_equal_table_ones(
        blocks in prop::collection::vec(
            prop::collection::vec(prop_oneof![0u8..6, any::<u8>()], 2..3000), 1..4),
        bits in 8u32..=12,
    ) {
        let mut dec = BlockDecoder::default();
        for data in &blocks {
            let hist = histogram(data);
            let lens = code_lengths(&hist, bits).unwrap();
            let table = Table::from_histogram(&hist, bits).unwrap();
            prop_assert_eq!(&lens, table.lengths());
            let want = encode_block_with(&table, data).unwrap();
            let mut got = vec![7u8; 3];
            encode_block_with_lengths(&lens, data, &hist, &mut got).unwrap();
            prop_assert_eq!(&got[..3], &[7u8; 3]);
            prop_assert_eq!(&got[3..], &want[..]);
            let mut stored = Vec::new();
            table.write_to(&mut stored);
            let (read, used) = BlockDecoder::read_lengths(&stored).unwrap();
            prop_assert_eq!(used, stored.len());
            let mut back = vec![0u8; data.len()];
            dec.decode(&read, &want, &mut back).unwrap();
            prop_assert_eq!(&back, data);
        }
    }
}

#[test]
fn lengths_entry_points_refuse_bad_input() {
    assert!(code_lengths(&[1; 256], 7).is_err());
    assert!(code_lengths(&[1; 256], 13).is_err());
    // A counted byte without a code.
    let mut hist = [0u32; 256];
    hist[1] = 3;
    hist[2] = 1;
    let lens = code_lengths(&hist, 11).unwrap();
    let mut h2 = hist;
    h2[200] = 1;
    let mut out = Vec::new();
    let data = [1u8, 1, 1, 2, 200];
    assert!(matches!(
        encode_block_with_lengths(&lens, &data, &h2, &mut out),
        Err(Huff0Error::SymbolNotInTable { symbol: 200 })
    ));
    assert!(out.is_empty());
    // Incomplete lengths are refused, by both entry points.
    let mut bad = [0u8; 256];
    bad[0] = 1;
    assert!(encode_block_with_lengths(
        &bad,
        &[0],
        &{
            let mut h = [0u32; 256];
            h[0] = 1;
            h
        },
        &mut out
    )
    .is_err());
    let mut dec = BlockDecoder::default();
    assert!(dec.decode(&bad, &[0; 16], &mut [0u8; 4]).is_err());
    // A body too short for its output.
    assert!(dec.decode(&lens, &[0; 12], &mut [0u8; 4]).is_err());
    assert!(BlockDecoder::read_lengths(&[5]).is_err());
}

#[test]
fn counting_the_next_block_while_coding_equals_counting_each() {
    // The serial encoder counts each block while coding the one before it
    // (in the pair loop, or after it); the parallel one counts each block
    // on its own. Same bytes, for block sizes that cut the windows and
    // streams anywhere, and for alphabets on both sides of the pair rule.
    let mut data = skewed(200_000, 11);
    data.extend(text(100_000));
    data.extend(rng_bytes(50_000, 12));
    data.extend(skewed(60_000, 13));
    for block_size in [4096, 5000, 65_537, 131_072] {
        let o = Options {
            block_size,
            ..Options::default()
        };
        let serial = compress(&data, &o);
        let parallel = compress_blocks_parallel(&data, &Options { threads: 2, ..o });
        assert_eq!(serial, parallel, "block size {block_size}");
        assert_eq!(decompress(&serial, usize::MAX).unwrap(), data);
    }
}

#[test]
fn uncovered_bytes_never_panic_after_the_pair_table_served_another_code() {
    // This thread's pair table first serves a code of long codes for bytes
    // 100..=199; then a code of short ones for bytes 0..=99 is asked to
    // code bytes 100..=199, which it has no codes for (what a lying
    // histogram lets through `encode_block_with_histogram` in a release
    // build): the stale pair entries, longer than any code of the second
    // table, must still fit the buffer.
    let mut hist = [0u32; 256];
    for (s, h) in hist.iter_mut().enumerate().skip(100).take(100) {
        *h = if s < 104 { 1 << 20 } else { 1 };
    }
    let wide = Table::from_histogram(&hist, 12).unwrap();
    let data: Vec<u8> = (0..60_000u32).map(|i| 100 + (i * 37 % 100) as u8).collect();
    let body = encode_block_with(&wide, &data).unwrap();
    assert_eq!(decode_block_with(&wide, &body, data.len()).unwrap(), data);
    let mut small = [0u32; 256];
    small[..100].fill(1);
    let narrow = Table::from_histogram(&small, 8).unwrap();
    assert!(
        narrow.max_len() < wide.max_len(),
        "{} {}",
        narrow.max_len(),
        wide.max_len()
    );
    let mut out = Vec::new();
    encode::encode_body(
        &narrow.enc,
        &data,
        None,
        &mut out,
        &mut encode::SideCount::none(),
    );
    assert!(out.len() <= data.len() * 2);
}
