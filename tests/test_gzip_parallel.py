"""Multi-core gzip (rust/core/src/parallel.rs): the pipeline's paths.

Blocks are cut at fixed 1 MiB offsets, compressed and checksummed by the
pool's jobs (CRC-32s joined with crc32_combine), borrowed from the caller's
buffer when a write holds whole blocks and copied only for the tail. These
tests check that every way of feeding the same bytes gives the same single
standard member, whatever the thread count, with the right CRC and ISIZE
(the stdlib's reader checks both).
"""

from __future__ import annotations

import gzip as std_gzip
import io
import zlib as std_zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scalezip import _native
from scalezip import gzip as sz_gzip

MIB = 1 << 20


def _text(n: int, seed: int) -> bytes:
    words = [b"lorem ", b"ipsum ", b"dolor ", b"sit\n", b"amet, ", b"elit "]
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += words[(x >> 16) % len(words)]
        if x % 3 == 0:
            out.append(x & 0xFF)
    return bytes(out[:n])


DATA = _text(5 * MIB + 12345, 1)


def _one_member(blob: bytes, data: bytes) -> None:
    assert std_gzip.decompress(blob) == data  # CRC and ISIZE checked
    d = std_zlib.decompressobj(31)
    assert d.decompress(blob) == data and d.eof and d.unused_data == b""


def _via_file(data: bytes, threads: int, sizes: list[int]) -> bytes:
    buf = io.BytesIO()
    with sz_gzip.GzipFile(fileobj=buf, mode="wb", mtime=7, threads=threads) as f:
        pos, i = 0, 0
        while pos < len(data):
            n = sizes[i % len(sizes)]
            f.write(data[pos : pos + n])
            pos += n
            i += 1
    return buf.getvalue()


@pytest.mark.parametrize(
    "sizes",
    [
        [4096],  # small writes: blocks cut from the held-back tail, in the background
        [MIB],  # exactly one block per write
        [MIB + 1, 17],  # a block and a bit
        [3 * MIB, 1, MIB - 1],  # whole blocks borrowed from the caller's buffer
        [len(DATA)],  # one write
    ],
)
@pytest.mark.parametrize("threads", [2, 3])
def test_any_write_pattern_gives_the_same_member(threads, sizes):
    # threads=1 takes the serial compressor: the reference is 2 threads, one write.
    reference = _via_file(DATA, 2, [len(DATA)])
    blob = _via_file(DATA, threads, sizes)
    assert blob == reference
    _one_member(blob, DATA)


@pytest.mark.parametrize("n", [0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB, 3 * MIB + 5])
@pytest.mark.parametrize("level", [1, 6])
def test_sizes_at_block_edges(n, level):
    data = _text(n, n)
    # threads=1 takes the serial compressor: compare thread counts >= 2.
    one = sz_gzip.compress(data, level, mtime=3, threads=2)
    _one_member(one, data)
    for threads in (3, 4):
        blob = sz_gzip.compress(data, level, mtime=3, threads=threads)
        assert blob == one
        _one_member(blob, data)


def test_zlib_and_raw_formats_checksum_in_parallel():
    """The container's other formats: Adler-32 joined with adler32_combine."""
    for fmt, wbits in ((1, 15), (0, -15)):
        c = _native.ParallelCompressor(fmt, 6, 2, MIB)
        blob = c.compress(DATA[: 3 * MIB]) + c.compress(DATA[3 * MIB :]) + c.finish()
        assert std_zlib.decompress(blob, wbits) == DATA


def test_compress_after_finish_is_an_error():
    c = _native.ParallelCompressor(2, 6, 2, MIB)
    c.compress(b"abc")
    c.finish()
    with pytest.raises(Exception, match="finished"):
        c.compress(b"x")


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 3 * 65536), max_size=8),
    threads=st.integers(1, 4),
)
def test_hypothesis_splits_with_small_blocks(cuts, threads):
    """64 KiB blocks (the smallest), random write boundaries."""
    data = DATA[: 5 * 65536 + 999]
    whole = _native.ParallelCompressor(2, 3, 1, 65536)
    reference = whole.compress(data) + whole.finish()
    c = _native.ParallelCompressor(2, 3, threads, 65536)
    out = []
    pos = 0
    for n in cuts:
        out.append(c.compress(data[pos : pos + n]))
        pos += n
    out.append(c.compress(data[pos:]))
    out.append(c.finish())
    blob = b"".join(out)
    assert blob == reference
    _one_member(blob, data)
