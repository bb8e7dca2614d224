"""scalezip.cm (context mixing): round trips over byte distributions and
input types, determinism across processes, levels (validation, memory,
recorded in the stream), the streaming objects and file objects (any split
gives the one-shot stream, max_length, unused data), format version 1
still read, the registry and command line, and the decoder on damaged
input (every error a scalezip.cm.error naming what is wrong; no other
exception, no hang, no silent corruption)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from conftest import seeded_bytes, stdlib_sources_blob, text_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

cm = pytest.importorskip("scalezip.cm")
import scalezip  # noqa: E402

HEADER = 7  # version 2: magic, version, level, block size
FRAME = 8
TRAILER = 12
TEXT = stdlib_sources_blob(120_000)


def header(blob: bytes) -> tuple[bytes, int, int, int, int]:
    """Magic, version, level, block size (log2) and the trailer's length."""
    return blob[:4], blob[4], blob[5], blob[6], int.from_bytes(blob[-12:-4], "little")


def as_version_1(blob: bytes, data: bytes) -> bytes:
    """The version 1 stream of a one-frame version 2 stream: the payload is
    the same bytes (docs/cm.md), only the container differs."""
    assert int.from_bytes(blob[7:11], "little") == len(data) < 1 << 20
    payload = blob[HEADER + FRAME : -TRAILER]
    assert int.from_bytes(blob[11:15], "little") == len(payload)
    crc = blob[-4:]
    return b"SZCM\x01" + blob[5:6] + len(data).to_bytes(8, "little") + crc + payload


CASES = {
    "empty": b"",
    "one_byte": b"\x7f",
    "all_values": bytes(range(256)),
    "all_values_repeated": bytes(range(256)) * 40,
    "random": seeded_bytes(20_000, 1),
    "zeros": b"\x00" * 100_000,
    "repetitive": b"abcabcabd" * 5000,
    "words": text_bytes(60_000, 2),
    "python_sources": TEXT,
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip(name: str) -> None:
    data = CASES[name]
    blob = cm.compress(data, level=1)
    assert isinstance(blob, bytes)
    assert header(blob) == (b"SZCM", 2, 1, 20, len(data))
    assert cm.decompress(blob) == data
    if len(data) < 1 << 20:
        assert cm.decompress(as_version_1(blob, data)) == data


def test_compresses_well() -> None:
    blob = cm.compress(TEXT, level=2)
    # 120 kB of Python sources: the model, learning from nothing, beats zlib -9.
    import zlib

    assert len(blob) < 0.9 * len(zlib.compress(TEXT, 9))
    assert len(cm.compress(b"\x00" * 100_000, level=1)) < 200
    # Incompressible data expands by little more than the header.
    rnd = CASES["random"]
    assert len(cm.compress(rnd, level=1)) < len(rnd) * 1.02 + HEADER + 8


@pytest.mark.parametrize("kind", ["bytearray", "memoryview", "numpy"])
def test_input_types(kind: str) -> None:
    data = text_bytes(10_000, 3)
    if kind == "bytearray":
        obj: object = bytearray(data)
    elif kind == "memoryview":
        obj = memoryview(data)
    else:
        np = pytest.importorskip("numpy")
        obj = np.frombuffer(data, dtype=np.uint8).view(np.uint16)
    blob = cm.compress(obj, level=1)
    assert blob == cm.compress(data, level=1)
    assert cm.decompress(bytearray(blob)) == data
    assert cm.decompress(memoryview(blob)) == data


def test_default_level_and_levels_recorded() -> None:
    data = text_bytes(5_000, 4)
    assert cm.compress(data)[5] == cm.DEFAULT_LEVEL
    for level in (1, 3, 9):
        blob = cm.compress(data, level)
        assert blob[5] == level
        assert cm.decompress(blob) == data


def test_bigger_models_help_on_big_inputs() -> None:
    data = stdlib_sources_blob(1 << 20)
    small = len(cm.compress(data, level=1))
    big = len(cm.compress(data, level=4))
    assert big < small


@pytest.mark.parametrize("level", [0, 10, -1, 100])
def test_level_validation(level: int) -> None:
    with pytest.raises(ValueError, match="level"):
        cm.compress(b"x", level)
    with pytest.raises(ValueError, match="level"):
        cm.model_bytes(level)


def test_level_type_validation() -> None:
    with pytest.raises(TypeError):
        cm.compress(b"x", 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cm.compress(b"x", True)
    with pytest.raises(ValueError, match="max_length"):
        cm.decompress(b"", max_length=-1)


def test_model_bytes() -> None:
    sizes = [cm.model_bytes(level) for level in range(cm.MIN_LEVEL, cm.MAX_LEVEL + 1)]
    assert sizes == sorted(sizes)
    assert all(b > 1.4 * a for a, b in zip(sizes, sizes[1:], strict=False))
    assert 4 << 20 < sizes[0] < 16 << 20
    assert 1 << 30 < sizes[-1] < 2 << 30


def test_deterministic_across_processes() -> None:
    data = TEXT[:40_000]
    code = (
        "import hashlib, sys, scalezip.cm as cm; "
        "d = sys.stdin.buffer.read(); "
        "print(hashlib.sha256(cm.compress(d, 2)).hexdigest())"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], input=data, capture_output=True, timeout=300, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    here = hashlib.sha256(cm.compress(data, 2)).hexdigest().encode()
    assert runs[0] == runs[1] == here


# ---------------------------------------------------------------- damage

GOOD_DATA = text_bytes(6_000, 5)
GOOD = cm.compress(GOOD_DATA, level=1)


GOOD_V1 = as_version_1(GOOD, GOOD_DATA)
V1_HEADER = 18


def patched(blob: bytes, offset: int, value: bytes) -> bytes:
    return blob[:offset] + value + blob[offset + len(value) :]


@pytest.mark.parametrize("cut", [0, 1, 3, 4, 6])
def test_truncated_header(cut: int) -> None:
    with pytest.raises(cm.error, match="truncated"):
        cm.decompress(GOOD[:cut])
    with pytest.raises(cm.error, match="truncated"):
        cm.decompress(GOOD_V1[:cut])


@pytest.mark.parametrize("cut", [HEADER, HEADER + 1, 14, 15, 16, len(GOOD) // 2, len(GOOD) - 1])
def test_truncated_stream(cut: int) -> None:
    with pytest.raises(cm.error, match="truncated|cannot be coded"):
        cm.decompress(GOOD[:cut])
    d = cm.CMDecompressor()
    out = d.decompress(GOOD[:cut])
    with pytest.raises(cm.error, match="truncated"):
        out += d.flush()
    assert GOOD_DATA.startswith(out)


@pytest.mark.parametrize(
    "cut", [V1_HEADER - 1, V1_HEADER, V1_HEADER + 1, len(GOOD_V1) // 2, len(GOOD_V1) - 1]
)
def test_truncated_version_1(cut: int) -> None:
    with pytest.raises(cm.error, match="truncated|corrupt|cannot be coded"):
        cm.decompress(GOOD_V1[:cut])
    d = cm.CMDecompressor()
    with pytest.raises(cm.error, match="truncated|corrupt|cannot be coded"):
        d.decompress(GOOD_V1[:cut])
        d.flush()


def test_header_fields_checked() -> None:
    n = len(GOOD)
    with pytest.raises(cm.error, match="no SZCM magic"):
        cm.decompress(patched(GOOD, 0, b"X"))
    with pytest.raises(cm.error, match="version 4"):
        cm.decompress(patched(GOOD, 4, b"\x04"))
    for bad_level in (b"\x00", b"\x0a", b"\xff"):
        with pytest.raises(cm.error, match="level"):
            cm.decompress(patched(GOOD, 5, bad_level))
    with pytest.raises(cm.error, match="block size"):
        cm.decompress(patched(GOOD, 6, b"\x30"))
    with pytest.raises(cm.error, match="more than a block"):
        cm.decompress(patched(GOOD, 7, (1 << 21).to_bytes(4, "little")))
    with pytest.raises(cm.error, match="cannot be coded"):
        cm.decompress(patched(GOOD, 7, (500_000).to_bytes(4, "little") + bytes(4)))
    with pytest.raises(cm.error, match="more than the limit"):
        cm.decompress(GOOD, max_length=len(GOOD_DATA) - 1)
    assert cm.decompress(GOOD, max_length=len(GOOD_DATA)) == GOOD_DATA
    with pytest.raises(cm.error, match="CRC-32"):
        cm.decompress(patched(GOOD, n - 1, bytes([GOOD[-1] ^ 1])))
    with pytest.raises(cm.error, match="trailer records"):
        cm.decompress(patched(GOOD, n - 12, bytes([GOOD[n - 12] ^ 1])))
    with pytest.raises(cm.error, match="trailing data"):
        cm.decompress(GOOD + b"\x00")


def test_version_1_header_fields_checked() -> None:
    assert cm.decompress(GOOD_V1) == GOOD_DATA
    # A huge declared length is refused before anything is allocated.
    with pytest.raises(cm.error, match="cannot be coded"):
        cm.decompress(patched(GOOD_V1, 6, (1 << 62).to_bytes(8, "little")))
    with pytest.raises(cm.error, match="more than the limit"):
        cm.decompress(GOOD_V1, max_length=len(GOOD_DATA) - 1)
    with pytest.raises(cm.error, match="CRC-32"):
        cm.decompress(patched(GOOD_V1, 14, bytes([GOOD_V1[14] ^ 1])))
    # A wrong length (shorter) decodes a prefix whose CRC fails.
    with pytest.raises(cm.error, match="CRC-32"):
        cm.decompress(patched(GOOD_V1, 6, (len(GOOD_DATA) - 1).to_bytes(8, "little")))
    d = cm.CMDecompressor()
    with pytest.raises(cm.error, match="CRC-32"):
        d.decompress(patched(GOOD_V1, 14, bytes([GOOD_V1[14] ^ 1])))
        d.flush()


def test_errors_are_scalezip_errors() -> None:
    assert issubclass(cm.error, scalezip.error)
    with pytest.raises(scalezip.error):
        cm.decompress(b"nope")


def stream_decode(blob: bytes, piece: int, max_length: int) -> tuple[bytes, bytes]:
    """Feed ``blob`` to a CMDecompressor ``piece`` bytes at a time, asking
    for at most ``max_length`` bytes a call; (output, unused_data). Fails
    the test if the decoder stops making progress."""
    d = cm.CMDecompressor()
    out = []
    at = 0
    for _ in range(10 * len(blob) + 100_000):
        if d.eof:
            return b"".join(out), d.unused_data + blob[at:]
        if d.unconsumed_tail or d.output_pending:
            data = d.unconsumed_tail
        elif at < len(blob):
            data, at = blob[at : at + piece], at + piece
        else:
            out.append(d.flush())
            assert d.eof
            continue
        chunk = d.decompress(data, max_length)
        assert max_length == 0 or len(chunk) <= max_length
        out.append(chunk)
    raise AssertionError("the decompressor stopped making progress")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_streams_raise(data: st.DataObject) -> None:
    blob = bytearray(GOOD)
    i = data.draw(st.integers(0, len(blob) - 1))
    blob[i] ^= data.draw(st.integers(1, 255))
    try:
        out = cm.decompress(bytes(blob))
    except cm.error:
        pass
    else:
        # A change in the last bytes may leave the decoded bits unchanged
        # (the code value stays in the final interval); never wrong data.
        assert out == GOOD_DATA
    try:
        out, _ = stream_decode(bytes(blob), data.draw(st.integers(1, 3000)), 0)
    except cm.error:
        return
    assert out == GOOD_DATA


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_mutated_version_1_streams_raise(data: st.DataObject) -> None:
    blob = bytearray(GOOD_V1)
    i = data.draw(st.integers(0, len(blob) - 1))
    blob[i] ^= data.draw(st.integers(1, 255))
    for decode in (cm.decompress, lambda b: stream_decode(b, 500, 0)[0]):
        try:
            out = decode(bytes(blob))
        except cm.error:
            continue
        assert out == GOOD_DATA


GOOD_V3 = cm.compress(GOOD_DATA, level=1, segment_size=cm.BLOCK_SIZE)


@given(st.data())
def test_mutated_version_3_streams_raise(data: st.DataObject) -> None:
    # One segment here (multi-segment damage: the Rust tests, small blocks).
    assert GOOD_V3[4] == 3
    blob = bytearray(GOOD_V3)
    i = data.draw(st.integers(0, len(blob) - 1))
    blob[i] ^= data.draw(st.integers(1, 255))
    decoders = (
        lambda b: cm.decompress(b, threads=2),
        lambda b: stream_decode(b, 500, 0)[0],
    )
    for decode in decoders:
        try:
            out = decode(bytes(blob))
        except cm.error:
            continue
        assert out == GOOD_DATA


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_payload_raises(payload: bytes) -> None:
    for blob in (GOOD[:HEADER] + payload, GOOD_V1[:V1_HEADER] + payload):
        for decode in (cm.decompress, lambda b: stream_decode(b, 64, 0)[0]):
            try:
                out = decode(blob)
            except cm.error:
                continue
            # Only possible if the garbage happens to decode to the right data.
            assert out == GOOD_DATA


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 3))
def test_round_trip_property(data: bytes, level: int) -> None:
    assert cm.decompress(cm.compress(data, level)) == data


# ---------------------------------------------------------------- streaming


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 7000), max_size=6), st.integers(1, 3))
def test_any_split_gives_the_one_shot_stream(cuts: list[int], level: int) -> None:
    data = GOOD_DATA + CASES["random"][:1000]
    one = cm.compress(data, level)
    c = cm.CMCompressor(level)
    parts = []
    start = 0
    for cut in sorted(cuts) + [len(data)]:
        parts.append(c.compress(data[start:cut]))
        start = max(start, cut)
    parts.append(c.flush())
    assert b"".join(parts) == one


def test_streams_across_frames() -> None:
    # Three frames: two full 1 MiB blocks and a short last one.
    data = stdlib_sources_blob((2 << 20) + 5000)
    one = cm.compress(data, 1)
    c = cm.CMCompressor(1)
    parts = [c.compress(memoryview(data)[i : i + 300_000]) for i in range(0, len(data), 300_000)]
    # Nothing but the header until a block is complete; a frame after each.
    assert parts[0] == one[:HEADER] and len(parts[3]) > 1000
    assert b"".join(parts) + c.flush() == one
    for piece, max_length in [(1 << 20, 0), (4096, 100_000), (len(one), 1 << 20)]:
        out, rest = stream_decode(one + b"next", piece, max_length)
        assert out == data and rest == b"next"
    assert cm.decompress(one) == data


@pytest.mark.parametrize("name", ["empty", "one_byte", "zeros", "random", "python_sources"])
@pytest.mark.parametrize("piece", [1, 1000, 1 << 20])
def test_decompressor_round_trip(name: str, piece: int) -> None:
    data = CASES[name]
    blob = cm.compress(data, 1)
    out, rest = stream_decode(blob, piece, 0)
    assert out == data and rest == b""
    out, rest = stream_decode(blob + b"tail", piece, 333)
    assert out == data and rest == b"tail"
    if len(data) < 1 << 20:
        out, rest = stream_decode(as_version_1(blob, data), piece, 500)
        assert out == data and rest == b""


def test_decompressor_max_length_and_state() -> None:
    d = cm.CMDecompressor()
    assert d.level is None
    first = d.decompress(GOOD, 10)
    assert first == GOOD_DATA[:10] and d.level == 1
    # The whole (small) stream is held internally: output is pending.
    assert d.output_pending and not d.eof and d.unconsumed_tail == b""
    out = [first]
    while not d.eof:
        chunk = d.decompress(d.unconsumed_tail, 1)
        assert len(chunk) <= 1
        out.append(chunk)
    assert b"".join(out) == GOOD_DATA
    assert d.unused_data == b"" and d.unconsumed_tail == b""
    with pytest.raises(EOFError):
        d.decompress(b"x")
    assert d.flush() == b""
    with pytest.raises(ValueError):
        cm.CMDecompressor().decompress(GOOD, -1)
    # Errors stick: a failed decoder keeps failing.
    bad = cm.CMDecompressor()
    with pytest.raises(cm.error):
        bad.decompress(b"SZCM\x07")
    with pytest.raises(cm.error):
        bad.decompress(b"")


def test_compressor_object() -> None:
    c = cm.CMCompressor(2)
    assert c.level == 2
    blob = c.compress(bytearray(GOOD_DATA)) + c.flush()
    assert blob == cm.compress(GOOD_DATA, 2)
    with pytest.raises(ValueError, match="flushed"):
        c.compress(b"x")
    with pytest.raises(ValueError, match="flushed"):
        c.flush()
    with pytest.raises(ValueError, match="level"):
        cm.CMCompressor(10)
    assert cm.CMCompressor(1).flush() == cm.compress(b"", 1)
    assert cm.window_bytes(1) == 1 << 20 and cm.window_bytes(9) == 256 << 20


def test_open_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.szcm"
    with cm.open(path, "wb", level=1) as f:
        for i in range(0, len(TEXT), 7000):
            f.write(TEXT[i : i + 7000])
    assert path.read_bytes() == cm.compress(TEXT, 1)
    with cm.open(path) as f:
        assert f.read(100) == TEXT[:100]
        assert f.read() == TEXT[100:]
    with cm.open(str(path), "rt", encoding="utf-8") as t:
        assert t.read() == TEXT.decode("utf-8")
    with cm.open(tmp_path / "u.szcm", "wt", level=1, encoding="utf-8") as t:
        t.write("héllo\n" * 100)
    assert cm.decompress((tmp_path / "u.szcm").read_bytes()) == "héllo\n".encode() * 100
    with pytest.raises(FileExistsError):
        cm.open(path, "xb")
    with pytest.raises(ValueError, match="mode"):
        cm.open(path, "ab")
    with pytest.raises(TypeError):
        cm.open(1.5)  # type: ignore[arg-type]
    path.write_bytes(GOOD[:-3])
    with cm.open(path) as f, pytest.raises(cm.error, match="truncated"):
        f.read()
    path.write_bytes(GOOD + b"junk")
    with cm.open(path) as f, pytest.raises(cm.error, match="trailing"):
        f.read()


# ---------------------------------------------------------------- registry, CLI, GIL


def test_registry_and_sniffing() -> None:
    codec = scalezip.codecs()["cm"]
    assert codec.levels == (1, 9) and codec.default_level == cm.DEFAULT_LEVEL
    blob = scalezip.compress(GOOD_DATA, codec="cm", level=1)
    assert blob == GOOD
    assert scalezip.decompress(blob) == GOOD_DATA  # sniffed by its magic
    assert scalezip.decompress(GOOD_V1) == GOOD_DATA
    # The registry's file objects stream (they are cm's own, not one-shot).
    import io

    buf = io.BytesIO()
    w = codec.writer(buf, 1)
    assert type(w).__name__ == "BufferedWriter"
    w.write(GOOD_DATA[:100])
    w.write(GOOD_DATA[100:])
    w.close()
    assert buf.getvalue() == GOOD and not buf.closed
    assert codec.reader(io.BytesIO(GOOD)).read() == GOOD_DATA


def test_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "text.txt"
    src.write_bytes(GOOD_DATA)
    r = subprocess.run(
        [sys.executable, "-m", "scalezip", "compress", "-c", "cm", "-l", "1", "-k", str(src)],
        capture_output=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    out = tmp_path / "text.txt.szcm"
    assert out.read_bytes() == GOOD
    src.unlink()
    r = subprocess.run(
        [sys.executable, "-m", "scalezip", "decompress", str(out)],
        capture_output=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert src.read_bytes() == GOOD_DATA


def test_gil_released_while_compressing() -> None:
    data = TEXT[:60_000]
    ticks = 0
    stop = threading.Event()

    def beat() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=beat)
    t.start()
    try:
        cm.compress(data, level=1)
    finally:
        stop.set()
        t.join()
    # Holding the GIL for the whole call would let the thread run ~once.
    assert ticks > 5


# ------------------------------------------------------------ segments (version 3)

SEG_DATA = stdlib_sources_blob(2 * cm.BLOCK_SIZE + 100_000)


@pytest.fixture(scope="module")
def segmented() -> bytes:
    """SEG_DATA in segments of one block (three segments), on two threads."""
    return cm.compress(SEG_DATA, 1, threads=2, segment_size=cm.BLOCK_SIZE)


def test_segmented_round_trip_and_layout(segmented: bytes) -> None:
    assert segmented[:7] == b"SZCM\x03\x01\x14"
    assert int.from_bytes(segmented[7:11], "little") == 1
    for threads in (1, 2, 0):
        assert cm.decompress(segmented, threads=threads) == SEG_DATA
    d = cm.CMDecompressor()
    out = b"".join(
        d.decompress(segmented[i : i + 300_000]) for i in range(0, len(segmented), 300_000)
    )
    assert d.eof and out == SEG_DATA
    # Each segment's model starts from nothing: a little larger than one stream.
    one = cm.compress(SEG_DATA, 1)
    assert len(one) < len(segmented) < len(one) * 1.15


def test_segmented_stream_is_thread_independent_and_streams(segmented: bytes) -> None:
    # One thread, explicit segments: the same bytes as two threads.
    assert cm.compress(SEG_DATA, 1, segment_size=cm.BLOCK_SIZE) == segmented
    c = cm.CMCompressor(1, threads=2, segment_size=cm.BLOCK_SIZE)
    parts = [c.compress(SEG_DATA[i : i + 700_001]) for i in range(0, len(SEG_DATA), 700_001)]
    assert b"".join(parts) + c.flush() == segmented
    buf = io.BytesIO()
    with cm.open(buf, "wb", 1, threads=2, segment_size=cm.BLOCK_SIZE) as f:
        f.write(SEG_DATA)
    assert buf.getvalue() == segmented
    with cm.open(io.BytesIO(segmented), "rb") as r:
        assert r.read() == SEG_DATA
    # The streaming decoder on two threads: segments gathered two at a time.
    for max_length in (0, 100_000):
        d = cm.CMDecompressor(threads=2)
        out = d.decompress(segmented + b"tail", max_length)
        while not d.eof:
            out += d.decompress(d.unconsumed_tail, max_length)
        assert out == SEG_DATA and d.unused_data == b"tail"
    with cm.open(io.BytesIO(segmented), "rb", threads=2) as r:
        assert r.read() == SEG_DATA


def test_threads_alone_keep_small_inputs_one_stream() -> None:
    # Below 8 MiB the automatic choice is one stream: version 2, as ever.
    assert cm.compress(TEXT, 1, threads=2) == cm.compress(TEXT, 1)
    assert cm.compress(TEXT, 1, threads=0, segment_size=0) == cm.compress(TEXT, 1)
    c = cm.CMCompressor(1, threads=2, size_hint=len(TEXT))
    assert c.compress(TEXT) + c.flush() == cm.compress(TEXT, 1)
    # Without a size, the streaming compressor uses 4 MiB segments.
    c = cm.CMCompressor(1, threads=2)
    blob = c.compress(TEXT) + c.flush()
    assert blob[4] == 3 and int.from_bytes(blob[7:11], "little") * cm.BLOCK_SIZE == 4 << 20
    assert blob == cm.compress(TEXT, 1, segment_size=cm.DEFAULT_SEGMENT_SIZE)
    assert cm.decompress(blob, threads=2) == TEXT


@pytest.mark.parametrize("bad", [1, cm.BLOCK_SIZE - 1, cm.BLOCK_SIZE + 1, -cm.BLOCK_SIZE])
def test_bad_segment_sizes_and_threads(bad: int) -> None:
    with pytest.raises(ValueError, match="segment_size"):
        cm.compress(b"abc", segment_size=bad)
    with pytest.raises(ValueError, match="segment_size"):
        cm.CMCompressor(segment_size=bad)
    with pytest.raises(ValueError, match="threads"):
        cm.compress(b"abc", threads=-1)
    with pytest.raises(ValueError, match="threads"):
        cm.decompress(GOOD, threads=True)  # type: ignore[arg-type]


def test_damaged_segmented_streams_are_refused(segmented: bytes) -> None:
    with pytest.raises(cm.error, match="segments of 0 blocks"):
        cm.decompress(patched(segmented, 7, bytes(4)))
    with pytest.raises(cm.error, match="truncated"):
        cm.decompress(segmented[:9])
    # Another segment size decodes to wrong bytes: the CRC-32 says so.
    for sb in (2, 3):
        with pytest.raises(cm.error, match="CRC-32"):
            cm.decompress(patched(segmented, 7, sb.to_bytes(4, "little")), threads=2)
    # A flipped payload byte in the last segment: caught both ways.
    at = len(segmented) - 2_000
    bad = patched(segmented, at, bytes([segmented[at] ^ 0x10]))
    with pytest.raises(cm.error):
        cm.decompress(bad, threads=2)
    d = cm.CMDecompressor()
    with pytest.raises(cm.error):
        d.decompress(bad)
        d.flush()


def test_cli_compresses_with_threads(tmp_path: Any) -> None:
    src = tmp_path / "book.txt"
    src.write_bytes(SEG_DATA[:300_000])
    run = [sys.executable, "-m", "scalezip"]
    subprocess.run(
        [*run, "compress", "-c", "cm", "-l", "1", "--threads", "2", "-k", str(src)], check=True
    )
    blob = (tmp_path / "book.txt.szcm").read_bytes()
    # 300 kB is below 8 MiB: one stream, the bytes of one thread.
    assert blob == cm.compress(SEG_DATA[:300_000], 1)
    src.unlink()
    subprocess.run([*run, "decompress", str(tmp_path / "book.txt.szcm")], check=True)
    assert src.read_bytes() == SEG_DATA[:300_000]
    seg = tmp_path / "seg.szcm"
    seg.write_bytes(cm.compress(SEG_DATA[:5000], 1, segment_size=2 * cm.BLOCK_SIZE))
    out = subprocess.run(
        [*run, "decompress", "--threads", "2", "--stdout", str(seg)],
        check=True,
        capture_output=True,
    )
    assert out.stdout == SEG_DATA[:5000]
    info = subprocess.run([*run, "info", str(seg)], check=True, capture_output=True, text=True)
    assert "format version: 3" in info.stdout
    assert f"segments: {2 * cm.BLOCK_SIZE} bytes each" in info.stdout
    assert "original: 5000 bytes" in info.stdout
