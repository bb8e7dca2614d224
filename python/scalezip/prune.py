"""Pruning of torch models: magnitude, 2:4 semi-structured, and Wanda.

Every function zeroes weights in place and returns the boolean masks it
applied (``True`` = kept), keyed by module name, so they can be reused
(re-applied after an update, stored with :mod:`scalezip.sparse`).

* :func:`magnitude_prune`: drop the smallest ``|W|``, per layer (each
  layer reaches the target exactly: ``round(sparsity * numel)`` zeros) or
  globally (one threshold over all selected layers, same exact count over
  all of them).
* :func:`semi_structured_prune`: N:M (2:4 by default): in every run of M
  consecutive weights along the input dimension keep the N with the
  largest score; the pattern sparse tensor cores accelerate.
* :func:`wanda_prune`: Wanda (Sun et al. 2023), activation-aware without
  retraining: score ``|W_ij| * ||X_j||_2`` where ``||X_j||`` is the norm of
  input feature ``j`` over calibration tokens, compared within each output
  row; unstructured (exact count per layer) or N:M.

Pruning without fine-tuning costs accuracy (on MiniLM 50 % magnitude
pruning is far worse than Wanda; see the README for measured figures).
:func:`sparsity_report` lists zeros per layer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = [
    "magnitude_prune",
    "semi_structured_prune",
    "wanda_prune",
    "apply_masks",
    "activation_norms",
    "sparsity_report",
    "LayerSparsity",
]


def _layers(model: nn.Module, skip: Iterable[str]) -> list[tuple[str, nn.Linear]]:
    skip = tuple(skip)
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear) and not any(
            name == s or name.endswith("." + s) or fnmatch.fnmatch(name, s) for s in skip
        ):
            out.append((name, m))
    return out


def _check_sparsity(sparsity: float) -> float:
    if not isinstance(sparsity, (int, float)) or isinstance(sparsity, bool):
        raise TypeError(f"sparsity must be a number, got {type(sparsity).__name__}")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    return float(sparsity)


def _mask_smallest(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Mask keeping all but exactly the ``k`` smallest scores (ties broken by
    position, stably)."""
    flat = scores.reshape(-1)
    mask = torch.ones(flat.numel(), dtype=torch.bool, device=scores.device)
    if k > 0:
        idx = torch.argsort(flat, stable=True)[:k]
        mask[idx] = False
    return mask.reshape(scores.shape)


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Zero the weights of the named Linear layers where ``masks`` is False."""
    mods = dict(model.named_modules())
    with torch.no_grad():
        for name, m in masks.items():
            w = mods[name].weight
            if w.shape != m.shape:
                raise ValueError(
                    f"mask for {name} has shape {tuple(m.shape)}, weight {tuple(w.shape)}"
                )
            w.mul_(m.to(w.dtype))


def magnitude_prune(
    model: nn.Module,
    sparsity: float,
    *,
    scope: str = "layer",
    skip: Iterable[str] = ("lm_head",),
) -> dict[str, torch.Tensor]:
    """Zero the ``sparsity`` fraction of smallest-magnitude Linear weights,
    per layer (``scope="layer"``) or over all layers (``"global"``)."""
    s = _check_sparsity(sparsity)
    layers = _layers(model, skip)
    masks: dict[str, torch.Tensor] = {}
    if scope == "layer":
        for name, m in layers:
            w = m.weight.detach()
            masks[name] = _mask_smallest(w.abs().float(), round(s * w.numel()))
    elif scope == "global":
        scores = torch.cat([m.weight.detach().abs().float().reshape(-1) for _, m in layers])
        flat = _mask_smallest(scores, round(s * scores.numel()))
        pos = 0
        for name, m in layers:
            n = m.weight.numel()
            masks[name] = flat[pos : pos + n].reshape(m.weight.shape)
            pos += n
    else:
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    apply_masks(model, masks)
    return masks


def _nm_mask(scores: torch.Tensor, n: int, m: int) -> torch.Tensor:
    rows, cols = scores.shape
    if cols % m:
        raise ValueError(f"{cols} input features are not divisible by M={m}")
    g = scores.reshape(rows, cols // m, m)
    # A stable sort, not topk: equal scores (zeros of an already pruned
    # weight) are kept by position, the same on every device (topk's choice
    # among ties differs between CPU and CUDA).
    keep = torch.argsort(g, dim=-1, descending=True, stable=True)[..., :n]
    mask = torch.zeros_like(g, dtype=torch.bool)
    mask.scatter_(-1, keep, True)
    return mask.reshape(rows, cols)


def _check_nm(n: int, m: int) -> None:
    if not (isinstance(n, int) and isinstance(m, int) and 0 < n <= m):
        raise ValueError(f"need 0 < N <= M, got N={n}, M={m}")


def semi_structured_prune(
    model: nn.Module, n: int = 2, m: int = 4, *, skip: Iterable[str] = ("lm_head",)
) -> dict[str, torch.Tensor]:
    """N:M magnitude pruning: keep the N largest ``|W|`` of every M
    consecutive weights along the input dimension."""
    _check_nm(n, m)
    masks = {
        name: _nm_mask(mod.weight.detach().abs().float(), n, m)
        for name, mod in _layers(model, skip)
    }
    apply_masks(model, masks)
    return masks


def _run(model: nn.Module, batch: Any) -> None:
    if isinstance(batch, dict):
        model(**batch)
    elif isinstance(batch, (tuple, list)):
        model(*batch)
    else:
        model(batch)


def activation_norms(
    model: nn.Module, calibration: Iterable[Any], *, skip: Iterable[str] = ("lm_head",)
) -> dict[str, torch.Tensor]:
    """L2 norm of each input feature of every Linear layer over all
    calibration tokens (each batch: dict of kwargs, tuple of args, or a
    tensor)."""
    layers = _layers(model, skip)
    sq: dict[str, torch.Tensor] = {}
    hooks = []

    def hook(name: str) -> Any:
        def f(_m: nn.Module, args: tuple[Any, ...]) -> None:
            x = args[0].detach().float().reshape(-1, args[0].shape[-1])
            s = (x * x).sum(dim=0)
            sq[name] = sq[name] + s if name in sq else s

        return f

    for name, mod in layers:
        hooks.append(mod.register_forward_pre_hook(hook(name)))
    try:
        with torch.no_grad():
            for batch in calibration:
                _run(model, batch)
    finally:
        for h in hooks:
            h.remove()
    if not sq:
        raise ValueError("calibration gave no inputs")
    return {k: v.sqrt() for k, v in sq.items()}


def wanda_prune(
    model: nn.Module,
    sparsity: float | str,
    calibration: Iterable[Any],
    *,
    skip: Iterable[str] = ("lm_head",),
) -> dict[str, torch.Tensor]:
    """Wanda: prune by ``|W| * ||X_j||``, per output row; ``sparsity`` a
    fraction (exactly ``round(sparsity * numel)`` zeros per layer) or an
    ``"N:M"`` string."""
    norms = activation_norms(model, calibration, skip=skip)
    nm = None
    if isinstance(sparsity, str):
        try:
            a, b = (int(v) for v in sparsity.split(":"))
        except ValueError:
            raise ValueError(f"sparsity string must look like '2:4', got {sparsity!r}") from None
        _check_nm(a, b)
        nm = (a, b)
    else:
        s = _check_sparsity(sparsity)
    masks: dict[str, torch.Tensor] = {}
    for name, mod in _layers(model, skip):
        w = mod.weight.detach().float()
        score = w.abs() * norms[name].to(w.device)[None, :]
        if nm is not None:
            masks[name] = _nm_mask(score, *nm)
            continue
        rows, cols = w.shape
        total = round(s * w.numel())
        per_row = torch.full((rows,), total // rows, dtype=torch.long)
        per_row[: total % rows] += 1
        order = torch.argsort(score, dim=1, stable=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(cols, device=w.device).expand(rows, cols).contiguous())
        masks[name] = rank >= per_row.to(w.device)[:, None]
    apply_masks(model, masks)
    return masks


@dataclass(frozen=True)
class LayerSparsity:
    """Zeros in one weight."""

    name: str
    numel: int
    zeros: int

    @property
    def sparsity(self) -> float:
        return self.zeros / self.numel if self.numel else 0.0


def sparsity_report(model: nn.Module, *, all_parameters: bool = False) -> list[LayerSparsity]:
    """Zeros per Linear weight (or per parameter with ``all_parameters``),
    followed by a ``"total"`` row."""
    rows = []
    items: list[tuple[str, torch.Tensor]]
    if all_parameters:
        items = [(n, p) for n, p in model.named_parameters()]
    else:
        items = [(n + ".weight", m.weight) for n, m in _layers(model, ())]
    for name, p in items:
        rows.append(LayerSparsity(name, p.numel(), int((p.detach() == 0).sum())))
    rows.append(LayerSparsity("total", sum(r.numel for r in rows), sum(r.zeros for r in rows)))
    return rows
