"""scalezip.quant: the Rust kernels and the torch path against a plain
reference written here, against each other, and the modules built on them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scalezip import _native  # noqa: E402
from scalezip.quant import (  # noqa: E402
    QuantEmbedding,
    QuantError,
    QuantizedTensor,
    QuantLinear,
    convert_array,
    dequantize,
    dequantize_array,
    gptq_quantize,
    hqq_quantize,
    pack_int4,
    quantize,
    quantize_array,
    quantize_model,
    unpack_int4,
)
from torch import nn  # noqa: E402

FLT_MIN = np.finfo(np.float32).tiny


def reference(x: np.ndarray, bits: int, group: int | None, sym: bool, axis: int | None):
    """Plain numpy float32 reference: (stored ints per element in the
    original shape, scales, zeros) following docs/quant.md step by step."""
    x = x.astype(np.float32)
    if group is not None:
        v = x.reshape(-1, group)
        red = (1,)
        chan = v.shape[0]
    elif axis is None:
        v = x.reshape(1, -1)
        red = (1,)
        chan = 1
    else:
        v = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
        red = (1,)
        chan = v.shape[0]
    qmax, levels = (
        (np.float32(7), np.float32(15)) if bits == 4 else (np.float32(127), np.float32(255))
    )
    mn, mx = v.min(axis=red), v.max(axis=red)
    if sym:
        scale = np.maximum(-mn, mx) / qmax
    else:
        mn0 = np.minimum(mn, np.float32(0))
        scale = (np.maximum(mx, np.float32(0)) - mn0) / levels
    scale = np.where(scale < FLT_MIN, np.float32(1), scale).astype(np.float32)
    inv = (np.float32(1) / scale).astype(np.float32)
    if sym:
        z = np.full(chan, 8 if bits == 4 else 0, np.float32)
        lo, hi = z - qmax, z + qmax
    else:
        z = np.clip(-np.round(mn0 * inv), 0, levels).astype(np.float32)
        lo, hi = np.zeros(chan, np.float32), np.full(chan, levels)
    q = np.clip(np.round(v * inv[:, None]) + z[:, None], lo[:, None], hi[:, None]).astype(np.int32)
    if group is None and axis is not None:
        q = np.moveaxis(q.reshape((x.shape[axis],) + tuple(np.delete(x.shape, axis))), 0, axis)
    return q.reshape(x.shape), scale, (None if sym else z)


def ints(qt: QuantizedTensor) -> np.ndarray:
    return qt.int_values().numpy().astype(np.int32).reshape(qt.shape)


def weights(shape, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(shape, generator=g) * torch.linspace(0.1, 3, shape[-1]) + 0.2
    w.view(-1)[::17] = 0.0
    return w.to(dtype)


CASES = [
    (8, None, 0),
    (8, None, 1),
    (8, None, None),
    (8, 32, 0),
    (8, 128, 0),
    (4, None, 0),
    (4, 32, 0),
    (4, 64, 0),
    (4, 128, 0),
    (4, None, None),
]


@pytest.mark.parametrize("backend", ["auto", "torch"])
@pytest.mark.parametrize("bits,group", [(8, None), (8, 64), (4, 32)])
def test_zero_point_of_a_run_without_negatives_is_plus_zero(backend, bits, group):
    # -round(0 * inv) is -0.0; both backends store +0.0 (CUDA's clamp gives
    # +0.0, so a -0.0 here made CPU and GPU zero points differ in one bit).
    w = weights((4, 128), seed=1)
    w[0] = 0
    w[1] = w[1].abs() + 0.1
    q = quantize(w, bits, group, False, backend=backend)
    bits_of = q.zeros.numpy().view(np.uint32)
    assert not np.any(bits_of == 0x8000_0000), "a zero point is stored as -0.0"
    assert np.any(q.zeros.numpy() == 0)


@pytest.mark.parametrize("bits,group,axis", CASES)
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_matches_reference_and_torch_path(bits, group, axis, sym, dtype):
    w = weights((48, 256), seed=bits + (group or 0), dtype=dtype)
    q = quantize(w, bits, group, sym, axis=axis)
    rq, rs, rz = reference(w.float().numpy(), bits, group, sym, axis)
    assert np.array_equal(ints(q), rq)
    assert np.array_equal(q.scales.numpy(), rs)
    if sym:
        assert q.zeros is None
    else:
        assert np.array_equal(q.zeros.numpy(), rz)
    # The torch path (what runs on CUDA), forced on CPU: identical.
    t = quantize(w, bits, group, sym, axis=axis, backend="torch")
    assert torch.equal(t.data, q.data)
    assert torch.equal(t.scales, q.scales)
    assert (t.zeros is None) == (q.zeros is None)
    if q.zeros is not None:
        assert torch.equal(t.zeros, q.zeros)
    # Dequantization: both paths, against the formula, into every dtype.
    for out in (torch.float32, torch.bfloat16, torch.float16):
        d = q.dequantize(out)
        zz = rz if rz is not None else np.full(rs.shape, 8.0 if bits == 4 else 0.0, np.float32)
        if group is not None:
            want = ((rq.reshape(-1, group) - zz[:, None]) * rs[:, None]).reshape(w.shape)
        elif axis is None:
            want = (rq - zz[0]) * rs[0]
        elif axis == 0:
            want = (rq - zz[:, None]) * rs[:, None]
        else:
            want = (rq - zz[None, :]) * rs[None, :]
        want_t = torch.from_numpy(want.astype(np.float32)).to(out)
        assert torch.equal(d, want_t)
        assert torch.equal(q.dequantize(out, backend="torch"), d)
    assert d.shape == w.shape


def test_nibble_order_and_pack_helpers():
    w = torch.tensor([[-7.0, 7.0, 0.0, 1.0]])
    q = quantize(w, 4, None, True)
    # scale 1, nibble = q + 8: [1, 15, 8, 9] packed low nibble first.
    assert q.data.tolist() == [1 | (15 << 4), 8 | (9 << 4)]
    assert torch.equal(
        unpack_int4(pack_int4(torch.tensor([1, 15, 8, 9]))),
        torch.tensor([1, 15, 8, 9], dtype=torch.uint8),
    )
    a = quantize(torch.tensor([[0.0, 15.0, 3.0, 4.0]]), 4, None, False)
    assert a.scales.tolist() == [1.0] and a.zeros.tolist() == [0.0]
    assert a.data.tolist() == [0 | (15 << 4), 3 | (4 << 4)]


def test_scalar_fallback_threads_and_fp16_scales_agree():
    w = weights((256, 512), 3).numpy()
    for bits, group, sym in [(8, None, True), (8, 64, False), (4, 128, False), (4, 32, True)]:
        base = quantize_array(w, bits, group_size=group, symmetric=sym, threads=1, simd=False)
        for kw in ({"threads": 0}, {"threads": 3}, {"simd": True, "threads": 1}):
            other = quantize_array(w, bits, group_size=group, symmetric=sym, **kw)
            assert np.array_equal(base[0], other[0])
            assert np.array_equal(base[1], other[1])
        # Dequantization through both builds.
        outs = []
        for simd in (False, True):
            out = np.empty_like(w)
            dequantize_array(base[0], base[1], base[2], base[3], bits, out, simd=simd)
            outs.append(out)
        assert np.array_equal(outs[0], outs[1])
    t = torch.from_numpy(w)
    a = quantize(t, 8, 64, False, fp16_scales=True)
    b = quantize(t, 8, 64, False, fp16_scales=True, backend="torch")
    assert a.scales.dtype == torch.float16
    assert torch.equal(a.data, b.data) and torch.equal(a.scales, b.scales)
    assert torch.equal(a.dequantize(), b.dequantize(backend="torch"))


def test_strided_axis_and_3d():
    w = weights((4, 6, 10), 5)
    for axis in (0, 1, 2, -1):
        q = quantize(w, 8, None, False, axis=axis)
        rq, rs, rz = reference(w.numpy(), 8, None, False, axis % 3)
        assert np.array_equal(ints(q), rq) and np.array_equal(q.scales.numpy(), rs)
        t = quantize(w, 8, None, False, axis=axis, backend="torch")
        assert torch.equal(t.data, q.data)


def test_conversions_bit_exact_with_torch():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 400_000, dtype=np.uint64).astype(np.uint32)
    special = np.array(
        [
            0,
            0x80000000,
            0x3F808000,
            0x3F818000,
            0x477FF000,
            0x477FEFFF,
            0x33000000,
            0x33000001,
            0x387FC000,
            0x7F800000,
            0xFF800000,
        ],
        np.uint32,
    )
    x = np.concatenate([bits, special]).view(np.float32)
    x = x[~np.isnan(x)]
    t = torch.from_numpy(x)
    assert np.array_equal(
        convert_array(x, "float32", "bfloat16"),
        t.bfloat16().view(torch.int16).numpy().view(np.uint16),
    )
    assert np.array_equal(
        convert_array(x, "float32", "float16").view(np.uint16), t.half().numpy().view(np.uint16)
    )
    h = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    f = convert_array(h.view(np.float16), "float16", "float32")
    ref = torch.from_numpy(h.view(np.int16)).view(torch.float16).float().numpy()
    ok = ~np.isnan(ref)
    assert np.array_equal(f[ok].view(np.uint32), ref[ok].view(np.uint32))
    assert np.isnan(f[~ok]).all()
    b = convert_array(h, "bfloat16", "float32")
    refb = torch.from_numpy(h.view(np.int16)).view(torch.bfloat16).float().numpy()
    okb = ~np.isnan(refb)
    assert np.array_equal(b[okb].view(np.uint32), refb[okb].view(np.uint32))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 9),
    groups=st.integers(1, 4),
    g=st.sampled_from([2, 8, 32]),
    bits=st.sampled_from([4, 8]),
    sym=st.booleans(),
    seed=st.integers(0, 2**31),
    scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e4]),
)
def test_paths_agree_on_random_tensors(rows, groups, g, bits, sym, seed, scale):
    w = torch.randn((rows, groups * g), generator=torch.Generator().manual_seed(seed)) * scale
    for group in (g, None):
        a = quantize(w, bits, group, sym)
        b = quantize(w, bits, group, sym, backend="torch")
        assert torch.equal(a.data, b.data) and torch.equal(a.scales, b.scales)
        err = (a.dequantize() - w).abs()
        step = a.scales.repeat_interleave(w.numel() // a.scales.numel()).view(w.shape)
        assert bool((err <= step * 0.5001).all())


def test_bad_input():
    w = weights((8, 64))
    for bad in (float("nan"), float("inf"), -float("inf")):
        x = w.clone()
        x[3, 5] = bad
        for backend in ("auto", "torch"):
            with pytest.raises(QuantError, match="NaN or infinity"):
                quantize(x, 8, None, True, backend=backend)
    with pytest.raises(QuantError, match="bits must be 4 or 8"):
        quantize(w, 3)
    with pytest.raises(TypeError):
        quantize(w, 8.0)  # type: ignore[arg-type]
    with pytest.raises(QuantError, match="not divisible by group_size 48"):
        quantize(w, 4, 48)
    with pytest.raises(QuantError, match="even"):
        quantize(w, 4, 7)
    with pytest.raises(QuantError, match="axis 0"):
        quantize(w, 4, None, axis=1)
    with pytest.raises(TypeError, match="unsupported dtype"):
        quantize(w.double())
    with pytest.raises(TypeError, match="unsupported dtype"):
        quantize(w.to(torch.int32))
    with pytest.raises(TypeError):
        quantize(w.numpy())  # type: ignore[arg-type]
    with pytest.raises(QuantError, match="overflows"):
        quantize(torch.full((2, 4), 1e30), 8, fp16_scales=True)
    assert issubclass(QuantError, ValueError)
    # Native layer: buffer sizes are checked, never trusted.
    q = np.empty(10, np.int8)
    with pytest.raises(QuantError, match="quantized buffer"):
        _native.quant_quantize(np.zeros(16, np.float32), "float32", 1, 2, 8, 8, True, q)
    with pytest.raises(QuantError, match="does not cover"):
        _native.quant_quantize(np.zeros(16, np.float32), "float32", 1, 3, 8, 8, True, q)
    with pytest.raises(ValueError, match="unsupported element type"):
        _native.quant_quantize(np.zeros(16, np.float32), "float64", 1, 2, 8, 8, True, q)
    with pytest.raises(QuantError, match="not a positive finite"):
        _native.quant_dequantize(
            np.zeros(16, np.int8),
            np.array([1, -1], np.float32),
            b"",
            1,
            2,
            8,
            8,
            True,
            "float32",
            np.empty(16, np.float32),
        )


def test_all_zero_and_tiny_channels():
    w = torch.zeros(4, 32)
    w[1] = 1e-39  # subnormal: scale underflows, quantized to zero
    for bits in (8, 4):
        q = quantize(w, bits, 32, False)
        assert q.scales.tolist() == [1.0] * 4
        assert torch.equal(q.dequantize(), torch.zeros(4, 32))


def test_quantized_tensor_state_dict_and_device():
    w = weights((16, 128), 9, torch.bfloat16)
    q = quantize(w, 4, 64, False)
    assert q.nbytes == 16 * 128 // 2 + 2 * 32 * 4
    sd = q.state_dict("w.")
    r = QuantizedTensor.from_state_dict(sd, "w.")
    assert torch.equal(r.dequantize(), q.dequantize()) and r.dtype == torch.bfloat16
    assert torch.equal(dequantize(q.to("cpu")), q.dequantize())
    bad = dict(sd)
    bad["w.scales"] = bad["w.scales"][:-1]
    with pytest.raises(QuantError, match="does not match"):
        QuantizedTensor.from_state_dict(bad, "w.")
    bad = dict(sd)
    del bad["w.zeros"]
    with pytest.raises(QuantError, match="zero points"):
        QuantizedTensor.from_state_dict(bad, "w.")
    with pytest.raises(QuantError, match="missing"):
        QuantizedTensor.from_state_dict({}, "w.")


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 128)
        self.fc1 = nn.Linear(128, 256)
        self.fc2 = nn.Linear(256, 128)
        self.lm_head = nn.Linear(128, 50)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = self.emb(ids)
        return self.lm_head(self.fc2(torch.relu(self.fc1(h))))


def tiny(seed: int = 0) -> Tiny:
    torch.manual_seed(seed)
    return Tiny().eval()


IDS = torch.randint(0, 50, (4, 12), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize(
    "kw",
    [
        {"bits": 8},
        {"bits": 8, "group_size": 64, "embeddings": True},
        {"bits": 4, "group_size": 32, "symmetric": False, "embeddings": True},
        {"bits": 4, "group_size": 128, "method": "hqq", "embeddings": True},
    ],
)
def test_quantize_model_round_trip(kw):
    m = tiny()
    with torch.no_grad():
        ref = m(IDS)
    q = quantize_model(tiny(), **kw)
    assert isinstance(q.fc1, QuantLinear) and isinstance(q.lm_head, nn.Linear)
    assert isinstance(q.emb, QuantEmbedding) == bool(kw.get("embeddings"))
    with torch.no_grad():
        out = q(IDS)
    cos = torch.nn.functional.cosine_similarity(out, ref, dim=-1).mean()
    assert cos > (0.999 if kw["bits"] == 8 else 0.97)
    # QuantLinear is the float layer with the dequantized weight.
    w = q.fc1.qweight().dequantize()
    x = torch.randn(3, 128)
    assert torch.allclose(q.fc1(x), torch.nn.functional.linear(x, w, q.fc1.bias))
    if kw.get("embeddings"):
        full = q.emb.qweight().dequantize()
        assert torch.equal(q.emb(IDS), full[IDS])
    # state_dict round trip into a freshly quantized other model.
    sd = q.state_dict()
    fresh = quantize_model(tiny(seed=5), **kw)
    fresh.load_state_dict(sd)
    with torch.no_grad():
        assert torch.equal(fresh(IDS), out)


def test_state_dict_from_other_config_is_refused():
    sd = quantize_model(tiny(), bits=8).state_dict()
    other = quantize_model(tiny(), bits=4, group_size=32)
    with pytest.raises((QuantError, RuntimeError)):
        other.load_state_dict(sd)
    sd4 = quantize_model(tiny(), bits=8, group_size=64).state_dict()
    other = quantize_model(tiny(), bits=8, group_size=32)
    with pytest.raises((QuantError, RuntimeError)):
        other.load_state_dict(sd4)
    same_size = quantize_model(tiny(), bits=8, symmetric=False).state_dict()
    sym = quantize_model(tiny(), bits=8)
    with pytest.raises((QuantError, RuntimeError)):
        sym.load_state_dict(same_size)


def test_quantize_model_arguments():
    with pytest.raises(ValueError, match="method"):
        quantize_model(tiny(), method="awq2")
    with pytest.raises(QuantError, match="calibration"):
        quantize_model(tiny(), bits=4, group_size=128, method="gptq")
    with pytest.raises(QuantError):
        quantize_model(tiny(), bits=5)
    m = quantize_model(tiny(), bits=8, skip=("fc1", "lm_head"))
    assert isinstance(m.fc1, nn.Linear) and isinstance(m.fc2, QuantLinear)


def test_hqq_and_gptq_beat_rtn():
    torch.manual_seed(0)
    w = torch.randn(64, 256) * torch.rand(256) * 2
    rtn = quantize(w, 4, 128, False)
    h = hqq_quantize(w, 4, 128)
    assert float((h.dequantize() - w).abs().mean()) < float((rtn.dequantize() - w).abs().mean())
    # Correlated inputs: GPTQ minimises the layer's output error.
    base = torch.randn(2048, 32)
    x = base @ torch.randn(32, 256) + 0.1 * torch.randn(2048, 256)
    g = gptq_quantize(w, x.T @ x, 4, 128, False)
    err = lambda q: float(((x @ q.dequantize().T) - x @ w.T).pow(2).mean())  # noqa: E731
    assert err(g) < 0.7 * err(rtn)
    # And through quantize_model with calibration batches.
    m = quantize_model(
        tiny(),
        bits=4,
        group_size=128,
        symmetric=False,
        method="gptq",
        calibration=[IDS, (IDS[:2],)],
    )
    assert isinstance(m.fc2, QuantLinear)


def test_hqq_scale_refit_lowers_squared_error():
    torch.manual_seed(3)
    w = torch.randn(32, 256) * torch.rand(256) * 2
    sq = lambda q: float((q.dequantize() - w).pow(2).sum())  # noqa: E731
    plain = hqq_quantize(w, 4, 128, refit=0)
    fitted = hqq_quantize(w, 4, 128)
    # The refit keeps each group's best parameters, so it never loses...
    per_group = lambda q: (q.dequantize() - w).pow(2).reshape(-1, 128).sum(1)  # noqa: E731
    assert bool((per_group(fitted) <= per_group(plain) * (1 + 1e-5) + 1e-9).all())
    # ...and on random weights it wins clearly overall, and beats RTN.
    assert sq(fitted) < 0.995 * sq(plain)
    assert sq(fitted) < sq(quantize(w, 4, 128, False))
    # Deterministic.
    again = hqq_quantize(w, 4, 128)
    assert torch.equal(again.data, fitted.data) and torch.equal(again.scales, fitted.scales)


def test_sequential_gptq():
    calib = [IDS, (IDS[:2],)]
    kw = {"bits": 4, "group_size": 128, "symmetric": False, "method": "gptq"}
    ref = tiny()
    with torch.no_grad():
        want = ref(IDS)
        seq = quantize_model(tiny(), calibration=calib, sequential=True, embeddings=True, **kw)
        one = quantize_model(tiny(), calibration=calib, **kw)
        rtn = quantize_model(tiny(), bits=4, group_size=128, symmetric=False)
        assert isinstance(seq.fc1, QuantLinear) and isinstance(seq.fc2, QuantLinear)
        assert isinstance(seq.emb, QuantEmbedding) and isinstance(seq.lm_head, nn.Linear)
        # Without quantized embeddings fc1 sees the float inputs either way;
        # fc2 sees fc1's quantized output, so its Hessian and codes differ.
        seq2 = quantize_model(tiny(), calibration=calib, sequential=True, **kw)
        assert torch.equal(seq2.fc1.qdata, one.fc1.qdata)
        assert not torch.equal(seq2.fc2.qdata, one.fc2.qdata)
        err = lambda m: float((m(IDS) - want).pow(2).mean())  # noqa: E731
        assert err(seq2) < err(rtn)
        with pytest.raises(QuantError, match="calibration"):
            quantize_model(tiny(), calibration=[], sequential=True, **kw)


def test_import_scalezip_does_not_import_torch():
    code = "import sys, scalezip; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def _st_writer(tensors, path, md):  # type: ignore[no-untyped-def]
    from safetensors.torch import save_file

    save_file(tensors, path, md)


def _st_reader(path):  # type: ignore[no-untyped-def]
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def _checkpoint_round_trip(tmp_path, writer, reader):  # type: ignore[no-untyped-def]
    from scalezip import prune
    from scalezip.quant import load_checkpoint, save_checkpoint

    m = tiny()
    prune.semi_structured_prune(m, 2, 4, skip=("lm_head",))
    quantize_model(m, bits=8, skip=("fc2", "lm_head"))
    with torch.no_grad():
        ref = m(IDS)
    info = save_checkpoint(m, tmp_path / "ckpt", writer=writer)
    assert info["sparse"] >= 2  # fc1's int8 codes and fc2's float weight
    fresh = tiny(seed=3)
    prune.semi_structured_prune(fresh, 2, 4)
    quantize_model(fresh, bits=8, skip=("fc2", "lm_head"))
    load_checkpoint(fresh, tmp_path / "ckpt", reader=reader)
    with torch.no_grad():
        assert torch.equal(fresh(IDS), ref)
    other = quantize_model(tiny(), bits=4, group_size=32, skip=("fc2", "lm_head"))
    with pytest.raises((QuantError, RuntimeError)):
        load_checkpoint(other, tmp_path / "ckpt", reader=reader)


def test_pruned_quantized_checkpoint_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    _checkpoint_round_trip(tmp_path, _st_writer, _st_reader)


def test_pruned_quantized_checkpoint_scalezip_container(tmp_path):
    pytest.importorskip("scalezip.safetensors")
    _checkpoint_round_trip(tmp_path, None, None)
