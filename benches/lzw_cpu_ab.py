"""LZW (``.Z``) CPU time, scalezip builds side by side with the PyPI ``ncompress``
package in one process: ``scalezip.lzw.compress`` / ``decompress`` from each
package directory given, and ``ncompress``, interleaved round by round, timed
with ``time.thread_time`` (the calling thread's CPU time: the native code runs
on it with the GIL released, and other jobs on a shared machine disturb it
less than wall time). Prints the median and the best round in MB/s of
uncompressed data, the ratio of each median to ncompress's, and, for
compression, the size and an MD5 prefix of each output (equal MD5s:
byte-identical output).

    python benches/lzw_cpu_ab.py ROUNDS DIR [DIR ...]

Each DIR holds a ``scalezip`` package (e.g. ``python/`` of a worktree, and a
copy of it with the old ``_native`` module). Input: the Silesia files in
SCALEZIP_BENCH_SILESIA (default ``../shared/corpus/silesia/`` beside the
repository), concatenated (the 8 files there: 90 MB), or only the
comma-separated names in SCALEZIP_BENCH_LZW_FILES; max-bits 16, block mode
(both libraries' defaults). Decompression decodes the stream ncompress made.
SCALEZIP_BENCH_LZW_ONLY=compress (or decompress) runs one direction.
"""

from __future__ import annotations

import glob
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType

import _ab

SILESIA = os.environ.get(
    "SCALEZIP_BENCH_SILESIA",
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpus", "silesia"
    ),
)


def corpus() -> bytes:
    names = os.environ.get("SCALEZIP_BENCH_LZW_FILES")
    files = names.split(",") if names else sorted(glob.glob(os.path.join(SILESIA, "*")))
    parts = []
    for name in files:
        with open(name if os.sep in name else os.path.join(SILESIA, name), "rb") as f:
            parts.append(f.read())
    if not parts:
        raise SystemExit(f"no input files in {SILESIA}")
    return b"".join(parts)


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    import ncompress  # type: ignore[import-untyped]

    rounds = int(sys.argv[1])
    libs: list[tuple[str, ModuleType]] = [("ncompress", ncompress)]
    libs += [(d, _ab.load(d, "lzw")) for d in sys.argv[2:]]
    data = corpus()
    blob = ncompress.compress(data)
    print(f"input {len(data)} bytes, ncompress stream {len(blob)} bytes", flush=True)
    jobs: dict[str, Callable[[ModuleType], bytes]] = {
        "compress": lambda m: m.compress(data),
        "decompress": lambda m: m.decompress(blob),
    }
    only = os.environ.get("SCALEZIP_BENCH_LZW_ONLY")
    for what, job in jobs.items():
        if only and what != only:
            continue
        times: dict[str, list[float]] = {d: [] for d, _ in libs}
        outs: dict[str, bytes] = {}
        for _, m in libs:  # warm-up (page faults, first touch of the tables)
            job(m)
        for _ in range(rounds):
            for d, m in libs:
                t = time.thread_time()
                outs[d] = job(m)
                times[d].append(time.thread_time() - t)
        base = statistics.median(times["ncompress"])
        for d, _ in libs:
            out = outs[d]
            if what == "decompress" and out != data:
                raise SystemExit(f"{d}: wrong decompressed output")
            if what == "compress" and ncompress.decompress(out) != data:
                raise SystemExit(f"{d}: output does not decompress")
            med, best = statistics.median(times[d]), min(times[d])
            extra = f"size {len(out)}  md5 {hashlib.md5(out).hexdigest()[:12]}"
            print(
                f"{what:10s} {d:28s} median {len(data) / med / 1e6:6.1f} MB/s  "
                f"best {len(data) / best / 1e6:6.1f} MB/s  x{base / med:4.2f} ncompress  "
                + (extra if what == "compress" else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
