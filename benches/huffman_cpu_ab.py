"""Raw Huffman compression CPU time on one core, two builds side by side in one
process: ``scalezip.huffman.compress(data, threads=1)`` from each package
directory given, interleaved round by round, process CPU time (less
disturbed by other load on a shared machine than wall time). Prints the
median and the best round in MB/s, the median of decompressing that output
(one thread, interleaved the same way), the size and an MD5 prefix of each
output (equal MD5s: byte-identical output).

    python benches/huffman_cpu_ab.py [--wall] ROUNDS DIR [DIR ...]

``--wall`` times wall clock (``time.perf_counter``) instead. Each input is
built just before its turn, so the 16 MiB one (last) cannot change what the
allocator holds for the 8 MiB ones: a process that has freed a block bigger
than a call's worst-case output size serves that output from its heap, with
no page faults, where a fresh one maps new memory on every call (the case
``huffman.compress``'s workspace is for; ``docs/huffman.md``).

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
from collections.abc import Iterator

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


def inputs() -> Iterator[tuple[str, bytes]]:
    w = np.random.default_rng(0).standard_normal(8 << 20, dtype=np.float32)
    yield "exponents", w.view(np.uint8)[3::4].tobytes()
    del w
    g = np.random.default_rng(1).geometric(0.3, 8 << 20).clip(1, 255).astype(np.uint8)
    yield "geometric", g.tobytes()
    del g
    with open(DICKENS, "rb") as f:
        d = f.read()
    yield "dickens16M", (d * ((16 << 20) // max(len(d), 1) + 1))[: 16 << 20]


def main() -> None:
    args = sys.argv[1:]
    wall = bool(args) and args[0] == "--wall"
    if wall:
        args = args[1:]
    if len(args) < 2:
        raise SystemExit(__doc__)
    clock = time.perf_counter if wall else time.process_time
    rounds = int(args[0])
    mods = [(d, _ab.load(d, "huffman")) for d in args[1:]]
    for name, blob in inputs():
        times: dict[str, list[float]] = {d: [] for d, _ in mods}
        dtimes: dict[str, list[float]] = {d: [] for d, _ in mods}
        outs: dict[str, bytes] = {}
        for _ in range(rounds):
            for d, m in mods:
                t = clock()
                outs[d] = m.compress(blob, threads=1)
                times[d].append(clock() - t)
            for d, m in mods:
                t = clock()
                back = m.decompress(outs[d], threads=1)
                dtimes[d].append(clock() - t)
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
