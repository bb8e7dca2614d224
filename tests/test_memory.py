"""Peak memory of DEFLATE (issue #3): one-shot compression under input + 2x output + a
few MB, streaming compression and decompression in constant memory.

``tracemalloc`` cannot check this: the Rust core allocates with the system allocator,
which it does not see. So each case runs in a fresh interpreter (this file with
``--child``) that reads the resident-set high-water mark ``VmHWM`` from
``/proc/self/status`` after its input exists and after the call; the peak extra is the
growth of ``VmHWM`` over the resident size before the call (the input, already resident,
is not counted: the bound on the extra is 2x the output + a few MB). Linux only.

Two bounds per one-shot case: the issue's target, and a tighter one describing how the
output is built (written once, straight into the returned ``bytes``: rust/py/src/
deflate.rs). The old path (a ``Vec`` grown by doubling, then copied) peaked at 2.6-2.7x
the output and fails the tighter bound by several MB at these sizes. Streaming cases run
at 16 and 64 MiB: a buffer that grew with the stream (input or output kept) would add
tens of MB between the two, against an allowance of 4 MB.

The full-size figures (Silesia, stdlib zlib and libdeflate beside) come from
``benches/memory.py``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zlib as std_zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

MIB = 1 << 20
MB = 1e6
# The "fixed few MB", for levels 0-9 on one thread.
SLACK = 8 * MB
# Streaming: allowed growth of the peak from 16 to 64 MiB of data.
STREAM_GROWTH = 4 * MB
SMALL, BIG = 16, 64

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="needs /proc/self/status (Linux) for VmHWM"
)


def _status(key: str) -> int:
    """A memory figure of /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


# ----------------------------------------------------------------------------- child


def _pieces(path: str, total: int, piece: int = MIB) -> Iterator[bytes]:
    """`total` bytes of the file at `path`, cycled, in `piece`-sized bytes objects."""
    with open(path, "rb") as f:
        while total:
            chunk = f.read(min(piece, total))
            if not chunk:
                f.seek(0)
                continue
            total -= len(chunk)
            yield chunk


def _run_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Child side: build the input, measure the call, report."""
    from scalezip import gzip as sz_gzip
    from scalezip import zlib as sz_zlib

    case, src = spec["case"], spec["src"]
    level = spec.get("level", 6)
    if case.startswith("oneshot"):
        fns: dict[str, Callable[[bytes], bytes]] = {
            "oneshot-zlib": lambda d: sz_zlib.compress(d, level),
            "oneshot-raw": lambda d: sz_zlib.compress(d, level, -15),
            "oneshot-gzip": lambda d: sz_gzip.compress(d, level, mtime=0),
            "oneshot-gzip-threads2": lambda d: sz_gzip.compress(d, level, mtime=0, threads=2),
        }
        fn = fns[case]
        with open(src, "rb") as f:
            data = f.read(spec["size"])  # one allocation of the input's size
        rss0, hwm0 = _status("VmRSS"), _status("VmHWM")
        n_out = len(fn(data))
    else:
        total = spec["size"]

        def compressobj() -> int:
            c = sz_zlib.compressobj(level)
            return sum(len(c.compress(p)) for p in _pieces(src, total)) + len(c.flush())

        def decompressobj() -> int:
            d = sz_zlib.decompressobj()
            n = sum(len(d.decompress(p)) for p in _pieces(src, os.path.getsize(src)))
            return n + len(d.flush())

        def decompressobj_max_length() -> int:
            d = sz_zlib.decompressobj()
            n = 0
            for p in _pieces(src, os.path.getsize(src), 64 * 1024):
                while p:
                    n += len(d.decompress(p, MIB))
                    p = d.unconsumed_tail
            return n + len(d.flush())

        def gzip_write(threads: int) -> int:
            with sz_gzip.open(spec["dst"], "wb", level, threads=threads) as f:
                for p in _pieces(src, total):
                    f.write(p)
            return os.path.getsize(spec["dst"])

        def gzip_read() -> int:
            n = 0
            with sz_gzip.open(src, "rb") as f:
                while piece := f.read(MIB):
                    n += len(piece)
            return n

        runs = {
            "stream-compressobj": compressobj,
            "stream-decompressobj": decompressobj,
            "stream-decompressobj-max_length": decompressobj_max_length,
            "stream-gzip-write": lambda: gzip_write(1),
            "stream-gzip-write-threads2": lambda: gzip_write(2),
            "stream-gzip-read": gzip_read,
        }
        run = runs[case]
        rss0, hwm0 = _status("VmRSS"), _status("VmHWM")
        n_out = run()
    hwm1 = _status("VmHWM")
    import scalezip

    return {
        "scalezip": scalezip.__file__,
        "output": n_out,
        "peak": hwm1 - rss0,
        "gap": hwm0 - rss0,
    }


# ---------------------------------------------------------------------------- parent


def _measure(**spec: Any) -> dict[str, Any]:
    """Run one case in a fresh interpreter; return its figures."""
    import scalezip

    root = os.path.dirname(os.path.dirname(scalezip.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["scalezip"] == scalezip.__file__, "the child imported another scalezip"
    # The input was read in one allocation, so the high-water mark before the call
    # is the resident size then: nothing of the call's peak is hidden below it.
    assert res["gap"] < MIB, res
    return res


def _text_unit(n: int, seed: int) -> bytes:
    """Text-like bytes (words, punctuation, line breaks): about 3:1 with zlib -6."""
    rng = random.Random(seed)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    weights = [26 - i for i in range(26)]
    vocab = [
        "".join(rng.choices(letters, weights, k=rng.choice((2, 3, 4, 5, 6, 7, 8, 10))))
        for _ in range(3000)
    ]
    seps = [" "] * 12 + [", ", ". ", ".\n", "\n"]
    words = rng.choices(vocab, weights=[1 / (i + 1) for i in range(3000)], k=n // 5)
    text = "".join(w + rng.choice(seps) for w in words).encode()
    return text[:n]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The inputs, on disk (the children read them): 64 MiB of text made of a 4 MiB
    unit repeated (repeats lie far outside the 32 KiB window, so they compress like
    fresh text), and zlib / gzip streams of 16 and 64 MiB of it."""
    import gzip as std_gzip

    d = tmp_path_factory.mktemp("memory")
    unit = _text_unit(4 * MIB, 3)
    paths = {"text": str(d / "text")}
    with open(paths["text"], "wb") as f:
        for _ in range(BIG // 4):
            f.write(unit)
    for size in (SMALL, BIG):
        zz, gz = str(d / f"{size}.zz"), str(d / f"{size}.gz")
        c = std_zlib.compressobj(1)
        with open(zz, "wb") as f, std_gzip.open(gz, "wb", 1) as g:
            for p in _pieces(paths["text"], size * MIB):
                f.write(c.compress(p))
                g.write(p)
            f.write(c.flush())
        paths[f"zz{size}"], paths[f"gz{size}"] = zz, gz
    paths["dst"] = str(d / "out.gz")
    return paths


@pytest.mark.parametrize(
    ("case", "level"),
    [
        ("oneshot-zlib", 1),
        ("oneshot-zlib", 6),
        ("oneshot-zlib", 9),
        ("oneshot-gzip", 6),
        ("oneshot-raw", 6),
    ],
)
def test_one_shot_compression_holds_the_output_once(
    files: dict[str, str], case: str, level: int
) -> None:
    r = _measure(case=case, level=level, src=files["text"], size=32 * MIB)
    out, peak = r["output"], r["peak"]
    assert out > 4 * MB  # compressible, but the output is big enough to weigh
    assert peak <= 2 * out + SLACK, f"peak {peak / MB:.1f} MB over the issue's bound"
    # Written once, straight into the result: the output plus the encoder's state.
    assert peak <= out + 6 * MB, f"peak {peak / MB:.1f} MB for {out / MB:.1f} MB out"


def test_level_12_state_is_fixed(files: dict[str, str]) -> None:
    """The near-optimal parser (levels 10-12) keeps per-block arrays, whatever the input
    size: a match cache of up to 1.5 M entries (6 MB), costs per position of a block
    (2.4 MB), the pending joined block's items (up to 4 MB) and the binary-tree finder
    (0.8 MB): at most ~16 MB, 9-13 MB measured (libdeflate holds ~7 MB at level 12).
    Arrays sized by the whole input (8 bytes a position and more) would add 25 MB and
    more on these 3 MiB."""
    r = _measure(case="oneshot-zlib", level=12, src=files["text"], size=3 * MIB)
    out, peak = r["output"], r["peak"]
    assert peak <= out + 16 * MB, f"peak {peak / MB:.1f} MB for {out / MB:.1f} MB out"


def test_one_shot_threads_2(files: dict[str, str]) -> None:
    """Multi-core gzip.compress writes blocks into the result as they complete. The
    fixed part grows with the thread count, not the input: the blocks in flight (at most
    4 per thread, each with its output buffer), one encoder per thread, and the memory
    the allocator keeps in each thread's arena: ~16 MB for 2 threads. Holding the output
    twice (the old Vec-then-copy path) would add another 18 MB here."""
    r = _measure(case="oneshot-gzip-threads2", level=6, src=files["text"], size=48 * MIB)
    out, peak = r["output"], r["peak"]
    assert out > 12 * MB
    assert peak <= 2 * out + SLACK, f"peak {peak / MB:.1f} MB over the issue's bound"
    assert peak <= out + 20 * MB, f"peak {peak / MB:.1f} MB for {out / MB:.1f} MB out"


@pytest.mark.parametrize(
    "case",
    [
        "stream-compressobj",
        "stream-decompressobj",
        "stream-decompressobj-max_length",
        "stream-gzip-write",
        "stream-gzip-write-threads2",
        "stream-gzip-read",
    ],
)
def test_streaming_memory_does_not_grow(files: dict[str, str], case: str) -> None:
    peaks = []
    for size in (SMALL, BIG):
        if "decompressobj" in case:
            src = files[f"zz{size}"]
        elif case.endswith("read"):
            src = files[f"gz{size}"]
        else:
            src = files["text"]
        r = _measure(case=case, level=1, src=src, size=size * MIB, dst=files["dst"])
        assert r["output"] > size * MIB / 10
        peaks.append(r["peak"])
    small, big = peaks
    assert big - small <= STREAM_GROWTH, (
        f"peak {small / MB:.1f} MB at {SMALL} MiB, {big / MB:.1f} MB at {BIG} MiB"
    )


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    print(json.dumps(_run_case(json.loads(sys.argv[2]))))
