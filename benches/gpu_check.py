"""GPU check of scalezip.quant: run ``PYTHONPATH=python python benches/gpu_check.py``
on a machine with CUDA. Without CUDA it prints a line and exits 0.

1. Equivalence: ``quantize`` on a CUDA tensor (torch ops) gives the same
   integers, scales and zero points as on CPU (Rust kernels), for int8/int4,
   per channel and group-wise, symmetric and not, float32/bfloat16/float16;
   dequantization agrees too, and a quantized model runs on CUDA with the
   CPU model's outputs (to float tolerance: cuBLAS sums in another order).
2. Timing (CUDA events, median of 20): for an int8 weight of 4096 x 4096,
   ``torch._int_mm`` (activations quantized per token to int8) against
   dequantize-then-matmul in float16, at several token counts. The result
   decides which QuantLinear should use on CUDA (docs/quant.md).
3. Throughput on one 4096 x 4096 float32 weight: ``quantize`` on CUDA
   (torch ops, CUDA events) against the Rust kernels on the same machine's
   CPU cores (wall clock), medians of 20; and the lossless tensor codec
   from a CUDA tensor (``tensors.compress``) and back onto the GPU
   (``tensors.decompress(..., device="cuda")``), transfers included, for a
   bfloat16 weight of 64 MiB.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch


def equivalence() -> int:
    from scalezip.quant import quantize, quantize_model
    from torch import nn

    bad = 0
    g = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        w = (torch.randn(512, 1024, generator=g) * torch.linspace(0.1, 3, 1024)).to(dtype)
        for bits, group, sym in [
            (8, None, True),
            (8, None, False),
            (8, 128, True),
            (4, 128, False),
            (4, 32, True),
            (4, 64, False),
        ]:
            a = quantize(w, bits, group, sym)
            b = quantize(w.cuda(), bits, group, sym)
            ok = torch.equal(a.data, b.data.cpu()) and torch.equal(a.scales, b.scales.cpu())
            ok &= (a.zeros is None) or torch.equal(a.zeros, b.zeros.cpu())
            ok &= torch.equal(a.dequantize(), b.dequantize().cpu())
            print(f"{'ok  ' if ok else 'FAIL'} {dtype} bits={bits} group={group} sym={sym}")
            bad += not ok
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256)).eval()
    quantize_model(m, bits=4, group_size=128, symmetric=False)
    x = torch.randn(8, 256)
    with torch.no_grad():
        cpu = m(x)
        gpu = m.cuda()(x.cuda()).cpu()
    ok = torch.allclose(cpu, gpu, rtol=1e-3, atol=1e-4)
    print(
        f"{'ok  ' if ok else 'FAIL'} QuantLinear on CUDA matches CPU (max diff "
        f"{float((cpu - gpu).abs().max()):.2e})"
    )
    return bad + (not ok)


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(3):
        fn()
    ts = []
    for _ in range(20):
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        ts.append(start.elapsed_time(end))
    return statistics.median(ts)


def timing() -> None:
    k = n = 4096
    w = torch.randn(n, k, device="cuda")
    s = w.abs().amax(dim=1, keepdim=True) / 127
    wq = torch.clamp(torch.round(w / s), -127, 127).to(torch.int8)
    print("\n| tokens | dequant + fp16 matmul ms | _int_mm (+ act. quant) ms |")
    print("|---:|---:|---:|")
    for m in (32, 128, 512, 2048):
        x = torch.randn(m, k, device="cuda", dtype=torch.float16)

        def deq(x: torch.Tensor = x) -> torch.Tensor:
            return x @ (wq.half() * s.half()).t()

        def intmm(x: torch.Tensor = x) -> torch.Tensor:
            xs = x.abs().amax(dim=1, keepdim=True).float() / 127
            xq = torch.clamp(torch.round(x.float() / xs), -127, 127).to(torch.int8)
            acc = torch._int_mm(xq, wq.t())
            return (acc.float() * xs * s.t()).half()

        try:
            t_int = f"{_time(intmm):.3f}"
        except RuntimeError as e:  # shapes or GPUs _int_mm does not support
            t_int = f"n/a ({str(e).splitlines()[0][:40]})"
        print(f"| {m} | {_time(deq):.3f} | {t_int} |")


def _wall(fn) -> float:  # type: ignore[no-untyped-def]
    fn()
    ts = []
    for _ in range(20):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)


def throughput() -> None:
    from scalezip import tensors
    from scalezip.quant import quantize

    w = torch.randn(4096, 4096, generator=torch.Generator().manual_seed(0))
    wg = w.cuda()
    gb = w.numel() * 4 / 1e9
    print(
        f"\n| quantize 4096 x 4096 float32 | CUDA ms | CPU ms ({torch.get_num_threads()} threads) |"
    )
    print("|---|---:|---:|")
    for label, args in (
        ("int8 per channel, sym", (8, None, True)),
        ("int4 g128 asym", (4, 128, False)),
    ):
        tg = _time(lambda a=args: quantize(wg, *a))
        tc = _wall(lambda a=args: quantize(w, *a))
        cuda = f"{tg:.3f} ({gb / tg * 1e3:.0f} GB/s)"
        print(f"| {label} | {cuda} | {tc:.2f} ({gb / tc * 1e3:.1f} GB/s) |")
    wb = (torch.randn(8192, 4096, generator=torch.Generator().manual_seed(1)) * 0.02).bfloat16()
    wbg = wb.cuda()
    mb = wb.numel() * 2 / 1e6
    blob = tensors.compress(wbg)
    back = tensors.decompress(blob, device="cuda")
    assert back.is_cuda and torch.equal(back.view(torch.int16), wbg.view(torch.int16))
    tc = _wall(lambda: tensors.compress(wbg))
    td = _wall(lambda: tensors.decompress(blob, device="cuda"))
    print(f"\n| lossless bf16 64 MiB, ratio {len(blob) / (mb * 1e6):.4f} | ms | MB/s |")
    print("|---|---:|---:|")
    print(f"| tensors.compress(cuda tensor) | {tc:.1f} | {mb / tc * 1e3:.0f} |")
    print(f"| tensors.decompress(device='cuda') | {td:.1f} | {mb / td * 1e3:.0f} |")


def main() -> int:
    if not torch.cuda.is_available():
        print("CUDA not available: GPU check skipped")
        return 0
    print(torch.cuda.get_device_name(), "torch", torch.__version__)
    bad = equivalence()
    timing()
    throughput()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
