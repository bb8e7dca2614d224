"""Online neural compression, as in nncp: no weights are stored.

Both sides build the model from its spec (seeded initial weights), then walk
the data in the same order doing the same arithmetic:

1. The data is cut into ``streams`` equal contiguous parts (the last one
   padded; padding is never coded), read in parallel as a batch: one model
   call predicts the next byte of every stream.
2. For each block of ``spec.context`` steps, the model, frozen, predicts
   each step's byte from its running state (LSTM state, or the
   transformer's window of keys and values); the float32 softmax is turned
   into integer frequencies summing to 2**16 by
   :func:`scalezip.entropy.quantize_probs` (a deterministic rule in Rust)
   and the byte is range-coded with them. The decoder cannot know a step's
   byte before decoding it, so the encoder too runs one step at a time: the
   two execute the same calls on the same shapes.
3. After each block, one Adam step on that block's bytes (teacher forced,
   starting from the state the block began with), on both sides.

Bit-exact agreement needs the same floating-point results on both sides, so
the work runs on the CPU in float32 with one thread and
``torch.use_deterministic_algorithms(True)`` (the caller's settings are
restored afterwards). Results still depend on torch's kernels, so the
header records the torch version and the CPU kernel set torch picked
(``torch.backends.cpu.get_cpu_capability()``); a decoder with either
different refuses the stream, naming both, rather than decode garbage.

Stream layout (integers little-endian)::

    magic "SZLM" | version u8 = 1 | header length u16 | header JSON
    | original length u64 | CRC-32 of the original u32 | payload length u64
    | range-coder payload

The JSON holds the spec, ``streams``, ``lr``, ``torch`` and ``kernels``.
The payload length makes truncation and trailing bytes detectable before
any decoding; the original length is bounded by the payload length (every
byte costs at least -log2(65281/65536) bits, since every one of the 256
frequencies is at least 1) and by ``max_length``, so a forged header cannot
make the decoder run unboundedly; the CRC-32 catches corruption inside the
payload.
"""

from __future__ import annotations

import json
import math
import struct
import zlib as std_zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .. import _native
from ._errors import LMError
from .models import ByteLSTM, build_model
from .spec import ModelSpec

__all__ = ["compress", "decompress", "default_lr", "environment", "read_header"]

MAGIC = b"SZLM"
VERSION = 1
TOTAL_BITS = 16
_FIXED = struct.Struct("<QIQ")
# Adam without momentum (beta1 = 0) and with a long second-moment memory, as
# in nncp: on a single pass over the data, momentum only delays learning.
BETAS = (0.0, 0.9999)
EPS = 1e-6
_MAX_JSON = 4096
# Fewest bits any byte can cost: its frequency is at most 2**16 - 255.
_MIN_BITS_PER_BYTE = -math.log2((65536 - 255) / 65536)


def environment() -> dict[str, str]:
    """What the online coder's results depend on: the torch version and CPU kernel set."""
    return {"torch": torch.__version__, "kernels": torch.backends.cpu.get_cpu_capability()}


@contextmanager
def _deterministic() -> Iterator[None]:
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det)


def _check_int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an int from {lo} to {hi}, got {v!r}")
    return v


class _Run:
    """The state both sides share: model, optimizer, stream layout."""

    def __init__(self, spec: ModelSpec, n: int, streams: int, lr: float) -> None:
        self.model = build_model(spec)
        self.model.train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, betas=BETAS, eps=EPS)
        self.b = streams
        self.length = -(-n // streams) if n else 0
        self.block = spec.context
        # Number of real (unpadded) bytes in each stream.
        self.valid = [max(0, min(self.length, n - r * self.length)) for r in range(streams)]
        # The LSTM's one-step weights (transposed, biases summed), refreshed
        # after each training step rather than rebuilt at every step.
        self.lstm = self.model if isinstance(self.model, ByteLSTM) else None
        self.weights = self.lstm.step_weights() if self.lstm is not None else []

    def live(self, t: int) -> int:
        """How many streams have a real byte at step ``t``: a prefix of the rows,
        since only the last streams are padded."""
        return sum(1 for v in self.valid if v > t)

    def blocks(self) -> Iterator[tuple[int, int]]:
        for t0 in range(0, self.length, self.block):
            yield t0, min(self.length, t0 + self.block)

    def predict(self, prev: torch.Tensor, state: Any) -> tuple[np.ndarray, Any]:
        with torch.no_grad():
            if self.lstm is not None:
                logits, state = self.lstm.step(prev[:, None], state, self.weights)
            else:
                logits, state = self.model.forward_state(prev[:, None], state)
            probs = F.softmax(logits[:, 0], dim=-1).to(torch.float64)
        # entropy.quantize_probs without its argument checks (the shape is ours).
        freqs = _native.entropy_quantize_probs(probs.numpy(), self.b, 256, TOTAL_BITS)
        return np.frombuffer(freqs, dtype=np.uint32).reshape(self.b, 256), state

    def train(self, x: torch.Tensor, y: torch.Tensor, state: Any) -> None:
        """One Adam step on the block: inputs x, targets y (-100 = padding)."""
        if bool((y < 0).all()):
            return
        logits, _ = self.model.forward_state(x, state)
        loss = F.cross_entropy(logits.reshape(-1, 256), y.reshape(-1), ignore_index=-100)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        if self.lstm is not None:
            self.weights = self.lstm.step_weights()

    def targets(self, grid: torch.Tensor, t0: int, t1: int) -> torch.Tensor:
        y = grid[:, t0:t1].clone()
        for r, v in enumerate(self.valid):
            if v < t1:
                y[r, max(0, v - t0) :] = -100
        return y


def default_lr(spec: ModelSpec) -> float:
    """The learning rate :func:`compress` uses when given none: 0.01, scaled down
    as 1/sqrt(width) above width 128."""
    return 1e-2 * min(1.0, math.sqrt(128 / spec.width))


def compress(data: Any, spec: ModelSpec, *, streams: int = 16, lr: float | None = None) -> bytes:
    """Compress ``data`` with a byte model of ``spec`` trained online as it goes.

    ``streams`` parts of the data are coded in parallel (more is faster per
    byte but gives fewer training steps, so compresses worse on short data);
    ``lr`` is the Adam learning rate (default :func:`default_lr`). Both are
    recorded in the stream. Runs
    on the CPU, one thread. Time is linear in the data size: see
    ``docs/lm.md`` for measured speeds.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec must be a scalezip.lm.ModelSpec, got {type(spec).__name__}")
    _check_int("streams", streams, 1, 4096)
    lr = default_lr(spec) if lr is None else lr
    if not isinstance(lr, float) or not 0.0 < lr < 1.0:
        raise ValueError(f"lr must be a float in (0, 1), got {lr!r}")
    raw = bytes(memoryview(data).cast("B"))
    n = len(raw)
    meta = {"spec": spec.to_dict(), "streams": streams, "lr": lr, **environment()}
    head = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    with _deterministic():
        run = _Run(spec, n, streams, lr)
        grid = torch.zeros(streams * run.length, dtype=torch.int64)
        grid[:n] = torch.from_numpy(np.frombuffer(raw, dtype=np.uint8).astype(np.int64))
        grid = grid.view(streams, run.length)
        sym = grid.numpy()
        enc = _native.EntropyRangeEncoder()
        state = run.model.init_state(streams)
        prev = torch.zeros(streams, dtype=torch.int64)
        for t0, t1 in run.blocks():
            start_state, start_prev = state, prev
            for t in range(t0, t1):
                freqs, state = run.predict(prev, state)
                col = sym[:, t].tolist()
                for r in range(run.live(t) if t >= run.valid[-1] else streams):
                    enc.encode(freqs[r], 256, col[r])
                prev = grid[:, t]
            x = torch.cat((start_prev[:, None], grid[:, t0 : t1 - 1]), dim=1)
            run.train(x, run.targets(grid, t0, t1), start_state)
        payload = enc.finish()
    return (
        MAGIC
        + bytes([VERSION])
        + struct.pack("<H", len(head))
        + head
        + _FIXED.pack(n, std_zlib.crc32(raw), len(payload))
        + payload
    )


def read_header(blob: Any) -> dict[str, Any]:
    """The header of an online-neural stream as a dict (``spec`` as a :class:`ModelSpec`,
    plus ``streams``, ``lr``, ``torch``, ``kernels``, ``length``, ``crc32``, ``payload``:
    the payload's offset and length). Raises :class:`LMError` if it is not one."""
    mv = memoryview(blob).cast("B")
    if len(mv) < 7 or bytes(mv[:4]) != MAGIC:
        raise LMError("not a scalezip online-neural (SZLM) stream: bad magic")
    if mv[4] != VERSION:
        raise LMError(f"SZLM stream version {mv[4]} is not supported (this is version {VERSION})")
    (hlen,) = struct.unpack_from("<H", mv, 5)
    end = 7 + hlen
    if hlen > _MAX_JSON or len(mv) < end + _FIXED.size:
        raise LMError("truncated SZLM stream: header incomplete")
    try:
        meta = json.loads(bytes(mv[7:end]))
        spec = ModelSpec.from_dict(meta["spec"])
        streams = _check_int("streams", meta["streams"], 1, 4096)
        lr = meta["lr"]
        if not isinstance(lr, float) or not 0.0 < lr < 1.0:
            raise ValueError(f"bad lr {lr!r}")
        env = {k: meta[k] for k in ("torch", "kernels")}
        if not all(isinstance(v, str) for v in env.values()):
            raise ValueError("bad environment fields")
    except (ValueError, KeyError, TypeError) as e:
        raise LMError(f"corrupt SZLM header: {e}") from None
    n, crc, plen = _FIXED.unpack_from(mv, end)
    return {
        "spec": spec,
        "streams": streams,
        "lr": lr,
        **env,
        "length": n,
        "crc32": crc,
        "payload": (end + _FIXED.size, plen),
    }


def decompress(blob: Any, *, spec: ModelSpec | None = None, max_length: int | None = None) -> bytes:
    """Decode a stream made by :func:`compress`.

    Refuses (:class:`LMError`) a stream made under another torch version or
    CPU kernel set, or, when ``spec`` is given, with another model spec;
    raises :class:`LMError` on a truncated or corrupt stream (length, payload
    length or CRC-32 mismatch). ``max_length`` caps the output size, checked
    against the header before any work. Decoding costs as much as encoding.
    """
    h = read_header(blob)
    here = environment()
    for key, what in (("torch", "torch version"), ("kernels", "CPU kernel set")):
        if h[key] != here[key]:
            raise LMError(
                f"this stream was made with {what} {h[key]!r}, this is {here[key]!r}: the "
                f"model's probabilities would differ, so it cannot be decoded here "
                f"(decode it with torch {h['torch']} on a CPU with {h['kernels']} kernels)"
            )
    if spec is not None and spec != h["spec"]:
        raise LMError(
            f"this stream was made with model spec {h['spec'].to_json()}, "
            f"not the expected {spec.to_json()}"
        )
    mv = memoryview(blob).cast("B")
    off, plen = h["payload"]
    if len(mv) != off + plen:
        what = "truncated" if len(mv) < off + plen else "has trailing bytes"
        raise LMError(f"SZLM stream {what}: {len(mv) - off} payload bytes, header says {plen}")
    n = h["length"]
    if n > (plen + 8) * 8 / _MIN_BITS_PER_BYTE:
        raise LMError(f"corrupt SZLM header: {n} bytes cannot be coded in {plen} payload bytes")
    if max_length is not None and n > max_length:
        raise LMError(f"SZLM stream decodes to {n} bytes, more than max_length={max_length}")
    streams = h["streams"]
    with _deterministic():
        run = _Run(h["spec"], n, streams, h["lr"])
        grid = torch.zeros(streams, run.length, dtype=torch.int64)
        dec = _native.EntropyRangeDecoder(mv[off:])
        state = run.model.init_state(streams)
        prev = torch.zeros(streams, dtype=torch.int64)
        for t0, t1 in run.blocks():
            start_state, start_prev = state, prev
            for t in range(t0, t1):
                freqs, state = run.predict(prev, state)
                live = run.live(t) if t >= run.valid[-1] else streams
                cur = [dec.decode(freqs[r], 256) for r in range(live)]
                grid[:live, t] = torch.tensor(cur, dtype=torch.int64)
                prev = grid[:, t]
            x = torch.cat((start_prev[:, None], grid[:, t0 : t1 - 1]), dim=1)
            run.train(x, run.targets(grid, t0, t1), start_state)
    out = grid.to(torch.uint8).numpy().tobytes()[:n]
    if std_zlib.crc32(out) != h["crc32"]:
        raise LMError("SZLM stream is corrupt: CRC-32 of the decoded data does not match")
    return out
