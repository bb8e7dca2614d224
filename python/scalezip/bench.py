"""The main job: scalezip beside the compressors users would otherwise pick,
on the same real bytes, in one run.

The default corpus is embedded in every Python installation, so the command
runs anywhere with no download: the standard library's ``.py`` sources
(text) followed by the interpreter's shared libraries (machine code), each
capped so a run stays short. ``--corpus`` takes your own files instead.

Every anchor that is installed is measured at its standard levels (stdlib
zlib, isal, zlib-ng, libdeflate through ``deflate``, zstandard, lz4,
brotli; ``pip install "scalezip[bench]"`` brings them); missing ones are
listed as skipped. Timing is honest by construction: all codecs run in the
same process, runs are interleaved (every codec and level once, then again)
so machine drift hits all alike, the figure is the median of the repeats,
and speeds are also given relative to stdlib zlib level 6 in the same run,
which is steadier than MB/s on a shared machine. A memcpy-like copy gives
the ceiling. Round trips are checked before anything is timed, and DEFLATE
streams are cross-decoded (scalezip's by stdlib zlib and the reverse).
"""

from __future__ import annotations

import csv
import glob
import importlib
import json
import os
import statistics
import sys
import sysconfig
import time
import zlib as std_zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from . import zlib as sz_zlib

TEXT_CAP = 6 << 20
BINARY_CAP = 3 << 20

Compress = Callable[[bytes, int], bytes]
Decompress = Callable[[bytes, int], bytes]


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
        os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload"),
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


@dataclass(frozen=True)
class Anchor:
    """A codec to measure: its levels and its one-shot functions."""

    name: str
    levels: tuple[int, ...]
    compress: Compress
    decompress: Decompress  # (blob, original size) -> data


def _import(name: str) -> Any:
    return importlib.import_module(name)


def _anchor_factories() -> list[tuple[str, Callable[[], Anchor]]]:
    """(name, factory) for every known codec; a factory raises ImportError
    when its library is not installed."""

    def scalezip() -> Anchor:
        return Anchor(
            "scalezip", (1, 6, 9, 12), sz_zlib.compress, lambda b, n: sz_zlib.decompress(b)
        )

    def stdlib() -> Anchor:
        return Anchor(
            "stdlib-zlib", (1, 6, 9), std_zlib.compress, lambda b, n: std_zlib.decompress(b)
        )

    def isal() -> Anchor:
        m = _import("isal.isal_zlib")
        return Anchor("isal", (0, 1, 2, 3), m.compress, lambda b, n: m.decompress(b))

    def zlib_ng() -> Anchor:
        m = _import("zlib_ng.zlib_ng")
        return Anchor("zlib-ng", (1, 6, 9), m.compress, lambda b, n: m.decompress(b))

    def libdeflate() -> Anchor:
        m = _import("deflate")
        return Anchor("libdeflate", (1, 6, 9, 12), m.zlib_compress, m.zlib_decompress)

    def zstd() -> Anchor:
        m = _import("zstandard")
        d = m.ZstdDecompressor()
        return Anchor(
            "zstd",
            (1, 3, 9),
            lambda data, lv: m.ZstdCompressor(level=lv).compress(data),
            lambda b, n: d.decompress(b, max_output_size=n),
        )

    def lz4() -> Anchor:
        m = _import("lz4.frame")
        return Anchor(
            "lz4",
            (0, 9),
            lambda data, lv: m.compress(data, compression_level=lv),
            lambda b, n: m.decompress(b),
        )

    def brotli() -> Anchor:
        m = _import("brotli")
        return Anchor(
            "brotli",
            (1, 5),
            lambda data, lv: m.compress(data, quality=lv),
            lambda b, n: m.decompress(b),
        )

    return [
        ("scalezip", scalezip),
        ("stdlib-zlib", stdlib),
        ("isal", isal),
        ("zlib-ng", zlib_ng),
        ("libdeflate", libdeflate),
        ("zstd", zstd),
        ("lz4", lz4),
        ("brotli", brotli),
    ]


def known_codecs() -> list[str]:
    return [name for name, _ in _anchor_factories()]


def available_anchors(only: list[str] | None = None) -> tuple[list[Anchor], list[str]]:
    """The installed anchors (filtered by *only*), and the names skipped."""
    found, skipped = [], []
    for name, factory in _anchor_factories():
        if only is not None and name not in only:
            continue
        try:
            found.append(factory())
        except ImportError:
            skipped.append(name)
    return found, skipped


@dataclass
class Row:
    codec: str
    level: int
    ratio: float
    compress_mb_s: float
    decompress_mb_s: float


def _timed(fn: Callable[[], object], times: list[float]) -> None:
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)


def check_round_trips(data: bytes, anchors: list[Anchor]) -> dict[tuple[str, int], bytes]:
    """Compress with every codec and level; verify each decodes back, and
    that DEFLATE streams cross-decode between scalezip and stdlib zlib."""
    blobs = {}
    for a in anchors:
        for lv in a.levels:
            blob = a.compress(data, lv)
            if a.decompress(blob, len(data)) != data:
                raise RuntimeError(f"round trip failed: {a.name} level {lv}")
            blobs[(a.name, lv)] = blob
    for (name, lv), blob in blobs.items():
        if name == "scalezip" and std_zlib.decompress(blob) != data:
            raise RuntimeError(f"stdlib zlib cannot decode scalezip level {lv}")
        if name == "stdlib-zlib" and sz_zlib.decompress(blob) != data:
            raise RuntimeError(f"scalezip cannot decode stdlib zlib level {lv}")
    return blobs


def run(
    data: bytes,
    anchors: list[Anchor],
    repeat: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Row], float]:
    """Measure every anchor at its levels, interleaved; return the rows and
    the copy ceiling in MB/s. Raises RuntimeError if a round trip fails."""
    blobs = check_round_trips(data, anchors)
    keys = list(blobs)
    ctimes: dict[tuple[str, int], list[float]] = {k: [] for k in keys}
    dtimes: dict[tuple[str, int], list[float]] = {k: [] for k in keys}
    copies: list[float] = []
    by_name = {a.name: a for a in anchors}
    n = len(data)
    for _ in range(repeat):
        _timed(lambda: bytearray(data), copies)
        for key in keys:
            a, lv = by_name[key[0]], key[1]
            _timed(lambda a=a, lv=lv: a.compress(data, lv), ctimes[key])  # type: ignore[misc]
            _timed(lambda a=a, b=blobs[key]: a.decompress(b, n), dtimes[key])  # type: ignore[misc]
            if progress is not None:
                progress(1)
    rows = [
        Row(
            codec=name,
            level=lv,
            ratio=len(blobs[(name, lv)]) / max(n, 1),
            compress_mb_s=n / statistics.median(ctimes[(name, lv)]) / 1e6,
            decompress_mb_s=n / statistics.median(dtimes[(name, lv)]) / 1e6,
        )
        for name, lv in keys
    ]
    return rows, n / statistics.median(copies) / 1e6


def steps(anchors: list[Anchor], repeat: int) -> int:
    return repeat * sum(len(a.levels) for a in anchors)


def _baseline(rows: list[Row]) -> Row | None:
    return next((r for r in rows if r.codec == "stdlib-zlib" and r.level == 6), None)


def format_table(rows: list[Row], copy_mb_s: float | None = None) -> str:
    base = _baseline(rows)
    lines = [
        f"{'codec':<12} {'level':>5} {'ratio':>7} {'comp MB/s':>10} {'x zlib-6':>8}"
        f" {'decomp MB/s':>12} {'x zlib-6':>8}",
    ]
    for r in rows:
        cx = f"{r.compress_mb_s / base.compress_mb_s:>8.2f}" if base else f"{'':>8}"
        dx = f"{r.decompress_mb_s / base.decompress_mb_s:>8.2f}" if base else f"{'':>8}"
        lines.append(
            f"{r.codec:<12} {r.level:>5} {r.ratio:>7.4f} {r.compress_mb_s:>10.1f} {cx}"
            f" {r.decompress_mb_s:>12.1f} {dx}"
        )
    if copy_mb_s is not None:
        lines.append(f"{'copy (ceiling)':<18} {'':>7} {copy_mb_s:>10.1f}")
    return "\n".join(lines)


def rows_as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]


def write_csv(path: str, rows: list[Row]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(rows[0])) if rows else ["codec"])
        w.writeheader()
        for r in rows:
            w.writerow(asdict(r))


def write_json(
    path: str, desc: str, n: int, rows: list[Row], copy_mb_s: float, skipped: list[str]
) -> None:
    with open(path, "w") as f:
        json.dump(
            {
                "corpus": desc,
                "bytes": n,
                "copy_mb_s": copy_mb_s,
                "skipped": skipped,
                "rows": rows_as_dicts(rows),
            },
            f,
            indent=2,
        )


def plot(path: str, rows: list[Row], desc: str) -> None:
    """Ratio against compression speed, one line per codec through its levels
    (the Pareto view: down and right is better)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for codec in dict.fromkeys(r.codec for r in rows):
        pts = sorted((r for r in rows if r.codec == codec), key=lambda r: r.level)
        style = {"linewidth": 2.5, "zorder": 3} if codec == "scalezip" else {"linewidth": 1}
        ax.plot(
            [r.compress_mb_s for r in pts], [r.ratio for r in pts], marker="o", label=codec, **style
        )
        for r in pts:
            ax.annotate(
                str(r.level),
                (r.compress_mb_s, r.ratio),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    ax.set_xscale("log")
    ax.set_xlabel("compression speed, MB/s (log scale)")
    ax.set_ylabel("compressed size / original size")
    ax.set_title(f"ratio vs speed: {desc}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
