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
    let a = compress(&t, 3).unwrap();
    assert_eq!(a, compress(&t, 3).unwrap());
    assert_eq!(&a[..4], b"SZCM");
    assert_eq!(a[4], VERSION);
    assert_eq!(a[5], 3);
    assert_eq!(u64::from_le_bytes(a[6..14].try_into().unwrap()), 50_000);
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
    let c = compress(&t, 1).unwrap();
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
    d[4] = 2;
    assert_eq!(
        decompress(&d, u64::MAX),
        Err(CmError::UnsupportedVersion(2))
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
    let c = compress(b"hello hello hello", 1).unwrap();
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
    let c = compress(&data, 1).unwrap();
    // Length and CRC-32 of the level-1 stream, as produced by the model
    // before the look-ahead prefetch work (issue #7).
    assert_eq!(
        (c.len(), crate::checksum::crc32(0, &c)),
        (6314, 1_405_914_041)
    );
}
