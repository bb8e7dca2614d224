//! Time the one-shot DEFLATE decoder and encoder on files given on the
//! command line (not a test: a tool for profiling and quick comparisons).
//!
//! usage: inflate_bench LEVEL[,LEVEL..] REPEAT SLICE FILE...
//! Each file contributes its first SLICE bytes (0 = all); the pieces are
//! concatenated, compressed at each level, and decoded REPEAT times.
//! Prints ratio, compress MB/s and the decode MB/s of the fastest run.
/// CPU time of this thread in seconds (the machine is shared, so wall time
/// would count other processes' turns). `/proc/thread-self/schedstat` is
/// only updated at scheduler ticks, too coarse here, so ask the kernel.
fn cpu_now() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: plain libc call writing into a valid, properly laid out struct.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: inflate_bench LEVELS REPEAT SLICE FILE...");
        std::process::exit(2);
    }
    let levels: Vec<i32> = args[1].split(',').map(|s| s.parse().unwrap()).collect();
    let repeat: usize = args[2].parse().unwrap();
    let slice: usize = args[3].parse().unwrap();
    let mut data = Vec::new();
    for f in &args[4..] {
        let b = std::fs::read(f).unwrap();
        let n = if slice == 0 {
            b.len()
        } else {
            slice.min(b.len())
        };
        data.extend_from_slice(&b[..n]);
    }
    let mb = data.len() as f64 / 1e6;
    for &level in &levels {
        let t = cpu_now();
        let comp = scalezip_core::deflate::deflate(&data, level).unwrap();
        let ct = cpu_now() - t;
        let mut times = Vec::new();
        let mut out = vec![0u8; data.len()];
        for _ in 0..repeat {
            let t = cpu_now();
            let (n, _) = scalezip_core::inflate::inflate_into(&comp, &mut out, 15).unwrap();
            times.push(cpu_now() - t);
            assert_eq!(n, data.len());
        }
        assert!(out == data);
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let med = times[0]; // fastest run: the least disturbed by other load
        println!(
            "level {level:2} ratio {:.4} comp {:7.1} MB/s decomp {:7.1} MB/s",
            comp.len() as f64 / data.len() as f64,
            mb / ct,
            mb / med
        );
    }
}
