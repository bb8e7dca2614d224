//! Compress a file with the context-mixing codec and report size, bits per
//! byte and speed: `cargo run --release --example cm_file -- FILE [LEVEL] [--verify]`.
//! Speeds are of uncompressed megabytes (10^6 bytes) per second of this
//! thread's CPU time (so other jobs on a loaded machine count less), and of
//! wall-clock time.
use std::time::Instant;

/// CPU seconds used by this thread so far.
#[allow(unsafe_code)]
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: cm_file FILE [LEVEL] [--verify]");
    let level: i64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(6);
    let verify = args.iter().any(|a| a == "--verify");
    let data = std::fs::read(path).expect("read");
    let (t, c0) = (Instant::now(), thread_cpu());
    let c = scalezip_core::cm::compress(&data, level).expect("compress");
    let (ct, cc) = (t.elapsed().as_secs_f64(), thread_cpu() - c0);
    let mb = data.len() as f64 / 1e6;
    print!(
        "level {level}: {} -> {} bytes, {:.4} bpb, compress {:.3} MB/s cpu ({:.3} wall)",
        data.len(),
        c.len(),
        c.len() as f64 * 8.0 / data.len() as f64,
        mb / cc,
        mb / ct
    );
    if verify {
        let (t, c0) = (Instant::now(), thread_cpu());
        let d = scalezip_core::cm::decompress(&c, u64::MAX).expect("decompress");
        let (dt, dc) = (t.elapsed().as_secs_f64(), thread_cpu() - c0);
        assert_eq!(d, data);
        print!(
            ", decompress {:.3} MB/s cpu ({:.3} wall), verified",
            mb / dc,
            mb / dt
        );
    }
    println!();
}
