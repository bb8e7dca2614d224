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
        }
    }
}
