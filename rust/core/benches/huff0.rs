//! scalezip's raw Huffman codec against zstd's own entropy stage, huff0
//! (`HUF_compress4X_repeat` / `HUF_decompress4X_hufOnly_wksp` from the zstd
//! 1.5.7 sources that `zstd-sys` builds, its x86-64 assembly decoding loop
//! included), on one core, the same bytes, 128 KiB blocks both.
//!
//! ```sh
//! cargo bench -p scalezip-core --bench huff0
//! SCALEZIP_BENCH_DICKENS=../shared/corpus/silesia/dickens cargo bench -p scalezip-core --bench huff0
//! ```
//!
//! What is compared: scalezip's `huff0::compress_to` (into a reused `Vec`)
//! and `huff0::decompress_into` code a whole stream: header, block framing,
//! code tables, four streams per block and a CRC-32 of the input (taken
//! while encoding, checked while decoding). zstd's side is huff0 alone,
//! one call per 128 KiB block with a new table each (`HUF_repeat_none`,
//! default 11-bit table log, BMI2 when the CPU has it): no checksum, no
//! framing, which is what zstd itself does for a block's literals. So the
//! figures slightly favour zstd; `zstandard` at any level would measure its
//! match finder too, which is why it is not the comparison. The sizes of
//! both outputs are printed first.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scalezip_core::huff0;
use std::ffi::c_void;
use std::hint::black_box;
// Linked for its static libzstd, whose HUF_* symbols are declared below.
use zstd_sys as _;

#[allow(non_snake_case)]
mod zstd_huf {
    use std::ffi::{c_int, c_uint, c_void};
    // Declared in zstd's lib/common/huf.h (not part of its public API, so
    // zstd-sys has no bindings for them); linked from zstd-sys's static
    // library.
    extern "C" {
        pub fn HUF_compress4X_repeat(
            dst: *mut c_void,
            dst_size: usize,
            src: *const c_void,
            src_size: usize,
            max_symbol_value: c_uint,
            table_log: c_uint,
            work_space: *mut c_void,
            wksp_size: usize,
            huf_table: *mut usize,
            repeat: *mut c_int,
            flags: c_int,
        ) -> usize;
        pub fn HUF_decompress4X_hufOnly_wksp(
            dctx: *mut u32,
            dst: *mut c_void,
            dst_size: usize,
            c_src: *const c_void,
            c_src_size: usize,
            work_space: *mut c_void,
            wksp_size: usize,
            flags: c_int,
        ) -> usize;
        pub fn HUF_isError(code: usize) -> c_uint;
        pub fn HUF_compressBound(size: usize) -> usize;
    }
    /// HUF_WORKSPACE_SIZE, HUF_DECOMPRESS_WORKSPACE_SIZE (bytes).
    pub const CWKSP: usize = (8 << 10) + 512;
    pub const DWKSP: usize = (2 << 10) + (1 << 9);
    /// HUF_CTABLE_SIZE_ST(255); HUF_DTABLE_SIZE(12).
    pub const CTABLE: usize = 257;
    pub const DTABLE: usize = 1 + (1 << 12);
    pub const FLAG_BMI2: c_int = 1;
}

const BLOCK: usize = 128 << 10;

fn bmi2_flag() -> i32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("bmi2") {
        return zstd_huf::FLAG_BMI2;
    }
    0
}

/// zstd's huff0 over `data` in 128 KiB blocks: each block's compressed
/// size (0: stored, 1: one byte repeated, as huff0 returns them) and bytes.
struct ZstdHuf {
    sizes: Vec<usize>,
    bytes: Vec<u8>,
}

#[allow(unsafe_code)]
fn zstd_compress(data: &[u8], out: &mut ZstdHuf) {
    let mut wksp = vec![0u64; zstd_huf::CWKSP / 8];
    let mut table = [0usize; zstd_huf::CTABLE];
    out.sizes.clear();
    let mut pos = 0;
    for block in data.chunks(BLOCK) {
        // SAFETY: `bytes` has room for `HUF_compressBound(BLOCK)` after
        // `pos` (reserved by the caller for every block), the workspace and
        // table have the sizes huf.h asks for.
        let n = unsafe {
            let mut repeat = 0; // HUF_repeat_none
            zstd_huf::HUF_compress4X_repeat(
                out.bytes.as_mut_ptr().add(pos).cast::<c_void>(),
                out.bytes.len() - pos,
                block.as_ptr().cast(),
                block.len(),
                255,
                11,
                wksp.as_mut_ptr().cast(),
                zstd_huf::CWKSP,
                table.as_mut_ptr(),
                &mut repeat,
                bmi2_flag(),
            )
        };
        // SAFETY: a plain function of its argument.
        assert_eq!(
            unsafe { zstd_huf::HUF_isError(n) },
            0,
            "HUF_compress4X_repeat failed"
        );
        out.sizes.push(n);
        pos += n;
    }
}

#[allow(unsafe_code)]
fn zstd_decompress(z: &ZstdHuf, data: &[u8], out: &mut [u8]) {
    let mut wksp = vec![0u32; zstd_huf::DWKSP / 4];
    let mut dtable = vec![0u32; zstd_huf::DTABLE];
    let mut pos = 0;
    for ((&n, block), o) in z
        .sizes
        .iter()
        .zip(data.chunks(BLOCK))
        .zip(out.chunks_mut(BLOCK))
    {
        match n {
            0 => o.copy_from_slice(block),
            1 => o.fill(z.bytes[pos]),
            _ => {
                dtable[0] = 12 * 0x0100_0001; // HUF_CREATE_STATIC_DTABLEX2(.., 12)
                                              // SAFETY: `o` is the block's original length, the source
                                              // is the block's compressed bytes, and the table and
                                              // workspace have the sizes huf.h asks for.
                let r = unsafe {
                    zstd_huf::HUF_decompress4X_hufOnly_wksp(
                        dtable.as_mut_ptr(),
                        o.as_mut_ptr().cast(),
                        o.len(),
                        z.bytes[pos..pos + n].as_ptr().cast(),
                        n,
                        wksp.as_mut_ptr().cast(),
                        zstd_huf::DWKSP,
                        bmi2_flag(),
                    )
                };
                // SAFETY: a plain function of its argument.
                assert_eq!(
                    unsafe { zstd_huf::HUF_isError(r) },
                    0,
                    "HUF decompression failed"
                );
            }
        }
        pos += n;
    }
}

/// xorshift64*: a small seeded generator, so the inputs are the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// The top byte (sign and 7 exponent bits) of float32 standard-normal
/// weights: the tensor codecs' exponent plane (about 2.7 bits a byte).
fn exponent_bytes(n: usize) -> Vec<u8> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            // Box-Muller, one normal per pair of uniforms.
            let (u, v) = (r.unit(), r.unit());
            let x = ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32;
            (x.to_bits() >> 24) as u8
        })
        .collect()
}

/// Geometric(0.3) bytes clipped to 1..=255, as the Python benchmark's.
fn geometric_bytes(n: usize) -> Vec<u8> {
    let mut r = Rng(0xD1B5_4A32_D192_ED03);
    let q = (1.0f64 - 0.3).ln();
    (0..n)
        .map(|_| (r.unit().ln() / q).ceil().clamp(1.0, 255.0) as u8)
        .collect()
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        ("exponents".to_string(), exponent_bytes(8 << 20)),
        ("geometric".to_string(), geometric_bytes(8 << 20)),
    ];
    if let Some(d) = std::env::var_os("SCALEZIP_BENCH_DICKENS").and_then(|p| std::fs::read(p).ok())
    {
        v.push(("dickens".to_string(), d));
    }
    v
}

fn bench(c: &mut Criterion) {
    let opts = huff0::Options {
        threads: 1,
        ..Default::default()
    };
    for (name, data) in inputs() {
        let ours = huff0::compress(&data, &opts);
        // SAFETY: a plain function of its argument.
        let bound = unsafe { zstd_huf::HUF_compressBound(BLOCK) };
        let mut z = ZstdHuf {
            sizes: Vec::new(),
            bytes: vec![0; data.len().div_ceil(BLOCK) * bound],
        };
        zstd_compress(&data, &mut z);
        let zsize: usize = z.sizes.iter().sum();
        let mut back = vec![0u8; data.len()];
        zstd_decompress(&z, &data, &mut back);
        assert!(back == data, "zstd's huff0 round trip");
        huff0::decompress_into(&ours, &mut back, 1).unwrap();
        assert!(back == data, "scalezip round trip");
        eprintln!(
            "{name}: {} bytes; scalezip {} ({:.4}), zstd huff0 {} ({:.4})",
            data.len(),
            ours.len(),
            ours.len() as f64 / data.len() as f64,
            zsize,
            zsize as f64 / data.len() as f64
        );

        let mut g = c.benchmark_group(format!("huff0/{name}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(20);
        let mut out = Vec::new();
        g.bench_function(BenchmarkId::new("encode", "scalezip"), |b| {
            b.iter(|| {
                out.clear();
                black_box(huff0::compress_to(&data, &opts, &mut out).unwrap())
            })
        });
        g.bench_function(BenchmarkId::new("encode", "zstd-huf"), |b| {
            b.iter(|| zstd_compress(black_box(&data), &mut z))
        });
        g.bench_function(BenchmarkId::new("decode", "scalezip"), |b| {
            b.iter(|| huff0::decompress_into(black_box(&ours), &mut back, 1).unwrap())
        });
        g.bench_function(BenchmarkId::new("decode", "zstd-huf"), |b| {
            b.iter(|| zstd_decompress(&z, &data, black_box(&mut back)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
