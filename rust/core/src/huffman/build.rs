//! Length-limited Huffman code construction for the DEFLATE encoder.
//!
//! Algorithm:
//! 1. Sort the used symbols by (frequency, symbol). With at most 288
//!    symbols a comparison sort is a few microseconds per block.
//! 2. Build an optimal (unlimited) Huffman tree with the two-queue method:
//!    leaves come sorted, and internal nodes are created in non-decreasing
//!    weight order, so the two smallest weights are always at the front of
//!    one of the two queues. This is O(n) after the sort and needs no heap.
//!    Depths are then computed top-down from the parent links.
//! 3. If the longest code exceeds `max_len` (15 for literal/length and
//!    distance codes, 7 for the code-length code), clamp the per-length
//!    counts and repair the Kraft sum the way miniz/zlib's heuristic does:
//!    repeatedly move one leaf from the deepest level up and split a
//!    shallower leaf into two deeper ones until sum 2^-len == 1. The result
//!    is not always optimal (package-merge would be), but it is within a
//!    fraction of a percent on real data and is what zlib ships.
//! 4. Hand the per-length counts back to the symbols: the least frequent
//!    symbols get the longest codes. This keeps the code optimal for the
//!    multiset of lengths chosen.
//!
//! Degenerate cases follow zlib, because inflate implementations (zlib's
//! included) reject incomplete code-length codes and some reject an empty
//! distance code: if fewer than two symbols are used, symbols are added with
//! length 1 so that there are exactly two codes of length 1 (a complete
//! code). With 0 used symbols that is symbols 0 and 1; with one used symbol
//! `s` it is `s` and 0 (or 1 if `s == 0`). So the output is always a complete
//! prefix code with at least two symbols, as long as `freqs.len() >= 2`.
//!
//! Canonical codes (RFC 1951 section 3.2.2) are assigned in order of
//! (length, symbol) and returned bit-reversed, ready for the LSB-first
//! [`crate::bitio::BitWriter`].

/// Code lengths (each `<= max_len`) for the symbols with the given
/// frequencies. Symbols with frequency 0 get length 0, except for the
/// forced symbols described in the module docs.
///
/// `freqs.len()` must be at least 2 and at most 2^max_len.
pub fn lengths_from_freqs(freqs: &[u32], max_len: u32) -> Vec<u8> {
    let n = freqs.len();
    assert!(n >= 2 && (1..=15).contains(&max_len) && n <= (1usize << max_len));
    let mut lens = vec![0u8; n];

    // Used symbols sorted by (freq, symbol). The sort key packs both into a
    // u64 so the sort is a plain integer sort.
    let mut order: Vec<u64> = freqs
        .iter()
        .enumerate()
        .filter(|(_, &f)| f != 0)
        .map(|(s, &f)| ((f as u64) << 16) | s as u64)
        .collect();
    match order.len() {
        0 => {
            lens[0] = 1;
            lens[1] = 1;
            return lens;
        }
        1 => {
            let s = (order[0] & 0xFFFF) as usize;
            lens[s] = 1;
            lens[if s == 0 { 1 } else { 0 }] = 1;
            return lens;
        }
        _ => {}
    }
    order.sort_unstable();
    let m = order.len();

    // Two-queue Huffman. Internal node k (0..m-1) has weight `w[k]`; the
    // parent of leaf i is `leaf_parent[i]`, of internal node k `node_parent[k]`.
    let mut w = vec![0u64; m - 1];
    let mut leaf_parent = vec![0u32; m];
    let mut node_parent = vec![0u32; m - 1];
    let (mut li, mut ni) = (0usize, 0usize);
    for k in 0..m - 1 {
        // Pick the two smallest of leaves[li..] and nodes[ni..k]. On a tie
        // prefer the leaf, which keeps the tree shallow (minimum variance).
        let mut pick = |w: &mut [u64]| -> u64 {
            let leaf_w = if li < m { Some(order[li] >> 16) } else { None };
            let node_w = if ni < k { Some(w[ni]) } else { None };
            match (leaf_w, node_w) {
                (Some(a), Some(b)) if a <= b => {
                    leaf_parent[li] = k as u32;
                    li += 1;
                    a
                }
                (Some(a), None) => {
                    leaf_parent[li] = k as u32;
                    li += 1;
                    a
                }
                (_, Some(b)) => {
                    node_parent[ni] = k as u32;
                    ni += 1;
                    b
                }
                (None, None) => unreachable!("Huffman queue underflow"),
            }
        };
        let a = pick(&mut w);
        let b = pick(&mut w);
        w[k] = a + b;
    }
    // Depths: the root is node m-2, every parent has a larger index.
    let mut depth = vec![0u32; m - 1];
    for k in (0..m - 2).rev() {
        depth[k] = depth[node_parent[k] as usize] + 1;
    }
    let mut bl_count = [0u32; 64];
    let mut max_depth = 0;
    for &p in &leaf_parent {
        let d = depth[p as usize] + 1;
        bl_count[d as usize] += 1;
        max_depth = max_depth.max(d);
    }

    if max_depth > max_len {
        limit_counts(&mut bl_count, max_depth, max_len);
    }

    // Longest codes to the least frequent symbols (front of `order`).
    let mut it = order.iter();
    for len in (1..=max_len.min(max_depth)).rev() {
        for _ in 0..bl_count[len as usize] {
            let s = (it.next().expect("count mismatch") & 0xFFFF) as usize;
            lens[s] = len as u8;
        }
    }
    debug_assert!(it.next().is_none());
    lens
}

/// Clamp the per-length counts to `max_len` and restore a complete code
/// (Kraft sum exactly 1), in the manner of zlib/miniz.
fn limit_counts(bl_count: &mut [u32; 64], max_depth: u32, max_len: u32) {
    let max_len = max_len as usize;
    for d in max_len + 1..=max_depth as usize {
        bl_count[max_len] += bl_count[d];
        bl_count[d] = 0;
    }
    // Kraft sum scaled by 2^max_len; it is now > 2^max_len (over-subscribed).
    let mut total: u64 = (1..=max_len)
        .map(|i| (bl_count[i] as u64) << (max_len - i))
        .sum();
    let target = 1u64 << max_len;
    while total > target {
        // Take one leaf off the deepest level and pair it with a leaf moved
        // down from the deepest level that has one: net Kraft change -1.
        bl_count[max_len] -= 1;
        for i in (1..max_len).rev() {
            if bl_count[i] != 0 {
                bl_count[i] -= 1;
                bl_count[i + 1] += 2;
                break;
            }
        }
        total -= 1;
    }
}

/// Canonical codes for `lens` (RFC 1951 section 3.2.2), bit-reversed so that
/// the LSB-first writer sends them most significant bit first. Lengths must
/// form a prefix code (Kraft sum <= 1).
pub fn codes_from_lengths(lens: &[u8]) -> Vec<u16> {
    let mut bl_count = [0u16; 16];
    for &l in lens {
        bl_count[l as usize] += 1;
    }
    bl_count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + bl_count[bits - 1]) << 1;
        next[bits] = code;
    }
    lens.iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            c.reverse_bits() >> (16 - l as u32)
        })
        .collect()
}

/// Total bits to code `freqs` with `lens` (no extra bits).
pub fn cost(freqs: &[u32], lens: &[u8]) -> u64 {
    freqs
        .iter()
        .zip(lens)
        .map(|(&f, &l)| f as u64 * l as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kraft(lens: &[u8]) -> f64 {
        lens.iter()
            .filter(|&&l| l > 0)
            .map(|&l| 2f64.powi(-(l as i32)))
            .sum()
    }

    /// Reference optimal cost: the classic heap Huffman (sum of merged weights).
    fn reference_cost(freqs: &[u32]) -> u64 {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut h: BinaryHeap<Reverse<u64>> = freqs
            .iter()
            .filter(|&&f| f > 0)
            .map(|&f| Reverse(f as u64))
            .collect();
        if h.len() < 2 {
            return freqs.iter().map(|&f| f as u64).sum();
        }
        let mut total = 0;
        while h.len() > 1 {
            let Reverse(a) = h.pop().unwrap();
            let Reverse(b) = h.pop().unwrap();
            total += a + b;
            h.push(Reverse(a + b));
        }
        total
    }

    #[test]
    fn degenerate_cases() {
        assert_eq!(lengths_from_freqs(&[0, 0, 0], 15), vec![1, 1, 0]);
        assert_eq!(lengths_from_freqs(&[0, 0, 5], 15), vec![1, 0, 1]);
        assert_eq!(lengths_from_freqs(&[5, 0, 0], 15), vec![1, 1, 0]);
        assert_eq!(lengths_from_freqs(&[1, 1], 15), vec![1, 1]);
    }

    #[test]
    fn canonical_codes_rfc_example() {
        // RFC 1951 3.2.2: lengths (3,3,3,3,3,2,4,4) -> codes 010..111, 00, 1110, 1111.
        let lens = [3, 3, 3, 3, 3, 2, 4, 4];
        let codes = codes_from_lengths(&lens);
        let expect = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for i in 0..8 {
            let l = lens[i] as u32;
            assert_eq!(
                codes[i] as u32,
                (expect[i] as u16).reverse_bits() as u32 >> (16 - l)
            );
        }
    }

    #[test]
    fn fibonacci_is_limited() {
        // Fibonacci weights give the deepest possible tree.
        let mut f = vec![1u32, 1];
        while f.len() < 40 {
            let n = f[f.len() - 1] + f[f.len() - 2];
            f.push(n);
        }
        for lim in [7u32, 9, 15] {
            let lens = lengths_from_freqs(&f, lim);
            assert!(lens.iter().all(|&l| l as u32 <= lim && l > 0));
            assert!((kraft(&lens) - 1.0).abs() < 1e-12);
        }
        let lens = lengths_from_freqs(&f[..10], 15);
        assert_eq!(cost(&f[..10], &lens), reference_cost(&f[..10]));
    }

    proptest! {
        #[test]
        fn limited_complete_and_optimal(freqs in prop::collection::vec(prop_oneof![Just(0u32), 1u32..10, 1u32..100_000], 2..288), lim in prop_oneof![Just(7u32), Just(15u32)]) {
            prop_assume!(freqs.len() <= 1 << lim);
            let lens = lengths_from_freqs(&freqs, lim);
            prop_assert!(lens.iter().all(|&l| l as u32 <= lim));
            prop_assert!((kraft(&lens) - 1.0).abs() < 1e-12, "kraft {}", kraft(&lens));
            for (f, l) in freqs.iter().zip(&lens) {
                if *f > 0 { prop_assert!(*l > 0); }
            }
            let maxl = lens.iter().copied().max().unwrap();
            let used = freqs.iter().filter(|&&f| f > 0).count();
            // When no limiting was needed the code is optimal.
            if used >= 2 && (maxl as u32) < lim {
                prop_assert_eq!(cost(&freqs, &lens), reference_cost(&freqs));
            }
            // Canonical codes are a prefix code: decode every code back.
            let codes = codes_from_lengths(&lens);
            let mut seen = std::collections::HashSet::new();
            for (s, &l) in lens.iter().enumerate() {
                if l > 0 { prop_assert!(seen.insert((codes[s], l))); }
            }
            for (a, &la) in lens.iter().enumerate() {
                for (b, &lb) in lens.iter().enumerate() {
                    if a != b && la > 0 && lb > 0 && la <= lb {
                        let mask = (1u16 << la) - 1;
                        prop_assert!(codes[b] & mask != codes[a], "code {} is a prefix of {}", a, b);
                    }
                }
            }
        }
    }
}
