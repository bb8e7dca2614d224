"""scalezip.huffman: round trips over byte distributions and input types,
determinism across thread counts, and the decoder's behaviour on damaged
input (every error is a scalezip.huffman.error naming what is wrong; no
other exception, no hang, no silent corruption)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from conftest import seeded_bytes, stdlib_sources_blob
from hypothesis import given
from hypothesis import strategies as st

huffman = pytest.importorskip("scalezip.huffman")
import scalezip  # noqa: E402
from scalezip import _native  # noqa: E402

BLOCK = 131072
HEADER = 26


def geometric(n: int, seed: int = 0) -> bytes:
    g = np.random.default_rng(seed).geometric(0.3, n).clip(1, 255).astype(np.uint8)
    return g.tobytes()


def exponent_bytes(n: int, seed: int = 0) -> bytes:
    w = np.random.default_rng(seed).standard_normal(n, dtype=np.float32)
    return w.view(np.uint8)[3::4].tobytes()


DISTRIBUTIONS = {
    "empty": lambda: b"",
    "one_byte": lambda: b"\x7f",
    "single_symbol": lambda: b"\x00" * 300_000,
    "two_symbols": lambda: bytes(np.random.default_rng(1).integers(0, 2, 200_000, dtype=np.uint8)),
    "two_symbols_rare": lambda: b"a" * 100_000 + b"b" + b"a" * 100_000,
    "uniform": lambda: seeded_bytes(300_000, 2),
    "all_values": lambda: bytes(range(256)) * 1000,
    "geometric": lambda: geometric(400_000, 3),
    "exponents": lambda: exponent_bytes(400_000, 4),
    "text": lambda: stdlib_sources_blob(1 << 20),
    "block_minus_1": lambda: geometric(BLOCK - 1, 5),
    "block": lambda: geometric(BLOCK, 6),
    "block_plus_1": lambda: geometric(BLOCK + 1, 7),
    "mixed": lambda: geometric(BLOCK, 8) + b"\x05" * BLOCK + seeded_bytes(BLOCK, 9) + b"xy",
}


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_round_trip(name: str) -> None:
    data = DISTRIBUTIONS[name]()
    blob = huffman.compress(data)
    assert huffman.decompress(blob) == data
    assert isinstance(blob, bytes)
    # Never more than the header plus one type byte per block.
    blocks = -(-len(data) // BLOCK)
    assert len(blob) <= HEADER + len(data) + 5 * blocks
    if name in ("geometric", "exponents", "text", "single_symbol"):
        assert len(blob) < 0.75 * len(data)


def test_multi_megabyte() -> None:
    data = exponent_bytes(12 << 20, 10)  # 3 MiB of exponent bytes
    data += stdlib_sources_blob(2 << 20)
    blob = huffman.compress(data)
    assert huffman.decompress(blob) == data
    assert huffman.decompress(blob, threads=1) == data


@pytest.mark.parametrize("block_size", [1, 7, 1000, 65536, BLOCK])
def test_block_sizes(block_size: int) -> None:
    data = geometric(50_000, 11) + stdlib_sources_blob()[:50_000]
    blob = huffman.compress(data, block_size=block_size)
    assert struct.unpack_from("<I", blob, 6)[0] == block_size
    assert huffman.decompress(blob) == data


@pytest.mark.parametrize(
    "kind", ["bytes", "bytearray", "memoryview", "numpy_u8", "numpy_f32", "memoryview_slice"]
)
def test_input_types(kind: str) -> None:
    data = exponent_bytes(200_000, 12)
    obj: object
    if kind == "bytes":
        obj = data
    elif kind == "bytearray":
        obj = bytearray(data)
    elif kind == "memoryview":
        obj = memoryview(data)
    elif kind == "numpy_u8":
        obj = np.frombuffer(data, dtype=np.uint8)
    elif kind == "numpy_f32":
        obj = np.frombuffer(data[: len(data) // 4 * 4], dtype=np.float32)
        data = data[: len(data) // 4 * 4]
    else:
        obj = memoryview(b"__" + data + b"__")[2:-2]
    blob = huffman.compress(obj)
    assert blob == huffman.compress(data)
    for view in (blob, bytearray(blob), memoryview(blob), np.frombuffer(blob, dtype=np.uint8)):
        assert huffman.decompress(view) == data


def test_non_contiguous_input_is_refused() -> None:
    arr = np.arange(1000, dtype=np.uint8)[::2]
    with pytest.raises((BufferError, ValueError)):
        huffman.compress(arr)


def test_deterministic_and_parallel_equals_serial() -> None:
    data = geometric(1 << 20, 13) + stdlib_sources_blob(1 << 20) + seeded_bytes(300_000, 14)
    serial = huffman.compress(data, threads=1)
    assert huffman.compress(data) == serial
    for t in (2, 3, 8):
        assert huffman.compress(data, threads=t) == serial
        assert huffman.decompress(serial, threads=t) == data


def test_serial_calls_of_any_size_and_from_threads() -> None:
    # One-thread compression codes into a per-thread workspace kept between
    # calls (inputs up to 16 MiB) or straight into the result (larger):
    # the bytes must not depend on the path, on what an earlier call left
    # in the workspace, nor on which Python thread calls.
    from concurrent.futures import ThreadPoolExecutor

    big = geometric(3 << 20, 15)
    sizes = [len(big), 10, 0, BLOCK + 3, 5000, len(big) - 1, 1]
    want = {n: huffman.compress(big[:n], threads=2) for n in sizes}
    for n in sizes:
        got = huffman.compress(big[:n], threads=1)
        assert got == want[n], n
        assert huffman.decompress(got) == big[:n]
    incompressible = seeded_bytes(9 << 20, 16)  # the workspace outgrows what is kept
    blob = huffman.compress(incompressible, threads=1)
    assert blob == huffman.compress(incompressible, threads=2)
    assert huffman.decompress(blob) == incompressible
    assert huffman.compress(big, threads=1) == want[len(big)]
    huge = big * 6  # over 16 MiB: coded straight into the result
    assert huffman.compress(huge, threads=1) == huffman.compress(huge, threads=2)
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda n: huffman.compress(big[:n], threads=1), sizes * 3))
    assert outs == [want[n] for n in sizes * 3]


def test_arguments_are_checked() -> None:
    for bad in (0, -1, BLOCK + 1):
        with pytest.raises(ValueError, match="block_size"):
            huffman.compress(b"abc", block_size=bad)
    with pytest.raises(TypeError):
        huffman.compress(b"abc", block_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threads"):
        huffman.compress(b"abc", threads=0)
    with pytest.raises(ValueError, match="max_length"):
        huffman.decompress(huffman.compress(b"abc"), max_length=-1)
    with pytest.raises(TypeError):
        huffman.compress("text")  # type: ignore[arg-type]


def test_error_class() -> None:
    assert issubclass(huffman.error, scalezip.error)
    with pytest.raises(scalezip.error):
        huffman.decompress(b"garbage that is not a stream")


# ---------------------------------------------------------------------------
# Damaged input: the error names what is wrong.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blob_and_data() -> tuple[bytes, bytes]:
    data = geometric(70_000, 15) + b"\x09" * 5000 + seeded_bytes(3000, 16)
    return huffman.compress(data, block_size=16384), data


def raises_with(blob: bytes, match: str) -> None:
    with pytest.raises(huffman.error, match=match):
        huffman.decompress(blob)


def test_corrupt_headers(blob_and_data: tuple[bytes, bytes]) -> None:
    blob, _ = blob_and_data
    raises_with(b"", "truncated.*header")
    raises_with(blob[:10], "truncated.*header")
    raises_with(b"\x1f\x8b" + blob[2:], "not a scalezip Huffman stream")
    raises_with(blob[:4] + b"\x09" + blob[5:], "version 9")
    raises_with(blob[:5] + b"\x01" + blob[6:], "reserved flags")
    raises_with(blob[:6] + struct.pack("<I", 0) + blob[10:], "block size")
    raises_with(blob[:18] + struct.pack("<I", 99) + blob[22:], "block count")
    crc = struct.unpack_from("<I", blob, 22)[0]
    raises_with(blob[:22] + struct.pack("<I", crc ^ 1) + blob[26:], "CRC-32 mismatch")
    raises_with(blob[:HEADER] + b"\x07" + blob[HEADER + 1 :], "block 0 has unknown type 7")
    raises_with(blob + b"\x00", "after the last block")


def test_truncation_anywhere_is_an_error(blob_and_data: tuple[bytes, bytes]) -> None:
    blob, _ = blob_and_data
    for n in list(range(0, 60)) + list(range(60, len(blob), 97)) + [len(blob) - 1]:
        with pytest.raises(huffman.error):
            huffman.decompress(blob[:n])


def test_max_length(blob_and_data: tuple[bytes, bytes]) -> None:
    blob, data = blob_and_data
    assert huffman.decompress(blob, max_length=len(data)) == data
    raises_with_limit = pytest.raises(huffman.error, match="over the limit of 100 bytes")
    with raises_with_limit:
        huffman.decompress(blob, max_length=100)


def test_lying_header_does_not_allocate() -> None:
    # Claims 2^40 bytes of RLE blocks but holds one block: refused up front.
    header = b"SZH0\x02\x00" + struct.pack("<IQII", BLOCK, 1 << 40, (1 << 40) // BLOCK, 0)
    with pytest.raises(huffman.error, match="truncated"):
        huffman.decompress(header + b"\x01\x00")


def test_flipped_stream_bit_is_caught(blob_and_data: tuple[bytes, bytes]) -> None:
    blob, _ = blob_and_data
    # Flip a bit in the middle of the first block's coded streams.
    i = HEADER + 1 + 4 + 200
    with pytest.raises(huffman.error, match="corrupt data"):
        huffman.decompress(blob[:i] + bytes([blob[i] ^ 0x10]) + blob[i + 1 :])


@given(
    st.data(),
    st.sampled_from(["geometric", "text", "mixed_small"]),
)
def test_mutations_raise_only_huffman_error(data: st.DataObject, kind: str) -> None:
    if kind == "geometric":
        original = geometric(5000, 17)
    elif kind == "text":
        original = stdlib_sources_blob()[:6000]
    else:
        original = geometric(2000, 18) + b"\x01" * 700 + seeded_bytes(500, 19)
    blob = bytearray(huffman.compress(original, block_size=1024))
    n_flips = data.draw(st.integers(1, 4))
    for _ in range(n_flips):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        del blob[data.draw(st.integers(0, len(blob))) :]
    try:
        out = huffman.decompress(bytes(blob))
    except huffman.error as e:
        assert str(e)
    else:
        # A mutation that decodes passed the CRC: it must be the original.
        assert out == original


@given(st.binary(max_size=3000), st.integers(1, 2000), st.sampled_from([None, 1, 2]))
def test_hypothesis_round_trip(data: bytes, block_size: int, threads: int | None) -> None:
    blob = huffman.compress(data, block_size=block_size, threads=threads)
    assert huffman.decompress(blob, threads=threads) == data


# ---------------------------------------------------------------------------
# The table-level entry points of the native module (for the tensor codecs).
# ---------------------------------------------------------------------------


def test_native_table_api() -> None:
    train = exponent_bytes(400_000, 20)
    hist = _native.huffman_histogram(train)
    assert hist == np.bincount(np.frombuffer(train, np.uint8), minlength=256).tolist()
    smoothed = [h + 1 for h in hist]
    lengths = _native.huffman_code_lengths(smoothed, 11)
    assert len(lengths) == 256 and max(lengths) <= 11 and min(lengths) >= 1
    block = exponent_bytes(100_000, 21)
    body = _native.huffman_encode_block(block, lengths)
    assert len(body) < len(block) / 2
    assert _native.huffman_decode_block(body, lengths, len(block)) == block
    with pytest.raises(huffman.error, match="corrupt"):
        _native.huffman_decode_block(body, lengths, len(body) * 8)
    sparse = _native.huffman_code_lengths(hist, 11)
    if 0 in sparse:
        missing = bytes([sparse.index(0)])
        with pytest.raises(huffman.error, match="has no code"):
            _native.huffman_encode_block(missing, sparse)
    with pytest.raises(ValueError, match="256"):
        _native.huffman_code_lengths([1, 2, 3], 11)
    with pytest.raises(huffman.error, match="fewer than two symbols"):
        _native.huffman_encode_block(b"a", [1] + [0] * 255)
    with pytest.raises(huffman.error, match="incomplete"):
        _native.huffman_encode_block(b"a", [1, 2] + [0] * 254)
