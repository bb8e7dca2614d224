use super::*;

/// xorshift64*, deterministic test data without a dependency.
fn noise(n: usize, mut s: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn text(n: usize) -> Vec<u8> {
    let words = [
        "the ",
        "of ",
        "and ",
        "compression ",
        "model ",
        "context ",
        "mixing ",
        "is ",
        "prediction, ",
        "a ",
        "bit ",
        "byte. ",
        "It ",
        "was ",
        "best ",
        "times ",
        "worst\n",
    ];
    let r = noise(n, 5);
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < n {
        out.extend_from_slice(words[r[i % r.len()] as usize % words.len()].as_bytes());
        i += 1;
    }
    out.truncate(n);
    out
}

fn round_trip(data: &[u8], level: i64) -> Vec<u8> {
    let c = compress(data, level).unwrap();
    assert_eq!(decompress(&c, u64::MAX).unwrap(), data);
    let c1 = compress_v1(data, level).unwrap();
    assert_eq!(decompress(&c1, u64::MAX).unwrap(), data);
    c
}

#[test]
fn round_trips() {
    round_trip(b"", 1);
    round_trip(b"a", 1);
    round_trip(&(0..=255).collect::<Vec<u8>>(), 1);
    round_trip(&noise(20_000, 1), 1);
    round_trip(&vec![0u8; 100_000], 1);
    round_trip(&text(200_000), 2);
}

#[test]
fn compresses_text_and_runs() {
    let t = text(300_000);
    let c = round_trip(&t, 1);
    assert!(c.len() * 6 < t.len(), "{} -> {}", t.len(), c.len());
    let z = vec![7u8; 1_000_000];
    let c = round_trip(&z, 1);
    assert!(c.len() < 2000, "{}", c.len());
    // Random data barely expands.
    let r = noise(100_000, 9);
    let c = round_trip(&r, 1);
    assert!(
        c.len() < r.len() + r.len() / 50 + HEADER_SIZE + 8,
        "{}",
        c.len()
    );
}

#[test]
fn deterministic_and_level_recorded() {
    let t = text(50_000);
    let a = compress_v1(&t, 3).unwrap();
    assert_eq!(a, compress_v1(&t, 3).unwrap());
    assert_eq!(&a[..4], b"SZCM");
    assert_eq!(a[4], 1);
    assert_eq!(a[5], 3);
    assert_eq!(u64::from_le_bytes(a[6..14].try_into().unwrap()), 50_000);
    let b = compress(&t, 3).unwrap();
    assert_eq!(b, compress(&t, 3).unwrap());
    assert_eq!(&b[..7], b"SZCM\x02\x03\x14");
}

#[test]
fn levels_are_validated() {
    assert_eq!(compress(b"x", 0), Err(CmError::BadLevel(0)));
    assert_eq!(compress(b"x", 10), Err(CmError::BadLevel(10)));
    assert!(model_bytes(0).is_err());
    let mut last = 0;
    for l in 1..=9 {
        let b = model_bytes(l).unwrap();
        assert!(b > last * 3 / 2);
        last = b;
    }
    assert!(model_bytes(1).unwrap() < 16 << 20);
    assert!(model_bytes(9).unwrap() < 2 << 30);
}

#[test]
fn model_bytes_matches_allocation() {
    for l in [1u8, 2] {
        let m = model::Model::new(l);
        let fixed_extra = 0;
        assert_eq!(
            m.size_bytes() + fixed_extra,
            model::Model::bytes_for_level(l)
        );
    }
}

#[test]
fn corrupt_and_truncated_streams_are_refused() {
    let t = text(30_000);
    let c = compress_v1(&t, 1).unwrap();
    // Truncated payloads: the CRC catches them.
    for cut in [HEADER_SIZE, HEADER_SIZE + 1, c.len() / 2, c.len() - 1] {
        let e = decompress(&c[..cut], u64::MAX).unwrap_err();
        assert!(
            matches!(
                e,
                CmError::ChecksumMismatch { .. } | CmError::ImpossibleLength { .. }
            ),
            "{e:?}"
        );
    }
    for cut in [0, 3, 10, HEADER_SIZE - 1] {
        assert!(matches!(
            decompress(&c[..cut], u64::MAX).unwrap_err(),
            CmError::Truncated { .. }
        ));
    }
    // Flipped payload bytes.
    for i in [HEADER_SIZE, HEADER_SIZE + 7, c.len() / 2, c.len() - 1] {
        let mut d = c.clone();
        d[i] ^= 0x20;
        assert!(matches!(
            decompress(&d, u64::MAX).unwrap_err(),
            CmError::ChecksumMismatch { .. }
        ));
    }
    let mut d = c.clone();
    d[0] = b'X';
    assert_eq!(decompress(&d, u64::MAX), Err(CmError::NotCm));
    let mut d = c.clone();
    d[4] = 4;
    assert_eq!(
        decompress(&d, u64::MAX),
        Err(CmError::UnsupportedVersion(4))
    );
    let mut d = c.clone();
    d[5] = 0;
    assert_eq!(decompress(&d, u64::MAX), Err(CmError::BadHeaderLevel(0)));
    // A huge declared length is refused before any allocation.
    let mut d = c.clone();
    d[6..14].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        decompress(&d, u64::MAX),
        Err(CmError::ImpossibleLength { .. })
    ));
    assert_eq!(
        decompress(&c, 100),
        Err(CmError::OutputTooLarge {
            size: 30_000,
            limit: 100
        })
    );
}

#[test]
fn garbage_after_header_never_panics() {
    let c = compress_v1(b"hello hello hello", 1).unwrap();
    for seed in 1..20 {
        let mut d = c[..HEADER_SIZE].to_vec();
        d.extend_from_slice(&noise(seed as usize * 3, seed));
        assert!(decompress(&d, u64::MAX).is_err());
    }
}

/// The stream of a fixed input is pinned: a change to the model (and so to
/// every stream) must bump `VERSION` and this value together. Speed work
/// (prefetches, look-ahead hashing, loop shapes) must leave it unchanged.
#[test]
fn stream_is_pinned() {
    let mut data = text(40_000);
    data.extend(noise(2_000, 9));
    data.extend(text(20_000));
    let c = compress_v1(&data, 1).unwrap();
    // Length and CRC-32 of the level-1 stream, as produced by the model
    // before the look-ahead prefetch work (issue #7).
    assert_eq!(
        (c.len(), crate::checksum::crc32(0, &c)),
        (6314, 1_405_914_041)
    );
    // Version 2 frames the very same payload (the data is shorter than the
    // window and than a block): header, one frame, trailer.
    let c2 = compress(&data, 1).unwrap();
    let payload = &c[HEADER_SIZE..];
    assert_eq!(c2.len(), 7 + 8 + payload.len() + 12);
    assert_eq!(&c2[15..15 + payload.len()], payload);
}

// ------------------------------------------------------------ version 2

/// `data` through a `CmEncoder` in pieces of the given sizes (cycled).
fn stream_compress(data: &[u8], level: i64, pieces: &[usize]) -> Vec<u8> {
    feed(CmEncoder::new(level).unwrap(), data, pieces)
}

/// `data` through the encoder `e` in pieces of the given sizes (cycled),
/// then its end; checks that it refuses more data afterwards.
fn feed(mut e: CmEncoder, data: &[u8], pieces: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut k = 0;
    while at < data.len() {
        let n = pieces[k % pieces.len()].min(data.len() - at);
        e.compress(&data[at..at + n], &mut out).unwrap();
        at += n;
        k += 1;
    }
    e.finish(&mut out).unwrap();
    assert_eq!(e.compress(b"x", &mut out), Err(CmError::Finished));
    out
}

/// `stream` through a `CmDecoder` fed in pieces, each call producing at
/// most `max_out` bytes; returns the output and the unused input.
fn stream_decompress(
    stream: &[u8],
    pieces: &[usize],
    max_out: usize,
) -> Result<(Vec<u8>, Vec<u8>), CmError> {
    stream_decompress_threads(stream, pieces, max_out, 1)
}

/// [`stream_decompress`] with a decoder of `threads` threads.
fn stream_decompress_threads(
    stream: &[u8],
    pieces: &[usize],
    max_out: usize,
    threads: usize,
) -> Result<(Vec<u8>, Vec<u8>), CmError> {
    let mut d = CmDecoder::with_threads(threads);
    let mut out = Vec::new();
    let mut at = 0;
    let mut k = 0;
    let mut tail: Vec<u8> = Vec::new();
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 10_000_000, "decoder does not progress");
        if d.is_eof() {
            let mut rest = tail.clone();
            rest.extend_from_slice(&stream[at..]);
            return Ok((out, rest));
        }
        let input: Vec<u8> = if !tail.is_empty() {
            std::mem::take(&mut tail)
        } else if at < stream.len() {
            let n = pieces[k % pieces.len()].min(stream.len() - at);
            k += 1;
            at += n;
            stream[at - n..at].to_vec()
        } else if d.has_pending_output() {
            Vec::new()
        } else {
            d.finish(&mut out)?;
            return Ok((out, Vec::new()));
        };
        let before = out.len();
        let used = d.decompress(&input, max_out, &mut out)?;
        assert!(out.len() - before <= max_out);
        tail = input[used..].to_vec();
    }
}

#[test]
fn streaming_equals_one_shot_for_any_split() {
    let mut data = text(150_000);
    data.extend(noise(3_000, 4));
    data.extend(text(50_000));
    let one = compress(&data, 1).unwrap();
    for pieces in [&[1usize][..], &[7, 1, 4096], &[65_536], &[data.len()]] {
        if pieces == [1] {
            // byte by byte over a prefix (slow path, same model)
            let p = &data[..5_000];
            assert_eq!(stream_compress(p, 1, pieces), compress(p, 1).unwrap());
            continue;
        }
        assert_eq!(stream_compress(&data, 1, pieces), one);
    }
    for (pieces, max_out) in [
        (&[1usize][..], usize::MAX),
        (&[3, 1000], 1),
        (&[5000], 777),
        (&[one.len()], usize::MAX),
    ] {
        let (out, rest) = stream_decompress(&one, pieces, max_out).unwrap();
        assert_eq!(out, data);
        assert!(rest.is_empty());
    }
}

#[test]
fn streaming_reads_version_1_and_empty_streams() {
    let data = text(40_000);
    let v1 = compress_v1(&data, 2).unwrap();
    let (out, _) = stream_decompress(&v1, &[333], 1000).unwrap();
    assert_eq!(out, data);
    for s in [compress_v1(b"", 1).unwrap(), compress(b"", 1).unwrap()] {
        let (out, rest) = stream_decompress(&s, &[1], usize::MAX).unwrap();
        assert!(out.is_empty() && rest.is_empty());
    }
    assert_eq!(stream_compress(b"", 3, &[1]), compress(b"", 3).unwrap());
}

#[test]
fn streams_span_blocks_and_keep_trailing_data() {
    // Just over two blocks, so three frames; a stream of exactly one block
    // ends with an empty frame.
    let block = 1usize << stream::BLOCK_LOG;
    let mut data = text(block * 2 + 100);
    data[block..block + 50].copy_from_slice(&noise(50, 3));
    let one = compress(&data, 1).unwrap();
    assert_eq!(stream_compress(&data, 1, &[100_000, 3]), one);
    assert_eq!(decompress(&one, u64::MAX).unwrap(), data);
    let mut with_tail = one.clone();
    with_tail.extend_from_slice(b"NEXT");
    let (out, rest) = stream_decompress(&with_tail, &[50_000], 300_000).unwrap();
    assert_eq!(out, data);
    assert_eq!(rest, b"NEXT");
    assert_eq!(
        decompress(&with_tail, u64::MAX),
        Err(CmError::TrailingData { extra: 4 })
    );
    let exact = compress(&data[..block], 1).unwrap();
    assert_eq!(decompress(&exact, u64::MAX).unwrap(), &data[..block]);
    let (out, _) = stream_decompress(&exact, &[4096], usize::MAX).unwrap();
    assert_eq!(out, &data[..block]);
}

#[test]
fn window_rule_matches_version_1_below_the_window() {
    // Below the window the two models predict identically ...
    let data = text(100_000);
    let v1 = compress_v1(&data, 1).unwrap();
    let v2 = compress(&data, 1).unwrap();
    assert_eq!(&v2[15..15 + v1.len() - HEADER_SIZE], &v1[HEADER_SIZE..]);
    // ... and beyond it (level 1: 1 MiB window), where version 2 may no
    // longer use a match from further back and its ring has wrapped, both
    // still round-trip, one-shot and streaming.
    let w = model::Model::window_for_level(1);
    let mut far = noise(20_000, 8);
    far.extend(vec![0u8; w]);
    far.extend_from_within(..20_000);
    let a = compress(&far, 1).unwrap();
    let b = compress_v1(&far, 1).unwrap();
    assert_eq!(decompress(&a, u64::MAX).unwrap(), far);
    assert_eq!(decompress(&b, u64::MAX).unwrap(), far);
    let (out, _) = stream_decompress(&a, &[70_000], usize::MAX).unwrap();
    assert_eq!(out, far);
}

#[test]
fn damaged_version_2_streams_are_refused() {
    let data = text(30_000);
    let c = compress(&data, 1).unwrap();
    let n = c.len();
    for cut in [0, 3, 5, 6, 7, 10, 15, 16, n / 2, n - 12, n - 1] {
        let e = decompress(&c[..cut], u64::MAX).unwrap_err();
        assert!(
            matches!(
                e,
                CmError::Truncated { .. }
                    | CmError::TruncatedStream { .. }
                    | CmError::ImpossibleLength { .. }
            ),
            "cut {cut}: {e:?}"
        );
        let e = stream_decompress(&c[..cut], &[9], usize::MAX).unwrap_err();
        assert!(
            matches!(e, CmError::TruncatedStream { .. } | CmError::NotCm),
            "cut {cut}: {e:?}"
        );
    }
    let patched = |at: usize, v: &[u8]| {
        let mut d = c.clone();
        d[at..at + v.len()].copy_from_slice(v);
        d
    };
    assert_eq!(
        decompress(&patched(6, &[30]), u64::MAX),
        Err(CmError::BadBlockSize(30))
    );
    assert!(matches!(
        decompress(&patched(7, &(2u32 << 20).to_le_bytes()), u64::MAX),
        Err(CmError::BadFrame { .. })
    ));
    // A full block: the payload then reads as another frame header.
    assert!(decompress(&patched(7, &(1u32 << 20).to_le_bytes()), u64::MAX).is_err());
    assert!(matches!(
        decompress(&patched(7, &[0x40, 0x9c, 0, 0, 0, 0, 0, 0]), u64::MAX),
        Err(CmError::ImpossibleLength { .. })
    ));
    assert!(matches!(
        decompress(&patched(n - 12, &[1]), u64::MAX),
        Err(CmError::LengthMismatch { .. })
    ));
    assert!(matches!(
        decompress(&patched(n - 1, &[!c[n - 1]]), u64::MAX),
        Err(CmError::ChecksumMismatch { .. })
    ));
    assert!(matches!(
        stream_decompress(&patched(n - 1, &[!c[n - 1]]), &[100], 10),
        Err(CmError::ChecksumMismatch { .. })
    ));
    assert_eq!(
        decompress(&c, 29_999),
        Err(CmError::OutputTooLarge {
            size: 30_000,
            limit: 29_999
        })
    );
    // Every single-byte change is caught or harmless, both ways.
    for i in (7..n).step_by(97) {
        let d = patched(i, &[c[i] ^ 0x41]);
        if let Ok(out) = decompress(&d, u64::MAX) {
            assert_eq!(out, data);
        }
        if let Ok((out, _)) = stream_decompress(&d, &[1000], usize::MAX) {
            assert_eq!(out, data);
        }
    }
}

#[test]
fn streaming_decoder_refuses_runaway_payload() {
    // A last frame declaring no data but a long payload cannot be used.
    let mut s = b"SZCM\x02\x01\x14".to_vec();
    s.extend_from_slice(&0u32.to_le_bytes());
    s.extend_from_slice(&200_000u32.to_le_bytes());
    s.extend(noise(200_000, 2));
    let e = stream_decompress(&s, &[200_100], usize::MAX).unwrap_err();
    assert!(matches!(e, CmError::PayloadOverrun { .. }), "{e:?}");
}

#[test]
fn avx2_and_portable_builds_agree() {
    // Mixed content, both formats, both directions, streaming too; the
    // portable build is the reference (SCALEZIP_NO_SIMD=1 runs all tests
    // on it).
    let mut data = text(60_000);
    data.extend(noise(5_000, 11));
    data.extend(vec![0u8; 3000]);
    data.extend(text(20_000));
    let fast = simd::with_portable(false, || {
        (
            compress(&data, 2).unwrap(),
            compress_v1(&data, 2).unwrap(),
            stream_compress(&data, 2, &[999]),
        )
    });
    let slow = simd::with_portable(true, || {
        (
            compress(&data, 2).unwrap(),
            compress_v1(&data, 2).unwrap(),
            stream_compress(&data, 2, &[999]),
        )
    });
    assert_eq!(fast, slow);
    for portable in [false, true] {
        simd::with_portable(portable, || {
            assert_eq!(decompress(&fast.0, u64::MAX).unwrap(), data);
            assert_eq!(decompress(&fast.1, u64::MAX).unwrap(), data);
            assert_eq!(stream_decompress(&fast.0, &[777], 5000).unwrap().0, data);
        });
    }
    eprintln!("avx2 build in use: {}", simd::uses_avx2());
}

// ------------------------------------------------------------ version 3

/// `data` through a segmented `CmEncoder` (blocks of `2^block_log` bytes)
/// in pieces of the given sizes (cycled).
fn stream_compress_seg(
    data: &[u8],
    block_log: u8,
    seg_blocks: u32,
    threads: usize,
    pieces: &[usize],
) -> Vec<u8> {
    let e = CmEncoder::with_blocks(1, block_log, Some(seg_blocks), threads).unwrap();
    feed(e, data, pieces)
}

#[test]
fn segmented_streams_round_trip_on_any_thread_count() {
    // Blocks of 4 KiB, segments of 2 blocks: lengths around every
    // boundary (empty final segment, final segment of empty frame only,
    // partial final block).
    let mut data = text(30_000);
    data[9_000..9_400].copy_from_slice(&noise(400, 6));
    for n in [
        0, 1, 4095, 4096, 8191, 8192, 8193, 12_288, 16_384, 20_000, 30_000,
    ] {
        let d = &data[..n];
        let one = stream::compress_blocks(d, 1, 12, Some(2), 1);
        assert_eq!(&one[..5], b"SZCM\x03", "n {n}");
        for threads in [2, 3, 0] {
            assert_eq!(
                stream::compress_blocks(d, 1, 12, Some(2), threads),
                one,
                "n {n}"
            );
        }
        for pieces in [&[1000usize][..], &[8192], &[n.max(1)]] {
            for threads in [1, 2] {
                assert_eq!(
                    stream_compress_seg(d, 12, 2, threads, pieces),
                    one,
                    "n {n} threads {threads} pieces {pieces:?}"
                );
            }
        }
        for threads in [1, 2, 0] {
            let mut out = vec![0u8; n];
            decompress_into_with(&one, &mut out, threads).unwrap();
            assert_eq!(out, d, "n {n} threads {threads}");
        }
        assert_eq!(decompress(&one, u64::MAX).unwrap(), d);
        for (pieces, max_out) in [
            (&[1usize][..], 97),
            (&[3000], usize::MAX),
            (&[one.len()], 5000),
        ] {
            for threads in [1, 2, 3] {
                let (out, rest) =
                    stream_decompress_threads(&one, pieces, max_out, threads).unwrap();
                assert_eq!(out, d, "n {n} pieces {pieces:?} threads {threads}");
                assert!(rest.is_empty());
            }
        }
        // Trailing data stays unused with the parallel decoder too.
        let mut tail = one.clone();
        tail.extend_from_slice(b"NEXT");
        let (out, rest) = stream_decompress_threads(&tail, &[777], 3000, 2).unwrap();
        assert_eq!((&out[..], &rest[..]), (d, &b"NEXT"[..]));
    }
}

#[test]
fn segments_are_independent_streams() {
    // Each segment is coded exactly as a stream of its own bytes: a
    // segment's payload equals the payload of an unsegmented stream of
    // that segment (same model, same coder, fresh).
    let data = text(20_000);
    let seg = stream::compress_blocks(&data, 1, 12, Some(2), 2);
    let alone = stream::compress_blocks(&data[8192..16_384], 1, 12, None, 1);
    let payloads = |s: &[u8], frames: std::ops::Range<usize>| {
        let lay = stream::layout(s, u64::MAX).unwrap();
        lay.payload[frames]
            .iter()
            .flat_map(|&(at, n)| s[at..at + n].to_vec())
            .collect::<Vec<u8>>()
    };
    // Segment 1 is frames 2 and 3; alone, those blocks are frames 0, 1 and
    // an empty last frame (where the coder is finished).
    assert_eq!(payloads(&seg, 2..4), payloads(&alone, 0..3));
}

#[test]
fn compress_with_chooses_segments() {
    let data = text(50_000);
    // One thread and no segment size: version 2, as `compress`.
    assert_eq!(
        compress_with(&data, 1, None, 1).unwrap(),
        compress(&data, 1).unwrap()
    );
    // Small inputs stay one stream with threads, too.
    assert_eq!(
        compress_with(&data, 1, None, 2).unwrap(),
        compress(&data, 1).unwrap()
    );
    assert_eq!(compress_with(&data, 1, Some(0), 4).unwrap()[4], VERSION);
    let s = compress_with(&data, 1, Some(BLOCK_SIZE as u64), 2).unwrap();
    assert_eq!(&s[4..11], &[3, 1, 20, 1, 0, 0, 0]);
    assert_eq!(decompress(&s, u64::MAX).unwrap(), data);
    for bad in [
        1,
        BLOCK_SIZE as u64 - 1,
        BLOCK_SIZE as u64 + 1,
        (BLOCK_SIZE as u64) << 32,
    ] {
        assert_eq!(
            compress_with(&data, 1, Some(bad), 1),
            Err(CmError::BadSegmentSize(bad))
        );
    }
    assert_eq!(segment_blocks(0), Ok(None));
    assert_eq!(segment_blocks(3 << 20), Ok(Some(3)));
    // Automatic sizes: none below 8 MiB, then 4 to 6 MiB, even.
    let mib = 1usize << 20;
    assert_eq!(stream::auto_segment_blocks(0), None);
    assert_eq!(stream::auto_segment_blocks(8 * mib - 1), None);
    assert_eq!(stream::auto_segment_blocks(8 * mib), Some(4));
    assert_eq!(stream::auto_segment_blocks(10_192_446), Some(5));
    assert_eq!(stream::auto_segment_blocks(12 * mib), Some(4));
    assert_eq!(stream::auto_segment_blocks(12 * mib - 1), Some(6));
    assert_eq!(stream::auto_segment_blocks(100 * mib), Some(4));
    for n in [8 * mib, 9 * mib + 7, 12 * mib - 1, 33 * mib, 1 << 40] {
        let sb = stream::auto_segment_blocks(n).unwrap() as usize;
        assert!((4..=6).contains(&sb), "{n}: {sb}");
    }
}

#[test]
fn damaged_version_3_streams_are_refused() {
    let data = text(20_000);
    let c = stream::compress_blocks(&data, 1, 12, Some(2), 1);
    let n = c.len();
    let patched = |at: usize, v: &[u8]| {
        let mut d = c.clone();
        d[at..at + v.len()].copy_from_slice(v);
        d
    };
    assert_eq!(
        decompress(&patched(7, &[0, 0, 0, 0]), u64::MAX),
        Err(CmError::BadSegmentSize(0))
    );
    assert!(matches!(
        stream_decompress(&patched(7, &[0, 0, 0, 0]), &[5], usize::MAX),
        Err(CmError::BadSegmentSize(0))
    ));
    for cut in [5, 7, 10] {
        assert_eq!(
            decompress(&c[..cut], u64::MAX),
            Err(CmError::Truncated { len: cut })
        );
    }
    for cut in [11, 12, n / 2, n - 1] {
        assert!(decompress(&c[..cut], u64::MAX).is_err(), "cut {cut}");
        assert!(
            stream_decompress(&c[..cut], &[7], usize::MAX).is_err(),
            "cut {cut}"
        );
    }
    // A different segment size decodes wrongly and the CRC says so, both
    // ways; every single-byte change is caught or harmless.
    for sb in [1u32, 3, 1000] {
        let d = patched(7, &sb.to_le_bytes());
        assert!(decompress(&d, u64::MAX).is_err(), "sb {sb}");
        assert!(
            stream_decompress(&d, &[333], usize::MAX).is_err(),
            "sb {sb}"
        );
    }
    // A segment whose payload is more than its bytes can need: refused
    // before it is held (parallel decoder), or unusable (sequential).
    let mut fat = c[..11].to_vec();
    fat.extend_from_slice(&4096u32.to_le_bytes());
    fat.extend_from_slice(&60_000u32.to_le_bytes());
    fat.extend(noise(60_000, 3));
    assert!(matches!(
        stream_decompress_threads(&fat, &[70_000], usize::MAX, 2),
        Err(CmError::PayloadOverrun { .. })
    ));
    assert!(stream_decompress(&fat, &[70_000], usize::MAX).is_err());
    for i in (11..n).step_by(53) {
        let d = patched(i, &[c[i] ^ 0x24]);
        for threads in [1, 2] {
            let mut out = vec![0u8; data.len()];
            if decompress_into_with(&d, &mut out, threads).is_ok() {
                assert_eq!(out, data);
            }
        }
        for threads in [1, 2] {
            if let Ok((out, _)) = stream_decompress_threads(&d, &[1000], usize::MAX, threads) {
                assert_eq!(out, data);
            }
        }
    }
}
