"""Fidelity report: how far a compressed model's outputs are from the
original's, how many bytes it saved, and what it costs in time.

:func:`compare` measures two output tensors (rows along the last axis):
MSE, RMSE, MAE, maximum absolute error, SQNR in dB (signal power over
error power) and the mean and minimum cosine similarity of the rows.
:func:`evaluate` runs both models on the same inputs (after warm-up,
median of repeated timings) and adds parameter bytes and the compression
ratio. :func:`format_table` prints reports as a Markdown table,
:func:`to_json` serialises them, :func:`plot` draws error against bytes
(needs matplotlib).
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import torch
from torch import nn

__all__ = [
    "Fidelity",
    "Report",
    "compare",
    "evaluate",
    "format_table",
    "latency",
    "param_bytes",
    "plot",
    "to_json",
]


@dataclass(frozen=True)
class Fidelity:
    """Error of ``out`` against ``ref``."""

    mse: float
    rmse: float
    mae: float
    max_abs: float
    sqnr_db: float
    cosine_mean: float
    cosine_min: float


def compare(ref: torch.Tensor, out: torch.Tensor) -> Fidelity:
    """Error measures of ``out`` against ``ref`` (same shape), in float64."""
    if ref.shape != out.shape:
        raise ValueError(f"shapes differ: {tuple(ref.shape)} vs {tuple(out.shape)}")
    r = ref.detach().double().reshape(-1, ref.shape[-1] if ref.dim() else 1)
    o = out.detach().double().reshape(r.shape)
    e = o - r
    mse = float((e * e).mean())
    sig = float((r * r).mean())
    sqnr = math.inf if mse == 0 else 10 * math.log10(sig / mse) if sig > 0 else -math.inf
    cos = torch.nn.functional.cosine_similarity(r, o, dim=-1, eps=1e-12)
    return Fidelity(
        mse=mse,
        rmse=math.sqrt(mse),
        mae=float(e.abs().mean()),
        max_abs=float(e.abs().max()) if e.numel() else 0.0,
        sqnr_db=sqnr,
        cosine_mean=float(cos.mean()),
        cosine_min=float(cos.min()),
    )


def param_bytes(model: nn.Module) -> int:
    """Bytes of every parameter and persistent buffer (quantized weights,
    scales, zero points included), each storage counted once."""
    seen: set[int] = set()
    total = 0
    for t in model.state_dict().values():
        if not isinstance(t, torch.Tensor):
            continue
        key = int(t.untyped_storage().data_ptr() + t.storage_offset() * t.element_size())
        if key in seen and t.numel():
            continue
        seen.add(key)
        total += t.numel() * t.element_size()
    return total


def latency(fn: Callable[[], Any], *, warmup: int = 2, repeat: int = 7) -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


@dataclass
class Report:
    """One setting: its name, fidelity, sizes and latency."""

    name: str
    fidelity: Fidelity
    bytes_before: int
    bytes_after: int
    latency_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.bytes_before / self.bytes_after if self.bytes_after else math.inf


def evaluate(
    original: nn.Module,
    compressed: nn.Module,
    inputs: Any,
    *,
    name: str = "compressed",
    forward: Callable[[nn.Module, Any], torch.Tensor] | None = None,
    bytes_after: int | None = None,
    warmup: int = 2,
    repeat: int = 7,
    reference: torch.Tensor | None = None,
) -> Report:
    """Run both models on ``inputs`` and report. ``forward(model, inputs)``
    returns the output to compare (default: ``model(inputs)`` or
    ``model(**inputs)`` for a dict). ``bytes_after`` overrides the size of
    the compressed model (e.g. its sparse storage size); ``reference``
    reuses an already computed output of ``original``."""

    def run(m: nn.Module) -> torch.Tensor:
        with torch.no_grad():
            if forward is not None:
                return forward(m, inputs)
            out: torch.Tensor = m(**inputs) if isinstance(inputs, dict) else m(inputs)
            return out

    ref = run(original) if reference is None else reference
    out = run(compressed)
    return Report(
        name=name,
        fidelity=compare(ref, out),
        bytes_before=param_bytes(original),
        bytes_after=param_bytes(compressed) if bytes_after is None else bytes_after,
        latency_s=latency(lambda: run(compressed), warmup=warmup, repeat=repeat),
    )


def format_table(reports: Sequence[Report], *, full: bool = False) -> str:
    """A Markdown table of ``reports``; ``full`` adds the bytes before, MSE
    and MAE columns."""
    if full:
        head = (
            "| setting | bytes before | bytes after | ratio | cosine mean | cosine min | MSE |"
            " RMSE | MAE | max abs | SQNR dB | latency ms |"
        )
        rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    else:
        head = (
            "| setting | param bytes | ratio | cosine mean | cosine min | RMSE | max abs |"
            " SQNR dB | latency ms |"
        )
        rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    lines = [head, rule]
    for r in reports:
        f = r.fidelity
        cells = [r.name]
        if full:
            cells.append(f"{r.bytes_before:,}")
        cells += [
            f"{r.bytes_after:,}",
            f"{r.ratio:.2f}",
            f"{f.cosine_mean:.4f}",
            f"{f.cosine_min:.4f}",
        ]
        if full:
            cells.append(f"{f.mse:.2e}")
        cells.append(f"{f.rmse:.2e}")
        if full:
            cells.append(f"{f.mae:.2e}")
        cells += [f"{f.max_abs:.2e}", f"{f.sqnr_db:.1f}", f"{r.latency_s * 1e3:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_json(reports: Sequence[Report]) -> str:
    """The reports as a JSON array."""
    return json.dumps(
        [{**asdict(r), "ratio": r.ratio} for r in reports],
        indent=1,
        default=str,
    )


def plot(reports: Sequence[Report], path: str | IO[bytes], *, format: str | None = None) -> None:
    """Save a plot of 1 - mean cosine against parameter bytes (log scale)
    to a path or a binary file (``format``: ``"png"``, ``"svg"``...; by
    default from the path's suffix, PNG for a file object)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in reports:
        y = max(1 - r.fidelity.cosine_mean, 1e-7)
        ax.scatter(r.bytes_after / 1e6, y)
        ax.annotate(r.name, (r.bytes_after / 1e6, y), fontsize=7)
    ax.set_xlabel("parameter bytes (MB)")
    ax.set_ylabel("1 - mean cosine vs float")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    if format is None and not isinstance(path, str):
        format = "png"
    fig.savefig(path, dpi=120, format=format)
    plt.close(fig)
