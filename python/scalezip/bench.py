"""The main job: a round trip and a side-by-side speed/ratio comparison of
scalezip's DEFLATE against the stdlib's zlib, on real bytes.

The default corpus is embedded in every Python installation, so the command
runs anywhere with no download: the standard library's ``.py`` sources
(text) followed by the interpreter's shared libraries (machine code), each
capped so a run stays short. ``--corpus`` takes your own files instead.

Timing is honest by construction: every codec and level is timed in the
same process, runs are interleaved (codec A, codec B, A, B, ...) so that
machine drift hits all alike, and the figure reported is the median of the
repeats. Round trips are checked both ways (scalezip -> stdlib, stdlib ->
scalezip) before anything is timed.
"""

from __future__ import annotations

import glob
import os
import statistics
import sys
import sysconfig
import time
import zlib as std_zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass

from . import zlib as sz_zlib

TEXT_CAP = 6 << 20
BINARY_CAP = 3 << 20


def default_corpus() -> tuple[bytes, str]:
    """Return (data, description) for the embedded default corpus."""
    stdlib = os.path.dirname(os.__file__)
    text = bytearray()
    for path in sorted(glob.glob(os.path.join(stdlib, "**", "*.py"), recursive=True)):
        if len(text) >= TEXT_CAP:
            break
        with open(path, "rb") as f:
            text += f.read()
    del text[TEXT_CAP:]
    binary = bytearray()
    libdirs = [
        sysconfig.get_config_var("LIBDIR") or "",
        sysconfig.get_path("platstdlib") + "/lib-dynload",
    ]
    candidates: list[str] = []
    for d in libdirs:
        candidates += sorted(glob.glob(os.path.join(d, "libpython*.so*")))
        candidates += sorted(glob.glob(os.path.join(d, "*.so")))
    candidates.append(os.path.realpath(sys.executable))
    for path in dict.fromkeys(candidates):
        if len(binary) >= BINARY_CAP:
            break
        if os.path.isfile(path):
            with open(path, "rb") as f:
                binary += f.read()
    del binary[BINARY_CAP:]
    version = sys.version.split()[0]
    desc = (
        f"embedded corpus: Python {version} stdlib sources ({len(text) / 1e6:.1f} MB)"
        f" + interpreter shared libraries ({len(binary) / 1e6:.1f} MB)"
    )
    return bytes(text + binary), desc


def load_corpus(paths: list[str]) -> tuple[bytes, str]:
    data = bytearray()
    for p in paths:
        with open(p, "rb") as f:
            data += f.read()
    names = ", ".join(os.path.basename(p) for p in paths)
    return bytes(data), f"{names} ({len(data) / 1e6:.1f} MB)"


@dataclass
class Row:
    codec: str
    level: int
    ratio: float
    compress_mb_s: float
    decompress_mb_s: float


def _median_time(fn: Callable[[], object], times: list[float]) -> None:
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)


def run(data: bytes, levels: list[int], repeat: int) -> list[Row]:
    """Measure both codecs at each level; raise if any round trip fails."""
    codecs = {"stdlib zlib": std_zlib, "scalezip": sz_zlib}
    rows = []
    for level in levels:
        blobs = {name: mod.compress(data, level) for name, mod in codecs.items()}
        # Correctness first: every stream must decode, with either library.
        for name, blob in blobs.items():
            for other in codecs.values():
                if other.decompress(blob) != data:
                    raise RuntimeError(f"round trip failed: {name} level {level}")
        ctimes: dict[str, list[float]] = {n: [] for n in codecs}
        dtimes: dict[str, list[float]] = {n: [] for n in codecs}
        for _ in range(repeat):
            for name, mod in codecs.items():
                blob = blobs[name]
                _median_time(lambda m=mod, lv=level: m.compress(data, lv), ctimes[name])  # type: ignore[misc]
                _median_time(lambda m=mod, b=blob: m.decompress(b), dtimes[name])  # type: ignore[misc]
        for name in codecs:
            rows.append(
                Row(
                    codec=name,
                    level=level,
                    ratio=len(blobs[name]) / max(len(data), 1),
                    compress_mb_s=len(data) / statistics.median(ctimes[name]) / 1e6,
                    decompress_mb_s=len(data) / statistics.median(dtimes[name]) / 1e6,
                )
            )
    return rows


def format_table(rows: list[Row]) -> str:
    base = {r.level: r for r in rows if r.codec == "stdlib zlib"}
    lines = [
        f"{'codec':<12} {'level':>5} {'ratio':>7} {'comp MB/s':>10} {'x zlib':>7}"
        f" {'decomp MB/s':>12} {'x zlib':>7}",
    ]
    for r in rows:
        b = base[r.level]
        lines.append(
            f"{r.codec:<12} {r.level:>5} {r.ratio:>7.4f} {r.compress_mb_s:>10.1f}"
            f" {r.compress_mb_s / b.compress_mb_s:>7.2f} {r.decompress_mb_s:>12.1f}"
            f" {r.decompress_mb_s / b.decompress_mb_s:>7.2f}"
        )
    return "\n".join(lines)


def rows_as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
