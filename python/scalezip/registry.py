"""The codec registry: every scalezip codec behind one front door.

Each :class:`Codec` says what it is (format, levels, file extension, which
external tools read it), how to compress and decompress in one shot, and how
to stream through file objects, so the one-shot API (:func:`compress`,
:func:`decompress`), the command line and the ecosystem hooks all share one
table. ``decompress(data)`` without a codec sniffs the format from its magic
bytes and raises :class:`UnknownFormatError` when it cannot.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from . import cm, gzip, huffman, lzw, zlib
from ._errors import ScalezipError
from ._fileio import FlushingReader

__all__ = [
    "Codec",
    "UnknownFormatError",
    "codecs",
    "get",
    "detect",
    "compress",
    "decompress",
]


class UnknownFormatError(ScalezipError, ValueError):
    """The data's format could not be recognised, or no such codec exists."""


class Writer(Protocol):
    """What :meth:`Codec.writer` returns: write, then close to finish."""

    def write(self, b: Any, /) -> Any: ...
    def close(self) -> None: ...


class Reader(Protocol):
    """What :meth:`Codec.reader` returns."""

    def read(self, n: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Codec:
    """One registered codec. ``levels`` is (lowest, highest) or None."""

    name: str
    description: str
    extension: str
    levels: tuple[int, int] | None
    default_level: int | None
    read_by: str
    _compress: Callable[..., bytes] = field(repr=False)
    _decompress: Callable[[Any], bytes] = field(repr=False)
    _sniff: Callable[[bytes], bool] | None = field(default=None, repr=False)
    _writer: Callable[[IO[bytes], int | None], Writer] | None = field(default=None, repr=False)
    _reader: Callable[[IO[bytes]], Reader] | None = field(default=None, repr=False)
    _parallel_writer: Callable[[IO[bytes], int | None, int, int | None], Writer] | None = field(
        default=None, repr=False
    )
    _parallel_reader: Callable[[IO[bytes], int], Reader] | None = field(default=None, repr=False)

    @property
    def parallel(self) -> bool:
        """Whether :meth:`writer` accepts ``threads`` other than 1."""
        return self._parallel_writer is not None

    @property
    def parallel_decoder(self) -> bool:
        """Whether :meth:`reader` accepts ``threads`` other than 1."""
        return self._parallel_reader is not None

    def check_level(self, level: int | None) -> int | None:
        if level is None:
            return self.default_level
        if self.levels is None:
            raise ValueError(f"codec {self.name!r} has no levels")
        lo, hi = self.levels
        if not lo <= level <= hi:
            raise ValueError(f"codec {self.name!r}: level {level} not in {lo}..{hi}")
        return level

    def compress(self, data: Any, level: int | None = None, **options: Any) -> bytes:
        """Compress *data*; *options* are codec-specific keywords."""
        return self._compress(data, self.check_level(level), **options)

    def decompress(self, data: Any) -> bytes:
        return self._decompress(data)

    def writer(
        self,
        fileobj: IO[bytes],
        level: int | None = None,
        threads: int = 1,
        size_hint: int | None = None,
    ) -> Writer:
        """A writable binary file that compresses into *fileobj*; closing it
        finishes the stream (and leaves *fileobj* open). *threads* other
        than 1 is accepted by codecs with a multi-core encoder (gzip, lzw, cm);
        *size_hint*, the expected input size if known, lets them choose how
        to split it (cm's segments; the output is valid whatever the size)."""
        level = self.check_level(level)
        if threads != 1:
            if self._parallel_writer is None:
                raise ValueError(f"codec {self.name!r} has no multi-threaded encoder")
            return self._parallel_writer(fileobj, level, threads, size_hint)
        if self._writer is not None:
            return self._writer(fileobj, level)
        return _OneShotWriter(fileobj, lambda data: self._compress(data, level))

    def reader(self, fileobj: IO[bytes], threads: int = 1) -> Reader:
        """A readable binary file of the data decompressed from *fileobj*.
        *threads* other than 1 is accepted by codecs with a multi-core
        decoder (cm: the segments of a segmented stream)."""
        if threads != 1:
            if self._parallel_reader is None:
                raise ValueError(f"codec {self.name!r} has no multi-threaded decoder")
            return self._parallel_reader(fileobj, threads)
        if self._reader is not None:
            return self._reader(fileobj)
        return io.BytesIO(self._decompress(fileobj.read()))


class _OneShotWriter(io.RawIOBase):
    """Collects everything written and compresses it on close, for codecs
    with no streaming encoder."""

    def __init__(self, fileobj: IO[bytes], compress: Callable[[bytes], bytes]) -> None:
        self._fileobj = fileobj
        self._compress = compress
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._chunks.append(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._fileobj.write(self._compress(b"".join(self._chunks)))
            self._chunks = []
        super().close()


class _StreamWriter(io.RawIOBase):
    """Streams through a compressor object with ``compress(data)`` and
    ``flush()`` (zlib's compressobj, LZWCompressor)."""

    def __init__(self, fileobj: IO[bytes], compressor: Any) -> None:
        self._fileobj = fileobj
        self._c = compressor

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        view = memoryview(b)
        self._fileobj.write(self._c.compress(view))
        return view.nbytes

    def close(self) -> None:
        if not self.closed:
            self._fileobj.write(self._c.flush())
        super().close()


class _ZlibReader(io.RawIOBase):
    """Streams through ``decompressobj`` in bounded memory; refuses a
    truncated stream and trailing garbage."""

    def __init__(self, fileobj: IO[bytes], wbits: int) -> None:
        self._fileobj = fileobj
        self._d = zlib.decompressobj(wbits)
        self._tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while True:
            if self._d.eof:
                if self._d.unused_data or self._fileobj.read(1):
                    raise zlib.error("trailing data after the end of the compressed stream")
                return 0
            data = self._tail or self._fileobj.read(1 << 16)
            if not data:
                raise EOFError("compressed stream ended before its end-of-stream marker")
            out = self._d.decompress(data, len(view))
            self._tail = self._d.unconsumed_tail
            if out:
                view[: len(out)] = out
                return len(out)


def _or6(level: int | None) -> int:
    return 6 if level is None else level


def _is_zlib(head: bytes) -> bool:
    return (
        len(head) >= 2
        and head[0] & 0x0F == 8
        and head[0] >> 4 <= 7
        and (head[0] << 8 | head[1]) % 31 == 0
    )


def _gzip_writer(
    fileobj: IO[bytes], level: int | None, threads: int = 1, size_hint: int | None = None
) -> Writer:
    level = 9 if level is None else level
    return gzip.GzipFile(
        filename="", mode="wb", compresslevel=level, fileobj=fileobj, mtime=0, threads=threads
    )


def _gzip_reader(fileobj: IO[bytes]) -> Reader:
    return gzip.GzipFile(filename="", mode="rb", fileobj=fileobj)


_REGISTRY: dict[str, Codec] = {}


def register(codec: Codec) -> None:
    """Add (or replace) a codec in the registry."""
    _REGISTRY[codec.name] = codec


register(
    Codec(
        name="gzip",
        description="gzip (RFC 1952): DEFLATE with a header and CRC-32; multi-member files read",
        extension=".gz",
        levels=(0, 12),
        default_level=9,
        read_by="gzip(1), zcat, pigz, Python's gzip, every zlib",
        _compress=lambda data, level: gzip.compress(data, level, mtime=0),
        _decompress=gzip.decompress,
        _sniff=lambda head: head[:2] == b"\x1f\x8b",
        _writer=_gzip_writer,
        _reader=_gzip_reader,
        _parallel_writer=_gzip_writer,
    )
)
register(
    Codec(
        name="zlib",
        description="zlib (RFC 1950): DEFLATE with a 2-byte header and Adler-32",
        extension=".zz",
        levels=(0, 12),
        default_level=6,
        read_by="every zlib (Python's zlib, pigz -z, qpdf's zlib-flate)",
        _compress=lambda data, level: zlib.compress(data, level),
        _decompress=zlib.decompress,
        _sniff=_is_zlib,
        _writer=lambda f, level: _StreamWriter(f, zlib.compressobj(_or6(level), zlib.DEFLATED, 15)),
        _reader=lambda f: io.BufferedReader(_ZlibReader(f, zlib.MAX_WBITS)),
    )
)
register(
    Codec(
        name="deflate",
        description="raw DEFLATE (RFC 1951): no header, no checksum; cannot be sniffed",
        extension=".deflate",
        levels=(0, 12),
        default_level=6,
        read_by="every zlib with negative wbits (Python: zlib.decompress(d, -15))",
        _compress=lambda data, level: zlib.compress(data, level, -15),
        _decompress=lambda data: zlib.decompress(data, -15),
        _writer=lambda f, level: _StreamWriter(
            f, zlib.compressobj(_or6(level), zlib.DEFLATED, -15)
        ),
        _reader=lambda f: io.BufferedReader(_ZlibReader(f, -zlib.MAX_WBITS)),
    )
)


register(
    Codec(
        name="lzw",
        description="LZW in the Unix compress format (.Z); the level is max-bits (9..16)",
        extension=".Z",
        levels=(9, 16),
        default_level=16,
        read_by="uncompress / compress -d (ncompress), gzip -d, zcat, 7-Zip",
        _compress=lambda data, level, **options: lzw.compress(data, max_bits=level, **options),
        _decompress=lzw.decompress,
        _sniff=lambda head: head[:2] == b"\x1f\x9d",
        _writer=lambda f, level: _StreamWriter(
            f, lzw.LZWCompressor(16 if level is None else level)
        ),
        _parallel_writer=lambda f, level, threads, size_hint: _StreamWriter(
            f, lzw.LZWCompressor(16 if level is None else level, threads=threads)
        ),
        # The end of a .Z file is the end of its stream (no marker).
        _reader=lambda f: io.BufferedReader(FlushingReader(f, lzw.LZWDecompressor())),
    )
)
register(
    Codec(
        name="huffman",
        description="scalezip raw Huffman (huff0-style: 128 KiB blocks, 4 interleaved streams, "
        "CRC-32); entropy coding only, no LZ77",
        extension=".szh",
        levels=None,
        default_level=None,
        read_by="scalezip only (format in docs/huffman.md)",
        _compress=lambda data, level, **options: huffman.compress(data, **options),
        _decompress=huffman.decompress,
        _sniff=lambda head: head[:4] == b"SZH0",
    )
)
register(
    Codec(
        name="cm",
        description="scalezip context mixing (lpaq-style bitwise model + arithmetic coder, "
        "CRC-32); best ratio, slow; the level selects model memory (1: 5 MiB .. 9: 1.2 GiB)",
        extension=".szcm",
        levels=(cm.MIN_LEVEL, cm.MAX_LEVEL),
        default_level=cm.DEFAULT_LEVEL,
        read_by="scalezip only (format in docs/cm.md)",
        _compress=lambda data, level: cm.compress(
            data, cm.DEFAULT_LEVEL if level is None else level
        ),
        _decompress=cm.decompress,
        _sniff=lambda head: head[:4] == cm.MAGIC,
        _writer=lambda f, level: cm.open(f, "wb", cm.DEFAULT_LEVEL if level is None else level),
        _reader=lambda f: cm.open(f, "rb"),
        _parallel_reader=lambda f, threads: cm.open(f, "rb", threads=threads),
        _parallel_writer=lambda f, level, threads, size_hint: cm.open(
            f,
            "wb",
            cm.DEFAULT_LEVEL if level is None else level,
            threads=threads,
            size_hint=size_hint,
        ),
    )
)


def codecs() -> dict[str, Codec]:
    """The registered codecs by name (a copy)."""
    return dict(_REGISTRY)


def get(name: str) -> Codec:
    """The codec called *name*; :class:`UnknownFormatError` if none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownFormatError(f"unknown codec {name!r} (known: {known})") from None


def detect(head: bytes) -> Codec:
    """The codec whose magic bytes start *head*; :class:`UnknownFormatError`
    when none matches (raw DEFLATE has no magic and is never detected)."""
    for codec in _REGISTRY.values():
        if codec._sniff is not None and codec._sniff(bytes(head[:8])):
            return codec
    raise UnknownFormatError(
        f"unrecognised format (first bytes {bytes(head[:4]).hex(' ') or 'none'}); "
        "name the codec explicitly"
    )


def compress(data: Any, codec: str = "gzip", level: int | None = None, **options: Any) -> bytes:
    """Compress *data* with the named *codec* at *level* (its default if None).

    *options* are passed to the codec (e.g. ``max_bits`` for LZW); an option
    the codec does not know is a ``TypeError``.
    """
    return get(codec).compress(data, level, **options)


def decompress(data: Any, codec: str | None = None) -> bytes:
    """Decompress *data*; with ``codec=None`` the format is sniffed."""
    c = get(codec) if codec is not None else detect(memoryview(data).cast("B")[:8].tobytes())
    return c.decompress(data)
