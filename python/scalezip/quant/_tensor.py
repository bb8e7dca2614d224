"""QuantizedTensor and the device-agnostic quantize / dequantize.

Two paths compute the same thing (the arithmetic contract in
``rust/core/src/quant/mod.rs``, step by step in float32):

* CPU tensors go through the Rust kernels, reading the tensor's own memory
  (``tensor.numpy()`` shares it; bfloat16 is viewed as int16 bits);
* any other device (CUDA) goes through plain torch ops.

``backend="torch"`` forces the torch ops on CPU too, which is how the tests
prove that the two paths give identical integers and scales.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._errors import QuantError
from ._array import dequantize_array, quantize_array
from ._layout import Layout, check_bits, layout_for

__all__ = ["QuantizedTensor", "quantize", "dequantize", "pack_int4", "unpack_int4"]

_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}
_FLT_MIN = float(np.finfo(np.float32).tiny)


def _check_dtype(dtype: torch.dtype) -> str:
    try:
        return _NAMES[dtype]
    except KeyError:
        raise TypeError(
            f"unsupported dtype {dtype} (float32, bfloat16 or float16 tensors only)"
        ) from None


def _np_view(t: torch.Tensor) -> np.ndarray[Any, Any]:
    """A numpy array sharing ``t``'s CPU memory (bfloat16 as int16 bits)."""
    t = t.detach()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy()


def pack_int4(nibbles: torch.Tensor) -> torch.Tensor:
    """Pack uint8 values 0..15 two per byte: element ``2i`` in the low
    nibble, ``2i+1`` in the high nibble (the Rust kernels' order)."""
    n = nibbles.reshape(-1, 2).to(torch.uint8)
    return n[:, 0] | (n[:, 1] << 4)


def unpack_int4(packed: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`pack_int4`: uint8 values 0..15, twice as many."""
    p = packed.reshape(-1)
    return torch.stack((p & 15, p >> 4), dim=1).reshape(-1)


def _params_torch(
    x3: torch.Tensor, bits: int, symmetric: bool, fp16_scales: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float, float]:
    """Scales, 1/scales, zeros, lo, hi of ``x3`` ([outer, channels, inner],
    float32), exactly as the Rust kernels compute them."""
    qmax, levels = (7.0, 15.0) if bits == 4 else (127.0, 255.0)
    mn = x3.amin(dim=(0, 2))
    mx = x3.amax(dim=(0, 2))
    # Divide by a tensor, not a Python number: on CUDA, torch turns division
    # by a scalar into multiplication by its reciprocal, which is one ulp off
    # the Rust kernels' (and the CPU's) correctly rounded quotient for some
    # inputs (found by benches/gpu_check.py on an H200).
    if symmetric:
        amax = torch.maximum(-mn, mx)
        scale = torch.div(amax, torch.full_like(amax, qmax))
    else:
        mn0 = torch.clamp(mn, max=0.0)
        rng = torch.clamp(mx, min=0.0) - mn0
        scale = torch.div(rng, torch.full_like(rng, levels))
    if fp16_scales:
        scale = scale.half().float()
    if bool(torch.isinf(scale).any()):
        c = int(torch.isinf(scale).nonzero()[0, 0])
        raise QuantError(f"scale of channel/group {c} overflows the scale type")
    scale = torch.where(scale < _FLT_MIN, torch.ones_like(scale), scale)
    inv = torch.div(torch.ones_like(scale), scale)
    if symmetric:
        z = 8.0 if bits == 4 else 0.0
        zero = torch.full_like(scale, z)
        return scale, inv, zero, z - qmax, z + qmax
    # + 0.0: -0.0 (an all-zero or all-positive run) becomes +0.0, as in Rust;
    # CUDA's clamp already gives +0.0, the CPU's keeps -0.0.
    zero = torch.clamp(-torch.round(mn0 * inv), 0.0, levels) + 0.0
    return scale, inv, zero, 0.0, levels


def _codes_torch(
    x3: torch.Tensor, inv: torch.Tensor, zero: torch.Tensor, lo: float, hi: float
) -> torch.Tensor:
    v = torch.round(x3 * inv[None, :, None]) + zero[None, :, None]
    return torch.clamp(v, lo, hi)


@dataclass(eq=False)
class QuantizedTensor:
    """A quantized tensor: integers, float32 scales and (asymmetric) zero
    points, and what is needed to restore the original shape and dtype.

    ``data`` is int8 (symmetric int8), uint8 (asymmetric int8) or uint8 with
    two int4 values per byte (see :func:`pack_int4`), flattened. ``scales``
    and ``zeros`` have one entry per channel or group (see ``_layout``).
    Dequantization is ``(q - zero) * scale`` (for symmetric int4 the zero is
    8, for symmetric int8 it is 0).
    """

    data: torch.Tensor
    scales: torch.Tensor
    zeros: torch.Tensor | None
    shape: tuple[int, ...]
    dtype: torch.dtype
    bits: int
    group_size: int | None = None
    axis: int | None = 0
    layout: Layout = field(default=Layout(1, 1, 1))

    @property
    def symmetric(self) -> bool:
        return self.zeros is None

    @property
    def device(self) -> torch.device:
        return self.data.device

    @property
    def nbytes(self) -> int:
        """Bytes of integers, scales and zero points."""
        n = self.data.numel() * self.data.element_size()
        n += self.scales.numel() * self.scales.element_size()
        if self.zeros is not None:
            n += self.zeros.numel() * self.zeros.element_size()
        return n

    def to(self, device: torch.device | str) -> QuantizedTensor:
        """A copy on ``device`` (integers stay integers)."""
        return QuantizedTensor(
            self.data.to(device),
            self.scales.to(device),
            None if self.zeros is None else self.zeros.to(device),
            self.shape,
            self.dtype,
            self.bits,
            self.group_size,
            self.axis,
            self.layout,
        )

    def int_values(self) -> torch.Tensor:
        """The integers, one per element, as int16, in stored units (int4:
        the nibble 0..15)."""
        if self.bits == 4:
            return unpack_int4(self.data).to(torch.int16)
        return self.data.to(torch.int16)

    def dequantize(
        self, dtype: torch.dtype | None = None, *, backend: str = "auto"
    ) -> torch.Tensor:
        """The float tensor ``(q - zero) * scale`` in ``dtype`` (default:
        the original dtype), on this tensor's device."""
        dtype = self.dtype if dtype is None else dtype
        name = _check_dtype(dtype)
        lay = self.layout
        if self.device.type == "cpu" and backend != "torch":
            out = torch.empty(self.shape, dtype=dtype)
            dequantize_array(
                _np_view(self.data),
                _np_view(self.scales.float()),
                None if self.zeros is None else _np_view(self.zeros.float()),
                lay,
                self.bits,
                _np_view(out),
                dtype=name,
            )
            return out
        v = self.int_values().float().reshape(lay.outer, lay.channels, lay.inner)
        if self.zeros is not None:
            v = v - self.zeros.float()[None, :, None]
        elif self.bits == 4:
            v = v - 8.0
        v = v * self.scales.float()[None, :, None]
        return v.reshape(self.shape).to(dtype)

    def state_dict(self, prefix: str = "") -> dict[str, Any]:
        """Tensors and config, for :meth:`from_state_dict` (and torch.save)."""
        d: dict[str, Any] = {
            prefix + "qdata": self.data,
            prefix + "scales": self.scales,
            prefix + "qconfig": {
                "bits": self.bits,
                "group_size": self.group_size,
                "axis": self.axis,
                "shape": list(self.shape),
                "dtype": _NAMES[self.dtype],
                "symmetric": self.symmetric,
            },
        }
        if self.zeros is not None:
            d[prefix + "zeros"] = self.zeros
        return d

    @classmethod
    def from_state_dict(cls, d: dict[str, Any], prefix: str = "") -> QuantizedTensor:
        """Rebuild from :meth:`state_dict`, checking every size."""
        try:
            cfg = d[prefix + "qconfig"]
            data = d[prefix + "qdata"]
            scales = d[prefix + "scales"]
        except KeyError as e:
            raise QuantError(f"not a QuantizedTensor state dict: missing {e}") from None
        zeros = d.get(prefix + "zeros")
        dtype = {v: k for k, v in _NAMES.items()}[cfg["dtype"]]
        bits = check_bits(cfg["bits"])
        shape = tuple(int(s) for s in cfg["shape"])
        lay = layout_for(shape, bits, cfg["group_size"], cfg["axis"])
        numel = lay.outer * lay.channels * lay.inner
        want = numel // 2 if bits == 4 else numel
        if data.numel() != want or scales.numel() != lay.channels:
            raise QuantError(
                f"state dict does not match its config: {data.numel()} bytes of data and "
                f"{scales.numel()} scales for {bits}-bit {shape} (expected {want} and "
                f"{lay.channels})"
            )
        if cfg["symmetric"] != (zeros is None) or (
            zeros is not None and zeros.numel() != lay.channels
        ):
            raise QuantError("state dict zero points do not match its config")
        return cls(data, scales, zeros, shape, dtype, bits, cfg["group_size"], cfg["axis"], lay)


def quantize(
    tensor: torch.Tensor,
    bits: int = 8,
    group_size: int | None = None,
    symmetric: bool = True,
    axis: int | None = 0,
    *,
    fp16_scales: bool = False,
    backend: str = "auto",
) -> QuantizedTensor:
    """Round-to-nearest quantization of ``tensor`` to int8 or int4.

    ``group_size=None`` gives one scale per slice along ``axis`` (per
    channel; ``axis=None``: per tensor); an int gives groups of that many
    elements along the last axis. ``symmetric=False`` adds a zero point
    (min/max). ``fp16_scales`` rounds scales to float16 (stored as float16).
    ``backend``: ``"auto"`` (Rust on CPU, torch ops elsewhere) or
    ``"torch"`` (torch ops everywhere; identical results).

    Raises :class:`~scalezip.quant.QuantError` for NaN/infinity, bits other
    than 4/8 and a last axis not divisible by ``group_size``; ``TypeError``
    for dtypes other than float32/bfloat16/float16.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"quantize needs a torch.Tensor, got {type(tensor).__name__}")
    if backend not in ("auto", "torch"):
        raise ValueError(f"backend must be 'auto' or 'torch', got {backend!r}")
    bits = check_bits(bits)
    name = _check_dtype(tensor.dtype)
    shape = tuple(tensor.shape)
    lay = layout_for(shape, bits, group_size, axis)
    if tensor.device.type == "cpu" and backend == "auto":
        t = tensor.detach().contiguous()
        q, s, z, _ = quantize_array(
            _np_view(t),
            bits,
            group_size=group_size,
            axis=axis,
            symmetric=symmetric,
            fp16_scales=fp16_scales,
            dtype=name,
        )
        data = torch.from_numpy(q)
        scales = torch.from_numpy(s)
        zeros = None if z is None else torch.from_numpy(z)
    else:
        x3 = tensor.detach().float().reshape(lay.outer, lay.channels, lay.inner)
        finite = torch.isfinite(x3).all(dim=0).all(dim=1)
        if not bool(finite.all()):
            c = int((~finite).nonzero()[0, 0])
            raise QuantError(f"NaN or infinity in the input (channel/group {c})")
        scales, inv, zero, lo, hi = _params_torch(x3, bits, symmetric, fp16_scales)
        v = _codes_torch(x3, inv, zero, lo, hi).reshape(-1)
        if bits == 4:
            data = pack_int4(v.to(torch.uint8))
        elif symmetric:
            data = v.to(torch.int8)
        else:
            data = v.to(torch.uint8)
        zeros = None if symmetric else zero
    if fp16_scales:
        scales = scales.half()
    return QuantizedTensor(data, scales, zeros, shape, tensor.dtype, bits, group_size, axis, lay)


def dequantize(q: QuantizedTensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``q.dequantize(dtype)``."""
    return q.dequantize(dtype)
