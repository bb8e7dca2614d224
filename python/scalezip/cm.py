"""Context-mixing compression: a bitwise predictive model (lpaq-style) and
an arithmetic coder, for the best ratio scalezip offers on text and other
structured data, at a much lower speed than DEFLATE.

The model predicts each bit from bit histories of contexts of orders 0 to
6, two word contexts and a match model, mixed by a small online neural
network and refined by two adaptive probability maps; the arithmetic coder
spends ``-log2 p`` bits on a bit predicted with probability ``p``. The
decoder runs the same model, so nothing but the coded bits is stored. All
arithmetic is integer: streams decode identically on every machine.

The level selects the model's memory (:func:`model_bytes`), and only that:
from about 5 MiB at level 1 to about 1.2 GiB at level 9, the same amount
in both directions. Bigger models forget fewer contexts on big inputs.

    >>> from scalezip import cm
    >>> blob = cm.compress(b"to be or not to be, " * 100, level=1)
    >>> cm.decompress(blob) == b"to be or not to be, " * 100
    True

The stream (``docs/cm.md``) records the level, the original length and a
CRC-32, so corrupt or truncated input raises :class:`error` rather than
returning wrong data. Inputs may be any C-contiguous buffer; the work runs
with the GIL released.
"""

from __future__ import annotations

from typing import Any

from . import _native
from ._errors import CmError as error

__all__ = [
    "DEFAULT_LEVEL",
    "MAGIC",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "compress",
    "decompress",
    "error",
    "model_bytes",
]

#: Lowest level (smallest model).
MIN_LEVEL: int = _native.CM_MIN_LEVEL
#: Highest level (largest model).
MAX_LEVEL: int = _native.CM_MAX_LEVEL
#: Level used when none is given.
DEFAULT_LEVEL: int = _native.CM_DEFAULT_LEVEL
#: First bytes of every stream.
MAGIC = b"SZCM"


def _level(level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be an int, got {type(level).__name__}")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"cm level must be {MIN_LEVEL}..{MAX_LEVEL}, got {level}")
    return level


def compress(data: Any, level: int = DEFAULT_LEVEL) -> bytes:
    """Compress ``data`` into a scalezip context-mixing stream.

    ``level`` (1..9) selects the model's memory, :func:`model_bytes`.
    """
    return _native.cm_compress(data, _level(level))


def decompress(data: Any, max_length: int | None = None) -> bytes:
    """Decode a stream made by :func:`compress`.

    Raises :class:`error` naming what is wrong when the input is not such a
    stream, is truncated or corrupt (CRC-32 mismatch). ``max_length`` caps
    the output size (checked against the header before any memory is
    allocated): pass it for untrusted input. Decoding allocates the model
    of the stream's level, at most :func:`model_bytes` of ``MAX_LEVEL``.
    """
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0
    ):
        raise ValueError(f"max_length must be None or an int >= 0, got {max_length!r}")
    return _native.cm_decompress(data, max_length)


def model_bytes(level: int) -> int:
    """Memory in bytes that the model of ``level`` uses (compressing or
    decompressing): its hash tables, match index, maps and mixers."""
    return _native.cm_model_bytes(_level(level))
