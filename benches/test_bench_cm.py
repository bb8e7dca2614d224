"""scalezip.cm (context mixing) on real English text, at every level,
against the stdlib's strongest classic compressors on the same bytes:
lzma preset 9 (``xz -9``), bz2 level 9 and zlib level 9.

Input: Silesia's ``dickens`` (10,192,446 bytes of Charles Dickens'
novels), found through SCALEZIP_CM_TEXT, else ../shared/corpus/silesia/
or /work/shared/corpus/silesia/; the benchmarks skip when it is absent.
Bits per byte (bpb) are of the compressed size over the original; MB/s
are of uncompressed data, per direction, on one core, except the rows
with threads: ``threads=2`` cuts the text into segments coded in
parallel (format version 3; docs/cm.md), two cores.

Two ways to run it:

    # pytest-benchmark, one round each (a CM pass over 10 MB takes seconds):
    python -m pytest benches/test_bench_cm.py --benchmark-only \\
        --benchmark-columns=median,rounds --benchmark-sort=name

    # the README table (markdown) for levels 1..9 and the anchors, with
    # wall-clock and CPU-time speeds of each direction (--stream: also
    # through CMCompressor / CMDecompressor, checked to give the same bytes;
    # --threads N: also on N threads, segmented):
    python benches/test_bench_cm.py [FILE] [--levels 1,6,9] [--stream] [--threads N]
"""

from __future__ import annotations

import bz2
import lzma
import os
import sys
import time
import zlib
from collections.abc import Callable

import pytest
from scalezip import cm

HERE = os.path.dirname(os.path.abspath(__file__))
CANDIDATES = [
    os.environ.get("SCALEZIP_CM_TEXT", ""),
    os.path.join(HERE, "..", "..", "shared", "corpus", "silesia", "dickens"),
    "/work/shared/corpus/silesia/dickens",
]

ANCHORS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "lzma -9": (lambda d: lzma.compress(d, preset=9), lzma.decompress),
    "bz2 -9": (lambda d: bz2.compress(d, 9), bz2.decompress),
    "zlib -9": (lambda d: zlib.compress(d, 9), zlib.decompress),
}


def _text_path() -> str | None:
    for p in CANDIDATES:
        if p and os.path.isfile(p):
            return p
    return None


@pytest.fixture(scope="module")
def text() -> bytes:
    p = _text_path()
    if p is None:
        pytest.skip("no English text corpus (set SCALEZIP_CM_TEXT to e.g. Silesia's dickens)")
    with open(p, "rb") as f:
        return f.read()


def _record(benchmark, n: int, size: int) -> None:  # type: ignore[no-untyped-def]
    benchmark.extra_info.update(
        bpb=size * 8 / n,
        mb_per_s=n / benchmark.stats.stats.median / 1e6,
    )


@pytest.mark.parametrize("level", [1, cm.DEFAULT_LEVEL, cm.MAX_LEVEL])
def test_cm_compress(benchmark, text, level) -> None:  # type: ignore[no-untyped-def]
    blob = benchmark.pedantic(cm.compress, args=(text, level), rounds=1, iterations=1)
    _record(benchmark, len(text), len(blob))
    assert blob[5] == level


@pytest.mark.parametrize("level", [1, cm.DEFAULT_LEVEL, cm.MAX_LEVEL])
def test_cm_decompress(benchmark, text, level) -> None:  # type: ignore[no-untyped-def]
    blob = cm.compress(text, level)
    out = benchmark.pedantic(cm.decompress, args=(blob,), rounds=1, iterations=1)
    _record(benchmark, len(text), len(blob))
    assert out == text


@pytest.mark.parametrize("direction", ["compress", "decompress"])
def test_cm_two_threads(benchmark, text, direction) -> None:  # type: ignore[no-untyped-def]
    """The default level on two threads: segments coded in parallel."""
    level = cm.DEFAULT_LEVEL
    if direction == "compress":
        blob = benchmark.pedantic(
            cm.compress, args=(text, level), kwargs={"threads": 2}, rounds=1, iterations=1
        )
    else:
        blob = cm.compress(text, level, threads=2)
        out = benchmark.pedantic(
            cm.decompress, args=(blob,), kwargs={"threads": 2}, rounds=1, iterations=1
        )
        assert out == text
    _record(benchmark, len(text), len(blob))
    assert blob[4] == 3


def _stream_compress(data: bytes, level: int, piece: int = 1 << 16) -> bytes:
    c = cm.CMCompressor(level)
    view = memoryview(data)
    parts = [c.compress(view[i : i + piece]) for i in range(0, len(data), piece)]
    parts.append(c.flush())
    return b"".join(parts)


def _stream_decompress(blob: bytes, piece: int = 1 << 16) -> bytes:
    d = cm.CMDecompressor()
    parts = [d.decompress(blob[i : i + piece]) for i in range(0, len(blob), piece)]
    parts.append(d.flush())
    return b"".join(parts)


def test_cm_stream_compress(benchmark, text) -> None:  # type: ignore[no-untyped-def]
    """CMCompressor fed 64 KiB pieces: the same stream as cm.compress."""
    level = cm.DEFAULT_LEVEL
    blob = benchmark.pedantic(_stream_compress, args=(text, level), rounds=1, iterations=1)
    _record(benchmark, len(text), len(blob))
    assert blob[:4] == cm.MAGIC


def test_cm_stream_decompress(benchmark, text) -> None:  # type: ignore[no-untyped-def]
    """CMDecompressor fed 64 KiB pieces."""
    blob = cm.compress(text, cm.DEFAULT_LEVEL)
    out = benchmark.pedantic(_stream_decompress, args=(blob,), rounds=1, iterations=1)
    _record(benchmark, len(text), len(blob))
    assert out == text


@pytest.mark.parametrize("name", list(ANCHORS))
def test_anchor_compress(benchmark, text, name) -> None:  # type: ignore[no-untyped-def]
    comp, _ = ANCHORS[name]
    blob = benchmark.pedantic(comp, args=(text,), rounds=1, iterations=1)
    _record(benchmark, len(text), len(blob))


@pytest.mark.parametrize("name", list(ANCHORS))
def test_anchor_decompress(benchmark, text, name) -> None:  # type: ignore[no-untyped-def]
    comp, decomp = ANCHORS[name]
    blob = comp(text)
    out = benchmark.pedantic(decomp, args=(blob,), rounds=3, iterations=1)
    _record(benchmark, len(text), len(blob))
    assert out == text


def _timed(f: Callable[[bytes], bytes], data: bytes) -> tuple[bytes, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = f(data)
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str]) -> None:
    levels = list(range(cm.MIN_LEVEL, cm.MAX_LEVEL + 1))
    args = list(argv)
    if "--levels" in args:
        i = args.index("--levels")
        levels = [int(x) for x in args[i + 1].split(",")]
        del args[i : i + 2]
    threads = None
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i : i + 2]
    flags = [a for a in args if a.startswith("--")]
    args = [a for a in args if not a.startswith("--")] + flags
    path = args[0] if args and not args[0].startswith("--") else _text_path()
    if path is None:
        sys.exit("no input: pass a file or set SCALEZIP_CM_TEXT")
    with open(path, "rb") as f:
        data = f.read()
    n = len(data)
    mb = n / 1e6
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"input: {path} ({n:,} bytes); load average at start {load:.1f}, {os.cpu_count()} CPUs")
    print()
    print(
        "| codec | model memory | compressed bytes | bpb | compress MB/s (wall / CPU) "
        "| decompress MB/s (wall / CPU) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    rows: list[tuple[str, int]] = []
    for name, (comp, decomp) in ANCHORS.items():
        blob, cw, cc = _timed(comp, data)
        out, dw, dc = _timed(decomp, blob)
        assert out == data
        rows.append((name, len(blob)))
        print(
            f"| {name} | - | {len(blob):,} | {len(blob) * 8 / n:.3f} "
            f"| {mb / cw:.2f} / {mb / cc:.2f} | {mb / dw:.2f} / {mb / dc:.2f} |",
            flush=True,
        )
    for level in levels:
        blob, cw, cc = _timed(lambda d, lv=level: cm.compress(d, lv), data)
        out, dw, dc = _timed(cm.decompress, blob)
        assert out == data
        rows.append((f"cm -{level}", len(blob)))
        print(
            f"| scalezip cm -{level} | {cm.model_bytes(level) / 2**20:,.0f} MiB "
            f"| {len(blob):,} | {len(blob) * 8 / n:.3f} "
            f"| {mb / cw:.2f} / {mb / cc:.2f} | {mb / dw:.2f} / {mb / dc:.2f} |",
            flush=True,
        )
        if threads is not None:
            tblob, cw, cc = _timed(lambda d, lv=level: cm.compress(d, lv, threads=threads), data)
            out, dw, dc = _timed(lambda b: cm.decompress(b, threads=threads), tblob)
            assert out == data
            rows.append((f"cm -{level}, {threads} threads", len(tblob)))
            print(
                f"| scalezip cm -{level}, threads={threads} (v{tblob[4]}) "
                f"| {threads} x {cm.model_bytes(level) / 2**20:,.0f} MiB "
                f"| {len(tblob):,} | {len(tblob) * 8 / n:.3f} "
                f"| {mb / cw:.2f} / {mb / cc:.2f} | {mb / dw:.2f} / {mb / dc:.2f} |",
                flush=True,
            )
        if "--stream" in args:
            sblob, cw, cc = _timed(lambda d, lv=level: _stream_compress(d, lv), data)
            out, dw, dc = _timed(_stream_decompress, sblob)
            assert sblob == blob and out == data
            print(
                f"| scalezip cm -{level}, streaming objects (64 KiB pieces) | "
                f"{(cm.model_bytes(level) + cm.window_bytes(level)) / 2**20:,.0f} MiB "
                f"| {len(sblob):,} | {len(sblob) * 8 / n:.3f} "
                f"| {mb / cw:.2f} / {mb / cc:.2f} | {mb / dw:.2f} / {mb / dc:.2f} |",
                flush=True,
            )
    sizes = dict(rows)
    best_classic = min(sizes["lzma -9"], sizes["bz2 -9"])
    print()
    for name, s in rows:
        if name.startswith("cm -"):
            print(
                f"{name}: {100 * (1 - s / best_classic):.1f} % smaller than "
                "the better of lzma -9 / bz2 -9"
            )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at end {load:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
