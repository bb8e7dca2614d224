"""scalezip.huffman throughput on one core, against the floor of a numpy
histogram pass (``np.bincount`` over the same bytes: any entropy coder must
at least count them) and stdlib zlib's Huffman-only mode (the nearest
stdlib codec: Z_HUFFMAN_ONLY, i.e. DEFLATE with no matches). zstd's own
entropy stage (its huff0, called per block) is compared in Rust, where it can
be reached: ``cargo bench -p scalezip-core --bench huff0``.

Inputs: the exponent bytes of float32 standard-normal weights (the
tensor-codec case: about 2.7 bits of entropy per byte), a geometric byte
distribution, and the real-text corpus of ``conftest.corpus``. MB/s are of
uncompressed data; ratio is compressed/original; both go in extra_info.

    python -m pytest benches/test_bench_huffman.py --benchmark-only \\
        --benchmark-columns=median,rounds --benchmark-sort=name

On a shared, loaded machine, add ``--benchmark-timer=time.process_time -k
"1core or zlib"``: CPU time of the (single-threaded) calls, which other
processes inflate far less than wall time.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from scalezip import huffman


def _exponents() -> bytes:
    w = np.random.default_rng(0).standard_normal(8 << 20, dtype=np.float32)
    return w.view(np.uint8)[3::4].tobytes()


def _geometric() -> bytes:
    g = np.random.default_rng(1).geometric(0.3, 8 << 20).clip(1, 255).astype(np.uint8)
    return g.tobytes()


INPUTS = {"exponents": _exponents, "geometric": _geometric}


@pytest.fixture(scope="module", params=["exponents", "geometric", "corpus"])
def data(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    if request.param == "corpus":
        blob, desc = request.getfixturevalue("corpus")
        return f"corpus ({desc})", blob
    return request.param, INPUTS[request.param]()


def _record(benchmark, name: str, n: int, **extra: float) -> None:  # type: ignore[no-untyped-def]
    benchmark.extra_info.update(
        input=name,
        mb_per_s=n / benchmark.stats.stats.median / 1e6,
        **extra,
    )


def test_floor_numpy_bincount(benchmark, data) -> None:  # type: ignore[no-untyped-def]
    name, blob = data
    arr = np.frombuffer(blob, dtype=np.uint8)
    benchmark.pedantic(
        np.bincount, args=(arr,), kwargs={"minlength": 256}, rounds=7, warmup_rounds=1
    )
    _record(benchmark, name, len(blob))


def test_floor_numpy_histogram(benchmark, data) -> None:  # type: ignore[no-untyped-def]
    name, blob = data
    arr = np.frombuffer(blob, dtype=np.uint8)
    benchmark.pedantic(
        np.histogram,
        args=(arr,),
        kwargs={"bins": 256, "range": (0, 256)},
        rounds=3,
        warmup_rounds=1,
    )
    _record(benchmark, name, len(blob))


@pytest.mark.parametrize("threads", [1, None], ids=["1core", "allcores"])
def test_huffman_compress(benchmark, data, threads) -> None:  # type: ignore[no-untyped-def]
    name, blob = data
    out = benchmark.pedantic(
        huffman.compress, args=(blob,), kwargs={"threads": threads}, rounds=21, warmup_rounds=1
    )
    assert huffman.decompress(out) == blob
    _record(benchmark, name, len(blob), ratio=len(out) / len(blob))


@pytest.mark.parametrize("threads", [1, None], ids=["1core", "allcores"])
def test_huffman_decompress(benchmark, data, threads) -> None:  # type: ignore[no-untyped-def]
    name, blob = data
    packed = huffman.compress(blob)
    out = benchmark.pedantic(
        huffman.decompress, args=(packed,), kwargs={"threads": threads}, rounds=21, warmup_rounds=1
    )
    assert out == blob
    _record(benchmark, name, len(blob))


def test_zlib_huffman_only_compress(benchmark, data) -> None:  # type: ignore[no-untyped-def]
    name, blob = data

    def run() -> bytes:
        c = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_HUFFMAN_ONLY)
        return c.compress(blob) + c.flush()

    out = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    _record(benchmark, name, len(blob), ratio=len(out) / len(blob))


def test_zlib_huffman_only_decompress(benchmark, data) -> None:  # type: ignore[no-untyped-def]
    name, blob = data
    c = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_HUFFMAN_ONLY)
    packed = c.compress(blob) + c.flush()
    benchmark.pedantic(zlib.decompress, args=(packed,), rounds=3, warmup_rounds=1)
    _record(benchmark, name, len(blob))
