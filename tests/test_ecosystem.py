"""Ecosystem hooks: numcodecs codecs found through their entry point (a
chunked Zarr array written and reopened with them) and fsspec compressions
registered under ``scalezip-<codec>``."""

from __future__ import annotations

import gzip as std_gzip
import zlib as std_zlib

import pytest

from conftest import AGAINST_STDLIB, text_bytes

pytestmark = pytest.mark.skipif(AGAINST_STDLIB, reason="scalezip's own hooks")
np = pytest.importorskip("numpy")
numcodecs = pytest.importorskip("numcodecs")


@pytest.mark.parametrize(
    "codec_id,level",
    [
        ("scalezip.gzip", 5),
        ("scalezip.zlib", 5),
        ("scalezip.deflate", 5),
        ("scalezip.huffman", None),
    ],
)
def test_numcodecs_finds_codecs_by_entry_point(codec_id, level):
    codec = numcodecs.get_codec({"id": codec_id, "level": level})
    assert codec.get_config() == {"id": codec_id, "level": level}
    arr = np.arange(100_000, dtype="f8").reshape(100, 1000)
    enc = codec.encode(arr)
    assert len(enc) < arr.nbytes
    dec = np.frombuffer(codec.decode(enc), dtype="f8").reshape(arr.shape)
    assert np.array_equal(dec, arr)
    out = np.empty_like(arr)
    codec.decode(enc, out=out)
    assert np.array_equal(out, arr)


def test_numcodecs_chunks_are_standard_streams():
    from scalezip.numcodecs import GZip, Zlib

    data = text_bytes(50_000, 2)
    assert std_gzip.decompress(GZip(9).encode(data)) == data
    assert std_zlib.decompress(Zlib(1).encode(data)) == data


def test_zarr_array_round_trip(tmp_path):
    zarr = pytest.importorskip("zarr")
    from scalezip.numcodecs import GZip

    rng = np.random.default_rng(0)
    data = np.round(rng.standard_normal((300, 400)), 2).astype("f4")
    path = str(tmp_path / "a.zarr")
    z = zarr.create_array(
        store=path,
        shape=data.shape,
        chunks=(64, 128),
        dtype="f4",
        zarr_format=2,
        compressors=GZip(level=6),
    )
    z[:] = data
    # Reopened from its metadata alone: the codec is found by its id.
    z2 = zarr.open_array(path, mode="r")
    assert np.array_equal(z2[:], data)
    assert z2.metadata.compressor.codec_id == "scalezip.gzip"


@pytest.mark.parametrize("codec", ["gzip", "zlib", "deflate", "huffman"])
def test_fsspec_compression_by_name(tmp_path, codec):
    fsspec = pytest.importorskip("fsspec")
    import scalezip.fsspec  # noqa: F401  (registers the compressions)
    import scalezip.huffman

    path = str(tmp_path / "f.bin")
    data = text_bytes(300_000, 9)
    with fsspec.open(path, "wb", compression=f"scalezip-{codec}") as f:
        f.write(data)
    raw = (tmp_path / "f.bin").read_bytes()
    reference = {
        "gzip": std_gzip.decompress,
        "zlib": std_zlib.decompress,
        "deflate": lambda b: std_zlib.decompress(b, -15),
        "huffman": scalezip.huffman.decompress,
    }[codec]
    assert reference(raw) == data
    with fsspec.open(path, "rb", compression=f"scalezip-{codec}") as f:
        assert f.read() == data
    with fsspec.open(path, "rt", compression=f"scalezip-{codec}", encoding="latin-1") as f:
        assert f.read(10) == data[:10].decode("latin-1")
