"""LZW compression in the Unix ``compress`` format (``.Z`` files).

``compress(data)`` writes what ``compress -c`` writes (``max_bits`` 16, block
mode, the same CLEAR policy); ``decompress`` reads what ``compress``,
``ncompress`` (the tool and the PyPI package) and this module write, at every
``max_bits`` from 9 to 16. The work runs in Rust with the GIL released.

Things worth knowing about the format:

* ``.Z`` has no end marker, length or checksum. A stream cut exactly between
  two codes decodes as a shorter stream; cuts inside the header, inside a
  code or right after a CLEAR code are reported as :class:`error`.
* At ``max_bits=9`` codes still grow to 10 bits once the 9-bit dictionary is
  full: that is what ``compress`` 4.0 wrote and what every decoder (gzip's,
  ncompress's) expects. ``ncompress`` 4.2's own ``compress -b 9`` keeps 9-bit
  codes instead, so neither it nor anything else can read those files; see
  ``docs/lzw.md``.

Streaming objects follow the shape of :func:`zlib.compressobj` and
:func:`zlib.decompressobj`.
"""

from __future__ import annotations

from typing import Any

from . import _native
from ._errors import LzwError as error
from ._fileio import check_threads

__all__ = ["error", "compress", "decompress", "LZWCompressor", "LZWDecompressor"]

#: Input bytes per segment when compressing on several threads.
SEGMENT_SIZE = 4 << 20

#: Default and allowed code widths, as ``compress -b``.
DEFAULT_MAX_BITS = 16
MIN_MAX_BITS = 9
MAX_MAX_BITS = 16


def compress(data: Any, max_bits: int = DEFAULT_MAX_BITS, *, threads: int = 1) -> bytes:
    """Compress a bytes-like object into a ``.Z`` stream.

    ``max_bits`` (9..16) caps the code width; 16 compresses best. Raises
    :class:`ValueError` for any other value.

    ``threads``: 1 (the default) writes what ``compress`` writes; any other
    number (0: one per core) cuts the input every :data:`SEGMENT_SIZE` bytes
    and codes the segments in parallel, each with a dictionary of its own,
    joined by CLEAR codes: still one ordinary ``.Z`` stream that every
    decoder reads, within a few tenths of a percent of the serial size (on
    mixed data often smaller), and the same bytes for any thread count
    other than 1 (an input of one segment comes out as with one thread).
    """
    return _native.lzw_compress(data, max_bits, check_threads(threads))


def decompress(data: Any) -> bytes:
    """Decompress a whole ``.Z`` stream.

    Raises :class:`error` (a :class:`scalezip.error`) when the data is not a
    ``.Z`` stream, is corrupt, or is visibly truncated. The output size is
    bounded only by the stream; for untrusted input use
    :class:`LZWDecompressor` with ``max_length``.
    """
    return _native.lzw_decompress(data)


class LZWCompressor:
    """Incremental ``.Z`` compressor: call :meth:`compress` with pieces of
    input, then :meth:`flush` once. The output is the same however the input
    is split. ``block_mode=False`` writes the old format without CLEAR codes
    (``compress -C``). ``threads`` as in :func:`compress` (block mode only;
    the same bytes as :func:`compress` with the same ``threads``): input is
    held until four segments per thread (16 MiB each) and one more byte are
    in hand, then coded in parallel.
    """

    def __init__(
        self, max_bits: int = DEFAULT_MAX_BITS, block_mode: bool = True, *, threads: int = 1
    ) -> None:
        self._c = _native.LzwCompressor(max_bits, block_mode, check_threads(threads))

    def compress(self, data: Any) -> bytes:
        """Compress ``data``; return the compressed bytes that are ready."""
        return self._c.compress(data)

    def flush(self) -> bytes:
        """Finish the stream and return the rest of it. The object cannot be
        used afterwards (:class:`ValueError`)."""
        return self._c.flush()

    @property
    def max_bits(self) -> int:
        return self._c.max_bits


class LZWDecompressor:
    """Incremental ``.Z`` decompressor for one stream, shaped like the object
    :func:`zlib.decompressobj` returns.

    ``decompress(data, max_length)`` returns at most ``max_length`` bytes
    (0: no limit) and keeps input it did not read in :attr:`unconsumed_tail`,
    to be passed back in the next call. As the format has no end marker,
    :attr:`eof` becomes true only when :meth:`flush` is called at the end of
    the input, which also checks that the stream was not visibly truncated.
    """

    def __init__(self) -> None:
        self._d = _native.LzwDecompressor()
        self.unconsumed_tail = b""
        #: Always empty: without an end marker, bytes after a stream would
        #: be read as more codes.
        self.unused_data = b""
        self.eof = False

    def decompress(self, data: Any, max_length: int = 0) -> bytes:
        """Decode ``data`` and return at most ``max_length`` bytes (0: all)."""
        if max_length < 0:
            raise ValueError("max_length must be non-negative")
        if self.eof:
            raise EOFError("End of stream already reached")
        out, consumed = self._d.decompress(data, max_length)
        if self._d.output_pending:
            # Stopped at max_length: keep what was not read, as zlib does.
            with memoryview(data) as m, m.cast("B") as b:
                self.unconsumed_tail = bytes(b[consumed:])
        else:
            self.unconsumed_tail = b""
        return out

    @property
    def output_pending(self) -> bool:
        """True when the last call stopped at ``max_length`` with more
        output ready: call :meth:`decompress` again (with
        :attr:`unconsumed_tail`, possibly empty)."""
        return self._d.output_pending

    @property
    def max_bits(self) -> int | None:
        """``max_bits`` from the stream header, ``None`` before it is read."""
        return self._d.max_bits

    def flush(self) -> bytes:
        """Decode everything left (:attr:`unconsumed_tail` and pending output)
        and mark the end of the input. Raises :class:`error` if the stream
        ends where no ``compress`` writer would end one."""
        out, _ = self._d.decompress(self.unconsumed_tail, 0)
        self.unconsumed_tail = b""
        self._d.finish()
        self.eof = True
        return out
