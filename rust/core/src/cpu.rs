//! Which CPU-specific kernel variants may run, decided once per process.
//!
//! Hot loops (today: the DEFLATE decoder's fast loop) are compiled twice: a
//! portable build that is the reference, and a copy of the *same safe
//! source* compiled with extra x86-64 instructions enabled (BMI2:
//! `shrx`/`bzhi` make variable shifts and bit masks single instructions
//! without the `cl` register, which shortens the bit reader's dependency
//! chain). The variant is chosen at run time from
//! CPUID, as libdeflate and zlib-rs do, so one binary runs everywhere.
//!
//! `SCALEZIP_NO_SIMD` set to anything but empty or `0` switches every
//! variant off (read once, at first use), so tests and CI can cover the
//! portable paths on any machine; the variants must give identical output,
//! and tests check that they do.

use std::sync::OnceLock;

/// The optional instruction sets the kernels may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    /// BMI1 + BMI2 (x86-64).
    pub bmi2: bool,
    /// AVX2 (x86-64).
    pub avx2: bool,
}

/// True when `SCALEZIP_NO_SIMD` asks for the portable kernels only.
pub fn simd_disabled() -> bool {
    disables(std::env::var_os("SCALEZIP_NO_SIMD").as_deref())
}

/// Whether a value of `SCALEZIP_NO_SIMD` switches the variants off.
fn disables(value: Option<&std::ffi::OsStr>) -> bool {
    matches!(value, Some(v) if !v.is_empty() && v != "0")
}

fn detect() -> Features {
    if simd_disabled() {
        return Features::default();
    }
    #[cfg(target_arch = "x86_64")]
    {
        Features {
            bmi2: std::arch::is_x86_feature_detected!("bmi1")
                && std::arch::is_x86_feature_detected!("bmi2"),
            avx2: std::arch::is_x86_feature_detected!("avx2"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Features::default()
    }
}

/// The features the kernels use in this process (detected once).
pub fn features() -> Features {
    static F: OnceLock<Features> = OnceLock::new();
    *F.get_or_init(detect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_simd_values() {
        assert!(!disables(None));
        assert!(!disables(Some(OsStr::new(""))));
        assert!(!disables(Some(OsStr::new("0"))));
        assert!(disables(Some(OsStr::new("1"))));
        assert!(disables(Some(OsStr::new("yes"))));
    }

    #[test]
    fn env_switch_is_honoured() {
        // Whatever this process was started with, the cached answer agrees.
        if simd_disabled() {
            assert_eq!(features(), Features::default());
        }
    }
}
