"""Regenerate the decoder's golden streams: raw DEFLATE made by CPython's zlib.

input.bin is deterministic mixed data (word text, random bytes, runs, and
repeats from exactly 32 KiB back); each NAME.deflate is it compressed with
wbits=-15 at some level/strategy/window/memLevel, with flushes, or with the
preset dictionary dict.bin. Run from this directory: python3 make_fixtures.py
"""
import zlib, random
r = random.Random(1951)
words = "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were their one all we can her has there been if more when will would who so no deflate huffman window match literal distance length block stored fixed dynamic".split()
parts = []
while sum(map(len, parts)) < 40000:
    k = r.random()
    if k < 0.7:
        parts.append(" ".join(r.choice(words) for _ in range(r.randint(3, 30))) + ".\n")
    elif k < 0.8:
        parts.append(bytes(r.getrandbits(8) for _ in range(r.randint(1, 300))).decode("latin-1"))
    elif k < 0.9:
        parts.append(r.choice("ab\x00z ") * r.randint(3, 600))
    else:
        # long-distance repeat of something far back
        s = "".join(parts)
        if len(s) > 33000:
            st = len(s) - 32768
            parts.append(s[st:st + r.randint(3, 400)])
data = "".join(parts).encode("latin-1")
open("input.bin", "wb").write(data)
def raw(level, strategy=zlib.Z_DEFAULT_STRATEGY, wbits=-15, zdict=None, flush_every=None, mem=8):
    kw = {} if zdict is None else {"zdict": zdict}
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, mem, strategy, **kw)
    out = b""
    if flush_every:
        for i in range(0, len(data), flush_every):
            out += c.compress(data[i:i + flush_every])
            out += c.flush(zlib.Z_SYNC_FLUSH if (i // flush_every) % 2 else zlib.Z_FULL_FLUSH)
    else:
        out += c.compress(data)
    return out + c.flush()
fx = {
  "l0": raw(0), "l1": raw(1), "l6": raw(6), "l9": raw(9),
  "fixed": raw(6, zlib.Z_FIXED), "huffonly": raw(6, zlib.Z_HUFFMAN_ONLY), "rle": raw(6, zlib.Z_RLE),
  "w9": raw(9, wbits=-9), "flushes": raw(6, flush_every=4099), "mem1": raw(9, mem=1),
}
dictionary = data[5000:9000]
fx["dict"] = raw(9, zdict=dictionary)
open("dict.bin", "wb").write(dictionary)
for k, v in fx.items():
    if k != "dict": assert zlib.decompress(v, -15) == data
    else:
        d = zlib.decompressobj(-15, zdict=dictionary); assert d.decompress(v) == data
    open(k + ".deflate", "wb").write(v)
    print(k, len(v))
print(len(data))
