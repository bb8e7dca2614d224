"""numcodecs codecs backed by scalezip, so Zarr arrays (and Dask pipelines
over them) can use scalezip by name.

The codecs are registered through numcodecs' entry point group
(``numcodecs.codecs`` in scalezip's package metadata), so an array written
with them reopens anywhere scalezip is installed, with no import needed::

    import zarr
    from scalezip.numcodecs import GZip
    z = zarr.create_array("data.zarr", shape=(1000, 1000), chunks=(100, 100),
                          dtype="f4", zarr_format=2, compressors=GZip(level=6))

Each chunk is one standalone stream of the named format (a ``scalezip.gzip``
chunk is an ordinary gzip member), so other tools can read chunks too.
"""

from __future__ import annotations

from typing import Any

from numcodecs.abc import Codec
from numcodecs.compat import ensure_contiguous_ndarray, ndarray_copy

from . import registry

__all__ = ["GZip", "Zlib", "Deflate", "Huffman"]


class _ScalezipCodec(Codec):  # type: ignore[misc]
    """A numcodecs codec running a scalezip registry codec on each chunk."""

    codec_id: str
    _name: str

    def __init__(self, level: int | None = None) -> None:
        self.level = registry.get(self._name).check_level(level)

    def encode(self, buf: Any) -> bytes:
        data = ensure_contiguous_ndarray(buf)
        return registry.get(self._name).compress(data, self.level)

    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_contiguous_ndarray(buf)
        return ndarray_copy(registry.get(self._name).decompress(data), out)

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "level": self.level}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level})"


class GZip(_ScalezipCodec):
    """gzip-compressed chunks (codec id ``scalezip.gzip``)."""

    codec_id = "scalezip.gzip"
    _name = "gzip"


class Zlib(_ScalezipCodec):
    """zlib-compressed chunks (codec id ``scalezip.zlib``)."""

    codec_id = "scalezip.zlib"
    _name = "zlib"


class Deflate(_ScalezipCodec):
    """raw-DEFLATE chunks (codec id ``scalezip.deflate``)."""

    codec_id = "scalezip.deflate"
    _name = "deflate"


class Huffman(_ScalezipCodec):
    """Raw-Huffman chunks (codec id ``scalezip.huffman``): entropy coding
    only, fast, for data whose bytes are skewed but not repetitive."""

    codec_id = "scalezip.huffman"
    _name = "huffman"
