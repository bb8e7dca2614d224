"""Helpers shared by the file objects of the codecs: outputs that a failure never
leaves half-written, a reader over a decompressor, the `threads` argument."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


def check_threads(threads: int) -> int:
    """The ``threads`` argument of the multi-core coders (gzip, cm): 1 for
    the calling thread, ``n`` for a pool of n, 0 for one per core."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(
            f"threads must be a non-negative integer (0: one per core), not {threads!r}"
        )
    return threads


@contextmanager
def atomic_output(path: str) -> Iterator[IO[bytes]]:
    """Yield a temporary file beside *path* (same folder, so the rename is
    atomic); rename it to *path* on success, delete it on any failure."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".scalezip-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class FlushingReader(io.RawIOBase):
    """Streams *fileobj* through a decompressor object in bounded memory.

    The decompressor has ``decompress(data, max_length)``,
    ``unconsumed_tail``, ``output_pending``, ``eof`` and ``flush()`` (which
    decodes what is left once the input has ended, raising on a truncated
    stream). Reading stops when the decompressor reports ``eof`` (see
    :meth:`_at_end`) or the file and ``flush()`` have nothing more.
    *owned*: close *fileobj* with this reader.
    """

    def __init__(self, fileobj: IO[bytes], decompressor: Any, owned: bool = False) -> None:
        self._fileobj = fileobj
        self._d = decompressor
        self._owned = owned
        self._rest = b""

    def readable(self) -> bool:
        return True

    def _at_end(self) -> int:
        """Called once the decompressor reports the end of its stream."""
        return 0

    def readinto(self, b: Any) -> int:
        with memoryview(b) as m, m.cast("B") as view:
            while True:
                if self._rest:
                    n = min(len(view), len(self._rest))
                    view[:n] = self._rest[:n]
                    self._rest = self._rest[n:]
                    return n
                if self._d.eof:
                    return self._at_end()
                data = self._d.unconsumed_tail
                if not data and not self._d.output_pending:
                    data = self._fileobj.read(1 << 16)
                    if not data:
                        self._rest = self._d.flush()
                        continue
                out = self._d.decompress(data, len(view))
                if out:
                    view[: len(out)] = out
                    return len(out)

    def close(self) -> None:
        if not self.closed and self._owned:
            self._fileobj.close()
        super().close()
