"""scalezip.zlib against stdlib zlib: compress and decompress at levels 1, 6
and 9 on the same multi-MB real input, in one run. Throughput (MB/s of
uncompressed data) and ratio go into each benchmark's extra_info, so the
saved JSON holds everything the README quotes.

    python -m pytest benches/test_bench_zlib.py --benchmark-only \
        --benchmark-columns=median,rounds --benchmark-sort=name
"""

from __future__ import annotations

import zlib as std_zlib

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
@pytest.mark.parametrize("codec", list(CODECS))
def test_decompress(benchmark, corpus, codec, level):
    """Both decoders read the same stdlib-made stream, so only the decoder differs."""
    data, desc = corpus
    mod = CODECS[codec]
    blob = std_zlib.compress(data, level)
    out = benchmark.pedantic(mod.decompress, args=(blob,), rounds=5, warmup_rounds=1)
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
