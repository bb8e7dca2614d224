//! Compress a file with the context-mixing codec and report size, bits per
//! byte and CPU speed: `cargo run --release --example cm_file -- FILE [LEVEL] [--verify]`.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: cm_file FILE [LEVEL] [--verify]");
    let level: i64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(6);
    let verify = args.iter().any(|a| a == "--verify");
    let data = std::fs::read(path).expect("read");
    let t = Instant::now();
    let c = scalezip_core::cm::compress(&data, level).expect("compress");
    let ct = t.elapsed().as_secs_f64();
    let mb = data.len() as f64 / 1e6;
    print!(
        "level {level}: {} -> {} bytes, {:.4} bpb, compress {:.2} MB/s (wall)",
        data.len(),
        c.len(),
        c.len() as f64 * 8.0 / data.len() as f64,
        mb / ct
    );
    if verify {
        let t = Instant::now();
        let d = scalezip_core::cm::decompress(&c, u64::MAX).expect("decompress");
        let dt = t.elapsed().as_secs_f64();
        assert_eq!(d, data);
        print!(", decompress {:.2} MB/s (wall), verified", mb / dt);
    }
    println!();
}
