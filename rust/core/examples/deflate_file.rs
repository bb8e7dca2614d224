//! Compress a file with scalezip's raw DEFLATE encoder and write the stream
//! to stdout, for differential checks against CPython's zlib:
//!
//! ```text
//! cargo run --release --example deflate_file -- FILE LEVEL [WBITS] [STRATEGY] [SEED] \
//!   | python3 -c "import zlib,sys; d=zlib.decompress(sys.stdin.buffer.read(), -15); \
//!                 assert d == open('FILE','rb').read()"
//! ```
//!
//! STRATEGY is one of default, filtered, huffman, rle, fixed. SEED = 0 (the
//! default) compresses in one call with `Flush::Finish`; any other value
//! feeds the input in pseudo-random chunks with pseudo-random flushes (None,
//! Sync, Full) drawn from that seed, then finishes. With `BENCH=N` in the
//! environment the one-shot compression is repeated N times and the best
//! time is reported on stderr (MB/s of input); nothing goes to stdout.
use scalezip_core::deflate::{Deflater, Flush, Strategy};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: deflate_file FILE LEVEL [WBITS] [STRATEGY] [SEED]");
        std::process::exit(2);
    }
    let data = std::fs::read(&args[1]).expect("read input");
    let level: i32 = args[2].parse().expect("level");
    let wbits: i32 = args.get(3).map(|s| s.parse().expect("wbits")).unwrap_or(15);
    let strategy = match args.get(4).map(String::as_str).unwrap_or("default") {
        "default" => Strategy::Default,
        "filtered" => Strategy::Filtered,
        "huffman" => Strategy::HuffmanOnly,
        "rle" => Strategy::Rle,
        "fixed" => Strategy::Fixed,
        s => panic!("unknown strategy {s}"),
    };
    let seed: u64 = args.get(5).map(|s| s.parse().expect("seed")).unwrap_or(0);

    if let Ok(n) = std::env::var("BENCH") {
        let n: usize = n.parse().expect("BENCH");
        let mut best = f64::MAX;
        let mut size = 0;
        for _ in 0..n {
            let t = std::time::Instant::now();
            let mut d = Deflater::new(level, wbits, strategy).expect("params");
            let mut out = Vec::with_capacity(data.len() / 2);
            d.deflate(&data, Flush::Finish, &mut out).expect("deflate");
            best = best.min(t.elapsed().as_secs_f64());
            size = out.len();
        }
        eprintln!(
            "{} {} {:.1}",
            data.len(),
            size,
            data.len() as f64 / best / 1e6
        );
        return;
    }

    let mut d = Deflater::new(level, wbits, strategy).expect("params");
    let mut out = Vec::new();
    if seed == 0 {
        d.deflate(&data, Flush::Finish, &mut out).expect("deflate");
    } else {
        // xorshift64*: reproducible chunking without a dependency.
        let mut s = seed;
        let mut rnd = move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let mut rest = &data[..];
        while !rest.is_empty() {
            let r = rnd();
            let max = [1usize, 7, 300, 5000, 70_000, 300_000][(r % 6) as usize];
            let n = ((r >> 8) as usize % max + 1).min(rest.len());
            let flush = match (r >> 40) % 16 {
                0 => Flush::Sync,
                1 => Flush::Full,
                _ => Flush::None,
            };
            d.deflate(&rest[..n], flush, &mut out).expect("deflate");
            rest = &rest[n..];
        }
        d.deflate(&[], Flush::Finish, &mut out).expect("finish");
    }
    std::io::stdout().write_all(&out).expect("write");
}
