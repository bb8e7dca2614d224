"""The implementation releases the GIL around long-running native work.

Two complementary checks, both valid for CPython's own zlib (which releases
the GIL around deflate/inflate), so they pass in stdlib mode:

1. *Heartbeat*: a pure-Python thread records timestamps in a tight loop while
   the main thread makes one long call (compress, decompress, a Compress or
   Decompress object method, gzip.compress/decompress).  If the call held the
   GIL, the heartbeat would stall for the whole call; we require that its
   longest stall during the call is well under the call's duration.  This
   works on one core too (the OS time-slices the two threads in ms quanta).

2. *Parallel CPU time*: on >= 2 cores, two threads each compress a large
   buffer; the sum of their per-thread CPU times must exceed the wall time
   they took together (impossible if they serialised on the GIL), and their
   [start, end] intervals must overlap.  Retried a few times to be robust to a
   busy machine.

Neither asserts a speed: only relative timings within one run.  Input sizes
grow until one call takes long enough (>= ~0.15 s) to measure.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import STD_GZIP, STD_ZLIB, seeded_bytes, text_bytes

pytestmark = pytest.mark.timeout(300)

MIN_CALL_SECONDS = 0.15
MAX_BYTES = 256 << 20

_base_cache: dict[int, bytes] = {}


def _payload(n: int) -> bytes:
    # Mildly compressible data: text with some random blocks, built by repetition.
    if "unit" not in _base_cache:
        _base_cache["unit"] = text_bytes(1 << 20, 77) + seeded_bytes(256 << 10, 78)
    unit = _base_cache["unit"]
    reps = -(-n // len(unit))
    return (unit * reps)[:n]


OPERATIONS = {
    "zlib.compress": (lambda z, g, d: (lambda: z.compress(d, 6)), lambda d: d),
    "zlib.decompress": (lambda z, g, d: (lambda: z.decompress(d)), lambda d: STD_ZLIB.compress(d, 1)),
    "Compress.compress": (lambda z, g, d: (lambda: z.compressobj(6).compress(d)), lambda d: d),
    "Decompress.decompress": (
        lambda z, g, d: (lambda: z.decompressobj().decompress(d)),
        lambda d: STD_ZLIB.compress(d, 1),
    ),
    "gzip.compress": (lambda z, g, d: (lambda: g.compress(d, 6, mtime=0)), lambda d: d),
    "gzip.decompress": (lambda z, g, d: (lambda: g.decompress(d)), lambda d: STD_GZIP.compress(d, 1, mtime=0)),
}


def _calibrated_call(make_call, prepare):
    """Grow the input until a single call takes >= MIN_CALL_SECONDS; return (call, duration)."""
    n = 4 << 20
    while True:
        call = make_call(prepare(_payload(n)))
        t0 = time.perf_counter()
        call()
        dt = time.perf_counter() - t0
        if dt >= MIN_CALL_SECONDS or n >= MAX_BYTES:
            return call, dt
        n = min(MAX_BYTES, n * max(2, int(MIN_CALL_SECONDS / max(dt, 1e-3) * 1.5)))


def _longest_stall_during(call, warmup=0.02):
    """Run call() in this thread while a heartbeat thread ticks; return (call_duration, longest_gap)."""
    stamps: list[float] = []
    stop = threading.Event()
    started = threading.Event()

    def heartbeat():
        append = stamps.append
        clock = time.perf_counter
        started.set()
        while not stop.is_set():
            append(clock())

    t = threading.Thread(target=heartbeat, daemon=True)
    t.start()
    started.wait()
    time.sleep(warmup)
    t0 = time.perf_counter()
    call()
    t1 = time.perf_counter()
    stop.set()
    t.join()
    inside = [s for s in stamps if t0 <= s <= t1]
    points = [t0, *inside, t1]
    longest = max(b - a for a, b in zip(points, points[1:], strict=False))
    return t1 - t0, longest, len(inside)


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_heartbeat_keeps_running_during_long_call(zlib_mod, gzip_mod, op):
    make, prepare = OPERATIONS[op]
    call, calibration = _calibrated_call(lambda d: make(zlib_mod, gzip_mod, d), prepare)
    if calibration < MIN_CALL_SECONDS / 3:
        pytest.skip(f"{op} too fast to observe even at {MAX_BYTES} bytes ({calibration:.3f}s)")
    best = None
    for _attempt in range(3):
        duration, longest_gap, ticks = _longest_stall_during(call)
        ratio = longest_gap / duration
        best = ratio if best is None else min(best, ratio)
        if ratio < 0.5 and ticks > 0:
            break
    # Holding the GIL for the whole call gives a gap of ~100 % of the call.
    assert best < 0.5, f"{op}: heartbeat stalled for {best:.0%} of the call; is the GIL released?"


def _parallel_run(call):
    """Run call() in two threads at once; return (sum of thread CPU / wall, overlap of the intervals)."""
    barrier = threading.Barrier(2)
    results = {}

    def worker(i):
        barrier.wait()
        c0 = time.thread_time()
        s = time.perf_counter()
        call()
        e = time.perf_counter()
        results[i] = (s, e, time.thread_time() - c0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (s0, e0, cpu0), (s1, e1, cpu1) = results[0], results[1]
    wall = max(e0, e1) - min(s0, s1)
    overlap = max(0.0, min(e0, e1) - max(s0, s1))
    shorter = min(e0 - s0, e1 - s1)
    return (cpu0 + cpu1) / wall, overlap / shorter


def _control_call():
    """The stdlib's zlib.compress: known to release the GIL, so it shows what the machine allows."""
    call, _ = _calibrated_call(lambda d: (lambda: STD_ZLIB.compress(d, 6)), lambda d: d)
    return call


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs at least 2 CPUs")
@pytest.mark.parametrize("op", ["zlib.compress", "zlib.decompress"])
def test_two_threads_run_in_parallel(zlib_mod, gzip_mod, op):
    make, prepare = OPERATIONS[op]
    call, _ = _calibrated_call(lambda d: make(zlib_mod, gzip_mod, d), prepare)
    control = _control_call()
    best_cpu_ratio, best_overlap, best_control = 0.0, 0.0, 0.0
    for _ in range(3):
        control_ratio, _ = _parallel_run(control)
        cpu_ratio, overlap = _parallel_run(call)
        best_control = max(best_control, control_ratio)
        best_cpu_ratio = max(best_cpu_ratio, cpu_ratio)
        best_overlap = max(best_overlap, overlap)
        if best_cpu_ratio > 1.3 and best_overlap > 0.5:
            break
    if best_control < 1.5:
        pytest.skip(f"machine too busy for a parallelism check (control cpu/wall = {best_control:.2f})")
    # Serialised on the GIL, total CPU time can't exceed wall time (ratio <= ~1.0).
    assert best_cpu_ratio > 1.3, (
        f"threads did not run in parallel (cpu/wall = {best_cpu_ratio:.2f}, control {best_control:.2f})"
    )
    assert best_overlap > 0.5


def test_concurrent_use_of_separate_objects_is_correct(zlib_mod):
    # Correctness under concurrency: each thread owns its objects, results must be exact.
    data = [text_bytes(300_000, i) + seeded_bytes(50_000, i) for i in range(4)]
    out: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def worker(i):
        try:
            for _ in range(3):
                co = zlib_mod.compressobj(6)
                c = b"".join(co.compress(data[i][j : j + 65536]) for j in range(0, len(data[i]), 65536)) + co.flush()
                do = zlib_mod.decompressobj()
                out[i] = do.decompress(c) + do.flush()
                assert STD_ZLIB.decompress(c) == data[i]
                assert zlib_mod.crc32(data[i]) == STD_ZLIB.crc32(data[i])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [out[i] for i in range(4)] == data


def test_shared_objects_used_from_two_threads_do_not_raise(zlib_mod):
    # CPython serialises calls on one Compress/Decompress object with a per-object
    # lock, so concurrent use never raises anything but (for interleaved input
    # to one decompressor) zlib.error.  A binding that releases the GIL while
    # holding a mutable borrow must not surface e.g. "Already borrowed".
    co = zlib_mod.compressobj(1)
    do = zlib_mod.decompressobj()
    stream = STD_ZLIB.compress(text_bytes(4 << 20, 6), 1)
    chunk = text_bytes(1 << 20, 5)
    unexpected: list[BaseException] = []

    def compressor():
        try:
            for _ in range(4):
                assert type(co.compress(chunk)) is bytes
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)

    def decompressor():
        try:
            for j in range(0, len(stream), 8192):
                do.decompress(stream[j : j + 8192])
        except zlib_mod.error:
            pass  # interleaved input is legitimately corrupt
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)

    threads = [threading.Thread(target=f) for f in (compressor, compressor, decompressor, decompressor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert unexpected == []
    tail = co.flush()
    assert type(tail) is bytes


def test_heartbeat_detects_a_gil_holding_call():
    """Negative control: the heartbeat measurement does flag a call that keeps the GIL."""
    n = 16 << 20
    while True:
        haystack = bytes(n)
        t0 = time.perf_counter()
        haystack.count(b"ab")  # pure C, never releases the GIL
        if time.perf_counter() - t0 >= MIN_CALL_SECONDS or n >= 1 << 30:
            break
        n *= 2
    duration, longest_gap, _ = _longest_stall_during(lambda: haystack.count(b"ab"))
    assert longest_gap / duration > 0.8
