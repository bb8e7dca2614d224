"""Context-mixing compression: a bitwise predictive model (lpaq-style) and
an arithmetic coder, for the best ratio scalezip offers on text and other
structured data, at a much lower speed than DEFLATE.

The model predicts each bit from bit histories of contexts of orders 0 to
6, two word contexts and a match model, mixed by a small online neural
network and refined by two adaptive probability maps; the arithmetic coder
spends ``-log2 p`` bits on a bit predicted with probability ``p``. The
decoder runs the same model, so nothing but the coded bits is stored. All
arithmetic is integer: streams decode identically on every machine.

The level selects the model's memory (:func:`model_bytes`), and only that:
from about 5 MiB at level 1 to about 1.2 GiB at level 9, the same amount
in both directions. Bigger models forget fewer contexts on big inputs.

    >>> from scalezip import cm
    >>> blob = cm.compress(b"to be or not to be, " * 100, level=1)
    >>> cm.decompress(blob) == b"to be or not to be, " * 100
    True

The stream (``docs/cm.md``) records the level, the original length and a
CRC-32, so corrupt or truncated input raises :class:`error` rather than
returning wrong data. Inputs may be any C-contiguous buffer; the work runs
with the GIL released.

Streaming: :class:`CMCompressor` and :class:`CMDecompressor` have the shape
of :func:`zlib.compressobj` / :func:`zlib.decompressobj`, and :func:`open`
gives file objects, all in constant memory (the model, plus a history
window of :func:`window_bytes`). Their streams are the very bytes
:func:`compress` writes, however the input is split; :func:`decompress` and
:class:`CMDecompressor` read each other's input, and streams of format
version 1 (scalezip before streaming) too.

Multi-core: with ``threads`` other than 1, :func:`compress` cuts inputs of
8 MiB or more into segments of 4 to 6 MiB, each coded by its own model
(format version 3), and codes them in parallel; :func:`decompress` decodes
such a stream's segments in parallel too (``threads``). As in zstd's
multi-threaded mode, the output is the same for any number of threads
other than 1, and a little larger than one stream's (about 2.5 % on 10 MB
of English: each segment's model starts knowing nothing). Each thread holds
a model of :func:`model_bytes`.
"""

from __future__ import annotations

import builtins
import io
import os
from typing import IO, Any

from . import _native
from ._errors import CmError as error
from ._fileio import FlushingReader, check_threads

__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_LEVEL",
    "DEFAULT_SEGMENT_SIZE",
    "MAGIC",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "CMCompressor",
    "CMDecompressor",
    "compress",
    "decompress",
    "error",
    "model_bytes",
    "open",
    "window_bytes",
]

#: Lowest level (smallest model).
MIN_LEVEL: int = _native.CM_MIN_LEVEL
#: Highest level (largest model).
MAX_LEVEL: int = _native.CM_MAX_LEVEL
#: Level used when none is given.
DEFAULT_LEVEL: int = _native.CM_DEFAULT_LEVEL
#: First bytes of every stream.
MAGIC = b"SZCM"
#: Frames close every BLOCK_SIZE bytes of input; segments are multiples of it.
BLOCK_SIZE: int = _native.CM_BLOCK_SIZE
#: Segment size of :class:`CMCompressor` with threads when neither
#: ``segment_size`` nor ``size_hint`` is given (4 MiB).
DEFAULT_SEGMENT_SIZE: int = _native.CM_DEFAULT_SEGMENT_SIZE


def _level(level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be an int, got {type(level).__name__}")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"cm level must be {MIN_LEVEL}..{MAX_LEVEL}, got {level}")
    return level


def _segment_size(segment_size: int | None) -> int | None:
    if segment_size is None:
        return None
    if isinstance(segment_size, bool) or not isinstance(segment_size, int):
        raise TypeError(f"segment_size must be None or an int, got {segment_size!r}")
    if segment_size < 0 or segment_size % BLOCK_SIZE or segment_size // BLOCK_SIZE >= 1 << 32:
        raise ValueError(
            f"segment_size must be 0 or a positive multiple of {BLOCK_SIZE}, got {segment_size}"
        )
    return segment_size


def compress(
    data: Any,
    level: int = DEFAULT_LEVEL,
    *,
    threads: int = 1,
    segment_size: int | None = None,
) -> bytes:
    """Compress ``data`` into a scalezip context-mixing stream.

    ``level`` (1..9) selects the model's memory, :func:`model_bytes`.
    ``threads``: 1 codes one stream on the calling thread; any other
    number (0: one per core) cuts inputs of 8 MiB or more into segments of
    4 to 6 MiB coded in parallel, a model per thread (see the module
    docstring). ``segment_size`` (a multiple of :data:`BLOCK_SIZE`; 0: one
    stream) overrides that choice. The result equals what
    :class:`CMCompressor` writes for the same data and segments.
    """
    return _native.cm_compress(
        data, _level(level), check_threads(threads), _segment_size(segment_size)
    )


def decompress(data: Any, max_length: int | None = None, *, threads: int = 1) -> bytes:
    """Decode a stream made by :func:`compress` or :class:`CMCompressor`
    (bytes after its end are an error).

    Raises :class:`error` naming what is wrong when the input is not such a
    stream, is truncated or corrupt (CRC-32 mismatch). ``max_length`` caps
    the output size (checked against the header before any memory is
    allocated): pass it for untrusted input. Decoding allocates the model
    of the stream's level, at most :func:`model_bytes` of ``MAX_LEVEL``;
    the segments of a segmented stream decode on ``threads`` threads (0:
    one per core), a model each.
    """
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0
    ):
        raise ValueError(f"max_length must be None or an int >= 0, got {max_length!r}")
    return _native.cm_decompress(data, max_length, check_threads(threads))


def model_bytes(level: int) -> int:
    """Memory in bytes that the model of ``level`` uses (compressing or
    decompressing): its hash tables, match index, maps and mixers."""
    return _native.cm_model_bytes(_level(level))


def window_bytes(level: int) -> int:
    """History in bytes that the streaming objects of ``level`` keep beside
    the model (the farthest back the match model looks): 1 MiB at level 1
    to 256 MiB at level 9, allocated as the data grows to it."""
    return _native.cm_window_bytes(_level(level))


class CMCompressor:
    """Incremental compressor, shaped like :func:`zlib.compressobj`: call
    :meth:`compress` with pieces of input, then :meth:`flush` once. Output
    comes a frame (1 MiB of input) at a time; the concatenated results are
    exactly :func:`compress`'s for the whole input. The model is allocated
    with the first byte (:func:`model_bytes` plus :func:`window_bytes`).

    With ``threads`` other than 1, the input is cut into segments (as
    :func:`compress` does) and held until ``threads`` segments are in hand,
    which are then coded in parallel: memory is that input plus a model per
    thread. The segment size is ``segment_size`` if given, else the one
    :func:`compress` would choose for ``size_hint`` bytes (the expected
    input size; the stream is valid whatever the real size), else
    :data:`DEFAULT_SEGMENT_SIZE`. The output equals :func:`compress` with
    the same segment size.
    """

    def __init__(
        self,
        level: int = DEFAULT_LEVEL,
        *,
        threads: int = 1,
        segment_size: int | None = None,
        size_hint: int | None = None,
    ) -> None:
        if size_hint is not None and (
            isinstance(size_hint, bool) or not isinstance(size_hint, int) or size_hint < 0
        ):
            raise ValueError(f"size_hint must be None or an int >= 0, got {size_hint!r}")
        self._c = _native.CmCompressor(
            _level(level), check_threads(threads), _segment_size(segment_size), size_hint
        )

    def compress(self, data: Any) -> bytes:
        """Compress ``data``; return the compressed bytes that are ready."""
        if self._c.finished:
            raise ValueError("compressor already flushed")
        return self._c.compress(data)

    def flush(self) -> bytes:
        """Finish the stream and return the rest of it. The object cannot be
        used afterwards (:class:`ValueError`)."""
        if self._c.finished:
            raise ValueError("compressor already flushed")
        return self._c.flush()

    @property
    def level(self) -> int:
        return self._c.level


class CMDecompressor:
    """Incremental decompressor of one stream, shaped like the object
    :func:`zlib.decompressobj` returns.

    ``decompress(data, max_length)`` returns at most ``max_length`` bytes
    (0: no limit) and keeps input it did not need in
    :attr:`unconsumed_tail`, to be passed back in the next call (it may
    also hold back up to 64 KiB of input internally: while
    :attr:`output_pending` is true, more output comes without more input).
    :attr:`eof` turns true at the end of the stream, once its length and
    CRC-32 are checked; bytes after it are in :attr:`unused_data`. Corrupt
    or truncated input raises :class:`error`.

    Streams of format version 1 record no payload length: their last bytes
    come out of :meth:`flush`, their :attr:`unused_data` stays empty, and
    their whole output is kept as the model's history.

    ``threads`` other than 1 (0: one per core): the segments of a segmented
    stream (format version 3) are gathered ``threads`` at a time and
    decoded in parallel, a model each; memory is then up to ``threads``
    segments of input and of output besides the models (segments over
    16 MiB are decoded one after another).
    """

    def __init__(self, *, threads: int = 1) -> None:
        self._d = _native.CmDecompressor(check_threads(threads))
        self.unconsumed_tail = b""
        self.unused_data = b""
        self.eof = False

    def decompress(self, data: Any, max_length: int = 0) -> bytes:
        """Decode ``data`` and return at most ``max_length`` bytes (0: all)."""
        if isinstance(max_length, bool) or not isinstance(max_length, int):
            raise TypeError(f"max_length must be an int, got {type(max_length).__name__}")
        if max_length < 0:
            raise ValueError("max_length must be non-negative")
        if self.eof:
            raise EOFError("End of stream already reached")
        out, used = self._d.decompress(data, max_length)
        with memoryview(data) as m, m.cast("B") as b:
            rest = bytes(b[used:])
        self.eof = self._d.eof
        if self.eof:
            self.unused_data += rest
            self.unconsumed_tail = b""
        else:
            self.unconsumed_tail = rest
        return out

    @property
    def output_pending(self) -> bool:
        """True when the last call stopped at ``max_length`` with more
        output ready: call :meth:`decompress` again (with
        :attr:`unconsumed_tail`, possibly empty)."""
        return self._d.output_pending

    @property
    def level(self) -> int | None:
        """The stream's level, ``None`` before its header is read."""
        return self._d.level

    def flush(self) -> bytes:
        """The input has ended: decode :attr:`unconsumed_tail` and all that
        is left, and return it. Raises :class:`error` if the stream is
        incomplete (truncated) or corrupt."""
        out = b""
        if not self.eof:
            out = self.decompress(self.unconsumed_tail)
        if not self.eof:
            out += self._d.finish()
            self.eof = self._d.eof
        return out


class _Reader(FlushingReader):
    """Decompresses a file through :class:`CMDecompressor` in bounded
    memory; refuses a truncated stream and trailing data."""

    def __init__(self, fileobj: IO[bytes], owned: bool, threads: int) -> None:
        super().__init__(fileobj, CMDecompressor(threads=threads), owned)

    def _at_end(self) -> int:
        if self._d.unused_data or self._fileobj.read(1):
            raise error("trailing data after the end of the cm stream")
        return 0


class _Writer(io.RawIOBase):
    """Compresses what is written through :class:`CMCompressor`; closing
    finishes the stream."""

    def __init__(self, fileobj: IO[bytes], owned: bool, c: CMCompressor) -> None:
        self._fileobj = fileobj
        self._owned = owned
        self._c = c

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        with memoryview(b) as view:
            self._fileobj.write(self._c.compress(view))
            return view.nbytes

    def close(self) -> None:
        if not self.closed:
            try:
                self._fileobj.write(self._c.flush())
            finally:
                if self._owned:
                    self._fileobj.close()
        super().close()


def open(  # noqa: A001 - the module-level open of gzip, bz2, lzma
    filename: Any,
    mode: str = "rb",
    level: int = DEFAULT_LEVEL,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    *,
    threads: int = 1,
    segment_size: int | None = None,
    size_hint: int | None = None,
) -> IO[Any]:
    """Open a cm-compressed file, as :func:`gzip.open`: *filename* is a path
    or a file object (left open on close); *mode* 'r', 'w' or 'x', with
    'b' (the default) or 't' (text, through :class:`io.TextIOWrapper`).
    There is no 'a': a second stream after the first is refused by readers
    as trailing data. Reading and writing stream in constant memory.
    Writing: *threads*, *segment_size* and *size_hint* as for
    :class:`CMCompressor`; reading: *threads* as for :class:`CMDecompressor`."""
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"Invalid mode: {mode!r}")
    elif encoding is not None or errors is not None or newline is not None:
        raise ValueError("encoding, errors and newline are for text mode only")
    raw_mode = mode.replace("t", "").replace("b", "")
    if raw_mode not in ("r", "w", "x"):
        raise ValueError(f"Invalid mode: {mode!r}")
    _level(level)
    check_threads(threads)
    compressor = None
    if raw_mode != "r":
        compressor = CMCompressor(
            level, threads=threads, segment_size=segment_size, size_hint=size_hint
        )
    owned = isinstance(filename, (str, bytes, os.PathLike))
    if owned:
        fileobj: IO[bytes] = builtins.open(filename, raw_mode + "b")
    elif hasattr(filename, "read") or hasattr(filename, "write"):
        fileobj = filename
    else:
        raise TypeError("filename must be a str or bytes object, or a file")
    binary: IO[bytes]
    try:
        if compressor is None:
            binary = io.BufferedReader(_Reader(fileobj, owned, threads))
        else:
            binary = io.BufferedWriter(_Writer(fileobj, owned, compressor))
    except BaseException:
        if owned:
            fileobj.close()
        raise
    if "t" in mode:
        return io.TextIOWrapper(binary, io.text_encoding(encoding), errors, newline)
    return binary
