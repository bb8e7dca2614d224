"""One-shot decompression straight into the returned ``bytes``.

``scalezip.zlib.decompress`` and ``scalezip.gzip.decompress`` size their
output from a hint (``bufsize``, the gzip ISIZE trailer, or a guess), grow it
when the hint was short and trim it when long (rust/py/src/deflate.rs). These
tests drive every one of those paths and check that a hint can never change
the result, only the speed, and that a stream *claiming* a huge size does not
get that memory reserved.
"""

from __future__ import annotations

import gzip as std_gzip
import random
import struct
import tracemalloc
import zlib as std_zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scalezip import _native
from scalezip import gzip as sz_gzip
from scalezip import zlib as sz_zlib


def _text(n: int, seed: int = 1) -> bytes:
    """Compressible but not trivial bytes (about 3:1 with zlib)."""
    words = [b"alpha ", b"beta ", b"gamma\n", b"delta ", b"epsilon ", b"zeta, "]
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += words[(x >> 16) % len(words)]
        if x % 5 == 0:
            out.append(x & 0xFF)
    return bytes(out[:n])


DATA = _text(3_000_000)
# wbits for raw, zlib and gzip (decompression forms).
FORMS = {"raw": -15, "zlib": 15, "gzip": 31, "auto-gzip": 47, "auto-zlib": 47}


def _compress(data: bytes, form: str, level: int = 6) -> bytes:
    if form in ("gzip", "auto-gzip"):
        return std_gzip.compress(data, level, mtime=0)
    wbits = -15 if form == "raw" else 15
    c = std_zlib.compressobj(level, std_zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize(
    "bufsize",
    [
        "exact",
        "exact-1",
        "exact+1",
        "tiny",
        "half",
        "double",
        "huge",
        "default",
    ],
)
def test_any_bufsize_gives_the_same_output(form, bufsize):
    blob = _compress(DATA, form)
    n = len(DATA)
    size = {
        "exact": n,
        "exact-1": n - 1,
        "exact+1": n + 1,
        "tiny": 1,
        "half": n // 2,
        "double": 2 * n,
        "huge": 1 << 40,
        "default": sz_zlib.DEF_BUF_SIZE,
    }[bufsize]
    out = sz_zlib.decompress(blob, FORMS[form], size)
    assert type(out) is bytes
    assert out == DATA


@pytest.mark.parametrize("n", [0, 1, 1023, 1024, 1025, 70_000, 262_144, 262_145, 600_001])
@pytest.mark.parametrize("form", ["raw", "zlib", "gzip"])
def test_sizes_around_buffer_and_chunk_edges(n, form):
    """Around the 1 KiB minimum buffer and the 256 KiB zeroing chunk, with
    an exact hint and with none (the output grows)."""
    data = _text(n, seed=n)
    blob = _compress(data, form)
    assert sz_zlib.decompress(blob, FORMS[form]) == data
    assert sz_zlib.decompress(blob, FORMS[form], max(n, 1)) == data


def test_incompressible_data_is_trimmed():
    """Output smaller than the guess (4x the input): the object is trimmed."""
    rnd = random.Random(5)
    data = bytes(rnd.getrandbits(8) for _ in range(500_000))
    blob = std_zlib.compress(data, 1)
    out = sz_zlib.decompress(blob)
    assert out == data and len(out) == len(data)


@pytest.mark.parametrize("level", [1, 9])
def test_highly_compressible_data_grows_past_the_trusted_cap(level):
    """64 MB of zeros compress 1000:1, beyond the 64x the hint is trusted:
    the buffer starts at the cap and grows to the real size."""
    data = bytes(64 << 20)
    z = std_zlib.compress(data, level)
    g = std_gzip.compress(data, level, mtime=0)
    assert len(data) > 64 * len(z) + (1 << 20)
    assert sz_zlib.decompress(z) == data
    assert sz_zlib.decompress(z, bufsize=len(data)) == data
    assert sz_gzip.decompress(g) == data


def _with_isize(blob: bytes, isize: int) -> bytes:
    return blob[:-4] + struct.pack("<I", isize & 0xFFFFFFFF)


@pytest.mark.parametrize("delta", [-1, 1, 1 << 20, (1 << 32) - len(DATA) - 1])
def test_wrong_isize_is_an_error_not_a_size(delta):
    blob = _with_isize(std_gzip.compress(DATA, 6, mtime=0), len(DATA) + delta)
    with pytest.raises(sz_zlib.error, match="incorrect length check"):
        sz_zlib.decompress(blob, 31)
    with pytest.raises(sz_gzip.BadGzipFile, match="Incorrect length"):
        sz_gzip.decompress(blob)
    # The stdlib agrees on both counts.
    with pytest.raises(std_zlib.error):
        std_zlib.decompress(blob, 31)
    with pytest.raises(std_gzip.BadGzipFile):
        std_gzip.decompress(blob)


def _peak_alloc(fn) -> int:
    """Peak bytes allocated through Python's allocators while running fn
    (bytes objects, whatever their size, are among them)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            fn()
        except Exception:
            pass
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("claim", [1 << 31, (1 << 32) - 1])
def test_a_claimed_huge_isize_is_not_reserved(claim):
    """A 1 KB member that claims 2-4 GB: the first buffer is capped at a
    multiple of the input (64x + 1 MiB), and decoding then fails on the
    wrong length without ever holding more."""
    small = _text(1000)
    blob = _with_isize(std_gzip.compress(small, 6, mtime=0), claim)
    peak = _peak_alloc(lambda: sz_zlib.decompress(blob, 31))
    assert peak < 64 * len(blob) + (1 << 20) + (64 << 10), peak
    peak = _peak_alloc(lambda: sz_gzip.decompress(blob))
    assert peak < 64 * len(blob) + (1 << 20) + (64 << 10), peak


def test_a_huge_bufsize_is_not_reserved():
    blob = std_zlib.compress(_text(1000))
    peak = _peak_alloc(lambda: sz_zlib.decompress(blob, 15, 1 << 40))
    assert peak < 64 * len(blob) + (1 << 20) + (64 << 10), peak


def test_output_memory_follows_the_real_size():
    """With no hint, decoding 3 MB holds about the output, not more than the
    guess (4x the input) plus what growth needs."""
    blob = std_zlib.compress(DATA, 6)
    peak = _peak_alloc(lambda: sz_zlib.decompress(blob))
    assert peak < 2 * len(DATA) + (1 << 20), peak


def test_multi_member_gzip_with_the_big_member_last():
    """The ISIZE at the end of the input belongs to the last member: a hint
    that is wrong for the first one, which must still decode exactly."""
    small, big = _text(5000, seed=2), _text(2_000_000, seed=3)
    blob = std_gzip.compress(small, mtime=0) + std_gzip.compress(big, mtime=0)
    assert sz_gzip.decompress(blob) == small + big
    # zlib with gzip wbits reads the first member and ignores the rest.
    assert sz_zlib.decompress(blob, 31) == small
    d = sz_zlib.decompressobj(31)
    assert d.decompress(blob) == small
    assert d.unused_data == std_gzip.compress(big, mtime=0)


def test_multi_member_gzip_with_the_big_member_first():
    small, big = _text(5000, seed=2), _text(2_000_000, seed=3)
    blob = std_gzip.compress(big, mtime=0) + std_gzip.compress(small, mtime=0)
    assert sz_gzip.decompress(blob) == big + small
    assert sz_zlib.decompress(blob, 31) == big


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("tail", [b"\x00", b"garbage", b"\xff" * 8, b"\x1f\x8b"])
def test_trailing_data_is_ignored(form, tail):
    blob = _compress(DATA, form) + tail
    assert sz_zlib.decompress(blob, FORMS[form]) == DATA
    assert sz_zlib.decompress(blob, FORMS[form], len(DATA)) == DATA


@pytest.mark.parametrize("cut", [1, 2, 7, 8, 100, 5000])
@pytest.mark.parametrize("form", ["raw", "zlib", "gzip"])
def test_truncated_streams_raise_and_free_the_output(form, cut):
    blob = _compress(DATA, form)[:-cut]
    with pytest.raises(sz_zlib.error):
        sz_zlib.decompress(blob, FORMS[form], len(DATA))
    # The half-built output object was released: nothing stays allocated.
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            with pytest.raises(sz_zlib.error):
                sz_zlib.decompress(blob, FORMS[form])
        assert tracemalloc.get_traced_memory()[0] - before < 64 << 10
    finally:
        tracemalloc.stop()


def test_preset_dictionary_path_still_honours_bufsize():
    zdict = _text(30_000, seed=9)
    c = std_zlib.compressobj(6, std_zlib.DEFLATED, 15, 9, 0, zdict)
    blob = c.compress(DATA) + c.flush()
    d = sz_zlib.decompressobj(15, zdict)
    assert d.decompress(blob) == DATA
    for size in (1, len(DATA), 10 * len(DATA)):
        # One-shot zlib.decompress has no zdict; the native entry point does.
        out, used = _native.decompress(blob, 1, 15, size, zdict)
        assert out == DATA and used == len(blob)


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=5000),
    level=st.integers(0, 9),
    bufsize=st.integers(0, 1 << 20),
    form=st.sampled_from(["raw", "zlib", "gzip"]),
)
def test_hint_never_changes_the_result(payload, level, bufsize, form):
    data = payload * 7
    blob = _compress(data, form, level)
    assert sz_zlib.decompress(blob, FORMS[form], bufsize) == data


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    pos=st.floats(0, 1),
    byte=st.integers(0, 255),
    bufsize=st.sampled_from([0, 1, 100, 20_000, 1 << 30]),
    form=st.sampled_from(["raw", "zlib", "gzip"]),
)
def test_mutated_streams_agree_with_stdlib(seed, pos, byte, bufsize, form):
    data = _text(20_000, seed=seed % 1000)
    blob = bytearray(_compress(data, form))
    blob[min(int(pos * len(blob)), len(blob) - 1)] = byte
    try:
        expected: bytes | None = std_zlib.decompress(bytes(blob), FORMS[form])
    except std_zlib.error:
        expected = None
    try:
        got: bytes | None = sz_zlib.decompress(bytes(blob), FORMS[form], bufsize)
    except sz_zlib.error:
        got = None
    assert got == expected


# Streaming objects: a call whose output may reach 4 MiB (an input of about
# 1 MiB or more) decodes straight into the returned bytes object
# (rust/py/src/lib.rs, Decompressor.decode_to_bytes); smaller calls go
# through a Vec. Both must behave exactly as stdlib's decompressobj.

BIG = _text(6_000_000, seed=5) + random.Random(3).randbytes(700_000)


@pytest.mark.parametrize("level", [1, 9])
@pytest.mark.parametrize("wbits", [15, 31, -15])
def test_decompressobj_big_calls_match_stdlib(level, wbits):
    c = std_zlib.compressobj(level, std_zlib.DEFLATED, wbits)
    comp = c.compress(BIG) + c.flush() + b"trailing bytes"
    ours, ref = sz_zlib.decompressobj(wbits), std_zlib.decompressobj(wbits)
    assert len(comp) * 4 + 65536 >= 4 << 20  # the bytes-object path
    assert ours.decompress(comp) == ref.decompress(comp) == BIG
    assert ours.eof and ours.unused_data == ref.unused_data == b"trailing bytes"


def test_decompressobj_big_call_grows_past_its_estimate():
    # 40:1 data: far more out than the 4x estimate of the first reservation.
    data = b"abcd" * 5_000_000 + _text(1_500_000)
    comp = std_zlib.compress(data, 6)
    d = sz_zlib.decompressobj()
    assert d.decompress(comp) + d.flush() == data


@pytest.mark.parametrize("max_length", [1, 4 << 20, 5_000_001])
def test_decompressobj_big_call_with_max_length(max_length):
    comp = std_zlib.compress(BIG, 6)
    ours, ref = sz_zlib.decompressobj(), std_zlib.decompressobj()
    a, b = ours.decompress(comp, max_length), ref.decompress(comp, max_length)
    assert a == b and len(a) == min(max_length, len(BIG))
    # (How much input a call keeps for the next one is not part of the
    # contract: zlib's tail may differ by the bytes its bit buffer holds.)
    assert a + ours.decompress(ours.unconsumed_tail) + ours.flush() == BIG


def test_decompressobj_big_call_damaged_or_cut_short():
    comp = std_zlib.compress(BIG, 6)
    bad = bytearray(comp)
    bad[len(bad) // 2] ^= 0xFF
    bad[len(bad) // 2 + 1] ^= 0x55
    with pytest.raises(std_zlib.error):
        std_zlib.decompressobj().decompress(bytes(bad))
    with pytest.raises(sz_zlib.error):
        sz_zlib.decompressobj().decompress(bytes(bad))
    # Cut short: what could be decoded comes out, as from stdlib.
    cut = comp[: len(comp) * 2 // 3]
    ours, ref = sz_zlib.decompressobj(), std_zlib.decompressobj()
    a, b = ours.decompress(cut), ref.decompress(cut)
    assert BIG.startswith(a) and len(a) > len(BIG) // 2
    assert len(b) - 64 <= len(a) <= len(b)
    assert not ours.eof
    assert a + ours.decompress(comp[len(cut) :]) == BIG
