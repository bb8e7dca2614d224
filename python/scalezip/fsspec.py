"""fsspec compression hooks: ``fsspec.open(path, compression="scalezip-gzip")``.

fsspec discovers file systems through entry points, but compressions only
through :func:`fsspec.compression.register_compression`; importing this
module registers scalezip's codecs there (idempotently), under the names
``scalezip-<codec>``. Existing fsspec / pandas code then picks them up::

    import fsspec
    import scalezip.fsspec  # noqa: F401  (registers the compressions)

    with fsspec.open("log.txt.gz", "wt", compression="scalezip-gzip") as f:
        f.write("hello")

No file extension is claimed (fsspec's own ``gz`` inference is left alone),
so name the compression explicitly.
"""

from __future__ import annotations

from typing import IO, Any

import fsspec.compression

from . import registry

__all__ = ["register"]


class _FsspecFile:
    """The file object fsspec gets: a codec reader or writer over *infile*."""

    def __init__(self, codec: registry.Codec, infile: IO[bytes], mode: str) -> None:
        self._infile = infile
        self._f: Any = codec.reader(infile) if "r" in mode else codec.writer(infile)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __enter__(self) -> _FsspecFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()
        self._infile.close()

    def readable(self) -> bool:
        return bool(self._f.readable())

    def writable(self) -> bool:
        return bool(self._f.writable())

    def seekable(self) -> bool:
        return False


def register() -> None:
    """Register every scalezip codec with fsspec as ``scalezip-<name>``."""
    for name, codec in registry.codecs().items():

        def open_(
            infile: IO[bytes], mode: str = "rb", codec: registry.Codec = codec, **kw: Any
        ) -> Any:
            return _FsspecFile(codec, infile, mode)

        fsspec.compression.register_compression(f"scalezip-{name}", open_, [], force=True)


register()
