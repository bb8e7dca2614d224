"""Exception classes of scalezip, in one place.

The native module raises these (it looks them up here), so that each can
subclass both the package's base class and the stdlib class it stands in
for: code written as ``except zlib.error`` against the stdlib keeps working
after swapping in ``scalezip.zlib``, and ``except scalezip.error`` catches
everything scalezip raises about bad data.
"""

from __future__ import annotations

import gzip as _std_gzip
import zlib as _std_zlib

__all__ = [
    "ScalezipError",
    "ZlibError",
    "BadGzipFile",
    "HuffmanError",
    "LzwError",
    "CmError",
    "TensorError",
    "QuantError",
]


class ScalezipError(Exception):
    """Base class of every error scalezip raises about its input."""


class ZlibError(ScalezipError, _std_zlib.error):
    """Invalid DEFLATE/zlib/gzip data or arguments (``scalezip.zlib.error``).

    Also an instance of the stdlib's ``zlib.error``.
    """


class BadGzipFile(ScalezipError, _std_gzip.BadGzipFile):
    """A gzip file that is not well formed (``scalezip.gzip.BadGzipFile``).

    Also an instance of the stdlib's ``gzip.BadGzipFile`` (an ``OSError``).
    """


class HuffmanError(ScalezipError):
    """Invalid scalezip Huffman data (``scalezip.huffman.error``)."""


class LzwError(ScalezipError):
    """Invalid or truncated ``.Z`` (Unix ``compress``) data (``scalezip.lzw.error``)."""


class TensorError(ScalezipError):
    """Invalid, truncated or corrupt compressed tensor data (``scalezip.tensors.error``).

    Messages name the tensor and the chunk that failed.
    """


class CmError(ScalezipError):
    """Invalid, truncated or corrupt context-mixing (``SZCM``) data
    (``scalezip.cm.error``)."""


class QuantError(ScalezipError, ValueError):
    """Weights that cannot be quantized as asked (NaN/infinity, a scale that
    overflows, buffers or a state dict that do not fit the layout).

    Also a ``ValueError``.
    """
