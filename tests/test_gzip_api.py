"""API compatibility of `scalezip.gzip` with the stdlib `gzip` module.

A port, written from the documented behaviour, of the parts of CPython's
Lib/test/test_gzip.py that define the module's contract:

* module surface: `__all__`, `BadGzipFile` (an OSError), signatures;
* GzipFile/open: binary and text round trips, modes (r/w/a/x, b/t), names
  (str, bytes, PathLike, file objects), `mode`/`name` attributes, append
  producing multi-member files read back as one stream, context manager,
  close semantics, fileno, readable/writable/seekable;
* the header the writer emits (FNAME from the basename without `.gz`, mtime,
  XFL from the level, OS byte) compared byte-for-byte with the stdlib's;
* reading: read/read1/peek/readline/readlines/iteration/readinto/readinto1,
  seek/tell forward and backward (and forward-only in write mode);
* gzip.compress/decompress (mtime, levels, multi-member, padding);
* the basic error classes (bad magic, trailing garbage, truncation, CRC and
  length mismatch);
* the `python -m <module>` command line interface, differentially against
  `python -m gzip`.

The gzip module's surface has moved between Python versions (e.g. the type
of `GzipFile.mode`), so attributes are compared live with the stdlib rather
than hard-coded.
"""

from __future__ import annotations

import array
import io
import os
import random
import struct
import subprocess
import sys
import time
import warnings

import pytest
from conftest import (
    STD_GZIP,
    STD_ZLIB,
    error_kind,
    seeded_bytes,
    text_bytes,
)

np = pytest.importorskip("numpy")

DATA = text_bytes(120_000, 31) + seeded_bytes(5000, 31)
LINES = b"".join(b"line %d: %s\n" % (i, b"x" * (i % 50)) for i in range(2000))


def gz_write(mod, data, **kwargs):
    buf = io.BytesIO()
    with mod.GzipFile(fileobj=buf, mode="wb", **kwargs) as f:
        f.write(data)
    return buf.getvalue()


def gz_reader(mod, blob):
    return mod.GzipFile(fileobj=io.BytesIO(blob), mode="rb")


def read_all(mod, blob):
    with gz_reader(mod, blob) as f:
        return f.read()


def members(blob: bytes) -> list[bytes]:
    """Split a gzip file into its members' payloads with the stdlib zlib."""
    out = []
    while blob:
        do = STD_ZLIB.decompressobj(31)
        out.append(do.decompress(blob))
        assert do.eof
        blob = do.unused_data.lstrip(b"\x00")
    return out


def header_len(blob: bytes) -> int:
    """Length of a gzip member header, parsed by hand (FEXTRA/FNAME/FCOMMENT/FHCRC)."""
    flags = blob[3]
    pos = 10
    if flags & 4:
        pos += 2 + struct.unpack("<H", blob[pos : pos + 2])[0]
    if flags & 8:
        pos = blob.index(b"\x00", pos) + 1
    if flags & 16:
        pos = blob.index(b"\x00", pos) + 1
    if flags & 2:
        pos += 2
    return pos


# ---------------------------------------------------------------------------
# Module surface
# ---------------------------------------------------------------------------


def test_public_names(gzip_mod):
    for name in STD_GZIP.__all__:
        assert hasattr(gzip_mod, name), name
    assert set(STD_GZIP.__all__) <= set(getattr(gzip_mod, "__all__", STD_GZIP.__all__))


def test_bad_gzip_file_is_an_oserror(gzip_mod):
    assert issubclass(gzip_mod.BadGzipFile, OSError)
    with pytest.raises(gzip_mod.BadGzipFile):
        gzip_mod.decompress(b"not gzip data")


def test_compress_mtime_is_keyword_only(gzip_mod):
    with pytest.raises(TypeError):
        STD_GZIP.compress(b"", 9, 0)
    with pytest.raises(TypeError):
        gzip_mod.compress(b"", 9, 0)
    assert gzip_mod.compress(b"x", compresslevel=1, mtime=5)[4:8] == struct.pack("<I", 5)


def test_keyword_arguments_accepted(gzip_mod, tmp_path):
    p = tmp_path / "kw.gz"
    with gzip_mod.open(filename=p, mode="wt", compresslevel=5, encoding="utf-8", errors="strict", newline="\n") as f:
        f.write("hé\n")
    with gzip_mod.GzipFile(filename=str(p), mode="rb", compresslevel=9, fileobj=None, mtime=None) as f:
        assert f.read() == "hé\n".encode()
    assert gzip_mod.decompress(data=gzip_mod.compress(data=b"abc", compresslevel=1, mtime=0)) == b"abc"


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("level", range(0, 10))
def test_gzipfile_roundtrip_every_level(gzip_mod, level):
    blob = gz_write(gzip_mod, DATA, compresslevel=level)
    assert STD_GZIP.decompress(blob) == DATA
    with gz_reader(gzip_mod, blob) as f:
        assert f.read() == DATA
    with gz_reader(gzip_mod, gz_write(STD_GZIP, DATA, compresslevel=level)) as f:
        assert f.read() == DATA


@pytest.mark.parametrize("level", list(range(-1, 10)))
def test_compress_function_every_level(gzip_mod, level):
    blob = gzip_mod.compress(DATA, level)
    assert type(blob) is bytes
    assert STD_GZIP.decompress(blob) == DATA
    assert gzip_mod.decompress(blob) == DATA
    assert gzip_mod.decompress(STD_GZIP.compress(DATA, level)) == DATA


def test_many_small_writes_and_reads(gzip_mod):
    rng = random.Random(1)
    buf = io.BytesIO()
    with gzip_mod.GzipFile(fileobj=buf, mode="wb") as f:
        pos = 0
        while pos < len(DATA):
            n = rng.choice([0, 1, 2, 17, 1000, 70000])
            assert f.write(DATA[pos : pos + n]) == len(DATA[pos : pos + n])
            pos += n
    assert STD_GZIP.decompress(buf.getvalue()) == DATA
    with gz_reader(gzip_mod, buf.getvalue()) as f:
        out = []
        while True:
            chunk = f.read(rng.choice([1, 3, 100, 8192, 65537]))
            if not chunk:
                break
            out.append(chunk)
    assert b"".join(out) == DATA


@pytest.mark.parametrize(
    "factory",
    [bytes, bytearray, memoryview, lambda b: array.array("B", b), lambda b: np.frombuffer(b, dtype=np.uint8)],
    ids=["bytes", "bytearray", "memoryview", "array", "numpy"],
)
def test_write_and_compress_accept_buffers(gzip_mod, factory):
    buf = io.BytesIO()
    with gzip_mod.GzipFile(fileobj=buf, mode="wb") as f:
        assert f.write(factory(DATA[:1000])) == 1000
    assert STD_GZIP.decompress(buf.getvalue()) == DATA[:1000]
    assert STD_GZIP.decompress(gzip_mod.compress(factory(DATA[:1000]))) == DATA[:1000]
    assert gzip_mod.decompress(factory(STD_GZIP.compress(DATA[:1000]))) == DATA[:1000]


def test_write_returns_byte_count_for_multibyte_items(gzip_mod):
    buf = io.BytesIO()
    with gzip_mod.GzipFile(fileobj=buf, mode="wb") as f:
        assert f.write(array.array("I", [1, 2, 3])) == 12
        assert f.write(memoryview(b"abcd").cast("B", (2, 2))) == 4
        assert f.write(b"") == 0
    assert STD_GZIP.decompress(buf.getvalue()) == array.array("I", [1, 2, 3]).tobytes() + b"abcd"


@pytest.mark.parametrize("bad", ["text", None, 5], ids=["str", "None", "int"])
def test_write_rejects_non_buffers(gzip_mod, bad):
    with gzip_mod.GzipFile(fileobj=io.BytesIO(), mode="wb") as f:
        with pytest.raises(TypeError):
            f.write(bad)


def test_write_non_contiguous_like_stdlib(gzip_mod):
    def run(mod):
        with mod.GzipFile(fileobj=io.BytesIO(), mode="wb") as f:
            try:
                f.write(memoryview(b"abcdef")[::2])
            except Exception as exc:  # noqa: BLE001
                return error_kind(exc)
            return "ok"

    assert run(gzip_mod) == run(STD_GZIP)


@pytest.mark.parametrize("data", [b"", b"x"], ids=["empty", "one-byte"])
def test_tiny_payloads(gzip_mod, data):
    blob = gz_write(gzip_mod, data)
    assert STD_GZIP.decompress(blob) == data
    assert gzip_mod.decompress(blob) == data
    with gz_reader(gzip_mod, blob) as f:
        assert f.read() == data
        assert f.read() == b""


def test_zero_length_file_reads_as_empty(gzip_mod, tmp_path):
    p = tmp_path / "empty.gz"
    p.write_bytes(b"")
    with gzip_mod.open(p) as f:
        assert f.read() == b""
    assert gzip_mod.decompress(b"") == STD_GZIP.decompress(b"") == b""


def test_closed_without_writing_produces_valid_empty_member(gzip_mod):
    buf = io.BytesIO()
    gzip_mod.GzipFile(fileobj=buf, mode="wb").close()
    assert buf.getvalue()[:2] == b"\x1f\x8b"
    assert STD_GZIP.decompress(buf.getvalue()) == b""


# ---------------------------------------------------------------------------
# Files, names, modes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["str", "bytes", "pathlib"])
def test_open_by_name(gzip_mod, tmp_path, kind):
    p = tmp_path / "data.bin.gz"
    name = {"str": str(p), "bytes": os.fsencode(p), "pathlib": p}[kind]
    with gzip_mod.open(name, "wb") as f:
        f.write(DATA)
    assert STD_GZIP.decompress(p.read_bytes()) == DATA
    with gzip_mod.open(name, "rb") as f:
        assert f.read() == DATA
    with gzip_mod.open(name) as f:  # default mode is 'rb'
        assert f.read() == DATA
    with gzip_mod.GzipFile(name) as f:
        assert f.read() == DATA
    with gzip_mod.open(name, "rb") as f, STD_GZIP.open(name, "rb") as g:
        assert f.name == g.name
        assert f.mode == g.mode


@pytest.mark.parametrize(
    "mode", ["r", "rb", "w", "wb", "a", "ab", "x", "xb"]
)
def test_mode_attribute_like_stdlib(gzip_mod, tmp_path, mode):
    def run(mod, sub):
        d = tmp_path / sub
        d.mkdir()
        p = d / "f.gz"
        if mode[0] in "ra":
            p.write_bytes(STD_GZIP.compress(b"abc"))
        with mod.open(p, mode) as f:
            return (f.mode, f.name == str(p), f.readable(), f.writable(), f.seekable())

    assert run(gzip_mod, "impl") == run(STD_GZIP, "std")


@pytest.mark.parametrize("fmode", ["rb", "wb", "ab", "r+b"])
def test_mode_taken_from_fileobj_like_stdlib(gzip_mod, tmp_path, fmode):
    def run(mod, sub):
        p = tmp_path / f"{sub}.bin"
        p.write_bytes(STD_GZIP.compress(b"payload"))
        with open(p, fmode) as fo:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                g = mod.GzipFile(fileobj=fo)
            kinds = sorted({w.category.__name__ for w in caught})
            result = (g.mode, g.name == str(p), g.readable(), g.writable(), kinds)
            g.close()
            assert not fo.closed  # closing the GzipFile leaves a passed-in fileobj open
        return result

    assert run(gzip_mod, "impl") == run(STD_GZIP, "std")


def test_name_of_unnamed_fileobj_like_stdlib(gzip_mod):
    for mode in ("rb", "wb"):
        src = io.BytesIO(STD_GZIP.compress(b"x")) if mode == "rb" else io.BytesIO()
        with gzip_mod.GzipFile(fileobj=src, mode=mode) as f:
            src2 = io.BytesIO(STD_GZIP.compress(b"x")) if mode == "rb" else io.BytesIO()
            with STD_GZIP.GzipFile(fileobj=src2, mode=mode) as g:
                assert f.name == g.name
                assert f.mode == g.mode


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda m, p: m.open(p, "rbt"), id="open-rbt"),
        pytest.param(lambda m, p: m.open(p, "z"), id="open-z"),
        pytest.param(lambda m, p: m.open(p, "rb", encoding="utf-8"), id="open-binary-encoding"),
        pytest.param(lambda m, p: m.open(p, "rb", errors="strict"), id="open-binary-errors"),
        pytest.param(lambda m, p: m.open(p, "rb", newline="\n"), id="open-binary-newline"),
        pytest.param(lambda m, p: m.open(123.5, "rb"), id="open-float-name"),
        pytest.param(lambda m, p: m.open(None, "rb"), id="open-None-name"),
        pytest.param(lambda m, p: m.GzipFile(p, "rt"), id="GzipFile-text-mode"),
        pytest.param(lambda m, p: m.GzipFile(p, "z"), id="GzipFile-z"),
        pytest.param(lambda m, p: m.open(p + ".missing", "rb"), id="open-missing-file"),
        pytest.param(lambda m, p: m.open(p, "xb"), id="open-x-existing"),
        # Levels 10-12 are scalezip's documented extension; 13 is invalid for both.
        pytest.param(lambda m, p: m.open(io.BytesIO(), "wb", compresslevel=13), id="open-level-13"),
        pytest.param(lambda m, p: m.GzipFile(fileobj=io.BytesIO(), mode="wb", compresslevel=-2), id="GzipFile-level--2"),
        pytest.param(lambda m, p: m.compress(b"x", 13), id="compress-level-13"),
        pytest.param(lambda m, p: m.compress("text"), id="compress-str"),
        pytest.param(lambda m, p: m.decompress("text"), id="decompress-str"),
    ],
)
def test_invalid_arguments_like_stdlib(gzip_mod, zlib_mod, tmp_path, call):
    p = str(tmp_path / "exists.gz")
    with open(p, "wb") as f:
        f.write(STD_GZIP.compress(b"abc"))

    def run(mod, zmod):
        try:
            obj = call(mod, p)
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, zmod, mod))
        if hasattr(obj, "close"):
            obj.close()
        return ("ok",)

    want = run(STD_GZIP, STD_ZLIB)
    assert want[0] == "raise"  # every case is an error in the stdlib
    assert run(gzip_mod, zlib_mod) == want


def test_x_mode_creates_new_file(gzip_mod, tmp_path):
    p = tmp_path / "new.gz"
    with gzip_mod.open(p, "xb") as f:
        f.write(b"fresh")
    assert STD_GZIP.decompress(p.read_bytes()) == b"fresh"
    with pytest.raises(FileExistsError):
        gzip_mod.open(p, "xb")


def test_open_accepts_file_objects(gzip_mod):
    buf = io.BytesIO()
    with gzip_mod.open(buf, "wb") as f:
        f.write(DATA)
    assert not buf.closed
    buf.seek(0)
    with gzip_mod.open(buf, "rb") as f:
        assert f.read() == DATA


def test_close_semantics(gzip_mod, tmp_path):
    p = tmp_path / "c.gz"
    f = gzip_mod.open(p, "wb")
    f.write(b"abc")
    assert not f.closed
    f.close()
    assert f.closed
    f.close()  # idempotent
    with pytest.raises(ValueError):
        f.write(b"x")
    r = gzip_mod.open(p, "rb")
    r.close()
    with pytest.raises(ValueError):
        r.read()


def test_context_manager_closes(gzip_mod):
    with gzip_mod.GzipFile(fileobj=io.BytesIO(), mode="wb") as f:
        assert f.__enter__() is f
    assert f.closed


def test_exception_inside_with_still_closes(gzip_mod):
    buf = io.BytesIO()
    with pytest.raises(RuntimeError):
        with gzip_mod.GzipFile(fileobj=buf, mode="wb") as f:
            f.write(b"partial")
            raise RuntimeError("boom")
    assert f.closed
    assert STD_GZIP.decompress(buf.getvalue()) == b"partial"


def test_fileno(gzip_mod, tmp_path):
    p = tmp_path / "n.gz"
    with gzip_mod.open(p, "wb") as f:
        assert isinstance(f.fileno(), int)
    with open(p, "rb") as raw, gzip_mod.GzipFile(fileobj=raw) as f:
        assert f.fileno() == raw.fileno()
    with gzip_mod.GzipFile(fileobj=io.BytesIO(), mode="wb") as f:
        with pytest.raises(io.UnsupportedOperation):
            f.fileno()


def test_read_write_on_wrong_mode(gzip_mod):
    import errno

    with gzip_mod.GzipFile(fileobj=io.BytesIO(), mode="wb") as w:
        with pytest.raises(OSError) as exc:
            w.read()
        assert exc.value.errno == errno.EBADF
        assert not w.readable() and w.writable()
    with gz_reader(gzip_mod, STD_GZIP.compress(b"abc")) as r:
        with pytest.raises(OSError) as exc:
            r.write(b"x")
        assert exc.value.errno == errno.EBADF
        assert r.readable() and not r.writable() and r.seekable()


def test_gzipfile_is_an_io_buffered_base(gzip_mod):
    with gz_reader(gzip_mod, STD_GZIP.compress(b"abc")) as r:
        assert isinstance(r, io.BufferedIOBase)


# ---------------------------------------------------------------------------
# Text mode
# ---------------------------------------------------------------------------

TEXT = "héllo\nwörld\r\nmixed\rendings\n" * 100 + "ünïcödé ✓"


@pytest.mark.parametrize("newline", [None, "", "\n", "\r\n", "\r"])
def test_text_mode_roundtrip_like_stdlib(gzip_mod, tmp_path, newline):
    pi, ps = tmp_path / "i.gz", tmp_path / "s.gz"
    with gzip_mod.open(pi, "wt", encoding="utf-8", newline=newline) as f:
        assert isinstance(f, io.TextIOWrapper)
        f.write(TEXT)
    with STD_GZIP.open(ps, "wt", encoding="utf-8", newline=newline) as f:
        f.write(TEXT)
    assert STD_GZIP.decompress(pi.read_bytes()) == STD_GZIP.decompress(ps.read_bytes())
    with gzip_mod.open(pi, "rt", encoding="utf-8", newline=newline) as f, \
            STD_GZIP.open(ps, "rt", encoding="utf-8", newline=newline) as g:
        assert f.readlines() == g.readlines()


def test_text_mode_encoding_errors(gzip_mod, tmp_path):
    p = tmp_path / "latin.gz"
    p.write_bytes(STD_GZIP.compress("café".encode("latin-1")))
    with gzip_mod.open(p, "rt", encoding="ascii", errors="replace") as f:
        assert f.read() == "caf\ufffd"
    with gzip_mod.open(p, "rt", encoding="ascii") as f:
        with pytest.raises(UnicodeDecodeError):
            f.read()


def test_text_mode_append_and_exclusive(gzip_mod, tmp_path):
    p = tmp_path / "t.gz"
    with gzip_mod.open(p, "xt", encoding="utf-8") as f:
        f.write("one\n")
    with gzip_mod.open(p, "at", encoding="utf-8") as f:
        f.write("two\n")
    with gzip_mod.open(p, "rt", encoding="utf-8") as f:
        assert list(f) == ["one\n", "two\n"]
    assert len(members(p.read_bytes())) == 2


# ---------------------------------------------------------------------------
# Append and multi-member files
# ---------------------------------------------------------------------------


def test_append_produces_multi_member_file(gzip_mod, tmp_path):
    p = tmp_path / "app.gz"
    parts = [b"first part\n", b"", DATA[:50_000], b"last"]
    with gzip_mod.open(p, "wb") as f:
        f.write(parts[0])
    for part in parts[1:]:
        with gzip_mod.open(p, "ab") as f:
            f.write(part)
    blob = p.read_bytes()
    assert members(blob) == parts
    assert STD_GZIP.decompress(blob) == b"".join(parts)
    with gzip_mod.open(p) as f:
        assert f.read() == b"".join(parts)


@pytest.mark.parametrize("padding", [b"", b"\x00", b"\x00" * 1000], ids=["none", "1-zero", "1000-zeros"])
def test_multi_member_reading(gzip_mod, padding):
    blob = b"".join(STD_GZIP.compress(DATA[i : i + 10_000]) + padding for i in range(0, 60_000, 10_000))
    assert gzip_mod.decompress(blob) == DATA[:60_000]
    with gz_reader(gzip_mod, blob) as f:
        assert f.read() == DATA[:60_000]
    with gz_reader(gzip_mod, blob) as f:
        out = b""
        while chunk := f.read(777):
            out += chunk
    assert out == DATA[:60_000]


def test_multi_member_with_empty_members(gzip_mod):
    blob = STD_GZIP.compress(b"") + STD_GZIP.compress(b"a") + STD_GZIP.compress(b"") + STD_GZIP.compress(b"b")
    assert gzip_mod.decompress(blob) == b"ab"
    with gz_reader(gzip_mod, blob) as f:
        assert f.read() == b"ab"


def _member_with_header(payload: bytes, flags: int, extra=b"", fname=b"", comment=b"", mtime=0) -> bytes:
    head = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime) + b"\x00\x03"
    if flags & 4:
        head += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        head += fname + b"\x00"
    if flags & 16:
        head += comment + b"\x00"
    if flags & 2:
        head += struct.pack("<H", STD_ZLIB.crc32(head) & 0xFFFF)
    body = STD_ZLIB.compress(payload, 6, -15)
    return head + body + struct.pack("<II", STD_ZLIB.crc32(payload), len(payload) & 0xFFFFFFFF)


@pytest.mark.parametrize(
    "flags", [0, 1, 2, 4, 8, 16, 2 | 4 | 8 | 16, 31, 0xE0, 0xFF], ids=lambda f: f"flags{f:#04x}"
)
def test_optional_header_fields_are_parsed_like_stdlib(gzip_mod, flags):
    blob = _member_with_header(DATA[:5000], flags, extra=b"AB\x02\x00hi", fname=b"name.txt", comment=b"a comment")
    blob += _member_with_header(b"second", flags, extra=b"", fname=b"", comment=b"")

    def run(mod):
        try:
            with gz_reader(mod, blob) as f:
                a = f.read()
            return ("ok", a, mod.decompress(blob))
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, None, mod), str(exc))

    got, want = run(gzip_mod), run(STD_GZIP)
    assert got == want
    if flags < 0x20:
        assert want[0] == "ok" and want[1] == DATA[:5000] + b"second"


def test_mtime_read_from_header(gzip_mod):
    blob = STD_GZIP.compress(b"abc", mtime=123456789)
    with gz_reader(gzip_mod, blob) as f:
        f.read()
        assert f.mtime == 123456789


def test_mtime_of_unread_file_like_stdlib(gzip_mod):
    blob = STD_GZIP.compress(b"abc", mtime=42)
    with gz_reader(gzip_mod, blob) as f, gz_reader(STD_GZIP, blob) as g:
        assert f.mtime == g.mtime
        f.read(1)
        g.read(1)
        assert f.mtime == g.mtime == 42


# ---------------------------------------------------------------------------
# Header written by the writer (compared byte-for-byte with the stdlib)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    ["data.txt.gz", "data.txt", "archive.tar.gz", "x.GZ", "noext", "café.gz", "na\u20acme.gz", "dir/sub/file.gz",
     ".gz", "a.gz.gz"],
)
@pytest.mark.parametrize("level", [1, 6, 9])
def test_header_fname_and_fields_like_stdlib(gzip_mod, tmp_path, filename, level):
    # FNAME = basename, latin-1, minus a trailing lowercase ".gz"; omitted when not
    # latin-1 encodable or empty; XFL from level (9 -> 2, 1 -> 4, else 0); OS = 255.
    def write(mod, sub):
        p = tmp_path / sub / filename
        p.parent.mkdir(parents=True, exist_ok=True)
        with mod.GzipFile(str(p), "wb", compresslevel=level, mtime=1_000_000) as f:
            f.write(b"payload")
        return p.read_bytes()

    got, want = write(gzip_mod, "impl"), write(STD_GZIP, "std")
    assert got[: header_len(got)] == want[: header_len(want)]
    assert got[-8:] == want[-8:]
    assert STD_GZIP.decompress(got) == b"payload"


@pytest.mark.parametrize("name", ["file.bin", b"file.bin", b"bytes\xffname.gz"], ids=["str", "bytes", "bytes-nonascii"])
def test_header_fname_from_fileobj_filename_argument(gzip_mod, name):
    def write(mod):
        buf = io.BytesIO()
        with mod.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=7) as f:
            f.write(b"x")
        return buf.getvalue()

    got, want = write(gzip_mod), write(STD_GZIP)
    assert got[: header_len(got)] == want[: header_len(want)]


def test_header_without_name(gzip_mod):
    blob = gz_write(gzip_mod, b"x", mtime=99)
    assert blob[:10] == b"\x1f\x8b\x08\x00" + struct.pack("<I", 99) + b"\x02\xff"


@pytest.mark.parametrize("mtime", [0, 1, 1_700_000_000, 2**32 - 1])
def test_explicit_mtime_written(gzip_mod, mtime):
    assert gz_write(gzip_mod, b"x", mtime=mtime)[4:8] == struct.pack("<I", mtime)
    assert gzip_mod.compress(b"x", mtime=mtime)[4:8] == struct.pack("<I", mtime)


@pytest.mark.parametrize("mtime", [2**32, -1], ids=["2^32", "-1"])
def test_out_of_range_mtime_like_stdlib(gzip_mod, zlib_mod, mtime):
    def run(mod, zmod):
        try:
            # gzip.compress only: a GzipFile whose constructor fails here leaves a
            # half-built object whose __del__ raises (an unraisable warning) on 3.13.
            return ("ok", mod.compress(b"x", mtime=mtime)[4:8])
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, zmod, mod))

    assert run(gzip_mod, zlib_mod) == run(STD_GZIP, STD_ZLIB)


def test_default_mtime_is_now(gzip_mod):
    before = int(time.time()) - 2
    blob_a = gz_write(gzip_mod, b"x")
    blob_b = gzip_mod.compress(b"x")
    after = int(time.time()) + 2
    for blob in (blob_a, blob_b):
        (mtime,) = struct.unpack("<I", blob[4:8])
        assert before <= mtime <= after


@pytest.mark.parametrize("level", range(-1, 10))
def test_compress_function_header_like_stdlib(gzip_mod, level):
    got = gzip_mod.compress(DATA[:1000], level, mtime=0)
    want = STD_GZIP.compress(DATA[:1000], level, mtime=0)
    assert got[:10] == want[:10]
    assert got[-8:] == want[-8:]


def test_compress_mtime_zero_is_deterministic(gzip_mod):
    assert gzip_mod.compress(DATA, mtime=0) == gzip_mod.compress(DATA, mtime=0)


# ---------------------------------------------------------------------------
# Reading API
# ---------------------------------------------------------------------------


def test_readline_and_iteration(gzip_mod):
    blob = STD_GZIP.compress(LINES)
    expected = LINES.splitlines(keepends=True)
    with gz_reader(gzip_mod, blob) as f:
        assert list(f) == expected
    with gz_reader(gzip_mod, blob) as f:
        assert f.readlines() == expected
    with gz_reader(gzip_mod, blob) as f:
        got = []
        while line := f.readline():
            got.append(line)
        assert got == expected
        assert f.readline() == b""


@pytest.mark.parametrize("size", [-1, 0, 1, 5, 12, 100])
def test_readline_with_size_like_stdlib(gzip_mod, size):
    blob = STD_GZIP.compress(LINES[:2000])
    with gz_reader(gzip_mod, blob) as f, gz_reader(STD_GZIP, blob) as g:
        for _ in range(50):
            assert f.readline(size) == g.readline(size)


@pytest.mark.parametrize("hint", [-1, 0, 1, 50, 1000])
def test_readlines_hint_like_stdlib(gzip_mod, hint):
    blob = STD_GZIP.compress(LINES[:3000])
    with gz_reader(gzip_mod, blob) as f, gz_reader(STD_GZIP, blob) as g:
        assert f.readlines(hint) == g.readlines(hint)


@pytest.mark.parametrize("n", [-1, None, 0])
def test_read_size_variants_like_stdlib(gzip_mod, n):
    blob = STD_GZIP.compress(DATA[:10_000])
    with gz_reader(gzip_mod, blob) as f, gz_reader(STD_GZIP, blob) as g:
        assert f.read(n) == g.read(n)


def test_read_negative_size_other_than_minus_one_like_stdlib(gzip_mod):
    def run(mod):
        with gz_reader(mod, STD_GZIP.compress(b"abc")) as f:
            try:
                return ("ok", f.read(-5))
            except Exception as exc:  # noqa: BLE001
                return ("raise", type(exc).__name__)

    assert run(gzip_mod) == run(STD_GZIP)


def test_peek_does_not_advance(gzip_mod):
    blob = STD_GZIP.compress(DATA)
    with gz_reader(gzip_mod, blob) as f:
        f.read(10)
        p = f.peek(5)
        assert len(p) >= 1 and DATA[10:].startswith(p)
        assert f.tell() == 10
        assert f.read(5) == DATA[10:15]
        f.read()
        assert f.peek(1) == b""


def test_peek_on_empty_payload(gzip_mod):
    with gz_reader(gzip_mod, STD_GZIP.compress(b"")) as f:
        assert f.peek(1) == b""


@pytest.mark.parametrize("n", [-1, 1, 100, 1 << 20])
def test_read1(gzip_mod, n):
    blob = STD_GZIP.compress(DATA)
    with gz_reader(gzip_mod, blob) as f:
        out = b""
        while True:
            chunk = f.read1(n)
            if not chunk:
                break
            if n > 0:
                assert len(chunk) <= n
            out += chunk
        assert out == DATA


def test_read1_default_and_zero(gzip_mod):
    with gz_reader(gzip_mod, STD_GZIP.compress(DATA)) as f:
        assert f.read1(0) == b""
        first = f.read1()
        assert first and DATA.startswith(first)


@pytest.mark.parametrize("method", ["readinto", "readinto1"])
@pytest.mark.parametrize("size", [1, 7, 4096, 100_000])
def test_readinto(gzip_mod, method, size):
    with gz_reader(gzip_mod, STD_GZIP.compress(DATA)) as f:
        out = bytearray()
        buf = bytearray(size)
        while True:
            n = getattr(f, method)(buf)
            assert 0 <= n <= size
            if n == 0:
                break
            out += buf[:n]
        assert out == DATA


def test_readinto_numpy_and_memoryview(gzip_mod):
    with gz_reader(gzip_mod, STD_GZIP.compress(DATA[:1000])) as f:
        arr = np.zeros(600, dtype=np.uint8)
        assert f.readinto(arr) == 600
        mv = memoryview(bytearray(600))
        assert f.readinto(mv) == 400
    assert arr.tobytes() + bytes(mv[:400]) == DATA[:1000]


def test_seek_and_tell_read_mode(gzip_mod):
    blob = STD_GZIP.compress(DATA)
    with gz_reader(gzip_mod, blob) as f:
        assert f.tell() == 0
        assert f.read(100) == DATA[:100]
        assert f.tell() == 100
        assert f.seek(50_000) == 50_000  # forward
        assert f.read(10) == DATA[50_000:50_010]
        assert f.seek(5) == 5  # backward: rewinds and re-reads
        assert f.read(10) == DATA[5:15]
        assert f.seek(1000, io.SEEK_CUR) == 1015
        assert f.read(3) == DATA[1015:1018]
        assert f.seek(-18, io.SEEK_CUR) == 1000
        assert f.read(1) == DATA[1000:1001]


@pytest.mark.parametrize(
    "ops",
    [
        [(0, 2)],
        [(-1, 0)],
        [(10, 0), (-1000, 1)],
        [(10**9, 0)],
        [(-5, 2)],
        [(0, 3)],
        [(5, 0), (0, 1)],
    ],
    ids=["end", "negative-set", "negative-cur", "beyond-eof", "end-minus-5", "bad-whence", "cur-zero"],
)
def test_seek_edge_cases_read_mode_like_stdlib(gzip_mod, ops):
    blob = STD_GZIP.compress(DATA[:20_000])

    def run(mod):
        results = []
        with gz_reader(mod, blob) as f:
            for off, whence in ops:
                try:
                    results.append(("ok", f.seek(off, whence), f.tell()))
                except Exception as exc:  # noqa: BLE001
                    results.append(("raise", type(exc).__name__))
            results.append(f.read(10))
        return results

    assert run(gzip_mod) == run(STD_GZIP)


def test_seek_across_members(gzip_mod):
    blob = STD_GZIP.compress(DATA[:30_000]) + STD_GZIP.compress(DATA[30_000:60_000])
    with gz_reader(gzip_mod, blob) as f:
        f.seek(45_000)
        assert f.read(10) == DATA[45_000:45_010]
        f.seek(29_995)
        assert f.read(10) == DATA[29_995:30_005]


def test_seek_write_mode(gzip_mod):
    buf = io.BytesIO()
    ref = io.BytesIO()
    with gzip_mod.GzipFile(fileobj=buf, mode="wb") as f, STD_GZIP.GzipFile(fileobj=ref, mode="wb") as g:
        f.write(b"abc")
        g.write(b"abc")
        assert f.tell() == 3
        # Forward seek writes zeros; the return value differs between Python
        # versions (3.12+ return the offset *before* the seek), so mirror the stdlib.
        assert f.seek(10) == g.seek(10)
        assert f.tell() == 10
        f.write(b"def")
        g.write(b"def")
        assert f.seek(2, io.SEEK_CUR) == g.seek(2, io.SEEK_CUR)
        f.write(b"g")
        assert f.tell() == 16
    assert STD_GZIP.decompress(buf.getvalue()) == b"abc" + bytes(7) + b"def" + bytes(2) + b"g"


@pytest.mark.parametrize(
    "off,whence", [(1, 0), (-1, 1), (0, 2), (5, 2)], ids=["backward-set", "backward-cur", "end", "end+5"]
)
def test_seek_write_mode_errors_like_stdlib(gzip_mod, off, whence):
    def run(mod):
        with mod.GzipFile(fileobj=io.BytesIO(), mode="wb") as f:
            f.write(b"abcdef")
            try:
                return ("ok", f.seek(off, whence))
            except Exception as exc:  # noqa: BLE001
                return ("raise", type(exc).__name__, str(exc))

    want = run(STD_GZIP)
    assert run(gzip_mod) == want


def test_flush_makes_written_data_decodable(gzip_mod):
    buf = io.BytesIO()
    f = gzip_mod.GzipFile(fileobj=buf, mode="wb")
    f.write(DATA[:5000])
    f.flush()
    blob = buf.getvalue()
    do = STD_ZLIB.decompressobj(31)
    assert do.decompress(blob) == DATA[:5000]
    f.write(DATA[5000:6000])
    f.flush(STD_ZLIB.Z_FULL_FLUSH)
    assert do.decompress(buf.getvalue()[len(blob) :]) == DATA[5000:6000]
    f.close()
    assert STD_GZIP.decompress(buf.getvalue()) == DATA[:6000]


def test_read_after_eof_keeps_returning_empty(gzip_mod):
    with gz_reader(gzip_mod, STD_GZIP.compress(b"abc")) as f:
        assert f.read() == b"abc"
        for _ in range(3):
            assert f.read() == b""
            assert f.read(10) == b""
            assert f.read1(10) == b""
            assert f.readline() == b""


def test_rewind(gzip_mod):
    with gz_reader(gzip_mod, STD_GZIP.compress(DATA[:1000])) as f:
        f.read()
        f.rewind()
        assert f.read(10) == DATA[:10]


# ---------------------------------------------------------------------------
# Basic error classes (exhaustive malformed-input coverage is in test_malformed.py)
# ---------------------------------------------------------------------------

GOOD = STD_GZIP.compress(DATA[:20_000], mtime=0)
TRUNC_MSG = "Compressed file ended before the end-of-stream marker was reached"


def _corrupt(blob: bytes, index: int, xor: int = 0x01) -> bytes:
    b = bytearray(blob)
    b[index] ^= xor
    return bytes(b)


CASES = {
    "bad-magic": b"\x1f\x8c" + GOOD[2:],
    "not-gzip": b"hello world, not gzip",
    "single-byte": b"\x1f",
    "magic-only": b"\x1f\x8b",
    "unknown-method": GOOD[:2] + b"\x07" + GOOD[3:],
    "crc-mismatch": _corrupt(GOOD, -8),
    "isize-mismatch": _corrupt(GOOD, -1),
    "truncated-header": GOOD[:6],
    "truncated-body": GOOD[: len(GOOD) // 2],
    "truncated-trailer": GOOD[:-3],
    "missing-trailer": GOOD[:-8],
    "trailing-garbage": GOOD + b"garbage",
    "trailing-single-byte": GOOD + b"\x01",
    "trailing-zeros": GOOD + bytes(100),
    "trailing-magic-byte": GOOD + b"\x1f",
    "trailing-partial-header": GOOD + GOOD[:5],
    "second-member-truncated": GOOD + GOOD[:-1],
    "zeros-then-garbage": GOOD + bytes(4) + b"junk",
    "unterminated-fname": _member_with_header(b"x", 8, fname=b"name")[:14],
    "fextra-truncated": _member_with_header(b"x", 4, extra=b"abcdef")[:14],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_decompress_errors_like_stdlib(gzip_mod, zlib_mod, case):
    blob = CASES[case]

    def run(mod, zmod):
        try:
            return ("ok", mod.decompress(blob))
        except Exception as exc:  # noqa: BLE001
            return ("raise", error_kind(exc, zmod, mod), str(exc))

    assert run(gzip_mod, zlib_mod) == run(STD_GZIP, STD_ZLIB)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gzipfile_read_errors_like_stdlib(gzip_mod, zlib_mod, case):
    blob = CASES[case]

    def run(mod, zmod):
        try:
            with gz_reader(mod, blob) as f:
                return ("ok", f.read())
        except Exception as exc:  # noqa: BLE001
            # GzipFile's CRC message includes both values; the kind is the contract.
            return ("raise", error_kind(exc, zmod, mod), str(exc).split(" 0x")[0])

    assert run(gzip_mod, zlib_mod) == run(STD_GZIP, STD_ZLIB)


def test_truncation_raises_eoferror_with_message(gzip_mod):
    for cut in (11, len(GOOD) // 3, len(GOOD) - 8, len(GOOD) - 1):
        with pytest.raises(EOFError, match=TRUNC_MSG):
            gzip_mod.decompress(GOOD[:cut])
        with pytest.raises(EOFError, match=TRUNC_MSG):
            read_all(gzip_mod, GOOD[:cut])


def test_crc_mismatch_is_bad_gzip_file(gzip_mod):
    with pytest.raises(gzip_mod.BadGzipFile, match="CRC check failed"):
        gzip_mod.decompress(CASES["crc-mismatch"])
    with pytest.raises(gzip_mod.BadGzipFile, match="CRC check failed"):
        read_all(gzip_mod, CASES["crc-mismatch"])


def test_bad_magic_is_bad_gzip_file(gzip_mod):
    with pytest.raises(gzip_mod.BadGzipFile, match="Not a gzipped file"):
        gzip_mod.decompress(CASES["bad-magic"])
    with pytest.raises(OSError):  # BadGzipFile is an OSError, as callers rely on
        read_all(gzip_mod, CASES["not-gzip"])


def test_data_before_error_is_readable(gzip_mod):
    # Reading in small steps yields the good prefix before the error surfaces.
    blob = GOOD + b"garbage"
    with gz_reader(gzip_mod, blob) as f:
        assert f.read(len(DATA[:20_000])) == DATA[:20_000]
        with pytest.raises(gzip_mod.BadGzipFile):
            f.read(1)


# ---------------------------------------------------------------------------
# Command line interface: python -m <module>, differentially against python -m gzip
# ---------------------------------------------------------------------------


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.pop("PYTHONWARNINGS", None)
    return env


def run_cli(module, args, stdin=b"", cwd=None):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=_child_env(),
        timeout=120,
    )


CLI_INPUT = text_bytes(200_000, 41)


@pytest.mark.parametrize("flags,xfl", [([], 0), (["--fast"], 4), (["--best"], 2)], ids=["default", "fast", "best"])
def test_cli_compress_stdin_to_stdout(gzip_cli_module, flags, xfl):
    res = run_cli(gzip_cli_module, flags, stdin=CLI_INPUT)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out[:4] == b"\x1f\x8b\x08\x00"  # no FNAME for stdin
    assert out[8] == xfl and out[9] == 255
    assert STD_GZIP.decompress(out) == CLI_INPUT
    ref = run_cli("gzip", flags, stdin=CLI_INPUT).stdout
    assert out[8:10] == ref[8:10]


@pytest.mark.parametrize("args", [["-d"], ["--decompress"], ["-d", "-"]])
def test_cli_decompress_stdin_to_stdout(gzip_cli_module, args):
    blob = STD_GZIP.compress(CLI_INPUT) + STD_GZIP.compress(b"second member")
    res = run_cli(gzip_cli_module, args, stdin=blob)
    assert res.returncode == 0, res.stderr
    assert res.stdout == CLI_INPUT + b"second member"


def test_cli_compress_and_decompress_files(gzip_cli_module, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.bin"
    a.write_bytes(CLI_INPUT)
    b.write_bytes(seeded_bytes(50_000, 3))
    res = run_cli(gzip_cli_module, ["a.txt", "b.bin"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert a.exists() and b.exists()  # inputs are kept
    ga, gb = (tmp_path / "a.txt.gz").read_bytes(), (tmp_path / "b.bin.gz").read_bytes()
    assert STD_GZIP.decompress(ga) == CLI_INPUT
    assert STD_GZIP.decompress(gb) == b.read_bytes()
    assert ga[3] & 8 and ga[10:16] == b"a.txt\x00"  # FNAME from the file name
    a.unlink()
    res = run_cli(gzip_cli_module, ["-d", "a.txt.gz"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert a.read_bytes() == CLI_INPUT
    assert (tmp_path / "a.txt.gz").exists()


@pytest.mark.parametrize(
    "args",
    [["-d", "noext"], ["--fast", "--best"], ["--bogus"], ["missing-file"], ["-d", "missing.gz"]],
    ids=["decompress-without-.gz", "fast-and-best", "unknown-flag", "missing-input", "missing-gz"],
)
def test_cli_errors_like_stdlib(gzip_cli_module, tmp_path, args):
    (tmp_path / "noext").write_bytes(STD_GZIP.compress(b"x"))
    res = run_cli(gzip_cli_module, args, cwd=tmp_path)
    ref = run_cli("gzip", args, cwd=tmp_path)
    assert ref.returncode != 0
    assert res.returncode == ref.returncode
    assert res.stdout == ref.stdout == b""
    if args[:2] == ["-d", "noext"]:
        assert b"filename doesn't end in .gz" in res.stderr


def test_cli_decompress_corrupt_input_fails(gzip_cli_module):
    res = run_cli(gzip_cli_module, ["-d"], stdin=b"this is not gzip")
    assert res.returncode != 0
    assert b"BadGzipFile" in res.stderr or b"Not a gzipped file" in res.stderr


def test_cli_help(gzip_cli_module):
    res = run_cli(gzip_cli_module, ["--help"])
    assert res.returncode == 0
    for flag in (b"--fast", b"--best", b"-d", b"--decompress"):
        assert flag in res.stdout



@pytest.mark.parametrize("level", [10, 11, 12])
def test_levels_10_to_12_extension(gzip_mod, against_stdlib, level):
    """scalezip accepts levels 10-12 (stronger, slower parses) where the stdlib
    raises; the output is an ordinary gzip stream."""
    if against_stdlib:
        pytest.skip("levels 10-12 are a scalezip extension")
    data = text_bytes(200_000, 3)
    blob = gzip_mod.compress(data, level, mtime=1)
    assert STD_GZIP.decompress(blob) == data
    buf = io.BytesIO()
    with gzip_mod.open(buf, "wb", compresslevel=level) as f:
        f.write(data)
    assert STD_GZIP.decompress(buf.getvalue()) == data
