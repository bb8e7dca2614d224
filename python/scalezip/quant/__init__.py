"""Weight quantization (int8 / int4) for numpy arrays and torch models.

* :func:`quantize` / :func:`dequantize` / :class:`QuantizedTensor`: one
  tensor, per tensor, per channel (any axis) or group-wise along the last
  axis, symmetric (absmax) or asymmetric (min/max with a zero point),
  round to nearest even; CPU tensors through the Rust kernels (zero copy,
  all cores, GIL released), CUDA tensors through torch ops, with identical
  results.
* :class:`QuantLinear` / :class:`QuantEmbedding` / :func:`quantize_model`:
  weight-only quantized modules, in place, with ``method="rtn"``,
  ``"hqq"`` or ``"gptq"``.
* :func:`quantize_array` / :func:`dequantize_array`: the kernels on numpy
  arrays.

The integer format, nibble order and arithmetic are described in
``docs/quant.md``. Needs torch (``pip install scalezip[torch]``).
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without torch
    raise ImportError("scalezip.quant needs torch: pip install 'scalezip[torch]'") from e

from .._errors import QuantError
from ._array import convert_array, dequantize_array, kernel_isa, quantize_array
from ._checkpoint import load_checkpoint, save_checkpoint
from ._layout import Layout
from ._methods import gptq_quantize, hqq_quantize
from ._nn import METHODS, QuantEmbedding, QuantLinear, quantize_model
from ._tensor import QuantizedTensor, dequantize, pack_int4, quantize, unpack_int4

__all__ = [
    "METHODS",
    "Layout",
    "QuantError",
    "QuantEmbedding",
    "QuantLinear",
    "QuantizedTensor",
    "convert_array",
    "dequantize",
    "dequantize_array",
    "gptq_quantize",
    "hqq_quantize",
    "kernel_isa",
    "load_checkpoint",
    "pack_int4",
    "quantize",
    "quantize_array",
    "quantize_model",
    "save_checkpoint",
    "unpack_int4",
]
