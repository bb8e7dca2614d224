"""Compression CPU time against libdeflate, in one process:
``scalezip.zlib.compress`` and libdeflate's ``deflate.zlib_compress`` on the
same input, interleaved, process CPU time (less disturbed by other load on a
shared machine than wall time), best of 3 rounds (1 round at levels 10-12).

    python benches/deflate_cpu_ab.py [LEVEL ...]   (default: 1 6 9 12)

The input is the Silesia files in ../shared/corpus/silesia concatenated
(SCALEZIP_BENCH_CORPUS, colon-separated, names other files). Point
PYTHONPATH at another build to compare two versions of scalezip against the
same libdeflate. Needs the ``deflate`` package (libdeflate).
"""

from __future__ import annotations

import glob
import os
import sys
import time

import deflate
import scalezip.zlib as sz
from scalezip import bench

SILESIA = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpus", "silesia"
)


def corpus() -> bytes:
    env = os.environ.get("SCALEZIP_BENCH_CORPUS")
    files = env.split(":") if env else sorted(glob.glob(os.path.join(SILESIA, "*")))
    if not files:
        raise SystemExit("no corpus: set SCALEZIP_BENCH_CORPUS or provide ../shared/corpus")
    return bench.load_corpus(files)[0]


def main() -> None:
    data = corpus()
    levels = [int(a) for a in sys.argv[1:]] or [1, 6, 9, 12]
    mb = len(data) / 1e6
    print(f"scalezip from {sz.__file__}; {mb:.1f} MB")
    for level in levels:
        rounds = 3 if level < 10 else 1
        best_sz = best_ld = float("inf")
        for _ in range(rounds):
            t = time.process_time()
            out_sz = sz.compress(data, level)
            best_sz = min(best_sz, time.process_time() - t)
            t = time.process_time()
            out_ld = deflate.zlib_compress(data, level)
            best_ld = min(best_ld, time.process_time() - t)
        print(
            f"level {level:2d}: scalezip {mb / best_sz:6.1f} MB/s ratio "
            f"{len(out_sz) / len(data):.6f} | libdeflate {mb / best_ld:6.1f} MB/s ratio "
            f"{len(out_ld) / len(data):.6f} | speed x {best_ld / best_sz:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
