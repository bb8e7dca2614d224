"""Pruned and quantized checkpoints through the lossless tensor container.

:func:`save_checkpoint` writes a model's state dict (quantized codes,
scales, zero points, float tensors) with every tensor that is at least
``sparse_threshold`` zeros stored as bitmap + values (:mod:`scalezip.sparse`),
through ``scalezip.safetensors.save_file`` (the losslessly compressed
``.szt`` container), with the quantization configs (the modules' extra
state) and the sparse layouts in the metadata. :func:`load_checkpoint`
reverses it into a model of the same architecture (quantize it with the
same arguments first). Both accept another ``writer``/``reader`` with the
safetensors API (e.g. the ``safetensors`` package's, for a plain file).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .. import sparse
from .._errors import QuantError

__all__ = ["save_checkpoint", "load_checkpoint"]

Writer = Callable[[dict[str, torch.Tensor], str, dict[str, str]], None]
Reader = Callable[[str], tuple[dict[str, torch.Tensor], dict[str, str]]]

_DT = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}


def _container() -> Any:
    try:
        from .. import safetensors as szst  # type: ignore[attr-defined, unused-ignore]
    except ImportError as e:
        raise ImportError(
            "scalezip.safetensors (the lossless tensor container) is not available in this "
            "build; pass writer=/reader= with the safetensors API instead"
        ) from e
    return szst


def _default_writer(tensors: dict[str, torch.Tensor], path: str, md: dict[str, str]) -> None:
    _container().save_file(tensors, path, md)


def _default_reader(path: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    szst = _container()
    tensors = szst.load_file(path, framework="pt")
    with szst.safe_open(path, framework="pt") as f:
        md = f.metadata() or {}
    return tensors, md


def save_checkpoint(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    sparse_threshold: float = 0.3,
    writer: Writer | None = None,
) -> dict[str, int]:
    """Save ``model``'s state dict; returns ``{"tensors": n, "sparse": k}``."""
    tensors: dict[str, torch.Tensor] = {}
    extra: dict[str, Any] = {}
    layouts: dict[str, Any] = {}
    for name, v in model.state_dict().items():
        if not isinstance(v, torch.Tensor):
            extra[name] = v
            continue
        t = v.detach().cpu().contiguous()
        if (
            t.numel()
            and t.dtype != torch.bool
            and float((t == 0).float().mean()) >= sparse_threshold
        ):
            s = sparse.pack(t)
            assert isinstance(s, sparse.BitmapSparse)
            tensors[name + ".__bitmap"] = torch.from_numpy(s.bitmap)
            vals = torch.from_numpy(s.values)
            tensors[name + ".__values"] = vals.view(t.dtype) if t.dtype == torch.bfloat16 else vals
            layouts[name] = {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
        else:
            tensors[name] = t.clone()
    md = {"scalezip.extra_state": json.dumps(extra), "scalezip.sparse": json.dumps(layouts)}
    (writer or _default_writer)(tensors, os.fspath(path), md)
    return {"tensors": len(tensors), "sparse": len(layouts)}


def load_checkpoint(
    model: nn.Module, path: str | os.PathLike[str], *, reader: Reader | None = None
) -> nn.Module:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model``
    (strict: every key must match)."""
    tensors, md = (reader or _default_reader)(os.fspath(path))
    try:
        extra = json.loads(md["scalezip.extra_state"])
        layouts = json.loads(md["scalezip.sparse"])
    except (KeyError, ValueError) as e:
        raise QuantError(f"not a scalezip checkpoint: {e}") from None
    state: dict[str, Any] = dict(extra)
    for name, lay in layouts.items():
        dtype = _DT.get(lay["dtype"])
        if dtype is None:
            raise QuantError(f"unsupported dtype {lay['dtype']!r} in checkpoint")
        bitmap = tensors.pop(name + ".__bitmap")
        values = tensors.pop(name + ".__values")
        vals = values.view(torch.int16) if dtype == torch.bfloat16 else values
        s = sparse.BitmapSparse(
            tuple(lay["shape"]),
            bitmap.numpy(),
            vals.numpy(),
            torch.bfloat16 if dtype == torch.bfloat16 else dtype,
        )
        state[name] = s.unpack()
    state.update(tensors)
    model.load_state_dict(state)
    return model
