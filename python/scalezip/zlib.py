"""A drop-in replacement for the standard library's :mod:`zlib`, backed by
scalezip's Rust DEFLATE.

Same names, signatures, defaults, constants and exceptions as the stdlib
module: change ``import zlib`` to ``from scalezip import zlib`` and the
program runs unchanged. Streams are standard RFC 1950/1951/1952 data that
any zlib reads, and this module reads what any zlib writes. The compressed
bytes are not identical to the C zlib's (a different, equally valid parse),
but sizes at each level are close to zlib's and the work runs with the GIL
released.

Differences worth knowing:

* ``level`` also accepts 10-12: slower, stronger parses (beyond zlib's 9).
* ``memLevel`` is validated but has no effect on the output.
* ``Z_PARTIAL_FLUSH`` and ``Z_BLOCK`` flush like ``Z_SYNC_FLUSH`` (which
  also byte-aligns the output; every decoder accepts it).
* ``ZLIB_VERSION`` / ``ZLIB_RUNTIME_VERSION`` repeat the stdlib's values, so
  that version checks in user code keep behaving the same; the version of
  scalezip itself is ``scalezip.__version__``.
"""

from __future__ import annotations

import zlib as _std
from typing import Any

from . import _native
from ._errors import ZlibError as error

__all__ = [
    "error",
    "compress",
    "decompress",
    "compressobj",
    "decompressobj",
    "decompress_into",
    "crc32",
    "adler32",
    "MAX_WBITS",
    "DEFLATED",
    "DEF_MEM_LEVEL",
    "DEF_BUF_SIZE",
    "Z_NO_COMPRESSION",
    "Z_BEST_SPEED",
    "Z_BEST_COMPRESSION",
    "Z_DEFAULT_COMPRESSION",
    "Z_FILTERED",
    "Z_HUFFMAN_ONLY",
    "Z_RLE",
    "Z_FIXED",
    "Z_DEFAULT_STRATEGY",
    "Z_NO_FLUSH",
    "Z_PARTIAL_FLUSH",
    "Z_SYNC_FLUSH",
    "Z_FULL_FLUSH",
    "Z_FINISH",
    "Z_BLOCK",
    "Z_TREES",
    "ZLIB_VERSION",
    "ZLIB_RUNTIME_VERSION",
]

MAX_WBITS = 15
DEFLATED = 8
DEF_MEM_LEVEL = 8
DEF_BUF_SIZE = 16384

Z_NO_COMPRESSION = 0
Z_BEST_SPEED = 1
Z_BEST_COMPRESSION = 9
Z_DEFAULT_COMPRESSION = -1

Z_DEFAULT_STRATEGY = 0
Z_FILTERED = 1
Z_HUFFMAN_ONLY = 2
Z_RLE = 3
Z_FIXED = 4

Z_NO_FLUSH = 0
Z_PARTIAL_FLUSH = 1
Z_SYNC_FLUSH = 2
Z_FULL_FLUSH = 3
Z_FINISH = 4
Z_BLOCK = 5
Z_TREES = 6

ZLIB_VERSION: str = _std.ZLIB_VERSION
ZLIB_RUNTIME_VERSION: str = _std.ZLIB_RUNTIME_VERSION

# Container codes understood by the native module.
_RAW, _ZLIB, _GZIP, _AUTO = 0, 1, 2, 3
_MAX_LEVEL = 12


def _index(value: Any, name: str) -> int:
    """Coerce like the C module's integer converters (``__index__``)."""
    try:
        return int(value.__index__())
    except AttributeError:
        raise TypeError(
            f"'{type(value).__name__}' object cannot be interpreted as an integer"
        ) from None


def _cint(value: Any, name: str) -> int:
    """An ``int`` argument of the C module: must fit a C int."""
    v = _index(value, name)
    if v > 0x7FFFFFFF:
        raise OverflowError("signed integer is greater than maximum")
    if v < -0x80000000:
        raise OverflowError("signed integer is less than minimum")
    return v


def _gzip_xfl(level: int, strategy: int = Z_DEFAULT_STRATEGY) -> int:
    """The XFL byte zlib itself writes in the gzip headers it makes."""
    if level == -1:
        level = 6
    if level >= 9:
        return 2
    if strategy >= Z_HUFFMAN_ONLY or level < 2:
        return 4
    return 0


def _compress_wbits(wbits: int) -> tuple[int, int] | None:
    """Map zlib's compression ``wbits`` forms to (container, window bits).

    8..15 zlib (8 means 9, as zlib >= 1.2.9 does), -9..-15 raw, 25..31 gzip.
    """
    if 8 <= wbits <= 15:
        return _ZLIB, max(wbits, 9)
    if -15 <= wbits <= -9:
        return _RAW, -wbits
    if 25 <= wbits <= 31:
        return _GZIP, wbits - 16
    return None


def _decompress_wbits(wbits: int) -> tuple[int, int] | None:
    """Map zlib's decompression ``wbits`` forms to (container, window bits).

    0 and 8..15 zlib (0: trust the header), -8..-15 raw, 16 and 24..31 gzip,
    32 and 40..47 zlib or gzip by auto-detection.
    """
    if wbits < 0:
        return (_RAW, -wbits) if -15 <= wbits <= -8 else None
    container = (_ZLIB, _GZIP, _AUTO)[wbits >> 4] if wbits < 48 else None
    if container is None:
        return None
    bits = wbits & 15
    if bits and not 8 <= bits <= 15:
        return None
    return container, bits


def crc32(data: Any, value: int = 0, /) -> int:
    """Compute a CRC-32 checksum of *data*, starting from *value*.

    Same as :func:`zlib.crc32`: the result is an unsigned 32-bit integer and
    *value* may be any integer (it is taken modulo 2**32).
    """
    return _native.crc32(data, _index(value, "value") & 0xFFFFFFFF)


def adler32(data: Any, value: int = 1, /) -> int:
    """Compute an Adler-32 checksum of *data*, starting from *value*."""
    return _native.adler32(data, _index(value, "value") & 0xFFFFFFFF)


def compress(data: Any, /, level: int = Z_DEFAULT_COMPRESSION, wbits: int = MAX_WBITS) -> bytes:
    """Return *data* compressed, as :func:`zlib.compress`.

    *level* is -1 (default, 6) or 0-9 as in zlib, or 10-12 for stronger,
    slower parses. *wbits* selects the container: 9..15 zlib, -9..-15 raw
    DEFLATE, 25..31 gzip.
    """
    level = _cint(level, "level")
    form = _compress_wbits(_cint(wbits, "wbits"))
    if form is None or not -1 <= level <= _MAX_LEVEL:
        raise error("Bad compression level")
    container, bits = form
    # zlib itself writes OS = 3 (Unix) in the gzip headers it makes.
    return _native.compress(data, container, level, bits, 0, 3, _gzip_xfl(level))


def decompress(data: Any, /, wbits: int = MAX_WBITS, bufsize: int = DEF_BUF_SIZE) -> bytes:
    """Return *data* decompressed, as :func:`zlib.decompress`.

    Bytes after the end of the stream are ignored; a stream that ends early
    raises :class:`error` ("incomplete or truncated stream"). The output is
    decoded straight into the returned object, sized from *bufsize* when it
    is the expected size (an exact value means no resizing at all) or from
    the gzip length trailer; the result never depends on it.
    """
    bufsize = _index(bufsize, "bufsize")
    if bufsize < 0:
        raise ValueError("bufsize must be non-negative")
    form = _decompress_wbits(_cint(wbits, "wbits"))
    if form is None:
        raise error("Error -2 while preparing to decompress data: inconsistent stream state")
    out, _ = _native.decompress(data, form[0], form[1], bufsize)
    return out


def decompress_into(data: Any, out: Any, /, wbits: int = MAX_WBITS) -> int:
    """Decompress one stream of *data* straight into the writable buffer
    *out* (bytearray, writable memoryview, numpy array); return the number of
    bytes written. A scalezip addition: no output allocation and no copy,
    the fastest way to decompress when the size is known (e.g. a gzip
    file's ISIZE). Raises :class:`error` if the data does not fit.
    """
    form = _decompress_wbits(_cint(wbits, "wbits"))
    if form is None:
        raise error("Error -2 while preparing to decompress data: inconsistent stream state")
    written, _ = _native.decompress_into(data, out, form[0], form[1])
    return written


class _Compress:
    """A compression object, as returned by :func:`compressobj`."""

    __slots__ = ("_c", "_ended")

    def __init__(self, native: _native.Compressor) -> None:
        self._c = native
        self._ended = False

    def compress(self, data: Any, /) -> bytes:
        """Compress *data*, returning whatever output is ready.

        Output may be held back until :meth:`flush`; concatenate the results
        of every call.
        """
        if self._ended:
            raise error("Error -2 while compressing data: inconsistent stream state")
        return self._c.compress(data)

    def flush(self, mode: int = Z_FINISH, /) -> bytes:
        """Flush pending output. ``Z_FINISH`` (the default) ends the stream;
        ``Z_SYNC_FLUSH`` and ``Z_FULL_FLUSH`` make everything so far
        decodable and keep the stream open (``Z_FULL_FLUSH`` also resets the
        history, so decoding can restart there). ``Z_NO_FLUSH`` does nothing.
        """
        mode = _cint(mode, "mode")
        if mode == Z_NO_FLUSH:
            return b""
        if self._ended or not Z_NO_FLUSH <= mode <= Z_BLOCK:
            raise error("Error -2 while flushing: inconsistent stream state")
        out = self._c.flush(b"", mode)
        if mode == Z_FINISH:
            self._ended = True
        return out

    def copy(self) -> _Compress:
        """Return an independent copy of the compressor's current state."""
        if self._ended:
            raise ValueError("Inconsistent stream state")
        return _Compress(self._c.copy())

    __copy__ = copy

    def __deepcopy__(self, memo: Any) -> _Compress:
        return self.copy()


class _Decompress:
    """A decompression object, as returned by :func:`decompressobj`.

    Attributes, as in :mod:`zlib`: ``unused_data`` (bytes after the end of
    the stream), ``unconsumed_tail`` (input not yet used because
    ``max_length`` was reached: pass it back in), ``eof``.
    """

    __slots__ = ("_d", "_ended", "unused_data", "unconsumed_tail", "eof")

    def __init__(self, native: _native.Decompressor) -> None:
        self._d = native
        self._ended = False
        self.unused_data = b""
        self.unconsumed_tail = b""
        self.eof = False

    def _feed(self, data: Any, max_length: int, flushing: bool = False) -> bytes:
        try:
            # The native call takes the buffer first, so a bad argument is
            # refused with the same exception the stdlib raises.
            if flushing:
                out, used = self._d.flush(data)
            else:
                out, used = self._d.decompress(data, max_length)
        finally:
            self.eof = self._d.eof
        view = memoryview(data).cast("B")
        rest = view[used:].tobytes() if used < len(view) else b""
        if self.eof:
            if rest:
                self.unused_data += rest
            self.unconsumed_tail = b""
        else:
            self.unconsumed_tail = rest
        return out

    def decompress(self, data: Any, /, max_length: int = 0) -> bytes:
        """Decompress *data*, returning at most *max_length* bytes (0 means
        no limit). Input left unprocessed because of the limit is in
        ``unconsumed_tail``; feed it back to continue. This is how a
        decompression bomb is read in bounded memory.
        """
        max_length = _index(max_length, "max_length")
        if max_length < 0:
            raise ValueError("max_length must be non-negative")
        if self._ended:
            raise error("Error -2 while decompressing data: inconsistent stream state")
        return self._feed(data, max_length)

    def flush(self, length: int = DEF_BUF_SIZE, /) -> bytes:
        """Process ``unconsumed_tail`` and return all remaining output."""
        length = _index(length, "length")
        if length <= 0:
            raise ValueError("length must be greater than zero")
        # Like CPython, flush() returns what decodes and does not raise for
        # corrupt data (CPython's flush discards inflate's error).
        out = self._feed(self.unconsumed_tail, 0, flushing=True)
        if self.eof:
            self._ended = True
        return out

    def copy(self) -> _Decompress:
        """Return an independent copy of the decompressor's current state."""
        if self._ended:
            raise ValueError("Inconsistent stream state")
        other = _Decompress(self._d.copy())
        other.unused_data = self.unused_data
        other.unconsumed_tail = self.unconsumed_tail
        other.eof = self.eof
        return other

    __copy__ = copy

    def __deepcopy__(self, memo: Any) -> _Decompress:
        return self.copy()


def compressobj(
    level: int = Z_DEFAULT_COMPRESSION,
    method: int = DEFLATED,
    wbits: int = MAX_WBITS,
    memLevel: int = DEF_MEM_LEVEL,
    strategy: int = Z_DEFAULT_STRATEGY,
    zdict: Any = None,
) -> _Compress:
    """Return a compression object, as :func:`zlib.compressobj`.

    *zdict* is a preset dictionary: bytes expected to occur in the data.
    The decompressor must be given the same dictionary.
    """
    level = _cint(level, "level")
    method = _cint(method, "method")
    mem_level = _cint(memLevel, "memLevel")
    strategy = _cint(strategy, "strategy")
    form = _compress_wbits(_cint(wbits, "wbits"))
    if (
        form is None
        or method != DEFLATED
        or not -1 <= level <= _MAX_LEVEL
        or not 1 <= mem_level <= 9
        or not 0 <= strategy <= 4
    ):
        raise ValueError("Invalid initialization option")
    container, bits = form
    if zdict is not None:
        try:
            memoryview(zdict)
        except TypeError:
            raise TypeError("zdict argument must support the buffer protocol") from None
        if container == _GZIP:
            # zlib refuses a preset dictionary in a gzip stream.
            raise ValueError("Invalid dictionary")
    return _Compress(
        _native.Compressor(
            container, level, bits, strategy, zdict, 0, None, 3, _gzip_xfl(level, strategy)
        )
    )


def decompressobj(wbits: int = MAX_WBITS, zdict: Any = b"") -> _Decompress:
    """Return a decompression object, as :func:`zlib.decompressobj`."""
    form = _decompress_wbits(_cint(wbits, "wbits"))
    if form is None:
        raise ValueError("Invalid initialization option")
    try:
        memoryview(zdict)
    except TypeError:
        raise TypeError("zdict argument must support the buffer protocol") from None
    container, bits = form
    dictionary = zdict if len(memoryview(zdict)) else None
    return _Decompress(_native.Decompressor(container, bits, dictionary))
