"""Multi-core gzip: scalezip.gzip.compress with 1 and 2 threads at levels
1, 6 and 9 on the same input, in one run; ratio and MB/s in extra_info.

    python -m pytest benches/test_bench_gzip_threads.py --benchmark-only \
        --benchmark-columns=median,rounds --benchmark-sort=name
"""

from __future__ import annotations

import gzip as std_gzip

import pytest
from scalezip import gzip as sz_gzip


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("threads", [1, 2])
def test_gzip_compress_threads(benchmark, corpus, threads, level):
    data, desc = corpus
    blob = benchmark.pedantic(
        sz_gzip.compress,
        args=(data, level),
        kwargs={"mtime": 0, "threads": threads},
        rounds=3,
        warmup_rounds=1,
    )
    assert std_gzip.decompress(blob) == data
    benchmark.extra_info.update(
        corpus=desc,
        ratio=len(blob) / len(data),
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )
