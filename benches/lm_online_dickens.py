"""The online-mode figure of docs/lm.md: lm.compress and lm.decompress on the
first N bytes of a text file, beside lzma -9e and bz2 -9 on the same bytes.

    python benches/lm_online_dickens.py ../shared/corpus/silesia/dickens 1048576 lstm-1x256-c16
"""

from __future__ import annotations

import bz2
import lzma
import sys
import time

from scalezip import lm


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    spec = lm.ModelSpec.parse(sys.argv[3])
    streams = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    with open(path, "rb") as f:
        data = f.read(n)
    n = len(data)
    xz = len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    bz = len(bz2.compress(data, 9))
    print(f"{path}[:{n}] lzma -9e {xz} B = {xz * 8 / n:.4f} bpb; bz2 -9 {bz * 8 / n:.4f} bpb")
    t = time.perf_counter()
    blob = lm.compress(data, spec, streams=streams)
    te = time.perf_counter() - t
    print(
        f"{spec.name} streams={streams} online: {len(blob)} B = {len(blob) * 8 / n:.4f} bpb; "
        f"encode {te:.0f} s = {te / n * 1e6:.0f} s/MB",
        flush=True,
    )
    t = time.perf_counter()
    ok = lm.decompress(blob) == data
    td = time.perf_counter() - t
    print(f"decode {td:.0f} s = {td / n * 1e6:.0f} s/MB, round trip {'OK' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
