"""Compressed checkpoints with the ``safetensors`` library's API.

    >>> from scalezip import safetensors as szst
    >>> szst.save_file({"w": weight, "b": bias}, "model.szt")      # doctest: +SKIP
    >>> tensors = szst.load_file("model.szt")                      # doctest: +SKIP
    >>> with szst.safe_open("model.szt", framework="pt") as f:     # doctest: +SKIP
    ...     w = f.get_tensor("w")          # decodes this tensor only

and for existing files:

    >>> szst.compress_file("model.safetensors", "model.szt")      # doctest: +SKIP
    >>> szst.decompress_file("model.szt", "copy.safetensors")     # doctest: +SKIP

``decompress_file`` gives back the original ``.safetensors`` file byte for
byte (its header bytes are stored verbatim), so checksums and signatures of
the original still hold. Files are compressed and decompressed one tensor at
a time, in pieces, so memory stays bounded whatever the checkpoint's size,
and written to a temporary file that is renamed into place at the end.

The files are ``.szt`` containers (:mod:`scalezip.tensors`, ``docs/szt.md``).
Neither torch nor the ``safetensors`` package is needed: torch only to get
torch tensors back (``framework="pt"``), numpy otherwise (``"np"``).
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import numpy as np

from .tensors import (
    CHUNK_ELEMS,
    DTYPES,
    SztReader,
    SztWriter,
    TensorInfo,
    _as_bytes,
    _check_chunk_elems,
    _to_kind,
    error,
)

__all__ = [
    "save_file",
    "load_file",
    "safe_open",
    "compress_file",
    "decompress_file",
    "error",
]

#: Bytes read and coded per step when compressing a file (whole chunks).
PIECE_BYTES = 16 << 20

_FRAMEWORKS = {"pt": "torch", "torch": "torch", "np": "numpy", "numpy": "numpy"}


def _kind(framework: str | None, default: str) -> str:
    if framework is None:
        return default
    try:
        return _FRAMEWORKS[framework]
    except KeyError:
        raise ValueError(f"framework must be 'pt' or 'np', got {framework!r}") from None


def _atomic(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Run ``write`` on a temporary file beside ``path``, then rename it there."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_file(
    tensors: Mapping[str, Any],
    filename: str | os.PathLike[str],
    metadata: Mapping[str, str] | None = None,
    *,
    chunk_elems: int = CHUNK_ELEMS,
    method: str = "auto",
    threads: int | None = None,
) -> None:
    """Write ``tensors`` (name -> numpy array or torch tensor) to a ``.szt``
    file, losslessly compressed; ``metadata`` is kept as safetensors keeps
    its ``__metadata__`` (str -> str)."""
    _check_chunk_elems(chunk_elems)
    if metadata is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError("metadata must map str to str")
    items = [(name, _as_bytes(t)) for name, t in tensors.items()]
    kinds = {kind for _, (_, _, _, kind) in items}
    infos = [TensorInfo(n, dt, shape, chunk_elems) for n, (_, dt, shape, _) in items]
    meta: dict[str, Any] = {"kind": "torch" if "torch" in kinds else "numpy"}
    if metadata is not None:
        meta["metadata"] = dict(metadata)

    def write(f: IO[bytes]) -> None:
        w = SztWriter(f, infos, meta, method=method, threads=threads)
        for _, (raw, _, _, _) in items:
            w.write_tensor(raw)
        w.close()

    _atomic(filename, write)


class safe_open:  # noqa: N801 (the safetensors library's name)
    """Open a ``.szt`` file for reading tensors one at a time, by name.

    ``get_tensor(name)`` seeks to that tensor and decodes it alone.
    ``framework``: ``"pt"`` (torch tensors, the default) or ``"np"``.
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        framework: str = "pt",
        device: Any = "cpu",
        *,
        threads: int | None = None,
    ) -> None:
        self._kind = _kind(framework, "torch")
        self._device = device
        self._r = SztReader(os.fspath(filename), threads=threads)

    def __enter__(self) -> safe_open:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._r.close()

    def keys(self) -> list[str]:
        """Tensor names, in file order."""
        return [t.name for t in self._r.tensors]

    def metadata(self) -> dict[str, str] | None:
        """The ``__metadata__`` the file was saved with."""
        md = self._r.metadata.get("metadata")
        return dict(md) if isinstance(md, dict) else None

    def get_tensor(self, name: str) -> Any:
        """Decode tensor ``name`` only."""
        info = self._r.info(name)
        raw = self._r.read_raw(name)
        return _to_kind(raw, info.dtype, info.shape, self._kind, self._device)


def load_file(
    filename: str | os.PathLike[str],
    device: Any = "cpu",
    *,
    framework: str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Every tensor of a ``.szt`` file, as a dict. ``framework`` (``"pt"`` or
    ``"np"``) defaults to the kind the tensors were saved as (torch for
    files made by :func:`compress_file`)."""
    out: dict[str, Any] = {}
    with SztReader(os.fspath(filename), threads=threads) as r:
        recorded = r.metadata.get("kind")
        kind = _kind(framework, recorded if recorded in ("numpy", "torch") else "torch")
        for info, pieces in r.iter_raw():
            raw = _join(info, pieces)
            out[info.name] = _to_kind(raw, info.dtype, info.shape, kind, device)
        r.verify_end()
    return out


def _join(info: TensorInfo, pieces: Iterator[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    buf = np.empty(info.nbytes, dtype=np.uint8)
    at = 0
    for p in pieces:
        buf[at : at + p.size] = p
        at += p.size
    return buf


def _parse_safetensors_header(
    f: IO[bytes], size: int
) -> tuple[bytes, list[tuple[str, str, tuple[int, ...], int, int]], dict[str, str] | None]:
    """(header bytes, [(name, dtype, shape, begin, end)] in data order, metadata)."""
    head = f.read(8)
    if len(head) != 8:
        raise error("not a safetensors file: shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", head)
    if n > min(size - 8, 100 << 20):
        raise error(f"not a safetensors file: header length {n} is impossible")
    header = f.read(n)
    try:
        doc = json.loads(header)
    except (UnicodeDecodeError, ValueError):
        raise error("not a safetensors file: the header is not JSON") from None
    if not isinstance(doc, dict):
        raise error("not a safetensors file: the header is not a JSON object")
    md = doc.get("__metadata__")
    entries = []
    for name, t in doc.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (b, e) = t["dtype"], tuple(t["shape"]), t["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise error(f"safetensors entry {name!r} is malformed") from None
        if dtype not in DTYPES:
            raise error(f"safetensors entry {name!r}: unsupported dtype {dtype!r}")
        numel = 1
        for d in shape:
            numel *= int(d)
        if not (isinstance(b, int) and isinstance(e, int)) or e - b != numel * DTYPES[dtype]:
            raise error(f"safetensors entry {name!r}: data_offsets do not match its shape")
        entries.append((name, dtype, tuple(int(d) for d in shape), b, e))
    entries.sort(key=lambda x: (x[3], x[4]))
    pos = 0
    for name, _, _, b, e in entries:
        if b != pos:
            raise error(
                f"safetensors entry {name!r} does not start where the previous one ends "
                "(holes or overlaps are not valid safetensors)"
            )
        pos = e
    if 8 + n + pos != size:
        raise error(f"safetensors data is {size - 8 - n} bytes but the header describes {pos}")
    return header, entries, md if isinstance(md, dict) else None


def compress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    chunk_elems: int = CHUNK_ELEMS,
    method: str = "auto",
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[str, int, int]]:
    """Compress the ``.safetensors`` file ``src`` into the ``.szt`` file
    ``dst``, keeping its header bytes so :func:`decompress_file` can give
    the identical file back. Reads in pieces of :data:`PIECE_BYTES`, so
    memory stays bounded; ``progress`` is called with the number of input
    bytes done after each piece. Returns ``(name, original bytes,
    compressed bytes)`` per tensor."""
    _check_chunk_elems(chunk_elems)
    sizes: list[tuple[str, int, int]] = []
    with open(src, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header, entries, md = _parse_safetensors_header(f, size)
        infos = [TensorInfo(name, dt, shape, chunk_elems) for name, dt, shape, _, _ in entries]
        meta: dict[str, Any] = {"kind": "torch", "source": "safetensors"}
        if md is not None:
            meta["metadata"] = md

        def write(out: IO[bytes]) -> None:
            w = SztWriter(out, infos, meta, header, method=method, threads=threads)
            done = 8 + len(header)
            for info in infos:
                step = max(1, PIECE_BYTES // (chunk_elems * DTYPES[info.dtype]))
                step *= chunk_elems * DTYPES[info.dtype]
                left = info.nbytes
                first = True
                buf = bytearray(min(step, left))
                while first or left:
                    n = min(step, left)
                    view = memoryview(buf)[:n]
                    if f.readinto(view) != n:
                        raise error(f"{os.fspath(src)!r} changed or was truncated while reading")
                    w.write_piece(view, first=first)
                    first = False
                    left -= n
                    done += n
                    if progress is not None:
                        progress(done)
                del buf
            w.close()
            sizes.extend(
                (i.name, i.nbytes, c) for i, c in zip(infos, w.compressed_sizes, strict=True)
            )

        _atomic(dst, write)
    return sizes


def decompress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Decompress the ``.szt`` file ``src`` into the ``.safetensors`` file
    ``dst``: byte-identical to the file :func:`compress_file` was given.
    Files written by :func:`save_file` (no original header) get a header
    built in the same shape the safetensors library writes."""
    with SztReader(os.fspath(src), threads=threads) as r:
        header = r.raw_header or _make_header(r)

        def write(out: IO[bytes]) -> None:
            out.write(struct.pack("<Q", len(header)))
            out.write(header)
            done = 8 + len(header)
            for _, pieces in r.iter_raw():
                for p in pieces:
                    out.write(p.data)
                    done += p.size
                    if progress is not None:
                        progress(done)
            r.verify_end()

        _atomic(dst, write)


def _make_header(r: SztReader) -> bytes:
    doc: dict[str, Any] = {}
    md = r.metadata.get("metadata")
    if isinstance(md, dict):
        doc["__metadata__"] = md
    pos = 0
    for t in r.tensors:
        doc[t.name] = {
            "dtype": t.dtype,
            "shape": list(t.shape),
            "data_offsets": [pos, pos + t.nbytes],
        }
        pos += t.nbytes
    h = json.dumps(doc, separators=(",", ":")).encode()
    return h + b" " * (-len(h) % 8)
