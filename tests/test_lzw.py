"""scalezip.lzw: the Unix ``compress`` (.Z) format.

Round trips at every max_bits, streaming in both directions, interop with the
reference implementations in both directions (the PyPI ``ncompress`` package
and Debian's ``ncompress`` tool, ``compress``/``uncompress``; gzip's .Z reader
too when present), errors on corrupt and truncated input, and a hypothesis
mutation test of the decoder.

The max-bits 9 finding (docs/lzw.md): every decoder (gzip's, ncompress's,
compress 4.0's) widens codes to 10 bits once the 9-bit dictionary is full,
because they start with ``maxcode = 2^9 - 1`` and only switch to
``maxmaxcode`` when ``n_bits == max_bits`` *after* a widening. compress 4.0's
encoder runs the same rule, so its ``-b 9`` files have 10-bit codes after the
first 256. ncompress 4.2's encoder keeps 9-bit codes (and defines an entry 512
that cannot be written in 9 bits), so ``compress -b 9`` output from Debian's
4.2.4.6 is unreadable by everything, itself included (the PyPI package even
returns wrong bytes without an error). scalezip writes what
4.0 wrote, which gzip and Debian's ``uncompress`` read. Later ncompress
releases (and the PyPI package built from them) changed both sides to keep
9-bit codes: a third, self-consistent dialect that no older decoder reads;
the PyPI package cannot write it (it has no max_bits), and scalezip does not
read it.
"""

from __future__ import annotations

import array
import random
import shutil
import subprocess
import time

import pytest
from conftest import AGAINST_STDLIB, seeded_bytes, stdlib_sources_blob, text_bytes

if AGAINST_STDLIB:
    pytest.skip("no stdlib counterpart of scalezip.lzw", allow_module_level=True)

import scalezip  # noqa: E402
from scalezip import lzw  # noqa: E402

ALL_BITS = list(range(9, 17))
TOOL = shutil.which("compress") and shutil.which("uncompress")
GZIP = shutil.which("gzip")


def _run(cmd: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, input=data, capture_output=True, timeout=120)


def tool_compress(data: bytes, bits: int) -> bytes:
    if not TOOL:
        pytest.skip("Debian's ncompress (compress/uncompress) is not installed")
    r = _run(["compress", "-b", str(bits), "-c", "-f"], data)
    assert r.returncode in (0, 2), r.stderr  # 2: "no compression" (still written with -f -c)
    return r.stdout


def tool_uncompress(z: bytes) -> bytes:
    if not TOOL:
        pytest.skip("Debian's ncompress (compress/uncompress) is not installed")
    r = _run(["uncompress", "-c"], z)
    assert r.returncode == 0, r.stderr
    return r.stdout


def mixed(n: int, seed: int = 0) -> bytes:
    """Text, then noise, then text: the dictionary fills, the ratio drops and
    the encoder sends CLEAR (at every max_bits for n of a few hundred KB)."""
    third = n // 3
    return text_bytes(third, seed) + seeded_bytes(third, seed) + text_bytes(n - 2 * third, seed + 1)


INPUTS = {
    "empty": b"",
    "one": b"x",
    "all_bytes": bytes(range(256)),
    "all_bytes_x4": bytes(range(256)) * 4,
    "zeros": bytes(100_000),
    "text": text_bytes(200_000),
    "random": seeded_bytes(50_000, 1),
    "mixed": mixed(300_000),
}


@pytest.fixture(scope="module")
def stdlib_src() -> bytes:
    return stdlib_sources_blob(3 << 20)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("bits", ALL_BITS)
@pytest.mark.parametrize("name", list(INPUTS))
def test_round_trip(name: str, bits: int) -> None:
    data = INPUTS[name]
    z = lzw.compress(data, bits)
    assert z[:3] == bytes([0x1F, 0x9D, 0x80 | bits])
    assert lzw.decompress(z) == data


def test_round_trip_real_files_multi_mb(stdlib_src: bytes) -> None:
    assert len(stdlib_src) > 2_000_000
    for bits in (9, 12, 16):
        z = lzw.compress(stdlib_src, bits)
        assert lzw.decompress(z) == stdlib_src
        if bits == 16:
            assert len(z) < len(stdlib_src) * 0.5


def test_default_is_16_bits() -> None:
    data = INPUTS["text"]
    assert lzw.compress(data) == lzw.compress(data, 16)
    assert lzw.compress(data)[2] == 0x90


@pytest.mark.parametrize(
    "kind", ["bytes", "bytearray", "memoryview", "array", "numpy"], ids=lambda k: k
)
def test_any_buffer(kind: str) -> None:
    data = text_bytes(20_000, 3)
    if kind == "bytes":
        obj: object = data
    elif kind == "bytearray":
        obj = bytearray(data)
    elif kind == "memoryview":
        obj = memoryview(data)
    elif kind == "array":
        obj = array.array("B", data)
    else:
        np = pytest.importorskip("numpy")
        obj = np.frombuffer(data, dtype=np.uint8)
    z = lzw.compress(obj)  # type: ignore[arg-type]
    assert z == lzw.compress(data)
    assert lzw.decompress(bytearray(z)) == data


@pytest.mark.parametrize("bits", [9, 10, 12, 16])
def test_streaming_compress_matches_one_shot(bits: int) -> None:
    data = INPUTS["mixed"]
    rng = random.Random(bits)
    c = lzw.LZWCompressor(bits)
    assert c.max_bits == bits
    parts = []
    pos = 0
    while pos < len(data):
        n = rng.choice([0, 1, 2, 17, 1000, 4096, 70_000])
        parts.append(c.compress(data[pos : pos + n]))
        pos += n
    parts.append(c.flush())
    assert b"".join(parts) == lzw.compress(data, bits)
    with pytest.raises(ValueError):
        c.compress(b"more")


@pytest.mark.parametrize("bits", [9, 11, 16])
def test_streaming_decompress_random_chunks_and_limits(bits: int) -> None:
    data = INPUTS["mixed"]
    z = lzw.compress(data, bits)
    rng = random.Random(100 + bits)
    d = lzw.LZWDecompressor()
    out = []
    pos = 0
    while pos < len(z):
        n = rng.choice([1, 2, 3, 100, 5000, 100_000])
        chunk = z[pos : pos + n]
        pos += n
        limit = rng.choice([0, 1, 7, 1000, 65_536])
        piece = d.decompress(chunk, limit)
        assert limit == 0 or len(piece) <= limit
        out.append(piece)
        while d.unconsumed_tail or d.output_pending:
            piece = d.decompress(d.unconsumed_tail, limit)
            assert limit == 0 or len(piece) <= limit
            out.append(piece)
    assert d.max_bits == bits
    assert not d.eof
    out.append(d.flush())
    assert d.eof
    assert d.unused_data == b""
    assert b"".join(out) == data
    with pytest.raises(EOFError):
        d.decompress(b"x")


def test_decompressor_bounded_output_on_a_bomb() -> None:
    bomb = lzw.compress(bytes(50_000_000))
    assert len(bomb) < 200_000
    d = lzw.LZWDecompressor()
    got = d.decompress(bomb, 1 << 20)
    assert len(got) == 1 << 20
    assert d.unconsumed_tail  # the rest waits for the caller
    total = len(got)
    while d.unconsumed_tail or d.output_pending:
        total += len(d.decompress(d.unconsumed_tail, 1 << 20))
    assert total == 50_000_000


# ---------------------------------------------------------- interop: ncompress


@pytest.mark.parametrize("name", ["empty", "one", "all_bytes_x4", "text", "random", "mixed"])
def test_pypi_ncompress_reads_ours(name: str) -> None:
    ncompress = pytest.importorskip("ncompress")
    data = INPUTS[name]
    for bits in (10, 12, 16):
        assert ncompress.decompress(lzw.compress(data, bits)) == data


@pytest.mark.parametrize("name", ["one", "all_bytes_x4", "text", "random", "mixed"])
def test_we_read_pypi_ncompress(name: str) -> None:
    ncompress = pytest.importorskip("ncompress")
    data = INPUTS[name]
    assert lzw.decompress(ncompress.compress(data)) == data


def test_pypi_ncompress_real_files_both_ways(stdlib_src: bytes) -> None:
    ncompress = pytest.importorskip("ncompress")
    ours = lzw.compress(stdlib_src)
    theirs = ncompress.compress(stdlib_src)
    assert ncompress.decompress(ours) == stdlib_src
    assert lzw.decompress(theirs) == stdlib_src
    # Same algorithm and CLEAR policy: sizes agree within a fraction of a percent.
    assert abs(len(ours) - len(theirs)) < len(theirs) * 0.005


@pytest.mark.parametrize("bits", [10, 12, 16])
@pytest.mark.parametrize("name", ["one", "all_bytes_x4", "zeros", "text", "random", "mixed"])
def test_tool_reads_ours(name: str, bits: int) -> None:
    data = INPUTS[name]
    assert tool_uncompress(lzw.compress(data, bits)) == data


@pytest.mark.parametrize("bits", [10, 12, 16])
@pytest.mark.parametrize("name", ["one", "all_bytes_x4", "zeros", "text", "random", "mixed"])
def test_we_read_tool(name: str, bits: int) -> None:
    data = INPUTS[name]
    assert lzw.decompress(tool_compress(data, bits)) == data


@pytest.mark.parametrize("bits", ALL_BITS)
def test_tool_both_ways_every_max_bits_on_real_files(stdlib_src: bytes, bits: int) -> None:
    data = stdlib_src[: 1 << 20]
    assert tool_uncompress(lzw.compress(data, bits)) == data
    if bits != 9:  # ncompress 4.2's own -b 9 output is unreadable (module docstring)
        assert lzw.decompress(tool_compress(data, bits)) == data


@pytest.mark.parametrize("bits", [12, 16])
def test_identical_bytes_to_the_tool(bits: int) -> None:
    """Same parse, same hash-independent dictionary, same CLEAR policy: the
    output matches ncompress byte for byte on ordinary input."""
    data = INPUTS["text"]
    assert lzw.compress(data, bits) == tool_compress(data, bits)


def test_gzip_reads_ours_at_every_max_bits() -> None:
    if not GZIP:
        pytest.skip("gzip is not installed")
    data = INPUTS["mixed"]
    for bits in ALL_BITS:
        r = _run(["gzip", "-dc"], lzw.compress(data, bits))
        assert r.returncode == 0, (bits, r.stderr)
        assert r.stdout == data


def test_max_bits_9_finding() -> None:
    """Our 9-bit streams follow compress 4.0: readable by Debian's uncompress
    and gzip; Debian's compress -b 9 output is readable by nothing."""
    data = INPUTS["mixed"]
    ours = lzw.compress(data, 9)
    assert tool_uncompress(ours) == data
    if GZIP:
        assert _run(["gzip", "-dc"], ours).stdout == data
    theirs = tool_compress(data, 9)
    r = _run(["uncompress", "-c"], theirs)
    assert r.returncode != 0 or r.stdout != data, (
        "ncompress -b 9 now round-trips: update docs/lzw.md"
    )
    with pytest.raises(lzw.error):
        lzw.decompress(theirs)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("blob", "words"),
    [
        (b"", "empty input"),
        (b"\x1f", "inside the 3-byte header"),
        (b"\x1f\x9d", "inside the 3-byte header"),
        (b"\x1f\x8b\x08\x00", "not a .Z"),
        (b"\x1f\x9d\x91AAAA", "max_bits 17"),
        (b"\x1f\x9d\x90\x2c\x01", "first code must be a literal"),
        (b"\x1f\x9d\x90\x41\x20\x03", "not in the dictionary"),
        (b"\x1f\x9d\x90\x41\x00\x02", "right after a CLEAR"),
    ],
)
def test_errors_are_clear(blob: bytes, words: str) -> None:
    with pytest.raises(lzw.error, match=words) as exc:
        lzw.decompress(blob)
    assert isinstance(exc.value, scalezip.error)


def test_truncated_streams() -> None:
    data = INPUTS["text"]
    z = lzw.compress(data)
    seen_error = 0
    for cut in range(len(z) - 64, len(z)):
        try:
            got = lzw.decompress(z[:cut])
        except lzw.error as e:
            assert "truncated" in str(e)
            seen_error += 1
        else:  # a cut between two codes is invisible: a shorter stream
            assert data.startswith(got)
    assert seen_error > 20
    d = lzw.LZWDecompressor()
    d.decompress(z[:-1])
    with pytest.raises(lzw.error, match="truncated"):
        d.flush()


def test_bad_arguments() -> None:
    for bits in (0, 8, 17, 32):
        with pytest.raises(ValueError, match="max_bits"):
            lzw.compress(b"x", bits)
        with pytest.raises(ValueError):
            lzw.LZWCompressor(bits)
    with pytest.raises(ValueError):
        lzw.LZWDecompressor().decompress(b"", -1)


def _mutations():
    from hypothesis import strategies as st

    return st.tuples(
        st.sampled_from(["text", "random", "mixed", "all_bytes_x4"]),
        st.sampled_from([9, 10, 13, 16]),
        st.lists(
            st.tuples(st.integers(0, 1 << 30), st.integers(0, 255), st.sampled_from("xidt")),
            min_size=1,
            max_size=6,
        ),
    )


def test_mutated_streams_decode_or_raise_scalezip_error() -> None:
    """Any mutation either decodes or raises a scalezip.error subclass, in
    bounded time; one-shot and streaming decoding agree."""
    from hypothesis import given, settings

    small = {k: v[:20_000] for k, v in INPUTS.items()}
    blobs = {(k, b): lzw.compress(small[k], b) for k in small for b in (9, 10, 13, 16)}

    @settings(max_examples=300, deadline=None)
    @given(_mutations())
    def check(case: tuple[str, int, list[tuple[int, int, str]]]) -> None:
        name, bits, edits = case
        z = bytearray(blobs[(name, bits)])
        for pos, val, op in edits:
            i = pos % (len(z) + 1)
            if op == "x" and i < len(z):
                z[i] ^= val or 1
            elif op == "i":
                z.insert(i, val)
            elif op == "d" and i < len(z):
                del z[i]
            elif op == "t":
                del z[i:]
        t0 = time.perf_counter()
        try:
            one = ("ok", lzw.decompress(bytes(z)))
        except scalezip.error as e:
            one = ("err", type(e).__name__)
        d = lzw.LZWDecompressor()
        try:
            out = d.decompress(bytes(z), 4096)
            parts = [out]
            while d.unconsumed_tail or d.output_pending:
                parts.append(d.decompress(d.unconsumed_tail, 4096))
            parts.append(d.flush())
            streamed = ("ok", b"".join(parts))
        except scalezip.error as e:
            streamed = ("err", type(e).__name__)
        assert time.perf_counter() - t0 < 5
        assert one == streamed

    check()


# ------------------------------------------------------------------ threads


@pytest.mark.parametrize("op", ["compress", "decompress", "LZWCompressor", "LZWDecompressor"])
def test_gil_released_for_big_inputs(op: str) -> None:
    """A pure-Python heartbeat thread keeps ticking during one long call
    (tests/test_threads.py explains the method; works on one core too)."""
    import threading

    data = text_bytes(8 << 20, 5)
    z = lzw.compress(data)
    calls = {
        "compress": lambda: lzw.compress(data),
        "decompress": lambda: lzw.decompress(z),
        "LZWCompressor": lambda: lzw.LZWCompressor().compress(data),
        "LZWDecompressor": lambda: lzw.LZWDecompressor().decompress(z),
    }
    call = calls[op]

    def beat(stamps: list[float], stop: threading.Event) -> None:
        while not stop.is_set():
            stamps.append(time.perf_counter())

    for _attempt in range(3):
        stamps: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=beat, args=(stamps, stop))
        t.start()
        time.sleep(0.02)
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        stop.set()
        t.join()
        inside = [x for x in stamps if t0 <= x <= t1]
        gaps = [b - a for a, b in zip([t0, *inside], [*inside, t1], strict=True)]
        if max(gaps) < 0.5 * (t1 - t0):
            return
    pytest.fail(f"heartbeat stalled {max(gaps):.3f}s during a {t1 - t0:.3f}s call")


# ---------------------------------------------------------------- threads


@pytest.fixture(scope="module")
def two_segments() -> bytes:
    """Just over one segment: text, a stretch of noise, text."""
    n = lzw.SEGMENT_SIZE + 300_000
    return text_bytes(n - 400_000, 3) + seeded_bytes(100_000, 4) + text_bytes(300_000, 5)


@pytest.mark.parametrize("bits", [9, 10, 12, 16])
def test_threads_write_one_stream_every_decoder_reads(two_segments: bytes, bits: int) -> None:
    data = two_segments
    z = lzw.compress(data, bits, threads=2)
    assert z != lzw.compress(data, bits)  # a CLEAR joins the segments
    assert z[:3] == lzw.compress(b"", bits)[:3]
    assert lzw.decompress(z) == data
    for threads in (3, 0):
        assert lzw.compress(data, bits, threads=threads) == z
    assert tool_uncompress(z) == data
    if GZIP:
        r = _run(["gzip", "-dc"], z)
        assert r.returncode == 0 and r.stdout == data
    if bits != 9:  # the PyPI package cannot read max-bits 9 (module docstring)
        ncompress = pytest.importorskip("ncompress")
        assert ncompress.decompress(z) == data


def test_threads_streaming_matches_one_shot(two_segments: bytes) -> None:
    data = two_segments
    c = lzw.LZWCompressor(16, threads=2)
    rng = random.Random(7)
    parts, pos = [], 0
    while pos < len(data):
        step = rng.choice([1, 1000, 65_536, 3 << 20])
        parts.append(c.compress(data[pos : pos + step]))
        pos += step
    parts.append(c.flush())
    assert b"".join(parts) == lzw.compress(data, threads=2)
    with pytest.raises(ValueError):
        c.flush()


def test_threads_on_one_segment_write_the_serial_stream() -> None:
    data = text_bytes(lzw.SEGMENT_SIZE, 9)
    assert lzw.compress(data, threads=2) == lzw.compress(data)
    assert lzw.compress(data[:1000], 12, threads=0) == lzw.compress(data[:1000], 12)
    assert lzw.compress(b"", threads=2) == lzw.compress(b"")


def test_threads_cost_little_ratio(two_segments: bytes) -> None:
    data = two_segments
    assert len(lzw.compress(data, threads=2)) < len(lzw.compress(data)) * 1.02


def test_threads_bad_arguments() -> None:
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError):
            lzw.compress(b"abc", threads=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            lzw.LZWCompressor(threads=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="block mode"):
        lzw.LZWCompressor(16, block_mode=False, threads=2)
    with pytest.raises(ValueError):
        lzw.compress(b"abc", 8, threads=2)
