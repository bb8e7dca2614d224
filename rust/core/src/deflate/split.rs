//! Block splitting from symbol statistics (libdeflate's heuristic).
//!
//! A DEFLATE block has one pair of Huffman codes, so a block should end
//! where the data changes character. While parsing, every chosen literal
//! and match is *observed* as one of 10 coarse kinds: literals by two bits
//! of their high nibble and their low bit (which separates text from
//! binary), matches by short or long. Every 512 new observations the new
//! distribution is compared with the distribution of the block so far; if
//! it has drifted by more than a threshold (which grows with the block
//! length, so long uniform blocks are not cut on noise), the block ends
//! there. Otherwise the new observations are merged and collection goes on.
//!
//! Blocks shorter than [`MIN_BLOCK_LENGTH`] are never cut (their header
//! would cost more than a better code saves), nor is a cut made within
//! `MIN_BLOCK_LENGTH` of the end of the data.

/// No block ends before this many input bytes.
pub const MIN_BLOCK_LENGTH: usize = 5_000;
/// A block ends at the first symbol past this many input bytes.
pub const SOFT_MAX_BLOCK_LENGTH: usize = 300_000;

const NUM_LITERAL_KINDS: usize = 8;
const NUM_KINDS: usize = NUM_LITERAL_KINDS + 2;
const OBSERVATIONS_PER_CHECK: u32 = 512;

/// See the module docs.
#[derive(Clone, Default)]
pub struct SplitStats {
    new_obs: [u32; NUM_KINDS],
    obs: [u32; NUM_KINDS],
    num_new: u32,
    num: u32,
}

impl SplitStats {
    /// Start a new block.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    #[inline(always)]
    pub fn literal(&mut self, b: u8) {
        self.new_obs[(((b >> 5) & 0x6) | (b & 1)) as usize] += 1;
        self.num_new += 1;
    }

    #[inline(always)]
    pub fn matched(&mut self, len: usize) {
        self.new_obs[NUM_LITERAL_KINDS + (len >= 9) as usize] += 1;
        self.num_new += 1;
    }

    /// True if the block of `block_len` bytes should end here, with
    /// `remaining` bytes of data after it.
    #[inline(always)]
    pub fn should_end(&mut self, block_len: usize, remaining: usize) -> bool {
        if self.num_new < OBSERVATIONS_PER_CHECK
            || block_len < MIN_BLOCK_LENGTH
            || remaining < MIN_BLOCK_LENGTH
        {
            return false;
        }
        self.check(block_len)
    }

    fn check(&mut self, block_len: usize) -> bool {
        if self.num > 0 {
            // Compare new_obs / num_new with obs / num, scaled by both
            // counts to stay in integers.
            let mut total_delta: u64 = 0;
            for i in 0..NUM_KINDS {
                let expected = self.obs[i] as u64 * self.num_new as u64;
                let actual = self.new_obs[i] as u64 * self.num as u64;
                total_delta += expected.abs_diff(actual);
            }
            let num_items = (self.num + self.num_new) as u64;
            let mut cutoff = self.num_new as u64 * 200 / 512 * self.num as u64;
            // Short blocks need a clearer change before they are cut.
            if block_len < 10_000 && num_items < 8192 {
                cutoff += cutoff * (8192 - num_items) / 8192;
            }
            if total_delta + (block_len as u64 / 4096) * self.num as u64 >= cutoff {
                return true;
            }
        }
        for i in 0..NUM_KINDS {
            self.obs[i] += self.new_obs[i];
            self.new_obs[i] = 0;
        }
        self.num += self.num_new;
        self.num_new = 0;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_a_change_of_kind_not_on_uniform_data() {
        let mut s = SplitStats::default();
        // Uniform text-like literals: never cut.
        let mut len = 0;
        for i in 0..200_000usize {
            s.literal(b"etaoin shrdlu"[i % 13]);
            len += 1;
            assert!(!s.should_end(len, 1 << 20), "cut uniform data at {len}");
        }
        // Then long matches only: cut soon.
        let mut cut = false;
        for _ in 0..2_000 {
            s.matched(100);
            len += 100;
            if s.should_end(len, 1 << 20) {
                cut = true;
                break;
            }
        }
        assert!(cut);
    }
}
