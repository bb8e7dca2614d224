"""``scalezip lm scaling``: compressed size against model size, measured.

A model's cross-entropy on data is the length of the best code for that
data under the model. This command trains each byte-model family at several
sizes on a train split of DATA, measures bits per byte on the held-out test
split, and sets them beside the compressors people use on the *same* test
bytes: stdlib zlib -9, bz2 -9, lzma preset 9 extreme, zstd -19 (when the
``zstandard`` package is installed), scalezip's own DEFLATE at level 9, and
scalezip's context-mixing compressor at each level (when ``scalezip.cm`` is
available). It fits L(N) = E + A * N**-alpha per family (N = parameters)
and writes ``scaling.csv``, ``scaling.json`` and ``scaling.png`` into
``--out``.

Two accountings, as Deletang et al. (2023, "Language Modeling Is
Compression") insist:

* pretrained: the test data coded with a model trained on other data only
  costs its cross-entropy *if the decoder already has the model*; the honest
  size adds the model itself (4 bytes per float32 parameter), which for any
  but the smallest models dwarfs the data at these test sizes;
* online (nncp style, :func:`scalezip.lm.compress`): the model starts from
  its seed and learns while coding, so the output is the whole cost. This is
  measured on the first ``--online-bytes`` of the test split with the real
  coder (actual output bytes, not an estimate).

Training: fixed number of Adam steps on random windows of the train split
(same windows for every size, seeded), learning rate warmed up then cosine
decayed; evaluation by :func:`scalezip.lm.bits_per_byte` on non-overlapping
windows of the model's context. Everything is seeded, so a rerun on the same
machine gives the same table (timings aside).
"""

from __future__ import annotations

import argparse
import bz2
import csv
import importlib
import json
import lzma
import math
import os
import sys
import time
import warnings
import zlib as std_zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .spec import ModelSpec

__all__ = ["fit_power_law", "main", "run"]

DEFAULT_SIZES = (
    "lstm-1x16,lstm-1x32,lstm-1x64,lstm-2x128,lstm-2x256,"
    "transformer-1x32,transformer-2x64,transformer-2x128,transformer-4x256"
)
TINY_SIZES = "lstm-1x16,lstm-1x32,transformer-1x32,transformer-1x64"


def fit_power_law(n: Sequence[float], loss: Sequence[float]) -> dict[str, Any] | None:
    """Fit loss = E + A * n**-alpha; None with fewer than 3 points.

    With scipy, ``curve_fit`` (E, A >= 0, 0 < alpha <= 3) started from the
    best point of a grid search; without it, the grid search itself: for
    each alpha on a fine grid, E and A by linear least squares, keeping the
    alpha of least squared error. ``method`` in the result says which.
    """
    x = np.asarray(n, dtype=np.float64)
    y = np.asarray(loss, dtype=np.float64)
    if x.size < 3:
        return None
    best: tuple[float, float, float, float] | None = None
    for alpha in np.linspace(0.005, 3.0, 600):
        design = np.stack([np.ones_like(x), x**-alpha], axis=1)
        (e, a), *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(np.sum((design @ np.array([e, a]) - y) ** 2))
        if best is None or sse < best[3]:
            best = (float(e), float(a), float(alpha), sse)
    assert best is not None
    e, a, alpha, sse = best
    method = "numpy grid search over alpha + linear least squares"
    try:
        curve_fit = importlib.import_module("scipy.optimize").curve_fit

        def f(xx: Any, ee: float, aa: float, al: float) -> Any:
            return ee + aa * xx**-al

        with warnings.catch_warnings():
            # Few points: the covariance may be undefined; only the fit is used.
            warnings.simplefilter("ignore")
            p, _ = curve_fit(
                f,
                x,
                y,
                p0=[max(e, 0.0), max(a, 1e-6), alpha],
                bounds=([0.0, 0.0, 1e-4], [np.inf, np.inf, 3.0]),
                maxfev=20000,
            )
        fitted = float(np.sum((f(x, *p) - y) ** 2))
        if math.isfinite(fitted) and fitted <= sse * (1 + 1e-9) + 1e-12:
            e, a, alpha, sse = float(p[0]), float(p[1]), float(p[2]), fitted
            method = "scipy.optimize.curve_fit (E, A >= 0), started from a grid search"
    except (ImportError, RuntimeError, ValueError):
        pass
    return {"E": e, "A": a, "alpha": alpha, "sse": sse, "method": method}


def _classic(test: bytes) -> list[dict[str, Any]]:
    from .. import zlib as sz_zlib

    coders: list[tuple[str, Callable[[bytes], bytes]]] = [
        ("zlib -9", lambda d: std_zlib.compress(d, 9)),
        ("bz2 -9", lambda d: bz2.compress(d, 9)),
        ("lzma -9e", lambda d: lzma.compress(d, preset=9 | lzma.PRESET_EXTREME)),
        ("scalezip DEFLATE -9", lambda d: sz_zlib.compress(d, 9)),
    ]
    try:
        import zstandard

        coders.append(("zstd -19", zstandard.ZstdCompressor(level=19).compress))
    except ImportError:
        pass
    rows = []
    for name, fn in coders:
        t = time.perf_counter()
        size = len(fn(test))
        rows.append(
            {
                "kind": "classic",
                "name": name,
                "compressed_bytes": size,
                "bpb": size * 8 / len(test),
                "seconds": time.perf_counter() - t,
            }
        )
    return rows


def _cm_rows(test: bytes, log: Callable[[str], None]) -> tuple[list[dict[str, Any]], str]:
    try:
        cm = importlib.import_module("scalezip.cm")
    except ImportError:
        return [], "scalezip.cm is not available in this build: CM rows skipped"
    levels = getattr(cm, "LEVELS", None) or range(1, 10)
    rows = []
    for level in levels:
        try:
            mem = int(cm.model_bytes(level))
        except ValueError:
            continue
        t = time.perf_counter()
        blob = cm.compress(test, level)
        secs = time.perf_counter() - t
        if cm.decompress(blob) != test:
            raise RuntimeError(f"scalezip.cm level {level} failed its round trip")
        rows.append(
            {
                "kind": "cm",
                "name": f"cm -{level}",
                "level": level,
                "model_bytes": mem,
                "compressed_bytes": len(blob),
                "bpb": len(blob) * 8 / len(test),
                "seconds": secs,
            }
        )
        log(f"  cm level {level}: {rows[-1]['bpb']:.3f} bpb ({mem / 2**20:.1f} MiB model)")
    return rows, ""


def _train(
    spec: ModelSpec, train: np.ndarray, steps: int, batch: int, lr: float, device: str = "cpu"
) -> tuple[Any, float]:
    import torch
    from torch.nn import functional as F

    from .models import build_model

    model = build_model(spec, device=device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = np.random.default_rng(1234)
    ctx = spec.context
    tokens = torch.from_numpy(train.astype(np.int64)).to(device)
    warm = max(1, steps // 20)
    t = time.perf_counter()
    for step in range(steps):
        scale = (
            (step + 1) / warm
            if step < warm
            else 0.1 + 0.45 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
        )
        for g in opt.param_groups:
            g["lr"] = lr * scale
        starts = torch.from_numpy(gen.integers(0, train.size - ctx - 1, batch))
        idx = starts[:, None] + torch.arange(ctx + 1)[None, :]
        w = tokens[idx.to(device)]
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 256), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)  # count the queued GPU work in the time
    return model, time.perf_counter() - t


def _lr(spec: ModelSpec) -> float:
    """Peak learning rate: LSTMs take a higher one; both fall as 1/sqrt(width) above 64."""
    base = 5e-3 if spec.family == "lstm" else 3e-3
    return base * min(1.0, math.sqrt(64 / spec.width))


def run(
    data: bytes,
    desc: str,
    sizes: Sequence[ModelSpec],
    *,
    steps: int,
    batch: int,
    test_bytes: int,
    online_bytes: int,
    log: Callable[[str], None] = print,
    device: str = "cpu",
) -> dict[str, Any]:
    """Train, evaluate and compare; returns the results dict written as JSON.
    ``device`` is where the models train and are evaluated (e.g. ``"cuda"``);
    online coding always runs on the CPU (its arithmetic must be
    reproducible by any decoder)."""
    import torch

    from . import coding
    from .evaluate import bits_per_byte
    from .models import count_parameters

    split = max(1, len(data) - min(test_bytes, len(data) // 10))
    train = np.frombuffer(data[:split], dtype=np.uint8)
    test = data[split:]
    need = max(s.context for s in sizes) + 2
    if train.size < need or len(test) < 2:
        raise ValueError(
            f"data too small: {len(data)} bytes gives a {train.size}-byte train split "
            f"(need {need}) and a {len(test)}-byte test split"
        )
    log(f"data: {desc}; train {train.size:,} bytes, test {len(test):,} bytes (the last ones)")
    rows = _classic(test)
    for r in rows:
        log(f"  {r['name']}: {r['bpb']:.3f} bpb")
    cm_rows, cm_note = _cm_rows(test, log)
    if cm_note:
        log(f"  {cm_note}")
    rows += cm_rows
    online = test[:online_bytes]
    for spec in sizes:
        model, secs = _train(spec, train, steps, batch, _lr(spec), device)
        params = count_parameters(model)
        bpb = bits_per_byte(model, test, context=spec.context, device=device)
        row: dict[str, Any] = {
            "kind": "neural",
            "name": spec.name,
            "family": spec.family,
            "spec": spec.to_dict(),
            "params": params,
            "model_bytes": params * 4,
            "train_seconds": secs,
            "train_bytes_seen": steps * batch * spec.context,
            "bpb": bpb,
            "pretrained_total_bytes": math.ceil(bpb * len(test) / 8) + params * 4,
        }
        row["pretrained_total_bpb"] = row["pretrained_total_bytes"] * 8 / len(test)
        msg = f"  {spec.name}: {params:,} params, {bpb:.3f} bpb after {secs:.0f} s of training"
        if online:
            t = time.perf_counter()
            blob = coding.compress(online, spec)
            row["online_bytes"] = len(online)
            row["online_compressed_bytes"] = len(blob)
            row["online_bpb"] = len(blob) * 8 / len(online)
            row["online_seconds"] = time.perf_counter() - t
            msg += f"; online {row['online_bpb']:.3f} bpb on {len(online):,} bytes"
        rows.append(row)
        log(msg)
    fits = {}
    for family in sorted({s.family for s in sizes}):
        pts = [r for r in rows if r.get("family") == family]
        fit = fit_power_law([r["params"] for r in pts], [r["bpb"] for r in pts])
        if fit is not None:
            fits[family] = fit
            log(
                f"  fit {family}: L(N) = {fit['E']:.3f} + {fit['A']:.3g} * N^-{fit['alpha']:.3f}"
                f" ({fit['method']})"
            )
    return {
        "data": desc,
        "train_bytes": int(train.size),
        "test_bytes": len(test),
        "online_bytes": len(online),
        "steps": steps,
        "batch": batch,
        "torch": torch.__version__,
        "device": str(device),
        "cm_note": cm_note,
        "rows": rows,
        "fits": fits,
    }


CSV_FIELDS = (
    "kind",
    "name",
    "params",
    "model_bytes",
    "bpb",
    "compressed_bytes",
    "pretrained_total_bytes",
    "pretrained_total_bpb",
    "online_bytes",
    "online_compressed_bytes",
    "online_bpb",
    "train_seconds",
    "seconds",
)


def write_csv(path: str, result: dict[str, Any]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in result["rows"]:
            w.writerow({k: (f"{v:.5g}" if isinstance(v, float) else v) for k, v in r.items()})


def plot(path: str, result: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
    rows = result["rows"]
    xs_all: list[float] = []
    colors = {"lstm": "tab:blue", "transformer": "tab:orange"}
    for family, color in colors.items():
        pts = sorted((r for r in rows if r.get("family") == family), key=lambda r: r["params"])
        if not pts:
            continue
        x = [r["model_bytes"] for r in pts]
        xs_all += x
        ax.plot(x, [r["bpb"] for r in pts], "o-", color=color, label=f"{family} (test bpb)")
        if any("online_bpb" in r for r in pts):
            ax.plot(
                x,
                [r.get("online_bpb", math.nan) for r in pts],
                "s:",
                color=color,
                alpha=0.7,
                label=f"{family} online ({result['online_bytes']:,} B)",
            )
        fit = result["fits"].get(family)
        if fit:
            grid = np.geomspace(min(x) / 4, max(x) * 4, 100)
            n = grid / 4
            ax.plot(
                grid,
                fit["E"] + fit["A"] * n ** -fit["alpha"],
                "--",
                color=color,
                alpha=0.5,
                label=f"fit {fit['E']:.2f} + {fit['A']:.3g}·N^-{fit['alpha']:.2f}",
            )
    cm = sorted((r for r in rows if r["kind"] == "cm"), key=lambda r: r["model_bytes"])
    if cm:
        x = [r["model_bytes"] for r in cm]
        xs_all += x
        ax.plot(x, [r["bpb"] for r in cm], "D-", color="tab:green", label="scalezip CM (memory)")
    classic = sorted((r for r in rows if r["kind"] == "classic"), key=lambda r: r["bpb"])
    for i, r in enumerate(classic):
        ax.axhline(
            r["bpb"],
            color=f"C{i + 4}",
            lw=1,
            ls=(0, (1 + i, 2)),
            alpha=0.9,
            label=f"{r['name']}: {r['bpb']:.2f}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("model size, bytes (neural: 4 x parameters; CM: model memory)")
    ax.set_ylabel("bits per byte on the test split")
    ax.set_title(f"bits per byte vs model size\n{result['data']}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scalezip lm scaling",
        description="Bits per byte against model size for the neural families, the CM "
        "compressor and the classic compressors, on a train/test split of DATA.",
    )
    p.add_argument("data", nargs="?", help="input file (default: the embedded corpus)")
    p.add_argument("--out", default=".", help="folder for scaling.csv/json/png (default: .)")
    p.add_argument("--sizes", help=f"comma-separated model names (default: {DEFAULT_SIZES})")
    p.add_argument("--tiny", action="store_true", help="tiny sizes and data, for CI (seconds)")
    p.add_argument("--steps", type=int, help="training steps per model (default 500; tiny 15)")
    p.add_argument("--batch", type=int, default=32, help="windows per training step (32)")
    p.add_argument("--context", type=int, default=64, help="context of names without -c (64)")
    p.add_argument("--max-bytes", type=int, help="use only the first bytes of DATA")
    p.add_argument("--test-bytes", type=int, help="test split size (default 65536; tiny 4096)")
    p.add_argument(
        "--online-bytes",
        type=int,
        help="bytes of the test split also coded online per size (default 8192; tiny 1024; 0=off)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for training and evaluation (default 1: reproducible, and "
        "faster than several on a busy machine)",
    )
    p.add_argument(
        "--device",
        default="cpu",
        help="where models train and are evaluated, e.g. cuda (default cpu; online coding "
        "stays on the CPU)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tiny = args.tiny
    try:
        import torch
    except ImportError:
        print("scalezip lm: needs torch (pip install 'scalezip[torch]')", file=sys.stderr)
        return 1
    sizes_text = args.sizes or (TINY_SIZES if tiny else DEFAULT_SIZES)
    try:
        sizes = [
            ModelSpec.parse(s, context=16 if tiny else args.context)
            for s in sizes_text.split(",")
            if s.strip()
        ]
    except ValueError as e:
        print(f"scalezip lm scaling: {e}", file=sys.stderr)
        return 2
    steps = args.steps if args.steps is not None else (15 if tiny else 500)
    test_bytes = args.test_bytes or (4096 if tiny else 65536)
    online = args.online_bytes if args.online_bytes is not None else (1024 if tiny else 8192)
    cap = args.max_bytes or (64 << 10 if tiny else None)
    if args.data:
        with open(args.data, "rb") as f:
            data = f.read(cap) if cap else f.read()
        desc = f"{os.path.basename(args.data)} ({len(data):,} bytes)"
    else:
        from .corpus import default_corpus

        data, desc = default_corpus(cap or (4 << 20))
    if args.threads < 1:
        print("scalezip lm scaling: --threads must be at least 1", file=sys.stderr)
        return 2
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    log: Callable[[str], None] = (
        (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    )
    try:
        result = run(
            data,
            desc,
            sizes,
            steps=steps,
            batch=args.batch if not tiny else 8,
            test_bytes=test_bytes,
            online_bytes=online,
            log=log,
            device=args.device,
        )
    except ValueError as e:
        print(f"scalezip lm scaling: {e}", file=sys.stderr)
        return 1
    finally:
        torch.set_num_threads(threads)
    result["threads"] = args.threads
    result["command"] = "scalezip lm scaling " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "scaling.json"), "w") as f:
        json.dump(result, f, indent=1)
    write_csv(os.path.join(args.out, "scaling.csv"), result)
    try:
        plot(os.path.join(args.out, "scaling.png"), result)
    except ImportError:
        log("matplotlib is not installed: no plot")
    log(f"wrote scaling.json, scaling.csv, scaling.png to {args.out}")
    return 0
