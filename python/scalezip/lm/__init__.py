"""Neural byte models as compressors: bits per byte, online coding, scaling.

A model's cross-entropy on data is the length of the best code for that
data under the model. This package measures it and codes with it:

* :class:`ModelSpec` and :func:`build_model`: two byte-level families
  (``lstm``, ``transformer``) from about 10**4 to 10**7 parameters, built
  from a small JSON-serialisable spec (family, layers, width, context,
  seed) with seeded initial weights.
* :func:`bits_per_byte`: cross-entropy of data under a model, in bits per
  byte, without coding. Works with your own model: any callable mapping a
  (batch, time) int64 tensor of bytes to (batch, time, 256) next-byte logits.
* :func:`compress` / :func:`decompress`: online compression as in nncp; the
  model starts from its seed and learns as it codes (the decoder repeats
  the same steps), so no weights are stored. Deterministic on one machine
  and torch version; a stream made elsewhere is refused, never mis-decoded.
* ``scalezip lm scaling``: the compressed-size-versus-model-size curve
  (:mod:`scalezip.lm.scaling`).

torch is an optional dependency (``pip install "scalezip[torch]"``):
``import scalezip.lm`` works without it, and the functions that need it
raise :class:`ImportError` saying how to install it. ``import scalezip``
never imports torch.

    >>> from scalezip import lm
    >>> spec = lm.ModelSpec("lstm", layers=1, width=32, context=32)
    >>> blob = lm.compress(b"hello hello hello hello", spec)
    >>> lm.decompress(blob)
    b'hello hello hello hello'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import LMError
from ._errors import LMError as error
from .spec import FAMILIES, ModelSpec

if TYPE_CHECKING:
    import torch

    from .evaluate import LogitsFn
    from .models import ByteModel

__all__ = [
    "FAMILIES",
    "LMError",
    "ModelSpec",
    "bits_per_byte",
    "build_model",
    "compress",
    "decompress",
    "error",
]


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "scalezip.lm needs PyTorch, which is an optional dependency: "
            "pip install 'scalezip[torch]' (or any torch >= 2.2)"
        ) from e


def build_model(spec: ModelSpec, device: str | torch.device | None = None) -> ByteModel:
    """The model of ``spec`` with its seeded initial weights (float32, a ``torch.nn.Module``).

    ``model(x)`` maps (batch, time) int64 bytes to (batch, time, 256) logits.
    """
    _need_torch()
    from .models import build_model as build

    return build(spec, device)


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

    ``model``: a callable (e.g. a ``torch.nn.Module``) mapping a (batch,
    time) int64 tensor of byte values to (batch, time, 256) logits, where
    position t predicts byte t + 1 and depends only on bytes 0..t. Data is
    scored in windows of ``context`` bytes (default: ``model.spec.context``,
    else 256) every ``stride`` bytes (default ``context``); the first byte
    costs 8 bits. See :mod:`scalezip.lm.evaluate`.
    """
    _need_torch()
    from .evaluate import bits_per_byte as bpb

    return bpb(model, data, context=context, stride=stride, batch_size=batch_size, device=device)


def compress(data: Any, spec: ModelSpec, *, streams: int = 16, lr: float | None = None) -> bytes:
    """Compress ``data`` with a model of ``spec`` learning online (:mod:`scalezip.lm.coding`)."""
    _need_torch()
    from .coding import compress as comp

    return comp(data, spec, streams=streams, lr=lr)


def decompress(data: Any, *, spec: ModelSpec | None = None, max_length: int | None = None) -> bytes:
    """Decode a :func:`compress` stream; :class:`LMError` if it is corrupt, truncated, or
    made with another torch version, CPU kernel set, or (when given) ``spec``."""
    _need_torch()
    from .coding import decompress as dec

    return dec(data, spec=spec, max_length=max_length)
