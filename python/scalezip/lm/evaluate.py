"""Cross-entropy of data under a byte model, in bits per byte, without coding.

This is the length the model's ideal entropy coder would produce, so it is
the number to compare with a compressor's output size (the online coder of
:mod:`scalezip.lm.coding` gets within a fraction of a percent of it, for the
model as it learns).

How the bytes are scored: the data is cut into windows of ``context`` bytes;
the model sees window ``data[a : a + context]`` and is charged for
predicting ``data[a + 1 : a + context + 1]``. With ``stride == context``
(the default) the windows do not overlap and each byte is predicted from the
bytes before it in its window; a smaller stride overlaps the windows, scores
only each window's last ``stride`` targets, and so gives every byte at least
``context - stride`` bytes of history, at ``context / stride`` times the
cost. The first byte of the data has no history and is charged 8 bits. The
model must be causal (position t's logits may depend only on inputs 0..t);
windows shorter than ``context`` at the end are right-padded, which a causal
model cannot see.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["bits_per_byte"]

LogitsFn = Callable[[Tensor], Tensor]


def _windows(n: int, context: int, stride: int) -> list[tuple[int, int]]:
    """(start, first scored target offset) of each window over n bytes."""
    out = [(0, 0)]
    a = stride
    while a + context - stride < n - 1:
        out.append((a, context - stride))
        a += stride
    return out


def bits_per_byte(
    model: LogitsFn,
    data: Any,
    *,
    context: int | None = None,
    stride: int | None = None,
    batch_size: int = 32,
    device: str | torch.device | None = None,
) -> float:
    """Cross-entropy of ``data`` under ``model``, in bits per byte.

    ``model`` is any callable (a ``torch.nn.Module`` or a function) that
    maps a (batch, time) int64 tensor of byte values 0..255 to (batch, time,
    256) logits, position t predicting byte t + 1; it must be causal. A
    module is put in eval mode for the call (and restored) and run without
    gradients. ``data`` is any bytes-like object (at least one byte).

    ``context`` is the window length (default: the model's ``spec.context``
    for scalezip's own models, else 256); ``stride`` the distance between
    windows (default ``context``: no overlap); see the module docstring for
    exactly which byte is predicted from what. ``device`` defaults to the
    device of the module's first parameter, else the CPU.
    """
    buf = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    n = buf.size
    if n == 0:
        raise ValueError("bits_per_byte needs at least one byte of data")
    if context is None:
        spec = getattr(model, "spec", None)
        context = int(getattr(spec, "context", 256))
    stride = context if stride is None else stride
    if context < 1 or not 1 <= stride <= context:
        raise ValueError(f"need context >= 1 and 1 <= stride <= context, got {context}, {stride}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if device is None:
        first = next(model.parameters(), None) if isinstance(model, nn.Module) else None
        device = first.device if first is not None else torch.device("cpu")
    if n == 1:
        return 8.0
    tokens = torch.from_numpy(buf.astype(np.int64))
    windows = _windows(n, context, stride)
    was_training = isinstance(model, nn.Module) and model.training
    if isinstance(model, nn.Module):
        model.eval()
    nats = 0.0
    try:
        with torch.no_grad():
            for i in range(0, len(windows), batch_size):
                group = windows[i : i + batch_size]
                x = torch.zeros(len(group), context, dtype=torch.int64)
                y = torch.full((len(group), context), -100, dtype=torch.int64)
                for r, (a, skip) in enumerate(group):
                    m = min(context, n - 1 - a)
                    x[r, :m] = tokens[a : a + m]
                    y[r, skip:m] = tokens[a + 1 + skip : a + 1 + m]
                logits = model(x.to(device))
                if tuple(logits.shape) != (len(group), context, 256):
                    raise ValueError(
                        f"model returned logits of shape {tuple(logits.shape)}, "
                        f"expected {(len(group), context, 256)}"
                    )
                loss = F.cross_entropy(
                    logits.reshape(-1, 256).double(), y.to(device).reshape(-1), reduction="sum"
                )
                nats += float(loss)
    finally:
        if was_training and isinstance(model, nn.Module):
            model.train()
    return (8.0 + nats / math.log(2)) / n
