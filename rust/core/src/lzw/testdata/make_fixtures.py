"""Regenerate the .Z fixtures with Debian's ncompress (`compress` 4.2.4.x).

    python3 make_fixtures.py

input.bin: 16 KiB of English-like text (words drawn by a fixed LCG) then
16 KiB of LCG noise, so that at small max-bits the dictionary fills, the
ratio drops in the noise, and compress sends CLEAR. Each bN.Z is
`compress -b N -c input.bin`; c16.Z is `compress -C` (no block mode).
"""

import subprocess

WORDS = b"the of and to in is was that for it with as his on be at by had not are but from".split()


def lcg(seed: int):
    x = seed
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        yield x


def main() -> None:
    g = lcg(42)
    text = bytearray()
    while len(text) < 16384:
        text += WORDS[next(g) % len(WORDS)] + (b"\n" if next(g) % 11 == 0 else b" ")
    noise = bytes(next(g) >> 7 & 0xFF for _ in range(16384))
    data = bytes(text[:16384]) + noise
    with open("input.bin", "wb") as f:
        f.write(data)
    for bits in (10, 12, 16):
        out = subprocess.run(
            ["compress", "-b", str(bits), "-c"], input=data, check=True, capture_output=True
        ).stdout
        with open(f"b{bits}.Z", "wb") as f:
            f.write(out)
    out = subprocess.run(["compress", "-C", "-c"], input=data, check=True, capture_output=True).stdout
    with open("c16.Z", "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
