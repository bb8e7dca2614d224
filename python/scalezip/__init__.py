"""scalezip: fast, honest compression for data and neural-network weights.

A Rust core behind Python modules that mirror the APIs users already know:

* :mod:`scalezip.zlib`: drop-in for the stdlib :mod:`zlib`.
* :mod:`scalezip.gzip`: drop-in for the stdlib :mod:`gzip`.

``python -m scalezip`` (or the ``scalezip`` command) runs the main job: a
round trip and a speed/ratio comparison against the stdlib on real files.
"""

from __future__ import annotations

from . import gzip, zlib
from ._errors import ScalezipError as error
from ._native import __version__

__all__ = ["error", "gzip", "zlib", "__version__"]
