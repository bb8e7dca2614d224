"""The numpy path: the Rust kernels on any C-contiguous buffer, no torch.

The input array's memory is read in place (buffer protocol) and the
integers are written into a preallocated array, so a 4096 x 4096 float32
weight costs one pass over its 64 MiB and one 16 MiB (int8) or 8 MiB (int4)
output, on all cores, with the GIL released.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _native
from ._layout import Layout, check_bits, layout_for

__all__ = ["quantize_array", "dequantize_array", "convert_array", "kernel_isa"]

_DTYPES = {"float32": np.dtype(np.float32), "float16": np.dtype(np.float16)}


def _dtype_name(a: npt.NDArray[Any], dtype: str | None) -> str:
    if dtype is not None:
        if dtype not in ("float32", "bfloat16", "float16"):
            raise TypeError(f"unsupported dtype {dtype!r} (float32, bfloat16 or float16)")
        return dtype
    if a.dtype == np.float32:
        return "float32"
    if a.dtype == np.float16:
        return "float16"
    raise TypeError(
        f"unsupported dtype {a.dtype} (float32 or float16; pass bfloat16 bits as uint16 "
        "with dtype='bfloat16')"
    )


def _elem_size(name: str) -> int:
    return 4 if name == "float32" else 2


def quantize_array(
    a: npt.NDArray[Any],
    bits: int = 8,
    *,
    group_size: int | None = None,
    axis: int | None = 0,
    symmetric: bool = True,
    fp16_scales: bool = False,
    dtype: str | None = None,
    threads: int = 0,
    simd: bool = True,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.float32], npt.NDArray[np.float32] | None, Layout]:
    """Quantize the C-contiguous array ``a`` with the Rust kernels.

    Returns ``(q, scales, zeros, layout)``: ``q`` is int8 (symmetric int8),
    uint8 (asymmetric int8) or uint8 holding two int4 values per byte
    (element ``2i`` in the low nibble, ``2i+1`` in the high nibble; the
    nibble is the value + 8 when symmetric), flattened; ``scales`` and
    ``zeros`` (``None`` when symmetric) hold one float32 per channel or
    group. ``dtype='bfloat16'`` reads ``a`` (uint16/int16) as bfloat16 bits.
    ``simd=False`` runs the baseline build of the kernels (same result).
    """
    bits = check_bits(bits)
    name = _dtype_name(a, dtype)
    if a.itemsize != _elem_size(name):
        raise TypeError(f"array of {a.dtype} cannot hold {name} elements")
    if not a.flags.c_contiguous:
        raise ValueError("quantize_array needs a C-contiguous array (use np.ascontiguousarray)")
    layout = layout_for(tuple(a.shape), bits, group_size, axis)
    q = np.empty(
        a.size // 2 if bits == 4 else a.size, np.int8 if bits == 8 and symmetric else np.uint8
    )
    s, z = _native.quant_quantize(
        a.reshape(-1).view(np.uint8),
        name,
        layout.outer,
        layout.channels,
        layout.inner,
        bits,
        symmetric,
        q,
        fp16_scales=fp16_scales,
        threads=threads,
        simd=simd,
    )
    scales = np.frombuffer(s, np.float32).copy()
    zeros = None if symmetric else np.frombuffer(z, np.float32).copy()
    return q, scales, zeros, layout


def dequantize_array(
    q: npt.NDArray[Any],
    scales: npt.NDArray[np.float32],
    zeros: npt.NDArray[np.float32] | None,
    layout: Layout,
    bits: int,
    out: npt.NDArray[Any],
    *,
    dtype: str | None = None,
    threads: int = 0,
    simd: bool = True,
) -> npt.NDArray[Any]:
    """Dequantize into the C-contiguous array ``out`` (float32, float16, or
    uint16 with ``dtype='bfloat16'``) and return it: ``(q - zero) * scale``."""
    bits = check_bits(bits)
    name = _dtype_name(out, dtype)
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    symmetric = zeros is None
    sc = np.ascontiguousarray(scales, np.float32)
    zs = np.ascontiguousarray(zeros if zeros is not None else np.empty(0), np.float32)
    _native.quant_dequantize(
        np.ascontiguousarray(q).reshape(-1).view(np.uint8),
        sc,
        zs,
        layout.outer,
        layout.channels,
        layout.inner,
        bits,
        symmetric,
        name,
        out.reshape(-1).view(np.uint8),
        threads=threads,
        simd=simd,
    )
    return out


def convert_array(a: npt.NDArray[Any], src: str, dst: str) -> npt.NDArray[Any]:
    """Convert between float32, bfloat16 (as uint16 bits) and float16,
    rounding to nearest even exactly as torch does."""
    n = a.nbytes // _elem_size(src)
    out = np.empty(
        n, np.float32 if dst == "float32" else np.float16 if dst == "float16" else np.uint16
    )
    _native.quant_convert(
        np.ascontiguousarray(a).reshape(-1).view(np.uint8), src, out.view(np.uint8), dst
    )
    return out


def kernel_isa() -> str:
    """The build of the kernels in use here: ``"avx2"`` or ``"generic"``."""
    return _native.quant_simd_isa()
