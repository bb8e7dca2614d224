"""scalezip.lzw against the PyPI ``ncompress`` package (the C ``compress``
4.2 code): compress and decompress the same multi-MB real input, in one run.
Both sides write max-bits 16 in block mode with the same CLEAR policy, so
ratios agree to a fraction of a percent and only speed differs. Decompression
decodes the same ncompress-made stream with each library. scalezip also
compresses on two threads (its multi-core mode). Throughput (MB/s of
uncompressed data) and ratio go into each benchmark's extra_info.

    python -m pytest benches/test_bench_lzw.py --benchmark-only \\
        --benchmark-columns=median,rounds --benchmark-sort=name
"""

from __future__ import annotations

import pytest
from scalezip import lzw

ncompress = pytest.importorskip("ncompress")

CODECS = {"ncompress": ncompress, "scalezip": lzw}
#: The compressors: each library on one thread, and scalezip's segments on
#: two (``threads=2``: 4 MiB segments joined by CLEAR codes, about 0.3 %
#: larger; on a 2-core machine, run it with nothing else busy).
COMPRESSORS = {
    "ncompress": ncompress.compress,
    "scalezip": lzw.compress,
    "scalezip-2threads": lambda data: lzw.compress(data, threads=2),
}


@pytest.mark.parametrize("codec", list(COMPRESSORS))
def test_lzw_compress(benchmark, corpus, codec):
    data, desc = corpus
    blob = benchmark.pedantic(COMPRESSORS[codec], args=(data,), rounds=3, warmup_rounds=1)
    assert ncompress.decompress(blob) == data
    benchmark.extra_info.update(
        corpus=desc,
        ratio=len(blob) / len(data),
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )


@pytest.mark.parametrize("codec", list(CODECS))
def test_lzw_decompress(benchmark, corpus, codec):
    data, desc = corpus
    mod = CODECS[codec]
    blob = ncompress.compress(data)
    out = benchmark.pedantic(mod.decompress, args=(blob,), rounds=3, warmup_rounds=1)
    assert out == data
    benchmark.extra_info.update(
        corpus=desc,
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )
