"""scalezip.lm: the online neural compressor against lzma on real English
text, and bits_per_byte throughput.

The text is ``SCALEZIP_LM_TEXT`` (a file) when set, else Silesia's
``dickens`` (Charles Dickens's novels, plain English) when the shared corpus
is present, else the embedded corpus of ``scalezip lm scaling``;
``SCALEZIP_LM_BYTES`` (default 65536) bytes of it are used, and
``SCALEZIP_LM_SPEC`` (default ``lstm-1x256-c16``) picks the model. Each
compress is one round (it takes seconds to minutes); extra_info holds bits
per byte for the model and for lzma -9e on the same bytes, and seconds per
MB. Round trips are checked.

    SCALEZIP_LM_BYTES=262144 python -m pytest benches/test_bench_lm.py --benchmark-only \\
        --benchmark-columns=median,rounds
"""

from __future__ import annotations

import lzma
import os

import pytest

torch = pytest.importorskip("torch")
from scalezip import lm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DICKENS = os.path.join(HERE, "..", "..", "shared", "corpus", "silesia", "dickens")
NBYTES = int(os.environ.get("SCALEZIP_LM_BYTES", "65536"))
SPEC = lm.ModelSpec.parse(os.environ.get("SCALEZIP_LM_SPEC", "lstm-1x256-c16"))

# A compress of a few hundred KB takes minutes: no per-test timeout.
pytestmark = pytest.mark.timeout(0)


@pytest.fixture(scope="module")
def text() -> tuple[str, bytes]:
    path = os.environ.get("SCALEZIP_LM_TEXT") or (DICKENS if os.path.exists(DICKENS) else "")
    if path:
        with open(path, "rb") as f:
            return os.path.basename(path), f.read(NBYTES)
    from scalezip.lm.corpus import default_corpus

    data, desc = default_corpus(NBYTES)
    return desc, data


def test_online_compress_vs_lzma(benchmark, text) -> None:  # type: ignore[no-untyped-def]
    name, data = text
    blob = benchmark.pedantic(lm.compress, args=(data, SPEC), rounds=1, iterations=1)
    secs = benchmark.stats.stats.median
    xz = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
    benchmark.extra_info.update(
        input=f"{name}[:{len(data)}]",
        spec=SPEC.name,
        bpb=len(blob) * 8 / len(data),
        lzma_bpb=len(xz) * 8 / len(data),
        seconds_per_mb=secs / len(data) * 1e6,
    )
    assert lm.decompress(blob) == data


def test_bits_per_byte_throughput(benchmark, text) -> None:  # type: ignore[no-untyped-def]
    name, data = text
    model = lm.build_model(SPEC)
    bpb = benchmark.pedantic(lm.bits_per_byte, args=(model, data), rounds=3, iterations=1)
    benchmark.extra_info.update(
        input=f"{name}[:{len(data)}]",
        spec=SPEC.name,
        untrained_bpb=bpb,
        mb_per_s=len(data) / benchmark.stats.stats.median / 1e6,
    )
