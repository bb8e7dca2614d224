"""DEFLATE compression side by side in one process: scalezip vs libdeflate (`deflate`),
ISA-L (`isal`, level 1) and stdlib zlib, timed by per-thread CPU time (the least noisy
clock on a shared machine; every codec here compresses on the calling thread).

    PYTHONPATH=python python benches/deflate_side_by_side.py 1,6,9 [FILES...]

Default input: /work/shared/corpus/silesia/* concatenated. Prints ratio, MB/s and both
relative to libdeflate at the same level.
"""

from __future__ import annotations

import glob
import sys
import time
import zlib
from collections.abc import Callable

import deflate as libdeflate
from scalezip import zlib as sz_zlib

try:
    from isal import isal_zlib
except ImportError:  # pragma: no cover - optional anchor
    isal_zlib = None


def cpu_time(fn: Callable[[bytes, int], bytes], data: bytes, level: int) -> tuple[int, float]:
    t0 = time.thread_time()
    out = fn(data, level)
    return len(out), time.thread_time() - t0


def main() -> None:
    levels = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "1,6,9").split(",")]
    files = sys.argv[2:] or sorted(glob.glob("/work/shared/corpus/silesia/*"))
    data = b"".join(open(f, "rb").read() for f in files)
    n = len(data)
    print(f"input {n} bytes from {len(files)} files")
    for lv in levels:
        rows = {
            "scalezip": cpu_time(sz_zlib.compress, data, lv),
            "libdeflate": cpu_time(libdeflate.zlib_compress, data, lv),
        }
        if isal_zlib is not None and lv == 1:
            rows["isal-1"] = cpu_time(isal_zlib.compress, data, 1)
        rows["zlib"] = cpu_time(zlib.compress, data, lv)
        base_size, base_t = rows["libdeflate"]
        for name, (size, dt) in rows.items():
            print(
                f"L{lv} {name:10s} ratio {size / n:.4f} {n / dt / 1e6:7.1f} MB/s"
                f"  size x ld {size / base_size:.4f}  speed x ld {base_t / dt:.2f}"
            )


if __name__ == "__main__":
    main()
