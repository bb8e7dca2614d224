"""Lossless compression of tensors (model weights), and the ``.szt`` container.

Every bit comes back: NaN payloads, signed zeros, infinities and subnormals
included. Floating-point weights are cut into an exponent plane and planes
of sign and mantissa bits (or into byte planes, whichever is smaller); the
exponent plane, which carries 2-3 bits of information in its 8, is
Huffman-coded and the rest is stored as it is unless coding it is smaller.
Integer and boolean tensors go through the byte planes, so a whole
checkpoint round-trips whatever its dtypes.

    >>> import numpy as np
    >>> from scalezip import tensors
    >>> w = np.random.default_rng(0).normal(0, 0.02, (256, 256)).astype(np.float32)
    >>> blob = tensors.compress(w)
    >>> back = tensors.decompress(blob)
    >>> back.dtype, back.shape, back.tobytes() == w.tobytes()
    (dtype('float32'), (256, 256), True)

``compress`` accepts numpy arrays and torch tensors (a CUDA tensor is copied
to the CPU; pass ``device=`` to :func:`decompress` to put the result back),
reading contiguous memory in place with the GIL released, and never writes
to it. ``decompress`` returns the kind it was given: numpy in, numpy out;
torch in, torch out; same dtype and shape.

The result of :func:`compress` is a ``.szt`` file holding one tensor; the
same container holds whole checkpoints (:mod:`scalezip.safetensors`). Its
layout, byte by byte, is in ``docs/szt.md``: a header (magic ``b"SZT0"``,
version, tensor names, dtypes, shapes and chunk sizes as JSON, CRC-32),
then each tensor's independently coded chunks with a CRC-32 each, then an
index of where each tensor starts, for random access. Corrupt or truncated
data raises :class:`error` naming the tensor and chunk; it never returns
wrong values.
"""

from __future__ import annotations

import importlib
import io
import json
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from . import _native
from ._errors import TensorError as error

__all__ = [
    "error",
    "compress",
    "decompress",
    "entropy_ideal",
    "TensorInfo",
    "SztWriter",
    "SztReader",
    "MAGIC",
    "METHODS",
    "VERSION",
    "CHUNK_ELEMS",
    "DTYPES",
]

#: First four bytes of every ``.szt`` file (also what sniffing looks for).
MAGIC = b"SZT0"
#: Container version written and read.
VERSION = 1
#: Layout choices for :func:`compress`.
METHODS = ("auto", "split", "bytes", "joint", "stored", "range")
#: Default elements per chunk (a bf16 chunk is 256 KiB).
CHUNK_ELEMS = 131072
MIN_CHUNK_ELEMS = 1024
MAX_CHUNK_ELEMS = 1 << 22

_TRAILER_MAGIC = b"SZTE"
_PREFIX = struct.Struct("<4sBBHII")  # magic, version, flags, reserved, json len, raw len
_TRAILER = struct.Struct("<QI4s")  # index offset, tensor count, magic
_FRAME = struct.Struct("<II")  # payload size, CRC-32
_MAX_HEADER = 1 << 30

#: Item size of every dtype, by safetensors name.
DTYPES: dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "U16": 2,
    "I16": 2,
    "U32": 4,
    "I32": 4,
    "U64": 8,
    "I64": 8,
    "F16": 2,
    "BF16": 2,
    "F32": 4,
    "F64": 8,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}

_NP_NAMES = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "uint16": "U16",
    "int16": "I16",
    "uint32": "U32",
    "int32": "I32",
    "uint64": "U64",
    "int64": "I64",
    "float16": "F16",
    "float32": "F32",
    "float64": "F64",
    # ml_dtypes' extension types, as numpy names them
    "bfloat16": "BF16",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
}

_TORCH_NAMES = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "uint16": "U16",
    "int16": "I16",
    "uint32": "U32",
    "int32": "I32",
    "uint64": "U64",
    "int64": "I64",
    "float16": "F16",
    "bfloat16": "BF16",
    "float32": "F32",
    "float64": "F64",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
}


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be None or a positive int, got {threads!r}")
    return threads


def _check_chunk_elems(chunk_elems: int) -> None:
    if isinstance(chunk_elems, bool) or not isinstance(chunk_elems, int):
        raise TypeError(f"chunk_elems must be an int, got {type(chunk_elems).__name__}")
    if not MIN_CHUNK_ELEMS <= chunk_elems <= MAX_CHUNK_ELEMS:
        raise ValueError(
            f"chunk_elems must be between {MIN_CHUNK_ELEMS} and {MAX_CHUNK_ELEMS}, "
            f"got {chunk_elems}"
        )


# ---------------------------------------------------------------------------
# numpy / torch <-> raw little-endian bytes


def _is_torch(x: Any) -> bool:
    mod = type(x).__module__
    return mod.startswith("torch") and hasattr(x, "untyped_storage")


def _np_dtype_name(dt: np.dtype[Any]) -> str:
    name = _NP_NAMES.get(dt.name)
    if name is None:
        raise TypeError(f"unsupported numpy dtype {dt} (supported: {', '.join(_NP_NAMES)})")
    return name


def _as_bytes(x: Any) -> tuple[np.ndarray[Any, Any], str, tuple[int, ...], str]:
    """(uint8 view of the raw little-endian bytes, dtype name, shape, kind).

    Contiguous CPU memory is viewed in place (no copy); anything else is
    copied once into contiguous little-endian memory.
    """
    if _is_torch(x):
        import torch

        t = x.detach()
        name = _TORCH_NAMES.get(str(t.dtype).removeprefix("torch."))
        if name is None:
            raise TypeError(f"unsupported torch dtype {t.dtype}")
        if t.device.type != "cpu":
            t = t.cpu()
        if t.is_sparse or t.layout != torch.strided:
            raise TypeError("only dense (strided) torch tensors can be compressed")
        shape = tuple(int(d) for d in t.shape)
        t = t.contiguous().reshape(-1)
        if t.is_conj() or t.is_neg():
            t = t.resolve_conj().resolve_neg()
        raw = t.view(torch.uint8).numpy()
        return raw, name, shape, "torch"
    if not isinstance(x, np.ndarray):
        raise TypeError(f"expected a numpy array or a torch tensor, got {type(x).__name__}")
    name = _np_dtype_name(x.dtype)
    if x.dtype.byteorder == ">":
        x = x.astype(x.dtype.newbyteorder("<"))
    shape = tuple(int(d) for d in x.shape)
    flat = np.ascontiguousarray(x).reshape(-1)
    return flat.view(np.uint8), name, shape, "numpy"


def _np_dtype(name: str) -> np.dtype[Any]:
    for np_name, n in _NP_NAMES.items():
        if n == name:
            if np_name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
                try:
                    ml_dtypes = importlib.import_module("ml_dtypes")
                except ImportError:
                    raise TypeError(
                        f"a {name} tensor as a numpy array needs the ml_dtypes package "
                        "(or decompress it as a torch tensor)"
                    ) from None
                ext: np.dtype[Any] = np.dtype(getattr(ml_dtypes, np_name))
                return ext
            return np.dtype(np_name)
    raise TypeError(f"unknown dtype {name!r}")


def _to_kind(
    raw: np.ndarray[Any, Any], name: str, shape: tuple[int, ...], kind: str, device: Any
) -> Any:
    """Turn decoded raw bytes into an array of the recorded kind (no copy)."""
    if kind == "torch":
        import torch

        tdt = getattr(torch, {v: k for k, v in _TORCH_NAMES.items()}[name])
        if raw.size == 0:
            t = torch.empty(shape, dtype=tdt)
        else:
            t = torch.from_numpy(raw).view(tdt).reshape(shape)
        if device is not None and str(device) != "cpu":
            t = t.to(device)
        return t
    if device is not None and str(device) != "cpu":
        raise ValueError("device= applies to torch tensors; this one was a numpy array")
    return raw.view(_np_dtype(name)).reshape(shape)


# ---------------------------------------------------------------------------
# the container


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a ``.szt`` file, as its header describes it."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    chunk_elems: int

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * DTYPES[self.dtype]

    @property
    def chunks(self) -> int:
        return -(-self.numel // self.chunk_elems)

    def _json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "chunk_elems": self.chunk_elems,
        }


def _header_bytes(infos: Sequence[TensorInfo], meta: dict[str, Any], raw: bytes) -> bytes:
    doc = dict(meta)
    doc["tensors"] = [i._json() for i in infos]
    js = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    head = _PREFIX.pack(MAGIC, VERSION, 0, 0, len(js), len(raw)) + js + raw
    return head + struct.pack("<I", zlib.crc32(head))


def _bad(msg: str) -> error:
    return error(f"invalid .szt data: {msg}")


def _parse_infos(doc: Any) -> list[TensorInfo]:
    if not isinstance(doc, dict) or not isinstance(doc.get("tensors"), list):
        raise _bad("the header has no tensor list")
    infos = []
    seen = set()
    for t in doc["tensors"]:
        try:
            name, dtype, shape, ce = t["name"], t["dtype"], t["shape"], t["chunk_elems"]
        except (TypeError, KeyError):
            raise _bad("a tensor entry lacks name, dtype, shape or chunk_elems") from None
        ok = (
            isinstance(name, str)
            and dtype in DTYPES
            and isinstance(shape, list)
            and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            and isinstance(ce, int)
            and MIN_CHUNK_ELEMS <= ce <= MAX_CHUNK_ELEMS
        )
        if not ok or name in seen:
            raise _bad(f"tensor entry {t!r:.200} is malformed or repeated")
        seen.add(name)
        infos.append(TensorInfo(name, dtype, tuple(shape), ce))
    return infos


def _read_exact(f: Any, n: int, what: str) -> Any:
    b = f.read(n)
    if len(b) != n:
        raise error(f"truncated .szt data: {what} needs {n} bytes, only {len(b)} remain")
    return b


def _read_header(f: Any) -> tuple[list[TensorInfo], dict[str, Any], bytes, int]:
    """Parse the header at the start of `f`; returns (infos, doc, raw, size)."""
    prefix = bytes(f.read(_PREFIX.size))
    if not (prefix[:4] == MAGIC or (len(prefix) < 4 and MAGIC.startswith(prefix) and prefix)):
        raise error("not a .szt file: it must start with the magic bytes b'SZT0'")
    if len(prefix) < _PREFIX.size:
        raise error("truncated .szt data: the header is cut short")
    _, version, flags, reserved, js_len, raw_len = _PREFIX.unpack(prefix)
    if version != VERSION:
        raise error(
            f"unsupported .szt format version {version} (this build reads version "
            f"{VERSION}; upgrade scalezip)"
        )
    if flags or reserved:
        raise _bad("reserved header bits are set")
    if js_len + raw_len > _MAX_HEADER:
        raise _bad("the header claims to be over 1 GiB")
    rest = _read_exact(f, js_len + raw_len + 4, "the header")
    (crc,) = struct.unpack("<I", rest[-4:])
    if zlib.crc32(rest[:-4], zlib.crc32(prefix)) != crc:
        raise error("corrupt .szt data: header CRC-32 mismatch")
    try:
        doc = json.loads(bytes(rest[:js_len]).decode())
    except (UnicodeDecodeError, ValueError):
        raise _bad("the header is not valid JSON") from None
    infos = _parse_infos(doc)
    return infos, doc, bytes(rest[js_len:-4]), _PREFIX.size + len(rest)


def _encode(raw: Any, info: TensorInfo, method: str, threads: int) -> bytes:
    try:
        return _native.tensor_encode(raw, info.dtype, info.chunk_elems, method, threads)
    except error as e:
        raise error(f"tensor {info.name!r}: {e}") from None


def _decode_into(frames: Any, info: TensorInfo, out: Any, first_chunk: int, threads: int) -> None:
    try:
        _native.tensor_decode_into(frames, info.dtype, info.chunk_elems, out, first_chunk, threads)
    except error as e:
        raise error(f"tensor {info.name!r}: {e}") from None


class SztWriter:
    """Write a ``.szt`` file to a binary file object, one tensor at a time.

    The tensor list is fixed up front (it goes in the header, so that a
    reader can stream); each :meth:`write_tensor` call must then supply the
    next tensor's bytes, in order, possibly in pieces of whole chunks
    (:meth:`write_piece`), so a tensor larger than memory can be written.
    :meth:`close` writes the index and trailer. ``fileobj`` is not closed.
    """

    def __init__(
        self,
        fileobj: IO[bytes],
        infos: Sequence[TensorInfo],
        meta: dict[str, Any] | None = None,
        raw_header: bytes = b"",
        *,
        method: str = "auto",
        threads: int | None = None,
    ) -> None:
        self._f = fileobj
        self._infos = list(infos)
        self._method = method
        self._threads = _threads(threads)
        head = _header_bytes(self._infos, dict(meta or {}), raw_header)
        self._f.write(head)
        self._pos = len(head)
        self._offsets: list[tuple[int, int]] = []
        self._cur = -1
        self._done_elems = 0
        self._start = 0
        self.compressed_sizes: list[int] = []

    def _begin(self) -> TensorInfo:
        if self._cur >= 0 and self._done_elems != self._infos[self._cur].numel:
            raise ValueError(f"tensor {self._infos[self._cur].name!r} is not complete")
        if self._cur >= 0:
            self._end_record()
        self._cur += 1
        if self._cur >= len(self._infos):
            raise ValueError("more tensors written than the header lists")
        self._done_elems = 0
        self._start = self._pos
        return self._infos[self._cur]

    def _end_record(self) -> None:
        self._offsets.append((self._start, self._pos - self._start))
        self.compressed_sizes.append(self._pos - self._start)

    def write_piece(self, raw: Any, *, first: bool) -> None:
        """Append raw little-endian bytes of the current tensor (``first``:
        start the next tensor). Pieces other than the last must hold a whole
        number of chunks."""
        info = self._begin() if first else self._infos[self._cur]
        view = memoryview(raw).cast("B")
        w = DTYPES[info.dtype]
        n = len(view) // w
        if len(view) % w or self._done_elems + n > info.numel:
            raise ValueError(f"tensor {info.name!r}: piece does not fit the declared shape")
        if self._done_elems % info.chunk_elems:
            raise ValueError("only the last piece of a tensor may hold a partial chunk")
        if n:
            frames = _encode(view, info, self._method, self._threads)
            self._f.write(frames)
            self._pos += len(frames)
        self._done_elems += n

    def write_tensor(self, raw: Any) -> None:
        """Write the next tensor whole, from its raw little-endian bytes."""
        self.write_piece(raw, first=True)

    def close(self) -> None:
        """Finish the last tensor and write the index and trailer."""
        if self._cur >= 0:
            if self._done_elems != self._infos[self._cur].numel:
                raise ValueError(f"tensor {self._infos[self._cur].name!r} is not complete")
            self._end_record()
        if len(self._offsets) != len(self._infos):
            raise ValueError(f"{len(self._infos)} tensors declared, {len(self._offsets)} written")
        self._f.write(_index_and_trailer(self._offsets, self._pos))
        self._cur = len(self._infos)


def _index_and_trailer(offsets: Sequence[tuple[int, int]], end: int) -> bytes:
    """The index of records ``offsets`` (offset, length) and the trailer,
    for a file whose records end at ``end``."""
    index = b"".join(struct.pack("<QQ", o, n) for o, n in offsets)
    index += struct.pack("<I", zlib.crc32(index))
    return index + _TRAILER.pack(end, len(offsets), _TRAILER_MAGIC)


class _ViewFile:
    """The file-object subset the reader uses, over in-memory data, handing
    out views instead of copies."""

    def __init__(self, view: memoryview) -> None:
        self._v = view
        self._pos = 0

    def read(self, n: int = -1) -> memoryview:
        end = len(self._v) if n < 0 else min(len(self._v), self._pos + n)
        b = self._v[self._pos : end]
        self._pos = end
        return b

    def seek(self, off: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._v)}[whence]
        self._pos = max(0, base + off)
        return self._pos

    def seekable(self) -> bool:
        return True


class SztReader:
    """Read a ``.szt`` file: the header at once, tensors on demand.

    ``source`` is a path, a binary file object, or bytes-like data. With a
    seekable source, :meth:`read` decodes one tensor by seeking straight to
    it (the index at the end of the file says where); :meth:`__iter__`
    decodes them in order, reading the file front to back (a pipe works).
    """

    def __init__(self, source: Any, *, threads: int | None = None) -> None:
        self._owned: IO[bytes] | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._f: Any = _ViewFile(memoryview(source).cast("B"))
        elif hasattr(source, "read"):
            self._f = source
        else:
            self._f = self._owned = open(source, "rb")  # noqa: SIM115
        self._threads = _threads(threads)
        try:
            self.tensors, self._doc, self.raw_header, self._data_start = _read_header(self._f)
        except BaseException:
            self.close()
            raise
        self._by_name = {t.name: i for i, t in enumerate(self.tensors)}
        self._index: list[tuple[int, int]] | None = None

    # context manager
    def __enter__(self) -> SztReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    @property
    def metadata(self) -> dict[str, Any]:
        """The header's document without the tensor list."""
        return {k: v for k, v in self._doc.items() if k != "tensors"}

    def info(self, name: str) -> TensorInfo:
        try:
            return self.tensors[self._by_name[name]]
        except KeyError:
            raise KeyError(f"no tensor named {name!r} in this file") from None

    def index(self) -> list[tuple[int, int]]:
        """(offset, length) of every tensor's record, from the trailer."""
        if self._index is None:
            f = self._f
            end = f.seek(0, io.SEEK_END)
            n = len(self.tensors)
            size = n * 16 + 4 + _TRAILER.size
            if end < self._data_start + size:
                raise error("truncated .szt data: no room for the index and trailer")
            f.seek(end - size)
            tail = _read_exact(f, size, "the index")
            off, count, magic = _TRAILER.unpack(tail[-_TRAILER.size :])
            body, (crc,) = tail[: n * 16], struct.unpack("<I", tail[n * 16 : n * 16 + 4])
            if magic != _TRAILER_MAGIC or count != n or off != end - size:
                raise error("corrupt .szt data: the trailer is damaged (or the file is truncated)")
            if zlib.crc32(body) != crc:
                raise error("corrupt .szt data: index CRC-32 mismatch")
            idx = [struct.unpack_from("<QQ", body, 16 * i) for i in range(n)]
            pos = self._data_start
            for (o, ln), t in zip(idx, self.tensors, strict=True):
                if o != pos:
                    raise error(f"corrupt .szt data: the index misplaces tensor {t.name!r}")
                pos += ln
            if pos != off:
                raise error("corrupt .szt data: the index does not cover the tensors")
            self._index = idx
        return self._index

    def _empty(self, info: TensorInfo) -> np.ndarray[Any, Any]:
        return np.empty(info.nbytes, dtype=np.uint8)

    def read_raw(self, name: str, max_size: int | None = None) -> np.ndarray[Any, Any]:
        """The raw bytes of tensor ``name`` (a uint8 array), by random access."""
        i = self._by_name.get(name)
        if i is None:
            raise KeyError(f"no tensor named {name!r} in this file")
        info = self.tensors[i]
        off, ln = self.index()[i]
        self._check_size(info, ln, max_size)
        self._f.seek(off)
        frames = _read_exact(self._f, ln, f"tensor {info.name!r}")
        out = self._empty(info)
        _decode_into(frames, info, out, 0, self._threads)
        return out

    def _check_size(self, info: TensorInfo, record_len: int, max_size: int | None) -> None:
        if max_size is not None and info.nbytes > max_size:
            raise error(
                f"tensor {info.name!r} decodes to {info.nbytes} bytes, over the limit of {max_size}"
            )
        if info.chunks > record_len // (_FRAME.size + 1):
            raise error(f"truncated .szt data: tensor {info.name!r} has too few chunks")

    def read(self, name: str, kind: str | None = None, device: Any = None) -> Any:
        """Tensor ``name`` as the recorded kind (or ``kind``: "numpy"/"torch")."""
        info = self.info(name)
        raw = self.read_raw(name)
        return _to_kind(raw, info.dtype, info.shape, kind or self._kind(), device)

    def _kind(self) -> str:
        k = self._doc.get("kind")
        return k if k in ("numpy", "torch") else "numpy"

    def iter_raw(
        self, piece_bytes: int = 16 << 20
    ) -> Iterator[tuple[TensorInfo, Iterator[np.ndarray[Any, Any]]]]:
        """Stream the file front to back: for each tensor, its info and an
        iterator over its raw bytes in pieces of about ``piece_bytes``
        (whole chunks). Each piece iterator must be consumed before the next
        tensor is taken."""
        if self._f.seekable():
            self._f.seek(self._data_start)
        for info in self.tensors:
            yield info, self._pieces(info, piece_bytes)

    def _pieces(self, info: TensorInfo, piece_bytes: int) -> Iterator[np.ndarray[Any, Any]]:
        w = DTYPES[info.dtype]
        per = max(1, piece_bytes // (info.chunk_elems * w))
        left = info.numel
        chunk = 0
        while left > 0:
            first = chunk
            frames = bytearray()
            elems = 0
            for _ in range(per):
                if left - elems <= 0:
                    break
                head = _read_exact(self._f, _FRAME.size, f"tensor {info.name!r} chunk {chunk}")
                size, _ = _FRAME.unpack(head)
                frames += head
                frames += _read_exact(self._f, size, f"tensor {info.name!r} chunk {chunk}")
                elems += min(info.chunk_elems, left - elems)
                chunk += 1
            out = np.empty(elems * w, dtype=np.uint8)
            _decode_into(frames, info, out, first, self._threads)
            left -= elems
            yield out

    def verify_end(self) -> None:
        """After streaming every tensor: check the index and trailer that follow."""
        n = len(self.tensors)
        size = n * 16 + 4 + _TRAILER.size
        rest = bytes(self._f.read(size + 1))
        if len(rest) != size:
            raise error("corrupt .szt data: wrong amount of data after the last tensor")
        body, (crc,) = rest[: n * 16], struct.unpack("<I", rest[n * 16 : n * 16 + 4])
        _, count, magic = _TRAILER.unpack(rest[-_TRAILER.size :])
        if magic != _TRAILER_MAGIC or count != n or zlib.crc32(body) != crc:
            raise error("corrupt .szt data: the index or trailer is damaged")


# ---------------------------------------------------------------------------
# one array


def compress(
    array: Any,
    *,
    chunk_elems: int = CHUNK_ELEMS,
    method: str = "auto",
    threads: int | None = None,
) -> bytes:
    """Compress a numpy array or torch tensor, losslessly, into ``.szt`` bytes.

    ``method``: ``"auto"`` (the smallest layout, judged on a few chunks),
    ``"split"`` (exponent field apart, DFloat11-style), ``"bytes"`` (byte
    planes, ZipNN-style), ``"joint"`` (bf16/fp16/fp32: exponent coded jointly
    with the top two mantissa bits), ``"stored"``, or ``"range"`` (the
    joint layout with planes range-coded where that is smaller: about
    0.5 % smaller than ``"auto"`` on bf16 weights, several times slower). ``chunk_elems`` elements
    (1024 to 4194304) are coded per chunk, chunks in parallel on
    ``threads`` threads (``None``: all cores); the result does not depend
    on ``threads``. The input is never modified.
    """
    _check_chunk_elems(chunk_elems)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    raw, name, shape, kind = _as_bytes(array)
    info = TensorInfo("", name, shape, chunk_elems)
    nthreads = _threads(threads)
    # What SztWriter writes for one tensor, built by the native encoder as
    # one bytes object: header, frames, then index and trailer (no join).
    head = _header_bytes([info], {"kind": kind}, b"")
    start = len(head)

    def tail(size: int) -> bytes:
        return _index_and_trailer([(start, size)], start + size)

    if raw.nbytes == 0:
        return head + tail(0)
    try:
        out: bytes = _native.tensor_encode(
            raw, name, chunk_elems, method, nthreads, prefix=head, suffix=tail
        )
    except error as e:
        raise error(f"tensor {info.name!r}: {e}") from None
    return out


def decompress(
    data: Any,
    *,
    device: Any = None,
    max_size: int | None = None,
    threads: int | None = None,
) -> Any:
    """Decode :func:`compress` output back into the kind it was given.

    ``device`` (torch only) moves the result, e.g. ``device="cuda"``.
    ``max_size`` caps the decoded size in bytes, checked before allocating:
    pass it for untrusted input. Raises :class:`error` for data that is not
    a one-tensor ``.szt`` stream, or is truncated or corrupt.
    """
    with SztReader(memoryview(data).cast("B"), threads=threads) as r:
        if len(r.tensors) != 1:
            raise error(f"expected a .szt stream with one tensor, found {len(r.tensors)}")
        info = r.tensors[0]
        raw = r.read_raw(info.name, max_size=max_size)
        return _to_kind(raw, info.dtype, info.shape, r._kind(), device)


def entropy_ideal(array: Any, *, chunk_elems: int = CHUNK_ELEMS) -> float:
    """The entropy ideal in bytes: per chunk, the order-0 entropy of the
    exponent field plus every other bit stored raw (for integer, boolean and
    F64 tensors: the byte planes' order-0 entropies). A yardstick."""
    _check_chunk_elems(chunk_elems)
    raw, name, _, _ = _as_bytes(array)
    return float(_native.tensor_entropy_ideal(raw, name, chunk_elems))
