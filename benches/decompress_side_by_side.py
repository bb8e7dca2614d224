r"""One-shot decompression, every decoder side by side in one run, timed by
the calling thread's CPU time (time.thread_time: user + system, so page
faults count) as well as wall time. On a loaded machine the CPU time stays
meaningful when wall time does not; both are printed, as medians.

    python benches/decompress_side_by_side.py [silesia|embedded|FILE...] \
        [--levels 1,6,9] [--rounds 5]

Candidates are interleaved round by round so drift hits all alike.
libdeflate's binding must be told the output size (zlib) or reads it from
the gzip trailer; scalezip is shown both without a hint (zlib's default
``bufsize``) and with ``bufsize`` set to the exact size, and decoding into a
preallocated, already-touched buffer (``decompress_into``) shows the
decoder's own speed without any page faults.
"""

from __future__ import annotations

import argparse
import glob
import gzip as std_gzip
import os
import statistics
import time
import zlib as std_zlib
from collections.abc import Callable

from scalezip import bench
from scalezip import gzip as sz_gzip
from scalezip import zlib as sz_zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SILESIA = os.path.join(HERE, "..", "..", "shared", "corpus", "silesia")


def _candidates(data: bytes, level: int) -> dict[str, Callable[[], object]]:
    n = len(data)
    zb = std_zlib.compress(data, level)
    gb = std_gzip.compress(data, level, mtime=0)
    warm = bytearray(n)
    c: dict[str, Callable[[], object]] = {}
    try:
        import deflate

        c["libdeflate zlib (told n)"] = lambda: deflate.zlib_decompress(zb, n)
        c["libdeflate gzip (ISIZE)"] = lambda: deflate.gzip_decompress(gb)
    except ImportError:
        pass
    try:
        from isal import igzip, isal_zlib

        c["isal zlib"] = lambda: isal_zlib.decompress(zb)
        c["isal gzip"] = lambda: igzip.decompress(gb)
    except ImportError:
        pass
    c["stdlib zlib"] = lambda: std_zlib.decompress(zb)
    c["scalezip zlib"] = lambda: sz_zlib.decompress(zb)
    c["scalezip zlib bufsize=n"] = lambda: sz_zlib.decompress(zb, bufsize=n)
    c["scalezip decompress_into (warm)"] = lambda: sz_zlib.decompress_into(zb, warm)
    c["scalezip gzip"] = lambda: sz_gzip.decompress(gb)
    c["scalezip decompressobj"] = lambda: sz_zlib.decompressobj().decompress(zb)
    return c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="*", default=["silesia"])
    ap.add_argument("--levels", default="1,6,9")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.corpus == ["silesia"]:
        files = sorted(glob.glob(os.path.join(SILESIA, "*")))
        files = files or sorted(glob.glob("/work/shared/corpus/silesia/*"))
        if not files:
            raise SystemExit("no Silesia files found: name the corpus files")
        data, desc = bench.load_corpus(files)
    elif args.corpus == ["embedded"]:
        data, desc = bench.default_corpus()
    else:
        data, desc = bench.load_corpus(args.corpus)
    print(f"{desc}: {len(data)} bytes; load average {os.getloadavg()[0]:.1f}")
    for level in (int(x) for x in args.levels.split(",")):
        cands = _candidates(data, level)
        for f in cands.values():
            assert f() in (data, len(data))
        cpu: dict[str, list[float]] = {k: [] for k in cands}
        wall: dict[str, list[float]] = {k: [] for k in cands}
        for _ in range(args.rounds):
            for k, f in cands.items():
                t0, c0 = time.perf_counter(), time.thread_time()
                out = f()
                c1, t1 = time.thread_time(), time.perf_counter()
                cpu[k].append(c1 - c0)
                wall[k].append(t1 - t0)
                del out
        ref = statistics.median(cpu.get("libdeflate zlib (told n)", cpu["stdlib zlib"]))
        print(f"level {level} (stdlib-made streams); load {os.getloadavg()[0]:.1f}")
        print(f"  {'decoder':34s} {'cpu MB/s':>9s} {'wall MB/s':>9s} {'x ref cpu':>9s}")
        for k in cands:
            c, w = statistics.median(cpu[k]), statistics.median(wall[k])
            mb = len(data) / 1e6
            print(f"  {k:34s} {mb / c:9.0f} {mb / w:9.0f} {ref / c:9.2f}")


if __name__ == "__main__":
    main()
