//! Checksums used by the zlib (Adler-32) and gzip (CRC-32) containers.
//!
//! These are not ours to write: `crc32fast` (PCLMULQDQ / ARMv8 CRC with a
//! slicing-by-16 fallback) and `simd-adler32` (AVX2/SSSE3/NEON with a scalar
//! fallback) pick their kernels at run time. Both functions take the running
//! value so that streams can be checksummed chunk by chunk, exactly like
//! `zlib.crc32(data, value)` and `zlib.adler32(data, value)`.

/// CRC-32 (IEEE 802.3, as in gzip and PNG) of `data`, continuing from `crc`.
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(crc);
    h.update(data);
    h.finalize()
}

/// Adler-32 (RFC 1950) of `data`, continuing from `adler` (1 for a new stream).
pub fn adler32(adler: u32, data: &[u8]) -> u32 {
    let mut h = simd_adler32::Adler32::from_checksum(adler);
    h.write(data);
    h.finish()
}

/// CRC-32 of `a ++ b` from `crc32(0, a)`, `crc32(0, b)` and `b.len()`
/// (zlib's `crc32_combine`): lets blocks be checksummed on separate cores.
pub fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(crc_a);
    h.combine(&crc32fast::Hasher::new_with_initial_len(crc_b, len_b));
    h.finalize()
}

/// Adler-32 of `a ++ b` from `adler32(1, a)`, `adler32(1, b)` and
/// `b.len()` (zlib's `adler32_combine`).
pub fn adler32_combine(adler_a: u32, adler_b: u32, len_b: u64) -> u32 {
    const BASE: u64 = 65521;
    let rem = len_b % BASE;
    let (a1, b1) = (u64::from(adler_a & 0xffff), u64::from(adler_a >> 16));
    let (a2, b2) = (u64::from(adler_b & 0xffff), u64::from(adler_b >> 16));
    // The sums of a ++ b: A = A1 + A2 - 1, B = B1 + B2 + len_b * (A1 - 1).
    let sum1 = (a1 + a2 + BASE - 1) % BASE;
    let sum2 = (b1 + b2 + rem * a1 + BASE - rem) % BASE;
    (sum1 | (sum2 << 16)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(crc32(0, b""), 0);
        assert_eq!(crc32(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(1, b""), 1);
        assert_eq!(adler32(1, b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn chunked_equals_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for split in [0, 1, 5551, 5552, 5553, 65_536, 99_999] {
            let (a, b) = data.split_at(split);
            assert_eq!(crc32(crc32(0, a), b), crc32(0, &data));
            assert_eq!(adler32(adler32(1, a), b), adler32(1, &data));
            let n = b.len() as u64;
            assert_eq!(crc32_combine(crc32(0, a), crc32(0, b), n), crc32(0, &data));
            assert_eq!(
                adler32_combine(adler32(1, a), adler32(1, b), n),
                adler32(1, &data)
            );
        }
    }
}
