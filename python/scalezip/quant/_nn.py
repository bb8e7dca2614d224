"""QuantLinear, QuantEmbedding and quantize_model.

Weight-only quantization: the integers, scales and zero points are
buffers (so ``state_dict``, ``load_state_dict`` and ``.to(device)`` work
as for any module), and each forward pass dequantizes the weight into the
activation dtype and runs the ordinary float op. On CPU the dequantization
is the Rust kernel (all cores, GIL released); on CUDA it is torch ops.
(``benches/gpu_check.py`` times ``torch._int_mm`` against
dequantize-then-matmul on a GPU; dequantize-then-matmul is what runs here,
because it serves int4 and grouped scales too.)

The configuration (bits, group size, symmetric, shape) travels in the
state dict as the module's extra state; loading a state dict made with
another configuration raises :class:`QuantError` (or torch's size-mismatch
error) rather than producing a wrong model.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import QuantError
from ._layout import check_bits, layout_for
from ._methods import gptq_quantize, hqq_quantize
from ._tensor import QuantizedTensor, quantize

__all__ = ["QuantLinear", "QuantEmbedding", "quantize_model", "METHODS"]

#: Accepted values of ``quantize_model(method=...)``.
METHODS = ("rtn", "hqq", "gptq")


class _QuantWeight(nn.Module):
    """Shared storage of a quantized weight as buffers plus extra state."""

    qdata: torch.Tensor
    scales: torch.Tensor
    zeros: torch.Tensor | None

    def _set(self, q: QuantizedTensor) -> None:
        self.bits = q.bits
        self.group_size = q.group_size
        self.wshape = q.shape
        self.wdtype = q.dtype
        self.symmetric = q.symmetric
        self.register_buffer("qdata", q.data)
        self.register_buffer("scales", q.scales)
        self.register_buffer("zeros", q.zeros)

    def qweight(self) -> QuantizedTensor:
        """The weight as a :class:`QuantizedTensor` (sharing the buffers)."""
        lay = layout_for(self.wshape, self.bits, self.group_size, 0)
        return QuantizedTensor(
            self.qdata,
            self.scales,
            self.zeros,
            self.wshape,
            self.wdtype,
            self.bits,
            self.group_size,
            0,
            lay,
        )

    def weight_nbytes(self) -> int:
        return self.qweight().nbytes

    def get_extra_state(self) -> dict[str, Any]:
        return {
            "bits": self.bits,
            "group_size": self.group_size,
            "shape": list(self.wshape),
            "symmetric": self.symmetric,
        }

    def set_extra_state(self, state: Any) -> None:
        mine = self.get_extra_state()
        if state != mine:
            raise QuantError(
                f"state dict was made with quantization config {state}, this module has {mine}"
            )


class QuantLinear(_QuantWeight):
    """Drop-in for :class:`torch.nn.Linear` with an int8 or int4 weight."""

    def __init__(self, q: QuantizedTensor, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        if len(q.shape) != 2:
            raise QuantError(f"QuantLinear needs a 2-D weight, got shape {q.shape}")
        self.out_features, self.in_features = q.shape
        self._set(q)
        self.bias = (
            None if bias is None else nn.Parameter(bias.detach().clone(), requires_grad=False)
        )

    @classmethod
    def from_linear(
        cls,
        linear: nn.Linear,
        bits: int = 8,
        group_size: int | None = None,
        symmetric: bool = True,
        *,
        method: str = "rtn",
        hessian: torch.Tensor | None = None,
    ) -> QuantLinear:
        w = linear.weight.detach()
        if method == "rtn":
            q = quantize(w, bits, group_size, symmetric, axis=0)
        elif method == "hqq":
            q = hqq_quantize(w, bits, group_size)
        elif method == "gptq":
            if hessian is None:
                raise QuantError("method='gptq' needs calibration inputs (the layer's Hessian)")
            q = gptq_quantize(w, hessian, bits, group_size, symmetric)
        else:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        return cls(q, linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.qweight().dequantize(x.dtype)
        b = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, w, b)

    def extra_repr(self) -> str:
        g = "" if self.group_size is None else f", group_size={self.group_size}"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bits={self.bits}{g}, symmetric={self.symmetric}"
        )


class QuantEmbedding(_QuantWeight):
    """Drop-in for :class:`torch.nn.Embedding` with an int8 or int4 table.

    Only the looked-up rows are dequantized (scales are per row or per
    group within a row), so the float table never exists in memory.
    """

    def __init__(self, q: QuantizedTensor, padding_idx: int | None = None) -> None:
        super().__init__()
        if len(q.shape) != 2:
            raise QuantError(f"QuantEmbedding needs a 2-D weight, got shape {q.shape}")
        self.num_embeddings, self.embedding_dim = q.shape
        self.padding_idx = padding_idx
        self._set(q)

    @classmethod
    def from_embedding(
        cls,
        emb: nn.Embedding,
        bits: int = 8,
        group_size: int | None = None,
        symmetric: bool = True,
        *,
        method: str = "rtn",
    ) -> QuantEmbedding:
        w = emb.weight.detach()
        if method == "hqq":
            q = hqq_quantize(w, bits, group_size)
        else:
            q = quantize(w, bits, group_size, symmetric, axis=0)
        return cls(q, emb.padding_idx)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        dim = self.embedding_dim
        per_row = self.scales.numel() // self.num_embeddings
        flat = ids.reshape(-1)
        if self.bits == 4:
            packed = self.qdata.view(self.num_embeddings, dim // 2)[flat]
            v = torch.stack((packed & 15, packed >> 4), dim=-1).reshape(-1, dim).float()
        else:
            v = self.qdata.view(self.num_embeddings, dim)[flat].float()
        v = v.view(flat.numel(), per_row, dim // per_row)
        if self.zeros is not None:
            v = v - self.zeros.view(self.num_embeddings, per_row)[flat][..., None]
        elif self.bits == 4:
            v = v - 8.0
        v = v * self.scales.float().view(self.num_embeddings, per_row)[flat][..., None]
        return v.reshape(*ids.shape, dim).to(self.wdtype)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, bits={self.bits}"


def _skipped(name: str, skip: Iterable[str]) -> bool:
    return any(name == s or name.endswith("." + s) or fnmatch.fnmatch(name, s) for s in skip)


def _run(model: nn.Module, batch: Any) -> None:
    if isinstance(batch, dict):
        model(**batch)
    elif isinstance(batch, (tuple, list)):
        model(*batch)
    else:
        model(batch)


def _hessians(
    model: nn.Module, names: list[str], calibration: Iterable[Any]
) -> dict[str, torch.Tensor]:
    """Sum of x x^T over every input row of each named Linear."""
    mods = dict(model.named_modules())
    hs: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    hooks = []

    def hook(name: str) -> Any:
        def f(_m: nn.Module, args: tuple[Any, ...]) -> None:
            x = args[0].detach().float().reshape(-1, args[0].shape[-1])
            h = x.T @ x
            hs[name] = hs[name] + h if name in hs else h
            counts[name] = counts.get(name, 0) + x.shape[0]

        return f

    for n in names:
        hooks.append(mods[n].register_forward_pre_hook(hook(n)))
    try:
        with torch.no_grad():
            seen = 0
            for batch in calibration:
                _run(model, batch)
                seen += 1
            if seen == 0:
                raise QuantError("calibration gave no inputs")
    finally:
        for hk in hooks:
            hk.remove()
    return {n: hs[n] * (2.0 / counts[n]) for n in hs}


def _sequential_gptq(
    model: nn.Module,
    targets: Sequence[tuple[str, nn.Module, str, nn.Module]],
    calibration: Iterable[Any],
    bits: int,
    group_size: int | None,
    symmetric: bool,
) -> None:
    """GPTQ layer after layer: each Linear's Hessian is measured with the
    Linears that run before it already quantized, so it corrects the error
    they made too. Each pass over the calibration data quantizes the
    first-running remaining Linear together with every remaining Linear fed
    the very same input tensor (e.g. attention's query, key and value)."""
    batches = list(calibration)
    if not batches:
        raise QuantError("calibration gave no inputs")
    remaining = {n: (p, c, m) for n, p, c, m in targets if isinstance(m, nn.Linear)}
    while remaining:
        order: list[str] = []
        inputs: dict[str, int] = {}

        def hook(name: str, order: list[str] = order, inputs: dict[str, int] = inputs) -> Any:
            def f(_m: nn.Module, args: tuple[Any, ...]) -> None:
                if name not in inputs:
                    order.append(name)
                    inputs[name] = id(args[0])

            return f

        hooks = [m.register_forward_pre_hook(hook(n)) for n, (_, _, m) in remaining.items()]
        try:
            with torch.no_grad():
                _run(model, batches[0])
        finally:
            for hk in hooks:
                hk.remove()
        if not order:  # Linears the calibration never reaches: plain GPTQ impossible
            raise QuantError(f"calibration never reaches {sorted(remaining)}")
        stage = [n for n in order if inputs[n] == inputs[order[0]]]
        hs = _hessians(model, stage, batches)
        for name in stage:
            parent, cname, mod = remaining.pop(name)
            assert isinstance(mod, nn.Linear)
            new = QuantLinear.from_linear(
                mod, bits, group_size, symmetric, method="gptq", hessian=hs[name]
            )
            setattr(parent, cname, new)


def _children(model: nn.Module) -> Iterator[tuple[str, nn.Module, str, nn.Module]]:
    for pname, parent in list(model.named_modules()):
        for cname, child in list(parent.named_children()):
            yield (f"{pname}.{cname}" if pname else cname), parent, cname, child


def quantize_model(
    model: nn.Module,
    bits: int = 8,
    group_size: int | None = None,
    symmetric: bool = True,
    method: str = "rtn",
    calibration: Iterable[Any] | None = None,
    skip: Iterable[str] = ("lm_head",),
    *,
    embeddings: bool = False,
    sequential: bool = False,
) -> nn.Module:
    """Replace every ``nn.Linear`` (and, with ``embeddings=True``, every
    ``nn.Embedding``) of ``model`` in place by its quantized twin; return
    ``model``.

    ``method``: ``"rtn"`` (round to nearest), ``"hqq"`` (calibration-free
    zero-point and scale optimisation, asymmetric) or ``"gptq"`` (needs
    ``calibration``: an iterable of model inputs, each a dict of keyword
    arguments, a tuple of positional ones, or one tensor). Embedding tables
    use RTN with ``method="rtn"`` and HQQ otherwise (GPTQ needs a matmul).
    With ``sequential=True``, GPTQ quantizes the Linears in the order
    they run, measuring each one's inputs with the ones before it already
    quantized (one pass over ``calibration`` per stage of Linears sharing an
    input; slower, and on all-MiniLM-L6-v2 no better: see docs/quant.md);
    by default all inputs come from the float model in one pass.
    ``skip``: module names (or ``fnmatch`` patterns, or name suffixes) left
    in float.
    """
    bits = check_bits(bits)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    skip = tuple(skip)
    targets = [
        (n, p, c, m)
        for n, p, c, m in _children(model)
        if not _skipped(n, skip)
        and (isinstance(m, nn.Linear) or (embeddings and isinstance(m, nn.Embedding)))
    ]
    hs: dict[str, torch.Tensor] = {}
    if method == "gptq":
        if calibration is None:
            raise QuantError("method='gptq' needs calibration inputs")
        if sequential:
            # Embedding tables first, so the Linears see their quantized output.
            for _name, parent, cname, mod in targets:
                if isinstance(mod, nn.Embedding):
                    emb = QuantEmbedding.from_embedding(mod, bits, group_size, method="hqq")
                    setattr(parent, cname, emb)
            _sequential_gptq(model, targets, calibration, bits, group_size, symmetric)
            return model
        else:
            hs = _hessians(
                model, [n for n, *_ in targets if isinstance(_[-1], nn.Linear)], calibration
            )
    for name, parent, cname, mod in targets:
        new: nn.Module
        if isinstance(mod, nn.Linear):
            new = QuantLinear.from_linear(
                mod, bits, group_size, symmetric, method=method, hessian=hs.get(name)
            )
        else:
            assert isinstance(mod, nn.Embedding)
            new = QuantEmbedding.from_embedding(
                mod, bits, group_size, symmetric, method="rtn" if method == "rtn" else "hqq"
            )
        setattr(parent, cname, new)
    return model
