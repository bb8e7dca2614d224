"""scalezip: fast, honest compression for data and neural-network weights.

A Rust core behind Python modules that mirror the APIs users already know:

* :mod:`scalezip.zlib`: drop-in for the stdlib :mod:`zlib`.
* :mod:`scalezip.gzip`: drop-in for the stdlib :mod:`gzip`.
* :mod:`scalezip.huffman`: a raw (entropy-only) Huffman codec, huff0-style.
* :mod:`scalezip.lzw`: LZW in the Unix ``compress`` (.Z) format.
* :func:`compress` / :func:`decompress` / :func:`codecs`: every codec
  behind one front door (:mod:`scalezip.registry`); ``decompress`` sniffs the
  format from magic bytes.

``python -m scalezip`` (or the ``scalezip`` command) runs the main job: a
round trip and a speed/ratio comparison against the stdlib on real files.
"""

from __future__ import annotations

from . import gzip, huffman, lzw, zlib
from ._errors import ScalezipError as error
from ._native import __version__
from .registry import Codec, UnknownFormatError, codecs, compress, decompress

__all__ = [
    "Codec",
    "UnknownFormatError",
    "__version__",
    "codecs",
    "compress",
    "decompress",
    "error",
    "gzip",
    "huffman",
    "lzw",
    "zlib",
]
