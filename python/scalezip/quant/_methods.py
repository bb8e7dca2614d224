"""Better-than-round-to-nearest int4/int8: HQQ and GPTQ, in torch.

Both produce ordinary asymmetric (or symmetric) group-wise codes with
float32 scales and zero points, so their output is a plain
:class:`QuantizedTensor` that the Rust kernels dequantize like any other.

* **HQQ** (half-quadratic quantization, Badri & Shaji 2023), calibration
  free: starting from min/max, alternately round the weights and move the
  (float) zero point to minimise a sparsity-promoting l_p (p = 0.7) norm of
  the rounding error, solved by a proximal (shrinkage) step. Defaults are
  HQQ's: p 0.7, beta 10 growing by 1.01 per step, up to 20 steps, stopping
  when the mean absolute error stops falling. Then scale and zero point
  are refined together: alternately round, and refit scale and offset of
  each group by least squares on its fixed codes (never raising a group's
  squared error).
* **GPTQ** (Frantar et al. 2022), with calibration inputs: quantize the
  weight one input column at a time and spread each column's rounding
  error over the columns not yet quantized, weighted by the inverse of the
  Hessian ``H = 2 X^T X`` of the layer's inputs (dampened by 10 % of its
  mean diagonal: see ``damp``). Group scales and zero points are taken from the already
  error-corrected weights when each group starts, as in the reference code;
  with act order (the default) they are fixed beforehand ("static groups")
  by HQQ's range search and scale refit.
"""

from __future__ import annotations

import torch

from .._errors import QuantError
from ._layout import layout_for
from ._tensor import QuantizedTensor, _params_torch, pack_int4

__all__ = ["hqq_quantize", "gptq_quantize"]


def _from_codes(
    codes: torch.Tensor,
    scales: torch.Tensor,
    zeros: torch.Tensor | None,
    weight: torch.Tensor,
    bits: int,
    group_size: int | None,
) -> QuantizedTensor:
    shape = tuple(weight.shape)
    lay = layout_for(shape, bits, group_size, 0)
    v = codes.reshape(-1)
    if bits == 4:
        data = pack_int4(v.to(torch.uint8))
    elif zeros is None:
        data = v.to(torch.int8)
    else:
        data = v.to(torch.uint8)
    return QuantizedTensor(
        data.contiguous(),
        scales.float().reshape(-1).contiguous(),
        None if zeros is None else zeros.float().reshape(-1).contiguous(),
        shape,
        weight.dtype,
        bits,
        group_size,
        0,
        lay,
    )


def _check_finite(w: torch.Tensor) -> None:
    if not bool(torch.isfinite(w).all()):
        raise QuantError("NaN or infinity in the weight")


def _minmax_params(
    w: torch.Tensor, bits: int, ratio: float | torch.Tensor = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Asymmetric (inv_scale, float zero) of each row of ``w`` from its
    min/max range shrunk by ``ratio`` (HQQ's parametrisation:
    ``q = round(w * inv + zero)``)."""
    levels = 15.0 if bits == 4 else 255.0
    mn = w.amin(dim=1, keepdim=True) * ratio
    mx = w.amax(dim=1, keepdim=True) * ratio
    rng = torch.clamp(mx - mn, min=1e-8)
    inv = levels / rng
    return inv, -mn * inv


def _range_search(
    w: torch.Tensor, bits: int, grid: int = 20, min_ratio: float = 0.7, p: float = 2.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the shrink of the min/max range (from ``grid`` ratios down
    to ``min_ratio``) with the smallest l_p rounding error."""
    levels = 15.0 if bits == 4 else 255.0
    best_err = torch.full((w.shape[0], 1), float("inf"), device=w.device)
    best_inv, best_zero = _minmax_params(w, bits)
    for r in torch.linspace(1.0, min_ratio, grid).tolist():
        inv, zero = _minmax_params(w, bits, r)
        q = torch.clamp(torch.round(w * inv + zero), 0.0, levels)
        err = ((q - zero) / inv - w).abs().pow(p).sum(dim=1, keepdim=True)
        better = err < best_err
        best_err = torch.where(better, err, best_err)
        best_inv = torch.where(better, inv, best_inv)
        best_zero = torch.where(better, zero, best_zero)
    return best_inv, best_zero


def _sq_err(w: torch.Tensor, inv: torch.Tensor, zero: torch.Tensor, levels: float) -> torch.Tensor:
    q = torch.clamp(torch.round(w * inv + zero), 0.0, levels)
    return ((q - zero) / inv - w).pow(2).sum(dim=1, keepdim=True)


def _hqq_zero(
    w: torch.Tensor,
    inv: torch.Tensor,
    zero: torch.Tensor,
    levels: float,
    iters: int,
    lp_norm: float,
    beta: float,
    kappa: float,
) -> torch.Tensor:
    """HQQ's proximal optimisation of the (float) zero points."""

    def shrink(x: torch.Tensor, b: float) -> torch.Tensor:
        a = torch.abs(x)
        return torch.sign(x) * torch.relu(a - (1.0 / b) * torch.pow(a + 1e-12, lp_norm - 1))

    best = torch.full_like(zero, float("inf"))
    best_zero = zero.clone()
    for _ in range(iters):
        wq = torch.clamp(torch.round(w * inv + zero), 0.0, levels)
        wr = (wq - zero) / inv
        err = (w - wr).abs().mean(dim=1, keepdim=True)
        better = err < best
        best = torch.where(better, err, best)
        best_zero = torch.where(better, zero, best_zero)
        we = shrink(w - wr, beta)
        zero = torch.mean(wq - (w - we) * inv, dim=1, keepdim=True)
        beta *= kappa
    return best_zero


def _refit(
    w: torch.Tensor, inv: torch.Tensor, zero: torch.Tensor, levels: float, iters: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Alternate rounding and a least-squares fit of scale and offset.

    With the codes ``q`` fixed, ``w ~ s * q + b`` is an ordinary linear
    regression per group (closed form); with ``s`` and ``b`` fixed,
    rounding to the nearest level is optimal. Each half-step can only
    lower a group's squared error, and the best parameters seen are kept.
    """
    best = _sq_err(w, inv, zero, levels)
    for _ in range(iters):
        q = torch.clamp(torch.round(w * inv + zero), 0.0, levels)
        qc = q - q.mean(dim=1, keepdim=True)
        wm = w.mean(dim=1, keepdim=True)
        var = (qc * qc).sum(dim=1, keepdim=True)
        s = (qc * (w - wm)).sum(dim=1, keepdim=True) / torch.clamp(var, min=1e-12)
        ok = (var > 0) & (s > 1e-12)
        s = torch.where(ok, s, 1.0 / inv)
        b = wm - s * q.mean(dim=1, keepdim=True)
        inv2 = 1.0 / s
        zero2 = torch.where(ok, -b * inv2, zero)
        err = _sq_err(w, inv2, zero2, levels)
        better = err < best
        if not bool(better.any()):
            break
        best = torch.where(better, err, best)
        inv = torch.where(better, inv2, inv)
        zero = torch.where(better, zero2, zero)
    return inv, zero


def hqq_quantize(
    weight: torch.Tensor,
    bits: int = 4,
    group_size: int | None = 128,
    *,
    iters: int = 20,
    lp_norm: float = 0.7,
    beta: float = 10.0,
    kappa: float = 1.01,
    search: bool = True,
    refit: int = 20,
) -> QuantizedTensor:
    """Asymmetric group-wise quantization with HQQ's zero-point
    optimisation, started (``search=True``) from the range shrink with the
    smallest squared error of each group, followed by up to ``refit``
    rounds of least-squares refitting of scale and zero point together."""
    _check_finite(weight)
    g = group_size if group_size is not None else weight.shape[-1]
    layout_for(tuple(weight.shape), bits, group_size, 0)
    levels = 15.0 if bits == 4 else 255.0
    w = weight.detach().float().reshape(-1, g)
    inv, zero0 = _range_search(w, bits) if search else _minmax_params(w, bits)
    zero = _hqq_zero(w, inv, zero0, levels, iters, lp_norm, beta, kappa)
    # Keep, per group, whichever zero point has the smaller squared error
    # (the l_0.7 optimum can cost more in l_2 than it gains).
    zero = torch.where(_sq_err(w, inv, zero, levels) <= _sq_err(w, inv, zero0, levels), zero, zero0)
    if refit:
        inv, zero = _refit(w, inv, zero, levels, refit)
    codes = torch.clamp(torch.round(w * inv + zero), 0.0, levels)
    scale = 1.0 / inv
    return _from_codes(codes, scale, zero, weight, bits, group_size)


def gptq_quantize(
    weight: torch.Tensor,
    hessian: torch.Tensor,
    bits: int = 4,
    group_size: int | None = 128,
    symmetric: bool = False,
    *,
    damp: float = 0.1,
    block_size: int = 128,
    act_order: bool = True,
    refit: int = 20,
) -> QuantizedTensor:
    """GPTQ of a Linear ``weight`` [out, in] given ``hessian`` [in, in]
    (sum of x x^T over calibration inputs, any positive scale).

    With ``act_order`` (default) the columns are quantized in order of
    decreasing Hessian diagonal (the most-used inputs first, so the most
    weights are left to absorb their error), with each group's scale and
    zero point fixed beforehand from the original weights ("static
    groups"; asymmetric groups use the range search and ``refit`` rounds of
    scale refitting of :func:`hqq_quantize`).
    Without it, columns go in order and each group's parameters come from
    the error-corrected weights when the group starts (the reference code).

    ``damp`` adds that fraction of the mean Hessian diagonal to the
    diagonal before inverting. The reference code uses 0.01; with a few
    hundred calibration sentences the Hessian is poorly estimated and more
    damping (error spread less aggressively) generalises better: on
    all-MiniLM-L6-v2, int4 g128, 128 calibration sentences, the mean
    cosine on the held-out sentences was 0.9799 / 0.9819 / 0.9832 / 0.9823
    at 0.01 / 0.05 / 0.1 / 0.2 (docs/quant.md).
    """
    _check_finite(weight)
    rows, cols = weight.shape
    layout_for(tuple(weight.shape), bits, group_size, 0)
    if hessian.shape != (cols, cols):
        raise QuantError(f"hessian of shape {tuple(hessian.shape)} for {cols} input features")
    g = group_size if group_size is not None else cols
    if g <= block_size:
        block_size = max(block_size // g, 1) * g
    else:
        block_size = g
    w = weight.detach().float().clone()
    h = hessian.detach().float().clone()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    ngroups = cols // g
    levels = 15.0 if bits == 4 else 255.0
    qmax = 7.0 if bits == 4 else 127.0
    scales = torch.zeros(rows, ngroups, device=w.device)
    zeros = torch.zeros(rows, ngroups, device=w.device)
    if act_order:
        wg = w.reshape(rows * ngroups, g)
        if symmetric:
            s, _, z, _, _ = _params_torch(wg[None].contiguous(), bits, True, False)
            scales, zeros = s.reshape(rows, ngroups), z.reshape(rows, ngroups)
        else:
            inv0, z0 = _range_search(wg, bits)
            if refit:
                inv0, z0 = _refit(wg, inv0, z0, levels, refit)
            scales = (1.0 / inv0).reshape(rows, ngroups)
            zeros = z0.reshape(rows, ngroups)
        perm = torch.argsort(torch.diag(h), descending=True)
    else:
        perm = torch.arange(cols, device=w.device)
    invperm = torch.argsort(perm)
    w = w[:, perm]
    h = h[perm][:, perm]
    h += damp * torch.mean(torch.diag(h)) * torch.eye(cols, device=h.device)
    hinv = torch.linalg.cholesky(h)
    hinv = torch.cholesky_inverse(hinv)
    hinv = torch.linalg.cholesky(hinv, upper=True)
    codes = torch.zeros_like(w)
    lo, hi = (
        (8.0 - qmax, 8.0 + qmax)
        if symmetric and bits == 4
        else ((-qmax, qmax) if symmetric else (0.0, levels))
    )
    for i1 in range(0, cols, block_size):
        i2 = min(i1 + block_size, cols)
        w1 = w[:, i1:i2].clone()
        err1 = torch.zeros_like(w1)
        h1 = hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = i1 + i
            grp = int(perm[col]) // g
            if not act_order and col % g == 0:
                s, _, z, _, _ = _params_torch(
                    w1[:, i : i + g][None].contiguous(), bits, symmetric, False
                )
                scales[:, grp] = s
                zeros[:, grp] = z
            scl, zero = scales[:, grp], zeros[:, grp]
            c = torch.clamp(
                torch.round(w1[:, i] / scl) + zero
                if symmetric
                else torch.round(w1[:, i] / scl + zero),
                lo,
                hi,
            )
            codes[:, col] = c
            qv = (c - zero) * scl
            e = (w1[:, i] - qv) / h1[i, i]
            w1[:, i:] -= e[:, None] * h1[i, i:][None, :]
            err1[:, i] = e
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    codes = codes[:, invperm]
    return _from_codes(codes, scales, None if symmetric else zeros, weight, bits, group_size)
