"""Shared fixtures for the scalezip drop-in compatibility suite.

The suite tests `scalezip.zlib` and `scalezip.gzip` as drop-in replacements
for the standard library's `zlib` and `gzip`.  Every behavioural test is
written against the *documented stdlib behaviour*, so the whole suite can be
validated against the reference implementation itself:

    SCALEZIP_TEST_AGAINST_STDLIB=1 python -m pytest tests

In that mode the "implementation under test" fixtures (`zlib_mod`,
`gzip_mod`, `gzip_cli_module`) return the stdlib modules; otherwise they
return scalezip's.  Differential tests always compare the implementation
under test against the stdlib modules imported directly (`STD_ZLIB`,
`STD_GZIP`), so in stdlib mode they degenerate to self-consistency checks,
which is exactly what validates the tests' own expectations.

The implementation is imported lazily (inside the fixtures), so a missing or
broken `scalezip` fails each test with an ImportError instead of failing
collection of the whole suite.
"""

from __future__ import annotations

import functools
import gzip as STD_GZIP
import importlib
import importlib.util
import os
import random
import sys
import zlib as STD_ZLIB

import pytest

try:  # hypothesis is a test dependency; keep conftest importable without it.
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "scalezip",
        deadline=None,
        max_examples=150,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=False,
        print_blob=True,
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "scalezip"))
except ImportError:  # pragma: no cover
    pass

AGAINST_STDLIB = os.environ.get("SCALEZIP_TEST_AGAINST_STDLIB", "") == "1"

__all__ = [
    "AGAINST_STDLIB",
    "STD_ZLIB",
    "STD_GZIP",
    "impl_zlib",
    "impl_gzip",
    "impl_gzip_cli_module",
    "seeded_bytes",
    "text_bytes",
    "stdlib_sources_blob",
    "shared_library_blob",
    "SAMPLE_INPUTS",
    "sample_input",
    "error_kind",
    "outcome",
    "assert_same_outcome",
]


def impl_zlib():
    """The zlib module under test (scalezip.zlib, or stdlib zlib in stdlib mode)."""
    if AGAINST_STDLIB:
        return STD_ZLIB
    return importlib.import_module("scalezip.zlib")


def impl_gzip():
    """The gzip module under test (scalezip.gzip, or stdlib gzip in stdlib mode)."""
    if AGAINST_STDLIB:
        return STD_GZIP
    return importlib.import_module("scalezip.gzip")


def impl_gzip_cli_module() -> str:
    """Module name to run as `python -m <name>` for the gzip CLI tests."""
    return "gzip" if AGAINST_STDLIB else "scalezip.gzip"


@pytest.fixture(scope="session")
def zlib_mod():
    return impl_zlib()


@pytest.fixture(scope="session")
def gzip_mod():
    return impl_gzip()


@pytest.fixture(scope="session")
def gzip_cli_module():
    return impl_gzip_cli_module()


@pytest.fixture(scope="session")
def against_stdlib():
    return AGAINST_STDLIB


def pytest_report_header(config):
    mode = "stdlib (reference validation)" if AGAINST_STDLIB else "scalezip"
    return [f"scalezip compat suite: implementation under test = {mode}"]


def pytest_configure(config):
    # Registered here so the suite runs with --strict-markers / filterwarnings=error
    # even before the lead's pyproject.toml declares them.
    config.addinivalue_line("markers", "slow: tests that take more than a few seconds")
    config.addinivalue_line(
        "markers", "timeout(seconds): hang guard (pytest-timeout); no-op when it is not installed"
    )


# ---------------------------------------------------------------------------
# Deterministic input data
# ---------------------------------------------------------------------------


def seeded_bytes(n: int, seed: int = 0) -> bytes:
    """n pseudo-random (incompressible) bytes, reproducible across runs."""
    return random.Random(seed).randbytes(n)


def text_bytes(n: int, seed: int = 0) -> bytes:
    """n bytes of compressible, word-like text with long-range repeats."""
    rng = random.Random(seed)
    words = [
        bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 9)))
        for _ in range(500)
    ]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words)
        out += b" " if rng.random() < 0.9 else b"\n"
    return bytes(out[:n])


def _stdlib_dir() -> str:
    return os.path.dirname(os.__file__)


@functools.lru_cache(maxsize=None)
def stdlib_sources_blob(limit: int = 2 << 20) -> bytes:
    """The first `limit` bytes of the stdlib's top-level .py sources, sorted by name.

    Real, varied text present on every machine that runs Python.
    """
    root = _stdlib_dir()
    out = bytearray()
    for name in sorted(os.listdir(root)):
        if not name.endswith(".py"):
            continue
        try:
            with open(os.path.join(root, name), "rb") as f:
                out += f.read()
        except OSError:  # pragma: no cover - unreadable file on an odd install
            continue
        if len(out) >= limit:
            break
    assert len(out) > 100_000, "could not find stdlib sources"
    return bytes(out[:limit])


@functools.lru_cache(maxsize=None)
def shared_library_blob(limit: int = 2 << 20) -> bytes:
    """The first `limit` bytes of a native binary: an extension module or the interpreter."""
    candidates = []
    for mod in ("_ssl", "_hashlib", "_decimal", "_sqlite3", "_ctypes", "_socket"):
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin and os.path.isfile(spec.origin):
            candidates.append(spec.origin)
    candidates.append(os.path.realpath(sys.executable))
    # Prefer the largest candidate (more varied content).
    best = max(candidates, key=lambda p: os.path.getsize(p))
    with open(best, "rb") as f:
        data = f.read(limit)
    assert len(data) > 10_000, f"native binary {best!r} unexpectedly small"
    return data


def _all_byte_values() -> bytes:
    return bytes(range(256)) * 4


# name -> zero-argument factory; kept small enough for the full level x wbits matrix.
SAMPLE_INPUTS = {
    "empty": lambda: b"",
    "one_byte": lambda: b"\x00",
    "one_byte_ff": lambda: b"\xff",
    "all_256_values": _all_byte_values,
    "repetitive": lambda: b"abc" * 20_000,
    "zeros_64k": lambda: bytes(65536),
    "random_1k": lambda: seeded_bytes(1024, 1),
    "random_32767": lambda: seeded_bytes(32767, 2),
    "random_32768": lambda: seeded_bytes(32768, 3),
    "random_32769": lambda: seeded_bytes(32769, 4),
    "text_65535": lambda: text_bytes(65535, 5),
    "text_65536": lambda: text_bytes(65536, 6),
    "text_65537": lambda: text_bytes(65537, 7),
    "mixed_100k": lambda: text_bytes(40_000, 8) + seeded_bytes(20_000, 9) + bytes(40_000),
}


@functools.lru_cache(maxsize=None)
def sample_input(name: str) -> bytes:
    return SAMPLE_INPUTS[name]()


# ---------------------------------------------------------------------------
# Differential helpers
# ---------------------------------------------------------------------------


def error_kind(exc: BaseException, zmod=None, gzmod=None) -> str:
    """A module-independent name for an exception.

    `scalezip.zlib.error` and stdlib `zlib.error` are different classes, so an
    exception is classified by the role it plays rather than by identity.
    """
    zmods = [m for m in (zmod, STD_ZLIB) if m is not None]
    gzmods = [m for m in (gzmod, STD_GZIP) if m is not None]
    if any(isinstance(exc, m.BadGzipFile) for m in gzmods):
        return "BadGzipFile"
    if any(isinstance(exc, m.error) for m in zmods):
        return "zlib.error"
    return type(exc).__name__


def outcome(fn, *args, zmod=None, gzmod=None, **kwargs):
    """Run fn and return ('ok', result) or ('raise', kind, message)."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - we classify every exception
        return ("raise", error_kind(exc, zmod, gzmod), str(exc))


def assert_same_outcome(impl_fn, std_fn, *args, zmod=None, gzmod=None, check_message=True, **kwargs):
    """impl_fn(*args) must return what std_fn(*args) returns, or raise the same kind of error."""
    got = outcome(impl_fn, *args, zmod=zmod, gzmod=gzmod, **kwargs)
    want = outcome(std_fn, *args, **kwargs)
    if not check_message and got[0] == want[0] == "raise":
        got, want = got[:2], want[:2]
    if got[0] == want[0] == "ok" and isinstance(want[1], (bytes, int, str, type(None))):
        assert type(got[1]) is type(want[1]), (got, want)
    if got[0] == want[0] == "ok" and not isinstance(want[1], (bytes, int, str, type(None))):
        # Objects (Compress/Decompress, files): just both succeed.
        got, want = got[:1], want[:1]
    assert got == want
    return want
