"""Raw Huffman coding of byte streams (entropy only, no LZ77), in the style
of zstd's huff0.

Use it for data whose redundancy lies in *which* byte values occur rather
than in repeated strings: exponent bytes of floating-point weights,
quantized tensors, residuals after a transform, and (less well than
DEFLATE) text. It is much faster than DEFLATE and never expands data by more
than 26 bytes plus 1 byte per 128 KiB block.

The stream is scalezip's own format (``docs/huffman.md``): blocks of up to
128 KiB, each stored, run-length (one byte value) or Huffman-coded with
codes of at most 11 bits in four streams (one per quarter of the block,
decoded together), and a CRC-32 of the
whole input, so corruption raises :class:`error` instead of returning wrong
data. Blocks are coded in parallel on all cores by default; the output does
not depend on the thread count.

    >>> from scalezip import huffman
    >>> blob = huffman.compress(b"abracadabra" * 1000)
    >>> huffman.decompress(blob) == b"abracadabra" * 1000
    True

Inputs may be any C-contiguous buffer (bytes, bytearray, memoryview, numpy
arrays); they are read in place, with the GIL released for inputs over
4 KiB.
"""

from __future__ import annotations

from typing import Any

from . import _native
from ._errors import HuffmanError as error

__all__ = ["error", "compress", "decompress", "BLOCK_SIZE", "MAX_BLOCK_SIZE"]

#: Default (and largest) number of input bytes per block.
BLOCK_SIZE = 131072
MAX_BLOCK_SIZE = 131072


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be None or a positive int, got {threads!r}")
    return threads


def compress(data: Any, *, block_size: int = BLOCK_SIZE, threads: int | None = None) -> bytes:
    """Huffman-code ``data`` into a scalezip Huffman stream.

    ``block_size`` (1 to 131072) is the number of input bytes per block:
    smaller blocks follow a changing distribution more closely but each
    carries its own code table (up to 130 bytes). ``threads`` is the number
    of worker threads, ``None`` for all cores; the result is the same for
    any value.

    On one thread, inputs up to 16 MiB are coded into a workspace the
    calling thread keeps between calls (warm memory: no page faults; sized
    for the largest input it has coded, at most 16.2 MiB, until the thread
    ends) and the exact result is copied out; larger inputs are coded
    straight into the result. Each pool worker keeps a
    193 KiB scratch for one block.
    """
    if isinstance(block_size, bool) or not isinstance(block_size, int):
        raise TypeError(f"block_size must be an int, got {type(block_size).__name__}")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise ValueError(f"block_size must be between 1 and {MAX_BLOCK_SIZE}, got {block_size}")
    return _native.huffman_compress(data, block_size, _threads(threads))


def decompress(data: Any, *, max_length: int | None = None, threads: int | None = None) -> bytes:
    """Decode a stream made by :func:`compress`.

    Raises :class:`error` (a :class:`scalezip.error`) naming what is wrong
    when the input is not such a stream, is truncated or corrupt, or fails
    its CRC-32. ``max_length`` caps the output size (checked against the
    header before any memory is allocated): pass it for untrusted input,
    since a stream can legitimately expand 65,536-fold.
    """
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0
    ):
        raise ValueError(f"max_length must be None or an int >= 0, got {max_length!r}")
    return _native.huffman_decompress(data, max_length, _threads(threads))
