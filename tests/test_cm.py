"""scalezip.cm (context mixing): round trips over byte distributions and
input types, determinism across processes, levels (validation, memory,
recorded in the stream), the registry and command line, and the decoder on
damaged input (every error a scalezip.cm.error naming what is wrong; no
other exception, no hang, no silent corruption)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time

import pytest
from conftest import seeded_bytes, stdlib_sources_blob, text_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

cm = pytest.importorskip("scalezip.cm")
import scalezip  # noqa: E402

HEADER = 18
TEXT = stdlib_sources_blob(120_000)


def header(blob: bytes) -> tuple[bytes, int, int, int]:
    return blob[:4], blob[4], blob[5], int.from_bytes(blob[6:14], "little")


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
    assert header(blob) == (b"SZCM", 1, 1, len(data))
    assert cm.decompress(blob) == data


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


@pytest.mark.parametrize("cut", [0, 1, 3, 4, 10, HEADER - 1])
def test_truncated_header(cut: int) -> None:
    with pytest.raises(cm.error, match="truncated"):
        cm.decompress(GOOD[:cut])


@pytest.mark.parametrize("cut", [HEADER, HEADER + 1, len(GOOD) // 2, len(GOOD) - 1])
def test_truncated_payload(cut: int) -> None:
    with pytest.raises(cm.error, match="corrupt or truncated|cannot be coded"):
        cm.decompress(GOOD[:cut])


def test_header_fields_checked() -> None:
    def patched(offset: int, value: bytes) -> bytes:
        return GOOD[:offset] + value + GOOD[offset + len(value) :]

    with pytest.raises(cm.error, match="no SZCM magic"):
        cm.decompress(patched(0, b"X"))
    with pytest.raises(cm.error, match="version 2"):
        cm.decompress(patched(4, b"\x02"))
    for bad_level in (b"\x00", b"\x0a", b"\xff"):
        with pytest.raises(cm.error, match="level"):
            cm.decompress(patched(5, bad_level))
    # A huge declared length is refused before anything is allocated.
    with pytest.raises(cm.error, match="cannot be coded"):
        cm.decompress(patched(6, (1 << 62).to_bytes(8, "little")))
    with pytest.raises(cm.error, match="more than the limit"):
        cm.decompress(GOOD, max_length=len(GOOD_DATA) - 1)
    assert cm.decompress(GOOD, max_length=len(GOOD_DATA)) == GOOD_DATA
    with pytest.raises(cm.error, match="CRC-32"):
        cm.decompress(patched(14, bytes([GOOD[14] ^ 1])))
    # A wrong length (shorter) decodes a prefix whose CRC fails.
    with pytest.raises(cm.error, match="CRC-32"):
        cm.decompress(patched(6, (len(GOOD_DATA) - 1).to_bytes(8, "little")))


def test_errors_are_scalezip_errors() -> None:
    assert issubclass(cm.error, scalezip.error)
    with pytest.raises(scalezip.error):
        cm.decompress(b"nope")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_streams_raise(data: st.DataObject) -> None:
    blob = bytearray(GOOD)
    i = data.draw(st.integers(HEADER, len(blob) - 1))
    blob[i] ^= data.draw(st.integers(1, 255))
    try:
        out = cm.decompress(bytes(blob))
    except cm.error:
        return
    # A change in the last bytes may leave the decoded bits unchanged
    # (the code value stays in the final interval); never wrong data.
    assert out == GOOD_DATA


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_payload_raises(payload: bytes) -> None:
    blob = GOOD[:HEADER] + payload
    try:
        out = cm.decompress(blob)
    except cm.error:
        return
    # Only possible if the garbage happens to decode to the right data.
    assert out == GOOD_DATA


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 3))
def test_round_trip_property(data: bytes, level: int) -> None:
    assert cm.decompress(cm.compress(data, level)) == data


# ---------------------------------------------------------------- registry, CLI, GIL


def test_registry_and_sniffing() -> None:
    codec = scalezip.codecs()["cm"]
    assert codec.levels == (1, 9) and codec.default_level == cm.DEFAULT_LEVEL
    blob = scalezip.compress(GOOD_DATA, codec="cm", level=1)
    assert blob == GOOD
    assert scalezip.decompress(blob) == GOOD_DATA  # sniffed by its magic


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
