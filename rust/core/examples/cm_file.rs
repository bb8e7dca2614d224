//! Compress a file with the context-mixing codec and report size, bits per
//! byte and speed:
//! `cargo run --release --example cm_file -- FILE [LEVEL] [--verify] [--threads N]`.
//! Speeds are of uncompressed megabytes (10^6 bytes) per second of this
//! thread's CPU time (so other jobs on a loaded machine count less), and of
//! wall-clock time. With `--threads N` (N other than 1; 0: one per core)
//! the stream is segmented (`cm::compress_with`, automatic segment size)
//! and both directions run on N threads: then the CPU time is the whole
//! process's (all threads), and the wall-clock speed is the one that counts.
use std::time::Instant;

/// CPU seconds used so far by this thread, or with `process` by the whole
/// process (all threads).
#[allow(unsafe_code)]
fn cpu_time(process: bool) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    unsafe {
        let clock = if process {
            libc::CLOCK_PROCESS_CPUTIME_ID
        } else {
            libc::CLOCK_THREAD_CPUTIME_ID
        };
        libc::clock_gettime(clock, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: cm_file FILE [LEVEL] [--verify]");
    let level: i64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(6);
    let verify = args.iter().any(|a| a == "--verify");
    let threads: usize = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1);
    let data = std::fs::read(path).expect("read");
    let (t, c0) = (Instant::now(), cpu_time(threads != 1));
    let c = scalezip_core::cm::compress_with(&data, level, None, threads).expect("compress");
    let (ct, cc) = (t.elapsed().as_secs_f64(), cpu_time(threads != 1) - c0);
    let mb = data.len() as f64 / 1e6;
    print!(
        "level {level}, {threads} thread(s), format v{}: {} -> {} bytes, {:.4} bpb, compress {:.3} MB/s cpu ({:.3} wall)",
        c[4],
        data.len(),
        c.len(),
        c.len() as f64 * 8.0 / data.len() as f64,
        mb / cc,
        mb / ct
    );
    if verify {
        let (t, c0) = (Instant::now(), cpu_time(threads != 1));
        let mut d = vec![0u8; data.len()];
        scalezip_core::cm::decompress_into_with(&c, &mut d, threads).expect("decompress");
        let (dt, dc) = (t.elapsed().as_secs_f64(), cpu_time(threads != 1) - c0);
        assert_eq!(d, data);
        print!(
            ", decompress {:.3} MB/s cpu ({:.3} wall), verified",
            mb / dc,
            mb / dt
        );
    }
    println!();
}
