"""The error scalezip.lm raises about a stream it cannot or will not decode."""

from __future__ import annotations

from .._errors import ScalezipError

__all__ = ["LMError"]


class LMError(ScalezipError):
    """An online-neural stream that is not well formed, is corrupt or truncated
    (CRC-32 or length mismatch), or was made under a different environment
    (torch version, CPU kernels) or model spec than the one decoding it."""
