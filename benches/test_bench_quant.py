"""Quantization kernel speed on one 4096 x 4096 float32 weight (64 MiB),
side by side in one run: scalezip's Rust kernels against torch on CPU.

* ``copy``: ``dst.copy_(w)`` into a preallocated tensor, the memory ceiling
  (read 64 MiB, write 64 MiB; int8 quantization reads 64 and writes 16).
* int8 per channel, symmetric: scalezip, ``torch.quantize_per_channel``
  (with the same absmax scales computed first), and a plain torch
  implementation of the same math.
* int4 group 128, asymmetric, packed two per byte: scalezip and plain torch
  (min/max, scale, zero point, round, clamp, nibble packing).
* dequantization of the int8 and int4 results to float32.

Every benchmark puts GB/s of float32 input in extra_info; the README table
is their medians and ratios. Run:

    python -m pytest benches/test_bench_quant.py --benchmark-only \\
        --benchmark-columns=median,rounds --benchmark-sort=name \\
        --benchmark-json=quant.json
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")

from scalezip.quant import quantize  # noqa: E402

ROWS = COLS = 4096
ROUNDS = 9


@pytest.fixture(scope="module")
def w() -> torch.Tensor:
    return torch.randn(ROWS, COLS, generator=torch.Generator().manual_seed(0))


def _run(benchmark, fn, w: torch.Tensor) -> None:  # type: ignore[no-untyped-def]
    benchmark.pedantic(fn, rounds=ROUNDS, warmup_rounds=1)
    benchmark.extra_info["gb_per_s"] = w.numel() * 4 / benchmark.stats.stats.median / 1e9
    benchmark.extra_info["torch_threads"] = torch.get_num_threads()


def torch_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = w.abs().amax(dim=1, keepdim=True) / 127.0
    return torch.clamp(torch.round(w / s), -127, 127).to(torch.int8), s


def torch_int4_g128(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = w.reshape(-1, 128)
    mn = g.amin(dim=1, keepdim=True).clamp(max=0)
    mx = g.amax(dim=1, keepdim=True).clamp(min=0)
    s = (mx - mn) / 15.0
    z = torch.clamp(-torch.round(mn / s), 0, 15)
    q = torch.clamp(torch.round(g / s) + z, 0, 15).to(torch.uint8)
    return q[:, 0::2] | (q[:, 1::2] << 4), s, z


def test_copy_preallocated(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    dst = torch.empty_like(w)
    _run(benchmark, lambda: dst.copy_(w), w)


def test_int8_scalezip(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, lambda: quantize(w, 8), w)


def test_int8_torch_quantize_per_channel(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    zp = torch.zeros(ROWS, dtype=torch.long)

    def f() -> torch.Tensor:
        s = (w.abs().amax(dim=1) / 127.0).double()
        return torch.quantize_per_channel(w, s, zp, 0, torch.qint8)

    # Deprecated in recent torch (a UserWarning, an error under our
    # filterwarnings), but still the built-in to compare with.
    warnings.filterwarnings("ignore", message=".*quantize_per_channel.*", category=UserWarning)

    _run(benchmark, f, w)


def test_int8_torch_plain(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, lambda: torch_int8(w), w)


def test_int4_g128_scalezip(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, lambda: quantize(w, 4, 128, False), w)


def test_int4_g128_torch_plain(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    _run(benchmark, lambda: torch_int4_g128(w), w)


def test_dequant_int8_scalezip(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    q = quantize(w, 8)
    _run(benchmark, q.dequantize, w)


def test_dequant_int8_torch_plain(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    q, s = torch_int8(w)
    _run(benchmark, lambda: q.float() * s, w)


def test_dequant_int4_g128_scalezip(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    q = quantize(w, 4, 128, False)
    _run(benchmark, q.dequantize, w)


def test_dequant_int4_g128_torch_plain(benchmark, w) -> None:  # type: ignore[no-untyped-def]
    p, s, z = torch_int4_g128(w)

    def f() -> torch.Tensor:
        v = torch.stack((p & 15, p >> 4), dim=-1).reshape(-1, 128).float()
        return ((v - z) * s).reshape(ROWS, COLS)

    _run(benchmark, f, w)


def test_results_agree(w) -> None:  # type: ignore[no-untyped-def]
    """The benchmarked torch code computes what scalezip does (int8 per
    channel: same integers up to the reciprocal-vs-division rounding)."""
    q, _ = torch_int8(w)
    ours = quantize(w, 8).data.view(ROWS, COLS)
    assert float((q.int() - ours.int()).abs().max()) <= 1
