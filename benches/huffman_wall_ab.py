"""Raw Huffman compression wall time on one core, builds alternated in
separate processes: each DIR's ``scalezip.huffman.compress(data, threads=1)``
runs 25 times per input in a child process of its own (so each build has its
own allocator state, as a user's process would: the in-process A/B of
``huffman_cpu_ab.py`` shares it), and the children alternate PAIRS times.
Prints the median MB/s of each child.

    python benches/huffman_wall_ab.py PAIRS DIR [DIR ...]

Inputs: the float32 exponent bytes and geometric bytes of
``benches/test_bench_huffman.py`` (8 MiB each) and Silesia ``dickens``
repeated to 16 MiB (SCALEZIP_BENCH_DICKENS names another file).
"""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import statistics, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from huffman_cpu_ab import inputs
from scalezip import huffman
out = []
for name, data in inputs().items():
    ts = []
    for _ in range(25):
        t = time.perf_counter()
        huffman.compress(data, threads=1)
        ts.append(time.perf_counter() - t)
    out.append(f"{name} {len(data) / statistics.median(ts) / 1e6:6.0f}")
print("  ".join(out), " ", sys.argv[1])
"""


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    pairs = int(sys.argv[1])
    here = sys.path[0]
    for _ in range(pairs):
        for d in sys.argv[2:]:
            subprocess.run([sys.executable, "-c", CHILD, d, here], check=True)


if __name__ == "__main__":
    main()
