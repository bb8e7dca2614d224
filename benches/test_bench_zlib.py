"""scalezip.zlib against stdlib zlib: compress and decompress at levels 1, 6
and 9 on the same multi-MB real input, in one run; decompression also against
the fast anchors (libdeflate, ISA-L, zlib-ng) where installed. Throughput (MB/s of
uncompressed data) and ratio go into each benchmark's extra_info, so the
saved JSON holds everything the README quotes.

    python -m pytest benches/test_bench_zlib.py --benchmark-only \
        --benchmark-columns=median,rounds --benchmark-sort=name
"""

from __future__ import annotations

import zlib as std_zlib
from collections.abc import Callable

import pytest
from scalezip import zlib as sz_zlib

CODECS = {"stdlib": std_zlib, "scalezip": sz_zlib}


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("codec", list(CODECS))
def test_compress(benchmark, corpus, codec, level):
    data, desc = corpus
    mod = CODECS[codec]
    blob = benchmark.pedantic(mod.compress, args=(data, level), rounds=5, warmup_rounds=1)
    assert std_zlib.decompress(blob) == data
    benchmark.extra_info.update(
        corpus=desc,
        ratio=len(blob) / len(data),
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("hint", ["nohint", "bufsize"])
@pytest.mark.parametrize("codec", list(CODECS))
def test_decompress(benchmark, corpus, codec, hint, level):
    """Both decoders read the same stdlib-made stream, so only the decoder
    differs. ``bufsize``: told the exact output size, as libdeflate is (its
    binding requires it); ``nohint``: zlib's default, the size is guessed."""
    data, desc = corpus
    mod = CODECS[codec]
    blob = std_zlib.compress(data, level)
    kwargs = {"bufsize": len(data)} if hint == "bufsize" else {}
    out = benchmark.pedantic(mod.decompress, args=(blob,), kwargs=kwargs, rounds=5, warmup_rounds=1)
    assert out == data
    benchmark.extra_info.update(
        corpus=desc,
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )


def _gzip_decoders() -> dict[str, Callable[[bytes], bytes]]:
    """One-shot gzip decoders: all read the size from the ISIZE trailer."""
    import gzip as std_gzip

    from scalezip import gzip as sz_gzip

    found: dict[str, Callable[[bytes], bytes]] = {
        "stdlib": std_gzip.decompress,
        "scalezip": sz_gzip.decompress,
    }
    try:
        import deflate  # libdeflate

        found["libdeflate"] = lambda b: deflate.gzip_decompress(b)
    except ImportError:
        pass
    try:
        from isal import igzip

        found["isal"] = igzip.decompress
    except ImportError:
        pass
    return found


GZIP_DECODERS = _gzip_decoders()


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("codec", sorted(GZIP_DECODERS))
def test_gzip_decompress(benchmark, corpus, codec, level):
    """gzip.decompress of one stdlib-made member by each decoder."""
    import gzip as std_gzip

    data, desc = corpus
    blob = std_gzip.compress(data, level, mtime=0)
    fn = GZIP_DECODERS[codec]
    out = benchmark.pedantic(fn, args=(blob,), rounds=5, warmup_rounds=1)
    assert out == data
    benchmark.extra_info.update(
        corpus=desc,
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )


@pytest.mark.parametrize("level", [1, 6, 9])
def test_decompress_into(benchmark, corpus, level):
    """scalezip.zlib.decompress_into: the same stream into a preallocated buffer."""
    data, desc = corpus
    blob = std_zlib.compress(data, level)
    out = bytearray(len(data))
    n = benchmark.pedantic(sz_zlib.decompress_into, args=(blob, out), rounds=5, warmup_rounds=1)
    assert n == len(data) and out == data
    benchmark.extra_info.update(
        corpus=desc,
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )


def _anchor_decoders() -> dict[str, Callable[[bytes, int], bytes]]:
    """Fast third-party zlib decoders, by name, for those installed."""
    found: dict[str, Callable[[bytes, int], bytes]] = {}
    try:
        import deflate  # libdeflate

        found["libdeflate"] = lambda b, n: deflate.zlib_decompress(b, n)
    except ImportError:
        pass
    try:
        from isal import isal_zlib

        found["isal"] = lambda b, n: isal_zlib.decompress(b)
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng

        found["zlib-ng"] = lambda b, n: zlib_ng.decompress(b)
    except ImportError:
        pass
    return found


ANCHORS = _anchor_decoders()


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("codec", sorted(ANCHORS) or ["none-installed"])
def test_decompress_anchor(benchmark, corpus, codec, level):
    """The same stdlib-made stream decoded by a fast anchor (libdeflate is
    told the output size, as its API requires)."""
    if codec not in ANCHORS:
        pytest.skip("no anchor decoder installed (pip install '.[bench]')")
    data, desc = corpus
    blob = std_zlib.compress(data, level)
    fn = ANCHORS[codec]
    out = benchmark.pedantic(fn, args=(blob, len(data)), rounds=5, warmup_rounds=1)
    assert out == data
    benchmark.extra_info.update(
        corpus=desc,
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )
