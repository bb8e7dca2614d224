"""Benchmark inputs. Benchmarks are not part of the default test run
(pytest's testpaths is tests/); run them with the command in README.md.

The input is, in order of preference: the files named by
SCALEZIP_BENCH_CORPUS (colon-separated), the Silesia files in
../shared/corpus/silesia when present, else the embedded corpus of
``scalezip bench``.
"""

from __future__ import annotations

import glob
import os

import pytest
from scalezip import bench

HERE = os.path.dirname(os.path.abspath(__file__))
SILESIA = os.path.join(HERE, "..", "..", "shared", "corpus", "silesia")


@pytest.fixture(scope="session")
def corpus() -> tuple[bytes, str]:
    env = os.environ.get("SCALEZIP_BENCH_CORPUS")
    if env:
        return bench.load_corpus(env.split(":"))
    files = sorted(glob.glob(os.path.join(SILESIA, "*")))
    if files:
        return bench.load_corpus(files)
    return bench.default_corpus()
