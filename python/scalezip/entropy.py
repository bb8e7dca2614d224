"""Entropy coders for model-driven compression: turn a model's predictions
into bits, and back.

A model that assigns probability ``p`` to what actually comes next can code
it in ``-log2 p`` bits; these coders get within 0.1 % of that sum on long
streams, with integer arithmetic only (the Rust core), so encoder and
decoder agree exactly on every machine.

* Multi-symbol range coder, for models that output a distribution over
  ``k`` symbols per step (a neural byte model: ``k = 256``). Frequencies are
  integers; every row of a table sums to the same power of two
  ``<= 2**16`` and the coded symbol has frequency ``>= 1``.

  - :func:`range_encode` / :func:`range_decode`: the batch form, when all
    distributions are known up front.
  - :class:`RangeEncoder` / :class:`RangeDecoder`: step by step, for models
    that learn online (the decoder needs symbol ``i`` before it can compute
    distribution ``i + 1``).

* Binary arithmetic coder (:func:`binary_encode` / :func:`binary_decode`),
  for bitwise models: ``p1`` is ``P(bit = 1) * 4096`` in ``1..4095``.

* :func:`quantize_probs`: float probabilities to integer frequencies by a
  fixed rule, identical wherever it runs (see its docstring), and
  :func:`ideal_bits`, the code length a table predicts.

    >>> import numpy as np
    >>> from scalezip import entropy
    >>> freqs = entropy.quantize_probs(np.array([[0.7, 0.2, 0.1]] * 4))
    >>> blob = entropy.range_encode(freqs, np.array([0, 0, 1, 2]))
    >>> entropy.range_decode(blob, freqs).tolist()
    [0, 0, 1, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _native

__all__ = [
    "RangeDecoder",
    "RangeEncoder",
    "binary_decode",
    "binary_encode",
    "ideal_bits",
    "quantize_probs",
    "range_decode",
    "range_encode",
]

#: Largest ``total_bits`` of a frequency table.
MAX_TOTAL_BITS = 16


def _freq_table(freqs: Any) -> npt.NDArray[np.uint32]:
    f = np.asarray(freqs)
    if f.ndim != 2:
        raise ValueError(f"freqs must be a 2-D (n, k) array, got shape {f.shape}")
    if f.size and (f.dtype.kind not in "ui" or (f.dtype.kind == "i" and int(f.min()) < 0)):
        raise ValueError("freqs must hold non-negative integers")
    if f.size and int(f.max()) > 1 << MAX_TOTAL_BITS:
        raise ValueError(f"freqs: a frequency exceeds 2**{MAX_TOTAL_BITS}")
    return np.ascontiguousarray(f, dtype=np.uint32)


def _freq_row(freqs: Any) -> npt.NDArray[np.uint32]:
    f = np.asarray(freqs)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"freqs must be a non-empty 1-D array, got shape {f.shape}")
    row: npt.NDArray[np.uint32] = _freq_table(f[None, :])[0]
    return row


def range_encode(freqs: Any, symbols: Any) -> bytes:
    """Range-code ``symbols[i]`` under the frequency row ``freqs[i]``.

    ``freqs`` is an ``(n, k)`` integer array whose rows all sum to the same
    power of two ``<= 2**16``; ``symbols`` an ``(n,)`` integer array with
    ``freqs[i, symbols[i]] >= 1``. Raises ``ValueError`` naming the first
    row that breaks a rule.
    """
    f = _freq_table(freqs)
    s = np.asarray(symbols)
    if s.ndim != 1 or s.shape[0] != f.shape[0]:
        raise ValueError(f"symbols must have shape ({f.shape[0]},), got {s.shape}")
    if s.size and s.dtype.kind not in "ui":
        raise ValueError("symbols must be integers")
    n, k = f.shape
    if n == 0:
        return b""
    s64 = np.ascontiguousarray(s, dtype=np.int64)
    return _native.entropy_range_encode(f, s64, n, k)


def range_decode(data: Any, freqs: Any) -> npt.NDArray[np.int64]:
    """Decode the ``n`` symbols coded by :func:`range_encode` with the same
    ``(n, k)`` table; returns an int64 array. A damaged stream decodes to
    wrong symbols (check them with a checksum), never to an error or hang.
    """
    f = _freq_table(freqs)
    n, k = f.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    out = _native.entropy_range_decode(data, f, n, k)
    return np.frombuffer(out, dtype=np.int64)


class RangeEncoder:
    """Step-by-step range encoder: :meth:`encode` each symbol under its own
    frequency row (any power-of-two total ``<= 2**16``, may change from step
    to step), then :meth:`finish` for the stream."""

    def __init__(self) -> None:
        self._e = _native.EntropyRangeEncoder()

    def encode(self, freqs_row: Any, symbol: int) -> None:
        """Code ``symbol`` under ``freqs_row`` (``(k,)`` integers)."""
        f = _freq_row(freqs_row)
        self._e.encode(f, f.shape[0], int(symbol))

    def finish(self) -> bytes:
        """End the stream and return it (the encoder is then spent)."""
        return self._e.finish()


class RangeDecoder:
    """Step-by-step range decoder of a stream made by :class:`RangeEncoder`
    (or :func:`range_encode`); call :meth:`decode` with the same rows in the
    same order. Past the end of the data it reads zeros: it never fails on
    damaged data, it returns wrong symbols."""

    def __init__(self, data: Any) -> None:
        self._d = _native.EntropyRangeDecoder(data)

    def decode(self, freqs_row: Any) -> int:
        """The next symbol, decoded under ``freqs_row``."""
        f = _freq_row(freqs_row)
        return self._d.decode(f, f.shape[0])


def _p1(p1: Any, n: int) -> npt.NDArray[np.uint16]:
    p = np.asarray(p1)
    if p.shape != (n,):
        raise ValueError(f"p1 must have shape ({n},), got {p.shape}")
    if n and (p.dtype.kind not in "ui" or int(p.min()) < 1 or int(p.max()) > 4095):
        raise ValueError("p1 must hold integers in 1..4095 (P(bit = 1) * 4096)")
    return np.ascontiguousarray(p, dtype=np.uint16)


def binary_encode(bits: Any, p1: Any) -> bytes:
    """Arithmetic-code ``bits`` (``(n,)`` of 0/1) where ``bits[i]`` is 1
    with probability ``p1[i] / 4096`` (``p1`` integers in ``1..4095``)."""
    b = np.asarray(bits)
    if b.ndim != 1:
        raise ValueError(f"bits must be 1-D, got shape {b.shape}")
    if b.size and (b.dtype.kind not in "uib" or int(b.min()) < 0 or int(b.max()) > 1):
        raise ValueError("bits must hold only 0 and 1")
    n = b.shape[0]
    p = _p1(p1, n)
    return _native.entropy_binary_encode(np.ascontiguousarray(b, dtype=np.uint8), p, n)


def binary_decode(data: Any, p1: Any) -> npt.NDArray[np.uint8]:
    """Decode ``len(p1)`` bits coded by :func:`binary_encode` with ``p1``."""
    p = np.asarray(p1)
    if p.ndim != 1:
        raise ValueError(f"p1 must be 1-D, got shape {p.shape}")
    n = p.shape[0]
    out = _native.entropy_binary_decode(data, _p1(p, n), n)
    return np.frombuffer(out, dtype=np.uint8)


def quantize_probs(probs: Any, total_bits: int = 16) -> npt.NDArray[np.uint32]:
    """Float probabilities ``(n, k)`` to integer frequencies: every one
    ``>= 1``, each row summing to exactly ``2**total_bits``.

    The rule (in Rust, IEEE-754 double arithmetic, so identical input gives
    identical tables on every machine): non-finite or negative entries count
    as 0 and each row is normalised by its sum (a row with no positive
    mass is uniform); ``f = 1 + floor(p / sum * (2**total_bits - k))``; the
    shortfall goes to the largest frequency (the first among equals). Input
    is converted to float64 first (exactly, from float32 or float16).
    """
    if isinstance(total_bits, bool) or not isinstance(total_bits, int):
        raise TypeError("total_bits must be an int")
    if not 1 <= total_bits <= MAX_TOTAL_BITS:
        raise ValueError(f"total_bits must be in 1..{MAX_TOTAL_BITS}, got {total_bits}")
    p = np.asarray(probs)
    if p.ndim != 2 or p.shape[1] == 0:
        raise ValueError(f"probs must be a 2-D (n, k) array with k >= 1, got shape {p.shape}")
    n, k = p.shape
    if k > 1 << total_bits:
        raise ValueError(f"{k} symbols do not fit a total of 2**{total_bits}")
    if n == 0:
        return np.zeros((0, k), dtype=np.uint32)
    p64 = np.ascontiguousarray(p, dtype=np.float64)
    out = _native.entropy_quantize_probs(p64, n, k, total_bits)
    return np.frombuffer(out, dtype=np.uint32).reshape(n, k)


def ideal_bits(freqs: Any, symbols: Any) -> float:
    """The ideal code length, ``sum(-log2(freqs[i, s_i] / sum(freqs[i])))``
    bits, that the coders approach."""
    f = np.asarray(freqs, dtype=np.float64)
    s = np.asarray(symbols, dtype=np.int64)
    if f.ndim != 2 or s.shape != (f.shape[0],):
        raise ValueError("freqs must be (n, k) and symbols (n,)")
    if f.shape[0] == 0:
        return 0.0
    picked = f[np.arange(f.shape[0]), s]
    return float(-np.sum(np.log2(picked / f.sum(axis=1))))
