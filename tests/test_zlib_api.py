"""API compatibility of `scalezip.zlib` with the stdlib `zlib` module.

A port, written from the documented behaviour, of the parts of CPython's
Lib/test/test_zlib.py that define the module's contract:

* module surface: names, constants, exception class, object types, signatures;
* checksums: known values, chunked continuation, start values of any size,
  argument types;
* one-shot compress/decompress: round trips, every wbits form, argument
  validation (exception type *and* message mirror the stdlib), incomplete
  input, trailing data;
* Compress objects: flush modes, copy, use after Z_FINISH;
* Decompress objects: max_length/unconsumed_tail, unused_data, eof,
  flush(length), copy, decompression-bomb draining;
* preset dictionaries (zdict) in both directions and the errors when missing
  or wrong;
* every buffer type as input (bytes, bytearray, memoryview, array, numpy),
  and the stdlib's exception type for non-contiguous buffers.

Where the stdlib's exact result is easy to get live, tests compare against it
(`assert_same_outcome`) instead of hard-coding it, so the suite follows the
running Python version.
"""

from __future__ import annotations

import array
import copy
import random
import re

import pytest
from conftest import (
    AGAINST_STDLIB,
    STD_GZIP,
    STD_ZLIB,
    assert_same_outcome,
    error_kind,
    outcome,
    seeded_bytes,
    text_bytes,
)

np = pytest.importorskip("numpy")

HELLO = b"hello world " * 200
TEXT = text_bytes(50_000, 11)

# ---------------------------------------------------------------------------
# Module surface
# ---------------------------------------------------------------------------

INT_CONSTANTS = [
    "MAX_WBITS",
    "DEFLATED",
    "DEF_MEM_LEVEL",
    "DEF_BUF_SIZE",
    "Z_NO_COMPRESSION",
    "Z_BEST_SPEED",
    "Z_BEST_COMPRESSION",
    "Z_DEFAULT_COMPRESSION",
    "Z_FILTERED",
    "Z_HUFFMAN_ONLY",
    "Z_RLE",
    "Z_FIXED",
    "Z_DEFAULT_STRATEGY",
    "Z_NO_FLUSH",
    "Z_PARTIAL_FLUSH",
    "Z_SYNC_FLUSH",
    "Z_FULL_FLUSH",
    "Z_FINISH",
    "Z_BLOCK",
    "Z_TREES",
]


@pytest.mark.parametrize("name", INT_CONSTANTS)
def test_int_constant_matches_stdlib(zlib_mod, name):
    value = getattr(zlib_mod, name)
    assert type(value) is int
    assert value == getattr(STD_ZLIB, name)


@pytest.mark.parametrize("name", ["ZLIB_VERSION", "ZLIB_RUNTIME_VERSION"])
def test_version_strings(zlib_mod, name):
    value = getattr(zlib_mod, name)
    assert isinstance(value, str)
    assert re.match(r"^\d+\.\d+", value), value


def test_every_public_stdlib_name_exists(zlib_mod):
    missing = [n for n in dir(STD_ZLIB) if not n.startswith("_") and not hasattr(zlib_mod, n)]
    assert missing == []


def test_error_is_an_exception_class(zlib_mod):
    assert isinstance(zlib_mod.error, type)
    assert issubclass(zlib_mod.error, Exception)
    with pytest.raises(zlib_mod.error):
        zlib_mod.decompress(b"not a zlib stream")


def test_object_interfaces(zlib_mod):
    c = zlib_mod.compressobj()
    d = zlib_mod.decompressobj()
    for meth in ("compress", "flush", "copy"):
        assert callable(getattr(c, meth))
    for meth in ("decompress", "flush", "copy"):
        assert callable(getattr(d, meth))
    assert d.unused_data == b"" and type(d.unused_data) is bytes
    assert d.unconsumed_tail == b"" and type(d.unconsumed_tail) is bytes
    assert d.eof is False


@pytest.mark.skipif(AGAINST_STDLIB, reason="identity check only meaningful for scalezip")
def test_implementation_is_not_the_stdlib(zlib_mod):
    assert zlib_mod.compress is not STD_ZLIB.compress
    assert zlib_mod.decompress is not STD_ZLIB.decompress
    assert zlib_mod.crc32 is not STD_ZLIB.crc32


# ----- signatures: keywords accepted / positional-only parameters ---------------


def test_keyword_arguments_accepted(zlib_mod):
    c = zlib_mod.compress(HELLO, level=9, wbits=15)
    assert zlib_mod.decompress(c, wbits=15, bufsize=100) == HELLO
    co = zlib_mod.compressobj(
        level=5,
        method=zlib_mod.DEFLATED,
        wbits=-12,
        memLevel=9,
        strategy=zlib_mod.Z_FILTERED,
        zdict=b"hello",
    )
    raw = co.compress(HELLO) + co.flush()
    do = zlib_mod.decompressobj(wbits=-12, zdict=b"hello")
    assert do.decompress(raw, max_length=0) == HELLO


def test_positional_arguments_accepted(zlib_mod):
    c = zlib_mod.compress(HELLO, 9, 31)
    assert zlib_mod.decompress(c, 31, 1) == HELLO
    co = zlib_mod.compressobj(1, zlib_mod.DEFLATED, 15, 8, zlib_mod.Z_RLE, b"dict")
    stream = co.compress(HELLO) + co.flush(zlib_mod.Z_FINISH)
    do = zlib_mod.decompressobj(15, b"dict")
    assert do.decompress(stream, 0) + do.flush(100) == HELLO
    assert zlib_mod.crc32(HELLO, 5) == STD_ZLIB.crc32(HELLO, 5)
    assert zlib_mod.adler32(HELLO, 5) == STD_ZLIB.adler32(HELLO, 5)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda z: z.compress(data=b"x"), id="compress-data-kw"),
        pytest.param(lambda z: z.decompress(data=b"x"), id="decompress-data-kw"),
        pytest.param(lambda z: z.crc32(data=b"x"), id="crc32-data-kw"),
        pytest.param(lambda z: z.crc32(b"x", value=1), id="crc32-value-kw"),
        pytest.param(lambda z: z.adler32(b"x", value=1), id="adler32-value-kw"),
        pytest.param(lambda z: z.compressobj().compress(data=b"x"), id="Compress.compress-data-kw"),
        pytest.param(lambda z: z.compressobj().flush(mode=2), id="Compress.flush-mode-kw"),
        pytest.param(lambda z: z.decompressobj().decompress(data=b"x"), id="Decompress.decompress-data-kw"),
        pytest.param(lambda z: z.decompressobj().flush(length=10), id="Decompress.flush-length-kw"),
        pytest.param(lambda z: z.compress(), id="compress-no-args"),
        pytest.param(lambda z: z.decompress(), id="decompress-no-args"),
        pytest.param(lambda z: z.crc32(), id="crc32-no-args"),
        pytest.param(lambda z: z.compress(b"", 1, 15, 0), id="compress-too-many"),
        pytest.param(lambda z: z.compress(b"", bogus=1), id="compress-unknown-kw"),
        pytest.param(lambda z: z.decompressobj(bogus=1), id="decompressobj-unknown-kw"),
    ],
)
def test_signature_violations_raise_typeerror(zlib_mod, call):
    with pytest.raises(TypeError):
        call(STD_ZLIB)  # the test's premise: the stdlib rejects it
    with pytest.raises(TypeError):
        call(zlib_mod)


def test_defaults(zlib_mod):
    # Default level is Z_DEFAULT_COMPRESSION (-1 == 6), default wbits is MAX_WBITS (zlib container).
    c = zlib_mod.compress(HELLO)
    assert c[:2] == STD_ZLIB.compress(HELLO)[:2] == b"\x78\x9c"
    co = zlib_mod.compressobj()
    assert (co.compress(HELLO) + co.flush())[:2] == b"\x78\x9c"
    assert zlib_mod.decompressobj().decompress(c) == HELLO


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------

KNOWN_CRC32 = [
    (b"", 0),
    (b"a", 0xE8B7BE43),
    (b"abc", 0x352441C2),
    (b"123456789", 0xCBF43926),
    (b"The quick brown fox jumps over the lazy dog", 0x414FA339),
    (bytes(32), 0x190A55AD),
]
KNOWN_ADLER32 = [
    (b"", 1),
    (b"a", 0x00620062),
    (b"abc", 0x024D0127),
    (b"Wikipedia", 0x11E60398),
    (b"123456789", 0x091E01DE),
    (bytes(32), 0x00200001),
]


@pytest.mark.parametrize("data,expected", KNOWN_CRC32, ids=lambda v: repr(v)[:20])
def test_crc32_known_values(zlib_mod, data, expected):
    assert STD_ZLIB.crc32(data) == expected
    assert zlib_mod.crc32(data) == expected


@pytest.mark.parametrize("data,expected", KNOWN_ADLER32, ids=lambda v: repr(v)[:20])
def test_adler32_known_values(zlib_mod, data, expected):
    assert STD_ZLIB.adler32(data) == expected
    assert zlib_mod.adler32(data) == expected


@pytest.mark.parametrize("func", ["crc32", "adler32"])
def test_checksum_default_start_values(zlib_mod, func):
    f = getattr(zlib_mod, func)
    start = 0 if func == "crc32" else 1
    assert f(TEXT) == f(TEXT, start)
    assert f(b"") == start


@pytest.mark.parametrize("func", ["crc32", "adler32"])
@pytest.mark.parametrize(
    "size", [0, 1, 3, 15, 16, 17, 63, 64, 65, 5551, 5552, 5553, 65536, 1 << 20], ids=lambda s: f"n{s}"
)
def test_checksum_matches_stdlib_by_size(zlib_mod, func, size):
    # 5552 is adler32's NMAX (max bytes before a modulo reduction is needed).
    data = seeded_bytes(size, size) if size % 2 else b"\xff" * size
    assert getattr(zlib_mod, func)(data) == getattr(STD_ZLIB, func)(data)


@pytest.mark.parametrize("func", ["crc32", "adler32"])
@pytest.mark.parametrize("seed", range(8))
def test_checksum_chunked_continuation(zlib_mod, func, seed):
    rng = random.Random(seed)
    data = seeded_bytes(rng.randint(0, 200_000), seed)
    f = getattr(zlib_mod, func)
    value = f(b"")
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 2, 7, 100, 5552, 65536, rng.randint(1, 20000)])
        value = f(data[pos : pos + step], value)
        pos += step
    assert value == f(data) == getattr(STD_ZLIB, func)(data)


START_VALUES = [0, 1, 12345, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32, (1 << 32) + 5,
                (1 << 63) - 1, 1 << 63, 1 << 64, 1 << 100, -1, -2, -(1 << 31), -(1 << 32), -(1 << 63),
                -(1 << 100)]


@pytest.mark.parametrize("func", ["crc32", "adler32"])
@pytest.mark.parametrize("start", START_VALUES, ids=lambda v: f"start{v:#x}")
def test_checksum_any_start_value_like_stdlib(zlib_mod, func, start):
    # The stdlib accepts any int and reduces it modulo 2**32; result is unsigned.
    result = assert_same_outcome(getattr(zlib_mod, func), getattr(STD_ZLIB, func), b"some data", start, zmod=zlib_mod)
    if result[0] == "ok":
        assert 0 <= result[1] < (1 << 32)


@pytest.mark.parametrize("func", ["crc32", "adler32"])
def test_checksum_result_is_unsigned(zlib_mod, func):
    f = getattr(zlib_mod, func)
    for data in (b"\xff" * 100, b"foo", seeded_bytes(1000)):
        v = f(data)
        assert type(v) is int and 0 <= v < (1 << 32)
    # A crc32 with the high bit set.
    assert f(b"a") == getattr(STD_ZLIB, func)(b"a")


@pytest.mark.parametrize("func", ["crc32", "adler32"])
@pytest.mark.parametrize(
    "args",
    [("text",), (None,), (123,), (b"x", 1.0), (b"x", "1"), (b"x", None)],
    ids=["str", "None", "int", "float-start", "str-start", "None-start"],
)
def test_checksum_bad_argument_types(zlib_mod, func, args):
    with pytest.raises(TypeError):
        getattr(STD_ZLIB, func)(*args)
    with pytest.raises(TypeError):
        getattr(zlib_mod, func)(*args)


# ---------------------------------------------------------------------------
# One-shot compress / decompress
# ---------------------------------------------------------------------------

WBITS_COMPRESS = list(range(9, 16)) + list(range(-15, -8)) + list(range(25, 32))


@pytest.mark.parametrize("level", [-1, 0, 1, 2, 5, 6, 9])
@pytest.mark.parametrize("wbits", WBITS_COMPRESS, ids=lambda w: f"wbits{w}")
def test_roundtrip_every_wbits(zlib_mod, level, wbits):
    c = zlib_mod.compress(TEXT, level, wbits)
    assert type(c) is bytes
    assert zlib_mod.decompress(c, wbits) == TEXT


@pytest.mark.parametrize(
    "wbits,dwbits",
    [(15, 0), (9, 0), (12, 0), (15, 32), (10, 32), (9, 41), (15, 47), (31, 47), (25, 47), (25, 41),
     (9, 15), (12, 15), (25, 31)],
)
def test_decompress_window_from_header_and_autodetect(zlib_mod, wbits, dwbits):
    c = zlib_mod.compress(TEXT, 6, wbits)
    assert zlib_mod.decompress(c, dwbits) == TEXT
    assert STD_ZLIB.decompress(c, dwbits) == TEXT


def test_zlib_header_bytes_like_stdlib(zlib_mod):
    # The 2-byte zlib header records the window (CINFO) and a level class (FLEVEL).
    for level in range(-1, 10):
        for wbits in range(8, 16):
            got = zlib_mod.compress(b"x", level, wbits)[:2]
            want = STD_ZLIB.compress(b"x", level, wbits)[:2]
            assert got == want, (level, wbits)
            assert int.from_bytes(got, "big") % 31 == 0


def test_gzip_header_bytes_like_stdlib(zlib_mod):
    # zlib's own gzip wrapper: no name, mtime 0, XFL from level, OS code.
    for level in range(-1, 10):
        got = zlib_mod.compress(b"x", level, 31)
        want = STD_ZLIB.compress(b"x", level, 31)
        assert got[:10] == want[:10], level
        assert got[-8:] == want[-8:]  # crc32 + isize trailer


@pytest.mark.parametrize("level", [13, -2, -10, 100])
def test_compress_bad_level(zlib_mod, level):
    with pytest.raises(zlib_mod.error, match="Bad compression level"):
        zlib_mod.compress(HELLO, level)
    assert_same_outcome(zlib_mod.compress, STD_ZLIB.compress, HELLO, level, zmod=zlib_mod)


@pytest.mark.parametrize("level", [10, 11, 12])
def test_levels_10_to_12_extension(zlib_mod, against_stdlib, level):
    """scalezip accepts levels 10-12 (stronger, slower parses) where the stdlib
    raises "Bad compression level"; the output is an ordinary zlib stream."""
    if against_stdlib:
        pytest.skip("levels 10-12 are a scalezip extension")
    data = text_bytes(300_000, 4)
    blob = zlib_mod.compress(data, level)
    assert STD_ZLIB.decompress(blob) == data
    assert len(blob) <= len(STD_ZLIB.compress(data, 9)) * 1.01
    co = zlib_mod.compressobj(level)
    assert STD_ZLIB.decompress(co.compress(data) + co.flush()) == data


@pytest.mark.parametrize("wbits", [-20, -16, -8, -7, 0, 1, 7, 8, 16, 17, 24, 32, 40, 47, 48, 100])
def test_compress_wbits_edge_values_like_stdlib(zlib_mod, wbits):
    # e.g. raw -8 is rejected, zlib 8 is silently promoted to 9, 16..24 and 0 are errors.
    # Where both succeed the streams need not be byte-identical (the encoders parse
    # differently); the header (which carries the promoted window size) and the data must.
    got = outcome(zlib_mod.compress, HELLO, 6, wbits, zmod=zlib_mod)
    want = outcome(STD_ZLIB.compress, HELLO, 6, wbits)
    if got[0] == want[0] == "ok":
        assert got[1][:2] == want[1][:2]
        assert STD_ZLIB.decompress(got[1]) == HELLO
    else:
        assert got == want


@pytest.mark.parametrize("bad", [2**31, -(2**31) - 1, 2**64], ids=["2^31", "-2^31-1", "2^64"])
def test_compress_level_overflow(zlib_mod, bad):
    result = assert_same_outcome(zlib_mod.compress, STD_ZLIB.compress, b"", bad, zmod=zlib_mod, check_message=False)
    assert result[0] == "raise"


@pytest.mark.parametrize("level", [1.0, "1", None, b"1"], ids=["float", "str", "None", "bytes"])
def test_compress_level_wrong_type(zlib_mod, level):
    with pytest.raises(TypeError):
        STD_ZLIB.compress(b"", level)
    with pytest.raises(TypeError):
        zlib_mod.compress(b"", level)


def test_compress_bool_level_accepted(zlib_mod):
    assert zlib_mod.decompress(zlib_mod.compress(HELLO, True)) == HELLO


STREAMS = {
    "zlib": STD_ZLIB.compress(TEXT, 6, 15),
    "zlib_w9": STD_ZLIB.compress(TEXT, 6, 9),
    "raw": STD_ZLIB.compress(TEXT, 6, -15),
    "gzip": STD_ZLIB.compress(TEXT, 6, 31),
}


@pytest.mark.parametrize("kind", sorted(STREAMS))
@pytest.mark.parametrize("wbits", list(range(-17, 50)) + [64, 1000, -1000], ids=lambda w: f"wbits{w}")
def test_decompress_every_wbits_like_stdlib(zlib_mod, kind, wbits):
    """The full wbits x container matrix: same bytes or same error (type and message).

    One documented difference: when wbits declares a window smaller than the
    distances the stream uses, zlib rejects a too-far distance only when it
    cannot be served from output made in the same inflate() call, so its
    verdict depends on CPython's output buffer sizes. scalezip always enforces
    the declared window ("invalid distance too far back").
    """
    got = outcome(zlib_mod.decompress, STREAMS[kind], wbits, zmod=zlib_mod)
    want = outcome(STD_ZLIB.decompress, STREAMS[kind], wbits)
    if got != want and want[0] == "ok" and wbits & 15 not in (0, 15):
        assert got == ("raise", "zlib.error", "Error -3 while decompressing data: invalid distance too far back")
        return
    assert got == want


@pytest.mark.parametrize("wbits", [-9, -12, -14])
def test_declared_window_is_enforced(zlib_mod, against_stdlib, wbits):
    """A raw stream whose matches reach 20000 bytes back is refused under any
    window smaller than that, however the output is buffered."""
    if against_stdlib:
        pytest.skip("zlib's verdict here depends on its output buffering")
    data = seeded_bytes(20_000, 7) * 2  # the repeat is a 20000-byte-distance match
    stream = STD_ZLIB.compress(data, 9, -15)
    assert zlib_mod.decompress(stream, -15) == data
    with pytest.raises(zlib_mod.error, match="invalid distance too far back"):
        zlib_mod.decompress(stream, wbits)
    with pytest.raises(zlib_mod.error, match="invalid distance too far back"):
        zlib_mod.decompressobj(wbits).decompress(stream)


@pytest.mark.parametrize("bufsize", [0, 1, 2, 100, 16384, 1 << 20])
def test_decompress_bufsize_is_only_a_hint(zlib_mod, bufsize):
    c = zlib_mod.compress(TEXT)
    assert zlib_mod.decompress(c, 15, bufsize) == TEXT
    assert zlib_mod.decompress(c, bufsize=bufsize) == TEXT


def test_decompress_negative_bufsize(zlib_mod):
    with pytest.raises(ValueError):
        STD_ZLIB.decompress(STD_ZLIB.compress(b"x"), 15, -1)
    with pytest.raises(ValueError, match="bufsize must be non-negative"):
        zlib_mod.decompress(zlib_mod.compress(b"x"), 15, -1)


@pytest.mark.parametrize("wbits", [15, -15, 31, 47])
def test_decompress_empty_input(zlib_mod, wbits):
    with pytest.raises(zlib_mod.error, match="incomplete or truncated stream"):
        zlib_mod.decompress(b"", wbits)


@pytest.mark.parametrize("wbits", [15, -15, 31, 47])
def test_roundtrip_empty_payload(zlib_mod, wbits):
    cw = wbits if wbits != 47 else 15
    c = zlib_mod.compress(b"", 6, cw)
    assert c  # even an empty payload needs an end-of-stream marker
    assert zlib_mod.decompress(c, wbits) == b""
    assert STD_ZLIB.decompress(c, wbits) == b""


@pytest.mark.parametrize("kind,wbits", [("zlib", 15), ("raw", -15), ("gzip", 31)])
def test_decompress_every_truncation_is_incomplete(zlib_mod, kind, wbits):
    data = HELLO[:300] + seeded_bytes(300)
    c = STD_ZLIB.compress(data, 6, wbits)
    for cut in range(len(c)):
        with pytest.raises(zlib_mod.error, match=r"Error -5 while decompressing data: incomplete or truncated stream"):
            zlib_mod.decompress(c[:cut], wbits)


@pytest.mark.parametrize("kind,wbits", [("zlib", 15), ("raw", -15), ("gzip", 31)])
def test_decompressobj_truncation_is_not_an_error(zlib_mod, kind, wbits):
    data = HELLO[:300] + seeded_bytes(300)
    c = STD_ZLIB.compress(data, 6, wbits)
    for cut in range(0, len(c), 7):
        do = zlib_mod.decompressobj(wbits)
        out = do.decompress(c[:cut])
        assert data.startswith(out)
        assert do.eof is False
        assert do.unused_data == b""


@pytest.mark.parametrize("trailer", [b"x", b"\x00" * 10, b"garbage after the end", STD_ZLIB.compress(b"2nd")])
def test_decompress_ignores_data_after_end_of_stream(zlib_mod, trailer):
    # zlib.decompress stops at the end of the first stream and silently drops the rest.
    c = zlib_mod.compress(HELLO)
    assert STD_ZLIB.decompress(c + trailer) == HELLO
    assert zlib_mod.decompress(c + trailer) == HELLO


def test_decompress_gzip_wbits_reads_only_first_member(zlib_mod):
    two = STD_GZIP.compress(b"first", mtime=0) + STD_GZIP.compress(b"second", mtime=0)
    assert zlib_mod.decompress(two, 31) == STD_ZLIB.decompress(two, 31) == b"first"


@pytest.mark.parametrize("data", ["text", None, 42, 1.5, [1, 2]], ids=["str", "None", "int", "float", "list"])
@pytest.mark.parametrize("func", ["compress", "decompress"])
def test_one_shot_rejects_non_buffers(zlib_mod, func, data):
    with pytest.raises(TypeError):
        getattr(STD_ZLIB, func)(data)
    with pytest.raises(TypeError):
        getattr(zlib_mod, func)(data)


@pytest.mark.parametrize("level", range(-1, 10))
def test_level_zero_is_stored_and_others_compress(zlib_mod, level):
    data = text_bytes(100_000, 3)
    c = zlib_mod.compress(data, level)
    if level == 0:
        assert len(c) >= len(data)
    else:
        assert len(c) < len(data) // 2
    assert STD_ZLIB.decompress(c) == data


@pytest.mark.parametrize("strategy", ["Z_DEFAULT_STRATEGY", "Z_FILTERED", "Z_HUFFMAN_ONLY", "Z_RLE", "Z_FIXED"])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_compressobj_every_strategy(zlib_mod, strategy, level):
    co = zlib_mod.compressobj(level, zlib_mod.DEFLATED, 15, 8, getattr(zlib_mod, strategy))
    c = co.compress(TEXT) + co.flush()
    assert STD_ZLIB.decompress(c) == TEXT


@pytest.mark.parametrize("mem_level", range(1, 10))
def test_compressobj_every_mem_level(zlib_mod, mem_level):
    co = zlib_mod.compressobj(6, zlib_mod.DEFLATED, 15, mem_level)
    c = co.compress(TEXT) + co.flush()
    assert STD_ZLIB.decompress(c) == TEXT


@pytest.mark.parametrize(
    "kwargs",
    [
        {"level": 13},
        {"level": -2},
        {"method": 9},
        {"method": 0},
        {"wbits": 0},
        {"wbits": 7},
        {"wbits": 8},
        {"wbits": -8},
        {"wbits": 16},
        {"wbits": 24},
        {"wbits": 32},
        {"wbits": 47},
        {"memLevel": 0},
        {"memLevel": 10},
        {"strategy": -1},
        {"strategy": 5},
        {"wbits": 31, "zdict": b"dictionary"},
        {"zdict": b""},
    ],
    ids=lambda kw: ",".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_compressobj_parameter_validation_like_stdlib(zlib_mod, kwargs):
    # Invalid options raise ValueError("Invalid initialization option"), not zlib.error.
    assert_same_outcome(zlib_mod.compressobj, STD_ZLIB.compressobj, zmod=zlib_mod, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"wbits": w} for w in (-16, -15, -9, -8, -7, 0, 7, 8, 9, 15, 16, 24, 25, 31, 32, 40, 47, 48, 100)]
    + [{"zdict": "str"}, {"zdict": None}, {"zdict": 1}, {"zdict": b""}, {"zdict": bytearray(b"ab")}],
    ids=lambda kw: ",".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_decompressobj_parameter_validation_like_stdlib(zlib_mod, kwargs):
    # decompressobj() validates wbits lazily: bad values only fail on first decompress().
    got = _outcome_decompressobj(zlib_mod, kwargs)
    want = _outcome_decompressobj(STD_ZLIB, kwargs)
    assert got == want


def _outcome_decompressobj(mod, kwargs):
    try:
        do = mod.decompressobj(**kwargs)
    except Exception as exc:  # noqa: BLE001
        return ("init", error_kind(exc, mod), str(exc))
    try:
        return ("ok", do.decompress(STREAMS["zlib"][:100]))
    except Exception as exc:  # noqa: BLE001
        return ("decompress", error_kind(exc, mod), str(exc))


# ---------------------------------------------------------------------------
# Compress objects
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("wbits", [15, -15, 31, 9])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_compressobj_incremental_matches_one_shot_decoding(zlib_mod, wbits, level):
    co = zlib_mod.compressobj(level, zlib_mod.DEFLATED, wbits)
    parts = [co.compress(TEXT[i : i + 4096]) for i in range(0, len(TEXT), 4096)]
    parts.append(co.flush())
    assert all(type(p) is bytes for p in parts)
    assert STD_ZLIB.decompress(b"".join(parts), wbits) == TEXT


@pytest.mark.parametrize("mode", ["Z_SYNC_FLUSH", "Z_FULL_FLUSH"])
@pytest.mark.parametrize("wbits", [15, -15, 31])
def test_sync_and_full_flush_make_everything_so_far_decodable(zlib_mod, mode, wbits):
    co = zlib_mod.compressobj(6, zlib_mod.DEFLATED, wbits)
    std_do = STD_ZLIB.decompressobj(wbits)
    impl_do = zlib_mod.decompressobj(wbits)
    sent = b""
    for i, piece in enumerate([HELLO[:100], seeded_bytes(3000, 1), TEXT[:5000], b"", b"z"]):
        out = co.compress(piece) + co.flush(getattr(zlib_mod, mode))
        sent += piece
        assert out.endswith(b"\x00\x00\xff\xff"), i  # empty stored block marks the flush point
        assert std_do.decompress(out) == piece
        assert impl_do.decompress(out) == piece
    tail = co.flush()
    assert std_do.decompress(tail) == b"" and std_do.eof
    assert impl_do.decompress(tail) == b"" and impl_do.eof


def test_full_flush_resets_the_dictionary(zlib_mod):
    # After Z_FULL_FLUSH the rest of a raw stream is decodable without the prefix.
    co = zlib_mod.compressobj(6, zlib_mod.DEFLATED, -15)
    first = co.compress(TEXT[:20000]) + co.flush(zlib_mod.Z_FULL_FLUSH)
    second = co.compress(TEXT[:20000]) + co.flush()
    assert STD_ZLIB.decompress(first + second, -15) == TEXT[:20000] * 2
    assert STD_ZLIB.decompress(second, -15) == TEXT[:20000]


@pytest.mark.parametrize("mode", [0, 1, 2, 3, 4, 5, 6, 7, 99, -1], ids=lambda m: f"mode{m}")
def test_compressobj_flush_modes_like_stdlib(zlib_mod, mode):
    # Z_NO_FLUSH returns b''; Z_TREES and unknown modes are zlib.error.
    def run(mod):
        co = mod.compressobj(6)
        head = co.compress(HELLO)
        try:
            out = co.flush(mode)
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))
        stream = head + out + (co.flush() if mode != mod.Z_FINISH else b"")
        return ("ok", mode == 0 and out == b"", STD_ZLIB.decompress(stream))

    assert run(zlib_mod) == run(STD_ZLIB)


def test_compressobj_flush_no_flush_returns_empty(zlib_mod):
    co = zlib_mod.compressobj()
    co.compress(HELLO)
    assert co.flush(zlib_mod.Z_NO_FLUSH) == b""


def test_compressobj_flush_default_is_finish(zlib_mod):
    co = zlib_mod.compressobj()
    stream = co.compress(HELLO) + co.flush()
    assert STD_ZLIB.decompress(stream) == HELLO


@pytest.mark.parametrize(
    "action",
    ["compress", "flush_finish", "flush_sync", "flush_noflush", "copy"],
)
def test_compressobj_use_after_finish_like_stdlib(zlib_mod, action):
    def run(mod):
        co = mod.compressobj()
        co.compress(HELLO)
        co.flush()
        fn = {
            "compress": lambda: co.compress(b"more"),
            "flush_finish": lambda: co.flush(),
            "flush_sync": lambda: co.flush(mod.Z_SYNC_FLUSH),
            "flush_noflush": lambda: co.flush(mod.Z_NO_FLUSH),
            "copy": lambda: co.copy() and None,
        }[action]
        try:
            return ("ok", fn())
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))

    assert run(zlib_mod) == run(STD_ZLIB)


@pytest.mark.parametrize("how", ["copy", "copy.copy", "copy.deepcopy"])
def test_compressobj_copy_is_independent(zlib_mod, how):
    co = zlib_mod.compressobj(9)
    prefix = co.compress(TEXT[:10000])
    dup = {"copy": lambda o: o.copy(), "copy.copy": copy.copy, "copy.deepcopy": copy.deepcopy}[how](co)
    assert type(dup) is type(co)
    a = prefix + co.compress(b"branch A " * 100) + co.flush()
    b = prefix + dup.compress(b"branch B " * 50) + dup.flush()
    assert STD_ZLIB.decompress(a) == TEXT[:10000] + b"branch A " * 100
    assert STD_ZLIB.decompress(b) == TEXT[:10000] + b"branch B " * 50


def test_compressobj_copy_after_finish_raises_valueerror(zlib_mod):
    co = zlib_mod.compressobj()
    co.compress(HELLO)
    co.flush()
    with pytest.raises(ValueError):
        co.copy()


def test_compress_objects_are_not_picklable(zlib_mod):
    import pickle

    for obj in (zlib_mod.compressobj(), zlib_mod.decompressobj()):
        with pytest.raises((TypeError, pickle.PicklingError)):
            pickle.dumps(obj)


# ---------------------------------------------------------------------------
# Decompress objects
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("max_length", [1, 2, 10, 1000, 16384, 65536])
def test_decompressobj_max_length_caps_output(zlib_mod, max_length):
    data = text_bytes(200_000, 1)
    c = STD_ZLIB.compress(data)
    do = zlib_mod.decompressobj()
    out = []
    chunk = do.decompress(c, max_length)
    out.append(chunk)
    iterations = 0
    while do.unconsumed_tail:
        assert len(chunk) == max_length  # a tail is left only when the cap was hit
        chunk = do.decompress(do.unconsumed_tail, max_length)
        assert len(chunk) <= max_length
        out.append(chunk)
        iterations += 1
        assert iterations < 1_000_000
    out.append(do.flush())
    assert b"".join(out) == data
    assert do.eof


def test_decompressobj_max_length_zero_means_unlimited(zlib_mod):
    do = zlib_mod.decompressobj()
    assert do.decompress(STD_ZLIB.compress(TEXT), 0) == TEXT
    assert do.unconsumed_tail == b"" and do.eof


def test_decompressobj_negative_max_length(zlib_mod):
    with pytest.raises(ValueError):
        STD_ZLIB.decompressobj().decompress(b"x", -1)
    with pytest.raises(ValueError, match="max_length must be non-negative"):
        zlib_mod.decompressobj().decompress(b"x", -1)


def test_decompressobj_max_length_stops_at_exact_end(zlib_mod):
    do = zlib_mod.decompressobj()
    assert do.decompress(STD_ZLIB.compress(b"abc"), 3) == b"abc"
    assert do.eof and do.unconsumed_tail == b"" and do.unused_data == b""


def test_decompressobj_unconsumed_tail_then_flush_drains(zlib_mod):
    data = b"a" * 100_000
    c = STD_ZLIB.compress(data)
    do = zlib_mod.decompressobj()
    head = do.decompress(c, 10)
    assert head == b"a" * 10
    assert do.unconsumed_tail and not do.eof
    rest = do.flush()
    assert head + rest == data
    assert do.eof and do.unconsumed_tail == b""


@pytest.mark.parametrize("length", [1, 5, 100, 16384])
def test_decompressobj_flush_length_is_a_buffer_hint_not_a_cap(zlib_mod, length):
    data = b"a" * 100_000
    do = zlib_mod.decompressobj()
    head = do.decompress(STD_ZLIB.compress(data), 10)
    rest = do.flush(length)
    assert head + rest == data  # the whole remainder, regardless of length
    assert do.eof


@pytest.mark.parametrize("length", [0, -1, -100])
def test_decompressobj_flush_nonpositive_length(zlib_mod, length):
    with pytest.raises(ValueError):
        STD_ZLIB.decompressobj().flush(length)
    with pytest.raises(ValueError, match="length must be greater than zero"):
        zlib_mod.decompressobj().flush(length)


@pytest.mark.parametrize("extra", [b"x", b"junk" * 100, STD_ZLIB.compress(b"second stream")])
@pytest.mark.parametrize("wbits", [15, -15, 31])
def test_decompressobj_unused_data(zlib_mod, extra, wbits):
    c = STD_ZLIB.compress(HELLO, 6, wbits)
    do = zlib_mod.decompressobj(wbits)
    assert do.decompress(c + extra) == HELLO
    assert do.eof
    assert do.unused_data == extra
    assert do.unconsumed_tail == b""
    # Further input after the end is appended to unused_data and yields nothing.
    assert do.decompress(b"more") == b""
    assert do.unused_data == extra + b"more"


def test_decompressobj_unused_data_fed_bytewise(zlib_mod):
    c = STD_ZLIB.compress(HELLO)
    stream = c + b"TAIL"
    do = zlib_mod.decompressobj()
    out = b"".join(do.decompress(stream[i : i + 1]) for i in range(len(stream)))
    assert out == HELLO
    assert do.eof and do.unused_data == b"TAIL"


def test_decompressobj_eof_transitions(zlib_mod):
    c = STD_ZLIB.compress(HELLO)
    do = zlib_mod.decompressobj()
    assert do.eof is False
    do.decompress(c[:-1])
    assert do.eof is False
    do.decompress(c[-1:])
    assert do.eof is True


def test_decompressobj_flush_on_incomplete_stream_is_not_an_error(zlib_mod):
    c = STD_ZLIB.compress(TEXT)
    do = zlib_mod.decompressobj()
    out = do.decompress(c[: len(c) // 2])
    out += do.flush()
    assert TEXT.startswith(out)
    assert do.eof is False
    # ... and the object keeps working afterwards.
    out += do.decompress(c[len(c) // 2 :])
    assert out == TEXT and do.eof


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00", b"x", b"\x78", b"\x78\x9c"], ids=repr)
def test_decompressobj_short_inputs_like_stdlib(zlib_mod, data):
    def run(mod):
        do = mod.decompressobj()
        try:
            out = do.decompress(data)
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))
        return ("ok", out, do.eof, do.unused_data, do.unconsumed_tail, do.flush())

    assert run(zlib_mod) == run(STD_ZLIB)


@pytest.mark.parametrize("action", ["decompress", "flush", "copy", "eof"])
def test_decompressobj_use_after_flush_at_eof_like_stdlib(zlib_mod, action):
    # After flush() at end of stream the object is finished: copy() raises
    # ValueError, decompress() raises zlib.error, flush() returns b''.
    def run(mod):
        do = mod.decompressobj()
        do.decompress(STD_ZLIB.compress(HELLO))
        do.flush()
        fn = {
            "decompress": lambda: do.decompress(b"x"),
            "flush": lambda: do.flush(),
            "copy": lambda: do.copy() and None,
            "eof": lambda: do.eof,
        }[action]
        try:
            return ("ok", fn())
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, mod), str(exc))

    assert run(zlib_mod) == run(STD_ZLIB)


def test_decompressobj_copy_after_flush_at_eof_raises_valueerror(zlib_mod):
    do = zlib_mod.decompressobj()
    do.decompress(STD_ZLIB.compress(HELLO))
    do.flush()
    with pytest.raises(ValueError):
        do.copy()


def test_decompressobj_copy_at_eof_before_flush(zlib_mod):
    do = zlib_mod.decompressobj()
    do.decompress(STD_ZLIB.compress(HELLO) + b"xyz")
    dup = do.copy()
    assert dup.eof and dup.unused_data == b"xyz"


@pytest.mark.parametrize("how", ["copy", "copy.copy", "copy.deepcopy"])
@pytest.mark.parametrize("wbits", [15, -15, 31])
def test_decompressobj_copy_is_independent(zlib_mod, how, wbits):
    c = STD_ZLIB.compress(TEXT, 6, wbits)
    do = zlib_mod.decompressobj(wbits)
    head = do.decompress(c[:1000], 500)
    tail_before = do.unconsumed_tail
    dup = {"copy": lambda o: o.copy(), "copy.copy": copy.copy, "copy.deepcopy": copy.deepcopy}[how](do)
    assert type(dup) is type(do)
    assert dup.unconsumed_tail == tail_before and dup.eof == do.eof
    a = head + do.decompress(do.unconsumed_tail + c[1000:])
    # The original finishing must not have affected the copy.
    b = head + dup.decompress(dup.unconsumed_tail + c[1000:])
    assert a == b == TEXT
    assert do.eof and dup.eof


def test_decompression_bomb_is_drained_in_bounded_steps(zlib_mod):
    total = 64 << 20
    co = STD_ZLIB.compressobj(9)
    chunk = bytes(1 << 20)
    bomb = b"".join(co.compress(chunk) for _ in range(total >> 20)) + co.flush()
    assert len(bomb) < total // 500
    cap = 1 << 20
    do = zlib_mod.decompressobj()
    produced = 0
    steps = 0
    data = bomb
    while not do.eof:
        out = do.decompress(data, cap)
        assert len(out) <= cap
        assert out.count(0) == len(out)
        produced += len(out)
        data = do.unconsumed_tail
        steps += 1
        assert steps <= total // cap + 10, "no progress"
    assert produced == total
    assert steps >= total // cap


def test_decompressobj_accumulates_unconsumed_tail_into_next_call(zlib_mod):
    # The caller is expected to pass unconsumed_tail back in; new data may be appended.
    c = STD_ZLIB.compress(TEXT)
    do = zlib_mod.decompressobj()
    out = b""
    pos = 0
    while not do.eof:
        new = c[pos : pos + 333]
        pos += 333
        out += do.decompress(do.unconsumed_tail + new, 777)
        assert pos < len(c) + 10_000_000
    assert out == TEXT


# ---------------------------------------------------------------------------
# Preset dictionaries
# ---------------------------------------------------------------------------

ZDICT = b"the quick brown fox jumps over the lazy dog " * 3
ZDATA = b"the lazy dog and the quick brown fox and the dog " * 5


def _compress_with_dict(mod, data, zdict, wbits=15, level=6):
    co = mod.compressobj(level, mod.DEFLATED, wbits, zdict=zdict)
    return co.compress(data) + co.flush()


@pytest.mark.parametrize("wbits", [15, -15, 9, -9])
@pytest.mark.parametrize("direction", ["impl->std", "std->impl", "impl->impl"])
def test_zdict_roundtrip(zlib_mod, wbits, direction):
    cmod, dmod = {"impl->std": (zlib_mod, STD_ZLIB), "std->impl": (STD_ZLIB, zlib_mod),
                  "impl->impl": (zlib_mod, zlib_mod)}[direction]
    c = _compress_with_dict(cmod, ZDATA, ZDICT, wbits)
    assert len(c) < len(_compress_with_dict(cmod, ZDATA, b"", wbits))  # dictionary helps
    do = dmod.decompressobj(wbits, zdict=ZDICT)
    assert do.decompress(c) + do.flush() == ZDATA
    assert do.eof


def test_zdict_header_records_dictionary_id(zlib_mod):
    c = _compress_with_dict(zlib_mod, ZDATA, ZDICT)
    assert c[1] & 0x20, "FDICT flag"
    assert int.from_bytes(c[2:6], "big") == STD_ZLIB.adler32(ZDICT)


def test_zdict_missing_in_one_shot_decompress(zlib_mod):
    c = _compress_with_dict(STD_ZLIB, ZDATA, ZDICT)
    assert_same_outcome(zlib_mod.decompress, STD_ZLIB.decompress, c, zmod=zlib_mod)
    with pytest.raises(zlib_mod.error, match="Error 2 while decompressing data"):
        zlib_mod.decompress(c)


def test_zdict_missing_in_decompressobj(zlib_mod):
    c = _compress_with_dict(STD_ZLIB, ZDATA, ZDICT)
    with pytest.raises(zlib_mod.error, match="Error 2 while decompressing data"):
        zlib_mod.decompressobj().decompress(c)


def test_zdict_wrong_dictionary(zlib_mod):
    c = _compress_with_dict(STD_ZLIB, ZDATA, ZDICT)
    assert_same_outcome(
        lambda: zlib_mod.decompressobj(zdict=b"not the dictionary").decompress(c),
        lambda: STD_ZLIB.decompressobj(zdict=b"not the dictionary").decompress(c),
        zmod=zlib_mod,
    )
    with pytest.raises(zlib_mod.error):
        zlib_mod.decompressobj(zdict=b"not the dictionary").decompress(c)


def test_zdict_raw_missing_dictionary_like_stdlib(zlib_mod):
    c = _compress_with_dict(STD_ZLIB, ZDATA, ZDICT, -15)
    assert_same_outcome(
        lambda: zlib_mod.decompressobj(-15).decompress(c),
        lambda: STD_ZLIB.decompressobj(-15).decompress(c),
        zmod=zlib_mod,
    )


def test_zdict_ignored_by_decompressobj_for_gzip(zlib_mod):
    g = STD_ZLIB.compress(ZDATA, 6, 31)
    assert zlib_mod.decompressobj(31, zdict=ZDICT).decompress(g) == ZDATA


@pytest.mark.parametrize("factory", [bytes, bytearray, memoryview, lambda b: array.array("B", b),
                                     lambda b: np.frombuffer(b, dtype=np.uint8)],
                         ids=["bytes", "bytearray", "memoryview", "array", "numpy"])
def test_zdict_buffer_types(zlib_mod, factory):
    c = _compress_with_dict(zlib_mod, ZDATA, factory(ZDICT))
    assert zlib_mod.decompressobj(zdict=factory(ZDICT)).decompress(c) == ZDATA


def test_zdict_longer_than_window(zlib_mod):
    zdict = seeded_bytes(40_000, 5) + ZDICT
    c = _compress_with_dict(zlib_mod, ZDATA, zdict)
    assert STD_ZLIB.decompressobj(zdict=zdict).decompress(c) == ZDATA
    assert zlib_mod.decompressobj(zdict=zdict).decompress(_compress_with_dict(STD_ZLIB, ZDATA, zdict)) == ZDATA


# ---------------------------------------------------------------------------
# Buffer types
# ---------------------------------------------------------------------------

PAYLOAD = text_bytes(20_000, 21) + seeded_bytes(1000, 21)
assert len(PAYLOAD) % 8 == 0  # so every multi-byte item view below covers all of it

BUFFER_FACTORIES = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": memoryview,
    "memoryview-slice": lambda b: memoryview(b"XX" + b + b"YY")[2:-2],
    "memoryview-cast-2d": lambda b: memoryview(b[: len(b) // 4 * 4]).cast("B", (len(b) // 4, 4)),
    "array-B": lambda b: array.array("B", b),
    "array-I": lambda b: array.array("I", b[: len(b) // 4 * 4]),
    "numpy-uint8": lambda b: np.frombuffer(b, dtype=np.uint8),
    "numpy-int32-2d": lambda b: np.frombuffer(b[: len(b) // 8 * 8], dtype=np.int32).reshape(-1, 2),
    "numpy-float64": lambda b: np.frombuffer(b[: len(b) // 8 * 8], dtype=np.float64),
    "numpy-contiguous-slice": lambda b: np.frombuffer(b"X" * 8 + b + b"Y" * 8, dtype=np.uint8)[8:-8],
}


def _raw_bytes(obj) -> bytes:
    return bytes(memoryview(obj).cast("B")) if not isinstance(obj, bytes) else obj


@pytest.mark.parametrize("kind", sorted(BUFFER_FACTORIES))
def test_buffer_types_accepted_by_every_entry_point(zlib_mod, kind):
    make = BUFFER_FACTORIES[kind]
    src = make(PAYLOAD)
    raw = _raw_bytes(src)
    assert zlib_mod.crc32(src) == STD_ZLIB.crc32(raw)
    assert zlib_mod.adler32(src) == STD_ZLIB.adler32(raw)
    assert zlib_mod.crc32(src, 7) == STD_ZLIB.crc32(raw, 7)
    assert STD_ZLIB.decompress(zlib_mod.compress(src)) == raw
    co = zlib_mod.compressobj()
    assert STD_ZLIB.decompress(co.compress(src) + co.flush()) == raw

    stream = STD_ZLIB.compress(raw)
    stream += bytes(-len(stream) % 8)  # pad for multi-byte item types; trailing data is ignored
    csrc = make(stream)
    craw = _raw_bytes(csrc)
    assert zlib_mod.decompress(csrc) == STD_ZLIB.decompress(craw)
    do = zlib_mod.decompressobj()
    assert do.decompress(csrc) + do.flush() == STD_ZLIB.decompressobj().decompress(craw)


NON_CONTIGUOUS = {
    "memoryview-stride2": lambda: memoryview(PAYLOAD)[::2],
    "memoryview-reversed": lambda: memoryview(PAYLOAD)[::-1],
    "numpy-stride2": lambda: np.frombuffer(PAYLOAD, dtype=np.uint8)[::2],
    "numpy-fortran-2d": lambda: np.asfortranarray(np.frombuffer(PAYLOAD[:1000], dtype=np.uint8).reshape(10, 100)),
    "numpy-column": lambda: np.frombuffer(PAYLOAD[:1000], dtype=np.uint8).reshape(10, 100)[:, 3],
}

ENTRY_POINTS = {
    "compress": lambda z, b: z.compress(b),
    "decompress": lambda z, b: z.decompress(b),
    "crc32": lambda z, b: z.crc32(b),
    "adler32": lambda z, b: z.adler32(b),
    "Compress.compress": lambda z, b: z.compressobj().compress(b),
    "Decompress.decompress": lambda z, b: z.decompressobj().decompress(b),
    "compressobj-zdict": lambda z, b: z.compressobj(zdict=b),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("kind", sorted(NON_CONTIGUOUS))
def test_non_contiguous_buffers_raise_like_stdlib(zlib_mod, entry, kind):
    # The stdlib asks for a simple (C-contiguous) buffer; the *exporter* raises:
    # memoryview -> BufferError, numpy -> ValueError.
    fn = ENTRY_POINTS[entry]
    src = NON_CONTIGUOUS[kind]()
    with pytest.raises(Exception) as std_exc:
        fn(STD_ZLIB, src)
    with pytest.raises(Exception) as impl_exc:
        fn(zlib_mod, src)
    assert error_kind(impl_exc.value, zlib_mod) == error_kind(std_exc.value)
    assert std_exc.type in (BufferError, ValueError, TypeError)


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "numpy-uint8"])
def test_input_buffer_is_not_modified(zlib_mod, kind):
    src = BUFFER_FACTORIES[kind](bytearray(PAYLOAD)) if kind != "bytes" else PAYLOAD
    before = _raw_bytes(src)
    c = zlib_mod.compress(src)
    zlib_mod.crc32(src)
    assert _raw_bytes(src) == before
    assert STD_ZLIB.decompress(c) == before


def test_bytearray_input_can_be_resized_after_call(zlib_mod):
    # The implementation must release its buffer export when the call returns.
    buf = bytearray(PAYLOAD)
    zlib_mod.compress(buf)
    zlib_mod.crc32(buf)
    zlib_mod.decompressobj().decompress(bytearray(STD_ZLIB.compress(b"x")))
    co = zlib_mod.compressobj()
    co.compress(buf)
    buf.extend(b"more")  # raises BufferError if an export is still held
    assert len(buf) == len(PAYLOAD) + 4


@pytest.mark.parametrize("data", [b"x" * 10, seeded_bytes(100_000)], ids=["small", "100k"])
def test_return_types_are_exactly_bytes(zlib_mod, data):
    c = zlib_mod.compress(bytearray(data))
    assert type(c) is bytes
    assert type(zlib_mod.decompress(bytearray(c))) is bytes
    co = zlib_mod.compressobj()
    assert type(co.compress(memoryview(data))) is bytes
    assert type(co.flush()) is bytes
    do = zlib_mod.decompressobj()
    assert type(do.decompress(memoryview(c + b"extra"))) is bytes
    assert type(do.unused_data) is bytes
    assert type(do.flush()) is bytes
