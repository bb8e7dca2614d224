"""Layouts and argument checks shared by the numpy and torch paths.

A tensor of shape ``d`` is quantized as ``[outer, channels, inner]``
(row-major) with one scale (and zero point) per channel:

* per tensor (``axis=None``, ``group_size=None``): ``[1, 1, numel]``;
* per channel along ``axis``: ``[prod(d[:axis]), d[axis], prod(d[axis+1:])]``;
* group-wise (``group_size=g``): groups of ``g`` consecutive elements along
  the last axis (the input features of a Linear weight, the embedding
  dimension of an Embedding): ``[1, numel // g, g]``. The last axis must be
  divisible by ``g``: scalezip raises rather than pads, so that the stored
  tensor always has the shape of the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._errors import QuantError

__all__ = ["Layout", "layout_for", "check_bits"]


@dataclass(frozen=True)
class Layout:
    """``[outer, channels, inner]``: one scale per channel."""

    outer: int
    channels: int
    inner: int


def check_bits(bits: object) -> int:
    """``bits`` as an int, which must be 4 or 8."""
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise TypeError(f"bits must be an int (4 or 8), got {type(bits).__name__}")
    if bits not in (4, 8):
        raise QuantError(f"bits must be 4 or 8, not {bits}")
    return bits


def layout_for(
    shape: tuple[int, ...], bits: int, group_size: int | None, axis: int | None
) -> Layout:
    """The layout for a tensor of ``shape`` (see the module doc)."""
    numel = math.prod(shape)
    if group_size is not None:
        if isinstance(group_size, bool) or not isinstance(group_size, int):
            raise TypeError(f"group_size must be None or an int, got {group_size!r}")
        if group_size < 1 or (bits == 4 and group_size % 2):
            raise QuantError(
                f"group_size must be a positive{' even' if bits == 4 else ''} int, got {group_size}"
            )
        last = shape[-1] if shape else 1
        if last % group_size:
            raise QuantError(
                f"the last axis ({last}) is not divisible by group_size {group_size}; "
                "scalezip does not pad: choose a group size that divides it"
            )
        return Layout(1, numel // group_size, group_size)
    if axis is None:
        if bits == 4 and numel % 2:
            raise QuantError(f"int4 needs an even number of elements, got {numel}")
        return Layout(1, 1 if numel else 0, numel)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"axis must be None or an int, got {axis!r}")
    nd = len(shape)
    if not -nd <= axis < nd:
        raise QuantError(f"axis {axis} out of range for a tensor of {nd} dimensions")
    axis %= nd
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1 :])
    if bits == 4 and (outer != 1 or inner % 2):
        raise QuantError(
            "int4 per-channel quantization needs axis 0 (contiguous rows) and an even "
            f"row length; got axis {axis} of shape {tuple(shape)} (use group_size instead)"
        )
    return Layout(outer, shape[axis], inner)
