"""scalezip.tensors: bit-exact round trips for every dtype and adversarial
values (every 16-bit pattern, NaN payloads, signed zeros, infinities,
subnormals, random bits), numpy and torch in and out, the caller's buffer
left untouched, and damaged containers raising a TensorError that names the
tensor and chunk (never wrong data, never another exception)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

tensors = pytest.importorskip("scalezip.tensors")
import scalezip  # noqa: E402
from scalezip import _native  # noqa: E402

NP_DTYPES = [
    np.bool_,
    np.uint8,
    np.int8,
    np.uint16,
    np.int16,
    np.uint32,
    np.int32,
    np.uint64,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
]


def weights(shape: tuple[int, ...], seed: int = 0, scale: float = 0.02) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def random_bits(n: int, dtype: type, seed: int = 0) -> np.ndarray:
    b = np.random.default_rng(seed).integers(0, 256, n * np.dtype(dtype).itemsize, np.uint8)
    if dtype is np.bool_:
        return b[:n] & 1 == 1
    return b.view(dtype)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", NP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 0, 2), (1000,), (300, 701)])
def test_numpy_round_trip_every_dtype(dtype: type, shape: tuple[int, ...]) -> None:
    n = int(np.prod(shape))
    a = random_bits(n, dtype, seed=n).reshape(shape)
    back = tensors.decompress(tensors.compress(a))
    assert isinstance(back, np.ndarray)
    assert same_bits(back, a)


@pytest.mark.parametrize("method", ["auto", "split", "bytes", "joint", "stored", "range"])
@pytest.mark.parametrize("view", [np.float16, np.int16, np.uint16])
def test_every_16_bit_pattern(method: str, view: type) -> None:
    # Every NaN payload, both zeros, both infinities, every subnormal.
    a = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(view)
    blob = tensors.compress(a, method=method, chunk_elems=4096)
    assert same_bits(tensors.decompress(blob), a)


def test_float32_specials() -> None:
    bits = [
        0,
        0x8000_0000,
        0x7F80_0000,
        0xFF80_0000,
        0x7FC0_0000,
        0x7F80_0001,
        0xFFFF_FFFF,
        0x0000_0001,
        0x807F_FFFF,
        0x0080_0000,
        0x3F80_0000,
        0x7FBF_FFFF,
    ]
    a = np.array(bits * 1000, dtype=np.uint32).view(np.float32)
    for method in ("auto", "split", "bytes", "joint", "range"):
        assert same_bits(tensors.decompress(tensors.compress(a, method=method)), a)


def test_joint_layout_for_float16_weights() -> None:
    # fp16 weights take the joint layout under "auto" (the rank and top
    # mantissa bits coded, the sign packed apart), no larger than byte
    # grouping, and round-trip with specials among them; 150001 elements in
    # chunks of 4096 leave a short last chunk (the fused merge's tail).
    w = weights((150001,), seed=12).astype(np.float16)
    specials = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E01, 0xFFFF, 0x0001, 0x83FF, 0x03FF]
    w.view(np.uint16)[::991][: len(specials)] = specials
    auto = tensors.compress(w, chunk_elems=4096)
    assert auto == tensors.compress(w, method="joint", chunk_elems=4096)
    assert len(auto) <= len(tensors.compress(w, method="bytes", chunk_elems=4096))
    assert same_bits(tensors.decompress(auto), w)


@pytest.mark.parametrize("bf16", [False, True])
def test_joint_layout_with_specials_among_weights(bf16: bool) -> None:
    # Few distinct exponents (so the joint layout applies), with NaNs of
    # several payloads, infinities, signed zeros and subnormals among them.
    w = weights((300, 500), seed=11).view(np.uint32).reshape(-1).copy()
    specials = [
        0,
        0x8000_0000,
        0x7F80_0000,
        0xFF80_0000,
        0x7FC0_1234,
        0xFFFF_0001,
        0x0000_0001,
        0x8001_0000,
        0x007F_FFFF,
    ]
    w[::997][: len(specials)] = specials
    if bf16:
        a = (w >> 16).astype(np.uint16)
        blob = _native.tensor_encode(a, "BF16", 4096, "joint")
        out = np.empty_like(a)
        _native.tensor_decode_into(blob, "BF16", 4096, out)
        assert out.tobytes() == a.tobytes()
    else:
        a = w.view(np.float32)
        blob = tensors.compress(a, method="joint", chunk_elems=4096)
        assert same_bits(tensors.decompress(blob), a)


def test_weights_compress_well_and_layouts_agree() -> None:
    w = weights((512, 768))
    blob = tensors.compress(w)
    assert len(blob) < 0.87 * w.nbytes
    for method in ("split", "bytes", "joint", "stored"):
        assert same_bits(tensors.decompress(tensors.compress(w, method=method)), w)
    # auto is never much worse than the best layout
    best = min(len(tensors.compress(w, method=m)) for m in ("split", "bytes", "joint"))
    assert len(blob) <= best * 1.002
    ideal = tensors.entropy_ideal(w)
    assert 0.7 * w.nbytes < ideal < w.nbytes


def test_output_independent_of_threads_and_chunking_round_trips() -> None:
    w = weights((1000, 300), seed=3)
    one = tensors.compress(w, threads=1, chunk_elems=1024)
    assert one == tensors.compress(w, threads=2, chunk_elems=1024)
    assert one == tensors.compress(w, chunk_elems=1024)
    for ce in (1024, 5000, 1 << 22):
        assert same_bits(tensors.decompress(tensors.compress(w, chunk_elems=ce), threads=1), w)


def test_input_buffer_never_modified() -> None:
    # zipnn 0.5.4 rotates the bits of its input in place; we must not.
    w = weights((400, 400), seed=4)
    before = w.copy()
    tensors.compress(w)
    assert same_bits(w, before)
    # read-only input works (we never ask for a writable buffer)
    w.setflags(write=False)
    assert same_bits(tensors.decompress(tensors.compress(w)), before)


def test_non_contiguous_and_big_endian_inputs() -> None:
    w = weights((300, 200), seed=5)
    t = w.T
    assert same_bits(tensors.decompress(tensors.compress(t)), np.ascontiguousarray(t))
    be = w.astype(">f4")
    back = tensors.decompress(tensors.compress(be))
    assert back.dtype == np.float32 and np.array_equal(back.view(np.uint32), w.view(np.uint32))


def test_bfloat16_via_ml_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for dt in (ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2):
        a = random_bits(5000, np.uint8 if np.dtype(dt).itemsize == 1 else np.uint16).view(dt)
        assert same_bits(tensors.decompress(tensors.compress(a)), a)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        tensors.compress(b"not an array")
    with pytest.raises(TypeError):
        tensors.compress(np.zeros(3, dtype=np.complex64))
    with pytest.raises(ValueError):
        tensors.compress(np.zeros(3), chunk_elems=10)
    with pytest.raises(ValueError):
        tensors.compress(np.zeros(3), method="zip")
    with pytest.raises(ValueError):
        tensors.compress(np.zeros(3), threads=0)
    with pytest.raises(ValueError):
        tensors.decompress(tensors.compress(np.zeros(3)), device="cuda")


def test_max_size() -> None:
    blob = tensors.compress(np.zeros(100_000, np.float32))
    with pytest.raises(tensors.error, match="over the limit"):
        tensors.decompress(blob, max_size=1000)
    assert tensors.decompress(blob, max_size=400_000).shape == (100_000,)


# ---------------------------------------------------------------------------
# damaged data


def test_not_szt_and_versions() -> None:
    for junk in (b"", b"SZH0" + bytes(40), b"hello world" * 3):
        with pytest.raises(tensors.error, match="not a .szt"):
            tensors.decompress(junk)
    with pytest.raises(tensors.error, match="truncated"):
        tensors.decompress(b"SZ")
    blob = bytearray(tensors.compress(np.arange(10, dtype=np.int32)))
    blob[4] = 2
    with pytest.raises(tensors.error, match="unsupported .szt format version 2"):
        tensors.decompress(bytes(blob))
    assert issubclass(tensors.error, scalezip.error)


def _bf16_weights(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return (weights(shape, seed=seed).view(np.uint32) >> 16).astype(np.uint16)


def test_range_method_smaller_and_round_trips() -> None:
    a = _bf16_weights((400, 768), seed=3)
    joint = _native.tensor_encode(a, "BF16", 131072, "joint")
    rng = _native.tensor_encode(a, "BF16", 131072, "range")
    assert len(rng) < len(joint)
    out = np.empty_like(a)
    _native.tensor_decode_into(rng, "BF16", 131072, out)
    assert out.tobytes() == a.tobytes()
    w = weights((300, 500), seed=4)
    assert same_bits(tensors.decompress(tensors.compress(w, method="range")), w)


def test_corrupt_range_planes_raise() -> None:
    # Range tables cost 2 bytes a symbol: they pay off on big chunks.
    a = weights((256, 512), seed=5)
    blob = tensors.compress(a, method="range", chunk_elems=65536)
    assert len(blob) < len(tensors.compress(a, method="joint", chunk_elems=65536))
    header_end = 16 + struct.unpack_from("<I", blob, 8)[0] + 4
    # Dense over the start of each chunk (method, map, range tables), sparse after.
    positions = list(range(header_end, header_end + 600)) + list(
        range(header_end, len(blob) - 36 - 16, 1013)
    )
    for pos in positions:
        bad = bytearray(blob)
        bad[pos] ^= 0xA5
        try:
            back = tensors.decompress(bytes(bad))
        except tensors.error as e:
            assert "chunk" in str(e), str(e)
            continue
        assert same_bits(back, a), pos
    for cut in range(header_end, len(blob), 4099):
        with pytest.raises(tensors.error):
            tensors.decompress(blob[:cut])


def test_truncation_anywhere_raises() -> None:
    blob = tensors.compress(weights((50, 100)), chunk_elems=1024)
    for cut in list(range(0, len(blob), max(1, len(blob) // 200))) + [len(blob) - 1]:
        with pytest.raises(tensors.error):
            tensors.decompress(blob[:cut])


def test_bit_flips_are_caught_and_named() -> None:
    w = weights((40, 100), seed=7)
    blob = tensors.compress(w, chunk_elems=1024)
    header_end = 16 + struct.unpack_from("<I", blob, 8)[0] + 4
    hits = 0
    for pos in range(0, len(blob), 7):
        bad = bytearray(blob)
        bad[pos] ^= 1 << (pos % 8)
        try:
            back = tensors.decompress(bytes(bad))
        except tensors.error as e:
            if header_end <= pos < len(blob) - 36 - 16:
                assert "tensor ''" in str(e) and "chunk" in str(e), str(e)
                hits += 1
            continue
        # A flip in the zero padding of a Huffman stream's last byte changes
        # no decoded bit: the data must then come back exact.
        assert same_bits(back, w), pos
    assert hits > 50


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutations_never_return_wrong_data(data: st.DataObject) -> None:
    w = weights((30, 70), seed=8)
    blob = bytearray(tensors.compress(w, chunk_elems=1024))
    n = data.draw(st.integers(1, 4))
    for _ in range(n):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    try:
        back = tensors.decompress(bytes(blob))
    except tensors.error:
        return
    # Only a mutation that changed nothing may decode.
    assert same_bits(back, w)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 5000), st.sampled_from(sorted(tensors.DTYPES)))
def test_native_decoder_on_garbage(frames: bytes, n: int, dtype: str) -> None:
    out = bytearray(n * tensors.DTYPES[dtype])
    try:
        _native.tensor_decode_into(frames, dtype, 1024, out)
    except scalezip.error:
        pass


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=5000),
    st.sampled_from(sorted(tensors.DTYPES)),
    st.sampled_from(["auto", "split", "bytes", "joint", "range"]),
)
def test_random_bits_every_dtype(raw: bytes, dtype: str, method: str) -> None:
    w = tensors.DTYPES[dtype]
    raw = raw[: len(raw) // w * w]
    frames = _native.tensor_encode(raw, dtype, 1024, method)
    out = bytearray(len(raw))
    _native.tensor_decode_into(frames, dtype, 1024, out)
    assert bytes(out) == raw


# ---------------------------------------------------------------------------
# torch


def test_torch_round_trip_every_dtype() -> None:
    torch = pytest.importorskip("torch")
    dts = [
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
    ]
    dts += [getattr(torch, n) for n in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, n)]
    for dt in dts:
        for shape in [(), (0,), (7, 300), (2, 0, 3)]:
            n = int(np.prod(shape))
            w = torch.empty(shape, dtype=dt).element_size()
            raw = torch.from_numpy(np.random.default_rng(n).integers(0, 256, n * w, np.uint8))
            t = raw.view(dt).reshape(shape) if n else torch.empty(shape, dtype=dt)
            if dt == torch.bool:
                t = (raw & 1).bool().reshape(shape)
            back = tensors.decompress(tensors.compress(t))
            assert isinstance(back, torch.Tensor) and back.dtype == dt
            assert back.shape == t.shape
            assert back.reshape(-1).view(torch.uint8).numpy().tobytes() == (
                t.reshape(-1).view(torch.uint8).numpy().tobytes()
            )


def test_torch_input_untouched_and_non_contiguous() -> None:
    torch = pytest.importorskip("torch")
    t = torch.randn(300, 200, dtype=torch.float32).to(torch.bfloat16)
    before = t.clone()
    back = tensors.decompress(tensors.compress(t.T))
    assert torch.equal(t.view(torch.int16), before.view(torch.int16))
    assert torch.equal(back.view(torch.int16), t.T.contiguous().view(torch.int16))
    g = torch.randn(10, requires_grad=True)
    assert torch.equal(tensors.decompress(tensors.compress(g)), g.detach())
    assert tensors.decompress(tensors.compress(g), device="cpu").device.type == "cpu"


@pytest.mark.parametrize("threads", [1, 2])
def test_compress_equals_the_writer_path(threads: int) -> None:
    """compress() builds header, frames and index in one native call: the
    bytes are those SztWriter writes for the same tensor."""
    import io

    for a in (weights((300, 129), seed=5), np.zeros(0, np.float32), np.arange(7, dtype=np.int16)):
        raw = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
        name = {"float32": "F32", "int16": "I16"}[a.dtype.name]
        info = tensors.TensorInfo("", name, tuple(a.shape), 1024)
        f = io.BytesIO()
        w = tensors.SztWriter(f, [info], {"kind": "numpy"}, threads=threads)
        w.write_tensor(raw)
        w.close()
        blob = tensors.compress(a, chunk_elems=1024, threads=threads)
        assert blob == f.getvalue()
        assert same_bits(tensors.decompress(blob), a)


def test_native_prefix_and_suffix() -> None:
    a = weights((50, 100), seed=6)
    plain = _native.tensor_encode(a, "F32", 1024, "auto", 1)
    seen: list[int] = []

    def tail(n: int) -> bytes:
        seen.append(n)
        return b"xyz"

    got = _native.tensor_encode(a, "F32", 1024, "auto", 1, prefix=b"ab", suffix=tail)
    assert got == b"ab" + plain + b"xyz" and seen == [len(plain)]
    with pytest.raises(ZeroDivisionError):
        _native.tensor_encode(a, "F32", 1024, suffix=lambda n: 1 // 0)
    with pytest.raises(TypeError):
        _native.tensor_encode(a, "F32", 1024, suffix=lambda n: 5)
