"""Storage formats for pruned weights: bitmap + packed values, and CSR.

* **Bitmap**: one bit per element (1 = nonzero; bits little-endian within
  each byte, element ``i`` is bit ``i % 8`` of byte ``i // 8``, as
  ``numpy.packbits(..., bitorder="little")``), then the nonzero values in
  row-major order. Size ``ceil(n / 8) + nnz * itemsize``: at 50 % sparsity
  a float32 weight shrinks to 53 % of its size, int8 to 56 %.
* **CSR** (compressed sparse row), for comparison: row pointers (int32, or
  int64 past 2^31 nonzeros), column indices (the narrowest of uint8/
  uint16/int32 that holds the column count) and values. It beats the
  bitmap only at high sparsity.

Works on numpy arrays and CPU torch tensors (``bfloat16`` through its
int16 bits); any element type, so quantized int8 codes can be stored too.
Unpacking checks every size against the header, so a corrupted or
mismatched pair of arrays raises ``ValueError`` instead of reading out of
bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BitmapSparse", "CSRSparse", "pack", "unpack"]


def _to_numpy(x: Any) -> tuple[npt.NDArray[Any], Any]:
    """``x`` as a numpy array, and the torch dtype to restore (or None)."""
    if isinstance(x, np.ndarray):
        return x, None
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None  # type: ignore[assignment]
    if torch is not None and isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy(), torch.bfloat16
        return t.numpy(), t.dtype
    return np.asarray(x), None


def _restore(a: npt.NDArray[Any], tdtype: Any) -> Any:
    if tdtype is None:
        return a
    import torch

    t = torch.from_numpy(a)
    return t.view(torch.bfloat16) if tdtype == torch.bfloat16 else t


@dataclass(eq=False)
class BitmapSparse:
    """Bitmap of nonzeros plus the nonzero values."""

    shape: tuple[int, ...]
    bitmap: npt.NDArray[np.uint8]
    values: npt.NDArray[Any]
    torch_dtype: Any = None

    @property
    def nbytes(self) -> int:
        return int(self.bitmap.nbytes + self.values.nbytes)

    def unpack(self) -> Any:
        n = math.prod(self.shape)
        if self.bitmap.size != (n + 7) // 8:
            raise ValueError(f"bitmap of {self.bitmap.size} bytes for {n} elements")
        mask = np.unpackbits(self.bitmap, count=n, bitorder="little").astype(bool)
        nnz = int(mask.sum())
        if nnz != self.values.size:
            raise ValueError(f"bitmap marks {nnz} nonzeros, {self.values.size} values given")
        out = np.zeros(n, self.values.dtype)
        out[mask] = self.values
        return _restore(out.reshape(self.shape), self.torch_dtype)


@dataclass(eq=False)
class CSRSparse:
    """Compressed sparse rows of a 2-D array."""

    shape: tuple[int, int]
    indptr: npt.NDArray[Any]
    indices: npt.NDArray[Any]
    values: npt.NDArray[Any]
    torch_dtype: Any = None

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.indices.nbytes + self.values.nbytes)

    def unpack(self) -> Any:
        rows, cols = self.shape
        p = self.indptr.astype(np.int64)
        if (
            p.size != rows + 1
            or p[0] != 0
            or np.any(np.diff(p) < 0)
            or p[-1] != self.indices.size
            or self.indices.size != self.values.size
        ):
            raise ValueError("inconsistent CSR arrays")
        if self.indices.size and int(self.indices.max()) >= cols:
            raise ValueError("CSR column index out of range")
        out = np.zeros((rows, cols), self.values.dtype)
        r = np.repeat(np.arange(rows), np.diff(p))
        out[r, self.indices.astype(np.int64)] = self.values
        return _restore(out, self.torch_dtype)


def _index_dtype(n: int) -> Any:
    if n <= 1 << 8:
        return np.uint8
    if n <= 1 << 16:
        return np.uint16
    return np.int32


def pack(x: Any, format: str = "bitmap") -> BitmapSparse | CSRSparse:
    """Store the zeros of ``x`` implicitly: ``format`` ``"bitmap"`` or
    ``"csr"`` (2-D only)."""
    a, tdtype = _to_numpy(x)
    if format == "bitmap":
        flat = np.ascontiguousarray(a).reshape(-1)
        mask = flat != 0
        bitmap = np.packbits(mask, bitorder="little")
        return BitmapSparse(tuple(a.shape), bitmap, flat[mask].copy(), tdtype)
    if format == "csr":
        if a.ndim != 2:
            raise ValueError(f"CSR needs a 2-D array, got {a.ndim}-D")
        rows, cols = a.shape
        mask = a != 0
        counts = mask.sum(axis=1)
        nnz = int(counts.sum())
        indptr = np.zeros(rows + 1, np.int64 if nnz >= 2**31 else np.int32)
        np.cumsum(counts, out=indptr[1:])
        _, c = np.nonzero(mask)
        return CSRSparse((rows, cols), indptr, c.astype(_index_dtype(cols)), a[mask].copy(), tdtype)
    raise ValueError(f"format must be 'bitmap' or 'csr', got {format!r}")


def unpack(s: BitmapSparse | CSRSparse) -> Any:
    """The dense array (or torch tensor, if a tensor was packed)."""
    return s.unpack()
