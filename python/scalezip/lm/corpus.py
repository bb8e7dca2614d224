"""The default corpus of ``scalezip lm scaling``: English text on every machine.

Every Python installation ships its standard library's sources, and their
docstrings are English prose written by many authors (with some code
examples in them, as in real documentation). We take the docstrings of the
modules, classes and functions of the standard library's ``.py`` files, in
sorted path order, de-indented and separated by blank lines, up to a cap.
No download, no extra package; the text does differ between Python versions,
so the description names the version.
"""

from __future__ import annotations

import ast
import glob
import inspect
import os
import sys
import warnings

__all__ = ["default_corpus"]


def _docstrings(source: bytes) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc and len(doc) >= 40:
                out.append(inspect.cleandoc(doc))
    return out


def default_corpus(cap: int = 4 << 20) -> tuple[bytes, str]:
    """(text, description): up to ``cap`` bytes of standard-library docstrings."""
    stdlib = os.path.dirname(os.__file__)
    parts: list[bytes] = []
    size = files = 0
    for path in sorted(glob.glob(os.path.join(stdlib, "**", "*.py"), recursive=True)):
        if size >= cap:
            break
        rel = os.path.relpath(path, stdlib)
        if rel.startswith(("site-packages", "test", "idlelib", "lib2to3", "tkinter")):
            continue
        try:
            with open(path, "rb") as f:
                docs = _docstrings(f.read())
        except (OSError, SyntaxError, ValueError):
            continue
        for doc in docs:
            b = doc.encode("utf-8", "replace") + b"\n\n"
            parts.append(b)
            size += len(b)
        files += 1
    text = b"".join(parts)[:cap]
    v = sys.version_info
    desc = (
        f"docstrings of the Python {v.major}.{v.minor}.{v.micro} standard library "
        f"({files} files, {len(text):,} bytes)"
    )
    return text, desc
