"""Raw Huffman compression CPU time on one core, two builds side by side in one
process: ``scalezip.huffman.compress(data, threads=1)`` from each package
directory given, interleaved round by round, process CPU time (less
disturbed by other load on a shared machine than wall time). Prints the
median and the best round in MB/s, the median of decompressing that output
(one thread, interleaved the same way), the size and an MD5 prefix of each
output (equal MD5s: byte-identical output).

    python benches/huffman_cpu_ab.py ROUNDS DIR [DIR ...]

Each DIR holds a ``scalezip`` package (e.g. ``python/`` of a worktree, and a
copy of it with the old ``_native`` module). Inputs: the float32 exponent
bytes and geometric bytes of ``benches/test_bench_huffman.py`` (8 MiB each)
and 16 MiB of Silesia ``dickens`` (repeated; SCALEZIP_BENCH_DICKENS names
another file).
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time

import _ab
import numpy as np

DICKENS = os.environ.get(
    "SCALEZIP_BENCH_DICKENS",
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "..",
        "shared",
        "corpus",
        "silesia",
        "dickens",
    ),
)


def inputs() -> dict[str, bytes]:
    w = np.random.default_rng(0).standard_normal(8 << 20, dtype=np.float32)
    g = np.random.default_rng(1).geometric(0.3, 8 << 20).clip(1, 255).astype(np.uint8)
    with open(DICKENS, "rb") as f:
        d = f.read()
    d = (d * ((16 << 20) // max(len(d), 1) + 1))[: 16 << 20]
    return {
        "exponents": w.view(np.uint8)[3::4].tobytes(),
        "geometric": g.tobytes(),
        "dickens16M": d,
    }


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    rounds = int(sys.argv[1])
    mods = [(d, _ab.load(d, "huffman")) for d in sys.argv[2:]]
    for name, blob in inputs().items():
        times: dict[str, list[float]] = {d: [] for d, _ in mods}
        dtimes: dict[str, list[float]] = {d: [] for d, _ in mods}
        outs: dict[str, bytes] = {}
        for _ in range(rounds):
            for d, m in mods:
                t = time.process_time()
                outs[d] = m.compress(blob, threads=1)
                times[d].append(time.process_time() - t)
            for d, m in mods:
                t = time.process_time()
                back = m.decompress(outs[d], threads=1)
                dtimes[d].append(time.process_time() - t)
                if back != blob:
                    raise SystemExit(f"{d}: {name} does not round-trip")
        for d, _ in mods:
            c = outs[d]
            med, best = statistics.median(times[d]), min(times[d])
            dmed = statistics.median(dtimes[d])
            print(
                f"{name:11s} {d:28s} compress median {len(blob) / med / 1e6:5.0f} MB/s  "
                f"best {len(blob) / best / 1e6:5.0f}  decompress median "
                f"{len(blob) / dmed / 1e6:5.0f} MB/s  size {len(c)}  "
                f"md5 {hashlib.md5(c).hexdigest()[:12]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
