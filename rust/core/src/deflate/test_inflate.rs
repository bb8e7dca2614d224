//! A deliberately simple, slow inflater for the encoder's own tests (the
//! real decoder lives in `crate::inflate` and is written separately). It
//! decodes bit by bit through a map of (length, code) pairs, and is as
//! strict as zlib about code completeness, so streams it accepts zlib
//! accepts too. It also records every block header and every match, so
//! tests can check BFINAL placement and that no match crosses a full flush.
use crate::tables::{CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA};
use std::collections::HashMap;

pub struct Decoded {
    pub data: Vec<u8>,
    /// (BFINAL, BTYPE, output position at block start)
    pub blocks: Vec<(bool, u8, usize)>,
    /// (output position, distance) of each match
    pub matches: Vec<(usize, usize)>,
    /// Bytes of input used.
    pub consumed: usize,
}

struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl Bits<'_> {
    fn get(&mut self, n: u32) -> Result<u32, String> {
        let mut v = 0;
        for i in 0..n {
            let byte = *self.data.get(self.bit / 8).ok_or("truncated")?;
            v |= (((byte >> (self.bit % 8)) & 1) as u32) << i;
            self.bit += 1;
        }
        Ok(v)
    }
}

struct Code {
    map: HashMap<(u32, u32), u16>,
}

impl Code {
    /// zlib's rule: complete, or a single code of length 1 (not for the
    /// code-length code).
    fn new(lens: &[u8], allow_single: bool) -> Result<Code, String> {
        let mut count = [0u32; 16];
        for &l in lens {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut left: i64 = 1;
        for c in &count[1..] {
            left = left * 2 - *c as i64;
            if left < 0 {
                return Err("over-subscribed code".into());
            }
        }
        let used: u32 = count.iter().sum();
        if left > 0 && !(allow_single && used == 1 && count[1] == 1) {
            return Err(format!("incomplete code ({used} codes)"));
        }
        let mut next = [0u32; 16];
        let mut code = 0;
        for b in 1..16 {
            code = (code + count[b - 1]) << 1;
            next[b] = code;
        }
        let mut map = HashMap::new();
        for (s, &l) in lens.iter().enumerate() {
            if l > 0 {
                map.insert((l as u32, next[l as usize]), s as u16);
                next[l as usize] += 1;
            }
        }
        Ok(Code { map })
    }

    fn decode(&self, b: &mut Bits) -> Result<u16, String> {
        let mut code = 0;
        for len in 1..=15 {
            code = (code << 1) | b.get(1)?;
            if let Some(&s) = self.map.get(&(len, code)) {
                return Ok(s);
            }
        }
        Err("bad code".into())
    }
}

pub fn inflate(input: &[u8], dict: &[u8], max_dist: usize) -> Result<Decoded, String> {
    let mut b = Bits {
        data: input,
        bit: 0,
    };
    let mut out = dict.to_vec();
    let base = dict.len();
    let mut blocks = Vec::new();
    let mut matches = Vec::new();
    loop {
        let last = b.get(1)? == 1;
        let btype = b.get(2)? as u8;
        blocks.push((last, btype, out.len() - base));
        match btype {
            0 => {
                b.bit = b.bit.div_ceil(8) * 8;
                let len = b.get(16)?;
                let nlen = b.get(16)?;
                if len != !nlen & 0xFFFF {
                    return Err("stored lengths".into());
                }
                for _ in 0..len {
                    out.push(b.get(8)? as u8);
                }
            }
            1 | 2 => {
                let (lit, dist) = if btype == 1 {
                    let l = crate::tables::fixed_litlen_lengths();
                    (Code::new(&l, true)?, Code::new(&[5u8; 32], true)?)
                } else {
                    let hlit = b.get(5)? as usize + 257;
                    let hdist = b.get(5)? as usize + 1;
                    let hclen = b.get(4)? as usize + 4;
                    if hlit > 286 || hdist > 30 {
                        return Err("too many codes".into());
                    }
                    let mut cl = [0u8; 19];
                    for &i in &CODE_LENGTH_ORDER[..hclen] {
                        cl[i] = b.get(3)? as u8;
                    }
                    let clc = Code::new(&cl, false)?;
                    let mut lens = Vec::new();
                    while lens.len() < hlit + hdist {
                        match clc.decode(&mut b)? {
                            s @ 0..=15 => lens.push(s as u8),
                            16 => {
                                let p = *lens.last().ok_or("repeat with no previous")?;
                                for _ in 0..3 + b.get(2)? {
                                    lens.push(p);
                                }
                            }
                            17 => lens.extend(std::iter::repeat_n(0, 3 + b.get(3)? as usize)),
                            _ => lens.extend(std::iter::repeat_n(0, 11 + b.get(7)? as usize)),
                        }
                    }
                    if lens.len() != hlit + hdist {
                        return Err("code lengths overrun".into());
                    }
                    if lens[256] == 0 {
                        return Err("no end of block".into());
                    }
                    (
                        Code::new(&lens[..hlit], true)?,
                        Code::new(&lens[hlit..], true)?,
                    )
                };
                loop {
                    let s = lit.decode(&mut b)? as usize;
                    if s < 256 {
                        out.push(s as u8);
                    } else if s == 256 {
                        break;
                    } else {
                        let i = s - 257;
                        if i >= 29 {
                            return Err("bad length symbol".into());
                        }
                        let len = LENGTH_BASE[i] as usize + b.get(LENGTH_EXTRA[i] as u32)? as usize;
                        let ds = dist.decode(&mut b)? as usize;
                        if ds >= 30 {
                            return Err("bad distance symbol".into());
                        }
                        let d = DIST_BASE[ds] as usize + b.get(DIST_EXTRA[ds] as u32)? as usize;
                        if d > out.len() {
                            return Err(format!(
                                "distance {d} too far back ({} available)",
                                out.len()
                            ));
                        }
                        if d > max_dist {
                            return Err(format!("distance {d} beyond window {max_dist}"));
                        }
                        matches.push((out.len() - base, d));
                        for _ in 0..len {
                            out.push(out[out.len() - d]);
                        }
                    }
                }
            }
            _ => return Err("block type 3".into()),
        }
        if last {
            break;
        }
    }
    Ok(Decoded {
        data: out.split_off(base),
        blocks,
        matches,
        consumed: b.bit.div_ceil(8),
    })
}
