"""Shared by the CPU-time A/B scripts (``huffman_cpu_ab.py``, ``lzw_cpu_ab.py``):
import a scalezip module from a given package directory, so that builds of two
commits can be timed side by side in one process."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def load(directory: str, module: str) -> ModuleType:
    """``scalezip.<module>`` imported from ``directory`` (a fresh import: any
    scalezip already imported, from another directory, is forgotten first)."""
    for name in [k for k in sys.modules if k == "scalezip" or k.startswith("scalezip.")]:
        del sys.modules[name]
    sys.path.insert(0, directory)
    try:
        return importlib.import_module(f"scalezip.{module}")
    finally:
        sys.path.pop(0)
