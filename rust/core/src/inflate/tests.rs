//! Tests of the DEFLATE decoder.
//!
//! Three sources of streams, since the encoder is tested separately and must
//! not be what the decoder is checked against:
//! - `testdata/*.deflate`: made by CPython's zlib (`testdata/make_fixtures.py`)
//!   from `testdata/input.bin` at several levels and strategies, with sync
//!   and full flushes, a 512-byte window and a preset dictionary.
//! - A tiny test-only writer (below) for stored, fixed and dynamic blocks
//!   from explicit literal/match tokens, used by the property tests and to
//!   hand-build every kind of malformed stream.
//! - Literal byte strings for the smallest known vectors.
//!
//! `SCALEZIP_INFLATE_CORPUS=dir` adds a differential run over every
//! `NAME.deflate` / `NAME.raw` pair in `dir` (see `corpus_from_env`).

use super::*;
use crate::tables::{CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA};
use proptest::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

// ---------------------------------------------------------------------------
// Test-only stream writer.

struct BitSink {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitSink {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }
    /// `n` bits of `v`, LSB first (header fields, extra bits).
    fn put(&mut self, v: u32, n: u32) {
        self.acc |= u64::from(v) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code, most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        for k in (0..len).rev() {
            self.put((code >> k) & 1, 1);
        }
    }
    fn align(&mut self) {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
    }
    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Match { len: u16, dist: u16 },
}

/// Apply tokens to `hist` (which may start with a dictionary).
fn expand(hist: &mut Vec<u8>, toks: &[Tok]) {
    for &t in toks {
        match t {
            Tok::Lit(b) => hist.push(b),
            Tok::Match { len, dist } => {
                for _ in 0..len {
                    // Out-of-range distances (for error tests) expand to 0.
                    let b = hist
                        .len()
                        .checked_sub(usize::from(dist))
                        .map_or(0, |i| hist[i]);
                    hist.push(b);
                }
            }
        }
    }
}

fn len_sym(len: u16) -> (usize, u32, u32) {
    let i = (0..29).rev().find(|&i| LENGTH_BASE[i] <= len).unwrap();
    let i = if len == 258 { 28 } else { i.min(27) };
    (
        257 + i,
        u32::from(len - LENGTH_BASE[i]),
        u32::from(LENGTH_EXTRA[i]),
    )
}

fn dist_sym(dist: u16) -> (usize, u32, u32) {
    let i = (0..30).rev().find(|&i| DIST_BASE[i] <= dist).unwrap();
    (i, u32::from(dist - DIST_BASE[i]), u32::from(DIST_EXTRA[i]))
}

/// Canonical codes for `lens`.
fn canonical(lens: &[u8]) -> Vec<u32> {
    let mut codes = vec![0; lens.len()];
    let mut code = 0;
    for l in 1..=15u8 {
        for (s, &sl) in lens.iter().enumerate() {
            if sl == l {
                codes[s] = code;
                code += 1;
            }
        }
        code <<= 1;
    }
    codes
}

fn fixed_codes() -> (Vec<u8>, Vec<u32>, Vec<u8>, Vec<u32>) {
    let ll = crate::tables::fixed_litlen_lengths().to_vec();
    let dl = crate::tables::fixed_dist_lengths().to_vec();
    let (lc, dc) = (canonical(&ll), canonical(&dl));
    (ll, lc, dl, dc)
}

fn put_tokens(w: &mut BitSink, toks: &[Tok], ll: &[u8], lc: &[u32], dl: &[u8], dc: &[u32]) {
    for &t in toks {
        match t {
            Tok::Lit(b) => w.code(lc[usize::from(b)], u32::from(ll[usize::from(b)])),
            Tok::Match { len, dist } => {
                let (s, e, n) = len_sym(len);
                w.code(lc[s], u32::from(ll[s]));
                w.put(e, n);
                let (s, e, n) = dist_sym(dist);
                w.code(dc[s], u32::from(dl[s]));
                w.put(e, n);
            }
        }
    }
    w.code(lc[256], u32::from(ll[256]));
}

fn put_stored(w: &mut BitSink, data: &[u8], last: bool) {
    let mut chunks: Vec<&[u8]> = data.chunks(65535).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        w.put(u32::from(last && i + 1 == n), 1);
        w.put(0, 2);
        w.align();
        w.put(c.len() as u32, 16);
        w.put(!(c.len() as u32) & 0xffff, 16);
        for &b in c {
            w.put(u32::from(b), 8);
        }
    }
}

fn put_fixed(w: &mut BitSink, toks: &[Tok], last: bool) {
    let (ll, lc, dl, dc) = fixed_codes();
    w.put(u32::from(last), 1);
    w.put(1, 2);
    put_tokens(w, toks, &ll, &lc, &dl, &dc);
}

/// Huffman code lengths for `freqs`, at most `limit` bits (halving the
/// frequencies until they fit: not optimal, and need not be).
fn huffman_lengths(freqs: &[u32], limit: u8) -> Vec<u8> {
    let mut f: Vec<u64> = freqs.iter().map(|&x| u64::from(x)).collect();
    loop {
        let used: Vec<usize> = (0..f.len()).filter(|&i| f[i] > 0).collect();
        let mut lens = vec![0u8; f.len()];
        match used.len() {
            0 => return lens,
            1 => {
                lens[used[0]] = 1;
                return lens;
            }
            _ => {}
        }
        let mut heap: BinaryHeap<Reverse<(u64, usize)>> = used
            .iter()
            .enumerate()
            .map(|(k, &i)| Reverse((f[i], k)))
            .collect();
        let mut parent = vec![usize::MAX; 2 * used.len()];
        let mut next = used.len();
        while heap.len() > 1 {
            let Reverse((a, i)) = heap.pop().unwrap();
            let Reverse((b, j)) = heap.pop().unwrap();
            parent[i] = next;
            parent[j] = next;
            heap.push(Reverse((a + b, next)));
            next += 1;
        }
        let mut ok = true;
        for (k, &i) in used.iter().enumerate() {
            let (mut d, mut x) = (0u8, k);
            while parent[x] != usize::MAX {
                x = parent[x];
                d += 1;
            }
            lens[i] = d;
            ok &= d <= limit;
        }
        if ok {
            return lens;
        }
        for x in f.iter_mut().filter(|x| **x > 0) {
            *x = x.div_ceil(2);
        }
    }
}

/// Run-length code a sequence of code lengths with symbols 16/17/18, as
/// (symbol, extra value, extra bits).
fn rle(lens: &[u8]) -> Vec<(usize, u32, u32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lens.len() {
        let v = lens[i];
        let run = lens[i..].iter().take_while(|&&x| x == v).count();
        if v == 0 && run >= 3 {
            let r = run.min(138);
            if r >= 11 {
                out.push((18, (r - 11) as u32, 7));
            } else {
                out.push((17, (r - 3) as u32, 3));
            }
            i += r;
        } else if v != 0 && run >= 4 {
            out.push((usize::from(v), 0, 0));
            let r = (run - 1).min(6);
            out.push((16, (r - 3) as u32, 2));
            i += 1 + r;
        } else {
            out.push((usize::from(v), 0, 0));
            i += 1;
        }
    }
    out
}

/// A dynamic block header with explicit lengths and code-length items;
/// `precode` overrides the code-length code lengths when given. Returns
/// nothing; the caller writes symbols after it.
fn put_dynamic_header(
    w: &mut BitSink,
    last: bool,
    nlen: usize,
    ndist: usize,
    items: &[(usize, u32, u32)],
    precode: Option<[u8; 19]>,
) {
    let pl: Vec<u8> = match precode {
        Some(p) => p.to_vec(),
        None => {
            let mut pf = [0u32; 19];
            for &(s, _, _) in items {
                pf[s] += 1;
            }
            // The code-length code may not be a lone 1-bit code: add a
            // second symbol if needed.
            if pf.iter().filter(|&&x| x > 0).count() < 2 {
                let spare = if pf[0] == 0 { 0 } else { 1 };
                pf[spare] += 1;
            }
            huffman_lengths(&pf, 7)
        }
    };
    let pc = canonical(&pl);
    let nclen = (4..=19)
        .rev()
        .find(|&n| pl[CODE_LENGTH_ORDER[n - 1]] != 0)
        .unwrap_or(4)
        .max(4);
    w.put(u32::from(last), 1);
    w.put(2, 2);
    w.put((nlen - 257) as u32, 5);
    w.put((ndist - 1) as u32, 5);
    w.put((nclen - 4) as u32, 4);
    for &o in &CODE_LENGTH_ORDER[..nclen] {
        w.put(u32::from(pl[o]), 3);
    }
    for &(s, e, n) in items {
        w.code(pc[s], u32::from(pl[s]));
        w.put(e, n);
    }
}

fn put_dynamic(w: &mut BitSink, toks: &[Tok], last: bool) {
    let mut lf = [0u32; 286];
    let mut df = [0u32; 30];
    lf[256] = 1;
    for &t in toks {
        match t {
            Tok::Lit(b) => lf[usize::from(b)] += 1,
            Tok::Match { len, dist } => {
                lf[len_sym(len).0] += 1;
                df[dist_sym(dist).0] += 1;
            }
        }
    }
    let ll = huffman_lengths(&lf, 15);
    let dl = huffman_lengths(&df, 15);
    let nlen = (257..=286)
        .rev()
        .find(|&n| ll[n - 1] != 0)
        .unwrap_or(257)
        .max(257);
    let ndist = (1..=30).rev().find(|&n| dl[n - 1] != 0).unwrap_or(1);
    let mut seq = ll[..nlen].to_vec();
    seq.extend_from_slice(&dl[..ndist]);
    put_dynamic_header(w, last, nlen, ndist, &rle(&seq), None);
    put_tokens(w, toks, &ll, &canonical(&ll), &dl, &canonical(&dl));
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Stored,
    Fixed,
    Dynamic,
}

/// Encode `blocks` (kind, tokens); returns (stream, expected output).
fn build_stream(dict: &[u8], blocks: &[(Kind, Vec<Tok>)]) -> (Vec<u8>, Vec<u8>) {
    let mut w = BitSink::new();
    let mut hist = dict.to_vec();
    for (i, (kind, toks)) in blocks.iter().enumerate() {
        let last = i + 1 == blocks.len();
        let start = hist.len();
        expand(&mut hist, toks);
        match kind {
            Kind::Stored => put_stored(&mut w, &hist[start..], last),
            Kind::Fixed => put_fixed(&mut w, toks, last),
            Kind::Dynamic => put_dynamic(&mut w, toks, last),
        }
    }
    (w.finish(), hist[dict.len()..].to_vec())
}

/// Turn random numbers into valid tokens (distances within the history).
fn tokens_from(ops: &[(u8, u16, u16)], mut hist_len: usize) -> Vec<Tok> {
    let mut out = Vec::with_capacity(ops.len());
    for &(k, a, b) in ops {
        if k % 3 == 0 || hist_len == 0 {
            // Mostly a small alphabet (skewed codes), sometimes any byte.
            let byte = if k % 7 == 1 {
                (a >> 4) as u8
            } else {
                (a % 7) as u8 * 37 + (b % 3) as u8
            };
            out.push(Tok::Lit(byte));
            hist_len += 1;
        } else {
            let len = if k % 5 == 0 { 258 } else { 3 + a % 256 };
            let span = hist_len.min(32768);
            let dist = match k % 4 {
                0 => 1 + usize::from(b) % span.min(8),
                1 => span - usize::from(b) % span.min(3),
                _ => 1 + usize::from(b) % span,
            };
            out.push(Tok::Match {
                len,
                dist: dist as u16,
            });
            hist_len += usize::from(len);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Drivers.

/// Decode with the streaming API, feeding input in chunks whose sizes cycle
/// through `chunks` and allowing `outs[i]` bytes of output per call.
/// Returns (output, input bytes consumed in total).
fn stream_decode(
    input: &[u8],
    dict: Option<&[u8]>,
    chunks: &[usize],
    outs: &[usize],
) -> Result<(Vec<u8>, usize), InflateError> {
    let mut inf = Inflater::new();
    if let Some(d) = dict {
        inf.set_dictionary(d);
    }
    let mut out = Vec::new();
    let mut at = 0;
    let mut fed = 0; // bytes of input made available
    let mut k = 0;
    let mut stalls = 0;
    loop {
        if fed == at {
            fed = (at + chunks[k % chunks.len()].max(1)).min(input.len());
        }
        let max_out = outs[k % outs.len()];
        k += 1;
        let before = out.len();
        let p = inf.inflate(&input[at..fed], &mut out, max_out)?;
        assert!(out.len() - before <= max_out, "wrote past max_out");
        assert!(p.consumed <= fed - at);
        at += p.consumed;
        match p.status {
            Status::StreamEnd => {
                assert!(inf.is_done());
                // Idempotent afterwards.
                let again = inf.inflate(&input[at..], &mut out, 100)?;
                assert_eq!(
                    again,
                    Progress {
                        consumed: 0,
                        status: Status::StreamEnd
                    }
                );
                return Ok((out, at));
            }
            Status::NeedsInput => {
                assert_eq!(at, fed, "NeedsInput but input left over");
                if fed == input.len() {
                    return Err(InflateError::Truncated);
                }
            }
            Status::OutputFull => assert_eq!(out.len() - before, max_out),
        }
        if out.len() == before && p.consumed == 0 {
            stalls += 1;
            assert!(stalls < 1000, "no progress");
        } else {
            stalls = 0;
        }
    }
}

/// Every way of decoding `stream` agrees on `want` and on the exact length.
fn check_all_ways(stream: &[u8], dict: Option<&[u8]>, want: &[u8]) {
    let mut padded = stream.to_vec();
    padded.extend_from_slice(b"\xffTRAILING GARBAGE\x00");
    if dict.is_none() {
        let (got, used) = inflate(&padded, 0).unwrap();
        assert!(got == want, "one-shot output differs");
        assert_eq!(used, stream.len());
        let (got, used) = inflate(stream, want.len()).unwrap();
        assert!(got == want);
        assert_eq!(used, stream.len());
    }
    for (chunks, outs) in [
        (&[usize::MAX][..], &[usize::MAX][..]),
        (&[1][..], &[usize::MAX][..]),
        (&[usize::MAX][..], &[1][..]),
        (&[1][..], &[1][..]),
        (&[7, 1, 300, 2, 65536][..], &[1000, 0, 3, 70000, 258][..]),
    ] {
        let (got, used) = stream_decode(&padded, dict, chunks, outs).unwrap();
        assert!(
            got == want,
            "streaming output differs (chunks {chunks:?}, outs {outs:?})"
        );
        assert_eq!(
            used,
            stream.len(),
            "consumed (chunks {chunks:?}, outs {outs:?})"
        );
    }
}

// ---------------------------------------------------------------------------
// Known vectors.

#[test]
fn empty_streams() {
    // Final fixed block with only end-of-block: 0x03 0x00 (zlib's output for
    // empty input).
    assert_eq!(inflate(&[0x03, 0x00], 0).unwrap(), (vec![], 2));
    // Final empty stored block.
    assert_eq!(
        inflate(&[0x01, 0x00, 0x00, 0xff, 0xff], 0).unwrap(),
        (vec![], 5)
    );
    check_all_ways(&[0x03, 0x00], None, &[]);
    check_all_ways(&[0x01, 0x00, 0x00, 0xff, 0xff], None, &[]);
}

#[test]
fn python_zlib_small_vectors() {
    // zlib.compress(b"hello hello hello hello", wbits=-15) at level 6.
    let s = [0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x27, 0x01];
    check_all_ways(&s, None, b"hello hello hello hello");
    // zlib.compress(b"a" * 1000, wbits=-15): one literal, then distance-1
    // matches.
    let s = [
        0x4b, 0x4c, 0x1c, 0x05, 0xa3, 0x60, 0x14, 0x0c, 0x77, 0x00, 0x00,
    ];
    check_all_ways(&s, None, &[b'a'; 1000]);
}

fn fixture(name: &str) -> &'static [u8] {
    match name {
        "l0" => include_bytes!("testdata/l0.deflate"),
        "l1" => include_bytes!("testdata/l1.deflate"),
        "l6" => include_bytes!("testdata/l6.deflate"),
        "l9" => include_bytes!("testdata/l9.deflate"),
        "fixed" => include_bytes!("testdata/fixed.deflate"),
        "huffonly" => include_bytes!("testdata/huffonly.deflate"),
        "rle" => include_bytes!("testdata/rle.deflate"),
        "w9" => include_bytes!("testdata/w9.deflate"),
        "flushes" => include_bytes!("testdata/flushes.deflate"),
        "mem1" => include_bytes!("testdata/mem1.deflate"),
        "dict" => include_bytes!("testdata/dict.deflate"),
        _ => unreachable!(),
    }
}
const INPUT: &[u8] = include_bytes!("testdata/input.bin");
const DICT: &[u8] = include_bytes!("testdata/dict.bin");

#[test]
fn python_zlib_fixtures() {
    for name in [
        "l0", "l1", "l6", "l9", "fixed", "huffonly", "rle", "w9", "flushes", "mem1",
    ] {
        check_all_ways(fixture(name), None, INPUT);
    }
}

#[test]
fn python_zlib_preset_dictionary() {
    let s = fixture("dict");
    check_all_ways(s, Some(DICT), INPUT);
    // Without the dictionary, the first reference into it is too far back.
    match inflate(s, 0) {
        Err(InflateError::DistanceTooFarBack {
            distance,
            available,
        }) => assert!(distance > available),
        other => panic!("expected DistanceTooFarBack, got {other:?}"),
    }
    // A dictionary longer than 32 KiB: only its tail matters.
    let mut long = vec![0x55u8; 50_000];
    long.extend_from_slice(DICT);
    let (got, _) = stream_decode(s, Some(&long), &[1000], &[usize::MAX]).unwrap();
    assert!(got == INPUT);
}

#[test]
fn stored_blocks_of_every_size_class() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    for n in [
        0usize, 1, 2, 7, 8, 9, 255, 256, 65534, 65535, 65536, 131_071, 200_000,
    ] {
        let mut w = BitSink::new();
        put_stored(&mut w, &data[..n], true);
        let s = w.finish();
        let (got, used) = inflate(&s, 0).unwrap();
        assert!(got == data[..n]);
        assert_eq!(used, s.len());
        let (got, used) = stream_decode(&s, None, &[3, 1, 5000], &[777, 1, 65536]).unwrap();
        assert!(got == data[..n]);
        assert_eq!(used, s.len());
    }
}

#[test]
fn matches_across_blocks_and_full_window() {
    // 40 KiB of distinct-ish literals in a stored block, then a fixed block
    // copying from exactly 32768 back, then a dynamic block doing the same.
    let lits: Vec<u8> = (0..40_960u32)
        .map(|i| (i ^ (i >> 8) ^ (i >> 13)) as u8)
        .collect();
    let stored: Vec<Tok> = lits.iter().map(|&b| Tok::Lit(b)).collect();
    let far = vec![
        Tok::Match {
            len: 258,
            dist: 32768,
        },
        Tok::Match {
            len: 3,
            dist: 32768,
        },
        Tok::Lit(1),
    ];
    let near = vec![
        Tok::Match { len: 100, dist: 1 },
        Tok::Match { len: 258, dist: 7 },
        Tok::Match {
            len: 30,
            dist: 32768,
        },
    ];
    let (s, want) = build_stream(
        &[],
        &[
            (Kind::Stored, stored),
            (Kind::Fixed, far.clone()),
            (Kind::Dynamic, far),
            (Kind::Fixed, near.clone()),
            (Kind::Dynamic, near),
        ],
    );
    check_all_ways(&s, None, &want);
}

#[test]
fn dictionary_reaches_back() {
    let dict = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let toks = vec![
        Tok::Match { len: 10, dist: 36 },
        Tok::Match { len: 5, dist: 5 },
        Tok::Lit(b'!'),
    ];
    let (s, want) = build_stream(dict, &[(Kind::Fixed, toks)]);
    assert_eq!(want, b"012345678956789!");
    check_all_ways(&s, Some(dict), &want);
    // One byte further is beyond the history.
    let (s, _) = build_stream(
        b"x",
        &[(
            Kind::Fixed,
            vec![Tok::Lit(b'a'), Tok::Match { len: 3, dist: 3 }],
        )],
    );
    let mut inf = Inflater::new();
    inf.set_dictionary(b"x");
    let e = inf.inflate(&s, &mut Vec::new(), usize::MAX).unwrap_err();
    assert_eq!(
        e,
        InflateError::DistanceTooFarBack {
            distance: 3,
            available: 2
        }
    );
    // Errors are sticky.
    assert_eq!(inf.inflate(&s, &mut Vec::new(), usize::MAX).unwrap_err(), e);
}

#[test]
fn clone_is_independent() {
    let s = fixture("l6");
    let mut a = Inflater::new();
    let mut out_a = Vec::new();
    let p = a.inflate(&s[..5000], &mut out_a, usize::MAX).unwrap();
    assert_eq!(p.status, Status::NeedsInput);
    let mut b = a.clone();
    let mut out_b = out_a.clone();
    a.inflate(&s[5000..], &mut out_a, usize::MAX).unwrap();
    // Feed b in a different pattern.
    let mut at = 5000;
    while !b.is_done() {
        let p = b
            .inflate(&s[at..(at + 11).min(s.len())], &mut out_b, 4096)
            .unwrap();
        at += p.consumed;
    }
    assert!(out_a == INPUT && out_b == INPUT);
}

#[test]
fn output_exactly_full_at_stream_end_is_stream_end() {
    let s = fixture("l9");
    let mut inf = Inflater::new();
    let mut out = Vec::new();
    let p = inf.inflate(s, &mut out, INPUT.len()).unwrap();
    assert_eq!(
        p,
        Progress {
            consumed: s.len(),
            status: Status::StreamEnd
        }
    );
    assert!(out == INPUT);
    // One byte short: OutputFull, then the last byte and StreamEnd.
    let mut inf = Inflater::new();
    let mut out = Vec::new();
    let p = inf.inflate(s, &mut out, INPUT.len() - 1).unwrap();
    assert_eq!(p.status, Status::OutputFull);
    let p2 = inf.inflate(&s[p.consumed..], &mut out, 1).unwrap();
    assert_eq!(p2.status, Status::StreamEnd);
    assert_eq!(p.consumed + p2.consumed, s.len());
    assert!(out == INPUT);
}

#[test]
fn max_out_zero_makes_no_output() {
    let s = fixture("l1");
    let mut inf = Inflater::new();
    let mut out = Vec::new();
    let p = inf.inflate(s, &mut out, 0).unwrap();
    assert_eq!(p.status, Status::OutputFull);
    assert!(out.is_empty());
    // The dynamic header was decoded; the first symbol was not.
    assert!(p.consumed > 0 && p.consumed < 200);
    let mut at = p.consumed;
    while !inf.is_done() {
        at += inf
            .inflate(&s[at..], &mut out, usize::MAX)
            .unwrap()
            .consumed;
    }
    assert_eq!(at, s.len());
    assert!(out == INPUT);
}

// ---------------------------------------------------------------------------
// Malformed streams.

fn one_shot_err(s: &[u8]) -> InflateError {
    let e = inflate(s, 0).unwrap_err();
    // Streaming, byte by byte, finds the same error.
    let mut inf = Inflater::new();
    let mut out = Vec::new();
    let mut at = 0;
    let se = loop {
        match inf.inflate(&s[at..(at + 1).min(s.len())], &mut out, usize::MAX) {
            Err(e) => break e,
            Ok(p) => {
                assert_ne!(p.status, Status::StreamEnd, "stream decoded without error");
                at += p.consumed;
                assert!(
                    at < s.len() || p.status != Status::NeedsInput,
                    "ran out of input without error"
                );
            }
        }
    };
    assert_eq!(e, se);
    e
}

#[test]
fn error_invalid_block_type() {
    assert_eq!(
        one_shot_err(&[0x07, 0, 0, 0]),
        InflateError::InvalidBlockType
    );
    // After a good non-final block.
    assert_eq!(
        one_shot_err(&[0x00, 0x00, 0x00, 0xff, 0xff, 0x07]),
        InflateError::InvalidBlockType
    );
}

#[test]
fn error_invalid_stored_lengths() {
    assert_eq!(
        one_shot_err(&[0x01, 0x01, 0x00, 0x00, 0x00]),
        InflateError::InvalidStoredLengths
    );
    assert_eq!(
        one_shot_err(&[0x01, 0x05, 0x00, 0xfa, 0xfe, 1, 2, 3, 4, 5]),
        InflateError::InvalidStoredLengths
    );
}

#[test]
fn error_too_many_codes() {
    let mut w = BitSink::new();
    w.put(1, 1);
    w.put(2, 2);
    w.put(30, 5); // HLIT = 287
    w.put(0, 5);
    w.put(0, 4);
    w.put(0, 32);
    assert_eq!(one_shot_err(&w.finish()), InflateError::TooManyCodes);
    let mut w = BitSink::new();
    w.put(1, 1);
    w.put(2, 2);
    w.put(0, 5);
    w.put(30, 5); // HDIST = 31
    w.put(0, 4);
    w.put(0, 32);
    assert_eq!(one_shot_err(&w.finish()), InflateError::TooManyCodes);
}

/// A dynamic header from explicit pieces, padded with zero bytes so the
/// error is reached before the input ends.
fn dyn_err(
    nlen: usize,
    ndist: usize,
    items: &[(usize, u32, u32)],
    precode: Option<[u8; 19]>,
) -> InflateError {
    let mut w = BitSink::new();
    put_dynamic_header(&mut w, true, nlen, ndist, items, precode);
    for _ in 0..20 {
        w.put(0, 32);
    }
    one_shot_err(&w.finish())
}

fn lit_items(ll: &[u8], dl: &[u8]) -> Vec<(usize, u32, u32)> {
    ll.iter()
        .chain(dl)
        .map(|&l| (usize::from(l), 0, 0))
        .collect()
}

#[test]
fn error_invalid_code_lengths_set() {
    // Over-subscribed: three 1-bit codes.
    let mut p = [0u8; 19];
    p[0] = 1;
    p[1] = 1;
    p[2] = 1;
    assert_eq!(
        dyn_err(257, 1, &[], Some(p)),
        InflateError::InvalidCodeLengthsSet
    );
    // Incomplete: a single 1-bit code is not allowed for this code.
    let mut p = [0u8; 19];
    p[8] = 1;
    assert_eq!(
        dyn_err(257, 1, &[], Some(p)),
        InflateError::InvalidCodeLengthsSet
    );
}

#[test]
fn error_invalid_bit_length_repeat() {
    // Repeat with nothing to repeat.
    assert_eq!(
        dyn_err(257, 1, &[(16, 0, 2), (0, 0, 0)], None),
        InflateError::InvalidBitLengthRepeat
    );
    // Repeat running past the end of the lengths.
    let mut items = vec![(18, 127, 7), (18, 127, 7)]; // 276 zeros
    items.push((17, 7, 3)); // 10 more: 286 > 258
    assert_eq!(
        dyn_err(257, 1, &items, None),
        InflateError::InvalidBitLengthRepeat
    );
    let mut items = vec![(8, 0, 0)];
    items.extend(std::iter::repeat_n((16, 3, 2), 43)); // 1 + 258
    assert_eq!(
        dyn_err(257, 1, &items, None),
        InflateError::InvalidBitLengthRepeat
    );
}

#[test]
fn error_missing_end_of_block() {
    let mut ll = [8u8; 257];
    ll[256] = 0;
    ll[255] = 0;
    assert_eq!(
        dyn_err(257, 1, &lit_items(&ll, &[1]), None),
        InflateError::MissingEndOfBlock
    );
    // zlib: an empty code-length code decodes every length as 0 (1 bit
    // each), which ends in the same error.
    assert_eq!(
        dyn_err(257, 1, &[], Some([0; 19])),
        InflateError::MissingEndOfBlock
    );
}

#[test]
fn error_invalid_literal_lengths_set() {
    // Over-subscribed.
    let ll = [8u8; 257];
    assert_eq!(
        dyn_err(257, 1, &lit_items(&ll, &[1]), None),
        InflateError::InvalidLiteralLengthsSet
    );
    // Incomplete with a code longer than 1 bit.
    let mut ll = [0u8; 257];
    ll[256] = 2;
    ll[0] = 2;
    assert_eq!(
        dyn_err(257, 1, &lit_items(&ll, &[1]), None),
        InflateError::InvalidLiteralLengthsSet
    );
}

#[test]
fn error_invalid_distances_set() {
    let mut ll = [0u8; 257];
    ll[0] = 1;
    ll[256] = 1;
    assert_eq!(
        dyn_err(257, 3, &lit_items(&ll, &[1, 1, 1]), None),
        InflateError::InvalidDistancesSet
    );
    assert_eq!(
        dyn_err(257, 2, &lit_items(&ll, &[2, 0]), None),
        InflateError::InvalidDistancesSet
    );
}

#[test]
fn single_code_sets_are_accepted_like_zlib() {
    // Lit/len code: only end-of-block, 1 bit. Distance code: a single
    // 1-bit code. The block is empty and valid.
    let mut ll = [0u8; 257];
    ll[256] = 1;
    let mut w = BitSink::new();
    put_dynamic_header(&mut w, true, 257, 1, &lit_items(&ll, &[1]), None);
    w.code(0, 1); // end of block
    let s = w.finish();
    check_all_ways(&s, None, &[]);
    // The unused half of the lit/len code is an invalid code.
    let mut w = BitSink::new();
    put_dynamic_header(&mut w, true, 257, 1, &lit_items(&ll, &[1]), None);
    w.code(1, 1);
    w.put(0, 16);
    assert_eq!(
        one_shot_err(&w.finish()),
        InflateError::InvalidLiteralLengthCode
    );
    // Distance code with only symbol 1 (code 0): a match using code 1 is
    // an invalid distance code; an empty distance code likewise.
    let mut ll = [0u8; 258];
    ll[256] = 1;
    ll[257] = 1; // length 3
    for (dl, dcode) in [(&[0u8, 1][..], 1u32), (&[0u8][..], 0)] {
        let mut w = BitSink::new();
        put_dynamic_header(&mut w, true, 258, dl.len(), &lit_items(&ll, dl), None);
        w.code(1, 1); // length 3 (symbol 257 has code 1)
        w.code(dcode, 1);
        w.put(0, 16);
        assert_eq!(one_shot_err(&w.finish()), InflateError::InvalidDistanceCode);
    }
}

#[test]
fn error_invalid_fixed_symbols() {
    // Fixed code for 286 / 287: 8 bits 11000110 / 11000111.
    for sym in [286u32, 287] {
        let mut w = BitSink::new();
        w.put(1, 1);
        w.put(1, 2);
        w.code(0xc0 + sym - 280, 8);
        w.put(0, 16);
        assert_eq!(
            one_shot_err(&w.finish()),
            InflateError::InvalidLiteralLengthCode
        );
    }
    // Distance symbols 30 / 31, after a literal and a length 3.
    for d in [30u32, 31] {
        let mut w = BitSink::new();
        w.put(1, 1);
        w.put(1, 2);
        w.code(0x30 + u32::from(b'a'), 8);
        w.code(1, 7); // symbol 257
        w.code(d, 5);
        w.put(0, 16);
        assert_eq!(one_shot_err(&w.finish()), InflateError::InvalidDistanceCode);
    }
}

#[test]
fn error_distance_too_far_back() {
    let (s, _) = build_stream(&[], &[(Kind::Fixed, vec![Tok::Match { len: 3, dist: 1 }])]);
    assert_eq!(
        one_shot_err(&s),
        InflateError::DistanceTooFarBack {
            distance: 1,
            available: 0
        }
    );
    let (s, _) = build_stream(
        &[],
        &[
            (Kind::Stored, vec![Tok::Lit(1); 100]),
            (
                Kind::Dynamic,
                vec![Tok::Lit(1), Tok::Match { len: 3, dist: 102 }],
            ),
        ],
    );
    assert_eq!(
        one_shot_err(&s),
        InflateError::DistanceTooFarBack {
            distance: 102,
            available: 101
        }
    );
}

#[test]
fn truncation() {
    let s = fixture("l6");
    for cut in [0, 1, 2, 100, s.len() / 2, s.len() - 1] {
        assert_eq!(inflate(&s[..cut], 0).unwrap_err(), InflateError::Truncated);
        // Streaming never says Truncated: it asks for more.
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let p = inf.inflate(&s[..cut], &mut out, usize::MAX).unwrap();
        assert_eq!(
            p,
            Progress {
                consumed: cut,
                status: Status::NeedsInput
            }
        );
        // And the rest completes it.
        let p = inf.inflate(&s[cut..], &mut out, usize::MAX).unwrap();
        assert_eq!(
            p,
            Progress {
                consumed: s.len() - cut,
                status: Status::StreamEnd
            }
        );
        assert!(out == INPUT);
    }
}

/// Corrupting bytes of real streams gives an error or some output, never a
/// panic or a hang, and the one-shot and streaming paths (different code:
/// fast loop to the end vs. careful path at every chunk edge) agree on the
/// result. `SCALEZIP_INFLATE_FUZZ_ITERS` runs more iterations.
#[test]
fn corrupted_fixtures_agree_and_do_not_panic() {
    let iters: usize = std::env::var("SCALEZIP_INFLATE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let names = ["l1", "l9", "fixed", "huffonly", "l0"];
    let mut x = 0x1234_5678u32;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as usize
    };
    for it in 0..iters {
        let s = fixture(names[it % names.len()]);
        // Cut early so iterations stay cheap; flip 1-3 bits in the part kept.
        let mut c = s[..(rnd() % s.len()).max(64).min(s.len())].to_vec();
        for _ in 0..1 + rnd() % 3 {
            let i = rnd() % c.len().min(2000);
            c[i] ^= 1 << (rnd() % 8);
        }
        let one = inflate(&c, 0);
        assert_eq!(
            one,
            inflate_portable(&c),
            "CPU-specific and portable fast loops differ"
        );
        let st = stream_decode(&c, None, &[1 + rnd() % 300], &[1 + rnd() % 5000]);
        match (&one, &st) {
            (Ok(a), Ok(b)) => assert!(a == b),
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!(
                "one-shot {:?} vs streaming {:?}",
                one.map(|v| v.1),
                st.map(|v| v.1)
            ),
        }
    }
}

/// The CPU-specific fast loop (BMI2 on x86-64, when the CPU has it) and the
/// portable one decode every fixture and long random-token streams alike
/// (on a CPU without the features both runs take the portable path).
#[test]
fn cpu_variants_agree() {
    for name in [
        "l0", "l1", "l6", "l9", "fixed", "huffonly", "rle", "w9", "flushes", "mem1",
    ] {
        let s = fixture(name);
        assert_eq!(inflate(s, 0), inflate_portable(s), "{name}");
    }
    // Long streams of every block kind with matches at all distances, so
    // the fast loop (not the careful path) does most of the work.
    let mut x = 0x9e37_79b9u32;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for kind in [Kind::Fixed, Kind::Dynamic] {
        let ops: Vec<(u8, u16, u16)> = (0..20_000)
            .map(|_| (rnd() as u8, rnd() as u16, rnd() as u16))
            .collect();
        let (s, want) = build_stream(&[], &[(kind, tokens_from(&ops, 0))]);
        let (got, used) = inflate(&s, 0).unwrap();
        assert!(got == want);
        assert_eq!(inflate_portable(&s).unwrap(), (got, used));
    }
}

// ---------------------------------------------------------------------------
// Properties.

/// Per block: a kind selector and raw token material for `tokens_from`.
type RawBlocks = Vec<(u8, Vec<(u8, u16, u16)>)>;

fn arb_blocks() -> impl Strategy<Value = RawBlocks> {
    proptest::collection::vec(
        (
            0u8..3,
            proptest::collection::vec((any::<u8>(), any::<u16>(), any::<u16>()), 0..300),
        ),
        1..6,
    )
}

fn realize(blocks: &RawBlocks, dict_len: usize) -> Vec<(Kind, Vec<Tok>)> {
    let mut hist = dict_len;
    blocks
        .iter()
        .map(|(k, ops)| {
            let toks = tokens_from(ops, hist);
            hist += toks
                .iter()
                .map(|t| {
                    if let Tok::Match { len, .. } = t {
                        usize::from(*len)
                    } else {
                        1
                    }
                })
                .sum::<usize>();
            (
                [Kind::Stored, Kind::Fixed, Kind::Dynamic][usize::from(*k)],
                toks,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random stored / fixed / dynamic streams decode to what the tokens
    /// say, one-shot and streaming with random chunking and output limits.
    #[test]
    fn random_streams_decode(blocks in arb_blocks(),
                             chunks in proptest::collection::vec(1usize..200, 1..8),
                             outs in proptest::collection::vec(0usize..600, 1..8)) {
        let blocks = realize(&blocks, 0);
        let (s, want) = build_stream(&[], &blocks);
        let mut padded = s.clone();
        padded.extend_from_slice(&[0xa5; 9]);
        let (got, used) = inflate(&padded, 0).unwrap();
        prop_assert!(got == want);
        prop_assert_eq!(used, s.len());
        prop_assert_eq!(inflate_portable(&padded).unwrap(), (got, used));
        let outs: Vec<usize> = outs.iter().map(|&o| o.max(1)).collect();
        let (got, used) = stream_decode(&padded, None, &chunks, &outs).unwrap();
        prop_assert!(got == want);
        prop_assert_eq!(used, s.len());
    }

    /// Same with a preset dictionary that matches may reach into.
    #[test]
    fn random_streams_with_dictionary(dict in proptest::collection::vec(any::<u8>(), 1..3000),
                                      blocks in arb_blocks(),
                                      chunk in 1usize..64) {
        let blocks = realize(&blocks, dict.len());
        let (s, want) = build_stream(&dict, &blocks);
        let (got, used) = stream_decode(&s, Some(&dict), &[chunk], &[usize::MAX]).unwrap();
        prop_assert!(got == want);
        prop_assert_eq!(used, s.len());
    }

    /// Arbitrary bytes never panic, and streaming agrees with one-shot.
    #[test]
    fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400), chunk in 1usize..20) {
        let one = inflate(&data, 0);
        prop_assert_eq!(&one, &inflate_portable(&data));
        let st = stream_decode(&data, None, &[chunk], &[usize::MAX]);
        match (one, st) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "one-shot {:?} vs streaming {:?}", a.map(|x| x.1), b.map(|x| x.1)),
        }
    }
}

/// Differential run over a directory of `NAME.deflate` + `NAME.raw` pairs
/// (raw DEFLATE and the original), e.g. made with Python's zlib at every
/// level from real files. Skipped unless `SCALEZIP_INFLATE_CORPUS` is set.
#[test]
fn corpus_from_env() {
    let Ok(dir) = std::env::var("SCALEZIP_INFLATE_CORPUS") else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "deflate") {
            continue;
        }
        let stream = std::fs::read(&path).unwrap();
        let want = std::fs::read(path.with_extension("raw")).unwrap();
        let (got, used) = inflate(&stream, 0).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(got == want, "{}: one-shot output differs", path.display());
        assert_eq!(used, stream.len(), "{}", path.display());
        let (got, used) =
            stream_decode(&stream, None, &[4093, 1, 65536], &[70000, 5, 1 << 20]).unwrap();
        assert!(got == want, "{}: streaming output differs", path.display());
        assert_eq!(used, stream.len());
        n += 1;
    }
    eprintln!("corpus: {n} streams checked");
}
