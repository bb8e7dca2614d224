"""Peak memory of DEFLATE compression and decompression (issue #3's memory target).

The target: one-shot compression peaks under input size + 2x output size + a few MB;
streaming compression and decompression run in constant memory.

    PYTHONPATH=python python benches/memory.py [--quick] [FILES...]

Each case runs in a fresh child process (this file with ``--child``) that builds its
input, reads the resident-set high-water mark ``VmHWM`` and the current ``VmRSS`` from
``/proc/self/status``, runs the call, and reads ``VmHWM`` again. Peak extra = HWM after
- RSS before: every byte the call made resident, Rust's allocations included (which
``tracemalloc`` cannot see), the result it returns included. Nothing is reset; the input
is read straight into its ``bytes`` (one allocation of its size), so the high-water mark
before the call is the resident size then (the gap is printed; a gap over 1 MB would
hide part of the call's peak and is flagged).

One-shot cases: the input (default: the 8 Silesia files concatenated, 90 MB, cut to
``--oneshot-mib``, default 64) is already resident before the call, so the issue's
"input + 2x output + a few MB" reads "peak extra <= 2x output + 8 MB". Level 12 runs on a
smaller slice (``--level12-mib``, default 8: it compresses at ~3 MB/s). The one-shot
decompressions are there for context (their output is the big side).

Streaming cases: 1 MiB pieces (read from the corpus file, cycled; never held whole) fed
to ``compressobj().compress``, ``decompressobj().decompress`` and ``gzip.open`` at two
total sizes (64 and 256 MiB); the verdict compares the peaks: constant memory means the
larger run peaks no more than 4 MB above the smaller.

Stdlib zlib and libdeflate (the ``deflate`` package) run the same cases for context.
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

MIB = 1 << 20
PIECE = MIB
SLACK_MB = 8.0  # the "fixed few MB" of the one-shot target
STREAM_GROWTH_MB = 4.0  # allowed growth of a streaming peak from the small to the big size


def _status(key: str) -> int:
    """A ``/proc/self/status`` memory figure, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


# --------------------------------------------------------------------------- child


def _pieces(path: str, total: int, cycle: int = 0, piece: int = PIECE) -> Any:
    """`total` bytes of `path` in `piece`-sized bytes objects, cycling over the first
    `cycle` bytes of the file (0: all of it). Cycling over the same bytes at both
    streaming sizes keeps the data's statistics (and so the size of each call's
    output) the same, so that only the stream length differs."""
    left = total
    f = open(path, "rb")  # noqa: SIM115 - closed below
    try:
        pos = 0
        while left:
            want = min(piece, left, cycle - pos) if cycle else min(piece, left)
            chunk = f.read(want)
            if not chunk:
                f.seek(0)
                pos = 0
                continue
            pos += len(chunk)
            if cycle and pos >= cycle:
                f.seek(0)
                pos = 0
            left -= len(chunk)
            yield chunk
    finally:
        f.close()


def _oneshot(impl: str, level: int) -> Any:
    import zlib

    import deflate as libdeflate
    from scalezip import gzip as sz_gzip
    from scalezip import zlib as sz_zlib

    return {
        "sz zlib.compress": lambda d: sz_zlib.compress(d, level),
        "sz gzip.compress": lambda d: sz_gzip.compress(d, level, mtime=0),
        "sz raw (wbits=-15)": lambda d: sz_zlib.compress(d, level, -15),
        "sz gzip threads=2": lambda d: sz_gzip.compress(d, level, mtime=0, threads=2),
        "stdlib zlib.compress": lambda d: zlib.compress(d, level),
        "libdeflate zlib": lambda d: libdeflate.zlib_compress(d, level),
        "sz zlib.decompress": lambda d: sz_zlib.decompress(d),
        "stdlib zlib.decompress": lambda d: zlib.decompress(d),
    }[impl]


def _stream(impl: str, spec: dict[str, Any]) -> tuple[int, Callable[[], int]]:
    """Set up a streaming case; returns (input bytes, a run() giving output bytes)."""
    import zlib

    from scalezip import gzip as sz_gzip
    from scalezip import zlib as sz_zlib

    total, src = spec["mib"] * MIB, spec["src"]
    if impl in ("sz compressobj", "stdlib compressobj"):
        mod = sz_zlib if impl.startswith("sz") else zlib

        def run() -> int:
            c = mod.compressobj(spec["level"])
            n = sum(len(c.compress(p)) for p in _pieces(src, total, spec["cycle"]))
            return n + len(c.flush())

        return total, run
    if impl in ("sz decompressobj", "stdlib decompressobj"):
        mod = sz_zlib if impl.startswith("sz") else zlib
        size = os.path.getsize(src)

        def run() -> int:
            d = mod.decompressobj()
            n = sum(len(d.decompress(p)) for p in _pieces(src, size))
            return n + len(d.flush())

        return size, run
    if impl in ("sz decompressobj max_length", "stdlib decompressobj max_length"):
        # The bounded-output way (the stdlib's documented defence against bombs):
        # 64 KiB of input at a time, at most 1 MiB out per call.
        mod = sz_zlib if impl.startswith("sz") else zlib
        size = os.path.getsize(src)

        def run() -> int:
            d = mod.decompressobj()
            n = 0
            for p in _pieces(src, size, piece=64 * 1024):
                while p:
                    n += len(d.decompress(p, PIECE))
                    p = d.unconsumed_tail
            return n + len(d.flush())

        return size, run
    if impl.startswith("sz gzip.open wb"):
        threads = 2 if impl.endswith("threads=2") else 1

        def run() -> int:
            with sz_gzip.open(spec["dst"], "wb", spec["level"], threads=threads) as f:
                for p in _pieces(src, total, spec["cycle"]):
                    f.write(p)
            return os.path.getsize(spec["dst"])

        return total, run
    if impl == "sz gzip.open rb":
        size = os.path.getsize(src)

        def run() -> int:
            n = 0
            with sz_gzip.open(src, "rb") as f:
                while piece := f.read(PIECE):
                    n += len(piece)
            return n

        return size, run
    raise ValueError(impl)


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one case in this (fresh) process and measure it."""
    import scalezip  # noqa: F401 - imported before the baseline

    result: dict[str, Any] = {"scalezip": scalezip.__file__}
    if spec["kind"] == "oneshot":
        fn = _oneshot(spec["impl"], spec.get("level", 6))
        with open(spec["src"], "rb") as f:
            data = f.read(spec["bytes"]) if spec.get("bytes") else f.read()
        rss0, hwm0 = _status("VmRSS"), _status("VmHWM")
        out = fn(data)
        hwm1 = _status("VmHWM")
        result.update(input=len(data), output=len(out))
    else:
        n_in, run = _stream(spec["impl"], spec)
        rss0, hwm0 = _status("VmRSS"), _status("VmHWM")
        n_out = run()
        hwm1 = _status("VmHWM")
        result.update(input=n_in, output=n_out)
    result.update(baseline_gap=max(0, hwm0 - rss0), peak_extra=hwm1 - rss0)
    return result


# --------------------------------------------------------------------------- parent


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run `spec` in a fresh interpreter (this file, --child) and return its figures."""
    import scalezip

    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(scalezip.__file__))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(f"child failed for {spec}:\n{proc.stderr}")
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if not res["scalezip"].startswith(root):
        raise RuntimeError(f"child imported {res['scalezip']}, not the scalezip under {root}")
    return res


def _mb(n: float) -> str:
    return f"{n / 1e6:8.1f}"


def _write_stream(src: str, total: int, cycle: int, dst: str, gzip_member: bool) -> None:
    """A zlib stream (or gzip file) of `total` bytes of `src`, cycled, written piece by
    piece with the stdlib at level 1 (fast; any encoder's stream decodes the same way)."""
    import gzip
    import zlib

    with open(dst, "wb") as out:
        if gzip_member:
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as g:
                for p in _pieces(src, total, cycle):
                    g.write(p)
            return
        c = zlib.compressobj(1)
        for p in _pieces(src, total, cycle):
            out.write(c.compress(p))
        out.write(c.flush())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="input files (default: Silesia)")
    ap.add_argument("--oneshot-mib", type=int, default=64)
    ap.add_argument("--level12-mib", type=int, default=8)
    ap.add_argument("--stream-mib", default="64,256", help="the two streaming sizes")
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--only", choices=("oneshot", "stream"), help="run one half only")
    args = ap.parse_args()
    if args.quick:
        args.oneshot_mib, args.level12_mib, args.stream_mib = 8, 1, "8,32"
    small, big = (int(x) for x in args.stream_mib.split(","))
    files = args.files or sorted(glob.glob("/work/shared/corpus/silesia/*"))

    with tempfile.TemporaryDirectory(prefix="scalezip-mem-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        with open(corpus, "wb") as out:
            for name in files:
                with open(name, "rb") as f:
                    out.write(f.read())
        n_corpus = os.path.getsize(corpus)
        print(f"input: {len(files)} files concatenated, {n_corpus / 1e6:.1f} MB")
        oneshot = min(args.oneshot_mib * MIB, n_corpus)
        packed = os.path.join(tmp, "oneshot.zz")
        with open(corpus, "rb") as f, open(packed, "wb") as out:
            import zlib

            out.write(zlib.compress(f.read(oneshot), 6))

        print(
            "\nOne-shot: peak extra = VmHWM after the call - VmRSS before it (input already"
            f" resident).\nBound: 2x output + {SLACK_MB:.0f} MB over the resident input"
            " (the issue's 'input + 2x output + a few MB')."
        )
        head = (
            f"{'case':26s} {'level':>5s} {'in MB':>8s} {'out MB':>8s} {'peak MB':>8s}"
            f" {'bound MB':>8s} {'peak/out':>8s}  verdict"
        )
        print(head)
        print("-" * len(head))
        rows: list[tuple[str, int | str, dict[str, Any]]] = []
        oneshot_cases = [
            ("sz zlib.compress", (1, 6, 9, 12)),
            ("sz gzip.compress", (1, 6, 9, 12)),
            ("sz raw (wbits=-15)", (1, 6, 9, 12)),
            ("sz gzip threads=2", (1, 6, 9, 12)),
            ("stdlib zlib.compress", (1, 6, 9)),
            ("libdeflate zlib", (1, 6, 9, 12)),
        ]
        decompress_cases = ["sz zlib.decompress", "stdlib zlib.decompress"]
        if args.only == "stream":
            oneshot_cases, decompress_cases = [], []
        for impl, levels in oneshot_cases:
            for lv in levels:
                n = min(args.level12_mib * MIB, oneshot) if lv == 12 else oneshot
                spec: dict[str, Any] = {"kind": "oneshot", "impl": impl, "level": lv}
                spec.update(src=corpus, bytes=n)
                rows.append((impl, lv, measure(spec)))
        for impl in decompress_cases:
            spec = {"kind": "oneshot", "impl": impl, "src": packed, "bytes": 0}
            rows.append((impl, "-", measure(spec)))
        for impl, shown, r in rows:
            out = r["output"]
            bound = 2 * out + SLACK_MB * 1e6
            verdict = "ok" if r["peak_extra"] <= bound else "OVER"
            if r["baseline_gap"] > MIB:
                verdict += f" (baseline gap {r['baseline_gap'] / 1e6:.1f} MB)"
            print(
                f"{impl:26s} {shown!s:>5s} {_mb(r['input'])} {_mb(out)} {_mb(r['peak_extra'])}"
                f" {_mb(bound)} {r['peak_extra'] / max(out, 1):8.2f}  {verdict}"
            )

        print(
            f"\nStreaming, {PIECE // MIB} MiB pieces: peak extra at {small} and {big} MiB of"
            f" data; constant memory = growth <= {STREAM_GROWTH_MB:.0f} MB."
        )
        head = (
            f"{'case':30s} {'level':>5s} {'peak@' + str(small):>9s} {'peak@' + str(big):>9s}"
            f" {'growth':>7s} {'out MB@' + str(big):>11s}  verdict"
        )
        print(head)
        print("-" * len(head))
        # Both sizes cycle over the same first `small` MiB of the corpus.
        cycle = min(small * MIB, n_corpus)
        streams: dict[tuple[int, bool], str] = {}
        for size in () if args.only == "oneshot" else (small, big):
            for gz in (False, True):
                path = os.path.join(tmp, f"stream-{size}.{'gz' if gz else 'zz'}")
                _write_stream(corpus, size * MIB, cycle, path, gz)
                streams[size, gz] = path
        stream_cases: list[tuple[str, int | str]] = [
            ("sz compressobj", 6),
            ("sz compressobj", 9),
            ("stdlib compressobj", 6),
            ("sz decompressobj", "-"),
            ("stdlib decompressobj", "-"),
            ("sz decompressobj max_length", "-"),
            ("stdlib decompressobj max_length", "-"),
            ("sz gzip.open wb", 6),
            ("sz gzip.open wb threads=2", 6),
            ("sz gzip.open rb", "-"),
        ]
        for impl, slv in [] if args.only == "oneshot" else stream_cases:
            res = []
            for size in (small, big):
                spec = {"kind": "stream", "impl": impl, "mib": size, "cycle": cycle}
                if "decompressobj" in impl or impl.endswith("rb"):
                    spec["src"] = streams[size, impl.endswith("rb")]
                else:
                    spec.update(src=corpus, level=slv, dst=os.path.join(tmp, "out.gz"))
                res.append(measure(spec))
            growth = res[1]["peak_extra"] - res[0]["peak_extra"]
            verdict = "ok" if growth <= STREAM_GROWTH_MB * 1e6 else "GROWS"
            if max(r["baseline_gap"] for r in res) > MIB:
                verdict += " (baseline gap)"
            print(
                f"{impl:30s} {slv!s:>5s} {_mb(res[0]['peak_extra']):>9s}"
                f" {_mb(res[1]['peak_extra']):>9s} {growth / 1e6:7.1f}"
                f" {_mb(res[1]['output']):>11s}  {verdict}"
            )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        main()
