"""A drop-in replacement for the standard library's :mod:`gzip`, backed by
scalezip's Rust DEFLATE.

Same API as the stdlib module (``open``, ``GzipFile``, ``compress``,
``decompress``, ``BadGzipFile``, and ``python -m scalezip.gzip`` with the
stdlib command line's flags). Files are standard gzip (RFC 1952): anything
that reads ``.gz`` reads ours, and multi-member files (``cat a.gz b.gz``)
read back as the concatenation, as the stdlib does.

The structure follows the stdlib's, so behaviour matches in the corners:
reading parses each member's header here (the exceptions and messages are
the stdlib's), inflates the body in Rust through :mod:`scalezip.zlib`, and
checks the CRC-32 and length trailer. The one-shot :func:`decompress` takes
a faster road, decoding whole members in one native call with header and
trailer checked in Rust, and falls back to the careful road only to report
an error exactly as the stdlib would.
"""

from __future__ import annotations

import builtins
import errno
import gzip as _std_gzip
import io
import os
import struct
import sys
import time
from typing import IO, Any

from . import _native, zlib
from ._errors import BadGzipFile
from ._fileio import atomic_output, check_threads

__all__ = ["BadGzipFile", "GzipFile", "open", "compress", "decompress"]

FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16

# The stdlib's mode markers (ints up to 3.11, strings from 3.12): reuse them
# so that ``f.mode == gzip.READ`` style checks behave identically.
READ: Any = _std_gzip.READ
WRITE: Any = _std_gzip.WRITE

_COMPRESS_LEVEL_FAST = 1
_COMPRESS_LEVEL_TRADEOFF = 6
_COMPRESS_LEVEL_BEST = 9

READ_BUFFER_SIZE = 128 * 1024
_EOF_MESSAGE = "Compressed file ended before the end-of-stream marker was reached"


def open(
    filename: Any,
    mode: str = "rb",
    compresslevel: int = _COMPRESS_LEVEL_BEST,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    *,
    threads: int = 1,
) -> Any:
    """Open a gzip-compressed file in binary or text mode, as :func:`gzip.open`.

    *filename* is a path (str, bytes or PathLike) or a file object. *mode*
    is one of 'r', 'rb', 'a', 'ab', 'w', 'wb', 'x', 'xb' (binary) or the
    same with 't' (text, wrapped in :class:`io.TextIOWrapper`). *threads*
    (writing): see :class:`GzipFile`.
    """
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"Invalid mode: {mode!r}")
    else:
        if encoding is not None:
            raise ValueError("Argument 'encoding' not supported in binary mode")
        if errors is not None:
            raise ValueError("Argument 'errors' not supported in binary mode")
        if newline is not None:
            raise ValueError("Argument 'newline' not supported in binary mode")

    gz_mode = mode.replace("t", "")
    if isinstance(filename, (str, bytes, os.PathLike)):
        binary_file = GzipFile(filename, gz_mode, compresslevel, threads=threads)
    elif hasattr(filename, "read") or hasattr(filename, "write"):
        binary_file = GzipFile(None, gz_mode, compresslevel, filename, threads=threads)
    else:
        raise TypeError("filename must be a str or bytes object, or a file")

    if "t" in mode:
        encoding = io.text_encoding(encoding)
        return io.TextIOWrapper(binary_file, encoding, errors, newline)
    return binary_file


def _read_exact(fp: IO[bytes], n: int) -> bytes:
    """Read exactly *n* bytes or raise EOFError, as the stdlib does."""
    data = fp.read(n)
    while len(data) < n:
        more = fp.read(n - len(data))
        if not more:
            raise EOFError(_EOF_MESSAGE)
        data += more
    return data


def _read_gzip_header(fp: IO[bytes]) -> int | None:
    """Read one member header from *fp*; return its MTIME, or None at EOF."""
    magic = fp.read(2)
    if magic == b"":
        return None
    if magic != b"\037\213":
        raise BadGzipFile(f"Not a gzipped file ({magic!r})")

    method, flag, last_mtime = struct.unpack("<BBIxx", _read_exact(fp, 8))
    if method != 8:
        raise BadGzipFile("Unknown compression method")

    if flag & FEXTRA:
        (extra_len,) = struct.unpack("<H", _read_exact(fp, 2))
        _read_exact(fp, extra_len)
    for field in (FNAME, FCOMMENT):
        if flag & field:
            while True:
                s = fp.read(1)
                if not s or s == b"\000":
                    break
    if flag & FHCRC:
        _read_exact(fp, 2)
    return int(last_mtime)


class _PaddedFile:
    """A file wrapper that can give bytes back (``prepend``), so the bytes
    the decoder read past the end of a member are read again as the start
    of the next one."""

    def __init__(self, f: IO[bytes]) -> None:
        self._buffer = b""
        self._offset = 0
        self.file = f

    def read(self, size: int) -> bytes:
        if self._offset >= len(self._buffer):
            return self.file.read(size)
        end = self._offset + size
        chunk = self._buffer[self._offset : end]
        self._offset = min(end, len(self._buffer))
        return chunk

    def prepend(self, prefix: bytes) -> None:
        if self._offset >= len(self._buffer):
            self._buffer = prefix
        else:
            self._buffer = prefix + self._buffer[self._offset :]
        self._offset = 0

    def seek(self, off: int) -> int:
        self._buffer = b""
        self._offset = 0
        return self.file.seek(off)

    def seekable(self) -> bool:
        return True


class _GzipReader(io.RawIOBase):
    """Raw reader of concatenated gzip members; wrapped by a BufferedReader."""

    def __init__(self, fp: IO[bytes]) -> None:
        self._fp = _PaddedFile(fp)
        self._eof = False
        self._pos = 0  # Current offset in the decompressed stream.
        self._size = -1  # Total size, once known (after reaching EOF).
        self._new_member = True
        self._last_mtime: int | None = None
        self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        self._crc = 0
        self._stream_size = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._decompressor = None  # type: ignore[assignment]
        super().close()

    def seekable(self) -> bool:
        return self._fp.file.seekable()

    def readinto(self, b: Any) -> int:
        with memoryview(b) as view, view.cast("B") as byte_view:
            data = self.read(len(byte_view))
            byte_view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        chunks = []
        while data := self.read(sys.maxsize):
            chunks.append(data)
        return b"".join(chunks)

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self.readall()
        if not size or self._eof:
            return b""
        # Decompress into at most `size` bytes, crossing members as needed.
        while True:
            if self._decompressor.eof:
                self._read_eof()
                self._new_member = True
                self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            if self._new_member:
                self._crc = 0
                self._stream_size = 0
                mtime = _read_gzip_header(self._fp)  # type: ignore[arg-type]
                if mtime is None:
                    self._size = self._pos
                    self._eof = True
                    return b""
                self._last_mtime = mtime
                self._new_member = False

            buf = self._fp.read(READ_BUFFER_SIZE)
            uncompress = self._decompressor.decompress(buf, size)
            if self._decompressor.unconsumed_tail != b"":
                self._fp.prepend(self._decompressor.unconsumed_tail)
            elif self._decompressor.unused_data != b"":
                self._fp.prepend(self._decompressor.unused_data)
            if uncompress != b"":
                break
            if buf == b"":
                raise EOFError(_EOF_MESSAGE)

        self._crc = zlib.crc32(uncompress, self._crc)
        self._stream_size += len(uncompress)
        self._pos += len(uncompress)
        return uncompress

    def _read_eof(self) -> None:
        crc32, isize = struct.unpack("<II", _read_exact(self._fp, 8))  # type: ignore[arg-type]
        if crc32 != self._crc:
            raise BadGzipFile(f"CRC check failed {hex(crc32)} != {hex(self._crc)}")
        if isize != (self._stream_size & 0xFFFFFFFF):
            raise BadGzipFile("Incorrect length of data produced")
        # gzip allows zero padding between and after members.
        c = b"\x00"
        while c == b"\x00":
            c = self._fp.read(1)
        if c:
            self._fp.prepend(c)

    def _rewind(self) -> None:
        self._fp.seek(0)
        self._eof = False
        self._pos = 0
        self._new_member = True
        self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pass
        elif whence == io.SEEK_CUR:
            offset = self._pos + offset
        elif whence == io.SEEK_END:
            if self._size < 0:
                while self.read(io.DEFAULT_BUFFER_SIZE):
                    pass
            offset = self._size + offset
        else:
            raise ValueError(f"Invalid value for whence: {whence}")

        if offset < self._pos:
            self._rewind()
        else:
            offset -= self._pos
        while offset > 0:
            data = self.read(min(io.DEFAULT_BUFFER_SIZE, offset))
            if not data:
                break
            offset -= len(data)
        return self._pos

    def tell(self) -> int:
        return self._pos


class GzipFile(io.BufferedIOBase):
    """A file object that reads or writes gzip data, as :class:`gzip.GzipFile`.

    Reading accepts multi-member files; writing makes one member per
    GzipFile (appending with mode 'a' adds a member). ``mtime`` is the
    modification time of the last member header read.
    """

    myfileobj: IO[bytes] | None = None

    def __init__(
        self,
        filename: Any = None,
        mode: str | None = None,
        compresslevel: int = _COMPRESS_LEVEL_BEST,
        fileobj: IO[bytes] | None = None,
        mtime: float | None = None,
        *,
        threads: int = 1,
    ) -> None:
        """As :class:`gzip.GzipFile`, plus *threads* (write mode): compress
        with that many cores (0: one per core) into one ordinary gzip member,
        in blocks of 1 MiB primed with the preceding 32 KiB (pigz's method);
        the ratio stays within a fraction of a percent of one thread's."""
        if mode and ("t" in mode or "U" in mode):
            raise ValueError(f"Invalid mode: {mode!r}")
        if mode and "b" not in mode:
            mode += "b"
        if fileobj is None:
            fileobj = self.myfileobj = builtins.open(filename, mode or "rb")
        if filename is None:
            filename = getattr(fileobj, "name", "")
            if not isinstance(filename, (str, bytes)):
                filename = ""
        else:
            filename = os.fspath(filename)
        origmode = mode
        if mode is None:
            mode = getattr(fileobj, "mode", "rb")

        if mode.startswith("r"):
            self.mode = READ
            raw = _GzipReader(fileobj)
            self._buffer: Any = io.BufferedReader(raw)
            self.name = filename
        elif mode.startswith(("w", "a", "x")):
            if origmode is None:
                import warnings

                warnings.warn(
                    "GzipFile was opened for writing, but this will change in future Python "
                    "releases.  Specify the mode argument for opening it for writing.",
                    FutureWarning,
                    2,
                )
            self.mode = WRITE
            self.name = filename
            self.size = 0
            self.offset = 0
            self._write_mtime = mtime
            self._compresslevel = compresslevel
            self._threads = check_threads(threads)
            self._compressor: Any = None
        else:
            raise ValueError(f"Invalid mode: {mode!r}")

        self.fileobj: IO[bytes] | None = fileobj

        if self.mode == WRITE:
            self._start_member(compresslevel)

    @property
    def mtime(self) -> int | None:
        """Last modification time read from a member header (read mode)."""
        return self._buffer.raw._last_mtime  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        s = repr(self.fileobj)
        return "<gzip " + s[1:-1] + " " + hex(id(self)) + ">"

    def _start_member(self, compresslevel: int) -> None:
        """Write the member header (with FNAME and MTIME) and set up the
        native compressor, which writes the CRC-32/ISIZE trailer on close."""
        try:
            # RFC 1952 wants FNAME in Latin-1; leave out names that are not.
            fname = os.path.basename(self.name)
            if not isinstance(fname, bytes):
                fname = fname.encode("latin-1")
            if fname.endswith(b".gz"):
                fname = fname[:-3]
        except UnicodeEncodeError:
            fname = b""
        mtime = self._write_mtime
        if mtime is None:
            mtime = time.time()
        # struct raises for an MTIME outside 32 bits, as the stdlib's does.
        (mtime32,) = struct.unpack("<L", struct.pack("<L", int(mtime)))
        if not -1 <= compresslevel <= 12:
            raise ValueError("Invalid initialization option")
        xfl = _gzip_xfl(compresslevel)
        if self._threads == 1:
            self._compressor = _native.Compressor(
                2, compresslevel, 15, 0, None, mtime32, fname or None, 255, xfl
            )
        else:
            self._compressor = _native.ParallelCompressor(
                2, compresslevel, self._threads, _BLOCK_SIZE, mtime32, fname or None, 255, xfl
            )
        assert self.fileobj is not None
        self.fileobj.write(self._compressor.compress(b""))

    def write(self, data: Any) -> int:
        """Compress and write *data*; return the number of bytes taken."""
        self._check_not_closed()
        if self.mode != WRITE:
            raise OSError(errno.EBADF, "write() on read-only GzipFile object")
        if self.fileobj is None:
            raise ValueError("write() on closed GzipFile object")

        if isinstance(data, (bytes, bytearray)):
            length = len(data)
        else:
            # Accept any buffer (memoryview, array, numpy) and count bytes.
            data = memoryview(data)
            length = data.nbytes

        if length > 0:
            self.fileobj.write(self._compressor.compress(data))
            self.size += length
            self.offset += length
        return length

    def read(self, size: int | None = -1) -> bytes:
        self._check_not_closed()
        if self.mode != READ:
            raise OSError(errno.EBADF, "read() on write-only GzipFile object")
        return self._buffer.read(size)  # type: ignore[no-any-return]

    def read1(self, size: int = -1) -> bytes:
        """Read up to *size* bytes with at most one read of the raw stream."""
        self._check_not_closed()
        if self.mode != READ:
            raise OSError(errno.EBADF, "read1() on write-only GzipFile object")
        if size < 0:
            size = io.DEFAULT_BUFFER_SIZE
        return self._buffer.read1(size)  # type: ignore[no-any-return]

    def peek(self, n: int) -> bytes:
        self._check_not_closed()
        if self.mode != READ:
            raise OSError(errno.EBADF, "peek() on write-only GzipFile object")
        return self._buffer.peek(n)  # type: ignore[no-any-return]

    def readinto(self, b: Any) -> int:
        self._check_not_closed()
        if self.mode != READ:
            raise OSError(errno.EBADF, "readinto() on write-only GzipFile object")
        return self._buffer.readinto(b)  # type: ignore[no-any-return]

    def readinto1(self, b: Any) -> int:
        self._check_not_closed()
        if self.mode != READ:
            raise OSError(errno.EBADF, "readinto1() on write-only GzipFile object")
        return self._buffer.readinto1(b)  # type: ignore[no-any-return]

    @property
    def closed(self) -> bool:
        return self.fileobj is None

    def close(self) -> None:
        fileobj = self.fileobj
        if fileobj is None:
            return
        self.fileobj = None
        try:
            if self.mode == WRITE:
                fileobj.write(self._finish_bytes())
            elif self.mode == READ:
                self._buffer.close()
        finally:
            myfileobj = self.myfileobj
            if myfileobj:
                self.myfileobj = None
                myfileobj.close()

    def _finish_bytes(self) -> bytes:
        if self._threads == 1:
            return self._compressor.flush(b"", zlib.Z_FINISH)  # type: ignore[no-any-return]
        return self._compressor.finish()  # type: ignore[no-any-return]

    def flush(self, zlib_mode: int = zlib.Z_SYNC_FLUSH) -> None:
        """Flush: in write mode, make all data written so far decodable.

        With ``threads`` other than 1, data still waiting to fill a batch of
        blocks stays buffered until more arrives or the file is closed."""
        self._check_not_closed()
        if self.mode == WRITE:
            assert self.fileobj is not None
            if self._threads == 1:
                self.fileobj.write(self._compressor.flush(b"", zlib_mode))
            self.fileobj.flush()

    def fileno(self) -> int:
        """The file descriptor of the underlying file."""
        assert self.fileobj is not None
        return self.fileobj.fileno()

    def rewind(self) -> None:
        """Return to the beginning of the file (read mode only)."""
        if self.mode != READ:
            raise OSError("Can't rewind in write mode")
        self._buffer.seek(0)

    def readable(self) -> bool:
        return bool(self.mode == READ)

    def writable(self) -> bool:
        return bool(self.mode == WRITE)

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek in the uncompressed stream. Read mode: anywhere (backwards
        rewinds and re-reads). Write mode: forward only, writing zeros."""
        if self.mode == WRITE:
            if whence != io.SEEK_SET:
                if whence == io.SEEK_CUR:
                    offset = self.offset + offset
                else:
                    raise ValueError("Seek from end not supported")
            if offset < self.offset:
                raise OSError("Negative seek in write mode")
            count = offset - self.offset
            chunk = b"\0" * 1024
            for _ in range(count // 1024):
                self.write(chunk)
            self.write(b"\0" * (count % 1024))
        elif self.mode == READ:
            self._check_not_closed()
            return self._buffer.seek(offset, whence)  # type: ignore[no-any-return]
        return self.offset

    def tell(self) -> int:
        self._check_not_closed()
        if self.mode == READ:
            return self._buffer.tell()  # type: ignore[no-any-return]
        return self.offset

    def readline(self, size: int | None = -1) -> bytes:
        self._check_not_closed()
        return self._buffer.readline(size)  # type: ignore[no-any-return]

    def _check_not_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")


def compress(
    data: Any,
    compresslevel: int = _COMPRESS_LEVEL_BEST,
    *,
    mtime: float | None = None,
    threads: int = 1,
) -> bytes:
    """Compress *data* into one gzip member, as :func:`gzip.compress`.

    *threads* (a scalezip addition): compress with that many cores (0: one
    per core); the result is still one ordinary gzip member.
    """
    threads = check_threads(threads)
    if threads != 1:
        if mtime is None:
            mtime = time.time()
        (mtime32,) = struct.unpack("<L", struct.pack("<L", int(mtime)))
        if not -1 <= compresslevel <= 12:
            raise zlib.error("Bad compression level")
        # Written straight into the returned bytes: the output is held once.
        return _native.compress_parallel(
            data, 2, compresslevel, threads, _BLOCK_SIZE, mtime32, 255, _gzip_xfl(compresslevel)
        )
    if mtime == 0:
        # As the stdlib: zlib's own gzip header (OS 3, zlib's XFL rule).
        return zlib.compress(data, level=compresslevel, wbits=31)
    if mtime is None:
        mtime = time.time()
    (mtime32,) = struct.unpack("<L", struct.pack("<L", int(mtime)))
    if not -1 <= compresslevel <= 12:
        raise zlib.error("Bad compression level")
    return _native.compress(data, 2, compresslevel, 15, mtime32, 255, _gzip_xfl(compresslevel))


# Block size of multi-threaded compression: big enough that each block's
# fresh start costs < 0.5 % of ratio, small enough to split a few MB.
_BLOCK_SIZE = 1 << 20


def _gzip_xfl(compresslevel: int) -> int:
    """The XFL byte Python's gzip module writes: 2 best, 4 fastest, else 0."""
    if compresslevel == _COMPRESS_LEVEL_BEST:
        return 2
    if compresslevel == _COMPRESS_LEVEL_FAST:
        return 4
    return 0


def _decompress_member_carefully(data: memoryview) -> tuple[bytes, int]:
    """Decode the member at the start of *data* the stdlib's way, raising
    exactly what it raises. Returns (output, bytes used)."""
    fp = io.BytesIO(data)
    if _read_gzip_header(fp) is None:  # pragma: no cover - caller checked
        return b"", 0
    do = zlib.decompressobj(-zlib.MAX_WBITS)
    out = do.decompress(data[fp.tell() :])
    if not do.eof or len(do.unused_data) < 8:
        raise EOFError(_EOF_MESSAGE)
    crc, length = struct.unpack("<II", do.unused_data[:8])
    if crc != zlib.crc32(out):
        raise BadGzipFile("CRC check failed")
    if length != (len(out) & 0xFFFFFFFF):
        raise BadGzipFile("Incorrect length of data produced")
    return out, len(data) - len(do.unused_data) + 8


def decompress(data: Any) -> bytes:
    """Decompress gzip *data*, all members, as :func:`gzip.decompress`.

    Zero bytes between and after members are skipped, as gzip(1) and the
    stdlib do.
    """
    view = memoryview(data).cast("B")
    members = []
    pos = 0
    while pos < len(view):
        rest = view[pos:]
        if len(rest) < 2 or rest[0] != 0x1F or rest[1] != 0x8B:
            # Not a header: raise the stdlib's error for it.
            _read_gzip_header(io.BytesIO(rest))
            raise BadGzipFile(f"Not a gzipped file ({bytes(rest[:2])!r})")
        try:
            out, used = _native.decompress(rest, 2, 15, 0)
        except zlib.error:
            out, used = _decompress_member_carefully(rest)
        members.append(out)
        pos += used
        while pos < len(view) and view[pos] == 0:
            pos += 1
    return members[0] if len(members) == 1 else b"".join(members)


def main() -> None:
    """``python -m scalezip.gzip``: the stdlib's gzip command line.

    Unlike the stdlib's, output goes to a temporary file that is renamed
    into place once complete, so a failure never leaves a partial file.
    """
    from argparse import ArgumentParser

    parser = ArgumentParser(
        description="A simple command line interface for the gzip module: act like gzip, "
        "but do not delete the input file."
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--fast", action="store_true", help="compress faster")
    group.add_argument("--best", action="store_true", help="compress better")
    group.add_argument(
        "-d", "--decompress", action="store_true", help="act like gunzip instead of gzip"
    )
    parser.add_argument("args", nargs="*", default=["-"], metavar="file")
    args = parser.parse_args()

    compresslevel = _COMPRESS_LEVEL_TRADEOFF
    if args.fast:
        compresslevel = _COMPRESS_LEVEL_FAST
    elif args.best:
        compresslevel = _COMPRESS_LEVEL_BEST

    for arg in args.args:
        if args.decompress:
            if arg == "-":
                src: Any = GzipFile(filename="", mode="rb", fileobj=sys.stdin.buffer)
                _copy(src, sys.stdout.buffer)
                continue
            if arg[-3:] != ".gz":
                sys.exit(f"filename doesn't end in .gz: {arg!r}")
            with open(arg, "rb") as src:
                _copy_to_path(src, arg[:-3], None)
        else:
            if arg == "-":
                dst = GzipFile(
                    filename="", mode="wb", fileobj=sys.stdout.buffer, compresslevel=compresslevel
                )
                _copy(sys.stdin.buffer, dst)
                dst.close()
                continue
            with builtins.open(arg, "rb") as src:
                _copy_to_path(src, arg + ".gz", compresslevel)


def _copy(src: Any, dst: Any) -> None:
    while chunk := src.read(READ_BUFFER_SIZE):
        dst.write(chunk)


def _copy_to_path(src: Any, path: str, compresslevel: int | None) -> None:
    """Write *src* to *path* (gzip-compressed when *compresslevel* is set)
    through a temporary file renamed into place on success."""
    with atomic_output(path) as raw:
        if compresslevel is None:
            _copy(src, raw)
        else:
            with GzipFile(path, "wb", compresslevel, fileobj=raw) as dst:
                _copy(src, dst)


if __name__ == "__main__":
    main()
