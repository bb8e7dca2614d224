"""scalezip.zlib additions beyond the stdlib API: decompress_into."""

from __future__ import annotations

import gzip as std_gzip
import zlib as std_zlib

import pytest

from conftest import AGAINST_STDLIB, text_bytes

pytestmark = pytest.mark.skipif(AGAINST_STDLIB, reason="scalezip additions")
np = pytest.importorskip("numpy")
DATA = text_bytes(250_000, 12)


@pytest.mark.parametrize(
    "blob,wbits",
    [
        (std_zlib.compress(DATA), 15),
        (std_zlib.compress(DATA, 9, -15), -15),
        (std_gzip.compress(DATA, mtime=0), 31),
        (std_gzip.compress(DATA, mtime=0), 47),
    ],
    ids=["zlib", "raw", "gzip", "auto"],
)
@pytest.mark.parametrize("kind", ["bytearray", "memoryview-slice", "numpy"])
def test_decompress_into_buffers(zlib_mod, blob, wbits, kind):
    if kind == "bytearray":
        out = bytearray(len(DATA) + 5)
        view = memoryview(out)
    elif kind == "memoryview-slice":
        backing = bytearray(len(DATA) + 100)
        view = memoryview(backing)[50:]
        out = view
    else:
        out = np.zeros(len(DATA) + 3, dtype=np.uint8)
        view = memoryview(out)
    n = zlib_mod.decompress_into(blob, out, wbits)
    assert n == len(DATA)
    assert bytes(view[:n]) == DATA


def test_decompress_into_too_small_and_read_only(zlib_mod):
    blob = std_zlib.compress(DATA)
    with pytest.raises(zlib_mod.error, match="Error -5 .*output buffer too small"):
        zlib_mod.decompress_into(blob, bytearray(len(DATA) - 1))
    with pytest.raises((TypeError, BufferError)):
        zlib_mod.decompress_into(blob, bytes(len(DATA)))
    with pytest.raises(zlib_mod.error, match="incorrect data check"):
        zlib_mod.decompress_into(blob[:-1] + bytes([blob[-1] ^ 1]), bytearray(len(DATA)))
