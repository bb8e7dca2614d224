"""The CUDA paths: tensors placed on and taken from a GPU, and quantization,
pruning and bits-per-byte through torch ops on the GPU against the CPU path
(the Rust kernels). Skipped where torch sees no CUDA device: CI has none,
so these run on a GPU machine (see docs/design.md, "GPU checks")."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():  # pragma: no cover - depends on the machine
    pytest.skip("no CUDA device", allow_module_level=True)

from scalezip import safetensors as szst  # noqa: E402
from scalezip import tensors  # noqa: E402
from scalezip.prune import magnitude_prune, semi_structured_prune  # noqa: E402
from scalezip.quant import (  # noqa: E402
    QuantError,
    QuantLinear,
    dequantize,
    gptq_quantize,
    hqq_quantize,
    quantize,
)
from torch import nn  # noqa: E402

DTYPES = [torch.float32, torch.bfloat16, torch.float16]


def _weights(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * 0.05).to(dtype)


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    a, b = a.detach().cpu().contiguous(), b.detach().cpu().contiguous()
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and torch.equal(a.view(torch.uint8), b.view(torch.uint8))
    )


# ---------------------------------------------------------------------------
# lossless tensors and checkpoints


@pytest.mark.parametrize("dtype", DTYPES + [torch.int8, torch.int64, torch.bool])
def test_tensor_round_trip_from_and_to_cuda(dtype: torch.dtype) -> None:
    x = _weights((257, 129), torch.float32, 1)
    x = (x * 1000).to(dtype) if not dtype.is_floating_point else x.to(dtype)
    if dtype.is_floating_point:  # the special values too
        x.view(-1)[:4] = torch.tensor([float("nan"), float("inf"), -0.0, 1e-40]).to(dtype)
    g = x.cuda()
    blob = tensors.compress(g)
    assert g.is_cuda  # the input is left where it was
    back = tensors.decompress(blob, device="cuda")
    assert back.is_cuda and back.dtype == dtype and back.shape == x.shape
    assert _same_bits(back, x)
    on_cpu = tensors.decompress(blob)
    assert on_cpu.device.type == "cpu" and _same_bits(on_cpu, x)
    # the same bytes whether the tensor was compressed from the GPU or the CPU
    assert blob == tensors.compress(x)


def test_non_contiguous_cuda_tensor() -> None:
    x = _weights((64, 96), torch.bfloat16).cuda().t()
    assert not x.is_contiguous()
    back = tensors.decompress(tensors.compress(x), device="cuda")
    assert back.is_cuda and _same_bits(back, x.contiguous())


def test_safetensors_files_on_cuda(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sd = {
        "w": _weights((128, 64), torch.bfloat16).cuda(),
        "b": _weights((64,), torch.float32, 2).cuda(),
        "ids": torch.arange(10, dtype=torch.int64).cuda(),
    }
    path = tmp_path / "m.szt"
    szst.save_file(sd, path, metadata={"k": "v"})
    loaded = szst.load_file(path, device="cuda")
    assert set(loaded) == set(sd)
    for k, v in sd.items():
        assert loaded[k].is_cuda and _same_bits(loaded[k], v)
    with szst.safe_open(path, framework="pt", device="cuda:0") as f:
        w = f.get_tensor("w")
        assert w.device == torch.device("cuda", 0) and _same_bits(w, sd["w"])


# ---------------------------------------------------------------------------
# quantization: torch ops on the GPU give what the Rust kernels give on the CPU


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "bits,group,sym,axis",
    [
        (8, None, True, 0),
        (8, None, False, 0),
        (8, None, True, 1),
        (8, None, True, None),
        (8, 64, False, 0),
        (4, 32, True, 0),
        (4, 128, False, 0),
    ],
)
@pytest.mark.parametrize("fp16_scales", [False, True])
def test_quantize_cuda_matches_cpu_kernels(
    dtype: torch.dtype, bits: int, group: int | None, sym: bool, axis: int | None, fp16_scales: bool
) -> None:
    x = _weights((96, 256), dtype, 3)
    x[5] = 0  # an all-zero channel
    x[7, :8] = torch.tensor([1e-38, -1e-38, 3e-39, 0, 2.5, -2.5, 65000, -0.0]).to(dtype)
    cpu = quantize(x, bits, group, sym, axis, fp16_scales=fp16_scales)
    gpu = quantize(x.cuda(), bits, group, sym, axis, fp16_scales=fp16_scales)
    assert gpu.data.is_cuda and gpu.device.type == "cuda"
    assert _same_bits(gpu.data, cpu.data), "integer codes differ between GPU and CPU"
    assert _same_bits(gpu.scales, cpu.scales)
    if not sym:
        assert gpu.zeros is not None and cpu.zeros is not None
        assert _same_bits(gpu.zeros, cpu.zeros)
    dg, dc = gpu.dequantize(), cpu.dequantize()
    assert dg.is_cuda and dg.dtype == dtype
    assert _same_bits(dg, dc), "dequantized values differ between GPU and CPU"
    # moving a quantized tensor between devices keeps it bit-exact
    assert _same_bits(gpu.to("cpu").dequantize(), dc)
    assert _same_bits(cpu.to("cuda").dequantize(), dc)


def test_quantize_cuda_rejects_non_finite() -> None:
    x = _weights((8, 64), torch.float32).cuda()
    x[3, 5] = float("nan")
    with pytest.raises(QuantError, match="channel/group 3"):
        quantize(x, 8)


def test_quant_linear_on_cuda_matches_cpu() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(256, 128).to(torch.bfloat16)
    x = torch.randn(4, 256).to(torch.bfloat16)
    q_cpu = QuantLinear.from_linear(lin, bits=4, group_size=64)
    q_gpu = QuantLinear.from_linear(lin.cuda(), bits=4, group_size=64)
    assert q_gpu.qweight().device.type == "cuda"
    assert _same_bits(q_gpu.qweight().dequantize(), q_cpu.qweight().dequantize())
    y_cpu = q_cpu(x).float()
    y_gpu = q_gpu(x.cuda()).float().cpu()
    torch.testing.assert_close(y_gpu, y_cpu, rtol=2e-2, atol=2e-2)
    # a module moved with .to() keeps working and keeps its weights
    q_back = q_gpu.to("cpu")
    assert _same_bits(q_back.qweight().dequantize(), q_cpu.qweight().dequantize())


def test_hqq_and_gptq_on_cuda_close_to_cpu() -> None:
    w = _weights((128, 256), torch.float32, 4)
    xs = torch.randn(512, 256, generator=torch.Generator().manual_seed(5))
    h = xs.T @ xs
    for run in (
        lambda w, h: hqq_quantize(w, bits=4, group_size=64),
        lambda w, h: gptq_quantize(w, h, bits=4, group_size=64),
    ):
        qc, qg = run(w, h), run(w.cuda(), h.cuda())
        assert qg.device.type == "cuda"
        err_c = float(((dequantize(qc) - w) @ xs.T).pow(2).mean())
        err_g = float(((dequantize(qg).cpu() - w) @ xs.T).pow(2).mean())
        # float summation order differs on the GPU: the errors, not the codes, must agree
        assert err_g == pytest.approx(err_c, rel=0.05)


def test_pruning_on_cuda_matches_cpu() -> None:
    torch.manual_seed(0)
    m_cpu = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32))
    m_gpu = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32))
    m_gpu.load_state_dict(m_cpu.state_dict())
    m_gpu.cuda()
    masks_c = magnitude_prune(m_cpu, 0.5)
    masks_g = magnitude_prune(m_gpu, 0.5)
    for k in masks_c:
        assert masks_g[k].is_cuda
        assert torch.equal(masks_g[k].cpu(), masks_c[k])
    # on top of the magnitude masks: half the scores are tied at zero, and the
    # ties must be broken the same way (by position) on both devices
    masks_c = semi_structured_prune(m_cpu, 2, 4)
    masks_g = semi_structured_prune(m_gpu, 2, 4)
    for k in masks_c:
        assert torch.equal(masks_g[k].cpu(), masks_c[k])


@pytest.mark.parametrize("family,width", [("lstm", 16), ("transformer", 32)])
def test_bits_per_byte_on_cuda_matches_cpu(family: str, width: int) -> None:
    from scalezip import lm

    spec = lm.ModelSpec(family, 1, width, context=8, seed=3)
    data = bytes(np.random.default_rng(0).integers(97, 110, 4000, dtype=np.uint8))
    model = lm.build_model(spec)
    cpu = lm.bits_per_byte(model, data)
    gpu = lm.bits_per_byte(model.cuda(), data, device="cuda")
    assert 0 < cpu < 9
    assert gpu == pytest.approx(cpu, rel=1e-3)


def test_scaling_command_trains_on_cuda(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import os

    from scalezip.cli import main

    out = os.path.join(tmp_path, "res")
    argv = ["lm", "scaling", "--tiny", "--out", out, "--steps", "3", "--max-bytes", "16384"]
    argv += ["--sizes", "lstm-1x16,transformer-1x32", "-q", "--device", "cuda"]
    argv += ["--test-bytes", "1024", "--online-bytes", "256"]
    assert main(argv) == 0
    with open(os.path.join(out, "scaling.json")) as f:
        result = json.load(f)
    assert result["device"] == "cuda"
    neural = [r for r in result["rows"] if r["kind"] == "neural"]
    assert len(neural) == 2 and all(0 < r["bpb"] < 9 for r in neural)
